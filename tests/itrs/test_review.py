"""Review rules (risk/review.py, DESIGN §6): pure tests, no database.

Snapshots and results are built by hand; the vignette clock is 2025-03-01 09:00 UTC.
"""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta

import pytest

from itrs.review import (
    KINDS,
    PRIORITY_ORDER,
    RULES,
    FlagSpec,
    ReviewSettings,
    complete_panel_since,
    evaluate,
    last_complete_panel_at,
    symptom_flag,
)
from itrs.types import (
    AccessSnap,
    ConditionSnap,
    EventSnap,
    Factor,
    FlagHistory,
    InfusionSnap,
    LabSnap,
    MedSnap,
    PatientSnapshot,
    RegimenSnap,
    RiskResult,
    SymptomSnap,
)

AS_OF = datetime(2025, 3, 1, 9, 0, tzinfo=UTC)
TODAY = AS_OF.date()


# --- builders ---------------------------------------------------------------------------


def ago(days: float, as_of: datetime = AS_OF) -> datetime:
    return as_of - timedelta(days=days)


def day(days: int) -> date:
    """The date ``days`` before TODAY (negative: after)."""
    return TODAY - timedelta(days=days)


def at(y: int, m: int, d: int, hh: int = 9, mm: int = 0) -> datetime:
    return datetime(y, m, d, hh, mm, tzinfo=UTC)


def result(tier="low", score=0, dic_score=None, factors=(), provisional=False) -> RiskResult:
    return RiskResult(
        ruleset="ITRS-v0",
        as_of=AS_OF,
        score=score,
        tier=tier,
        components={},
        factors=tuple(factors),
        overrides=(),
        recommendations=(),
        provisional=provisional,
        missing=(),
        dic_score=dic_score,
    )


def regimen(start: date, interval: int | None = 21, days: int = 1, end: date | None = None):
    return RegimenSnap(
        product_name="Privigen",
        product_concentration_percent=10,
        label_max_rate_mg_kg_min=8.0,
        indication="cidp",
        dose_g_per_kg_per_day=1.0,
        dose_grams_per_day=None,
        days_per_course=days,
        interval_days=interval,
        dosing_weight="actual",
        start_date=start,
        end_date=end,
        max_rate_mg_kg_min=None,
        setting="outpatient",
    )


def infusion(started_at: datetime, status="administered") -> InfusionSnap:
    return InfusionSnap(
        started_at=started_at,
        dose_grams=60,
        status=status,
        product_name="Privigen",
        product_concentration_percent=10,
        label_max_rate_mg_kg_min=8.0,
    )


def lab(test: str, value: float, collected_at: datetime, doubtful=False) -> LabSnap:
    return LabSnap(test=test, value=value, collected_at=collected_at, needs_verification=doubtful)


def panel(collected_at: datetime, pt_test="pt") -> tuple[LabSnap, ...]:
    return (
        lab(pt_test, 12.4 if pt_test == "pt" else 1.0, collected_at),
        lab("aptt", 30, collected_at),
        lab("fibrinogen", 3.5, collected_at),
        lab("platelets", 250, collected_at),
    )


def pre_labs(collected_at: datetime) -> tuple[LabSnap, ...]:
    return (
        lab("platelets", 250, collected_at),
        lab("creatinine", 0.8, collected_at),
        lab("iga", 180, collected_at),
    )


def anticoagulant(intensity: str, start: date, end: date | None = None) -> MedSnap:
    return MedSnap(
        category="anticoagulant",
        drug="apixaban",
        start_date=start,
        end_date=end,
        intensity=intensity,
    )


def patient(**overrides) -> PatientSnapshot:
    """An established, quiet maintenance patient: no flag at all when tier is low.

    Maintenance every 21 days from 2024-09-17 (next course 2025-03-04), infusions given,
    weight 10 days old, pre-IVIG labs on file, no clotting panel.
    """
    base = dict(
        patient_id=1,
        date_of_birth=date(1970, 1, 1),
        sex="female",
        height_cm=168.0,
        weight_kg=70.0,
        weight_measured_on=day(10),
        diagnosis="cidp",
        regimens=(regimen(date(2024, 9, 17)),),
        infusions=(infusion(at(2025, 2, 11)),),
        labs=pre_labs(at(2024, 9, 10)),
    )
    base.update(overrides)
    return PatientSnapshot(**base)


def run(snapshot=None, res=None, history=None, as_of=AS_OF, settings=None):
    args = (snapshot or patient(), res or result(), history or FlagHistory(), as_of)
    specs = evaluate(*args, settings) if settings else evaluate(*args)
    kinds = [s.kind for s in specs]
    assert len(kinds) == len(set(kinds)), "at most one spec per kind"
    return {s.kind: s for s in specs}


def rule_of(flags: dict, kind: str) -> str | None:
    return flags[kind].rule if kind in flags else None


# --- table, constants ------------------------------------------------------------------


def test_rules_follow_the_design_table_order():
    assert [rule for _, rule, _ in RULES] == [
        "SYM-EMERGENCY",
        "SYM-URGENT",
        "HEM-URGENT",
        "HEM-ROUTINE",
        "CLOT-DAILY",
        "CLOT-EVENT",
        "CLOT-VERIFY",
        "CLOT-BASELINE",
        "CLOT-PERIODIC",
        "VISCOSITY",
        "PRE-IVIG",
        "WEIGHT-MISSING",
        "WEIGHT-STALE",
    ]
    assert KINDS == (
        "symptom_alert",
        "hematology_review",
        "clotting_studies",
        "viscosity_check",
        "pre_ivig_labs",
        "data_quality",
    )
    assert PRIORITY_ORDER == {"emergency": 0, "urgent": 1, "routine": 2}
    assert all(priority in PRIORITY_ORDER for _, _, priority in RULES)


def test_quiet_low_risk_patient_has_no_flags():
    assert run() == {}


def test_settings_can_be_built_from_a_mapping():
    settings = ReviewSettings(**{"panel_baseline_days": 30, "routine_due_days": 14})
    assert settings.panel_baseline_days == 30
    assert settings.hem_recent_event_days == 90
    # a panel 45 days ago satisfies 90 days but not 30
    snap = patient(labs=pre_labs(at(2024, 9, 10)) + panel(ago(45)))
    assert rule_of(run(snap, result("moderate")), "clotting_studies") is None
    flags = run(snap, result("moderate"), settings=settings)
    assert rule_of(flags, "clotting_studies") == "CLOT-BASELINE"


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
    snap = patient(labs=panel(ago(300)))
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


# --- VISCOSITY --------------------------------------------------------------------------

CRYO = ConditionSnap("cryoglobulinemia", date(2020, 1, 1))
REVIEWED = FlagHistory(last_hematology_review_on=ago(1))


@pytest.mark.parametrize(("days", "expected"), [(None, "VISCOSITY"), (364, None), (366, "VISCOSITY")])
def test_viscosity_yearly_in_hyperviscosity_state(days, expected):
    labs = pre_labs(at(2024, 9, 10))
    if days is not None:
        labs += (lab("serum_viscosity", 2.4, ago(days)),)
    flags = run(patient(conditions=(CRYO,), labs=labs), history=REVIEWED)
    assert rule_of(flags, "viscosity_check") == expected
    if expected:
        assert flags["viscosity_check"].reason.startswith("Hyperviscosity risk (cryoglobulinaemia)")


def test_viscosity_before_each_induction_course():
    induction = (regimen(day(-5), interval=None, days=5),)
    old = pre_labs(at(2024, 9, 10)) + (lab("serum_viscosity", 2.0, ago(100)),)
    flags = run(patient(conditions=(CRYO,), labs=old, regimens=induction), history=REVIEWED)
    spec = flags["viscosity_check"]
    assert spec.rule == "VISCOSITY"
    assert "induction course starting 2025-03-06" in spec.reason
    recent = pre_labs(at(2024, 9, 10)) + (lab("serum_viscosity", 2.0, ago(10)),)
    flags = run(patient(conditions=(CRYO,), labs=recent, regimens=induction), history=REVIEWED)
    assert "viscosity_check" not in flags


def test_completed_viscosity_check_counts():
    history = FlagHistory(last_hematology_review_on=ago(1), last_viscosity_check_at=ago(20))
    assert run(patient(conditions=(CRYO,)), history=history) == {}


# --- PRE-IVIG ---------------------------------------------------------------------------


def test_pre_ivig_names_the_missing_labs():
    snap = patient(
        regimens=(regimen(day(-10), interval=None, days=5),),
        infusions=(),
        labs=(lab("platelets", 250, ago(3)), lab("iga", 5, ago(2), doubtful=True)),
    )
    spec = run(snap)["pre_ivig_labs"]
    assert spec.rule == "PRE-IVIG"
    assert spec.evidence["missing"] == ["creatinine", "iga"]
    assert spec.reason == (
        "No creatinine and IgA on file before the first IVIG infusion (first course planned for 2025-03-11)."
    )
    assert spec.due_at == datetime(2025, 3, 11, tzinfo=UTC)


def test_pre_ivig_not_after_the_first_infusion_or_when_labs_on_file():
    first_course = (regimen(day(-10), interval=None, days=5),)
    given = patient(regimens=first_course, labs=())
    assert "pre_ivig_labs" not in run(given)
    on_file = patient(regimens=first_course, infusions=())
    assert "pre_ivig_labs" not in run(on_file)


def test_infusion_older_than_the_snapshot_window_counts_as_given():
    snap = patient(infusions=(), labs=(), has_earlier_infusions=True)
    assert "pre_ivig_labs" not in run(snap)


def test_future_or_planned_infusions_are_not_a_first_infusion():
    snap = patient(
        infusions=(infusion(at(2025, 3, 11), "administered"), infusion(at(2025, 3, 4), "planned")),
        labs=(),
    )
    assert rule_of(run(snap), "pre_ivig_labs") == "PRE-IVIG"


# --- data_quality -----------------------------------------------------------------------


def test_weight_missing_comes_before_stale():
    spec = run(patient(weight_kg=None, weight_measured_on=day(200)))["data_quality"]
    assert spec.rule == "WEIGHT-MISSING"
    assert "before the next IVIG course on 2025-03-04" in spec.reason


@pytest.mark.parametrize(("days", "expected"), [(90, None), (91, "WEIGHT-STALE")])
def test_weight_stale_after_90_days(days, expected):
    flags = run(patient(weight_measured_on=day(days)))
    assert rule_of(flags, "data_quality") == expected


def test_weight_without_a_date_is_stale():
    assert rule_of(run(patient(weight_measured_on=None)), "data_quality") == "WEIGHT-STALE"


def test_weight_matters_only_with_ivig_planned():
    stopped = patient(weight_kg=None, regimens=(regimen(date(2024, 1, 1), end=day(1)),))
    assert run(stopped) == {}
    one_off_done = patient(weight_kg=None, regimens=(regimen(day(20), interval=None, days=5),))
    assert run(one_off_done) == {}
    in_progress = patient(weight_kg=None, regimens=(regimen(day(2), interval=None, days=5),))
    assert rule_of(run(in_progress), "data_quality") == "WEIGHT-MISSING"


# --- due dates, one per kind, evidence -------------------------------------------------


def test_routine_due_is_next_course_or_30_days():
    far = patient(weight_kg=None, regimens=(regimen(day(-40), interval=None),), infusions=())
    assert run(far)["data_quality"].due_at == AS_OF + timedelta(days=30)
    today = patient(weight_kg=None, regimens=(regimen(TODAY, interval=None),))
    assert run(today)["data_quality"].due_at == AS_OF
    soon = patient(weight_kg=None)
    assert run(soon)["data_quality"].due_at == datetime(2025, 3, 4, tzinfo=UTC)


def test_one_spec_per_kind_first_rule_wins():
    snap = patient(
        weight_kg=None,
        weight_measured_on=day(300),
        events=(EventSnap("pe", "confirmed", day(2)),),
        conditions=(ConditionSnap("thrombophilia", date(2020, 1, 1)), CRYO),
        labs=(lab("platelets", 1200, ago(2), doubtful=True),),
        regimens=(regimen(day(-3), interval=None, days=2),),
        infusions=(),
        symptom_reports=(SymptomSnap(ago(1), "emergency", ("chest_pain",)),),
    )
    specs = evaluate(snap, result("high", 12, dic_score=5), FlagHistory(), AS_OF)
    assert [(s.kind, s.rule) for s in specs] == [
        ("hematology_review", "HEM-URGENT"),
        ("clotting_studies", "CLOT-DAILY"),
        ("viscosity_check", "VISCOSITY"),
        ("pre_ivig_labs", "PRE-IVIG"),
        ("data_quality", "WEIGHT-MISSING"),
    ]
    hem = specs[0]
    assert "Confirmed pulmonary embolism on 2025-02-27 and no haematology review since" in hem.reason
    assert "ISTH overt-DIC score 5" in hem.reason
    for spec in specs:
        assert isinstance(spec, FlagSpec)
        json.dumps(spec.evidence)
        assert spec.reason.endswith(".")


# --- symptom_flag -----------------------------------------------------------------------


def test_symptom_flag_emergency_urgent_routine():
    when = at(2025, 3, 1, 8, 30)
    emergency = symptom_flag("emergency", ["sudden_breathlessness", "chest_pain"], when)
    assert (emergency.kind, emergency.rule, emergency.priority) == (
        "symptom_alert",
        "SYM-EMERGENCY",
        "emergency",
    )
    assert emergency.due_at == when
    assert "sudden breathlessness and chest pain" in emergency.reason
    urgent = symptom_flag("urgent", ("limb_pain_swelling", "limb_discoloration"), when)
    assert urgent.rule == "SYM-URGENT"
    assert urgent.priority == "urgent"
    assert urgent.due_at == when + timedelta(hours=24)
    assert "pain or swelling of an arm or leg and discolouration of an arm or leg" in urgent.reason
    json.dumps(urgent.evidence)
    assert symptom_flag("routine", ["other"], when) is None


# --- panel helpers ----------------------------------------------------------------------


def test_complete_panel_since_accepts_inr_for_pt_and_ignores_doubtful():
    labs = panel(ago(5), pt_test="inr")
    assert complete_panel_since(labs, ago(6))
    assert not complete_panel_since(labs, ago(4))
    doubtful = tuple(replace(x, needs_verification=x.test == "aptt") for x in labs)
    assert not complete_panel_since(doubtful, ago(6))
    assert not complete_panel_since(labs, ago(6), until=ago(5.5))


def test_last_complete_panel_at_uses_a_7_day_window():
    spread_7 = (
        lab("pt", 12, ago(20)),
        lab("aptt", 30, ago(19)),
        lab("fibrinogen", 3, ago(15)),
        lab("platelets", 250, ago(13)),
    )
    assert last_complete_panel_at(spread_7) == ago(13)
    spread_8 = spread_7[:3] + (lab("platelets", 250, ago(12)),)
    assert last_complete_panel_at(spread_8) is None
    assert last_complete_panel_at(spread_8, window=timedelta(days=8)) == ago(12)


def test_last_complete_panel_at_is_the_latest_panel():
    labs = panel(ago(300)) + panel(ago(100)) + (lab("platelets", 200, ago(2)),)
    # platelets alone 2 days ago do not complete a panel (the rest is 98 days older)
    assert last_complete_panel_at(labs) == ago(100)
    assert last_complete_panel_at(labs, until=ago(200)) == ago(300)
    assert last_complete_panel_at(()) is None


# --- vignettes (pure versions; clock 2025-03-01 09:00 UTC) ------------------------------


def v01(labs_after_event: tuple[LabSnap, ...] = ()) -> PatientSnapshot:
    """V01: CIDP, 5-day induction from 2025-02-17 (day 1), PE + DVT confirmed on day 11."""
    return PatientSnapshot(
        patient_id=101,
        date_of_birth=date(1960, 6, 1),
        sex="male",
        height_cm=178,
        weight_kg=96,
        weight_measured_on=date(2025, 2, 16),
        diagnosis="cidp",
        conditions=(ConditionSnap("hypertension", date(2015, 1, 1)),),
        events=(
            EventSnap("pe", "confirmed", date(2025, 2, 27)),
            EventSnap("dvt", "confirmed", date(2025, 2, 27)),
        ),
        labs=pre_labs(at(2025, 2, 16)) + labs_after_event,
        regimens=(
            regimen(date(2025, 2, 17), interval=None, days=5),
            regimen(date(2025, 3, 10), interval=21),  # planned maintenance 1 g/kg every 3 weeks
        ),
        infusions=tuple(infusion(at(2025, 2, 17 + i, 10)) for i in range(5)),
        symptom_reports=(
            SymptomSnap(at(2025, 2, 25, 18), "urgent", ("limb_pain_swelling",)),
            SymptomSnap(at(2025, 2, 27, 7, 30), "emergency", ("chest_pain", "sudden_breathlessness")),
        ),
    )


def test_v01_post_event_right_after_recording_is_hem_urgent_and_clot_event():
    recorded = at(2025, 2, 27, 12)
    flags = run(v01(), result("high", 11), as_of=recorded)
    assert flags["hematology_review"].rule == "HEM-URGENT"
    assert flags["hematology_review"].reason == (
        "Confirmed pulmonary embolism on 2025-02-27, confirmed deep vein thrombosis on "
        "2025-02-27 and no haematology review since."
    )
    assert flags["clotting_studies"].rule == "CLOT-EVENT"
    assert flags["clotting_studies"].due_at == recorded + timedelta(hours=24)
    assert "data_quality" not in flags and "pre_ivig_labs" not in flags


def test_v01_panel_after_the_event_resolves_clot_event():
    day11 = panel(at(2025, 2, 27, 14)) + (
        lab("inr", 1.0, at(2025, 2, 27, 14)),
        lab("d_dimer", 5.8, at(2025, 2, 27, 14)),
        lab("creatinine", 1.0, at(2025, 2, 27, 14)),
    )
    flags = run(v01(day11), result("high", 11))
    assert flags["hematology_review"].rule == "HEM-URGENT"
    assert "clotting_studies" not in flags


def test_v02_jugular_port_thrombosis_is_hem_urgent_and_clot_event():
    snap = PatientSnapshot(
        patient_id=102,
        date_of_birth=date(1972, 5, 1),
        sex="female",
        height_cm=165,
        weight_kg=70,
        weight_measured_on=date(2025, 2, 9),
        diagnosis="cidp",
        accesses=(AccessSnap("port", "internal_jugular", date(2024, 1, 3)),),
        events=(
            EventSnap(
                "jugular_vein",
                "confirmed",
                date(2025, 2, 28),
                provocation="catheter_related",
                catheter_related=True,
            ),
        ),
        labs=pre_labs(at(2019, 3, 1)),
        regimens=(regimen(date(2024, 6, 2), interval=14),),
        infusions=(infusion(at(2025, 2, 9)), infusion(at(2025, 2, 23))),
        symptom_reports=(SymptomSnap(at(2025, 2, 27, 10), "urgent", ("neck_face_arm_swelling",)),),
    )
    flags = run(snap, result("high", 6))
    assert flags["hematology_review"].rule == "HEM-URGENT"
    assert "Confirmed jugular vein thrombosis on 2025-02-28" in flags["hematology_review"].reason
    assert flags["clotting_studies"].rule == "CLOT-EVENT"
    assert flags["clotting_studies"].evidence["triggers"][0]["catheter_related"] is True


def test_v04_low_risk_with_labs_on_file_has_no_flags():
    snap = PatientSnapshot(
        patient_id=104,
        date_of_birth=date(1996, 8, 1),
        sex="female",
        height_cm=168,
        weight_kg=58,
        weight_measured_on=date(2025, 2, 13),
        diagnosis="mmn",
        labs=(
            lab("platelets", 260, at(2023, 4, 1)),
            lab("hemoglobin", 13.5, at(2023, 4, 1)),
            lab("creatinine", 0.7, at(2023, 4, 1)),
            lab("iga", 180, at(2023, 4, 1)),
        ),
        regimens=(regimen(date(2023, 4, 20), interval=28, days=2),),
        infusions=(infusion(at(2025, 2, 13)), infusion(at(2025, 2, 14))),
        symptom_reports=(SymptomSnap(at(2025, 2, 13, 15), "routine", ("other",)),),
    )
    assert run(snap, result("low", 0)) == {}


@pytest.mark.parametrize("vignette", ["V07", "V10"])
def test_v07_v10_moderate_without_panel_is_clot_baseline(vignette):
    if vignette == "V07":  # oral HRT, 72 g every 3 weeks, established
        snap = patient(
            date_of_birth=date(1966, 9, 1),
            weight_kg=72,
            medications=(MedSnap("estrogen", "estradiol", date(2022, 3, 1)),),
            labs=pre_labs(at(2024, 9, 10)) + (lab("platelets", 240, ago(30)), lab("creatinine", 0.8, ago(30))),
        )
        score = 5
    else:  # new prednisolone, first 2-day course starting 2025-03-04
        snap = patient(
            date_of_birth=date(1975, 11, 1),
            sex="male",
            weight_kg=85,
            medications=(MedSnap("steroid", "prednisolone", day(21), prednisolone_eq_mg_per_day=60),),
            regimens=(regimen(date(2025, 3, 4), interval=None, days=2),),
            infusions=(),
            labs=pre_labs(ago(4)) + (lab("hemoglobin", 14, ago(4)),),
        )
        score = 6
    flags = run(snap, result("moderate", score))
    assert "hematology_review" not in flags
    assert flags["clotting_studies"].rule == "CLOT-BASELINE"
    assert flags["clotting_studies"].due_at == datetime(2025, 3, 4, tzinfo=UTC)
    assert set(flags) == {"clotting_studies"}


def test_v12_missing_weight_is_weight_missing_only():
    snap = patient(
        date_of_birth=date(1969, 12, 1),
        sex="male",
        weight_kg=None,
        weight_measured_on=None,
        infusions=(infusion(at(2025, 2, 11)), infusion(at(2025, 1, 21))),
    )
    flags = run(snap, result("low", 2, provisional=True))
    assert "hematology_review" not in flags and "clotting_studies" not in flags
    assert flags["data_quality"].rule == "WEIGHT-MISSING"
    assert flags["data_quality"].priority == "routine"


def test_v15_future_infusion_stored_as_planned_raises_nothing():
    snap = patient(
        date_of_birth=date(1980, 7, 1),
        weight_kg=65,
        infusions=(
            infusion(at(2025, 2, 20, 10)),
            infusion(at(2025, 3, 11, 10), "planned"),
            infusion(at(2025, 3, 1, 9, 3)),  # 3 minutes ahead of the clock: not yet "given"
        ),
        symptom_reports=(SymptomSnap(at(2025, 3, 1, 8, 50), "routine", ("other",)),),
    )
    assert run(snap, result("low", 0)) == {}


def test_v16_urgent_calf_symptom_is_clot_event_not_haematology():
    report = SymptomSnap(at(2025, 2, 28, 11), "urgent", ("limb_pain_swelling", "limb_discoloration"))
    snap = patient(
        date_of_birth=date(1988, 10, 1),
        weight_kg=60,
        infusions=(infusion(at(2025, 2, 25, 10)),),
        symptom_reports=(report,),
    )
    flags = run(snap, result("low", 1))
    assert set(flags) == {"clotting_studies"}
    assert flags["clotting_studies"].rule == "CLOT-EVENT"
    assert flags["clotting_studies"].reason.startswith("Urgent symptom report on 2025-02-28")
    # if the DVT is then confirmed, haematology becomes urgent
    confirmed = replace(snap, events=(EventSnap("dvt", "confirmed", TODAY),))
    assert run(confirmed, result("high", 7))["hematology_review"].rule == "HEM-URGENT"
