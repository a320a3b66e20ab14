"""The Kinesis producer against a real moto server: batching, retries, spool, replay, interruption.

moto never throttles or fails a record, so ``FaultyKinesis`` wraps the real client and makes chosen
records (or whole calls) fail the way Kinesis does; everything that does get through really lands in
the emulated stream, and each test reads the stream back to check that nothing was lost or doubled.
"""

from __future__ import annotations

import itertools
import json
import random
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from botocore.exceptions import EndpointConnectionError, ReadTimeoutError

from mobile_events_elt.data_generation.cli import main
from mobile_events_elt.data_generation.faults import FaultInjector
from mobile_events_elt.data_generation.generator import EventGenerator
from mobile_events_elt.data_generation.pipeline import run
from mobile_events_elt.data_generation.producer import MAX_BYTES_PER_CALL, MAX_RECORDS_PER_CALL, KinesisProducer
from mobile_events_elt.data_generation.replay import replay_spool
from mobile_events_elt.data_generation.report import DUPLICATE, EVENT, LATE, MALFORMED
from mobile_events_elt.data_generation.spool import read_spool
from tests.support.contract import problems
from tests.support.kinesis import THROTTLED, FaultyKinesis, stream_records, throttle_error


def events(n: int, seed: int = 1) -> list[tuple[str, str, str]]:
    return list(itertools.islice(EventGenerator(seed=seed, users=100), n))


def test_batches_within_limits_deliver_everything_once_with_user_id_keys(kinesis: Any, stream: str) -> None:
    client = FaultyKinesis(kinesis)
    report = run(EventGenerator(seed=1, users=100), KinesisProducer(stream, client=client), count=1234)
    expected = [(line, key) for line, key, _ in itertools.islice(EventGenerator(seed=1, users=100), 1234)]
    assert stream_records(kinesis, stream) == expected
    assert [len(call) for call in client.calls] == [500, 500, 234]
    assert (report.sent, report.unique_events, report.generated, report.retried, report.failed) == (1234,) * 3 + (0, 0)
    assert report.spool_path is None


def test_batches_stay_under_5_mib_and_oversized_records_are_spooled(kinesis: Any, stream: str, tmp_path: Path) -> None:
    client = FaultyKinesis(kinesis)
    producer = KinesisProducer(stream, client=client, spool_path=tmp_path / "spool.ndjson")
    big = [(json.dumps({"n": i, "pad": "x" * 400_000}), f"key{i}", EVENT) for i in range(30)]
    too_big = json.dumps({"pad": "y" * (1024 * 1024)})
    producer.put_many([*big[:10], (too_big, "huge", EVENT), *big[10:]])
    report = producer.close()
    sizes = [sum(len(r["Data"]) + len(r["PartitionKey"]) for r in call) for call in client.calls]
    assert len(client.calls) >= 3 and max(sizes) <= MAX_BYTES_PER_CALL
    assert max(len(call) for call in client.calls) <= MAX_RECORDS_PER_CALL
    assert [data for data, _ in stream_records(kinesis, stream)] == [line for line, _, _ in big]
    assert (report.sent, report.failed, report.spooled) == (30, 1, 1)
    (entry,) = read_spool(tmp_path / "spool.ndjson")
    assert (entry.line, entry.partition_key, entry.stream) == (too_big, "huge", stream)
    assert "over the 1 MiB Kinesis limit" in (tmp_path / "spool.ndjson").read_text()


def test_throttled_and_failed_records_are_retried_until_each_lands_once(kinesis: Any, stream: str) -> None:
    rng = random.Random(3)
    client = FaultyKinesis(
        kinesis, lambda r: rng.choice([THROTTLED, "InternalFailure"]) if rng.random() < 0.3 else None
    )
    producer = KinesisProducer(stream, client=client, max_attempts=30, backoff_base=0.001, backoff_cap=0.01)
    sent = events(3000)
    report = run(iter(sent), producer)
    assert Counter(data for data, _ in stream_records(kinesis, stream)) == Counter(line for line, _, _ in sent)
    assert client.injected > 500
    assert report.retried == client.injected
    assert (report.sent, report.failed, report.spooled, report.generated) == (3000, 0, 0, 3000)


def test_whole_call_throttling_and_network_errors_are_retried(kinesis: Any, stream: str) -> None:
    errors: list[BaseException] = [
        throttle_error(),
        EndpointConnectionError(endpoint_url="http://127.0.0.1:1"),
        ReadTimeoutError(endpoint_url="http://127.0.0.1:1"),
    ]
    client = FaultyKinesis(kinesis, call_errors=errors)
    producer = KinesisProducer(stream, client=client, backoff_base=0.001, backoff_cap=0.01)
    report = run(iter(events(600)), producer)
    assert len(stream_records(kinesis, stream)) == 600
    assert [len(call) for call in client.calls] == [500, 500, 500, 500, 100]
    assert (report.sent, report.retried, report.failed) == (600, 1500, 0)


def test_exhausted_retries_go_to_the_spool_and_replay_sends_them_later(
    kinesis: Any, stream: str, tmp_path: Path
) -> None:
    generator = EventGenerator(seed=8, users=40, late_rate=0.1)
    faults = FaultInjector(8, generator.namespace, duplicate_rate=0.1, malformed_rate=0.1)
    rng = random.Random(8)  # half of all attempts fail: a quarter of the records exhaust two attempts
    client = FaultyKinesis(kinesis, lambda r: "InternalFailure" if rng.random() < 0.5 else None)
    spool = tmp_path / "dead-letter.ndjson"
    producer = KinesisProducer(
        stream, client=client, max_attempts=2, backoff_base=0.001, spool_path=spool, on_delivered=faults.delivered
    )
    report = run(generator, producer, count=2000, faults=faults)
    entries = list(read_spool(spool))
    assert report.failed == report.spooled == len(entries) > 100
    assert report.sent + report.failed == report.generated
    assert report.spool_path == spool
    assert "gave up after 2 attempts" in spool.read_text()
    before = stream_records(kinesis, stream)
    assert len(before) == report.sent
    assert {(e.line, e.partition_key) for e in entries if e.kind in (EVENT, LATE)}.isdisjoint(before)

    code = main(["replay-spool", str(spool), "--report-json", str(tmp_path / "replay.json"), "--quiet"])
    replay = json.loads((tmp_path / "replay.json").read_text())
    kinds = Counter(MALFORMED if entry.kind.startswith(MALFORMED) else entry.kind for entry in entries)
    assert code == 0
    assert (replay["sent"], replay["failed"], replay["target"]) == (len(entries), 0, stream)
    assert replay["unique_events"] == kinds[EVENT] + kinds[LATE] and replay["late"] == kinds[LATE]
    assert (replay["duplicates"], replay["malformed"]) == (kinds[DUPLICATE], kinds[MALFORMED])
    assert min(kinds.values()) > 0 and len(kinds) == 4
    assert not spool.exists() and (tmp_path / "dead-letter.ndjson.replayed").exists()
    landed = [data for data, _ in stream_records(kinesis, stream)]
    assert len(landed) == report.sent + len(entries)
    valid_ids = {json.loads(line)["EVENT_ID"] for line in landed if not problems(line)}
    assert len(valid_ids) == report.unique_events + replay["unique_events"] == 2000


def test_a_replay_that_fails_again_spools_into_a_new_file(kinesis: Any, stream: str, tmp_path: Path) -> None:
    first = KinesisProducer(
        stream, client=FaultyKinesis(kinesis, lambda r: THROTTLED), max_attempts=1, spool_path=tmp_path / "a.ndjson"
    )
    assert run(EventGenerator(seed=2), first, count=50).spooled == 50
    again = KinesisProducer(
        stream, client=FaultyKinesis(kinesis, lambda r: THROTTLED), max_attempts=2, spool_path=tmp_path / "b.ndjson"
    )
    report = replay_spool(tmp_path / "a.ndjson", again)
    assert (report.sent, report.failed, report.spooled, report.generated) == (0, 50, 50, 50)
    assert len(list(read_spool(tmp_path / "b.ndjson"))) == 50
    final = replay_spool(tmp_path / "b.ndjson", KinesisProducer(stream, spool_path=tmp_path / "c.ndjson"))
    assert (final.sent, final.unique_events, final.failed) == (50, 50, 0)
    assert [d for d, _ in stream_records(kinesis, stream)] == [
        line for line, _, _ in itertools.islice(EventGenerator(seed=2), 50)
    ]
    assert not (tmp_path / "c.ndjson").exists()


def test_an_error_retrying_cannot_fix_stops_the_run_and_spools_what_was_made(kinesis: Any, tmp_path: Path) -> None:
    spool = tmp_path / "spool.ndjson"
    producer = KinesisProducer("no-such-stream", spool_path=spool)
    report = run(EventGenerator(seed=1, users=10), producer, count=100_000)
    assert report.error and "ResourceNotFoundException" in report.error and "no-such-stream" in report.error
    assert report.sent == 0
    assert report.failed == report.spooled == report.generated == len(list(read_spool(spool)))
    assert report.generated < 3000, "generation stops at the first fatal error"


def test_ctrl_c_delivers_what_is_buffered(kinesis: Any, stream: str) -> None:
    made = events(1234)

    def interrupted_after_1234() -> Iterator[tuple[str, str, str]]:
        yield from made
        raise KeyboardInterrupt

    report = run(interrupted_after_1234(), KinesisProducer(stream))
    assert report.interrupted
    assert [d for d, _ in stream_records(kinesis, stream)] == [line for line, _, _ in made]
    assert report.sent == report.generated == 1234


def test_ctrl_c_during_a_call_spools_the_unconfirmed_batch_and_the_rest_of_the_chunk(
    kinesis: Any, stream: str, tmp_path: Path
) -> None:
    client = FaultyKinesis(kinesis, call_errors=[KeyboardInterrupt()])
    producer = KinesisProducer(stream, client=client, spool_path=tmp_path / "spool.ndjson")
    with pytest.raises(KeyboardInterrupt):
        producer.put_many(events(700))  # the 500th record fills a batch; the call is interrupted
    report = producer.close()
    assert (report.sent, report.failed, report.spooled) == (0, 700, 700)
    assert [e.line for e in read_spool(tmp_path / "spool.ndjson")] == [line for line, _, _ in events(700)]
    assert stream_records(kinesis, stream) == []
