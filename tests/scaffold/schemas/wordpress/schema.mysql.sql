-- WordPress's users (wp-admin/includes/schema.php, every column of wp_users): BIGINT UNSIGNED
-- AUTO_INCREMENT keys, every column NOT NULL with a default ('' for text), user_login only indexed
-- (not unique), no active flag (user_status is unused), user_registered DEFAULT '0000-00-00
-- 00:00:00' as WordPress declared it before 4.x under a lax sql_mode. First and last names and
-- roles live in wp_usermeta, a key-value table (a row per user and meta_key, roles a PHP-serialized
-- string) which the scaffold does not map; docs/authoring.md, "A key-value table", shows how.
-- WordPress declares no foreign keys and has no group table: no Group object.
CREATE TABLE wp_users (
  ID BIGINT(20) UNSIGNED NOT NULL AUTO_INCREMENT,
  user_login VARCHAR(60) NOT NULL DEFAULT '',
  user_pass VARCHAR(255) NOT NULL DEFAULT '',
  user_nicename VARCHAR(50) NOT NULL DEFAULT '',
  user_email VARCHAR(100) NOT NULL DEFAULT '',
  user_url VARCHAR(100) NOT NULL DEFAULT '',
  user_registered DATETIME NOT NULL DEFAULT '0000-00-00 00:00:00',
  user_activation_key VARCHAR(255) NOT NULL DEFAULT '',
  user_status INT(11) NOT NULL DEFAULT 0,
  display_name VARCHAR(250) NOT NULL DEFAULT '',
  PRIMARY KEY (ID),
  KEY user_login_key (user_login),
  KEY user_nicename (user_nicename),
  KEY user_email (user_email)
) DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_520_ci;
CREATE TABLE wp_usermeta (
  umeta_id BIGINT(20) UNSIGNED NOT NULL AUTO_INCREMENT,
  user_id BIGINT(20) UNSIGNED NOT NULL DEFAULT 0,
  meta_key VARCHAR(255) DEFAULT NULL,
  meta_value LONGTEXT,
  PRIMARY KEY (umeta_id),
  KEY user_id (user_id),
  KEY meta_key (meta_key(191))
) DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_520_ci;
INSERT INTO wp_users (user_login, user_pass, user_nicename, user_email, user_registered, display_name)
VALUES ('admin', '$P$Babcdefgh', 'admin', 'admin@example.com', '2020-01-01 00:00:00', 'admin');
INSERT INTO wp_usermeta (user_id, meta_key, meta_value) VALUES
  (1, 'first_name', 'Ad'), (1, 'last_name', 'Min'), (1, 'nickname', 'admin'),
  (1, 'wp_capabilities', 'a:1:{s:13:"administrator";b:1;}');
