"""ITRS-v0 IVIG treatment items T1-T5 and their cap (risk/README.md, IVIG treatment):
which infusions count, each item at its boundaries, the cap row, the component totals."""

from __future__ import annotations

from datetime import timedelta

import pytest

from tests.itrs import builders as b
from tests.itrs.builders import NOW, add, days_before
from tests.itrs.engine_helpers import BASE, HTN, factor, points, rec, run, run_v0, with_course

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


def test_itrs_v0_infusions_up_to_7_days_apart_form_one_course():
    """ITRS-v0 only: ITRS-v1 cuts courses at 3 days (test_engine_v1.py)."""
    same = add(BASE, b.infusion(b.at(days_before(10)), 20.0), b.infusion(b.at(days_before(3)), 20.0))
    assert points(run_v0(same), "T1") == 1  # both in the first course
    split = add(BASE, b.infusion(b.at(days_before(11)), 20.0), b.infusion(b.at(days_before(3)), 20.0))
    assert points(run_v0(split), "T1") == 0  # the second starts a new course 8 days later


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
    # 30 g to a 160 cm, 40 kg woman: 0.75 g/kg of the actual weight
    small = b.patient(sex="female", height_cm=160.0, weight_kg=40.0)
    assert points(run(with_course(small, grams=30.0, g_per_kg=0.5, dosing_weight="actual")), "T2") == 0
    heavy = b.patient(sex="female", height_cm=160.0, weight_kg=120.0)  # ABW 79.4 kg
    assert points(run(with_course(heavy, grams=30.0, g_per_kg=0.2, dosing_weight="actual")), "T2") == 0
    # 80 g is 0.67 g/kg of the actual 120 kg but 1.01 g/kg of the adjusted 79.4 kg
    assert points(run(with_course(heavy, grams=80.0, g_per_kg=0.2, dosing_weight="adjusted")), "T2") == 1


def test_itrs_v0_t2_per_kg_on_ideal_weight_below_152_cm():
    """ITRS-v0 only: ITRS-v1 does not compute IBW under 152.4 cm (test_engine_v1.py)."""
    # 30 g to a 130 cm, 40 kg woman: 0.75 g/kg of the actual weight, 1.19 g/kg of IBW 25.2 kg
    small = b.patient(sex="female", height_cm=130.0, weight_kg=40.0)
    assert points(run_v0(with_course(small, grams=30.0, g_per_kg=0.5, dosing_weight="actual")), "T2") == 0
    assert points(run_v0(with_course(small, grams=30.0, g_per_kg=0.5, dosing_weight="ideal")), "T2") == 1


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
