"""The review sweep: which patients, in which chunks, and the run's counters.

`sweep_start` picks the patients and creates the `SweepRun`; each chunk (`sweep_chunk_run`, a
Celery task in production, a loop in `sweep_inline`) goes through the same assessment path as a
single write and adds its counts to the run with F(), so chunks may run in any worker.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from django.conf import settings
from django.db.models import Exists, F, OuterRef, Q
from django.utils import timezone

from infusions.models import Infusion, Regimen
from patients.models import Patient
from risk.models import UNRESOLVED, ReviewFlag, SweepRun
from risk.services import assessment
from risk.services.outcome import ChunkOutcome


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


def sweep_start(
    *, full: bool = True, trigger: str = "beat", now: datetime | None = None
) -> tuple[SweepRun, list[list[int]]]:
    now = now or timezone.now()
    ids = sweep_patient_ids(full=full, now=now)
    chunks = chunked(ids, settings.IVIGTRACK_SWEEP_CHUNK)
    run = SweepRun.objects.create(started_at=now, trigger=trigger, full=full, chunks_total=len(chunks))
    if not chunks:
        SweepRun.objects.filter(pk=run.pk).update(finished_at=timezone.now())
        run.refresh_from_db()
    return run, chunks


def sweep_chunk_run(run_id: int, patient_ids: list[int], *, as_of: datetime | None = None) -> ChunkOutcome:
    """One chunk of a sweep; counters are added to the run with F() so chunks may run anywhere."""
    outcome = assessment.process_patients(patient_ids, as_of=as_of)
    SweepRun.objects.filter(pk=run_id).update(
        chunks_done=F("chunks_done") + 1,
        patients=F("patients") + outcome.patients,
        assessments_changed=F("assessments_changed") + outcome.assessments_changed,
        flags_raised=F("flags_raised") + outcome.flags_raised,
        flags_escalated=F("flags_escalated") + outcome.flags_escalated,
        flags_resolved=F("flags_resolved") + outcome.flags_resolved,
        errors=F("errors") + outcome.errors,
    )
    if outcome.error_detail:
        run = SweepRun.objects.get(pk=run_id)
        SweepRun.objects.filter(pk=run_id).update(error_detail=(run.error_detail + outcome.error_detail)[-100:])
    SweepRun.objects.filter(pk=run_id, finished_at__isnull=True, chunks_done__gte=F("chunks_total")).update(
        finished_at=timezone.now()
    )
    return outcome


def sweep_inline(*, full: bool = True, trigger: str = "command", progress=None) -> SweepRun:
    """The whole sweep in this process, without a broker (management command, tests)."""
    run, chunks = sweep_start(full=full, trigger=trigger)
    for chunk in chunks:
        sweep_chunk_run(run.pk, chunk, as_of=run.started_at)
        if progress is not None:
            progress(len(chunk))
    run.refresh_from_db()
    return run
