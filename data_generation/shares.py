"""One producer's share of a run fanned out over N producers: its users, seed, id blocks, events and rate.

All producers of a run build the same population and the same event-id namespace from the run's seed;
producer ``index`` of ``count`` then takes every ``count``-th user and every ``count``-th id block,
starting at its index. So user ids and event ids never collide between producers by construction
(``ids`` explains why distinct blocks of one namespace give distinct ids), and every producer's
partition keys (its users' ids) spread over all shards. Its random draws come from seeds of its own.
A share of one (the default) is the whole run, exactly as a single producer makes it.
"""

from __future__ import annotations

from dataclasses import dataclass

MAX_PRODUCERS = 64


@dataclass(frozen=True)
class Share:
    """Producer ``index`` (0-based) of ``count`` producers of one run."""

    index: int = 0
    count: int = 1

    def __post_init__(self) -> None:
        if not 1 <= self.count <= MAX_PRODUCERS:
            raise ValueError(f"producers must be between 1 and {MAX_PRODUCERS}, got {self.count}")
        if not 0 <= self.index < self.count:
            raise ValueError(f"producer index must be in [0, {self.count}), got {self.index}")

    @property
    def seed_suffix(self) -> str:
        """Appended to the run's seed strings: this producer's own random streams (none for a single producer)."""
        return "" if self.count == 1 else f":producer-{self.index}-of-{self.count}"

    def events(self, total: int | None) -> int | None:
        """This producer's part of ``total`` events (the first ``total % count`` producers send one more)."""
        if total is None:
            return None
        return total // self.count + (1 if self.index < total % self.count else 0)

    def rate(self, total: float) -> float:
        """This producer's part of a total rate in events per second (0, as fast as possible, stays 0)."""
        return total / self.count

    def users(self, total: int) -> list[int]:
        """Indexes of this producer's users in the run's population of ``total`` users."""
        if total < self.count:
            raise ValueError(f"{self.count} producers need at least {self.count} users, got {total}")
        return list(range(self.index, total, self.count))
