"""A read-only FHIR R4 view of the safety layer, mounted at ``/fhir/``.

- ``Patient/{id}`` and ``Patient?identifier=``
- ``RiskAssessment?patient=`` (stored assessments; the tier as risk-probability)
- ``Flag?patient=`` (review flags; staff only, as in the REST API)
- ``MedicationAdministration?patient=`` (one per administered infusion, ATC J06BA02)
- ``Observation?patient=`` (labs, LOINC-coded, UCUM quantities)
- ``ClinicalImpression?patient=`` (recorded haematology reviews: a clinician's assessment and
  plan, not an act on the patient, so ClinicalImpression rather than Procedure; the plans are
  its findings, the flag it completed its supporting information)
- ``metadata`` (CapabilityStatement)

Every search type is also readable by id (``{Type}/{id}``), so a Bundle's ``fullUrl`` resolves.
Searches return ``searchset`` Bundles with ``total`` and ``self``/``next``/``previous`` links
(``_count``, default 50, at most 200; ``_page`` from 1). Responses are
``application/fhir+json``; errors are OperationOutcomes. Authentication, roles and scoping are
the REST API's (token or session; a patient sees only their own resources, never flags; another
patient's id is a 404). No writes. This module is the composition root for the view, so it
reads from every app's selectors.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime
from urllib.parse import urlencode

from django.db.models import QuerySet
from django.http import Http404
from django.utils import timezone
from rest_framework.exceptions import MethodNotAllowed, ValidationError
from rest_framework.negotiation import BaseContentNegotiation
from rest_framework.renderers import JSONRenderer
from rest_framework.response import Response
from rest_framework.views import APIView

from infusions.selectors import infusion_scope
from ivigtrack.accounts.zones import activate_for_user
from ivigtrack.api.errors import exception_handler as api_exception_handler
from ivigtrack.api.fields import parse_uuid
from ivigtrack.api.permissions import RolePermission
from ivigtrack.audit.services import audit_staff_read
from patients.labs import LABS, lab_egfr
from patients.models import LabResult
from patients.selectors import patient_scope, scoped
from risk.selectors import assessment_scope, flag_scope, haematology_review_scope

FHIR_JSON = "application/fhir+json"
FHIR_VERSION = "4.0.1"
UCUM = "http://unitsofmeasure.org"
LOINC = "http://loinc.org"
ATC = "http://www.whocc.no/atc"
IVIG_ATC = ("J06BA02", "immunoglobulins, normal human, for intravascular adm.")
MRN_SYSTEM = "urn:ivigtrack:mrn"
RULESET_SYSTEM = "urn:ivigtrack:risk-ruleset"
FLAG_KIND_SYSTEM = "urn:ivigtrack:flag-kind"
RISK_PROBABILITY = "http://terminology.hl7.org/CodeSystem/risk-probability"
FLAG_CATEGORY = "http://terminology.hl7.org/CodeSystem/flag-category"
FLAG_PRIORITY_EXTENSION = "http://hl7.org/fhir/StructureDefinition/flag-priority"
FLAG_PRIORITY_CODES = "http://hl7.org/fhir/flag-priority-code"
OBSERVATION_CATEGORY = "http://terminology.hl7.org/CodeSystem/observation-category"
SNOMED = "http://snomed.info/sct"
PLAN_SYSTEMS = {
    "anticoagulation_plan": "urn:ivigtrack:anticoagulation-plan",
    "ivig_plan": "urn:ivigtrack:ivig-plan",
    "thrombophilia_testing": "urn:ivigtrack:thrombophilia-testing",
}

DEFAULT_COUNT = 50
MAX_COUNT = 200

# Canonical lab units (patients/labs.py) as UCUM codes.
UCUM_CODES = {
    "s": "s",
    "ratio": "{ratio}",
    "g/L": "g/L",
    "mg/L FEU": "mg/L{FEU}",
    "10^9/L": "10*9/L",
    "mg/dL": "mg/dL",
    "cP": "cP",
    "g/dL": "g/dL",
}
PRIORITY_CODES = {
    "emergency": ("PH", "High priority"),
    "urgent": ("PM", "Medium priority"),
    "routine": ("PL", "Low priority"),
}


def _iso(value: datetime | date | None) -> str | None:
    if value is None:
        return None
    if isinstance(value, datetime):
        return value.astimezone(timezone.get_current_timezone()).isoformat()
    return value.isoformat()


def _ref(patient) -> dict:
    return {"reference": f"Patient/{patient.public_id}", "display": f"{patient.given_name} {patient.family_name}"}


def _quantity(value: float, unit: str) -> dict:
    return {"value": value, "unit": unit, "system": UCUM, "code": UCUM_CODES.get(unit, unit)}


def _drop_empty(resource: dict) -> dict:
    """FHIR forbids empty values and nulls: drop them (one level deep is enough here)."""
    return {key: value for key, value in resource.items() if value not in (None, "", [], {})}


# --- resources ------------------------------------------------------------------------------


def patient_resource(patient) -> dict:
    return _drop_empty(
        {
            "resourceType": "Patient",
            "id": str(patient.public_id),
            "meta": {"lastUpdated": _iso(patient.updated_at)},
            "identifier": [{"use": "usual", "system": MRN_SYSTEM, "value": patient.mrn}],
            "active": patient.active,
            "name": [{"use": "official", "family": patient.family_name, "given": [patient.given_name]}],
            "gender": patient.sex,  # female | male | other | unknown: the FHIR codes
            "birthDate": patient.date_of_birth.isoformat(),
        }
    )


def risk_assessment_resource(assessment) -> dict:
    factors = [
        {"text": f"{f.get('code')} {f.get('label')}: {f.get('points')} point(s), {f.get('component')}."}
        for f in assessment.factors or []
    ]
    missing = [{"text": f"Missing input: {item}."} for item in assessment.missing or []]
    mitigation = " ".join(str(r.get("text", "")).strip() for r in assessment.recommendations or [] if r.get("text"))
    return _drop_empty(
        {
            "resourceType": "RiskAssessment",
            "id": str(assessment.public_id),
            "meta": {"lastUpdated": _iso(assessment.assessed_at)},
            "status": "preliminary" if assessment.provisional else "final",
            "method": {
                "coding": [{"system": RULESET_SYSTEM, "code": assessment.ruleset}],
                "text": f"{assessment.ruleset} IVIG thrombosis risk score",
            },
            "subject": _ref(assessment.patient),
            "occurrenceDateTime": _iso(assessment.as_of),
            "prediction": [
                {
                    "outcome": {"text": "Thromboembolic event associated with immunoglobulin infusion"},
                    "qualitativeRisk": {
                        "coding": [
                            {
                                "system": RISK_PROBABILITY,
                                "code": assessment.tier,
                                "display": assessment.get_tier_display(),
                            }
                        ],
                        "text": f"{assessment.get_tier_display()}{' (provisional)' if assessment.provisional else ''}",
                    },
                    "rationale": f"{assessment.ruleset} score {assessment.score}.",
                }
            ],
            "mitigation": mitigation,
            "note": factors + missing,
        }
    )


def flag_resource(flag) -> dict:
    code, display = PRIORITY_CODES[flag.priority]
    period = {"start": _iso(flag.raised_at)}
    if flag.status == "resolved" and flag.resolved_at:
        period["end"] = _iso(flag.resolved_at)
    return _drop_empty(
        {
            "resourceType": "Flag",
            "id": str(flag.public_id),
            "extension": [
                {
                    "url": FLAG_PRIORITY_EXTENSION,
                    "valueCodeableConcept": {
                        "coding": [{"system": FLAG_PRIORITY_CODES, "code": code, "display": display}],
                        "text": flag.priority,
                    },
                }
            ],
            "status": "inactive" if flag.status == "resolved" else "active",
            "category": [{"coding": [{"system": FLAG_CATEGORY, "code": "clinical", "display": "Clinical"}]}],
            "code": {
                "coding": [{"system": FLAG_KIND_SYSTEM, "code": flag.kind, "display": flag.get_kind_display()}],
                "text": f"{flag.rule}: {flag.reason}",
            },
            "subject": _ref(flag.patient),
            "period": period,
        }
    )


def medication_administration_resource(infusion) -> dict:
    dosage = {
        "route": {"coding": [{"system": SNOMED, "code": "47625008", "display": "Intravenous route"}]},
        "dose": _quantity(float(infusion.dose_grams), "g"),
    }
    if infusion.max_rate_mg_kg_min is not None:
        dosage["rateQuantity"] = _quantity(float(infusion.max_rate_mg_kg_min), "mg/kg/min")
    notes = []
    if infusion.lot_number:
        notes.append({"text": f"Lot {infusion.lot_number}."})
    if infusion.source == "patient":
        notes.append({"text": "Logged by the patient."})
    if infusion.entered_in_error:
        notes.append({"text": f"Entered in error: {infusion.entered_in_error_reason}"})
    return _drop_empty(
        {
            "resourceType": "MedicationAdministration",
            "id": str(infusion.public_id),
            "status": "entered-in-error" if infusion.entered_in_error else "completed",
            "medicationCodeableConcept": {
                "coding": [{"system": ATC, "code": IVIG_ATC[0], "display": IVIG_ATC[1]}],
                "text": infusion.product.name,
            },
            "subject": _ref(infusion.patient),
            "effectiveDateTime": _iso(infusion.started_at),
            "dosage": dosage,
            "note": notes,
        }
    )


def observation_resource(lab) -> dict:
    spec = LABS[lab.test]
    resource = {
        "resourceType": "Observation",
        "id": str(lab.public_id),
        "status": "entered-in-error" if lab.entered_in_error else "preliminary" if lab.needs_verification else "final",
        "category": [{"coding": [{"system": OBSERVATION_CATEGORY, "code": "laboratory", "display": "Laboratory"}]}],
        "code": {"coding": [{"system": LOINC, "code": spec.loinc, "display": spec.display}], "text": spec.display},
        "subject": _ref(lab.patient),
        "effectiveDateTime": _iso(lab.collected_at),
        "valueQuantity": _quantity(lab.value, lab.unit),
    }
    if lab.reference_high or lab.reference_low is not None:
        limits = {}
        if lab.reference_low is not None:
            limits["low"] = _quantity(lab.reference_low, lab.unit)
        if lab.reference_high:
            limits["high"] = _quantity(lab.reference_high, lab.unit)
        resource["referenceRange"] = [limits]
    notes = []
    if lab.needs_verification and lab.verification_reason:
        notes.append({"text": lab.verification_reason})
    if lab.entered_in_error:
        notes.append({"text": f"Entered in error: {lab.entered_in_error_reason}"})
    egfr = lab_egfr(lab)
    if egfr is not None:
        # eGFR beside the creatinine: a component (LOINC 98979-8, eGFR CKD-EPI 2021) and a note
        notes.append({"text": egfr["text"]})
        if egfr["value"] is not None:
            resource["component"] = [
                {
                    "code": {
                        "coding": [{"system": LOINC, "code": EGFR_LOINC, "display": EGFR_DISPLAY}],
                        "text": "eGFR (CKD-EPI 2021)",
                    },
                    "valueQuantity": {
                        "value": egfr["value"],
                        "unit": "mL/min/1.73m2",
                        "system": "http://unitsofmeasure.org",
                        "code": "mL/min/{1.73_m2}",
                    },
                }
            ]
    if notes:
        resource["note"] = notes
    return resource


EGFR_LOINC = "98979-8"
EGFR_DISPLAY = (
    "Glomerular filtration rate/1.73 sq M.predicted [Volume Rate/Area] in Serum, Plasma or Blood "
    "by Creatinine-based formula (CKD-EPI 2021)"
)


def clinical_impression_resource(review) -> dict:
    """A recorded haematology review: who assessed, when, and the three decisions as findings."""
    findings = [
        {
            "itemCodeableConcept": {
                "coding": [
                    {
                        "system": system,
                        "code": getattr(review, name),
                        "display": getattr(review, f"get_{name}_display")(),
                    }
                ],
                "text": f"{review._meta.get_field(name).verbose_name}: {getattr(review, f'get_{name}_display')()}",
            }
        }
        for name, system in PLAN_SYSTEMS.items()
    ]
    resource = {
        "resourceType": "ClinicalImpression",
        "id": str(review.public_id),
        "status": "completed",
        "code": {"text": "Haematology review"},
        "description": "Haematology review of anticoagulation, IVIG plan and thrombophilia testing",
        "subject": _ref(review.patient),
        "effectiveDateTime": _iso(review.reviewed_on),
        "date": _iso(review.created_at),
        "assessor": {"display": review.reviewer_label},
        "summary": "; ".join(f["itemCodeableConcept"]["text"] for f in findings),
        "finding": findings,
        "note": [{"text": review.note}] if review.note else [],
    }
    if review.next_review_on:
        resource["extension"] = [
            {"url": "urn:ivigtrack:next-review-on", "valueDate": _iso(review.next_review_on)},
        ]
    if review.flag_id:
        resource["supportingInfo"] = [{"reference": f"Flag/{review.flag.public_id}", "display": review.flag.rule}]
    return _drop_empty(resource)


@dataclass(frozen=True)
class FhirType:
    name: str
    scope: Callable[[object], QuerySet]
    to_fhir: Callable[[object], dict]
    patient_read: bool = True  # a patient may read their own
    patient_field: str | None = "patient"


def _patients(user):
    return patient_scope(user).order_by("family_name", "given_name", "id")


def _assessments(user):
    return assessment_scope(user).order_by("-assessed_at", "-id")


def _flags(user):
    return flag_scope(user).order_by("priority_rank", "due_at", "id")


def _administrations(user):
    # Records entered in error are shown with status entered-in-error, as FHIR has it.
    return infusion_scope(user, corrected=True).filter(status="administered").order_by("-started_at", "-id")


def _observations(user):
    return scoped(LabResult.all_objects.select_related("patient"), user).order_by("-collected_at", "-id")


TYPES = {
    t.name: t
    for t in (
        FhirType("Patient", _patients, patient_resource, patient_field=None),
        FhirType("RiskAssessment", _assessments, risk_assessment_resource),
        FhirType("Flag", _flags, flag_resource, patient_read=False),
        FhirType("MedicationAdministration", _administrations, medication_administration_resource),
        FhirType("Observation", _observations, observation_resource),
        FhirType("ClinicalImpression", haematology_review_scope, clinical_impression_resource),
    )
}


# --- HTTP ---------------------------------------------------------------------------------------


class FhirRenderer(JSONRenderer):
    media_type = FHIR_JSON
    format = "fhir"


class FhirNegotiation(BaseContentNegotiation):
    """Always FHIR JSON (whatever the Accept header says: there is no other format)."""

    def select_parser(self, request, parsers):
        return parsers[0] if parsers else None

    def select_renderer(self, request, renderers, format_suffix=None):
        return renderers[0], renderers[0].media_type


ISSUE_CODES = {400: "invalid", 401: "login", 403: "forbidden", 404: "not-found", 405: "not-supported", 429: "throttled"}


def operation_outcome(status_code: int, diagnostics: str) -> dict:
    return {
        "resourceType": "OperationOutcome",
        "issue": [
            {
                "severity": "error",
                "code": ISSUE_CODES.get(status_code, "exception"),
                "diagnostics": diagnostics,
            }
        ],
    }


def _flatten(detail) -> str:
    if isinstance(detail, dict):
        return "; ".join(f"{key}: {_flatten(value)}" for key, value in detail.items())
    if isinstance(detail, list):
        return " ".join(_flatten(item) for item in detail)
    return str(detail)


def fhir_exception_handler(exc, context):
    response = api_exception_handler(exc, context)
    if response is not None:
        data = response.data
        detail = data.get("detail", data) if isinstance(data, dict) else data
        response.data = operation_outcome(response.status_code, _flatten(detail))
    return response


class FhirView(APIView):
    """Read-only FHIR endpoint: GET only, FHIR JSON, OperationOutcome errors, API auth and roles."""

    permission_classes = [RolePermission]
    renderer_classes = [FhirRenderer]
    content_negotiation_class = FhirNegotiation
    http_method_names = ["get", "head", "options"]
    schema = None  # FHIR describes itself (metadata), not in the OpenAPI schema
    fhir_type: FhirType | None = None
    write_roles: set = set()  # nothing is written here

    @property
    def patient_read(self) -> bool:
        return self.fhir_type.patient_read if self.fhir_type else True

    def get_exception_handler(self):
        return fhir_exception_handler

    def initial(self, request, *args, **kwargs):
        method = request.method.lower()
        if method not in self.http_method_names or not hasattr(self, method):
            raise MethodNotAllowed(request.method)  # read-only: 405 for any write, before roles
        super().initial(request, *args, **kwargs)
        activate_for_user(request.user)

    def audit(self, *, patient=None, obj=None, detail: dict | None = None, shown=()) -> None:
        audit_staff_read(
            shown=shown,
            actor=self.request.user,
            via="fhir",
            resource=self.fhir_type.name if self.fhir_type else "",
            patient=patient,
            obj=obj,
            detail=detail,
            list_action="fhir.search",
        )


class FhirReadView(FhirView):
    def get(self, request, id: str):
        key = parse_uuid(id)
        obj = self.fhir_type.scope(request.user).filter(public_id=key).first() if key else None
        if obj is None:
            raise Http404(f"{self.fhir_type.name}/{id} is not known.")
        self.audit(patient=getattr(obj, "patient", None), obj=obj)
        return Response(self.fhir_type.to_fhir(obj))


class BadSearch(Exception):
    pass


def _int_param(params, name: str, default: int, low: int, high: int) -> int:
    raw = params.get(name)
    if raw in (None, ""):
        return default
    try:
        value = int(raw)
    except ValueError:
        raise BadSearch(f"{name} must be an integer.") from None
    if not low <= value <= high:
        raise BadSearch(f"{name} must be between {low} and {high}.")
    return value


class FhirSearchView(FhirView):
    def get(self, request):
        params = request.query_params
        try:
            count = _int_param(params, "_count", DEFAULT_COUNT, 0, MAX_COUNT)
            page = _int_param(params, "_page", 1, 1, 1_000_000)
        except BadSearch as exc:
            raise ValidationError(str(exc)) from None
        queryset = self.fhir_type.scope(request.user)
        patient = None
        search = {}
        if self.fhir_type.patient_field and params.get("patient"):
            raw = params["patient"]
            key = parse_uuid(raw.removeprefix("Patient/"))
            patient = patient_scope(request.user).filter(public_id=key).first() if key else None
            if patient is None:
                raise Http404(f"Patient {raw} is not known.")
            queryset = queryset.filter(**{self.fhir_type.patient_field: patient})
            search["patient"] = raw
        if self.fhir_type.name == "Patient" and params.get("identifier"):
            value = params["identifier"].split("|")[-1]
            queryset = queryset.filter(mrn=value)
            search["identifier"] = params["identifier"]
        if self.fhir_type.name == "Patient" and params.get("_id"):
            key = parse_uuid(params["_id"])
            queryset = queryset.filter(public_id=key) if key else queryset.none()
            search["_id"] = params["_id"]
        total = queryset.count()
        offset = (page - 1) * count
        rows = list(queryset[offset : offset + count]) if count else []
        self.audit(patient=patient, detail={"search": search}, shown=rows)
        return Response(self.bundle(request, rows, total=total, page=page, count=count, search=search))

    def bundle(self, request, rows, *, total: int, page: int, count: int, search: dict) -> dict:
        base = request.build_absolute_uri(f"/fhir/{self.fhir_type.name}")

        def link(relation: str, to_page: int) -> dict:
            return {"relation": relation, "url": f"{base}?{urlencode({**search, '_count': count, '_page': to_page})}"}

        links = [link("self", page)]
        if count and page * count < total:
            links.append(link("next", page + 1))
        if page > 1:
            links.append(link("previous", page - 1))
        return {
            "resourceType": "Bundle",
            "type": "searchset",
            "total": total,
            "link": links,
            "entry": [
                {
                    "fullUrl": f"{base}/{row.public_id}",
                    "resource": self.fhir_type.to_fhir(row),
                    "search": {"mode": "match"},
                }
                for row in rows
            ],
        }


class CapabilityView(FhirView):
    def get(self, request):
        resources = []
        for fhir_type in TYPES.values():
            params = [{"name": "_count", "type": "number"}]
            if fhir_type.patient_field:
                params.append({"name": "patient", "type": "reference"})
            if fhir_type.name == "Patient":
                params += [{"name": "identifier", "type": "token"}, {"name": "_id", "type": "token"}]
            resources.append(
                {
                    "type": fhir_type.name,
                    "interaction": [{"code": "read"}, {"code": "search-type"}],
                    "searchParam": params,
                }
            )
        return Response(
            {
                "resourceType": "CapabilityStatement",
                "status": "active",
                "date": timezone.now().date().isoformat(),
                "kind": "instance",
                "implementation": {
                    "description": "ivigtrack read-only FHIR view",
                    "url": request.build_absolute_uri("/fhir"),
                },
                "fhirVersion": FHIR_VERSION,
                "format": ["json"],
                "rest": [{"mode": "server", "resource": resources}],
            }
        )
