"""A sweep worker for the benchmark: what one `celery worker` process does with sweep chunks.

Started by bench/run.py, one process per worker. It sets Django up and connects, says
"ready", then reads one JSON line {run_id, as_of, chunks (SweepChunk ids)} from stdin and runs
`risk.services.sweep.sweep_chunk_run` on each chunk (exactly what the `risk.tasks.sweep_chunk` task
does), and prints one JSON line: seconds, peak RSS (VmHWM of this process) and counters.
"""

from __future__ import annotations

import json
import os
import resource
import sys
import time
from datetime import datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "bench.settings")


def peak_rss_kb() -> int:
    """This process's peak resident set (VmHWM). Not ru_maxrss: Linux carries the parent's RSS at
    fork into the child's ru_maxrss across exec, so a child of a large runner would report it."""
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss


def main() -> None:
    import django

    django.setup()
    from django.db import connection

    from risk.services.sweep import sweep_chunk_run as sweep_chunk

    connection.ensure_connection()
    print("ready", flush=True)
    job = json.loads(sys.stdin.readline())
    as_of = datetime.fromisoformat(job["as_of"])
    totals = {"patients": 0, "assessments_changed": 0, "flags_raised": 0, "flags_resolved": 0, "errors": 0}
    started = time.perf_counter()
    cpu = time.process_time()
    for chunk_id in job["chunks"]:
        outcome = sweep_chunk(chunk_id, as_of=as_of)
        for name in totals:
            totals[name] += getattr(outcome, name)
    seconds = time.perf_counter() - started
    report = {
        "seconds": seconds,
        "cpu_seconds": time.process_time() - cpu,
        "maxrss_kb": peak_rss_kb(),
        **totals,
    }
    print(json.dumps(report), flush=True)


if __name__ == "__main__":
    main()
