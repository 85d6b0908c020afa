import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("auditapp", "0010_chained_api_key"),
    ]

    operations = [
        migrations.CreateModel(
            name="Drawer",
            fields=[
                ("drawer_id", models.AutoField(primary_key=True, serialize=False)),
                ("size", models.CharField(max_length=20)),
            ],
        ),
        migrations.CreateModel(
            name="Dresser",
            fields=[
                (
                    "drawer_ptr",
                    models.OneToOneField(
                        auto_created=True,
                        on_delete=django.db.models.deletion.CASCADE,
                        parent_link=True,
                        to="auditapp.drawer",
                    ),
                ),
                (
                    "shelf_ptr",
                    models.OneToOneField(
                        auto_created=True,
                        on_delete=django.db.models.deletion.CASCADE,
                        parent_link=True,
                        primary_key=True,
                        serialize=False,
                        to="auditapp.shelf",
                    ),
                ),
            ],
            bases=("auditapp.shelf", "auditapp.drawer"),
        ),
    ]
