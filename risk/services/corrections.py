"""A symptom report entered in error (`ivigtrack.corrections`) and the alert it raised.

Symptom alerts are closed by a person, not by the sweep, so this is the one place an alert is
closed for them: when no report left on the unresolved ``symptom_alert`` flag still needs action
(every urgent or emergency report on it was entered in error), the flag is resolved as
``superseded`` with a note naming the report and the reason. Otherwise the flag stays as it is
(never downgraded) and its reason is rewritten from the reports that remain. Rule-owned flags
need nothing here: the on-commit re-assessment closes them as lapsed when their rule stops
holding, as it does for any other change.
"""

from __future__ import annotations

from django.utils import timezone

from itrs import review
from ivigtrack.audit.services import audit_record
from risk.models import UNRESOLVED, FlagKind, ReviewFlag
from risk.review_settings import review_settings
from risk.services.flags import _symptom_snap
from risk.watch import watch_context


def report_marked(report, *, actor) -> None:
    flag = (
        ReviewFlag.objects.select_for_update()
        .filter(kind=FlagKind.SYMPTOM_ALERT, status__in=UNRESOLVED, report_links__report_id=report.pk)
        .first()
    )
    if flag is None:
        return
    remaining = list(flag.reports.order_by("-reported_at", "-id"))  # without the report entered in error
    spec = None
    if remaining:
        tier, starts = watch_context(report.patient_id, remaining[0].reported_at)
        spec = review.symptom_flag(
            [_symptom_snap(r) for r in remaining],
            review_settings(),
            tier=tier,
            infusion_starts=starts,
            zone=timezone.get_current_timezone(),
        )
    when = timezone.localtime(report.reported_at).strftime("%Y-%m-%d %H:%M")
    detail = {"report": str(report.public_id), "reason": report.entered_in_error_reason}
    if spec is None:
        note = (
            f"Closed: the symptom report of {when} that raised this alert was entered in error "
            f"({report.entered_in_error_reason})."
        )
        won = ReviewFlag.objects.filter(pk=flag.pk, status__in=UNRESOLVED).update(
            status="resolved",
            resolution="superseded",
            resolved_at=timezone.now(),
            resolved_by=actor if getattr(actor, "pk", None) else None,
            note=note,
        )
        if won:
            detail = {"resolution": "superseded", "note": note, **detail}
            audit_record(actor=actor, action="flag.resolve", obj=flag, detail=detail)
        return
    ReviewFlag.objects.filter(pk=flag.pk).update(reason=spec.reason, evidence={**flag.evidence, **spec.evidence})
    audit_record(actor=actor, action="flag.update", obj=flag, detail={"rule": flag.rule, **detail})
