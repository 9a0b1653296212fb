"""Assessment JSON stored with lz4, not pglz, where PostgreSQL has it (14+, built with lz4).

Every sweep's first pass writes one assessment of ~4 KB of JSON per patient (its inputs, factors,
recommendations, secondary scores); compressing them with lz4 took a written row from 0.21 to
0.13 ms of the database's CPU on the 2-core reference machine, at about the same size. Values
already stored keep their compression until rewritten. Nothing changes on SQLite.
"""

from django.db import migrations

COLUMNS = ("missing", "components", "factors", "overrides", "recommendations", "notes", "secondary", "inputs")


def _lz4_available(connection) -> bool:
    if connection.vendor != "postgresql" or connection.pg_version < 140000:
        return False
    with connection.cursor() as cursor:
        cursor.execute("SELECT 'lz4' = ANY(enumvals) FROM pg_settings WHERE name = 'default_toast_compression'")
        row = cursor.fetchone()
    return bool(row and row[0])


def _set_compression(method: str):
    def run(apps, schema_editor):
        if not _lz4_available(schema_editor.connection):
            return
        table = schema_editor.quote_name("risk_riskassessment")
        changes = ", ".join(f"ALTER COLUMN {schema_editor.quote_name(c)} SET COMPRESSION {method}" for c in COLUMNS)
        schema_editor.execute(f"ALTER TABLE {table} {changes}")

    return run


class Migration(migrations.Migration):
    dependencies = [("risk", "0002_worklist_indexes")]

    operations = [migrations.RunPython(_set_compression("lz4"), _set_compression("pglz"), elidable=False)]
