#!/usr/bin/env bash
# The shadow database brings what the replay needs from outside the managed scope (src/shadow.c),
# on the Supabase fixture, run as the non-superuser `postgres`: a project that manages only
# `public` and whose migration refers to a table and a function in `storage`, extension
# functions in `extensions` (uuid-ossp, pgcrypto), an enum, a domain, a sequence and a view in
# an unmanaged schema `billing`, and auth.users. A freshly upgraded database has no drift and
# `rbacmig test` passes; an extension `postgres` may not create is named when a replay that
# needs it fails, and the run
# goes on; a dashboard edit is still found; the shadow is gone after each run.
if [ "${1:-}" = sqlite ]; then
  echo "skipped: PostgreSQL only (SQLite has no schemas to bring)"
  exit 77
fi
. "$(dirname "$0")/lib.sh"

# Without managed_schemas the shadow brings Supabase's schemas: the reader's list
# (lua/rbacmig/inspect/scope.lua), which src/shadow.c repeats. The two must not part.
lua_list=$(sed -n '/^M.SUPABASE_SCHEMAS = {/,/^}/p' "$SRC/lua/rbacmig/inspect/scope.lua" |
  grep -o '"[a-z_]*"' | tr -d '"' | sort | tr '\n' ' ')
c_list=$(sed -n '/^static const char SUPABASE_SCHEMAS\[\] =/,/;$/p' "$SRC/src/shadow.c" | sed 1d |
  tr -d ' ";' | sed 's/\\n/\n/g' | grep -v '^$' | sort | tr '\n' ' ')
check "the list of Supabase's schemas is one" [ -n "$lua_list" ] && expect_eq "$c_list" "$lua_list" \
  "src/shadow.c's SUPABASE_SCHEMAS is scope.lua's"

export TMPDIR="$TEST_DIR/tmp"
mkdir -p "$TMPDIR"
new_db
supabase_fixture
# What Supabase (or someone by hand) put there, as the superuser: none of it is the project's.
admin_sql "CREATE SCHEMA extensions;
  CREATE EXTENSION \"uuid-ossp\" WITH SCHEMA extensions;
  CREATE EXTENSION pgcrypto WITH SCHEMA extensions;
  CREATE SCHEMA storage;
  CREATE TABLE storage.buckets (id text PRIMARY KEY, name text NOT NULL UNIQUE,
    owner uuid REFERENCES auth.users (id), public boolean DEFAULT false,
    created_at timestamptz NOT NULL DEFAULT now());
  CREATE FUNCTION storage.foldername(name text) RETURNS text[] LANGUAGE plpgsql IMMUTABLE
    AS \$\$ BEGIN RETURN string_to_array(name, '/'); END \$\$;
  CREATE SCHEMA billing;
  CREATE TYPE billing.plan AS ENUM ('free', 'pro');
  CREATE DOMAIN billing.amount AS numeric(12,2) CHECK (VALUE >= 0);
  CREATE SEQUENCE billing.invoice_seq START 1000;
  CREATE TABLE billing.limits (plan billing.plan PRIMARY KEY, max_docs integer NOT NULL);
  CREATE VIEW billing.plan_limits AS SELECT plan, max_docs FROM billing.limits;
  CREATE EXTENSION pageinspect WITH SCHEMA billing;
  GRANT USAGE ON SCHEMA extensions, storage, billing TO postgres, authenticated;
  GRANT SELECT, REFERENCES ON storage.buckets TO postgres;
  GRANT SELECT ON billing.limits, billing.plan_limits TO postgres, authenticated;
  GRANT USAGE ON SEQUENCE billing.invoice_seq TO postgres" >/dev/null

echo 'return { managed_schemas = { "public" } }' > rbacmig.lua
migration aaaa00000001 "" \
  'db:exec([[CREATE TABLE public.documents (
      id uuid PRIMARY KEY DEFAULT extensions.uuid_generate_v4(),
      owner uuid NOT NULL REFERENCES auth.users (id) ON DELETE CASCADE,
      bucket text REFERENCES storage.buckets (id),
      plan billing.plan NOT NULL DEFAULT '"'"'free'"'"',
      price billing.amount,
      invoice bigint DEFAULT nextval('"'"'billing.invoice_seq'"'"'),
      token bytea DEFAULT extensions.gen_random_bytes(16),
      path text NOT NULL)]])
    db:exec("ALTER TABLE public.documents ENABLE ROW LEVEL SECURITY")
    db:exec([[CREATE POLICY documents_own ON public.documents FOR SELECT TO authenticated
      USING (owner = (SELECT auth.uid()) AND (storage.foldername(path))[1] = bucket
        AND EXISTS (SELECT 1 FROM billing.plan_limits l WHERE l.plan = documents.plan))]])
    db:exec([[CREATE FUNCTION public.document_plan(d uuid) RETURNS billing.plan
      LANGUAGE sql STABLE SET search_path = '"'"''"'"'
      AS $$ SELECT plan FROM public.documents WHERE id = d $$]])' \
  'db:exec("DROP FUNCTION public.document_plan(uuid)")
    db:exec("DROP TABLE public.documents")'

rb upgrade head
expect_rc 0 "upgrade head"

rb drift
expect_rc 0 "drift of a freshly upgraded database"
expect_out "no differences" "the replay made what the upgrade made"
expect_not_in_output "could not bring" "what the replay did not need is not a warning"
shadow_gone "after drift"
rb -v drift
expect_rc 0 "drift -v"
expect_err_has "could not bring extension pageinspect" "-v names what could not be brought"

rb test
expect_rc 0 "rbacmig test passes"
expect_out_has "ok 2 - base to head applies" "the replay applies"
expect_not_in_output "not ok" "no test fails"
shadow_gone "after test"

# What was brought, in a given shadow (--shadow-url keeps it): each object as the live one.
sh_name="${DB_NAME}_shadow"
"$PSQL" -q -X -v ON_ERROR_STOP=1 -d "$RBACMIG_TEST_PG_URL" -c "CREATE DATABASE \"$sh_name\"" >/dev/null
rb drift --shadow-url "${RBACMIG_TEST_PG_URL%/*}/$sh_name"
expect_rc 0 "drift into a given shadow"
shadow_sql() { "$PSQL" -X -q -At -v ON_ERROR_STOP=1 -d "${RBACMIG_TEST_PG_URL%/*}/$sh_name" -c "$1"; }
expect_eq "$(shadow_sql "SELECT string_agg(extname || ' ' || extnamespace::regnamespace, ', '
  ORDER BY extname) FROM pg_extension WHERE extname <> 'plpgsql'")" \
  "pgcrypto extensions, uuid-ossp extensions" "the trusted extensions, in their schema"
expect_eq "$(shadow_sql "SELECT pg_get_constraintdef(oid) FROM pg_constraint
  WHERE conrelid = 'storage.buckets'::regclass ORDER BY 1")" "PRIMARY KEY (id)
UNIQUE (name)" "storage.buckets with its keys"
expect_eq "$(shadow_sql "SELECT storage.foldername('a/b')")" "{a,b}" "storage.foldername()"
expect_eq "$(shadow_sql "SELECT enum_range(NULL::billing.plan)")" "{free,pro}" "the enum"
expect_eq "$(shadow_sql "SELECT pg_get_constraintdef(oid) FROM pg_constraint
  WHERE contypid = 'billing.amount'::regtype")" "CHECK ((VALUE >= (0)::numeric))" "the domain's check"
expect_eq "$(shadow_sql "SELECT relkind FROM pg_class WHERE oid = 'billing.plan_limits'::regclass")" v \
  "the view is a view"
expect_eq "$(shadow_sql "SELECT seqstart FROM pg_sequence WHERE seqrelid = 'billing.invoice_seq'::regclass")" 1000 \
  "the sequence"
expect_eq "$(shadow_sql "SELECT count(*) FROM pg_namespace WHERE nspname IN ('public', 'auth')")" 2 \
  "auth too"
"$PSQL" -q -X -d "$PG_ADMIN_URL" -c "DROP DATABASE IF EXISTS \"$sh_name\" WITH (FORCE)" >/dev/null

# A dashboard edit is still found.
sql "CREATE INDEX documents_path_idx ON public.documents (path)" >/dev/null
rb drift
expect_rc 4 "drift after a dashboard edit"
expect_out "neutral            index public.documents.documents_path_idx: added
1 difference: 0 security-weakening, 0 destructive, 1 neutral" "the edit, and only it"
shadow_gone "after drift found drift"
sql "DROP INDEX documents_path_idx" >/dev/null

# A replay that needs what could not be brought fails naming it: a view over the untrusted
# extension's function, which postgres may reference but not create.
migration aaaa00000002 aaaa00000001 \
  'db:exec("CREATE VIEW public.page_sizes AS SELECT lsn FROM billing.page_header(NULL::bytea)")' \
  'db:exec("DROP VIEW public.page_sizes")'
rb upgrade head
expect_rc 0 "upgrade with a view over the extension"
rb drift
expect_rc 1 "drift whose replay fails"
expect_err_has "billing.page_header" "the replay's error"
expect_err_has "the shadow could not bring from the live database: extension pageinspect" \
  "the cause named on the error line"
expect_one_error_line "drift whose replay fails"
shadow_gone "after a failed replay"

finish
