"""The event contract's fields, and those that list their known values."""

from __future__ import annotations

from warehouse import contract

FIELDS = contract.fields()


WITH_VALUES = [f for f in FIELDS if f.known]
