"""Lab catalogue: LOINC codes, canonical units, unit conversions and plausibility gates.

Codes and gates as listed in docs/labs.md: published data-quality gates (platelets 1-1,500,
INR 0.5-15, aPTT 10-200 s, fibrinogen 0.1-15 g/L, D-dimer 0-100 mg/L FEU, creatinine
0.1-20 mg/dL) and, for the other tests, wide physiological limits of our own.
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class LabSpec:
    loinc: str
    display: str
    unit: str  # canonical
    low: float  # plausibility gate, canonical unit
    high: float
    # other accepted units -> factor to multiply into the canonical unit
    conversions: dict[str, float] = field(default_factory=dict)


LABS: dict[str, LabSpec] = {
    "pt": LabSpec("5902-2", "Prothrombin time", "s", 5, 150),
    "inr": LabSpec("6301-6", "INR", "ratio", 0.5, 15),
    "aptt": LabSpec("14979-9", "aPTT", "s", 10, 200),
    "fibrinogen": LabSpec("3255-7", "Fibrinogen", "g/L", 0.1, 15, {"mg/dL": 0.01}),
    "d_dimer": LabSpec(
        "48065-7",
        "D-dimer (FEU)",
        "mg/L FEU",
        0,
        100,
        {
            "ug/mL FEU": 1.0,
            "µg/mL FEU": 1.0,
            "ug/L FEU": 0.001,
            "µg/L FEU": 0.001,
            "ng/mL FEU": 0.001,
            "mg/L DDU": 2.0,
        },
    ),
    "platelets": LabSpec(
        "777-3",
        "Platelets",
        "10^9/L",
        1,
        1500,
        {"10^3/uL": 1.0, "10^3/µL": 1.0, "/uL": 0.001, "/µL": 0.001},
    ),
    "creatinine": LabSpec(
        "2160-0",
        "Creatinine",
        "mg/dL",
        0.1,
        20,
        {"umol/L": 1 / 88.4, "µmol/L": 1 / 88.4},
    ),
    "iga": LabSpec("2458-8", "IgA", "mg/dL", 0, 2000, {"g/L": 100.0}),
    "igg": LabSpec("2465-3", "IgG", "g/L", 0.1, 100, {"mg/dL": 0.01}),
    "serum_viscosity": LabSpec("3128-6", "Serum viscosity", "cP", 0.8, 15, {"mPa.s": 1.0, "mPa·s": 1.0}),
    "hemoglobin": LabSpec("718-7", "Haemoglobin", "g/dL", 2, 25, {"g/L": 0.1}),
    "triglycerides": LabSpec("2571-8", "Triglycerides", "mg/dL", 10, 20000, {"mmol/L": 88.57}),
}

# A value more than this many times (or less than 1/this) the patient's last verified value
# is stored but needs verification before it enters any rule (typical unit mix-ups).
JUMP_FACTOR = 5.0
PLATELETS_CONFIRM_ABOVE = 1000.0


class LabInputError(ValueError):
    def __init__(self, field: str, message: str):
        super().__init__(message)
        self.field = field
        self.message = message


def to_canonical(test: str, value: float, unit: str | None) -> tuple[float, str]:
    """Return (value, canonical unit) or raise LabInputError naming the field."""
    spec = LABS.get(test)
    if spec is None:
        raise LabInputError("test", f"Unknown test {test!r}. Choose one of: {', '.join(LABS)}.")
    if unit in (None, "", spec.unit):
        converted = float(value)
    elif unit in spec.conversions:
        converted = float(value) * spec.conversions[unit]
    else:
        accepted = ", ".join([spec.unit, *spec.conversions])
        raise LabInputError("unit", f"Unknown unit {unit!r} for {spec.display}. Accepted: {accepted}.")
    if not spec.low <= converted <= spec.high:
        raise LabInputError(
            "value",
            f"{spec.display} {converted:g} {spec.unit} is outside the plausible range "
            f"{spec.low:g}-{spec.high:g} {spec.unit}; check the value and unit.",
        )
    return converted, spec.unit


def doubt_reason(test: str, value: float, previous: float | None) -> str:
    """Why a plausible value still needs a second look, or '' when it does not."""
    if test == "platelets" and value > PLATELETS_CONFIRM_ABOVE:
        return f"Platelets above {PLATELETS_CONFIRM_ABOVE:g} x10^9/L need confirmation."
    if previous and previous > 0 and value > 0:
        ratio = value / previous
        if ratio > JUMP_FACTOR or ratio < 1 / JUMP_FACTOR:
            return f"More than {JUMP_FACTOR:g}-fold change from the last value ({previous:g}); check the unit."
    return ""
