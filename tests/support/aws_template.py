"""The CloudFormation template with one account's and region's pseudo parameters filled in."""

from __future__ import annotations

from typing import Any


def resolved(value: Any, names: dict[str, str]) -> Any:
    """The template's Fn::Sub strings with the pseudo parameters of one account and region filled in."""
    if isinstance(value, dict):
        if set(value) == {"Fn::Sub"}:
            text = value["Fn::Sub"]
            for name, actual in names.items():
                text = text.replace("${" + name + "}", actual)
            return text
        return {key: resolved(item, names) for key, item in value.items()}
    if isinstance(value, list):
        return [resolved(item, names) for item in value]
    return value
