"""The compose file's Airflow components get the event wiring make up reads back from the AWS emulator."""

from __future__ import annotations

import os
from typing import Any

from tests.support.compose import airflow_services


def test_airflow_components_get_the_event_wiring_make_up_reads_back(
    services: dict[str, dict[str, Any]], aws_endpoint: str
) -> None:
    import boto3

    from mobile_events_elt.config.aws_settings import load_settings

    settings = load_settings()
    # What the emulator answers: its account, and queue URLs built from the endpoint it is called at
    # (a queue of the test's own name: the configured one may belong to another test on this server).
    account = boto3.client("sts").get_caller_identity()["Account"]
    probe = f"compose-probe-{os.getpid()}"
    assert boto3.client("sqs").create_queue(QueueName=probe)["QueueUrl"] == f"{aws_endpoint}/{account}/{probe}"
    for name, svc in airflow_services(services).items():
        env = svc["environment"]
        assert env["ELT_SQS_QUEUE_URL"] == f"{env['AWS_ENDPOINT_URL']}/{account}/{settings.landing_queue}", name
        assert env["ELT_ALERTS_TOPIC_ARN"] == f"arn:aws:sns:{settings.region}:{account}:{settings.alerts_topic}", name
