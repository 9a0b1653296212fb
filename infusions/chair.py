"""The chair check for an administered infusion (risk/README.md, "Chair check"): the maximum
rate for this product and concentration on the order's dosing weight (`itrs.chair`), hydration,
labs due, open urgent flags and the risk at this infusion, and the nurse's answers stored as
``Infusion.precautions``.

Flags and risk live one app up (risk): they are read through the reverse relations of the
patient (``flags``, ``assessments``) and the infusion (``risk``), never imported.
"""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.utils import timezone

from itrs import chair

PRECAUTIONS = {
    "hydration_given": "Hydration given before the infusion",
    "rate_within_cap": "Rate kept within the applicable cap",
    "labs_current": "Pre-infusion labs current",
}
ANSWERS = ("yes", "no", "na")
LAB_KINDS = ("pre_ivig_labs", "clotting_studies", "renal_check")
RENAL_CONDITIONS = frozenset(
    {"renal_impairment", "diabetes", "volume_depletion", "acute_infection_or_sepsis", "paraproteinemia"}
)


def clean_precautions(value) -> dict:
    """``{"hydration_given": "yes", ...}``: known keys, each yes | no | na (a 400 / form error else)."""
    if value in (None, ""):
        return {}
    if not isinstance(value, dict):
        raise ValidationError({"precautions": ['Give an object of answers, e.g. {"hydration_given": "yes"}.']})
    errors = []
    for key, answer in value.items():
        if key not in PRECAUTIONS:
            errors.append(f"Unknown precaution {key!r}; known: {', '.join(PRECAUTIONS)}.")
        elif answer not in ANSWERS:
            errors.append(f"{key}: answer yes, no or na.")
    if errors:
        raise ValidationError({"precautions": errors})
    return dict(value)


def dosing_weight(patient, regimen) -> tuple[float | None, str]:
    basis = getattr(regimen, "dosing_weight", "actual") or "actual"
    weight = {
        "actual": patient.weight_kg,
        "ideal": patient.ideal_body_weight,
        "adjusted": patient.adjusted_body_weight,
    }.get(basis)
    return (float(weight) if weight else None), basis


def _current_risk(infusion):
    # A query, not the `risk` accessor: a missing row read through the accessor is cached on the
    # instance, and the caller's infusion would then never see the risk recorded on commit.
    risk_model = infusion._meta.get_field("risk").related_model
    risk = risk_model.objects.filter(infusion_id=infusion.pk).first() if infusion.pk else None
    if risk is not None:
        return {"score": risk.score, "tier": risk.tier, "ruleset": risk.ruleset, "factors": risk.factors, "at": "start"}
    current = infusion.patient.assessments.filter(is_current=True).first()
    if current is None:
        return None
    return {
        "score": current.score,
        "tier": current.tier,
        "ruleset": current.ruleset,
        "factors": current.factors,
        "at": "current",
    }


def renal_reasons(patient, on) -> list[str]:
    codes = set(
        patient.conditions.filter(code__in=RENAL_CONDITIONS)
        .exclude(resolved_date__lt=on)
        .values_list("code", flat=True)
    )
    reasons = [c.replace("_", " ") for c in sorted(codes)]
    if patient.age_on(on) > 65:
        reasons.append(f"age {patient.age_on(on)} (> 65)")
    if patient.medications.filter(category="diuretic", start_date__lte=on).exclude(end_date__lt=on).exists():
        reasons.append("a current diuretic")
    return reasons


def chair_check(infusion) -> dict:
    """Every figure of the chair check for this (possibly unsaved) infusion, JSON-ready."""
    patient = infusion.patient
    product = infusion.product if infusion.product_id else getattr(infusion.regimen, "product", None)
    regimen = infusion.regimen if infusion.regimen_id else None
    on = timezone.localdate(infusion.started_at) if infusion.started_at else timezone.localdate()
    weight, basis = dosing_weight(patient, regimen)
    risk = _current_risk(infusion)
    at_risk = [f["label"] for f in (risk or {}).get("factors", []) if f.get("fda_listed")]
    renal_max = getattr(product, "renal_max_rate_mg_kg_min", None) if product else None
    renal = renal_reasons(patient, on) if renal_max else []
    concentration = float(product.concentration_percent) if product else None
    label = product.label_max_rate(getattr(regimen, "indication", None) or patient.diagnosis) if product else None
    found = (
        chair.caps(
            concentration_percent=concentration,
            weight_kg=weight,
            label_max=label,
            at_risk_because=at_risk,
            renal_max=float(renal_max) if renal_max else None,
            renal_because=renal,
        )
        if product
        else []
    )
    given = (
        chair.given_rate(infusion.max_rate_mg_kg_min, infusion.max_rate_ml_h, concentration, weight)
        if product
        else None
    )
    above = chair.above_cap(given, found)
    open_flags = patient.flags.filter(status__in=("open", "acknowledged", "snoozed"))
    return {
        "product": product.name if product else None,
        "concentration_percent": concentration,
        "dosing_weight_kg": round(weight, 1) if weight else None,
        "dosing_weight": basis,
        "caps": [c.as_dict() for c in found],
        "max_rate": found[0].as_dict() if found else None,
        "given_rate_mg_kg_min": given,
        "above_cap": above.as_dict() if above else None,
        "hydration": (
            "Ensure adequate hydration before the infusion (volume by local protocol) [R1]; "
            + ("the patient has FDA-listed risk factors." if at_risk else "advised for every infusion.")
        ),
        "labs_due": [
            {"kind": k, "rule": r, "reason": why, "due_at": due.isoformat()}
            for k, r, why, due in open_flags.filter(kind__in=LAB_KINDS).values_list("kind", "rule", "reason", "due_at")
        ],
        "urgent_flags": [
            {"kind": k, "rule": r, "priority": p, "reason": why}
            for k, r, p, why in open_flags.filter(priority__in=("emergency", "urgent")).values_list(
                "kind", "rule", "priority", "reason"
            )
        ],
        "risk": None if risk is None else {k: risk[k] for k in ("score", "tier", "ruleset", "at")},
    }
