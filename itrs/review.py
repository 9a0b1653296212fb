"""Review rules: which flags a patient needs now (docs/review-rules.md).

Pure: no Django import, no ORM, no settings. `evaluate()` takes the same plain snapshot the
engine scores (`itrs.types`), the engine's `RiskResult`, what the review rules must know about
earlier flags (`FlagHistory`) and the instant `as_of`, and returns at most one `FlagSpec` per
flag kind. The sweep reconciles those specs with the stored `ReviewFlag` rows (raise, escalate
in place, resolve as completed when a kind is no longer returned).

Rules, in table order (the first rule of a kind that holds wins; that is the most urgent):

=================  ==============  =========  ===============================================
kind               rule            priority   when (periods are `ReviewSettings` fields)
=================  ==============  =========  ===============================================
symptom_alert      SYM-EMERGENCY   emergency  raised by the symptom service (`symptom_flag`)
symptom_alert      SYM-URGENT      urgent     raised by the symptom service (`symptom_flag`)
hematology_review  HEM-URGENT      urgent     suspected/confirmed thrombosis in the last
                                              `hem_recent_event_days` with no completed review
                                              since (named "anticoagulant failure" when on
                                              full anticoagulation); ISTH score (or known
                                              items) >= `dic_score_threshold`; latest
                                              platelets < `platelet_low` (ITP: < 20 with a new
                                              thrombosis) or a fall > `platelet_fall_fraction`
                                              from the `platelet_peak_days` peak (HIT words
                                              after a heparin; `itrs.review_safety`)
hematology_review  HEM-ROUTINE     routine    no completed review in `hem_routine_interval_days`
                                              (nor since the tier last rose) and tier high,
                                              thrombophilia, hyperviscosity state or prior VTE
                                              with IVIG planned; 3-month therapeutic and yearly
                                              extended anticoagulation reviews; the next
                                              review a recorded plan asks for
hematology_review  HEM-CRT         routine    `crt_after_removal_days` after the removal of a
                                              line linked to a thrombosis, anticoagulated
hematology_review  HEM-PLAN        routine    a new IVIG regimen after a VTE treated in the
                                              last `plan_change_vte_days`, no review since
clotting_studies   CLOT-DAILY      urgent     ISTH score (or known items) >= `dic_score_threshold`
clotting_studies   CLOT-EVENT      urgent     urgent/emergency symptom report or thrombosis with
                                              no complete panel collected since
clotting_studies   CLOT-DAILY      routine    ISTH score below the threshold with a DIC-associated
                                              illness: repeat within 48 h (after CLOT-EVENT)
clotting_studies   CLOT-VERIFY     routine    a lab stored as needs_verification
clotting_studies   CLOT-BASELINE   routine    tier moderate/high, no complete panel in
                                              `panel_baseline_days`, not anticoagulated
clotting_studies   CLOT-PERIODIC   routine    maintenance; high tier every `periodic_high_days`,
                                              moderate every `periodic_moderate_days`
viscosity_check    VISCOSITY       routine    hyperviscosity state, yearly and before induction
pre_ivig_labs      PRE-IVIG        routine    platelets, creatinine or IgA missing with IVIG
                                              planned or given (stays open after the first
                                              infusion until they are on file)
pre_ivig_labs      IGA-LOW         routine    IgA < 7 mg/dL at age > 4, IVIG planned or given
renal_check        RENAL-AKI       urgent     KDIGO creatinine rise after an infusion
renal_check        RENAL-PRE-COURSE routine   renal-risk patient, no creatinine in the 30 days
                                              before a planned course (due the day before)
data_quality       WEIGHT-MISSING  routine    no weight with IVIG planned
data_quality       WEIGHT-STALE    routine    weight older than `weight_stale_days`, IVIG planned
=================  ==============  =========  ===============================================

Definitions used below (all relative to ``as_of``; dates are compared as ``as_of.date()``):

- *verified labs*: ``needs_verification`` False and ``collected_at <= as_of``.
- *events*: status suspected or confirmed and ``diagnosed_on <= as_of.date()``.
- *active* condition / medication / regimen: started on or before today (regimens may also
  start later) and not ended before today.
- *IVIG planned*: an active regimen with interval_days (maintenance), or a one-off course that
  is in progress or starts today or later.
- *next course*: the earliest course start on or after today among active regimens (interval
  regimens repeat every ``interval_days`` from ``start_date`` until ``end_date``).
- *hyperviscosity state*: an active paraproteinemia, cryoglobulinemia,
  severe_hypertriglyceridemia or polycythemia condition, or a P6 factor in the result.
- *known thrombophilia*: an active thrombophilia or thrombophilia_high_risk condition.
- *prior VTE*: a confirmed venous event.
- *therapeutic/extended anticoagulation*: an active anticoagulant course with that intensity.
- *complete panel*: PT or INR, aPTT, fibrinogen and platelets, all verified; see
  `complete_panel_since` and `last_complete_panel_at`.

Choices the table leaves open (kept so that doing what a flag asks makes it go away):

- HEM-URGENT for platelets is cleared by a completed haematology review after the latest count
  (events are cleared by a review on/after their diagnosis date; the DIC score is not cleared).
- HEM-ROUTINE extended anticoagulation: any active extended course with no completed review in
  ``extended_anticoag_review_days``; therapeutic: the course must still be active.
- CLOT-EVENT: an event counts from 00:00 of its diagnosis date, so a panel later that day
  resolves it; a report counts from its reported_at.
- CLOT-VERIFY ignores a doubtful value once a later verified result of the same test exists.
- VISCOSITY: a completed viscosity_check flag (``FlagHistory.last_viscosity_check_at``) counts
  as a check; for an induction, a check from ``viscosity_induction_window_days`` before its
  start counts (so it can be done before the course).
- WEIGHT-STALE also when the weight has no measurement date.

Decisions (DESIGN §6a):

- *Trigger*: every spec carries a fingerprint of the facts behind it (`FlagSpec.trigger`: the
  events, labs, reports, conditions, courses and tier it cites, as sorted "; "-separated facts),
  so the same facts give the same trigger whatever the day.
- *Not indicated / declined stick*: while a clinician's decision on a rule lives
  (`FlagHistory.suppressions`, until ``suppress_days`` after it), the rule is not raised again
  unless its trigger shows something new or worse (`trigger_news`); the kind then stays quiet
  (a suppressed first rule is not replaced by a later one). Raised again, the reason says what
  changed, or that the decision ran out.
- *Completed vs lapsed*: for an open flag whose kind is no longer wanted, `decide` returns a
  `Closure`: ``completed`` only when what the rule asked for arrived since the flag was raised
  (a complete panel, the doubtful results confirmed or repeated, a haematology review recorded
  by a person, a serum viscosity, the pre-IVIG labs, a new weight), naming those records;
  otherwise ``lapsed``, saying why where it can.

Due: emergency at ``as_of``; urgent ``urgent_due_hours`` later; routine at the start (00:00 in
``as_of``'s time zone, never before ``as_of``) of the next planned course when that is sooner
than ``routine_due_days``, else ``routine_due_days`` after ``as_of``. The one urgent flag whose
words say "same-day" (SYM-URGENT) is due by the end of that working day (`same_day_due`).
"""

from __future__ import annotations

import bisect
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, time, timedelta
from functools import cached_property

from itrs import haematology, watch
from itrs import review_safety as safety
from itrs.facts import local_today
from itrs.types import (
    FlagHistory,
    LabSnap,
    PatientSnapshot,
    RegimenSnap,
    RiskResult,
    SymptomSnap,
)

PRIORITY_ORDER = {"emergency": 0, "urgent": 1, "routine": 2}

#: (kind, rule, priority) in docs/review-rules.md table order, most urgent first within a kind.
RULES: list[tuple[str, str, str]] = [
    ("symptom_alert", "SYM-EMERGENCY", "emergency"),
    ("symptom_alert", "SYM-URGENT", "urgent"),
    ("hematology_review", "HEM-URGENT", "urgent"),
    ("hematology_review", "HEM-ROUTINE", "routine"),
    ("hematology_review", "HEM-CRT", "routine"),
    ("hematology_review", "HEM-PLAN", "routine"),
    ("clotting_studies", "CLOT-DAILY", "urgent"),
    ("clotting_studies", "CLOT-EVENT", "urgent"),
    ("clotting_studies", "CLOT-VERIFY", "routine"),
    ("clotting_studies", "CLOT-BASELINE", "routine"),
    ("clotting_studies", "CLOT-PERIODIC", "routine"),
    ("viscosity_check", "VISCOSITY", "routine"),
    ("pre_ivig_labs", "PRE-IVIG", "routine"),
    ("pre_ivig_labs", "IGA-LOW", "routine"),
    ("renal_check", "RENAL-AKI", "urgent"),
    ("renal_check", "RENAL-PRE-COURSE", "routine"),
    ("data_quality", "WEIGHT-MISSING", "routine"),
    ("data_quality", "WEIGHT-STALE", "routine"),
    ("data_quality", "MED-UNCODED", "routine"),
]

#: flag kinds in table order (symptom_alert first; `evaluate` never returns it).
KINDS: tuple[str, ...] = tuple(dict.fromkeys(kind for kind, _, _ in RULES))

_RULE_PRIORITY = {rule: priority for _, rule, priority in RULES}

#: anticoagulant indications that get the 3-month and 12-monthly VTE anticoagulation reviews
#: ("" = a course recorded before indications were, treated as VTE treatment)
_RULE_KIND = {rule: kind for kind, rule, _ in RULES}


@dataclass(frozen=True)
class ReviewSettings:
    """Every period and threshold of the review rules (``settings.IVIGTRACK_REVIEW``).

    Built on the Django side as ``ReviewSettings(**settings.IVIGTRACK_REVIEW)``; names are
    stable. Days unless the name says otherwise.

    - ``hem_recent_event_days`` (90): HEM-URGENT for a thrombosis diagnosed this recently
      with no completed haematology review since.
    - ``hem_routine_interval_days`` (365): HEM-ROUTINE when no completed review this recently.
    - ``therapeutic_anticoag_review_days`` (90): review due this long after a therapeutic
      anticoagulant course started (end of the primary phase).
    - ``extended_anticoag_review_days`` (365): review interval during extended anticoagulation.
    - ``dic_score_threshold`` (5): ISTH overt-DIC score from which HEM-URGENT and CLOT-DAILY hold.
    - ``platelet_low`` (50, 10^9/L): latest verified platelets below this -> HEM-URGENT.
    - ``platelet_fall_fraction`` (0.5): a fall greater than this fraction from the previous
      verified platelet count -> HEM-URGENT.
    - ``platelet_fall_window_days`` (30): ITRS-v0's window for the previous count (unused in v1).
    - ``platelet_peak_days`` (14): v1 measures the fall from the highest count this many days
      before the latest one.
    - ``hit_heparin_days`` (30): a heparin course running this many days before the fall adds
      the heparin-induced thrombocytopenia words.
    - ``symptom_lookback_days`` (30): urgent/emergency symptom reports this recent -> CLOT-EVENT.
    - ``clot_event_lookback_days`` (90): thromboses diagnosed this recently -> CLOT-EVENT.
    - ``panel_baseline_days`` (90): CLOT-BASELINE when no complete panel this recently (and none
      since this long before the tier last rose).
    - ``panel_window_days`` (7): the four panel tests must lie within this window of each
      other for `last_complete_panel_at`.
    - ``periodic_high_days`` (182) / ``periodic_moderate_days`` (365): CLOT-PERIODIC intervals
      on maintenance therapy.
    - ``viscosity_interval_days`` (365): VISCOSITY when no serum viscosity this recently.
    - ``induction_recent_days`` (30): a one-off (induction) regimen that started this recently,
      or starts later, is the "current induction" for VISCOSITY.
    - ``viscosity_induction_window_days`` (30): a viscosity this long before an induction's
      start counts as taken "before" it.
    - ``weight_stale_days`` (90): WEIGHT-STALE when the weight was measured longer ago.
    - ``urgent_due_hours`` (24): due time of urgent flags after ``as_of`` (but same-day ones).
    - ``routine_due_days`` (30): latest due time of routine flags after ``as_of``.
    - ``working_day_ends`` ("18:00", HH:MM local time): a "same-day" flag is due by then on the
      day it is raised, in the time zone of the instant it is raised at (`same_day_due`).
    - ``same_day_min_hours`` (4): ...or this many hours after it is raised, if that is later.
    - ``suppress_days`` (180): how long a "not indicated" or "declined" keeps a rule quiet
      when nothing new or worse happens.
    - ``snooze_max_days`` (28): the longest snooze staff may set.
    - ``watch_urgent_due_hours`` (4): an urgent symptom report inside a venous watch window of a
      moderate- or high-tier patient is due this many hours after it was reported (`itrs.watch`).
    - ``crt_after_removal_days`` (90): HEM-CRT this long after a thrombosed line was removed.
    - ``plan_change_vte_days`` (365): HEM-PLAN for a new IVIG regimen after a VTE treated this recently.
    """

    hem_recent_event_days: int = 90
    hem_routine_interval_days: int = 365
    therapeutic_anticoag_review_days: int = 90
    extended_anticoag_review_days: int = 365
    dic_score_threshold: int = 5
    platelet_low: float = 50
    platelet_fall_fraction: float = 0.5
    platelet_fall_window_days: int = 30  # ITRS-v0 only (v1 measures from the peak)
    platelet_peak_days: int = 14
    hit_heparin_days: int = 30
    symptom_lookback_days: int = 30
    clot_event_lookback_days: int = 90
    panel_baseline_days: int = 90
    panel_window_days: int = 7
    periodic_high_days: int = 182
    periodic_moderate_days: int = 365
    viscosity_interval_days: int = 365
    induction_recent_days: int = 30
    viscosity_induction_window_days: int = 30
    weight_stale_days: int = 90
    urgent_due_hours: int = 24
    routine_due_days: int = 30
    suppress_days: int = 180
    snooze_max_days: int = 28
    working_day_ends: str = "18:00"
    same_day_min_hours: int = 4
    watch_urgent_due_hours: int = 4
    crt_after_removal_days: int = 90
    plan_change_vte_days: int = 365

    def __post_init__(self):
        time.fromisoformat(self.working_day_ends)  # a typo in IVIGTRACK_REVIEW fails at once, loudly


@dataclass(frozen=True)
class FlagSpec:
    """One flag the patient needs now. ``evidence`` is JSON-serialisable (dates as ISO)."""

    kind: str
    rule: str
    priority: str  # emergency | urgent | routine
    reason: str
    evidence: dict = field(default_factory=dict)
    due_at: datetime | None = None
    trigger: str = ""  # the facts behind the flag, sorted, "; "-separated (same facts, same trigger)


@dataclass(frozen=True)
class Closure:
    """How the sweep closes an open flag whose kind no rule wants any more."""

    kind: str
    rule: str
    resolution: str  # completed | lapsed
    note: str
    evidence: dict = field(default_factory=dict)  # completed: {"completed_by": records}


# --- plain words -------------------------------------------------------------------------

EVENT_WORDS = {
    "dvt": "deep vein thrombosis",
    "pe": "pulmonary embolism",
    "upper_extremity_dvt": "arm deep vein thrombosis",
    "jugular_vein": "jugular vein thrombosis",
    "cerebral_venous": "cerebral venous thrombosis",
    "splanchnic": "splanchnic vein thrombosis",
    "retinal_vein": "retinal vein occlusion",
    "mi": "heart attack",
    "ischemic_stroke": "ischaemic stroke",
    "tia": "transient ischaemic attack",
    "peripheral_arterial": "peripheral arterial thrombosis",
}

SYMPTOM_WORDS = {
    "sudden_breathlessness": "sudden breathlessness",
    "chest_pain": "chest pain",
    "one_sided_weakness": "weakness or numbness on one side",
    "speech_or_vision_loss": "loss of speech or vision",
    "fainting": "fainting",
    "coughing_blood": "coughing blood",
    "limb_pain_swelling": "pain or swelling of an arm or leg",
    "limb_discoloration": "discolouration of an arm or leg",
    "rapid_pulse": "rapid pulse",
    "neck_face_arm_swelling": "swelling of the neck, face or arm",
    "severe_headache": "severe headache",
    "blurred_vision": "blurred vision",
    "reduced_urine_output": "passing much less urine than usual",
    "other": "other symptoms",
}

LAB_WORDS = {
    "pt": ("PT", "s"),
    "inr": ("INR", ""),
    "aptt": ("aPTT", "s"),
    "fibrinogen": ("fibrinogen", "g/L"),
    "d_dimer": ("D-dimer", "mg/L FEU"),
    "platelets": ("platelets", "x10^9/L"),
    "creatinine": ("creatinine", "mg/dL"),
    "iga": ("IgA", "mg/dL"),
    "igg": ("IgG", "g/L"),
    "serum_viscosity": ("serum viscosity", "cP"),
    "hemoglobin": ("haemoglobin", "g/dL"),
    "triglycerides": ("triglycerides", "mg/dL"),
}

CONDITION_WORDS = {
    "paraproteinemia": "paraproteinaemia",
    "cryoglobulinemia": "cryoglobulinaemia",
    "severe_hypertriglyceridemia": "severe hypertriglyceridaemia",
    "polycythemia": "polycythaemia",
    "thrombophilia": "thrombophilia",
    "thrombophilia_high_risk": "high-risk thrombophilia",
}

PANEL_WORDS = "PT/INR, aPTT, fibrinogen, platelets"

HYPERVISCOSITY_CONDITIONS = frozenset(
    {
        "paraproteinemia",
        "cryoglobulinemia",
        "severe_hypertriglyceridemia",
        "polycythemia",
    }
)
THROMBOPHILIA_CONDITIONS = frozenset({"thrombophilia", "thrombophilia_high_risk"})
PRE_IVIG_TESTS = ("platelets", "creatinine", "iga")

#: the four components of a complete clotting panel; each is satisfied by any of its tests.
PANEL_COMPONENTS: tuple[tuple[str, ...], ...] = (
    ("pt", "inr"),
    ("aptt",),
    ("fibrinogen",),
    ("platelets",),
)


def _lab_text(lab: LabSnap) -> str:
    name, unit = LAB_WORDS.get(lab.test, (lab.test, ""))
    value = f"{lab.value:g}"
    return f"{name} {value} {unit}".rstrip() + f" on {lab.collected_at.date().isoformat()}"


def _join(items: list[str]) -> str:
    if len(items) <= 1:
        return "".join(items)
    return ", ".join(items[:-1]) + " and " + items[-1]


def _iso(value: date | datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


def _sentence(clauses: list[str], tail: str = "") -> str:
    """Clauses joined by "; " into one sentence: first letter capitalised, full stop."""
    text = "; ".join(clauses) + tail
    return text[:1].upper() + text[1:] + "."


def _symptom_words(codes: Iterable[str]) -> str:
    return _join([SYMPTOM_WORDS.get(code, code.replace("_", " ")) for code in codes])


# --- panel helpers -----------------------------------------------------------------------


def complete_panel_since(labs: Iterable[LabSnap], since: datetime, until: datetime | None = None) -> bool:
    """True when a complete clotting panel was collected at or after ``since``.

    Complete: PT or INR, aPTT, fibrinogen and platelets, each with a verified result
    (``needs_verification`` False) collected at/after ``since`` (and at/before ``until`` when
    given). The four need not share one draw: each test counts on its own.
    """
    return panel_labs(labs, since, until) is not None


def panel_labs(labs: Iterable[LabSnap], since: datetime, until: datetime | None = None) -> list[LabSnap] | None:
    """The latest verified result of each panel component collected in ``[since, until]``, in
    component order, or None when a component has none (see `complete_panel_since`)."""
    latest: dict[str, LabSnap] = {}
    for lab in labs:
        if lab.needs_verification or lab.collected_at < since:
            continue
        if until is not None and lab.collected_at > until:
            continue
        seen = latest.get(lab.test)
        if seen is None or lab.collected_at > seen.collected_at:
            latest[lab.test] = lab
    chosen = []
    for component in PANEL_COMPONENTS:
        found = [latest[test] for test in component if test in latest]
        if not found:
            return None
        chosen.append(max(found, key=lambda lab: lab.collected_at))
    return chosen


def last_complete_panel_at(
    labs: Iterable[LabSnap],
    window: timedelta | None = None,
    until: datetime | None = None,
) -> datetime | None:
    """When the most recent complete clotting panel was completed, or None.

    A panel is complete at instant ``t`` when each of PT-or-INR, aPTT, fibrinogen and
    platelets has a verified result collected within ``[t - window, t]``. The panel is dated at
    the earliest such instant, i.e. the collection time of its last component; the result is
    the latest such date over all panels (labs after ``until`` are ignored when it is given).
    ``window`` defaults to ``ReviewSettings.panel_window_days`` (7 days).
    """
    if window is None:
        window = timedelta(days=ReviewSettings.panel_window_days)
    times: list[list[datetime]] = [[] for _ in PANEL_COMPONENTS]
    for lab in labs:
        if lab.needs_verification or (until is not None and lab.collected_at > until):
            continue
        for i, component in enumerate(PANEL_COMPONENTS):
            if lab.test in component:
                times[i].append(lab.collected_at)
    if not all(times):
        return None
    for series in times:
        series.sort()
    candidates = sorted({t for series in times for t in series}, reverse=True)
    for t in candidates:
        start = t - window
        if all((j := bisect.bisect_right(series, t)) > 0 and series[j - 1] >= start for series in times):
            return t
    return None


# --- the context every rule reads ----------------------------------------------------------


def _at_midnight(d: date, as_of: datetime) -> datetime:
    return datetime.combine(d, time.min, tzinfo=as_of.tzinfo)


def _regimen_active(regimen: RegimenSnap, today: date) -> bool:
    return regimen.end_date is None or regimen.end_date >= today


def _course_starts_from(regimen: RegimenSnap, first_day: date) -> date | None:
    """The first course start of ``regimen`` on or after ``first_day``, or None."""
    start = regimen.start_date
    if regimen.interval_days and start < first_day:
        steps = -(-(first_day - start).days // regimen.interval_days)  # ceil
        start = start + timedelta(days=steps * regimen.interval_days)
    if start < first_day:
        return None
    if regimen.end_date is not None and start > regimen.end_date:
        return None
    return start


class _Context:
    """Facts derived once from (snapshot, result, history, as_of)."""

    def __init__(
        self,
        snapshot: PatientSnapshot,
        result: RiskResult,
        history: FlagHistory,
        as_of: datetime,
        settings: ReviewSettings,
    ):
        self.snapshot: PatientSnapshot = snapshot
        self.result: RiskResult = result
        self.history: FlagHistory = history
        self.as_of: datetime = as_of
        self.today: date = local_today(as_of, snapshot.time_zone)  # the site's calendar day
        self.settings: ReviewSettings = settings
        self.labs = tuple(lab for lab in snapshot.labs if lab.collected_at <= as_of)
        self.verified = tuple(lab for lab in self.labs if not lab.needs_verification)
        self.events = tuple(
            e for e in snapshot.events if e.status in ("suspected", "confirmed") and e.diagnosed_on <= self.today
        )
        self.conditions = tuple(
            c
            for c in snapshot.conditions
            if (c.onset_date is None or c.onset_date <= self.today)
            and (c.resolved_date is None or c.resolved_date >= self.today)
        )
        self.condition_codes = {c.code for c in self.conditions}
        self.regimens = tuple(r for r in snapshot.regimens if _regimen_active(r, self.today))
        self.anticoagulants = tuple(
            m
            for m in snapshot.medications
            if m.category == "anticoagulant"
            and m.start_date <= self.today
            and (m.end_date is None or m.end_date >= self.today)
        )
        self.review_on = history.last_hematology_review_on
        self.administered = tuple(i for i in snapshot.infusions if i.status == "administered" and i.started_at <= as_of)

    # IVIG plan ------------------------------------------------------------------------
    @cached_property
    def maintenance(self) -> bool:
        return any(r.interval_days is not None for r in self.regimens)

    @cached_property
    def ivig_planned(self) -> bool:
        for r in self.regimens:
            if r.interval_days is not None:
                return True
            last_day = r.start_date + timedelta(days=max(r.days_per_course, 1) - 1)
            if last_day >= self.today:
                return True
        return False

    @cached_property
    def next_course_on(self) -> date | None:
        starts = [_course_starts_from(r, self.today) for r in self.regimens]
        starts = [s for s in starts if s is not None]
        return min(starts) if starts else None

    def before_next_course(self) -> str:
        """Text " before the next IVIG course on DATE" when IVIG is planned, else ""."""
        if not self.ivig_planned:
            return ""
        nxt = self.next_course_on
        return f" before the next IVIG course on {nxt.isoformat()}" if nxt else " before the next IVIG course"

    # states ---------------------------------------------------------------------------
    @cached_property
    def hyperviscosity(self) -> list[str]:
        found = [CONDITION_WORDS[c] for c in sorted(self.condition_codes & HYPERVISCOSITY_CONDITIONS)]
        for factor in self.result.factors:
            if factor.code == "P6" and not found:
                found.append(factor.label)
        return found

    @cached_property
    def hyperviscosity_facts(self) -> list[str]:
        facts = [f"condition {c}" for c in sorted(self.condition_codes & HYPERVISCOSITY_CONDITIONS)]
        return facts or [f"factor {f.code}" for f in self.result.factors if f.code == "P6"]

    @cached_property
    def pre_ivig_missing(self) -> list[str]:
        present = {lab.test for lab in self.verified}
        return [t for t in PRE_IVIG_TESTS if t not in present]

    @cached_property
    def thrombophilia(self) -> list[str]:
        return [CONDITION_WORDS[c] for c in sorted(self.condition_codes & THROMBOPHILIA_CONDITIONS)]

    @cached_property
    def prior_vte(self):
        return [e for e in self.events if e.status == "confirmed" and e.vte]  # not a retinal vein occlusion

    @cached_property
    def full_anticoagulation(self):
        return [m for m in self.anticoagulants if m.intensity in ("therapeutic", "extended")]

    def reviewed_since(self, instant: datetime) -> bool:
        return self.review_on is not None and self.review_on >= instant

    # due ------------------------------------------------------------------------------
    def due(self, priority: str) -> datetime:
        s = self.settings
        if priority == "emergency":
            return self.as_of
        if priority == "urgent":
            return self.as_of + timedelta(hours=s.urgent_due_hours)
        latest = self.as_of + timedelta(days=s.routine_due_days)
        nxt = self.next_course_on
        if nxt is not None:
            course_at = max(self.as_of, _at_midnight(nxt, self.as_of))
            if course_at < latest:
                return course_at
        return latest


def _spec(ctx: _Context, rule: str, reason: str, evidence: dict, facts: Iterable[str]) -> FlagSpec:
    priority = _RULE_PRIORITY[rule]
    return FlagSpec(
        kind=_RULE_KIND[rule],
        rule=rule,
        priority=priority,
        reason=reason,
        evidence=evidence,
        due_at=ctx.due(priority),
        trigger=FACT_SEPARATOR.join(sorted({fact.replace(";", ",") for fact in facts})),
    )


def _event_fact(event) -> str:
    return f"event {event.kind} {event.status} {event.diagnosed_on.isoformat()}"


def _lab_fact(lab: LabSnap) -> str:
    return f"lab {lab.test} {lab.collected_at.isoformat()}"


def _tier_fact(tier: str) -> str:
    return f"tier {tier}"


def _event_words(event) -> str:
    return f"{event.status} {EVENT_WORDS.get(event.kind, event.kind.replace('_', ' '))}"


def _event_evidence(event) -> dict:
    return {
        "kind": event.kind,
        "status": event.status,
        "diagnosed_on": event.diagnosed_on.isoformat(),
        "catheter_related": event.catheter_related,
    }


# --- hematology_review ---------------------------------------------------------------------


def _hem_urgent(ctx: _Context) -> FlagSpec | None:
    s = ctx.settings
    clauses: list[str] = []
    evidence: dict = {"last_hematology_review_on": _iso(ctx.review_on)}

    since = ctx.today - timedelta(days=s.hem_recent_event_days)
    unreviewed = sorted(
        (
            e
            for e in ctx.events
            if e.diagnosed_on >= since and not (ctx.review_on is not None and ctx.review_on.date() >= e.diagnosed_on)
        ),
        key=lambda e: (e.diagnosed_on, e.kind),
        reverse=True,
    )
    facts = [_event_fact(e) for e in unreviewed]
    if unreviewed:
        items = []
        for e in unreviewed:
            words = f"{_event_words(e)} on {e.diagnosed_on.isoformat()}"
            course = haematology.full_dose_at(ctx.snapshot.medications, e.diagnosed_on)
            if course is not None:  # CHEST 2021: a thrombosis on full-dose anticoagulation
                words += (
                    f" while on {course.intensity} anticoagulation ({course.drug} since "
                    f"{course.start_date.isoformat()}): anticoagulant failure"
                )
                evidence.setdefault("anticoagulant_failure", []).append(
                    {"event": e.diagnosed_on.isoformat(), "drug": course.drug, "since": course.start_date.isoformat()}
                )
            items.append(words)
        clauses.append(", ".join(items) + " and no haematology review since")
        evidence["events"] = [_event_evidence(e) for e in unreviewed]

    dic = ctx.result.dic_score
    if dic is not None and dic >= s.dic_score_threshold:
        clauses.append(safety.dic_words(ctx.result, s.dic_score_threshold))
        evidence["dic_score"] = dic
        facts.append(f"dic {dic}")

    # ITRS-v1: low count (ITP exception), fall from the 14-day peak, HIT words (review_safety).
    more, more_facts, more_evidence = safety.platelet_clauses(ctx)
    clauses.extend(more)
    facts.extend(more_facts)
    evidence.update(more_evidence)
    if not clauses:
        return None
    return _spec(ctx, "HEM-URGENT", _sentence(clauses), evidence, facts)


def _hem_routine(ctx: _Context) -> FlagSpec | None:
    s = ctx.settings
    review = ctx.review_on
    rose = ctx.history.tier_last_rose_at
    evidence: dict = {"last_hematology_review_on": _iso(review), "tier_last_rose_at": _iso(rose)}
    clauses: list[str] = []
    facts: list[str] = []

    reviewed_recently = (
        review is not None
        and review >= ctx.as_of - timedelta(days=s.hem_routine_interval_days)
        and (rose is None or review >= rose)
    )
    if not reviewed_recently:
        triggers: list[str] = []
        if ctx.result.tier == "high":
            triggers.append("risk tier high")
            facts.append(_tier_fact("high"))
        if ctx.thrombophilia:
            triggers.append("known " + " and ".join(ctx.thrombophilia))
            facts.extend(f"condition {c}" for c in ctx.condition_codes & THROMBOPHILIA_CONDITIONS)
        if ctx.hyperviscosity:
            triggers.append("hyperviscosity risk (" + ", ".join(ctx.hyperviscosity) + ")")
            facts.extend(ctx.hyperviscosity_facts)
        if ctx.prior_vte and ctx.ivig_planned:
            last = max(ctx.prior_vte, key=lambda e: e.diagnosed_on)
            facts.append(_event_fact(last))
            triggers.append(
                f"previous {EVENT_WORDS.get(last.kind, last.kind)} on {last.diagnosed_on.isoformat()} with IVIG planned"
            )
        if triggers:
            if review is None:
                since = "no haematology review on record"
            elif rose is not None and review < rose:
                since = f"no haematology review since the risk tier rose on {rose.date().isoformat()}"
            else:
                since = f"no haematology review since {review.date().isoformat()}"
            clauses.append(f"{_join(triggers)} with {since}")
            evidence["triggers"] = triggers

    anticoag: list[dict] = []
    reviews = ctx.history.haematology_reviews
    plan = haematology.plan_review_due(
        reviews,
        ctx.events,
        ctx.anticoagulants,
        ctx.today,
        primary_days=s.therapeutic_anticoag_review_days,
        extended_days=s.extended_anticoag_review_days,
    )
    if plan is not None and plan.due_on <= ctx.today:
        words = haematology.PLAN_WORDS.get(plan.review.anticoagulation_plan, plan.review.anticoagulation_plan)
        clauses.append(
            f"the haematology review of {plan.review.reviewed_on.isoformat()} (plan: {words}) has its next "
            f"review due on {plan.due_on.isoformat()} ({plan.because})"
        )
        anticoag.append({"plan": plan.review.anticoagulation_plan, "review_due_on": plan.due_on.isoformat()})
        facts.append(f"plan {plan.review.anticoagulation_plan} {plan.review.reviewed_on.isoformat()}")
    for med in sorted(ctx.anticoagulants, key=lambda m: m.start_date):
        if not haematology.is_vte_treatment(med) or haematology.plan_governs(reviews, med):
            continue  # a review recorded since the course started says when it is next reviewed
        item = {"drug": med.drug, "intensity": med.intensity, "start_date": med.start_date.isoformat()}
        fact = f"anticoagulation {med.intensity} {med.start_date.isoformat()} {med.drug}"
        if med.intensity == "therapeutic":
            review_due = med.start_date + timedelta(days=s.therapeutic_anticoag_review_days)
            if review_due <= ctx.today and not (review is not None and review.date() >= review_due):
                clauses.append(
                    f"therapeutic anticoagulation ({med.drug}) since {med.start_date.isoformat()} "
                    f"with its {s.therapeutic_anticoag_review_days}-day review due on {review_due.isoformat()} "
                    "and no haematology review since"
                )
                anticoag.append({**item, "review_due_on": review_due.isoformat()})
                facts.append(fact)
        elif review is None or review < ctx.as_of - timedelta(days=s.extended_anticoag_review_days):
            clauses.append(
                f"extended anticoagulation ({med.drug}) since {med.start_date.isoformat()} "
                f"with no haematology review in the last {s.extended_anticoag_review_days} days"
            )
            anticoag.append(item)
            facts.append(fact)
    if anticoag:
        evidence["anticoagulation"] = anticoag
    if not clauses:
        return None
    reason = _sentence(clauses, f": haematology review due{ctx.before_next_course()}")
    return _spec(ctx, "HEM-ROUTINE", reason, evidence, facts)


def _hem_crt(ctx: _Context) -> FlagSpec | None:
    reviewed_on = ctx.review_on.date() if ctx.review_on is not None else None
    due = haematology.crt_reviews_due(
        ctx.events,
        ctx.snapshot.medications,
        ctx.today,
        reviewed_on,
        after_removal_days=ctx.settings.crt_after_removal_days,
    )
    if not due:
        return None
    clauses, items, facts = [], [], []
    for event, due_on, course in due:
        clauses.append(
            f"catheter-related {EVENT_WORDS.get(event.kind, event.kind)} on {event.diagnosed_on.isoformat()}: "
            f"the line was removed on {event.access_removed_on.isoformat()} and anticoagulation ({course.drug}) "
            f"continues; its review was due on {due_on.isoformat()}, 3 months after removal"
        )
        items.append(
            {**_event_evidence(event), "removed_on": event.access_removed_on.isoformat(), "due_on": due_on.isoformat()}
        )
        facts += [_event_fact(event), f"line removed {event.access_removed_on.isoformat()}"]
    reason = _sentence(clauses, ": haematology review of the anticoagulation duration due")
    return _spec(ctx, "HEM-CRT", reason, {"catheter_related": items}, facts)


def _hem_plan(ctx: _Context) -> FlagSpec | None:
    changes = haematology.plan_changes(
        ctx.events,
        ctx.snapshot.medications,
        ctx.regimens,
        ctx.today,
        ctx.review_on,
        treated_within_days=ctx.settings.plan_change_vte_days,
    )
    if not changes:
        return None
    clauses, items, facts = [], [], []
    for regimen, event in changes:
        every = f"every {regimen.interval_days} days" if regimen.interval_days else "a one-off course"
        clauses.append(
            f"a new IVIG regimen ({regimen.product_name}, {every}, from {regimen.start_date.isoformat()}) after the "
            f"treated {EVENT_WORDS.get(event.kind, event.kind)} of {event.diagnosed_on.isoformat()}"
        )
        items.append(
            {
                "product": regimen.product_name,
                "start_date": regimen.start_date.isoformat(),
                "event": event.diagnosed_on.isoformat(),
            }
        )
        facts += [_event_fact(event), f"course {regimen.start_date.isoformat()}"]
    reason = _sentence(clauses, ": haematology review of the anticoagulation plan due" + ctx.before_next_course())
    return _spec(ctx, "HEM-PLAN", reason, {"plan_changes": items}, facts)


# --- clotting_studies ------------------------------------------------------------------------


def _found(ctx: _Context, finding: safety.Finding | None) -> FlagSpec | None:
    """A `review_safety.Finding` as a flag spec (its own priority and due time when it has them)."""
    if finding is None:
        return None
    spec = _spec(ctx, finding.rule, _sentence([finding.reason]), finding.evidence, finding.facts)
    if finding.priority and finding.priority != spec.priority:
        spec = replace(spec, priority=finding.priority, due_at=ctx.due(finding.priority))
    if finding.due_at is not None:
        spec = replace(spec, due_at=finding.due_at)
    return spec


def _clot_daily(ctx: _Context) -> FlagSpec | None:
    return _found(ctx, safety.clot_daily(ctx))


def _clot_daily_repeat(ctx: _Context) -> FlagSpec | None:
    return _found(ctx, safety.clot_daily_repeat(ctx))


def _iga_low(ctx: _Context) -> FlagSpec | None:
    return _found(ctx, safety.iga_low(ctx))


def _renal_aki(ctx: _Context) -> FlagSpec | None:
    return _found(ctx, safety.renal_aki(ctx))


def _renal_pre_course(ctx: _Context) -> FlagSpec | None:
    return _found(ctx, safety.renal_pre_course(ctx))


def _clot_event(ctx: _Context) -> FlagSpec | None:
    """Urgent/emergency symptom reports and thromboses, each needing a complete panel since.

    The panel drawn after the latest trigger covers every earlier one. The reason names the
    open thromboses (most recent first) or else the latest open symptom report.
    """
    s = ctx.settings
    events: list[tuple[datetime, str, dict, str]] = []
    reports: list[tuple[datetime, str, dict, str]] = []
    symptom_since = ctx.as_of - timedelta(days=s.symptom_lookback_days)
    for report in ctx.snapshot.symptom_reports:
        if report.triage in ("urgent", "emergency") and symptom_since <= report.reported_at <= ctx.as_of:
            text = f"{report.triage} symptom report on {report.reported_at.date().isoformat()}"
            if report.symptoms:
                text += f" ({_symptom_words(report.symptoms)})"
            reports.append(
                (
                    report.reported_at,
                    text,
                    {
                        "type": "symptom_report",
                        "triage": report.triage,
                        "symptoms": list(report.symptoms),
                        "reported_at": report.reported_at.isoformat(),
                    },
                    f"report {report.triage} {report.reported_at.isoformat()}",
                )
            )
    event_since = ctx.today - timedelta(days=s.clot_event_lookback_days)
    for event in ctx.events:
        if event.diagnosed_on >= event_since:
            events.append(
                (
                    _at_midnight(event.diagnosed_on, ctx.as_of),
                    f"{_event_words(event)} on {event.diagnosed_on.isoformat()}",
                    {"type": "event", **_event_evidence(event)},
                    _event_fact(event),
                )
            )
    open_events = sorted(
        (t for t in events if not complete_panel_since(ctx.verified, t[0])), key=lambda t: t[0], reverse=True
    )
    open_reports = sorted(
        (t for t in reports if not complete_panel_since(ctx.verified, t[0])), key=lambda t: t[0], reverse=True
    )
    if not open_events and not open_reports:
        return None
    named = ", ".join(t[1] for t in open_events) if open_events else open_reports[0][1]
    reason = _sentence(
        [f"{named} and no complete clotting panel ({PANEL_WORDS}) collected since"],
        ": clinician-led work-up, then a baseline panel and creatinine before anticoagulation",
    )
    evidence = {"triggers": [t[2] for t in sorted(open_events + open_reports, key=lambda t: t[0], reverse=True)]}
    return _spec(ctx, "CLOT-EVENT", reason, evidence, [t[3] for t in open_events + open_reports])


def _clot_verify(ctx: _Context) -> FlagSpec | None:
    doubtful = []
    for lab in ctx.labs:
        if not lab.needs_verification:
            continue
        # A later verified result of the same test is the repeat the flag asks for.
        repeated = any(other.test == lab.test and other.collected_at > lab.collected_at for other in ctx.verified)
        if not repeated:
            doubtful.append(lab)
    if not doubtful:
        return None
    doubtful.sort(key=lambda lab: lab.collected_at)
    items = [_lab_text(lab) for lab in doubtful]
    one = len(items) == 1
    reason = _sentence(
        [f"{_join(items)} {'is' if one else 'are'} stored as needing verification"],
        f": confirm or repeat the {'test' if one else 'tests'}",
    )
    evidence = {
        "labs": [
            {"test": lab.test, "value": lab.value, "collected_at": lab.collected_at.isoformat()} for lab in doubtful
        ]
    }
    return _spec(ctx, "CLOT-VERIFY", reason, evidence, [_lab_fact(lab) for lab in doubtful])


def _clot_baseline(ctx: _Context) -> FlagSpec | None:
    s = ctx.settings
    tier = ctx.result.tier
    if tier not in ("moderate", "high") or ctx.full_anticoagulation:
        return None
    window = timedelta(days=s.panel_baseline_days)
    if complete_panel_since(ctx.verified, ctx.as_of - window):
        return None
    rose = ctx.history.tier_last_rose_at or ctx.as_of
    if complete_panel_since(ctx.verified, rose - window):
        return None
    last = last_complete_panel_at(ctx.verified, timedelta(days=s.panel_window_days))
    last_text = f"last complete panel on {last.date().isoformat()}" if last else "no complete panel on record"
    reason = (
        f"Risk tier {tier} and no complete clotting panel ({PANEL_WORDS}) in the last "
        f"{s.panel_baseline_days} days ({last_text}): take a baseline panel"
        f"{ctx.before_next_course()}."
    )
    evidence = {
        "tier": tier,
        "last_complete_panel_at": _iso(last),
        "tier_last_rose_at": _iso(ctx.history.tier_last_rose_at),
    }
    return _spec(ctx, "CLOT-BASELINE", reason, evidence, [_tier_fact(tier)])


def _clot_periodic(ctx: _Context) -> FlagSpec | None:
    s = ctx.settings
    tier = ctx.result.tier
    if not ctx.maintenance or ctx.full_anticoagulation:
        return None
    if tier == "high":
        days = s.periodic_high_days
    elif tier == "moderate":
        days = s.periodic_moderate_days
    else:
        return None
    last = last_complete_panel_at(ctx.verified, timedelta(days=s.panel_window_days))
    if last is not None and last >= ctx.as_of - timedelta(days=days):
        return None
    last_text = f"last complete panel on {last.date().isoformat()}" if last else "no complete panel on record"
    reason = (
        f"Risk tier {tier} on maintenance IVIG and {last_text} (due every {days} days): "
        f"repeat the clotting panel ({PANEL_WORDS}){ctx.before_next_course()}."
    )
    evidence = {
        "tier": tier,
        "last_complete_panel_at": _iso(last),
        "interval_days": days,
    }
    return _spec(ctx, "CLOT-PERIODIC", reason, evidence, [_tier_fact(tier)])


# --- viscosity, pre-IVIG labs, data quality ------------------------------------------------


def _viscosity(ctx: _Context) -> FlagSpec | None:
    s = ctx.settings
    hyper = ctx.hyperviscosity
    if not hyper:
        return None
    checks = [lab.collected_at for lab in ctx.verified if lab.test == "serum_viscosity"]
    if ctx.history.last_viscosity_check_at is not None:
        checks.append(ctx.history.last_viscosity_check_at)  # a completed viscosity_check flag
    last = max((c for c in checks if c <= ctx.as_of), default=None)
    evidence: dict = {"hyperviscosity": hyper, "last_viscosity_check_at": _iso(last)}
    state = f"Hyperviscosity risk ({', '.join(hyper)})"

    inductions = sorted(
        r.start_date
        for r in ctx.regimens
        if r.interval_days is None and r.start_date >= ctx.today - timedelta(days=s.induction_recent_days)
    )
    for start in inductions:
        counts_from = _at_midnight(start, ctx.as_of) - timedelta(days=s.viscosity_induction_window_days)
        if last is None or last < counts_from:
            evidence["induction_start"] = start.isoformat()
            verb = "starting" if start >= ctx.today else "started"
            reason = (
                f"{state} and no serum viscosity for the induction course {verb} "
                f"{start.isoformat()}: check it before the course."
            )
            return _spec(ctx, "VISCOSITY", reason, evidence, [*ctx.hyperviscosity_facts, f"course {start.isoformat()}"])

    if last is None or last < ctx.as_of - timedelta(days=s.viscosity_interval_days):
        last_text = f"last on {last.date().isoformat()}" if last else "none on record"
        reason = (
            f"{state} and no serum viscosity in the last {s.viscosity_interval_days} days "
            f"({last_text}): check it{ctx.before_next_course()}."
        )
        return _spec(ctx, "VISCOSITY", reason, evidence, ctx.hyperviscosity_facts)
    return None


def _pre_ivig(ctx: _Context) -> FlagSpec | None:
    # Open before the first infusion, and after it until the labs are on file (DESIGN §6): a
    # first infusion given without them does not make them less needed. The snapshot loads
    # recent infusions only; has_earlier_infusions says older ones exist.
    given = bool(ctx.administered) or ctx.snapshot.has_earlier_infusions
    if not ctx.ivig_planned and not ctx.administered:
        return None
    missing = ctx.pre_ivig_missing
    if not missing:
        return None
    names = _join([LAB_WORDS[t][0] for t in missing])
    nxt = ctx.next_course_on
    if given:
        reason = f"No {names} on file although IVIG has already been given: record them{ctx.before_next_course()}."
    else:
        when = f" (first course planned for {nxt.isoformat()})" if nxt else ""
        reason = f"No {names} on file before the first IVIG infusion{when}."
    evidence = {"missing": missing, "next_course_on": _iso(nxt), "ivig_given": given}
    return _spec(ctx, "PRE-IVIG", reason, evidence, [f"missing {t}" for t in missing])


def _uncoded_medicines(ctx: _Context) -> FlagSpec | None:
    """MED-UNCODED: a current course recorded as free text (outside the drug dictionary)."""
    names = sorted(
        {
            m.drug
            for m in ctx.snapshot.medications
            if m.category == "other" and m.start_date <= ctx.today and (m.end_date is None or m.end_date >= ctx.today)
        }
    )
    if not names:
        return None
    reason = (
        f"Medicine recorded as free text, not from the drug dictionary: {', '.join(names)}. "
        "It scores nothing until it is coded: edit the course and pick the drug from the dictionary."
    )
    return _spec(ctx, "MED-UNCODED", reason, {"medicines": names}, [f"uncoded {n}" for n in names])


def _weight(ctx: _Context) -> FlagSpec | None:
    s = ctx.settings
    snap = ctx.snapshot
    if not ctx.ivig_planned:
        return None
    if snap.weight_kg is None:
        reason = (
            "No weight recorded: weigh the patient"
            f"{ctx.before_next_course()}; doses in g/kg and rates in mg/kg/min cannot be checked."
        )
        return _spec(ctx, "WEIGHT-MISSING", reason, {"weight_kg": None}, ["weight none"])
    measured = snap.weight_measured_on
    if measured is None or (ctx.today - measured).days > s.weight_stale_days:
        when = f"measured on {measured.isoformat()}" if measured else "date of measurement unknown"
        reason = (
            f"Weight {snap.weight_kg:g} kg ({when}) is older than {s.weight_stale_days} days: "
            f"weigh the patient again{ctx.before_next_course()}."
        )
        evidence = {"weight_kg": snap.weight_kg, "weight_measured_on": _iso(measured)}
        return _spec(ctx, "WEIGHT-STALE", reason, evidence, [f"weight {_iso(measured) or 'unknown'}"])
    return None


#: kind -> rule functions in table order; the first that returns a spec wins.
_CHECKS = (
    ("hematology_review", (_hem_urgent, _hem_routine, _hem_crt, _hem_plan)),
    (
        "clotting_studies",
        (_clot_daily, _clot_event, _clot_daily_repeat, _clot_verify, _clot_baseline, _clot_periodic),
    ),
    ("viscosity_check", (_viscosity,)),
    ("pre_ivig_labs", (_pre_ivig, _iga_low)),
    ("renal_check", (_renal_aki, _renal_pre_course)),
    ("data_quality", (_weight, _uncoded_medicines)),
)


def evaluate(
    snapshot: PatientSnapshot,
    result: RiskResult,
    history: FlagHistory | None,
    as_of: datetime,
    settings: ReviewSettings = ReviewSettings(),
) -> list[FlagSpec]:
    """The flags the patient needs at ``as_of``: at most one per kind, in table order.

    symptom_alert is never returned (the symptom service raises it with `symptom_flag`).
    """
    return _evaluate(_Context(snapshot, result, history or FlagHistory(), as_of, settings))


def decide(
    snapshot: PatientSnapshot,
    result: RiskResult,
    history: FlagHistory | None,
    as_of: datetime,
    settings: ReviewSettings = ReviewSettings(),
) -> tuple[list[FlagSpec], list[Closure]]:
    """What the sweep does for one patient: the flags wanted now (as `evaluate`) and, for each
    open flag (``history.open_flags``) of a rule kind no longer wanted, how to close it."""
    ctx = _Context(snapshot, result, history or FlagHistory(), as_of, settings)
    specs = _evaluate(ctx)
    wanted = {spec.kind for spec in specs}
    closures = [
        _close(ctx, kind, info)
        for kind, info in ctx.history.open_flags.items()
        if kind in _COMPLETED_BY and kind not in wanted
    ]
    return specs, closures


def _evaluate(ctx: _Context) -> list[FlagSpec]:
    specs: list[FlagSpec] = []
    for _kind, checks in _CHECKS:
        for check in checks:
            spec = check(ctx)
            if spec is not None:
                spec = _respect_decision(ctx, spec)
                if spec is not None:
                    specs.append(spec)
                break  # the first rule that holds speaks for its kind, suppressed or not
    return specs


# --- decisions that stick (not indicated / declined) --------------------------------------

FACT_SEPARATOR = "; "
RESOLUTION_WORDS = {"not_indicated": "not indicated", "declined": "declined"}
_TIER_RANK = {"low": 0, "moderate": 1, "high": 2}


def _facts(trigger: str) -> set[str]:
    return {fact for fact in trigger.split(FACT_SEPARATOR) if fact}


def trigger_news(old: str, new: str) -> list[str]:
    """What ``new`` (a trigger) holds that is new or worse than ``old``, in plain words: facts
    it did not cite (a new event, lab, report, condition, course...) and a higher tier. Facts
    that went away and a lower tier are not news."""
    old_facts, new_facts = _facts(old), _facts(new)
    news: list[str] = []
    old_tier = next((f[5:] for f in old_facts if f.startswith("tier ")), None)
    new_tier = next((f[5:] for f in new_facts if f.startswith("tier ")), None)
    if new_tier is not None and _TIER_RANK.get(new_tier, -1) > _TIER_RANK.get(old_tier or "", -1):
        news.append(f"the risk tier rose from {old_tier} to {new_tier}" if old_tier else f"risk tier {new_tier}")
    news.extend(_fact_words(fact) for fact in sorted(new_facts - old_facts) if not fact.startswith("tier "))
    return news


def _fact_words(fact: str) -> str:
    head, _, rest = fact.partition(" ")
    if head == "event":
        kind, status, on = rest.split(" ", 2)
        return f"{status} {EVENT_WORDS.get(kind, kind.replace('_', ' '))} on {on}"
    if head == "lab":
        test, at = rest.split(" ", 1)
        return f"a new {LAB_WORDS.get(test, (test,))[0]} result of {at[:10]}"
    if head == "report":
        triage, at = rest.split(" ", 1)
        return f"a new {triage} symptom report on {at[:10]}"
    if head == "dic":
        return f"ISTH overt-DIC score {rest}"
    if head == "condition":
        return f"{CONDITION_WORDS.get(rest, rest.replace('_', ' '))} recorded"
    if head == "anticoagulation":
        intensity, start, drug = rest.split(" ", 2)
        return f"{intensity} anticoagulation ({drug}) from {start}"
    if head == "course":
        return f"an IVIG course starting {rest}"
    if head == "line":
        return f"a line {rest}"
    if head == "plan":
        plan, on = rest.split(" ", 1)
        return f"the haematology plan of {on} ({haematology.PLAN_WORDS.get(plan, plan)})"
    if head == "uncoded":
        return f"free-text medicine {rest}"
    if head == "missing":
        return f"{LAB_WORDS.get(rest, (rest,))[0]} missing"
    return fact


def _respect_decision(ctx: _Context, spec: FlagSpec) -> FlagSpec | None:
    """None while a clinician's decision on this rule lives and nothing new or worse happened;
    else the spec, saying why it is raised again when a decision was made on it."""
    decision = ctx.history.suppressions.get(spec.rule)
    if decision is None:
        return spec
    decided = (
        f"{spec.rule} was marked {RESOLUTION_WORDS.get(decision.resolution, decision.resolution)} "
        f"on {decision.resolved_at.date().isoformat()}"
    )
    if decision.until > ctx.as_of:
        news = trigger_news(decision.trigger, spec.trigger)
        if not news:
            return None
        why = f"Raised again: {decided}; new since then: {_join(news)}."
    else:
        news = []
        why = f"Raised again: {decided} and that decision ran out on {decision.until.date().isoformat()}."
    evidence = {
        **spec.evidence,
        "raised_again": {
            "resolution": decision.resolution,
            "resolved_at": decision.resolved_at.isoformat(),
            "until": decision.until.isoformat(),
            "news": news,
        },
    }
    return replace(spec, reason=f"{spec.reason} {why}", evidence=evidence)


# --- closing: completed vs lapsed -----------------------------------------------------------


def _lab_record(lab: LabSnap) -> dict:
    return {"test": lab.test, "value": lab.value, "collected_at": lab.collected_at.isoformat()}


def _named(labs: list[LabSnap]) -> tuple[str, list[dict]]:
    return _join([_lab_text(lab) for lab in labs]), [_lab_record(lab) for lab in labs]


def _panel_done(ctx: _Context, rule: str, since: datetime, trigger: str):
    if rule == "CLOT-VERIFY":  # confirmed (the same result, now verified) or repeated since
        done = []
        for fact in sorted(_facts(trigger)):
            if not fact.startswith("lab "):
                continue
            _, test, at = fact.split(" ", 2)
            cited = datetime.fromisoformat(at)
            later = [lab for lab in ctx.verified if lab.test == test and lab.collected_at >= cited]
            if not later:
                return None
            done.append(min(later, key=lambda lab: lab.collected_at))
        if not done:
            return None
        words, records = _named(done)
        were = "result was" if len(done) == 1 else "results were"
        return f"the doubtful {were} confirmed or repeated ({words})", records
    labs = panel_labs(ctx.verified, min(since, _panel_counts_from(ctx, rule, trigger)))
    if labs is None:
        return None
    words, records = _named(labs)
    return f"a complete clotting panel was collected ({words})", records


def _panel_counts_from(ctx: _Context, rule: str, trigger: str) -> datetime:
    """From when a panel does what the rule asked, even if entered after the flag was raised:
    after the earliest event or report CLOT-EVENT cited; within the baseline window for
    CLOT-BASELINE and CLOT-PERIODIC; since the flag was raised otherwise (``as_of``)."""
    if rule == "CLOT-EVENT":
        times = []
        for fact in _facts(trigger):
            head, _, rest = fact.partition(" ")
            if head == "event":
                times.append(_at_midnight(date.fromisoformat(rest.rsplit(" ", 1)[1]), ctx.as_of))
            elif head == "report":
                times.append(datetime.fromisoformat(rest.split(" ", 1)[1]))
        return min(times, default=ctx.as_of)
    if rule in ("CLOT-BASELINE", "CLOT-PERIODIC"):
        return ctx.as_of - timedelta(days=ctx.settings.panel_baseline_days)
    return ctx.as_of


def _review_done(ctx: _Context, rule: str, since: datetime, trigger: str):
    if not ctx.reviewed_since(since):
        return None
    on = ctx.review_on.date().isoformat()
    record = {"hematology_review_on": ctx.review_on.isoformat()}
    reviews = ctx.history.haematology_reviews
    if reviews:
        latest = max(reviews, key=lambda r: (r.at, r.reviewed_on))
        record.update(reviewed_on=latest.reviewed_on.isoformat(), anticoagulation_plan=latest.anticoagulation_plan)
    return f"a haematology review was recorded on {on}", [record]


def _viscosity_done(ctx: _Context, rule: str, since: datetime, trigger: str):
    checks = [lab for lab in ctx.verified if lab.test == "serum_viscosity" and lab.collected_at >= since]
    if not checks:
        return None
    words, records = _named([max(checks, key=lambda lab: lab.collected_at)])
    return f"a serum viscosity was collected ({words})", records


def _pre_ivig_done(ctx: _Context, rule: str, since: datetime, trigger: str):
    if rule == "IGA-LOW":  # a new IgA result no longer low is what ends it
        iga = [lab for lab in ctx.verified if lab.test == "iga" and lab.collected_at >= since]
        if not iga:
            return None
        words, records = _named([max(iga, key=lambda lab: lab.collected_at)])
        return f"a new IgA result was collected ({words})", records
    if ctx.pre_ivig_missing:
        return None
    latest = [
        max((lab for lab in ctx.verified if lab.test == test), key=lambda lab: lab.collected_at)
        for test in PRE_IVIG_TESTS
    ]
    words, records = _named(latest)
    return f"the pre-IVIG labs are on file ({words})", records


def _renal_done(ctx: _Context, rule: str, since: datetime, trigger: str):
    lab = safety.renal_done(ctx, since)
    if lab is None:
        return None
    words, records = _named([lab])
    return f"a creatinine was collected ({words})", records


def _weight_done(ctx: _Context, rule: str, since: datetime, trigger: str):
    snap = ctx.snapshot
    if rule == "MED-UNCODED":  # coded or stopped: the snapshot cannot tell which, so it lapses
        return None
    if snap.weight_kg is None or snap.weight_measured_on is None or snap.weight_measured_on < since.date():
        return None
    on = snap.weight_measured_on.isoformat()
    return f"a weight of {snap.weight_kg:g} kg was measured on {on}", [{"weight_kg": snap.weight_kg, "measured_on": on}]


#: kind -> what completes it: (ctx, rule, raised_at, trigger) -> (words, records) or None.
_COMPLETED_BY = {
    "hematology_review": _review_done,
    "clotting_studies": _panel_done,
    "viscosity_check": _viscosity_done,
    "pre_ivig_labs": _pre_ivig_done,
    "renal_check": _renal_done,
    "data_quality": _weight_done,
}


def _stamp(as_of: datetime) -> str:
    return f"review sweep, {as_of:%Y-%m-%d %H:%M %Z}".rstrip()


def lapsed(kind: str, rule: str, as_of: datetime, why: str = "") -> Closure:
    """The closure of a flag whose rule stopped holding without what it asked for: never a
    completed review or panel."""
    because = f" ({why})" if why else ""
    note = (
        f"Lapsed: rule {rule} no longer applies{because}, and nothing it asked for was recorded, "
        f"so it does not count as done ({_stamp(as_of)})."
    )
    return Closure(kind=kind, rule=rule, resolution="lapsed", note=note)


def _lapse_why(ctx: _Context, kind: str, rule: str) -> str:
    decision = ctx.history.suppressions.get(rule)
    if decision is not None and decision.until > ctx.as_of:
        words = RESOLUTION_WORDS.get(decision.resolution, decision.resolution)
        return f"what raised it again no longer holds; it stays {words} until {decision.until.date().isoformat()}"
    if rule == "MED-UNCODED":
        return "no free-text medicine is current any more (coded from the dictionary, or stopped)"
    if rule in ("CLOT-BASELINE", "CLOT-PERIODIC", "HEM-ROUTINE") and ctx.result.tier == "low":
        return "the risk tier fell to low"
    if rule in ("CLOT-BASELINE", "CLOT-PERIODIC") and ctx.full_anticoagulation:
        return "full-dose anticoagulation started"
    if kind in ("pre_ivig_labs", "data_quality", "viscosity_check", "renal_check") and not ctx.ivig_planned:
        return "no IVIG is planned any more"
    if rule in ("CLOT-EVENT", "HEM-URGENT", "CLOT-DAILY", "RENAL-AKI"):
        return "what it cited was ruled out, corrected, improved or fell out of its time window"
    return "what it cited no longer holds"


def _close(ctx: _Context, kind: str, info: dict) -> Closure:
    rule = info.get("rule", "")
    since = info.get("raised_at") or ctx.as_of
    done = _COMPLETED_BY[kind](ctx, rule, since, info.get("trigger") or "")
    if done is None:
        return lapsed(kind, rule, ctx.as_of, _lapse_why(ctx, kind, rule))
    words, records = done
    note = f"Completed: {words}, so rule {rule} no longer applies ({_stamp(ctx.as_of)})."
    return Closure(kind=kind, rule=rule, resolution="completed", note=note, evidence={"completed_by": records})


# --- symptom alerts --------------------------------------------------------------------------

SYMPTOM_RULES = {"emergency": "SYM-EMERGENCY", "urgent": "SYM-URGENT"}
SYMPTOM_ACTIONS = {
    "emergency": "Contact the patient now and advise emergency services.",
    "urgent": "Arrange a same-day assessment.",
}


def same_day_due(at: datetime, settings: ReviewSettings = ReviewSettings()) -> datetime:
    """When a "same-day" flag raised at ``at`` is due: the end of that working day
    (``working_day_ends`` on ``at``'s date, in ``at``'s time zone), or ``same_day_min_hours``
    after ``at`` if that is later (a report at 16:00 is due at 20:00, not in two hours; one at
    20:00 at midnight). The hours are real hours, across a clock change too."""
    ends = datetime.combine(at.date(), time.fromisoformat(settings.working_day_ends), tzinfo=at.tzinfo)
    soonest = (at.astimezone(UTC) + timedelta(hours=settings.same_day_min_hours)).astimezone(at.tzinfo)
    return max(ends, soonest)


def symptom_flag(
    reports: Iterable[SymptomSnap],
    settings: ReviewSettings = ReviewSettings(),
    *,
    tier: str | None = None,
    infusion_starts: Iterable[datetime] = (),
    zone=None,
) -> FlagSpec | None:
    """The symptom_alert spec for the reports on a patient's unresolved flag (a new one among them).

    The most urgent report decides (SYM-EMERGENCY, SYM-URGENT; None when all are routine), so a
    milder report never lowers the flag. The reason lists every report, newest first, with its
    time and symptoms, then what to do. Due as the words say, from the newest report that needs
    action: emergency at once, urgent the same day (`same_day_due`). Times are written in the
    reports' own time zone: the caller passes them in local time.

    Watch windows (`itrs.watch`): an urgent newest report inside a venous window of a moderate-
    or high-tier patient (``tier``, ``infusion_starts`` of administered infusions, local days in
    ``zone``) is due within ``watch_urgent_due_hours``, and the reason names the day.
    """
    ordered = sorted(reports, key=lambda r: r.reported_at, reverse=True)
    actionable = [r for r in ordered if r.triage in SYMPTOM_RULES]
    if not actionable:
        return None
    priority = min((r.triage for r in actionable), key=PRIORITY_ORDER.__getitem__)
    rule = SYMPTOM_RULES[priority]
    newest = actionable[0].reported_at
    due_at = newest if priority == "emergency" else same_day_due(newest, settings)
    watched, action = "", SYMPTOM_ACTIONS[priority]
    if priority == "urgent":
        where = watch.window_day(infusion_starts, newest, zone or newest.tzinfo or UTC)
        sooner = watch.urgent_due(newest, "urgent", tier, where, settings.watch_urgent_due_hours)
        if sooner is not None:
            due_at = min(due_at, sooner)
            watched = f" Reported on {where.words}, inside the venous watch window, in a {tier}-tier patient."
            action = f"Arrange an assessment within {settings.watch_urgent_due_hours} hours."
    if len(ordered) == 1:
        (only,) = ordered
        listed = f"{only.triage.capitalize()} symptoms reported on {_when(only.reported_at)}: {_report_words(only)}"
    else:
        items = [f"{r.triage} on {_when(r.reported_at)} ({_report_words(r)})" for r in ordered]
        listed = f"{len(ordered)} symptom reports, newest first: " + "; ".join(items)
    evidence = {
        "triage": priority,
        "reports": [
            {"triage": r.triage, "symptoms": list(r.symptoms), "reported_at": r.reported_at.isoformat()}
            for r in ordered
        ],
    }
    return FlagSpec(
        kind="symptom_alert",
        rule=rule,
        priority=priority,
        reason=f"{listed}.{watched} {action}",
        evidence=evidence,
        due_at=due_at,
    )


def _when(instant: datetime) -> str:
    return instant.strftime("%Y-%m-%d %H:%M %Z").rstrip()


def _report_words(report: SymptomSnap) -> str:
    return _symptom_words(report.symptoms) or "not specified"
