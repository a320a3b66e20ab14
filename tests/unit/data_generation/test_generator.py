"""The generator in-process: contract, seed probabilities, population, time, counts, reproducibility, faults."""

from __future__ import annotations

import collections
import itertools
import json
import statistics
import time
import uuid
from datetime import datetime, timedelta

import pytest

import config
from config import ConfigError
from data_generation.faults import MALFORMERS, FaultInjector
from data_generation.generator import KEYS, EventGenerator, LiveClock, to_line
from data_generation.report import DUPLICATE, EVENT, LATE, MALFORMED
from data_generation.settings import load_settings, parse_settings
from tests.support.contract import EXTRA_KEYS, FAILED_STATUSES, SEED_KEYS, problems

N = 60_000


@pytest.fixture(scope="module")
def records() -> list[dict]:
    return [json.loads(line) for line, _, _ in itertools.islice(EventGenerator(seed=11, users=1000), N)]


def test_every_event_meets_the_contract_with_seed_keys_first(records: list[dict]) -> None:
    assert KEYS == SEED_KEYS + EXTRA_KEYS
    bad = [(r, p) for r in records[:20_000] if (p := problems(to_line(r)))]
    assert bad == []
    assert all(tuple(r) == KEYS for r in records)


def test_missing_values_are_the_string_null(records: list[dict]) -> None:
    exits = [r for r in records if r["EVENT_2"] == "EXIT_APP"]
    visits = [r for r in records if r["ORDER_TYPE"] == "USER_VISIT"]
    assert exits and visits
    assert {r["EVENT_3"] for r in exits} == {"Null"}
    assert {r["PAYMENT_METHOD"] for r in visits} == {"Null"}


def test_flows_follow_the_seeds_probabilities(records: list[dict]) -> None:
    flows = collections.Counter((r["EVENT_2"], r["EVENT_3"]) for r in records)
    assert flows[("EXIT_APP", "Null")] / N == pytest.approx(1 / 3, abs=0.01)
    assert flows[("HOME", "EXIT_APP")] / N == pytest.approx(1 / 6, abs=0.01)
    assert flows[("HOME", "GO_TO_CATEGORY")] / N == pytest.approx(1 / 2, abs=0.01)
    browsing = [r for r in records if r["EVENT_3"] == "GO_TO_CATEGORY"]
    purchases = [r for r in browsing if r["ORDER_TYPE"] == "PURCHASE"]
    assert len(purchases) / len(browsing) == pytest.approx(0.30, abs=0.01)
    assert all(r["STATUS"] == "COMPLETED" for r in purchases)
    # Every category and payment method occurs, roughly evenly (the seed picks them uniformly).
    categories = collections.Counter(r["EVENT_OUT"] for r in browsing)
    methods = collections.Counter(r["PAYMENT_METHOD"] for r in purchases)
    assert len(categories) == 6 and min(categories.values()) > 0.8 * len(browsing) / 6
    assert len(methods) == 4 and min(methods.values()) > 0.8 * len(purchases) / 4


def test_users_keep_os_city_and_device_and_activity_is_skewed(records: list[dict]) -> None:
    profiles = collections.defaultdict(set)
    for r in records:
        profiles[r["USER_ID"]].add((r["OS_USER"], r["CITY"], r["DEVICE_MODEL"]))
    assert len(profiles) > 900
    assert all(len(p) == 1 for p in profiles.values())
    sessions = sorted(collections.Counter(r["USER_ID"] for r in records).values(), reverse=True)
    top_tenth = sum(sessions[: len(sessions) // 10]) / N
    assert top_tenth > 0.35, "a few heavy users should make much of the traffic"
    assert statistics.median(sessions) < statistics.mean(sessions) / 1.5, "most users should be light"


def test_time_moves_forward_with_a_daily_rhythm(records: list[dict]) -> None:
    times = [r["CREATED_AT"] for r in records]
    assert times == sorted(times)
    assert times[0] == "2024-01-29 00:00:00"  # config simulation.start
    local_hours = collections.Counter((int(t[11:13]) - 6) % 24 for t in times)  # config utc_offset_hours -6
    evening = sum(local_hours[h] for h in (18, 19, 20, 21))
    night = sum(local_hours[h] for h in (2, 3, 4, 5))
    assert evening > 4 * night


def test_a_live_clock_stamps_each_event_with_its_due_time_and_keeps_the_draws() -> None:
    start = 1_800_000_000  # 2027-01-15 08:00:00 UTC
    paced = [json.loads(line) for line, _, _ in itertools.islice(EventGenerator(seed=3, live=LiveClock(start, 4)), 40)]
    due = [time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime(start + k // 4)) for k in range(40)]
    assert [r["CREATED_AT"] for r in paced] == due
    burst = itertools.islice(EventGenerator(seed=3, live=LiveClock(start)), 40)
    assert {json.loads(line)["CREATED_AT"] for line, _, _ in burst} == {due[0]}, "at full speed: the start"
    simulated = [json.loads(line) for line, _, _ in itertools.islice(EventGenerator(seed=3), 40)]
    unstamped = ("CREATED_AT", "EVENT_ID", "HOURLY_PURCHASE_COUNT", "DAILY_PURCHASE_COUNT")
    assert [{k: v for k, v in r.items() if k not in unstamped} for r in paced] == [
        {k: v for k, v in r.items() if k not in unstamped} for r in simulated
    ], "the same users and flows: only the clock differs"


def _recount(lines: list[str]) -> list[tuple[int, int]]:
    """Completed purchases so far in each event's (user, hour) and (user, day), this event included."""
    hourly: collections.Counter = collections.Counter()
    daily: collections.Counter = collections.Counter()
    expected = []
    for line in lines:
        r = json.loads(line)
        hour, day = (r["USER_ID"], r["CREATED_AT"][:13]), (r["USER_ID"], r["CREATED_AT"][:10])
        if r["ORDER_TYPE"] == "PURCHASE" and r["STATUS"] == "COMPLETED":
            hourly[hour] += 1
            daily[day] += 1
        expected.append((hourly[hour], daily[day]))
    return expected


@pytest.mark.parametrize(
    "options", [{}, {"late_rate": 0.2, "widen_values": True}, {"late_rate": 0.2, "live": LiveClock(1_800_000_000, 5)}]
)
def test_purchase_counts_are_the_users_completed_purchases_in_that_hour_and_day(options: dict) -> None:
    lines = [line for line, _, _ in itertools.islice(EventGenerator(seed=5, users=50, **options), 30_000)]
    emitted = [(r["HOURLY_PURCHASE_COUNT"], r["DAILY_PURCHASE_COUNT"]) for r in map(json.loads, lines)]
    assert emitted == _recount(lines)
    assert max(h for h, _ in emitted) >= 3 and max(d for _, d in emitted) >= 10, "counts should get past 1"


def test_same_inputs_same_events_other_inputs_other_ids() -> None:
    def lines(**kwargs: object) -> list[str]:
        return [line for line, _, _ in itertools.islice(EventGenerator(**kwargs), 5000)]  # type: ignore[arg-type]

    first = lines(seed=3)
    assert first == lines(seed=3)
    ids = {json.loads(line)["EVENT_ID"] for line in first}
    assert len(ids) == 5000
    for other in (lines(seed=4), lines(seed=3, users=999), lines(seed=3, late_rate=0.1)):
        assert ids.isdisjoint(json.loads(line)["EVENT_ID"] for line in other)


def test_event_ids_are_unique_uuid4s_across_many_blocks() -> None:
    ids = [json.loads(line)["EVENT_ID"] for line, _, _ in itertools.islice(EventGenerator(seed=1, users=10), 50_000)]
    assert len(set(ids)) == len(ids)
    assert all(uuid.UUID(i).version == 4 and uuid.UUID(i).variant == uuid.RFC_4122 for i in ids[:5000])


def test_the_general_serialiser_gives_the_generators_bytes() -> None:
    generator = EventGenerator(seed=9, users=200, late_rate=0.3, widen_values=True)
    for line, user_id, _ in itertools.islice(generator, 5000):
        record = json.loads(line)
        assert to_line(record) == line
        assert record["USER_ID"] == user_id


def test_widened_values_add_failed_purchases_that_do_not_count() -> None:
    generator = EventGenerator(seed=2, users=100, widen_values=True)
    records = [json.loads(line) for line, _, _ in itertools.islice(generator, 20_000)]
    failed = [r for r in records if r["ORDER_TYPE"] == "PURCHASE" and r["STATUS"] != "COMPLETED"]
    assert {r["STATUS"] for r in failed} == FAILED_STATUSES
    assert all(not problems(to_line(r), widened=True) for r in failed)
    assert any(problems(to_line(r)) for r in failed[:1]), "outside the seed's own value sets"
    completed = sum(r["STATUS"] == "COMPLETED" for r in records)
    assert len(failed) / (len(failed) + completed) == pytest.approx(0.1, abs=0.02)
    plain = [json.loads(line) for line, _, _ in itertools.islice(EventGenerator(seed=2, users=100), 20_000)]
    assert {r["STATUS"] for r in plain} == {"COMPLETED", "UNCONVERTED"}


def test_late_events_are_valid_and_hours_or_days_behind() -> None:
    events = list(itertools.islice(EventGenerator(seed=4, users=300, late_rate=0.1), 20_000))
    late = [i for i, (_, _, kind) in enumerate(events) if kind == LATE]
    assert {kind for _, _, kind in events} == {EVENT, LATE}
    assert len(late) / len(events) == pytest.approx(0.1, abs=0.01)
    # A late event is stamped at least an hour before its place in the stream, so before the next on-time one.
    behind = []
    waiting: list[datetime] = []
    for line, _, kind in events:
        assert not problems(line)
        created = datetime.fromisoformat(json.loads(line)["CREATED_AT"])
        if kind == LATE:
            waiting.append(created)
        else:
            behind += [created - stamp for stamp in waiting]
            waiting = []
    assert min(behind) >= timedelta(hours=1)
    assert max(behind) <= timedelta(days=load_settings().late_max_days + 2)
    assert sum(b > timedelta(days=1) for b in behind) > len(behind) / 4, "some days back, not only hours"


def test_faults_add_identical_duplicates_and_unique_malformed_records_of_every_kind() -> None:
    generator = EventGenerator(seed=6, users=100)
    faults = FaultInjector(6, generator.namespace, duplicate_rate=0.2, malformed_rate=0.2)
    events = itertools.islice(generator, 5000)
    valid: dict[str, str] = {}
    out = []
    for chunk in iter(lambda: list(itertools.islice(events, 100)), []):
        for line, key, kind in faults.apply(chunk):
            out.append((line, kind))
            if kind in (EVENT, LATE):
                valid[json.loads(line)["EVENT_ID"]] = line
                faults.delivered(line, key, kind)
    assert len(valid) == 5000
    duplicates = [line for line, kind in out if kind == DUPLICATE]
    malformed = [(line, kind) for line, kind in out if kind.startswith(MALFORMED)]
    assert len(duplicates) / 5000 == pytest.approx(0.2, abs=0.03)
    assert all(valid.get(json.loads(line)["EVENT_ID"]) == line for line in duplicates)
    assert len(malformed) / 5000 == pytest.approx(0.2, abs=0.03)
    assert {kind[len(MALFORMED) :] for _, kind in malformed} == set(MALFORMERS)
    assert all(problems(line) for line, _ in malformed), "every malformed record breaks the contract"
    assert len({line for line, _ in malformed}) == len(malformed), "each malformed record is distinct"
    objects = [record for record in map(_parsed, (line for line, _ in malformed)) if isinstance(record, dict)]
    malformed_ids = {record["EVENT_ID"] for record in objects}
    assert len(malformed_ids) == len(objects) and not malformed_ids & set(valid)


def _parsed(line: str) -> object:
    try:
        return json.loads(line)
    except json.JSONDecodeError:
        return None


@pytest.mark.parametrize(
    ("path", "value", "message"),
    [
        (("city_coords", "Puebla"), [19.0, 200.0], "field 'city_coords.Puebla': latitude must be in"),
        (("second_event",), ["HOME", "BACK"], "field 'second_event': must hold exactly HOME and EXIT_APP"),
        (("purchase_probability",), 1.5, "field 'purchase_probability': must be a probability"),
        (("simulation", "local_hour_weights"), [1.0] * 23, "local_hour_weights': must be 24 positive numbers"),
        (("simulation", "start"), "29/01/2024", "simulation.start"),
        (("os",), [], "field 'os': must be a non-empty list"),
    ],
)
def test_config_errors_name_the_file_and_field(path: tuple[str, ...], value: object, message: str) -> None:
    raw = config.load("generator")
    target = raw
    for key in path[:-1]:
        target = target[key]
    target[path[-1]] = value
    with pytest.raises(ConfigError, match=r"config/generator\.json") as error:
        parse_settings(raw)
    assert message in str(error.value)
