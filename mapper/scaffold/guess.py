"""The guesses of ``mapper init``: from a :class:`~mapper.scaffold.catalog.Database` to a
:class:`Draft` of the mapping, every guess with the reason written beside it.

- ``guess(database) -> Draft``: pure; reads the catalog, touches nothing.

The order: membership tables (two foreign keys) and child tables (one foreign key and an email
or phone column) first, since they say which tables are people and groups; then the user table
by name and shape, its anchor, its query attribute, its attributes, flags, soft delete and
watermark; then the group table on the other side of a membership table.

This module finds the tables and the group; the user object is :mod:`~mapper.scaffold.user`'s,
the column guesses :mod:`~mapper.scaffold.columns`' (which column is the login, the anchor, the
active flag...), what both objects share :mod:`~mapper.scaffold.common`'s, and the draft's
classes :mod:`~mapper.scaffold.draft`'s.
"""

from __future__ import annotations

from mapper.lint.database.columntypes import EPOCH_NOW
from mapper.scaffold import names
from mapper.scaffold.catalog import Database, ForeignKey, ScaffoldError, Table
from mapper.scaffold.columns import anchor_item, epoch_now, find, natural_key, soft_delete
from mapper.scaffold.common import cascades, common
from mapper.scaffold.draft import NAME, Attribute, Draft, Multi, ObjectDraft
from mapper.scaffold.names import Names, key
from mapper.scaffold.user import child_kind, user_object

__all__ = ["Draft", "guess"]


def guess(database: Database) -> Draft:
    """The draft mapping of ``database``. Raises :class:`ScaffoldError` when no table can be the
    users."""
    warnings: list[str] = []
    memberships = _memberships(database)
    user_table, profile = _user_table(database, memberships, warnings)
    user = user_object(database, user_table, warnings)
    if profile is not None:
        user.notes.append(_profile_note(user_table, profile))
    objects = [user]
    group = _group(database, user, memberships, warnings)
    if group is not None:
        objects.append(group)
    notes = []
    if group is None:
        missing = (
            "no membership table (a table with foreign keys to the users and to one other table) was found, "
            "so there is no Group object; Entra's group provisioning needs one (docs/language.md, multi)"
        )
        notes.append(missing[0].upper() + missing[1:])
        warnings.append(f"Group: {missing}; tables: {', '.join(t.name for t in database.tables)}")
    return Draft(database.dialect, objects, warnings, database.schema, notes)


# tables ---------------------------------------------------------------------------------------


def _memberships(database: Database) -> list[tuple[Table, ForeignKey, ForeignKey]]:
    """Tables that link two other tables: exactly two foreign keys to two different tables, both
    required, at most three other columns (a date, a role) unless the two are its primary key, and
    nothing else an insert must fill but text or numbers, which the add writes as constants
    (:func:`_fixed`)."""
    found = []
    for table in database.tables:
        keys = [fk for fk in table.foreign_keys if fk.table.lower() != table.name.lower()]
        targets = {fk.table.lower() for fk in keys}
        if len(keys) != 2 or len(targets) != 2:
            continue
        linked = {fk.column.lower() for fk in keys}
        # keyed by its two links it is a membership whatever else a row keeps (Mattermost's
        # teammembers: roles, scheme flags, deleteat, createat)
        keyed = {c.lower() for c in table.primary_key} == linked
        if (len(table.columns) > len(linked) + 3 and not keyed) or any(
            c.nullable for c in table.columns if c.name.lower() in linked
        ):
            continue
        required = [
            c for c in table.columns if not c.nullable and not c.has_default and c.name.lower() not in linked
        ]
        if any(c.kind not in ("text", "integer") or not NAME.fullmatch(c.name) for c in required):
            continue  # a text or number an add fills with a constant (Keycloak's membership_type)
        found.append((table, keys[0], keys[1]))
    return found


def _score_user(
    table: Table, memberships: list[tuple[Table, ForeignKey, ForeignKey]], children: set[str]
) -> int:
    if (
        len(table.primary_key) != 1
        or not NAME.fullmatch(table.name)
        or not NAME.fullmatch(table.primary_key[0])
    ):
        return -100  # write table and the anchor name it as the mapping language writes names
    if any(table is m[0] for m in memberships):
        return -100
    score = 0
    name = key(table.name)
    if name in names.USER_TABLES:
        score += 4
    elif any(stem in name for stem in names.USER_STEMS):
        score += 2
    if name in names.GROUP_TABLES or any(stem in name for stem in names.GROUP_STEMS):
        score -= 3
    if find(table, names.LOGIN, set()):
        score += 3
    if find(table, names.EMAIL, set()):
        score += 2
    for _, candidates in names.USER_TEXT[:4]:
        if find(table, candidates, set()):
            score += 1
    flags = ("boolean", "integer")
    if find(table, names.ACTIVE, set(), flags, flag=True) or find(
        table, names.INVERTED, set(), flags, flag=True
    ):
        score += 1
    if any(fk.table.lower() == table.name.lower() for m in memberships for fk in m[1:]):
        score += 1
    if table.name.lower() in children:
        score += 2
    return score


def _user_table(
    database: Database, memberships: list[tuple[Table, ForeignKey, ForeignKey]], warnings: list[str]
) -> tuple[Table, tuple[Table, str] | None]:
    """The user table, and the table of its people's profile with the column pointing at it
    when the best-looking table is a profile (:func:`_account`)."""
    children = {fk.table.lower() for t in database.tables for fk in t.foreign_keys if child_kind(t)}
    scored = sorted(
        ((_score_user(t, memberships, children), t) for t in database.tables),
        key=lambda p: (-p[0], p[1].name),
    )
    best_score, best = scored[0]
    account = _account(best, [t for s, t in scored[1:] if s > 0])
    if account is not None:  # the best is the profile of the people whose logins another holds
        warnings.append(
            f"User: guessed table {account[0].name!r}, whose unique login {account[1]!r} the table "
            f"{best.name!r} lacks; {account[0].name}.{account[2]} points at {best.name} (choose with --table)"
        )
        return account[0], (best, account[2])
    if best_score < 2:
        shown = ", ".join(t.name for _, t in scored[:8])
        raise ScaffoldError(
            "no table looks like the users (a single-column primary key and a login, email or name "
            f"column); name it with --table (tables: {shown})"
        )
    rivals = [t.name for s, t in scored[1:] if s >= best_score - 1 and s > 0]
    if rivals:
        warnings.append(
            f"User: guessed table {best.name!r}; alternatives: {', '.join(map(repr, rivals))} "
            "(choose with --table)"
        )
    return best, None


def _account(profile: Table, others: list[Table]) -> tuple[Table, str, str] | None:
    """(table, login, column) when ``profile`` holds no unique login and another table does, with
    a foreign key to ``profile``: OrangeHRM's ``ohrm_user`` (``user_name`` unique, ``emp_number``
    pointing at the employee ``hs_hr_employee``, which has the names and e-mail addresses but no
    login). That table holds the accounts Entra provisions; the other is their people's profile."""
    if any(profile.is_unique(c.name) for c in find(profile, names.LOGIN, set())):
        return None
    for table in others:
        logins = [c.name for c in find(table, names.LOGIN, set()) if table.is_unique(c.name)]
        points = [fk.column for fk in table.foreign_keys if fk.table.lower() == profile.name.lower()]
        if logins and points:
            return table, logins[0], points[0]
    return None


def _profile_note(table: Table, profile: tuple[Table, str]) -> str:
    """The note of a user table whose people's names and addresses are in another table."""
    other, column = profile
    found = [
        c.name
        for c in other.columns
        if c.kind == "text"
        and (
            names.EMAIL.matches(key(c.name))
            or any(candidates.matches(key(c.name)) for _, candidates in names.USER_TEXT)
        )
    ]
    shown = f" ({', '.join(found)})" if found else ""
    return (
        f"FILL IN: {table.name}.{column} points at {other.name}, which holds its people's names and "
        f"addresses{shown}: this draft serves none of them. To serve them, join {other.name} in the "
        "import and map its columns import-only (<-); a create writes no row of it (docs/authoring.md, "
        "An account table and a profile table)"
    )


# the group ------------------------------------------------------------------------------------


def _group(
    database: Database,
    user: ObjectDraft,
    memberships: list[tuple[Table, ForeignKey, ForeignKey]],
    warnings: list[str],
) -> ObjectDraft | None:
    candidates = []
    for link, a, b in memberships:
        for members, groups in ((a, b), (b, a)):
            if (
                members.table.lower() != user.table.name.lower()
                or members.referred != user.table.primary_key[0]
            ):
                continue
            group = database.table(groups.table)
            if group is None or len(group.primary_key) != 1 or group.primary_key[0] != groups.referred:
                continue
            if not NAME.fullmatch(group.name) or not NAME.fullmatch(group.primary_key[0]):
                continue
            name = key(group.name)
            score = 3 if name in names.GROUP_TABLES else 2 if any(s in name for s in names.GROUP_STEMS) else 0
            score += 1 if key(link.name).endswith(("members", "membership", "memberships")) else 0
            candidates.append((score, group, link, members, groups))
    if not candidates:
        return None
    candidates.sort(key=lambda c: (-c[0], c[1].name))
    _, table, link, members, groups = candidates[0]
    if len(candidates) > 1:
        others = ", ".join(f"{c[1].name!r} (members in {c[2].name!r})" for c in candidates[1:])
        warnings.append(
            f"Group: guessed table {table.name!r} (members in {link.name!r}); alternatives: {others}"
        )
    # a key of text the client must fill may be the group's name itself: then displayName's column
    taken = set() if natural_key(table) else {table.primary_key[0].lower()}
    attributes: list[Attribute] = []
    notes = [f"Group: guessed from table {table.name}, the other side of the membership table {link.name}"]
    how = (
        "foreign keys" if members.declared and groups.declared else "column names (no foreign keys declared)"
    )
    notes.append(f"members: the rows of {link.name}, found through its {how}")
    own = key(table.name).removesuffix("s") + "name"  # team_name for teams
    exact = Names((*names.GROUP_NAME.exact, own), names.GROUP_NAME.stems)
    found = find(table, exact, taken)
    if not found:
        found = [
            c
            for c in table.columns
            if c.kind == "text"
            and table.is_unique(c.name)
            and NAME.fullmatch(c.name)
            and c.name.lower() not in taken
        ]
    if not found:
        warnings.append(f"Group: table {table.name} has no name column for displayName; no Group object")
        return None
    display = found[0]
    unique = table.is_unique(display.name)
    note = (
        "" if unique else f"guessed: {display.name} is not declared unique; make it so, displayName must be"
    )
    taken |= {display.name.lower(), table.primary_key[0].lower()}
    attributes.append(Attribute("displayName", display.name, "<->", "required unique", note=note))
    anchor, why = anchor_item(table, "Group", display, warnings)
    notes.append(why)
    for column in find(table, names.EXTERNAL_ID, taken):
        taken.add(column.name.lower())
        attributes.append(Attribute("externalId", column.name, "<->", "caseExact"))
        break
    deletion = soft_delete(table, taken, database.dialect)
    realm = _realm_column(table, user)
    if realm is not None:
        taken.add(realm.lower())
    draft = common(
        table, "Group", anchor, "displayName", taken, attributes, notes, warnings, deletion, database.dialect
    )
    members_multi = Multi(
        "members",
        link.name,
        groups.column,
        members.column,
        reference="User",
    )
    linked = {groups.column.lower(), members.column.lower()}
    _fixed(members_multi, link, linked, warnings)
    _ended(members_multi, link, linked, database.dialect)
    if realm is not None:
        _realm(draft, realm, user)
    draft.multis = [members_multi]
    cascades(user, members_multi, members, user.table.name)
    cascades(draft, members_multi, groups, table.name)
    return draft


def _ended(multi: Multi, link: Table, linked: set[str], dialect: str) -> None:
    """A membership table keyed by its two links whose rows keep the time the membership ended,
    0 while it lasts (Mattermost's ``teammembers.deleteat``): its import reads the rows holding 0,
    a remove sets the time, and an add of a member who left sets it back to 0 (a new row would
    break the primary key the old one still holds)."""
    if {c.lower() for c in link.primary_key} != linked or dialect not in EPOCH_NOW:
        return
    for column in find(link, names.DELETED_AT, set(linked), ("integer",), stems=False):
        multi.ended = (column.name, epoch_now(column, link, dialect))
        why = (
            f"guessed: a membership that ends keeps its row, {column.name} set to the time (0 while it "
            "lasts): the remove sets it, and an add of someone who left sets it back to 0"
        )
        multi.note = f"{multi.note}\n{why}".strip()
        return


def _fixed(multi: Multi, link: Table, linked: set[str], warnings: list[str]) -> None:
    """The membership table's other required columns, each written as a constant by the add: the
    one value its rows hold (Keycloak's ``membership_type``: 'UNMANAGED', what an administrator's
    add writes), else ``FILL_IN``, which the database refuses (``mapper lint --db``, MAP302)."""
    for column in link.columns:
        if column.nullable or column.has_default or column.name.lower() in linked:
            continue
        if column.seen and len(column.values) == 1:
            value = column.values[0]
            sql = value if column.kind == "integer" else "'" + value.replace("'", "''") + "'"
            multi.fixed.append((column.name, sql))
            why = f"guessed: {column.name} is required, and its rows hold {value}: every add writes it"
            multi.note = f"{multi.note}\n{why}".strip()
            continue
        multi.fixed.append((column.name, "FILL_IN"))
        seen = f" (its rows hold {', '.join(column.values)})" if column.values else ""
        multi.note = (
            f"{multi.note}\nFILL IN: {column.name} is required (NOT NULL, no default){seen}: write the "
            "value every add stores in place of FILL_IN (mapper lint --db refuses FILL_IN)"
        ).strip()
        warnings.append(
            f"Group: {link.name}.{column.name} is required: drafted FILL_IN in the members' add (FILL IN)"
        )


def _realm_column(table: Table, user: ObjectDraft) -> str | None:
    """The group table's column named as the one the users are served by (Keycloak's
    ``keycloak_group.realm_id``), if any."""
    if user.scope is None:
        return None
    return next((c.name for c in table.columns if c.name.lower() == user.scope[0].lower()), None)


def _realm(group: ObjectDraft, column: str, user: ObjectDraft) -> None:
    """The groups of the users' realm: ``column`` given the users' value (or FILL IN), so that a
    group of another realm is neither served nor written."""
    assert user.scope is not None
    name, sql, literal = user.scope
    group.scope = (column, sql, literal)
    group.create.insert(0, f"{column} = {literal}")
    if "FILL_IN" in sql:
        group.notes.append(
            f"FILL IN: the groups of the users' {name}: write it in place of FILL_IN, in the import's "
            "WHERE and in create set, as for the users"
        )
    else:
        group.notes.append(f"guessed: the groups of the users' {name}, {sql}")
