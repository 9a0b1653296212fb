"""Sessions that end: idle 30 minutes (background polling is not activity), absolute 12 hours,
and the "Stay signed in" warning two minutes before the end."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from django.test import Client

pytestmark = pytest.mark.django_db

POLL = {
    "HTTP_HX_REQUEST": "true",
    "HTTP_X_BACKGROUND_POLL": "1",
    "HTTP_HX_TRIGGER": "worklist",
    "HTTP_HX_TARGET": "worklist",
}
START = datetime(2026, 3, 2, 8, 0, tzinfo=UTC)


def signed_in(client: Client) -> bool:
    return "_auth_user_id" in client.session


def sign_in(username="carol") -> Client:
    client = Client()
    assert (
        client.post("/accounts/login/", {"username": username, "password": "correct-horse-battery"}).status_code == 302
    )
    return client


def test_35_minutes_of_worklist_polling_do_not_keep_the_session(clinician_carol):
    with time_machine.travel(START, tick=False) as clock:
        client = sign_in()
        assert client.get("/staff/").status_code == 200
        answers = []
        for _ in range(70):  # every 30 seconds for 35 minutes
            clock.shift(timedelta(seconds=30))
            answers.append(client.get("/staff/", **POLL))
        # polls were answered while the session lived (29 min 30 s after the last click) ...
        assert all(r.status_code == 200 for r in answers[:59])
        # ... and the one at 30 minutes found it over: htmx is told to go to the login page
        assert answers[59].status_code == 204 and answers[59]["HX-Redirect"] == "/accounts/login/"
        assert not signed_in(client)
        page = client.get("/staff/")
        assert page.status_code == 302 and page["Location"].startswith("/accounts/login/")
        login_page = client.get(page["Location"])
        assert "signed out after 30 minutes without activity" in login_page.content.decode()


def test_clicks_keep_the_session_and_polls_do_not_write_it(clinician_carol):
    from django.contrib.sessions.models import Session

    with time_machine.travel(START, tick=False) as clock:
        client = sign_in()
        for _ in range(6):  # a click every 20 minutes for two hours
            clock.shift(timedelta(minutes=20))
            assert client.get("/staff/patients/").status_code == 200
        key = client.session.session_key
        saved = Session.objects.get(session_key=key).session_data
        clock.shift(timedelta(seconds=30))
        assert client.get("/staff/", **POLL).status_code == 200
        assert Session.objects.get(session_key=key).session_data == saved


def test_a_link_inside_the_polling_list_is_activity(clinician_carol):
    """hx-headers pass down to the worklist's own links: only the list's refresh is a poll."""
    with time_machine.travel(START, tick=False) as clock:
        client = sign_in()
        clock.shift(timedelta(minutes=20))
        inside = {**POLL, "HTTP_HX_TRIGGER": "page-2", "HTTP_HX_TARGET": "worklist"}
        assert client.get("/staff/", **inside).status_code == 200
        clock.shift(timedelta(minutes=20))
        assert client.get("/staff/patients/").status_code == 200  # 40 min after sign-in, 20 after the link


def test_the_absolute_limit_ends_a_busy_session(clinician_carol):
    with time_machine.travel(START, tick=False) as clock:
        client = sign_in()
        for _ in range(47):  # a click every 15 minutes for 11 h 45 min
            clock.shift(timedelta(minutes=15))
            assert client.get("/staff/patients/").status_code == 200
        clock.shift(timedelta(minutes=15))  # 12 hours after signing in
        page = client.get("/staff/patients/")
        assert page.status_code == 302 and page["Location"].startswith("/accounts/login/")
        assert "signed out after 12 hours" in client.get(page["Location"]).content.decode()


def test_the_limits_are_settings(clinician_carol, settings):
    settings.IVIGTRACK_SESSION_IDLE = timedelta(minutes=5)
    with time_machine.travel(START, tick=False) as clock:
        client = sign_in()
        clock.shift(timedelta(minutes=6))
        assert client.get("/staff/").status_code == 302


def test_pages_carry_the_warning_two_minutes_before_the_end(clinician_carol):
    with time_machine.travel(START, tick=False) as clock:
        client = sign_in()
        clock.shift(timedelta(minutes=10))
        html = client.get("/staff/patients/").content.decode()
        assert 'id="session-warning"' in html and "Stay signed in" in html
        assert 'data-expires-at="2026-03-02T08:40:00+00:00"' in html
        assert 'data-warn-seconds="120"' in html
        assert "js/session.js" in html


def test_session_status_is_a_poll_and_stay_signed_in_extends(clinician_carol):
    with time_machine.travel(START, tick=False) as clock:
        client = sign_in()
        clock.shift(timedelta(minutes=28, seconds=30))  # inside the two-minute warning
        status = client.get("/accounts/session/", HTTP_X_BACKGROUND_POLL="1").json()
        assert status["expires_at"] == "2026-03-02T08:30:00+00:00"
        assert status["warn_at"] == "2026-03-02T08:28:00+00:00"
        assert status["extendable"] is True
        stay = client.post("/accounts/session/").json()  # the "Stay signed in" button
        assert stay["expires_at"] == "2026-03-02T08:58:30+00:00"
        clock.shift(timedelta(minutes=20))
        assert client.get("/staff/").status_code == 200


def test_near_the_absolute_limit_the_warning_cannot_extend(clinician_carol):
    with time_machine.travel(START, tick=False) as clock:
        client = sign_in()
        for _ in range(47):
            clock.shift(timedelta(minutes=15))
            client.get("/staff/patients/")
        status = client.get("/accounts/session/", HTTP_X_BACKGROUND_POLL="1").json()
        assert status["expires_at"] == "2026-03-02T20:00:00+00:00"
        assert status["extendable"] is False


def test_patients_sessions_end_too(patient_pat):
    with time_machine.travel(START, tick=False) as clock:
        client = sign_in("pat")
        assert client.get("/portal/").status_code == 200
        clock.shift(timedelta(minutes=31))
        assert client.get("/portal/").status_code == 302
