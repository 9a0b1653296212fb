"""The review sweep: which patients, in which chunks, and the run's ledger.

`sweep_start` picks the patients and creates the `SweepRun` with one `SweepChunk` row per chunk.
Each chunk (`sweep_chunk_run`: a Celery task in production, a loop in `sweep_inline`) goes through
the same assessment path as a single write and, in the same transaction, marks its row done and
rewrites the run's counters as the sum of its chunks'. A redelivered chunk that already finished
finds its row done and changes nothing; a chunk whose database connection dies (or that meets a
deadlock or a serialization failure) is retried with backoff, then marked failed with its error.
`sweep_watchdog` (beat, every 5 minutes) marks runs whose chunks stopped moving `stale` and sends
their unfinished chunks again.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from datetime import datetime, timedelta

from django.conf import settings
from django.db import DatabaseError, InterfaceError, OperationalError, connection, transaction
from django.db.models import Count, Exists, F, Max, Min, OuterRef, Q, Sum
from django.utils import timezone

from infusions.models import Infusion, Regimen
from patients.models import Patient
from risk.models import UNRESOLVED, ReviewFlag, SweepChunk, SweepRun
from risk.services import assessment
from risk.services.outcome import ChunkOutcome

log = logging.getLogger(__name__)

COUNTERS = ("patients", "assessments_changed", "flags_raised", "flags_escalated", "flags_resolved", "errors")
FINISHED = (SweepChunk.Status.DONE, SweepChunk.Status.FAILED)
UNFINISHED = (SweepChunk.Status.PENDING, SweepChunk.Status.RUNNING)
# Errors worth another attempt: the connection was lost (OperationalError, InterfaceError),
# a deadlock or a serialization failure (OperationalError on PostgreSQL).
RETRYABLE = (OperationalError, InterfaceError)


def sweep_patient_ids(*, full: bool, now: datetime) -> list[int]:
    """Active patients to sweep. The hourly pass takes those whose state moves with time soon:
    unresolved flags (snoozes end, rules lapse) and patients inside an infusion watch window or
    starting a course; the nightly pass takes everyone active."""
    patients = Patient.objects.filter(active=True)
    if not full:
        patients = patients.filter(
            Exists(ReviewFlag.objects.filter(patient=OuterRef("pk"), status__in=UNRESOLVED))
            | Exists(Infusion.objects.filter(patient=OuterRef("pk"), started_at__gte=now - timedelta(days=15)))
            | Exists(
                Regimen.objects.filter(patient=OuterRef("pk"), start_date__lte=(now + timedelta(days=2)).date()).filter(
                    Q(end_date__isnull=True) | Q(end_date__gte=now.date())
                )
            )
        )
    return list(patients.order_by("id").values_list("id", flat=True))


def chunked(ids: list[int], size: int) -> list[list[int]]:
    return [ids[i : i + size] for i in range(0, len(ids), size)]


def sweep_start(*, full: bool = True, trigger: str = "beat", now: datetime | None = None) -> tuple[SweepRun, list[int]]:
    """Create the run and its chunk rows in one transaction; returns the run and the chunk ids."""
    now = now or timezone.now()
    ids = sweep_patient_ids(full=full, now=now)
    chunks = chunked(ids, settings.IVIGTRACK_SWEEP_CHUNK)
    with transaction.atomic():
        run = SweepRun.objects.create(started_at=now, trigger=trigger, full=full, chunks_total=len(chunks))
        rows = SweepChunk.objects.bulk_create(
            [SweepChunk(run=run, index=i, patient_ids=chunk, updated_at=now) for i, chunk in enumerate(chunks)]
        )
        if not chunks:
            SweepRun.objects.filter(pk=run.pk).update(status=SweepRun.Status.FINISHED, finished_at=timezone.now())
            run.refresh_from_db()
    if rows and rows[0].pk is None:  # backends without RETURNING
        return run, list(run.chunks.order_by("index").values_list("pk", flat=True))
    return run, [row.pk for row in rows]


def sweep_chunk_run(chunk_id: int, *, as_of: datetime | None = None, sleep: Callable = time.sleep) -> ChunkOutcome:
    """Run one chunk: its results and its ledger row in one transaction, retried on database
    errors with backoff (IVIGTRACK_SWEEP_RETRIES attempts), then marked failed with the error.

    ``as_of`` defaults to the moment the chunk runs, so flags and audit rows carry the time they
    were written, not the run's start."""
    attempts = settings.IVIGTRACK_SWEEP_RETRIES
    backoff = settings.IVIGTRACK_SWEEP_RETRY_BACKOFF
    for attempt in range(1, attempts + 1):
        try:
            return _chunk_attempt(chunk_id, as_of)
        except RETRYABLE as exc:
            log.warning("sweep chunk %s: attempt %s of %s failed: %s", chunk_id, attempt, attempts, exc)
            _reset_connection()
            if attempt == attempts:
                _chunk_fail(chunk_id, f"{type(exc).__name__} after {attempts} attempts: {exc}")
                return ChunkOutcome()
            sleep(backoff * 2 ** (attempt - 1))
    raise AssertionError("unreachable")


def _reset_connection() -> None:
    """Drop a connection that died (or is in an aborted transaction) so the next attempt opens a
    fresh one. Not inside an outer transaction (a test's, or a caller's): that one must roll back
    on its own."""
    if connection.in_atomic_block:
        return
    try:
        connection.close()
    except DatabaseError:
        pass


def _chunk_attempt(chunk_id: int, as_of: datetime | None) -> ChunkOutcome:
    now = timezone.now()
    # Say the chunk has started (committed at once, so the watchdog sees it move).
    started = SweepChunk.objects.filter(pk=chunk_id, status__in=UNFINISHED).update(
        status=SweepChunk.Status.RUNNING, attempts=F("attempts") + 1, started_at=now, updated_at=now
    )
    if not started:
        log.info("sweep chunk %s is already finished (a redelivered message): nothing to do", chunk_id)
        return ChunkOutcome()
    with transaction.atomic():
        # The row lock: a copy of this chunk running at the same time waits here, then finds it done.
        chunk = SweepChunk.objects.select_for_update().get(pk=chunk_id)
        if chunk.status in FINISHED:
            return ChunkOutcome()
        outcome = assessment.process_patients(chunk.patient_ids, as_of=as_of)
        finished = timezone.now()
        SweepChunk.objects.filter(pk=chunk_id).update(
            status=SweepChunk.Status.DONE,
            finished_at=finished,
            updated_at=finished,
            error="",
            error_detail=outcome.error_detail[-100:],
            **{name: getattr(outcome, name) for name in COUNTERS},
        )
        _run_recount(chunk.run_id, finished)
    return outcome


def _chunk_fail(chunk_id: int, error: str) -> None:
    """Give up on a chunk: failed, with its error; the run counts it as finished."""
    now = timezone.now()
    try:
        with transaction.atomic():
            chunk = SweepChunk.objects.select_for_update().get(pk=chunk_id)
            if chunk.status in FINISHED:
                return
            SweepChunk.objects.filter(pk=chunk_id).update(
                status=SweepChunk.Status.FAILED, error=error[:2000], finished_at=now, updated_at=now
            )
            _run_recount(chunk.run_id, now)
    except DatabaseError:
        # The database is still unreachable: the row stays unfinished and the watchdog re-queues it.
        log.exception("sweep chunk %s could not be marked failed", chunk_id)
        _reset_connection()


def _run_recount(run_id: int, now: datetime) -> None:
    """The run's counters as the sum of its chunks', under the run's row lock (so two chunks
    finishing at once each see the other's committed row). Call inside the chunk's transaction."""
    run = SweepRun.objects.select_for_update().get(pk=run_id)
    sums = run.chunks.aggregate(
        **{name: Sum(name) for name in COUNTERS},
        chunks_done=Count("pk", filter=Q(status__in=FINISHED)),
        chunks_failed=Count("pk", filter=Q(status=SweepChunk.Status.FAILED)),
    )
    values = {name: sums[name] or 0 for name in (*COUNTERS, "chunks_done", "chunks_failed")}
    details = []
    for chunk in run.chunks.filter(Q(errors__gt=0) | Q(status=SweepChunk.Status.FAILED)).only(
        "index", "error", "error_detail", "status"
    )[:100]:
        details.extend(chunk.error_detail)
        if chunk.status == SweepChunk.Status.FAILED:
            details.append({"chunk": chunk.index, "error": chunk.error[:300]})
    values["error_detail"] = details[-100:]
    if values["chunks_done"] >= run.chunks_total and run.status != SweepRun.Status.FAILED:
        values["status"] = SweepRun.Status.FINISHED
        values["finished_at"] = run.finished_at or now
    SweepRun.objects.filter(pk=run_id).update(**values)


def sweep_fail(run_id: int, error: str) -> None:
    """The run itself died (run_review_sweep, the fan-out task): failed, with why."""
    SweepRun.objects.filter(pk=run_id).exclude(status=SweepRun.Status.FINISHED).update(
        status=SweepRun.Status.FAILED, failure=error[:2000], finished_at=timezone.now()
    )


def sweep_inline(*, full: bool = True, trigger: str = "command", progress=None) -> SweepRun:
    """The whole sweep in this process, without a broker (management command, tests, a manual
    sweep with no broker). If it dies, its run is marked failed with the error."""
    run, chunk_ids = sweep_start(full=full, trigger=trigger)
    try:
        for chunk_id in chunk_ids:
            outcome = sweep_chunk_run(chunk_id)
            if progress is not None:
                progress(outcome.patients + outcome.errors)
    except BaseException as exc:
        _reset_connection()
        sweep_fail(run.pk, f"{type(exc).__name__}: {exc}")
        raise
    run.refresh_from_db()
    return run


def stale_runs(now: datetime | None = None) -> list[tuple[int, list[int]]]:
    """Runs not finished whose chunks have not moved for `IVIGTRACK_SWEEP_STALE_MINUTES`, with
    their unfinished chunk ids. Marks each run `stale` and touches the chunks it returns (so the
    next watchdog pass waits another period before sending them again)."""
    now = now or timezone.now()
    cutoff = now - timedelta(minutes=settings.IVIGTRACK_SWEEP_STALE_MINUTES)
    runs = (
        SweepRun.objects.filter(status__in=(SweepRun.Status.RUNNING, SweepRun.Status.STALE))
        .annotate(last_move=Max("chunks__updated_at"))
        .filter(Q(last_move__lt=cutoff) | Q(last_move__isnull=True, started_at__lt=cutoff))
        .values_list("pk", flat=True)
    )
    found = []
    for run_id in list(runs):
        with transaction.atomic():
            pending = list(
                SweepChunk.objects.select_for_update()
                .filter(run_id=run_id, status__in=UNFINISHED)
                .order_by("index")
                .values_list("pk", flat=True)
            )
            SweepChunk.objects.filter(pk__in=pending).update(status=SweepChunk.Status.PENDING, updated_at=now)
            run_update = {"status": SweepRun.Status.STALE, "stale_at": now, "requeued": F("requeued") + len(pending)}
            if not pending:  # every chunk finished but the run was not closed (should not happen)
                run_update = {"status": SweepRun.Status.FINISHED, "finished_at": now}
            SweepRun.objects.filter(pk=run_id).update(**run_update)
        found.append((run_id, pending))
    return found


def oldest_pending_chunk() -> datetime | None:
    """When the oldest unfinished chunk last moved (for /readyz)."""
    return SweepChunk.objects.filter(status__in=UNFINISHED).aggregate(oldest=Min("updated_at"))["oldest"]
