"""Review rules of the routine checks: VISCOSITY, PRE-IVIG and the weight rules (docs/review-rules.md)."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from itrs.types import FlagHistory
from tests.itrs.review_builders import ago, at, day, patient, rule_of, run
from tests.itrs.review_records import CRYO, infusion, lab, pre_labs, regimen

# --- VISCOSITY --------------------------------------------------------------------------

REVIEWED = FlagHistory(last_hematology_review_on=ago(1))


@pytest.mark.parametrize(("days", "expected"), [(None, "VISCOSITY"), (364, None), (366, "VISCOSITY")])
def test_viscosity_yearly_in_hyperviscosity_state(days, expected):
    labs = pre_labs(at(2024, 9, 10))
    if days is not None:
        labs += (lab("serum_viscosity", 2.4, ago(days)),)
    flags = run(patient(conditions=(CRYO,), labs=labs), history=REVIEWED)
    assert rule_of(flags, "viscosity_check") == expected
    if expected:
        assert flags["viscosity_check"].reason.startswith("Hyperviscosity risk (cryoglobulinaemia)")


def test_viscosity_before_each_induction_course():
    induction = (regimen(day(-5), interval=None, days=5),)
    old = pre_labs(at(2024, 9, 10)) + (lab("serum_viscosity", 2.0, ago(100)),)
    flags = run(patient(conditions=(CRYO,), labs=old, regimens=induction), history=REVIEWED)
    spec = flags["viscosity_check"]
    assert spec.rule == "VISCOSITY"
    assert "induction course starting 2025-03-06" in spec.reason
    recent = pre_labs(at(2024, 9, 10)) + (lab("serum_viscosity", 2.0, ago(10)),)
    flags = run(patient(conditions=(CRYO,), labs=recent, regimens=induction), history=REVIEWED)
    assert "viscosity_check" not in flags


def test_completed_viscosity_check_counts():
    history = FlagHistory(last_hematology_review_on=ago(1), last_viscosity_check_at=ago(20))
    assert run(patient(conditions=(CRYO,)), history=history) == {}


# --- PRE-IVIG ---------------------------------------------------------------------------


def test_pre_ivig_names_the_missing_labs():
    snap = patient(
        regimens=(regimen(day(-10), interval=None, days=5),),
        infusions=(),
        labs=(lab("platelets", 250, ago(3)), lab("iga", 5, ago(2), doubtful=True)),
    )
    spec = run(snap)["pre_ivig_labs"]
    assert spec.rule == "PRE-IVIG"
    assert spec.evidence["missing"] == ["creatinine", "iga"]
    assert spec.reason == (
        "No creatinine and IgA on file before the first IVIG infusion (first course planned for 2025-03-11)."
    )
    assert spec.due_at == datetime(2025, 3, 11, tzinfo=UTC)


def test_pre_ivig_stays_open_after_the_first_infusion_but_not_when_labs_on_file():
    # v2 (DESIGN §6): a first infusion given without the labs no longer closes the flag.
    first_course = (regimen(day(-10), interval=None, days=5),)
    given = patient(regimens=first_course, labs=())
    spec = run(given)["pre_ivig_labs"]
    assert spec.reason == (
        "No platelets, creatinine and IgA on file although IVIG has already been given: record them "
        "before the next IVIG course on 2025-03-11."
    )
    assert spec.evidence["ivig_given"] is True
    on_file = patient(regimens=first_course, infusions=())
    assert "pre_ivig_labs" not in run(on_file)


def test_infusion_older_than_the_snapshot_window_counts_as_given():
    snap = patient(infusions=(), labs=(), has_earlier_infusions=True)
    spec = run(snap)["pre_ivig_labs"]
    assert "already been given" in spec.reason and spec.evidence["ivig_given"] is True


def test_future_or_planned_infusions_are_not_a_first_infusion():
    snap = patient(
        infusions=(infusion(at(2025, 3, 11), "administered"), infusion(at(2025, 3, 4), "planned")),
        labs=(),
    )
    assert rule_of(run(snap), "pre_ivig_labs") == "PRE-IVIG"


# --- data_quality -----------------------------------------------------------------------


def test_weight_missing_comes_before_stale():
    spec = run(patient(weight_kg=None, weight_measured_on=day(200)))["data_quality"]
    assert spec.rule == "WEIGHT-MISSING"
    assert "before the next IVIG course on 2025-03-04" in spec.reason


@pytest.mark.parametrize(("days", "expected"), [(90, None), (91, "WEIGHT-STALE")])
def test_weight_stale_after_90_days(days, expected):
    flags = run(patient(weight_measured_on=day(days)))
    assert rule_of(flags, "data_quality") == expected


def test_weight_without_a_date_is_stale():
    assert rule_of(run(patient(weight_measured_on=None)), "data_quality") == "WEIGHT-STALE"


def test_weight_matters_only_with_ivig_planned():
    stopped = patient(weight_kg=None, regimens=(regimen(date(2024, 1, 1), end=day(1)),))
    assert run(stopped) == {}
    one_off_done = patient(weight_kg=None, regimens=(regimen(day(20), interval=None, days=5),))
    assert run(one_off_done) == {}
    in_progress = patient(weight_kg=None, regimens=(regimen(day(2), interval=None, days=5),))
    assert rule_of(run(in_progress), "data_quality") == "WEIGHT-MISSING"
