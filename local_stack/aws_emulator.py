"""AWS emulator for the local stack: moto's server on 127.0.0.1 with moto's Kinesis and S3 defects fixed
(each fix names the defect) and, with ``--journal PATH``, state that survives a restart (``aws_journal``).

Run: ``python -m mobile_events_elt.local_stack.aws_emulator [--port 4566] [--journal .local/aws-journal.jsonl]``
(``--journal`` defaults to ``$AWS_EMULATOR_JOURNAL``). All services share the one port, so
``aws --endpoint-url ...`` and boto3 with ``AWS_ENDPOINT_URL`` both work.
"""

from __future__ import annotations

import argparse
import fnmatch
import hashlib
import json
import os
import signal
import sys
import threading
from collections import OrderedDict
from pathlib import Path
from typing import Any

from mobile_events_elt.local_stack.aws_journal import (
    JOURNAL_ENV,
    Journal,
    JournalError,
    pin_moto_clock_and_random,
    skip_result_serialization_on_replay,
)
from mobile_events_elt.local_stack.ports import HOST, PortInUseError, ensure_free, port


def patch_moto_kinesis() -> None:
    """Make moto's Kinesis shard O(1) per put and per record read, safe under concurrent puts, and route and
    reshard as Kinesis does. Defects of moto 5.2.5 (``moto/kinesis/models.py``) fixed here:

    - ``Shard.put_record`` finds the last sequence number with ``list(self.records.keys())[-1]``, copying
      every key on every put (puts slow from ~6.6k rec/s to ~300 rec/s once a shard holds 100k records);
      ``get_records`` likewise scans the shard from its first record on every call.
    - ``Shard.put_record`` is documented "not safe for concurrency" and the server is threaded: concurrent
      producers on one shard get the same sequence number and silently overwrite each other's records.
    - ``Stream.get_shard_for_key`` returns the first shard whose hash range holds the key, closed or not, so
      after a split or merge every record goes to the closed parent; Kinesis routes to the open shard.
    - ``Stream.split_shard`` and ``merge_shards`` move or copy the parents' records into the children;
      Kinesis leaves them in the closed parents and starts the children empty (a consumer that drained the
      parents would otherwise read everything twice).

    The fixes rely on moto's sequence numbers being consecutive integers per shard.
    """
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

    original_shard_for_key = models.Stream.get_shard_for_key

    def get_shard_for_key(self: Any, partition_key: str, explicit_hash_key: str) -> Any:
        shard = original_shard_for_key(self, partition_key, explicit_hash_key)  # also validates the key
        if shard is None or shard.is_open:
            return shard
        if explicit_hash_key:
            key = int(explicit_hash_key)
        else:
            key = int(hashlib.md5(partition_key.encode("utf-8"), usedforsecurity=False).hexdigest(), 16)
        open_shard = next(
            (s for s in self.shards.values() if s.is_open and s.starting_hash <= key < s.ending_hash), None
        )
        return open_shard or shard

    original_split, original_merge = models.Stream.split_shard, models.Stream.merge_shards

    def keep_parent_records(reshard: Any) -> Any:
        def wrapper(self: Any, *shard_args: Any) -> None:
            kept = {shard_id: shard.records for shard_id, shard in self.shards.items()}
            reshard(self, *shard_args)
            for shard_id, shard in self.shards.items():
                shard.records = kept.get(shard_id, OrderedDict())

        return wrapper

    models.Stream.get_shard_for_key = get_shard_for_key
    models.Stream.split_shard = keep_parent_records(original_split)
    models.Stream.merge_shards = keep_parent_records(original_merge)
    shard_cls.__init__ = __init__
    shard_cls.get_max_sequence_number = get_max_sequence_number
    shard_cls.put_record = put_record
    shard_cls.get_records = get_records
    shard_cls._local_stack_patched = True


# Condition operators on aws:PrincipalArn the emulator evaluates; "Not" operators hold when no value matches.
_PRINCIPAL_KEY = "aws:principalarn"
_PRINCIPAL_OPERATORS = {"StringEquals", "StringLike", "ArnEquals", "ArnLike"}
_request_caller = threading.local()  # .principal_arn: the IAM principal of the S3 request being served


def patch_moto_s3_listing() -> None:
    """Make a LIST cost what it returns, not what the bucket holds, as on S3. Defect of moto 5.2.5
    (``moto/s3/models.py`` ``S3Backend.list_objects``, which ``list_objects_v2`` calls): every request walks
    every key of the bucket, each through ``_VersionedKeyStore.items``, which copies the whole key dict first,
    so a pipeline that lists one day's folders of a bucket holding a year slows down with the year.

    The fix keeps a sorted index of each key store's names, dropped whenever a name is added or removed and
    rebuilt at the next listing (a generation count keeps a rebuild that raced a put from being kept), and a
    LIST with a prefix reads only the names in that prefix's range; the rest is moto's own code, unchanged."""
    import bisect

    from moto.s3 import models, utils

    store = utils._VersionedKeyStore
    if getattr(store, "_local_stack_indexed", False):
        return
    lock = threading.Lock()

    def dropping_index(method: Any) -> Any:
        def wrapped(self: Any, key: str, *args: Any, **kwargs: Any) -> Any:
            adds_or_removes = method.__name__ in ("pop", "__delitem__") or not dict.__contains__(self, key)
            result = method(self, key, *args, **kwargs)
            if adds_or_removes:
                with lock:
                    self._index_generation = getattr(self, "_index_generation", 0) + 1
                    self._sorted_names = None
            return result

        return wrapped

    for name in ("__setitem__", "setlist", "pop", "__delitem__"):
        setattr(store, name, dropping_index(getattr(store, name)))

    def names_under(keys: Any, prefix: str) -> list[str]:
        with lock:
            names, generation = getattr(keys, "_sorted_names", None), getattr(keys, "_index_generation", 0)
        if names is None:
            names = sorted(dict.keys(keys))
            with lock:
                if getattr(keys, "_index_generation", 0) == generation:
                    keys._sorted_names = names
        found, at = [], bisect.bisect_left(names, prefix)
        while at < len(names) and names[at].startswith(prefix):
            found.append(names[at])
            at += 1
        return found

    original = models.S3Backend.list_objects

    def list_objects(
        self: Any, bucket: Any, prefix: str | None, delimiter: str | None, marker: str | None, max_keys: int | None
    ) -> Any:
        if not prefix or isinstance(bucket, models.FakeTableStorageBucket) or not isinstance(bucket.keys, store):
            return original(self, bucket, prefix, delimiter, marker, max_keys)
        key_results, folder_results = set(), set()
        for key_name in names_under(bucket.keys, prefix):
            key = bucket.keys.get(key_name)
            if key is None:
                continue
            rest = key_name.replace(prefix, "", 1)
            if delimiter and delimiter in rest:
                folder_results.add(f"{prefix}{rest.split(delimiter)[0]}{delimiter}")
            else:
                key_results.add(key)
        # From here on, moto's own list_objects.
        keys = sorted((k for k in key_results if not isinstance(k, models.FakeDeleteMarker)), key=lambda k: k.name)
        folders = sorted(folder_results)
        if marker:
            keys = self._get_results_from_token(keys, self._pagination_tokens.get(marker) or marker)
        if max_keys is None:
            return keys, folders, False, None
        keys, is_truncated, next_marker = self._truncate_result(keys, max_keys)
        return keys, folders, is_truncated, next_marker

    models.S3Backend.list_objects = list_objects
    store._local_stack_indexed = True


def _principal_arn(access_key_id: str) -> str | None:
    """The aws:PrincipalArn S3 would see for credentials moto issued: an assumed role's session counts as
    the role, an IAM user's key as the user. None for credentials moto never issued."""
    from moto.iam.models import iam_backends
    from moto.sts.models import sts_backends

    for sts_account in list(sts_backends.values()):
        for sts in list(sts_account.values()):
            session = sts.get_assumed_role_from_access_key(access_key_id)
            if session is not None:
                return session.role_arn
    for iam_account in list(iam_backends.values()):
        for iam in list(iam_account.values()):
            user = iam.get_user_from_access_key_id(access_key_id)
            if user is not None:
                return user.arn
    return None


def _principal_condition_holds(condition: dict[str, Any], principal: str) -> bool | None:
    """Whether a Condition made only of aws:PrincipalArn tests holds for ``principal``; None when it tests
    anything else (the emulator cannot evaluate it)."""
    for operator, tests in condition.items():
        positive = operator.replace("Not", "", 1)
        if positive not in _PRINCIPAL_OPERATORS or not isinstance(tests, dict):
            return None
        for key, expected in tests.items():
            if key.lower() != _PRINCIPAL_KEY:
                return None
            values = [expected] if isinstance(expected, str) else list(expected)
            like = positive.endswith("Like")
            matched = any(fnmatch.fnmatchcase(principal, v) if like else principal == v for v in values)
            if matched == (operator != positive):  # a positive test unmatched, or a negated one matched
                return False
    return True


def patch_moto_conditional_bucket_policy() -> None:
    """Evaluate a bucket policy's statements the way S3 would wherever the emulator can know the answer.

    moto (``moto/s3/responses.py`` ``_key_response`` with ``moto/iam/access_control.py``
    ``IAMPolicyStatement.is_action_permitted``) evaluates a bucket policy on every object request with no
    request context (no ``aws:SecureTransport``, no ``aws:PrincipalArn``), and a statement whose Condition it
    cannot satisfy answers DENIED whatever its Effect, so the bucket's conditional Deny statements would
    refuse every object read and write. Here each object request's statements are evaluated as follows:

    - without a Condition: as moto does (the Deny on deleting delivered files binds every caller);
    - with a Condition on ``aws:PrincipalArn`` only, for a request signed with credentials moto issued (an
      IAM user's access key, an assumed role's session): the condition is evaluated with that principal, as
      S3 does, so the guard rails on the delivery and state folders are enforced for such callers;
    - otherwise left out: ``aws:SecureTransport`` (the local stack has no TLS), and every conditional
      statement for a request signed with moto's default credentials.

    The local stack's own processes (producer, local Firehose, Airflow) all sign with moto's default
    credentials, one identity standing for all of them, so no single principal ARN can be true of it: the
    emulator gives it none, and the principal rules do not apply to it, as before. Tests that need them
    enforced sign as an IAM user or an assumed role.
    """
    from moto.iam.access_control import IAMPolicy, PermissionResult
    from moto.s3 import models, responses

    bucket_cls = models.FakeBucket
    if getattr(bucket_cls, "_local_stack_patched", False):
        return
    original_setup = responses.S3Response.setup_class

    def setup_class(self: Any, request: Any, full_url: str | None = None, headers: Any = None) -> None:
        original_setup(self, request, full_url, headers)
        _request_caller.principal_arn = _principal_arn(self.get_access_key())

    def get_permission(self: Any, action: str, resource: str) -> Any:
        if self.policy is None:
            return PermissionResult.NEUTRAL
        document = json.loads(self.policy)
        statements = document.get("Statement", [])
        statements = [statements] if isinstance(statements, dict) else statements
        principal = getattr(_request_caller, "principal_arn", None)
        kept = []
        for statement in statements:
            condition = statement.get("Condition")
            if condition is None:
                kept.append(statement)
            elif principal is not None and _principal_condition_holds(condition, principal):
                kept.append({key: value for key, value in statement.items() if key != "Condition"})
        if not kept:
            return PermissionResult.NEUTRAL
        return IAMPolicy(json.dumps({**document, "Statement": kept})).is_action_permitted(action, resource)

    responses.S3Response.setup_class = setup_class
    bucket_cls.get_permission = get_permission
    bucket_cls._local_stack_patched = True


# --- serving ------------------------------------------------------------------------------------------


def build_app(journal_path: Path | None) -> tuple[Any, Journal | None]:
    """moto's WSGI app as ``moto.server.main`` builds it, wrapped in the journal when there is one."""
    from moto.moto_server.werkzeug_app import DomainDispatcherApplication, create_backend_app

    app = DomainDispatcherApplication(create_backend_app)
    app.debug = True  # type: ignore[attr-defined]  # as moto.server.main sets it
    if journal_path is None:
        return app, None
    pin_moto_clock_and_random()
    skip_result_serialization_on_replay()
    journal = Journal(app, journal_path)
    return journal, journal


def serve(host: str, port_number: int, journal_path: Path | None = None) -> None:
    """Serve moto on host:port as ``moto.server.main`` does; with a journal, replay it before binding."""
    from moto.moto_server.werkzeug_app import MotoRequestHandler
    from werkzeug.serving import run_simple

    os.environ.setdefault("MOTO_PORT", str(port_number))  # as moto.server.main: moto builds some URLs from it

    def stop(signum: int, frame: Any) -> None:
        sys.exit(0)

    signal.signal(signal.SIGINT, stop)
    signal.signal(signal.SIGTERM, stop)
    app, journal = build_app(journal_path)
    if journal is not None:
        journal.open()
        journal.replay(host, port_number)
    run_simple(host, port_number, app, threaded=True, request_handler=MotoRequestHandler)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--port", type=int, default=None, help="port (default: $AWS_EMULATOR_PORT or 4566)")
    parser.add_argument(
        "--host",
        default=HOST,
        help="address to bind (default 127.0.0.1; 0.0.0.0 only inside a container, as docker-compose.yaml does)",
    )
    parser.add_argument(
        "--journal",
        type=Path,
        default=os.environ.get(JOURNAL_ENV) or None,
        metavar="PATH",
        help=f"keep state across restarts: journal state-changing requests to PATH and replay it at start "
        f"(default: ${JOURNAL_ENV}; none: state lives in memory only)",
    )
    args = parser.parse_args(argv)
    number = args.port if args.port is not None else port("aws")
    try:
        ensure_free("aws", number, args.host)
    except PortInUseError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    patch_moto_kinesis()
    patch_moto_s3_listing()
    patch_moto_conditional_bucket_policy()
    try:
        serve(args.host, number, args.journal)
    except JournalError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
