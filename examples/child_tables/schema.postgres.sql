-- The child tables recipe (mappings/child_tables.map) on PostgreSQL: a person's emails and phone
-- numbers are rows of their own tables (kind, value, primary), as the Generic SQL connector keeps
-- multi-valued attributes.

CREATE TABLE persons (
  person_id    serial PRIMARY KEY,
  login        text NOT NULL UNIQUE,
  first_name   text,
  last_name    text,
  display_name text,
  title        text,
  active       boolean NOT NULL DEFAULT true
);

CREATE UNIQUE INDEX persons_login_lower ON persons (lower(login));

CREATE TABLE person_emails (
  person_id  integer NOT NULL REFERENCES persons (person_id) ON DELETE CASCADE,
  kind       text,
  address    text NOT NULL,
  is_primary boolean NOT NULL DEFAULT false
);

CREATE INDEX person_emails_person_id ON person_emails (person_id);

CREATE TABLE person_phones (
  person_id  integer NOT NULL REFERENCES persons (person_id) ON DELETE CASCADE,
  kind       text,
  number     text NOT NULL,
  is_primary boolean NOT NULL DEFAULT false
);

CREATE INDEX person_phones_person_id ON person_phones (person_id);

CREATE TABLE teams (
  team_id serial PRIMARY KEY,
  name    text NOT NULL UNIQUE
);

CREATE UNIQUE INDEX teams_name_lower ON teams (lower(name));

CREATE TABLE team_members (
  team_id   integer NOT NULL REFERENCES teams (team_id) ON DELETE CASCADE,
  person_id integer NOT NULL REFERENCES persons (person_id) ON DELETE CASCADE,
  PRIMARY KEY (team_id, person_id)
);
