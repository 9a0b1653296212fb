"""Symptom codes, triage and the advice a patient sees (docs/symptoms.md; a design proposal).

Symptoms escalate regardless of risk tier: the FDA warning says clots occur without risk factors.
"""

from __future__ import annotations

EMERGENCY = {
    "sudden_breathlessness": "Sudden shortness of breath",
    "chest_pain": "Chest pain or pressure",
    "one_sided_weakness": "Weakness or numbness on one side of the body, or a drooping face",
    "speech_or_vision_loss": "Trouble speaking, or sudden loss of vision",
    "fainting": "Fainting or collapse",
    "coughing_blood": "Coughing up blood",
}
URGENT = {
    "limb_pain_swelling": "Pain or swelling in an arm or leg, often warm",
    "limb_discoloration": "An arm or leg turning red, blue or pale",
    "rapid_pulse": "A fast heartbeat you cannot explain",
    "neck_face_arm_swelling": "New swelling of the neck, face or arm",
    "severe_headache": "A severe new headache",
    "blurred_vision": "New blurred vision",
    # renal half of the boxed warning: acute renal failure after IVIG [R4]
    "reduced_urine_output": "Passing much less urine than usual",
}
ROUTINE = {"other": "Something else"}
RENAL = frozenset({"reduced_urine_output"})  # a kidney warning sign, not a clot sign

ALL = {**EMERGENCY, **URGENT, **ROUTINE}
VENOUS_WINDOW_DAYS = 14  # docs/symptoms.md: venous events mostly days 1-7, windows to day 13-14


def triage(symptoms: list[str]) -> str:
    if any(code in EMERGENCY for code in symptoms):
        return "emergency"
    if any(code in URGENT for code in symptoms):
        return "urgent"
    return "routine"


def advice(level: str, symptoms: list[str], days_since_infusion: int | None) -> str:
    named = "; ".join(ALL[c] for c in symptoms if c in ALL)
    window = ""
    if days_since_infusion is not None and 0 <= days_since_infusion <= VENOUS_WINDOW_DAYS:
        when = "on the day of" if days_since_infusion == 0 else f"{days_since_infusion} day(s) after"
        window = f" This is {when} your last immunoglobulin infusion, when clots are most likely."
    if level == "emergency":
        return (
            "Call emergency services now (999 / 112 / 911). If an infusion is running, stop it. "
            f"Reason: {named} can be a sign of a blood clot in the lungs, heart or brain.{window} "
            "The clinic has been alerted, but do not wait for us to call."
        )
    if level == "urgent":
        clot = "; ".join(ALL[c] for c in symptoms if c in ALL and c not in RENAL)
        kidney = "; ".join(ALL[c] for c in symptoms if c in RENAL)
        signs = " ".join(
            part
            for part in (
                f"{clot} can be a sign of a blood clot." if clot else "",
                f"{kidney} can be a sign that the kidneys are affected by the immunoglobulin." if kidney else "",
            )
            if part
        )
        return (
            f"Seek medical care today. Reason: {signs}{window} "
            "The clinic has been alerted and will contact you. "
            "Call emergency services at once if you become short of breath or get chest pain."
        )
    if not symptoms:  # a check-in answered "I feel fine"
        return (
            "Thank you: we are glad you feel well. "
            "If you get chest pain, sudden breathlessness, one-sided weakness, or a painful swollen arm or leg, "
            "call emergency services or seek care at once."
        )
    return (
        "Thank you: the clinic team will review this at your next contact. "
        "If you get chest pain, sudden breathlessness, one-sided weakness, or a painful swollen arm or leg, "
        "call emergency services or seek care at once."
    )
