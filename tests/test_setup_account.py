"""The account setup files (sql/setup/account/) on a fresh Snowflake account, read against the documented privileges.

fakesnow runs no warehouse, role, grant, integration, user or network policy, so these tests replay the
files' statements, in order, through a model of Snowflake's access control taken from the docs:

- system roles: ACCOUNTADMIN inherits SECURITYADMIN (which inherits USERADMIN) and SYSADMIN; SYSADMIN
  holds CREATE WAREHOUSE and CREATE DATABASE, USERADMIN CREATE ROLE and CREATE USER, SECURITYADMIN
  MANAGE GRANTS and CREATE NETWORK POLICY, only ACCOUNTADMIN CREATE INTEGRATION
  (https://docs.snowflake.com/en/user-guide/security-access-control-overview#system-defined-roles);
- an object's owner, and every role above it, holds all its privileges; CREATE SCHEMA needs CREATE SCHEMA
  on the database, CREATE STAGE needs CREATE STAGE on the schema and, with a storage integration, USAGE on
  the integration (https://docs.snowflake.com/en/sql-reference/sql/create-stage#access-control-requirements);
- GRANT needs ownership of the object or MANAGE GRANTS
  (https://docs.snowflake.com/en/sql-reference/sql/grant-privilege#access-control-requirements);
- internal stages take READ and WRITE, external stages USAGE
  (https://docs.snowflake.com/en/user-guide/security-access-control-privileges#stage-privileges);
- the external stage's URL must lie inside the integration's STORAGE_ALLOWED_LOCATIONS
  (https://docs.snowflake.com/en/sql-reference/sql/create-storage-integration);
- a TYPE = SERVICE user signs in with a key pair and cannot have a password
  (https://docs.snowflake.com/en/sql-reference/sql/create-user, https://docs.snowflake.com/en/user-guide/key-pair-auth);
- ALTER USER ... SET NETWORK_POLICY needs ownership of the user and of the policy, or SECURITYADMIN
  (https://docs.snowflake.com/en/user-guide/network-policies#activating-network-policies-for-individual-users).
"""

from __future__ import annotations

import base64
import functools
import re
from dataclasses import dataclass, field
from typing import Any

import pytest

from warehouse import account, setup, sql_files
from warehouse.identifiers import IdentifierError

SYSTEM_ROLES = {
    "ACCOUNTADMIN": {"SECURITYADMIN", "SYSADMIN"},
    "SECURITYADMIN": {"USERADMIN"},
    "USERADMIN": set(),
    "SYSADMIN": set(),
    "PUBLIC": set(),
}
ACCOUNT_PRIVILEGES = {
    "SYSADMIN": {"CREATE WAREHOUSE", "CREATE DATABASE"},
    "USERADMIN": {"CREATE ROLE", "CREATE USER"},
    "SECURITYADMIN": {"MANAGE GRANTS", "CREATE NETWORK POLICY"},
    "ACCOUNTADMIN": {"CREATE INTEGRATION"},
}


@functools.cache
def public_key_pem(bits: int = 2048) -> str:
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
        **overrides,
    }


def account_statements(variables: dict[str, str]) -> list[str]:
    return [
        " ".join(stmt.split())
        for relative in sql_files.files("setup/account")
        for stmt in sql_files.statements(relative, variables)
    ]


@dataclass
class Account:
    """Snowflake's access control, as far as the account files use it."""

    parents: dict[str, set[str]] = field(default_factory=lambda: {r: set(c) for r, c in SYSTEM_ROLES.items()})
    owners: dict[tuple[str, str], str] = field(default_factory=dict)
    grants: set[tuple[str, str, str, str]] = field(default_factory=set)
    users: dict[str, set[str]] = field(default_factory=dict)
    role: str = "PUBLIC"

    def inherited(self, role: str) -> set[str]:
        seen, todo = set(), [role]
        while todo:
            current = todo.pop()
            if current not in seen:
                seen.add(current)
                todo += self.parents.get(current, set())
        return seen

    def may(self, privilege: str, kind: str = "ACCOUNT", name: str = "") -> bool:
        roles = self.inherited(self.role)
        if kind == "ACCOUNT":
            return any(privilege in ACCOUNT_PRIVILEGES.get(r, set()) for r in roles)
        owner = self.owners.get((kind, name))
        return owner in roles or any((privilege, kind, name, r) in self.grants for r in roles)

    def require(self, allowed: bool, statement: str) -> None:
        assert allowed, f"role {self.role} may not run: {statement}"

    def create(self, kind: str, name: str) -> None:
        self.owners.setdefault((kind, name), self.role)

    def exists(self, kind: str, name: str) -> bool:
        return (kind, name) in self.owners

    def may_grant(self, kind: str, name: str) -> bool:
        return self.exists(kind, name) and (self.may("OWNERSHIP", kind, name) or self.may("MANAGE GRANTS"))

    def run(self, stmt: str) -> None:
        s = stmt.upper()
        if m := re.fullmatch(r"USE ROLE (\w+)", s):
            self.require(m[1] in self.parents, stmt)
            self.role = m[1]
        elif m := re.fullmatch(r"CREATE WAREHOUSE IF NOT EXISTS (\w+) .*", s):
            self.require(self.may("CREATE WAREHOUSE"), stmt)
            self.create("WAREHOUSE", m[1])
        elif m := re.fullmatch(r"CREATE DATABASE IF NOT EXISTS (\w+)", s):
            self.require(self.may("CREATE DATABASE"), stmt)
            self.create("DATABASE", m[1])
        elif m := re.fullmatch(r"CREATE SCHEMA IF NOT EXISTS (\w+)\.(\w+)", s):
            self.require(self.may("CREATE SCHEMA", "DATABASE", m[1]), stmt)
            self.create("SCHEMA", f"{m[1]}.{m[2]}")
        elif m := re.fullmatch(r"CREATE ROLE IF NOT EXISTS (\w+)", s):
            self.require(self.may("CREATE ROLE"), stmt)
            self.create("ROLE", m[1])
            self.parents.setdefault(m[1], set())
        elif m := re.fullmatch(r"GRANT ROLE (\w+) TO (ROLE|USER) (\w+)", s):
            self.require(self.may_grant("ROLE", m[1]), stmt)
            if m[2] == "ROLE":
                self.require(m[3] in self.parents, stmt)
                self.parents[m[3]].add(m[1])
            else:
                self.require(m[3] in self.users, stmt)
                self.users[m[3]].add(m[1])
        elif m := re.fullmatch(r"GRANT OWNERSHIP ON (\w+) ([\w.]+) TO ROLE (\w+) COPY CURRENT GRANTS", s):
            kind, name = m[1], m[2]
            self.require(self.may_grant(kind, name), stmt)
            self.require(m[3] in self.parents, stmt)
            self.owners[(kind, name)] = m[3]
        elif m := re.fullmatch(r"GRANT ([\w ,]+) ON (\w+) ([\w.]+) TO ROLE (\w+)", s):
            kind, name = m[2], m[3]
            self.require(self.may_grant(kind, name), stmt)
            self.require(m[4] in self.parents, stmt)
            for privilege in m[1].split(","):
                self.grants.add((privilege.strip(), kind, name, m[4]))
        elif m := re.fullmatch(r"CREATE STORAGE INTEGRATION IF NOT EXISTS (\w+) .*", s):
            self.require(self.may("CREATE INTEGRATION"), stmt)
            self.create("INTEGRATION", m[1])
        elif m := re.fullmatch(r"CREATE STAGE IF NOT EXISTS (\w+\.\w+)\.(\w+) .*STORAGE_INTEGRATION = (\w+)", s):
            self.require(self.may("CREATE STAGE", "SCHEMA", m[1]), stmt)
            self.require(self.may("USAGE", "INTEGRATION", m[3]), stmt)
            self.create("STAGE", f"{m[1]}.{m[2]}")
        elif m := re.fullmatch(r"CREATE NETWORK POLICY IF NOT EXISTS (\w+) .*", s):
            self.require(self.may("CREATE NETWORK POLICY"), stmt)
            self.create("NETWORK POLICY", m[1])
        elif m := re.fullmatch(
            r"CREATE USER IF NOT EXISTS (\w+) .*DEFAULT_ROLE = (\w+) DEFAULT_WAREHOUSE = (\w+) .*", s
        ):
            self.require(self.may("CREATE USER"), stmt)
            self.require(self.exists("ROLE", m[2]) and self.exists("WAREHOUSE", m[3]), stmt)
            self.create("USER", m[1])
            self.users.setdefault(m[1], set())
        elif m := re.fullmatch(r"ALTER USER (\w+) SET NETWORK_POLICY = (\w+)", s):
            owns_both = self.may("OWNERSHIP", "USER", m[1]) and self.may("OWNERSHIP", "NETWORK POLICY", m[2])
            self.require(
                self.exists("NETWORK POLICY", m[2]) and (owns_both or "SECURITYADMIN" in self.inherited(self.role)),
                stmt,
            )
        else:
            raise AssertionError(f"statement not in the model (add it, with its documented privileges): {stmt}")


@pytest.fixture(scope="module")
def fresh_account() -> tuple[Account, dict[str, str]]:
    variables = account.setup_variables(values())
    state = Account()
    for stmt in account_statements(variables):
        state.run(stmt)
    return state, variables


def test_account_files_run_in_order_on_a_fresh_account_each_as_a_role_allowed_to(fresh_account) -> None:
    state, variables = fresh_account
    db, role = variables["database"], variables["role"]
    assert state.exists("WAREHOUSE", variables["warehouse"])
    assert state.owners[("SCHEMA", f"{db}.RAW")] == role
    assert state.owners[("SCHEMA", f"{db}.ANALYTICS")] == role
    assert state.exists("STAGE", f"{db}.RAW.LANDING_S3")


def test_the_pipeline_role_gets_exactly_what_it_needs(fresh_account) -> None:
    state, variables = fresh_account
    db, role = variables["database"], variables["role"]
    granted = {(p, kind, name) for p, kind, name, grantee in state.grants if grantee == role}
    assert granted == {
        ("USAGE", "WAREHOUSE", variables["warehouse"]),
        ("USAGE", "DATABASE", db),
        ("USAGE", "STAGE", f"{db}.RAW.LANDING_S3"),
    }
    owned = {name for (kind, name), owner in state.owners.items() if owner == role}
    assert owned == {f"{db}.RAW", f"{db}.ANALYTICS"}
    # No USAGE on the integration: the pipeline role creates no stage. No CREATE SCHEMA on the database.
    assert not any(kind == "INTEGRATION" and grantee == role for _, kind, _, grantee in state.grants)
    assert "SYSADMIN" in {parent for parent, children in state.parents.items() if role in children}
    assert state.users[variables["user"]] == {role}


def test_stage_privileges_match_the_stage_kind() -> None:
    """USAGE for external stages, READ and WRITE for internal ones, never the other way round."""
    stages = {}
    for stmt in account_statements(account.setup_variables(values())):
        if m := re.fullmatch(r"create stage if not exists ([\w.]+)( .*)?", stmt, re.IGNORECASE):
            stages[m[1].upper()] = "external" if "url =" in (m[2] or "").lower() else "internal"
    grants = [
        (m[1].upper(), m[2].upper())
        for stmt in account_statements(account.setup_variables(values()))
        if (m := re.fullmatch(r"grant ([\w ,]+) on stage ([\w.]+) to role \w+", stmt, re.IGNORECASE))
    ]
    assert grants
    for privileges, stage in grants:
        allowed = {"USAGE"} if stages.get(stage) == "external" else {"READ", "WRITE"}
        assert {p.strip() for p in privileges.split(",")} <= allowed, (privileges, stage)


def test_the_external_stage_points_at_the_landing_folder_inside_the_allowed_locations() -> None:
    variables = account.setup_variables(values())
    text = "\n".join(account_statements(variables))
    allowed = re.findall(r"storage_allowed_locations = \(([^)]*)\)", text)
    urls = re.findall(r"create stage if not exists [\w.]+ url = '([^']+)'", text)
    assert len(allowed) == 1 and len(urls) == 1
    locations = [loc.strip().strip("'") for loc in allowed[0].split(",")]
    assert urls[0] == "s3://mobile-events-landing/landing/"
    assert any(urls[0].startswith(location) for location in locations)


def test_the_service_user_signs_in_with_a_key_pair_only() -> None:
    variables = account.setup_variables(values())
    users = [s for s in account_statements(variables) if s.lower().startswith("create user")]
    assert len(users) == 1
    user = users[0].lower()
    assert "type = service" in user
    assert f"rsa_public_key = '{variables['public_key'].lower()}'" in user
    assert not [s for s in account_statements(variables) if "password" in s.lower()]
    policies = [s for s in account_statements(variables) if s.lower().startswith("create network policy")]
    assert len(policies) == 1
    assert "allowed_ip_list = ('192.0.2.0/24', '198.51.100.7/32')" in policies[0]
    assert "alter user MOBILE_EVENTS_PIPELINE set network_policy = MOBILE_EVENTS_PIPELINE_ONLY" in account_statements(
        variables
    )


def test_setup_with_account_variables_runs_the_account_files_and_nothing_else() -> None:
    class Recorder:
        def __init__(self) -> None:
            self.statements: list[str] = []

        def cursor(self) -> Recorder:
            return self

        def execute(self, statement: str, params: Any = None) -> None:
            self.statements.append(" ".join(statement.split()))

    variables = account.setup_variables(values())
    recorder = Recorder()
    from warehouse.settings import load_settings

    ran = setup.run_setup(recorder, load_settings(), variables)
    assert ran == sql_files.files("setup/account")
    assert recorder.statements == account_statements(variables)


def test_the_public_key_is_the_pem_body_and_a_weak_or_private_key_is_refused() -> None:
    pem = public_key_pem()
    body = "".join(pem.strip().splitlines()[1:-1])
    assert account.rsa_public_key(pem) == body
    assert account.rsa_public_key(body) == body
    for bad in (public_key_pem(1024), "not a key", base64.b64encode(b"\x30\x03\x02\x01\x01").decode(), ""):
        with pytest.raises(IdentifierError, match="public_key"):
            account.rsa_public_key(bad)


@pytest.mark.parametrize(
    ("name", "value", "message"),
    [
        ("user", "PIPELINE; drop user X", "user"),
        ("network_policy", "P'", "network_policy"),
        ("allowed_ip_list", ["0.0.0.0/0"], "every address"),
        ("allowed_ip_list", ["10.0.0.1/8"], "10.0.0.1/8"),
        ("allowed_ip_list", ["2001:db8::/32"], "IPv4"),
        ("allowed_ip_list", ["192.0.2.1', '0.0.0.0/0"], "IPv4"),
        ("allowed_ip_list", [], "non-empty"),
        ("allowed_ip_list", "192.0.2.1", "list"),
        ("landing_prefix", "landing", "landing folder"),
        ("landing_prefix", "/landing/", "landing folder"),
        ("role_arn", "arn:aws:iam::1:role/x' or '1'='1", "role_arn"),
        ("warehouse", "WH; drop database X", "warehouse"),
        ("pasword", "secret", "unknown account variable"),
    ],
)
def test_account_variables_are_validated(name: str, value: object, message: str) -> None:
    with pytest.raises(IdentifierError, match=re.escape(message)):
        account.setup_variables(values(**{name: value}))


def cli_values(**overrides: Any) -> dict[str, Any]:
    """What an administrator passes: bucket and landing folder come from config/aws.json."""
    return {k: v for k, v in values(**overrides).items() if k not in ("bucket", "landing_prefix") or k in overrides}


def test_the_cli_refuses_bad_account_variables_before_connecting(capsys) -> None:
    import json

    from warehouse.__main__ import main

    assert main(["setup", "--account-objects", json.dumps(cli_values(public_key="MIIB"))]) == 2
    assert "public_key" in capsys.readouterr().err


def test_the_cli_points_the_external_stage_at_the_folder_the_loader_lists(capsys) -> None:
    import json

    from warehouse import __main__ as cli
    from warehouse.pipeline import landing

    assert cli.main(["setup", "--account-objects", json.dumps(cli_values(landing_prefix="other/"))]) == 2
    assert "the loader reads" in capsys.readouterr().err
    checked = cli._account_variables(json.dumps(cli_values()))
    assert (checked["bucket"], checked["landing_prefix"]) == (landing().bucket, landing().prefix)


def test_the_readme_steps_connect_the_pipeline_with_a_key_pair_only() -> None:
    import json

    readme = (sql_files.SQL_DIR.parent / "README.md").read_text(encoding="utf-8")
    steps = readme.split("## Running against real AWS and Snowflake", 1)[1].split("\n## ", 1)[0]
    connections = [json.loads(m) for m in re.findall(r'`(\{"conn_type": "snowflake".*?\})`', steps)]
    assert connections, "the steps show the pipeline's connection"
    for connection in connections:
        assert "password" not in connection and "password" not in connection["extra"]
        assert {"private_key_file", "private_key_content"} & set(connection["extra"])
    assert "--account-objects" in steps and "desc integration" in steps and "rsa_key.pub" in steps
