"""The Docker Compose fixtures (tests/support/compose.py) for this folder's compose tests."""

from tests.support.compose import compose, config, services  # noqa: F401  (fixtures)
