-- Names in CamelCase with a tbl prefix, a reserved word as a column, an inverted flag called
-- IsDisabled and a LastModified timestamp.
CREATE TABLE "tblUser" (
  "UserID"       INTEGER PRIMARY KEY AUTOINCREMENT,
  "LogonName"    TEXT NOT NULL UNIQUE COLLATE NOCASE,
  "GivenName"    TEXT,
  "Surname"      TEXT,
  "EMail"        TEXT,
  "Order"        INTEGER,
  "IsDisabled"   INTEGER NOT NULL DEFAULT 0 CHECK ("IsDisabled" IN (0, 1)),
  "LastModified" TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))
);
CREATE TABLE "tblGroup" (
  "GroupID"   INTEGER PRIMARY KEY AUTOINCREMENT,
  "GroupName" TEXT NOT NULL UNIQUE COLLATE NOCASE
);
CREATE TABLE "tblUserGroup" (
  "UserID"  INTEGER NOT NULL REFERENCES "tblUser" ("UserID") ON DELETE CASCADE,
  "GroupID" INTEGER NOT NULL REFERENCES "tblGroup" ("GroupID") ON DELETE CASCADE,
  PRIMARY KEY ("UserID", "GroupID")
);
