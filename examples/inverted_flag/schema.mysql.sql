-- The inverted flag recipe (mappings/inverted_flag.map) on MariaDB/MySQL.

CREATE TABLE accounts (
  account_id  INTEGER AUTO_INCREMENT PRIMARY KEY,
  login       VARCHAR(200) NOT NULL UNIQUE,
  given_name  VARCHAR(200),
  family_name VARCHAR(200),
  full_name   VARCHAR(200),
  mail        VARCHAR(200),
  title       VARCHAR(200),
  locked      BOOLEAN NOT NULL DEFAULT FALSE
) ENGINE=InnoDB;

CREATE TABLE teams (
  team_id     INTEGER AUTO_INCREMENT PRIMARY KEY,
  name        VARCHAR(200) NOT NULL UNIQUE
) ENGINE=InnoDB;

CREATE TABLE team_members (
  team_id     INTEGER NOT NULL REFERENCES teams (team_id) ON DELETE CASCADE,
  account_id  INTEGER NOT NULL REFERENCES accounts (account_id) ON DELETE CASCADE,
  PRIMARY KEY (team_id, account_id)
) ENGINE=InnoDB;
