"""Write one lock (a pip constraints file) per requirement set, from the distributions installed here.

The three sets nest: production (requirements.txt) is what an Airflow deployment installs, local
(requirements-local.txt) adds the emulators, dev (requirements-dev.txt) adds the tools. A lock holds exactly
the distributions its set needs, transitively, at the versions installed in this environment, so
``pip install -r requirements.txt -c constraints.txt`` cannot bring an emulator or a tool along.

``make lock`` installs the dev set unconstrained (every set inside it is re-resolved together), then runs
this script; ``--check`` only compares (the test suite does the same through ``closure``).
"""

from __future__ import annotations

import argparse
import sys
from importlib import metadata
from pathlib import Path

from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

REPO = Path(__file__).resolve().parents[1]
LOCKS = {
    "requirements.txt": "constraints.txt",
    "requirements-local.txt": "constraints-local.txt",
    "requirements-dev.txt": "constraints-dev.txt",
}
HEADER = "# Lock of {requirements} and everything it pulls in (written by `make lock`; do not edit by hand).\n"


def requirements(path: Path) -> list[Requirement]:
    """The requirements a file names, following its ``-r`` includes."""
    found: list[Requirement] = []
    for raw in path.read_text(encoding="utf-8").splitlines():
        line = raw.split(" #", 1)[0].strip()
        if not line or line.startswith("#"):
            continue
        if line.startswith("-r "):
            found += requirements(path.parent / line[3:].strip())
        elif line.startswith("-"):
            raise ValueError(f"{path.name}: only requirements and -r includes are expected, not {line!r}")
        else:
            found.append(Requirement(line))
    return found


def closure(roots: list[Requirement]) -> dict[str, metadata.Distribution]:
    """Canonical name -> installed distribution of everything ``roots`` need on this Python, extras included."""
    dists: dict[str, metadata.Distribution] = {}
    done: set[tuple[str, str]] = set()
    todo = [(req, "") for req in roots]
    while todo:
        req, extra = todo.pop()
        if req.marker is not None and not req.marker.evaluate({"extra": extra}):
            continue
        name = canonicalize_name(req.name)
        try:
            dist = dists.get(name) or metadata.distribution(name)
        except metadata.PackageNotFoundError:
            raise LookupError(f"{req} is needed but {name} is not installed: run `make install`") from None
        dists[name] = dist
        for wanted in ("", *sorted(req.extras)):
            if (name, wanted) in done:
                continue
            done.add((name, wanted))
            todo += [(Requirement(text), wanted) for text in dist.requires or []]
    return dists


def lock_text(requirements_file: str) -> str:
    dists = closure(requirements(REPO / requirements_file))
    pins = sorted(f"{dist.metadata['Name']}=={dist.version}" for dist in dists.values())
    return HEADER.format(requirements=requirements_file) + "".join(f"{pin}\n" for pin in pins)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="exit 1 if a lock differs from what is installed")
    args = parser.parse_args(argv)
    stale = []
    for requirements_file, lock in LOCKS.items():
        text = lock_text(requirements_file)
        path = REPO / lock
        if args.check:
            if not path.exists() or path.read_text(encoding="utf-8") != text:
                stale.append(lock)
        else:
            path.write_text(text, encoding="utf-8")
            print(f"{lock}: {text.count(chr(10)) - 1} distributions")
    if stale:
        print(f"out of date: {', '.join(stale)} (run `make lock`)", file=sys.stderr)
    return 1 if stale else 0


if __name__ == "__main__":
    sys.exit(main())
