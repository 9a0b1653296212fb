"""Helpers shared by the engine tests (tests/itrs/test_engine*.py): ``run`` scores with the
current ruleset (ITRS-v1), ``run_v0`` with ITRS-v0 (kept runnable for comparisons)."""

from __future__ import annotations

from datetime import datetime

from itrs.engine import ITRS_V0, assess
from tests.itrs import builders as b
from tests.itrs.builders import NOW, add, days_before


def run(snapshot, as_of: datetime = NOW):
    return assess(snapshot, as_of)


def run_v0(snapshot, as_of: datetime = NOW):
    return assess(snapshot, as_of, ruleset=ITRS_V0)


def points(result, code: str) -> int:
    return sum(f.points for f in result.factors if f.code == code)


def factor(result, code: str):
    return next(f for f in result.factors if f.code == code)


def override_codes(result) -> set[str]:
    return {o["code"] for o in result.overrides}


def rec(result, code: str) -> dict | None:
    return next((r for r in result.recommendations if r["code"] == code), None)


BASE = b.patient()  # a neutral adult: score 0
HTN = b.condition("hypertension")  # an FDA-listed factor (P10) worth 1 point


def with_course(snapshot, *, grams=30.0, days_ago=3, days=1, rate=3.0, interval=None, **regimen_kw):
    """``snapshot`` with one course given ``days_ago`` days ago, and an order to match."""
    regimen_kw.setdefault("g_per_kg", None if "grams" in regimen_kw else 0.4)
    return add(
        snapshot,
        b.regimen(interval=interval, max_rate=rate, start_date=days_before(400), **regimen_kw),
        b.course(days_before(days_ago), grams, days=days, rate=rate),
    )
