-- Redmine 5.x's users, email_addresses and groups_users (db/schema.rb, every column of the three
-- tables, with SQLite's types as Rails declares them): users AND groups in one table `users`, told apart by
-- `type` ('User', 'Group', and the built-ins 'AnonymousUser', 'GroupAnonymous' and
-- 'GroupNonMember', which a gateway must never serve or touch); a group's name in `lastname`;
-- `status` 1 active, 2 registered, 3 locked (0 for the anonymous user); text columns NOT NULL
-- DEFAULT ''; the login unique only by Rails' validation (no unique index); the e-mail in the
-- child table email_addresses (is_default, created_on and updated_on NOT NULL without default);
-- membership in groups_users. Redmine declares no foreign keys.
CREATE TABLE users (
  id INTEGER PRIMARY KEY,
  login VARCHAR(255) NOT NULL DEFAULT '',
  hashed_password VARCHAR(40) NOT NULL DEFAULT '',
  firstname VARCHAR(30) NOT NULL DEFAULT '',
  lastname VARCHAR(255) NOT NULL DEFAULT '',
  admin BOOLEAN NOT NULL DEFAULT FALSE,
  status INTEGER NOT NULL DEFAULT 1,
  last_login_on TIMESTAMP,
  language VARCHAR(5) DEFAULT '',
  auth_source_id INTEGER,
  created_on TIMESTAMP,
  updated_on TIMESTAMP,
  type VARCHAR(255),
  mail_notification VARCHAR(255) NOT NULL DEFAULT '',
  salt VARCHAR(64),
  must_change_passwd BOOLEAN NOT NULL DEFAULT FALSE,
  passwd_changed_on TIMESTAMP,
  twofa_scheme VARCHAR(255),
  twofa_totp_key VARCHAR(255),
  twofa_totp_last_used_at INTEGER,
  twofa_required BOOLEAN DEFAULT FALSE
);
CREATE INDEX index_users_on_auth_source_id ON users (auth_source_id);
CREATE INDEX index_users_on_id_and_type ON users (id, type);
CREATE INDEX index_users_on_type ON users (type);
CREATE TABLE email_addresses (
  id INTEGER PRIMARY KEY,
  user_id INTEGER NOT NULL,
  address VARCHAR(255) NOT NULL,
  is_default BOOLEAN NOT NULL DEFAULT FALSE,
  notify BOOLEAN NOT NULL DEFAULT TRUE,
  created_on TIMESTAMP NOT NULL,
  updated_on TIMESTAMP NOT NULL
);
CREATE INDEX index_email_addresses_on_user_id ON email_addresses (user_id);
CREATE TABLE groups_users (
  group_id INTEGER NOT NULL,
  user_id INTEGER NOT NULL
);
CREATE UNIQUE INDEX groups_users_ids ON groups_users (group_id, user_id);
-- what a fresh Redmine holds (db/migrate and the built-ins it creates on first use)
INSERT INTO users (login, hashed_password, firstname, lastname, admin, status, language, created_on, updated_on, type, mail_notification)
VALUES ('admin', '', 'Redmine', 'Admin', TRUE, 1, 'en', '2024-01-01 00:00:00', '2024-01-01 00:00:00', 'User', 'all'),
       ('', '', '', 'Anonymous', FALSE, 0, '', '2024-01-01 00:00:00', '2024-01-01 00:00:00', 'AnonymousUser', 'only_my_events'),
       ('', '', '', 'Anonymous users', FALSE, 1, '', '2024-01-01 00:00:00', '2024-01-01 00:00:00', 'GroupAnonymous', ''),
       ('', '', '', 'Non member users', FALSE, 1, '', '2024-01-01 00:00:00', '2024-01-01 00:00:00', 'GroupNonMember', '');
INSERT INTO email_addresses (user_id, address, is_default, notify, created_on, updated_on)
VALUES (1, 'admin@example.net', TRUE, TRUE, '2024-01-01 00:00:00', '2024-01-01 00:00:00');
