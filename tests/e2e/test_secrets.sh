#!/usr/bin/env bash
# test_secrets.sh: passwords never printed in any form a URL can take; masking that leaves
# output holding no secret alone (the --sql script byte for byte); a set-but-empty
# DATABASE_URL refused; -c paths relative to the config file; a missing SQLite directory
# named. Issue 12, items 1, 2, 13 and 19. Everything here is offline or fails before
# connecting, so both dialects run the same checks.
. "$(dirname "$0")/lib.sh"

new_db
unset DATABASE_URL

# ---- item 1: no password printed, whatever libpq makes of the URL --------------------------
mkdir -p migrations
migration aaaa00000001 "" "db:exec('CREATE TABLE t1 (id integer)')" "db:exec('DROP TABLE t1')"

# url password-pieces...: `current` with that URL prints none of the pieces, in any stream.
expect_hidden() {
  local url=$1
  shift
  DATABASE_URL=$url rb current
  for piece in "$@"; do
    expect_not_in_output "$piece" "current with $url"
  done
}
# A '/' in a base64 password (libpq ends the userinfo there): a usage error, nothing shown.
expect_hidden 'postgresql://app_user:Xk9/q+Zr2Lm=@db.example.internal:5432/postgres' Xk9 q+Zr2Lm
expect_rc 2 "a '/' in the password is refused before connecting"
expect_err_has "postgresql://****@db.example.internal:5432/postgres" "masked to the last '@'"
expect_err_has "%2F" "the error says how to write the password"
# A raw '@' in the password.
expect_hidden 'postgresql://app_user:p@ssw0rd@127.0.0.1:1/postgres' ssw0rd 'p@ss'
expect_rc 2 "a raw '@' in the password is refused before connecting"
# Double quotes, upper-case keys: libpq refuses the string, which is not echoed.
expect_hidden 'host=127.0.0.1 port=1 password="first second"' first second
expect_rc 2 "double-quoted password"
expect_hidden 'host=127.0.0.1 port=1 PASSWORD=upperkey1' upperkey1
expect_rc 2 "PASSWORD="
expect_hidden 'postgresql://app_user@127.0.0.1:1/postgres?Password=querykey1' querykey1
expect_rc 2 "?Password="
expect_hidden 'postgresql://app_user@127.0.0.1:1/postgres?password=quote%22d%20pw' 'quote"d pw' 'quote%22d'
# The note names the database with the password masked, the user name intact.
DATABASE_URL='postgresql://postgres:postgres@127.0.0.1:1/postgres' rb current
expect_err_has "database: postgresql://postgres:****@127.0.0.1:1/postgres" "Supabase's default URL shown masked"
expect_not_in_output ":postgres@" "Supabase's default password"

# ---- item 2: the --sql script is what it is without a password -----------------------------
rm -rf migrations
mkdir -p migrations
cat > migrations/bbbb00000001_fdw.lua <<'LUA'
return {
  revision = "bbbb00000001",
  down_revision = nil,
  message = "fdw, grants and a created_at",
  upgrade = function(db)
    db:exec("CREATE EXTENSION IF NOT EXISTS postgres_fdw")
    db:exec("CREATE TABLE posts (id integer, created_at timestamptz, status text DEFAULT 'at')")
    db:exec("GRANT SELECT ON posts TO postgres")
    print("url is " .. tostring(os.getenv("DATABASE_URL")))
  end,
  downgrade = function(db) db:exec("DROP TABLE posts") end,
}
LUA
base_url='postgresql://postgres@127.0.0.1:54322/postgres'
DATABASE_URL=$base_url rb upgrade --sql head
expect_rc 0 "--sql with a password-less URL"
expected=$OUT
expect_out_has "postgres_fdw" "the script has the extension"
expect_out_has "TO postgres" "the script has the grant"
for pw in postgres at; do
  url="postgresql://postgres:$pw@127.0.0.1:54322/postgres"
  DATABASE_URL=$url rb upgrade --sql head
  expect_rc 0 "--sql with password '$pw'"
  expect_eq "$OUT" "$expected" "--sql script with password '$pw' is byte for byte the password-less one"
  # A migration that prints the URL has it masked (stderr under --sql).
  expect_err_has "url is postgresql://postgres:****@127.0.0.1:54322/postgres" "print of DATABASE_URL with password '$pw'"
  expect_not_in_output ":$pw@" "print of DATABASE_URL with password '$pw'"
done

# A migration that really writes the URL into the script: masked there too.
cat > migrations/cccc00000001_url.lua <<'LUA'
return {
  revision = "cccc00000001",
  down_revision = "bbbb00000001",
  message = "writes the url",
  upgrade = function(db)
    db:exec("COMMENT ON TABLE posts IS '" .. os.getenv("DATABASE_URL") .. "'")
    error("the server said: password \"" .. os.getenv("RB_LONG_PW") .. "\" is wrong")
  end,
  downgrade = function(db) end,
}
LUA
long='q8Zr2LmXk9TBw4vNe7Hs1JpYc6UdFa3Gt5Ko0RiE'
DATABASE_URL="postgresql://app:$long@127.0.0.1:54322/postgres" RB_LONG_PW=$long rb upgrade --sql head
expect_rc 1 "the migration's error fails the run"
expect_out_has "COMMENT ON TABLE posts IS 'postgresql://app:****@127.0.0.1:54322/postgres'" "the URL written into the script is masked"
expect_not_in_output "$long" "a 40-character password, in the script or in the error"
expect_err_has 'password "****" is wrong' "the error carrying the password has it masked"

# ---- item 13: a set-but-empty DATABASE_URL is a usage error --------------------------------
rm -rf migrations
mkdir -p migrations
migration aaaa00000001 "" "db:exec('CREATE TABLE t1 (id integer)')" "db:exec('DROP TABLE t1')"
rm -f rbacmig.db
DATABASE_URL= rb upgrade head
expect_rc 2 "DATABASE_URL set but empty"
expect_err_has "DATABASE_URL is set but empty (from the environment)" "names the environment"
check "no sqlite file created for an empty DATABASE_URL" test ! -e rbacmig.db
printf 'DATABASE_URL=\n' > .env
rb upgrade head
expect_rc 2 "DATABASE_URL= in .env"
expect_err_has "DATABASE_URL is set but empty (from .env)" "names .env"
check "no sqlite file created for an empty .env DATABASE_URL" test ! -e rbacmig.db
rm -f .env
rb -d '' upgrade head
expect_rc 2 "-d ''"
expect_err_has "empty" "-d '' names the problem"
printf 'return { database_url = "" }\n' > rbacmig.lua
rb upgrade head
expect_rc 2 'database_url = "" in the config file'
expect_err_has "rbacmig.lua" "names the config file"
check "no sqlite file created for an empty database_url" test ! -e rbacmig.db
rm -f rbacmig.lua

# ---- item 19: -c paths are relative to the config file's directory -------------------------
mkdir -p proj/migs elsewhere
migration dddd00000001 "" "db:exec('CREATE TABLE d1 (id integer)')" "db:exec('DROP TABLE d1')"
mv migrations/dddd00000001_m.lua proj/migs/
printf 'return { migrations = "migs", database_url = "sqlite:proj.db" }\n' > proj/rbacmig.lua
(cd elsewhere && "$RBACMIG" -c ../proj/rbacmig.lua upgrade head >"$TEST_DIR/.out" 2>"$TEST_DIR/.err")
RC=$?; OUT=$(cat "$TEST_DIR/.out"); ERR=$(cat "$TEST_DIR/.err")
expect_rc 0 "-c ../proj/rbacmig.lua from another directory"
check "migrations read from proj/migs" grep -q dddd00000001 "$TEST_DIR/.out"
check "the config file's sqlite path is relative to it" test -e proj/proj.db
check "nothing created in the working directory" test ! -e elsewhere/proj.db

# ---- item 19: a missing directory of a SQLite path is named --------------------------------
rb -d 'sqlite:///nosuchdir/x.db' upgrade head
expect_rc 1 "a SQLite file in a missing directory"
expect_err_has "directory 'nosuchdir' does not exist" "names the missing directory"

finish
