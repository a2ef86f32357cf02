#!/usr/bin/env bash
# bench/run.sh — rbacmig against Alembic, dbmate, sqitch and hand-written psql, in one run.
#
#   bash bench/run.sh [--quick]
#
# On a Debian 12 machine (root, or sudo for apt-get) this:
#   1. installs the peers: Debian's alembic + python3-psycopg2, sqitch + libdbd-pg-perl,
#      hyperfine, gnuplot-nox, postgresql, time; dbmate from npm into bench/.node
#   2. builds rbacmig (Release) into build-bench/
#   3. starts a throwaway PostgreSQL (initdb in a temporary directory as `postgres`,
#      127.0.0.1, a free port, fsync on, otherwise default settings), stopped by a trap
#   4. generates the same workload for every tool (bench/gen_workload.py, bench/gen_rbac.py,
#      bench/sql/)
#   5. times every tool in this one run (warm-up, repetitions; a prepare command puts the
#      database back where a run must start): upgrade, downgrade and the no-op in
#      interleaved rounds (bench/interleave.py: each round runs every tool once), the
#      other workloads with hyperfine; peak RSS with wait4 or /usr/bin/time,
#      and counts the statements each tool sends per step (log_min_duration_statement=0)
#   6. prints the table of medians, spreads and ratios against the reference
#      (bench/report.py), and draws bench/upgrade_vs_n.png (gnuplot)
#
# Workloads (see bench/RESULTS.md for targets):
#   upgrade / downgrade  N = 10, 100, 1000 migrations, each a 5-column table with an index,
#                        upgrade from empty then downgrade to base; reference: psql running
#                        N transactions that each update a one-row version table
#   no-op                `upgrade head` on an up-to-date database; reference: psql -c 'select 1'
#   current / history    over 1,000 and 10,000 revisions; reference: one psql query; with
#                        build-static/rbacmig present (scripts/build-static.sh), the static
#                        binary too, on which the memory targets are judged
#   seed                 10,000 tenants, 4 template roles, 50 permissions (1.3M grants):
#                        one INSERT + `rbacmig seed`; reference: a hand-written set-based
#                        script; also one INSERT per row
#   has_permission       pgbench over 100,000 tenants and 1,000,000 memberships, and a
#                        user's memberships read through row-level security
#   remote               upgrade and downgrade N = 100 again, the server 10 ms of round
#                        trip away (bench/latency_proxy.py), as a hosted database is
#
# The whole run takes about 30 minutes on 2 cores; --quick uses fewer repetitions (about 15).
# For trying changes to the bench itself: BENCH_NS="10 100" (workloads 1 and 2; keep 100,
# the no-op runs there), BENCH_GRAPH_NS="1000" (workload 3) and BENCH_SEED_TENANTS=1000
# (workload 4; 0 skips it) cut the sizes; BENCH_PERM=0 skips workload 5; BENCH_RTT_MS=0
# skips workload 6 (otherwise the round trip it puts between the tools and the server,
# default 10).
# Raw results (hyperfine JSON, the table, chart data, server log) go to bench/out/.
set -euo pipefail

# The body is one function, read whole before it runs, so that editing this file during a
# run (it takes minutes) cannot change the run.
main() {

usage() { echo "usage: bash bench/run.sh [--quick]"; }
QUICK=0
case "${1:-}" in
  "") ;;
  --quick) QUICK=1 ;;
  -h|--help) usage; exit 0 ;;
  *) usage >&2; exit 2 ;;
esac

cd "$(dirname "$0")/.."
ROOT=$PWD
BENCH=$ROOT/bench
OUT=$BENCH/out
log() { printf '\n== %s\n' "$*" >&2; }

# Repetitions: warm-up runs, timed runs. "slow" is for the peers that need tens of seconds
# per run at N=1000 (sqitch spawns psql per change; dbmate rolls back one step per process).
if [ "$QUICK" = 1 ]; then
  W_SMALL=1 R_SMALL=5   # N = 10, 100
  W_BIG=0   R_BIG=3     # N = 1000
  W_SLOW=0  R_SLOW=2
  W_NOOP=3  R_NOOP=15
  W_GRAPH=1 R_GRAPH=5
  W_SEED=0  R_SEED=2  R_SEED_NAIVE=1
  PGB_SECONDS=5
  W_REMOTE=0 R_REMOTE=2
else
  W_SMALL=2 R_SMALL=10
  W_BIG=1   R_BIG=5
  W_SLOW=0  R_SLOW=3
  W_NOOP=5  R_NOOP=30
  W_GRAPH=2 R_GRAPH=10
  W_SEED=1  R_SEED=5  R_SEED_NAIVE=2
  PGB_SECONDS=30
  W_REMOTE=1 R_REMOTE=3
fi
SEED_TENANTS=${BENCH_SEED_TENANTS:-10000}
PERM=${BENCH_PERM:-1}
RTT_MS=${BENCH_RTT_MS:-10}
NS=${BENCH_NS-10 100 1000}
GRAPH_NS=${BENCH_GRAPH_NS-1000 10000}

# ---------------------------------------------------------------------------------------
# 1. Peers

SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO="sudo"

install_peers() {
  local pkgs=(alembic python3-psycopg2 sqitch libdbd-pg-perl hyperfine gnuplot-nox
              postgresql postgresql-client time cmake build-essential pkg-config
              liblua5.4-dev libpq-dev libsqlite3-dev npm) missing=() p
  for p in "${pkgs[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
  done
  # npm may come with a Node.js installed otherwise; only ask apt for it when absent
  if command -v npm >/dev/null; then
    local keep=() q
    for q in "${missing[@]}"; do [ "$q" = npm ] || keep+=("$q"); done
    missing=("${keep[@]+"${keep[@]}"}")
  fi
  if [ ${#missing[@]} -gt 0 ]; then
    log "apt-get install ${missing[*]}"
    $SUDO env DEBIAN_FRONTEND=noninteractive apt-get update -qq
    $SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
      "${missing[@]}" >/dev/null
  fi
  if ! ls "$BENCH"/.node/node_modules/@dbmate/*/bin/dbmate >/dev/null 2>&1; then
    log "npm install dbmate (into bench/.node)"
    mkdir -p "$BENCH/.node"
    npm install --prefix "$BENCH/.node" --no-audit --no-fund --loglevel=error dbmate >/dev/null
  fi
}

log "installing peers"
install_peers

PG_BIN=$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -n 1)
PSQL=$PG_BIN/psql   # the real client, not Debian's Perl wrapper /usr/bin/psql (~19 ms more)
# The native dbmate binary, not the Node.js launcher in node_modules/.bin (which adds a
# node start-up to every call).
DBMATE=$(ls "$BENCH"/.node/node_modules/@dbmate/*/bin/dbmate | head -n 1)
ALEMBIC=$(command -v alembic)
SQITCH=$(command -v sqitch)
export SQITCH_FULLNAME=bench SQITCH_EMAIL=bench@example.com

# ---------------------------------------------------------------------------------------
# 2. rbacmig

log "building rbacmig (Release) in build-bench/"
build_rbacmig() {
  # Without RBACMIG_WERROR: GCC 12 at -O3 has raised maybe-uninitialized warnings (false
  # ones, so far) that the -O2 build does not, and a benchmark need not stop for them.
  cmake -S "$ROOT" -B "$ROOT/build-bench" -DCMAKE_BUILD_TYPE=Release >/dev/null &&
  cmake --build "$ROOT/build-bench" -j"$(nproc)" --target rbacmig >/dev/null
}
# others may be mid-edit in src/: retry a failed build twice, a minute apart
build_rbacmig || { sleep 60; build_rbacmig; } || { sleep 60; build_rbacmig; }
RBACMIG=$ROOT/build-bench/rbacmig
# The released static binary (scripts/build-static.sh), when built: timed beside the dynamic
# build on `current` and `history`, and the one the memory targets are judged on (report.py).
STATIC=${BENCH_STATIC:-$ROOT/build-static/rbacmig}

# ---------------------------------------------------------------------------------------
# 3. A throwaway PostgreSQL

PG_DIR="" WL="" SNAP=""
cleanup() {   # stop the server (keeping its log) and remove every temporary directory
  if [ -n "$PG_DIR" ] && [ -d "$PG_DIR" ]; then
    cp "$PG_DIR/log" "$OUT/postgres.log" 2>/dev/null || true
    runuser -u postgres -- "$PG_BIN/pg_ctl" -D "$PG_DIR/data" -m fast -w stop >/dev/null 2>&1 || true
  fi
  rm -rf "$PG_DIR" "$WL" "$SNAP"
  PG_DIR="" WL="" SNAP=""
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# The RBAC workloads use this checkout's migrations/ and rbac/; others may change them while
# the run goes on, so take them now, as the binary was built (its embedded Lua modules must
# match the migration).
SNAP=$(mktemp -d /tmp/migbench-src.XXXXXX)
cp -r "$ROOT/migrations" "$ROOT/rbac" "$SNAP/"
if [ -f "$ROOT/tests/pgtap/00_supabase_fixture.sql" ]; then
  cp "$ROOT/tests/pgtap/00_supabase_fixture.sql" "$SNAP/"
fi

free_port() {
  local p
  for p in $(seq 55432 55532); do
    if ! (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null; then echo "$p"; return 0; fi
  done
  return 1
}
free_port_after() {   # free_port_after PORT: a free port above PORT
  local p
  for p in $(seq "$(($1 + 1))" "$(($1 + 100))"); do
    if ! (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null; then echo "$p"; return 0; fi
  done
  return 1
}

rm -rf "$OUT"
mkdir -p "$OUT/json"
PG_DIR=$(mktemp -d /tmp/migbench-pg.XXXXXX)
chown postgres: "$PG_DIR"
PORT=$(free_port)
log "starting PostgreSQL $("$PG_BIN/postgres" --version | awk '{print $3}') on 127.0.0.1:$PORT"
runuser -u postgres -- "$PG_BIN/initdb" -D "$PG_DIR/data" -A trust -U postgres >/dev/null
runuser -u postgres -- "$PG_BIN/pg_ctl" -D "$PG_DIR/data" -l "$PG_DIR/log" -w \
  -o "-p $PORT -k $PG_DIR -c listen_addresses=127.0.0.1 -c fsync=on" start >/dev/null

URL=postgresql://postgres@127.0.0.1:$PORT
ADMIN=$URL/postgres
sql() { "$PSQL" -X -q -At -v ON_ERROR_STOP=1 -d "$ADMIN" "$@"; }
sqldb() { local db=$1; shift; "$PSQL" -X -q -At -v ON_ERROR_STOP=1 -d "$URL/$db" "$@"; }
export BENCH_DATABASE_URL=$URL/bench_alembic   # read by the generated Alembic env.py

# hyperfine --prepare commands (run without a shell: words split like a shell would)
reset_cmd() {   # reset_cmd DB [TEMPLATE]: an empty (or TEMPLATE-copied) database, checkpointed
  local tmpl=""
  [ -z "${2:-}" ] || tmpl=" TEMPLATE $2"
  printf "%s -X -q -d %s -c 'DROP DATABASE IF EXISTS %s WITH (FORCE)' -c 'CREATE DATABASE %s%s' -c CHECKPOINT" \
    "$PSQL" "$ADMIN" "$1" "$1" "$tmpl"
}
run_words() { local -a w; eval "w=($1)"; "${w[@]}"; }

# ---------------------------------------------------------------------------------------
# 4. Workloads

WL=$(mktemp -d /tmp/migbench-wl.XXXXXX)
log "generating workloads in $WL"
for n in $(printf '%s\n' 10 100 $NS $GRAPH_NS | sort -nu); do
  python3 "$BENCH/gen_workload.py" "$n" "$WL/$n"
  # dbmate has no "down to base": it rolls back one migration per process
  printf '#!/bin/sh\n# dbmate rollback, %s times\nset -e\ni=0\nwhile [ $i -lt %s ]; do\n  %s --url "%s/bench_dbmate?sslmode=disable" --migrations-dir %s --no-dump-schema rollback >/dev/null\n  i=$((i + 1))\ndone\n' \
    "$n" "$n" "$DBMATE" "$URL" "$WL/$n/dbmate" > "$WL/$n/dbmate_rollback_all.sh"
done

# ---------------------------------------------------------------------------------------
# 5. Measurements
#
# bench ID WORKLOAD N TOOL DIR WARMUP RUNS RSS PREPARE CMD
#   times CMD (run in DIR) with hyperfine, appends a line to the manifest, and with RSS=1
#   runs PREPARE + CMD once more under /usr/bin/time for the peak RSS. A failing tool is
#   recorded as failed and the run goes on.

MANIFEST=$OUT/manifest.tsv
printf 'id\tworkload\tn\ttool\tjson\trss_kb\tstatus\n' > "$MANIFEST"

peak_rss() {   # peak_rss ID DIR PREPARE CMD: prints the peak RSS (KB) of one more run of CMD
  local id=$1 dir=$2 prepare=$3 cmd=$4
  local -a w
  [ -z "$prepare" ] || run_words "$prepare" >/dev/null 2>&1
  eval "w=($cmd)"
  (cd "$dir" && /usr/bin/time -f %M -o "$OUT/json/$id.rss" "${w[@]}" >/dev/null 2>&1) || true
  tail -n 1 "$OUT/json/$id.rss"
}

bench() {
  local id=$1 workload=$2 n=$3 tool=$4 dir=$5 warmup=$6 runs=$7 rss=$8 prepare=$9 cmd=${10}
  local json=$OUT/json/$id.json rss_kb=- status=ok
  local -a prep=()
  [ -z "$prepare" ] || prep=(--prepare "$prepare")
  printf '   %-28s %s\n' "$id" "$cmd" >&2
  if ! (cd "$dir" && hyperfine -N --style none --warmup "$warmup" --runs "$runs" \
          "${prep[@]+"${prep[@]}"}" --export-json "$json" "$cmd" >/dev/null 2>"$OUT/json/$id.err"); then
    status=failed
    sed 's/^/      /' "$OUT/json/$id.err" | tail -n 5 >&2
  elif [ "$rss" = 1 ]; then
    rss_kb=$(peak_rss "$id" "$dir" "$prepare" "$cmd")
  fi
  printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$id" "$workload" "$n" "$tool" "$json" "$rss_kb" "$status" >> "$MANIFEST"
  [ "$status" = ok ]
}

tables_in() { sqldb "$1" -c "SELECT count(*) FROM pg_tables WHERE tablename LIKE 't\\_%'"; }
check_tables() {   # check_tables DB EXPECTED WHAT
  local got
  got=$(tables_in "$1")
  [ "$got" = "$2" ] || { echo "bench: $3: expected $2 tables t_*, found $got" >&2; return 1; }
}

# rbacmig-cold is rbacmig with its metadata cache off (RBACMIG_NO_CACHE=1): what a first
# run on a fresh machine (a new CI runner, a new deploy pod) costs. The warm-up runs of
# `rbacmig` fill the cache, as a user's earlier runs would.
TOOLS=(psql-1tx psql-ntx rbacmig rbacmig-cold alembic dbmate sqitch)
db_of() {
  case $1 in
    psql-1tx) echo bench_psql1 ;; psql-ntx) echo bench_psqln ;; rbacmig-cold) echo bench_rbacmig_cold ;;
    *) echo "bench_$1" ;;
  esac
}
COLD="env RBACMIG_NO_CACHE=1"

up_cmd() {   # up_cmd TOOL N
  local d=$WL/$2
  case $1 in
    psql-1tx) echo "$PSQL -X -q -v ON_ERROR_STOP=1 -1 -d $URL/bench_psql1 -f $d/psql/up_1tx.sql" ;;
    psql-ntx) echo "$PSQL -X -q -v ON_ERROR_STOP=1 -d $URL/bench_psqln -f $d/psql/up_ntx.sql" ;;
    rbacmig)  echo "$RBACMIG -d $URL/bench_rbacmig upgrade head" ;;
    rbacmig-cold) echo "$COLD $RBACMIG -d $URL/bench_rbacmig_cold upgrade head" ;;
    alembic)  echo "$ALEMBIC -c $d/alembic/alembic.ini upgrade head" ;;
    dbmate)   echo "$DBMATE --url $URL/bench_dbmate?sslmode=disable --migrations-dir $d/dbmate --no-dump-schema migrate" ;;
    sqitch)   echo "$SQITCH -C $d/sqitch deploy --target db:pg://postgres@127.0.0.1:$PORT/bench_sqitch --db-client $PSQL" ;;
  esac
}
down_cmd() {   # down_cmd TOOL N
  local d=$WL/$2
  case $1 in
    psql-1tx) echo "$PSQL -X -q -v ON_ERROR_STOP=1 -1 -d $URL/bench_psql1 -f $d/psql/down_1tx.sql" ;;
    psql-ntx) echo "$PSQL -X -q -v ON_ERROR_STOP=1 -d $URL/bench_psqln -f $d/psql/down_ntx.sql" ;;
    rbacmig)  echo "$RBACMIG -d $URL/bench_rbacmig downgrade base" ;;
    rbacmig-cold) echo "$COLD $RBACMIG -d $URL/bench_rbacmig_cold downgrade base" ;;
    alembic)  echo "$ALEMBIC -c $d/alembic/alembic.ini downgrade base" ;;
    dbmate)   echo "sh $d/dbmate_rollback_all.sh" ;;
    sqitch)   echo "$SQITCH -C $d/sqitch revert -y --target db:pg://postgres@127.0.0.1:$PORT/bench_sqitch --db-client $PSQL" ;;
  esac
}
noop_cmd() {   # noop_cmd TOOL N: `upgrade head` again, the database being at head already
  case $1 in
    psql|psql-ntx) echo "$PSQL -X -d $URL/bench_psqln -c 'select 1'" ;;
    *) up_cmd "$1" "$2" ;;
  esac
}

# Workloads 1 and 2 time every tool in interleaved rounds (bench/interleave.py): round r
# runs each tool once, so the tools compared share the same stretch of time on a shared
# machine. spec_add appends a command to a spec; run_spec runs it and records each tool in
# the manifest, "failed" for a tool whose command failed (the others go on), with the peak
# RSS of one more run under /usr/bin/time for the tools matching RSS_TOOLS.
spec_add() {   # spec_add SPEC ID TOOL WARMUP RUNS PREPARE CMD
  printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$2" "$3" "$OUT/json/$2.json" "$4" "$5" "$6" "$7" >> "$1"
  printf '   %-28s %s\n' "$2" "$7" >&2
}
run_spec() {   # run_spec SPEC WORKLOAD N DIR RSS_TOOLS (an extended regular expression)
  local spec=$1 workload=$2 n=$3 dir=$4 rss_tools=$5 line id tool json prep cmd rss_kb status
  cut -f3- "$spec" | awk -F'\t' -v d="$dir" 'BEGIN { OFS = "\t" } { print $1, $2, $3, d, $4, $5 }' \
    > "$spec.run"
  python3 "$BENCH/interleave.py" "$spec.run" 2> "$spec.err" || sed 's/^/      /' "$spec.err" | tail -n 8 >&2
  # fields are read one by one: a tab-separated `read` would fold an empty prepare away
  while IFS= read -r line; do
    id=$(cut -f1 <<< "$line") tool=$(cut -f2 <<< "$line") json=$(cut -f3 <<< "$line")
    prep=$(cut -f6 <<< "$line") cmd=$(cut -f7 <<< "$line")
    status=failed rss_kb=-
    if [ -f "$json" ]; then
      status=ok
      [[ ! $tool =~ ^($rss_tools)$ ]] || rss_kb=$(peak_rss "$id" "$dir" "$prep" "$cmd")
    fi
    printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$id" "$workload" "$n" "$tool" "$json" "$rss_kb" "$status" >> "$MANIFEST"
  done < "$spec"
}
ran_ok() { [ -f "$OUT/json/$1.json" ]; }

log "workload 1: upgrade from empty, downgrade to base (N = $NS); workload 2: no-op"
for n in $NS; do
  up_spec=$OUT/json/up.$n.spec down_spec=$OUT/json/down.$n.spec
  : > "$up_spec"
  : > "$down_spec"
  for tool in "${TOOLS[@]}"; do
    db=$(db_of "$tool")
    warm=$W_SMALL runs=$R_SMALL
    if [ "$n" = 1000 ]; then warm=$W_BIG runs=$R_BIG; fi
    upruns=$runs upwarm=$warm downruns=$runs downwarm=$warm
    if [ "$n" = 1000 ] && [ "$tool" = sqitch ]; then upwarm=$W_SLOW upruns=$R_SLOW; fi
    if [ "$n" = 1000 ] && { [ "$tool" = sqitch ] || [ "$tool" = dbmate ]; }; then
      downwarm=$W_SLOW downruns=$R_SLOW
    fi
    spec_add "$up_spec" "up.$n.$tool" "$tool" "$upwarm" "$upruns" "$(reset_cmd "$db")" "$(up_cmd "$tool" "$n")"
  done
  run_spec "$up_spec" upgrade "$n" "$WL/$n/rbacmig" 'rbacmig|rbacmig-cold'
  for tool in "${TOOLS[@]}"; do
    db=$(db_of "$tool")
    ran_ok "up.$n.$tool" && check_tables "$db" "$n" "$tool upgrade N=$n" || continue
    sql -c "DROP DATABASE IF EXISTS tmpl_$db" -c "CREATE DATABASE tmpl_$db TEMPLATE $db"
    warm=$W_SMALL runs=$R_SMALL
    if [ "$n" = 1000 ]; then warm=$W_BIG runs=$R_BIG; fi
    if [ "$n" = 1000 ] && { [ "$tool" = sqitch ] || [ "$tool" = dbmate ]; }; then
      warm=$W_SLOW runs=$R_SLOW
    fi
    spec_add "$down_spec" "down.$n.$tool" "$tool" "$warm" "$runs" "$(reset_cmd "$db" "tmpl_$db")" "$(down_cmd "$tool" "$n")"
  done
  run_spec "$down_spec" downgrade "$n" "$WL/$n/rbacmig" 'rbacmig|rbacmig-cold'
  for tool in "${TOOLS[@]}"; do
    db=$(db_of "$tool")
    sql -At -c "SELECT 1 FROM pg_database WHERE datname = 'tmpl_$db'" | grep -q 1 || continue
    if ran_ok "down.$n.$tool"; then check_tables "$db" 0 "$tool downgrade N=$n" || true; fi
    if [ "$n" = 100 ]; then   # leave it at head for the no-op workload
      run_words "$(reset_cmd "$db" "tmpl_$db")" >/dev/null
    fi
    sql -c "DROP DATABASE tmpl_$db"
  done
  if [ "$n" = 100 ]; then
    noop_spec=$OUT/json/noop.spec
    : > "$noop_spec"
    for tool in psql rbacmig rbacmig-cold alembic dbmate sqitch; do
      spec_add "$noop_spec" "noop.$tool" "$tool" "$W_NOOP" "$R_NOOP" "" "$(noop_cmd "$tool" 100)"
    done
    run_spec "$noop_spec" noop 100 "$WL/100/rbacmig" '.*'
  fi
done

# Workload 6: workload 1 at N = 100 again, every tool talking to the server through
# bench/latency_proxy.py, which holds each byte RTT_MS / 2 in each direction: what a run
# against a hosted database (Supabase from a laptop or a CI runner) costs, where round trips,
# not the server, take the time. Only the timed commands go through the proxy.
remote_workload() {
  local n=100 proxy_port proxy_pid spec tool db saved_url=$URL saved_port=$PORT
  proxy_port=$(free_port_after "$PORT") || return 1
  python3 "$BENCH/latency_proxy.py" "$proxy_port" "$PORT" "$(awk -v r="$RTT_MS" 'BEGIN { print r / 2 }')" \
    > "$OUT/proxy.out" 2>&1 &
  proxy_pid=$!
  for _ in $(seq 50); do grep -q ready "$OUT/proxy.out" 2>/dev/null && break; sleep 0.1; done
  grep -q ready "$OUT/proxy.out" || { kill "$proxy_pid"; return 1; }
  echo "$RTT_MS" > "$OUT/rtt_ms"
  for phase in up down; do
    spec=$OUT/json/remote.$phase.spec
    : > "$spec"
    for tool in psql-1tx psql-ntx rbacmig alembic dbmate sqitch; do
      db=$(db_of "$tool")
      URL=postgresql://postgres@127.0.0.1:$proxy_port PORT=$proxy_port
      if [ "$phase" = up ]; then
        cmd=$(up_cmd "$tool" "$n") prep=$(reset_cmd "$db")
      else
        cmd=$(down_cmd "$tool" "$n") prep=$(reset_cmd "$db" "tmpl_$db")
        if [ "$tool" = dbmate ]; then   # its script has the server's address written in
          sed "s#$saved_url/#$URL/#g" "$WL/$n/dbmate_rollback_all.sh" > "$WL/$n/dbmate_rollback_remote.sh"
          cmd="sh $WL/$n/dbmate_rollback_remote.sh"
        fi
      fi
      URL=$saved_url PORT=$saved_port
      spec_add "$spec" "remote.$phase.$n.$tool" "$tool" "$W_REMOTE" "$R_REMOTE" "$prep" "$cmd"
    done
    BENCH_DATABASE_URL=postgresql://postgres@127.0.0.1:$proxy_port/bench_alembic \
      run_spec "$spec" "$phase-remote" "$n" "$WL/$n/rbacmig" 'none'
    for tool in psql-1tx psql-ntx rbacmig alembic dbmate sqitch; do
      db=$(db_of "$tool")
      if [ "$phase" = up ]; then
        # what each tool's upgrade left is where its downgrade starts
        run_words "$(reset_cmd "$db")" >/dev/null
        (cd "$WL/$n/rbacmig" && BENCH_DATABASE_URL=$URL/bench_alembic run_words "$(up_cmd "$tool" "$n")" >/dev/null 2>&1) ||
          echo "bench: $tool upgrade N=$n (for the remote downgrade) failed" >&2
        sql -c "DROP DATABASE IF EXISTS tmpl_$db" -c "CREATE DATABASE tmpl_$db TEMPLATE $db"
      else
        if ran_ok "remote.down.$n.$tool"; then check_tables "$db" 0 "$tool remote downgrade N=$n" || true; fi
        sql -c "DROP DATABASE IF EXISTS tmpl_$db"
      fi
    done
  done
  kill "$proxy_pid" 2>/dev/null
  wait "$proxy_pid" 2>/dev/null || true
}
if [ "$RTT_MS" != 0 ] && [ -d "$WL/100" ]; then
  log "workload 6: upgrade and downgrade N = 100 with the server $RTT_MS ms of round trip away"
  remote_workload || echo "bench: workload 6 incomplete" >&2
fi

log "workload 3: current and history over N = $GRAPH_NS revisions"
for n in $GRAPH_NS; do
  d=$WL/$n
  for tool in rbacmig alembic dbmate sqitch; do
    run_words "$(reset_cmd "graph_$tool")" >/dev/null
  done
  # every tool's database is stamped at head without running the DDL
  (cd "$d/rbacmig" && "$RBACMIG" -q -d "$URL/graph_rbacmig" stamp head >/dev/null)
  BENCH_DATABASE_URL=$URL/graph_alembic "$ALEMBIC" -c "$d/alembic/alembic.ini" stamp head >/dev/null 2>&1
  sqldb graph_dbmate -c "CREATE TABLE schema_migrations (version varchar(128) PRIMARY KEY)" \
    -c "INSERT INTO schema_migrations SELECT lpad(i::text, 14, '0') FROM generate_series(1, $n) i"
  sqitch_graph=1
  "$SQITCH" -C "$d/sqitch" deploy --log-only --target "db:pg://postgres@127.0.0.1:$PORT/graph_sqitch" \
    --db-client "$PSQL" >/dev/null || sqitch_graph=0
  g=db:pg://postgres@127.0.0.1:$PORT/graph_sqitch
  for what in current history; do
    bench "$what.$n.psql" "$what" "$n" psql "$d/rbacmig" "$W_GRAPH" "$R_GRAPH" 1 "" \
      "$PSQL -X -d $URL/graph_rbacmig -c 'SELECT version_num FROM rbacmig_version'" || true
    bench "$what.$n.rbacmig" "$what" "$n" rbacmig "$d/rbacmig" "$W_GRAPH" "$R_GRAPH" 1 "" \
      "$RBACMIG -d $URL/graph_rbacmig $what" || true
    bench "$what.$n.rbacmig-cold" "$what" "$n" rbacmig-cold "$d/rbacmig" "$W_GRAPH" "$R_GRAPH" 1 "" \
      "$COLD $RBACMIG -d $URL/graph_rbacmig $what" || true
    if [ -x "$STATIC" ]; then
      bench "$what.$n.rbacmig-static" "$what" "$n" rbacmig-static "$d/rbacmig" "$W_GRAPH" \
        "$R_GRAPH" 1 "" "$STATIC -d $URL/graph_rbacmig $what" || true
    fi
    gw=$W_GRAPH gr=$R_GRAPH
    if [ "$n" = 10000 ]; then gw=$W_SLOW gr=$R_SLOW; fi
    BENCH_DATABASE_URL=$URL/graph_alembic bench "$what.$n.alembic" "$what" "$n" alembic "$d/rbacmig" \
      "$gw" "$gr" 1 "" "$ALEMBIC -c $d/alembic/alembic.ini $what" || true
    bench "$what.$n.dbmate" "$what" "$n" "dbmate (status)" "$d/rbacmig" "$W_GRAPH" "$R_GRAPH" 1 "" \
      "$DBMATE --url $URL/graph_dbmate?sslmode=disable --migrations-dir $d/dbmate status" || true
    if [ "$sqitch_graph" = 1 ]; then
      if [ "$what" = current ]; then scmd=status; else scmd=log; fi
      bench "$what.$n.sqitch" "$what" "$n" "sqitch ($scmd)" "$d/rbacmig" "$gw" "$gr" 1 "" \
        "$SQITCH -C $d/sqitch $scmd --target $g --db-client $PSQL" || true
    fi
  done
done

# Workload 4: 10,000 tenants with 4 template roles over a 50-permission catalogue
# (bench/gen_rbac.py), from a database at the RBAC schema with no data: rbacmig (one
# set-based INSERT of the tenants, then `rbacmig seed`) against the same rows written by
# a hand-written set-based script and by one INSERT per row. Uses this checkout's
# migrations/ as they were at the build; if they do not upgrade, the workload is skipped, not faked.
seed_workload() {
  local r=$WL/rbac expected got
  python3 "$BENCH/gen_rbac.py" "$SEED_TENANTS" "$r" || return 1
  mkdir -p "$r/project"
  cp -r "$SNAP/migrations" "$r/rbac" "$r/project/" || return 1
  run_words "$(reset_cmd seed_tmpl)" >/dev/null || return 1
  (cd "$r/project" && "$RBACMIG" -q -d "$URL/seed_tmpl" upgrade head >/dev/null) || {
    echo "bench: the RBAC migrations do not upgrade; workload 4 skipped" >&2; return 1; }
  cat > "$r/seed_rbacmig.sh" <<EOF
#!/bin/sh
# tenants in one INSERT, then rbacmig seed
set -e
$PSQL -X -q -v ON_ERROR_STOP=1 -d $URL/seed -f $r/tenants.sql
cd $r/project
exec $RBACMIG -q -d $URL/seed seed
EOF
  expected=$(cat "$r/expected.txt")
  local tool cmd warm runs
  for tool in psql-setbased rbacmig psql-naive; do
    warm=$W_SEED runs=$R_SEED
    case $tool in
      psql-setbased) cmd="$PSQL -X -q -v ON_ERROR_STOP=1 -1 -d $URL/seed -f $r/setbased.sql" ;;
      rbacmig) cmd="sh $r/seed_rbacmig.sh" ;;
      psql-naive) cmd="$PSQL -X -q -v ON_ERROR_STOP=1 -1 -d $URL/seed -f $r/naive.sql"
                  warm=0 runs=$R_SEED_NAIVE ;;
    esac
    bench "seed.$SEED_TENANTS.$tool" seed "$SEED_TENANTS" "$tool" "$r" "$warm" "$runs" 0 \
      "$(reset_cmd seed seed_tmpl)" "$cmd" || continue
    got=$(sqldb seed -c "SELECT (SELECT count(*) FROM tenants) || ' ' || (SELECT count(*) FROM roles) || ' ' || (SELECT count(*) FROM role_permissions)")
    [ "$got" = "$expected" ] ||
      echo "bench: seed $tool: expected tenants, roles, grants $expected, found $got" >&2
  done
  sql -c "DROP DATABASE IF EXISTS seed WITH (FORCE)" -c "DROP DATABASE seed_tmpl"
}
if [ "$SEED_TENANTS" -gt 0 ]; then
  log "workload 4: seeding $SEED_TENANTS tenants (4 template roles, 50 permissions)"
  seed_workload || echo "bench: workload 4 incomplete" >&2
fi

# Workload 5: has_permission() latency over 100,000 tenants and 1,000,000 memberships:
# timed call by call inside the server (bench/sql/perm_latency.sql), and end to end with
# pgbench (one client, prepared statements, custom scripts from bench/sql/) next to the
# round trip alone (SELECT 1); and a user's memberships read through row-level security. The RLS read needs the
# migration's Supabase layer: it is there when tests/pgtap/00_supabase_fixture.sql (plain
# PostgreSQL made to look like Supabase) exists; otherwise only has_permission runs.
perm_workload() {
  local r=$WL/perm rls=0 name script fixture=$SNAP/00_supabase_fixture.sql
  mkdir -p "$r/project" "$OUT/pgbench"
  cp -r "$SNAP/migrations" "$SNAP/rbac" "$r/project/" || return 1
  run_words "$(reset_cmd perm)" >/dev/null || return 1
  if [ -f "$fixture" ] && sqldb perm -f "$fixture" >/dev/null; then rls=1; fi
  (cd "$r/project" && "$RBACMIG" -q -d "$URL/perm" upgrade head >/dev/null &&
     "$RBACMIG" -q -d "$URL/perm" seed >/dev/null) || {
    echo "bench: the RBAC migrations do not upgrade or seed; workload 5 skipped" >&2; return 1; }
  if [ "$rls" = 1 ]; then
    rls=$(sqldb perm -c "SELECT relrowsecurity::int FROM pg_class WHERE oid = 'memberships'::regclass")
  fi
  printf '   %-28s %s\n' "perm data" "bench/sql/perm_data.sql (rls=$rls)" >&2
  sqldb perm -v rls="$rls" -f "$BENCH/sql/perm_data.sql" > "$OUT/pgbench/data.txt" || return 1
  printf '   %-28s %s\n' "perm.server" "bench/sql/perm_latency.sql (100,000 calls timed in the server)" >&2
  sqldb perm -F ' ' -v n=100000 -f "$BENCH/sql/perm_latency.sql" > "$OUT/pgbench/server.txt" ||
    echo "bench: perm_latency.sql failed" >&2
  # Over TCP (127.0.0.1, as a client on another host would come, less the network) and over
  # the Unix socket (what is left when the network is taken away); SELECT 1 is the floor of
  # each.
  local transport host
  for transport in tcp unix; do
    host=127.0.0.1
    [ "$transport" = tcp ] || host=$PG_DIR
    for name in select1 ids has_permission rls_memberships; do
      [ "$name" != rls_memberships ] || [ "$rls" = 1 ] || continue
      script=$BENCH/sql/pgbench_$name.sql
      printf '   %-28s %s\n' "pgbench.$name.$transport" "pgbench -M prepared -c 1 -T $PGB_SECONDS -h $host" >&2
      "$PG_BIN/pgbench" -n -M prepared -c 1 -j 1 -T 3 -f "$script" -h "$host" -p "$PORT" \
        -U postgres perm >/dev/null 2>&1 || { echo "bench: pgbench $name failed" >&2; continue; }
      (cd "$OUT/pgbench" && "$PG_BIN/pgbench" -n -M prepared -c 1 -j 1 -T "$PGB_SECONDS" -r -l \
         --log-prefix="$name.$transport" -f "$script" -h "$host" -p "$PORT" -U postgres perm \
         > "$OUT/pgbench/$name.$transport.txt" 2>&1) || echo "bench: pgbench $name failed" >&2
    done
  done
  sql -c "DROP DATABASE perm WITH (FORCE)"
}
if [ "$PERM" = 1 ]; then
  log "workload 5: has_permission() and an RLS read over 100,000 tenants, 1,000,000 memberships"
  perm_workload || echo "bench: workload 5 incomplete" >&2
fi

# Statements (each a round trip unless pipelined), their server time, and connections per tool, from the server
# log: each tool upgrades, runs the no-op, then downgrades N=10 and N=100 on a fresh
# database, with log_min_duration_statement=0 set for its sessions only (through
# PGOPTIONS, so every process it starts inherits it); report.py takes per step
# = (count at 100 - count at 10) / 90.
log "counting statements per step (log_min_duration_statement=0)"
mkdir -p "$OUT/stmtlog"
count_log() {   # count_log TOOL PHASE N CMD: run CMD with statement logging, keep its log lines
  local before
  before=$(wc -l < "$PG_DIR/log")
  (cd "$WL/$3/rbacmig" && PGOPTIONS='-c log_min_duration_statement=0' run_words "$4" >/dev/null 2>&1) ||
    echo "bench: $1 $2 N=$3 failed while counting statements" >&2
  sleep 0.2   # let the server write its last lines
  tail -n +"$((before + 1))" "$PG_DIR/log" > "$OUT/stmtlog/$1.$2.$3.log"
}
for tool in psql-ntx rbacmig alembic dbmate sqitch; do
  db=$(db_of "$tool")
  for n in 10 100; do
    run_words "$(reset_cmd "$db")" >/dev/null
    count_log "$tool" upgrade "$n" "$(up_cmd "$tool" "$n")"
    count_log "$tool" noop "$n" "$(noop_cmd "$tool" "$n")"
    count_log "$tool" downgrade "$n" "$(down_cmd "$tool" "$n")"
  done
done

# ---------------------------------------------------------------------------------------
# 6. Report

{
  echo "date: $(date -u '+%Y-%m-%d %H:%M UTC')"
  echo "command: bash bench/run.sh${1:+ $1}"
  echo "cpu: $(lscpu | sed -n 's/^Model name: *//p' | head -n 1), $(nproc) cores"
  echo "memory: $(free -h | awk '/^Mem:/ {print $2}')"
  echo "os: $(. /etc/os-release && echo "$PRETTY_NAME"), kernel $(uname -r)"
  echo "postgresql: $("$PG_BIN/postgres" --version | awk '{print $3}') (fsync=on, default settings, 127.0.0.1 TCP)"
  echo "rbacmig: $("$RBACMIG" --version 2>&1 | head -n 1) (Release, git $(git -C "$ROOT" rev-parse --short HEAD 2>/dev/null || echo unknown))"
  echo "alembic: $("$ALEMBIC" --version 2>&1 | awk '{print $2}'), sqlalchemy $(/usr/bin/python3 -c 'import sqlalchemy; print(sqlalchemy.__version__)' 2>/dev/null || echo '?'), psycopg2 $(/usr/bin/python3 -c 'import psycopg2; print(psycopg2.__version__.split()[0])' 2>/dev/null || echo '?')"
  echo "dbmate: $("$DBMATE" --version | awk '{print $3}') (npm, native binary)"
  echo "sqitch: $("$SQITCH" --version | awk '{print $3}')"
  echo "hyperfine: $(hyperfine --version | awk '{print $2}')"
  echo "repetitions: N<=100 ${W_SMALL}+${R_SMALL}, N=1000 ${W_BIG}+${R_BIG} (sqitch, dbmate down ${W_SLOW}+${R_SLOW}), no-op ${W_NOOP}+${R_NOOP}, graph ${W_GRAPH}+${R_GRAPH} (warm-up + timed)"
} > "$OUT/machine.txt"

python3 "$BENCH/report.py" "$OUT"
if gnuplot -e "datafile='$OUT/upgrade_vs_n.dat'; outfile='$OUT/upgrade_vs_n.png'" "$BENCH/upgrade_vs_n.gp"; then
  cp "$OUT/upgrade_vs_n.png" "$BENCH/upgrade_vs_n.png"
  log "chart: bench/upgrade_vs_n.png"
fi
log "raw results in bench/out/ (table.md, manifest.tsv, json/, stmtlog/)"
}

main "$@"; exit
