"""Audit every locked dependency for known vulnerabilities with pip-audit; run by `make test`.

What is audited: requirements-dev.lock, which holds every package of the three locks at the same versions, on
every platform its markers name, read as is (no install, no resolution), so the audit covers what a
deployment installs, not whatever this environment happens to hold.

Why a wrapper: pip-audit alone reports "No known vulnerabilities found" (exit 0) even when it could not
look a single package up, which is what happens on a machine that cannot reach its vulnerability service
(PyPI's JSON API or OSV). This script tells the three outcomes apart and says which one happened:
- findings that are not justified below: exit 1, each listed with its fix versions;
- nothing could be audited (service unreachable): a loud warning, exit 0, or exit 2 with --require-service
  (set AUDIT_REQUIRE_SERVICE=1 in a CI that has network access, so a silent non-audit cannot pass);
- audited and clean: exit 0.

Run: ``python scripts/audit_dependencies.py [--require-service] [--service pypi|osv]``.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
from pathlib import Path

# Vulnerability id -> why it does not apply or cannot be fixed yet. Every entry needs a reason a reviewer
# can check; remove it once the pin moves past the fix.
JUSTIFIED: dict[str, str] = {}

LOCK = Path(__file__).resolve().parents[1] / "requirements-dev.lock"


def audit(service: str) -> dict:
    """pip-audit's JSON report on the lock, or an empty report naming why pip-audit gave none."""
    result = subprocess.run(
        [
            *(sys.executable, "-m", "pip_audit", "--format", "json", "--progress-spinner", "off", "-s", service),
            *("--requirement", str(LOCK), "--require-hashes", "--disable-pip"),
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    try:
        return json.loads(result.stdout)
    except json.JSONDecodeError:
        tail = result.stderr.strip().splitlines()[-1:] or ["no output"]
        return {"dependencies": [], "error": tail[0]}


def verdict(report: dict, service: str, require_service: bool) -> tuple[int, list[str]]:
    """The exit status and the lines to print for one pip-audit JSON report."""
    deps = report["dependencies"]
    skipped = [d for d in deps if "skip_reason" in d]
    findings = [(d, v) for d in deps for v in d.get("vulns", []) if v["id"] not in JUSTIFIED]
    lines = [
        f"VULNERABLE {dep['name']}=={dep['version']}: {vuln['id']} "
        f"(fixed in: {', '.join(vuln.get('fix_versions') or []) or 'no fix released'})"
        for dep, vuln in findings
    ]
    lines += [f"accepted {vuln_id}: {reason}" for vuln_id, reason in JUSTIFIED.items()]
    audited = len(deps) - len(skipped)
    if report.get("error") or not audited:
        reason = report.get("error") or (skipped[0]["skip_reason"] if skipped else "no packages listed")
        lines.append(
            f"WARNING: dependency audit NOT done: the {service} vulnerability service could not be used "
            f"({reason}). Run `make audit` where it is reachable."
        )
        return (2 if require_service else (1 if findings else 0)), lines
    lines += [f"not audited: {dep['skip_reason']}" for dep in skipped]
    lines.append(f"audited {audited} of {len(deps)} packages with {service}: {len(findings)} unjustified findings")
    if findings:
        return 1, lines
    return (2 if skipped and require_service else 0), lines


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--service", default="pypi", choices=("pypi", "osv"), help="vulnerability service")
    parser.add_argument(
        "--require-service",
        action="store_true",
        default=os.environ.get("AUDIT_REQUIRE_SERVICE") == "1",
        help="fail (exit 2) when packages could not be audited (default: $AUDIT_REQUIRE_SERVICE=1)",
    )
    args = parser.parse_args(argv)
    status, lines = verdict(audit(args.service), args.service, args.require_service)
    print("\n".join(lines))
    return status


if __name__ == "__main__":
    sys.exit(main())
