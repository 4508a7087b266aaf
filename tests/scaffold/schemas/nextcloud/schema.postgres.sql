-- Nextcloud's users and groups (core/Migrations, oc_ prefix): users keyed by their login, a text
-- uid the client chooses (VARCHAR(64)), groups by a text gid, members in oc_group_user keyed
-- (gid, uid); the e-mail address in oc_preferences (a key-value table: userid, appid, configkey,
-- configvalue; 'settings', 'email') and in oc_accounts' JSON text, neither mapped by the scaffold
-- (docs/authoring.md, "A key-value table", shows how). Nextcloud declares no foreign keys: here
-- oc_group_user's two are declared, ON DELETE CASCADE, since without them a delete leaves the
-- member rows (the scaffold says so: FILL IN), which the simulator refuses. Without them the
-- scaffold links oc_group_user.uid by its name to oc_users, not oc_accounts, also keyed uid
-- (tests/scaffold/test_real_applications.py).
CREATE TABLE oc_users (
  uid VARCHAR(64) DEFAULT '' NOT NULL,
  displayname VARCHAR(64) DEFAULT NULL,
  password VARCHAR(255) DEFAULT '' NOT NULL,
  uid_lower VARCHAR(64) DEFAULT '',
  PRIMARY KEY (uid)
);
CREATE INDEX user_uid_lower ON oc_users (uid_lower);
CREATE TABLE oc_groups (
  gid VARCHAR(64) DEFAULT '' NOT NULL,
  displayname VARCHAR(255) DEFAULT 'name' NOT NULL,
  PRIMARY KEY (gid)
);
CREATE TABLE oc_group_user (
  gid VARCHAR(64) DEFAULT '' NOT NULL REFERENCES oc_groups (gid) ON DELETE CASCADE,
  uid VARCHAR(64) DEFAULT '' NOT NULL REFERENCES oc_users (uid) ON DELETE CASCADE,
  PRIMARY KEY (gid, uid)
);
CREATE INDEX gu_uid_index ON oc_group_user (uid);
CREATE TABLE oc_preferences (
  userid VARCHAR(64) DEFAULT '' NOT NULL,
  appid VARCHAR(32) DEFAULT '' NOT NULL,
  configkey VARCHAR(64) DEFAULT '' NOT NULL,
  configvalue TEXT DEFAULT NULL,
  PRIMARY KEY (userid, appid, configkey)
);
CREATE INDEX preferences_app_key ON oc_preferences (appid, configkey);
CREATE TABLE oc_accounts (
  uid VARCHAR(64) DEFAULT '' NOT NULL,
  data TEXT DEFAULT '' NOT NULL,
  PRIMARY KEY (uid)
);
INSERT INTO oc_users (uid, displayname, password, uid_lower) VALUES ('admin', 'Administrator', '3|$argon2id$v=19$m=65536', 'admin');
INSERT INTO oc_groups (gid, displayname) VALUES ('admin', 'admin');
INSERT INTO oc_group_user (gid, uid) VALUES ('admin', 'admin');
INSERT INTO oc_preferences VALUES ('admin', 'settings', 'email', 'admin@example.com');
INSERT INTO oc_accounts VALUES ('admin', '{"email":{"value":"admin@example.com","scope":"v2-federated","verified":"0"}}');
