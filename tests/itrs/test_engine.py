"""ITRS-v0 engine (risk/engine.py, domain.md 2.2): pure tests, no database.

Each item at its boundaries, the overrides, what never enters a rule, unknown inputs, the
recommendations and the vignettes (shared/vignettes.md) at the vignette clock.
"""

from __future__ import annotations

import subprocess
import sys
from dataclasses import replace
from datetime import date, datetime, timedelta

import pytest

from itrs.engine import (
    RULESET,
    adjusted_body_weight,
    age_years,
    assess,
    bmi,
    ideal_body_weight,
    mg_kg_min_from_ml_h,
    ml_h_from_mg_kg_min,
    tier_for_score,
)
from tests.itrs import builders as b
from tests.itrs.builders import NOW, TODAY, add, days_before

# --- helpers ----------------------------------------------------------------------------------


def run(snapshot, as_of: datetime = NOW):
    return assess(snapshot, as_of)


def points(result, code: str) -> int:
    return sum(f.points for f in result.factors if f.code == code)


def factor(result, code: str):
    return next(f for f in result.factors if f.code == code)


def override_codes(result) -> set[str]:
    return {o["code"] for o in result.overrides}


def rec(result, code: str) -> dict | None:
    return next((r for r in result.recommendations if r["code"] == code), None)


BASE = b.patient()  # a neutral adult: score 0
HTN = b.condition("hypertension")  # an FDA-listed factor (P10) worth 1 point


def with_course(snapshot, *, grams=30.0, days_ago=3, days=1, rate=3.0, interval=None, **regimen_kw):
    """``snapshot`` with one course given ``days_ago`` days ago, and an order to match."""
    regimen_kw.setdefault("g_per_kg", None if "grams" in regimen_kw else 0.4)
    return add(
        snapshot,
        b.regimen(interval=interval, max_rate=rate, start_date=days_before(400), **regimen_kw),
        b.course(days_before(days_ago), grams, days=days, rate=rate),
    )


# --- body-size and rate helpers (re-exported from itrs.bodysize) --------------------------


def test_age_in_whole_years_turns_on_the_birthday():
    assert age_years(date(1960, 3, 1), date(2025, 2, 28)) == 64
    assert age_years(date(1960, 3, 1), date(2025, 3, 1)) == 65


def test_v01_ideal_and_adjusted_body_weight():
    assert round(ideal_body_weight("male", 178), 1) == 73.2
    assert round(adjusted_body_weight("male", 178, 96), 1) == 82.3


def test_domain_worked_example_for_a_woman():
    # domain.md 5.7: 160 cm, 120 kg woman -> IBW 52.4 kg, ABW 79.4 kg
    assert round(ideal_body_weight("female", 160), 1) == 52.4
    assert round(adjusted_body_weight("female", 160, 120), 1) == 79.4


def test_adjusted_weight_is_actual_when_actual_is_below_ideal():
    assert adjusted_body_weight("male", 178, 60) == 60


def test_unknown_sex_uses_the_female_formula():
    assert ideal_body_weight("unknown", 170) == ideal_body_weight("female", 170)
    assert ideal_body_weight("other", 170) < ideal_body_weight("male", 170)


def test_missing_inputs_give_none():
    assert bmi(None, 70) is None and bmi(170, None) is None
    assert ideal_body_weight("male", None) is None
    assert adjusted_body_weight("male", 178, None) is None


def test_rate_conversions_match_the_vignettes():
    assert mg_kg_min_from_ml_h(336, 10, 70) == pytest.approx(8.0)
    assert ml_h_from_mg_kg_min(3.3, 10, 72) == pytest.approx(142.56)
    assert mg_kg_min_from_ml_h(ml_h_from_mg_kg_min(4.2, 5, 81), 5, 81) == pytest.approx(4.2)


# --- the contract -----------------------------------------------------------------------------


def test_baseline_patient_scores_zero_and_low():
    r = run(BASE)
    assert (r.ruleset, r.score, r.tier, r.provisional) == (RULESET, 0, "low", False)
    assert r.components == {"hypercoagulability": 0, "stasis": 0, "vessel_injury": 0, "arterial": 0}
    assert r.factors == () and r.overrides == () and r.missing == ()


def test_the_engine_imports_no_django():
    code = "import sys, itrs.engine; sys.exit(any(m.split('.')[0] == 'django' for m in sys.modules))"
    assert subprocess.run([sys.executable, "-c", code], cwd=b.__file__.rsplit("/tests/", 1)[0]).returncode == 0


def test_same_inputs_give_the_same_result():
    snapshot, as_of = b.v01_pre_event()
    assert assess(snapshot, as_of).as_dict() == assess(snapshot, as_of).as_dict()


def test_naive_as_of_is_read_as_utc():
    snapshot, as_of = b.v02_pre_event()
    aware, naive = assess(snapshot, as_of), assess(snapshot, as_of.replace(tzinfo=None))
    assert (naive.score, naive.tier, naive.factors) == (aware.score, aware.tier, aware.factors)


def test_every_factor_carries_points_component_and_a_reference():
    r = run(*b.v01_pre_event())
    for f in r.factors:
        assert f.points and f.component in r.components and "[R" in f.evidence


def test_tiers():
    assert [tier_for_score(s) for s in (0, 3, 4, 6, 7, 20)] == ["low", "low", "moderate", "moderate", "high", "high"]


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


# --- S1-S5 --------------------------------------------------------------------------------------


def test_s1_bedbound_3_is_fda_listed_reduced_mobility_1_is_not():
    bed = run(add(BASE, b.condition("bedbound"), b.condition("reduced_mobility")))
    assert points(bed, "S1") == 3 and factor(bed, "S1").fda_listed
    reduced = run(add(BASE, b.condition("reduced_mobility")))
    assert points(reduced, "S1") == 1 and not factor(reduced, "S1").fda_listed


@pytest.mark.parametrize(
    ("onset", "resolved", "expected"),
    [
        (1, None, 2),  # in hospital now, whatever the length so far
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


# --- which infusions count ---------------------------------------------------------------------


def test_planned_stopped_and_future_infusions_are_ignored():
    ignored = (
        b.infusion(b.at(days_before(1)), 80.0, status="planned", rate=9.0),
        b.infusion(b.at(days_before(2)), 80.0, status="stopped", rate=9.0),
        b.infusion(NOW + timedelta(minutes=3), 80.0, rate=9.0),
    )
    r = run(add(BASE, HTN, *ignored))
    assert [f.code for f in r.factors] == ["P10"]
    assert any("No IVIG course" in n for n in r.notes)


def test_infusions_up_to_7_days_apart_form_one_course():
    same = add(BASE, b.infusion(b.at(days_before(10)), 20.0), b.infusion(b.at(days_before(3)), 20.0))
    assert points(run(same), "T1") == 1  # both in the first course
    split = add(BASE, b.infusion(b.at(days_before(11)), 20.0), b.infusion(b.at(days_before(3)), 20.0))
    assert points(run(split), "T1") == 0  # the second starts a new course 8 days later


def test_t_items_use_the_next_planned_course_when_nothing_was_given_in_14_days():
    given_15_days_ago = b.course(days_before(15), 20.0, rate=3.0)
    order = b.regimen(g_per_kg=0.4, interval=21, max_rate=5.0, start_date=days_before(400))
    r = run(add(BASE, HTN, order, given_15_days_ago))
    assert points(r, "T4") == 1  # from the order's 5.0 mg/kg/min, not the given 3.0
    assert any("next planned course" in n for n in r.notes)
    r14 = run(add(BASE, HTN, order, b.course(days_before(14), 20.0, rate=3.0)))
    assert points(r14, "T4") == 0


# --- T1 ------------------------------------------------------------------------------------------


def test_t1_first_ever_course():
    assert points(run(with_course(BASE)), "T1") == 1


def test_t1_first_planned_course():
    order = b.regimen(start_date=days_before(-5), interval=None)
    assert points(run(add(BASE, order)), "T1") == 1


@pytest.mark.parametrize(("gap", "expected"), [(55, 0), (56, 1)])
def test_t1_eight_weeks_since_the_last_infusion(gap, expected):
    snapshot = add(with_course(BASE, days_ago=3), b.infusion(b.at(days_before(3 + gap)), 30.0))
    assert points(run(snapshot), "T1") == expected


def test_t1_product_switch():
    snapshot = add(with_course(BASE, days_ago=3), b.infusion(b.at(days_before(24)), 30.0, b.GAMUNEX_C))
    r = run(snapshot)
    assert points(r, "T1") == 1 and "switch" in factor(r, "T1").label


def test_t1_earlier_infusions_outside_the_loaded_window():
    snapshot = b.patient(has_earlier_infusions=True)
    r = run(with_course(snapshot))
    assert points(r, "T1") == 1 and "First-ever" not in factor(r, "T1").label


# --- T2 ------------------------------------------------------------------------------------------


@pytest.mark.parametrize(("grams", "expected"), [(34.9, 0), (35.0, 1)])
def test_t2_35_grams_a_day(grams, expected):
    assert points(run(with_course(BASE, grams=grams)), "T2") == expected


def test_t2_grams_are_summed_per_calendar_day():
    two_bags = add(BASE, b.infusion(b.at(days_before(2), 8), 20.0), b.infusion(b.at(days_before(2), 14), 15.0))
    assert points(run(two_bags), "T2") == 1


def test_t2_35_grams_needs_no_weight():
    r = run(with_course(b.patient(weight_kg=None), grams=35.0))
    assert points(r, "T2") == 1 and not any("T2" in m for m in r.missing)


@pytest.mark.parametrize(("grams", "expected"), [(33.9, 0), (34.0, 1)])
def test_t2_one_gram_per_kg_of_the_dosing_weight(grams, expected):
    light = b.patient(weight_kg=34.0, height_cm=150)
    assert points(run(with_course(light, grams=grams, g_per_kg=0.5)), "T2") == expected


@pytest.mark.parametrize(("per_kg", "expected"), [(0.99, 0), (1.0, 1)])
def test_t2_ordered_g_per_kg_needs_no_weight(per_kg, expected):
    order = b.regimen(g_per_kg=per_kg, start_date=days_before(-3), interval=None)
    r = run(add(b.patient(weight_kg=30.0), order))  # 0.99 g/kg x 30 kg = 29.7 g
    assert points(r, "T2") == expected
    r = run(add(b.patient(weight_kg=None), b.regimen(g_per_kg=1.0, start_date=days_before(-3))))
    assert points(r, "T2") == 1


def test_t2_per_kg_uses_the_orders_dosing_weight():
    # 30 g to a 130 cm, 40 kg woman: 0.75 g/kg of the actual weight, 1.19 g/kg of IBW 25.2 kg
    small = b.patient(sex="female", height_cm=130.0, weight_kg=40.0)
    assert points(run(with_course(small, grams=30.0, g_per_kg=0.5, dosing_weight="actual")), "T2") == 0
    assert points(run(with_course(small, grams=30.0, g_per_kg=0.5, dosing_weight="ideal")), "T2") == 1


def test_t2_planned_g_per_kg_order_without_weight_blocks_the_35_g_check():
    order = b.regimen(g_per_kg=0.5, start_date=days_before(-3), interval=None)
    r = run(add(b.patient(weight_kg=None), order))
    assert points(r, "T2") == 0
    assert r.missing == ("weight: P9 BMI, T2 grams per day",)


# --- T3 ------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("per_kg", "days", "expected"),
    [(0.4, 5, 1), (1.0, 2, 1), (0.5, 3, 0), (0.25, 8, 0), (0.3, 10, 1)],
)
def test_t3_ordered_course_total_needs_no_weight(per_kg, days, expected):
    order = b.regimen(g_per_kg=per_kg, days=days, interval=None, start_date=days_before(-3))
    assert points(run(add(b.patient(weight_kg=None), order)), "T3") == expected


def test_t3_given_course_of_2_g_per_kg_within_7_days():
    # 65 kg: 130 g = 2.0 g/kg
    assert points(run(with_course(BASE, grams=26.0, days=5, days_ago=6, g_per_kg=0.1)), "T3") == 1
    assert points(run(with_course(BASE, grams=25.9, days=5, days_ago=6, g_per_kg=0.1)), "T3") == 0


def test_t3_counts_at_most_7_consecutive_days():
    spread = add(
        BASE,
        b.regimen(g_per_kg=None, grams=65.0, interval=None, start_date=days_before(400)),
        b.infusion(b.at(days_before(9)), 65.0),
        b.infusion(b.at(days_before(2)), 65.0),  # 7 days later: same course, but an 8-day span
    )
    assert points(run(spread), "T3") == 0
    close = add(BASE, b.infusion(b.at(days_before(8)), 65.0), b.infusion(b.at(days_before(2)), 65.0))
    assert points(run(close), "T3") == 1


# --- T4 ------------------------------------------------------------------------------------------


@pytest.mark.parametrize(("rate", "expected"), [(8.0, 0), (8.01, 1)])
def test_t4_above_the_label_maximum_without_risk_factors(rate, expected):
    r = run(with_course(BASE, rate=rate))  # Privigen: label 8.0
    assert points(r, "T4") == expected
    assert (rec(r, "RATE-ABOVE-LABEL") is not None) == bool(expected)


def test_t4_one_rate_prompt_per_course():
    r = run(with_course(BASE, grams=20.0, days=3, rate=9.0))
    assert points(r, "T4") == 1
    assert [x["code"] for x in r.recommendations].count("RATE-ABOVE-LABEL") == 1


@pytest.mark.parametrize(("rate", "fda_factor", "expected"), [(3.3, True, 0), (3.31, True, 1), (3.31, False, 0)])
def test_t4_at_risk_cap_of_3_3(rate, fda_factor, expected):
    snapshot = add(BASE, HTN) if fda_factor else BASE
    assert points(run(with_course(snapshot, rate=rate)), "T4") == expected


def test_t4_non_fda_factors_do_not_trigger_the_cap():
    snapshot = add(b.patient(age=64), b.condition("reduced_mobility"), b.med("steroid"))
    assert points(run(with_course(snapshot, rate=5.0)), "T4") == 0


def test_t4_rate_from_ml_h_and_the_actual_weight():
    pump = add(BASE, HTN, b.infusion(b.at(days_before(2)), 30.0, rate=None, ml_h=130))  # 3.3 at 65 kg
    assert points(run(pump), "T4") == 0
    fast = add(BASE, HTN, b.infusion(b.at(days_before(2)), 30.0, rate=None, ml_h=140))  # 3.6
    assert points(run(fast), "T4") == 1


def test_t4_rate_unknown_without_weight_is_missing_not_zero():
    snapshot = add(b.patient(weight_kg=None), b.infusion(b.at(days_before(2)), 30.0, rate=None, ml_h=300))
    r = run(snapshot)
    assert points(r, "T4") == 0
    assert any(m.startswith("weight:") and "T4 rate in mg/kg/min" in m for m in r.missing)
    blocked = rec(r, "RATE-CHECK-BLOCKED")
    assert blocked["mg_per_min"] == 500 and blocked["above_label_below_kg"] == 62.5


def test_t4_no_rate_recorded_anywhere_is_missing():
    snapshot = add(BASE, b.infusion(b.at(days_before(2)), 30.0, rate=None))
    assert "maximum infusion rate: T4 rate" in run(snapshot).missing


def test_t4_falls_back_to_the_ordered_rate_when_infusions_carry_none():
    snapshot = add(
        BASE,
        HTN,
        b.regimen(max_rate=6.0, start_date=days_before(400)),
        b.infusion(b.at(days_before(2)), 30.0, rate=None),
    )
    assert points(run(snapshot), "T4") == 1


# --- T5 and the cap -----------------------------------------------------------------------------


@pytest.mark.parametrize(("interval", "expected"), [(14, 1), (15, 0), (None, 0)])
def test_t5_short_maintenance_interval(interval, expected):
    order = b.regimen(interval=interval, start_date=days_before(-3))
    assert points(run(add(BASE, order)), "T5") == expected


def test_treatment_items_are_capped_at_4_with_a_visible_row():
    # first course, 40 g/day x 5 = 200 g (3.1 g/kg), 5 mg/kg/min with hypertension, every 14 days
    snapshot = with_course(add(BASE, HTN), grams=40.0, days=5, days_ago=5, rate=5.0, interval=14)
    r = run(snapshot)
    assert [points(r, c) for c in ("T1", "T2", "T3", "T4", "T5")] == [1, 1, 1, 1, 1]
    cap = factor(r, "T-cap")
    assert cap.points == -1 and "counted as 4" in cap.label
    assert r.score == 1 + 4 == sum(r.components.values())
    assert r.components["hypercoagulability"] == 4


def test_components_add_up_to_the_score():
    snapshot = add(
        b.patient(age=70),
        b.condition("bedbound"),
        b.condition("diabetes"),
        b.access("picc", vein="arm"),
        b.event("mi"),
    )
    r = run(snapshot)
    assert r.components == {"hypercoagulability": 2, "stasis": 3, "vessel_injury": 3, "arterial": 3}
    assert sum(r.components.values()) == r.score == 11


# --- overrides -----------------------------------------------------------------------------------


@pytest.mark.parametrize(("kind", "days", "fires"), [("pe", 90, True), ("pe", 91, False), ("mi", 10, True)])
def test_override_a_thrombosis_in_the_last_90_days(kind, days, fires):
    on_anticoagulant = b.med("anticoagulant", intensity="therapeutic")  # keeps (b) out of the way
    r = run(add(BASE, b.event(kind, diagnosed_on=days_before(days)), on_anticoagulant))
    assert ("a" in override_codes(r)) is fires
    assert r.tier == ("high" if fires else "low")


def test_override_a_needs_a_confirmed_event():
    r = run(add(BASE, b.event("pe", status="suspected", diagnosed_on=TODAY)))
    assert r.overrides == () and r.provisional


@pytest.mark.parametrize(
    ("anticoagulant", "fires"),
    [
        (None, True),
        (b.med("anticoagulant", intensity="therapeutic"), False),
        (b.med("anticoagulant", intensity="extended"), False),
        (b.med("anticoagulant", intensity="prophylactic"), True),
        (b.med("anticoagulant", intensity="therapeutic", end_date=days_before(1)), True),
    ],
)
def test_override_b_prior_vte_without_full_anticoagulation(anticoagulant, fires):
    snapshot = add(BASE, b.event("dvt", diagnosed_on=days_before(800)))
    if anticoagulant:
        snapshot = add(snapshot, anticoagulant)
    r = run(snapshot)
    assert ("b" in override_codes(r)) is fires
    assert r.tier == ("high" if fires else "low")  # score 3 (P2) either way
    assert r.score == 3


def test_override_c_only_for_high_risk_thrombophilia():
    assert override_codes(run(add(BASE, b.condition("thrombophilia_high_risk")))) == {"c"}
    assert run(add(BASE, b.condition("thrombophilia"))).tier == "low"


def test_override_d_active_cancer_with_a_central_line():
    cancer = add(BASE, b.condition("active_cancer"))
    assert "d" in override_codes(run(add(cancer, b.access("port"))))
    assert "d" not in override_codes(run(cancer))
    assert "d" not in override_codes(run(add(cancer, b.access("port", removed_on=days_before(1)))))


OVERT_DIC_LABS = (
    b.lab("platelets", 40),  # 2
    b.lab("d_dimer", 3.0),  # 6x ULN 0.5: 3
    b.lab("pt", 15.0),  # 1.5 s above 13.5: 0
    b.lab("fibrinogen", 2.0),  # 0
)


def test_override_e_overt_dic_with_an_associated_condition():
    r = run(add(BASE, b.condition("acute_infection_or_sepsis"), *OVERT_DIC_LABS))
    assert r.dic_score == 5 and "e" in override_codes(r) and r.tier == "high"


def test_override_e_not_applied_without_an_associated_condition():
    r = run(add(BASE, *OVERT_DIC_LABS))
    assert r.dic_score is None and r.overrides == ()


def test_override_e_with_the_dic_diagnosis():
    r = run(add(b.patient(diagnosis="dic"), *OVERT_DIC_LABS))
    assert r.dic_score == 5 and "e" in override_codes(r)


def test_override_e_when_the_known_items_already_reach_5():
    partial = OVERT_DIC_LABS[:2]  # platelets 2 + D-dimer 3, no PT or fibrinogen
    r = run(add(BASE, b.condition("active_cancer"), *partial))
    assert r.dic_score is None and "e" in override_codes(r)


def test_override_e_ignores_labs_needing_verification():
    doubtful = tuple(b.lab(x.test, x.value, needs_verification=True) for x in OVERT_DIC_LABS)
    r = run(add(BASE, b.condition("acute_infection_or_sepsis"), *doubtful))
    assert r.dic_score is None and r.overrides == ()


def test_aspirin_and_prophylactic_anticoagulation_never_lower_the_score():
    snapshot, as_of = b.v07()
    plain = assess(snapshot, as_of)
    treated = assess(
        add(snapshot, b.med("antiplatelet"), b.med("anticoagulant", intensity="prophylactic")),
        as_of,
    )
    assert (treated.score, treated.tier, treated.factors) == (plain.score, plain.tier, plain.factors)
    assert any("does not lower the score" in n for n in treated.notes)


# --- unknown inputs --------------------------------------------------------------------------


def test_weight_missing_blocks_p9_and_per_kg_items_and_keeps_known_points():
    snapshot = b.patient(weight_kg=None, age=50)
    snapshot = add(
        snapshot,
        b.regimen(g_per_kg=0.4, days=3, interval=21, start_date=days_before(400)),
        b.infusion(b.at(days_before(2)), 30.0, rate=None, ml_h=200),
    )
    r = run(snapshot)
    # P1 and T1 (first course) only: the unknown items are neither zero nor counted
    assert {f.code: f.points for f in r.factors} == {"P1": 1, "T1": 1} and r.tier == "low"
    assert r.provisional
    assert r.missing == ("weight: P9 BMI, T2 g/kg per day, T3 course g/kg, T4 rate in mg/kg/min",)
    assert rec(r, "WEIGHT-NEEDED")


def test_missing_weight_that_cannot_change_the_tier_is_listed_but_not_provisional():
    r = run(b.patient(weight_kg=None))  # no IVIG: only P9 (at most 2) is blocked
    assert r.missing == ("weight: P9 BMI",) and not r.provisional


def test_nothing_is_provisional_once_the_tier_is_high():
    snapshot, as_of = b.v01_pre_event()
    r = assess(replace(snapshot, weight_kg=None), as_of)
    assert r.tier == "high" and not r.provisional and r.missing


def test_height_missing_alone_only_blocks_bmi_and_ibw_abw():
    snapshot = with_course(b.patient(height_cm=None), grams=30.0)
    assert run(snapshot).missing == ("height: P9 BMI",)
    adjusted = with_course(b.patient(height_cm=None), grams=30.0, dosing_weight="adjusted")
    assert run(adjusted).missing == ("height: P9 BMI, T2 g/kg per day, T3 course g/kg",)


# --- recommendations -------------------------------------------------------------------------


def test_monitor_is_always_there():
    assert rec(run(BASE), "MONITOR")["text"].startswith("Thrombosis can occur without any risk factor")


def test_min_rate_and_hydrate_only_with_an_fda_listed_factor():
    assert rec(run(*b.v04()), "MIN-RATE") is None and rec(run(*b.v04()), "HYDRATE") is None
    r = run(*b.v07())
    assert rec(r, "HYDRATE")
    assert rec(r, "MIN-RATE")["ml_h"] == pytest.approx(143, abs=0.5)


def test_abw_shows_ideal_and_adjusted_weight_with_the_dose_on_each():
    abw = rec(run(*b.v01_post_event()), "ABW")  # the maintenance order: 1 g/kg
    assert (abw["ibw_kg"], abw["abw_kg"]) == (73.2, 82.3)
    assert abw["grams_per_day"] == {"actual": 96.0, "ideal": 73.2, "adjusted": 82.3}
    assert rec(run(*b.v07()), "ABW") is None  # BMI 26.1


def test_arterial_emphasis_is_a_recommendation_not_a_component():
    r = run(*b.v01_pre_event())
    emphasis = rec(r, "ARTERIAL-EMPHASIS")
    assert emphasis["arterial_emphasis"] is True and "P10" in emphasis["markers"]
    assert rec(run(b.patient(age=30)), "ARTERIAL-EMPHASIS") is None
    assert all(isinstance(v, int) for v in r.components.values())


# --- the vignettes ---------------------------------------------------------------------------


def test_v01_pre_event_11_high_without_vessel_injury():
    r = run(*b.v01_pre_event())
    assert (r.score, r.tier, r.provisional) == (11, "high", False)
    assert {f.code: f.points for f in r.factors} == {
        "P1": 2, "P9": 1, "P10": 1, "S1": 1, "S2": 2, "T1": 1, "T2": 1, "T3": 1, "T4": 1,
    }  # fmt: skip
    assert r.components == {"hypercoagulability": 7, "stasis": 3, "vessel_injury": 0, "arterial": 1}
    assert r.overrides == ()


def test_v01_post_event_high_by_override_a():
    r = run(*b.v01_post_event())
    assert r.tier == "high" and "a" in override_codes(r)


def test_v02_pre_event_6_moderate():
    r = run(*b.v02_pre_event())
    assert (r.score, r.tier) == (6, "moderate")
    assert {f.code: f.points for f in r.factors} == {"P1": 1, "E1": 2, "T2": 1, "T4": 1, "T5": 1}
    assert r.components["vessel_injury"] == 2


def test_v02_post_event_high():
    r = run(*b.v02_post_event())
    assert r.tier == "high" and "a" in override_codes(r)


def test_v04_0_low_at_the_label_maximum_rate():
    r = run(*b.v04())
    assert (r.score, r.tier, r.provisional, r.factors) == (0, "low", False, ())
    assert rec(r, "RATE-ABOVE-LABEL") is None and rec(r, "MONITOR")


def test_v07_5_moderate_and_slowing_removes_t4():
    r = run(*b.v07())
    assert (r.score, r.tier) == (5, "moderate")
    assert {f.code: f.points for f in r.factors} == {"P1": 1, "P7": 2, "T2": 1, "T4": 1}
    slowed = run(*b.v07(rate=3.3))
    assert (slowed.score, slowed.tier, points(slowed, "T4")) == (4, "moderate", 0)


def test_v10_6_moderate_and_its_sensitivity_checks():
    r = run(*b.v10())
    assert (r.score, r.tier) == (6, "moderate")
    assert {f.code: f.points for f in r.factors} == {"P1": 1, "P8": 2, "T1": 1, "T2": 1, "T3": 1}
    five_days = run(*b.v10(days=5))  # 34 g/day
    assert (five_days.score, five_days.tier, points(five_days, "T2")) == (5, "moderate", 0)
    old_steroid = run(*b.v10(steroid_days_ago=100))
    assert points(old_steroid, "P8") == 1


def test_v12_2_known_points_provisional_for_missing_weight():
    r = run(*b.v12())
    assert (r.score, r.tier, r.provisional) == (2, "low", True)
    assert {f.code: f.points for f in r.factors} == {"P1": 1, "T2": 1}
    assert r.missing == ("weight: P9 BMI, T3 course g/kg, T4 rate in mg/kg/min",)
    blocked = rec(r, "RATE-CHECK-BLOCKED")
    assert (blocked["mg_per_min"], blocked["label_max_mg_kg_min"], blocked["above_label_below_kg"]) == (500, 8.0, 62.5)
    assert "blocked, not passed" in blocked["text"]


def test_v15_future_administered_infusion_is_ignored():
    r = run(*b.v15())
    assert (r.score, r.tier, r.factors) == (0, "low", ())
    assert any("course given from 2025-02-20" in n for n in r.notes)
    big_future = run(*b.v15(future_grams=80.0))  # would fire T2 if it counted
    assert big_future.as_dict() == r.as_dict()


def test_v16_1_low_unchanged_by_symptoms_high_once_confirmed():
    r = run(*b.v16())
    assert (r.score, r.tier, r.provisional) == (1, "low", False)
    assert [f.code for f in r.factors] == ["T2"]
    suspected = run(*b.v16(dvt="suspected"))
    assert (suspected.tier, suspected.provisional) == ("low", True)
    confirmed = run(*b.v16(dvt="confirmed"))
    assert confirmed.tier == "high" and "a" in override_codes(confirmed)
