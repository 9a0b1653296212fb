"""Review rules of the clotting_studies kind: CLOT-DAILY, CLOT-EVENT, CLOT-VERIFY, CLOT-BASELINE and
CLOT-PERIODIC (docs/review-rules.md)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from itrs.types import EventSnap, FlagHistory, SymptomSnap
from tests.itrs.review_builders import AS_OF, ago, at, day, patient, result, rule_of, run
from tests.itrs.review_records import anticoagulant, lab, panel, pre_labs, regimen

# --- clotting_studies ---------------------------------------------------------------------


def test_dic_is_clot_daily_and_wins_over_other_clotting_rules():
    snap = patient(symptom_reports=(SymptomSnap(ago(1), "urgent", ("limb_pain_swelling",)),))
    spec = run(snap, result("high", 9, dic_score=6))["clotting_studies"]
    assert spec.rule == "CLOT-DAILY"
    assert spec.priority == "urgent"
    assert "ISTH overt-DIC score 6" in spec.reason


@pytest.mark.parametrize("triage", ["urgent", "emergency"])
def test_urgent_or_emergency_symptom_is_clot_event(triage):
    snap = patient(symptom_reports=(SymptomSnap(ago(2), triage, ("limb_pain_swelling",)),))
    spec = run(snap)["clotting_studies"]
    assert spec.rule == "CLOT-EVENT"
    assert spec.due_at == AS_OF + timedelta(hours=24)
    assert "pain or swelling of an arm or leg" in spec.reason


@pytest.mark.parametrize(("days", "expected"), [(30, "CLOT-EVENT"), (31, None)])
def test_symptom_lookback_is_30_days(days, expected):
    snap = patient(symptom_reports=(SymptomSnap(ago(days), "urgent", ("rapid_pulse",)),))
    assert rule_of(run(snap), "clotting_studies") == expected


def test_routine_symptom_is_no_clot_event():
    snap = patient(symptom_reports=(SymptomSnap(ago(1), "routine", ("other",)),))
    assert run(snap) == {}


def test_complete_panel_after_the_symptom_resolves_clot_event():
    report = SymptomSnap(ago(3), "urgent", ("limb_pain_swelling",))
    before = patient(symptom_reports=(report,), labs=pre_labs(at(2024, 9, 10)) + panel(ago(4)))
    assert rule_of(run(before), "clotting_studies") == "CLOT-EVENT"
    after = patient(symptom_reports=(report,), labs=pre_labs(at(2024, 9, 10)) + panel(ago(2)))
    assert run(after) == {}


def test_incomplete_or_doubtful_panel_does_not_resolve_clot_event():
    report = SymptomSnap(ago(3), "urgent", ("limb_pain_swelling",))
    no_fibrinogen = tuple(x for x in panel(ago(1)) if x.test != "fibrinogen")
    snap = patient(symptom_reports=(report,), labs=no_fibrinogen)
    assert rule_of(run(snap), "clotting_studies") == "CLOT-EVENT"
    doubtful = no_fibrinogen + (lab("fibrinogen", 3.5, ago(1), doubtful=True),)
    assert rule_of(run(patient(symptom_reports=(report,), labs=doubtful)), "clotting_studies") == ("CLOT-EVENT")


@pytest.mark.parametrize(("days", "expected"), [(90, "CLOT-EVENT"), (91, None)])
def test_event_without_panel_is_clot_event_for_90_days(days, expected):
    history = FlagHistory(last_hematology_review_on=ago(days - 1))
    snap = patient(events=(EventSnap("dvt", "suspected", day(days)),))
    assert rule_of(run(snap, history=history), "clotting_studies") == expected


def test_panel_later_on_the_day_of_diagnosis_resolves_clot_event():
    snap = patient(
        events=(EventSnap("dvt", "confirmed", day(2)),),
        labs=panel(datetime.combine(day(2), datetime.min.time(), UTC) + timedelta(hours=15)),
    )
    assert "clotting_studies" not in run(snap)


def test_doubtful_lab_is_clot_verify_naming_test_value_and_date():
    snap = patient(labs=pre_labs(at(2024, 9, 10)) + (lab("platelets", 1200, at(2025, 2, 20), doubtful=True),))
    spec = run(snap)["clotting_studies"]
    assert spec.rule == "CLOT-VERIFY"
    assert spec.priority == "routine"
    assert spec.reason == (
        "Platelets 1200 x10^9/L on 2025-02-20 is stored as needing verification: confirm or repeat the test."
    )
    assert spec.evidence["labs"] == [{"test": "platelets", "value": 1200, "collected_at": "2025-02-20T09:00:00+00:00"}]


def test_later_verified_repeat_clears_clot_verify():
    labs = pre_labs(at(2024, 9, 10)) + (
        lab("creatinine", 9.0, ago(10), doubtful=True),
        lab("creatinine", 0.9, ago(5)),
    )
    assert run(patient(labs=labs)) == {}


@pytest.mark.parametrize(("days", "expected"), [(89, None), (91, "CLOT-BASELINE")])
def test_clot_baseline_boundary_89_vs_91_days(days, expected):
    snap = patient(labs=pre_labs(at(2024, 9, 10)) + panel(ago(days)))
    # tier unknown, or it rose at this very assessment
    for history in (FlagHistory(), FlagHistory(tier_last_rose_at=AS_OF)):
        flags = run(snap, result("moderate", 5), history)
        assert rule_of(flags, "clotting_studies") == expected


def test_clot_baseline_reason_and_due():
    spec = run(res=result("moderate", 5))["clotting_studies"]
    assert spec.rule == "CLOT-BASELINE"
    assert spec.reason == (
        "Risk tier moderate and no complete clotting panel (PT/INR, aPTT, fibrinogen, "
        "platelets) in the last 90 days (no complete panel on record): take a baseline panel "
        "before the next IVIG course on 2025-03-04."
    )
    assert spec.due_at == datetime(2025, 3, 4, tzinfo=UTC)


def test_panel_within_90_days_before_the_tier_rose_counts_as_baseline():
    snap = patient(labs=panel(ago(95)))
    assert "clotting_studies" not in run(snap, result("moderate", 5), FlagHistory(tier_last_rose_at=ago(10)))
    # ... but not one more than 90 days before the rise
    snap = patient(labs=panel(ago(105)))
    flags = run(snap, result("moderate", 5), FlagHistory(tier_last_rose_at=ago(10)))
    assert rule_of(flags, "clotting_studies") == "CLOT-BASELINE"


def test_clot_baseline_is_once_per_rise_of_tier():
    # tier rose two years ago, baseline taken then; 300 days later nothing is due (yearly)
    # (with the pre-IVIG labs on file: v2's PRE-IVIG stays open after the first infusion without them)
    snap = patient(labs=(*pre_labs(ago(300)), *panel(ago(300))))
    assert run(snap, result("moderate", 5), FlagHistory(tier_last_rose_at=ago(730))) == {}


@pytest.mark.parametrize(
    ("intensity", "expected"),
    [
        ("therapeutic", None),
        ("extended", None),
        ("prophylactic", "CLOT-BASELINE"),
    ],
)
def test_clot_baseline_skipped_on_full_anticoagulation(intensity, expected):
    snap = patient(medications=(anticoagulant(intensity, day(10)),))
    assert rule_of(run(snap, result("moderate", 5)), "clotting_studies") == expected


def test_low_tier_needs_no_baseline():
    assert run(res=result("low", 3)) == {}


@pytest.mark.parametrize(
    ("tier", "days", "expected"),
    [
        ("high", 181, None),
        ("high", 183, "CLOT-PERIODIC"),
        ("moderate", 364, None),
        ("moderate", 366, "CLOT-PERIODIC"),
    ],
)
def test_clot_periodic_on_maintenance(tier, days, expected):
    snap = patient(labs=pre_labs(at(2024, 9, 10)) + panel(ago(days)))
    history = FlagHistory(tier_last_rose_at=ago(days + 10), last_hematology_review_on=ago(1))
    flags = run(snap, result(tier, 7 if tier == "high" else 5), history)
    assert rule_of(flags, "clotting_studies") == expected
    if expected:
        assert f"every {182 if tier == 'high' else 365} days" in flags["clotting_studies"].reason


def test_clot_periodic_needs_maintenance_and_no_full_anticoagulation():
    history = FlagHistory(tier_last_rose_at=ago(400), last_hematology_review_on=ago(1))
    labs = pre_labs(at(2024, 9, 10)) + panel(ago(200))
    one_off = patient(labs=labs, regimens=(regimen(day(-3), interval=None, days=2),))
    assert "clotting_studies" not in run(one_off, result("high", 8), history)
    anticoagulated = patient(labs=labs, medications=(anticoagulant("extended", day(30)),))
    assert "clotting_studies" not in run(anticoagulated, result("high", 8), history)
