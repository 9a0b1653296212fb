"""ISTH overt-DIC score (Taylor et al., Thromb Haemost 2001) [R44]; risk/README.md, DIC (override e).

Pure: no Django. The score is meaningful only when the patient has a condition known to cause
DIC; the engine decides that (`DIC_ASSOCIATED_CONDITIONS`, or diagnosis "dic") and applies
override (e) at `OVERT_DIC_MIN`.

Items, each from the latest verified result of the test collected in the look-back window:

============  ===========  =============  ===========  ===========
item          0            1              2            3
============  ===========  =============  ===========  ===========
platelets     >= 100       50 to < 100    < 50
D-dimer       < 2 x ULN                   2-4 x ULN    > 4 x ULN
PT            < 3 s above  3 to < 6 s     >= 6 s
fibrinogen    >= 1.0 g/L   < 1.0 g/L
============  ===========  =============  ===========  ===========

ULN for D-dimer is the lab's reference_high, else 0.5 mg/L FEU; the PT "normal" is the lab's
reference_high for that PT, else 13.5 s (one published operationalisation of "moderate/strong
increase" [R44b]).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from itrs.types import LabSnap

DIC_TESTS = ("platelets", "d_dimer", "pt", "fibrinogen")
DIC_ASSOCIATED_CONDITIONS = frozenset({"acute_infection_or_sepsis", "active_cancer", "major_surgery_or_trauma"})
OVERT_DIC_MIN = 5
DEFAULT_D_DIMER_ULN = 0.5  # mg/L FEU
DEFAULT_PT_NORMAL = 13.5  # s


def as_utc(moment: datetime) -> datetime:
    """An aware UTC datetime; a naive one is read as UTC (the project stores UTC)."""
    if moment.tzinfo is UTC:  # the common case (Django's aware datetimes): nothing to do
        return moment
    if moment.tzinfo is None:
        return moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC)


def _platelet_points(lab: LabSnap) -> tuple[int, str]:
    points = 0 if lab.value >= 100 else 1 if lab.value >= 50 else 2
    return points, f"platelets {lab.value:g} x10^9/L"


def _d_dimer_points(lab: LabSnap) -> tuple[int, str]:
    uln = lab.reference_high or DEFAULT_D_DIMER_ULN
    ratio = lab.value / uln
    points = 0 if ratio < 2 else 2 if ratio <= 4 else 3
    return points, f"D-dimer {lab.value:g} mg/L FEU = {ratio:.1f} x ULN {uln:g}"


def _pt_points(lab: LabSnap) -> tuple[int, str]:
    normal = lab.reference_high or DEFAULT_PT_NORMAL
    above = lab.value - normal
    points = 0 if above < 3 else 1 if above < 6 else 2
    return points, f"PT {lab.value:g} s ({above:+.1f} s against {normal:g} s)"


def _fibrinogen_points(lab: LabSnap) -> tuple[int, str]:
    return (0 if lab.value >= 1.0 else 1), f"fibrinogen {lab.value:g} g/L"


_ITEMS = {
    "platelets": _platelet_points,
    "d_dimer": _d_dimer_points,
    "pt": _pt_points,
    "fibrinogen": _fibrinogen_points,
}


def isth_overt_dic(
    labs: Iterable[LabSnap], as_of: datetime, *, lookback_hours: int = 72, skip_pt: str = ""
) -> tuple[int | None, dict, list[str]]:
    """(score or None, detail, missing tests).

    ``detail`` has one entry per test found (``points``, ``value``, ``collected_at``, ``text``)
    and ``known_points``, the sum of the items that could be scored. The score is None when any
    of the four tests has no verified result in the window; ``missing`` names those tests.
    Results that need verification, or were collected after ``as_of``, are never used.

    ``skip_pt`` (ITRS-v1): why the PT item is not scored, e.g. "on warfarin (a VKA)": the PT is
    prolonged by the drug, so the item scores nothing, is not "missing", and ``detail["pt"]``
    says why (``skipped``); the caller marks the result provisional.
    """
    end = as_utc(as_of)
    start = end - timedelta(hours=lookback_hours)
    latest: dict[str, tuple[datetime, LabSnap]] = {}
    for lab in labs:
        if lab.test not in _ITEMS or lab.needs_verification:
            continue
        collected = as_utc(lab.collected_at)
        if not start <= collected <= end:
            continue
        if lab.test not in latest or collected > latest[lab.test][0]:
            latest[lab.test] = (collected, lab)

    detail: dict = {}
    known = 0
    for test in DIC_TESTS:
        if test == "pt" and skip_pt:
            detail["pt"] = {"points": 0, "skipped": skip_pt, "text": f"PT not scored ({skip_pt})"}
            continue
        if test not in latest:
            continue
        collected, lab = latest[test]
        points, text = _ITEMS[test](lab)
        known += points
        detail[test] = {
            "points": points,
            "value": lab.value,
            "collected_at": collected.isoformat(),
            "text": text,
        }
    detail["known_points"] = known
    missing = [test for test in DIC_TESTS if test not in latest and not (test == "pt" and skip_pt)]
    return (None if missing else known), detail, missing


@dataclass(frozen=True)
class DicAssessment:
    """The ISTH overt-DIC score as the ITRS-v1 rules read it (risk/README.md, DIC).

    ``score`` is the full score, or, when items are missing but the known items already total
    >= OVERT_DIC_MIN, that known total (``at_least``): it then counts as >= 5 for override (e),
    CLOT-DAILY and HEM-URGENT alike. ``pt_skipped`` names the VKA or DOAC course for which the
    PT item was not scored (the result is then provisional)."""

    score: int | None
    at_least: bool
    known_points: int
    missing: tuple[str, ...]
    pt_skipped: str
    detail: dict
    note: str
    latest_at: datetime | None  # the latest DIC test used

    @property
    def overt(self) -> bool:
        return self.score is not None and self.score >= OVERT_DIC_MIN

    def as_dict(self) -> dict:
        return {
            "score": self.score,
            "at_least": self.at_least,
            "known_points": self.known_points,
            "missing": list(self.missing),
            "pt_skipped": self.pt_skipped,
            "latest_at": self.latest_at.isoformat() if self.latest_at else None,
        }


def assess_dic(labs: Iterable[LabSnap], as_of: datetime, *, pt_confounder: str = "") -> DicAssessment:
    """Score the ISTH items for a patient with a DIC-associated condition (the caller checks
    that). ``pt_confounder``: the current VKA/DOAC course, e.g. "warfarin (vitamin K antagonist)"."""
    skip = f"on {pt_confounder}: the PT is prolonged by the drug" if pt_confounder else ""
    full, detail, missing = isth_overt_dic(labs, as_of, skip_pt=skip)
    known = detail["known_points"]
    parts = [
        detail[t]["text"] + ("" if "skipped" in detail[t] else f" = {detail[t]['points']}")
        for t in DIC_TESTS
        if t in detail
    ]
    times = [
        datetime.fromisoformat(detail[t]["collected_at"]) for t in DIC_TESTS if "collected_at" in detail.get(t, {})
    ]
    latest_at = max(times) if times else None
    provisional = " (provisional: PT not scored)" if skip else ""
    if full is not None:
        score, at_least = full, False
        note = f"ISTH overt-DIC score {full}{provisional} ({'; '.join(parts)})."
    else:
        words = ", ".join(t.replace("_", "-") for t in missing)
        at_least = known >= OVERT_DIC_MIN
        score = known if at_least else None
        note = (
            f"ISTH overt-DIC score not computed: no verified {words} in the last 72 h"
            + (f" (known items {known}: {'; '.join(parts)})" if parts else "")
            + (f"; the known items already total {known}, which counts as {OVERT_DIC_MIN} or more" if at_least else "")
            + "."
        )
    return DicAssessment(
        score=score,
        at_least=at_least,
        known_points=known,
        missing=tuple(missing),
        pt_skipped=pt_confounder,
        detail=detail,
        note=note,
        latest_at=latest_at,
    )
