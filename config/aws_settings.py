"""The AWS settings of the pipeline: config/aws.json, checked as one pydantic model before any AWS call.

Every rule AWS would enforce later (bucket naming, shard counts, buffering limits, prefix expressions) is
checked here first, so a mistake fails in a second with the file, the field and the rule named, instead of
half-way through `up` with an AWS error code. All problems are reported at once (``config.validation``).
Names of the resources the original file does not mention (alarm topic, queue, roles) default to names
derived from the delivery stream's, so an older or minimal aws.json keeps working.
"""

from __future__ import annotations

import ipaddress
import re
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, PrivateAttr, StrictInt, StrictStr, field_validator, model_validator

from mobile_events_elt.config import files, prefixes
from mobile_events_elt.config.validation import Broken, validate

SUPPORTED_COMPRESSION = ("GZIP", "UNCOMPRESSED")
STREAM_MODES = ("PROVISIONED", "ON_DEMAND")

_REGION = r"^[a-z]{2}(-[a-z]+)+-\d$"
_BUCKET = r"^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$"
_STREAM_NAME = r"^[a-zA-Z0-9_.-]{1,128}$"
_FIREHOSE_NAME = r"^[a-zA-Z0-9_.-]{1,64}$"
_ROLE_NAME = r"^[\w+=,.@-]{1,64}$"
_TOPIC_NAME = r"^[A-Za-z0-9_-]{1,256}$"
_QUEUE_NAME = r"^[A-Za-z0-9_-]{1,80}$"
_ROLE_RULE = "IAM role names are 1-64 of A-Z a-z 0-9 + = , . @ _ -"
_PRINCIPAL_ARN = r"^arn:aws[a-z-]*:iam::\d{12}:(root|(role|user)/[\w+=,.@/-]{1,512})$"
_DAYS = "days, 1-36500"
# The bucket's folder for the pipeline's own state (the ELT's listing marker, warehouse/listing_marker.py):
# only the Airflow role may write there, so neither delivery folder may be it or lie inside it.
STATE_FOLDER = "state/"


def bucket_name_problem(name: str) -> str | None:
    """S3's general-purpose bucket naming rules; None when the name is valid."""
    if not re.match(_BUCKET, name):
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


class _Section(BaseModel):
    """A JSON object of aws.json: immutable, and a key it does not know is a problem (a typo or a credential)."""

    model_config = ConfigDict(frozen=True, extra="forbid")


def _one_of(value: str, allowed: tuple[str, ...], why: str = "") -> str:
    if value not in allowed:
        raise ValueError(f"must be one of {', '.join(allowed)}{why}")
    return value


class StreamSettings(_Section):
    name: StrictStr = Field(pattern=_STREAM_NAME, description="Kinesis stream names are 1-128 of A-Z a-z 0-9 _ . -")
    mode: StrictStr = "PROVISIONED"
    shard_count: StrictInt = Field(
        1, ge=1, le=500, description="a provisioned stream has 1-500 shards (Kinesis's default quota)"
    )
    retention_hours: StrictInt = Field(
        24, ge=24, le=8760, description="Kinesis keeps records 24-8760 hours (1-365 days)"
    )

    @field_validator("mode")
    @classmethod
    def _mode(cls, value: str) -> str:
        return _one_of(value, STREAM_MODES)


class Buffering(_Section):
    size_mib: StrictInt = Field(ge=1, le=128, description="Firehose buffers 1-128 MiB")
    interval_seconds: StrictInt = Field(ge=0, le=900, description="Firehose buffers 0-900 seconds")


class FirehoseSettings(_Section):
    name: StrictStr = Field(pattern=_FIREHOSE_NAME, description="Firehose stream names are 1-64 of A-Z a-z 0-9 _ . -")
    configured_role_name: StrictStr | None = Field(None, alias="role_name", pattern=_ROLE_NAME, description=_ROLE_RULE)
    prefix: StrictStr
    error_output_prefix: StrictStr
    compression: StrictStr = "GZIP"
    buffering: Buffering

    @field_validator("compression")
    @classmethod
    def _compression(cls, value: str) -> str:
        return _one_of(value, SUPPORTED_COMPRESSION, " (what the local delivery and the warehouse load read)")

    @field_validator("prefix")
    @classmethod
    def _prefix(cls, value: str) -> str:
        prefixes.check(value, error_prefix=False)
        return value

    @field_validator("error_output_prefix")
    @classmethod
    def _error_output_prefix(cls, value: str) -> str:
        prefixes.check(value, error_prefix=True)
        return value

    @model_validator(mode="after")
    def _folders(self) -> FirehoseSettings:
        """The two prefixes together: S3 notifications, lifecycle rules and the stage select by fixed folder."""
        prefix, error_prefix = self.prefix, self.error_output_prefix
        try:
            prefixes.check_pair(prefix, error_prefix)
        except prefixes.PrefixError as exc:
            raise Broken(("error_output_prefix", str(exc), error_prefix)) from None
        landing, errors = self.landing_prefix, self.error_prefix
        problems: list[tuple[str, str, Any]] = []
        if not landing:
            rule = (
                "must start with a fixed folder such as 'landing/' before any expression "
                "(S3 notifications, lifecycle rules and the warehouse stage select objects by that folder)"
            )
            problems.append(("prefix", rule, prefix))
        if not errors:
            rule = "must start with a fixed folder such as 'errors/' before any expression"
            problems.append(("error_output_prefix", rule, error_prefix))
        if landing and errors and (landing.startswith(errors) or errors.startswith(landing)):
            rule = (
                f"its fixed folder {errors!r} must not overlap the prefix's {landing!r}, "
                "or failed records would be loaded as events"
            )
            problems.append(("error_output_prefix", rule, error_prefix))
        for field, folder, value in (("prefix", landing, prefix), ("error_output_prefix", errors, error_prefix)):
            if folder and (folder.startswith(STATE_FOLDER) or STATE_FOLDER.startswith(folder)):
                rule = (
                    f"its fixed folder {folder!r} must not overlap {STATE_FOLDER!r}, the pipeline's own state "
                    "(only the Airflow role writes there)"
                )
                problems.append((field, rule, value))
        if problems:
            raise Broken(*problems)
        return self

    @property
    def role_name(self) -> str:
        return self.configured_role_name or f"{self.name}-delivery"[:64]

    @property
    def buffer_size_mib(self) -> int:
        return self.buffering.size_mib

    @property
    def buffer_interval_seconds(self) -> int:
        return self.buffering.interval_seconds

    @property
    def landing_prefix(self) -> str:
        return prefixes.literal_folder(self.prefix)

    @property
    def error_prefix(self) -> str:
        return prefixes.literal_folder(self.error_output_prefix)


class LifecycleSettings(_Section):
    landing_transition_to_ia_days: StrictInt = Field(
        30, ge=30, le=36500, description="S3 moves objects to STANDARD_IA after at least 30 days"
    )
    landing_expiration_days: StrictInt = Field(365, ge=1, le=36500, description=_DAYS)
    error_expiration_days: StrictInt = Field(90, ge=1, le=36500, description=_DAYS)
    noncurrent_version_expiration_days: StrictInt = Field(7, ge=1, le=36500, description=_DAYS)
    abort_incomplete_multipart_days: StrictInt = Field(1, ge=1, le=36500, description=_DAYS)

    @model_validator(mode="after")
    def _transition_first(self) -> LifecycleSettings:
        transition, expiration = self.landing_transition_to_ia_days, self.landing_expiration_days
        if expiration <= transition:
            rule = f"must be greater than landing_transition_to_ia_days ({transition}), or the transition never happens"
            raise Broken(("landing_expiration_days", rule, expiration))
        return self


class Alerts(_Section):
    topic_name: StrictStr | None = Field(
        None, pattern=_TOPIC_NAME, description="SNS topic names are 1-256 of A-Z a-z 0-9 _ -"
    )


class LandingEvents(_Section):
    queue_name: StrictStr | None = Field(
        None, pattern=_QUEUE_NAME, description="SQS queue names are 1-80 of A-Z a-z 0-9 _ -"
    )
    message_retention_seconds: StrictInt = Field(
        345_600, ge=60, le=1_209_600, description="SQS keeps messages 60-1209600 seconds"
    )


class SnowflakeAccess(_Section):
    storage_role_name: StrictStr | None = Field(None, pattern=_ROLE_NAME, description=_ROLE_RULE)


class AirflowAccess(_Section):
    """The role the ELT DAG's AWS connection (``aws_default``) runs as: Airflow's own credentials (an MWAA
    execution role, the Helm chart's IRSA role, an instance role) assume it through the connection's
    ``role_arn``; ``assumed_by`` names them (empty: any principal of the account whose own IAM policy allows
    it to)."""

    role_name: StrictStr | None = Field(None, pattern=_ROLE_NAME, description=_ROLE_RULE)
    assumed_by: list[StrictStr] = Field(
        default_factory=list,
        max_length=10,
        description="at most 10 IAM principal ARNs (arn:aws:iam::<12 digits>:role/<name>, :user/<name> or :root)",
    )

    @field_validator("assumed_by")
    @classmethod
    def _principals(cls, value: list[str]) -> list[str]:
        wrong = [arn for arn in value if not re.match(_PRINCIPAL_ARN, arn)]
        if wrong:
            raise ValueError(
                f"{', '.join(map(repr, wrong))}: each must be an IAM principal ARN "
                "(arn:aws:iam::<12 digits>:role/<name>, :user/<name> or :root)"
            )
        if len(set(value)) != len(value):
            raise ValueError("names a principal twice")
        return value


class Settings(_Section):
    """aws.json; ``file`` is where it was read, for messages that send the user back to a field."""

    region: StrictStr = Field(pattern=_REGION, description="must be an AWS region code such as us-east-1")
    bucket: StrictStr
    bucket_lifecycle: LifecycleSettings = Field(default_factory=LifecycleSettings)
    stream: StreamSettings
    firehose: FirehoseSettings
    alerts: Alerts = Field(default_factory=Alerts)
    landing_events: LandingEvents = Field(default_factory=LandingEvents)
    snowflake: SnowflakeAccess = Field(default_factory=SnowflakeAccess)
    airflow: AirflowAccess = Field(default_factory=AirflowAccess)
    _file: Path = PrivateAttr(default=Path("aws.json"))

    @field_validator("bucket")
    @classmethod
    def _bucket(cls, value: str) -> str:
        if rule := bucket_name_problem(value):
            raise ValueError(rule)
        return value

    @property
    def file(self) -> Path:
        return self._file

    @property
    def lifecycle(self) -> LifecycleSettings:
        return self.bucket_lifecycle

    @property
    def alerts_topic(self) -> str:
        return self.alerts.topic_name or f"{self.firehose.name}-alerts"

    @property
    def landing_queue(self) -> str:
        return self.landing_events.queue_name or f"{self.firehose.name}-landing-objects"[:80]

    @property
    def queue_retention_seconds(self) -> int:
        return self.landing_events.message_retention_seconds

    @property
    def snowflake_role_name(self) -> str:
        return self.snowflake.storage_role_name or f"{self.firehose.name}-snowflake-storage"[:64]

    @property
    def airflow_role_name(self) -> str:
        return self.airflow.role_name or f"{self.firehose.name}-airflow"[:64]

    @property
    def state_prefix(self) -> str:
        return STATE_FOLDER


def parse_settings(data: dict[str, Any], file: Path) -> Settings:
    """Check the parsed aws.json; ConfigError lists every problem (``problems``: file, field, rule, value)."""
    settings = validate(Settings, data, file)
    settings._file = file
    return settings


def load_settings() -> Settings:
    """Read and check aws.json from the config folder (``PIPELINE_CONFIG_DIR`` overrides it)."""
    return parse_settings(files.load("aws"), files.config_dir() / "aws.json")
