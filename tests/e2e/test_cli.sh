#!/usr/bin/env bash
# The command line as a user meets it: what each migration command takes and refuses (before
# connecting, exit 2), global options in both spellings, output that could not be written,
# messages that cannot become code, merge of `heads`, init with a configured directory,
# `current` in history and show, reversed ranges, and hints at merge points.
. "$(dirname "$0")/lib.sh"
new_db

# A database nobody can reach: a usage error must be found before connecting to it.
UNREACHABLE="postgresql://nobody@127.0.0.1:1/none?connect_timeout=2"

migration aaaa00000001 "" "db:exec('CREATE TABLE t1 (id integer)')" "db:exec('DROP TABLE t1')"
migration aaaa00000002 aaaa00000001 "db:exec('CREATE TABLE t2 (id integer)')" "db:exec('DROP TABLE t2')"

# lua_eval FILE EXPR: EXPR evaluated with `m` the table FILE returns (a migration file).
lua_eval() {
  F=$1 lua5.4 -e "local m = dofile(os.getenv('F')); io.write(tostring($2))"
}

# ---- item 16: every command rejects what it does not take, before connecting ------------
refused() { # refused DESCRIPTION ARGS...: exit 2 with an unreachable database, one error line
  local what=$1
  shift
  rb -d "$UNREACHABLE" "$@"
  expect_rc 2 "$what"
  expect_one_error_line "$what"
  expect_not_in_output "database: " "$what: refused before connecting"
}
refused "stamp --single-transaction" stamp --single-transaction head
refused "stamp --allow-changed" stamp --allow-changed head
refused "upgrade --purge" upgrade --purge head
refused "downgrade --purge" downgrade --purge base
refused "check -r" check -r 1:2
refused "check ARG" check extra
refused "show -r" show -r x aaaa00000001
refused "current -r" current -r x
refused "heads -r" heads -r x
refused "heads ARG" heads extra
refused "branches -r" branches -r x
refused "branches ARG" branches extra
refused "revision --sql" revision -m x --sql
refused "upgrade --sql=yes: a flag takes no value" upgrade --sql=yes head
refused "upgrade with two targets" upgrade head aaaa00000001
refused "history -r without a colon" history -r head
refused "unknown global option" --frobnicate upgrade head
refused "global option without its value" upgrade head --lock-timeout
refused "a global option's bad value" --lock-timeout=soon upgrade head
expect_err_has "soon" "the bad value is named"
# A global option that does not apply to the command is refused too (issue 13).
refused "--lock-timeout for current, which takes no lock" --lock-timeout 5 current
expect_err_has "'current' does not take --lock-timeout" "the option and the command are named"
# A global option after the command works as before it (issue 16: one rule, anywhere), and
# is refused the same way where it does not apply.
refused "--lock-timeout after current, which takes no lock" current --lock-timeout 5
expect_err_has "'current' does not take --lock-timeout (it takes no lock)" "after the command too"
rb upgrade --sql base:head --lock-timeout 5 -x k=v
expect_rc 0 "global options after the command"

# Global options in both spellings.
cat > other.lua <<'LUA'
return { migrations = "migrations" }
LUA
rb --config=other.lua heads
expect_rc 0 "--config=FILE"
expect_out_has "aaaa00000002" "--config=FILE reads the file"
rb --config other.lua heads
expect_rc 0 "--config FILE"
rb -cother.lua heads
expect_rc 0 "-cFILE"
rb --lock-timeout=5 --db-lock-timeout=3 --statement-timeout=2 upgrade --sql base:head
expect_rc 0 "--lock-timeout=5 and friends"
rb --lock-timeout 5 upgrade --sql base:head
expect_rc 0 "--lock-timeout 5"
rb --database-url="$DB_URL" current
expect_rc 0 "--database-url=URL"
rb -d "$DB_URL" current
expect_rc 0 "-d URL"

# A value is a value: the word true, a leading dash after =, and 4000 bytes.
rb revision -m true --rev-id bbbb00000001
expect_rc 0 "revision -m true"
expect_eq "$(lua_eval migrations/bbbb00000001_true.lua m.message)" "true" \
  "the message 'true' is a message"
long=$(head -c 4000 /dev/zero | tr '\0' 'x')
rb revision -m "$long" --rev-id bbbb00000002
expect_rc 0 "revision -m with 4000 bytes"
expect_eq "$(lua_eval migrations/bbbb00000002_*.lua '#m.message')" 4000 \
  "a long message is not cut"
rm -f migrations/bbbb0000000*

# ---- item 4: a message can never become code --------------------------------------------
evil=$'x\nos.exit(7)\r error("ran") --\tz\033[2J'
rb revision -m "$evil" --rev-id cccc00000001
expect_rc 0 "revision with control characters in its message"
file=$(ls migrations/cccc00000001_*.lua)
header=$(sed -n '1,/^return {/p' "$file" | sed '$d')
check "every header line is a comment or empty" \
  test -z "$(printf '%s\n' "$header" | tr '\r' '\n' | grep -v -e '^--' -e '^$')"
check "no carriage return or escape in the file" test -z "$(tr -d -c '\r\033' < "$file")"
expect_eq "$(lua_eval "$file" m.message)" "$evil" "message = keeps it exactly"
rb heads
expect_rc 0 "heads loads the file"
expect_not_in_output "ran" "the comment did not run"
rb history
expect_rc 0 "history loads the file"
expect_eq "$(printf '%s' "$OUT" | grep -c 'os.exit')" 1 "the message is one line in history"
check "history prints no raw control characters" test -z "$(printf '%s' "$OUT" | tr -d -c '\r\033')"
rb upgrade --sql cccc00000001
expect_rc 0 "upgrade --sql of the revision"
check "the step line prints no raw control characters" test -z "$(printf '%s' "$ERR" | tr -d -c '\r\033')"
expect_eq "$(printf '%s\n' "$ERR" | grep -c 'os.exit')" 1 "the message is one line in the step line"
rm -f "$file"

# ---- item 12: output that could not be written is a failure -----------------------------
if [ -w /dev/full ]; then
  full_fails() { # full_fails DESCRIPTION ARGS...
    local what=$1
    shift
    "$RBACMIG" "$@" > /dev/full 2> "$TEST_DIR/.stderr"
    RC=$?
    OUT=""
    ERR=$(cat "$TEST_DIR/.stderr")
    expect_rc 1 "$what > /dev/full"
    expect_err_has "cannot write to standard output" "$what > /dev/full"
  }
  full_fails "upgrade --sql base:head" upgrade --sql base:head
  full_fails "history" history
  full_fails "heads" heads
  full_fails "--help" --help
  full_fails "--version" --version
  full_fails "upgrade --help" upgrade --help
  rb current
  expect_out "" "nothing was applied by the failed runs"
fi

# ---- item 14: merge -m MSG heads --------------------------------------------------------
migration aaaa00000003 aaaa00000001 "db:exec('CREATE TABLE t3 (id integer)')" "db:exec('DROP TABLE t3')"
rb merge -m "join" --rev-id dddd00000001 heads
expect_rc 0 "merge -m MSG heads"
expect_eq "$(lua_eval migrations/dddd00000001_join.lua '(function() table.sort(m.down_revision) return table.concat(m.down_revision, ",") end)()')" \
  "aaaa00000002,aaaa00000003" "merge of heads names both heads"
rm -f migrations/dddd00000001_join.lua
rb merge -m "join" --rev-id dddd00000002 --branch-label joined heads
expect_rc 0 "merge --branch-label"
expect_eq "$(lua_eval migrations/dddd00000002_join.lua 'm.branch_labels[1]')" \
  "joined" "merge keeps its branch label"
rm -f migrations/dddd00000002_join.lua
rb merge -m "join" --head aaaa00000002 heads
expect_rc 2 "merge --head is refused"
rb merge -m "join" --depends-on aaaa00000002 heads
expect_rc 2 "merge --depends-on is refused"
rb merge -m "join" aaaa00000002
expect_rc 2 "merge of one revision"
rb merge heads
expect_rc 2 "merge without a message"
check "no merge file was left behind" test -z "$(ls migrations | grep -v '^aaaa')"

# ---- item 19: downgrade -1 at a merge point gives a hint --------------------------------
rb merge -m "join" --rev-id dddd00000003 heads
rb upgrade head
expect_rc 0 "upgrade through the merge"
rb downgrade -1
expect_rc 2 "downgrade -1 at a merge point"
expect_err_has "aaaa00000002" "the hint names one parent"
expect_err_has "aaaa00000003" "the hint names the other parent"
expect_err_has "rbacmig downgrade" "the hint says what to run"

# ---- item 19: history -r and show take current; reversed ranges are refused -------------
rb show current
expect_rc 0 "show current"
expect_out_has "Rev: dddd00000003" "show current shows the applied revision"
rb downgrade aaaa00000002
expect_rc 0 "downgrade to one side"
rb history -r current:head
expect_rc 0 "history -r current:head"
expect_out_has "aaaa00000002" "current:head includes current"
expect_out_has "dddd00000003" "current:head includes the head"
expect_not_in_output "-> aaaa00000001" "current:head leaves out what is older"
rb history -r base:current
expect_rc 0 "history -r base:current"
expect_out_has "-> aaaa00000001" "base:current includes the root"
expect_not_in_output "dddd00000003" "base:current leaves out the head"
rb history -r head:base
expect_rc 2 "history -r head:base is reversed"
expect_err_has "base:head" "the error shows the order"
rb history -r dddd00000003:aaaa00000001
expect_rc 2 "history -r NEW:OLD is reversed"
rb downgrade base
rb show current
expect_rc 2 "show current with nothing applied"
expect_err_has "no revision" "says there is no current revision"
rb history -r base:head
expect_rc 0 "history -r base:head"
expect_eq "$(printf '%s\n' "$OUT" | wc -l | tr -d ' ')" 4 "base:head lists all four"

# ---- item 19: init writes the configured directory and says what it did -----------------
mkdir proj && cd proj || exit 1
cat > rbacmig.lua <<'LUA'
return { migrations = "db/migrations" }
LUA
rb init
expect_rc 0 "init with a config file"
check "init creates the configured migrations directory" test -d db/migrations
check "init does not create another one" test ! -e migrations
case "$OUT$ERR" in *"kept rbacmig.lua"*) pass ;; *) fail "init says it kept the config" ;; esac
case "$OUT$ERR" in *"created rbacmig.lua"*) fail "init claims a config it did not write" ;; *) pass ;; esac
expect_eq "$(cat rbacmig.lua)" 'return { migrations = "db/migrations" }' "config untouched"
rb revision -m first
expect_rc 0 "revision goes into the configured directory"
check "the revision is in db/migrations" test -n "$(ls db/migrations)"
cd .. || exit 1
mkdir p2 && printf 'return { migrations = "m2" }\n' > p2/rbacmig.lua
rb init p2
expect_rc 0 "init DIR with a config file"
check "init DIR creates DIR's configured directory" test -d p2/m2
check "init DIR creates no migrations/" test ! -e p2/migrations
rb init fresh
expect_rc 0 "init a new directory"
check "a new project has rbacmig.lua" test -f fresh/rbacmig.lua
check "a new project has migrations/" test -d fresh/migrations
case "$OUT$ERR" in *"created rbacmig.lua"*) pass ;; *) fail "init says what it created" ;; esac
rb init fresh
expect_rc 0 "init again"
case "$OUT$ERR" in *"created"*) fail "a second init claims to create files" ;; *) pass ;; esac

# ---- item 19: the test suite builds apart from the quick start --------------------------
# setup.sh builds build/ RelWithDebInfo for the user; test.sh must not reconfigure it.
setup_dir=$(sed -n 's/^cmake -S \. -B \([^ ]*\) .*/\1/p' "$SRC/scripts/setup.sh")
test_dir=$(sed -n 's/^build=\(.*\)$/\1/p' "$SRC/scripts/test.sh" | head -n 1)
expect_eq "$setup_dir" "build" "setup.sh builds build/"
check "test.sh builds elsewhere than build/ ($test_dir)" test -n "$test_dir" -a "$test_dir" != "$setup_dir"
check "test.sh's build directory is ignored by git" \
  git -C "$SRC" check-ignore -q "$test_dir/"

finish
