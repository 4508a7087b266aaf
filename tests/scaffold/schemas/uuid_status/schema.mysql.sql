CREATE TABLE people (
  person_id  CHAR(36) NOT NULL PRIMARY KEY,
  email      VARCHAR(320) NOT NULL UNIQUE,
  full_name  VARCHAR(200),
  job_title  VARCHAR(200),
  mobile     VARCHAR(50),
  status     ENUM('active', 'suspended', 'deleted') NOT NULL DEFAULT 'active'
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4;
