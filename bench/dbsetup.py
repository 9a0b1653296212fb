"""The benchmark database: create, migrate and fill it once, reuse it afterwards.

`ivigtrack_bench_<N>` on the PostgreSQL server of BENCH_PG (default the local one, user
postgres). Created and migrated when missing, migrated again (a no-op when up to date) on
every run, filled with `seed_demo --patients N --seed S` when it holds fewer synthetic
patients than asked, then VACUUM ANALYZE. A clinician login with an API token is kept in it
for the load tests.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import psycopg

ROOT = Path(__file__).resolve().parent.parent
PYTHON = sys.executable
PG_BASE = os.environ.get("BENCH_PG", "postgres://postgres@127.0.0.1:5432")
STAFF_USERNAME = "bench-clinician"


def db_name(patients: int) -> str:
    return f"ivigtrack_bench_{patients}"


def db_url(patients: int) -> str:
    return f"{PG_BASE.rstrip('/')}/{db_name(patients)}"


def child_env(url: str, **extra) -> dict:
    env = dict(os.environ)
    env.update(DATABASE_URL=url, DJANGO_SETTINGS_MODULE="bench.settings", PYTHONPATH=str(ROOT), **extra)
    return env


def manage(url: str, *args: str, quiet: bool = True) -> None:
    out = subprocess.DEVNULL if quiet else None
    subprocess.run([PYTHON, "manage.py", *args], cwd=ROOT, env=child_env(url), check=True, stdout=out)


def _connect(url: str, **kw) -> psycopg.Connection:
    return psycopg.connect(url, autocommit=True, **kw)


def database_exists(patients: int) -> bool:
    with _connect(f"{PG_BASE.rstrip('/')}/postgres") as admin:
        return (
            admin.execute("SELECT 1 FROM pg_database WHERE datname = %s", (db_name(patients),)).fetchone() is not None
        )


def synthetic_count(url: str, seed: int) -> int:
    with _connect(url) as conn:
        row = conn.execute("SELECT count(*) FROM patients_patient WHERE mrn LIKE %s", (f"SYN{seed}-%",)).fetchone()
        return row[0]


def ensure_database(patients: int, seed: int = 1, log=print) -> str:
    """The URL of a migrated benchmark database holding `patients` synthetic patients."""
    name, url = db_name(patients), db_url(patients)
    if not database_exists(patients):
        with _connect(f"{PG_BASE.rstrip('/')}/postgres") as admin:
            admin.execute(f'CREATE DATABASE "{name}"')
        log(f"created database {name}")
    started = time.monotonic()
    manage(url, "migrate", "--noinput")
    log(f"migrated {name} ({time.monotonic() - started:.1f} s)")
    have = synthetic_count(url, seed)
    if have < patients:
        log(f"generating {patients - have} synthetic patients into {name} (seed_demo --patients {patients})...")
        started = time.monotonic()
        manage(url, "seed_demo", "--patients", str(patients), "--seed", str(seed), quiet=False)
        log(f"generated in {time.monotonic() - started:.0f} s; VACUUM ANALYZE...")
        with _connect(url) as conn:
            conn.execute("VACUUM ANALYZE")
    return url


def ensure_staff_token(url: str) -> str:
    """A clinician login and a fresh expiring API token (knox) in the benchmark database."""
    code = (
        "from django.contrib.auth import get_user_model\n"
        "from knox.models import AuthToken\n"
        "User = get_user_model()\n"
        f"u, _ = User.objects.get_or_create(username={STAFF_USERNAME!r}, defaults={{'role': 'clinician'}})\n"
        "u.set_unusable_password(); u.save()\n"
        "_, t = AuthToken.objects.create(user=u)\n"
        "print(t)\n"
    )
    out = subprocess.run(
        [PYTHON, "manage.py", "shell", "-c", code],
        cwd=ROOT,
        env=child_env(url),
        check=True,
        capture_output=True,
        text=True,
    )
    return out.stdout.strip().splitlines()[-1]


def close_db() -> None:
    """Close this process's Django connections (before worker processes or a server use the database)."""
    from django.db import connections

    connections.close_all()
