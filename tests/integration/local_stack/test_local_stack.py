"""The emulator launchers: their fixes for upstream defects hold against the real servers."""

from __future__ import annotations

import concurrent.futures
import time

import boto3
import pytest


def test_kinesis_concurrent_producers_keep_every_record(aws_endpoint: str) -> None:
    kinesis = boto3.client("kinesis")
    kinesis.create_stream(StreamName="concurrency", ShardCount=1)

    def put(worker: int) -> int:
        client = boto3.client("kinesis")
        records = [{"Data": f"{worker}-{i}".encode(), "PartitionKey": "k"} for i in range(200)]
        return 200 - client.put_records(StreamName="concurrency", Records=records)["FailedRecordCount"]

    with concurrent.futures.ThreadPoolExecutor(8) as pool:
        acked = sum(pool.map(put, range(8)))
    shard = kinesis.list_shards(StreamName="concurrency")["Shards"][0]["ShardId"]
    iterator = kinesis.get_shard_iterator(StreamName="concurrency", ShardId=shard, ShardIteratorType="TRIM_HORIZON")[
        "ShardIterator"
    ]
    seen: list[bytes] = []
    while True:
        page = kinesis.get_records(ShardIterator=iterator, Limit=10000)
        seen += [r["Data"] for r in page["Records"]]
        if not page["Records"]:
            break
        iterator = page["NextShardIterator"]
    assert acked == 1600
    assert len(seen) == len(set(seen)) == 1600


def test_snowflake_null_timestamp_comes_back_null(snowflake_conn) -> None:
    cur = snowflake_conn.cursor()
    cur.execute("create schema if not exists S")
    cur.execute("create table S.T (TS timestamp_ntz, N number)")
    cur.execute("insert into S.T (TS, N) values (null, 1), ('2024-01-29 19:39:42', 2)")
    rows = cur.execute("select TS, N from S.T order by N").fetchall()
    assert rows[0][0] is None
    assert rows[1][0].year == 2024


def test_snowflake_unsupported_statement_fails_once_without_retry(snowflake_conn) -> None:
    from snowflake.connector.errors import ProgrammingError

    cur = snowflake_conn.cursor()
    started = time.monotonic()
    with pytest.raises(ProgrammingError, match=r"Malformed JSON|parse_json"):
        # PARSE_JSON of bad text is an unhandled DuckDB error: HTTP 500 upstream, which the connector
        # retries for its whole network timeout (10 s here) before giving up.
        cur.execute("select parse_json('{bad') as v")
    assert time.monotonic() - started < 3


def test_snowflake_parse_json_refuses_duplicate_keys_as_snowflake_does(snowflake_conn) -> None:
    """PARSE_JSON and TRY_PARSE_JSON are strict about duplicate keys by default: an error and NULL
    (https://docs.snowflake.com/en/sql-reference/functions/parse_json); fakesnow accepts them."""
    from snowflake.connector.errors import ProgrammingError

    cur = snowflake_conn.cursor()
    assert cur.execute("""select try_parse_json('{"a": 1, "a": 2}')""").fetchone() == (None,)
    assert cur.execute("""select parse_json('{"a": 1, "b": 2}'):b::int""").fetchone() == (2,)
    with pytest.raises(ProgrammingError):  # over HTTP, DuckDB's error arrives as "Unhandled exception"
        cur.execute("""select parse_json('{"a": 1, "a": 2}')""")


def test_snowflake_data_is_shared_across_connections(snowflake_server, snowflake_conn, snowflake_database) -> None:
    import snowflake.connector

    snowflake_conn.cursor().execute("create schema if not exists S")
    snowflake_conn.cursor().execute("create table S.SHARED (N number)")
    snowflake_conn.cursor().execute("insert into S.SHARED values (42)")
    other = snowflake.connector.connect(**snowflake_server, database=snowflake_database)
    try:
        assert other.cursor().execute("select N from S.SHARED").fetchall() == [(42,)]
    finally:
        other.close()


def test_kinesis_routes_to_child_shards_after_a_split(aws_endpoint: str) -> None:
    kinesis = boto3.client("kinesis")
    kinesis.create_stream(StreamName="resharded", ShardCount=1)
    parent = kinesis.list_shards(StreamName="resharded")["Shards"][0]
    kinesis.put_record(StreamName="resharded", Data=b"before", PartitionKey="k")
    middle = str(int(parent["HashKeyRange"]["EndingHashKey"]) // 2)
    kinesis.split_shard(StreamName="resharded", ShardToSplit=parent["ShardId"], NewStartingHashKey=middle)
    records = [{"Data": f"r{i}".encode(), "PartitionKey": f"user-{i}"} for i in range(100)]
    routed = kinesis.put_records(StreamName="resharded", Records=records)["Records"]
    shards_used = {r["ShardId"] for r in routed}
    assert parent["ShardId"] not in shards_used
    assert len(shards_used) == 2
    # The parent keeps what it had (readable until it expires); the children start empty of it.
    contents = {}
    for shard in kinesis.list_shards(StreamName="resharded")["Shards"]:
        it = kinesis.get_shard_iterator(
            StreamName="resharded", ShardId=shard["ShardId"], ShardIteratorType="TRIM_HORIZON"
        )
        contents[shard["ShardId"]] = [
            r["Data"] for r in kinesis.get_records(ShardIterator=it["ShardIterator"])["Records"]
        ]
    assert contents.pop(parent["ShardId"]) == [b"before"]
    assert sorted(d for data in contents.values() for d in data) == sorted(r["Data"] for r in records)


def test_snowflake_emulator_killed_and_restarted_keeps_tables_stages_and_types(tmp_path) -> None:
    """A SIGKILL loses nothing committed: rows, the stage and its files, a VARIANT column's type."""
    import os
    import signal

    import snowflake.connector

    from mobile_events_elt.local_stack import processes
    from mobile_events_elt.local_stack.environment import snowflake_login_secret
    from mobile_events_elt.local_stack.ports import free_port
    from tests.support.statements import snowflake_command

    port, data = free_port(), tmp_path / "snowflake"
    argv = snowflake_command(port, data)
    staged = tmp_path / "lines.csv"
    staged.write_text('{"a": 1}\n')
    pid = processes.start("snowflake", argv, tmp_path, wait_port=port)
    password = snowflake_login_secret(data)  # made by the emulator at its first start, kept across restarts
    params = dict(host="127.0.0.1", port=port, protocol="http", account="local", user="local", password=password)
    try:
        with snowflake.connector.connect(**params, network_timeout=10) as conn:
            cur = conn.cursor()
            cur.execute("create database if not exists KEPT")
            cur.execute("create schema if not exists KEPT.RAW")
            cur.execute("create table KEPT.RAW.DOCS (DOC variant)")
            cur.execute("insert into KEPT.RAW.DOCS select parse_json('{\"k\": [1, 2]}')")
            cur.execute("create stage KEPT.RAW.LANDING")
            cur.execute(f"put 'file://{staged}' @KEPT.RAW.LANDING/in auto_compress = false")
        os.kill(pid, signal.SIGKILL)
        processes.stop("snowflake", tmp_path)
        processes.start("snowflake", argv, tmp_path, wait_port=port)
        with snowflake.connector.connect(**params, database="KEPT", network_timeout=10) as conn:
            cur = conn.cursor()
            cur.execute("select DOC:k[1]::int as n from KEPT.RAW.DOCS")
            assert cur.fetchall() == [(2,)]
            cur.execute("create table KEPT.RAW.LINES (LINE varchar)")
            cur.execute("copy into KEPT.RAW.LINES from @KEPT.RAW.LANDING/in file_format = (type = csv)")
            assert cur.execute("select count(*) from KEPT.RAW.LINES").fetchone() == (1,)
            cur.execute("select DOC from KEPT.RAW.DOCS")
            assert cur.description[0].type_code == 5  # VARIANT, from the kept catalog
    finally:
        processes.stop("snowflake", tmp_path)
