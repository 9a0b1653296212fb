"""Symptom alerts are never lost, merged away or downgraded (docs/review-rules.md): every report
hangs on the patient's one symptom_alert flag, its reason lists them all, a milder one never
lowers it, an urgent or emergency one re-opens it after an acknowledgement and e-mails again
(one e-mail per such report); symptom-reports/ says which flag a report is on and what the
clinic has done with it (`flag`, `clinic_status`); due times match the words.

The clock is frozen (time_machine) and moved between steps; on-commit work (the e-mail, the
re-assessment) runs in-process as it does after a real commit.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from django.db import IntegrityError, transaction
from django.utils import timezone

from ivigtrack.audit.models import AuditEvent
from patients import services as patient_services
from patients.models import SymptomReport
from risk.models import FlagReport, Notification, ReviewFlag
from risk.notify import notify_flag_send
from risk.services import flags as flag_services

pytestmark = [pytest.mark.django_db, pytest.mark.sqlite]

# A Monday morning after every fixture's records (they are written at the real now).
START = (datetime.now(UTC) + timedelta(days=7)).replace(hour=9, minute=0, second=0, microsecond=0)


@pytest.fixture
def clock():
    with time_machine.travel(START, tick=False) as traveller:
        yield traveller


@pytest.fixture
def report(django_capture_on_commit_callbacks, nurse_nina):
    """report(patient, *symptoms, by=nina): a symptom report through the service, committed."""

    def submit(patient, *symptoms, by=None):
        by = by or nurse_nina
        with django_capture_on_commit_callbacks(execute=True):
            return patient_services.symptom_report_submit(
                actor=by, patient=patient, symptoms=list(symptoms), source="patient" if by == patient.user else "staff"
            )

    return submit


def alert(patient) -> ReviewFlag:
    return ReviewFlag.objects.get(patient=patient, kind="symptom_alert", status__in=("open", "acknowledged", "snoozed"))


def notices(flag) -> list[int | None]:
    """The report of each immediate e-mail about this flag, oldest first."""
    rows = Notification.objects.filter(flag=flag, kind="immediate", status="sent").order_by("created_at", "id")
    return list(rows.values_list("report_id", flat=True))


def test_emergency_acknowledged_urgent_emergency_keeps_all_three_and_notifies_twice_more(
    clock, patient_pat, nurse_nina, pat_api, nina_api, django_capture_on_commit_callbacks, mailoutbox
):
    def post(symptom):
        with django_capture_on_commit_callbacks(execute=True):
            response = pat_api.post("/api/v1/symptom-reports/", {"symptoms": [symptom]}, format="json")
        assert response.status_code == 201, response.content
        return response.json()

    first = post("chest_pain")
    flag = alert(patient_pat)
    assert first["flag"] == str(flag.public_id) and first["clinic_status"] == "alerted"
    assert (flag.priority, flag.status, flag.due_at) == ("emergency", "open", START)  # due now

    clock.shift(timedelta(minutes=5))
    acknowledged = nina_api.post(f"/api/v1/flags/{flag.public_id}/acknowledge/", {"note": "calling"}, format="json")
    assert acknowledged.status_code == 200 and acknowledged.json()["status"] == "acknowledged"
    acknowledged_at = timezone.now()

    clock.shift(timedelta(minutes=25))
    second = post("blurred_vision")
    flag.refresh_from_db()
    assert (flag.priority, flag.status) == ("emergency", "open"), "the urgent report re-opens, never lowers"
    assert flag.due_at == START + timedelta(minutes=30)  # an emergency flag again: due now

    clock.shift(timedelta(minutes=10))
    third = post("one_sided_weakness")
    flag.refresh_from_db()
    assert (flag.rule, flag.priority, flag.status) == ("SYM-EMERGENCY", "emergency", "open")
    assert flag.due_at == START + timedelta(minutes=30)  # still open since the second: not moved later

    # all three reports on the one flag and in its reason, newest first
    assert {first["flag"], second["flag"], third["flag"]} == {str(flag.public_id)}
    reports = [SymptomReport.objects.get(public_id=r["id"]) for r in (first, second, third)]
    assert set(flag.reports.all()) == set(reports)
    reason = flag.reason
    assert reason.startswith("3 symptom reports, newest first: emergency on ")
    assert (
        reason.index("weakness or numbness on one side") < reason.index("blurred vision") < reason.index("chest pain")
    )
    assert reason.endswith("Contact the patient now and advise emergency services.")

    # What is counted: the sent immediate e-mails about this flag, one per report. The first
    # report's e-mail went out when it raised the flag; the "two notifications sent" are
    # the two after the acknowledgement, one for each report that came after it.
    assert notices(flag) == [r.pk for r in reports]
    again = Notification.objects.filter(flag=flag, created_at__gt=acknowledged_at)
    assert sorted(again.values_list("report_id", flat=True)) == [reports[1].pk, reports[2].pk]
    assert sum("Symptom alert" in m.subject for m in mailoutbox) == 3

    # every transition audited
    actions = (
        AuditEvent.objects.filter(object_id=str(flag.public_id)).order_by("at", "id").values_list("action", flat=True)
    )
    assert list(actions) == ["flag.raise", "flag.acknowledge", "flag.reopen", "flag.update"]

    # what the patient may be told about each report
    listed = {row["id"]: row["clinic_status"] for row in pat_api.get("/api/v1/symptom-reports/").json()["results"]}
    assert [listed[r["id"]] for r in (first, second, third)] == ["seen", "alerted", "alerted"]


def test_a_milder_report_joins_without_lowering_reopening_or_notifying(clock, report, patient_pat, nurse_nina):
    report(patient_pat, "limb_pain_swelling")
    flag = flag_services.flag_acknowledge(flag=alert(patient_pat), actor=nurse_nina)
    due = flag.due_at
    clock.shift(timedelta(hours=1))
    routine = report(patient_pat, "other", by=patient_pat.user)
    flag.refresh_from_db()
    assert (flag.priority, flag.status, flag.due_at) == ("urgent", "acknowledged", due)
    assert "pain or swelling of an arm or leg" in flag.reason and "other symptoms" in flag.reason
    assert FlagReport.objects.get(report=routine).flag == flag
    assert len(notices(flag)) == 1


def test_a_routine_report_with_no_alert_open_raises_nothing(report, patient_pat, pat_api):
    routine = report(patient_pat, "other", by=patient_pat.user)
    assert not ReviewFlag.objects.filter(kind="symptom_alert").exists()
    (row,) = pat_api.get("/api/v1/symptom-reports/").json()["results"]
    assert row["id"] == str(routine.public_id)
    assert (row["flag"], row["clinic_status"]) == (None, "not_alerted")


def test_an_emergency_escalates_an_open_urgent_alert_and_notifies(clock, report, patient_pat):
    report(patient_pat, "rapid_pulse")
    clock.shift(timedelta(minutes=20))
    report(patient_pat, "sudden_breathlessness", by=patient_pat.user)
    flag = alert(patient_pat)
    assert (flag.rule, flag.priority, flag.status) == ("SYM-EMERGENCY", "emergency", "open")
    assert flag.escalated_at == flag.due_at == START + timedelta(minutes=20)
    assert len(notices(flag)) == 2
    assert AuditEvent.objects.filter(action="flag.escalate", object_id=str(flag.public_id)).exists()


def test_a_second_report_on_an_alert_nobody_has_acknowledged_is_listed_not_e_mailed(clock, report, patient_pat):
    report(patient_pat, "chest_pain", by=patient_pat.user)
    report(patient_pat, "chest_pain", by=patient_pat.user)  # a double tap
    flag = alert(patient_pat)
    assert flag.reports.count() == 2 and flag.reason.startswith("2 symptom reports")
    assert len(notices(flag)) == 1


def test_an_urgent_report_reopens_a_snoozed_alert(clock, report, patient_pat, clinician_carol):
    report(patient_pat, "severe_headache")
    flag_services.flag_snooze(
        flag=alert(patient_pat),
        actor=clinician_carol,
        until=START + timedelta(days=2),
        reason="seen in clinic",
        past_due_ok=True,
    )
    clock.shift(timedelta(hours=6))  # 15:00: 4 hours is later than the end of the working day
    report(patient_pat, "neck_face_arm_swelling")
    flag = alert(patient_pat)
    assert (flag.status, flag.snoozed_until, flag.priority) == ("open", None, "urgent")
    assert flag.due_at == START + timedelta(hours=10)
    assert len(notices(flag)) == 2


def test_after_a_resolution_the_next_report_raises_a_new_alert(report, patient_pat, clinician_carol):
    first = report(patient_pat, "chest_pain")
    old = flag_services.flag_resolve(flag=alert(patient_pat), actor=clinician_carol, resolution="completed")
    second = report(patient_pat, "blurred_vision")
    new = alert(patient_pat)
    assert new != old and new.priority == "urgent"
    assert list(old.reports.all()) == [first] and list(new.reports.all()) == [second]


def test_urgent_alerts_are_due_by_the_end_of_the_local_working_day(clock, report, patient_pat, settings):
    settings.TIME_ZONE = "Australia/Sydney"  # START is 09:00 UTC: 19:00 or 20:00 in Sydney
    settings.IVIGTRACK_REVIEW = {"working_day_ends": "22:00", "same_day_min_hours": 1}
    report(patient_pat, "limb_discoloration")
    flag = alert(patient_pat)
    local = timezone.localtime(flag.due_at)
    assert (local.hour, local.minute) == (22, 0) and local.date() == timezone.localtime(START).date()
    assert " AE" in flag.reason  # the time in the reason is local too (AEST or AEDT)


def test_notices_per_report_and_per_priority_are_each_sent_once(report, patient_pat, make_flag, mailoutbox):
    raised = report(patient_pat, "chest_pain")
    flag = alert(patient_pat)
    assert notify_flag_send(flag.pk, raised.pk).status == "sent"  # again: the same row, no second e-mail
    assert Notification.objects.filter(flag=flag).count() == 1
    assert sum("Symptom alert" in m.subject for m in mailoutbox) == 1
    # a rule flag keeps one notice per priority, and a notice row without a report stays valid
    rule_flag = make_flag(patient_pat, kind="hematology_review", rule="HEM-URGENT", priority="urgent")
    assert notify_flag_send(rule_flag.pk).report_id is None
    notify_flag_send(rule_flag.pk)
    assert Notification.objects.filter(flag=rule_flag).count() == 1
    with pytest.raises(IntegrityError), transaction.atomic():
        Notification.objects.create(flag=flag, report=raised, priority="emergency", subject="twice")
    with pytest.raises(IntegrityError), transaction.atomic():
        Notification.objects.create(flag=rule_flag, priority="urgent", subject="twice")


@pytest.mark.parametrize("n", [2, 12])
def test_the_symptom_report_list_reads_its_flags_in_the_same_query(
    n, report, patient_pat, nina_api, django_assert_max_num_queries
):
    for i in range(n):
        report(patient_pat, "chest_pain" if i % 3 else "other")
    nina_api.get("/api/v1/symptom-reports/")  # warm the token and content types
    # token, sites, COUNT, the page with its flags, the audit row and the patients it showed (one insert)
    with django_assert_max_num_queries(6):
        rows = nina_api.get("/api/v1/symptom-reports/").json()["results"]
    assert len(rows) == n and all(row["flag"] for row in rows[:-1])


def test_the_migration_links_each_stored_alert_to_the_report_its_evidence_names(
    patient_pat, patient_quinn, nurse_nina, make_flag
):
    import importlib

    from django.apps import apps

    migration = importlib.import_module("risk.migrations.0004_symptom_flag_reports")
    named = patient_services.symptom_report_submit(actor=nurse_nina, patient=patient_pat, symptoms=["other"])
    flag = make_flag(patient_pat, kind="symptom_alert", rule="SYM-URGENT", evidence={"report": str(named.public_id)})
    make_flag(patient_quinn, kind="symptom_alert", rule="SYM-URGENT", evidence={"report": "not-a-uuid"})
    migration.link_named_reports(apps, None)
    migration.link_named_reports(apps, None)  # twice: nothing doubled
    assert list(FlagReport.objects.values_list("flag_id", "report_id")) == [(flag.pk, named.pk)]
