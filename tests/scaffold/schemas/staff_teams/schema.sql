-- Tried as a new user: a schema the scaffold was not written for. network_login is the login,
-- christian_name and known_as the names, is_leaver the inverted flag, archived_at the soft
-- delete, modified the watermark, line_manager the manager, teams joined through team_members.
CREATE TABLE staff (
  staff_no       INTEGER PRIMARY KEY,
  network_login  TEXT NOT NULL UNIQUE COLLATE NOCASE,
  christian_name TEXT,
  surname        TEXT,
  known_as       TEXT,
  work_email     TEXT,
  desk_phone     TEXT,
  cell           TEXT,
  role_title     TEXT,
  cost_centre    TEXT,
  line_manager   INTEGER REFERENCES staff (staff_no) ON DELETE SET NULL,
  is_leaver      INTEGER NOT NULL DEFAULT 0,
  archived_at    TEXT,
  modified       TEXT NOT NULL DEFAULT CURRENT_TIMESTAMP
);
CREATE TABLE teams (
  team_no     INTEGER PRIMARY KEY,
  team_title  TEXT NOT NULL UNIQUE COLLATE NOCASE,
  cost_centre TEXT
);
CREATE TABLE team_members (
  team_no  INTEGER NOT NULL REFERENCES teams (team_no) ON DELETE CASCADE,
  staff_no INTEGER NOT NULL REFERENCES staff (staff_no) ON DELETE CASCADE,
  joined   TEXT DEFAULT CURRENT_DATE,
  PRIMARY KEY (team_no, staff_no)
);
