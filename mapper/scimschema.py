"""The standard SCIM schemas (RFC 7643 section 4 and 8.7): attribute definitions shared by the
linter (is this path known?), the compiler (types, multi-valuedness), and the SCIM front end
(caseExact in filters, /Schemas). Plain frozen data; no HTTP and no database here.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from mapper.plan import CORE_GROUP, CORE_USER, ENTERPRISE_USER


@dataclass(frozen=True)
class AttributeDef:
    name: str
    type: str = "string"  # string boolean integer decimal dateTime binary reference complex
    multi_valued: bool = False
    required: bool = False
    case_exact: bool = False
    mutability: str = "readWrite"
    returned: str = "default"
    uniqueness: str = "none"
    description: str = ""
    sub_attributes: tuple[AttributeDef, ...] = field(default=())
    reference_types: tuple[str, ...] = ()
    canonical_values: tuple[str, ...] = ()

    def sub(self, name: str) -> AttributeDef | None:
        lowered = name.lower()
        for s in self.sub_attributes:
            if s.name.lower() == lowered:
                return s
        return None


@dataclass(frozen=True)
class SchemaDef:
    urn: str
    name: str
    description: str
    attributes: tuple[AttributeDef, ...]

    def attribute(self, name: str) -> AttributeDef | None:
        lowered = name.lower()
        for a in self.attributes:
            if a.name.lower() == lowered:
                return a
        return None


def _s(name: str, **kw: object) -> AttributeDef:
    return AttributeDef(name=name, **kw)  # type: ignore[arg-type]


def _multi(
    name: str, description: str, value_type: str = "string", types: tuple[str, ...] = ()
) -> AttributeDef:
    """A multi-valued complex attribute in the RFC's usual shape (value, display, type, primary)."""
    return AttributeDef(
        name=name,
        type="complex",
        multi_valued=True,
        description=description,
        sub_attributes=(
            _s("value", type=value_type),
            _s("display"),
            _s("type", canonical_values=types),
            _s("primary", type="boolean"),
        ),
    )


USER = SchemaDef(
    urn=CORE_USER,
    name="User",
    description="User Account",
    attributes=(
        _s("userName", required=True, uniqueness="server", description="Unique identifier for the User"),
        AttributeDef(
            name="name",
            type="complex",
            description="The components of the user's real name",
            sub_attributes=(
                _s("formatted"),
                _s("familyName"),
                _s("givenName"),
                _s("middleName"),
                _s("honorificPrefix"),
                _s("honorificSuffix"),
            ),
        ),
        _s("displayName"),
        _s("nickName"),
        _s("profileUrl", type="reference", reference_types=("external",)),
        _s("title"),
        _s("userType"),
        _s("preferredLanguage"),
        _s("locale"),
        _s("timezone"),
        _s("active", type="boolean"),
        _s("password", mutability="writeOnly", returned="never"),
        _multi("emails", "Email addresses for the user", types=("work", "home", "other")),
        _multi(
            "phoneNumbers",
            "Phone numbers for the User",
            types=("work", "home", "mobile", "fax", "pager", "other"),
        ),
        _multi("ims", "Instant messaging addresses for the User"),
        _multi("photos", "URLs of photos of the User", value_type="reference"),
        AttributeDef(
            name="addresses",
            type="complex",
            multi_valued=True,
            description="A physical mailing address for this User",
            sub_attributes=(
                _s("formatted"),
                _s("streetAddress"),
                _s("locality"),
                _s("region"),
                _s("postalCode"),
                _s("country"),
                _s("type", canonical_values=("work", "home", "other")),
                _s("primary", type="boolean"),
            ),
        ),
        _multi("groups", "A list of groups to which the user belongs"),
        _multi("entitlements", "A list of entitlements for the User"),
        _multi("roles", "A list of roles for the User"),
        _multi("x509Certificates", "A list of certificates issued to the User", value_type="binary"),
    ),
)

GROUP = SchemaDef(
    urn=CORE_GROUP,
    name="Group",
    description="Group",
    attributes=(
        _s("displayName", required=True, description="A human-readable name for the Group"),
        AttributeDef(
            name="members",
            type="complex",
            multi_valued=True,
            description="A list of members of the Group",
            sub_attributes=(
                _s("value", mutability="immutable"),
                _s("$ref", type="reference", reference_types=("User", "Group"), mutability="immutable"),
                _s("display", mutability="immutable"),
                _s("type", mutability="immutable", canonical_values=("User", "Group")),
            ),
        ),
    ),
)

ENTERPRISE = SchemaDef(
    urn=ENTERPRISE_USER,
    name="EnterpriseUser",
    description="Enterprise User",
    attributes=(
        _s("employeeNumber"),
        _s("costCenter"),
        _s("organization"),
        _s("division"),
        _s("department"),
        AttributeDef(
            name="manager",
            type="complex",
            description="The User's manager",
            sub_attributes=(
                _s("value"),
                _s("$ref", type="reference", reference_types=("User",)),
                _s("displayName", mutability="readOnly"),
            ),
        ),
    ),
)

#: Attributes every resource has (RFC 7643 section 3.1), outside any schema URN.
COMMON = SchemaDef(
    urn="",
    name="Common",
    description="Attributes common to all resources",
    attributes=(
        _s("id", mutability="readOnly", returned="always", case_exact=True, uniqueness="server"),
        _s("externalId", case_exact=True),
        AttributeDef(
            name="meta",
            type="complex",
            mutability="readOnly",
            sub_attributes=(
                _s("resourceType", mutability="readOnly", case_exact=True),
                _s("created", type="dateTime", mutability="readOnly"),
                _s("lastModified", type="dateTime", mutability="readOnly"),
                _s("location", type="reference", mutability="readOnly", case_exact=True),
                _s("version", mutability="readOnly", case_exact=True),
            ),
        ),
    ),
)

STANDARD_SCHEMAS: dict[str, SchemaDef] = {s.urn: s for s in (USER, GROUP, ENTERPRISE)}

#: The core schema of each standard object type, and the extensions it may use.
CORE_SCHEMA_OF = {"User": CORE_USER, "Group": CORE_GROUP}
EXTENSIONS_OF = {"User": (ENTERPRISE_USER,), "Group": ()}

#: Short prefixes a mapping file may use instead of a full extension URN (``enterprise.manager``).
PREFIXES = {"enterprise": ENTERPRISE_USER}
