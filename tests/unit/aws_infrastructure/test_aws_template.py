"""`python -m aws_infrastructure template`: a CloudFormation template that cfn-lint accepts and that holds
exactly what `up` converges (read back from the emulator after a real `up`), so the two cannot drift."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from cfnlint.api import lint_all

from aws_infrastructure.cli import main
from aws_infrastructure.settings import load_settings
from aws_infrastructure.template import build_template
from tests.unit.aws_infrastructure.test_aws_settings import config_dict, write_config

REPO = Path(__file__).resolve().parents[3]


def lint_findings(template: dict[str, Any]) -> list[str]:
    """cfn-lint's errors and warnings (its informational I-rules are advice, not defects)."""
    matches = lint_all(json.dumps(template, indent=2))
    return [f"{m.rule.id} line {m.linenumber}: {m.message}" for m in matches if not m.rule.id.startswith("I")]


@pytest.mark.parametrize("mode", ["PROVISIONED", "ON_DEMAND"])
def test_the_template_passes_cfn_lint(mode: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    data = json.loads((REPO / "config" / "aws.json").read_text())
    data["stream"]["mode"] = mode
    monkeypatch.setenv("PIPELINE_CONFIG_DIR", str(write_config(tmp_path, data)))
    template = build_template(load_settings())
    assert lint_findings(template) == []
    stream = template["Resources"]["Stream"]["Properties"]
    assert ("ShardCount" in stream) == (mode == "PROVISIONED")


def test_the_command_writes_the_template_and_names_a_bad_field(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("PIPELINE_CONFIG_DIR", str(write_config(tmp_path / "good", config_dict("t"))))
    out = tmp_path / "stack.json"
    assert main(["template", "--out", str(out)]) == 0
    template = json.loads(out.read_text())
    assert template["Resources"]["Bucket"]["Properties"]["BucketName"] == "test-landing-t"
    assert main(["template"]) == 0
    assert json.loads(capsys.readouterr().out) == template

    bad = config_dict("t")
    bad["bucket"] = "Bad_Bucket"
    monkeypatch.setenv("PIPELINE_CONFIG_DIR", str(write_config(tmp_path / "bad", bad)))
    assert main(["template"]) == 2
    assert "aws.json: field 'bucket'" in capsys.readouterr().err
