"""The simulator on a schema it did not write: a login column of VARCHAR(20) (its default names
are over 40 characters) and the anchor taken from enterprise:employeeNumber (which its POST did
not send). It fits the values it generates to the columns' lengths, read from the database
behind the mapping, and sends every attribute a create needs. SQLite does not enforce lengths,
so the servers that do are the test."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from mapper.pipeline import load
from mapper.simulate.report import Report, render_text
from mapper.simulate.runner import discover, in_process, simulate_plan
from mapper.simulate.scenario import run_scenario
from tests.support.databases import HrDatabase, reset_database

pytestmark = pytest.mark.anyio

MAPPING = '''source staff {
  dialect DIALECT
  url env("STAFF_DATABASE_URL", "sqlite:///staff.db")
}

object User from staff {
  anchor badge from enterprise.employeeNumber
  query userName

  import sql"""
    SELECT badge, login, given_name, family_name, mail, title, active FROM staff
  """

  attributes {
    userName                     <-> login        required unique
    enterprise.employeeNumber    <-> badge        required
    name.givenName               <-> given_name
    name.familyName              <-> family_name
    emails[type eq "work"].value <-> mail
    displayName                  <-> title
    active                       <-> active       boolean
  }

  write table staff
  delete row
}
'''

SCHEMA = """CREATE TABLE staff (
  badge VARCHAR(12) PRIMARY KEY,
  login VARCHAR(20) NOT NULL UNIQUE,
  given_name VARCHAR(16),
  family_name VARCHAR(16),
  mail VARCHAR(32),
  title VARCHAR(24),
  active BOOLEAN NOT NULL DEFAULT TRUE
)"""


async def simulate(url: str, dialect: str, tmp_path: Path) -> str:
    reset_database(url)
    HrDatabase(name="staff", url=url, dialect=dialect).execute(SCHEMA)
    path = tmp_path / "staff.map"
    path.write_text(MAPPING.replace("DIALECT", dialect), encoding="utf-8")
    report = await simulate_plan(load(str(path)), {"STAFF_DATABASE_URL": url})
    text = render_text(report)
    assert report.failed == 0, text
    assert report.passed > 20, text
    return text


@pytest.mark.postgres
async def test_narrow_columns_and_an_anchor_from_employee_number_on_postgres(
    postgres_url: str, tmp_path: Path
) -> None:
    await simulate(postgres_url, "postgres", tmp_path)


@pytest.mark.mariadb
async def test_narrow_columns_and_an_anchor_from_employee_number_on_mariadb(
    mariadb_url: str, tmp_path: Path
) -> None:
    await simulate(mariadb_url, "mysql", tmp_path)


async def test_a_url_target_is_sent_what_its_schemas_say_is_required(tmp_path: Path) -> None:
    """A running gateway publishes no column lengths, but /Schemas says what is required: the
    POST carries the employeeNumber (SQLite, which takes any length, so only that is tested)."""
    url = f"sqlite:///{tmp_path / 'staff.db'}"
    HrDatabase(name="staff", url=url, dialect="sqlite").execute(SCHEMA)
    path = tmp_path / "staff.map"
    path.write_text(MAPPING.replace("DIALECT", "sqlite"), encoding="utf-8")
    report = Report()
    async with in_process(load(str(path)), {"STAFF_DATABASE_URL": url}) as (client, _):
        model = await discover(client, report)
        assert model is not None and model.users is not None
        assert dict(model.users.required) == {"userName": "string", "enterprise:employeeNumber": "string"}
        await run_scenario(client, model, report=report)
    assert report.failed == 0 and report.passed > 20, render_text(report)


TEAMS = '''
object Group from staff {
  anchor TeamCode from displayName
  query displayName

  import sql"""SELECT TeamCode, TeamName FROM Teams"""

  attributes {
    displayName <-> TeamName required unique
  }

  multi members reference User {
    import sql"""SELECT TeamCode, badge FROM TeamMembers"""
    add    sql"""INSERT INTO TeamMembers (TeamCode, badge) VALUES (:anchor, :value)"""
    remove sql"""DELETE FROM TeamMembers WHERE TeamCode = :anchor AND badge = :value"""
  }

  write table Teams
  delete row
}
'''


def team_schema(width: int, badge: int = 12) -> list[str]:
    """A scaffolded schema's groups: the key a short code the display name fills, wider names."""
    return [
        f"CREATE TABLE Teams (TeamCode VARCHAR({width}) PRIMARY KEY, TeamName VARCHAR(100) NOT NULL UNIQUE)",
        f"""CREATE TABLE TeamMembers (TeamCode VARCHAR({width}) NOT NULL, badge VARCHAR({badge}) NOT NULL,
                PRIMARY KEY (TeamCode, badge),
                FOREIGN KEY (TeamCode) REFERENCES Teams (TeamCode) ON DELETE CASCADE,
                FOREIGN KEY (badge) REFERENCES staff (badge) ON DELETE CASCADE)""",
    ]


def staff_and_teams(url: str, dialect: str, tmp_path: Path, width: int, *, wide_staff: bool = False) -> Path:
    """``SCHEMA`` (every VARCHAR of it 100 wide with ``wide_staff``) and ``team_schema(width)``."""
    reset_database(url)
    db = HrDatabase(name="staff", url=url, dialect=dialect)
    staff = re.sub(r"VARCHAR\(\d+\)", "VARCHAR(100)", SCHEMA) if wide_staff else SCHEMA
    for statement in [staff, *team_schema(width, 100 if wide_staff else 12)]:
        db.execute(statement)
    path = tmp_path / "staff.map"
    path.write_text((MAPPING + TEAMS).replace("DIALECT", dialect), encoding="utf-8")
    return path


@pytest.mark.parametrize(
    ("server", "dialect"),
    [
        pytest.param("postgres_url", "postgres", marks=pytest.mark.postgres),
        pytest.param("mariadb_url", "mysql", marks=pytest.mark.mariadb),
    ],
)
async def test_a_group_name_fits_the_key_column_it_fills(
    server: str, dialect: str, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    """``anchor TeamCode from displayName``: the group's name is also its key, whose column
    (VARCHAR(12) here) is narrower than the name's own. Only the name's column was measured, so
    the group create answered 400 "does not fit the database column" and every group step after
    it was skipped. The key column's length counts too."""
    url = request.getfixturevalue(server)
    path = staff_and_teams(url, dialect, tmp_path, 12)
    report = await simulate_plan(load(str(path)), {"STAFF_DATABASE_URL": url})
    text = render_text(report)
    assert report.failed == 0, text
    assert "PASS  [flag] group members: add two" in text and "PASS  [noflag] delete: DELETE the group" in text


@pytest.mark.mariadb
async def test_a_url_target_group_name_fits_a_twenty_character_key(mariadb_url: str, tmp_path: Path) -> None:
    """A running gateway publishes no lengths; the group name the simulator makes up was 21-23
    characters ("sim-<6 hex>-noflag-group"), which a scaffolded schema's VARCHAR(20) team code
    refused. It is short enough for one now. (The users' columns are wide: their names are not
    fitted to what a URL target does not publish.)"""
    path = staff_and_teams(mariadb_url, "mysql", tmp_path, 20, wide_staff=True)
    report = Report()
    async with in_process(load(str(path)), {"STAFF_DATABASE_URL": mariadb_url}) as (client, _):
        model = await discover(client, report)
        assert model is not None and model.groups is not None and not model.groups.lengths
        await run_scenario(client, model, report=report)
    text = render_text(report)
    assert report.failed == 0, text
    assert "PASS  [noflag] group members: add two" in text
