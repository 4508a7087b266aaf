-- Payroll example schema for PostgreSQL (11 or later, for procedures), served by payroll.map.
-- Workers are written only through the payroll_* procedures; every change to a worker is recorded
-- in worker_changes by a trigger, which autosync reads as a change table (delta table).
-- Load with: psql -d payroll -f schema.postgres.sql

CREATE TABLE cost_centers (
  code text PRIMARY KEY,
  name text NOT NULL
);

CREATE TABLE workers (
  worker_id      uuid PRIMARY KEY,
  login          text NOT NULL UNIQUE,
  first_name     text,
  last_name      text,
  email          text,
  payroll_number text UNIQUE,
  cost_center    text REFERENCES cost_centers (code),
  grade          integer,
  active         boolean NOT NULL DEFAULT TRUE,
  deleted_at     timestamptz  -- workers are never removed: payroll keeps their history
);

CREATE UNIQUE INDEX workers_login_lower ON workers (lower(login));

-- The change table: one row per insert, update or (soft) delete of a worker, in commit order.
CREATE TABLE worker_changes (
  change_id   bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  worker_id   uuid NOT NULL,
  change_type text NOT NULL CHECK (change_type IN ('insert', 'update', 'delete')),
  changed_at  timestamptz NOT NULL DEFAULT clock_timestamp()
);

CREATE FUNCTION workers_record_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF TG_OP = 'INSERT' THEN
    INSERT INTO worker_changes (worker_id, change_type) VALUES (NEW.worker_id, 'insert');
  ELSIF TG_OP = 'DELETE' OR (OLD.deleted_at IS NULL AND NEW.deleted_at IS NOT NULL) THEN
    INSERT INTO worker_changes (worker_id, change_type) VALUES (OLD.worker_id, 'delete');
  ELSE
    INSERT INTO worker_changes (worker_id, change_type) VALUES (NEW.worker_id, 'update');
  END IF;
  RETURN NULL;
END;
$$;

CREATE TRIGGER workers_changes AFTER INSERT OR UPDATE OR DELETE ON workers
FOR EACH ROW EXECUTE FUNCTION workers_record_change();

CREATE TABLE pay_groups (
  code        text PRIMARY KEY,
  description text
);

CREATE TABLE pay_group_members (
  code      text NOT NULL REFERENCES pay_groups (code) ON DELETE CASCADE,
  worker_id uuid NOT NULL REFERENCES workers (worker_id),
  PRIMARY KEY (code, worker_id)
);

-- The procedures take text for identifiers, so that drivers may bind plain strings, and cast.

CREATE PROCEDURE payroll_create_worker(
  p_worker_id text, p_login text, p_first_name text, p_last_name text, p_email text,
  p_payroll_number text, p_cost_center text, p_grade integer, p_active boolean
) LANGUAGE plpgsql AS $$
BEGIN
  INSERT INTO workers (worker_id, login, first_name, last_name, email, payroll_number, cost_center,
                       grade, active)
  VALUES (p_worker_id::uuid, p_login, p_first_name, p_last_name, p_email, p_payroll_number,
          p_cost_center, p_grade, COALESCE(p_active, TRUE));
END;
$$;

CREATE PROCEDURE payroll_update_worker(
  p_worker_id text, p_login text, p_first_name text, p_last_name text, p_email text,
  p_payroll_number text, p_cost_center text, p_grade integer, p_active boolean
) LANGUAGE plpgsql AS $$
BEGIN
  UPDATE workers
  SET login = p_login, first_name = p_first_name, last_name = p_last_name, email = p_email,
      payroll_number = p_payroll_number, cost_center = p_cost_center, grade = p_grade,
      active = COALESCE(p_active, active)
  WHERE worker_id = p_worker_id::uuid AND deleted_at IS NULL;
  IF NOT FOUND THEN
    RAISE EXCEPTION 'no worker %', p_worker_id USING ERRCODE = 'no_data_found';
  END IF;
END;
$$;

CREATE PROCEDURE payroll_delete_worker(p_worker_id text) LANGUAGE plpgsql AS $$
BEGIN
  DELETE FROM pay_group_members WHERE worker_id = p_worker_id::uuid;
  UPDATE workers SET deleted_at = clock_timestamp(), active = FALSE
  WHERE worker_id = p_worker_id::uuid AND deleted_at IS NULL;
END;
$$;

CREATE PROCEDURE payroll_add_member(p_code text, p_worker_id text) LANGUAGE plpgsql AS $$
BEGIN
  INSERT INTO pay_group_members (code, worker_id) VALUES (p_code, p_worker_id::uuid)
  ON CONFLICT DO NOTHING;
END;
$$;

CREATE PROCEDURE payroll_remove_member(p_code text, p_worker_id text) LANGUAGE plpgsql AS $$
BEGIN
  DELETE FROM pay_group_members WHERE code = p_code AND worker_id = p_worker_id::uuid;
END;
$$;

INSERT INTO cost_centers (code, name) VALUES
  ('CC-100', 'Headquarters'),
  ('CC-200', 'Engineering'),
  ('CC-300', 'Field Operations');
