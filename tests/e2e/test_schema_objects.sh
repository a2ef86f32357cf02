#!/usr/bin/env bash
# The schema API's object kinds beyond tables, through the real binary: views (both
# dialects; materialized and view options on PostgreSQL), enums, sequences, functions and
# procedures with every attribute, comments, the FORCE row-level security toggle, default
# privileges and owners (PostgreSQL). Each fixture migration (tests/e2e/schema_objects/) is
# applied with `rbacmig upgrade`, checked in the server's catalogs and in `rbacmig schema
# dump`, and undone with `rbacmig downgrade`, after which the dump is what it was before.
# Then the same migrations in --sql mode (the script applies to a fresh database), and the
# validation errors: one line naming the call, the option and the value, nothing applied.
. "$(dirname "$0")/lib.sh"
new_db
mkdir -p migrations
cp "$SRC"/tests/e2e/schema_objects/*.lua migrations/
PG=$([ "$DIALECT" = postgresql ] && echo yes || echo no)

if [ "$PG" = yes ]; then
  # Roles are the cluster's: made once, by the superuser; `postgres` may hand them objects
  # (it is a member of the owner) and the owner may own them in public and the database.
  admin_sql "DO \$\$ BEGIN
    IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'rbacmig_objs_owner') THEN
      CREATE ROLE rbacmig_objs_owner NOLOGIN; END IF;
    IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'rbacmig_objs_reader') THEN
      CREATE ROLE rbacmig_objs_reader NOLOGIN; END IF;
  END \$\$" >/dev/null 2>&1 || true
  admin_sql "GRANT rbacmig_objs_owner TO postgres" >/dev/null 2>&1 || true
fi
grant_owner() { # on each new database
  [ "$PG" = yes ] || return 0
  admin_sql "GRANT CREATE ON SCHEMA public TO rbacmig_objs_owner; GRANT CREATE ON DATABASE \"$DB_NAME\" TO rbacmig_objs_owner" >/dev/null
}
grant_owner

dump() { "$RBACMIG" schema dump 2>&1; }
rb upgrade 0b0000000001 # the version table exists from here on: the dumps compare like with like
expect_rc 0 "views upgrade"
rb downgrade base
BEFORE=$(dump)

# ---- views ----------------------------------------------------------------------------
rb upgrade 0b0000000001
expect_rc 0 "views upgrade"
if [ "$PG" = yes ]; then
  expect_eq "$(sql "SELECT c.relname || ':' || c.relkind::text || ':' || coalesce(array_to_string(c.reloptions, ','), '')
    FROM pg_class c WHERE c.relname IN ('cheap_items', 'priced_items', 'guarded_items', 'item_totals') ORDER BY 1")" \
    "cheap_items:v:
guarded_items:v:security_barrier=true,security_invoker=false
item_totals:m:
priced_items:v:security_invoker=true,check_option=local" "views and their options in pg_class"
  expect_eq "$(sql "SELECT relispopulated FROM pg_class WHERE relname = 'item_totals'")" f "WITH NO DATA"
  expect_eq "$(sql "SELECT pg_get_viewdef('guarded_items'::regclass) LIKE '%name%'")" t "replace = true replaced the query"
  OUT=$(dump)
  expect_out_has "view public.priced_items" "the reader sees the view"
  expect_out_has "check_option: local" "the reader sees the check option"
  expect_out_has "security_invoker: true" "the reader sees security_invoker"
  expect_out_has "security_barrier: true" "the reader sees security_barrier"
  expect_out_has "kind: materialized view" "the reader sees the materialized view"
else
  expect_eq "$(sql "SELECT type || ':' || name FROM sqlite_master WHERE name = 'cheap_items'")" \
    "view:cheap_items" "the view in sqlite_master"
  sql "INSERT INTO items VALUES (1, 'pen', 2), (2, 'car', 2000)"
  expect_eq "$(sql "SELECT name FROM cheap_items")" pen "the view answers"
  sql "DELETE FROM items"
fi

# ---- the PostgreSQL-only kinds ---------------------------------------------------------
if [ "$PG" = yes ]; then
  rb upgrade 0b0000000002
  expect_rc 0 "enums upgrade"
  expect_eq "$(sql "SELECT string_agg(enumlabel, ',' ORDER BY enumsortorder) FROM pg_enum WHERE enumtypid = 'mood'::regtype")" \
    "awful,sad,fine,happy" "enum values, placed and renamed"
  expect_eq "$(sql "SELECT count(*) FROM pg_enum WHERE enumtypid = 'empty_enum'::regtype")" 0 "an enum without values"
  OUT=$(dump)
  expect_out_has "enum public.mood" "the reader sees the enum"

  rb upgrade 0b0000000003
  expect_rc 0 "sequences upgrade"
  expect_eq "$(sql "SELECT format_type(seqtypid, NULL) || ' ' || seqstart || ' ' || seqincrement || ' ' || seqmin || ' ' || seqmax || ' ' || seqcache || ' ' || seqcycle
    FROM pg_sequence WHERE seqrelid = 'ticket_seq'::regclass")" "integer 100 7 10 200000 1 false" "sequence attributes after alter"
  expect_eq "$(sql "SELECT last_value || ' ' || is_called FROM ticket_seq")" "105 false" "RESTART WITH"
  expect_eq "$(sql "SELECT count(*) FROM pg_depend WHERE objid = 'ticket_seq'::regclass AND deptype = 'a'")" 0 "OWNED BY NONE"
  expect_eq "$(sql "SELECT pg_get_serial_sequence('tickets', 'id')")" "public.tickets_id_seq" "OWNED BY a column"
  OUT=$(dump)
  expect_out_has "owned_by: public.tickets.id" "the reader sees the owning column"

  rb upgrade 0b0000000004
  expect_rc 0 "functions upgrade"
  expect_eq "$(sql "SELECT provolatile::text || proparallel::text || procost || ' ' || prorows || ' ' || prosecdef || ' ' || coalesce(array_to_string(proconfig, ';'), '-')
    FROM pg_proc WHERE proname = 'item_names'")" "ss5 20 false -" "item_names: attributes, security and RESET ALL"
  expect_eq "$(sql "SELECT provolatile::text || proparallel::text || procost || ' ' || proisstrict || ' ' || array_to_string(proconfig, ';')
    FROM pg_proc WHERE proname = 'ordered_settings'")" \
    "is50 false search_path=pg_catalog, public;statement_timeout=5s" "ordered_settings: altered in place"
  expect_eq "$(sql "SELECT prokind::text || ' ' || array_to_string(proconfig, ';') FROM pg_proc WHERE proname = 'bump_price'")" \
    "p search_path=public;lock_timeout=1000" "a procedure with settings"
  OUT=$(dump)
  expect_out_has "kind: procedure" "the reader sees the procedure"
  expect_out_has "parallel: safe" "the reader sees parallel"

  rb upgrade 0b0000000005
  expect_rc 0 "comments upgrade"
  expect_eq "$(sql "SELECT count(*) FROM pg_description d WHERE d.description IN ('what is for sale', 'in cents',
    'under 10', 'refreshed nightly', 'names at a price', 'one cent more', 'how it''s going', 'ticket numbers',
    'by name', 'everyone', 'a no-op', 'no freebies')")" 12 "twelve comments in pg_description"
  expect_eq "$(sql "SELECT obj_description('notes'::regnamespace, 'pg_namespace')")" "the app's notes" "schema comment"
  expect_eq "$(sql "SELECT col_description('items'::regclass, 3)")" "in cents" "column comment"
  OUT=$(dump)
  expect_out_has "comment: how it's going" "the reader sees a comment"

  rb upgrade 0b0000000006
  expect_rc 0 "privileges upgrade"
  expect_eq "$(sql "SELECT relrowsecurity || ' ' || relforcerowsecurity FROM pg_class WHERE relname = 'items'")" "true true" "force_rls"
  expect_eq "$(sql "SELECT string_agg(c.relname || '=' || pg_get_userbyid(c.relowner), ',' ORDER BY c.relname)
    FROM pg_class c WHERE c.relname IN ('owned', 'owned_v', 'owned_mv', 'owned_seq')")" \
    "owned=rbacmig_objs_owner,owned_mv=rbacmig_objs_owner,owned_seq=rbacmig_objs_owner,owned_v=rbacmig_objs_owner" "owners of relations"
  expect_eq "$(sql "SELECT pg_get_userbyid(typowner) FROM pg_type WHERE typname = 'owned_enum'")
$(sql "SELECT pg_get_userbyid(proowner) FROM pg_proc WHERE proname = 'owned_fn'")
$(sql "SELECT pg_get_userbyid(nspowner) FROM pg_namespace WHERE nspname = 'owned_schema'")" \
    "rbacmig_objs_owner
rbacmig_objs_owner
rbacmig_objs_owner" "owners of a type, a function and a schema"
  expect_eq "$(sql "SELECT string_agg(e, ' ' ORDER BY e COLLATE \"C\") FROM (SELECT coalesce(n.nspname, '-') || ':'
    || d.defaclobjtype::text || ':' || array_to_string(d.defaclacl, ';') AS e
    FROM pg_default_acl d LEFT JOIN pg_namespace n ON n.oid = d.defaclnamespace) x")" \
    "-:S:postgres=rwU/postgres;rbacmig_objs_reader=U/postgres -:f:postgres=X/postgres -:n:postgres=UC/postgres;rbacmig_objs_reader=U/postgres public:T:rbacmig_objs_reader=U/postgres public:r:rbacmig_objs_reader=a*r*/postgres" \
    "default privileges in pg_default_acl"
  OUT=$(dump)
  expect_out_has "FOR ROLE postgres IN SCHEMA public ON tables TO rbacmig_objs_reader" "the reader sees a default privilege"
  rb downgrade 0b0000000005
  expect_rc 0 "privileges downgrade"
  expect_eq "$(sql "SELECT relrowsecurity || ' ' || relforcerowsecurity FROM pg_class WHERE relname = 'items'")" "false false" "no_force_rls and disable_rls"
  expect_eq "$(sql "SELECT count(*) FROM pg_default_acl")" 0 "default privileges undone"
  rb downgrade 0b0000000004
  expect_rc 0 "comments downgrade"
  expect_eq "$(sql "SELECT count(*) FROM pg_description d JOIN pg_class c ON c.oid = d.objoid WHERE c.relname = 'items'")" 0 "comment_on with nil removed the comments"
fi

# ---- table and column attributes --------------------------------------------------------
rb upgrade 0b0000000007
expect_rc 0 "table and column attributes upgrade"
sql "INSERT INTO people (id, name) VALUES (1, 'ann'), (2, 'Bob')" >/dev/null
expect_eq "$(sql "SELECT shout FROM people ORDER BY id")" "ANN
BOB" "a generated column"
if [ "$PG" = yes ]; then
  expect_eq "$(sql "SELECT string_agg(name, ',' ORDER BY name) FROM people")" "Bob,ann" "COLLATE \"C\" orders bytes"
  expect_eq "$(sql "SELECT string_agg(attname || '=' || attidentity::text, ',' ORDER BY attnum) FROM pg_attribute
    WHERE attrelid = 'events'::regclass AND attnum > 0")" "id=a,n=d,at=" "identity columns"
  expect_eq "$(sql "SELECT string_agg(c.relname || ':' || pg_get_expr(c.relpartbound, c.oid), ';' ORDER BY c.relname)
    FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid WHERE i.inhparent = 'events'::regclass")" \
    "events_2026:FOR VALUES FROM ('2026-01-01') TO ('2027-01-01');events_other:DEFAULT" "partitions"
  expect_eq "$(sql "SELECT pg_get_partkeydef('events'::regclass)")" "RANGE (at)" "partition key"
  expect_eq "$(sql "SELECT relpersistence::text || ' ' || array_to_string(reloptions, ',') FROM pg_class WHERE relname = 'scratch'")" \
    "p fillfactor=80" "UNLOGGED and storage parameters, then alter_table (LOGGED, SET, RESET)"
  expect_eq "$(sql "SELECT string_agg(tgname || '=' || tgenabled::text, ',' ORDER BY tgname) FROM pg_trigger WHERE tgrelid = 'people'::regclass")" \
    "people_always=A,people_off=D,people_replica=R" "disable_trigger and enable_trigger's modes"
  expect_eq "$(sql "SELECT array_to_string(reloptions, ',') FROM pg_class WHERE relname = 'people_mv'")" \
    "fillfactor=50" "a materialized view's storage parameters"
  OUT=$(dump)
  expect_out_has "partition_of: public.events FOR VALUES FROM ('2026-01-01') TO ('2027-01-01')" "the reader sees the partition"
  expect_out_has "identity: always" "the reader sees the identity column"
  expect_out_has "collation: pg_catalog.C" "the reader sees the collation"
  expect_out_has "enabled: replica" "the reader sees the trigger's mode"
else
  expect_eq "$(sql "SELECT count(*) FROM people WHERE name = 'ANN'")" 1 "COLLATE NOCASE compares without case"
fi
sql "DELETE FROM people" >/dev/null

rb downgrade base
expect_rc 0 "downgrade to base"
AFTER=$(dump)
if [ "$BEFORE" = "$AFTER" ]; then pass; else
  fail "the downgrades leave no trace: $(diff <(echo "$BEFORE") <(echo "$AFTER") | head -20)"
fi
check "the dump is not empty (it would hide a reader that sees nothing)" test -n "$BEFORE"

# ---- ADD VALUE: on PostgreSQL 12+ allowed in the transaction, unusable until it commits ---
if [ "$PG" = yes ]; then
  rb upgrade 0b0000000002
  cat > migrations/0c0000000001_use.lua <<'LUA'
return { revision = "0c0000000001", down_revision = "0b0000000002",
  upgrade = function(db)
    db:add_enum_value("mood", "ecstatic")
    db:execute("INSERT INTO moods VALUES (1, 'ecstatic')")
  end, downgrade = function() end }
LUA
  rb upgrade 0c0000000001
  expect_rc 1 "using a value added in the same transaction"
  expect_err_has "unsafe use of new value" "the server's reason is shown"
  expect_err_has "0c0000000001_use.lua:4" "at the migration's line"
  expect_eq "$(sql "SELECT count(*) FROM pg_enum WHERE enumlabel = 'ecstatic'")" 0 "and the value was rolled back"
  rm migrations/0c0000000001_use.lua
  rb downgrade base
fi

# ---- --sql: the same statements, written; the script builds the same schema ----------------
new_db
grant_owner
rb upgrade --sql 0b0000000007
expect_rc 0 "--sql mode"
if [ "$PG" = yes ]; then
  expect_out_has "CREATE MATERIALIZED VIEW \"item_totals\" AS" "--sql writes the materialized view"
  expect_out_has "ALTER TYPE \"mood\" ADD VALUE 'happy' AFTER 'ok'" "--sql writes ADD VALUE"
  expect_out_has "ALTER DEFAULT PRIVILEGES IN SCHEMA \"public\" GRANT SELECT, INSERT ON TABLES TO \"rbacmig_objs_reader\" WITH GRANT OPTION" "--sql writes default privileges"
  expect_out_has "COMMENT ON COLUMN \"public\".\"items\".\"price\" IS 'in cents'" "--sql writes comments"
  printf '%s\n' "$OUT" > objects.sql
  PGOPTIONS="-c client_min_messages=warning" "$PSQL" -X -q -v ON_ERROR_STOP=1 -d "$DB_URL" -f objects.sql >/dev/null 2>psql.err
  check "--sql output applies: $(cat psql.err)" test ! -s psql.err
  expect_eq "$(sql "SELECT string_agg(enumlabel, ',' ORDER BY enumsortorder) FROM pg_enum WHERE enumtypid = 'mood'::regtype")" \
    "awful,sad,fine,happy" "the script built the enum"
else
  expect_out_has "CREATE VIEW \"cheap_items\" AS" "--sql writes the view"
  printf '%s\n' "$OUT" | sqlite3 -bail "$DB_FILE" >/dev/null 2>sqlite.err
  check "--sql output applies: $(cat sqlite.err)" test ! -s sqlite.err
  expect_eq "$(sql "SELECT type FROM sqlite_master WHERE name = 'cheap_items'")" view "the script built the view"
fi

# ---- bad calls: one error line naming the call, the option and the value; nothing applied -
new_db
rb upgrade 0b0000000001
bad() { # bad LUA EXPECTED...
  local lua=$1
  shift
  cat > migrations/0d0000000001_bad.lua <<LUA
return { revision = "0d0000000001", down_revision = "0b0000000001",
  upgrade = function(db)
    db:create_table("keep_out", { { "id", "integer" } })
    $lua
  end, downgrade = function() end }
LUA
  rb upgrade 0d0000000001
  expect_rc 1 "bad call: $lua"
  expect_one_error_line "bad call: $lua"
  expect_err_has "0d0000000001_bad.lua:4" "bad call names the line: $lua"
  local e
  for e in "$@"; do expect_err_has "$e" "bad call: $lua"; done
  check "bad call left nothing: $lua" test "$(table_exists keep_out && echo yes)" != yes
  rm migrations/0d0000000001_bad.lua
}
bad 'db:create_view("v", { as = "SELECT 1", check_option = "strict" })' \
  "create_view: option 'check_option' must be one of cascaded, local, got 'strict'"
bad 'db:create_view("v", { sql = "SELECT 1" })' "create_view: unknown option 'sql'"
bad 'db:create_view("v", {})' "create_view: option 'as' (the view's query) is required"
bad 'db:drop_view("v", { materialised = true })' "drop_view: unknown option 'materialised'"
if [ "$PG" = yes ]; then
  bad 'db:create_view("v", { as = "SELECT 1", materialized = true, security_invoker = true })' \
    "create_view: option 'security_invoker' does not apply to a materialized view"
  bad 'db:create_view("v", { as = "SELECT 1", with_data = false })' \
    "create_view: option 'with_data' applies to a materialized view only"
  bad 'db:create_enum("e", { "a", "a" })' "create_enum: values has 'a' twice"
  bad 'db:create_enum("e", "a")' "create_enum: values must be a list, got 'a'"
  bad 'db:add_enum_value("e", "b", { before = "a", after = "c" })' \
    "add_enum_value: options 'before' and 'after' exclude each other"
  bad 'db:rename_enum_value("e", "a", "")' "rename_enum_value: new value must be a string of 1 to 63 bytes, got ''"
  bad 'db:create_sequence("s", { as = "numeric" })' \
    "create_sequence: option 'as' must be one of bigint, integer, smallint, got 'numeric'"
  bad 'db:create_sequence("s", { start = 1.5 })' "create_sequence: option 'start' must be an integer, got 1.5"
  bad 'db:create_sequence("s", { increment = 0 })' "create_sequence: option 'increment' must not be 0"
  bad 'db:alter_sequence("s", {})' "alter_sequence: nothing to change"
  bad 'db:create_sequence("s", { owned_by = "a.b.c.d" })' \
    "create_sequence: option 'owned_by' must be 'table.column', 'schema.table.column' or 'none', got 'a.b.c.d'"
  bad 'db:comment_on("tabel", "items", "x")' "comment_on: kind must be one of" "got 'tabel'"
  bad 'db:comment_on("policy", "p", "x")' "comment_on: option 'table' is required for kind 'policy'"
  bad 'db:comment_on("column", "price", "x")' "comment_on: column name must be 'table.column', got 'price'"
  bad 'db:comment_on("table", "items", 42)' "comment_on: text must be a string, or nil to remove the comment, got 42"
  bad 'db:create_function("f", { returns = "int", language = "sql", body = "SELECT 1", parallel = "maybe" })' \
    "create_function: option 'parallel' must be one of restricted, safe, unsafe, got 'maybe'"
  bad 'db:create_function("f", { procedure = true, returns = "int", language = "sql", body = "SELECT 1" })' \
    "create_function: option 'returns' does not apply to a procedure"
  bad 'db:create_function("f", { returns = "int", language = "sql", body = "SELECT 1", cost = -1 })' \
    "create_function: option 'cost' must be a number above 0, got -1"
  bad 'db:create_function("f", { returns = "int", language = "sql", body = "SELECT 1", search_path = { "a" }, settings = { search_path = "b" } })' \
    "create_function: search_path is set twice (option 'search_path' and option 'settings')"
  bad 'db:create_function("f", { returns = "int", language = "sql", body = "SELECT 1", settings = { ["work mem"] = "1MB" } })' \
    "create_function: option 'settings'.work mem name must be a configuration parameter name, got 'work mem'"
  bad 'db:alter_function("f", { reset = "work_mem", settings = { work_mem = "1MB" } })' \
    "alter_function: option 'reset' names 'work_mem', which the options also set"
  bad 'db:alter_function("f", {})' "alter_function: nothing to change"
  bad 'db:grant_default("execute", "tables", "r")' \
    "grant_default: privilege 'execute' does not apply to 'tables' (allowed: select, insert, update, delete, truncate, references, trigger, all)"
  bad 'db:grant_default("usage", "domains", "r")' "grant_default: on must be one of functions, schemas, sequences, tables, types, got 'domains'"
  bad 'db:revoke_default("usage", "schemas", "r", { schema = "public" })' \
    "revoke_default: option 'schema' does not apply to 'schemas'"
  bad 'db:set_owner("index", "i", "r")' "set_owner: kind must be one of" "got 'index'"
  bad 'db:set_owner("table", "items", "public")' "set_owner: role cannot be public"
  bad 'db:force_rls("items", { forced = true })' "force_rls: unknown option 'forced' (known: schema)"
else
  for call in 'db:create_view("v", { as = "SELECT 1", materialized = true })|create_view: option '"'"'materialized'"'"' is not supported on sqlite' \
      'db:create_view("v", { as = "SELECT 1", security_invoker = true })|create_view: option '"'"'security_invoker'"'"' is not supported on sqlite' \
      'db:create_view("v", { as = "SELECT 1", replace = true })|create_view: option '"'"'replace'"'"' is not supported on sqlite' \
      'db:drop_view("v", { cascade = true })|drop_view: option '"'"'cascade'"'"' is not supported on sqlite' \
      'db:create_enum("e", { "a" })|create_enum is not supported on sqlite' \
      'db:create_sequence("s")|create_sequence is not supported on sqlite' \
      'db:comment_on("table", "items", "x")|comment_on is not supported on sqlite' \
      'db:grant_default("select", "tables", "r")|grant_default is not supported on sqlite' \
      'db:set_owner("table", "items", "r")|set_owner is not supported on sqlite' \
      'db:force_rls("items")|force_rls is not supported on sqlite' \
      'db:alter_function("f", { strict = true })|alter_function is not supported on sqlite'; do
    bad "${call%%|*}" "${call#*|}"
  done
fi
# What the server refuses is the server's error at the migration's line, and rolled back.
if [ "$PG" = yes ]; then
  bad 'db:create_function("f", { returns = "int", language = "sql", body = "SELECT 1", leakproof = true })' \
    "only superuser can define a leakproof function"
fi

finish
