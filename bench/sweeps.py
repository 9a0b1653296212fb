"""The full sweep at scale: first pass and steady state by W worker processes, and the
sweep worker's peak memory (bench/README.md, What runs: 2 and 6).
"""

from __future__ import annotations

import json
import subprocess
import sys
import time

from bench import dbsetup
from bench.dbsetup import ROOT, close_db
from bench.report import log

# --- the risk tables and the queue between passes ------------------------------------------------


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
