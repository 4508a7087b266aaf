-- Redmine 5.x's users, email_addresses and groups_users (db/schema.rb, every column of the three
-- tables, with Rails' MySQL types: INT(11), TINYINT(1), DATETIME, utf8mb4): users AND groups in
-- one table `users`, told apart by
-- `type` ('User', 'Group', and the built-ins 'AnonymousUser', 'GroupAnonymous' and
-- 'GroupNonMember', which a gateway must never serve or touch); a group's name in `lastname`;
-- `status` 1 active, 2 registered, 3 locked (0 for the anonymous user); text columns NOT NULL
-- DEFAULT ''; the login unique only by Rails' validation (no unique index); the e-mail in the
-- child table email_addresses (is_default, created_on and updated_on NOT NULL without default);
-- membership in groups_users. Redmine declares no foreign keys.
CREATE TABLE users (
  id INT(11) NOT NULL AUTO_INCREMENT PRIMARY KEY,
  login VARCHAR(255) NOT NULL DEFAULT '',
  hashed_password VARCHAR(40) NOT NULL DEFAULT '',
  firstname VARCHAR(30) NOT NULL DEFAULT '',
  lastname VARCHAR(255) NOT NULL DEFAULT '',
  admin TINYINT(1) NOT NULL DEFAULT 0,
  status INT(11) NOT NULL DEFAULT 1,
  last_login_on DATETIME,
  language VARCHAR(5) DEFAULT '',
  auth_source_id INT(11),
  created_on DATETIME,
  updated_on DATETIME,
  type VARCHAR(255),
  mail_notification VARCHAR(255) NOT NULL DEFAULT '',
  salt VARCHAR(64),
  must_change_passwd TINYINT(1) NOT NULL DEFAULT 0,
  passwd_changed_on DATETIME,
  twofa_scheme VARCHAR(255),
  twofa_totp_key VARCHAR(255),
  twofa_totp_last_used_at INT(11),
  twofa_required TINYINT(1) DEFAULT 0
) DEFAULT CHARSET=utf8mb4;
CREATE INDEX index_users_on_auth_source_id ON users (auth_source_id);
CREATE INDEX index_users_on_id_and_type ON users (id, type);
CREATE INDEX index_users_on_type ON users (type);
CREATE TABLE email_addresses (
  id INT(11) NOT NULL AUTO_INCREMENT PRIMARY KEY,
  user_id INT(11) NOT NULL,
  address VARCHAR(255) NOT NULL,
  is_default TINYINT(1) NOT NULL DEFAULT 0,
  notify TINYINT(1) NOT NULL DEFAULT 1,
  created_on DATETIME NOT NULL,
  updated_on DATETIME NOT NULL
) DEFAULT CHARSET=utf8mb4;
CREATE INDEX index_email_addresses_on_user_id ON email_addresses (user_id);
CREATE TABLE groups_users (
  group_id INT(11) NOT NULL,
  user_id INT(11) NOT NULL
) DEFAULT CHARSET=utf8mb4;
CREATE UNIQUE INDEX groups_users_ids ON groups_users (group_id, user_id);
-- what a fresh Redmine holds (db/migrate and the built-ins it creates on first use)
INSERT INTO users (login, hashed_password, firstname, lastname, admin, status, language, created_on, updated_on, type, mail_notification)
VALUES ('admin', '', 'Redmine', 'Admin', 1, 1, 'en', '2024-01-01 00:00:00', '2024-01-01 00:00:00', 'User', 'all'),
       ('', '', '', 'Anonymous', 0, 0, '', '2024-01-01 00:00:00', '2024-01-01 00:00:00', 'AnonymousUser', 'only_my_events'),
       ('', '', '', 'Anonymous users', 0, 1, '', '2024-01-01 00:00:00', '2024-01-01 00:00:00', 'GroupAnonymous', ''),
       ('', '', '', 'Non member users', 0, 1, '', '2024-01-01 00:00:00', '2024-01-01 00:00:00', 'GroupNonMember', '');
INSERT INTO email_addresses (user_id, address, is_default, notify, created_on, updated_on)
VALUES (1, 'admin@example.net', 1, 1, '2024-01-01 00:00:00', '2024-01-01 00:00:00');
