"""The case factory's idempotency keys, shared with the cases tests."""

from tests.cases.conftest import new_key  # noqa: F401
