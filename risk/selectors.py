"""Scoped reads of risk and flags (scoping is authorisation; see patients.selectors)."""

from __future__ import annotations

from django.db.models import OuterRef, Prefetch, QuerySet, Subquery

from patients.models import Patient
from patients.selectors import patient_scope, scoped

from .models import DECISIONS, UNRESOLVED, FlagKind, Priority, ReviewFlag, RiskAssessment, SweepChunk, SweepRun


def flag_scope(user) -> QuerySet[ReviewFlag]:
    return scoped(ReviewFlag.objects.select_related("patient", "acknowledged_by", "resolved_by"), user)


# What a worklist row shows (risk/jinja2/risk/flag_rows.html), and no more: the evidence JSON and the
# patients' other columns would be read and decoded 50 times a page for nothing.
_PEOPLE = ("username", "first_name", "last_name")
WORKLIST_ROW_FIELDS = (
    *("public_id", "kind", "rule", "priority", "status", "reason", "note", "resolution", "snooze_reason"),
    *("raised_at", "due_at", "escalated_at", "acknowledged_at", "snoozed_until", "resolved_at"),
    *(f"patient__{name}" for name in ("public_id", "mrn", "given_name", "family_name")),
    *(f"acknowledged_by__{name}" for name in _PEOPLE),
    *(f"resolved_by__{name}" for name in _PEOPLE),
)


def worklist(user, *, kind: str | None = None, priority: str | None = None) -> QuerySet[ReviewFlag]:
    """Unresolved flags, most urgent first (emergency, urgent, routine; then due time)."""
    flags = flag_scope(user).filter(status__in=UNRESOLVED).only(*WORKLIST_ROW_FIELDS)
    if kind:
        flags = flags.filter(kind=kind)
    if priority:
        flags = flags.filter(priority=priority)
    return flags.order_by("priority_rank", "due_at", "id")


OPEN_COUNT_CAP = 1000


def open_flag_counts(user, *, cap: int = OPEN_COUNT_CAP) -> dict[str, int]:
    """Unresolved flags per priority, each counted up to `cap` + 1 (more reads as "1000+").

    The worklist shows these on every load and 30-second refresh. Counting every open flag of a
    clinic network (about 150,000 at 100,000 patients) took longer than the rest of the page;
    a capped count reads at most cap + 1 entries of the partial index on (priority, id).
    """
    unresolved = flag_scope(user).filter(status__in=UNRESOLVED).order_by()
    return {priority: unresolved.filter(priority=priority)[: cap + 1].count() for priority in Priority.values}


def live_suppressions(patient: Patient, now) -> list[ReviewFlag]:
    """The clinicians' decisions keeping a rule quiet for this patient now: per rule, its latest
    resolution when that is "not indicated" or "declined" and ``suppressed_until`` lies ahead (as
    the sweep reads them, risk.histories)."""
    latest: dict[str, ReviewFlag] = {}
    resolved = (
        ReviewFlag.objects.filter(patient=patient, status="resolved")
        .exclude(kind=FlagKind.SYMPTOM_ALERT)
        .select_related("resolved_by")
        .order_by("-resolved_at", "-id")
    )
    for flag in resolved:
        latest.setdefault(flag.rule, flag)
    return [
        flag
        for flag in latest.values()
        if flag.resolution in DECISIONS and flag.suppressed_until is not None and flag.suppressed_until > now
    ]


def assessment_scope(user) -> QuerySet[RiskAssessment]:
    return scoped(RiskAssessment.objects.select_related("patient"), user).order_by("-assessed_at", "-id")


def current_assessment(patient: Patient) -> RiskAssessment | None:
    return RiskAssessment.objects.filter(patient=patient, is_current=True).first()


def patients_with_risk(user) -> QuerySet[Patient]:
    """Patients annotated with their current risk in the same query (no per-row lookups).

    Correlated subqueries on the `one_current_assessment` index, not a join: PostgreSQL runs
    them for the page's rows only. A LEFT JOIN on the current assessment made it join all
    100,000 patients before sorting and cut the API's patient list from 86 to 18 requests/s.
    """
    current = RiskAssessment.objects.filter(patient=OuterRef("pk"), is_current=True)
    return patient_scope(user).annotate(
        risk_score=Subquery(current.values("score")[:1]),
        risk_tier=Subquery(current.values("tier")[:1]),
        risk_provisional=Subquery(current.values("provisional")[:1]),
        risk_assessed_at=Subquery(current.values("assessed_at")[:1]),
    )


def recent_sweeps(limit: int = 20) -> QuerySet[SweepRun]:
    """The latest runs with their chunk ledgers (two queries)."""
    chunks = SweepChunk.objects.defer("patient_ids", "error_detail").order_by("index")
    return SweepRun.objects.order_by("-started_at", "-id").prefetch_related(Prefetch("chunks", queryset=chunks))[:limit]
