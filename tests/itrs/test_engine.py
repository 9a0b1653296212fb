"""ITRS-v0 engine (itrs/engine.py; the score is explained in risk/README.md): pure tests, no database.

The contract (pure, repeatable, every factor referenced), the body-size and rate helpers,
unknown inputs and the recommendations. The items are tested by topic in the other
test_engine_*.py files: patient factors, stasis and vessel injury, the IVIG treatment items,
the overrides, and the vignettes (docs/vignette-cases.md).
"""

from __future__ import annotations

import subprocess
import sys
from dataclasses import replace
from datetime import date

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
from tests.itrs.builders import add, days_before
from tests.itrs.engine_helpers import BASE, rec, run, with_course

# --- body-size and rate helpers (re-exported from itrs.bodysize) --------------------------


def test_age_in_whole_years_turns_on_the_birthday():
    assert age_years(date(1960, 3, 1), date(2025, 2, 28)) == 64
    assert age_years(date(1960, 3, 1), date(2025, 3, 1)) == 65


def test_v01_ideal_and_adjusted_body_weight():
    assert round(ideal_body_weight("male", 178), 1) == 73.2
    assert round(adjusted_body_weight("male", 178, 96), 1) == 82.3


def test_domain_worked_example_for_a_woman():
    # risk/README.md, dosing weight: 160 cm, 120 kg woman -> IBW 52.4 kg, ABW 79.4 kg
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
