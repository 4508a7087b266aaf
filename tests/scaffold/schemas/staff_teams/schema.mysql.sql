CREATE TABLE staff (
  staff_no       INT NOT NULL AUTO_INCREMENT PRIMARY KEY,
  network_login  VARCHAR(100) NOT NULL UNIQUE,
  christian_name VARCHAR(100),
  surname        VARCHAR(100),
  known_as       VARCHAR(100),
  work_email     VARCHAR(200),
  desk_phone     VARCHAR(30),
  cell           VARCHAR(30),
  role_title     VARCHAR(100),
  cost_centre    VARCHAR(20),
  line_manager   INT NULL,
  is_leaver      TINYINT(1) NOT NULL DEFAULT 0,
  archived_at    DATETIME(6) NULL,
  modified       DATETIME(6) NOT NULL DEFAULT CURRENT_TIMESTAMP(6) ON UPDATE CURRENT_TIMESTAMP(6),
  CONSTRAINT staff_line_manager FOREIGN KEY (line_manager) REFERENCES staff (staff_no) ON DELETE SET NULL
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4;
CREATE TABLE teams (
  team_no     INT NOT NULL AUTO_INCREMENT PRIMARY KEY,
  team_title  VARCHAR(100) NOT NULL UNIQUE,
  cost_centre VARCHAR(20)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4;
CREATE TABLE team_members (
  team_no  INT NOT NULL,
  staff_no INT NOT NULL,
  joined   DATE NULL,
  PRIMARY KEY (team_no, staff_no),
  CONSTRAINT team_members_team FOREIGN KEY (team_no) REFERENCES teams (team_no) ON DELETE CASCADE,
  CONSTRAINT team_members_staff FOREIGN KEY (staff_no) REFERENCES staff (staff_no) ON DELETE CASCADE
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4;
