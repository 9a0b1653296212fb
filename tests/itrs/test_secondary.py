"""Padua (2010) and Caprini (2005) secondary scores (itrs/secondary.py; risk/README.md, Secondary scores)."""

from __future__ import annotations

import pytest

from itrs.engine import assess, read_facts
from itrs.secondary import caprini, padua
from tests.itrs import builders as b
from tests.itrs.builders import NOW, add, days_before

BASE = b.patient()


def padua_of(snapshot, as_of=NOW) -> dict:
    return padua(read_facts(snapshot, as_of))


def caprini_of(snapshot, as_of=NOW) -> dict:
    return caprini(read_facts(snapshot, as_of))


EVERYTHING = add(
    b.patient(age=72, height_cm=200, weight_kg=124),  # BMI 31
    b.condition("active_cancer"),
    b.event("dvt", diagnosed_on=days_before(400)),
    b.condition("bedbound"),
    b.condition("thrombophilia"),
    b.condition("major_surgery_or_trauma", days_before(10)),
    b.condition("heart_failure"),
    b.event("mi", diagnosed_on=days_before(5)),
    b.condition("acute_infection_or_sepsis"),
    b.med("estrogen"),
)


def test_both_are_in_the_result_and_marked_secondary():
    r = assess(*b.v07())
    assert set(r.secondary) == {"padua", "caprini"}
    for score in r.secondary.values():
        assert score["note"] == "secondary score for comparison, not used for the tier"
        assert sum(i["points"] for i in score["items"]) == score["score"]


def test_padua_v01_admission_is_only_obesity():
    snapshot, as_of = b.v01_pre_event()
    p = padua_of(snapshot, as_of)
    assert (p["name"], p["version"], p["score"], p["band"]) == ("Padua", "2010", 1, "low")
    assert p["items"] == [{"label": "Obesity (BMI 30.3)", "points": 1}]


def test_padua_every_item():
    p = padua_of(EVERYTHING)
    assert p["score"] == 3 + 3 + 3 + 3 + 2 + 1 + 1 + 1 + 1 + 1 + 1 and p["band"] == "high"


@pytest.mark.parametrize(("age", "expected"), [(69, 0), (70, 1)])
def test_padua_age_from_70(age, expected):
    assert padua_of(b.patient(age=age))["score"] == expected


def test_padua_high_from_4():
    assert padua_of(add(BASE, b.condition("active_cancer")))["band"] == "low"
    assert padua_of(add(BASE, b.condition("active_cancer"), b.med("estrogen")))["band"] == "high"


def test_padua_reduced_mobility_is_not_bed_rest():
    assert padua_of(add(BASE, b.condition("reduced_mobility")))["score"] == 0


def test_padua_lists_what_it_cannot_assess_and_what_is_missing():
    p = padua_of(b.patient(weight_kg=None))
    assert "respiratory failure" in p["not_assessed"]
    assert p["missing"] == ["weight: obesity (BMI >=30)"]


@pytest.mark.parametrize(("age", "expected"), [(40, 0), (41, 1), (60, 1), (61, 2), (74, 2), (75, 3)])
def test_caprini_age_bands(age, expected):
    assert caprini_of(b.patient(age=age))["score"] == expected


@pytest.mark.parametrize(("weight", "expected"), [(100.0, 0), (100.4, 1)])  # 200 cm: BMI 25.0 / 25.1
def test_caprini_bmi_above_25(weight, expected):
    assert caprini_of(b.patient(height_cm=200, weight_kg=weight))["score"] == expected


def test_caprini_v01_pre_event():
    c = caprini_of(*b.v01_pre_event())
    # age 64 (2), BMI 30.3 (1), reduced mobility as bed rest (1)
    assert (c["name"], c["version"], c["score"], c["band"]) == ("Caprini", "2005", 4, "high")


def test_caprini_every_item():
    c = caprini_of(add(EVERYTHING, b.access("port"), b.condition("pregnancy_postpartum")))
    expected = 2 + 1 + 1 + 1 + 1 + 2 + 1 + 1 + 2 + 2 + 2 + 3 + 3  # no stroke
    assert c["score"] == expected and c["band"] == "highest"


def test_caprini_counts_previous_malignancy_and_recent_stroke():
    cured = b.condition("active_cancer", days_before(900), days_before(400))
    assert caprini_of(add(BASE, cured))["score"] == 2
    assert padua_of(add(BASE, cured))["score"] == 0
    stroke = b.event("ischemic_stroke", diagnosed_on=days_before(20))
    assert caprini_of(add(BASE, stroke))["score"] == 5
    assert caprini_of(add(BASE, b.event("ischemic_stroke", diagnosed_on=days_before(31))))["score"] == 0


@pytest.mark.parametrize(
    ("records", "band"),
    [((), "low"), ((b.access("port"),), "moderate"), ((b.access("port"), b.med("estrogen")), "high")],
)
def test_caprini_bands(records, band):
    assert caprini_of(add(BASE, *records))["band"] == band


def test_caprini_lists_what_it_cannot_assess():
    assert "varicose veins" in caprini_of(BASE)["not_assessed"]
