"""Is anything new in S3? Answered without the warehouse: a marker object holds the listing of the last
ELT run that finished all its steps.

A run lists the landing and error folders (S3 LIST requests only) and compares a fingerprint of what it
sees, every key with its ETag, with the one in the marker. Equal: nothing was delivered, replaced or
removed since a run that loaded, transformed and checked everything, so there is nothing to do and no
Snowflake session is opened. Different: the run loads, and ``RAW.LOAD_AUDIT`` decides file by file what
is new, as always. A file recorded FAILED stays in the listing, so it does not keep later runs busy; the
marker names it, so idle runs keep failing on it, without the warehouse, until it is replaced or
replayed. A run that fails anywhere else leaves the marker as it was, so the next one does the work again.

The marker lives outside both folders: it is never loaded and sends no ObjectCreated notification. Its
writes are conditional on it being as the run found it (S3 conditional writes), so a reset made while a
run is in flight (a replay) wins over that run, and the next run loads the forgotten files.
"""

from __future__ import annotations

import hashlib
import json
import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from botocore.exceptions import ClientError

MARKER_KEY = "state/mobile_events_elt/last-complete-listing.json"
# What S3 answers when a conditional write's condition does not hold (412), or a concurrent one won (409).
CONDITION_FAILED = {"PreconditionFailed", "ConditionalRequestConflict", "NoSuchKey", "412", "409"}


@dataclass(frozen=True)
class Listing:
    fingerprint: str
    files: int
    # The marker's ETag as this run read it; None when there was none. The write is conditional on it.
    marker_etag: str | None
    # When the newest object in the folders was written (ISO-8601), None when they are empty.
    newest: str | None = None
    # Files the last complete run left FAILED or REJECTED_KEY (name -> why), as the marker recorded them.
    unresolved: dict[str, str] = field(default_factory=dict)


def fingerprint(entries: Iterable[tuple[str, str]]) -> str:
    """A digest of (key, ETag) pairs, whatever their order."""
    digest = hashlib.sha256()
    for key, etag in sorted(entries):
        digest.update(f"{key}\t{etag}\n".encode())
    return digest.hexdigest()


def look(s3: Any, bucket: str, folders: Sequence[str]) -> tuple[Listing, bool]:
    """List the folders and read the marker: (this listing, whether it is the last complete run's)."""
    from warehouse.loader import list_landed_files

    for folder in folders:
        if MARKER_KEY.startswith(folder):
            raise ValueError(f"the listing marker {MARKER_KEY!r} must not be inside a listed folder ({folder!r})")
    found = [f for folder in folders for f in list_landed_files(s3, bucket, folder, with_times=True)]
    remembered, etag = _read(s3, bucket)
    newest = max((f.last_modified for f in found if f.last_modified), default=None)
    listing = Listing(
        fingerprint((f.key, f.etag) for f in found),
        len(found),
        etag,
        newest and newest.isoformat(),
        remembered.get("unresolved") or {},
    )
    return listing, remembered.get("fingerprint") == listing.fingerprint


def remember(s3: Any, bucket: str, listing: Listing, unresolved: dict[str, str] | None = None) -> bool:
    """Record the listing as fully processed, with the files it left unresolved, unless the marker changed
    since it was read; True if recorded."""
    body = {
        "fingerprint": listing.fingerprint,
        "files": listing.files,
        "unresolved": unresolved or {},
        "written_at": _now(),
    }
    condition = {"IfMatch": listing.marker_etag} if listing.marker_etag else {"IfNoneMatch": "*"}
    return _write(s3, bucket, body, condition)


def reset(s3: Any, bucket: str) -> None:
    """Make the next run do the work whatever the listing; a run in flight can no longer record its own."""
    _write(s3, bucket, {"fingerprint": None, "reset_at": _now(), "reset_id": uuid.uuid4().hex}, {})


def _read(s3: Any, bucket: str) -> tuple[dict[str, Any], str | None]:
    """The marker's body ({} when there is none) and its ETag."""
    try:
        found = s3.get_object(Bucket=bucket, Key=MARKER_KEY)
    except ClientError as exc:
        if exc.response.get("Error", {}).get("Code") in ("NoSuchKey", "404"):
            return {}, None
        raise
    try:
        remembered = json.loads(found["Body"].read())
    except ValueError:
        remembered = None
    if not isinstance(remembered, dict):
        remembered = {}  # unreadable: treated as no marker, so the run does the work and rewrites it
    return remembered, found["ETag"]


def _write(s3: Any, bucket: str, body: dict[str, Any], condition: dict[str, str]) -> bool:
    try:
        s3.put_object(
            Bucket=bucket, Key=MARKER_KEY, Body=json.dumps(body).encode(), ContentType="application/json", **condition
        )
    except ClientError as exc:
        if exc.response.get("Error", {}).get("Code") in CONDITION_FAILED:
            return False
        raise
    return True


def _now() -> str:
    return datetime.now(UTC).isoformat()
