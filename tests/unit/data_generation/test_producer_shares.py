"""Producers of one simulation: disjoint ids and users, split shares, summed reports and progress."""

from __future__ import annotations

import itertools
import json
import re
from typing import Any

import pytest

from data_generation.faults import FaultInjector
from data_generation.generator import EventGenerator
from data_generation.ids import BLOCK, UuidBlocks
from data_generation.report import sum_reports
from data_generation.shares import Share

UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}")


def _events(generator: EventGenerator, n: int) -> list[dict]:
    return [json.loads(line) for line, _, _ in itertools.islice(generator, n)]


@pytest.mark.parametrize("producers", [2, 3, 4])
def test_producers_of_one_run_have_disjoint_users_and_event_ids(producers: int) -> None:
    shares = [EventGenerator(seed=9, users=200, share=Share(i, producers)) for i in range(producers)]
    records = [_events(generator, 3 * BLOCK) for generator in shares]  # several id blocks each
    users = [{r["USER_ID"] for r in part} for part in records]
    ids = [[r["EVENT_ID"] for r in part] for part in records]
    assert all(len(set(part)) == len(part) for part in ids)
    for a, b in itertools.combinations(range(producers), 2):
        assert users[a].isdisjoint(users[b]) and set(ids[a]).isdisjoint(ids[b])
    # By construction, not by luck: one namespace, and producer i holds blocks i, i + N, i + 2N, ...
    assert len({generator.namespace for generator in shares}) == 1
    blocks = UuidBlocks(shares[0].namespace)
    for index, part in enumerate(ids):
        assert {event_id[-12:-3] for event_id in part} == {blocks.middle(index + producers * j) for j in range(3)}
    # Together they are the whole population, each user in exactly one producer.
    everyone = {user.user_id for user in EventGenerator(seed=9, users=200).population.users}
    assert set().union(*(set(u.user_id for u in g.population.users) for g in shares)) == everyone
    assert sum(len(g.population.users) for g in shares) == 200


def test_each_producer_draws_its_own_events_and_one_producer_is_the_whole_run() -> None:
    first, second = (_events(EventGenerator(seed=4, users=50, share=Share(i, 2)), 300) for i in range(2))
    shapes = [[(r["EVENT_2"], r["EVENT_3"], r["ORDER_TYPE"]) for r in part] for part in (first, second)]
    assert shapes[0] != shapes[1], "the producers' random draws are their own"
    assert _events(EventGenerator(seed=4, users=50, share=Share(0, 1)), 500) == _events(
        EventGenerator(seed=4, users=50), 500
    )


def test_malformed_records_of_different_producers_never_share_an_id() -> None:
    def malformed_ids(index: int) -> set[str]:
        generator = EventGenerator(seed=2, users=20, share=Share(index, 3))
        faults = FaultInjector(2, generator.namespace, malformed_rate=1.0, share=Share(index, 3))
        chunk = faults.apply(list(itertools.islice(generator, 2 * BLOCK)))
        return {UUID.search(line).group() for line, _, kind in chunk if kind.startswith("malformed:")}  # type: ignore[union-attr]

    parts = [malformed_ids(i) for i in range(3)]
    assert all(len(part) == 2 * BLOCK for part in parts)
    assert not (parts[0] & parts[1] or parts[0] & parts[2] or parts[1] & parts[2])


@pytest.mark.parametrize(
    ("share", "events", "rate", "expected"),
    [(Share(0, 3), 10, 9.0, (4, 3.0)), (Share(2, 3), 10, 9.0, (3, 3.0)), (Share(1, 4), None, 0.0, (None, 0.0))],
)
def test_events_and_rate_are_split_among_the_producers(
    share: Share, events: int | None, rate: float, expected: tuple
) -> None:
    assert (share.events(events), share.rate(rate)) == expected
    assert sum(Share(i, 3).events(10) or 0 for i in range(3)) == 10


def test_shares_refuse_impossible_splits() -> None:
    with pytest.raises(ValueError, match="between 1 and 64"):
        Share(0, 65)
    with pytest.raises(ValueError, match="producer index"):
        Share(3, 3)
    with pytest.raises(ValueError, match="3 producers need at least 3 users"):
        EventGenerator(users=2, share=Share(0, 3))


def _report(**counts: Any) -> dict[str, Any]:
    base = {
        "generated": 0,
        "sent": 0,
        "unique_events": 0,
        "duplicates": 0,
        "malformed": 0,
        "late": 0,
        "retried": 0,
        "failed": 0,
        "spooled": 0,
        "seconds": 1.0,
        "bytes": 0,
        "malformed_kinds": {},
        "interrupted": False,
        "spool_path": None,
        "torn": 0,
        "error": None,
        "seed": 5,
        "sink": "kinesis",
        "target": "s",
        "exit_code": 0,
    }
    return {**base, **counts}


def test_the_run_report_is_the_sum_of_the_producers_reports() -> None:
    parts = [
        _report(generated=12, sent=12, unique_events=10, duplicates=1, malformed=1, late=2, bytes=1200, seconds=2.0,
                malformed_kinds={"json_array": 1}, producer=0),
        _report(generated=9, sent=7, unique_events=7, retried=4, failed=2, spooled=2, bytes=700, seconds=4.0,
                spool_path="/s/p1.ndjson", error="boom", exit_code=1, producer=1),
        _report(generated=5, sent=5, unique_events=4, malformed=1, bytes=500, malformed_kinds={"json_array": 1},
                interrupted=True, exit_code=130, producer=2, target="other"),
    ]  # fmt: skip
    total = sum_reports(parts)
    assert {k: total[k] for k in ("generated", "sent", "unique_events", "duplicates", "malformed", "late")} == {
        "generated": 26,
        "sent": 24,
        "unique_events": 21,
        "duplicates": 1,
        "malformed": 2,
        "late": 2,
    }
    assert (total["retried"], total["failed"], total["spooled"], total["bytes"]) == (4, 2, 2, 2400)
    assert total["seconds"] == 4.0 and total["events_per_second"] == 6.0, "the slowest producer sets the time"
    assert total["malformed_kinds"] == {"json_array": 2}
    assert total["spool_paths"] == ["/s/p1.ndjson"] and total["spool_path"] == "/s/p1.ndjson"
    assert total["error"] == "producer 1: boom" and total["interrupted"] is True
    assert total["exit_code"] == 1, "undelivered records outrank an interruption"
    assert total["producers"] == 3 and total["parts"] == parts
    assert total["seed"] == 5 and "target" not in total, "only what all producers share is kept"
    assert sum_reports(parts[2:])["exit_code"] == 130
    with pytest.raises(ValueError, match="no producer reports"):
        sum_reports([])


def test_the_progress_shown_adds_up_every_producers_counts() -> None:
    import multiprocessing

    from data_generation.fanout import SharedProgress, totals

    counts = multiprocessing.get_context("spawn").Array("q", 2 * 3)
    first, third = SharedProgress(counts, 0), SharedProgress(counts, 2)
    first.update(300, 250, 1.0)
    third.update(120, 100, 1.0)
    first.finish(500, 400, 2.0)
    assert totals(counts) == (620, 500)


def test_producers_sharing_a_stream_each_keep_to_their_part_of_its_capacity() -> None:
    from data_generation.throttle import SHARD_BYTES_PER_SECOND, SHARD_RECORDS_PER_SECOND, ShardLimit

    alone, shared = ShardLimit(4), ShardLimit(4, producers=2)
    assert (alone.records.rate, alone.bytes.rate) == (4 * SHARD_RECORDS_PER_SECOND, 4 * SHARD_BYTES_PER_SECOND)
    assert (shared.records.rate, shared.bytes.rate) == (2 * SHARD_RECORDS_PER_SECOND, 2 * SHARD_BYTES_PER_SECOND)
    with pytest.raises(ValueError, match="at least one producer"):
        ShardLimit(4, producers=0)


def test_the_demos_conservation_line_reads_a_summed_report_as_it_reads_one() -> None:
    from local_stack.demo import reconcile

    parts = [_report(unique_events=10, malformed=1), _report(unique_events=7, malformed=2)]
    counts = {"analytics.orders": 17, "raw.rejected_events": 3}
    assert reconcile(sum_reports(parts), counts, distinct_orders=17)[:2] == (0, 0)
    assert reconcile(sum_reports(parts), {**counts, "analytics.orders": 16}, distinct_orders=16)[:2] == (1, 0)
