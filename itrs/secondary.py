"""Padua (2010) and Caprini (2005) from the same structured fields, for comparison only.

Pure: no Django. Each function takes the engine's `Facts` (the snapshot as it stood at
``as_of``, built by ``itrs.facts.read_facts``) so "present", "recent" and "confirmed" mean
exactly what they mean in ITRS-v0. Neither score feeds the ITRS tier.

Only items our fields support are scored; the rest are listed in ``not_assessed`` (so a low
secondary score never reads as "none of the other items apply"). Inputs that exist as fields
but are empty (weight, height) are listed in ``missing``.
"""

from __future__ import annotations

from itrs.facts import Facts

NOTE = "secondary score for comparison, not used for the tier"
RECENT_DAYS = 30  # "<1 month" / "recent"
ACUTE_ARTERIAL = frozenset({"mi", "ischemic_stroke"})

PADUA_NOT_ASSESSED = (
    "respiratory failure",
    "acute rheumatologic disorder",
    "hormonal treatment other than estrogen",
)
CAPRINI_NOT_ASSESSED = (
    "minor surgery planned",
    "arthroscopic or laparoscopic surgery",
    "history of major surgery (<1 month), beyond the major surgery/trauma record",
    "varicose veins",
    "inflammatory bowel disease",
    "swollen legs",
    "serious lung disease or pneumonia (<1 month)",
    "abnormal pulmonary function (COPD)",
    "obstetric history (stillbirth, recurrent abortion, toxaemia)",
    "immobilising plaster cast",
    "family history of thrombosis",
    "each thrombophilia test separately (one 'known thrombophilia' record scores 3 once)",
    "elevated homocysteine",
    "heparin-induced thrombocytopenia",
    "elective lower-limb arthroplasty",
    "hip, pelvis or leg fracture",
    "acute spinal cord injury",
    "multiple trauma",
)


def _bmi_missing(f: Facts, item: str) -> list[str]:
    if f.bmi is not None:
        return []
    s = f.snapshot
    names = [n for n, v in (("weight", s.weight_kg), ("height", s.height_cm)) if not v]
    return [f"{' and '.join(names)}: {item}"]


def _result(name, version, population, items, band, not_assessed, missing) -> dict:
    return {
        "name": name,
        "version": version,
        "population": population,
        "score": sum(points for _, points in items),
        "band": band(sum(points for _, points in items)),
        "items": [{"label": label, "points": points} for label, points in items],
        "not_assessed": list(not_assessed),
        "missing": missing,
        "note": NOTE,
    }


def padua(f: Facts) -> dict:
    """Padua Prediction Score (Barbar et al. 2010) [R40]: high risk at 4 or more."""
    items: list[tuple[str, int]] = []
    if f.has("active_cancer"):
        items.append(("Active cancer", 3))
    if f.confirmed(venous=True):
        items.append(("Previous VTE", 3))
    if f.has("bedbound"):
        items.append(("Reduced mobility (bed rest >=3 days)", 3))
    if f.has("thrombophilia", "thrombophilia_high_risk"):
        items.append(("Known thrombophilic condition", 3))
    if f.onset_within("major_surgery_or_trauma", RECENT_DAYS):
        items.append(("Recent (<=1 month) trauma and/or surgery", 2))
    if f.age >= 70:
        items.append((f"Age {f.age} (>=70)", 1))
    if f.has("heart_failure"):
        items.append(("Heart failure", 1))
    if f.confirmed_within(RECENT_DAYS, ACUTE_ARTERIAL):
        items.append(("Acute myocardial infarction or ischaemic stroke", 1))
    if f.has("acute_infection_or_sepsis"):
        items.append(("Acute infection", 1))
    if f.bmi is not None and f.bmi >= 30:
        items.append((f"Obesity (BMI {f.bmi:g})", 1))
    if f.active_meds("estrogen"):
        items.append(("Ongoing hormonal treatment (estrogen)", 1))
    return _result(
        "Padua",
        "2010",
        "hospitalised medical patients",
        items,
        lambda score: "high" if score >= 4 else "low",
        PADUA_NOT_ASSESSED,
        _bmi_missing(f, "obesity (BMI >=30)"),
    )


def _caprini_band(score: int) -> str:
    if score >= 5:
        return "highest"
    if score >= 3:
        return "high"
    if score == 2:
        return "moderate"
    return "low"


def caprini(f: Facts) -> dict:
    """Caprini RAM, 2005 version [R41]: 0-1 low, 2 moderate, 3-4 high, 5+ highest."""
    items: list[tuple[str, int]] = []
    if f.age >= 75:
        items.append((f"Age {f.age} (>=75)", 3))
    elif f.age >= 61:
        items.append((f"Age {f.age} (61-74)", 2))
    elif f.age >= 41:
        items.append((f"Age {f.age} (41-60)", 1))
    if f.bmi is not None and f.bmi > 25:
        items.append((f"Obesity (BMI {f.bmi:g} >25)", 1))
    if f.confirmed_within(RECENT_DAYS, frozenset({"mi"})):
        items.append(("Acute myocardial infarction", 1))
    if f.has("heart_failure"):
        items.append(("Congestive heart failure", 1))
    if f.present_within("acute_infection_or_sepsis", RECENT_DAYS):
        items.append(("Sepsis or acute infection (<1 month)", 1))
    if f.has("bedbound"):
        items.append(("Confined to bed (>72 h)", 2))
    elif f.has("reduced_mobility"):
        items.append(("Reduced mobility (scored as 'medical patient at bed rest')", 1))
    if f.active_meds("estrogen"):
        items.append(("Oral contraceptive or hormone replacement", 1))
    if f.has("pregnancy_postpartum"):
        items.append(("Pregnancy or post-partum", 1))
    if any(c.code == "active_cancer" for c in f.conditions):
        items.append(("Malignancy (present or previous)", 2))
    if f.onset_within("major_surgery_or_trauma", RECENT_DAYS):
        items.append(("Major surgery (>45 min) or trauma (<1 month)", 2))
    if f.accesses:
        items.append(("Central venous access", 2))
    if f.confirmed(venous=True):
        items.append(("History of DVT/PE", 3))
    if f.has("thrombophilia", "thrombophilia_high_risk"):
        items.append(("Known thrombophilia", 3))
    if f.confirmed_within(RECENT_DAYS, frozenset({"ischemic_stroke"})):
        items.append(("Stroke (<1 month)", 5))
    return _result(
        "Caprini",
        "2005",
        "surgical patients (also used in hospitalised patients)",
        items,
        _caprini_band,
        CAPRINI_NOT_ASSESSED,
        _bmi_missing(f, "obesity (BMI >25)"),
    )


def secondary_scores(f: Facts) -> dict:
    return {"padua": padua(f), "caprini": caprini(f)}
