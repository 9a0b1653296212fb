"""RATE-ABOVE-CAP (`infusion_precaution`, routine): an administered infusion above the at-risk or
renal cap that applies to the patient (`infusions.chair`), with no `rate_reason`. Raised in the
infusion's own transaction (the `infusion_written` hook); completed when a reason is recorded on
that infusion, lapsed when its rate is corrected to within the cap or it is no longer given."""

from __future__ import annotations

from datetime import timedelta

from django.utils import timezone

from infusions.chair import chair_check
from ivigtrack.audit.services import audit_record
from risk.models import PRIORITY_RANK, UNRESOLVED, FlagKind, ReviewFlag
from risk.review_settings import review_settings

RULE = "RATE-ABOVE-CAP"
KIND = FlagKind.INFUSION_PRECAUTION


def rate_precaution(infusion, *, actor) -> ReviewFlag | None:
    existing = (
        ReviewFlag.objects.select_for_update()
        .filter(patient_id=infusion.patient_id, kind=KIND, status__in=UNRESOLVED)
        .first()
    )
    mine = existing is not None and existing.evidence.get("infusion") == str(infusion.public_id)
    check = chair_check(infusion) if infusion.status == "administered" else None
    above = check["above_cap"] if check else None
    now = timezone.now()
    if above and not infusion.rate_reason.strip():
        if existing is not None:
            return existing  # one open flag per kind; its reason names the first such infusion
        when = timezone.localtime(infusion.started_at)
        flag = ReviewFlag.objects.create(
            patient_id=infusion.patient_id,
            site_id=infusion.patient.site_id,
            kind=KIND,
            rule=RULE,
            priority="routine",
            priority_rank=PRIORITY_RANK["routine"],
            reason=(
                f"The infusion of {when:%Y-%m-%d %H:%M} ran at {check['given_rate_mg_kg_min']:g} mg/kg/min, above the "
                f"{above['mg_kg_min']:g} mg/kg/min {above['why']}"
                + (f" ({above['ml_h']:g} mL/h at {check['dosing_weight_kg']:g} kg)" if above["ml_h"] else "")
                + ", and no reason for the higher rate was recorded. Record why on the infusion, or check the rate."
            ),
            evidence={
                "infusion": str(infusion.public_id),
                "rate_mg_kg_min": check["given_rate_mg_kg_min"],
                "cap": above,
            },
            trigger=f"infusion {infusion.public_id}",
            raised_at=now,
            due_at=now + timedelta(days=review_settings().routine_due_days),
        )
        detail = {"rule": RULE, "infusion": str(infusion.public_id)}
        audit_record(actor=actor, action="flag.raise", obj=flag, detail=detail)
        return flag
    if not mine:
        return existing
    if infusion.rate_reason.strip() and above:
        resolution = "completed"
        note = f"Completed: a reason for the rate was recorded on the infusion ({infusion.rate_reason.strip()[:200]})."
        evidence = {**existing.evidence, "completed_by": [{"type": "infusion", "id": str(infusion.public_id)}]}
    else:
        resolution = "lapsed"
        note = "Lapsed: the infusion's rate was corrected to within the cap, or it is no longer recorded as given."
        evidence = existing.evidence
    ReviewFlag.objects.filter(pk=existing.pk).update(
        status="resolved", resolution=resolution, resolved_at=now, note=f"{note} ({RULE})", evidence=evidence
    )
    existing.refresh_from_db()
    audit_record(actor=actor, action="flag.resolve", obj=existing, detail={"rule": RULE, "resolution": resolution})
    return existing
