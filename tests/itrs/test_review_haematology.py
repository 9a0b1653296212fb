"""Review rules of the hematology_review kind: HEM-URGENT and HEM-ROUTINE (docs/review-rules.md)."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest

from itrs.types import ConditionSnap, EventSnap, Factor, FlagHistory
from tests.itrs.review_builders import AS_OF, ago, at, day, patient, result, rule_of, run
from tests.itrs.review_records import anticoagulant, lab, pre_labs, regimen

# --- HEM-URGENT -------------------------------------------------------------------------


def test_recent_confirmed_event_without_review_is_hem_urgent():
    snap = patient(events=(EventSnap("pe", "confirmed", date(2025, 2, 27)),))
    spec = run(snap, result("high", 9))["hematology_review"]
    assert spec.rule == "HEM-URGENT"
    assert spec.priority == "urgent"
    assert spec.reason == "Confirmed pulmonary embolism on 2025-02-27 and no haematology review since."
    assert spec.evidence["events"][0]["diagnosed_on"] == "2025-02-27"
    assert spec.due_at == AS_OF + timedelta(hours=24)


def test_suspected_event_is_hem_urgent_but_ruled_out_is_not():
    suspected = patient(events=(EventSnap("dvt", "suspected", day(3)),))
    assert rule_of(run(suspected), "hematology_review") == "HEM-URGENT"
    ruled_out = patient(events=(EventSnap("dvt", "ruled_out", day(3)),))
    assert run(ruled_out) == {}


def test_event_after_as_of_is_ignored():
    snap = patient(events=(EventSnap("dvt", "confirmed", day(-1)),))
    assert run(snap) == {}


@pytest.mark.parametrize(("days", "rule"), [(90, "HEM-URGENT"), (91, "HEM-ROUTINE")])
def test_event_window_is_90_days(days, rule):
    # after 90 days a confirmed VTE is "prior VTE with IVIG planned": routine
    snap = patient(events=(EventSnap("dvt", "confirmed", day(days)),))
    assert rule_of(run(snap), "hematology_review") == rule


def test_review_on_or_after_diagnosis_clears_hem_urgent():
    snap = patient(events=(EventSnap("dvt", "suspected", day(5)),))
    same_day = FlagHistory(last_hematology_review_on=datetime.combine(day(5), datetime.min.time(), UTC))
    assert "hematology_review" not in run(snap, history=same_day)
    before = FlagHistory(last_hematology_review_on=ago(6))
    assert rule_of(run(snap, history=before), "hematology_review") == "HEM-URGENT"


@pytest.mark.parametrize(("dic", "expected"), [(5, "HEM-URGENT"), (4, None), (None, None)])
def test_dic_score_from_5_is_hem_urgent(dic, expected):
    flags = run(res=result(dic_score=dic))
    assert rule_of(flags, "hematology_review") == expected


@pytest.mark.parametrize(("value", "expected"), [(49, "HEM-URGENT"), (50, None)])
def test_platelets_below_50_are_hem_urgent(value, expected):
    snap = patient(labs=pre_labs(at(2024, 9, 10)) + (lab("platelets", value, ago(1)),))
    flags = run(snap)
    assert rule_of(flags, "hematology_review") == expected
    if expected:
        assert flags["hematology_review"].reason == "Platelets 49 x10^9/L on 2025-02-28, below 50."


@pytest.mark.parametrize(("latest", "expected"), [(98, "HEM-URGENT"), (100, None)])
def test_platelet_fall_over_half_is_hem_urgent(latest, expected):
    # 200 -> 98 is a 51% fall; 200 -> 100 is exactly 50%: not "more than half"
    labs = (lab("platelets", 200, ago(10)), lab("platelets", latest, ago(1)))
    flags = run(patient(labs=pre_labs(at(2024, 9, 10)) + labs))
    assert rule_of(flags, "hematology_review") == expected
    if expected:
        assert flags["hematology_review"].evidence["platelet_fall"]["fraction"] == 0.51
        assert "fell 51%" in flags["hematology_review"].reason


def test_platelet_fall_counts_only_from_a_count_within_30_days():
    labs = (lab("platelets", 400, ago(40)), lab("platelets", 150, ago(1)))
    assert run(patient(labs=pre_labs(at(2024, 9, 10)) + labs)) == {}


def test_doubtful_low_platelets_enter_no_rule_but_ask_for_verification():
    snap = patient(labs=pre_labs(at(2024, 9, 10)) + (lab("platelets", 10, ago(1), doubtful=True),))
    flags = run(snap)
    assert "hematology_review" not in flags
    assert rule_of(flags, "clotting_studies") == "CLOT-VERIFY"


def test_review_after_the_low_count_clears_it():
    snap = patient(labs=pre_labs(at(2024, 9, 10)) + (lab("platelets", 40, ago(3)),))
    assert "hematology_review" not in run(snap, history=FlagHistory(last_hematology_review_on=ago(1)))


# --- HEM-ROUTINE ------------------------------------------------------------------------


def test_high_tier_without_review_is_hem_routine_before_next_course():
    spec = run(res=result("high", 8))["hematology_review"]
    assert spec.rule == "HEM-ROUTINE"
    assert spec.priority == "routine"
    assert "Risk tier high" in spec.reason
    assert "before the next IVIG course on 2025-03-04" in spec.reason
    assert spec.due_at == datetime(2025, 3, 4, tzinfo=UTC)


def test_review_completed_yesterday_suppresses_hem_routine():
    history = FlagHistory(last_hematology_review_on=ago(1))
    assert "hematology_review" not in run(res=result("high", 8), history=history)


@pytest.mark.parametrize(("review_days", "expected"), [(364, None), (366, "HEM-ROUTINE")])
def test_hem_routine_review_interval_is_a_year(review_days, expected):
    history = FlagHistory(last_hematology_review_on=ago(review_days))
    assert rule_of(run(res=result("high", 8), history=history), "hematology_review") == expected


def test_tier_rise_after_the_review_brings_hem_routine_back():
    history = FlagHistory(last_hematology_review_on=ago(30), tier_last_rose_at=ago(2))
    spec = run(res=result("high", 8), history=history)["hematology_review"]
    assert spec.rule == "HEM-ROUTINE"
    assert "since the risk tier rose on 2025-02-27" in spec.reason


@pytest.mark.parametrize("condition", ["thrombophilia", "thrombophilia_high_risk", "paraproteinemia", "polycythemia"])
def test_thrombophilia_or_hyperviscosity_is_hem_routine(condition):
    snap = patient(conditions=(ConditionSnap(condition, date(2020, 1, 1)),))
    assert rule_of(run(snap), "hematology_review") == "HEM-ROUTINE"


def test_resolved_condition_counts_no_more():
    snap = patient(conditions=(ConditionSnap("polycythemia", date(2020, 1, 1), day(10)),))
    assert run(snap) == {}


def test_p6_factor_is_a_hyperviscosity_state():
    p6 = Factor("P6", "Cryoglobulins", "hypercoagulability", 2, "[R1]", fda_listed=True)
    history = FlagHistory(last_viscosity_check_at=ago(10))
    flags = run(res=result("low", 2, factors=(p6,)), history=history)
    assert rule_of(flags, "hematology_review") == "HEM-ROUTINE"
    assert "Cryoglobulins" in flags["hematology_review"].reason


def test_prior_vte_counts_only_with_ivig_planned():
    event = EventSnap("dvt", "confirmed", date(2022, 5, 1))
    assert rule_of(run(patient(events=(event,))), "hematology_review") == "HEM-ROUTINE"
    stopped = patient(events=(event,), regimens=(regimen(date(2024, 9, 17), end=day(5)),))
    assert run(stopped) == {}
    arterial = patient(events=(EventSnap("mi", "confirmed", date(2022, 5, 1)),))
    assert run(arterial) == {}


@pytest.mark.parametrize(("started", "expected"), [(89, None), (90, "HEM-ROUTINE")])
def test_therapeutic_anticoagulation_three_month_review(started, expected):
    snap = patient(medications=(anticoagulant("therapeutic", day(started)),))
    flags = run(snap)
    assert rule_of(flags, "hematology_review") == expected
    if expected:
        assert "90-day review due on 2025-03-01" in flags["hematology_review"].reason


def test_therapeutic_review_counts_only_from_day_90():
    snap = patient(medications=(anticoagulant("therapeutic", date(2024, 11, 1)),))
    # day 90 of the course is 2025-01-30
    at_day_90 = FlagHistory(last_hematology_review_on=datetime(2025, 1, 30, 15, tzinfo=UTC))
    assert "hematology_review" not in run(snap, history=at_day_90)
    at_day_80 = FlagHistory(last_hematology_review_on=datetime(2025, 1, 20, 15, tzinfo=UTC))
    assert rule_of(run(snap, history=at_day_80), "hematology_review") == "HEM-ROUTINE"


def test_ended_therapeutic_course_needs_no_review():
    snap = patient(medications=(anticoagulant("therapeutic", day(200), end=day(100)),))
    assert run(snap) == {}


@pytest.mark.parametrize(("review_days", "expected"), [(None, "HEM-ROUTINE"), (364, None), (366, "HEM-ROUTINE")])
def test_extended_anticoagulation_yearly_review(review_days, expected):
    snap = patient(medications=(anticoagulant("extended", date(2022, 1, 1)),))
    review = ago(review_days) if review_days is not None else None
    flags = run(snap, history=FlagHistory(last_hematology_review_on=review))
    assert rule_of(flags, "hematology_review") == expected
    if expected:
        assert "Extended anticoagulation (apixaban)" in flags["hematology_review"].reason


def test_prophylactic_anticoagulation_needs_no_review():
    snap = patient(medications=(anticoagulant("prophylactic", date(2022, 1, 1)),))
    assert run(snap) == {}
