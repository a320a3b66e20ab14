"""Event ids: UUIDs that are unique within a run by construction and reproducible from the run's inputs.

Random 128-bit draws would be unique only with high probability, and formatting a number per event
costs more than everything else about the id. Instead ids come in blocks of 4,096: the last group is
a block part (9 hex digits, a bijection of the block number modulo 2**36) followed by one of 4,096
distinct 3-digit endings, each ending used once per block. So no two ids of one namespace are equal
within 2**48 events, and each id costs two string concatenations. The first four groups are hash-
derived per ending, so ids look random throughout. The namespace is a hash of everything that shapes
the events: the same inputs give the same ids, other inputs unrelated ones. Version (4) and variant
bits are set, so the ids parse as ordinary random UUIDs.
"""

from __future__ import annotations

import hashlib
import random
from collections.abc import Iterator

_BLOCK = 4096
_MASK36 = (1 << 36) - 1


def uuid_sequence(namespace: bytes) -> Iterator[str]:
    """Endless distinct UUID strings for ``namespace``; a generator, so each id costs one resumption."""
    digest = hashlib.sha256(namespace).digest()
    endings = list(range(_BLOCK))
    random.Random(digest).shuffle(endings)
    pairs = []
    for index, ending in enumerate(endings):
        high = hashlib.sha256(digest + index.to_bytes(2, "big")).hexdigest()
        variant = "89ab"[int(high[16], 16) & 3]
        pairs.append((f"{high[:8]}-{high[8:12]}-4{high[13:16]}-{variant}{high[17:20]}-", f"{ending:03x}"))
    step = int.from_bytes(digest[:5], "big") | 1
    block = int.from_bytes(digest[5:10], "big")
    while True:
        middle = f"{block & _MASK36:09x}"
        for head, ending_text in pairs:
            yield head + middle + ending_text
        block += step
