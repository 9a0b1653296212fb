"""MRNs unique ignoring case: a unique index on lower(mrn).

Before adding it, look for MRNs that already differ only by case. If there are any, stop with a
message that lists them (MRN spellings, patient ids, names), so they can be merged or renamed,
instead of the database's bare "could not create unique index"."""

import django.db.models.functions.text
from django.conf import settings
from django.db import migrations, models
from django.db.models import Count
from django.db.models.functions import Lower


class MrnClash(Exception):
    pass


def refuse_case_clashes(apps, schema_editor):
    Patient = apps.get_model("patients", "Patient")
    clashes = Patient.objects.annotate(folded=Lower("mrn")).values("folded").annotate(n=Count("id")).filter(n__gt=1)
    folded = [row["folded"] for row in clashes[:50]]
    if not folded:
        return
    lines = []
    for key in folded:
        rows = Patient.objects.annotate(folded=Lower("mrn")).filter(folded=key).order_by("id")
        people = ", ".join(f"{p.mrn!r} (id {p.id}, {p.family_name}, {p.given_name})" for p in rows)
        lines.append(f"  - {people}")
    raise MrnClash(
        "Cannot make MRNs unique ignoring case: these patients' MRNs differ only by case.\n"
        + "\n".join(lines)
        + "\nMerge the duplicate records or correct the MRNs (in the admin or the shell), then run migrate again."
    )


class Migration(migrations.Migration):
    dependencies = [
        ("patients", "0006_patient_reminders_opt_in"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.RunPython(refuse_case_clashes, migrations.RunPython.noop, elidable=False),
        migrations.AddConstraint(
            model_name="patient",
            constraint=models.UniqueConstraint(
                django.db.models.functions.text.Lower("mrn"),
                name="patient_mrn_unique_ignoring_case",
                violation_error_code="mrn_taken",
                violation_error_message="A patient with this MRN already exists (MRNs are compared ignoring case).",
            ),
        ),
    ]
