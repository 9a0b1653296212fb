"""The worklist: one group of rows per patient with all their open flags, patients most urgent
first; search, sort, filters, a capped total, bulk acknowledge; acknowledge, snooze and resolve in
place (htmx posts return the updated row); a clear message when two staff act at once."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from patients import services as patient_services
from risk.models import ReviewFlag

pytestmark = [pytest.mark.django_db, pytest.mark.sqlite]
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
    # Quinn first (an emergency), with all of Quinn's open flags; then Pat (urgent) with Pat's
    positions = _order(content, "Roe, Quinn", "emergency-one", "routine-soon", "Doe, Pat", "urgent-one", "routine-late")
    assert positions == sorted(positions)
    assert content.count(b'class="patient-group"') == 2
    assert b"resolved-one" not in content
    assert b"MRN-QUINN" in content and b"2 open flags" in content
    assert b"Patients 1\xe2\x80\x932 of 2" in content
    assert "2\xa0hours ago".encode() in content  # age of the flag (timesince uses a no-break space)
    assert b'hx-trigger="every 30s, refresh"' in content
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
    # v2 (DESIGN §6a): a snooze needs a reason, and this flag is due tomorrow, so a week needs the
    # "I mean it" box ticked.
    flag = make_flag(patient_pat)
    body = {"duration": "7d", "reason": "patient on holiday", "past_due_ok": "on"}
    response = carol_client.post(reverse("staff:flag_snooze", args=[flag.public_id]), body, **HTMX)
    assert b"Snoozed." in response.content
    flag.refresh_from_db()
    assert flag.status == "snoozed" and flag.snooze_reason == "patient on holiday"
    assert abs((flag.snoozed_until - timezone.now()) - timedelta(days=7)) < timedelta(minutes=1)
    assert "because: patient on holiday" in response.content.decode()
    assert "Un-snooze" in response.content.decode()


def test_snooze_needs_a_reason_and_a_tick_past_the_due_date(carol_client, patient_pat, make_flag):
    flag = make_flag(patient_pat)  # due tomorrow
    url = reverse("staff:flag_snooze", args=[flag.public_id])
    no_reason = carol_client.post(url, {"duration": "1d"}, **HTMX).content.decode()
    assert "Say why the flag is snoozed." in no_reason
    past_due = carol_client.post(url, {"duration": "7d", "reason": "holiday"}, **HTMX).content.decode()
    due = timezone.localtime(flag.due_at)
    assert f"This flag is due {due:%d %b %Y %H:%M}" in past_due
    flag.refresh_from_db()
    assert flag.status == "open"


def test_unsnooze_button_brings_the_flag_back(carol_client, patient_pat, make_flag):
    flag = make_flag(patient_pat, status="snoozed", snoozed_until=timezone.now() + timedelta(hours=5))
    response = carol_client.post(reverse("staff:flag_unsnooze", args=[flag.public_id]), **HTMX)
    assert b"Back on the worklist." in response.content
    flag.refresh_from_db()
    assert (flag.status, flag.snoozed_until) == ("open", None)


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
    flag = make_flag(patient_pat, kind="clotting_studies", rule="CLOT-BASELINE")
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
    # session, user, the user's sites, capped open counts (one per priority: 3), the patients of the
    # page, their flags, the capped total of patients, session save (3)
    with django_assert_max_num_queries(12):
        response = nina_client.get(reverse("staff:worklist"))
    assert response.content.count(b'class="flag-row') == count
    assert response.content.count(b'class="patient-group"') == count


# --- one shared action form and one dialog per page ----------------------------------------


def test_rows_share_one_action_form(carol_client, patient_pat, patient_quinn, make_flag):
    flags = [make_flag(patient_pat), make_flag(patient_quinn, kind="symptom_alert", rule="SYM-URGENT")]
    body = carol_client.get(reverse("staff:worklist")).content.decode()
    assert body.count('id="flag-actions"') == 1 and body.count('id="flag-dialog"') == 1
    table = body[body.index('<table class="table flags grouped">') : body.index("</table>")]
    assert "<form" not in table and "csrfmiddlewaretoken" not in table  # no per-row forms or tokens
    for flag in flags:
        url = reverse("staff:flag_acknowledge", args=[flag.public_id])
        assert f'id="ack-{flag.public_id}" form="flag-actions" formaction="{url}" hx-post="{url}"' in table
        snooze = reverse("staff:flag_snooze", args=[flag.public_id])
        assert f'id="snooze-{flag.public_id}" href="{snooze}" hx-get="{snooze}" hx-target="#flag-dialog-body"' in table


def test_the_shared_form_acknowledges_without_javascript(nina_client, patient_pat, make_flag):
    """What a browser without JavaScript sends: the shared form's fields to the button's formaction."""
    flag = make_flag(patient_pat)
    page = nina_client.get(reverse("staff:worklist")).content.decode()
    form = page[page.index('<form id="flag-actions"') :]
    form = form[: form.index("</form>")]
    assert 'name="context" value="worklist"' in form and 'name="csrfmiddlewaretoken"' in form
    response = nina_client.post(reverse("staff:flag_acknowledge", args=[flag.public_id]), {"context": "worklist"})
    assert response["Location"] == reverse("staff:worklist")
    flag.refresh_from_db()
    assert flag.status == "acknowledged"


def test_snooze_form_opens_in_the_dialog(carol_client, patient_pat, make_flag):
    flag = make_flag(patient_pat, reason="the-reason")
    url = reverse("staff:flag_snooze", args=[flag.public_id])
    response = carol_client.get(url, **HTMX)
    assert response.status_code == 200
    body = response.content.decode()
    assert "<html" not in body and body.lstrip().startswith('<h2 id="flag-dialog-title">Snooze flag</h2>')
    assert "the-reason" in body and "Doe, Pat" in body
    assert f'hx-post="{url}" hx-target="#flag-{flag.public_id}" hx-swap="outerHTML"' in body
    assert '<option value="7d" selected>' in body
    assert 'name="next" value="/staff/"' in body


def test_resolve_form_is_a_page_of_its_own_without_javascript(carol_client, patient_pat, make_flag):
    flag = make_flag(patient_pat)
    detail = reverse("staff:patient_detail", args=[patient_pat.public_id])
    response = carol_client.get(reverse("staff:flag_resolve", args=[flag.public_id]), {"context": "patient"})
    body = response.content.decode()
    assert response.status_code == 200 and "<html" in body
    assert "<title>Resolve flag · ivigtrack</title>" in body
    assert f'name="next" value="{detail}"' in body and 'name="context" value="patient"' in body
    assert 'name="resolution"' in body


def test_opening_an_action_form_is_audited(carol_client, clinician_carol, patient_pat, make_flag):
    from ivigtrack.audit.models import AuditEvent

    flag = make_flag(patient_pat)
    carol_client.get(reverse("staff:flag_resolve", args=[flag.public_id]), **HTMX)
    event = AuditEvent.objects.get(action="flag.view")
    assert (event.actor, event.patient_id, event.object_id) == (clinician_carol, patient_pat.pk, str(flag.public_id))


def test_action_forms_explain_what_cannot_be_done(carol_client, patient_pat, patient_quinn, make_flag):
    emergency = make_flag(patient_pat, kind="symptom_alert", rule="SYM-EMERGENCY", priority="emergency")
    body = carol_client.get(reverse("staff:flag_snooze", args=[emergency.public_id]), **HTMX).content.decode()
    assert "Emergency flags cannot be snoozed." in body and "<form" not in body
    done = make_flag(patient_quinn, status="resolved", resolution="completed", resolved_at=timezone.now())
    body = carol_client.get(reverse("staff:flag_resolve", args=[done.public_id]), **HTMX).content.decode()
    assert "resolved already" in body and "<form" not in body


def test_only_clinicians_open_snooze_and_resolve_forms(nina_client, pat_client, client, patient_pat, make_flag):
    flag = make_flag(patient_pat)
    for name in ("staff:flag_snooze", "staff:flag_resolve"):
        url = reverse(name, args=[flag.public_id])
        assert nina_client.get(url).status_code == 403
        assert pat_client.get(url).status_code == 403
        assert client.get(url)["Location"].startswith(reverse("login"))
    assert nina_client.get(reverse("staff:flag_acknowledge", args=[flag.public_id])).status_code == 405


# --- counts and pages that do not count every open flag ---------------------------------------


def test_counts_are_exact_up_to_the_cap(nina_client, patient_pat, patient_quinn, make_flag, monkeypatch):
    import risk.views

    monkeypatch.setattr(risk.views, "OPEN_COUNT_CAP", 1)
    make_flag(patient_pat, reason="one")
    make_flag(patient_quinn, reason="two")
    make_flag(patient_quinn, kind="symptom_alert", rule="SYM-URGENT", priority="urgent", reason="three")
    body = nina_client.get(reverse("staff:worklist")).content.decode()
    assert ">1+ routine<" in body and ">1 urgent<" in body and ">0 emergency<" in body
    assert all(reason in body for reason in ("one", "two", "three"))  # the cap is on the count, not the list


def test_pages_go_on_while_there_are_patients(nina_client, make_user, make_flag, monkeypatch):
    from datetime import date

    import risk.views

    monkeypatch.setattr(risk.views, "WORKLIST_PAGE", 2)
    now = timezone.now()
    for i in range(5):
        patient = patient_services.patient_create(
            actor=None, mrn=f"PG{i}", given_name="G", family_name=f"Page{i}", date_of_birth=date(1970, 1, 1),
            sex="male", diagnosis="cidp",
        )  # fmt: skip
        make_flag(patient, reason=f"[reason {i}]", due_at=now + timedelta(days=i))
        make_flag(
            patient, kind="data_quality", rule="WEIGHT-STALE", reason=f"[second {i}]", due_at=now + timedelta(days=9)
        )
    url = reverse("staff:worklist")
    first = nina_client.get(url).content.decode()
    assert "[reason 0]" in first and "[second 0]" in first and "[reason 1]" in first and "[reason 2]" not in first
    assert "Patients 1–2 of 5" in first and 'rel="next"' in first and 'rel="prev"' not in first
    last = nina_client.get(url, {"page": 3}).content.decode()
    assert "[reason 4]" in last and "[second 4]" in last and "[reason 3]" not in last
    assert "Patients 5–5 of 5" in last and 'rel="prev"' in last and 'rel="next"' not in last
    for beyond in ("9", "x", "-1"):  # past the end or not a page: the first page
        assert "[reason 0]" in nina_client.get(url, {"page": beyond}).content.decode()


def test_total_is_capped(nina_client, make_flag, monkeypatch):
    from datetime import date

    import risk.views

    monkeypatch.setattr(risk.views, "OPEN_COUNT_CAP", 2)
    for i in range(4):
        patient = patient_services.patient_create(
            actor=None, mrn=f"CAP{i}", given_name="C", family_name=f"Cap{i}", date_of_birth=date(1970, 1, 1),
            sex="male", diagnosis="cidp",
        )  # fmt: skip
        make_flag(patient)
    body = nina_client.get(reverse("staff:worklist")).content.decode()
    assert "Patients 1–4 of 2+" in body


def test_search_by_name_or_mrn(nina_client, patient_pat, patient_quinn, make_flag):
    make_flag(patient_pat, reason="pat-flag")
    make_flag(patient_quinn, reason="quinn-flag")
    by_name = nina_client.get(reverse("staff:worklist"), {"q": "roe"}).content.decode()
    assert "quinn-flag" in by_name and "pat-flag" not in by_name
    assert "Patients 1–1 of 1 matching" in by_name
    by_mrn = nina_client.get(reverse("staff:worklist"), {"q": "mrn-pat"}).content.decode()
    assert "pat-flag" in by_mrn and "quinn-flag" not in by_mrn
    both_words = nina_client.get(reverse("staff:worklist"), {"q": "Pat Doe"}).content.decode()
    assert "pat-flag" in both_words and "quinn-flag" not in both_words


def test_sort_by_due_and_by_raised(nina_client, patient_pat, patient_quinn, make_flag):
    now = timezone.now()
    make_flag(patient_pat, kind="symptom_alert", rule="SYM-URGENT", priority="urgent", reason="pat-urgent",
              due_at=now + timedelta(days=3), raised_at=now - timedelta(days=5))  # fmt: skip
    make_flag(
        patient_quinn, reason="quinn-routine", due_at=now + timedelta(hours=1), raised_at=now - timedelta(hours=1)
    )
    url = reverse("staff:worklist")
    by_priority = nina_client.get(url).content
    assert _order(by_priority, "pat-urgent", "quinn-routine") == sorted(
        _order(by_priority, "pat-urgent", "quinn-routine")
    )
    for sort in ("due", "raised"):
        body = nina_client.get(url, {"sort": sort}).content
        assert body.index(b"quinn-routine") < body.index(b"pat-urgent"), sort


def test_worklist_shows_only_what_the_user_may_see(pat_client, client):
    assert pat_client.get(reverse("staff:worklist")).status_code == 403
    assert client.get(reverse("staff:worklist"))["Location"].startswith(reverse("login"))


# --- bulk acknowledge ------------------------------------------------------------------------------


def test_bulk_acknowledge_each_flag_audited(nina_client, nurse_nina, patient_pat, patient_quinn, make_flag):
    from ivigtrack.audit.models import AuditEvent

    one, two = make_flag(patient_pat), make_flag(patient_quinn, kind="symptom_alert", rule="SYM-URGENT")
    page = nina_client.get(reverse("staff:worklist")).content.decode()
    assert f'name="ids" value="{one.public_id}" form="bulk-acknowledge"' in page
    response = nina_client.post(
        reverse("staff:flags_acknowledge_bulk"),
        {"ids": [str(one.public_id), str(two.public_id)], "note": "on it", "next": "/staff/?kind=symptom_alert"},
    )
    assert response.status_code == 302 and response["Location"] == "/staff/?kind=symptom_alert"
    for flag in (one, two):
        flag.refresh_from_db()
        assert (flag.status, flag.acknowledged_by, flag.note) == ("acknowledged", nurse_nina, "on it")
    events = AuditEvent.objects.filter(action="flag.acknowledge")
    assert sorted(e.object_id for e in events) == sorted([str(one.public_id), str(two.public_id)])
    assert {e.patient_id for e in events} == {patient_pat.pk, patient_quinn.pk}
    follow = nina_client.get(response["Location"]).content.decode()
    assert "Acknowledged 2 flags." in follow


def test_bulk_acknowledge_skips_what_changed_and_refuses_nothing_ticked(
    nina_client, patient_pat, patient_quinn, make_flag
):
    open_flag = make_flag(patient_pat)
    done = make_flag(patient_quinn, status="resolved", resolution="completed", resolved_at=timezone.now())
    response = nina_client.post(
        reverse("staff:flags_acknowledge_bulk"), {"ids": [str(open_flag.public_id), str(done.public_id)]}, follow=True
    )
    body = response.content.decode()
    assert "Acknowledged 1 flag." in body and "1 already acknowledged, snoozed or resolved" in body
    done.refresh_from_db()
    assert done.status == "resolved"
    empty = nina_client.post(reverse("staff:flags_acknowledge_bulk"), {"ids": []}, follow=True).content.decode()
    assert "Tick at least one flag." in empty
    bad = nina_client.post(reverse("staff:flags_acknowledge_bulk"), {"ids": ["not-an-id"]}, follow=True)
    assert bad.status_code == 200 and "not one of the available choices" in bad.content.decode()


def test_bulk_acknowledge_cannot_reach_past_scope_or_leave_the_site(nina_client, pat_client, patient_pat, make_flag):
    flag = make_flag(patient_pat)
    assert pat_client.post(reverse("staff:flags_acknowledge_bulk"), {"ids": [str(flag.public_id)]}).status_code == 403
    response = nina_client.post(
        reverse("staff:flags_acknowledge_bulk"), {"ids": [str(flag.public_id)], "next": "https://evil.example/"}
    )
    assert response["Location"] == reverse("staff:worklist")


def test_open_counts_stop_reading_past_the_cap(nurse_nina, patient_pat, patient_quinn, make_flag):
    from risk.selectors import open_flag_counts

    for patient in (patient_pat, patient_quinn):
        for kind in ("clotting_studies", "hematology_review"):
            make_flag(patient, kind=kind)
    make_flag(
        patient_pat, kind="viscosity_check", status="resolved", resolution="completed", resolved_at=timezone.now()
    )
    assert open_flag_counts(nurse_nina, cap=10) == {"emergency": 0, "urgent": 0, "routine": 4}
    assert open_flag_counts(nurse_nina, cap=2) == {"emergency": 0, "urgent": 0, "routine": 3}  # cap + 1: "2+"


def test_patient_page_rows_return_to_the_patient(carol_client, patient_pat, make_flag):
    flag = make_flag(patient_pat, reason="on-the-patient-page")
    detail = reverse("staff:patient_detail", args=[patient_pat.public_id])
    body = carol_client.get(detail).content.decode()
    assert "on-the-patient-page" in body and body.count('id="flag-actions"') == 1
    form = body[body.index('<form id="flag-actions"') :]
    form = form[: form.index("</form>")]
    assert 'name="context" value="patient"' in form and f'name="next" value="{detail}"' in form
    resolve = reverse("staff:flag_resolve", args=[flag.public_id])
    assert f'href="{resolve}?context=patient"' in body


def test_a_remembered_row_is_never_shown_for_changed_inputs(nina_client, carol_client, patient_pat, make_flag):
    """The worklist remembers each row's HTML under everything it is drawn from (risk/flag_rows.py):
    the same flag drawn again after a change, or for a viewer who may do more, is drawn anew."""
    flag = make_flag(patient_pat, reason="remembered-row")
    url = reverse("staff:worklist")
    first = nina_client.get(url).content
    assert nina_client.get(url).status_code == 200  # drawn again from the memo
    assert f'id="ack-{flag.public_id}"'.encode() in first
    assert f'id="resolve-{flag.public_id}"'.encode() not in first  # a nurse does not resolve
    assert f'id="resolve-{flag.public_id}"'.encode() in carol_client.get(url).content  # a clinician does
    ReviewFlag.objects.filter(pk=flag.pk).update(status="acknowledged", acknowledged_at=timezone.now(), note="seen-now")
    after = nina_client.get(url).content
    assert f'id="ack-{flag.public_id}"'.encode() not in after
    assert b"Acknowledged" in after and b"seen-now" in after
