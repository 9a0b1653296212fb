"""The IVIG thrombosis risk score of risk/README.md as a pure function: the ITRS-v0 items, and
the `Ruleset` that strings them together.

``assess(snapshot, as_of)`` reads only the snapshot and the instant: no Django, no settings,
no clock. The same inputs give the same result. Points, tiers, overrides and the operational
definitions are listed for clinicians in ``risk/README.md``; keep both in step. A change of
weight or definition is a new ruleset (old assessments keep their version): `itrs.rulesets`
registers them, and `itrs.v1` is ITRS-v0 with its changed definitions replaced.

Dates: instants are compared as instants (naive ones are UTC); "today" is the calendar date of
``as_of`` at the patient's site (``snapshot.time_zone``), and an infusion's day is the local date
it started there, so courses and T1-T5 count the site's calendar days.

Unknown is never zero. An item whose input is missing scores nothing, its input is listed in
``missing`` ("weight: P9 BMI, T3 course g/kg, ..."), and the result is ``provisional`` when the
missing inputs could still move the tier.
"""

from __future__ import annotations

import dataclasses
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from itrs.bodysize import (
    adjusted_body_weight,
    age_years,
    bmi,
    ideal_body_weight,
    mg_kg_min_from_ml_h,
    ml_h_from_mg_kg_min,
)
from itrs.dic import (
    DIC_ASSOCIATED_CONDITIONS,
    as_utc,
    assess_dic,
)
from itrs.drugs import pt_confounder
from itrs.facts import Facts, read_facts, rounded
from itrs.renal import renal_recommendations
from itrs.secondary import secondary_scores
from itrs.types import (
    EventSnap,
    Factor,
    InfusionSnap,
    PatientSnapshot,
    RegimenSnap,
    RiskResult,
)

# The body-size and rate helpers live in itrs.bodysize (the Patient model uses them too);
# they are re-exported here so the engine's arithmetic has one home.
__all__ = [
    "ITRS_V0",
    "RULESET",
    "Facts",
    "Ruleset",
    "adjusted_body_weight",
    "age_years",
    "assess",
    "bmi",
    "ideal_body_weight",
    "mg_kg_min_from_ml_h",
    "ml_h_from_mg_kg_min",
    "read_facts",
    "tier_for_score",
]

RULESET = "ITRS-v1"  # the current ruleset's name; the versions are registered in itrs/rulesets.py

MODERATE_FROM = 4
HIGH_FROM = 7
T_CAP = 4

AT_RISK_RATE = 3.3  # mg/kg/min, the lowest explicit at-risk cap in current labels [R8][R9]
HIGH_DAY_GRAMS = 35.0
HIGH_DAY_G_PER_KG = 1.0
HIGH_COURSE_G_PER_KG = 2.0
COURSE_WINDOW_DAYS = 7  # T3: "within <=7 days"
COURSE_GAP_DAYS = 7  # an infusion more than 7 days after the previous one starts a new course
RECENT_COURSE_DAYS = 14  # an infusion this recent makes its course the index course
LONG_GAP_DAYS = 56  # T1: 8 weeks
SHORT_INTERVAL_DAYS = 14  # T5
STEROID_NEW_DAYS = 90  # P8
POST_EVENT_DAYS = 90  # override (a)
RECENT_DAYS = 30  # S2, S3 and the secondary scores' "<1 month"
ADMISSION_MIN_DAYS = 3  # S2
SEVERE_TRIGLYCERIDES = 1000.0  # mg/dL
DEFAULT_VISCOSITY_HIGH = 2.0  # cP
EPS = 1e-9  # so that 0.4 x 5 counts as 2.0

COMPONENTS = ("hypercoagulability", "stasis", "vessel_injury", "arterial")
CV_RISK_CODES = (
    "hypertension",
    "diabetes",
    "dyslipidemia",
    "smoking",
    "atrial_fibrillation",
    "heart_failure",
)
HYPERVISCOSITY_CODES = (
    "paraproteinemia",
    "cryoglobulinemia",
    "severe_hypertriglyceridemia",
    "polycythemia",
)
ACCESS_POINTS = {"picc": 3, "cvc_tunneled": 2, "cvc_non_tunneled": 2, "port": 2}
ACCESS_WORDS = {
    "picc": "PICC",
    "cvc_tunneled": "tunnelled CVC",
    "cvc_non_tunneled": "non-tunnelled CVC",
    "port": "implanted port",
}
FULL_ANTICOAGULATION = frozenset({"therapeutic", "extended"})

EVIDENCE = {
    "P1": "Caprini 1/2/3 for 41-60/61-74/>=75; IG thrombosis risk rises from 45; "
    "VTE incidence climbs steeply with age [R41][R13][R84]",
    "P2": "Padua, Caprini and IMPROVE all give 3; IVIG raised risk most in people with "
    "prior events (OR 3.69) [R40][R41][R42][R25]",
    "P3": "FDA 'history of arterial thrombosis'; prior coronary disease predicted IVIG "
    "events; judgement weight [R1][R14]",
    "P4": "Padua 3, Caprini 3; FVL RR 7.9, lupus anticoagulant OR 6-11 [R40][R41][R48][R52]",
    "P5": "Active cancer about 9-fold VTE risk; Padua 3 [R54][R40]",
    "P6": "FDA-named hyperviscosity; paraproteinaemic patients exceeded normal viscosity "
    "after IVIG; judgement weight [R1][R22]",
    "P7": "FDA-named estrogens; combined pill RR 3.8 [R1][R48]",
    "P8": "Glucocorticoids: new users IRR 3.06, continuing 2.02, former 0.94 [R45][R46][R47]",
    "P9": "Obesity OR 2.44; BMI >=35 OR 4.0 in a cancer cohort; Padua 1 [R49][R55][R40]",
    "P10": "FDA-named cardiovascular risk factors; several of them went with early IVIG events [R1][R14]",
    "S1": "Padua reduced mobility 3; immobility predicted IVIG events; FDA 'prolonged immobilization' [R40][R14][R1]",
    "S2": "Hospital stay >=3 days is a major transient VTE factor (OR 7.9 in a cancer cohort) [R61][R55]",
    "S3": "Padua recent surgery/trauma 2; Caprini 2-5 [R40][R41]",
    "S4": "Diuretics OR 1.69 for IVIG thrombosis; FDA hydration advice [R15][R1]",
    "S5": "Padua acute infection 1 [R40]",
    "E1": "FDA-named central catheters; CVC OR 8.5 in cancer; PICC DVT OR 2.55 against other lines [R1][R55][R56]",
    "T1": "Early IVIG events cluster in first courses; EU labels single out the first "
    "infusion, a product switch and a long gap [R14][R89]",
    "T2": "Daily dose >=35 g and higher mg/kg/day went with events [R14][R15]",
    "T3": "High-dose courses of 2 g/kg [R15][R22]",
    "T4": "FDA: minimum practicable rate; 3.3 mg/kg/min at-risk cap in labels; fast "
    "infusion implicated [R1][R8][R9][R24]",
    "T5": "IgG and viscosity take about a month to fall, so short intervals keep them high; judgement weight [R22]",
    "T-cap": "ITRS-v0 counts at most 4 points for the IVIG treatment items T1-T5 (design proposal, risk/README.md)",
}

OVERRIDE_EVIDENCE = {
    "a": "Post-event state: a thrombosis in the last 3 months [R61][R62]",
    "b": "After stopping anticoagulation, unprovoked VTE recurs in ~10% in year 1; IVIG "
    "raised risk in people with prior events [R63][R25]",
    "c": "APS, antithrombin deficiency, homozygous or compound thrombophilia [R53][R50b]",
    "d": "Within active cancer a central catheter carries OR 8.5 for VTE [R55]",
    "e": "ISTH overt-DIC score >=5 is compatible with overt DIC [R44]",
}


def _component(code: str) -> str:
    if code in ("P3", "P10"):
        return "arterial"
    if code.startswith("S"):
        return "stasis"
    if code == "E1":
        return "vessel_injury"
    return "hypercoagulability"


def tier_for_score(score: int) -> str:
    if score >= HIGH_FROM:
        return "high"
    if score >= MODERATE_FROM:
        return "moderate"
    return "low"


def _day(moment: datetime) -> date:
    """The calendar day of an instant: in the zone it carries (read_facts puts the infusions in
    the patient's site zone); a naive instant is UTC."""
    return moment.date() if moment.tzinfo is not None else as_utc(moment).date()


def _num(value: float) -> str:
    """A number as a clinician would write it: 40, 0.4, 2.08."""
    return f"{round(value, 2):g}"


# --- the result being built ---------------------------------------------------------------


@dataclass
class _Draft:
    factors: list[Factor] = field(default_factory=list)
    blocked: dict[str, list[str]] = field(default_factory=lambda: defaultdict(list))
    # points each blocked item could still add (code -> points); T items are capped later
    potential: dict[str, int] = field(default_factory=dict)
    could_override: bool = False
    notes: list[str] = field(default_factory=list)
    recommendations: list[dict] = field(default_factory=list)
    dic: object = None  # itrs.dic.DicAssessment when the ISTH score applies

    def add(self, code: str, label: str, points: int, *, fda: bool = False, evidence: str | None = None) -> None:
        self.factors.append(
            Factor(
                code=code,
                label=label,
                component=_component(code),
                points=points,
                evidence=EVIDENCE[code] if evidence is None else evidence,
                fda_listed=fda,
            )
        )

    def block(self, inputs: list[str], item: str, code: str = "", points: int = 0, *, override: bool = False) -> None:
        """``item`` cannot be assessed without ``inputs``; it could add ``points`` to ``code``
        or, with ``override``, raise the tier to high."""
        for name in inputs:
            if item not in self.blocked[name]:
                self.blocked[name].append(item)
        if code:
            self.potential[code] = max(self.potential.get(code, 0), points)
        self.could_override = self.could_override or override

    def scored(self, code: str) -> Factor | None:
        return next((f for f in self.factors if f.code == code), None)

    @property
    def fda_listed(self) -> list[Factor]:
        return [f for f in self.factors if f.fda_listed]


# --- patient factors (P1-P10) ----------------------------------------------------------------


def _age(f: Facts, d: _Draft) -> None:
    if f.age < 18:
        d.notes.append(f"Age {f.age}: outside the adult populations the component models were derived in.")
    if f.age >= 75:
        points, band = 3, ">=75"
    elif f.age >= 61:
        points, band = 2, "61-74"
    elif f.age >= 45:
        points, band = 1, "45-60"
    else:
        return
    fda = f.age >= 65
    d.add("P1", f"Age {f.age} ({band}{'; FDA advanced age' if fda else ''})", points, fda=fda)


def _prior_thrombosis(f: Facts, d: _Draft) -> None:
    venous = f.confirmed(venous=True)
    if venous:
        d.add("P2", "Prior VTE: " + _event_list(venous), 3, fda=True)
    arterial = f.confirmed(venous=False)
    if arterial:
        d.add("P3", "Prior arterial thrombosis: " + _event_list(arterial), 2, fda=True)
    for e in f.events:
        if e.status != "suspected":
            continue
        code, points, words = ("P2", 3, "VTE") if e.venous else ("P3", 2, "arterial thrombosis")
        what = [f"confirmation of the suspected {_event_words(e.kind)} of {e.diagnosed_on}"]
        d.block(what, f"{code} prior {words}", code, 0 if d.scored(code) else points)
        if (f.today - e.diagnosed_on).days <= POST_EVENT_DAYS:
            d.block(what, "override (a)", override=True)


def _event_words(kind: str) -> str:
    return {
        "dvt": "DVT",
        "pe": "PE",
        "upper_extremity_dvt": "upper-limb DVT",
        "jugular_vein": "jugular vein thrombosis",
        "cerebral_venous": "cerebral venous thrombosis",
        "splanchnic": "splanchnic vein thrombosis",
        "retinal_vein": "retinal vein occlusion",
        "mi": "myocardial infarction",
        "ischemic_stroke": "ischaemic stroke",
        "tia": "TIA",
        "peripheral_arterial": "peripheral arterial thrombosis",
    }.get(kind, kind.replace("_", " "))


def _event_list(events: list[EventSnap]) -> str:
    parts = []
    for e in sorted(events, key=lambda e: e.diagnosed_on):
        extra = ", catheter-related" if e.catheter_related else ""
        parts.append(f"{_event_words(e.kind)} {e.diagnosed_on}{extra}")
    return "; ".join(parts)


def _hypercoagulable_conditions(f: Facts, d: _Draft) -> None:
    if f.has("thrombophilia_high_risk"):
        d.add("P4", "Known thrombophilia (high-risk: APS, AT deficiency or homozygous)", 3, fda=True)
    elif f.has("thrombophilia"):
        d.add("P4", "Known thrombophilia", 3, fda=True)
    if f.has("active_cancer"):
        d.add("P5", "Active cancer", 3, fda=True)

    reasons = [c.replace("_", " ") for c in HYPERVISCOSITY_CODES if f.has(c)]
    tg = f.labs.get("triglycerides")
    if tg is not None and tg.value >= SEVERE_TRIGLYCERIDES:
        reasons.append(f"triglycerides {tg.value:g} mg/dL on {_day(tg.collected_at)}")
    visc = f.labs.get("serum_viscosity")
    if visc is not None:
        high = visc.reference_high or DEFAULT_VISCOSITY_HIGH
        if visc.value > high:
            reasons.append(f"serum viscosity {visc.value:g} cP (above {high:g}) on {_day(visc.collected_at)}")
    if reasons:
        d.add("P6", "Hyperviscosity risk: " + "; ".join(reasons), 2, fda=True)


def _estrogen(f: Facts, d: _Draft) -> None:
    """P7 (ITRS-v0): any current estrogen-category course, or pregnancy / post-partum."""
    estrogen = f.active_meds("estrogen")
    if estrogen or f.has("pregnancy_postpartum"):
        what = [f"estrogen ({', '.join(sorted({m.drug for m in estrogen}))})"] if estrogen else []
        if f.has("pregnancy_postpartum"):
            what.append("pregnancy or post-partum")
        d.add("P7", "Current " + " and ".join(what), 2, fda=True)


def _steroids(f: Facts, d: _Draft) -> None:
    courses = [m for m in f.medications if m.category == "steroid"]
    new = [m for m in courses if (f.today - m.start_date).days <= STEROID_NEW_DAYS]
    if new:
        latest = max(new, key=lambda m: m.start_date)
        days = (f.today - latest.start_date).days
        d.add("P8", f"Glucocorticoid started {days} days ago ({latest.drug}; new use <=90 days)", 2)
        return
    recent = [m for m in courses if m.end_date is None or (f.today - m.end_date).days <= STEROID_NEW_DAYS]
    if recent:
        # an ongoing course first, else the one stopped most recently
        m = max(recent, key=lambda m: m.end_date or date.max)
        state = "ongoing" if m.end_date is None or m.end_date >= f.today else f"stopped {m.end_date}"
        d.add("P8", f"Glucocorticoid continuing beyond 90 days ({m.drug}, {state})", 1)


def _body_size(f: Facts, d: _Draft) -> None:
    s = f.snapshot
    if f.bmi is None:
        inputs = [name for name, v in (("weight", s.weight_kg), ("height", s.height_cm)) if not v]
        d.block(inputs, "P9 BMI", "P9", 2)
        return
    if f.bmi >= 35:
        d.add("P9", f"BMI {f.bmi:g} (>=35)", 2)
    elif f.bmi >= 30:
        d.add("P9", f"BMI {f.bmi:g} (30-34.9)", 1)


def _cardiovascular(f: Facts, d: _Draft) -> None:
    present = [c for c in CV_RISK_CODES if f.has(c)]
    if present:
        words = ", ".join(c.replace("_", " ") for c in present)
        d.add("P10", f"Cardiovascular risk factors: {words} (1 each, max 2)", min(2, len(present)), fda=True)


# --- stasis (S1-S5) and vessel injury (E1) ---------------------------------------------------


def _stasis(f: Facts, d: _Draft) -> None:
    if f.has("bedbound"):
        d.add("S1", "Confined to bed or chair >=72 h", 3, fda=True)
    elif f.has("reduced_mobility"):
        d.add("S1", "Reduced mobility", 1)
    _surgery_and_fluids(f, d)


def _admission(f: Facts, d: _Draft) -> None:
    """S2 (ITRS-v0): a current admission of any length, or a stay of >=3 days ended <=30 days ago."""
    stays, undated = [], False
    for c in f.conditions:
        if c.code != "hospital_admission":
            continue
        if c.resolved_date is None:  # the current admission counts whatever its length so far
            stays.append("In hospital now" + (f" since {c.onset_date}" if c.onset_date else ""))
        elif (f.today - c.resolved_date).days > RECENT_DAYS:
            continue
        elif c.onset_date is None:
            undated = True
        elif (stay := (c.resolved_date - c.onset_date).days) >= ADMISSION_MIN_DAYS:
            stays.append(f"Hospital stay {c.onset_date} to {c.resolved_date} ({stay} days)")
    if stays:
        d.add("S2", stays[0], 2)
    elif undated:
        d.block(["admission date"], "S2 hospital stay >=3 days", "S2", 2)


def _surgery_and_fluids(f: Facts, d: _Draft) -> None:
    surgery = f.onset_within("major_surgery_or_trauma", RECENT_DAYS)
    if surgery:
        d.add("S3", f"Major surgery or trauma on {max(c.onset_date for c in surgery)}", 2)
    elif any(
        c.code == "major_surgery_or_trauma"
        and c.onset_date is None
        and (c.resolved_date is None or c.resolved_date >= f.today)
        for c in f.conditions
    ):
        d.block(["date of surgery or trauma"], "S3 surgery/trauma <=30 days", "S3", 2)

    diuretics = f.active_meds("diuretic")
    if f.has("volume_depletion") or diuretics:
        what = ["volume depletion"] if f.has("volume_depletion") else []
        what += [f"diuretic ({m.drug})" for m in diuretics]
        text = ", ".join(what)
        d.add("S4", text[0].upper() + text[1:], 1)
    if f.has("acute_infection_or_sepsis"):
        d.add("S5", "Acute infection or sepsis", 1)


def _vessel(f: Facts, d: _Draft) -> None:
    if not f.accesses:
        return
    access = max(f.accesses, key=lambda a: ACCESS_POINTS.get(a.kind, 2))
    vein = access.vein.replace("_", " ")
    d.add(
        "E1",
        f"{ACCESS_WORDS.get(access.kind, access.kind)} ({vein}) in place since {access.inserted_on}",
        ACCESS_POINTS.get(access.kind, 2),
        fda=True,
    )


# --- IVIG treatment modifiers (T1-T5) ---------------------------------------------------------


def _product_key(product_id: int, name: str) -> object:
    return product_id or name.strip().casefold()


def _courses(infusions: tuple[InfusionSnap, ...], gap_days: int = COURSE_GAP_DAYS) -> list[list[InfusionSnap]]:
    """Runs of infusions, each starting at most ``gap_days`` after the previous one."""
    courses: list[list[InfusionSnap]] = []
    previous: date | None = None
    for infusion in infusions:
        day = _day(infusion.started_at)
        if previous is None or (day - previous).days > gap_days:
            courses.append([])
        courses[-1].append(infusion)
        previous = day
    return courses


def _course_start(regimen: RegimenSnap, today: date) -> date | None:
    """Start of the regimen's course in progress today, else of its next course, else None."""
    span = max(regimen.days_per_course, 1) - 1
    start = regimen.start_date
    if regimen.interval_days and start + timedelta(days=span) < today:
        behind = (today - timedelta(days=span) - start).days
        start += timedelta(days=-(-behind // regimen.interval_days) * regimen.interval_days)
    if start + timedelta(days=span) < today:
        return None
    if regimen.end_date is not None and start > regimen.end_date:
        return None
    return start


def _pick_regimen(f: Facts) -> tuple[RegimenSnap | None, date | None]:
    """The active regimen: the one whose course is in progress or comes next."""
    dated = [(_course_start(r, f.today), r) for r in f.regimens]
    dated = [(start, r) for start, r in dated if start is not None]
    if dated:
        start, regimen = min(dated, key=lambda pair: (pair[0], pair[1].start_date, pair[1].product_name))
        return regimen, start
    if f.regimens:
        return max(f.regimens, key=lambda r: r.start_date), None
    return None, None


@dataclass(frozen=True)
class _Index:
    """The course the T items are assessed on."""

    given: bool  # administered (True) or the next planned course (False)
    first_day: date
    infusions: tuple[InfusionSnap, ...]  # given courses only
    products: frozenset
    product_words: str
    previous: tuple[InfusionSnap, ...]  # the administered course before it, if any


def _index_course(
    f: Facts, regimen: RegimenSnap | None, next_start: date | None, gap_days: int = COURSE_GAP_DAYS
) -> _Index | None:
    courses = _courses(f.infusions, gap_days)
    if courses and (f.today - _day(courses[-1][-1].started_at)).days <= RECENT_COURSE_DAYS:
        course = courses[-1]
        return _Index(
            given=True,
            first_day=_day(course[0].started_at),
            infusions=tuple(course),
            products=frozenset(_product_key(i.product_id, i.product_name) for i in course),
            product_words=", ".join(sorted({i.product_name for i in course})),
            previous=tuple(courses[-2]) if len(courses) > 1 else (),
        )
    if regimen is None or next_start is None:
        return None
    return _Index(
        given=False,
        first_day=next_start,
        infusions=(),
        products=frozenset({_product_key(regimen.product_id, regimen.product_name)}),
        product_words=regimen.product_name,
        previous=tuple(courses[-1]) if courses else (),
    )


def _dosing_weight(f: Facts, regimen: RegimenSnap | None) -> tuple[float | None, str, list[str]]:
    """(kg, words, missing inputs) for the regimen's dosing weight (actual when no regimen)."""
    s = f.snapshot
    kind = regimen.dosing_weight if regimen else "actual"
    if kind == "ideal":
        kg = ideal_body_weight(s.sex, s.height_cm)
        missing = [] if kg else ["height"]
    elif kind == "adjusted":
        kg = adjusted_body_weight(s.sex, s.height_cm, s.weight_kg)
        missing = [n for n, v in (("weight", s.weight_kg), ("height", s.height_cm)) if not v]
    else:
        kind, kg = "actual", s.weight_kg
        missing = [] if kg else ["weight"]
    if kg and kg > 0:  # Devine goes negative only far below the height plausibility gate
        kg = round(float(kg), 1)
        return kg, f"{kind} weight {kg:g} kg", []
    return None, f"{kind} weight", missing or ["height"]


def _treatment(
    f: Facts,
    d: _Draft,
    *,
    gap_days: int = COURSE_GAP_DAYS,
    dosing_weight=None,
    t3_given=None,
) -> RegimenSnap | None:
    """T1-T5. A ruleset may give its own course gap, dosing weight and given-course T3."""
    dosing_weight = dosing_weight or _dosing_weight
    t3_given = t3_given or _t3_given
    regimen, next_start = _pick_regimen(f)
    index = _index_course(f, regimen, next_start, gap_days)
    if regimen is not None and regimen.interval_days is not None:
        if regimen.interval_days <= SHORT_INTERVAL_DAYS:
            d.add("T5", f"Maintenance every {regimen.interval_days} days (<=14)", 1)
    if index is None:
        d.notes.append("No IVIG course in the last 14 days and none planned: T1-T4 not assessed.")
        return regimen
    kg, kg_words, kg_missing = dosing_weight(f, regimen)
    if index.given:
        days = sorted({_day(i.started_at) for i in index.infusions})
        grams = sum(i.dose_grams for i in index.infusions)
        d.notes.append(
            f"T items assessed on the course given from {index.first_day} "
            f"({len(days)} day(s), {_num(grams)} g, {index.product_words})."
        )
    else:
        d.notes.append(f"T items assessed on the next planned course of {index.product_words} from {index.first_day}.")
    _t1(f, d, index)
    if index.given:
        _t2_given(d, index, regimen, kg, kg_words, kg_missing)
        t3_given(f, d, index, regimen, kg, kg_words, kg_missing)
    else:
        _t2_t3_planned(d, regimen, kg, kg_words, kg_missing)
    _t4(f, d, index, regimen)
    return regimen


def _t1(f: Facts, d: _Draft, index: _Index) -> None:
    if not index.previous:
        if f.snapshot.has_earlier_infusions:
            # the loader reads a recent window only; anything older is a long gap either way
            d.add("T1", "No infusion in the recent history loaded; earlier ones are older (>=8 weeks)", 1)
        else:
            d.add("T1", "First-ever IVIG course", 1)
        return
    last = _day(index.previous[-1].started_at)
    gap = (index.first_day - last).days
    if gap >= LONG_GAP_DAYS:
        d.add("T1", f"{gap} days since the last infusion ({last}; >=8 weeks)", 1)
        return
    before = {_product_key(i.product_id, i.product_name) for i in index.previous}
    if index.products - before:
        was = ", ".join(sorted({i.product_name for i in index.previous}))
        d.add("T1", f"Product switch: {index.product_words} after {was}", 1)


def _grams_by_day(infusions: tuple[InfusionSnap, ...]) -> dict[date, float]:
    by_day: dict[date, float] = defaultdict(float)
    for infusion in infusions:
        by_day[_day(infusion.started_at)] += infusion.dose_grams
    return dict(by_day)


def _t2_given(
    d: _Draft, index: _Index, regimen: RegimenSnap | None, kg: float | None, kg_words: str, kg_missing: list[str]
) -> None:
    by_day = _grams_by_day(index.infusions)
    top_day, top = max(by_day.items(), key=lambda item: (item[1], -item[0].toordinal()))  # first of equals
    ordered = regimen.dose_g_per_kg_per_day if regimen else None
    if top >= HIGH_DAY_GRAMS - EPS:
        d.add("T2", f"{_num(top)} g given on {top_day} (>=35 g/day)", 1)
    elif ordered is not None and ordered >= HIGH_DAY_G_PER_KG - EPS:
        d.add("T2", f"Order {_num(ordered)} g/kg/day (>=1.0 g/kg)", 1)
    elif kg is not None and top / kg >= HIGH_DAY_G_PER_KG - EPS:
        d.add("T2", f"{_num(top)} g on {top_day} = {top / kg:.2f} g/kg of the {kg_words}", 1)
    elif kg is None:
        d.block(kg_missing, "T2 g/kg per day", "T2", 1)


def _t3_given(
    f: Facts,
    d: _Draft,
    index: _Index,
    regimen: RegimenSnap | None,
    kg: float | None,
    kg_words: str,
    kg_missing: list[str],
) -> None:
    """T3 (ITRS-v0): the largest 7-day total within the index course, else the order."""
    window_total, window_first, window_last = _best_window(_grams_by_day(index.infusions))
    span = (window_last - window_first).days + 1
    if kg is not None and window_total / kg >= HIGH_COURSE_G_PER_KG - EPS:
        d.add(
            "T3",
            f"Course {_num(window_total)} g = {window_total / kg:.2f} g/kg of the {kg_words} within {span} day(s)",
            1,
        )
    elif _ordered_course_fires(regimen):
        d.add("T3", _ordered_course_words(regimen), 1)
    elif kg is None:
        d.block(kg_missing, "T3 course g/kg", "T3", 1)


def _best_window(by_day: dict[date, float]) -> tuple[float, date, date]:
    """The largest total over at most 7 consecutive days, with its first and last day."""
    days = sorted(by_day)
    best = (0.0, days[0], days[0])
    for i, first in enumerate(days):
        total = 0.0
        for day in days[i:]:
            if (day - first).days >= COURSE_WINDOW_DAYS:
                break
            total += by_day[day]
            if total > best[0]:
                best = (total, first, day)
    return best


def _ordered_course_fires(regimen: RegimenSnap | None) -> bool:
    if regimen is None or regimen.dose_g_per_kg_per_day is None:
        return False
    days = min(regimen.days_per_course, COURSE_WINDOW_DAYS)
    return regimen.dose_g_per_kg_per_day * days >= HIGH_COURSE_G_PER_KG - EPS


def _ordered_course_words(regimen: RegimenSnap) -> str:
    dose, days = regimen.dose_g_per_kg_per_day, regimen.days_per_course
    return f"Order {_num(dose)} g/kg/day x {days} days = {_num(dose * days)} g/kg per course"


def _t2_t3_planned(d: _Draft, regimen: RegimenSnap, kg: float | None, kg_words: str, kg_missing: list[str]) -> None:
    per_kg = regimen.dose_g_per_kg_per_day
    grams = regimen.dose_grams_per_day
    if per_kg is None and grams is None:
        d.block(["dose on the order"], "T2 daily dose", "T2", 1)
        d.block(["dose on the order"], "T3 course g/kg", "T3", 1)
        return
    if grams is None and kg is not None:
        grams = per_kg * kg
    if per_kg is None and kg is not None:
        per_kg = grams / kg

    if grams is not None and grams >= HIGH_DAY_GRAMS - EPS:
        how = f" ({_num(per_kg)} g/kg x {kg:g} kg)" if regimen.dose_grams_per_day is None else ""
        d.add("T2", f"Order {_num(grams)} g/day{how} (>=35 g/day)", 1)
    elif per_kg is not None and per_kg >= HIGH_DAY_G_PER_KG - EPS:
        of = f" of the {kg_words}" if regimen.dose_g_per_kg_per_day is None else ""
        d.add("T2", f"Order {_num(per_kg)} g/kg/day{of} (>=1.0 g/kg)", 1)
    elif grams is None:
        d.block(kg_missing, "T2 grams per day", "T2", 1)
    elif per_kg is None:
        d.block(kg_missing, "T2 g/kg per day", "T2", 1)

    if _ordered_course_fires(regimen):
        d.add("T3", _ordered_course_words(regimen), 1)
    elif regimen.dose_g_per_kg_per_day is None:
        if per_kg is None:
            d.block(kg_missing, "T3 course g/kg", "T3", 1)
        else:
            days = min(regimen.days_per_course, COURSE_WINDOW_DAYS)
            if per_kg * days >= HIGH_COURSE_G_PER_KG - EPS:
                d.add(
                    "T3",
                    f"Order {_num(grams)} g/day x {regimen.days_per_course} days = "
                    f"{per_kg * days:.2f} g/kg of the {kg_words}",
                    1,
                )


@dataclass(frozen=True)
class _Rate:
    rate: float | None  # mg/kg/min, None when it cannot be computed
    label: float | None  # label maximum for the indication
    words: str
    ml_h: float | None = None
    concentration: float | None = None


def _given_rates(f: Facts, index: _Index) -> list[_Rate]:
    weight = f.snapshot.weight_kg
    rates = []
    for i in index.infusions:
        day = _day(i.started_at)
        if i.max_rate_mg_kg_min is not None:
            rates.append(
                _Rate(i.max_rate_mg_kg_min, i.label_max_rate_mg_kg_min, f"{i.max_rate_mg_kg_min:g} mg/kg/min on {day}")
            )
        elif i.max_rate_ml_h is not None:
            rate = None
            if weight:
                # pumps run in whole mL/h: read the derived rate to 0.1 mg/kg/min
                rate = round(mg_kg_min_from_ml_h(i.max_rate_ml_h, i.product_concentration_percent, weight), 1)
            words = f"{i.max_rate_ml_h:g} mL/h of {i.product_concentration_percent:g}% on {day}"
            if rate is not None:
                words = f"{rate:g} mg/kg/min ({words} at {weight:g} kg)"
            rates.append(
                _Rate(rate, i.label_max_rate_mg_kg_min, words, i.max_rate_ml_h, i.product_concentration_percent)
            )
    return rates


def _t4(f: Facts, d: _Draft, index: _Index, regimen: RegimenSnap | None) -> None:
    rates = _given_rates(f, index) if index.given else []
    if not rates and regimen is not None and regimen.max_rate_mg_kg_min is not None:
        rates = [
            _Rate(
                regimen.max_rate_mg_kg_min,
                regimen.label_max_rate_mg_kg_min,
                f"{regimen.max_rate_mg_kg_min:g} mg/kg/min (maximum on the order)",
            )
        ]
    if not rates:
        d.block(["maximum infusion rate"], "T4 rate", "T4", 1)
        return
    at_risk = bool(d.fda_listed)
    above_label = [r for r in rates if r.rate is not None and r.label is not None and r.rate > r.label + EPS]
    above_cap = [r for r in rates if at_risk and r.rate is not None and r.rate > AT_RISK_RATE + EPS]
    if above_label:
        worst = max(above_label, key=lambda r: r.rate - r.label)
        d.add("T4", f"Max rate {worst.words}: above the label maximum {worst.label:g}", 1)
        d.recommendations.append(
            {
                "code": "RATE-ABOVE-LABEL",
                "text": f"Maximum rate {worst.words} is above the label maximum of {worst.label:g} "
                f"mg/kg/min for this product and indication: check the order.",
                "rate_mg_kg_min": worst.rate,
                "label_max_mg_kg_min": worst.label,
            }
        )
        return
    if above_cap:
        worst = max(above_cap, key=lambda r: r.rate)
        d.add("T4", f"Max rate {worst.words}: above 3.3 with an FDA-listed factor", 1)
        return
    unknown = [r for r in rates if r.rate is None]
    if unknown:
        _rate_blocked(d, max(unknown, key=lambda r: r.ml_h * r.concentration), at_risk)
        d.block(["weight"], "T4 rate in mg/kg/min", "T4", 1)
    elif not at_risk and any(r.label is None for r in rates):
        d.block(["label maximum rate"], "T4 rate against the label", "T4", 1)


def _rate_blocked(d: _Draft, r: _Rate, at_risk: bool) -> None:
    """Explain, with numbers, the rate check that a missing weight blocks (V12)."""
    mg_min = r.ml_h * r.concentration * 10 / 60
    rec = {
        "code": "RATE-CHECK-BLOCKED",
        "text": f"{r.words} is {_num(mg_min)} mg/min.",
        "ml_h": r.ml_h,
        "concentration_percent": r.concentration,
        "mg_per_min": round(mg_min, 1),
    }
    limits = []
    if r.label is not None:
        rec["label_max_mg_kg_min"] = r.label
        rec["above_label_below_kg"] = round(mg_min / r.label, 1)
        limits.append(
            f"above the {r.label:g} mg/kg/min label maximum if the patient weighs less than "
            f"{rec['above_label_below_kg']:g} kg"
        )
    if at_risk:
        rec["above_3_3_below_kg"] = round(mg_min / AT_RISK_RATE, 1)
        limits.append(f"above the 3.3 mg/kg/min at-risk cap below {rec['above_3_3_below_kg']:g} kg")
    if limits:
        rec["text"] += " That is " + ", and ".join(limits) + "."
    rec["text"] += " Without a weight the rate check is blocked, not passed."
    d.recommendations.append(rec)


# --- overrides, DIC --------------------------------------------------------------------------


def _overrides(f: Facts, d: _Draft) -> tuple[list[dict], int | None]:
    overrides = []

    def add(code: str, label: str) -> None:
        overrides.append({"code": code, "label": label, "evidence": OVERRIDE_EVIDENCE[code]})

    recent = f.confirmed_within(POST_EVENT_DAYS)  # venous or arterial
    if recent:
        add("a", "Thrombosis in the last 3 months: " + _event_list(recent))
    venous = f.confirmed(venous=True)
    if venous:
        full = [m for m in f.active_meds("anticoagulant") if m.intensity in FULL_ANTICOAGULATION]
        if not full:
            add("b", "Prior VTE and no therapeutic or extended-phase anticoagulation now")
    if f.has("thrombophilia_high_risk"):
        add("c", "High-risk thrombophilia (APS, antithrombin deficiency, homozygous or compound)")
    if f.has("active_cancer") and f.accesses:
        kinds = ", ".join(ACCESS_WORDS.get(a.kind, a.kind) for a in f.accesses)
        add("d", f"Active cancer with a central venous access device ({kinds})")

    dic_score = None
    associated = [c for c in sorted(DIC_ASSOCIATED_CONDITIONS) if f.has(c)]
    if f.snapshot.diagnosis == "dic":
        associated.append("diagnosis DIC")
    if associated:
        dic = assess_dic(f.snapshot.labs, f.as_of, pt_confounder=pt_confounder(f.active_meds("anticoagulant")))
        d.dic = dic
        d.notes.append(dic.note)
        if dic.pt_skipped and not dic.overt:
            d.block([f"PT (on {dic.pt_skipped})"], "ISTH overt-DIC PT item", override=True)
        dic_score = dic.score
        if dic.overt and dic.at_least:
            words = ", ".join(t.replace("_", "-") for t in dic.missing)
            add("e", f"ISTH overt-DIC items already total {dic.known_points} (>=5) without {words}")
        elif dic.overt:
            add("e", f"ISTH overt-DIC score {dic.score} (>=5)")
    return overrides, dic_score


# --- recommendations -------------------------------------------------------------------------


def _recommendations(f: Facts, d: _Draft, regimen: RegimenSnap | None) -> list[dict]:
    s = f.snapshot
    recs = [
        {
            "code": "MONITOR",
            "text": "Thrombosis can occur without any risk factor (FDA boxed warning): make sure "
            "the patient knows the warning signs (limb pain or swelling, chest pain, "
            "breathlessness, one-sided weakness, speech or vision loss) and reports them at once [R1].",
        }
    ]
    fda = d.fda_listed
    if fda:
        codes = ", ".join(dict.fromkeys(x.code for x in fda))
        concentration = (
            regimen.product_concentration_percent
            if regimen
            else (f.infusions[-1].product_concentration_percent if f.infusions else None)
        )
        ml_h = (
            round(ml_h_from_mg_kg_min(AT_RISK_RATE, concentration, s.weight_kg), 1)
            if s.weight_kg and concentration
            else None
        )
        if ml_h is not None:
            how = f" = {ml_h:g} mL/h at {s.weight_kg:g} kg of a {concentration:g}% product"
        else:
            how = " (the mL/h needs a weight and the product concentration)"
        recs.append(
            {
                "code": "MIN-RATE",
                "text": f"FDA-listed risk factor ({codes}): infuse at the minimum practicable "
                f"rate, at most 3.3 mg/kg/min{how} [R1][R8][R9].",
                "max_mg_kg_min": AT_RISK_RATE,
                "ml_h": ml_h,
                "weight_kg": s.weight_kg,
                "concentration_percent": concentration,
            }
        )
        recs.append(
            {
                "code": "HYDRATE",
                "text": "Ensure adequate hydration before the infusion (volume by local protocol) [R1].",
            }
        )
    if d.scored("P6"):
        recs.append(
            {
                "code": "VISCOSITY",
                "text": "Hyperviscosity risk: assess blood viscosity before IVIG [R1][R22].",
            }
        )
    if f.bmi is not None and f.bmi >= 30:
        recs.append(_abw(f, regimen))
    recs.extend(d.recommendations)
    recs.extend(renal_recommendations(f, regimen))
    if not s.weight_kg:
        recs.append(
            {
                "code": "WEIGHT-NEEDED",
                "text": "No weight on record: BMI, g/kg dose checks and mg/kg/min rate checks "
                "are blocked. Weigh the patient before the next infusion; never estimate it.",
            }
        )
    markers = [f"age {f.age}"] if f.age >= 45 else []
    markers += [code for code in ("P3", "P6", "P9", "P10") if d.scored(code)]
    if markers:
        recs.append(
            {
                "code": "ARTERIAL-EMPHASIS",
                "text": "Arterial risk markers (" + ", ".join(markers) + "): arterial events "
                "(heart attack, stroke) cluster during and within about 24 h of an infusion; "
                "watch closely on the infusion day and the next [R11][R17].",
                "arterial_emphasis": True,
                "markers": markers,
            }
        )
    return recs


def _abw(f: Facts, regimen: RegimenSnap | None) -> dict:
    s = f.snapshot
    ibw = rounded(ideal_body_weight(s.sex, s.height_cm))
    abw = rounded(adjusted_body_weight(s.sex, s.height_cm, s.weight_kg))
    weights = {
        k: kg for k, kg in (("actual", round(float(s.weight_kg), 1)), ("ideal", ibw), ("adjusted", abw)) if kg > 0
    }
    text = (
        f"BMI {f.bmi:g}: ideal body weight {ibw:g} kg, adjusted (dose-determining) weight "
        f"{abw:g} kg, actual {weights['actual']:g} kg [R75]."
    )
    rec = {"code": "ABW", "ibw_kg": ibw, "abw_kg": abw, "actual_kg": weights["actual"]}
    if regimen is not None and regimen.dose_g_per_kg_per_day is not None:
        per_kg = regimen.dose_g_per_kg_per_day
        grams = {k: round(per_kg * kg, 1) for k, kg in weights.items()}
        rec["dose_g_per_kg_per_day"] = per_kg
        rec["grams_per_day"] = grams
        text += (
            f" {_num(per_kg)} g/kg/day = "
            + ", ".join(f"{g:g} g on the {k} weight" for k, g in reversed(grams.items()))
            + f" (the order uses the {regimen.dosing_weight} weight)."
        )
    elif regimen is not None and regimen.dose_grams_per_day is not None:
        grams = regimen.dose_grams_per_day
        rec["grams_per_day"] = grams
        rec["g_per_kg"] = {k: round(grams / kg, 2) for k, kg in weights.items()}
        text += f" {_num(grams)} g/day = " + ", ".join(f"{v:g} g/kg {k}" for k, v in rec["g_per_kg"].items()) + "."
    if s.sex not in ("male", "female"):
        text += " Sex not recorded as male or female: the female formula (lower IBW) was used."
    if s.height_cm and s.height_cm < 152.4:
        text += " Devine's formula is not validated below 152.4 cm (60 in)."
    rec["text"] = text
    return rec


# --- assess ----------------------------------------------------------------------------------


def _apply_cap(d: _Draft) -> int:
    """Cap T1-T5 at 4 with an explicit negative "T-cap" row; returns the uncapped T sum."""
    t_sum = sum(f.points for f in d.factors if f.code.startswith("T"))
    if t_sum > T_CAP:
        d.add("T-cap", f"IVIG treatment items T1-T5 total {t_sum}, counted as {T_CAP}", T_CAP - t_sum)
    return t_sum


def _could_change_tier(d: _Draft, score: int, t_sum: int, tier: str) -> bool:
    if tier == "high" or not d.blocked:
        return False
    if d.could_override:
        return True
    extra_t = sum(p for code, p in d.potential.items() if code.startswith("T"))
    extra = sum(p for code, p in d.potential.items() if not code.startswith("T"))
    best = score + extra + min(T_CAP, t_sum + extra_t) - min(T_CAP, t_sum)
    return tier_for_score(best) != tier


@dataclass(frozen=True)
class Ruleset:
    """One version of the score: how facts are read, the factor items in order, the treatment
    items, the overrides and the advice. `itrs.rulesets` registers the versions; a new version
    replaces only the steps whose definition changed (ITRS-v1 in `itrs.v1`)."""

    name: str
    read_facts: Callable[[PatientSnapshot, datetime], Facts]
    items: tuple[Callable[[Facts, _Draft], None], ...]
    treatment: Callable[[Facts, _Draft], RegimenSnap | None]
    overrides: Callable[[Facts, _Draft], tuple[list[dict], int | None]]
    recommendations: Callable[[Facts, _Draft, RegimenSnap | None], list[dict]]
    summary: str = ""

    def replace(self, **changes) -> Ruleset:
        return dataclasses.replace(self, **changes)

    def assess(self, snapshot: PatientSnapshot, as_of: datetime, *, explain: bool = True) -> RiskResult:
        return _assess(self, snapshot, as_of, explain)


V0_ITEMS = (
    _age,
    _prior_thrombosis,
    _hypercoagulable_conditions,
    _estrogen,
    _steroids,
    _body_size,
    _cardiovascular,
    _stasis,
    _admission,
    _vessel,
)

ITRS_V0 = Ruleset(
    name="ITRS-v0",
    read_facts=read_facts,
    items=V0_ITEMS,
    treatment=_treatment,
    overrides=_overrides,
    recommendations=_recommendations,
    summary="The first published definitions (risk/README.md, ITRS-v0 column).",
)


# Every ruleset the app can score with, by name: filled by `itrs.rulesets` (which the package
# imports first, so it is complete whenever `itrs` is imported). Kept here so this module never
# imports the versions built on it.
_REGISTRY: dict[str, Ruleset] = {}


def register(ruleset: Ruleset) -> Ruleset:
    _REGISTRY[ruleset.name] = ruleset
    return ruleset


def registered() -> dict[str, Ruleset]:
    return dict(_REGISTRY)


register(ITRS_V0)


def assess(
    snapshot: PatientSnapshot, as_of: datetime, *, explain: bool = True, ruleset: Ruleset | None = None
) -> RiskResult:
    """Score ``snapshot`` as it stood at ``as_of`` with ``ruleset`` (default: the current one,
    ``RULESET``; risk/README.md).

    ``explain=False`` leaves out the recommendations and the secondary scores: for the risk at
    each past infusion, which keeps only the score, tier, provisional flag and factors (a third
    of a first sweep's scoring time went on advice nobody reads there).
    """
    return _assess(ruleset or _REGISTRY[RULESET], snapshot, as_of, explain)


def _assess(rules: Ruleset, snapshot: PatientSnapshot, as_of: datetime, explain: bool) -> RiskResult:
    f = rules.read_facts(snapshot, as_of)
    d = _Draft()
    for item in rules.items:
        item(f, d)
    regimen = rules.treatment(f, d)  # after the factors above: T4 needs the FDA-listed ones
    t_sum = _apply_cap(d)

    order = {code: i for i, code in enumerate(EVIDENCE)}
    factors = tuple(sorted(d.factors, key=lambda x: order[x.code]))
    score = sum(x.points for x in factors)
    components = dict.fromkeys(COMPONENTS, 0)
    for x in factors:
        components[x.component] += x.points

    overrides, dic_score = rules.overrides(f, d)
    if f.active_meds("antiplatelet") or any(m.intensity == "prophylactic" for m in f.active_meds("anticoagulant")):
        d.notes.append(
            "Aspirin or prophylactic anticoagulation is recorded but does not lower the score "
            "(no validated effect for IVIG) [R28]."
        )
    tier = "high" if overrides else tier_for_score(score)
    recommendations = rules.recommendations(f, d, regimen) if explain else ()
    return RiskResult(
        ruleset=rules.name,
        as_of=as_of,
        score=score,
        tier=tier,
        components=components,
        factors=factors,
        overrides=tuple(overrides),
        recommendations=tuple(recommendations),
        provisional=_could_change_tier(d, score, t_sum, tier),
        missing=tuple(f"{name}: {', '.join(items)}" for name, items in d.blocked.items()),
        notes=tuple(d.notes),
        dic_score=dic_score,
        secondary=secondary_scores(f) if explain else {},
        dic=d.dic.as_dict() if d.dic is not None else {},
    )
