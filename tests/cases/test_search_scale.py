"""The index paths of the case search, keyset pages and mediator loads find what the scans did."""

from __future__ import annotations

import pytest

from mediation.cases import services
from mediation.cases.tables import Case, CaseMediator, Party
from tests.cases.conftest import deposit_case, grid_id, user

pytestmark = pytest.mark.anyio


async def _ids(condition) -> set[int]:
    return {r["id"] for r in await Case.select(Case.id).where(condition)}


async def _found(term: str) -> set[int]:
    return await _ids(await services.text_search_condition(term))


async def _scanned(term: str) -> set[int]:
    return await _ids(await services.text_search_condition_scan(term))


async def test_whole_names_and_case_numbers_find_the_same_cases_as_the_text_scan(new_key):
    grid1 = await user("grid1")
    case_id = await services.register_case(
        deposit_case(
            await grid_id(),
            parties=[
                services.PartyInput(role="applicant", name="柏芳", phone="13811112222"),
                services.PartyInput(role="respondent", name="柏秀英", phone="13833334444"),
            ],
        ),
        grid1,
        new_key(),
    )
    number = (await Case.select(Case.number).where(Case.id == case_id).first())["number"]
    names = sorted(
        {r["name"] for r in await Party.select(Party.name).where(Party.kind == "person")}
    )
    two = [n for n in names if len(n) == 2]
    three = [n for n in names if len(n) == 3]
    assert "柏芳" in two and "柏秀英" in three
    numbers = [r["number"] for r in await Case.select(Case.number).order_by(Case.id).limit(40)]
    terms = [*two, *three[:40], *numbers, number, number.split("-", 1)[1]]
    differ = {}
    for term in terms:
        found, scanned = await _found(term), await _scanned(term)
        if found != scanned:
            differ[term] = (sorted(found), sorted(scanned))
    assert differ == {}
    assert await _found(number) == {case_id}
    # A two-character name and the start of a three-character one both answer by the name.
    assert case_id in await _found("柏芳") and case_id in await _found("柏秀")


async def test_a_short_term_that_starts_no_name_is_still_looked_up_in_the_text(new_key):
    grid1 = await user("grid1")
    case_id = await services.register_case(
        deposit_case(await grid_id(), summary="楼上渗漏致楼下天花板受损"), grid1, new_key()
    )
    assert await Party.count().where(Party.name.like("渗漏%")) == 0
    found = await _found("渗漏")
    assert case_id in found and found == await _scanned("渗漏")


async def test_the_last_digits_of_a_phone_find_the_case_besides_what_the_text_finds(new_key):
    grid1 = await user("grid1")
    case_id = await services.register_case(
        deposit_case(
            await grid_id(),
            parties=[
                services.PartyInput(role="applicant", name="沈一", phone="13957319876"),
                services.PartyInput(role="respondent", name="沈二", phone="13900001111"),
            ],
        ),
        grid1,
        new_key(),
    )
    for tail in ("9876", "57319876", "13957319876"):
        found = await _found(tail)
        assert case_id in found, tail
        assert await _scanned(tail) <= found, tail
    assert case_id not in await _found("9875")


async def test_the_list_pages_by_keyset_as_it_does_by_offset(new_key):
    centre = await user("centre2")
    first, more = await services.list_cases(centre, services.CaseFilters())
    second, _ = await services.list_cases(centre, services.CaseFilters(page=2))
    assert more and len(first) == services.PAGE_SIZE
    after, _ = await services.list_cases(centre, services.CaseFilters(page=2, after=first[-1].id))
    assert [r.id for r in after] == [r.id for r in second]
    back, has_more = await services.list_cases(
        centre, services.CaseFilters(page=1, before=after[0].id)
    )
    assert [r.id for r in back] == [r.id for r in first] and has_more


async def test_the_keyset_links_lead_to_the_next_and_previous_pages(client):
    from tests.helpers import login

    await login(client, "centre2")
    page1 = (await client.get("/cases")).text
    first_ids = _case_links(page1)
    assert "&amp;after=" in page1 or "&after=" in page1
    last = first_ids[-1]
    page2 = (await client.get(f"/cases?page=2&after={last}")).text
    second_ids = _case_links(page2)
    assert second_ids and max(second_ids) < last
    assert 'page=1"' in page2  # back to the first page: no key needed
    page3 = (await client.get(f"/cases?page=3&after={second_ids[-1]}")).text
    third_ids = _case_links(page3)
    assert third_ids and max(third_ids) < min(second_ids)
    assert f"page=2&amp;before={third_ids[0]}" in page3 or f"page=2&before={third_ids[0]}" in page3
    back = _case_links((await client.get(f"/cases?page=2&before={third_ids[0]}")).text)
    assert back == second_ids


def _case_links(html: str) -> list[int]:
    import re

    return [int(m) for m in re.findall(r'<td><a [^>]*href="/cases/(\d+)">', html)]


async def test_mediator_loads_count_active_assignments_of_open_cases():
    rows = await CaseMediator.select(CaseMediator.mediator).where(
        CaseMediator.active.eq(True), CaseMediator.case.status.is_in(services.OPEN_STATUSES)
    )
    expected: dict[int, int] = {}
    for r in rows:
        expected[r["mediator"]] = expected.get(r["mediator"], 0) + 1
    from mediation.cases.mediators import _mediator_loads

    assert await _mediator_loads() == expected


async def test_the_mediator_ranking_is_worked_out_only_where_it_is_shown(
    client, monkeypatch, new_key
):
    from tests.helpers import login

    calls: list[int] = []
    original = services.ranked_for_detail

    async def counting(case):
        calls.append(case.id)
        return await original(case)

    monkeypatch.setattr(services, "ranked_for_detail", counting)
    centre = await user("centre1")
    row = (
        await CaseMediator.select(CaseMediator.case)
        .where(
            CaseMediator.active.eq(True),
            CaseMediator.case.status == "mediating",
            CaseMediator.case.region_path.like(centre.region_path + "%"),
        )
        .first()
    )
    assert row, "the demo has a mediating case with a mediator in centre1's town"
    await login(client, "centre1")
    page = (await client.get(f"/cases/{row['case']}")).text
    link = f'href="/cases/{row["case"]}?mediators=1#mediators"'
    assert calls == [] and link in page
    page = (await client.get(f"/cases/{row['case']}?mediators=1")).text
    assert calls == [row["case"]] and link not in page
    # A new case has no mediator yet: the ranking is what the page is for.
    case_id = await services.register_case(
        deposit_case(await grid_id()), await user("grid1"), new_key()
    )
    page = (await client.get(f"/cases/{case_id}")).text
    assert calls[-1] == case_id and f"/cases/{case_id}?mediators=1#mediators" not in page


async def test_the_ranking_from_the_page_is_the_ranking_by_id(new_key):
    """The case page ranks mediators from the case it has read (its assignments included):
    the same mediators, order, reasons and warnings as ``suggest_mediators`` reading the case
    itself, for every open case of the demo centre1 may open."""
    centre = await user("centre1")
    ids = [
        r["id"]
        for r in await Case.select(Case.id)
        .where(Case.status.is_in(["registered", "accepted", "mediating"]))
        .order_by(Case.id)
    ]
    checked, ranked = 0, 0
    for case_id in ids:
        case = await services.case_detail(centre, case_id)
        if case is None:
            continue
        by_id = await services.suggest_mediators(centre, case_id)
        from_page = await services.ranked_for_detail(case)
        assert from_page == by_id, case_id
        checked += 1
        ranked += bool(from_page)
    assert checked >= 3 and ranked >= 3


async def test_digits_find_what_the_text_and_phone_paths_found_but_amounts_in_a_summary(new_key):
    """Digits (4 to 11) are looked up as a phone's tail and in case numbers only. Against the
    old path (the text scan and the phone tails) on every phone tail and number fragment of
    the demo: the same cases, except cases whose summary or party names alone hold the
    digits."""
    grid1 = await user("grid1")
    case_id = await services.register_case(
        deposit_case(
            await grid_id(),
            summary="借款8765元未还",
            parties=[
                services.PartyInput(role="applicant", name="沈甲", phone="13957314321"),
                services.PartyInput(role="respondent", name="沈乙", phone="13900002222"),
            ],
        ),
        grid1,
        new_key(),
    )
    parties = await Party.select(Party.case, Party.phone)
    phones = [r["phone"] for r in parties if r["phone"]]
    numbers = [r["number"] for r in await Case.select(Case.number)]
    # A spread of the demo's phones and numbers (each term costs a few queries).
    terms = {p[-n:] for p in phones[:: max(1, len(phones) // 25)] for n in (4, 11)}
    terms = {t for t in terms if t.isdigit()}
    for number in numbers[:: max(1, len(numbers) // 8)]:
        year, seq = number.split("-")[-2:]
        terms |= {seq, seq[-4:], seq[-5:], seq[1:5], year}
    cases = {
        r["id"]: r for r in await Case.select(Case.id, Case.number, Case.summary, Case.search_text)
    }
    assert len(terms) > 30
    for term in sorted(terms)[:3]:  # the scan, as the loop below reads it from search_text
        assert await _scanned(term) == {
            c for c, r in cases.items() if term in r["search_text"].lower()
        }
    for term in sorted(terms):
        found = await _found(term)
        tails = {r["case"] for r in parties if (r["phone"] or "").endswith(term)}
        # The old path: the text scan (search_text contains the term) and the phone tails.
        old = {c for c, r in cases.items() if term in r["search_text"].lower()} | tails
        missing = old - found
        assert found <= old, term
        # Only cases whose own text (not their number) holds the digits are left out.
        assert all(
            term in cases[c]["search_text"].replace(cases[c]["number"], "") for c in missing
        ), term
        assert all(term not in cases[c]["number"] for c in missing), term
    # The case's phone tail finds it; the amount in its summary alone no longer does.
    assert case_id in await _found("4321") and case_id in await _found("13957314321")
    assert case_id in await _scanned("8765") and case_id not in await _found("8765")
    assert not any(p.endswith("8765") for p in phones)


async def test_a_search_through_the_parties_pages_as_its_condition_does(monkeypatch, new_key):
    """The list of a name or phone-tail search (on PostgreSQL walked from the cases' ids,
    newest first, and stopped at the page) holds the cases of the search's condition in the
    same order, page by page, by offset and by keyset, for the county and for a town."""
    from mediation.cases import access, queries

    monkeypatch.setattr(queries, "PAGE_SIZE", 2)
    engine = Case._meta.db
    statements: list[str] = []
    original = type(engine).run_querystring

    async def recording(self, querystring, in_pool: bool = True):
        statements.append(querystring.compile_string(engine_type=self.engine_type)[0])
        return await original(self, querystring, in_pool)

    monkeypatch.setattr(type(engine), "run_querystring", recording)
    grid1 = await user("grid1")
    for i in range(5):
        await services.register_case(
            deposit_case(
                await grid_id(),
                parties=[
                    services.PartyInput(role="applicant", name="柏芳", phone=f"13{i}00007788"),
                    services.PartyInput(role="respondent", name="柏芳芳", phone="13900001111"),
                ],
            ),
            grid1,
            new_key(),
        )
    for username in ("centre2", "centre1"):
        staff = await user(username)
        scope = await access.case_scope(staff)
        for term in ("柏芳", "柏", "7788", "00007788"):
            if len(term) <= 2:  # the text scan: independent of the party index paths
                condition = await services.text_search_condition_scan(term)
            else:
                condition = await services.text_search_condition(term)
            rows = await (
                Case.select(Case.id).where(scope, condition).order_by(Case.id, ascending=False)
            )
            expected = [r["id"] for r in rows]
            assert len(expected) >= 5 or username == "centre1", (username, term)
            statements.clear()
            listed, page = [], 1
            while True:
                found, more = await services.list_cases(
                    staff, services.CaseFilters(q=term, page=page)
                )
                listed += [r.id for r in found]
                if not more:
                    break
                page += 1
            assert listed == expected, (username, term)
            # Walked from the ids on PostgreSQL (the join), by the condition on SQLite.
            driven = any('"found"' in sql for sql in statements)
            assert driven == queries.uses_postgres(), (username, term)
            if len(expected) >= 4:
                after, more = await services.list_cases(
                    staff, services.CaseFilters(q=term, page=2, after=expected[1])
                )
                assert [r.id for r in after] == expected[2:4]
                assert more == (len(expected) > 4)
                before, _ = await services.list_cases(
                    staff, services.CaseFilters(q=term, page=1, before=expected[2])
                )
                assert [r.id for r in before] == expected[:2]


async def _my_work_in_one_read(user, limit: int = 50) -> list[int]:
    """ "My work" as it was read before the open-case indexes: one select of the rows."""
    from piccolo.columns.combination import Or

    from mediation.cases import access
    from mediation.cases.queries import LIST_COLUMNS
    from mediation.roles import MEDIATOR_ROLES, TEAM_ROLES

    scope = await access.case_scope(user)
    if scope is None:
        return []
    conditions = []
    if user.has_role(*TEAM_ROLES) and (grids := await access.team_grids(user)):
        conditions.append(Case.grid.is_in(grids))
    if user.has_role(*MEDIATOR_ROLES) and (ids := await access.assigned_case_ids(user)):
        conditions.append(Case.id.is_in(ids))
    if user.has_role("centre_staff"):
        depth = len([p for p in user.region_path.split("/") if p])
        level = {1: "county", 2: "town", 3: "community"}.get(depth, "town")
        conditions.append((Case.level == level) | (Case.colour == "red") | (Case.overdue.eq(True)))
    if not conditions:
        return []
    combined = conditions[0]
    for condition in conditions[1:]:
        combined = Or(combined, condition)
    rows = (
        await Case.select(*LIST_COLUMNS)
        .where(Case.status.is_in(services.OPEN_STATUSES), scope, combined)
        .order_by(Case.id, ascending=False)
        .limit(limit)
    )
    return [r["id"] for r in rows]


async def test_my_work_lists_what_one_read_of_the_rows_listed_for_every_demo_user():
    """The newest ids first (from the open-case indexes), then their rows: the same cases for
    every demo user who has a "my work" page, also with a limit that cuts the list short."""
    from mediation.grid.tables import Staff

    compared = 0
    for row in await Staff.select(Staff.username).order_by(Staff.id):
        staff = await user(row["username"])
        for limit in (50, 3):
            expected = await _my_work_in_one_read(staff, limit)
            listed = await services.my_work(staff, limit)
            assert sorted(r.id for r in listed) == sorted(expected), (row["username"], limit)
            compared += bool(expected)
    assert compared >= 6


def test_the_open_case_indexes_name_the_open_statuses():
    """The partial indexes of "my work" hold the cases whose status is open: if the open
    statuses change, a new migration must rebuild them."""
    import importlib
    import re

    migration = importlib.import_module(
        "mediation.cases.piccolo_migrations.cases_2026_11_30t17_20_00_000000"
    )
    assert re.findall(r"'(\w+)'", migration.OPEN) == list(services.OPEN_STATUSES)


async def _listed(staff, term: str) -> list[int]:
    listed, page = [], 1
    while True:
        found, more = await services.list_cases(staff, services.CaseFilters(q=term, page=page))
        listed += [r.id for r in found]
        if not more:
            return listed
        page += 1


async def test_a_text_term_lists_the_same_cases_whether_rare_common_or_slow(monkeypatch, new_key):
    """A term of three characters or more is told rare (the list is driven by the trigram
    index's cases on PostgreSQL) or common (the planner's walk): the same cases either way, in
    the same order, also when the index takes too long to answer and when the first cases of
    the table are enough to call it common."""
    from mediation.cases import queries

    monkeypatch.setattr(queries, "PAGE_SIZE", 2)
    grid1 = await user("grid1")
    rare = "榉木地板起鼓" + new_key()[:6]
    made = [
        await services.register_case(
            deposit_case(await grid_id(), summary=f"{rare}，楼上装修所致（{i}）"), grid1, new_key()
        )
        for i in range(2)
    ]
    staff = await user("centre2")
    expected = sorted(made, reverse=True)
    assert await _found(rare) == await _scanned(rare) == set(made)
    assert await _listed(staff, rare) == expected
    if queries.uses_postgres():
        assert isinstance(await queries._rare_text_cases(rare), queries.CaseIds)
        # Rarer than the table's first cases show, but more than the index may hand over:
        # left to the planner, the same cases.
        monkeypatch.setattr(queries, "RARE_TEXT_MAX", 1)
        assert await queries._rare_text_cases(rare) is None
        assert await _listed(staff, rare) == expected
        monkeypatch.setattr(queries, "RARE_TEXT_MAX", 500)
        # The index too slow to answer within its time: left to the planner.
        monkeypatch.setattr(
            queries,
            "_RARE_TEXT_SQL",
            'SELECT "id" FROM "case", pg_sleep(0.2) WHERE "search_text" ILIKE {} LIMIT {}',
        )
        assert await queries._rare_text_cases(rare) is None
        assert await _listed(staff, rare) == expected
    # Common: the first cases read hold a page of it and more.
    common = "邻里共用楼道堆物" + new_key()[:6]
    for i in range(4):
        await services.register_case(
            deposit_case(await grid_id(), summary=f"{common}（{i}）"), grid1, new_key()
        )
    if queries.uses_postgres():
        monkeypatch.setattr(queries, "COMMON_PROBE", "1s")
        assert await queries._rare_text_cases(common) is None
    listed = await _listed(staff, common)
    assert listed == sorted(await _scanned(common), reverse=True) and len(listed) == 4
