"""Haematology reviews: what the haematologist decided, recorded in one transaction with its
audit row, completing the open hematology_review flag it answers (`flag`), and re-assessing the
patient on commit (the review rules count these records: risk/README.md)."""

from __future__ import annotations

from datetime import date

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from patients.models import Patient
from patients.services import save_clinical
from risk.models import UNRESOLVED, FlagKind, HaematologyReview, ReviewFlag

from .flags import flag_resolve, require_clinician

REVIEW_FIELDS = (
    "reviewed_on",
    "reviewer",
    "reviewer_name",
    "anticoagulation_plan",
    "ivig_plan",
    "thrombophilia_testing",
    "next_review_on",
    "note",
)


@transaction.atomic
def haematology_review_record(
    *,
    actor,
    patient: Patient,
    reviewed_on: date,
    anticoagulation_plan: str,
    ivig_plan: str,
    thrombophilia_testing: str,
    reviewer=None,
    reviewer_name: str = "",
    next_review_on: date | None = None,
    note: str = "",
    flag: ReviewFlag | None = None,
) -> HaematologyReview:
    """Record a review (clinicians). With ``flag`` (the patient's unresolved hematology_review
    flag), the flag is resolved as completed by this review in the same transaction. With neither
    ``reviewer`` nor ``reviewer_name``, the clinician recording it is the reviewer."""
    require_clinician(actor, "record a haematology review for")
    reviewer_name = (reviewer_name or "").strip()
    if reviewer is None and not reviewer_name:
        reviewer = actor
    errors = review_errors(patient, reviewed_on, flag)
    if errors:
        raise ValidationError(errors)
    review = HaematologyReview(
        patient=patient,
        reviewed_on=reviewed_on,
        reviewer=reviewer,
        reviewer_name=reviewer_name,
        anticoagulation_plan=anticoagulation_plan,
        ivig_plan=ivig_plan,
        thrombophilia_testing=thrombophilia_testing,
        next_review_on=next_review_on,
        note=(note or "").strip(),
        recorded_by=actor,
    )
    detail = {
        "reviewed_on": reviewed_on.isoformat() if reviewed_on else None,
        "anticoagulation_plan": anticoagulation_plan,
        "ivig_plan": ivig_plan,
        "thrombophilia_testing": thrombophilia_testing,
        "flag": str(flag.public_id) if flag is not None else None,
    }
    save_clinical(review, actor=actor, action="haematology_review.add", detail=detail, exclude=["flag"])
    if flag is not None:
        flag_resolve(flag=flag, actor=actor, resolution="completed", note=review.note, review=review)
        review.refresh_from_db()
    return review


def review_errors(patient, reviewed_on: date | None, flag: ReviewFlag | None) -> dict[str, list[str]]:
    """What the model's own validation cannot see (shared with the admin's form)."""
    errors: dict[str, list[str]] = {}
    if reviewed_on is not None and reviewed_on > timezone.localdate():
        errors["reviewed_on"] = ["A review cannot be recorded before it happens: the date is in the future."]
    if flag is not None:
        if patient is not None and flag.patient_id != patient.pk:
            errors["flag"] = ["This flag belongs to another patient."]
        elif flag.kind != FlagKind.HEMATOLOGY_REVIEW:
            errors["flag"] = ["Only a haematology review flag is completed by a haematology review."]
        elif flag.status not in UNRESOLVED:
            errors["flag"] = ["This flag has been resolved already."]
    return errors
