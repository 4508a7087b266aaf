"""What a replace or a delete sends, decided from the object as its transaction read it
(:mod:`mapper.runtime.decisions`): pure functions of a record, tested without a connection. That
the statements do what they say is the stores' tests' work, against real databases."""

from __future__ import annotations

from typing import Any

import pytest

from mapper.pipeline import load
from mapper.runtime.codec import Codec
from mapper.runtime.decisions import Deletion, Replacement, row_params, unclaimed
from mapper.runtime.errors import MutabilityError, UniquenessError
from mapper.runtime.record import Record
from tests.support.hr import HR_MAP, hr_plan, new_user

PLAN = hr_plan("sqlite")
USERS = PLAN.object("User")
CODEC = Codec(USERS, "sqlite")


def stored(login: str, *, active: bool = True, emails: tuple[Any, ...] = ()) -> Record:
    """User 7 as the database holds it: ``login``, and the given e-mail items."""
    row = dict.fromkeys(USERS.columns)
    row.update(employee_id=7, login=login, given_name="New", family_name="Person", active=active)
    return Record(tuple(row[c] for c in USERS.columns), (emails, ()))


def replacement(login: str, **extra: Any) -> Replacement:
    """A replace of user 7 by a full resource with ``login`` (its manager left out)."""
    change = CODEC.change(new_user(login, **extra), None)
    change.values["manager_id"] = None
    members = [[(v, *subs) for v, subs in items] for items in change.items]
    return Replacement(USERS, CODEC, 7, change, members)


def sql_of(decided: Any) -> list[str]:
    return [statement.sql.split(" (")[0].split(" SET")[0] for statement, _ in decided.statements]


def test_a_replace_decides_the_update_then_each_multis_removes_and_adds_from_what_was_read():
    old_email = ("old@example.com", "work", True)
    decided = replacement("ada")(stored("ada", emails=(old_email,)))
    assert sql_of(decided) == [
        "UPDATE employees",
        "DELETE FROM employee_emails WHERE employee_id = :anchor AND address = :value",
        "INSERT INTO employee_emails",
    ]
    update = decided.statements[0][1]
    assert update["anchor"] == 7 and update["login"] == "ada" and update["display_name"] == "New Person"
    added = {"anchor": 7, "value": "ada@example.com", "type": "work", "primary": True}
    assert decided.statements[2][1] == added
    assert decided.unclaimed == ()  # the query attribute keeps its value (up to case)


def test_a_replace_with_the_items_the_object_has_sends_no_child_rows():
    decided = replacement("ada")(stored("ada", emails=(("ada@example.com", "work", True),)))
    assert sql_of(decided) == ["UPDATE employees"]


def test_a_new_query_value_must_be_found_unclaimed_and_an_other_case_of_the_old_need_not():
    (check,) = replacement("grace")(stored("ada")).unclaimed
    assert check.statement == USERS.by_query and check.params == {"value": "grace"}
    assert isinstance(check.error, UniquenessError) and check.error.attribute == "userName"
    assert replacement("ADA")(stored("ada")).unclaimed == ()  # userName is caseExact false


def test_every_unique_value_a_write_takes_is_checked_new_ones_all_and_changed_ones_only(tmp_path):
    """externalId declared unique (caseExact): a new object's values are all checked, a
    replace's only where they change, and a case-exact one changes with its case."""
    text = HR_MAP.read_text(encoding="utf-8").replace(
        "<-> external_id     caseExact", "<-> external_id caseExact unique"
    )
    (tmp_path / "hr.map").write_text(text, encoding="utf-8")
    users = load(str(tmp_path / "hr.map"), write="sqlite").object("User")
    codec = Codec(users, "sqlite")
    (lookup,) = users.by_unique
    assert lookup.attribute == "externalId" and ":value" in lookup.lookup.sql
    values = codec.change(new_user("ada", externalId="E-1"), None).values
    checks = unclaimed(codec, values, None)
    assert [(c.statement, dict(c.params), c.error.attribute) for c in checks] == [  # type: ignore[attr-defined]
        (users.by_query, {"value": "ada"}, "userName"),
        (lookup.lookup, {"value": "E-1"}, "externalId"),
    ]
    row = dict.fromkeys(users.columns)
    row.update(employee_id=7, login="ADA", external_id="e-1")
    held = tuple(row[c] for c in users.columns)
    assert [c.params for c in unclaimed(codec, values, held)] == [{"value": "E-1"}]
    row.update(external_id="E-1")
    assert unclaimed(codec, values, tuple(row[c] for c in users.columns)) == ()


def test_the_disable_rule_runs_only_when_active_turns_false():
    turned_off = replacement("ada", active=False)
    assert "UPDATE employees SET active = FALSE WHERE employee_id = :anchor" in [
        s.sql for s, _ in turned_off(stored("ada", active=True)).statements
    ]
    assert USERS.disable.statement not in [s for s, _ in turned_off(stored("ada", active=False)).statements]


def test_a_type_without_an_update_refuses_a_change():
    read_only = USERS.model_copy(update={"update": None})
    decide = Replacement(read_only, CODEC, 7, CODEC.change(new_user("grace"), None), None)
    with pytest.raises(MutabilityError):
        decide(stored("ada"))


def test_a_delete_decides_its_rule_and_ends_each_membership_its_transaction_finds():
    """Where a multi's remove derives no statement for every row naming the object, the
    memberships to end are looked up in the transaction (the owners holding the object), not
    given from the cache: one remove per owner row the look-up finds."""
    members = PLAN.object("Group").multi[0]
    owners, remove = members.load_for_anchor, members.remove  # any statement stands in for the look-up
    assert remove is not None
    per_row = members.model_copy(update={"load_for_value": owners, "remove_for_value": None})
    decided = Deletion(USERS, 7, [per_row])(stored("ada"))
    rule = USERS.deprovision_delete
    assert decided.statements[-1] == (rule.statement or USERS.delete, {"anchor": 7})
    (end,) = decided.per_row
    assert end.lookup is owners and end.lookup_params == {"value": 7}
    assert end.write is remove and end.params["value"] == 7 and "anchor" in end.params
    assert decided.unclaimed == ()


@pytest.mark.parametrize(
    "row",
    [
        tuple(range(len(USERS.columns))),
        stored("ada").row,
        tuple(None for _ in USERS.columns),
    ],
)
def test_row_params_are_each_slots_value_by_its_parameter(row: tuple[Any, ...]) -> None:
    """The decision's read of the locked row by C calls (:func:`row_params`) gives what reading it
    slot by slot gave, whatever the row holds."""
    assert row_params(CODEC, row) == {s.param: s.value(row) for s in CODEC.slots}


def test_a_derived_hard_delete_removes_the_rows_naming_it_and_its_own_before_its_row():
    """``delete row`` from ``write table``: every membership naming the user and every child row
    of its own go first, each multi's by the one statement derived from its remove, its row last
    (a schema without ON DELETE CASCADE neither keeps orphans nor refuses the delete)."""
    assert USERS.deprovision_delete.ends_items
    members = PLAN.object("Group").multi[0]
    decided = Deletion(USERS, 7, [members], codec=CODEC)(
        stored("ada", emails=(("a@example.com", "work", True),))
    )
    assert [(s.sql, dict(p)) for s, p in decided.statements] == [
        ("DELETE FROM group_members WHERE employee_id = :value", {"value": 7}),
        ("DELETE FROM employee_emails WHERE employee_id = :anchor", {"anchor": 7}),
        ("DELETE FROM employee_phones WHERE employee_id = :anchor", {"anchor": 7}),
        ("DELETE FROM employees WHERE employee_id = :anchor", {"anchor": 7}),
    ]
    assert not decided.per_row


def test_a_multi_without_a_derived_removal_removes_each_item_the_delete_read():
    emails = USERS.multi[0].model_copy(update={"remove_for_anchor": None})
    users = USERS.model_copy(update={"multi": (emails, *USERS.multi[1:])})
    items = (("a@example.com", "work", True), ("b@example.com", "home", False))
    decided = Deletion(users, 7, [], codec=Codec(users, "sqlite"))(stored("ada", emails=items))
    assert [(s.sql, dict(p)) for s, p in decided.statements] == [
        (emails.remove.sql, {"anchor": 7, "value": "a@example.com"}),  # type: ignore[union-attr]
        (emails.remove.sql, {"anchor": 7, "value": "b@example.com"}),  # type: ignore[union-attr]
        ("DELETE FROM employee_phones WHERE employee_id = :anchor", {"anchor": 7}),
        ("DELETE FROM employees WHERE employee_id = :anchor", {"anchor": 7}),
    ]


def test_an_explicit_delete_is_left_to_do_what_it_does():
    """A delete of its own (``write { delete ... }``, a procedure) removes no rows beforehand."""
    rule = USERS.deprovision_delete.model_copy(update={"ends_items": False})
    users = USERS.model_copy(update={"deprovision_delete": rule})
    decided = Deletion(users, 7, [], codec=CODEC)(stored("ada", emails=(("a@example.com", "work", True),)))
    assert [s.sql for s, _ in decided.statements] == ["DELETE FROM employees WHERE employee_id = :anchor"]
