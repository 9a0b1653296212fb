"""E-mail reminders to patients who opted in (risk/README.md, "Reminders").

- **next infusion**: a planned infusion or a regimen's course starting 2 days from today;
- **labs due**: an open `pre_ivig_labs`, `clotting_studies` (or `renal_check`, where that kind
  exists) flag, once per flag due day;
- **check-in due**: the day-1 or day-7 check-in after a course is open and unanswered.

`reminders_plan` (the daily beat job) finds them set-based: a fixed number of queries per chunk
of opted-in patients, never one per patient; it inserts one `PatientReminder` row per patient,
kind and day (a unique constraint: running it twice, or on two workers, sends nothing twice),
then queues `risk.tasks.send_reminder` for every row not sent yet. Sending claims the row
(compare-and-set), records every attempt and failure, and raises on failure so the task retries
with backoff. Local days are those of `patients.site_info.patient_zone`.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from django.conf import settings
from django.core.mail import send_mail
from django.db.models import F
from django.utils import timezone

from infusions.models import Infusion, Regimen
from infusions.watch import checkin_answers_by_patient, given_by_patient
from itrs import watch
from patients.models import Patient
from patients.site_info import clinic_phone, patient_zone

from .models import UNRESOLVED, FlagKind, PatientReminder, ReviewFlag

DAYS_AHEAD = 2
CHUNK = 2000
MAX_ATTEMPTS = 6
#: the flag kinds whose open flag means "blood tests are due" (renal_check once it exists)
LAB_KINDS = tuple(k for k in ("pre_ivig_labs", "clotting_studies", "renal_check") if k in FlagKind.values)
Kind = PatientReminder.Kind


def reminders_plan(now: datetime | None = None) -> list[int]:
    """Write the reminders due today for every opted-in patient (idempotent) and return the ids
    of the rows still to send."""
    now = now or timezone.now()
    zone = patient_zone()
    today = timezone.localtime(now, zone).date()
    opted = Patient.objects.filter(active=True, reminders_opt_in=True, user__is_active=True).exclude(user__email="")
    ids = list(opted.order_by("pk").values_list("pk", flat=True))
    for start in range(0, len(ids), CHUNK):
        chunk = ids[start : start + CHUNK]
        emails = dict(Patient.objects.filter(pk__in=chunk).values_list("pk", "user__email"))
        rows = [
            *_next_infusions(chunk, today, zone),
            *_labs_due(chunk),
            *_checkins_due(chunk, now, zone),
        ]
        PatientReminder.objects.bulk_create(
            [_reminder(pid, kind, on, emails[pid], **words) for pid, kind, on, words in rows],
            batch_size=1000,
            ignore_conflicts=True,
        )
    return list(
        PatientReminder.objects.filter(
            status__in=(PatientReminder.Status.PENDING, PatientReminder.Status.FAILED),
            attempts__lt=MAX_ATTEMPTS,
            on__gte=today - timedelta(days=1),
        ).values_list("pk", flat=True)
    )


def _next_infusions(ids, today, zone):
    ahead = today + timedelta(days=DAYS_AHEAD)
    start = watch.start_of_day(ahead, zone)
    found = {}
    planned = Infusion.objects.filter(
        patient_id__in=ids, status=Infusion.Status.PLANNED, started_at__gte=start, started_at__lt=start + timedelta(1)
    ).values_list("patient_id", "started_at")
    for pid, started in planned:
        found.setdefault(pid, f"at {timezone.localtime(started, zone):%H:%M}")
    regimens = Regimen.objects.filter(patient_id__in=ids, start_date__lte=ahead).exclude(end_date__lt=ahead)
    for regimen in regimens.only("patient_id", "start_date", "end_date", "interval_days"):
        if regimen.course_starts(ahead, 1) == [ahead]:
            found.setdefault(regimen.patient_id, "")
    for pid, time_words in found.items():
        day = f"{ahead:%A %-d %B}" + (f" {time_words}" if time_words else "")
        yield (
            pid,
            Kind.NEXT_INFUSION,
            ahead,
            {
                "subject": "Your next immunoglobulin infusion is in 2 days",
                "text": f"Your next immunoglobulin (IVIG) infusion is planned for {day}. "
                "Drink plenty of fluids the day before unless the clinic told you otherwise.",
            },
        )


def _labs_due(ids):
    if not LAB_KINDS:
        return
    flags = (
        ReviewFlag.objects.filter(patient_id__in=ids, kind__in=LAB_KINDS, status__in=UNRESOLVED)
        .order_by("patient_id", "due_at")
        .values_list("patient_id", "due_at")
    )
    seen = set()
    for pid, due in flags:
        if pid in seen:
            continue
        seen.add(pid)
        on = timezone.localtime(due).date()
        yield (
            pid,
            Kind.LABS_DUE,
            on,
            {
                "subject": "Blood tests are due",
                "text": f"The clinic needs blood tests from you by {on:%A %-d %B}. "
                "Please arrange them, or ask the clinic where to have them taken.",
            },
        )


def _checkins_due(ids, now, zone):
    given = given_by_patient(ids, now)
    answers = checkin_answers_by_patient(list(given), now)
    for pid, infusions in given.items():
        checkin = watch.checkin_due(infusions, answers.get(pid, []), now, zone)
        if checkin is None:
            continue
        yield (
            pid,
            Kind.CHECKIN_DUE,
            timezone.localtime(checkin.opens_at, zone).date(),
            {
                "subject": "How are you since your infusion?",
                "text": f"It is day {checkin.day} after your infusion. Please answer the short check-in on "
                "your ivigtrack page: it asks about the warning signs of a blood clot.",
            },
        )


def _reminder(pid: int, kind: str, on, recipient: str, *, subject: str, text: str) -> PatientReminder:
    phone = clinic_phone()
    call = f" Questions: call the clinic on {phone}." if phone else ""
    body = (
        f"{text}{call}\n\n"
        "If you get chest pain, sudden breathlessness, one-sided weakness, or a painful swollen arm or leg, "
        "call emergency services at once.\n\n"
        "You asked for these reminders; you can turn them off on your ivigtrack page."
    )
    return PatientReminder(patient_id=pid, kind=kind, on=on, recipient=recipient, subject=subject, body=body)


def reminder_send(reminder_id: int) -> PatientReminder | None:
    """Send one reminder once. Claims the row first (pending or failed -> sending), so two
    workers never both send it; records a failure and raises, so the task retries."""
    claimed = PatientReminder.objects.filter(
        pk=reminder_id,
        status__in=(PatientReminder.Status.PENDING, PatientReminder.Status.FAILED),
        attempts__lt=MAX_ATTEMPTS,
    ).update(status=PatientReminder.Status.SENDING, attempts=F("attempts") + 1)
    if not claimed:
        return None
    reminder = PatientReminder.objects.select_related("patient").get(pk=reminder_id)
    if not reminder.patient.reminders_opt_in:  # changed their mind since it was planned
        PatientReminder.objects.filter(pk=reminder_id).update(
            status=PatientReminder.Status.FAILED, attempts=MAX_ATTEMPTS, last_error="The patient opted out."
        )
        return None
    try:
        send_mail(reminder.subject, reminder.body, settings.DEFAULT_FROM_EMAIL, [reminder.recipient])
    except Exception as exc:
        PatientReminder.objects.filter(pk=reminder_id).update(
            status=PatientReminder.Status.FAILED, last_error=f"{type(exc).__name__}: {exc}"[:500]
        )
        raise
    PatientReminder.objects.filter(pk=reminder_id).update(
        status=PatientReminder.Status.SENT, sent_at=timezone.now(), last_error=""
    )
    reminder.refresh_from_db()
    return reminder
