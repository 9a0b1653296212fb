"""Redis frozen (SIGSTOP), then gone (SIGKILL): a private redis-server started by this test on
a free port, used as broker and cache, never the machine's shared one. Writes answer within 3 s,
are saved once and assessed inline; the token endpoint and the charts keep working; /readyz
says the broker is down; a manual sweep runs in-process. One test, in phases, so the private
server starts once."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import time
from datetime import timedelta

import pytest
import redis
from django.urls import reverse
from django.utils import timezone

from infusions.models import Infusion
from ivigtrack.circuit import broker_circuit, cache_circuit
from risk.models import RiskAssessment, SweepRun
from tests import factories, payloads
from tests.integration.test_worker import use_broker

pytestmark = [pytest.mark.worker, pytest.mark.django_db(transaction=True, serialized_rollback=True)]
WITHIN = 3.0  # seconds


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def private_redis(tmp_path):
    port = free_port()
    proc = subprocess.Popen(
        ["redis-server", "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
         "--dir", str(tmp_path)],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    client = redis.Redis(port=port, socket_timeout=1)
    deadline = time.monotonic() + 10
    while True:
        try:
            client.ping()
            break
        except redis.RedisError:
            if time.monotonic() > deadline:
                proc.kill()
                raise
            time.sleep(0.1)
    yield proc, f"redis://127.0.0.1:{port}/0"
    if proc.poll() is None:
        os.kill(proc.pid, signal.SIGCONT)
        proc.kill()
    proc.wait(timeout=10)


@pytest.fixture
def on_private_redis(private_redis, settings):
    from ivigtrack.celery import app

    proc, url = private_redis
    old = app.conf.broker_url
    settings.CELERY_TASK_ALWAYS_EAGER = False
    settings.CELERY_BROKER_URL = url
    settings.CACHES = {
        "default": {
            "BACKEND": "ivigtrack.cache.DegradingRedisCache",
            "LOCATION": url,
            "OPTIONS": {"socket_timeout": 1, "socket_connect_timeout": 1},
        }
    }
    use_broker(app, url)
    broker_circuit.close()
    cache_circuit.close()
    yield proc
    use_broker(app, old)
    broker_circuit.close()
    cache_circuit.close()


def timed(call):
    started = time.perf_counter()
    response = call()
    return response, time.perf_counter() - started


def infusion_post(api, patient, product, minute: int):
    started = (timezone.now() - timedelta(days=1)).replace(hour=9, minute=minute, second=0, microsecond=0)
    body = payloads.for_resource("infusions", patient_id=patient.public_id, product_id=product.public_id,
                                 started_at=started.isoformat())  # fmt: skip
    return timed(lambda: api.post("/api/v1/infusions/", body, format="json"))


def check_everything_answers(phase, api, carol, patient, product, minute):
    before = Infusion.objects.filter(patient=patient).count()
    assessed_before = RiskAssessment.objects.filter(patient=patient).count()
    response, seconds = infusion_post(api, patient, product, minute)
    assert response.status_code == 201, (phase, response.content)
    assert seconds < WITHIN, (phase, seconds)
    print(f"{phase}: infusion POST answered in {seconds:.2f} s")
    assert Infusion.objects.filter(patient=patient).count() == before + 1  # saved once
    # Assessed inline: the broker could not take the task.
    assert RiskAssessment.objects.filter(patient=patient).count() > assessed_before, phase

    token, seconds = timed(
        lambda: factories.APIClient().post(
            "/api/v1/auth/token/", {"username": "carol", "password": "correct-horse-battery"}, format="json"
        )
    )
    assert token.status_code == 200 and "token" in token.json() and seconds < WITHIN, (phase, seconds)

    browser = factories.session_client(carol)
    chart, seconds = timed(lambda: browser.get(reverse("staff:patient_chart", args=[patient.public_id, "timeline"])))
    assert chart.status_code == 200 and b"<svg" in chart.content and seconds < WITHIN, (phase, seconds)

    ready, seconds = timed(lambda: browser.get("/readyz"))
    body = ready.json()
    assert ready.status_code == 200 and seconds < 2 * WITHIN, (phase, seconds)
    assert (body["status"], body["database"]["ok"], body["broker"]["ok"], body["cache"]["ok"]) == (
        "degraded", True, False, False
    ), (phase, body)  # fmt: skip
    assert factories.APIClient().get("/healthz").status_code == 200


def test_redis_frozen_then_killed(on_private_redis, private_redis, clinician_carol, patient_pat, product):
    proc = on_private_redis
    api = factories.token_client(clinician_carol)
    # Healthy first: the task goes to the (private) broker, /readyz says so.
    response, _ = infusion_post(api, patient_pat, product, minute=0)
    assert response.status_code == 201
    _, url = private_redis
    assert redis.Redis.from_url(url).llen("celery") >= 1  # the assessment task, queued
    body = factories.session_client(clinician_carol).get("/readyz").json()
    assert (body["status"], body["broker"]["ok"], body["cache"]["ok"]) == ("ok", True, True), body

    os.kill(proc.pid, signal.SIGSTOP)  # frozen: connections open, nothing answers
    check_everything_answers("frozen", api, clinician_carol, patient_pat, product, minute=10)
    broker_circuit.close()  # a fresh attempt at the frozen broker still answers in time
    cache_circuit.close()
    check_everything_answers("frozen, circuits closed", api, clinician_carol, patient_pat, product, minute=20)

    os.kill(proc.pid, signal.SIGKILL)  # gone: connections refused
    proc.wait(timeout=10)
    broker_circuit.close()
    cache_circuit.close()
    check_everything_answers("killed", api, clinician_carol, patient_pat, product, minute=30)

    # The manual sweep button with no broker: the run finishes in-process.
    response = factories.session_client(clinician_carol).post(reverse("staff:sweep_run"))
    assert response.status_code == 302
    run = SweepRun.objects.get(trigger="manual")
    assert (run.status, run.chunks_done, run.patients) == ("finished", 1, 1)
