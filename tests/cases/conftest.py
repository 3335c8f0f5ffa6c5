"""Fixtures for the cases domain: the demo personas as signed-in users and a case factory."""

from __future__ import annotations

import uuid

import pytest

from mediation.accounts.services import CurrentUser, load_user
from mediation.cases import services
from mediation.grid.tables import Grid, Staff


async def user(username: str) -> CurrentUser:
    staff = await Staff.select(Staff.id).where(Staff.username == username).first()
    return await load_user(staff["id"])


async def grid_id(code: str = "330482001001-01") -> int:
    return (await Grid.select(Grid.id).where(Grid.code == code).first())["id"]


# A valid resident ID number (checksum computed by GB 11643) for a 2003-born student.
STUDENT_ID = "330482200305170019"


def deposit_case(grid: int, **overrides) -> services.CaseInput:
    """The canonical story: a student's deposit held back by a sublessor (二房东)."""
    values = dict(
        category="housing_land",
        summary="学生提前退租，二房东扣押押金",
        facts="租客提前一个月退租，二房东以违约为由不退还押金3000元。",
        grid_id=grid,
        source="walk_in",
        colour="green",
        amount=None,
        location="当湖街道东湖社区梅园小区3幢",
        parties=[
            services.PartyInput(
                role="applicant", name="王堃", id_number=STUDENT_ID, phone="13812345678"
            ),
            services.PartyInput(role="respondent", name="李二房东", phone="13900001111"),
        ],
    )
    values.update(overrides)
    return services.CaseInput(**values)


@pytest.fixture
def new_key():
    return lambda: uuid.uuid4().hex


@pytest.fixture
async def release_mediators():
    """Tests that leave cases open give the mediators' capacity back when they end, so later
    tests' mediator rankings hold: every assignment made during the test is ended."""
    from mediation.cases.tables import CaseMediator

    before = await CaseMediator.select(CaseMediator.id).order_by(CaseMediator.id, ascending=False)
    last = before[0]["id"] if before else 0
    yield
    await CaseMediator.update({CaseMediator.active: False}).where(CaseMediator.id > last)
