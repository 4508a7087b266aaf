-- The "HRDB" database of the ECMA example, for SQLite.
--
-- The layout is the one an ECMA Connector Host Generic SQL connector typically points at: one
-- Employees table with PascalCase columns, an IDENTITY-style key (EmployeeID, the anchor), a
-- unique login (AccountName, the query attribute), an IsActive flag and a LastModified column the
-- delta import reads as its watermark; plus AppGroups and a GroupMembers link table for membership
-- (not "Groups": GROUPS is a reserved word in MySQL 8, and the same names serve both databases).
--
-- `mapper serve examples/ecma/ecma.map --create-schema examples/ecma/schema.sql` runs this file
-- when the database is new. On MySQL or MariaDB use schema.mysql.sql instead.

CREATE TABLE IF NOT EXISTS Employees (
  EmployeeID     INTEGER PRIMARY KEY AUTOINCREMENT,
  AccountName    TEXT    NOT NULL UNIQUE COLLATE NOCASE,
  FirstName      TEXT,
  LastName       TEXT,
  DisplayName    TEXT,
  Email          TEXT,
  JobTitle       TEXT,
  Department     TEXT,
  EmployeeNumber TEXT,
  ManagerID      INTEGER REFERENCES Employees (EmployeeID) ON DELETE SET NULL,
  AzureID        TEXT,   -- the Entra objectId, as the Microsoft SQL tutorial stores it
  CostCenter     TEXT,
  IsActive       INTEGER NOT NULL DEFAULT 1 CHECK (IsActive IN (0, 1)),
  Created        TEXT    NOT NULL DEFAULT (strftime('%Y-%m-%d %H:%M:%f', 'now')),
  LastModified   TEXT    NOT NULL DEFAULT (strftime('%Y-%m-%d %H:%M:%f', 'now'))
);

-- The watermark: every change moves LastModified forward, with millisecond precision so that two
-- changes within one second are still ordered. (SQLite does not fire a trigger from itself.)
CREATE TRIGGER IF NOT EXISTS Employees_LastModified
AFTER UPDATE ON Employees
FOR EACH ROW WHEN NEW.LastModified = OLD.LastModified
BEGIN
  UPDATE Employees SET LastModified = strftime('%Y-%m-%d %H:%M:%f', 'now')
  WHERE EmployeeID = NEW.EmployeeID;
END;

CREATE INDEX IF NOT EXISTS Employees_LastModified_idx ON Employees (LastModified);

CREATE TABLE IF NOT EXISTS AppGroups (
  GroupID      INTEGER PRIMARY KEY AUTOINCREMENT,
  GroupName    TEXT    NOT NULL UNIQUE COLLATE NOCASE,
  AzureID      TEXT,
  LastModified TEXT    NOT NULL DEFAULT (strftime('%Y-%m-%d %H:%M:%f', 'now'))
);

CREATE TRIGGER IF NOT EXISTS AppGroups_LastModified
AFTER UPDATE ON AppGroups
FOR EACH ROW WHEN NEW.LastModified = OLD.LastModified
BEGIN
  UPDATE AppGroups SET LastModified = strftime('%Y-%m-%d %H:%M:%f', 'now') WHERE GroupID = NEW.GroupID;
END;

CREATE TABLE IF NOT EXISTS GroupMembers (
  GroupID    INTEGER NOT NULL REFERENCES AppGroups (GroupID) ON DELETE CASCADE,
  EmployeeID INTEGER NOT NULL REFERENCES Employees (EmployeeID) ON DELETE CASCADE,
  PRIMARY KEY (GroupID, EmployeeID)
);

-- A membership change is a change of the group: move the group's watermark too.
CREATE TRIGGER IF NOT EXISTS GroupMembers_insert AFTER INSERT ON GroupMembers
BEGIN
  UPDATE AppGroups SET LastModified = strftime('%Y-%m-%d %H:%M:%f', 'now') WHERE GroupID = NEW.GroupID;
END;

CREATE TRIGGER IF NOT EXISTS GroupMembers_delete AFTER DELETE ON GroupMembers
BEGIN
  UPDATE AppGroups SET LastModified = strftime('%Y-%m-%d %H:%M:%f', 'now') WHERE GroupID = OLD.GroupID;
END;
