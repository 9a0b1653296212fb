"""The clinical vignettes (docs/vignette-cases.md) scored by the ITRS-v0 engine at the vignette clock."""

from __future__ import annotations

from tests.itrs import builders as b
from tests.itrs.engine_helpers import override_codes, points, rec, run

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
