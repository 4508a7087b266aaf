"""Discovery documents generated from the plan: ServiceProviderConfig, ResourceTypes, Schemas."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from mapper.pipeline import load
from mapper.scim.attributes import Resolver
from tests.support.scim import CORE_GROUP, CORE_USER, ENTERPRISE, HR_MAP, LIST

pytestmark = pytest.mark.anyio


def by_name(attributes: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    return {a["name"]: a for a in attributes}


async def test_service_provider_config(client: httpx.AsyncClient) -> None:
    response = await client.get("/ServiceProviderConfig")
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/scim+json"
    spc = response.json()
    assert spc["schemas"] == ["urn:ietf:params:scim:schemas:core:2.0:ServiceProviderConfig"]
    assert spc["patch"] == {"supported": True}
    assert spc["bulk"]["supported"] is False
    assert spc["filter"] == {"supported": True, "maxResults": 1000}
    assert spc["changePassword"] == {"supported": False}
    assert spc["sort"] == {"supported": True}
    assert spc["etag"] == {"supported": True}
    assert spc["authenticationSchemes"][0]["type"] == "oauthbearertoken"
    assert spc["meta"]["location"] == "http://scim.test/scim/v2/ServiceProviderConfig"


@pytest.mark.parametrize(
    "path", ["/serviceConfiguration", "/serviceproviderconfig", "/ServiceProviderConfigs/"]
)
async def test_service_provider_config_aliases(client: httpx.AsyncClient, path: str) -> None:
    response = await client.get(path)
    assert response.status_code == 200
    assert response.json()["patch"]["supported"] is True


async def test_resource_types(client: httpx.AsyncClient) -> None:
    body = (await client.get("/ResourceTypes")).json()
    assert body["schemas"] == [LIST]
    assert body["totalResults"] == 2
    user, group = body["Resources"]
    assert user["endpoint"] == "/Users"  # Microsoft's collection reads Resources[0]
    assert user["schema"] == CORE_USER
    assert user["schemaExtensions"] == [{"schema": ENTERPRISE, "required": False}]
    assert group == (await client.get("/ResourceTypes/Group")).json()
    assert group["schema"] == CORE_GROUP and group["schemaExtensions"] == []
    assert (await client.get("/resourcetypes/user")).json()["name"] == "User"
    missing = await client.get("/ResourceTypes/Printer")
    assert missing.status_code == 404


async def test_schemas_publish_exactly_the_mapped_attributes(client: httpx.AsyncClient) -> None:
    body = (await client.get("/Schemas")).json()
    assert [s["id"] for s in body["Resources"]] == [CORE_USER, ENTERPRISE, CORE_GROUP]
    assert "User Account" in (await client.get("/Schemas")).text
    user = by_name(body["Resources"][0]["attributes"])
    assert set(user) == {
        "userName",
        "name",
        "displayName",
        "nickName",
        "title",
        "emails",
        "phoneNumbers",
        "addresses",
        "active",
    }

    user_name = user["userName"]
    assert user_name["required"] is True
    assert user_name["uniqueness"] == "server"
    assert user_name["mutability"] == "readWrite"
    assert user_name["type"] == "string" and user_name["multiValued"] is False

    assert user["active"]["type"] == "boolean"
    name = user["name"]
    assert name["type"] == "complex"
    assert {s["name"] for s in name["subAttributes"]} == {"givenName", "familyName", "formatted"}
    emails = user["emails"]
    assert emails["multiValued"] is True
    subs = by_name(emails["subAttributes"])
    assert set(subs) == {"value", "type", "primary"}  # the columns of the child table
    assert subs["primary"]["type"] == "boolean" and subs["type"]["mutability"] == "readWrite"


async def test_enterprise_schema_and_manager_reference(client: httpx.AsyncClient) -> None:
    enterprise = (await client.get(f"/Schemas/{ENTERPRISE}")).json()
    attributes = by_name(enterprise["attributes"])
    assert set(attributes) == {"department", "employeeNumber", "manager"}
    manager = attributes["manager"]
    assert manager["type"] == "complex"
    value = by_name(manager["subAttributes"])["value"]
    assert value["referenceTypes"] == ["User"]


async def test_group_schema_members(client: httpx.AsyncClient) -> None:
    group = (await client.get(f"/Schemas/{CORE_GROUP}")).json()
    attributes = by_name(group["attributes"])
    assert set(attributes) == {"displayName", "members"}
    assert attributes["displayName"]["uniqueness"] == "server"
    members = attributes["members"]
    assert members["multiValued"] is True and members["mutability"] == "readWrite"
    subs = by_name(members["subAttributes"])
    assert subs["$ref"]["referenceTypes"] == ["User"]
    assert subs["display"]["mutability"] == "readOnly"
    assert (await client.get("/Schemas/urn:nope")).status_code == 404
    assert (await client.get(f"/Schemas/{CORE_GROUP.upper()}")).status_code == 200


def test_direction_becomes_mutability_in_the_published_schema(tmp_path: Any) -> None:
    from mapper.pipeline import load
    from mapper.scim.routes.discovery_data import schemas
    from tests.support.scim import HR_MAP

    text = HR_MAP.read_text(encoding="utf-8")
    text = text.replace(
        "title                                   <-> title",
        "title                                   <-  title",
    )
    text = text.replace(
        "nickName                                <-> nick_name",
        "nickName                                ->  nick_name",
    )
    mapping = tmp_path / "directions.map"
    mapping.write_text(text, encoding="utf-8")
    user = by_name(schemas(load(str(mapping)), "https://h/scim/v2")[0]["attributes"])
    assert (user["title"]["mutability"], user["title"]["returned"]) == ("readOnly", "default")
    assert (user["nickName"]["mutability"], user["nickName"]["returned"]) == ("writeOnly", "never")
    assert user["userName"]["mutability"] == "readWrite"


def test_custom_schema_and_immutable_anchor_attribute_of_the_payroll_example() -> None:
    from mapper.pipeline import load
    from mapper.scim.routes.discovery_data import resource_types, schemas
    from tests.support.scim import HR_MAP

    plan = load(str(HR_MAP.parents[1] / "payroll" / "payroll.map"))
    published = {s["id"]: s for s in schemas(plan, "https://h/scim/v2")}
    payroll = published["urn:example:params:scim:schemas:extension:payroll:2.0:User"]
    assert payroll["name"] == "payroll"
    attributes = by_name(payroll["attributes"])
    assert attributes["grade"]["type"] == "integer"
    assert attributes["costCenterName"]["mutability"] == "readOnly"
    group = by_name(published[CORE_GROUP]["attributes"])
    assert group["displayName"]["mutability"] == "immutable"  # the Group anchor is taken from it
    assert group["displayName"]["caseExact"] is True
    user_type = resource_types(plan, "https://h/scim/v2")[0]
    assert [e["schema"] for e in user_type["schemaExtensions"]] == [ENTERPRISE, payroll["id"]]


@pytest.mark.parametrize("object_type", ["User", "Group"])
async def test_published_case_exactness_is_the_one_filters_and_patch_use(
    client: httpx.AsyncClient, object_type: str
) -> None:
    """A client reads caseExact from /Schemas to know how the server compares values; the gateway
    compares them as its name resolver says. Both must say the same for every attribute and
    sub-attribute served (emails.value was published caseExact while compared without case)."""
    plan = load(str(HR_MAP))
    resolver = Resolver.for_object(plan.object(object_type), plan.schemas)
    resource_type = (await client.get(f"/ResourceTypes/{object_type}")).json()
    urns = [resource_type["schema"], *(e["schema"] for e in resource_type["schemaExtensions"])]
    differ = []
    for urn in urns:
        schema = (await client.get(f"/Schemas/{urn}")).json()
        for attribute in schema["attributes"]:
            pairs = [(attribute["name"], None, attribute)]
            pairs += [(attribute["name"], s["name"], s) for s in attribute.get("subAttributes", [])]
            for name, sub, published in pairs:
                if published["type"] == "complex":
                    continue
                resolved = resolver.resolve(urn, name, sub).case_exact
                if published["caseExact"] != resolved:
                    differ.append((urn, name, sub, published["caseExact"], resolved))
    assert not differ
