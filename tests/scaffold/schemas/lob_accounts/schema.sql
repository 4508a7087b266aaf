-- A line-of-business app: accounts with an inverted flag (locked), a soft delete (deleted_at),
-- a kind of account the scaffold has no SCIM attribute for, and roles granted through a link table.
CREATE TABLE accounts (
  account_id  INTEGER PRIMARY KEY AUTOINCREMENT,
  username    TEXT NOT NULL UNIQUE COLLATE NOCASE,
  email       TEXT,
  first_name  TEXT,
  last_name   TEXT,
  job_title   TEXT,
  kind        TEXT NOT NULL DEFAULT 'employee' CHECK (kind IN ('employee', 'contractor')),
  locked      INTEGER NOT NULL DEFAULT 0 CHECK (locked IN (0, 1)),
  deleted_at  TEXT
);
CREATE TABLE roles (
  role_id   INTEGER PRIMARY KEY AUTOINCREMENT,
  role_name TEXT NOT NULL UNIQUE COLLATE NOCASE,
  notes     TEXT
);
CREATE TABLE account_roles (
  account_id INTEGER NOT NULL REFERENCES accounts (account_id) ON DELETE CASCADE,
  role_id    INTEGER NOT NULL REFERENCES roles (role_id) ON DELETE CASCADE,
  granted_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')),
  PRIMARY KEY (account_id, role_id)
);
