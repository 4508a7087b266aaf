"""``mapper init`` as a command, and the guesses the five database schemas do not cover: what it
says on stderr, what it refuses with a clear message (exit 2), what it leaves to the user in a
``FILL IN`` comment while the mapping still lints, and that a password never reaches the file."""

from __future__ import annotations

import re
import sqlite3
from pathlib import Path
from types import SimpleNamespace

import pytest

from mapper.cli import EXIT_OK, EXIT_USAGE, main
from mapper.diagnostics import Severity
from mapper.lint import lint_text
from mapper.scaffold import ScaffoldError, scaffold
from tests.support.databases import load_sql, reset_database
from tests.support.scim import CORE_USER, scim_client


def sqlite_db(tmp_path: Path, ddl: str, name: str = "app.db") -> str:
    path = tmp_path / name
    connection = sqlite3.connect(path)
    connection.executescript(ddl)
    connection.close()
    return f"sqlite:///{path}"


def errors(text: str, url: str) -> list[str]:
    found = lint_text(text, "init.map", db=url).diagnostics
    return [str(d) for d in found if d.severity is Severity.ERROR]


USERS = """
CREATE TABLE users (
  id INTEGER PRIMARY KEY, login TEXT NOT NULL UNIQUE, email TEXT, active INTEGER NOT NULL DEFAULT 1
);
"""


def test_init_writes_the_file_and_says_where(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    url = sqlite_db(tmp_path, USERS)
    out = tmp_path / "mappings" / "app.map"
    assert main(["init", "--from-db", url, "-o", str(out)]) == EXIT_OK
    text = out.read_text(encoding="utf-8")
    assert "object User from app {" in text and re.search(r"userName +<-> login", text)
    assert f"wrote {out}; review it" in capsys.readouterr().err  # nothing to fill in
    assert not errors(text, url)


def test_init_keeps_an_existing_file_unless_forced(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    url = sqlite_db(tmp_path, USERS)
    out = tmp_path / "app.map"
    out.write_text("# mine\n", encoding="utf-8")
    assert main(["init", "--from-db", url, "-o", str(out)]) == EXIT_USAGE
    assert "exists; pass --force" in capsys.readouterr().err
    assert out.read_text(encoding="utf-8") == "# mine\n"
    assert main(["init", "--from-db", url, "-o", str(out), "--force"]) == EXIT_OK
    assert "object User" in out.read_text(encoding="utf-8")


def test_init_prints_to_stdout_without_output(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    url = sqlite_db(tmp_path, USERS)
    assert main(["init", "--from-db", url]) == EXIT_OK
    assert "object User from app {" in capsys.readouterr().out


def test_an_unreachable_database_is_exit_2_without_its_password(capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["init", "--from-db", "postgresql://scim:s3cret-pw@127.0.0.1:1/hr"])
    err = capsys.readouterr().err
    assert code == EXIT_USAGE
    assert "cannot connect" in err and "127.0.0.1:1/hr" in err
    assert "s3cret-pw" not in err


def test_a_database_without_a_user_table_is_refused_with_what_is_missing(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    url = sqlite_db(tmp_path, "CREATE TABLE invoices (id INTEGER PRIMARY KEY, amount NUMERIC);")
    assert main(["init", "--from-db", url]) == EXIT_USAGE
    err = capsys.readouterr().err
    assert "no table looks like the users" in err and "--table" in err and "invoices" in err


def test_a_table_named_with_table_must_exist(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    url = sqlite_db(tmp_path, USERS)
    assert main(["init", "--from-db", url, "--table", "people"]) == EXIT_USAGE
    assert "no table 'people'" in capsys.readouterr().err


def test_an_ambiguous_user_table_is_reported_and_table_chooses(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    url = sqlite_db(
        tmp_path,
        USERS
        + "CREATE TABLE accounts (account_id INTEGER PRIMARY KEY, username TEXT NOT NULL UNIQUE, mail TEXT);",
    )
    assert main(["init", "--from-db", url]) == EXIT_OK
    captured = capsys.readouterr()
    assert "User: guessed table 'users'; alternatives: 'accounts' (choose with --table)" in captured.err
    assert main(["init", "--from-db", url, "--table", "accounts"]) == EXIT_OK
    text = capsys.readouterr().out
    assert "FROM accounts" in text and "FROM users" not in text


def test_a_key_the_gateway_cannot_fill_is_left_to_fill_in_and_lint_refuses_it(tmp_path: Path) -> None:
    url = sqlite_db(tmp_path, "CREATE TABLE users (code VARCHAR(8) PRIMARY KEY, login TEXT UNIQUE);")
    result = scaffold(url)
    assert "  anchor code from PATH\n" in result.text
    assert "# FILL IN: the primary key code (VARCHAR(8)) is neither generated" in result.text
    assert any("users.code (VARCHAR(8))" in w and "(FILL IN)" in w for w in result.warnings)
    line = result.text.splitlines().index("  anchor code from PATH") + 1
    refused = f"init.map:{line}:20: error[MAP140] unknown SCIM attribute 'PATH' for User"
    assert errors(result.text, url) == [refused]


def test_a_key_of_bytes_is_refused(tmp_path: Path) -> None:
    url = sqlite_db(tmp_path, "CREATE TABLE users (code BLOB PRIMARY KEY, login TEXT UNIQUE);")
    with pytest.raises(ScaffoldError, match=r"primary key users\.code \(BLOB\) holds bytes"):
        scaffold(url)


def test_a_membership_found_by_column_names_says_the_delete_removes_its_rows(tmp_path: Path) -> None:
    """No ON DELETE CASCADE: the gateway's delete removes the membership rows itself (with the
    remove it drafts), so there is nothing to fill in and nothing to warn of."""
    url = sqlite_db(
        tmp_path,
        """
        CREATE TABLE staff (staff_id INTEGER PRIMARY KEY, login TEXT NOT NULL UNIQUE);
        CREATE TABLE teams (team_id INTEGER PRIMARY KEY, title TEXT NOT NULL UNIQUE);
        CREATE TABLE staff_teams (
          staff_id INTEGER NOT NULL, team_id INTEGER NOT NULL, PRIMARY KEY (staff_id, team_id)
        );
        """,
    )
    result = scaffold(url)
    assert "multi members reference User {" in result.text
    assert "found through its column names (no foreign keys declared)" in result.text
    said = " ".join(result.text.replace("\n  #  ", " ").split())
    assert (
        "# staff_teams.staff_id has no ON DELETE CASCADE to staff: a DELETE of a user removes its rows"
        " of staff_teams first, in the same transaction, with the remove below"
    ) in said
    assert "staff_teams.team_id has no ON DELETE CASCADE to teams: a DELETE of a group removes" in said
    assert "FILL IN" not in result.text.split("object Group")[1]
    assert not any("CASCADE" in w for w in result.warnings)
    assert not errors(result.text, url)


def test_a_required_column_no_attribute_fills_is_drafted_as_create_set_to_fill_in(tmp_path: Path) -> None:
    """A NOT NULL column without a default that no SCIM attribute fills (Moodle's mnethostid,
    confirmed) is drafted as 'create set COLUMN = FILL_IN', which lint refuses until a value is
    written (MAP243); filled in, every create inserts it. It was a required custom attribute every
    client had to be configured to send."""
    url = sqlite_db(
        tmp_path,
        "CREATE TABLE users (id INTEGER PRIMARY KEY, login TEXT NOT NULL UNIQUE, cost_code TEXT NOT NULL, "
        "level INTEGER NOT NULL, nick TEXT);",
    )
    result = scaffold(url)
    text = result.text
    assert result.fill_in == 3  # the two columns, and no active flag
    assert "schema ext" not in text and "ext." not in text
    assert "  create set cost_code = FILL_IN, level = FILL_IN\n" in text
    flat = " ".join(line.strip("# ") for line in text.splitlines())  # comments wrap
    assert "FILL IN: cost_code (TEXT) is NOT NULL without a default and no attribute fills it" in flat
    assert "# PATH <-> nick  (TEXT): no SCIM attribute guessed" in text
    assert any("drafted 'create set cost_code = FILL_IN'" in w for w in result.warnings)
    refused = lint_text(text, "init.map", db=url).diagnostics
    assert [(d.code, d.message) for d in refused if d.severity is Severity.ERROR] == [
        (
            "MAP243",
            f"User create set: the value of {c} names the column FILL_IN, and an insert's values read no row",
        )
        for c in ("cost_code", "level")
    ]
    filled = text.replace("cost_code = FILL_IN, level = FILL_IN", 'cost_code = "CC-1", level = 3')
    assert not errors(filled, url)


def test_a_required_bytes_column_is_refused_with_what_to_change(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A NOT NULL bytes column without a default was drafted as a required binary attribute, a
    draft its own ``lint --db`` failed (MAP312), and left out it fails MAP303: the gateway can fill
    it neither way, so init says so, as it does for a key it cannot fill. Bytes that may be NULL or
    have a default are left out of the draft, which lints clean."""
    ddl = "CREATE TABLE users (id INTEGER PRIMARY KEY, login TEXT NOT NULL UNIQUE, photo BLOB{})"
    url = sqlite_db(tmp_path, ddl.format(" NOT NULL"))
    assert main(["init", "--from-db", url]) == EXIT_USAGE
    err = capsys.readouterr().err
    assert "users.photo holds bytes (BLOB) and is required (NOT NULL, no default)" in err
    assert "give the column a default or allow NULL" in err
    for tail, name in ((" NOT NULL DEFAULT X''", "default.db"), ("", "nullable.db")):
        url = sqlite_db(tmp_path, ddl.format(tail), name)
        result = scaffold(url)
        assert "# PATH <-> photo  (BLOB): no SCIM attribute guessed" in result.text
        assert not errors(result.text, url)


@pytest.mark.parametrize(
    ("given", "family"), [("Given", "Family"), ("given_name", "sn"), ("FirstName", "Surname")]
)
def test_name_columns_are_guessed_by_their_short_names_too(tmp_path: Path, given: str, family: str) -> None:
    """A hand-made schema (``Staff(Login, Given, Family)``) left both names as 'no SCIM attribute
    guessed'; ``sn`` is LDAP's surname."""
    url = sqlite_db(
        tmp_path,
        "CREATE TABLE Staff (StaffID INTEGER PRIMARY KEY, Login TEXT NOT NULL UNIQUE, "
        f"{given} TEXT, {family} TEXT);",
    )
    text = scaffold(url).text
    assert re.search(rf"name\.givenName +<-> {given}\n", text), text
    assert re.search(rf"name\.familyName +<-> {family}\n", text), text
    assert not errors(text, url)


def test_a_setting_about_mail_is_no_email_address(tmp_path: Path) -> None:
    """Redmine's ``users.mail_notification`` (``'all'``, ``'only_my_events'``) was drafted as the
    work e-mail: Entra's address would have been written over the user's notification setting."""
    url = sqlite_db(
        tmp_path,
        "CREATE TABLE users (id INTEGER PRIMARY KEY, login TEXT NOT NULL UNIQUE, firstname TEXT, "
        "mail_notification VARCHAR(255) NOT NULL DEFAULT '');",
    )
    text = scaffold(url).text
    assert "emails" not in text.replace("# PATH <-> mail_notification", ""), text
    assert "# PATH <-> mail_notification  (VARCHAR(255)): no SCIM attribute guessed" in text
    assert not errors(text, url)


def test_a_status_without_declared_codes_is_left_to_fill_in(tmp_path: Path) -> None:
    url = sqlite_db(
        tmp_path, "CREATE TABLE users (id INTEGER PRIMARY KEY, login TEXT NOT NULL UNIQUE, status TEXT);"
    )
    text = scaffold(url).text
    assert "# FILL IN: status may say whether a user is active" in text
    assert (
        "its codes are neither declared (no ENUM or CHECK) nor read from its rows (none, or more than 20)"
        in (" ".join(line.strip("# ") for line in text.splitlines()))
    )
    assert "active  " not in text
    assert not errors(text, url)


def test_status_codes_nothing_declares_are_read_from_the_rows(tmp_path: Path) -> None:
    url = sqlite_db(
        tmp_path,
        "CREATE TABLE users (id INTEGER PRIMARY KEY, login TEXT NOT NULL UNIQUE, status CHAR(1) NOT NULL);"
        "INSERT INTO users (login, status) VALUES ('a', 'A'), ('b', 'T'), ('c', 'D'), ('d', 'A');",
    )
    text = scaffold(url).text
    assert "# guessed: the meaning of status's codes (seen in its rows; none are declared): A, D, T" in text
    assert re.search(r'active +<-> status +map \{ true: "A", false: "T" \} else false', text)
    assert 'delete set status = "D"' in text
    assert not errors(text, url)


def test_status_codes_that_say_nothing_are_left_to_fill_in(tmp_path: Path) -> None:
    url = sqlite_db(
        tmp_path,
        "CREATE TABLE users (id INTEGER PRIMARY KEY, login TEXT NOT NULL UNIQUE, status TEXT);"
        "INSERT INTO users (login, status) VALUES ('a', 'NEW'), ('b', 'OLD');",
    )
    text = scaffold(url).text
    flat = " ".join(line.strip("# ") for line in text.splitlines())  # comments wrap
    assert "FILL IN: status may say whether a user is active, but its codes (NEW, OLD) do not say" in flat
    assert not errors(text, url)


def test_an_integer_status_is_named_in_its_fill_in(tmp_path: Path) -> None:
    """Redmine's ``status INTEGER`` (1 active, 2 registered, 3 locked): the draft said no active
    flag was found, "a status code" among what it looked for, though the table has one."""
    url = sqlite_db(
        tmp_path,
        "CREATE TABLE users (id INTEGER PRIMARY KEY, login TEXT NOT NULL UNIQUE, "
        "status INTEGER NOT NULL DEFAULT 1);"
        "INSERT INTO users (login, status) VALUES ('a', 1), ('b', 3), ('c', 1);",
    )
    text = scaffold(url).text
    flat = " ".join(line.strip("# ") for line in text.splitlines())  # comments wrap
    assert "no active flag found" not in flat
    assert "FILL IN: status may say whether a user is active, but its codes (1, 3) do not say" in flat
    assert "active <-> status map { true: ?, false: ? } else false" in flat
    assert not errors(text, url)


@pytest.mark.anyio
async def test_a_required_column_with_a_default_is_flagged_as_what_it_does(tmp_path: Path) -> None:
    """A create leaves an absent attribute out of its INSERT, so the column's default applies
    (WordPress's ``display_name NOT NULL DEFAULT ''``, Moodle's ``lang NOT NULL DEFAULT 'en'``);
    only a change that removes the attribute is refused. The scaffold said the default never
    applied and that every create must send the attribute: no doc step showed that, and a new
    user filled in values the database already had."""
    url = sqlite_db(
        tmp_path,
        "CREATE TABLE users (id INTEGER PRIMARY KEY, login TEXT NOT NULL UNIQUE, "
        "display_name TEXT NOT NULL DEFAULT 'nobody', nick_name TEXT, title TEXT NOT NULL);",
    )
    result = scaffold(url)
    flat = " ".join(line.strip("# ") for line in result.text.splitlines())  # comments wrap
    assert (
        "guessed: display_name is NOT NULL: a create without displayName gets the column's default, "
        "but a change that removes displayName is refused (400)"
    ) in flat
    assert "guessed: title is NOT NULL without a default, so a create or change without title is" in flat
    assert "User: title is NOT NULL; every create must send title" in result.warnings
    assert not any("display_name" in w for w in result.warnings)
    assert "nick_name is NOT NULL" not in result.text
    assert not errors(result.text, url)

    path = tmp_path / "app.map"
    path.write_text(result.text, encoding="utf-8")
    db = SimpleNamespace(url=url, dialect="sqlite")
    async with scim_client(db, mapping=path, environ={"APP_DATABASE_URL": url}) as client:
        created = await client.post("/Users", json={"schemas": [CORE_USER], "userName": "ada", "title": "x"})
        assert created.status_code == 201, created.text
        assert created.json()["displayName"] == "nobody"
        untitled = await client.post("/Users", json={"schemas": [CORE_USER], "userName": "bob"})
        assert untitled.status_code == 400, untitled.text


@pytest.mark.anyio
async def test_users_kept_beside_other_kinds_of_rows_are_served_and_created_alone(tmp_path: Path) -> None:
    """Redmine keeps users, groups and built-ins (``AnonymousUser``, ``GroupAnonymous``) in one
    table told apart by ``type``. The scaffold served every row as a user (a group named
    'Developers' as the user with an empty userName, the anonymous user too) and created users
    with no ``type`` (Redmine could not load them), and with no ``created_on``, which has no
    default."""
    url = sqlite_db(
        tmp_path,
        "CREATE TABLE users (id INTEGER PRIMARY KEY, login VARCHAR(255) NOT NULL DEFAULT '', "
        "lastname VARCHAR(255) NOT NULL DEFAULT '', created_on TIMESTAMP, type VARCHAR(255));"
        "INSERT INTO users (login, lastname, type) VALUES ('admin', 'Admin', 'User'), "
        "('', 'Anonymous', 'AnonymousUser'), ('', 'Developers', 'Group');",
    )
    result = scaffold(url)
    assert "    WHERE type = 'User'\n" in result.text, result.text
    assert 'create set type = "User", created_on = CURRENT_TIMESTAMP' in result.text
    assert "User: only the rows of users whose type is 'User' are users" in result.warnings
    assert not errors(result.text, url)

    path = tmp_path / "app.map"
    path.write_text(result.text, encoding="utf-8")
    db = SimpleNamespace(url=url, dialect="sqlite")
    async with scim_client(db, mapping=path, environ={"APP_DATABASE_URL": url}) as client:
        listed = await client.get("/Users")
        assert [u["userName"] for u in listed.json()["Resources"]] == ["admin"], listed.text
        assert (await client.get("/Users/3")).status_code == 404
        created = await client.post("/Users", json={"schemas": [CORE_USER], "userName": "ada"})
        assert created.status_code == 201, created.text
        assert "created" in created.json()["meta"]
    connection = sqlite3.connect(tmp_path / "app.db")
    rows = connection.execute("SELECT type, created_on IS NOT NULL FROM users WHERE login = 'ada'").fetchall()
    connection.close()
    assert rows == [("User", 1)]


@pytest.mark.anyio
async def test_a_child_table_of_emails_without_a_type_takes_entras_work_address(tmp_path: Path) -> None:
    """A table of e-mail addresses with no type column (Redmine's ``email_addresses``) was drafted
    without one, and every create from Entra, whose work address says ``type: work``, was 400
    (``emails.type: cannot be stored``); with required ``created_on``/``updated_on`` (no
    default) it was not drafted at all. Its items now read as work addresses, and the add sets the
    times."""
    url = sqlite_db(
        tmp_path,
        "CREATE TABLE users (id INTEGER PRIMARY KEY, login TEXT NOT NULL UNIQUE);"
        "CREATE TABLE email_addresses (id INTEGER PRIMARY KEY, user_id INTEGER NOT NULL REFERENCES "
        "users (id), address VARCHAR(255) NOT NULL, is_default BOOLEAN NOT NULL DEFAULT 0, "
        "created_on TIMESTAMP NOT NULL, updated_on TIMESTAMP NOT NULL);",
    )
    result = scaffold(url)
    assert "is_default AS is_primary, 'work' AS type FROM email_addresses" in result.text, result.text
    assert "VALUES (:anchor, :value, :primary, CURRENT_TIMESTAMP, CURRENT_TIMESTAMP)" in result.text
    assert not errors(result.text, url)

    path = tmp_path / "app.map"
    path.write_text(result.text, encoding="utf-8")
    db = SimpleNamespace(url=url, dialect="sqlite")
    entra = {"primary": True, "type": "work", "value": "ada@example.org"}
    async with scim_client(db, mapping=path, environ={"APP_DATABASE_URL": url}) as client:
        created = await client.post(
            "/Users", json={"schemas": [CORE_USER], "userName": "ada", "emails": [entra]}
        )
        assert created.status_code == 201, created.text
        assert created.json()["emails"] == [entra]
    connection = sqlite3.connect(tmp_path / "app.db")
    rows = connection.execute(
        "SELECT address, is_default, created_on IS NOT NULL FROM email_addresses"
    ).fetchall()
    connection.close()
    assert rows == [("ada@example.org", 1, 1)]


def test_the_gateways_own_change_log_is_not_a_table_to_map(tmp_path: Path) -> None:
    url = sqlite_db(
        tmp_path,
        USERS + "CREATE TABLE mapper_changes (seq INTEGER PRIMARY KEY, origin TEXT NOT NULL, login TEXT);",
    )
    result = scaffold(url)
    assert "mapper_changes" not in result.text and not any("mapper_changes" in w for w in result.warnings)


def test_many_values_are_no_codes(tmp_path: Path) -> None:
    rows = ", ".join(f"('u{i}', 'S{i}')" for i in range(21))
    url = sqlite_db(
        tmp_path,
        "CREATE TABLE users (id INTEGER PRIMARY KEY, login TEXT NOT NULL UNIQUE, status TEXT, "
        "status_reason TEXT);"
        f"INSERT INTO users (login, status) VALUES {rows};",
    )
    text = scaffold(url).text
    flat = " ".join(line.strip("# ") for line in text.splitlines())  # comments wrap
    assert "its codes are neither declared (no ENUM or CHECK) nor read from its rows" in flat
    assert "# PATH <-> status_reason  (TEXT): no SCIM attribute guessed" in text


def test_a_login_that_is_not_unique_is_used_and_flagged(tmp_path: Path) -> None:
    url = sqlite_db(tmp_path, "CREATE TABLE users (id INTEGER PRIMARY KEY, username TEXT NOT NULL);")
    text = scaffold(url).text
    assert "# guessed: username is not declared unique; make it so, userName must be" in text
    assert not errors(text, url)


@pytest.mark.postgres
def test_a_postgres_schema_and_a_password(postgres_url: str, tmp_path: Path) -> None:
    """--schema reads that schema and qualifies its tables; the password in the URL is neither in
    the file nor in the warnings, and the header says which variable to set."""
    reset_database(postgres_url)
    crm = Path(__file__).parent / "schemas" / "lob_accounts" / "schema.postgres.sql"
    script = "CREATE SCHEMA crm; SET search_path TO crm;\n" + crm.read_text(encoding="utf-8")
    ddl = tmp_path / "crm.sql"
    ddl.write_text(script, encoding="utf-8")
    load_sql(postgres_url, [ddl])
    with_password = postgres_url.replace("postgres@", "postgres:hunter2-pw@", 1)
    result = scaffold(with_password, schema="crm")
    assert "hunter2-pw" not in result.text and not any("hunter2-pw" in w for w in result.warnings)
    assert "FROM crm.accounts" in result.text and "write table crm.accounts" in result.text
    name = postgres_url.rsplit("/", 1)[1]
    assert f"The password is not written here: set {name.upper()}_DATABASE_URL" in result.text
    assert not errors(result.text, postgres_url)


def test_a_watermark_nothing_maintains_is_stamped_and_a_day_is_no_watermark(tmp_path: Path) -> None:
    """The scaffold drafts ``stamp`` beside ``delta watermark``: without it the gateway's own
    writes never moved the watermark of a table no trigger maintains. A ``DATE`` keeps no time of
    day: it was drafted as the watermark, which misses every change made later on the day of the
    last delta. It is drafted as none, with a FILL IN saying why and what to add."""
    url = sqlite_db(
        tmp_path,
        "CREATE TABLE users (id INTEGER PRIMARY KEY, login TEXT NOT NULL UNIQUE, updated_at TIMESTAMP);",
    )
    text = scaffold(url).text
    assert "  delta watermark updated_at\n" in text and "  stamp updated_at\n}" in text
    assert "the gateway sets it on\n#   each of its writes (stamp)" in text
    assert not errors(text, url)
    days = sqlite_db(
        tmp_path,
        "CREATE TABLE users (id INTEGER PRIMARY KEY, login TEXT NOT NULL UNIQUE, updated_at DATE);",
        "d.db",
    )
    result = scaffold(days)
    text = result.text
    code = "\n".join(line for line in text.splitlines() if not line.lstrip().startswith("#"))
    assert "delta" not in code and "stamp" not in code
    assert "    meta.lastModified <-  updated_at dateTime\n" in text
    said = " ".join(line.strip("# ") for line in text.splitlines())
    assert "FILL IN: no delta watermark: updated_at holds days (DATE)" in said
    assert result.fill_in == 2  # no active flag, no watermark
    assert not errors(text, days)


def test_a_timestamp_is_the_watermark_before_a_day(tmp_path: Path) -> None:
    """``modified DATE`` is named as Entra's sort of last-modified column is, before
    ``changed_at``: it was taken for ``delta watermark`` and ``meta.lastModified``, and the
    timestamp left unmapped. The timestamp is taken, stamped; the day is left unmapped."""
    url = sqlite_db(
        tmp_path,
        "CREATE TABLE users (id INTEGER PRIMARY KEY, login TEXT NOT NULL UNIQUE, modified DATE,"
        " changed_at TIMESTAMP);",
    )
    text = scaffold(url).text
    assert "  delta watermark changed_at\n" in text and "  stamp changed_at\n}" in text
    assert "    meta.lastModified <-  changed_at dateTime\n" in text
    assert "    # PATH <-> modified  (DATE): no SCIM attribute guessed\n" in text
    assert not errors(text, url)


@pytest.mark.anyio
async def test_columns_no_attribute_maps_are_not_read_into_the_cache(tmp_path: Path) -> None:
    """The scaffold selected every column of the user table, mapped or not: a password hash and a
    TOTP secret sat in every cached record, and a column another application moves on each login
    (Redmine's ``last_login_on``) changed the user's version (its ETag) though nothing the gateway
    serves had changed. Only what the mapping uses is selected now."""
    url = sqlite_db(
        tmp_path,
        "CREATE TABLE users (id INTEGER PRIMARY KEY, login TEXT NOT NULL UNIQUE, "
        "hashed_password TEXT, twofa_totp_key TEXT, last_login_on TIMESTAMP);"
        "INSERT INTO users (login, hashed_password, twofa_totp_key) VALUES ('ada', 'x1', 's1');",
    )
    result = scaffold(url)
    select = result.text.split('import sql"""', 1)[1].split('"""', 1)[0]
    assert "hashed_password" not in select and "twofa_totp_key" not in select, result.text
    assert "# PATH <-> hashed_password" in result.text  # still offered to the reviewer
    assert not errors(result.text, url)

    path = tmp_path / "app.map"
    path.write_text(result.text, encoding="utf-8")
    db = SimpleNamespace(url=url, dialect="sqlite")
    versions = []
    for login_time in ("2026-12-07 09:00:00", "2026-12-07 10:00:00"):
        connection = sqlite3.connect(tmp_path / "app.db")
        with connection:
            connection.execute("UPDATE users SET last_login_on = ?", (login_time,))  # another application
        connection.close()
        async with scim_client(db, mapping=path, environ={"APP_DATABASE_URL": url}) as client:
            found = await client.get("/Users/1")
            assert found.status_code == 200, found.text
            versions.append(found.json()["meta"]["version"])
    assert versions[0] == versions[1]


def test_a_columns_own_unique_after_a_length_is_read_on_sqlite(tmp_path: Path) -> None:
    """SQLAlchemy's inspector finds a SQLite column's own ``UNIQUE`` only after a type without
    parentheses: OrangeHRM's ``user_name VARCHAR(40) DEFAULT NULL UNIQUE`` was drafted "not
    declared unique; make it so". Its ``DEFAULT NULL`` was read as a default, so ``date_entered``
    got no ``create set`` (the users the gateway created had no ``meta.created``)."""
    url = sqlite_db(
        tmp_path,
        """CREATE TABLE accounts (
          id INTEGER PRIMARY KEY, user_name VARCHAR(40) DEFAULT NULL UNIQUE,
          date_entered DATETIME DEFAULT NULL, kind VARCHAR(10), code VARCHAR(10),
          CONSTRAINT kind_code UNIQUE (kind, code));""",
    )
    text = scaffold(url).text
    assert "# query: userName, from user_name (unique)\n" in text, text
    assert "not declared unique" not in text, text
    assert "create set date_entered = CURRENT_TIMESTAMP" in text, text
    assert not errors(text, url)


def test_a_status_that_is_a_flag_is_the_active_flag(tmp_path: Path) -> None:
    """OrangeHRM's ``ohrm_user.status TINYINT(1)`` (``BOOLEAN`` here) is 1 for an enabled user:
    the draft said no active flag was found (FILL IN), so Entra's disable changed nothing."""
    url = sqlite_db(
        tmp_path,
        "CREATE TABLE users (id INTEGER PRIMARY KEY, login TEXT NOT NULL UNIQUE, "
        "status BOOLEAN NOT NULL DEFAULT 1);",
    )
    text = scaffold(url).text
    assert re.search(r"\n    active +<-> status +boolean\n", text), text
    assert "no active flag found" not in text, text


def test_the_table_with_the_login_is_the_users_and_the_profile_it_points_at_is_named(
    tmp_path: Path,
) -> None:
    """OrangeHRM keeps its logins in ``ohrm_user`` (``user_name`` unique, ``emp_number`` pointing
    at the employee) and the people's names and addresses in ``hs_hr_employee``, which has no
    login: the employee table looked more like users (its name, names and an email), and was
    drafted the User, ``userName`` from an e-mail not declared unique, ``delete row`` deleting the
    employee (and, by its cascade, the login). The table holding the unique login now wins, and
    the draft says where the names are."""
    url = sqlite_db(
        tmp_path,
        """CREATE TABLE hs_hr_employee (
          emp_number INTEGER PRIMARY KEY, emp_lastname VARCHAR(100) NOT NULL DEFAULT '',
          emp_firstname VARCHAR(100) NOT NULL DEFAULT '', emp_work_email VARCHAR(50),
          job_title_code INTEGER);
        CREATE TABLE ohrm_user (
          id INTEGER PRIMARY KEY, user_role_id INTEGER NOT NULL DEFAULT 2,
          emp_number INTEGER REFERENCES hs_hr_employee (emp_number) ON DELETE CASCADE,
          user_name VARCHAR(40) UNIQUE, deleted BOOLEAN NOT NULL DEFAULT 0);""",
    )
    result = scaffold(url)
    assert "# User: guessed from table ohrm_user " in result.text, result.text
    assert re.search(r"\n    userName +<-> user_name +required unique\n", result.text), result.text
    note = re.sub(r"\n#  +", " ", result.text)
    assert (
        "FILL IN: ohrm_user.emp_number points at hs_hr_employee, which holds its people's names and "
        "addresses (emp_lastname, emp_firstname, emp_work_email): this draft serves none of them"
    ) in note, result.text
    assert [w for w in result.warnings if "guessed table 'ohrm_user', whose unique login" in w]
    assert not errors(result.text, url)


def test_a_required_foreign_key_names_the_rows_it_may_point_at(tmp_path: Path) -> None:
    """OrangeHRM's ``ohrm_user.user_role_id`` is required and has no default: the FILL IN said to
    write "the value every new row gets", and the user had to look up what the roles' keys are.
    It now lists the referred table's rows (a row's name on one line of the comment)."""
    url = sqlite_db(
        tmp_path,
        """CREATE TABLE roles (id INTEGER PRIMARY KEY, name VARCHAR(255) NOT NULL UNIQUE);
        INSERT INTO roles VALUES (1, 'Admin'), (2, 'ESS'), (3, 'Two
        lines');
        CREATE TABLE users (id INTEGER PRIMARY KEY, login TEXT NOT NULL UNIQUE,
          role_id INTEGER NOT NULL REFERENCES roles (id));""",
    )
    text = re.sub(r"\n  #  +", " ", scaffold(url).text)
    assert (
        "no attribute fills it (it points at roles, whose rows are 1 (Admin), 2 (ESS), 3 (Two lines)):"
        in text
    )
    assert "create set role_id = FILL_IN" in text, text


def test_an_employee_table_other_address_and_employment_status_are_not_guessed(tmp_path: Path) -> None:
    """OrangeHRM's ``hs_hr_employee`` chosen with ``--table``: its ``emp_oth_email`` (the other,
    personal address) was drafted as the work e-mail, and ``emp_status``, a key of
    ``ohrm_employment_status`` (full-time, freelance), as a status whose active codes to fill in."""
    url = sqlite_db(
        tmp_path,
        """CREATE TABLE ohrm_employment_status (id INTEGER PRIMARY KEY, name VARCHAR(60) NOT NULL);
        INSERT INTO ohrm_employment_status VALUES (1, 'Full-Time Permanent'), (2, 'Freelance');
        CREATE TABLE hs_hr_employee (
          emp_number INTEGER PRIMARY KEY, emp_firstname VARCHAR(100) NOT NULL DEFAULT '',
          emp_work_email VARCHAR(50) UNIQUE, emp_oth_email VARCHAR(50),
          emp_status INTEGER REFERENCES ohrm_employment_status (id) ON DELETE SET NULL);
        INSERT INTO hs_hr_employee VALUES (1, 'Ada', 'ada@acme.example', 'ada@home.example', 1),
          (2, 'Alan', 'alan@acme.example', NULL, 2);""",
    )
    text = scaffold(url, tables=("hs_hr_employee",)).text
    assert re.search(r"\n    userName +<-> emp_work_email +required unique\n", text), text
    assert not re.search(r"\n    [^#\n]*<-> emp_oth_email", text) and "# PATH <-> emp_oth_email" in text, text
    assert "FILL IN: emp_status" not in text and "no active flag found" in text, text
