"""The names ``mapper init`` recognises: which table is a user or group table, which column holds
which SCIM attribute, which flag says active or the opposite, which values of a status column
mean what.

Names are compared by ``key()``: lower case with everything but letters and digits removed, so
``given_name``, ``GivenName`` and ``givenname`` are one name. Each entry is a :class:`Names`:
whole names, strongest first, then stems a name may contain (``network_login`` contains
``login``); a whole name anywhere in the table beats a stem. Earlier entries win when two
columns claim one attribute.
"""

from __future__ import annotations

import re
from dataclasses import dataclass


def key(name: str) -> str:
    return re.sub(r"[^a-z0-9]", "", name.lower())


@dataclass(frozen=True)
class Names:
    exact: tuple[str, ...]
    stems: tuple[str, ...] = ()
    not_stems: tuple[str, ...] = ()  # a name containing one of these is no match by stem

    def matches(self, name_key: str) -> bool:
        """Whether a column name (as :func:`key` folds it) is one of these: exactly, or by a stem
        and no ``not_stems``."""
        return name_key in self.exact or (
            any(s in name_key for s in self.stems) and not any(s in name_key for s in self.not_stems)
        )


#: table names that hold people, strongest first; a name containing a stem counts for less
USER_TABLES = (
    *("users", "user", "accounts", "account", "employees", "employee", "staff", "people", "persons"),
    *("person", "members", "member", "identities", "workers", "personnel", "principals", "appusers"),
)
USER_STEMS = (
    "user",
    "account",
    "employee",
    "staff",
    "person",
    "people",
    "member",
    "worker",
    "login",
    "agent",
)
GROUP_TABLES = (
    *("groups", "group", "teams", "team", "roles", "role", "securitygroups", "usergroups"),
    *("departments", "units", "squads", "circles", "queues"),
)
GROUP_STEMS = ("group", "team", "role", "unit", "squad", "queue")

#: columns that name the account (userName)
LOGIN = Names(
    (
        *("login", "username", "loginname", "userprincipalname", "upn", "logonname", "logon"),
        *("accountname", "samaccountname", "uid", "handle", "account", "userid"),
    ),
    ("login", "logon", "username", "principalname", "accountname", "signin", "signon"),
    ("count", "attempt", "last", "date", "time", "failed"),
)
#: columns that hold the work email address
EMAIL = Names(
    ("email", "mail", "emailaddress", "mailaddress", "workemail", "primaryemail", "emailwork", "email1"),
    ("email", "mail"),
    # a setting about mail is no address: Redmine's mail_notification ('all', 'only_my_events')
    (
        *("verified", "confirmed", "sent", "optin", "domain", "notif", "format", "pref", "setting"),
        *("digest", "frequency", "enabled", "disabled", "bounce"),
        # another address is not the work one: OrangeHRM's emp_oth_email beside emp_work_email
        *("oth", "personal", "private", "home", "alternat", "secondary"),
    ),
)

_NOT_TEXT = ("date", "time", "count", "flag")

#: (SCIM path, column names) for text attributes of a user, strongest first
USER_TEXT: tuple[tuple[str, Names], ...] = (
    (
        "name.givenName",
        Names(
            ("givenname", "firstname", "fname", "forename", "first", "given", "christianname"),
            ("firstname", "givenname", "forename", "christianname"),
        ),
    ),
    (
        "name.familyName",
        Names(
            ("familyname", "lastname", "lname", "surname", "last", "family", "sn"),
            ("lastname", "familyname", "surname"),
        ),
    ),
    ("name.middleName", Names(("middlename", "mname"), ("middlename",))),
    (
        "displayName",
        Names(("displayname", "fullname", "name", "commonname", "cn"), ("displayname", "fullname")),
    ),
    ("name.formatted", Names(("formattedname", "fullname"))),
    ("nickName", Names(("nickname", "preferredname", "knownas"), ("nickname", "preferredname", "knownas"))),
    ("title", Names(("title", "jobtitle", "position", "jobposition"), ("jobtitle", "title"), _NOT_TEXT)),
    ("userType", Names(("usertype", "employeetype", "persontype"), ("usertype", "employeetype"))),
    ("preferredLanguage", Names(("preferredlanguage", "language", "lang"), ("language",))),
    ("locale", Names(("locale",))),
    ("timezone", Names(("timezone", "tz"), ("timezone",))),
    (
        "profileUrl",
        Names(
            ("profileurl", "website", "homepage", "url"),
            ("profileurl", "website", "homepage", "url"),
            ("avatar", "photo", "image", "picture"),
        ),
    ),
    ("externalId", Names(("externalid", "extid", "immutableid", "sourceanchor"), ("externalid",))),
    (
        'phoneNumbers[type eq "mobile"].value',
        Names(
            ("mobile", "mobilephone", "mobilenumber", "cell", "cellphone"), ("mobile", "cellphone"), _NOT_TEXT
        ),
    ),
    (
        'phoneNumbers[type eq "work"].value',
        Names(
            ("phone", "phonenumber", "telephone", "telephonenumber", "workphone", "officephone", "tel"),
            ("phone",),
            _NOT_TEXT,
        ),
    ),
    (
        'addresses[type eq "work"].streetAddress',
        Names(("streetaddress", "street", "address", "address1", "addressline1"), ("street",)),
    ),
    ('addresses[type eq "work"].locality', Names(("locality", "city", "town"), ("city",))),
    ('addresses[type eq "work"].region', Names(("region", "state", "province", "county"))),
    (
        'addresses[type eq "work"].postalCode',
        Names(("postalcode", "zip", "zipcode", "postcode"), ("postcode", "postalcode", "zipcode")),
    ),
    ('addresses[type eq "work"].country', Names(("country", "countrycode"), ("country",))),
    (
        "enterprise.employeeNumber",
        Names(
            (
                "employeenumber",
                "employeeno",
                "empno",
                "employeeid",
                "staffnumber",
                "personnelnumber",
                "badgenumber",
                "payrollnumber",
            ),
            ("employeenumber", "employeeno", "staffnumber", "payrollnumber", "personnelnumber"),
        ),
    ),
    ("enterprise.department", Names(("department", "dept", "departmentname"), ("department",))),
    ("enterprise.costCenter", Names(("costcenter", "costcentre"), ("costcent",))),
    ("enterprise.organization", Names(("organization", "organisation", "company"), ("organi", "company"))),
    ("enterprise.division", Names(("division",), ("division",))),
)

#: a group's name (``<table>name`` also counts: team_name for teams)
GROUP_NAME = Names(
    ("displayname", "name", "groupname", "teamname", "rolename", "title", "label", "code"),
    ("name", "title", "label"),
)

MANAGER = Names(
    (
        "managerid",
        "manager",
        "supervisorid",
        "supervisor",
        "reportsto",
        "reportstoid",
        "bossid",
        "linemanagerid",
    ),
    ("manager", "supervisor", "reportsto"),
)
CREATED = Names(
    (
        "createdat",
        "createat",
        "created",
        "createdon",
        "creationdate",
        "datecreated",
        "createdtime",
        "insertedat",
        "createddate",
        "registered",
        "registeredat",
        "registrationdate",
        "dateentered",  # SugarCRM's and OrangeHRM's date_entered
    ),
    ("created", "registered"),
    ("by",),
)
UPDATED = Names(
    (
        *(
            "updatedat",
            "updateat",
            "modifiedat",
            "lastmodified",
            "lastmodifiedat",
            "updated",
            "modified",
            "changedat",
        ),
        *(
            "rowversion",
            "lastupdated",
            "updatedon",
            "modifiedon",
            "lastchanged",
            "datemodified",
            "lastupdate",
            "updateddate",
        ),
    ),
    ("modified", "updated", "changed"),
    ("by", "status", "password", "login", "email", "deleted"),
)
EXTERNAL_ID = Names(("externalid", "extid"), ("externalid",))

#: flags that say the account is active
ACTIVE = Names(
    ("active", "isactive", "enabled", "isenabled", "accountenabled"),
    ("active", "enabled"),
    # a flag of a feature is not the account's (Mattermost's mfaactive: multi-factor sign-in on)
    ("inactive", "mfa", "otp", "twofactor", "2fa", "totp", "last"),
)
#: flags that say the opposite (``active <-> not locked``)
INVERTED = Names(
    (
        *("locked", "islocked", "disabled", "isdisabled", "terminated", "isterminated", "suspended"),
        *(
            "issuspended",
            "blocked",
            "isblocked",
            "inactive",
            "isinactive",
            "accountlocked",
            "accountdisabled",
        ),
    ),
    (
        *("locked", "disabled", "terminated", "suspended", "blocked", "inactive", "leaver", "banned"),
        *("revoked", "deactivated", "deprovisioned", "offboarded"),
    ),
    ("count", "until", "date", "time", "at", "reason"),
)
#: a column of status codes
STATUS = Names(
    ("status", "state", "accountstatus", "userstatus", "employmentstatus", "statuscode"),
    ("status",),
    ("date", "time", "changed", "reason", "updated", "since", "by"),
)
#: a column telling kinds of rows apart in one table (Rails' single-table inheritance: Redmine's
#: ``users.type`` holds 'User', 'Group', 'AnonymousUser'...); its values are read from the rows
KIND = Names(("type", "kind", "objecttype", "recordtype", "entitytype", "discriminator", "dtype"))
#: soft delete: a timestamp stamped on delete, or a flag set on delete
DELETED_AT = Names(
    ("deletedat", "deletedon", "removedat", "deleteddate", "datedeleted", "archivedat", "deleteat"),
    ("deleted", "removed", "archived"),
    ("by", "reason"),
)
DELETED_FLAG = Names(
    ("deleted", "isdeleted", "removed", "isremoved", "archived", "isarchived"),
    ("deleted", "removed", "archived"),
    ("by", "reason"),
)

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
    *("T", "TERMINATED", "I", "INACTIVE", "S", "SUSPENDED", "DISABLED", "L", "LOCKED", "N", "NO"),
    *("B", "BLOCKED", "LEFT", "EXITED", "OFF", "CLOSED", "0", "FALSE", "F"),
)
STATUS_DELETED = (
    *("D", "DELETED", "DEL", "X", "REMOVED", "R", "PURGED", "GONE", "ARCHIVED", "ERASED", "DESTROYED"),
    "TRASHED",
)

#: child tables: the value column and the sub-attribute columns
EMAIL_VALUE = Names(
    ("address", "email", "mail", "emailaddress", "mailaddress", "value"), ("email", "address")
)
PHONE_VALUE = Names(("number", "phone", "phonenumber", "telephone", "value", "msisdn"), ("number", "phone"))
ITEM_TYPE = Names(
    ("type", "kind", "emailtype", "phonetype", "label", "category", "usage", "purpose"), ("type",)
)
ITEM_PRIMARY = Names(("isprimary", "primary", "preferred", "ispreferred", "isdefault", "main"), ("primary",))
