"""ISTH overt-DIC score (itrs/dic.py; risk/README.md, DIC): the table, the look-back, the gaps."""

from __future__ import annotations

from datetime import timedelta

import pytest

from itrs.dic import isth_overt_dic
from tests.itrs import builders as b
from tests.itrs.builders import NOW

NORMAL = {"platelets": 250, "d_dimer": 0.3, "pt": 12.0, "fibrinogen": 3.0}


def panel(**values) -> list:
    """A full verified panel collected 2 h before NOW, normal unless overridden."""
    return [b.lab(test, value) for test, value in {**NORMAL, **values}.items()]


def score(labs, **kw):
    return isth_overt_dic(labs, NOW, **kw)[0]


def item(labs, test: str) -> int:
    return isth_overt_dic(labs, NOW)[1][test]["points"]


def test_normal_panel_scores_zero_with_one_detail_per_test():
    result, detail, missing = isth_overt_dic(panel(), NOW)
    assert (result, missing, detail["known_points"]) == (0, [], 0)
    assert detail["platelets"]["value"] == 250 and detail["platelets"]["text"] == "platelets 250 x10^9/L"


@pytest.mark.parametrize(("value", "expected"), [(100, 0), (99.9, 1), (50, 1), (49.9, 2)])
def test_platelets(value, expected):
    assert item(panel(platelets=value), "platelets") == expected


@pytest.mark.parametrize(
    ("value", "expected"),
    [(0.99, 0), (1.0, 2), (2.0, 2), (2.005, 3)],  # default ULN 0.5: <2x 0, 2-4x 2, >4x 3
)
def test_d_dimer_against_the_default_uln(value, expected):
    assert item(panel(d_dimer=value), "d_dimer") == expected


def test_d_dimer_against_the_labs_own_uln():
    labs = [lab for lab in panel() if lab.test != "d_dimer"] + [b.lab("d_dimer", 1.0, reference_high=0.25)]
    assert item(labs, "d_dimer") == 2  # 4.0 x ULN


@pytest.mark.parametrize(("value", "expected"), [(16.4, 0), (16.5, 1), (19.4, 1), (19.5, 2)])
def test_pt_seconds_above_the_default_normal(value, expected):
    assert item(panel(pt=value), "pt") == expected  # normal 13.5 s


def test_pt_against_the_labs_own_normal():
    labs = [lab for lab in panel() if lab.test != "pt"] + [b.lab("pt", 15.0, reference_high=12.0)]
    assert item(labs, "pt") == 1  # 3 s above


@pytest.mark.parametrize(("value", "expected"), [(1.0, 0), (0.99, 1)])
def test_fibrinogen(value, expected):
    assert item(panel(fibrinogen=value), "fibrinogen") == expected


def test_the_maximum_is_8_and_overt_from_5():
    assert score(panel(platelets=20, d_dimer=5.0, pt=20.0, fibrinogen=0.5)) == 8
    assert score(panel(platelets=40, d_dimer=3.0)) == 5


def test_v01_day_11_labs_score_3():
    snapshot = b.v01_snapshot()
    result, detail, missing = isth_overt_dic(snapshot.labs, NOW)
    assert (result, missing) == (3, [])
    assert {t: detail[t]["points"] for t in ("platelets", "d_dimer", "pt", "fibrinogen")} == {
        "platelets": 0,
        "d_dimer": 3,
        "pt": 0,
        "fibrinogen": 0,
    }


def test_a_missing_test_gives_none_with_the_known_points():
    labs = [lab for lab in panel(platelets=30) if lab.test != "fibrinogen"]
    result, detail, missing = isth_overt_dic(labs, NOW)
    assert result is None and missing == ["fibrinogen"]
    assert detail["known_points"] == 2 and "fibrinogen" not in detail


def test_only_the_look_back_window_counts():
    old = [b.lab(lab.test, lab.value, collected_at=NOW - timedelta(hours=73)) for lab in panel()]
    assert isth_overt_dic(old, NOW)[2] == ["platelets", "d_dimer", "pt", "fibrinogen"]
    edge = [b.lab(lab.test, lab.value, collected_at=NOW - timedelta(hours=72)) for lab in panel()]
    assert score(edge) == 0
    assert score(old, lookback_hours=96) == 0


def test_labs_after_as_of_or_needing_verification_are_ignored():
    later = [b.lab(lab.test, lab.value, collected_at=NOW + timedelta(minutes=1)) for lab in panel()]
    doubtful = [b.lab(lab.test, lab.value, needs_verification=True) for lab in panel()]
    assert score(later) is None and score(doubtful) is None
    assert score(panel() + [b.lab("platelets", 20, needs_verification=True)]) == 0


def test_the_latest_result_of_each_test_counts():
    earlier_low = b.lab("platelets", 20, collected_at=NOW - timedelta(hours=30))
    assert item(panel() + [earlier_low], "platelets") == 0
    later_low = b.lab("platelets", 20, collected_at=NOW - timedelta(minutes=10))
    assert item(panel() + [later_low], "platelets") == 2
