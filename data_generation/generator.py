"""Seed-shaped mobile-app session events, reproducible from a seed and fast enough to saturate a stream.

Each event is one session as the seed records it: LAUNCH_APP, then the seed's flows with the seed's
probabilities, the user's fixed OS/city/coordinates, an outcome, a UTC ``CREATED_AT`` and the user's
completed-purchase counts for that hour and day. After the 15 seed keys come ``EVENT_ID`` (unique,
derived from the run's inputs) and ``DEVICE_MODEL`` (from the seed's phone_models, which it never emitted).

Time is simulated by default: sessions arrive as a Poisson process whose rate follows a daily rhythm in
local time, from config simulation.start (the seed's dates), and each session belongs to a user drawn by
activity weight. With a ``LiveClock`` events carry the current time instead: event k is stamped with the
time it is due, ``start + k / rate``, so a paced run keeps within a second of the wall clock, a run at
full speed stamps the time it started, and a re-run with the same inputs (a retried task) makes the
same bytes. The random draws are the same either way: the same users, flows and outcomes, at other times
(so with other purchase counts) and under other ids. HOURLY/DAILY_PURCHASE_COUNT are running
counts of that user's completed purchases in the event's UTC hour/day, this event included, so the last
purchase of a user-hour carries that hour's total. Late events (CREATED_AT moved hours or days back) count
into their own past hour/day, which is why recent buckets are kept for the late window.

Speed: the serialised line is assembled from JSON fragments prepared once per flow, outcome and
(OS, city) pair; ``json.dumps`` per event would alone cost more than the whole budget. ``to_line`` is
the general serialiser and yields the same bytes for any record this module makes.
"""

from __future__ import annotations

import bisect
import json
import math
import random
import time
from collections.abc import Iterator
from dataclasses import dataclass
from functools import partial
from typing import Any

from data_generation.ids import BLOCK, UuidBlocks
from data_generation.population import NULL, Population
from data_generation.report import EVENT, LATE
from data_generation.settings import (
    CREATED_AT_FORMAT,
    EXIT_APP,
    GO_TO_CATEGORY,
    HOME,
    GeneratorSettings,
    load_settings,
)
from data_generation.shares import Share

SEED_KEYS = (
    "USER_ID",
    "INITIAL_EVENT",
    "EVENT_2",
    "EVENT_3",
    "EVENT_OUT",
    "OS_USER",
    "CITY",
    "LATITUDE",
    "LONGITUDE",
    "ORDER_TYPE",
    "STATUS",
    "PAYMENT_METHOD",
    "CREATED_AT",
    "HOURLY_PURCHASE_COUNT",
    "DAILY_PURCHASE_COUNT",
)
EXTRA_KEYS = ("EVENT_ID", "DEVICE_MODEL")
KEYS = SEED_KEYS + EXTRA_KEYS

PURCHASE = "PURCHASE"
USER_VISIT = "USER_VISIT"
COMPLETED = "COMPLETED"
UNCONVERTED = "UNCONVERTED"

_dumps = partial(json.dumps, separators=(",", ":"))
# "MM:SS" for every second of an hour, so CREATED_AT costs one concatenation per event.
_MINUTE_SECOND = [f"{s // 60:02d}:{s % 60:02d}" for s in range(3600)]


# One generated session: (NDJSON line without newline, USER_ID as partition key, kind: EVENT, or LATE when
# CREATED_AT was moved back). A plain tuple: building a NamedTuple per event costs a tenth of the throughput.
Event = tuple[str, str, str]


@dataclass(frozen=True)
class LiveClock:
    """Current-time stamps: event k is due at ``start + k / rate`` (epoch seconds; rate 0: all at ``start``)."""

    start: int
    rate: float = 0.0

    def __post_init__(self) -> None:
        if not self.rate >= 0 or self.rate == float("inf"):
            raise ValueError(f"live rate must be a number >= 0, got {self.rate}")


def to_line(record: dict[str, Any]) -> str:
    """The NDJSON line (without newline) of any record: compact JSON in the record's key order.

    For the generator's own records this is byte-for-byte the line it assembled from fragments.
    """
    return _dumps(record)


def _fragment(pairs: dict[str, Any]) -> str:
    """``"K1":v1,"K2":v2`` exactly as ``to_line`` writes those pairs inside an object."""
    return _dumps(pairs)[1:-1]


class EventGenerator:
    """An endless, reproducible stream of events. Iterating a generator twice yields the same events."""

    def __init__(
        self,
        settings: GeneratorSettings | None = None,
        *,
        seed: int = 0,
        users: int = 1000,
        late_rate: float = 0.0,
        widen_values: bool = False,
        start_epoch: int | None = None,
        live: LiveClock | None = None,
        share: Share | None = None,
    ) -> None:
        self.settings = settings = settings or load_settings()
        if not 0 <= late_rate <= 1:
            raise ValueError(f"late_rate must be a probability between 0 and 1, got {late_rate}")
        self.seed = seed
        self.late_rate = late_rate
        self.widen_values = widen_values
        self.start_epoch = settings.start_epoch if start_epoch is None else start_epoch
        self.live = live
        self.share = share = share or Share()
        everyone = Population.build(settings, users, seed)
        self.population = everyone if share.count == 1 else Population([everyone.users[u] for u in share.users(users)])
        # Everything that shapes the events names their id space: same inputs, same ids; else unrelated ids.
        # All producers of a run share it (not their index): they take disjoint id blocks of it instead.
        shaping: dict[str, Any] = {
            "seed": seed,
            "users": users,
            "late_rate": late_rate,
            "widen_values": widen_values,
            "start": self.start_epoch,
            "settings": settings.event_shaping_values(),
        }
        if live is not None:
            shaping["live"] = [live.start, live.rate]
        if share.count > 1:
            shaping["producers"] = share.count
        self.namespace = _dumps(shaping, sort_keys=True).encode()

        # (EVENT_2, EVENT_3, EVENT_OUT) per flow and (ORDER_TYPE, STATUS, PAYMENT_METHOD) per outcome.
        flows = [(EXIT_APP, NULL, settings.initial_event), (HOME, EXIT_APP, HOME)]
        flows += [(HOME, GO_TO_CATEGORY, category) for category in settings.categories]
        outcomes = [(USER_VISIT, UNCONVERTED, NULL)]
        outcomes += [(PURCHASE, COMPLETED, method) for method in settings.payment_methods]
        outcomes += [
            (PURCHASE, status, method) for status in settings.failed_statuses for method in settings.payment_methods
        ]
        self._flow_fragments = [
            _fragment({"INITIAL_EVENT": settings.initial_event, "EVENT_2": a, "EVENT_3": b, "EVENT_OUT": c}) + ","
            for a, b, c in flows
        ]
        self._outcome_fragments = [
            _fragment({"ORDER_TYPE": a, "STATUS": b, "PAYMENT_METHOD": c}) + "," for a, b, c in outcomes
        ]
        geo: dict[tuple[str, str], str] = {}
        tails: dict[str, str] = {}
        self._user_fragments = []
        for user in self.population.users:
            key = (user.os, user.city)
            if key not in geo:
                lat, lon = settings.city_coords[user.city]
                geo[key] = _fragment({"OS_USER": user.os, "CITY": user.city, "LATITUDE": lat, "LONGITUDE": lon}) + ","
            if user.device_model not in tails:
                tails[user.device_model] = "," + _fragment({"DEVICE_MODEL": user.device_model})
            self._user_fragments.append((geo[key], tails[user.device_model]))

    def __iter__(self) -> Iterator[Event]:
        """Generate events forever. One flat loop with locals only: every attribute lookup here costs throughput."""
        s = self.settings
        suffix = self.share.seed_suffix
        rng = random.Random(f"events:{self.seed}{suffix}")
        late_rng = random.Random(f"late:{self.seed}{suffix}")
        rand, late_rand, late_randint = rng.random, late_rng.random, late_rng.randint
        log, bisect_right, gmtime, strftime = math.log, bisect.bisect_right, time.gmtime, time.strftime
        ids = UuidBlocks(self.namespace)
        id_heads, id_endings, id_middle = ids.heads, ids.endings, ids.middle
        id_stride = self.share.count
        id_block, id_index = self.share.index, 0
        middle = id_middle(id_block)
        flow_fragments, outcome_fragments = self._flow_fragments, self._outcome_fragments
        user_fragments = self._user_fragments
        user_ids = [user.user_id for user in self.population.users]
        cumulative = self.population.cumulative
        total, last_user = cumulative[-1], len(user_ids) - 1
        p_exit_2 = s.exit_at_second_probability
        p_exit_3 = p_exit_2 + (1 - p_exit_2) * s.exit_at_third_probability
        n_categories, n_methods, n_failed = len(s.categories), len(s.payment_methods), len(s.failed_statuses)
        p_purchase = s.purchase_probability
        category_scale = n_categories / (1 - p_exit_3) if p_exit_3 < 1 else 0.0
        method_scale = n_methods / p_purchase if p_purchase else 0.0
        last_category, last_method = n_categories - 1, n_methods - 1
        p_failed = s.failed_purchase_probability if self.widen_values else 0.0
        first_failed_outcome = 1 + n_methods
        late_rate, late_max_days = self.late_rate, s.late_max_days
        utc_offset = s.utc_offset_hours
        # Mean seconds between sessions in each local hour: the population's daily sessions spread by weight.
        mean_weight = sum(s.local_hour_weights) / 24
        per_second = len(user_ids) * s.sessions_per_user_per_day / 86400
        mean_gap = [mean_weight / (per_second * w) for w in s.local_hour_weights]
        # Completed purchases per {hour or day index: {user: n}}, kept as far back as a late event can reach.
        keep_hours = (late_max_days + 1) * 24 + 1 if late_rate else 0
        hour_buckets: dict[int, dict[int, int]] = {}
        day_buckets: dict[int, dict[int, int]] = {}

        clock = float(self.start_epoch)
        live, live_start, live_step, n = self.live is not None, 0, 0.0, 0
        if self.live is not None:
            live_start = self.live.start
            live_step = 1 / self.live.rate if self.live.rate else 0.0
        next_hour = hour_start = -1
        prefix = ""
        gap = 0.0
        hourly: dict[int, int] = {}
        daily: dict[int, int] = {}
        while True:
            u = bisect_right(cumulative, rand() * total)
            if u > last_user:  # rand() * total can round up to total itself
                u = last_user
            wait = -log(1.0 - rand())  # drawn in both modes: the same draws, whichever clock stamps them
            if live:
                t = live_start + int(n * live_step)
                n += 1
            else:
                clock += wait * gap
                t = int(clock)
            if t >= next_hour:
                hour = t // 3600
                hour_start, next_hour = hour * 3600, hour * 3600 + 3600
                prefix = strftime("%Y-%m-%d %H:", gmtime(hour_start))
                gap = mean_gap[(hour + utc_offset) % 24]
                hourly = hour_buckets.setdefault(hour, {})
                daily = day_buckets.setdefault(hour // 24, {})
                for old in [h for h in hour_buckets if h < hour - keep_hours]:
                    del hour_buckets[old]
                for old in [d for d in day_buckets if d < (hour - keep_hours) // 24]:
                    del day_buckets[old]
            # A uniform draw that falls in a band, rescaled to the band, is a fresh uniform: one draw decides
            # both the branch and the choice inside it (category; payment method).
            r = rand()
            completed = False
            if r < p_exit_2:
                flow = outcome = 0
            elif r < p_exit_3:
                flow, outcome = 1, 0
            else:
                flow, outcome = 2 + min(int((r - p_exit_3) * category_scale), last_category), 0
                v = rand()
                if v < p_purchase:
                    method = min(int(v * method_scale), last_method)  # rounding can reach the top
                    if p_failed and rand() < p_failed:
                        outcome = first_failed_outcome + int(rand() * n_failed) * n_methods + method
                    else:
                        outcome, completed = 1 + method, True
            if late_rate and late_rand() < late_rate:
                kind = LATE
                if late_rand() < 0.5:
                    back = late_randint(1, 23) * 3600 + late_randint(0, 3599)
                else:
                    back = late_randint(1, late_max_days) * 86400 + late_randint(0, 86399)
                when = t - back
                created_at = strftime(CREATED_AT_FORMAT, gmtime(when))
                hour_counts = hour_buckets.setdefault(when // 3600, {})
                day_counts = day_buckets.setdefault(when // 86400, {})
            else:
                kind = EVENT
                created_at = prefix + _MINUTE_SECOND[t - hour_start]
                hour_counts, day_counts = hourly, daily
            if completed:
                h = hour_counts[u] = hour_counts.get(u, 0) + 1
                d = day_counts[u] = day_counts.get(u, 0) + 1
            else:
                h = hour_counts.get(u, 0)
                d = day_counts.get(u, 0)
            if id_index == BLOCK:
                id_block, id_index = id_block + id_stride, 0
                middle = id_middle(id_block)
            user_id = user_ids[u]
            geo, tail = user_fragments[u]
            line = (
                f'{{"USER_ID":"{user_id}",{flow_fragments[flow]}{geo}{outcome_fragments[outcome]}'
                f'"CREATED_AT":"{created_at}","HOURLY_PURCHASE_COUNT":{h},"DAILY_PURCHASE_COUNT":{d},'
                f'"EVENT_ID":"{id_heads[id_index]}{middle}{id_endings[id_index]}"{tail}}}'
            )
            id_index += 1
            yield line, user_id, kind
