-- Prints, as one SQL script, what a migration using every schema operation sends on a dialect,
-- with parameters inlined as in --sql mode, so it can be fed to a real server by hand:
--   lua5.4 tests/lua/schema_scenario.lua postgresql | psql -v ON_ERROR_STOP=1 -1 -d scratch
--   lua5.4 tests/lua/schema_scenario.lua sqlite | sqlite3 -bail :memory:
-- (The SQLite rebuild needs a live database: see schema_live_sqlite.lua.)

package.path = "lua/?.lua;tests/lua/?.lua;" .. package.path
local R = require("schema_recorder")

local dialect = arg and arg[1] or "postgresql"
local db = R.new(dialect, { offline = true })
local pg = dialect == "postgresql"

if pg then
  db:create_extension("pgcrypto", { if_not_exists = true })
  db:create_schema("audit", { if_not_exists = true })
end
db:create_table("authors", {
  { "id", "bigserial", primary_key = true },
  { "name", "text", not_null = true },
  { "email", "varchar(200)", unique = true },
})
db:create_table("books", {
  { "id", "bigserial", primary_key = true },
  { "author_id", "bigint", not_null = true, references = "authors.id", on_delete = "cascade" },
  { "title", "text", not_null = true, default = "untitled" },
  { "price", "numeric(10,2)", check = "price >= 0" },
}, { if_not_exists = true, unique = { { "author_id", "title" } } })
db:create_table("every_type", {
  { "a", "integer" }, { "b", "bigint" }, { "c", "smallint" }, { "d", "boolean", default = true },
  { "e", "text", default = "it's" }, { "f", "varchar(10)" }, { "g", "numeric(12,3)", default = 1.5 },
  { "h", "real" }, { "i", "double", default = -2 }, { "j", "uuid", default = db.fn.uuid() },
  { "k", "date" }, { "l", "timestamp" }, { "m", "timestamptz", default = db.fn.now() },
  { "n", "json" }, { "o", "jsonb" }, { "p", "bytea" }, { "q", "blob" },
  { "r", "integer", default = db.fn.raw("1 + 1") },
}, {
  primary_key = { name = "every_type_pk", columns = { "a", "b" } },
  unique = { { name = "every_type_cd", columns = { "c", "d" } } },
  checks = { { name = "every_type_h", expr = "h > 0" }, "c < 100" },
  check = "a <> b",
  foreign_keys = { { name = "every_type_author", columns = { "b" }, references_table = "authors",
    references_columns = { "id" }, on_delete = "set null", on_update = "cascade" } },
})
if pg then
  db:create_table("log", { { "id", "serial", primary_key = true }, { "tags", "text[]" } },
    { schema = "audit" })
end
db:add_column("books", { "isbn", "varchar(20)" })
db:add_column("books", { "sold", "integer", not_null = true, default = 0 })
db:create_index("books", { "author_id", "title" }, { name = "books_author_title", unique = true })
db:create_index("books", { db.fn.raw("lower(title)"), { expr = "price DESC" } },
  { name = "books_lower_title", where = "price > 0", if_not_exists = true })
db:create_index("books", "isbn")
db:bulk_insert("authors", { { name = "Ann", email = "ann@example.org" }, { name = "O'Brien" } })
db:bulk_insert("books", {
  { author_id = 1, title = "A", price = 1.25 }, { author_id = 2, title = "B" }, { author_id = 2 },
})
if pg then
  db:alter_column("books", "title", { type = "varchar(300)", nullable = false, default = "x" })
  db:alter_column("books", "price", { type = "integer", using = "round(price)::integer", drop_default = true })
  db:alter_column("books", "isbn", { nullable = true })
  db:create_unique_constraint("books", "books_isbn_key", { "isbn" })
  db:create_check_constraint("books", "books_title_nonempty", "length(title) > 0")
  db:create_foreign_key("books", "books_author_fk", { "author_id" }, "authors", { "id" },
    { on_delete = "cascade" })
  db:drop_constraint("books", "books_title_nonempty")
  db:drop_constraint("books", "no_such_constraint", { if_exists = true })
  db:enable_rls("books", { force = true })
  db:execute("CREATE ROLE rbacmig_reader")
  db:execute("CREATE ROLE rbacmig_writer")
  db:create_policy("books", "books_read", { command = "select", to = { "rbacmig_reader", "public" },
    using = "price IS NOT NULL" })
  db:create_policy("books", "books_write", { command = "insert", restrictive = true,
    to = "current_user", with_check = "author_id > 0" })
  db:drop_policy("books", "books_write", { if_exists = true })
  db:create_function("touch", {
    returns = "trigger", language = "plpgsql", replace = true,
    body = "BEGIN\n  NEW.title := coalesce(NEW.title, '$rbacmig$');\n  RETURN NEW;\nEND",
  })
  db:create_function("add", { args = { "a integer", "b integer" }, returns = "integer",
    language = "sql", volatility = "immutable", strict = true, security = "definer",
    search_path = { "pg_catalog", "public" }, body = "SELECT a + b" })
  db:create_trigger("books", "books_touch", { timing = "before", events = { "insert", "update" },
    columns = { "title" }, for_each = "row", when = "NEW.title IS NULL", execute = "touch",
    arguments = { "x", 1 } })
  db:drop_trigger("books", "books_touch", { if_exists = true })
  db:grant({ "select", "insert" }, { "books", "authors" }, { "rbacmig_reader", "rbacmig_writer" },
    { with_grant_option = true })
  db:grant("update", "books", "rbacmig_writer", { columns = { "title", "price" } })
  db:grant("usage", "audit", "rbacmig_reader", { type = "schema" })
  db:grant("select", "audit", "rbacmig_reader", { type = "all_tables_in_schema" })
  db:grant("execute", "add", "public", { type = "function", args = "integer, integer" })
  db:grant("usage", "log_id_seq", "rbacmig_writer", { type = "sequence", schema = "audit" })
  db:revoke("insert", "books", "rbacmig_reader", { grant_option_for = true, cascade = true })
  db:revoke("all", "books", "public")
  db:drop_function("add", { args = "integer, integer", if_exists = true })
  db:disable_rls("books")
  db:create_index("authors", "name", { concurrently = false, method = "btree" })
  db:drop_index("authors_name_idx", { if_exists = true, cascade = true })
  db:drop_table("log", { schema = "audit" })
  db:drop_schema("audit", { cascade = true })
end
db:rename_column("books", "title", "name")
db:drop_index("books_isbn_idx") -- SQLite refuses to drop an indexed column
db:drop_column("books", "isbn", { if_exists = pg })
db:drop_index("books_author_title", { table = "books" })
db:rename_table("books", "volumes")
db:drop_table("volumes", { if_exists = true, cascade = pg })
db:execute("SELECT $1 = $2", "a", "b")

io.write(R.script(db))
