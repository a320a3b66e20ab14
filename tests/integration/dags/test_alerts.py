"""The ELT DAG's alerts, published through the real Amazon provider to an SNS topic on the AWS emulator and
read back from an SQS queue subscribed to it: a failure's message and a report's error reach the topic cut and
escaped, never as the raw exception text (which can quote a key or a value a writer chose)."""

from __future__ import annotations

import importlib.util
import json
import uuid
from pathlib import Path
from types import ModuleType, SimpleNamespace

import pytest

from mobile_events_elt.warehouse import pipeline

DAG_FILE = Path(__file__).resolve().parents[3] / "dags" / "mobile_events_elt_dag.py"
FORGED = "landing/a.gz\n2024-01-29 19:39:47 [ERROR] forged line\r\x1b[2J\u202e"


@pytest.fixture
def topic(aws_endpoint, monkeypatch) -> tuple[str, str]:
    """A topic with a queue subscribed to it (raw delivery: the queue holds the message as published)."""
    import boto3

    monkeypatch.setenv(
        "AIRFLOW_CONN_AWS_DEFAULT",
        json.dumps({"conn_type": "aws", "extra": {"endpoint_url": aws_endpoint, "region_name": "us-east-1"}}),
    )
    name = f"alerts-{uuid.uuid4().hex[:8]}"
    arn = boto3.client("sns").create_topic(Name=name)["TopicArn"]
    sqs = boto3.client("sqs")
    queue = sqs.create_queue(QueueName=name)["QueueUrl"]
    queue_arn = sqs.get_queue_attributes(QueueUrl=queue, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    boto3.client("sns").subscribe(
        TopicArn=arn, Protocol="sqs", Endpoint=queue_arn, Attributes={"RawMessageDelivery": "true"}
    )
    return arn, queue


def elt_dag_module(arn: str) -> ModuleType:
    """dags/mobile_events_elt_dag.py as Airflow parses it, with the alerts topic configured."""
    spec = importlib.util.spec_from_file_location(f"elt_dag_{uuid.uuid4().hex}", DAG_FILE)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    module.ALERTS_TOPIC_ARN = arn
    return module


def published(queue: str) -> list[str]:
    import boto3

    messages = boto3.client("sqs").receive_message(QueueUrl=queue, MaxNumberOfMessages=10, WaitTimeSeconds=5)
    return [message["Body"] for message in messages.get("Messages", [])]


def test_a_failure_alert_carries_the_exception_cut_and_escaped(topic) -> None:
    arn, queue = topic
    failure = pipeline.FilesNeedAttention({FORGED: "REJECTED_KEY: not canonical"})
    raw = RuntimeError(f"database says: {FORGED} " + "x" * 900_000)
    (notifier,) = elt_dag_module(arn)._failure_alerts()
    for exception in (failure, raw):
        notifier(
            {"ti": SimpleNamespace(task_id="load_transform_check"), "run_id": "manual\n2024", "exception": exception}
        )
    first, second = published(queue)
    assert first.startswith("Task load_transform_check of run manual\\n2024 failed: 1 delivered file(s) could not")
    assert "landing/a.gz\\n2024-01-29 19:39:47 [ERROR] forged line\\r\\x1b[2J\\u202e" in first
    assert "database says: landing/a.gz\\n2024-01-29" in second and second.endswith(" more characters]")
    assert all(message.isprintable() and len(message) < 5000 for message in (first, second))


def test_a_report_error_is_published_as_given(topic) -> None:
    """warehouse.reports hands over the error already cut and escaped, once per distinct error."""
    arn, queue = topic
    elt_dag_module(arn)._report_alert("value_drift", "InterfaceError 252005: year 0 is out of range")
    (message,) = published(queue)
    assert message == (
        "Report value_drift failed; the run went on and its data tests decided it. "
        "The error: InterfaceError 252005: year 0 is out of range"
    )


def test_without_a_topic_nothing_is_published(topic) -> None:
    arn, queue = topic
    module = elt_dag_module(arn)
    module.ALERTS_TOPIC_ARN = None
    assert module._failure_alerts() == []
    module._report_alert("value_drift", "an error")
    assert published(queue) == []
