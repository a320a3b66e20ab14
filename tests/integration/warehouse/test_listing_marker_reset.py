"""A replay's reset of the listing marker wins over a run that read the marker before it."""

from __future__ import annotations

from datetime import timedelta

from tests.support.listing_marker import ERRORS, LANDING
from tests.support.seed import seed_lines
from tests.support.warehouse import put_ndjson


def test_a_reset_during_a_run_wins_over_that_run(aws_endpoint) -> None:
    """A run that read the marker before a replay reset it cannot record its listing afterwards."""
    from tests.support.warehouse import new_bucket
    from warehouse import listing_marker
    from warehouse.listing_marker import Folder

    s3, bucket = new_bucket()
    put_ndjson(s3, bucket, seed_lines()[:3])
    folders = [Folder("landing/", LANDING), Folder("errors/", ERRORS, error_output=True)]
    late = timedelta(hours=25)
    first, unchanged = listing_marker.look(s3, bucket, folders, late)
    assert not unchanged  # no marker yet
    assert listing_marker.remember(s3, bucket, first)
    assert listing_marker.look(s3, bucket, folders, late)[1]  # now idle

    in_flight, _ = listing_marker.look(s3, bucket, folders, late)
    listing_marker.reset(s3, bucket)
    assert not listing_marker.remember(s3, bucket, in_flight)
    assert not listing_marker.look(s3, bucket, folders, late)[1]

    # A second writer that read no marker cannot overwrite one written meanwhile either.
    s3b, bucket_b = new_bucket()
    put_ndjson(s3b, bucket_b, seed_lines()[:3])
    a, _ = listing_marker.look(s3b, bucket_b, folders, late)
    b, _ = listing_marker.look(s3b, bucket_b, folders, late)
    assert listing_marker.remember(s3b, bucket_b, a)
    assert not listing_marker.remember(s3b, bucket_b, b)
