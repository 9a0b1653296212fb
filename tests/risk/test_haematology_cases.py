"""The two cases the haematology rules exist for, end to end through the services and the sweep.

The forum case (the project's founding case): a 5-day 0.4 g/kg course, PE and DVT confirmed on
day 6, apixaban at treatment dose -> HEM-URGENT; a review with 3 months' treatment and a slower
IVIG rate completes it; 3 months after the clot the anticoagulation review is due (HEM-ROUTINE);
a new induction regimen asks for a review of the plan (HEM-PLAN).

The jugular case: fortnightly IVIG through an internal-jugular PICC, a catheter-related jugular
thrombosis, anticoagulation; the line removed -> HEM-CRT due 3 months later, and none when the
anticoagulation stopped before then.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta

import pytest
import time_machine

from demo import vignettes
from infusions import services as infusion_services
from infusions.models import Product
from patients import services as patient_services
from risk.models import ReviewFlag
from risk.services.haematology import haematology_review_record
from risk.services.sweep import sweep_inline

pytestmark = [pytest.mark.django_db, pytest.mark.sqlite]

DAY0 = date(2025, 1, 6)  # the first day of the forum case's course


def _at(day: date, hour: int = 10) -> datetime:
    return datetime.combine(day, time(hour), tzinfo=UTC)


def _hem(patient) -> ReviewFlag | None:
    return ReviewFlag.objects.filter(patient=patient, kind="hematology_review").exclude(status="resolved").first()


def forum_case(actor):
    """Built as of day 6 (the caller's clock): the course given, the clots found, apixaban started."""
    p = patient_services.patient_create(
        actor=actor,
        mrn="FORUM",
        given_name="Forum",
        family_name="Case",
        date_of_birth=date(1961, 5, 1),
        sex="male",
        height_cm=180,
        diagnosis="cidp",
        weight_kg=100,
        weight_measured_on=DAY0 - timedelta(days=1),
    )
    product = Product.objects.get(name="Gamunex-C 10%")
    course = infusion_services.regimen_create(
        actor=actor,
        patient=p,
        product=product,
        indication="cidp",
        dose_g_per_kg_per_day="0.40",
        days_per_course=5,
        interval_days=None,
        start_date=DAY0,
        max_rate_mg_kg_min="8.0",
        setting="inpatient",
    )
    for i in range(5):
        infusion_services.infusion_record(
            actor=actor,
            patient=p,
            regimen=course,
            product=product,
            started_at=_at(DAY0 + timedelta(days=i)),
            dose_grams="40",
            status="administered",
            max_rate_mg_kg_min="8.0",
            iga_override_reason="" if i else "IgA not part of the case",  # the first-infusion IgA gate
        )
    day6 = DAY0 + timedelta(days=5)
    for kind in ("pe", "dvt"):
        patient_services.thrombosis_event_record(
            actor=actor, patient=p, kind=kind, status="confirmed", diagnosed_on=day6, provocation="unknown"
        )
    infusion_services.medication_record(
        actor=actor,
        patient=p,
        category="anticoagulant",
        drug="apixaban",
        dose_mg_per_day="20",
        route="oral",
        intensity="therapeutic",
        start_date=day6,
    )
    return p, product


def test_the_forum_case(clinician_carol):
    day6 = DAY0 + timedelta(days=5)
    with time_machine.travel(_at(day6, 16), tick=False):
        patient, product = forum_case(clinician_carol)
        sweep_inline(full=True)
        flag = _hem(patient)
        assert (flag.rule, flag.priority) == ("HEM-URGENT", "urgent")
        assert "pulmonary embolism" in flag.reason and "deep vein thrombosis" in flag.reason

    with time_machine.travel(_at(day6 + timedelta(days=1), 11), tick=False):
        review = haematology_review_record(
            actor=clinician_carol,
            patient=patient,
            reviewed_on=day6 + timedelta(days=1),
            reviewer_name="Dr H. Ematology",
            anticoagulation_plan="treatment_3_months",
            ivig_plan="slow_rate",
            thrombophilia_testing="deferred_after_ivig",
            note="Apixaban for 3 months; next IVIG at <=2 mg/kg/min; no thrombophilia tests for now.",
            flag=flag,
        )
        flag.refresh_from_db()
        assert (flag.status, flag.resolution, flag.resolved_by) == ("resolved", "completed", clinician_carol)
        assert "haematology review of" in flag.note and "Dr H. Ematology" in flag.note
        assert review.flag_id == flag.pk
        sweep_inline(full=True)
        assert _hem(patient) is None  # the review is counted: nothing more is asked for now

    # Two months on: the plan's review is not due yet.
    with time_machine.travel(_at(day6 + timedelta(days=60)), tick=False):
        sweep_inline(full=True)
        assert _hem(patient) is None

    # Three months after the clot: the anticoagulation review the plan asked for is due.
    with time_machine.travel(_at(day6 + timedelta(days=91)), tick=False):
        sweep_inline(full=True)
        routine = _hem(patient)
        assert routine is not None and routine.rule == "HEM-ROUTINE"
        assert "3 months' treatment" in routine.reason
        assert f"due on {(day6 + timedelta(days=90)).isoformat()}" in routine.reason
        # done: a second review (extended) completes it, and the sweep names it
        haematology_review_record(
            actor=clinician_carol,
            patient=patient,
            reviewed_on=day6 + timedelta(days=91),
            reviewer_name="Dr H. Ematology",
            anticoagulation_plan="extended",
            ivig_plan="continue",
            thrombophilia_testing="requested",
            flag=routine,
        )
        sweep_inline(full=True)
        assert _hem(patient) is None

    # A new induction regimen after the treated VTE: the plan needs a haematology review.
    with time_machine.travel(_at(day6 + timedelta(days=120)), tick=False):
        infusion_services.regimen_create(
            actor=clinician_carol,
            patient=patient,
            product=product,
            indication="cidp",
            dose_g_per_kg_per_day="0.40",
            days_per_course=5,
            interval_days=None,
            start_date=day6 + timedelta(days=130),
            max_rate_mg_kg_min="2.0",
            setting="inpatient",
        )
        sweep_inline(full=True)
        plan = _hem(patient)
        assert plan is not None and plan.rule == "HEM-PLAN"
        assert "new IVIG regimen" in plan.reason


def _forum_case_reviewed(actor, day6: date, **plan):
    """The forum case on day 6 (16:00) with a review recorded that day: 3 months of treatment,
    IVIG at a slower rate, thrombophilia testing deferred, unless `plan` says otherwise."""
    decided = {
        "anticoagulation_plan": "treatment_3_months",
        "ivig_plan": "slow_rate",
        "thrombophilia_testing": "deferred_after_ivig",
        **plan,
    }
    with time_machine.travel(_at(day6, 16), tick=False):
        patient, _ = forum_case(actor)
        haematology_review_record(actor=actor, patient=patient, reviewed_on=day6, **decided)
    return patient


def test_the_forum_case_review_a_year_on_under_an_extended_plan(clinician_carol):
    day6 = DAY0 + timedelta(days=5)
    patient = _forum_case_reviewed(clinician_carol, day6, anticoagulation_plan="extended", ivig_plan="continue")
    # At 3 months the extended plan governs: no 3-month review is asked for...
    with time_machine.travel(_at(day6 + timedelta(days=95)), tick=False):
        sweep_inline(full=True)
        assert _hem(patient) is None
    # ...a year after the review it is.
    with time_machine.travel(_at(day6 + timedelta(days=366)), tick=False):
        sweep_inline(full=True)
        flag = _hem(patient)
        assert flag is not None and flag.rule == "HEM-ROUTINE" and "yearly review" in flag.reason


def test_next_review_on_overrides_the_plan(clinician_carol):
    day6 = DAY0 + timedelta(days=5)
    patient = _forum_case_reviewed(clinician_carol, day6, next_review_on=day6 + timedelta(days=42))
    with time_machine.travel(_at(day6 + timedelta(days=43)), tick=False):
        sweep_inline(full=True)
        flag = _hem(patient)
        assert flag is not None and flag.rule == "HEM-ROUTINE"
        assert "asked for the next one by" in flag.reason


def test_a_thrombosis_on_anticoagulation_is_urgent_and_called_anticoagulant_failure(clinician_carol):
    day6 = DAY0 + timedelta(days=5)
    patient = _forum_case_reviewed(clinician_carol, day6)
    later = day6 + timedelta(days=40)
    with time_machine.travel(_at(later, 12), tick=False):
        patient_services.thrombosis_event_record(
            actor=clinician_carol, patient=patient, kind="dvt", status="confirmed", diagnosed_on=later
        )
        sweep_inline(full=True)
        flag = _hem(patient)
        assert (flag.rule, flag.priority) == ("HEM-URGENT", "urgent")
        assert "anticoagulant failure" in flag.reason and "apixaban" in flag.reason


# --- the jugular case ------------------------------------------------------------------------------

JUGULAR_DAY0 = date(2025, 2, 3)


def jugular_case(actor, *, anticoagulation_ends: date | None = None):
    p = patient_services.patient_create(
        actor=actor,
        mrn="JUGULAR",
        given_name="Jo",
        family_name="Gular",
        date_of_birth=date(1980, 3, 3),
        sex="female",
        height_cm=165,
        diagnosis="pid",
        weight_kg=60,
        weight_measured_on=JUGULAR_DAY0,
    )
    product = Product.objects.get(name="Gamunex-C 10%")
    line = patient_services.vascular_access_add(
        actor=actor, patient=p, kind="picc", vein="internal_jugular", side="right", inserted_on=JUGULAR_DAY0
    )
    regimen = infusion_services.regimen_create(
        actor=actor,
        patient=p,
        product=product,
        indication="pid",
        dose_g_per_kg_per_day="0.40",
        days_per_course=1,
        interval_days=14,
        start_date=JUGULAR_DAY0,
        max_rate_mg_kg_min="8.0",
        setting="outpatient",
    )
    for i in range(3):
        infusion_services.infusion_record(
            actor=actor,
            patient=p,
            regimen=regimen,
            product=product,
            started_at=_at(JUGULAR_DAY0 + timedelta(days=14 * i)),
            dose_grams="24",
            status="administered",
            vascular_access=line,
            iga_override_reason="" if i else "IgA not part of the case",  # the first-infusion IgA gate
        )
    clot_on = JUGULAR_DAY0 + timedelta(days=30)
    patient_services.thrombosis_event_record(
        actor=actor,
        patient=p,
        kind="jugular_vein",
        status="confirmed",
        diagnosed_on=clot_on,
        provocation="catheter_related",
        vascular_access=line,
    )
    infusion_services.medication_record(
        actor=actor,
        patient=p,
        category="anticoagulant",
        drug="enoxaparin",
        dose_mg_per_day="120",
        route="subcutaneous",
        intensity="therapeutic",
        start_date=clot_on,
        end_date=anticoagulation_ends,
    )
    return p, line, clot_on


def _review(actor, patient, on: date):
    return haematology_review_record(
        actor=actor,
        patient=patient,
        reviewed_on=on,
        anticoagulation_plan="treatment_3_months",
        ivig_plan="continue",
        thrombophilia_testing="not_indicated",
        note="Treat while the line stays and 3 months after removal.",
    )


def test_the_jugular_case_asks_for_a_review_3_months_after_the_line_comes_out(clinician_carol):
    clock = _at(JUGULAR_DAY0 + timedelta(days=31))
    with time_machine.travel(clock, tick=False):
        patient, line, clot_on = jugular_case(clinician_carol)
        _review(clinician_carol, patient, clot_on + timedelta(days=1))
    with time_machine.travel(_at(clot_on + timedelta(days=91)), tick=False):
        sweep_inline(full=True)
        assert _hem(patient).rule == "HEM-ROUTINE"  # the end of the primary phase: the line is still in
        _review(clinician_carol, patient, clot_on + timedelta(days=91))  # continue while the line stays
        sweep_inline(full=True)
        assert _hem(patient) is None
    removed = clot_on + timedelta(days=150)  # the line stayed 5 months: treatment continued throughout
    with time_machine.travel(_at(removed), tick=False):
        patient_services.vascular_access_update(actor=clinician_carol, access=line, removed_on=removed)
        sweep_inline(full=True)
        assert _hem(patient) is None
    with time_machine.travel(_at(removed + timedelta(days=89)), tick=False):
        sweep_inline(full=True)
        assert _hem(patient) is None
    with time_machine.travel(_at(removed + timedelta(days=90)), tick=False):
        sweep_inline(full=True)
        flag = _hem(patient)
        assert flag is not None and flag.rule == "HEM-CRT"
        assert f"removed on {removed.isoformat()}" in flag.reason and "enoxaparin" in flag.reason
        assert flag.evidence["catheter_related"][0]["due_on"] == (removed + timedelta(days=90)).isoformat()


def test_no_crt_review_when_anticoagulation_stopped_earlier(clinician_carol):
    clock = _at(JUGULAR_DAY0 + timedelta(days=31))
    with time_machine.travel(clock, tick=False):
        stops = JUGULAR_DAY0 + timedelta(days=30 + 120)
        patient, line, clot_on = jugular_case(clinician_carol, anticoagulation_ends=stops)
        _review(clinician_carol, patient, clot_on + timedelta(days=1))
    removed = clot_on + timedelta(days=100)
    with time_machine.travel(_at(removed), tick=False):
        patient_services.vascular_access_update(actor=clinician_carol, access=line, removed_on=removed)
    with time_machine.travel(_at(removed + timedelta(days=91)), tick=False):
        sweep_inline(full=True)
        flag = _hem(patient)
        assert flag is None or flag.rule != "HEM-CRT"
        assert not ReviewFlag.objects.filter(patient=patient, rule="HEM-CRT").exists()


def test_the_vignette_clock_is_independent_of_these_cases():
    assert vignettes.VIGNETTE_CLOCK.date() > JUGULAR_DAY0


def test_both_snapshot_paths_carry_the_line_and_when_a_regimen_was_entered(clinician_carol, django_assert_num_queries):
    from django.db import connection

    from risk.snapshot import load_chunk, load_snapshots

    with time_machine.travel(_at(JUGULAR_DAY0 + timedelta(days=31)), tick=False):
        patient, line, clot_on = jugular_case(clinician_carol)
        patient_services.vascular_access_update(actor=clinician_carol, access=line, removed_on=clot_on)
        now = _at(JUGULAR_DAY0 + timedelta(days=31))
        with django_assert_num_queries(10):
            orm = load_snapshots([patient.pk], now)[patient.pk]
        chunk = load_chunk([patient.pk], now, risk_window=timedelta(days=30))[0][patient.pk]
    event = orm.events[0]
    assert (event.access_kind, event.access_vein, event.access_removed_on) == ("picc", "internal_jugular", clot_on)
    assert orm.regimens[0].recorded_at is not None
    assert chunk == orm, connection.vendor
