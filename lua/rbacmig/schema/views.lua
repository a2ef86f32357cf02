-- rbacmig.schema.views: views on both dialects and, on PostgreSQL, materialized views and the
-- view options the catalog keeps (security_invoker, security_barrier, check_option).
--
-- Depends on nothing but base, string, table and math: it runs inside the migration sandbox.

local check = require("rbacmig.schema.check")
local argerror, check_name, check_options = check.argerror, check.check_name, check.check_options
local dialect_of, refuse_on_sqlite = check.dialect_of, check.refuse_on_sqlite
local ddl = require("rbacmig.schema.ddl")
local qualified = ddl.qualified

local operations = {}
local function define(op, impl) operations[op] = impl end

local CREATE_VIEW_OPTIONS = {
  as = "sql", materialized = "boolean", security_invoker = "boolean",
  security_barrier = "boolean", check_option = { ["local"] = "LOCAL", cascaded = "CASCADED" },
  replace = "boolean", with_data = "boolean", options = "sql", schema = "name",
}

-- What only a plain PostgreSQL view takes (a materialized view stores rows; it has no
-- OR REPLACE, is not updatable and is read by its owner's rights when refreshed).
local PLAIN_VIEW_ONLY = { "replace", "security_invoker", "security_barrier", "check_option" }

define("create_view", function(op, db, name, options)
  local d = dialect_of(op, db)
  check_name(op, "view name", name)
  local o = check_options(op, options, CREATE_VIEW_OPTIONS)
  if o.as == nil then argerror(op, "option 'as' (the view's query) is required") end
  refuse_on_sqlite(op, d, o, "materialized", "security_invoker", "security_barrier",
    "check_option", "replace", "with_data", "options", "schema")
  if o.materialized then
    for _, key in ipairs(PLAIN_VIEW_ONLY) do
      if o[key] ~= nil and o[key] ~= false then
        argerror(op, "option '%s' does not apply to a materialized view", key)
      end
    end
  elseif o.with_data ~= nil then
    argerror(op, "option 'with_data' applies to a materialized view only (materialized = true)")
  end
  -- The query as written, without the terminating ';' a catalog definition (pg_get_viewdef)
  -- carries; a clause after it starts a line of its own, past any trailing -- comment.
  local query = o.as:gsub("[%s;]+$", "")
  local tail = ""
  if o.check_option then tail = "\nWITH " .. o.check_option .. " CHECK OPTION" end
  if o.with_data == false then tail = "\nWITH NO DATA" end

  -- Both view options are written when given, false too: the catalog keeps what is written,
  -- and the reader reads `security_invoker=false` apart from no option at all.
  local with = {}
  for _, key in ipairs({ "security_barrier", "security_invoker" }) do
    if d == "postgresql" and o[key] ~= nil then
      with[#with + 1] = key .. "=" .. tostring(o[key])
    end
  end
  -- Other parameters as SQL ("fillfactor=70" for a materialized view), as the reader keeps them.
  if o.options then with[#with + 1] = o.options end
  return db:exec("CREATE " .. (o.replace and "OR REPLACE " or "")
    .. (o.materialized and "MATERIALIZED " or "") .. "VIEW " .. qualified(db, o.schema, name)
    .. (#with > 0 and " WITH (" .. table.concat(with, ", ") .. ")" or "")
    .. " AS\n" .. query .. tail)
end)

define("drop_view", function(op, db, name, options)
  local d = dialect_of(op, db)
  check_name(op, "view name", name)
  local o = check_options(op, options, {
    materialized = "boolean", if_exists = "boolean", cascade = "boolean", schema = "name",
  })
  refuse_on_sqlite(op, d, o, "materialized", "cascade", "schema")
  return db:exec("DROP " .. (o.materialized and "MATERIALIZED " or "") .. "VIEW "
    .. (o.if_exists and "IF EXISTS " or "") .. qualified(db, o.schema, name)
    .. (o.cascade and " CASCADE" or ""))
end)

return { operations = operations }
