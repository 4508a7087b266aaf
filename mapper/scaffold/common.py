"""What users and groups share once their columns are guessed: meta dates, the watermark, soft
delete, the columns left unmapped or given a value by 'create set', and the cascades a delete
relies on."""

from __future__ import annotations

import re

from mapper.lint.database.columntypes import EPOCH_NOW
from mapper.lint.database.nulls import empty_text_default
from mapper.scaffold import names
from mapper.scaffold.catalog import Column, ForeignKey, ScaffoldError, Table
from mapper.scaffold.columns import MILLIS, SoftDelete, find
from mapper.scaffold.draft import NAME, Attribute, Multi, ObjectDraft
from mapper.scaffold.names import key


def common(
    table: Table,
    what: str,
    anchor: str,
    query: str,
    taken: set[str],
    attributes: list[Attribute],
    notes: list[str],
    warnings: list[str],
    deletion: SoftDelete | None,
    dialect: str = "",
) -> ObjectDraft:
    """What users and groups share: meta dates, the watermark, soft delete, the columns left
    unmapped (as comments, or given a value in ``create set`` when the database requires one)."""
    draft = ObjectDraft(what, table, anchor, query, attributes=attributes, notes=notes)
    tombstone = ""
    for a in attributes:
        column = table.column(a.column)
        if a.arrow == "<->" and a.path not in (query, "active") and column and not column.nullable:
            # a create leaves an absent attribute out of its INSERT (the default applies); an
            # update writes NULL for an attribute removed, or '' where the mapping says null ""
            if _blank(a, column):
                a.tail = f'{a.tail} null ""'.strip()
                why = (
                    f"guessed: {column.name} is NOT NULL DEFAULT '', so '' is no value (null \"\"): it "
                    f"is not served, and a create without {a.path} or a change that removes it writes ''"
                )
            elif column.has_default:
                why = (
                    f"guessed: {column.name} is NOT NULL: a create without {a.path} gets the column's "
                    f"default, but a change that removes {a.path} is refused (400)"
                )
            else:
                why = (
                    f"guessed: {column.name} is NOT NULL without a default, so a create or change "
                    f"without {a.path} is refused (400)"
                )
                warnings.append(f"{what}: {column.name} is NOT NULL; every create must send {a.path}")
            a.note = f"{a.note}\n{why}".strip()
    times = ("timestamp", "text", "integer")
    # a creation time only read: an insert leaves it to its default, so one without is left out
    # (a column a create must fill: FILL IN below)
    created = find(table, names.CREATED, taken, times)
    for column in (c for c in created if _time(c, dialect) and (c.nullable or c.has_default)):
        taken.add(column.name.lower())
        attributes.append(
            Attribute("meta.created", _seconds(draft, column), "<-", "dateTime", note=_epoch_note(column))
        )
        if column.kind == "integer" and not column.has_default and dialect in EPOCH_NOW:
            # Keycloak's created_timestamp: the application fills it, and a user the gateway
            # created had no creation time
            now = EPOCH_NOW[dialect] + (" * 1000" if _millis(column) else "")
            draft.create.append(f'{column.name} = sql"""{now}"""')
            draft.create_notes.append(
                f"guessed: {column.name} has no default (meta.created would be absent): a row the "
                "gateway creates gets the time of its creation"
            )
        if column.kind == "timestamp" and _ZERO_DATE.match(column.default or ""):
            # WordPress's user_registered before 4.x: every row the gateway made read no creation
            draft.create.append(f"{column.name} = CURRENT_TIMESTAMP")
            draft.create_notes.append(
                f"guessed: {column.name}'s default is the zero date ({column.default}), which is no "
                "time (meta.created would be absent): a row the gateway creates gets the time of its "
                "creation, in UTC"
            )
        elif column.kind == "timestamp" and not column.has_default:
            # Redmine's created_on: Rails fills it, no default does, and a row the gateway made
            # had none
            draft.create.append(f"{column.name} = CURRENT_TIMESTAMP")
            draft.create_notes.append(
                f"guessed: {column.name} has no default (meta.created would be absent): a row the "
                "gateway creates gets the time of its creation"
            )
        break
    updated = [c for c in find(table, names.UPDATED, taken, times) if _time(c, dialect)]
    # a time of day before a day: ``modified_on DATE`` beside ``updated_at TIMESTAMP``
    for column in sorted(updated, key=_days)[:1]:
        taken.add(column.name.lower())
        note = _epoch_note(column)
        attributes.append(
            Attribute("meta.lastModified", _seconds(draft, column), "<-", "dateTime", note=note)
        )
        if _millis(column):  # read in seconds: no watermark the stamp and the delta agree on
            notes.append(
                f"no delta watermark: {column.name} holds milliseconds, and the gateway stamps and "
                "compares seconds; changes are seen by the periodic full imports"
            )
        elif column.kind == "integer":
            draft.delta = column.name
            draft.stamp = f'{column.name} = sql"""{EPOCH_NOW[dialect]}"""'
            notes.append(
                f"delta: autosync reads rows whose {column.name} is newer than the last it saw; "
                f"the gateway sets it to the seconds since the epoch on each of its writes (stamp), "
                "every other writer must set it too"
            )
        elif _days(column):  # a day-granular watermark misses changes made later on its day
            notes.append(
                f"FILL IN: no delta watermark: {column.name} holds days ({column.sql_type}), and a "
                "watermark of days misses every change made later on the day of the last delta; "
                "changes are seen by the periodic full imports. For deltas, add a timestamp column "
                "every writer sets and write: delta watermark COLUMN, stamp COLUMN"
            )
        elif column.kind == "timestamp" or column.sql_type.upper() == "TEXT":
            draft.delta = column.name
            draft.stamp = _stamp(column)
            notes.append(
                f"delta: autosync reads rows whose {column.name} is newer than the last it saw; "
                f"the gateway sets it on each of its writes (stamp), every other writer must set it "
                "too (a trigger that also sets it on the gateway's writes is harmless)"
            )
    if deletion is not None:
        assignment, why, draft.revive = deletion.assignment, deletion.why, deletion.revive
        column_name = assignment.split(" ", 1)[0]
        if column_name.lower() not in taken:  # selected, so the tombstone can be checked (MAP240)
            taken.add(column_name.lower())
            tombstone = column_name

        draft.delete = f"set {assignment}"
        draft.tombstone = deletion.tombstone
        draft.recreate = True
        column = table.column(deletion.epoch) if deletion.epoch else None
        if column is not None and column.nullable and not column.has_default:
            # a row created without it holds NULL where the application's own rows hold 0
            draft.create.append(f"{column.name} = 0")
        notes.append(why + "; a create with the same " + query + " revives the row")
    required: list[Column] = []  # NOT NULL, no default, no attribute: 'create set' FILL IN
    if tombstone:
        draft.selected.append(tombstone)
    for column in table.columns:
        if column.name.lower() in taken:
            continue
        if not NAME.fullmatch(column.name):
            draft.unmapped.append(
                f"{column.name!r} ({column.sql_type}): not a name a mapping can use; "
                "select it AS another name"
            )
            if not column.nullable and not column.has_default:
                raise ScaffoldError(
                    f"{what}: column {table.name}.{column.name!r} is required (NOT NULL, no default) "
                    "and cannot be named in a mapping"
                )
            continue
        if not column.nullable and not column.has_default:
            if column.kind == "binary":  # a binary attribute over bytes is MAP312: nothing fills it
                raise ScaffoldError(
                    f"{what}: column {table.name}.{column.name} holds bytes ({column.sql_type}) and is "
                    "required (NOT NULL, no default), but the gateway keeps a SCIM binary value as base64 "
                    "text and cannot fill a bytes column (MAP312): give the column a default or allow "
                    "NULL, or choose another table with --table"
                )
            required.append(column)  # not selected: 'create set' writes it, nothing reads it
            continue
        # not selected: a column no attribute maps would only sit in every cached record (a password
        # hash, a TOTP secret), and one another application changes on each login (last_login_on)
        # would change the object's version and send it through every delta; to map one, a
        # reviewer adds it to the SELECT with its attribute line
        values = f"; values {', '.join(column.values)}" if column.values else ""
        draft.unmapped.append(
            f"PATH <-> {column.name}  ({column.sql_type}{values}): no SCIM attribute guessed"
        )
    selected = [table.primary_key[0]] + [a.column for a in attributes] + draft.selected
    draft.selected = list(dict.fromkeys(selected))  # the key is also the query's column: once
    for column in required:
        draft.create.append(f"{column.name} = FILL_IN")
        referred = next((fk for fk in table.foreign_keys if fk.column == column.name), None)
        points = (
            f" (it points at {referred.table}, whose rows are {', '.join(referred.rows)})"
            if referred is not None and referred.rows
            else ""
        )
        draft.create_notes.append(
            f"FILL IN: {column.name} ({column.sql_type}) is NOT NULL without a default and no attribute "
            f"fills it{points}: write the value every new row gets in place of FILL_IN (a number, "
            '"text", true or false; mapper lint refuses FILL_IN, MAP243); or give the column a default, '
            f"or map it to an attribute every create sends, and drop {column.name} from 'create set'"
        )
        warnings.append(
            f"{what}: column {table.name}.{column.name} is required (NOT NULL, no default) and no attribute "
            f"fills it: drafted 'create set {column.name} = FILL_IN' (FILL IN)"
        )
    return draft


#: MySQL's zero date as a column's DEFAULT (``'0000-00-00 00:00:00'``, ``'0000-00-00'``), as the
#: inspector gives it back, quoted or not
_ZERO_DATE = re.compile(r"^'?0000-00-00")


def _time(column: Column, dialect: str) -> bool:
    """Whether ``column`` may hold times: a timestamp or text, or an integer of at least 32 bits
    named as one (Moodle's ``timemodified BIGINT``, seconds since the epoch; not a row version)."""
    if column.kind != "integer":
        return True
    declared = column.sql_type.upper()
    return (
        dialect in EPOCH_NOW
        and declared.startswith(("BIGINT", "INT"))
        and not any(word in key(column.name) for word in ("version", "count", "seq"))
    )


#: the least number of milliseconds since the epoch an integer time column may hold: 10^11
#: seconds are in the year 5138, 10^11 milliseconds in 1973


def _millis(column: Column) -> bool:
    """Whether ``column``, an integer named as a time, holds milliseconds since the epoch (Java's
    ``System.currentTimeMillis()``: Keycloak's ``created_timestamp``), by its largest value."""
    return column.kind == "integer" and column.largest is not None and column.largest >= MILLIS


def _seconds(draft: ObjectDraft, column: Column) -> str:
    """The import's name for ``column``: its own, or, for milliseconds, ``COLUMN_seconds``, an
    expression selecting it in seconds (the column itself stays writable by ``create set``)."""
    if not _millis(column):
        return column.name
    alias = column.name + ("_SECONDS" if column.name.isupper() else "_seconds")
    draft.millis[alias] = column.name
    return alias


def _epoch_note(column: Column) -> str:
    if column.kind != "integer":
        return ""
    if _millis(column):
        return (
            f"guessed: {column.name} ({column.sql_type}) holds times as milliseconds since the "
            f"epoch (its rows hold up to {column.largest}): the import reads it in seconds"
        )
    return f"guessed: {column.name} ({column.sql_type}) holds times as seconds since the epoch"


def _blank(attribute: Attribute, column: Column) -> bool:
    """Whether ``attribute``, a plain text attribute, maps a ``NOT NULL DEFAULT ''`` text column
    (``null ""``: MAP319 warns of one mapped without it)."""
    plain = not attribute.negated and not any(
        w in attribute.tail.split() for w in ("required", "reference", "map")
    )
    return plain and column.kind == "text" and empty_text_default(column.default)


def _days(column: Column) -> bool:
    """Whether ``column`` holds days (``DATE``), not times."""
    return column.kind == "timestamp" and column.sql_type.upper().split("(")[0].strip() == "DATE"


def _stamp(column: Column) -> str:
    """``COLUMN``, or ``COLUMN = sql\"\"\"DEFAULT\"\"\"`` for text times (SQLite) whose default
    writes them in a form of its own (``strftime('%Y-%m-%dT%H:%M:%fZ', 'now')``): text compares
    as text, so the gateway's stamps must look like the column's other values."""
    default = column.default or ""
    if column.kind == "text" and "strftime(" in default.lower() and '"""' not in default:
        return f'{column.name} = sql"""{default.strip()}"""'
    return column.name


def cascades(owner: ObjectDraft, multi: Multi, fk: ForeignKey, table: str) -> None:
    """Say so when ``multi``'s table has no ``ON DELETE CASCADE`` to ``owner``'s row: the delete
    derived from ``write table`` removes those rows itself, in its transaction, with the multi's
    remove (which the scaffold writes as a plain ``DELETE``) before the row (a soft delete ends
    memberships itself, and hides child rows with their owner). Nothing is left to fill in, so
    this is a note, not a warning."""
    if fk.cascades or owner.delete != "row":
        return
    what = "a user" if owner.name == "User" else "a group"
    text = (
        f"{multi.table}.{fk.column} has no ON DELETE CASCADE to {table}: a DELETE of {what} removes "
        f"its rows of {multi.table} first, in the same transaction, with the remove below"
    )
    multi.note = f"{multi.note}\n{text}".strip()
