"""A run's catch-up passes (warehouse/pipeline.py, docs/decisions/0007-catch-up-passes.md): a file that lands
while a pass works is loaded and built by another pass of the same run, on the same session and lease; a
listing with nothing new ends the run; the run's listing is the last pass's, which covers every file loaded.

The file is put in S3 as the first pass's build starts, through a wrapper around the real build: the emulators
cannot be made to deliver at that moment otherwise."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from mobile_events_elt.warehouse import pipeline, transform
from tests.support.seed import seed_lines
from tests.support.warehouse import point_pipeline_at_emulators, prepare, put_ndjson, scalar, settings_for


@pytest.fixture
def landing(snowflake_conn, snowflake_database, snowflake_server, aws_endpoint, monkeypatch) -> tuple[Any, Any, str]:
    """The pipeline pointed at the emulators, its database set up and its bucket empty (no file and no listing
    marker from another test): (connection, S3 client, bucket)."""
    s3, bucket = point_pipeline_at_emulators(monkeypatch, snowflake_server, aws_endpoint, snowflake_database)
    prepare(snowflake_conn, settings_for(snowflake_database))
    return snowflake_conn, s3, bucket


def land_during_the_first_build(monkeypatch: pytest.MonkeyPatch, land: Callable[[], object]) -> list[int]:
    """Call ``land`` as the run's first build starts; the builds the run made, counted."""
    real = transform.run_batch
    builds: list[int] = []

    def run_batch(*args: Any, **kwargs: Any) -> transform.RunResult:
        builds.append(len(builds) + 1)
        if len(builds) == 1:
            land()
        return real(*args, **kwargs)

    monkeypatch.setattr(transform, "run_batch", run_batch)
    return builds


def test_a_file_landing_during_a_pass_is_loaded_by_the_next_pass_of_the_same_run(landing, monkeypatch) -> None:
    conn, s3, bucket = landing
    put_ndjson(s3, bucket, seed_lines()[:50], name="first")
    builds = land_during_the_first_build(monkeypatch, lambda: put_ndjson(s3, bucket, seed_lines()[50:], name="second"))
    listing = pipeline.find_new_files()
    assert listing is not None and listing.files == 1

    done = pipeline.load_transform_check(listing=listing, catch_up_seconds=120)
    assert (done["passes"], builds) == (2, [1, 2])
    assert (done["files_loaded"], done["models"]["orders"]["rows"]) == (2, 100)
    assert done["checks"] and set(done["checks"].values()) == {0}
    assert scalar(conn, "select count(*) from analytics.orders") == 100
    last = done.pop("listing")
    assert last.files == 2, "the last pass's listing covers both files"
    assert pipeline.remember_listing(last, pipeline.needing_attention(done))
    assert pipeline.find_new_files() is None, "so the next run is idle"


def test_without_catch_up_the_run_makes_one_pass_and_the_next_run_takes_the_new_file(landing, monkeypatch) -> None:
    conn, s3, bucket = landing
    put_ndjson(s3, bucket, seed_lines()[:50], name="first")
    land_during_the_first_build(monkeypatch, lambda: put_ndjson(s3, bucket, seed_lines()[50:], name="second"))
    listing = pipeline.find_new_files()

    done = pipeline.load_transform_check(listing=listing, catch_up_seconds=0)
    assert (done["passes"], done["files_loaded"]) == (1, 1)
    assert scalar(conn, "select count(*) from analytics.orders") == 50
    assert pipeline.remember_listing(done.pop("listing"), pipeline.needing_attention(done))
    following = pipeline.find_new_files()
    assert following is not None and following.files == 2


def test_a_pass_that_finds_nothing_new_ends_the_run(landing) -> None:
    conn, s3, bucket = landing
    put_ndjson(s3, bucket, seed_lines(), name="only")
    done = pipeline.load_transform_check(listing=pipeline.find_new_files(), catch_up_seconds=120)
    assert (done["passes"], done["files_loaded"]) == (1, 1)
    assert scalar(conn, "select count(*) from analytics.orders") == 100
