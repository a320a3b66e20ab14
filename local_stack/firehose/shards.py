"""Which shards to read, and from where: every shard from its checkpoint, parents before children.

After a split or merge, a partition key's older records are in the closed parent and its newer ones in a
child, so a child is read only once its parents have been read to their end; that keeps each key's records
in order, as Kinesis consumers must. A closed shard is at its end when GetRecords returns no next iterator,
or when the position has reached its EndingSequenceNumber. If the listed EndingSequenceNumber later grows
(moto keeps routing puts to a closed parent shard; AWS never does), the shard is read again, so nothing is
skipped.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from mobile_events_elt.local_stack.firehose.checkpoint import Checkpoint


@dataclass
class ShardState:
    shard_id: str
    parents: tuple[str, ...]
    ending: str | None
    position: str | None
    iterator: str | None = None
    at_end: bool = False
    caught_up: bool = False
    millis_behind: int = 0

    @property
    def closed(self) -> bool:
        return self.ending is not None

    def reached(self, ending: str) -> bool:
        return int(self.position or 0) >= int(ending)


def list_shards(kinesis: Any, stream_arn: str) -> list[dict[str, Any]]:
    shards: list[dict[str, Any]] = []
    kwargs: dict[str, Any] = {"StreamARN": stream_arn}
    while True:
        page = kinesis.list_shards(**kwargs)
        shards += page["Shards"]
        token = page.get("NextToken")
        if not token:
            return shards
        kwargs = {"NextToken": token}


class ShardTracker:
    def __init__(self, checkpoint: Checkpoint) -> None:
        self.checkpoint = checkpoint
        self.shards: dict[str, ShardState] = {}

    def refresh(self, listed: list[dict[str, Any]]) -> None:
        """Take in the current shard list: new shards, closings, and endings that moved."""
        for entry in listed:
            shard_id = entry["ShardId"]
            ending = entry.get("SequenceNumberRange", {}).get("EndingSequenceNumber")
            state = self.shards.get(shard_id)
            if state is None:
                mark = self.checkpoint.mark(shard_id)
                parents = tuple(p for p in (entry.get("ParentShardId"), entry.get("AdjacentParentShardId")) if p)
                state = ShardState(shard_id, parents, ending, mark.sequence)
                state.at_end = ending is not None and mark.finished_ending == ending
                self.shards[shard_id] = state
                continue
            if ending != state.ending:
                state.ending = ending
                if state.at_end and ending is not None and not state.reached(ending):
                    state.at_end = False
                    state.iterator = None
        listed_ids = {entry["ShardId"] for entry in listed}
        for shard_id in [s for s in self.shards if s not in listed_ids]:
            # Expired past the stream's retention: nothing left in it to read.
            self.shards[shard_id].at_end = True

    def parents_done(self, state: ShardState) -> bool:
        return all(parent not in self.shards or self.shards[parent].at_end for parent in state.parents)

    def readable(self) -> list[ShardState]:
        return [
            s for s in sorted(self.shards.values(), key=lambda s: s.shard_id) if not s.at_end and self.parents_done(s)
        ]

    def caught_up(self) -> bool:
        return all(s.caught_up for s in self.readable())

    def millis_behind(self) -> int:
        return max((s.millis_behind for s in self.shards.values() if not s.at_end), default=0)
