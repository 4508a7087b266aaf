-- The child tables recipe (mappings/child_tables.map) on MariaDB/MySQL: a person's emails and
-- phone numbers are rows of their own tables (kind, value, primary), as the Generic SQL connector
-- keeps multi-valued attributes.

CREATE TABLE persons (
  person_id    INT NOT NULL AUTO_INCREMENT PRIMARY KEY,
  login        VARCHAR(200) NOT NULL UNIQUE,
  first_name   VARCHAR(200),
  last_name    VARCHAR(200),
  display_name VARCHAR(200),
  title        VARCHAR(200),
  active       BOOLEAN NOT NULL DEFAULT TRUE
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4;

CREATE TABLE person_emails (
  person_id  INT NOT NULL,
  kind       VARCHAR(64),
  address    VARCHAR(255) NOT NULL,
  is_primary BOOLEAN NOT NULL DEFAULT FALSE,
  KEY person_emails_person_id (person_id),
  CONSTRAINT person_emails_person_fk FOREIGN KEY (person_id) REFERENCES persons (person_id) ON DELETE CASCADE
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4;

CREATE TABLE person_phones (
  person_id  INT NOT NULL,
  kind       VARCHAR(64),
  number     VARCHAR(64) NOT NULL,
  is_primary BOOLEAN NOT NULL DEFAULT FALSE,
  KEY person_phones_person_id (person_id),
  CONSTRAINT person_phones_person_fk FOREIGN KEY (person_id) REFERENCES persons (person_id) ON DELETE CASCADE
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4;

CREATE TABLE teams (
  team_id INT NOT NULL AUTO_INCREMENT PRIMARY KEY,
  name    VARCHAR(200) NOT NULL UNIQUE
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4;

CREATE TABLE team_members (
  team_id   INT NOT NULL,
  person_id INT NOT NULL,
  PRIMARY KEY (team_id, person_id),
  KEY team_members_person_id (person_id),
  CONSTRAINT team_members_team_fk FOREIGN KEY (team_id) REFERENCES teams (team_id) ON DELETE CASCADE,
  CONSTRAINT team_members_person_fk FOREIGN KEY (person_id) REFERENCES persons (person_id) ON DELETE CASCADE
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4;
