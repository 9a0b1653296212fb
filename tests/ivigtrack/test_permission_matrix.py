"""The permission matrix: every route of the URL conf (and every method the OpenAPI schema gives an
API route) × six callers × three objects, against what docs/roles.md says.

Callers: anonymous; pat (a patient); fay (a nurse of the far site); nina (a nurse of the main site);
carol (a clinician of the main site); root (a superuser). Objects, as the route's ids or its
``?patient=`` filter: pat's own records ("own"), quinn's ("other": another patient of the main
site) and fred's ("far": a patient of the far site).

The expected answer follows from the route's entry in ROUTES, in the order the app decides:
anonymous → 302 to the login page (pages) or 401 (API, FHIR); a caller whose role may not use the
route → 403; an object the caller may not see (another patient's, another site's) → 404, exactly
as for one that does not exist; else success (GET 200; a write without a body reaches its
validation: 200, 201, 204, a redirect, 400, or 409 when an earlier caller changed the object).

``test_every_route_has_an_entry`` fails when a route is added (or removed) without its entry:
a new route must say who may use it. Admin routes are Django's, generated per model, and have a
test of their own below (superuser only)."""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass
from functools import cache

import pytest
from django.core.cache import cache as django_cache
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver, resolve
from django.utils import timezone
from rest_framework.test import APIClient

from infusions.models import Drug
from patients import services as patient_services
from risk.models import SweepRun
from tests import factories
from tests.conftest import records_of

pytestmark = pytest.mark.django_db

ANON, PAT, FAR_NURSE, NURSE, CLIN, ROOT = "anonymous", "patient", "other-site nurse", "nurse", "clinician", "superuser"
ROLES = (ANON, PAT, FAR_NURSE, NURSE, CLIN, ROOT)
OWN, OTHER, FAR = "own", "other patient's", "other site's"
OBJECTS = (OWN, OTHER, FAR)
# What each caller may see (patients.selectors): pat his own; main-site staff the main site; fay the far one.
VISIBLE = {PAT: {OWN}, FAR_NURSE: {FAR}, NURSE: {OWN, OTHER}, CLIN: {OWN, OTHER}, ROOT: {OWN, OTHER, FAR}}

EVERYONE = frozenset({PAT, FAR_NURSE, NURSE, CLIN, ROOT})
STAFF = frozenset({FAR_NURSE, NURSE, CLIN, ROOT})
CLINICIANS = frozenset({CLIN, ROOT})
SUPERUSER = frozenset({ROOT})
PATIENTS = frozenset({PAT})
WRITE_OK = {200, 201, 204, 302, 400, 409}


@dataclass(frozen=True)
class Route:
    """Who may use a route and what its ids point at.

    read: the roles that may GET it; write: the roles that may use its other methods (default:
    read); obj: the records (tests.conftest.records_of key) its id, or its ``?patient=`` filter,
    points at (None: no object); methods: a page's methods (the API's come from the schema);
    public: anonymous callers get it too; get_ok: the status of a successful GET."""

    read: frozenset = STAFF
    write: frozenset | None = None
    obj: str | None = None
    methods: tuple[str, ...] = ("GET",)
    public: bool = False
    get_ok: int = 200
    lookup_first: bool = False  # the object is looked up before the role is checked: 404 before 403
    get_ok_for: tuple = ()  # (role, status) pairs where a successful GET answers otherwise

    def allowed(self, role: str, method: str) -> bool:
        roles = self.read if method in ("GET", "HEAD") else (self.write if self.write is not None else self.read)
        return role in roles


def page(obj=None, read=STAFF, **kw) -> Route:
    return Route(read=read, obj=obj, **kw)


def api(obj=None, read=EVERYONE, write=STAFF, **kw) -> Route:
    return Route(read=read, write=write, obj=obj, **kw)


POST = ("POST",)
FORM = ("GET", "POST")
ROUTES: dict[str, Route] = {
    # --- public and start pages
    "home": Route(read=EVERYONE, get_ok=302),  # each role to its start page
    "login": Route(read=EVERYONE, public=True),
    "logout": Route(read=EVERYONE, methods=POST, public=True),
    "healthz": Route(read=EVERYONE, public=True),
    "readyz": Route(read=EVERYONE, public=True),
    "favicon": Route(read=EVERYONE, public=True, get_ok=301),  # to the static icon
    # --- accounts: second factor (staff who need one; anyone else is sent home), the session's
    # expiry for the "Stay signed in" warning, invitations and password reset (public, by link)
    "accounts:2fa_setup": Route(read=EVERYONE, methods=FORM, get_ok_for=((PAT, 302),)),
    "accounts:2fa_verify": Route(read=EVERYONE, methods=FORM, get_ok=302),
    "accounts:session": Route(read=EVERYONE, methods=FORM),
    "accounts:invitation_accept": Route(read=EVERYONE, methods=FORM, public=True),
    "accounts:password_reset": Route(read=EVERYONE, methods=FORM, public=True),
    "accounts:password_reset_done": Route(read=EVERYONE, public=True),
    "accounts:password_reset_confirm": Route(read=EVERYONE, methods=FORM, public=True),
    "accounts:password_reset_complete": Route(read=EVERYONE, public=True),
    # --- staff pages (docs/roles.md)
    "staff:worklist": page(),
    "staff:flag_acknowledge": page("flags", methods=POST),
    "staff:flags_acknowledge_bulk": page(methods=POST),  # the ids in the body, looked up in scope
    # a nurse: the forms are a 403 once the flag is found; a posted action is refused on its row
    "staff:flag_snooze": page("flags", read=CLINICIANS, methods=FORM, write=STAFF, lookup_first=True),
    "staff:flag_unsnooze": page("flags", methods=POST),  # refused on its row
    "staff:flag_resolve": page("flags", read=CLINICIANS, methods=FORM, write=STAFF, lookup_first=True),
    "staff:patient_list": page(),
    "staff:patient_create": page(methods=FORM),  # pages: nurses add and edit patients (the API: clinicians)
    "staff:patient_detail": page("patients"),
    "staff:patient_edit": page("patients", methods=FORM),
    "staff:patient_invite": page("patients", methods=FORM),
    "staff:patient_reassess": page("patients", methods=POST),
    "staff:patient_chart": page("patients"),
    "staff:weight_add": page("patients", methods=FORM),
    "staff:weight_edit": page("weights", methods=FORM),
    "staff:condition_add": page("patients", methods=FORM),
    "staff:condition_edit": page("conditions", methods=FORM),
    "staff:access_add": page("patients", methods=FORM),
    "staff:access_edit": page("vascular-access", methods=FORM),
    "staff:event_add": page("patients", methods=FORM),
    "staff:event_edit": page("thrombosis-events", methods=FORM),
    "staff:lab_add": page("patients", methods=FORM),
    "staff:lab_panel_add": page("patients", methods=FORM),
    "staff:lab_verify": page("labs", methods=POST),
    "staff:lab_edit": page("labs", methods=FORM),
    "staff:symptom_add": page("patients", methods=FORM),
    "staff:symptom_edit": page("symptom-reports", methods=FORM),
    "staff:regimen_add": page("patients", read=CLINICIANS, methods=FORM),
    "staff:regimen_edit": page("regimens", read=CLINICIANS, methods=FORM),
    "staff:infusion_add": page("patients", methods=FORM),
    "staff:infusion_edit": page("infusions", methods=FORM),
    "staff:medication_add": page("patients", methods=FORM),
    "staff:medication_edit": page("medications", methods=FORM),
    # corrections: the confirm page of each kind (regimens are clinicians', like their form)
    "staff:condition_entered_in_error": page("conditions", methods=FORM),
    "staff:access_entered_in_error": page("vascular-access", methods=FORM),
    "staff:event_entered_in_error": page("thrombosis-events", methods=FORM),
    "staff:lab_entered_in_error": page("labs", methods=FORM),
    "staff:symptom_entered_in_error": page("symptom-reports", methods=FORM),
    "staff:weight_entered_in_error": page("weights", methods=FORM),
    "staff:regimen_entered_in_error": page("regimens", read=CLINICIANS, methods=FORM),
    "staff:infusion_entered_in_error": page("infusions", methods=FORM),
    "staff:medication_entered_in_error": page("medications", methods=FORM),
    "staff:sweep_status": page(),
    "staff:sweep_run": page(read=CLINICIANS, methods=POST),
    "staff:haematology_review_add": page("patients", read=CLINICIANS, methods=FORM),
    "staff:patient_summary": page("patients"),
    "staff:rulesets": page(read=CLINICIANS),
    "staff:alerts": page(),
    "staff:alerts_csv": page(),
    "staff:alerts_chart": page(),
    # --- portal: patients only, their own records
    "portal:home": page(read=PATIENTS),
    "portal:infusion_log": page(read=PATIENTS, methods=FORM),
    "portal:symptom_report": page(read=PATIENTS, methods=FORM),
    "portal:symptom_result": page("symptom-reports", read=PATIENTS),
    "portal:history": page(read=PATIENTS),
    "portal:access_log": page(read=PATIENTS),
    "portal:checkin": page(read=PATIENTS, methods=FORM),
    "portal:reminders": page(read=PATIENTS, methods=FORM),
    # --- REST API v1: a patient reads their own; staff their sites'; roles per docs/roles.md
    "api:api-root": api(),
    "api:token": Route(read=frozenset(), write=EVERYONE, methods=POST, public=True),
    "api:logout": Route(read=frozenset(), write=EVERYONE, methods=POST),
    "api:me-access-log": api(read=PATIENTS),
    "api:schema": api(),
    "api:docs": api(),
    "api:patient-list": api("patients", write=CLINICIANS),
    "api:patient-detail": api("patients", write=CLINICIANS),
    "api:patient-assess": api("patients"),
    "api:patient-risk": api("patients"),
    "api:condition-list": api("conditions", write=CLINICIANS),
    "api:condition-detail": api("conditions", write=CLINICIANS),
    "api:vascular-access-list": api("vascular-access"),
    "api:vascular-access-detail": api("vascular-access"),
    "api:thrombosis-event-list": api("thrombosis-events", write=CLINICIANS),
    "api:thrombosis-event-detail": api("thrombosis-events", write=CLINICIANS),
    "api:lab-list": api("labs"),
    "api:lab-detail": api("labs"),
    "api:lab-verify": api("labs"),
    "api:lab-panel": api(),  # POST only; the patient is in the body
    "api:symptom-report-list": api("symptom-reports", write=EVERYONE),
    "api:symptom-report-detail": api("symptom-reports"),
    "api:product-list": api(write=SUPERUSER),
    "api:product-detail": api("products", write=SUPERUSER),
    "api:regimen-list": api("regimens", write=CLINICIANS),
    "api:regimen-detail": api("regimens", write=CLINICIANS),
    "api:infusion-list": api("infusions", write=EVERYONE),
    "api:infusion-detail": api("infusions"),
    "api:medication-list": api("medications", write=CLINICIANS),
    "api:medication-detail": api("medications", write=CLINICIANS),
    # corrections (POST only): the record's writers; a patient never (403)
    "api:condition-entered-in-error": api("conditions", write=CLINICIANS),
    "api:vascular-access-entered-in-error": api("vascular-access"),
    "api:thrombosis-event-entered-in-error": api("thrombosis-events", write=CLINICIANS),
    "api:lab-entered-in-error": api("labs"),
    "api:symptom-report-entered-in-error": api("symptom-reports"),
    "api:regimen-entered-in-error": api("regimens", write=CLINICIANS),
    "api:infusion-entered-in-error": api("infusions"),
    "api:medication-entered-in-error": api("medications", write=CLINICIANS),
    "api:assessment-list": api("assessments"),
    "api:assessment-detail": api("assessments"),
    "api:flag-list": api("flags", read=STAFF),
    "api:flag-detail": api("flags", read=STAFF),
    "api:flag-acknowledge": api("flags", read=STAFF),
    "api:flag-acknowledge-many": api(read=STAFF),  # POST only; the ids are in the body
    "api:flag-resolve": api("flags", read=STAFF, write=CLINICIANS),
    "api:flag-snooze": api("flags", read=STAFF, write=CLINICIANS),
    "api:flag-unsnooze": api("flags", read=STAFF, write=CLINICIANS),
    "api:flag-stats-list": api(read=STAFF),
    "api:haematology-review-list": api("haematology-reviews", write=CLINICIANS),
    "api:haematology-review-detail": api("haematology-reviews", write=CLINICIANS),
    "api:drug-list": api(),
    "api:drug-detail": api("drugs"),
    "api:sweep-list": api(read=STAFF),
    "api:sweep-detail": api("sweeps", read=STAFF),
    "api:site-list": api(read=STAFF),
    "api:site-detail": api("sites", read=STAFF),
    # --- FHIR R4 (read-only)
    "fhir:metadata": api(),
    "fhir:Patient-search": api(),
    "fhir:Patient-read": api("patients"),
    "fhir:RiskAssessment-search": api("assessments"),
    "fhir:RiskAssessment-read": api("assessments"),
    "fhir:Flag-search": api("flags", read=STAFF),
    "fhir:Flag-read": api("flags", read=STAFF),
    "fhir:MedicationAdministration-search": api("infusions"),
    "fhir:MedicationAdministration-read": api("infusions"),
    "fhir:Observation-search": api("labs"),
    "fhir:Observation-read": api("labs"),
    "fhir:ClinicalImpression-search": api("haematology-reviews"),
    "fhir:ClinicalImpression-read": api("haematology-reviews"),
}
SHARED_OBJECTS = {"products", "drugs", "sweeps"}  # the catalogues: the same row whoever asks


# --- the routes, from the URL conf and the schema ------------------------------------------------


def _walk(patterns, prefix: str = "", namespace: str | None = None):
    for entry in patterns:
        if isinstance(entry, URLResolver):
            inner = ":".join(n for n in (namespace, entry.namespace) if n) or None
            yield from _walk(entry.url_patterns, prefix + str(entry.pattern), inner)
        elif isinstance(entry, URLPattern) and entry.name:
            yield (f"{namespace}:{entry.name}" if namespace else entry.name), prefix + str(entry.pattern)


@cache
def url_routes() -> dict[str, str]:
    """Every named route of the URL conf (its first pattern; DRF's format-suffix twins share a name)."""
    routes: dict[str, str] = {}
    for name, pattern in _walk(get_resolver().url_patterns):
        routes.setdefault(name, pattern)
    return routes


@cache
def schema_methods() -> dict[str, tuple[str, ...]]:
    """For each API route, the methods the OpenAPI schema documents (resolved through the URL conf)."""
    from drf_spectacular.generators import SchemaGenerator

    schema = SchemaGenerator().get_schema(request=None, public=True)
    methods: dict[str, set[str]] = {}
    for path, operations in schema["paths"].items():
        match = resolve(re.sub(r"\{[^}]+\}", str(uuid.uuid4()), path))
        name = ":".join(filter(None, (match.namespace, match.url_name)))
        methods.setdefault(name, set()).update(m.upper() for m in operations if m in ("get", "post", "put", "patch"))
    return {name: tuple(sorted(found, key=("GET", "POST", "PUT", "PATCH").index)) for name, found in methods.items()}


def route_names() -> list[str]:
    return sorted(name for name in url_routes() if not name.startswith("admin:"))


def test_every_route_has_an_entry():
    names = set(route_names())
    assert not names - set(ROUTES), f"routes without an entry in ROUTES: {sorted(names - set(ROUTES))}"
    assert not set(ROUTES) - names, f"entries for routes that do not exist: {sorted(set(ROUTES) - names)}"


def test_every_schema_operation_is_a_route_with_an_entry():
    assert schema_methods(), "the schema documents no operation"
    assert not set(schema_methods()) - set(ROUTES)


def methods_of(name: str) -> tuple[str, ...]:
    return schema_methods().get(name) or ROUTES[name].methods


def objects_of(name: str) -> tuple:
    """The objects a route is asked about: three when its ids or ``?patient=`` name one."""
    route = ROUTES[name]
    if route.obj is None:
        return (None,)
    names_one = bool(re.search(r"<(?!slug:kind)|\(\?P<id>", url_routes()[name])) or route.obj not in (
        "patients", "sites", "products")  # fmt: skip
    return OBJECTS if names_one else (None,)


def matrix_size() -> tuple[int, int]:
    """(requests, route × method cells): objects count once for routes without an object."""
    cells = sum(len(methods_of(name)) for name in route_names())
    requests = sum(len(methods_of(name)) * len(ROLES) * len(objects_of(name)) for name in route_names())
    return requests, cells


# --- the world -----------------------------------------------------------------------------------


@pytest.fixture
def world(patient_pat, patient_quinn, patient_fred, clinician_carol, clinician_finn, nurse_nina, nurse_fay,
          admin_user, product):  # fmt: skip
    django_cache.clear()  # throttles start from zero
    records = {
        OWN: records_of(patient_pat, clinician_carol, product),
        OTHER: records_of(patient_quinn, clinician_carol, product),
        FAR: records_of(patient_fred, clinician_finn, product),
    }
    sweep = SweepRun.objects.create(trigger="manual", status="finished", started_at=timezone.now())
    for owner in OBJECTS:
        records[owner]["sites"] = records[owner]["patients"].site
        records[owner]["products"] = product
        records[owner]["drugs"] = Drug.objects.get(name="apixaban")
        records[owner]["sweeps"] = sweep
        patient = records[owner]["patients"]  # a weight of the history (a page, no API resource)
        records[owner]["weights"] = patient.weights.first() or patient_services.weight_record(
            actor=clinician_carol, patient=patient, weight_kg=70
        )
    users = {PAT: patient_pat.user, FAR_NURSE: nurse_fay, NURSE: nurse_nina, CLIN: clinician_carol, ROOT: admin_user}
    return {"records": records, "users": users}


def client_for(world, role: str, *, api: bool):
    if role == ANON:
        return APIClient() if api else Client()
    user = world["users"][role]
    return factories.token_client(user) if api else factories.session_client(user)


def url_for(name: str, target) -> tuple[str, dict, bool]:
    """The route's URL for this object (its ids), the query that names it (``?patient=``), and
    whether either names the object at all (a list without a patient filter does not)."""
    pattern = url_routes()[name]
    kwargs = {}
    for key in re.findall(r"<(?:\w+:)?(\w+)>|\(\?P<(\w+)>", pattern):
        key = key[0] or key[1]
        if key == "format":
            continue
        if key == "kind":
            kwargs[key] = "timeline"
        elif key == "patient_id":
            kwargs[key] = target["patients"].public_id
        elif key == "flag_id":
            kwargs[key] = target["flags"].public_id
        elif key in ("uidb64", "token"):  # a link that is not valid: the page says so
            kwargs[key] = "not-a-valid-link"
        elif key == "report_id":
            kwargs[key] = target["symptom-reports"].public_id
        else:  # id, record_id: the route's own object
            kwargs[key] = target[ROUTES[name].obj].public_id
    from django.urls import reverse

    url = reverse(name, kwargs=kwargs)
    query = {}
    if target is not None and not kwargs and ROUTES[name].obj not in (None, "patients", *SHARED_OBJECTS, "sites"):
        query = {"patient": str(target["patients"].public_id)}
    return url, query, bool(kwargs or query)


def expected(route: Route, role: str, method: str, owner: str | None, *, api: bool) -> set[int]:
    if role == ANON and not route.public:
        return {401} if api else {302}
    hidden = owner is not None and owner not in VISIBLE.get(role, set()) and route.obj not in SHARED_OBJECTS
    if hidden and route.lookup_first and role in STAFF:  # past the staff-only decorator
        return {404}
    if not route.allowed(role, method) and not (role == ANON and route.public):
        return {403}
    if hidden:
        return {404}
    if method == "GET":
        return {dict(route.get_ok_for).get(role, route.get_ok)}
    return WRITE_OK


def is_api(name: str) -> bool:
    return name.split(":")[0] in ("api", "fhir")


@pytest.mark.parametrize("name", route_names())
def test_route(name, world):
    route = ROUTES[name]
    api = is_api(name)
    owners = objects_of(name)
    wrong = []
    for method in methods_of(name):
        for role in ROLES:
            client = client_for(world, role, api=api)
            for owner in owners:
                url, query, _ = url_for(name, world["records"][owner] if owner else None)
                send = getattr(client, method.lower())
                if method == "GET":
                    response = send(url, query)
                elif api:  # a write to a list names its patient in the body
                    response = send(url, query, format="json")
                else:
                    response = send(url, {})
                want = expected(route, role, method, owner, api=api)
                if query and method != "GET" and want == {404}:
                    want = {400}  # a body naming a patient the caller may not see: refused on that field
                problem = ""
                if response.status_code not in want:
                    problem = f"{response.status_code}, want {want}"
                elif query and method != "GET" and response.status_code == 400:
                    refused = "patient" in response.json()
                    if refused != (owner not in VISIBLE.get(role, set())):
                        problem = f"400 {'refusing' if refused else 'accepting'} the patient"
                if problem:
                    wrong.append(f"{method} {url} as {role} on {owner or '-'}: {problem}")
                elif response.status_code == 302 and role == ANON and not route.public:
                    assert "/login" in response["Location"], (name, response["Location"])
    assert not wrong, "\n".join(wrong)


# --- the admin: Django's, per registered model ----------------------------------------------------


# Records nobody adds by hand, not even a superuser: the audit trail and the lockout logs.
ADMIN_READ_ONLY = {"admin:audit_auditevent_add", "admin:axes_accessattempt_add", "admin:axes_accessfailurelog_add",
                   "admin:axes_accesslog_add"}  # fmt: skip
ADMIN_LISTS = [name for name in sorted(url_routes()) if re.fullmatch(r"admin:\w+_(changelist|add)", name)]


@pytest.mark.parametrize("name", ["admin:index", *ADMIN_LISTS])
def test_admin_is_the_superusers(name, world):
    from django.urls import reverse

    url = reverse(name)
    for role in ROLES:
        response = client_for(world, role, api=False).get(url)
        if role == ROOT:
            assert response.status_code == (403 if name in ADMIN_READ_ONLY else 200), (name, role)
        else:  # not admin staff: a login page (the site's for anonymous callers, the admin's for others)
            assert response.status_code == 302 and "login/" in response["Location"], (name, role)
