"""What the apps below ask of infusions through ivigtrack.hooks (registered in apps.ready())."""

from __future__ import annotations

from datetime import datetime

from ivigtrack import hooks

from .models import Infusion


@hooks.provide_last_infusion_at
def last_infusion_at(patient_id: int, at: datetime) -> datetime | None:
    """The start of the patient's last administered infusion at or before ``at`` (symptom triage)."""
    return (
        Infusion.objects.filter(patient_id=patient_id, status=Infusion.Status.ADMINISTERED, started_at__lte=at)
        .order_by("-started_at")
        .values_list("started_at", flat=True)
        .first()
    )
