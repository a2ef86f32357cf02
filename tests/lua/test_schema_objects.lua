-- Golden tests of the schema API's object kinds beyond tables (rbacmig.schema's views,
-- enums, sequences, functions, comments, privileges and owners modules): the exact SQL each
-- call sends, and the errors of bad calls, raised before anything is sent. No database: the
-- same statements are applied to real servers by tests/e2e/test_schema_objects.sh.

local T = require("harness")
local test, raises = T.test, T.raises
local R = require("schema_recorder")

-- Runs fn(db) on a fresh recorder and compares the statements it executed.
local function golden(dialect, expected, fn)
  local db = R.new(dialect)
  fn(db)
  T.same(R.statements(db), expected, "statement")
  return db
end

local pg, lite = R.new("postgresql"), R.new("sqlite")

-- fn(db) must raise `expected` and send nothing.
local function refused(dialect, expected, fn)
  local db = R.new(dialect)
  raises(expected, fn, db)
  T.eq(#R.statements(db), 0, "statements sent by a refused call")
end

---------------------------------------------------------------------------------------------
-- Views
---------------------------------------------------------------------------------------------

test("create_view: options, a catalog definition's ';' and a trailing comment", function()
  golden("postgresql", { [[
CREATE OR REPLACE VIEW "s"."v" WITH (security_barrier=false, security_invoker=true) AS
SELECT 1 -- c
WITH CASCADED CHECK OPTION]], [[
CREATE MATERIALIZED VIEW "m" AS
SELECT 1
WITH NO DATA]], [[DROP MATERIALIZED VIEW IF EXISTS "s"."m" CASCADE]] }, function(db)
    db:create_view("v", { as = "SELECT 1 -- c\n;\n", security_invoker = true,
      security_barrier = false, check_option = "cascaded", replace = true, schema = "s" })
    db:create_view("m", { as = "SELECT 1", materialized = true, with_data = false })
    db:drop_view("m", { materialized = true, if_exists = true, cascade = true, schema = "s" })
  end)
end)

test("create_view: a plain view on sqlite, where false asks for nothing", function()
  golden("sqlite", { "CREATE VIEW \"v\" AS\nSELECT 1", [[DROP VIEW IF EXISTS "v"]] }, function(db)
    db:create_view("v", { as = "SELECT 1;", materialized = false, security_invoker = false })
    db:drop_view("v", { if_exists = true })
  end)
end)

test("create_view and drop_view: bad calls", function()
  refused("postgresql", "create_view: option 'as' (the view's query) is required",
    function(db) db:create_view("v", { materialized = true }) end)
  refused("postgresql", "create_view: option 'as' must be a non-empty SQL string, got ''",
    function(db) db:create_view("v", { as = "" }) end)
  refused("postgresql", "create_view: option 'check_option' must be one of cascaded, local, got 'strict'",
    function(db) db:create_view("v", { as = "SELECT 1", check_option = "strict" }) end)
  refused("postgresql", "create_view: option 'replace' does not apply to a materialized view",
    function(db) db:create_view("v", { as = "SELECT 1", materialized = true, replace = true }) end)
  refused("postgresql", "create_view: option 'with_data' applies to a materialized view only",
    function(db) db:create_view("v", { as = "SELECT 1", with_data = true }) end)
  for _, key in ipairs({ "materialized", "security_invoker", "security_barrier", "replace" }) do
    refused("sqlite", "create_view: option '" .. key .. "' is not supported on sqlite",
      function(db) db:create_view("v", { as = "SELECT 1", [key] = true }) end)
  end
  refused("sqlite", "create_view: option 'check_option' is not supported on sqlite",
    function(db) db:create_view("v", { as = "SELECT 1", check_option = "local" }) end)
  refused("sqlite", "drop_view: option 'materialized' is not supported on sqlite",
    function(db) db:drop_view("v", { materialized = true }) end)
  refused("postgresql", "drop_view: view name must be a non-empty string, got nil",
    function(db) db:drop_view() end)
end)

---------------------------------------------------------------------------------------------
-- Enums
---------------------------------------------------------------------------------------------

test("enums: create (also without values), drop, add and rename values", function()
  golden("postgresql", {
    [[CREATE TYPE "s"."mood" AS ENUM ('sad', 'it''s ok')]],
    [[CREATE TYPE "e" AS ENUM ()]],
    [[DROP TYPE IF EXISTS "s"."mood" CASCADE]],
    [[ALTER TYPE "mood" ADD VALUE IF NOT EXISTS 'happy' AFTER 'it''s ok']],
    [[ALTER TYPE "mood" ADD VALUE 'awful' BEFORE 'sad']],
    [[ALTER TYPE "s"."mood" RENAME VALUE 'sad' TO 'blue']],
  }, function(db)
    db:create_enum("mood", { "sad", "it's ok" }, { schema = "s" })
    db:create_enum("e", {})
    db:drop_enum("mood", { if_exists = true, cascade = true, schema = "s" })
    db:add_enum_value("mood", "happy", { after = "it's ok", if_not_exists = true })
    db:add_enum_value("mood", "awful", { before = "sad" })
    db:rename_enum_value("mood", "sad", "blue", { schema = "s" })
  end)
end)

test("enums: bad calls", function()
  refused("postgresql", "create_enum: values must be a list, got nil",
    function(db) db:create_enum("e") end)
  refused("postgresql", "create_enum: values[2] must be a string of 1 to 63 bytes, got ''",
    function(db) db:create_enum("e", { "a", "" }) end)
  refused("postgresql", "create_enum: values[1] must be a string of 1 to 63 bytes, got '" .. ("x"):rep(64) .. "'",
    function(db) db:create_enum("e", { ("x"):rep(64) }) end)
  refused("postgresql", "add_enum_value: options 'before' and 'after' exclude each other",
    function(db) db:add_enum_value("e", "x", { before = "a", after = "b" }) end)
  refused("postgresql", "add_enum_value: unknown option 'first'",
    function(db) db:add_enum_value("e", "x", { first = true }) end)
  refused("postgresql", "rename_enum_value: old value must be a string of 1 to 63 bytes, got 3",
    function(db) db:rename_enum_value("e", 3, "x") end)
  refused("sqlite", "create_enum is not supported on sqlite",
    function(db) db:create_enum("e", { "a" }) end)
end)

---------------------------------------------------------------------------------------------
-- Sequences
---------------------------------------------------------------------------------------------

test("sequences: every attribute, restart, owned by none, drop", function()
  golden("postgresql", {
    [[CREATE SEQUENCE IF NOT EXISTS "s"."q" AS bigint INCREMENT BY -1 MINVALUE -9223372036854775808 MAXVALUE 10 START WITH 1 CACHE 5 CYCLE OWNED BY "s"."t"."c"]],
    [[CREATE SEQUENCE "q"]],
    [[ALTER SEQUENCE "q" RESTART NO CYCLE OWNED BY NONE]],
    [[ALTER SEQUENCE "q" AS smallint RESTART WITH 7 OWNED BY "t"."c"]],
    [[DROP SEQUENCE IF EXISTS "s"."q" CASCADE]],
  }, function(db)
    db:create_sequence("q", { as = "bigint", start = 1, increment = -1,
      min_value = "-9223372036854775808", max_value = 10, cache = 5, cycle = true,
      owned_by = "s.t.c", schema = "s", if_not_exists = true })
    db:create_sequence("q")
    db:alter_sequence("q", { restart = true, cycle = false, owned_by = "none" })
    db:alter_sequence("q", { restart = 7, as = "smallint", owned_by = "t.c" })
    db:drop_sequence("q", { if_exists = true, cascade = true, schema = "s" })
  end)
end)

test("sequences: bad calls", function()
  refused("postgresql", "create_sequence: option 'start' must be an integer, got '1e3'",
    function(db) db:create_sequence("q", { start = "1e3" }) end)
  refused("postgresql", "create_sequence: option 'cache' must be at least 1, got 0",
    function(db) db:create_sequence("q", { cache = 0 }) end)
  refused("postgresql", "create_sequence: option 'owned_by' = 'none' is what a new sequence has",
    function(db) db:create_sequence("q", { owned_by = "none" }) end)
  refused("postgresql", "create_sequence: option 'owned_by' has an empty name in 't.'",
    function(db) db:create_sequence("q", { owned_by = "t." }) end)
  refused("postgresql", "alter_sequence: option 'restart' must be an integer, got 'soon'",
    function(db) db:alter_sequence("q", { restart = "soon" }) end)
  refused("postgresql", "alter_sequence: nothing to change",
    function(db) db:alter_sequence("q", { restart = false }) end)
  refused("postgresql", "alter_sequence: unknown option 'if_not_exists'",
    function(db) db:alter_sequence("q", { if_not_exists = true }) end)
  refused("sqlite", "create_sequence is not supported on sqlite",
    function(db) db:create_sequence("q") end)
end)

---------------------------------------------------------------------------------------------
-- Comments
---------------------------------------------------------------------------------------------

test("comment_on: kinds, nil removes, literals escaped", function()
  golden("postgresql", {
    [[COMMENT ON TABLE "s"."t" IS 'it''s a table']],
    [[COMMENT ON COLUMN "t"."c" IS NULL]],
    [[COMMENT ON FUNCTION "f"(integer, text) IS 'x']],
    [[COMMENT ON SCHEMA "s" IS 'x']],
    [[COMMENT ON POLICY "p" ON "s"."t" IS 'x']],
    [[COMMENT ON MATERIALIZED VIEW "m" IS '']],
  }, function(db)
    db:comment_on("table", "t", "it's a table", { schema = "s" })
    db:comment_on("column", "t.c", nil)
    db:comment_on("function", "f", "x", { args = { "integer", "text" } })
    db:comment_on("schema", "s", "x")
    db:comment_on("policy", "p", "x", { table = "t", schema = "s" })
    db:comment_on("materialized_view", "m", "")
  end)
end)

test("comment_on: bad calls", function()
  refused("postgresql", { "comment_on: kind must be one of column, constraint, function,", "got 'domain'" },
    function(db) db:comment_on("domain", "d", "x") end)
  refused("postgresql", "comment_on: option 'schema' does not apply to kind 'schema'",
    function(db) db:comment_on("schema", "s", "x", { schema = "t" }) end)
  refused("postgresql", "comment_on: option 'args' applies to kinds function and procedure only",
    function(db) db:comment_on("table", "t", "x", { args = "integer" }) end)
  refused("postgresql", "comment_on: option 'table' applies to kinds constraint, policy and trigger only",
    function(db) db:comment_on("index", "i", "x", { table = "t" }) end)
  refused("postgresql", "comment_on: option 'table' is required for kind 'trigger'",
    function(db) db:comment_on("trigger", "g", "x") end)
  refused("postgresql", "comment_on: column name must be 'table.column', got 's.t.c'",
    function(db) db:comment_on("column", "s.t.c", "x") end)
  refused("postgresql", "comment_on: text must be a string, or nil to remove the comment, got true",
    function(db) db:comment_on("table", "t", true) end)
  refused("sqlite", "comment_on is not supported on sqlite",
    function(db) db:comment_on("table", "t", "x") end)
end)

---------------------------------------------------------------------------------------------
-- Row-level security: FORCE alone
---------------------------------------------------------------------------------------------

test("force_rls and no_force_rls", function()
  golden("postgresql", {
    [[ALTER TABLE "s"."t" FORCE ROW LEVEL SECURITY]],
    [[ALTER TABLE "t" NO FORCE ROW LEVEL SECURITY]],
  }, function(db)
    db:force_rls("t", { schema = "s" })
    db:no_force_rls("t")
  end)
  refused("postgresql", "no_force_rls: unknown option 'force' (known: schema)",
    function(db) db:no_force_rls("t", { force = false }) end)
  refused("sqlite", "force_rls is not supported on sqlite", function(db) db:force_rls("t") end)
end)

---------------------------------------------------------------------------------------------
-- Functions and procedures
---------------------------------------------------------------------------------------------

test("create_function: every attribute; settings as a table (in name order) or pairs", function()
  golden("postgresql", { [[
CREATE FUNCTION "f"(a integer)
RETURNS setof text
LANGUAGE "sql"
STABLE
LEAKPROOF
STRICT
SECURITY DEFINER
PARALLEL SAFE
COST 2.5
ROWS 10
SET search_path = "pg_catalog"
SET enable_seqscan = false
SET myapp.tenant = 3
SET temp_tablespaces = 'a', 'b'
SET work_mem = '64MB'
AS $rbacmig$SELECT 'x'$rbacmig$]], [[
CREATE PROCEDURE "p"()
LANGUAGE "plpgsql"
SET search_path = ''
SET lock_timeout = DEFAULT
AS $rbacmig$BEGIN END$rbacmig$]] }, function(db)
    db:create_function("f", { args = "a integer", returns = "setof text", language = "SQL",
      volatility = "stable", leakproof = true, strict = true, security = "definer",
      parallel = "safe", cost = 2.5, rows = 10, search_path = { "pg_catalog" },
      settings = { work_mem = "64MB", ["myapp.tenant"] = 3, enable_seqscan = false,
        temp_tablespaces = { "a", "b" } },
      body = "SELECT 'x'" })
    db:create_function("p", { procedure = true, language = "plpgsql",
      settings = { { "search_path", "" }, { "lock_timeout", db.fn.raw("DEFAULT") } },
      body = "BEGIN END" })
  end)
end)

test("alter_function: changes in place, OWNER TO apart, RESET ALL, procedures", function()
  golden("postgresql", {
    [[ALTER FUNCTION "s"."f"(integer) VOLATILE NOT LEAKPROOF CALLED ON NULL INPUT SECURITY INVOKER PARALLEL UNSAFE COST 100 ROWS 1000 SET work_mem = '1MB' RESET search_path]],
    [[ALTER FUNCTION "s"."f"(integer) OWNER TO CURRENT_USER]],
    [[ALTER FUNCTION "f" RESET ALL]],
    [[ALTER PROCEDURE "p" OWNER TO "bob"]],
    [[DROP PROCEDURE IF EXISTS "p"]],
  }, function(db)
    db:alter_function("f", { args = "integer", volatility = "volatile", strict = false,
      leakproof = false, parallel = "unsafe", security = "invoker", cost = 100, rows = 1000,
      settings = { work_mem = "1MB" }, reset = { "search_path" }, owner = "current_user",
      schema = "s" })
    db:alter_function("f", { reset = "all" })
    db:alter_function("p", { procedure = true, owner = "bob" })
    db:drop_function("p", { procedure = true, if_exists = true })
  end)
end)

test("functions: bad calls", function()
  local base = { returns = "int", language = "sql", body = "SELECT 1" }
  local function with(extra)
    local o = {}
    for k, v in pairs(base) do o[k] = v end
    for k, v in pairs(extra) do o[k] = v end
    return o
  end
  refused("postgresql", "create_function: option 'parallel' must be one of restricted, safe, unsafe, got 'yes'",
    function(db) db:create_function("f", with({ parallel = "yes" })) end)
  refused("postgresql", "create_function: option 'rows' must be a number above 0, got 0",
    function(db) db:create_function("f", with({ rows = 0 })) end)
  refused("postgresql", "create_function: option 'volatility' does not apply to a procedure",
    function(db) db:create_function("p", { procedure = true, language = "sql", body = "x",
      volatility = "stable" }) end)
  refused("postgresql", "create_function: option 'returns' is required",
    function(db) db:create_function("f", { language = "sql", body = "x" }) end)
  refused("postgresql", "create_function: option 'settings' must be a table, got 'work_mem=1MB'",
    function(db) db:create_function("f", with({ settings = "work_mem=1MB" })) end)
  refused("postgresql", "create_function: option 'settings'[1] must be a { name, value } pair",
    function(db) db:create_function("f", with({ settings = { { "work_mem" } } })) end)
  refused("postgresql", "create_function: option 'settings' must be a table of names or a list of pairs, not both",
    function(db) db:create_function("f", with({ settings = { { "a", "1" }, b = "2" } })) end)
  refused("postgresql", "create_function: option 'settings' sets work_mem twice",
    function(db) db:create_function("f", with({ settings = { { "work_mem", "1MB" }, { "WORK_MEM", "2MB" } } })) end)
  refused("postgresql", "create_function: option 'settings'.work_mem must be a string, number, boolean, non-empty list of strings or db.fn.raw(sql), got",
    function(db) db:create_function("f", with({ settings = { work_mem = {} } })) end)
  refused("postgresql", "create_function: option 'settings'.a. name must be a configuration parameter name, got 'a.'",
    function(db) db:create_function("f", with({ settings = { ["a."] = "1" } })) end)
  refused("postgresql", "alter_function: options must say what to change",
    function(db) db:alter_function("f") end)
  refused("postgresql", "alter_function: option 'reset' = 'all' contradicts the settings it would undo",
    function(db) db:alter_function("f", { reset = "all", settings = { work_mem = "1MB" } }) end)
  refused("postgresql", "alter_function: option 'owner' cannot be public",
    function(db) db:alter_function("f", { owner = "PUBLIC" }) end)
  refused("postgresql", "alter_function: option 'rows' does not apply to a procedure",
    function(db) db:alter_function("p", { procedure = true, rows = 5 }) end)
  refused("sqlite", "alter_function is not supported on sqlite",
    function(db) db:alter_function("f", { strict = true }) end)
end)

---------------------------------------------------------------------------------------------
-- Default privileges and owners
---------------------------------------------------------------------------------------------

test("grant_default, revoke_default and set_owner", function()
  golden("postgresql", {
    [[ALTER DEFAULT PRIVILEGES FOR ROLE "alice", CURRENT_USER IN SCHEMA "a", "b" GRANT SELECT, UPDATE ON TABLES TO "reader", PUBLIC WITH GRANT OPTION]],
    [[ALTER DEFAULT PRIVILEGES REVOKE GRANT OPTION FOR ALL ON FUNCTIONS FROM PUBLIC CASCADE]],
    [[ALTER DEFAULT PRIVILEGES GRANT CREATE ON SCHEMAS TO "bob"]],
    [[ALTER MATERIALIZED VIEW "s"."m" OWNER TO "bob"]],
    [[ALTER FUNCTION "f"(integer) OWNER TO SESSION_USER]],
    [[ALTER SCHEMA "s" OWNER TO "bob"]],
  }, function(db)
    db:grant_default({ "select", "update" }, "tables", { "reader", "public" },
      { schema = { "a", "b" }, for_role = { "alice", "current_user" }, with_grant_option = true })
    db:revoke_default("all", "functions", "public", { grant_option_for = true, cascade = true })
    db:grant_default("create", "schemas", "bob")
    db:set_owner("materialized_view", "m", "bob", { schema = "s" })
    db:set_owner("function", "f", "session_user", { args = "integer" })
    db:set_owner("schema", "s", "bob")
  end)
end)

test("default privileges and owners: bad calls", function()
  refused("postgresql", "grant_default: privilege 'usage' does not apply to 'functions' (allowed: execute, all)",
    function(db) db:grant_default("usage", "functions", "r") end)
  refused("postgresql", "grant_default: on must be one of functions, schemas, sequences, tables, types, got nil",
    function(db) db:grant_default("select", nil, "r") end)
  refused("postgresql", "grant_default: option 'for_role' cannot be public",
    function(db) db:grant_default("select", "tables", "r", { for_role = "public" }) end)
  refused("postgresql", "grant_default: roles must name at least one role",
    function(db) db:grant_default("select", "tables", {}) end)
  refused("postgresql", "revoke_default: unknown option 'with_grant_option'",
    function(db) db:revoke_default("select", "tables", "r", { with_grant_option = true }) end)
  refused("postgresql", "set_owner: option 'schema' does not apply to kind 'schema'",
    function(db) db:set_owner("schema", "s", "r", { schema = "x" }) end)
  refused("postgresql", "set_owner: option 'args' applies to kinds function and procedure only",
    function(db) db:set_owner("table", "t", "r", { args = "integer" }) end)
  refused("postgresql", "set_owner: role must be a non-empty string, got nil",
    function(db) db:set_owner("table", "t") end)
  refused("sqlite", "grant_default is not supported on sqlite",
    function(db) db:grant_default("select", "tables", "r") end)
end)

---------------------------------------------------------------------------------------------
-- Table and column attributes
---------------------------------------------------------------------------------------------

test("create_table: identity, collation, generated columns, UNLOGGED, storage parameters", function()
  golden("postgresql", { [[
CREATE UNLOGGED TABLE "t" (
    "id" bigint GENERATED ALWAYS AS IDENTITY NOT NULL PRIMARY KEY,
    "name" text COLLATE "C",
    "n2" text COLLATE "pg_catalog"."default",
    "up" text GENERATED ALWAYS AS (upper(name)) STORED,
    "k" integer GENERATED BY DEFAULT AS IDENTITY
) WITH (fillfactor=70)]], [[
CREATE TABLE "e" (
    "at" date
) PARTITION BY RANGE (at)]],
    [[CREATE TABLE "s"."e_p0" PARTITION OF "public"."e" DEFAULT]],
    [[CREATE MATERIALIZED VIEW "m" WITH (fillfactor=50) AS
SELECT 1]] }, function(db)
    db:create_table("t", { { "id", "bigint", identity = "always", primary_key = true },
      { "name", "text", collation = "C" }, { "n2", "text", collation = "pg_catalog.default" },
      { "up", "text", generated = "upper(name)" }, { "k", "integer", identity = "by default" } },
      { unlogged = true, options = "fillfactor=70" })
    db:create_table("e", { { "at", "date" } }, { partition_by = "RANGE (at)" })
    db:create_table("e_p0", {}, { partition_of = "public.e", bound = "DEFAULT", schema = "s" })
    db:create_view("m", { as = "SELECT 1", materialized = true, options = "fillfactor=50" })
  end)
  golden("sqlite", { [[
CREATE TABLE "t" (
    "id" INTEGER NOT NULL PRIMARY KEY,
    "name" TEXT COLLATE "NOCASE",
    "up" TEXT GENERATED ALWAYS AS (upper(name)) STORED
)]] }, function(db)
    db:create_table("t", { { "id", "integer", primary_key = true },
      { "name", "text", collation = "NOCASE" }, { "up", "text", generated = "upper(name)" } })
  end)
end)

test("table and column attributes: bad calls", function()
  refused("sqlite", "create_table: column 'id': key 'identity' is not supported on sqlite (use type serial or bigserial)",
    function(db) db:create_table("t", { { "id", "integer", identity = "always" } }) end)
  refused("sqlite", "create_table: column 'c': a schema in collation is not supported on sqlite",
    function(db) db:create_table("t", { { "c", "text", collation = "main.nocase" } }) end)
  refused("sqlite", "create_table: option 'unlogged' is not supported on sqlite",
    function(db) db:create_table("t", { { "id", "integer" } }, { unlogged = true }) end)
  refused("sqlite", "add_column: column 'g': a generated column can only be created with its table on sqlite",
    function(db) db:add_column("t", { "g", "integer", generated = "1" }) end)
  refused("postgresql", "create_table: column 'id': key 'identity' and type serial both make an identity column",
    function(db) db:create_table("t", { { "id", "serial", identity = "always" } }) end)
  refused("postgresql", "create_table: column 'id': key 'identity' must be one of always, by default, got 'sometimes'",
    function(db) db:create_table("t", { { "id", "integer", identity = "sometimes" } }) end)
  refused("postgresql", "create_table: column 'id': a generated column cannot have a default",
    function(db) db:create_table("t", { { "id", "integer", generated = "1", default = 2 } }) end)
  refused("postgresql", "create_table: column 'id': an identity column cannot be nullable",
    function(db) db:create_table("t", { { "id", "integer", identity = "always", nullable = true } }) end)
  refused("postgresql", "create_table: columns must be an empty list {} for a partition",
    function(db) db:create_table("t", { { "id", "integer" } }, { partition_of = "p", bound = "DEFAULT" }) end)
  refused("postgresql", "create_table: option 'partition_of' needs option 'bound'",
    function(db) db:create_table("t", {}, { partition_of = "p" }) end)
  refused("postgresql", "create_table: option 'bound' needs option 'partition_of'",
    function(db) db:create_table("t", { { "id", "integer" } }, { bound = "DEFAULT" }) end)
  refused("postgresql", "create_table: option 'unique' does not apply to a partition",
    function(db) db:create_table("t", {}, { partition_of = "p", bound = "DEFAULT", unique = { { "a" } } }) end)
end)

test("alter_table, enable_trigger and disable_trigger", function()
  golden("postgresql", {
    [[ALTER TABLE "t" SET LOGGED, SET (fillfactor=70), RESET (autovacuum_enabled, toast.autovacuum_enabled)]],
    [[ALTER TABLE "s"."t" SET UNLOGGED]],
    [[ALTER TABLE "t" ENABLE TRIGGER "g"]],
    [[ALTER TABLE "s"."t" ENABLE ALWAYS TRIGGER "g"]],
    [[ALTER TABLE "t" ENABLE REPLICA TRIGGER "g"]],
    [[ALTER TABLE "t" DISABLE TRIGGER "g"]],
  }, function(db)
    db:alter_table("t", { unlogged = false, options = "fillfactor=70",
      reset_options = { "autovacuum_enabled", "toast.autovacuum_enabled" } })
    db:alter_table("t", { unlogged = true, schema = "s" })
    db:enable_trigger("t", "g")
    db:enable_trigger("t", "g", { mode = "always", schema = "s" })
    db:enable_trigger("t", "g", { mode = "replica" })
    db:disable_trigger("t", "g")
  end)
  refused("postgresql", "alter_table: nothing to change", function(db) db:alter_table("t", {}) end)
  refused("postgresql", "alter_table: option 'reset_options'[1] must be a storage parameter name, got 'a b'",
    function(db) db:alter_table("t", { reset_options = "a b" }) end)
  refused("postgresql", "enable_trigger: option 'mode' must be one of always, origin, replica, got 'never'",
    function(db) db:enable_trigger("t", "g", { mode = "never" }) end)
  refused("sqlite", "alter_table is not supported on sqlite",
    function(db) db:alter_table("t", { unlogged = true }) end)
  refused("sqlite", "disable_trigger is not supported on sqlite",
    function(db) db:disable_trigger("t", "g") end)
end)

-- Every statement above also comes out the same under --sql: they all go through db:exec,
-- which the host writes instead of running (checked end to end by test_schema_objects.sh).
test("nothing here reads the database: the same statements offline", function()
  local db = R.new("postgresql", { offline = true })
  db:create_view("v", { as = "SELECT 1" })
  db:create_enum("e", { "a" })
  db:create_sequence("q")
  db:comment_on("table", "t", "x")
  db:alter_function("f", { strict = true })
  db:grant_default("select", "tables", "r")
  db:set_owner("table", "t", "r")
  T.eq(#R.statements(db), 7, "statements written offline")
end)

return T.done()
