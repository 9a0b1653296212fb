"""/api/ routes (REST API v1, schema, docs). Filled in by the API work."""

urlpatterns: list = []
