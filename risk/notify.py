"""Staff e-mail about flags: at once for emergency and urgent, a daily digest for routine.

Every attempt is recorded in Notification (what was sent, to whom, what failed), so staff can
see it; the flag itself is durable in the database, so a lost e-mail never hides a flag.
"""

from __future__ import annotations

from datetime import timedelta

from django.conf import settings
from django.core.mail import send_mail
from django.db import IntegrityError, transaction
from django.utils import timezone

from .models import Notification, ReviewFlag


def _staff_emails(users) -> list[str]:
    return list(
        users.filter(is_active=True, role__in=("clinician", "nurse"))
        .exclude(email="")
        .order_by("username")
        .values_list("email", flat=True)
    )


def _in_order(*groups) -> list[str]:
    """The addresses of the groups, each once, in the order given."""
    return list(dict.fromkeys(address for group in groups for address in group))


def site_recipients(site) -> list[str]:
    """Everyone of one site who hears about its patients' flags: the site's alert list; if it has
    none, its staff members (and the network's STAFF_ALERT_EMAILS). Never another site's staff."""
    if site.alert_email_list:
        return site.alert_email_list
    return _in_order(_staff_emails(site.staff.all()), settings.STAFF_ALERT_EMAILS)


def flag_recipients(flag: ReviewFlag) -> list[str]:
    """An urgent or emergency flag's e-mail goes to the patient's care team first, then to their
    site's recipients (site_recipients): never to another site."""
    return _in_order(_staff_emails(flag.patient.care_team.all()), site_recipients(flag.site))


def notify_flag_send(flag_id: int, report_id: int | None = None) -> Notification | None:
    """Send the immediate e-mail for a flag once: for its current priority (a rule flag raised or
    escalated), or for one symptom report on it (``report_id``: symptom alerts notify per report).
    Raises on a send failure (after recording it) so the task can retry with backoff."""
    flag = ReviewFlag.objects.select_related("patient", "site").filter(pk=flag_id).first()
    if flag is None or flag.priority not in ("emergency", "urgent") or flag.status == "resolved":
        return None
    once = {"flag": flag, "kind": "immediate"}
    once.update({"report_id": report_id} if report_id else {"priority": flag.priority, "report": None})
    try:
        with transaction.atomic():
            note, _ = Notification.objects.get_or_create(
                **once,
                defaults={"priority": flag.priority, "subject": _subject(flag), "recipients": flag_recipients(flag)},
            )
    except IntegrityError:  # a concurrent task created it
        note = Notification.objects.get(**once)
    if note.status == Notification.Status.SENT:
        return note
    Notification.objects.filter(pk=note.pk).update(attempts=note.attempts + 1)
    try:
        send_mail(note.subject, _body(flag), settings.DEFAULT_FROM_EMAIL, note.recipients or flag_recipients(flag))
    except Exception as exc:
        Notification.objects.filter(pk=note.pk).update(status="failed", last_error=f"{type(exc).__name__}: {exc}"[:500])
        raise
    Notification.objects.filter(pk=note.pk).update(status="sent", sent_at=timezone.now(), last_error="")
    ReviewFlag.objects.filter(pk=flag.pk).update(notified_priority=flag.priority)
    note.refresh_from_db()
    return note


def routine_digest_send() -> Notification | None:
    """Per site, one e-mail to that site's recipients listing its routine flags raised in the last
    day that were not sent yet. Returns the last digest sent (None if there was nothing)."""
    since = timezone.now() - timedelta(days=1)
    flags = list(
        ReviewFlag.objects.select_related("patient", "site")
        .filter(priority="routine", status__in=("open", "acknowledged"), raised_at__gte=since, notified_priority="")
        .order_by("site_id", "due_at")[:5000]
    )
    by_site: dict[int, list[ReviewFlag]] = {}
    for flag in flags:
        by_site.setdefault(flag.site_id, []).append(flag)
    note = None
    for site_flags in by_site.values():
        note = _digest_send(site_flags[:500])
    return note


def _digest_send(flags: list[ReviewFlag]) -> Notification:
    site = flags[0].site
    lines = [f"- {f.patient.mrn}: {f.get_kind_display()} ({f.rule}) — {f.reason}" for f in flags]
    note = Notification.objects.create(
        kind="digest",
        priority="routine",
        subject=f"ivigtrack {site.code}: {len(flags)} routine review item(s)",
        recipients=site_recipients(site),
    )
    try:
        send_mail(note.subject, "\n".join(lines), settings.DEFAULT_FROM_EMAIL, note.recipients)
    except Exception as exc:
        Notification.objects.filter(pk=note.pk).update(status="failed", attempts=1, last_error=str(exc)[:500])
        raise
    Notification.objects.filter(pk=note.pk).update(status="sent", attempts=1, sent_at=timezone.now())
    ReviewFlag.objects.filter(pk__in=[f.pk for f in flags]).update(notified_priority="routine")
    return note


def _subject(flag: ReviewFlag) -> str:
    return f"[{flag.priority.upper()}] ivigtrack: {flag.get_kind_display()} for {flag.patient.mrn}"


def _body(flag: ReviewFlag) -> str:
    # MRN only: no names or dates of birth in e-mail.
    return (
        f"Patient MRN {flag.patient.mrn}\n"
        f"{flag.get_kind_display()} — rule {flag.rule}, priority {flag.priority}\n"
        f"Why: {flag.reason}\n"
        f"Due: {timezone.localtime(flag.due_at, flag.site.zone):%Y-%m-%d %H:%M %Z} ({flag.site.time_zone})\n\n"
        "Open the worklist in ivigtrack to acknowledge, snooze or resolve."
    )
