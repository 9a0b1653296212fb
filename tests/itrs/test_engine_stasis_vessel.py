"""ITRS-v0 stasis items S1-S5 and vessel injury E1 (risk/README.md, Stasis and Vessel injury)."""

from __future__ import annotations

import pytest

from tests.itrs import builders as b
from tests.itrs.builders import TODAY, add, days_before
from tests.itrs.engine_helpers import BASE, factor, points, run

# --- S1-S5 --------------------------------------------------------------------------------------


def test_s1_bedbound_3_is_fda_listed_reduced_mobility_1_is_not():
    bed = run(add(BASE, b.condition("bedbound"), b.condition("reduced_mobility")))
    assert points(bed, "S1") == 3 and factor(bed, "S1").fda_listed
    reduced = run(add(BASE, b.condition("reduced_mobility")))
    assert points(reduced, "S1") == 1 and not factor(reduced, "S1").fda_listed


@pytest.mark.parametrize(
    ("onset", "resolved", "expected"),
    [
        (3, None, 2),  # in hospital now for 3 days (ITRS-v1 S2: 1-2 days score nothing, test_engine_v1.py)
        (10, 7, 2),  # 3 days, discharged a week ago
        (10, 8, 0),  # 2 days: too short
        (40, 30, 2),  # discharged 30 days ago
        (40, 31, 0),  # discharged 31 days ago
    ],
)
def test_s2_hospital_admission(onset, resolved, expected):
    stay = b.condition("hospital_admission", days_before(onset), None if resolved is None else days_before(resolved))
    assert points(run(add(BASE, stay)), "S2") == expected


def test_s2_undated_admission_is_missing_unless_another_stay_counts():
    undated = b.condition("hospital_admission", None, days_before(5))
    r = run(add(BASE, undated))
    assert points(r, "S2") == 0 and r.missing == ("admission date: S2 hospital stay >=3 days",)
    r = run(add(BASE, undated, b.condition("hospital_admission", days_before(20), days_before(15))))
    assert points(r, "S2") == 2 and r.missing == ()


@pytest.mark.parametrize(("days", "expected"), [(0, 2), (30, 2), (31, 0)])
def test_s3_surgery_or_trauma_within_30_days(days, expected):
    surgery = b.condition("major_surgery_or_trauma", days_before(days))
    assert points(run(add(BASE, surgery)), "S3") == expected


def test_s4_volume_depletion_or_current_diuretic():
    assert points(run(add(BASE, b.condition("volume_depletion"))), "S4") == 1
    assert points(run(add(BASE, b.med("diuretic"))), "S4") == 1
    assert points(run(add(BASE, b.med("diuretic", end_date=days_before(1)))), "S4") == 0
    assert points(run(add(BASE, b.condition("volume_depletion"), b.med("diuretic"))), "S4") == 1


def test_s5_acute_infection():
    assert points(run(add(BASE, b.condition("acute_infection_or_sepsis"))), "S5") == 1


# --- E1 vascular access -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("kind", "expected"),
    [("picc", 3), ("port", 2), ("cvc_tunneled", 2), ("cvc_non_tunneled", 2)],
)
def test_e1_access_kinds(kind, expected):
    r = run(add(BASE, b.access(kind)))
    assert points(r, "E1") == expected
    assert factor(r, "E1").component == "vessel_injury" and factor(r, "E1").fda_listed


def test_e1_takes_the_highest_access():
    assert points(run(add(BASE, b.access("port"), b.access("picc", vein="arm"))), "E1") == 3


def test_e1_only_while_in_place():
    assert points(run(add(BASE, b.access("picc", removed_on=TODAY))), "E1") == 0
    assert points(run(add(BASE, b.access("picc", removed_on=days_before(-1)))), "E1") == 3
    assert points(run(add(BASE, b.access("picc", inserted_on=days_before(-1)))), "E1") == 0
