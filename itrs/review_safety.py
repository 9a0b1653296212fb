"""The ITRS-v1 safety rules that `itrs.review` calls (docs/review-rules.md, risk/README.md):
the platelet, HIT, ITP and anticoagulant-failure wording of HEM-URGENT, CLOT-DAILY for partial
and non-overt DIC scores, IGA-LOW and the renal_check rules RENAL-AKI and RENAL-PRE-COURSE.

Pure: no Django. Each rule reads the review context (`itrs.review._Context`: snapshot, result,
verified labs, events, settings, as_of, next course) and returns a `Finding`, plain data that
`itrs.review` turns into a flag; this module never imports `itrs.review`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, time, timedelta

from itrs import drugs
from itrs.bodysize import age_years
from itrs.labs import change_words, platelet_fall
from itrs.renal import (
    PRE_COURSE_CREATININE_DAYS,
    egfr_words,
    kdigo_aki,
    renal_risk_reasons,
)

ITP_LOW_WITH_EVENT = 20.0  # x10^9/L: in ITP, a count below this with a new event still raises HEM-URGENT
ITP_EVENT_DAYS = 14  # "new": an event diagnosed this many days before the count, or later
IGA_DEFICIENT_BELOW = 7.0  # mg/dL, selective IgA deficiency at age > 4 [R77]
IGA_MIN_AGE_ABOVE = 4
DIC_REPEAT_HOURS = 48  # ISTH: < 5, repeat in 1-2 days [R44]

#: Label IgA content (ug/mL) by product, low first [R4][R6][R10]; the Product rows carry the same
#: numbers (`iga_ug_per_ml`, infusions migration "product_renal_cap_and_iga").
PRODUCT_IGA_UG_PER_ML: tuple[tuple[str, str], ...] = (
    ("Privigen", "<= 25"),
    ("Gamunex-C", "~46"),
    ("Flebogamma DIF", "<= 50"),
)


@dataclass(frozen=True)
class Finding:
    rule: str
    reason: str
    evidence: dict = field(default_factory=dict)
    facts: tuple[str, ...] = ()
    priority: str = ""  # "" = the rule's priority in the table
    due_at: datetime | None = None  # None = the priority's usual due time


def _d(moment: datetime) -> str:
    return moment.date().isoformat()


def _lab_fact(lab) -> str:
    return f"lab {lab.test} {lab.collected_at.isoformat()}"


def _midnight(day, as_of: datetime) -> datetime:
    return datetime.combine(day, time(0, 0), tzinfo=as_of.tzinfo or UTC)


# --- HEM-URGENT parts ---------------------------------------------------------------------


def anticoagulant_failure(ctx, event) -> str:
    """ ", while on therapeutic anticoagulation (apixaban since DATE): anticoagulant failure" when
    a therapeutic or extended course was running on the day the event was diagnosed [R61]."""
    running = [
        m
        for m in drugs.running_on(ctx.snapshot.medications, event.diagnosed_on)
        if m.category == "anticoagulant" and m.intensity in ("therapeutic", "extended")
    ]
    if not running:
        return ""
    med = min(running, key=lambda m: m.start_date)
    return (
        f" while on {med.intensity} anticoagulation ({med.drug} since {med.start_date.isoformat()}): "
        "anticoagulant failure"
    )


def platelet_clauses(ctx) -> tuple[list[str], list[str], dict]:
    """HEM-URGENT's platelet clauses, facts and evidence (v1): the latest verified count below
    `platelet_low` (in ITP only below 20 with a new thrombosis), or a fall greater than
    `platelet_fall_fraction` from the highest count of the `platelet_peak_days` before it, with
    the HIT words when a heparin ran in the `hit_heparin_days` before the fall [N6][N7]. A
    completed haematology review after the latest count has dealt with it."""
    s = ctx.settings
    clauses: list[str] = []
    facts: list[str] = []
    evidence: dict = {}
    counts = sorted((lab for lab in ctx.verified if lab.test == "platelets"), key=lambda lab: lab.collected_at)
    if not counts or ctx.reviewed_since(counts[-1].collected_at):
        return clauses, facts, evidence
    latest = counts[-1]
    changed = change_words(ctx.verified, latest)
    changed_text = f" ({changed})" if changed else ""
    if latest.value < s.platelet_low:
        if ctx.snapshot.diagnosis == "itp":
            since = latest.collected_at.date() - timedelta(days=ITP_EVENT_DAYS)
            new_events = [e for e in ctx.events if e.diagnosed_on >= since]
            if latest.value < ITP_LOW_WITH_EVENT and new_events:
                clauses.append(
                    f"platelets {latest.value:g} x10^9/L on {_d(latest.collected_at)}{changed_text}, below "
                    f"{ITP_LOW_WITH_EVENT:g} in ITP with a new thrombosis"
                )
                facts.append(_lab_fact(latest))
                evidence["platelets"] = {
                    "value": latest.value,
                    "collected_at": latest.collected_at.isoformat(),
                    "itp": True,
                }
        else:
            when = _d(latest.collected_at)
            clauses.append(f"platelets {latest.value:g} x10^9/L on {when}{changed_text}, below {s.platelet_low:g}")
            facts.append(_lab_fact(latest))
            evidence["platelets"] = {"value": latest.value, "collected_at": latest.collected_at.isoformat()}
    fall = platelet_fall(ctx.verified, ctx.as_of, s.platelet_peak_days)
    if fall is not None and fall.latest is latest and fall.fraction > s.platelet_fall_fraction:
        peak = fall.peak
        text = (
            f"platelets fell {fall.fraction:.0%} from the {s.platelet_peak_days}-day peak of {peak.value:g} on "
            f"{_d(peak.collected_at)} to {latest.value:g} on {_d(latest.collected_at)}"
        )
        fall_day = latest.collected_at.date()
        heparins = drugs.ran_within(
            drugs.courses_of(ctx.snapshot.medications, drugs.HEPARIN),
            fall_day - timedelta(days=s.hit_heparin_days),
            fall_day,
        )
        if heparins:
            names = ", ".join(sorted({m.drug for m in heparins}))
            text += (
                f" after {names} in the {s.hit_heparin_days} days before: possible heparin-induced "
                "thrombocytopenia: score the 4Ts and consider stopping heparin"
            )
        clauses.append(text)
        facts.append(_lab_fact(latest))
        evidence["platelet_fall"] = {
            "peak": peak.value,
            "peak_at": peak.collected_at.isoformat(),
            "latest": latest.value,
            "latest_at": latest.collected_at.isoformat(),
            "fraction": round(fall.fraction, 3),
            "heparin": sorted({m.drug for m in heparins}),
        }
    return clauses, facts, evidence


def dic_words(result, threshold: int) -> str:
    dic = result.dic or {}
    if dic.get("at_least"):
        missing = ", ".join(t.replace("_", "-") for t in dic.get("missing", ()))
        return (
            f"ISTH overt-DIC items already total {result.dic_score} without {missing} "
            f"(counts as {threshold} or more: overt DIC)"
        )
    skipped = f"; PT not scored on {dic['pt_skipped']}, provisional" if dic.get("pt_skipped") else ""
    return f"ISTH overt-DIC score {result.dic_score} ({threshold} or more means overt DIC{skipped})"


# --- clotting_studies: CLOT-DAILY -----------------------------------------------------------


def clot_daily(ctx) -> Finding | None:
    """Urgent: the ISTH score (or the known items, some missing) >= `dic_score_threshold`."""
    result = ctx.result
    threshold = ctx.settings.dic_score_threshold
    if result.dic_score is None or result.dic_score < threshold:
        return None
    reason = dic_words(result, threshold) + ": repeat platelets, PT, fibrinogen and D-dimer daily [R44]"
    evidence = {"dic_score": result.dic_score, "dic": dict(result.dic)}
    return Finding("CLOT-DAILY", reason, evidence, (f"dic {result.dic_score}",))


def clot_daily_repeat(ctx) -> Finding | None:
    """Routine, due 48 h after the latest DIC test: a DIC-associated illness with an ISTH score
    below the threshold, or items missing that cannot reach it ("non-overt DIC: repeat in 1-2
    days" [R44])."""
    result = ctx.result
    dic = result.dic or {}
    threshold = ctx.settings.dic_score_threshold
    if not dic or not dic.get("latest_at") or (result.dic_score is not None and result.dic_score >= threshold):
        return None
    latest_at = datetime.fromisoformat(dic["latest_at"])
    if dic.get("score") is not None:
        what = f"ISTH overt-DIC score {dic['score']} (below {threshold}: suggestive of non-overt DIC"
        what += f"; PT not scored on {dic['pt_skipped']}, provisional)" if dic.get("pt_skipped") else ")"
    else:
        missing = ", ".join(t.replace("_", "-") for t in dic.get("missing", ()))
        what = f"ISTH overt-DIC items total {dic.get('known_points', 0)} without {missing} (below {threshold} so far)"
    due = max(ctx.as_of, latest_at + timedelta(hours=DIC_REPEAT_HOURS))
    reason = (
        f"{what} with a DIC-associated illness: repeat platelets, PT, fibrinogen and D-dimer within "
        f"{DIC_REPEAT_HOURS} hours of {latest_at.date().isoformat()} [R44]"
    )
    return Finding(
        "CLOT-DAILY",
        reason,
        {"dic_score": dic.get("score"), "dic": dict(dic), "repeat_within_hours": DIC_REPEAT_HOURS},
        (f"dic-repeat {dic['latest_at']}",),
        priority="routine",
        due_at=due,
    )


# --- pre_ivig_labs: IGA-LOW -----------------------------------------------------------------


def iga_low(ctx) -> Finding | None:
    """Routine, before the next infusion: latest verified IgA < 7 mg/dL at age > 4 (selective IgA
    deficiency [R77]) with IVIG planned or given."""
    if not ctx.ivig_planned and not ctx.administered:
        return None
    iga = max((lab for lab in ctx.verified if lab.test == "iga"), key=lambda lab: lab.collected_at, default=None)
    if iga is None or iga.value >= IGA_DEFICIENT_BELOW:
        return None
    age = age_years(ctx.snapshot.date_of_birth, iga.collected_at.date())
    if age <= IGA_MIN_AGE_ABOVE:
        return None
    products = ", ".join(f"{name} {content} ug/mL" for name, content in PRODUCT_IGA_UG_PER_ML)
    reason = (
        f"IgA {iga.value:g} mg/dL on {_d(iga.collected_at)} at age {age} (below {IGA_DEFICIENT_BELOW:g}: selective IgA "
        f"deficiency): check anti-IgA antibodies and any history of reactions; consider a low-IgA product "
        f"(label IgA content: {products}){ctx.before_next_course()} [R77]"
    )
    evidence = {"iga": iga.value, "collected_at": iga.collected_at.isoformat(), "age": age}
    return Finding("IGA-LOW", reason, evidence, (_lab_fact(iga),))


# --- renal_check ------------------------------------------------------------------------------


def _latest(ctx, test: str):
    return max((lab for lab in ctx.verified if lab.test == test), key=lambda lab: lab.collected_at, default=None)


def renal_reasons(ctx) -> list[str]:
    snap = ctx.snapshot
    return renal_risk_reasons(
        present_conditions=ctx.condition_codes,
        age=age_years(snap.date_of_birth, ctx.today),
        sex=snap.sex,
        medications=snap.medications,
        today=ctx.today,
        latest_creatinine=_latest(ctx, "creatinine"),
    )


def renal_aki(ctx) -> Finding | None:
    """Urgent: KDIGO stage-1 AKI (a rise >= 0.3 mg/dL in 48 h, or >= 1.5 x the lowest of 7 days)
    with an infusion in the 7 days before the latest creatinine [N9][R4]."""
    found = kdigo_aki(ctx.verified, ctx.snapshot.infusions, ctx.as_of)
    if found is None:
        return None
    snap = ctx.snapshot
    age = age_years(snap.date_of_birth, found.latest.collected_at.date())
    reason = (
        f"{found.words} on {_d(found.latest.collected_at)}, {egfr_words(found.latest.value, age, snap.sex)}, "
        f"after IVIG on {_d(found.infusion_at)}: acute kidney injury (KDIGO): assess hydration and urine output, "
        "review nephrotoxic drugs, and hold or slow further IVIG until renal function is reviewed [N9][R4]"
    )
    evidence = {
        "criterion": found.criterion,
        "baseline": found.baseline.value,
        "baseline_at": found.baseline.collected_at.isoformat(),
        "latest": found.latest.value,
        "latest_at": found.latest.collected_at.isoformat(),
        "infusion_at": found.infusion_at.isoformat(),
    }
    return Finding("RENAL-AKI", reason, evidence, (_lab_fact(found.latest), _lab_fact(found.baseline)))


def renal_pre_course(ctx) -> Finding | None:
    """Routine, due the day before the course: a renal-risk patient with a course planned and no
    verified creatinine in the 30 days before its first day [R4][R10]."""
    first = ctx.next_course_on
    if first is None or not ctx.ivig_planned:
        return None
    reasons = renal_reasons(ctx)
    if not reasons:
        return None
    since = _midnight(first - timedelta(days=PRE_COURSE_CREATININE_DAYS), ctx.as_of)
    if any(lab.test == "creatinine" and lab.collected_at >= since for lab in ctx.verified):
        return None
    last = _latest(ctx, "creatinine")
    last_text = f"last on {_d(last.collected_at)}" if last else "none on file"
    reason = (
        f"Renal-risk patient ({', '.join(reasons)}) with an IVIG course starting {first.isoformat()} and no "
        f"creatinine in the {PRE_COURSE_CREATININE_DAYS} days before it ({last_text}): check creatinine (eGFR) "
        "before the course [R4][R10]"
    )
    due = max(ctx.as_of, _midnight(first - timedelta(days=1), ctx.as_of))
    evidence = {
        "renal_risk": reasons,
        "course_starts_on": first.isoformat(),
        "last_creatinine_at": last and last.collected_at.isoformat(),
    }
    return Finding(
        "RENAL-PRE-COURSE",
        reason,
        evidence,
        (f"course {first.isoformat()}", *(f"renal {r}" for r in reasons)),
        due_at=due,
    )


def renal_done(ctx, since: datetime):
    """What completes a renal_check flag: a verified creatinine collected since it was raised."""
    later = [lab for lab in ctx.verified if lab.test == "creatinine" and lab.collected_at >= since]
    if not later:
        return None
    lab = max(later, key=lambda x: x.collected_at)
    return lab
