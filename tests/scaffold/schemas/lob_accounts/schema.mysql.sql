CREATE TABLE accounts (
  account_id  INT NOT NULL AUTO_INCREMENT PRIMARY KEY,
  username    VARCHAR(200) NOT NULL UNIQUE,
  email       VARCHAR(200),
  first_name  VARCHAR(200),
  last_name   VARCHAR(200),
  job_title   VARCHAR(200),
  kind        ENUM('employee', 'contractor') NOT NULL DEFAULT 'employee',
  locked      BOOLEAN NOT NULL DEFAULT FALSE,
  deleted_at  DATETIME(6) NULL
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4;
CREATE TABLE roles (
  role_id   INT NOT NULL AUTO_INCREMENT PRIMARY KEY,
  role_name VARCHAR(200) NOT NULL UNIQUE,
  notes     TEXT
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4;
CREATE TABLE account_roles (
  account_id INT NOT NULL,
  role_id    INT NOT NULL,
  granted_at DATETIME(6) NOT NULL DEFAULT CURRENT_TIMESTAMP(6),
  PRIMARY KEY (account_id, role_id),
  CONSTRAINT account_roles_account FOREIGN KEY (account_id) REFERENCES accounts (account_id) ON DELETE CASCADE,
  CONSTRAINT account_roles_role FOREIGN KEY (role_id) REFERENCES roles (role_id) ON DELETE CASCADE
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4;
