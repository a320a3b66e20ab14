"""Account-setup inputs and statements as the setup files render them; shared by the account and objects tests."""

from __future__ import annotations

import functools
from typing import Any

from warehouse import sql_files

# The SQL the health page and the static report run (warehouse.health.collect; its files section asks
# loader.new_files, which reads load/known_files.sql and load/unresolved_files.sql).
HEALTH_FILES = [*sql_files.files("health"), "load/known_files.sql", "load/unresolved_files.sql"]


@functools.cache
def public_key_pem(bits: int = 2048, which: int = 0) -> str:
    """A new RSA public key (PEM), the same for the same arguments: ``which`` tells apart keys of one size."""
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import rsa

    key = rsa.generate_private_key(public_exponent=65537, key_size=bits)
    return (
        key.public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        .decode()
    )


def values(**overrides: Any) -> dict[str, Any]:
    return {
        "warehouse": "MOBILE_EVENTS_WH",
        "database": "MOBILE_EVENTS",
        "role": "MOBILE_EVENTS_LOADER",
        "integration": "MOBILE_EVENTS_S3",
        "role_arn": "arn:aws:iam::123456789012:role/mobile-events-to-s3-snowflake-storage",
        "bucket": "mobile-events-landing",
        "landing_prefix": "landing/",
        "user": "MOBILE_EVENTS_PIPELINE",
        "network_policy": "MOBILE_EVENTS_PIPELINE_ONLY",
        "public_key": public_key_pem(),
        "allowed_ip_list": ["192.0.2.0/24", "198.51.100.7"],
        "read_role": "MOBILE_EVENTS_READER",
        "read_user": "MOBILE_EVENTS_HEALTH",
        "read_public_key": public_key_pem(which=1),
        **overrides,
    }


def account_statements(variables: dict[str, str]) -> list[str]:
    return [
        " ".join(stmt.split())
        for relative in sql_files.files("setup/account")
        for stmt in sql_files.statements(relative, variables)
    ]
