"""Symptom reports hang on their flag; symptom alerts notify once per report.

- FlagReport links each symptom report to the symptom_alert flag it raised or joined
  (ReviewFlag.reports). Existing flags get the one report their evidence names (the last one that
  raised or updated them: earlier ones were never recorded).
- Notification.report: an immediate notice about one report. The old uniqueness (one notice per
  flag and priority) now holds for notices without a report, so every stored row stays valid.
"""

import uuid

import django.db.models.deletion
from django.db import migrations, models


def link_named_reports(apps, schema_editor):
    ReviewFlag = apps.get_model("risk", "ReviewFlag")
    FlagReport = apps.get_model("risk", "FlagReport")
    SymptomReport = apps.get_model("patients", "SymptomReport")
    named = {}  # flag id -> the public id of the report its evidence names
    for flag_id, evidence in ReviewFlag.objects.filter(kind="symptom_alert").values_list("id", "evidence"):
        try:
            named[flag_id] = uuid.UUID(str(evidence["report"]))
        except (TypeError, KeyError, ValueError):
            continue
    reports = dict(SymptomReport.objects.filter(public_id__in=set(named.values())).values_list("public_id", "id"))
    links = [FlagReport(flag_id=flag, report_id=reports[public]) for flag, public in named.items() if public in reports]
    FlagReport.objects.bulk_create(links, batch_size=1000, ignore_conflicts=True)


class Migration(migrations.Migration):
    dependencies = [
        ("patients", "0001_initial"),
        ("risk", "0003_assessment_lz4"),
    ]

    operations = [
        migrations.CreateModel(
            name="FlagReport",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                (
                    "flag",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.CASCADE, related_name="report_links", to="risk.reviewflag"
                    ),
                ),
                (
                    "report",
                    models.OneToOneField(
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="alert_link",
                        to="patients.symptomreport",
                    ),
                ),
            ],
        ),
        migrations.AddField(
            model_name="reviewflag",
            name="reports",
            field=models.ManyToManyField(
                blank=True, related_name="+", through="risk.FlagReport", to="patients.symptomreport"
            ),
        ),
        migrations.AddField(
            model_name="notification",
            name="report",
            field=models.ForeignKey(
                blank=True,
                null=True,
                on_delete=django.db.models.deletion.CASCADE,
                related_name="+",
                to="patients.symptomreport",
            ),
        ),
        migrations.RemoveConstraint(model_name="notification", name="one_immediate_notice_per_flag_priority"),
        migrations.AddConstraint(
            model_name="notification",
            constraint=models.UniqueConstraint(
                condition=models.Q(("kind", "immediate"), ("report__isnull", True)),
                fields=("flag", "priority"),
                name="one_immediate_notice_per_flag_priority",
            ),
        ),
        migrations.AddConstraint(
            model_name="notification",
            constraint=models.UniqueConstraint(
                condition=models.Q(("kind", "immediate"), ("report__isnull", False)),
                fields=("flag", "report"),
                name="one_immediate_notice_per_report",
            ),
        ),
        migrations.RunPython(link_named_reports, migrations.RunPython.noop, elidable=True),
    ]
