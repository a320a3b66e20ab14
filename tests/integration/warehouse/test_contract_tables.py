"""Setup copies the event contract into the tables the transforms join."""

from __future__ import annotations

from datetime import datetime

from tests.support.contract_fields import FIELDS, WITH_VALUES
from warehouse.settings import load_settings
from warehouse.setup import run_setup


def test_setup_copies_the_contract_into_the_tables_the_transforms_join(snowflake_conn, snowflake_database) -> None:
    import dataclasses

    settings = dataclasses.replace(load_settings(), database=snowflake_database, stage_mode="internal")
    run_setup(snowflake_conn, settings)
    run_setup(snowflake_conn, settings)  # a second run replaces, never appends
    cursor = snowflake_conn.cursor()
    rows = cursor.execute(
        "select field, is_required, is_closed, rule, reason, valid_hours_ahead, valid_range from raw.contract_fields"
    ).fetchall()
    assert sorted(rows) == sorted(
        (f.name, f.required, f.closed, f.rule, f.reason, f.valid_hours_ahead, f.valid_range) for f in FIELDS
    )
    ranges = cursor.execute("select field, valid_from from raw.contract_fields where valid_from is not null")
    assert ranges.fetchall() == [("CREATED_AT", datetime(2000, 1, 1))]
    values = cursor.execute("select field, value from raw.known_values").fetchall()
    assert sorted(values) == sorted((f.name, v) for f in WITH_VALUES for v in f.known)
