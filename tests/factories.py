"""Rows the tests need on demand that no service writes directly: flags as the sweep raises them,
and assessments with a chosen score; and the clients of the personas (tests/conftest.py)."""

from __future__ import annotations

from datetime import timedelta

from django.test import Client
from django.utils import timezone
from knox.models import AuthToken
from rest_framework.test import APIClient

from risk.models import PRIORITY_RANK, ReviewFlag, RiskAssessment


def token_client(user) -> APIClient:
    """An API client that authenticates with a fresh expiring token of the user (knox)."""
    client = APIClient()
    _, token = AuthToken.objects.create(user=user)
    client.credentials(HTTP_AUTHORIZATION=f"Token {token}")
    return client


def session_client(user) -> Client:
    """A browser-like client, logged in."""
    client = Client()
    client.force_login(user)
    return client


def make_flag(patient, *, kind="clotting_studies", rule="CLOT-BASELINE", priority="routine", status="open", **extra):
    """A flag as the sweep would raise it: routine CLOT-BASELINE, raised 2 h ago, due tomorrow,
    unless told otherwise."""
    now = timezone.now()
    return ReviewFlag.objects.create(
        patient=patient,
        site_id=patient.site_id,
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


def make_urgent_flag(patient, *, kind="hematology_review", rule="HEM-URGENT", priority="urgent", **extra):
    """An urgent haematology flag, raised and due now (the API's flag tests)."""
    now = timezone.now()
    extra = {"reason": f"{rule} for the test.", "evidence": {"test": True}, "raised_at": now, "due_at": now, **extra}
    return make_flag(patient, kind=kind, rule=rule, priority=priority, **extra)


def make_assessment(patient, *, score=2, tier="low", provisional=False, **extra):
    """A current assessment with this score (the previous current one is kept as history)."""
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
