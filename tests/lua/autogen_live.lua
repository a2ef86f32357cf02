-- Golden tests of the migration generator (lua/rbacmig/autogen*.lua) against a real
-- database: tests/e2e/test_autogen_golden.sh runs this module inside a migration, on a fresh
-- SQLite file and a fresh PostgreSQL database, with the live `db`. For each case:
--   1. the "from" DDL and the "to" DDL are applied (each in a savepoint rolled back after)
--      and read with the real schema reader;
--   2. the generated upgrade and downgrade must be the expected text;
--   3. the upgrade is run on the "from" schema and the reader must then see exactly "to"
--      (zero differences); the downgrade must then bring back exactly "from".
-- Returns a function(db) that runs the cases and raises when one failed.

local T = require("harness")
local autogen = require("rbacmig.autogen")
local diff = require("rbacmig.inspect.diff")
local read_model = require("rbacmig.inspect.commands").read

local db
local function read()
  return read_model(db, { version_table = "rbacmig_version", history_table = "rbacmig_history" })
end

local function script(sql)
  if sql and sql:find("%S") then db:exec_script(sql) end
end

-- Runs fn between a savepoint and its rollback; returns fn's results or raises its error.
local function rolled_back(fn)
  db:exec("SAVEPOINT autogen_case")
  local ok, a, b = pcall(fn)
  db:exec("ROLLBACK TO SAVEPOINT autogen_case")
  db:exec("RELEASE SAVEPOINT autogen_case")
  if not ok then error(a, 0) end
  return a, b
end

local function model_of(common, ddl)
  return rolled_back(function()
    script(common)
    script(ddl)
    return read()
  end)
end

local function run(text)
  local chunk, err = load("local db = ...\n" .. text, "=generated", "t")
  if not chunk then error("generated code does not load: " .. err, 0) end
  chunk(db)
end

local function residual(want)
  local d = diff.compare(read(), want)
  if #d == 0 then return nil end
  return diff.render_text(d)
end

local function message(e)
  if type(e) == "table" and e.lines then return table.concat(e.lines, "\n") end
  if type(e) == "table" and e.message then return tostring(e.message) end
  return tostring(e)
end

-- case{ name, dialects = {...} | nil, common = sql, from = sql, to = sql, opts = {},
--   up = text, down = text }
local function case(c)
  if c.dialect and c.dialect ~= db.dialect then return end
  T.test(db.dialect .. ": " .. c.name, function()
    local common = type(c.common) == "table" and c.common[db.dialect] or c.common
    local from_sql = type(c.from) == "table" and c.from[db.dialect] or c.from
    local to_sql = type(c.to) == "table" and c.to[db.dialect] or c.to
    local from, to = model_of(common, from_sql), model_of(common, to_sql)
    local ok, r = pcall(autogen.generate, from, to, c.opts)
    if not ok then error("generate refused: " .. message(r), 0) end
    local up = type(c.up) == "table" and c.up[db.dialect] or c.up
    local down = type(c.down) == "table" and c.down[db.dialect] or c.down
    T.eq(r.upgrade, up, "upgrade text")
    T.eq(r.downgrade, down, "downgrade text")
    rolled_back(function()
      script(common)
      script(from_sql)
      run(r.upgrade)
      local left = residual(to)
      if left then error("after the upgrade, differences remain:\n" .. left, 0) end
      run(r.downgrade)
      left = residual(from)
      if left then error("after the downgrade, differences remain:\n" .. left, 0) end
    end)
  end)
end

local cases = {}

cases[#cases + 1] = {
  name = "no difference",
  from = "CREATE TABLE tenants (id integer PRIMARY KEY NOT NULL, name text)",
  to = "CREATE TABLE tenants (id integer PRIMARY KEY NOT NULL, name text)",
  up = "", down = "",
}

cases[#cases + 1] = {
  name = "a table added",
  from = "",
  to = {
    postgresql = "CREATE TABLE tenants (id uuid PRIMARY KEY DEFAULT gen_random_uuid(), "
      .. "name text NOT NULL, plan text NOT NULL DEFAULT 'free', seats integer DEFAULT 3, "
      .. "created_at timestamptz NOT NULL DEFAULT now())",
    sqlite = "CREATE TABLE tenants (id INTEGER NOT NULL PRIMARY KEY, name TEXT NOT NULL, "
      .. "plan TEXT NOT NULL DEFAULT 'free', seats INTEGER DEFAULT 3, "
      .. "created_at TEXT NOT NULL DEFAULT CURRENT_TIMESTAMP)",
  },
  opts = { allow_drop = true },
  up = {
    postgresql = [[
    db:create_table("tenants", {
      { "id", "uuid", primary_key = true, default = db.fn.uuid() },
      { "name", "text", not_null = true },
      { "plan", "text", not_null = true, default = "free" },
      { "seats", "integer", default = 3 },
      { "created_at", "timestamptz", not_null = true, default = db.fn.now() },
    })
]],
    sqlite = [[
    db:create_table("tenants", {
      { "id", "integer", primary_key = true },
      { "name", "text", not_null = true },
      { "plan", "text", not_null = true, default = "free" },
      { "seats", "integer", default = 3 },
      { "created_at", "text", not_null = true, default = db.fn.now() },
    })
]],
  },
  down = [[
    db:drop_table("tenants")
]],
}

cases[#cases + 1] = {
  name = "columns added, dropped and changed",
  common = "",
  from = "CREATE TABLE tenants (id integer PRIMARY KEY NOT NULL, name text, old_flag integer, "
    .. "note text DEFAULT 'x')",
  to = "CREATE TABLE tenants (id integer PRIMARY KEY NOT NULL, name text NOT NULL, "
    .. "plan text NOT NULL DEFAULT 'free', note text)",
  opts = { allow_drop = true },
  up = [[
    db:drop_column("tenants", "old_flag")
    db:alter_column("tenants", "name", { not_null = true })
    db:alter_column("tenants", "note", { drop_default = true })
    db:add_column("tenants", { "plan", "text", not_null = true, default = "free" })
]],
  down = [[
    db:drop_column("tenants", "plan")
    db:alter_column("tenants", "name", { not_null = false })
    db:alter_column("tenants", "note", { default = "x" })
    db:add_column("tenants", { "old_flag", "integer" })
]],
}

cases[#cases + 1] = {
  name = "a column renamed",
  from = "CREATE TABLE tenants (id integer PRIMARY KEY NOT NULL, nme text)",
  to = "CREATE TABLE tenants (id integer PRIMARY KEY NOT NULL, name text)",
  opts = { renames = { { kind = "column", table = "tenants", from = "nme", to = "name" } } },
  up = [[
    db:rename_column("tenants", "nme", "name")
]],
  down = [[
    db:rename_column("tenants", "name", "nme")
]],
}

cases[#cases + 1] = {
  name = "a table renamed",
  from = "CREATE TABLE orgs (id integer PRIMARY KEY NOT NULL, name text)",
  to = "CREATE TABLE tenants (id integer PRIMARY KEY NOT NULL, name text)",
  opts = { renames = { { kind = "table", from = "orgs", to = "tenants" } } },
  up = {
    postgresql = [[
    db:rename_table("orgs", "tenants")
    db:exec("ALTER TABLE public.tenants RENAME CONSTRAINT orgs_pkey TO tenants_pkey")
]],
    sqlite = [[
    db:rename_table("orgs", "tenants")
]],
  },
  down = {
    postgresql = [[
    db:rename_table("tenants", "orgs")
    db:exec("ALTER TABLE public.orgs RENAME CONSTRAINT tenants_pkey TO orgs_pkey")
]],
    sqlite = [[
    db:rename_table("tenants", "orgs")
]],
  },
}

return function(live)
  db = live
  for _, c in ipairs(cases) do case(c) end
  local counts = T.done()
  if counts.failed > 0 or counts.passed == 0 then
    error(string.format("autogen golden: %d of %d cases failed", counts.failed,
      counts.failed + counts.passed), 0)
  end
  return counts
end
