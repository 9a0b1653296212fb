"""`make run` on a machine where no Redis answers: scripts/run.py (what `make run` calls) says so,
migrates, loads the demo clinic into a fresh SQLite file and serves the login page, with tasks
in-process. The REDIS_URL points at a port nothing listens on."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
pytestmark = pytest.mark.worker


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_make_run_without_redis_reaches_the_login_page(tmp_path):
    web, dead = free_port(), free_port()
    env = {
        **{k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "DJANGO_SETTINGS_MODULE")},
        "REDIS_URL": f"redis://127.0.0.1:{dead}/0",
        "IVIGTRACK_SQLITE_PATH": str(tmp_path / "run.sqlite3"),
    }
    log = tmp_path / "run.log"
    with log.open("w") as out:
        proc = subprocess.Popen(
            [sys.executable, str(ROOT / "scripts" / "run.py"), "--port", str(web)],
            cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True,
        )  # fmt: skip
    try:
        deadline, page = time.monotonic() + 240, None
        while time.monotonic() < deadline and proc.poll() is None:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{web}/accounts/login/", timeout=2) as response:
                    page = (response.status, response.read().decode())
                    break
            except OSError:
                time.sleep(1)
        output = log.read_text()
        assert page is not None, output[-3000:]
        assert page[0] == 200 and 'name="username"' in page[1]
        assert f"No Redis answers at 127.0.0.1:{dead}" in output
        assert "tasks run in-process" in output
        assert (tmp_path / "run.sqlite3").exists()
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGTERM)
            proc.wait(timeout=20)
