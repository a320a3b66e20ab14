"""Records Firehose writes to its error output are quarantined by the load, once each.

Firehose writes under the error output prefix only what a transformation Lambda (or format conversion, or
dynamic partitioning) failed; without those, every record lands in the ordinary object (see
tests/integration/local_stack/test_firehose_delivery.py). The local delivery runs no Lambda, so these tests
write the error objects as Firehose documents them ("Handle failure in data transformation", Amazon Data
Firehose developer guide: base64 rawData, errorCode, errorMessage, under processing-failed/), next to a landing
object the real local delivery wrote, and check that the load (both folders derived from config) plus the
transforms leave every valid event in the tables once and every failed record in quarantine once, with
Firehose's reason. Loading again, the same error object rewritten, and a whole redelivery after a lost
checkpoint change nothing.
"""

from __future__ import annotations

import base64
import gzip
import json
import shutil
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import boto3
import pytest

from mobile_events_elt.aws_infrastructure.cli import main
from mobile_events_elt.local_stack.firehose import deliver
from mobile_events_elt.warehouse import loader, transform
from mobile_events_elt.warehouse.pipeline import landing
from tests.support.aws_config import config_dict, write_config
from tests.support.seed import seed_records
from tests.support.warehouse import new_bucket, prepare, put_ndjson, scalar, settings_for

REPO = Path(__file__).resolve().parents[3]
BASE = {**seed_records()[3], "CREATED_AT": "2024-01-29 19:39:47"}  # a completed purchase
VALID = [json.dumps({**BASE, "EVENT_ID": f"firehose-valid-{n}"}) for n in range(12)]


@dataclass(frozen=True)
class Bad:
    name: str
    data: bytes
    code: str  # Firehose's errorCode for it
    message: str = "the transformation Lambda returned ProcessingFailed"


BAD = [
    Bad("empty", b"", "Lambda.ProcessingFailedStatus"),
    Bad("blank_line", b"   \n", "Lambda.ProcessingFailedStatus"),
    Bad(
        "pretty_printed_event",
        json.dumps({**BASE, "EVENT_ID": "firehose-pretty"}, indent=2).encode(),
        "Lambda.FunctionError",
        "The Lambda function was successfully invoked but it returned an error result.",
    ),
    Bad("two_lines_crlf", b'{"EVENT_ID": "a"}\r\n{"EVENT_ID": "b"}', "Lambda.ProcessingFailedStatus"),
    Bad("multi_line_unicode", "México\n東京 🚀".encode(), "Lambda.ProcessingFailedStatus"),
    Bad("not_utf8", b'{"USER_ID": "\xff\xfe not utf-8"}', "Lambda.ProcessingFailedStatus"),
    Bad("latin1_event", json.dumps({**BASE, "CITY": "México"}, ensure_ascii=False).encode("latin-1"), "Lambda.Timeout"),
]


def expected_text(data: bytes) -> str:
    """raw_text: the record as text when it is UTF-8, else its bytes in base64."""
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        return base64.b64encode(data).decode("ascii")


def expected_reason(bad: Bad) -> str:
    """Firehose's errorCode and errorMessage in one sentence."""
    reason = f"firehose could not deliver the record ({bad.code}): {bad.message}"
    try:
        bad.data.decode("utf-8")
    except UnicodeDecodeError:
        return reason + "; raw_text holds its bytes in base64"
    return reason


def error_record(bad: Bad, stream_arn: str, sequence: int, attempts: int = 1) -> dict[str, Any]:
    """One failed record as Firehose writes it for a Kinesis-sourced delivery stream."""
    return {
        "attemptsMade": attempts,
        "arrivalTimestamp": 1706557187000 + sequence,
        "errorCode": bad.code,
        "errorMessage": bad.message,
        "attemptEndingTimestamp": 1706557190000,
        "rawData": base64.b64encode(bad.data).decode("ascii"),
        "lambdaArn": "arn:aws:lambda:us-east-1:123456789012:function:transform",
        "kinesisMetadata": {
            "kinesisStreamARN": stream_arn,
            "shardId": "shardId-000000000000",
            "partitionKey": f"key-{sequence % 3}",
            "sequenceNumber": f"4959{sequence:020d}",
            "approximateArrivalTimestamp": 1706557187000 + sequence,
        },
    }


def put_error_object(s3: Any, bucket: str, stream_arn: str, name: str, attempts: int = 1) -> str:
    """Write every BAD record as one gzipped error object under the error output's processing-failed folder."""
    key = f"errors/processing-failed/year=2024/month=01/day=29/hour=19/{name}.gz"
    body = "".join(json.dumps(error_record(bad, stream_arn, n, attempts)) + "\n" for n, bad in enumerate(BAD))
    s3.put_object(Bucket=bucket, Key=key, Body=gzip.compress(body.encode()))
    return key


def quiet(_: str) -> None:
    """Delivery log sink for in-process runs."""


def put_records(stream: str, records: list[bytes]) -> None:
    kinesis = boto3.client("kinesis", region_name="us-east-1")
    for data in records:  # one by one: the order in the stream is the order given
        kinesis.put_record(StreamName=stream, Data=data, PartitionKey=f"key-{len(data) % 3}")


@dataclass
class World:
    conn: Any
    s3: Any
    bucket: str
    landing_prefix: str
    error_prefix: str
    settings: Any
    state_dir: Path
    stream_arn: str
    first_report: loader.LoadReport = field(default_factory=loader.LoadReport)

    def run(self) -> loader.LoadReport:
        """The pipeline's load (both folders) and dbt build (models and data tests), as the DAG runs them."""
        report = loader.load_new_files(
            self.conn, self.s3, self.bucket, self.landing_prefix, self.settings, error_prefix=self.error_prefix
        )
        transform.run_all(self.conn)
        return report

    def counts(self) -> dict[str, int]:
        return {
            table: scalar(self.conn, f"select count(*) from {table}")
            for table in ("analytics.orders", "raw.events_raw", "raw.rejected_events")
        }

    def quarantined(self, data: bytes) -> list[tuple[str, str, str]]:
        rows = self.conn.cursor().execute(
            "select reject_id, reason, rejected_in from raw.rejected_events where raw_text = %(text)s",
            {"text": expected_text(data)},
        )
        return rows.fetchall()


@pytest.fixture(scope="module")
def world(
    aws_endpoint: str, snowflake_server: dict[str, object], tmp_path_factory: pytest.TempPathFactory
) -> Iterator[World]:
    import snowflake.connector

    tmp = tmp_path_factory.mktemp("firehose-errors")
    data = config_dict()
    data["firehose"]["buffering"] = {"size_mib": 1, "interval_seconds": 60}
    state_dir = tmp / "state"
    config = tmp / "config"
    shutil.copytree(REPO / "config", config, ignore=shutil.ignore_patterns("*.py", "__pycache__"))
    with pytest.MonkeyPatch.context() as env:
        env.setenv("PIPELINE_CONFIG_DIR", str(write_config(config, data)))
        env.setenv("FIREHOSE_STATE_DIR", str(state_dir))
        assert main(["up"]) == 0
        put_records(data["stream"]["name"], [line.encode() for line in VALID])
        delivery = deliver(once=True, log=quiet)
        assert delivery.records_delivered == len(VALID)
        s3 = boto3.client("s3", region_name="us-east-1")
        stream_arn = boto3.client("kinesis", region_name="us-east-1").describe_stream_summary(
            StreamName=data["stream"]["name"]
        )["StreamDescriptionSummary"]["StreamARN"]
        put_error_object(s3, data["bucket"], stream_arn, "mobile-events-1-2024-01-29-19-39-50-first")

        where = landing()  # the folders the pipeline derives from config/aws.json
        assert (where.bucket, where.prefix, where.error_prefix) == (data["bucket"], "landing/", "errors/")
        database = f"FH_ERRORS_{uuid.uuid4().hex[:8].upper()}"
        conn = snowflake.connector.connect(**snowflake_server, database=database)
        conn.cursor().execute(f"create database if not exists {database}")
        settings = settings_for(database)
        prepare(conn, settings)
        world = World(conn, s3, where.bucket, where.prefix, where.error_prefix, settings, state_dir, stream_arn)
        world.first_report = world.run()
        yield world
        conn.close()


def test_the_load_reads_both_folders_once(world: World) -> None:
    report = world.first_report
    assert (report.files_loaded, report.files_failed, report.error_files_loaded) == (2, 0, 1)
    assert report.rows_loaded == len(VALID)
    assert report.error_records_quarantined == len(BAD)
    audited = world.conn.cursor().execute("select file_name, status from raw.load_audit order by file_name").fetchall()
    assert [(name.split("/")[0], status) for name, status in audited] == [("errors", "LOADED"), ("landing", "LOADED")]
    assert audited[0][0].startswith("errors/processing-failed/year=")


def test_valid_events_are_in_the_tables_once(world: World) -> None:
    ids = [json.loads(line)["EVENT_ID"] for line in VALID]
    rows = world.conn.cursor().execute("select order_id, count(*) from analytics.orders group by order_id").fetchall()
    assert sorted(rows) == sorted((event_id, 1) for event_id in ids)


@pytest.mark.parametrize("bad", BAD, ids=[b.name for b in BAD])
def test_each_bad_record_is_quarantined_once_with_firehose_reason(world: World, bad: Bad) -> None:
    rows = world.quarantined(bad.data)
    assert len(rows) == 1, rows
    _, reason, rejected_in = rows[0]
    assert rejected_in == "firehose"
    assert f"({bad.code})" in reason
    assert reason == expected_reason(bad)


def test_every_record_sent_is_in_the_tables_or_in_quarantine_once(world: World) -> None:
    counts = world.counts()
    assert counts["analytics.orders"] == len(VALID)
    assert counts["raw.rejected_events"] == len(BAD)
    assert counts["analytics.orders"] + counts["raw.rejected_events"] == len(VALID) + len(BAD)
    assert scalar(world.conn, "select count(distinct reject_id) from raw.rejected_events") == len(BAD)
    # The demo's and the soak's reconciliation count raw.rejected_events, so these records count there too.
    from mobile_events_elt.local_stack.demo import reconcile

    sent = {"unique_events": len(VALID), "malformed": len(BAD)}
    table_counts = {
        "analytics.orders": counts["analytics.orders"],
        "raw.rejected_events": counts["raw.rejected_events"],
    }
    lost, duplicated, line = reconcile(sent, table_counts, distinct_orders=len(VALID))
    assert (lost, duplicated) == (0, 0), line


def test_loading_again_and_redelivery_change_nothing(world: World) -> None:
    before = world.counts()
    rejected_before = (
        world.conn.cursor()
        .execute("select reject_id, raw_text, reason from raw.rejected_events order by reject_id")
        .fetchall()
    )

    # 1. Loading again: nothing is new.
    again = world.run()
    assert (again.files_loaded, again.files_failed) == (0, 0)

    # 2. The same error object written again under its own name (new attempt time, so a new ETag), and a
    #    copy under another name: both are new objects, and their records are already in quarantine.
    (error_key,) = [obj["Key"] for obj in world.s3.list_objects_v2(Bucket=world.bucket, Prefix="errors/")["Contents"]]
    original = world.s3.get_object(Bucket=world.bucket, Key=error_key)["Body"].read()
    lines = gzip.decompress(original).splitlines()
    retried = [{**json.loads(line), "attemptsMade": 2, "attemptEndingTimestamp": 1} for line in lines]
    rewritten = gzip.compress("".join(json.dumps(doc) + "\n" for doc in retried).encode())
    world.s3.put_object(Bucket=world.bucket, Key=error_key, Body=rewritten)
    world.s3.put_object(Bucket=world.bucket, Key=error_key.replace(".gz", "-copy.gz"), Body=original)
    redone = world.run()
    assert (redone.error_files_loaded, redone.error_records_quarantined, redone.failures) == (2, 0, {})

    # 3. A real redelivery: the delivery loses its checkpoint and sends the whole stream again, and the
    #    failed records are written again under a new name (Firehose is at-least-once).
    shutil.rmtree(world.state_dir)
    redelivery = deliver(once=True, log=quiet)
    assert redelivery.records_delivered == len(VALID)
    put_error_object(world.s3, world.bucket, world.stream_arn, "mobile-events-1-2024-01-29-19-41-02-again", attempts=2)
    replayed = world.run()
    assert (replayed.files_loaded, replayed.error_files_loaded, replayed.files_failed) == (2, 1, 0)
    assert replayed.error_records_quarantined == 0

    assert world.counts() == {**before, "raw.events_raw": 2 * len(VALID)}  # raw keeps each delivery, as it should
    after = (
        world.conn.cursor()
        .execute("select reject_id, raw_text, reason from raw.rejected_events order by reject_id")
        .fetchall()
    )
    assert after == rejected_before


def test_a_broken_error_output_is_quarantined_or_recorded_never_dropped(
    aws_endpoint: str, snowflake_conn: Any, snowflake_database: str
) -> None:
    """Lines in the error folder that are not proper error records, and an unreadable error object."""
    settings = settings_for(snowflake_database)
    prepare(snowflake_conn, settings)
    s3, bucket = new_bucket()
    put_ndjson(s3, bucket, [json.dumps({**BASE, "EVENT_ID": "hand-1"})], name="events")
    lines = [
        "not json at all",
        "[1, 2]",
        json.dumps({"errorCode": "Lambda.Timeout", "errorMessage": "took too long"}),  # no rawData
        json.dumps({"errorCode": "X", "errorMessage": "y", "rawData": "***not base64***"}),
        json.dumps({"errorCode": "Lambda.Failed", "errorMessage": "boom", "rawData": base64.b64encode(b"ok").decode()}),
        "",
    ]
    s3.put_object(Bucket=bucket, Key="errors/manual/a.gz", Body=gzip.compress(("\n".join(lines) + "\n").encode()))
    s3.put_object(Bucket=bucket, Key="errors/manual/b.gz", Body=gzip.compress(b"{}\n")[:10])  # truncated
    report = loader.load_new_files(snowflake_conn, s3, bucket, "landing/", settings, error_prefix="errors/")
    transform.run_all(snowflake_conn)
    transform.test_tables(snowflake_conn, freshness_hours=24)

    assert (report.files_loaded, report.error_files_loaded, report.error_records_quarantined) == (2, 1, 5)
    assert list(report.failures) == ["errors/manual/b.gz"]
    rows = dict(
        snowflake_conn.cursor()
        .execute("select raw_text, reason from raw.rejected_events where rejected_in = 'firehose'")
        .fetchall()
    )
    assert rows == {
        "not json at all": "firehose error output holds a line that is not a JSON error record; raw_text is that line",
        "[1, 2]": "firehose error output holds a line that is not a JSON error record; raw_text is that line",
        lines[2]: "firehose could not deliver the record (Lambda.Timeout): took too long; "
        "it has no base64 rawData, so raw_text is the error record",
        lines[
            3
        ]: "firehose could not deliver the record (X): y; it has no base64 rawData, so raw_text is the error record",
        "ok": "firehose could not deliver the record (Lambda.Failed): boom",
    }
    failed = snowflake_conn.cursor().execute(
        "select status, error from raw.load_audit where file_name = 'errors/manual/b.gz'"
    )
    status, error = failed.fetchone()
    assert status == "FAILED" and error
    assert scalar(snowflake_conn, "select count(*) from analytics.orders") == 1

    with pytest.raises(ValueError, match="overlaps"):
        loader.load_new_files(snowflake_conn, s3, bucket, "landing/", settings, error_prefix="landing/errors/")
