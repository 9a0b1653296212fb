"""Plain data the risk engine and the review rules work on.

No Django ORM here: `risk/snapshot.py` fills these from the database with a fixed
number of set-based queries, and tests build them by hand. Every value is in the
canonical unit named in the field comment. Unknown is ``None``, never zero.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime


@dataclass(frozen=True)
class ConditionSnap:
    code: str  # patients.Condition codes (docs/records.md), e.g. "thrombophilia", "bedbound"
    onset_date: date | None
    resolved_date: date | None = None  # None = still present


@dataclass(frozen=True)
class AccessSnap:
    kind: str  # picc | cvc_tunneled | cvc_non_tunneled | port
    vein: str  # internal_jugular | subclavian | femoral | arm | other
    inserted_on: date
    removed_on: date | None = None


@dataclass(frozen=True)
class EventSnap:
    kind: str  # dvt | pe | ... | mi | ischemic_stroke | tia | peripheral_arterial
    status: str  # suspected | confirmed | ruled_out
    diagnosed_on: date
    provocation: str = "unknown"
    catheter_related: bool = False  # linked to a vascular access
    # the linked vascular access, when there is one (HEM-CRT: 3 months after its removal)
    access_kind: str = ""
    access_vein: str = ""
    access_removed_on: date | None = None

    @property
    def venous(self) -> bool:
        return self.kind not in ARTERIAL_EVENT_KINDS

    @property
    def vte(self) -> bool:
        """A venous thromboembolism (ITRS-v1): venous, and not a retinal vein occlusion."""
        return self.venous and self.kind != "retinal_vein"


ARTERIAL_EVENT_KINDS = frozenset({"mi", "ischemic_stroke", "tia", "peripheral_arterial"})


@dataclass(frozen=True)
class LabSnap:
    # pt | inr | aptt | fibrinogen | d_dimer | platelets | creatinine | iga | igg | serum_viscosity | ...
    test: str
    value: float  # canonical unit (s, ratio, s, g/L, mg/L FEU, 10^9/L, mg/dL, mg/dL, g/L, cP, g/dL, mg/dL)
    collected_at: datetime
    reference_high: float | None = None  # the lab's upper limit in the canonical unit
    needs_verification: bool = False  # doubtful values enter no rule


@dataclass(frozen=True)
class MedSnap:
    # steroid | estrogen | anticoagulant | antiplatelet | diuretic | thrombogenic | other (free text)
    category: str
    drug: str  # the dictionary name, or the free text of an uncoded course
    start_date: date
    end_date: date | None = None  # None = ongoing
    dose_mg_per_day: float | None = None
    prednisolone_eq_mg_per_day: float | None = None  # steroids only
    intensity: str = ""  # prophylactic | therapeutic | extended (anticoagulants)
    # the dictionary class (doac, lmwh, combined_hormonal_contraceptive, transdermal_hrt, serm, imid,
    # glucocorticoid...); "" for a free-text course or a snapshot stored before the dictionary
    drug_class: str = ""
    route: str = ""  # oral | intravenous | intramuscular | subcutaneous | transdermal | vaginal | ... ("" unknown)
    indication: str = ""  # anticoagulants: vte_treatment | vte_prophylaxis | atrial_fibrillation | ...


@dataclass(frozen=True)
class RegimenSnap:
    product_name: str
    product_concentration_percent: float  # 10 for a 10% product
    label_max_rate_mg_kg_min: float | None  # product label maximum for this indication
    indication: str
    dose_g_per_kg_per_day: float | None  # None for a fixed-gram order
    dose_grams_per_day: float | None  # fixed-gram order (e.g. "80 g"), else None
    days_per_course: int
    interval_days: int | None  # None = one-off course
    dosing_weight: str  # actual | ideal | adjusted
    start_date: date
    end_date: date | None
    max_rate_mg_kg_min: float | None
    setting: str  # inpatient | outpatient | home
    product_id: int = 0
    recorded_at: datetime | None = None  # when the regimen was entered (HEM-PLAN: a new plan)


@dataclass(frozen=True)
class InfusionSnap:
    started_at: datetime
    dose_grams: float
    status: str  # planned | administered | stopped: only "administered" enters rules
    product_name: str
    product_concentration_percent: float
    label_max_rate_mg_kg_min: float | None  # label maximum for the indication of its regimen
    max_rate_mg_kg_min: float | None = None
    max_rate_ml_h: float | None = None  # pump rate when only that was recorded
    product_id: int = 0


@dataclass(frozen=True)
class SymptomSnap:
    reported_at: datetime
    triage: str  # emergency | urgent | routine
    symptoms: tuple[str, ...] = ()


@dataclass(frozen=True)
class PatientSnapshot:
    patient_id: int
    date_of_birth: date
    sex: str  # female | male | other | unknown
    height_cm: float | None
    weight_kg: float | None
    weight_measured_on: date | None
    diagnosis: str
    conditions: tuple[ConditionSnap, ...] = ()
    accesses: tuple[AccessSnap, ...] = ()
    events: tuple[EventSnap, ...] = ()
    labs: tuple[LabSnap, ...] = ()  # any order
    medications: tuple[MedSnap, ...] = ()
    regimens: tuple[RegimenSnap, ...] = ()  # the active regimen(s)
    infusions: tuple[InfusionSnap, ...] = ()  # any order, any status
    symptom_reports: tuple[SymptomSnap, ...] = ()
    # an administered infusion exists before the loaded infusion window (see risk/snapshot.py)
    has_earlier_infusions: bool = False
    # The IANA zone of the patient's site: "today", an infusion's day and a course's days are
    # calendar days there (a course given at 08:00 in Sydney is on that Sydney day).
    time_zone: str = "UTC"


@dataclass(frozen=True)
class Suppression:
    """A clinician's "not indicated" or "declined" on a rule: the latest resolution of that rule
    for the patient. The rule is not raised again while ``until`` lies ahead, unless its trigger
    changes to something new or worse (`itrs.review.trigger_news`)."""

    rule: str
    resolution: str  # not_indicated | declined
    trigger: str  # the flag's trigger when it was resolved
    resolved_at: datetime
    until: datetime


@dataclass(frozen=True)
class HaemReviewSnap:
    """A recorded haematology review (risk.HaematologyReview): what the haematologist decided."""

    reviewed_on: date
    at: datetime  # when it happened, as closely as known: recorded that day, or the end of that day
    anticoagulation_plan: str  # none | peri_infusion_prophylaxis | treatment_3_months | extended | indefinite
    ivig_plan: str = "continue"  # continue | slow_rate | change_product | reduce_dose | switch_to_subcutaneous | stop
    thrombophilia_testing: str = "not_indicated"  # not_indicated | requested | deferred_after_ivig
    next_review_on: date | None = None  # overrides the plan's interval


@dataclass(frozen=True)
class FlagHistory:
    """What the review rules need to know about earlier flags of one patient."""

    last_hematology_review_on: datetime | None = None  # the latest recorded haematology review (`at`)
    tier_last_rose_at: datetime | None = None  # when the latest rise of tier was assessed
    last_viscosity_check_at: datetime | None = None
    # kind -> {"rule", "priority", "status", "snoozed_until", "raised_at", "trigger"}
    open_flags: dict = field(default_factory=dict)
    suppressions: dict = field(default_factory=dict)  # rule -> Suppression
    haematology_reviews: tuple[HaemReviewSnap, ...] = ()  # oldest first


@dataclass(frozen=True)
class Factor:
    code: str  # P1..P10, S1..S5, E1, T1..T5
    label: str  # plain words, with the patient's own value ("Age 64 (61-74)")
    component: str  # hypercoagulability | stasis | vessel_injury | arterial
    points: int
    evidence: str  # one line with the reference, e.g. "Caprini 2/3 for 61-74/>=75 [R41]"
    fda_listed: bool = False  # counts as an FDA boxed-warning risk factor (for T4 and display)

    def as_dict(self) -> dict:
        return {
            "code": self.code,
            "label": self.label,
            "component": self.component,
            "points": self.points,
            "evidence": self.evidence,
            "fda_listed": self.fda_listed,
        }


@dataclass(frozen=True)
class RiskResult:
    ruleset: str  # "ITRS-v1" (stored assessments may say "ITRS-v0")
    as_of: datetime
    score: int
    tier: str  # low | moderate | high
    components: dict  # {"hypercoagulability": n, "stasis": n, "vessel_injury": n, "arterial": n}
    factors: tuple[Factor, ...]
    overrides: tuple[dict, ...]  # {"code": "a".."e", "label": str, "evidence": str}
    recommendations: tuple[dict, ...]  # {"code": str, "text": str, ...numbers}
    provisional: bool
    missing: tuple[str, ...]  # e.g. ("weight: P9 BMI", "weight: T3 course g/kg", ...)
    notes: tuple[str, ...] = ()  # e.g. the under-18 note, the "clots without risk factors" note
    dic_score: int | None = None  # ISTH overt-DIC score when applicable
    secondary: dict = field(default_factory=dict)  # {"padua": {...}, "caprini": {...}}
    # ITRS-v1: the ISTH detail when it applies ({} otherwise): score, at_least, known_points,
    # missing, pt_skipped, latest_at (itrs.dic.DicAssessment.as_dict)
    dic: dict = field(default_factory=dict)

    def as_dict(self) -> dict:
        return {
            "ruleset": self.ruleset,
            "as_of": self.as_of.isoformat(),
            "score": self.score,
            "tier": self.tier,
            "components": dict(self.components),
            "factors": [f.as_dict() for f in self.factors],
            "overrides": [dict(o) for o in self.overrides],
            "recommendations": [dict(r) for r in self.recommendations],
            "provisional": self.provisional,
            "missing": list(self.missing),
            "notes": list(self.notes),
            "dic_score": self.dic_score,
            "secondary": dict(self.secondary),
            "dic": dict(self.dic),
        }
