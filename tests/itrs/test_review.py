"""Review rules (itrs/review.py; the rules are listed in docs/review-rules.md): pure tests, no database.

The rule table and its settings, due dates, one flag per kind, symptom flags and the panel
helpers. Each kind's rules are tested in test_review_haematology.py, test_review_clotting.py
and test_review_checks.py; the vignettes in test_review_vignettes.py. Snapshots and results are
built by hand (tests/itrs/review_builders.py); the vignette clock is 2025-03-01 09:00 UTC.
"""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta

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
from itrs.types import ConditionSnap, EventSnap, FlagHistory, SymptomSnap
from tests.itrs.review_builders import AS_OF, TODAY, ago, at, day, patient, result, rule_of, run
from tests.itrs.review_records import CRYO, lab, panel, pre_labs, regimen

# --- table, constants ------------------------------------------------------------------


def test_rules_follow_the_design_table_order():
    assert [rule for _, rule, _ in RULES] == [
        "SYM-EMERGENCY",
        "SYM-URGENT",
        "HEM-URGENT",
        "HEM-ROUTINE",
        "HEM-CRT",
        "HEM-PLAN",
        "CLOT-DAILY",
        "CLOT-EVENT",
        "CLOT-VERIFY",
        "CLOT-BASELINE",
        "CLOT-PERIODIC",
        "VISCOSITY",
        "PRE-IVIG",
        "IGA-LOW",
        "RENAL-AKI",
        "RENAL-PRE-COURSE",
        "WEIGHT-MISSING",
        "WEIGHT-STALE",
        "MED-UNCODED",
    ]
    assert KINDS == (
        "symptom_alert",
        "hematology_review",
        "clotting_studies",
        "viscosity_check",
        "pre_ivig_labs",
        "renal_check",
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
    emergency = symptom_flag([SymptomSnap(when, "emergency", ("sudden_breathlessness", "chest_pain"))])
    assert (emergency.kind, emergency.rule, emergency.priority) == (
        "symptom_alert",
        "SYM-EMERGENCY",
        "emergency",
    )
    assert emergency.due_at == when
    assert "sudden breathlessness and chest pain" in emergency.reason
    urgent = symptom_flag([SymptomSnap(when, "urgent", ("limb_pain_swelling", "limb_discoloration"))])
    assert urgent.rule == "SYM-URGENT"
    assert urgent.priority == "urgent"
    # v2 "due times match the words": same-day is the end of the working day (was 24 h later)
    assert urgent.due_at == at(2025, 3, 1, 18, 0)
    assert "pain or swelling of an arm or leg and discolouration of an arm or leg" in urgent.reason
    json.dumps(urgent.evidence)
    assert symptom_flag([SymptomSnap(when, "routine", ("other",))]) is None


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
