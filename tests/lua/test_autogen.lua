-- Tests of the migration generator's pure parts (lua/rbacmig/autogen*.lua) on models built
-- here: the refusals (drops without allow_drop, a drop and an add that look like a rename,
-- a rename that does not match), renames honoured both ways, Lua literals, and the order of
-- steps from the dependency graph. The generated code against real databases, proved up and
-- down, is tests/lua/autogen_live.lua (run by tests/e2e/test_autogen_golden.sh).

local T = require("harness")
local test, eq, check = T.test, T.eq, T.check

local model = require("rbacmig.inspect.model")
local autogen = require("rbacmig.autogen")
local emit = require("rbacmig.autogen.emit")
local order = require("rbacmig.autogen.order")

local function pg(build)
  local m = model.new("postgresql")
  m.schemas = { "public" }
  build(m)
  return m
end

local function tenants(m, cols)
  model.add(m, "table", "public.tenants", { owner = "app", rls = false, rls_forced = false })
  for name, a in pairs(cols) do model.add(m, "column", "public.tenants." .. name, a) end
end

local ID = { type = "uuid", not_null = true }

-- The lines of the refusal generate(from, to, opts) raises.
local function refusal(from, to, opts)
  local ok, e = pcall(autogen.generate, from, to, opts)
  check(not ok, "generate refused")
  check(type(e) == "table" and e.kind == "refused", "a refusal value, got " .. tostring(e))
  return e.lines
end

test("no difference gives empty upgrade and downgrade", function()
  local a = pg(function(m) tenants(m, { id = ID }) end)
  local r = autogen.generate(a, pg(function(m) tenants(m, { id = ID }) end), {})
  eq(r.upgrade, "", "upgrade")
  eq(r.downgrade, "", "downgrade")
  eq(#r.changes, 0, "changes")
end)

test("a drop without allow_drop is refused, each drop listed", function()
  local a = pg(function(m)
    tenants(m, { id = ID, legacy = { type = "integer", not_null = false } })
    model.add(m, "table", "public.old", { owner = "app", rls = false, rls_forced = false })
    model.add(m, "column", "public.old.x", { type = "text", not_null = false })
  end)
  local b = pg(function(m) tenants(m, { id = ID }) end)
  local lines = refusal(a, b, {})
  eq(#lines, 2, "one line per drop (the table's column goes with it)")
  eq(lines[1], "table public.old would be dropped (say --allow-drop)", "line 1")
  eq(lines[2], "column public.tenants.legacy would be dropped (say --allow-drop)", "line 2")
  local r = autogen.generate(a, b, { allow_drop = true })
  eq(r.upgrade, '    db:drop_column("tenants", "legacy")\n    db:drop_table("old")\n', "upgrade")
end)

test("a drop and an add that look like a rename are refused with a hint", function()
  local a = pg(function(m) tenants(m, { id = ID, nme = { type = "text", not_null = false } }) end)
  local b = pg(function(m) tenants(m, { id = ID, name = { type = "text", not_null = false } }) end)
  local lines = refusal(a, b, {})
  eq(#lines, 1, "one line")
  eq(lines[1], "column tenants.nme dropped and tenants.name added: a rename? say --rename "
    .. "tenants.nme:name or renamed_from", "the hint")
  lines = refusal(a, b, { allow_drop = true })
  eq(#lines, 1, "allow_drop does not take a rename for a drop")
end)

test("a rename given is honoured both ways", function()
  local a = pg(function(m) tenants(m, { id = ID, nme = { type = "text", not_null = false } }) end)
  local b = pg(function(m) tenants(m, { id = ID, name = { type = "text", not_null = false } }) end)
  local r = autogen.generate(a, b, { renames = { { kind = "column", table = "tenants",
    from = "nme", to = "name" } } })
  eq(r.upgrade, '    db:rename_column("tenants", "nme", "name")\n', "upgrade")
  eq(r.downgrade, '    db:rename_column("tenants", "name", "nme")\n', "downgrade")
  eq(r.changes[1].summary, "column public.tenants.nme renamed to name", "change")
end)

test("a rename that does not match is refused", function()
  local a = pg(function(m) tenants(m, { id = ID, nme = { type = "text", not_null = false } }) end)
  local b = pg(function(m) tenants(m, { id = ID, name = { type = "text", not_null = false } }) end)
  local lines = refusal(a, b, { renames = { { kind = "column", table = "tenants",
    from = "nmx", to = "name" } } })
  eq(lines[1], "rename of column tenants.nmx to name: there is no column tenants.nmx to rename",
    "unknown column")
  lines = refusal(a, b, { renames = { { kind = "table", from = "nope", to = "tenants" } } })
  eq(lines[1], "rename of table nope to tenants: there is no table nope to rename", "unknown table")
end)

test("Lua literals: quotes, long strings, code", function()
  eq(emit.value("it's \"x\""), '"it\'s \\"x\\""', "quoted")
  eq(emit.value("a\nb"), "[[a\nb]]", "long string")
  eq(emit.value("\nBEGIN ]] END\n"), "[=[\n\nBEGIN ]] END\n]=]", "level and leading newline")
  local chunk = load("return " .. emit.value("\nBEGIN ]] END\n"))
  eq(chunk(), "\nBEGIN ]] END\n", "reads back the same")
  eq(emit.value(emit.code("db.fn.now()")), "db.fn.now()", "code")
  eq(emit.value({ "a", "b" }), '{ "a", "b" }', "list")
end)

test("the dependency graph orders creates and drops", function()
  local steps = {
    { phase = "create", kind = "policy", identity = "public.t.p", code = "p" },
    { phase = "create", kind = "function", identity = "public.f(uuid)", code = "f" },
    { phase = "create", kind = "view", identity = "public.v", code = "v" },
    { phase = "drop", kind = "view", identity = "public.w", code = "dw" },
    { phase = "drop", kind = "function", identity = "public.g()", code = "dg" },
  }
  local to = order.attach(model.new("postgresql"), { depends = {
    ["view public.v"] = { "function public.f(uuid)" },
    ["policy public.t.p"] = { "function public.f(uuid)" } } })
  local from = order.attach(model.new("postgresql"), { depends = {
    ["function public.g()"] = { "view public.w" } } })
  local out = {}
  for i, s in ipairs(order.sort(steps, from, to)) do out[i] = s.code end
  eq(table.concat(out, " "), "dg dw f v p", "order")
end)

test("a column grant after what changes its grantee's grant on the table", function()
  -- REVOKE on a table takes the same privileges off its columns: revoking anon's ALL after
  -- granting UPDATE (body) would leave anon nothing.
  local to = pg(function(m)
    model.add(m, "grant", "column public.notes.body TO anon", { on = "column",
      object = "public.notes.body", grantee = "anon", privileges = { "UPDATE" } })
    model.add(m, "grant", "table public.notes TO anon", { on = "table", object = "public.notes",
      grantee = "anon", privileges = { "SELECT" } })
  end)
  local steps = {
    { phase = "create", kind = "grant", identity = "column public.notes.body TO anon", code = "c" },
    { phase = "create", kind = "grant", identity = "table public.notes TO anon", code = "t" },
  }
  local out = {}
  for i, s in ipairs(order.sort(steps, model.new("postgresql"), to)) do out[i] = s.code end
  eq(table.concat(out, " "), "t c", "order")
end)

test("default privileges change before the objects that get them are created", function()
  local steps = {
    { phase = "create", kind = "table", identity = "public.notes", code = "t", creates = true },
    { phase = "create", kind = "function", identity = "public.f()", code = "f", creates = true },
    { phase = "create", kind = "default_privilege", identity = "d", code = "d" },
  }
  local out = {}
  for i, s in ipairs(order.sort(steps, model.new("postgresql"), model.new("postgresql"))) do
    out[i] = s.code
  end
  eq(table.concat(out, " "), "d t f", "order")
end)

test("a SQL function after the functions its body calls", function()
  local to = pg(function(m)
    model.add(m, "function", "public.has(uuid)", { language = "sql",
      body = " SELECT private.has(has.id) " })
    model.add(m, "function", "private.has(uuid)", { language = "sql", body = " SELECT true " })
    model.add(m, "function", "public.a()", { language = "sql", body = " SELECT zz() " })
    model.add(m, "function", "public.zz()", { language = "sql", body = " SELECT 1 " })
  end)
  local steps = {}
  for _, id in ipairs({ "public.has(uuid)", "private.has(uuid)", "public.a()", "public.zz()" }) do
    steps[#steps + 1] = { phase = "create", kind = "function", identity = id, code = id }
  end
  local out = {}
  for i, s in ipairs(order.sort(steps, model.new("postgresql"), to)) do out[i] = s.code end
  eq(table.concat(out, " "), "private.has(uuid) public.has(uuid) public.zz() public.a()", "order")
end)

test("SQLite: a default expression is declared as SQL, the uuid one as db.fn.uuid()", function()
  local uuid = require("rbacmig.schema.ddl").default_sql("sqlite",
    require("rbacmig.schema.ddl").fn.uuid())
  local m = model.new("sqlite")
  model.add(m, "table", "t", {})
  -- table_info gives a parenthesised default without its parentheses.
  model.add(m, "column", "t.id", { type = "TEXT", not_null = true, default = uuid:sub(2, -2) })
  model.add(m, "column", "t.n", { type = "INTEGER", not_null = false,
    default = "abs(random()) % 10" })
  model.add(m, "constraint", "t.primary key", { type = "primary key", columns = { "id" } })
  local text = autogen.declare(m)
  check(text:find('{ "id", "text", primary_key = true, default = db.fn.uuid() }', 1, true),
    "uuid: " .. text)
  check(text:find('default = db.fn.raw("abs(random()) % 10")', 1, true), "raw: " .. text)
end)

test("declare: against public's default privileges, what a new table lacks is revoked", function()
  local m = pg(function(m)
    model.add(m, "schema", "public", { owner = "postgres" })
    model.add(m, "default_privilege", "FOR ROLE postgres IN SCHEMA public ON tables TO anon",
      { role = "postgres", schema = "public", objects = "tables", grantee = "anon",
        privileges = { "INSERT", "SELECT" } })
    model.add(m, "default_privilege", "FOR ROLE postgres ON tables TO authenticated",
      { role = "postgres", objects = "tables", grantee = "authenticated",
        privileges = { "SELECT" } })
    model.add(m, "table", "public.notes", { owner = "postgres", rls = false, rls_forced = false })
    model.add(m, "column", "public.notes.id", { type = "integer", not_null = true })
    model.add(m, "grant", "table public.notes TO anon", { on = "table", object = "public.notes",
      grantee = "anon", privileges = { "SELECT" } })
    model.add(m, "grant", "table public.notes TO authenticated", { on = "table",
      object = "public.notes", grantee = "authenticated", privileges = { "SELECT" } })
  end)
  local text = autogen.declare(m)
  check(not text:find("IN SCHEMA public", 1, true) and not text:find('"anon", {', 1, true),
    "public's default privileges are the environment, not declared: " .. text)
  local global = text:find('db:grant_default("select", "tables", "authenticated"', 1, true)
  local create = text:find('db:create_table("notes"', 1, true)
  check(global and create and global < create, "a global default before the table: " .. text)
  check(text:find('db:revoke("insert", "notes", "anon")', 1, true), "the revoke: " .. text)
  check(not text:find('db:grant("select", "notes"', 1, true), "no grant of a default: " .. text)
end)

return T.done()
