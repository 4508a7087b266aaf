-- The child tables recipe (mappings/child_tables.map) on SQLite: a person's emails and phone
-- numbers are rows of their own tables (kind, value, primary), as the Generic SQL connector keeps
-- multi-valued attributes.

CREATE TABLE persons (
  person_id    INTEGER PRIMARY KEY AUTOINCREMENT,
  login        TEXT NOT NULL UNIQUE COLLATE NOCASE,
  first_name   TEXT,
  last_name    TEXT,
  display_name TEXT,
  title        TEXT,
  active       INTEGER NOT NULL DEFAULT 1 CHECK (active IN (0, 1))
);

CREATE TABLE person_emails (
  person_id  INTEGER NOT NULL REFERENCES persons (person_id) ON DELETE CASCADE,
  kind       TEXT,
  address    TEXT NOT NULL,
  is_primary INTEGER NOT NULL DEFAULT 0 CHECK (is_primary IN (0, 1))
);

CREATE INDEX person_emails_person_id ON person_emails (person_id);

CREATE TABLE person_phones (
  person_id  INTEGER NOT NULL REFERENCES persons (person_id) ON DELETE CASCADE,
  kind       TEXT,
  number     TEXT NOT NULL,
  is_primary INTEGER NOT NULL DEFAULT 0 CHECK (is_primary IN (0, 1))
);

CREATE INDEX person_phones_person_id ON person_phones (person_id);

CREATE TABLE teams (
  team_id INTEGER PRIMARY KEY AUTOINCREMENT,
  name    TEXT NOT NULL UNIQUE COLLATE NOCASE
);

CREATE TABLE team_members (
  team_id   INTEGER NOT NULL REFERENCES teams (team_id) ON DELETE CASCADE,
  person_id INTEGER NOT NULL REFERENCES persons (person_id) ON DELETE CASCADE,
  PRIMARY KEY (team_id, person_id)
);
