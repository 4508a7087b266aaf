"""A PATCH that adds a member to a group and a DELETE of another of its members, in one batch of
the group committer (the DELETE first): the PATCH was made from the cached group, which still
lists the deleted user, and its transaction reads the group after the DELETE's cascade. The
client asked to add one member; it must get that, not a refusal for a member it never named,
and the deleted user must not come back into the group (a PATCH's member add is sent as that
add, not as the cached list it was applied to). Passes: kept as the batch's guarantee."""

from __future__ import annotations

import pytest

from tests.support.batches import in_one_batch
from tests.support.databases import HrDatabase
from tests.support.scim import PATCH_OP, scim_client

pytestmark = pytest.mark.anyio


async def test_a_member_deleted_in_the_same_batch_is_not_added_back_by_a_patch_adding_another(
    hr_database: HrDatabase,
) -> None:
    async with scim_client(hr_database, raise_app_exceptions=False) as client:
        database = client.state["gateway"].stores["Group"].database  # type: ignore[attr-defined]
        answers: dict[str, int] = {}

        async def delete() -> None:
            answers["delete"] = (await client.delete("/Users/9")).status_code

        async def patch() -> None:
            body = {
                "schemas": [PATCH_OP],
                "Operations": [{"op": "add", "path": "members", "value": [{"value": "4"}]}],
            }
            response = await client.patch("/Groups/3", json=body)
            answers["patch"] = response.status_code
            answers["text"] = response.text  # type: ignore[assignment]

        await in_one_batch(database, delete, patch)
        assert answers["delete"] == 204
        assert answers["patch"] in (200, 204), answers["text"]
        stored = hr_database.execute("SELECT employee_id FROM group_members WHERE group_id = 3")
        assert sorted(row[0] for row in stored) == [3, 4, 10, 12, 18]
        served = (await client.get("/Groups/3")).json()
        assert sorted(int(m["value"]) for m in served["members"]) == [3, 4, 10, 12, 18]
