"""The REST API's base classes, shared by every app's ``api.py`` and by the FHIR view.

- ``auth``: authentication order (token first, so anonymous callers get 401) and the token view
- ``permissions``: the role rules of docs/roles.md as view attributes
- ``fields``: public UUIDs, scoped references, plausible dates, the parse-only ModelSerializer
- ``filters``: ``from``/``to`` date filters and FilterSets built from a dict
- ``viewsets``: the viewset base (scoped reads, service writes, audited staff reads), pagination
- ``errors``: one error shape (Django ValidationErrors become 400s)
- ``urls``: the ``/api/`` routes
"""
