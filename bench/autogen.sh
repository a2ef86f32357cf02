#!/usr/bin/env bash
# bench/autogen.sh — `rbacmig revision --autogenerate` (issue 15) against Alembic's
# `alembic revision --autogenerate`, side by side in one run, with ratios.
#
#   bash bench/autogen.sh [--quick]
#
# On a Debian 12 machine with this project's build dependencies (scripts/install-deps.sh:
# PostgreSQL, python3-alembic, python3-sqlalchemy, python3-psycopg2, /usr/bin/time), this:
#   1. builds rbacmig (Release) into build-bench/
#   2. starts a throwaway PostgreSQL with Supabase's roles (scripts/pg-test-server.sh:
#      `postgres` is not a superuser; tests/pgtap/00_supabase_fixture.sql in each database)
#   3. writes both projects (bench/gen_autogen.py, N = 100): the state before, N tables with
#      2 indexes, a check, row-level security + 1 policy and grants each, as rbacmig's
#      migration 0001 (the live database upgraded to it) and as the Alembic database's
#      content (loaded with psql, then `alembic stamp head`); the declarations, the same
#      tables with a new column and a new index on N/10 of them and one new table, as
#      schema/10_app.sql and as a SQLAlchemy MetaData (same tables, columns, indexes and
#      checks: Alembic has no policies or grants). Both tools must find those changes
#      (checked on one run of each before the timing)
#   4. times, interleaved (bench/interleave.py: each round runs every command once; the file
#      each writes is deleted before its next run, untimed):
#        rbacmig  `rbacmig revision --autogenerate -m x`: both shadows (head replayed from
#                 the migrations, the declarations applied), both read and compared, the
#                 migration generated, proved up and down; the shadows are the kept pair
#                 (keep_shadows, the default), made by the checked run before the timing
#        rbacmig, first run   the same in a copy of the project whose kept pair is dropped
#                 before each run (untimed): both made, the migrations replayed whole
#        rbacmig, keep_shadows = false   a copy that makes and drops two throwaway shadows
#        alembic  `alembic revision --autogenerate -m x` (Debian's, /usr/bin/python3 -m
#                 alembic): the live database reflected and compared with the model
#        rbacmig, --shadow-url x2   (not under --quick) the same, in two empty databases
#                 made (and afterwards dropped) outside the timed run: what CREATE/DROP
#                 DATABASE cost it
#        psql floor   two shadows made with psql alone (bench/autogen_floor.sh): create,
#                 apply the state before and the declarations, drop
#      and the same rbacmig/alembic pair on SQLite (there the new table is declared with
#      the schema API: see bench/gen_autogen.py); peak RSS: median of several runs
#      under /usr/bin/time. Target: rbacmig < 2 s on PostgreSQL, and faster than Alembic.
#   5. runs rbacmig once more with its stderr stamped (bench/autogen_phases.py) to show where
#      its time goes, with the server's checkpoint lines of that run (DROP DATABASE forces a
#      checkpoint), and prints the table (bench/autogen_report.py)
#
# --quick: no warm-up (the checked run before it warms the caches), 3 timed runs a command,
# 1 for RSS, no --shadow-url row; the full run: 2 + 15, 5 for RSS. On this shared machine the
# shadows' disk work makes each rbacmig run 8-25 s (see bench/RESULTS.md), so --quick took
# 9.6 minutes at a load of 11-14 (with 1 warm-up); on a quiet machine it is aimed at under 3.
# (fsync cannot be turned off to isolate the disk: scripts/pg-test-server.sh sets fsync=on
# on the command line, which ALTER SYSTEM cannot override.) BENCH_AUTOGEN_N sets N,
# BENCH_AUTOGEN_SQLITE=0 skips SQLite. Raw results go to bench/out/autogen/.
set -euo pipefail

main() {

usage() { echo "usage: bash bench/autogen.sh [--quick]"; }
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
OUT=$BENCH/out/autogen
log() { printf '\n== %s\n' "$*" >&2; }

if [ "$QUICK" = 1 ]; then W=0 R=3 RSS_RUNS=1; else W=2 R=15 RSS_RUNS=5; fi
N=${BENCH_AUTOGEN_N:-100}
SQLITE=${BENCH_AUTOGEN_SQLITE:-1}
PY=/usr/bin/python3     # Debian's python3-alembic, not whatever python3 is first on PATH
RC=$BENCH/rc.sh

log "building rbacmig (Release) in build-bench/"
build_rbacmig() {
  cmake -S "$ROOT" -B "$ROOT/build-bench" -DCMAKE_BUILD_TYPE=Release >/dev/null &&
  cmake --build "$ROOT/build-bench" -j"$(nproc)" --target rbacmig >/dev/null
}
build_rbacmig || { sleep 60; build_rbacmig; } || { sleep 60; build_rbacmig; }
RBACMIG=$ROOT/build-bench/rbacmig

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
mkdir -p "$OUT/json"
WORK=$(mktemp -d /tmp/autogenbench.XXXXXX)
log "starting PostgreSQL"
pg_test_start >&2
PG_BIN=$RBACMIG_TEST_PG_BIN
PSQL=$PG_BIN/psql
URL=${RBACMIG_TEST_PG_URL%/*}
ADMIN=${RBACMIG_TEST_PG_ADMIN_URL%/*}
HOSTPORT=${URL#postgresql://postgres@}
FIXTURE=$ROOT/tests/pgtap/00_supabase_fixture.sql
sqldb() { local db=$1; shift; "$PSQL" -X -q -At -v ON_ERROR_STOP=1 -d "$URL/$db" "$@"; }
new_db() {
  sqldb postgres -c "CREATE DATABASE $1"
  env PGOPTIONS="-c client_min_messages=warning" \
    "$PSQL" -X -q -v ON_ERROR_STOP=1 -d "$ADMIN/$1" -f "$FIXTURE" >/dev/null
}

MANIFEST=$OUT/manifest.tsv
printf 'id\tworkload\tn\ttool\tjson\trss_kb\tstatus\n' > "$MANIFEST"
SPEC=""
spec_new() { SPEC=$OUT/json/$1.spec; : > "$SPEC"; }
spec_add() {   # spec_add ID TOOL PREPARE CMD [RSS: 1|0]
  printf '%s\t%s\t%s\t%s\t%s\n' "$1" "$2" "$3" "$4" "${5:-1}" >> "$SPEC"
  printf '   %-28s %s\n' "$1" "$4" >&2
}
median_rss() {   # median_rss ID PREPARE CMD
  local id=$1 prepare=$2 cmd=$3 i
  local -a w
  eval "w=($cmd)"
  for i in $(seq "$RSS_RUNS"); do
    sh -c "$prepare" >/dev/null 2>&1 || true
    /usr/bin/time -f %M -o "$OUT/json/$id.rss" "${w[@]}" >/dev/null 2>&1 || true
    tail -n 1 "$OUT/json/$id.rss"
  done | sort -n | awk '{ v[NR] = $1 } END { print (NR ? v[int((NR + 1) / 2)] : "-") }'
}
run_spec() {   # run_spec WORKLOAD: SPEC's commands timed interleaved, then their RSS
  local workload=$1 id tool prepare cmd rss_on rss status
  awk -F'\t' -v o="$OUT/json" -v d="$WORK" -v w="$W" -v r="$R" 'BEGIN { OFS = "\t" }
    { print o "/" $1 ".json", w, r, d, $3, $4 }' "$SPEC" > "$SPEC.run"
  python3 "$BENCH/interleave.py" "$SPEC.run" 2> "$SPEC.err" || true
  sed 's/^/      /' "$SPEC.err" | tail -n 8 >&2
  while IFS=$'\t' read -r id tool prepare cmd rss_on; do
    rss=- status=failed
    if [ -s "$OUT/json/$id.json" ]; then
      status=ok
      [ "$rss_on" = 0 ] || rss=$(median_rss "$id" "$prepare" "$cmd")
    fi
    printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$id" "$workload" "$N" "$tool" \
      "$OUT/json/$id.json" "$rss" "$status" >> "$MANIFEST"
  done < "$SPEC"
}
# expect_changes WHAT FILE PATTERN COUNT: FILE has COUNT lines matching PATTERN
expect_changes() {
  local got
  got=$(grep -cE "$3" "$2" || true)
  [ "$got" = "$4" ] || { echo "bench: $1: expected $4 lines matching '$3' in $2, found $got:" >&2; cat "$2" >&2; exit 1; }
}
CHANGED=$(( N / 10 > 0 ? N / 10 : 1 ))

# ---------------------------------------------------------------------------------------
# PostgreSQL
log "PostgreSQL: $N tables, $CHANGED changed, 1 new (bench/gen_autogen.py)"
P=$WORK/pg
python3 "$BENCH/gen_autogen.py" postgresql "$N" "$P" "postgresql+psycopg2://postgres@$HOSTPORT/alembic_live"
new_db rbacmig_live
new_db alembic_live
(cd "$P/rbacmig" && "$RBACMIG" -q -d "$URL/rbacmig_live" upgrade head >/dev/null)
env PGOPTIONS="-c client_min_messages=warning" \
  "$PSQL" -X -q -1 -v ON_ERROR_STOP=1 -d "$URL/alembic_live" -f "$P/before.sql" >/dev/null
(cd "$P/alembic" && "$PY" -m alembic -c alembic.ini stamp head >/dev/null 2>&1)
for db in rbacmig_live alembic_live; do
  "$PSQL" -X -q -d "$ADMIN/$db" -c "VACUUM ANALYZE" >/dev/null 2>&1 || true
done

# One run of each, its output checked: both see the same changes, or the timings compare nothing.
RB_CMD="$RBACMIG -q -d $URL/rbacmig_live revision --autogenerate -m x --rev-id benchx"
AL_CMD="$PY -m alembic -c alembic.ini revision --autogenerate -m x --rev-id benchx"
(cd "$P/rbacmig" && $RB_CMD >"$OUT/pg.rbacmig.stdout" 2>"$OUT/pg.rbacmig.stderr") ||
  { echo "bench: rbacmig autogenerate failed:" >&2; cat "$OUT/pg.rbacmig.stdout" "$OUT/pg.rbacmig.stderr" >&2; exit 1; }
(cd "$P/alembic" && $AL_CMD >/dev/null 2>"$OUT/pg.alembic.stderr") ||
  { echo "bench: alembic autogenerate failed:" >&2; cat "$OUT/pg.alembic.stderr" >&2; exit 1; }
cp "$P/rbacmig/migrations/benchx_x.lua" "$OUT/pg.rbacmig.migration.lua"
cp "$P/alembic/versions/benchx_x.py" "$OUT/pg.alembic.migration.py"
expect_changes "rbacmig, PostgreSQL" "$OUT/pg.rbacmig.migration.lua" 'db:add_column\(' "$CHANGED"
expect_changes "rbacmig, PostgreSQL" "$OUT/pg.rbacmig.migration.lua" 'db:create_table\(' 1
expect_changes "rbacmig, PostgreSQL" "$OUT/pg.rbacmig.migration.lua" 'db:create_policy\(' 1
expect_changes "alembic, PostgreSQL" "$OUT/pg.alembic.migration.py" 'op\.add_column\(' "$CHANGED"
expect_changes "alembic, PostgreSQL" "$OUT/pg.alembic.migration.py" 'op\.create_table\(' 1
expect_changes "alembic, PostgreSQL" "$OUT/pg.alembic.migration.py" 'op\.create_index\(' "$((CHANGED + 2))"
rm -f "$P/rbacmig/migrations/benchx_x.lua" "$P/alembic/versions/benchx_x.py"

RM_RB="rm -f $P/rbacmig/migrations/benchx_x.lua"
RM_AL="rm -f $P/alembic/versions/benchx_x.py"
# --shadow-url needs two empty databases per run: made (and the last run's dropped) untimed
SHADOWS="$PSQL -X -q -d $URL/postgres -c 'DROP DATABASE IF EXISTS bench_sh_a' -c 'DROP DATABASE IF EXISTS bench_sh_b' -c 'CREATE DATABASE bench_sh_a' -c 'CREATE DATABASE bench_sh_b'"
# The kept shadows (keep_shadows, the default): the checked run above made them, so the
# "rbacmig" row is every run after the first. "first run" is a copy of the project (its own
# pair of kept shadows) whose pair is dropped before each run (untimed): both made, the
# migrations replayed whole. "keep_shadows = false" is a copy that makes and drops two
# throwaway shadows each run, as rbacmig did before it kept them.
cp -r "$P/rbacmig" "$P/rbacmig-first"
cp -r "$P/rbacmig" "$P/rbacmig-throwaway"
printf 'return { migrations = "migrations", schema_dir = "schema", keep_shadows = false }\n' \
  > "$P/rbacmig-throwaway/rbacmig.lua"
FIRST_PAIR=$(cd "$P/rbacmig-first" && ${RB_CMD/ -q / } 2>&1 >/dev/null |
  sed -n 's/^rbacmig: shadow: \(rbacmig_shadow_[0-9a-f]*\)_head .*/\1/p')
[ -n "$FIRST_PAIR" ] || { echo "bench: the first-run copy named no kept shadow" >&2; exit 1; }
RM_RB_F="rm -f $P/rbacmig-first/migrations/benchx_x.lua"
DROP_FIRST="$RM_RB_F; $PSQL -X -q -d $URL/postgres -c 'DROP DATABASE IF EXISTS ${FIRST_PAIR}_head WITH (FORCE)' -c 'DROP DATABASE IF EXISTS ${FIRST_PAIR}_declared WITH (FORCE)'"
RM_RB_T="rm -f $P/rbacmig-throwaway/migrations/benchx_x.lua"
spec_new pg
spec_add pg.rbacmig rbacmig "$RM_RB" "sh -c 'cd $P/rbacmig && exec sh $RC 0 $RB_CMD'"
spec_add pg.alembic alembic "$RM_AL" "sh -c 'cd $P/alembic && exec sh $RC 0 $AL_CMD'"
spec_add pg.rbacmig-first "rbacmig, first run (kept shadows made)" "$DROP_FIRST" \
  "sh -c 'cd $P/rbacmig-first && exec sh $RC 0 $RB_CMD'" 0
spec_add pg.rbacmig-throwaway "rbacmig, keep_shadows = false" "$RM_RB_T" \
  "sh -c 'cd $P/rbacmig-throwaway && exec sh $RC 0 $RB_CMD'" 0
if [ "$QUICK" = 0 ]; then
  spec_add pg.rbacmig-shadow-url "rbacmig --shadow-url x2" "$RM_RB; $SHADOWS" \
    "sh -c 'cd $P/rbacmig && exec sh $RC 0 $RB_CMD --shadow-url $URL/bench_sh_a --shadow-url $URL/bench_sh_b'" 0
fi
spec_add pg.floor "psql floor" "" \
  "sh $BENCH/autogen_floor.sh $PSQL $URL $P/before.sql $P/rbacmig/schema/10_app.sql" 0
log "timing on PostgreSQL: $W warm-up + $R timed runs each, interleaved"
run_spec autogen-pg
sh -c "$PSQL -X -q -d $URL/postgres -c 'DROP DATABASE IF EXISTS bench_sh_a' -c 'DROP DATABASE IF EXISTS bench_sh_b'" >/dev/null 2>&1 || true

log "where rbacmig's time goes (one more run, its stderr stamped)"
rm -f "$P/rbacmig/migrations/benchx_x.lua"
before=$(wc -l < "$PG_TEST_DIR/log")
python3 "$BENCH/autogen_phases.py" "$P/rbacmig" "$OUT/phases.tsv" \
  "$RBACMIG" -d "$URL/rbacmig_live" revision --autogenerate -m x --rev-id benchx 2> "$OUT/phases.log" ||
  { cat "$OUT/phases.log" >&2; echo "bench: the stamped run failed" >&2; }
sleep 0.3
tail -n +"$((before + 1))" "$PG_TEST_DIR/log" | grep -E 'checkpoint (starting|complete)' > "$OUT/phases.checkpoints" || true
rm -f "$P/rbacmig/migrations/benchx_x.lua"

# ---------------------------------------------------------------------------------------
# SQLite
if [ "$SQLITE" = 1 ]; then
  log "SQLite: $N tables, $CHANGED changed, 1 new"
  S=$WORK/sqlite
  python3 "$BENCH/gen_autogen.py" sqlite "$N" "$S" "sqlite:///$S/alembic_live.sqlite"
  (cd "$S/rbacmig" && "$RBACMIG" -q -d "sqlite:$S/rbacmig_live.sqlite" upgrade head >/dev/null)
  sqlite3 "$S/alembic_live.sqlite" < "$S/before.sql"
  (cd "$S/alembic" && "$PY" -m alembic -c alembic.ini stamp head >/dev/null 2>&1)
  SRB_CMD="$RBACMIG -q -d sqlite:$S/rbacmig_live.sqlite revision --autogenerate -m x --rev-id benchx"
  (cd "$S/rbacmig" && $SRB_CMD >"$OUT/sqlite.rbacmig.stdout" 2>"$OUT/sqlite.rbacmig.stderr") ||
    { echo "bench: rbacmig autogenerate failed on SQLite:" >&2; cat "$OUT/sqlite.rbacmig.stdout" "$OUT/sqlite.rbacmig.stderr" >&2; exit 1; }
  (cd "$S/alembic" && $AL_CMD >/dev/null 2>"$OUT/sqlite.alembic.stderr") ||
    { echo "bench: alembic autogenerate failed on SQLite:" >&2; cat "$OUT/sqlite.alembic.stderr" >&2; exit 1; }
  cp "$S/rbacmig/migrations/benchx_x.lua" "$OUT/sqlite.rbacmig.migration.lua"
  cp "$S/alembic/versions/benchx_x.py" "$OUT/sqlite.alembic.migration.py"
  expect_changes "rbacmig, SQLite" "$OUT/sqlite.rbacmig.migration.lua" 'db:add_column\(' "$CHANGED"
  expect_changes "rbacmig, SQLite" "$OUT/sqlite.rbacmig.migration.lua" 'db:create_table\(' 1
  expect_changes "alembic, SQLite" "$OUT/sqlite.alembic.migration.py" 'op\.alter_column\(' 0
  expect_changes "alembic, SQLite" "$OUT/sqlite.alembic.migration.py" 'op\.add_column\(' "$CHANGED"
  expect_changes "alembic, SQLite" "$OUT/sqlite.alembic.migration.py" 'op\.create_table\(' 1
  rm -f "$S/rbacmig/migrations/benchx_x.lua" "$S/alembic/versions/benchx_x.py"
  spec_new sqlite
  spec_add sqlite.rbacmig rbacmig "rm -f $S/rbacmig/migrations/benchx_x.lua" "sh -c 'cd $S/rbacmig && exec sh $RC 0 $SRB_CMD'"
  spec_add sqlite.alembic alembic "rm -f $S/alembic/versions/benchx_x.py" "sh -c 'cd $S/alembic && exec sh $RC 0 $AL_CMD'"
  log "timing on SQLite"
  run_spec autogen-sqlite
fi

# ---------------------------------------------------------------------------------------
{
  echo "date: $(date -u '+%Y-%m-%d %H:%M UTC')"
  echo "command: bash bench/autogen.sh${1:+ $1}"
  echo "cpu: $(lscpu | sed -n 's/^Model name: *//p' | head -n 1), $(nproc) cores"
  echo "memory: $(free -h | awk '/^Mem:/ {print $2}')"
  echo "load: $(cut -d' ' -f1-3 /proc/loadavg) (1, 5, 15 min, at the end of the run; the machine is shared)"
  echo "os: $(. /etc/os-release && echo "$PRETTY_NAME"), kernel $(uname -r)"
  echo "postgresql: $("$PG_BIN/postgres" --version | awk '{print $3}') (scripts/pg-test-server.sh: fsync=on, default settings, 127.0.0.1 TCP)"
  echo "rbacmig: $("$RBACMIG" --version 2>&1 | head -n 1) (Release, git $(git -C "$ROOT" rev-parse --short HEAD 2>/dev/null || echo unknown))"
  echo "alembic: $("$PY" -c 'import alembic, sqlalchemy; print(alembic.__version__, "with SQLAlchemy", sqlalchemy.__version__)') (Debian, $PY)"
  echo "sqlite3: $(sqlite3 --version | awk '{print $1}')"
  echo "repetitions: $W warm-up + $R timed runs a command, interleaved; peak RSS: median of $RSS_RUNS"
  echo "workload: N=$N tables before; declarations: $CHANGED with a new column and index, 1 new table"
} > "$OUT/machine.txt"
python3 "$BENCH/autogen_report.py" "$OUT"
log "raw results in bench/out/autogen/ (table.md, manifest.tsv, json/, phases.*, the generated migrations)"
}

main "$@"; exit
