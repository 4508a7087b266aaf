-- The manager reference recipe (mappings/manager_reference.map) on PostgreSQL: staff.manager_id
-- names another row of the same table; deleting a manager leaves the reports without one.

CREATE TABLE staff (
  staff_id    serial PRIMARY KEY,
  login       text NOT NULL UNIQUE,
  given_name  text,
  family_name text,
  full_name   text,
  mail        text,
  department  text,
  manager_id  integer REFERENCES staff (staff_id) ON DELETE SET NULL,
  active      boolean NOT NULL DEFAULT true
);

CREATE UNIQUE INDEX staff_login_lower ON staff (lower(login));
CREATE INDEX staff_manager_id ON staff (manager_id);

CREATE TABLE teams (
  team_id serial PRIMARY KEY,
  name    text NOT NULL UNIQUE
);

CREATE UNIQUE INDEX teams_name_lower ON teams (lower(name));

CREATE TABLE team_members (
  team_id  integer NOT NULL REFERENCES teams (team_id) ON DELETE CASCADE,
  staff_id integer NOT NULL REFERENCES staff (staff_id) ON DELETE CASCADE,
  PRIMARY KEY (team_id, staff_id)
);
