from django.apps import AppConfig


class FhirR4Config(AppConfig):
    """The read-only FHIR R4 view over patients, infusions and risk, mounted at ``/fhir/``.

    Named fhir_r4, not fhir: ``fhir`` is the import name of fhir.resources, which the tests
    validate our resources with; an app called fhir would hide it.
    """

    name = "fhir_r4"
