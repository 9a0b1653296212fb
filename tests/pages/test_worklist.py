"""The worklist: open flags, most urgent first; acknowledge, snooze and resolve in place
(htmx posts return the updated row); a clear message when two staff act at once."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from patients import services as patient_services
from risk.models import ReviewFlag

pytestmark = pytest.mark.django_db
HTMX = {"HTTP_HX_REQUEST": "true"}


def _order(content: bytes, *texts: str) -> list[int]:
    return [content.index(t.encode()) for t in texts]


def test_lists_open_flags_most_urgent_first(nina_client, patient_pat, patient_quinn, make_flag):
    now = timezone.now()
    make_flag(patient_pat, reason="routine-late", due_at=now + timedelta(days=5))
    make_flag(patient_quinn, reason="routine-soon", due_at=now + timedelta(days=1))
    make_flag(patient_pat, kind="symptom_alert", rule="SYM-URGENT", priority="urgent", reason="urgent-one")
    make_flag(patient_quinn, kind="symptom_alert", rule="SYM-EMERGENCY", priority="emergency", reason="emergency-one")
    make_flag(patient_quinn, kind="viscosity_check", rule="VISCOSITY", status="resolved", reason="resolved-one",
              resolution="completed", resolved_at=now)  # fmt: skip
    response = nina_client.get(reverse("staff:worklist"))
    assert response.status_code == 200
    content = response.content
    positions = _order(content, "emergency-one", "urgent-one", "routine-soon", "routine-late")
    assert positions == sorted(positions)
    assert b"resolved-one" not in content
    assert b"Roe, Quinn" in content and b"MRN-QUINN" in content
    assert "2\xa0hours ago".encode() in content  # age of the flag (timesince uses a no-break space)
    assert b'hx-trigger="every 30s"' in content
    assert response["Cache-Control"].startswith("max-age=0")


def test_filters_by_kind_and_priority(nina_client, patient_pat, patient_quinn, make_flag):
    make_flag(patient_pat, reason="clotting-flag")
    make_flag(patient_quinn, kind="symptom_alert", rule="SYM-URGENT", priority="urgent", reason="symptom-flag")
    by_kind = nina_client.get(reverse("staff:worklist"), {"kind": "symptom_alert"}).content
    assert b"symptom-flag" in by_kind and b"clotting-flag" not in by_kind
    by_priority = nina_client.get(reverse("staff:worklist"), {"priority": "routine"}).content
    assert b"clotting-flag" in by_priority and b"symptom-flag" not in by_priority
    none = nina_client.get(reverse("staff:worklist"), {"priority": "emergency"}).content
    assert b"No open flags match these filters" in none


def test_htmx_refresh_returns_only_the_list(nina_client, patient_pat, make_flag):
    make_flag(patient_pat, reason="the-reason")
    response = nina_client.get(reverse("staff:worklist"), **HTMX)
    assert response.status_code == 200
    assert b"<html" not in response.content
    assert response.content.lstrip().startswith(b'<div id="worklist"')
    assert b"the-reason" in response.content
    assert "HX-Request" in response["Vary"]


def test_empty_worklist_says_so(nina_client):
    assert b"No open flags. Nothing needs review right now." in nina_client.get(reverse("staff:worklist")).content


def test_htmx_acknowledge_returns_the_updated_row(nina_client, nurse_nina, patient_pat, make_flag):
    flag = make_flag(patient_pat)
    response = nina_client.post(reverse("staff:flag_acknowledge", args=[flag.public_id]), {"note": "calling"}, **HTMX)
    assert response.status_code == 200
    body = response.content.decode()
    assert body.lstrip().startswith(f'<tr id="flag-{flag.public_id}"')
    assert "<html" not in body
    assert "Acknowledged." in body and "Acknowledged by Nina" in body
    flag.refresh_from_db()
    assert flag.status == "acknowledged" and flag.acknowledged_by == nurse_nina and flag.note == "calling"


def test_double_acknowledge_shows_who_was_first(nina_client, clinician_carol, patient_pat, make_flag):
    flag = make_flag(patient_pat)
    carol = Client()
    carol.force_login(clinician_carol)
    url = reverse("staff:flag_acknowledge", args=[flag.public_id])
    assert carol.post(url, **HTMX).status_code == 200
    # Nina's page still showed the flag as open; her click arrives second.
    response = nina_client.post(url, **HTMX)
    assert response.status_code == 200
    body = response.content.decode()
    assert "already acknowledged by carol" in body
    assert 'class="row-msg error" role="alert"' in body
    flag.refresh_from_db()
    assert flag.acknowledged_by == clinician_carol


def test_snooze_for_a_week(carol_client, patient_pat, make_flag):
    flag = make_flag(patient_pat)
    response = carol_client.post(reverse("staff:flag_snooze", args=[flag.public_id]), {"duration": "7d"}, **HTMX)
    assert b"Snoozed." in response.content
    flag.refresh_from_db()
    assert flag.status == "snoozed"
    assert abs((flag.snoozed_until - timezone.now()) - timedelta(days=7)) < timedelta(minutes=1)


def test_emergency_flags_cannot_be_snoozed(carol_client, patient_pat, make_flag):
    flag = make_flag(patient_pat, kind="symptom_alert", rule="SYM-EMERGENCY", priority="emergency")
    row = carol_client.get(reverse("staff:worklist")).content.decode()
    assert "Snooze…" not in row  # the button is not offered
    response = carol_client.post(reverse("staff:flag_snooze", args=[flag.public_id]), {"duration": "1d"}, **HTMX)
    assert b"Emergency flags cannot be snoozed." in response.content
    flag.refresh_from_db()
    assert flag.status == "open"


def test_invalid_snooze_choice_is_explained(nina_client, patient_pat, make_flag):
    flag = make_flag(patient_pat)
    response = nina_client.post(reverse("staff:flag_snooze", args=[flag.public_id]), {"duration": "99y"}, **HTMX)
    assert b"Snooze for: Select a valid choice" in response.content
    flag.refresh_from_db()
    assert flag.status == "open"


def test_resolve_with_outcome_and_note(carol_client, clinician_carol, patient_pat, make_flag):
    flag = make_flag(patient_pat, kind="hematology_review", rule="HEM-ROUTINE")
    response = carol_client.post(
        reverse("staff:flag_resolve", args=[flag.public_id]),
        {"resolution": "completed", "note": "seen in clinic"},
        **HTMX,
    )
    body = response.content.decode()
    assert "Resolved." in body and "Resolved: completed by Carol" in body
    assert "Acknowledge</button>" not in body  # no actions left on a resolved row
    flag.refresh_from_db()
    assert (flag.status, flag.resolution, flag.resolved_by, flag.note) == (
        "resolved",
        "completed",
        clinician_carol,
        "seen in clinic",
    )


def test_nurse_can_acknowledge_but_not_snooze_or_resolve(nina_client, patient_pat, make_flag):
    flag = make_flag(patient_pat, kind="hematology_review", rule="HEM-ROUTINE")
    page = nina_client.get(reverse("staff:worklist")).content.decode()
    assert "Acknowledge" in page and "Resolve…" not in page and "Snooze…" not in page
    response = nina_client.post(
        reverse("staff:flag_resolve", args=[flag.public_id]), {"resolution": "completed"}, **HTMX
    )
    assert b"Only a clinician can resolve a flag" in response.content
    flag.refresh_from_db()
    assert flag.status == "open"


def test_without_htmx_the_action_redirects_with_a_message(nina_client, patient_pat, make_flag):
    flag = make_flag(patient_pat)
    response = nina_client.post(reverse("staff:flag_acknowledge", args=[flag.public_id]), follow=True)
    assert response.redirect_chain[-1][0] == reverse("staff:worklist")
    assert b"Acknowledged." in response.content
    again = nina_client.post(reverse("staff:flag_acknowledge", args=[flag.public_id]), follow=True)
    assert b"already acknowledged" in again.content


def test_action_from_the_patient_page_returns_there(nina_client, patient_pat, make_flag):
    flag = make_flag(patient_pat)
    detail = reverse("staff:patient_detail", args=[patient_pat.public_id])
    response = nina_client.post(
        reverse("staff:flag_acknowledge", args=[flag.public_id]), {"context": "patient", "next": detail}
    )
    assert response["Location"] == detail
    offsite = nina_client.post(
        reverse("staff:flag_snooze", args=[flag.public_id]), {"duration": "1d", "next": "https://evil.example/"}
    )
    assert offsite["Location"] == reverse("staff:worklist")


def test_patient_page_row_has_no_patient_column(nina_client, patient_pat, make_flag):
    flag = make_flag(patient_pat)
    response = nina_client.post(
        reverse("staff:flag_acknowledge", args=[flag.public_id]), {"context": "patient"}, **HTMX
    )
    assert b"MRN-PAT" not in response.content


def test_unknown_flag_is_404(nina_client):
    import uuid

    assert nina_client.post(reverse("staff:flag_acknowledge", args=[uuid.uuid4()]), **HTMX).status_code == 404


def test_symptom_report_flag_appears_on_the_worklist(nina_client, patient_pat):
    patient_services.symptom_report_submit(
        actor=patient_pat.user, patient=patient_pat, symptoms=["chest_pain"], source="patient"
    )
    content = nina_client.get(reverse("staff:worklist")).content
    assert b"Emergency" in content and b"chest pain" in content
    assert ReviewFlag.objects.get(patient=patient_pat).priority == "emergency"


@pytest.mark.parametrize("count", [3, 30])
def test_worklist_query_count_is_constant(nina_client, make_user, make_flag, count, django_assert_max_num_queries):
    from datetime import date

    for i in range(count):
        patient = patient_services.patient_create(
            actor=None, mrn=f"W{i:03}", given_name="W", family_name=f"P{i}", date_of_birth=date(1970, 1, 1),
            sex="male", diagnosis="cidp",
        )  # fmt: skip
        make_flag(patient)
    # session, user, count, priority counts, the page of flags, session save (3)
    with django_assert_max_num_queries(8):
        response = nina_client.get(reverse("staff:worklist"))
    assert response.content.count(b'class="flag-row') == count
