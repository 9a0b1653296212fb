"""The v2 flag lifecycle on the pure side (DESIGN §6a): triggers, decisions that stick, and
closing a flag as completed (naming the records) or lapsed."""

from __future__ import annotations

from datetime import timedelta

from itrs.review import decide, evaluate, trigger_news
from itrs.types import EventSnap, FlagHistory, Suppression
from tests.itrs.review_builders import AS_OF, ago, day, patient, result, run
from tests.itrs.review_records import lab, panel, pre_labs, regimen


def _open(rule: str, raised_days_ago: float, trigger: str = "") -> dict:
    return {
        "rule": rule,
        "priority": "routine",
        "status": "open",
        "raised_at": ago(raised_days_ago),
        "trigger": trigger,
    }


def test_the_same_facts_give_the_same_trigger_whatever_the_day():
    snap = patient()
    today = run(snap, result("moderate", 5))["clotting_studies"]
    tomorrow = run(snap, result("moderate", 5), as_of=AS_OF + timedelta(days=1))["clotting_studies"]
    assert today.rule == "CLOT-BASELINE" and today.trigger == tomorrow.trigger == "tier moderate"


def test_trigger_news_is_new_facts_and_a_higher_tier_only():
    assert trigger_news("tier moderate", "tier moderate") == []
    assert trigger_news("tier high", "tier moderate") == []  # a lower tier is not news
    assert trigger_news("tier moderate", "tier high") == ["the risk tier rose from moderate to high"]
    old = "event dvt suspected 2025-02-01"
    assert trigger_news(old, f"{old}; event pe confirmed 2025-02-20") == ["confirmed pulmonary embolism on 2025-02-20"]
    assert trigger_news(f"{old}; dic 6", old) == []  # facts that went away are not news


def _decided(rule: str, trigger: str, until_days: float = 100) -> FlagHistory:
    decision = Suppression(
        rule=rule, resolution="not_indicated", trigger=trigger, resolved_at=ago(10), until=ago(-until_days)
    )
    return FlagHistory(suppressions={rule: decision})


def test_not_indicated_keeps_the_rule_quiet_until_something_worse():
    snap = patient()
    history = _decided("CLOT-BASELINE", "tier moderate")
    assert "clotting_studies" not in run(snap, result("moderate", 5), history)
    again = run(snap, result("high", 8), history)["clotting_studies"]
    assert again.rule == "CLOT-BASELINE"
    assert again.reason.endswith(
        "Raised again: CLOT-BASELINE was marked not indicated on 2025-02-19; "
        "new since then: the risk tier rose from moderate to high."
    )
    assert again.evidence["raised_again"]["news"] == ["the risk tier rose from moderate to high"]


def test_a_decision_that_ran_out_lets_the_rule_back_and_says_so():
    history = _decided("CLOT-BASELINE", "tier moderate", until_days=-1)
    spec = run(patient(), result("moderate", 5), history)["clotting_studies"]
    assert "that decision ran out on 2025-02-28" in spec.reason


def test_a_suppressed_first_rule_is_not_replaced_by_a_later_one():
    # CLOT-BASELINE and CLOT-PERIODIC both hold; the clinician said the baseline is not indicated.
    snap = patient()
    assert run(snap, result("high", 8))["clotting_studies"].rule == "CLOT-BASELINE"
    assert "clotting_studies" not in run(snap, result("high", 8), _decided("CLOT-BASELINE", "tier high"))


def test_a_new_abnormal_lab_raises_a_declined_haematology_review_again():
    low = lab("platelets", 40, ago(3))
    first = run(patient(labs=(*pre_labs(ago(200)), low)))["hematology_review"]
    assert first.rule == "HEM-URGENT"
    history = _decided("HEM-URGENT", first.trigger)
    assert "hematology_review" not in run(patient(labs=(*pre_labs(ago(200)), low)), history=history)
    lower = lab("platelets", 30, ago(1))
    again = run(patient(labs=(*pre_labs(ago(200)), low, lower)), history=history)["hematology_review"]
    assert "new since then: a new platelets result of 2025-02-28" in again.reason


def test_panel_since_the_flag_completes_it_and_names_the_panel():
    snap = patient(labs=(*pre_labs(ago(200)), *panel(ago(1))))
    history = FlagHistory(open_flags={"clotting_studies": _open("CLOT-BASELINE", 5, "tier moderate")})
    specs, closures = decide(snap, result("moderate", 5), history, AS_OF)
    assert "clotting_studies" not in {s.kind for s in specs}
    (closure,) = closures
    assert closure.resolution == "completed"
    assert closure.note.startswith("Completed: a complete clotting panel was collected (PT 12.4 s on 2025-02-28")
    assert [r["test"] for r in closure.evidence["completed_by"]] == ["pt", "aptt", "fibrinogen", "platelets"]


def test_tier_falling_lapses_the_flag_and_it_is_not_a_panel():
    history = FlagHistory(open_flags={"clotting_studies": _open("CLOT-BASELINE", 5, "tier moderate")})
    _, (closure,) = decide(patient(), result("low", 2), history, AS_OF)
    assert closure.resolution == "lapsed" and closure.evidence == {}
    assert closure.note.startswith("Lapsed: rule CLOT-BASELINE no longer applies (the risk tier fell to low)")
    assert "does not count as done" in closure.note


def test_an_old_panel_does_not_complete_a_newer_flag():
    snap = patient(labs=(*pre_labs(ago(200)), *panel(ago(20))))
    history = FlagHistory(open_flags={"clotting_studies": _open("CLOT-EVENT", 5, "")})
    _, (closure,) = decide(snap, result("low", 2), history, AS_OF)
    assert closure.resolution == "lapsed"


def test_ruled_out_event_lapses_the_haematology_review():
    event = EventSnap(kind="dvt", status="ruled_out", diagnosed_on=day(3))
    history = FlagHistory(open_flags={"hematology_review": _open("HEM-URGENT", 3, "event dvt suspected 2025-02-26")})
    _, (closure,) = decide(patient(events=(event,)), result(), history, AS_OF)
    assert closure.resolution == "lapsed" and "ruled out" in closure.note


def test_doubtful_result_confirmed_completes_clot_verify():
    doubtful = lab("platelets", 1500, ago(2), doubtful=True)
    spec = run(patient(labs=(*pre_labs(ago(200)), doubtful)))["clotting_studies"]
    assert spec.rule == "CLOT-VERIFY"
    history = FlagHistory(open_flags={"clotting_studies": _open("CLOT-VERIFY", 1, spec.trigger)})
    confirmed = lab("platelets", 1500, ago(2))
    _, (closure,) = decide(patient(labs=(*pre_labs(ago(200)), confirmed)), result(), history, AS_OF)
    assert closure.resolution == "completed" and "confirmed or repeated (platelets 1500" in closure.note


def test_pre_ivig_stays_open_after_the_first_infusion_until_the_labs_are_there():
    first_course = (regimen(day(-10), interval=None, days=5),)
    given = patient(regimens=first_course, labs=())  # an infusion was given, no lab entered
    spec = run(given)["pre_ivig_labs"]
    assert spec.rule == "PRE-IVIG" and "already been given" in spec.reason
    history = FlagHistory(open_flags={"pre_ivig_labs": _open("PRE-IVIG", 30, spec.trigger)})
    with_labs = patient(regimens=first_course, labs=pre_labs(ago(1)))
    specs, (closure,) = decide(with_labs, result(), history, AS_OF)
    assert "pre_ivig_labs" not in {s.kind for s in specs}
    assert closure.resolution == "completed"
    assert closure.note.startswith(
        "Completed: the pre-IVIG labs are on file (platelets 250 x10^9/L on 2025-02-28, creatinine 0.8 mg/dL"
    )


def test_evaluate_and_decide_agree_on_the_specs():
    snap = patient(labs=())
    history = FlagHistory(open_flags={"data_quality": _open("WEIGHT-STALE", 3)})
    specs, _ = decide(snap, result("high", 8), history, AS_OF)
    assert specs == evaluate(snap, result("high", 8), history, AS_OF)
