"""A write-ahead journal for moto's server, so a killed and restarted AWS emulator keeps its state.

moto keeps everything in memory, where real AWS is durable. ``Journal`` appends every acknowledged request
that can change state to a JSON-lines file before its answer goes out and replays the file in-process before
the emulator opens its port; moto's clock and random source are pinned per request so the replay gives the
same sequence numbers, ETags and ids. Used by ``python -m mobile_events_elt.local_stack.aws_emulator --journal PATH``.
"""

from __future__ import annotations

import base64
import datetime
import fcntl
import io
import json
import os
import sys
import threading
import time
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import IO, Any
from urllib.parse import parse_qs, unquote, urlsplit

from mobile_events_elt.local_stack.ports import HOST

JOURNAL_ENV = "AWS_EMULATOR_JOURNAL"  # the default for --journal (how local_stack.stack passes it)
READ_ONLY_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
READ_ONLY_PREFIXES = ("Get", "Describe", "List")
# ReceiveMessage changes SQS visibility but is not journaled: it would hold the lock for a whole long poll, and
# its receipt handles are drawn outside any journaled request. So a DeleteMessage cannot be replayed (moto
# answers ReceiptHandleIsInvalid; the replay log counts those) and after a restart SQS hands out again the
# messages received and deleted before it: at-least-once, as SQS itself is.
UNJOURNALED_ACTIONS = frozenset({"ReceiveMessage"})

_request_state = threading.local()  # .now (moto's clock) and .random (moto's random source) per journaled request


def _read_only(environ: dict[str, Any], body: bytes) -> bool:
    """Whether a request cannot change moto's state (and so needs no lock and no journal line)."""
    if environ["REQUEST_METHOD"] in READ_ONLY_METHODS:
        return True
    target = environ.get("HTTP_X_AMZ_TARGET")
    if target:  # JSON protocol: Kinesis, Firehose, SQS
        action = target.rsplit(".", 1)[-1]
    elif environ.get("CONTENT_TYPE", "").startswith("application/x-www-form-urlencoded"):  # query: IAM, SNS, STS
        action = parse_qs(body.decode("utf-8", "replace")).get("Action", [""])[0]
    else:  # REST (S3) and /moto-api/: anything but GET/HEAD may write
        return False
    return action.startswith(READ_ONLY_PREFIXES) or action in UNJOURNALED_ACTIONS


def _read_body(environ: dict[str, Any]) -> bytes:
    """Read the whole request body and put it back as a plain, sized stream (de-chunked if it was chunked)."""
    stream = environ["wsgi.input"]
    if environ.pop("wsgi.input_terminated", False):  # Transfer-Encoding: chunked, de-chunked by werkzeug
        body = stream.read()
        environ.pop("HTTP_TRANSFER_ENCODING", None)
    else:
        length = environ.get("CONTENT_LENGTH") or "0"
        body = stream.read(int(length)) if length.isdigit() else b""
    environ["wsgi.input"] = io.BytesIO(body)
    if body or "CONTENT_LENGTH" in environ:
        environ["CONTENT_LENGTH"] = str(len(body))
    return body


def _headers(environ: dict[str, Any]) -> list[list[str]]:
    from moto.core.request import PRESERVED_HEADER_NAMES_ENVIRON_KEY

    preserved = environ.get(PRESERVED_HEADER_NAMES_ENVIRON_KEY) or {}
    found = []
    for key, value in environ.items():
        if key.startswith("HTTP_"):
            found.append([preserved.get(key) or key[5:].replace("_", "-").title(), value])
        elif key in ("CONTENT_TYPE", "CONTENT_LENGTH"):
            found.append([key.replace("_", "-").title(), value])
    return found


def _environ(entry: dict[str, Any], host: str, port_number: int) -> dict[str, Any]:
    """The WSGI environ werkzeug's server (with moto's request handler) builds for a journaled request."""
    from moto.core.request import (
        PRESERVED_HEADER_NAMES_ENVIRON_KEY,
        environ_key_for_header,
        should_preserve_original_header_name,
    )

    def latin1(text: str) -> str:  # PEP 3333: environ strings carry the request's bytes as latin-1
        return text.encode("utf-8").decode("latin-1")

    uri = entry["path"]  # RAW_URI as the server put it in the environ (latin-1 form of the request target)
    try:
        target = uri.encode("latin-1").decode("utf-8")
    except UnicodeError:
        target = uri
    split = urlsplit(target)
    path = f"/{split.netloc}{split.path}" if not split.scheme and split.netloc else split.path
    body = base64.b64decode(entry["body"])
    environ: dict[str, Any] = {
        "wsgi.version": (1, 0),
        "wsgi.url_scheme": "http",
        "wsgi.input": io.BytesIO(body),
        "wsgi.errors": sys.stderr,
        "wsgi.multithread": True,
        "wsgi.multiprocess": False,
        "wsgi.run_once": False,
        "SERVER_SOFTWARE": "replay",
        "REQUEST_METHOD": entry["method"],
        "SCRIPT_NAME": "",
        "PATH_INFO": latin1(unquote(path)),
        "QUERY_STRING": latin1(split.query),
        "REQUEST_URI": uri,
        "RAW_URI": uri,
        "REMOTE_ADDR": HOST,
        "REMOTE_PORT": 0,
        "SERVER_NAME": host,
        "SERVER_PORT": str(port_number),
        "SERVER_PROTOCOL": "HTTP/1.1",
    }
    names = {}
    for name, value in entry["headers"]:
        key = environ_key_for_header(name)
        environ[key] = value
        if should_preserve_original_header_name(name):
            names[key] = name
    environ[PRESERVED_HEADER_NAMES_ENVIRON_KEY] = names
    return environ


def _describe(entry: dict[str, Any]) -> str:
    """A journal entry as a log names it: the action for JSON- and query-protocol calls, else method and path."""
    headers = {name.lower(): value for name, value in entry["headers"]}
    if "x-amz-target" in headers:
        return headers["x-amz-target"]
    if headers.get("content-type", "").startswith("application/x-www-form-urlencoded"):
        action = parse_qs(base64.b64decode(entry["body"]).decode("utf-8", "replace")).get("Action", [""])[0]
        if action:
            return action
    return f"{entry['method']} {entry['path'][:80]}"


def _call(app: Any, environ: dict[str, Any]) -> tuple[str, list[tuple[str, str]], list[bytes]]:
    """Run a WSGI app to completion: status, headers and the whole body."""
    answer: dict[str, Any] = {}
    chunks: list[bytes] = []

    def start_response(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Callable[..., Any]:
        if exc_info and answer:
            raise exc_info[1].with_traceback(exc_info[2])
        answer["status"], answer["headers"] = status, headers
        return chunks.append

    result = app(environ, start_response)
    try:
        chunks.extend(result)
    finally:
        if hasattr(result, "close"):
            result.close()
    return answer["status"], answer["headers"], chunks


class _PinnedRandom:
    """Stands in for moto's ``mock_random``: a journaled request's own seeded generator in its thread,
    moto's shared one everywhere else."""

    def __init__(self, shared: Any) -> None:
        self._shared = shared

    def __getattr__(self, name: str) -> Any:
        if name == "seed":  # POST /moto-api/seed reseeds the shared generator
            return self._shared.seed
        return getattr(getattr(_request_state, "random", None) or self._shared, name)


def pin_moto_clock_and_random() -> None:
    """Route moto's clock and random source through ``_request_state``, pinned per journaled request.

    moto's clock (``moto.core.utils.utcnow``: Kinesis arrival and stream-creation timestamps, S3
    LastModified, Firehose timestamps) reads the request's journaled time, and its random source
    (``mock_random``: S3 version ids, SQS message ids, SNS subscription ARNs, ...) is seeded from the
    request's place in the journal, on the live call and on replay alike. What moto takes from elsewhere
    comes out new on replay: S3 bucket CreationDate (``datetime.now``), multipart upload ids
    (``os.urandom``), SQS timestamps taken with ``time.time``.

    Both are replaced where moto looks them up: in the modules that defined them (so modules imported
    later, as backends are on their first request, bind the replacements) and in every moto module that
    has already bound the originals by name.
    """
    import moto.moto_api._internal as moto_api_internal
    from moto.core import utils

    if getattr(utils.utcnow, "_local_stack_pinned", False):
        return
    original_utcnow, original_random = utils.utcnow, moto_api_internal.mock_random

    def utcnow() -> datetime.datetime:
        pinned = getattr(_request_state, "now", None)
        return pinned if pinned is not None else original_utcnow()

    utcnow._local_stack_pinned = True  # type: ignore[attr-defined]
    pinned_random = _PinnedRandom(original_random)
    utils.utcnow = utcnow
    moto_api_internal.mock_random = pinned_random  # type: ignore[assignment]
    for name, module in list(sys.modules.items()):
        if not name.startswith("moto") or module is None:
            continue
        for attr, value in list(vars(module).items()):
            if value is original_utcnow:
                setattr(module, attr, utcnow)
            elif value is original_random and module is not moto_api_internal:
                setattr(module, attr, pinned_random)


def skip_result_serialization_on_replay() -> None:
    """On replay nobody reads the answers: skip moto's response serializer for successful results (60% of
    replay time for PutRecords). Errors are still serialized, so a failed replayed request keeps its status."""
    from moto.core.responses import ActionResult

    original = ActionResult.execute_result
    if getattr(original, "_local_stack_patched", False):
        return

    def execute_result(self: Any, context: Any) -> Any:
        if getattr(_request_state, "replaying", False) and not isinstance(self.result, Exception):
            return 200, {}, ""
        return original(self, context)

    execute_result._local_stack_patched = True  # type: ignore[attr-defined]
    ActionResult.execute_result = execute_result  # type: ignore[method-assign]


def _pinned_call(app: Any, environ: dict[str, Any], now: datetime.datetime, index: int) -> Any:
    from moto.moto_api._internal.moto_random import MotoRandom

    _request_state.now = now
    _request_state.random = MotoRandom(f"{index}:{now.isoformat()}")
    try:
        return _call(app, environ)
    finally:
        _request_state.now = _request_state.random = None


class Journal:
    """WSGI middleware: append every acknowledged state-changing request to the journal.

    A line (method, raw path and query, headers, body in base64, the request's clock) is appended once moto
    answered below 400 and before the answer is sent, and flushed to the OS (not fsynced: this defends
    against a killed process, not a crashed machine). One lock covers dispatch and append, so journal order
    is processing order and replay reproduces moto's state where it is a function of the requests: Kinesis
    sequence numbers come out identical, which the local Firehose's checkpoints rely on. Read-only calls
    take neither the lock nor a line. A request journaled whose answer never reached its client (killed in
    between) is replayed and then retried by the client: one more copy in the stream, as Kinesis itself can
    produce; the warehouse deduplicates by EVENT_ID. The journal only grows (``make clean`` deletes it).
    """

    def __init__(self, app: Any, path: Path) -> None:
        self.app = app
        self.path = path
        self.lock = threading.Lock()
        self.count = 0  # lines in the journal: the next request's index
        self.file: IO[bytes] | None = None

    def open(self) -> None:
        """Take the journal for this process (a second emulator on the same file is refused), repair a torn
        last line; call before ``replay``."""
        self.path.parent.mkdir(parents=True, exist_ok=True)
        handle = open(self.path, "ab+")  # noqa: SIM115  # held open for the process's lifetime
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            handle.close()
            raise JournalError(f"journal {self.path} is in use by another emulator") from None
        self.file = handle
        self._repair()

    def _repair(self) -> None:
        """Drop a last line cut short by a kill (never answered, so its client retries it); a bad line
        anywhere else stops the start."""
        assert self.file is not None
        self.file.seek(0)
        good_end, torn = 0, None
        for number, line in enumerate(self.file, start=1):
            try:
                json.loads(line)
            except ValueError:
                if line.endswith(b"\n"):
                    raise JournalError(f"{self.path}:{number}: not a journal line; move the file away") from None
                torn = (number, len(line))  # only the last line can lack its newline
                break
            good_end += len(line)
        if torn is not None:
            self.file.truncate(good_end)
            log(
                f"journal {self.path}: dropped a torn last line (line {torn[0]}, {torn[1]:,} bytes) and truncated "
                "the file to the line before it: that request was never answered, so its client retries it"
            )
        elif good_end and self._last_byte() != b"\n":  # complete JSON, only the newline was cut off
            self.file.write(b"\n")
            self.file.flush()
        self.file.seek(0, os.SEEK_END)

    def _last_byte(self) -> bytes:
        assert self.file is not None
        self.file.seek(-1, os.SEEK_END)
        return self.file.read(1)

    def replay(self, host: str, port_number: int) -> None:
        """Send every journaled request to the app again, in order, with the journal off."""
        assert self.file is not None
        started = time.monotonic()
        failures: list[str] = []
        self.file.seek(0)
        _request_state.replaying = True
        try:
            for index, line in enumerate(self.file):
                entry = json.loads(line)
                now = datetime.datetime.fromisoformat(entry["time"])
                status, _, _ = _pinned_call(self.app, _environ(entry, host, port_number), now, index)
                self.count = index + 1
                if int(status.split(" ", 1)[0]) >= 400:
                    failures.append(f"{_describe(entry)} -> {status}")
        finally:
            _request_state.replaying = False
        self.file.seek(0, os.SEEK_END)
        seconds = time.monotonic() - started
        rate = f", {self.count / seconds:,.0f} requests/s" if seconds > 0 and self.count else ""
        log(f"journal {self.path}: replayed {self.count:,} requests in {seconds:.2f}s{rate}")
        if failures:
            shown = "; ".join(failures[:5]) + (" ..." if len(failures) > 5 else "")
            log(
                f"journal: {len(failures):,} replayed requests failed this time (DeleteMessage of a receipt "
                f"handle from an unjournaled ReceiveMessage is expected to): {shown}"
            )

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        if environ["REQUEST_METHOD"] in READ_ONLY_METHODS:
            return self.app(environ, start_response)
        body = _read_body(environ)  # outside the lock: a slow upload must not stall everyone else
        if _read_only(environ, body):
            return self.app(environ, start_response)
        from moto.core.utils import utcnow

        assert self.file is not None
        with self.lock:
            now = utcnow()
            status, headers, chunks = _pinned_call(self.app, environ, now, self.count)
            if int(status.split(" ", 1)[0]) < 400:
                entry = {
                    "time": now.isoformat(),
                    "method": environ["REQUEST_METHOD"],
                    "path": environ.get("RAW_URI") or environ.get("REQUEST_URI") or environ["PATH_INFO"],
                    "headers": _headers(environ),
                    "body": base64.b64encode(body).decode("ascii"),
                }
                self._append(json.dumps(entry, separators=(",", ":")).encode() + b"\n")
        start_response(status, headers)
        return chunks

    def _append(self, line: bytes) -> None:
        assert self.file is not None
        end = self.file.tell()
        try:
            self.file.write(line)
            self.file.flush()
        except BaseException:
            # Keep the file whole for the next append; the client gets an error and retries.
            self.file.truncate(end)
            self.file.seek(end)
            raise
        self.count += 1


class JournalError(RuntimeError):
    pass


def log(message: str) -> None:
    print(f"aws_emulator: {message}", file=sys.stderr, flush=True)
