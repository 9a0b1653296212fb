"""How assessments are stored on PostgreSQL: their JSON compressed with lz4 (risk migration 0003)."""

from __future__ import annotations

import pytest
from django.db import connection

pytestmark = pytest.mark.django_db


def test_assessment_json_columns_use_lz4():
    if connection.vendor != "postgresql":
        pytest.skip("a PostgreSQL storage setting")
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT attname, attcompression FROM pg_attribute "
            "WHERE attrelid = 'risk_riskassessment'::regclass AND atttypid = 'jsonb'::regtype"
        )
        methods = dict(cursor.fetchall())
    assert set(methods) >= {"inputs", "factors", "recommendations", "secondary"}
    assert set(methods.values()) == {"l"}, methods  # 'l' is lz4 in pg_attribute
