-- WordPress's users (wp-admin/includes/schema.php, every column of wp_users), as on PostgreSQL
-- (a port: WordPress itself runs on MySQL): every column NOT NULL with a default ('' for text),
-- user_login only indexed (not unique), no active flag (user_status is unused). First and last
-- names and roles live in wp_usermeta, a key-value table which the scaffold does not map;
-- docs/authoring.md, "A key-value table", shows how. No foreign keys, no group table.
CREATE TABLE wp_users (
  ID BIGSERIAL PRIMARY KEY,
  user_login VARCHAR(60) NOT NULL DEFAULT '',
  user_pass VARCHAR(255) NOT NULL DEFAULT '',
  user_nicename VARCHAR(50) NOT NULL DEFAULT '',
  user_email VARCHAR(100) NOT NULL DEFAULT '',
  user_url VARCHAR(100) NOT NULL DEFAULT '',
  user_registered TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP,
  user_activation_key VARCHAR(255) NOT NULL DEFAULT '',
  user_status INTEGER NOT NULL DEFAULT 0,
  display_name VARCHAR(250) NOT NULL DEFAULT ''
);
CREATE INDEX user_login_key ON wp_users (user_login);
CREATE INDEX user_email ON wp_users (user_email);
CREATE TABLE wp_usermeta (
  umeta_id BIGSERIAL PRIMARY KEY,
  user_id BIGINT NOT NULL DEFAULT 0,
  meta_key VARCHAR(255) DEFAULT NULL,
  meta_value TEXT
);
CREATE INDEX user_id ON wp_usermeta (user_id);
INSERT INTO wp_users (user_login, user_pass, user_nicename, user_email, user_registered, display_name)
VALUES ('admin', '$P$Babcdefgh', 'admin', 'admin@example.com', '2020-01-01 00:00:00', 'admin');
INSERT INTO wp_usermeta (user_id, meta_key, meta_value) VALUES
  (1, 'first_name', 'Ad'), (1, 'last_name', 'Min'), (1, 'nickname', 'admin'),
  (1, 'wp_capabilities', 'a:1:{s:13:"administrator";b:1;}');
