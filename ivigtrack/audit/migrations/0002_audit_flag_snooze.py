from django.db import migrations, models


class Migration(migrations.Migration):
    """A partial index on the flag.snooze audit rows, for alert governance (risk.stats)."""

    dependencies = [
        ("audit", "0001_initial"),
    ]

    operations = [
        migrations.AddIndex(
            model_name="auditevent",
            index=models.Index(
                condition=models.Q(("action", "flag.snooze")), fields=["at", "object_id"], name="audit_flag_snooze"
            ),
        ),
    ]
