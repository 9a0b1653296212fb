"""Scoped reads of risk and flags (scoping is authorisation; see patients.selectors)."""

from __future__ import annotations

from django.db.models import OuterRef, Prefetch, QuerySet, Subquery

from patients.models import Patient
from patients.selectors import patient_scope, scoped

from .models import UNRESOLVED, ReviewFlag, RiskAssessment, SweepRun


def flag_scope(user) -> QuerySet[ReviewFlag]:
    return scoped(ReviewFlag.objects.select_related("patient", "acknowledged_by", "resolved_by"), user)


def worklist(user, *, kind: str | None = None, priority: str | None = None) -> QuerySet[ReviewFlag]:
    """Unresolved flags, most urgent first (emergency, urgent, routine; then due time)."""
    flags = flag_scope(user).filter(status__in=UNRESOLVED)
    if kind:
        flags = flags.filter(kind=kind)
    if priority:
        flags = flags.filter(priority=priority)
    return flags.order_by("priority_rank", "due_at", "id")


def assessment_scope(user) -> QuerySet[RiskAssessment]:
    return scoped(RiskAssessment.objects.select_related("patient"), user).order_by("-assessed_at", "-id")


def current_assessment(patient: Patient) -> RiskAssessment | None:
    return RiskAssessment.objects.filter(patient=patient, is_current=True).first()


def patients_with_risk(user) -> QuerySet[Patient]:
    """Patients annotated with their current risk in the same query (no per-row lookups)."""
    current = RiskAssessment.objects.filter(patient=OuterRef("pk"), is_current=True)
    return patient_scope(user).annotate(
        risk_score=Subquery(current.values("score")[:1]),
        risk_tier=Subquery(current.values("tier")[:1]),
        risk_provisional=Subquery(current.values("provisional")[:1]),
        risk_assessed_at=Subquery(current.values("assessed_at")[:1]),
    )


def open_flags_prefetch() -> Prefetch:
    return Prefetch("flags", queryset=ReviewFlag.objects.filter(status__in=UNRESOLVED), to_attr="open_flags")


def recent_sweeps(limit: int = 20) -> QuerySet[SweepRun]:
    return SweepRun.objects.order_by("-started_at")[:limit]
