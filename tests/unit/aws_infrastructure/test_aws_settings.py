"""aws.json validation: every rule names the file, the field and the rule, and all problems come at once."""

from __future__ import annotations

import copy
import json
import uuid
from pathlib import Path
from typing import Any

import pytest

from aws_infrastructure.settings import load_settings, parse_settings
from config import ConfigError

FILE = Path("/cfg/aws.json")


def config_dict(suffix: str | None = None, **firehose: Any) -> dict[str, Any]:
    """A valid aws.json with names unique to one test, so tests never collide on the shared emulator."""
    s = suffix or uuid.uuid4().hex[:10]
    return {
        "region": "us-east-1",
        "bucket": f"test-landing-{s}",
        "stream": {"name": f"test-stream-{s}", "shard_count": 1, "retention_hours": 24},
        "firehose": {
            "name": f"test-firehose-{s}",
            "role_name": f"test-firehose-role-{s}",
            "prefix": "landing/year=!{timestamp:yyyy}/month=!{timestamp:MM}/day=!{timestamp:dd}/hour=!{timestamp:HH}/",
            "error_output_prefix": "errors/!{firehose:error-output-type}/year=!{timestamp:yyyy}/",
            "compression": "GZIP",
            "buffering": {"size_mib": 1, "interval_seconds": 0},
            **firehose,
        },
    }


def write_config(directory: Path, data: dict[str, Any]) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    (directory / "aws.json").write_text(json.dumps(data, indent=2))
    return directory


def problems(data: dict[str, Any]) -> dict[str, str]:
    with pytest.raises(ConfigError) as caught:
        parse_settings(data, FILE)
    return {p.field: p.rule for p in caught.value.problems}


def with_change(path: str, value: Any) -> dict[str, Any]:
    data = copy.deepcopy(config_dict("x"))
    node = data
    *parents, last = path.split(".")
    for key in parents:
        node = node.setdefault(key, {})
    node[last] = value
    return data


def test_shipped_config_is_valid_and_derives_the_landing_folder(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("PIPELINE_CONFIG_DIR", raising=False)
    settings = load_settings()
    assert settings.firehose.landing_prefix == "landing/"
    assert settings.firehose.error_prefix == "errors/"
    assert 1 <= settings.firehose.buffer_size_mib <= 128


def test_minimal_config_gets_derived_names() -> None:
    data = config_dict("abc")
    del data["firehose"]["role_name"]
    settings = parse_settings(data, FILE)
    assert settings.firehose.role_name == "test-firehose-abc-delivery"
    assert settings.alerts_topic == "test-firehose-abc-alerts"
    assert settings.landing_queue == "test-firehose-abc-landing-objects"
    assert settings.airflow_role_name == "test-firehose-abc-airflow"
    assert settings.airflow.assumed_by == []
    assert settings.stream.mode == "PROVISIONED"


def test_the_state_folder_holds_the_elt_marker() -> None:
    """The bucket lets only the Airflow role write the state folder: the marker the ELT writes must be in it."""
    from warehouse import listing_marker

    settings = parse_settings(config_dict("abc"), FILE)
    assert listing_marker.MARKER_KEY.startswith(settings.state_prefix)
    assert not settings.state_prefix.startswith((settings.firehose.landing_prefix, settings.firehose.error_prefix))


@pytest.mark.parametrize(
    ("field", "value", "rule"),
    [
        ("bucket", "Data_Stream_Ingestion", "lowercase letters, digits"),
        ("bucket", "ab", "3-63 characters"),
        ("bucket", "192.168.5.4", "IP address"),
        ("bucket", "my..bucket", "'..'"),
        ("bucket", "xn--bucket", "must not start with"),
        ("stream.shard_count", 0, "1-500 shards"),
        ("stream.shard_count", "2", "whole number"),
        ("stream.retention_hours", 12, "24-8760 hours"),
        ("stream.mode", "SERVERLESS", "PROVISIONED, ON_DEMAND"),
        ("firehose.buffering.size_mib", 129, "1-128 MiB"),
        ("firehose.buffering.size_mib", 0, "1-128 MiB"),
        ("firehose.buffering.interval_seconds", 901, "0-900 seconds"),
        ("firehose.buffering.interval_seconds", -1, "0-900 seconds"),
        ("firehose.compression", "Snappy", "GZIP, UNCOMPRESSED"),
        ("firehose.name", "has space", "1-64 of"),
        ("region", "useast1", "region code"),
        ("firehose.prefix", "landing/!{timestamp:YYYY}/", "week-based year"),
        ("firehose.prefix", "landing/!{timestamp:yyyy/", "not closed"),
        ("firehose.prefix", "landing/!{firehose:error-output-type}/", "only in the ErrorOutputPrefix"),
        ("firehose.prefix", "landing/!{partitionKeyFromQuery:id}/", "dynamic partitioning"),
        ("firehose.prefix", "landing/!{time:yyyy}/", "unknown namespace"),
        ("firehose.prefix", "/landing/!{timestamp:yyyy}/", "must not start with '/'"),
        ("firehose.prefix", "!{timestamp:yyyy}/landing/", "fixed folder"),
        ("firehose.error_output_prefix", "errors/!{timestamp:yyyy}/", "!{firehose:error-output-type}"),
        ("firehose.error_output_prefix", "landing/errors/!{firehose:error-output-type}/", "must not overlap"),
        ("bucket_lifecycle.landing_transition_to_ia_days", 10, "at least 30 days"),
        ("bucket_lifecycle.landing_expiration_days", 30, "greater than landing_transition_to_ia_days"),
        ("landing_events.queue_name", "bad.name", "SQS queue names"),
        ("firehose.prefix", "state/landing/!{timestamp:yyyy}/", "must not overlap 'state/'"),
        ("firehose.error_output_prefix", "state/!{firehose:error-output-type}/", "must not overlap 'state/'"),
        ("airflow.role_name", "has space", "IAM role names"),
        ("airflow.assumed_by", ["arn:aws:iam::12345:role/x"], "IAM principal ARN"),
        ("airflow.assumed_by", ["airflow-worker"], "IAM principal ARN"),
        ("airflow.assumed_by", ["arn:aws:iam::123456789012:role/a"] * 2, "names a principal twice"),
        ("airflow.assumed_by", "arn:aws:iam::123456789012:role/a", "must be a list"),
        ("airflow.assumed_by", [f"arn:aws:iam::123456789012:role/r{i}" for i in range(11)], "at most 10"),
    ],
)
def test_each_rule_names_field_and_rule(field: str, value: Any, rule: str) -> None:
    found = problems(with_change(field, value))
    assert field in found, found
    assert rule in found[field]


def test_airflow_role_may_be_assumed_by_roles_users_or_the_account() -> None:
    principals = [
        "arn:aws:iam::123456789012:role/service-role/mwaa-execution",
        "arn:aws:iam::123456789012:user/ci",
        "arn:aws:iam::123456789012:root",
        "arn:aws-cn:iam::123456789012:role/airflow-worker",
    ]
    data = config_dict("abc")
    data["airflow"] = {"role_name": "elt-airflow", "assumed_by": principals}
    settings = parse_settings(data, FILE)
    assert (settings.airflow_role_name, settings.airflow.assumed_by) == ("elt-airflow", principals)


def test_prefix_with_expressions_needs_an_error_output_prefix_with_the_error_type() -> None:
    found = problems(with_change("firehose.error_output_prefix", ""))
    assert "a Prefix with expressions needs an ErrorOutputPrefix" in found["firehose.error_output_prefix"]


def test_unknown_field_suggests_the_known_one() -> None:
    data = config_dict("x")
    data["firehose"]["bufering"] = data["firehose"].pop("buffering")
    found = problems(data)
    assert "did you mean 'buffering'" in found["firehose.bufering"]
    assert "is required" in found["firehose.buffering"]


def test_all_problems_reported_at_once_with_file_in_message() -> None:
    data = with_change("bucket", "Bad_Bucket")
    data["stream"]["shard_count"] = 0
    data["firehose"]["buffering"]["size_mib"] = 500
    with pytest.raises(ConfigError) as caught:
        parse_settings(data, FILE)
    message = str(caught.value)
    assert message.count(str(FILE)) == 3
    assert "field 'bucket'" in message and "field 'stream.shard_count'" in message
    assert "(got 500)" in message


def test_load_settings_reads_pipeline_config_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    data = with_change("firehose.buffering.interval_seconds", 1000)
    monkeypatch.setenv("PIPELINE_CONFIG_DIR", str(write_config(tmp_path / "cfg", data)))
    with pytest.raises(ConfigError) as caught:
        load_settings()
    assert str(tmp_path / "cfg" / "aws.json") in str(caught.value)
    assert caught.value.problems[0].field == "firehose.buffering.interval_seconds"


def test_credentials_are_not_config(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    data = config_dict("x")
    data["aws_secret_access_key"] = "oops"
    found = problems(data)
    assert "unknown field" in found["aws_secret_access_key"]
