"""Sites in Sydney and New York: a lab taken "now" is accepted through the staff form and the API,
stored as the right instant and shown in local time; the engine's day is the site's."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.urls import reverse
from django.utils import timezone

from ivigtrack.accounts.models import Site
from patients import services as patient_services
from patients.models import LabResult
from risk.snapshot import load_snapshots
from tests import factories

pytestmark = pytest.mark.django_db

ZONES = ["Australia/Sydney", "America/New_York"]


@pytest.fixture(params=ZONES)
def clinic(request, make_user):
    zone = request.param
    site = Site.objects.create(name=zone, code=zone.split("/")[1][:8].upper(), time_zone=zone)
    nurse = make_user(f"nurse-{site.code.lower()}", "nurse", sites=[site])
    patient = patient_services.patient_create(
        actor=nurse, mrn=f"TZ-{site.code}", given_name="Tess", family_name="Zone", date_of_birth="1970-01-01",
        sex="female", diagnosis="cidp",
    )  # fmt: skip
    return {"zone": ZoneInfo(zone), "site": site, "nurse": nurse, "patient": patient}


def test_a_lab_now_through_the_staff_form_is_the_right_instant(clinic):
    client = factories.session_client(clinic["nurse"])
    now_local = timezone.now().astimezone(clinic["zone"]).replace(second=0, microsecond=0)
    url = reverse("staff:lab_add", args=[clinic["patient"].public_id])
    form = client.get(url).content.decode()
    assert f"Local time ({clinic['zone'].key})" in form  # the zone is named where a time is typed
    response = client.post(
        url, {"test": "platelets", "value": "250", "collected_at": now_local.strftime("%Y-%m-%dT%H:%M")}
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    lab = LabResult.objects.get(patient=clinic["patient"])
    assert lab.collected_at == now_local  # the instant, whatever zone the server runs in
    page = client.get(reverse("staff:patient_detail", args=[clinic["patient"].public_id])).content.decode()
    assert now_local.strftime("%H:%M") in page and f"Times shown in {clinic['zone'].key}" in page


def test_a_lab_now_through_the_api_with_any_offset(clinic):
    api = factories.token_client(clinic["nurse"])
    now = timezone.now().replace(microsecond=0)
    for sent in (now.astimezone(clinic["zone"]).isoformat(), now.astimezone(UTC).isoformat().replace("+00:00", "Z"),
                 now.astimezone(ZoneInfo("Asia/Kolkata")).isoformat()):  # fmt: skip
        body = {"patient": str(clinic["patient"].public_id), "test": "platelets", "value": 250, "collected_at": sent}
        response = api.post("/api/v1/labs/", body, format="json")
        assert response.status_code == 201, response.json()
        shown = datetime.fromisoformat(response.json()["collected_at"])
        assert shown == now and shown.utcoffset() == now.astimezone(clinic["zone"]).utcoffset()  # local offset
        LabResult.objects.filter(patient=clinic["patient"]).delete()


def test_a_naive_api_time_is_the_sites_wall_clock(clinic):
    api = factories.token_client(clinic["nurse"])
    local = (timezone.now() - timedelta(hours=1)).astimezone(clinic["zone"]).replace(second=0, microsecond=0)
    body = {"patient": str(clinic["patient"].public_id), "test": "platelets", "value": 250,
            "collected_at": local.replace(tzinfo=None).isoformat()}  # fmt: skip
    assert api.post("/api/v1/labs/", body, format="json").status_code == 201
    assert LabResult.objects.get(patient=clinic["patient"]).collected_at == local


def test_the_snapshot_carries_the_sites_zone(clinic):
    snapshot = load_snapshots([clinic["patient"].pk], timezone.now())[clinic["patient"].pk]
    assert snapshot.time_zone == clinic["zone"].key
