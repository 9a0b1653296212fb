"""Staff see only the patients of their sites: another site's patient is absent everywhere (a 404
like a patient that does not exist, a 400 when a body names it), superusers see all; moving a
patient is a clinician's audited write; ``sites/``, ``?site=`` and ``?mine=1``."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse

from ivigtrack.accounts.models import Site
from ivigtrack.audit.models import AuditEvent
from patients import services as patient_services
from patients.selectors import at_site, patient_scope
from risk.models import ReviewFlag
from tests import factories

pytestmark = pytest.mark.django_db

RECORDS = [
    "patients",
    "conditions",
    "vascular-access",
    "thrombosis-events",
    "labs",
    "symptom-reports",
    "regimens",
    "infusions",
    "medications",
    "assessments",
    "flags",
]


def test_the_default_site_comes_from_settings_and_holds_existing_staff(settings, main_site, clinician_carol):
    assert main_site.code == settings.IVIGTRACK_DEFAULT_SITE_CODE
    assert main_site.name == settings.IVIGTRACK_DEFAULT_SITE_NAME
    assert main_site.time_zone == settings.IVIGTRACK_TIME_ZONE
    assert list(clinician_carol.sites.all()) == [main_site]


def test_the_site_migration_puts_existing_rows_in_the_default_site():
    """The data steps themselves, on rows that exist before them (as an upgraded clinic has)."""
    import importlib

    from django.apps import apps

    accounts = importlib.import_module("ivigtrack.accounts.migrations.0002_sites")
    Site.objects.all().delete()
    user = apps.get_model("accounts", "User").objects.create(username="old-nurse", role="nurse")
    apps.get_model("accounts", "User").objects.create(username="old-patient", role="patient")
    accounts.default_site(apps, None)
    site = Site.objects.get()
    assert list(site.staff.values_list("username", flat=True)) == [user.username]


@pytest.mark.parametrize("name", RECORDS)
def test_another_sites_record_is_404_and_not_listed(name, nina_api, fred_records, nurse_fay):
    target = fred_records[name]
    assert nina_api.get(f"/api/v1/{name}/{target.public_id}/").status_code == 404
    assert str(target.public_id) not in {row["id"] for row in nina_api.get(f"/api/v1/{name}/").json()["results"]}
    fay_api = factories.token_client(nurse_fay)
    assert fay_api.get(f"/api/v1/{name}/{target.public_id}/").status_code == 200


@pytest.mark.parametrize("name", [n for n in RECORDS if n != "patients"])
def test_filtering_by_another_sites_patient_is_404(name, nina_api, patient_fred):
    assert nina_api.get(f"/api/v1/{name}/", {"patient": str(patient_fred.public_id)}).status_code == 404


def test_a_body_naming_another_sites_patient_is_refused_like_a_missing_one(carol_api, patient_fred):
    body = {"patient": str(patient_fred.public_id), "test": "platelets", "value": 200,
            "collected_at": "2024-06-01T10:00:00Z"}  # fmt: skip
    response = carol_api.post("/api/v1/labs/", body, format="json")
    missing = carol_api.post("/api/v1/labs/", {**body, "patient": "6f1c3f5e-0000-4000-8000-000000000000"},
                             format="json")  # fmt: skip
    assert response.status_code == missing.status_code == 400
    assert response.json() == missing.json()
    assert not patient_fred.labs.exists()


def test_pages_fhir_and_charts_of_another_site_are_404(carol_client, carol_api, patient_fred):
    pid = patient_fred.public_id
    for url in (
        reverse("staff:patient_detail", args=[pid]),
        reverse("staff:patient_edit", args=[pid]),
        reverse("staff:lab_add", args=[pid]),
        reverse("staff:patient_chart", args=[pid, "timeline"]),
    ):
        assert carol_client.get(url).status_code == 404, url
    assert carol_api.get(f"/fhir/Patient/{pid}").status_code == 404
    assert carol_api.get("/fhir/Observation", {"patient": str(pid)}).status_code == 404


def test_search_lists_and_counts_only_my_sites(carol_client, patient_pat, patient_fred):
    factories.make_urgent_flag(patient_pat)
    factories.make_urgent_flag(patient_fred)
    factories.make_flag(patient_fred, kind="data_quality", rule="WEIGHT-STALE", priority="emergency")
    page = carol_client.get(reverse("staff:patient_list"), {"q": "Fred"}).content.decode()
    assert "MRN-FRED" not in page
    worklist = carol_client.get(reverse("staff:worklist"))
    html = worklist.content.decode()
    assert "MRN-FRED" not in html and "MRN-PAT" in html
    from risk.selectors import open_flag_counts

    assert open_flag_counts(worklist.wsgi_request.user) == {"emergency": 0, "urgent": 1, "routine": 0}


def test_superusers_see_every_site(admin_api, patient_pat, patient_fred):
    ids = {row["id"] for row in admin_api.get("/api/v1/patients/").json()["results"]}
    assert {str(patient_pat.public_id), str(patient_fred.public_id)} <= ids


def test_staff_in_no_site_see_no_patient(make_user, patient_pat):
    lost = make_user("lost", "nurse", sites=[])
    assert not patient_scope(lost).exists()
    assert factories.token_client(lost).get("/api/v1/patients/").json()["count"] == 0


def test_sites_endpoint_lists_my_sites_only(nina_api, nurse_fay, admin_api, main_site, far_site, pat_api):
    assert [row["code"] for row in nina_api.get("/api/v1/sites/").json()["results"]] == [main_site.code]
    assert nina_api.get(f"/api/v1/sites/{far_site.public_id}/").status_code == 404
    fay = factories.token_client(nurse_fay).get("/api/v1/sites/").json()["results"]
    assert fay == [{"id": str(far_site.public_id), "name": "Far clinic", "code": "FAR", "time_zone": "Australia/Sydney",
                    "date_format": "dmy", "phone": "+61 2 5550 1234", "emergency_number": "000"}]  # fmt: skip
    assert {row["code"] for row in admin_api.get("/api/v1/sites/").json()["results"]} == {"MAIN", "FAR"}
    assert pat_api.get("/api/v1/sites/").status_code == 403


def test_patients_carry_site_and_care_team_and_filter_by_them(
    admin_api, carol_api, clinician_carol, nurse_nina, patient_pat, patient_quinn, patient_fred, main_site, far_site
):
    patient_services.patient_update(actor=clinician_carol, patient=patient_pat, care_team=[nurse_nina])
    row = carol_api.get(f"/api/v1/patients/{patient_pat.public_id}/").json()
    assert row["site"] == str(main_site.public_id) and row["care_team"] == ["nina"]
    nina_api = factories.token_client(nurse_nina)
    mine = nina_api.get("/api/v1/patients/", {"mine": "1"}).json()["results"]
    assert [r["mrn"] for r in mine] == ["MRN-PAT"]
    assert nina_api.get("/api/v1/patients/", {"mine": "0"}).json()["count"] == 2
    by_code = admin_api.get("/api/v1/patients/", {"site": "far"}).json()["results"]
    by_id = admin_api.get("/api/v1/patients/", {"site": str(far_site.public_id)}).json()["results"]
    assert [r["mrn"] for r in by_code] == [r["mrn"] for r in by_id] == ["MRN-FRED"]
    # a site filter never widens the scope
    assert carol_api.get("/api/v1/patients/", {"site": "FAR"}).json()["count"] == 0
    assert list(at_site(patient_scope(clinician_carol), "MAIN").order_by("mrn").values_list("mrn", flat=True)) == [
        "MRN-PAT", "MRN-QUINN"]  # fmt: skip


def test_the_care_team_must_be_staff_of_the_patients_site(carol_api, patient_pat, nurse_fay, make_user):
    response = carol_api.patch(f"/api/v1/patients/{patient_pat.public_id}/", {"care_team": ["fay"]}, format="json")
    assert response.status_code == 400 and "care_team" in response.json()
    with pytest.raises(ValidationError):
        patient_services.patient_update(actor=nurse_fay, patient=patient_pat, care_team=[nurse_fay])


def test_a_clinician_moves_a_patient_and_it_is_audited(
    make_user, main_site, far_site, patient_pat, nurse_nina, nurse_fay
):
    both = make_user("bo", "clinician", sites=[main_site, far_site])
    flag = factories.make_urgent_flag(patient_pat)
    api = factories.token_client(both)
    response = api.patch(f"/api/v1/patients/{patient_pat.public_id}/", {"site": "FAR"}, format="json")
    assert response.status_code == 200, response.json()
    assert response.json()["site"] == str(far_site.public_id)
    assert ReviewFlag.objects.get(pk=flag.pk).site_id == far_site.pk  # the flags moved with the patient
    event = AuditEvent.objects.get(action="patient.move_site")
    assert (event.actor, event.patient_id, event.detail) == (both, patient_pat.pk, {"from": "MAIN", "to": "FAR"})
    assert factories.token_client(nurse_nina).get(f"/api/v1/patients/{patient_pat.public_id}/").status_code == 404
    assert factories.token_client(nurse_fay).get(f"/api/v1/flags/{flag.public_id}/").status_code == 200


def test_moving_needs_a_clinician_of_both_sites(carol_api, nina_api, patient_pat, far_site):
    assert nina_api.patch(f"/api/v1/patients/{patient_pat.public_id}/", {"site": "FAR"},
                          format="json").status_code == 403  # fmt: skip
    response = carol_api.patch(f"/api/v1/patients/{patient_pat.public_id}/", {"site": "FAR"}, format="json")
    assert response.status_code == 400 and "site" in response.json()
    patient_pat.refresh_from_db()
    assert patient_pat.site.code == "MAIN"


def test_a_clinician_of_several_sites_names_the_site_of_a_new_patient(make_user, main_site, far_site):
    both = make_user("bo", "clinician", sites=[main_site, far_site])
    api = factories.token_client(both)
    body = {"mrn": "NEW-1", "given_name": "N", "family_name": "Ew", "date_of_birth": "1970-01-01", "sex": "female",
            "diagnosis": "cidp"}  # fmt: skip
    refused = api.post("/api/v1/patients/", body, format="json")
    assert refused.status_code == 400 and "site" in refused.json()
    created = api.post("/api/v1/patients/", {**body, "site": "FAR"}, format="json")
    assert created.status_code == 201 and created.json()["site"] == str(far_site.public_id)


def test_site_fields_are_validated(far_site):
    far_site.time_zone = "Mars/Olympus"
    far_site.alert_emails = "ok@clinic.test, not-an-address"
    with pytest.raises(ValidationError) as caught:
        far_site.full_clean()
    assert set(caught.value.message_dict) == {"time_zone", "alert_emails"}


def test_a_new_flag_carries_its_patients_site(patient_fred, far_site):
    from risk.services.assessment import patient_assess

    patient_services.lab_record(actor=None, patient=patient_fred, test="platelets", value=20,
                                collected_at=datetime.now(UTC))  # fmt: skip
    patient_assess(patient_fred)
    flags = ReviewFlag.objects.filter(patient=patient_fred)
    assert flags.exists() and set(flags.values_list("site_id", flat=True)) == {far_site.pk}
