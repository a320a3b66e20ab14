"""The AWS emulator's indexed LIST answers exactly as S3 (and moto unpatched) would, after puts and deletes."""

from __future__ import annotations

import random

import boto3
from moto import mock_aws

from local_stack.aws_emulator import patch_moto_s3_listing


def expected(names: set[str], prefix: str, delimiter: str | None, start_after: str | None) -> list[str]:
    """ListObjectsV2 as S3 documents it: keys and common prefixes under the prefix, in key order, after
    StartAfter (https://docs.aws.amazon.com/AmazonS3/latest/API/API_ListObjectsV2.html)."""
    entries = set()
    for name in names:
        if not name.startswith(prefix):
            continue
        rest = name[len(prefix) :]
        entries.add(prefix + rest.split(delimiter)[0] + delimiter if delimiter and delimiter in rest else name)
    return sorted(e for e in entries if start_after is None or e > start_after)


def listed(s3: object, bucket: str, prefix: str, delimiter: str | None, start_after: str | None) -> list[str]:
    found, kwargs = [], {"Bucket": bucket, "Prefix": prefix, "MaxKeys": 7}
    kwargs |= {"Delimiter": delimiter} if delimiter else {}
    kwargs |= {"StartAfter": start_after} if start_after else {}
    while True:
        page = s3.list_objects_v2(**kwargs)
        found += [o["Key"] for o in page.get("Contents", [])] + [p["Prefix"] for p in page.get("CommonPrefixes", [])]
        if not page.get("IsTruncated"):
            return sorted(found)
        kwargs["ContinuationToken"] = page["NextContinuationToken"]


def test_the_indexed_listing_matches_s3_through_puts_and_deletes() -> None:
    patch_moto_s3_listing()
    draw = random.Random(7)
    with mock_aws():
        s3 = boto3.client("s3", region_name="us-east-1")
        s3.create_bucket(Bucket="listing-test")
        names: set[str] = set()
        for round_ in range(6):
            for _ in range(40):
                folder = draw.choice(["landing", "errors/x", "errors/y"])
                name = f"{folder}/d={draw.randint(1, 4)}/{draw.randint(0, 30)}"
                s3.put_object(Bucket="listing-test", Key=name, Body=b"x")
                names.add(name)
            for name in draw.sample(sorted(names), 10):
                s3.delete_object(Bucket="listing-test", Key=name)
                names.discard(name)
            for prefix, delimiter, start_after in [
                ("landing/", None, None),
                ("landing/d=2/", None, "landing/d=2/1"),
                ("errors/", "/", None),
                ("errors/x/", None, "errors/x/d=3/"),
                ("landing/d=", "/", "landing/d=1/"),
                ("nothing/", None, None),
            ]:
                assert listed(s3, "listing-test", prefix, delimiter, start_after) == expected(
                    names, prefix, delimiter, start_after
                ), (round_, prefix, delimiter, start_after)
