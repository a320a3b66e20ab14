"""The Airflow role's trust policy names the principals the config gives."""

from __future__ import annotations

from pathlib import Path

from aws_infrastructure import policies
from aws_infrastructure.settings import parse_settings
from tests.unit.aws_infrastructure.test_aws_settings import config_dict


def test_the_airflow_role_is_assumed_by_the_principals_named_in_the_config() -> None:
    """Airflow's own credentials assume it through the connection's role_arn; none named, the account's IAM
    policies decide who may."""
    data = config_dict("x")
    by_account = policies.airflow_trust(
        "arn:aws:iam::123456789012:root", parse_settings(data, Path("aws.json")).airflow.assumed_by
    )
    assert by_account["Statement"] == [
        {
            "Sid": "AirflowAssumesRole",
            "Effect": "Allow",
            "Principal": {"AWS": "arn:aws:iam::123456789012:root"},
            "Action": "sts:AssumeRole",
        }
    ]
    workers = ["arn:aws:iam::123456789012:role/airflow-worker", "arn:aws:iam::123456789012:role/airflow-triggerer"]
    data["airflow"] = {"assumed_by": workers}
    named = policies.airflow_trust(
        "arn:aws:iam::123456789012:root", parse_settings(data, Path("aws.json")).airflow.assumed_by
    )
    assert named["Statement"][0]["Principal"] == {"AWS": workers}
