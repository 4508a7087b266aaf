"""What one object's read sends and how its rows make a record (:mod:`mapper.runtime.rows`): the
statements :meth:`ObjectRead.of` takes from the form (worked out once per type) must be the plan's
own, locked or not, and a multi's single child row must make the same item as the sorted path."""

from __future__ import annotations

from typing import Any

from mapper.runtime.codec import Codec
from mapper.runtime.keys import anchor_key
from mapper.runtime.rows import ObjectRead, RowForm
from tests.support.hr import hr_plan


def _object(name: str, dialect: str = "sqlite") -> Any:
    return next(o for o in hr_plan(dialect).objects if o.name == name)


def _user(dialect: str = "sqlite") -> tuple[Any, Codec]:
    obj = _object("User", dialect)
    return obj, Codec(obj, dialect)


def test_a_read_sends_the_plans_row_statement_then_each_multis_by_the_anchor():
    obj, codec = _user()
    read = ObjectRead.of(obj, codec, 7)
    assert [statement for statement, _ in read.calls] == [
        obj.by_anchor,
        *(m.load_for_anchor for m in obj.multi),
    ]
    assert all(params == {"anchor": 7} for _, params in read.calls)
    assert read.anchor == 7 and read.anchor_index == codec.anchor_index and read.obj is obj


def test_a_locked_read_takes_the_locking_row_statement_where_the_plan_has_one():
    obj, codec = _user("postgres")
    assert obj.by_anchor_locked is not None and obj.by_anchor_locked != obj.by_anchor
    locked = ObjectRead.of(obj, codec, "7", locked=True)
    assert locked.calls[0][0] is obj.by_anchor_locked
    assert ObjectRead.of(obj, codec, "7").calls[0][0] is obj.by_anchor
    assert [s for s, _ in locked.calls[1:]] == [m.load_for_anchor for m in obj.multi]
    assert locked.anchor == anchor_key("7")  # the anchor's key, as before


def test_a_read_for_another_plan_object_than_the_codecs_takes_that_objects_statements():
    obj, codec = _user()
    groups = _object("Group")
    read = ObjectRead.of(groups, codec, 3)
    assert [s for s, _ in read.calls] == [groups.by_anchor, *(m.load_for_anchor for m in groups.multi)]


def test_one_child_row_makes_the_item_the_sorted_path_makes():
    _, codec = _user()
    form = RowForm.of(codec)
    one = [(7, "b@example.com", "work", 1)]
    two = [(7, "b@example.com", "work", 1), (7, "a@example.com", None, 0)]
    assert form.children([one, []]) == ((("b@example.com", "work", 1),), ())
    assert form.children([iter(one), iter([])]) == form.children([one, []])  # not a list: sorted
    assert form.children([two, one]) == (
        (("a@example.com", None, 0), ("b@example.com", "work", 1)),
        (("b@example.com", "work", 1),),
    )
