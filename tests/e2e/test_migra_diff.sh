#!/usr/bin/env bash
# `rbacmig diff` against a peer, migra (@pgkit/migra, the TypeScript port of the migra that
# the Supabase CLI's `db diff` used), on generated pairs of schemas: the FROM database is
# tests/e2e/schema_kinds/a.sql, each TO database is a copy with edits (each edit alone, then
# random combinations). Every object migra's script touches must be among the identities
# rbacmig reports; and what migra is known to miss (FORCE, security_invoker, column grants,
# comments) rbacmig must report. migra is installed from npm into the build directory on
# first use; without npm (or the registry) the test is skipped.
if [ "${1:-}" = sqlite ]; then
  echo "skipped: PostgreSQL only"
  exit 77
fi
. "$(dirname "$0")/lib.sh"

MIGRA_DIR=${RBACMIG_MIGRA_DIR:-$(dirname "$RBACMIG")/migra}
MIGRA="$MIGRA_DIR/node_modules/.bin/migra"
if [ ! -x "$MIGRA" ]; then
  command -v npm >/dev/null || { echo "skipped: npm is not installed"; exit 77; }
  mkdir -p "$MIGRA_DIR"
  (cd "$MIGRA_DIR" && npm install --no-audit --no-fund --loglevel=error @pgkit/migra@0.6.1 >/dev/null 2>&1) ||
    { echo "skipped: cannot install @pgkit/migra from npm"; exit 77; }
fi

new_db
FROM_NAME=$DB_NAME FROM_URL=$DB_URL
# Supabase's roles (a.sql grants to anon), made by the superuser as on Supabase.
env PGOPTIONS="-c client_min_messages=warning" \
  "$PSQL" -X -q -v ON_ERROR_STOP=1 -d "${PG_ADMIN_URL%/*}/$DB_NAME" \
  -f "$SRC/tests/pgtap/00_supabase_fixture.sql" >/dev/null || exit 1
env PGOPTIONS="-c client_min_messages=warning" \
  "$PSQL" -X -q -v ON_ERROR_STOP=1 -d "$FROM_URL" -f "$SRC/tests/e2e/schema_kinds/a.sql" >/dev/null || exit 1
TO_NAME="${FROM_NAME}_to"
TO_URL="${RBACMIG_TEST_PG_URL%/*}/$TO_NAME"
drop_to() { "$PSQL" -q -X -d "$PG_ADMIN_URL" -c "DROP DATABASE IF EXISTS \"$TO_NAME\" WITH (FORCE)" >/dev/null 2>&1; }
trap 'drop_to; cleanup' EXIT

# The edits a TO database gets, one SQL script each.
EDITS=(
  "ALTER TABLE app.items ADD COLUMN note text"
  "ALTER TABLE app.items DROP COLUMN mood"
  "ALTER TABLE app.items ALTER COLUMN mood SET DEFAULT 'sad'"
  "ALTER TABLE app.items ALTER COLUMN price SET NOT NULL"
  "CREATE INDEX items_price_idx ON app.items (price)"
  "DROP INDEX app.items_lower_name_idx"
  "CREATE TABLE app.tags (id integer PRIMARY KEY, label text NOT NULL UNIQUE)"
  "ALTER TABLE app.items ADD CONSTRAINT items_name_check CHECK (name <> '')"
  "ALTER TABLE app.items DROP CONSTRAINT items_price_check"
  "DROP VIEW app.cheap"
  "CREATE VIEW app.named AS SELECT name FROM app.items"
  "CREATE OR REPLACE FUNCTION app.trg() RETURNS trigger LANGUAGE plpgsql SECURITY DEFINER SET search_path = '' AS \$\$ BEGIN NEW.name := lower(NEW.name); RETURN NEW; END \$\$"
  "CREATE FUNCTION app.g(t text) RETURNS text LANGUAGE sql IMMUTABLE RETURN upper(t)"
  "ALTER TYPE app.mood ADD VALUE 'meh'"
  "CREATE TYPE app.size AS ENUM ('s', 'm', 'l')"
  "ALTER SEQUENCE app.counter INCREMENT 10"
  "CREATE POLICY items_write ON app.items FOR UPDATE TO PUBLIC USING (true)"
  "DROP POLICY items_read ON app.items"
  "ALTER TABLE app.items DISABLE ROW LEVEL SECURITY"
  "DROP TRIGGER items_trg ON app.items"
  "GRANT SELECT ON app.items TO anon"
)
# What migra does not see, which rbacmig must: "SQL|what rbacmig's diff must say".
MISSED=(
  "ALTER TABLE app.items NO FORCE ROW LEVEL SECURITY|table app.items: changed (rls_forced true -> false)"
  "ALTER VIEW app.cheap RESET (security_invoker)|view app.cheap: changed (security_invoker true -> (none))"
  "REVOKE UPDATE (name) ON app.items FROM PUBLIC|grant column app.items.name TO PUBLIC: changed (privileges [SELECT, UPDATE] -> [SELECT])"
  "COMMENT ON COLUMN app.items.price IS 'in cents'|column app.items.price: changed (comment (none) -> in cents)"
)

# to_db SQL: a fresh TO database, a copy of FROM with SQL run on it.
to_db() {
  drop_to
  "$PSQL" -q -X -v ON_ERROR_STOP=1 -d "$PG_ADMIN_URL" \
    -c "CREATE DATABASE \"$TO_NAME\" TEMPLATE \"$FROM_NAME\" OWNER postgres" >/dev/null &&
    "$PSQL" -q -X -v ON_ERROR_STOP=1 -d "$TO_URL" -c "$1" >/dev/null
}

# migra's script for FROM -> TO, without the warning it prints on stdout (a WARNING line and
# its stack).
migra_script() {
  "$MIGRA" "$FROM_URL" "$TO_URL" --unsafe --with-privileges 2>/dev/null |
    grep -v -e '^WARNING:' -e '^    at ' | grep -v '^[[:space:]]*$'
}

# The schema.name of every object a script names as "schema"."name".
touched() {
  grep -o '"[^"]*"\."[^"]*"' | sed 's/^"\([^"]*\)"\."\([^"]*\)"$/\1.\2/' | sort -u
}

# The objects a script changes, without those migra only moves out of the way and back:
# - to add an enum value it renames the type away, creates it anew and moves each column
#   over (dropping and setting its default again);
# - around a change it drops dependent views and creates them again as they were.
changed_objects() {
  local script=$1
  if grep -q '__old_version_to_be_dropped' <<<"$script"; then
    script=$(grep -v -e '__old_version_to_be_dropped' -e 'alter column .* drop default;$' \
      -e 'alter column .* set default ' -e 'alter column .* type .* using .*::text::' <<<"$script")
  fi
  comm -23 <(touched <<<"$script") \
    <(comm -12 <(grep -i '^drop ' <<<"$script" | touched) <(grep -i '^create ' <<<"$script" | touched))
}

# compare WHAT SQL: migra's objects for the edit must all be in rbacmig's differences.
compare() {
  local what=$1 sql=$2
  if ! to_db "$sql"; then
    FAILED=$((FAILED + 1)); echo "FAIL: cannot apply $what: $sql"; return
  fi
  local script objects missing="" o
  script=$(migra_script)
  rb diff "$FROM_URL" "$TO_URL"
  if [ "$RC" != 4 ] && [ "$RC" != 5 ]; then
    fail "$what: rbacmig diff should find differences (exit 4 or 5)"
    return
  fi
  objects=$(changed_objects "$script")
  # An object is reported when an identity names it: schema.name, or within schema (an
  # index is schema.table.index to rbacmig, schema.index to migra).
  for o in $objects; do
    grep -qE " ${o%%.*}\.([^ ]*\.)?${o#*.}([.: (]|\$)" <<<"$OUT" || missing="$missing $o"
  done
  if [ -z "$script" ] && [ -n "$OUT" ]; then
    echo "  note: migra printed nothing for: $what"
  fi
  [ -z "$missing" ] && pass || fail "$what: objects migra touches that rbacmig does not report:$missing
  migra: $script"
}

for sql in "${EDITS[@]}"; do
  compare "${sql:0:60}" "$sql"
done
# Random combinations (reproducible: a fixed seed) of three edits each.
RANDOM=14
for round in 1 2 3 4; do
  combo=() picked=""
  while [ ${#combo[@]} -lt 3 ]; do
    i=$((RANDOM % ${#EDITS[@]}))
    case " $picked " in *" $i "*) continue ;; esac
    # Edits 1 and 2 cannot go together: the column whose default 2 sets, 1 drops.
    case "$i:$picked " in "1:"*" 2 "*|"2:"*" 1 "*) continue ;; esac
    picked="$picked $i"
    combo+=("${EDITS[$i]}")
  done
  sql=$(printf '%s;\n' "${combo[@]}")
  compare "combination$picked" "$sql"
done

for item in "${MISSED[@]}"; do
  sql=${item%%|*} said=${item#*|}
  to_db "$sql" || { FAILED=$((FAILED + 1)); echo "FAIL: cannot apply $sql"; continue; }
  script=$(migra_script)
  rb diff "$FROM_URL" "$TO_URL"
  expect_out_has "$said" "rbacmig reports what migra misses: $sql"
  [ -z "$script" ] && echo "  migra: nothing for: $sql" || echo "  migra for '$sql': $script"
done

finish
