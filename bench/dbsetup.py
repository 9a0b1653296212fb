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
STAFF_USERNAME = "bench-clinician"  # a clinician of every site: the v1 figures see the whole clinic
SITE_STAFF_USERNAME = "bench-site-clinician"  # a clinician of one site among SITES (the v2 worklist figure)
SITES = 10


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
    spread_over_sites(url, SITES, log=log)
    return url


def spread_over_sites(url: str, count: int, log=print) -> None:
    """Patients spread evenly over `count` sites (SYN01…, as `seed_demo --sites` makes them), their
    flags following: set-based, once (a database generated before sites existed has them all in
    the default site)."""
    with _connect(url) as conn:
        have = conn.execute("SELECT count(*) FROM accounts_site WHERE code LIKE 'SYN%%'").fetchone()[0]
        if have >= count:
            return
        started = time.monotonic()
        zones = ("Europe/London", "Australia/Sydney", "America/New_York", "Europe/Berlin", "Asia/Singapore")
        for i in range(1, count + 1):
            conn.execute(
                "INSERT INTO accounts_site (public_id, name, code, time_zone, phone, emergency_number, alert_emails)"
                " VALUES (gen_random_uuid(), %s, %s, %s, '', '112', '') ON CONFLICT (code) DO NOTHING",
                (f"Synthetic clinic {i}", f"SYN{i:02d}", zones[(i - 1) % len(zones)]),
            )
        conn.execute(
            "UPDATE patients_patient p SET site_id = s.id FROM accounts_site s"
            " WHERE s.code = 'SYN' || lpad(((p.id %% %s) + 1)::text, 2, '0')",
            (count,),
        )
        conn.execute(
            "UPDATE risk_reviewflag f SET site_id = p.site_id FROM patients_patient p"
            " WHERE p.id = f.patient_id AND f.site_id <> p.site_id"
        )
        conn.execute("VACUUM ANALYZE patients_patient")
        conn.execute("VACUUM ANALYZE risk_reviewflag")
    log(f"spread the patients over {count} sites ({time.monotonic() - started:.0f} s)")


def ensure_staff_token(url: str, username: str = STAFF_USERNAME) -> str:
    """A clinician login and its API token (created once in the benchmark database): of every
    site for STAFF_USERNAME, of the first synthetic site for SITE_STAFF_USERNAME."""
    sites = "Site.objects.all()" if username == STAFF_USERNAME else "Site.objects.filter(code='SYN01')"
    code = (
        "from django.contrib.auth import get_user_model\n"
        "from knox.models import AuthToken\n"
        "from ivigtrack.accounts.models import Site\n"
        "User = get_user_model()\n"
        f"u, _ = User.objects.get_or_create(username={username!r}, defaults={{'role': 'clinician'}})\n"
        "u.set_unusable_password(); u.save()\n"
        f"u.sites.set({sites})\n"
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
