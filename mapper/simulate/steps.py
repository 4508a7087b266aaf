"""What every step shares: the :class:`Context` of one mode's run, the exceptions that end a step
(:class:`StepFailed`, :class:`StepSkipped`), and the assertions on SCIM responses and rows."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import unquote

from mapper.plan import ENTERPRISE_USER, PlanObject
from mapper.runtime.errors import InvalidValueError
from mapper.runtime.values import Transform, canonical
from mapper.simulate.client import Exchange, ScimClient
from mapper.simulate.dbcheck import DbCheck, as_bool, column_of
from mapper.simulate.model import ObjectModel, TargetModel

LIST_RESPONSE = "urn:ietf:params:scim:api:messages:2.0:ListResponse"
ERROR = "urn:ietf:params:scim:api:messages:2.0:Error"
NOT_MAPPED = "skipped: not mapped"


class StepFailed(Exception):
    """The step's assertion failed; the message says what was expected."""


class StepSkipped(Exception):
    """The step does not apply to this target; the message says why."""


@dataclass
class Context:
    """One mode's run. ``ids``/``names``/``anchors`` are by role (``user``, ``manager``,
    ``colleague``, ``group``); ``created`` lists (endpoint, id) still to delete, oldest first."""

    client: ScimClient
    model: TargetModel
    db: DbCheck | None
    mode: str
    tag: str
    ids: dict[str, str] = field(default_factory=dict)
    names: dict[str, str] = field(default_factory=dict)
    anchors: dict[str, Any] = field(default_factory=dict)
    created: list[tuple[str, str]] = field(default_factory=list)

    @property
    def flag(self) -> bool:
        return self.mode == "flag"

    def op(self, name: str) -> str:
        """An operation name as Entra spells it: lower case with the flag, capitalised without."""
        return name.lower() if self.flag else name.capitalize()

    def boolean(self, value: bool) -> bool | str:
        """A boolean as Entra sends it: a JSON boolean with the flag, ``"True"``/``"False"`` without."""
        return value if self.flag else str(value)

    def users(self, *keys: str) -> ObjectModel:
        return self._object(self.model.users, "User", keys)

    def groups(self, *keys: str) -> ObjectModel:
        return self._object(self.model.groups, "Group", keys)

    def _object(self, found: ObjectModel | None, name: str, keys: tuple[str, ...]) -> ObjectModel:
        if found is None:
            raise StepSkipped(f"{NOT_MAPPED} (the target has no {name} resource type)")
        fixed = [k for k in keys if k in found.immutable]
        if fixed:
            raise StepSkipped(f"skipped: immutable ({', '.join(fixed)}: set on create only)")
        missing = found.missing(*keys)
        if missing:
            raise StepSkipped(f"{NOT_MAPPED} ({', '.join(missing)})")
        return found

    def creatable(self, model: ObjectModel, key: str) -> None:
        if not model.creates(key):
            raise StepSkipped(f"{NOT_MAPPED} ({key})")

    def need(self, *roles: str) -> list[str]:
        missing = [r for r in roles if r not in self.ids]
        if missing:
            raise StepSkipped(
                f"skipped: no {', '.join(missing)} (the step creating it failed or was skipped)"
            )
        return [self.ids[r] for r in roles]

    def remember(self, role: str, endpoint: str, id: str, name: str) -> None:
        self.ids[role] = id
        self.names[role] = name
        self.created.append((endpoint, id))

    def forget(self, role: str) -> None:
        id = self.ids.pop(role, None)
        self.created = [(e, i) for e, i in self.created if i != id]
        self.anchors.pop(role, None)


Step = tuple[str, Callable[[Context], Awaitable[None]]]


# -- assertions on responses -------------------------------------------------------------------


def expect(condition: bool, expected: str) -> None:
    if not condition:
        raise StepFailed(expected)


def expect_status(exchange: Exchange, *statuses: int) -> None:
    wanted = " or ".join(str(s) for s in statuses)
    expect(exchange.status in statuses, f"status {wanted}")


def resource_of(exchange: Exchange, id: str | None = None) -> dict[str, Any]:
    body = exchange.json()
    expect(isinstance(body, dict), "a JSON object in the response body")
    assert isinstance(body, dict)
    if id is not None:
        expect(body.get("id") == id, f"the resource with id {id!r}")
    return body


def patched_values(exchange: Exchange, id: str) -> dict[str, Any] | None:
    """A successful PATCH's resource: the body of a 200, or None after a 204 (RFC 7644 §3.5.2
    allows either, and Entra ID accepts either; the step's re-read then checks the result)."""
    expect_status(exchange, 200, 204)
    return None if exchange.status == 204 else resource_of(exchange, id)


def list_of(exchange: Exchange) -> list[dict[str, Any]]:
    """The Resources of a 200 ListResponse, checking the envelope Entra relies on."""
    expect_status(exchange, 200)
    body = resource_of(exchange)
    expect(LIST_RESPONSE in (body.get("schemas") or []), f"schemas [{LIST_RESPONSE!r}]")
    total = body.get("totalResults")
    expect(isinstance(total, int), "an integer totalResults")
    expect(body.get("startIndex") == 1, "startIndex 1")
    expect("itemsPerPage" in body, "itemsPerPage")
    resources = body.get("Resources", [] if total == 0 else None)
    expect(isinstance(resources, list), "a Resources list")
    assert isinstance(resources, list)
    expect(total == len(resources), f"totalResults ({total}) equal to the number of Resources")
    return [r for r in resources if isinstance(r, dict)]


def expect_empty(exchange: Exchange) -> None:
    """200 with an empty ListResponse (totalResults 0, Resources []): never a 404."""
    body = exchange.json()
    resources = list_of(exchange)
    expect(resources == [] and body.get("Resources") == [], 'totalResults 0 and "Resources": []')


def expect_one(exchange: Exchange, id: str) -> dict[str, Any]:
    resources = list_of(exchange)
    expect(len(resources) == 1 and resources[0].get("id") == id, f"exactly one resource, with id {id!r}")
    return resources[0]


def expect_error(exchange: Exchange, status: int, scim_type: str | None = None) -> None:
    expect_status(exchange, status)
    body = exchange.json()
    expect(isinstance(body, dict) and ERROR in (body.get("schemas") or []), f"a SCIM error body ({ERROR})")
    if scim_type is not None:
        expect(body.get("scimType") == scim_type, f'scimType "{scim_type}"')


def expect_created(exchange: Exchange, endpoint: str) -> dict[str, Any]:
    """201 with an id, a Location ending in ``{endpoint}/{id}`` and an ETag."""
    expect_status(exchange, 201)
    body = resource_of(exchange)
    id = body.get("id")
    expect(isinstance(id, str) and bool(id), "a string id")
    location = unquote(exchange.headers.get("location", ""))  # an id such as a DN is percent-encoded
    expect(location.endswith(f"{endpoint}/{id}"), f"a Location header ending in {endpoint}/{id}")
    expect(bool(exchange.headers.get("etag")), "an ETag header")
    return body


def value_at(resource: dict[str, Any], key: str) -> Any:
    """The value of an attribute key (see :mod:`.model`) in a SCIM resource; None when absent."""
    if key.startswith("enterprise:"):
        extension = resource.get(ENTERPRISE_USER)
        name = key.split(":", 1)[1]
        value = extension.get(name) if isinstance(extension, dict) else None
        return value.get("value") if name == "manager" and isinstance(value, dict) else value
    if key.startswith("urn:"):  # a custom extension's attribute
        urn, name = key.rsplit(":", 1)
        extension = resource.get(urn)
        return value_at(extension, name) if isinstance(extension, dict) else None
    if key == "emails.work":
        emails = resource.get("emails")
        work = [e for e in emails or [] if isinstance(e, dict) and e.get("type") == "work"]
        return work[0].get("value") if work else None
    if key == "members":
        return {str(m.get("value")) for m in resource.get("members") or [] if isinstance(m, dict)}
    if "." in key:
        parent, child = key.split(".", 1)
        container = resource.get(parent)
        return container.get(child) if isinstance(container, dict) else None
    return resource.get(key)


def expect_values(model: ObjectModel, resource: dict[str, Any], values: dict[str, Any], where: str) -> None:
    """Each key a client can both set and read has its value (None: absent) in ``resource``: a key
    mapped import-only (OrangeHRM's employee names, joined into the import) is served from the
    database whatever a create sends, so what it sent is not expected back."""
    for key, value in values.items():
        if key not in model.readable or not model.creates(key):
            continue
        actual = value_at(resource, key)
        if value is None:
            expect(actual in (None, "", set()), f"{key} absent {where}, not {actual!r}")
        else:
            expect(actual == value, f"{key} = {value!r} {where}, not {actual!r}")


# -- assertions on rows ------------------------------------------------------------------------


def plan_of(model: ObjectModel, db: DbCheck | None) -> PlanObject | None:
    return model.plan if db is not None else None


def expect_columns(obj: PlanObject, row: dict[str, Any], values: dict[str, Any]) -> None:
    """Each key's column holds its value (None: NULL or empty); a column read import-only (a
    joined table's, which the object's writes do not reach) holds what the database has."""
    imported = {a.column for a in obj.attributes if a.direction == "import"}
    for key, value in values.items():
        column = column_of(obj, key)
        if column is None or key == "members" or column in imported:
            continue
        actual = row.get(column)
        attr = next((a for a in obj.attributes if a.column == column and a.transform is not None), None)
        if value is None:
            ok = actual is None or actual == ""
        elif attr is not None:  # a value transform: the column holds a stored value read as ``value``
            # (the map's own, or another its ``else`` reads so: Mattermost's deleteat, which the
            # disable rule sets to the time of the deactivation where the map says 1)
            transform = Transform(attr)
            try:
                ok = transform.reads_as(actual, value) or canonical(actual) == canonical(
                    transform.write(value)
                )
            except InvalidValueError:
                ok = False
        elif isinstance(value, bool):
            ok = as_bool(actual) is value
        else:
            ok = actual is not None and str(actual) == str(value)
        expect(ok, f"database: column {column} = {value!r} (for {key}), not {actual!r}")
