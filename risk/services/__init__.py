"""The only code that writes RiskAssessment, ReviewFlag and SweepRun, by topic:

- ``assessment``: score patients and store what changed (one patient after a write, or a chunk)
- ``flags``: reconcile flags with the rules, the staff lifecycle, symptom flags
- ``sweep``: pick the patients, run the chunks, count

Services import the Celery tasks at module level; tasks import services inside their bodies.
"""
