-- The soft delete recipe (mappings/soft_delete.map) on SQLite.

CREATE TABLE members (
  member_id   INTEGER PRIMARY KEY AUTOINCREMENT,
  login       TEXT NOT NULL UNIQUE COLLATE NOCASE,
  given_name  TEXT,
  family_name TEXT,
  full_name   TEXT,
  mail        TEXT,
  title       TEXT,
  active      INTEGER NOT NULL DEFAULT 1 CHECK (active IN (0, 1)),
  deleted_at  TEXT
);

CREATE TABLE teams (
  team_id     INTEGER PRIMARY KEY AUTOINCREMENT,
  name        TEXT NOT NULL UNIQUE COLLATE NOCASE
);

CREATE TABLE team_members (
  team_id     INTEGER NOT NULL REFERENCES teams (team_id) ON DELETE CASCADE,
  member_id   INTEGER NOT NULL REFERENCES members (member_id) ON DELETE CASCADE,
  PRIMARY KEY (team_id, member_id)
);
