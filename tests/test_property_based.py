"""Bounded property-based runs: no input gives a 5xx.

schemathesis drives every operation of the OpenAPI schema (``/api/`` signed in as centre
staff, ``/open311/`` with a valid API key) in-process through the ASGI app; Hypothesis
strategies drive the main HTML forms (intake, suggestion, session, agreement clauses)
through the test client. The runs are derandomised and bounded so they take seconds per
engine and fail the same way every time.
"""

from __future__ import annotations

import asyncio
import dataclasses
import json

import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st
from litestar.serialization import encode_json
from litestar.testing import TestClient

from mediation.app import create_app
from mediation.cases import agreements, services
from mediation.cases.tables import CaseMediator
from mediation.demo import DEMO_PASSWORD
from mediation.grid.tables import Mediator
from mediation.settings import settings_from_env
from mediation.suggestions.open311_keys import create_api_key
from tests.cases.conftest import deposit_case, grid_id, user

# Module-scoped fixtures sign in and write rows the tests share: one fresh database for the module.
pytestmark = pytest.mark.module_database

BOUNDED = hypothesis_settings(
    max_examples=25,
    derandomize=True,
    deadline=None,
    database=None,
    phases=[Phase.explicit, Phase.generate],
    suppress_health_check=list(HealthCheck),
)


def _app():
    # Public forms are rate limited per address; a fuzzer is one address sending hundreds.
    settings = dataclasses.replace(settings_from_env(), public_rate_limit=100_000)
    return create_app(settings)


def _sign_in(client: TestClient, username: str) -> str:
    client.get("/login")
    token = client.cookies.get("csrftoken") or ""
    response = client.post(
        "/login",
        data={"username": username, "password": DEMO_PASSWORD},
        headers={"x-csrftoken": token},
        follow_redirects=False,
    )
    assert response.status_code in (302, 303), response.text
    return client.cookies.get("csrftoken") or token


def _run(coroutine):
    return asyncio.run(coroutine)


# ---------------------------------------------------------------- schemathesis over the API


def _served_schema() -> dict:
    # What /schema/openapi.json serves, without starting the app before the database exists.
    return json.loads(encode_json(_app().openapi_schema.to_schema()))


# Built from the schema the app serves, at collection, so each operation is a test of its own.
API_SCHEMA = schemathesis.openapi.from_dict(_served_schema())
# Sorted: the schema's order of methods within a path may differ between processes.
OPERATIONS = sorted(
    (result.ok() for result in API_SCHEMA.get_all_operations()),
    key=lambda operation: operation.label,
)


@pytest.fixture(scope="module")
def api_app(database):
    return _app()


@pytest.fixture(scope="module")
def api_schema():
    return API_SCHEMA


@pytest.fixture(scope="module")
def api_client(api_app):
    with TestClient(api_app) as client, TestClient(api_app) as anonymous:
        token = _sign_in(client, "centre1")
        key = _run(create_api_key("property-based run"))
        yield client, anonymous, token, key


def _form_value(value):
    # A generated form may nest objects, which no browser sends: send them as JSON text.
    return value if isinstance(value, str | int | float | bool) else json.dumps(value)


def _upload_bytes(value) -> bytes:
    if isinstance(value, bytes):
        return value
    return (value if isinstance(value, str) else json.dumps(value)).encode()


def _as_uploads(files) -> list:
    # Generated multipart parts may hold numbers or objects; a client sends bytes.
    items = files.items() if isinstance(files, dict) else files
    uploads = []
    for name, part in items:
        if isinstance(part, tuple):
            filename, content, *rest = part
            uploads.append((name, (filename, _upload_bytes(content), *rest)))
        else:
            uploads.append((name, ("upload", _upload_bytes(part))))
    return uploads


def _request(client: TestClient, anonymous: TestClient, token: str, key: str, case):
    kwargs = case.as_transport_kwargs(base_url=str(client.base_url))
    kwargs.pop("cookies", None)  # the client's own: signed in as centre1
    headers = {k: v for k, v in kwargs.pop("headers", {}).items() if k.lower() != "connection"}
    if isinstance(kwargs.get("data"), dict):
        data = {k: _form_value(v) for k, v in kwargs["data"].items()}
        if data.get("api_key"):  # half the runs file with a valid key, half without
            data["api_key"] = key
        kwargs["data"] = data
    if kwargs.get("files"):
        kwargs["files"] = _as_uploads(kwargs["files"])
    if case.path.startswith("/open311/"):
        # Public operations: no session cookie is needed, so none is sent.
        return anonymous.request(headers=headers, follow_redirects=False, **kwargs)
    headers["x-csrftoken"] = token
    return client.request(headers=headers, follow_redirects=False, **kwargs)


@pytest.mark.parametrize("operation", OPERATIONS, ids=lambda operation: operation.label)
def test_no_api_operation_answers_5xx(api_client, operation):
    client, anonymous, token, key = api_client

    @BOUNDED
    @given(case=operation.as_strategy())
    def check(case):
        response = _request(client, anonymous, token, key, case)
        assert response.status_code < 500, (case.method, case.formatted_path, response.text[:300])

    check()


def test_the_schema_says_open311_needs_no_session_and_the_api_does(api_schema):
    raw = api_schema.raw_schema
    assert raw["security"] == [{"sessionCookie": []}]
    for path, item in raw["paths"].items():
        for method, operation in item.items():
            if path.startswith("/open311/"):
                assert operation["security"] == [], (method, path)
            else:
                assert "security" not in operation, (method, path)


def test_the_schema_marks_required_form_fields_and_types_dates(api_schema):
    raw = api_schema.raw_schema
    body = raw["paths"]["/open311/v2/requests.json"]["post"]["requestBody"]
    for media_type in ("application/x-www-form-urlencoded", "multipart/form-data"):
        form = body["content"][media_type]["schema"]
        assert set(form["required"]) == {"api_key", "service_code", "description"}
    listing = raw["paths"]["/open311/v2/requests.json"]["get"]["parameters"]
    dates = {p["name"]: p["schema"] for p in listing if p["name"] in ("start_date", "end_date")}
    assert dates and all(s.get("format") == "date-time" for s in dates.values())
    cases = raw["paths"]["/api/cases"]["get"]["parameters"]
    assert {p["name"]: p["schema"] for p in cases}["date_from"]["oneOf"][0]["format"] == "date"


@pytest.mark.parametrize(
    "path, methods",
    [
        ("/open311/v2/requests.json", "GET, OPTIONS, POST"),
        ("/open311/v2/services.json", "GET, OPTIONS"),
        ("/open311/v2/requests/JY-2026-AAAAAA.json", "GET, OPTIONS"),
    ],
)
def test_options_lists_every_method_of_a_path(api_app, path, methods):
    with TestClient(api_app) as client:
        response = client.options(path)
    assert response.status_code == 204
    assert response.headers["allow"] == methods


def test_options_lists_every_method_for_a_signed_in_user(api_app):
    with TestClient(api_app) as client:
        _sign_in(client, "centre1")
        response = client.options("/api/cases")
    assert response.headers["allow"] == "GET, OPTIONS, POST"


# ---------------------------------------------------------------- Hypothesis over the forms

# Anything a browser or a script could send: every code point but surrogates (which cannot be
# encoded), from empty to long, mixed with values the form expects.
any_text = st.text(max_size=300)
long_text = st.text(min_size=0, max_size=12_000)
numbers = st.one_of(
    st.integers(min_value=-(2**70), max_value=2**70).map(str),
    st.decimals(allow_nan=True, allow_infinity=True).map(str),
    st.sampled_from(["1,5", "1,500.50", "１５", "1e9", "-0", ""]),
)
iso_datetimes = st.one_of(
    st.datetimes().map(lambda d: d.isoformat(timespec="minutes")),
    st.sampled_from(["9999-12-31T23:30", "0001-01-01T00:00", "2031-05-05T09:30"]),
    any_text,
)
iso_dates = st.one_of(st.dates().map(lambda d: d.isoformat()), any_text)


def _either(valid, strategy=any_text):
    return st.one_of(st.sampled_from(valid), strategy)


@pytest.fixture(scope="module")
def forms_app(database):
    return _app()


@pytest.fixture(scope="module")
def grid_worker(forms_app):
    with TestClient(forms_app) as client:
        token = _sign_in(client, "grid1")
        yield client, token


@pytest.fixture(scope="module")
def case_in_mediation(database):
    async def make() -> int:
        grid1, centre1 = await user("grid1"), await user("centre1")
        case_id = await services.register_case(deposit_case(await grid_id()), grid1)
        await services.transition_case(grid1, case_id, "accept", {})
        # Straight to mediator1: by the end of a suite run the ranking may find everyone full.
        mediator = (
            await Mediator.select(Mediator.id)
            .where(Mediator.staff == (await user("mediator1")).id)
            .first()
        )
        await CaseMediator(case=case_id, mediator=mediator["id"], assigned_by=centre1.id).save()
        await services.transition_case(grid1, case_id, "start_mediation", {})
        return case_id

    return _run(make())


intake_forms = st.fixed_dictionaries(
    {
        "category": _either(["neighbour", "housing_land", "contract"]),
        "summary": _either(["楼上漏水", "押金纠纷"], long_text),
        "facts": long_text,
        "grid": _either(["1", "2147483648", "9223372036854775808", ""], numbers),
        "source": _either(["walk_in", "door_knocking"]),
        "colour": _either(["green", "red"]),
        "amount": numbers,
        "location": long_text,
        "linked_case": numbers,
        "parties_consent": _either(["yes", "no"]),
        "parties-0-role": _either(["applicant", "respondent"]),
        "parties-0-kind": _either(["person", "organisation"]),
        "parties-0-name": _either(["王堃", "𠮷野"]),
        "parties-0-id_number": _either(["330482200305170019"]),
        "parties-0-phone": _either(["13812345678"]),
        "parties-0-address": long_text,
        "parties-0-representative": any_text,
    }
)


@BOUNDED
@given(form=intake_forms)
def test_the_intake_form_never_answers_5xx(grid_worker, form):
    client, token = grid_worker
    response = client.post(
        "/cases/new",
        data=form,
        files={"attachments": ("", b"", "application/octet-stream")},
        headers={"x-csrftoken": token},
        follow_redirects=False,
    )
    assert response.status_code < 500, response.text[:500]


suggestion_forms = st.fixed_dictionaries(
    {
        "topic": _either(["路灯不亮"], long_text),
        "reason": _either(["晚上很黑"], long_text),
        "measures": _either(["修路灯"], long_text),
        "name": any_text,
        "phone": _either(["13812340000", "0573-85012345"]),
        "reply_by_phone": _either(["1", "", "是"]),
        "confidential": _either(["1", ""]),
        "consent_to_publish": _either(["1", ""]),
        "region": numbers,
        "category": any_text,
    }
)


@BOUNDED
@given(form=suggestion_forms)
def test_the_suggestion_form_never_answers_5xx(forms_app, form):
    with TestClient(forms_app) as client:
        client.get("/suggest")
        token = client.cookies.get("csrftoken") or ""
        response = client.post(
            "/suggest", data=form, headers={"x-csrftoken": token}, follow_redirects=False
        )
    assert response.status_code < 500, response.text[:500]


session_forms = st.fixed_dictionaries(
    {
        "starts_at": iso_datetimes,
        "minutes": _either(["60", "10", "600"], numbers),
        "room": _either(["调解室"], long_text),
        "mode": _either(["in_person", "phone", "video"]),
        "mediator": numbers,
    }
)


@BOUNDED
@given(form=session_forms)
def test_the_session_form_never_answers_5xx(grid_worker, case_in_mediation, form):
    client, token = grid_worker
    response = client.post(
        f"/cases/{case_in_mediation}/sessions/new",
        data=form,
        headers={"x-csrftoken": token},
        follow_redirects=False,
    )
    assert response.status_code < 500, response.text[:500]


@pytest.fixture(scope="module")
def mediator_on_agreement(forms_app, case_in_mediation):
    async def draft() -> int:
        return await agreements.create_agreement(
            await user("mediator1"), case_in_mediation, "written"
        )

    agreement_id = _run(draft())
    with TestClient(forms_app) as client:
        token = _sign_in(client, "mediator1")
        yield client, token, f"/cases/{case_in_mediation}/agreements/{agreement_id}"


clause_forms = st.fixed_dictionaries(
    {
        "main_facts": long_text,
        "issues": any_text,
        "copies": numbers,
        "clauses-0-obligor": _either(["李二房东"], any_text),
        "clauses-0-obligation": _either(["退还押金"], long_text),
        "clauses-0-amount": numbers,
        "clauses-0-method": any_text,
        "clauses-0-place": any_text,
        "clauses-0-deadline": iso_dates,
    }
)


@BOUNDED
@given(form=clause_forms)
def test_the_agreement_clause_form_never_answers_5xx(mediator_on_agreement, form):
    client, token, url = mediator_on_agreement
    response = client.post(url, data=form, headers={"x-csrftoken": token}, follow_redirects=False)
    assert response.status_code < 500, response.text[:500]
