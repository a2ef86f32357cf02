-- rbacmig.schema.postgresql: the PostgreSQL-only operations: schemas, extensions, row-level
-- security, functions, triggers, privileges. rbacmig.schema registers them as db methods.
--
-- Depends on nothing but base, string, table and math: it runs inside the migration sandbox.

local check = require("rbacmig.schema.check")
local DROP_OPTIONS, argerror, check_name = check.DROP_OPTIONS, check.argerror, check.check_name
local check_name_list, check_options = check.check_name_list, check.check_options
local check_sequence, check_sql, describe = check.check_sequence, check.check_sql, check.describe
local postgresql_only, sorted_keys = check.postgresql_only, check.sorted_keys
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

local function argument_list(op, what, args)
  if args == nil then return nil end
  if type(args) == "string" then return args end
  check_sequence(op, what, args)
  for i, a in ipairs(args) do check_sql(op, string.format("%s[%d]", what, i), a) end
  return table.concat(args, ", ")
end

local FUNCTION_OPTIONS = {
  args = "any", returns = "sql", language = "name", body = "any", replace = "boolean",
  volatility = { immutable = "IMMUTABLE", stable = "STABLE", volatile = "VOLATILE" },
  security = { definer = "SECURITY DEFINER", invoker = "SECURITY INVOKER" },
  strict = "boolean", search_path = "names", schema = "name",
}

define("create_function", function(op, db, name, options)
  postgresql_only(op, db)
  check_name(op, "function name", name)
  local o = check_options(op, options, FUNCTION_OPTIONS)
  for _, key in ipairs({ "returns", "language", "body" }) do
    if o[key] == nil then argerror(op, "option '%s' is required", key) end
  end
  if type(o.body) ~= "string" then
    argerror(op, "option 'body' must be a string, got %s", describe(o.body))
  end
  local args = argument_list(op, "option 'args'", o.args) or ""
  local parts = {
    "CREATE " .. (o.replace and "OR REPLACE " or "") .. "FUNCTION " .. qualified(db, o.schema, name)
      .. "(" .. args .. ")",
    "RETURNS " .. o.returns,
    "LANGUAGE " .. q(db, o.language:lower()),
  }
  if o.volatility then parts[#parts + 1] = o.volatility end
  if o.strict then parts[#parts + 1] = "STRICT" end
  if o.security then parts[#parts + 1] = o.security end
  if o.search_path then
    local schemas = {}
    for i, s in ipairs(o.search_path) do schemas[i] = q(db, s) end
    parts[#parts + 1] = "SET search_path = " .. table.concat(schemas, ", ")
  end
  parts[#parts + 1] = "AS " .. dollar_quote(o.body)
  return db:exec(table.concat(parts, "\n"))
end)

define("drop_function", function(op, db, name, options)
  postgresql_only(op, db)
  check_name(op, "function name", name)
  local o = check_options(op, options, {
    args = "any", if_exists = "boolean", cascade = "boolean", schema = "name",
  })
  local args = argument_list(op, "option 'args'", o.args)
  return db:exec("DROP FUNCTION " .. (o.if_exists and "IF EXISTS " or "")
    .. qualified(db, o.schema, name) .. (args and "(" .. args .. ")" or "")
    .. (o.cascade and " CASCADE" or ""))
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

-- Object types of grant/revoke: the SQL after ON, whether names take a schema, and the
-- privileges PostgreSQL accepts for them.
local TABLE_PRIVILEGES = {
  "select", "insert", "update", "delete", "truncate", "references", "trigger", "all",
}
local SEQUENCE_PRIVILEGES = { "usage", "select", "update", "all" }
local FUNCTION_PRIVILEGES = { "execute", "all" }
local GRANT_TYPES = {
  table = { sql = "TABLE", qualify = true, privileges = TABLE_PRIVILEGES },
  sequence = { sql = "SEQUENCE", qualify = true, privileges = SEQUENCE_PRIVILEGES },
  ["function"] = { sql = "FUNCTION", qualify = true, privileges = FUNCTION_PRIVILEGES },
  schema = { sql = "SCHEMA", privileges = { "usage", "create", "all" } },
  database = { sql = "DATABASE", privileges = { "connect", "create", "temporary", "all" } },
  all_tables_in_schema = { sql = "ALL TABLES IN SCHEMA", privileges = TABLE_PRIVILEGES },
  all_sequences_in_schema = { sql = "ALL SEQUENCES IN SCHEMA", privileges = SEQUENCE_PRIVILEGES },
  all_functions_in_schema = { sql = "ALL FUNCTIONS IN SCHEMA", privileges = FUNCTION_PRIVILEGES },
}
local COLUMN_PRIVILEGES = {
  select = true, insert = true, update = true, references = true, all = true,
}

-- "GRANT x ON y TO z" and "REVOKE x ON y FROM z" share everything but the keywords.
local function privilege_statement(op, db, privileges, objects, roles, o)
  local kind_name = o.type or "table"
  local kind = GRANT_TYPES[kind_name]
  if not kind then
    argerror(op, "option 'type' must be one of %s, got '%s'", sorted_keys(GRANT_TYPES), kind_name)
  end
  if o.schema and not kind.qualify then
    argerror(op, "option 'schema' does not apply to type '%s'", kind_name)
  end
  if o.columns and kind_name ~= "table" then argerror(op, "option 'columns' needs type 'table'") end
  if o.args ~= nil and kind_name ~= "function" then
    argerror(op, "option 'args' needs type 'function'")
  end
  local allowed = {}
  for _, p in ipairs(kind.privileges) do allowed[p] = true end
  local privs = {}
  for i, p in ipairs(check_name_list(op, "privileges", privileges, "privilege")) do
    local lp = p:lower()
    if not allowed[lp] then
      argerror(op, "privilege '%s' does not apply to type '%s' (allowed: %s)", p, kind_name,
        table.concat(kind.privileges, ", "))
    end
    if o.columns and not COLUMN_PRIVILEGES[lp] then
      argerror(op, "privilege '%s' cannot be limited to columns", p)
    end
    privs[i] = lp:upper() .. (o.columns and " " .. column_list(db, o.columns) or "")
  end
  local args = argument_list(op, "option 'args'", o.args)
  local names = {}
  for i, n in ipairs(check_name_list(op, "objects", objects, "object")) do
    names[i] = qualified(db, o.schema, n) .. (args and "(" .. args .. ")" or "")
  end
  return table.concat(privs, ", ") .. " ON " .. kind.sql .. " " .. table.concat(names, ", "),
    role_list(op, db, "roles", roles)
end

define("grant", function(op, db, privileges, objects, roles, options)
  postgresql_only(op, db)
  local o = check_options(op, options, {
    type = "name", columns = "columns", args = "any", schema = "name",
    with_grant_option = "boolean",
  })
  local what, to = privilege_statement(op, db, privileges, objects, roles, o)
  return db:exec("GRANT " .. what .. " TO " .. to
    .. (o.with_grant_option and " WITH GRANT OPTION" or ""))
end)

define("revoke", function(op, db, privileges, objects, roles, options)
  postgresql_only(op, db)
  local o = check_options(op, options, {
    type = "name", columns = "columns", args = "any", schema = "name", grant_option_for = "boolean",
    cascade = "boolean",
  })
  local what, from = privilege_statement(op, db, privileges, objects, roles, o)
  return db:exec("REVOKE " .. (o.grant_option_for and "GRANT OPTION FOR " or "") .. what
    .. " FROM " .. from .. (o.cascade and " CASCADE" or ""))
end)

return { operations = operations }
