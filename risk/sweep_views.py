"""The sweeps page: recent sweep runs with their chunks and the notifications sent, and the
clinician's "run a full sweep now" (split from risk/views.py by topic)."""

from __future__ import annotations

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST
from django.views.decorators.vary import vary_on_headers

from ivigtrack.audit.services import audit_list_read, audit_record
from ivigtrack.web.decorators import clinician_required, staff_required

from . import tasks
from .models import Notification, SweepRun
from .selectors import recent_sweeps

# A run still unfinished after this long is shown as stalled (its worker died).
STALLED_AFTER_SECONDS = 3600


def _sweep_context(request: HttpRequest) -> dict:
    now = timezone.now()
    runs = list(recent_sweeps(20))
    for run in runs:
        run.running = run.status == SweepRun.Status.RUNNING
        run.stalled = run.status == SweepRun.Status.STALE or (
            run.running and (now - run.started_at).total_seconds() > STALLED_AFTER_SECONDS
        )
    return {
        "runs": runs,
        "running": any(r.running and not r.stalled for r in runs),
        "notifications": Notification.objects.select_related("flag__patient").order_by("-created_at", "-id")[:30],
        "now": now,
    }


@never_cache
@vary_on_headers("HX-Request")
@staff_required
def sweep_status(request: HttpRequest) -> HttpResponse:
    context = _sweep_context(request)
    audit_list_read(
        actor=request.user,
        action="sweep.view",
        patient_ids=[note.flag.patient_id for note in context["notifications"] if note.flag_id],
        detail={"refresh": bool(request.htmx)},
    )
    if request.htmx and not request.htmx.history_restore_request:
        return render(request, "risk/_sweep_panel.html", context)
    return render(request, "risk/sweeps.html", context)


@never_cache
@clinician_required
@require_POST
def sweep_run(request: HttpRequest) -> HttpResponse:
    audit_record(actor=request.user, action="sweep.run", detail={"full": True, "trigger": "manual"})
    tasks.dispatch(tasks.sweep, full=True, trigger="manual")
    messages.success(request, "A full review sweep was started. This page follows its progress.")
    return redirect("staff:sweep_status")
