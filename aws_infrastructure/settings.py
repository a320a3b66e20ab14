"""The AWS settings of the pipeline, read from config/aws.json and checked before any AWS call.

Every rule AWS would enforce later (bucket naming, shard counts, buffering limits, prefix expressions) is
checked here first, so a mistake fails in a second with the file, the field and the rule named, instead of
half-way through `up` with an AWS error code. All problems are reported at once. Names of the resources the
original file does not mention (alarm topic, queue, roles) default to names derived from the delivery
stream's, so an older or minimal aws.json keeps working.
"""

from __future__ import annotations

import difflib
import ipaddress
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import config
from aws_infrastructure import prefixes

SUPPORTED_COMPRESSION = ("GZIP", "UNCOMPRESSED")
STREAM_MODES = ("PROVISIONED", "ON_DEMAND")


@dataclass(frozen=True)
class Problem:
    file: Path
    field: str
    rule: str
    value: Any = None

    def __str__(self) -> str:
        got = "" if self.value is None else f" (got {self.value!r})"
        return f"{self.file}: field '{self.field}': {self.rule}{got}"


class AwsConfigError(config.ConfigError):
    """aws.json breaks one or more rules; ``problems`` lists each with its file, field and rule."""

    def __init__(self, problems: list[Problem]) -> None:
        self.problems = problems
        super().__init__("\n".join(str(p) for p in problems))


@dataclass(frozen=True)
class StreamSettings:
    name: str
    mode: str
    shard_count: int
    retention_hours: int


@dataclass(frozen=True)
class FirehoseSettings:
    name: str
    role_name: str
    prefix: str
    error_output_prefix: str
    compression: str
    buffer_size_mib: int
    buffer_interval_seconds: int

    @property
    def landing_prefix(self) -> str:
        return prefixes.literal_folder(self.prefix)

    @property
    def error_prefix(self) -> str:
        return prefixes.literal_folder(self.error_output_prefix)


@dataclass(frozen=True)
class LifecycleSettings:
    landing_transition_to_ia_days: int
    landing_expiration_days: int
    error_expiration_days: int
    noncurrent_version_expiration_days: int
    abort_incomplete_multipart_days: int


@dataclass(frozen=True)
class Settings:
    file: Path
    region: str
    bucket: str
    stream: StreamSettings
    firehose: FirehoseSettings
    lifecycle: LifecycleSettings
    alerts_topic: str
    landing_queue: str
    queue_retention_seconds: int
    snowflake_role_name: str


# --- field rules ---------------------------------------------------------------------------------------------

_REGION = re.compile(r"^[a-z]{2}(-[a-z]+)+-\d$")
_BUCKET = re.compile(r"^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$")
_STREAM_NAME = re.compile(r"^[a-zA-Z0-9_.-]{1,128}$")
_FIREHOSE_NAME = re.compile(r"^[a-zA-Z0-9_.-]{1,64}$")
_ROLE_NAME = re.compile(r"^[\w+=,.@-]{1,64}$")
_TOPIC_NAME = re.compile(r"^[A-Za-z0-9_-]{1,256}$")
_QUEUE_NAME = re.compile(r"^[A-Za-z0-9_-]{1,80}$")


def bucket_name_problem(name: str) -> str | None:
    """S3's general-purpose bucket naming rules; None when the name is valid."""
    if not _BUCKET.match(name):
        return (
            "S3 bucket names are 3-63 characters of lowercase letters, digits, '.' and '-', "
            "starting and ending with a letter or digit"
        )
    if ".." in name or ".-" in name or "-." in name:
        return "S3 bucket names must not contain '..', '.-' or '-.'"
    try:
        ipaddress.IPv4Address(name)
        return "S3 bucket names must not look like an IP address"
    except ValueError:
        pass
    if name.startswith(("xn--", "sthree-", "amzn-s3-demo-")):
        return "S3 bucket names must not start with 'xn--', 'sthree-' or 'amzn-s3-demo-'"
    if name.endswith(("-s3alias", "--ol-s3", "--x-s3", ".mrap", "--table-s3")):
        return "S3 bucket names must not end with a suffix S3 reserves (-s3alias, --ol-s3, --x-s3, .mrap, --table-s3)"
    return None


class _Reader:
    """Walks the JSON with a dotted field path, collecting problems instead of stopping at the first."""

    def __init__(self, file: Path, data: dict[str, Any]) -> None:
        self.file = file
        self.data = data
        self.problems: list[Problem] = []

    def problem(self, path: str, rule: str, value: Any = None) -> None:
        self.problems.append(Problem(self.file, path, rule, value))

    def section(self, path: str, known: set[str], required: bool = True) -> dict[str, Any]:
        value = self._lookup(path) if path else self.data
        if value is None:
            if required:
                self.problem(path, "is required (a JSON object)")
            return {}
        if not isinstance(value, dict):
            self.problem(path, "must be a JSON object", value)
            return {}
        for key in value:
            if key not in known:
                close = difflib.get_close_matches(key, sorted(known), n=1)
                hint = f"; did you mean '{close[0]}'?" if close else f"; known fields: {', '.join(sorted(known))}"
                self.problem(f"{path}.{key}" if path else key, f"unknown field{hint}")
        return value

    def _lookup(self, path: str) -> Any:
        node: Any = self.data
        for key in path.split("."):
            if not isinstance(node, dict):
                return None
            node = node.get(key)
        return node

    def text(self, path: str, pattern: re.Pattern[str] | None, rule: str, default: str | None = None) -> str:
        value = self._lookup(path)
        if value is None and default is not None:
            return default
        if not isinstance(value, str):
            self.problem(path, "is required (a string)" if value is None else "must be a string", value)
            return ""
        if pattern is not None and not pattern.match(value):
            self.problem(path, rule, value)
        return value

    def integer(self, path: str, low: int, high: int, rule: str, default: int | None = None) -> int:
        value = self._lookup(path)
        if value is None and default is not None:
            return default
        if isinstance(value, bool) or not isinstance(value, int):
            self.problem(path, f"must be a whole number: {rule}", value)
            return low
        if not low <= value <= high:
            self.problem(path, rule, value)
        return value


def parse_settings(data: dict[str, Any], file: Path) -> Settings:
    """Validate the parsed aws.json; raise AwsConfigError listing every problem."""
    r = _Reader(file, data)
    r.section(
        "",
        {"region", "bucket", "bucket_lifecycle", "stream", "firehose", "alerts", "landing_events", "snowflake"},
    )
    region = r.text("region", _REGION, "must be an AWS region code such as us-east-1")
    bucket = r.text("bucket", None, "")
    if bucket and (rule := bucket_name_problem(bucket)):
        r.problem("bucket", rule, bucket)

    r.section("stream", {"name", "mode", "shard_count", "retention_hours"})
    stream_name = r.text("stream.name", _STREAM_NAME, "Kinesis stream names are 1-128 of A-Z a-z 0-9 _ . -")
    mode = r.text("stream.mode", None, "", default="PROVISIONED")
    if mode not in STREAM_MODES:
        r.problem("stream.mode", f"must be one of {', '.join(STREAM_MODES)}", mode)
    shard_count = r.integer(
        "stream.shard_count", 1, 500, "a provisioned stream has 1-500 shards (Kinesis's default quota)", default=1
    )
    retention = r.integer(
        "stream.retention_hours", 24, 8760, "Kinesis keeps records 24-8760 hours (1-365 days)", default=24
    )

    r.section(
        "firehose",
        {"name", "role_name", "prefix", "error_output_prefix", "compression", "buffering"},
    )
    firehose_name = r.text("firehose.name", _FIREHOSE_NAME, "Firehose stream names are 1-64 of A-Z a-z 0-9 _ . -")
    role_name = r.text(
        "firehose.role_name",
        _ROLE_NAME,
        "IAM role names are 1-64 of A-Z a-z 0-9 + = , . @ _ -",
        default=f"{firehose_name}-delivery"[:64],
    )
    prefix = r.text("firehose.prefix", None, "")
    error_prefix = r.text("firehose.error_output_prefix", None, "")
    _check_prefixes(r, prefix, error_prefix)
    compression = r.text("firehose.compression", None, "", default="GZIP")
    if compression not in SUPPORTED_COMPRESSION:
        r.problem(
            "firehose.compression",
            f"must be one of {', '.join(SUPPORTED_COMPRESSION)} (what the local delivery and the warehouse load read)",
            compression,
        )
    r.section("firehose.buffering", {"size_mib", "interval_seconds"})
    size = r.integer("firehose.buffering.size_mib", 1, 128, "Firehose buffers 1-128 MiB")
    interval = r.integer("firehose.buffering.interval_seconds", 0, 900, "Firehose buffers 0-900 seconds")

    lifecycle = _lifecycle(r)

    r.section("alerts", {"topic_name"}, required=False)
    topic = r.text(
        "alerts.topic_name",
        _TOPIC_NAME,
        "SNS topic names are 1-256 of A-Z a-z 0-9 _ -",
        default=f"{firehose_name}-alerts",
    )
    r.section("landing_events", {"queue_name", "message_retention_seconds"}, required=False)
    queue = r.text(
        "landing_events.queue_name",
        _QUEUE_NAME,
        "SQS queue names are 1-80 of A-Z a-z 0-9 _ -",
        default=f"{firehose_name}-landing-objects"[:80],
    )
    queue_retention = r.integer(
        "landing_events.message_retention_seconds",
        60,
        1_209_600,
        "SQS keeps messages 60-1209600 seconds",
        default=345_600,
    )
    r.section("snowflake", {"storage_role_name"}, required=False)
    snowflake_role = r.text(
        "snowflake.storage_role_name",
        _ROLE_NAME,
        "IAM role names are 1-64 of A-Z a-z 0-9 + = , . @ _ -",
        default=f"{firehose_name}-snowflake-storage"[:64],
    )

    if r.problems:
        raise AwsConfigError(r.problems)
    return Settings(
        file=file,
        region=region,
        bucket=bucket,
        stream=StreamSettings(stream_name, mode, shard_count, retention),
        firehose=FirehoseSettings(firehose_name, role_name, prefix, error_prefix, compression, size, interval),
        lifecycle=lifecycle,
        alerts_topic=topic,
        landing_queue=queue,
        queue_retention_seconds=queue_retention,
        snowflake_role_name=snowflake_role,
    )


def _check_prefixes(r: _Reader, prefix: str, error_prefix: str) -> None:
    ok = True
    for path, value, is_error in (
        ("firehose.prefix", prefix, False),
        ("firehose.error_output_prefix", error_prefix, True),
    ):
        try:
            prefixes.check(value, error_prefix=is_error)
        except prefixes.PrefixError as exc:
            r.problem(path, str(exc), value)
            ok = False
    if not ok:
        return
    try:
        prefixes.check_pair(prefix, error_prefix)
    except prefixes.PrefixError as exc:
        r.problem("firehose.error_output_prefix", str(exc), error_prefix)
        return
    landing, errors = prefixes.literal_folder(prefix), prefixes.literal_folder(error_prefix)
    if not landing:
        r.problem(
            "firehose.prefix",
            "must start with a fixed folder such as 'landing/' before any expression "
            "(S3 notifications, lifecycle rules and the warehouse stage select objects by that folder)",
            prefix,
        )
    if not errors:
        r.problem(
            "firehose.error_output_prefix",
            "must start with a fixed folder such as 'errors/' before any expression",
            error_prefix,
        )
    if landing and errors and (landing.startswith(errors) or errors.startswith(landing)):
        r.problem(
            "firehose.error_output_prefix",
            f"its fixed folder {errors!r} must not overlap the prefix's {landing!r}, "
            "or failed records would be loaded as events",
            error_prefix,
        )


def _lifecycle(r: _Reader) -> LifecycleSettings:
    known = {
        "landing_transition_to_ia_days",
        "landing_expiration_days",
        "error_expiration_days",
        "noncurrent_version_expiration_days",
        "abort_incomplete_multipart_days",
    }
    r.section("bucket_lifecycle", known, required=False)
    transition = r.integer(
        "bucket_lifecycle.landing_transition_to_ia_days",
        30,
        36500,
        "S3 moves objects to STANDARD_IA after at least 30 days",
        default=30,
    )
    expiration = r.integer(
        "bucket_lifecycle.landing_expiration_days",
        1,
        36500,
        "days, 1-36500",
        default=365,
    )
    if expiration <= transition:
        r.problem(
            "bucket_lifecycle.landing_expiration_days",
            f"must be greater than landing_transition_to_ia_days ({transition}), or the transition never happens",
            expiration,
        )
    return LifecycleSettings(
        landing_transition_to_ia_days=transition,
        landing_expiration_days=expiration,
        error_expiration_days=r.integer(
            "bucket_lifecycle.error_expiration_days", 1, 36500, "days, 1-36500", default=90
        ),
        noncurrent_version_expiration_days=r.integer(
            "bucket_lifecycle.noncurrent_version_expiration_days", 1, 36500, "days, 1-36500", default=7
        ),
        abort_incomplete_multipart_days=r.integer(
            "bucket_lifecycle.abort_incomplete_multipart_days", 1, 36500, "days, 1-36500", default=1
        ),
    )


def load_settings() -> Settings:
    """Read and validate aws.json from the config folder (``PIPELINE_CONFIG_DIR`` overrides it)."""
    file = config.config_dir() / "aws.json"
    return parse_settings(config.load("aws"), file)
