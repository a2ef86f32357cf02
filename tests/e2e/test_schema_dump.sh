#!/usr/bin/env bash
# `rbacmig schema dump` and `rbacmig diff` end to end: the project's migrations (and, on
# PostgreSQL, the Supabase fixture, as the non-superuser `postgres`) plus a table with
# forced row-level security, a policy and a SECURITY DEFINER function; a dump is stable and
# never writes; then dashboard-style edits on a second database, which `diff` must list
# exactly, each classified, with the exit code that tells CI what it found.
. "$(dirname "$0")/lib.sh"

notes_project
rb upgrade head
expect_rc 0 "upgrade head"

# The database as a whole, to show that reading it changed nothing.
fingerprint() {
  if [ "$DIALECT" = postgresql ]; then
    # pg_dump's \restrict lines carry a random key: not part of the schema.
    "${RBACMIG_TEST_PG_BIN:-/usr/lib/postgresql/15/bin}/pg_dump" -s -d "${PG_ADMIN_URL%/*}/$DB_NAME" |
      grep -v '^\\\(un\)\?restrict ' | md5sum
    sql "SELECT count(*) FROM rbacmig_history"
  else
    md5sum < "$DB_FILE"
  fi
}

# ---- schema dump ---------------------------------------------------------------------------
before=$(fingerprint)
rb schema dump
expect_rc 0 "schema dump"
first=$OUT
expect_out_has "table $( [ "$DIALECT" = postgresql ] && echo public.)notes" "the app's table is in the dump"
expect_out_has "table $( [ "$DIALECT" = postgresql ] && echo public.)tenants" "the RBAC tables are in the dump"
expect_not_in_output "rbacmig_version" "rbacmig's own bookkeeping is out of scope"
expect_not_in_output "rbacmig_history" "the history table too"
rb schema dump
expect_eq "$OUT" "$first" "two dumps of one schema are byte-identical"
rb schema dump --format json
expect_rc 0 "schema dump --format json"
check "the JSON parses" jq -e . <<<"$OUT" >/dev/null
json_first=$OUT
rb schema dump --format json
expect_eq "$OUT" "$json_first" "two JSON dumps are byte-identical"
expect_eq "$(fingerprint)" "$before" "the dumps left the database unchanged"
if [ "$DIALECT" = postgresql ]; then
  expect_out_has '"profile": "supabase"' "the Supabase profile is detected"
  expect_eq "$(jq -r '.objects.table["public.notes"].rls_forced' <<<"$OUT")" true "FORCE is read"
  expect_eq "$(jq -r '.objects.table["auth.users"] // "absent"' <<<"$OUT")" absent \
    "Supabase's auth schema is left alone"
  expect_eq "$(jq -r '.objects.grant["table public.notes TO authenticated"].privileges | join(",")' <<<"$OUT")" \
    "DELETE,SELECT" "a grant keyed by object and grantee"
fi
rb schema dump --format yaml
expect_rc 2 "an unknown format is a usage error"
rb schema show
expect_rc 2 "an unknown schema command is a usage error"

# ---- a second database: equal, then edited as on a dashboard ------------------------------
FROM_URL=$DB_URL
if [ "$DIALECT" = postgresql ]; then
  TO_NAME="${DB_NAME}_to"
  "$PSQL" -q -X -v ON_ERROR_STOP=1 -d "$PG_ADMIN_URL" \
    -c "CREATE DATABASE \"$TO_NAME\" TEMPLATE \"$DB_NAME\" OWNER postgres" >/dev/null || exit 1
  TO_URL="${RBACMIG_TEST_PG_URL%/*}/$TO_NAME"
  trap '"$PSQL" -q -X -d "$PG_ADMIN_URL" -c "DROP DATABASE IF EXISTS \"$TO_NAME\" WITH (FORCE)" >/dev/null 2>&1; cleanup' EXIT
  to_sql() { "$PSQL" -X -q -At -v ON_ERROR_STOP=1 -d "$TO_URL" -c "$1"; }
else
  cp "$DB_FILE" "$TEST_DIR/to.sqlite"
  TO_URL="sqlite:$TEST_DIR/to.sqlite"
  to_sql() { sqlite3 -batch "$TEST_DIR/to.sqlite" "$1"; }
fi

rb diff "$FROM_URL" "$TO_URL"
expect_rc 0 "diff of two equal databases"
expect_out "no differences" "nothing reported for equal databases"
rb diff --format json "$FROM_URL" "$TO_URL"
expect_eq "$(jq -c '[.differences, .summary.total]' <<<"$OUT")" '[[],0]' "JSON of no differences"

# ---- a side that cannot be opened: one error line that names it -----------------------------
# On PostgreSQL both sides are opened at the same time (src/driver.c, db_open_read_many):
# whichever fails, the error is that side's, and the other's connection is closed.
if [ "$DIALECT" = postgresql ]; then
  REFUSED="postgresql://postgres:N0t-th1s-pw@127.0.0.1:1/$DB_NAME"   # nothing listens on port 1
  BAD_PW="postgresql://rbacmig_pw:Wr0ng-pw@${RBACMIG_TEST_PG_PW_URL#*@}"
  rb diff "$REFUSED" "$TO_URL"
  expect_rc 1 "diff with FROM refusing the connection"
  expect_one_error_line "FROM refused"
  expect_err_has "error: from: cannot connect to the database: connection to server at \"127.0.0.1\", port 1 failed" \
    "the error names FROM and the server"
  expect_not_in_output "N0t-th1s-pw" "FROM's password is not printed"
  rb diff "$FROM_URL" "$REFUSED"
  expect_rc 1 "diff with TO refusing the connection, FROM connecting"
  expect_one_error_line "TO refused"
  expect_err_has "error: to: cannot connect to the database" "the error names TO"
  expect_not_in_output "N0t-th1s-pw" "TO's password is not printed"
  rb diff "$FROM_URL" "$BAD_PW"
  expect_rc 1 "diff with TO rejecting the password"
  expect_one_error_line "TO's password rejected"
  expect_err_has "error: to: cannot connect to the database" "the server's refusal names TO"
  expect_err_has "password authentication failed" "... and says why"
  expect_not_in_output "Wr0ng-pw" "the rejected password is not printed"
  rb diff "$BAD_PW" "$REFUSED"
  expect_rc 1 "diff with both sides failing"
  expect_one_error_line "both sides failing"
  expect_err_has "error: from: cannot connect to the database" "FROM's error, the first side, is the one shown"
  expect_not_in_output "Wr0ng-pw" "neither password is printed"
  expect_not_in_output "N0t-th1s-pw" "neither password is printed (TO's)"
  rb diff "$FROM_URL" "$TO_URL"
  expect_rc 0 "both sides open after the failures (nothing left behind)"
  # SIGINT while TO's server never answers (a listener that accepts and stays silent) and
  # FROM is open: the run ends at once with 130, not when TO's connect gives up.
  /usr/bin/python3 -c '
import socket, time
s = socket.socket(); s.bind(("127.0.0.1", 0)); s.listen(8)
print(s.getsockname()[1], flush=True)
held = []
end = time.time() + 30
s.settimeout(0.2)
while time.time() < end:
    try: held.append(s.accept()[0])
    except socket.timeout: pass
' > "$TEST_DIR/silent.port" &
  silent=$!
  for _ in $(seq 50); do [ -s "$TEST_DIR/silent.port" ] && break; sleep 0.1; done
  "$RBACMIG" diff "$FROM_URL" "postgresql://postgres@127.0.0.1:$(cat "$TEST_DIR/silent.port")/x" \
    2>"$TEST_DIR/.stderr" >/dev/null &
  pid=$!
  sleep 1
  started=$(date +%s)
  kill -INT "$pid"
  wait "$pid"
  RC=$?
  ERR=$(cat "$TEST_DIR/.stderr")
  expect_rc 130 "SIGINT while TO's connection hangs"
  [ $(( $(date +%s) - started )) -le 5 ] && pass || fail "SIGINT took more than 5 s to end the run"
  kill "$silent" 2>/dev/null
  wait "$silent" 2>/dev/null
else
  echo "not a database" > "$TEST_DIR/text.sqlite"
  rb diff "sqlite:$TEST_DIR/text.sqlite" "$TO_URL"
  expect_rc 1 "diff with a FROM file that is no database"
  expect_one_error_line "FROM no database"
  expect_err_has "error: from: cannot open SQLite database '$TEST_DIR/text.sqlite': file is not a database" \
    "the error names FROM"
  rb diff "$FROM_URL" "sqlite:$TEST_DIR/text.sqlite"
  expect_rc 1 "diff with a TO file that is no database"
  expect_one_error_line "TO no database"
  expect_err_has "error: to: cannot open SQLite database" "the error names TO"
fi

if [ "$DIALECT" = postgresql ]; then
  to_sql "ALTER TABLE public.notes NO FORCE ROW LEVEL SECURITY;
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
  rb diff "$FROM_URL" "$TO_URL"
  expect_rc 5 "diff with security-weakening differences exits 5"
  expect_out "$expected" "diff lists exactly the dashboard edits, classified"
  rb diff --format json "$FROM_URL" "$TO_URL"
  expect_rc 5 "the same exit code with --format json"
  expect_eq "$(jq -r '.differences[] | "\(.class) \(.kind) \(.identity) \(.change)"' <<<"$OUT")" \
"security-weakening table public.notes changed
neutral table public.tenants changed
neutral column public.notes.title added
neutral index public.notes.notes_title_idx added
neutral function public.notes_owner(integer) changed
security-weakening policy public.notes.notes_delete dropped
security-weakening grant table public.notes TO anon added" "the JSON lists the same differences"
  expect_eq "$(jq -r '.summary["security-weakening"]' <<<"$OUT")" 3 "the JSON counts them"

  # A definer function whose search_path is no longer fixed weakens security.
  to_sql "ALTER FUNCTION public.notes_owner(integer) RESET search_path" >/dev/null
  rb diff "$FROM_URL" "$TO_URL"
  expect_out_has 'security-weakening function public.notes_owner(integer): changed (config [search_path=public] -> (none)) -- SECURITY DEFINER function without a fixed search_path' \
    "a SECURITY DEFINER function without a fixed search_path"

  # Other owners, the same grants: only the owner differs (no spurious grant differences).
  "$PSQL" -q -X -d "$PG_ADMIN_URL" -c "DROP DATABASE \"$TO_NAME\" WITH (FORCE)" \
    -c "CREATE DATABASE \"$TO_NAME\" TEMPLATE \"$DB_NAME\" OWNER postgres" >/dev/null
  # As the superuser: service_role may not create in public, which a new owner needs.
  "$PSQL" -X -q -v ON_ERROR_STOP=1 -d "${PG_ADMIN_URL%/*}/$TO_NAME" \
    -c "ALTER TABLE public.notes OWNER TO service_role" >/dev/null
  rb diff "$FROM_URL" "$TO_URL"
  expect_rc 4 "an owner difference alone exits 4"
  expect_out "neutral            table public.notes: changed (owner postgres -> service_role)
1 difference: 0 security-weakening, 0 destructive, 1 neutral" "an owner change is one difference, no grant differences"
else
  to_sql "ALTER TABLE notes ADD COLUMN title text;
          CREATE INDEX notes_title_idx ON notes (title) WHERE title IS NOT NULL;
          DROP INDEX memberships_role_idx;"
  rb diff "$FROM_URL" "$TO_URL"
  expect_rc 4 "diff with differences exits 4"
  expect_out "neutral            column notes.title: added
destructive        index memberships.memberships_role_idx: dropped
neutral            index notes.notes_title_idx: added
3 differences: 0 security-weakening, 1 destructive, 2 neutral" "diff lists exactly the edits, classified"
fi
expect_eq "$(fingerprint)" "$before" "diff left the FROM database unchanged"

# What the reader does not model is said, not skipped.
if [ "$DIALECT" = postgresql ]; then
  sql "CREATE DOMAIN public.positive AS integer CHECK (VALUE > 0)" >/dev/null
  rb schema dump
  expect_out_has "-- not compared: 1 domain" "a domain is counted as not compared"
fi

# ---- every kind, and structure rather than text (PostgreSQL) ---------------------------------
if [ "$DIALECT" = postgresql ]; then
  KA="${DB_NAME}_ka" KB="${DB_NAME}_kb"
  trap '"$PSQL" -q -X -d "$PG_ADMIN_URL" -c "DROP DATABASE IF EXISTS \"$TO_NAME\" WITH (FORCE)" \
          -c "DROP DATABASE IF EXISTS \"$KA\" WITH (FORCE)" -c "DROP DATABASE IF EXISTS \"$KB\" WITH (FORCE)" >/dev/null 2>&1; cleanup' EXIT
  "$PSQL" -q -X -v ON_ERROR_STOP=1 -d "$RBACMIG_TEST_PG_URL" -c "CREATE DATABASE \"$KA\"" \
    -c "CREATE DATABASE \"$KB\"" >/dev/null || exit 1
  KA_URL="${RBACMIG_TEST_PG_URL%/*}/$KA" KB_URL="${RBACMIG_TEST_PG_URL%/*}/$KB"
  load_kinds() {
    env PGOPTIONS="-c client_min_messages=warning" \
      "$PSQL" -X -q -v ON_ERROR_STOP=1 -d "$1" -f "$SRC/tests/e2e/schema_kinds/$2" >/dev/null
  }
  check "a.sql loads as postgres" load_kinds "$KA_URL" a.sql
  check "b.sql loads as postgres" load_kinds "$KB_URL" b.sql
  rb diff "$KA_URL" "$KB_URL"
  expect_rc 0 "one schema written two ways reads the same"
  expect_out "-- not compared in FROM: 1 domain
-- not compared in TO: 1 domain
no differences" "no differences between the two spellings"
  # The reader's queries go to both servers at once (pipeline mode): one that fails on TO
  # fails the run with the server's error, after FROM's were collected.
  "$PSQL" -X -q -d "${PG_ADMIN_URL%/*}/$KB" -c "REVOKE SELECT ON pg_catalog.pg_policy FROM PUBLIC" >/dev/null
  rb diff "$KA_URL" "$KB_URL"
  expect_rc 1 "a catalog query that fails on TO fails the diff"
  expect_err_has "error: permission denied for table pg_policy" "the server's error is the error line"
  rb diff "$KB_URL" "$KA_URL"
  expect_rc 1 "... and on FROM"
  "$PSQL" -X -q -d "${PG_ADMIN_URL%/*}/$KB" -c "GRANT SELECT ON pg_catalog.pg_policy TO PUBLIC" >/dev/null
  rb diff "$KA_URL" "$KB_URL"
  expect_rc 0 "read again once the catalog is readable"
  rb -d "$KA_URL" schema dump --format json
  expect_rc 0 "dump of every kind"
  kind() { jq -r "$1" <<<"$OUT"; }
  expect_eq "$(kind '.objects.enum["app.mood"].values | join(",")')" "sad,ok,happy" "enum values in order"
  expect_eq "$(kind '.objects.sequence["app.counter"] | "\(.type) \(.start) \(.min) \(.max) \(.increment) \(.cycle) \(.owned_by)"')" \
    "integer 10 10 1000 5 true app.items.price" "sequence"
  expect_eq "$(kind '.objects.column["app.items.id"].identity')" always "identity column"
  expect_eq "$(kind '.objects.column["app.items.doubled"].generated')" "(price * (2)::numeric)" "generated column"
  expect_eq "$(kind '.objects.column["app.items.name"].collation')" "pg_catalog.C" "collation"
  expect_eq "$(kind '.objects.constraint["app.items.items_during_excl"].definition')" \
    "EXCLUDE USING gist (during WITH &&)" "exclusion constraint"
  expect_eq "$(kind '.objects.constraint["app.items.items_parent_id_fkey"].definition')" \
    "FOREIGN KEY (parent_id) REFERENCES app.items(id) ON DELETE SET NULL DEFERRABLE INITIALLY DEFERRED" \
    "foreign key with its actions"
  expect_eq "$(kind '.objects.index["app.items.items_lower_name_idx"].definition')" \
    "CREATE INDEX items_lower_name_idx ON app.items USING btree (lower(name)) INCLUDE (price) WHERE (price > (0)::numeric)" \
    "index with an expression, INCLUDE and a predicate"
  expect_eq "$(kind '.objects.view["app.cheap"] | "\(.security_invoker) \(.security_barrier) \(.check_option)"')" \
    "true true cascaded" "view options"
  expect_eq "$(kind '.objects.view["app.stats"].kind')" "materialized view" "materialized view"
  expect_eq "$(kind '.objects.table["app.events"].partition_key')" "RANGE (at)" "partitioned table"
  expect_eq "$(kind '.objects.function["app.reset(integer)"].kind')" procedure "procedure"
  expect_eq "$(kind '.objects.function["app.f(integer)"] | "\(.volatility) \(.strict) \(.parallel)"')" \
    "immutable true safe" "function attributes"
  expect_eq "$(kind '.objects.function["app.trg()"] | "\(.security_definer) \(.config[0])"')" \
    'true search_path=""' "SECURITY DEFINER and its search_path"
  expect_eq "$(kind '.objects.trigger["app.items.items_trg"].definition')" \
    "CREATE TRIGGER items_trg BEFORE INSERT OR UPDATE OF name ON app.items FOR EACH ROW WHEN ((new.name <> ''::text)) EXECUTE FUNCTION app.trg('x')" \
    "trigger"
  expect_eq "$(kind '.objects.policy["app.items.items_read"] | "\(.permissive) \(.roles[0]) \(.comment)"')" \
    "false public p" "restrictive policy with its comment"
  expect_eq "$(kind '.objects.grant["column app.items.name TO PUBLIC"].privileges | join(",")')" \
    "SELECT,UPDATE" "column grants"
  expect_eq "$(kind '.objects.grant["sequence app.counter TO anon"].grant_option | join(",")')" USAGE \
    "grant option"
  expect_eq "$(kind '.objects.grant["function app.f(integer) TO PUBLIC"] // "revoked"')" revoked \
    "EXECUTE revoked from PUBLIC"
  expect_eq "$(kind '.objects.grant["function app.trg() TO PUBLIC"].privileges[0]')" EXECUTE \
    "a function's default EXECUTE to PUBLIC"
  expect_eq "$(kind '.objects.default_privilege["FOR ROLE postgres IN SCHEMA app ON tables TO PUBLIC"].privileges[0]')" \
    SELECT "default privileges"
  expect_eq "$(kind '.objects.extension.btree_gist.schema')" app "extension"
  rb -d "$KA_URL" schema dump --schema app
  expect_out_has "-- managed schemas: app" "--schema names the managed schemas"
  expect_not_in_output "schema public" "an unnamed schema is out of scope"

  "$PSQL" -X -q -v ON_ERROR_STOP=1 -d "$KB_URL" -c "ALTER VIEW app.cheap RESET (security_invoker);
     ALTER TABLE app.items DISABLE ROW LEVEL SECURITY;
     ALTER POLICY items_read ON app.items USING (true);
     GRANT EXECUTE ON FUNCTION app.f(integer) TO authenticated;
     ALTER DEFAULT PRIVILEGES IN SCHEMA app GRANT INSERT ON TABLES TO anon;
     DROP INDEX app.items_lower_name_idx" >/dev/null
  rb diff "$KA_URL" "$KB_URL"
  expect_rc 5 "security-weakening edits exit 5"
  expect_out "-- not compared in FROM: 1 domain
-- not compared in TO: 1 domain
security-weakening table app.items: changed (rls true -> false) -- row-level security disabled
destructive        index app.items.items_lower_name_idx: dropped
security-weakening view app.cheap: changed (security_invoker true -> (none)) -- security_invoker removed
security-weakening policy app.items.items_read: changed (using (price IS NOT NULL) -> true) -- USING (true)
security-weakening grant function app.f(integer) TO authenticated: added -- function newly executable by authenticated
security-weakening default_privilege FOR ROLE postgres IN SCHEMA app ON tables TO anon: added -- INSERT granted to anon
6 differences: 5 security-weakening, 1 destructive, 0 neutral" "each weakening named, the drop destructive"
fi

finish
