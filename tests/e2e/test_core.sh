#!/usr/bin/env bash
# The core commands end to end: targets, bookkeeping, branches and merges, failures,
# --sql, stamp, configuration precedence and usage errors.
. "$(dirname "$0")/lib.sh"
new_db

for i in 1 2 3 4; do
  parent=""
  [ $i -gt 1 ] && parent="aaaa0000000$((i - 1))"
  migration "aaaa0000000$i" "$parent" \
    "db:exec('CREATE TABLE t$i (id integer primary key, note text)'); db:exec('INSERT INTO t$i (id, note) VALUES (\$1, \$2)', $i, \"it's $i\")" \
    "db:exec('DROP TABLE t$i')"
done

# ---- upgrade through every target form -------------------------------------------
rb upgrade +1
expect_rc 0 "upgrade +1"
expect_out "Running upgrade  -> aaaa00000001, step aaaa00000001
  done in $(echo "$OUT" | sed -n 's/^  done in \([0-9]*\) ms$/\1/p') ms" "upgrade +1 prints the step, then its time"
expect_eq "$(sql 'SELECT version_num FROM rbacmig_version')" aaaa00000001 "version after +1"
check "t1 created" table_exists t1
expect_eq "$(sql 'SELECT note FROM t1')" "it's 1" "parameters bound, quote kept"

rb current
expect_out "aaaa00000001" "current after +1"

rb upgrade aaaa00000003
expect_rc 0 "upgrade to a full id"
expect_eq "$(echo "$OUT" | grep -c '^Running upgrade')" 2 "two steps to aaaa00000003"
check "t3 created" table_exists t3

rb upgrade head
expect_rc 0 "upgrade head"
expect_eq "$(sql 'SELECT version_num FROM rbacmig_version')" aaaa00000004 "at head"
rb current
expect_out "aaaa00000004 (head)" "current marks the head"

rb upgrade head
expect_rc 0 "no-op upgrade"
expect_out "" "no-op upgrade prints nothing"

rb downgrade -2
expect_rc 0 "downgrade -2"
expect_eq "$(sql 'SELECT version_num FROM rbacmig_version')" aaaa00000002 "at 2 after -2"
check "t4 dropped" test "$(table_exists t4 && echo yes)" != yes
check "t3 dropped" test "$(table_exists t3 && echo yes)" != yes

rb upgrade aaaa00000001+2
expect_rc 0 "upgrade REV+N"
expect_eq "$(sql 'SELECT version_num FROM rbacmig_version')" aaaa00000003 "REV+N lands on 3"

rb downgrade aaaa00000003-2
expect_rc 0 "downgrade REV-N"
expect_eq "$(sql 'SELECT version_num FROM rbacmig_version')" aaaa00000001 "REV-N lands on 1"

rb upgrade aaaa
expect_rc 2 "ambiguous prefix"
expect_err_has "ambiguous target 'aaaa'" "ambiguous prefix names the target"
expect_one_error_line "ambiguous prefix"

rb upgrade aaa
expect_rc 2 "short prefix"
expect_err_has "at least 4 characters" "short prefix explained"

rb upgrade zzzz9999
expect_rc 2 "unknown target"
expect_err_has "'zzzz9999'" "unknown target named"

rb downgrade
expect_rc 2 "downgrade without target"
expect_err_has "downgrade base" "hint to say base"
expect_eq "$(sql 'SELECT version_num FROM rbacmig_version')" aaaa00000001 "usage errors change nothing"

rb upgrade -1
expect_rc 2 "upgrade with a negative relative target"

rb upgrade +9
expect_rc 2 "upgrade past head"
expect_err_has "past the head" "past head explained"

rb downgrade base
expect_rc 0 "downgrade base"
expect_eq "$(sql 'SELECT count(*) FROM rbacmig_version')" 0 "version table empty at base"
check "t1 dropped" test "$(table_exists t1 && echo yes)" != yes

rb downgrade -1
expect_rc 2 "downgrade below base"

# ---- history ----------------------------------------------------------------------
rb upgrade head
expect_eq "$(sql "SELECT count(*) FROM rbacmig_history WHERE direction = 'upgrade' AND success")" 9 "history counts every upgrade step"
expect_eq "$(sql "SELECT length(checksum) FROM rbacmig_history LIMIT 1")" 64 "history keeps a SHA-256"
rb history
expect_rc 0 "history"
expect_eq "$(echo "$OUT" | head -1)" "aaaa00000003 -> aaaa00000004 (head) (current), step aaaa00000004" "history newest first, marked"
expect_eq "$(echo "$OUT" | tail -1)" "<base> -> aaaa00000001, step aaaa00000001" "history ends at base"
rb history -r aaaa00000002:aaaa00000003
expect_eq "$(echo "$OUT" | wc -l | tr -d ' ')" 2 "history -r START:END"

# ---- a failing migration leaves no trace --------------------------------------------
migration bbbb00000005 aaaa00000004 \
  "db:exec('CREATE TABLE t5 (id integer)')
    db:exec('INSERT INTO no_such_table VALUES (1)')" \
  "db:exec('DROP TABLE t5')"
rb upgrade head
expect_rc 1 "failing migration exits 1"
expect_one_error_line "failing migration"
expect_err_has "migrations/bbbb00000005_m.lua:9" "error names file:line"
expect_err_has "no_such_table" "error carries the database message"
check "t5 rolled back" test "$(table_exists t5 && echo yes)" != yes
expect_eq "$(sql 'SELECT version_num FROM rbacmig_version')" aaaa00000004 "version unchanged after failure"
rm migrations/bbbb00000005_m.lua

# A Lua runtime error in a migration.
migration bbbb00000006 aaaa00000004 "local x = nil; x.y = 1" ""
rb upgrade head
expect_rc 1 "runtime error exits 1"
expect_err_has "bbbb00000006_m.lua:8" "runtime error names file:line"
rm migrations/bbbb00000006_m.lua

# ---- branches and merges --------------------------------------------------------------
rb revision -m "left branch" --rev-id cccc00000001 --head aaaa00000002
expect_rc 0 "revision --head makes a branch"
expect_out "migrations/cccc00000001_left_branch.lua" "revision prints its path"
rb heads
expect_eq "$(echo "$OUT" | wc -l | tr -d ' ')" 2 "two heads"
rb upgrade head
expect_rc 2 "upgrade head with two heads fails (a usage error: the target is ambiguous)"
expect_err_has "aaaa00000004" "lists head 1"
expect_err_has "cccc00000001" "lists head 2"
rb upgrade heads
expect_rc 0 "upgrade heads"
expect_eq "$(sql 'SELECT version_num FROM rbacmig_version ORDER BY 1' | tr '\n' ' ')" "aaaa00000004 cccc00000001 " "one version row per applied head"
rb branches
expect_out_has "aaaa00000002 (branchpoint)" "branches shows the branch point"
rb merge -m "join" --rev-id dddd00000001 aaaa00000004 cccc00000001
expect_rc 0 "merge"
rb upgrade head
expect_rc 0 "upgrade to the merge"
expect_eq "$(sql 'SELECT version_num FROM rbacmig_version')" dddd00000001 "merge collapses the rows"
rb downgrade -1
expect_rc 2 "relative downgrade through a merge is ambiguous"
rb downgrade cccc00000001
expect_rc 0 "downgrade to one side of the merge"
expect_eq "$(sql 'SELECT version_num FROM rbacmig_version ORDER BY 1' | tr '\n' ' ')" "aaaa00000004 cccc00000001 " "both branches applied again"
rb downgrade aaaa00000003
expect_rc 0 "downgrade one branch"
expect_eq "$(sql 'SELECT version_num FROM rbacmig_version ORDER BY 1' | tr '\n' ' ')" "aaaa00000003 cccc00000001 " "the other branch stays"

# ---- stamp ----------------------------------------------------------------------------
rb stamp dddd00000001
expect_rc 0 "stamp"
expect_eq "$(sql 'SELECT version_num FROM rbacmig_version')" dddd00000001 "stamped"
check "stamp ran no migration (t4 still absent)" test "$(table_exists t4 && echo yes)" != yes
rb stamp --purge base
expect_rc 0 "stamp --purge base"
expect_eq "$(sql 'SELECT count(*) FROM rbacmig_version')" 0 "purged"

# ---- --sql gives the schema of the online run ---------------------------------------
dump_schema() {
  if [ "$DIALECT" = postgresql ]; then
    "${RBACMIG_TEST_PG_BIN:-/usr/lib/postgresql/15/bin}/pg_dump" --schema-only --no-owner -d "$DB_URL" | grep -v -e '^--' -e '^$' -e '^.restrict' -e '^.unrestrict'
  else
    sqlite3 "$DB_FILE" .schema | grep -v sqlite_sequence
  fi
}
new_db
rb upgrade head
expect_rc 0 "online upgrade on a fresh database"
online=$(dump_schema)
online_versions=$(sql 'SELECT version_num FROM rbacmig_version')
rb upgrade --sql head
expect_rc 0 "upgrade --sql"
printf '%s\n' "$OUT" > offline.sql
check "stdout carries only SQL" test "$(echo "$OUT" | grep -c '^Running')" = 0
expect_err_has "Running upgrade  -> aaaa00000001" "--sql progress goes to stderr"
new_db
if [ "$DIALECT" = postgresql ]; then
  "$PSQL" -X -q -v ON_ERROR_STOP=1 -d "$DB_URL" -f offline.sql >/dev/null 2>psql.err
else
  sqlite3 -bail "$DB_FILE" < offline.sql 2>psql.err
fi
check "--sql output applies cleanly: $(cat psql.err)" test ! -s psql.err
expect_eq "$(dump_schema)" "$online" "--sql output gives the same schema"
expect_eq "$(sql 'SELECT version_num FROM rbacmig_version')" "$online_versions" "--sql output stamps the version"
rb downgrade --sql dddd00000001:base
expect_rc 0 "downgrade --sql START:END"
expect_out_has "DROP TABLE t4" "downgrade --sql writes the downgrade"
rb upgrade --sql aaaa00000002:aaaa00000003
expect_out_has "CREATE TABLE t3" "upgrade --sql START:END"
check "START:END starts after START" test "$(echo "$OUT" | grep -c 'CREATE TABLE t2 ')" = 0
rb upgrade aaaa00000001:head
expect_rc 2 "START:END without --sql"

# ---- configuration precedence ------------------------------------------------------------
unset DATABASE_URL
mkdir -p other
rb current
expect_err_has "sqlite:rbacmig.db (from default)" "default URL"
check "inspection does not create the default database" test ! -e rbacmig.db
printf '# comment\nexport DATABASE_URL="%s"\n' "$DB_URL" > .env
rb current
expect_err_has "(from .env)" ".env used"
expect_out "dddd00000001 (head)" ".env database is read"
DATABASE_URL="sqlite:other/env.db" rb current
expect_err_has "sqlite:other/env.db (from DATABASE_URL)" "environment wins over .env"
DATABASE_URL="sqlite:other/env.db" rb -d "sqlite:other/flag.db" current
expect_err_has "sqlite:other/flag.db (from --database-url)" "flag wins over everything"
rm .env
printf 'return { database_url = "sqlite:other/file.db", version_table = "my_versions" }\n' > rbacmig.lua
rb upgrade +1
expect_err_has "sqlite:other/file.db (from config file)" "config file URL"
expect_eq "$(sqlite3 other/file.db 'SELECT version_num FROM my_versions')" aaaa00000001 "version_table from the config file"
printf 'return { databse_url = "x" }\n' > rbacmig.lua
rb current
expect_rc 1 "unknown config key"
expect_err_has "unknown setting 'databse_url'" "config typo named"
rm rbacmig.lua
export DATABASE_URL="$DB_URL"

# ---- -x reaches migrations ---------------------------------------------------------------
new_db
rm -f migrations/*
migration eeee00000001 "" "assert(db.x.tenant == 'acme', 'x missing'); assert(db.dialect == '$DIALECT')" ""
rb -x tenant=acme upgrade head
expect_rc 0 "-x KEY=VALUE reaches db.x"
rb -x tenant upgrade head
expect_rc 2 "-x without ="
expect_err_has "KEY=VALUE" "-x usage named"

# ---- --single-transaction: all or nothing ------------------------------------------------
new_db
rm -f migrations/*
migration abab00000001 "" "db:exec('CREATE TABLE s1 (id integer)')" "db:exec('DROP TABLE s1')"
migration abab00000002 abab00000001 "db:exec('CREATE TABLE s2 (id integer)')" "db:exec('DROP TABLE s2')"
migration abab00000003 abab00000002 "db:exec('INSERT INTO nowhere VALUES (1)')" ""
rb upgrade --single-transaction head
expect_rc 1 "--single-transaction with a failing last step"
check "first step rolled back too" test "$(table_exists s1 && echo yes)" != yes
rm migrations/abab00000003_m.lua
rb upgrade --single-transaction head
expect_rc 0 "--single-transaction"
expect_eq "$(sql 'SELECT version_num FROM rbacmig_version')" abab00000002 "--single-transaction reaches head"

# ---- branch labels, show, depends_on -------------------------------------------------------
rb revision -m "billing root" --rev-id abab00000010 --head abab00000001 --branch-label billing
expect_rc 0 "revision --branch-label"
rb revision -m "billing two" --rev-id abab00000011 --head abab00000010 --depends-on abab00000002
expect_rc 0 "revision --depends-on"
expect_eq "$(grep -c 'depends_on = "abab00000002"' migrations/abab00000011_billing_two.lua)" 1 "depends_on written"
rb upgrade billing@head
expect_rc 0 "upgrade LABEL@head"
expect_eq "$(sql 'SELECT version_num FROM rbacmig_version ORDER BY 1' | tr '\n' ' ')" "abab00000002 abab00000011 " "label head applied, dependency kept"
rb show abab00000011
expect_rc 0 "show"
expect_out_has "Parent: abab00000010" "show names the parent"
expect_out_has "Also depends on: abab00000002" "show names the dependency"
expect_out_has "Path: migrations/abab00000011_billing_two.lua" "show names the file"
rb downgrade abab00000001
expect_rc 0 "downgrade below a dependency"
expect_eq "$(sql 'SELECT version_num FROM rbacmig_version')" abab00000001 "dependants reverted too"

# ---- non-transactional migrations ------------------------------------------------------------
new_db
rm -f migrations/*
if [ "$DIALECT" = postgresql ]; then
  concurrent="db:exec('CREATE INDEX CONCURRENTLY nt_idx ON nt (id)')"
else
  concurrent="db:exec('CREATE INDEX nt_idx ON nt (id)')"
fi
migration acac00000001 "" "db:exec('CREATE TABLE nt (id integer)')" "db:exec('DROP TABLE nt')"
migration acac00000002 acac00000001 "$concurrent" "db:exec('DROP INDEX nt_idx')" "transactional = false,"
rb upgrade head
expect_rc 0 "transactional = false runs outside a transaction (CREATE INDEX CONCURRENTLY on PostgreSQL)"
expect_eq "$(sql 'SELECT version_num FROM rbacmig_version')" acac00000002 "non-transactional step recorded"
migration acac00000003 acac00000002 "db:exec('CREATE TABLE nt2 (id integer)')
    db:exec('INSERT INTO nowhere VALUES (1)')" "db:exec('DROP TABLE nt2')" "transactional = false,"
rb upgrade head
expect_rc 1 "non-transactional failure"
expect_err_has "outside a transaction" "failure explains what stayed"
check "its first statement stayed (autocommit)" table_exists nt2
rb check
expect_rc 1 "check reports the failed revision"
expect_out_has "failed: revision acac00000003" "check names it"
rb upgrade head
expect_rc 1 "upgrade refuses to go on over a failed revision"
expect_err_has "rbacmig stamp acac00000002" "refusal says how to resolve"
sql "DROP TABLE nt2" >/dev/null
rb stamp acac00000002
expect_rc 0 "stamp resolves the failure"
rb check
expect_rc 0 "check is clean after resolving"
rb upgrade --single-transaction acac00000003
expect_rc 1 "non-transactional migration refused inside --single-transaction"
expect_err_has "cannot run inside --single-transaction" "single-transaction conflict explained"


# ---- a schema of its own (PostgreSQL) -------------------------------------------------------
# `schema` in rbacmig.lua puts rbacmig's tables there and makes it the first schema of every
# migration transaction's search_path, each step's too (set in the round trip that commits
# the step before). A name that needs quoting must be quoted, not split or injected.
if [ "$DIALECT" = postgresql ]; then
  new_db
  mkdir -p own && cd own || exit 1
  # Lua's "Tenant \"App\", x's\\y" is the name Tenant "App", x's\y
  cat > rbacmig.lua <<'LUA'
return { schema = "Tenant \"App\", x's\\y" }
LUA
  own="E'Tenant \"App\", x''s\\\\y'"   # the name as a SQL string literal
  migration abab00000001 "" "db:exec('CREATE TABLE s1 (x integer)')" "db:exec('DROP TABLE s1')"
  migration abab00000002 abab00000001 "db:exec('CREATE TABLE s2 (x integer)')" "db:exec('DROP TABLE s2')"
  migration abab00000003 abab00000002 "db:exec('CREATE TABLE s3 (x integer)')" "db:exec('DROP TABLE s3')"
  rb -v upgrade head
  expect_rc 0 "upgrade with a schema named with quotes, a comma and a backslash"
  expect_eq "$(sql "SELECT string_agg(tablename, ',' ORDER BY tablename) FROM pg_tables WHERE schemaname = $own")" \
    "rbacmig_history,rbacmig_version,s1,s2,s3" "every step's tables and rbacmig's own are in that schema"
  expect_eq "$(sql "SELECT count(*) FROM pg_tables WHERE schemaname = 'public' AND tablename IN ('s1', 's2', 's3')")" 0 "none in public"
  expect_eq "$(sql "SELECT count(*) FROM pg_namespace WHERE nspname <> $own AND nspname ~ 'App|x'")" 0 "no other schema made of a piece of the name"
  # steps 2 and 3 began in the round trip that committed the step before (-v says so)
  expect_eq "$(printf '%s\n' "$ERR" | grep -c "began with this step's COMMIT")" 2 "two steps began with the previous step's COMMIT"
  rb downgrade base
  expect_rc 0 "downgrade to base in that schema"
  expect_eq "$(sql "SELECT count(*) FROM pg_tables WHERE schemaname = $own AND tablename LIKE 's_'")" 0 "every step undone there"
  printf 'return { schema = "%s" }\n' "$(printf 'x%.0s' $(seq 64))" > rbacmig.lua
  rb upgrade head
  expect_rc 1 "a schema name longer than PostgreSQL keeps"
  expect_err_has "'schema' is longer than 63 bytes" "the setting is named"
  cd .. || exit 1
fi

# ---- usage errors --------------------------------------------------------------------------
rb frobnicate
expect_rc 2 "unknown command"
expect_err_has "unknown command 'frobnicate'" "unknown command named"
rb upgrade --frob head
expect_rc 2 "unknown option"
expect_err_has "'--frob'" "unknown option named"
rb --help
expect_rc 0 "--help"
expect_out_has "upgrade" "--help lists commands"
rb
expect_rc 2 "no command"

finish
