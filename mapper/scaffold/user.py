"""The user object of a draft: its login (userName), anchor, attributes, active flag and soft
delete from the user table, and its child tables of emails and phone numbers."""

from __future__ import annotations

from mapper.scaffold import names
from mapper.scaffold.catalog import Column, Database, ScaffoldError, Table
from mapper.scaffold.columns import active_column, anchor_item, find, natural_key, soft_delete
from mapper.scaffold.common import cascades, common
from mapper.scaffold.draft import NAME, Attribute, Multi, ObjectDraft
from mapper.scaffold.names import key


def user_object(database: Database, table: Table, warnings: list[str]) -> ObjectDraft:
    """The User object of ``table`` (the guessed user table), with its child tables."""
    # a key of text the client must fill may be the login itself: then it is userName's column
    taken: set[str] = set() if natural_key(table) else {table.primary_key[0].lower()}
    attributes: list[Attribute] = []
    notes: list[str] = [f"User: guessed from table {table.name} (by its name and columns)"]

    def claim(
        column: Column, path: str, tail: str = "", arrow: str = "<->", negated: bool = False, note: str = ""
    ) -> None:
        taken.add(column.name.lower())
        attributes.append(Attribute(path, column.name, arrow, tail, negated, note))

    # userName: a unique login, else a unique email, else any login or email column
    logins = find(table, names.LOGIN, taken)
    emails = find(table, names.EMAIL, taken)
    ranked = (
        [c for c in logins if table.is_unique(c.name)]
        + [c for c in emails if table.is_unique(c.name)]
        + [c for c in logins if not table.is_unique(c.name)]
        + [c for c in emails if not table.is_unique(c.name)]
    )
    if not ranked:
        ranked = [
            c
            for c in table.columns
            if c.kind == "text" and table.is_unique(c.name) and NAME.fullmatch(c.name)
        ]
    if not ranked:
        raise ScaffoldError(
            f"User: table {table.name} has no login, email or other unique text column to serve as "
            "userName (the attribute Entra matches users by); add one, or choose the table with --table"
        )
    login = ranked[0]
    unique = table.is_unique(login.name)
    scope = None if unique else _scope(table, login)
    note = "" if unique or scope is not None else _not_unique(table, login.name)
    others = [c.name for c in ranked[1:] if (c in logins) == (login in logins)]
    if others:
        warnings.append(
            f"User: userName guessed from {login.name!r}; alternatives: {', '.join(map(repr, others))}"
        )
    anchor, why = anchor_item(table, "User", login, warnings)
    notes.append(why)
    taken.add(table.primary_key[0].lower())
    notes.append(f"query: userName, from {login.name}{' (unique)' if unique else ''}")

    # child tables of emails and phones, found through their foreign key
    multis = [m for m in (_child_table(database, t, table, warnings) for t in database.tables) if m]
    child_kinds = {m.attribute for m in multis}
    claim(login, "userName", "required unique", note=note)

    # active and soft delete before the text attributes: a state column of codes is no address
    active = active_column(table, taken, warnings)
    if active is not None:
        taken.add(active[0].name.lower())
    deletion = soft_delete(table, taken, database.dialect)
    disable = ""
    if active is None and deletion is not None and deletion.epoch:
        # Mattermost's users.deleteat: 0 active, the time of the deactivation otherwise, which is
        # also all a deletion is; Entra's disable sets it, its enable writes 0 back
        column = table.column(deletion.epoch)
        assert column is not None
        active = (
            column,
            "map { true: 0, false: 1 } else false",
            False,
            f"guessed: {column.name} is 0 for an active user and the time of the deactivation otherwise: "
            f"a disable sets it to the time now (disable set), an enable to 0; the 1 written for false "
            f"is overwritten by the disable, and a stored time is kept by any other change",
        )
        disable, deletion = deletion.assignment, None
        taken.add(column.name.lower())

    # the work email: a column, unless a child table holds the emails
    emails = find(table, names.EMAIL, taken)
    if emails:
        mail = emails[0]
        if "emails" in child_kinds:
            warnings.append(f"User: emails come from a child table; column {mail.name!r} left unmapped")
        else:
            claim(mail, 'emails[type eq "work"].value')
    for path, candidates, stems in [(p, c, False) for p, c in names.USER_TEXT] + [
        (p, c, True) for p, c in names.USER_TEXT
    ]:
        if path.startswith("phoneNumbers") and "phoneNumbers" in child_kinds:
            continue
        if any(a.path == path for a in attributes):
            continue
        found = find(table, candidates, taken, stems=stems)
        if found:
            claim(found[0], path, "caseExact" if path == "externalId" else "")
            if len(found) > 1:
                warnings.append(
                    f"User: {path} guessed from {found[0].name!r}; also possible: "
                    f"{', '.join(repr(c.name) for c in found[1:])}"
                )

    anchor_column = table.column(table.primary_key[0])
    for column in find(table, names.MANAGER, taken, ("integer", "text", "uuid")):
        points = [
            fk
            for fk in table.foreign_keys
            if fk.column == column.name and fk.table.lower() == table.name.lower()
        ]
        if points and anchor_column and column.kind == anchor_column.kind:
            how = "its foreign key" if points[0].declared else "its name"
            claim(
                column,
                "enterprise.manager",
                "reference User",
                note=f"guessed: {column.name} names another user ({how})",
            )
            break

    if active is not None:
        column, tail, negated, why = active
        claim(column, "active", tail, negated=negated, note=why)
    else:
        # Redmine's status INTEGER; not a key of another table (OrangeHRM's emp_status points at
        # ohrm_employment_status: full-time, freelance), whose rows are kinds, not a state
        references = {fk.column.lower() for fk in table.foreign_keys}
        status = [
            c
            for c in find(table, names.STATUS, taken, ("text", "integer"))
            if c.name.lower() not in references
        ]
        if status:
            code = "?" if status[0].kind == "integer" else '"?"'
            notes.append(
                f"FILL IN: {status[0].name} may say whether a user is active, but "
                + (
                    f"its codes ({', '.join(status[0].values)}) do not say which means active"
                    if status[0].values
                    else "its codes are neither declared (no ENUM or CHECK) "
                    "nor read from its rows (none, or more than 20)"
                )
                + f"; write them in: active <-> {status[0].name} map "
                + f"{{ true: {code}, false: {code} }} else false"
            )
        else:
            notes.append(
                "FILL IN: no active flag found (active, enabled, locked, disabled, a status code), so "
                "Entra's disable (active=false) changes nothing in the database; "
                "map one: active <-> COLUMN boolean"
            )
    kind = _kind(table, taken)
    if kind is not None:
        taken.add(kind[0].name.lower())
    if scope is not None:
        taken.add(scope.name.lower())
    draft = common(
        table, "User", anchor, "userName", taken, attributes, notes, warnings, deletion, database.dialect
    )
    if disable:
        draft.disable = disable
        draft.delete = "ignore"
        notes.append(
            "guessed: delete ignore: a deactivated user is all the application keeps of a deleted one "
            "(its posts and memberships still name it), and Entra disables a user before it deletes it"
        )
    if kind is not None:
        column, value = kind
        draft.kind = (column.name, value)
        draft.create.insert(0, f'{column.name} = "{value}"')
        rest = ", ".join(v for v in column.values if v != value)
        seen = ", ".join(column.values)
        draft.notes.append(
            f"guessed: {column.name} tells kinds of rows apart (seen in its rows: {seen}): "
            f"the users are its {value!r} rows, and a create writes {value!r}; the others ({rest}) are "
            "neither served nor written. Groups kept in the same table are a Group object of their own "
            "(docs/authoring.md, Users and groups in one table)"
        )
        warnings.append(f"User: only the rows of {table.name} whose {column.name} is {value!r} are users")
    if scope is not None:
        _scoped(draft, login, scope, warnings)
    draft.multis = multis
    for multi in multis:
        child = database.table(multi.table)
        fk = next(f for f in child.foreign_keys if f.column == multi.owner) if child else None
        if fk is not None:
            cascades(draft, multi, fk, table.name)
    for multi in multis:
        draft.notes.append(
            f"{multi.attribute}: the child table {multi.table}, through its foreign key {multi.owner}"
        )
    return draft


def _kind(table: Table, taken: set[str]) -> tuple[Column, str] | None:
    """A column telling kinds of rows apart (Rails' ``type``: Redmine keeps 'User', 'Group' and
    built-in 'AnonymousUser' rows in ``users``), with the value of the users' rows: one whose
    name is the table's (``User`` in ``users``), among several values read from the rows."""
    stem = key(table.name)
    for column in table.columns:
        if column.kind != "text" or not column.seen or len(column.values) < 2:
            continue
        if key(column.name) not in names.KIND.exact or column.name.lower() in taken:
            continue
        for value in column.values:
            if key(value) in ("user", stem, stem.removesuffix("s")) and NAME.fullmatch(value):
                return column, value
    return None


def child_kind(table: Table) -> str | None:
    """``emails`` or ``phoneNumbers`` for a table of a person's email addresses or phone numbers."""
    name = key(table.name)
    if len(table.foreign_keys) != 1:
        return None
    if "mail" in name:
        return "emails"
    if "phone" in name or "tel" in name or "mobile" in name:
        return "phoneNumbers"
    return None


def _child_table(database: Database, table: Table, user: Table, warnings: list[str]) -> Multi | None:
    what = child_kind(table)
    if what is None:
        return None
    fk = table.foreign_keys[0]
    if fk.table.lower() != user.name.lower():
        return None
    owner = fk.column
    values = names.EMAIL_VALUE if what == "emails" else names.PHONE_VALUE
    found = find(table, values, {owner.lower()})
    if not found:
        found = [
            c
            for c in table.columns
            if c.kind == "text" and not c.nullable and c.name != owner and NAME.fullmatch(c.name)
        ]
    if not found:
        warnings.append(
            f"User: {table.name} looks like a table of {what} but has no value column; not mapped"
        )
        return None
    value = found[0]
    taken = {owner.lower(), value.name.lower()}
    extra: list[tuple[str, str]] = []
    kind: str | None = "work"
    for column in find(table, names.ITEM_TYPE, taken):
        alias = column.name if "type" in column.name.lower() else "type"
        extra.append((column.name, alias))
        taken.add(column.name.lower())
        kind = None
        break
    for column in find(table, names.ITEM_PRIMARY, taken, ("boolean", "integer"), flag=True):
        alias = column.name if "primary" in column.name.lower() else "is_primary"
        extra.append((column.name, alias))
        taken.add(column.name.lower())
        break
    required = [
        c for c in table.columns if c.name.lower() not in taken and not c.nullable and not c.has_default
    ]
    # a required time (Redmine's email_addresses.created_on, updated_on) is the time of the add
    stamped = [c.name for c in required if c.kind == "timestamp" and NAME.fullmatch(c.name)]
    missing = [c.name for c in required if c.name not in stamped]
    if missing:
        warnings.append(
            f"User: {table.name} looks like a table of {what}, but its required columns "
            f"{', '.join(missing)} have no SCIM counterpart; not mapped"
        )
        return None
    notes = []
    if kind is not None:
        notes.append(
            f"guessed: {table.name} keeps no type: every item reads as type {kind!r} (Entra's "
            f'{what}[type eq "{kind}"]), and the type a client sends is not stored'
        )
    if stamped:
        notes.append(f"{', '.join(stamped)}: set to the time of each add")
    return Multi(
        what, table.name, owner, value.name, extra, note="\n".join(notes), kind=kind, stamped=stamped
    )


def _scope(table: Table, login: Column) -> Column | None:
    """The column ``login`` is unique together with, whose values were read from the rows
    (Keycloak's ``UNIQUE (realm_id, username)``): each value is a directory of its own."""
    others = table.unique_with(login.name)
    column = table.column(others[0]) if len(others) == 1 else None
    if column is None or not column.seen or not NAME.fullmatch(column.name):
        return None
    return column


def _scoped(draft: ObjectDraft, login: Column, column: Column, warnings: list[str]) -> None:
    """Serve and create the users of one value of ``column`` (Keycloak's realm): the one its rows
    hold, or a FILL IN (which lint refuses) when they hold several. Serving them all would mix
    the directories: two users of one login, of which the look-ups and filters find one, and a
    write by id reaching every realm's users."""
    name, table = column.name, draft.table.name
    if len(column.values) > 1:
        draft.scope = (name, "FILL_IN", "FILL_IN")
        draft.create.insert(0, f"{name} = FILL_IN")
        draft.notes.append(
            f"FILL IN: {login.name} is unique only within {name}, and the rows hold several "
            f"({', '.join(column.values)}): each {name} is a directory of its own, whose users "
            f"may share a {login.name}. Write the {name} whose users Entra provisions in place of "
            "FILL_IN, in the import's WHERE ('text' quoted) and in create set (\"text\" quoted; "
            f"mapper lint refuses FILL_IN, MAP243); the rows of every other {name} are then neither "
            "served nor written"
        )
        warnings.append(
            f"User: {table}.{login.name} is unique only within {name}, whose rows hold "
            f"{len(column.values)} values: drafted 'WHERE {name} = FILL_IN' (FILL IN)"
        )
        return
    value = column.values[0]
    if column.kind == "integer":
        sql = literal = value
    else:
        sql = "'" + value.replace("'", "''") + "'"
        literal = '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'
    draft.scope = (name, sql, literal)
    draft.create.insert(0, f"{name} = {literal}")
    draft.notes.append(
        f"guessed: {login.name} is unique only within {name}, and every row holds {name} {value}: "
        f"the users are its rows, and a create writes it; the rows of another {name}, added "
        "later, are neither served nor written"
    )


def _not_unique(table: Table, column: str) -> str:
    """The note on a login the database does not declare unique on its own."""
    others = table.unique_with(column)
    if not others:
        return f"guessed: {column} is not declared unique; make it so, userName must be"
    return (
        f"guessed: {column} is unique only together with {', '.join(others)}, and userName must be "
        f"unique on its own: the gateway refuses a userName any row the import reads holds; to serve "
        f"the users of one {others[0]} only, select them (WHERE {others[0]} = ...) and write "
        f"create set {others[0]} = VALUE, so that a create is among them"
    )
