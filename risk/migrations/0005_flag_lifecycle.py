"""A flag lifecycle that respects decisions (DESIGN §6a): resolution ``lapsed``, the snooze's
reason, a flag's trigger (the facts behind it) and how long a "not indicated" or "declined"
keeps its rule quiet.

Data: v1's sweep closed every flag whose rule stopped holding as ``completed`` (resolved_by
NULL) and never recorded which record, if any, completed it. No record explains those closures,
so every one of them becomes ``lapsed``, with a sentence saying so at the end of its note. Flags
closed by a person keep their resolution. Reversible: the marked rows go back to ``completed``.
"""

from django.db import migrations, models
from django.db.models import Value
from django.db.models.functions import Concat

MARK = " [v2: recorded as lapsed; the v1 sweep did not record what completed it.]"


def sweep_completed_to_lapsed(apps, schema_editor):
    ReviewFlag = apps.get_model("risk", "ReviewFlag")
    ReviewFlag.objects.filter(status="resolved", resolution="completed", resolved_by__isnull=True).update(
        resolution="lapsed", note=Concat("note", Value(MARK), output_field=models.TextField())
    )


def lapsed_back_to_completed(apps, schema_editor):
    ReviewFlag = apps.get_model("risk", "ReviewFlag")
    for flag in ReviewFlag.objects.filter(resolution="lapsed", resolved_by__isnull=True, note__endswith=MARK):
        ReviewFlag.objects.filter(pk=flag.pk).update(resolution="completed", note=flag.note[: -len(MARK)])


class Migration(migrations.Migration):
    dependencies = [("risk", "0004_symptom_flag_reports")]

    operations = [
        migrations.AlterField(
            model_name="reviewflag",
            name="resolution",
            field=models.CharField(
                blank=True,
                choices=[
                    ("completed", "Completed"),
                    ("not_indicated", "Not indicated"),
                    ("declined", "Declined"),
                    ("superseded", "Superseded"),
                    ("lapsed", "Lapsed"),
                ],
                max_length=14,
            ),
        ),
        migrations.AddField(
            model_name="reviewflag",
            name="snooze_reason",
            field=models.TextField(blank=True),
        ),
        migrations.AddField(
            model_name="reviewflag",
            name="trigger",
            field=models.TextField(blank=True, help_text="The facts behind the flag (itrs.review FlagSpec.trigger)."),
        ),
        migrations.AddField(
            model_name="reviewflag",
            name="suppressed_until",
            field=models.DateTimeField(
                blank=True,
                help_text="Not indicated / declined: the sweep keeps this rule quiet until then.",
                null=True,
            ),
        ),
        migrations.RunPython(sweep_completed_to_lapsed, lapsed_back_to_completed),
    ]
