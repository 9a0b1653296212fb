"""The haematology side of the review rules: what a recorded review's plan asks for next, the
catheter-related thrombosis review (HEM-CRT), the review after a change of IVIG plan (HEM-PLAN),
anticoagulant failure, and the duration guidance and thrombophilia caveats shown (never
decided) wherever a haematology review is suggested after a VTE (risk/README.md).

Pure: no Django. `itrs.review` calls these; the pages call the guidance functions.

Sources: CHEST 2021 (Stevens SM et al., Chest 2021: second update of the CHEST guideline on
antithrombotic therapy for VTE); ASH 2020 (Ortel TL et al., Blood Adv 2020;4:4693); ISTH SSC
2014 (Zwicker JI et al., catheter-associated upper-extremity DVT); Bright PD et al., Clin Med
2015;15:125-9 (false-positive serology after pooled IgG); Anticoagulation Forum 2016 (Stevens SM
et al., J Thromb Thrombolysis 2016;41:154-64, thrombophilia testing).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, timedelta

from itrs.types import EventSnap, HaemReviewSnap, MedSnap, RegimenSnap

CHEST_2021 = "CHEST 2021 (Stevens SM et al., Chest 2021)"
ASH_2020 = "ASH 2020 (Ortel TL et al., Blood Adv 2020;4:4693)"
ISTH_CRT = "ISTH SSC 2014 (Zwicker JI et al., catheter-associated DVT guidance)"
BRIGHT_2015 = "Bright PD et al., Clin Med 2015;15:125-9"
ACF_2016 = "Anticoagulation Forum 2016 (Stevens SM et al., J Thromb Thrombolysis 2016;41:154-64)"
LMWH_COHORT = (
    "Should we prevent thrombosis related to IVIG infusions with systematic anticoagulant prophylaxis? "
    "French neuromuscular cohort, 2020: LMWH 1.1% vs risk-based 1.96%, no significant difference"
)

PLAN_WORDS = {
    "none": "no anticoagulation",
    "peri_infusion_prophylaxis": "prophylaxis around infusions",
    "treatment_3_months": "3 months' treatment",
    "extended": "extended anticoagulation",
    "indefinite": "indefinite anticoagulation",
}
YEARLY_PLANS = frozenset({"extended", "indefinite"})


# --- the one place that says which anticoagulant courses treat a VTE ---------------------------


def is_vte_treatment(med: MedSnap) -> bool:
    """Does this course treat a VTE (the 3-month and yearly anticoagulation reviews apply)?

    A therapeutic or extended anticoagulant course whose indication is VTE treatment (the default;
    "" in snapshots stored before courses carried one). Atrial fibrillation, valves and
    prophylaxis never ask for a VTE review."""
    return (
        med.category == "anticoagulant"
        and med.intensity in ("therapeutic", "extended")
        and med.indication in ("vte_treatment", "")
    )


def treats(med: MedSnap, event: EventSnap) -> bool:
    """Is ``med`` a course for ``event``: VTE treatment running on or after its diagnosis (until
    courses name the event they treat)."""
    return is_vte_treatment(med) and (med.end_date is None or med.end_date >= event.diagnosed_on)


def current(med: MedSnap, today: date) -> bool:
    return med.start_date <= today and (med.end_date is None or med.end_date >= today)


def full_dose_at(meds: Iterable[MedSnap], day: date) -> MedSnap | None:
    """A therapeutic or extended anticoagulant course running on ``day`` (started before it),
    whatever its indication: a thrombosis diagnosed then is anticoagulant failure (CHEST 2021)."""
    running = [
        m
        for m in meds
        if m.category == "anticoagulant"
        and m.intensity in ("therapeutic", "extended")
        and m.start_date < day
        and (m.end_date is None or m.end_date >= day)
    ]
    return min(running, key=lambda m: m.start_date) if running else None


# --- what a recorded review's plan asks for next -------------------------------------------------


@dataclass(frozen=True)
class PlanDue:
    review: HaemReviewSnap
    due_on: date
    because: str  # plain words: why this date


def plan_review_due(
    reviews: tuple[HaemReviewSnap, ...],
    events: Iterable[EventSnap],
    meds: Iterable[MedSnap],
    today: date,
    *,
    primary_days: int = 90,
    extended_days: int = 365,
) -> PlanDue | None:
    """When the latest review's plan wants the next one: its ``next_review_on`` when given;
    else ``treatment_3_months``: 3 months from the VTE it was about (the latest VTE diagnosed by
    then), while a VTE-treatment course is current; ``extended`` / ``indefinite``: a year after
    the review. None for the other plans or when nothing is due yet by that plan."""
    if not reviews:
        return None
    latest = max(reviews, key=lambda r: (r.at, r.reviewed_on))
    if latest.next_review_on is not None:
        return PlanDue(latest, latest.next_review_on, f"the review asked for the next one by {latest.next_review_on}")
    plan = latest.anticoagulation_plan
    if plan == "treatment_3_months":
        if not any(is_vte_treatment(m) and current(m, today) for m in meds):
            return None  # stopped: the question the 3-month review answers has been answered
        vte = [e for e in events if e.venous and e.status == "confirmed" and e.diagnosed_on <= latest.reviewed_on]
        if not vte:
            return None
        event = max(vte, key=lambda e: e.diagnosed_on)
        due = event.diagnosed_on + timedelta(days=primary_days)
        if due <= latest.reviewed_on:
            return None  # reviewed at or after the end of the primary phase already
        return PlanDue(latest, due, f"3 months from the thrombosis of {event.diagnosed_on}")
    if plan in YEARLY_PLANS:
        due = latest.reviewed_on + timedelta(days=extended_days)
        return PlanDue(latest, due, f"a yearly review of {PLAN_WORDS[plan]}")
    return None


def plan_governs(reviews: tuple[HaemReviewSnap, ...], med: MedSnap) -> bool:
    """A review recorded since the course started decides when it is next reviewed."""
    return any(r.reviewed_on >= med.start_date for r in reviews)


# --- HEM-CRT ----------------------------------------------------------------------------------------


def crt_reviews_due(
    events: Iterable[EventSnap],
    meds: Iterable[MedSnap],
    today: date,
    reviewed_on: date | None,
    *,
    after_removal_days: int = 90,
) -> list[tuple[EventSnap, date, MedSnap]]:
    """Catheter-related thromboses whose line was removed at least ``after_removal_days`` ago,
    while an anticoagulant course for that event is still current, and no haematology review on
    or after that date: (event, due date, course). No review is asked for when the course
    stopped before then (CHEST 2021; ISTH SSC 2014: as long as the catheter stays, and 3 months
    after its removal)."""
    due_list = []
    for event in events:
        if not (event.venous and event.status == "confirmed" and event.catheter_related):
            continue
        if event.access_removed_on is None:
            continue
        due = event.access_removed_on + timedelta(days=after_removal_days)
        if due > today or (reviewed_on is not None and reviewed_on >= due):
            continue
        courses = [m for m in meds if treats(m, event) and current(m, today)]
        if courses:
            due_list.append((event, due, min(courses, key=lambda m: m.start_date)))
    return due_list


# --- HEM-PLAN ---------------------------------------------------------------------------------------


def plan_changes(
    events: Iterable[EventSnap],
    meds: Iterable[MedSnap],
    regimens: Iterable[RegimenSnap],
    today: date,
    reviewed_at,
    *,
    treated_within_days: int = 365,
) -> list[tuple[RegimenSnap, EventSnap]]:
    """New IVIG regimens entered after a VTE treated in the last ``treated_within_days``, with no
    haematology review since they were entered: (regimen, event). A new regimen is the change of
    plan the record shows (new induction, shorter interval, higher dose or another product are
    each entered as a regimen)."""
    since = today - timedelta(days=treated_within_days)
    treated = [
        e
        for e in events
        if e.venous and e.status == "confirmed" and e.diagnosed_on >= since and any(treats(m, e) for m in meds)
    ]
    if not treated:
        return []
    changes = []
    for regimen in regimens:
        entered = regimen.recorded_at
        entered_on = entered.date() if entered is not None else regimen.start_date
        later = [e for e in treated if entered_on > e.diagnosed_on]
        if not later:
            continue
        if reviewed_at is not None and (
            reviewed_at >= entered if entered is not None else reviewed_at.date() >= entered_on
        ):
            continue
        changes.append((regimen, max(later, key=lambda e: e.diagnosed_on)))
    return changes


# --- guidance shown, never decided --------------------------------------------------------------------

PROVOCATION_WORDS = {
    "major_transient": "provoked by a major transient factor",
    "minor_transient": "provoked by a minor transient factor",
    "persistent": "with a persistent provoking factor",
    "unprovoked": "unprovoked",
    "catheter_related": "catheter-related",
    "unknown": "provocation not recorded",
}

DURATION_FRAMING = {
    "major_transient": (
        "CHEST 2021 and ASH 2020 frame this as 3 months of treatment, then stopping; CHEST advises "
        "against extended therapy after a major transient factor.",
        (CHEST_2021, ASH_2020),
    ),
    "minor_transient": (
        "CHEST 2021 suggests stopping after 3 months when the factor has resolved.",
        (CHEST_2021,),
    ),
    "persistent": (
        "CHEST 2021 and ASH 2020 frame a persistent factor as extended-phase treatment with periodic "
        "(conventionally yearly) review, unless the bleeding risk is high.",
        (CHEST_2021, ASH_2020),
    ),
    "unprovoked": (
        "CHEST 2021 and ASH 2020 suggest offering extended-phase treatment with periodic (conventionally "
        "yearly) review if the bleeding risk allows; 3 months if the bleeding risk is high.",
        (CHEST_2021, ASH_2020),
    ),
    "catheter_related": (
        "Treatment for at least 3 months and for as long as the catheter stays; 3 months after its "
        "removal if it is removed. A functioning, needed catheter need not be removed.",
        (ISTH_CRT, CHEST_2021),
    ),
    "unknown": (
        "The framing depends on the provocation, which is not recorded: 3 months for a transient factor; "
        "extended with yearly review for an unprovoked VTE or a persistent factor.",
        (CHEST_2021, ASH_2020),
    ),
}

ASH_NO_SCORES = (
    "ASH 2020 advises against deciding the duration from prognostic scores or D-dimer alone.",
    (ASH_2020,),
)

THROMBOPHILIA_CAVEATS = (
    (
        "Antiphospholipid antibodies measured after IVIG can be falsely positive (passive transfer "
        "of antibodies in pooled IgG): test before the first infusion or at trough, and confirm a "
        "positive result after at least 12 weeks.",
        (BRIGHT_2015,),
    ),
    (
        "Thrombophilia testing is not advised during the acute phase or the first 3 months of "
        "anticoagulation (protein C, protein S, antithrombin and lupus anticoagulant are distorted).",
        (ACF_2016,),
    ),
)

ANTIPLATELET_NOTE = (
    "recorded; no evidence that it lowers IVIG thrombosis risk",
    (LMWH_COHORT,),
)


def ivig_exposure(regimens: Iterable[RegimenSnap]) -> str:
    """IVIG on a schedule as a recurring exposure, in words (CHEST does not classify it)."""
    scheduled = sorted({r.interval_days for r in regimens if r.interval_days})
    if scheduled:
        every = " or ".join(f"every {days} days" for days in scheduled)
        return (
            f"IVIG is given on a schedule ({every}): a recurring exposure, not a transient one. "
            "CHEST 2021 does not classify IVIG-associated VTE; whether it counts as a persistent factor "
            "is for haematology to decide."
        )
    return (
        "No IVIG schedule is active: if IVIG is given again the exposure recurs. CHEST 2021 does not "
        "classify IVIG-associated VTE; the duration decision belongs to haematology."
    )


def vte_guidance(event: EventSnap, regimens: Iterable[RegimenSnap]) -> dict:
    """What the pages show for one VTE: its provocation, the duration framing for it with its
    sources, the IVIG exposure note, the ASH caveat on scores and the thrombophilia caveats.
    Decision support: the haematologist decides."""
    provocation = event.provocation if event.provocation in DURATION_FRAMING else "unknown"
    framing, sources = DURATION_FRAMING[provocation]
    return {
        "provocation": provocation,
        "provocation_words": PROVOCATION_WORDS[provocation],
        "duration": framing,
        "duration_sources": list(sources),
        "ivig": ivig_exposure(regimens),
        "scores": ASH_NO_SCORES[0],
        "scores_sources": list(ASH_NO_SCORES[1]),
        "thrombophilia": [{"text": text, "sources": list(src)} for text, src in THROMBOPHILIA_CAVEATS],
    }
