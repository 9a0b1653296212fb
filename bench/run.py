"""Benchmarks at clinic-network scale: the figures of bench/README.md (Targets), each against its floor.

    python bench/run.py --patients 100000          # make bench
    python bench/run.py --patients 10000 --quick   # make bench-quick (about a minute once the DB exists)

1. The benchmark database `ivigtrack_bench_<N>` (bench/dbsetup.py): created, migrated and filled
   with `seed_demo --patients N` when missing, reused otherwise.
2. Measured, each several times (median and spread), interleaved so that the shared machine's
   drift hits a figure and its floor alike:
   - the floor query (bench/floor.py), before every sweep pass;
   - the full sweep, first pass (assessments, flags, infusion risks and the sweep's audit rows
     deleted first) and steady state (run again, nothing changed), by W worker processes
     (bench/sweeps.py and bench/sweeper.py, what `celery worker --concurrency W` does with the
     sweep's chunks);
   - the sweep worker's peak memory (VmHWM) at N and, for the full run, at 10,000 patients;
   - re-assessing one patient after a write (`risk.services.assessment.patient_assess`, bench/reassess.py):
     time and queries;
   - `/api/v1/patients/` (page of 50 with risk), `/staff/` (the worklist) and the floor
     `/bench/floor/` (a bare DRF list of the same 50 rows) under load from wrk at 16
     connections, gunicorn with the same settings for all; and their query counts (bench/pages.py);
   - the alert governance page over 12 months of flags against one SQL aggregate over the same
     flags, in process (bench/governance.py).
3. One table (figure, median, spread, floor, ratio, target, meets) on stdout (bench/report.py), the
   same rows in bench/results/latest.json. Nothing here is a test: no figure fails the run.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench import dbsetup  # noqa: E402
from bench.compare import measure_compare  # noqa: E402
from bench.dbsetup import close_db  # noqa: E402
from bench.governance import measure_governance  # noqa: E402
from bench.pages import PAGE_TARGETS, measure_pages, staff_credentials  # noqa: E402
from bench.reassess import measure_reassess  # noqa: E402
from bench.report import build_rows, log, median, print_table  # noqa: E402
from bench.sweeps import measure_sweeps, purge_broker, sweep_memory_at  # noqa: E402

RESULTS = ROOT / "bench" / "results"
NPROC = os.cpu_count() or 1


def django_setup(url: str, chunk: int | None) -> None:
    os.environ["DATABASE_URL"] = url
    os.environ["DJANGO_SETTINGS_MODULE"] = "bench.settings"
    if chunk:
        os.environ["IVIGTRACK_SWEEP_CHUNK"] = str(chunk)
    import django

    django.setup()


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--patients", type=int, default=100_000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--quick", action="store_true", help="fewer and shorter runs (about a minute at 10k)")
    parser.add_argument("--repeat", type=int, default=None, help="runs per figure (default 5, quick 3)")
    parser.add_argument("--workers", type=int, default=NPROC, help="sweep worker processes (default nproc)")
    parser.add_argument("--chunk", type=int, default=None, help="patients per sweep chunk (IVIGTRACK_SWEEP_CHUNK)")
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--seconds", type=float, default=None, help="seconds per load run (default 10, quick 3)")
    parser.add_argument("--gunicorn-workers", type=int, default=2 * NPROC + 1)
    parser.add_argument("--samples", type=int, default=None, help="patients re-assessed (default 50, quick 20)")
    parser.add_argument(
        "--only", default="sweep,reassess,pages,governance,compare,memory", help="comma list of parts to run"
    )
    args = parser.parse_args(argv)
    repeat = args.repeat or (3 if args.quick else 5)
    load_repeat = args.repeat or (2 if args.quick else 5)
    seconds = args.seconds or (3.0 if args.quick else 10.0)
    samples = args.samples or (20 if args.quick else 50)
    only = set(args.only.split(","))
    started = time.monotonic()

    log(f"{args.patients} patients, nproc {NPROC}, {'quick' if args.quick else 'full'} run, {repeat} runs per figure")
    url = dbsetup.ensure_database(args.patients, args.seed, log=log)
    django_setup(url, args.chunk)
    from django.conf import settings

    args.chunk = args.chunk or settings.IVIGTRACK_SWEEP_CHUNK
    purge_broker()

    floor_runs: list[float] = []
    sweeps = reassess = pages = governance = comparison = memory_10k = None
    if "sweep" in only:
        log(f"sweeps: {args.workers} worker process(es), chunks of {args.chunk}")
        sweeps = measure_sweeps(url, repeat, args.workers, args.chunk, floor_runs)
    if "reassess" in only:
        log(f"re-assessing {samples} patients after a write")
        reassess = measure_reassess(samples, args.seed)
        log(f"  median {median(reassess['ms']):.1f} ms, queries {min(reassess['queries'])}–{max(reassess['queries'])}")
        close_db()
    if "pages" in only:
        log(
            f"pages: {args.connections} connections, gunicorn --workers {args.gunicorn_workers}, "
            f"{load_repeat} rounds of {seconds:.0f} s"
        )
        try:
            pages = measure_pages(url, load_repeat, seconds, args.connections, args.gunicorn_workers)
        except Exception as exc:  # the pages are someone else's work in progress: report, do not crash
            log(f"  pages not measured: {type(exc).__name__}: {exc}")
            pages = {
                "results": {k: [] for k in PAGE_TARGETS},
                "available": dict.fromkeys(PAGE_TARGETS, str(exc)[:80]),
                "counts": {},
            }
    if "governance" in only:
        log("alert governance page over 12 months of flags, against one SQL aggregate over them")
        token, session_key = staff_credentials(url)
        governance = measure_governance(repeat * 7, session_key, token)
        log(f"  {governance['flags']} flags; page median {median(governance['times']['page']):.1f} ms")
        close_db()
    if "compare" in only:
        log("ruleset comparison ITRS-v0 vs ITRS-v1 against a steady-state sweep, in process")
        comparison = measure_compare(repeat, args.chunk)
        log(
            f"  compare median {median(comparison['times']['compare']):.2f} s, "
            f"steady sweep {median(comparison['times']['steady']):.2f} s; {comparison['queries']} queries"
        )
        log(comparison["table"])
        close_db()
    if "memory" in only and sweeps and not args.quick and args.patients != 10_000:
        log("sweep memory at 10,000 patients (ivigtrack_bench_10000)")
        memory_10k = sweep_memory_at(10_000, args.workers, args.chunk, args.seed)
    purge_broker()

    rows = build_rows(args, sweeps, floor_runs, reassess, pages, memory_10k, governance, comparison)
    header = (
        f"ivigtrack benchmarks: {args.patients} patients, nproc {NPROC}, {platform.python_implementation()} "
        f"{platform.python_version()}, {datetime.now(UTC):%Y-%m-%d %H:%M} UTC, {time.monotonic() - started:.0f} s"
    )
    print_table(rows, header)
    RESULTS.mkdir(parents=True, exist_ok=True)
    payload = [row.as_json() for row in rows]
    (RESULTS / "latest.json").write_text(json.dumps(payload, indent=2, default=str) + "\n")
    log(f"wrote {RESULTS / 'latest.json'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
