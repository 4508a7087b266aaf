"""The names ``mapper init`` recognises: which table is a user or group table, which column holds
which SCIM attribute, which flag says active or the opposite, which values of a status column
mean what.

Names are compared by ``key()``: lower case with everything but letters and digits removed, so
``given_name``, ``GivenName`` and ``givenname`` are one name. Each table is an ordered tuple:
earlier entries win when two columns claim one attribute.
"""

from __future__ import annotations

import re


def key(name: str) -> str:
    return re.sub(r"[^a-z0-9]", "", name.lower())


#: table names that hold people, strongest first; a name containing a stem counts for less
USER_TABLES = (
    "users",
    "user",
    "accounts",
    "account",
    "employees",
    "employee",
    "staff",
    "people",
    "persons",
    "person",
    "members",
    "member",
    "identities",
    "workers",
    "personnel",
    "principals",
    "appusers",
)
USER_STEMS = ("user", "account", "employee", "staff", "person", "people", "member", "worker", "login")
GROUP_TABLES = (
    "groups",
    "group",
    "teams",
    "team",
    "roles",
    "role",
    "securitygroups",
    "usergroups",
    "departments",
    "units",
    "squads",
    "circles",
)
GROUP_STEMS = ("group", "team", "role", "unit", "squad")

#: columns that name the account (userName), strongest first
LOGIN = (
    "login",
    "username",
    "loginname",
    "userprincipalname",
    "upn",
    "logonname",
    "logon",
    "accountname",
    "samaccountname",
    "uid",
    "handle",
    "account",
)
#: columns that hold the work email address
EMAIL = ("email", "mail", "emailaddress", "mailaddress", "workemail", "primaryemail", "emailwork", "email1")

#: (SCIM path, column names) for text attributes of a user, strongest first
USER_TEXT = (
    ("name.givenName", ("givenname", "firstname", "fname", "forename", "first")),
    ("name.familyName", ("familyname", "lastname", "lname", "surname", "last")),
    ("name.middleName", ("middlename", "mname")),
    ("displayName", ("displayname", "fullname", "name", "commonname", "cn")),
    ("name.formatted", ("formattedname", "fullname")),
    ("nickName", ("nickname", "preferredname")),
    ("title", ("title", "jobtitle", "position", "jobposition")),
    ("userType", ("usertype", "employeetype", "persontype")),
    ("preferredLanguage", ("preferredlanguage", "language", "lang")),
    ("locale", ("locale",)),
    ("timezone", ("timezone", "tz")),
    ("profileUrl", ("profileurl",)),
    ("externalId", ("externalid", "extid", "immutableid", "sourceanchor")),
    (
        'phoneNumbers[type eq "work"].value',
        ("phone", "phonenumber", "telephone", "telephonenumber", "workphone", "officephone", "tel"),
    ),
    ('phoneNumbers[type eq "mobile"].value', ("mobile", "mobilephone", "mobilenumber", "cell", "cellphone")),
    (
        'addresses[type eq "work"].streetAddress',
        ("streetaddress", "street", "address", "address1", "addressline1"),
    ),
    ('addresses[type eq "work"].locality', ("locality", "city", "town")),
    ('addresses[type eq "work"].region', ("region", "state", "province", "county")),
    ('addresses[type eq "work"].postalCode', ("postalcode", "zip", "zipcode", "postcode")),
    ('addresses[type eq "work"].country', ("country", "countrycode")),
    (
        "enterprise.employeeNumber",
        (
            "employeenumber",
            "employeeno",
            "empno",
            "employeeid",
            "staffnumber",
            "personnelnumber",
            "badgenumber",
        ),
    ),
    ("enterprise.department", ("department", "dept", "departmentname")),
    ("enterprise.costCenter", ("costcenter", "costcentre")),
    ("enterprise.organization", ("organization", "organisation", "company")),
    ("enterprise.division", ("division",)),
)

#: a group's name, strongest first (``<table>name`` also counts: team_name for teams)
GROUP_NAME = ("displayname", "name", "groupname", "teamname", "rolename", "title", "label", "code")

MANAGER = (
    "managerid",
    "manager",
    "supervisorid",
    "supervisor",
    "reportsto",
    "reportstoid",
    "bossid",
    "linemanagerid",
)
CREATED = (
    "createdat",
    "created",
    "createdon",
    "creationdate",
    "datecreated",
    "createdtime",
    "insertedat",
    "createddate",
)
UPDATED = (
    "updatedat",
    "modifiedat",
    "lastmodified",
    "lastmodifiedat",
    "updated",
    "modified",
    "changedat",
    "lastupdated",
    "updatedon",
    "modifiedon",
    "lastchanged",
    "datemodified",
    "lastupdate",
    "updateddate",
)
EXTERNAL_ID = ("externalid", "extid")

#: flags that say the account is active
ACTIVE = ("active", "isactive", "enabled", "isenabled", "accountenabled")
#: flags that say the opposite (``active <-> not locked``)
INVERTED = (
    "locked",
    "islocked",
    "disabled",
    "isdisabled",
    "terminated",
    "isterminated",
    "suspended",
    "issuspended",
    "blocked",
    "isblocked",
    "inactive",
    "isinactive",
    "accountlocked",
    "accountdisabled",
)
#: a column of status codes
STATUS = ("status", "state", "accountstatus", "userstatus", "employmentstatus", "statuscode")
#: soft delete: a timestamp stamped on delete, or a flag set on delete
DELETED_AT = ("deletedat", "deletedon", "removedat", "deleteddate", "dateDeleted".lower())
DELETED_FLAG = ("deleted", "isdeleted", "removed", "isremoved")

#: status codes (upper-cased) by meaning
STATUS_ACTIVE = (
    "A",
    "ACTIVE",
    "ACT",
    "E",
    "ENABLED",
    "Y",
    "YES",
    "ON",
    "OPEN",
    "CURRENT",
    "LIVE",
    "1",
    "TRUE",
)
STATUS_INACTIVE = (
    "T",
    "TERMINATED",
    "I",
    "INACTIVE",
    "S",
    "SUSPENDED",
    "DISABLED",
    "L",
    "LOCKED",
    "N",
    "NO",
    "B",
    "BLOCKED",
    "LEFT",
    "EXITED",
    "OFF",
    "CLOSED",
    "0",
    "FALSE",
    "F",
)
STATUS_DELETED = ("D", "DELETED", "DEL", "X", "REMOVED", "R", "PURGED")

#: child tables: the value column and the sub-attribute columns
EMAIL_VALUE = ("address", "email", "mail", "emailaddress", "mailaddress", "value")
PHONE_VALUE = ("number", "phone", "phonenumber", "telephone", "value", "msisdn")
ITEM_TYPE = ("type", "kind", "emailtype", "phonetype", "label", "category", "usage", "purpose")
ITEM_PRIMARY = ("isprimary", "primary", "preferred", "ispreferred", "isdefault", "main")
