-- rbacmig.schema.sequences: PostgreSQL sequences: create, alter and drop, with every
-- attribute the catalog keeps (type, start, increment, bounds, cache, cycle, owning column).
--
-- Depends on nothing but base, string, table and math: it runs inside the migration sandbox.

local check = require("rbacmig.schema.check")
local argerror, check_name, check_options = check.argerror, check.check_name, check.check_options
local describe, postgresql_only = check.describe, check.postgresql_only
local ddl = require("rbacmig.schema.ddl")
local q, qualified = ddl.q, ddl.qualified

local operations = {}
local function define(op, impl) operations[op] = impl end

local SEQUENCE_OPTIONS = {
  as = { smallint = "smallint", integer = "integer", bigint = "bigint" },
  start = "integer", increment = "integer", min_value = "integer", max_value = "integer",
  cache = "integer", cycle = "boolean", owned_by = "name", schema = "name",
}

-- OWNED BY: "table.column", "schema.table.column" or "none".
local function owned_by(op, db, v)
  if v:lower() == "none" then return "NONE" end
  local parts = {}
  for part in (v .. "."):gmatch("([^.]*)%.") do parts[#parts + 1] = part end
  if #parts < 2 or #parts > 3 then
    argerror(op, "option 'owned_by' must be 'table.column', 'schema.table.column' or 'none', "
      .. "got %s", describe(v))
  end
  local out = {}
  for i, part in ipairs(parts) do
    if part == "" then
      argerror(op, "option 'owned_by' has an empty name in %s", describe(v))
    end
    out[i] = q(db, part)
  end
  return table.concat(out, ".")
end

-- The clauses CREATE and ALTER SEQUENCE share, in the order PostgreSQL documents them.
local function sequence_clauses(op, db, o)
  if o.increment == "0" or o.increment == "-0" then
    argerror(op, "option 'increment' must not be 0")
  end
  if o.cache and tonumber(o.cache) < 1 then
    argerror(op, "option 'cache' must be at least 1, got %s", o.cache)
  end
  local parts = {}
  local function add(s) if s then parts[#parts + 1] = s end end
  add(o.as and "AS " .. o.as)
  add(o.increment and "INCREMENT BY " .. o.increment)
  add(o.min_value and "MINVALUE " .. o.min_value)
  add(o.max_value and "MAXVALUE " .. o.max_value)
  add(o.start and "START WITH " .. o.start)
  if o.restart == true then add("RESTART")
  elseif o.restart ~= nil and o.restart ~= false then add("RESTART WITH " .. o.restart) end
  add(o.cache and "CACHE " .. o.cache)
  if o.cycle ~= nil then add(o.cycle and "CYCLE" or "NO CYCLE") end
  add(o.owned_by and "OWNED BY " .. owned_by(op, db, o.owned_by))
  return parts
end

define("create_sequence", function(op, db, name, options)
  postgresql_only(op, db)
  check_name(op, "sequence name", name)
  local known = { if_not_exists = "boolean" }
  for k, v in pairs(SEQUENCE_OPTIONS) do known[k] = v end
  local o = check_options(op, options, known)
  if o.owned_by and o.owned_by:lower() == "none" then
    argerror(op, "option 'owned_by' = 'none' is what a new sequence has; leave it out")
  end
  local parts = sequence_clauses(op, db, o)
  return db:exec("CREATE SEQUENCE " .. (o.if_not_exists and "IF NOT EXISTS " or "")
    .. qualified(db, o.schema, name) .. (#parts > 0 and " " .. table.concat(parts, " ") or ""))
end)

define("alter_sequence", function(op, db, name, options)
  postgresql_only(op, db)
  check_name(op, "sequence name", name)
  local known = { restart = "any" }
  for k, v in pairs(SEQUENCE_OPTIONS) do known[k] = v end
  local o = check_options(op, options, known)
  if o.restart ~= nil and type(o.restart) ~= "boolean" then
    o.restart = check_options(op, { restart = o.restart }, { restart = "integer" }).restart
  end
  local parts = sequence_clauses(op, db, o)
  if #parts == 0 then argerror(op, "nothing to change") end
  return db:exec("ALTER SEQUENCE " .. qualified(db, o.schema, name) .. " "
    .. table.concat(parts, " "))
end)

define("drop_sequence", function(op, db, name, options)
  postgresql_only(op, db)
  check_name(op, "sequence name", name)
  local o = check_options(op, options, check.DROP_OPTIONS)
  return db:exec("DROP SEQUENCE " .. (o.if_exists and "IF EXISTS " or "")
    .. qualified(db, o.schema, name) .. (o.cascade and " CASCADE" or ""))
end)

return { operations = operations }
