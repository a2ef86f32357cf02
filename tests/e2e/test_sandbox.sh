#!/usr/bin/env bash
# Migration code against the Lua host: signals that a pcall cannot swallow, a `db` handle kept
# past the end of its run, db:copy rows whose values come from metamethods, and the shared
# libraries of the sandbox. Each case checks the exit code, what is printed and the database.
. "$(dirname "$0")/lib.sh"

is_true() { [ "$DIALECT" = postgresql ] && echo t || echo 1; }

# signal_run SIG...: runs `rbacmig upgrade head` in the background and sends each SIG, one
# second apart; sets RC, MS (milliseconds from the last signal to the exit), OUT and ERR. A
# run that outlives its last signal by 10 s is killed (RC 137), so a hang fails instead of
# stalling the suite. (Polled, not a watchdog subshell: killing one may run lib.sh's cleanup.)
signal_run() {
  "$RBACMIG" upgrade head >run.out 2>run.err &
  local pid=$! start sig waited=0
  for sig in "$@"; do
    sleep 1
    start=$(date +%s%N)
    kill -"$sig" "$pid" 2>/dev/null
  done
  # A process that has exited but is not yet waited for is a zombie: state Z in /proc.
  local state
  while state=$(awk '{print $3}' "/proc/$pid/stat" 2>/dev/null) && [ -n "$state" ] &&
        [ "$state" != Z ]; do
    waited=$((waited + 1))
    [ "$waited" -ge 200 ] && { kill -KILL "$pid"; break; }
    sleep 0.05
  done
  wait "$pid"
  RC=$?
  MS=$(( ($(date +%s%N) - start) / 1000000 ))
  ERR=$(cat run.err)
  OUT=$(cat run.out)
}

# ---- 11. an interrupt stops a migration even through pcall --------------------------------
# The hook must stay armed: pcall catches the first "interrupted", the next instruction of
# the loop around it raises again. The step is rolled back, the exit code is the signal's.
loops=(
  'while true do pcall(function() while true do end end) end'
  'while true do xpcall(function() while true do end end, function(e) return e end) end'
  'while true do local ok = pcall(error, "x") end'
)
for sig in INT TERM; do
  code=$([ $sig = INT ] && echo 130 || echo 143)
  for body in "${loops[@]}"; do
    new_db
    rm -rf migrations
    migration aaaa00000001 "" "db:exec('CREATE TABLE half (id integer)')
    $body" ""
    signal_run $sig
    expect_eq "$RC" "$code" "SIG$sig stops [$body]"
    check "SIG$sig stops [$body] at once (${MS} ms)" test "$MS" -lt 3000
    expect_err_has "interrupted by SIG$sig: upgrade aaaa00000001 rolled back" "SIG$sig [$body] says so"
    check "SIG$sig [$body]: the step is rolled back" test "$(table_exists half && echo yes)" != yes
    expect_eq "$(sql 'SELECT count(*) FROM rbacmig_version' 2>/dev/null || echo 0)" 0 \
      "SIG$sig [$body]: the version is unchanged"
  done
done

# A second signal ends the process when the first cannot stop it: a finalizer runs with hooks
# off (lgc.c), so one that loops is out of the first signal's reach.
for sig in INT TERM; do
  code=$([ $sig = INT ] && echo 130 || echo 143)
  new_db
  rm -rf migrations
  migration aaaa00000002 "" "db:exec('CREATE TABLE half (id integer)')
    setmetatable({}, { __gc = function() while true do end end })
    local keep = {}
    for i = 1, 1e8 do keep[i % 1000] = { i } end" ""
  signal_run $sig $sig
  expect_eq "$RC" "$code" "a second SIG$sig ends a run the first could not stop"
  check "the second SIG$sig ends it at once (${MS} ms)" test "$MS" -lt 3000
  check "SIG$sig SIG$sig: nothing of the step is committed" test "$(table_exists half && echo yes)" != yes
done

# "interrupted" is what happened, never what a message says.
new_db
rm -rf migrations
migration aaaa00000003 "" "db:exec('CREATE TABLE half (id integer)'); error('interrupted! not really')" ""
rb upgrade head
expect_rc 1 "a migration's own error mentioning 'interrupted!' is a failure"
expect_err_has "interrupted! not really" "its message is shown"
expect_not_in_output "interrupted by" "it is not reported as a signal"
check "the failed step is rolled back" test "$(table_exists half && echo yes)" != yes

# ---- 9. a db handle kept past its run cannot reach the connection ----------------------------
# A module's table lives as long as the Lua state: a finalizer stored there runs when the state
# closes, after the command is over (and, before the fix, after the connection was freed).
new_db
rm -rf migrations lua
mkdir -p lua
echo 'return {}' > lua/keeper.lua
migration aaaa00000004 "" "db:exec('CREATE TABLE gc_log (x integer)')
    require('keeper').later = setmetatable({}, { __gc = function()
      db:exec('INSERT INTO gc_log VALUES (1)')
    end })" ""
rb upgrade head
expect_rc 0 "a migration that leaves a finalizer holding db succeeds"
expect_eq "$(sql 'SELECT count(*) FROM gc_log')" 0 "the finalizer could not write after the run"
expect_eq "$(sql 'SELECT version_num FROM rbacmig_version')" aaaa00000004 "the step is recorded"
rm -rf lua

# db:copy reads its rows raw: a row's __index never runs in the middle of a COPY, and no value
# is used after Lua could collect it (each __index result was a fresh string, popped before
# the row was sent, while the next column's __index made garbage for the collector: under
# ASan a heap-use-after-free).
if [ "$DIALECT" = postgresql ]; then
  new_db
  rm -rf migrations
  migration aaaa00000005 "" "db:exec('CREATE TABLE copied (id integer, a text, b text, c text)')
    local mt = { __index = function(_, k)
      local junk = {}
      for i = 1, 2000 do junk[i] = ('x'):rep(64) .. i end
      return ('fresh-'):rep(20) .. k
    end }
    local rows = {}
    for i = 1, 200 do rows[i] = setmetatable({ id = i, b = 'raw' .. i }, mt) end
    assert(db:copy('copied', { 'id', 'a', 'b', 'c' }, rows) == 200)" ""
  rb upgrade head
  expect_rc 0 "db:copy of rows with an __index"
  expect_eq "$(sql 'SELECT count(*) FROM copied WHERE a IS NULL AND c IS NULL')" 200 "values come from the rows themselves, raw"
  expect_eq "$(sql "SELECT count(*) FROM copied WHERE b = 'raw' || id")" 200 "raw values are copied intact"
fi

# ---- 10. the sandbox's libraries cannot be changed or bypassed --------------------------------
new_db
rm -rf migrations
migration aaaa00000006 "" "
    local _, state = pairs(string)
    pcall(function() state.rep = function() return 'tampered' end end)
    local _, os_state = pairs(os)
    pcall(function() os_state.getenv = function() return 'tampered' end end)
    db:exec('CREATE TABLE t (x text)')" ""
migration aaaa00000007 aaaa00000006 "
    db:exec('INSERT INTO t VALUES (\$1)', string.rep('x', 2))
    db:exec('INSERT INTO t VALUES (\$1)', ('y'):rep(2))
    db:exec('INSERT INTO t VALUES (\$1)', tostring(os.getenv('RBACMIG_SANDBOX_PROBE')))" ""
RBACMIG_SANDBOX_PROBE=probe rb upgrade head
expect_rc 0 "a migration that tries to write through pairs(string) and pairs(os)"
expect_eq "$(sql 'SELECT x FROM t ORDER BY x' | tr '\n' ' ')" "probe xx yy " \
  "the next migration sees the untouched libraries"

new_db
rm -rf migrations
migration aaaa00000008 "" "local f = assert(('').dump, 'no dump')(function() return 1 end)" ""
rb upgrade head
expect_rc 1 "('').dump is not reachable"
expect_err_has "no dump" "it is missing, not refused later"

finish
