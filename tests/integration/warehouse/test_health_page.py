"""The health page's numbers and rendering, against the Snowflake and AWS emulators, shown in headless Chromium.

The sections are read through the real connector from tables the real load and transforms filled, and
compared with direct queries of those tables; the rendered page is opened in a real browser (Debian's
``chromium``), whose DOM is read back. A quarantined record holding markup must show as text and never run.
"""

from __future__ import annotations

import gzip
import json
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from tests.support.health_page import SCREENSHOTS, browse, number, read_page
from tests.support.seed import seed_records
from tests.support.warehouse import PREFIX, new_bucket, prepare, put_ndjson, run_pipeline, scalar, settings_for
from warehouse import health, loader, report, sql_files

REPO = Path(__file__).resolve().parents[3]
# document.title would change if any of these ran; the page keeps its own title.
HOSTILE = '<script>document.title="pwned"</script><img src=x onerror="document.title=\'pwned\'">'


# --- headless Chromium --------------------------------------------------------------------------------


# --- the warehouse behind it --------------------------------------------------------------------------


def fresh_records(n: int) -> list[dict[str, Any]]:
    """Seed records sent just now: CREATED_AT a minute ago, so they fall in every window."""
    now = datetime.now(UTC) - timedelta(minutes=1)
    records = seed_records()[:n]
    return [{**r, "EVENT_ID": f"health-{i}", "CREATED_AT": f"{now:%Y-%m-%d %H:%M:%S}"} for i, r in enumerate(records)]


@pytest.fixture(scope="module")
def loaded(aws_endpoint, snowflake_server) -> Iterator[tuple[Any, Any]]:
    """Tables filled by the real load and transforms: good records, a redelivered file, a malformed line
    holding markup, a record failing validation, an unreadable file, and a file left waiting in S3.
    Filled once for the module (the tests only read); its own database on the session's emulator."""
    import snowflake.connector

    database = f"TEST_HEALTH_{uuid.uuid4().hex[:8].upper()}"
    snowflake_conn = snowflake.connector.connect(**snowflake_server, database=database)
    snowflake_conn.cursor().execute(f"create database if not exists {database}")
    settings = settings_for(database)
    prepare(snowflake_conn, settings)
    s3, bucket = new_bucket()
    good = [json.dumps(r) for r in fresh_records(40)]
    invalid = json.dumps({**fresh_records(41)[40], "USER_ID": "not-hex", "EVENT_ID": "health-invalid"})
    key = put_ndjson(s3, bucket, [*good[:30], HOSTILE, invalid], name="first")
    s3.copy_object(Bucket=bucket, Key=key.replace("first", "again"), CopySource={"Bucket": bucket, "Key": key})
    conflict = json.dumps({**json.loads(good[0]), "CITY": "Atlantis-on-Sea"})  # EVENT_ID reused, other content
    put_ndjson(s3, bucket, [*good[30:], conflict], name="second")
    put_ndjson(s3, bucket, gzip.compress(b'{"a": 1}\n')[:-6], name="truncated")
    run_pipeline(snowflake_conn, s3, bucket, settings)
    put_ndjson(s3, bucket, good[:2], name="late")  # landed after the run: waiting

    def landed() -> list[loader.LandedFile]:
        return loader.list_landed_files(s3, bucket, PREFIX, with_times=True)

    yield snowflake_conn, landed
    snowflake_conn.close()


def test_every_section_matches_the_tables(loaded) -> None:
    conn, landed = loaded
    reading = health.collect(conn, "day", landed)
    for name in ("conservation", "freshness", "volume", "files", "quarantine", "drift"):
        assert getattr(reading, name).error is None, f"{name}: {getattr(reading, name).error}"

    t = reading.conservation.totals
    distinct_keys = scalar(conn, "select count(distinct event_key) from raw.events_raw")
    load_rejects = scalar(conn, "select count(*) from raw.rejected_events where rejected_in <> 'transform'")
    conflicts = scalar(conn, "select count(*) from raw.rejected_events where reason like 'conflicting%'")
    assert conflicts == 1
    # 40 good records, 1 failing validation, 1 malformed line, 1 conflicting duplicate
    assert t["delivered"] == distinct_keys + load_rejects + conflicts == 43
    copies = scalar(conn, "select count(*) - count(distinct event_key) from raw.events_raw")
    assert t["redelivered"] == copies - conflicts == 31  # the redelivered file's 32 records, less the conflict
    assert t["in_tables"] == scalar(conn, "select count(*) from analytics.orders") == 40
    assert t["quarantined"] == scalar(conn, "select count(*) from raw.rejected_events") == 3
    assert (t["waiting"], t["lost"], t["duplicated"]) == (0, 0, 0)

    assert reading.volume.events == scalar(conn, "select count(*) from analytics.events") > 0
    from tests.support.health_page import VOLUME_EVENTS  # the stack test's direct query, checked here

    window = {"since": reading.since, "until": reading.until}
    in_window = "orders.loaded_at >= %(since)s and orders.loaded_at < %(until)s"
    by_load = f"select count(*) from {VOLUME_EVENTS} where true and {in_window}"
    assert conn.cursor().execute(by_load, window).fetchone()[0] == reading.volume.events
    purchases = "select count(*) from analytics.orders where order_type = 'PURCHASE' and status = 'COMPLETED'"
    assert reading.volume.purchases == scalar(conn, purchases) > 0

    fresh = reading.freshness
    assert fresh.newest_loaded_at == scalar(conn, "select max(loaded_at) from raw.events_raw")
    assert sum(row["orders"] for row in fresh.hourly) == 40
    assert all(0 <= row["p50_seconds"] <= row["p95_seconds"] < 3600 for row in fresh.hourly)

    files = reading.files
    assert files.by_status["LOADED"]["files"] == scalar(
        conn, "select count(*) from raw.load_audit where status = 'LOADED'"
    )
    assert [f["file_name"].rsplit("/", 1)[-1] for f in files.failed] == ["truncated.gz"]
    assert files.failed[0]["error"], "a failed file is shown with its error"
    assert files.waiting == 1 and files.waiting_files[0]["key"].endswith("late.gz")

    q = reading.quarantine
    assert q.total == 3 and q.reasons == 3
    by_reason = dict(scalar_rows(conn, "select reason, count(*) from raw.rejected_events group by reason"))
    assert {r["reason"]: r["records"] for r in q.by_reason} == by_reason
    assert any(HOSTILE in s["text"] for r in q.by_reason for s in r["samples"])

    if drift_view(conn):
        assert reading.drift.available
        assert reading.drift.new_values == scalar(conn, "select count(*) from analytics.value_drift")
    else:
        assert not reading.drift.available


def drift_view(conn: Any) -> bool:
    views = "select count(*) from information_schema.views where table_schema = 'ANALYTICS'"
    return scalar(conn, views + " and table_name = 'VALUE_DRIFT'") == 1


def scalar_rows(conn: Any, sql: str) -> list[tuple[Any, ...]]:
    return conn.cursor().execute(sql).fetchall()


def test_page_in_a_browser_shows_the_numbers_and_markup_in_samples_as_text(loaded, tmp_path) -> None:
    conn, landed = loaded
    reading = health.collect(conn, "day", landed)
    page_file = tmp_path / "index.html"
    page_file.write_text(report.render(reading, report.STATIC_PAGES), encoding="utf-8")

    page = read_page(browse(page_file.as_uri(), SCREENSHOTS / "health-static.png"))

    assert page.title == "Pipeline health", f"the document's title changed to {page.title!r}: the sample ran"
    assert page.scripts == 0, "the page holds a <script> element: a sample was inserted as markup"
    assert any(HOSTILE in text for text in page.samples), f"the hostile sample is not shown as text: {page.samples}"
    assert page.charts == 3 and page.chart_marks > 0
    t = reading.conservation.totals
    for name in ("delivered", "in_tables", "quarantined", "waiting", "lost", "duplicated", "redelivered"):
        assert number(page, f"conservation.{name}") == t[name]
    assert number(page, "volume.events") == reading.volume.events
    assert number(page, "volume.purchases") == reading.volume.purchases
    assert number(page, "files.failed") == 1 and number(page, "files.waiting") == 1
    assert number(page, "quarantine.total") == 3
    expected = str(len(reading.drift.rows)) if reading.drift.available else "not available"
    assert page.attributes.get("data-drift") == expected


def test_report_writes_a_page_per_window_that_links_the_others(loaded, tmp_path) -> None:
    conn, landed = loaded
    index, problems = report.write(tmp_path / "report", lambda window: health.collect(conn, window, landed))
    assert index.name == "index.html" and problems == []
    for window, name in report.STATIC_PAGES.items():
        html = (tmp_path / "report" / name).read_text()
        assert all(f'href="{other}"' in html for other in report.STATIC_PAGES.values())
        assert f'class="current">last {window}<' in html
        assert "http://" not in html.replace('xmlns="http://www.w3.org/2000/svg"', ""), "the report needs the network"


def test_a_section_that_cannot_be_read_says_why_and_the_others_still_show(snowflake_conn) -> None:
    """An empty database (no schemas): every section reports its error instead of failing the page."""
    reading = health.collect(snowflake_conn, "hour", landed=None)
    assert reading.conservation.error and "does not exist" in reading.conservation.error
    assert set(reading.errors()) == {"conservation", "freshness", "volume", "files", "quarantine"}
    html = report.render(reading, report.STATIC_PAGES)
    assert html.count("Could not read this section") == 5
    assert 'data-drift="not available"' in html  # no drift view in an empty database: said, not an error


# --- files that need a person, and long text --------------------------------------------------------------


def test_rejected_keys_are_shown_with_their_reasons_as_text_not_all_loaded(
    aws_endpoint, snowflake_conn, snowflake_database
) -> None:
    """Keys the load rejects (here one holding markup, one of 1,000 characters) fail every run: the files
    panel names each with its reason, cut and escaped, and never says "all loaded"."""
    settings = settings_for(snowflake_database)
    prepare(snowflake_conn, settings)
    s3, bucket = new_bucket()
    put_ndjson(s3, bucket, [json.dumps(r) for r in fresh_records(3)], name="good")
    markup = f"{PREFIX}year=2024/<b>bold</b> key.gz"
    long_key = f"{PREFIX}year=2024/{'k' * 900} !.gz"
    for key in (markup, long_key):
        s3.put_object(Bucket=bucket, Key=key, Body=gzip.compress(json.dumps(fresh_records(1)[0]).encode()))
    loaded = loader.load_new_files(snowflake_conn, s3, bucket, PREFIX, settings)
    assert sorted(loaded.rejected_keys) == sorted([markup, long_key]) and loaded.files_loaded == 1

    reading = health.collect(snowflake_conn, "day", lambda: loader.list_landed_files(s3, bucket, PREFIX))
    files = reading.files
    assert files.error is None and files.rejected_count == 2 and files.failed_count == 0
    shown = {f["file_name"]: f["error"] for f in files.rejected}
    assert shown[markup] == loaded.rejected_keys[markup] and "canonical path" in shown[markup]
    cut = next(name for name in shown if name != markup)
    assert cut.startswith(long_key[: health.TEXT_SHOWN]) and cut.endswith(f"cut, {len(long_key)} characters in all]")

    html = report.render(reading, report.STATIC_PAGES)
    page = read_page(html)
    assert number(page, "files.rejected_keys") == 2 and number(page, "files.failed") == 0
    assert "all loaded" not in html and "2 rejected keys" in html
    assert "<b>bold</b>" not in html and "&lt;b&gt;bold&lt;/b&gt; key.gz" in html, "a key is shown as text"


LONG = "Ж" * 900_000  # about 1.8 MB as UTF-8: one hostile value


def test_long_text_is_cut_in_sql_and_says_so(snowflake_conn, snowflake_database) -> None:
    """A 900,000-character reason, sample, city, file name and error each leave the warehouse as at most
    TEXT_SHOWN characters and a marker saying how long it was: every sql/health/ file, and the page."""
    prepare(snowflake_conn, settings_for(snowflake_database))
    now = datetime.now(UTC).replace(tzinfo=None) - timedelta(minutes=1)
    cursor = snowflake_conn.cursor()
    values = {"long": LONG, "now": now}
    cursor.execute(
        "insert into raw.rejected_events (reject_id, raw_text, file_name, reason, rejected_in, load_id, rejected_at)"
        " values ('r1', %(long)s, %(long)s, %(long)s, 'load', 'l1', %(now)s)",
        values,
    )
    for status in ("FAILED", "REJECTED_KEY"):
        cursor.execute(
            "insert into raw.load_audit (file_name, file_etag, file_size, load_id, status, rows_loaded,"
            " rows_rejected, error, loaded_at) values (%(name)s, 'e', 1, 'l2', %(status)s, 0, 0, %(long)s, %(now)s)",
            {**values, "status": status, "name": status + LONG},
        )
    cursor.execute(
        "insert into raw.drift_observations (field, value, event_key, created_at, loaded_at)"
        " values ('CITY', %(long)s, 'k1', %(now)s, %(now)s)",
        values,
    )
    marker = f" [... cut, {len(LONG)} characters in all]"
    bounds = dict(zip(("since", "until"), health.window_bounds("day"), strict=True))
    for relative in sql_files.files("health"):
        for stmt in sql_files.statements(relative):
            cursor.execute(stmt, bounds)
        texts = [v for row in cursor.fetchall() for v in row if isinstance(v, str)]
        assert all(len(text) <= health.TEXT_SHOWN + len(marker) + len("REJECTED_KEY") for text in texts), relative
        if relative.rsplit("/", 1)[-1] in ("drift.sql", "files_unresolved.sql", "quarantine.sql"):
            assert any(text.endswith(marker) for text in texts), f"{relative} does not say what it cut"

    reading = health.collect(snowflake_conn, "day")
    assert reading.errors() == {}
    assert reading.quarantine.by_reason[0]["reason"] == LONG[: health.TEXT_SHOWN] + marker
    assert reading.drift.rows[0]["value"] == LONG[: health.TEXT_SHOWN] + marker
    assert (reading.files.failed_count, reading.files.rejected_count) == (1, 1)
    html = report.render(reading, report.STATIC_PAGES)
    assert "Ж" * health.TEXT_SHOWN in html and "Ж" * (health.TEXT_SHOWN + 1) not in html
    assert len(html.encode()) < 200_000
