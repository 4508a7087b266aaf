-- HR example schema for MariaDB / MySQL: employees and groups, served as SCIM Users and Groups by hr.map.
-- A user's emails and phone numbers (type, value, primary) are rows of child tables, as the
-- Generic SQL connector keeps multi-valued attributes.
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

-- Every email and phone number of an employee: type ('work', 'home', 'mobile'...; may be NULL),
-- the address or number, and whether it is the primary one (at most one each, kept by the gateway).
CREATE TABLE employee_emails (
  employee_id INT NOT NULL,
  email_type  VARCHAR(64),
  address     VARCHAR(255) NOT NULL,
  is_primary  BOOLEAN NOT NULL DEFAULT FALSE,
  KEY employee_emails_employee_id (employee_id),
  CONSTRAINT employee_emails_employee_fk FOREIGN KEY (employee_id) REFERENCES employees (employee_id) ON DELETE CASCADE
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4;

CREATE TABLE employee_phones (
  employee_id INT NOT NULL,
  phone_type  VARCHAR(64),
  number      VARCHAR(64) NOT NULL,
  is_primary  BOOLEAN NOT NULL DEFAULT FALSE,
  KEY employee_phones_employee_id (employee_id),
  CONSTRAINT employee_phones_employee_fk FOREIGN KEY (employee_id) REFERENCES employees (employee_id) ON DELETE CASCADE
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

-- An email or phone change is a change of the employee: touch it so the watermark delta sees it.
CREATE TRIGGER employee_emails_added AFTER INSERT ON employee_emails
FOR EACH ROW UPDATE employees SET updated_at = CURRENT_TIMESTAMP(6) WHERE employee_id = NEW.employee_id;

CREATE TRIGGER employee_emails_removed AFTER DELETE ON employee_emails
FOR EACH ROW UPDATE employees SET updated_at = CURRENT_TIMESTAMP(6) WHERE employee_id = OLD.employee_id;

CREATE TRIGGER employee_phones_added AFTER INSERT ON employee_phones
FOR EACH ROW UPDATE employees SET updated_at = CURRENT_TIMESTAMP(6) WHERE employee_id = NEW.employee_id;

CREATE TRIGGER employee_phones_removed AFTER DELETE ON employee_phones
FOR EACH ROW UPDATE employees SET updated_at = CURRENT_TIMESTAMP(6) WHERE employee_id = OLD.employee_id;
