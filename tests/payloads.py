"""Valid request bodies for every writable resource (tests change one field to break them)."""

from __future__ import annotations


def patient(**overrides) -> dict:
    return {
        "mrn": "MRN-NEW",
        "given_name": "Nora",
        "family_name": "Newman",
        "date_of_birth": "1975-04-12",
        "sex": "female",
        "height_cm": 168,
        "weight_kg": 71.5,
        "weight_measured_on": "2024-12-01",
        "diagnosis": "cidp",
        **overrides,
    }


def for_resource(name: str, *, patient_id, product_id=None, **overrides) -> dict:
    pid = str(patient_id)
    bodies = {
        "conditions": {"patient": pid, "code": "hypertension", "onset_date": "2020-01-01"},
        "vascular-access": {"patient": pid, "kind": "port", "vein": "subclavian", "inserted_on": "2024-01-02"},
        "thrombosis-events": {"patient": pid, "kind": "dvt", "status": "suspected", "diagnosed_on": "2024-06-01"},
        "labs": {"patient": pid, "test": "platelets", "value": 250, "collected_at": "2024-06-01T10:00:00Z"},
        "symptom-reports": {"patient": pid, "symptoms": ["other"], "note": "tired"},
        "regimens": {
            "patient": pid,
            "product": str(product_id),
            "dose_g_per_kg_per_day": 0.4,
            "days_per_course": 1,
            "interval_days": 21,
            "start_date": "2024-01-01",
        },
        "infusions": {
            "patient": pid,
            "product": str(product_id),
            "started_at": "2024-06-01T10:00:00Z",
            "dose_grams": 32,
            "max_rate_mg_kg_min": 3.0,
            "iga_override_reason": "IgA requested, result awaited",  # the first-infusion IgA gate
        },
        "medications": {
            "patient": pid,
            "category": "diuretic",
            "drug": "furosemide",
            "route": "oral",
            "start_date": "2024-01-01",
        },
    }
    return {**bodies[name], **overrides}


RECORD_RESOURCES = [
    "conditions",
    "vascular-access",
    "thrombosis-events",
    "labs",
    "symptom-reports",
    "regimens",
    "infusions",
    "medications",
]
