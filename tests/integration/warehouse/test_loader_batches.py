"""A backlog loads many files per COPY (FILES = (...), up to Snowflake's 1,000), one transaction per batch,
each file's audit row from COPY's per-file result; a batch that fails on one file's data is retried one
file at a time, so the bad file is parked FAILED and the others load, each exactly once."""

from __future__ import annotations

import gzip
import json

from tests.support.seed import seed_lines
from tests.support.warehouse import PREFIX, new_bucket, prepare, put_ndjson, scalar, settings_for
from warehouse import loader


def _lines(tag: str, n: int = 20) -> list[str]:
    return [json.dumps({**json.loads(line), "EVENT_ID": f"{tag}-{i}"}) for i, line in enumerate(seed_lines()[:n])]


def test_a_backlog_loads_in_batches_and_a_bad_file_is_isolated(
    aws_endpoint, snowflake_conn, snowflake_database
) -> None:
    settings = settings_for(snowflake_database)
    prepare(snowflake_conn, settings)
    s3, bucket = new_bucket()
    for n in range(5):
        put_ndjson(s3, bucket, _lines(f"f{n}"), name=f"f{n}")
    truncated = gzip.compress(("\n".join(_lines("bad")) + "\n").encode())[:40]
    bad = put_ndjson(s3, bucket, truncated, name="f2-truncated")
    empty = put_ndjson(s3, bucket, b"", name="f3-empty")

    report = loader.load_new_files(snowflake_conn, s3, bucket, PREFIX, settings)
    # One COPY for the batch, which fails on the truncated file; then one per file with bytes (6).
    assert (report.files_loaded, report.files_failed, report.copy_statements) == (6, 1, 7)
    assert list(report.failures) == [bad]
    assert report.rows_loaded == 100
    statuses = dict(snowflake_conn.cursor().execute("select file_name, status from raw.load_audit").fetchall())
    assert statuses[bad] == "FAILED" and statuses[empty] == "LOADED" and len(statuses) == 7
    assert scalar(snowflake_conn, "select count(distinct event_key) from raw.events_raw") == 100
    assert snowflake_conn.cursor().execute(f"list @{settings.internal_stage}").fetchall() == []

    for n in range(5, 10):
        put_ndjson(s3, bucket, _lines(f"f{n}"), name=f"f{n}")
    again = loader.load_new_files(snowflake_conn, s3, bucket, PREFIX, settings, files_per_copy=2)
    assert (again.files_loaded, again.files_failed, again.copy_statements) == (5, 0, 3)
    # Every later run's report still names the parked file until it is replayed or replaced.
    assert list(again.unresolved) == [bad] and again.unresolved[bad].startswith("FAILED: ")
    assert scalar(snowflake_conn, "select count(*) from raw.events_raw") == 200
    assert scalar(snowflake_conn, "select count(distinct event_key) from raw.events_raw") == 200
