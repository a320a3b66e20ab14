"""dbt, in this process: the project in ``sql/`` (docs/transforms.md) built with dbt's programmatic runner.

dbt opens its own Snowflake session, described by a profile written here from the pipeline's connection (a
temporary profiles.yml whose password is read from the environment: no secret in a file). The target's name
comes from configuration (the connection's ``dbt_target`` extra; ``WAREHOUSE_DBT_TARGET`` and
``WAREHOUSE_DBT_PASSWORD`` for a bare connector connection): the local stack's connection names
``emulator``, whose overrides live in
``sql/macros/emulator/``. The project is parsed once per process (or once in the process that forks the tasks:
warehouse/dbt_preload.py) and the manifest reused by every build while the project's files are unchanged.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import tempfile
import threading
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from mobile_events_elt.warehouse import sql_files

PROJECT_DIR = sql_files.SQL_DIR
DOCS_PAGE = "static_index.html"
DOCS_DIR_ENV = "WAREHOUSE_DBT_DOCS_DIR"
PROFILE = "mobile_events"
# dbt's threads: independent models (and the tests of built ones) run side by side, each on its own session
# (one build of a small batch: 3.6 s with 1 thread, 2.5-2.9 s with 4, on the emulator).
THREADS_ENV = "WAREHOUSE_DBT_THREADS"
DEFAULT_THREADS = 4
PASSWORD_ENV = "WAREHOUSE_DBT_PASSWORD"  # noqa: S105  # nosec B105: the variable's name, not a secret
TARGET_ENV = "WAREHOUSE_DBT_TARGET"
DEFAULT_TARGET = "snowflake"
log = logging.getLogger(__name__)
_lock = threading.Lock()
_manifests: dict[tuple[str, ...], Any] = {}
# dbt's flags on every command: no console output, no telemetry, no version check.
FLAGS = ["--quiet", "--no-use-colors", "--no-send-anonymous-usage-stats", "--no-version-check"]


class BuildFailed(RuntimeError):
    """dbt build ended with a failing model or test: each named with its message; ``failing_tests``: the data
    tests that found rows (by failing rows) when nothing else failed (bad data, not a broken build)."""

    def __init__(self, failures: Mapping[str, str], failing_tests: Mapping[str, int] | None = None) -> None:
        self.failures = dict(failures)
        self.failing_tests = dict(failing_tests or {})
        detail = "; ".join(f"{node}: {message}" for node, message in self.failures.items())
        super().__init__(f"dbt build failed ({len(self.failures)}): {detail}")


@dataclass(frozen=True)
class Target:
    """Where dbt connects: the profile's target (``name`` picks the emulator's overrides or none)."""

    name: str
    account: str
    user: str
    password: str
    database: str
    host: str | None = None
    port: int | None = None
    protocol: str | None = None
    warehouse: str | None = None
    role: str | None = None
    query_tag: str | None = None

    @classmethod
    def of_airflow(cls, conn_id: str, database: str, query_tag: str | None = None) -> Target:
        """The Airflow connection's Snowflake login, as the pipeline's hook resolves it."""
        from mobile_events_elt.config.snowflake_hook import PipelineSnowflakeHook

        hook = PipelineSnowflakeHook(snowflake_conn_id=conn_id, query_tag=query_tag)
        params = hook._get_conn_params()
        extra = hook.get_connection(conn_id).extra_dejson
        return cls(
            name=str(extra.get("dbt_target") or DEFAULT_TARGET),
            account=params["account"],
            user=params["user"],
            password=params.get("password") or "",
            database=database,
            host=params.get("host"),
            port=params.get("port"),
            protocol=params.get("protocol"),
            warehouse=params.get("warehouse"),
            role=params.get("role"),
            query_tag=hook.query_tag,
        )

    @classmethod
    def of_connector(cls, conn: Any, query_tag: str | None = None) -> Target:
        """The login of an open connector connection (tests, scripts): the same account, user and database; its
        password from ``WAREHOUSE_DBT_PASSWORD`` (the connector forgets it once logged in)."""
        return cls(
            name=os.environ.get(TARGET_ENV, DEFAULT_TARGET),
            account=conn.account,
            user=conn.user,
            password=os.environ.get(PASSWORD_ENV, ""),
            database=conn.database,
            host=conn.host,
            port=int(conn.port) if conn.port else None,
            protocol=getattr(conn, "_protocol", None),
            warehouse=conn.warehouse,
            role=conn.role,
            query_tag=query_tag,
        )

    def profile(self) -> dict[str, Any]:
        """profiles.yml's content: every value but the password, which dbt reads from the environment."""
        output: dict[str, Any] = {
            "type": "snowflake",
            "account": self.account,
            "user": self.user,
            "password": f"{{{{ env_var('{PASSWORD_ENV}') }}}}",
            "database": self.database,
            "schema": "raw",
            "threads": int(os.environ.get(THREADS_ENV) or DEFAULT_THREADS),
            "reuse_connections": True,
            "client_session_keep_alive": False,
        }
        optional = {"host": self.host, "port": self.port, "protocol": self.protocol, "warehouse": self.warehouse}
        output.update({key: value for key, value in optional.items() if value})
        if self.role:
            output["role"] = self.role
        return {PROFILE: {"target": self.name, "outputs": {self.name: output}}}


def docs_dir() -> Path:
    """Where `make docs` writes dbt's docs site and the health page finds it: ``WAREHOUSE_DBT_DOCS_DIR`` (the
    local stack sets it to its state folder's dbt-docs), else .local/dbt-docs below the working directory."""
    return Path(os.environ.get(DOCS_DIR_ENV) or Path.cwd() / ".local" / "dbt-docs")


def work_dir() -> Path:
    """Where dbt writes its target (manifest, run results) and logs: outside the repository."""
    path = Path(os.environ.get("WAREHOUSE_DBT_DIR") or Path(tempfile.gettempdir()) / f"mobile-events-dbt-{os.getuid()}")
    path.mkdir(parents=True, exist_ok=True, mode=0o700)
    return path


@dataclass(frozen=True)
class NodeResult:
    node: str  # the model's or test's name
    kind: str  # model, test
    status: str
    rows: int
    seconds: float
    message: str
    compiled: str  # the node's SQL as dbt compiled it (a model's SELECT, a test's query)
    failures: int  # a data test's failing rows


def invoke(
    target: Target,
    args: Sequence[str],
    variables: Mapping[str, Any] | None = None,
    on_log: Callable[[str], None] | None = None,
    target_path: Path | None = None,
) -> list[NodeResult]:
    """Run one dbt command (``build``, ``compile``, ``docs generate`` ...) against ``target`` with ``variables``;
    each node's result (``on_log`` hears each line a macro logs; ``target_path``: where dbt writes its
    artifacts, by default ``work_dir()``). Raises BuildFailed when a node errors or a
    test fails."""
    with _lock, tempfile.TemporaryDirectory(prefix="dbt-profile-") as profiles:
        Path(profiles, "profiles.yml").write_text(json.dumps(target.profile()), encoding="utf-8")
        previous = os.environ.get(PASSWORD_ENV)
        os.environ[PASSWORD_ENV] = target.password
        try:
            return _invoke(target, profiles, list(args), variables or {}, on_log, target_path)
        finally:
            if previous is None:
                os.environ.pop(PASSWORD_ENV, None)
            else:
                os.environ[PASSWORD_ENV] = previous


def _invoke(
    target: Target,
    profiles: str,
    args: list[str],
    variables: Mapping[str, Any],
    on_log: Callable[[str], None] | None,
    target_path: Path | None,
) -> list[NodeResult]:
    from dbt.cli.main import dbtRunner

    where = work_dir() / target.name
    project = _project_args(target, profiles)
    common = [*project, "--target-path", str(target_path or where / "target")]
    manifest = _for_database(_manifest(target, profiles).deepcopy(), target.database)
    # The results come back in memory: writing manifest.json and run_results.json (~0.2 s a build) is for docs.
    artifacts = [] if args[:1] == ["docs"] else ["--no-write-json"]
    command = [*FLAGS, *args, *artifacts, *common, "--vars", json.dumps(dict(variables))]
    callbacks = [] if on_log is None else [lambda event: _logged(event, on_log)]
    result = dbtRunner(manifest=manifest, callbacks=callbacks).invoke(command)
    if result.exception is not None and result.result is None:
        raise RuntimeError(f"dbt {' '.join(args)} failed: {result.exception}")
    nodes = [_node(r) for r in getattr(result.result, "results", None) or [] if hasattr(r, "node")]
    failures = {n.node: n.message for n in nodes if n.status in ("error", "fail", "runtime error")}
    if failures or not result.success:
        tests = {n.node: n.failures for n in nodes if n.status == "fail"}
        only_tests = tests.keys() == failures.keys() and result.exception is None
        raise BuildFailed(failures or {"dbt": str(result.exception)}, tests if only_tests else None)
    return nodes


def fingerprint() -> str:
    """A hash of the project's files (paths and contents): a manifest parsed from other files is never reused."""
    digest = hashlib.sha256()
    for path in sorted(p for p in PROJECT_DIR.rglob("*") if p.is_file()):
        digest.update(str(path.relative_to(PROJECT_DIR)).encode() + b"\0" + path.read_bytes() + b"\0")
    return digest.hexdigest()


def prepare(target: Target) -> Any:
    """The project's manifest for ``target``, parsed now unless parsed before from the same files (as the first
    build would): a process that forks the tasks calls this once, and the tasks it forks build without parsing."""
    with _lock, tempfile.TemporaryDirectory(prefix="dbt-profile-") as profiles:
        Path(profiles, "profiles.yml").write_text(json.dumps(target.profile()), encoding="utf-8")
        return _manifest(target, profiles)


def _project_args(target: Target, profiles: str) -> list[str]:
    where = work_dir() / target.name
    project = ["--project-dir", str(PROJECT_DIR), "--profiles-dir", profiles, "--target", target.name]
    return [*project, "--log-path", str(where / "logs")]


def _manifest(target: Target, profiles: str) -> Any:
    """The project's parsed manifest for ``target``'s name: the one parsed before in this process (or the one it
    was forked from) when the project's files are the same, else parsed now. It names the database it was
    parsed for; a build retargets its own copy (``_for_database``), so another database needs no parse."""
    from dbt.cli.main import dbtRunner

    key = (target.name, str(PROJECT_DIR), fingerprint())
    if key not in _manifests:
        # Parsed without vars into a folder of its own, whose partial_parse.msgpack the next process reuses
        # (dbt parses again in full when the vars differ from the saved parse's, as a build's always do).
        parse_path = work_dir() / target.name / "parse"
        parsed = dbtRunner().invoke(
            [*FLAGS, "parse", *_project_args(target, profiles), "--target-path", str(parse_path)]
        )
        if not parsed.success:
            raise RuntimeError(f"dbt could not parse {PROJECT_DIR}: {parsed.exception}")
        _manifests[key] = parsed.result
    return _manifests[key]


def _for_database(manifest: Any, database: str) -> Any:
    """``manifest`` (a copy, changed in place) as a parse for ``database`` would give it: the target's database
    is all a parse takes from the profile (each model's, test's and source's ``database`` and relation name;
    tests/unit/warehouse/test_dbt_preload.py compares the two), so the nodes that named the parsed one name
    ``database`` instead, and the graph macros read is rebuilt from them."""
    parsed_for = next((n.database for n in manifest.nodes.values() if n.resource_type == "model"), database)
    if parsed_for == database:
        return manifest
    for node in [*manifest.nodes.values(), *manifest.sources.values()]:
        if node.database == parsed_for:
            node.database = database
        name = getattr(node, "relation_name", None)
        if name and name.startswith(f"{parsed_for}."):
            node.relation_name = database + name[len(parsed_for) :]
    manifest.build_flat_graph()  # the `graph` a macro reads (run-operation does not rebuild it)
    return manifest


def docs(target: Target, out: Path) -> Path:
    """dbt's docs site (models, columns, tests, lineage, and the catalog read from ``target``) as static files
    in ``out``; its one self-contained page, ``static_index.html`` (index.html beside it needs the JSON files)."""
    out.mkdir(parents=True, exist_ok=True, mode=0o700)
    invoke(target, ["docs", "generate", "--static"], target_path=out)
    return out / DOCS_PAGE


def _logged(event: Any, on_log: Callable[[str], None]) -> None:
    if event.info.name == "JinjaLogInfo":
        on_log(event.data.msg)


def _node(result: Any) -> NodeResult:
    node = result.node
    response = result.adapter_response or {}
    return NodeResult(
        node=node.name,
        kind=str(node.resource_type),
        status=str(result.status),
        rows=int(response.get("rows_affected") or 0),
        seconds=float(result.execution_time or 0.0),
        message=str(result.message or ""),
        compiled=str(getattr(node, "compiled_code", None) or ""),
        failures=int(getattr(result, "failures", None) or 0),
    )
