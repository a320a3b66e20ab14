"""AWS emulator for the local stack: moto's server on 127.0.0.1, with two Kinesis defects fixed.

Run: ``python -m local_stack.aws_emulator [--port 4566]``. All services share the one port, so
``aws --endpoint-url http://127.0.0.1:4566 ...`` and boto3 with ``AWS_ENDPOINT_URL`` both work.

Workarounds (moto 5.2.5, ``moto/kinesis/models.py``, class ``Shard``), applied before the server starts:
- ``Shard.put_record`` finds the last sequence number with ``list(self.records.keys())[-1]``, copying
  every key on every put, so puts slow from ~6.6k rec/s to ~300 rec/s once a shard holds 100k records;
  ``get_records`` likewise scans the shard from its first record on every call.
- ``Shard.put_record`` is documented "not safe for concurrency" and the server is threaded: concurrent
  producers on one shard get the same sequence number and silently overwrite each other's records.
Moto's sequence numbers are consecutive integers per shard, which the fixes below rely on.
"""

from __future__ import annotations

import argparse
import sys
import threading
from typing import Any

from local_stack.ports import HOST, PortInUseError, ensure_free, port


def patch_moto_kinesis() -> None:
    """Make moto's Kinesis shard O(1) per put and per record read, and safe under concurrent puts."""
    from moto.kinesis import models

    shard_cls = models.Shard
    if getattr(shard_cls, "_local_stack_patched", False):
        return
    original_init = shard_cls.__init__
    lock_guard = threading.Lock()

    def __init__(self: Any, *args: Any, **kwargs: Any) -> None:
        original_init(self, *args, **kwargs)
        self._put_lock = threading.Lock()

    def _lock(self: Any) -> threading.Lock:
        # Shards created before the patch (none in practice) get their lock lazily.
        with lock_guard:
            if not hasattr(self, "_put_lock"):
                self._put_lock = threading.Lock()
        return self._put_lock

    def get_max_sequence_number(self: Any) -> int:
        return next(reversed(self.records)) if self.records else 0

    def put_record(self: Any, partition_key: str, data: str, explicit_hash_key: str) -> str:
        with _lock(self):
            sequence_number = get_max_sequence_number(self) + 1
            self.records[sequence_number] = models.Record(partition_key, data, sequence_number, explicit_hash_key)
        return str(sequence_number)

    def get_records(self: Any, last_sequence_id: str, limit: int | None) -> tuple[list[Any], int, int]:
        last = int(last_sequence_id)
        if not self.records:
            return [], last, 0
        newest = self.records[next(reversed(self.records))]
        first = next(iter(self.records))
        cursor = max(last + 1, first)
        results = []
        while cursor in self.records and (limit is None or len(results) < limit):
            results.append(self.records[cursor])
            last = cursor
            cursor += 1
        behind = int((newest.created_at - results[-1].created_at) * 1000) if results else 0
        return results, last, behind

    shard_cls.__init__ = __init__
    shard_cls.get_max_sequence_number = get_max_sequence_number
    shard_cls.put_record = put_record
    shard_cls.get_records = get_records
    shard_cls._local_stack_patched = True


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--port", type=int, default=None, help="port (default: $AWS_EMULATOR_PORT or 4566)")
    parser.add_argument(
        "--host",
        default=HOST,
        help="address to bind (default 127.0.0.1; 0.0.0.0 only inside a container, as docker-compose.yaml does)",
    )
    args = parser.parse_args(argv)
    number = args.port if args.port is not None else port("aws")
    try:
        ensure_free("aws", number, args.host)
    except PortInUseError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    patch_moto_kinesis()
    from moto.server import main as moto_main

    moto_main(["--host", args.host, "--port", str(number)])
    return 0


if __name__ == "__main__":
    sys.exit(main())
