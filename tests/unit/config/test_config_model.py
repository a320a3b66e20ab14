"""config.settings(): every config file in one typed object with the environment's overrides, and the one
place that builds clients."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

import config
from aws_infrastructure.settings import Settings as AwsSettings
from config.clients import aws_client
from data_generation.settings import GeneratorSettings
from warehouse.settings import WarehouseSettings

REPO = Path(__file__).resolve().parents[3]


def test_one_typed_object_holds_every_file(config_copy: Path) -> None:
    settings = config.settings()
    assert isinstance(settings.aws, AwsSettings) and settings.aws.firehose.landing_prefix == "landing/"
    assert isinstance(settings.warehouse, WarehouseSettings) and settings.warehouse.stage == "RAW.LANDING_INTERNAL"
    assert isinstance(settings.generator, GeneratorSettings) and settings.generator.cities
    assert (settings.connections.snowflake, settings.connections.aws) == ("snowflake_default", "aws_default")
    with pytest.raises(Exception, match="frozen"):
        settings.connections.aws = "other"  # type: ignore[misc]


def test_the_environment_overrides_what_the_files_say(config_copy: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    data = json.loads((config_copy / "snowflake.json").read_text())
    (config_copy / "snowflake.json").write_text(json.dumps({**data, "connection_id": "from_file"}))
    assert config.connections().snowflake == "from_file"
    monkeypatch.setenv("ELT_SNOWFLAKE_CONN_ID", "snowflake_prod")
    monkeypatch.setenv("ELT_AWS_CONN_ID", "aws_prod")
    monkeypatch.setenv("SNOWFLAKE_STAGE_MODE", "external")
    monkeypatch.setenv("SNOWFLAKE_DATABASE", "OTHER_DB")
    settings = config.settings()
    assert (settings.connections.snowflake, settings.connections.aws) == ("snowflake_prod", "aws_prod")
    assert (settings.warehouse.stage, settings.warehouse.database) == ("RAW.LANDING_S3", "OTHER_DB")


def test_a_bad_override_or_file_is_named_with_its_field(config_copy: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SNOWFLAKE_STAGE_MODE", "s3")
    rule = r"snowflake\.json: field 'stage_mode': must be one of internal, external \(got 's3'\)"
    with pytest.raises(config.ConfigError, match=rule):
        config.settings()
    monkeypatch.delenv("SNOWFLAKE_STAGE_MODE")
    bad = shutil.copytree(config_copy, config_copy.parent / "bad")  # config files are read once per path
    aws = json.loads((bad / "aws.json").read_text())
    (bad / "aws.json").write_text(json.dumps({**aws, "bucket": "Bad_Bucket"}))
    monkeypatch.setenv("PIPELINE_CONFIG_DIR", str(bad))
    with pytest.raises(config.ConfigError, match=r"aws\.json: field 'bucket'"):
        config.settings()


def test_aws_clients_take_the_region_and_the_endpoint_from_one_place(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AWS_ENDPOINT_URL", "http://127.0.0.1:4999")
    client = aws_client("kinesis", "eu-west-1")
    assert (client.meta.region_name, client.meta.endpoint_url) == ("eu-west-1", "http://127.0.0.1:4999")


def test_every_file_is_checked_the_same_way_and_reported_together(
    config_copy: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """One broken rule in each file: one ConfigError lists all three, each with its file, field path and rule."""
    for name, field, value in (
        ("aws", "region", "useast1"),
        ("snowflake", "freshness_hours", 0),
        ("generator", "num_users", "many"),
    ):
        data = json.loads((config_copy / f"{name}.json").read_text())
        (config_copy / f"{name}.json").write_text(json.dumps({**data, field: value}))
    with pytest.raises(config.ConfigError) as caught:
        config.settings()
    found = {(Path(p.file).name, p.field, p.value) for p in caught.value.problems}
    assert found == {
        ("aws.json", "region", "useast1"),
        ("snowflake.json", "freshness_hours", 0),
        ("generator.json", "num_users", "many"),
    }
    message = str(caught.value)
    rule = "must be a whole number of hours, at least 1"
    assert f"{config_copy / 'snowflake.json'}: field 'freshness_hours': {rule} (got 0)" in message
    assert "field 'num_users': must be a whole number" in message


def test_the_listing_look_back_is_a_whole_number_of_hours(config_copy: Path) -> None:
    """late_delivery_hours sets how far back a run lists S3 (docs/listing-window.md): at least an hour."""
    data = json.loads((config_copy / "snowflake.json").read_text())
    (config_copy / "snowflake.json").write_text(json.dumps({**data, "late_delivery_hours": 0}))
    with pytest.raises(config.ConfigError, match="field 'late_delivery_hours': must be a whole number of hours"):
        config.settings()
