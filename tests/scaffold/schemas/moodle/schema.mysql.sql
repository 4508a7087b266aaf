-- Moodle's user and cohort tables (lib/db/install.xml, a subset of mdl_user's columns): a
-- soft-delete flag and an inverted active flag as TINYINT(2), times as BIGINT epoch seconds, the
-- username unique only per mnethostid, NOT NULL columns with defaults. Moodle declares no foreign
-- keys: mdl_cohort_members.userid and cohortid are found by their names (the key of mdl_user and
-- mdl_cohort, without the shared mdl_ prefix and the _); a group's or a user's delete removes its
-- member rows itself (the simulator checks that none is left behind).
-- Moodle's mdl_cohort.contextid and its times have no default (the scaffold asks for them: FILL
-- IN); here they have one, so that the simulator can create groups.
CREATE TABLE mdl_user (
  id BIGINT AUTO_INCREMENT PRIMARY KEY,
  auth VARCHAR(20) NOT NULL DEFAULT 'manual',
  confirmed TINYINT(2) NOT NULL DEFAULT 0,
  deleted TINYINT(2) NOT NULL DEFAULT 0,
  suspended TINYINT(2) NOT NULL DEFAULT 0,
  mnethostid BIGINT NOT NULL DEFAULT 0,
  username VARCHAR(100) NOT NULL DEFAULT '',
  idnumber VARCHAR(255) NOT NULL DEFAULT '',
  firstname VARCHAR(100) NOT NULL,
  lastname VARCHAR(100) NOT NULL,
  email VARCHAR(100) NOT NULL,
  city VARCHAR(120) NOT NULL DEFAULT '',
  country VARCHAR(2) NOT NULL DEFAULT '',
  lang VARCHAR(30) NOT NULL DEFAULT 'en',
  timecreated BIGINT NOT NULL DEFAULT 0,
  timemodified BIGINT NOT NULL DEFAULT 0
);
CREATE UNIQUE INDEX mdl_user_mneuse_uix ON mdl_user (mnethostid, username);
CREATE TABLE mdl_cohort (
  id BIGINT AUTO_INCREMENT PRIMARY KEY,
  contextid BIGINT NOT NULL DEFAULT 1,
  name VARCHAR(254) NOT NULL DEFAULT '',
  idnumber VARCHAR(100),
  timecreated BIGINT NOT NULL DEFAULT 0,
  timemodified BIGINT NOT NULL DEFAULT 0
);
CREATE TABLE mdl_cohort_members (
  id BIGINT AUTO_INCREMENT PRIMARY KEY,
  cohortid BIGINT NOT NULL DEFAULT 0,
  userid BIGINT NOT NULL DEFAULT 0,
  timeadded BIGINT NOT NULL DEFAULT 0
);
CREATE UNIQUE INDEX mdl_cohomemb_cohuse_uix ON mdl_cohort_members (cohortid, userid);
INSERT INTO mdl_user (auth, confirmed, mnethostid, username, firstname, lastname, email, timecreated, timemodified)
VALUES ('manual', 1, 1, 'admin', 'Admin', 'User', 'admin@example.com', 1700000000, 1700000000);
