"""Urgent and emergency flags e-mail the patient's care team first, then their site's alert list,
never another site's; the routine digest is one e-mail per site, to that site."""

from __future__ import annotations

import pytest

from patients import services as patient_services
from risk.notify import notify_flag_send, routine_digest_send
from tests import factories

pytestmark = pytest.mark.django_db


def test_an_urgent_flag_mails_the_care_team_then_the_site_not_another_site(
    main_site, far_site, clinician_carol, nurse_nina, make_user, patient_pat, patient_fred, mailoutbox
):
    main_site.alert_emails = "main-oncall@clinic.test"
    main_site.save()
    make_user("other", "nurse")  # main-site staff outside the care team: the site list stands for them
    patient_services.patient_update(actor=clinician_carol, patient=patient_pat, care_team=[nurse_nina])
    note = notify_flag_send(factories.make_urgent_flag(patient_pat).pk)
    assert note.recipients == ["nina@clinic.test", "main-oncall@clinic.test"]
    assert mailoutbox[-1].to == ["nina@clinic.test", "main-oncall@clinic.test"]
    assert "MRN-PAT" in mailoutbox[-1].subject
    far = notify_flag_send(factories.make_urgent_flag(patient_fred, priority="emergency").pk)
    assert far.recipients == ["far-oncall@clinic.test"]  # the far site's list, no main-site address


def test_a_site_without_an_alert_list_mails_its_own_staff(main_site, far_site, clinician_finn, nurse_nina,
                                                           patient_fred, mailoutbox, settings):  # fmt: skip
    settings.STAFF_ALERT_EMAILS = ["network@clinic.test"]
    far_site.alert_emails = ""
    far_site.save()
    note = notify_flag_send(factories.make_urgent_flag(patient_fred).pk)
    assert note.recipients == ["finn@clinic.test", "network@clinic.test"]
    assert "nina@clinic.test" not in mailoutbox[-1].to


def test_the_due_time_is_written_in_the_sites_zone(far_site, patient_fred, mailoutbox):
    from datetime import UTC, datetime

    notify_flag_send(factories.make_urgent_flag(patient_fred, due_at=datetime(2026, 1, 15, 1, 0, tzinfo=UTC)).pk)
    assert "Due: 2026-01-15 12:00 AEDT (Australia/Sydney)" in mailoutbox[-1].body


def test_the_routine_digest_is_one_mail_per_site(main_site, far_site, patient_pat, patient_fred, nurse_nina,
                                                  mailoutbox):  # fmt: skip
    main_site.alert_emails = "main-oncall@clinic.test"
    main_site.save()
    factories.make_flag(patient_pat)
    factories.make_flag(patient_fred)
    routine_digest_send()
    sent = {tuple(m.to): m.body for m in mailoutbox}
    assert set(sent) == {("main-oncall@clinic.test",), ("far-oncall@clinic.test",)}
    assert "MRN-PAT" in sent[("main-oncall@clinic.test",)] and "MRN-FRED" not in sent[("main-oncall@clinic.test",)]
    assert "MRN-FRED" in sent[("far-oncall@clinic.test",)] and "MRN-PAT" not in sent[("far-oncall@clinic.test",)]
