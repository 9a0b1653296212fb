"""Every staff read and write of a patient record leaves exactly one AuditEvent with the actor and
the patient (lists and searches: the patients they showed). One test per kind of read or write."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from ivigtrack.audit.models import AuditEvent, AuditEventPatient
from tests import factories

pytestmark = pytest.mark.django_db


@pytest.fixture
def fresh(db):
    """Forget the rows the fixtures' own writes made; return a function giving the new ones."""

    def new_events():
        return list(AuditEvent.objects.filter(pk__gt=start).order_by("id"))

    start = AuditEvent.objects.order_by("-id").values_list("id", flat=True).first() or 0

    class Rows:
        def reset(self):
            nonlocal start
            start = AuditEvent.objects.order_by("-id").values_list("id", flat=True).first() or 0

        __call__ = staticmethod(new_events)

    return Rows()


def one(events, action):
    matching = [e for e in events if e.action == action]
    assert len(matching) == 1, [(e.action, e.detail) for e in events]
    return matching[0]


def shown(event) -> set[int]:
    return set(AuditEventPatient.objects.filter(event=event).values_list("patient_id", flat=True))


# --- pages


@pytest.mark.parametrize(
    "path",
    ["edit/", "conditions/new/", "labs/new/", "regimens/new/", "infusions/new/", "medications/new/", "weights/new/"],
)
def test_a_record_form_on_get_is_a_read(carol_client, clinician_carol, patient_pat, fresh, path):
    fresh.reset()
    assert carol_client.get(f"/staff/patients/{patient_pat.public_id}/{path}").status_code == 200
    event = one(fresh(), "patient.view")
    assert (event.actor, event.patient_id) == (clinician_carol, patient_pat.pk)
    assert len(fresh()) == 1


@pytest.mark.parametrize("kind", ["timeline", "score"])
def test_both_charts_are_reads(carol_client, clinician_carol, patient_pat, fresh, kind):
    fresh.reset()
    assert carol_client.get(f"/staff/patients/{patient_pat.public_id}/chart/{kind}.svg").status_code == 200
    event = one(fresh(), "patient.view")
    assert (event.actor, event.patient_id, event.detail["chart"]) == (clinician_carol, patient_pat.pk, kind)
    assert len(fresh()) == 1


def test_the_patient_list_records_the_patients_it_showed(
    carol_client, clinician_carol, patient_pat, patient_quinn, fresh
):
    fresh.reset()
    assert carol_client.get("/staff/patients/").status_code == 200
    event = one(fresh(), "patient.list")
    assert event.actor == clinician_carol
    assert shown(event) == {patient_pat.pk, patient_quinn.pk}
    assert event.detail["patients_shown"] == 2
    assert len(fresh()) == 1


def test_a_search_records_the_patient_it_found(carol_client, clinician_carol, patient_pat, patient_quinn, fresh):
    fresh.reset()
    assert carol_client.get("/staff/patients/?q=MRN-PAT").status_code == 200
    event = one(fresh(), "patient.search")
    assert (event.actor, event.patient_id) == (clinician_carol, patient_pat.pk)
    assert shown(event) == {patient_pat.pk}
    assert event.detail["query"]["q"] == "MRN-PAT"


def test_the_worklist_and_its_refresh_record_the_patients_shown(carol_client, clinician_carol, patient_pat, fresh):
    factories.make_flag(patient_pat)
    fresh.reset()
    assert carol_client.get("/staff/").status_code == 200
    event = one(fresh(), "worklist.view")
    assert event.actor == clinician_carol and shown(event) == {patient_pat.pk}
    fresh.reset()
    assert carol_client.get("/staff/", HTTP_HX_REQUEST="true").status_code == 200
    assert one(fresh(), "worklist.view").detail["refresh"] is True


def test_the_sweeps_page_is_a_read(carol_client, clinician_carol, fresh):
    fresh.reset()
    assert carol_client.get("/staff/sweeps/").status_code == 200
    assert one(fresh(), "sweep.view").actor == clinician_carol


def test_the_manual_sweep_trigger_is_audited(carol_client, clinician_carol, patient_pat, fresh):
    fresh.reset()
    assert carol_client.post("/staff/sweeps/run/").status_code == 302
    event = one(fresh(), "sweep.run")
    assert event.actor == clinician_carol and event.detail["trigger"] == "manual"


# --- assess now


def test_assess_now_on_the_page_is_audited_and_its_flag_changes_carry_the_actor(
    carol_client, clinician_carol, patient_pat, fresh
):
    factories.make_flag(patient_pat)  # a flag pat's record no longer calls for: the assessment closes it
    fresh.reset()
    assert carol_client.post(f"/staff/patients/{patient_pat.public_id}/assess/").status_code == 302
    events = fresh()
    event = one(events, "patient.assess")
    assert (event.actor, event.patient_id) == (clinician_carol, patient_pat.pk)
    flag_rows = [e for e in events if e.action.startswith("flag.")]
    assert [e.action for e in flag_rows] == ["flag.resolve"]
    assert all(e.actor == clinician_carol and e.patient_id == patient_pat.pk for e in flag_rows)


def test_assess_now_by_api_is_audited_and_returns_no_input_snapshot(carol_api, clinician_carol, patient_pat, fresh):
    fresh.reset()
    response = carol_api.post(f"/api/v1/patients/{patient_pat.public_id}/assess/")
    assert response.status_code == 200
    assert "inputs" not in response.json() and response.json()["factors"] is not None
    event = one(fresh(), "patient.assess")
    assert (event.actor, event.patient_id) == (clinician_carol, patient_pat.pk)


@pytest.mark.parametrize("copy", [False, pytest.param(True, marks=pytest.mark.postgresql)])
def test_job_made_audit_rows_carry_the_time_they_were_written(patient_pat, fresh, monkeypatch, copy):
    """A sweep writes its audit rows in bulk (COPY when many): they carry when they were written,
    not the instant the chunk assessed."""
    from ivigtrack import bulk
    from risk.services.assessment import process_patients

    monkeypatch.setattr(bulk, "use_copy", lambda rows: copy)
    factories.make_flag(patient_pat)
    fresh.reset()
    as_of = timezone.now() - timedelta(hours=3)
    process_patients([patient_pat.pk], as_of=as_of)
    rows = [e for e in fresh() if e.action.startswith("flag.")]
    assert [e.action for e in rows] == ["flag.resolve"]
    assert all(e.actor is None and timezone.now() - e.at < timedelta(minutes=1) for e in rows)


# --- API and FHIR searches by MRN


def test_an_api_search_by_mrn_records_the_patient(carol_api, clinician_carol, patient_pat, patient_quinn, fresh):
    fresh.reset()
    response = carol_api.get("/api/v1/patients/?q=MRN-QUINN")
    assert response.status_code == 200 and response.json()["count"] == 1
    event = one(fresh(), "patient.list")
    assert (event.actor, event.patient_id) == (clinician_carol, patient_quinn.pk)
    assert shown(event) == {patient_quinn.pk}


def test_a_fhir_search_by_mrn_records_the_patient(carol_api, clinician_carol, patient_pat, fresh):
    fresh.reset()
    response = carol_api.get("/fhir/Patient", {"identifier": "urn:ivigtrack:mrn|MRN-PAT"})
    assert response.status_code == 200, response.content
    event = one(fresh(), "fhir.search")
    assert (event.actor, event.patient_id) == (clinician_carol, patient_pat.pk)


def test_a_patient_reading_their_own_list_is_not_a_staff_read(pat_api, fresh):
    fresh.reset()
    assert pat_api.get("/api/v1/patients/").status_code == 200
    assert fresh() == []


# --- admin


@pytest.fixture
def root_client(admin_user):
    return factories.session_client(admin_user)


def test_admin_list_history_and_delete_pages_are_reads(root_client, admin_user, patient_pat, fresh):
    from patients.models import Condition

    condition = Condition.objects.create(patient=patient_pat, code="hypertension")
    fresh.reset()
    assert root_client.get("/admin/patients/condition/").status_code == 200
    event = one(fresh(), "admin.list")
    assert event.actor == admin_user and shown(event) == {patient_pat.pk}
    fresh.reset()
    assert root_client.get(f"/admin/patients/condition/{condition.pk}/history/").status_code == 200
    event = one(fresh(), "admin.history")
    assert (event.actor, event.patient_id) == (admin_user, patient_pat.pk)
    # a clinical record has no delete page (it is marked entered in error); the patient's has
    assert root_client.get(f"/admin/patients/condition/{condition.pk}/delete/").status_code == 403
    fresh.reset()
    assert root_client.get(f"/admin/patients/patient/{patient_pat.pk}/delete/").status_code == 200
    event = one(fresh(), "admin.view")
    assert (event.actor, event.patient_id, event.detail["page"]) == (admin_user, patient_pat.pk, "delete")


def test_adding_a_product_in_the_admin_is_audited(root_client, admin_user, fresh):
    fresh.reset()
    response = root_client.post(
        "/admin/infusions/product/add/",
        {"name": "Testoglobulin 5%", "concentration_percent": "5", "max_rate_mg_kg_min": "4", "active": "on"},
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    event = one(fresh(), "admin.add")
    assert event.actor == admin_user and event.object_type == "infusions.product"


def test_granting_superuser_in_the_admin_is_audited(root_client, admin_user, nurse_nina, fresh):
    page = root_client.get(f"/admin/accounts/user/{nurse_nina.pk}/change/")
    form = page.context["adminform"].form
    data = {name: value for name, value in form.initial.items() if value is not None and not isinstance(value, list)}
    data.update(
        {
            "username": "nina",
            "role": "nurse",
            "is_active": "on",
            "is_staff": "on",
            "is_superuser": "on",
            "date_joined_0": nurse_nina.date_joined.strftime("%Y-%m-%d"),
            "date_joined_1": nurse_nina.date_joined.strftime("%H:%M:%S"),
        }
    )
    data.pop("date_joined", None)
    data.pop("last_login", None)
    data.pop("password", None)
    fresh.reset()
    response = root_client.post(f"/admin/accounts/user/{nurse_nina.pk}/change/", data)
    assert response.status_code == 302, response.content.decode()[:3000]
    event = one(fresh(), "admin.privilege")
    assert event.actor == admin_user and event.object_id == str(nurse_nina.pk)
    assert set(event.detail["changed"]) >= {"is_superuser", "is_staff"}
    assert event.detail["after"]["is_superuser"] is True and event.detail["before"]["is_superuser"] is False
