"""Event ids: UUIDs that are unique within a run by construction and reproducible from the run's inputs.

Random 128-bit draws would be unique only with high probability, and formatting a number per event
costs more than everything else about the id. Instead ids come in blocks of 4,096: the last group is
a block part (9 hex digits, a bijection of the block number modulo 2**36) followed by one of 4,096
distinct 3-digit endings, each ending used once per block. So no two ids of one namespace are equal
within 2**48 events, and an id is three table lookups. The first four groups are hash-derived per
ending, so ids look random throughout. The namespace is a hash of everything that shapes the events:
the same inputs give the same ids, other inputs unrelated ones. Version (4) and variant bits are set,
so the ids parse as ordinary random UUIDs. Producers of one run share the namespace and take disjoint
sets of blocks (every ``stride``-th block from their own first one), so their ids never collide.
"""

from __future__ import annotations

import hashlib
import random
from collections.abc import Iterator

BLOCK = 4096
_MASK36 = (1 << 36) - 1


class UuidBlocks:
    """The tables of a namespace: id k of block b is ``heads[k] + middle(b) + endings[k]``.

    The generator's hot loop builds ids from these parts inside its one f-string; ``uuid_sequence``
    is the same sequence for everyone else.
    """

    def __init__(self, namespace: bytes) -> None:
        digest = hashlib.sha256(namespace).digest()
        order = list(range(BLOCK))
        random.Random(digest).shuffle(order)
        self.endings = [f"{ending:03x}" for ending in order]
        self.heads = []
        for index in range(BLOCK):
            high = hashlib.sha256(digest + index.to_bytes(2, "big")).hexdigest()
            variant = "89ab"[int(high[16], 16) & 3]
            self.heads.append(f"{high[:8]}-{high[8:12]}-4{high[13:16]}-{variant}{high[17:20]}-")
        self._step = int.from_bytes(digest[:5], "big") | 1  # odd: stepping visits every value mod 2**36
        self._start = int.from_bytes(digest[5:10], "big")

    def middle(self, block: int) -> str:
        return f"{(self._start + block * self._step) & _MASK36:09x}"


def uuid_sequence(namespace: bytes, first: int = 0, stride: int = 1) -> Iterator[str]:
    """Endless distinct UUID strings for ``namespace`` from blocks ``first``, ``first + stride``, ..."""
    blocks = UuidBlocks(namespace)
    for block in range(first, 1 << 36, stride):
        middle = blocks.middle(block)
        for head, ending in zip(blocks.heads, blocks.endings, strict=True):
            yield head + middle + ending
