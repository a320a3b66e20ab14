"""Every SQL file is Snowflake SQL: each statement parses with sqlglot's Snowflake dialect."""

from __future__ import annotations

import re

import pytest
import sqlglot
from sqlglot.errors import ErrorLevel

from warehouse import sql_files
from warehouse.identifiers import IdentifierError, account_variables

ACCOUNT_VARIABLES = {
    "warehouse": "MOBILE_EVENTS_WH",
    "database": "MOBILE_EVENTS",
    "role": "MOBILE_EVENTS_LOADER",
    "integration": "MOBILE_EVENTS_S3",
    "role_arn": "arn:aws:iam::123456789012:role/snowflake-mobile-events",
    "bucket": "mobile-events-landing",
    "landing_prefix": "landing/",
    "user": "MOBILE_EVENTS_PIPELINE",
    "network_policy": "MOBILE_EVENTS_PIPELINE_ONLY",
    "public_key": "MIIBIjANBgkqhkiG9w0BAQEFAAOCAQ8AMIIBCgKCAQEA",
    "allowed_ip_list": "'192.0.2.0/24', '198.51.100.7/32'",
    "read_role": "MOBILE_EVENTS_READER",
    "read_user": "MOBILE_EVENTS_HEALTH",
    "read_public_key": "MIIBIjANBgkqhkiG9w0BAQEFAAOCAQ8AMIIBCgKCAQEB",
}
FOLDERS = ("setup", "setup/account", "migrations", "load", "transform", "checks")
ALL_FILES = [f for folder in FOLDERS for f in sql_files.files(folder)]


def bind_samples(statement: str) -> str:
    return re.sub(r"%\((\w+)\)s", "'sample'", statement)


@pytest.mark.parametrize("relative", ALL_FILES)
def test_every_statement_parses_as_snowflake(relative: str) -> None:
    variables = ACCOUNT_VARIABLES if relative.startswith("setup/account/") else None
    statements = sql_files.statements(relative, variables)
    assert statements, f"{relative} has no statements"
    for statement in statements:
        parsed = sqlglot.parse(bind_samples(statement), read="snowflake", error_level=ErrorLevel.RAISE)
        assert len(parsed) == 1 and parsed[0] is not None


def test_account_variables_are_validated() -> None:
    assert account_variables(ACCOUNT_VARIABLES)["role"] == "MOBILE_EVENTS_LOADER"
    with pytest.raises(IdentifierError, match="warehouse"):
        account_variables({**ACCOUNT_VARIABLES, "warehouse": "WH; drop database X"})
    with pytest.raises(IdentifierError, match="role_arn"):
        account_variables({**ACCOUNT_VARIABLES, "role_arn": "arn:aws:iam::1:role/x' or '1'='1"})


def test_account_files_need_their_variables() -> None:
    with pytest.raises(ValueError, match="variables"):
        sql_files.statements("setup/account/01_warehouse_database.sql")
