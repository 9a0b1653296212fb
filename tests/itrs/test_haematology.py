"""itrs/haematology.py and its rules: plans drive the anticoagulation reviews, HEM-CRT, HEM-PLAN,
anticoagulant failure, and the guidance shown (never decided). No database."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime, time, timedelta

import pytest

from itrs import engine, haematology
from itrs.types import EventSnap, FlagHistory, HaemReviewSnap, MedSnap
from tests.itrs.review_builders import AS_OF, TODAY, day, patient, result, rule_of, run
from tests.itrs.review_records import anticoagulant, regimen


def review(on: date, plan: str = "treatment_3_months", next_on: date | None = None, ivig="slow_rate"):
    at = datetime.combine(on, time(12), tzinfo=UTC)
    return HaemReviewSnap(reviewed_on=on, at=at, anticoagulation_plan=plan, ivig_plan=ivig, next_review_on=next_on)


def history(*reviews: HaemReviewSnap) -> FlagHistory:
    return FlagHistory(last_hematology_review_on=max(r.at for r in reviews), haematology_reviews=tuple(reviews))


def pe(on: date, **extra) -> EventSnap:
    return EventSnap("pe", "confirmed", on, **extra)


# --- plans drive the anticoagulation reviews ----------------------------------------------------


def test_treatment_3_months_is_due_3_months_from_the_event():
    clot = day(91)
    snap = patient(events=(pe(clot),), medications=(anticoagulant("therapeutic", clot),))
    spec = run(snap, history=history(review(clot + timedelta(days=1))))["hematology_review"]
    assert spec.rule == "HEM-ROUTINE"
    assert f"due on {(clot + timedelta(days=90)).isoformat()}" in spec.reason and "3 months' treatment" in spec.reason
    not_yet = patient(events=(pe(day(80)),), medications=(anticoagulant("therapeutic", day(80)),))
    assert rule_of(run(not_yet, history=history(review(day(79)))), "hematology_review") is None


def test_treatment_3_months_asks_nothing_once_the_course_stopped():
    clot = day(120)
    snap = patient(events=(pe(clot),), medications=(anticoagulant("therapeutic", clot, clot + timedelta(days=85)),))
    assert rule_of(run(snap, history=history(review(clot))), "hematology_review") is None


@pytest.mark.parametrize("plan", ["extended", "indefinite"])
def test_extended_and_indefinite_are_reviewed_yearly(plan):
    clot = day(400)
    meds = (anticoagulant("extended", clot),)
    snap = patient(events=(pe(clot),), medications=meds, regimens=())
    spec = run(snap, history=history(review(day(366), plan)))["hematology_review"]
    assert spec.rule == "HEM-ROUTINE" and "yearly review" in spec.reason
    assert rule_of(run(snap, history=history(review(day(300), plan))), "hematology_review") is None


def test_next_review_on_overrides_the_plan():
    clot = day(30)
    snap = patient(events=(pe(clot),), medications=(anticoagulant("therapeutic", clot),), regimens=())
    spec = run(snap, history=history(review(day(29), "extended", next_on=day(1))))["hematology_review"]
    assert spec.rule == "HEM-ROUTINE" and "asked for the next one by" in spec.reason


def test_without_a_recorded_plan_the_course_rules_stand():
    start = day(95)
    snap = patient(medications=(anticoagulant("therapeutic", start),), regimens=())
    spec = run(snap)["hematology_review"]
    assert spec.rule == "HEM-ROUTINE" and "90-day review" in spec.reason


def test_a_prophylactic_course_never_asks_for_a_vte_review():
    snap = patient(medications=(anticoagulant("prophylactic", day(200)),), regimens=())
    assert rule_of(run(snap), "hematology_review") is None


def test_is_vte_treatment_is_the_one_switch():
    assert haematology.is_vte_treatment(anticoagulant("therapeutic", TODAY))
    assert haematology.is_vte_treatment(anticoagulant("extended", TODAY))
    assert not haematology.is_vte_treatment(anticoagulant("prophylactic", TODAY))
    assert not haematology.is_vte_treatment(MedSnap("antiplatelet", "aspirin", TODAY))


# --- anticoagulant failure -------------------------------------------------------------------------


def test_thrombosis_on_anticoagulation_is_urgent_and_named():
    snap = patient(events=(pe(day(2)),), medications=(anticoagulant("extended", day(200)),))
    spec = run(snap, history=history(review(day(100), "extended")))["hematology_review"]
    assert (spec.rule, spec.priority) == ("HEM-URGENT", "urgent")
    assert "anticoagulant failure" in spec.reason and spec.evidence["anticoagulant_failure"][0]["drug"] == "apixaban"
    started_after = patient(events=(pe(day(2)),), medications=(anticoagulant("therapeutic", day(2)),))
    assert "anticoagulant failure" not in run(started_after)["hematology_review"].reason


# --- HEM-CRT ----------------------------------------------------------------------------------------


def crt_patient(removed_on: date | None, course_end: date | None = None):
    clot = day(300)
    event = EventSnap(
        "jugular_vein",
        "confirmed",
        clot,
        provocation="catheter_related",
        catheter_related=True,
        access_kind="picc",
        access_vein="internal_jugular",
        access_removed_on=removed_on,
    )
    return patient(
        events=(event,),
        medications=(anticoagulant("therapeutic", clot, course_end),),
        regimens=(regimen(day(400), 14),),
    )


def test_hem_crt_3_months_after_removal_while_anticoagulated():
    reviewed = history(review(day(200)))
    spec = run(crt_patient(day(90)), history=reviewed)["hematology_review"]
    assert spec.rule == "HEM-CRT"
    assert f"removed on {day(90).isoformat()}" in spec.reason
    assert spec.evidence["catheter_related"][0]["due_on"] == TODAY.isoformat()
    assert rule_of(run(crt_patient(day(89)), history=reviewed), "hematology_review") is None
    assert rule_of(run(crt_patient(None), history=reviewed), "hematology_review") is None  # the line stays


def test_no_hem_crt_when_anticoagulation_stopped_earlier_or_reviewed_since():
    reviewed = history(review(day(200)))
    assert rule_of(run(crt_patient(day(100), course_end=day(20)), history=reviewed), "hematology_review") is None
    done = history(review(day(200)), review(TODAY - timedelta(days=0)))
    assert rule_of(run(crt_patient(day(95)), history=done), "hematology_review") is None


# --- HEM-PLAN ---------------------------------------------------------------------------------------


def test_hem_plan_on_a_new_regimen_after_a_treated_vte():
    clot = day(60)
    recorded = datetime.combine(day(5), time(9), tzinfo=UTC)
    new = replace(regimen(day(-10), None, days=5), recorded_at=recorded)
    old = replace(regimen(day(200), 21), recorded_at=datetime.combine(day(200), time(9), tzinfo=UTC))
    snap = patient(events=(pe(clot),), medications=(anticoagulant("extended", clot),), regimens=(old, new))
    spec = run(snap, history=history(review(day(58), "extended")))["hematology_review"]
    assert spec.rule == "HEM-PLAN" and "new IVIG regimen" in spec.reason
    after = history(review(day(58), "extended"), review(day(2), "extended"))
    assert rule_of(run(snap, history=after), "hematology_review") is None
    untreated = replace(snap, medications=())
    assert rule_of(run(untreated, history=history(review(day(58), "none"))), "hematology_review") != "HEM-PLAN"


def test_hem_plan_not_for_a_vte_more_than_a_year_ago():
    clot = day(400)
    new = replace(regimen(day(-10), None, days=5), recorded_at=datetime.combine(day(5), time(9), tzinfo=UTC))
    snap = patient(events=(pe(clot),), medications=(anticoagulant("extended", clot),), regimens=(new,))
    assert rule_of(run(snap, history=history(review(day(100), "extended"))), "hematology_review") is None


# --- guidance, never decided -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("provocation", "words"),
    [
        ("major_transient", "3 months of treatment, then stopping"),
        ("minor_transient", "suggests stopping after 3 months"),
        ("persistent", "extended-phase treatment"),
        ("unprovoked", "extended-phase treatment"),
        ("catheter_related", "as long as the catheter stays"),
        ("unknown", "depends on the provocation"),
        ("nonsense", "depends on the provocation"),
    ],
)
def test_duration_framing_per_provocation_with_sources(provocation, words):
    g = haematology.vte_guidance(pe(TODAY, provocation=provocation), [regimen(day(100), 21)])
    assert words in g["duration"] and g["duration_sources"]
    assert "every 21 days" in g["ivig"] and "recurring exposure" in g["ivig"]
    assert any("falsely positive" in c["text"] for c in g["thrombophilia"])
    assert any("first 3 months" in c["text"] for c in g["thrombophilia"])


def test_an_antiplatelet_never_lowers_the_score():
    base = patient(events=(pe(day(200)),))
    with_aspirin = replace(base, medications=(MedSnap("antiplatelet", "aspirin", day(300), dose_mg_per_day=75),))
    a, b = engine.assess(base, AS_OF), engine.assess(with_aspirin, AS_OF)
    assert b.score >= a.score and b.tier == a.tier
    assert any("does not lower the score" in n for n in b.notes)
    assert haematology.ANTIPLATELET_NOTE[0] == "recorded; no evidence that it lowers IVIG thrombosis risk"


def test_the_forum_case_at_the_rule_level():
    """5-day course, PE + DVT on day 6, apixaban -> HEM-URGENT; reviewed -> quiet; 3 months on ->
    HEM-ROUTINE; a new induction regimen -> HEM-PLAN."""
    d6 = day(0)
    events = (pe(d6), EventSnap("dvt", "confirmed", d6))
    meds = (anticoagulant("therapeutic", d6),)
    course = replace(regimen(day(5), None, days=5), recorded_at=datetime.combine(day(10), time(9), tzinfo=UTC))
    snap = patient(events=events, medications=meds, regimens=(course,))
    assert rule_of(run(snap, result("high", 12)), "hematology_review") == "HEM-URGENT"
    reviewed = history(review(d6, "treatment_3_months"))
    assert rule_of(run(snap, result("high", 12), history=reviewed), "hematology_review") is None
    later = AS_OF + timedelta(days=91)
    spec = run(snap, result("high", 12), history=reviewed, as_of=later)["hematology_review"]
    assert spec.rule == "HEM-ROUTINE"
    again = history(review(d6, "treatment_3_months"), review(later.date(), "extended", ivig="continue"))
    induction = replace(
        regimen(later.date() + timedelta(days=10), None, days=5),
        recorded_at=later + timedelta(days=1),
    )
    snap2 = replace(snap, regimens=(course, induction))
    spec = run(snap2, result("high", 12), history=again, as_of=later + timedelta(days=2))["hematology_review"]
    assert spec.rule == "HEM-PLAN"
