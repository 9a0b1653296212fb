"""Bulk inserts on PostgreSQL: COPY, and INSERT ... ON CONFLICT DO NOTHING, built from dicts of
field values (defaults and auto_now filled in as `bulk_create` would) without a model instance
per row. The sweep writes its assessments, flags, infusion risks and audit rows with these, and
the synthetic generator (`demo.synthetic`) loads its patients' histories with `copy_rows`.

Why: at 100k patients a first sweep pass writes about 100k assessments and as many audit and
infusion-risk rows; COPY of 100k rows takes about 1.1 s against 6 s for bulk_create (reference
figures in bench/README.md, Targets), which is what keeps the first pass under 6x its floor.
"""

from __future__ import annotations

import json

from django.db import DEFAULT_DB_ALIAS, connection, connections, models

# Below this many rows, one patient after a write say, the ORM's one INSERT is as fast.
COPY_FROM_ROWS = 50


def use_copy(rows: list) -> bool:
    """COPY is worth it for this many rows (and possible: PostgreSQL only).

    Performance trick (bench/tricks.py): with bulk_create instead, a first pass takes 68% longer."""
    return connection.vendor == "postgresql" and len(rows) >= COPY_FROM_ROWS


class Encoded(str):
    """JSON text already encoded, for a JSON column written by COPY."""


_SIMPLE_FIELDS = (
    models.CharField,
    models.TextField,
    models.UUIDField,
    models.DateTimeField,
    models.DateField,
    models.BooleanField,
    models.IntegerField,
    models.FloatField,
    models.JSONField,
)


class _Columns:
    """How `bulk_create` would fill each column of a model from a dict of field values."""

    def __init__(self, model):
        self.model = model
        self.table = model._meta.db_table
        self.fields = [f for f in model._meta.concrete_fields if not f.primary_key]
        quote = connection.ops.quote_name
        self.sql = ", ".join(quote(f.column) for f in self.fields)
        self.simple = all(
            isinstance(f, _SIMPLE_FIELDS)
            or (isinstance(f, models.ForeignKey) and isinstance(f.target_field, models.AutoField | models.BigAutoField))
            for f in self.fields
        )
        self.specs = [
            (
                f.attname,
                "auto" if isinstance(f, models.DateTimeField) and (f.auto_now or f.auto_now_add) else "",
                f.encoder if isinstance(f, models.JSONField) else False,
                f,
            )
            for f in self.fields
        ]

    def rows(self, values_list: list[dict], now) -> list[list]:
        if not self.simple:  # a field type this does not know: let the ORM prepare it
            return _insert_columns(self.model, [self.model(**values) for values in values_list])[1]
        out = []
        for values in values_list:
            row = []
            for attname, auto, encoder, f in self.specs:
                if auto:
                    value = now
                elif attname in values:
                    value = values[attname]
                else:
                    value = f.get_default()
                if encoder is not False and value is not None and not isinstance(value, Encoded):
                    value = json.dumps(value, cls=encoder)
                row.append(value)
            out.append(row)
        return out


_COLUMNS: dict[type, _Columns] = {}


def _columns(model) -> _Columns:
    columns = _COLUMNS.get(model)
    if columns is None:
        columns = _COLUMNS[model] = _Columns(model)
    return columns


def _insert_columns(model, objs) -> tuple[list, list[list]]:
    """The columns and values `bulk_create` would insert for these instances."""
    db = connections[DEFAULT_DB_ALIAS]
    cols = [f for f in model._meta.concrete_fields if not f.primary_key]
    rows = [[f.get_db_prep_save(f.pre_save(obj, True), db) for f in cols] for obj in objs]
    return cols, rows


def _copy(cursor, table: str, columns_sql: str, rows: list[list]) -> None:
    with cursor.cursor.copy(f"COPY {connection.ops.quote_name(table)} ({columns_sql}) FROM STDIN") as copy:
        for row in rows:
            copy.write_row(row)


def copy_values(model, values_list: list[dict], now) -> None:
    """INSERT rows given as dicts of field values, by COPY (PostgreSQL)."""
    columns = _columns(model)
    with connection.cursor() as cursor:
        _copy(cursor, columns.table, columns.sql, columns.rows(values_list, now))


def insert_ignoring_conflicts(model, values_list: list[dict], now, *, returning: tuple[str, ...] = ()) -> list[tuple]:
    """INSERT ... ON CONFLICT DO NOTHING (PostgreSQL): rows that would break a unique constraint
    are skipped; returns `returning` of the rows inserted.

    A few rows go in one statement (SELECT FROM unnest(arrays)); many are COPied to a temporary
    table first, then inserted from it (the arrays would be quoted in Python, slowly).
    """
    columns = _columns(model)
    quote = connection.ops.quote_name
    tail = " ON CONFLICT DO NOTHING"
    if returning:
        tail += " RETURNING " + ", ".join(quote(name) for name in returning)
    with connection.cursor() as cursor:
        if len(values_list) < COPY_FROM_ROWS:
            cols, rows = _insert_columns(model, [model(**values) for values in values_list])
            arrays = ", ".join(f"%s::{f.db_type(connection)}[]" for f in cols)
            cursor.execute(
                f"INSERT INTO {quote(columns.table)} ({columns.sql}) SELECT * FROM unnest({arrays}){tail}",
                [list(column) for column in zip(*rows, strict=True)],
            )
            return cursor.fetchall() if returning else []
        stage = f"bulk_{columns.table}"
        cursor.execute(
            f"CREATE TEMPORARY TABLE IF NOT EXISTS {quote(stage)} AS "
            f"SELECT {columns.sql} FROM {quote(columns.table)} WITH NO DATA"
        )
        _copy(cursor, stage, columns.sql, columns.rows(values_list, now))
        cursor.execute(
            f"INSERT INTO {quote(columns.table)} ({columns.sql}) SELECT {columns.sql} FROM {quote(stage)}{tail}"
        )
        inserted = cursor.fetchall() if returning else []
        cursor.execute(f"DELETE FROM {quote(stage)}")
        return inserted


def copy_rows(model, columns: list[str], rows: list[tuple]) -> None:
    """Rows given as tuples in ``columns`` order: COPY on PostgreSQL, bulk_create elsewhere."""
    if not rows:
        return
    if connection.vendor == "postgresql":
        quote = connection.ops.quote_name
        with connection.cursor() as cursor:
            _copy(cursor, model._meta.db_table, ", ".join(quote(c) for c in columns), rows)
        return
    model.objects.bulk_create([model(**dict(zip(columns, row, strict=True))) for row in rows], batch_size=1000)
