from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [
        ("auditapp", "0005_secret_looking_fields"),
    ]

    operations = [
        migrations.CreateModel(
            name="Signin",
            fields=[],
            options={"proxy": True, "indexes": [], "constraints": []},
            bases=("auditapp.login",),
        ),
    ]
