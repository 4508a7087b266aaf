"""A soft delete ends the deleted user's group memberships in its transaction, so that a user
revived by a later create comes back without its old groups (docs/language.md, "Soft delete").
Which memberships it ends used to be read from the cache when the DELETE arrived: a PATCH that
added the user to a team in the same batch of the group committer, ahead of the DELETE, had not
reached the cache yet, so its membership outlived the delete, hidden with the user, and came back
with it. The owners are now looked up in the delete's transaction (``PlanMulti.load_for_value``)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.batches import in_one_batch
from tests.support.databases import HrDatabase, scratch_for
from tests.support.scim import PATCH_OP, new_user, scim_client

pytestmark = pytest.mark.anyio

ROOT = Path(__file__).resolve().parents[2]
SCHEMAS = {"sqlite": "schema.sql", "postgres": "schema.postgres.sql", "mariadb": "schema.mysql.sql"}


@pytest.fixture(
    params=[
        "sqlite",
        pytest.param("postgres", marks=pytest.mark.postgres),
        pytest.param("mariadb", marks=pytest.mark.mariadb),
    ]
)
def soft(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[HrDatabase]:
    script = (ROOT / "examples" / "soft_delete" / SCHEMAS[request.param]).read_text(encoding="utf-8")
    yield scratch_for(request, tmp_path, script)


async def test_a_membership_added_in_the_same_batch_ahead_of_a_soft_delete_ends_with_it(
    soft: HrDatabase,
) -> None:
    mapping = ROOT / "mappings" / "soft_delete.map"
    environ = {"SOFT_DELETE_DATABASE_URL": soft.url}
    async with scim_client(soft, mapping=mapping, environ=environ, raise_app_exceptions=False) as client:
        user = (await client.post("/Users", json=new_user("leaver"))).json()["id"]
        team = await client.post(
            "/Groups",
            json={"schemas": ["urn:ietf:params:scim:schemas:core:2.0:Group"], "displayName": "crew"},
        )
        assert team.status_code == 201, team.text
        group = team.json()["id"]
        database = client.state["gateway"].stores["Group"].database  # type: ignore[attr-defined]
        answers: dict[str, int] = {}

        async def patch() -> None:
            body = {
                "schemas": [PATCH_OP],
                "Operations": [{"op": "add", "path": "members", "value": [{"value": user}]}],
            }
            answers["patch"] = (await client.patch(f"/Groups/{group}", json=body)).status_code

        async def delete() -> None:
            answers["delete"] = (await client.delete(f"/Users/{user}")).status_code

        await in_one_batch(database, patch, delete)
        assert answers["patch"] in (200, 204) and answers["delete"] == 204, answers
        revived = await client.post("/Users", json=new_user("leaver"))
        assert revived.status_code == 201, revived.text
        assert revived.json()["id"] == user  # the same row, revived
        members = (await client.get(f"/Groups/{group}")).json().get("members", [])
        assert members == []
        assert soft.execute("SELECT COUNT(*) FROM team_members") == [(0,)]
