#!/usr/bin/env bash
# `rbacmig test` on both dialects in one run (--dialect both, or test_dialects in rbacmig.lua):
# PostgreSQL in a shadow on the database URL's server, then SQLite in a temporary file, one
# TAP stream whose lines name their dialect and whose closing line counts each; a fixture
# whose downgrade is broken on one dialect only fails naming that dialect, and only it. With
# a SQLite URL there is no server for PostgreSQL's shadow: a usage error (the sqlite run of
# this test checks that; the postgresql run checks the rest).
. "$(dirname "$0")/lib.sh"

export TMPDIR="$TEST_DIR/tmp" # the SQLite shadow's file, which must not outlive the run
mkdir -p "$TMPDIR"
new_db

# fixture DOWN_ON: revision aaaa00000001 makes table t, bbbb00000002 an index on it, which
# its downgrade drops only when db.dialect is DOWN_ON: the other dialect keeps it (and, IF NOT
# EXISTS, upgrades again over it: the one failure is the downgrade's trace).
fixture() {
  rm -rf migrations
  migration aaaa00000001 "" \
    'db:create_table("t", {{"id", "integer", primary_key = true}, {"name", "text"}})' \
    'db:drop_table("t")'
  migration bbbb00000002 aaaa00000001 'db:exec("CREATE INDEX IF NOT EXISTS t_name_idx ON t (name)")' \
    "if db.dialect == \"$1\" then db:exec(\"DROP INDEX t_name_idx\") end"
}

if [ "$DIALECT" = sqlite ]; then
  fixture sqlite
  rb test --dialect both
  expect_rc 2 "--dialect both with a SQLite URL"
  expect_err_has "rbacmig: error: testing on postgresql (--dialect both) needs a PostgreSQL database URL" \
    "says what is missing"
  expect_err_has "the database URL is 'sqlite:$DB_FILE' (from DATABASE_URL)" "names the URL in use"
  echo 'return { test_dialects = "both" }' > rbacmig.lua
  rb test
  expect_rc 2 "test_dialects both with a SQLite URL"
  expect_err_has "(test_dialects in rbacmig.lua)" "names the config file"
  rb test --dialect sqlite
  expect_rc 0 "--dialect sqlite over the config file"
  expect_out_has "ok 2 - base to head applies" "one dialect: the lines are as they were"
  expect_eq "$(printf '%s\n' "$OUT" | tail -1)" "11 passed, 0 failed" "one dialect: one count"
  rb test --dialect mysql
  expect_rc 2 "an unknown --dialect"
  expect_err_has "--dialect takes 'postgresql', 'sqlite' or 'both', got 'mysql'" "names the value"
  finish
  exit
fi

# The project's own migrations, on both.
cp -r "$SRC/migrations" .
rb test --dialect both
expect_rc 0 "the project's migrations pass on both dialects"
expect_out_has "ok 1 - single head" "the graph is tested once"
expect_out_has "ok 2 - postgresql: base to head applies" "PostgreSQL first, named"
expect_out_has "- sqlite: base to head applies" "then SQLite, named"
expect_out_has "- sqlite: downgrade e6cef4861c9f leaves no trace" "SQLite's stairway reaches the head"
expect_eq "$(printf '%s\n' "$OUT" | grep -c '^ok [0-9]* - \(postgresql\|sqlite\): ')" \
  "$(( $(printf '%s\n' "$OUT" | grep -c '^ok ') - 1 ))" "every line but the first names its dialect"
n=$(printf '%s\n' "$OUT" | grep -c '^ok ')
expect_eq "$(printf '%s\n' "$OUT" | tail -1)" \
  "$n passed, 0 failed (postgresql: $(( (n - 1) / 2 )) passed, 0 failed; sqlite: $(( (n - 1) / 2 )) passed, 0 failed)" \
  "the closing line counts both"
shadow_gone "after a run on both"
expect_eq "$(ls -A "$TMPDIR")" "" "the SQLite shadow file is removed too"

# broken_on DIALECT OBJECT FIRST: the downgrade of bbbb00000002 leaves OBJECT on DIALECT
# only; its tests start at FIRST (PostgreSQL's at 2, SQLite's at 12).
broken_on() {
  local other=$([ "$1" = sqlite ] && echo postgresql || echo sqlite)
  local bad=$(( $3 + 8 )) ok_first=$([ "$1" = sqlite ] && echo 10 || echo 20)
  fixture "$other"
  rb test --dialect both
  expect_rc 1 "broken on $1: exit 1"
  expect_out_has "not ok $bad - $1: downgrade bbbb00000002 leaves no trace" "broken on $1: the test"
  expect_out_has "# $1: revision bbbb00000002, downgrade: leftover index $2" \
    "broken on $1: names the dialect and what was left"
  expect_eq "$(printf '%s\n' "$OUT" | grep -c '^not ok')" 1 "broken on $1: nothing else fails"
  expect_out_has "ok $ok_first - $other: downgrade bbbb00000002 leaves no trace" \
    "broken on $1: $other passes"
  expect_eq "$(printf '%s\n' "$OUT" | tail -1)" \
    "20 passed, 1 failed ($([ "$1" = postgresql ] && echo "postgresql: 9 passed, 1 failed; sqlite: 10 passed, 0 failed" || echo "postgresql: 10 passed, 0 failed; sqlite: 9 passed, 1 failed"))" \
    "broken on $1: the closing line says where"
  shadow_gone "broken on $1"
}
broken_on sqlite t.t_name_idx 12
broken_on postgresql public.t.t_name_idx 2

# test_dialects in rbacmig.lua names both; --dialect narrows it for one run.
fixture postgresql
echo 'return { test_dialects = { "postgresql", "sqlite" } }' > rbacmig.lua
rb test
expect_rc 1 "test_dialects: both run"
expect_out_has "not ok 20 - sqlite: downgrade bbbb00000002 leaves no trace" "test_dialects: SQLite ran"
rb test --dialect postgresql
expect_rc 0 "--dialect postgresql over test_dialects"
expect_eq "$(printf '%s\n' "$OUT" | tail -1)" "11 passed, 0 failed" "--dialect postgresql: one count"
expect_not_in_output "sqlite" "--dialect postgresql: SQLite did not run"
rb test --shadow-url "sqlite:$TEST_DIR/shadow.db"
expect_rc 2 "--shadow-url with two dialects"
expect_err_has "--shadow-url is one database, and test_dialects in rbacmig.lua names two dialects" \
  "says why"

finish
