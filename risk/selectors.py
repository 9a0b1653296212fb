"""Scoped reads of risk and flags (scoping is authorisation; see patients.selectors)."""

from __future__ import annotations

from dataclasses import dataclass

from django.db import connections
from django.db.models import OuterRef, Prefetch, Q, QuerySet, Subquery

from patients.models import Patient
from patients.selectors import at_site, patient_scope, scoped

from .models import DECISIONS, UNRESOLVED, FlagKind, Priority, ReviewFlag, RiskAssessment, SweepChunk, SweepRun


def flag_scope(user) -> QuerySet[ReviewFlag]:
    return scoped(
        ReviewFlag.objects.select_related("patient", "acknowledged_by", "resolved_by"), user, site_field="site"
    )


# What a worklist row shows (risk/jinja2/risk/flag_rows.html), and no more: the evidence JSON and the
# patients' other columns would be read and decoded 50 times a page for nothing. Read as tuples,
# not model instances: building 150 flags with their patients and users cost more than the query.
_PEOPLE = ("username", "first_name", "last_name")
_FLAG_COLUMNS = (
    *("id", "public_id", "patient_id", "kind", "rule", "priority", "status", "reason", "note"),
    *("resolution", "snooze_reason", "raised_at", "due_at", "escalated_at", "acknowledged_at"),
    *("snoozed_until", "resolved_at"),
)
_PATIENT_COLUMNS = ("public_id", "mrn", "given_name", "family_name")
WORKLIST_ROW_COLUMNS = (
    *_FLAG_COLUMNS,
    *(f"patient__{name}" for name in _PATIENT_COLUMNS),
    *(f"acknowledged_by__{name}" for name in _PEOPLE),
    *(f"resolved_by__{name}" for name in _PEOPLE),
)
_FLAG_END = len(_FLAG_COLUMNS)
_PATIENT_END = _FLAG_END + len(_PATIENT_COLUMNS)
_ACK_END = _PATIENT_END + len(_PEOPLE)


def _person(username, first_name, last_name) -> str | None:
    if username is None:
        return None
    return f"{first_name} {last_name}".strip() or username


class WorklistFlag:
    """A flag as a worklist row shows it: its own columns, and who acknowledged or resolved it by
    name (``acknowledged_by_name``, ``resolved_by_name``). ``row`` is the tuple it was read from,
    all that its rendered row depends on besides the time (risk/flag_rows.py)."""

    def __init__(self, row: tuple):
        self.row = row
        self.__dict__.update(zip(_FLAG_COLUMNS, row[:_FLAG_END], strict=True))
        self.acknowledged_by_name = _person(*row[_PATIENT_END:_ACK_END])
        self.resolved_by_name = _person(*row[_ACK_END:])


class WorklistPatient:
    """The patient heading a worklist row: the columns it shows."""

    def __init__(self, patient_id: int, row: tuple):
        self.pk = self.id = patient_id
        self.public_id, self.mrn, self.given_name, self.family_name = row[_FLAG_END:_PATIENT_END]


def narrowed(flags: QuerySet[ReviewFlag], user, *, site: str | None = None, mine: bool = False) -> QuerySet:
    """Flags of one of the user's sites (its code or id), and/or of the user's own patients."""
    if site:
        flags = at_site(flags, site)
    if mine:
        flags = flags.filter(patient__care_team=user)
    return flags


OPEN_COUNT_CAP = 1000

# The worklist's sort orders: most urgent first (the default), soonest due, newest raised.
WORKLIST_SORTS = {
    "priority": ("priority_rank", "due_at", "id"),
    "due": ("due_at", "id"),
    "raised": ("-raised_at", "-id"),
}


@dataclass(frozen=True)
class PatientFlags:
    """One worklist row: a patient and all their open flags, the most urgent first."""

    patient: WorklistPatient
    flags: list[WorklistFlag]


@dataclass(frozen=True)
class WorklistPage:
    number: int
    per_page: int
    groups: list[PatientFlags]
    has_next: bool
    total: int  # patients with open flags matching the filters, counted up to `cap` + 1
    cap: int

    @property
    def has_previous(self) -> bool:
        return self.number > 1

    @property
    def next_page_number(self) -> int:
        return self.number + 1

    @property
    def previous_page_number(self) -> int:
        return self.number - 1

    @property
    def first(self) -> int:
        return (self.number - 1) * self.per_page + 1 if self.groups else 0

    @property
    def last(self) -> int:
        return (self.number - 1) * self.per_page + len(self.groups)

    @property
    def total_text(self) -> str:
        return f"{self.cap:,}+" if self.total > self.cap else f"{self.total:,}"


def _matching_flags(
    user, *, q: str, kind: str | None, priority: str | None, site: str | None, mine: bool
) -> QuerySet[ReviewFlag]:
    flags = narrowed(scoped(ReviewFlag.objects.all(), user, site_field="site"), user, site=site, mine=mine)
    flags = flags.filter(status__in=UNRESOLVED)
    if kind:
        flags = flags.filter(kind=kind)
    if priority:
        flags = flags.filter(priority=priority)
    for term in q.split():
        flags = flags.filter(
            Q(patient__given_name__icontains=term)
            | Q(patient__family_name__icontains=term)
            | Q(patient__mrn__icontains=term)
        )
    return flags


def worklist_by_patient(
    user,
    *,
    q: str = "",
    kind: str | None = None,
    priority: str | None = None,
    sort: str = "priority",
    site: str | None = None,
    mine: bool = False,
    page: int | str | None = 1,
    per_page: int = 50,
    cap: int = OPEN_COUNT_CAP,
) -> WorklistPage:
    """Page `page` of the patients with open flags matching the filters (``site``: one of the
    user's sites; ``mine``: the user's own patients), in `sort` order of each patient's first
    flag, every row carrying all of that patient's open flags.

    A fixed number of queries whatever the page: (1) the matching flags in sort order, patient id
    only, read along the worklist index until the page's patients are known (a patient's first
    flag in that order places them; at about 1.5 open flags per patient the first batch almost
    always suffices, a deep page or a patient with very many flags reads further batches);
    (2) those patients' open flags with the row's fields; (3) the total, distinct patients up to
    `cap` + 1 (never a count of the whole network).
    """
    try:
        number = max(1, int(page or 1))
    except (TypeError, ValueError):
        number = 1
    order = WORKLIST_SORTS.get(sort, WORKLIST_SORTS["priority"])
    matching = _matching_flags(user, q=q, kind=kind, priority=priority, site=site, mine=mine)
    wanted = number * per_page + 1
    seen: dict[int, None] = {}
    batch = max(4 * wanted, 200)
    offset = 0
    while len(seen) < wanted:
        ids = list(matching.order_by(*order).values_list("patient_id", flat=True)[offset : offset + batch])
        for patient_id in ids:
            seen.setdefault(patient_id)
            if len(seen) >= wanted:
                break
        if len(ids) < batch:
            break
        offset += batch
    ordered = list(seen)
    if number > 1 and len(ordered) <= (number - 1) * per_page:
        return worklist_by_patient(
            user, q=q, kind=kind, priority=priority, sort=sort, site=site, mine=mine, page=1, per_page=per_page, cap=cap
        )
    on_page = ordered[(number - 1) * per_page : number * per_page]
    rows = (
        scoped(ReviewFlag.objects.all(), user, site_field="site")
        .filter(status__in=UNRESOLVED, patient_id__in=on_page)
        .order_by("priority_rank", "due_at", "id")
        .values_list(*WORKLIST_ROW_COLUMNS)
    )
    by_patient: dict[int, list[WorklistFlag]] = {patient_id: [] for patient_id in on_page}
    patients: dict[int, WorklistPatient] = {}
    for row in rows:
        flag = WorklistFlag(row)
        by_patient[flag.patient_id].append(flag)
        if flag.patient_id not in patients:
            patients[flag.patient_id] = WorklistPatient(flag.patient_id, row)
    # ordered by patient: a Unique over the index on unresolved (patient, kind), stopping at cap + 1
    total = matching.order_by("patient_id").values("patient_id").distinct()[: cap + 1].count()
    groups = [PatientFlags(patients[patient_id], flags) for patient_id, flags in by_patient.items() if flags]
    return WorklistPage(
        number=number,
        per_page=per_page,
        groups=groups,
        has_next=len(ordered) > number * per_page,
        total=total,
        cap=cap,
    )


def open_flag_counts(user, *, cap: int = OPEN_COUNT_CAP, site: str | None = None, mine: bool = False) -> dict[str, int]:
    """Unresolved flags per priority, each counted up to `cap` + 1 (more reads as "1000+").

    The worklist shows these on every load and 30-second refresh. Counting every open flag of a
    clinic network (about 150,000 at 100,000 patients) took longer than the rest of the page;
    a capped count reads at most cap + 1 entries of the partial index on (priority, id). The
    three capped counts go to the database as one statement (one round trip, not three).
    """
    unresolved = (
        narrowed(scoped(ReviewFlag.objects.all(), user, site_field="site"), user, site=site, mine=mine)
        .filter(status__in=UNRESOLVED)
        .order_by()
    )
    priorities = list(Priority.values)
    parts, params = [], []
    for priority in priorities:
        sql, sql_params = unresolved.filter(priority=priority).values("id")[: cap + 1].query.sql_with_params()
        parts.append(f"(SELECT COUNT(*) FROM ({sql}) AS capped_{len(parts)})")
        params.extend(sql_params)
    with connections[unresolved.db].cursor() as cursor:
        cursor.execute(f"SELECT {', '.join(parts)}", params)
        row = cursor.fetchone()
    return dict(zip(priorities, (int(n) for n in row), strict=True))


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


def haematology_review_scope(user):
    """Recorded haematology reviews the user may see, newest first (with who and which flag)."""
    from .models import HaematologyReview

    return scoped(
        HaematologyReview.objects.select_related("patient", "reviewer", "recorded_by", "flag"), user
    ).order_by("-reviewed_on", "-created_at", "-id")
