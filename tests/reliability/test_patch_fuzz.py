"""Property-based fuzzing of the PATCH engine (mapper/scim/patch.py).

Random operation sequences on generated HR users run through the engine and through a small
reference model of RFC 7644 §3.5.2 written here (with the module's documented choices: null
unassigns, strings take numbers as text, booleans take "True"/"false", add merges duplicates, a
value filter of ``eq`` terms that matches nothing creates the value, an emptied extension leaves
``schemas``). The engine must produce exactly the model's resource, or raise the
:class:`~mapper.scim.errors.ScimError` the model expects; and on hostile operations (any JSON,
any path text) it raises nothing but a ScimError.
"""

from __future__ import annotations

import copy
import json
from functools import cache
from typing import Any

import pytest
from hypothesis import event, given
from hypothesis import strategies as st

from mapper.pipeline import load
from mapper.scim.attributes import Resolver
from mapper.scim.errors import ScimError
from mapper.scim.patch import apply_patch
from tests.reliability.support import CORE_USER, ENTERPRISE, HR_MAP

MISSING = object()
SIMPLE = ("displayName", "title", "nickName", "userName")


@cache
def resolver() -> Resolver:
    plan = load(str(HR_MAP))
    return Resolver.for_object(plan.object("User"), plan.schemas)


class Refused(Exception):
    """The model's verdict: the PATCH fails with this scimType."""

    def __init__(self, scim_type: str) -> None:
        super().__init__(scim_type)
        self.scim_type = scim_type


# ---------------------------------------------------------------------- strategies

text = st.text(alphabet="aAbB", min_size=1, max_size=3)
scalar = st.one_of(text, st.integers(-5, 5), st.booleans(), st.none())
email_type = st.sampled_from(["work", "home", "Work"])
email = st.fixed_dictionaries({}, optional={"value": text | st.none(), "type": email_type})


def user() -> st.SearchStrategy[dict[str, Any]]:
    base = st.fixed_dictionaries(
        {"schemas": st.just([CORE_USER]), "id": st.just("1"), "userName": text},
        optional={
            "displayName": text,
            "title": text,
            "active": st.booleans(),
            "name": st.fixed_dictionaries({}, optional={"givenName": text, "familyName": text}),
            "emails": st.lists(
                st.fixed_dictionaries({"value": text}, optional={"type": email_type}), min_size=1, max_size=3
            ),
            ENTERPRISE: st.fixed_dictionaries({"employeeNumber": text}),
        },
    )

    def tidy(u: dict[str, Any]) -> dict[str, Any]:
        if ENTERPRISE in u:
            u["schemas"] = [CORE_USER, ENTERPRISE]
        return u

    return base.map(tidy)


def op_name(op: str) -> st.SearchStrategy[str]:
    return st.sampled_from([op, op.capitalize(), op.upper()])


@st.composite
def operation(draw: st.DrawFn) -> dict[str, Any]:
    """One PATCH operation over the HR User, as a client sends it."""
    op = draw(st.sampled_from(["add", "replace", "remove"]))
    value: Any = MISSING if op == "remove" else draw(scalar)
    kind = draw(
        st.sampled_from(
            ["simple", "active", "namesub", "name", "emails", "filtered", "id", "employee", "pathless", "bad"]
        )
    )
    path: Any = None
    if kind == "simple":
        path = draw(st.sampled_from(SIMPLE))
    elif kind == "active":
        path = "active"
        if op != "remove":
            value = draw(st.sampled_from([True, False, "True", "false", " TRUE ", "maybe", 1, None]))
    elif kind == "namesub":
        path = draw(st.sampled_from(["name.givenName", "name.familyName", "NAME.givenname"]))
    elif kind == "name":
        path = "name"
        if op != "remove":
            value = draw(
                st.fixed_dictionaries({}, optional={"givenName": text | st.none(), "familyName": text})
                | st.none()
                | st.lists(st.fixed_dictionaries({"givenName": text}), max_size=2)
            )
    elif kind == "emails":
        path = "emails"
        if op != "remove":
            value = draw(st.lists(email | text, max_size=3) | email | text | st.none())
        elif draw(st.booleans()):
            value = draw(st.lists(email | text, max_size=2))
    elif kind == "filtered":
        wanted = draw(email_type)
        path = f'emails[type eq "{wanted}"]' + draw(st.sampled_from(["", ".value"]))
        if op != "remove" and not path.endswith(".value"):
            value = draw(email | text | st.lists(email, min_size=2, max_size=2) | st.none())
    elif kind == "id":
        path = "id"
        if op != "remove":
            value = draw(st.sampled_from(["1", "2", 1, True]))
    elif kind == "employee":
        path = draw(st.sampled_from([f"{ENTERPRISE}:employeeNumber", "employeeNumber"]))
    elif kind == "pathless":
        op = draw(st.sampled_from(["add", "replace"]))
        keys = st.sampled_from(["displayName", "title", "name.givenName", "active", "emails", "schemas"])
        value = draw(st.dictionaries(keys, text, max_size=3))
        if draw(st.booleans()):
            value[ENTERPRISE] = draw(st.fixed_dictionaries({}, optional={"employeeNumber": text}))
    else:  # malformed operations
        choice = draw(st.integers(0, 2))
        if choice == 0:
            op = draw(st.sampled_from(["copy", "move", "", "Delete"]))
            path = "title"
            value = "x"
        elif choice == 1:
            op, path, value = "remove", None, MISSING
        else:
            op, path, value = draw(st.sampled_from(["add", "replace"])), "title", MISSING
    out: dict[str, Any] = {"op": draw(op_name(op)) if op else op}
    if path is not None:
        out["path"] = path
    if value is not MISSING:
        out["value"] = value
    return out


# ---------------------------------------------------------------------- the reference model


def _string(value: Any) -> str:
    if isinstance(value, str):
        return value
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    raise Refused("invalidValue")


def _boolean(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.strip().lower() in ("true", "false"):
        return value.strip().lower() == "true"
    raise Refused("invalidValue")


def _email(value: Any) -> dict[str, Any]:
    if isinstance(value, dict):
        return {k: _string(v) for k, v in value.items() if v is not None}
    if isinstance(value, str | int) and not isinstance(value, bool):
        return {"value": value if isinstance(value, str) else value}
    raise Refused("invalidValue")


def _same_email(a: dict[str, Any], b: dict[str, Any]) -> bool:
    if a.get("value") is None or b.get("value") is None:
        return a == b
    if str(a["value"]).casefold() != str(b["value"]).casefold():
        return False
    return "type" not in a or "type" not in b or a["type"].casefold() == b["type"].casefold()


class Model:
    def __init__(self, resource: dict[str, Any]) -> None:
        self.r = copy.deepcopy(resource)

    def apply(self, operation: dict[str, Any]) -> None:
        op = operation.get("op")
        if not isinstance(op, str) or op.lower() not in ("add", "replace", "remove"):
            raise Refused("invalidSyntax")
        op = op.lower()
        value = operation.get("value", MISSING)
        if op != "remove" and value is MISSING:
            raise Refused("invalidValue")
        path = operation.get("path")
        if not path:
            if op == "remove":
                raise Refused("noTarget")
            for key, item in value.items():
                if key == "schemas":
                    continue
                if key == ENTERPRISE:
                    for sub_key, sub_value in item.items():
                        self.path(op, f"{ENTERPRISE}:{sub_key}", sub_value)
                    continue
                self.path(op, key, item)
            return
        self.path(op, path, value)

    def path(self, op: str, path: str, value: Any) -> None:
        if value is None and op != "remove":
            op, value = "remove", MISSING
        r = self.r
        folded = path.casefold()
        if folded in {a.casefold() for a in SIMPLE}:
            name = next(a for a in SIMPLE if a.casefold() == folded)
            if op == "remove":
                if name == "userName":
                    raise Refused("invalidValue")
                r.pop(name, None)
            else:
                r[name] = _string(value)
        elif folded == "active":
            if op == "remove":
                r.pop("active", None)
            else:
                r["active"] = _boolean(value)
        elif folded.startswith("name."):
            sub = "givenName" if folded.endswith("givenname") else "familyName"
            if op == "remove":
                if isinstance(r.get("name"), dict):
                    r["name"].pop(sub, None)
            else:
                new = _string(value)
                if not isinstance(r.get("name"), dict):
                    r["name"] = {}
                r["name"][sub] = new
            if r.get("name") == {}:
                del r["name"]
        elif folded == "name":
            if op == "remove":
                r.pop("name", None)
                return
            if isinstance(value, list):
                if len(value) != 1:
                    raise Refused("invalidValue")
                value = value[0]
            if not isinstance(value, dict):
                raise Refused("invalidValue")
            new = {k: _string(v) for k, v in value.items() if v is not None}
            if isinstance(r.get("name"), dict):
                r["name"].update(new)
            else:
                r["name"] = new
        elif folded == "emails":
            self.emails(op, value)
        elif folded.startswith("emails["):
            self.filtered(op, path, value)
        elif folded == "id":
            if op == "remove":
                raise Refused("mutability")
            if _string(value) != r.get("id"):
                raise Refused("mutability")
        elif folded.endswith("employeenumber"):
            if op == "remove":
                if ENTERPRISE in r:
                    r[ENTERPRISE].pop("employeeNumber", None)
                    if not r[ENTERPRISE]:
                        del r[ENTERPRISE]
                        r["schemas"] = [s for s in r["schemas"] if s != ENTERPRISE]
                return
            new = _string(value)
            if ENTERPRISE not in r:
                r[ENTERPRISE] = {}
                if ENTERPRISE not in r["schemas"]:
                    r["schemas"].append(ENTERPRISE)
            r[ENTERPRISE]["employeeNumber"] = new
        else:
            raise AssertionError(f"the model has no rule for {path!r}")

    def emails(self, op: str, value: Any) -> None:
        items = self.r.get("emails", [])
        if op == "remove":
            if value is MISSING:
                self.r.pop("emails", None)
                return
            listed = [v if isinstance(v, dict) else {"value": v} for v in value]
            items = [i for i in items if not any(_same_email(i, e) for e in listed)]
        else:
            new = [_email(v) for v in (value if isinstance(value, list) else [value]) if v is not None]
            items = items if op == "add" else []
            for fresh in new:
                twin = next((i for i in items if _same_email(i, fresh)), None)
                if twin is None:
                    items.append(fresh)
                else:
                    twin.update(fresh)
        self.store(items)

    def filtered(self, op: str, path: str, value: Any) -> None:
        wanted = path.split('"')[1]
        sub = path.endswith(".value")
        items = self.r.get("emails", [])
        matched = [i for i in items if i.get("type") and i["type"].casefold() == wanted.casefold()]
        if op == "remove":
            # removing an item's value removes the item (an item without its value is no item,
            # RFC 7643 §2.4: the engine's rule since Entra's remove emails[type eq "work"].value)
            items = [i for i in items if not any(i is m for m in matched)]
            self.store(items)
            return
        if not matched:
            matched = [{"type": wanted}]
            items.append(matched[0])
        if sub:
            for item in matched:
                item["value"] = _string(value)
        else:
            new = [_email(v) for v in (value if isinstance(value, list) else [value]) if v is not None]
            if len(new) != 1:
                raise Refused("invalidValue")
            for item in matched:
                item.update(new[0])
        self.store(items)

    def store(self, items: list[dict[str, Any]]) -> None:
        if items:
            self.r["emails"] = items
        else:
            self.r.pop("emails", None)


def model_apply(resource: dict[str, Any], operations: list[dict[str, Any]]) -> dict[str, Any]:
    model = Model(resource)
    for operation in operations:
        model.apply(operation)
    return model.r


# ---------------------------------------------------------------------- properties


@given(user(), st.lists(operation(), min_size=1, max_size=5))
def test_the_engine_applies_what_the_model_applies(resource: dict[str, Any], operations: list[Any]) -> None:
    before = copy.deepcopy(resource)
    try:
        expected: dict[str, Any] | Refused = model_apply(resource, operations)
    except Refused as refusal:
        expected = refusal
    event("refused" if isinstance(expected, Refused) else "applied")
    try:
        got = apply_patch(resource, operations, resolver())
    except ScimError as error:
        assert isinstance(expected, Refused), f"the engine refused ({error.scim_type}: {error.detail})"
        assert error.status == 400 and error.scim_type == expected.scim_type, error
        return
    finally:
        assert resource == before, "apply_patch changed its input"
    assert not isinstance(expected, Refused), f"the engine accepted what the model refuses ({expected})"
    assert got == expected


# hostile operations: anything a client could put in a JSON body


def nested(depth: int) -> Any:
    value: Any = "x"
    for i in range(depth):
        value = [value] if i % 2 else {"a": value}
    return value


json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**70), max_value=2**70)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=20)
    | st.sampled_from(["\x00", "a\x00b", "\ud800", "'; DROP TABLE employees; --", "x" * 5000, 10**80]),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=10), inner, max_size=3),
    max_leaves=10,
)
paths = st.one_of(
    st.sampled_from(
        [
            "title",
            "emails",
            'emails[type eq "work"].value',
            "name.givenName",
            "members",
            "id",
            "meta",
            "meta.created",
            "schemas",
            f"{ENTERPRISE}:manager",
            f"{ENTERPRISE}",
            "urn:x:y",
            'emails[value co "\\ud800"]',
            "emails[type eq 18446744073709551616]",
            'addresses[type eq "work"].locality',
            "a.b.c",
            "[",
            "",
        ]
    ),  # fmt: skip
    st.text(max_size=30),
    st.integers(),
    st.none(),
)
hostile_operation = st.fixed_dictionaries(
    {"op": st.sampled_from(["add", "replace", "remove", "Add", "x"]) | st.text(max_size=5) | st.integers()},
    optional={"path": paths, "value": json_values | st.integers(0, 1500).map(nested)},
)


@given(user(), st.lists(hostile_operation | json_values, min_size=0, max_size=4) | json_values)
def test_hostile_operations_raise_only_scim_errors(resource: dict[str, Any], operations: Any) -> None:
    try:
        apply_patch(resource, operations, resolver())
    except ScimError as error:
        assert 400 <= error.status < 500 and error.detail
        json.dumps(error.to_body())  # the detail can be rendered


@pytest.mark.parametrize("depth", [200, 1000, 5000])
def test_a_deeply_nested_value_is_a_scim_error(depth: int) -> None:
    operations = [{"op": "replace", "path": "title", "value": nested(depth)}]
    with pytest.raises(ScimError):
        apply_patch({"schemas": [CORE_USER], "id": "1", "userName": "a"}, operations, resolver())
