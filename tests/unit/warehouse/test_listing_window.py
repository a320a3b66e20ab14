"""The folders a run lists: the hours Firehose can still write to, whatever the prefix's shape."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from warehouse import listing_window

HOURLY = "landing/year=!{timestamp:yyyy}/month=!{timestamp:MM}/day=!{timestamp:dd}/hour=!{timestamp:HH}/"
NOW = datetime(2026, 12, 4, 23, 10, tzinfo=UTC)


def test_an_hourly_prefix_lists_one_folder_per_hour_of_the_window() -> None:
    folders = listing_window.window_folders(HOURLY, ["landing/"], NOW - timedelta(hours=2), NOW + timedelta(hours=1))
    assert folders == [
        "landing/year=2026/month=12/day=04/hour=21/",
        "landing/year=2026/month=12/day=04/hour=22/",
        "landing/year=2026/month=12/day=04/hour=23/",
        "landing/year=2026/month=12/day=05/hour=00/",
    ]


def test_the_window_is_set_by_its_hours_not_by_the_folders_history_holds() -> None:
    """A year of history changes nothing: the folders are computed, never discovered by listing them."""
    week = listing_window.window_folders(HOURLY, ["landing/"], NOW - timedelta(hours=25), NOW)
    assert len(week) == 26
    assert all(folder.startswith("landing/year=2026/month=12/day=0") for folder in week)


def test_a_daily_prefix_lists_each_day_once_and_a_minute_prefix_lists_by_hour() -> None:
    daily = "landing/!{timestamp:yyyy-MM-dd}/"
    assert listing_window.window_folders(daily, ["landing/"], NOW - timedelta(hours=30), NOW) == [
        "landing/2026-12-03/",
        "landing/2026-12-04/",
    ]
    minutes = "landing/!{timestamp:yyyy/MM/dd/HH/mm}/"
    assert listing_window.window_folders(minutes, ["landing/"], NOW - timedelta(hours=1), NOW) == [
        "landing/2026/12/04/22/",
        "landing/2026/12/04/23/",
    ]


def test_the_folders_before_the_time_part_are_the_parents() -> None:
    errors = "errors/!{firehose:error-output-type}/year=!{timestamp:yyyy}/month=!{timestamp:MM}/"
    parents = ["errors/format-conversion-failed/", "errors/processing-failed/"]
    folders = listing_window.window_folders(errors, parents, NOW - timedelta(hours=3), NOW)
    assert folders == [f"{parent}year=2026/month=12/" for parent in parents]


def test_without_a_window_start_everything_is_listed() -> None:
    assert listing_window.window_folders(HOURLY, ["landing/"], None, NOW) == ["landing/"]


def test_a_window_start_after_its_end_lists_the_end_hour() -> None:
    """A marker from a clock ahead of this one must not empty the window."""
    folders = listing_window.window_folders(HOURLY, ["landing/"], NOW + timedelta(days=3), NOW)
    assert folders == ["landing/year=2026/month=12/day=04/hour=23/"]


def test_in_folders_keeps_what_a_narrower_window_lists_again() -> None:
    keep = listing_window.LandedFile("landing/year=2026/month=12/day=04/hour=23/a.gz", "e", 1)
    drop = listing_window.LandedFile("landing/year=2026/month=12/day=03/hour=01/b.gz", "e", 1)
    narrower = listing_window.window_folders(HOURLY, ["landing/"], NOW - timedelta(hours=1), NOW)
    assert listing_window.in_folders([keep, drop], narrower) == [keep]


def test_a_window_of_months_lists_its_folders_whole_rather_than_hour_by_hour() -> None:
    assert listing_window.window_folders(HOURLY, ["landing/"], NOW - timedelta(days=90), NOW) == ["landing/"]
