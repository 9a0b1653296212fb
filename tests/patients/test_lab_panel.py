"""A clotting panel in one form and in one API call: one collection time, several results,
stored together or not at all; and H/L marks in the labs table."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from ivigtrack.audit.models import AuditEvent
from patients.lab_ranges import reference_mark
from patients.models import LabResult

pytestmark = [pytest.mark.django_db, pytest.mark.sqlite]


def _panel_url(patient) -> str:
    return reverse("staff:lab_panel_add", args=[patient.public_id])


def _local(moment) -> str:
    return timezone.localtime(moment).strftime("%Y-%m-%dT%H:%M")


def test_panel_form_stores_the_filled_fields_with_one_time(nina_client, patient_pat):
    collected = timezone.now() - timedelta(hours=2)
    response = nina_client.post(
        _panel_url(patient_pat),
        {"collected_at": _local(collected), "pt": "14.2", "fibrinogen": "1.1", "platelets": "88", "inr": ""},
    )
    assert response.status_code == 302 and response["Location"].endswith(f"/patients/{patient_pat.public_id}/")
    labs = {lab.test: lab for lab in LabResult.objects.filter(patient=patient_pat)}
    assert set(labs) == {"pt", "fibrinogen", "platelets"}
    assert len({lab.collected_at for lab in labs.values()}) == 1
    assert labs["fibrinogen"].value == 1.1
    assert AuditEvent.objects.filter(action="lab.record", patient_id=patient_pat.pk).count() == 3


def test_panel_form_needs_one_result_and_refuses_all_when_one_is_implausible(nina_client, patient_pat):
    now = _local(timezone.now())
    empty = nina_client.post(_panel_url(patient_pat), {"collected_at": now})
    assert empty.status_code == 200 and "Enter at least one result." in empty.content.decode()
    bad = nina_client.post(_panel_url(patient_pat), {"collected_at": now, "pt": "14", "platelets": "99999"})
    body = bad.content.decode()
    assert bad.status_code == 200 and 'id="id_platelets_error"' in body
    assert not LabResult.objects.filter(patient=patient_pat).exists()  # the good PT was not kept either
    future = nina_client.post(
        _panel_url(patient_pat), {"collected_at": _local(timezone.now() + timedelta(days=1)), "pt": "14"}
    )
    assert "in the future" in future.content.decode() and not LabResult.objects.exists()


def test_panel_form_is_staff_only(pat_client, client, patient_pat):
    assert pat_client.get(_panel_url(patient_pat)).status_code == 403
    assert client.get(_panel_url(patient_pat))["Location"].startswith(reverse("login"))


def test_panel_api_writes_all_in_one_transaction(nina_api, patient_pat):
    collected = (timezone.now() - timedelta(hours=1)).isoformat()
    payload = {
        "patient": str(patient_pat.public_id),
        "collected_at": collected,
        "results": [
            {"test": "d_dimer", "value": 800, "unit": "ng/mL FEU"},
            {"test": "aptt", "value": 31},
        ],
    }
    response = nina_api.post("/api/v1/labs/panel/", payload, format="json")
    assert response.status_code == 201, response.content
    body = response.json()
    assert sorted(row["test"] for row in body) == ["aptt", "d_dimer"]
    d_dimer = next(row for row in body if row["test"] == "d_dimer")
    assert d_dimer["value"] == pytest.approx(0.8) and d_dimer["unit"] == "mg/L FEU"


@pytest.mark.parametrize(
    "change, field",
    [
        ({"results": []}, "results"),
        ({"results": [{"test": "pt", "value": 12}, {"test": "pt", "value": 13}]}, "results"),
        ({"results": [{"test": "pt", "value": 12}, {"test": "platelets", "value": 99999}]}, "results"),
        ({"results": [{"test": "pt", "value": 12, "unit": "furlongs"}]}, "results"),
        ({"results": [{"test": "nope", "value": 1}]}, "results"),
        ({"collected_at": "not a time"}, "collected_at"),
        ({"patient": "00000000-0000-0000-0000-000000000000"}, "patient"),
    ],
)
def test_panel_api_bad_input_is_400_and_writes_nothing(nina_api, patient_pat, change, field):
    payload = {
        "patient": str(patient_pat.public_id),
        "collected_at": timezone.now().isoformat(),
        "results": [{"test": "pt", "value": 12}],
        **change,
    }
    response = nina_api.post("/api/v1/labs/panel/", payload, format="json")
    assert response.status_code == 400 and field in response.json(), response.content
    assert not LabResult.objects.exists()


def test_panel_api_names_the_refused_result(nina_api, patient_pat):
    payload = {
        "patient": str(patient_pat.public_id),
        "collected_at": timezone.now().isoformat(),
        "results": [{"test": "pt", "value": 12}, {"test": "platelets", "value": 99999}],
    }
    errors = nina_api.post("/api/v1/labs/panel/", payload, format="json").json()["results"]
    assert errors[0] == {} and "value" in errors[1]


def test_panel_api_is_for_staff(pat_api, patient_pat):
    payload = {"patient": str(patient_pat.public_id), "collected_at": timezone.now().isoformat(),
               "results": [{"test": "pt", "value": 12}]}  # fmt: skip
    assert pat_api.post("/api/v1/labs/panel/", payload, format="json").status_code == 403


@pytest.mark.parametrize(
    "test, value, low, high, mark",
    [
        ("platelets", 149, None, None, "L"),
        ("platelets", 150, None, None, ""),
        ("platelets", 401, None, None, "H"),
        ("d_dimer", 0.51, None, None, "H"),
        ("d_dimer", 0.01, None, None, ""),  # no lower limit for D-dimer
        ("d_dimer", 0.6, None, 1.0, ""),  # the lab's own limit wins
        ("pt", 12.0, 12.5, None, "L"),
        ("creatinine", 9.0, None, None, ""),  # no typical range: no mark
    ],
)
def test_reference_marks(test, value, low, high, mark):
    assert reference_mark(test, value, low=low, high=high) == mark


def test_labs_table_marks_high_and_low(carol_client, clinician_carol, patient_pat):
    from patients import services

    now = timezone.now()
    services.lab_record(actor=clinician_carol, patient=patient_pat, test="d_dimer", value=2.4, collected_at=now)
    services.lab_record(actor=clinician_carol, patient=patient_pat, test="platelets", value=98, collected_at=now)
    services.lab_record(actor=clinician_carol, patient=patient_pat, test="aptt", value=30, collected_at=now)
    body = carol_client.get(reverse("staff:patient_detail", args=[patient_pat.public_id])).content.decode()
    labs = body[body.index('id="labs"') :]
    assert 'title="above the reference range">H</abbr>' in labs
    assert 'title="below the reference range">L</abbr>' in labs
    assert labs.count('<abbr class="mark') == 2
