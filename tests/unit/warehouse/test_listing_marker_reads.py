"""Reading the listing marker: access denied names the missing permission; its size is checked
before its body is read."""

from __future__ import annotations

import io

import boto3
import pytest
from botocore.stub import Stubber

from tests.support.listing_marker import FOLDERS, LATE
from warehouse import listing_marker


def test_access_denied_on_the_first_read_names_the_missing_permission() -> None:
    """Without s3:ListBucket, S3 answers a GET of a missing object with 403 AccessDenied, not 404
    (https://docs.aws.amazon.com/AmazonS3/latest/API/API_GetObject.html, "Permissions"): injected around the
    real client with botocore's Stubber."""
    s3 = boto3.client("s3", region_name="us-east-1", aws_access_key_id="x", aws_secret_access_key="x")
    with Stubber(s3) as stub:
        stub.add_client_error("get_object", "AccessDenied", "Access Denied", 403)
        with pytest.raises(listing_marker.MarkerAccessDenied, match="s3:ListBucket") as denied:
            listing_marker.look(s3, "bucket", FOLDERS, LATE)
    assert "state/" in str(denied.value) and "s3:GetObject" in str(denied.value)


def test_the_marker_size_is_checked_before_its_body_is_read() -> None:
    s3 = boto3.client("s3", region_name="us-east-1", aws_access_key_id="x", aws_secret_access_key="x")
    from botocore.response import StreamingBody

    huge = listing_marker.MAX_MARKER_BYTES * 40
    body = StreamingBody(io.BytesIO(b"{"), huge)
    with Stubber(s3) as stub:
        stub.add_response("get_object", {"Body": body, "ContentLength": huge, "ETag": '"e"'})
        assert listing_marker._read(s3, "bucket") == ({}, '"e"')
