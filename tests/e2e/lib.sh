# tests/e2e/lib.sh: helpers for end-to-end tests of the real rbacmig binary.
# A test script sources this with the dialect as $1 ("sqlite" or "postgresql"); it gets a
# fresh project directory (cwd) and a fresh database ($DB_URL), and ends with `finish`,
# which prints "N passed, N failed". PostgreSQL tests exit 77 (skipped) without a server.

set -u
DIALECT=${1:?usage: test_x.sh sqlite|postgresql}
RBACMIG=${RBACMIG:?RBACMIG must point at the rbacmig binary}
SRC=${RBACMIG_SOURCE_DIR:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)}
PASSED=0
FAILED=0
TEST_DIR=$(mktemp -d /tmp/rbacmig-e2e.XXXXXX)
cd "$TEST_DIR" || exit 1
# The metadata cache (src/revcache.h) of each test lives and dies with its directory.
export RBACMIG_CACHE_DIR="$TEST_DIR/.rbacmig-cache"
PSQL="${RBACMIG_TEST_PG_BIN:-/usr/lib/postgresql/15/bin}/psql"
# Tests run as RBACMIG_TEST_PG_URL's role (`postgres`, not a superuser, as on Supabase); what
# truly needs a superuser uses the admin URL (scripts/pg-test-server.sh). Dropping a database
# WITH (FORCE) ends sessions of other roles (authenticator), which only a superuser may.
PG_ADMIN_URL=${RBACMIG_TEST_PG_ADMIN_URL:-${RBACMIG_TEST_PG_URL:-}}

cleanup() {
  cd /
  if [ "$DIALECT" = postgresql ] && [ -n "${DB_NAME:-}" ]; then
    "$PSQL" -q -X -d "$PG_ADMIN_URL" -c "DROP DATABASE IF EXISTS \"$DB_NAME\" WITH (FORCE)" >/dev/null 2>&1
  fi
  rm -rf "$TEST_DIR"
}
trap cleanup EXIT

# new_db: a fresh, empty database; sets DB_URL (and DB_NAME on PostgreSQL).
new_db() {
  if [ "$DIALECT" = postgresql ]; then
    if [ -n "${DB_NAME:-}" ]; then
      "$PSQL" -q -X -d "$PG_ADMIN_URL" -c "DROP DATABASE IF EXISTS \"$DB_NAME\" WITH (FORCE)" >/dev/null
    fi
    DB_NAME="rbacmig_e2e_$(basename "$TEST_DIR" | tr -dc 'a-zA-Z0-9' | tr 'A-Z' 'a-z')_$RANDOM"
    "$PSQL" -q -X -v ON_ERROR_STOP=1 -d "$RBACMIG_TEST_PG_URL" -c "CREATE DATABASE \"$DB_NAME\"" >/dev/null || exit 1
    DB_URL="${RBACMIG_TEST_PG_URL%/*}/$DB_NAME"
  else
    DB_FILE="$TEST_DIR/db-$RANDOM.sqlite"
    rm -f "$DB_FILE"
    DB_URL="sqlite:$DB_FILE"
  fi
  export DATABASE_URL="$DB_URL"
}

if [ "$DIALECT" = postgresql ] && [ -z "${RBACMIG_TEST_PG_URL:-}" ]; then
  echo "skipped: RBACMIG_TEST_PG_URL is not set (scripts/test.sh starts a server)"
  exit 77
fi

# sql QUERY: runs QUERY on the test database, prints rows (columns joined by '|').
sql() {
  if [ "$DIALECT" = postgresql ]; then
    "$PSQL" -X -q -At -v ON_ERROR_STOP=1 -d "$DB_URL" -c "$1"
  else
    sqlite3 -batch -cmd "PRAGMA foreign_keys = ON" "$DB_FILE" "$1"
  fi
}

# admin_sql QUERY: runs QUERY on the test database as the superuser (PostgreSQL only), for
# what a Supabase project's `postgres` role cannot do either (CREATE EXTENSION pgtap, roles).
admin_sql() {
  "$PSQL" -X -q -At -v ON_ERROR_STOP=1 -d "${PG_ADMIN_URL%/*}/$DB_NAME" -c "$1"
}

# supabase_fixture: on PostgreSQL, makes the test database look like Supabase's
# (tests/pgtap/00_supabase_fixture.sql, as the superuser): the auth schema, the API roles,
# while the tests run as the non-superuser `postgres`. Nothing on SQLite.
supabase_fixture() {
  [ "$DIALECT" = postgresql ] || return 0
  env PGOPTIONS="-c client_min_messages=warning" \
    "$PSQL" -X -q -v ON_ERROR_STOP=1 -d "${PG_ADMIN_URL%/*}/$DB_NAME" \
    -f "$SRC/tests/pgtap/00_supabase_fixture.sql" >/dev/null || exit 1
}

# api_roles: Supabase's API roles (anon, authenticated, service_role) on the server, without
# the rest of the fixture (its default privileges), for tests that only name them.
api_roles() {
  [ "$DIALECT" = postgresql ] || return 0
  env PGOPTIONS="-c client_min_messages=warning" "$PSQL" -X -q -v ON_ERROR_STOP=1 -d "$PG_ADMIN_URL" -c "
    DO \$\$ DECLARE r text; BEGIN
      FOREACH r IN ARRAY ARRAY['anon', 'authenticated', 'service_role'] LOOP
        BEGIN
          IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = r) THEN
            EXECUTE format('CREATE ROLE %I NOLOGIN NOINHERIT', r);
          END IF;
        EXCEPTION WHEN duplicate_object OR unique_violation THEN NULL;
        END;
      END LOOP;
    END \$\$" >/dev/null || exit 1
}

# notes_project SELECT_USING: the project's migrations and rbac/, plus revision aaaa00000001
# on top of their head, as a project adds its own: a table `notes` (on PostgreSQL with forced
# row-level security, a select policy USING SELECT_USING, a delete policy, grants to
# `authenticated` and a SECURITY DEFINER function); then a fresh database, made Supabase's
# on PostgreSQL (supabase_fixture). Sets HEAD to the project's own head.
notes_project() {
  local using=${1:-owner_id = current_user}
  cp -r "$SRC/migrations" "$SRC/rbac" .
  HEAD=$(sed -n 's/^  *revision = "\([0-9a-f]*\)".*/\1/p' migrations/*.lua | while read -r r; do
    grep -q "down_revision = \"$r\"" migrations/*.lua || echo "$r"
  done)
  cat > migrations/aaaa00000001_notes.lua <<LUA
return {
  revision = "aaaa00000001",
  down_revision = "$HEAD",
  upgrade = function(db)
    db:create_table("notes", {
      { "id", "integer", primary_key = true },
      { "owner_id", "text", not_null = true },
      { "body", "text", not_null = true, default = "" },
    })
    if db.dialect ~= "postgresql" then return end
    db:enable_rls("notes", { force = true })
    db:create_policy("notes", "notes_select", { command = "select", to = "authenticated",
      using = "$using" })
    db:create_policy("notes", "notes_delete", { command = "delete", to = "authenticated",
      using = "owner_id = current_user" })
    db:exec("REVOKE ALL ON notes FROM anon, authenticated, PUBLIC")
    db:grant({ "select", "delete" }, "notes", "authenticated")
    db:create_function("notes_owner", { args = "n integer", returns = "text", language = "sql",
      security = "definer", search_path = { "public" }, volatility = "stable",
      body = "SELECT owner_id FROM public.notes WHERE id = n" })
  end,
  downgrade = function(db)
    if db.dialect == "postgresql" then db:drop_function("notes_owner", { args = "integer" }) end
    db:drop_table("notes")
  end,
}
LUA
  new_db
  supabase_fixture
}

# shadow_gone WHAT: every shadow database the last `rb` named on stderr ("rbacmig: shadow:
# NAME") is gone: dropped on PostgreSQL, its file removed from $TMPDIR on SQLite.
shadow_gone() {
  local names
  names=$(sed -n 's/^rbacmig: shadow: //p' "$TEST_DIR/.stderr" | tr '\n' ' ')
  if [ -z "$names" ]; then
    fail "$1: stderr names no shadow"
  elif [ "$DIALECT" = postgresql ]; then
    for name in $names; do
      expect_eq "$("$PSQL" -X -At -d "$RBACMIG_TEST_PG_URL" \
        -c "SELECT count(*) FROM pg_database WHERE datname = '$name'")" 0 "$1: $name dropped"
    done
  else
    expect_eq "$(ls -A "$TMPDIR")" "" "$1: $names removed"
  fi
}

# table_exists NAME: 0 when the table exists.
table_exists() {
  if [ "$DIALECT" = postgresql ]; then
    [ "$(sql "SELECT to_regclass('public.$1') IS NOT NULL")" = t ]
  else
    [ "$(sql "SELECT count(*) FROM sqlite_master WHERE type='table' AND name='$1'")" = 1 ]
  fi
}

# rb ARGS...: runs rbacmig; sets OUT, ERR, RC.
rb() {
  OUT=$("$RBACMIG" "$@" 2>"$TEST_DIR/.stderr")
  RC=$?
  ERR=$(cat "$TEST_DIR/.stderr")
}

pass() { PASSED=$((PASSED + 1)); }
fail() {
  FAILED=$((FAILED + 1))
  echo "FAIL: $*"
  echo "  rc=${RC:-} stdout: ${OUT:-}" | head -20
  echo "  stderr: ${ERR:-}" | head -20
}

check() { # check DESCRIPTION COMMAND...: passes when the command succeeds
  local what=$1
  shift
  if "$@"; then pass; else fail "$what"; fi
}
expect_rc() { [ "$RC" = "$1" ] && pass || fail "$2: expected exit $1, got $RC"; }
expect_out() { [ "$OUT" = "$1" ] && pass || fail "$2: expected stdout '$1'"; }
expect_out_has() { case "$OUT" in *"$1"*) pass ;; *) fail "$2: stdout lacks '$1'" ;; esac; }
expect_err_has() { case "$ERR" in *"$1"*) pass ;; *) fail "$2: stderr lacks '$1'" ;; esac; }
expect_not_in_output() { case "$OUT$ERR" in *"$1"*) fail "$2: output contains '$1'" ;; *) pass ;; esac; }
expect_eq() { [ "$1" = "$2" ] && pass || fail "$3: expected '$2', got '$1'"; }
# One error line: exactly one line starting "rbacmig: error:".
expect_one_error_line() {
  local n
  n=$(printf '%s\n' "$ERR" | grep -c '^rbacmig: error:')
  [ "$n" = 1 ] && pass || fail "$1: expected one 'rbacmig: error:' line, got $n"
}

# migration ID PARENT BODY_UP BODY_DOWN [EXTRA]: writes migrations/ID_m.lua.
migration() {
  local id=$1 parent=$2 up=$3 down=$4 extra=${5:-}
  mkdir -p migrations
  local p="nil"
  [ -n "$parent" ] && p="\"$parent\""
  case "$parent" in \{*) p=$parent ;; esac
  cat > "migrations/${id}_m.lua" <<LUA
-- Revision ID: $id
return {
  revision = "$id",
  down_revision = $p,
  message = "step $id",
  $extra
  upgrade = function(db)
    $up
  end,
  downgrade = function(db)
    $down
  end,
}
LUA
}

finish() {
  echo "$PASSED passed, $FAILED failed"
  [ "$FAILED" -eq 0 ]
}
