-- A legacy HR shape: users keyed by their login (text the client must fill, too short for a
-- UUID), groups keyed by their name, members linking the two keys: both anchors are taken from
-- the query attribute (anchor login from userName, anchor group_name from displayName).
CREATE TABLE users (
  login       VARCHAR(64) PRIMARY KEY,
  given_name  VARCHAR(50),
  family_name VARCHAR(50),
  email       VARCHAR(200),
  active      BOOLEAN NOT NULL DEFAULT 1
);
CREATE TABLE user_groups (
  group_name  VARCHAR(100) PRIMARY KEY,
  description VARCHAR(200)
);
CREATE TABLE group_members (
  group_name VARCHAR(100) NOT NULL REFERENCES user_groups (group_name) ON DELETE CASCADE,
  login      VARCHAR(64) NOT NULL REFERENCES users (login) ON DELETE CASCADE,
  PRIMARY KEY (group_name, login)
);
