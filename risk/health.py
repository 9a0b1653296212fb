"""/readyz: can this instance serve, and is the background work moving?

JSON with one entry per dependency: the database (503 when it is unreachable: nothing works
without it), the broker and the cache (reported, never fatal: writes run their tasks inline and
the cache degrades), the last sweep beat started, and since when the oldest unfinished sweep
chunk has not moved. Each check gives up after at most 2 s. Anonymous, like /healthz, and says
nothing about patients.
"""

from __future__ import annotations

import time
import uuid

import redis
from django.conf import settings
from django.contrib.auth.decorators import login_not_required
from django.core.cache import cache
from django.db import DatabaseError, connection
from django.http import HttpRequest, JsonResponse
from django.views.decorators.cache import never_cache

from ivigtrack.circuit import broker_circuit


def _timed(check) -> dict:
    started = time.perf_counter()
    try:
        result = check()
    except Exception as exc:  # a check reports, never raises
        result = {"ok": False, "error": f"{type(exc).__name__}: {exc}"[:300]}
    result["ms"] = round((time.perf_counter() - started) * 1000, 1)
    return result


def check_database() -> dict:
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
        cursor.fetchone()
    return {"ok": True}


def check_broker() -> dict:
    url = settings.CELERY_BROKER_URL
    if not url or settings.CELERY_TASK_ALWAYS_EAGER:
        return {"ok": None, "detail": "no broker configured: tasks run in-process"}
    client = redis.Redis.from_url(
        url, socket_timeout=settings.BROKER_TIMEOUT, socket_connect_timeout=settings.BROKER_TIMEOUT
    )
    try:
        client.ping()
    except redis.RedisError as exc:
        return {"ok": False, "error": f"{type(exc).__name__}: {exc}"[:300], "detail": "tasks run inline"}
    finally:
        client.close()
    broker_circuit.close()
    return {"ok": True}


def check_cache() -> dict:
    token = uuid.uuid4().hex
    cache.set("readyz:probe", token, 30)
    if cache.get("readyz:probe") != token:
        return {"ok": False, "detail": "the cache does not answer: throttles and chart caching are off"}
    return {"ok": True}


def sweep_state() -> dict:
    from risk.models import SweepRun
    from risk.services.sweep import oldest_pending_chunk

    last = SweepRun.objects.filter(trigger="beat").order_by("-started_at").values("started_at", "status").first()
    oldest = oldest_pending_chunk()
    return {
        "last_beat_run": {"started_at": last["started_at"].isoformat(), "status": last["status"]} if last else None,
        "oldest_pending_chunk": oldest.isoformat() if oldest else None,
    }


@never_cache
@login_not_required
def readyz(request: HttpRequest) -> JsonResponse:
    database = _timed(check_database)
    body = {"database": database, "broker": _timed(check_broker), "cache": _timed(check_cache)}
    if database["ok"]:
        try:
            body.update(sweep_state())
        except DatabaseError as exc:
            database.update(ok=False, error=f"{type(exc).__name__}: {exc}"[:300])
    else:
        body.update(last_beat_run=None, oldest_pending_chunk=None)
    degraded = body["broker"]["ok"] is False or body["cache"]["ok"] is False
    body["status"] = "down" if not database["ok"] else ("degraded" if degraded else "ok")
    return JsonResponse(body, status=200 if database["ok"] else 503)
