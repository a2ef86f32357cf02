-- rbacmig.schema.functions: PostgreSQL functions and procedures: create (with every attribute
-- the catalog keeps: volatility, strictness, security, leakproof, parallel safety, cost, rows
-- and SET settings), alter (what changes in place, without a recreate) and drop.
--
-- Depends on nothing but base, string, table and math: it runs inside the migration sandbox.

local util = require("rbacmig.util")
local check = require("rbacmig.schema.check")
local argerror, check_name = check.argerror, check.check_name
local check_options, check_sequence = check.check_options, check.check_sequence
local describe = check.describe
local postgresql_only = check.postgresql_only
local ddl = require("rbacmig.schema.ddl")
local is_fn, number_literal, q = ddl.is_fn, ddl.number_literal, ddl.q
local qualified, string_literal = ddl.qualified, ddl.string_literal
local postgresql = require("rbacmig.schema.postgresql")
local argument_list, owner_role = postgresql.argument_list, postgresql.owner_role

local operations = {}
local function define(op, impl) operations[op] = impl end

-- A dollar-quoted literal whose tag does not occur in the body: function bodies stay readable
-- in --sql output, and nothing in them can end the literal early.
local function dollar_quote(body)
  local tag, n = "$rbacmig$", 0
  while (body .. tag):find(tag, 1, true) ~= #body + 1 do
    n = n + 1
    tag = "$rbacmig" .. n .. "$"
  end
  return tag .. body .. tag
end

local VOLATILITY = { immutable = "IMMUTABLE", stable = "STABLE", volatile = "VOLATILE" }
local SECURITY = { definer = "SECURITY DEFINER", invoker = "SECURITY INVOKER" }
local PARALLEL = { safe = "PARALLEL SAFE", restricted = "PARALLEL RESTRICTED",
  unsafe = "PARALLEL UNSAFE" }

-- What a procedure cannot have (PostgreSQL: "invalid attribute in procedure definition").
local NOT_FOR_PROCEDURES = { "returns", "volatility", "strict", "leakproof", "parallel", "cost",
  "rows" }

local function refuse_for_procedure(op, o)
  if not o.procedure then return end
  for _, key in ipairs(NOT_FOR_PROCEDURES) do
    if o[key] ~= nil and o[key] ~= false then
      argerror(op, "option '%s' does not apply to a procedure (procedure = true)", key)
    end
  end
end

-- A configuration parameter's name: a word, or a custom class.name (myapp.tenant).
local function guc_name(op, what, name)
  if type(name) ~= "string" or not name:match("^[%a_][%w_$]*$")
      and not name:match("^[%a_][%w_$]*%.[%a_][%w_$.]*[%w_$]$") then
    argerror(op, "%s must be a configuration parameter name, got %s", what, describe(name))
  end
  return name:lower()
end

-- A setting's value: a string, number or boolean is a literal, a list of strings a list
-- (search_path = { "pg_catalog", "public" }), db.fn.raw(sql) is written as is. The server
-- keeps list parameters as written, quoting the names it must (search_path = "" is `""`).
local function guc_value(op, what, v)
  local t = type(v)
  if t == "string" then return string_literal(op, what, v) end
  if t == "number" then return number_literal(op, what, v) end
  if t == "boolean" then return v and "true" or "false" end
  if is_fn(v) and v.kind == "raw" then return v.sql end
  if t == "table" and not is_fn(v) and util.plain_list(v) and #v > 0 then
    local out = {}
    for i, item in ipairs(v) do
      local w = string.format("%s[%d]", what, i)
      if type(item) ~= "string" then
        argerror(op, "%s must be a string, got %s", w, describe(item))
      end
      out[i] = string_literal(op, w, item)
    end
    return table.concat(out, ", ")
  end
  argerror(op, "%s must be a string, number, boolean, non-empty list of strings or "
    .. "db.fn.raw(sql), got %s", what, describe(v))
end

-- SET clauses from option 'settings': a table { name = value } (in name order) or a list of
-- { name, value } pairs (in that order, which is the order the catalog then keeps). `seen`
-- maps each parameter already set to the option that set it.
local function settings_clauses(op, settings, seen)
  local out = {}
  local function add(name, value, what)
    local n = guc_name(op, what .. " name", name)
    if seen[n] == "option 'settings'" then argerror(op, "option 'settings' sets %s twice", n) end
    if seen[n] then argerror(op, "%s is set twice (%s and option 'settings')", n, seen[n]) end
    seen[n] = "option 'settings'"
    out[#out + 1] = "SET " .. n .. " = " .. guc_value(op, what, value)
  end
  if type(settings) ~= "table" or is_fn(settings) then
    argerror(op, "option 'settings' must be a table, got %s", describe(settings))
  end
  if #settings > 0 then
    if not util.plain_list(settings) then
      argerror(op, "option 'settings' must be a table of names or a list of pairs, not both")
    end
    for i, pair in ipairs(settings) do
      local what = string.format("option 'settings'[%d]", i)
      if type(pair) ~= "table" or #pair ~= 2 or not util.plain_list(pair) then
        argerror(op, "%s must be a { name, value } pair, got %s", what, describe(pair))
      end
      add(pair[1], pair[2], what)
    end
  else
    local names = {}
    for k in pairs(settings) do
      if type(k) ~= "string" then
        argerror(op, "option 'settings' has a key that is not a name: %s", describe(k))
      end
      names[#names + 1] = k
    end
    table.sort(names)
    for _, k in ipairs(names) do add(k, settings[k], string.format("option 'settings'.%s", k)) end
  end
  return out
end

-- The SET clauses of options search_path and settings, and the parameters they set.
local function set_clauses(op, db, o)
  local seen, out = {}, {}
  if o.search_path then
    local schemas = {}
    for i, s in ipairs(o.search_path) do schemas[i] = q(db, s) end
    out[1] = "SET search_path = " .. table.concat(schemas, ", ")
    seen.search_path = "option 'search_path'"
  end
  if o.settings ~= nil then
    for _, c in ipairs(settings_clauses(op, o.settings, seen)) do out[#out + 1] = c end
  end
  return out, seen
end

local function estimate(op, what, v)
  return what .. " " .. number_literal(op, what, v)
end

local FUNCTION_OPTIONS = {
  args = "any", returns = "sql", language = "name", body = "any", replace = "boolean",
  volatility = VOLATILITY, security = SECURITY, strict = "boolean", search_path = "names",
  settings = "any", parallel = PARALLEL, leakproof = "boolean", cost = "positive",
  rows = "positive", procedure = "boolean", schema = "name",
}

define("create_function", function(op, db, name, options)
  postgresql_only(op, db)
  check_name(op, "function name", name)
  local o = check_options(op, options, FUNCTION_OPTIONS)
  refuse_for_procedure(op, o)
  local required = o.procedure and { "language", "body" } or { "returns", "language", "body" }
  for _, key in ipairs(required) do
    if o[key] == nil then argerror(op, "option '%s' is required", key) end
  end
  if type(o.body) ~= "string" then
    argerror(op, "option 'body' must be a string, got %s", describe(o.body))
  end
  local args = argument_list(op, "option 'args'", o.args) or ""
  local parts = {
    "CREATE " .. (o.replace and "OR REPLACE " or "")
      .. (o.procedure and "PROCEDURE " or "FUNCTION ") .. qualified(db, o.schema, name)
      .. "(" .. args .. ")",
  }
  local function add(s) if s then parts[#parts + 1] = s end end
  if not o.procedure then add("RETURNS " .. o.returns) end
  add("LANGUAGE " .. q(db, o.language:lower()))
  add(o.volatility)
  add(o.leakproof and "LEAKPROOF")
  add(o.strict and "STRICT")
  add(o.security)
  add(o.parallel)
  add(o.cost and estimate(op, "COST", o.cost))
  add(o.rows and estimate(op, "ROWS", o.rows))
  for _, c in ipairs((set_clauses(op, db, o))) do add(c) end
  add("AS " .. dollar_quote(o.body))
  return db:exec(table.concat(parts, "\n"))
end)

-- The function an ALTER or DROP names: qualified, with its argument types when given (PostgreSQL
-- then needs the name to be unique without them).
local function signature(op, db, o)
  local args = argument_list(op, "option 'args'", o.args)
  return qualified(db, o.schema, o.name) .. (args and "(" .. args .. ")" or "")
end

local ALTER_FUNCTION_OPTIONS = {
  args = "any", volatility = VOLATILITY, security = SECURITY, strict = "boolean",
  search_path = "names", settings = "any", reset = "any", parallel = PARALLEL,
  leakproof = "boolean", cost = "positive", rows = "positive", owner = "name",
  procedure = "boolean", schema = "name",
}

define("alter_function", function(op, db, name, options)
  postgresql_only(op, db)
  check_name(op, "function name", name)
  if options == nil then
    argerror(op, "options must say what to change (volatility, strict, security, leakproof, "
      .. "parallel, cost, rows, search_path, settings, reset, owner)")
  end
  local o = check_options(op, options, ALTER_FUNCTION_OPTIONS)
  refuse_for_procedure(op, o)
  local actions = {}
  local function add(s) if s then actions[#actions + 1] = s end end
  add(o.volatility)
  if o.leakproof ~= nil then add(o.leakproof and "LEAKPROOF" or "NOT LEAKPROOF") end
  if o.strict ~= nil then add(o.strict and "STRICT" or "CALLED ON NULL INPUT") end
  add(o.security)
  add(o.parallel)
  add(o.cost and estimate(op, "COST", o.cost))
  add(o.rows and estimate(op, "ROWS", o.rows))
  local sets, seen = set_clauses(op, db, o)
  for _, c in ipairs(sets) do add(c) end
  if o.reset ~= nil then
    if type(o.reset) == "string" and o.reset:lower() == "all" then
      if next(seen) then
        argerror(op, "option 'reset' = 'all' contradicts the settings it would undo")
      end
      add("RESET ALL")
    else
      local names = type(o.reset) == "string" and { o.reset } or o.reset
      check_sequence(op, "option 'reset'", names)
      if #names == 0 then argerror(op, "option 'reset' must name at least one parameter") end
      for i, n in ipairs(names) do
        local g = guc_name(op, string.format("option 'reset'[%d]", i), n)
        if seen[g] then argerror(op, "option 'reset' names '%s', which the options also set", g) end
        add("RESET " .. g)
      end
    end
  end
  local owner = o.owner and owner_role(op, db, "option 'owner'", o.owner)
  if #actions == 0 and not owner then argerror(op, "nothing to change") end

  local keyword = o.procedure and "ALTER PROCEDURE " or "ALTER FUNCTION "
  local target = signature(op, db, { name = name, schema = o.schema, args = o.args })
  -- OWNER TO is a statement of its own: ALTER FUNCTION takes it alone.
  if #actions > 0 then db:exec(keyword .. target .. " " .. table.concat(actions, " ")) end
  if owner then db:exec(keyword .. target .. " OWNER TO " .. owner) end
end)

define("drop_function", function(op, db, name, options)
  postgresql_only(op, db)
  check_name(op, "function name", name)
  local o = check_options(op, options, {
    args = "any", if_exists = "boolean", cascade = "boolean", procedure = "boolean",
    schema = "name",
  })
  return db:exec("DROP " .. (o.procedure and "PROCEDURE " or "FUNCTION ")
    .. (o.if_exists and "IF EXISTS " or "")
    .. signature(op, db, { name = name, schema = o.schema, args = o.args })
    .. (o.cascade and " CASCADE" or ""))
end)

return { operations = operations }
