-- Tried as a new user: helpdesk agents keyed by a UUID the database defaults, signing in with
-- sign_in_name (unique only by a lower() index), access_revoked the inverted flag, row_version
-- the watermark, queues joined through queue_agents; tenant is required and has a default.
CREATE TABLE agents (
  agent_uuid     UUID PRIMARY KEY DEFAULT gen_random_uuid(),
  sign_in_name   VARCHAR(120) NOT NULL,
  first          VARCHAR(80),
  last           VARCHAR(80),
  contact_email  VARCHAR(200),
  office         VARCHAR(80),
  agent_level    SMALLINT NOT NULL DEFAULT 1,
  access_revoked BOOLEAN NOT NULL DEFAULT FALSE,
  row_version    TIMESTAMP NOT NULL DEFAULT now(),
  tenant         VARCHAR(20) NOT NULL DEFAULT 'main'
);
CREATE UNIQUE INDEX agents_sign_in ON agents (lower(sign_in_name));
CREATE TABLE queues (
  queue_id    SERIAL PRIMARY KEY,
  queue_label VARCHAR(100) NOT NULL,
  sla_hours   INTEGER
);
CREATE UNIQUE INDEX queues_label ON queues (lower(queue_label));
CREATE TABLE queue_agents (
  queue_id   INTEGER NOT NULL REFERENCES queues ON DELETE CASCADE,
  agent_uuid UUID NOT NULL REFERENCES agents ON DELETE CASCADE,
  PRIMARY KEY (queue_id, agent_uuid)
);
