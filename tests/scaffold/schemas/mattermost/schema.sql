-- Mattermost 9's users and teams as schema.postgres.sql has them, in SQLite's types (JSON and the
-- team type as TEXT; Mattermost itself runs on PostgreSQL and MySQL only). Keys are 26-character
-- random ids the application generates (128 random bits in base32, lower case); no foreign keys
-- anywhere. Times are
-- BIGINT milliseconds since the epoch, NULL-able without defaults; `deleteat` 0 means live, a
-- time means deactivated (a user), archived (a team) or left (a membership: the row stays, and
-- joining again sets it back to 0). `username` and `email` are kept in lower case; `roles` is a
-- space-separated list (`system_user system_admin`); `props`, `notifyprops` and `timezone` are
-- JSON. Teams are `type` 'O' (open) or 'I' (invite only); `name` is the URL slug, `displayname`
-- what people read.
CREATE TABLE users (
  id VARCHAR(26) NOT NULL,
  createat BIGINT,
  updateat BIGINT,
  deleteat BIGINT,
  username VARCHAR(64),
  password VARCHAR(128),
  authdata VARCHAR(128),
  authservice VARCHAR(32),
  email VARCHAR(128),
  emailverified BOOLEAN,
  nickname VARCHAR(64),
  firstname VARCHAR(64),
  lastname VARCHAR(64),
  roles VARCHAR(256),
  allowmarketing BOOLEAN,
  props TEXT,
  notifyprops TEXT,
  lastpasswordupdate BIGINT,
  lastpictureupdate BIGINT,
  failedattempts INTEGER,
  locale VARCHAR(5),
  mfaactive BOOLEAN,
  mfasecret VARCHAR(128),
  "position" VARCHAR(128),
  timezone TEXT,
  remoteid VARCHAR(26),
  lastlogin BIGINT NOT NULL DEFAULT 0,
  mfausedtimestamps TEXT,
  CONSTRAINT users_pkey PRIMARY KEY (id),
  CONSTRAINT users_authdata_key UNIQUE (authdata),
  CONSTRAINT users_email_key UNIQUE (email),
  CONSTRAINT users_username_key UNIQUE (username)
);
CREATE INDEX idx_users_update_at ON users (updateat);
CREATE INDEX idx_users_create_at ON users (createat);
CREATE INDEX idx_users_delete_at ON users (deleteat);
CREATE INDEX idx_users_email_lower_textpattern ON users (lower(email));
CREATE INDEX idx_users_username_lower_textpattern ON users (lower(username));
CREATE TABLE teams (
  id VARCHAR(26) NOT NULL,
  createat BIGINT,
  updateat BIGINT,
  deleteat BIGINT,
  displayname VARCHAR(64),
  name VARCHAR(64),
  description VARCHAR(255),
  email VARCHAR(128),
  type TEXT CHECK (type IN ('I', 'O')),
  companyname VARCHAR(64),
  alloweddomains VARCHAR(1000),
  inviteid VARCHAR(32),
  schemeid VARCHAR(26),
  allowopeninvite BOOLEAN,
  lastteamiconupdate BIGINT,
  groupconstrained BOOLEAN,
  cloudlimitsarchived BOOLEAN NOT NULL DEFAULT 0,
  remoteid VARCHAR(26),
  CONSTRAINT teams_pkey PRIMARY KEY (id),
  CONSTRAINT teams_name_key UNIQUE (name)
);
CREATE INDEX idx_teams_invite_id ON teams (inviteid);
CREATE INDEX idx_teams_update_at ON teams (updateat);
CREATE INDEX idx_teams_delete_at ON teams (deleteat);
CREATE TABLE teammembers (
  teamid VARCHAR(26) NOT NULL,
  userid VARCHAR(26) NOT NULL,
  roles VARCHAR(64),
  deleteat BIGINT,
  schemeuser BOOLEAN,
  schemeadmin BOOLEAN,
  schemeguest BOOLEAN,
  createat BIGINT DEFAULT 0,
  CONSTRAINT teammembers_pkey PRIMARY KEY (teamid, userid)
);
CREATE INDEX idx_teammembers_user_id ON teammembers (userid);
CREATE INDEX idx_teammembers_delete_at ON teammembers (deleteat);
CREATE INDEX idx_teammembers_createat ON teammembers (createat);
-- the system administrator, two people, one deactivated (deleteat set), and a user who signs in
-- through GitLab (authservice, authdata); two teams; bob has left engineering (his membership row
-- stays, deleteat set)
INSERT INTO users (id, createat, updateat, deleteat, username, password, authdata, authservice, email, emailverified, nickname, firstname, lastname, roles, allowmarketing, props, notifyprops, lastpasswordupdate, lastpictureupdate, failedattempts, locale, mfaactive, mfasecret, "position", timezone, remoteid, lastlogin, mfausedtimestamps) VALUES
  ('9xk3tyq8zfgp7ctq1wjhbyxk4e', 1704067200000, 1704067200000, 0, 'sysadmin', '$2a$10$Kq0nLr0vGm6Vtq1wJ5WmAe1pQ0n8u6Yb2zX3c4v5b6n7m8a9s0d1e', NULL, '', 'sysadmin@example.com', 1, '', '', '', 'system_user system_admin', 0, '{}', '{"push": "mention", "email": "true", "desktop": "mention"}', 1704067200000, 0, 0, 'en', 0, '', '', '{"automaticTimezone": "", "manualTimezone": "", "useAutomaticTimezone": "true"}', NULL, 1704153600000, '[]'),
  ('p5m8rdwa1jbhtm3u6k9yq4oc7h', 1704153600000, 1706745600000, 0, 'alice', '$2a$10$Aq0nLr0vGm6Vtq1wJ5WmAe1pQ0n8u6Yb2zX3c4v5b6n7m8a9s0d1e', NULL, '', 'alice@example.com', 1, 'ally', 'Alice', 'Liddell', 'system_user', 0, '{}', '{"push": "mention", "email": "true", "desktop": "mention"}', 1704153600000, 0, 0, 'en', 0, '', 'Engineer', '{"automaticTimezone": "", "manualTimezone": "", "useAutomaticTimezone": "true"}', NULL, 0, '[]'),
  ('e4n1dz6cgbb8jq7wf3kt9rmu5a', 1704240000000, 1709251200000, 1709251200000, 'bob', '$2a$10$Bq0nLr0vGm6Vtq1wJ5WmAe1pQ0n8u6Yb2zX3c4v5b6n7m8a9s0d1e', NULL, '', 'bob@example.com', 0, '', 'Bob', 'Builder', 'system_user', 0, '{}', '{}', 1704240000000, 0, 0, 'en', 0, '', '', '{}', NULL, 0, '[]'),
  ('h8w2qkx5ofn3ub7yt1sz6gej9c', 1704326400000, 1704326400000, 0, 'carol', '', '1234', 'gitlab', 'carol@example.com', 1, '', 'Carol', 'Danvers', 'system_user', 0, '{}', '{}', 0, 0, 0, 'fr', 0, '', 'Sales', '{}', NULL, 0, '[]');
INSERT INTO teams (id, createat, updateat, deleteat, displayname, name, description, email, type, companyname, alloweddomains, inviteid, schemeid, allowopeninvite, lastteamiconupdate, groupconstrained, cloudlimitsarchived, remoteid) VALUES
  ('t1qz8n3mxbd7yk5ucr9ws4fa6e', 1704067200000, 1704067200000, 0, 'Engineering', 'engineering', '', 'sysadmin@example.com', 'O', '', '', 'k7f3mz9qwe8bnx1yrc5ud4tjag', NULL, 1, 0, 0, 0, NULL),
  ('t6bw1rk4ezq9hn3dmx7uc8yf5o', 1704067200000, 1704067200000, 0, 'Sales & Marketing', 'sales', '', 'sysadmin@example.com', 'I', '', '', 'n2d8yq4mxkw7bz1tre6uf3cjho', NULL, 0, 0, 0, 0, NULL);
INSERT INTO teammembers (teamid, userid, roles, deleteat, schemeuser, schemeadmin, schemeguest, createat) VALUES
  ('t1qz8n3mxbd7yk5ucr9ws4fa6e', '9xk3tyq8zfgp7ctq1wjhbyxk4e', '', 0, 1, 1, 0, 1704067200000),
  ('t6bw1rk4ezq9hn3dmx7uc8yf5o', '9xk3tyq8zfgp7ctq1wjhbyxk4e', '', 0, 1, 1, 0, 1704067200000),
  ('t1qz8n3mxbd7yk5ucr9ws4fa6e', 'p5m8rdwa1jbhtm3u6k9yq4oc7h', '', 0, 1, 0, 0, 1704153600000),
  ('t1qz8n3mxbd7yk5ucr9ws4fa6e', 'e4n1dz6cgbb8jq7wf3kt9rmu5a', '', 1709251200000, 1, 0, 0, 1704240000000),
  ('t6bw1rk4ezq9hn3dmx7uc8yf5o', 'h8w2qkx5ofn3ub7yt1sz6gej9c', '', 0, 1, 0, 0, 1704326400000);
