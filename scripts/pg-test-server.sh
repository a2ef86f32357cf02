#!/usr/bin/env bash
# A throwaway PostgreSQL for the test suite: initdb into a temporary directory, run as the
# `postgres` OS user on 127.0.0.1 and a free port. Its roles are Supabase's: the bootstrap
# superuser is `supabase_admin`, and `postgres`, the role migrations run as, is NOT a superuser
# (NOSUPERUSER CREATEDB CREATEROLE BYPASSRLS), so every test sees the privileges a Supabase
# project gives. Sourced by scripts/test.sh (and tests/e2e/test_crash.sh, for a server of its own):
#   pg_test_start   sets RBACMIG_TEST_PG_URL (`postgres`, trust: what the tests use),
#                   RBACMIG_TEST_PG_ADMIN_URL (`supabase_admin`, trust: only for what needs a
#                   superuser, such as CREATE EXTENSION pgtap, the Supabase fixture's roles and
#                   auth schema), RBACMIG_TEST_PG_PW_URL (a password-authenticated user),
#                   RBACMIG_TEST_PG_BIN, PGPORT
#   pg_test_stop    stops the server and removes the directory (safe to call twice)

pg_test_bindir() {
  local d
  d=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)
  [ -n "$d" ] || { echo "pg-test-server: no PostgreSQL server binaries (apt-get install postgresql)" >&2; return 1; }
  echo "$d"
}

pg_test_free_port() {
  local p
  local start=$((54320 + RANDOM % 400))
  for p in $(seq "$start" 54999) $(seq 54320 "$start"); do
    if ! (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null; then echo "$p"; return 0; fi
  done
  return 1
}

pg_test_start() {
  # The postgres user may not be able to read the caller's directory.
  pushd / >/dev/null || return 1
  pg_test_start_here
  local rc=$?
  popd >/dev/null || true
  return $rc
}

pg_test_start_here() {
  RBACMIG_TEST_PG_BIN=$(pg_test_bindir) || return 1
  PG_TEST_DIR=$(mktemp -d /tmp/rbacmig-pg.XXXXXX)
  chown postgres: "$PG_TEST_DIR"
  local run="runuser -u postgres --"
  [ "$(id -u)" -eq 0 ] || run=""
  $run "$RBACMIG_TEST_PG_BIN/initdb" -D "$PG_TEST_DIR/data" -A trust -U supabase_admin >/dev/null || return 1
  # authenticator is PostgREST's login role (tests/pgtap/00_supabase_fixture.sql makes it).
  cat > "$PG_TEST_DIR/data/pg_hba.conf" <<HBA
local all all trust
host all supabase_admin 127.0.0.1/32 trust
host all postgres 127.0.0.1/32 trust
host all authenticator 127.0.0.1/32 trust
host all all 127.0.0.1/32 scram-sha-256
HBA
  # A free port can be taken between the probe and the bind (other servers start on this
  # machine too), so a failed start tries the next port.
  local attempt started=""
  for attempt in 1 2 3 4 5; do
    PGPORT=$(pg_test_free_port) || { echo "pg-test-server: no free port" >&2; return 1; }
    if $run "$RBACMIG_TEST_PG_BIN/pg_ctl" -D "$PG_TEST_DIR/data" -l "$PG_TEST_DIR/log" -w \
      -o "-p $PGPORT -k $PG_TEST_DIR -c listen_addresses=127.0.0.1 -c fsync=on -c max_connections=100" \
      start >/dev/null 2>&1; then
      started=yes
      break
    fi
    sleep "$attempt"
  done
  [ -n "$started" ] || { cat "$PG_TEST_DIR/log" >&2; return 1; }
  export RBACMIG_TEST_PG_BIN PGPORT PG_TEST_DIR
  export RBACMIG_TEST_PG_ADMIN_URL="postgresql://supabase_admin@127.0.0.1:$PGPORT/postgres"
  export RBACMIG_TEST_PG_URL="postgresql://postgres@127.0.0.1:$PGPORT/postgres"
  export RBACMIG_TEST_PG_PASSWORD='S3cr3t-p@ss;word'
  # As on Supabase, postgres owns the postgres database (and what it creates), is no superuser.
  "$RBACMIG_TEST_PG_BIN/psql" -q -X -v ON_ERROR_STOP=1 -d "$RBACMIG_TEST_PG_ADMIN_URL" \
    -c "CREATE ROLE postgres LOGIN NOSUPERUSER CREATEDB CREATEROLE BYPASSRLS" \
    -c "ALTER DATABASE postgres OWNER TO postgres" \
    -c "CREATE ROLE rbacmig_pw LOGIN PASSWORD 'S3cr3t-p@ss;word' CREATEDB" >/dev/null || return 1
  # The password percent-encoded for the URI: @ -> %40, ; -> %3B
  export RBACMIG_TEST_PG_PW_URL="postgresql://rbacmig_pw:S3cr3t-p%40ss%3Bword@127.0.0.1:$PGPORT/postgres"
  echo "pg-test-server: PostgreSQL $("$RBACMIG_TEST_PG_BIN/postgres" --version | awk '{print $3}') on 127.0.0.1:$PGPORT"
}

pg_test_stop() {
  [ -n "${PG_TEST_DIR:-}" ] && [ -d "$PG_TEST_DIR" ] || return 0
  local run="runuser -u postgres --"
  [ "$(id -u)" -eq 0 ] || run=""
  (cd / && $run "$RBACMIG_TEST_PG_BIN/pg_ctl" -D "$PG_TEST_DIR/data" -m immediate -w stop >/dev/null 2>&1) || true
  rm -rf "$PG_TEST_DIR"
  PG_TEST_DIR=""
}
