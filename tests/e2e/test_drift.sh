#!/usr/bin/env bash
# `rbacmig drift` end to end: the project's migrations plus an app table with forced
# row-level security, a policy and a SECURITY DEFINER function (on PostgreSQL on the Supabase
# fixture, run as the non-superuser `postgres`, so the replay needs auth.users and auth.uid()
# from outside the managed scope); a clean database reports nothing (exit 0); dashboard-style
# edits are listed exactly, classified, with exit 5 (4 for neutral ones only); the shadow is
# gone afterwards; --shadow-url is refused unless empty.
. "$(dirname "$0")/lib.sh"

export TMPDIR="$TEST_DIR/tmp"
mkdir -p "$TMPDIR"
# The replay needs auth.uid() from outside the managed scope.
notes_project "owner_id = (SELECT auth.uid())::text"

rb drift
expect_rc 0 "drift of a database with no migration applied"
expect_out "no differences" "an empty database has no drift"

rb upgrade head
expect_rc 0 "upgrade head"
[ "$DIALECT" = postgresql ] && check "the replay took the Supabase branch (a foreign key to auth.users)" \
  [ "$(sql "SELECT count(*) FROM pg_constraint WHERE confrelid = 'auth.users'::regclass")" -gt 0 ]
rb drift
expect_rc 0 "drift of a clean database"
expect_out "no differences" "a clean database reports nothing"
shadow_gone "after drift"
rb drift --format json
expect_eq "$(jq -c '[.differences, .summary.total]' <<<"$OUT")" '[[],0]' "JSON of no drift"

if [ "$DIALECT" = postgresql ]; then
  # --shadow-url: an empty database, used and left as the replay made it.
  sh_name="${DB_NAME}_shadow"
  "$PSQL" -q -X -v ON_ERROR_STOP=1 -d "$RBACMIG_TEST_PG_URL" -c "CREATE DATABASE \"$sh_name\"" >/dev/null
  rb drift --shadow-url "${RBACMIG_TEST_PG_URL%/*}/$sh_name"
  expect_rc 0 "drift into an empty --shadow-url database"
  expect_out "no differences" "the given shadow: no drift"
  expect_eq "$("$PSQL" -X -At -d "${RBACMIG_TEST_PG_URL%/*}/$sh_name" -c "SELECT to_regclass('public.notes') IS NOT NULL")" t \
    "the given shadow is left as the replay made it"
  "$PSQL" -q -X -d "$PG_ADMIN_URL" -c "DROP DATABASE IF EXISTS \"$sh_name\" WITH (FORCE)" >/dev/null

  sql "ALTER TABLE public.notes NO FORCE ROW LEVEL SECURITY;
       DROP POLICY notes_delete ON public.notes;
       GRANT SELECT ON public.notes TO anon;
       ALTER TABLE public.notes ADD COLUMN title text;
       CREATE INDEX notes_title_idx ON public.notes (title);
       ALTER FUNCTION public.notes_owner(integer) SET search_path = public, pg_temp;
       COMMENT ON TABLE public.tenants IS 'the tenants'" >/dev/null
  expected='security-weakening table public.notes: changed (rls_forced true -> false) -- row-level security no longer forced
neutral            table public.tenants: changed (comment (none) -> the tenants)
neutral            column public.notes.title: added
neutral            index public.notes.notes_title_idx: added
neutral            function public.notes_owner(integer): changed (config [search_path=public] -> ["search_path=public, pg_temp"])
security-weakening policy public.notes.notes_delete: dropped -- policy dropped
security-weakening grant table public.notes TO anon: added -- SELECT granted to anon
7 differences: 3 security-weakening, 0 destructive, 4 neutral'
  rb drift
  expect_rc 5 "drift with security-weakening edits exits 5"
  expect_out "$expected" "drift lists exactly the dashboard edits, classified"
  shadow_gone "after drift found drift"
  rb drift --format json
  expect_rc 5 "the same exit code with --format json"
  expect_eq "$(jq -r '.summary["security-weakening"]' <<<"$OUT")" 3 "the JSON counts them"

  # Only neutral edits: exit 4.
  sql "ALTER TABLE public.notes FORCE ROW LEVEL SECURITY;
       CREATE POLICY notes_delete ON public.notes FOR DELETE TO authenticated
         USING (owner_id = current_user);
       REVOKE SELECT ON public.notes FROM anon" >/dev/null
  rb drift
  expect_rc 4 "drift with neutral edits only exits 4"
  expect_out_has "4 differences: 0 security-weakening, 0 destructive, 4 neutral" "the neutral ones"

  # --shadow-url: refused unless empty, naming what it holds.
  rb drift --shadow-url "$DB_URL"
  expect_rc 2 "a shadow URL that is not empty"
  expect_err_has "is not empty: it holds" "names what the shadow holds"
else
  sql "ALTER TABLE notes ADD COLUMN title text;
       CREATE INDEX notes_title_idx ON notes (title);
       DROP INDEX IF EXISTS nothing_there" >/dev/null
  rb drift
  expect_rc 4 "drift with neutral edits exits 4"
  expect_out "neutral            column notes.title: added
neutral            index notes.notes_title_idx: added
2 differences: 0 security-weakening, 0 destructive, 2 neutral" "drift lists exactly the edits"
  shadow_gone "after drift found drift"
  rb drift --shadow-url "sqlite:$DB_FILE"
  expect_rc 2 "a shadow URL that is not empty"
  expect_err_has "is not empty: it holds" "names what the shadow holds"
fi

finish
