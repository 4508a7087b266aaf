-- The soft delete recipe (mappings/soft_delete.map) on MariaDB/MySQL.

CREATE TABLE members (
  member_id   INTEGER AUTO_INCREMENT PRIMARY KEY,
  login       VARCHAR(200) NOT NULL UNIQUE,
  given_name  VARCHAR(200),
  family_name VARCHAR(200),
  full_name   VARCHAR(200),
  mail        VARCHAR(200),
  title       VARCHAR(200),
  active      BOOLEAN NOT NULL DEFAULT TRUE,
  deleted_at  DATETIME
) ENGINE=InnoDB;

CREATE TABLE teams (
  team_id     INTEGER AUTO_INCREMENT PRIMARY KEY,
  name        VARCHAR(200) NOT NULL UNIQUE
) ENGINE=InnoDB;

CREATE TABLE team_members (
  team_id     INTEGER NOT NULL REFERENCES teams (team_id) ON DELETE CASCADE,
  member_id   INTEGER NOT NULL REFERENCES members (member_id) ON DELETE CASCADE,
  PRIMARY KEY (team_id, member_id)
) ENGINE=InnoDB;
