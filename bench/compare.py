"""The ruleset comparison (`compare_rulesets ITRS-v0 ITRS-v1`) over every active patient against a
steady-state sweep of the same patients (bench/README.md, What runs: 8; target ≤ 1.5×).

Both in this one process, through the same connection, interleaved, medians of the runs: the
sweep as `run_review_sweep` runs a chunk (`process_patients`: load, score, review, compare the
fingerprints, write nothing new), the comparison as the command runs (`risk.compare.compare`:
the same chunk loader, both rulesets without advice, nothing written). A first sweep brings the
database to its steady state before the timed runs.
"""

from __future__ import annotations

import time


def measure_compare(repeat: int, chunk: int) -> dict:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext
    from django.utils import timezone

    from risk.compare import compare
    from risk.services.assessment import process_patients
    from risk.services.sweep import chunked, sweep_patient_ids

    ids = sweep_patient_ids(full=True, now=timezone.now())
    chunks = chunked(ids, chunk)

    def sweep() -> int:
        changed = 0
        for part in chunks:
            changed += process_patients(part, as_of=timezone.now()).assessments_changed
        return changed

    sweep()  # to the steady state
    times: dict[str, list[float]] = {"steady": [], "compare": []}
    changed_in_steady = []
    result = None
    for _ in range(repeat):
        started = time.perf_counter()
        changed_in_steady.append(sweep())
        times["steady"].append(time.perf_counter() - started)
        started = time.perf_counter()
        with CaptureQueriesContext(connection) as ctx:
            result = compare("ITRS-v0", "ITRS-v1", chunk_size=chunk)
        times["compare"].append(time.perf_counter() - started)
        queries = len(ctx.captured_queries)
    return {
        "times": times,
        "patients": result.patients,
        "queries": queries,
        "chunks": len(chunks),
        "changed_in_steady": changed_in_steady,
        "table": result.text(),
        "tier_changes": result.tier_changes,
    }
