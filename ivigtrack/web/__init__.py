"""Helpers for the server-rendered pages of every app: role decorators, form widgets and
base forms, the record-form view, and uncounted paging.

Nothing here knows a patient: the apps' page modules build on it (``patients.pages`` adds
the patient record page helpers). It imports no project app.
"""
