"""Lab catalogue: LOINC codes, canonical units, unit conversions and plausibility gates.

Codes and gates as listed in docs/labs.md: published data-quality gates (platelets 1-1,500,
INR 0.5-15, aPTT 10-200 s, fibrinogen 0.1-15 g/L, D-dimer 0-100 mg/L FEU, creatinine
0.1-20 mg/dL) and, for the other tests, wide physiological limits of our own.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from itrs import labs as itrs_labs
from itrs.bodysize import age_years
from itrs.renal import egfr_ckd_epi_2021, egfr_words


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

# Which plausible values still need a second look (v1: platelets > 1,000 and unit-error
# signatures only, never a plain large change) lives with the rules: itrs.labs.
PLATELETS_CONFIRM_ABOVE = itrs_labs.PLATELETS_CONFIRM_ABOVE
SIGNATURE_LOOKBACK_DAYS = itrs_labs.SIGNATURE_LOOKBACK_DAYS


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


def unit_factor(test: str, unit: str | None, field: str = "unit") -> float:
    """The factor that turns a value of ``test`` in ``unit`` into the canonical unit; an unknown
    unit raises LabInputError naming ``field``."""
    spec = LABS.get(test)
    if spec is None:
        raise LabInputError("test", f"Unknown test {test!r}. Choose one of: {', '.join(LABS)}.")
    if unit in (None, "", spec.unit):
        return 1.0
    if unit in spec.conversions:
        return spec.conversions[unit]
    accepted = ", ".join([spec.unit, *spec.conversions])
    raise LabInputError(field, f"Unknown unit {unit!r} for {spec.display}. Accepted: {accepted}.")


def reference_to_canonical(
    test: str, limit: float | None, value_unit: str | None, reference_unit: str | None = None
) -> float | None:
    """A reference limit in the canonical unit. The limit is in the value's unit unless
    ``reference_unit`` says otherwise (a D-dimer cut-off of 500 ng/mL FEU is 0.5 mg/L FEU,
    never 500); an unknown unit raises LabInputError naming ``reference_unit``."""
    if limit is None:
        return None
    if reference_unit:
        factor = unit_factor(test, reference_unit, "reference_unit")
    else:
        factor = unit_factor(test, value_unit, "unit")
    return float(limit) * factor


def doubt_reason(test: str, value: float, previous: float | None) -> str:
    """Why a plausible value still needs a second look, or '' when it does not (itrs.labs)."""
    return itrs_labs.doubt_reason(test, value, previous)


def lab_egfr(lab) -> dict | None:
    """A creatinine's eGFR (CKD-EPI 2021, race-free), for the API, pages and FHIR: ``{"value",
    "unit", "equation", "text"}`` (``value`` None with the reason in ``text`` when it cannot be
    computed); None for other tests. ``lab`` is a LabResult with its patient loaded."""
    if lab.test != "creatinine":
        return None
    patient = lab.patient
    age = age_years(patient.date_of_birth, lab.collected_at.date())
    value = egfr_ckd_epi_2021(lab.value, age, patient.sex)
    return {
        "value": None if value is None else round(value),
        "unit": "mL/min/1.73m2",
        "equation": "CKD-EPI 2021 (creatinine, race-free)",
        "text": egfr_words(lab.value, age, patient.sex),
    }
