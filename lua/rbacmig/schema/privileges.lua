-- rbacmig.schema.privileges: who may do what, and who owns what (PostgreSQL only): GRANT and
-- REVOKE on objects, ALTER DEFAULT PRIVILEGES for objects created later, and ALTER ... OWNER TO.
--
-- Depends on nothing but base, string, table and math: it runs inside the migration sandbox.

local check = require("rbacmig.schema.check")
local argerror, check_name = check.argerror, check.check_name
local check_name_list, check_options = check.check_name_list, check.check_options
local postgresql_only, sorted_keys = check.postgresql_only, check.sorted_keys
local ddl = require("rbacmig.schema.ddl")
local column_list, q, qualified = ddl.column_list, ddl.q, ddl.qualified
local postgresql = require("rbacmig.schema.postgresql")
local argument_list, owner_role = postgresql.argument_list, postgresql.owner_role
local role_list = postgresql.role_list

local operations = {}
local function define(op, impl) operations[op] = impl end

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

-- Objects of ALTER DEFAULT PRIVILEGES: the SQL after ON and the privileges that apply.
local DEFAULT_OBJECTS = {
  tables = { sql = "TABLES", privileges = TABLE_PRIVILEGES },
  sequences = { sql = "SEQUENCES", privileges = SEQUENCE_PRIVILEGES },
  functions = { sql = "FUNCTIONS", privileges = FUNCTION_PRIVILEGES },
  types = { sql = "TYPES", privileges = { "usage", "all" } },
  schemas = { sql = "SCHEMAS", privileges = { "usage", "create", "all" } },
}

-- "ALTER DEFAULT PRIVILEGES [FOR ROLE r] [IN SCHEMA s] GRANT|REVOKE ..." up to the roles.
local function default_privileges(op, db, privileges, on, o)
  local objects = type(on) == "string" and DEFAULT_OBJECTS[on:lower()]
  if not objects then
    argerror(op, "on must be one of %s, got %s", sorted_keys(DEFAULT_OBJECTS), check.describe(on))
  end
  if o.schema and on:lower() == "schemas" then
    argerror(op, "option 'schema' does not apply to 'schemas' "
      .. "(PostgreSQL has no IN SCHEMA for them)")
  end
  local allowed = {}
  for _, p in ipairs(objects.privileges) do allowed[p] = true end
  local privs = {}
  for i, p in ipairs(check_name_list(op, "privileges", privileges, "privilege")) do
    if not allowed[p:lower()] then
      argerror(op, "privilege '%s' does not apply to '%s' (allowed: %s)", p, on:lower(),
        table.concat(objects.privileges, ", "))
    end
    privs[i] = p:upper()
  end
  local head = "ALTER DEFAULT PRIVILEGES"
  if o.for_role then
    local owners = check_name_list(op, "option 'for_role'", o.for_role, "role")
    for i, r in ipairs(owners) do owners[i] = owner_role(op, db, "option 'for_role'", r) end
    head = head .. " FOR ROLE " .. table.concat(owners, ", ")
  end
  if o.schema then
    local schemas = {}
    for i, s in ipairs(o.schema) do schemas[i] = q(db, s) end
    head = head .. " IN SCHEMA " .. table.concat(schemas, ", ")
  end
  return head, table.concat(privs, ", ") .. " ON " .. objects.sql
end

define("grant_default", function(op, db, privileges, on, roles, options)
  postgresql_only(op, db)
  local o = check_options(op, options, {
    schema = "names", for_role = "any", with_grant_option = "boolean",
  })
  local head, what = default_privileges(op, db, privileges, on, o)
  return db:exec(head .. " GRANT " .. what .. " TO " .. role_list(op, db, "roles", roles)
    .. (o.with_grant_option and " WITH GRANT OPTION" or ""))
end)

define("revoke_default", function(op, db, privileges, on, roles, options)
  postgresql_only(op, db)
  local o = check_options(op, options, {
    schema = "names", for_role = "any", grant_option_for = "boolean", cascade = "boolean",
  })
  local head, what = default_privileges(op, db, privileges, on, o)
  return db:exec(head .. " REVOKE " .. (o.grant_option_for and "GRANT OPTION FOR " or "") .. what
    .. " FROM " .. role_list(op, db, "roles", roles) .. (o.cascade and " CASCADE" or ""))
end)

-- Kinds of set_owner: the keyword after ALTER, and whether a name takes a schema.
local OWNED_KINDS = {
  table = { sql = "TABLE", qualify = true },
  view = { sql = "VIEW", qualify = true },
  materialized_view = { sql = "MATERIALIZED VIEW", qualify = true },
  sequence = { sql = "SEQUENCE", qualify = true },
  ["function"] = { sql = "FUNCTION", qualify = true, args = true },
  procedure = { sql = "PROCEDURE", qualify = true, args = true },
  schema = { sql = "SCHEMA" },
  type = { sql = "TYPE", qualify = true },
}

define("set_owner", function(op, db, kind_name, name, role, options)
  postgresql_only(op, db)
  local kind = type(kind_name) == "string" and OWNED_KINDS[kind_name:lower()]
  if not kind then
    argerror(op, "kind must be one of %s, got %s", sorted_keys(OWNED_KINDS),
      check.describe(kind_name))
  end
  check_name(op, kind_name:lower() .. " name", name)
  local owner = owner_role(op, db, "role", role)
  local o = check_options(op, options, { schema = "name", args = "any" })
  if o.schema and not kind.qualify then
    argerror(op, "option 'schema' does not apply to kind '%s'", kind_name)
  end
  if o.args ~= nil and not kind.args then
    argerror(op, "option 'args' applies to kinds function and procedure only")
  end
  local args = argument_list(op, "option 'args'", o.args)
  return db:exec("ALTER " .. kind.sql .. " " .. qualified(db, o.schema, name)
    .. (args and "(" .. args .. ")" or "") .. " OWNER TO " .. owner)
end)

return { operations = operations }
