"""The clinical vignettes (docs/vignette-cases.md) through the review rules, as pure snapshots
(clock 2025-03-01 09:00 UTC)."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime, timedelta

import pytest

from itrs.types import AccessSnap, ConditionSnap, EventSnap, LabSnap, MedSnap, PatientSnapshot, SymptomSnap
from tests.itrs.review_builders import TODAY, ago, at, day, patient, result, run
from tests.itrs.review_records import infusion, lab, panel, pre_labs, regimen

# --- vignettes (pure versions; clock 2025-03-01 09:00 UTC) ------------------------------


def v01(labs_after_event: tuple[LabSnap, ...] = ()) -> PatientSnapshot:
    """V01: CIDP, 5-day induction from 2025-02-17 (day 1), PE + DVT confirmed on day 11."""
    return PatientSnapshot(
        patient_id=101,
        date_of_birth=date(1960, 6, 1),
        sex="male",
        height_cm=178,
        weight_kg=96,
        weight_measured_on=date(2025, 2, 16),
        diagnosis="cidp",
        conditions=(ConditionSnap("hypertension", date(2015, 1, 1)),),
        events=(
            EventSnap("pe", "confirmed", date(2025, 2, 27)),
            EventSnap("dvt", "confirmed", date(2025, 2, 27)),
        ),
        labs=pre_labs(at(2025, 2, 16)) + labs_after_event,
        regimens=(
            regimen(date(2025, 2, 17), interval=None, days=5),
            regimen(date(2025, 3, 10), interval=21),  # planned maintenance 1 g/kg every 3 weeks
        ),
        infusions=tuple(infusion(at(2025, 2, 17 + i, 10)) for i in range(5)),
        symptom_reports=(
            SymptomSnap(at(2025, 2, 25, 18), "urgent", ("limb_pain_swelling",)),
            SymptomSnap(at(2025, 2, 27, 7, 30), "emergency", ("chest_pain", "sudden_breathlessness")),
        ),
    )


def test_v01_post_event_right_after_recording_is_hem_urgent_and_clot_event():
    recorded = at(2025, 2, 27, 12)
    flags = run(v01(), result("high", 11), as_of=recorded)
    assert flags["hematology_review"].rule == "HEM-URGENT"
    assert flags["hematology_review"].reason == (
        "Confirmed pulmonary embolism on 2025-02-27, confirmed deep vein thrombosis on "
        "2025-02-27 and no haematology review since."
    )
    assert flags["clotting_studies"].rule == "CLOT-EVENT"
    assert flags["clotting_studies"].due_at == recorded + timedelta(hours=24)
    assert "data_quality" not in flags and "pre_ivig_labs" not in flags


def test_v01_panel_after_the_event_resolves_clot_event():
    day11 = panel(at(2025, 2, 27, 14)) + (
        lab("inr", 1.0, at(2025, 2, 27, 14)),
        lab("d_dimer", 5.8, at(2025, 2, 27, 14)),
        lab("creatinine", 1.0, at(2025, 2, 27, 14)),
    )
    flags = run(v01(day11), result("high", 11))
    assert flags["hematology_review"].rule == "HEM-URGENT"
    assert "clotting_studies" not in flags


def test_v02_jugular_port_thrombosis_is_hem_urgent_and_clot_event():
    snap = PatientSnapshot(
        patient_id=102,
        date_of_birth=date(1972, 5, 1),
        sex="female",
        height_cm=165,
        weight_kg=70,
        weight_measured_on=date(2025, 2, 9),
        diagnosis="cidp",
        accesses=(AccessSnap("port", "internal_jugular", date(2024, 1, 3)),),
        events=(
            EventSnap(
                "jugular_vein",
                "confirmed",
                date(2025, 2, 28),
                provocation="catheter_related",
                catheter_related=True,
            ),
        ),
        labs=pre_labs(at(2019, 3, 1)),
        regimens=(regimen(date(2024, 6, 2), interval=14),),
        infusions=(infusion(at(2025, 2, 9)), infusion(at(2025, 2, 23))),
        symptom_reports=(SymptomSnap(at(2025, 2, 27, 10), "urgent", ("neck_face_arm_swelling",)),),
    )
    flags = run(snap, result("high", 6))
    assert flags["hematology_review"].rule == "HEM-URGENT"
    assert "Confirmed jugular vein thrombosis on 2025-02-28" in flags["hematology_review"].reason
    assert flags["clotting_studies"].rule == "CLOT-EVENT"
    assert flags["clotting_studies"].evidence["triggers"][0]["catheter_related"] is True


def test_v04_low_risk_with_labs_on_file_has_no_flags():
    snap = PatientSnapshot(
        patient_id=104,
        date_of_birth=date(1996, 8, 1),
        sex="female",
        height_cm=168,
        weight_kg=58,
        weight_measured_on=date(2025, 2, 13),
        diagnosis="mmn",
        labs=(
            lab("platelets", 260, at(2023, 4, 1)),
            lab("hemoglobin", 13.5, at(2023, 4, 1)),
            lab("creatinine", 0.7, at(2023, 4, 1)),
            lab("iga", 180, at(2023, 4, 1)),
        ),
        regimens=(regimen(date(2023, 4, 20), interval=28, days=2),),
        infusions=(infusion(at(2025, 2, 13)), infusion(at(2025, 2, 14))),
        symptom_reports=(SymptomSnap(at(2025, 2, 13, 15), "routine", ("other",)),),
    )
    assert run(snap, result("low", 0)) == {}


@pytest.mark.parametrize("vignette", ["V07", "V10"])
def test_v07_v10_moderate_without_panel_is_clot_baseline(vignette):
    if vignette == "V07":  # oral HRT, 72 g every 3 weeks, established
        snap = patient(
            date_of_birth=date(1966, 9, 1),
            weight_kg=72,
            medications=(MedSnap("estrogen", "estradiol", date(2022, 3, 1)),),
            labs=pre_labs(at(2024, 9, 10)) + (lab("platelets", 240, ago(30)), lab("creatinine", 0.8, ago(30))),
        )
        score = 5
    else:  # new prednisolone, first 2-day course starting 2025-03-04
        snap = patient(
            date_of_birth=date(1975, 11, 1),
            sex="male",
            weight_kg=85,
            medications=(MedSnap("steroid", "prednisolone", day(21), prednisolone_eq_mg_per_day=60),),
            regimens=(regimen(date(2025, 3, 4), interval=None, days=2),),
            infusions=(),
            labs=pre_labs(ago(4)) + (lab("hemoglobin", 14, ago(4)),),
        )
        score = 6
    flags = run(snap, result("moderate", score))
    assert "hematology_review" not in flags
    assert flags["clotting_studies"].rule == "CLOT-BASELINE"
    assert flags["clotting_studies"].due_at == datetime(2025, 3, 4, tzinfo=UTC)
    assert set(flags) == {"clotting_studies"}


def test_v12_missing_weight_is_weight_missing_only():
    snap = patient(
        date_of_birth=date(1969, 12, 1),
        sex="male",
        weight_kg=None,
        weight_measured_on=None,
        infusions=(infusion(at(2025, 2, 11)), infusion(at(2025, 1, 21))),
    )
    flags = run(snap, result("low", 2, provisional=True))
    assert "hematology_review" not in flags and "clotting_studies" not in flags
    assert flags["data_quality"].rule == "WEIGHT-MISSING"
    assert flags["data_quality"].priority == "routine"


def test_v15_future_infusion_stored_as_planned_raises_nothing():
    snap = patient(
        date_of_birth=date(1980, 7, 1),
        weight_kg=65,
        infusions=(
            infusion(at(2025, 2, 20, 10)),
            infusion(at(2025, 3, 11, 10), "planned"),
            infusion(at(2025, 3, 1, 9, 3)),  # 3 minutes ahead of the clock: not yet "given"
        ),
        symptom_reports=(SymptomSnap(at(2025, 3, 1, 8, 50), "routine", ("other",)),),
    )
    assert run(snap, result("low", 0)) == {}


def test_v16_urgent_calf_symptom_is_clot_event_not_haematology():
    report = SymptomSnap(at(2025, 2, 28, 11), "urgent", ("limb_pain_swelling", "limb_discoloration"))
    snap = patient(
        date_of_birth=date(1988, 10, 1),
        weight_kg=60,
        infusions=(infusion(at(2025, 2, 25, 10)),),
        symptom_reports=(report,),
    )
    flags = run(snap, result("low", 1))
    assert set(flags) == {"clotting_studies"}
    assert flags["clotting_studies"].rule == "CLOT-EVENT"
    assert flags["clotting_studies"].reason.startswith("Urgent symptom report on 2025-02-28")
    # if the DVT is then confirmed, haematology becomes urgent
    confirmed = replace(snap, events=(EventSnap("dvt", "confirmed", TODAY),))
    assert run(confirmed, result("high", 7))["hematology_review"].rule == "HEM-URGENT"
