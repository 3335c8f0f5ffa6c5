"""The web form (/suggest, a citizen's own phone, no sign-in) files once however often it is
sent: it carries a random key of its own, and the same key answers with the first filing's
receipt. Opening the form makes no server-side session.
"""

from __future__ import annotations

import asyncio
import re
import uuid

import pytest
from litestar.testing import AsyncTestClient

from mediation.settings import get_settings
from mediation.suggestions import rules, services
from mediation.suggestions.tables import Suggestion
from tests.helpers import post_form, text_of
from tests.suggestions.test_public import GOOD, _secret_in, _unique

pytestmark = pytest.mark.anyio

KEY = re.compile(r'<input type="hidden" name="idempotency_key" value="([0-9a-f]{32})">')


async def _form_key(client) -> str:
    page = await client.get("/suggest")
    assert page.status_code == 200
    found = KEY.search(page.text)
    assert found, "the web form carries its key"
    return found.group(1)


async def _filed(topic: str) -> list[str]:
    rows = await Suggestion.select(Suggestion.tracking_code).where(Suggestion.title == topic)
    return [r["tracking_code"] for r in rows]


async def test_opening_the_form_gives_a_new_key_and_no_session(client):
    first = await client.get("/suggest")
    assert "msession" not in first.headers.get("set-cookie", "")
    assert "msession" not in client.cookies
    assert KEY.search(first.text).group(1) != await _form_key(client)


async def test_the_same_form_sent_twice_files_once_and_answers_with_its_receipt(client):
    topic = _unique()
    form = {**GOOD, "topic": topic, "idempotency_key": await _form_key(client)}
    first = await post_form(client, "/suggest", form)
    assert first.status_code == 303
    second = await post_form(client, "/suggest", form)
    assert second.status_code == 303
    assert second.headers["location"] == first.headers["location"]
    code = first.headers["location"].rsplit("/", 1)[1]
    assert await _filed(topic) == [code]

    receipt = await client.get(second.headers["location"])
    assert receipt.status_code == 200 and code in receipt.text
    secret = _secret_in(receipt.text)
    assert secret and await services.track(code, secret) is not None
    # Sent a third time once its secret has been shown: the receipt, not the secret again.
    third = await post_form(client, "/suggest", form)
    assert third.headers["location"] == first.headers["location"]
    again = await client.get(third.headers["location"])
    assert code in again.text and _secret_in(again.text) is None
    assert await _filed(topic) == [code]


async def test_a_double_tap_whose_first_answer_was_lost_still_shows_the_secret(client, app):
    """The browser shows the answer to the second tap, which came without the cookie the
    first answer set: that answer shows the same receipt and a secret that opens it."""
    topic = _unique()
    form = {**GOOD, "topic": topic, "idempotency_key": await _form_key(client)}
    first = await post_form(client, "/suggest", form)
    assert first.status_code == 303
    async with AsyncTestClient(app) as second_tap:
        second = await post_form(second_tap, "/suggest", form)
        assert second.status_code == 303
        assert second.headers["location"] == first.headers["location"]
        receipt = await second_tap.get(second.headers["location"])
    code = first.headers["location"].rsplit("/", 1)[1]
    secret = _secret_in(receipt.text)
    assert secret and await services.track(code, secret) is not None
    assert _secret_in((await client.get(first.headers["location"])).text) == secret
    assert await _filed(topic) == [code]


async def test_two_forms_file_two_suggestions(client):
    topic = _unique()
    first = await post_form(
        client, "/suggest", {**GOOD, "topic": topic, "idempotency_key": await _form_key(client)}
    )
    second = await post_form(
        client, "/suggest", {**GOOD, "topic": topic, "idempotency_key": await _form_key(client)}
    )
    assert first.status_code == second.status_code == 303
    assert first.headers["location"] != second.headers["location"]
    assert len(await _filed(topic)) == 2


async def test_a_refused_form_keeps_its_key_and_then_files_once(client):
    topic = _unique()
    key = await _form_key(client)
    refused = await post_form(
        client, "/suggest", {**GOOD, "topic": topic, "measures": "", "idempotency_key": key}
    )
    assert refused.status_code == 422
    assert "此项为必填项。" in text_of(refused.text)
    assert KEY.search(refused.text).group(1) == key
    form = {**GOOD, "topic": topic, "idempotency_key": key}
    first = await post_form(client, "/suggest", form)
    second = await post_form(client, "/suggest", form)
    assert first.headers["location"] == second.headers["location"]
    assert len(await _filed(topic)) == 1


async def test_a_form_without_a_key_is_given_one_when_it_comes_back(client):
    refused = await post_form(client, "/suggest", {**GOOD, "measures": ""})
    assert refused.status_code == 422
    assert KEY.search(refused.text)


async def test_the_same_key_at_the_same_moment_files_once():
    topic = _unique()
    key = uuid.uuid4().hex
    values = {**GOOD, "topic": topic}
    answers = await asyncio.gather(
        *(services.submit_suggestion(dict(values), "web", form_key=key) for _ in range(3))
    )
    receipts = {receipt for _cleaned, _errors, receipt in answers}
    assert len(receipts) == 1
    (code, secret), *_ = receipts
    assert await _filed(topic) == [code]
    assert secret == rules.secret_for_form_key(key, get_settings().secret_key)
