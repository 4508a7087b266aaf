-- The inverted flag recipe (mappings/inverted_flag.map) on SQLite.

CREATE TABLE accounts (
  account_id  INTEGER PRIMARY KEY AUTOINCREMENT,
  login       TEXT NOT NULL UNIQUE COLLATE NOCASE,
  given_name  TEXT,
  family_name TEXT,
  full_name   TEXT,
  mail        TEXT,
  title       TEXT,
  locked      INTEGER NOT NULL DEFAULT 0 CHECK (locked IN (0, 1))
);

CREATE TABLE teams (
  team_id     INTEGER PRIMARY KEY AUTOINCREMENT,
  name        TEXT NOT NULL UNIQUE COLLATE NOCASE
);

CREATE TABLE team_members (
  team_id     INTEGER NOT NULL REFERENCES teams (team_id) ON DELETE CASCADE,
  account_id  INTEGER NOT NULL REFERENCES accounts (account_id) ON DELETE CASCADE,
  PRIMARY KEY (team_id, account_id)
);
