"""Hostile object keys through the real load: rejected or loaded once, no other file changed."""

from __future__ import annotations

import gzip
import json

from botocore.exceptions import ClientError

from tests.support.object_keys import HOSTILE, HOUR, PREFIXES
from tests.support.seed import seed_lines
from tests.support.warehouse import PREFIX, new_bucket, prepare, scalar, settings_for
from warehouse import loader


def _lines(n: int, tag: str) -> list[str]:
    return [json.dumps({**json.loads(line), "EVENT_ID": f"{tag}-{i}"}) for i, line in enumerate(seed_lines()[:n])]


def _rows_per_file(conn) -> dict[str, tuple[int, str]]:
    rows = (
        conn.cursor()
        .execute("select file_name, count(*), min(event_key) from raw.events_raw group by file_name")
        .fetchall()
    )
    return {name: (count, first) for name, count, first in rows}


def test_hostile_keys_are_rejected_or_loaded_once_and_change_no_other_file(
    aws_endpoint, snowflake_conn, snowflake_database
) -> None:
    settings = settings_for(snowflake_database)
    prepare(snowflake_conn, settings)
    s3, bucket = new_bucket()
    for name, n in (("a.gz", 3), ("b.gz", 2)):
        s3.put_object(Bucket=bucket, Key=HOUR + name, Body=gzip.compress(("\n".join(_lines(n, name)) + "\n").encode()))
    loader.load_new_files(snowflake_conn, s3, bucket, PREFIX, settings)
    before = _rows_per_file(snowflake_conn)
    assert {k: v[0] for k, v in before.items()} == {HOUR + "a.gz": 3, HOUR + "b.gz": 2}

    stored, refused = [], []
    for n, key in enumerate(HOSTILE + PREFIXES):
        body = gzip.compress((_lines(1, f"k{n}")[0] + "\n").encode())
        try:
            s3.put_object(Bucket=bucket, Key=key, Body=body)
        except ClientError:
            refused.append(key)  # a key S3 itself refuses never reaches the loader
        else:
            stored.append(key)
    assert set(PREFIXES) <= set(stored) and len(refused) <= 2, refused

    report = loader.load_new_files(snowflake_conn, s3, bucket, PREFIX, settings)
    listed = {f.key for f in loader.list_landed_files(s3, bucket, PREFIX)}
    hostile_listed = listed & set(HOSTILE)
    assert set(report.rejected_keys) == hostile_listed
    assert all(report.rejected_keys.values())
    assert report.files_loaded == len(PREFIXES) and report.files_failed == 0
    audit = dict(
        snowflake_conn.cursor()
        .execute("select file_name, status from raw.load_audit where status = 'REJECTED_KEY'")
        .fetchall()
    )
    assert set(audit) == hostile_listed
    after = _rows_per_file(snowflake_conn)
    # Each prefix-like key loaded its own one line; the earlier files are untouched.
    assert {k: after[k][0] for k in PREFIXES} == dict.fromkeys(PREFIXES, 1)
    assert {k: after[k] for k in before} == before
    assert set(after) == set(before) | set(PREFIXES)
    # Nothing stays staged, and nothing loads twice.
    assert snowflake_conn.cursor().execute(f"list @{settings.internal_stage}").fetchall() == []
    again = loader.load_new_files(snowflake_conn, s3, bucket, PREFIX, settings)
    assert (again.files_loaded, again.rejected_keys) == (0, {})
    assert scalar(snowflake_conn, "select count(*) from raw.events_raw") == 5 + len(PREFIXES)
