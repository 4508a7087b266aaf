-- HR example schema for PostgreSQL: employees and groups, served as SCIM Users and Groups by hr.map.
-- A user's emails and phone numbers (type, value, primary) are rows of child tables, as the
-- Generic SQL connector keeps multi-valued attributes.
-- updated_at is maintained by triggers with microsecond precision (clock_timestamp()), so autosync's
-- watermark sees changes made within the same second.
-- Load with: psql -d hr -f schema.postgres.sql

CREATE TABLE employees (
  employee_id     serial PRIMARY KEY,
  login           text NOT NULL UNIQUE,
  external_id     text,
  given_name      text,
  family_name     text,
  display_name    text,
  nick_name       text,
  title           text,
  formatted_name  text,
  street_address  text,
  locality        text,
  region          text,
  postal_code     text,
  country         text,
  department      text,
  employee_number text,
  manager_id      integer REFERENCES employees (employee_id) ON DELETE SET NULL,
  active          boolean NOT NULL DEFAULT true,
  created_at      timestamptz NOT NULL DEFAULT clock_timestamp(),
  updated_at      timestamptz NOT NULL DEFAULT clock_timestamp()
);

-- SCIM userName is case-insensitive: so is its uniqueness here.
CREATE UNIQUE INDEX employees_login_lower ON employees (lower(login));
CREATE INDEX employees_updated_at ON employees (updated_at);
CREATE INDEX employees_manager_id ON employees (manager_id);

-- Every email and phone number of an employee: type ('work', 'home', 'mobile'...; may be NULL),
-- the address or number, and whether it is the primary one (at most one each, kept by the gateway).
CREATE TABLE employee_emails (
  employee_id integer NOT NULL REFERENCES employees (employee_id) ON DELETE CASCADE,
  email_type  text,
  address     text NOT NULL,
  is_primary  boolean NOT NULL DEFAULT false
);

CREATE INDEX employee_emails_employee_id ON employee_emails (employee_id);

CREATE TABLE employee_phones (
  employee_id integer NOT NULL REFERENCES employees (employee_id) ON DELETE CASCADE,
  phone_type  text,
  number      text NOT NULL,
  is_primary  boolean NOT NULL DEFAULT false
);

CREATE INDEX employee_phones_employee_id ON employee_phones (employee_id);

CREATE TABLE groups (
  group_id    serial PRIMARY KEY,
  name        text NOT NULL UNIQUE,
  external_id text,
  created_at  timestamptz NOT NULL DEFAULT clock_timestamp(),
  updated_at  timestamptz NOT NULL DEFAULT clock_timestamp()
);

CREATE UNIQUE INDEX groups_name_lower ON groups (lower(name));
CREATE INDEX groups_updated_at ON groups (updated_at);

CREATE TABLE group_members (
  group_id    integer NOT NULL REFERENCES groups (group_id) ON DELETE CASCADE,
  employee_id integer NOT NULL REFERENCES employees (employee_id) ON DELETE CASCADE,
  PRIMARY KEY (group_id, employee_id)
);

CREATE INDEX group_members_employee_id ON group_members (employee_id);

-- Maintain updated_at on every update.
CREATE FUNCTION touch_updated_at() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  NEW.updated_at := clock_timestamp();
  RETURN NEW;
END;
$$;

CREATE TRIGGER employees_touch BEFORE UPDATE ON employees
FOR EACH ROW EXECUTE FUNCTION touch_updated_at();

CREATE TRIGGER groups_touch BEFORE UPDATE ON groups
FOR EACH ROW EXECUTE FUNCTION touch_updated_at();

-- A membership change is a change of the group: touch it so the watermark delta sees it.
CREATE FUNCTION touch_group_of_member() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  UPDATE groups SET updated_at = clock_timestamp()
  WHERE group_id = CASE WHEN TG_OP = 'DELETE' THEN OLD.group_id ELSE NEW.group_id END;
  RETURN NULL;
END;
$$;

CREATE TRIGGER group_members_touch AFTER INSERT OR DELETE ON group_members
FOR EACH ROW EXECUTE FUNCTION touch_group_of_member();

-- An email or phone change is a change of the employee: touch it so the watermark delta sees it.
CREATE FUNCTION touch_employee_of_child() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  UPDATE employees SET updated_at = clock_timestamp()
  WHERE employee_id = CASE WHEN TG_OP = 'DELETE' THEN OLD.employee_id ELSE NEW.employee_id END;
  RETURN NULL;
END;
$$;

CREATE TRIGGER employee_emails_touch AFTER INSERT OR DELETE ON employee_emails
FOR EACH ROW EXECUTE FUNCTION touch_employee_of_child();

CREATE TRIGGER employee_phones_touch AFTER INSERT OR DELETE ON employee_phones
FOR EACH ROW EXECUTE FUNCTION touch_employee_of_child();
