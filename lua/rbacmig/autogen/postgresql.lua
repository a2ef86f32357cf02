-- rbacmig.autogen.postgresql: the schema API calls that create, drop or change one object of a
-- PostgreSQL model (rbacmig.inspect.model), as Lua source. Each emitter returns a list of
-- steps { code = "db:...(...)" } (several when one object takes several calls), or
-- "replace" from change() when the object must be dropped and created again. What the schema
-- API cannot say yet goes through one fallback per kind (exec_*), which writes
-- db:exec([[...]]) from the server-printed definitions the model holds.
--
-- Pure: depends on nothing but base, string and table.

local emit = require("rbacmig.autogen.emit")
local names = require("rbacmig.autogen.names")
local code, fields, call = emit.code, emit.fields, emit.call

local M = {}

---------------------------------------------------------------------------------------------
-- SQL text for the fallbacks
---------------------------------------------------------------------------------------------

local function qi(name)
  if name:find("^[a-z_][a-z0-9_$]*$") then return name end
  return '"' .. name:gsub('"', '""') .. '"'
end

local function qn(id)
  local s, n = names.split_table("postgresql", id)
  if not s then return qi(id) end
  return qi(s) .. "." .. qi(n)
end

local function lit(s)
  return "'" .. s:gsub("'", "''") .. "'"
end

-- db:exec of one statement.
local function exec(ctx, sql)
  return { code = ctx.indent .. "db:exec(" .. emit.string(sql) .. ")" }
end

---------------------------------------------------------------------------------------------
-- Names and options shared by the calls
---------------------------------------------------------------------------------------------

-- The table's name and the `schema` option when it is not public.
local function tname(id)
  local s, n = names.split_table("postgresql", id)
  return n, s ~= "public" and s or nil
end

local function with_schema(list, schema)
  if schema then list[#list + 1] = { "schema", schema } end
  return fields(list)
end

-- Portable spellings for the server's type names, where the schema API has them.
local TYPE_NAMES = {
  ["timestamp with time zone"] = "timestamptz",
  ["timestamp without time zone"] = "timestamp",
  ["double precision"] = "double",
}

local function type_name(t)
  if TYPE_NAMES[t] then return TYPE_NAMES[t] end
  local n = t:match("^character varying%((%d+)%)$")
  if n then return "varchar(" .. n .. ")" end
  return t
end

-- A default the server printed, as the value a migration would write: 'x'::text is "x",
-- 42 is 42, true is true, now() is db.fn.now(); the rest is db.fn.raw(expression).
local function default_value(expr, col_type)
  local s, cast = expr:match("^'(.*)'::(.+)$")
  if s and not s:gsub("''", ""):find("'", 1, true) and (cast == col_type
      or cast == "character varying" and col_type:find("^character varying")) then
    return (s:gsub("''", "'"))
  end
  if expr:find("^%-?%d+$") and #expr < 16 then return math.tointeger(tonumber(expr)) end
  if expr == "true" then return true end
  if expr == "false" then return false end
  if expr == "now()" then return code("db.fn.now()") end
  if expr == "gen_random_uuid()" then return code("db.fn.uuid()") end
  return code("db.fn.raw(" .. emit.string(expr) .. ")")
end

-- Whether the schema API's column spec can say everything the column has.
local function plain_column(a)
  return not a.generated and not a.collation and (a.identity == nil
    or a.identity == "by default" and (a.type == "integer" or a.type == "bigint")
      and a.not_null and not a.default)
end

-- The column spec { name, type, not_null = ..., default = ... }.
local function column_spec(name, a, extra)
  local list = { { nil, name } }
  if a.identity then
    list[2] = { nil, a.type == "bigint" and "bigserial" or "serial" }
  else
    list[2] = { nil, type_name(a.type) }
    if a.not_null then list[#list + 1] = { "not_null", true } end
  end
  if a.default then list[#list + 1] = { "default", default_value(a.default, a.type) } end
  for _, kv in ipairs(extra or {}) do list[#list + 1] = kv end
  return fields(list)
end

-- ALTER TABLE ... ADD COLUMN for what the column spec cannot say.
local function column_sql(name, a)
  local s = qi(name) .. " " .. a.type
  if a.collation then s = s .. " COLLATE " .. a.collation end
  if a.generated then s = s .. " GENERATED ALWAYS AS (" .. a.generated .. ") STORED" end
  if a.identity then s = s .. " GENERATED " .. a.identity:upper() .. " AS IDENTITY" end
  if a.not_null then s = s .. " NOT NULL" end
  if a.default then s = s .. " DEFAULT " .. a.default end
  return s
end

local function comment_step(ctx, what, target, text)
  return exec(ctx, "COMMENT ON " .. what .. " " .. target .. " IS "
    .. (text and lit(text) or "NULL"))
end

---------------------------------------------------------------------------------------------
-- Constraints: the definition pg_get_constraintdef prints, taken apart where the schema API
-- has a call for it.
---------------------------------------------------------------------------------------------

local function parse_key(def, word)
  local cols = def:match("^" .. word .. " %(([^()]*)%)$")
  return cols and names.column_names(cols)
end

local ACTION = { CASCADE = "cascade", RESTRICT = "restrict", ["SET NULL"] = "set null",
  ["SET DEFAULT"] = "set default" }

local function parse_fk(def)
  local cols, ref, ref_cols, rest = def:match("^FOREIGN KEY %(([^()]*)%) REFERENCES ([^(]+)%(([^()]*)%)(.*)$")
  if not cols then return nil end
  local fk = { columns = names.column_names(cols), ref_columns = names.column_names(ref_cols) }
  if not fk.columns or not fk.ref_columns then return nil end
  local s, n = ref:match('^([^.]+)%.(.+)$')
  fk.ref_schema, fk.ref_table = s and names.unquote(s), names.unquote(n or ref)
  for _, clause in ipairs({ "UPDATE", "DELETE" }) do
    local action = rest:match("ON " .. clause .. " ([A-Z]+ ?[A-Z]*)")
    if action then
      action = action:match("^(SET [A-Z]+)") or action:match("^([A-Z]+)")
      if not ACTION[action] then return nil end
      fk["on_" .. clause:lower()] = ACTION[action]
      rest = rest:gsub(" ON " .. clause .. " " .. action, "", 1)
    end
  end
  if rest ~= "" then return nil end
  return fk
end

local function check_expr(def)
  local inner = def:match("^CHECK (.*)$")
  return inner and not inner:find("NO INHERIT$") and not inner:find("NOT VALID$")
    and names.unwrap(inner)
end

---------------------------------------------------------------------------------------------
-- Tables and columns
---------------------------------------------------------------------------------------------

-- Column order: the reader's positions where it kept them (hidden, not in the dump).
local positions = {}
local function position(id) return positions[id] or math.huge end

local function members(m, kind, table_id)
  local out, prefix = {}, table_id .. "."
  for id, a in pairs(m.objects[kind]) do
    if id:sub(1, #prefix) == prefix and not id:find(".", #prefix + 1, true) then
      out[#out + 1] = { name = id:sub(#prefix + 1), attrs = a, id = id }
    end
  end
  table.sort(out, function(x, y)
    local px, py = position(x.id), position(y.id)
    if px ~= py then return px < py end
    return x.name < y.name
  end)
  return out
end

local create = {}
local drop = {}
local change = {}

-- A new table: create_table with its columns, primary key, unique and check constraints;
-- what the spec cannot say follows as its own steps, in the same order a person would.
create.table = function(ctx, id, a)
  local name, schema = tname(id)
  positions = ctx.positions
  local steps, specs, later = {}, {}, {}
  local cons = members(ctx.to, "constraint", id)
  local inline = {}
  -- A one-column primary key with the default name is said on the column.
  local pk_col, pk_option
  for _, c in ipairs(cons) do
    if c.attrs.type == "primary key" then
      local cols = parse_key(c.attrs.definition, "PRIMARY KEY")
      if cols and #cols == 1 and c.name == name .. "_pkey" then
        pk_col = cols[1]
        inline[c.id] = true
      elseif cols then
        pk_option = c.name == name .. "_pkey" and cols or fields({ { "name", c.name },
          { "columns", cols } })
        inline[c.id] = true
      end
    end
  end
  for _, col in ipairs(members(ctx.to, "column", id)) do
    if plain_column(col.attrs) then
      local extra = {}
      if col.name == pk_col then extra[1] = { "primary_key", true } end
      specs[#specs + 1] = column_spec(col.name, col.attrs, extra)
    else
      later[#later + 1] = col
    end
  end
  if #specs == 0 or (pk_col and not specs[1]) then
    -- Nothing the schema API can say: the table as SQL.
    local cols = {}
    for _, col in ipairs(members(ctx.to, "column", id)) do
      cols[#cols + 1] = "    " .. column_sql(col.name, col.attrs)
    end
    for _, c in ipairs(cons) do inline[c.id] = nil end
    steps[1] = exec(ctx, "CREATE TABLE " .. qn(id) .. " (\n" .. table.concat(cols, ",\n") .. "\n)")
    later = {}
  else
    local opts = {}
    if pk_option then opts[#opts + 1] = { "primary_key", pk_option } end
    local uniques, checks = {}, {}
    for _, c in ipairs(cons) do
      if c.attrs.type == "unique" then
        local cols = parse_key(c.attrs.definition, "UNIQUE")
        if cols then
          uniques[#uniques + 1] = fields({ { "name", c.name }, { "columns", cols } })
          inline[c.id] = true
        end
      elseif c.attrs.type == "check" then
        local expr = check_expr(c.attrs.definition)
        if expr then
          checks[#checks + 1] = fields({ { "name", c.name }, { "expr", expr } })
          inline[c.id] = true
        end
      end
    end
    if #uniques > 0 then opts[#opts + 1] = { "unique", uniques } end
    if #checks > 0 then opts[#opts + 1] = { "checks", checks } end
    local args = { name, specs }
    local o = with_schema(opts, schema)
    if #o.list > 0 then args[3] = o end
    steps[1] = { code = call(ctx.indent, "create_table", args, { spread = true, spread_arg = 2 }) }
  end
  for _, col in ipairs(later) do
    steps[#steps + 1] = exec(ctx, "ALTER TABLE " .. qn(id) .. " ADD COLUMN "
      .. column_sql(col.name, col.attrs))
  end
  -- Constraints said here are not created again.
  ctx.done = ctx.done or {}
  for cid in pairs(inline) do ctx.done["constraint " .. cid] = true end
  for _, col in ipairs(members(ctx.to, "column", id)) do
    ctx.done["column " .. col.id] = true
    if col.attrs.comment then
      steps[#steps + 1] = comment_step(ctx, "COLUMN", qn(id) .. "." .. qi(col.name), col.attrs.comment)
    end
  end
  if a.rls then
    local o = with_schema(a.rls_forced and { { "force", true } } or {}, schema)
    steps[#steps + 1] = { code = call(ctx.indent, "enable_rls", #o.list > 0 and { name, o }
      or { name }) }
  elseif a.rls_forced then
    steps[#steps + 1] = exec(ctx, "ALTER TABLE " .. qn(id) .. " FORCE ROW LEVEL SECURITY")
  end
  if a.comment then steps[#steps + 1] = comment_step(ctx, "TABLE", qn(id), a.comment) end
  return steps
end

drop.table = function(ctx, id)
  local name, schema = tname(id)
  local args = { name }
  if schema then args[2] = fields({ { "schema", schema } }) end
  return { { code = call(ctx.indent, "drop_table", args) } }
end

change.table = function(ctx, id, before, after, changes)
  local name, schema = tname(id)
  local steps = {}
  for _, c in ipairs(changes) do
    local attr = c.attribute
    if attr == "rls" or attr == "rls_forced" then
      if not steps.rls then
        steps.rls = true
        if after.rls and not before.rls then
          local o = with_schema(after.rls_forced and { { "force", true } } or {}, schema)
          steps[#steps + 1] = { code = call(ctx.indent, "enable_rls", #o.list > 0
            and { name, o } or { name }) }
        elseif before.rls and not after.rls then
          steps[#steps + 1] = { code = call(ctx.indent, "disable_rls",
            schema and { name, fields({ { "schema", schema } }) } or { name }) }
          if after.rls_forced then
            steps[#steps + 1] = exec(ctx, "ALTER TABLE " .. qn(id) .. " FORCE ROW LEVEL SECURITY")
          end
        else
          steps[#steps + 1] = exec(ctx, "ALTER TABLE " .. qn(id) .. (after.rls_forced and " FORCE"
            or " NO FORCE") .. " ROW LEVEL SECURITY")
        end
      end
    elseif attr == "comment" then
      steps[#steps + 1] = comment_step(ctx, "TABLE", qn(id), after.comment)
    elseif attr == "owner" then
      steps[#steps + 1] = exec(ctx, "ALTER TABLE " .. qn(id) .. " OWNER TO " .. qi(after.owner))
    elseif attr == "unlogged" then
      steps[#steps + 1] = exec(ctx, "ALTER TABLE " .. qn(id) .. " SET "
        .. (after.unlogged and "UNLOGGED" or "LOGGED"))
    else
      return "replace"
    end
  end
  return steps
end

create.column = function(ctx, id, a)
  if ctx.done and ctx.done["column " .. id] then return {} end
  local t, col = names.split_member(id)
  local name, schema = tname(t)
  local steps = {}
  if plain_column(a) then
    local args = { name, column_spec(col, a) }
    if schema then args[3] = fields({ { "schema", schema } }) end
    steps[1] = { code = call(ctx.indent, "add_column", args) }
  else
    steps[1] = exec(ctx, "ALTER TABLE " .. qn(t) .. " ADD COLUMN " .. column_sql(col, a))
  end
  if a.comment then
    steps[#steps + 1] = comment_step(ctx, "COLUMN", qn(t) .. "." .. qi(col), a.comment)
  end
  return steps
end

drop.column = function(ctx, id)
  local t, col = names.split_member(id)
  local name, schema = tname(t)
  local args = { name, col }
  if schema then args[3] = fields({ { "schema", schema } }) end
  return { { code = call(ctx.indent, "drop_column", args) } }
end

change.column = function(ctx, id, before, after, changes)
  local t, col = names.split_member(id)
  local name, schema = tname(t)
  local opts, steps = {}, {}
  for _, c in ipairs(changes) do
    local attr = c.attribute
    if attr == "type" then
      opts[#opts + 1] = { "type", type_name(after.type) }
    elseif attr == "not_null" then
      opts[#opts + 1] = { "not_null", after.not_null == true }
    elseif attr == "default" then
      if after.default then
        opts[#opts + 1] = { "default", default_value(after.default, after.type) }
      else
        opts[#opts + 1] = { "drop_default", true }
      end
    elseif attr == "comment" then
      steps[#steps + 1] = comment_step(ctx, "COLUMN", qn(t) .. "." .. qi(col), after.comment)
    else
      return "replace"
    end
  end
  if #opts > 0 then
    -- The type first: a default of the new type can only follow it.
    table.sort(opts, function(x, y)
      local rank = { type = 1, drop_default = 2, default = 3, not_null = 4 }
      return rank[x[1]] < rank[y[1]]
    end)
    table.insert(steps, 1, { code = call(ctx.indent, "alter_column",
      { name, col, with_schema(opts, schema) }) })
  end
  return steps
end

---------------------------------------------------------------------------------------------
-- Constraints and indexes
---------------------------------------------------------------------------------------------

create.constraint = function(ctx, id, a)
  if ctx.done and ctx.done["constraint " .. id] then return {} end
  local t, con = names.split_member(id)
  local name, schema = tname(t)
  local def = a.definition
  local steps
  local function with(args, list)
    local o = with_schema(list or {}, schema)
    if #o.list > 0 then args[#args + 1] = o end
    return args
  end
  if a.type == "unique" and parse_key(def, "UNIQUE") then
    steps = { { code = call(ctx.indent, "create_unique_constraint",
      with({ name, con, parse_key(def, "UNIQUE") })) } }
  elseif a.type == "check" and check_expr(def) then
    steps = { { code = call(ctx.indent, "create_check_constraint",
      with({ name, con, check_expr(def) })) } }
  elseif a.type == "foreign key" and parse_fk(def) then
    local fk = parse_fk(def)
    local list = {}
    if fk.on_delete then list[#list + 1] = { "on_delete", fk.on_delete } end
    if fk.on_update then list[#list + 1] = { "on_update", fk.on_update } end
    if fk.ref_schema then list[#list + 1] = { "references_schema", fk.ref_schema } end
    steps = { { code = call(ctx.indent, "create_foreign_key",
      with({ name, con, fk.columns, fk.ref_table, fk.ref_columns }, list)) } }
  else
    steps = { exec(ctx, "ALTER TABLE " .. qn(t) .. " ADD CONSTRAINT " .. qi(con) .. " " .. def) }
  end
  if a.comment then
    steps[#steps + 1] = comment_step(ctx, "CONSTRAINT " .. qi(con) .. " ON", qn(t), a.comment)
  end
  return steps
end

drop.constraint = function(ctx, id)
  local t, con = names.split_member(id)
  local name, schema = tname(t)
  local args = { name, con }
  if schema then args[3] = fields({ { "schema", schema } }) end
  return { { code = call(ctx.indent, "drop_constraint", args) } }
end

change.constraint = function(ctx, id, before, after, changes)
  if #changes == 1 and changes[1].attribute == "comment" then
    local t, con = names.split_member(id)
    return { comment_step(ctx, "CONSTRAINT " .. qi(con) .. " ON", qn(t), after.comment) }
  end
  return "replace"
end

-- CREATE [UNIQUE] INDEX name ON [ONLY] s.t USING method (elements) [WHERE (pred)]
local function parse_index(def)
  local unique, rest = def:match("^CREATE (U?N?I?Q?U?E? ?)INDEX (.*)$")
  if not rest then return nil end
  local iname, tbl, method, tail = rest:match("^(%S+) ON (%S+) USING (%S+) (.*)$")
  if not iname then return nil end
  local elements = tail:match("^(%b())")
  if not elements then return nil end
  tail = tail:sub(#elements + 1)
  local where
  if tail ~= "" then
    where = tail:match("^ WHERE (.*)$")
    if not where then return nil end
    where = names.unwrap(where) or where
  end
  local list = {}
  for i, e in ipairs(names.split_top(elements:sub(2, -2))) do
    if e:find("^[%a_][%w_$]*$") or e:find('^"[^"]*"$') then list[i] = names.unquote(e)
    else list[i] = fields({ { "expr", e } }) end
  end
  return { unique = unique ~= "", name = names.unquote(iname), method = method,
    elements = list, where = where }
end

create.index = function(ctx, id, a)
  local t = names.split_member(id)
  local name, schema = tname(t)
  local ix = parse_index(a.definition)
  local steps
  if ix then
    local list = { { "name", ix.name } }
    if ix.unique then list[#list + 1] = { "unique", true } end
    if ix.method ~= "btree" then list[#list + 1] = { "method", ix.method } end
    if ix.where then list[#list + 1] = { "where", ix.where } end
    local cols = ix.elements
    if #cols == 1 and type(cols[1]) == "string" then cols = cols[1] end
    steps = { { code = call(ctx.indent, "create_index", { name, cols, with_schema(list, schema) }) } }
  else
    steps = { exec(ctx, a.definition) }
  end
  if a.comment then
    local _, iname = names.split_member(id)
    local s = names.split_table("postgresql", t)
    steps[#steps + 1] = comment_step(ctx, "INDEX", qi(s) .. "." .. qi(iname), a.comment)
  end
  return steps
end

drop.index = function(ctx, id)
  local t, iname = names.split_member(id)
  local _, schema = tname(t)
  local args = { iname }
  if schema then args[2] = fields({ { "schema", schema } }) end
  return { { code = call(ctx.indent, "drop_index", args) } }
end

change.index = function(ctx, id, before, after, changes)
  if #changes == 1 and changes[1].attribute == "comment" then
    local t, iname = names.split_member(id)
    local s = names.split_table("postgresql", t)
    return { comment_step(ctx, "INDEX", qi(s) .. "." .. qi(iname), after.comment) }
  end
  return "replace"
end

M.create, M.drop, M.change = create, drop, change
M.qi, M.qn, M.lit, M.exec, M.tname, M.with_schema = qi, qn, lit, exec, tname, with_schema
M.comment_step = comment_step
return M
