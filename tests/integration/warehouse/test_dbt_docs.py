"""`make docs`'s dbt site on the Snowflake emulator: lineage from the raw sources to the marts, and the catalog."""

from __future__ import annotations

import json

from mobile_events_elt.warehouse import dbt_runner
from tests.support.warehouse import prepare, settings_for


def test_the_docs_site_holds_the_models_lineage_and_catalog(snowflake_conn, snowflake_database, tmp_path) -> None:
    """`make docs`'s site, on a database set up by the migrations: one static page, the catalog of the marts'
    tables as the warehouse has them, and the lineage from the raw sources to the marts."""
    prepare(snowflake_conn, settings_for(snowflake_database))
    page = dbt_runner.docs(dbt_runner.Target.of_connector(snowflake_conn), tmp_path / "docs")
    assert page.name == "static_index.html" and page.stat().st_size > 0
    catalog = json.loads((page.parent / "catalog.json").read_text(encoding="utf-8"))
    columns = catalog["nodes"]["model.mobile_events.orders"]["columns"]
    assert {"ORDER_ID", "USER_ID", "LOADED_AT"} <= {name.upper() for name in columns}
    manifest = json.loads((page.parent / "manifest.json").read_text(encoding="utf-8"))
    assert "source.mobile_events.raw.events_raw" in manifest["parent_map"]["model.mobile_events.stg_events"]
    assert "model.mobile_events.int_events_validated" in manifest["parent_map"]["model.mobile_events.orders"]
