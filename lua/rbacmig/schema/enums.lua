-- rbacmig.schema.enums: PostgreSQL enum types: create, drop, add a value, rename a value.
--
-- Depends on nothing but base, string, table and math: it runs inside the migration sandbox.

local check = require("rbacmig.schema.check")
local argerror, check_name, check_options = check.argerror, check.check_name, check.check_options
local check_sequence, describe = check.check_sequence, check.describe
local postgresql_only = check.postgresql_only
local ddl = require("rbacmig.schema.ddl")
local qualified, string_literal = ddl.qualified, ddl.string_literal

local operations = {}
local function define(op, impl) operations[op] = impl end

-- A label: 1 to 63 bytes (NAMEDATALEN - 1), which PostgreSQL would refuse otherwise.
local function label(op, what, v)
  if type(v) ~= "string" or v == "" or #v > 63 then
    argerror(op, "%s must be a string of 1 to 63 bytes, got %s", what, describe(v))
  end
  return string_literal(op, what, v)
end

define("create_enum", function(op, db, name, values, options)
  postgresql_only(op, db)
  check_name(op, "type name", name)
  -- An enum may have no values yet (CREATE TYPE e AS ENUM ()), to which add_enum_value adds.
  check_sequence(op, "values", values)
  local labels, seen = {}, {}
  for i, v in ipairs(values) do
    labels[i] = label(op, string.format("values[%d]", i), v)
    if seen[v] then argerror(op, "values has '%s' twice", v) end
    seen[v] = true
  end
  local o = check_options(op, options, { schema = "name" })
  return db:exec("CREATE TYPE " .. qualified(db, o.schema, name) .. " AS ENUM ("
    .. table.concat(labels, ", ") .. ")")
end)

define("drop_enum", function(op, db, name, options)
  postgresql_only(op, db)
  check_name(op, "type name", name)
  local o = check_options(op, options, check.DROP_OPTIONS)
  return db:exec("DROP TYPE " .. (o.if_exists and "IF EXISTS " or "")
    .. qualified(db, o.schema, name) .. (o.cascade and " CASCADE" or ""))
end)

-- Before PostgreSQL 12, ALTER TYPE ... ADD VALUE cannot run in a transaction block (a
-- migration with transactional = false); since 12 it can, but the new value cannot be used
-- until the transaction commits ("unsafe use of new value"): use it in a later migration.
define("add_enum_value", function(op, db, name, value, options)
  postgresql_only(op, db)
  check_name(op, "type name", name)
  local v = label(op, "value", value)
  local o = check_options(op, options, {
    before = "name", after = "name", if_not_exists = "boolean", schema = "name",
  })
  if o.before and o.after then argerror(op, "options 'before' and 'after' exclude each other") end
  local where = ""
  if o.before then where = " BEFORE " .. label(op, "option 'before'", o.before) end
  if o.after then where = " AFTER " .. label(op, "option 'after'", o.after) end
  return db:exec("ALTER TYPE " .. qualified(db, o.schema, name) .. " ADD VALUE "
    .. (o.if_not_exists and "IF NOT EXISTS " or "") .. v .. where)
end)

define("rename_enum_value", function(op, db, name, old, new, options)
  postgresql_only(op, db)
  check_name(op, "type name", name)
  local from, to = label(op, "old value", old), label(op, "new value", new)
  local o = check_options(op, options, { schema = "name" })
  return db:exec("ALTER TYPE " .. qualified(db, o.schema, name) .. " RENAME VALUE " .. from
    .. " TO " .. to)
end)

return { operations = operations }
