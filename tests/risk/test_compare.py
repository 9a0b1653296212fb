"""compare_rulesets and /staff/rulesets/ on a small clinic where the tier changes are known by hand.

- Rita: a retinal vein occlusion 800 days ago, no anticoagulation: ITRS-v0 counts it as VTE
  (P2 3 + override (b): high); ITRS-v1 scores it 1 under P3 and lifts (b): low.
- Vera: 50 (P1 1), hypertension (P10 1) and vaginal estradiol: ITRS-v0 scores P7 2 (4: moderate);
  ITRS-v1 records it, not scored (2: low).
- Dora: a DVT 400 days ago, no anticoagulation: high under both (override (b)).
- Nell: nobody at risk: low under both.
"""

from __future__ import annotations

from datetime import date, timedelta
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.utils import timezone

from infusions import services as infusion_services
from patients import services as patient_services
from risk.compare import compare
from risk.models import RiskAssessment


def _person(actor, mrn, given, age, sex="female"):
    today = timezone.localdate()
    return patient_services.patient_create(
        actor=actor,
        mrn=mrn,
        given_name=given,
        family_name="Test",
        date_of_birth=date(today.year - age, 1, 1),  # that age since 1 January
        sex=sex,
        height_cm=165,
        diagnosis="cidp",
        weight_kg=65,
    )


@pytest.fixture
def clinic(clinician_carol):
    today = timezone.localdate()
    rita = _person(clinician_carol, "C-RITA", "Rita", 40)
    patient_services.thrombosis_event_record(
        actor=clinician_carol,
        patient=rita,
        kind="retinal_vein",
        status="confirmed",
        diagnosed_on=today - timedelta(days=800),
    )
    vera = _person(clinician_carol, "C-VERA", "Vera", 50)
    patient_services.condition_add(
        actor=clinician_carol, patient=vera, code="hypertension", onset_date=today - timedelta(days=900)
    )
    infusion_services.medication_record(
        actor=clinician_carol,
        patient=vera,
        drug="Vagifem",
        route="vaginal",
        dose=10,
        start_date=today - timedelta(days=100),
    )
    dora = _person(clinician_carol, "C-DORA", "Dora", 40)
    patient_services.thrombosis_event_record(
        actor=clinician_carol,
        patient=dora,
        kind="dvt",
        status="confirmed",
        diagnosed_on=today - timedelta(days=400),
        provocation="unprovoked",
    )
    nell = _person(clinician_carol, "C-NELL", "Nell", 30)
    return {"rita": rita, "vera": vera, "dora": dora, "nell": nell}


def test_the_table_and_the_patients_who_change(clinic, django_assert_max_num_queries):
    stored = RiskAssessment.objects.count()
    with django_assert_max_num_queries(4):  # ids, the chunk's one snapshot query, the names
        result = compare("ITRS-v0", "ITRS-v1")
    assert result.patients == 4 and result.errors == 0
    assert result.table == {("high", "low"): 1, ("moderate", "low"): 1, ("high", "high"): 1, ("low", "low"): 1}
    assert [(c.mrn, c.old_tier, c.new_tier) for c in result.changed] == [
        ("C-RITA", "high", "low"),
        ("C-VERA", "moderate", "low"),
    ]
    rita = result.changed[0]
    assert "P2: 3 -> 0" in rita.moved and "P3: 0 -> 1" in rita.moved and "override (b) lifted" in rita.moved
    assert result.factors["P7: 2 -> 0"] == 1
    assert RiskAssessment.objects.count() == stored  # nothing stored


def test_chunked_comparison_gives_the_same_table(clinic):
    assert compare("ITRS-v0", "ITRS-v1", chunk_size=1).table == compare("ITRS-v0", "ITRS-v1").table


def test_the_command_prints_the_table(clinic):
    out = StringIO()
    call_command("compare_rulesets", "ITRS-v0", "ITRS-v1", "--patients", stdout=out)
    text = out.getvalue()
    lines = text.splitlines()
    assert lines[1].split() == ["low", "moderate", "high", "total"]
    assert lines[2].split() == ["low", "1", "0", "0", "1"]
    assert lines[3].split() == ["moderate", "1", "0", "0", "1"]
    assert lines[4].split() == ["high", "1", "0", "1", "2"]
    assert "2 patient(s) change tier." in text and "C-RITA" in text and "C-VERA" in text
    with pytest.raises(CommandError, match="known: ITRS-v0, ITRS-v1"):
        call_command("compare_rulesets", "ITRS-v0", "ITRS-v7")


def test_the_page_shows_the_table_and_links_the_patients(clinic, carol_client, nina_client):
    page = carol_client.get("/staff/rulesets/")
    assert page.status_code == 200
    html = page.content.decode()
    assert (
        f"/staff/patients/{clinic['rita'].public_id}/" in html
        and f"/staff/patients/{clinic['vera'].public_id}/" in html
    )
    assert f"/staff/patients/{clinic['dora'].public_id}/" not in html
    assert "2 changes tier" in html
    assert carol_client.get("/staff/rulesets/", {"old": "ITRS-v9"}).status_code == 400
    assert nina_client.get("/staff/rulesets/").status_code == 403  # clinicians only
