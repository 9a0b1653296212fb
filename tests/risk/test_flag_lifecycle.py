"""The v2 flag lifecycle in the database (DESIGN §6a): completed vs lapsed, decisions that stick,
snooze rules and un-snooze, rule and priority together, and the stale-page message."""

from __future__ import annotations

import importlib
from datetime import timedelta

import pytest
import time_machine
from django.apps import apps
from django.urls import reverse
from django.utils import timezone

from demo import vignettes
from infusions import services as infusion_services
from infusions.models import Product
from ivigtrack.audit.models import AuditEvent
from patients import services as patient_services
from risk.histories import load_histories
from risk.models import ReviewFlag
from risk.services.flags import FlagConflict, flag_resolve
from risk.services.sweep import sweep_inline
from tests.factories import make_flag, make_urgent_flag

CLOCK = vignettes.VIGNETTE_CLOCK

pytestmark = [pytest.mark.django_db, pytest.mark.sqlite]


def _open(patient, kind):
    return ReviewFlag.objects.filter(patient=patient, kind=kind).exclude(status="resolved")


def _new_patient(actor, mrn="L01"):
    """A patient whose first infusion was given yesterday, with no lab on file."""
    today = CLOCK.date()
    patient = patient_services.patient_create(
        actor=actor,
        mrn=mrn,
        given_name="Lena",
        family_name="Marsh",
        date_of_birth=today - timedelta(days=50 * 365),
        sex="female",
        height_cm=165,
        diagnosis="cidp",
        weight_kg=70,
        weight_measured_on=today - timedelta(days=2),
    )
    product = Product.objects.get(name="Privigen 10%")
    regimen = infusion_services.regimen_create(
        actor=actor,
        patient=patient,
        product=product,
        indication="cidp",
        dose_g_per_kg_per_day="1.00",
        days_per_course=1,
        interval_days=21,
        start_date=today - timedelta(days=1),
        max_rate_mg_kg_min="8.0",
    )
    infusion_services.infusion_record(
        actor=actor,
        patient=patient,
        regimen=regimen,
        product=product,
        started_at=CLOCK - timedelta(days=1),
        dose_grams="70",
        status="administered",
        iga_override_reason="GBS, could not wait for the IgA result",  # the first-infusion IgA gate
    )
    return patient


# --- completed vs lapsed --------------------------------------------------------------------


def test_pre_ivig_stays_open_after_the_first_infusion_and_completes_naming_the_labs(clinician_carol, nurse_nina):
    with time_machine.travel(CLOCK, tick=False):
        patient = _new_patient(clinician_carol)
        sweep_inline(full=True)
        sweep_inline(full=True)
        flag = _open(patient, "pre_ivig_labs").get()
        assert flag.rule == "PRE-IVIG" and "already been given" in flag.reason
    later = CLOCK + timedelta(hours=4)
    with time_machine.travel(later, tick=False):
        for test, value in (("platelets", 250), ("creatinine", 0.8), ("iga", 150)):
            patient_services.lab_record(
                actor=nurse_nina, patient=patient, test=test, value=value, collected_at=later - timedelta(hours=1)
            )
        sweep_inline(full=True)
    flag.refresh_from_db()
    assert (flag.status, flag.resolution, flag.resolved_by) == ("resolved", "completed", None)
    assert flag.note.startswith("Completed: the pre-IVIG labs are on file (platelets 250 x10^9/L on 2025-03-01")
    audit = AuditEvent.objects.get(action="flag.resolve", object_id=str(flag.public_id))
    assert [r["test"] for r in audit.detail["completed_by"]] == ["platelets", "creatinine", "iga"]


def test_panel_completes_clot_event_and_names_it(clinician_carol, nurse_nina):
    with time_machine.travel(CLOCK, tick=False):
        patient = vignettes.v16(clinician_carol, CLOCK)
        sweep_inline(full=True)
        flag = _open(patient, "clotting_studies").get()
    later = CLOCK + timedelta(hours=3)
    with time_machine.travel(later, tick=False):
        for test, value in (("pt", 12.5), ("aptt", 30), ("fibrinogen", 3.1), ("platelets", 240)):
            patient_services.lab_record(
                actor=nurse_nina, patient=patient, test=test, value=value, collected_at=later - timedelta(minutes=30)
            )
        sweep_inline(full=True)
    flag.refresh_from_db()
    assert flag.resolution == "completed"
    assert "a complete clotting panel was collected (PT 12.5 s on 2025-03-01" in flag.note


def test_a_lapsed_haematology_flag_is_not_a_review(clinician_carol):
    with time_machine.travel(CLOCK, tick=False):
        patient = vignettes.v07(clinician_carol, CLOCK)
        make_flag(patient, kind="hematology_review", rule="HEM-URGENT", priority="urgent")
        sweep_inline(full=True)  # no haematology rule holds for v07: the flag lapses
        flag = ReviewFlag.objects.get(patient=patient, kind="hematology_review")
        assert (flag.status, flag.resolution) == ("resolved", "lapsed")
        assert flag.note.startswith("Lapsed: rule HEM-URGENT no longer applies")
        histories = load_histories([patient.pk])[0]
        assert histories[patient.pk].last_hematology_review_on is None


def test_migration_turns_v1_sweep_completions_into_lapsed(clinician_carol, patient_pat):
    now = timezone.now()
    by_sweep = make_flag(patient_pat, status="resolved", resolution="completed", resolved_at=now, note="v1 note.")
    by_person = make_flag(
        patient_pat,
        kind="hematology_review",
        status="resolved",
        resolution="completed",
        resolved_at=now,
        resolved_by=clinician_carol,
    )
    migration = importlib.import_module("risk.migrations.0005_flag_lifecycle")
    migration.sweep_completed_to_lapsed(apps, None)
    by_sweep.refresh_from_db()
    by_person.refresh_from_db()
    assert by_sweep.resolution == "lapsed" and by_sweep.note == "v1 note." + migration.MARK
    assert by_person.resolution == "completed"
    migration.lapsed_back_to_completed(apps, None)
    by_sweep.refresh_from_db()
    assert (by_sweep.resolution, by_sweep.note) == ("completed", "v1 note.")


# --- not indicated / declined stick -----------------------------------------------------------


def _low_platelets(actor, clock):
    patient = vignettes.v07(actor, clock)
    patient_services.lab_record(
        # 49 after v07's 240: below 50, and not a five-fold change (which would need verification)
        actor=actor,
        patient=patient,
        test="platelets",
        value=49,
        collected_at=clock - timedelta(hours=2),
    )
    return patient


def test_declined_sticks_until_a_new_abnormal_lab(clinician_carol):
    with time_machine.travel(CLOCK, tick=False):
        patient = _low_platelets(clinician_carol, CLOCK)
        sweep_inline(full=True)
        flag = _open(patient, "hematology_review").get()
        assert flag.rule == "HEM-URGENT" and flag.trigger
        flag_resolve(flag=flag, actor=clinician_carol, resolution="declined", note="patient declines referral")
        flag.refresh_from_db()
        assert flag.suppressed_until == CLOCK + timedelta(days=180)
    with time_machine.travel(CLOCK + timedelta(days=1), tick=False):
        sweep_inline(full=True)
        sweep_inline(full=True)
        assert not _open(patient, "hematology_review").exists()
    later = CLOCK + timedelta(days=2)
    with time_machine.travel(later, tick=False):
        patient_services.lab_record(
            actor=clinician_carol, patient=patient, test="platelets", value=45, collected_at=later - timedelta(hours=1)
        )
        sweep_inline(full=True)
        again = _open(patient, "hematology_review").get()
        assert again.rule == "HEM-URGENT"
        assert "Raised again: HEM-URGENT was marked declined on 2025-03-01" in again.reason
        assert "new since then: a new platelets result of 2025-03-03" in again.reason


def test_not_indicated_comes_back_after_suppress_days(clinician_carol):
    with time_machine.travel(CLOCK, tick=False):
        patient = _low_platelets(clinician_carol, CLOCK)
        sweep_inline(full=True)
        flag = _open(patient, "hematology_review").get()
        flag_resolve(flag=flag, actor=clinician_carol, resolution="not_indicated", note="known ITP, stable")
        sweep_inline(full=True)
        assert not _open(patient, "hematology_review").exists()
    with time_machine.travel(CLOCK + timedelta(days=181), tick=False):
        sweep_inline(full=True)
        again = _open(patient, "hematology_review").get()
        assert "that decision ran out on 2025-08-28" in again.reason


def test_not_indicated_needs_a_note_in_the_api(carol_api, patient_pat):
    flag = make_flag(patient_pat)
    url = f"/api/v1/flags/{flag.public_id}/resolve/"
    refused = carol_api.post(url, {"resolution": "not_indicated"}, format="json")
    assert refused.status_code == 400 and "note" in refused.json()
    assert carol_api.post(url, {"resolution": "lapsed", "note": "x"}, format="json").status_code == 400
    done = carol_api.post(url, {"resolution": "not_indicated", "note": "on warfarin elsewhere"}, format="json")
    assert done.status_code == 200
    assert done.json()["suppressed_until"] and done.json()["resolution"] == "not_indicated"


def test_not_indicated_needs_a_note_on_the_page(carol_client, patient_pat):
    flag = make_flag(patient_pat)
    url = reverse("staff:flag_resolve", args=[flag.public_id])
    body = carol_client.post(url, {"resolution": "declined"}, HTTP_HX_REQUEST="true").content.decode()
    assert "a note is required for not indicated and declined" in body
    flag.refresh_from_db()
    assert flag.status == "open"


def test_patient_page_shows_live_suppressions(carol_client, clinician_carol, patient_pat):
    flag = make_flag(patient_pat)
    flag_resolve(flag=flag, actor=clinician_carol, resolution="not_indicated", note="panel done at the GP")
    flag.refresh_from_db()
    body = carol_client.get(reverse("staff:patient_detail", args=[patient_pat.public_id])).content.decode()
    resolved = timezone.localtime(flag.resolved_at)
    until = timezone.localtime(flag.suppressed_until)
    line = f"CLOT-BASELINE not indicated — Carol, {resolved:%d/%m/%Y}, until {until:%d/%m/%Y}"
    assert f"{line}: panel done at the GP" in body


# --- snooze and un-snooze ---------------------------------------------------------------------


def _snooze(api, flag, **body):
    return api.post(f"/api/v1/flags/{flag.public_id}/snooze/", body, format="json")


def test_snooze_rules_in_the_api(carol_api, patient_pat):
    flag = make_flag(patient_pat, due_at=timezone.now() + timedelta(days=3))
    soon = (timezone.now() + timedelta(days=1)).isoformat()
    assert "reason" in _snooze(carol_api, flag, until=soon).json()  # no reason: 400
    assert _snooze(carol_api, flag, until=soon).status_code == 400
    too_long = (timezone.now() + timedelta(days=29)).isoformat()
    response = _snooze(carol_api, flag, until=too_long, reason="r", past_due_ok=True)
    assert response.status_code == 400 and "at most 28 days" in response.json()["until"][0]
    past_due = (timezone.now() + timedelta(days=5)).isoformat()
    response = _snooze(carol_api, flag, until=past_due, reason="after the holiday")
    due = timezone.localtime(flag.due_at)
    assert response.status_code == 400 and f"This flag is due {due:%d %b %Y %H:%M}" in response.json()["until"][0]
    ok = _snooze(carol_api, flag, until=soon, reason="waiting for the lab")
    assert ok.status_code == 200 and ok.json()["snooze_reason"] == "waiting for the lab"


def test_unsnooze_in_the_api(carol_api, nina_api, patient_pat):
    flag = make_flag(patient_pat, status="snoozed", snoozed_until=timezone.now() + timedelta(days=1))
    url = f"/api/v1/flags/{flag.public_id}/unsnooze/"
    assert nina_api.post(url, {}, format="json").status_code == 403
    response = carol_api.post(url, {}, format="json")
    assert response.status_code == 200 and response.json()["status"] == "open"
    assert AuditEvent.objects.filter(action="flag.unsnooze", object_id=str(flag.public_id)).exists()
    assert carol_api.post(url, {}, format="json").status_code == 409  # compare-and-set


def test_emergency_cannot_be_snoozed_even_with_a_reason(carol_api, patient_pat):
    flag = make_urgent_flag(patient_pat, kind="symptom_alert", rule="SYM-EMERGENCY", priority="emergency")
    soon = (timezone.now() + timedelta(hours=2)).isoformat()
    response = _snooze(carol_api, flag, until=soon, reason="r", past_due_ok=True)
    assert response.status_code == 400 and "Emergency flags cannot be snoozed." in response.json()["until"]


# --- rule and priority together; stale pages --------------------------------------------------


def test_de_escalation_lowers_rule_and_priority_together(clinician_carol):
    with time_machine.travel(CLOCK, tick=False):
        patient = vignettes.v07(clinician_carol, CLOCK)  # CLOT-BASELINE holds, CLOT-EVENT does not
        flag = make_flag(patient, rule="CLOT-EVENT", priority="urgent", reason="old urgent reason")
        sweep_inline(full=True)
        flag.refresh_from_db()
        assert (flag.rule, flag.priority, flag.priority_rank, flag.status) == ("CLOT-BASELINE", "routine", 2, "open")
        assert flag.reason.startswith("Risk tier moderate")
        audit = AuditEvent.objects.get(action="flag.deescalate", object_id=str(flag.public_id))
        assert audit.detail["from_rule"] == "CLOT-EVENT" and audit.detail["priority"] == "routine"


def test_second_clinician_is_told_who_resolved_and_when(clinician_carol, make_user, patient_pat):
    other = make_user("omar", "clinician")
    flag = make_flag(patient_pat)
    stale = ReviewFlag.objects.get(pk=flag.pk)
    flag_resolve(flag=flag, actor=clinician_carol, resolution="completed")
    flag.refresh_from_db()
    at = timezone.localtime(flag.resolved_at)
    with pytest.raises(FlagConflict, match=f"already resolved by carol at {at:%H:%M}"):
        flag_resolve(flag=stale, actor=other, resolution="completed")
