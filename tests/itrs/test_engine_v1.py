"""ITRS-v1's changed definitions at their boundaries, each against ITRS-v0 where they differ
(risk/README.md, "What changed in ITRS-v1")."""

from __future__ import annotations

from datetime import timedelta

import pytest

from itrs import rulesets, v1
from itrs.engine import ITRS_V0, assess
from itrs.v1 import ITRS_V1
from tests.itrs import builders as b
from tests.itrs.builders import GAMUNEX_C, NOW, add, days_before
from tests.itrs.engine_helpers import BASE, HTN, factor, override_codes, points, rec, run, run_v0


def test_registry_has_both_and_v1_is_current():
    assert rulesets.names() == ["ITRS-v0", "ITRS-v1"] and rulesets.CURRENT == "ITRS-v1"
    assert run(BASE).ruleset == "ITRS-v1" and run_v0(BASE).ruleset == "ITRS-v0"
    with pytest.raises(KeyError, match="known: ITRS-v0, ITRS-v1"):
        rulesets.get("ITRS-v9")
    # v1 is v0 with steps replaced, not a copy: the unchanged steps are the very same functions
    shared = set(ITRS_V0.items) & set(ITRS_V1.items)
    assert len(shared) == 5 and ITRS_V1.overrides is ITRS_V0.overrides


# --- courses, T1, T3 -----------------------------------------------------------------------------


def test_weekly_maintenance_infusions_are_separate_courses_so_t1_ends():
    weekly = add(BASE, *(b.infusion(b.at(days_before(d)), 20.0) for d in (21, 14, 7, 0)))
    assert points(run_v0(weekly), "T1") == 1  # v0: one endless "first-ever course"
    assert points(run(weekly), "T1") == 0  # v1: each week a course after last week's


@pytest.mark.parametrize(("gap", "t1"), [(3, 1), (4, 0)])
def test_a_course_is_infusions_at_most_3_days_apart(gap, t1):
    # a first course: Friday and then Monday (3 days) stays one first course; 4 days apart is two
    snap = add(BASE, b.infusion(b.at(days_before(gap)), 20.0), b.infusion(b.at(days_before(0)), 20.0))
    assert points(run(snap), "T1") == t1


@pytest.mark.parametrize(("weeks_gap", "t1"), [(8, 1), (7, 0)])
def test_t1_after_an_8_week_gap(weeks_gap, t1):
    snap = add(BASE, b.infusion(b.at(days_before(7 * weeks_gap)), 20.0), b.infusion(b.at(days_before(0)), 20.0))
    assert points(run(snap), "T1") == t1


def test_t1_product_switch_between_weekly_courses():
    snap = add(
        BASE,
        b.infusion(b.at(days_before(7)), 20.0),
        b.infusion(b.at(days_before(0)), 20.0, GAMUNEX_C),
    )
    assert points(run(snap), "T1") == 1 and "Product switch" in factor(run(snap), "T1").label


def test_t3_counts_any_7_day_window_holding_an_index_infusion():
    # 65 kg: 1 g/kg = 65 g. Days -6 and 0 are one window (7 days), days -7 and 0 are not.
    within = add(BASE, b.infusion(b.at(days_before(6)), 65.0), b.infusion(b.at(days_before(0)), 65.0))
    outside = add(BASE, b.infusion(b.at(days_before(7)), 65.0), b.infusion(b.at(days_before(0)), 65.0))
    assert points(run(within), "T3") == 1  # separate courses under v1, one 7-day window
    assert points(run(outside), "T3") == 0
    assert "2.00 g/kg" in factor(run(within), "T3").label


def test_t3_still_scores_a_planned_2_g_per_kg_course_from_its_first_day():
    order = b.regimen(g_per_kg=0.4, days=5, interval=None, start_date=days_before(0))
    snap = add(BASE, order, b.infusion(b.at(days_before(0)), 26.0))
    assert points(run(snap), "T3") == 1


# --- P2/P3 retinal vein occlusion -------------------------------------------------------------


def test_retinal_vein_occlusion_is_p3_one_point_and_never_override_b():
    old_rvo = add(BASE, b.event("retinal_vein", diagnosed_on=days_before(800)))
    v0 = run_v0(old_rvo)
    assert points(v0, "P2") == 3 and "b" in override_codes(v0) and v0.tier == "high"  # v0: VTE for life
    v1 = run(old_rvo)
    assert points(v1, "P2") == 0 and points(v1, "P3") == 1 and "not VTE" in factor(v1, "P3").label
    assert "[N1]" in factor(v1, "P3").evidence
    assert override_codes(v1) == set() and v1.tier == "low"


def test_rvo_with_an_arterial_event_keeps_p3_at_2():
    snap = add(BASE, b.event("retinal_vein"), b.event("mi"))
    assert points(run(snap), "P3") == 2


# --- P7 by class ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("category", "drug_class", "route", "scores"),
    [
        ("estrogen", "combined_hormonal_contraceptive", "oral", True),
        ("estrogen", "combined_hormonal_contraceptive", "transdermal", True),  # patch
        ("estrogen", "combined_hormonal_contraceptive", "vaginal", True),  # ring
        ("estrogen", "oral_hrt", "oral", True),
        ("thrombogenic", "serm", "oral", True),
        ("thrombogenic", "imid", "oral", True),
        ("estrogen", "transdermal_hrt", "transdermal", False),
        ("estrogen", "vaginal_estrogen", "vaginal", False),
        ("estrogen", "progestogen_only", "oral", False),
    ],
)
def test_p7_by_class(category, drug_class, route, scores):
    snap = add(BASE, b.med(category, drug="x", drug_class=drug_class, route=route, start_date=days_before(30)))
    r = run(snap)
    assert points(r, "P7") == (2 if scores else 0)
    if not scores:
        assert any(n.startswith("Recorded, not scored (P7): x:") for n in r.notes)
    assert points(run_v0(snap), "P7") == (2 if category == "estrogen" else 0)  # v0: any estrogen


# --- P8 systemic only ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("route", "scores"),
    [
        ("oral", 2),
        ("intravenous", 2),
        ("intramuscular", 2),
        ("inhaled", 0),
        ("topical", 0),
        ("rectal", 0),
        ("intra_articular", 0),
    ],
)
def test_p8_systemic_routes_only(route, scores):
    snap = add(BASE, b.med("steroid", route=route, dose_mg_per_day=60, start_date=days_before(10)))
    r = run(snap)
    assert points(r, "P8") == scores
    assert points(run_v0(snap), "P8") == 2  # v0 scored any route
    if scores:
        assert "60 mg/day prednisolone equivalent" in factor(r, "P8").evidence
    else:
        assert any("Recorded, not scored (P8)" in n for n in r.notes)


def test_p8_evidence_shows_the_prednisolone_equivalent_of_dexamethasone():
    dex = b.med("steroid", drug="dexamethasone", dose_mg_per_day=6, prednisolone_factor=6.6667)
    assert "= 40 mg/day prednisolone equivalent" in factor(run(add(BASE, dex)), "P8").evidence


def test_p8_unknown_route_is_missing_not_zero():
    r = run(add(BASE, b.med("steroid", route="", start_date=days_before(10))))
    assert points(r, "P8") == 0 and r.missing == ("route of prednisolone: P8 glucocorticoid (systemic routes only)",)


# --- P9 unrounded, adults --------------------------------------------------------------------


@pytest.mark.parametrize(("bmi", "expected"), [(29.95, 0), (30.0, 1), (34.99, 1), (35.0, 2)])
def test_p9_bands_the_unrounded_bmi(bmi, expected):
    weight = bmi * 1.7 * 1.7
    r = run(b.patient(height_cm=170.0, weight_kg=weight))
    assert points(r, "P9") == expected
    if bmi == 29.95:
        assert points(run_v0(b.patient(height_cm=170.0, weight_kg=weight)), "P9") == 1  # v0 rounded to 30.0


@pytest.mark.parametrize(("age", "p9"), [(17, 0), (18, 1)])
def test_p9_adults_only(age, p9):
    r = run(b.patient(age=age, height_cm=170.0, weight_kg=95.0))  # BMI 32.9
    assert points(r, "P9") == p9
    if age < 18:
        assert any("P9 (BMI) not scored: age 17" in n for n in r.notes)


# --- children and short stature: dosing weight -----------------------------------------------


@pytest.mark.parametrize(("height", "adjusted"), [(151.0, False), (153.0, True)])
def test_ibw_and_abw_not_computed_under_152_4_cm(height, adjusted):
    order = b.regimen(g_per_kg=0.4, dosing_weight="adjusted", start_date=days_before(0), interval=None)
    snap = add(b.patient(height_cm=height, weight_kg=100.0), order, b.infusion(b.at(days_before(0)), 40.0))
    kg, words, missing = v1.dosing_weight(v1.read_facts_v1(snap, NOW), order)
    if adjusted:
        assert words.startswith("adjusted weight") and kg < 100
    else:
        assert kg == 100 and "adjusted body weight is not computed at height 151 cm" in words
    assert missing == []
    assert (rec(run(snap), "ABW") is not None) == adjusted  # no IBW/ABW advice under 152.4 cm
    assert rec(run_v0(snap), "ABW") is not None  # v0 computed it (with a caveat)


def test_kawasaki_child_is_dosed_on_actual_weight_and_scored():
    child = b.patient(age=3, height_cm=95.0, weight_kg=15.0, diagnosis="kawasaki")
    snap = add(
        child,
        b.regimen(g_per_kg=2.0, days=1, interval=None, dosing_weight="ideal", start_date=days_before(0)),
        b.infusion(b.at(days_before(0)), 30.0, rate=None),
    )
    r = run(snap)
    assert points(r, "T3") == 1 and points(r, "T2") == 1 and points(r, "T1") == 1
    assert "actual weight 15 kg" in factor(r, "T3").label and "not computed at age 3" in factor(r, "T3").label
    assert any("outside the adult populations" in n for n in r.notes)
    assert any("P9 (BMI) not scored: age 3" in n for n in r.notes)
    assert rec(r, "ABW") is None


# --- S2 length of stay -----------------------------------------------------------------------


@pytest.mark.parametrize(("days_in", "expected"), [(2, 0), (3, 2)])
def test_s2_current_admission_needs_3_days(days_in, expected):
    snap = add(BASE, b.condition("hospital_admission", days_before(days_in)))
    r = run(snap)
    assert points(r, "S2") == expected
    assert points(run_v0(snap), "S2") == 2  # v0 scored any current admission
    if not expected:
        assert any("S2 needs a stay of 3 days" in n for n in r.notes)


def test_s2_short_admission_during_an_inpatient_3_day_course():
    order = b.regimen(g_per_kg=0.4, days=3, interval=None, setting="inpatient", start_date=days_before(1))
    snap = add(BASE, order, b.condition("hospital_admission", days_before(1)))
    assert points(run(snap), "S2") == 2


# --- the same snapshot, other instants ---------------------------------------------------------


def test_v1_runs_on_a_snapshot_stored_before_the_dictionary():
    """A MedSnap without class or route (an ITRS-v0 assessment's inputs) still scores sensibly."""
    legacy = add(BASE, b.med("estrogen", drug_class="", route=""))
    assert points(assess(legacy, NOW + timedelta(days=1)), "P7") == 2
    assert HTN.code == "hypertension"
