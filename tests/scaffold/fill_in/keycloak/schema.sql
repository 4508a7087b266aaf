-- Keycloak 26's users and groups (its Liquibase changelogs, with the types SQLite is given; the
-- tables a SCIM gateway touches, every column of each): one `user_entity` table for every realm, told
-- apart by `realm_id` (the realm's UUID; no foreign key), the login unique only within its realm
-- (UNIQUE (realm_id, username)) and kept in lower case; the key a UUID text Keycloak generates;
-- `enabled` the active flag; `created_timestamp` milliseconds since the epoch; service accounts
-- (bots) are users with `service_account_client_link` set; no updated-at column. Other user
-- data in the key-value table `user_attribute` (name, value); groups in `keycloak_group` (a
-- tree: `parent_group` is ' ' at the top; `type` 1 for an organization's groups), members in
-- `user_group_membership` (its `membership_type` NOT NULL, 'UNMANAGED' for every member an
-- administrator adds). `credential` holds the password hashes.
CREATE TABLE realm (
  id VARCHAR(36) NOT NULL,
  access_code_lifespan INTEGER,
  user_action_lifespan INTEGER,
  access_token_lifespan INTEGER,
  account_theme VARCHAR(255),
  admin_theme VARCHAR(255),
  email_theme VARCHAR(255),
  enabled BOOLEAN NOT NULL DEFAULT FALSE,
  events_enabled BOOLEAN NOT NULL DEFAULT FALSE,
  events_expiration BIGINT,
  login_theme VARCHAR(255),
  name VARCHAR(255),
  not_before INTEGER,
  password_policy VARCHAR(2550),
  registration_allowed BOOLEAN NOT NULL DEFAULT FALSE,
  remember_me BOOLEAN NOT NULL DEFAULT FALSE,
  reset_password_allowed BOOLEAN NOT NULL DEFAULT FALSE,
  social BOOLEAN NOT NULL DEFAULT FALSE,
  ssl_required VARCHAR(255),
  sso_idle_timeout INTEGER,
  sso_max_lifespan INTEGER,
  update_profile_on_soc_login BOOLEAN NOT NULL DEFAULT FALSE,
  verify_email BOOLEAN NOT NULL DEFAULT FALSE,
  master_admin_client VARCHAR(36),
  login_lifespan INTEGER,
  internationalization_enabled BOOLEAN NOT NULL DEFAULT FALSE,
  default_locale VARCHAR(255),
  reg_email_as_username BOOLEAN NOT NULL DEFAULT FALSE,
  admin_events_enabled BOOLEAN NOT NULL DEFAULT FALSE,
  admin_events_details_enabled BOOLEAN NOT NULL DEFAULT FALSE,
  edit_username_allowed BOOLEAN NOT NULL DEFAULT FALSE,
  otp_policy_counter INTEGER DEFAULT 0,
  otp_policy_window INTEGER DEFAULT 1,
  otp_policy_period INTEGER DEFAULT 30,
  otp_policy_digits INTEGER DEFAULT 6,
  otp_policy_alg VARCHAR(36) DEFAULT 'HmacSHA1',
  otp_policy_type VARCHAR(36) DEFAULT 'totp',
  browser_flow VARCHAR(36),
  registration_flow VARCHAR(36),
  direct_grant_flow VARCHAR(36),
  reset_credentials_flow VARCHAR(36),
  client_auth_flow VARCHAR(36),
  offline_session_idle_timeout INTEGER DEFAULT 0,
  revoke_refresh_token BOOLEAN NOT NULL DEFAULT FALSE,
  access_token_life_implicit INTEGER DEFAULT 0,
  login_with_email_allowed BOOLEAN NOT NULL DEFAULT TRUE,
  duplicate_emails_allowed BOOLEAN NOT NULL DEFAULT FALSE,
  docker_auth_flow VARCHAR(36),
  refresh_token_max_reuse INTEGER DEFAULT 0,
  allow_user_managed_access BOOLEAN NOT NULL DEFAULT FALSE,
  sso_max_lifespan_remember_me INTEGER NOT NULL DEFAULT 0,
  sso_idle_timeout_remember_me INTEGER NOT NULL DEFAULT 0,
  default_role VARCHAR(255),
  CONSTRAINT constraint_4a PRIMARY KEY (id),
  CONSTRAINT uk_orvsdmla56612eaefiq6wl5oi UNIQUE (name)
);
CREATE TABLE user_entity (
  id VARCHAR(36) NOT NULL,
  email VARCHAR(255),
  email_constraint VARCHAR(255),
  email_verified BOOLEAN NOT NULL DEFAULT FALSE,
  enabled BOOLEAN NOT NULL DEFAULT FALSE,
  federation_link VARCHAR(255),
  first_name VARCHAR(255),
  last_name VARCHAR(255),
  realm_id VARCHAR(255),
  username VARCHAR(255),
  created_timestamp BIGINT,
  service_account_client_link VARCHAR(255),
  not_before INTEGER NOT NULL DEFAULT 0,
  CONSTRAINT constraint_fb PRIMARY KEY (id),
  CONSTRAINT uk_dykn684sl8up1crfei6eckhd7 UNIQUE (realm_id, email_constraint),
  CONSTRAINT uk_ru8tt6t700s9v50bu18ws5ha6 UNIQUE (realm_id, username)
);
CREATE INDEX idx_user_email ON user_entity (email);
CREATE INDEX idx_user_service_account ON user_entity (realm_id, service_account_client_link);
CREATE TABLE user_attribute (
  name VARCHAR(255) NOT NULL,
  value VARCHAR(255),
  user_id VARCHAR(36) NOT NULL,
  id VARCHAR(36) NOT NULL DEFAULT 'sybase-needs-something-here',
  long_value_hash BLOB,
  long_value_hash_lower_case BLOB,
  long_value TEXT,
  CONSTRAINT constraint_user_attribute_pk PRIMARY KEY (id),
  CONSTRAINT fk_5hrm2vlf9ql5fu043kqepovbr FOREIGN KEY (user_id) REFERENCES user_entity (id)
);
CREATE INDEX idx_user_attribute ON user_attribute (user_id);
CREATE INDEX idx_user_attribute_name ON user_attribute (name, value);
CREATE TABLE credential (
  id VARCHAR(36) NOT NULL,
  salt BLOB,
  type VARCHAR(255),
  user_id VARCHAR(36),
  created_date BIGINT,
  user_label VARCHAR(255),
  secret_data TEXT,
  credential_data TEXT,
  priority INTEGER,
  CONSTRAINT constraint_f PRIMARY KEY (id),
  CONSTRAINT fk_pfyr0glasqyl0dei3kl69r6v0 FOREIGN KEY (user_id) REFERENCES user_entity (id)
);
CREATE INDEX idx_user_credential ON credential (user_id);
CREATE TABLE keycloak_group (
  id VARCHAR(36) NOT NULL,
  name VARCHAR(255),
  parent_group VARCHAR(36) NOT NULL,
  realm_id VARCHAR(36),
  type INTEGER NOT NULL DEFAULT 0,
  CONSTRAINT constraint_group PRIMARY KEY (id),
  CONSTRAINT sibling_names UNIQUE (realm_id, parent_group, name)
);
CREATE TABLE user_group_membership (
  group_id VARCHAR(36) NOT NULL,
  user_id VARCHAR(36) NOT NULL,
  membership_type VARCHAR(255) NOT NULL,
  CONSTRAINT constraint_user_group PRIMARY KEY (group_id, user_id),
  CONSTRAINT fk_user_group_user FOREIGN KEY (user_id) REFERENCES user_entity (id)
);
CREATE INDEX idx_user_group_mapping ON user_group_membership (user_id);
-- two realms (master and acme), each with an admin; acme's service account (a bot) and a user
-- federated from LDAP; a group tree in acme and an organization's group
INSERT INTO realm (id, name, enabled) VALUES
  ('6f1ad0e2-3a1f-4bb5-9a43-5d2f0c1b7e01', 'master', TRUE),
  ('0b9e4c4a-7f52-4d8e-b1c3-2a6e9f8d5c10', 'acme', TRUE);
INSERT INTO user_entity (id, email, email_constraint, email_verified, enabled, federation_link, first_name, last_name, realm_id, username, created_timestamp, service_account_client_link, not_before) VALUES
  ('a0000000-0000-4000-8000-000000000001', 'admin@example.com', 'admin@example.com', FALSE, TRUE, NULL, NULL, NULL, '6f1ad0e2-3a1f-4bb5-9a43-5d2f0c1b7e01', 'admin', 1704067200000, NULL, 0),
  ('a0000000-0000-4000-8000-000000000002', 'admin@acme.example', 'admin@acme.example', TRUE, TRUE, NULL, 'Acme', 'Admin', '0b9e4c4a-7f52-4d8e-b1c3-2a6e9f8d5c10', 'admin', 1704153600000, NULL, 0),
  ('a0000000-0000-4000-8000-000000000003', 'alice@acme.example', 'alice@acme.example', TRUE, TRUE, NULL, 'Alice', 'Liddell', '0b9e4c4a-7f52-4d8e-b1c3-2a6e9f8d5c10', 'alice', 1704240000000, NULL, 0),
  ('a0000000-0000-4000-8000-000000000004', NULL, 'e1d7c6b5-0000-4000-8000-000000000004', FALSE, TRUE, NULL, NULL, NULL, '0b9e4c4a-7f52-4d8e-b1c3-2a6e9f8d5c10', 'service-account-backend', 1704326400000, 'c1000000-0000-4000-8000-000000000001', 0),
  ('a0000000-0000-4000-8000-000000000005', 'bob@acme.example', 'bob@acme.example', FALSE, FALSE, 'ldap-0000-4000-8000-000000000001', 'Bob', 'Builder', '0b9e4c4a-7f52-4d8e-b1c3-2a6e9f8d5c10', 'bob', 1704412800000, NULL, 0);
INSERT INTO user_attribute (name, value, user_id, id) VALUES
  ('department', 'Engineering', 'a0000000-0000-4000-8000-000000000003', 'b0000000-0000-4000-8000-000000000001'),
  ('LDAP_ID', 'bob', 'a0000000-0000-4000-8000-000000000005', 'b0000000-0000-4000-8000-000000000002');
INSERT INTO credential (id, type, user_id, created_date, secret_data, credential_data, priority) VALUES
  ('c0000000-0000-4000-8000-000000000001', 'password', 'a0000000-0000-4000-8000-000000000003', 1704240000000,
   '{"value":"q1w2e3r4t5y6u7i8o9p0==","salt":"c2FsdHNhbHQ=","additionalParameters":{}}',
   '{"hashIterations":27500,"algorithm":"pbkdf2-sha256","additionalParameters":{}}', 10);
INSERT INTO keycloak_group (id, name, parent_group, realm_id, type) VALUES
  ('d0000000-0000-4000-8000-000000000001', 'admins', ' ', '6f1ad0e2-3a1f-4bb5-9a43-5d2f0c1b7e01', 0),
  ('d0000000-0000-4000-8000-000000000002', 'staff', ' ', '0b9e4c4a-7f52-4d8e-b1c3-2a6e9f8d5c10', 0),
  ('d0000000-0000-4000-8000-000000000003', 'engineering', 'd0000000-0000-4000-8000-000000000002', '0b9e4c4a-7f52-4d8e-b1c3-2a6e9f8d5c10', 0);
INSERT INTO user_group_membership (group_id, user_id, membership_type) VALUES
  ('d0000000-0000-4000-8000-000000000001', 'a0000000-0000-4000-8000-000000000001', 'UNMANAGED'),
  ('d0000000-0000-4000-8000-000000000002', 'a0000000-0000-4000-8000-000000000003', 'UNMANAGED'),
  ('d0000000-0000-4000-8000-000000000003', 'a0000000-0000-4000-8000-000000000003', 'UNMANAGED');
