-- The manager reference recipe (mappings/manager_reference.map) on MariaDB/MySQL: staff.manager_id
-- names another row of the same table; deleting a manager leaves the reports without one.

CREATE TABLE staff (
  staff_id    INT NOT NULL AUTO_INCREMENT PRIMARY KEY,
  login       VARCHAR(200) NOT NULL UNIQUE,
  given_name  VARCHAR(200),
  family_name VARCHAR(200),
  full_name   VARCHAR(200),
  mail        VARCHAR(200),
  department  VARCHAR(200),
  manager_id  INT NULL,
  active      BOOLEAN NOT NULL DEFAULT TRUE,
  KEY staff_manager_id (manager_id),
  CONSTRAINT staff_manager_fk FOREIGN KEY (manager_id) REFERENCES staff (staff_id) ON DELETE SET NULL
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4;

CREATE TABLE teams (
  team_id INT NOT NULL AUTO_INCREMENT PRIMARY KEY,
  name    VARCHAR(200) NOT NULL UNIQUE
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4;

CREATE TABLE team_members (
  team_id  INT NOT NULL,
  staff_id INT NOT NULL,
  PRIMARY KEY (team_id, staff_id),
  KEY team_members_staff_id (staff_id),
  CONSTRAINT team_members_team_fk FOREIGN KEY (team_id) REFERENCES teams (team_id) ON DELETE CASCADE,
  CONSTRAINT team_members_staff_fk FOREIGN KEY (staff_id) REFERENCES staff (staff_id) ON DELETE CASCADE
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4;
