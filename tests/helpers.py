"""Re-exports of conftest helpers for test modules."""

from tests.conftest import csrf_token, ensure_csrf, login, post_form, text_of

__all__ = ["csrf_token", "ensure_csrf", "login", "post_form", "text_of"]
