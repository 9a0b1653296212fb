"""The printable haematology summary of one patient (`/staff/patients/{id}/summary/`) and the
haematology part of the patient page: what a haematologist needs on one sheet, read with a fixed
number of queries, every row of this patient only.

Guidance is shown, never decided (`itrs.haematology`): for each VTE its provocation, the CHEST
2021 / ASH 2020 duration framing for it, IVIG on a schedule as a recurring exposure, and the
thrombophilia caveats; antiplatelets are "recorded; no evidence that it lowers IVIG thrombosis
risk" and never lower the score.
"""

from __future__ import annotations

from datetime import date, timedelta

from django.utils import timezone

from itrs import haematology
from patients.models import Patient

from .models import UNRESOLVED
from .selectors import current_assessment

LAB_MONTHS = 12
LAST_INFUSIONS = 10
VENOUS_STATUSES = ("suspected", "confirmed")


def _lab_mark(lab) -> str:
    """H above the lab's upper limit, L below its lower limit (when the lab gave them)."""
    high = getattr(lab, "reference_high", None)
    low = getattr(lab, "reference_low", None)
    if high is not None and lab.value > high:
        return "H"
    if low is not None and lab.value < low:
        return "L"
    return ""


def vte_guidance(events, regimens) -> list[dict]:
    """Per venous thrombosis (suspected or confirmed): the event and what guidance says about it."""
    active = [r for r in regimens if r.end_date is None or r.end_date >= timezone.localdate()]
    rows: dict[tuple, dict] = {}
    for event in events:
        if event.is_arterial or event.status not in VENOUS_STATUSES:
            continue
        key = (event.diagnosed_on, event.provocation, event.status)  # a PE and a DVT found together: one entry
        if key in rows:
            rows[key]["events"].append(event)
        else:
            rows[key] = {"event": event, "events": [event], **haematology.vte_guidance(event, active)}
    return list(rows.values())


def haematology_context(patient: Patient, *, events, regimens) -> dict:
    """What the patient page shows of haematology: the review history and, for each VTE, the
    guidance (from the events and regimens the page has read already: one query more)."""
    reviews = list(patient.haematology_reviews.select_related("reviewer", "flag"))
    return {
        "haematology_reviews": reviews,
        "vte_guidance": vte_guidance(events, regimens),
        "thrombophilia_caveats": haematology.THROMBOPHILIA_CAVEATS,
        "antiplatelet_note": haematology.ANTIPLATELET_NOTE,
    }


def summary_context(patient: Patient, *, today: date | None = None) -> dict:
    today = today or timezone.localdate()
    since = timezone.now() - timedelta(days=round(LAB_MONTHS * 30.44))
    assessment = current_assessment(patient)
    regimens = list(patient.regimens.select_related("product").order_by("-start_date", "-id"))
    for regimen in regimens:
        regimen.active = regimen.is_active_on(today)
    infusions = list(
        patient.infusions.filter(status="administered")
        .select_related("product", "vascular_access")
        .order_by("-started_at", "-id")[:LAST_INFUSIONS]
    )
    events = list(patient.thrombosis_events.select_related("vascular_access").order_by("-diagnosed_on", "-id"))
    medications = list(patient.medications.order_by("-start_date", "-id"))
    labs = list(patient.labs.filter(collected_at__gte=since).order_by("-collected_at", "-id"))
    for lab in labs:
        lab.mark = _lab_mark(lab)
    flags = list(patient.flags.filter(status__in=UNRESOLVED).order_by("priority_rank", "due_at", "id"))
    context = haematology_context(patient, events=events, regimens=regimens)
    return {
        "patient": patient,
        "today": today,
        "generated_at": timezone.now(),
        "assessment": assessment,
        "regimens": regimens,
        "infusions": infusions,
        "events": events,
        "accesses": list(patient.vascular_accesses.order_by("-inserted_on", "-id")),
        "antithrombotics": [m for m in medications if m.category in ("anticoagulant", "antiplatelet")],
        "exposures": [m for m in medications if m.category in ("steroid", "estrogen")],
        "labs": labs,
        "lab_months": LAB_MONTHS,
        "open_flags": flags,
        "sources": _sources(),
        **context,
    }


def _sources() -> list[str]:
    return [
        haematology.CHEST_2021,
        haematology.ASH_2020,
        haematology.ISTH_CRT,
        haematology.BRIGHT_2015,
        haematology.ACF_2016,
        haematology.LMWH_COHORT,
    ]
