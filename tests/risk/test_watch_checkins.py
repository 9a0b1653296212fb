"""The days after an infusion (risk/README.md, "Watch windows and check-ins"): `watch` on
infusions in the API, urgent reports inside a venous window due within 4 hours for moderate and
high tiers, the portal's day-1 and day-7 check-ins after a course (not after each day of it),
"I feel fine" stored, CHECKIN-MISSED raised 24 h after the day-1 check-in opened and completed by
the answer, tap-to-call links and what the clinic did with each report.

The clock is frozen with time_machine; the clinic's time zone is UTC (settings_test), so local
days are UTC days here (the zone boundaries are tested in tests/itrs/test_watch.py).
"""

from __future__ import annotations

from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
import time_machine
from django.urls import reverse

from infusions.models import Infusion, Product, Regimen
from ivigtrack.audit.models import AuditEvent
from patients import services as patient_services
from patients.models import SymptomReport
from risk.models import ReviewFlag
from risk.services.checkins import checkins_reconcile
from risk.services.flags import flag_acknowledge
from tests.factories import make_assessment

pytestmark = [pytest.mark.django_db, pytest.mark.sqlite]

# A Monday, after every fixture's records (written at the real now).
MONDAY = (datetime.now(UTC) + timedelta(days=14)).replace(hour=9, minute=0, second=0, microsecond=0)
MONDAY -= timedelta(days=MONDAY.weekday())
DAY = timedelta(days=1)


@pytest.fixture
def privigen():
    return Product.objects.get(name="Privigen 10%")


def five_day_course(patient, product, first=MONDAY, given=5):
    """A 2 g/kg course (0.4 g/kg/day for 5 days) with ``given`` days administered at 09:00."""
    regimen = Regimen.objects.create(
        patient=patient,
        product=product,
        indication="cidp",
        dose_g_per_kg_per_day=Decimal("0.4"),
        days_per_course=5,
        start_date=first.date(),
    )
    for n in range(given):
        Infusion.objects.create(
            patient=patient, regimen=regimen, product=product, started_at=first + n * DAY, dose_grams=Decimal("28")
        )
    return regimen


@contextmanager
def signed_in_at(when, *clients):
    """Travel to ``when`` and sign each (client, user) in afresh: sessions expire (30 minutes
    idle, 12 hours in all), so a session from the real now would not survive the trip."""
    with time_machine.travel(when, tick=False) as traveller:
        for client, user in clients:
            client.force_login(user)
        yield traveller


def submit(patient, *symptoms, actor, kind="report"):
    return patient_services.symptom_report_submit(
        actor=actor, patient=patient, symptoms=list(symptoms), source="patient", kind=kind
    )


# --- watch windows ---------------------------------------------------------------------------


def test_administered_infusions_carry_their_watch_windows_in_the_api(pat_api, patient_pat, privigen):
    given = Infusion.objects.create(patient=patient_pat, product=privigen, started_at=MONDAY, dose_grams=Decimal("30"))
    Infusion.objects.create(
        patient=patient_pat, product=privigen, started_at=MONDAY + 30 * DAY, dose_grams=Decimal("30"), status="planned"
    )
    rows = {row["id"]: row for row in pat_api.get("/api/v1/infusions/").json()["results"]}
    watch = rows[str(given.public_id)]["watch"]
    # Started Monday 09:00 UTC: arterial to the end of Wednesday (day 2), venous to the end of day 14.
    assert datetime.fromisoformat(watch["arterial_until"]) == (MONDAY + 3 * DAY).replace(hour=0)
    assert datetime.fromisoformat(watch["venous_until"]) == (MONDAY + 15 * DAY).replace(hour=0)
    planned = [row for row in rows.values() if row["status"] == "planned"]
    assert planned[0]["watch"] is None


def test_the_infusion_list_reads_watch_and_risk_in_constant_queries(
    carol_api, patient_pat, privigen, django_assert_max_num_queries
):
    for n in range(12):
        Infusion.objects.create(patient=patient_pat, product=privigen, started_at=MONDAY - n * DAY, dose_grams=30)
    with django_assert_max_num_queries(12):
        rows = carol_api.get("/api/v1/infusions/").json()["results"]
    assert len(rows) == 12 and all(row["watch"] for row in rows)
    assert all("risk_at_start" in row for row in rows)


@pytest.mark.parametrize(("tier", "four_hours"), [("low", False), ("moderate", True), ("high", True)])
def test_urgent_report_on_day_3_is_due_within_4_hours_for_moderate_and_high_tiers(
    patient_pat, privigen, tier, four_hours
):
    Infusion.objects.create(patient=patient_pat, product=privigen, started_at=MONDAY, dose_grams=Decimal("30"))
    make_assessment(patient_pat, score=5 if tier != "low" else 1, tier=tier)
    at = MONDAY + 3 * DAY + timedelta(hours=1)  # Thursday 10:00, day 3
    with time_machine.travel(at, tick=False):
        report = submit(patient_pat, "limb_pain_swelling", actor=patient_pat.user)
    flag = ReviewFlag.objects.get(patient=patient_pat, kind="symptom_alert")
    assert flag.rule == "SYM-URGENT"
    if four_hours:
        assert flag.due_at == report.reported_at + timedelta(hours=4)
        assert "day 3 after IVIG" in flag.reason and "within 4 hours" in flag.reason
    else:
        assert flag.due_at == at.replace(hour=18)  # the end of the working day
        assert "after IVIG" not in flag.reason


def test_outside_the_window_and_for_emergencies_triage_is_unchanged(patient_pat, privigen):
    Infusion.objects.create(patient=patient_pat, product=privigen, started_at=MONDAY, dose_grams=Decimal("30"))
    make_assessment(patient_pat, score=8, tier="high")
    at = MONDAY + 15 * DAY + timedelta(hours=1)  # day 15: outside
    with time_machine.travel(at, tick=False):
        submit(patient_pat, "limb_pain_swelling", actor=patient_pat.user)
    flag = ReviewFlag.objects.get(patient=patient_pat, kind="symptom_alert")
    assert (flag.rule, flag.due_at) == ("SYM-URGENT", at.replace(hour=18))
    with time_machine.travel(at + timedelta(hours=1), tick=False):
        emergency = submit(patient_pat, "chest_pain", actor=patient_pat.user)
    flag.refresh_from_db()
    assert (flag.rule, flag.due_at) == ("SYM-EMERGENCY", emergency.reported_at)


def test_patient_page_and_portal_show_the_day_of_the_window(
    carol_client, pat_client, patient_pat, privigen, clinician_carol
):
    carol = clinician_carol
    Infusion.objects.create(patient=patient_pat, product=privigen, started_at=MONDAY, dose_grams=Decimal("30"))
    with signed_in_at(MONDAY + 3 * DAY + timedelta(hours=2), (pat_client, patient_pat.user), (carol_client, carol)):
        portal = pat_client.get(reverse("portal:home")).content.decode()
        staff = carol_client.get(f"/staff/patients/{patient_pat.public_id}/").content.decode()
    assert "Day <strong>3 of 14</strong> after your infusion" in portal
    assert "Day 3 of 14 after the infusion of" in staff
    last = (MONDAY + 14 * DAY).strftime("%d/%m/%Y")
    assert f"venous to {last}" in staff


# --- check-ins ---------------------------------------------------------------------------------


def test_check_ins_are_offered_on_day_1_and_day_7_after_a_5_day_course_not_between_its_days(
    pat_client, patient_pat, privigen
):
    five_day_course(patient_pat, privigen, given=1)  # Monday given; Tuesday to Friday to come
    me = (pat_client, patient_pat.user)
    with signed_in_at(MONDAY + DAY + timedelta(hours=-1), me):  # Tuesday 08:00
        assert "Answer the check-in" not in pat_client.get(reverse("portal:home")).content.decode()
    for n in range(1, 5):
        Infusion.objects.create(
            patient=patient_pat, product=privigen, started_at=MONDAY + n * DAY, dose_grams=Decimal("28")
        )
    seen = {}
    for offset in range(1, 14):
        with signed_in_at(MONDAY + offset * DAY + timedelta(hours=1), me):
            seen[offset] = "Answer the check-in" in pat_client.get(reverse("portal:home")).content.decode()
    # Friday is day 4 (the last of the course): the check-ins open on Saturday (day 1 after the
    # course, offset 5) until answered or until day 7 (offset 11) opens.
    assert [o for o, shown in seen.items() if shown] == [5, 6, 7, 8, 9, 10, 11, 12, 13]
    with signed_in_at(MONDAY + 5 * DAY + timedelta(hours=1), me):
        page = pat_client.get(reverse("portal:checkin")).content.decode()
    assert "How are you since your infusion?" in page and "day 1 after your infusion course" in page


def test_i_feel_fine_is_stored_as_a_check_in_with_no_symptom_and_closes_the_check_in(pat_client, patient_pat, privigen):
    five_day_course(patient_pat, privigen)
    with signed_in_at(MONDAY + 5 * DAY + timedelta(hours=1), (pat_client, patient_pat.user)):
        response = pat_client.post(reverse("portal:checkin"), {"answer": "fine", "note": ""})
        report = SymptomReport.objects.get(patient=patient_pat)
        assert response.status_code == 302
        assert (report.kind, report.symptoms, report.triage) == ("checkin", [], "routine")
        assert "Answer the check-in" not in pat_client.get(reverse("portal:home")).content.decode()
        result = pat_client.get(response["Location"]).content.decode()
    assert "I feel fine" in result and "glad you feel well" in result
    assert not ReviewFlag.objects.filter(patient=patient_pat, kind="symptom_alert").exists()


def test_a_check_in_answer_with_symptoms_triages_like_any_report(pat_client, patient_pat, privigen):
    five_day_course(patient_pat, privigen)
    make_assessment(patient_pat, score=5, tier="moderate")
    at = MONDAY + 5 * DAY + timedelta(hours=1)
    with signed_in_at(at, (pat_client, patient_pat.user)):
        answer = {"answer": "symptoms", "symptoms": ["limb_pain_swelling"]}
        response = pat_client.post(reverse("portal:checkin"), answer)
        result = pat_client.get(response["Location"]).content.decode()
    report = SymptomReport.objects.get(patient=patient_pat)
    assert (report.kind, report.triage) == ("checkin", "urgent")
    flag = ReviewFlag.objects.get(patient=patient_pat, kind="symptom_alert")
    assert flag.due_at == at + timedelta(hours=4) and "day 1 after IVIG" in flag.reason
    assert "Seek medical care today" in result and f'href="tel:{patient_pat.site.emergency_number}"' in result


@pytest.mark.parametrize(
    ("post", "error"),
    [
        ({"answer": "fine", "symptoms": ["chest_pain"]}, "You ticked symptoms"),
        ({"answer": "symptoms"}, "Tick what you have now"),
        ({"answer": "maybe"}, "Select a valid choice"),
        ({"answer": "symptoms", "symptoms": ["no_such_code"]}, "Select a valid choice"),
    ],
)
def test_a_bad_check_in_answer_is_a_form_error_and_writes_nothing(pat_client, patient_pat, post, error):
    response = pat_client.post(reverse("portal:checkin"), post)
    assert response.status_code == 200 and error in response.content.decode()
    assert not SymptomReport.objects.exists()


def test_the_api_takes_a_check_in_with_no_symptom_but_a_report_needs_one(pat_api):
    ok = pat_api.post("/api/v1/symptom-reports/", {"kind": "checkin", "symptoms": []}, format="json")
    assert ok.status_code == 201 and ok.json()["kind"] == "checkin" and ok.json()["symptoms"] == []
    refused = pat_api.post("/api/v1/symptom-reports/", {"symptoms": []}, format="json")
    assert refused.status_code == 400 and "symptoms" in refused.json()
    bad = pat_api.post("/api/v1/symptom-reports/", {"kind": "chat", "symptoms": ["other"]}, format="json")
    assert bad.status_code == 400 and "kind" in bad.json()
    assert SymptomReport.objects.count() == 1


def test_checkin_missed_is_raised_24_hours_after_the_day_1_check_in_and_completed_by_the_answer(
    patient_pat, patient_quinn, privigen, make_user, clinician_carol
):
    five_day_course(patient_pat, privigen)  # moderate tier, portal login: asked
    make_assessment(patient_pat, score=5, tier="moderate")
    five_day_course(patient_quinn, privigen)  # low tier: not flagged
    make_assessment(patient_quinn, score=1, tier="low")
    no_login = patient_services.patient_create(
        actor=clinician_carol, mrn="MRN-NL", given_name="No", family_name="Login",
        date_of_birth=datetime(1960, 1, 1).date(), sex="male", height_cm=170, diagnosis="cidp", weight_kg=70,
    )  # fmt: skip
    five_day_course(no_login, privigen)
    make_assessment(no_login, score=8, tier="high")
    opened = (MONDAY + 5 * DAY).replace(hour=0)  # Saturday 00:00, day 1 after the course

    with time_machine.travel(opened + timedelta(hours=23, minutes=59), tick=False):
        assert checkins_reconcile()["raised"] == 0
    with time_machine.travel(opened + timedelta(hours=24), tick=False):
        assert checkins_reconcile()["raised"] == 1
        assert checkins_reconcile()["raised"] == 0  # idempotent
    flag = ReviewFlag.objects.get(kind="patient_checkin")
    assert (flag.patient_id, flag.rule, flag.priority) == (patient_pat.pk, "CHECKIN-MISSED", "routine")
    assert flag.status == "open"
    assert "day-1 check-in" in flag.reason and "has not been answered 24 hours later" in flag.reason
    assert AuditEvent.objects.filter(action="flag.raise", object_id=str(flag.public_id)).exists()

    with time_machine.travel(opened + timedelta(hours=30), tick=False):
        report = submit(patient_pat, actor=patient_pat.user, kind="checkin")
        assert checkins_reconcile() == {"raised": 0, "lapsed": 0}  # the answered check-in stays answered
    flag.refresh_from_db()
    assert (flag.status, flag.resolution) == ("resolved", "completed")
    assert str(report.public_id) in flag.note and "I feel fine" in flag.note
    assert flag.evidence["completed_by"][0]["id"] == str(report.public_id)


def test_checkin_missed_lapses_when_the_window_ends_unanswered_and_a_resolved_one_is_not_raised_again(
    patient_pat, privigen, clinician_carol
):
    five_day_course(patient_pat, privigen)
    make_assessment(patient_pat, score=8, tier="high")
    opened = (MONDAY + 5 * DAY).replace(hour=0)
    with time_machine.travel(opened + timedelta(hours=25), tick=False):
        checkins_reconcile()
        flag = ReviewFlag.objects.get(kind="patient_checkin")
        flag_acknowledge(flag=flag, actor=clinician_carol, note="phoned, no answer")
    with time_machine.travel(opened + 15 * DAY, tick=False):  # past day 14 after the course
        assert checkins_reconcile()["lapsed"] == 1
    flag.refresh_from_db()
    assert (flag.status, flag.resolution) == ("resolved", "lapsed")
    assert "does not count as answered" in flag.note
    with time_machine.travel(opened + timedelta(hours=26), tick=False):  # the same check-in again
        assert checkins_reconcile()["raised"] == 0


# --- portal contact and what the clinic did ---------------------------------------------------


def test_tap_to_call_links_on_the_home_page_and_the_emergency_advice(pat_client, patient_pat):
    site = patient_pat.site  # the patient's own clinic's numbers (patients.site_info)
    site.phone, site.emergency_number = "+44 20 7946 0000", "999"
    site.save()
    home = pat_client.get(reverse("portal:home")).content.decode()
    assert 'href="tel:+442079460000"' in home and 'href="tel:999"' in home
    response = pat_client.post(reverse("portal:symptom_report"), {"symptoms": ["chest_pain"]})
    advice = pat_client.get(response["Location"]).content.decode()
    assert "Call emergency services now" in advice and 'href="tel:999"' in advice


def test_the_portal_says_what_the_clinic_did_without_staff_notes(pat_client, patient_pat, clinician_carol):
    me = (pat_client, patient_pat.user)
    with signed_in_at(MONDAY, me):
        response = pat_client.post(reverse("portal:symptom_report"), {"symptoms": ["severe_headache"]})
        url = response["Location"]
        assert "has not yet marked it as seen" in pat_client.get(url).content.decode()
    flag = ReviewFlag.objects.get(patient=patient_pat, kind="symptom_alert")
    with signed_in_at(MONDAY + timedelta(hours=5, minutes=5), me):
        flag_acknowledge(flag=flag, actor=clinician_carol, note="STAFF-ONLY: husband anxious")
        page = pat_client.get(url).content.decode()
    assert f"Seen by your clinic on {MONDAY:%d/%m/%Y} at 14:05" in page
    assert "STAFF-ONLY" not in page
    routine = pat_client.post(reverse("portal:symptom_report"), {"symptoms": ["other"], "note": "tired"})
    assert "next contact" in pat_client.get(routine["Location"]).content.decode()


# --- the risk at each infusion stays true after a back-dated write --------------------------------


def test_back_dated_steroid_and_picc_update_the_risk_at_the_infusions_of_those_days(
    patient_pat, privigen, clinician_carol, django_capture_on_commit_callbacks
):
    from infusions import services as infusion_services
    from risk.models import InfusionRisk

    now = MONDAY + 20 * DAY
    with time_machine.travel(now, tick=False):
        with django_capture_on_commit_callbacks(execute=True):
            early = infusion_services.infusion_record(
                actor=clinician_carol, patient=patient_pat, product=privigen, started_at=now - 10 * DAY, dose_grams=28,
                iga_override_reason="IgA awaited",  # the first infusion, no IgA on file
            )  # fmt: skip
            late = infusion_services.infusion_record(
                actor=clinician_carol, patient=patient_pat, product=privigen, started_at=now - 2 * DAY, dose_grams=28
            )
        before = {r.infusion_id: r.score for r in InfusionRisk.objects.all()}
        assert set(before) == {early.pk, late.pk}
        # Found out later: a prednisolone course and a PICC from 5 days ago, recorded today.
        with django_capture_on_commit_callbacks(execute=True):
            infusion_services.medication_record(
                actor=clinician_carol, patient=patient_pat, category="steroid", drug="prednisolone",
                dose_mg_per_day=40, route="oral", start_date=(now - 5 * DAY).date(),
            )  # fmt: skip
            patient_services.vascular_access_add(
                actor=clinician_carol, patient=patient_pat, kind="picc", vein="arm", side="left",
                inserted_on=(now - 5 * DAY).date(),
            )  # fmt: skip
    after = {r.infusion_id: r for r in InfusionRisk.objects.all()}
    assert after[early.pk].score == before[early.pk]  # given before the steroid and the line
    assert after[late.pk].score > before[late.pk]  # given during both: its stored risk is recomputed
    codes = {f["code"] for f in after[late.pk].factors if f["points"]}
    assert {"E1", "P8"} <= codes
