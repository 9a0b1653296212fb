"""The synthetic generator (demo.synthetic) on a database that cannot return ids from a bulk INSERT."""

from __future__ import annotations

from datetime import date

import pytest
from django.db import connection
from django.db.models import Count

from demo.synthetic import generate
from patients.models import Patient

pytestmark = [pytest.mark.django_db, pytest.mark.sqlite]

HISTORY = ("weights", "conditions", "labs", "regimens", "infusions", "medications")


def histories(prefix: str) -> dict[str, tuple]:
    """Each patient's history sizes, by MRN number (the part after the prefix)."""
    rows = (
        Patient.objects.filter(mrn__startswith=prefix)
        .annotate(**{f"n_{name}": Count(name, distinct=True) for name in HISTORY})
        .values_list("mrn", *(f"n_{name}" for name in HISTORY))
    )
    return {mrn.removeprefix(prefix): tuple(counts) for mrn, *counts in rows}


def test_patients_get_their_ids_read_back_without_returning(monkeypatch):
    """SQLite before 3.35 (Django 5.2 supports 3.31 on) returns no ids from bulk_create: the
    generator reads them back by MRN, and every history lands on its own patient."""
    today = date(2025, 3, 1)
    assert generate(6, seed=4, prefix="NEW-", today=today) == 6
    monkeypatch.setattr(type(connection.features), "can_return_rows_from_bulk_insert", False)
    assert generate(6, seed=4, prefix="OLD-", today=today) == 6
    monkeypatch.undo()
    assert histories("OLD-") == histories("NEW-")
    assert all(counts[4] for counts in histories("OLD-").values())  # infusions for everyone
