CREATE TYPE person_status AS ENUM ('active', 'suspended', 'deleted');
CREATE TABLE people (
  person_id  UUID PRIMARY KEY,
  email      VARCHAR(320) NOT NULL,
  full_name  VARCHAR(200),
  job_title  VARCHAR(200),
  mobile     VARCHAR(50),
  status     person_status NOT NULL DEFAULT 'active'
);
CREATE UNIQUE INDEX people_email_lower ON people (lower(email));
