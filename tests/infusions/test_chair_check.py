"""The chair check on an administered infusion (infusions.chair; risk/README.md): caps in mg/kg/min
and mL/h for the vignette patients (figures worked by hand below), hydration, labs due, urgent
flags and the risk at the infusion, in the API response and on the staff form; the nurse's
answers stored as `precautions`; RATE-ABOVE-CAP with and without a `rate_reason`."""

from __future__ import annotations

from datetime import timedelta

import pytest
import time_machine
from django.urls import reverse

from demo import vignettes
from infusions import services as infusion_services
from infusions.models import Infusion, Product
from risk.models import ReviewFlag
from risk.services.sweep import sweep_inline

pytestmark = [pytest.mark.django_db, pytest.mark.sqlite]
CLOCK = vignettes.VIGNETTE_CLOCK


@pytest.fixture
def frozen():
    with time_machine.travel(CLOCK, tick=False):
        yield CLOCK


def first_given(patient) -> Infusion:
    return patient.infusions.filter(status="administered").order_by("started_at").first()


def test_v01_chair_check_in_the_api(frozen, clinician_carol, carol_api):
    patient = vignettes.v01(clinician_carol, CLOCK, event=False)
    sweep_inline(full=True)
    infusion = first_given(patient)
    carol_api.force_authenticate(clinician_carol)
    check = carol_api.get(f"/api/v1/infusions/{infusion.public_id}/").json()["chair_check"]
    # Arthur, 96 kg (actual weight on the order), Gamunex-C 10% = 100 mg/mL, CIDP label 8 mg/kg/min.
    # At-risk: 3.3 x 96 x 60 / 100 = 190.08 -> 190.1 mL/h; label: 8 x 96 x 60 / 100 = 460.8 mL/h.
    assert check["dosing_weight_kg"] == 96.0 and check["concentration_percent"] == 10.0
    assert [(c["name"], c["mg_kg_min"], c["ml_h"]) for c in check["caps"]] == [
        ("at_risk", 3.3, 190.1),
        ("label", 8.0, 460.8),
    ]
    assert check["max_rate"]["name"] == "at_risk" and "at-risk cap:" in check["max_rate"]["why"]
    assert check["risk"]["tier"] == "high" and check["risk"]["at"] == "start"
    assert "hydration" in check["hydration"].lower()
    listed = carol_api.get("/api/v1/infusions/", {"patient": str(patient.public_id)}).json()["results"]
    assert all(row["chair_check"] is None for row in listed)  # lists stay constant-query


def test_v02_chair_check_figures(frozen, clinician_carol, carol_api):
    patient = vignettes.v02(clinician_carol, CLOCK, event=False)
    sweep_inline(full=True)
    check = carol_api.get(f"/api/v1/infusions/{first_given(patient).public_id}/").json()["chair_check"]
    # Beatrice, 70 kg, Privigen 10%: at-risk 3.3 x 70 x 60 / 100 = 138.6 mL/h; label 8 -> 336 mL/h.
    by_name = {c["name"]: c["ml_h"] for c in check["caps"]}
    assert by_name["label"] == 336.0
    if "at_risk" in by_name:
        assert by_name["at_risk"] == 138.6


def test_a_patient_sees_no_chair_check(pat_api, patient_pat):
    privigen = Product.objects.get(name="Privigen 10%")
    infusion = Infusion.objects.create(patient=patient_pat, product=privigen, started_at=CLOCK, dose_grams=30)
    assert pat_api.get(f"/api/v1/infusions/{infusion.public_id}/").json()["chair_check"] is None


@pytest.fixture
def at_risk_patient(frozen, clinician_carol):
    patient = vignettes.v01(clinician_carol, CLOCK, event=False)
    sweep_inline(full=True)
    return patient


def record(patient, actor, *, hours_ago: int = 2, **fields):
    product = Product.objects.get(name="Gamunex-C 10%")
    return infusion_services.infusion_record(
        actor=actor, patient=patient, product=product, started_at=CLOCK - timedelta(hours=hours_ago), dose_grams=38,
        **fields,
    )  # fmt: skip


def test_rate_above_the_at_risk_cap_without_a_reason_raises_rate_above_cap(at_risk_patient, nurse_nina):
    infusion = record(at_risk_patient, nurse_nina, max_rate_mg_kg_min=5)
    flag = ReviewFlag.objects.get(patient=at_risk_patient, kind="infusion_precaution", status="open")
    assert (flag.rule, flag.priority) == ("RATE-ABOVE-CAP", "routine")
    assert "5 mg/kg/min, above the 3.3 mg/kg/min at-risk cap" in flag.reason and "190.1 mL/h at 96 kg" in flag.reason
    # The reason recorded afterwards completes the flag.
    infusion_services.infusion_update(actor=nurse_nina, infusion=infusion, rate_reason="Tolerated 5 for 3 years")
    flag.refresh_from_db()
    assert (flag.status, flag.resolution) == ("resolved", "completed") and "Tolerated 5" in flag.note


def test_with_a_reason_or_within_the_cap_no_flag(at_risk_patient, nurse_nina):
    record(at_risk_patient, nurse_nina, max_rate_mg_kg_min=5, rate_reason="Haematology agreed 5 mg/kg/min")
    # 190 mL/h at 96 kg of 10% = 3.30 mg/kg/min (another day's infusion: the same minute would be a duplicate)
    record(at_risk_patient, nurse_nina, hours_ago=26, max_rate_ml_h=190)
    assert not ReviewFlag.objects.filter(patient=at_risk_patient, kind="infusion_precaution").exists()


def test_a_pump_rate_above_the_cap_counts_too_and_correcting_it_lapses_the_flag(at_risk_patient, nurse_nina):
    infusion = record(at_risk_patient, nurse_nina, max_rate_ml_h=300)  # 300 x 100 / (96 x 60) = 5.21
    flag = ReviewFlag.objects.get(patient=at_risk_patient, kind="infusion_precaution")
    assert "5.21 mg/kg/min" in flag.reason
    infusion_services.infusion_update(actor=nurse_nina, infusion=infusion, max_rate_ml_h=150)
    flag.refresh_from_db()
    assert (flag.status, flag.resolution) == ("resolved", "lapsed")


@pytest.mark.parametrize(
    "precautions",
    [{"hydration_given": "maybe"}, {"coffee": "yes"}, ["yes"], "yes"],
)
def test_bad_precautions_are_a_400_and_write_nothing(carol_api, patient_pat, precautions):
    privigen = Product.objects.get(name="Privigen 10%")
    before = Infusion.objects.count()
    body = {
        "patient": str(patient_pat.public_id), "product": str(privigen.public_id), "started_at": "2026-01-05T09:00:00Z",
        "dose_grams": 30, "precautions": precautions,
    }  # fmt: skip
    response = carol_api.post("/api/v1/infusions/", body, format="json")
    assert response.status_code == 400 and "precautions" in response.json()
    assert Infusion.objects.count() == before


def test_the_staff_form_shows_the_chair_check_and_stores_the_answers(at_risk_patient, carol_client, clinician_carol):
    carol_client.force_login(clinician_carol)
    infusion = first_given(at_risk_patient)
    url = reverse("staff:infusion_edit", args=[at_risk_patient.public_id, infusion.public_id])
    page = carol_client.get(url).content.decode()
    assert "Chair check" in page and "3.3 mg/kg/min = 190.1 mL/h" in page and "Risk at this infusion" in page
    form = {
        "regimen": str(infusion.regimen.pk) if infusion.regimen_id else "",
        "product": str(infusion.product.pk),
        "started_at": infusion.started_at.strftime("%Y-%m-%dT%H:%M"),
        "dose_grams": str(infusion.dose_grams),
        "status": "administered",
        "hydration_given": "unknown",
        "precaution_hydration_given": "yes",
        "precaution_rate_within_cap": "yes",
        "precaution_labs_current": "na",
    }
    response = carol_client.post(url, form)
    assert response.status_code == 302, response.content.decode()[:3000]
    infusion.refresh_from_db()
    assert infusion.precautions == {"hydration_given": "yes", "rate_within_cap": "yes", "labs_current": "na"}
