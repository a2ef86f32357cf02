-- The Supabase layer of the RBAC migration, as created: the rbac_private schema and its
-- helpers, row-level security and its policies on every RBAC table, the foreign key to
-- auth.users, the last-owner trigger, and the privileges of anon, authenticated and
-- service_role. Needs the RBAC migration applied on Supabase (or on the fixture,
-- 00_supabase_fixture.sql); the tables are found through search_path (public by default).
BEGIN;
SELECT plan(29);

CREATE TEMP VIEW rbac_tables AS
SELECT c.oid, c.relname::text COLLATE "default" AS name
FROM pg_catalog.pg_class c
WHERE c.oid IN ('tenants'::regclass, 'permissions'::regclass, 'role_templates'::regclass,
                'role_template_permissions'::regclass, 'roles'::regclass,
                'role_permissions'::regclass, 'memberships'::regclass);

CREATE TEMP VIEW rbac_functions AS
SELECT p.oid, p.oid::regprocedure::text AS signature
FROM pg_catalog.pg_proc p
WHERE p.pronamespace = 'rbac_private'::regnamespace
   OR (p.pronamespace = (SELECT relnamespace FROM pg_catalog.pg_class WHERE oid = 'tenants'::regclass)
       AND p.proname IN ('has_permission', 'rbac_touch_updated_at', 'rbac_seed_tenant_roles'));

SELECT has_schema('rbac_private', 'the helpers live in rbac_private');
SELECT results_eq('SELECT name FROM rbac_tables WHERE oid IN (SELECT oid FROM pg_class WHERE relrowsecurity) ORDER BY name',
  ARRAY['memberships', 'permissions', 'role_permissions', 'role_template_permissions', 'role_templates',
        'roles', 'tenants'],
  'row-level security is on for every RBAC table');
SELECT is_empty('SELECT name FROM rbac_tables JOIN pg_class c USING (oid) WHERE c.relforcerowsecurity',
  'and not forced: the table owner (rbacmig seed, the CLI) is not subject to it');

SELECT policies_are('tenants', ARRAY['tenants_select', 'tenants_update', 'tenants_delete']);
SELECT policies_are('permissions', ARRAY['permissions_select']);
SELECT policies_are('role_templates', ARRAY['role_templates_select']);
SELECT policies_are('role_template_permissions', ARRAY['role_template_permissions_select']);
SELECT policies_are('roles', ARRAY['roles_select', 'roles_insert', 'roles_update', 'roles_delete']);
SELECT policies_are('role_permissions', ARRAY['role_permissions_select', 'role_permissions_insert',
                                              'role_permissions_delete']);
SELECT policies_are('memberships', ARRAY['memberships_select', 'memberships_insert', 'memberships_delete']);
SELECT results_eq(
  $$SELECT t.name, p.polname::text COLLATE "default", p.polcmd::text FROM pg_policy p JOIN rbac_tables t ON t.oid = p.polrelid
    ORDER BY 1, 2$$,
  $$VALUES ('memberships', 'memberships_delete', 'd'), ('memberships', 'memberships_insert', 'a'),
           ('memberships', 'memberships_select', 'r'),
           ('permissions', 'permissions_select', 'r'),
           ('role_permissions', 'role_permissions_delete', 'd'), ('role_permissions', 'role_permissions_insert', 'a'),
           ('role_permissions', 'role_permissions_select', 'r'),
           ('role_template_permissions', 'role_template_permissions_select', 'r'),
           ('role_templates', 'role_templates_select', 'r'),
           ('roles', 'roles_delete', 'd'), ('roles', 'roles_insert', 'a'), ('roles', 'roles_select', 'r'),
           ('roles', 'roles_update', 'w'),
           ('tenants', 'tenants_delete', 'd'), ('tenants', 'tenants_select', 'r'), ('tenants', 'tenants_update', 'w')$$,
  'one policy per table and command, never FOR ALL');
SELECT is_empty(
  $$SELECT p.polname FROM pg_policy p JOIN rbac_tables t ON t.oid = p.polrelid
    WHERE NOT p.polpermissive OR p.polroles <> ARRAY['authenticated'::regrole::oid]$$,
  'every policy is permissive and TO authenticated only');

SELECT is((SELECT pg_get_constraintdef(oid) FROM pg_constraint
           WHERE conname = 'memberships_user_id_fkey' AND conrelid = 'memberships'::regclass),
  'FOREIGN KEY (user_id) REFERENCES auth.users(id) ON DELETE CASCADE',
  'a membership names an auth.users account and goes with it');
SELECT has_trigger('memberships', 'memberships_keep_owner');
SELECT ok((SELECT tgdeferrable AND NOT tginitdeferred AND tgconstraint <> 0 FROM pg_trigger
           WHERE tgname = 'memberships_keep_owner' AND tgrelid = 'memberships'::regclass),
  'the last-owner check is a constraint trigger, immediate but deferrable');

SELECT functions_are('rbac_private', ARRAY['grantable_roles', 'has_permission', 'held_permissions',
                                           'keep_last_owner', 'manageable_roles', 'member_tenants',
                                           'permitted_tenants']);
SELECT is_empty(
  $$SELECT p.oid::regprocedure FROM pg_proc p WHERE p.pronamespace = 'rbac_private'::regnamespace
    AND NOT (p.prosecdef AND p.proconfig = ARRAY['search_path=""'])$$,
  'every rbac_private function is SECURITY DEFINER with search_path = ''''');
SELECT ok((SELECT NOT prosecdef AND proconfig = ARRAY['search_path=""'] FROM pg_proc
           WHERE oid = 'has_permission(uuid, text)'::regprocedure),
  'the API''s has_permission(tenant_id, permission) is SECURITY INVOKER with search_path = ''''');
SELECT function_returns('has_permission', ARRAY['uuid', 'text'], 'boolean');

-- Privileges. Supabase's default privileges grant anon and authenticated everything on
-- new objects in public; the migration takes that back.
SELECT results_eq(
  $$SELECT t.name, x.priv FROM rbac_tables t
    CROSS JOIN unnest(ARRAY['SELECT', 'INSERT', 'UPDATE', 'DELETE', 'TRUNCATE', 'REFERENCES', 'TRIGGER']) AS x(priv)
    WHERE has_table_privilege('authenticated', t.oid, x.priv) ORDER BY 1, 2$$,
  $$VALUES ('memberships', 'DELETE'), ('memberships', 'SELECT'),
           ('permissions', 'SELECT'),
           ('role_permissions', 'DELETE'), ('role_permissions', 'INSERT'), ('role_permissions', 'SELECT'),
           ('role_template_permissions', 'SELECT'),
           ('role_templates', 'SELECT'),
           ('roles', 'DELETE'), ('roles', 'SELECT'),
           ('tenants', 'DELETE'), ('tenants', 'SELECT')$$,
  'authenticated has on each table only the commands its policies decide');
SELECT results_eq(
  $$SELECT t.name, x.priv, a.attname::text COLLATE "default" FROM rbac_tables t
    JOIN pg_attribute a ON a.attrelid = t.oid AND a.attnum > 0 AND NOT a.attisdropped
    CROSS JOIN unnest(ARRAY['INSERT', 'UPDATE']) AS x(priv)
    WHERE has_column_privilege('authenticated', t.oid, a.attnum, x.priv) ORDER BY 1, 2, 3$$,
  $$VALUES ('memberships', 'INSERT', 'role_id'), ('memberships', 'INSERT', 'tenant_id'),
           ('memberships', 'INSERT', 'user_id'),
           ('role_permissions', 'INSERT', 'permission_id'), ('role_permissions', 'INSERT', 'role_id'),
           ('role_permissions', 'INSERT', 'tenant_id'),
           ('roles', 'INSERT', 'description'), ('roles', 'INSERT', 'name'), ('roles', 'INSERT', 'tenant_id'),
           ('roles', 'UPDATE', 'description'), ('roles', 'UPDATE', 'name'),
           ('tenants', 'UPDATE', 'name'), ('tenants', 'UPDATE', 'slug')$$,
  'authenticated writes only these columns (never a template, a moved row or a timestamp)');
SELECT is_empty(
  $$SELECT t.name FROM rbac_tables t
    WHERE has_table_privilege('anon', t.oid, 'SELECT, INSERT, UPDATE, DELETE, TRUNCATE, REFERENCES, TRIGGER')
       OR has_any_column_privilege('anon', t.oid, 'SELECT, INSERT, UPDATE, REFERENCES')$$,
  'anon has no privilege on any RBAC table');
SELECT ok((SELECT bool_and(has_table_privilege('service_role', t.oid, 'SELECT, INSERT, UPDATE, DELETE'))
           FROM rbac_tables t),
  'service_role (the backend) reads and writes every RBAC table');

SELECT results_eq(
  $$SELECT signature FROM rbac_functions WHERE has_function_privilege('authenticated', oid, 'EXECUTE')
    ORDER BY 1$$,
  $$VALUES ('has_permission(uuid,text)'), ('rbac_private.grantable_roles()'),
           ('rbac_private.has_permission(uuid,text)'), ('rbac_private.held_permissions()'),
           ('rbac_private.manageable_roles()'), ('rbac_private.member_tenants()'),
           ('rbac_private.permitted_tenants(text)')$$,
  'authenticated executes only functions that answer for auth.uid() (no user id argument)');
SELECT is_empty(
  $$SELECT signature FROM rbac_functions WHERE has_function_privilege('anon', oid, 'EXECUTE')$$,
  'anon executes no RBAC function');
SELECT schema_privs_are('rbac_private', 'anon', ARRAY[]::text[], 'anon cannot use rbac_private');
SELECT schema_privs_are('rbac_private', 'authenticated', ARRAY['USAGE'],
  'authenticated uses rbac_private (policies run its helpers as the caller)');

-- rbacmig's own tables and the history table's identity sequence (Supabase's default
-- privileges cover sequences: setval to its maximum would make every later run fail).
SELECT is_empty(
  $$SELECT c.relname::text, r.rolname::text
    FROM pg_catalog.pg_class c
    CROSS JOIN (VALUES ('anon'), ('authenticated')) AS r(rolname)
    WHERE c.oid IN (to_regclass('rbacmig_version'), to_regclass('rbacmig_history'),
                    pg_get_serial_sequence('rbacmig_history', 'id')::regclass)
      AND CASE c.relkind WHEN 'S' THEN has_sequence_privilege(r.rolname, c.oid, 'USAGE, SELECT, UPDATE')
          ELSE has_table_privilege(r.rolname, c.oid, 'SELECT, INSERT, UPDATE, DELETE, TRUNCATE, REFERENCES, TRIGGER')
          END$$,
  'anon and authenticated have no privilege on rbacmig''s tables or its history sequence');
SELECT is((SELECT count(*)::int FROM pg_catalog.pg_class
           WHERE oid IN (to_regclass('rbacmig_version'), to_regclass('rbacmig_history'))
             AND relrowsecurity), 2,
  'row-level security (no policy) on rbacmig''s tables');

SELECT * FROM finish();
ROLLBACK;
