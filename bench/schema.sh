#!/usr/bin/env bash
# bench/schema.sh — the schema reader (issue 14: `diff`, `schema dump`, `drift`) against its
# peers, side by side in one run, with ratios.
#
#   bash bench/schema.sh [--quick]
#
# On a Debian 12 machine with this project's build dependencies, PostgreSQL, npm and
# /usr/bin/time (bench/run.sh installs them), this:
#   1. builds rbacmig (Release) into build-bench/ and installs @pgkit/migra (the TypeScript
#      port of the migra the Supabase CLI's `db diff` used) from npm into bench/.node/migra
#   2. starts a throwaway PostgreSQL with Supabase's roles (scripts/pg-test-server.sh:
#      `postgres` is not a superuser) and loads tests/pgtap/00_supabase_fixture.sql into
#      every database it makes
#   3. times, interleaved (bench/interleave.py: each round runs every tool once):
#      diff    `rbacmig diff FROM TO` and `migra FROM TO --unsafe --with-privileges` on a
#              small pair (tests/e2e/schema_kinds/a.sql, and a copy with six edits);
#              target: rbacmig >= 20x faster, < 10 MB
#      dump    `rbacmig schema dump` of a schema of N tables (bench/gen_schema.py: 5 columns,
#              2 indexes, 1 policy and grants each; one database grown from 100 to 1,000 to
#              5,000 tables) next to `pg_dump --schema-only`, and on SQLite next to
#              `sqlite3 .schema`; target: N=1000 on PostgreSQL < 1 s and < 50 MB, the cost
#              linear in N
#      drift   `rbacmig drift` on the project's own migrations (migrations/, applied to a
#              Supabase-like database): shadow created, replayed, read, compared, dropped;
#              next to the floor of its shadow alone (psql: CREATE DATABASE, DROP DATABASE);
#              target: < 1 s
#      peak RSS: the median of several runs under /usr/bin/time
#   4. logs every statement of one more rbacmig run of each (log_min_duration_statement=0,
#      log_statement_stats=on) and prints where the server's time goes, query by query, and
#      the CPU rbacmig and its backends used: the reader waits for each query, so their sum
#      is about what the run takes on an idle machine (this one is shared)
#   5. prints the table of medians, ratios and targets (bench/schema_report.py)
#
# --quick: fewer repetitions, N = 100 and 1,000 only, no SQLite (4.4 minutes with SQLite
# on 2 shared cores at a load of 12; aimed at under 3 on a quiet machine). BENCH_SCHEMA_NS="100 1000 5000" sets the sizes (ascending), BENCH_SCHEMA_SQLITE=0|1
# skips or runs SQLite; BENCH_SCHEMA_STATIC=1 also times diff with the static binary
# (below). The full run took 31 minutes on 2 shared cores at a load of 12.
# Raw results go to bench/out/schema/ (manifest.tsv, json/, stmtlog/, table.md).
set -euo pipefail

# The body is one function, read whole before it runs: editing this file during a run cannot
# change the run.
main() {

usage() { echo "usage: bash bench/schema.sh [--quick]"; }
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
OUT=$BENCH/out/schema
log() { printf '\n== %s\n' "$*" >&2; }

# warm-up + timed runs per tool; RSS_RUNS runs under /usr/bin/time (the median is kept)
if [ "$QUICK" = 1 ]; then
  W_DIFF=1 R_DIFF=10 W_MIGRA=1 R_MIGRA=4
  W_DUMP=1 R_DUMP=3
  W_DRIFT=1 R_DRIFT=5
  RSS_RUNS=3
  NS=${BENCH_SCHEMA_NS:-100 1000}
else
  W_DIFF=3 R_DIFF=30 W_MIGRA=2 R_MIGRA=15
  W_DUMP=2 R_DUMP=10
  W_DRIFT=2 R_DRIFT=20
  RSS_RUNS=5
  NS=${BENCH_SCHEMA_NS:-100 1000 5000}
fi
SQLITE=${BENCH_SCHEMA_SQLITE:-$((1 - QUICK))}

# ---------------------------------------------------------------------------------------
# 1. rbacmig and migra

log "building rbacmig (Release) in build-bench/"
build_rbacmig() {
  cmake -S "$ROOT" -B "$ROOT/build-bench" -DCMAKE_BUILD_TYPE=Release >/dev/null &&
  cmake --build "$ROOT/build-bench" -j"$(nproc)" --target rbacmig >/dev/null
}
# others may be mid-edit in src/: retry a failed build twice, a minute apart
build_rbacmig || { sleep 60; build_rbacmig; } || { sleep 60; build_rbacmig; }
RBACMIG=$ROOT/build-bench/rbacmig
# BENCH_SCHEMA_STATIC=1: the diff is also timed with the static binary the Dockerfile ships
# (scripts/build-static.sh into build-bench-static/; its first run builds libpq from
# Debian's source, ~2.5 minutes). It loads no shared libraries: no dynamic linking at
# start-up (~15 ms here) and about 7 MB less resident (libpq's GSSAPI, LDAP and GnuTLS).
STATIC=${BENCH_SCHEMA_STATIC:-0}
RBACMIG_STATIC=""
if [ "$STATIC" = 1 ]; then
  log "building the static rbacmig (scripts/build-static.sh) in build-bench-static/"
  if RBACMIG_STATIC_BUILD_DIR=build-bench-static bash "$ROOT/scripts/build-static.sh" --no-test >&2; then
    RBACMIG_STATIC=$ROOT/build-bench-static/rbacmig
  else
    echo "bench: the static build failed; its row is left out" >&2
  fi
fi

MIGRA_VERSION=0.6.1   # as tests/e2e/test_migra_diff.sh
MIGRA=$BENCH/.node/migra/node_modules/.bin/migra
if [ ! -x "$MIGRA" ]; then
  log "npm install @pgkit/migra@$MIGRA_VERSION (into bench/.node/migra)"
  mkdir -p "$BENCH/.node/migra"
  npm install --prefix "$BENCH/.node/migra" --no-audit --no-fund --loglevel=error \
    "@pgkit/migra@$MIGRA_VERSION" >/dev/null
fi
RC=$BENCH/rc.sh

# ---------------------------------------------------------------------------------------
# 2. A throwaway PostgreSQL with Supabase's roles

WORK=""
# shellcheck source=../scripts/pg-test-server.sh
. "$ROOT/scripts/pg-test-server.sh"
cleanup() {
  if [ -n "${PG_TEST_DIR:-}" ] && [ -d "$PG_TEST_DIR" ]; then
    cp "$PG_TEST_DIR/log" "$OUT/postgres.log" 2>/dev/null || true
  fi
  pg_test_stop
  [ -z "$WORK" ] || rm -rf "$WORK"
  WORK=""
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

rm -rf "$OUT"
mkdir -p "$OUT/json" "$OUT/stmtlog"
WORK=$(mktemp -d /tmp/schemabench.XXXXXX)
log "starting PostgreSQL"
pg_test_start >&2
PG_BIN=$RBACMIG_TEST_PG_BIN
PSQL=$PG_BIN/psql   # the real client, not Debian's Perl wrapper
URL=${RBACMIG_TEST_PG_URL%/*}             # postgres, not a superuser: what every tool uses
ADMIN=${RBACMIG_TEST_PG_ADMIN_URL%/*}     # supabase_admin: the fixture, statement logging
FIXTURE=$ROOT/tests/pgtap/00_supabase_fixture.sql

sqldb() { local db=$1; shift; "$PSQL" -X -q -At -v ON_ERROR_STOP=1 -d "$URL/$db" "$@"; }
new_db() {   # new_db NAME [TEMPLATE]: a database owned by postgres, with the Supabase fixture
  if [ -n "${2:-}" ]; then
    sqldb postgres -c "CREATE DATABASE $1 TEMPLATE $2"
  else
    sqldb postgres -c "CREATE DATABASE $1"
    env PGOPTIONS="-c client_min_messages=warning" \
      "$PSQL" -X -q -v ON_ERROR_STOP=1 -d "$ADMIN/$1" -f "$FIXTURE" >/dev/null
  fi
}

# ---------------------------------------------------------------------------------------
# 3. Measurements
#
# Each workload is a spec for bench/interleave.py (one line per tool); run_spec runs it and
# records each tool in the manifest (read by bench/schema_report.py, and by report.py's
# loader), with the median peak RSS of RSS_RUNS more runs under /usr/bin/time.

MANIFEST=$OUT/manifest.tsv
printf 'id\tworkload\tn\ttool\tjson\trss_kb\tstatus\n' > "$MANIFEST"
SPEC=""
spec_new() { SPEC=$OUT/json/$1.spec; : > "$SPEC"; }
spec_add() {   # spec_add ID TOOL WARMUP RUNS CMD
  printf '%s\t%s\t%s\t%s\t%s\n' "$1" "$2" "$3" "$4" "$5" >> "$SPEC"
  printf '   %-24s %s\n' "$1" "$5" >&2
}
median_rss() {   # median_rss ID CMD: the median peak RSS (KB) of RSS_RUNS runs of CMD
  local id=$1 cmd=$2 i
  local -a w
  eval "w=($cmd)"
  for i in $(seq "$RSS_RUNS"); do
    /usr/bin/time -f %M -o "$OUT/json/$id.rss" "${w[@]}" >/dev/null 2>&1 || true
    tail -n 1 "$OUT/json/$id.rss"
  done | sort -n | awk '{ v[NR] = $1 } END { print (NR ? v[int((NR + 1) / 2)] : "-") }'
}
run_spec() {   # run_spec WORKLOAD N: time SPEC's commands interleaved, then their RSS
  local workload=$1 n=$2 id tool warmup runs cmd rss status
  awk -F'\t' -v o="$OUT/json" -v d="$WORK" 'BEGIN { OFS = "\t" }
    { print o "/" $1 ".json", $3, $4, d, "", $5 }' "$SPEC" > "$SPEC.run"
  python3 "$BENCH/interleave.py" "$SPEC.run" 2> "$SPEC.err" || true
  sed 's/^/      /' "$SPEC.err" | tail -n 8 >&2
  while IFS=$'\t' read -r id tool warmup runs cmd; do
    rss=- status=failed
    if [ -s "$OUT/json/$id.json" ]; then
      status=ok
      rss=$(median_rss "$id" "$cmd")
    fi
    printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$id" "$workload" "$n" "$tool" \
      "$OUT/json/$id.json" "$rss" "$status" >> "$MANIFEST"
  done < "$SPEC"
}
# stmt_log NAME CMD: runs CMD once more (as supabase_admin, who may set
# log_min_duration_statement and log_statement_stats) and keeps the server log lines it
# caused: each statement's duration, and the CPU each backend used (getrusage), which a
# loaded machine inflates far less than wall time.
stmt_log() {
  local name=$1 cmd=$2 before
  local -a w
  eval "w=($cmd)"
  before=$(wc -l < "$PG_TEST_DIR/log")
  (cd "$WORK" && PGOPTIONS='-c log_min_duration_statement=0 -c log_statement_stats=on' "${w[@]}" >/dev/null 2>&1) || true
  sleep 0.3   # let the server write its last lines
  tail -n +"$((before + 1))" "$PG_TEST_DIR/log" > "$OUT/stmtlog/$name.log"
}

# Workload 1: diff on a small pair. FROM is tests/e2e/schema_kinds/a.sql (every kind the
# reader models); TO is a copy with six edits, three of them security-weakening, so rbacmig
# exits 5 and migra prints a script of six statements.
log "workload 1: diff on a small pair (tests/e2e/schema_kinds/a.sql and six edits)"
new_db diff_from
env PGOPTIONS="-c client_min_messages=warning" \
  "$PSQL" -X -q -v ON_ERROR_STOP=1 -d "$URL/diff_from" -f "$ROOT/tests/e2e/schema_kinds/a.sql" >/dev/null
new_db diff_to diff_from
sqldb diff_to -c "ALTER TABLE app.items ADD COLUMN note text" \
  -c "CREATE INDEX items_price_idx ON app.items (price)" \
  -c "DROP POLICY items_read ON app.items" \
  -c "GRANT SELECT ON app.items TO anon" \
  -c "ALTER TABLE app.items NO FORCE ROW LEVEL SECURITY" \
  -c "CREATE FUNCTION app.g(t text) RETURNS text LANGUAGE sql IMMUTABLE RETURN upper(t)"
DIFF_RB="$RBACMIG diff $URL/diff_from $URL/diff_to"
DIFF_MIGRA="$MIGRA $URL/diff_from $URL/diff_to --unsafe --with-privileges"
# Both see the edits (or the timings compare nothing).
$DIFF_RB > "$OUT/diff.rbacmig.txt" 2>/dev/null || true
$DIFF_MIGRA > "$OUT/diff.migra.txt" 2>/dev/null || true
grep -q '^7 differences' "$OUT/diff.rbacmig.txt" ||
  { echo "bench: rbacmig diff does not list the 7 differences:" >&2; cat "$OUT/diff.rbacmig.txt" >&2; exit 1; }
[ "$(grep -ciE '^(alter|create|drop|grant)' "$OUT/diff.migra.txt")" -ge 5 ] ||
  { echo "bench: migra's script misses the edits:" >&2; cat "$OUT/diff.migra.txt" >&2; exit 1; }
spec_new diff
spec_add diff.rbacmig rbacmig "$W_DIFF" "$R_DIFF" "sh $RC 5 $DIFF_RB"
[ -z "$RBACMIG_STATIC" ] ||
  spec_add diff.rbacmig-static rbacmig-static "$W_DIFF" "$R_DIFF" \
    "sh $RC 5 $RBACMIG_STATIC diff $URL/diff_from $URL/diff_to"
spec_add diff.migra migra "$W_MIGRA" "$R_MIGRA" "sh $RC 0 $DIFF_MIGRA"
run_spec diff small
stmt_log diff.rbacmig "$RBACMIG diff $ADMIN/diff_from $ADMIN/diff_to"

# Workload 2: schema dump of N tables; one database grown from the smallest N to the largest.
log "workload 2: schema dump of N tables (N = $NS)"
new_db dump
have=0
for n in $NS; do
  printf '   %-24s %s\n' "generate" "tables $((have + 1))-$n (bench/gen_schema.py)" >&2
  python3 "$BENCH/gen_schema.py" postgresql "$((have + 1))" "$n" |
    "$PSQL" -X -q -v ON_ERROR_STOP=1 -d "$URL/dump" -f - >/dev/null
  have=$n
  # the catalogs' statistics brought up to date (as autovacuum would, but not during the
  # timed runs); as the superuser, the only one who may vacuum the catalogs
  "$PSQL" -X -q -d "$ADMIN/dump" -c "VACUUM ANALYZE" >/dev/null 2>&1 || true
  got=$(sqldb dump -c "SELECT count(*) FROM pg_tables WHERE schemaname = 'app'")
  [ "$got" = "$n" ] || { echo "bench: expected $n tables in app, found $got" >&2; exit 1; }
  spec_new "dump.pg.$n"
  spec_add "dump.pg.$n.rbacmig" rbacmig "$W_DUMP" "$R_DUMP" "sh $RC 0 $RBACMIG -q -d $URL/dump schema dump"
  spec_add "dump.pg.$n.pg_dump" pg_dump "$W_DUMP" "$R_DUMP" "sh $RC 0 $PG_BIN/pg_dump --schema-only -d $URL/dump"
  run_spec dump-pg "$n"
  "$RBACMIG" -q -d "$URL/dump" schema dump > "$OUT/dump.pg.$n.txt" 2>/dev/null || true
  stmt_log "dump.pg.$n.rbacmig" "$RBACMIG -q -d $ADMIN/dump schema dump"
done

if [ "$SQLITE" = 1 ]; then
  log "workload 2 on SQLite: schema dump of N tables (N = $NS)"
  have=0
  for n in $NS; do
    python3 "$BENCH/gen_schema.py" sqlite "$((have + 1))" "$n" "$WORK/dump.sqlite"
    have=$n
    spec_new "dump.sqlite.$n"
    spec_add "dump.sqlite.$n.rbacmig" rbacmig "$W_DUMP" "$R_DUMP" "sh $RC 0 $RBACMIG -q -d sqlite:$WORK/dump.sqlite schema dump"
    spec_add "dump.sqlite.$n.sqlite3" sqlite3 "$W_DUMP" "$R_DUMP" "sh $RC 0 sqlite3 $WORK/dump.sqlite .schema"
    run_spec dump-sqlite "$n"
  done
fi

# Workload 3: drift on the RBAC schema (this checkout's migrations/ and rbac/, copied now).
log "workload 3: drift on the RBAC schema (migrations/)"
mkdir -p "$WORK/project"
cp -r "$ROOT/migrations" "$ROOT/rbac" "$WORK/project/"
new_db rbac
(cd "$WORK/project" && "$RBACMIG" -q -d "$URL/rbac" upgrade head >/dev/null)
(cd "$WORK/project" && "$RBACMIG" -q -d "$URL/rbac" drift > "$OUT/drift.txt" 2>&1) ||
  { echo "bench: drift of a clean RBAC database does not exit 0:" >&2; cat "$OUT/drift.txt" >&2; exit 1; }
spec_new drift
# interleave.py runs every command in $WORK: the project's directory is given with -c
# (its rbacmig.lua, if any) through cd in a shell, the same for both.
spec_add drift.rbacmig rbacmig "$W_DRIFT" "$R_DRIFT" "sh -c 'cd $WORK/project && exec sh $RC 0 $RBACMIG -q -d $URL/rbac drift'"
spec_add drift.shadow-floor psql "$W_DRIFT" "$R_DRIFT" "sh -c 'exec sh $RC 0 $PSQL -X -q -d $URL/postgres -c \"CREATE DATABASE bench_floor\" -c \"DROP DATABASE bench_floor\"'"
run_spec drift rbac
stmt_log drift.rbacmig "sh -c 'cd $WORK/project && $RBACMIG -q -d $ADMIN/rbac drift'"

# ---------------------------------------------------------------------------------------
# 4. Report

{
  echo "date: $(date -u '+%Y-%m-%d %H:%M UTC')"
  echo "command: bash bench/schema.sh${1:+ $1}"
  echo "cpu: $(lscpu | sed -n 's/^Model name: *//p' | head -n 1), $(nproc) cores"
  echo "memory: $(free -h | awk '/^Mem:/ {print $2}')"
  echo "load: $(cut -d' ' -f1-3 /proc/loadavg) (1, 5, 15 min, at the end of the run; the machine is shared)"
  echo "os: $(. /etc/os-release && echo "$PRETTY_NAME"), kernel $(uname -r)"
  echo "postgresql: $("$PG_BIN/postgres" --version | awk '{print $3}') (scripts/pg-test-server.sh: fsync=on, default settings, 127.0.0.1 TCP)"
  echo "rbacmig: $("$RBACMIG" --version 2>&1 | head -n 1) (Release, git $(git -C "$ROOT" rev-parse --short HEAD 2>/dev/null || echo unknown))"
  echo "migra: @pgkit/migra $MIGRA_VERSION, node $(node --version)"
  echo "sqlite3: $(sqlite3 --version | awk '{print $1}')"
  echo "repetitions: diff rbacmig ${W_DIFF}+${R_DIFF}, migra ${W_MIGRA}+${R_MIGRA}; dump ${W_DUMP}+${R_DUMP}; drift ${W_DRIFT}+${R_DRIFT} (warm-up + timed); peak RSS: median of $RSS_RUNS"
} > "$OUT/machine.txt"
python3 "$BENCH/schema_report.py" "$OUT"
log "raw results in bench/out/schema/ (table.md, manifest.tsv, json/, stmtlog/)"
}

main "$@"; exit
