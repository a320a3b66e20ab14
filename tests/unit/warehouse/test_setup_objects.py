"""From the SQL itself (sqlglot, Snowflake dialect): what the pipeline touches exists and its roles may use it.

Setup creates objects in two places: the account files (run by administrators, sql/setup/account/) and the
migrations (run as the pipeline role, which therefore owns what they create, sql/migrations/). Everything
else under sql/ (load, transform, checks, maintenance, ...) and the SQL written inline in warehouse/*.py runs
as the pipeline role after setup. Each table, view, stage and file format those statements name must be
created by setup (or by the run itself, like a temporary table), still exist after the last migration, and
be covered by ownership or a grant to the pipeline role of the privilege its kind needs: USAGE on an
external stage, READ and WRITE on an internal one; and whatever the role creates needs CREATE <kind> on its
schema, which the role does not own (managed access schemas owned by SYSADMIN)
(https://docs.snowflake.com/en/user-guide/security-access-control-privileges#schema-privileges). The
pipeline role is granted exactly the CREATE privileges its SQL uses, and the read-only role can read every
table and view the health page's SQL names, through future grants of that kind. The folders are read as
they are, so a new SQL file or migration is checked without touching this test.
"""

from __future__ import annotations

import ast
import re
from dataclasses import dataclass, field
from pathlib import Path

import sqlglot
from sqlglot import exp

from mobile_events_elt.config.warehouse_settings import load_settings
from mobile_events_elt.warehouse import account, sql_files
from tests.support.account import HEALTH_FILES, account_statements, values

SCHEMAS = {"RAW", "ANALYTICS"}
_STAGE_REF = re.compile(r"@([A-Za-z_][\w$]*(?:\.[A-Za-z_][\w$]*)?)")
_FORMAT_REF = re.compile(r"format_name\s*=\s*'?([A-Za-z_][\w$.]*)'?", re.IGNORECASE)
_INLINE_SQL = re.compile(
    r"^\s*(select|insert|update|delete|merge|copy|put|remove|list|create|alter|drop|truncate|with)\b"
)
_INLINE_TABLE = re.compile(r"\b((?:raw|analytics)\.[a-z_][a-z0-9_$]*)\b", re.IGNORECASE)


@dataclass
class Catalog:
    """The objects setup leaves behind: name (SCHEMA.OBJECT) -> (kind, how the pipeline role may use it)."""

    objects: dict[str, tuple[str, str]] = field(default_factory=dict)
    schema_privileges: dict[str, set[str]] = field(default_factory=dict)  # granted to the pipeline role
    schema_owners: dict[str, str] = field(default_factory=dict)
    reader_usage: set[str] = field(default_factory=set)  # schemas the read-only role may use
    reader_future: set[tuple[str, str]] = field(default_factory=set)  # (kind, schema) it reads, future grants
    created: set[tuple[str, str]] = field(default_factory=set)  # (schema, CREATE <kind>) the SQL needs
    stage_grants: dict[str, set[str]] = field(default_factory=dict)
    problems: list[str] = field(default_factory=list)


def bind_samples(statement: str) -> str:
    return re.sub(r"%\((\w+)\)s", "'sample'", statement)


def object_name(table: exp.Table, default_schema: str = "RAW") -> str:
    return f"{(table.db or default_schema).upper()}.{table.name.upper()}"


def created(statement: exp.Expression) -> tuple[str, exp.Table] | None:
    if isinstance(statement, exp.Create) and isinstance(statement.this, exp.Table | exp.Schema):
        target = statement.this if isinstance(statement.this, exp.Table) else statement.this.this
        if isinstance(target, exp.Table):
            return str(statement.args.get("kind") or "").upper(), target
    return None


def referenced_tables(statement: exp.Expression, skip: exp.Table | None = None) -> list[exp.Table]:
    ctes = {cte.alias_or_name.upper() for cte in statement.find_all(exp.CTE)}
    found = []
    for table in statement.find_all(exp.Table):
        if table is skip or not isinstance(table.this, exp.Identifier) or not table.name:
            continue
        if (not table.db and table.name.upper() in ctes) or (table.db or "").upper() == "INFORMATION_SCHEMA":
            continue
        found.append(table)
    return found


def creates(catalog: Catalog, where: str, kind: str, target: exp.Table) -> None:
    """The pipeline role creates ``target``: it needs CREATE <kind> on the schema (RAW when unqualified)."""
    schema = (target.db or "RAW").upper()
    needed = f"CREATE {kind.upper()}"
    catalog.created.add((schema, needed))
    if needed not in catalog.schema_privileges.get(schema, set()):
        catalog.problems.append(f"{where} creates {object_name(target)}; the pipeline role lacks {needed} on {schema}")


def setup_catalog() -> Catalog:
    variables = account.setup_variables(values())
    role, database = variables["role"].upper(), variables["database"].upper()
    reader = variables["read_role"].upper()
    catalog = Catalog()
    for stmt in account_statements(variables):
        text = stmt.upper()
        if m := re.fullmatch(rf"GRANT OWNERSHIP ON SCHEMA {database}\.(\w+) TO ROLE (\w+) .*", text):
            catalog.schema_owners[m[1]] = m[2]
        elif m := re.fullmatch(rf"GRANT ([\w ,]+) ON SCHEMA {database}\.(\w+) TO ROLE {role}", text):
            catalog.schema_privileges.setdefault(m[2], set()).update(p.strip() for p in m[1].split(","))
        elif m := re.fullmatch(rf"GRANT USAGE ON SCHEMA {database}\.(\w+) TO ROLE {reader}", text):
            catalog.reader_usage.add(m[1])
        elif m := re.fullmatch(rf"GRANT SELECT ON FUTURE (\w+)S IN SCHEMA {database}\.(\w+) TO ROLE {reader}", text):
            catalog.reader_future.add((m[1], m[2]))
        elif m := re.fullmatch(rf"CREATE STAGE IF NOT EXISTS {database}\.(\w+\.\w+) (.*)", text):
            catalog.objects[m[1]] = ("EXTERNAL STAGE" if "URL =" in m[2] else "STAGE", "granted")
        elif m := re.fullmatch(rf"GRANT ([\w ,]+) ON STAGE {database}\.(\w+\.\w+) TO ROLE {role}", text):
            catalog.stage_grants.setdefault(m[2], set()).update(p.strip() for p in m[1].split(","))
    # In the runner's order: the record table, then each migration (recorded after its last statement).
    first = "setup/schema_migrations.sql"
    setup_files = [first] + [m.relative for m in _migrations()] + [f for f in sql_files.files("setup") if f != first]
    for relative in setup_files:
        for stmt in sql_files.statements(relative):
            parsed = sqlglot.parse_one(bind_samples(stmt), read="snowflake")
            made = created(parsed)
            # DROP ... IF EXISTS may name what setup never made (an object the run itself used to create).
            dropping_if_there = isinstance(parsed, exp.Drop) and parsed.args.get("exists")
            for table in [] if dropping_if_there else referenced_tables(parsed, skip=made[1] if made else None):
                if object_name(table) not in catalog.objects:
                    catalog.problems.append(f"sql/{relative} uses {object_name(table)} before anything creates it")
            if made:
                kind, target = made
                creates(catalog, f"sql/{relative}", kind, target)
                catalog.objects[object_name(target)] = (kind, "owned")
            elif isinstance(parsed, exp.Drop):
                for table in parsed.args.get("tables") or [parsed.this]:
                    if isinstance(table, exp.Table):
                        catalog.objects.pop(object_name(table), None)
    return catalog


def _migrations() -> list:
    from mobile_events_elt.warehouse import setup

    return setup.migrations()


# The dbt project inside sql/ (dbt_project.yml), and what dbt writes there.
DBT_FOLDERS = ("models", "macros", "tests", "sqlfluff_library", "target", "logs", "dbt_packages")


def run_sql_files() -> list[str]:
    """Every SQL file the pipeline runs as written after setup: any folder of sql/ but setup and migrations, and
    but the dbt project's Jinja (models, macros, tests), which dbt compiles and tests/unit/warehouse/test_dbt_project.py
    compiles for a real target."""
    root = sql_files.SQL_DIR
    return sorted(
        str(path.relative_to(root))
        for path in root.rglob("*.sql")
        if path.relative_to(root).parts[0] not in ("setup", "migrations", *DBT_FOLDERS)
    )


def dbt_tables() -> list[str]:
    """The tables the dbt build creates itself as the pipeline role: sql/models/intermediate/ (dbt_project.yml:
    tables in RAW), named by their alias."""
    folder = sql_files.SQL_DIR / "models" / "intermediate"
    names = []
    for model in sorted(folder.glob("*.sql")):
        alias = re.search(r"alias\s*=\s*'(\w+)'", model.read_text(encoding="utf-8"))
        names.append(f"RAW.{(alias.group(1) if alias else model.stem).upper()}")
    return names


def inline_sql() -> list[tuple[str, str]]:
    """SQL text written in warehouse/*.py (string literals and f-string pieces that start with a SQL verb)."""
    found = []
    for path in sorted((Path(sql_files.SQL_DIR).parent / "warehouse").glob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        docstrings = {
            id(node.value)
            for node in ast.walk(tree)
            if isinstance(node, ast.Expr) and isinstance(node.value, ast.Constant)
        }
        for node in ast.walk(tree):
            if isinstance(node, ast.JoinedStr):
                text = "".join(v.value if isinstance(v, ast.Constant) else "{}" for v in node.values)
            elif isinstance(node, ast.Constant) and isinstance(node.value, str) and id(node) not in docstrings:
                text = node.value
            else:
                continue
            if _INLINE_SQL.match(text):
                found.append((f"{path.name}:{node.lineno}", text))
    return found


def test_every_object_the_pipeline_touches_is_created_by_setup_and_the_pipeline_roles() -> None:
    catalog = setup_catalog()
    assert not catalog.problems, "\n".join(catalog.problems)
    assert catalog.schema_owners == dict.fromkeys(SCHEMAS, "SYSADMIN"), "the pipeline role owns no schema"
    assert {s for s, privileges in catalog.schema_privileges.items() if "USAGE" in privileges} == SCHEMAS
    uses: list[tuple[str, str, str]] = []  # (where, kind, name)
    made_by_run: dict[str, str] = dict.fromkeys(dbt_tables(), "TABLE")
    for relative in run_sql_files():
        for stmt in sql_files.statements(relative):
            parsed = sqlglot.parse_one(bind_samples(stmt), read="snowflake")
            made = created(parsed)
            if made:
                made_by_run[object_name(made[1])] = made[0]
                creates(catalog, f"sql/{relative}", *made)
            uses += [(f"sql/{relative}", "TABLE", object_name(t)) for t in referenced_tables(parsed, made and made[1])]
            uses += [(f"sql/{relative}", "STAGE", name.upper()) for name in _STAGE_REF.findall(stmt)]
            uses += [(f"sql/{relative}", "FILE FORMAT", name.upper()) for name in _FORMAT_REF.findall(stmt)]
    for where, text in inline_sql():
        uses += [(where, "TABLE", name.upper()) for name in _INLINE_TABLE.findall(text)]
        uses += [(where, "STAGE", name.upper()) for name in _STAGE_REF.findall(text)]
        uses += [(where, "FILE FORMAT", name.upper()) for name in _FORMAT_REF.findall(text)]
    settings = load_settings()
    uses += [("config/snowflake.json internal_stage", "STAGE", settings.internal_stage.upper())]
    uses += [("config/snowflake.json external_stage", "EXTERNAL STAGE", settings.external_stage.upper())]

    for where, kind, name in uses:
        qualified = name if "." in name else f"RAW.{name}"
        if qualified in made_by_run or name in made_by_run:
            continue
        if qualified not in catalog.objects:
            catalog.problems.append(f"{where} uses {kind} {qualified}, which no setup file or migration leaves behind")
            continue
        made_kind, how = catalog.objects[qualified]
        if kind in ("STAGE", "EXTERNAL STAGE") and "STAGE" not in made_kind:
            catalog.problems.append(f"{where} uses {qualified} as a stage; setup makes it a {made_kind}")
        if how == "owned":
            continue
        needed = {"USAGE"} if made_kind == "EXTERNAL STAGE" else {"READ", "WRITE"}
        if not needed <= catalog.stage_grants.get(qualified, set()):
            catalog.problems.append(f"{where} uses {made_kind} {qualified}; the role lacks {', '.join(sorted(needed))}")
    assert not catalog.problems, "\n".join(catalog.problems)
    # The check saw the pipeline's main objects (it reads what is there: a broken parser must not pass it).
    seen = {name for _, _, name in uses}
    assert {"RAW.LOAD_AUDIT", "RAW.EVENTS_RAW", "ANALYTICS.ORDERS", "RAW.LANDING_INTERNAL"} <= seen


def test_a_table_no_setup_creates_is_reported(monkeypatch) -> None:
    """The check above fails for a reference to a table nobody creates (guards against a check that sees nothing)."""
    catalog = setup_catalog()
    parsed = sqlglot.parse_one("select count(*) as n from raw.never_created", read="snowflake")
    missing = [object_name(t) for t in referenced_tables(parsed) if object_name(t) not in catalog.objects]
    assert missing == ["RAW.NEVER_CREATED"]


def test_the_pipeline_role_is_granted_exactly_the_create_privileges_its_sql_uses() -> None:
    """Nothing left over to misuse: each CREATE <kind> on a schema is one some migration or run needs."""
    catalog = setup_catalog()
    for relative in run_sql_files():
        for stmt in sql_files.statements(relative):
            made = created(sqlglot.parse_one(bind_samples(stmt), read="snowflake"))
            if made:
                creates(catalog, f"sql/{relative}", *made)
    assert not catalog.problems, "\n".join(catalog.problems)
    granted = {(schema, p) for schema, privileges in catalog.schema_privileges.items() for p in privileges}
    assert granted - {(schema, "USAGE") for schema in SCHEMAS} == catalog.created
    assert ("RAW", "CREATE STAGE") in catalog.created and ("ANALYTICS", "CREATE VIEW") in catalog.created


def test_the_read_only_role_reads_every_object_the_health_page_reads() -> None:
    """USAGE on the schema and a future SELECT grant of the object's kind (a table or a view), so a table a
    migration creates or replaces later is covered without another grant."""
    catalog = setup_catalog()
    health_py = (Path(sql_files.SQL_DIR).parent / "warehouse" / "health.py").read_text(encoding="utf-8")
    assert set(re.findall(r"\"((?:health|load)/\w+\.sql)\"", health_py)) <= set(HEALTH_FILES)
    read = set()
    for relative in HEALTH_FILES:
        for stmt in sql_files.statements(relative):
            for table in referenced_tables(sqlglot.parse_one(bind_samples(stmt), read="snowflake")):
                name = object_name(table)
                read.add(name)
                kind = catalog.objects.get(name, ("missing", ""))[0]
                schema = name.split(".")[0]
                if schema not in catalog.reader_usage or (kind, schema) not in catalog.reader_future:
                    catalog.problems.append(f"sql/{relative} reads {kind} {name}; the read-only role may not")
    assert not catalog.problems, "\n".join(catalog.problems)
    assert {"RAW.LOAD_AUDIT", "RAW.REJECTED_EVENTS", "RAW.EVENTS_RAW", "ANALYTICS.VALUE_DRIFT"} <= read
