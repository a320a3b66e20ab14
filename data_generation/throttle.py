"""Keeping to a rate: a steady event rate for the CLI, and a stream's shard capacity for the producer.

Kinesis accepts 1,000 records/s and 1 MiB/s per shard and answers anything beyond with throttling
errors; a client that stays under the limit spends its retry budget on real failures instead.
"""

from __future__ import annotations

import time
from collections.abc import Callable

SHARD_RECORDS_PER_SECOND = 1000
SHARD_BYTES_PER_SECOND = 1024 * 1024


class TokenBucket:
    """``rate`` units per second on average, in bursts of up to one second's worth.

    ``take`` may overdraw (a 5 MiB batch against a 1 MiB/s bucket); the debt is repaid by waiting, so the
    average holds whatever the request sizes.
    """

    def __init__(self, rate: float) -> None:
        if rate <= 0:
            raise ValueError(f"rate must be positive, got {rate}")
        self.rate = rate
        self._tokens = rate
        self._updated = time.monotonic()

    def take(self, amount: float) -> float:
        """Spend ``amount``; return the seconds to wait before acting on it."""
        now = time.monotonic()
        self._tokens = min(self.rate, self._tokens + (now - self._updated) * self.rate) - amount
        self._updated = now
        return max(0.0, -self._tokens / self.rate)


class ShardLimit:
    """Client-side cap at a stream's write capacity, 1,000 records/s and 1 MiB/s per shard, or at an equal
    part of it when ``producers`` producers write to the stream at once."""

    def __init__(self, shards: int, producers: int = 1) -> None:
        if shards < 1:
            raise ValueError(f"a stream has at least one shard, got {shards}")
        if producers < 1:
            raise ValueError(f"at least one producer writes, got {producers}")
        self.shards = shards
        self.records = TokenBucket(SHARD_RECORDS_PER_SECOND * shards / producers)
        self.bytes = TokenBucket(SHARD_BYTES_PER_SECOND * shards / producers)

    def acquire(self, records: int, size: int) -> None:
        """Block until a request of ``records`` records totalling ``size`` bytes fits the capacity."""
        delay = max(self.records.take(records), self.bytes.take(size))
        if delay:
            time.sleep(delay)


class Pacer:
    """A steady ``rate`` of records per second: record i is due at start + i / rate.

    Falling behind (a slow sink, retries) is caught up at full speed, but by at most one second's worth of
    records, so a long stall does not end in a burst the stream would throttle.
    """

    def __init__(self, rate: float) -> None:
        if rate <= 0:
            raise ValueError(f"rate must be positive, got {rate}")
        self.rate = rate
        self._start = time.monotonic()

    def wait(self, count: int, idle: Callable[[], None], stop: Callable[[], bool]) -> None:
        """Sleep until record ``count`` is due, calling ``idle`` meanwhile; return early once ``stop()``."""
        due = self._start + count / self.rate
        now = time.monotonic()
        if now - due > 1.0:
            self._start += now - due - 1.0
        while (remaining := due - time.monotonic()) > 0 and not stop():
            idle()
            time.sleep(min(remaining, 0.05))
