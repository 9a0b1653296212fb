"""Scoped reads for what is given."""

from __future__ import annotations

from datetime import date

from patients.selectors import scoped

from .models import Infusion, MedicationCourse, Product, Regimen


def _records(model, corrected: bool):
    """``corrected=True``: with the records entered in error (the resources' lists and lookups)."""
    return model.all_objects.select_related("entered_in_error_by") if corrected else model.objects.all()


def infusion_scope(user, *, corrected: bool = False):
    return scoped(_records(Infusion, corrected).select_related("product", "patient"), user)


def regimen_scope(user, *, corrected: bool = False):
    return scoped(_records(Regimen, corrected).select_related("product", "patient"), user)


def medication_scope(user, *, corrected: bool = False):
    return scoped(_records(MedicationCourse, corrected).select_related("patient"), user)


def product_list():
    return Product.objects.filter(active=True).order_by("name")


def next_planned_course(regimens, today: date):
    """The earliest upcoming course start across a patient's regimens, as (date, regimen) or None."""
    best = None
    for regimen in regimens:
        starts = regimen.course_starts(today, 1)
        if starts and (best is None or starts[0] < best[0]):
            best = (starts[0], regimen)
    return best
