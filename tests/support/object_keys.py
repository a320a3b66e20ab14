"""Object keys under the landing prefix: an hour folder, hostile keys, and prefixes a listing must not confuse."""

from __future__ import annotations

from tests.support.warehouse import PREFIX

HOUR = f"{PREFIX}year=2024/month=01/day=29/hour=19/"


HOSTILE = [
    f"{HOUR}/a.gz",  # "//": PUT would normalise it onto the loaded .../hour=19/a.gz
    f"{HOUR}./a.gz",
    f"{PREFIX}../outside.gz",
    f"{PREFIX}ends-with..",
    f"{PREFIX}it's.gz",
    f'{PREFIX}a"b.gz',
    f"{PREFIX}back\\slash.gz",
    f"{PREFIX}with space.gz",
    f"{PREFIX}a;drop table raw.events_raw.gz",
    f"{PREFIX}\n",
    f"{PREFIX}trailing-newline.gz\n",
    f"{PREFIX}méxico.gz",
    f"{PREFIX}control\x01char.gz",
    f"{PREFIX}star*.gz",
    f"{PREFIX}{'x' * 1020}.gz",  # over 1,024 bytes
]


# Canonical keys that are prefixes of other keys: each must load itself only.
PREFIXES = [f"{PREFIX}year", f"{PREFIX}y", f"{HOUR}a"]
