"""haematology-reviews/ and resolving a hematology_review flag: completed needs a recorded review
(400 without one), the completion names it, the review points back at the flag, all audited."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from ivigtrack.audit.models import AuditEvent
from risk.models import HaematologyReview, ReviewFlag
from risk.services.flags import flag_resolve
from risk.services.haematology import haematology_review_record
from tests.factories import make_urgent_flag

pytestmark = [pytest.mark.django_db, pytest.mark.sqlite]

REVIEW = {
    "anticoagulation_plan": "treatment_3_months",
    "ivig_plan": "slow_rate",
    "thrombophilia_testing": "deferred_after_ivig",
}


def _body(patient, **extra):
    return {"patient": str(patient.public_id), "reviewed_on": timezone.localdate().isoformat(), **REVIEW, **extra}


def test_resolve_completed_without_a_review_is_a_400_that_says_why(carol_api, patient_pat):
    flag = make_urgent_flag(patient_pat)
    response = carol_api.post(f"/api/v1/flags/{flag.public_id}/resolve/", {"resolution": "completed"}, format="json")
    assert response.status_code == 400
    assert "needs the haematology review it records" in response.json()["review"][0]
    flag.refresh_from_db()
    assert flag.status == "open"


def test_resolve_completed_with_a_review_is_200_and_names_it(carol_api, clinician_carol, patient_pat):
    flag = make_urgent_flag(patient_pat)
    created = carol_api.post("/api/v1/haematology-reviews/", _body(patient_pat, reviewer_name="Dr Haem"), format="json")
    assert created.status_code == 201, created.json()
    review_id = created.json()["id"]
    assert created.json()["reviewer_label"] == "Dr Haem" and created.json()["recorded_by"] == "carol"
    response = carol_api.post(
        f"/api/v1/flags/{flag.public_id}/resolve/", {"resolution": "completed", "review": review_id}, format="json"
    )
    assert response.status_code == 200, response.json()
    body = response.json()
    assert body["resolution"] == "completed"
    assert "Completed by the haematology review of" in body["note"] and "Dr Haem" in body["note"]
    review = HaematologyReview.objects.get(public_id=review_id)
    assert review.flag_id == flag.pk
    audit = AuditEvent.objects.get(action="flag.resolve", object_id=str(flag.public_id))
    assert audit.detail["completed_by"][0]["haematology_review"] == review_id
    assert AuditEvent.objects.filter(action="haematology_review.add", object_id=review_id).exists()


def test_post_with_flag_records_and_completes_in_one_go(carol_api, patient_pat):
    flag = make_urgent_flag(patient_pat)
    created = carol_api.post(
        "/api/v1/haematology-reviews/", _body(patient_pat, flag=str(flag.public_id)), format="json"
    )
    assert created.status_code == 201, created.json()
    assert created.json()["flag"] == str(flag.public_id)
    assert created.json()["reviewer"] == "carol"  # the clinician recording it, when no one else is named
    flag.refresh_from_db()
    assert (flag.status, flag.resolution) == ("resolved", "completed")
    listed = carol_api.get("/api/v1/haematology-reviews/", {"patient": str(patient_pat.public_id)}).json()
    assert [r["id"] for r in listed["results"]] == [created.json()["id"]]


@pytest.mark.parametrize(
    ("extra", "field"),
    [
        ({"anticoagulation_plan": "forever"}, "anticoagulation_plan"),
        ({"ivig_plan": ""}, "ivig_plan"),
        ({"reviewed_on": (timezone.localdate() + timedelta(days=3)).isoformat()}, "reviewed_on"),
        ({"next_review_on": "2000-01-01"}, "__all__"),
        ({"reviewer": "nobody"}, "reviewer"),
        ({"flag": "not-a-uuid"}, "flag"),
    ],
)
def test_bad_input_is_a_400_and_writes_nothing(carol_api, patient_pat, extra, field):
    response = carol_api.post("/api/v1/haematology-reviews/", _body(patient_pat, **extra), format="json")
    assert response.status_code == 400
    errors = response.json()
    assert field in errors or "non_field_errors" in errors, errors
    assert not HaematologyReview.objects.exists()


def test_a_flag_of_another_patient_or_kind_is_refused(carol_api, patient_pat, patient_quinn):
    other = make_urgent_flag(patient_quinn)
    clot = make_urgent_flag(patient_pat, kind="clotting_studies", rule="CLOT-EVENT")
    for flag in (other, clot):
        response = carol_api.post(
            "/api/v1/haematology-reviews/", _body(patient_pat, flag=str(flag.public_id)), format="json"
        )
        assert response.status_code == 400 and "flag" in response.json()
    assert not HaematologyReview.objects.exists()
    assert ReviewFlag.objects.filter(status="open").count() == 2


def test_a_review_completes_one_flag_only(clinician_carol, patient_pat):
    first = make_urgent_flag(patient_pat)
    review = haematology_review_record(
        actor=clinician_carol, patient=patient_pat, reviewed_on=timezone.localdate(), flag=first, **REVIEW
    )
    second = make_urgent_flag(patient_pat)
    with pytest.raises(Exception, match="completed another flag"):
        flag_resolve(flag=second, actor=clinician_carol, resolution="completed", review=review)


def test_nurses_and_patients_cannot_record_reviews_patients_read_their_own(
    nina_api, pat_api, quinn_api, carol_api, patient_pat
):
    assert nina_api.post("/api/v1/haematology-reviews/", _body(patient_pat), format="json").status_code == 403
    assert pat_api.post("/api/v1/haematology-reviews/", _body(patient_pat), format="json").status_code == 403
    made = carol_api.post("/api/v1/haematology-reviews/", _body(patient_pat), format="json").json()
    assert [r["id"] for r in pat_api.get("/api/v1/haematology-reviews/").json()["results"]] == [made["id"]]
    assert quinn_api.get("/api/v1/haematology-reviews/").json()["results"] == []
