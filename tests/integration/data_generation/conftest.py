"""The Kinesis client and a fresh stream on the session's AWS emulator, for this folder's producer tests."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import boto3
import pytest

from tests.support.kinesis import make_stream


@pytest.fixture
def kinesis(aws_endpoint: str) -> Any:
    """A real boto3 Kinesis client, pointed at the AWS emulator."""
    return boto3.client("kinesis")


@pytest.fixture
def stream(kinesis: Any) -> Iterator[str]:
    """A one-shard stream of the test's own, deleted afterwards."""
    name = make_stream(kinesis)
    yield name
    kinesis.delete_stream(StreamName=name)
