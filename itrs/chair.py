"""The chair check: the maximum rate for this patient, product and concentration, and whether a
given rate is above a cap that applies (risk/README.md, "Chair check").

Caps, in mg/kg/min and in mL/h on the order's dosing weight:

- **label**: the product label's maximum for the indication (always applies);
- **at-risk**: 3.3 mg/kg/min for a patient with an FDA-listed thrombosis risk factor (the lowest
  explicit at-risk cap in current labels, e.g. Panzyga and Octagam 10% [R8][R9]; FDA boxed
  warning: "the minimum dose and infusion rate practicable");
- **renal**: the product's renal cap (e.g. Gamunex-C < 8 mg/kg/min [R4]) for a renal-risk patient,
  where the product gives one.

The lowest applicable cap is the maximum; each says why it applies. mL/h = mg/kg/min x kg x 60 /
(concentration% x 10): a 10% product holds 100 mg/mL.

Plain Python: no Django.
"""

from __future__ import annotations

from dataclasses import dataclass

from itrs.bodysize import ml_h_from_mg_kg_min

AT_RISK_RATE = 3.3  # mg/kg/min [R8][R9]; the same figure as itrs.engine.AT_RISK_RATE


@dataclass(frozen=True)
class Cap:
    name: str  # label | at_risk | renal
    mg_kg_min: float
    ml_h: float | None  # None without a dosing weight
    why: str

    @property
    def label(self) -> str:
        return {"label": "label", "at_risk": "at-risk", "renal": "renal"}[self.name]

    def as_dict(self) -> dict:
        return {"name": self.name, "label": self.label, "mg_kg_min": self.mg_kg_min, "ml_h": self.ml_h, "why": self.why}


def caps(
    *,
    concentration_percent: float,
    weight_kg: float | None,
    label_max: float | None,
    at_risk_because: list[str],
    renal_max: float | None = None,
    renal_because: list[str] = (),
) -> list[Cap]:
    """The caps that apply, lowest first. ``at_risk_because`` / ``renal_because``: the patient's
    reasons (empty: that cap does not apply)."""

    def ml_h(rate: float) -> float | None:
        if not weight_kg:
            return None
        return round(ml_h_from_mg_kg_min(rate, concentration_percent, weight_kg), 1)

    found: list[Cap] = []
    if label_max:
        found.append(Cap("label", float(label_max), ml_h(float(label_max)), "the product label's maximum"))
    if at_risk_because:
        found.append(
            Cap(
                "at_risk",
                AT_RISK_RATE,
                ml_h(AT_RISK_RATE),
                "at-risk cap: " + "; ".join(at_risk_because) + " [R8][R9]",
            )
        )
    if renal_max and renal_because:
        found.append(
            Cap(
                "renal",
                float(renal_max),
                ml_h(float(renal_max)),
                "renal cap of this product: " + "; ".join(renal_because) + " [R4]",
            )
        )
    return sorted(found, key=lambda c: c.mg_kg_min)


def given_rate(
    mg_kg_min: float | None, ml_h: float | None, concentration_percent: float, weight_kg: float | None
) -> float | None:
    """The rate reached in mg/kg/min, from either figure the nurse recorded."""
    if mg_kg_min is not None:
        return float(mg_kg_min)
    if ml_h is not None and weight_kg:
        return round(float(ml_h) * float(concentration_percent) * 10 / (float(weight_kg) * 60), 2)
    return None


def above_cap(rate: float | None, applicable: list[Cap]) -> Cap | None:
    """The lowest at-risk or renal cap the rate is above (the label cap is checked by the form
    and the label itself), or None. A rate of exactly the cap is within it."""
    if rate is None:
        return None
    for cap in applicable:
        if cap.name in ("at_risk", "renal") and rate > cap.mg_kg_min + 1e-9:
            return cap
    return None
