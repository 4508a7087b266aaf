-- OrangeHRM 5's users and employees (installer/Migration, a subset of the columns), as an
-- installation upgraded from 4.x has them on MariaDB: utf8 (utf8mb3) tables, INT keys. A login
-- (ohrm_user) belongs to an employee (hs_hr_employee, through emp_number, which may be NULL for
-- the built-in Admin): the names, e-mail addresses and phones are the employee's. ohrm_user has
-- a soft-delete flag (deleted) and an enabled flag (status, 1 enabled, 0 disabled), both
-- TINYINT(1); user_role_id is required (1 Admin, 2 ESS) and has no default. An employee's job
-- title is a key of ohrm_job_title (job_title_code), the employment status (full-time,
-- freelance) a key of ohrm_employment_status (emp_status), the department a key of ohrm_subunit (a
-- nested set: lft/rgt/level), and a past employee has termination_id set (ohrm_emp_termination).
-- OrangeHRM has no groups: the user roles are the nearest thing.
CREATE TABLE ohrm_user_role (
  id INT(10) NOT NULL AUTO_INCREMENT,
  name VARCHAR(255) NOT NULL,
  display_name VARCHAR(255) NOT NULL,
  is_assignable TINYINT(1) DEFAULT 0,
  is_predefined TINYINT(1) DEFAULT 0,
  PRIMARY KEY (id),
  UNIQUE KEY user_role_name (name)
) ENGINE=InnoDB DEFAULT CHARSET=utf8;
CREATE TABLE ohrm_job_title (
  id INT(13) NOT NULL AUTO_INCREMENT,
  job_title VARCHAR(100) NOT NULL,
  job_description VARCHAR(400) DEFAULT NULL,
  note VARCHAR(400) DEFAULT NULL,
  is_deleted TINYINT(1) DEFAULT 0,
  PRIMARY KEY (id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8;
CREATE TABLE ohrm_subunit (
  id INT(6) NOT NULL AUTO_INCREMENT,
  name VARCHAR(100) NOT NULL,
  unit_id VARCHAR(100) DEFAULT NULL,
  description VARCHAR(400) DEFAULT NULL,
  lft SMALLINT(6) UNSIGNED DEFAULT NULL,
  rgt SMALLINT(6) UNSIGNED DEFAULT NULL,
  level SMALLINT(6) UNSIGNED DEFAULT NULL,
  PRIMARY KEY (id),
  UNIQUE KEY name (name)
) ENGINE=InnoDB DEFAULT CHARSET=utf8;
CREATE TABLE ohrm_employment_status (
  id INT(13) NOT NULL AUTO_INCREMENT,
  name VARCHAR(60) NOT NULL,
  PRIMARY KEY (id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8;
CREATE TABLE hs_hr_employee (
  emp_number INT(7) NOT NULL AUTO_INCREMENT,
  employee_id VARCHAR(50) DEFAULT NULL,
  emp_lastname VARCHAR(100) NOT NULL DEFAULT '',
  emp_firstname VARCHAR(100) NOT NULL DEFAULT '',
  emp_middle_name VARCHAR(100) NOT NULL DEFAULT '',
  emp_nick_name VARCHAR(100) DEFAULT '',
  emp_birthday DATE DEFAULT NULL,
  emp_gender SMALLINT DEFAULT NULL,
  emp_status INT(13) DEFAULT NULL,
  job_title_code INT(7) DEFAULT NULL,
  work_station INT(6) DEFAULT NULL,
  emp_mobile VARCHAR(50) DEFAULT NULL,
  emp_work_telephone VARCHAR(50) DEFAULT NULL,
  emp_work_email VARCHAR(50) DEFAULT NULL,
  emp_oth_email VARCHAR(50) DEFAULT NULL,
  joined_date DATE DEFAULT NULL,
  termination_id INT(4) DEFAULT NULL,
  purged_at TIMESTAMP NULL DEFAULT NULL,
  PRIMARY KEY (emp_number),
  KEY emp_status (emp_status),
  KEY job_title_code (job_title_code),
  KEY work_station (work_station),
  KEY termination_id (termination_id),
  CONSTRAINT hs_hr_employee_ibfk_5 FOREIGN KEY (emp_status) REFERENCES ohrm_employment_status (id) ON DELETE SET NULL,
  CONSTRAINT hs_hr_employee_ibfk_2 FOREIGN KEY (work_station) REFERENCES ohrm_subunit (id) ON DELETE SET NULL,
  CONSTRAINT hs_hr_employee_ibfk_4 FOREIGN KEY (job_title_code) REFERENCES ohrm_job_title (id) ON DELETE SET NULL
) ENGINE=InnoDB DEFAULT CHARSET=utf8;
CREATE TABLE ohrm_emp_termination (
  id INT(4) NOT NULL AUTO_INCREMENT,
  emp_number INT(4) DEFAULT NULL,
  reason_id INT(4) DEFAULT NULL,
  termination_date DATE NOT NULL,
  note VARCHAR(255) DEFAULT NULL,
  PRIMARY KEY (id),
  KEY emp_number (emp_number),
  CONSTRAINT ohrm_emp_termination_ibfk_1 FOREIGN KEY (emp_number) REFERENCES hs_hr_employee (emp_number) ON DELETE CASCADE
) ENGINE=InnoDB DEFAULT CHARSET=utf8;
ALTER TABLE hs_hr_employee ADD CONSTRAINT hs_hr_employee_ibfk_6 FOREIGN KEY (termination_id)
  REFERENCES ohrm_emp_termination (id) ON DELETE SET NULL;
CREATE TABLE ohrm_user (
  id INT(10) NOT NULL AUTO_INCREMENT,
  user_role_id INT(10) NOT NULL,
  emp_number INT(13) DEFAULT NULL,
  user_name VARCHAR(40) DEFAULT NULL,
  user_password VARCHAR(255) DEFAULT NULL,
  deleted TINYINT(1) NOT NULL DEFAULT 0,
  status TINYINT(1) NOT NULL DEFAULT 1,
  date_entered DATETIME DEFAULT NULL,
  date_modified DATETIME DEFAULT NULL,
  modified_user_id INT(10) DEFAULT NULL,
  created_by INT(10) DEFAULT NULL,
  PRIMARY KEY (id),
  UNIQUE KEY user_name (user_name),
  KEY user_role_id (user_role_id),
  KEY emp_number (emp_number),
  KEY modified_user_id (modified_user_id),
  KEY created_by (created_by),
  CONSTRAINT ohrm_user_ibfk_1 FOREIGN KEY (emp_number) REFERENCES hs_hr_employee (emp_number) ON DELETE CASCADE,
  CONSTRAINT ohrm_user_ibfk_2 FOREIGN KEY (user_role_id) REFERENCES ohrm_user_role (id) ON DELETE CASCADE,
  CONSTRAINT ohrm_user_ibfk_3 FOREIGN KEY (modified_user_id) REFERENCES ohrm_user (id) ON DELETE SET NULL,
  CONSTRAINT ohrm_user_ibfk_4 FOREIGN KEY (created_by) REFERENCES ohrm_user (id) ON DELETE SET NULL
) ENGINE=InnoDB DEFAULT CHARSET=utf8;
INSERT INTO ohrm_user_role (id, name, display_name, is_assignable, is_predefined) VALUES
  (1, 'Admin', 'Admin', 1, 1), (2, 'ESS', 'ESS', 1, 1), (3, 'Supervisor', 'Supervisor', 0, 1);
INSERT INTO ohrm_employment_status (id, name) VALUES (1, 'Full-Time Permanent'), (2, 'Freelance');
INSERT INTO ohrm_job_title (id, job_title) VALUES (1, 'HR Manager'), (2, 'Software Engineer');
INSERT INTO ohrm_subunit (id, name, unit_id, lft, rgt, level) VALUES
  (1, 'Acme Ltd', '', 1, 4, 0), (2, 'Engineering', 'ENG', 2, 3, 1);
INSERT INTO hs_hr_employee (emp_number, employee_id, emp_lastname, emp_firstname, emp_work_email, job_title_code, work_station, emp_status)
VALUES (1, '0001', 'Lovelace', 'Ada', 'ada@acme.example', 1, 1, 1),
       (2, '0002', 'Turing', 'Alan', 'alan@acme.example', 2, 2, 1),
       (3, '0003', 'Hopper', 'Grace', 'grace@acme.example', 2, 2, 2);
INSERT INTO ohrm_emp_termination (id, emp_number, termination_date, note) VALUES (1, 3, '2025-06-30', 'Retired');
UPDATE hs_hr_employee SET termination_id = 1 WHERE emp_number = 3;
INSERT INTO ohrm_user (id, user_role_id, emp_number, user_name, user_password, deleted, status, date_entered, created_by)
VALUES (1, 1, 1, 'admin', '$2y$12$hash', 0, 1, '2024-01-02 00:00:00', NULL),
       (2, 2, 2, 'alan', '$2y$12$hash', 0, 1, '2024-02-03 00:00:00', 1),
       (3, 2, 3, 'grace', '$2y$12$hash', 0, 0, '2024-03-04 00:00:00', 1),
       (4, 2, NULL, 'olduser', '$2y$12$hash', 1, 1, '2023-01-01 00:00:00', 1);
