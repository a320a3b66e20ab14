"""Deliberate bad input for the pipeline's defences: re-sent events and malformed records.

After each valid event, with the given probabilities, the injector adds a duplicate (a byte-identical
re-send of an event already delivered, so the same EVENT_ID and content) and a malformed record. Late
events are not made here: a late event is valid, so its purchase counts must be counted into its own
past hour, which only the generator can do (``EventGenerator(late_rate=...)``).

Every malformed record is unique (it carries an EVENT_ID of its own id space, never a valid event's),
so a warehouse that quarantines each distinct bad record once sees exactly as many as were sent.
Duplicates are drawn only from events whose delivery was confirmed, so "distinct valid events
delivered" is exactly the number of originals delivered, however many re-sends also got through.
Which delivered event a duplicate repeats depends on when deliveries are confirmed, so those picks use
random draws of their own: every other decision, and every malformed record, is the same on a re-run.
"""

from __future__ import annotations

import json
import random
from collections.abc import Callable

from data_generation.generator import to_line
from data_generation.ids import uuid_sequence
from data_generation.report import DUPLICATE, EVENT, LATE, MALFORMED
from data_generation.shares import Share
from data_generation.sinks import Record

_POOL_SIZE = 1024


def _broken_json(record: dict, rng: random.Random) -> str:
    # A truncated object or a Python repr (single quotes): both start with "{" and neither parses.
    return to_line(record)[:-1] if rng.random() < 0.5 else str(record)


def _json_array(record: dict, rng: random.Random) -> str:
    return json.dumps([record], separators=(",", ":"))  # valid JSON, but not an object


def _json_scalar(record: dict, rng: random.Random) -> str:
    return json.dumps(record["EVENT_ID"])


def _missing_user_id(record: dict, rng: random.Random) -> str:
    del record["USER_ID"]
    return to_line(record)


def _bad_user_id(record: dict, rng: random.Random) -> str:
    user_id = record["USER_ID"]
    record["USER_ID"] = rng.choice([user_id[:7], user_id + "0", "zz" + user_id[2:], user_id.upper() + "X"])
    return to_line(record)


def _bad_created_at(record: dict, rng: random.Random) -> str:
    record["CREATED_AT"] = rng.choice(["2024-13-45 25:61:61", "yesterday", "", "29/01/2024 19:39:42", 1706557182])
    return to_line(record)


def _coordinates_out_of_range(record: dict, rng: random.Random) -> str:
    sign = rng.choice((-1, 1))
    if rng.random() < 0.5:
        record["LATITUDE"] = sign * round(90.0001 + rng.random() * 89, 4)
    else:
        record["LONGITUDE"] = sign * round(180.0001 + rng.random() * 179, 4)
    return to_line(record)


# Values outside the closed sets of the fields that decide what a purchase is. Descriptive fields (city,
# OS, payment method, ...) are open: a new value there is a valid event that loads as drift, not a fault.
_UNKNOWN_VALUES = {
    "ORDER_TYPE": ["REFUND", "SUBSCRIPTION", "purchase"],
    "STATUS": ["LOST", "completed"],
}


def _unknown_enum(record: dict, rng: random.Random) -> str:
    field = rng.choice(list(_UNKNOWN_VALUES))
    record[field] = rng.choice(_UNKNOWN_VALUES[field])
    return to_line(record)


def _negative_count(record: dict, rng: random.Random) -> str:
    key = rng.choice(("HOURLY_PURCHASE_COUNT", "DAILY_PURCHASE_COUNT"))
    record[key] = -rng.randint(1, 5)
    return to_line(record)


MALFORMERS: dict[str, Callable[[dict, random.Random], str]] = {
    "broken_json": _broken_json,
    "json_array": _json_array,
    "json_scalar": _json_scalar,
    "missing_user_id": _missing_user_id,
    "bad_user_id": _bad_user_id,
    "bad_created_at": _bad_created_at,
    "coordinates_out_of_range": _coordinates_out_of_range,
    "unknown_enum": _unknown_enum,
    "negative_count": _negative_count,
}


class FaultInjector:
    """Decides, after each valid event, whether to add a duplicate and/or a malformed record."""

    def __init__(
        self,
        seed: int,
        namespace: bytes,
        duplicate_rate: float = 0.0,
        malformed_rate: float = 0.0,
        share: Share | None = None,
    ) -> None:
        for name, rate in (("duplicate_rate", duplicate_rate), ("malformed_rate", malformed_rate)):
            if not 0 <= rate <= 1:
                raise ValueError(f"{name} must be a probability between 0 and 1, got {rate}")
        share = share or Share()
        self.duplicate_rate = duplicate_rate
        self.malformed_rate = malformed_rate
        self._rng = random.Random(f"faults:{seed}{share.seed_suffix}")
        self._picks = random.Random(f"duplicates:{seed}{share.seed_suffix}")
        self._malformed_ids = uuid_sequence(namespace + b"|malformed", share.index, share.count)
        self._kinds = list(MALFORMERS)
        self._delivered: list[tuple[str, str]] = []

    def delivered(self, line: str, key: str, kind: str) -> None:
        """Sink callback: remember confirmed originals (a bounded, randomly refreshed sample) to re-send."""
        if kind not in (EVENT, LATE):
            return
        if len(self._delivered) < _POOL_SIZE:
            self._delivered.append((line, key))
        else:
            self._delivered[self._picks.randrange(_POOL_SIZE)] = (line, key)

    def apply(self, events: list[Record]) -> list[Record]:
        """The chunk of valid events with each one's injected records right after it."""
        out: list[Record] = []
        for event in events:
            out.append(event)
            out.extend(self._after(event[0], event[1]))
        return out

    def _after(self, line: str, key: str) -> list[Record]:
        extra = []
        rng = self._rng
        if self.duplicate_rate and rng.random() < self.duplicate_rate and self._delivered:
            old_line, old_key = self._delivered[self._picks.randrange(len(self._delivered))]
            extra.append((old_line, old_key, DUPLICATE))
        if self.malformed_rate and rng.random() < self.malformed_rate:
            kind = rng.choice(self._kinds)
            record = json.loads(line)
            record["EVENT_ID"] = next(self._malformed_ids)
            extra.append((MALFORMERS[kind](record, rng), key, MALFORMED + kind))
        return extra
