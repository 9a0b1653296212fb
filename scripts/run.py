"""`make run`: migrate, load the demo clinic, and start the app on http://127.0.0.1:8000.

With Redis answering at REDIS_URL: web, Celery worker and beat (honcho, Procfile), as in
production. With REDIS_URL unset or no Redis answering there: it says so and starts the web
process alone, with tasks run in-process (the settings' zero-config mode: no broker, local-memory
cache). SQLite unless DATABASE_URL is set.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "scripts"))

from check_services import reachable  # noqa: E402


def redis_env(environ: dict) -> tuple[dict, bool]:
    """The environment to run with, and whether Redis is used."""
    env = dict(environ)
    url = env.get("REDIS_URL", "")
    if url:
        ok, where = reachable(url, 6379)
        if ok:
            print(f"Redis at {where}: web, Celery worker and beat.", flush=True)
            return env, True
        print(f"No Redis answers at {where} (REDIS_URL={url}).", flush=True)
    else:
        print("REDIS_URL is not set.", flush=True)
    print(
        "Running without Redis: tasks run in-process and there is no worker or beat (no hourly sweep).\n"
        "For the production-like setup start Redis (see README) and run `make run` again.",
        flush=True,
    )
    env["REDIS_URL"] = ""
    env["CELERY_BROKER_URL"] = ""
    return env, False


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, default=8000)
    parser.add_argument("--python", default=sys.executable)
    args = parser.parse_args(argv)
    env, with_redis = redis_env(os.environ)
    manage = [args.python, str(ROOT / "manage.py")]
    (ROOT / "var").mkdir(exist_ok=True)
    subprocess.run([*manage, "migrate", "--noinput"], cwd=ROOT, env=env, check=True)
    subprocess.run([*manage, "seed_demo"], cwd=ROOT, env=env, check=True)
    print(f"\nivigtrack on http://127.0.0.1:{args.port}  (Ctrl-C stops it)", flush=True)
    if with_redis:
        honcho = str(Path(args.python).parent / "honcho")
        os.execvpe(honcho, [honcho, "start", "-f", str(ROOT / "Procfile")], env)
    os.execvpe(args.python, [*manage, "runserver", f"127.0.0.1:{args.port}", "--noreload"], env)
    return 0


if __name__ == "__main__":
    sys.exit(main())
