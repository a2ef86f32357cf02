-- add initial RBAC tables
--
-- Revision ID: 91759229c32b
-- Revises:
-- Create Date: 2026-11-25 16:00:00
--
-- The multi-tenant RBAC schema (docs/rbac.md), on PostgreSQL and SQLite:
--
--   tables    tenants, permissions, role_templates, role_template_permissions,
--             roles, role_permissions, memberships, with named keys, checks
--             and foreign keys (written once, below, with the schema API)
--   indexes   role_template_permissions_permission_id_idx, roles_template_idx,
--             role_permissions_permission_id_idx, memberships_user_id_idx,
--             memberships_role_idx
--   triggers  <table>_touch_updated_at on tenants, permissions, role_templates
--             and roles
--
-- and on PostgreSQL only the functions rbac_touch_updated_at(),
-- rbac_seed_tenant_roles() (trigger tenants_seed_roles) and
-- has_permission(user_id, tenant_id, permission). On Supabase (PostgreSQL
-- with auth.users and auth.uid()) it also adds row-level security: see
-- SUPABASE below. Under --sql there is no database to ask at generation
-- time, so the script asks when it is applied: the Supabase layer is a DO
-- block that runs its statements only where auth.users and auth.uid() exist
-- (and refuses where the roles are missing), as the online upgrade decides.
-- The downgrade removes all of it, the script likewise guarded.
-- The catalogue and templates are filled by `rbacmig seed` from rbac/*.lua.
--
-- Every tenant-scoped table (roles, role_permissions, memberships) has
-- tenant_id first in its primary key and in each unique constraint, and its
-- foreign keys to other tenant-scoped tables include tenant_id, so the schema
-- can be distributed by tenant_id (Citus) unchanged; tenants, permissions,
-- role_templates and role_template_permissions are small global tables
-- (reference tables there).

-- ---------------------------------------------------------------------------
-- The tables, on both dialects. The schema API spells the types per dialect
-- (uuid and timestamptz are TEXT on SQLite) and the defaults (db.fn.uuid() is
-- gen_random_uuid() on PostgreSQL, a random version 4 text UUID on SQLite;
-- db.fn.now() is now() or CURRENT_TIMESTAMP, UTC 'YYYY-MM-DD HH:MM:SS').
-- Every constraint is named (<table>_<column>_pkey/_key/_check/_fkey, as
-- PostgreSQL names them), so names in error messages are the same on both
-- dialects. Only the checks differ: what PostgreSQL says with a regular
-- expression, SQLite says with GLOB and length().

-- A lowercase UUID, for SQLite's check on memberships.user_id.
local HEX = "[0-9a-f]"
local UUID_GLOB = HEX:rep(8) .. "-" .. HEX:rep(4) .. "-" .. HEX:rep(4) .. "-"
  .. HEX:rep(4) .. "-" .. HEX:rep(12)

-- In the order create_tables makes them, parents first; downgrade drops them
-- in reverse.
local TABLES = {
  "tenants", "permissions", "role_templates", "role_template_permissions", "roles",
  "role_permissions", "memberships",
}

local function create_tables(db)
  local pg = db.dialect == "postgresql"

  db:create_table("tenants", {
    { "id", "uuid", not_null = true, default = db.fn.uuid() },
    { "slug", "text", not_null = true },
    { "name", "text", not_null = true },
    { "created_at", "timestamptz", not_null = true, default = db.fn.now() },
    { "updated_at", "timestamptz", not_null = true, default = db.fn.now() },
  }, {
    primary_key = { name = "tenants_pkey", columns = { "id" } },
    unique = { { name = "tenants_slug_key", columns = { "slug" } } },
    checks = {
      { name = "tenants_slug_check",
        expr = pg and "slug ~ '^[a-z0-9-]{3,63}$'"
          or "length(slug) BETWEEN 3 AND 63 AND slug NOT GLOB '*[^a-z0-9-]*'" },
      { name = "tenants_name_check", expr = "name <> ''" },
    },
  })

  -- A permission name is resource.action: two or more segments of [a-z0-9_],
  -- each starting with a letter (rbac.validate checks the same).
  db:create_table("permissions", {
    { "id", "uuid", not_null = true, default = db.fn.uuid() },
    { "name", "text", not_null = true },
    { "description", "text", not_null = true, default = "" },
    { "created_at", "timestamptz", not_null = true, default = db.fn.now() },
    { "updated_at", "timestamptz", not_null = true, default = db.fn.now() },
  }, {
    primary_key = { name = "permissions_pkey", columns = { "id" } },
    unique = { { name = "permissions_name_key", columns = { "name" } } },
    checks = {
      { name = "permissions_name_check",
        expr = pg and [[name ~ '^[a-z][a-z0-9_]*(\.[a-z][a-z0-9_]*)+$' AND length(name) <= 100]]
          or "length(name) <= 100 AND name GLOB '[a-z]*.*' AND name NOT GLOB '*[^a-z0-9_.]*'"
            .. " AND name NOT GLOB '*.[^a-z]*' AND name NOT GLOB '*.'" },
    },
  })

  -- A template's name is a role name: [a-z][a-z0-9_]*, at most 63 characters.
  db:create_table("role_templates", {
    { "name", "text", not_null = true },
    { "description", "text", not_null = true, default = "" },
    { "created_at", "timestamptz", not_null = true, default = db.fn.now() },
    { "updated_at", "timestamptz", not_null = true, default = db.fn.now() },
  }, {
    primary_key = { name = "role_templates_pkey", columns = { "name" } },
    checks = {
      { name = "role_templates_name_check",
        expr = pg and "name ~ '^[a-z][a-z0-9_]{0,62}$'"
          or "length(name) BETWEEN 1 AND 63 AND name GLOB '[a-z]*'"
            .. " AND name NOT GLOB '*[^a-z0-9_]*'" },
    },
  })

  -- The grant and membership tables are all key: on SQLite they live in their
  -- primary key's B-tree (WITHOUT ROWID) instead of a table plus an index.
  db:create_table("role_template_permissions", {
    { "template", "text", not_null = true },
    { "permission_id", "uuid", not_null = true },
  }, {
    primary_key = { name = "role_template_permissions_pkey",
                    columns = { "template", "permission_id" } },
    foreign_keys = {
      { name = "role_template_permissions_template_fkey", columns = { "template" },
        references_table = "role_templates", references_columns = { "name" },
        on_delete = "cascade" },
      { name = "role_template_permissions_permission_id_fkey", columns = { "permission_id" },
        references_table = "permissions", references_columns = { "id" },
        on_delete = "cascade" },
    },
    without_rowid = true,
  })
  -- Deleting a permission looks for its template grants.
  db:create_index("role_template_permissions", "permission_id",
    { name = "role_template_permissions_permission_id_idx" })

  -- template: the role template this role was made from (kept in step by
  -- sync), NULL for a role the tenant made itself (never touched by sync).
  db:create_table("roles", {
    { "tenant_id", "uuid", not_null = true },
    { "id", "uuid", not_null = true, default = db.fn.uuid() },
    { "name", "text", not_null = true },
    { "description", "text", not_null = true, default = "" },
    { "template", "text" },
    { "created_at", "timestamptz", not_null = true, default = db.fn.now() },
    { "updated_at", "timestamptz", not_null = true, default = db.fn.now() },
  }, {
    primary_key = { name = "roles_pkey", columns = { "tenant_id", "id" } },
    unique = {
      { name = "roles_tenant_id_name_key", columns = { "tenant_id", "name" } },
      { name = "roles_tenant_id_template_key", columns = { "tenant_id", "template" } },
    },
    checks = { { name = "roles_name_check", expr = "length(name) BETWEEN 1 AND 100" } },
    foreign_keys = {
      { name = "roles_tenant_id_fkey", columns = { "tenant_id" },
        references_table = "tenants", references_columns = { "id" }, on_delete = "cascade" },
      { name = "roles_template_fkey", columns = { "template" },
        references_table = "role_templates", references_columns = { "name" } },
    },
  })
  -- A template's roles across tenants (sync, prune, deleting a template).
  db:create_index("roles", "template", { name = "roles_template_idx" })

  -- A grant names its role with (tenant_id, role_id), so it can never point
  -- at another tenant's role. Deleting a permission that a tenant's own role
  -- still grants is refused (RESTRICT) rather than silently revoked.
  db:create_table("role_permissions", {
    { "tenant_id", "uuid", not_null = true },
    { "role_id", "uuid", not_null = true },
    { "permission_id", "uuid", not_null = true },
  }, {
    primary_key = { name = "role_permissions_pkey",
                    columns = { "tenant_id", "role_id", "permission_id" } },
    foreign_keys = {
      { name = "role_permissions_role_fkey", columns = { "tenant_id", "role_id" },
        references_table = "roles", references_columns = { "tenant_id", "id" },
        on_delete = "cascade" },
      { name = "role_permissions_permission_id_fkey", columns = { "permission_id" },
        references_table = "permissions", references_columns = { "id" },
        on_delete = "restrict" },
    },
    without_rowid = true,
  })
  -- Who holds a permission; deleting a permission.
  db:create_index("role_permissions", "permission_id",
    { name = "role_permissions_permission_id_idx" })

  -- user_id has no foreign key: users live with the application or identity
  -- provider (auth.users on Supabase, where SUPABASE adds the key). A user may
  -- hold several roles. PostgreSQL's uuid type refuses anything but a UUID;
  -- SQLite's TEXT needs the check to keep user ids comparable (lowercase).
  db:create_table("memberships", {
    { "tenant_id", "uuid", not_null = true },
    { "user_id", "uuid", not_null = true },
    { "role_id", "uuid", not_null = true },
    { "created_at", "timestamptz", not_null = true, default = db.fn.now() },
  }, {
    primary_key = { name = "memberships_pkey", columns = { "tenant_id", "user_id", "role_id" } },
    foreign_keys = {
      { name = "memberships_role_fkey", columns = { "tenant_id", "role_id" },
        references_table = "roles", references_columns = { "tenant_id", "id" },
        on_delete = "cascade" },
    },
    checks = not pg
      and { { name = "memberships_user_id_check", expr = "user_id GLOB '" .. UUID_GLOB .. "'" } }
      or nil,
    without_rowid = true,
  })
  -- A user's tenants (the RLS helpers; the foreign key to auth.users).
  db:create_index("memberships", { "user_id", "tenant_id" }, { name = "memberships_user_id_idx" })
  -- A role's members; deleting a role.
  db:create_index("memberships", { "tenant_id", "role_id" }, { name = "memberships_role_idx" })
end

-- ---------------------------------------------------------------------------
-- SQLite: updated_at. A SQLite trigger cannot assign NEW, so an AFTER UPDATE
-- trigger sets it, unless the update set updated_at itself. There is no
-- trigger to seed new tenants: rbac.create_tenant does it.

local function sqlite_touch(tbl, key)
  return "CREATE TRIGGER " .. tbl .. "_touch_updated_at AFTER UPDATE ON " .. tbl .. "\n"
    .. "FOR EACH ROW WHEN NEW.updated_at IS OLD.updated_at\n"
    .. "BEGIN\n"
    .. "  UPDATE " .. tbl .. " SET updated_at = CURRENT_TIMESTAMP WHERE " .. key .. ";\n"
    .. "END"
end

local SQLITE_TRIGGERS = {
  sqlite_touch("tenants", "id = NEW.id"),
  sqlite_touch("permissions", "id = NEW.id"),
  sqlite_touch("role_templates", "name = NEW.name"),
  sqlite_touch("roles", "tenant_id = NEW.tenant_id AND id = NEW.id"),
}

-- ---------------------------------------------------------------------------
-- PostgreSQL: functions and triggers, after the tables. Written as SQL: the
-- seeding trigger needs a transition table and the Supabase helpers an empty
-- search_path, which the schema API's create_trigger and create_function do
-- not express. The SECURITY DEFINER functions run with a fixed search_path
-- and so name their tables with the schema, written @schema@ below and
-- replaced by the quoted schema name (the host has set search_path to it
-- for everything else).

local PG_UPGRADE = {
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
  -- Parameters are qualified with the function name so that no name can be read
  -- as a column. PL/pgSQL rather than SQL: a SECURITY DEFINER function with its
  -- own search_path is never inlined, and a SQL function's body is planned again
  -- on every call, while PL/pgSQL keeps the plan (0.03 ms a call instead of 0.14
  -- in bench/).
  [[
CREATE FUNCTION has_permission(user_id uuid, tenant_id uuid, permission text)
RETURNS boolean
LANGUAGE plpgsql
STABLE
SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $rbac$
BEGIN
  RETURN EXISTS (
    SELECT 1
    FROM @schema@.memberships m
    JOIN @schema@.role_permissions rp
      ON rp.tenant_id = m.tenant_id AND rp.role_id = m.role_id
    WHERE m.tenant_id = has_permission.tenant_id
      AND m.user_id = has_permission.user_id
      AND rp.permission_id = (SELECT p.id FROM @schema@.permissions p
                              WHERE p.name = has_permission.permission)
  );
END
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

  -- On Supabase, SUPABASE_UPGRADE (below) follows: row-level security on
  -- every table above, has_permission(tenant_id, permission) for the current
  -- user, and table privileges for anon/authenticated. Without it (plain
  -- PostgreSQL) do not expose this schema through PostgREST/the Data API.
}

-- After the tables, which took their triggers with them.
local PG_DOWNGRADE = {
  "DROP FUNCTION has_permission(uuid, uuid, text)",
  "DROP FUNCTION rbac_seed_tenant_roles()",
  "DROP FUNCTION rbac_touch_updated_at()",
}

-- ---------------------------------------------------------------------------
-- SUPABASE: row-level security, added after PG_UPGRADE when the database has
-- Supabase's auth schema (auth.users and auth.uid()). docs/rbac.md lists what
-- each role may do; tests/pgtap/ proves it.
--
-- Only the user id comes from the JWT (auth.uid()); permissions are read from
-- the tables on every statement, so a removed member loses access at once.
-- Policies follow Supabase's RLS performance advice: TO authenticated, one
-- permissive policy per table and command, and helpers called as
-- `col IN (SELECT helper())`, which PostgreSQL runs once per statement (a
-- hashed subplan), not once per row. The helpers are SECURITY DEFINER (a
-- policy on memberships cannot query memberships under its own policy) and
-- live in rbac_private, a schema PostgREST does not expose, with
-- search_path = ''. None takes a user id: each answers for auth.uid() only.
-- Every function in an exposed schema is callable at /rest/v1/rpc/<name>, so
-- the public has_permission(tenant_id, permission) is SECURITY INVOKER and
-- asks rbac_private; has_permission(user_id, ...) stays closed to anon and
-- authenticated.

-- Supabase's auth schema, as the dashboard and `supabase start` make it.
local SUPABASE_PROBE = [[
SELECT to_regclass('auth.users') IS NOT NULL AND to_regprocedure('auth.uid()') IS NOT NULL]]

local SUPABASE_MISSING_ROLES = [[
SELECT string_agg(r.name, ', ' ORDER BY r.name)
FROM unnest(ARRAY['anon', 'authenticated', 'service_role']) AS r(name)
WHERE NOT EXISTS (SELECT 1 FROM pg_catalog.pg_roles p WHERE p.rolname = r.name)]]

local SUPABASE_PRESENT = [[
SELECT to_regnamespace('rbac_private') IS NOT NULL]]

local RBAC_TABLES = "tenants, permissions, role_templates, role_template_permissions, roles,"
  .. " role_permissions, memberships"

local SUPABASE_UPGRADE = {
  -- Deleting a user account removes the user's memberships.
  [[
ALTER TABLE memberships ADD CONSTRAINT memberships_user_id_fkey
  FOREIGN KEY (user_id) REFERENCES auth.users (id) ON DELETE CASCADE]],

  [[
CREATE SCHEMA rbac_private]],

  -- The tenants the current user belongs to.
  [[
CREATE FUNCTION rbac_private.member_tenants() RETURNS SETOF uuid
LANGUAGE sql
STABLE
SECURITY DEFINER
SET search_path = ''
AS $rbac$
  SELECT DISTINCT m.tenant_id
  FROM @schema@.memberships m
  WHERE m.user_id = (SELECT auth.uid())
$rbac$]],

  -- The tenants in which the current user holds `permission`; usable in an
  -- application's own policies: tenant_id IN (SELECT rbac_private.permitted_tenants('projects.read')).
  [[
CREATE FUNCTION rbac_private.permitted_tenants(permission text) RETURNS SETOF uuid
LANGUAGE sql
STABLE
SECURITY DEFINER
SET search_path = ''
AS $rbac$
  SELECT DISTINCT m.tenant_id
  FROM @schema@.memberships m
  JOIN @schema@.role_permissions rp
    ON rp.tenant_id = m.tenant_id AND rp.role_id = m.role_id
  WHERE m.user_id = (SELECT auth.uid())
    AND rp.permission_id = (SELECT p.id FROM @schema@.permissions p
                            WHERE p.name = permitted_tenants.permission)
$rbac$]],

  -- Every (tenant, permission) the current user holds.
  [[
CREATE FUNCTION rbac_private.held_permissions()
RETURNS TABLE (tenant_id uuid, permission_id uuid)
LANGUAGE sql
STABLE
SECURITY DEFINER
SET search_path = ''
AS $rbac$
  SELECT DISTINCT m.tenant_id, rp.permission_id
  FROM @schema@.memberships m
  JOIN @schema@.role_permissions rp
    ON rp.tenant_id = m.tenant_id AND rp.role_id = m.role_id
  WHERE m.user_id = (SELECT auth.uid())
$rbac$]],

  -- The roles the current user may give or take: in tenants where the user
  -- holds members.manage, every role whose permissions the user all holds
  -- there. So nobody hands out a permission they lack (an admin cannot make
  -- anyone owner) nor takes a role from someone above them.
  [[
CREATE FUNCTION rbac_private.grantable_roles()
RETURNS TABLE (tenant_id uuid, role_id uuid)
LANGUAGE sql
STABLE
SECURITY DEFINER
SET search_path = ''
AS $rbac$
  WITH held AS (SELECT h.tenant_id, h.permission_id FROM rbac_private.held_permissions() h)
  SELECT r.tenant_id, r.id
  FROM @schema@.roles r
  WHERE r.tenant_id IN (SELECT rbac_private.permitted_tenants('members.manage'))
    AND NOT EXISTS (
      SELECT 1
      FROM @schema@.role_permissions rp
      WHERE rp.tenant_id = r.tenant_id AND rp.role_id = r.id
        AND NOT EXISTS (SELECT 1 FROM held
                        WHERE held.tenant_id = rp.tenant_id
                          AND held.permission_id = rp.permission_id))
$rbac$]],

  -- The roles the current user may edit: in tenants where the user holds
  -- roles.manage, the tenant's own roles (template IS NULL; template roles
  -- belong to `rbacmig seed`) whose permissions the user all holds, so that
  -- nobody edits, strips or deletes a role above them.
  [[
CREATE FUNCTION rbac_private.manageable_roles()
RETURNS TABLE (tenant_id uuid, role_id uuid)
LANGUAGE sql
STABLE
SECURITY DEFINER
SET search_path = ''
AS $rbac$
  WITH held AS (SELECT h.tenant_id, h.permission_id FROM rbac_private.held_permissions() h)
  SELECT r.tenant_id, r.id
  FROM @schema@.roles r
  WHERE r.template IS NULL
    AND r.tenant_id IN (SELECT rbac_private.permitted_tenants('roles.manage'))
    AND NOT EXISTS (
      SELECT 1
      FROM @schema@.role_permissions rp
      WHERE rp.tenant_id = r.tenant_id AND rp.role_id = r.id
        AND NOT EXISTS (SELECT 1 FROM held
                        WHERE held.tenant_id = rp.tenant_id
                          AND held.permission_id = rp.permission_id))
$rbac$]],

  -- has_permission for the current user only.
  [[
CREATE FUNCTION rbac_private.has_permission(tenant_id uuid, permission text)
RETURNS boolean
LANGUAGE sql
STABLE
SECURITY DEFINER
SET search_path = ''
AS $rbac$
  SELECT @schema@.has_permission((SELECT auth.uid()), has_permission.tenant_id,
                                 has_permission.permission)
$rbac$]],

  -- The API: /rest/v1/rpc/has_permission answers for the caller. SECURITY
  -- INVOKER, as the advisors want of what an exposed schema offers.
  [[
CREATE FUNCTION has_permission(tenant_id uuid, permission text)
RETURNS boolean
LANGUAGE sql
STABLE
SECURITY INVOKER
SET search_path = ''
AS $rbac$
  SELECT rbac_private.has_permission(has_permission.tenant_id, has_permission.permission)
$rbac$]],

  -- The last owner of a tenant cannot be removed or demoted, by anyone: a
  -- tenant always has an owner until it is deleted. Two removals must not
  -- each count the other owner: the lock on the tenant row queues them, and
  -- the remaining owners are counted by locking their rows, which under
  -- READ COMMITTED (PostgREST's level) skips a row another transaction has
  -- just deleted and under REPEATABLE READ fails with a serialization error.
  -- Cascades pass: deleting the tenant, the owner role, or the user's
  -- account (auth.users; the tenant is then left without an owner).
  [[
CREATE FUNCTION rbac_private.keep_last_owner() RETURNS trigger
LANGUAGE plpgsql
SECURITY DEFINER
SET search_path = ''
AS $rbac$
BEGIN
  IF NOT EXISTS (SELECT 1 FROM @schema@.roles r
                 WHERE r.tenant_id = OLD.tenant_id AND r.id = OLD.role_id
                   AND r.template = 'owner') THEN
    RETURN NULL;
  END IF;
  PERFORM 1 FROM @schema@.tenants t WHERE t.id = OLD.tenant_id FOR NO KEY UPDATE;
  IF NOT FOUND THEN
    RETURN NULL;
  END IF;
  IF NOT EXISTS (SELECT 1 FROM auth.users u WHERE u.id = OLD.user_id) THEN
    RETURN NULL;
  END IF;
  PERFORM 1 FROM @schema@.memberships m
  WHERE m.tenant_id = OLD.tenant_id AND m.role_id = OLD.role_id
  FOR KEY SHARE;
  IF NOT FOUND THEN
    RAISE EXCEPTION 'cannot remove the last owner of tenant ''%''',
        (SELECT t.slug FROM @schema@.tenants t WHERE t.id = OLD.tenant_id)
      USING ERRCODE = 'integrity_constraint_violation',
            DETAIL = format('User %s is the only member with the owner role.', OLD.user_id),
            HINT = 'Make another member owner first, or delete the tenant.';
  END IF;
  RETURN NULL;
END
$rbac$]],
  [[
CREATE CONSTRAINT TRIGGER memberships_keep_owner
AFTER UPDATE OR DELETE ON memberships
DEFERRABLE INITIALLY IMMEDIATE
FOR EACH ROW EXECUTE FUNCTION rbac_private.keep_last_owner()]],

  "ALTER TABLE tenants ENABLE ROW LEVEL SECURITY",
  "ALTER TABLE permissions ENABLE ROW LEVEL SECURITY",
  "ALTER TABLE role_templates ENABLE ROW LEVEL SECURITY",
  "ALTER TABLE role_template_permissions ENABLE ROW LEVEL SECURITY",
  "ALTER TABLE roles ENABLE ROW LEVEL SECURITY",
  "ALTER TABLE role_permissions ENABLE ROW LEVEL SECURITY",
  "ALTER TABLE memberships ENABLE ROW LEVEL SECURITY",

  -- A member reads the tenant and all of its rows; tenants.update and
  -- tenants.delete change it. Tenants are created by the backend
  -- (service_role) or `rbacmig tenant create`, not through the API.
  [[
CREATE POLICY tenants_select ON tenants FOR SELECT TO authenticated
USING (id IN (SELECT rbac_private.member_tenants()))]],
  [[
CREATE POLICY tenants_update ON tenants FOR UPDATE TO authenticated
USING (id IN (SELECT rbac_private.permitted_tenants('tenants.update')))
WITH CHECK (id IN (SELECT rbac_private.permitted_tenants('tenants.update')))]],
  [[
CREATE POLICY tenants_delete ON tenants FOR DELETE TO authenticated
USING (id IN (SELECT rbac_private.permitted_tenants('tenants.delete')))]],

  -- The global catalogue and templates: readable by any signed-in user,
  -- written only by `rbacmig seed`.
  [[
CREATE POLICY permissions_select ON permissions FOR SELECT TO authenticated
USING ((SELECT auth.uid()) IS NOT NULL)]],
  [[
CREATE POLICY role_templates_select ON role_templates FOR SELECT TO authenticated
USING ((SELECT auth.uid()) IS NOT NULL)]],
  [[
CREATE POLICY role_template_permissions_select ON role_template_permissions
FOR SELECT TO authenticated
USING ((SELECT auth.uid()) IS NOT NULL)]],

  -- Roles: roles.manage creates, renames and deletes the tenant's own roles.
  [[
CREATE POLICY roles_select ON roles FOR SELECT TO authenticated
USING (tenant_id IN (SELECT rbac_private.member_tenants()))]],
  [[
CREATE POLICY roles_insert ON roles FOR INSERT TO authenticated
WITH CHECK (template IS NULL
            AND tenant_id IN (SELECT rbac_private.permitted_tenants('roles.manage')))]],
  [[
CREATE POLICY roles_update ON roles FOR UPDATE TO authenticated
USING ((tenant_id, id) IN (SELECT r.tenant_id, r.role_id FROM rbac_private.manageable_roles() r))
WITH CHECK ((tenant_id, id) IN (SELECT r.tenant_id, r.role_id
                                FROM rbac_private.manageable_roles() r))]],
  [[
CREATE POLICY roles_delete ON roles FOR DELETE TO authenticated
USING ((tenant_id, id) IN (SELECT r.tenant_id, r.role_id FROM rbac_private.manageable_roles() r))]],

  -- Grants: roles.manage adds to the tenant's own roles (at or below the
  -- user) only permissions the user holds in that tenant.
  [[
CREATE POLICY role_permissions_select ON role_permissions FOR SELECT TO authenticated
USING (tenant_id IN (SELECT rbac_private.member_tenants()))]],
  [[
CREATE POLICY role_permissions_insert ON role_permissions FOR INSERT TO authenticated
WITH CHECK ((tenant_id, role_id) IN (SELECT r.tenant_id, r.role_id
                                     FROM rbac_private.manageable_roles() r)
            AND (tenant_id, permission_id) IN (SELECT h.tenant_id, h.permission_id
                                               FROM rbac_private.held_permissions() h))]],
  [[
CREATE POLICY role_permissions_delete ON role_permissions FOR DELETE TO authenticated
USING ((tenant_id, role_id) IN (SELECT r.tenant_id, r.role_id
                                FROM rbac_private.manageable_roles() r))]],

  -- Memberships: members.manage gives and takes the roles the user could
  -- hold no more than (grantable_roles); anyone may leave a tenant. A role is
  -- changed by inserting the new membership and deleting the old.
  [[
CREATE POLICY memberships_select ON memberships FOR SELECT TO authenticated
USING (tenant_id IN (SELECT rbac_private.member_tenants()))]],
  [[
CREATE POLICY memberships_insert ON memberships FOR INSERT TO authenticated
WITH CHECK ((tenant_id, role_id) IN (SELECT g.tenant_id, g.role_id
                                     FROM rbac_private.grantable_roles() g))]],
  [[
CREATE POLICY memberships_delete ON memberships FOR DELETE TO authenticated
USING (user_id = (SELECT auth.uid())
       OR (tenant_id, role_id) IN (SELECT g.tenant_id, g.role_id
                                   FROM rbac_private.grantable_roles() g))]],

  -- Privileges: Supabase's default privileges give anon and authenticated
  -- everything on new tables and functions in public. anon gets nothing;
  -- authenticated the commands the policies above decide, and only the
  -- columns a user may set (never template, tenant_id on update, or the
  -- timestamps). service_role (the backend, BYPASSRLS) gets the tables.
  "REVOKE ALL ON TABLE " .. RBAC_TABLES .. " FROM PUBLIC, anon, authenticated",
  "GRANT ALL ON TABLE " .. RBAC_TABLES .. " TO service_role",
  "GRANT SELECT ON TABLE permissions, role_templates, role_template_permissions TO authenticated",
  "GRANT SELECT, DELETE ON TABLE tenants TO authenticated",
  "GRANT UPDATE (slug, name) ON TABLE tenants TO authenticated",
  "GRANT SELECT, DELETE ON TABLE roles TO authenticated",
  "GRANT INSERT (tenant_id, name, description), UPDATE (name, description) ON TABLE roles TO authenticated",
  "GRANT SELECT, INSERT, DELETE ON TABLE role_permissions TO authenticated",
  "GRANT SELECT, DELETE ON TABLE memberships TO authenticated",
  "GRANT INSERT (tenant_id, user_id, role_id) ON TABLE memberships TO authenticated",

  -- Reaching the tables at all: a no-op for public, which Supabase already
  -- opens to these roles; for another configured schema, the grant stays
  -- with the schema after a downgrade (rbacmig keeps the schema too).
  "GRANT USAGE ON SCHEMA @schema@ TO authenticated, service_role",
  -- Policies run the helpers as the querying role; nothing else runs them.
  [[
REVOKE ALL ON FUNCTION rbac_private.member_tenants(), rbac_private.permitted_tenants(text),
  rbac_private.held_permissions(), rbac_private.grantable_roles(),
  rbac_private.manageable_roles(), rbac_private.has_permission(uuid, text),
  rbac_private.keep_last_owner()
FROM PUBLIC]],
  "GRANT USAGE ON SCHEMA rbac_private TO authenticated",
  [[
GRANT EXECUTE ON FUNCTION rbac_private.member_tenants(), rbac_private.permitted_tenants(text),
  rbac_private.held_permissions(), rbac_private.grantable_roles(),
  rbac_private.manageable_roles(), rbac_private.has_permission(uuid, text)
TO authenticated]],
  "REVOKE ALL ON FUNCTION has_permission(uuid, text) FROM PUBLIC, anon",
  "GRANT EXECUTE ON FUNCTION has_permission(uuid, text) TO authenticated",
  -- Trigger functions need no EXECUTE to fire.
  [[
REVOKE ALL ON FUNCTION rbac_touch_updated_at(), rbac_seed_tenant_roles()
FROM PUBLIC, anon, authenticated]],
}

-- After PG_DOWNGRADE: the tables took the policies, triggers, foreign key and
-- grants with them, so nothing depends on these functions any more.
local SUPABASE_DOWNGRADE = {
  "DROP FUNCTION has_permission(uuid, text)",
  "DROP FUNCTION rbac_private.has_permission(uuid, text)",
  "DROP FUNCTION rbac_private.keep_last_owner()",
  "DROP FUNCTION rbac_private.manageable_roles()",
  "DROP FUNCTION rbac_private.grantable_roles()",
  "DROP FUNCTION rbac_private.held_permissions()",
  "DROP FUNCTION rbac_private.permitted_tenants(text)",
  "DROP FUNCTION rbac_private.member_tenants()",
  "DROP SCHEMA rbac_private",
}

-- ---------------------------------------------------------------------------

-- The refusal when auth is there but the roles are not, around the missing
-- role names: online it is the error, offline the script RAISEs it.
local MISSING_ROLES_BEFORE = "91759229c32b: the database has Supabase's auth.users and auth.uid()"
  .. " but not the role(s) "
local MISSING_ROLES_AFTER = " that its row-level security is written for"

-- Whether the Supabase layer is to be added (upgrade) or is there to remove
-- (downgrade): true or false, asked of the database; nil under --sql, where
-- db:scalar has no database to ask.
local function supabase_layer(db, upgrade)
  if db.offline then
    return nil
  end
  if not upgrade then
    return db:scalar(SUPABASE_PRESENT) == true
  end
  if db:scalar(SUPABASE_PROBE) ~= true then
    return false
  end
  local missing = db:scalar(SUPABASE_MISSING_ROLES)
  if missing then
    error(MISSING_ROLES_BEFORE .. missing .. MISSING_ROLES_AFTER, 0)
  end
  return true
end

-- The statements, @schema@ replaced by the quoted schema name.
local function pg_statements(db, list)
  local schema = db:quote_ident(db.schema or "public")
  local out = {}
  for i, sql in ipairs(list) do
    out[i] = (sql:gsub("@schema@", function() return schema end))
  end
  return out
end

-- Runs PostgreSQL statements, @schema@ replaced by the quoted schema name.
local function pg_exec(db, list)
  for _, sql in ipairs(pg_statements(db, list)) do
    db:exec(sql)
  end
end

local function sql_literal(s)
  return "'" .. s:gsub("'", "''") .. "'"
end

-- Under --sql the script decides when it is applied, as supabase_layer does
-- online, with the same catalog queries: one DO block that runs the layer's
-- statements (each EXECUTEd, so none is parsed where auth.users is missing)
-- only where the database has the layer (downgrade) or Supabase's auth
-- schema (upgrade, refusing as online does where the roles are missing).
local BLOCK_TAG, STATEMENT_TAG = "$rbacmig_layer$", "$rbacmig_statement$"

local function offline_layer(db, upgrade)
  local lines = { "DO " .. BLOCK_TAG }
  local function add(line)
    lines[#lines + 1] = line
  end
  if upgrade then
    add("DECLARE")
    add("  missing text;")
  end
  add("BEGIN")
  if upgrade then
    add("  -- The Supabase layer of 91759229c32b: only where the database has")
    add("  -- Supabase's auth.users and auth.uid(), as `rbacmig upgrade` decides.")
    add("  IF NOT (" .. SUPABASE_PROBE .. ") THEN")
    add("    RETURN;")
    add("  END IF;")
    add("  missing := (" .. SUPABASE_MISSING_ROLES .. ");")
    add("  IF missing IS NOT NULL THEN")
    add("    RAISE EXCEPTION USING MESSAGE = " .. sql_literal(MISSING_ROLES_BEFORE)
      .. " || missing || " .. sql_literal(MISSING_ROLES_AFTER) .. ";")
    add("  END IF;")
  else
    add("  -- The Supabase layer of 91759229c32b, where the database has it.")
    add("  IF NOT (" .. SUPABASE_PRESENT .. ") THEN")
    add("    RETURN;")
    add("  END IF;")
  end
  for _, sql in ipairs(pg_statements(db, upgrade and SUPABASE_UPGRADE or SUPABASE_DOWNGRADE)) do
    if sql:find(BLOCK_TAG, 1, true) or sql:find(STATEMENT_TAG, 1, true) then
      error("91759229c32b: a statement of the Supabase layer contains " .. STATEMENT_TAG
        .. " or " .. BLOCK_TAG .. " (the schema name?): it cannot be quoted for --sql", 0)
    end
    add("  EXECUTE " .. STATEMENT_TAG .. sql .. STATEMENT_TAG .. ";")
  end
  add("END")
  add(BLOCK_TAG)
  db:exec(table.concat(lines, "\n"))
end

local function upgrade(db)
  local pg = db.dialect == "postgresql"
  local layer = pg and supabase_layer(db, true)
  create_tables(db)
  if pg then
    pg_exec(db, PG_UPGRADE)
    if layer then
      pg_exec(db, SUPABASE_UPGRADE)
    elseif layer == nil then
      offline_layer(db, true)
    end
  else
    for _, sql in ipairs(SQLITE_TRIGGERS) do
      db:exec(sql)
    end
  end
end

-- The tables take their triggers, and on Supabase their policies, grants and
-- the foreign key to auth.users, with them; the functions go after.
local function downgrade(db)
  local pg = db.dialect == "postgresql"
  local layer = pg and supabase_layer(db, false)
  for i = #TABLES, 1, -1 do
    db:drop_table(TABLES[i])
  end
  if not pg then
    return
  end
  pg_exec(db, PG_DOWNGRADE)
  if layer then
    pg_exec(db, SUPABASE_DOWNGRADE)
  elseif layer == nil then
    offline_layer(db, false)
  end
end

return {
  revision = "91759229c32b",
  down_revision = nil,
  message = "add initial RBAC tables",
  upgrade = upgrade,
  downgrade = downgrade,
}
