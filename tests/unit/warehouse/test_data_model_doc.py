"""docs/data-model.md is generated from the event contract: the committed page must equal the rendering."""

from __future__ import annotations

import copy

from tests.support.paths import REPO
from warehouse import contract, data_model_doc

PAGE = REPO / "docs" / "data-model.md"


def test_the_committed_page_is_the_contract_rendered() -> None:
    committed = PAGE.read_text(encoding="utf-8")
    assert committed == data_model_doc.render(), (
        "docs/data-model.md differs from the contract: python -m warehouse.data_model_doc > docs/data-model.md"
    )


def test_every_field_is_rendered_with_its_type_requirement_values_and_description() -> None:
    page = data_model_doc.render()
    for field in contract.fields():
        section = page.split(f"### `{field.name}`\n", 1)[1].split("\n### ", 1)[0]
        assert field.description[1:] in section
        assert f"- type: {field.kind}; {'required' if field.required else 'optional'}" in section
        for value in field.known:
            assert f"`{value}`" in section, (field.name, value)
    assert "text matching `^[0-9a-f]{10}$`" in page  # USER_ID's pattern
    assert "-90 to 90" in page and "from 2000-01-01T00:00:00Z to 24 hours ahead" in page


def test_a_change_to_the_contract_changes_the_page() -> None:
    schema = copy.deepcopy(contract.load())
    schema["properties"]["STATUS"]["enum"].append("REFUNDED")
    assert "`REFUNDED`" in data_model_doc.render(schema)
    assert "`REFUNDED`" not in data_model_doc.render()
