"""The listing marker on the AWS emulator: a run lists the late-delivery window, never the bucket's history."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

from tests.support.listing_marker import FOLDERS, LATE
from tests.support.warehouse import new_bucket
from warehouse import listing_marker
from warehouse.listing_marker import MARKER_KEY


def hour_key(moment: datetime, name: str, folder: str = "landing/") -> str:
    return f"{folder}{moment:year=%Y/month=%m/day=%d/hour=%H}/{name}.gz"


class CountingS3:
    """The real boto3 client, counting the requests the marker's look makes."""

    def __init__(self, client: object) -> None:
        self.client = client
        self.requests = 0
        client.meta.events.register("before-call.s3.*", self._count)

    def _count(self, **_: object) -> None:
        self.requests += 1


def test_a_run_lists_only_the_window_and_its_requests_do_not_grow_with_history(aws_endpoint) -> None:
    s3, bucket = new_bucket()
    now = datetime.now(UTC)
    s3.put_object(Bucket=bucket, Key=hour_key(now, "new"), Body=b"{}")
    counted = CountingS3(s3)
    first, _ = listing_marker.look(s3, bucket, FOLDERS, LATE, now)
    assert listing_marker.remember(s3, bucket, first)

    s3.put_object(Bucket=bucket, Key=hour_key(now, "newer"), Body=b"{}")
    counted.requests = 0
    without_history, unchanged = listing_marker.look(s3, bucket, FOLDERS, LATE, now)
    requests_without = counted.requests
    assert not unchanged and without_history.files == 2

    # 1,200 objects in folders of last year and last month: more than one LIST page, none in the window.
    for n in range(1200):
        s3.put_object(Bucket=bucket, Key=hour_key(now - timedelta(days=30 + n % 300), f"old-{n}"), Body=b"{}")
    counted.requests = 0
    with_history, _ = listing_marker.look(s3, bucket, FOLDERS, LATE, now)
    assert counted.requests == requests_without == with_history.requests
    assert with_history.files == 2
    assert with_history.fingerprint == without_history.fingerprint


def test_an_idle_window_moves_forward_so_an_idle_pipeline_lists_only_the_look_back(aws_endpoint) -> None:
    s3, bucket = new_bucket()
    then = datetime.now(UTC) - timedelta(days=3)
    s3.put_object(Bucket=bucket, Key=hour_key(then, "a"), Body=b"{}")
    first, _ = listing_marker.look(s3, bucket, FOLDERS, LATE, then)
    assert listing_marker.remember(s3, bucket, first)

    now = datetime.now(UTC)
    before = s3.get_object(Bucket=bucket, Key=MARKER_KEY)["ETag"]
    assert listing_marker.look(s3, bucket, FOLDERS, LATE, now, advance=False)[1]  # a reader's look...
    assert s3.get_object(Bucket=bucket, Key=MARKER_KEY)["ETag"] == before  # ...writes nothing
    idle, unchanged = listing_marker.look(s3, bucket, FOLDERS, LATE, now)
    assert unchanged and idle.files == 1  # three days of hour folders listed once...
    recorded = json.loads(s3.get_object(Bucket=bucket, Key=MARKER_KEY)["Body"].read())
    assert recorded["since"] == idle.next_since  # ...and the marker moved its window to now's look-back
    again, unchanged = listing_marker.look(s3, bucket, FOLDERS, LATE, now)
    assert unchanged and again.files == 0
    assert again.newest == idle.newest  # the newest file is remembered for the freshness alert


def test_a_late_delivery_inside_the_look_back_is_seen_and_error_types_are_found(aws_endpoint) -> None:
    s3, bucket = new_bucket()
    now = datetime.now(UTC)
    first, _ = listing_marker.look(s3, bucket, FOLDERS, LATE, now)
    assert listing_marker.remember(s3, bucket, first)
    late = hour_key(now - timedelta(hours=20), "retried")
    failed = f"errors/processing-failed/{now:year=%Y/month=%m/day=%d}/e.gz"
    s3.put_object(Bucket=bucket, Key=late, Body=b"{}")
    s3.put_object(Bucket=bucket, Key=failed, Body=b"{}")
    listing, unchanged = listing_marker.look(s3, bucket, FOLDERS, LATE, now + timedelta(minutes=5))
    assert not unchanged
    assert [f.key for f in listing.objects["landing/"]] == [late]
    assert [f.key for f in listing.objects["errors/"]] == [failed]


def test_a_marker_larger_than_the_cap_is_not_parsed_and_the_run_does_the_work(aws_endpoint, caplog) -> None:
    s3, bucket = new_bucket()
    forged = {"fingerprint": "x", "unresolved": {f"k{n}": "FAILED: x" * 100 for n in range(400)}}
    body = json.dumps(forged).encode()
    assert len(body) > listing_marker.MAX_MARKER_BYTES
    s3.put_object(Bucket=bucket, Key=MARKER_KEY, Body=body)
    listing, unchanged = listing_marker.look(s3, bucket, FOLDERS, LATE)
    assert not unchanged and listing.unresolved == {}
    assert "not the pipeline's" in caplog.text
    assert listing_marker.remember(s3, bucket, listing)  # and it is replaced by the pipeline's own


def test_a_marker_keeps_at_most_a_hundred_unresolved_files_and_their_count(aws_endpoint) -> None:
    s3, bucket = new_bucket()
    listing, _ = listing_marker.look(s3, bucket, FOLDERS, LATE)
    unresolved = {f"landing/k{n:04d}.gz": "FAILED: " + "x" * 5000 for n in range(250)}
    assert listing_marker.remember(s3, bucket, listing, unresolved)
    recorded = json.loads(s3.get_object(Bucket=bucket, Key=MARKER_KEY)["Body"].read())
    assert recorded["unresolved_count"] == 250
    assert len(recorded["unresolved"]) == listing_marker.MAX_UNRESOLVED_KEPT
    assert max(len(why) for why in recorded["unresolved"].values()) == listing_marker.MAX_REASON_CHARS
