"""What the sweep reads of a chunk's patients after it has locked them: their current assessment,
their recorded haematology reviews, their unresolved flags and the clinicians' decisions that keep a
rule quiet (the latest resolution of each rule, when it is "not indicated" or "declined"), for
`itrs.review` (as `FlagHistory`) and for the flag reconciliation (`risk.services.flags`).

One statement on PostgreSQL, three ORM queries elsewhere (SQLite, `make run`'s default); the
tests hold the two equal.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime, time

from django.db import connection

from itrs.types import FlagHistory, HaemReviewSnap, Suppression
from risk.models import DECISIONS, FlagKind, HaematologyReview, ReviewFlag, RiskAssessment
from risk.snapshot import fast_timestamps


@dataclass(slots=True)
class OpenFlag:
    """What the sweep needs of an unresolved flag (a ReviewFlag row, without the ORM instance)."""

    pk: int
    public_id: object
    patient_id: int
    kind: str
    rule: str
    priority: str
    priority_rank: int
    status: str
    snoozed_until: datetime | None
    reason: str
    trigger: str = ""
    raised_at: datetime | None = None


# After the chunk's patients are locked (risk.services.process_patients), in one statement:
# k=0 current assessments, k=1 the recorded haematology reviews (HaematologyReview rows, oldest
# first: a flag resolution is not a review, the record of what was decided is), k=2 unresolved
# flags in ReviewFlag's default order (priority_rank, due_at, id), k=3 the latest resolution of
# each rule (symptom alerts aside) when it is a decision (not indicated / declined) with an end.
_HISTORY_SQL = """
SELECT 0 AS k, a.patient_id AS pid, a.id AS id, NULL::uuid AS u, a.fingerprint::text AS t1, a.tier::text AS t2,
       NULL::text AS t3, NULL::text AS t4, NULL::text AS t5, NULL::text AS t6, a.score::int AS n,
       a.tier_rose_at AS ts, NULL::timestamptz AS ts2, 0::bigint AS o
  FROM risk_riskassessment a WHERE a.patient_id = ANY(%(ids)s) AND a.is_current
UNION ALL
SELECT 1, r.patient_id, r.id, NULL, r.anticoagulation_plan, r.ivig_plan, r.thrombophilia_testing,
       r.reviewed_on::text, r.next_review_on::text, NULL, NULL,
       LEAST(r.created_at, (r.reviewed_on + 1)::timestamp AT TIME ZONE 'UTC' - interval '1 microsecond'), NULL,
       row_number() OVER (ORDER BY r.reviewed_on, r.created_at, r.id)
  FROM risk_haematologyreview r WHERE r.patient_id = ANY(%(ids)s)
UNION ALL
SELECT 2, f.patient_id, f.id, f.public_id, f.kind, f.rule, f.priority, f.status, f.reason, f.trigger,
       f.priority_rank, f.snoozed_until, f.raised_at, row_number() OVER (ORDER BY f.priority_rank, f.due_at, f.id)
  FROM risk_reviewflag f WHERE f.patient_id = ANY(%(ids)s) AND f.status IN ('open', 'acknowledged', 'snoozed')
UNION ALL
SELECT 3, d.patient_id, d.id, NULL, d.kind, d.rule, d.resolution, NULL, NULL, d.trigger, NULL,
       d.suppressed_until, d.resolved_at, 0
  FROM (SELECT DISTINCT ON (f.patient_id, f.rule) f.patient_id, f.id, f.kind, f.rule, f.resolution, f.trigger,
               f.suppressed_until, f.resolved_at
          FROM risk_reviewflag f
         WHERE f.patient_id = ANY(%(ids)s) AND f.status = 'resolved' AND f.kind <> %(symptom)s
         ORDER BY f.patient_id, f.rule, f.resolved_at DESC, f.id DESC) d
 WHERE d.resolution = ANY(%(decisions)s) AND d.suppressed_until IS NOT NULL
ORDER BY k, o
"""


def load_histories(
    patient_ids: Iterable[int],
) -> tuple[dict[int, FlagHistory], dict[int, dict], dict[tuple[int, str], OpenFlag | ReviewFlag]]:
    """Flag history (with the decisions that keep rules quiet), current assessment summary and
    unresolved flags for many patients.

    Returns (histories, current assessments {pid: {id, patient_id, fingerprint, tier, score,
    tier_rose_at}}, unresolved flags {(pid, kind): flag}). One statement on PostgreSQL (flags as
    OpenFlag), three queries elsewhere (flags as ReviewFlag instances).
    """
    ids = list(patient_ids)
    if connection.vendor != "postgresql":
        return _load_histories_orm(ids)
    reviews: dict[int, list[HaemReviewSnap]] = defaultdict(list)
    current: dict[int, dict] = {}
    open_flags: dict[tuple[int, str], OpenFlag] = {}
    by_patient: dict[int, dict] = defaultdict(dict)
    decisions: dict[int, dict] = defaultdict(dict)
    if ids:
        params = {
            "ids": ids,
            "symptom": FlagKind.SYMPTOM_ALERT.value,
            "decisions": list(DECISIONS),
        }
        with connection.cursor() as cursor:
            fast_timestamps(cursor)
            cursor.execute(_HISTORY_SQL, params)
            for k, pid, pk, public_id, t1, t2, t3, t4, t5, t6, n, ts, ts2, _ in cursor.fetchall():
                if k == 2:
                    open_flags[(pid, t1)] = OpenFlag(pk, public_id, pid, t1, t2, t3, n, t4, ts, t5, t6, ts2)
                    by_patient[pid][t1] = _open_flag_facts(t2, t3, t4, ts, ts2, t6)
                elif k == 3:
                    decisions[pid][t2] = Suppression(rule=t2, resolution=t3, trigger=t6, resolved_at=ts2, until=ts)
                elif k == 0:
                    current[pid] = {
                        "id": pk,
                        "patient_id": pid,
                        "fingerprint": t1,
                        "tier": t2,
                        "score": n,
                        "tier_rose_at": ts,
                    }
                else:
                    reviews[pid].append(_review_snap(t1, t2, t3, date.fromisoformat(t4), t5, ts))
    return _histories(ids, reviews, current, by_patient, decisions), current, open_flags


def _open_flag_facts(rule, priority, status, snoozed_until, raised_at, trigger) -> dict:
    """What `itrs.review` reads of an unresolved flag (FlagHistory.open_flags[kind])."""
    return {
        "rule": rule,
        "priority": priority,
        "status": status,
        "snoozed_until": snoozed_until,
        "raised_at": raised_at,
        "trigger": trigger,
    }


def _review_snap(plan, ivig, testing, reviewed_on, next_on, at) -> HaemReviewSnap:
    if isinstance(next_on, str):
        next_on = date.fromisoformat(next_on)
    return HaemReviewSnap(
        reviewed_on=reviewed_on,
        at=at,
        anticoagulation_plan=plan,
        ivig_plan=ivig,
        thrombophilia_testing=testing,
        next_review_on=next_on,
    )


def review_instant(reviewed_on: date, created_at: datetime) -> datetime:
    """When a review happened, as closely as the record says: when it was entered if that was on
    its day (or before the day ended), else the last instant of that day (UTC)."""
    end = datetime.combine(reviewed_on, time.max, tzinfo=UTC)
    return min(created_at, end)


def _histories(ids, reviews, current, by_patient, decisions) -> dict[int, FlagHistory]:
    return {
        pid: FlagHistory(
            last_hematology_review_on=max((r.at for r in reviews.get(pid, ())), default=None),
            haematology_reviews=tuple(reviews.get(pid, ())),
            tier_last_rose_at=(current.get(pid) or {}).get("tier_rose_at"),
            open_flags=by_patient.get(pid, {}),
            suppressions=decisions.get(pid, {}),
        )
        for pid in ids
    }


def _load_histories_orm(ids: list[int]):
    reviews: dict[int, list[HaemReviewSnap]] = defaultdict(list)
    # The recorded reviews: a flag resolution is not one, the record of what was decided is.
    for pid, plan, ivig, testing, reviewed_on, next_on, created in (
        HaematologyReview.objects.filter(patient_id__in=ids)
        .order_by("patient_id", "reviewed_on", "created_at", "id")
        .values_list(
            "patient_id",
            "anticoagulation_plan",
            "ivig_plan",
            "thrombophilia_testing",
            "reviewed_on",
            "next_review_on",
            "created_at",
        )
    ):
        reviews[pid].append(
            _review_snap(plan, ivig, testing, reviewed_on, next_on, review_instant(reviewed_on, created))
        )

    current = {
        row["patient_id"]: row
        for row in RiskAssessment.objects.filter(patient_id__in=ids, is_current=True).values(
            "id", "patient_id", "fingerprint", "tier", "score", "tier_rose_at"
        )
    }

    open_flags: dict[tuple[int, str], ReviewFlag] = {}
    by_patient: dict[int, dict] = defaultdict(dict)
    for flag in ReviewFlag.objects.filter(patient_id__in=ids, status__in=("open", "acknowledged", "snoozed")):
        open_flags[(flag.patient_id, flag.kind)] = flag
        by_patient[flag.patient_id][flag.kind] = _open_flag_facts(
            flag.rule, flag.priority, flag.status, flag.snoozed_until, flag.raised_at, flag.trigger
        )

    # The latest resolution of each rule; a decision (not indicated / declined) keeps it quiet.
    decisions: dict[int, dict] = defaultdict(dict)
    latest: set[tuple[int, str]] = set()
    for pid, rule, resolution, trigger, resolved_at, until in (
        ReviewFlag.objects.filter(patient_id__in=ids, status="resolved")
        .exclude(kind=FlagKind.SYMPTOM_ALERT)
        .order_by("patient_id", "rule", "-resolved_at", "-id")
        .values_list("patient_id", "rule", "resolution", "trigger", "resolved_at", "suppressed_until")
    ):
        if (pid, rule) in latest:
            continue
        latest.add((pid, rule))
        if resolution in DECISIONS and until is not None:
            decisions[pid][rule] = Suppression(
                rule=rule, resolution=resolution, trigger=trigger, resolved_at=resolved_at, until=until
            )

    return _histories(ids, reviews, current, by_patient, decisions), current, open_flags
