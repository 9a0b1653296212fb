"""What the symptom triage needs of the watch windows (`itrs.watch`): the patient's tier and
recent infusion starts, in two queries (risk/README.md, "Watch windows")."""

from __future__ import annotations

from datetime import datetime

from infusions.watch import recent_starts
from risk.models import RiskAssessment


def watch_context(patient_id: int, at: datetime) -> tuple[str | None, list[datetime]]:
    """The patient's current tier and the starts of their administered infusions that can
    still hold a window open at ``at``."""
    tier = RiskAssessment.objects.filter(patient_id=patient_id, is_current=True).values_list("tier", flat=True).first()
    return tier, recent_starts(patient_id, at)
