"""ITRS-v0 patient factors P1-P10 at their boundaries (risk/README.md, Patient factors)."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from tests.itrs import builders as b
from tests.itrs.builders import NOW, TODAY, add, days_before
from tests.itrs.engine_helpers import BASE, HTN, factor, points, rec, run

# --- P1 age ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("age", "expected"),
    [(17, 0), (44, 0), (45, 1), (60, 1), (61, 2), (74, 2), (75, 3), (90, 3)],
)
def test_p1_age_bands(age, expected):
    assert points(run(b.patient(age=age)), "P1") == expected


def test_p1_counts_whole_years_at_as_of():
    snapshot = b.patient(date_of_birth=date(1980, 3, 2))  # 45 tomorrow
    assert points(run(snapshot), "P1") == 0
    assert points(run(snapshot, NOW + timedelta(days=1)), "P1") == 1


@pytest.mark.parametrize(("age", "fda"), [(64, False), (65, True)])
def test_p1_is_fda_listed_from_65(age, fda):
    assert factor(run(b.patient(age=age)), "P1").fda_listed is fda


def test_under_18_is_scored_with_a_note():
    r = run(b.patient(age=15))
    assert any("outside the adult populations" in n for n in r.notes)
    assert not any("outside the adult" in n for n in run(b.patient(age=18)).notes)


# --- P2 / P3 prior thrombosis ----------------------------------------------------------------


@pytest.mark.parametrize("kind", ["dvt", "pe", "jugular_vein", "upper_extremity_dvt", "cerebral_venous"])
def test_p2_any_confirmed_venous_event(kind):
    r = run(add(BASE, b.event(kind, diagnosed_on=days_before(800))))
    assert points(r, "P2") == 3 and factor(r, "P2").fda_listed


def test_p2_includes_catheter_related_events():
    e = b.event("upper_extremity_dvt", catheter_related=True, provocation="catheter_related")
    assert points(run(add(BASE, e)), "P2") == 3


@pytest.mark.parametrize("kind", ["mi", "ischemic_stroke", "tia", "peripheral_arterial"])
def test_p3_confirmed_arterial_event_is_an_arterial_marker(kind):
    r = run(add(BASE, b.event(kind, diagnosed_on=days_before(800))))
    assert points(r, "P3") == 2 and points(r, "P2") == 0
    assert factor(r, "P3").component == "arterial"


def test_ruled_out_and_future_events_never_count():
    r = run(add(BASE, b.event("dvt", status="ruled_out"), b.event("mi", diagnosed_on=days_before(-1))))
    assert r.factors == () and r.missing == () and r.overrides == ()


def test_suspected_event_after_a_confirmed_one_still_blocks_override_a():
    old = b.event("dvt", diagnosed_on=days_before(800))
    suspected = b.event("pe", status="suspected", diagnosed_on=TODAY)
    anticoagulated = b.med("anticoagulant", intensity="therapeutic")
    r = run(add(BASE, old, suspected, anticoagulated))
    assert (r.score, r.tier, r.provisional) == (3, "low", True)  # P2 already counted once


def test_suspected_event_scores_nothing_but_makes_the_result_provisional():
    r = run(add(BASE, b.event("dvt", status="suspected", diagnosed_on=TODAY)))
    assert points(r, "P2") == 0 and r.tier == "low"
    assert r.provisional
    assert r.missing == (f"confirmation of the suspected DVT of {TODAY}: P2 prior VTE, override (a)",)


# --- P4-P7 -------------------------------------------------------------------------------------


@pytest.mark.parametrize("code", ["thrombophilia", "thrombophilia_high_risk"])
def test_p4_thrombophilia(code):
    assert points(run(add(BASE, b.condition(code))), "P4") == 3


def test_conditions_count_from_onset_until_resolution():
    onset_tomorrow = b.condition("thrombophilia", onset=days_before(-1))
    resolved_yesterday = b.condition("active_cancer", days_before(300), days_before(1))
    resolving_today = b.condition("hypertension", days_before(300), TODAY)
    r = run(add(BASE, onset_tomorrow, resolved_yesterday, resolving_today))
    assert [f.code for f in r.factors] == ["P10"]


def test_p5_active_cancer():
    assert points(run(add(BASE, b.condition("active_cancer"))), "P5") == 3


@pytest.mark.parametrize("code", ["paraproteinemia", "cryoglobulinemia", "severe_hypertriglyceridemia", "polycythemia"])
def test_p6_hyperviscosity_conditions(code):
    r = run(add(BASE, b.condition(code)))
    assert points(r, "P6") == 2 and factor(r, "P6").fda_listed
    assert rec(r, "VISCOSITY")


@pytest.mark.parametrize(("value", "expected"), [(999, 0), (1000, 2)])
def test_p6_triglycerides_from_1000(value, expected):
    assert points(run(add(BASE, b.lab("triglycerides", value))), "P6") == expected


@pytest.mark.parametrize(
    ("value", "reference_high", "expected"),
    [(2.0, None, 0), (2.1, None, 2), (2.4, 2.5, 0), (2.6, 2.5, 2)],
)
def test_p6_serum_viscosity_above_its_reference(value, reference_high, expected):
    viscosity = b.lab("serum_viscosity", value, reference_high=reference_high)
    assert points(run(add(BASE, viscosity)), "P6") == expected


def test_labs_needing_verification_never_enter_a_rule():
    doubtful = b.lab("triglycerides", 1500, needs_verification=True)
    assert points(run(add(BASE, doubtful)), "P6") == 0


def test_only_the_latest_verified_lab_counts():
    old_high = b.lab("triglycerides", 1200, collected_at=NOW - timedelta(days=30))
    new_normal = b.lab("triglycerides", 300, collected_at=NOW - timedelta(days=1))
    later = b.lab("triglycerides", 1400, collected_at=NOW + timedelta(hours=1))  # after as_of
    assert points(run(add(BASE, old_high, new_normal, later)), "P6") == 0
    assert points(run(add(BASE, old_high)), "P6") == 2


def test_p7_estrogen_while_active():
    assert points(run(add(BASE, b.med("estrogen"))), "P7") == 2
    assert points(run(add(BASE, b.med("estrogen", end_date=TODAY))), "P7") == 2
    assert points(run(add(BASE, b.med("estrogen", end_date=days_before(1)))), "P7") == 0
    assert points(run(add(BASE, b.med("estrogen", start_date=days_before(-1)))), "P7") == 0


def test_p7_pregnancy_postpartum_is_fda_listed():
    r = run(add(BASE, b.condition("pregnancy_postpartum")))
    assert points(r, "P7") == 2 and factor(r, "P7").fda_listed


# --- P8 glucocorticoids ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("started", "stopped", "expected"),
    [
        (0, None, 2),
        (90, None, 2),  # day 90 still counts as new use
        (91, None, 1),  # continuing
        (400, 90, 1),  # stopped 90 days ago: still "continuing"
        (400, 91, 0),  # stopped 91 days ago: former use
        (30, 10, 2),  # a short course started within 90 days
    ],
)
def test_p8_steroid_timing(started, stopped, expected):
    course = b.med(
        "steroid", start_date=days_before(started), end_date=None if stopped is None else days_before(stopped)
    )
    assert points(run(add(BASE, course)), "P8") == expected


def test_p8_takes_the_most_relevant_course():
    old = b.med("steroid", start_date=days_before(500), end_date=days_before(200))
    ongoing = b.med("steroid", start_date=days_before(200))
    new = b.med("steroid", start_date=days_before(10), end_date=days_before(3))
    assert points(run(add(BASE, old, ongoing)), "P8") == 1
    assert points(run(add(BASE, old, ongoing, new)), "P8") == 2


def test_p8_future_steroid_course_does_not_count():
    assert points(run(add(BASE, b.med("steroid", start_date=days_before(-2)))), "P8") == 0


# --- P9 BMI, P10 cardiovascular ----------------------------------------------------------------


@pytest.mark.parametrize(("bmi_value", "expected"), [(29.9, 0), (30.0, 1), (34.9, 1), (35.0, 2)])
def test_p9_bmi_bands(bmi_value, expected):
    # at 200 cm, BMI = weight / 4
    assert points(run(b.patient(height_cm=200, weight_kg=bmi_value * 4)), "P9") == expected


def test_p10_one_point_each_at_most_two():
    assert points(run(add(BASE, HTN)), "P10") == 1
    three = add(BASE, HTN, b.condition("diabetes"), b.condition("smoking"))
    r = run(three)
    assert points(r, "P10") == 2 and factor(r, "P10").component == "arterial" and factor(r, "P10").fda_listed
