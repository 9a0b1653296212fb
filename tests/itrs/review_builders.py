"""Builders shared by the review-rule tests (tests/itrs/test_review*.py).

The vignette clock (2025-03-01 09:00 UTC) and dates relative to it, an established, quiet
maintenance patient (`patient`), a hand-made engine result (`result`), and `run`, which
evaluates the rules and checks that at most one flag comes back per kind. The records they are
made of come from tests/itrs/review_records.py.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from itrs.review import evaluate
from itrs.types import FlagHistory, PatientSnapshot, RiskResult
from tests.itrs.review_records import infusion, pre_labs, regimen

AS_OF = datetime(2025, 3, 1, 9, 0, tzinfo=UTC)
TODAY = AS_OF.date()


def ago(days: float, as_of: datetime = AS_OF) -> datetime:
    return as_of - timedelta(days=days)


def day(days: int) -> date:
    """The date ``days`` before TODAY (negative: after)."""
    return TODAY - timedelta(days=days)


def at(y: int, m: int, d: int, hh: int = 9, mm: int = 0) -> datetime:
    return datetime(y, m, d, hh, mm, tzinfo=UTC)


def result(tier="low", score=0, dic_score=None, factors=(), provisional=False) -> RiskResult:
    return RiskResult(
        ruleset="ITRS-v0",
        as_of=AS_OF,
        score=score,
        tier=tier,
        components={},
        factors=tuple(factors),
        overrides=(),
        recommendations=(),
        provisional=provisional,
        missing=(),
        dic_score=dic_score,
    )


def patient(**overrides) -> PatientSnapshot:
    """An established, quiet maintenance patient: no flag at all when tier is low.

    Maintenance every 21 days from 2024-09-17 (next course 2025-03-04), infusions given,
    weight 10 days old, pre-IVIG labs on file, no clotting panel.
    """
    base = dict(
        patient_id=1,
        date_of_birth=date(1970, 1, 1),
        sex="female",
        height_cm=168.0,
        weight_kg=70.0,
        weight_measured_on=day(10),
        diagnosis="cidp",
        regimens=(regimen(date(2024, 9, 17)),),
        infusions=(infusion(at(2025, 2, 11)),),
        labs=pre_labs(at(2024, 9, 10)),
    )
    base.update(overrides)
    return PatientSnapshot(**base)


def run(snapshot=None, res=None, history=None, as_of=AS_OF, settings=None):
    args = (snapshot or patient(), res or result(), history or FlagHistory(), as_of)
    specs = evaluate(*args, settings) if settings else evaluate(*args)
    kinds = [s.kind for s in specs]
    assert len(kinds) == len(set(kinds)), "at most one spec per kind"
    return {s.kind: s for s in specs}


def rule_of(flags: dict, kind: str) -> str | None:
    return flags[kind].rule if kind in flags else None
