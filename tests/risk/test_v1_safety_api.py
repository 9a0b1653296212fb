"""The ITRS-v1 safety rules end to end, as a client would: records through the REST API, one
review sweep, then the flag's kind, rule, priority and reason read back (risk/README.md, Labs,
DIC, Renal, IgA). Clock frozen at 2025-03-01 09:00 UTC."""

from __future__ import annotations

from datetime import date

import pytest
import time_machine

from ivigtrack.audit.models import AuditEvent
from patients.models import LabResult, Patient
from tests.risk.test_vignettes_api import NOW, Clinic, at, sweep

pytestmark = pytest.mark.django_db


@pytest.fixture
def clinic(clinician_carol, nurse_nina, make_user):
    with time_machine.travel(NOW, tick=False):
        yield Clinic(clinician_carol, nurse_nina, make_user)


def flags_of(clinic, pid: str) -> dict:
    rows = clinic.carol.get("/api/v1/flags/", {"patient": pid, "page_size": 200}).json()["results"]
    return {f["kind"]: f for f in rows if f["status"] != "resolved"}


def lab(clinic, pid, test, value, when, status=201, **extra) -> dict:
    body = {"patient": pid, "test": test, "value": value, "collected_at": when, **extra}
    return clinic.post(clinic.nina, "labs", body, status)


def patient(clinic, mrn, **fields) -> str:
    base = {
        "date_of_birth": "1970-01-01",
        "sex": "female",
        "height_cm": 168,
        "weight_kg": 70,
        "weight_measured_on": "2025-02-25",
        "diagnosis": "cidp",
    }
    return clinic.register(mrn, **{**base, **fields})


def maintenance(clinic, pid, product="Privigen 10%", start="2024-09-17") -> str:
    return clinic.regimen(pid, product, dose_g_per_kg_per_day=1.0, interval_days=21, start_date=start)


def pre_labs(clinic, pid, when=None):
    when = when or at(date(2024, 9, 10))
    for test, value in (("platelets", 250), ("creatinine", 0.8), ("iga", 180)):
        lab(clinic, pid, test, value, when)


# --- labs: no blanket jump rule; unit-error signatures held -------------------------------------


def test_platelets_250_to_40_enter_the_rules_at_once_as_hem_urgent(clinic):
    pid = patient(clinic, "L01")
    maintenance(clinic, pid)
    pre_labs(clinic, pid)
    lab(clinic, pid, "platelets", 250, at(date(2025, 2, 26)))
    low = lab(clinic, pid, "platelets", 40, at(date(2025, 2, 28)))
    assert low["needs_verification"] is False  # v0 held this 6.25-fold fall back
    sweep()
    hem = flags_of(clinic, pid)["hematology_review"]
    assert (hem["rule"], hem["priority"]) == ("HEM-URGENT", "urgent")
    assert "changed from 250 on 2025-02-26 to 40" in hem["reason"]
    assert "fell 84% from the 14-day peak of 250" in hem["reason"]
    assert "clotting_studies" not in flags_of(clinic, pid)  # no CLOT-VERIFY


def test_a_d_dimer_doubling_is_held_as_an_feu_ddu_unit_error(clinic):
    pid = patient(clinic, "L02")
    lab(clinic, pid, "d_dimer", 1.0, at(date(2025, 2, 20)))
    held = lab(clinic, pid, "d_dimer", 2.1, at(date(2025, 2, 28)))  # x2.1: FEU vs DDU within 15%
    assert held["needs_verification"] is True and "unit mix-up (FEU vs DDU)" in held["verification_reason"]
    sweep()
    verify = flags_of(clinic, pid)["clotting_studies"]
    assert (verify["rule"], verify["priority"]) == ("CLOT-VERIFY", "routine")


def test_platelet_fall_from_the_14_day_peak_with_heparin_words(clinic):
    pid = patient(clinic, "L03")
    maintenance(clinic, pid)
    pre_labs(clinic, pid)
    clinic.post(
        clinic.carol,
        "medications",
        {
            "patient": pid,
            "category": "anticoagulant",
            "drug": "enoxaparin",
            "route": "subcutaneous",
            "intensity": "prophylactic",
            "dose_mg_per_day": 40,
            "start_date": "2025-02-15",
            "end_date": "2025-02-22",
        },
    )
    for day, value in ((18, 260), (23, 170), (28, 98)):
        lab(clinic, pid, "platelets", value, at(date(2025, 2, day)))
    sweep()
    hem = flags_of(clinic, pid)["hematology_review"]
    assert hem["rule"] == "HEM-URGENT"
    assert "fell 62% from the 14-day peak of 260" in hem["reason"]
    assert "possible heparin-induced thrombocytopenia: score the 4Ts and consider stopping heparin" in hem["reason"]


def test_itp_count_of_40_raises_no_hem_urgent(clinic):
    pid = patient(clinic, "L04", diagnosis="itp")
    maintenance(clinic, pid)
    pre_labs(clinic, pid)
    lab(clinic, pid, "platelets", 40, at(date(2025, 2, 28)))
    sweep()
    assert "hematology_review" not in flags_of(clinic, pid)


# --- reference limits and DIC ---------------------------------------------------------------------


def test_a_d_dimer_uln_in_ng_ml_is_converted_and_scores(clinic):
    pid = patient(clinic, "D01")
    clinic.post(
        clinic.carol, "conditions", {"patient": pid, "code": "acute_infection_or_sepsis", "onset_date": "2025-02-27"}
    )
    when = at(date(2025, 3, 1), 7)
    dd = lab(clinic, pid, "d_dimer", 2600, when, unit="ng/mL FEU", reference_high=500)
    assert dd["value"] == pytest.approx(2.6) and dd["reference_high"] == pytest.approx(0.5)
    lab(clinic, pid, "platelets", 40, when)  # 2; D-dimer 5.2 x ULN: 3 -> 5 without PT and fibrinogen
    sweep()
    risk = clinic.carol.get(f"/api/v1/patients/{pid}/").json()["risk"]
    assert risk["tier"] == "high"
    flags = flags_of(clinic, pid)
    assert (flags["clotting_studies"]["rule"], flags["clotting_studies"]["priority"]) == ("CLOT-DAILY", "urgent")
    assert "already total 5" in flags["clotting_studies"]["reason"]
    assert "ISTH overt-DIC items already total 5" in flags["hematology_review"]["reason"]


def test_non_overt_dic_asks_for_a_routine_repeat_within_48_hours(clinic):
    pid = patient(clinic, "D02")
    clinic.post(clinic.carol, "conditions", {"patient": pid, "code": "active_cancer", "onset_date": "2024-01-01"})
    when = at(date(2025, 3, 1), 7)
    for test, value in (("platelets", 80), ("d_dimer", 1.5), ("pt", 17.0), ("fibrinogen", 2.0)):  # 1+2+1+0
        lab(clinic, pid, test, value, when)
    sweep()
    daily = flags_of(clinic, pid)["clotting_studies"]
    assert (daily["rule"], daily["priority"]) == ("CLOT-DAILY", "routine")
    assert "score 4 (below 5" in daily["reason"] and "within 48 hours" in daily["reason"]
    assert daily["due_at"].startswith("2025-03-03T07:00")


@pytest.mark.parametrize(
    ("extra", "field"),
    [
        ({"reference_unit": "furlongs", "reference_high": 500}, "reference_unit"),
        ({"unit": "ng/mL FEU", "reference_high": 500, "reference_low": 600}, "reference_low"),
        ({"reference_low": -1}, "reference_low"),
    ],
)
def test_bad_reference_limits_are_a_400_naming_the_field_and_nothing_is_written(clinic, extra, field):
    pid = patient(clinic, "D03")
    response = clinic.nina.post(
        "/api/v1/labs/",
        {
            "patient": pid,
            "test": "d_dimer",
            "value": 2600 if "unit" in extra else 2.6,
            "collected_at": at(date(2025, 2, 28)),
            **extra,
        },
        format="json",
    )
    assert response.status_code == 400 and field in str(response.json()), response.json()
    assert not LabResult.objects.filter(patient__public_id=pid).exists()


# --- renal ----------------------------------------------------------------------------------------------


def test_creatinine_carries_its_egfr_in_the_api(clinic):
    pid = patient(clinic, "R01", date_of_birth="1975-03-01")  # 50 on 2025-03-01
    got = lab(clinic, pid, "creatinine", 1.0, at(date(2025, 3, 1), 7))
    assert got["egfr"]["value"] == 69 and "CKD-EPI 2021" in got["egfr"]["equation"]  # 68.6 by hand
    other = lab(clinic, pid, "platelets", 250, at(date(2025, 3, 1), 7))
    assert other["egfr"] is None


def test_renal_aki_after_an_infusion_is_urgent(clinic):
    pid = patient(clinic, "R02")
    maintenance(clinic, pid)
    pre_labs(clinic, pid)
    clinic.infusions(pid, "Privigen 10%", [date(2025, 2, 25)], 70)
    lab(clinic, pid, "creatinine", 0.9, at(date(2025, 2, 26)))
    lab(clinic, pid, "creatinine", 1.6, at(date(2025, 2, 28)))
    sweep()
    renal = flags_of(clinic, pid)["renal_check"]
    assert (renal["rule"], renal["priority"]) == ("RENAL-AKI", "urgent")
    assert "Creatinine rose 0.70 mg/dL in 48 h" in renal["reason"]


def test_renal_pre_course_and_its_advice_for_a_cryoglobulinaemic_patient(clinic):
    pid = patient(clinic, "R03")
    clinic.post(clinic.carol, "conditions", {"patient": pid, "code": "cryoglobulinemia", "onset_date": "2020-01-01"})
    maintenance(clinic, pid, "Gamunex-C 10%")
    pre_labs(clinic, pid)
    lab(clinic, pid, "creatinine", 1.6, at(date(2025, 1, 20)))  # eGFR 38: renal risk; > 30 days before 2025-03-04
    sweep()
    renal = flags_of(clinic, pid)["renal_check"]
    assert (renal["rule"], renal["priority"]) == ("RENAL-PRE-COURSE", "routine")
    assert "eGFR 38 (< 60)" in renal["reason"] and "2025-03-04" in renal["reason"]
    recs = {r["code"]: r for r in clinic.carol.get(f"/api/v1/patients/{pid}/risk/").json()["recommendations"]}
    assert recs["RENAL-RATE-CAP"]["ml_h"] == 336.0 and "below 8 mg/kg/min" in recs["RENAL-RATE-CAP"]["text"]
    assert "sucrose-free" in recs["RENAL-SUCROSE-FREE"]["text"]


def test_reduced_urine_output_is_an_urgent_symptom(clinic):
    pid = patient(clinic, "R04")
    report = clinic.post(clinic.nina, "symptom-reports", {"patient": pid, "symptoms": ["reduced_urine_output"]})
    assert report["triage"] == "urgent" and "kidneys" in report["advice"]
    alert = flags_of(clinic, pid)["symptom_alert"]
    assert (alert["rule"], alert["priority"]) == ("SYM-URGENT", "urgent")


# --- IgA --------------------------------------------------------------------------------------------------


def test_iga_low_names_the_low_iga_products(clinic):
    pid = patient(clinic, "I01")
    maintenance(clinic, pid)
    for test, value in (("platelets", 250), ("creatinine", 0.8), ("iga", 4)):
        lab(clinic, pid, test, value, at(date(2025, 2, 20)))
    sweep()
    pre = flags_of(clinic, pid)["pre_ivig_labs"]
    assert (pre["rule"], pre["priority"]) == ("IGA-LOW", "routine")
    assert "IgA 4 mg/dL" in pre["reason"] and "Privigen <= 25 ug/mL" in pre["reason"]


def _first_infusion(clinic, pid, **extra):
    body = {
        "patient": pid,
        "product": clinic.products["Privigen 10%"],
        "started_at": at(date(2025, 2, 28)),
        "dose_grams": 30,
        "status": "administered",
        **extra,
    }
    return clinic.nina.post("/api/v1/infusions/", body, format="json")


def test_a_first_infusion_without_iga_and_without_a_reason_is_a_400_and_nothing_is_written(clinic):
    pid = patient(clinic, "I02")
    response = _first_infusion(clinic, pid)
    assert response.status_code == 400 and "iga_override_reason" in response.json(), response.json()
    assert clinic.carol.get("/api/v1/infusions/", {"patient": pid}).json()["count"] == 0


def test_a_first_infusion_without_iga_is_stored_with_its_reason_and_audited(clinic):
    pid = patient(clinic, "I03")
    response = _first_infusion(clinic, pid, iga_override_reason="IgA sent, result awaited; GBS, cannot wait")
    assert response.status_code == 201, response.json()
    assert response.json()["iga_override_reason"].startswith("IgA sent")
    internal = Patient.objects.get(public_id=pid).pk
    audit = AuditEvent.objects.get(action="infusion.record", patient_id=internal)
    assert audit.detail["iga_override_reason"].startswith("IgA sent")
    # PRE-IVIG stays open and says the infusion was given without them
    sweep()
    pre = flags_of(clinic, pid)["pre_ivig_labs"]
    assert pre["rule"] == "PRE-IVIG" and "already been given" in pre["reason"]


def test_a_first_infusion_with_iga_on_file_needs_no_reason(clinic):
    pid = patient(clinic, "I04")
    lab(clinic, pid, "iga", 150, at(date(2025, 2, 20)))
    assert _first_infusion(clinic, pid).status_code == 201
