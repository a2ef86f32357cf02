#!/usr/bin/env bash
# `rbacmig revision --autogenerate` end to end (docs/autogenerate.md): a project started by
# `init --rbac` (on PostgreSQL on the Supabase fixture, run as the non-superuser `postgres`)
# declares the shipped RBAC schema through schema/00_rbac.lua and its own tables beside it.
# No difference: "No changes", nothing written, exit 0. A new table, column and index: a
# migration written, proved, applied by `upgrade head`, after which the live database, head
# and a database built from the declarations all agree (check, diff). A drop without
# --allow-drop, and a drop+add that looks like a rename: refused (exit 2), naming them,
# nothing written. --rename: a rename, and the rows stay. --from-db compares with the live
# database. Row-level security and a policy calling auth.uid() (PostgreSQL). A proof that
# fails (exit 7) writes nothing. `schema export` then autogenerate: "No changes". `check`
# reports declarations that differ from head (exit 1). The same with the RBAC migrations
# applied (Supabase's default privileges on PostgreSQL). examples/declared as its README runs
# it. Every shadow is gone afterwards, also after SIGINT (PostgreSQL).
. "$(dirname "$0")/lib.sh"

export TMPDIR="$TEST_DIR/tmp"
mkdir -p "$TMPDIR"

new_db
if [ "$DIALECT" = postgresql ]; then
  env PGOPTIONS="-c client_min_messages=warning" \
    "$PSQL" -X -q -v ON_ERROR_STOP=1 -d "${PG_ADMIN_URL%/*}/$DB_NAME" \
    -f "$SRC/tests/pgtap/00_supabase_fixture.sql" >/dev/null || exit 1
fi

# shadows_gone WHAT: every throwaway shadow this run named on stderr ("rbacmig: shadow: NAME")
# is gone, the kept ones ("NAME (... kept ...)", PostgreSQL's default) are there and the
# declared one is empty, and no candidate file was left in TMPDIR.
shadows_gone() {
  local names kept name
  names=$(sed -n 's/^rbacmig: shadow: \([^ ]*\)$/\1/p' "$TEST_DIR/.stderr" | tr '\n' ' ')
  kept=$(sed -n 's/^rbacmig: shadow: \([^ ]*\) (.*kept.*$/\1/p' "$TEST_DIR/.stderr" | tr '\n' ' ')
  if [ -z "$names$kept" ]; then
    fail "$1: stderr names no shadow"
  elif [ "$DIALECT" = postgresql ]; then
    for name in $names; do
      expect_eq "$("$PSQL" -X -At -d "$RBACMIG_TEST_PG_URL" \
        -c "SELECT count(*) FROM pg_database WHERE datname = '$name'")" 0 "$1: $name dropped"
    done
    for name in $kept; do
      case $name in
        *_declared) expect_eq "$("$PSQL" -X -At -d "${RBACMIG_TEST_PG_URL%/*}/$name" -c \
          "SELECT count(*) FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
           WHERE n.nspname NOT IN ('pg_catalog', 'information_schema') AND n.nspname NOT LIKE 'pg_toast%'")" \
          0 "$1: the kept $name is left empty" ;;
        *) expect_eq "$("$PSQL" -X -At -d "$RBACMIG_TEST_PG_URL" \
          -c "SELECT count(*) FROM pg_database WHERE datname = '$name'")" 1 "$1: $name kept" ;;
      esac
    done
  fi
  expect_eq "$(ls -A "$TMPDIR")" "" "$1: nothing left in TMPDIR"
}
# migration_count: the number of migration files.
migration_count() { ls migrations/*.lua | wc -l; }
# empty_db_url: a new empty database's URL (for --shadow-url), in EMPTY_URL.
empty_db_url() {
  if [ "$DIALECT" = postgresql ]; then
    local name="${DB_NAME}_$1"
    "$PSQL" -q -X -v ON_ERROR_STOP=1 -d "$RBACMIG_TEST_PG_URL" -c "CREATE DATABASE \"$name\"" >/dev/null
    EXTRA_DBS="${EXTRA_DBS:-} $name"
    EMPTY_URL="${RBACMIG_TEST_PG_URL%/*}/$name"
  else
    EMPTY_URL="sqlite:$TEST_DIR/$1.sqlite"
  fi
}
drop_extra_dbs() {
  for name in ${EXTRA_DBS:-}; do
    "$PSQL" -q -X -d "$PG_ADMIN_URL" -c "DROP DATABASE IF EXISTS \"$name\" WITH (FORCE)" >/dev/null
  done
  EXTRA_DBS=
}

rb init --rbac
expect_rc 0 "init --rbac"
expect_out_has "created schema/00_rbac.lua" "init --rbac puts the RBAC declaration in place"
check "00_rbac.lua names the shipped migrations" grep -q '"91759229c32b"' schema/00_rbac.lua

# ---- without declarations ---------------------------------------------------------------
mv schema schema.kept
rb revision --autogenerate -m nothing
expect_rc 2 "autogenerate without a schema directory"
expect_err_has "there is no such directory" "says the declarations are missing"
expect_err_has "schema export" "and how to start them"
mv schema.kept schema

# ---- the RBAC catalogue as a migration ----------------------------------------------------
# A new project's catalogue is empty at head (migration 91759229c32b makes the tables, rbac/
# holds what goes in them): the first autogenerate writes it as rbacmig.rbac calls, so that
# every environment gets it by upgrade.
rb upgrade head
expect_rc 0 "upgrade head"
rb revision --autogenerate -m catalogue
expect_rc 0 "autogenerate the catalogue"
check "the permissions, as calls" grep -q 'rbac.add_permissions(db, {' "$OUT"
check "the templates' grants" grep -q 'rbac.grant_template(db, "owner"' "$OUT"
check "the downgrade removes them" grep -q 'rbac.remove_permissions(db, {' "$OUT"
rb upgrade head
expect_rc 0 "upgrade: the catalogue"
expect_eq "$(sql "SELECT count(*) FROM permissions")" "$(grep -c 'name *= *"' rbac/permissions.lua)" \
  "every permission of rbac/permissions.lua is in"
rb seed
expect_out_has "permissions: 0 added, 0 updated" "seed finds nothing left to add"
expect_out_has "template grants: 0 added" "nor a template grant"

# ---- nothing to do ----------------------------------------------------------------------
before=$(migration_count)
rb revision --autogenerate -m nothing
expect_rc 0 "autogenerate with the RBAC schema declared as its migrations make it"
expect_out "No changes in schema detected." "no changes"
expect_eq "$(migration_count)" "$before" "no changes: nothing written"
shadows_gone "after no changes"
rb check
expect_rc 0 "check: the declarations equal head"
expect_out_has "declarations match head" "check says the declarations match"

# ---- a table, a column, an index --------------------------------------------------------
cat > schema/10_notes.lua <<'LUA'
return function(db)
  db:create_table("notes", {
    { "id", "integer", primary_key = true },
    { "owner_id", "text", not_null = true },
    { "body", "text", not_null = true, default = "" },
  })
  db:create_index("notes", { "owner_id" })
end
LUA
rb check
expect_rc 1 "check: declarations that differ from head"
expect_out_has "declarations: the declarations in 'schema' differ from head" "check says so"
expect_out_has "notes: added" "and lists the difference"
rb revision --autogenerate -m "notes"
expect_rc 0 "autogenerate a new table with an index"
file=$OUT
check "the migration is written" test -f "$file"
expect_eq "$(migration_count)" "$((before + 1))" "one file written"
check "readable: create_table in its upgrade" grep -q 'db:create_table("notes"' "$file"
check "readable: drop_table in its downgrade" grep -q 'db:drop_table("notes")' "$file"
expect_err_has "proving" "the proof ran"
shadows_gone "after writing a migration"
rb upgrade head
expect_rc 0 "upgrade head runs the generated migration"
check "notes exists" table_exists notes
rb revision --autogenerate -m again
expect_out "No changes in schema detected." "after upgrade: no changes"
rb check
expect_rc 0 "check after upgrade"
# A database built from the declarations (the declared shadow, given) equals the live one.
empty_db_url head
head_url=$EMPTY_URL
empty_db_url declared
declared_url=$EMPTY_URL
rb revision --autogenerate -m again --shadow-url "$head_url" --shadow-url "$declared_url"
expect_out "No changes in schema detected." "into given shadows: no changes"
rb diff "$DB_URL" "$declared_url"
expect_rc 0 "the live database equals a database built from the declarations"
expect_out "no differences" "diff shows nothing"
drop_extra_dbs

# ---- a column added to a table with rows --------------------------------------------------
sql "INSERT INTO notes (id, owner_id, body) VALUES (1, 'u1', 'hello')" >/dev/null
sed -i 's/    { "body", "text", not_null = true, default = "" },/&\n    { "title", "text" },/' \
  schema/10_notes.lua
rb revision --autogenerate -m "title"
expect_rc 0 "autogenerate a new column"
check "add_column in the upgrade" grep -q 'db:add_column("notes"' "$OUT"
rb upgrade head
expect_rc 0 "upgrade head adds the column"
expect_eq "$(sql "SELECT body FROM notes WHERE id = 1")" hello "the row is kept"

# ---- a drop needs --allow-drop ------------------------------------------------------------
before=$(migration_count)
sed -i '/create_index/d' schema/10_notes.lua
rb revision --autogenerate -m "drop index"
expect_rc 2 "a drop without --allow-drop is refused"
expect_out_has "notes_owner_id_idx would be dropped" "the refusal names the drop"
expect_err_has "nothing written" "and says nothing was written"
expect_eq "$(migration_count)" "$before" "refused: nothing written"
shadows_gone "after a refusal"
rb revision --autogenerate -m "drop index" --allow-drop
expect_rc 0 "with --allow-drop"
check "drop_index in the upgrade" grep -q 'db:drop_index' "$OUT"
rb upgrade head
expect_rc 0 "upgrade head drops the index"

# ---- a permission added to, then removed from, rbac/ -----------------------------------------
before=$(migration_count)
sed -i 's/^}$/  { name = "notes.export", description = "Export notes" },\n}/' rbac/permissions.lua
sed -i '0,/"tenants.read",$/s//"tenants.read", "notes.export",/' rbac/roles.lua
rb check
expect_rc 0 "check: rbac/ ahead of the catalogue is not a declarations fault (seed fills it too)"
rb revision --autogenerate -m "export notes"
expect_rc 0 "autogenerate a permission added to rbac/"
check "add_permissions of it" grep -q '{ "notes.export", "Export notes" },' "$OUT"
check "granted where roles.lua grants it" grep -q 'rbac.grant_template(db, "[a-z]*", { "notes.export" })' "$OUT"
check "revoked and removed in the downgrade" grep -q 'rbac.remove_permissions(db, { "notes.export" })' "$OUT"
expect_eq "$(migration_count)" "$((before + 1))" "one file for it"
rb upgrade head
expect_rc 0 "upgrade adds the permission"
expect_eq "$(sql "SELECT tp.template FROM role_template_permissions tp JOIN permissions p ON p.id = tp.permission_id WHERE p.name = 'notes.export' ORDER BY 1" | tr '\n' ,)" \
  "member,owner," "granted by the templates that name it (owner's \"*\" too)"
rb downgrade -1
expect_rc 0 "downgrade removes it"
expect_eq "$(sql "SELECT count(*) FROM permissions WHERE name = 'notes.export'")" 0 "gone after the downgrade"
rb upgrade head
expect_rc 0 "upgrade again"
rb revision --autogenerate -m "nothing"
expect_out "No changes in schema detected." "rbac/ and the catalogue agree"
sed -i '/notes.export", description/d; s/"tenants.read", "notes.export",/"tenants.read",/' rbac/permissions.lua rbac/roles.lua
before=$(migration_count)
rb revision --autogenerate -m "drop export"
expect_rc 2 "a permission removed from rbac/ needs --allow-drop"
expect_out_has "permission notes.export would be removed" "the refusal names it"
expect_eq "$(migration_count)" "$before" "refused: nothing written"
rb revision --autogenerate -m "drop export" --allow-drop
expect_rc 0 "with --allow-drop"
check "the removal" grep -q 'rbac.remove_permissions(db, { "notes.export" })' "$OUT"
rb upgrade head
expect_rc 0 "upgrade removes it"
expect_eq "$(sql "SELECT count(*) FROM permissions WHERE name = 'notes.export'")" 0 "removed"

# ---- a rename is a rename -------------------------------------------------------------------
before=$(migration_count)
sed -i 's/{ "body", "text"/{ "content", "text"/' schema/10_notes.lua
rb revision --autogenerate -m "rename body"
expect_rc 2 "a drop and an add that look like a rename are refused"
expect_out_has "a rename?" "the refusal asks"
expect_out_has "--rename notes.body:content" "and names both"
expect_eq "$(migration_count)" "$before" "refused: nothing written"
rb revision --autogenerate -m "rename body" --rename nosuch
expect_rc 2 "a malformed --rename"
expect_err_has "--rename 'nosuch' is not TABLE.OLD:NEW" "names it"
rb revision --autogenerate -m "rename body" --rename notes.body:content
expect_rc 0 "--rename TABLE.OLD:NEW"
check "rename_column in the upgrade" grep -q 'db:rename_column("notes", "body", "content")' "$OUT"
rb upgrade head
expect_rc 0 "upgrade head renames the column"
expect_eq "$(sql "SELECT content FROM notes WHERE id = 1")" hello "the rename keeps the row"
# A table renamed.
sed -i 's/create_table("notes"/create_table("memos"/' schema/10_notes.lua
rb revision --autogenerate -m "rename notes" --rename notes:memos
expect_rc 0 "--rename OLD_TABLE:NEW_TABLE"
rb upgrade head
expect_rc 0 "upgrade head renames the table"
expect_eq "$(sql "SELECT content FROM memos WHERE id = 1")" hello "the table's rows are kept"

# ---- row-level security and a policy calling Supabase's auth.uid() (PostgreSQL) -------------
if [ "$DIALECT" = postgresql ]; then
  cat > schema/20_memos_policies.lua <<'LUA'
return function(db)
  db:enable_rls("memos", { force = true })
  db:create_policy("memos", "memos_owner", { command = "select", to = "authenticated",
    using = "owner_id = (SELECT auth.uid())::text" })
end
LUA
  rb revision --autogenerate -m "memos policies"
  expect_rc 0 "autogenerate row-level security and a policy"
  check "create_policy in the upgrade" grep -q 'db:create_policy("memos", "memos_owner"' "$OUT"
  rb upgrade head
  expect_rc 0 "upgrade head applies the policy"
  expect_eq "$(sql "SELECT count(*) FROM pg_policies WHERE tablename = 'memos'")" 1 "the policy is there"
  expect_eq "$(sql "SELECT relforcerowsecurity FROM pg_class WHERE oid = 'public.memos'::regclass")" t \
    "row-level security forced"
  rb check
  expect_rc 0 "check: declarations, head and the database agree"
fi

# ---- usage -------------------------------------------------------------------------------------
rb revision -m x --allow-drop
expect_rc 2 "--allow-drop without --autogenerate"
expect_err_has "--allow-drop is an option of --autogenerate" "says so"
rb revision --autogenerate --sql -m x
expect_rc 2 "--sql with --autogenerate"

# ---- a proof that fails: nothing written ------------------------------------------------------
# A migration leaves a row in settings; the declarations add a NOT NULL column without a
# default to it. The generated upgrade cannot run where that row is (nor could it on any
# database at head): the proof says so and nothing is written.
mkdir proof && cd proof || exit 1
rb init
cat > migrations/bbbb00000001_settings.lua <<'LUA'
return {
  revision = "bbbb00000001",
  down_revision = nil,
  upgrade = function(db)
    db:create_table("settings", { { "id", "integer", primary_key = true }, { "name", "text" } })
    db:exec("INSERT INTO settings (id, name) VALUES (1, 'default')")
  end,
  downgrade = function(db) db:drop_table("settings") end,
}
LUA
mkdir schema
cat > schema/10_settings.lua <<'LUA'
return function(db)
  db:create_table("settings", {
    { "id", "integer", primary_key = true },
    { "name", "text" },
    { "owner", "text", not_null = true },
  })
end
LUA
rb revision --autogenerate -m "owner"
expect_rc 7 "a generated migration that fails its proof"
expect_out_has "proof failed: the generated upgrade does not run" "the proof names the step"
expect_err_has "owner" "and the column at fault"
expect_err_has "not proved (above); nothing written" "and that nothing was written"
expect_eq "$(ls migrations)" "bbbb00000001_settings.lua" "a failed proof writes nothing"
shadows_gone "after a failed proof"
cd ..

# ---- schema export, then autogenerate: nothing ------------------------------------------------
# A project of its own (no RBAC), started from its live database.
mkdir exported && cd exported || exit 1
rb init
new_db
if [ "$DIALECT" = postgresql ]; then
  sql "CREATE TABLE items (id integer PRIMARY KEY, name text NOT NULL, price numeric(10,2));
       CREATE INDEX items_name ON items (name)" >/dev/null
else
  sql 'CREATE TABLE items ("id" INTEGER NOT NULL PRIMARY KEY, "name" TEXT NOT NULL, "price" REAL);
       CREATE INDEX items_name ON items (name)'
fi
rb schema export -o schema/
expect_rc 0 "schema export -o DIR/"
expect_out "schema/export.lua" "names the file"
check "the export declares the table" grep -q 'db:create_table("items"' schema/export.lua
rb schema export -o schema/
expect_rc 1 "schema export never overwrites"
rb revision --autogenerate --from-db -m "nothing"
expect_rc 0 "export then --from-db"
expect_out "No changes in schema detected." "export then autogenerate --from-db: no changes"
rb revision --autogenerate -m "initial"
expect_rc 0 "export then autogenerate from an empty chain"
check "the first migration creates items" grep -q 'db:create_table("items"' "$OUT"
rb stamp head
rb revision --autogenerate -m "nothing"
expect_out "No changes in schema detected." "export, first migration, then nothing"
rb schema export --format sql
expect_rc 0 "schema export --format sql"
expect_out_has 'CREATE TABLE "items"' "the SQL the declaration runs"

# ---- --from-db: the live database has an edit of its own -----------------------------------
sql 'CREATE TABLE dashboard_made ("a" INTEGER)' >/dev/null
rb revision --autogenerate -m "from db"
expect_out "No changes in schema detected." "head and the declarations agree"
rb revision --autogenerate --from-db -m "from db"
expect_rc 2 "--from-db sees what the live database has beyond the declarations"
expect_out_has "dashboard_made would be dropped" "names it"
before=$(migration_count)
rb revision --autogenerate --from-db --allow-drop -m "from db"
expect_rc 0 "--from-db --allow-drop"
check "the drop is in the upgrade" grep -q 'db:drop_table("dashboard_made")' "$OUT"
rb upgrade head
expect_rc 0 "upgrade head drops the dashboard's table"
if table_exists dashboard_made; then fail "dashboard_made is gone"; else pass; fi
# A revision the database has not run: --from-db refuses (the new one would not follow it).
rb revision -m "empty step"
step=$OUT
rb revision --autogenerate --from-db -m "behind"
expect_rc 2 "--from-db refuses a database behind head"
expect_err_has "is not at head" "and says why"
rm -f "$step"

cd ..

# ---- schema export of a project with the RBAC schema, then autogenerate: nothing ------------
# The shipped RBAC migrations applied (on PostgreSQL on the Supabase fixture: default
# privileges give the API roles ALL on what `postgres` creates, which the migration takes
# back, column by column where it must), then exported: the export must make exactly that
# schema, grants and defaults included, so neither comparison finds a difference.
mkdir rbac_exported && cd rbac_exported || exit 1
rb init
cp "$SRC"/migrations/*.lua migrations/
new_db
supabase_fixture
rb upgrade head
expect_rc 0 "RBAC project: upgrade head"
rb schema export -o schema/
expect_rc 0 "RBAC project: schema export"
rb revision --autogenerate --from-db -m "nothing"
expect_rc 0 "RBAC project: export then --from-db"
expect_out "No changes in schema detected." "RBAC project: export then --from-db: no changes"
rb revision --autogenerate -m "nothing"
expect_rc 0 "RBAC project: export then autogenerate"
expect_out "No changes in schema detected." "RBAC project: export then autogenerate: no changes"
expect_eq "$(ls migrations | wc -l)" "$(ls "$SRC"/migrations/*.lua | wc -l)" "RBAC project: nothing written"
cd ..

# ---- examples/declared, as its README runs it ---------------------------------------------------
cp -r "$SRC/examples/declared" declared && cd declared || exit 1
new_db
rb upgrade head
expect_rc 0 "examples/declared: upgrade head"
rb revision --autogenerate -m "emails and books"
expect_rc 0 "examples/declared: autogenerate"
check "examples/declared: the view from 30_views.sql is in the upgrade" grep -q 'book_titles' "$OUT"
rb upgrade head
expect_rc 0 "examples/declared: upgrade head again"
rb revision --autogenerate -m "again"
expect_out "No changes in schema detected." "examples/declared: then no changes"
rb check
expect_rc 0 "examples/declared: check"
# SIGINT while the declarations apply: exit 130, and both shadows are dropped.
if [ "$DIALECT" = postgresql ]; then
  echo "SELECT pg_sleep(3);" > schema/99_slow.sql
  "$RBACMIG" revision --autogenerate -m slow 2>"$TEST_DIR/.stderr" &
  pid=$!
  for _ in $(seq 50); do
    [ "$(grep -c '^rbacmig: shadow: ' "$TEST_DIR/.stderr")" = 2 ] && break
    sleep 0.2
  done
  sleep 0.5
  kill -INT "$pid"
  wait "$pid"
  RC=$?
  ERR=$(cat "$TEST_DIR/.stderr")
  expect_rc 130 "SIGINT while the declarations apply"
  expect_err_has "interrupted by SIGINT" "says so"
  shadows_gone "after SIGINT"
  rm schema/99_slow.sql
fi
cd ..

finish
