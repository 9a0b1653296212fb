"""A write sent twice is stored once: Idempotency-Key on API POSTs, one-time tokens on page
forms, and natural duplicates (same infusion minute, same lab) refused naming the original."""

from __future__ import annotations

import re
import threading
from datetime import timedelta

import pytest
from django.db import connection
from django.urls import reverse
from django.utils import timezone

from infusions.models import Infusion
from ivigtrack.idempotency.models import FormSubmission, IdempotencyKey
from patients.models import LabResult
from tests import factories, payloads

pytestmark = [pytest.mark.sqlite, pytest.mark.django_db]
INFUSIONS = "/api/v1/infusions/"


def infusion_body(patient, product, **overrides):
    return payloads.for_resource("infusions", patient_id=patient.public_id, product_id=product.public_id, **overrides)


def test_same_key_twice_one_row_same_response(carol_api, patient_pat, product):
    first = carol_api.post(INFUSIONS, infusion_body(patient_pat, product), format="json", HTTP_IDEMPOTENCY_KEY="k-1")
    second = carol_api.post(INFUSIONS, infusion_body(patient_pat, product), format="json", HTTP_IDEMPOTENCY_KEY="k-1")
    assert first.status_code == second.status_code == 201
    assert second.json() == first.json() and second["Idempotent-Replayed"] == "true"
    assert Infusion.objects.filter(patient=patient_pat).count() == 1
    assert IdempotencyKey.objects.get().status_code == 201  # stored in the database


def test_keys_are_per_user_per_request_and_expire(carol_api, nina_api, patient_pat, product):
    body = infusion_body(patient_pat, product)
    assert carol_api.post(INFUSIONS, body, format="json", HTTP_IDEMPOTENCY_KEY="k").status_code == 201
    # Another user with the same key is another request (here: the same infusion, so a 409).
    assert nina_api.post(INFUSIONS, body, format="json", HTTP_IDEMPOTENCY_KEY="k").status_code == 409
    # The same key on another URL is a mistake, said so.
    lab = payloads.for_resource("labs", patient_id=patient_pat.public_id)
    reused = carol_api.post("/api/v1/labs/", lab, format="json", HTTP_IDEMPOTENCY_KEY="k")
    assert reused.status_code == 422 and not LabResult.objects.exists()
    # After 24 hours the key is forgotten.
    IdempotencyKey.objects.update(created_at=timezone.now() - timedelta(hours=25))
    later = infusion_body(patient_pat, product, started_at="2024-06-02T10:00:00Z")
    assert carol_api.post(INFUSIONS, later, format="json", HTTP_IDEMPOTENCY_KEY="k").status_code == 201
    assert Infusion.objects.count() == 2


def test_a_refused_request_is_replayed_as_refused(carol_api, patient_pat, product):
    bad = infusion_body(patient_pat, product, dose_grams=-1)
    first = carol_api.post(INFUSIONS, bad, format="json", HTTP_IDEMPOTENCY_KEY="bad")
    again = carol_api.post(INFUSIONS, bad, format="json", HTTP_IDEMPOTENCY_KEY="bad")
    assert first.status_code == again.status_code == 400 and again.json() == first.json()


def test_natural_duplicate_infusion_is_409_naming_the_existing_id(carol_api, patient_pat, product):
    first = carol_api.post(INFUSIONS, infusion_body(patient_pat, product), format="json")
    # Same patient, product and start minute (seconds differ): the same infusion sent twice.
    again = carol_api.post(INFUSIONS, infusion_body(patient_pat, product, started_at="2024-06-01T10:00:40Z"),
                           format="json")  # fmt: skip
    assert again.status_code == 409
    assert again.json()["existing"] == first.json()["id"] and again.json()["code"] == "duplicate"
    assert Infusion.objects.count() == 1
    # A minute later is another infusion.
    other = infusion_body(patient_pat, product, started_at="2024-06-01T10:01:00Z")
    assert carol_api.post(INFUSIONS, other, format="json").status_code == 201


def test_natural_duplicate_lab_is_409_but_another_value_is_not(carol_api, patient_pat):
    lab = payloads.for_resource("labs", patient_id=patient_pat.public_id)
    first = carol_api.post("/api/v1/labs/", lab, format="json")
    again = carol_api.post("/api/v1/labs/", lab, format="json")
    assert (first.status_code, again.status_code) == (201, 409)
    assert again.json()["existing"] == first.json()["id"]
    assert carol_api.post("/api/v1/labs/", {**lab, "value": 251}, format="json").status_code == 201
    assert LabResult.objects.count() == 2


def form_token_of(page: str) -> str:
    return re.search(r'name="form_token" value="([^"]+)"', page).group(1)


def staff_infusion_form(carol_client, patient, product, token, minute="10:00"):
    url = reverse("staff:infusion_add", args=[patient.public_id])
    data = {"product": product.pk, "started_at": f"2024-06-01T{minute}", "dose_grams": "32", "status": "administered",
            "max_rate_mg_kg_min": "3.0", "form_token": token,
            "iga_override_reason": "IgA awaited"}  # a first infusion with no IgA on file  # fmt: skip
    return carol_client.post(url, data)


def test_double_click_on_a_staff_form_writes_once(carol_client, patient_pat, product):
    page = carol_client.get(reverse("staff:infusion_add", args=[patient_pat.public_id])).content.decode()
    token = form_token_of(page)
    first = staff_infusion_form(carol_client, patient_pat, product, token)
    second = staff_infusion_form(carol_client, patient_pat, product, token)
    assert first.status_code == 302, first.content.decode()[:2000]
    assert second.status_code == 302 and second["Location"] == first["Location"]
    assert Infusion.objects.count() == 1
    follow = carol_client.get(second["Location"]).content.decode()
    assert "already been sent; it was saved once" in follow
    assert FormSubmission.objects.get().redirect_to == first["Location"]


def test_natural_duplicate_on_a_staff_form_links_the_record(carol_client, patient_pat, product):
    for token in ("t-1", "t-2"):
        response = staff_infusion_form(carol_client, patient_pat, product, token)
    existing = Infusion.objects.get()
    page = response.content.decode()
    assert response.status_code == 200 and "This infusion is already recorded" in page
    assert reverse("staff:infusion_edit", args=[patient_pat.public_id, existing.public_id]) in page
    assert not FormSubmission.objects.filter(token="t-2").exists()  # not saved: the token is given back


def test_a_form_with_errors_gives_its_token_back(carol_client, patient_pat, product):
    url = reverse("staff:infusion_add", args=[patient_pat.public_id])
    assert carol_client.post(url, {"form_token": "t", "dose_grams": "x"}).status_code == 200
    assert staff_infusion_form(carol_client, patient_pat, product, "t").status_code == 302
    assert Infusion.objects.count() == 1


def test_portal_double_submit_writes_once(pat_client, patient_pat, product):
    page = pat_client.get(reverse("portal:infusion_log")).content.decode()
    token = form_token_of(page)
    when = (timezone.localtime() - timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M")
    data = {"product": product.pk, "started_at": when, "dose_grams": "30", "form_token": token}
    responses = [pat_client.post(reverse("portal:infusion_log"), data) for _ in range(2)]
    assert [r.status_code for r in responses] == [302, 302]
    assert Infusion.objects.filter(patient=patient_pat).count() == 1
    # Without a token (an old page), the natural duplicate is a form error linking the history.
    data.pop("form_token")
    page = pat_client.post(reverse("portal:infusion_log"), data).content.decode()
    assert "This infusion is already recorded" in page and reverse("portal:history") in page
    assert Infusion.objects.filter(patient=patient_pat).count() == 1


@pytest.mark.postgresql
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_two_copies_at_once_one_row(clinician_carol, patient_pat, product):
    """Real threads: the same key sent twice at once, and the same infusion (no key) twice."""
    barrier, results = threading.Barrier(4), []

    def post(key):
        api = factories.token_client(clinician_carol)
        headers = {"HTTP_IDEMPOTENCY_KEY": key} if key else {}
        started = "2024-06-01T10:00:00Z" if key else "2024-06-02T10:00:00Z"
        barrier.wait()
        results.append(api.post(INFUSIONS, infusion_body(patient_pat, product, started_at=started), format="json",
                                **headers).status_code)  # fmt: skip
        connection.close()

    threads = [threading.Thread(target=post, args=(key,)) for key in ("same", "same", None, None)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert Infusion.objects.filter(started_at__date="2024-06-01").count() == 1
    assert Infusion.objects.filter(started_at__date="2024-06-02").count() == 1
    assert sorted(results).count(201) == 2 and set(results) <= {201, 409}
