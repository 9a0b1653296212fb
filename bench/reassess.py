"""Re-assessing one patient after a write: time and queries (bench/README.md, What runs: 4)."""

from __future__ import annotations

import random
import time


def measure_reassess(samples: int, seed: int) -> dict:
    """Toggle a condition (add, then remove: the data ends as it began), then time patient_assess."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext
    from django.utils import timezone

    from patients.models import Condition, Patient
    from risk.services.assessment import patient_assess

    rng = random.Random(seed)
    ids = list(Patient.objects.filter(active=True).exclude(conditions__code="smoking").values_list("id", flat=True))
    picked = rng.sample(ids, min(samples, len(ids)))
    for pid in picked[:3]:  # warm up this process (imports, prepared paths)
        patient_assess(pid)
    times, queries, changed = [], [], 0
    for pid in picked:
        for step in ("add", "remove"):
            if step == "add":
                Condition.objects.create(patient_id=pid, code="smoking", onset_date=timezone.localdate())
            else:
                Condition.objects.filter(patient_id=pid, code="smoking").delete()
            before = timezone.now()
            with CaptureQueriesContext(connection) as ctx:
                started = time.perf_counter()
                assessment = patient_assess(pid)
                times.append((time.perf_counter() - started) * 1000)
            queries.append(len(ctx.captured_queries))
            changed += bool(assessment and assessment.assessed_at >= before)
    return {"ms": times, "queries": queries, "changed": changed, "count": len(times)}
