#!/usr/bin/env bash
# The runner's bookkeeping as a user sees it: `repair` after an applied migration was edited,
# `upgrade --allow-changed`, step lines printed when a step starts (and its time when it
# ends), what a failure under --single-transaction undid, the history rows of `stamp base`,
# and version tables whose quoted names are as long as PostgreSQL allows.
. "$(dirname "$0")/lib.sh"
new_db

migration aaaa00000001 "" "db:exec('CREATE TABLE r1 (id integer)')" "db:exec('DROP TABLE r1')"
migration aaaa00000002 aaaa00000001 "db:exec('CREATE TABLE r2 (id integer)')" "db:exec('DROP TABLE r2')"
migration aaaa00000003 aaaa00000002 "db:exec('CREATE TABLE r3 (id integer)')" "db:exec('DROP TABLE r3')"
rb upgrade aaaa00000002
expect_rc 0 "upgrade to aaaa00000002"

history_rows() { sql "SELECT id, revision, direction, checksum, success FROM rbacmig_history ORDER BY id"; }
old1=$(sql "SELECT checksum FROM rbacmig_history WHERE revision = 'aaaa00000001' AND direction = 'upgrade'")
user1=$(sql "SELECT coalesce(db_user, '') FROM rbacmig_history WHERE revision = 'aaaa00000001' AND direction = 'upgrade'")

# ---- an applied file gets a comment: upgrade refuses, check fails -----------------------
printf '\n-- a comment added after it ran\n' >> migrations/aaaa00000001_m.lua
new1=$(sha256sum migrations/aaaa00000001_m.lua | cut -d' ' -f1)
rb upgrade head
expect_rc 1 "upgrade refuses to build on an edited applied file"
expect_one_error_line "refusal"
expect_err_has "migrations/aaaa00000001_m.lua" "refusal names the file"
expect_err_has "rbacmig repair" "refusal points to repair"
check "refusal ran nothing" test "$(table_exists r3 && echo yes)" != yes
rb check
expect_rc 1 "check fails on the edited file"
expect_out_has "changed: migrations/aaaa00000001_m.lua" "check names the edited file"

# ---- repair --dry-run lists and changes nothing -------------------------------------------
before_history=$(history_rows)
before_versions=$(sql "SELECT version_num FROM rbacmig_version")
rb repair --dry-run
expect_rc 0 "repair --dry-run"
expect_out_has "aaaa00000001" "dry run lists the revision"
expect_out_has "migrations/aaaa00000001_m.lua" "dry run names the file"
expect_out_has "$old1" "dry run shows the recorded checksum"
expect_out_has "$new1" "dry run shows the file's checksum"
expect_out_has "would record" "dry run says what it would do"
expect_not_in_output "aaaa00000002_m.lua" "an unchanged file is not listed"
expect_eq "$(history_rows)" "$before_history" "dry run wrote no history row"
expect_eq "$(sql "SELECT version_num FROM rbacmig_version")" "$before_versions" "dry run left the version"
rb check
expect_rc 1 "check still fails after a dry run"

# ---- repair records the new checksum and nothing else -----------------------------------
rb repair
expect_rc 0 "repair"
expect_out_has "migrations/aaaa00000001_m.lua" "repair names the file"
expect_out_has "$old1" "repair shows the old checksum"
expect_out_has "$new1" "repair shows the new checksum"
[ -n "$user1" ] && expect_out_has "by $user1" "repair says who applied it"
expect_out_has "upgrade" "repair says how the old checksum was recorded"
expect_eq "$(sql "SELECT count(*) FROM rbacmig_history")" "$(($(echo "$before_history" | wc -l) + 1))" "repair wrote one history row"
expect_eq "$(sql "SELECT revision || ' ' || direction || ' ' || checksum FROM rbacmig_history ORDER BY id DESC LIMIT 1")" \
  "aaaa00000001 repair $new1" "the row records the new checksum as a repair"
expect_eq "$(sql "SELECT count(*) FROM rbacmig_history WHERE direction = 'repair' AND success")" 1 "the repair row is a success"
expect_eq "$(sql "SELECT version_num FROM rbacmig_version")" "$before_versions" "repair left the version"
check "repair ran no migration" test "$(table_exists r3 && echo yes)" != yes
rb check
expect_rc 0 "check is clean after repair"
expect_out_has "ok:" "check says ok"
rb repair
expect_rc 0 "repair with nothing to do"
expect_out_has "nothing to repair" "repair says there is nothing to do"
expect_eq "$(sql "SELECT count(*) FROM rbacmig_history WHERE direction = 'repair'")" 1 "a no-op repair writes nothing"
rb repair extra
expect_rc 2 "repair takes no argument"
rb upgrade head
expect_rc 0 "upgrade proceeds after repair"
check "r3 created" table_exists r3

# ---- --allow-changed runs, warns, and records nothing ------------------------------------
printf '\n-- edited too\n' >> migrations/aaaa00000002_m.lua
migration aaaa00000004 aaaa00000003 "db:exec('CREATE TABLE r4 (id integer)')" "db:exec('DROP TABLE r4')"
rb upgrade --allow-changed head
expect_rc 0 "--allow-changed runs anyway"
check "r4 created" table_exists r4
expect_err_has "migrations/aaaa00000002_m.lua" "--allow-changed names the edited file"
expect_err_has "rbacmig repair" "--allow-changed says how to accept the edit"
rb check
expect_rc 1 "--allow-changed did not accept the edit"
rb repair
expect_rc 0 "repair after --allow-changed"
rb check
expect_rc 0 "check clean again"

# ---- a step's line is printed when it starts, its time when it ends ---------------------
migration aaaa00000005 aaaa00000004 "db:exec('CREATE TABLE r5 (id integer)')" "db:exec('DROP TABLE r5')"
migration aaaa00000006 aaaa00000005 "db:exec('CREATE TABLE r6 (id integer)'); error('boom in six')" "db:exec('DROP TABLE r6')"
OUT=$("$RBACMIG" upgrade head 2>&1)
RC=$?
ERR=$OUT
expect_rc 1 "a failing step"
expect_out_has "Running upgrade aaaa00000004 -> aaaa00000005, step aaaa00000005" "the good step is announced"
expect_out_has "Running upgrade aaaa00000005 -> aaaa00000006, step aaaa00000006" "the failing step is announced before it fails"
running_line=$(echo "$OUT" | grep -n '^Running upgrade aaaa00000005 -> aaaa00000006' | cut -d: -f1)
error_line=$(echo "$OUT" | grep -n '^rbacmig: error:' | cut -d: -f1)
check "the step line comes before the error ($running_line < $error_line)" test "${running_line:-99}" -lt "${error_line:-0}"
check "the good step's time is printed when it ends" \
  bash -c 'echo "$1" | grep -A1 "^Running upgrade aaaa00000004 -> aaaa00000005" | tail -1 | grep -Eq "^  done in [0-9]+ ms$"' _ "$OUT"
check "no time for the failed step" \
  test "$(echo "$OUT" | grep -A1 '^Running upgrade aaaa00000005 -> aaaa00000006' | tail -1 | grep -c 'done in')" = 0
expect_eq "$(sql "SELECT version_num FROM rbacmig_version")" aaaa00000005 "the good step stays"

# ---- --single-transaction: a failure says the earlier steps went too ---------------------
rb downgrade aaaa00000004
expect_rc 0 "back to aaaa00000004"
rb upgrade --single-transaction head
expect_rc 1 "a failing step under --single-transaction"
expect_one_error_line "single-transaction failure"
expect_err_has "boom in six" "the cause is kept"
expect_err_has "rolled back" "the error says what was rolled back"
expect_err_has "aaaa00000005" "the error names the earlier step"
expect_err_has "--single-transaction" "the error says why"
expect_eq "$(sql "SELECT version_num FROM rbacmig_version")" aaaa00000004 "the whole run was undone"
check "the earlier step's table is gone" test "$(table_exists r5 && echo yes)" != yes
rm migrations/aaaa00000006_m.lua

# A step that runs for long is named while it runs: the line is there before it ends, and a
# SIGTERM then says what --single-transaction undid.
migration aaaa00000006 aaaa00000005 "while true do end" ""
"$RBACMIG" upgrade --single-transaction head >long.out 2>long.err &
pid=$!
for _ in $(seq 1 100); do
  grep -q '^Running upgrade aaaa00000005 -> aaaa00000006' long.out && break
  sleep 0.1
done
check "the running step is announced while it runs" grep -q '^Running upgrade aaaa00000005 -> aaaa00000006' long.out
kill -TERM "$pid"
wait "$pid"
RC=$?
OUT=$(cat long.out)
ERR=$(cat long.err)
expect_rc 143 "SIGTERM under --single-transaction"
expect_err_has "rolled back the 1 step before it (aaaa00000005)" "the interruption names the earlier step"
expect_err_has "the revision it was at before the command" "and where the database is"
expect_eq "$(sql "SELECT version_num FROM rbacmig_version")" aaaa00000004 "the whole run was undone"
rm migrations/aaaa00000006_m.lua

# ---- stamp base: its history rows say the revisions were removed -------------------------
rb stamp base
expect_rc 0 "stamp base"
expect_eq "$(sql "SELECT count(*) FROM rbacmig_version")" 0 "stamped to base"
last=$(sql "SELECT max(id) FROM rbacmig_history WHERE direction <> 'unstamp'")
expect_eq "$(sql "SELECT count(*) FROM rbacmig_history WHERE id > $last")" 4 "stamp base wrote a row per removed revision"
expect_eq "$(sql "SELECT count(*) FROM rbacmig_history WHERE id > $last AND direction = 'unstamp' AND success")" 4 "each says unstamp"
rb stamp aaaa00000002
expect_rc 0 "stamp a revision"
expect_eq "$(sql "SELECT revision || ' ' || direction FROM rbacmig_history ORDER BY id DESC LIMIT 1")" "aaaa00000002 stamp" "stamping to a revision says stamp"
rb check
expect_rc 0 "check after stamps"

# ---- quoted names as long as PostgreSQL allows --------------------------------------------
if [ "$DIALECT" = postgresql ]; then
  new_db
  long=$(printf '"%.0s' $(seq 1 63))
  cat > rbacmig.lua <<'LUA'
return { version_table = ('"'):rep(63), history_table = ('"'):rep(62) .. "h", schema = ('"'):rep(63) }
LUA
  rb upgrade head
  expect_rc 0 "upgrade with 63-quote names"
  expect_eq "$(sql "SELECT version_num FROM \"${long//\"/\"\"}\".\"${long//\"/\"\"}\"")" aaaa00000005 "the version table is right"
  rb downgrade aaaa00000003
  expect_rc 0 "downgrade with 63-quote names"
  rb repair
  expect_rc 0 "repair with 63-quote names"
  rm rbacmig.lua
fi

# ---- a failure always says what failed --------------------------------------------------
# `upgrade --sql START:END` copies START with strndup; when that failed, rbacmig exited 1
# printing nothing. A preloaded strndup that fails for "base" provokes it (not under ASan,
# which must come first among the preloaded libraries).
if [ "$DIALECT" = sqlite ] && ! ldd "$RBACMIG" 2>/dev/null | grep -q libasan &&
   cat > failing_strndup.c <<'C' && ${CC:-cc} -shared -fPIC -o failing_strndup.so failing_strndup.c 2>/dev/null; then
#include <stdlib.h>
#include <string.h>
char *strndup(const char *s, size_t n)
{
    size_t len = strnlen(s, n);
    if (len == 4 && memcmp(s, "base", 4) == 0)
        return NULL;
    char *d = malloc(len + 1);
    if (d) {
        memcpy(d, s, len);
        d[len] = '\0';
    }
    return d;
}
C
  OUT=$(LD_PRELOAD="$TEST_DIR/failing_strndup.so" "$RBACMIG" upgrade --sql base:head 2>"$TEST_DIR/.stderr")
  RC=$?
  ERR=$(cat "$TEST_DIR/.stderr")
  expect_rc 1 "a failed allocation exits 1"
  expect_one_error_line "a failed allocation is reported"
  expect_err_has "out of memory" "and says what failed"
fi

finish
