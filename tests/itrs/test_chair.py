"""The chair check's caps (itrs.chair): mg/kg/min and mL/h on the dosing weight, whichever apply."""

from __future__ import annotations

from itrs import chair


def test_caps_lowest_first_with_ml_h_on_the_dosing_weight():
    # 96 kg, a 10% product (100 mg/mL): mL/h = mg/kg/min x 96 x 60 / 100.
    found = chair.caps(
        concentration_percent=10, weight_kg=96, label_max=8, at_risk_because=["Hypertension"], renal_max=None
    )
    assert [(c.name, c.mg_kg_min, c.ml_h) for c in found] == [
        ("at_risk", 3.3, 190.1),  # 3.3 x 96 x 60 / 100 = 190.08
        ("label", 8.0, 460.8),  # 8 x 96 x 60 / 100 = 460.8
    ]
    assert "Hypertension" in found[0].why and "[R8][R9]" in found[0].why


def test_a_5_percent_product_doubles_the_volume_and_no_weight_gives_no_ml_h():
    # Octagam 5% (50 mg/mL), 70 kg: 3.3 x 70 x 60 / 50 = 277.2 mL/h.
    (at_risk, label) = chair.caps(concentration_percent=5, weight_kg=70, label_max=3.33, at_risk_because=["age 70"])
    assert (at_risk.ml_h, label.ml_h) == (277.2, 279.7)  # 3.33 x 70 x 60 / 50 = 279.72
    (no_weight,) = chair.caps(concentration_percent=10, weight_kg=None, label_max=8, at_risk_because=[])
    assert (no_weight.name, no_weight.ml_h) == ("label", None)


def test_renal_cap_only_when_the_product_has_one_and_the_patient_is_renal_risk():
    with_renal = chair.caps(
        concentration_percent=10, weight_kg=80, label_max=8, at_risk_because=[], renal_max=2, renal_because=["diabetes"]
    )
    assert [c.name for c in with_renal] == ["renal", "label"] and with_renal[0].ml_h == 96.0  # 2 x 80 x 60 / 100
    without = chair.caps(concentration_percent=10, weight_kg=80, label_max=8, at_risk_because=[], renal_max=2)
    assert [c.name for c in without] == ["label"]


def test_above_cap_is_strictly_above_an_at_risk_or_renal_cap():
    found = chair.caps(concentration_percent=10, weight_kg=70, label_max=8, at_risk_because=["x"])
    assert chair.above_cap(3.3, found) is None
    assert chair.above_cap(3.31, found).name == "at_risk"
    assert chair.above_cap(None, found) is None
    label_only = chair.caps(concentration_percent=10, weight_kg=70, label_max=8, at_risk_because=[])
    assert chair.above_cap(6.0, label_only) is None
    # A pump rate: 200 mL/h of 10% at 70 kg = 200 x 100 / (70 x 60) = 4.76 mg/kg/min.
    assert chair.given_rate(None, 200, 10, 70) == 4.76
