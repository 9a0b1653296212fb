"""ITRS-v1: ITRS-v0 with the definitions that changed replaced, nothing else (risk/README.md,
"What changed in ITRS-v1").

- Courses: infusions at most 3 days apart (a Mon-Fri course broken by a weekend stays one;
  weekly maintenance infusions are separate courses). T1 on that index course.
- T3: the largest g/kg total in any 7-day window holding an infusion of the index course.
- P2/P3: a retinal vein occlusion is not VTE; it scores 1 point under P3 and never lifts
  override (b) (`FactsV1.confirmed`) [N1].
- P7 by drug class; P8 systemic routes only, the prednisolone equivalent in its evidence.
- P9 on the unrounded BMI, adults only. Children: actual weight for dosing, no IBW/ABW.
- S2: an admission that has lasted >=3 days (or ended <=30 days ago after >=3 days), or a current
  one during an inpatient course of >=3 planned days.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from functools import partial

from itrs import engine as v0
from itrs.bodysize import bmi
from itrs.facts import Facts, read_facts
from itrs.medicines import P7_NOT_SCORED, UNCODED, med_scoring, p7_scores, steroid_route
from itrs.types import EventSnap, PatientSnapshot, RegimenSnap

NAME = "ITRS-v1"
COURSE_GAP_DAYS = 3  # an infusion more than 3 calendar days after the previous one starts a new course
ADULT_AGE = 18
DEVINE_MIN_HEIGHT_CM = 152.4  # 60 inches: Devine's formula is not valid below it [R75]
RVO = "retinal_vein"

EVIDENCE = {
    "P3-RVO": "Retinal vein occlusion: a vascular occlusive event driven by arterial-type risk factors, "
    "not VTE; 1 point, never override (b) [N1]",
    "P7": "Combined hormonal contraception RR 3.8; oral (not transdermal) estrogen OR ~4.2; "
    "tamoxifen/raloxifene VTE RR ~3; IMiDs in myeloma [R48][N4][N2][N3]",
    "P8": "Systemic glucocorticoids: new users IRR 3.06, continuing 2.02, former 0.94 [R45][R46][R47]",
    "S2": "Hospital stay >=3 days is a major transient VTE factor (OR 7.9 in a cancer cohort) [R61][R55]",
}


@dataclass(frozen=True)
class FactsV1(Facts):
    """ITRS-v1's reading of the snapshot: VTE excludes retinal vein occlusion, and the BMI is
    kept unrounded for banding (``bmi`` stays the rounded value shown)."""

    bmi_exact: float | None = None

    def confirmed(self, *, venous: bool) -> list[EventSnap]:
        if venous:
            return [e for e in self.events if e.status == "confirmed" and e.vte]
        return [e for e in self.events if e.status == "confirmed" and not e.venous]


def read_facts_v1(snapshot: PatientSnapshot, as_of: datetime) -> FactsV1:
    base = read_facts(snapshot, as_of)
    values = {f.name: getattr(base, f.name) for f in dataclasses.fields(Facts)}
    return FactsV1(**values, bmi_exact=bmi(snapshot.height_cm, snapshot.weight_kg))


# --- patient factors --------------------------------------------------------------------------


def prior_thrombosis(f: FactsV1, d: v0._Draft) -> None:
    """P2 VTE (not RVO); P3 arterial thrombosis 2, or retinal vein occlusion 1 [N1]."""
    venous = f.confirmed(venous=True)
    if venous:
        d.add("P2", "Prior VTE: " + v0._event_list(venous), 3, fda=True)
    arterial = f.confirmed(venous=False)
    rvo = [e for e in f.events if e.status == "confirmed" and e.kind == RVO]
    if arterial:
        label = "Prior arterial thrombosis: " + v0._event_list(arterial)
        if rvo:
            label += "; also " + v0._event_list(rvo) + " (not VTE)"
        d.add("P3", label, 2, fda=True)
    elif rvo:
        d.add(
            "P3",
            "Retinal vein occlusion (a vascular occlusive event, not VTE): " + v0._event_list(rvo),
            1,
            fda=True,
            evidence=EVIDENCE["P3-RVO"],
        )
    for e in f.events:
        if e.status != "suspected":
            continue
        if e.vte:
            code, points, words = "P2", 3, "VTE"
        else:
            code, points, words = "P3", (1 if e.kind == RVO else 2), "arterial or retinal vein occlusion"
        what = [f"confirmation of the suspected {v0._event_words(e.kind)} of {e.diagnosed_on}"]
        d.block(what, f"{code} prior {words}", code, 0 if d.scored(code) else points)
        if (f.today - e.diagnosed_on).days <= v0.POST_EVENT_DAYS:
            d.block(what, "override (a)", override=True)


def estrogen(f: FactsV1, d: v0._Draft) -> None:
    """P7 by drug class (itrs.medicines): the rest are recorded, not scored, and say why."""
    current = [m for m in f.medications if m.category in ("estrogen", "thrombogenic") and _current(f, m)]
    scoring = [m for m in current if p7_scores(m)]
    for m in current:
        if not p7_scores(m):
            d.notes.append(f"Recorded, not scored (P7): {m.drug}: {med_scoring(m)[1]}.")
    pregnant = f.has("pregnancy_postpartum")
    if scoring or pregnant:
        what = [f"{', '.join(sorted({m.drug for m in scoring}))}"] if scoring else []
        if pregnant:
            what.append("pregnancy or post-partum")
        d.add("P7", "Current " + " and ".join(what), 2, fda=True, evidence=EVIDENCE["P7"])


def steroids(f: FactsV1, d: v0._Draft) -> None:
    """P8 on systemic courses only; local ones are recorded, not scored; an unknown route blocks."""
    courses = [m for m in f.medications if m.category == "steroid"]
    systemic = [m for m in courses if steroid_route(m) == "systemic"]
    for m in courses:
        if steroid_route(m) == "local" and _recent(f, m):
            d.notes.append(f"Recorded, not scored (P8): {m.drug}: {med_scoring(m)[1]}.")
    unknown = [m for m in courses if steroid_route(m) == "unknown" and _recent(f, m)]
    if unknown:
        names = ", ".join(sorted({m.drug for m in unknown}))
        d.block([f"route of {names}"], "P8 glucocorticoid (systemic routes only)", "P8", 2)
    new = [m for m in systemic if (f.today - m.start_date).days <= v0.STEROID_NEW_DAYS]
    if new:
        m = max(new, key=lambda m: m.start_date)
        days = (f.today - m.start_date).days
        d.add(
            "P8",
            f"Systemic glucocorticoid started {days} days ago ({_steroid_words(m)}; new use <=90 days)",
            2,
            evidence=_p8_evidence(m),
        )
        return
    recent = [m for m in systemic if m.end_date is None or (f.today - m.end_date).days <= v0.STEROID_NEW_DAYS]
    if recent:
        m = max(recent, key=lambda m: m.end_date or date.max)
        state = "ongoing" if m.end_date is None or m.end_date >= f.today else f"stopped {m.end_date}"
        d.add(
            "P8",
            f"Systemic glucocorticoid continuing beyond 90 days ({_steroid_words(m)}, {state})",
            1,
            evidence=_p8_evidence(m),
        )


def _steroid_words(m) -> str:
    return f"{m.drug} {m.route}" if m.route else m.drug


def _p8_evidence(m) -> str:
    if m.prednisolone_eq_mg_per_day is not None:
        dose = f" {v0._num(m.dose_mg_per_day)} mg/day" if m.dose_mg_per_day is not None else ""
        eq = f"{m.drug}{dose} = {v0._num(m.prednisolone_eq_mg_per_day)} mg/day prednisolone equivalent (BNF) [N5]"
    else:
        eq = f"prednisolone equivalent not known for {m.drug} (no dose, or no BNF equivalence) [N5]"
    return f"{eq}. {EVIDENCE['P8']}"


def body_size(f: FactsV1, d: v0._Draft) -> None:
    """P9 on the unrounded BMI (29.95 is below 30), adults only."""
    if f.age < ADULT_AGE:
        d.notes.append(f"P9 (BMI) not scored: age {f.age}; the adult BMI bands apply from 18.")
        return
    s = f.snapshot
    value = f.bmi_exact
    if value is None:
        inputs = [name for name, v in (("weight", s.weight_kg), ("height", s.height_cm)) if not v]
        d.block(inputs, "P9 BMI", "P9", 2)
        return
    shown = f"{round(value, 2):g}"
    if value >= 35:
        d.add("P9", f"BMI {shown} (>=35)", 2)
    elif value >= 30:
        d.add("P9", f"BMI {shown} (30-34.9)", 1)


def uncoded(f: FactsV1, d: v0._Draft) -> None:
    for m in f.medications:
        if m.category == "other" and _current(f, m):
            d.notes.append(f"Recorded, not scored: {m.drug}: {UNCODED}.")


def _current(f: Facts, m) -> bool:
    return m.end_date is None or m.end_date >= f.today


def _recent(f: Facts, m) -> bool:
    return m.end_date is None or (f.today - m.end_date).days <= v0.STEROID_NEW_DAYS


# --- stasis ------------------------------------------------------------------------------------


def admission(f: FactsV1, d: v0._Draft) -> None:
    """S2: an admission lasting >=3 days by now, or ended <=30 days ago after >=3 days, or a current
    one during an inpatient IVIG course of >=3 planned days. 1-2 days alone scores nothing."""
    stays, short, undated = [], [], False
    course = _inpatient_course(f)
    for c in f.conditions:
        if c.code != "hospital_admission":
            continue
        if c.resolved_date is None:
            if c.onset_date is None:
                if course:
                    stays.append(f"In hospital now, during {course}")
                else:
                    undated = True
                continue
            days = (f.today - c.onset_date).days
            if days >= v0.ADMISSION_MIN_DAYS:
                stays.append(f"In hospital since {c.onset_date} ({days} days)")
            elif course:
                stays.append(f"In hospital since {c.onset_date} ({days} day(s)), during {course}")
            else:
                short.append(f"In hospital since {c.onset_date} ({days} day(s))")
        elif (f.today - c.resolved_date).days > v0.RECENT_DAYS:
            continue
        elif c.onset_date is None:
            undated = True
        elif (stay := (c.resolved_date - c.onset_date).days) >= v0.ADMISSION_MIN_DAYS:
            stays.append(f"Hospital stay {c.onset_date} to {c.resolved_date} ({stay} days)")
    if stays:
        d.add("S2", stays[0], 2, evidence=EVIDENCE["S2"])
        return
    if undated:
        d.block(["admission date"], "S2 hospital stay >=3 days", "S2", 2)
    for words in short:
        d.notes.append(f"Recorded, not scored (S2): {words}: S2 needs a stay of 3 days or more.")


def _inpatient_course(f: Facts) -> str:
    """Words for an inpatient IVIG course of >=3 planned days under way today, else ""."""
    for r in f.regimens:
        if r.setting != "inpatient" or r.days_per_course < v0.ADMISSION_MIN_DAYS:
            continue
        start = v0._course_start(r, f.today)
        if start is not None and start <= f.today <= start + timedelta(days=r.days_per_course - 1):
            return f"an inpatient {r.days_per_course}-day IVIG course from {start}"
    return ""


# --- treatment ---------------------------------------------------------------------------------


def dosing_weight(f: FactsV1, regimen: RegimenSnap | None) -> tuple[float | None, str, list[str]]:
    """Children (<18) and heights under 152.4 cm: the actual weight, said so; else as ITRS-v0."""
    s = f.snapshot
    kind = regimen.dosing_weight if regimen else "actual"
    short = s.height_cm is not None and s.height_cm < DEVINE_MIN_HEIGHT_CM
    if kind != "actual" and (f.age < ADULT_AGE or short):
        why = f"age {f.age}" if f.age < ADULT_AGE else f"height {s.height_cm:g} cm"
        if not s.weight_kg:
            return None, "actual weight", ["weight"]
        kg = round(float(s.weight_kg), 1)
        return (
            kg,
            (
                f"actual weight {kg:g} kg ({kind} body weight is not computed at {why}: "
                "the Devine formula is not valid under 18 or under 152.4 cm)"
            ),
            [],
        )
    return v0._dosing_weight(f, regimen)


def t3_rolling(
    f: FactsV1,
    d: v0._Draft,
    index: v0._Index,
    regimen: RegimenSnap | None,
    kg: float | None,
    kg_words: str,
    kg_missing: list[str],
) -> None:
    """T3: the largest total of any 7-day window holding an infusion of the index course, over
    every administered infusion; else the order's planned course (as ITRS-v0)."""
    by_day = v0._grams_by_day(f.infusions)
    index_days = {v0._day(i.started_at) for i in index.infusions}
    best = (0.0, None, None)
    for first in sorted(by_day):
        last = first + timedelta(days=v0.COURSE_WINDOW_DAYS - 1)
        if not any(first <= day <= last for day in index_days):
            continue
        total = sum(g for day, g in by_day.items() if first <= day <= last)
        if total > best[0]:
            days_in = [day for day in by_day if first <= day <= last]
            best = (total, min(days_in), max(days_in))
    total, first, last = best
    if kg is not None and first is not None and total / kg >= v0.HIGH_COURSE_G_PER_KG - v0.EPS:
        span = (last - first).days + 1
        d.add(
            "T3",
            f"{v0._num(total)} g = {total / kg:.2f} g/kg of the {kg_words} within {span} day(s) ({first} to {last})",
            1,
        )
    elif v0._ordered_course_fires(regimen):
        d.add("T3", v0._ordered_course_words(regimen), 1)
    elif kg is None:
        d.block(kg_missing, "T3 course g/kg", "T3", 1)


treatment = partial(v0._treatment, gap_days=COURSE_GAP_DAYS, dosing_weight=dosing_weight, t3_given=t3_rolling)


def recommendations(f: FactsV1, d: v0._Draft, regimen: RegimenSnap | None) -> list[dict]:
    """ITRS-v0's advice, without the ideal/adjusted weight where Devine's formula is not valid."""
    recs = v0._recommendations(f, d, regimen)
    s = f.snapshot
    if f.age < ADULT_AGE or (s.height_cm is not None and s.height_cm < DEVINE_MIN_HEIGHT_CM):
        recs = [r for r in recs if r["code"] != "ABW"]
    return recs


ITEMS = tuple(
    {
        v0._prior_thrombosis: prior_thrombosis,
        v0._estrogen: estrogen,
        v0._steroids: steroids,
        v0._body_size: body_size,
        v0._admission: admission,
    }.get(item, item)
    for item in v0.V0_ITEMS
) + (uncoded,)

ITRS_V1 = v0.ITRS_V0.replace(
    name=NAME,
    read_facts=read_facts_v1,
    items=ITEMS,
    treatment=treatment,
    recommendations=recommendations,
    summary="ITRS-v0 with courses of 3 days, T3 on 7-day windows, retinal vein occlusion under P3, "
    "P7 by class, P8 systemic only, P9 unrounded and adult-only, S2 by length of stay.",
)

P7_NOT_SCORED_CLASSES = frozenset(P7_NOT_SCORED)
