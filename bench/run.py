"""Benchmarks at clinic-network scale: the figures of DESIGN §11, each against its floor.

    python bench/run.py --patients 100000          # make bench
    python bench/run.py --patients 10000 --quick   # make bench-quick (about a minute once the DB exists)

1. The benchmark database `ivigtrack_bench_<N>` (bench/dbsetup.py): created, migrated and filled
   with `seed_demo --patients N` when missing, reused otherwise.
2. Measured, each several times (median and spread), interleaved so that the shared machine's
   drift hits a figure and its floor alike:
   - the floor query (bench/floor.py), before every sweep pass;
   - the full sweep, first pass (assessments, flags, infusion risks and the sweep's audit rows
     deleted first) and steady state (run again, nothing changed), by W worker processes
     (bench/sweeper.py, what `celery worker --concurrency W` does with the sweep's chunks);
   - the sweep worker's peak memory (ru_maxrss) at N and, for the full run, at 10,000 patients;
   - re-assessing one patient after a write (`risk.services.patient_assess`): time and queries;
   - `/api/v1/patients/` (page of 50 with risk), `/staff/` (the worklist) and the floor
     `/bench/floor/` (a bare DRF list of the same 50 rows) under load from wrk at 16
     connections, gunicorn with the same settings for all; and their query counts.
3. One table (figure, median, spread, floor, ratio, target, meets) on stdout, the same rows in
   bench/results/latest.json. Nothing here is a test: no figure fails the run.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import platform
import random
import statistics
import subprocess
import sys
import time
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench import dbsetup  # noqa: E402

RESULTS = ROOT / "bench" / "results"
NPROC = os.cpu_count() or 1


# --- rows of the report -------------------------------------------------------------------------


@dataclass
class Row:
    name: str
    value: float | None
    unit: str
    floor: float | None = None
    ratio: float | None = None
    target: str = ""
    meets: bool | None = None
    spread: str = ""
    samples: list = field(default_factory=list)
    note: str = ""

    def as_json(self) -> dict:
        data = asdict(self)
        return {k: (None if isinstance(v, float) and math.isnan(v) else v) for k, v in data.items()}


def median(values: list[float]) -> float:
    return statistics.median(values) if values else float("nan")


def spread(values: list[float], fmt: str = "{:.2f}") -> str:
    if not values:
        return ""
    if len(values) == 1:
        return "1 run"
    return f"{fmt.format(min(values))}–{fmt.format(max(values))} ({len(values)} runs)"


def log(message: str) -> None:
    print(f"[bench {time.strftime('%H:%M:%S')}] {message}", flush=True)


# --- Django in this process (floor query, re-assessment, query counts) ------------------------------


def django_setup(url: str, chunk: int | None) -> None:
    os.environ["DATABASE_URL"] = url
    os.environ["DJANGO_SETTINGS_MODULE"] = "bench.settings"
    if chunk:
        os.environ["IVIGTRACK_SWEEP_CHUNK"] = str(chunk)
    import django

    django.setup()


def close_db() -> None:
    from django.db import connections

    connections.close_all()


def purge_broker() -> None:
    """Drop the notification tasks the sweeps sent to the benchmark's own queue."""
    try:
        from ivigtrack.celery import app

        app.control.purge()
    except Exception as exc:  # the broker is optional for the figures
        log(f"(could not purge the benchmark queue: {exc})")


def reset_risk_state() -> None:
    """Before a first pass: no assessment, no flag, no infusion risk, no sweep audit row."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("TRUNCATE risk_riskassessment, risk_infusionrisk, risk_reviewflag CASCADE")
        cursor.execute("DELETE FROM audit_auditevent WHERE actor_label LIKE 'job:%%'")
    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE audit_auditevent")
        cursor.execute("ANALYZE risk_riskassessment, risk_infusionrisk, risk_reviewflag")


def analyze_risk_tables() -> None:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE risk_riskassessment, risk_infusionrisk, risk_reviewflag, audit_auditevent")


# --- the sweep -----------------------------------------------------------------------------------


def sweep_pass(url: str, workers: int, chunk: int | None) -> dict:
    """One full sweep by `workers` worker processes; wall time from sweep_start to the last chunk."""
    from risk.services.sweep import sweep_start

    env = dbsetup.child_env(url, **({"IVIGTRACK_SWEEP_CHUNK": str(chunk)} if chunk else {}))
    procs = [
        subprocess.Popen(
            [sys.executable, str(ROOT / "bench" / "sweeper.py")],
            cwd=ROOT,
            env=env,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        for _ in range(workers)
    ]
    try:
        for proc in procs:
            if proc.stdout.readline().strip() != "ready":
                raise RuntimeError("a sweep worker did not start")
        started = time.perf_counter()
        run, chunks = sweep_start(full=True, trigger="bench")
        close_db()
        for i, proc in enumerate(procs):
            job = {"run_id": run.pk, "as_of": run.started_at.isoformat(), "chunks": chunks[i::workers]}
            proc.stdin.write(json.dumps(job) + "\n")
            proc.stdin.flush()
        reports = [json.loads(proc.stdout.readline()) for proc in procs]
        seconds = time.perf_counter() - started
        for proc in procs:
            proc.wait(timeout=60)
    finally:
        for proc in procs:
            if proc.poll() is None:
                proc.kill()
                proc.wait()
    total = {k: sum(r[k] for r in reports) for k in ("patients", "assessments_changed", "flags_raised", "errors")}
    return {
        "seconds": seconds,
        "maxrss_mb": max(r["maxrss_kb"] for r in reports) / 1024,
        "cpu_seconds": sum(r["cpu_seconds"] for r in reports),
        "chunks": len(chunks),
        **total,
    }


def measure_sweeps(url: str, repeat: int, workers: int, chunk: int | None, floor_runs: list) -> dict:
    from django.utils import timezone

    from bench.floor import floor_query

    first, steady, memory = [], [], []
    cpu: dict[str, list[float]] = {"first": [], "steady": []}
    rows_read = 0
    for i in range(repeat):
        seconds, rows_read = floor_query(timezone.now())
        floor_runs.append(seconds)
        reset_risk_state()
        close_db()
        r1 = sweep_pass(url, workers, chunk)
        first.append(r1["seconds"])
        memory.append(r1["maxrss_mb"])
        analyze_risk_tables()
        close_db()
        r2 = sweep_pass(url, workers, chunk)
        steady.append(r2["seconds"])
        cpu["first"].append(r1["cpu_seconds"])
        cpu["steady"].append(r2["cpu_seconds"])
        memory.append(r2["maxrss_mb"])
        purge_broker()
        if r2["assessments_changed"] or r2["errors"] or r1["errors"]:
            log(f"  warning: steady pass changed {r2['assessments_changed']} assessments; errors {r1['errors']}")
        log(
            f"  pass {i + 1}/{repeat}: floor {seconds:.2f} s ({rows_read} rows); first {r1['seconds']:.2f} s "
            f"({r1['assessments_changed']} assessments, {r1['flags_raised']} flags, {r1['maxrss_mb']:.0f} MB); "
            f"steady {r2['seconds']:.2f} s ({r2['maxrss_mb']:.0f} MB); {r1['chunks']} chunks"
        )
    return {"first": first, "steady": steady, "memory": memory, "rows_read": rows_read, "cpu": cpu}


def sweep_memory_at(patients: int, workers: int, chunk: int | None, seed: int) -> float:
    """Peak RSS of a sweep worker (first pass) on another benchmark database, e.g. 10k patients."""
    url = dbsetup.ensure_database(patients, seed, log=log)
    import psycopg

    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("TRUNCATE risk_riskassessment, risk_infusionrisk, risk_reviewflag CASCADE")
        conn.execute("DELETE FROM audit_auditevent WHERE actor_label LIKE 'job:%%'")
    from django.db import connections

    close_db()
    saved = connections["default"].settings_dict["NAME"]
    connections["default"].settings_dict["NAME"] = dbsetup.db_name(patients)
    try:
        result = sweep_pass(url, workers, chunk)
    finally:
        close_db()
        connections["default"].settings_dict["NAME"] = saved
    purge_broker()
    return result["maxrss_mb"]


# --- one patient after a write ---------------------------------------------------------------------


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


# --- pages under load ----------------------------------------------------------------------------


def staff_credentials(url: str) -> tuple[str, str]:
    """(API token, session key) of the benchmark clinician."""
    from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY, get_user_model
    from django.contrib.sessions.backends.db import SessionStore

    token = dbsetup.ensure_staff_token(url)
    user = get_user_model().objects.get(username=dbsetup.STAFF_USERNAME)
    session = SessionStore()
    session[SESSION_KEY] = str(user.pk)
    session[BACKEND_SESSION_KEY] = "django.contrib.auth.backends.ModelBackend"
    session[HASH_SESSION_KEY] = user.get_session_auth_hash()
    session.set_expiry(6 * 3600)
    session.save()
    return token, session.session_key


def query_counts(token: str, session_key: str) -> dict:
    """Queries per request at two page sizes (or two pages): equal means constant in the rows shown."""
    from django.conf import settings
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    def count(path: str, headers: dict) -> int | None:
        client = Client(HTTP_HOST="127.0.0.1", **headers)
        if "cookie" in headers:
            client.cookies[settings.SESSION_COOKIE_NAME] = session_key
        client.get(path)  # warm
        with CaptureQueriesContext(connection) as ctx:
            response = client.get(path)
        return len(ctx.captured_queries) if response.status_code == 200 else None

    token_h = {"HTTP_AUTHORIZATION": f"Token {token}"}
    cookie_h = {"cookie": True}
    return {
        "api": (count("/api/v1/patients/?page_size=10", token_h), count("/api/v1/patients/?page_size=50", token_h)),
        "floor_token": (count("/bench/floor/?page_size=10", token_h), count("/bench/floor/?page_size=50", token_h)),
        "floor_session": (count("/bench/floor/?page_size=10", cookie_h), count("/bench/floor/?page_size=50", cookie_h)),
        "staff": (count("/staff/?page=2", cookie_h), count("/staff/", cookie_h)),
    }


# what is loaded, and how it authenticates (the floor once each way: the API uses a token, the
# staff pages a session cookie, whose session row Django saves on every request)
PAGE_TARGETS = {
    "floor_token": ("/bench/floor/", "token"),
    "api": ("/api/v1/patients/", "token"),
    "floor_session": ("/bench/floor/", "session"),
    "staff": ("/staff/", "session"),
}


def measure_pages(url: str, repeat: int, seconds: float, connections: int, gunicorn_workers: int) -> dict:
    from django.conf import settings

    from bench.load import Server, load, request

    token, session_key = staff_credentials(url)
    counts = query_counts(token, session_key)
    close_db()
    by_token = {"Authorization": f"Token {token}"}
    by_session = {"Cookie": f"{settings.SESSION_COOKIE_NAME}={session_key}"}
    targets = {name: (path, by_token if auth == "token" else by_session) for name, (path, auth) in PAGE_TARGETS.items()}
    results: dict[str, list] = {name: [] for name in targets}
    available: dict[str, str] = {}
    with Server(dbsetup.child_env(url), gunicorn_workers) as server:
        for name, (path, headers) in targets.items():
            status, body = request(server.port, path, headers)
            ok = status == 200 and (name != "staff" or b"<html" in body.lower() or b"<!doctype" in body.lower())
            available[name] = "" if ok else f"HTTP {status}"
            if ok:  # warm every gunicorn worker (imports, connection)
                load(server.port, path, headers, connections=connections, seconds=1)
        for i in range(repeat):
            for name, (path, headers) in targets.items():
                if available[name]:
                    continue
                result = load(server.port, path, headers, connections=connections, seconds=seconds)
                results[name].append(result)
            log(
                f"  load round {i + 1}/{repeat}: "
                + ", ".join(
                    f"{name} {results[name][-1].rps:.0f} req/s" if results[name] else f"{name} n/a" for name in targets
                )
            )
    return {"results": results, "available": available, "counts": counts}


# --- report ---------------------------------------------------------------------------------------


def build_rows(args, sweeps, floor_runs, reassess, pages, memory_10k) -> list[Row]:
    rows: list[Row] = []
    floor = median(floor_runs)
    n = args.patients
    if sweeps:
        rows.append(
            Row(
                "floor: one SQL query reading the rows the snapshot loader reads",
                floor,
                "s",
                floor,
                1.0,
                "(floor)",
                None,
                spread(floor_runs),
                floor_runs,
                f"{sweeps['rows_read']} rows fetched",
            )
        )
        for key, name, mult, limit in (
            ("steady", "full sweep, steady state (nothing changed)", 3, 30),
            ("first", "full sweep, first pass (every assessment new)", 6, 60),
        ):
            value = median(sweeps[key])
            ratio = value / floor
            scale = "" if n == 100_000 else f" (at 100k; here {n})"
            rows.append(
                Row(
                    name,
                    value,
                    "s",
                    floor,
                    ratio,
                    f"≤ {mult}× floor and < {limit} s{scale}",
                    ratio <= mult and (value < limit or n < 100_000),
                    spread(sweeps[key]),
                    sweeps[key],
                    f"{args.workers} worker processes, chunks of {args.chunk}; "
                    f"CPU in the workers {median(sweeps['cpu'][key]):.1f} s (median)",
                )
            )
    if reassess:
        ms = reassess["ms"]
        rows.append(
            Row(
                "re-assess one patient after a write",
                median(ms),
                "ms",
                None,
                None,
                "< 25 ms",
                median(ms) < 25,
                spread(ms, "{:.1f}") + f"; p90 {sorted(ms)[int(len(ms) * 0.9)]:.1f}",
                ms,
                f"{reassess['changed']}/{reassess['count']} wrote a new assessment",
            )
        )
        q = reassess["queries"]
        rows.append(
            Row(
                "re-assess one patient after a write: queries",
                max(q),
                "queries",
                None,
                None,
                "≤ 12 queries",
                max(q) <= 12,
                f"{min(q)}–{max(q)}",
                [],
            )
        )
    if pages:
        res, avail, counts = pages["results"], pages["available"], pages["counts"]

        def rps(name):
            return median([r.rps for r in res[name]]) if res[name] else None

        for floor_name, label in (("floor_token", "token"), ("floor_session", "session cookie")):
            if res[floor_name]:
                v = rps(floor_name)
                rows.append(
                    Row(
                        f"floor: bare DRF list of the same 50 rows, {args.connections} connections ({label})",
                        v,
                        "req/s",
                        v,
                        1.0,
                        "(floor)",
                        None,
                        spread([r.rps for r in res[floor_name]], "{:.0f}"),
                        [r.rps for r in res[floor_name]],
                        _latency_note(res[floor_name]) + f"; queries {(counts.get(floor_name) or (None, None))[1]}",
                    )
                )
        for name, figure, floor_name, key in (
            (
                "api",
                f"API patients/ page of 50 with risk, {args.connections} connections, gunicorn",
                "floor_token",
                "api",
            ),
            ("staff", f"staff worklist page, {args.connections} connections", "floor_session", "staff"),
        ):
            small, big = (counts or {}).get(key) or (None, None)
            constant = small is not None and small == big
            if not res[name]:
                rows.append(
                    Row(
                        figure,
                        None,
                        "req/s",
                        rps(floor_name),
                        None,
                        "≥ 0.5× floor's requests/s, constant queries",
                        None,
                        "",
                        [],
                        f"not available ({avail.get(name) or 'not measured'})",
                    )
                )
                continue
            value, fl = rps(name), rps(floor_name)
            ratio = value / fl if fl else None
            rows.append(
                Row(
                    figure,
                    value,
                    "req/s",
                    fl,
                    ratio,
                    "≥ 0.5× floor's requests/s, constant queries",
                    bool(ratio is not None and ratio >= 0.5 and constant),
                    spread([r.rps for r in res[name]], "{:.0f}"),
                    [r.rps for r in res[name]],
                    _latency_note(res[name])
                    + f"; queries {small} and {big} ({'constant' if constant else 'NOT constant'})",
                )
            )
    if sweeps:
        peak = max(sweeps["memory"])
        rows.append(
            Row(
                f"sweep worker peak memory at {n} patients",
                peak,
                "MB",
                None,
                None,
                "—",
                None,
                spread(sweeps["memory"], "{:.0f}"),
                sweeps["memory"],
            )
        )
        if memory_10k:
            ratio = peak / memory_10k
            rows.append(
                Row(
                    f"sweep worker peak memory, 10k vs {n // 1000}k patients",
                    ratio,
                    "×",
                    memory_10k,
                    ratio,
                    "grows < 1.5×",
                    ratio < 1.5,
                    f"{memory_10k:.0f} MB → {peak:.0f} MB",
                    [],
                )
            )
    return rows


def _latency_note(results) -> str:
    p50 = median([r.p50_ms for r in results])
    p99 = median([r.p99_ms for r in results])
    errors = sum(r.errors for r in results)
    return f"p50 {p50:.0f} ms, p99 {p99:.0f} ms ({results[0].client}{', errors ' + str(errors) if errors else ''})"


def _floor_text(r: Row) -> str:
    if r.floor is None:
        return "—"
    if r.unit == "×":
        return f"{r.floor:.0f} MB at 10k"
    return fmt(r.floor, r.unit)


def fmt(value, unit: str) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "n/a"
    if unit == "req/s":
        return f"{value:.0f} {unit}"
    if unit in ("queries",):
        return f"{value:.0f}"
    if unit == "×":
        return f"{value:.2f}×"
    if unit == "MB":
        return f"{value:.0f} MB"
    if unit == "ms":
        return f"{value:.1f} ms"
    return f"{value:.2f} {unit}"


def print_table(rows: list[Row], header: str) -> None:
    cols = ["figure", "value (median)", "spread", "floor", "ratio", "target", "meets"]
    data = []
    for r in rows:
        data.append(
            [
                r.name,
                fmt(r.value, r.unit),
                r.spread,
                _floor_text(r),
                f"{r.ratio:.2f}×" if r.ratio is not None else "—",
                r.target,
                {True: "yes", False: "NO", None: "—"}[r.meets],
            ]
        )
    widths = [max(len(str(x)) for x in col) for col in zip(cols, *data, strict=False)]
    print()
    print(header)
    line = "  ".join(c.ljust(w) for c, w in zip(cols, widths, strict=True))
    print(line)
    print("-" * len(line))
    for row, r in zip(data, rows, strict=True):
        print("  ".join(str(c).ljust(w) for c, w in zip(row, widths, strict=True)))
        if r.note:
            print(" " * 4 + "└ " + r.note)
    print()


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
    parser.add_argument("--only", default="sweep,reassess,pages,memory", help="comma list of parts to run")
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
    sweeps = reassess = pages = memory_10k = None
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
    if "memory" in only and sweeps and not args.quick and args.patients != 10_000:
        log("sweep memory at 10,000 patients (ivigtrack_bench_10000)")
        memory_10k = sweep_memory_at(10_000, args.workers, args.chunk, args.seed)
    purge_broker()

    rows = build_rows(args, sweeps, floor_runs, reassess, pages, memory_10k)
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
