-- The helpdesk schema (see schema.postgres.sql) on SQLite.
CREATE TABLE agents (
  agent_uuid     CHAR(36) PRIMARY KEY,
  sign_in_name   VARCHAR(120) NOT NULL,
  first          VARCHAR(80),
  last           VARCHAR(80),
  contact_email  VARCHAR(200),
  office         VARCHAR(80),
  agent_level    SMALLINT NOT NULL DEFAULT 1,
  access_revoked BOOLEAN NOT NULL DEFAULT 0,
  row_version    TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP,
  tenant         VARCHAR(20) NOT NULL DEFAULT 'main'
);
CREATE UNIQUE INDEX agents_sign_in ON agents (lower(sign_in_name));
CREATE TABLE queues (
  queue_id    INTEGER PRIMARY KEY AUTOINCREMENT,
  queue_label VARCHAR(100) NOT NULL UNIQUE COLLATE NOCASE,
  sla_hours   INTEGER
);
CREATE TABLE queue_agents (
  queue_id   INTEGER NOT NULL REFERENCES queues (queue_id) ON DELETE CASCADE,
  agent_uuid CHAR(36) NOT NULL REFERENCES agents (agent_uuid) ON DELETE CASCADE,
  PRIMARY KEY (queue_id, agent_uuid)
);
