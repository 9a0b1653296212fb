"""GET /api/v1/sweeps/: runs with their status and chunk ledger, staff only, read-only."""

from __future__ import annotations

import pytest
from django.utils import timezone

from demo.synthetic import generate
from risk.services import sweep as sweeps

pytestmark = [pytest.mark.sqlite, pytest.mark.django_db]
URL = "/api/v1/sweeps/"


def test_staff_read_runs_with_status_and_chunks(nina_api, settings, django_assert_max_num_queries):
    settings.IVIGTRACK_SWEEP_CHUNK = 4
    generate(10, seed=2, today=timezone.localdate())
    run, chunk_ids = sweeps.sweep_start(full=True, trigger="test")
    sweeps.sweep_chunk_run(chunk_ids[0])
    for _ in range(3):
        sweeps.sweep_inline(full=True)
    with django_assert_max_num_queries(8):
        body = nina_api.get(URL).json()
    assert body["count"] == 4
    oldest = body["results"][-1]
    assert oldest["id"] == str(run.public_id)
    assert (oldest["status"], oldest["chunks_total"], oldest["chunks_done"], oldest["patients"]) == ("running", 3, 1, 4)
    assert [(c["index"], c["status"], c["patient_count"]) for c in oldest["chunks"]] == [
        (0, "done", 4), (1, "pending", 4), (2, "pending", 2)
    ]  # fmt: skip
    assert body["results"][0]["status"] == "finished"
    assert nina_api.get(URL, {"status": "running"}).json()["count"] == 1
    assert nina_api.get(f"{URL}{run.public_id}/").json()["chunks"][0]["attempts"] == 1


def test_read_only_and_staff_only(carol_api, pat_api, client):
    assert carol_api.post(URL, {}, format="json").status_code == 405
    assert pat_api.get(URL).status_code == 403
    assert client.get(URL).status_code == 401
