-- rbacmig.schema.comments: COMMENT ON the objects the schema reader reads comments of
-- (PostgreSQL only: SQLite keeps no comments).
--
-- Depends on nothing but base, string, table and math: it runs inside the migration sandbox.

local check = require("rbacmig.schema.check")
local argerror, check_name, check_options = check.argerror, check.check_name, check.check_options
local describe, postgresql_only = check.describe, check.postgresql_only
local sorted_keys = check.sorted_keys
local ddl = require("rbacmig.schema.ddl")
local q, qualified, string_literal = ddl.q, ddl.qualified, ddl.string_literal
local argument_list = require("rbacmig.schema.postgresql").argument_list

local operations = {}
local function define(op, impl) operations[op] = impl end

-- Kinds: the SQL after COMMENT ON; `schema`: the name takes option schema; `args`: option
-- args applies; `on_table`: the object is named on a table (option table, required).
local KINDS = {
  table = { sql = "TABLE", schema = true },
  column = { sql = "COLUMN", schema = true },
  view = { sql = "VIEW", schema = true },
  materialized_view = { sql = "MATERIALIZED VIEW", schema = true },
  ["function"] = { sql = "FUNCTION", schema = true, args = true },
  procedure = { sql = "PROCEDURE", schema = true, args = true },
  schema = { sql = "SCHEMA" },
  type = { sql = "TYPE", schema = true },
  sequence = { sql = "SEQUENCE", schema = true },
  index = { sql = "INDEX", schema = true },
  policy = { sql = "POLICY", on_table = true },
  trigger = { sql = "TRIGGER", on_table = true },
  constraint = { sql = "CONSTRAINT", on_table = true },
}

define("comment_on", function(op, db, kind_name, name, text, options)
  postgresql_only(op, db)
  local kind = type(kind_name) == "string" and KINDS[kind_name:lower()]
  if not kind then
    argerror(op, "kind must be one of %s, got %s", sorted_keys(KINDS), describe(kind_name))
  end
  kind_name = kind_name:lower()
  check_name(op, kind_name .. " name", name)
  if text ~= nil and type(text) ~= "string" then
    argerror(op, "text must be a string, or nil to remove the comment, got %s", describe(text))
  end
  local o = check_options(op, options, { schema = "name", args = "any", table = "name" })
  if o.schema and not (kind.schema or kind.on_table) then
    argerror(op, "option 'schema' does not apply to kind '%s'", kind_name)
  end
  if o.args ~= nil and not kind.args then
    argerror(op, "option 'args' applies to kinds function and procedure only")
  end
  if kind.on_table and not o.table then
    argerror(op, "option 'table' is required for kind '%s' (its name is per table)", kind_name)
  elseif o.table and not kind.on_table then
    argerror(op, "option 'table' applies to kinds constraint, policy and trigger only")
  end

  local target
  if kind_name == "column" then
    local tbl, col = name:match("^([^.]+)%.([^.]+)$")
    if not tbl then argerror(op, "column name must be 'table.column', got %s", describe(name)) end
    target = qualified(db, o.schema, tbl) .. "." .. q(db, col)
  elseif kind.on_table then
    target = q(db, name) .. " ON " .. qualified(db, o.schema, o.table)
  else
    local args = argument_list(op, "option 'args'", o.args)
    target = qualified(db, o.schema, name) .. (args and "(" .. args .. ")" or "")
  end
  -- A comment is a literal: COMMENT takes no parameters. NULL removes it.
  return db:exec("COMMENT ON " .. kind.sql .. " " .. target .. " IS "
    .. (text == nil and "NULL" or string_literal(op, "text", text)))
end)

return { operations = operations }
