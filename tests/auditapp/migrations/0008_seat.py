from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("auditapp", "0007_visit"),
    ]

    operations = [
        migrations.CreateModel(
            name="Seat",
            fields=[
                (
                    "pk",
                    models.CompositePrimaryKey(
                        "hall",
                        "number",
                        blank=True,
                        editable=False,
                        primary_key=True,
                        serialize=False,
                    ),
                ),
                ("hall", models.CharField(max_length=20)),
                ("number", models.IntegerField()),
                ("holder", models.CharField(blank=True, max_length=50)),
            ],
        ),
    ]
