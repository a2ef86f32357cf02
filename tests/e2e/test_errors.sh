#!/usr/bin/env bash
# How a server error reaches the user: one error line, then the server's fields each under its
# own label (SQLSTATE, DETAIL, HINT, STATEMENT, POSITION), so none is mistaken for another.
. "$(dirname "$0")/lib.sh"
if [ "$DIALECT" = sqlite ]; then
  echo "skipped: server error fields are PostgreSQL's"
  exit 77
fi
new_db
mkdir migrations
cat > migrations/aaaa00000001_bad.lua <<'LUA'
return { revision = "aaaa00000001", down_revision = nil, message = "bad",
  upgrade = function(db) db:exec("SELECT 1,\n  2,\n  nosuchcolumn FROM (SELECT 1) s") end,
  downgrade = function(db) end }
LUA
rb upgrade head
expect_rc 1 "a statement the server refuses"
expect_one_error_line "a statement the server refuses"
expect_err_has "SQLSTATE: 42703" "the SQLSTATE under its label"
expect_err_has "POSITION: line 3, character 3 of the statement" "the position under its own label, as a line and character"
case "$ERR" in *"DETAIL: position"*) fail "the position is not a DETAIL: $ERR" ;; *) pass ;; esac
expect_eq "$(sql "SELECT count(*) FROM information_schema.tables WHERE table_name = 'rbacmig_version'")" 0 \
  "the database is left as it was"
echo "$ERR" >finish2
finish
