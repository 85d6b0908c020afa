from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("auditapp", "0006_signin"),
    ]

    operations = [
        migrations.CreateModel(
            name="Visit",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("address", models.GenericIPAddressField(blank=True, null=True)),
                ("page", models.CharField(blank=True, max_length=50)),
            ],
        ),
    ]
