-- One table of people keyed by a UUID, named by their email, with a status code that says
-- active, suspended or deleted; no groups.
CREATE TABLE people (
  person_id  CHAR(36) PRIMARY KEY,
  email      TEXT NOT NULL UNIQUE COLLATE NOCASE,
  full_name  TEXT,
  job_title  TEXT,
  mobile     TEXT,
  status     TEXT NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'suspended', 'deleted'))
);
