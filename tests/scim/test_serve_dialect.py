"""``mapper serve`` compiles a mapping for the database its URL names.

The HR example says ``dialect sqlite`` (its SQL is written for SQLite). Served with a PostgreSQL
or MariaDB URL and no ``--dialect``, the gateway used to run SQLite's statements there: plain SQL
mostly works, so nothing said so, but what the compiler derives per database did not happen (the
locking read a write needs against a concurrent writer, PostgreSQL's case folding, MySQL's
quoting). Found when a two-process race script, run without ``--dialect``, kept losing writes
after the locking read was in. No database is reached here: only the URL is read."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest

from mapper.cli.serving import _checked_plan
from mapper.plan import Plan
from mapper.scim.settings import Settings

HR_MAP = str(Path(__file__).resolve().parents[2] / "examples" / "hr" / "hr.map")


def plan_for(url: str, dialect: str | None = None) -> Plan:
    settings = Settings(environ={"HR_DATABASE_URL": url}, dialect=dialect, insecure_no_auth=True)
    plan = _checked_plan(HR_MAP, settings)
    assert not isinstance(plan, int)
    return plan


def user(plan: Plan) -> object:
    return next(o for o in plan.objects if o.name == "User")


@pytest.mark.parametrize(
    ("url", "lock"),
    [
        ("postgresql://gateway@db.example/hr", "FOR NO KEY UPDATE"),
        ("mysql://gateway@db.example/hr", "FOR UPDATE"),
        ("mariadb+pymysql://gateway@db.example/hr", "FOR UPDATE"),
    ],
)
def test_a_sqlite_mapping_served_on_another_database_is_compiled_for_it(
    url: str, lock: str, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.WARNING):
        plan = plan_for(url)
    locked = user(plan).by_anchor_locked  # type: ignore[attr-defined]
    assert locked is not None and lock in locked.sql
    assert "compiled for" in caplog.text and "--dialect" in caplog.text
    assert "gateway@" not in caplog.text  # the URL is not logged


def test_the_mapping_s_own_database_and_an_explicit_dialect_are_left_alone(
    caplog: pytest.LogCaptureFixture,
) -> None:
    with caplog.at_level(logging.WARNING):
        on_sqlite = plan_for("sqlite:///hr.db")
        chosen = plan_for("postgresql://gateway@db.example/hr", dialect="sqlite")
    assert user(on_sqlite).by_anchor_locked is None  # type: ignore[attr-defined]
    assert user(chosen).by_anchor_locked is None  # type: ignore[attr-defined]
    assert "compiled for" not in caplog.text
