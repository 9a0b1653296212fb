"""Property-based run of the whole API against its own OpenAPI schema (schemathesis 4).

Run as a staff member (carol's token). Checks: no 5xx, documented response
bodies conform to the schema, and content types match. Operations run in-process through the
WSGI app inside the test's transaction (rolled back at the end), so Django's per-request
connection clean-up is switched off for the duration, as Django's own test client does.
"""

from __future__ import annotations

import json
import zlib

import pytest
import schemathesis
from django.core.signals import request_finished, request_started
from django.core.wsgi import get_wsgi_application
from django.db import close_old_connections
from drf_spectacular.generators import SchemaGenerator
from drf_spectacular.renderers import OpenApiJsonRenderer
from hypothesis import HealthCheck, Phase, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import content_type_conformance, response_schema_conformance

from tests.factories import make_urgent_flag as make_flag
from tests.factories import token_client

MAX_EXAMPLES = 12


# Ids of one real row per resource, filled per test: half the generated ids are swapped for
# these so that detail endpoints and actions are exercised on real rows, not only as 404s.
WORLD: dict[str, str] = {}


@pytest.fixture
def staff_headers(db, clinician_carol, patient_pat, quinn_records):
    """A small world (two patients, one record of every kind, flags) and carol's token."""
    from risk.services.assessment import patient_assess

    patient_assess(patient_pat)
    make_flag(patient_pat, kind="clotting_studies", rule="CLOT-BASELINE", priority="routine")
    WORLD.clear()
    WORLD.update({name: str(obj.public_id) for name, obj in quinn_records.items()})
    client = token_client(clinician_carol)
    yield {"Authorization": client._credentials["HTTP_AUTHORIZATION"]}
    WORLD.clear()


@pytest.fixture(autouse=True)
def _keep_the_test_connection():
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    yield
    request_started.connect(close_old_connections)
    request_finished.connect(close_old_connections)


def load_schema():
    """The schema /api/schema/ serves (test_served_schema_is_the_tested_one proves it), built at
    collection time: schemathesis' lazy fixture loader does not run on this pytest version."""
    raw = json.loads(OpenApiJsonRenderer().render(SchemaGenerator().get_schema(request=None, public=True)))
    loaded = schemathesis.openapi.from_dict(raw)
    loaded.app = get_wsgi_application()
    loaded.location = "/api/schema/"
    loaded.config.generation.update(max_examples=MAX_EXAMPLES, database="none")
    return loaded, raw


schema, RAW_SCHEMA = load_schema()


@schema.hook
def map_path_parameters(context, path_parameters):
    if not path_parameters:
        return path_parameters
    resource = context.operation.path.split("/")[3]  # /api/v1/<resource>/{id}/...
    generated = str(path_parameters.get("id", ""))
    if resource in WORLD and zlib.crc32(generated.encode()) % 2 == 0:
        return {**path_parameters, "id": WORLD[resource]}
    return path_parameters


def test_served_schema_is_the_tested_one(staff_headers):
    from rest_framework.test import APIClient

    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=staff_headers["Authorization"])
    served = client.get("/api/schema/?format=json")
    assert served.status_code == 200
    assert served.json() == RAW_SCHEMA


@pytest.mark.slow
@schema.parametrize()
@settings(
    max_examples=MAX_EXAMPLES,
    deadline=None,
    derandomize=True,
    database=None,
    phases=[Phase.explicit, Phase.generate],
    suppress_health_check=list(HealthCheck),
)
def test_api_conforms_to_its_schema(case, staff_headers):
    case.call_and_validate(
        headers=staff_headers,
        checks=[not_a_server_error, response_schema_conformance, content_type_conformance],
    )
