-- rbacmig.schema.postgresql: the PostgreSQL-only operations on schemas, extensions,
-- row-level security and triggers, and the helpers the other PostgreSQL modules share (role
-- lists, function argument lists). Functions are in schema/functions, privileges and owners
-- in schema/privileges, views, enums, sequences and comments in modules of their own;
-- rbacmig.schema registers them all as db methods.
--
-- Depends on nothing but base, string, table and math: it runs inside the migration sandbox.

local check = require("rbacmig.schema.check")
local DROP_OPTIONS, argerror, check_name = check.DROP_OPTIONS, check.argerror, check.check_name
local check_name_list, check_options = check.check_name_list, check.check_options
local check_sequence, check_sql, describe = check.check_sequence, check.check_sql, check.describe
local postgresql_only = check.postgresql_only
local ddl = require("rbacmig.schema.ddl")
local column_list, number_literal, q = ddl.column_list, ddl.number_literal, ddl.q
local qualified, string_literal = ddl.qualified, ddl.string_literal

-- operations[op] = impl; rbacmig.schema wraps each with its define.
local operations = {}
local function define(op, impl) operations[op] = impl end

define("create_schema", function(op, db, name, options)
  postgresql_only(op, db)
  check_name(op, "schema name", name)
  local o = check_options(op, options, { if_not_exists = "boolean", authorization = "name" })
  return db:exec("CREATE SCHEMA " .. (o.if_not_exists and "IF NOT EXISTS " or "") .. q(db, name)
    .. (o.authorization and " AUTHORIZATION " .. q(db, o.authorization) or ""))
end)

-- DROP SCHEMA and DROP EXTENSION take the same arguments and options.
local function drop_object(keyword, what)
  return function(op, db, name, options)
    postgresql_only(op, db)
    check_name(op, what, name)
    local o = check_options(op, options, { if_exists = "boolean", cascade = "boolean" })
    return db:exec("DROP " .. keyword .. " " .. (o.if_exists and "IF EXISTS " or "") .. q(db, name)
      .. (o.cascade and " CASCADE" or ""))
  end
end

define("drop_schema", drop_object("SCHEMA", "schema name"))

define("create_extension", function(op, db, name, options)
  postgresql_only(op, db)
  check_name(op, "extension name", name)
  local o = check_options(op, options, {
    if_not_exists = "boolean", schema = "name", version = "name", cascade = "boolean",
  })
  return db:exec("CREATE EXTENSION " .. (o.if_not_exists and "IF NOT EXISTS " or "") .. q(db, name)
    .. (o.schema and " WITH SCHEMA " .. q(db, o.schema) or "")
    .. (o.version and " VERSION " .. string_literal(op, "option 'version'", o.version) or "")
    .. (o.cascade and " CASCADE" or ""))
end)

define("drop_extension", drop_object("EXTENSION", "extension name"))

define("enable_rls", function(op, db, table_name, options)
  postgresql_only(op, db)
  check_name(op, "table name", table_name)
  local o = check_options(op, options, { force = "boolean", schema = "name" })
  -- FORCE makes the policies apply to the table's owner too.
  return db:exec("ALTER TABLE " .. qualified(db, o.schema, table_name)
    .. " ENABLE ROW LEVEL SECURITY" .. (o.force and ", FORCE ROW LEVEL SECURITY" or ""))
end)

define("disable_rls", function(op, db, table_name, options)
  postgresql_only(op, db)
  check_name(op, "table name", table_name)
  local o = check_options(op, options, { schema = "name" })
  -- The inverse of enable_rls with or without force, so a downgrade needs no bookkeeping.
  return db:exec("ALTER TABLE " .. qualified(db, o.schema, table_name)
    .. " DISABLE ROW LEVEL SECURITY, NO FORCE ROW LEVEL SECURITY")
end)

-- FORCE makes the policies apply to the table's owner too; these toggle it alone, as the
-- catalog keeps it (pg_class.relforcerowsecurity) apart from ENABLE.
local function force_toggle(keyword)
  return function(op, db, table_name, options)
    postgresql_only(op, db)
    check_name(op, "table name", table_name)
    local o = check_options(op, options, { schema = "name" })
    return db:exec("ALTER TABLE " .. qualified(db, o.schema, table_name) .. " " .. keyword
      .. " ROW LEVEL SECURITY")
  end
end

define("force_rls", force_toggle("FORCE"))
define("no_force_rls", force_toggle("NO FORCE"))

-- PUBLIC and the CURRENT_USER family are keywords; quoted they would name ordinary roles.
local ROLE_KEYWORDS = {
  public = "PUBLIC", current_user = "CURRENT_USER", session_user = "SESSION_USER",
  current_role = "CURRENT_ROLE",
}

local function role_list(op, db, what, roles)
  roles = check_name_list(op, what, roles, "role")
  local out = {}
  for i, r in ipairs(roles) do out[i] = ROLE_KEYWORDS[r:lower()] or q(db, r) end
  return table.concat(out, ", ")
end

-- One role that can own something: a name or CURRENT_USER, SESSION_USER, CURRENT_ROLE
-- (PUBLIC owns nothing).
local function owner_role(op, db, what, role)
  check_name(op, what, role)
  if role:lower() == "public" then argerror(op, "%s cannot be public", what) end
  return ROLE_KEYWORDS[role:lower()] or q(db, role)
end

-- A function's argument list as SQL: "a integer, b text" or { "a integer", "b text" }.
local function argument_list(op, what, args)
  if args == nil then return nil end
  if type(args) == "string" then return args end
  check_sequence(op, what, args)
  for i, a in ipairs(args) do check_sql(op, string.format("%s[%d]", what, i), a) end
  return table.concat(args, ", ")
end

local POLICY_COMMANDS = {
  all = "ALL", select = "SELECT", insert = "INSERT", update = "UPDATE", delete = "DELETE",
}

define("create_policy", function(op, db, table_name, name, options)
  postgresql_only(op, db)
  check_name(op, "table name", table_name)
  check_name(op, "policy name", name)
  local o = check_options(op, options, {
    command = POLICY_COMMANDS, restrictive = "boolean", to = "any", using = "sql",
    with_check = "sql", schema = "name",
  })
  if not o.using and not o.with_check then
    argerror(op, "a policy needs option 'using' or 'with_check'")
  end
  return db:exec("CREATE POLICY " .. q(db, name) .. " ON " .. qualified(db, o.schema, table_name)
    .. (o.restrictive and " AS RESTRICTIVE" or "") .. (o.command and " FOR " .. o.command or "")
    .. (o.to ~= nil and " TO " .. role_list(op, db, "option 'to'", o.to) or "")
    .. (o.using and " USING (" .. o.using .. ")" or "")
    .. (o.with_check and " WITH CHECK (" .. o.with_check .. ")" or ""))
end)

define("drop_policy", function(op, db, table_name, name, options)
  postgresql_only(op, db)
  check_name(op, "table name", table_name)
  check_name(op, "policy name", name)
  local o = check_options(op, options, { if_exists = "boolean", schema = "name" })
  return db:exec("DROP POLICY " .. (o.if_exists and "IF EXISTS " or "") .. q(db, name) .. " ON "
    .. qualified(db, o.schema, table_name))
end)

local TRIGGER_EVENTS = {
  insert = "INSERT", update = "UPDATE", delete = "DELETE", truncate = "TRUNCATE",
}

local TRIGGER_OPTIONS = {
  timing = { before = "BEFORE", after = "AFTER", ["instead of"] = "INSTEAD OF" },
  events = "any", columns = "columns", for_each = { row = "ROW", statement = "STATEMENT" },
  when = "sql", execute = "name", execute_schema = "name", arguments = "any", replace = "boolean",
  schema = "name",
}

define("create_trigger", function(op, db, table_name, name, options)
  postgresql_only(op, db)
  check_name(op, "table name", table_name)
  check_name(op, "trigger name", name)
  local o = check_options(op, options, TRIGGER_OPTIONS)
  for _, key in ipairs({ "timing", "events", "for_each", "execute" }) do
    if o[key] == nil then argerror(op, "option '%s' is required", key) end
  end
  local events = {}
  for i, e in ipairs(check_name_list(op, "option 'events'", o.events, "event")) do
    events[i] = TRIGGER_EVENTS[e:lower()]
    if not events[i] then
      argerror(op, "option 'events'[%d] must be one of delete, insert, truncate, update; got '%s'",
        i, e)
    end
    if events[i] == "UPDATE" and o.columns then
      events[i] = "UPDATE OF " .. column_list(db, o.columns):sub(2, -2)
    end
  end
  if o.columns and not table.concat(events, " "):find("UPDATE", 1, true) then
    argerror(op, "option 'columns' needs the update event")
  end
  local arguments = {}
  if o.arguments ~= nil then
    for i, a in ipairs(check_sequence(op, "option 'arguments'", o.arguments)) do
      local what = string.format("option 'arguments'[%d]", i)
      -- Trigger arguments are always strings to the function (TG_ARGV).
      if type(a) == "number" then
        arguments[i] = string_literal(op, what, number_literal(op, what, a))
      elseif type(a) == "string" then arguments[i] = string_literal(op, what, a)
      else argerror(op, "%s must be a string or a number, got %s", what, describe(a)) end
    end
  end
  return db:exec("CREATE " .. (o.replace and "OR REPLACE " or "") .. "TRIGGER " .. q(db, name)
    .. " " .. o.timing .. " " .. table.concat(events, " OR ")
    .. " ON " .. qualified(db, o.schema, table_name) .. " FOR EACH " .. o.for_each
    .. (o.when and " WHEN (" .. o.when .. ")" or "")
    .. " EXECUTE FUNCTION " .. qualified(db, o.execute_schema, o.execute)
    .. "(" .. table.concat(arguments, ", ") .. ")")
end)

define("drop_trigger", function(op, db, table_name, name, options)
  postgresql_only(op, db)
  check_name(op, "table name", table_name)
  check_name(op, "trigger name", name)
  local o = check_options(op, options, DROP_OPTIONS)
  return db:exec("DROP TRIGGER " .. (o.if_exists and "IF EXISTS " or "") .. q(db, name) .. " ON "
    .. qualified(db, o.schema, table_name) .. (o.cascade and " CASCADE" or ""))
end)

-- Whether a trigger fires (pg_trigger.tgenabled): ENABLE (the default, "origin" sessions),
-- ENABLE REPLICA (only in replica sessions), ENABLE ALWAYS (in both), DISABLE.
define("enable_trigger", function(op, db, table_name, name, options)
  postgresql_only(op, db)
  check_name(op, "table name", table_name)
  check_name(op, "trigger name", name)
  local o = check_options(op, options, {
    mode = { origin = "", replica = "REPLICA ", always = "ALWAYS " }, schema = "name",
  })
  return db:exec("ALTER TABLE " .. qualified(db, o.schema, table_name) .. " ENABLE "
    .. (o.mode or "") .. "TRIGGER " .. q(db, name))
end)

define("disable_trigger", function(op, db, table_name, name, options)
  postgresql_only(op, db)
  check_name(op, "table name", table_name)
  check_name(op, "trigger name", name)
  local o = check_options(op, options, { schema = "name" })
  return db:exec("ALTER TABLE " .. qualified(db, o.schema, table_name) .. " DISABLE TRIGGER "
    .. q(db, name))
end)

-- Table attributes that change in place: UNLOGGED/LOGGED and storage parameters.
define("alter_table", function(op, db, table_name, options)
  postgresql_only(op, db)
  check_name(op, "table name", table_name)
  local o = check_options(op, options, {
    unlogged = "boolean", options = "sql", reset_options = "names", schema = "name",
  })
  local actions = {}
  if o.unlogged ~= nil then
    actions[#actions + 1] = o.unlogged and "SET UNLOGGED" or "SET LOGGED"
  end
  if o.options then actions[#actions + 1] = "SET (" .. o.options .. ")" end
  if o.reset_options then
    local names = {}
    for i, n in ipairs(o.reset_options) do
      if not n:match("^[%a_][%w_]*%.?[%w_]*$") then
        argerror(op, "option 'reset_options'[%d] must be a storage parameter name, got %s", i,
          describe(n))
      end
      names[i] = n:lower()
    end
    actions[#actions + 1] = "RESET (" .. table.concat(names, ", ") .. ")"
  end
  if #actions == 0 then
    argerror(op, "nothing to change (give unlogged, options or reset_options)")
  end
  return db:exec("ALTER TABLE " .. qualified(db, o.schema, table_name) .. " "
    .. table.concat(actions, ", "))
end)

return {
  argument_list = argument_list,
  operations = operations,
  owner_role = owner_role,
  role_list = role_list,
}
