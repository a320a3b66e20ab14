"""Which S3 folders a run lists: the hour folders Firehose can still write to, never the whole history.

The folders are computed from the Firehose prefix's time expressions for the hours since the last complete
run's listing less ``late_delivery_hours``, so a run's listing costs what landed since, not what the bucket
keeps. Design: docs/listing-window.md.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from aws_infrastructure import prefixes

# A window's folders are listed in spans of neighbouring folders (hours), side by side: a quiet span costs
# one request, a busy one its pages, and a day's look-back a few rounds of requests.
LIST_THREADS = 8
FOLDERS_PER_LISTING = 6
_HOUR = timedelta(hours=1)
# A window longer than this (a pipeline stopped for weeks, a replay of months) lists its folders whole
# instead: one LIST per hour would then cost more requests than the objects themselves.
MAX_WINDOW = timedelta(days=31)
_LAST_INSTANT_OF_HOUR = timedelta(minutes=59, seconds=59, microseconds=999999)


@dataclass(frozen=True)
class LandedFile:
    """One delivered object as S3 lists it."""

    key: str
    etag: str
    size: int
    last_modified: datetime | None = None


def hours(since: datetime, until: datetime) -> list[datetime]:
    """The start of every hour from ``since``'s to ``until``'s, both included (UTC)."""
    hour = since.astimezone(UTC).replace(minute=0, second=0, microsecond=0)
    found = []
    while hour <= until:
        found.append(hour)
        hour += _HOUR
    return found


def hour_folder(time_part: str, hour: datetime) -> str:
    """The text every key written in ``hour`` shares after the folders before the time part."""
    first = prefixes.expand(time_part, hour)
    last = prefixes.expand(time_part, hour + _LAST_INSTANT_OF_HOUR)
    same = next((i for i, (a, b) in enumerate(zip(first, last, strict=False)) if a != b), None)
    return first[: min(len(first), len(last)) if same is None else same]


def _split(template: str) -> tuple[list[str], str]:
    """The template's '/'-ended segments before its first timestamp expression (each literal, or holding a
    firehose expression, whose values are found by listing) and the rest: the time part."""
    position = 0
    for part in prefixes.parse(template):
        if isinstance(part, prefixes.Expression) and part.namespace == "timestamp":
            break
        position += len(part.text) if isinstance(part, prefixes.Literal) else len(f"!{{{part.namespace}:{part.value}}}")
    cut = template.rfind("/", 0, position) + 1
    return [segment + "/" for segment in template[:cut].split("/")[:-1]], template[cut:]


def parents(s3: Any, bucket: str, template: str) -> tuple[list[str], int]:
    """The folders before ``template``'s time part (an effective Firehose prefix), a firehose expression's
    values found by delimiter listings; and the LIST requests that took."""
    head, _ = _split(template)
    found_parents = [""]
    requests = 0
    for segment in head:
        if not prefixes.has_expressions(segment):
            found_parents = [parent + segment for parent in found_parents]
            continue
        found = []
        for parent in found_parents:
            for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=parent, Delimiter="/"):
                requests += 1
                found += [common["Prefix"] for common in page.get("CommonPrefixes", [])]
        found_parents = found
    return sorted(set(found_parents)), requests


def window_folders(template: str, found_parents: Sequence[str], since: datetime | None, until: datetime) -> list[str]:
    """The folders holding every object written for the hours from ``since`` to ``until``; without ``since``
    (or for a window longer than ``MAX_WINDOW``), the parents themselves: everything."""
    _, time_part = _split(template)
    if since is None or not prefixes.has_expressions(time_part) or until - since > MAX_WINDOW:
        return sorted(found_parents)
    by_hour = {hour_folder(time_part, hour) for hour in hours(min(since, until), until)}
    return sorted({parent + folder for parent in found_parents for folder in by_hour})


def list_span(s3: Any, bucket: str, span: Sequence[str]) -> tuple[list[LandedFile], int]:
    """Every object under the folders of ``span`` (neighbours in key order under one parent): one listing
    from the first folder on, stopped after the last, so a quiet span costs one request whatever its hours.
    Keys between them that belong to no folder of the span are left out."""
    first, last = span[0], span[-1]
    shared = first[: next((i for i, (a, b) in enumerate(zip(first, last, strict=False)) if a != b), len(first))]
    prefix = shared[: shared.rfind("/") + 1]
    found, requests, token = [], 0, None
    while True:
        more = {"ContinuationToken": token} if token else {}
        page = s3.list_objects_v2(Bucket=bucket, Prefix=prefix, StartAfter=first, **more)
        requests += 1
        for obj in page.get("Contents", []):
            key = obj["Key"]
            if key > last and not key.startswith(last):
                return in_folders(found, span), requests
            if not (key.endswith("/") and obj["Size"] == 0):
                found.append(LandedFile(key, obj["ETag"].strip('"'), obj["Size"], obj["LastModified"]))
        token = page.get("NextContinuationToken")
        if not page.get("IsTruncated") or not token:
            return in_folders(found, span), requests


def spans(folders: Sequence[str], size: int = FOLDERS_PER_LISTING) -> list[list[str]]:
    """The folders (all under one parent) in key order, cut into runs of at most ``size`` neighbours."""
    ordered = sorted(folders)
    return [ordered[start : start + size] for start in range(0, len(ordered), size)]


def list_folders(s3: Any, bucket: str, to_list: Sequence[str]) -> tuple[list[LandedFile], int]:
    """Every object under the folders (all under one parent), their spans listed side by side, oldest key
    first."""
    with ThreadPoolExecutor(max_workers=LIST_THREADS) as pool:
        results = list(pool.map(lambda span: list_span(s3, bucket, span), spans(to_list)))
    found = sorted((obj for objects, _ in results for obj in objects), key=lambda obj: obj.key)
    return found, sum(requests for _, requests in results)


def in_folders(keys: Iterable[LandedFile], kept: Iterable[str]) -> list[LandedFile]:
    """The objects under one of ``kept`` (the part of a listing a later, narrower window lists again)."""
    kept = tuple(kept)
    return [obj for obj in keys if obj.key.startswith(kept)]
