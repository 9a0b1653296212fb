"""The drug dictionary and medication courses through the API, as a client uses them."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from django.utils import timezone

from infusions.models import Drug, MedicationCourse
from ivigtrack.audit.models import AuditEvent
from risk.models import ReviewFlag
from risk.services.assessment import patient_assess


def test_drug_search_by_name_brand_and_category(carol_api, django_assert_max_num_queries):
    with django_assert_max_num_queries(4):  # constant: auth, count, page (no query per drug)
        found = carol_api.get("/api/v1/drugs/", {"q": "eliq"}).json()
    assert [d["name"] for d in found["results"]] == ["apixaban"]
    assert found["results"][0]["atc_code"] == "B01AF02" and found["results"][0]["drug_class"] == "doac"
    with django_assert_max_num_queries(4):
        steroids = carol_api.get("/api/v1/drugs/", {"category": "steroid", "page_size": 100}).json()
    by_name = {d["name"]: d for d in steroids["results"]}
    assert {
        "prednisolone",
        "methylprednisolone",
        "dexamethasone",
        "hydrocortisone",
        "betamethasone",
        "budesonide",
    } <= set(by_name)
    assert float(by_name["methylprednisolone"]["prednisolone_factor"]) == 1.25  # 4 mg = 5 mg prednisolone
    assert float(by_name["hydrocortisone"]["prednisolone_factor"]) == 0.25
    assert carol_api.get("/api/v1/drugs/", {"category": "nonsense"}).status_code == 400


def test_the_seeded_dictionary_has_every_listed_drug_with_an_atc_code(db):
    names = set(Drug.objects.values_list("name", flat=True))
    for name in (
        "apixaban rivaroxaban edoxaban dabigatran warfarin acenocoumarol phenprocoumon enoxaparin dalteparin "
        "tinzaparin fondaparinux aspirin clopidogrel prasugrel ticagrelor prednisolone prednisone "
        "methylprednisolone dexamethasone hydrocortisone betamethasone budesonide tamoxifen raloxifene "
        "thalidomide lenalidomide pomalidomide furosemide bumetanide torasemide hydrochlorothiazide "
        "indapamide spironolactone ethinylestradiol"
    ).split():
        assert name in names, name
    assert "unfractionated heparin" in names
    classes = set(Drug.objects.values_list("drug_class", flat=True))
    assert {
        "combined_hormonal_contraceptive",
        "oral_hrt",
        "transdermal_hrt",
        "vaginal_estrogen",
        "progestogen_only",
        "serm",
        "imid",
        "lmwh",
        "ufh",
        "vka",
        "doac",
    } <= classes
    assert not Drug.objects.filter(atc_code="").exists()


def _course(patient, **fields):
    return {
        "patient": str(patient.public_id),
        "start_date": str(timezone.localdate() - timedelta(days=30)),
        "route": "oral",
        **fields,
    }


def test_unknown_drug_is_a_400_with_suggestions_and_nothing_written(carol_api, patient_pat):
    before = AuditEvent.objects.count()
    response = carol_api.post(
        "/api/v1/medications/",
        _course(patient_pat, category="anticoagulant", drug="bananas", intensity="therapeutic"),
        format="json",
    )
    assert response.status_code == 400
    assert "Unknown drug" in response.json()["drug"][0]
    near = carol_api.post(
        "/api/v1/medications/", _course(patient_pat, drug="apixabn", intensity="therapeutic"), format="json"
    )
    assert near.status_code == 400 and "Did you mean: apixaban" in near.json()["drug"][0]
    assert MedicationCourse.objects.count() == 0 and AuditEvent.objects.count() == before


def test_bananas_as_anticoagulant_no_longer_lifts_override_b(carol_api, patient_pat, clinician_carol):
    from patients import services as patient_services

    patient_services.thrombosis_event_record(
        actor=clinician_carol,
        patient=patient_pat,
        kind="dvt",
        status="confirmed",
        diagnosed_on=timezone.localdate() - timedelta(days=400),
        provocation="unprovoked",
    )
    free = carol_api.post(
        "/api/v1/medications/",
        _course(patient_pat, category="other", drug="bananas", intensity="therapeutic"),
        format="json",
    )
    assert free.status_code == 400 and "intensity" in free.json()  # intensity is for anticoagulants
    free = carol_api.post("/api/v1/medications/", _course(patient_pat, category="other", drug="bananas"), format="json")
    assert free.status_code == 201, free.json()
    body = free.json()
    assert body["category"] == "other" and body["drug_id"] is None and body["scored"] is False
    assert "needs coding" in body["scored_because"]
    assessment = patient_assess(patient_pat)
    assert assessment.tier == "high" and "b" in {o["code"] for o in assessment.overrides}
    flag = ReviewFlag.objects.get(patient=patient_pat, kind="data_quality", status="open")
    assert flag.rule == "MED-UNCODED" and "bananas" in flag.reason


@pytest.mark.parametrize("dose", [{"dose_mg_per_day": 0.035}, {"dose": 35, "dose_unit": "microgram"}, {"dose": 35}])
def test_ethinylestradiol_35_micrograms_is_stored_and_scored(carol_api, patient_pat, dose):
    response = carol_api.post("/api/v1/medications/", _course(patient_pat, drug="Microgynon", **dose), format="json")
    assert response.status_code == 201, response.json()
    course = MedicationCourse.objects.get()
    assert course.drug.name == "ethinylestradiol" and course.category == "estrogen"
    assert float(course.dose_mg_per_day) == pytest.approx(0.035)
    body = response.json()
    assert body["dose_mg_per_day"] == pytest.approx(0.035) and body["drug_class"] == "combined_hormonal_contraceptive"
    assert body["scored"] is True
    assessment = patient_assess(patient_pat)
    assert {f["code"]: f["points"] for f in assessment.factors}.get("P7") == 2
    assert assessment.ruleset == "ITRS-v1"


def test_vaginal_estradiol_is_recorded_not_scored(carol_api, patient_pat):
    response = carol_api.post(
        "/api/v1/medications/", _course(patient_pat, drug="Vagifem", route="vaginal", dose=10), format="json"
    )
    assert response.status_code == 201, response.json()
    assert response.json()["scored"] is False and "vaginal" in response.json()["scored_because"]
    assessment = patient_assess(patient_pat)
    assert "P7" not in {f["code"] for f in assessment.factors}
    assert any("Recorded, not scored (P7): estradiol (vaginal)" in n for n in assessment.notes)


def test_inhaled_steroid_scores_nothing_and_oral_shows_its_prednisolone_equivalent(carol_api, patient_pat):
    inhaled = carol_api.post(
        "/api/v1/medications/", _course(patient_pat, drug="Pulmicort", route="inhaled", dose=0.4), format="json"
    )
    assert inhaled.status_code == 201 and inhaled.json()["scored"] is False
    assert "P8" not in {f["code"] for f in patient_assess(patient_pat).factors}
    oral = carol_api.post("/api/v1/medications/", _course(patient_pat, drug="dexamethasone", dose=6), format="json")
    assert oral.status_code == 201 and oral.json()["prednisolone_eq_mg_per_day"] == pytest.approx(40.0)
    p8 = next(f for f in patient_assess(patient_pat).factors if f["code"] == "P8")
    assert "= 40 mg/day prednisolone equivalent" in p8["evidence"]


def test_route_is_required_and_category_follows_from_the_drug(carol_api, patient_pat):
    body = _course(patient_pat, drug="furosemide")
    del body["route"]
    assert "route" in carol_api.post("/api/v1/medications/", body, format="json").json()
    wrong = carol_api.post(
        "/api/v1/medications/", _course(patient_pat, drug="furosemide", category="steroid"), format="json"
    )
    assert wrong.status_code == 400 and "diuretic" in wrong.json()["category"][0]
    assert MedicationCourse.objects.count() == 0


def test_apixaban_for_atrial_fibrillation_gets_no_vte_review(carol_api, patient_pat):
    start = str(timezone.localdate() - timedelta(days=120))
    af = carol_api.post(
        "/api/v1/medications/",
        _course(
            patient_pat, drug="Eliquis", intensity="therapeutic", indication="atrial_fibrillation", start_date=start
        ),
        format="json",
    )
    assert af.status_code == 201, af.json()
    assert af.json()["indication"] == "atrial_fibrillation"
    patient_assess(patient_pat)
    assert not ReviewFlag.objects.filter(patient=patient_pat, kind="hematology_review").exists()
    vte = carol_api.post(
        "/api/v1/medications/",
        _course(patient_pat, drug="rivaroxaban", intensity="therapeutic", start_date=start),
        format="json",
    )
    assert vte.json()["indication"] == "vte_treatment"  # the default
    patient_assess(patient_pat)
    flag = ReviewFlag.objects.get(patient=patient_pat, kind="hematology_review")
    assert flag.rule == "HEM-ROUTINE" and "rivaroxaban" in flag.reason and "apixaban" not in flag.reason


def test_medication_list_queries_are_constant(carol_api, patient_pat, django_assert_max_num_queries):
    for name in ("furosemide", "aspirin", "Microgynon", "prednisolone", "warfarin"):
        extra = {"intensity": "therapeutic"} if name == "warfarin" else {}
        assert (
            carol_api.post("/api/v1/medications/", _course(patient_pat, drug=name, **extra), format="json").status_code
            == 201
        )
    with django_assert_max_num_queries(6):
        listed = carol_api.get("/api/v1/medications/").json()
    assert listed["count"] == 5 and all("scored_because" in m for m in listed["results"])


def test_a_kawasaki_childs_record_is_accepted(carol_api):
    born = str(date(timezone.localdate().year - 3, 1, 1))
    response = carol_api.post(
        "/api/v1/patients/",
        {
            "mrn": "KD-1",
            "given_name": "Kim",
            "family_name": "Child",
            "date_of_birth": born,
            "sex": "male",
            "diagnosis": "kawasaki",
            "height_cm": 95,
            "weight_kg": 15,
        },
        format="json",
    )
    assert response.status_code == 201, response.json()
    adult = carol_api.post(
        "/api/v1/patients/",
        {
            "mrn": "AD-1",
            "given_name": "Al",
            "family_name": "Adult",
            "date_of_birth": "1970-01-01",
            "sex": "male",
            "diagnosis": "cidp",
            "height_cm": 95,
            "weight_kg": 15,
        },
        format="json",
    )
    assert adult.status_code == 400 and "height_cm" in adult.json()
    light = carol_api.post(
        "/api/v1/patients/",
        {
            "mrn": "AD-2",
            "given_name": "Al",
            "family_name": "Adult",
            "date_of_birth": "1970-01-01",
            "sex": "male",
            "diagnosis": "cidp",
            "height_cm": 170,
            "weight_kg": 15,
        },
        format="json",
    )
    assert light.status_code == 400 and "for an adult" in light.json()["weight_kg"][0]
