"""Every vignette through the services and one sweep, with time frozen at the vignette clock.

Primary assertions are the clinical ones (tier, components, flags of the haematology and
clotting-study kinds); ITRS-v0 points are the secondary exact check (docs/vignette-cases.md).
"""

from __future__ import annotations

from datetime import timedelta

import pytest
import time_machine
from django.core.exceptions import ValidationError

from demo import vignettes
from infusions import services as infusion_services
from infusions.models import Product
from risk.models import ReviewFlag
from risk.services.assessment import assess_at
from risk.services.sweep import sweep_inline

pytestmark = [pytest.mark.django_db, pytest.mark.sqlite]
CLOCK = vignettes.VIGNETTE_CLOCK
REVIEW_KINDS = ("hematology_review", "clotting_studies")


@pytest.fixture
def frozen():
    with time_machine.travel(CLOCK, tick=False):
        yield CLOCK


def flags(patient) -> set[tuple[str, str]]:
    return {
        (f.kind, f.rule)
        for f in ReviewFlag.objects.filter(patient=patient, kind__in=REVIEW_KINDS).exclude(status="resolved")
    }


def current(patient):
    return patient.assessments.get(is_current=True)


def test_v01_pre_event_high_and_post_event_flags(frozen, clinician_carol):
    patient = vignettes.v01(clinician_carol, CLOCK, event=True)
    # Pre-event: the assessment an app would have made on day 8 (after the course, before the clot).
    pre = assess_at(patient, CLOCK - timedelta(days=3))
    assert (pre.score, pre.tier, pre.provisional) == (11, "high", False)
    assert pre.components["vessel_injury"] == 0
    assert pre.components["stasis"] == 3
    assert {f.code for f in pre.factors if f.points} >= {"P1", "P9", "P10", "S1", "S2", "T1", "T2", "T3", "T4"}
    assert any(r["code"] == "ABW" for r in pre.recommendations)
    sweep_inline(full=True)
    post = current(patient)
    assert post.tier == "high"
    assert any(o["code"] == "a" for o in post.overrides)
    assert flags(patient) == {("hematology_review", "HEM-URGENT"), ("clotting_studies", "CLOT-EVENT")}


def test_v01_panel_after_event_clears_clot_event(frozen, clinician_carol):
    patient = vignettes.v01(clinician_carol, CLOCK, event=True, labs=True)
    sweep_inline(full=True)
    assert flags(patient) == {("hematology_review", "HEM-URGENT")}


def test_v02_catheter_case(frozen, clinician_carol):
    patient = vignettes.v02(clinician_carol, CLOCK, event=True)
    pre = assess_at(patient, CLOCK - timedelta(days=1))
    assert (pre.score, pre.tier) == (6, "moderate")
    assert pre.components["vessel_injury"] == 2
    sweep_inline(full=True)
    assert current(patient).tier == "high"
    assert flags(patient) == {("hematology_review", "HEM-URGENT"), ("clotting_studies", "CLOT-EVENT")}


@pytest.mark.parametrize(
    ("builder", "score", "tier", "provisional", "expected_flags"),
    [
        (vignettes.v04, 0, "low", False, set()),
        (vignettes.v07, 5, "moderate", False, {("clotting_studies", "CLOT-BASELINE")}),
        (vignettes.v10, 6, "moderate", False, {("clotting_studies", "CLOT-BASELINE")}),
        (vignettes.v12, 2, "low", True, set()),
        (vignettes.v15, 0, "low", False, set()),
        (vignettes.v16, 1, "low", False, {("clotting_studies", "CLOT-EVENT")}),
    ],
    ids=["V04", "V07", "V10", "V12", "V15", "V16"],
)
def test_vignettes(frozen, clinician_carol, builder, score, tier, provisional, expected_flags):
    patient = builder(clinician_carol, CLOCK)
    sweep_inline(full=True)
    assessment = current(patient)
    assert (assessment.score, assessment.tier, assessment.provisional) == (score, tier, provisional)
    assert flags(patient) == expected_flags


def test_v12_missing_weight_is_named_and_flagged(frozen, clinician_carol):
    patient = vignettes.v12(clinician_carol, CLOCK)
    sweep_inline(full=True)
    assessment = current(patient)
    assert any("weight" in item for item in assessment.missing)
    assert ReviewFlag.objects.filter(patient=patient, kind="data_quality", rule="WEIGHT-MISSING").exists()


def test_v15_future_administered_infusion_is_rejected(frozen, clinician_carol, nurse_nina):
    patient = vignettes.v15(clinician_carol, CLOCK)
    gamunex = Product.objects.get(name="Gamunex-C 10%")
    with pytest.raises(ValidationError) as err:
        infusion_services.infusion_record(
            actor=patient.user or clinician_carol,
            patient=patient,
            product=gamunex,
            dose_grams="32.5",
            started_at=CLOCK + timedelta(days=10, hours=1),
            status="administered",
            source="patient",
        )
    assert "started_at" in err.value.message_dict
    accepted = infusion_services.infusion_record(
        actor=nurse_nina,
        patient=patient,
        product=gamunex,
        dose_grams="32.5",
        started_at=CLOCK + timedelta(minutes=3),
        status="administered",
    )
    assert accepted.pk
    sweep_inline(full=True)
    assert (current(patient).score, current(patient).tier) == (0, "low")
    assert flags(patient) == set()


def test_v16_symptom_alert_raised_at_once(frozen, clinician_carol):
    patient = vignettes.v16(clinician_carol, CLOCK)
    # Raised by the report itself, before any sweep.
    alert = ReviewFlag.objects.get(patient=patient, kind="symptom_alert")
    assert (alert.rule, alert.priority) == ("SYM-URGENT", "urgent")


def test_v16_confirmed_dvt_raises_tier_and_haematology(frozen, clinician_carol):
    from patients import services as patient_services

    patient = vignettes.v16(clinician_carol, CLOCK)
    patient_services.thrombosis_event_record(
        actor=clinician_carol, patient=patient, kind="dvt", status="confirmed", diagnosed_on=CLOCK.date()
    )
    sweep_inline(full=True)
    assert current(patient).tier == "high"
    assert ("hematology_review", "HEM-URGENT") in flags(patient)


def test_v10_sensitivity_steroid_started_100_days_ago(frozen, clinician_carol):
    patient = vignettes.v10(clinician_carol, CLOCK, steroid_days=100)
    result = assess_at(patient, CLOCK)
    assert result.score == 5 and next(f for f in result.factors if f.code == "P8").points == 1
