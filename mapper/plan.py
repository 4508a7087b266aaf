"""The compiled plan: everything the gateway needs to serve a mapping, and nothing of its syntax.

A plan is frozen, JSON-serialisable (``plan.model_dump_json()``), and deterministic: compiling the
same file for the same dialect gives byte-identical JSON. The runtime consumes plans only; it
never sees parse trees or the model.

SQL conventions (all statements, every dialect):
- Values are bound parameters written ``:name`` (SQLAlchemy ``text()`` style) in every dialect;
  the runtime converts them to the driver's paramstyle. No value is ever pasted into SQL text.
- ``Statement.params`` lists the parameter names the statement binds, in order of first use.
- Parameter names: ``anchor`` (the object's anchor value), ``value`` (a multi-valued item, or the
  query-attribute value in ``by_query``), ``since`` (a watermark or sequence), ``after`` (the last
  anchor of the previous keyset page), ``limit`` (the page size), ``anchor_1`` .. ``anchor_K``
  (several anchors: ``PlanMulti.load_for_anchors``), and otherwise the *column name*
  of the attribute map entry whose value is bound (``:login``, ``:given_name``...).
- A parameter whose name the target cannot take as a bind (an Oracle reserved word: ``:order``,
  ``:level``, ``:user``, ``:comment``) is written under another name (``:order_``), and
  ``Statement.renamed`` says which value it binds; the runtime binds through
  ``Statement.value_of``.
"""

from __future__ import annotations

import re
from pathlib import PurePath
from typing import Literal, get_args

from pydantic import BaseModel, ConfigDict, Field

PLAN_VERSION = 1

CORE_USER = "urn:ietf:params:scim:schemas:core:2.0:User"
CORE_GROUP = "urn:ietf:params:scim:schemas:core:2.0:Group"
ENTERPRISE_USER = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"

Dialect = Literal["sqlite", "postgres", "mysql", "tsql", "oracle"]
#: every dialect a plan can target, in this order (the ``--dialect`` choices): the one list
DIALECTS: tuple[Dialect, ...] = get_args(Dialect)
#: other spellings a source's ``dialect`` may use
DIALECT_ALIASES: dict[str, Dialect] = {
    "postgresql": "postgres",
    "mariadb": "mysql",
    "mssql": "tsql",
    "sqlserver": "tsql",
}
MissingPolicy = Literal["drop", "reject"]
ScimType = Literal["string", "boolean", "integer", "decimal", "dateTime", "binary", "reference"]


def dialect_of(word: str) -> Dialect | None:
    """The dialect ``word`` names (any case, or an alias), or None when it names none."""
    lowered = word.lower()
    return DIALECT_ALIASES.get(lowered) or next((d for d in DIALECTS if d == lowered), None)


class PlanNode(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class Statement(PlanNode):
    """One SQL statement in the target dialect.

    ``returning``: for an insert whose anchor the database generates, how the new anchor comes
    back: ``"returning"`` (the statement returns it as a one-row, one-column result),
    ``"lastrowid"`` (read the driver's lastrowid), or ``"query"`` (look the row up by the query
    attribute afterwards: stored procedures). ``None`` for every other statement.
    """

    sql: str
    params: tuple[str, ...] = ()
    returning: Literal["returning", "lastrowid", "query"] | None = None
    #: (parameter in ``sql``, the value it binds) for each parameter written under another name
    #: than its value's; left out of the JSON when empty, as it is for nearly every statement.
    renamed: tuple[tuple[str, str], ...] = Field(default=(), exclude_if=lambda pairs: not pairs)

    def value_of(self, param: str) -> str:
        """The name of the value the parameter ``param`` binds: its own, unless renamed."""
        if not self.renamed:
            return param
        return next((value for written, value in self.renamed if written == param), param)


class PlanSource(PlanNode):
    name: str
    dialect: Dialect
    url_env: str | None  # the environment variable holding the URL, if any
    url_default: str | None  # the URL used when the variable is unset (never holds a password we wrote)


Scalar = str | int | float | bool | None


class PlanTransform(PlanNode):
    """A value transform between a SCIM value and the value its column stores, applied both
    ways: on import, on every write, to filter values looked up in the cache or the database.

    ``not``: a boolean column holding the attribute's opposite (``active <-> not locked``).
    ``map``: ``pairs`` of (SCIM value, stored value); a stored value outside them reads as
    ``default`` (``otherwise="value"``) or leaves the attribute out with a warning
    (``otherwise="error"``); a SCIM value outside them is a 400 ``invalidValue``.
    """

    kind: Literal["not", "map"]
    pairs: tuple[tuple[Scalar, Scalar], ...] = ()
    otherwise: Literal["error", "value"] = "error"
    default: Scalar = None


class PlanAttribute(PlanNode):
    """One SCIM attribute bound to one column of the import projection.

    ``path`` is the canonical SCIM path as clients write it without the schema URN, e.g.
    ``userName``, ``name.givenName``, ``emails[type eq "work"].value``, ``manager.value``.
    ``attribute``/``sub_attribute``/``filter`` decompose it: for ``emails[type eq "work"].value``
    they are ``emails``, ``value`` and ``(("type", "work"),)`` (only ``eq`` with ``and`` is allowed in
    a mapping's value filter, so it becomes fixed sub-attribute values of the item).
    ``column`` is the name of the column in the import projection (its output name after aliasing).
    ``target_column`` is the table column written by derived writes (``None`` when not writable).
    """

    path: str
    schema_urn: str
    attribute: str
    sub_attribute: str | None = None
    filter: tuple[tuple[str, str], ...] = ()
    column: str
    target_column: str | None = None
    type: ScimType = "string"
    multi_valued: bool = False  # True when the SCIM attribute is multi-valued (emails...)
    direction: Literal["both", "import", "export"] = "both"
    mutability: Literal["readWrite", "readOnly", "writeOnly", "immutable"] = "readWrite"
    required: bool = False
    unique: bool = False
    case_exact: bool = False
    sensitive: bool = False
    reference: str | None = None  # the object type a reference points to
    # what a write does with a reference to an object that does not exist: leave it out, or 400
    on_missing: MissingPolicy = "drop"
    transform: PlanTransform | None = None  # how SCIM values and stored values translate
    #: the stored value that means no value (``null ""``: a ``NOT NULL DEFAULT ''`` column): it
    #: reads as absent, and clearing the attribute writes it instead of NULL; left out of the JSON
    #: when None
    null_value: str | None = Field(default=None, exclude_if=lambda found: found is None)


class PlanMulti(PlanNode):
    """A multi-valued attribute kept in a child table (group members, emails, phone numbers...).

    ``load`` returns rows of (owner anchor, value, extra...) with the column names given in
    ``columns``; ``sub_attributes`` names the sub-attribute (``type``, ``display``, ``primary``)
    each extra column fills, in order. ``add``/``remove`` bind ``:anchor``, ``:value`` and each
    of those sub-attributes by its name (``primary`` as a boolean).
    """

    attribute: str
    schema_urn: str
    reference: str | None
    on_missing: MissingPolicy = "drop"  # an item naming an object that does not exist
    columns: tuple[str, ...]
    sub_attributes: tuple[str, ...] = ()
    load: Statement
    load_for_anchor: Statement  # the same, restricted to ``:anchor``
    #: the same, unordered, restricted to the owners ``:anchor_1`` .. ``:anchor_K`` (K: its
    #: params; those not bound are NULL and match nothing): a delta reads its rows' items K
    #: owners at a time.
    load_for_anchors: Statement
    #: the same, restricted to the items whose value is ``:value``: the owners holding one
    #: referenced object. Compiled where that object type has a tombstone (a soft delete ends
    #: the memberships the database holds); left out of the JSON otherwise.
    load_for_value: Statement | None = Field(default=None, exclude_if=lambda found: found is None)
    add: Statement | None
    remove: Statement | None
    #: derived from ``remove`` where it is a plain DELETE (:func:`mapper.compiler.multi.ending`):
    #: the removal of every row of the owner ``:anchor``, and (a reference) of every row naming
    #: the object ``:value``, which a delete of that owner or object runs before its row goes.
    #: Left out of the JSON when None.
    remove_for_anchor: Statement | None = Field(default=None, exclude_if=lambda found: found is None)
    remove_for_value: Statement | None = Field(default=None, exclude_if=lambda found: found is None)


class PlanDn(PlanNode):
    kind: Literal["template", "column", "anchor"]
    template: str | None = None  # e.g. "CN={anchor},OBJECT=USER"; placeholders are columns or "anchor"
    column: str | None = None


class PlanDelta(PlanNode):
    """How autosync finds changes. ``watermark``: ``query`` returns changed rows (the import
    projection) with ``watermark_column > :since``. ``table``: ``query`` returns rows of
    (sequence, anchor, change type) from the change table with sequence > ``:since``, ordered.
    ``none``: only periodic full imports with a diff."""

    kind: Literal["watermark", "table", "none"]
    query: Statement | None = None
    watermark_column: str | None = None
    sequence_column: str | None = None
    anchor_column: str | None = None
    change_type_column: str | None = None
    max_sequence: Statement | None = None  # SELECT MAX(sequence): the starting point after a full import
    # watermark deltas of an object with a tombstone: the rows deleted (tombstoned) since
    # ``:since``, as the import projection, so the cache drops them
    tombstoned: Statement | None = None
    #: ``table`` deltas (always set for them; None for the other kinds): the import projection of
    #: the anchors ``:anchor_1`` .. ``:anchor_K`` (K: its params; those not bound are NULL), the
    #: changed objects read K at a time.
    by_anchors: Statement | None = None


class PlanDeprovision(PlanNode):
    """What ``active=false`` (disable) or DELETE does: run ``statement`` (which binds ``:anchor``),
    or nothing."""

    action: Literal["set", "row", "ignore"]
    statement: Statement | None = None
    #: a ``row`` delete derived from ``write table``: it removes the rows of the object's multis
    #: and the rows of the multis naming it, in its transaction, before its row (an explicit
    #: delete, a procedure say, is left to do what it does). Left out of the JSON when False.
    ends_items: bool = Field(default=False, exclude_if=lambda ends: not ends)


class PlanTombstone(PlanNode):
    """Soft delete: rows the tombstone predicate matches are hidden from every read (the compiler
    adds its negation to the import, look-ups, pages, deltas and the membership imports of
    references to this type). ``find`` binds ``:value`` (the query attribute) and returns the
    anchor of a deleted row holding it. A create that meets one follows ``policy``: ``revive``
    runs ``revive`` (binds ``:anchor``; clears the tombstone; None when the update clears it) and
    then the object's update with the new values, keeping the anchor; ``conflict`` answers 409."""

    policy: Literal["revive", "conflict"]
    find: Statement | None = None
    revive: Statement | None = None


class PlanUnique(PlanNode):
    """An attribute marked ``unique`` besides the query attribute, and how the database is asked
    who holds a value of it: ``lookup`` is the import projection WHERE its column = ``:value``
    (case-folded unless caseExact). A write that takes a value runs it in its transaction."""

    attribute: str  # the SCIM path, as in ``PlanAttribute.path``
    lookup: Statement


class PlanReferring(PlanNode):
    """A single-valued reference attribute (``enterprise.manager``) and how the database is asked
    which objects name one object of the type it references: ``lookup`` is the import projection
    WHERE its column = ``:value``. A delete of a referenced object runs it in its transaction,
    before the row goes, and then reads those objects again: the database's ``ON DELETE SET
    NULL`` (or ``CASCADE``) changed them behind the cache."""

    attribute: str  # the SCIM path, as in ``PlanAttribute.path``
    reference: str  # the object type it names
    lookup: Statement


class PlanObject(PlanNode):
    name: str  # "User", "Group", or a custom object type name
    endpoint: str  # "/Users"
    schema_urn: str  # the core schema
    extension_urns: tuple[str, ...]  # extension schemas that mapped attributes use
    source: str
    anchor_column: str  # the anchor's column in the import projection
    anchor_generation: Literal["database", "attribute", "uuid", "random"]
    anchor_attribute: str | None  # for "attribute": the SCIM path the anchor is taken from
    query_attribute: str  # the SCIM path matched by look-ups, e.g. "userName"
    dn: PlanDn
    # the SCIM id: the anchor's text, or the DN (``id dn``: a template with {anchor} alone)
    id_source: Literal["anchor", "dn"] = "anchor"
    columns: tuple[str, ...]  # the import projection's output column names, in order
    attributes: tuple[PlanAttribute, ...]
    multi: tuple[PlanMulti, ...] = ()
    # statements derived from the import query
    import_all: Statement  # the full import, ordered by anchor
    import_page: Statement  # keyset page: anchor > :after ORDER BY anchor, at most :limit rows
    import_first_page: Statement  # the first keyset page: ORDER BY anchor, at most :limit rows
    by_anchor: Statement  # the import projection WHERE anchor = :anchor
    #: ``by_anchor`` as a locking read (FOR UPDATE), which a write's read of the object it changes
    #: uses, so that a concurrent writer's commit is seen before the version is checked; None
    #: where the dialect or the import allows none (:func:`mapper.compiler.derive.locked_by_anchor`)
    by_anchor_locked: Statement | None = Field(default=None, exclude_if=lambda found: found is None)
    # the import projection WHERE the query attribute's column = :value (case-folded unless caseExact)
    by_query: Statement
    #: the look-up of each other unique attribute (:class:`PlanUnique`); left out of the JSON when
    #: there is none
    by_unique: tuple[PlanUnique, ...] = Field(default=(), exclude_if=lambda found: not found)
    #: the look-up of each single-valued reference attribute (:class:`PlanReferring`); left out
    #: of the JSON when there is none
    by_reference: tuple[PlanReferring, ...] = Field(default=(), exclude_if=lambda found: not found)
    delta: PlanDelta
    # writes
    insert: Statement | None
    #: (table column, parameter) of each attribute the insert writes, when it is derived from
    #: ``write table``: a create leaves out the columns whose value is null (absent or sent as
    #: null), so the column's DEFAULT applies. Empty for explicit inserts and procedures, which
    #: always bind every parameter. Left out of the JSON when empty.
    insert_columns: tuple[tuple[str, str], ...] = Field(default=(), exclude_if=lambda pairs: not pairs)
    update: Statement | None
    delete: Statement | None
    disable: PlanDeprovision
    deprovision_delete: PlanDeprovision
    tombstone: PlanTombstone | None = None


class PlanSchemaAttribute(PlanNode):
    name: str
    type: ScimType
    multi_valued: bool = False
    required: bool = False
    case_exact: bool = False


class PlanSchema(PlanNode):
    """A custom schema declared in the mapping file."""

    urn: str
    alias: str
    attributes: tuple[PlanSchemaAttribute, ...]


#: what a connector's name may be: a URL path segment as written (no escaping), and the ECMA
#: Connector Host's ``/ecma2host_{name}/scim``
CONNECTOR_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]*")
#: the characters of :data:`CONNECTOR_NAME`, in words (for messages)
CONNECTOR_NAME_RULE = "letters A-Z and a-z, digits, '_', '-' and '.', starting with a letter or digit"


def connector_name(declared: str | None, path: str) -> str:
    """The connector a mapping file is served as: its ``connector "NAME"``, else the file's name
    without ``.map`` (which may not fit :data:`CONNECTOR_NAME`)."""
    return declared if declared is not None else PurePath(path).name.removesuffix(".map")


class Plan(PlanNode):
    version: int = PLAN_VERSION
    mapping: str  # the mapping file's path as given to the compiler
    #: the file's ``connector "NAME"``; left out of the JSON when the file declares none
    connector: str | None = Field(default=None, exclude_if=lambda name: name is None)
    sources: tuple[PlanSource, ...]
    schemas: tuple[PlanSchema, ...]
    objects: tuple[PlanObject, ...]

    @property
    def connector_name(self) -> str:
        """The connector ``mapper serve DIR`` serves this plan as (:func:`connector_name`)."""
        return connector_name(self.connector, self.mapping)

    def object(self, name: str) -> PlanObject:
        for obj in self.objects:
            if obj.name == name:
                return obj
        raise KeyError(name)

    def source(self, name: str) -> PlanSource:
        for src in self.sources:
            if src.name == name:
                return src
        raise KeyError(name)
