"""/fhir/ routes (read-only FHIR R4 view of the safety layer)."""

urlpatterns: list = []
