"""One validation, every door: each bad input sent through the API, the staff form, the portal
form and the admin is refused with the field named (a 400 with field messages, or a form error
on that field), and nothing is written (row counts unchanged)."""

from __future__ import annotations

import re

import pytest
from django.urls import reverse

from infusions.models import Infusion, Regimen
from patients.models import Condition, LabResult, Patient
from tests import factories, payloads

pytestmark = [pytest.mark.sqlite, pytest.mark.django_db]
DEEP = "[" * 1000 + "]" * 1000
LONG = "x" * 5001  # TEXT_MAX_LENGTH is 5000


@pytest.fixture
def doors(carol_api, carol_client, pat_client, admin_user, patient_pat, product, anon):
    return {
        "api": carol_api,
        "staff": carol_client,
        "portal": pat_client,
        "admin": factories.session_client(admin_user),
        "anon": anon,
        "patient": patient_pat,
        "product": product,
    }


def admin_management(client, url: str) -> dict:
    """The inline formsets' management fields of an admin add page (0 forms each)."""
    page = client.get(url).content.decode()
    names = re.findall(r'name="([^"]+-(?:TOTAL|INITIAL|MIN_NUM|MAX_NUM)_FORMS)"', page)
    return {name: "0" if name.endswith(("TOTAL_FORMS", "INITIAL_FORMS", "MIN_NUM_FORMS")) else "1000" for name in names}


# --- the requests, one per (input, door) ---------------------------------------------------------


def api_regimen(d, **o):
    body = payloads.for_resource("regimens", patient_id=d["patient"].public_id, product_id=d["product"].public_id)
    return d["api"].post("/api/v1/regimens/", {**body, **o}, format="json")


def staff_regimen(d, **o):
    data = {
        "product": d["product"].pk,
        "indication": "cidp",
        "dose_g_per_kg_per_day": "0.4",
        "days_per_course": "1",
        "interval_days": "21",
        "dosing_weight": "actual",
        "start_date": "2024-01-01",
        "setting": "outpatient",
        **o,
    }
    return d["staff"].post(reverse("staff:regimen_add", args=[d["patient"].public_id]), data)


def admin_regimen(d, **o):
    data = {
        "patient": d["patient"].pk,
        "product": d["product"].pk,
        "indication": "cidp",
        "dose_g_per_kg_per_day": "0.4",
        "days_per_course": "1",
        "interval_days": "21",
        "dosing_weight": "actual",
        "start_date": "2024-01-01",
        "setting": "outpatient",
        **o,
    }
    return d["admin"].post("/admin/infusions/regimen/add/", data)


def api_infusion(d, started_at):
    body = payloads.for_resource("infusions", patient_id=d["patient"].public_id, product_id=d["product"].public_id)
    return d["api"].post("/api/v1/infusions/", {**body, "started_at": started_at}, format="json")


def staff_infusion(d, started_at):
    data = {
        "product": d["product"].pk,
        "started_at": started_at[:16],
        "dose_grams": "32",
        "status": "administered",
        "max_rate_mg_kg_min": "3.0",
    }
    return d["staff"].post(reverse("staff:infusion_add", args=[d["patient"].public_id]), data)


def portal_infusion(d, started_at):
    data = {"product": d["product"].pk, "started_at": started_at[:16], "dose_grams": "30"}
    return d["portal"].post(reverse("portal:infusion_log"), data)


def admin_infusion(d, started_at):
    data = {
        "patient": d["patient"].pk,
        "product": d["product"].pk,
        "started_at_0": started_at[:10],
        "started_at_1": started_at[11:16],
        "dose_grams": "32",
        "status": "administered",
        "source": "staff",
    }
    return d["admin"].post("/admin/infusions/infusion/add/", data)


def api_lab(d, collected_at):
    body = payloads.for_resource("labs", patient_id=d["patient"].public_id, collected_at=collected_at)
    return d["api"].post("/api/v1/labs/", body, format="json")


def staff_lab(d, collected_at):
    data = {"test": "platelets", "value": "250", "collected_at": collected_at[:16]}
    return d["staff"].post(reverse("staff:lab_add", args=[d["patient"].public_id]), data)


def admin_lab(d, collected_at):
    data = {
        "patient": d["patient"].pk,
        "test": "platelets",
        "value": "250",
        "unit": "10^9/L",
        "entered_value": "250",
        "entered_unit": "10^9/L",
        "collected_at_0": collected_at[:10],
        "collected_at_1": collected_at[11:16],
    }
    return d["admin"].post("/admin/patients/labresult/add/", data)


def api_patient(d, **o):
    return d["api"].post("/api/v1/patients/", payloads.patient(**o), format="json")


def staff_patient(d, **o):
    data = {
        "mrn": "MRN-NEW",
        "given_name": "Nora",
        "family_name": "Newman",
        "date_of_birth": "1975-04-12",
        "sex": "female",
        "height_cm": "168",
        "weight_kg": "71.5",
        "diagnosis": "cidp",
        "active": "on",
        **o,
    }
    return d["staff"].post(reverse("staff:patient_create"), data)


def admin_patient(d, **o):
    url = "/admin/patients/patient/add/"
    data = {
        "mrn": "MRN-NEW",
        "given_name": "Nora",
        "family_name": "Newman",
        "date_of_birth": "1975-04-12",
        "sex": "female",
        "diagnosis": "cidp",
        "active": "on",
        **admin_management(d["admin"], url),
        **o,
    }
    return d["admin"].post(url, data)


def api_condition(d, **o):
    body = payloads.for_resource("conditions", patient_id=d["patient"].public_id)
    return d["api"].post("/api/v1/conditions/", {**body, **o}, format="json")


def staff_condition(d, **o):
    data = {"code": "hypertension", "onset_date": "2020-01-01", **o}
    return d["staff"].post(reverse("staff:condition_add", args=[d["patient"].public_id]), data)


def admin_condition(d, **o):
    data = {"patient": d["patient"].pk, "code": "hypertension", "onset_date": "2020-01-01", **o}
    return d["admin"].post("/admin/patients/condition/add/", data)


def raw(door: str, url_of, content_type: str, body: bytes):
    def send(d):
        url = url_of(d)
        return d[door].generic("POST", url, body, content_type=content_type)

    return send


UTF16 = "application/x-www-form-urlencoded; charset=utf-16"
FORM_BODY = "mrn=X&dose_grams=30".encode("utf-16")

CASES = [
    # (case, door, send, field or None for a whole-body 400, models whose rows must not change)
    ("deep JSON", "api", raw("api", lambda d: "/api/v1/labs/", "application/json", DEEP.encode()), None, [LabResult]),
    (
        "deep JSON",
        "anon token",
        raw("anon", lambda d: "/api/v1/auth/token/", "application/json", DEEP.encode()),
        None,
        [],
    ),
    ("utf-16", "staff", raw("staff", lambda d: reverse("staff:patient_create"), UTF16, FORM_BODY), None, [Patient]),
    ("utf-16", "portal", raw("portal", lambda d: reverse("portal:infusion_log"), UTF16, FORM_BODY), None, [Infusion]),
    ("utf-16", "admin", raw("admin", lambda d: "/admin/patients/patient/add/", UTF16, FORM_BODY), None, [Patient]),
    ("utf-16", "anon token", raw("anon", lambda d: "/api/v1/auth/token/", UTF16, FORM_BODY), None, []),
    ("year 9999", "api", lambda d: api_regimen(d, start_date="9999-01-01"), "start_date", [Regimen]),
    ("year 9999", "staff", lambda d: staff_regimen(d, start_date="9999-01-01"), "start_date", [Regimen]),
    ("year 9999", "admin", lambda d: admin_regimen(d, start_date="9999-01-01"), "start_date", [Regimen]),
    ("year 1850", "api", lambda d: api_infusion(d, "1850-06-01T10:00:00Z"), "started_at", [Infusion]),
    ("year 1850", "staff", lambda d: staff_infusion(d, "1850-06-01T10:00"), "started_at", [Infusion]),
    ("year 1850", "portal", lambda d: portal_infusion(d, "1850-06-01T10:00"), "started_at", [Infusion]),
    ("year 1850", "admin", lambda d: admin_infusion(d, "1850-06-01T10:00"), "started_at", [Infusion]),
    ("year 1850", "api", lambda d: api_lab(d, "1850-06-01T10:00:00Z"), "collected_at", [LabResult]),
    ("year 1850", "staff", lambda d: staff_lab(d, "1850-06-01T10:00"), "collected_at", [LabResult]),
    ("year 1850", "admin", lambda d: admin_lab(d, "1850-06-01T10:00"), "collected_at", [LabResult]),
    ("before birth", "api", lambda d: api_infusion(d, "1969-06-01T10:00:00Z"), "started_at", [Infusion]),
    ("before birth", "staff", lambda d: staff_infusion(d, "1969-06-01T10:00"), "started_at", [Infusion]),
    ("before birth", "portal", lambda d: portal_infusion(d, "1969-06-01T10:00"), "started_at", [Infusion]),
    ("before birth", "admin", lambda d: admin_infusion(d, "1969-06-01T10:00"), "started_at", [Infusion]),
    ("before birth", "api", lambda d: api_lab(d, "1970-04-30T10:00:00Z"), "collected_at", [LabResult]),
    ("before birth", "staff", lambda d: staff_condition(d, onset_date="1960-01-01"), "onset_date", [Condition]),
    ("before birth", "admin", lambda d: admin_condition(d, onset_date="1960-01-01"), "onset_date", [Condition]),
    ("MRN case clash", "api", lambda d: api_patient(d, mrn="mrn-pat"), "mrn", [Patient]),
    ("MRN case clash", "staff", lambda d: staff_patient(d, mrn="mrn-pat"), "mrn", [Patient]),
    ("MRN case clash", "admin", lambda d: admin_patient(d, mrn="mrn-pat"), "mrn", [Patient]),
    ("both doses", "api", lambda d: api_regimen(d, dose_grams_per_day=30), "dose_grams_per_day", [Regimen]),
    ("both doses", "staff", lambda d: staff_regimen(d, dose_grams_per_day="30"), "dose_grams_per_day", [Regimen]),
    ("both doses", "admin", lambda d: admin_regimen(d, dose_grams_per_day="30"), "dose_grams_per_day", [Regimen]),
    ("text too long", "api", lambda d: api_condition(d, note=LONG), "note", [Condition]),
    ("text too long", "staff", lambda d: staff_condition(d, note=LONG), "note", [Condition]),
    ("text too long", "admin", lambda d: admin_condition(d, note=LONG), "note", [Condition]),
]


def form_errors(response) -> dict:
    context = response.context
    if "adminform" in context:
        return context["adminform"].form.errors
    return context["form"].errors


@pytest.mark.parametrize(("case", "door", "send", "field", "models"), CASES, ids=[f"{c[0]}-{c[1]}" for c in CASES])
def test_bad_input_is_refused_with_the_field_named(doors, case, door, send, field, models):
    before = {model: model.objects.count() for model in (Patient, Regimen, Infusion, LabResult, Condition)}
    response = send(doors)
    after = {model: model.objects.count() for model in before}
    assert after == before, (case, door)
    if field is None:
        assert response.status_code == 400, (case, door, response.status_code)
        assert b"nested deeper than 100" in response.content or b"UTF-8" in response.content
        return
    if door == "api":
        assert response.status_code == 400, (case, door, response.content)
        assert field in response.json(), response.json()
        return
    assert response.status_code == 200, (case, door, response.status_code)
    errors = form_errors(response)
    assert field in errors, (case, door, dict(errors))
