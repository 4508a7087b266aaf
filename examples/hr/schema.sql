-- HR example schema for SQLite: employees and groups, served as SCIM Users and Groups by hr.map.
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
  mail            TEXT,
  phone           TEXT,
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
