"""flags/ and assessments/: the worklist, its filters and the flag actions (409 on a lost race)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from ivigtrack.audit.models import AuditEvent
from risk.models import ReviewFlag, RiskAssessment
from risk.services.assessment import patient_assess
from tests.factories import make_urgent_flag as make_flag

pytestmark = [pytest.mark.django_db, pytest.mark.sqlite]


def test_list_is_most_urgent_first_and_filters(carol_api, patient_pat, patient_quinn):
    routine = make_flag(patient_pat, kind="clotting_studies", rule="CLOT-BASELINE", priority="routine")
    urgent = make_flag(patient_quinn, kind="hematology_review", rule="HEM-URGENT", priority="urgent")
    emergency = make_flag(patient_pat, kind="symptom_alert", rule="SYM-EMERGENCY", priority="emergency")
    ids = lambda **q: [f["id"] for f in carol_api.get("/api/v1/flags/", q).json()["results"]]  # noqa: E731
    assert ids() == [str(emergency.public_id), str(urgent.public_id), str(routine.public_id)]
    assert ids(patient=str(patient_pat.public_id)) == [str(emergency.public_id), str(routine.public_id)]
    assert ids(kind="hematology_review") == [str(urgent.public_id)]
    assert ids(priority="routine") == [str(routine.public_id)]
    assert ids(status="resolved") == []
    assert carol_api.get("/api/v1/flags/", {"status": "closed"}).status_code == 400
    body = carol_api.get(f"/api/v1/flags/{urgent.public_id}/").json()
    assert body["patient"] == str(patient_quinn.public_id)
    assert body["rule"] == "HEM-URGENT" and body["status"] == "open" and body["acknowledged_by"] is None


def test_nurse_acknowledges_and_the_change_is_audited(nina_api, nurse_nina, patient_pat):
    flag = make_flag(patient_pat)
    response = nina_api.post(f"/api/v1/flags/{flag.public_id}/acknowledge/", {"note": "calling now"}, format="json")
    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "acknowledged" and body["acknowledged_by"] == "nina" and body["note"] == "calling now"
    assert AuditEvent.objects.filter(action="flag.acknowledge", actor=nurse_nina).exists()


def test_acknowledging_twice_is_a_409_conflict(carol_api, nina_api, patient_pat):
    flag = make_flag(patient_pat)
    assert nina_api.post(f"/api/v1/flags/{flag.public_id}/acknowledge/", {}, format="json").status_code == 200
    second = carol_api.post(f"/api/v1/flags/{flag.public_id}/acknowledge/", {}, format="json")
    assert second.status_code == 409
    assert "already acknowledged by nina" in second.json()["detail"]


def test_snooze_then_resolve(carol_api, clinician_carol, patient_pat):
    flag = make_flag(patient_pat, kind="clotting_studies", rule="CLOT-BASELINE", priority="routine")
    until = (timezone.now() + timedelta(days=7)).isoformat()
    # v2: the flag is due now, so snoozing it a week needs past_due_ok; `note` is still the reason.
    snoozed = carol_api.post(
        f"/api/v1/flags/{flag.public_id}/snooze/",
        {"until": until, "note": "after holiday", "past_due_ok": True},
        format="json",
    )
    assert snoozed.status_code == 200, snoozed.json()
    assert snoozed.json()["status"] == "snoozed" and snoozed.json()["snoozed_until"]
    assert snoozed.json()["snooze_reason"] == "after holiday"
    assert AuditEvent.objects.get(action="flag.snooze").detail["past_due_ok"] is True
    resolved = carol_api.post(f"/api/v1/flags/{flag.public_id}/resolve/", {"resolution": "completed"}, format="json")
    assert resolved.status_code == 200
    assert resolved.json()["status"] == "resolved" and resolved.json()["resolved_by"] == "carol"
    assert resolved.json()["resolution"] == "completed"
    again = carol_api.post(f"/api/v1/flags/{flag.public_id}/resolve/", {"resolution": "completed"}, format="json")
    assert again.status_code == 409


def test_emergency_flags_cannot_be_snoozed(carol_api, patient_pat):
    flag = make_flag(patient_pat, kind="symptom_alert", rule="SYM-EMERGENCY", priority="emergency")
    until = (timezone.now() + timedelta(days=1)).isoformat()
    response = carol_api.post(f"/api/v1/flags/{flag.public_id}/snooze/", {"until": until}, format="json")
    assert response.status_code == 400 and "until" in response.json()
    flag.refresh_from_db()
    assert flag.status == "open"


def test_nurse_cannot_resolve_or_snooze_but_a_clinician_can(nina_api, carol_api, patient_pat):
    # docs/roles.md: nurses acknowledge flags; clinicians acknowledge, snooze and resolve.
    flag = make_flag(patient_pat, kind="hematology_review", rule="HEM-URGENT", priority="urgent")
    refused = nina_api.post(f"/api/v1/flags/{flag.public_id}/resolve/", {"resolution": "completed"}, format="json")
    assert refused.status_code == 403
    assert "Only a clinician can resolve a flag" in refused.json()["detail"]
    until = (timezone.now() + timedelta(days=1)).isoformat()
    snooze = nina_api.post(f"/api/v1/flags/{flag.public_id}/snooze/", {"until": until}, format="json")
    assert snooze.status_code == 403
    flag.refresh_from_db()
    assert flag.status == "open"
    body = {"resolution": "not_indicated", "note": "seen by haematology elsewhere"}
    assert carol_api.post(f"/api/v1/flags/{flag.public_id}/resolve/", body, format="json").status_code == 200


def test_nurse_acknowledges_any_kind(nina_api, patient_pat):
    flag = make_flag(patient_pat, kind="data_quality", rule="WEIGHT-STALE", priority="routine")
    response = nina_api.post(f"/api/v1/flags/{flag.public_id}/acknowledge/", {"note": "weighing today"}, format="json")
    assert response.status_code == 200 and response.json()["status"] == "acknowledged"


def test_flags_are_read_only(carol_api, patient_pat):
    flag = make_flag(patient_pat)
    assert carol_api.post("/api/v1/flags/", {}, format="json").status_code == 405
    assert carol_api.patch(f"/api/v1/flags/{flag.public_id}/", {"status": "resolved"}, format="json").status_code == 405
    assert carol_api.delete(f"/api/v1/flags/{flag.public_id}/").status_code == 405
    assert ReviewFlag.objects.get().status == "open"


def test_assessments_newest_first_read_only_and_own_for_patients(
    carol_api, pat_api, quinn_api, patient_pat, clinician_carol
):
    from patients.services import condition_add

    first = patient_assess(patient_pat)
    condition_add(actor=clinician_carol, patient=patient_pat, code="active_cancer")
    second = patient_assess(patient_pat)
    assert first.pk != second.pk
    rows = carol_api.get("/api/v1/assessments/", {"patient": str(patient_pat.public_id)}).json()["results"]
    assert [r["id"] for r in rows] == [str(second.public_id), str(first.public_id)]
    assert rows[0]["is_current"] is True and rows[1]["is_current"] is False
    assert "inputs" not in rows[0]
    detail = pat_api.get(f"/api/v1/assessments/{second.public_id}/").json()
    assert "inputs" in detail and detail["score"] == second.score
    assert carol_api.get("/api/v1/assessments/", {"current": "true"}).json()["count"] == 1
    assert quinn_api.get(f"/api/v1/assessments/{second.public_id}/").status_code == 404
    assert carol_api.post("/api/v1/assessments/", {}, format="json").status_code == 405
    assert carol_api.delete(f"/api/v1/assessments/{second.public_id}/").status_code == 405
    assert RiskAssessment.objects.count() == 2


# --- bulk acknowledge --------------------------------------------------------------------------


def test_bulk_acknowledge_through_the_api(
    nina_api, nurse_nina, patient_pat, patient_quinn, django_assert_max_num_queries
):
    one = make_flag(patient_pat)
    two = make_flag(patient_quinn, kind="hematology_review", rule="HEM-URGENT")
    done = make_flag(patient_quinn, kind="clotting_studies", rule="CLOT-EVENT", status="resolved",
                     resolution="completed", resolved_at=timezone.now())  # fmt: skip
    ids = [str(one.public_id), str(two.public_id), str(done.public_id)]
    response = nina_api.post("/api/v1/flags/acknowledge/", {"ids": ids, "note": "seen"}, format="json")
    assert response.status_code == 200, response.content
    body = response.json()
    assert sorted(f["id"] for f in body["acknowledged"]) == sorted(ids[:2])
    assert all(f["status"] == "acknowledged" and f["acknowledged_by"] == "nina" for f in body["acknowledged"])
    assert body["skipped"] == [str(done.public_id)]
    assert AuditEvent.objects.filter(action="flag.acknowledge", actor=nurse_nina).count() == 2


@pytest.mark.parametrize(
    "payload, field",
    [({}, "ids"), ({"ids": []}, "ids"), ({"ids": ["x"]}, "ids"), ({"ids": "abc"}, "ids")],
)
def test_bulk_acknowledge_bad_input_is_400_naming_the_field(nina_api, patient_pat, payload, field):
    flag = make_flag(patient_pat)
    response = nina_api.post("/api/v1/flags/acknowledge/", payload, format="json")
    assert response.status_code == 400 and field in response.json()
    flag.refresh_from_db()
    assert flag.status == "open"


def test_bulk_acknowledge_is_for_staff(pat_api, patient_pat):
    flag = make_flag(patient_pat)
    assert pat_api.post("/api/v1/flags/acknowledge/", {"ids": [str(flag.public_id)]}, format="json").status_code == 403
