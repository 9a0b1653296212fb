"""/healthz (liveness: no dependency) and /readyz (database, broker, cache, sweeps)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import OperationalError
from django.utils import timezone

from risk import health
from risk.models import SweepChunk, SweepRun

pytestmark = [pytest.mark.sqlite, pytest.mark.django_db]


class DeadConnection:
    def cursor(self):
        raise OperationalError('connection to server at "127.0.0.1", port 5432 failed: Connection refused')


def test_readyz_reports_each_dependency_and_the_sweeps(client):
    now = timezone.now()
    run = SweepRun.objects.create(started_at=now - timedelta(hours=1), trigger="beat")
    SweepChunk.objects.create(run=run, index=0, updated_at=now - timedelta(minutes=40))
    SweepChunk.objects.create(run=run, index=1, updated_at=now - timedelta(minutes=5), status="done")
    response = client.get("/readyz")
    body = response.json()
    assert response.status_code == 200 and body["status"] == "ok"
    assert body["database"]["ok"] is True and body["cache"]["ok"] is True
    assert body["broker"] == {
        "ok": None,
        "detail": "no broker configured: tasks run in-process",
        "ms": body["broker"]["ms"],
    }
    assert body["last_beat_run"] == {"started_at": run.started_at.isoformat(), "status": "running"}
    assert body["oldest_pending_chunk"] == (now - timedelta(minutes=40)).isoformat()


def test_readyz_is_503_when_the_database_is_down_and_healthz_still_200(client, monkeypatch):
    monkeypatch.setattr(health, "connection", DeadConnection())
    response = client.get("/readyz")
    body = response.json()
    assert response.status_code == 503 and body["status"] == "down"
    assert body["database"]["ok"] is False and "Connection refused" in body["database"]["error"]
    assert body["last_beat_run"] is None
    assert client.get("/healthz").status_code == 200
