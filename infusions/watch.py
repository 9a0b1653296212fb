"""Watch windows and check-ins as pages and the API show them (risk/README.md, "Watch windows").

The rules are `itrs.watch`; this module reads what they need, in a fixed number of queries, and
turns their answers into local dates. Days are local days of the patient's zone
(`patients.site_info.patient_zone`).
"""

from __future__ import annotations

from datetime import datetime, timedelta, tzinfo

from django.db.models import F
from django.db.models.functions import Coalesce
from django.utils import timezone

from itrs import watch
from patients.models import SymptomReport
from patients.site_info import patient_zone

from .models import Infusion

#: how far back an infusion can still hold a window open (day 14, plus a day for time zones)
LOOKBACK = timedelta(days=watch.VENOUS_WINDOW_DAYS + 2)
#: how far back infusions matter to the check-ins (a course of up to a week, then its 14 days)
CHECKIN_LOOKBACK = timedelta(days=watch.VENOUS_WINDOW_DAYS + 10)


def infusion_watch(infusion, zone: tzinfo | None = None) -> dict | None:
    """The windows of an administered infusion (None for a planned or stopped one): the
    exclusive ends as local datetimes, and the last local day of each window."""
    if infusion.status != Infusion.Status.ADMINISTERED or infusion.started_at is None or infusion.entered_in_error:
        return None
    zone = zone or patient_zone(infusion.patient)
    w = watch.watch(infusion.started_at, zone)
    arterial_until = timezone.localtime(w.arterial_until, zone)
    venous_until = timezone.localtime(w.venous_until, zone)
    return {
        "arterial_until": arterial_until,
        "venous_until": venous_until,
        "arterial_last_day": arterial_until.date() - timedelta(days=1),
        "venous_last_day": venous_until.date() - timedelta(days=1),
    }


def recent_starts(patient_id: int, at: datetime, lookback: timedelta = LOOKBACK) -> list[datetime]:
    return list(
        Infusion.objects.filter(
            patient_id=patient_id,
            status=Infusion.Status.ADMINISTERED,
            started_at__lte=at,
            started_at__gte=at - lookback,
        ).values_list("started_at", flat=True)
    )


def current_window(patient, at: datetime | None = None) -> dict | None:
    """ "Day 3 of 14 after your infusion": the venous window the patient is in now, or None."""
    at = at or timezone.now()
    zone = patient_zone(patient)
    starts = recent_starts(patient.pk, at)
    where = watch.window_day(starts, at, zone)
    if where is None or not where.venous:
        return None
    latest = max(starts)
    w = watch.watch(latest, zone)
    return {
        "day": where.day,
        "of": watch.VENOUS_WINDOW_DAYS,
        "arterial": where.arterial,
        "infusion_at": timezone.localtime(latest, zone),
        "arterial_last_day": timezone.localtime(w.arterial_until, zone).date() - timedelta(days=1),
        "venous_last_day": timezone.localtime(w.venous_until, zone).date() - timedelta(days=1),
    }


def given_by_patient(patient_ids, at: datetime) -> dict[int, list[watch.Given]]:
    """Administered infusions of the check-in lookback, per patient, with their regimen's course
    length: one query for any number of patients."""
    rows = (
        Infusion.objects.filter(
            patient_id__in=list(patient_ids),
            status=Infusion.Status.ADMINISTERED,
            started_at__lte=at,
            started_at__gte=at - CHECKIN_LOOKBACK,
        )
        .annotate(course_days=Coalesce(F("regimen__days_per_course"), 1))
        .values_list("patient_id", "started_at", "course_days")
    )
    found: dict[int, list[watch.Given]] = {}
    for pid, started, days in rows:
        found.setdefault(pid, []).append(watch.Given(started, days))
    return found


def checkin_answers_by_patient(patient_ids, at: datetime) -> dict[int, list[datetime]]:
    """When each patient answered a check-in in the lookback: one query."""
    rows = SymptomReport.objects.filter(
        patient_id__in=list(patient_ids),
        kind=SymptomReport.Kind.CHECKIN,
        reported_at__gte=at - CHECKIN_LOOKBACK,
        reported_at__lte=at + timedelta(minutes=10),
    ).values_list("patient_id", "reported_at")
    found: dict[int, list[datetime]] = {}
    for pid, reported in rows:
        found.setdefault(pid, []).append(reported)
    return found


def checkin_due_for(patient, at: datetime | None = None) -> watch.Checkin | None:
    """The check-in the portal offers this patient now (day 1 or 7 after a course), or None."""
    at = at or timezone.now()
    given = given_by_patient([patient.pk], at).get(patient.pk, [])
    if not given:
        return None
    answers = checkin_answers_by_patient([patient.pk], at).get(patient.pk, [])
    return watch.checkin_due(given, answers, at, patient_zone(patient))
