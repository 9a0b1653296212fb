"""Fixtures for the page tests: logged-in clients per persona and small record builders.

Writes enqueue Celery tasks on commit; with Redis running they would pile up in the real
broker with no worker, so these tests run tasks in-process (risk.tasks.dispatch honours
CELERY_TASK_ALWAYS_EAGER).
"""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone

from risk.models import PRIORITY_RANK, ReviewFlag, RiskAssessment


@pytest.fixture(autouse=True)
def eager_tasks(settings):
    settings.CELERY_TASK_ALWAYS_EAGER = True


def _client_for(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


@pytest.fixture
def carol_client(clinician_carol):
    return _client_for(clinician_carol)


@pytest.fixture
def nina_client(nurse_nina):
    return _client_for(nurse_nina)


@pytest.fixture
def pat_client(patient_pat):
    return _client_for(patient_pat.user)


@pytest.fixture
def quinn_client(patient_quinn):
    return _client_for(patient_quinn.user)


@pytest.fixture
def make_flag(db):
    def make(patient, *, kind="clotting_studies", rule="CLOT-BASELINE", priority="routine", status="open", **extra):
        now = timezone.now()
        return ReviewFlag.objects.create(
            patient=patient,
            kind=kind,
            rule=rule,
            priority=priority,
            priority_rank=PRIORITY_RANK[priority],
            status=status,
            reason=extra.pop("reason", f"{rule}: no complete clotting panel in 90 days."),
            raised_at=extra.pop("raised_at", now - timedelta(hours=2)),
            due_at=extra.pop("due_at", now + timedelta(days=1)),
            **extra,
        )

    return make


@pytest.fixture
def make_assessment(db):
    def make(patient, *, score=2, tier="low", provisional=False, **extra):
        now = timezone.now()
        RiskAssessment.objects.filter(patient=patient, is_current=True).update(is_current=False)
        return RiskAssessment.objects.create(
            patient=patient,
            assessed_at=extra.pop("assessed_at", now),
            as_of=now,
            ruleset="ITRS-v0",
            score=score,
            tier=tier,
            provisional=provisional,
            fingerprint=f"test-{score}-{tier}-{provisional}",
            **extra,
        )

    return make
