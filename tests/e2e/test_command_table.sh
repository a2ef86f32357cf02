#!/usr/bin/env bash
# The command table's flags, seen from outside: the RBAC commands that only read (can,
# tenant list, member list) answer while another session holds the migration lock, where
# tenant create waits for it and times out; they never write (a read-only SQLite file is
# enough); global options that do not apply to a command are refused before connecting;
# and `COMMAND --help` is generated from the table.
. "$(dirname "$0")/lib.sh"
new_db
cp -r "$SRC/migrations" "$SRC/rbac" .

owner=123e4567-e89b-42d3-a456-426614174000
rb upgrade 91759229c32b
expect_rc 0 "upgrade to the RBAC tables"
rb seed
expect_rc 0 "seed"
rb tenant create acme --owner $owner
expect_rc 0 "tenant create acme"

# rb_bounded ARGS...: rb, but a run that waits for a lock it should not take fails (exit
# 124) instead of hanging the suite.
rb_bounded() {
  OUT=$(timeout 20 "$RBACMIG" "$@" 2>"$TEST_DIR/.stderr")
  RC=$?
  ERR=$(cat "$TEST_DIR/.stderr")
}

# ---- the migration lock held by another session ---------------------------------------
# The holder reads its statements from a FIFO, so it stays in its transaction until told.
# SQLite's migration lock is the write lock (BEGIN IMMEDIATE); PostgreSQL's is the advisory
# lock on the key of the version table (src/versions.c: FNV-1a of "public.rbacmig_version",
# computed here in Lua; tenant create timing out below proves the key is the right one).
lock_key() {
  lua5.4 -e '
    local h = -3750763034362895579 -- 14695981039346656037 as a signed 64-bit integer
    for c in ("public.rbacmig_version"):gmatch(".") do h = (h ~ c:byte()) * 1099511628211 end
    io.write(h & 0x7fffffffffffffff)'
}
mkfifo "$TEST_DIR/holder.in"
if [ "$DIALECT" = postgresql ]; then
  "$PSQL" -X -q -At -d "$DB_URL" < "$TEST_DIR/holder.in" > "$TEST_DIR/holder.out" 2>&1 &
  HOLDER=$!
  exec 3> "$TEST_DIR/holder.in"
  printf 'BEGIN;\nSELECT pg_advisory_xact_lock(%s);\nSELECT %s;\n' "$(lock_key)" "'locked'" >&3
else
  sqlite3 "$DB_FILE" < "$TEST_DIR/holder.in" > "$TEST_DIR/holder.out" 2>&1 &
  HOLDER=$!
  exec 3> "$TEST_DIR/holder.in"
  printf "BEGIN IMMEDIATE;\nSELECT 'locked';\n" >&3
fi
for _ in $(seq 1 100); do
  grep -q locked "$TEST_DIR/holder.out" 2>/dev/null && break
  sleep 0.1
done
check "the other session holds the lock" grep -q locked "$TEST_DIR/holder.out"

rb_bounded --lock-timeout 1 tenant create blocked
expect_rc 1 "tenant create waits for the held lock"
expect_err_has "timed out" "tenant create gives up after --lock-timeout"
rb_bounded can --tenant acme --user $owner projects.read
expect_rc 0 "can answers while the lock is held"
expect_out "allowed (owner)" "can's answer"
rb_bounded tenant list
expect_rc 0 "tenant list answers while the lock is held"
expect_out_has "acme" "tenant list's answer"
rb_bounded member list --tenant acme
expect_rc 0 "member list answers while the lock is held"
expect_out "$owner	owner" "member list's answer"

printf 'ROLLBACK;\n' >&3
exec 3>&-
wait "$HOLDER"
rb_bounded --lock-timeout 5 tenant create blocked
expect_rc 0 "tenant create runs once the lock is free"

# ---- read-only means read-only ---------------------------------------------------------
# (root writes to a file whatever its mode: there the lock test above must do.)
if [ "$DIALECT" = sqlite ] && [ "$(id -u)" != 0 ]; then
  chmod 444 "$DB_FILE"
  rb can --tenant acme --user $owner projects.read
  expect_rc 0 "can on a read-only SQLite file"
  rb tenant list
  expect_rc 0 "tenant list on a read-only SQLite file"
  rb member list --tenant acme
  expect_rc 0 "member list on a read-only SQLite file"
  rb tenant delete blocked
  expect_rc 1 "tenant delete needs to write"
  chmod 644 "$DB_FILE"
fi

# ---- options that do not apply to the command, refused before connecting ---------------
DATABASE_URL_SAVED=$DATABASE_URL
export DATABASE_URL="postgresql://nobody@127.0.0.1:1/down?connect_timeout=2"
refused() { # refused EXPECTED_ERR ARGS...
  local want=$1
  shift
  rb "$@"
  expect_rc 2 "'$*' is a usage error"
  expect_one_error_line "'$*'"
  expect_err_has "$want" "'$*' names the option and the command"
  expect_not_in_output "database:" "'$*' is refused before connecting"
}
refused "'can' does not take --lock-timeout" --lock-timeout 1 can --tenant a --user $owner p.q
refused "'tenant list' does not take --db-lock-timeout" --db-lock-timeout 1 tenant list
refused "'heads' does not take --database-url" -d "$DATABASE_URL" heads
refused "'revision' does not take -x" -x k=v revision -m x
refused "'tenant create' does not take --tenant" tenant create x --tenant y
refused "'member list' does not take --role" member list --tenant a --role r
refused "'can' does not take --sql" can --sql --tenant a --user $owner p.q
refused "'tenant list' does not take --lock-timeout (it takes no lock)" tenant list --lock-timeout 1
refused "'member add' needs --user" member add --tenant a --role r
export DATABASE_URL=$DATABASE_URL_SAVED

# ---- --help from the table -------------------------------------------------------------
rb can --help
expect_rc 0 "can --help"
expect_out_has "usage: rbacmig can --tenant SLUG --user USER_ID [--format text|json] PERMISSION" "can's synopsis"
expect_out_has "--tenant SLUG" "can's options"
rb member remove --help
expect_rc 0 "member remove --help"
expect_out_has "usage: rbacmig member remove --tenant SLUG --user USER_ID [--role ROLE]" \
  "an optional option in brackets"
rb tenant --help
expect_rc 0 "tenant --help"
expect_out_has "rbacmig tenant delete SLUG" "every subcommand listed"
rb seed --help
expect_rc 0 "seed --help"
expect_out_has "usage: rbacmig seed [--tenant SLUG]... [--prune] [--sql]" "a repeatable option"

finish
