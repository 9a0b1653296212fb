"""Comparing two rulesets over the same patients, as of now (risk/README.md, "Comparing rulesets").

Every active patient (or those a user may see) is scored under both rulesets from the same
snapshot: the sweep's chunk loader (`risk.snapshot.load_chunk`) reads each chunk in a fixed
number of queries, both rulesets score in Python without advice (`explain=False`: tiers and
factors only), and nothing is stored. A clinic reads the result before it signs a ruleset off.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.conf import settings
from django.utils import timezone

from itrs import rulesets
from itrs.types import RiskResult
from patients.models import Patient
from risk.snapshot import load_chunk

TIERS = ("low", "moderate", "high")


@dataclass
class Changed:
    patient_id: int
    public_id: str = ""
    name: str = ""
    mrn: str = ""
    old_tier: str = ""
    old_score: int = 0
    new_tier: str = ""
    new_score: int = 0
    moved: list[str] = field(default_factory=list)  # "P7 2 -> 0", "override b lifted"


@dataclass
class Comparison:
    old: str
    new: str
    as_of: datetime
    patients: int = 0
    errors: int = 0
    table: dict[tuple[str, str], int] = field(default_factory=dict)  # (old tier, new tier) -> patients
    factors: Counter = field(default_factory=Counter)  # "P7: 2 -> 0" -> patients
    changed: list[Changed] = field(default_factory=list)  # patients whose tier changed

    def rows(self) -> list[tuple[str, list[int], int]]:
        """(old tier, counts under the new tiers, row total) in tier order."""
        out = []
        for old in TIERS:
            counts = [self.table.get((old, new), 0) for new in TIERS]
            out.append((old, counts, sum(counts)))
        return out

    def column_totals(self) -> list[int]:
        return [sum(self.table.get((old, new), 0) for old in TIERS) for new in TIERS]

    @property
    def tier_changes(self) -> int:
        return sum(n for (old, new), n in self.table.items() if old != new)

    def text(self) -> str:
        """The table as plain text (the command's output)."""
        width = 10
        lines = [
            f"{self.old} (rows) vs {self.new} (columns), {self.patients} active patients as of "
            f"{self.as_of:%Y-%m-%d %H:%M %Z}",
            "".ljust(width) + "".join(t.rjust(width) for t in TIERS) + "total".rjust(width),
        ]
        for old, counts, total in self.rows():
            lines.append(old.ljust(width) + "".join(str(n).rjust(width) for n in counts) + str(total).rjust(width))
        totals = self.column_totals()
        lines.append(
            "total".ljust(width) + "".join(str(n).rjust(width) for n in totals) + str(sum(totals)).rjust(width)
        )
        lines.append(f"{self.tier_changes} patient(s) change tier.")
        if self.factors:
            lines.append("Factors that moved (patients):")
            lines += [f"  {what}: {n}" for what, n in self.factors.most_common()]
        if self.errors:
            lines.append(f"{self.errors} patient(s) could not be scored (see the log).")
        return "\n".join(lines)


def _factor_points(result: RiskResult) -> dict[str, int]:
    return {f.code: f.points for f in result.factors if f.code != "T-cap"}


def moved(old: RiskResult, new: RiskResult) -> list[str]:
    """What differs between the two results: factor points and overrides."""
    before, after = _factor_points(old), _factor_points(new)
    out = [
        f"{code}: {before.get(code, 0)} -> {after.get(code, 0)}"
        for code in sorted(set(before) | set(after), key=_code_order)
        if before.get(code, 0) != after.get(code, 0)
    ]
    was = {o["code"] for o in old.overrides}
    now = {o["code"] for o in new.overrides}
    out += [f"override ({c}) lifted" for c in sorted(was - now)]
    out += [f"override ({c}) added" for c in sorted(now - was)]
    return out


def _code_order(code: str) -> tuple[int, int]:
    return ("PSET".index(code[0]) if code[0] in "PSET" else 9, int(code[1:]) if code[1:].isdigit() else 0)


def compare(
    old: str,
    new: str,
    *,
    patient_ids: list[int] | None = None,
    as_of: datetime | None = None,
    chunk_size: int | None = None,
) -> Comparison:
    """Score ``patient_ids`` (default: every active patient) under both rulesets; store nothing.

    Raises KeyError for an unknown ruleset name."""
    old_rules, new_rules = rulesets.get(old), rulesets.get(new)
    now = as_of or timezone.now()
    if patient_ids is None:
        patient_ids = list(Patient.objects.filter(active=True).order_by("id").values_list("id", flat=True))
    size = chunk_size or settings.IVIGTRACK_SWEEP_CHUNK
    out = Comparison(old=old, new=new, as_of=now)
    table: Counter = Counter()
    for start in range(0, len(patient_ids), size):
        snapshots, _ = load_chunk(patient_ids[start : start + size], now, risk_window=timedelta(0))
        for pid, snapshot in snapshots.items():
            try:
                a = old_rules.assess(snapshot, now, explain=False)
                b = new_rules.assess(snapshot, now, explain=False)
            except Exception:  # one patient's bad data must not stop the comparison
                out.errors += 1
                continue
            table[(a.tier, b.tier)] += 1
            changes = moved(a, b)
            out.factors.update(changes)
            if a.tier != b.tier:
                out.changed.append(
                    Changed(pid, old_tier=a.tier, old_score=a.score, new_tier=b.tier, new_score=b.score, moved=changes)
                )
    out.patients = sum(table.values())
    out.table = dict(table)
    _name(out.changed)
    return out


def _name(changed: list[Changed]) -> None:
    """The changed patients' names and ids, in one query."""
    rows = Patient.objects.filter(pk__in=[c.patient_id for c in changed]).values_list(
        "id", "public_id", "given_name", "family_name", "mrn"
    )
    by_id = {pk: (str(public), f"{family}, {given}", mrn) for pk, public, given, family, mrn in rows}
    for c in changed:
        c.public_id, c.name, c.mrn = by_id.get(c.patient_id, ("", "", ""))
    changed.sort(key=lambda c: (c.name, c.patient_id))
