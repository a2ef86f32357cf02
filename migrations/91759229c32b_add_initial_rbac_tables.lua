-- add initial RBAC tables
--
-- Revision ID: 91759229c32b
-- Revises:
-- Create Date: 2026-11-25 16:00:00
--
-- The multi-tenant RBAC schema (docs/rbac.md): tenants, the global permission
-- catalogue, role templates, per-tenant roles, grants and memberships. The
-- catalogue and templates are filled by `rbacmig seed` from rbac/*.lua.
--
-- Every tenant-scoped table (roles, role_permissions, memberships) has
-- tenant_id first in its primary key and in each unique constraint, and its
-- foreign keys to other tenant-scoped tables include tenant_id, so the schema
-- can be distributed by tenant_id (Citus) unchanged; tenants, permissions,
-- role_templates and role_template_permissions are small global tables
-- (reference tables there).
--
-- Written as one statement per db:exec per dialect for now; table creation may
-- move to the portable schema API (lua/rbacmig/schema.lua) later.

-- ---------------------------------------------------------------------------
-- PostgreSQL. Tables go into the configured schema (the host has set
-- search_path to it); the SECURITY DEFINER functions run with a fixed
-- search_path and so name their tables with the schema, written @schema@
-- below and replaced by the quoted schema name.

local PG_UPGRADE = {
  [[
CREATE TABLE tenants (
  id uuid NOT NULL DEFAULT gen_random_uuid(),
  slug text NOT NULL,
  name text NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now(),
  CONSTRAINT tenants_pkey PRIMARY KEY (id),
  CONSTRAINT tenants_slug_key UNIQUE (slug),
  CONSTRAINT tenants_slug_check CHECK (slug ~ '^[a-z0-9-]{3,63}$'),
  CONSTRAINT tenants_name_check CHECK (name <> '')
)]],
  [[
CREATE TABLE permissions (
  id uuid NOT NULL DEFAULT gen_random_uuid(),
  name text NOT NULL,
  description text NOT NULL DEFAULT '',
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now(),
  CONSTRAINT permissions_pkey PRIMARY KEY (id),
  CONSTRAINT permissions_name_key UNIQUE (name),
  CONSTRAINT permissions_name_check
    CHECK (name ~ '^[a-z][a-z0-9_]*(\.[a-z][a-z0-9_]*)+$' AND length(name) <= 100)
)]],
  [[
CREATE TABLE role_templates (
  name text NOT NULL,
  description text NOT NULL DEFAULT '',
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now(),
  CONSTRAINT role_templates_pkey PRIMARY KEY (name),
  CONSTRAINT role_templates_name_check CHECK (name ~ '^[a-z][a-z0-9_]{0,62}$')
)]],
  [[
CREATE TABLE role_template_permissions (
  template text NOT NULL,
  permission_id uuid NOT NULL,
  CONSTRAINT role_template_permissions_pkey PRIMARY KEY (template, permission_id),
  CONSTRAINT role_template_permissions_template_fkey FOREIGN KEY (template)
    REFERENCES role_templates (name) ON DELETE CASCADE,
  CONSTRAINT role_template_permissions_permission_id_fkey FOREIGN KEY (permission_id)
    REFERENCES permissions (id) ON DELETE CASCADE
)]],
  [[
CREATE INDEX role_template_permissions_permission_id_idx
  ON role_template_permissions (permission_id)]],
  -- template: the role template this role was made from (kept in step by
  -- sync), NULL for a role the tenant made itself (never touched by sync).
  [[
CREATE TABLE roles (
  tenant_id uuid NOT NULL,
  id uuid NOT NULL DEFAULT gen_random_uuid(),
  name text NOT NULL,
  description text NOT NULL DEFAULT '',
  template text,
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now(),
  CONSTRAINT roles_pkey PRIMARY KEY (tenant_id, id),
  CONSTRAINT roles_tenant_id_name_key UNIQUE (tenant_id, name),
  CONSTRAINT roles_tenant_id_template_key UNIQUE (tenant_id, template),
  CONSTRAINT roles_tenant_id_fkey FOREIGN KEY (tenant_id)
    REFERENCES tenants (id) ON DELETE CASCADE,
  CONSTRAINT roles_template_fkey FOREIGN KEY (template) REFERENCES role_templates (name),
  CONSTRAINT roles_name_check CHECK (length(name) BETWEEN 1 AND 100)
)]],
  [[
CREATE INDEX roles_template_idx ON roles (template)]],
  -- A grant names its role with (tenant_id, role_id), so it can never point
  -- at another tenant's role. Deleting a permission that a tenant's own role
  -- still grants is refused (RESTRICT) rather than silently revoked.
  [[
CREATE TABLE role_permissions (
  tenant_id uuid NOT NULL,
  role_id uuid NOT NULL,
  permission_id uuid NOT NULL,
  CONSTRAINT role_permissions_pkey PRIMARY KEY (tenant_id, role_id, permission_id),
  CONSTRAINT role_permissions_role_fkey FOREIGN KEY (tenant_id, role_id)
    REFERENCES roles (tenant_id, id) ON DELETE CASCADE,
  CONSTRAINT role_permissions_permission_id_fkey FOREIGN KEY (permission_id)
    REFERENCES permissions (id) ON DELETE RESTRICT
)]],
  [[
CREATE INDEX role_permissions_permission_id_idx ON role_permissions (permission_id)]],
  -- user_id has no foreign key: users live with the application or identity
  -- provider (auth.users on Supabase). A user may hold several roles.
  [[
CREATE TABLE memberships (
  tenant_id uuid NOT NULL,
  user_id uuid NOT NULL,
  role_id uuid NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now(),
  CONSTRAINT memberships_pkey PRIMARY KEY (tenant_id, user_id, role_id),
  CONSTRAINT memberships_role_fkey FOREIGN KEY (tenant_id, role_id)
    REFERENCES roles (tenant_id, id) ON DELETE CASCADE
)]],
  [[
CREATE INDEX memberships_user_id_idx ON memberships (user_id, tenant_id)]],
  [[
CREATE INDEX memberships_role_idx ON memberships (tenant_id, role_id)]],

  [[
CREATE FUNCTION rbac_touch_updated_at() RETURNS trigger
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $rbac$
BEGIN
  NEW.updated_at := now();
  RETURN NEW;
END
$rbac$]],
  [[
CREATE TRIGGER tenants_touch_updated_at BEFORE UPDATE ON tenants
FOR EACH ROW EXECUTE FUNCTION rbac_touch_updated_at()]],
  [[
CREATE TRIGGER permissions_touch_updated_at BEFORE UPDATE ON permissions
FOR EACH ROW EXECUTE FUNCTION rbac_touch_updated_at()]],
  [[
CREATE TRIGGER role_templates_touch_updated_at BEFORE UPDATE ON role_templates
FOR EACH ROW EXECUTE FUNCTION rbac_touch_updated_at()]],
  [[
CREATE TRIGGER roles_touch_updated_at BEFORE UPDATE ON roles
FOR EACH ROW EXECUTE FUNCTION rbac_touch_updated_at()]],

  -- Gives new tenants their template roles and grants, whoever inserts them
  -- (hence SECURITY DEFINER): once per statement, over all the new rows, so a
  -- bulk insert of tenants is seeded set-based. Same statements as rbac.sync.
  [[
CREATE FUNCTION rbac_seed_tenant_roles() RETURNS trigger
LANGUAGE plpgsql
SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $rbac$
BEGIN
  INSERT INTO @schema@.roles (tenant_id, name, description, template)
  SELECT t.id, rt.name, rt.description, rt.name
  FROM new_tenants t CROSS JOIN @schema@.role_templates rt
  ON CONFLICT DO NOTHING;

  INSERT INTO @schema@.role_permissions (tenant_id, role_id, permission_id)
  SELECT r.tenant_id, r.id, tp.permission_id
  FROM new_tenants t
  JOIN @schema@.roles r ON r.tenant_id = t.id
  JOIN @schema@.role_template_permissions tp ON tp.template = r.template
  ON CONFLICT DO NOTHING;

  RETURN NULL;
END
$rbac$]],
  [[
REVOKE ALL ON FUNCTION @schema@.rbac_seed_tenant_roles() FROM PUBLIC]],
  [[
CREATE TRIGGER tenants_seed_roles AFTER INSERT ON tenants
REFERENCING NEW TABLE AS new_tenants
FOR EACH STATEMENT EXECUTE FUNCTION rbac_seed_tenant_roles()]],

  -- Answered from indexes: permissions_name_key gives the permission's id
  -- (once, as an InitPlan), memberships_pkey the user's roles in the tenant,
  -- and role_permissions_pkey each (tenant, role, permission) grant.
  -- Parameters are qualified with the function name because column names win
  -- over parameter names in SQL functions.
  [[
CREATE FUNCTION has_permission(user_id uuid, tenant_id uuid, permission text)
RETURNS boolean
LANGUAGE sql
STABLE
SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $rbac$
  SELECT EXISTS (
    SELECT 1
    FROM @schema@.memberships m
    JOIN @schema@.role_permissions rp
      ON rp.tenant_id = m.tenant_id AND rp.role_id = m.role_id
    WHERE m.tenant_id = has_permission.tenant_id
      AND m.user_id = has_permission.user_id
      AND rp.permission_id = (SELECT p.id FROM @schema@.permissions p
                              WHERE p.name = has_permission.permission)
  )
$rbac$]],
  -- Anyone allowed to call it could ask about any user in any tenant, so
  -- only the owner (and roles it grants explicitly) may. Supabase grants
  -- EXECUTE on new functions to anon and authenticated by default.
  [[
REVOKE ALL ON FUNCTION @schema@.has_permission(uuid, uuid, text) FROM PUBLIC]],
  [[
DO $rbac$
BEGIN
  IF EXISTS (SELECT 1 FROM pg_catalog.pg_roles WHERE rolname = 'anon') THEN
    REVOKE ALL ON FUNCTION @schema@.has_permission(uuid, uuid, text) FROM anon;
  END IF;
  IF EXISTS (SELECT 1 FROM pg_catalog.pg_roles WHERE rolname = 'authenticated') THEN
    REVOKE ALL ON FUNCTION @schema@.has_permission(uuid, uuid, text) FROM authenticated;
  END IF;
END
$rbac$]],

  -- SUPABASE ROW-LEVEL SECURITY: a later migration, not built yet. It will
  -- enable RLS on every table above, add policies that call a two-argument
  -- has_permission(tenant_id, permission) using auth.uid() (safe to grant to
  -- authenticated), and review table grants to anon/authenticated. Until it
  -- lands, do not expose this schema through PostgREST/the Data API.
}

-- Reverse order of creation; the triggers go with their tables.
local PG_DOWNGRADE = {
  "DROP TABLE memberships",
  "DROP TABLE role_permissions",
  "DROP TABLE roles",
  "DROP TABLE role_template_permissions",
  "DROP TABLE role_templates",
  "DROP TABLE permissions",
  "DROP TABLE tenants",
  "DROP FUNCTION has_permission(uuid, uuid, text)",
  "DROP FUNCTION rbac_seed_tenant_roles()",
  "DROP FUNCTION rbac_touch_updated_at()",
}

-- ---------------------------------------------------------------------------
-- SQLite. UUIDs are lowercase text (random version 4 by default), timestamps
-- text in UTC ('YYYY-MM-DD HH:MM:SS'); the checks say with GLOB and length
-- what PostgreSQL says with regular expressions. There is no trigger to seed
-- new tenants: rbac.create_tenant does it.

local HEX = "[0-9a-f]"
local UUID_GLOB = HEX:rep(8) .. "-" .. HEX:rep(4) .. "-" .. HEX:rep(4) .. "-"
  .. HEX:rep(4) .. "-" .. HEX:rep(12)

local SQLITE_UUID = "(lower(hex(randomblob(4))) || '-' || lower(hex(randomblob(2)))"
  .. " || '-4' || substr(lower(hex(randomblob(2))), 2)"
  .. " || '-' || substr('89ab', 1 + (random() & 3), 1) || substr(lower(hex(randomblob(2))), 2)"
  .. " || '-' || lower(hex(randomblob(6))))"

local function sqlite_touch(tbl, key)
  return "CREATE TRIGGER " .. tbl .. "_touch_updated_at AFTER UPDATE ON " .. tbl .. "\n"
    .. "FOR EACH ROW WHEN NEW.updated_at IS OLD.updated_at\n"
    .. "BEGIN\n"
    .. "  UPDATE " .. tbl .. " SET updated_at = CURRENT_TIMESTAMP WHERE " .. key .. ";\n"
    .. "END"
end

local SQLITE_UPGRADE = {
  [[
CREATE TABLE tenants (
  id TEXT NOT NULL DEFAULT @uuid@,
  slug TEXT NOT NULL,
  name TEXT NOT NULL,
  created_at TEXT NOT NULL DEFAULT CURRENT_TIMESTAMP,
  updated_at TEXT NOT NULL DEFAULT CURRENT_TIMESTAMP,
  CONSTRAINT tenants_pkey PRIMARY KEY (id),
  CONSTRAINT tenants_slug_key UNIQUE (slug),
  CONSTRAINT tenants_slug_check
    CHECK (length(slug) BETWEEN 3 AND 63 AND slug NOT GLOB '*[^a-z0-9-]*'),
  CONSTRAINT tenants_name_check CHECK (name <> '')
)]],
  [[
CREATE TABLE permissions (
  id TEXT NOT NULL DEFAULT @uuid@,
  name TEXT NOT NULL,
  description TEXT NOT NULL DEFAULT '',
  created_at TEXT NOT NULL DEFAULT CURRENT_TIMESTAMP,
  updated_at TEXT NOT NULL DEFAULT CURRENT_TIMESTAMP,
  CONSTRAINT permissions_pkey PRIMARY KEY (id),
  CONSTRAINT permissions_name_key UNIQUE (name),
  CONSTRAINT permissions_name_check
    CHECK (length(name) <= 100 AND name GLOB '[a-z]*.*' AND name NOT GLOB '*[^a-z0-9_.]*'
           AND name NOT GLOB '*.[^a-z]*' AND name NOT GLOB '*.')
)]],
  [[
CREATE TABLE role_templates (
  name TEXT NOT NULL,
  description TEXT NOT NULL DEFAULT '',
  created_at TEXT NOT NULL DEFAULT CURRENT_TIMESTAMP,
  updated_at TEXT NOT NULL DEFAULT CURRENT_TIMESTAMP,
  CONSTRAINT role_templates_pkey PRIMARY KEY (name),
  CONSTRAINT role_templates_name_check
    CHECK (length(name) BETWEEN 1 AND 63 AND name GLOB '[a-z]*' AND name NOT GLOB '*[^a-z0-9_]*')
)]],
  [[
CREATE TABLE role_template_permissions (
  template TEXT NOT NULL,
  permission_id TEXT NOT NULL,
  CONSTRAINT role_template_permissions_pkey PRIMARY KEY (template, permission_id),
  CONSTRAINT role_template_permissions_template_fkey FOREIGN KEY (template)
    REFERENCES role_templates (name) ON DELETE CASCADE,
  CONSTRAINT role_template_permissions_permission_id_fkey FOREIGN KEY (permission_id)
    REFERENCES permissions (id) ON DELETE CASCADE
) WITHOUT ROWID]],
  [[
CREATE INDEX role_template_permissions_permission_id_idx
  ON role_template_permissions (permission_id)]],
  [[
CREATE TABLE roles (
  tenant_id TEXT NOT NULL,
  id TEXT NOT NULL DEFAULT @uuid@,
  name TEXT NOT NULL,
  description TEXT NOT NULL DEFAULT '',
  template TEXT,
  created_at TEXT NOT NULL DEFAULT CURRENT_TIMESTAMP,
  updated_at TEXT NOT NULL DEFAULT CURRENT_TIMESTAMP,
  CONSTRAINT roles_pkey PRIMARY KEY (tenant_id, id),
  CONSTRAINT roles_tenant_id_name_key UNIQUE (tenant_id, name),
  CONSTRAINT roles_tenant_id_template_key UNIQUE (tenant_id, template),
  CONSTRAINT roles_tenant_id_fkey FOREIGN KEY (tenant_id)
    REFERENCES tenants (id) ON DELETE CASCADE,
  CONSTRAINT roles_template_fkey FOREIGN KEY (template) REFERENCES role_templates (name),
  CONSTRAINT roles_name_check CHECK (length(name) BETWEEN 1 AND 100)
)]],
  [[
CREATE INDEX roles_template_idx ON roles (template)]],
  [[
CREATE TABLE role_permissions (
  tenant_id TEXT NOT NULL,
  role_id TEXT NOT NULL,
  permission_id TEXT NOT NULL,
  CONSTRAINT role_permissions_pkey PRIMARY KEY (tenant_id, role_id, permission_id),
  CONSTRAINT role_permissions_role_fkey FOREIGN KEY (tenant_id, role_id)
    REFERENCES roles (tenant_id, id) ON DELETE CASCADE,
  CONSTRAINT role_permissions_permission_id_fkey FOREIGN KEY (permission_id)
    REFERENCES permissions (id) ON DELETE RESTRICT
) WITHOUT ROWID]],
  [[
CREATE INDEX role_permissions_permission_id_idx ON role_permissions (permission_id)]],
  [[
CREATE TABLE memberships (
  tenant_id TEXT NOT NULL,
  user_id TEXT NOT NULL,
  role_id TEXT NOT NULL,
  created_at TEXT NOT NULL DEFAULT CURRENT_TIMESTAMP,
  CONSTRAINT memberships_pkey PRIMARY KEY (tenant_id, user_id, role_id),
  CONSTRAINT memberships_role_fkey FOREIGN KEY (tenant_id, role_id)
    REFERENCES roles (tenant_id, id) ON DELETE CASCADE,
  CONSTRAINT memberships_user_id_check CHECK (user_id GLOB '@uuid_glob@')
) WITHOUT ROWID]],
  [[
CREATE INDEX memberships_user_id_idx ON memberships (user_id, tenant_id)]],
  [[
CREATE INDEX memberships_role_idx ON memberships (tenant_id, role_id)]],

  sqlite_touch("tenants", "id = NEW.id"),
  sqlite_touch("permissions", "id = NEW.id"),
  sqlite_touch("role_templates", "name = NEW.name"),
  sqlite_touch("roles", "tenant_id = NEW.tenant_id AND id = NEW.id"),
}

local SQLITE_DOWNGRADE = {
  "DROP TABLE memberships",
  "DROP TABLE role_permissions",
  "DROP TABLE roles",
  "DROP TABLE role_template_permissions",
  "DROP TABLE role_templates",
  "DROP TABLE permissions",
  "DROP TABLE tenants",
}

-- ---------------------------------------------------------------------------

local function statements(db, upgrade)
  if db.dialect == "postgresql" then
    local schema = db:quote_ident(db.schema or "public")
    local out = {}
    for i, sql in ipairs(upgrade and PG_UPGRADE or PG_DOWNGRADE) do
      out[i] = sql:gsub("@schema@", function() return schema end)
    end
    return out
  elseif db.dialect == "sqlite" then
    local out = {}
    for i, sql in ipairs(upgrade and SQLITE_UPGRADE or SQLITE_DOWNGRADE) do
      out[i] = sql:gsub("@uuid@", function() return SQLITE_UUID end)
        :gsub("@uuid_glob@", function() return UUID_GLOB end)
    end
    return out
  end
  error("91759229c32b: unsupported dialect '" .. tostring(db.dialect) .. "'", 2)
end

local function run(db, upgrade)
  for _, sql in ipairs(statements(db, upgrade)) do
    db:exec(sql)
  end
end

return {
  revision = "91759229c32b",
  down_revision = nil,
  message = "add initial RBAC tables",
  upgrade = function(db) run(db, true) end,
  downgrade = function(db) run(db, false) end,
}
