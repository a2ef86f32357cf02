#!/usr/bin/env bash
# Crashes and poolers: SIGKILL at random moments of an upgrade always leaves a revision
# consistent with the version table, and the next run finishes the job; on PostgreSQL a
# server restart mid-run gives a clear error with nothing half applied, and 8 concurrent
# upgrades through PgBouncer in transaction mode apply each step once.
. "$(dirname "$0")/lib.sh"
new_db

# Step i creates c_i and fills it, so a step takes long enough to be killed inside.
if [ "$DIALECT" = postgresql ]; then
  fill="INSERT INTO c_%d (n) SELECT g FROM generate_series(1, 20000) g"
else
  fill="WITH RECURSIVE g(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM g WHERE n < 20000) INSERT INTO c_%d (n) SELECT n FROM g"
fi
for i in 1 2 3 4 5 6; do
  parent=""
  [ $i -gt 1 ] && parent="cccc0000000$((i - 1))"
  migration "cccc0000000$i" "$parent" \
    "db:exec('CREATE TABLE c_$i (n integer)'); db:exec('$(printf "$fill" $i)')" \
    "db:exec('DROP TABLE c_$i')"
done

# consistent: the tables that exist are exactly those of the steps up to the version.
consistent() {
  local v k=0 i
  v=$(sql 'SELECT version_num FROM rbacmig_version' 2>/dev/null)
  [ -n "$v" ] && k=${v: -1}
  for i in 1 2 3 4 5 6; do
    if [ $i -le $k ]; then
      table_exists c_$i || { echo "at $v but c_$i is missing"; return 1; }
      [ "$(sql "SELECT count(*) FROM c_$i")" = 20000 ] || { echo "c_$i half filled"; return 1; }
    else
      ! table_exists c_$i || { echo "at ${v:-base} but c_$i exists"; return 1; }
    fi
  done
}

for round in $(seq 1 8); do
  "$RBACMIG" -q upgrade head >/dev/null 2>&1 &
  pid=$!
  sleep "0.$(printf '%02d' $((RANDOM % 40 + 2)))"
  kill -KILL $pid 2>/dev/null
  wait $pid 2>/dev/null
  if [ "$DIALECT" = postgresql ]; then
    # The killed client's server session may still be finishing a COMMIT it had sent;
    # the state to judge is the one after that session is gone.
    for _ in $(seq 1 50); do
      [ "$(sql "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND application_name = 'rbacmig'")" = 0 ] && break
      sleep 0.1
    done
  fi
  check "round $round: state after SIGKILL is consistent" consistent
  rb upgrade head
  expect_rc 0 "round $round: the next run finishes the job"
  check "round $round: complete and consistent" consistent
  expect_eq "$(sql 'SELECT version_num FROM rbacmig_version')" cccc00000006 "round $round: at head"
  rb downgrade base
done

if [ "$DIALECT" = postgresql ]; then
  . "$SRC/scripts/pg-test-server.sh"

  # ---- a server restart mid-run -------------------------------------------------------
  saved_url=$RBACMIG_TEST_PG_URL saved_dir=${PG_TEST_DIR:-}
  pg_test_start >/dev/null
  own_url="$RBACMIG_TEST_PG_URL"
  trap 'pg_test_stop; cleanup' EXIT
  mkdir -p restart/migrations
  ( cd restart && cat > migrations/a.lua <<'LUA'
return { revision = "dddd00000001", upgrade = function(db) db:exec("CREATE TABLE r1 (id int)"); db:exec("SELECT pg_sleep(5)") end, downgrade = function() end }
LUA
    "$RBACMIG" -d "$own_url" upgrade head >../restart.out 2>&1; echo $? > ../restart.rc ) &
  runner=$!
  sleep 1.5
  (cd / && runuser -u postgres -- "$RBACMIG_TEST_PG_BIN/pg_ctl" -D "$PG_TEST_DIR/data" -m fast -w restart >/dev/null 2>&1)
  wait $runner
  expect_eq "$(cat restart.rc)" 1 "server restart mid-run exits 1"
  check "restart gives one clear error line" test "$(grep -c '^rbacmig: error:' restart.out)" = 1
  check "restart error says what happened: $(grep error restart.out)" grep -qiE "terminat|lost connection|server closed" restart.out
  check "nothing half applied after a restart" test "$("$PSQL" -X -At -d "$own_url" -c "SELECT to_regclass('r1') IS NULL")" = t

  # ---- PgBouncer in transaction mode ----------------------------------------------------
  if command -v pgbouncer >/dev/null || [ -x /usr/sbin/pgbouncer ]; then
    bouncer=$(command -v pgbouncer || echo /usr/sbin/pgbouncer)
    bdir=$(mktemp -d /tmp/rbacmig-bouncer.XXXXXX)
    chown postgres: "$bdir"
    # 6543 when free: rbacmig treats that port as a transaction-mode pooler (Supabase's).
    if (exec 3<>/dev/tcp/127.0.0.1/6543) 2>/dev/null; then bport=$(pg_test_free_port); else bport=6543; fi
    pgport=${own_url##*:}; pgport=${pgport%%/*}
    "$PSQL" -X -q -d "$own_url" -c "CREATE DATABASE pooled" >/dev/null
    cat > "$bdir/pgbouncer.ini" <<INI
[databases]
pooled = host=127.0.0.1 port=$pgport dbname=pooled
[pgbouncer]
listen_addr = 127.0.0.1
listen_port = $bport
unix_socket_dir =
auth_type = trust
auth_file = $bdir/users.txt
pool_mode = transaction
max_client_conn = 100
default_pool_size = 4
logfile = $bdir/pgbouncer.log
pidfile = $bdir/pgbouncer.pid
INI
    echo '"postgres" ""' > "$bdir/users.txt"
    chown postgres: "$bdir"/*
    (cd / && runuser -u postgres -- "$bouncer" -d "$bdir/pgbouncer.ini")
    sleep 0.5
    pooled="postgresql://postgres@127.0.0.1:$bport/pooled"
    mkdir -p pooled && cp migrations/*.lua pooled/ 2>/dev/null
    mkdir -p pool/migrations && cp migrations/*.lua pool/migrations/
    pids=()
    for n in $(seq 1 8); do
      ( cd pool && "$RBACMIG" -q -d "$pooled" upgrade head >"../pool.$n.out" 2>&1 ) &
      pids+=($!)
    done
    failures=0
    for p in "${pids[@]}"; do wait "$p" || failures=$((failures + 1)); done
    expect_eq "$failures" 0 "8 concurrent upgrades through PgBouncer (transaction mode) exit 0"
    [ "$failures" = 0 ] || cat pool.*.out | head -20
    direct="${own_url%/*}/pooled"
    expect_eq "$("$PSQL" -X -At -d "$direct" -c "SELECT count(*) FROM rbacmig_history WHERE direction = 'upgrade'")" 6 "through the pooler each step ran once"
    expect_eq "$("$PSQL" -X -At -d "$direct" -c "SELECT version_num FROM rbacmig_version")" cccc00000006 "through the pooler: at head"
    ( cd pool && "$RBACMIG" -d "$pooled" current >../pool.current 2>&1 )
    check "current works through the pooler" grep -q "cccc00000006 (head)" pool.current
    if [ "$bport" = 6543 ]; then
      cat > pool/migrations/z.lua <<'LUA'
return { revision = "cccc00000007", down_revision = "cccc00000006", transactional = false,
  upgrade = function(db) db:exec("CREATE TABLE nt_pool (id int)") end, downgrade = function() end }
LUA
      ( cd pool && "$RBACMIG" -d "$pooled" upgrade head >../pool.nt 2>&1; echo $? >../pool.nt.rc )
      expect_eq "$(cat pool.nt.rc)" 1 "non-transactional migration through a transaction-mode pooler refused"
      check "the refusal points to the direct URL" grep -q "use the direct URL" pool.nt
      check "the refusal ran nothing" test "$("$PSQL" -X -At -d "$direct" -c "SELECT to_regclass('nt_pool') IS NULL")" = t
    fi
    kill "$(cat "$bdir/pgbouncer.pid")" 2>/dev/null
    rm -rf "$bdir"
  else
    echo "pgbouncer not installed: pooler test not run"
    fail "pgbouncer missing (scripts/install-deps.sh installs it)"
  fi
  pg_test_stop
  RBACMIG_TEST_PG_URL=$saved_url PG_TEST_DIR=$saved_dir
  trap cleanup EXIT
fi

finish
