"""The dependency audit's verdict: findings fail, justified ones pass, an unreachable service is never 'clean'."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest

SCRIPT = Path(__file__).resolve().parents[3] / "scripts" / "audit_dependencies.py"
spec = importlib.util.spec_from_file_location("audit_dependencies", SCRIPT)
assert spec and spec.loader
audit_dependencies = importlib.util.module_from_spec(spec)
spec.loader.exec_module(audit_dependencies)

CLEAN = {"name": "requests", "version": "2.32.5", "vulns": []}
VULNERABLE = {
    "name": "jinja2",
    "version": "3.1.0",
    "vulns": [{"id": "GHSA-test-0001", "fix_versions": ["3.1.6"], "aliases": []}],
}
UNREACHABLE = {"name": "requests", "skip_reason": "Dependency not found on PyPI and could not be audited: requests"}


def test_a_finding_fails_and_names_the_fix() -> None:
    status, lines = audit_dependencies.verdict({"dependencies": [CLEAN, VULNERABLE]}, "pypi", False)
    assert status == 1
    assert "VULNERABLE jinja2==3.1.0: GHSA-test-0001 (fixed in: 3.1.6)" in lines


def test_a_justified_finding_passes_and_is_printed_with_its_reason(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(audit_dependencies.JUSTIFIED, "GHSA-test-0001", "only reachable from the docs build")
    status, lines = audit_dependencies.verdict({"dependencies": [CLEAN, VULNERABLE]}, "pypi", True)
    assert status == 0
    assert "accepted GHSA-test-0001: only reachable from the docs build" in lines


def test_clean_when_every_package_was_audited() -> None:
    status, lines = audit_dependencies.verdict({"dependencies": [CLEAN]}, "pypi", True)
    assert (status, lines[-1]) == (0, "audited 1 of 1 packages with pypi: 0 unjustified findings")


@pytest.mark.parametrize(
    "report", [{"dependencies": [UNREACHABLE]}, {"dependencies": [], "error": "ConnectionError: api.osv.dev"}]
)
def test_an_unreachable_service_is_reported_not_passed_off_as_clean(report: dict) -> None:
    status, lines = audit_dependencies.verdict(report, "osv", False)
    assert status == 0 and lines[-1].startswith("WARNING: dependency audit NOT done")
    assert audit_dependencies.verdict(report, "osv", True)[0] == 2
