"""The snapshot as it stood at ``as_of``: what every rule may see, read once.

The engine's items and the secondary scores (`itrs.secondary`) read the same `Facts`, so both
agree on what "present", "recent" and "confirmed" mean.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import UTC, date, datetime
from functools import lru_cache
from zoneinfo import ZoneInfo

from itrs.bodysize import age_years, bmi
from itrs.dic import as_utc
from itrs.types import (
    AccessSnap,
    ConditionSnap,
    EventSnap,
    InfusionSnap,
    LabSnap,
    MedSnap,
    PatientSnapshot,
    RegimenSnap,
)


@dataclass(frozen=True)
class Facts:
    """What the rules may see at ``as_of``: built once by `read_facts`, read by every item.

    The secondary scores (`itrs.secondary`) read the same object, so both agree on what
    "present", "recent" and "confirmed" mean.
    """

    snapshot: PatientSnapshot
    as_of: datetime  # UTC
    today: date
    age: int
    bmi: float | None  # rounded to 0.1, the value shown and banded
    present: frozenset[str]  # condition codes present at as_of
    conditions: tuple[ConditionSnap, ...]  # begun by as_of (present or resolved)
    events: tuple[EventSnap, ...]  # diagnosed by today, not ruled out
    medications: tuple[MedSnap, ...]  # started by today (ongoing or stopped)
    labs: dict[str, LabSnap]  # latest verified result of each test, collected by as_of
    accesses: tuple[AccessSnap, ...]  # in place at as_of
    infusions: tuple[InfusionSnap, ...]  # administered, started by as_of, oldest first
    regimens: tuple[RegimenSnap, ...]  # not ended before today

    def has(self, *codes: str) -> bool:
        return not self.present.isdisjoint(codes)

    def active_meds(self, category: str) -> list[MedSnap]:
        return [
            m for m in self.medications if m.category == category and (m.end_date is None or m.end_date >= self.today)
        ]

    def confirmed(self, *, venous: bool) -> list[EventSnap]:
        return [e for e in self.events if e.status == "confirmed" and e.venous == venous]

    def confirmed_within(self, days: int, kinds: frozenset[str] | None = None) -> list[EventSnap]:
        """Confirmed events diagnosed in the last ``days`` days (of ``kinds``, else any)."""
        return [
            e
            for e in self.events
            if e.status == "confirmed"
            and (kinds is None or e.kind in kinds)
            and (self.today - e.diagnosed_on).days <= days
        ]

    def onset_within(self, code: str, days: int) -> list[ConditionSnap]:
        """Conditions of ``code`` whose onset was in the last ``days`` days."""
        return [
            c
            for c in self.conditions
            if c.code == code and c.onset_date is not None and (self.today - c.onset_date).days <= days
        ]

    def present_within(self, code: str, days: int) -> bool:
        """Present now, or resolved no more than ``days`` days ago."""
        return any(
            c.code == code and (c.resolved_date is None or (self.today - c.resolved_date).days <= days)
            for c in self.conditions
        )


@lru_cache(maxsize=64)
def zone_of(name: str):
    return UTC if name in ("", "UTC") else ZoneInfo(name)


def local(moment: datetime, zone) -> datetime:
    """The instant as a wall clock of ``zone`` (naive instants are UTC): its ``.date()`` is the
    local calendar day."""
    moment = as_utc(moment)
    return moment if zone is UTC else moment.astimezone(zone)


def local_today(as_of: datetime, time_zone: str) -> date:
    """The calendar day of ``as_of`` at the patient's site."""
    return local(as_of, zone_of(time_zone)).date()


def read_facts(snapshot: PatientSnapshot, as_of: datetime) -> Facts:
    now = as_utc(as_of)
    zone = zone_of(snapshot.time_zone)
    today = local(now, zone).date()
    conditions = tuple(c for c in snapshot.conditions if c.onset_date is None or c.onset_date <= today)
    present = frozenset(c.code for c in conditions if c.resolved_date is None or c.resolved_date >= today)
    latest: dict[str, LabSnap] = {}
    for lab in snapshot.labs:
        if lab.needs_verification or as_utc(lab.collected_at) > now:
            continue
        kept = latest.get(lab.test)
        if kept is None or as_utc(lab.collected_at) > as_utc(kept.collected_at):
            latest[lab.test] = lab
    return Facts(
        snapshot=snapshot,
        as_of=now,
        today=today,
        age=age_years(snapshot.date_of_birth, today),
        bmi=rounded(bmi(snapshot.height_cm, snapshot.weight_kg)),
        present=present,
        conditions=conditions,
        events=tuple(e for e in snapshot.events if e.diagnosed_on <= today and e.status != "ruled_out"),
        medications=tuple(m for m in snapshot.medications if m.start_date <= today),
        labs=latest,
        accesses=tuple(
            a for a in snapshot.accesses if a.inserted_on <= today and (a.removed_on is None or a.removed_on > today)
        ),
        infusions=tuple(
            # their days are the site's: each in the site zone (no copy when it is already)
            i if i.started_at.tzinfo is zone else replace(i, started_at=started.astimezone(zone))
            for started, _, i in sorted(
                (as_utc(i.started_at), n, i) for n, i in enumerate(snapshot.infusions) if i.status == "administered"
            )
            if started <= now
        ),
        regimens=tuple(r for r in snapshot.regimens if r.end_date is None or r.end_date >= today),
    )


def rounded(value: float | None, places: int = 1) -> float | None:
    return None if value is None else round(value, places)
