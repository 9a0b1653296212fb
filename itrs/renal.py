"""Renal safety of ITRS-v1 (risk/README.md, "Renal"): eGFR, the renal-risk patient, KDIGO AKI,
and the renal caps of the product labels.

Pure: no Django. IV immune globulin carries a second boxed warning on renal dysfunction and
acute renal failure; predisposed are pre-existing renal insufficiency, diabetes, age > 65,
volume depletion, sepsis and paraproteinaemia, and sucrose-containing products [R4][R10][R79].
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from itrs.bodysize import ml_h_from_mg_kg_min
from itrs.types import InfusionSnap, LabSnap, MedSnap

RENAL_RISK_CONDITIONS = {
    "renal_impairment": "renal impairment",
    "diabetes": "diabetes",
    "volume_depletion": "volume depletion",
    "acute_infection_or_sepsis": "acute infection or sepsis",
    "paraproteinemia": "paraproteinaemia",
}
RENAL_RISK_AGE_ABOVE = 65
EGFR_LOW = 60.0  # mL/min/1.73 m2: CKD stage 3 and below
AKI_RISE_MG_DL = 0.3  # KDIGO: rise >= 0.3 mg/dL within 48 h [N9]
AKI_RISE_HOURS = 48
AKI_RATIO = 1.5  # KDIGO: >= 1.5 x baseline within 7 days [N9]
AKI_BASELINE_DAYS = 7
PRE_COURSE_CREATININE_DAYS = 30  # RENAL-PRE-COURSE: a creatinine this recent before the course
EPS = 1e-9

#: Label renal caps (mg/kg/min) and IgA content (ug/mL), by product name without its
#: concentration. Sources: Gamunex-C label "< 8 mg/kg/min" in renal-risk patients [R4]; Panzyga
#: and Octagam "<= 3.3 mg/kg/min" with renal or thromboembolic risk [R8][R9]; IgA: Privigen
#: <= 25, Flebogamma <= 50, Gamunex-C ~46 ug/mL [R4][R6][R10]. The Product rows carry the same
#: numbers (infusions migration "product_renal_cap_and_iga"); keep both in step.
RENAL_CAP_MG_KG_MIN: dict[str, float] = {"gamunex-c": 8.0, "panzyga": 3.3, "octagam": 3.3}
RENAL_CAP_STRICT: frozenset[str] = frozenset({"gamunex-c"})  # "< 8": below the number, not at it
SUCROSE_PRODUCTS: frozenset[str] = frozenset({"carimune nf"})


def product_key(name: str) -> str:
    """ "Gamunex-C 10%" -> "gamunex-c"; "Octagam 5%" -> "octagam"."""
    words = [w for w in name.lower().split() if not w.rstrip("%").replace(".", "").isdigit()]
    return " ".join(words)


def egfr_ckd_epi_2021(creatinine_mg_dl: float, age: int, sex: str) -> float | None:
    """eGFR in mL/min/1.73 m2 by the race-free CKD-EPI 2021 creatinine equation [N8]:
    142 x min(Scr/k, 1)^a x max(Scr/k, 1)^-1.200 x 0.9938^age (x 1.012 female),
    k 0.7 / 0.9 and a -0.241 / -0.302 (female / male). None under 18, for sex other/unknown
    or a non-positive creatinine (not computed; callers say why)."""
    if age < 18 or sex not in ("female", "male") or creatinine_mg_dl <= 0:
        return None
    female = sex == "female"
    kappa = 0.7 if female else 0.9
    alpha = -0.241 if female else -0.302
    ratio = creatinine_mg_dl / kappa
    value = 142 * min(ratio, 1) ** alpha * max(ratio, 1) ** -1.200 * 0.9938**age
    return value * 1.012 if female else value


def egfr_words(creatinine_mg_dl: float, age: int, sex: str) -> str:
    value = egfr_ckd_epi_2021(creatinine_mg_dl, age, sex)
    if value is not None:
        return f"eGFR {value:.0f} mL/min/1.73 m2 (CKD-EPI 2021)"
    if age < 18:
        return "eGFR not computed (CKD-EPI 2021 is for adults)"
    return "eGFR not computed (CKD-EPI 2021 needs sex female or male)"


def renal_risk_reasons(
    *,
    present_conditions: Iterable[str],
    age: int,
    sex: str,
    medications: Iterable[MedSnap],
    today: date,
    latest_creatinine: LabSnap | None,
) -> list[str]:
    """Why the patient is a renal-risk patient (empty list: not one) [R4][R10]."""
    present = set(present_conditions)
    reasons = [words for code, words in RENAL_RISK_CONDITIONS.items() if code in present]
    if age > RENAL_RISK_AGE_ABOVE:
        reasons.append(f"age {age} (> {RENAL_RISK_AGE_ABOVE})")
    diuretics = sorted(
        {
            m.drug
            for m in medications
            if m.category == "diuretic" and m.start_date <= today and (m.end_date is None or m.end_date >= today)
        }
    )
    if diuretics:
        reasons.append("diuretic (" + ", ".join(diuretics) + ")")
    if latest_creatinine is not None:
        egfr = egfr_ckd_epi_2021(latest_creatinine.value, age, sex)
        if egfr is not None and egfr < EGFR_LOW:
            reasons.append(f"eGFR {egfr:.0f} (< {EGFR_LOW:g}) from creatinine {latest_creatinine.value:g} mg/dL")
    return reasons


@dataclass(frozen=True)
class AkiFinding:
    criterion: str  # "rise_48h" | "ratio_7d"
    baseline: LabSnap
    latest: LabSnap
    infusion_at: datetime
    words: str


def kdigo_aki(labs: Iterable[LabSnap], infusions: Iterable[InfusionSnap], as_of: datetime) -> AkiFinding | None:
    """KDIGO stage-1 AKI [N9] in the latest verified creatinine, with an administered infusion in
    the 7 days before it: a rise >= 0.3 mg/dL from a value within the 48 h before, or a value
    >= 1.5 x the lowest of the 7 days before. None otherwise."""
    creat = sorted(
        (lab for lab in labs if lab.test == "creatinine" and not lab.needs_verification and lab.collected_at <= as_of),
        key=lambda lab: lab.collected_at,
    )
    if len(creat) < 2:
        return None
    latest = creat[-1]
    given = [
        i.started_at
        for i in infusions
        if i.status == "administered"
        and latest.collected_at - timedelta(days=AKI_BASELINE_DAYS) <= i.started_at <= latest.collected_at
    ]
    if not given:
        return None
    infusion_at = max(given)
    earlier = [lab for lab in creat[:-1] if lab.collected_at < latest.collected_at]
    within_48h = [lab for lab in earlier if latest.collected_at - lab.collected_at <= timedelta(hours=AKI_RISE_HOURS)]
    if within_48h:
        low = min(within_48h, key=lambda lab: lab.value)
        rise = latest.value - low.value
        if rise >= AKI_RISE_MG_DL - EPS:
            return AkiFinding(
                "rise_48h",
                low,
                latest,
                infusion_at,
                f"creatinine rose {rise:.2f} mg/dL in 48 h ({low.value:g} -> {latest.value:g} mg/dL, "
                f">= {AKI_RISE_MG_DL:g})",
            )
    within_7d = [lab for lab in earlier if latest.collected_at - lab.collected_at <= timedelta(days=AKI_BASELINE_DAYS)]
    if within_7d:
        low = min(within_7d, key=lambda lab: lab.value)
        if low.value > 0 and latest.value >= AKI_RATIO * low.value - EPS:
            return AkiFinding(
                "ratio_7d",
                low,
                latest,
                infusion_at,
                f"creatinine {latest.value:g} mg/dL is {latest.value / low.value:.2f} x the lowest of the previous "
                f"7 days ({low.value:g} mg/dL, >= {AKI_RATIO:g} x)",
            )
    return None


def renal_cap(product_name: str) -> tuple[float, bool] | None:
    """(cap mg/kg/min, strict) from the label for renal-risk patients, or None."""
    key = product_key(product_name)
    for name, cap in RENAL_CAP_MG_KG_MIN.items():
        if key.startswith(name):
            return cap, name in RENAL_CAP_STRICT
    return None


def has_sucrose(product_name: str) -> bool:
    return any(product_key(product_name).startswith(name) for name in SUCROSE_PRODUCTS)


def renal_recommendations(f, regimen) -> list[dict]:
    """The renal advice for a renal-risk patient (``f`` is `itrs.facts.Facts`, ``regimen`` the
    order scored, or None): a sucrose-free product, and the product's renal rate cap in
    mg/kg/min and in mL/h for this patient, where its label gives one [R4][R8][R9][R79][R81]."""
    s = f.snapshot
    creat = f.labs.get("creatinine")
    reasons = renal_risk_reasons(
        present_conditions=f.present,
        age=f.age,
        sex=s.sex,
        medications=f.medications,
        today=f.today,
        latest_creatinine=creat,
    )
    if not reasons:
        return []
    product = regimen.product_name if regimen else (f.infusions[-1].product_name if f.infusions else "")
    concentration = (
        regimen.product_concentration_percent
        if regimen
        else (f.infusions[-1].product_concentration_percent if f.infusions else None)
    )
    why = ", ".join(reasons)
    creat_words = (
        f" Latest creatinine {creat.value:g} mg/dL on {creat.collected_at.date().isoformat()}: "
        f"{egfr_words(creat.value, f.age, s.sex)}."
        if creat
        else " No creatinine on file."
    )
    sucrose = has_sucrose(product) if product else False
    text = (
        f"Renal-risk patient ({why}): use a sucrose-free product"
        + (f"; {product} contains sucrose, choose another" if sucrose else "")
        + ", ensure hydration and check creatinine before each course [R4][R10][R79][R81]."
        + creat_words
    )
    recs = [
        {
            "code": "RENAL-SUCROSE-FREE",
            "text": text,
            "renal_risk": reasons,
            "product": product or None,
            "product_contains_sucrose": sucrose,
        }
    ]
    cap = renal_cap(product) if product else None
    if cap is not None:
        mg, strict = cap
        sign = "below" if strict else "at most"
        kg = s.weight_kg
        ml_h = round(ml_h_from_mg_kg_min(mg, concentration, kg), 1) if kg and concentration else None
        how = (
            f" = {ml_h:g} mL/h at {kg:g} kg of a {concentration:g}% product"
            if ml_h is not None
            else " (the mL/h needs a weight and the product concentration)"
        )
        recs.append(
            {
                "code": "RENAL-RATE-CAP",
                "text": f"{product} label for renal-risk patients: infuse {sign} {mg:g} mg/kg/min{how} [R4][R8][R9].",
                "max_mg_kg_min": mg,
                "strict": strict,
                "ml_h": ml_h,
                "weight_kg": kg,
                "concentration_percent": concentration,
                "product": product,
            }
        )
    return recs
