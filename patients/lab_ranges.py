"""Where a result sits against its reference: "H" above, "L" below, "" inside or unknown.

The lab's own limits win when it gave them (``reference_low`` / ``reference_high``); otherwise
the typical adult range of docs/labs.md, for the clotting studies only (ranges differ by
laboratory and reagent). Display only: no rule reads these marks. The labs table and the
clotting chart use the same ranges, so the page and the chart never disagree.
"""

from __future__ import annotations

# test -> (low, high) in the canonical unit; None where no lower limit is meaningful
TYPICAL_RANGES: dict[str, tuple[float | None, float]] = {
    "pt": (11.0, 13.5),
    "inr": (0.8, 1.2),
    "aptt": (25.0, 35.0),
    "fibrinogen": (2.0, 4.0),
    "d_dimer": (None, 0.5),
    "platelets": (150.0, 400.0),
}

MARK_WORDS = {"H": "above the reference range", "L": "below the reference range"}


def reference_mark(test: str, value: float, *, low: float | None = None, high: float | None = None) -> str:
    typical_low, typical_high = TYPICAL_RANGES.get(test, (None, None))
    upper = high if high is not None else typical_high
    lower = low if low is not None else typical_low
    if upper is not None and value > upper:
        return "H"
    if lower is not None and value < lower:
        return "L"
    return ""


def with_reference_marks(labs) -> list:
    """The labs, each with ``mark`` ("H", "L" or "") and ``mark_words`` for a table."""
    labs = list(labs)
    for lab in labs:
        lab.mark = reference_mark(lab.test, lab.value, low=getattr(lab, "reference_low", None), high=lab.reference_high)
        lab.mark_words = MARK_WORDS.get(lab.mark, "")
    return labs
