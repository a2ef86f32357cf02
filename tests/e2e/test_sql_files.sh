#!/usr/bin/env bash
# SQL where users have SQL: db:exec_script runs a multi-statement script ($$ bodies or trigger
# bodies, comments and strings holding ';'), a failing statement is named with its line and
# leaves the database as it was, db:exec_file reads only the migration's own SQL files (and
# refuses anything else, naming it), their bytes are in the checksum (check, repair),
# `revision --sql` scaffolds a migration that runs them, and `upgrade --sql` writes them so
# that psql or sqlite3 builds the same schema. A script holding COMMIT, ROLLBACK, BEGIN (...) or
# COPY FROM STDIN is refused before it runs, online and under --sql, naming file and line.
. "$(dirname "$0")/lib.sh"
new_db

# The schema as a list of lines, for comparing two databases built two ways.
schema_of() { # schema_of URL_OR_FILE
  if [ "$DIALECT" = postgresql ]; then
    "$PSQL" -X -q -At -d "$1" -c "SELECT table_name || '.' || column_name || ' ' || data_type
      FROM information_schema.columns WHERE table_schema = 'public' ORDER BY 1" \
      -c "SELECT 'function ' || proname FROM pg_proc WHERE pronamespace = 'public'::regnamespace ORDER BY 1" \
      -c "SELECT 'trigger ' || tgname FROM pg_trigger WHERE NOT tgisinternal ORDER BY 1"
  else
    sqlite3 -batch "$1" "SELECT type || ' ' || name || ' ' || coalesce(sql, '') FROM sqlite_master ORDER BY name"
  fi
}

# ---- exec_script: several statements, with what must not end a statement early ----------
if [ "$DIALECT" = postgresql ]; then
  body='CREATE FUNCTION log_insert() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  INSERT INTO s_log (what) VALUES (NEW.s || '"'"';logged'"'"');  -- a comment; inside the body
  RETURN NEW;
END;
$$;
CREATE TRIGGER s_items_log AFTER INSERT ON s_items FOR EACH ROW EXECUTE FUNCTION log_insert();'
  undo_body='DROP TRIGGER s_items_log ON s_items; DROP FUNCTION log_insert();'
else
  body="CREATE TRIGGER s_items_log AFTER INSERT ON s_items BEGIN
  INSERT INTO s_log (what) VALUES (NEW.s || ';logged'); -- a comment; inside the body
END;"
  undo_body='DROP TRIGGER s_items_log;'
fi
mkdir -p migrations
cat > migrations/aaaa00000001_m.lua <<LUA
return {
  revision = "aaaa00000001",
  down_revision = nil,
  message = "a script",
  upgrade = function(db)
    db:exec_script([==[
-- a comment; with a semicolon
CREATE TABLE s_items (id integer PRIMARY KEY, s text NOT NULL);
/* a block comment; with a semicolon */
CREATE TABLE s_log (what text);
$body
INSERT INTO s_items (id, s) VALUES (1, 'a;b');
INSERT INTO s_items (id, s) VALUES (2, 'it''s; fine')
]==])
  end,
  downgrade = function(db)
    db:exec_script([==[$undo_body DROP TABLE s_log; DROP TABLE s_items;]==])
  end,
}
LUA
rb upgrade head
expect_rc 0 "a script with comments, strings and a body holding ';' runs"
expect_eq "$(sql "SELECT s FROM s_items ORDER BY id")" "a;b
it's; fine" "strings holding ';' arrive whole"
expect_eq "$(sql "SELECT what FROM s_log ORDER BY what")" "a;b;logged
it's; fine;logged" "the body holding ';' became one trigger"
rb downgrade base
expect_rc 0 "a downgrade script"
check "the downgrade script dropped the tables" test "$(table_exists s_items && echo yes)" != yes
rm migrations/aaaa00000001_m.lua

# ---- an error in statement 3 on line 7: named, one error line, nothing left --------------
new_db
rb revision -m "failing step" --rev-id bbbb00000001 --sql
expect_rc 0 "revision --sql"
up=migrations/bbbb00000001_failing_step.up.sql
down=migrations/bbbb00000001_failing_step.down.sql
check "revision --sql wrote the upgrade file" test -f "$up"
check "revision --sql wrote the downgrade file" test -f "$down"
expect_out_has "$up" "revision --sql names the upgrade file"
expect_out_has "$down" "revision --sql names the downgrade file"
check "the SQL files start with a header comment" grep -q "^-- failing step (upgrade of revision bbbb00000001)" "$up"
check "the migration runs its upgrade file" grep -q "db:exec_file(\"bbbb00000001_failing_step.up.sql\")" migrations/bbbb00000001_failing_step.lua
cat > "$up" <<'SQL'
-- line 1: a header
CREATE TABLE f_one (id integer);
/* line 3: a comment; with a semicolon */
INSERT INTO f_one VALUES (1);

-- line 6: the third statement fails
INSERT INTO f_nope VALUES (1);
CREATE TABLE f_two (id integer);
SQL
printf 'DROP TABLE f_two;\nDROP TABLE f_one;\n' > "$down"
rb upgrade head
expect_rc 1 "a failing script fails the step"
expect_one_error_line "a failing script"
expect_err_has "$up:7: statement 3:" "the error names the file, line 7 and statement 3"
expect_err_has "f_nope" "the error is the database's"
check "the failed step left no table" test "$(table_exists f_one && echo yes)" != yes
rb current
expect_rc 0 "current after the failed step"
expect_not_in_output "bbbb00000001" "the failed step left no version"

# The same statement through exec_script: the line is counted in the script.
cat > migrations/bbbb00000002_m.lua <<'LUA'
return {
  revision = "bbbb00000002", down_revision = "bbbb00000001", message = "inline",
  upgrade = function(db)
    db:exec_script("CREATE TABLE g_one (id integer);\n\nINSERT INTO g_nope VALUES (1);")
  end,
  downgrade = function(db) end,
}
LUA
sed -i 's/^INSERT INTO f_nope.*$/INSERT INTO f_one VALUES (2);/' "$up"
rb upgrade head
expect_rc 1 "a failing inline script"
expect_err_has "script:3: statement 2:" "the inline error names line 3 and statement 2"
check "the failed inline step left no table" test "$(table_exists g_one && echo yes)" != yes
rm migrations/bbbb00000002_m.lua

# An error found while running (no position from the server): the line is still the
# statement's, counted past a body and a comment holding ';'.
if [ "$DIALECT" = postgresql ]; then
  first='CREATE FUNCTION h_f() RETURNS int LANGUAGE sql AS $$ SELECT 1; SELECT 2 $$;'
  failing='SELECT 1/0;'
else
  first='CREATE TABLE h_t (x int); CREATE TRIGGER h_tr AFTER INSERT ON h_t BEGIN SELECT 1; END;'
  failing='SELECT abs(-9223372036854775808);'
fi
cat > migrations/bbbb00000002_m.lua <<LUA
return {
  revision = "bbbb00000002", down_revision = "bbbb00000001", message = "runtime",
  upgrade = function(db)
    db:exec_script([==[$first
-- a comment; here

$failing
CREATE TABLE h_after (x int);]==])
  end,
  downgrade = function(db) end,
}
LUA
rb upgrade head
expect_rc 1 "a script failing while it runs"
n=2; [ "$DIALECT" = sqlite ] && n=3
expect_err_has "script:4: statement $n:" "a runtime error names line 4 and statement $n"
expect_err_has "STATEMENT: $failing" "a runtime error shows the statement"
rm migrations/bbbb00000002_m.lua

# ---- revision --sql, upgrade, check and repair over the SQL files, downgrade -------------
rb upgrade head
expect_rc 0 "upgrade runs the upgrade file"
expect_eq "$(sql "SELECT count(*) FROM f_one")" 2 "the upgrade file's rows are there"
check "the upgrade file's last table is there" table_exists f_two
rb check
expect_rc 0 "check after the upgrade"
printf -- '-- an edit after it ran\n' >> "$up"
rb check
expect_rc 1 "check reports an edited SQL file"
expect_out_has "bbbb00000001" "check names the revision whose SQL file changed"
rb upgrade head
expect_rc 0 "nothing to run (the edited revision is applied)"
rb repair
expect_rc 0 "repair records the SQL file's edit"
rb check
expect_rc 0 "check after repair"
printf -- '-- an edit of the down file\n' >> "$down"
rb check
expect_rc 1 "check reports an edited downgrade file"
rb repair
expect_rc 0 "repair again"
rb downgrade base
expect_rc 0 "downgrade runs the downgrade file"
check "the downgrade file dropped the tables" test "$(table_exists f_one && echo yes)" != yes

# ---- exec_file refuses what is not the migration's own SQL file --------------------------
outside=$(mktemp -d "$TEST_DIR/outside.XXXXXX")
echo "CREATE TABLE escaped (id integer);" > "$outside/evil.sql"
mkdir -p migrations/sub
echo "CREATE TABLE escaped (id integer);" > migrations/sub/bbbb00000001_failing_step.x.sql
echo "CREATE TABLE escaped (id integer);" > migrations/other.sql
refuse() { # refuse NAME WHAT MESSAGE
  cat > migrations/cccc00000001_m.lua <<LUA
return {
  revision = "cccc00000001", down_revision = "bbbb00000001", message = "escape",
  upgrade = function(db) db:exec_file("$1") end,
  downgrade = function(db) end,
}
LUA
  rb upgrade head
  expect_rc 1 "exec_file refuses $2"
  expect_one_error_line "exec_file refuses $2"
  expect_err_has "$3" "exec_file's refusal of $2 says so"
  expect_err_has "$(basename "$1")" "exec_file's refusal of $2 names the file"
  check "exec_file ran nothing of $2" test "$(table_exists escaped && echo yes)" != yes
}
refuse "$outside/evil.sql" "an absolute path" "is an absolute path"
refuse "../$(basename "$outside")/evil.sql" "a .. escape" "leads out of the migrations directory"
refuse "sub/bbbb00000001_failing_step.x.sql" "a subdirectory" "is in a subdirectory"
refuse "other.sql" "another migration's name" "is not one of cccc00000001_m.lua's SQL files"
# A link named like the migration's own SQL file, leading outside.
new_db
rm -f migrations/bbbb* migrations/cccc*
ln -s "$outside/evil.sql" migrations/cccc00000001_m.link.sql
cat > migrations/cccc00000001_m.lua <<'LUA'
return {
  revision = "cccc00000001", down_revision = nil, message = "link",
  upgrade = function(db) db:exec_file("cccc00000001_m.link.sql") end,
  downgrade = function(db) end,
}
LUA
rb upgrade head
expect_rc 1 "exec_file refuses a symbolic link leading outside"
expect_err_has "symbolic link leading out of the migrations directory" "the link's refusal says so"
expect_err_has "cccc00000001_m.link.sql" "the link's refusal names it"
check "the link ran nothing" test "$(table_exists escaped && echo yes)" != yes
rm -rf migrations/sub migrations/other.sql migrations/cccc*

# ---- upgrade --sql writes the scripts: applied by psql or sqlite3, the same schema -------
new_db
rb revision -m "offline" --rev-id dddd00000001 --sql
if [ "$DIALECT" = postgresql ]; then
  cat >> migrations/dddd00000001_offline.up.sql <<'SQL'
CREATE TABLE o_items (id integer PRIMARY KEY, s text DEFAULT 'x;y');
CREATE FUNCTION o_twice(n integer) RETURNS integer LANGUAGE plpgsql AS $body$
BEGIN
  RETURN n * 2; -- a comment; in the body
END;
$body$;
/* the last statement has no ';' and a comment follows it */
CREATE INDEX o_items_s ON o_items (s) -- trailing comment
SQL
else
  cat >> migrations/dddd00000001_offline.up.sql <<'SQL'
CREATE TABLE o_items (id integer PRIMARY KEY, s text DEFAULT 'x;y');
CREATE TRIGGER o_items_t AFTER INSERT ON o_items BEGIN
  UPDATE o_items SET s = s || ';' WHERE id = NEW.id; -- a comment; in the body
END;
/* the last statement has no ';' and a comment follows it */
CREATE INDEX o_items_s ON o_items (s) -- trailing comment
SQL
fi
rb upgrade head --sql
expect_rc 0 "upgrade --sql"
script=$OUT
expect_out_has "o_items_s ON o_items (s) -- trailing comment" "the offline script holds the SQL file"
rb upgrade head
expect_rc 0 "the same upgrade online"
online=$(schema_of "${DB_FILE:-$DB_URL}")
new_db
if [ "$DIALECT" = postgresql ]; then
  printf '%s\n' "$script" | "$PSQL" -X -q -v ON_ERROR_STOP=1 -d "$DB_URL" >/dev/null 2>"$TEST_DIR/apply.err"
  rc=$?
  offline=$(schema_of "$DB_URL")
else
  printf '%s\n' "$script" | sqlite3 -bail "$DB_FILE" >/dev/null 2>"$TEST_DIR/apply.err"
  rc=$?
  offline=$(schema_of "$DB_FILE")
fi
# shellcheck disable=SC2034 # RC and ERR are what lib.sh's expect_rc reports
RC=$rc ERR=$(cat "$TEST_DIR/apply.err")
expect_rc 0 "psql/sqlite3 applies the --sql output"
check "the schema has the script's table" test -n "$(printf '%s\n' "$online" | grep o_items)"
expect_eq "$offline" "$online" "the --sql output builds the schema the online upgrade built"

# ---- PostgreSQL: COPY FROM STDIN in a script is refused ----------------------------------
if [ "$DIALECT" = postgresql ]; then
  cat > migrations/eeee00000001_m.lua <<'LUA'
return {
  revision = "eeee00000001", down_revision = "dddd00000001", message = "copy",
  upgrade = function(db)
    db:exec_script("CREATE TABLE c_one (id integer);\nCOPY c_one FROM STDIN;\nCREATE TABLE c_two (id integer);")
  end,
  downgrade = function(db) end,
}
LUA
  rb upgrade head
  expect_rc 1 "COPY FROM STDIN in a script is refused"
  expect_one_error_line "COPY refusal"
  expect_err_has "statement 2: COPY ... FROM STDIN cannot run in a script" "the refusal names the statement"
  check "the refused script left nothing" test "$(table_exists c_one && echo yes)" != yes
  rb current
  expect_rc 0 "the connection is usable after the refusal"
fi

# ---- PostgreSQL through PgBouncer in transaction mode: a script is one transaction --------
bouncer=$(command -v pgbouncer || echo /usr/sbin/pgbouncer)
if [ "$DIALECT" = postgresql ] && [ -x "$bouncer" ] && [ "$(id -u)" = 0 ]; then
  . "$SRC/scripts/pg-test-server.sh"
  new_db
  bdir=$(mktemp -d /tmp/rbacmig-bouncer.XXXXXX)
  bport=$(pg_test_free_port)
  pgport=${RBACMIG_TEST_PG_URL##*:}; pgport=${pgport%%/*}
  cat > "$bdir/pgbouncer.ini" <<INI
[databases]
pooled = host=127.0.0.1 port=$pgport dbname=$DB_NAME
[pgbouncer]
listen_addr = 127.0.0.1
listen_port = $bport
unix_socket_dir =
auth_type = trust
auth_file = $bdir/users.txt
pool_mode = transaction
max_client_conn = 20
default_pool_size = 4
logfile = $bdir/pgbouncer.log
pidfile = $bdir/pgbouncer.pid
INI
  echo '"postgres" ""' > "$bdir/users.txt"
  chown -R postgres: "$bdir"
  (cd / && runuser -u postgres -- "$bouncer" -d "$bdir/pgbouncer.ini")
  sleep 0.5
  pooled="postgresql://postgres@127.0.0.1:$bport/pooled"
  rm -f migrations/*
  cat > migrations/ffff00000001_m.lua <<'LUA'
return {
  revision = "ffff00000001", down_revision = nil, message = "pooled",
  upgrade = function(db)
    db:exec_script("CREATE TABLE p_one (id integer);\nINSERT INTO p_one VALUES (1);\n" ..
                   (os.getenv("BREAK") and "INSERT INTO p_nope VALUES (1);\n" or "") ..
                   "CREATE TABLE p_two (id integer);")
  end,
  downgrade = function(db) db:exec_script("DROP TABLE p_two; DROP TABLE p_one;") end,
}
LUA
  BREAK=1 rb -d "$pooled" upgrade head
  expect_rc 1 "a failing script through the pooler"
  expect_err_has "script:3: statement 3:" "the pooler's error names the statement"
  check "through the pooler the failed script left nothing" test "$(table_exists p_one && echo yes)" != yes
  rb -d "$pooled" upgrade head
  expect_rc 0 "a script through the pooler"
  check "through the pooler the script's tables are there" table_exists p_two
  expect_eq "$(sql "SELECT count(*) FROM p_one")" 1 "through the pooler the script's row is there"
  kill "$(cat "$bdir/pgbouncer.pid")" 2>/dev/null
  rm -rf "$bdir"
fi

# ---- refused before anything runs: what would end the migration's transaction, or COPY
# FROM STDIN, whose rows a script cannot carry (offline, psql would read the next lines as
# them). Found by the SQL scanner before the script is sent: one error line naming the file,
# the line and the statement, the database as it was, and no broken --sql output.
new_db
rm -f migrations/*
rb revision -m "tx" --rev-id 99aa00000001 --sql
expect_rc 0 "revision --sql for the refusals"
tx_up=migrations/99aa00000001_tx.up.sql
refused_in_script() { # refused_in_script STATEMENT MESSAGE
  new_db
  printf -- '-- line 1\nCREATE TABLE k_one (id integer);\n/* a comment; */\n%s;\nCREATE TABLE k_two (id integer);\n' "$1" > "$tx_up"
  rb upgrade head
  expect_rc 1 "'$1' in a script is refused"
  expect_one_error_line "'$1' in a script"
  expect_err_has "$tx_up:4: statement 2: $2" "the refusal of '$1' names the file, line 4 and statement 2"
  check "'$1': the statement before it did not stay" test "$(table_exists k_one && echo yes)" != yes
  check "'$1': the statement after it did not run" test "$(table_exists k_two && echo yes)" != yes
  rb current
  expect_not_in_output "99aa00000001" "'$1': no version recorded"
  rb upgrade head --sql
  expect_rc 1 "'$1' in a script is refused under --sql"
  expect_one_error_line "'$1' in a script under --sql"
  expect_err_has "$tx_up:4: statement 2: $2" "under --sql the refusal of '$1' names the file and line"
}
refused_in_script "COMMIT" "COMMIT cannot run in a migration's script"
refused_in_script "  rollback work" "ROLLBACK cannot run in a migration's script"
refused_in_script "END TRANSACTION" "END cannot run in a migration's script"
refused_in_script "BEGIN" "BEGIN cannot run in a migration's script"
refused_in_script "START TRANSACTION" "START TRANSACTION cannot run in a migration's script"
refused_in_script "COPY k_one (id) FROM STDIN" "COPY ... FROM STDIN cannot run in a script"
refused_in_script "COPY k_one TO stdout" "COPY ... TO STDOUT cannot run in a script"
# Inline, the line is the script's.
cat > migrations/99aa00000001_tx.lua <<'LUA'
return {
  revision = "99aa00000001", down_revision = nil, message = "tx inline",
  upgrade = function(db)
    db:exec_script("CREATE TABLE k_one (id integer);\nCOMMIT;")
  end,
  downgrade = function(db) end,
}
LUA
rb upgrade head
expect_rc 1 "COMMIT in an inline script is refused"
expect_err_has "script:2: statement 2: COMMIT cannot run" "the inline refusal names line 2"
check "the inline refusal left nothing" test "$(table_exists k_one && echo yes)" != yes
# What only looks like it runs: words in strings, comments and bodies, savepoints, a
# trigger's (SQLite) or a function's (PostgreSQL: BEGIN ATOMIC) BEGIN ... END holding ';'.
if [ "$DIALECT" = postgresql ]; then
  body="CREATE FUNCTION k_sign(n integer) RETURNS integer LANGUAGE sql BEGIN ATOMIC
  SELECT CASE WHEN n < 0 THEN -1 ELSE 1 END;
END;"
else
  body="CREATE TRIGGER k_t AFTER INSERT ON k_one BEGIN
  UPDATE k_one SET id = CASE WHEN NEW.id < 0 THEN -1 ELSE NEW.id END WHERE id = NEW.id;
END;"
fi
cat > migrations/99aa00000001_tx.lua <<LUA
return {
  revision = "99aa00000001", down_revision = nil, message = "tx look-alikes",
  upgrade = function(db)
    db:exec_script([==[
CREATE TABLE k_one (id integer); -- COMMIT;
/* ROLLBACK; */ CREATE TABLE k_log (what text DEFAULT 'COMMIT; COPY x FROM STDIN');
SAVEPOINT k_sp;
INSERT INTO k_one VALUES (7);
ROLLBACK TO SAVEPOINT k_sp;
RELEASE k_sp;
$body
CREATE TABLE k_two (id integer)]==])
  end,
  downgrade = function(db) end,
}
LUA
rb upgrade head
expect_rc 0 "look-alikes of COMMIT, BEGIN ... END and COPY run"
check "the look-alikes' last table is there" table_exists k_two
expect_eq "$(sql "SELECT count(*) FROM k_one")" 0 "ROLLBACK TO SAVEPOINT rolled back to it"
# A migration that runs outside a transaction (transactional = false) may open its own.
cat > migrations/99bb00000001_m.lua <<'LUA'
return {
  revision = "99bb00000001", down_revision = "99aa00000001", message = "own transaction",
  transactional = false,
  upgrade = function(db) db:exec_script("BEGIN; CREATE TABLE k_own (id integer); COMMIT;") end,
  downgrade = function(db) end,
}
LUA
rb upgrade head
expect_rc 0 "BEGIN and COMMIT in a transactional = false migration's script run"
check "its own transaction committed" table_exists k_own
rm -f migrations/99aa* migrations/99bb*

# ---- both methods are annotated for editors and documented ------------------------------
for m in exec_script exec_file; do
  check "db.meta.lua annotates $m" grep -q "function Db:$m(" "$SRC/lua/rbacmig/db.meta.lua"
  check "docs/schema-api.md documents $m" grep -q "### \`db:$m(" "$SRC/docs/schema-api.md"
done

finish
