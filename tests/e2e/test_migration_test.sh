#!/usr/bin/env bash
# `rbacmig test` end to end: the project's own migrations pass in a shadow database, which
# is gone afterwards; fixtures whose downgrade leaves an index, a policy, an enum type or a
# grant behind fail, naming the revision, the direction and exactly that object; a signal
# during a slow replay still drops the shadow.
. "$(dirname "$0")/lib.sh"

export TMPDIR="$TEST_DIR/tmp" # the SQLite shadow's file, which must not outlive the run
mkdir -p "$TMPDIR"
new_db
supabase_fixture # the API roles (cluster-wide) for the grant fixture

# The project's own migrations.
cp -r "$SRC/migrations" .
rb test
expect_rc 0 "the project's migrations pass"
expect_eq "$(printf '%s\n' "$OUT" | tail -1)" "$(printf '%s\n' "$OUT" | grep -c '^ok ') passed, 0 failed" \
  "the closing line counts them"
expect_out_has "ok 1 - single head" "a single head"
expect_out_has "ok 2 - base to head applies" "base to head"
expect_out_has "downgrade e6cef4861c9f leaves no trace" "the stairway reaches the head"
case "$OUT" in *"Running upgrade"*) fail "progress lines are not in the TAP stream" ;; *) pass ;; esac
shadow_gone "after a passing run"
expect_eq "$(sql "SELECT count(*) FROM rbac_roles" 2>/dev/null || echo none)" none \
  "the live database is left alone"

# fixture NAME UP DOWN: a table, then revision bbbb00000002 with UP and DOWN.
fixture() {
  rm -rf migrations
  migration aaaa00000001 "" \
    'db:create_table("t", {{"id", "integer", primary_key = true}, {"name", "text"}})' \
    'db:drop_table("t")'
  migration bbbb00000002 aaaa00000001 "$1" "$2"
}

# broken WHAT LINE: the run fails on bbbb00000002's downgrade, naming LINE as what it left.
broken() {
  rb test
  expect_rc 1 "$1: exit 1"
  expect_out_has "not ok 10 - downgrade bbbb00000002 leaves no trace" "$1: the test that fails"
  expect_out_has "# revision bbbb00000002, downgrade: $2" "$1: names what was left"
  expect_eq "$(printf '%s\n' "$OUT" | grep -c '^# revision')" 1 "$1: names nothing else"
  expect_out_has "ok 6 - downgrade aaaa00000001 leaves no trace" "$1: the sound revision passes"
  shadow_gone "$1"
}

if [ "$DIALECT" = postgresql ]; then
  fixture 'db:exec("CREATE INDEX t_name_idx ON t (name)")' ''
  broken "an index" "leftover index public.t.t_name_idx"
  fixture 'db:enable_rls("t"); db:exec("CREATE POLICY t_read ON t FOR SELECT USING (true)")' \
    'db:exec("ALTER TABLE t DISABLE ROW LEVEL SECURITY")'
  broken "a policy" "leftover policy public.t.t_read"
  fixture 'db:exec("CREATE TYPE mood AS ENUM (\x27ok\x27, \x27sad\x27)")' ''
  broken "an enum type" "leftover enum public.mood"
  # To PUBLIC: on Supabase, the default privileges in public (which the shadow has, as the
  # live database has them) give anon ALL on a new table already.
  fixture 'db:exec("GRANT SELECT ON t TO PUBLIC")' ''
  broken "a grant" "leftover grant table public.t TO PUBLIC"
else
  fixture 'db:exec("CREATE INDEX t_name_idx ON t (name)")' ''
  broken "an index" "leftover index t.t_name_idx"
  fixture 'db:exec("CREATE TRIGGER t_touch AFTER INSERT ON t BEGIN SELECT 1; END")' ''
  broken "a trigger" "leftover trigger t.t_touch"
fi

# A signal during a slow replay: the statement is cancelled, the shadow dropped, exit 128+N.
if [ "$DIALECT" = postgresql ]; then
  slow='db:exec("SELECT pg_sleep(60)")'
else
  slow='local n = 0; while true do n = n + 1 end'
fi
for sig in INT TERM; do
  fixture "$slow" ''
  "$RBACMIG" test >/dev/null 2>"$TEST_DIR/.stderr" &
  pid=$!
  for _ in $(seq 100); do
    grep -q 'Running upgrade aaaa00000001 -> bbbb00000002' "$TEST_DIR/.stderr" && break
    sleep 0.1
  done
  sleep 0.5
  kill -s "$sig" "$pid"
  wait "$pid"
  RC=$?
  expect_eq "$RC" "$([ $sig = INT ] && echo 130 || echo 143)" "SIG$sig: exit code"
  shadow_gone "SIG$sig during a replay"
done

finish
