"""Lab interpretation of ITRS-v1 (risk/README.md, "Labs"): which values need a second look,
what a large change says, and the platelet fall from the 14-day peak.

Pure: no Django. `patients.labs` calls `doubt_reason` when a value is stored; the review rules
call `change_words` and `platelet_fall`.

Verification (v1). A plausible value is held back as ``needs_verification`` only when
(a) platelets are above 1,000 x10^9/L, or (b) its ratio to the same test's previous verified
value within 30 days matches a *unit-error signature* within +/-15% (the value looks like the
previous one written in another unit). Every other change, however large, enters the rules at
once: v0's blanket ">5-fold" rule held back exactly the emergencies the app exists for
(platelets 250 -> 40, D-dimer 0.4 -> 5.8, fibrinogen 4.0 -> 0.7). Values outside the
plausibility gates are refused before this (`patients.labs.to_canonical`).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

from itrs.types import LabSnap

PLATELETS_CONFIRM_ABOVE = 1000.0  # x10^9/L
SIGNATURE_TOLERANCE = 0.15  # +/-15% around a unit-conversion factor
SIGNATURE_LOOKBACK_DAYS = 30  # the previous value must be this recent
LARGE_CHANGE_FACTOR = 5.0  # v0's jump threshold: a change this large is named "changed from X to Y"
PLATELET_PEAK_DAYS = 14  # the fall is measured from the highest count in this many days before

#: test -> (factor, the two units it confuses). A value that is ``factor`` (or 1/``factor``)
#: times the previous one, within SIGNATURE_TOLERANCE, looks like a unit error.
UNIT_ERROR_SIGNATURES: dict[str, tuple[tuple[float, str], ...]] = {
    "creatinine": ((88.4, "umol/L vs mg/dL"),),
    "platelets": ((1000.0, "per uL vs 10^9/L"),),
    "d_dimer": ((2.0, "FEU vs DDU"), (1000.0, "ug/L vs mg/L")),
    "fibrinogen": ((100.0, "mg/dL vs g/L"),),
    "hemoglobin": ((10.0, "g/L vs g/dL"),),
}


def unit_error_signature(test: str, value: float, previous: float | None) -> tuple[float, str] | None:
    """(factor, words) when value/previous is within +/-15% of a signature's factor or its
    inverse; None otherwise (or when there is no positive previous value)."""
    if not previous or previous <= 0 or value <= 0:
        return None
    ratio = value / previous
    for factor, words in UNIT_ERROR_SIGNATURES.get(test, ()):
        for target in (factor, 1 / factor):
            if abs(ratio / target - 1) <= SIGNATURE_TOLERANCE + 1e-9:  # 15% itself is inside
                return target, words
    return None


def doubt_reason(test: str, value: float, previous: float | None) -> str:
    """Why a plausible value needs confirmation before it enters any rule, or '' when it does not.

    ``previous`` is the same test's latest verified value collected in the
    SIGNATURE_LOOKBACK_DAYS before this one (None when there is none)."""
    if test == "platelets" and value > PLATELETS_CONFIRM_ABOVE:
        return f"Platelets above {PLATELETS_CONFIRM_ABOVE:g} x10^9/L need confirmation."
    hit = unit_error_signature(test, value, previous)
    if hit is not None:
        factor, words = hit
        times = f"{factor:g}" if factor >= 1 else f"1/{1 / factor:g}"
        return (
            f"{value:g} is {times} times the last value ({previous:g}), the signature of a unit mix-up "
            f"({words}): check the unit before it enters the rules."
        )
    return ""


def previous_of(labs: Iterable[LabSnap], lab: LabSnap, days: int = SIGNATURE_LOOKBACK_DAYS) -> LabSnap | None:
    """The same test's latest verified value collected in the ``days`` before ``lab``."""
    start = lab.collected_at - timedelta(days=days)
    earlier = [
        other
        for other in labs
        if other.test == lab.test and not other.needs_verification and start <= other.collected_at < lab.collected_at
    ]
    return max(earlier, key=lambda other: other.collected_at, default=None)


def change_words(labs: Iterable[LabSnap], lab: LabSnap) -> str:
    """ "changed from X on DATE to Y" when ``lab`` is at least LARGE_CHANGE_FACTOR-fold away from
    the previous verified value of its test in the 30 days before, else ''. Such a change enters the rules at once
    (v1); these words put it in the evidence so a reader sees the jump."""
    prev = previous_of(labs, lab)
    if prev is None or prev.value <= 0 or lab.value <= 0:
        return ""
    ratio = lab.value / prev.value
    if LARGE_CHANGE_FACTOR > ratio > 1 / LARGE_CHANGE_FACTOR:
        return ""
    return f"changed from {prev.value:g} on {prev.collected_at.date().isoformat()} to {lab.value:g}"


@dataclass(frozen=True)
class PlateletFall:
    peak: LabSnap  # the highest count in the PLATELET_PEAK_DAYS before the latest
    latest: LabSnap
    fraction: float  # (peak - latest) / peak


def platelet_fall(labs: Iterable[LabSnap], as_of: datetime, days: int = PLATELET_PEAK_DAYS) -> PlateletFall | None:
    """The fall of the latest verified platelet count from the highest verified count collected
    in the ``days`` before it (260 -> 170 -> 98 is a 62% fall, not 42%). None without a
    positive earlier count in that window."""
    counts = sorted(
        (lab for lab in labs if lab.test == "platelets" and not lab.needs_verification and lab.collected_at <= as_of),
        key=lambda lab: lab.collected_at,
    )
    if len(counts) < 2:
        return None
    latest = counts[-1]
    start = latest.collected_at - timedelta(days=days)
    window = [lab for lab in counts[:-1] if start <= lab.collected_at < latest.collected_at]
    if not window:
        return None
    peak = max(window, key=lambda lab: (lab.value, lab.collected_at))
    if peak.value <= 0:
        return None
    return PlateletFall(peak=peak, latest=latest, fraction=(peak.value - latest.value) / peak.value)
