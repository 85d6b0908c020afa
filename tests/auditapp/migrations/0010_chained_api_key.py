import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("auditapp", "0009_api_keys_and_encoded_json"),
    ]

    operations = [
        migrations.CreateModel(
            name="ApiLicense",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("seats", models.IntegerField(default=1)),
                (
                    "client",
                    models.OneToOneField(
                        on_delete=django.db.models.deletion.CASCADE,
                        to="auditapp.apiclient",
                        to_field="api_key",
                    ),
                ),
            ],
        ),
        migrations.CreateModel(
            name="ApiSeat",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("holder", models.CharField(max_length=50)),
                (
                    "license",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.CASCADE,
                        to="auditapp.apilicense",
                        to_field="client",
                    ),
                ),
            ],
        ),
    ]
