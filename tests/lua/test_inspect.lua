-- Tests for the schema reader's pure parts (lua/rbacmig/inspect/): the model and its text,
-- the diff and its classification, the scope, and the PostgreSQL and SQLite readers on a
-- fake `db` that answers each catalog query with canned rows. Needs no database: the
-- readers against real servers are tested end to end (tests/e2e/test_schema_dump.sh).
--
-- ctest runs it in rbacmig's sandbox (tests/lua_runner.c) from the repository root.

local T = require("harness")
local test, eq, check, same = T.test, T.eq, T.check, T.same

local model = require("rbacmig.inspect.model")
local diff = require("rbacmig.inspect.diff")
local scope = require("rbacmig.inspect.scope")
local pg = require("rbacmig.inspect.postgresql")
local sqlite = require("rbacmig.inspect.sqlite")
local commands = require("rbacmig.inspect.commands")

local function copy(t)
  if type(t) ~= "table" then return t end
  local out = {}
  for k, v in pairs(t) do out[k] = copy(v) end
  return out
end

-- A small PostgreSQL model, as the reader would make it.
local function base_model()
  local m = model.new("postgresql")
  m.schemas = { "public" }
  model.add(m, "table", "public.notes", { owner = "postgres", rls = true, rls_forced = true })
  model.add(m, "column", "public.notes.id", { type = "uuid", not_null = true,
    default = "gen_random_uuid()" })
  model.add(m, "column", "public.notes.body", { type = "text", not_null = false })
  model.add(m, "policy", "public.notes.notes_select", { command = "select", permissive = true,
    roles = { "authenticated" }, using = "(owner_id = auth.uid())" })
  model.add(m, "policy", "public.notes.notes_deny", { command = "all", permissive = false,
    roles = { "public" }, using = "(NOT archived)" })
  model.add(m, "grant", "table public.notes TO authenticated", { on = "table",
    object = "public.notes", grantee = "authenticated", privileges = { "SELECT" } })
  model.add(m, "function", "public.touch()", { kind = "function", language = "plpgsql",
    security_definer = true, config = { "search_path=\"\"" }, body = "\nBEGIN\n  RETURN NEW;\nEND\n",
    owner = "postgres" })
  model.add(m, "view", "public.notes_v", { kind = "view", definition = " SELECT notes.id\n   FROM notes;",
    security_invoker = true, owner = "postgres" })
  return m
end

-- The differences from base_model() to the model edit(m) leaves.
local function changes(edit)
  local from = base_model()
  local to = base_model()
  edit(to)
  return diff.compare(from, to)
end

local function only(diffs)
  eq(#diffs, 1, "number of differences")
  return diffs[1]
end

---------------------------------------------------------------------------------------------
-- The model and its text
---------------------------------------------------------------------------------------------

test("a model renders the same text whatever order it was filled in", function()
  local a = model.new("postgresql")
  local b = model.new("postgresql")
  local items = {
    { "table", "public.b", { owner = "x", rls = false } },
    { "table", "public.a", { owner = "y", rls = true, comment = "two\nlines" } },
    { "column", "public.a.c", { type = "text" } },
    { "schema", "public", { owner = "postgres" } },
  }
  for i = 1, #items do model.add(a, table.unpack(items[i])) end
  for i = #items, 1, -1 do model.add(b, table.unpack(items[i])) end
  eq(model.render_text(a), model.render_text(b), "text")
end)

test("the text puts kinds in order, attributes sorted, several lines as '|' lines", function()
  local m = model.new("postgresql")
  m.schemas = { "public" }
  model.add(m, "column", "public.a.c", { type = "text", not_null = true })
  model.add(m, "table", "public.a", { rls = true, comment = "one\ntwo" })
  model.add(m, "policy", "public.a.p", { roles = { "anon", "authenticated" } })
  model.count(m, "cast", 2)
  local lines = {}
  for line in model.render_text(m):gmatch("(.-)\n") do lines[#lines + 1] = line end
  same(lines, {
    "-- rbacmig schema dump (postgresql)",
    "-- managed schemas: public",
    "-- not compared: 2 cast",
    "table public.a",
    "  comment:",
    "    | one",
    "    | two",
    "  rls: true",
    "column public.a.c",
    "  not_null: true",
    "  type: text",
    "policy public.a.p",
    "  roles: [anon, authenticated]",
  }, "line")
end)

test("control characters from the database are shown escaped, never sent raw", function()
  local m = model.new("sqlite")
  model.add(m, "table", "t\27[2J", { comment = "bell\7" })
  local text = model.render_text(m)
  check(not text:find("\27", 1, true) and not text:find("\7", 1, true), "no raw escapes")
  check(text:find("table t\\x1b[2J", 1, true), "escape shown as \\x1b")
end)

test("two objects with one identity are a reader bug", function()
  local m = model.new("postgresql")
  model.add(m, "table", "public.a", {})
  T.raises("two tables named 'public.a'", model.add, m, "table", "public.a", {})
end)

---------------------------------------------------------------------------------------------
-- diff and its classes
---------------------------------------------------------------------------------------------

test("equal models have no differences, and the status says so", function()
  eq(#diff.compare(base_model(), base_model()), 0, "differences")
  local r = commands.diff(base_model(), base_model())
  eq(r.status, 0, "status")
  eq(r.text, "no differences\n", "text")
end)

test("RLS no longer forced is security-weakening", function()
  local d = only(changes(function(m) m.objects.table["public.notes"].rls_forced = false end))
  eq(d.kind, "table", "kind")
  eq(d.identity, "public.notes", "identity")
  eq(d.change, "changed", "change")
  eq(d.class, "security-weakening", "class")
  eq(d.reasons[1], "row-level security no longer forced", "reason")
  eq(d.changes[1].attribute, "rls_forced", "attribute")
  eq(d.changes[1].from, true, "from")
  eq(d.changes[1].to, false, "to")
end)

test("RLS disabled is security-weakening", function()
  local d = only(changes(function(m) m.objects.table["public.notes"].rls = false end))
  eq(d.class, "security-weakening", "class")
  eq(d.reasons[1], "row-level security disabled", "reason")
end)

test("RLS enabled is neutral", function()
  local from = base_model()
  from.objects.table["public.notes"].rls = false
  local d = only(diff.compare(from, base_model()))
  eq(d.class, "neutral", "class")
end)

test("a dropped policy is security-weakening", function()
  local d = only(changes(function(m) m.objects.policy["public.notes.notes_select"] = nil end))
  eq(d.change, "dropped", "change")
  eq(d.class, "security-weakening", "class")
  eq(d.reasons[1], "policy dropped", "reason")
end)

test("a policy dropped with its table is destructive, like the table", function()
  local diffs = changes(function(m)
    m.objects.table["public.notes"] = nil
    m.objects.policy["public.notes.notes_select"] = nil
  end)
  eq(#diffs, 2, "differences")
  for _, d in ipairs(diffs) do
    eq(d.class, "destructive", "class of " .. d.kind)
    eq(d.reasons, nil, "reasons of " .. d.kind)
  end
end)

test("a restrictive policy made permissive is security-weakening", function()
  local d = only(changes(function(m) m.objects.policy["public.notes.notes_deny"].permissive = true end))
  eq(d.class, "security-weakening", "class")
  eq(d.reasons[1], "policy made permissive", "reason")
end)

test("a policy USING (true) is security-weakening, added or changed", function()
  local d = only(changes(function(m) m.objects.policy["public.notes.notes_select"].using = "true" end))
  eq(d.class, "security-weakening", "class")
  eq(d.reasons[1], "USING (true)", "reason")
  d = only(changes(function(m)
    model.add(m, "policy", "public.notes.open", { command = "select", permissive = true,
      roles = { "anon" }, using = "true" })
  end))
  eq(d.change, "added", "change")
  eq(d.class, "security-weakening", "class")
end)

test("a grant to anon, PUBLIC or authenticated is security-weakening; to others neutral", function()
  for _, role in ipairs({ "anon", "PUBLIC" }) do
    local d = only(changes(function(m)
      model.add(m, "grant", "table public.notes TO " .. role, { on = "table",
        object = "public.notes", grantee = role, privileges = { "SELECT" } })
    end))
    eq(d.class, "security-weakening", "class of a grant to " .. role)
    eq(d.reasons[1], "SELECT granted to " .. role, "reason")
  end
  local d = only(changes(function(m)
    table.insert(m.objects.grant["table public.notes TO authenticated"].privileges, "DELETE")
  end))
  eq(d.class, "security-weakening", "more privileges for authenticated")
  eq(d.reasons[1], "DELETE granted to authenticated", "reason names the new privilege")
  d = only(changes(function(m)
    model.add(m, "grant", "table public.notes TO service_role", { on = "table",
      object = "public.notes", grantee = "service_role", privileges = { "SELECT" } })
  end))
  eq(d.class, "neutral", "a grant to service_role")
end)

test("a function newly executable by an API role is security-weakening", function()
  local d = only(changes(function(m)
    model.add(m, "grant", "function public.touch() TO anon", { on = "function",
      object = "public.touch()", grantee = "anon", privileges = { "EXECUTE" } })
  end))
  eq(d.class, "security-weakening", "class")
  eq(d.reasons[1], "function newly executable by anon", "reason")
end)

test("a revoked grant is destructive, not weakening", function()
  local d = only(changes(function(m) m.objects.grant["table public.notes TO authenticated"] = nil end))
  eq(d.class, "destructive", "class")
end)

test("security_invoker removed from a view is security-weakening", function()
  local d = only(changes(function(m) m.objects.view["public.notes_v"].security_invoker = nil end))
  eq(d.class, "security-weakening", "class")
  eq(d.reasons[1], "security_invoker removed", "reason")
end)

test("a SECURITY DEFINER function without a fixed search_path is security-weakening", function()
  local d = only(changes(function(m) m.objects["function"]["public.touch()"].config = nil end))
  eq(d.class, "security-weakening", "class")
  eq(d.reasons[1], "SECURITY DEFINER function without a fixed search_path", "reason")
  d = only(changes(function(m)
    m.objects["function"]["public.touch()"].config = { "search_path=public" }
  end))
  eq(d.class, "neutral", "another fixed search_path")
  eq(d.changes[1].attribute, "config", "attribute")
end)

test("anything dropped is destructive; added and changed are neutral", function()
  local d = only(changes(function(m) m.objects.column["public.notes.body"] = nil end))
  eq(d.class, "destructive", "dropped column")
  d = only(changes(function(m)
    model.add(m, "column", "public.notes.title", { type = "text", not_null = false })
  end))
  eq(d.class, "neutral", "added column")
  d = only(changes(function(m) m.objects.table["public.notes"].comment = "notes" end))
  eq(d.class, "neutral", "a comment")
  eq(d.changes[1].attribute, "comment", "attribute")
  eq(d.changes[1].from, nil, "from")
end)

test("diff lists differences sorted by kind then identity, and counts them", function()
  local diffs = changes(function(m)
    model.add(m, "column", "public.notes.z", { type = "text" })
    model.add(m, "column", "public.notes.a", { type = "text" })
    m.objects.table["public.notes"].rls_forced = false
  end)
  eq(#diffs, 3, "differences")
  eq(diffs[1].kind .. " " .. diffs[1].identity, "table public.notes", "first")
  eq(diffs[2].identity, "public.notes.a", "second")
  eq(diffs[3].identity, "public.notes.z", "third")
  local r = commands.diff(base_model(), (function()
    local m = base_model()
    m.objects.table["public.notes"].rls_forced = false
    model.add(m, "column", "public.notes.a", { type = "text" })
    return m
  end)())
  eq(r.status, 2, "security-weakening status")
  eq(r.data.summary.total, 2, "total")
  check(r.text:find("2 differences: 1 security-weakening, 0 destructive, 1 neutral", 1, true),
    "summary line")
  check(r.text:find("security-weakening table public.notes: changed (rls_forced true -> false) "
    .. "-- row-level security no longer forced", 1, true), "the weakening line: " .. r.text)
  local only_neutral = base_model()
  model.add(only_neutral, "column", "public.notes.a", { type = "text" })
  eq(commands.diff(base_model(), only_neutral).status, 1, "differences status")
end)

test("models of two dialects are not compared", function()
  T.raises("cannot compare a postgresql database with a sqlite one", commands.diff,
    base_model(), model.new("sqlite"))
end)

---------------------------------------------------------------------------------------------
-- scope
---------------------------------------------------------------------------------------------

test("by default every schema but PostgreSQL's own is managed", function()
  local s = scope.new("postgresql", { "public", "app", "pg_catalog", "information_schema",
    "pg_toast", "pg_temp_3" })
  same(s:schemas(), { "app", "public" }, "schema")
  eq(s.profile, nil, "profile")
end)

test("the auth schema makes it Supabase: its schemas and roles are left alone", function()
  local s = scope.new("postgresql", { "public", "auth", "storage", "extensions", "rbac_private" })
  eq(s.profile, "supabase", "profile")
  same(s:schemas(), { "public", "rbac_private" }, "schema")
  eq(s:role("supabase_admin"), false, "supabase_admin")
  eq(s:role("anon"), true, "anon is the project's concern")
end)

test("named schemas replace the default; bookkeeping tables are never in scope", function()
  local s = scope.new("postgresql", { "public", "app" }, { schemas = { "app" },
    bookkeeping = { "app.rbacmig_version" } })
  same(s:schemas(), { "app" }, "schema")
  eq(s:table("app", "rbacmig_version"), false, "version table")
  eq(s:table("app", "notes"), true, "a table")
  eq(s:table("public", "notes"), false, "an unmanaged schema")
end)

---------------------------------------------------------------------------------------------
-- The PostgreSQL reader on canned catalog rows
---------------------------------------------------------------------------------------------

-- A fake db answering each of the reader's queries (pg.queries) with rows[name].
local function fake_pg(rows)
  local by_sql = {}
  for name, sql in pairs(pg.queries) do by_sql[sql] = name end
  return {
    dialect = "postgresql",
    query = function(_, sql)
      local name = by_sql[sql]
      check(name, "the reader sent a query it does not declare")
      return rows[name] or {}
    end,
  }
end

local function catalog(owner)
  return {
    schemas = { { name = "public", owner = owner }, { name = "auth", owner = "supabase_admin" } },
    relations = {
      { schema = "public", name = "notes", relkind = "r", owner = owner, rls = true,
        rls_forced = false, persistence = "p" },
      { schema = "public", name = "rbacmig_version", relkind = "r", owner = owner, rls = false,
        rls_forced = false, persistence = "p" },
      { schema = "auth", name = "users", relkind = "r", owner = "supabase_auth_admin",
        rls = false, rls_forced = false, persistence = "p" },
    },
    relation_grants = {
      { schema = "public", name = "notes", kind = "table", grantee = "authenticated",
        privilege = "UPDATE", grantable = false },
      { schema = "public", name = "notes", kind = "table", grantee = "authenticated",
        privilege = "SELECT", grantable = true },
      { schema = "public", name = "notes", kind = "column", colname = "body",
        grantee = "anon", privilege = "SELECT", grantable = false },
      { schema = "public", name = "notes", kind = "table", grantee = "supabase_admin",
        privilege = "SELECT", grantable = false },
      { schema = "public", name = "rbacmig_version", kind = "table", grantee = "anon",
        privilege = "SELECT", grantable = false },
      { schema = "auth", name = "users", kind = "table", grantee = "anon",
        privilege = "SELECT", grantable = false },
    },
    policies = {
      { schema = "public", tbl = "notes", name = "p", command = "select", permissive = true,
        using = "true", role = "authenticated" },
      { schema = "public", tbl = "notes", name = "p", command = "select", permissive = true,
        using = "true", role = "anon" },
    },
    functions = {
      { schema = "public", name = "f", identity_args = "uuid, text", kind = "function",
        arguments = "a uuid, b text DEFAULT ''::text", result = "boolean", language = "sql",
        volatility = "stable", strict = false, security_definer = true, leakproof = false,
        parallel = "unsafe", config = "search_path=\"\"\nstatement_timeout=5s", body = "SELECT true",
        owner = owner },
    },
    not_compared = { { what = "cast", n = 2 }, { what = "operator", schema = "auth", n = 5 } },
  }
end

local BOOKKEEPING = { bookkeeping = { "public.rbacmig_version", "public.rbacmig_history" } }

test("the PostgreSQL reader keys grants by object and grantee, privileges sorted", function()
  local m = pg.read(fake_pg(catalog("postgres")), BOOKKEEPING)
  local g = m.objects.grant["table public.notes TO authenticated"]
  check(g, "the table grant")
  same(g.privileges, { "SELECT", "UPDATE" }, "privilege")
  same(g.grant_option, { "SELECT" }, "grant option")
  local c = m.objects.grant["column public.notes.body TO anon"]
  check(c, "the column grant")
  same(c.privileges, { "SELECT" }, "column privilege")
end)

test("the PostgreSQL reader scopes a Supabase database", function()
  local m = pg.read(fake_pg(catalog("postgres")), BOOKKEEPING)
  eq(m.profile, "supabase", "profile")
  same(m.schemas, { "public" }, "managed schema")
  check(m.objects.table["public.notes"], "public.notes")
  eq(m.objects.table["auth.users"], nil, "auth.users (Supabase's)")
  eq(m.objects.table["public.rbacmig_version"], nil, "the version table (rbacmig's)")
  eq(m.objects.grant["table public.rbacmig_version TO anon"], nil, "a grant on the version table")
  eq(m.objects.grant["table public.notes TO supabase_admin"], nil, "a grant to supabase_admin")
  eq(m.not_compared.cast, 2, "casts not compared")
  eq(m.not_compared.operator, nil, "operators of auth are out of scope")
end)

test("the PostgreSQL reader: functions by name and argument types, policies' roles sorted", function()
  local m = pg.read(fake_pg(catalog("postgres")), BOOKKEEPING)
  local f = m.objects["function"]["public.f(uuid, text)"]
  check(f, "public.f(uuid, text)")
  same(f.config, { "search_path=\"\"", "statement_timeout=5s" }, "setting")
  eq(pg.search_path(f.config), "\"\"", "search_path")
  same(m.objects.policy["public.notes.p"].roles, { "anon", "authenticated" }, "role")
end)

test("different owners make owner differences only, never grant differences", function()
  local a = pg.read(fake_pg(catalog("postgres")), BOOKKEEPING)
  local b = pg.read(fake_pg(catalog("someone_else")), BOOKKEEPING)
  local diffs = diff.compare(a, b)
  check(#diffs > 0, "owners differ")
  for _, d in ipairs(diffs) do
    check(d.kind ~= "grant", "a grant difference: " .. d.identity)
    eq(d.changes and #d.changes, 1, "changes of " .. d.identity)
    eq(d.changes[1].attribute, "owner", "attribute of " .. d.identity)
    eq(d.class, "neutral", "class of " .. d.identity)
  end
end)

test("a grant the new owner held before is the owner difference, not a grant difference", function()
  local from = base_model()
  model.add(from, "grant", "table public.notes TO service_role", { on = "table",
    object = "public.notes", grantee = "service_role", privileges = { "SELECT" } })
  local to = base_model()
  to.objects.table["public.notes"].owner = "service_role"
  local d = only(diff.compare(from, to))
  eq(d.kind, "table", "kind")
  eq(d.changes[1].attribute, "owner", "attribute")
  -- The other way round: the old owner now holds a grant.
  local back = only(diff.compare(to, from))
  eq(back.kind, "table", "kind the other way")
end)

test("the JSON data of a dump is the model itself", function()
  local m = pg.read(fake_pg(catalog("postgres")), BOOKKEEPING)
  local r = commands.dump(m)
  eq(r.data, m, "data")
  eq(r.status, 0, "status")
  eq(r.text, model.render_text(m), "text")
end)

---------------------------------------------------------------------------------------------
-- The SQLite reader on canned rows
---------------------------------------------------------------------------------------------

test("SQLite text is compared with white space outside quotes made one", function()
  eq(sqlite.squash("CREATE  INDEX i\n  ON t (a)\tWHERE b = 'x  y';"),
    "CREATE INDEX i ON t (a) WHERE b = 'x  y'", "squashed")
  eq(sqlite.squash("CHECK ( \"a  b\" > 0 )"), "CHECK ( \"a  b\" > 0 )", "quoted identifier kept")
end)

local function fake_sqlite(tables)
  return {
    dialect = "sqlite",
    query = function(_, sql, arg)
      if sql:find("FROM sqlite_master", 1, true) then return tables.master end
      if sql:find("pragma_table_xinfo", 1, true) then return tables.columns[arg] or {} end
      if sql:find("pragma_index_list", 1, true) then return tables.indexes[arg] or {} end
      if sql:find("pragma_index_info", 1, true) then return tables.index_info[arg] or {} end
      if sql:find("pragma_foreign_key_list", 1, true) then return tables.fks[arg] or {} end
      error("unexpected query " .. sql)
    end,
  }
end

test("the SQLite reader: keys, checks, foreign keys, WITHOUT ROWID, STRICT", function()
  local db = fake_sqlite({
    master = {
      { type = "table", name = "p", tbl_name = "p", sql = "CREATE TABLE p (id INTEGER PRIMARY KEY)" },
      { type = "table", name = "t", tbl_name = "t", sql = "CREATE TABLE t (a INTEGER NOT NULL "
        .. "CHECK (a > 0), b TEXT UNIQUE, p_id INTEGER REFERENCES p(id) ON DELETE CASCADE, "
        .. "PRIMARY KEY (a), CONSTRAINT t_b_check CHECK (length(b)  < 10)) WITHOUT ROWID, STRICT" },
      { type = "table", name = "rbacmig_version", tbl_name = "rbacmig_version",
        sql = "CREATE TABLE rbacmig_version (version_num TEXT)" },
      { type = "index", name = "t_b_idx", tbl_name = "t", sql = "CREATE INDEX t_b_idx ON t (b)  WHERE b IS NOT NULL" },
      { type = "index", name = "rv_idx", tbl_name = "rbacmig_version", sql = "CREATE INDEX rv_idx ON rbacmig_version (version_num)" },
      { type = "view", name = "v", tbl_name = "v", sql = "CREATE VIEW v AS SELECT a FROM t" },
    },
    columns = {
      p = { { name = "id", type = "INTEGER", not_null = 0, pk = 1, hidden = 0 } },
      t = {
        { name = "a", type = "INTEGER", not_null = 1, pk = 1, hidden = 0 },
        { name = "b", type = "TEXT", not_null = 0, pk = 0, hidden = 0 },
        { name = "p_id", type = "INTEGER", not_null = 0, pk = 0, hidden = 0 },
      },
    },
    indexes = { t = { { name = "sqlite_autoindex_t_1", is_unique = 1, origin = "u", partial = 0 } } },
    index_info = { sqlite_autoindex_t_1 = { { name = "b" } } },
    fks = { t = { { id = 0, seq = 0, ref = "p", col = "p_id", ref_col = "id", on_update = "NO ACTION",
      on_delete = "CASCADE", match_type = "NONE" } } },
  })
  local m = sqlite.read(db, { bookkeeping = { "rbacmig_version" } })
  local t = m.objects.table.t
  eq(t.without_rowid, true, "WITHOUT ROWID")
  eq(t.strict, true, "STRICT")
  eq(m.objects.table.rbacmig_version, nil, "the version table")
  eq(m.objects.index["rbacmig_version.rv_idx"], nil, "an index on the version table")
  same(m.objects.constraint["t.primary key"].columns, { "a" }, "primary key column")
  check(m.objects.constraint["t.unique(b)"], "unique(b)")
  local fk = m.objects.constraint["t.foreign key(p_id) -> p(id)"]
  check(fk, "the foreign key")
  eq(fk.on_delete, "CASCADE", "ON DELETE")
  eq(m.objects.constraint["t.t_b_check"].definition, "(length(b) < 10)", "a named CHECK")
  eq(m.objects.constraint["t.check(a > 0)"].column, "a", "a column CHECK")
  eq(m.objects.index["t.t_b_idx"].definition, "CREATE INDEX t_b_idx ON t (b) WHERE b IS NOT NULL",
    "partial index")
  check(m.objects.view.v, "the view")
  eq(m.objects.column["t.a"].not_null, true, "NOT NULL")
end)

---------------------------------------------------------------------------------------------
-- rbacmig test: what a downgrade left behind, took away or changed
---------------------------------------------------------------------------------------------

test("since_remembered words a downgrade's traces as leftover, missing and changed", function()
  commands.remember(base_model())
  local after = base_model()
  model.add(after, "index", "public.notes.notes_body_idx", { definition = "btree (body)" })
  after.objects.policy["public.notes.notes_deny"] = nil
  after.objects.table["public.notes"].rls_forced = false
  local r = commands.since_remembered(after)
  eq(r.status, 1, "a trace is a failure")
  eq(r.text, "changed table public.notes (rls_forced)\n"
    .. "leftover index public.notes.notes_body_idx\n"
    .. "missing policy public.notes.notes_deny", "each trace named, by kind")
  local same_again = commands.since_remembered(base_model())
  eq(same_again.status, 0, "no trace")
  eq(same_again.text, "", "nothing to name")
end)

return T.done()
