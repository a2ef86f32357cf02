#!/usr/bin/env bash
# The Supabase layer of the RBAC migration end to end, on plain PostgreSQL made to look like
# Supabase by tests/pgtap/00_supabase_fixture.sql: upgrade adds row-level security, the CLI
# still manages tenants and members as the table owner, the pgTAP suite (tests/pgtap/*_test.sql,
# run by pg_prove as `supabase test db` would) proves isolation, no escalation, last-owner
# protection, has_permission and the advisors' lints, and downgrade removes every piece.
# Without the auth schema the migration stays plain PostgreSQL.
if [ "${1:-}" = sqlite ]; then
  echo "skipped: PostgreSQL only"
  exit 77
fi
. "$(dirname "$0")/lib.sh"

PG_PROVE=$(command -v pg_prove) || {
  echo "skipped: pg_prove is not installed (apt-get install libtap-parser-sourcehandler-pgtap-perl)"
  exit 77
}
PGTAP_DIR="$SRC/tests/pgtap"
owner=123e4567-e89b-42d3-a456-426614174000
viewer=223e4567-e89b-42d3-a456-426614174000
stranger=323e4567-e89b-42d3-a456-426614174000
cp -r "$SRC/migrations" "$SRC/rbac" .

# as_user UUID QUERY: runs QUERY as PostgREST does: logged in as `authenticator`, switched to
# `authenticated` for the request, with UUID as the JWT's sub.
as_user() {
  "$PSQL" -X -q -At -v ON_ERROR_STOP=1 -d "${DB_URL/\/\/postgres@/\/\/authenticator@}" \
    -c "BEGIN; SET LOCAL ROLE authenticated;
        SET LOCAL request.jwt.claims = '{\"sub\": \"$1\", \"role\": \"authenticated\"}';
        $2; COMMIT"
}

# ---- without the auth schema: plain PostgreSQL, no Supabase layer ---------------------------
new_db
rb upgrade head
expect_rc 0 "upgrade head on plain PostgreSQL"
expect_eq "$(sql "SELECT to_regnamespace('rbac_private') IS NULL AND NOT relrowsecurity FROM pg_class WHERE oid = 'tenants'::regclass")" t \
  "no auth schema: no rbac_private, no row-level security"
rb downgrade base
expect_rc 0 "downgrade base on plain PostgreSQL"

# ---- the fixture, the migration and the CLI -----------------------------------------------
new_db
if [ "$(sql "SELECT count(*) FROM pg_available_extensions WHERE name = 'pgtap'")" != 1 ]; then
  echo "skipped: the pgtap extension is not installed (apt-get install postgresql-15-pgtap)"
  exit 77
fi
# pgTAP is not a trusted extension: on Supabase too the platform's superuser installs it.
admin_sql "CREATE EXTENSION pgtap" >/dev/null
# The roles and the auth schema are Supabase's, made by its superuser; everything after runs
# as the non-superuser `postgres`. The second run only says "already exists, skipping".
load_fixture() {
  env PGOPTIONS="-c client_min_messages=warning" \
    "$PSQL" -X -q -v ON_ERROR_STOP=1 -d "${PG_ADMIN_URL%/*}/$DB_NAME" -f "$PGTAP_DIR/00_supabase_fixture.sql"
}
check "fixture loads" load_fixture
check "fixture loads twice (idempotent)" load_fixture

rb upgrade head
expect_rc 0 "upgrade head on Supabase"
expect_eq "$(sql "SELECT to_regnamespace('rbac_private') IS NOT NULL")" t "rbac_private created"
expect_eq "$(sql "SELECT count(*) FROM pg_policies WHERE schemaname = 'public'
                  AND tablename IN ('tenants', 'permissions', 'role_templates', 'role_template_permissions',
                                    'roles', 'role_permissions', 'memberships')")" 16 "16 policies"
rb seed
expect_rc 0 "seed on Supabase (the table owner is not subject to RLS)"

sql "INSERT INTO auth.users (id, email) VALUES ('$owner', 'owner@example.test'), ('$viewer', 'viewer@example.test')" >/dev/null
rb tenant create cli-acme --name "CLI Acme" --owner $owner
expect_rc 0 "tenant create with an auth.users owner"
rb tenant create cli-globex --name "CLI Globex" --owner $viewer
expect_rc 0 "second tenant"
rb member add --tenant cli-acme --user $viewer --role viewer
expect_rc 0 "member add"
rb member add --tenant cli-acme --user $stranger --role viewer
expect_rc 1 "member add of a user who has no account"
expect_err_has "memberships_user_id_fkey" "the foreign key to auth.users is named"
rb member remove --tenant cli-acme --user $owner --role owner
expect_rc 1 "member remove of the last owner"
expect_err_has "cannot remove the last owner of tenant 'cli-acme'" "last owner protected from the CLI too"
expect_one_error_line "last owner"
rb can --tenant cli-acme --user $owner billing.manage
expect_rc 0 "can still answers"

expect_eq "$(as_user $viewer "SELECT string_agg(slug, ',' ORDER BY slug) FROM tenants")" "cli-acme,cli-globex" \
  "the viewer reads the two tenants it belongs to"
expect_eq "$(as_user $owner "SELECT string_agg(slug, ',' ORDER BY slug) FROM tenants")" "cli-acme" \
  "the owner of one tenant reads only that one"
expect_eq "$(as_user $owner "SELECT has_permission(id, 'billing.manage') FROM tenants WHERE slug = 'cli-acme'")" t \
  "has_permission(tenant_id, permission) as the owner"
expect_eq "$(as_user $stranger "SELECT count(*) FROM tenants")" 0 "a user in no tenant reads none"

# ---- the pgTAP suite ------------------------------------------------------------------------
total=0
for f in "$PGTAP_DIR"/*_test.sql; do
  out=$("$PG_PROVE" --psql-bin "$PSQL" -d "$DB_URL" -f "$f" 2>&1)
  rc=$?
  echo "$out" | sed 's/^/  /'
  n=$(echo "$out" | sed -n 's/^Files=[0-9]*, Tests=\([0-9]*\),.*/\1/p')
  total=$((total + ${n:-0}))
  OUT=$out ERR="" RC=$rc
  check "pg_prove $(basename "$f")" test "$rc" = 0
done
echo "pgTAP: $total tests"
check "the pgTAP suite ran" test "$total" -gt 0
expect_eq "$(sql "SELECT count(*) FROM tenants WHERE slug LIKE 'pgtap-%'")" 0 "the pgTAP files left nothing behind"

# ---- downgrade removes all of it --------------------------------------------------------------
rb downgrade base
expect_rc 0 "downgrade base"
for t in tenants permissions role_templates role_template_permissions roles role_permissions memberships; do
  check "table $t dropped" test "$(table_exists $t && echo yes)" != yes
done
expect_eq "$(sql "SELECT to_regnamespace('rbac_private') IS NULL")" t "rbac_private dropped"
expect_eq "$(sql "SELECT count(*) FROM pg_proc WHERE proname IN ('has_permission', 'rbac_touch_updated_at',
                  'rbac_seed_tenant_roles', 'member_tenants', 'permitted_tenants', 'held_permissions',
                  'grantable_roles', 'manageable_roles', 'keep_last_owner')")" 0 "every function dropped"
expect_eq "$(sql "SELECT count(*) FROM pg_policy p JOIN pg_class c ON c.oid = p.polrelid
                  WHERE c.relnamespace = 'public'::regnamespace")" 0 "no policy left"
expect_eq "$(sql "SELECT count(*) FROM pg_trigger WHERE tgname = 'memberships_keep_owner'")" 0 "no trigger left"
expect_eq "$(sql "SELECT count(*) FROM auth.users")" 2 "auth.users untouched"

rb upgrade head
expect_rc 0 "upgrade again after downgrade"
expect_eq "$(sql "SELECT count(*) FROM pg_policies WHERE tablename = 'memberships'")" 3 "layer back"

# ---- offline: the script asks the database when applied (test_supabase_offline.sh applies it) --
rb upgrade --sql 91759229c32b
expect_rc 0 "upgrade --sql"
expect_out_has "IF NOT (SELECT to_regclass('auth.users') IS NOT NULL" "offline script guards the layer by auth.users"
expect_out_has "CREATE POLICY tenants_select" "offline script carries the Supabase layer"
rb downgrade --sql 91759229c32b:base
expect_rc 0 "downgrade --sql"
expect_out_has "IF NOT (SELECT to_regnamespace('rbac_private') IS NOT NULL)" "offline downgrade removes the layer where present"

# ---- rbacmig's own tables are closed to the Data API roles -------------------------------------
# A fresh Supabase-like database: the fixture's default privileges would hand anon and
# authenticated full rights on every new table in public, rbacmig's own included.
new_db
check "fixture loads on a fresh database" load_fixture
rb upgrade head
expect_rc 0 "upgrade head on a fresh Supabase-like database"
for role in anon authenticated; do
  expect_eq "$(sql "SELECT has_table_privilege('$role', 'public.rbacmig_version', 'UPDATE') OR has_table_privilege('$role', 'public.rbacmig_history', 'SELECT')")" f "$role has no rights on rbacmig's tables"
done
expect_eq "$(sql "SELECT bool_and(relrowsecurity) FROM pg_class WHERE relname IN ('rbacmig_version', 'rbacmig_history')")" t "RLS on rbacmig's tables"

finish
