"""ITRS-v1 lab interpretation at its boundaries (risk/README.md, "Labs (ITRS-v1)"): which values
are held for verification, reference limits in the value's unit, and the ISTH score with
items missing or the PT skipped on a VKA/DOAC. No database."""

from __future__ import annotations

from datetime import timedelta

import pytest

from itrs.dic import isth_overt_dic
from itrs.engine import RULESET, assess
from itrs.labs import UNIT_ERROR_SIGNATURES, change_words, doubt_reason, platelet_fall
from patients import labs as catalogue
from tests.itrs import builders as b
from tests.itrs.builders import NOW, add
from tests.itrs.engine_helpers import BASE, override_codes
from tests.itrs.review_builders import AS_OF, ago, patient, run
from tests.itrs.review_builders import result as hand_result
from tests.itrs.review_records import lab, pre_labs


def test_the_ruleset_is_itrs_v1():
    assert RULESET == "ITRS-v1" and assess(BASE, NOW).ruleset == "ITRS-v1"


# --- verification by plausibility gates and unit-error signatures -----------------------------

SIGNATURES = [(test, factor) for test, pairs in UNIT_ERROR_SIGNATURES.items() for factor, _ in pairs]


@pytest.mark.parametrize(("test", "factor"), SIGNATURES)
@pytest.mark.parametrize("direction", [1, -1])
@pytest.mark.parametrize(
    ("off", "held"),
    [(1.0, True), (1.15, True), (0.85, True), (1.16, False), (0.84, False)],
)
def test_unit_error_signature_within_15_percent_is_held(test, factor, direction, off, held):
    previous = 2.0
    ratio = (factor if direction == 1 else 1 / factor) * off
    reason = doubt_reason(test, previous * ratio, previous)
    if test == "platelets" and previous * ratio > 1000:  # the > 1,000 gate speaks first
        assert "above 1000" in reason
        return
    assert bool(reason) is held, (test, ratio, reason)
    if held:
        assert "unit mix-up" in reason


def test_the_exact_signatures_of_the_contract():
    assert UNIT_ERROR_SIGNATURES.keys() == {"creatinine", "platelets", "d_dimer", "fibrinogen", "hemoglobin"}
    assert [f for f, _ in UNIT_ERROR_SIGNATURES["d_dimer"]] == [2.0, 1000.0]
    assert [f for f, _ in UNIT_ERROR_SIGNATURES["creatinine"]] == [88.4]


@pytest.mark.parametrize(
    ("test", "previous", "value"),
    [
        ("platelets", 250, 40),  # 6.25-fold fall: HIT or DIC, never held
        ("d_dimer", 0.4, 5.8),  # 14.5-fold: acute PE
        ("fibrinogen", 4.0, 0.7),  # 5.7-fold: DIC
        ("creatinine", 0.8, 4.8),  # 6-fold: real AKI
        ("platelets", 300, 1000),  # 1000 is not above 1000
    ],
)
def test_every_other_large_change_enters_the_rules_at_once(test, previous, value):
    assert doubt_reason(test, value, previous) == ""


def test_platelets_above_1000_still_need_confirmation():
    assert "above 1000" in doubt_reason("platelets", 1000.5, None)


def test_a_six_fold_real_change_enters_the_rules_with_changed_from_in_its_evidence():
    # platelets 250 -> 40 (6.25-fold) two days apart: HEM-URGENT at once, naming the change
    labs = pre_labs(ago(400)) + (lab("platelets", 250, ago(3)), lab("platelets", 40, ago(1)))
    flags = run(patient(labs=labs))
    reason = flags["hematology_review"].reason
    assert flags["hematology_review"].rule == "HEM-URGENT"
    assert "changed from 250 on 2025-02-26 to 40" in reason
    assert "fell 84% from the 14-day peak of 250" in reason


def test_change_words_only_for_large_changes_within_30_days():
    old = b.lab("d_dimer", 0.4, collected_at=NOW - timedelta(days=3))
    new = b.lab("d_dimer", 5.8, collected_at=NOW)
    assert change_words([old, new], new) == "changed from 0.4 on 2025-02-26 to 5.8"
    small = b.lab("d_dimer", 1.9, collected_at=NOW)
    assert change_words([old, small], small) == ""  # 4.75-fold
    stale = b.lab("d_dimer", 0.4, collected_at=NOW - timedelta(days=31))
    assert change_words([stale, new], new) == ""


# --- reference limits in the value's unit --------------------------------------------------------


def test_a_d_dimer_uln_of_500_ng_ml_is_0_5_mg_l():
    assert catalogue.reference_to_canonical("d_dimer", 500, "ng/mL FEU") == pytest.approx(0.5)
    # a value in mg/L with its cut-off given in ng/mL
    assert catalogue.reference_to_canonical("d_dimer", 500, None, "ng/mL FEU") == pytest.approx(0.5)
    assert catalogue.reference_to_canonical("fibrinogen", 400, "mg/dL") == pytest.approx(4.0)
    assert catalogue.reference_to_canonical("pt", 13.9, None) == 13.9


def test_with_uln_500_ng_ml_the_isth_d_dimer_item_scores_3_not_0():
    # D-dimer 2600 ng/mL FEU = 2.6 mg/L against ULN 500 ng/mL = 0.5 mg/L: 5.2 x ULN -> 3 points.
    # v0 read the ULN as 500 mg/L (0.005 x ULN -> 0 points) and a score of 5 read as 2.
    uln = catalogue.reference_to_canonical("d_dimer", 500, "ng/mL FEU")
    labs = [
        b.lab("platelets", 40),  # 2
        b.lab("d_dimer", 2.6, reference_high=uln),  # 3
        b.lab("pt", 14.0),  # 0
        b.lab("fibrinogen", 2.0),  # 0
    ]
    score, detail, _ = isth_overt_dic(labs, NOW)
    assert detail["d_dimer"]["points"] == 3 and score == 5


def test_an_unknown_reference_unit_is_refused_naming_the_field():
    with pytest.raises(catalogue.LabInputError) as err:
        catalogue.reference_to_canonical("d_dimer", 500, None, "furlongs")
    assert err.value.field == "reference_unit"


# --- ISTH: partial scores reaching 5, the 48 h repeat, the PT on a VKA/DOAC ------------------------

SEPSIS = b.condition("acute_infection_or_sepsis")


def test_partial_isth_reaching_5_counts_as_5_in_the_engine_and_the_review_rules():
    partial = (b.lab("platelets", 40), b.lab("d_dimer", 3.0))  # 2 + 3, PT and fibrinogen missing
    r = assess(add(BASE, SEPSIS, *partial), NOW)
    assert r.dic_score == 5 and r.dic["at_least"] and "e" in override_codes(r) and r.tier == "high"
    flags = run(patient(labs=pre_labs(ago(400)) + partial), res=r, as_of=NOW)
    daily = flags["clotting_studies"]
    assert (daily.rule, daily.priority) == ("CLOT-DAILY", "urgent")
    assert "already total 5 without pt, fibrinogen" in daily.reason.lower()
    assert "ISTH overt-DIC items already total 5" in flags["hematology_review"].reason


def test_partial_isth_at_4_is_not_overt_and_asks_for_a_repeat_within_48_hours():
    partial = (b.lab("platelets", 80, collected_at=NOW - timedelta(hours=10)), b.lab("d_dimer", 3.0))  # 1 + 3
    r = assess(add(BASE, SEPSIS, *partial), NOW)
    assert r.dic_score is None and "e" not in override_codes(r)
    flags = run(patient(labs=pre_labs(ago(400)) + partial), res=r, as_of=NOW)
    repeat = flags["clotting_studies"]
    assert (repeat.rule, repeat.priority) == ("CLOT-DAILY", "routine")
    assert "within 48 hours" in repeat.reason
    assert repeat.due_at == NOW - timedelta(hours=2) + timedelta(hours=48)  # 48 h after the latest DIC test


def test_a_full_isth_score_of_4_is_a_routine_repeat_not_urgent():
    # platelets 80: 1; D-dimer 3 x ULN: 2; PT +3.5 s: 1; fibrinogen 2.0: 0 -> 4
    labs = (b.lab("platelets", 80), b.lab("d_dimer", 1.5), b.lab("pt", 17.0), b.lab("fibrinogen", 2.0))
    r = assess(add(BASE, SEPSIS, *labs), NOW)
    assert r.dic_score == 4
    flags = run(patient(labs=pre_labs(ago(400)) + labs), res=r, as_of=NOW)
    assert (flags["clotting_studies"].rule, flags["clotting_studies"].priority) == ("CLOT-DAILY", "routine")
    assert "score 4 (below 5" in flags["clotting_studies"].reason


def test_no_dic_flag_without_a_dic_associated_condition():
    labs = (b.lab("platelets", 80), b.lab("d_dimer", 1.5))
    r = assess(add(BASE, *labs), NOW)
    assert r.dic == {} and "clotting_studies" not in run(patient(labs=pre_labs(ago(400)) + labs), res=r, as_of=NOW)


@pytest.mark.parametrize("drug", ["warfarin", "apixaban", "Xarelto"])
def test_the_pt_item_is_skipped_on_a_vka_or_doac_and_the_result_is_provisional(drug):
    labs = (b.lab("platelets", 80), b.lab("d_dimer", 1.5), b.lab("pt", 25.0), b.lab("fibrinogen", 2.0))
    anticoag = b.med("anticoagulant", drug=drug, intensity="therapeutic")
    r = assess(add(BASE, SEPSIS, anticoag, *labs), NOW)
    # platelets 1 + D-dimer 3x ULN 2 + fibrinogen 0 = 3; the PT (+11.5 s: 2 points) is not scored
    assert r.dic_score == 3 and r.dic["pt_skipped"].startswith(drug)
    assert r.provisional and any("ISTH overt-DIC PT item" in m for m in r.missing)
    assert any("PT not scored" in n for n in r.notes)


def test_the_pt_item_counts_on_a_heparin():
    labs = (b.lab("platelets", 80), b.lab("d_dimer", 1.5), b.lab("pt", 25.0), b.lab("fibrinogen", 2.0))
    anticoag = b.med("anticoagulant", drug="enoxaparin", drug_class="lmwh", intensity="therapeutic")
    r = assess(add(BASE, SEPSIS, anticoag, *labs), NOW)
    assert r.dic_score == 5 and r.dic["pt_skipped"] == ""


# --- platelet fall from the 14-day peak -------------------------------------------------------------


def test_the_fall_is_measured_from_the_14_day_peak():
    counts = (lab("platelets", 260, ago(10)), lab("platelets", 170, ago(5)), lab("platelets", 98, ago(1)))
    fall = platelet_fall(counts, AS_OF)
    assert fall.peak.value == 260 and round(fall.fraction, 2) == 0.62
    flags = run(patient(labs=pre_labs(ago(400)) + counts))
    assert flags["hematology_review"].rule == "HEM-URGENT"
    assert "fell 62% from the 14-day peak of 260 on 2025-02-19 to 98" in flags["hematology_review"].reason


def test_a_peak_14_days_before_the_count_counts():
    counts = (lab("platelets", 260, ago(15)), lab("platelets", 170, ago(5)), lab("platelets", 98, ago(1)))
    assert platelet_fall(counts, AS_OF).peak.value == 260


def test_a_peak_older_than_14_days_does_not_count():
    counts = (lab("platelets", 260, ago(15.01)), lab("platelets", 170, ago(5)), lab("platelets", 98, ago(1)))
    assert platelet_fall(counts, AS_OF).peak.value == 170  # 42%: no flag
    assert "hematology_review" not in run(patient(labs=pre_labs(ago(400)) + counts))


@pytest.mark.parametrize(("ended_days_before", "hit"), [(0, True), (30, True), (31, False)])
def test_hit_words_when_a_heparin_ran_in_the_30_days_before_the_fall(ended_days_before, hit):
    fall_day = ago(1)
    counts = (lab("platelets", 260, ago(8)), lab("platelets", 98, fall_day))
    heparin = b.med(
        "anticoagulant",
        drug="enoxaparin",
        drug_class="lmwh",
        intensity="prophylactic",
        start_date=fall_day.date() - timedelta(days=40),
        end_date=fall_day.date() - timedelta(days=ended_days_before),
    )
    flags = run(patient(labs=pre_labs(ago(400)) + counts, medications=(heparin,)))
    reason = flags["hematology_review"].reason
    assert ("possible heparin-induced thrombocytopenia: score the 4Ts and consider stopping heparin" in reason) is hit
    assert flags["hematology_review"].evidence["platelet_fall"]["heparin"] == (["enoxaparin"] if hit else [])


# --- ITP ---------------------------------------------------------------------------------------------


def test_itp_with_40_raises_nothing_on_the_low_count_alone():
    flags = run(patient(diagnosis="itp", labs=pre_labs(ago(400)) + (lab("platelets", 40, ago(1)),)))
    assert "hematology_review" not in flags


def test_itp_with_15_and_no_event_raises_nothing():
    flags = run(patient(diagnosis="itp", labs=pre_labs(ago(400)) + (lab("platelets", 15, ago(1)),)))
    assert "hematology_review" not in flags


def test_itp_with_15_plus_a_new_thrombosis_raises_hem_urgent_naming_the_count():
    event = b.event("dvt", diagnosed_on=ago(2).date())
    flags = run(patient(diagnosis="itp", labs=pre_labs(ago(400)) + (lab("platelets", 15, ago(1)),), events=(event,)))
    reason = flags["hematology_review"].reason
    assert "platelets 15 x10^9/L on 2025-02-28, below 20 in ITP with a new thrombosis" in reason


def test_itp_fall_rule_still_applies():
    counts = (lab("platelets", 120, ago(6)), lab("platelets", 40, ago(1)))
    flags = run(patient(diagnosis="itp", labs=pre_labs(ago(400)) + counts))
    assert "fell 67%" in flags["hematology_review"].reason


def test_non_itp_count_below_50_still_raises():
    flags = run(patient(labs=pre_labs(ago(400)) + (lab("platelets", 40, ago(1)),)))
    assert flags["hematology_review"].rule == "HEM-URGENT"


# --- thrombosis on anticoagulation ----------------------------------------------------------------


def test_thrombosis_on_therapeutic_anticoagulation_is_named_anticoagulant_failure():
    on = b.med("anticoagulant", drug="apixaban", intensity="therapeutic", start_date=ago(60).date())
    event = b.event("pe", diagnosed_on=ago(3).date())
    flags = run(patient(events=(event,), medications=(on,)), res=hand_result())
    assert (
        "while on therapeutic anticoagulation (apixaban since 2024-12-31): anticoagulant failure"
        in flags["hematology_review"].reason
    )


def test_thrombosis_on_prophylactic_heparin_is_not_anticoagulant_failure():
    on = b.med("anticoagulant", drug="enoxaparin", intensity="prophylactic", start_date=ago(60).date())
    event = b.event("pe", diagnosed_on=ago(3).date())
    flags = run(patient(events=(event,), medications=(on,)))
    assert "anticoagulant failure" not in flags["hematology_review"].reason
