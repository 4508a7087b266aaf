-- HR example schema for MariaDB / MySQL: employees and groups, served as SCIM Users and Groups by hr.map.
-- Timestamps are DATETIME(6) in UTC (the gateway sets time_zone '+00:00' on each connection);
-- updated_at is maintained by ON UPDATE with microsecond precision, so autosync's watermark sees
-- changes made within the same second. The default collation is case-insensitive, as SCIM userName is.
-- Load with: mariadb hr < schema.mysql.sql

CREATE TABLE employees (
  employee_id     INT NOT NULL AUTO_INCREMENT PRIMARY KEY,
  login           VARCHAR(255) NOT NULL UNIQUE,
  external_id     VARCHAR(255),
  given_name      VARCHAR(255),
  family_name     VARCHAR(255),
  display_name    VARCHAR(255),
  nick_name       VARCHAR(255),
  title           VARCHAR(255),
  mail            VARCHAR(255),
  phone           VARCHAR(64),
  formatted_name  VARCHAR(255),
  street_address  VARCHAR(255),
  locality        VARCHAR(255),
  region          VARCHAR(255),
  postal_code     VARCHAR(255),
  country         VARCHAR(255),
  department      VARCHAR(255),
  employee_number VARCHAR(64),
  manager_id      INT NULL,
  active          BOOLEAN NOT NULL DEFAULT TRUE,
  created_at      DATETIME(6) NOT NULL DEFAULT CURRENT_TIMESTAMP(6),
  updated_at      DATETIME(6) NOT NULL DEFAULT CURRENT_TIMESTAMP(6) ON UPDATE CURRENT_TIMESTAMP(6),
  KEY employees_updated_at (updated_at),
  CONSTRAINT employees_manager_fk FOREIGN KEY (manager_id) REFERENCES employees (employee_id) ON DELETE SET NULL
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4;

CREATE TABLE `groups` (
  group_id    INT NOT NULL AUTO_INCREMENT PRIMARY KEY,
  name        VARCHAR(255) NOT NULL UNIQUE,
  external_id VARCHAR(255),
  created_at  DATETIME(6) NOT NULL DEFAULT CURRENT_TIMESTAMP(6),
  updated_at  DATETIME(6) NOT NULL DEFAULT CURRENT_TIMESTAMP(6) ON UPDATE CURRENT_TIMESTAMP(6),
  KEY groups_updated_at (updated_at)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4;

CREATE TABLE group_members (
  group_id    INT NOT NULL,
  employee_id INT NOT NULL,
  PRIMARY KEY (group_id, employee_id),
  KEY group_members_employee_id (employee_id),
  CONSTRAINT group_members_group_fk FOREIGN KEY (group_id) REFERENCES `groups` (group_id) ON DELETE CASCADE,
  CONSTRAINT group_members_employee_fk FOREIGN KEY (employee_id) REFERENCES employees (employee_id) ON DELETE CASCADE
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4;

-- A membership change is a change of the group: touch it so the watermark delta sees it.
-- Rows removed by ON DELETE CASCADE do not fire triggers in MariaDB; the periodic full import sees them.
-- Because of these triggers, INSERT INTO group_members ... SELECT ... FROM `groups` fails (error 1442):
-- insert member rows with VALUES.
CREATE TRIGGER group_members_added AFTER INSERT ON group_members
FOR EACH ROW UPDATE `groups` SET updated_at = CURRENT_TIMESTAMP(6) WHERE group_id = NEW.group_id;

CREATE TRIGGER group_members_removed AFTER DELETE ON group_members
FOR EACH ROW UPDATE `groups` SET updated_at = CURRENT_TIMESTAMP(6) WHERE group_id = OLD.group_id;
