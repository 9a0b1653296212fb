"""The alert governance page over 12 months of flags against one SQL aggregate over the same
flags (bench/README.md, What runs: 7). In process, like bench/reassess.py: the page through
Django's test client (middleware, session, the stats query, the template), the floor through
the same connection, interleaved, medians of many runs.

The flags are the ones the sweeps left in the benchmark database (all raised by the last first
pass): run the `sweep` part first on a fresh database.
"""

from __future__ import annotations

import time

# The floor: the least any per-rule figure over these flags must do (find them, group, count).
FLOOR_SQL = "SELECT rule, count(*) FROM risk_reviewflag WHERE raised_at >= %s AND raised_at < %s GROUP BY rule"


def _ms(fn) -> float:
    started = time.perf_counter()
    fn()
    return (time.perf_counter() - started) * 1000


def measure_governance(repeat: int, session_key: str, token: str) -> dict:
    from django.conf import settings
    from django.contrib.auth import get_user_model
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    from bench.dbsetup import STAFF_USERNAME
    from risk import charts, stats
    from risk.models import ReviewFlag

    staff = get_user_model().objects.get(username=STAFF_USERNAME)
    period = stats.stats_period(None, None)
    flags = ReviewFlag.objects.filter(raised_at__gte=period.start, raised_at__lt=period.end).count()
    page = Client(HTTP_HOST="127.0.0.1")
    page.cookies[settings.SESSION_COOKIE_NAME] = session_key
    api = Client(HTTP_HOST="127.0.0.1", HTTP_AUTHORIZATION=f"Token {token}")

    def floor():
        with connection.cursor() as cursor:
            cursor.execute(FLOOR_SQL, [period.start, period.end])
            cursor.fetchall()

    def get(client, path):
        def run():
            response = client.get(path)
            if response.status_code != 200:
                raise RuntimeError(f"{path}: HTTP {response.status_code}")

        return run

    def queries(client, path) -> int:
        with CaptureQueriesContext(connection) as ctx:
            get(client, path)()
        return len(ctx.captured_queries)

    none = "/staff/alerts/?from=2001-01-01&to=2001-12-31"  # no flags: equal counts mean constant in the flags
    parts = {
        "floor": floor,
        "page": get(page, "/staff/alerts/"),
        "api": get(api, "/api/v1/flag-stats/"),
        "query": lambda: stats.flag_stats(staff, period),  # the stats query alone, no request
        "empty": get(page, none),  # the same page over a year with no flags: the request's own cost
    }
    for run in parts.values():  # warm: imports, the session, prepared plans, the page's template
        run()
    times: dict[str, list[float]] = {name: [] for name in parts}
    for _ in range(repeat):
        for name, run in parts.items():
            times[name].append(_ms(run))
    series = stats.raised_series(staff, period)
    draw = _ms(lambda: charts.render_raised(series, period.first, period.last, period.weekly))
    return {
        "times": times,
        "flags": flags,
        "counts": (queries(page, none), queries(page, "/staff/alerts/")),
        "api_counts": queries(api, "/api/v1/flag-stats/"),
        "chart_draw_ms": draw,
    }
