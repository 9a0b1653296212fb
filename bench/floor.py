"""The floor of the sweep figures: one SQL query reading the rows the snapshot loader reads.

`risk.snapshot.load_snapshots` reads, for the patients of a chunk, the patient row (with
"an administered infusion before the window exists"), the products, and the conditions,
lines, thrombosis events, labs of the last 730 days, medication courses still relevant,
open regimens, administered infusions of the last 120 days and symptom reports of the last
90 days. The floor reads the same rows and columns, with the same WHERE clauses, for every
active patient at once, in one UNION ALL statement whose branches put their columns in
typed slots (no casts), and fetches them all into Python as plain tuples through Django's
connection (the same adapters as the loader): the least work any loader must do (the
database finds the rows, the client receives them), with no ORM, no objects, no scoring and
no writes.
"""

from __future__ import annotations

import time
from datetime import datetime

from django.db import connection

from risk.snapshot import INFUSION_WINDOW, LAB_WINDOW, MEDICATION_WINDOW, SYMPTOM_WINDOW

# slots: k, pid, id, s1, s2, s3, d1, d2, ts, n1, n2, n3, f1, f2, i1, i2, b, j
FLOOR_SQL = """
WITH p AS (SELECT id FROM patients_patient WHERE active)
SELECT 1 AS k, pt.id AS pid, NULL::bigint AS id, pt.sex::text AS s1, pt.diagnosis::text AS s2, NULL::text AS s3,
       pt.date_of_birth AS d1, pt.weight_measured_on AS d2, NULL::timestamptz AS ts,
       pt.height_cm AS n1, pt.weight_kg AS n2, NULL::numeric AS n3, NULL::float8 AS f1, NULL::float8 AS f2,
       NULL::int AS i1, NULL::int AS i2,
       EXISTS (SELECT 1 FROM infusions_infusion i WHERE i.patient_id = pt.id AND i.status = 'administered'
               AND NOT i.entered_in_error AND i.started_at < %(infusion_from)s) AS b,
       NULL::jsonb AS j
  FROM patients_patient pt WHERE pt.active
UNION ALL
SELECT 2, NULL, pr.id, pr.name, NULL, NULL, NULL, NULL, NULL, pr.concentration_percent, pr.max_rate_mg_kg_min, NULL,
       NULL, NULL, NULL, NULL, NULL, pr.indication_max_rates
  FROM infusions_product pr
UNION ALL
SELECT 3, c.patient_id, NULL, c.code, NULL, NULL, c.onset_date, c.resolved_date, NULL, NULL, NULL, NULL,
       NULL, NULL, NULL, NULL, NULL, NULL
  FROM patients_condition c WHERE c.patient_id IN (SELECT id FROM p) AND NOT c.entered_in_error
UNION ALL
SELECT 4, a.patient_id, NULL, a.kind, a.vein, NULL, a.inserted_on, a.removed_on, NULL, NULL, NULL, NULL,
       NULL, NULL, NULL, NULL, NULL, NULL
  FROM patients_vascularaccess a WHERE a.patient_id IN (SELECT id FROM p) AND NOT a.entered_in_error
UNION ALL
SELECT 5, e.patient_id, e.vascular_access_id, e.kind, e.status, e.provocation, e.diagnosed_on, NULL, NULL,
       NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL
  FROM patients_thrombosisevent e WHERE e.patient_id IN (SELECT id FROM p) AND NOT e.entered_in_error
UNION ALL
SELECT 6, l.patient_id, NULL, l.test, NULL, NULL, NULL, NULL, l.collected_at, NULL, NULL, NULL,
       l.value, l.reference_high, NULL, NULL, l.needs_verification, NULL
  FROM patients_labresult l
 WHERE l.patient_id IN (SELECT id FROM p) AND l.collected_at >= %(lab_from)s AND l.collected_at <= %(as_of)s
   AND NOT l.entered_in_error
UNION ALL
SELECT 7, m.patient_id, NULL, m.category, m.drug_name, m.intensity, m.start_date, m.end_date, NULL,
       m.dose_mg_per_day, m.prednisolone_eq_mg_per_day, NULL, NULL, NULL, NULL, NULL, NULL,
       jsonb_build_array(dr.drug_class, m.route, m.indication)
  FROM infusions_medicationcourse m LEFT JOIN infusions_drug dr ON dr.id = m.drug_id
 WHERE m.patient_id IN (SELECT id FROM p) AND m.start_date <= %(today)s
   AND (m.end_date IS NULL OR m.end_date >= %(medication_from)s)
   AND NOT m.entered_in_error
UNION ALL
SELECT 8, r.patient_id, r.id, r.indication, r.dosing_weight, r.setting, r.start_date, r.end_date, NULL,
       r.dose_g_per_kg_per_day, r.dose_grams_per_day, r.max_rate_mg_kg_min, NULL, NULL,
       r.days_per_course, r.interval_days, NULL, to_jsonb(r.product_id)
  FROM infusions_regimen r
 WHERE r.patient_id IN (SELECT id FROM p) AND (r.end_date IS NULL OR r.end_date >= %(today)s)
   AND NOT r.entered_in_error
UNION ALL
SELECT 9, i.patient_id, i.regimen_id, i.status, NULL, NULL, NULL, NULL, i.started_at,
       i.dose_grams, i.max_rate_mg_kg_min, i.max_rate_ml_h, NULL, NULL, i.product_id::int, NULL, NULL, NULL
  FROM infusions_infusion i
 WHERE i.patient_id IN (SELECT id FROM p) AND i.started_at >= %(infusion_from)s
   AND i.status = 'administered' AND i.started_at <= %(as_of)s
   AND NOT i.entered_in_error
UNION ALL
SELECT 10, s.patient_id, NULL, s.triage, NULL, NULL, NULL, NULL, s.reported_at, NULL, NULL, NULL,
       NULL, NULL, NULL, NULL, NULL, s.symptoms
  FROM patients_symptomreport s
 WHERE s.patient_id IN (SELECT id FROM p) AND s.reported_at >= %(symptom_from)s AND s.reported_at <= %(as_of)s
   AND NOT s.entered_in_error
"""


def floor_params(as_of: datetime) -> dict:
    today = as_of.date()
    return {
        "as_of": as_of,
        "today": today,
        "infusion_from": as_of - INFUSION_WINDOW,
        "lab_from": as_of - LAB_WINDOW,
        "symptom_from": as_of - SYMPTOM_WINDOW,
        "medication_from": today - MEDICATION_WINDOW,
    }


def floor_query(as_of: datetime) -> tuple[float, int]:
    """Run the floor once: (seconds, rows fetched). Every row becomes a Python tuple (in batches,
    so the runner does not hold 1.4 million of them at once)."""
    params = floor_params(as_of)
    count = 0
    with connection.cursor() as cursor:
        started = time.perf_counter()
        cursor.execute(FLOOR_SQL, params)
        while batch := cursor.fetchmany(20_000):
            count += len(batch)
        seconds = time.perf_counter() - started
    return seconds, count
