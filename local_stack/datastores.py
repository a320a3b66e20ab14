"""The distributed stack's datastores as real servers: Debian's PostgreSQL 15 and Redis, state under .local.

PostgreSQL keeps Airflow's metadata and the Celery result backend; Redis is the Celery broker. Both bind
127.0.0.1 only, on the ports of local_stack.ports, and ask for a password the stack makes at first use
(owner-only files in STATE/datastores). The cluster lives in STATE/postgres/data (0700) with its unix
socket folder beside it.

PostgreSQL refuses to run as root. When the stack runs as root, the cluster belongs to the ``postgres``
system user that Debian's package creates, and initdb and the server run as that user (``setpriv``). That
user must reach its folder through the state folder, which is root's and 0700: the state folder's group
becomes ``postgres`` with search permission only (0710: enter, not list; everything else inside stays
0700/0600, so the server user reaches its own folder and nothing more), until `down` has stopped the server.
As any other user, the cluster is simply that user's and the state folder stays 0700.
"""

from __future__ import annotations

import os
import pwd
import shutil
import stat
import subprocess
import time
from pathlib import Path

from mobile_events_elt.local_stack import processes
from mobile_events_elt.local_stack.ports import HOST, port
from mobile_events_elt.local_stack.private_state import read_or_create_secret

PG_BIN = Path("/usr/lib/postgresql/15/bin")  # Debian's postgresql-15
SERVER_USER = "postgres"  # made by Debian's postgresql-common; runs the server when we are root
DATABASE = "airflow"
ROLE = "airflow"
PACKAGES = "redis-server postgresql"  # what `apt-get install` needs for these servers


class MissingServer(processes.StartError):
    pass


def check_installed() -> None:
    """Fail with the install command when a server binary is missing."""
    missing = [str(p) for p in (PG_BIN / "initdb", PG_BIN / "postgres") if not p.exists()]
    missing += [] if shutil.which("redis-server") else ["redis-server"]
    if missing:
        raise MissingServer(f"not installed: {', '.join(missing)}; run: apt-get install -y {PACKAGES}")


def postgres_password(state: Path) -> str:
    return read_or_create_secret(state / "datastores" / "postgres_password")


def redis_password(state: Path) -> str:
    return read_or_create_secret(state / "datastores" / "redis_password")


def celery_settings(database: str, broker: str, executor: str = "CeleryExecutor") -> dict[str, str]:
    """Airflow's settings for Celery: database is ``user:password@host:port/name``, broker a Redis URL."""
    return {
        "AIRFLOW__CORE__EXECUTOR": executor,
        "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": f"postgresql+psycopg2://{database}",
        "AIRFLOW__CELERY__BROKER_URL": broker,
        "AIRFLOW__CELERY__RESULT_BACKEND": f"db+postgresql://{database}",
        "AIRFLOW__CELERY__WORKER_CONCURRENCY": "2",
    }


def local_celery_settings(state: Path) -> dict[str, str]:
    """celery_settings for the servers this module starts, with their passwords."""
    database = f"{ROLE}:{postgres_password(state)}@{HOST}:{port('postgres')}/{DATABASE}"
    return celery_settings(database, f"redis://:{redis_password(state)}@{HOST}:{port('redis')}/0")


def _server_user() -> pwd.struct_passwd | None:
    """The user the PostgreSQL server runs as: None for ourselves, SERVER_USER when we are root."""
    if os.geteuid() != 0:
        return None
    try:
        return pwd.getpwnam(SERVER_USER)
    except KeyError:
        raise MissingServer(f"no {SERVER_USER!r} user to run PostgreSQL as; apt-get install -y postgresql") from None


def _as_server_user(argv: list[str], user: pwd.struct_passwd | None) -> list[str]:
    if user is None:
        return argv
    return ["setpriv", f"--reuid={user.pw_uid}", f"--regid={user.pw_gid}", "--init-groups", "--", *argv]


def _reachable_by(state: Path, user: pwd.struct_passwd | None) -> None:
    """Let the server user enter (not list) the state folder: its group becomes the user's, mode 0710."""
    if user is None:
        return
    blocked = [p for p in state.parents if not stat.S_IMODE(p.stat().st_mode) & stat.S_IXOTH]
    if blocked:
        raise processes.StartError(f"{SERVER_USER} cannot reach {state}: {blocked[0]} is closed to other users")
    os.chown(state, -1, user.pw_gid)
    state.chmod(0o710)


def close_state(state: Path) -> None:
    """Once the server is stopped: the state folder back to its owner's group alone, 0700."""
    info = state.stat()
    if info.st_gid != pwd.getpwuid(info.st_uid).pw_gid:
        os.chown(state, -1, pwd.getpwuid(info.st_uid).pw_gid)
    state.chmod(0o700)


def _owned(path: Path, user: pwd.struct_passwd | None) -> Path:
    path.mkdir(parents=True, exist_ok=True, mode=0o700)
    path.chmod(0o700)
    if user is not None:
        os.chown(path, user.pw_uid, user.pw_gid)
    return path


def start_postgres(state: Path, run_dir: Path, log: Path) -> None:
    """Create the cluster at first use (a role and database for Airflow), then start the server."""
    user = _server_user()
    password = postgres_password(state)
    root = _owned(state / "postgres", user)
    data, sockets = root / "data", root / "socket"
    _reachable_by(state, user)
    _owned(sockets, user)
    if not (data / "PG_VERSION").exists():
        _initdb(data, password, user, log)
    processes.start(
        "postgres",
        _as_server_user(
            [
                str(PG_BIN / "postgres"),
                "-D",
                str(data),
                "-c",
                f"listen_addresses={HOST}",
                "-p",
                str(port("postgres")),
                "-c",
                f"unix_socket_directories={sockets}",
            ],
            user,
        ),
        run_dir,
        env={"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "LANG": "C.UTF-8"},
        wait_port=port("postgres"),
    )


def _initdb(data: Path, password: str, user: pwd.struct_passwd | None, log: Path) -> None:
    """initdb with scram-sha-256 for every connection; the superuser is Airflow's role and owns its database."""
    _owned(data, user)
    password_file = data.parent / "initdb-password"
    descriptor = os.open(password_file, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(descriptor, "w") as out:
        out.write(password)
    if user is not None:
        os.chown(password_file, user.pw_uid, user.pw_gid)
    try:
        argv = [
            str(PG_BIN / "initdb"),
            "-D",
            str(data),
            "-U",
            ROLE,
            f"--pwfile={password_file}",
            "--auth=scram-sha-256",
            "-E",
            "UTF8",
            "--locale=C.UTF-8",
            "--no-instructions",
        ]
        with open(log, "ab") as out:
            result = subprocess.run(_as_server_user(argv, user), stdout=out, stderr=subprocess.STDOUT, check=False)
        if result.returncode:
            raise processes.StartError(f"initdb exited with {result.returncode}; see {log}")
    finally:
        password_file.unlink(missing_ok=True)


def create_database(state: Path, timeout: float = 60.0) -> None:
    """Airflow's database in the cluster, made once; waits while the server recovers (listening, not ready)."""
    import psycopg2

    deadline = time.monotonic() + timeout
    while True:
        try:
            connection = psycopg2.connect(
                host=HOST, port=port("postgres"), user=ROLE, password=postgres_password(state), dbname="postgres"
            )
            break
        except psycopg2.OperationalError as exc:
            if "starting up" not in str(exc) or time.monotonic() > deadline:
                raise processes.StartError(f"PostgreSQL: {exc}".strip()) from exc
            time.sleep(0.5)
    connection.autocommit = True
    try:
        with connection.cursor() as cursor:
            cursor.execute("select 1 from pg_database where datname = %s", (DATABASE,))
            if cursor.fetchone() is None:
                cursor.execute(f"create database {DATABASE} owner {ROLE}")
    finally:
        connection.close()


def start_redis(state: Path, run_dir: Path) -> None:
    """Redis with its settings in an owner-only file (the password stays out of the process list)."""
    folder = state / "redis"
    folder.mkdir(parents=True, exist_ok=True, mode=0o700)
    settings = "\n".join(
        [
            f"bind {HOST}",
            f"port {port('redis')}",
            "protected-mode yes",
            f"requirepass {redis_password(state)}",
            f"dir {folder}",
            "appendonly yes",  # queued task messages survive a restart
            "save ''",
            "daemonize no",
            "",
        ]
    )
    config = folder / "redis.conf"
    descriptor = os.open(config, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(descriptor, "w") as out:
        out.write(settings)
    processes.start("redis", ["redis-server", str(config)], run_dir, wait_port=port("redis"))
