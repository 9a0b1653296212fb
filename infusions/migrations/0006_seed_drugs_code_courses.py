"""Seed the drug dictionary and code the existing free-text courses.

A course is linked to a drug when its text names exactly one dictionary drug (its name or a
brand, or one of them as whole words: "Prednisolone 5 mg tablets"); its category then follows
from the drug. The rest become category `other`: kept as written, shown as "needs coding" on the
patient page and raised as a data-quality flag (MED-UNCODED); they score nothing until coded.
Routes written in words are mapped to the route codes; an unknown route is left empty.
"""

from decimal import Decimal

from django.db import migrations

ROUTES = {
    "oral": "oral", "po": "oral", "by mouth": "oral", "tablet": "oral", "tablets": "oral",
    "iv": "intravenous", "intravenous": "intravenous",
    "im": "intramuscular", "intramuscular": "intramuscular",
    "sc": "subcutaneous", "sq": "subcutaneous", "subcut": "subcutaneous", "subcutaneous": "subcutaneous",
    "transdermal": "transdermal", "patch": "transdermal", "gel": "transdermal",
    "vaginal": "vaginal", "pv": "vaginal",
    "inhaled": "inhaled", "inh": "inhaled", "inhaler": "inhaled",
    "topical": "topical", "cream": "topical", "eye drops": "topical",
    "intra-articular": "intra_articular", "intra_articular": "intra_articular",
    "rectal": "rectal", "pr": "rectal",
}


def seed_and_code(apps, schema_editor):
    from infusions.drug_catalogue import drug_rows
    from infusions.drugs import match_free_text
    from infusions.models import drug_search_text

    Drug = apps.get_model("infusions", "Drug")
    Course = apps.get_model("infusions", "MedicationCourse")
    drugs = []
    for row in drug_rows():
        drug, _ = Drug.objects.update_or_create(
            name=row["name"],
            defaults={**row, "search_text": drug_search_text(row["name"], row["synonyms"])},
        )
        drugs.append(drug)
    batch = []
    fields = ["drug", "drug_name", "category", "route", "dose", "dose_unit", "intensity", "indication", "note",
              "prednisolone_eq_mg_per_day"]
    for course in Course.objects.filter(drug__isnull=True).exclude(category="other").iterator(chunk_size=2000):
        drug = match_free_text(course.drug_name, drugs)
        course.route = ROUTES.get(" ".join((course.route or "").split()).casefold(), "")
        if course.dose_mg_per_day is not None and course.dose is None:
            course.dose, course.dose_unit = course.dose_mg_per_day, "mg"
        if drug is None:
            was = course.category
            course.category = "other"
            course.intensity = ""
            course.note = (course.note + "\n" if course.note else "") + (
                f"Coded as free text when the drug dictionary came (was recorded as {was}: {course.drug_name})."
            )
        else:
            course.drug = drug
            course.drug_name = drug.name
            course.category = drug.category
            if drug.category != "anticoagulant":
                course.intensity = ""
            elif not course.indication:
                course.indication = "vte_treatment"
            if drug.prednisolone_factor is not None and course.dose_mg_per_day is not None:
                course.prednisolone_eq_mg_per_day = (course.dose_mg_per_day * drug.prednisolone_factor).quantize(
                    Decimal("0.01")
                )
        batch.append(course)
        if len(batch) >= 1000:
            Course.objects.bulk_update(batch, fields)
            batch = []
    if batch:
        Course.objects.bulk_update(batch, fields)


class Migration(migrations.Migration):
    dependencies = [
        ("infusions", "0005_drug_dictionary"),
    ]

    operations = [
        migrations.RunPython(seed_and_code, migrations.RunPython.noop),
    ]
