"""Body-size and rate arithmetic (pure; used by Patient, the forms and the risk engine).

Devine ideal body weight and the dose-determining adjusted body weight (risk/README.md, dosing
weight; National Blood Authority calculator [R75]):
  IBW male = 50 + 2.3 x (height in inches - 60); female = 45.5 + 2.3 x (inches - 60)
  ABW = IBW + 0.4 x (actual - IBW); actual weight when actual < IBW.
Sex "other"/"unknown": the female formula (the lower IBW, so never a higher dose), stated in the UI.
"""

from __future__ import annotations

from datetime import date

CM_PER_INCH = 2.54
ADULT_AGE = 18  # adult bands and gates from 18 (risk/README.md, Children)


def age_years(date_of_birth: date, on: date) -> int:
    years = on.year - date_of_birth.year
    if (on.month, on.day) < (date_of_birth.month, date_of_birth.day):
        years -= 1
    return years


def bmi(height_cm: float | None, weight_kg: float | None) -> float | None:
    if not height_cm or not weight_kg:
        return None
    metres = float(height_cm) / 100
    return float(weight_kg) / (metres * metres)


def ideal_body_weight(sex: str, height_cm: float | None) -> float | None:
    if not height_cm:
        return None
    inches = float(height_cm) / CM_PER_INCH
    base = 50.0 if sex == "male" else 45.5
    return base + 2.3 * (inches - 60)


def adjusted_body_weight(sex: str, height_cm: float | None, weight_kg: float | None) -> float | None:
    ibw = ideal_body_weight(sex, height_cm)
    if ibw is None or not weight_kg:
        return None
    weight = float(weight_kg)
    if weight < ibw:
        return weight
    return ibw + 0.4 * (weight - ibw)


def mg_kg_min_from_ml_h(ml_h: float, concentration_percent: float, weight_kg: float) -> float:
    """mg/kg/min = pump mL/h x concentration (mg/mL) / (kg x 60). 10% = 100 mg/mL."""
    return float(ml_h) * float(concentration_percent) * 10 / (float(weight_kg) * 60)


def ml_h_from_mg_kg_min(rate: float, concentration_percent: float, weight_kg: float) -> float:
    return float(rate) * float(weight_kg) * 60 / (float(concentration_percent) * 10)
