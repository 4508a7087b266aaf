"""The cache's fold is the database's: ``keys.lowering`` lowers each value as the database's own
``LOWER`` does, asked of SQLite and PostgreSQL themselves (their look-ups compare
``LOWER(col) = LOWER(:value)``, so the cache's indexes must pair exactly the values they pair)."""

from __future__ import annotations

import pytest

from mapper.runtime.keys import folding, lowering, random_id
from tests.support.databases import HrDatabase

VALUES = [
    "Émile",
    "ÉMILE",
    "ΟΔΟΣ",
    "ΟΔΟΣ ΣΑΣ",
    "οδος",
    "\u212aelvin",
    "İstanbul",
    "STRASSE",
    "Straße",
    "ǅemal",
    "plain",
]
BACKEND = {"sqlite": "sqlite", "postgres": "postgresql"}


@pytest.mark.parametrize("name", ["sqlite", "postgres"])
def test_lowering_is_the_database_lower(request: pytest.FixtureRequest, name: str) -> None:
    database: HrDatabase = request.getfixturevalue(f"hr_{name}")
    lower = lowering(BACKEND[name])
    for value in VALUES:
        ((expected,),) = database.execute("SELECT LOWER(:value)", {"value": value})
        assert lower(value) == expected, value


def test_sqlite_folds_ascii_letters_only_and_postgresql_each_letter_alone() -> None:
    sqlite, postgres, other = folding("sqlite"), folding("postgresql"), folding("mysql")
    assert sqlite("Émile", False) == "Émile" != sqlite("émile", False)
    assert sqlite("ÉMILE", False) == "Émile"
    assert postgres("ΟΔΟΣ", False) == "οδοσ" != postgres("οδος", False)
    assert other("ΟΔΟΣ", False) == "οδος"  # Python's, where the database's is not known
    assert sqlite("ÉMILE", True) == postgres("ÉMILE", True) == "ÉMILE"
    assert postgres(42, False) == "42"


def test_a_random_id_is_26_lower_case_letters_and_digits() -> None:
    """``anchor COLUMN random``: Mattermost's id form (``model.NewId``), which its ``IsValidId``
    takes (26 letters or digits), fitting its ``VARCHAR(26)`` keys; 128 random bits each."""
    made = {random_id() for _ in range(1000)}
    assert len(made) == 1000
    assert all(len(i) == 26 and i.isascii() and i.isalnum() and i == i.lower() for i in made)
    assert set("".join(made)) == set("ybndrfg8ejkmcpqxot1uwisza345h769")
