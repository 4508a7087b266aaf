CREATE TABLE agents (
  agent_uuid     CHAR(36) NOT NULL DEFAULT (UUID()) PRIMARY KEY,
  sign_in_name   VARCHAR(120) NOT NULL UNIQUE,
  first          VARCHAR(80),
  last           VARCHAR(80),
  contact_email  VARCHAR(200),
  office         VARCHAR(80),
  agent_level    SMALLINT NOT NULL DEFAULT 1,
  access_revoked BOOLEAN NOT NULL DEFAULT FALSE,
  row_version    DATETIME(6) NOT NULL DEFAULT CURRENT_TIMESTAMP(6) ON UPDATE CURRENT_TIMESTAMP(6),
  tenant         VARCHAR(20) NOT NULL DEFAULT 'main'
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4;
CREATE TABLE queues (
  queue_id    INT NOT NULL AUTO_INCREMENT PRIMARY KEY,
  queue_label VARCHAR(100) NOT NULL UNIQUE,
  sla_hours   INT
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4;
CREATE TABLE queue_agents (
  queue_id   INT NOT NULL,
  agent_uuid CHAR(36) NOT NULL,
  PRIMARY KEY (queue_id, agent_uuid),
  CONSTRAINT queue_agents_queue FOREIGN KEY (queue_id) REFERENCES queues (queue_id) ON DELETE CASCADE,
  CONSTRAINT queue_agents_agent FOREIGN KEY (agent_uuid) REFERENCES agents (agent_uuid) ON DELETE CASCADE
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4;
