"""How derived statements treat the shapes an import query can have, and what they bind."""

from __future__ import annotations

import sqlite3

import pytest
from sqlalchemy import text as sql_text

from mapper.compiler.dialects import find_text_parameters
from mapper.diagnostics import Severity
from tests.support.compiling import USER, compile_clean, compile_text


def with_import(sql: str, text: str = USER) -> str:
    old = "SELECT id, login, mail, lower(login) AS folded FROM people"
    assert old in text
    return text.replace(old, sql)


def test_existing_where_is_anded_and_predicates_use_the_expression() -> None:
    text = with_import(
        "SELECT p.id AS id, login, mail, lower(login) AS folded FROM people p WHERE a = 1 OR b = 2"
    )
    user = compile_clean(text).object("User")
    assert user.by_anchor.sql.endswith("WHERE (a = 1 OR b = 2) AND p.id = :anchor")
    assert user.by_query.sql.endswith("WHERE (a = 1 OR b = 2) AND LOWER(login) = LOWER(:value)")


def test_existing_order_by_is_replaced_by_the_anchor() -> None:
    text = with_import("SELECT id, login, mail, lower(login) AS folded FROM people ORDER BY login DESC")
    user = compile_clean(text).object("User")
    assert user.import_all.sql.endswith("FROM people ORDER BY id")
    assert "ORDER BY" not in user.by_anchor.sql


@pytest.mark.parametrize(
    "sql",
    [
        "SELECT id, login, mail, lower(login) AS folded FROM people"
        " UNION SELECT id, login, mail, login FROM old",
        "SELECT DISTINCT id, login, mail, lower(login) AS folded FROM people",
        "SELECT id, MAX(login) AS login, MAX(mail) AS mail, 'x' AS folded FROM people GROUP BY id",
        "SELECT id, login, mail, lower(login) AS folded FROM people LIMIT 10",
    ],
    ids=["union", "distinct", "group-by", "limit"],
)
def test_other_shapes_are_wrapped_as_a_subquery(sql: str) -> None:
    text = with_import(sql).replace("  write table people\n", "")
    text = text.replace("userName <-> login", "userName <- login").replace("<-> mail", "<- mail")
    user = compile_clean(text).object("User")
    assert user.by_anchor.sql.startswith("SELECT src.id, src.login, src.mail, src.folded FROM (")
    assert user.by_anchor.sql.endswith(") AS src WHERE src.id = :anchor")
    assert user.import_page.sql.endswith("WHERE src.id > :after ORDER BY src.id LIMIT :limit")
    # and they run
    db = sqlite3.connect(":memory:")
    db.execute("CREATE TABLE people (id INTEGER PRIMARY KEY, login TEXT, mail TEXT)")
    db.execute("CREATE TABLE old (id INTEGER PRIMARY KEY, login TEXT, mail TEXT)")
    db.execute("INSERT INTO people VALUES (1, 'a', 'a@x'), (2, 'b', 'b@x')")
    for stmt in (user.import_all, user.by_anchor, user.import_page, user.by_query):
        db.execute(stmt.sql, {"anchor": 1, "after": 0, "limit": 5, "value": "A"}).fetchall()


def test_placeholders_are_colon_names_in_every_dialect() -> None:
    text = USER.replace("dialect sqlite", "dialect postgres")
    text = with_import("SELECT id, login, mail, lower(login)::text AS folded FROM people", text)
    for write in ("sqlite", "postgres", "mysql", "tsql", "oracle"):
        user = compile_clean(text, write).object("User")
        for stmt in (user.by_anchor, user.import_page, user.insert, user.update, user.delete):
            assert stmt is not None
            assert "%(" not in stmt.sql and "::" not in stmt.sql and "?" not in stmt.sql
            assert find_text_parameters(stmt.sql) == stmt.params


@pytest.mark.parametrize(
    "sql",
    [
        "a = :x",
        ":x",
        "a::int",
        "x:y",
        "'\\:x'",
        ":x::text",
        ":x:y",
        "a=:x AND b=:x OR c=:y",
        "(:a,:b)",
        "\u00fc:\u00e9 = :\u00f1ame",
        "TOP (:limit)",
        "::x :y",
    ],
)
def test_text_parameters_are_the_binds_sqlalchemy_finds(sql: str) -> None:
    assert find_text_parameters(sql) == tuple(sql_text(sql).compile().params)


def test_derived_writes_bind_column_names() -> None:
    user = compile_clean(USER).object("User")
    assert user.insert is not None and user.update is not None
    assert user.insert.sql == "INSERT INTO people (login, mail) VALUES (:login, :mail) RETURNING id"
    assert user.update.sql == "UPDATE people SET login = :login, mail = :mail WHERE id = :anchor"
    assert user.insert.params == ("login", "mail")
    (folded,) = [a for a in user.attributes if a.column == "folded"]
    assert folded.target_column is None and folded.direction == "import"


@pytest.mark.parametrize(
    ("write", "returning", "clause"),
    [
        ("sqlite", "returning", "RETURNING id"),
        ("postgres", "returning", "RETURNING id"),
        ("tsql", "returning", "OUTPUT INSERTED.id"),
        ("mysql", "lastrowid", None),
        ("oracle", "query", None),
    ],
)
def test_generated_anchor_comes_back_per_dialect(write: str, returning: str, clause: str | None) -> None:
    insert = compile_clean(USER, write).object("User").insert
    assert insert is not None and insert.returning == returning
    if clause:
        assert clause in insert.sql
    else:
        assert "RETURNING" not in insert.sql and "OUTPUT" not in insert.sql


def test_uuid_anchor_is_inserted_as_anchor() -> None:
    text = USER.replace("anchor id generated by database", "anchor id uuid")
    insert = compile_clean(text).object("User").insert
    assert insert is not None
    assert insert.sql == "INSERT INTO people (login, mail, id) VALUES (:login, :mail, :anchor)"
    assert insert.returning is None


def test_anchor_from_a_mapped_column_is_bound_once() -> None:
    text = USER.replace("anchor id generated by database", "anchor login from userName")
    text = with_import("SELECT login, mail, lower(login) AS folded FROM people", text)
    user = compile_clean(text).object("User")
    assert user.anchor_attribute == "userName"
    assert user.insert is not None and user.update is not None
    assert user.insert.sql == "INSERT INTO people (login, mail) VALUES (:login, :mail)"
    assert user.update.sql == "UPDATE people SET mail = :mail WHERE login = :anchor"


def test_case_exact_query_compares_directly() -> None:
    text = USER.replace("userName <-> login required", "userName <-> login required caseExact")
    assert compile_clean(text).object("User").by_query.sql.endswith("WHERE login = :value")


def test_export_only_attribute_writes_a_table_column_the_import_selects() -> None:
    text = USER.replace("    nickName <- folded\n", "    nickName <- folded\n    password -> password_hash\n")
    text = text.replace(
        "lower(login) AS folded FROM people", "lower(login) AS folded, password_hash FROM people"
    )
    user = compile_clean(text).object("User")
    (password,) = [a for a in user.attributes if a.path == "password"]
    assert password.column == "password_hash" and password.target_column == "password_hash"
    assert user.insert is not None and ":password_hash" in user.insert.sql
    assert user.update is not None and ":password_hash" in user.update.sql


def test_an_export_only_column_the_import_does_not_select_is_map219() -> None:
    # every update writes every written column, an unchanged one with the value the import read:
    # one it does not read was written NULL by any PATCH that did not give it (a password hash)
    text = USER.replace("    nickName <- folded\n", "    nickName <- folded\n    password -> password_hash\n")
    plan, diagnostics = compile_text(text)
    assert plan is None
    (d,) = diagnostics
    assert d.code == "MAP219" and d.severity == Severity.ERROR
    assert d.message.startswith("password is written to 'password_hash', which the import does not select")
    assert d.hint is not None and d.hint.startswith("select password_hash in the import")
    read_only = USER.replace("  write table people\n", "").replace(
        "    nickName <- folded\n", "    nickName <- folded\n    password -> password_hash\n"
    )
    assert {d.code for d in compile_text(read_only)[1]} == set()  # no update: nothing to lose


def test_deprovision_defaults() -> None:
    user = compile_clean(USER).object("User")
    assert user.disable.action == "ignore" and user.disable.statement is None
    assert user.deprovision_delete.action == "row" and user.deprovision_delete.statement == user.delete
    read_only = compile_clean(USER.replace("  write table people\n", "")).object("User")
    assert read_only.deprovision_delete.action == "ignore"


def test_delta_table_statements() -> None:
    text = USER.replace(
        "  write table people\n", "  write table people\n  delta table people_log { sequence seq  type op }\n"
    )
    delta = compile_clean(text, "tsql").object("User").delta
    assert delta.kind == "table" and delta.query is not None and delta.max_sequence is not None
    assert delta.query.sql == "SELECT seq, id, op FROM people_log WHERE seq > :since ORDER BY seq"
    assert delta.max_sequence.sql == "SELECT MAX(seq) FROM people_log"
    assert (delta.sequence_column, delta.anchor_column, delta.change_type_column) == ("seq", "id", "op")


@pytest.mark.parametrize(
    ("write", "table"),
    [("sqlite", '"order"'), ("postgres", '"order"'), ("mysql", "`order`"), ("tsql", "[order]")],
)
def test_reserved_names_from_the_mapping_are_quoted(write: str, table: str) -> None:
    text = USER.replace("write table people", "write table order").replace("FROM people", 'FROM "order" AS o')
    user = compile_clean(text, write).object("User")
    assert user.insert is not None and f"INSERT INTO {table} (login, mail)" in user.insert.sql
    if write == "tsql":  # the table is named again where the new anchor is read back
        assert f"FROM {table} AS written" in user.insert.sql


def test_quoted_names_stay_quoted_in_derived_writes() -> None:
    text = USER.replace("dialect sqlite", "dialect postgres").replace(
        "write table people", "write table Accounts"
    )
    text = with_import(
        'SELECT "Id" AS id, "Login" AS login, mail, lower(mail) AS folded FROM "Accounts" a', text
    )
    text = text.replace("  write table Accounts\n", '  write table Accounts\n  disable set Login = "x"\n')
    user = compile_clean(text, "postgres").object("User")
    assert user.insert is not None and user.update is not None and user.delete is not None
    assert user.insert.sql == 'INSERT INTO "Accounts" ("Login", mail) VALUES (:login, :mail) RETURNING "Id"'
    assert user.update.sql == 'UPDATE "Accounts" SET "Login" = :login, mail = :mail WHERE "Id" = :anchor'
    assert user.disable.statement is not None
    assert user.disable.statement.sql == """UPDATE "Accounts" SET "Login" = 'x' WHERE "Id" = :anchor"""


def test_derived_writes_bind_the_attribute_map_column_not_the_table_column() -> None:
    """plan.py: parameters are named after the attribute map's column (the import's output name)."""
    text = with_import("SELECT id, login, mail_address AS mail, lower(login) AS folded FROM people")
    user = compile_clean(text).object("User")
    (mail,) = [a for a in user.attributes if a.column == "mail"]
    assert mail.target_column == "mail_address"
    assert user.insert is not None and user.update is not None
    assert user.insert.sql == "INSERT INTO people (login, mail_address) VALUES (:login, :mail) RETURNING id"
    assert user.update.sql == "UPDATE people SET login = :login, mail_address = :mail WHERE id = :anchor"


def test_colons_in_literals_and_quoted_names_are_not_parameters() -> None:
    from sqlalchemy import create_engine, text

    sql = """SELECT id, login, mail, 'at :noon' || "odd :name" AS folded FROM people"""
    user = compile_clean(with_import(sql)).object("User")
    assert user.by_anchor.params == ("anchor",)
    engine = create_engine("sqlite://")
    with engine.connect() as db:
        db.exec_driver_sql("""CREATE TABLE people (id INTEGER, login TEXT, mail TEXT, "odd :name" TEXT)""")
        db.exec_driver_sql("""INSERT INTO people VALUES (1, 'a', 'a@x', '!')""")
        row = db.execute(text(user.by_anchor.sql), {"anchor": 1}).mappings().one()
    assert row["folded"] == "at :noon!"
