"""Properties of ITRS-v0 over random snapshots (hypothesis): pure, no database.

- adding any risk factor never lowers the score or the tier;
- the same (snapshot, as_of) gives the same result, whatever the order of the records;
- the tier is monotone in the score, overrides only ever raise it to high;
- the result is internally consistent (components add up, provisional implies missing).
"""

from __future__ import annotations

import random
from dataclasses import replace
from datetime import UTC, datetime, timedelta

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from itrs.engine import assess, tier_for_score
from tests.itrs import builders as b
from tests.itrs.builders import NOW, TODAY, add

RANK = {"low": 0, "moderate": 1, "high": 2}
SETTINGS = settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])

RISK_CONDITIONS = (
    "thrombophilia",
    "thrombophilia_high_risk",
    "active_cancer",
    "paraproteinemia",
    "cryoglobulinemia",
    "severe_hypertriglyceridemia",
    "polycythemia",
    "pregnancy_postpartum",
    "hypertension",
    "diabetes",
    "dyslipidemia",
    "smoking",
    "atrial_fibrillation",
    "heart_failure",
    "bedbound",
    "reduced_mobility",
    "hospital_admission",
    "major_surgery_or_trauma",
    "volume_depletion",
    "acute_infection_or_sepsis",
)
OTHER_CONDITIONS = ("renal_impairment", "iga_deficiency")
EVENT_KINDS = ("dvt", "pe", "jugular_vein", "upper_extremity_dvt", "mi", "ischemic_stroke", "tia")
PRODUCTS = (b.PRIVIGEN, b.GAMUNEX_C, b.PANZYGA)

days = st.integers(min_value=-20, max_value=800)  # days before TODAY (negative: future)
maybe_days = st.none() | days


@st.composite
def conditions(draw, codes=RISK_CONDITIONS + OTHER_CONDITIONS):
    onset = draw(maybe_days)
    resolved = draw(st.none() | st.integers(min_value=-20, max_value=onset if onset is not None else 800))
    return b.condition(
        draw(st.sampled_from(codes)),
        None if onset is None else b.days_before(onset),
        None if resolved is None else b.days_before(resolved),
    )


@st.composite
def events(draw, statuses=("suspected", "confirmed", "ruled_out")):
    return b.event(
        draw(st.sampled_from(EVENT_KINDS)),
        status=draw(st.sampled_from(statuses)),
        diagnosed_on=b.days_before(draw(days)),
        catheter_related=draw(st.booleans()),
    )


@st.composite
def accesses(draw):
    inserted = draw(days)
    removed = draw(st.none() | st.integers(min_value=-20, max_value=inserted))
    return b.access(
        draw(st.sampled_from(("picc", "port", "cvc_tunneled", "cvc_non_tunneled"))),
        inserted_on=b.days_before(inserted),
        removed_on=None if removed is None else b.days_before(removed),
    )


@st.composite
def meds(draw, categories=("steroid", "estrogen", "anticoagulant", "antiplatelet", "diuretic")):
    start = draw(days)
    end = draw(st.none() | st.integers(min_value=-20, max_value=start))
    return b.med(
        draw(st.sampled_from(categories)),
        start_date=b.days_before(start),
        end_date=None if end is None else b.days_before(end),
        intensity=draw(st.sampled_from(("", "prophylactic", "therapeutic", "extended"))),
    )


@st.composite
def labs(draw):
    test = draw(st.sampled_from(("triglycerides", "serum_viscosity", "platelets", "d_dimer", "pt", "fibrinogen")))
    value = draw(st.floats(min_value=0.1, max_value=2000, allow_nan=False))
    return b.lab(
        test,
        value,
        collected_at=NOW - timedelta(hours=draw(st.integers(min_value=-24, max_value=2000))),
        reference_high=draw(st.none() | st.floats(min_value=0.2, max_value=20)),
        needs_verification=draw(st.booleans()),
    )


@st.composite
def regimens(draw):
    fixed = draw(st.booleans())
    return b.regimen(
        draw(st.sampled_from(PRODUCTS)),
        g_per_kg=draw(st.sampled_from((0.3, 0.4, 0.5, 0.8, 1.0, 2.0))),
        grams=draw(st.sampled_from((20.0, 35.0, 80.0))) if fixed else None,
        days=draw(st.integers(min_value=1, max_value=10)),
        interval=draw(st.none() | st.integers(min_value=7, max_value=42)),
        dosing_weight=draw(st.sampled_from(("actual", "ideal", "adjusted"))),
        start_date=b.days_before(draw(days)),
        end_date=draw(st.none() | st.builds(b.days_before, st.integers(min_value=-60, max_value=30))),
        max_rate=draw(st.none() | st.floats(min_value=0.5, max_value=14)),
    )


@st.composite
def infusions(draw):
    minutes = draw(st.integers(min_value=-30 * 24 * 60, max_value=200 * 24 * 60))
    return b.infusion(
        NOW - timedelta(minutes=minutes),
        draw(st.floats(min_value=5, max_value=120)),
        draw(st.sampled_from(PRODUCTS)),
        status=draw(st.sampled_from(("administered", "administered", "planned", "stopped"))),
        rate=draw(st.none() | st.floats(min_value=0.5, max_value=14)),
        ml_h=draw(st.none() | st.floats(min_value=20, max_value=800)),
    )


@st.composite
def snapshots(draw):
    snapshot = b.patient(
        age=draw(st.integers(min_value=2, max_value=99)),
        sex=draw(st.sampled_from(("female", "male", "other", "unknown"))),
        height_cm=draw(st.none() | st.floats(min_value=140, max_value=205)),
        weight_kg=draw(st.none() | st.floats(min_value=30, max_value=200)),
        diagnosis=draw(st.sampled_from(("cidp", "mmn", "itp", "dic"))),
        has_earlier_infusions=draw(st.booleans()),
    )
    return add(
        snapshot,
        *draw(st.lists(conditions(), max_size=5)),
        *draw(st.lists(events(), max_size=2)),
        *draw(st.lists(accesses(), max_size=2)),
        *draw(st.lists(meds(), max_size=3)),
        *draw(st.lists(labs(), max_size=4)),
        *draw(st.lists(regimens(), max_size=2)),
        *draw(st.lists(infusions(), max_size=8)),
    )


# A risk factor: anything whose presence ITRS-v0 may count. Anticoagulants (which lift
# override b) and ordinary labs (a newer normal value replaces an older abnormal one) are not.
risk_factors = st.one_of(
    conditions(codes=RISK_CONDITIONS),
    events(statuses=("confirmed", "suspected")),
    accesses(),
    meds(categories=("steroid", "estrogen", "diuretic")),
    st.builds(lambda v: b.lab("triglycerides", v), st.floats(min_value=1000, max_value=5000)),
    st.builds(lambda v: b.lab("serum_viscosity", v), st.floats(min_value=2.01, max_value=10)),
)

as_ofs = st.builds(lambda m: NOW + timedelta(minutes=m), st.integers(min_value=-60 * 24 * 30, max_value=60 * 24 * 30))


@SETTINGS
@given(snapshots(), st.lists(risk_factors, min_size=1, max_size=3), as_ofs)
def test_adding_a_risk_factor_never_lowers_the_score_or_the_tier(snapshot, extra, as_of):
    before = assess(snapshot, as_of)
    after = assess(add(snapshot, *extra), as_of)
    assert after.score >= before.score
    assert RANK[after.tier] >= RANK[before.tier]


@SETTINGS
@given(snapshots(), as_ofs, st.randoms(use_true_random=False))
def test_same_inputs_same_result_in_any_record_order(snapshot, as_of, rnd: random.Random):
    first = assess(snapshot, as_of)
    assert assess(snapshot, as_of).as_dict() == first.as_dict()

    def shuffled(records: tuple) -> tuple:
        records = list(records)
        rnd.shuffle(records)
        return tuple(records)

    mixed = replace(
        snapshot,
        **{
            name: shuffled(getattr(snapshot, name))
            for name in ("conditions", "accesses", "events", "labs", "medications", "infusions")
        },
    )
    again = assess(mixed, as_of)
    assert (again.score, again.tier, again.provisional, again.components) == (
        first.score,
        first.tier,
        first.provisional,
        first.components,
    )
    assert sorted((f.code, f.points) for f in again.factors) == sorted((f.code, f.points) for f in first.factors)
    assert {o["code"] for o in again.overrides} == {o["code"] for o in first.overrides}


@SETTINGS
@given(snapshots(), as_ofs)
def test_result_is_consistent(snapshot, as_of):
    r = assess(snapshot, as_of)
    assert sum(r.components.values()) == r.score == sum(f.points for f in r.factors)
    assert set(r.components) == {"hypercoagulability", "stasis", "vessel_injury", "arterial"}
    t_points = sum(f.points for f in r.factors if f.code.startswith("T"))
    assert 0 <= t_points <= 4
    assert r.tier == ("high" if r.overrides else tier_for_score(r.score))
    assert not (r.provisional and not r.missing)
    assert not (r.provisional and r.tier == "high")
    assert r.recommendations[0]["code"] == "MONITOR"


@SETTINGS
@given(snapshots(), as_ofs)
def test_unexplained_result_scores_the_same(snapshot, as_of):
    """The per-infusion risk skips the advice and the secondary scores, and nothing else."""
    full, lean = assess(snapshot, as_of), assess(snapshot, as_of, explain=False)
    assert (lean.recommendations, lean.secondary) == ((), {})
    assert full.recommendations and set(full.secondary) == {"padua", "caprini"}
    assert replace(lean, recommendations=full.recommendations, secondary=full.secondary) == full


@given(st.integers(min_value=0, max_value=60), st.integers(min_value=0, max_value=60))
def test_tier_is_monotone_in_the_score(low, high):
    low, high = sorted((low, high))
    assert RANK[tier_for_score(low)] <= RANK[tier_for_score(high)]


@SETTINGS
@given(snapshots())
def test_records_after_as_of_change_nothing(snapshot):
    """Everything dated after as_of is invisible: a later snapshot scored earlier is the same."""
    as_of = datetime(2025, 1, 10, 12, tzinfo=UTC)
    cut = as_of.date()
    earlier = replace(
        snapshot,
        conditions=tuple(c for c in snapshot.conditions if c.onset_date is None or c.onset_date <= cut),
        events=tuple(e for e in snapshot.events if e.diagnosed_on <= cut),
        accesses=tuple(a for a in snapshot.accesses if a.inserted_on <= cut),
        medications=tuple(m for m in snapshot.medications if m.start_date <= cut),
        labs=tuple(x for x in snapshot.labs if x.collected_at <= as_of),
        infusions=tuple(i for i in snapshot.infusions if i.started_at <= as_of),
    )
    full, past = assess(snapshot, as_of), assess(earlier, as_of)
    assert (full.score, full.tier, full.factors, full.overrides) == (
        past.score,
        past.tier,
        past.factors,
        past.overrides,
    )


def test_vignette_clock_is_fixed():
    assert TODAY.isoformat() == "2025-03-01"
