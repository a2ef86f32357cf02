#!/usr/bin/env bash
# Property test of the `revision --autogenerate` command end to end: for random pairs of schemas A and B
# (tests/e2e/autogen_pairs.lua: tables, columns, indexes, constraints, foreign keys; on
# PostgreSQL also enums, views, functions, row-level security, policies, grants, comments),
# with declarations A autogenerate a first migration and upgrade; with declarations B
# autogenerate the next and upgrade: `rbacmig diff` finds the database equal to B applied
# by hand; downgrade one step: equal to A. A failure prints its seed; reproduce it with
#   RBACMIG_PROPERTY_SEEDS=<seed> bash tests/e2e/test_autogen_command_property.sh <dialect>
# RBACMIG_PROPERTY_PAIRS sets how many pairs run. The defaults (100 on SQLite, 20 on
# PostgreSQL) keep it near a minute per dialect in CI: each pair runs rbacmig eight times
# (~0.6 s of CPU per pair on SQLite; PostgreSQL adds a shadow database per autogenerate).
# For hundreds of pairs, set RBACMIG_PROPERTY_PAIRS (or RBACMIG_PROPERTY_SEEDS="$(seq 1 500)").
. "$(dirname "$0")/lib.sh"

if [ "$DIALECT" = postgresql ]; then pairs=${RBACMIG_PROPERTY_PAIRS:-20}; else pairs=${RBACMIG_PROPERTY_PAIRS:-100}; fi
seeds=${RBACMIG_PROPERTY_SEEDS:-$(seq 1 "$pairs")}

# Three databases reused by every pair, emptied between pairs: the one migrations run on,
# and A and B applied by hand.
new_db; LIVE_URL=$DB_URL; LIVE_NAME=${DB_NAME:-}; LIVE_FILE=${DB_FILE:-}
if [ "$DIALECT" = postgresql ]; then
  for d in "$LIVE_NAME"; do
    "$PSQL" -X -q -v ON_ERROR_STOP=1 -d "${PG_ADMIN_URL%/*}/$d" -f "$SRC/tests/pgtap/00_supabase_fixture.sql" >/dev/null || exit 1
  done
fi
DB_NAME=; new_db; A_URL=$DB_URL; A_NAME=${DB_NAME:-}; A_FILE=${DB_FILE:-}
DB_NAME=; new_db; B_URL=$DB_URL; B_NAME=${DB_NAME:-}; B_FILE=${DB_FILE:-}
if [ "$DIALECT" = postgresql ]; then
  for d in "$A_NAME" "$B_NAME"; do
    "$PSQL" -X -q -v ON_ERROR_STOP=1 -d "${PG_ADMIN_URL%/*}/$d" -f "$SRC/tests/pgtap/00_supabase_fixture.sql" >/dev/null || exit 1
  done
  # lib.sh's cleanup drops only the last database: drop the other two as well.
  trap 'for d in "$LIVE_NAME" "$A_NAME"; do "$PSQL" -q -X -d "$PG_ADMIN_URL" -c "DROP DATABASE IF EXISTS \"$d\" WITH (FORCE)" >/dev/null 2>&1; done; cleanup' EXIT
fi
export DATABASE_URL=$LIVE_URL

# reset NAME|FILE [SQL]: empties a database, then applies SQL to it.
reset_db() {
  if [ "$DIALECT" = postgresql ]; then
    PGOPTIONS='-c client_min_messages=warning' "$PSQL" -X -q -v ON_ERROR_STOP=1 -d "${RBACMIG_TEST_PG_URL%/*}/$1" \
      -c "DROP SCHEMA public CASCADE" -c "CREATE SCHEMA public" -c "GRANT ALL ON SCHEMA public TO anon, authenticated, service_role" \
      ${2:+-f "$2"} >/dev/null
  else
    rm -f "$1" && { [ -z "${2:-}" ] || sqlite3 -bail "$1" < "$2"; }
  fi
}
live_id() { [ "$DIALECT" = postgresql ] && echo "$LIVE_NAME" || echo "$LIVE_FILE"; }
a_id() { [ "$DIALECT" = postgresql ] && echo "$A_NAME" || echo "$A_FILE"; }
b_id() { [ "$DIALECT" = postgresql ] && echo "$B_NAME" || echo "$B_FILE"; }

bad=0
# pair_fail SEED WHAT: reports a failed pair with its seed and what rbacmig said.
pair_fail() {
  bad=$((bad + 1))
  fail "seed $1: $2 (reproduce: RBACMIG_PROPERTY_SEEDS=$1 bash tests/e2e/test_autogen_command_property.sh $DIALECT)"
  [ $bad -lt 5 ] && { echo "--- A"; cat pair/a.sql; echo "--- B"; cat pair/b.sql; ls migrations; cat migrations/*_b.lua 2>/dev/null; } | head -120
}

for seed in $seeds; do
  rm -rf migrations schema pair rbacmig.lua && mkdir -p migrations schema pair
  lua5.4 "$SRC/tests/e2e/autogen_pairs.lua" "$seed" "$DIALECT" pair || { pair_fail "$seed" "generator"; continue; }
  reset_db "$(live_id)" && reset_db "$(a_id)" pair/a.sql && reset_db "$(b_id)" pair/b.sql \
    || { pair_fail "$seed" "a schema of the pair does not apply by hand"; continue; }

  cp pair/a.sql schema/decl.sql
  rb revision --autogenerate -m a --rev-id aaaaaaaaaaaa
  [ "$RC" = 0 ] || { pair_fail "$seed" "autogenerate A: exit $RC: $ERR"; continue; }
  rb upgrade head
  [ "$RC" = 0 ] || { pair_fail "$seed" "upgrade to A: exit $RC: $ERR"; continue; }
  rb diff "$LIVE_URL" "$A_URL"
  [ "$RC" = 0 ] || { pair_fail "$seed" "after A, the database differs from A: $OUT"; continue; }

  cp pair/b.sql schema/decl.sql
  rb revision --autogenerate -m b --rev-id bbbbbbbbbbbb --allow-drop
  [ "$RC" = 0 ] || { pair_fail "$seed" "autogenerate B: exit $RC: $ERR"; continue; }
  if [ ! -e migrations/bbbbbbbbbbbb_b.lua ]; then
    # No difference found: then A and B must be equal.
    rb diff "$A_URL" "$B_URL"
    [ "$RC" = 0 ] && pass || pair_fail "$seed" "autogenerate saw no change but A and B differ: $OUT"
    continue
  fi
  rb upgrade head
  [ "$RC" = 0 ] || { pair_fail "$seed" "upgrade to B: exit $RC: $ERR"; continue; }
  rb diff "$LIVE_URL" "$B_URL"
  [ "$RC" = 0 ] || { pair_fail "$seed" "after B, the database differs from B: $OUT"; continue; }
  rb downgrade -1
  [ "$RC" = 0 ] || { pair_fail "$seed" "downgrade from B: exit $RC: $ERR"; continue; }
  rb diff "$LIVE_URL" "$A_URL"
  [ "$RC" = 0 ] || { pair_fail "$seed" "after downgrade, the database differs from A: $OUT"; continue; }
  pass
done

finish
