"""ITRS-v1 renal safety and IgA at their boundaries (risk/README.md, "Renal" and "IgA"): CKD-EPI
2021 against hand-worked values, the renal-risk definition, KDIGO AKI (RENAL-AKI), RENAL-PRE-
COURSE, the renal advice in mg/kg/min and mL/h, and IGA-LOW. No database."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from itrs.engine import assess
from itrs.renal import egfr_ckd_epi_2021, kdigo_aki, renal_cap, renal_risk_reasons
from tests.itrs import builders as b
from tests.itrs.builders import GAMUNEX_C, NOW, PANZYGA, add, born
from tests.itrs.engine_helpers import BASE, rec
from tests.itrs.review_builders import AS_OF, TODAY, ago, at, patient, run
from tests.itrs.review_records import infusion, lab, pre_labs

# --- CKD-EPI 2021 ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("creatinine", "age", "sex", "expected"),
    [
        # Woman, 50 y, Scr 1.0 mg/dL. By hand: Scr/k = 1.0/0.7 = 1.4286; min(.,1)^-0.241 = 1;
        # max(.,1)^-1.200 = exp(-1.2 x ln 1.4286 = -0.42801) = 0.65180; 0.9938^50 = exp(50 x
        # -0.0062193) = 0.73274; 142 x 0.65180 x 0.73274 x 1.012 = 68.6 (NKF calculator: 68-69).
        (1.0, 50, "female", 68.6),
        # Man, 60 y, Scr 1.2: 1.2/0.9 = 1.3333; ^-1.2 = exp(-1.2 x 0.28768) = 0.70808; 0.9938^60 =
        # exp(-0.37316) = 0.68857; 142 x 0.70808 x 0.68857 = 69.2.
        (1.2, 60, "male", 69.2),
        # Woman, 40 y, Scr 0.6 (below k): 0.6/0.7 = 0.85714; ^-0.241 = exp(0.241 x 0.15415) =
        # 1.03785; 0.9938^40 = 0.77977; 142 x 1.03785 x 0.77977 x 1.012 = 116.3.
        (0.6, 40, "female", 116.3),
        # Man, 70 y, Scr 2.0: 2.0/0.9 = 2.2222; ^-1.2 = exp(-1.2 x 0.79851) = 0.38368; 0.9938^70 =
        # exp(-0.43535) = 0.64705; 142 x 0.38368 x 0.64705 = 35.3.
        (2.0, 70, "male", 35.3),
    ],
)
def test_ckd_epi_2021_against_hand_worked_values(creatinine, age, sex, expected):
    assert egfr_ckd_epi_2021(creatinine, age, sex) == pytest.approx(expected, abs=0.1)


@pytest.mark.parametrize(("age", "sex"), [(17, "female"), (50, "other"), (50, "unknown")])
def test_egfr_is_not_computed_for_children_or_sex_other_unknown(age, sex):
    assert egfr_ckd_epi_2021(1.0, age, sex) is None


# --- renal risk -----------------------------------------------------------------------------------


def _reasons(**kw):
    base = dict(present_conditions=(), age=50, sex="female", medications=(), today=TODAY, latest_creatinine=None)
    base.update(kw)
    return renal_risk_reasons(**base)


@pytest.mark.parametrize(
    ("kw", "word"),
    [
        ({"present_conditions": {"renal_impairment"}}, "renal impairment"),
        ({"present_conditions": {"diabetes"}}, "diabetes"),
        ({"present_conditions": {"volume_depletion"}}, "volume depletion"),
        ({"present_conditions": {"acute_infection_or_sepsis"}}, "sepsis"),
        ({"present_conditions": {"paraproteinemia"}}, "paraproteinaemia"),
        ({"age": 66}, "age 66"),
        ({"medications": (b.med("diuretic", start_date=TODAY - timedelta(days=5)),)}, "diuretic (furosemide)"),
        # woman 50, Scr 1.6: 142 x (1.6/0.7)^-1.2 (0.37083) x 0.9938^50 (0.73274) x 1.012 = 39.0
        ({"latest_creatinine": lab("creatinine", 1.6, ago(2))}, "eGFR 39 (< 60)"),
    ],
)
def test_each_renal_risk_reason(kw, word):
    assert any(word in r for r in _reasons(**kw))


def test_not_renal_risk_at_65_with_a_normal_egfr():
    assert _reasons(age=65, latest_creatinine=lab("creatinine", 0.8, ago(2))) == []


# --- KDIGO AKI -------------------------------------------------------------------------------------

GIVEN = (infusion(ago(3)),)


@pytest.mark.parametrize(
    ("baseline", "hours_before", "latest", "aki"),
    [
        (0.8, 47, 1.1, True),  # +0.3 in 47 h
        (0.8, 48, 1.1, True),  # +0.3 in exactly 48 h
        (0.8, 47, 1.09, False),  # +0.29 (ratio 1.36)
        (0.8, 49, 1.1, False),  # +0.3 but over 49 h, ratio 1.375 < 1.5
        (0.8, 6 * 24, 1.2, True),  # 1.5 x the lowest in 7 days
        (0.8, 6 * 24, 1.19, False),  # 1.49 x
        (0.8, 7 * 24 + 1, 1.3, False),  # 1.6 x but the baseline is older than 7 days
    ],
)
def test_kdigo_boundaries(baseline, hours_before, latest, aki):
    labs = (lab("creatinine", baseline, ago(1) - timedelta(hours=hours_before)), lab("creatinine", latest, ago(1)))
    found = kdigo_aki(labs, GIVEN, AS_OF)
    assert (found is not None) is aki


def test_kdigo_needs_an_infusion_in_the_7_days_before():
    labs = (lab("creatinine", 0.8, ago(3)), lab("creatinine", 1.6, ago(1)))
    assert kdigo_aki(labs, (infusion(ago(9)),), AS_OF) is None
    assert kdigo_aki(labs, (infusion(ago(2), status="planned"),), AS_OF) is None
    assert kdigo_aki(labs, (infusion(ago(2)),), AS_OF) is not None


def test_renal_aki_is_an_urgent_renal_check_flag_with_its_numbers():
    labs = pre_labs(ago(400)) + (lab("creatinine", 0.9, ago(3)), lab("creatinine", 1.6, ago(1)))
    flags = run(patient(labs=labs, infusions=(infusion(ago(4)),)))
    flag = flags["renal_check"]
    assert (flag.rule, flag.priority) == ("RENAL-AKI", "urgent")
    assert "Creatinine rose 0.70 mg/dL in 48 h (0.9 -> 1.6 mg/dL" in flag.reason
    # woman 55: 142 x 0.37083 x 0.9938^55 (0.71029) x 1.012 = 37.9
    assert "eGFR 38 mL/min/1.73 m2" in flag.reason and "after IVIG on 2025-02-25" in flag.reason


# --- RENAL-PRE-COURSE ---------------------------------------------------------------------------------


def test_renal_pre_course_for_a_renal_risk_patient_without_a_recent_creatinine():
    # next course 2025-03-04; creatinine 2025-02-01 is 31 days before it
    old = pre_labs(ago(400)) + (lab("creatinine", 0.9, at(2025, 2, 1)),)
    flags = run(patient(labs=old, date_of_birth=date(1955, 1, 1)))  # age 70
    flag = flags["renal_check"]
    assert (flag.rule, flag.priority) == ("RENAL-PRE-COURSE", "routine")
    assert "age 70 (> 65)" in flag.reason and "course starting 2025-03-04" in flag.reason
    assert flag.due_at == at(2025, 3, 3, 0, 0)  # the day before the course


def test_no_renal_pre_course_with_a_creatinine_30_days_before_the_course():
    recent = pre_labs(ago(400)) + (lab("creatinine", 0.9, at(2025, 2, 2, 0, 0)),)
    assert "renal_check" not in run(patient(labs=recent, date_of_birth=date(1955, 1, 1)))


def test_no_renal_pre_course_for_a_patient_without_renal_risk():
    assert "renal_check" not in run(patient(labs=pre_labs(ago(400))))


# --- renal advice in the assessment --------------------------------------------------------------------


@pytest.mark.parametrize(("product", "cap", "ml_h"), [(GAMUNEX_C, 8.0, 336.0), (PANZYGA, 3.3, 138.6)])
def test_renal_rate_cap_in_mg_kg_min_and_ml_h_for_the_patient(product, cap, ml_h):
    # 70 kg, a 10% product: mL/h = mg/kg/min x kg x 60 / (10 x concentration%) = cap x 70 x 60 / 100
    snap = add(b.patient(weight_kg=70.0, date_of_birth=born(70)), b.regimen(product))
    r = assess(snap, NOW)
    sucrose = rec(r, "RENAL-SUCROSE-FREE")
    assert sucrose and "age 70 (> 65)" in sucrose["text"] and "sucrose-free" in sucrose["text"]
    capped = rec(r, "RENAL-RATE-CAP")
    assert capped["max_mg_kg_min"] == cap and capped["ml_h"] == ml_h
    assert f"{ml_h:g} mL/h at 70 kg of a 10% product" in capped["text"]


def test_renal_cap_table():
    assert renal_cap("Gamunex-C 10%") == (8.0, True)
    assert renal_cap("Octagam 5%") == (3.3, False)
    assert renal_cap("Privigen 10%") is None


def test_no_renal_advice_without_renal_risk():
    r = assess(add(BASE, b.regimen(GAMUNEX_C)), NOW)
    assert rec(r, "RENAL-SUCROSE-FREE") is None and rec(r, "RENAL-RATE-CAP") is None


def test_cryoglobulinaemia_with_creatinine_1_6_is_renal_risk_by_egfr():
    # the held-out case: creatinine 1.6 mg/dL in a cryoglobulinaemic woman raised nothing in v0.
    # Age 30: 142 x 0.37083 x 0.9938^30 (0.82979) x 1.012 = 44.2
    snap = add(b.patient(), b.condition("cryoglobulinemia"), b.lab("creatinine", 1.6), b.regimen(GAMUNEX_C))
    r = assess(snap, NOW)
    assert "eGFR 44 (< 60)" in rec(r, "RENAL-SUCROSE-FREE")["text"]


# --- IGA-LOW ------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("iga", "age", "raised"),
    [(6.9, 5, True), (7.0, 5, False), (6.9, 4, False), (7.0, 4, False)],
)
def test_iga_low_boundaries(iga, age, raised):
    labs = (lab("platelets", 250, ago(10)), lab("creatinine", 0.4, ago(10)), lab("iga", iga, ago(10)))
    flags = run(patient(labs=labs, date_of_birth=born(age, ago(10).date())))
    assert (flags.get("pre_ivig_labs") is not None and flags["pre_ivig_labs"].rule == "IGA-LOW") is raised
    if raised:
        reason = flags["pre_ivig_labs"].reason
        assert "check anti-IgA antibodies" in reason and "Privigen <= 25 ug/mL" in reason


def test_pre_ivig_speaks_first_while_a_lab_is_missing():
    labs = (lab("iga", 4, ago(10)),)
    flags = run(patient(labs=labs))
    assert flags["pre_ivig_labs"].rule == "PRE-IVIG"
