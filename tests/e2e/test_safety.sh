#!/usr/bin/env bash
# Concurrent runs, secrets and bad input: each bad input gives one error line naming the
# culprit, the documented exit code, and no change to the database.
. "$(dirname "$0")/lib.sh"
new_db

# Each migration records its side effect once in `effects`; a second application would fail
# on the primary key, so "each step applied once" is checked by the database itself.
migration ffff00000001 "" "db:exec('CREATE TABLE effects (step text primary key)'); db:exec(\"INSERT INTO effects VALUES ('1')\")" "db:exec('DROP TABLE effects')"
for i in 2 3 4 5; do
  migration "ffff0000000$i" "ffff0000000$((i - 1))" "db:exec('INSERT INTO effects VALUES (\$1)', '$i')" "db:exec('DELETE FROM effects WHERE step = \$1', '$i')"
done

# ---- 16 simultaneous upgrades on an empty database -----------------------------------
pids=()
for n in $(seq 1 16); do
  "$RBACMIG" -q upgrade head >"out.$n" 2>"err.$n" &
  pids+=($!)
done
failures=0
for n in $(seq 1 16); do
  wait "${pids[$((n - 1))]}" || { failures=$((failures + 1)); echo "run $n:"; cat "err.$n"; }
done
expect_eq "$failures" 0 "16 concurrent upgrades all exit 0"
expect_eq "$(sql 'SELECT count(*) FROM effects')" 5 "each side effect happened once"
expect_eq "$(sql "SELECT count(*) FROM rbacmig_history WHERE direction = 'upgrade'")" 5 "history shows each step once"
expect_eq "$(sql 'SELECT version_num FROM rbacmig_version')" ffff00000005 "at head"

# ---- bad migration files: one line, exit 1, nothing changes ----------------------------
rb downgrade base
expect_rc 0 "back to base"
before_tables=$(if [ "$DIALECT" = postgresql ]; then sql "SELECT string_agg(tablename, ',' ORDER BY tablename) FROM pg_tables WHERE schemaname = 'public'"; else sql "SELECT group_concat(name) FROM (SELECT name FROM sqlite_master ORDER BY name)"; fi)
bad_file() { # bad_file NAME CONTENT EXPECTED-IN-ERROR
  printf '%s' "$2" > "migrations/$1.lua"
  rb upgrade head
  expect_rc 1 "bad file $1"
  expect_one_error_line "bad file $1"
  expect_err_has "$3" "bad file $1 names the culprit"
  rm -f "migrations/$1.lua"
}
bad_file syntax 'return { revision = "abcd00000001", down_revision = "ffff00000005",' "migrations/syntax.lua:1:"
bad_file empty '' "migrations/empty.lua: the file is empty"
printf 'return {\0}' > migrations/binary.lua
rb upgrade head
expect_rc 1 "binary file"
expect_err_has "not a Lua text file" "binary file explained"
rm migrations/binary.lua
bad_file number 'return 42' "migrations/number.lua: the migration returned number"
bad_file nothing 'local x = 1' "migrations/nothing.lua: the migration returned nothing"
bad_file noupgrade 'return { revision = "abcd00000002", down_revision = "ffff00000005", downgrade = function() end }' "'upgrade' is missing"
bad_file nodowngrade 'return { revision = "abcd00000003", down_revision = "ffff00000005", upgrade = function() end }' "'downgrade' is missing"
bad_file typo 'return { revision = "abcd00000004", down_revison = "ffff00000005", upgrade = function() end, downgrade = function() end }' "unknown field 'down_revison'"
bad_file badid 'return { revision = "Not-An-Id", upgrade = function() end, downgrade = function() end }' "'Not-An-Id' is not a revision id"
bad_file dangling 'return { revision = "abcd00000005", down_revision = "0000deadbeef", upgrade = function() end, downgrade = function() end }' "down_revision '0000deadbeef' names no migration file"
bad_file dup 'return { revision = "ffff00000003", down_revision = "ffff00000002", upgrade = function() end, downgrade = function() end }' "duplicate revision 'ffff00000003'"
bad_file root2 'return { revision = "abcd00000006", upgrade = function() end, downgrade = function() end }' "two root revisions"
bad_file runtime 'error("kaboom")' "migrations/runtime.lua:1: kaboom"
bad_file sandbox_io 'io.open("/etc/passwd")' "migrations/sandbox_io.lua:1:"
bad_file sandbox_exec 'os.execute("true")' "migrations/sandbox_exec.lua:1:"
bad_file sandbox_bytecode 'load(string.dump(function() end))' "migrations/sandbox_bytecode.lua:1:"
printf 'return { revision = "abcd00000007", down_revision = "abcd00000008", upgrade = function() end, downgrade = function() end }' > migrations/c1.lua
bad_file c2 'return { revision = "abcd00000008", down_revision = "abcd00000007", upgrade = function() end, downgrade = function() end }' "cycle in the revision graph"
rm migrations/c1.lua
after_tables=$(if [ "$DIALECT" = postgresql ]; then sql "SELECT string_agg(tablename, ',' ORDER BY tablename) FROM pg_tables WHERE schemaname = 'public'"; else sql "SELECT group_concat(name) FROM (SELECT name FROM sqlite_master ORDER BY name)"; fi)
expect_eq "$after_tables" "$before_tables" "bad files changed nothing"

# ---- bad URLs -----------------------------------------------------------------------------
rb -d "mysql://root@localhost/x" upgrade head
expect_rc 2 "unsupported scheme"
expect_err_has "unsupported database URL 'mysql://root@localhost/x'" "scheme named"
rb -d "sqlite://host/x.db" upgrade head
expect_rc 2 "sqlite with a host"
rb -d "postgresql://u:hunter2secret@127.0.0.1:1/db?connect_timeout=2" upgrade head
expect_rc 1 "unreachable server"
expect_one_error_line "unreachable server"
expect_err_has "cannot connect to the database" "unreachable server explained"
expect_not_in_output "hunter2secret" "password masked (unreachable)"
expect_err_has "u:****@127.0.0.1:1" "masked URL shown"
rb -d "host=127.0.0.1 port=1 user=u password='quoted secret' connect_timeout=2" current
expect_not_in_output "quoted secret" "key=value password masked"
rb -d "postgresql://127.0.0.1:1/db?password=qparamsecret&connect_timeout=2" current
expect_not_in_output "qparamsecret" "?password= masked"

if [ "$DIALECT" = postgresql ]; then
  port=${RBACMIG_TEST_PG_URL##*:}; port=${port%%/*}
  new_db
  rb -d "${RBACMIG_TEST_PG_PW_URL%/*}/$DB_NAME" current
  expect_rc 0 "password-authenticated user, right password"
  expect_not_in_output "${RBACMIG_TEST_PG_PASSWORD}" "right password masked"
  expect_not_in_output "S3cr3t-p%40ss" "right password masked (encoded)"
  expect_err_has "rbacmig_pw:****@" "masked in the database line"
  rb -d "postgresql://rbacmig_pw:wrong-pass-xyz@127.0.0.1:$port/postgres" current
  expect_rc 1 "wrong password"
  expect_err_has "password authentication failed" "wrong password explained"
  expect_not_in_output "wrong-pass-xyz" "wrong password masked"
  rb -d "postgresql://postgres@127.0.0.1:$port/no_such_db_xyz" current
  expect_rc 1 "missing database"
  expect_err_has "no_such_db_xyz" "missing database named"
  # A migration that prints the URL it was given still cannot leak the password.
  new_db
  pw_db_url="postgresql://rbacmig_pw:S3cr3t-p%40ss%3Bword@127.0.0.1:$port/$DB_NAME"
  sql "GRANT ALL ON SCHEMA public TO rbacmig_pw" >/dev/null
  mkdir -p leak/migrations
  ( cd leak && cat > migrations/aaaa_leak.lua <<LUA
return { revision = "aaaa00000001", upgrade = function(db) print(os.getenv("DATABASE_URL")); error(os.getenv("DATABASE_URL")) end, downgrade = function() end }
LUA
    DATABASE_URL="$pw_db_url" "$RBACMIG" upgrade head >../leak.out 2>&1 )
  check "printed URL masked" test "$(grep -c 'S3cr3t' leak.out)" = 0
  check "error carrying the URL masked" grep -q 'rbacmig_pw:\*\*\*\*@' leak.out
fi

# ---- --lock-timeout -------------------------------------------------------------------------
new_db
rm -f migrations/*
if [ "$DIALECT" = postgresql ]; then
  migration aaaa00000010 "" "db:exec('SELECT pg_sleep(3)')" ""
else
  migration aaaa00000010 "" "db:exec('CREATE TABLE slow (x)'); local t = os.clock(); while os.clock() - t < 3 do end" ""
fi
"$RBACMIG" -q upgrade head >slow.out 2>&1 &
slow=$!
sleep 1
rb --lock-timeout 0.5 upgrade head
expect_rc 1 "--lock-timeout turns waiting into an error"
expect_err_has "waiting for the" "says it waits"
expect_err_has "timed out" "says it timed out"
if [ "$DIALECT" = postgresql ]; then
  expect_err_has "held by pid" "names the holder's pid"
  expect_err_has "(rbacmig)" "names the holder's application_name"
fi
wait $slow
check "the lock holder finished" test $? = 0

# ---- broken configuration and RBAC files ----------------------------------------------------
new_db
rm -f migrations/*
migration aaaa00000040 "" "db:exec('CREATE TABLE cfg (id integer)')" ""
saved_url=$DATABASE_URL
unset DATABASE_URL
printf 'DATABASE_URL="sqlite:x.db\n' > .env
rb upgrade head
expect_rc 1 "broken .env"
expect_err_has ".env:1: unterminated" "broken .env names file:line"
expect_one_error_line "broken .env"
printf 'export DATABASE_URL\n' > .env
rb upgrade head
expect_rc 1 ".env line without ="
expect_err_has ".env:1: expected KEY=VALUE" ".env line named"
rm .env
export DATABASE_URL=$saved_url
printf 'return { migrations = "migrations",\n' > rbacmig.lua
rb upgrade head
expect_rc 1 "rbacmig.lua syntax error"
expect_err_has "rbacmig.lua:2:" "config syntax error names file:line"
printf 'return "not a table"\n' > rbacmig.lua
rb upgrade head
expect_rc 1 "rbacmig.lua returns no table"
expect_err_has "rbacmig.lua: the config file must return a table" "config shape named"
printf 'return { lock_timeout = "soon" }\n' > rbacmig.lua
rb upgrade head
expect_rc 1 "rbacmig.lua bad value"
expect_err_has "'lock_timeout' must be a number of seconds" "config value named"
rm rbacmig.lua
rb -c missing.lua upgrade head
expect_rc 1 "-c names a missing file"
expect_err_has "cannot open config file 'missing.lua'" "missing config named"
rb --lock-timeout soon upgrade head
expect_rc 2 "--lock-timeout with a bad value"
rb history -r nocolon
expect_rc 2 "history -r without a colon"
rb show zzzzzzzz
expect_rc 2 "show an unknown revision"
check "nothing ran through all of that" test "$(table_exists cfg && echo yes)" != yes
rb upgrade head
expect_rc 0 "the project still works"
mkdir -p rbac
printf 'return { { name = "projects.read", description = "x" }, { name = "Projects.Write", description = "y" } }\n' > rbac/permissions.lua
printf 'return { { name = "viewer", description = "v", permissions = { "projects.read" } } }\n' > rbac/roles.lua
rb seed
expect_rc 1 "bad permission name in rbac/"
expect_err_has "rbac/permissions.lua" "bad rbac file named"
expect_err_has "Projects.Write" "bad rbac entry named"
printf 'return { { name = "projects.read", description = "x" } }\n' > rbac/permissions.lua
printf 'return { { name = "viewer", description = "v", permissions = { "projects.raed" } } }\n' > rbac/roles.lua
rb seed
expect_rc 1 "unknown permission in a role template"
expect_err_has "rbac/roles.lua" "roles file named"
expect_err_has "projects.raed" "unknown permission named"
rm -rf rbac

# ---- edited migrations ------------------------------------------------------------------
new_db
rm -f migrations/*
migration aaaa00000030 "" "db:exec('CREATE TABLE e1 (id integer)')" "db:exec('DROP TABLE e1')"
migration aaaa00000031 aaaa00000030 "db:exec('CREATE TABLE e2 (id integer)')" "db:exec('DROP TABLE e2')"
rb upgrade aaaa00000030
rb check
expect_rc 0 "check on a clean project"
expect_out_has "ok:" "check says ok"
printf '\n-- edited after it ran\n' >> migrations/aaaa00000030_m.lua
rb check
expect_rc 1 "check finds an edited applied file"
expect_out_has "changed: migrations/aaaa00000030_m.lua" "check names the edited file"
rb upgrade head
expect_rc 1 "upgrade refuses to run past an edited file"
expect_err_has "--allow-changed" "refusal says how to override"
check "refusal changed nothing" test "$(table_exists e2 && echo yes)" != yes
rb upgrade --allow-changed head
expect_rc 0 "--allow-changed runs anyway"
migration aaaa00000032 aaaa00000030 "" ""
mv migrations/aaaa00000031_m.lua keep.lua
rb check
expect_rc 1 "check: applied revision with no file, several heads"
expect_out_has "missing: the database is at revision aaaa00000031" "check names the missing file"
mv keep.lua migrations/aaaa00000031_m.lua
rb check
expect_out_has "heads: 2 heads" "check reports several heads"

# ---- statement and lock timeouts in migration sessions (PostgreSQL) ------------------------
if [ "$DIALECT" = postgresql ]; then
  new_db
  rm -f migrations/*
  migration aaaa00000050 "" "db:exec('CREATE TABLE st (id integer)'); db:exec('SELECT pg_sleep(2)')" ""
  rb --statement-timeout 0.3 upgrade head
  expect_rc 1 "--statement-timeout cancels a long statement"
  expect_err_has "statement timeout" "statement timeout named"
  check "statement timeout left nothing" test "$(table_exists st && echo yes)" != yes
  printf 'return { statement_timeout = 0.3 }\n' > rbacmig.lua
  rb upgrade head
  expect_rc 1 "statement_timeout from rbacmig.lua"
  rb --statement-timeout 0 upgrade head
  expect_rc 0 "the flag wins over the config file"
  rm rbacmig.lua
  # lock_timeout: a migration waiting on a table lock held elsewhere fails instead of queueing.
  new_db
  rm -f migrations/*
  sql "CREATE TABLE busy (id integer)" >/dev/null
  migration aaaa00000051 "" "db:exec('ALTER TABLE busy ADD COLUMN x integer')" ""
  "$PSQL" -X -q -d "$DB_URL" -c "BEGIN; LOCK TABLE busy; SELECT pg_sleep(3); COMMIT" >/dev/null 2>&1 &
  holder=$!
  sleep 0.5
  rb --db-lock-timeout 0.5 upgrade head
  expect_rc 1 "--db-lock-timeout turns a blocked ALTER into an error"
  expect_err_has "lock timeout" "lock timeout named"
  wait $holder
fi

# ---- SIGINT / SIGTERM roll back the running migration ------------------------------------
for sig in INT TERM; do
  new_db
  rm -f migrations/*
  migration aaaa00000020 "" "db:exec('CREATE TABLE half (id integer)')
    $( [ "$DIALECT" = postgresql ] && echo "db:exec('SELECT pg_sleep(30)')" || echo "while true do end" )" ""
  "$RBACMIG" upgrade head >sig.out 2>sig.err &
  pid=$!
  sleep 1
  kill -$sig $pid
  wait $pid
  code=$?
  expect_eq "$code" "$([ $sig = INT ] && echo 130 || echo 143)" "SIG$sig exit code"
  check "SIG$sig says what happened" grep -q "interrupted by SIG$sig: upgrade aaaa00000020 rolled back" sig.err
  check "SIG$sig leaves nothing half applied" test "$(table_exists half && echo yes)" != yes
  expect_eq "$(sql 'SELECT count(*) FROM rbacmig_version' 2>/dev/null || echo 0)" 0 "SIG$sig: version unchanged"
done

# ---- SIGINT while waiting for the lock, and while loading a looping file -------------------
new_db
rm -f migrations/*
if [ "$DIALECT" = postgresql ]; then
  migration aaaa00000060 "" "db:exec('SELECT pg_sleep(4)')" ""
else
  migration aaaa00000060 "" "db:exec('CREATE TABLE w (x)'); local t = os.clock(); while os.clock() - t < 4 do end" ""
fi
"$RBACMIG" -q upgrade head >holder.out 2>&1 &
holder=$!
sleep 1
"$RBACMIG" upgrade head >waiter.out 2>&1 &
waiter=$!
sleep 1
start=$(date +%s%N)
kill -INT $waiter
wait $waiter
code=$?
elapsed=$(( ($(date +%s%N) - start) / 1000000 ))
expect_eq "$code" 130 "SIGINT while waiting for the lock exits 130"
check "it stops at once (${elapsed} ms), not when the lock frees" test "$elapsed" -lt 1500
check "it says it was interrupted" grep -q "interrupted by SIGINT" waiter.out
wait $holder
check "the lock holder finished normally" test $? = 0
printf 'while true do end\n' > migrations/loop.lua
"$RBACMIG" heads >loop.out 2>&1 &
pid=$!
sleep 1
kill -TERM $pid
wait $pid
expect_eq "$?" 143 "SIGTERM stops a file that loops while it is loaded"
check "the loop is named" grep -q "migrations/loop.lua:1: interrupted" loop.out
rm migrations/loop.lua


# ---- a step whose COMMIT fails ---------------------------------------------------------------
# A deferred foreign key is only checked at COMMIT, which on PostgreSQL travels in the same
# round trip as the step's bookkeeping and the next step's BEGIN: the failure must still be
# one error line naming the constraint and the step, and the step and everything after it
# must leave no trace.
new_db
rm -rf migrations
migration cccc00000001 "" "db:exec('CREATE TABLE parent (id integer PRIMARY KEY)'); db:exec('CREATE TABLE child (pid integer REFERENCES parent (id) DEFERRABLE INITIALLY DEFERRED)')" "db:exec('DROP TABLE child'); db:exec('DROP TABLE parent')"
migration cccc00000002 cccc00000001 "db:exec('INSERT INTO child VALUES (42)'); db:exec('CREATE TABLE after_bad (x integer)')" "db:exec('DROP TABLE after_bad')"
migration cccc00000003 cccc00000002 "db:exec('CREATE TABLE third (x integer)')" "db:exec('DROP TABLE third')"
rb upgrade head
expect_rc 1 "a COMMIT refused by a deferred foreign key"
expect_one_error_line "a COMMIT refused by a deferred foreign key"
if [ "$DIALECT" = postgresql ]; then
  expect_err_has 'violates foreign key constraint "child_pid_fkey"' "the failed constraint is named"
else
  expect_err_has "FOREIGN KEY constraint failed" "the failed constraint is named"
fi
expect_err_has "cccc00000002" "the failed step is named"
expect_eq "$(sql 'SELECT version_num FROM rbacmig_version')" cccc00000001 "the version stays at the step before"
expect_eq "$(sql 'SELECT count(*) FROM child')" 0 "the refused row is gone"
if table_exists after_bad; then fail "the failed step left a table"; else pass; fi
expect_eq "$(sql "SELECT count(*) FROM rbacmig_history WHERE revision IN ('cccc00000002', 'cccc00000003')")" 0 "no history for the failed step or the one after"
migration cccc00000002 cccc00000001 "db:exec('INSERT INTO parent VALUES (42)'); db:exec('INSERT INTO child VALUES (42)'); db:exec('CREATE TABLE after_bad (x integer)')" "db:exec('DROP TABLE after_bad')"
rb upgrade head
expect_rc 0 "the fixed step and the next apply"
expect_eq "$(sql 'SELECT version_num FROM rbacmig_version')" cccc00000003 "at head after the fix"

finish
