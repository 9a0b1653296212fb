"""Seed the IVIG products and their label maximum rates (docs/products.md; verify against current labels)."""

from django.db import migrations

PRODUCTS = [
    # name, concentration %, sucrose, default label max mg/kg/min, by indication, source
    ("Gamunex-C 10%", 10, False, 8, {"cidp": 8}, "[R4]"),
    ("Privigen 10%", 10, False, 8, {"itp": 4}, "[R6]"),
    ("Gammagard Liquid 10%", 10, False, 8, {"cidp": 9, "mmn": 9}, "[R7]"),
    ("Panzyga 10%", 10, False, 14, {"itp": 8, "cidp": 12}, "[R8]"),
    ("Octagam 10%", 10, False, 12, {"itp": 12, "dermatomyositis": 4}, "[R9]"),
    ("Octagam 5%", 5, False, 3.33, {}, "[R9]"),
]


def seed(apps, schema_editor):
    Product = apps.get_model("infusions", "Product")
    for name, conc, sucrose, rate, by_indication, source in PRODUCTS:
        Product.objects.update_or_create(
            name=name,
            defaults={
                "concentration_percent": conc,
                "contains_sucrose": sucrose,
                "max_rate_mg_kg_min": rate,
                "indication_max_rates": by_indication,
                "source": source,
            },
        )


def unseed(apps, schema_editor):
    Product = apps.get_model("infusions", "Product")
    Product.objects.filter(name__in=[p[0] for p in PRODUCTS], regimens__isnull=True, infusions__isnull=True).delete()


class Migration(migrations.Migration):
    dependencies = [("infusions", "0001_initial")]
    operations = [migrations.RunPython(seed, unseed)]
