"""Review rules changed with ITRS-v1 (docs/review-rules.md): anticoagulation reviews for VTE
treatment only, retinal vein occlusion not a VTE, anticoagulant failure, MED-UNCODED."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

import pytest

from itrs.types import EventSnap, MedSnap
from tests.itrs.review_builders import TODAY, patient, rule_of, run
from tests.itrs.review_records import anticoagulant


@pytest.mark.parametrize(
    ("indication", "review"),
    [
        ("vte_treatment", True),
        ("atrial_fibrillation", False),
        ("mechanical_valve", False),
        ("vte_prophylaxis", False),
        ("other", False),
    ],
)
def test_anticoagulation_reviews_for_vte_treatment_only(indication, review):
    course = replace(anticoagulant("therapeutic", TODAY - timedelta(days=120)), indication=indication)
    flags = run(patient(medications=(course,)))
    assert (rule_of(flags, "hematology_review") == "HEM-ROUTINE") == review
    extended = replace(anticoagulant("extended", TODAY - timedelta(days=500)), indication=indication)
    flags = run(patient(medications=(extended,)))
    assert (rule_of(flags, "hematology_review") == "HEM-ROUTINE") == review


def test_old_retinal_vein_occlusion_is_not_a_prior_vte_for_hem_routine():
    rvo = EventSnap("retinal_vein", "confirmed", TODAY - timedelta(days=800))
    dvt = EventSnap("dvt", "confirmed", TODAY - timedelta(days=800))
    assert rule_of(run(patient(events=(rvo,))), "hematology_review") is None
    assert rule_of(run(patient(events=(dvt,))), "hematology_review") == "HEM-ROUTINE"


def test_recent_retinal_vein_occlusion_raises_hem_urgent_and_clot_event():
    rvo = EventSnap("retinal_vein", "confirmed", TODAY - timedelta(days=5))
    flags = run(patient(events=(rvo,)))
    assert rule_of(flags, "hematology_review") == "HEM-URGENT"
    assert rule_of(flags, "clotting_studies") == "CLOT-EVENT"


def test_thrombosis_on_full_anticoagulation_is_called_anticoagulant_failure():
    on_drug = anticoagulant("therapeutic", TODAY - timedelta(days=60))
    pe = EventSnap("pe", "confirmed", TODAY - timedelta(days=3))
    flag = run(patient(events=(pe,), medications=(on_drug,)))["hematology_review"]
    assert flag.rule == "HEM-URGENT" and "anticoagulant failure" in flag.reason
    flag = run(patient(events=(pe,)))["hematology_review"]
    assert "anticoagulant failure" not in flag.reason


def test_free_text_medicine_raises_med_uncoded():
    bananas = MedSnap(category="other", drug="bananas", start_date=TODAY - timedelta(days=10))
    flag = run(patient(medications=(bananas,)))["data_quality"]
    assert flag.rule == "MED-UNCODED" and "bananas" in flag.reason and flag.priority == "routine"
    stopped = replace(bananas, end_date=TODAY - timedelta(days=1))
    assert "data_quality" not in run(patient(medications=(stopped,)))
