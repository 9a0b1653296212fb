"""ITRS-v0 overrides (a)-(e), and what never lowers the score (risk/README.md, Tiers)."""

from __future__ import annotations

import pytest

from itrs.engine import assess
from tests.itrs import builders as b
from tests.itrs.builders import TODAY, add, days_before
from tests.itrs.engine_helpers import BASE, override_codes, run

# --- overrides -----------------------------------------------------------------------------------


@pytest.mark.parametrize(("kind", "days", "fires"), [("pe", 90, True), ("pe", 91, False), ("mi", 10, True)])
def test_override_a_thrombosis_in_the_last_90_days(kind, days, fires):
    on_anticoagulant = b.med("anticoagulant", intensity="therapeutic")  # keeps (b) out of the way
    r = run(add(BASE, b.event(kind, diagnosed_on=days_before(days)), on_anticoagulant))
    assert ("a" in override_codes(r)) is fires
    assert r.tier == ("high" if fires else "low")


def test_override_a_needs_a_confirmed_event():
    r = run(add(BASE, b.event("pe", status="suspected", diagnosed_on=TODAY)))
    assert r.overrides == () and r.provisional


@pytest.mark.parametrize(
    ("anticoagulant", "fires"),
    [
        (None, True),
        (b.med("anticoagulant", intensity="therapeutic"), False),
        (b.med("anticoagulant", intensity="extended"), False),
        (b.med("anticoagulant", intensity="prophylactic"), True),
        (b.med("anticoagulant", intensity="therapeutic", end_date=days_before(1)), True),
    ],
)
def test_override_b_prior_vte_without_full_anticoagulation(anticoagulant, fires):
    snapshot = add(BASE, b.event("dvt", diagnosed_on=days_before(800)))
    if anticoagulant:
        snapshot = add(snapshot, anticoagulant)
    r = run(snapshot)
    assert ("b" in override_codes(r)) is fires
    assert r.tier == ("high" if fires else "low")  # score 3 (P2) either way
    assert r.score == 3


def test_override_c_only_for_high_risk_thrombophilia():
    assert override_codes(run(add(BASE, b.condition("thrombophilia_high_risk")))) == {"c"}
    assert run(add(BASE, b.condition("thrombophilia"))).tier == "low"


def test_override_d_active_cancer_with_a_central_line():
    cancer = add(BASE, b.condition("active_cancer"))
    assert "d" in override_codes(run(add(cancer, b.access("port"))))
    assert "d" not in override_codes(run(cancer))
    assert "d" not in override_codes(run(add(cancer, b.access("port", removed_on=days_before(1)))))


OVERT_DIC_LABS = (
    b.lab("platelets", 40),  # 2
    b.lab("d_dimer", 3.0),  # 6x ULN 0.5: 3
    b.lab("pt", 15.0),  # 1.5 s above 13.5: 0
    b.lab("fibrinogen", 2.0),  # 0
)


def test_override_e_overt_dic_with_an_associated_condition():
    r = run(add(BASE, b.condition("acute_infection_or_sepsis"), *OVERT_DIC_LABS))
    assert r.dic_score == 5 and "e" in override_codes(r) and r.tier == "high"


def test_override_e_not_applied_without_an_associated_condition():
    r = run(add(BASE, *OVERT_DIC_LABS))
    assert r.dic_score is None and r.overrides == ()


def test_override_e_with_the_dic_diagnosis():
    r = run(add(b.patient(diagnosis="dic"), *OVERT_DIC_LABS))
    assert r.dic_score == 5 and "e" in override_codes(r)


def test_override_e_when_the_known_items_already_reach_5():
    partial = OVERT_DIC_LABS[:2]  # platelets 2 + D-dimer 3, no PT or fibrinogen
    r = run(add(BASE, b.condition("active_cancer"), *partial))
    # ITRS-v1: the known items reaching 5 count as >= 5 everywhere (dic_score carries them,
    # marked at_least); v0 left dic_score None so the review rules saw no score.
    assert r.dic_score == 5 and r.dic["at_least"] and "e" in override_codes(r)
    assert r.dic["missing"] == ["pt", "fibrinogen"]


def test_override_e_ignores_labs_needing_verification():
    doubtful = tuple(b.lab(x.test, x.value, needs_verification=True) for x in OVERT_DIC_LABS)
    r = run(add(BASE, b.condition("acute_infection_or_sepsis"), *doubtful))
    assert r.dic_score is None and r.overrides == ()


def test_aspirin_and_prophylactic_anticoagulation_never_lower_the_score():
    snapshot, as_of = b.v07()
    plain = assess(snapshot, as_of)
    treated = assess(
        add(snapshot, b.med("antiplatelet"), b.med("anticoagulant", intensity="prophylactic")),
        as_of,
    )
    assert (treated.score, treated.tier, treated.factors) == (plain.score, plain.tier, plain.factors)
    assert any("does not lower the score" in n for n in treated.notes)
