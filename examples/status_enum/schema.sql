-- The status enum recipe (mappings/status_enum.map) on SQLite.

CREATE TABLE staff (
  staff_id    INTEGER PRIMARY KEY AUTOINCREMENT,
  login       TEXT NOT NULL UNIQUE COLLATE NOCASE,
  given_name  TEXT,
  family_name TEXT,
  full_name   TEXT,
  mail        TEXT,
  title       TEXT,
  status      CHAR(1) NOT NULL DEFAULT 'A' CHECK (status IN ('A', 'T', 'D'))
);

CREATE TABLE teams (
  team_id     INTEGER PRIMARY KEY AUTOINCREMENT,
  name        TEXT NOT NULL UNIQUE COLLATE NOCASE
);

CREATE TABLE team_members (
  team_id     INTEGER NOT NULL REFERENCES teams (team_id) ON DELETE CASCADE,
  staff_id    INTEGER NOT NULL REFERENCES staff (staff_id) ON DELETE CASCADE,
  PRIMARY KEY (team_id, staff_id)
);
