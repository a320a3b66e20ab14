"""Firehose prefix expressions: Java timestamp patterns, the firehose namespace, object names."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta, timezone

import pytest

from aws_infrastructure import prefixes

WHEN = datetime(2024, 3, 7, 5, 9, 4, 123456, tzinfo=UTC)


def test_expands_the_configured_layout_at_one_instant() -> None:
    prefix = "landing/year=!{timestamp:yyyy}/month=!{timestamp:MM}/day=!{timestamp:dd}/hour=!{timestamp:HH}/"
    assert prefixes.expand(prefix, WHEN) == "landing/year=2024/month=03/day=07/hour=05/"


@pytest.mark.parametrize(
    ("pattern", "expected"),
    [
        ("yyyy", "2024"),
        ("yy", "24"),
        ("MM", "03"),
        ("M", "3"),
        ("dd", "07"),
        ("d", "7"),
        ("HH", "05"),
        ("mm", "09"),
        ("ss", "04"),
        ("yyyy-MM-dd", "2024-03-07"),
        ("yyyy/MM/dd/HH", "2024/03/07/05"),
        ("yyyy-MM-dd'T'HH", "2024-03-07T05"),
        ("'day' D", "day 67"),
        ("'it''s' yyyy", "it's 2024"),
        ("MMM EEE", "Mar Thu"),
        ("hh a", "05 AM"),
        ("SSS", "123"),
    ],
)
def test_java_patterns(pattern: str, expected: str) -> None:
    assert prefixes.format_java(pattern, WHEN) == expected


def test_every_expression_of_a_prefix_uses_the_same_instant() -> None:
    late = datetime(2024, 12, 31, 23, 59, 59, tzinfo=UTC)
    assert prefixes.expand("a/!{timestamp:yyyy}/!{timestamp:MM}/!{timestamp:dd}/", late) == "a/2024/12/31/"


def test_week_based_year_is_rejected_because_it_misfiles_new_year() -> None:
    with pytest.raises(prefixes.PrefixError, match="week-based year"):
        prefixes.check("x/!{timestamp:YYYY}/", error_prefix=False)


def test_error_output_type_only_in_error_prefix_and_expanded_there() -> None:
    error_prefix = "errors/!{firehose:error-output-type}/!{timestamp:yyyy}/"
    prefixes.check(error_prefix, error_prefix=True)
    assert (
        prefixes.expand(error_prefix, WHEN, error_output_type="processing-failed") == "errors/processing-failed/2024/"
    )
    with pytest.raises(prefixes.PrefixError):
        prefixes.expand(error_prefix, WHEN)


def test_random_string_is_eleven_fresh_characters() -> None:
    first = prefixes.expand("r/!{firehose:random-string}/", WHEN)
    second = prefixes.expand("r/!{firehose:random-string}/", WHEN)
    assert re.fullmatch(r"r/[a-z0-9]{11}/", first)
    assert first != second


def test_pair_rule() -> None:
    with pytest.raises(prefixes.PrefixError, match="needs an ErrorOutputPrefix"):
        prefixes.check_pair("landing/!{timestamp:yyyy}/", None)
    with pytest.raises(prefixes.PrefixError, match="must contain"):
        prefixes.check_pair("landing/!{timestamp:yyyy}/", "errors/!{timestamp:yyyy}/")
    prefixes.check_pair("landing/", None)
    prefixes.check_pair("landing/!{timestamp:yyyy}/", "errors/!{firehose:error-output-type}/")


def test_literal_folder_is_the_fixed_part_up_to_its_last_slash() -> None:
    assert prefixes.literal_folder("landing/year=!{timestamp:yyyy}/") == "landing/"
    assert prefixes.literal_folder("a/b/!{timestamp:yyyy}/") == "a/b/"
    assert prefixes.literal_folder("raw/") == "raw/"
    assert prefixes.literal_folder("!{timestamp:yyyy}/") == ""


def test_prefix_without_expressions_gets_firehose_legacy_time_folder() -> None:
    assert prefixes.expand(prefixes.effective_prefix("raw/"), WHEN) == "raw/2024/03/07/05/"
    assert prefixes.expand(prefixes.effective_prefix("raw"), WHEN) == "raw/2024/03/07/05/"
    default_errors = prefixes.effective_error_prefix("raw/", None)
    assert prefixes.expand(default_errors, WHEN, error_output_type="processing-failed") == (
        "raw/processing-failed/2024/03/07/05/"
    )


def test_object_name_follows_firehose() -> None:
    name = prefixes.object_name("my-stream", "3", WHEN, ".gz")
    assert re.fullmatch(r"my-stream-3-2024-03-07-05-09-04-[0-9a-f-]{36}\.gz", name)


def test_expansion_refuses_local_time() -> None:
    with pytest.raises(ValueError, match="UTC"):
        prefixes.expand("a/!{timestamp:HH}/", WHEN.astimezone(timezone(timedelta(hours=2))))
