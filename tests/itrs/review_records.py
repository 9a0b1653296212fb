"""Clinical records for the review-rule tests, one builder each with neutral defaults: a
regimen, an infusion, labs (a complete clotting panel, the pre-IVIG labs), an anticoagulant
course, and a hyperviscosity condition (`CRYO`)."""

from __future__ import annotations

from datetime import date, datetime

from itrs.types import ConditionSnap, InfusionSnap, LabSnap, MedSnap, RegimenSnap


def regimen(start: date, interval: int | None = 21, days: int = 1, end: date | None = None):
    return RegimenSnap(
        product_name="Privigen",
        product_concentration_percent=10,
        label_max_rate_mg_kg_min=8.0,
        indication="cidp",
        dose_g_per_kg_per_day=1.0,
        dose_grams_per_day=None,
        days_per_course=days,
        interval_days=interval,
        dosing_weight="actual",
        start_date=start,
        end_date=end,
        max_rate_mg_kg_min=None,
        setting="outpatient",
    )


def infusion(started_at: datetime, status="administered") -> InfusionSnap:
    return InfusionSnap(
        started_at=started_at,
        dose_grams=60,
        status=status,
        product_name="Privigen",
        product_concentration_percent=10,
        label_max_rate_mg_kg_min=8.0,
    )


def lab(test: str, value: float, collected_at: datetime, doubtful=False) -> LabSnap:
    return LabSnap(test=test, value=value, collected_at=collected_at, needs_verification=doubtful)


def panel(collected_at: datetime, pt_test="pt") -> tuple[LabSnap, ...]:
    return (
        lab(pt_test, 12.4 if pt_test == "pt" else 1.0, collected_at),
        lab("aptt", 30, collected_at),
        lab("fibrinogen", 3.5, collected_at),
        lab("platelets", 250, collected_at),
    )


def pre_labs(collected_at: datetime) -> tuple[LabSnap, ...]:
    return (
        lab("platelets", 250, collected_at),
        lab("creatinine", 0.8, collected_at),
        lab("iga", 180, collected_at),
    )


def anticoagulant(intensity: str, start: date, end: date | None = None) -> MedSnap:
    return MedSnap(
        category="anticoagulant",
        drug="apixaban",
        start_date=start,
        end_date=end,
        intensity=intensity,
    )


CRYO = ConditionSnap("cryoglobulinemia", date(2020, 1, 1))  # a hyperviscosity state
