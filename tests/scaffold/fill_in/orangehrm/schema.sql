-- OrangeHRM 5's users and employees (schema.mysql.sql says which columns and why) as Doctrine
-- would create them on SQLite (OrangeHRM ships for MariaDB/MySQL only): its boolean flags
-- (deleted, status) BOOLEAN, its keys INTEGER PRIMARY KEY.
CREATE TABLE ohrm_user_role (
  id INTEGER PRIMARY KEY,
  name VARCHAR(255) NOT NULL UNIQUE,
  display_name VARCHAR(255) NOT NULL,
  is_assignable BOOLEAN DEFAULT FALSE,
  is_predefined BOOLEAN DEFAULT FALSE
);
CREATE TABLE ohrm_job_title (
  id INTEGER PRIMARY KEY,
  job_title VARCHAR(100) NOT NULL,
  job_description VARCHAR(400) DEFAULT NULL,
  note VARCHAR(400) DEFAULT NULL,
  is_deleted BOOLEAN DEFAULT FALSE
);
CREATE TABLE ohrm_subunit (
  id INTEGER PRIMARY KEY,
  name VARCHAR(100) NOT NULL UNIQUE,
  unit_id VARCHAR(100) DEFAULT NULL,
  description VARCHAR(400) DEFAULT NULL,
  lft SMALLINT DEFAULT NULL,
  rgt SMALLINT DEFAULT NULL,
  level SMALLINT DEFAULT NULL
);
CREATE TABLE ohrm_employment_status (
  id INTEGER PRIMARY KEY,
  name VARCHAR(60) NOT NULL
);
CREATE TABLE hs_hr_employee (
  emp_number INTEGER PRIMARY KEY,
  employee_id VARCHAR(50) DEFAULT NULL,
  emp_lastname VARCHAR(100) NOT NULL DEFAULT '',
  emp_firstname VARCHAR(100) NOT NULL DEFAULT '',
  emp_middle_name VARCHAR(100) NOT NULL DEFAULT '',
  emp_nick_name VARCHAR(100) DEFAULT '',
  emp_birthday DATE DEFAULT NULL,
  emp_gender SMALLINT DEFAULT NULL,
  emp_status INTEGER DEFAULT NULL REFERENCES ohrm_employment_status (id) ON DELETE SET NULL,
  job_title_code INTEGER DEFAULT NULL REFERENCES ohrm_job_title (id) ON DELETE SET NULL,
  work_station INTEGER DEFAULT NULL REFERENCES ohrm_subunit (id) ON DELETE SET NULL,
  emp_mobile VARCHAR(50) DEFAULT NULL,
  emp_work_telephone VARCHAR(50) DEFAULT NULL,
  emp_work_email VARCHAR(50) DEFAULT NULL,
  emp_oth_email VARCHAR(50) DEFAULT NULL,
  joined_date DATE DEFAULT NULL,
  termination_id INTEGER DEFAULT NULL REFERENCES ohrm_emp_termination (id) ON DELETE SET NULL,
  purged_at TIMESTAMP NULL DEFAULT NULL
);
CREATE TABLE ohrm_emp_termination (
  id INTEGER PRIMARY KEY,
  emp_number INTEGER DEFAULT NULL REFERENCES hs_hr_employee (emp_number) ON DELETE CASCADE,
  reason_id INTEGER DEFAULT NULL,
  termination_date DATE NOT NULL,
  note VARCHAR(255) DEFAULT NULL
);
CREATE TABLE ohrm_user (
  id INTEGER PRIMARY KEY,
  user_role_id INTEGER NOT NULL REFERENCES ohrm_user_role (id) ON DELETE CASCADE,
  emp_number INTEGER DEFAULT NULL REFERENCES hs_hr_employee (emp_number) ON DELETE CASCADE,
  user_name VARCHAR(40) DEFAULT NULL UNIQUE,
  user_password VARCHAR(255) DEFAULT NULL,
  deleted BOOLEAN NOT NULL DEFAULT FALSE,
  status BOOLEAN NOT NULL DEFAULT TRUE,
  date_entered TIMESTAMP DEFAULT NULL,
  date_modified TIMESTAMP DEFAULT NULL,
  modified_user_id INTEGER DEFAULT NULL REFERENCES ohrm_user (id) ON DELETE SET NULL,
  created_by INTEGER DEFAULT NULL REFERENCES ohrm_user (id) ON DELETE SET NULL
);
INSERT INTO ohrm_user_role (id, name, display_name, is_assignable, is_predefined) VALUES
  (1, 'Admin', 'Admin', TRUE, TRUE), (2, 'ESS', 'ESS', TRUE, TRUE), (3, 'Supervisor', 'Supervisor', FALSE, TRUE);
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
VALUES (1, 1, 1, 'admin', '$2y$12$hash', FALSE, TRUE, '2024-01-02 00:00:00', NULL),
       (2, 2, 2, 'alan', '$2y$12$hash', FALSE, TRUE, '2024-02-03 00:00:00', 1),
       (3, 2, 3, 'grace', '$2y$12$hash', FALSE, FALSE, '2024-03-04 00:00:00', 1),
       (4, 2, NULL, 'olduser', '$2y$12$hash', TRUE, TRUE, '2023-01-01 00:00:00', 1);
