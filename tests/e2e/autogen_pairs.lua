-- tests/e2e/autogen_pairs.lua: random pairs of schemas for the autogenerate property test
-- (test_autogen_property.sh). For a seed and a dialect it makes a schema A (tables, columns,
-- indexes, unique and check constraints, foreign keys; on PostgreSQL also enums, views,
-- functions, row-level security, policies, grants and comments) and a schema B = A with one
-- to four random edits, and writes them as DIR/a.sql and DIR/b.sql. The same seed always
-- gives the same pair, so a failure is reproduced by its seed alone.
--
--   lua5.4 autogen_pairs.lua SEED sqlite|postgresql DIR
--
-- Edits never drop and add the same kind of object on one table in one pair: that pair
-- looks like a rename, which autogenerate refuses by design (tested on its own).

local seed, dialect, dir = tonumber(arg[1]), arg[2], arg[3]
assert(seed and (dialect == "sqlite" or dialect == "postgresql") and dir,
  "usage: lua5.4 autogen_pairs.lua SEED sqlite|postgresql DIR")
local pg = dialect == "postgresql"
math.randomseed(seed)

local function pick(list) return list[math.random(#list)] end
local function chance(p) return math.random() < p end

local TYPES = pg and {
  { "integer", "0" }, { "bigint", "1" }, { "text", "'x'" }, { "boolean", "false" },
  { "timestamptz", "now()" }, { "numeric(10,2)", "0" }, { "varchar(40)", "''" }, { "jsonb", "'{}'::jsonb" },
} or {
  { "INTEGER", "0" }, { "TEXT", "'x'" }, { "REAL", "0.5" }, { "NUMERIC", "1" }, { "BLOB", "x'00'" },
}
local ROLES = { "anon", "authenticated", "service_role" }
local PRIVS = { "SELECT", "INSERT", "UPDATE", "DELETE" }

local counter = 0
local function fresh(prefix)
  counter = counter + 1
  return prefix .. counter
end

-- ---------------------------------------------------------------------------------------
-- Schema A

local function new_column()
  local t = pick(TYPES)
  return { name = fresh("c"), type = t[1], not_null = chance(0.3), default = chance(0.4) and t[2] or nil }
end

local function new_table(s)
  local t = { name = fresh("t"), cols = {}, indexes = {}, uniques = {}, checks = {}, fks = {},
              policies = {}, grants = {} }
  for _ = 1, math.random(1, 4) do t.cols[#t.cols + 1] = new_column() end
  -- A foreign key to an earlier table's primary key, sometimes.
  local earlier = s.tables[#s.tables]
  if earlier and chance(0.4) then
    t.fks[1] = { name = fresh("fk"), col = fresh("ref"), ref = earlier.name,
                 on_delete = pick({ "CASCADE", "RESTRICT", "SET NULL", "NO ACTION" }) }
  end
  if chance(0.5) then
    local c = pick(t.cols)
    t.indexes[#t.indexes + 1] = { name = fresh("ix"), cols = { c.name }, unique = chance(0.3),
      where = chance(0.2) and (c.name .. " IS NOT NULL") or nil }
  end
  if chance(0.3) then t.uniques[#t.uniques + 1] = { name = fresh("uq"), cols = { pick(t.cols).name } } end
  if chance(0.3) then t.checks[#t.checks + 1] = { name = fresh("ck"), expr = "id > 0" } end
  if pg then
    t.rls = chance(0.5)
    t.force = t.rls and chance(0.5)
    if t.rls and chance(0.7) then
      t.policies[#t.policies + 1] = { name = fresh("p"), cmd = pick({ "ALL", "SELECT", "UPDATE" }),
        roles = pick(ROLES), using = pick({ "true", "id > 0", "id < 1000" }) }
    end
    if chance(0.5) then t.grants[pick(ROLES)] = { pick(PRIVS) } end
    t.comment = chance(0.3) and ("table " .. t.name) or nil
  end
  s.tables[#s.tables + 1] = t
  return t
end

local function new_schema()
  local s = { tables = {}, enums = {}, views = {}, functions = {} }
  for _ = 1, math.random(1, 4) do new_table(s) end
  if pg then
    if chance(0.5) then s.enums[#s.enums + 1] = { name = fresh("e"), values = { "a", "b" } } end
    if chance(0.5) then
      local t = pick(s.tables)
      s.views[#s.views + 1] = { name = fresh("v"), table = t.name, invoker = chance(0.5) }
    end
    if chance(0.5) then
      s.functions[#s.functions + 1] = { name = fresh("f"), body = "SELECT 1", definer = chance(0.3) }
    end
  end
  return s
end

-- ---------------------------------------------------------------------------------------
-- Edits: each changes B only, and says which kind it dropped or added where.

local function copy(v)
  if type(v) ~= "table" then return v end
  local out = {}
  for k, x in pairs(v) do out[k] = copy(x) end
  return out
end

local function referenced(s, name)
  for _, t in ipairs(s.tables) do
    for _, fk in ipairs(t.fks) do
      if fk.ref == name then return true end
    end
  end
  for _, v in ipairs(s.views) do
    if v.table == name then return true end
  end
  return false
end

local function indexed(t, col)
  for _, set in ipairs({ t.indexes, t.uniques }) do
    for _, ix in ipairs(set) do
      for _, c in ipairs(ix.cols) do
        if c == col then return true end
      end
    end
  end
  return false
end

local EDITS = {
  function(s, seen) -- add a table
    if seen["drop table"] then return false end
    seen["add table"] = true
    new_table(s)
  end,
  function(s, seen) -- drop a table nothing refers to
    if seen["add table"] then return false end
    for i = #s.tables, 1, -1 do
      if #s.tables > 1 and not referenced(s, s.tables[i].name) then
        table.remove(s.tables, i)
        seen["drop table"] = true
        return
      end
    end
    return false
  end,
  function(s, seen) -- add a column
    local t = pick(s.tables)
    if seen["drop column " .. t.name] then return false end
    seen["add column " .. t.name] = true
    local c = new_column()
    c.not_null = c.not_null and c.default ~= nil -- a NOT NULL column without default needs data
    t.cols[#t.cols + 1] = c
  end,
  function(s, seen) -- drop a column no index, view or constraint uses
    local t = pick(s.tables)
    if seen["add column " .. t.name] or #t.cols < 2 or #s.views > 0 then return false end
    for i = #t.cols, 1, -1 do
      if not indexed(t, t.cols[i].name) then
        table.remove(t.cols, i)
        seen["drop column " .. t.name] = true
        return
      end
    end
    return false
  end,
  function(s) -- nullability
    local c = pick(pick(s.tables).cols)
    c.not_null = not c.not_null
  end,
  function(s) -- default
    local t = pick(s.tables)
    local c = pick(t.cols)
    -- SQLite: a BLOB literal default (x'00') is no value the schema API can write, so
    -- changing one on a column that exists is the generator's own table rebuild, which it
    -- refuses by design for a table other tables reference (it says to write that step by
    -- hand with foreign keys off).
    if not pg and c.type == "BLOB" and referenced(s, t.name) then return false end
    for _, ty in ipairs(TYPES) do
      if ty[1] == c.type then c.default = c.default == nil and ty[2] or nil end
    end
  end,
  function(s, seen) -- add an index
    local t = pick(s.tables)
    if seen["drop index " .. t.name] then return false end
    seen["add index " .. t.name] = true
    t.indexes[#t.indexes + 1] = { name = fresh("ix"), cols = { pick(t.cols).name }, unique = false }
  end,
  function(s, seen) -- drop an index
    local t = pick(s.tables)
    if #t.indexes == 0 or seen["add index " .. t.name] then return false end
    table.remove(t.indexes)
    seen["drop index " .. t.name] = true
  end,
  function(s) -- a check constraint added or removed
    local t = pick(s.tables)
    if #t.checks > 0 then table.remove(t.checks) else t.checks[1] = { name = fresh("ck"), expr = "id >= 0" } end
  end,
  function(s) -- PostgreSQL: row-level security and its forcing
    if not pg then return false end
    local t = pick(s.tables)
    if chance(0.5) then t.rls = not t.rls else t.force = not t.force end
    if not t.rls then t.force = false end
  end,
  function(s, seen) -- PostgreSQL: a policy added, changed or dropped
    if not pg then return false end
    local t = pick(s.tables)
    local p = t.policies[1]
    if p and chance(0.5) then
      p.using = p.using == "true" and "id > 10" or "true"
    elseif p and not seen["add policy " .. t.name] then
      table.remove(t.policies, 1)
      seen["drop policy " .. t.name] = true
    elseif not seen["drop policy " .. t.name] then
      seen["add policy " .. t.name] = true
      t.policies[#t.policies + 1] = { name = fresh("p"), cmd = "SELECT", roles = pick(ROLES), using = "true" }
    else
      return false
    end
  end,
  function(s) -- PostgreSQL: a grant added or revoked
    if not pg then return false end
    local t = pick(s.tables)
    local role = pick(ROLES)
    t.grants[role] = t.grants[role] == nil and { pick(PRIVS) } or nil
  end,
  function(s) -- PostgreSQL: an enum value added at the end, or a new enum
    if not pg then return false end
    local e = s.enums[1]
    if e then e.values[#e.values + 1] = fresh("v") else s.enums[1] = { name = fresh("e"), values = { "x" } } end
  end,
  function(s) -- PostgreSQL: a view's security_invoker, or a function's body
    if not pg then return false end
    if s.views[1] then
      s.views[1].invoker = not s.views[1].invoker
    elseif s.functions[1] then
      s.functions[1].body = "SELECT 2"
    else
      return false
    end
  end,
  function(s) -- PostgreSQL: a comment
    if not pg then return false end
    local t = pick(s.tables)
    t.comment = t.comment == nil and ("about " .. t.name) or nil
  end,
}

local function edit(a)
  local b = copy(a)
  local seen, done, tries = {}, 0, 0
  local want = math.random(1, 4)
  while done < want and tries < 50 do
    tries = tries + 1
    if pick(EDITS)(b, seen) ~= false then done = done + 1 end
  end
  return b
end

-- ---------------------------------------------------------------------------------------
-- SQL

local function column_sql(c)
  local s = c.name .. " " .. c.type
  if c.not_null then s = s .. " NOT NULL" end
  if c.default then s = s .. " DEFAULT " .. c.default end
  return s
end

local function render(s)
  local out = {}
  local function add(x) out[#out + 1] = x end
  for _, e in ipairs(s.enums) do
    add("CREATE TYPE " .. e.name .. " AS ENUM ('" .. table.concat(e.values, "', '") .. "');")
  end
  for _, f in ipairs(s.functions) do
    add("CREATE FUNCTION " .. f.name .. "() RETURNS integer LANGUAGE sql STABLE"
      .. (f.definer and " SECURITY DEFINER SET search_path = ''" or "")
      .. " AS $$ " .. f.body .. " $$;")
  end
  for _, t in ipairs(s.tables) do
    local parts = { (pg and "id integer" or "id INTEGER") .. " PRIMARY KEY" }
    for _, c in ipairs(t.cols) do parts[#parts + 1] = column_sql(c) end
    for _, fk in ipairs(t.fks) do
      parts[#parts + 1] = fk.col .. (pg and " integer" or " INTEGER")
      parts[#parts + 1] = "CONSTRAINT " .. fk.name .. " FOREIGN KEY (" .. fk.col .. ") REFERENCES "
        .. fk.ref .. " (id) ON DELETE " .. fk.on_delete
    end
    for _, u in ipairs(t.uniques) do
      parts[#parts + 1] = "CONSTRAINT " .. u.name .. " UNIQUE (" .. table.concat(u.cols, ", ") .. ")"
    end
    for _, c in ipairs(t.checks) do
      parts[#parts + 1] = "CONSTRAINT " .. c.name .. " CHECK (" .. c.expr .. ")"
    end
    add("CREATE TABLE " .. t.name .. " (\n  " .. table.concat(parts, ",\n  ") .. "\n);")
    for _, ix in ipairs(t.indexes) do
      add("CREATE " .. (ix.unique and "UNIQUE " or "") .. "INDEX " .. ix.name .. " ON " .. t.name
        .. " (" .. table.concat(ix.cols, ", ") .. ")" .. (ix.where and (" WHERE " .. ix.where) or "") .. ";")
    end
    if t.rls then add("ALTER TABLE " .. t.name .. " ENABLE ROW LEVEL SECURITY;") end
    if t.force then add("ALTER TABLE " .. t.name .. " FORCE ROW LEVEL SECURITY;") end
    for _, p in ipairs(t.policies) do
      add("CREATE POLICY " .. p.name .. " ON " .. t.name .. " FOR " .. p.cmd .. " TO " .. p.roles
        .. " USING (" .. p.using .. ");")
    end
    local roles = {}
    for r in pairs(t.grants) do roles[#roles + 1] = r end
    table.sort(roles)
    for _, r in ipairs(roles) do
      add("GRANT " .. table.concat(t.grants[r], ", ") .. " ON " .. t.name .. " TO " .. r .. ";")
    end
    if t.comment then add("COMMENT ON TABLE " .. t.name .. " IS '" .. t.comment .. "';") end
  end
  for _, v in ipairs(s.views) do
    add("CREATE VIEW " .. v.name .. (v.invoker and " WITH (security_invoker = true)" or "")
      .. " AS SELECT id FROM " .. v.table .. ";")
  end
  return table.concat(out, "\n") .. "\n"
end

local a = new_schema()
local b = edit(a)
for name, s in pairs({ a = a, b = b }) do
  local f = assert(io.open(dir .. "/" .. name .. ".sql", "w"))
  f:write("-- seed " .. seed .. ", " .. dialect .. ", schema " .. name:upper() .. "\n", render(s))
  f:close()
end
