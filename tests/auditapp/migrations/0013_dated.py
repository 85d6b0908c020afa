from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("auditapp", "0012_apitoken"),
    ]

    operations = [
        migrations.CreateModel(
            name="Dated",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("name", models.CharField(max_length=50)),
                ("created", models.DateTimeField(auto_now_add=True)),
                ("changed", models.DateTimeField(auto_now=True)),
                ("rank", models.IntegerField(db_default=5)),
            ],
        ),
    ]
