-- The manager reference recipe (mappings/manager_reference.map) on SQLite: staff.manager_id names
-- another row of the same table; deleting a manager leaves the reports without one.

CREATE TABLE staff (
  staff_id    INTEGER PRIMARY KEY AUTOINCREMENT,
  login       TEXT NOT NULL UNIQUE COLLATE NOCASE,
  given_name  TEXT,
  family_name TEXT,
  full_name   TEXT,
  mail        TEXT,
  department  TEXT,
  manager_id  INTEGER REFERENCES staff (staff_id) ON DELETE SET NULL,
  active      INTEGER NOT NULL DEFAULT 1 CHECK (active IN (0, 1))
);

CREATE INDEX staff_manager_id ON staff (manager_id);

CREATE TABLE teams (
  team_id INTEGER PRIMARY KEY AUTOINCREMENT,
  name    TEXT NOT NULL UNIQUE COLLATE NOCASE
);

CREATE TABLE team_members (
  team_id  INTEGER NOT NULL REFERENCES teams (team_id) ON DELETE CASCADE,
  staff_id INTEGER NOT NULL REFERENCES staff (staff_id) ON DELETE CASCADE,
  PRIMARY KEY (team_id, staff_id)
);
