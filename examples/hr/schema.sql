-- HR example schema for SQLite: employees and groups, served as SCIM Users and Groups by hr.map.
-- A user's emails and phone numbers (type, value, primary) are rows of child tables, as the
-- Generic SQL connector keeps multi-valued attributes.
-- Timestamps are ISO 8601 UTC text with milliseconds ('2026-01-31T12:00:00.123Z'), so they sort as
-- text and autosync's watermark sees changes made within the same second.
-- Load with: sqlite3 hr.db < schema.sql  (or: mapper serve --create-schema schema.sql)

CREATE TABLE employees (
  employee_id     INTEGER PRIMARY KEY AUTOINCREMENT,
  login           TEXT NOT NULL UNIQUE COLLATE NOCASE,
  external_id     TEXT,
  given_name      TEXT,
  family_name     TEXT,
  display_name    TEXT,
  nick_name       TEXT,
  title           TEXT,
  formatted_name  TEXT,
  street_address  TEXT,
  locality        TEXT,
  region          TEXT,
  postal_code     TEXT,
  country         TEXT,
  department      TEXT,
  employee_number TEXT,
  manager_id      INTEGER REFERENCES employees (employee_id) ON DELETE SET NULL,
  active          INTEGER NOT NULL DEFAULT 1 CHECK (active IN (0, 1)),
  created_at      TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')),
  updated_at      TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))
);

-- The gateway looks users up by LOWER(login): index exactly that.
CREATE UNIQUE INDEX employees_login_lower ON employees (lower(login));
CREATE INDEX employees_updated_at ON employees (updated_at);
CREATE INDEX employees_manager_id ON employees (manager_id);

-- Maintain updated_at on every update that does not set it itself.
CREATE TRIGGER employees_touch AFTER UPDATE ON employees
FOR EACH ROW WHEN NEW.updated_at IS OLD.updated_at
BEGIN
  UPDATE employees SET updated_at = strftime('%Y-%m-%dT%H:%M:%fZ', 'now')
  WHERE employee_id = NEW.employee_id;
END;

-- Every email and phone number of an employee: type ('work', 'home', 'mobile'...; may be NULL),
-- the address or number, and whether it is the primary one (at most one each, kept by the gateway).
CREATE TABLE employee_emails (
  employee_id INTEGER NOT NULL REFERENCES employees (employee_id) ON DELETE CASCADE,
  email_type  TEXT,
  address     TEXT NOT NULL,
  is_primary  INTEGER NOT NULL DEFAULT 0 CHECK (is_primary IN (0, 1))
);

CREATE INDEX employee_emails_employee_id ON employee_emails (employee_id);

CREATE TABLE employee_phones (
  employee_id INTEGER NOT NULL REFERENCES employees (employee_id) ON DELETE CASCADE,
  phone_type  TEXT,
  number      TEXT NOT NULL,
  is_primary  INTEGER NOT NULL DEFAULT 0 CHECK (is_primary IN (0, 1))
);

CREATE INDEX employee_phones_employee_id ON employee_phones (employee_id);

-- An email or phone change is a change of the employee: touch it so the watermark delta sees it.
CREATE TRIGGER employee_emails_added AFTER INSERT ON employee_emails
FOR EACH ROW
BEGIN
  UPDATE employees SET updated_at = strftime('%Y-%m-%dT%H:%M:%fZ', 'now') WHERE employee_id = NEW.employee_id;
END;

CREATE TRIGGER employee_emails_removed AFTER DELETE ON employee_emails
FOR EACH ROW
BEGIN
  UPDATE employees SET updated_at = strftime('%Y-%m-%dT%H:%M:%fZ', 'now') WHERE employee_id = OLD.employee_id;
END;

CREATE TRIGGER employee_phones_added AFTER INSERT ON employee_phones
FOR EACH ROW
BEGIN
  UPDATE employees SET updated_at = strftime('%Y-%m-%dT%H:%M:%fZ', 'now') WHERE employee_id = NEW.employee_id;
END;

CREATE TRIGGER employee_phones_removed AFTER DELETE ON employee_phones
FOR EACH ROW
BEGIN
  UPDATE employees SET updated_at = strftime('%Y-%m-%dT%H:%M:%fZ', 'now') WHERE employee_id = OLD.employee_id;
END;

CREATE TABLE groups (
  group_id    INTEGER PRIMARY KEY AUTOINCREMENT,
  name        TEXT NOT NULL UNIQUE COLLATE NOCASE,
  external_id TEXT,
  created_at  TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')),
  updated_at  TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))
);

CREATE UNIQUE INDEX groups_name_lower ON groups (lower(name));
CREATE INDEX groups_updated_at ON groups (updated_at);

CREATE TRIGGER groups_touch AFTER UPDATE ON groups
FOR EACH ROW WHEN NEW.updated_at IS OLD.updated_at
BEGIN
  UPDATE groups SET updated_at = strftime('%Y-%m-%dT%H:%M:%fZ', 'now')
  WHERE group_id = NEW.group_id;
END;

CREATE TABLE group_members (
  group_id    INTEGER NOT NULL REFERENCES groups (group_id) ON DELETE CASCADE,
  employee_id INTEGER NOT NULL REFERENCES employees (employee_id) ON DELETE CASCADE,
  PRIMARY KEY (group_id, employee_id)
);

CREATE INDEX group_members_employee_id ON group_members (employee_id);

-- A membership change is a change of the group: touch it so the watermark delta sees it.
CREATE TRIGGER group_members_added AFTER INSERT ON group_members
FOR EACH ROW
BEGIN
  UPDATE groups SET updated_at = strftime('%Y-%m-%dT%H:%M:%fZ', 'now') WHERE group_id = NEW.group_id;
END;

CREATE TRIGGER group_members_removed AFTER DELETE ON group_members
FOR EACH ROW
BEGIN
  UPDATE groups SET updated_at = strftime('%Y-%m-%dT%H:%M:%fZ', 'now') WHERE group_id = OLD.group_id;
END;
