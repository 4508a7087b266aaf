-- A legacy HR shape: users keyed by their login, groups keyed by their name (see schema.sql).
CREATE TABLE users (
  login       VARCHAR(64) NOT NULL PRIMARY KEY,
  given_name  VARCHAR(50),
  family_name VARCHAR(50),
  email       VARCHAR(200),
  active      BOOLEAN NOT NULL DEFAULT TRUE
);
CREATE TABLE user_groups (
  group_name  VARCHAR(100) NOT NULL PRIMARY KEY,
  description VARCHAR(200)
);
CREATE TABLE group_members (
  group_name VARCHAR(100) NOT NULL,
  login      VARCHAR(64) NOT NULL,
  PRIMARY KEY (group_name, login),
  FOREIGN KEY (group_name) REFERENCES user_groups (group_name) ON DELETE CASCADE,
  FOREIGN KEY (login) REFERENCES users (login) ON DELETE CASCADE
);
