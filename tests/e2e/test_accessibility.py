"""Accessibility and small screens, in Chromium: axe-core (the copy that axe-playwright-python
ships) over every page state a role can reach, failing on any serious or critical violation, and
no page scrolling sideways at 375 px.

The page states are drawn from the URL conf: every staff and portal route that answers GET with
a page must have a state here (or be listed as not a page, with why), so a new page cannot be
added without being audited."""

from __future__ import annotations

from dataclasses import dataclass, field

import pytest
from axe_playwright_python.sync_playwright import Axe
from django.urls import URLPattern, reverse
from django.utils import timezone
from playwright.sync_api import expect

from ivigtrack import portal_urls, staff_urls
from ivigtrack.corrections import mark_entered_in_error
from patients import services as patient_services
from risk.models import ReviewFlag
from risk.services.assessment import patient_assess
from tests.records import full_history

from .conftest import log_in

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

BLOCKING = {"serious", "critical"}

# Routes that are not pages a person reads: images, downloads, POST-only actions.
NOT_PAGES = {
    "staff:flag_acknowledge": "POST only (the row's button)",
    "staff:flags_acknowledge_bulk": "POST only (the worklist's Acknowledge selected)",
    "staff:flag_unsnooze": "POST only",
    "staff:patient_reassess": "POST only",
    "staff:patient_chart": "an SVG image inside the patient page",
    "staff:lab_verify": "POST only",
    "staff:sweep_run": "POST only",
    "staff:alerts_csv": "a CSV download",
    "staff:alerts_chart": "an SVG image inside the alerts page",
}


@dataclass
class State:
    """One page state: who, where, and what to do there before the audit."""

    name: str
    role: str  # "clinician" or "patient"
    url: str
    route: str = ""
    prepare: list = field(default_factory=list)


@pytest.fixture
def clinic(patient_pat, clinician_carol, nurse_nina):
    records = full_history(patient_pat, clinician_carol)
    report = patient_services.symptom_report_submit(
        actor=patient_pat.user, patient=patient_pat, symptoms=["limb_pain_swelling"]
    )
    weight = patient_services.weight_record(actor=clinician_carol, patient=patient_pat, weight_kg=70)
    # records entered in error: struck through on the patient page and in the portal history
    wrong_lab = patient_services.lab_record(
        actor=clinician_carol, patient=patient_pat, test="hemoglobin", value=13.1, collected_at=timezone.now()
    )
    mark_entered_in_error(wrong_lab, reason="Another patient's sample", actor=clinician_carol)
    wrong_report = patient_services.symptom_report_submit(
        actor=clinician_carol, patient=patient_pat, symptoms=["other"]
    )
    mark_entered_in_error(wrong_report, reason="Recorded on the wrong patient", actor=clinician_carol)
    # a pasted note as long as a note may be (5,000 characters), without a space, must wrap, not widen the page
    patient_services.condition_add(actor=clinician_carol, patient=patient_pat, code="diabetes", note="x" * 5_000)
    patient_assess(patient_pat)
    flag = ReviewFlag.objects.filter(patient=patient_pat).exclude(kind="symptom_alert").first()
    return {"patient": patient_pat, "records": records, "report": report, "flag": flag, "weight": weight}


def _states(clinic) -> list[State]:
    pid = clinic["patient"].public_id
    rec = {name: obj.public_id for name, obj in clinic["records"].items()}
    flag = clinic["flag"].public_id
    P = {"patient_id": pid}

    def staff(route: str, *, name: str = "", prepare=(), **kwargs) -> State:
        return State(
            name or route,
            "clinician",
            reverse(f"staff:{route}", kwargs=kwargs or None),
            f"staff:{route}",
            list(prepare),
        )

    def portal(route: str, **kwargs) -> State:
        return State(route, "patient", reverse(f"portal:{route}", kwargs=kwargs or None), f"portal:{route}")

    def open_dialog(button: str):
        def act(page):
            page.locator(f"#flag-{flag}").get_by_role("link", name=button).click()
            expect(page.locator("#flag-dialog")).to_be_visible()

        return act

    return [
        staff("worklist"),
        staff("worklist", name="worklist-snooze-dialog", prepare=[open_dialog("Snooze…")]),
        staff("worklist", name="worklist-resolve-dialog", prepare=[open_dialog("Resolve…")]),
        staff("flag_snooze", flag_id=flag),
        staff("flag_resolve", flag_id=flag),
        staff("patient_list"),
        State("patient_list-search", "clinician", reverse("staff:patient_list") + "?q=Doe"),
        staff("patient_create"),
        staff("patient_detail", **P),
        staff("patient_edit", **P),
        staff("patient_invite", **P),
        staff("weight_add", **P),
        staff("weight_edit", **P, record_id=clinic["patient"].weights.first().public_id),
        staff("condition_add", **P),
        staff("condition_edit", **P, record_id=rec["condition"]),
        staff("access_add", **P),
        staff("access_edit", **P, record_id=rec["access"]),
        staff("event_add", **P),
        staff("event_edit", **P, record_id=rec["event"]),
        staff("lab_add", **P),
        staff("lab_panel_add", **P),
        staff("lab_edit", **P, record_id=rec["lab"]),
        staff("symptom_add", **P),
        staff("symptom_edit", **P, record_id=rec["report"]),
        staff("regimen_add", **P),
        staff("regimen_edit", **P, record_id=rec["regimen"]),
        staff("infusion_add", **P),
        staff("infusion_edit", **P, record_id=rec["infusion"]),
        staff("medication_add", **P),
        staff("medication_edit", **P, record_id=rec["medication"]),
        *(
            staff(f"{kind}_entered_in_error", **P, record_id=record_id)
            for kind, record_id in (
                ("condition", rec["condition"]),
                ("access", rec["access"]),
                ("event", rec["event"]),
                ("lab", rec["lab"]),
                ("symptom", rec["report"]),
                ("weight", clinic["weight"].public_id),
                ("regimen", rec["regimen"]),
                ("infusion", rec["infusion"]),
                ("medication", rec["medication"]),
            )
        ),
        staff("patient_summary", **P),
        staff("haematology_review_add", **P),
        staff("sweep_status"),
        staff("alerts"),
        staff("rulesets"),
        State("api-docs", "clinician", "/api/docs/"),
        portal("home"),
        portal("infusion_log"),
        portal("symptom_report"),
        portal("symptom_result", report_id=clinic["report"].public_id),
        portal("history"),
        portal("access_log"),
        portal("checkin"),
        portal("reminders"),
        State("login", "anonymous", "/accounts/login/"),
        State("password-reset", "anonymous", "/accounts/password-reset/"),
        State("two-factor-setup", "clinician", "/accounts/2fa/setup/"),
        State("not-found", "clinician", "/staff/patients/00000000-0000-0000-0000-000000000000/"),
    ]


def _page_routes() -> set[str]:
    routes = set()
    for namespace, module in (("staff", staff_urls), ("portal", portal_urls)):
        for pattern in module.urlpatterns:
            assert isinstance(pattern, URLPattern)
            routes.add(f"{namespace}:{pattern.name}")
    return routes - set(NOT_PAGES)


def _session(open_page, role: str, width: int, height: int):
    watched = open_page(f"{role}-{width}", width, height)
    if role == "clinician":
        log_in(watched, "carol")
    elif role == "patient":
        log_in(watched, "pat")
    return watched


def _audit(watched, state: State) -> list[str]:
    page = watched.page
    page.goto(state.url)
    page.wait_for_load_state("networkidle")
    for step in state.prepare:
        step(page)
    results = Axe().run(page)
    found = []
    headings = page.locator("h1").count()
    if headings != 1 and state.name != "api-docs":  # Swagger UI's page has its title as h2
        found.append(f"{state.name}: {headings} h1 elements (one per page)")
    for violation in results.response["violations"]:
        if violation["impact"] in BLOCKING:
            targets = ", ".join(str(node["target"]) for node in violation["nodes"][:3])
            found.append(
                f"{state.name}: {violation['impact']} {violation['id']} ({len(violation['nodes'])}×: {targets})"
            )
    return found


def test_every_page_route_has_an_audited_state(clinic):
    covered = {state.route for state in _states(clinic) if state.route}
    assert _page_routes() - covered == set(), "pages without an accessibility state"


def test_axe_finds_nothing_serious_or_critical_and_one_h1_per_page(open_page, clinic):
    states = _states(clinic)
    sessions = {}
    problems = []
    for state in states:
        if state.role not in sessions:
            sessions[state.role] = _session(open_page, state.role, 1280, 900)
        problems += _audit(sessions[state.role], state)
    # the not-found page logs its 404 in the console, as any browser does
    for watched in sessions.values():
        watched.problems = [p for p in watched.problems if "404" not in p]
    print(f"axe audited {len(states)} page states")
    assert problems == [], "\n".join(problems)


@pytest.mark.parametrize("width", [375, 768])
def test_no_page_scrolls_sideways(open_page, clinic, width):
    states = [s for s in _states(clinic) if not s.prepare and s.name != "api-docs"]
    sessions = {}
    wide = []
    for state in states:
        if state.role not in sessions:
            sessions[state.role] = _session(open_page, state.role, width, 812)
        page = sessions[state.role].page
        page.goto(state.url)
        page.wait_for_load_state("networkidle")
        scroll, client = page.evaluate(
            "() => [document.documentElement.scrollWidth, document.documentElement.clientWidth]"
        )
        if scroll > client:
            wide.append(f"{state.name}: {scroll}px wide in a {client}px window")
    for watched in sessions.values():
        watched.problems = [p for p in watched.problems if "404" not in p]
    assert wide == [], "\n".join(wide)
