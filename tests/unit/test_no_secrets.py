"""No secret in the repository: nothing shaped like a credential in any tracked or new file."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]

# Shapes of real credentials; the emulators' dummy values ("testing", "local") match none of them.
PATTERNS = {
    "AWS access key id": re.compile(r"\b(AKIA|ASIA)[0-9A-Z]{16}\b"),
    "AWS secret access key": re.compile(r"aws_secret_access_key\s*[=:]\s*['\"]?[A-Za-z0-9/+]{40}\b", re.I),
    "private key block": re.compile(r"-----BEGIN (RSA |EC |OPENSSH |ENCRYPTED )?PRIVATE KEY-----"),
    "Snowflake password in a URL": re.compile(r"snowflake://[^:/\s]+:[^@\s]{8,}@"),
    "generic API token": re.compile(r"\b(ghp|gho|xox[abp]|sk_live)_[A-Za-z0-9]{16,}\b"),
}


def repository_files() -> list[Path]:
    listed = subprocess.run(
        ["git", "ls-files", "--cached", "--others", "--exclude-standard"],
        cwd=REPO,
        capture_output=True,
        text=True,
        check=True,
    ).stdout.splitlines()
    return [REPO / name for name in listed if (REPO / name).is_file()]


def test_no_credential_shaped_strings_in_the_repository() -> None:
    findings = []
    for path in repository_files():
        if path.name == Path(__file__).name:
            continue
        text = path.read_text(encoding="utf-8", errors="ignore")
        findings += [f"{path.relative_to(REPO)}: {what}" for what, rx in PATTERNS.items() if rx.search(text)]
    assert findings == []


def test_the_scan_recognises_what_it_looks_for() -> None:
    samples = {
        "AWS access key id": "key = AKIAIOSFODNN7EXAMPLE",
        "AWS secret access key": "aws_secret_access_key = wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
        "private key block": "-----BEGIN RSA PRIVATE KEY-----",
        "Snowflake password in a URL": "snowflake://user:hunter2hunter2@account",
        "generic API token": "ghp_0123456789abcdefghij",
    }
    for what, sample in samples.items():
        assert PATTERNS[what].search(sample), what


def test_config_files_hold_no_credential_fields() -> None:
    for path in (REPO / "config").glob("*.json"):
        text = path.read_text().lower()
        for field in ("aws_access_key_id", "aws_secret_access_key", "password", "private_key"):
            assert f'"{field}"' not in text, f"{path.name} has a {field} field"
