-- Mattermost 9's users and teams as its migrations create them on MySQL/MariaDB (the tables a SCIM
-- gateway touches, every column of each): the names in CamelCase there (`Users`, `TeamMembers`,
-- `DeleteAt`), which MariaDB compares with case on Linux. Keys are 26-character random ids the
-- application generates (128 random bits in base32, lower case); no foreign keys anywhere. Times
-- are BIGINT milliseconds since the epoch, NULL-able without defaults; `DeleteAt` 0 means live, a
-- time means deactivated (a user), archived (a team) or left (a membership: the row stays, and
-- joining again sets it back to 0). `Username` and `Email` are kept in lower case; `Roles` is a
-- space-separated list; `Props`, `NotifyProps` and `Timezone` are JSON. Teams are `Type` 'O'
-- (open) or 'I' (invite only); `Name` is the URL slug, `DisplayName` what people read.
CREATE TABLE Users (
  Id VARCHAR(26) NOT NULL,
  CreateAt BIGINT DEFAULT NULL,
  UpdateAt BIGINT DEFAULT NULL,
  DeleteAt BIGINT DEFAULT NULL,
  Username VARCHAR(64) DEFAULT NULL,
  Password VARCHAR(128) DEFAULT NULL,
  AuthData VARCHAR(128) DEFAULT NULL,
  AuthService VARCHAR(32) DEFAULT NULL,
  Email VARCHAR(128) DEFAULT NULL,
  EmailVerified TINYINT(1) DEFAULT NULL,
  Nickname VARCHAR(64) DEFAULT NULL,
  FirstName VARCHAR(64) DEFAULT NULL,
  LastName VARCHAR(64) DEFAULT NULL,
  Roles VARCHAR(256) DEFAULT NULL,
  AllowMarketing TINYINT(1) DEFAULT NULL,
  Props JSON DEFAULT NULL,
  NotifyProps JSON DEFAULT NULL,
  LastPasswordUpdate BIGINT DEFAULT NULL,
  LastPictureUpdate BIGINT DEFAULT NULL,
  FailedAttempts INT DEFAULT NULL,
  Locale VARCHAR(5) DEFAULT NULL,
  MfaActive TINYINT(1) DEFAULT NULL,
  MfaSecret VARCHAR(128) DEFAULT NULL,
  Position VARCHAR(128) DEFAULT NULL,
  Timezone JSON DEFAULT NULL,
  RemoteId VARCHAR(26) DEFAULT NULL,
  LastLogin BIGINT NOT NULL DEFAULT 0,
  MfaUsedTimestamps JSON DEFAULT NULL,
  PRIMARY KEY (Id),
  UNIQUE KEY Username (Username),
  UNIQUE KEY AuthData (AuthData),
  UNIQUE KEY Email (Email),
  KEY idx_users_update_at (UpdateAt),
  KEY idx_users_create_at (CreateAt),
  KEY idx_users_delete_at (DeleteAt)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4;
CREATE TABLE Teams (
  Id VARCHAR(26) NOT NULL,
  CreateAt BIGINT DEFAULT NULL,
  UpdateAt BIGINT DEFAULT NULL,
  DeleteAt BIGINT DEFAULT NULL,
  DisplayName VARCHAR(64) DEFAULT NULL,
  Name VARCHAR(64) DEFAULT NULL,
  Description VARCHAR(255) DEFAULT NULL,
  Email VARCHAR(128) DEFAULT NULL,
  Type ENUM('I', 'O') DEFAULT NULL,
  CompanyName VARCHAR(64) DEFAULT NULL,
  AllowedDomains TEXT,
  InviteId VARCHAR(32) DEFAULT NULL,
  SchemeId VARCHAR(26) DEFAULT NULL,
  AllowOpenInvite TINYINT(1) DEFAULT NULL,
  LastTeamIconUpdate BIGINT DEFAULT NULL,
  GroupConstrained TINYINT(1) DEFAULT NULL,
  CloudLimitsArchived TINYINT(1) NOT NULL DEFAULT 0,
  RemoteId VARCHAR(26) DEFAULT NULL,
  PRIMARY KEY (Id),
  UNIQUE KEY Name (Name),
  KEY idx_teams_invite_id (InviteId),
  KEY idx_teams_update_at (UpdateAt),
  KEY idx_teams_delete_at (DeleteAt)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4;
CREATE TABLE TeamMembers (
  TeamId VARCHAR(26) NOT NULL,
  UserId VARCHAR(26) NOT NULL,
  Roles VARCHAR(64) DEFAULT NULL,
  DeleteAt BIGINT DEFAULT NULL,
  SchemeUser TINYINT(1) DEFAULT NULL,
  SchemeAdmin TINYINT(1) DEFAULT NULL,
  SchemeGuest TINYINT(1) DEFAULT NULL,
  CreateAt BIGINT DEFAULT 0,
  PRIMARY KEY (TeamId, UserId),
  KEY idx_teammembers_user_id (UserId),
  KEY idx_teammembers_delete_at (DeleteAt),
  KEY idx_teammembers_createat (CreateAt)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4;
-- the system administrator, two people, one deactivated (deleteat set), and a user who signs in
-- through GitLab (authservice, authdata); two teams; bob has left engineering (his membership row
-- stays, deleteat set)
INSERT INTO Users (Id, CreateAt, UpdateAt, DeleteAt, Username, Password, AuthData, AuthService, Email, EmailVerified, Nickname, FirstName, LastName, Roles, AllowMarketing, Props, NotifyProps, LastPasswordUpdate, LastPictureUpdate, FailedAttempts, Locale, MfaActive, MfaSecret, Position, Timezone, RemoteId, LastLogin, MfaUsedTimestamps) VALUES
  ('9xk3tyq8zfgp7ctq1wjhbyxk4e', 1704067200000, 1704067200000, 0, 'sysadmin', '$2a$10$Kq0nLr0vGm6Vtq1wJ5WmAe1pQ0n8u6Yb2zX3c4v5b6n7m8a9s0d1e', NULL, '', 'sysadmin@example.com', TRUE, '', '', '', 'system_user system_admin', FALSE, '{}', '{"push": "mention", "email": "true", "desktop": "mention"}', 1704067200000, 0, 0, 'en', FALSE, '', '', '{"automaticTimezone": "", "manualTimezone": "", "useAutomaticTimezone": "true"}', NULL, 1704153600000, '[]'),
  ('p5m8rdwa1jbhtm3u6k9yq4oc7h', 1704153600000, 1706745600000, 0, 'alice', '$2a$10$Aq0nLr0vGm6Vtq1wJ5WmAe1pQ0n8u6Yb2zX3c4v5b6n7m8a9s0d1e', NULL, '', 'alice@example.com', TRUE, 'ally', 'Alice', 'Liddell', 'system_user', FALSE, '{}', '{"push": "mention", "email": "true", "desktop": "mention"}', 1704153600000, 0, 0, 'en', FALSE, '', 'Engineer', '{"automaticTimezone": "", "manualTimezone": "", "useAutomaticTimezone": "true"}', NULL, 0, '[]'),
  ('e4n1dz6cgbb8jq7wf3kt9rmu5a', 1704240000000, 1709251200000, 1709251200000, 'bob', '$2a$10$Bq0nLr0vGm6Vtq1wJ5WmAe1pQ0n8u6Yb2zX3c4v5b6n7m8a9s0d1e', NULL, '', 'bob@example.com', FALSE, '', 'Bob', 'Builder', 'system_user', FALSE, '{}', '{}', 1704240000000, 0, 0, 'en', FALSE, '', '', '{}', NULL, 0, '[]'),
  ('h8w2qkx5ofn3ub7yt1sz6gej9c', 1704326400000, 1704326400000, 0, 'carol', '', '1234', 'gitlab', 'carol@example.com', TRUE, '', 'Carol', 'Danvers', 'system_user', FALSE, '{}', '{}', 0, 0, 0, 'fr', FALSE, '', 'Sales', '{}', NULL, 0, '[]');
INSERT INTO Teams (Id, CreateAt, UpdateAt, DeleteAt, DisplayName, Name, Description, Email, Type, CompanyName, AllowedDomains, InviteId, SchemeId, AllowOpenInvite, LastTeamIconUpdate, GroupConstrained, CloudLimitsArchived, RemoteId) VALUES
  ('t1qz8n3mxbd7yk5ucr9ws4fa6e', 1704067200000, 1704067200000, 0, 'Engineering', 'engineering', '', 'sysadmin@example.com', 'O', '', '', 'k7f3mz9qwe8bnx1yrc5ud4tjag', NULL, TRUE, 0, FALSE, FALSE, NULL),
  ('t6bw1rk4ezq9hn3dmx7uc8yf5o', 1704067200000, 1704067200000, 0, 'Sales & Marketing', 'sales', '', 'sysadmin@example.com', 'I', '', '', 'n2d8yq4mxkw7bz1tre6uf3cjho', NULL, FALSE, 0, FALSE, FALSE, NULL);
INSERT INTO TeamMembers (TeamId, UserId, Roles, DeleteAt, SchemeUser, SchemeAdmin, SchemeGuest, CreateAt) VALUES
  ('t1qz8n3mxbd7yk5ucr9ws4fa6e', '9xk3tyq8zfgp7ctq1wjhbyxk4e', '', 0, TRUE, TRUE, FALSE, 1704067200000),
  ('t6bw1rk4ezq9hn3dmx7uc8yf5o', '9xk3tyq8zfgp7ctq1wjhbyxk4e', '', 0, TRUE, TRUE, FALSE, 1704067200000),
  ('t1qz8n3mxbd7yk5ucr9ws4fa6e', 'p5m8rdwa1jbhtm3u6k9yq4oc7h', '', 0, TRUE, FALSE, FALSE, 1704153600000),
  ('t1qz8n3mxbd7yk5ucr9ws4fa6e', 'e4n1dz6cgbb8jq7wf3kt9rmu5a', '', 1709251200000, TRUE, FALSE, FALSE, 1704240000000),
  ('t6bw1rk4ezq9hn3dmx7uc8yf5o', 'h8w2qkx5ofn3ub7yt1sz6gej9c', '', 0, TRUE, FALSE, FALSE, 1704326400000);
