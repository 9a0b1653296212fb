"""The sweep status page: recent runs with their counts and progress, notifications sent and
failed, and a run-now button for clinicians only."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from risk.models import Notification, SweepChunk, SweepRun

pytestmark = [pytest.mark.django_db, pytest.mark.sqlite]
HTMX = {"HTTP_HX_REQUEST": "true"}


def test_shows_runs_and_notifications(nina_client, patient_pat, make_flag):
    now = timezone.now()
    SweepRun.objects.create(
        started_at=now - timedelta(minutes=10), finished_at=now - timedelta(minutes=10) + timedelta(seconds=4.2),
        trigger="beat", full=True, status="finished", chunks_total=2, chunks_done=2, patients=123,
        assessments_changed=7,
        flags_raised=5, flags_escalated=1, flags_resolved=3, errors=1,
        error_detail=[{"patient_id": 42, "error": "ValueError: bad weight"}],
    )  # fmt: skip
    flag = make_flag(patient_pat, kind="symptom_alert", rule="SYM-URGENT", priority="urgent")
    Notification.objects.create(flag=flag, priority="urgent", subject="[URGENT] about MRN-PAT", recipients=["a@x"],
                                status="failed", attempts=3, last_error="SMTPServerDisconnected: gone")  # fmt: skip
    Notification.objects.create(kind="digest", priority="routine", subject="2 routine items", status="sent",
                                attempts=1, sent_at=now)  # fmt: skip
    content = nina_client.get(reverse("staff:sweep_status")).content.decode()
    for text in ("4.2 s", ">123<", ">7<", ">5<", ">3<", "ValueError: bad weight", "finished",
                 "SMTPServerDisconnected: gone", "failed", "2 routine items", "digest"):  # fmt: skip
        assert text in content, text
    assert "hx-trigger" not in content  # nothing running: no polling
    assert "Run a full sweep now" not in content  # nurses cannot start one


def test_running_sweep_shows_progress_and_polls(nina_client):
    SweepRun.objects.create(started_at=timezone.now(), trigger="manual", chunks_total=4, chunks_done=1)
    content = nina_client.get(reverse("staff:sweep_status")).content.decode()
    assert '<progress value="1" max="4"' in content
    assert 'hx-trigger="every 3s"' in content
    partial = nina_client.get(reverse("staff:sweep_status"), **HTMX).content.decode()
    assert partial.lstrip().startswith('<div id="sweep-panel"') and "<html" not in partial


def test_stalled_sweep_is_called_so(nina_client):
    SweepRun.objects.create(started_at=timezone.now() - timedelta(hours=3), chunks_total=4, chunks_done=1)
    content = nina_client.get(reverse("staff:sweep_status")).content.decode()
    assert "stalled?" in content and "hx-trigger" not in content


def test_empty_states(nina_client):
    content = nina_client.get(reverse("staff:sweep_status")).content.decode()
    assert "No sweep has run yet." in content and "No notifications yet." in content


def test_clinician_runs_a_sweep_now(carol_client, patient_pat):
    assert "Run a full sweep now" in carol_client.get(reverse("staff:sweep_status")).content.decode()
    response = carol_client.post(reverse("staff:sweep_run"), follow=True)
    assert "A full review sweep was started" in response.content.decode()
    run = SweepRun.objects.get()
    assert run.trigger == "manual" and run.full and run.patients == 1 and run.finished_at is not None


def test_nurse_cannot_run_a_sweep(nina_client):
    assert nina_client.post(reverse("staff:sweep_run")).status_code == 403
    assert not SweepRun.objects.exists()


def test_chunk_ledger_stale_and_failed_runs_are_shown(nina_client):
    now = timezone.now()
    stale = SweepRun.objects.create(started_at=now - timedelta(hours=1), status="stale", chunks_total=2,
                                    chunks_done=1, requeued=1)  # fmt: skip
    SweepChunk.objects.create(run=stale, index=0, status="done", attempts=1, patients=20, updated_at=now)
    SweepChunk.objects.create(run=stale, index=1, status="failed", attempts=3, updated_at=now,
                              error="OperationalError after 3 attempts: server closed the connection")  # fmt: skip
    SweepRun.objects.create(started_at=now, status="failed", failure="KeyboardInterrupt: ", chunks_total=3)
    content = nina_client.get(reverse("staff:sweep_status")).content.decode()
    for text in ("stale", "were sent again (1)", "Chunks of this run", ">done<", ">failed<",
                 "OperationalError after 3 attempts", "KeyboardInterrupt"):  # fmt: skip
        assert text in content, text
    assert "hx-trigger" not in content  # nothing is running
