#!/usr/bin/env bash
# Kept shadows (keep_shadows, on by default; PostgreSQL): `revision --autogenerate` and
# `check` keep rbacmig_shadow_<id>_head and _declared between runs instead of creating and
# dropping two databases each time. Asserted on the databases themselves: the first run
# makes both; the next ones reuse them, replaying only the migrations that are new since;
# the declared one is always left empty; the head is marked clean only when a run leaves it
# at head, and one found unmarked, edited under it, or holding something by hand is made
# again; a run that finds the pair in use makes throwaway ones (and drops them); and
# keep_shadows = false makes throwaway ones. Every run's migration is what it should be.
if [ "${1:-}" = sqlite ]; then
  echo "skipped: PostgreSQL only (SQLite's shadows are temporary files)"
  exit 77
fi
. "$(dirname "$0")/lib.sh"

export TMPDIR="$TEST_DIR/tmp"
mkdir -p "$TMPDIR"
new_db
supabase_fixture

KEPT=""
LOCKER=""
trap '[ -z "$LOCKER" ] || kill "$LOCKER" 2>/dev/null
      for db in $KEPT; do
        "$PSQL" -q -X -d "$PG_ADMIN_URL" -c "DROP DATABASE IF EXISTS \"$db\" WITH (FORCE)" >/dev/null 2>&1
      done; cleanup' EXIT

server() { "$PSQL" -X -At -v ON_ERROR_STOP=1 -d "$RBACMIG_TEST_PG_URL" -c "$1"; }
in_db() { "$PSQL" -X -At -v ON_ERROR_STOP=1 -d "${RBACMIG_TEST_PG_URL%/*}/$1" -c "$2"; }
exists() { server "SELECT count(*) FROM pg_database WHERE datname = '$1'"; }
mark() { server "SELECT coalesce(shobj_description(oid, 'pg_database'), '(none)') FROM pg_database WHERE datname = '$1'"; }
objects() {
  in_db "$1" "SELECT count(*) FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
              WHERE n.nspname NOT IN ('pg_catalog', 'information_schema') AND n.nspname NOT LIKE 'pg_toast%'"
}
# how NAME was opened this run: "new", "made again" or "kept from an earlier run"
opened() { sed -n "s/^rbacmig: shadow: $1 (\\([^;)]*\\).*/\\1/p" "$TEST_DIR/.stderr"; }
replayed() { grep -c '^Running upgrade' "$TEST_DIR/.stderr"; }

rb init
expect_rc 0 "init"
mkdir -p schema
cat > schema/10_items.sql <<'SQL'
CREATE TABLE public.items (id integer PRIMARY KEY, name text NOT NULL);
SQL

# ---- the first run makes both -----------------------------------------------------------
rb revision --autogenerate -m items
expect_rc 0 "the first autogenerate"
FIRST=$OUT
check "the migration creates items" grep -q 'db:create_table("items"' "$FIRST"
HEAD=$(sed -n 's/^rbacmig: shadow: \(rbacmig_shadow_[0-9a-f]*_head\) .*/\1/p' "$TEST_DIR/.stderr")
DECL=${HEAD%_head}_declared
KEPT="$HEAD $DECL"
expect_eq "$(opened "$HEAD")" new "the head shadow is made"
expect_eq "$(opened "$DECL")" new "the declared shadow is made"
expect_eq "$(exists "$HEAD")$(exists "$DECL")" 11 "both are kept after the run"
case "$(mark "$HEAD")" in *"kept shadow, clean") pass ;; *) fail "the head is marked clean: $(mark "$HEAD")" ;; esac
expect_eq "$(objects "$DECL")" 0 "the declared shadow is left empty"
REV1=$(sed -n 's/^  *revision = "\([0-9a-f]*\)".*/\1/p' "$FIRST")

# ---- the next runs build on them ----------------------------------------------------------
cat > schema/10_items.sql <<'SQL'
CREATE TABLE public.items (id integer PRIMARY KEY, name text NOT NULL, note text);
SQL
rb revision --autogenerate -m note
expect_rc 0 "the second autogenerate"
SECOND=$OUT
check "the migration adds the column" grep -q 'db:add_column("items"' "$SECOND"
expect_eq "$(opened "$HEAD")" "kept from an earlier run" "the head shadow is reused"
expect_eq "$(opened "$DECL")" "kept from an earlier run" "the declared shadow is reused"
expect_eq "$(grep -c "^Running upgrade  -> $REV1" "$TEST_DIR/.stderr")" 1 \
  "only the migration that is new since runs in the reused head"
expect_eq "$(objects "$DECL")" 0 "the declared shadow is empty again"
# The head shadow holds the first migration's table, as the live database would.
expect_eq "$(in_db "$HEAD" "SELECT count(*) FROM information_schema.columns WHERE table_name = 'items'")" 2 \
  "the head shadow is at the new revision's parent"

rb revision --autogenerate -m again
expect_rc 0 "a run after the second"
expect_out "No changes in schema detected." "the declarations match the head"
rb revision --autogenerate -m again
expect_rc 0 "and once more"
expect_eq "$(replayed)" 0 "nothing is replayed when the head shadow is at head"
rb check
expect_rc 0 "check uses the kept pair too"
expect_eq "$(opened "$HEAD")" "kept from an earlier run" "check reuses the head shadow"

# ---- what makes the head shadow again -------------------------------------------------------
server "COMMENT ON DATABASE \"$HEAD\" IS NULL" >/dev/null   # as a run stopped midway leaves it
rb revision --autogenerate -m x
expect_rc 0 "a run after one that stopped midway"
expect_eq "$(opened "$HEAD")" "made again" "an unmarked head shadow is made again"
expect_eq "$(replayed)" 2 "and replayed whole"
expect_out "No changes in schema detected." "with the same result"

printf -- '-- a comment added after it ran\n' >> "$(ls migrations/*_items.lua)"
rb revision --autogenerate -m x
expect_rc 0 "a run after an applied migration was edited"
expect_err_has "does not follow from where an earlier run left it" "says why"
expect_err_has "making it again" "and that it makes the head shadow again"
expect_out "No changes in schema detected." "with the same result"

in_db "$DECL" "CREATE TABLE public.by_hand (x integer)" >/dev/null
rb revision --autogenerate -m x
expect_rc 0 "a run after something was left in the declared shadow"
expect_eq "$(opened "$DECL")" "made again" "a declared shadow that is not empty is made again"
expect_eq "$(objects "$DECL")" 0 "and left empty"
expect_out "No changes in schema detected." "with the same result"

# ---- another run holding the pair -------------------------------------------------------------
ID=${HEAD#rbacmig_shadow_}
ID=${ID%_head}
"$PSQL" -X -q -d "$DB_URL" -c "SELECT pg_advisory_lock(x'$ID'::bigint)" -c "SELECT pg_sleep(60)" >/dev/null 2>&1 &
LOCKER=$!
for _ in $(seq 50); do
  [ "$(server "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND granted")" -gt 0 ] && break
  sleep 0.1
done
rb revision --autogenerate -m x
expect_rc 0 "a run while another holds the kept pair"
expect_err_has "are in use by another run; this one makes throwaway ones" "says so"
THROWAWAY=$(sed -n 's/^rbacmig: shadow: \([^ ]*\)$/\1/p' "$TEST_DIR/.stderr" | tr '\n' ' ')
expect_eq "$(echo $THROWAWAY | wc -w)" 2 "two throwaway shadows"
for db in $THROWAWAY; do expect_eq "$(exists "$db")" 0 "$db dropped"; done
expect_out "No changes in schema detected." "with the same result"
kill "$LOCKER" 2>/dev/null
wait "$LOCKER" 2>/dev/null
LOCKER=""

# ---- keep_shadows = false ------------------------------------------------------------------------
echo 'return { keep_shadows = false }' > rbacmig.lua
rb revision --autogenerate -m x
expect_rc 0 "keep_shadows = false"
THROWAWAY=$(sed -n 's/^rbacmig: shadow: \([^ ]*\)$/\1/p' "$TEST_DIR/.stderr" | tr '\n' ' ')
expect_eq "$(echo $THROWAWAY | wc -w)" 2 "makes two throwaway shadows"
for db in $THROWAWAY; do expect_eq "$(exists "$db")" 0 "$db dropped"; done
expect_eq "$(exists "$HEAD")$(exists "$DECL")" 11 "and leaves the kept pair alone"
echo 'return { keep_shadows = "yes" }' > rbacmig.lua
rb revision --autogenerate -m x
expect_rc 1 "keep_shadows that is not a boolean"
expect_one_error_line "one error line"
expect_err_has "keep_shadows" "naming the setting"

finish
