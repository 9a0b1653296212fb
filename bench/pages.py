"""Pages under load: the API's patient list, the staff worklist and their floor, served by
gunicorn and loaded by wrk, with their query counts (bench/README.md, What runs: 5).
"""

from __future__ import annotations

from bench import dbsetup
from bench.dbsetup import close_db
from bench.report import log


def staff_credentials(url: str, username: str = dbsetup.STAFF_USERNAME) -> tuple[str, str]:
    """(API token, session key) of a benchmark clinician (of every site, or of one: SITE_STAFF_USERNAME)."""
    from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY, get_user_model
    from django.contrib.sessions.backends.db import SessionStore

    token = dbsetup.ensure_staff_token(url, username)
    user = get_user_model().objects.get(username=username)
    session = SessionStore()
    session[SESSION_KEY] = str(user.pk)
    session[BACKEND_SESSION_KEY] = "django.contrib.auth.backends.ModelBackend"
    session[HASH_SESSION_KEY] = user.get_session_auth_hash()
    session.set_expiry(6 * 3600)
    session.save()
    return token, session.session_key


def query_counts(token: str, session_key: str, site_session_key: str = "") -> dict:
    """Queries per request at two page sizes (or two pages): equal means constant in the rows shown."""
    from django.conf import settings
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    def count(path: str, headers: dict) -> int | None:
        client = Client(HTTP_HOST="127.0.0.1", **{k: v for k, v in headers.items() if k != "cookie"})
        if "cookie" in headers:
            client.cookies[settings.SESSION_COOKIE_NAME] = headers["cookie"]
        client.get(path)  # warm
        with CaptureQueriesContext(connection) as ctx:
            response = client.get(path)
        return len(ctx.captured_queries) if response.status_code == 200 else None

    token_h = {"HTTP_AUTHORIZATION": f"Token {token}"}
    cookie_h = {"cookie": session_key}
    site_h = {"cookie": site_session_key or session_key}
    return {
        "api": (count("/api/v1/patients/?page_size=10", token_h), count("/api/v1/patients/?page_size=50", token_h)),
        "floor_token": (count("/bench/floor/?page_size=10", token_h), count("/bench/floor/?page_size=50", token_h)),
        "floor_session": (count("/bench/floor/?page_size=10", cookie_h), count("/bench/floor/?page_size=50", cookie_h)),
        "staff": (count("/staff/?page=2", cookie_h), count("/staff/", cookie_h)),
        "staff_site": (count("/staff/?page=2", site_h), count("/staff/", site_h)),
    }


# what is loaded, and how it authenticates (the floor once each way: the API uses a token, the
# staff pages a session cookie, whose session row Django saves on every request)
PAGE_TARGETS = {
    "floor_token": ("/bench/floor/", "token"),
    "api": ("/api/v1/patients/", "token"),
    "floor_session": ("/bench/floor/", "session"),
    "staff": ("/staff/", "session"),
    # (v2) the worklist of a clinician of one site among 10 (bench/dbsetup.py spreads the patients)
    "staff_site": ("/staff/", "site_session"),
}


def measure_pages(url: str, repeat: int, seconds: float, connections: int, gunicorn_workers: int) -> dict:
    from django.conf import settings

    from bench.load import Server, load, request

    token, session_key = staff_credentials(url)
    _, site_session_key = staff_credentials(url, dbsetup.SITE_STAFF_USERNAME)
    counts = query_counts(token, session_key, site_session_key)
    close_db()
    auth_headers = {
        "token": {"Authorization": f"Token {token}"},
        "session": {"Cookie": f"{settings.SESSION_COOKIE_NAME}={session_key}"},
        "site_session": {"Cookie": f"{settings.SESSION_COOKIE_NAME}={site_session_key}"},
    }
    targets = {name: (path, auth_headers[auth]) for name, (path, auth) in PAGE_TARGETS.items()}
    results: dict[str, list] = {name: [] for name in targets}
    available: dict[str, str] = {}
    with Server(dbsetup.child_env(url), gunicorn_workers) as server:
        for name, (path, headers) in targets.items():
            status, body = request(server.port, path, headers)
            ok = status == 200 and (
                not name.startswith("staff") or b"<html" in body.lower() or b"<!doctype" in body.lower()
            )
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
