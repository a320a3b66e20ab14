"""Writing one buffer to S3 under the name Firehose would give it.

The key is the prefix evaluated at the moment of writing (UTC), then
``{delivery stream}-{version}-{yyyy-MM-dd-HH-mm-ss}-{uuid}`` and ``.gz`` when compressed.
"""

from __future__ import annotations

import gzip
from datetime import UTC, datetime
from typing import Any

from mobile_events_elt.config import prefixes
from mobile_events_elt.local_stack.firehose.target import DeliveryTarget


def object_key(target: DeliveryTarget, when: datetime) -> str:
    folder = prefixes.expand(target.prefix, when)
    return folder + prefixes.object_name(target.name, target.version, when, target.extension)


def encode(lines: list[bytes], compression: str) -> bytes:
    body = b"".join(lines)
    # Level 6 is zlib's default balance; gzip.compress would use 9, several times slower for ~2% smaller files.
    return gzip.compress(body, compresslevel=6, mtime=0) if compression == "GZIP" else body


class ObjectWriter:
    def __init__(self, s3: Any) -> None:
        self.s3 = s3

    def put(self, target: DeliveryTarget, lines: list[bytes], when: datetime | None = None) -> tuple[str, int]:
        """Write the lines as one object; return its key and size in bytes."""
        when = when or datetime.now(UTC)
        key = object_key(target, when)
        body = encode(lines, target.compression)
        # No Content-Encoding header, as Firehose: clients that honour it would hand readers un-gzipped bytes.
        self.s3.put_object(Bucket=target.bucket, Key=key, Body=body)
        return key, len(body)
