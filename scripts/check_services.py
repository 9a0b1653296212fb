"""Say exactly what to start when PostgreSQL or Redis is unreachable (used by `make run/test`)."""

from __future__ import annotations

import argparse
import os
import socket
import sys
from urllib.parse import urlparse

HINTS = {
    "postgres": "pg_ctlcluster --skip-systemctl-redirect $(ls /etc/postgresql) main start   "
    "(or: docker compose up -d db)",
    "redis": "redis-server --daemonize yes --bind 127.0.0.1 --port 6379 --save '' --appendonly no   "
    "(or: docker compose up -d redis)",
}


def reachable(url: str, default_port: int) -> tuple[bool, str]:
    parsed = urlparse(url)
    host, port = parsed.hostname or "127.0.0.1", parsed.port or default_port
    try:
        with socket.create_connection((host, port), timeout=2):
            return True, f"{host}:{port}"
    except OSError:
        return False, f"{host}:{port}"


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--postgres", action="store_true")
    parser.add_argument("--redis", action="store_true")
    args = parser.parse_args()
    failures = []
    if args.postgres:
        url = os.environ.get("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/ivigtrack")
        ok, where = reachable(url, 5432)
        if not ok:
            failures.append(f"PostgreSQL is not reachable at {where}. Start it with:\n    {HINTS['postgres']}")
    if args.redis and os.environ.get("REDIS_URL", ""):
        ok, where = reachable(os.environ["REDIS_URL"], 6379)
        if not ok:
            failures.append(f"Redis is not reachable at {where}. Start it with:\n    {HINTS['redis']}")
    for message in failures:
        print(message, file=sys.stderr)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
