"""Is anything new in S3? Answered without the warehouse, from a marker the last complete ELT run wrote.

A run compares a fingerprint of its listing window (every key and ETag) with the marker's: equal means no
Snowflake session is needed. Only a run that finished every step writes the marker, conditionally (S3
``If-Match``), so a failed run or a replay's reset makes the next run do the work. Design:
docs/listing-window.md, docs/decisions/0002-listing-marker.md.
"""

from __future__ import annotations

import hashlib
import json
import logging
import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from botocore.exceptions import ClientError

from warehouse import listing_window
from warehouse.listing_window import LandedFile

MARKER_KEY = "state/mobile_events_elt/last-complete-listing.json"
# A marker is a few kilobytes; anything much larger was not written by the pipeline.
MAX_MARKER_BYTES = 256 * 1024
# Files left unresolved that the marker names (the count is kept whole), and the text kept of each reason.
MAX_UNRESOLVED_KEPT = 100
MAX_REASON_CHARS = 300
# Listing windows reach this far past now, for a Firehose clock a little ahead of ours.
CLOCK_SKEW = timedelta(hours=1)
# What S3 answers when a conditional write's condition does not hold (412), or a concurrent one won (409).
CONDITION_FAILED = {"PreconditionFailed", "ConditionalRequestConflict", "NoSuchKey", "412", "409"}
log = logging.getLogger(__name__)


class MarkerAccessDenied(PermissionError):
    """The AWS identity may not read the marker: S3 answers 403, not 404, for a missing object to a caller
    without ``s3:ListBucket`` on the prefix."""


@dataclass(frozen=True)
class Folder:
    """A folder Firehose delivers to: its fixed part, its effective prefix (with expressions), and whether it
    holds Firehose's error output."""

    fixed: str
    template: str
    error_output: bool = False


@dataclass(frozen=True)
class Listing:
    fingerprint: str
    files: int
    # The marker's ETag as this run read it; None when there was none. The write is conditional on it.
    marker_etag: str | None
    # When the newest object seen was written (ISO-8601), this listing's or the marker's; None if none ever.
    newest: str | None = None
    # Files the last complete run left FAILED or REJECTED_KEY (name -> why), as the marker recorded them.
    unresolved: dict[str, str] = field(default_factory=dict)
    # The window this listing covered (None: everything) and what the next run's marker records.
    since: str | None = None
    next_since: str | None = None
    next_fingerprint: str | None = None
    # S3 requests this look took (LIST pages and the marker's GET).
    requests: int = 0
    # The objects listed, per folder's fixed part: for the load, never recorded anywhere.
    objects: dict[str, list[LandedFile]] = field(default_factory=dict, repr=False, compare=False)

    def summary(self) -> dict[str, Any]:
        """What a task returns (XCom) about the listing: everything but the objects."""
        return {name: value for name, value in vars(self).items() if name != "objects"}


def fingerprint(entries: Iterable[tuple[str, str]]) -> str:
    """A digest of (key, ETag) pairs, whatever their order."""
    digest = hashlib.sha256()
    for key, etag in sorted(entries):
        digest.update(f"{key}\t{etag}\n".encode())
    return digest.hexdigest()


def look(
    s3: Any,
    bucket: str,
    folders: Sequence[Folder],
    late_delivery: timedelta,
    now: datetime | None = None,
    advance: bool = True,
) -> tuple[Listing, bool]:
    """List the window's folders and read the marker: (this listing, whether it is the last complete run's).

    An unchanged listing whose window start can move an hour or more forward is recorded again with the
    narrower window (a conditional write; not with ``advance`` False, for a reader), so the folders an idle
    pipeline lists stay those of the look-back."""
    for folder in folders:
        if MARKER_KEY.startswith(folder.fixed):
            raise ValueError(f"the listing marker {MARKER_KEY!r} must not be inside a listed folder ({folder.fixed!r})")
    now = (now or datetime.now(UTC)).astimezone(UTC)
    remembered, etag = _read(s3, bucket)
    since = _moment(remembered.get("since"))
    next_since = now - late_delivery
    until = now + CLOCK_SKEW
    requests = 1
    objects: dict[str, list[LandedFile]] = {}
    kept_next: list[LandedFile] = []
    for folder in folders:
        parents, listed = listing_window.parents(s3, bucket, folder.template)
        found = []
        for parent in parents:
            to_list = listing_window.window_folders(folder.template, [parent], since, until)
            in_parent, pages = listing_window.list_folders(s3, bucket, to_list)
            found += in_parent
            listed += pages
        requests += listed
        objects[folder.fixed] = sorted(found, key=lambda f: f.key)
        narrower = listing_window.window_folders(folder.template, parents, next_since, until)
        kept_next += listing_window.in_folders(found, narrower)
    every = [f for found in objects.values() for f in found]
    newest = max((f.last_modified for f in every if f.last_modified), default=None)
    remembered_newest = _moment(remembered.get("newest"))
    if remembered_newest and (newest is None or remembered_newest > newest):
        newest = remembered_newest
    listing = Listing(
        fingerprint=fingerprint((f.key, f.etag) for f in every),
        files=len(every),
        marker_etag=etag,
        newest=newest and newest.isoformat(),
        unresolved=_unresolved(remembered.get("unresolved")),
        since=since and since.isoformat(),
        next_since=next_since.isoformat(),
        next_fingerprint=fingerprint((f.key, f.etag) for f in kept_next),
        requests=requests,
        objects=objects,
    )
    unchanged = remembered.get("fingerprint") == listing.fingerprint
    if advance and unchanged and (since is None or next_since - since >= timedelta(hours=1)):
        remember(s3, bucket, listing, listing.unresolved)
    return listing, unchanged


def remember(s3: Any, bucket: str, listing: Listing, unresolved: dict[str, str] | None = None) -> bool:
    """Record the listing as fully processed, with the files it left unresolved, unless the marker changed
    since it was read; True if recorded."""
    unresolved = unresolved or {}
    kept = dict(sorted(unresolved.items())[:MAX_UNRESOLVED_KEPT])
    body = {
        "fingerprint": listing.next_fingerprint,
        "since": listing.next_since,
        "newest": listing.newest,
        "files": listing.files,
        "unresolved": {name[:1024]: why[:MAX_REASON_CHARS] for name, why in kept.items()},
        "unresolved_count": len(unresolved),
        "written_at": _now(),
    }
    condition = {"IfMatch": listing.marker_etag} if listing.marker_etag else {"IfNoneMatch": "*"}
    return _write(s3, bucket, body, condition)


def reset(s3: Any, bucket: str, since: datetime | None = None) -> None:
    """Make the next run do the work whatever the listing, listing from ``since`` (everything without it);
    a run in flight can no longer record its own."""
    body = {"fingerprint": None, "since": since and since.isoformat(), "reset_at": _now(), "reset_id": uuid.uuid4().hex}
    _write(s3, bucket, body, {})


def _unresolved(recorded: Any) -> dict[str, str]:
    if not isinstance(recorded, dict):
        return {}
    return {str(name): str(why) for name, why in list(recorded.items())[:MAX_UNRESOLVED_KEPT]}


def _moment(text: Any) -> datetime | None:
    if not isinstance(text, str):
        return None
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _read(s3: Any, bucket: str) -> tuple[dict[str, Any], str | None]:
    """The marker's body ({} when there is none, or it is not the pipeline's) and its ETag."""
    try:
        found = s3.get_object(Bucket=bucket, Key=MARKER_KEY)
    except ClientError as exc:
        code = exc.response.get("Error", {}).get("Code")
        if code in ("NoSuchKey", "404"):
            return {}, None
        if code in ("AccessDenied", "403"):
            raise MarkerAccessDenied(
                f"the AWS identity may not read s3://{bucket}/{MARKER_KEY} (AccessDenied). It needs s3:GetObject "
                f"and s3:PutObject on arn:aws:s3:::{bucket}/state/*, and s3:ListBucket on arn:aws:s3:::{bucket} for "
                "the prefix state/ (without ListBucket, S3 answers 403 instead of 404 while the marker does not "
                "exist yet): see the Airflow policy that `python -m aws_infrastructure template` writes"
            ) from exc
        raise
    body = found["Body"]
    size = int(found.get("ContentLength") or 0)
    if size > MAX_MARKER_BYTES:
        body.close()
        log.warning(
            "the listing marker is %d bytes (at most %d are read): not the pipeline's; this run does the work "
            "and rewrites it",
            size,
            MAX_MARKER_BYTES,
        )
        return {}, found["ETag"]
    try:
        remembered = json.loads(body.read(MAX_MARKER_BYTES + 1))
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
