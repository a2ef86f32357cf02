-- rbacmig.autogen.sqlite: the schema API calls that create, drop or change one object of a
-- SQLite model (rbacmig.inspect.model), as Lua source; the counterpart of
-- rbacmig.autogen.postgresql. SQLite's model keeps declared types, defaults and definitions
-- as written; the schema API's own rebuild (schema/sqlite_rebuild.lua) does what SQLite's
-- ALTER TABLE cannot (alter_column, constraints), so a change here is one call as on
-- PostgreSQL. What the API cannot say is written as SQL through db:exec.
--
-- Pure: depends on nothing but base, string and table.

local emit = require("rbacmig.autogen.emit")
local names = require("rbacmig.autogen.names")
local ddl = require("rbacmig.schema.ddl")
local code, fields, call, exec = emit.code, emit.fields, emit.call, emit.exec_step

local M = {}

local function qi(name) return names.quote("sqlite", name) end

-- Declared types the schema API spells the same way (its portable name, lower case).
local PORTABLE = { INTEGER = "integer", TEXT = "text", REAL = "real", BLOB = "blob",
  NUMERIC = "numeric", VARCHAR = "varchar" }

local function type_name(t)
  local base, args = t:match("^(%a+)(%b())$")
  if not base then base = t:match("^(%a+)$") end
  local p = base and PORTABLE[base]
  if not p then return nil end
  if args then
    if not args:find("^%(%d+%)$") and not args:find("^%(%d+,%d+%)$") then return nil end
    return p .. args
  end
  return p
end

local UUID = ddl.default_sql("sqlite", ddl.fn.uuid())

-- A default as SQLite keeps it, as the value a migration would write.
local function default_value(expr)
  local s = expr:match("^'(.*)'$")
  if s and not s:gsub("''", ""):find("'", 1, true) then return (s:gsub("''", "'")) end
  if expr:find("^%-?%d+$") and #expr < 16 then return math.tointeger(tonumber(expr)) end
  -- A decimal the schema API writes back the same way (it writes the shortest form).
  if expr:find("^%-?%d+%.%d+$") and ddl.default_sql("sqlite", tonumber(expr)) == expr then
    return tonumber(expr)
  end
  if expr:upper() == "CURRENT_TIMESTAMP" then return code("db.fn.now()") end
  -- SQLite's table_info gives a parenthesised default without its parentheses.
  if expr == UUID or "(" .. expr .. ")" == UUID then return code("db.fn.uuid()") end
  -- Any other expression as the SQL it is: db.fn.raw writes it parenthesised, which SQLite
  -- reads back as it was.
  return code("db.fn.raw(" .. emit.string(names.unwrap(expr) or expr) .. ")")
end

local function members(m, kind, t)
  local out, prefix = {}, t .. "."
  for id, a in pairs(m.objects[kind]) do
    if id:sub(1, #prefix) == prefix then
      out[#out + 1] = { name = id:sub(#prefix + 1), attrs = a, id = id }
    end
  end
  local positions = m.positions or {}
  table.sort(out, function(x, y)
    local px, py = positions[x.id] or math.huge, positions[y.id] or math.huge
    if px ~= py then return px < py end
    return x.id < y.id
  end)
  return out
end

-- "p(id)" -> "p", { "id" } (nil columns for the referenced table's primary key).
local function parse_ref(ref)
  local t, cols = ref:match("^(.-)%((.*)%)$")
  if cols == "(primary key)" then return t, nil end
  return t, names.split_top(cols)
end

-- A column spec, or nil when the schema API cannot say it.
local function column_spec(name, a, pk, checks)
  local list = { { nil, name } }
  if a.autoincrement then
    if not pk or a.type ~= "INTEGER" or a.default or a.not_null then return nil end
    list[2] = { nil, "serial" }
    list[3] = { "primary_key", true }
  else
    local t = type_name(a.type)
    if not t or a.generated or a.collation then return nil end
    list[2] = { nil, t }
    -- The schema API makes a primary key column NOT NULL: one that may hold NULL is SQL.
    if pk then
      if not a.not_null then return nil end
      list[#list + 1] = { "primary_key", true }
    elseif a.not_null then
      list[#list + 1] = { "not_null", true }
    end
  end
  if a.default then
    local v = default_value(a.default)
    if v == nil then return nil end
    list[#list + 1] = { "default", v }
  end
  if checks and checks[name] then list[#list + 1] = { "check", checks[name] } end
  return fields(list)
end

-- The table as SQL, for what the schema API cannot say.
local function table_sql(m, t, a, as_name)
  local lines = {}
  for _, col in ipairs(members(m, "column", t)) do
    local c = col.attrs
    local s = qi(col.name) .. (c.type ~= "" and " " .. c.type or "")
    if c.autoincrement then s = s .. " PRIMARY KEY AUTOINCREMENT" end
    if c.not_null then s = s .. " NOT NULL" end
    if c.default then s = s .. " DEFAULT " .. c.default end
    if c.collation then s = s .. " COLLATE " .. c.collation end
    if c.generated then
      s = s .. " GENERATED ALWAYS AS " .. c.generated .. (c.stored and " STORED" or "")
    end
    lines[#lines + 1] = s
  end
  for _, con in ipairs(members(m, "constraint", t)) do
    local c = con.attrs
    if c.type == "primary key" and not (m.objects.column[t .. "." .. c.columns[1]] or {}).autoincrement then
      local cols = {}
      for i, n in ipairs(c.columns) do cols[i] = qi(n) end
      lines[#lines + 1] = "PRIMARY KEY (" .. table.concat(cols, ", ") .. ")"
    elseif c.type == "unique" then
      local cols = {}
      for i, n in ipairs(c.columns) do cols[i] = qi(n) end
      lines[#lines + 1] = "UNIQUE (" .. table.concat(cols, ", ") .. ")"
    elseif c.type == "check" then
      local named = not con.name:find("^check")
      lines[#lines + 1] = (named and "CONSTRAINT " .. qi(con.name) .. " " or "") .. "CHECK "
        .. c.definition
    elseif c.type == "foreign key" then
      local cols = {}
      for i, n in ipairs(c.columns) do cols[i] = qi(n) end
      local rt, rcols = parse_ref(c.references)
      local s = "FOREIGN KEY (" .. table.concat(cols, ", ") .. ") REFERENCES " .. qi(rt)
      if rcols then s = s .. " (" .. table.concat(rcols, ", ") .. ")" end
      if c.on_delete ~= "NO ACTION" then s = s .. " ON DELETE " .. c.on_delete end
      if c.on_update ~= "NO ACTION" then s = s .. " ON UPDATE " .. c.on_update end
      lines[#lines + 1] = s
    end
  end
  return "CREATE TABLE " .. qi(as_name or t) .. " (\n    " .. table.concat(lines, ",\n    ") .. "\n)"
    .. (a.without_rowid and " WITHOUT ROWID" or "") .. (a.strict and (a.without_rowid and ","
    or "") .. " STRICT" or "")
end

local ACTIONS = { CASCADE = "cascade", RESTRICT = "restrict", ["SET NULL"] = "set null",
  ["SET DEFAULT"] = "set default" }

local create, drop, change = {}, {}, {}

create.table = function(ctx, t, a)
  local m = ctx.to
  local pk = m.objects.constraint[t .. ".primary key"]
  local single_pk = pk and #pk.columns == 1 and pk.columns[1]
  local col_checks, checks, uniques, fks = {}, {}, {}, {}
  local ok = not a.strict
  for _, con in ipairs(members(m, "constraint", t)) do
    local c = con.attrs
    if c.type == "check" then
      local expr = names.unwrap(c.definition)
      local named = not con.name:find("^check")
      if not expr then ok = false
      elseif c.column and not named and not col_checks[c.column] then col_checks[c.column] = expr
      elseif c.column then ok = false
      elseif named then checks[#checks + 1] = fields({ { "name", con.name }, { "expr", expr } })
      else checks[#checks + 1] = expr end
    elseif c.type == "unique" then
      uniques[#uniques + 1] = c.columns
    elseif c.type == "foreign key" then
      local rt, rcols = parse_ref(c.references)
      local list = { { "columns", c.columns }, { "references_table", rt } }
      if rcols then list[#list + 1] = { "references_columns", rcols } end
      for _, act in ipairs({ "on_delete", "on_update" }) do
        if c[act] ~= "NO ACTION" then
          if not ACTIONS[c[act]] then ok = false end
          list[#list + 1] = { act, ACTIONS[c[act]] }
        end
      end
      if c.match then ok = false end
      fks[#fks + 1] = fields(list)
    end
  end
  local specs = {}
  for _, col in ipairs(members(m, "column", t)) do
    local spec = ok and column_spec(col.name, col.attrs, col.name == single_pk, col_checks)
    if not spec then ok = false break end
    specs[#specs + 1] = spec
  end
  if pk and not single_pk then
    for _, c in ipairs(pk.columns) do
      if not m.objects.column[t .. "." .. c].not_null then ok = false end
    end
  end
  -- Either way the table's statement says its columns and constraints: they are not
  -- created again one by one (which SQLite could not do for a primary key, say).
  ctx.done = ctx.done or {}
  for _, kind in ipairs({ "column", "constraint" }) do
    for _, x in ipairs(members(m, kind, t)) do ctx.done[kind .. " " .. x.id] = true end
  end
  if not ok then return { exec(ctx, table_sql(m, t, a)) } end
  local opts = {}
  if pk and not single_pk then opts[#opts + 1] = { "primary_key", pk.columns } end
  if #uniques > 0 then opts[#opts + 1] = { "unique", uniques } end
  if #checks > 0 then opts[#opts + 1] = { "checks", checks } end
  if #fks > 0 then opts[#opts + 1] = { "foreign_keys", fks } end
  if a.without_rowid then opts[#opts + 1] = { "without_rowid", true } end
  local args = { t, specs }
  if #opts > 0 then args[3] = fields(opts) end
  return { { code = call(ctx.indent, "create_table", args, { spread = true, spread_arg = 2 }) } }
end

drop.table = function(ctx, t)
  return { { code = call(ctx.indent, "drop_table", { t }) } }
end

change.table = function()
  return "replace"
end

create.column = function(ctx, id, a)
  if ctx.done and ctx.done["column " .. id] then return {} end
  local t, col = id:match("^([^.]*)%.(.*)$")
  local spec = column_spec(col, a, false)
  if spec then return { { code = call(ctx.indent, "add_column", { t, spec }, { one_line = true }) } } end
  -- What the schema API cannot say (a BLOB literal default, a declared type of its own) is
  -- still SQLite's ALTER TABLE ADD COLUMN when the column is plain: a constant default, and
  -- NOT NULL only with a default. Anything else is the table's rebuild (rbacmig.autogen).
  local d = a.default
  local constant = not d or d:find("^'.*'$") or d:find("^[xX]'%x*'$")
    or d:find("^[-+]?[%d.]+$") or d:upper() == "NULL"
  if not a.autoincrement and not a.generated and constant and (d or not a.not_null) then
    local c = qi(col) .. (a.type ~= "" and " " .. a.type or "") .. (a.not_null and " NOT NULL" or "")
      .. (d and " DEFAULT " .. d or "") .. (a.collation and " COLLATE " .. a.collation or "")
    return { exec(ctx, "ALTER TABLE " .. qi(t) .. " ADD COLUMN " .. c) }
  end
  return "unsupported"
end

drop.column = function(ctx, id)
  local t, col = id:match("^([^.]*)%.(.*)$")
  return { { code = call(ctx.indent, "drop_column", { t, col }) } }
end

change.column = function(ctx, id, before, after, changes)
  local t, col = id:match("^([^.]*)%.(.*)$")
  local opts = {}
  for _, c in ipairs(changes) do
    if c.attribute == "type" then
      local tn = type_name(after.type)
      if not tn then return "unsupported" end
      opts[#opts + 1] = { "type", tn }
    elseif c.attribute == "not_null" then
      opts[#opts + 1] = { "not_null", after.not_null == true }
    elseif c.attribute == "default" then
      if after.default then
        local v = default_value(after.default)
        if v == nil then return "unsupported" end
        opts[#opts + 1] = { "default", v }
      else
        opts[#opts + 1] = { "drop_default", true }
      end
    else
      return "unsupported"
    end
  end
  return { { code = call(ctx.indent, "alter_column", { t, col, fields(opts) }) } }
end

create.constraint = function(ctx, id, a)
  if ctx.done and ctx.done["constraint " .. id] then return {} end
  local t, rest = id:match("^([^.]*)%.(.*)$")
  if a.type == "check" and not a.column then
    local expr = names.unwrap(a.definition)
    local name = not rest:find("^check") and rest
    if expr and name then
      return { { code = call(ctx.indent, "create_check_constraint", { t, name, expr }) } }
    end
  elseif a.type == "unique" then
    return { { code = call(ctx.indent, "create_unique_constraint",
      { t, t .. "_" .. table.concat(a.columns, "_") .. "_key", a.columns }) } }
  elseif a.type == "foreign key" then
    local rt, rcols = parse_ref(a.references)
    if rcols and not a.match then
      local list = {}
      for _, act in ipairs({ "on_delete", "on_update" }) do
        if a[act] ~= "NO ACTION" then
          if not ACTIONS[a[act]] then return "unsupported" end
          list[#list + 1] = { act, ACTIONS[a[act]] }
        end
      end
      local args = { t, t .. "_" .. table.concat(a.columns, "_") .. "_fkey", a.columns, rt, rcols }
      if #list > 0 then args[6] = fields(list) end
      return { { code = call(ctx.indent, "create_foreign_key", args) } }
    end
  end
  return "unsupported"
end

drop.constraint = function(ctx, id, a)
  local t, rest = id:match("^([^.]*)%.(.*)$")
  if a.type == "check" and not rest:find("^check") then
    return { { code = call(ctx.indent, "drop_constraint", { t, rest }) } }
  end
  return "unsupported"
end

change.constraint = function()
  return "replace"
end

-- Indexes and triggers: SQLite keeps the statement, which is what creates them again.
create.index = function(ctx, id, a) return { exec(ctx, a.definition) } end
drop.index = function(ctx, id)
  local _, name = id:match("^([^.]*)%.(.*)$")
  return { { code = call(ctx.indent, "drop_index", { name }) } }
end
change.index = function() return "replace" end

create.trigger = function(ctx, id, a) return { exec(ctx, a.definition) } end
drop.trigger = function(ctx, id)
  local _, name = id:match("^([^.]*)%.(.*)$")
  return { exec(ctx, "DROP TRIGGER " .. qi(name)) }
end
change.trigger = function() return "replace" end

create.view = function(ctx, id, a) return { exec(ctx, a.definition) } end
drop.view = function(ctx, id) return { exec(ctx, "DROP VIEW " .. qi(id)) } end
change.view = function() return "replace" end

-- A table whose columns or constraints change beyond what ALTER TABLE and the schema API's
-- rebuild can say (an unnamed constraint dropped, a column's collation): the table built
-- anew from its declaration and the rows copied, as SQLite's manual describes. Its indexes
-- and triggers, and the views and triggers over it, are dropped before and created after
-- (rbacmig.autogen). A table other tables reference would lose their rows' references with
-- foreign keys on, so that one is refused.
function M.rebuild(ctx, t)
  local from, to = ctx.from, ctx.to
  local children = {}
  for id, c in pairs(to.objects.constraint) do
    local owner = id:match("^([^.]*)%.")
    if c.type == "foreign key" and owner ~= t and parse_ref(c.references) == t then
      children[#children + 1] = owner
    end
  end
  if #children > 0 then
    table.sort(children)
    error({ kind = "refused", lines = { string.format("table %s must be rebuilt on sqlite and "
      .. "%s reference it: write that step by hand with foreign keys off", t,
      table.concat(children, ", ")) } }, 0)
  end
  local tmp = "_rbacmig_new_" .. t
  local cols = {}
  for _, col in ipairs(members(to, "column", t)) do
    if from.objects.column[col.id] and not col.attrs.generated then cols[#cols + 1] = qi(col.name) end
  end
  local list = table.concat(cols, ", ")
  return {
    exec(ctx, table_sql(to, t, to.objects.table[t], tmp)),
    exec(ctx, "INSERT INTO " .. qi(tmp) .. " (" .. list .. ") SELECT " .. list .. " FROM " .. qi(t)),
    exec(ctx, "DROP TABLE " .. qi(t)),
    exec(ctx, "ALTER TABLE " .. qi(tmp) .. " RENAME TO " .. qi(t)),
  }
end

M.create, M.drop, M.change = create, drop, change
return M
