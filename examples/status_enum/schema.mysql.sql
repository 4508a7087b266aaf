-- The status enum recipe (mappings/status_enum.map) on MariaDB/MySQL.

CREATE TABLE staff (
  staff_id    INTEGER AUTO_INCREMENT PRIMARY KEY,
  login       VARCHAR(200) NOT NULL UNIQUE,
  given_name  VARCHAR(200),
  family_name VARCHAR(200),
  full_name   VARCHAR(200),
  mail        VARCHAR(200),
  title       VARCHAR(200),
  status      CHAR(1) NOT NULL DEFAULT 'A' CHECK (status IN ('A', 'T', 'D'))
) ENGINE=InnoDB;

CREATE TABLE teams (
  team_id     INTEGER AUTO_INCREMENT PRIMARY KEY,
  name        VARCHAR(200) NOT NULL UNIQUE
) ENGINE=InnoDB;

CREATE TABLE team_members (
  team_id     INTEGER NOT NULL REFERENCES teams (team_id) ON DELETE CASCADE,
  staff_id    INTEGER NOT NULL REFERENCES staff (staff_id) ON DELETE CASCADE,
  PRIMARY KEY (team_id, staff_id)
) ENGINE=InnoDB;
