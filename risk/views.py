"""Staff pages about risk and review: the worklist of open flags (acknowledge, snooze, resolve
in place with htmx), the patient list with tier badges, the patient page that explains the
risk, its SVG charts and the review-sweep status page. Alert governance is in
risk/governance_views.py."""

from __future__ import annotations

from csp.decorators import csp
from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.db.models import Count, IntegerField, OuterRef, Prefetch, Q, Subquery
from django.db.models.functions import Coalesce
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.cache import never_cache
from django.views.decorators.debug import sensitive_post_parameters
from django.views.decorators.http import require_http_methods, require_POST
from django.views.decorators.vary import vary_on_headers

from infusions.medicines import with_scoring
from infusions.models import Infusion, MedicationCourse, Regimen
from infusions.selectors import next_planned_course
from infusions.watch import current_window, infusion_watch
from itrs import haematology
from ivigtrack.audit.services import audit_list_read, audit_record
from ivigtrack.web.decorators import staff_required
from patients.lab_ranges import with_reference_marks
from patients.models import Condition, LabResult, SymptomReport, ThrombosisEvent, VascularAccess, WeightMeasurement
from patients.pages import patient_url, staff_patient, with_corrections, with_symptom_labels

from . import charts
from .flag_rows import flag_rows, worklist_rows
from .forms import (
    AcknowledgeForm,
    BulkAcknowledgeForm,
    HaematologyResolveForm,
    PatientSearchForm,
    ResolveForm,
    SnoozeForm,
    UnsnoozeForm,
    WorklistFilterForm,
)
from .models import UNRESOLVED, ReviewFlag, RiskAssessment
from .review_settings import review_settings
from .selectors import (
    OPEN_COUNT_CAP,
    current_assessment,
    flag_scope,
    live_suppressions,
    open_flag_counts,
    patients_with_risk,
    worklist_by_patient,
)
from .services import assessment as assessment_services
from .services import flags as flag_services
from .services import haematology as haematology_services
from .summary import haematology_context

WORKLIST_PAGE = 50
PATIENTS_PAGE = 25
COMPONENTS = [
    ("hypercoagulability", "Hypercoagulability", "the blood clots more easily"),
    ("stasis", "Stasis", "the blood flows slowly"),
    ("vessel_injury", "Vessel injury", "lines and damaged vessel walls"),
    ("arterial", "Arterial", "heart-attack and stroke risk markers"),
]


# --- worklist ------------------------------------------------------------------------------


def _worklist_context(request: HttpRequest) -> dict:
    form = WorklistFilterForm(request.GET or None, user=request.user)
    filters = form.cleaned_data if form.is_valid() else {}
    where = {"site": filters.get("site") or None, "mine": bool(filters.get("mine"))}
    page = worklist_by_patient(
        request.user,
        q=filters.get("q") or "",
        kind=filters.get("kind") or None,
        priority=filters.get("priority") or None,
        sort=filters.get("sort") or "priority",
        **where,
        page=request.GET.get("page"),
        per_page=WORKLIST_PAGE,
        cap=OPEN_COUNT_CAP,
    )
    now = timezone.now()
    counts = open_flag_counts(request.user, cap=OPEN_COUNT_CAP, **where)
    query = request.GET.copy()
    query.pop("page", None)
    return {
        "filter_form": form,
        "page": page,
        "filtered": any(filters.get(name) for name in ("q", "kind", "priority", "site", "mine")),
        "query": query.urlencode(),
        "counts": [(p, label, counts[p]) for p, label in ReviewFlag.Priority.choices],
        "count_cap": OPEN_COUNT_CAP,
        "rows": worklist_rows(request, page, now=now),
        "now": now,
        "action_context": "worklist",
        "bulk_max": flag_services.BULK_ACKNOWLEDGE_MAX,
    }


@never_cache
@vary_on_headers("HX-Request")
@staff_required
def worklist(request: HttpRequest) -> HttpResponse:
    """Open flags, most urgent first. An htmx request (the 30-second refresh, a filter change)
    gets only the list; a normal request (or a history restore) gets the whole page."""
    context = _worklist_context(request)
    audit_list_read(
        actor=request.user,
        action="worklist.view",
        patient_ids=[group.patient.pk for group in context["page"].groups],
        detail={"query": request.GET.urlencode()[:300], "refresh": bool(request.htmx)},
    )
    if request.htmx and not request.htmx.history_restore_request:
        return render(request, "risk/_worklist_list.html", context)
    return render(request, "risk/worklist.html", context)


def _flag_response(request: HttpRequest, flag: ReviewFlag, *, message: str = "", error: str = "") -> HttpResponse:
    """htmx: the updated row, carrying the outcome. Otherwise: a message and back (PRG)."""
    if request.htmx:
        context = "patient" if request.POST.get("context") == "patient" else "worklist"
        return HttpResponse(flag_rows(request, [flag], context=context, row_message=message, row_error=error))
    if error:
        messages.error(request, error)
    else:
        messages.success(request, message)
    target = request.POST.get("next", "")
    if not url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()}):
        target = reverse("staff:worklist")
    return redirect(target)


def _flag_action(request: HttpRequest, flag_id, form_class, act, done: str) -> HttpResponse:
    flag = get_object_or_404(flag_scope(request.user), public_id=flag_id)
    if hasattr(form_class, "for_flag"):
        form_class = form_class.for_flag(flag)
    if request.method == "GET":
        return _flag_action_form(request, flag, form_class())
    form = form_class(request.POST)
    if form_class is HaematologyResolveForm and not getattr(request.user, "is_clinician", False):
        # the review fields are a clinician's to fill: say who may, not which fields are missing
        return _flag_response(request, flag, error="Only a clinician can resolve a flag; nurses can acknowledge it.")
    if not form.is_valid():
        errors = "; ".join(f"{form.fields[name].label}: {' '.join(errs)}" for name, errs in form.errors.items())
        return _flag_response(request, flag, error=errors)
    try:
        flag = act(flag, form)
    except flag_services.FlagConflict as exc:
        flag = flag_scope(request.user).get(pk=flag.pk)
        return _flag_response(request, flag, error=str(exc))
    except flag_services.FlagPermissionDenied as exc:
        return _flag_response(request, flag, error=str(exc))
    except ValidationError as exc:
        return _flag_response(request, flag, error=" ".join(exc.messages))
    flag = flag_scope(request.user).get(pk=flag.pk)  # with who did what, for the row
    return _flag_response(request, flag, message=done)


FLAG_FORMS = {
    SnoozeForm: ("Snooze flag", "Snooze", "staff:flag_snooze"),
    ResolveForm: ("Resolve flag", "Resolve", "staff:flag_resolve"),
    HaematologyResolveForm: ("Resolve flag", "Resolve", "staff:flag_resolve"),
}


def _flag_action_form(request: HttpRequest, flag: ReviewFlag, form) -> HttpResponse:
    """The snooze or resolve form of one flag: into the page's dialog for htmx, else a page of
    its own. Both post to the same URL and come back to where they were opened from."""
    title, verb, url_name = FLAG_FORMS[type(form)]
    try:
        flag_services.require_clinician(request.user, verb.lower())
    except flag_services.FlagPermissionDenied as exc:
        raise PermissionDenied(str(exc)) from exc
    from_patient = request.GET.get("context") == "patient"
    audit_record(actor=request.user, action="flag.view", obj=flag, detail={"form": verb.lower()})
    context = {
        "refusal": flag_services.flag_refusal(flag, verb.lower()),
        "flag": flag,
        "form": form,
        "title": title,
        "verb": verb,
        "action_url": reverse(url_name, args=[flag.public_id]),
        "action_context": "patient" if from_patient else "worklist",
        "next_url": patient_url(flag.patient) if from_patient else reverse("staff:worklist"),
        "guidance": haematology.THROMBOPHILIA_CAVEATS if flag.kind == "hematology_review" else (),
    }
    template = "risk/_flag_action_form.html" if request.htmx else "risk/flag_action.html"
    return render(request, template, context)


@never_cache
@staff_required
@require_POST
@sensitive_post_parameters("note")
def flag_acknowledge(request: HttpRequest, flag_id) -> HttpResponse:
    return _flag_action(
        request,
        flag_id,
        AcknowledgeForm,
        lambda flag, form: flag_services.flag_acknowledge(
            flag=flag, actor=request.user, note=form.cleaned_data["note"]
        ),
        "Acknowledged.",
    )


@require_POST
@staff_required
def flags_acknowledge_bulk(request: HttpRequest) -> HttpResponse:
    """The worklist's "Acknowledge selected": every ticked flag that is still open, one audit row
    each; back to the worklist (with its filters) saying how many, and which were skipped."""
    form = BulkAcknowledgeForm(request.POST)
    back = request.POST.get("next", "")
    if not back.startswith("/staff/") or not url_has_allowed_host_and_scheme(back, allowed_hosts={request.get_host()}):
        back = reverse("staff:worklist")
    if not form.is_valid():
        problems = form.errors.get("ids") or form.errors.get("note") or ["Nothing acknowledged."]
        messages.error(request, " ".join(problems))
        return redirect(back)
    flags = flag_scope(request.user).filter(public_id__in=form.cleaned_data["ids"])
    try:
        done, skipped = flag_services.flags_acknowledge_many(
            flags=flags, actor=request.user, note=form.cleaned_data["note"]
        )
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
        return redirect(back)
    text = f"Acknowledged {len(done)} flag{'s' if len(done) != 1 else ''}."
    if skipped:
        text += f" {len(skipped)} already acknowledged, snoozed or resolved by someone else: left as they are."
    messages.success(request, text)
    return redirect(back)


@never_cache
@staff_required
@require_http_methods(["GET", "POST"])
@sensitive_post_parameters("note")
def flag_snooze(request: HttpRequest, flag_id) -> HttpResponse:
    return _flag_action(
        request,
        flag_id,
        SnoozeForm,
        lambda flag, form: flag_services.flag_snooze(
            flag=flag,
            actor=request.user,
            until=form.until(),
            reason=form.cleaned_data["reason"],
            past_due_ok=form.cleaned_data["past_due_ok"],
        ),
        "Snoozed.",
    )


@never_cache
@staff_required
@require_POST
def flag_unsnooze(request: HttpRequest, flag_id) -> HttpResponse:
    return _flag_action(
        request,
        flag_id,
        UnsnoozeForm,
        lambda flag, form: flag_services.flag_unsnooze(flag=flag, actor=request.user),
        "Back on the worklist.",
    )


@never_cache
@staff_required
@require_http_methods(["GET", "POST"])
@sensitive_post_parameters("note")
def flag_resolve(request: HttpRequest, flag_id) -> HttpResponse:
    return _flag_action(
        request,
        flag_id,
        ResolveForm,
        lambda flag, form: _resolve(request, flag, form),
        "Resolved.",
    )


def _resolve(request: HttpRequest, flag: ReviewFlag, form) -> ReviewFlag:
    """Resolve; completing a haematology review flag records the review it names, in one go."""
    review = form.review_data() if hasattr(form, "review_data") else None
    if review is not None:
        haematology_services.haematology_review_record(actor=request.user, patient=flag.patient, flag=flag, **review)
        return flag
    return flag_services.flag_resolve(
        flag=flag, actor=request.user, resolution=form.cleaned_data["resolution"], note=form.cleaned_data["note"]
    )


# --- patients ------------------------------------------------------------------------------


@never_cache
@staff_required
def patient_list(request: HttpRequest) -> HttpResponse:
    """Searchable, paginated; a fixed number of queries whatever the page size: the risk comes
    from annotations, the open-flag count from a subquery, the next course from the regimens
    prefetched for the page only."""
    today = timezone.localdate()
    form = PatientSearchForm(request.GET or None)
    filters = form.cleaned_data if form.is_valid() else {}
    open_flags = (
        ReviewFlag.objects.filter(patient=OuterRef("pk"), status__in=UNRESOLVED)
        .order_by()
        .values("patient")
        .annotate(n=Count("id"))
        .values("n")
    )
    patients = patients_with_risk(request.user).annotate(
        open_flag_count=Coalesce(Subquery(open_flags, output_field=IntegerField()), 0)
    )
    for term in (filters.get("q") or "").split():
        patients = patients.filter(
            Q(given_name__icontains=term) | Q(family_name__icontains=term) | Q(mrn__icontains=term)
        )
    tier = filters.get("tier")
    if tier == "none":
        patients = patients.filter(risk_tier__isnull=True)
    elif tier:
        patients = patients.filter(risk_tier=tier)
    active_regimens = Regimen.objects.filter(Q(end_date__isnull=True) | Q(end_date__gte=today)).select_related(
        "product"
    )
    patients = patients.prefetch_related(Prefetch("regimens", queryset=active_regimens)).order_by(
        "family_name", "given_name", "id"
    )
    page = Paginator(patients, PATIENTS_PAGE).get_page(request.GET.get("page"))
    for patient in page:
        patient.next_course = next_planned_course(patient.regimens.all(), today)
    audit_list_read(
        actor=request.user,
        action="patient.search" if filters.get("q") or filters.get("tier") else "patient.list",
        patient_ids=[patient.pk for patient in page],
        detail={"via": "page", "query": {"q": filters.get("q") or "", "tier": filters.get("tier") or ""}},
    )
    query = request.GET.copy()
    query.pop("page", None)
    return render(
        request,
        "risk/patient_list.html",
        {"form": form, "page": page, "query": query.urlencode(), "today": today},
    )


def _factor_groups(assessment: RiskAssessment | None) -> list[dict]:
    if assessment is None:
        return []
    groups = []
    for code, label, meaning in COMPONENTS:
        groups.append(
            {
                "code": code,
                "label": label,
                "meaning": meaning,
                "points": (assessment.components or {}).get(code, 0),
                "factors": [f for f in assessment.factors if f.get("component") == code],
            }
        )
    return groups


@never_cache
@staff_required
def patient_detail(request: HttpRequest, patient_id) -> HttpResponse:
    patient = staff_patient(request, patient_id)
    audit_record(actor=request.user, action="patient.view", obj=patient)
    today = timezone.localdate()
    assessment = current_assessment(patient)
    flags = flag_scope(request.user).filter(patient=patient)
    open_flags = list(flags.filter(status__in=UNRESOLVED).order_by("priority_rank", "due_at"))
    # Every record list shows the ones entered in error too, struck through; what the rules and the
    # guidance read (next course, haematology guidance, watch windows) leaves them out.
    regimens = list(with_corrections(Regimen, patient).select_related("product"))
    for regimen in regimens:
        regimen.upcoming = [] if regimen.entered_in_error else regimen.next_course_dates(today, 3)
        regimen.active = regimen.is_active_on(today)
    current_regimens = [r for r in regimens if not r.entered_in_error]
    weight_age = (today - patient.weight_measured_on).days if patient.weight_measured_on else None
    events = list(with_corrections(ThrombosisEvent, patient).select_related("vascular_access"))
    infusions = list(
        with_corrections(Infusion, patient)
        .select_related("product", "vascular_access", "risk", "regimen")
        .order_by("-started_at")[:50]
    )
    for infusion in infusions:
        infusion.watch = infusion_watch(infusion)
    context = {
        **haematology_context(patient, events=[e for e in events if not e.entered_in_error], regimens=current_regimens),
        "patient": patient,
        "today": today,
        "now": timezone.now(),
        "assessment": assessment,
        "factor_groups": _factor_groups(assessment),
        "secondary": list((assessment.secondary or {}).values()) if assessment else [],
        "history": patient.assessments.only("assessed_at", "score", "tier", "provisional", "ruleset")[:20],
        "open_flags": open_flags,
        "open_flag_rows": flag_rows(request, open_flags, context="patient"),
        "past_flags": flags.filter(status="resolved").order_by("-resolved_at")[:20],
        "suppressions": live_suppressions(patient, timezone.now()),
        "regimens": regimens,
        "next_course": next_planned_course([r for r in current_regimens if r.active], today),
        "infusions": infusions,
        "watch_now": current_window(patient),
        "reminders": patient.reminders.all()[:10],
        "medications": with_scoring(with_corrections(MedicationCourse, patient).select_related("drug")),
        "conditions": with_corrections(Condition, patient),
        "accesses": with_corrections(VascularAccess, patient),
        "events": events,
        "labs": with_reference_marks(with_corrections(LabResult, patient)[:60]),
        "reports": with_symptom_labels(with_corrections(SymptomReport, patient)[:20]),
        "weights": with_corrections(WeightMeasurement, patient)[:10],
        "weight_age": weight_age,
        "weight_stale": weight_age is not None and weight_age > review_settings().weight_stale_days,
        "action_context": "patient",
    }
    return render(request, "risk/patient_detail.html", context)


@never_cache
@staff_required
@require_POST
def patient_reassess(request: HttpRequest, patient_id) -> HttpResponse:
    patient = staff_patient(request, patient_id)
    before = current_assessment(patient)
    assessment = assessment_services.patient_assess(patient, actor=request.user)
    if assessment is None:
        messages.error(request, "The assessment could not be made; see the sweep status page for errors.")
    elif before is not None and assessment.pk == before.pk:
        messages.info(request, f"Re-assessed: unchanged, score {assessment.score} ({assessment.get_tier_display()}).")
    else:
        messages.success(request, f"Re-assessed: score {assessment.score} ({assessment.get_tier_display()}).")
    return redirect(patient_url(patient))


# The SVG gets its own policy: matplotlib writes style attributes, and nothing else may load.
SVG_POLICY = {"default-src": ["'none'"], "style-src": ["'unsafe-inline'"]}


@never_cache
@staff_required
@csp(SVG_POLICY)
def patient_chart(request: HttpRequest, patient_id, kind: str) -> HttpResponse:
    if kind not in charts.RENDERERS:
        raise Http404("No such chart.")
    patient = staff_patient(request, patient_id)
    audit_record(actor=request.user, action="patient.view", obj=patient, detail={"chart": kind})
    return HttpResponse(charts.cached_svg(kind, patient), content_type="image/svg+xml")
