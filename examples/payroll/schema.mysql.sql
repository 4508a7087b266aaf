-- Payroll example schema for MariaDB / MySQL, served by payroll.map (compiled with --dialect mysql).
-- Workers are written only through the payroll_* procedures; every change to a worker is recorded
-- in worker_changes by triggers, which autosync reads as a change table (delta table).
-- Worker ids are UUIDs kept as CHAR(36) text.
-- Load with: mariadb payroll < schema.mysql.sql  (the DELIMITER lines are for the command-line client)

CREATE TABLE cost_centers (
  code VARCHAR(32) NOT NULL PRIMARY KEY,
  name VARCHAR(255) NOT NULL
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4;

CREATE TABLE workers (
  worker_id      CHAR(36) NOT NULL PRIMARY KEY,
  login          VARCHAR(255) NOT NULL UNIQUE,
  first_name     VARCHAR(255),
  last_name      VARCHAR(255),
  email          VARCHAR(255),
  payroll_number VARCHAR(64) UNIQUE,
  cost_center    VARCHAR(32),
  grade          INT,
  active         BOOLEAN NOT NULL DEFAULT TRUE,
  deleted_at     DATETIME(6) NULL,  -- workers are never removed: payroll keeps their history
  CONSTRAINT workers_cost_center_fk FOREIGN KEY (cost_center) REFERENCES cost_centers (code)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4;

-- The change table: one row per insert, update or (soft) delete of a worker, in commit order.
CREATE TABLE worker_changes (
  change_id   BIGINT NOT NULL AUTO_INCREMENT PRIMARY KEY,
  worker_id   CHAR(36) NOT NULL,
  change_type VARCHAR(16) NOT NULL CHECK (change_type IN ('insert', 'update', 'delete')),
  changed_at  DATETIME(6) NOT NULL DEFAULT CURRENT_TIMESTAMP(6)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4;

CREATE TABLE pay_groups (
  code        VARCHAR(64) NOT NULL PRIMARY KEY,
  description VARCHAR(255)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4;

CREATE TABLE pay_group_members (
  code      VARCHAR(64) NOT NULL,
  worker_id CHAR(36) NOT NULL,
  PRIMARY KEY (code, worker_id),
  CONSTRAINT pay_group_members_group_fk FOREIGN KEY (code) REFERENCES pay_groups (code) ON DELETE CASCADE,
  CONSTRAINT pay_group_members_worker_fk FOREIGN KEY (worker_id) REFERENCES workers (worker_id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4;

INSERT INTO cost_centers (code, name) VALUES
  ('CC-100', 'Headquarters'),
  ('CC-200', 'Engineering'),
  ('CC-300', 'Field Operations');

DELIMITER $$

CREATE TRIGGER workers_inserted AFTER INSERT ON workers
FOR EACH ROW
BEGIN
  INSERT INTO worker_changes (worker_id, change_type) VALUES (NEW.worker_id, 'insert');
END$$

CREATE TRIGGER workers_updated AFTER UPDATE ON workers
FOR EACH ROW
BEGIN
  IF OLD.deleted_at IS NULL AND NEW.deleted_at IS NOT NULL THEN
    INSERT INTO worker_changes (worker_id, change_type) VALUES (OLD.worker_id, 'delete');
  ELSE
    INSERT INTO worker_changes (worker_id, change_type) VALUES (NEW.worker_id, 'update');
  END IF;
END$$

CREATE TRIGGER workers_deleted AFTER DELETE ON workers
FOR EACH ROW
BEGIN
  INSERT INTO worker_changes (worker_id, change_type) VALUES (OLD.worker_id, 'delete');
END$$

CREATE PROCEDURE payroll_create_worker(
  IN p_worker_id CHAR(36), IN p_login VARCHAR(255), IN p_first_name VARCHAR(255),
  IN p_last_name VARCHAR(255), IN p_email VARCHAR(255), IN p_payroll_number VARCHAR(64),
  IN p_cost_center VARCHAR(32), IN p_grade INT, IN p_active BOOLEAN
)
BEGIN
  INSERT INTO workers (worker_id, login, first_name, last_name, email, payroll_number, cost_center,
                       grade, active)
  VALUES (p_worker_id, p_login, p_first_name, p_last_name, p_email, p_payroll_number, p_cost_center,
          p_grade, COALESCE(p_active, TRUE));
END$$

CREATE PROCEDURE payroll_update_worker(
  IN p_worker_id CHAR(36), IN p_login VARCHAR(255), IN p_first_name VARCHAR(255),
  IN p_last_name VARCHAR(255), IN p_email VARCHAR(255), IN p_payroll_number VARCHAR(64),
  IN p_cost_center VARCHAR(32), IN p_grade INT, IN p_active BOOLEAN
)
BEGIN
  UPDATE workers
  SET login = p_login, first_name = p_first_name, last_name = p_last_name, email = p_email,
      payroll_number = p_payroll_number, cost_center = p_cost_center, grade = p_grade,
      active = COALESCE(p_active, active)
  WHERE worker_id = p_worker_id AND deleted_at IS NULL;
  IF NOT EXISTS (SELECT 1 FROM workers WHERE worker_id = p_worker_id AND deleted_at IS NULL) THEN
    SIGNAL SQLSTATE '45000' SET MESSAGE_TEXT = 'no such worker';
  END IF;
END$$

CREATE PROCEDURE payroll_delete_worker(IN p_worker_id CHAR(36))
BEGIN
  DELETE FROM pay_group_members WHERE worker_id = p_worker_id;
  UPDATE workers SET deleted_at = CURRENT_TIMESTAMP(6), active = FALSE
  WHERE worker_id = p_worker_id AND deleted_at IS NULL;
END$$

CREATE PROCEDURE payroll_add_member(IN p_code VARCHAR(64), IN p_worker_id CHAR(36))
BEGIN
  INSERT IGNORE INTO pay_group_members (code, worker_id) VALUES (p_code, p_worker_id);
END$$

CREATE PROCEDURE payroll_remove_member(IN p_code VARCHAR(64), IN p_worker_id CHAR(36))
BEGIN
  DELETE FROM pay_group_members WHERE code = p_code AND worker_id = p_worker_id;
END$$

DELIMITER ;
