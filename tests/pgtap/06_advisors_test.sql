-- The dashboard's Security and Performance Advisors (Supabase's splinter lints), as checks
-- on what the RBAC migration creates: none of its tables, policies, indexes or functions
-- may raise a WARN or an ERROR there. Written here as plain catalogue queries so that they
-- run anywhere pgTAP does; the exposed schemas are pgrst.db_schemas when it is set, else
-- public, and always the schema holding the RBAC tables.
BEGIN;
SELECT plan(17);

CREATE TEMP VIEW rbac_tables AS
SELECT c.oid, c.relnamespace, c.relname::text AS name, c.relrowsecurity
FROM pg_catalog.pg_class c
WHERE c.oid IN ('tenants'::regclass, 'permissions'::regclass, 'role_templates'::regclass,
                'role_template_permissions'::regclass, 'roles'::regclass,
                'role_permissions'::regclass, 'memberships'::regclass);

CREATE TEMP VIEW rbac_functions AS
SELECT p.oid, p.pronamespace, p.oid::regprocedure::text AS signature, p.prosecdef, p.proconfig
FROM pg_catalog.pg_proc p
WHERE p.pronamespace = 'rbac_private'::regnamespace
   OR (p.pronamespace = (SELECT relnamespace FROM pg_catalog.pg_class WHERE oid = 'tenants'::regclass)
       AND p.proname IN ('has_permission', 'rbac_touch_updated_at', 'rbac_seed_tenant_roles'));

CREATE TEMP VIEW rbac_policies AS
SELECT p.oid, p.polname::text AS name, t.name AS table_name, p.polrelid, p.polcmd, p.polpermissive,
       p.polroles, pg_catalog.pg_get_expr(p.polqual, p.polrelid) AS qual,
       pg_catalog.pg_get_expr(p.polwithcheck, p.polrelid) AS with_check
FROM pg_catalog.pg_policy p JOIN rbac_tables t ON t.oid = p.polrelid;

CREATE TEMP VIEW exposed_schemas AS
SELECT n.oid, n.nspname::text AS name
FROM pg_catalog.pg_namespace n
WHERE n.nspname IN (SELECT btrim(s) FROM unnest(string_to_array(
        coalesce(nullif(current_setting('pgrst.db_schemas', true), ''), 'public'), ',')) AS s)
   OR n.oid = (SELECT relnamespace FROM pg_catalog.pg_class WHERE oid = 'tenants'::regclass);

-- ---- security -------------------------------------------------------------------------
SELECT is_empty('SELECT name FROM exposed_schemas WHERE name = $$rbac_private$$',
  'rbac_private is not exposed through the API');
SELECT is_empty(
  $$SELECT signature FROM rbac_functions
    WHERE NOT EXISTS (SELECT 1 FROM unnest(coalesce(proconfig, '{}')) AS c WHERE c LIKE 'search_path=%')$$,
  'function_search_path_mutable: every function fixes its search_path');
SELECT is_empty(
  $$SELECT signature FROM rbac_functions
    WHERE prosecdef AND pronamespace IN (SELECT oid FROM exposed_schemas)
      AND has_function_privilege('anon', oid, 'EXECUTE')$$,
  'anon_security_definer_function_executable: none');
SELECT is_empty(
  $$SELECT signature FROM rbac_functions
    WHERE prosecdef AND pronamespace IN (SELECT oid FROM exposed_schemas)
      AND has_function_privilege('authenticated', oid, 'EXECUTE')$$,
  'authenticated_security_definer_function_executable: none');
SELECT is_empty('SELECT name FROM rbac_tables WHERE NOT relrowsecurity',
  'rls_disabled_in_public: row-level security is on for every table');
SELECT is_empty(
  'SELECT DISTINCT table_name FROM rbac_policies JOIN rbac_tables t ON t.oid = polrelid WHERE NOT t.relrowsecurity',
  'policy_exists_rls_disabled: none');
SELECT is_empty('SELECT name FROM rbac_tables t WHERE NOT EXISTS (SELECT 1 FROM pg_policy WHERE polrelid = t.oid)',
  'rls_enabled_no_policy: every table has a policy');
SELECT is_empty(
  $$SELECT name FROM rbac_policies
    WHERE polcmd IN ('a', 'w', 'd', '*')
      AND polpermissive
      AND (lower(regexp_replace(coalesce(qual, ''), '[\s()]', '', 'g')) IN ('true', '1=1')
           OR lower(regexp_replace(coalesce(with_check, ''), '[\s()]', '', 'g')) IN ('true', '1=1')
           OR (polcmd = 'a' AND with_check IS NULL)
           OR (polcmd IN ('w', 'd', '*') AND qual IS NULL))$$,
  'rls_policy_always_true: no write policy lets everything through');
SELECT is_empty(
  $$SELECT name FROM rbac_policies
    WHERE coalesce(qual, '') || coalesce(with_check, '') ~* 'user_metadata'$$,
  'rls_references_user_metadata: no policy trusts user-editable metadata');
SELECT is_empty(
  $$SELECT c.conname FROM pg_constraint c
    JOIN pg_index i ON i.indexrelid = c.conindid
    WHERE c.contype = 'f' AND c.conrelid IN (SELECT oid FROM rbac_tables)
      AND c.confrelid IN (SELECT oid FROM pg_class WHERE relnamespace = 'auth'::regnamespace)
      AND NOT i.indisprimary$$,
  'fkey_to_auth_unique: foreign keys into auth use its primary keys only');

-- ---- performance ------------------------------------------------------------------------
SELECT is_empty(
  $$SELECT name FROM rbac_policies
    WHERE coalesce(qual, '') || ' ' || coalesce(with_check, '')
          ~ '(?<!SELECT )(auth\.[a-z_]+|current_setting)\('$$,
  'auth_rls_initplan: every auth.uid() in a policy is wrapped as (select auth.uid())');
SELECT is_empty(
  $$SELECT name FROM rbac_policies
    WHERE coalesce(qual, '') || ' ' || coalesce(with_check, '') ~ '(?<!SELECT |FROM )rbac_private\.'$$,
  'every helper a policy calls sits in a sub-select, so it runs once per statement');
SELECT is_empty(
  $$SELECT p.table_name, r.rolname, x.cmd, count(*)
    FROM rbac_policies p
    JOIN pg_roles r ON r.oid = ANY (p.polroles) OR p.polroles = ARRAY[0::oid]
    CROSS JOIN LATERAL unnest(CASE p.polcmd WHEN 'r' THEN ARRAY['SELECT'] WHEN 'a' THEN ARRAY['INSERT']
                                            WHEN 'w' THEN ARRAY['UPDATE'] WHEN 'd' THEN ARRAY['DELETE']
                                            ELSE ARRAY['SELECT', 'INSERT', 'UPDATE', 'DELETE'] END) AS x(cmd)
    WHERE p.polpermissive
    GROUP BY 1, 2, 3 HAVING count(*) > 1$$,
  'multiple_permissive_policies: one per table, role and command');
SELECT is_empty(
  $$SELECT c.conrelid::regclass, c.conname FROM pg_constraint c
    WHERE c.contype = 'f' AND c.conrelid IN (SELECT oid FROM rbac_tables)
      AND NOT EXISTS (SELECT 1 FROM pg_index i
                      WHERE i.indrelid = c.conrelid
                        AND (i.indkey::int2[])[0:cardinality(c.conkey) - 1] = c.conkey)$$,
  'unindexed_foreign_keys: every foreign key leads an index');
SELECT is_empty(
  $$SELECT i.indrelid::regclass, array_agg(i.indexrelid::regclass)
    FROM pg_index i
    WHERE i.indrelid IN (SELECT oid FROM rbac_tables)
    GROUP BY i.indrelid, i.indkey::text, i.indclass::text, i.indcollation::text, i.indoption::text,
             pg_get_expr(i.indexprs, i.indrelid), pg_get_expr(i.indpred, i.indrelid)
    HAVING count(*) > 1$$,
  'duplicate_index: none');
SELECT is_empty(
  'SELECT name FROM rbac_tables t WHERE NOT EXISTS (SELECT 1 FROM pg_index WHERE indrelid = t.oid AND indisprimary)',
  'no_primary_key: every table has one');
-- A policy column is indexed when an index holds it and leads with a column the policy
-- also reads (memberships (tenant_id, role_id) serves tenant_id and role_id together).
SELECT is_empty(
  $$WITH cols AS (
      SELECT DISTINCT p.oid AS policy, p.name, p.polrelid, d.refobjsubid AS attnum
      FROM rbac_policies p
      JOIN pg_depend d ON d.classid = 'pg_policy'::regclass AND d.objid = p.oid
                      AND d.refobjid = p.polrelid AND d.refobjsubid > 0)
    SELECT c.name, a.attname FROM cols c
    JOIN pg_attribute a ON a.attrelid = c.polrelid AND a.attnum = c.attnum
    WHERE NOT EXISTS (
      SELECT 1 FROM pg_index i
      WHERE i.indrelid = c.polrelid
        AND c.attnum = ANY (i.indkey::int2[])
        AND i.indkey[0] IN (SELECT c2.attnum FROM cols c2 WHERE c2.policy = c.policy))$$,
  'every column a policy reads is indexed');

SELECT * FROM finish();
ROLLBACK;
