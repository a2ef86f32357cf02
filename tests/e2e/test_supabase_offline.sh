#!/usr/bin/env bash
# The offline script (`upgrade --sql`, `downgrade --sql`) applied with psql, as the non-superuser
# `postgres` that Supabase gives, leaves the same database as the online command: on a
# Supabase-like database (tests/pgtap/00_supabase_fixture.sql) and on plain PostgreSQL, with no
# flag to choose the variant. And the Data API roles get nothing of rbacmig's own objects:
# not the version and history tables, nor the history table's sequence.
if [ "${1:-}" = sqlite ]; then
  echo "skipped: PostgreSQL only"
  exit 77
fi
. "$(dirname "$0")/lib.sh"

cp -r "$SRC/migrations" "$SRC/rbac" .

load_fixture() {
  env PGOPTIONS="-c client_min_messages=warning" \
    "$PSQL" -X -q -v ON_ERROR_STOP=1 -d "${PG_ADMIN_URL%/*}/$DB_NAME" -f "$SRC/tests/pgtap/00_supabase_fixture.sql"
}

# psql_file FILE: applies FILE to the test database as `postgres`, stopping at the first error.
psql_file() {
  "$PSQL" -X -q -v ON_ERROR_STOP=1 -d "$DB_URL" -f "$1" >"$TEST_DIR/.psql.out" 2>&1
}

# as_role ROLE QUERY: runs QUERY as PostgREST does for ROLE (logged in as authenticator).
as_role() {
  "$PSQL" -X -q -At -v ON_ERROR_STOP=1 -d "${DB_URL/\/\/postgres@/\/\/authenticator@}" \
    -c "BEGIN; SET LOCAL ROLE $1; $2; COMMIT" 2>&1
}

# snapshot: what the RBAC migration decides, read from the catalog: tables, columns,
# constraints, indexes, triggers, RLS flags, policies, functions (with their definitions) and
# every grant on them and on rbacmig's own tables and sequences; schemas it makes.
snapshot() {
  sql "
  WITH rels AS (
    SELECT c.oid, c.relname, c.relkind, c.relrowsecurity, c.relforcerowsecurity, c.relacl, n.nspname
    FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
    WHERE n.nspname IN ('public', 'rbac_private') AND c.relkind IN ('r', 'S', 'v', 'i')
  ), procs AS (
    SELECT p.oid, p.proacl, n.nspname || '.' || p.proname || '(' || pg_get_function_identity_arguments(p.oid) || ')' AS sig
    FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
    WHERE n.nspname IN ('public', 'rbac_private') AND p.proname NOT LIKE 'pgtap%'
  )
  SELECT 'rel ' || nspname || '.' || relname || ' ' || relkind::text || ' rls=' || relrowsecurity || ' force=' || relforcerowsecurity FROM rels
  UNION ALL
  SELECT 'grant ' || r.nspname || '.' || r.relname || ' ' || coalesce(g.rolname, 'PUBLIC') || ' ' || a.privilege_type
  FROM rels r, aclexplode(r.relacl) a LEFT JOIN pg_roles g ON g.oid = a.grantee
  UNION ALL
  SELECT 'colgrant ' || r.nspname || '.' || r.relname || '.' || at.attname || ' ' || coalesce(g.rolname, 'PUBLIC') || ' ' || a.privilege_type
  FROM rels r JOIN pg_attribute at ON at.attrelid = r.oid AND at.attnum > 0, aclexplode(at.attacl) a
  LEFT JOIN pg_roles g ON g.oid = a.grantee
  UNION ALL
  SELECT 'col ' || r.relname || '.' || at.attname || ' ' || format_type(at.atttypid, at.atttypmod) || ' ' || at.attnotnull
         || ' ' || coalesce(pg_get_expr(d.adbin, d.adrelid), '')
  FROM rels r JOIN pg_attribute at ON at.attrelid = r.oid AND at.attnum > 0 AND NOT at.attisdropped
  LEFT JOIN pg_attrdef d ON d.adrelid = r.oid AND d.adnum = at.attnum
  WHERE r.relkind = 'r'
  UNION ALL
  SELECT 'con ' || conrelid::regclass || ' ' || conname || ' ' || pg_get_constraintdef(oid)
  FROM pg_constraint WHERE conrelid IN (SELECT oid FROM rels)
  UNION ALL
  SELECT 'idx ' || pg_get_indexdef(indexrelid) FROM pg_index WHERE indrelid IN (SELECT oid FROM rels)
  UNION ALL
  SELECT 'trigger ' || tgrelid::regclass || ' ' || pg_get_triggerdef(oid)
  FROM pg_trigger WHERE tgrelid IN (SELECT oid FROM rels) AND NOT tgisinternal
  UNION ALL
  SELECT 'policy ' || schemaname || '.' || tablename || ' ' || policyname || ' ' || permissive || ' '
         || roles::text || ' ' || cmd || ' ' || coalesce(qual, '') || ' / ' || coalesce(with_check, '')
  FROM pg_policies WHERE schemaname IN ('public', 'rbac_private')
  UNION ALL
  SELECT 'func ' || sig || ' ' || md5(pg_get_functiondef(oid)) FROM procs
  UNION ALL
  SELECT 'fgrant ' || p.sig || ' ' || coalesce(g.rolname, 'PUBLIC') || ' ' || a.privilege_type
  FROM procs p, aclexplode(coalesce(p.proacl, acldefault('f', (SELECT proowner FROM pg_proc WHERE oid = p.oid)))) a
  LEFT JOIN pg_roles g ON g.oid = a.grantee
  UNION ALL
  SELECT 'schema ' || nspname || ' ' || coalesce(nspacl::text, '') FROM pg_namespace WHERE nspname IN ('public', 'rbac_private')
  ORDER BY 1"
}

# compare WHAT: the online database (saved in online.snap) and this one read the same.
compare() {
  snapshot > offline.snap
  if diff online.snap offline.snap > snap.diff; then pass; else
    fail "$1: offline script and online upgrade differ"
    head -40 snap.diff
  fi
}

# ---- Supabase-like: online upgrade head, then the offline script on a twin -------------------
new_db
check "fixture loads (online twin)" load_fixture
rb upgrade 91759229c32b
expect_rc 0 "online upgrade head on Supabase"
snapshot > online.snap
check "the online twin has policies" grep -q '^policy public.tenants tenants_select' online.snap

new_db
check "fixture loads (offline twin)" load_fixture
rb upgrade --sql 91759229c32b
expect_rc 0 "upgrade --sql head"
printf '%s\n' "$OUT" > up.sql
check "the offline script applies as postgres on Supabase: $(head -c 600 "$TEST_DIR/.psql.out" 2>/dev/null)" psql_file up.sql
compare "Supabase"
expect_eq "$(sql "SELECT version_num FROM rbacmig_version")" 91759229c32b "offline script recorded the version"

# anon (and authenticated, who has no INSERT on tenants) cannot create a tenant.
out=$(as_role anon "INSERT INTO public.tenants (slug, name) VALUES ('evil-co', 'Evil')")
case "$out" in *"permission denied"*) pass ;; *) fail "anon inserts into tenants after the offline script: $out" ;; esac
out=$(as_role authenticated "SET LOCAL request.jwt.claims = '{\"sub\": \"00000000-0000-4000-8000-0000000000f1\"}';
  INSERT INTO public.tenants (slug, name) VALUES ('evil-co', 'Evil')")
case "$out" in *"permission denied"*|*"row-level security"*) pass ;; *) fail "authenticated inserts into tenants after the offline script: $out" ;; esac
expect_eq "$(sql "SELECT count(*) FROM tenants")" 0 "no tenant was created through the API roles"

# ---- the offline downgrade removes the layer, as the online one does ---------------------------
rb downgrade --sql 91759229c32b:base
expect_rc 0 "downgrade --sql"
printf '%s\n' "$OUT" > down.sql
check "the offline downgrade applies as postgres on Supabase: $(head -c 600 "$TEST_DIR/.psql.out" 2>/dev/null)" psql_file down.sql
snapshot > offline_down.snap
expect_eq "$(sql "SELECT to_regnamespace('rbac_private') IS NULL")" t "offline downgrade dropped rbac_private"
new_db
check "fixture loads (online downgrade twin)" load_fixture
rb upgrade 91759229c32b
rb downgrade base
expect_rc 0 "online downgrade base on Supabase"
snapshot > online_down.snap
if diff online_down.snap offline_down.snap > snap.diff; then pass; else
  fail "Supabase: offline downgrade and online downgrade differ"; head -40 snap.diff
fi
expect_eq "$(sql "SELECT to_regnamespace('rbac_private') IS NULL")" t "online downgrade dropped rbac_private"

# ---- plain PostgreSQL: the same comparison, no layer --------------------------------------------
new_db
rb upgrade 91759229c32b
expect_rc 0 "online upgrade head on plain PostgreSQL"
snapshot > online.snap
new_db
rb upgrade --sql 91759229c32b
printf '%s\n' "$OUT" > plain.sql
check "the offline script applies on plain PostgreSQL: $(head -c 600 "$TEST_DIR/.psql.out" 2>/dev/null)" psql_file plain.sql
compare "plain PostgreSQL"
expect_eq "$(sql "SELECT to_regnamespace('rbac_private') IS NULL")" t "plain PostgreSQL: no rbac_private from the script"

# ---- rbacmig's own objects are closed to the Data API roles -------------------------------------
for mode in online offline; do
  new_db
  check "fixture loads ($mode)" load_fixture
  if [ $mode = online ]; then
    rb upgrade 91759229c32b
    expect_rc 0 "$mode: upgrade head"
  else
    rb upgrade --sql 91759229c32b
    printf '%s\n' "$OUT" > own.sql
    check "$mode: script applies" psql_file own.sql
  fi
  seq=$(sql "SELECT pg_get_serial_sequence('public.rbacmig_history', 'id')")
  expect_eq "$seq" public.rbacmig_history_id_seq "$mode: the history table's sequence"
  for role in anon authenticated; do
    out=$(as_role $role "SELECT setval('public.rbacmig_history_id_seq', 9223372036854775807, true)")
    case "$out" in *"permission denied"*) pass ;; *) fail "$mode: $role can setval the history sequence: $out" ;; esac
    out=$(as_role $role "SELECT nextval('public.rbacmig_history_id_seq')")
    case "$out" in *"permission denied"*) pass ;; *) fail "$mode: $role can nextval the history sequence: $out" ;; esac
    out=$(as_role $role "UPDATE public.rbacmig_version SET version_num = 'x'")
    case "$out" in *"permission denied"*) pass ;; *) fail "$mode: $role can update rbacmig_version: $out" ;; esac
    out=$(as_role $role "INSERT INTO public.rbacmig_history (revision, direction, success) VALUES ('x', 'upgrade', true)")
    case "$out" in *"permission denied"*) pass ;; *) fail "$mode: $role can insert into rbacmig_history: $out" ;; esac
    out=$(as_role $role "SELECT count(*) FROM public.rbacmig_history")
    case "$out" in *"permission denied"*) pass ;; *) fail "$mode: $role can read rbacmig_history: $out" ;; esac
    expect_eq "$(sql "SELECT count(*) FROM pg_class c, aclexplode(c.relacl) a
                      WHERE c.relname IN ('rbacmig_version', 'rbacmig_history', 'rbacmig_history_id_seq')
                        AND a.grantee = '$role'::regrole")" 0 "$mode: no grant to $role on rbacmig's objects"
  done
  # Each step writes a history row: the sequence must still have values to give.
  rb downgrade base
  expect_rc 0 "$mode: a later downgrade still records its history"
  rb upgrade 91759229c32b
  expect_rc 0 "$mode: a later upgrade still records its history"
done

# ---- auth present, roles missing: the script refuses, as the online upgrade does ---------------
# Roles belong to the cluster, and the shared one has Supabase's: this needs a server of its own.
. "$SRC/scripts/pg-test-server.sh"
saved_url=$RBACMIG_TEST_PG_URL saved_admin=$PG_ADMIN_URL saved_db=$DB_NAME
if pg_test_start >/dev/null; then
  trap 'pg_test_stop; cleanup' EXIT
  PG_ADMIN_URL=$RBACMIG_TEST_PG_ADMIN_URL DB_NAME=""
  new_db
  admin_sql "CREATE SCHEMA auth; CREATE TABLE auth.users (id uuid PRIMARY KEY);
             CREATE FUNCTION auth.uid() RETURNS uuid LANGUAGE sql AS 'SELECT NULL::uuid';
             GRANT USAGE ON SCHEMA auth TO postgres; GRANT ALL ON auth.users TO postgres" >/dev/null
  rb upgrade 91759229c32b
  expect_rc 1 "online upgrade refused: auth but no roles"
  expect_err_has "role(s) anon, authenticated, service_role that its row-level security is written for" "online names the roles"
  rb upgrade --sql 91759229c32b
  expect_rc 0 "upgrade --sql on auth without roles"
  printf '%s\n' "$OUT" > noroles.sql
  if psql_file noroles.sql; then fail "the offline script applies on auth without the roles"; else pass; fi
  check "the offline script names the roles: $(grep ERROR "$TEST_DIR/.psql.out")" \
    grep -q "role(s) anon, authenticated, service_role that its row-level security is written for" "$TEST_DIR/.psql.out"
  expect_eq "$(sql "SELECT to_regclass('public.tenants') IS NULL")" t "the refused script left no table"
  "$PSQL" -q -X -d "$PG_ADMIN_URL" -c "DROP DATABASE IF EXISTS \"$DB_NAME\" WITH (FORCE)" >/dev/null 2>&1
  pg_test_stop
  trap cleanup EXIT
else
  fail "a second throwaway server for the roles test did not start"
fi
RBACMIG_TEST_PG_URL=$saved_url PG_ADMIN_URL=$saved_admin DB_NAME=$saved_db

finish
