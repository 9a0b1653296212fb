"""The patient page: the risk explained (score, tier, components, factors with evidence,
overrides, missing inputs, recommendations), the charts, flags, regimen, infusions with their
own risk, the comparison scores; every staff view is audited."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from ivigtrack.audit.models import AuditEvent
from patients import services as patient_services
from risk import charts
from risk.models import ReviewFlag
from risk.services.assessment import patient_assess
from tests.records import full_history

pytestmark = [pytest.mark.django_db, pytest.mark.sqlite]


@pytest.fixture
def assessed_pat(patient_pat, clinician_carol):
    records = full_history(patient_pat, clinician_carol)
    assessment = patient_assess(patient_pat)
    return patient_pat, records, assessment


def detail_url(patient) -> str:
    return reverse("staff:patient_detail", args=[patient.public_id])


def test_risk_is_explained(nina_client, assessed_pat):
    patient, records, assessment = assessed_pat
    response = nina_client.get(detail_url(patient))
    assert response.status_code == 200
    content = response.content.decode()
    assert f'<span class="score-number">{assessment.score}</span>' in content
    assert assessment.get_tier_display() in content
    for label in ("Hypercoagulability", "Stasis", "Vessel injury", "Arterial"):
        assert label in content
    assert assessment.factors, "the fixture patient has risk factors"
    for factor in assessment.factors:
        assert factor["code"] in content
        assert str(factor["points"]) in content
    # every factor's evidence line is shown (escaped as the template escapes it)
    from django.utils.html import escape

    for factor in assessment.factors:
        assert escape(factor["evidence"]) in content
    for rec in assessment.recommendations:
        assert escape(rec["text"]) in content
    assert "Clots can occur without any risk factor." in content
    assert "for comparison only" in content and "Padua" in content and "Caprini" in content


def test_provisional_assessment_lists_missing_inputs(nina_client, patient_pat, make_assessment):
    make_assessment(patient_pat, score=1, tier="low", provisional=True, missing=["weight: P9 BMI"])
    content = nina_client.get(detail_url(patient_pat)).content.decode()
    assert "Low (provisional — incomplete data)" in content
    assert "Provisional: some inputs are missing" in content
    assert "weight: P9 BMI" in content


def test_overrides_are_shown(nina_client, patient_pat, make_assessment):
    make_assessment(
        patient_pat, score=3, tier="high",
        overrides=[{"code": "a", "label": "Thrombosis in the last 3 months", "evidence": "Post-event [R61]"}],
    )  # fmt: skip
    content = nina_client.get(detail_url(patient_pat)).content.decode()
    assert "Tier set to high by override" in content and "Thrombosis in the last 3 months" in content


def test_not_assessed_patient_page(nina_client, patient_pat):
    content = nina_client.get(detail_url(patient_pat)).content.decode()
    assert "Not assessed yet" in content and "Re-assess now" in content


def test_records_flags_regimen_and_infusion_risk_are_shown(nina_client, assessed_pat, make_flag):
    patient, records, _ = assessed_pat
    # v2: PRE-IVIG stays open after the first infusion, so the assessment raised one already
    ReviewFlag.objects.filter(patient=patient, kind="pre_ivig_labs").delete()
    make_flag(patient, kind="pre_ivig_labs", rule="PRE-IVIG", reason="open-flag-reason")
    make_flag(patient, kind="viscosity_check", rule="VISCOSITY", status="resolved", reason="old-flag-reason",
              resolution="completed", resolved_at=timezone.now())  # fmt: skip
    content = nina_client.get(detail_url(patient)).content.decode()
    assert "open-flag-reason" in content and "old-flag-reason" in content
    assert "Next courses:" in content
    next_start = records["regimen"].course_starts(timezone.localdate(), 1)[0]
    assert next_start.strftime("%a %d/%m/%Y") in content
    infusion = records["infusion"]
    assert infusion.risk.tier  # recorded by the assessment (InfusionRisk)
    assert f"{infusion.risk.score} pts" in content
    assert "0.40" in content  # 28 g at 70 kg
    for text in ("Hypertension", "PICC", "Deep vein thrombosis (leg)", "Platelet count", "prednisolone",
                 "A severe new headache"):  # fmt: skip
        assert text in content, text
    assert 'src="/staff/patients/' in content and "chart/timeline.svg" in content and "chart/score.svg" in content


def test_every_staff_view_is_audited(nina_client, nurse_nina, patient_pat):
    before = AuditEvent.objects.filter(action="patient.view").count()
    nina_client.get(detail_url(patient_pat))
    nina_client.get(detail_url(patient_pat))
    views = AuditEvent.objects.filter(action="patient.view").order_by("id")
    assert views.count() == before + 2
    last = views.last()
    assert last.actor == nurse_nina and last.patient_id == patient_pat.pk
    assert last.object_id == str(patient_pat.public_id)


def test_pages_with_patient_data_are_never_cached(nina_client, pat_client, patient_pat):
    for client, url in (
        (nina_client, detail_url(patient_pat)),
        (nina_client, reverse("staff:patient_list")),
        (nina_client, reverse("staff:condition_add", args=[patient_pat.public_id])),
        (pat_client, reverse("portal:home")),
        (pat_client, reverse("portal:history")),
    ):
        cache_control = client.get(url)["Cache-Control"]
        assert "no-store" in cache_control and "private" in cache_control, url


def test_regimen_links_only_for_clinicians(nina_client, carol_client, patient_pat):
    assert "Add regimen" not in nina_client.get(detail_url(patient_pat)).content.decode()
    assert "Add regimen" in carol_client.get(detail_url(patient_pat)).content.decode()


def test_reassess_now(nina_client, patient_pat):
    response = nina_client.post(reverse("staff:patient_reassess", args=[patient_pat.public_id]), follow=True)
    assert response.redirect_chain[-1][0] == detail_url(patient_pat)
    assert "Re-assessed: score" in response.content.decode()
    assert patient_pat.assessments.filter(is_current=True).exists()
    again = nina_client.post(reverse("staff:patient_reassess", args=[patient_pat.public_id]), follow=True)
    assert "Re-assessed: unchanged" in again.content.decode()


def test_reassess_needs_post(nina_client, patient_pat):
    assert nina_client.get(reverse("staff:patient_reassess", args=[patient_pat.public_id])).status_code == 405


def test_lab_needing_verification_can_be_confirmed_or_rejected(nina_client, nurse_nina, patient_pat):
    doubtful = patient_services.lab_record(
        actor=nurse_nina, patient=patient_pat, test="platelets", value=1200, collected_at=timezone.now()
    )
    assert doubtful.needs_verification
    content = nina_client.get(detail_url(patient_pat)).content.decode()
    assert "needs verification" in content and "Confirm value" in content
    url = reverse("staff:lab_verify", args=[patient_pat.public_id, doubtful.public_id])
    response = nina_client.post(url, {"decision": "confirm"}, follow=True)
    assert "Value confirmed" in response.content.decode()
    doubtful.refresh_from_db()
    assert not doubtful.needs_verification and doubtful.verified_by == nurse_nina
    # confirming twice is refused with the service's message
    response = nina_client.post(url, {"decision": "confirm"}, follow=True)
    assert "does not need verification" in response.content.decode()
    other = patient_services.lab_record(
        actor=nurse_nina, patient=patient_pat, test="platelets", value=1300, collected_at=timezone.now()
    )
    nina_client.post(reverse("staff:lab_verify", args=[patient_pat.public_id, other.public_id]), {"decision": "reject"})
    assert not patient_pat.labs.filter(pk=other.pk).exists()


# --- charts ----------------------------------------------------------------------------------


def test_charts_are_svg_with_their_own_tight_policy(nina_client, assessed_pat):
    patient, _, _ = assessed_pat
    for kind in ("timeline", "score"):
        response = nina_client.get(reverse("staff:patient_chart", args=[patient.public_id, kind]))
        assert response.status_code == 200
        assert response["Content-Type"] == "image/svg+xml"
        assert response.content.startswith(b"<?xml") and b"<svg" in response.content
        policy = response["Content-Security-Policy"]
        assert "default-src 'none'" in policy and "style-src 'unsafe-inline'" in policy
        assert "script-src" not in policy
        assert "no-store" in response["Cache-Control"]
    page_policy = nina_client.get(detail_url(patient))["Content-Security-Policy"]
    assert "unsafe-inline" not in page_policy


def test_timeline_shows_the_records(assessed_pat):
    patient, _, _ = assessed_pat
    svg = charts.render_timeline(patient, timezone.localdate()).decode()
    for text in ("IVIG dose per day (g/kg)", "Steroid", "Central line / port", "DVT (suspected)", "Platelets", "250"):
        assert text in svg, text
    data = charts.timeline_data(patient, timezone.localdate())
    assert any(abs(dose - 0.4) < 1e-9 for dose in data["doses"].values())
    assert data["upcoming"], "the regimen's next course is drawn"


def test_charts_for_a_patient_without_history(patient_quinn):
    today = timezone.localdate()
    assert b"No infusions in the last 12 months" in charts.render_timeline(patient_quinn, today)
    assert b"No assessments yet" in charts.render_score(patient_quinn, today)


def test_charts_are_cached_per_data_version(assessed_pat, monkeypatch, nurse_nina):
    patient, _, _ = assessed_pat
    calls = []
    real = charts.RENDERERS["timeline"]
    monkeypatch.setitem(charts.RENDERERS, "timeline", lambda p, d: calls.append(p.pk) or real(p, d))
    first = charts.cached_svg("timeline", patient)
    assert charts.cached_svg("timeline", patient) == first
    assert len(calls) == 1
    patient_services.lab_record(
        actor=nurse_nina, patient=patient, test="inr", value=1.1, collected_at=timezone.now() - timedelta(hours=1)
    )
    charts.cached_svg("timeline", patient)
    assert len(calls) == 2  # a new lab is a new data version: redrawn


@pytest.mark.parametrize(
    ("age_days", "review", "stale"),
    [(90, {}, False), (91, {}, True), (45, {"weight_stale_days": 30}, True), (100, {"weight_stale_days": 120}, False)],
)
def test_the_weight_is_marked_old_after_the_rules_weight_stale_period(
    nina_client, patient_pat, settings, age_days, review, stale
):
    """The page's "N days old" badge and the WEIGHT-STALE rule read one setting."""
    settings.IVIGTRACK_REVIEW = review
    measured = timezone.localdate() - timedelta(days=age_days)
    type(patient_pat).objects.filter(pk=patient_pat.pk).update(weight_measured_on=measured)
    response = nina_client.get(detail_url(patient_pat))
    assert response.context["weight_stale"] is stale
    assert (f"{age_days} days old" in response.content.decode()) is stale


def _creatinines(patient, actor, n, *, hours: int = 0):
    now = timezone.now() - timedelta(hours=hours)  # a different collection time for each call (no duplicates)
    for k in range(n):
        patient_services.lab_record(
            actor=actor, patient=patient, test="creatinine", value=1.0, collected_at=now - timedelta(days=k + 1)
        )


def test_each_creatinine_shows_its_egfr_and_the_page_queries_stay_constant(
    nina_client, patient_pat, clinician_carol, django_assert_max_num_queries
):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    _creatinines(patient_pat, clinician_carol, 1)
    patient_assess(patient_pat)
    with CaptureQueriesContext(connection) as one:
        page = nina_client.get(detail_url(patient_pat))
    assert page.status_code == 200 and "eGFR" in page.content.decode()
    _creatinines(patient_pat, clinician_carol, 10, hours=3)
    with django_assert_max_num_queries(len(one.captured_queries)):
        page = nina_client.get(detail_url(patient_pat))
    assert page.content.decode().count("eGFR ") >= 11
