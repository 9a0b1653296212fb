"""The REST API's base classes, shared by every app's ``api.py`` and by the FHIR view.

- ``auth``: the token view (the authentication order is ``REST_FRAMEWORK``'s, in settings)
- ``permissions``: the role rules of docs/roles.md as view attributes
- ``fields``: public UUIDs, scoped references, plausible dates, the parse-only ModelSerializer
- ``filters``: ``from``/``to`` date filters and FilterSets built from a dict
- ``viewsets``: the viewset base (scoped reads, service writes, audited staff reads), schema tags
- ``pagination``: the page (``DEFAULT_PAGINATION_CLASS``)
- ``errors``: one error shape (Django ValidationErrors become 400s)
- ``urls``: the ``/api/`` routes
"""
