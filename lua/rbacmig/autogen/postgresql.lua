-- rbacmig.autogen.postgresql: the schema API calls that create, drop or change one object of a
-- PostgreSQL model (rbacmig.inspect.model), as Lua source. Each emitter returns a list of
-- steps { code = "db:...(...)" } (several when one object takes several calls), or
-- "replace" from change() when the object must be dropped and created again. What the schema
-- API cannot say (a constraint or an index beyond its calls, a function with an SQL-standard
-- body) is written as db:exec([[...]]) from the server-printed definitions the model holds.
--
-- Pure: depends on nothing but base, string and table.

local emit = require("rbacmig.autogen.emit")
local names = require("rbacmig.autogen.names")
local code, fields, call, exec = emit.code, emit.fields, emit.call, emit.exec_step

local M = {}

---------------------------------------------------------------------------------------------
-- SQL text for the fallbacks
---------------------------------------------------------------------------------------------

local function qi(name) return names.quote("postgresql", name) end

local function qn(id)
  local s, n = names.split_table("postgresql", id)
  if not s then return qi(id) end
  return qi(s) .. "." .. qi(n)
end

local function lit(s)
  return "'" .. s:gsub("'", "''") .. "'"
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

-- The arguments of a call on an object in a schema, or on a member of a table (id is then the
-- table's): its name first, then `args`, then the options `extra` with { schema = s } when
-- it is not public, left out when there are none.
local function named_args(id, args, extra)
  local n, schema = tname(id)
  local list = extra or {}
  table.insert(args, 1, n)
  local o = with_schema(list, schema)
  if #o.list > 0 then args[#args + 1] = o end
  return args
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
  return not (a.identity and a.default) and not (a.generated and a.default)
end

-- serial and bigserial are what a migration says for the usual identity column.
local function serial(a)
  return a.identity == "by default" and (a.type == "integer" or a.type == "bigint")
end

-- The column spec { name, type, not_null = ..., default = ... }.
local function column_spec(name, a, extra)
  local list = { { nil, name } }
  if serial(a) then
    list[2] = { nil, a.type == "bigint" and "bigserial" or "serial" }
  else
    list[2] = { nil, type_name(a.type) }
  end
  -- A primary key column is NOT NULL without saying so.
  local pk = false
  for _, kv in ipairs(extra or {}) do
    list[#list + 1] = kv
    if kv[1] == "primary_key" then pk = true end
  end
  if a.identity and not serial(a) then list[#list + 1] = { "identity", a.identity } end
  if a.not_null and not a.identity and not pk then list[#list + 1] = { "not_null", true } end
  if a.default then list[#list + 1] = { "default", default_value(a.default, a.type) } end
  if a.generated then list[#list + 1] = { "generated", names.unwrap(a.generated) or a.generated } end
  if a.collation then
    list[#list + 1] = { "collation", (a.collation:gsub('^pg_catalog%.', ""):gsub('"', "")) }
  end
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

-- The kind word, name and options with which comment_on and set_owner name an object that
-- is not a table's member: a schema, a function or procedure (by its argument types), or
-- an object named schema.name.
local OBJECT_KIND = { enum = "type" }

local function object_ref(kind, id, a)
  local word, list = OBJECT_KIND[kind] or kind, {}
  if kind == "schema" then return word, id, list end
  if kind == "function" then
    local s, n, fargs = names.split_function(id)
    if a and a.kind == "procedure" then word = "procedure" end
    list[#list + 1] = { "args", fargs }
    if s ~= "public" then list[#list + 1] = { "schema", s } end
    return word, n, list
  end
  if kind == "view" and a and a.kind == "materialized view" then word = "materialized_view" end
  local n, schema = tname(id)
  if schema then list[#list + 1] = { "schema", schema } end
  return word, n, list
end

-- db:comment_on for an object of the model: kind and identity as the model has them.
local function comment_step(ctx, kind, id, text, a)
  local word, name, list = kind, nil, {}
  if kind == "column" then
    local t, c = names.split_member(id)
    local tn, schema = tname(t)
    name = tn .. "." .. c
    if schema then list[#list + 1] = { "schema", schema } end
  elseif kind == "constraint" or kind == "trigger" or kind == "policy" then
    local t, n = names.split_member(id)
    local tn, schema = tname(t)
    name = n
    list[#list + 1] = { "table", tn }
    if schema then list[#list + 1] = { "schema", schema } end
  elseif kind == "index" then
    local t, n = names.split_member(id)
    local _, schema = tname(t)
    name = n
    if schema then list[#list + 1] = { "schema", schema } end
  else
    word, name, list = object_ref(kind, id, a)
  end
  local args = { word, name, text == nil and code("nil") or text }
  if #list > 0 then args[4] = fields(list) end
  return { code = call(ctx.indent, "comment_on", args) }
end

-- db:set_owner for an object of the model.
local function owner_step(ctx, kind, id, role, a)
  local word, name, list = object_ref(kind, id, a)
  local args = { word, name, role }
  if #list > 0 then args[4] = fields(list) end
  return { code = call(ctx.indent, "set_owner", args) }
end

-- `steps` to make a new object, and after them its comment when it has one.
local function with_comment(ctx, steps, kind, id, a)
  if a.comment then steps[#steps + 1] = comment_step(ctx, kind, id, a.comment, a) end
  return steps
end

-- The step for a changed comment or owner; nil for any other attribute.
local function comment_or_owner_step(ctx, kind, id, attr, after)
  if attr == "comment" then return comment_step(ctx, kind, id, after.comment, after) end
  if attr == "owner" then return owner_step(ctx, kind, id, after.owner, after) end
  return nil
end

-- drop.X for a table's member (a column, constraint, trigger or policy):
-- db:drop_X(table, name).
local function drop_member(kind)
  return function(ctx, id)
    local t, name = names.split_member(id)
    return { { code = call(ctx.indent, "drop_" .. kind, named_args(t, { name })) } }
  end
end

-- change.X for a table's member whose comment alone can change in place: any other change
-- makes it again.
local function comment_or_replace(kind)
  return function(ctx, id, before, after, changes)
    if #changes == 1 and changes[1].attribute == "comment" then
      return { comment_step(ctx, kind, id, after.comment) }
    end
    return "replace"
  end
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
  if not inner or inner:find("NO INHERIT$") or inner:find("NOT VALID$") then return nil end
  inner = names.unwrap(inner)
  -- The server wraps the expression twice: CHECK ((a > 0)).
  return inner and names.unwrap(inner) or inner
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

-- Whether the new table's create_table (create.table, which records it in ctx.done) said
-- this column or constraint already.
local function said_with_table(ctx, kind, id)
  return ctx.done ~= nil and ctx.done[kind .. " " .. id] == true
end

-- Row-level security from `before` to `after`, when either of rls and rls_forced differs
-- (a new table's `before` is {}): enable_rls (with force), disable_rls, force_rls or
-- no_force_rls.
local function rls_steps(ctx, id, before, after)
  local function step(op, extra)
    return { code = call(ctx.indent, op, named_args(id, {}, extra)) }
  end
  if after.rls and not before.rls then
    return { step("enable_rls", after.rls_forced and { { "force", true } } or nil) }
  elseif before.rls and not after.rls then
    local steps = { step("disable_rls") }
    if after.rls_forced then steps[2] = step("force_rls") end
    return steps
  end
  return { step(after.rls_forced and "force_rls" or "no_force_rls") }
end

-- A new table: create_table with its columns, primary key, unique and check constraints;
-- what the spec cannot say follows as its own steps, in the same order a person would.
create.table = function(ctx, id, a)
  local name = tname(id)
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
    if a.unlogged then opts[#opts + 1] = { "unlogged", true } end
    if a.options then opts[#opts + 1] = { "options", a.options } end
    if a.partition_key then opts[#opts + 1] = { "partition_by", a.partition_key } end
    steps[1] = { code = call(ctx.indent, "create_table", named_args(id, { specs }, opts),
      { spread = true, spread_arg = 2 }) }
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
      steps[#steps + 1] = comment_step(ctx, "column", col.id, col.attrs.comment)
    end
  end
  if a.rls or a.rls_forced then
    for _, st in ipairs(rls_steps(ctx, id, {}, a)) do steps[#steps + 1] = st end
  end
  return with_comment(ctx, steps, "table", id, a)
end

drop.table = function(ctx, id)
  return { { code = call(ctx.indent, "drop_table", named_args(id, {})) } }
end

change.table = function(ctx, id, before, after, changes)
  local steps = {}
  for _, c in ipairs(changes) do
    local attr = c.attribute
    if attr == "rls" or attr == "rls_forced" then
      -- Both attributes are settled by one look at the pair.
      if not steps.rls then
        steps.rls = true
        for _, st in ipairs(rls_steps(ctx, id, before, after)) do steps[#steps + 1] = st end
      end
    elseif attr == "comment" or attr == "owner" then
      steps[#steps + 1] = comment_or_owner_step(ctx, "table", id, attr, after)
    elseif attr == "unlogged" then
      steps[#steps + 1] = { code = call(ctx.indent, "alter_table",
        named_args(id, {}, { { "unlogged", after.unlogged == true } })) }
    else
      return "replace"
    end
  end
  return steps
end

create.column = function(ctx, id, a)
  if said_with_table(ctx, "column", id) then return {} end
  local t, col = names.split_member(id)
  local steps = {}
  if plain_column(a) then
    steps[1] = { code = call(ctx.indent, "add_column", named_args(t, { column_spec(col, a) }),
      { one_line = true }) }
  else
    steps[1] = exec(ctx, "ALTER TABLE " .. qn(t) .. " ADD COLUMN " .. column_sql(col, a))
  end
  return with_comment(ctx, steps, "column", id, a)
end

drop.column = drop_member("column")

change.column = function(ctx, id, before, after, changes)
  local t, col = names.split_member(id)
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
      steps[#steps + 1] = comment_step(ctx, "column", id, after.comment)
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
    table.insert(steps, 1,
      { code = call(ctx.indent, "alter_column", named_args(t, { col }, opts)) })
  end
  return steps
end

---------------------------------------------------------------------------------------------
-- Constraints and indexes
---------------------------------------------------------------------------------------------

create.constraint = function(ctx, id, a)
  if said_with_table(ctx, "constraint", id) then return {} end
  local t, con = names.split_member(id)
  local def = a.definition
  local steps
  if a.type == "unique" and parse_key(def, "UNIQUE") then
    steps = { { code = call(ctx.indent, "create_unique_constraint",
      named_args(t, { con, parse_key(def, "UNIQUE") })) } }
  elseif a.type == "check" and check_expr(def) then
    steps = { { code = call(ctx.indent, "create_check_constraint",
      named_args(t, { con, check_expr(def) })) } }
  elseif a.type == "foreign key" and parse_fk(def) then
    local fk = parse_fk(def)
    local list = {}
    if fk.on_delete then list[#list + 1] = { "on_delete", fk.on_delete } end
    if fk.on_update then list[#list + 1] = { "on_update", fk.on_update } end
    if fk.ref_schema then list[#list + 1] = { "references_schema", fk.ref_schema } end
    steps = { { code = call(ctx.indent, "create_foreign_key",
      named_args(t, { con, fk.columns, fk.ref_table, fk.ref_columns }, list)) } }
  else
    steps = { exec(ctx, "ALTER TABLE " .. qn(t) .. " ADD CONSTRAINT " .. qi(con) .. " " .. def) }
  end
  return with_comment(ctx, steps, "constraint", id, a)
end

drop.constraint = drop_member("constraint")

change.constraint = comment_or_replace("constraint")

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
  local ix = parse_index(a.definition)
  local steps
  if ix then
    local list = { { "name", ix.name } }
    if ix.unique then list[#list + 1] = { "unique", true } end
    if ix.method ~= "btree" then list[#list + 1] = { "method", ix.method } end
    if ix.where then list[#list + 1] = { "where", ix.where } end
    local cols = ix.elements
    if #cols == 1 and type(cols[1]) == "string" then cols = cols[1] end
    steps = { { code = call(ctx.indent, "create_index", named_args(t, { cols }, list)) } }
  else
    steps = { exec(ctx, a.definition) }
  end
  return with_comment(ctx, steps, "index", id, a)
end

drop.index = function(ctx, id)
  local t, iname = names.split_member(id)
  local _, schema = tname(t)
  local args = { iname }
  if schema then args[2] = fields({ { "schema", schema } }) end
  return { { code = call(ctx.indent, "drop_index", args) } }
end

change.index = comment_or_replace("index")

---------------------------------------------------------------------------------------------
-- Schemas and extensions
---------------------------------------------------------------------------------------------

create.schema = function(ctx, id, a)
  local steps = { { code = call(ctx.indent, "create_schema", { id }) } }
  return with_comment(ctx, steps, "schema", id, a)
end
drop.schema = function(ctx, id) return { { code = call(ctx.indent, "drop_schema", { id }) } } end
change.schema = function(ctx, id, before, after, changes)
  local steps = {}
  for _, c in ipairs(changes) do
    local step = comment_or_owner_step(ctx, "schema", id, c.attribute, after)
    if not step then return "replace" end
    steps[#steps + 1] = step
  end
  return steps
end

create.extension = function(ctx, id, a)
  local list = {}
  if a.schema and a.schema ~= "public" then list[1] = { "schema", a.schema } end
  local args = { id }
  if #list > 0 then args[2] = fields(list) end
  return { { code = call(ctx.indent, "create_extension", args) } }
end
drop.extension = function(ctx, id)
  return { { code = call(ctx.indent, "drop_extension", { id }) } }
end
change.extension = function(ctx, id, before, after, changes)
  for _, c in ipairs(changes) do
    if c.attribute ~= "version" then return "replace" end
  end
  return { exec(ctx, "ALTER EXTENSION " .. qi(id) .. " UPDATE TO " .. lit(after.version)) }
end

---------------------------------------------------------------------------------------------
-- Enums and sequences
---------------------------------------------------------------------------------------------

create.enum = function(ctx, id, a)
  local steps = { { code = call(ctx.indent, "create_enum", named_args(id, { a.values })) } }
  return with_comment(ctx, steps, "enum", id, a)
end
drop.enum = function(ctx, id)
  return { { code = call(ctx.indent, "drop_enum", named_args(id, {})) } }
end

-- The columns of model m whose type is enum `id` (as format_type prints it: qualified
-- when its schema is not on the search path).
local function enum_columns(m, id)
  local _, n = names.split_table("postgresql", id)
  local out = {}
  for cid, a in pairs(m.objects.column) do
    if a.type == n or a.type == id then out[#out + 1] = cid end
  end
  table.sort(out)
  return out
end

-- An enum that loses a value cannot drop it: the type is renamed away, made again, each
-- column that uses it converted through text (its default set aside meanwhile), and the old
-- type dropped. A row holding the value lost makes the conversion fail, which is the point.
local function swap_enum(ctx, id, after)
  local n = tname(id)
  local s = names.split_table("postgresql", id)
  local old = n .. "__rbacmig_old"
  local steps = {
    exec(ctx, "ALTER TYPE " .. qn(id) .. " RENAME TO " .. qi(old)),
    { code = call(ctx.indent, "create_enum", named_args(id, { after.values })) },
  }
  for _, cid in ipairs(enum_columns(ctx.to, id)) do
    if ctx.from.objects.column[cid] then
      local t, c = names.split_member(cid)
      local col = ctx.to.objects.column[cid]
      local function alter(list)
        return { code = call(ctx.indent, "alter_column", named_args(t, { c }, list)) }
      end
      if ctx.from.objects.column[cid].default then
        steps[#steps + 1] = alter({ { "drop_default", true } })
      end
      steps[#steps + 1] = alter({ { "type", col.type }, { "using", qi(c) .. "::text::" .. qn(id) } })
      if col.default then
        steps[#steps + 1] = alter({ { "default", default_value(col.default, col.type) } })
      end
      ctx.retyped = ctx.retyped or {}
      ctx.retyped["column " .. cid] = true
    end
  end
  steps[#steps + 1] = exec(ctx, "DROP TYPE " .. qi(s) .. "." .. qi(old))
  return steps
end

-- New values are added where they stand (add_enum_value: ALTER TYPE ... ADD VALUE), never by
-- recreating the type; a value renamed in place (same position, the others kept) is
-- rename_enum_value. A value dropped or moved needs the type made again (swap_enum).
change.enum = function(ctx, id, before, after, changes)
  local r = M.enum_steps(ctx, id, before, after, changes)
  if r ~= "replace" then return r end
  -- Without a column that keeps using it, the type is simply made again.
  for _, cid in ipairs(enum_columns(ctx.to, id)) do
    if ctx.from.objects.column[cid] then return swap_enum(ctx, id, after) end
  end
  return "replace"
end

function M.enum_steps(ctx, id, before, after, changes)
  local steps = {}
  for _, c in ipairs(changes) do
    if c.attribute == "values" then
      local old, new = before.values, after.values
      local kept = {}
      for _, v in ipairs(new) do kept[v] = true end
      local gone = {}
      for _, v in ipairs(old) do if not kept[v] then gone[#gone + 1] = v end end
      if #gone == 1 and #old == #new then
        -- One value renamed where it stands.
        for i, v in ipairs(old) do
          if v == gone[1] then
            steps[#steps + 1] = { code = call(ctx.indent, "rename_enum_value",
              named_args(id, { v, new[i] })) }
          elseif new[i] ~= v then
            return "replace"
          end
        end
      else
        local j = 1
        for _, v in ipairs(new) do
          if old[j] == v then j = j + 1 end
        end
        if j <= #old then return "replace" end
        local present = {}
        for _, v in ipairs(old) do present[v] = true end
        for i, v in ipairs(new) do
          if not present[v] then
            -- Placed against the nearest value already in the type: the next one after it
            -- in the declared order, else the one before it. (Only the adjacent ones would
            -- put 'a' after 'c' when 'b' between them is new too.)
            local where = {}
            for k = i + 1, #new do
              if present[new[k]] then where[1] = { "before", new[k] }; break end
            end
            for k = i - 1, 1, -1 do
              if where[1] then break end
              if present[new[k]] then where[1] = { "after", new[k] } end
            end
            steps[#steps + 1] = { code = call(ctx.indent, "add_enum_value",
              named_args(id, { v }, where)) }
            present[v] = true
          end
        end
      end
    elseif c.attribute == "comment" or c.attribute == "owner" then
      steps[#steps + 1] = comment_or_owner_step(ctx, "enum", id, c.attribute, after)
    else
      return "replace"
    end
  end
  return steps
end

local function identity_sequence(ctx, m, a)
  if not a.owned_by then return false end
  local col = m.objects.column[a.owned_by]
  return col ~= nil and col.identity ~= nil
end

-- Sequence options as the schema API takes them: all of them (all = true, for
-- alter_sequence), or those CREATE SEQUENCE would not give anyway.
local TYPE_MAX = { smallint = "32767", integer = "2147483647", bigint = "9223372036854775807" }
local TYPE_MIN = { smallint = "-32768", integer = "-2147483648",
  bigint = "-9223372036854775808" }

local function number(v)
  local n = math.tointeger(tonumber(v))
  if n and tostring(n) == v then return n end
  return v
end

local function sequence_options(a, all, before)
  local up = not a.increment:find("^%-")
  local min = up and "1" or TYPE_MIN[a.type]
  local max = up and TYPE_MAX[a.type] or "-1"
  local list = {}
  local function differs(k, default)
    if before then return before[k] ~= a[k] end
    return all or a[k] ~= default
  end
  if differs("type", "bigint") then list[#list + 1] = { "as", a.type } end
  if differs("increment", "1") then list[#list + 1] = { "increment", number(a.increment) } end
  if differs("min", min) then list[#list + 1] = { "min_value", number(a.min) } end
  if differs("max", max) then list[#list + 1] = { "max_value", number(a.max) } end
  if differs("start", up and a.min or a.max) then list[#list + 1] = { "start", number(a.start) } end
  if differs("cache", "1") then list[#list + 1] = { "cache", number(a.cache) } end
  if before and before.cycle ~= a.cycle or not before and a.cycle then
    list[#list + 1] = { "cycle", a.cycle == true }
  end
  return list
end

local function owned_by_name(owned_by)
  if not owned_by then return "none" end
  return (owned_by:gsub("^public%.", ""))
end

create.sequence = function(ctx, id, a)
  -- An identity column's sequence comes with its column.
  if identity_sequence(ctx, ctx.to, a) then return {} end
  local steps = { { code = call(ctx.indent, "create_sequence",
    named_args(id, {}, sequence_options(a))) } }
  if a.owned_by then
    -- The column is created after the sequence its default calls.
    local t = names.split_member(a.owned_by)
    steps[2] = { code = call(ctx.indent, "alter_sequence", named_args(id, {},
      { { "owned_by", owned_by_name(a.owned_by) } })),
      after = { "column " .. a.owned_by, "table " .. t } }
  end
  return with_comment(ctx, steps, "sequence", id, a)
end
drop.sequence = function(ctx, id, a)
  if identity_sequence(ctx, ctx.from, a) then return {} end
  return { { code = call(ctx.indent, "drop_sequence", named_args(id, {})) } }
end
change.sequence = function(ctx, id, before, after, changes)
  local identity = identity_sequence(ctx, ctx.to, after) and identity_sequence(ctx, ctx.from, before)
  local steps, options = {}, false
  for _, c in ipairs(changes) do
    if c.attribute == "owned_by" then
      if not identity then
        steps[#steps + 1] = { code = call(ctx.indent, "alter_sequence", named_args(id, {},
          { { "owned_by", owned_by_name(after.owned_by) } })) }
      end
    elseif c.attribute == "comment" then
      steps[#steps + 1] = comment_step(ctx, "sequence", id, after.comment)
    elseif c.attribute == "owner" then
      if not identity then steps[#steps + 1] = owner_step(ctx, "sequence", id, after.owner) end
    elseif not options then
      options = true
      steps[#steps + 1] = { code = call(ctx.indent, "alter_sequence", named_args(id, {},
        sequence_options(after, true, before))) }
    end
  end
  return steps
end

---------------------------------------------------------------------------------------------
-- Views
---------------------------------------------------------------------------------------------

local function view_options(a, replace)
  local list = {}
  if a.kind == "materialized view" then list[#list + 1] = { "materialized", true } end
  if replace then list[#list + 1] = { "replace", true } end
  if a.security_invoker then list[#list + 1] = { "security_invoker", true } end
  if a.security_barrier then list[#list + 1] = { "security_barrier", true } end
  if a.check_option then list[#list + 1] = { "check_option", a.check_option } end
  if a.options then list[#list + 1] = { "options", a.options } end
  list[#list + 1] = { "as", (a.definition:gsub(";%s*$", "")) }
  return list
end

-- The names of a view's columns, from the server's text of its query (the select list up
-- to FROM), or nil when the text is beyond this reading.
local function view_columns(def)
  local list = def:match("^%s*SELECT (.-)\n%s*FROM ") or def:match("^%s*SELECT (.-)%s*$")
  if not list or list:find("^DISTINCT") then return nil end
  local out = {}
  for i, item in ipairs(names.split_top(list)) do
    local name = item:match(" AS ([%w_\"]+)$") or item:match("([%w_\"]+)$")
    if not name then return nil end
    out[i] = names.unquote(name)
  end
  return out
end

create.view = function(ctx, id, a)
  local steps = { { code = call(ctx.indent, "create_view", named_args(id, {}, view_options(a)),
    { spread = true }) } }
  return with_comment(ctx, steps, "view", id, a)
end
drop.view = function(ctx, id, a)
  local list = a.kind == "materialized view" and { { "materialized", true } } or {}
  return { { code = call(ctx.indent, "drop_view", named_args(id, {}, list)) } }
end

-- A view whose query changes keeps its columns and adds at the end only: CREATE OR REPLACE.
-- Otherwise (and a materialized view always) it is dropped and created again, and what
-- depends on it with it.
change.view = function(ctx, id, before, after, changes)
  local steps, replace = {}, false
  for _, c in ipairs(changes) do
    if c.attribute == "comment" or c.attribute == "owner" then
      steps[#steps + 1] = comment_or_owner_step(ctx, "view", id, c.attribute, after)
    elseif after.kind == "materialized view" or c.attribute == "kind" then
      return "replace"
    else
      replace = true
    end
  end
  if replace then
    local old, new = view_columns(before.definition), view_columns(after.definition)
    if not old or not new or #new < #old then return "replace" end
    for i, n in ipairs(old) do
      if new[i] ~= n then return "replace" end
    end
    table.insert(steps, 1, { code = call(ctx.indent, "create_view",
      named_args(id, {}, view_options(after, true)), { spread = true }) })
  end
  return steps
end

---------------------------------------------------------------------------------------------
-- Functions
---------------------------------------------------------------------------------------------

-- Whether create_function can say the whole function: all but an SQL-standard body.
local function plain_function(a)
  return not (a.body:find("^BEGIN ATOMIC") or a.body:find("^RETURN "))
end

local function function_sql(id, a, replace)
  local s, n = names.split_function(id)
  local parts = {
    "CREATE " .. (replace and "OR REPLACE " or "") .. (a.kind == "procedure" and "PROCEDURE "
      or "FUNCTION ") .. qi(s) .. "." .. qi(n) .. "(" .. (a.arguments or "") .. ")",
  }
  if a.kind ~= "procedure" then parts[#parts + 1] = "RETURNS " .. a.result end
  parts[#parts + 1] = "LANGUAGE " .. a.language
  if a.kind ~= "procedure" then
    parts[#parts + 1] = a.volatility:upper()
    if a.strict then parts[#parts + 1] = "STRICT" end
    if a.leakproof then parts[#parts + 1] = "LEAKPROOF" end
    parts[#parts + 1] = "PARALLEL " .. a.parallel:upper()
  end
  if a.security_definer then parts[#parts + 1] = "SECURITY DEFINER" end
  for _, setting in ipairs(a.config or {}) do
    local k, v = setting:match("^([^=]+)=(.*)$")
    parts[#parts + 1] = "SET " .. k .. " TO " .. (k == "search_path" and (v == "" and "''" or v)
      or lit(v))
  end
  parts[#parts + 1] = a.body
  return table.concat(parts, "\n")
end

-- The function's settings (proconfig, "name=value" in order) as create_function options:
-- search_path alone as a list of schemas, else settings as { name, value } pairs.
local function settings_options(list, config)
  if not config or #config == 0 then return end
  local function items(v)
    if v == "" or v == '""' then return "" end
    local out = {}
    for i, item in ipairs(names.split_top(v)) do out[i] = names.unquote(item) end
    return out
  end
  if #config == 1 and config[1]:find("^search_path=") then
    local v = items(config[1]:match("^search_path=(.*)$"))
    if v == "" then
      list[#list + 1] = { "settings", { search_path = "" } }
    else
      list[#list + 1] = { "search_path", v }
    end
    return
  end
  local pairs_ = {}
  for _, setting in ipairs(config) do
    local k, v = setting:match("^([^=]+)=(.*)$")
    if k == "search_path" then v = items(v) end
    pairs_[#pairs_ + 1] = { k, v }
  end
  list[#list + 1] = { "settings", pairs_ }
end

local function function_steps(ctx, id, a, replace)
  local s, n = names.split_function(id)
  if not plain_function(a) then return { exec(ctx, function_sql(id, a, replace)) } end
  local list = {}
  if a.kind == "procedure" then list[#list + 1] = { "procedure", true } end
  if a.arguments then list[#list + 1] = { "args", a.arguments } end
  if a.kind ~= "procedure" then list[#list + 1] = { "returns", a.result } end
  list[#list + 1] = { "language", a.language }
  if a.kind ~= "procedure" then
    if a.volatility ~= "volatile" then list[#list + 1] = { "volatility", a.volatility } end
    if a.strict then list[#list + 1] = { "strict", true } end
    if a.leakproof then list[#list + 1] = { "leakproof", true } end
    if a.parallel ~= "unsafe" then list[#list + 1] = { "parallel", a.parallel } end
  end
  if a.security_definer then list[#list + 1] = { "security", "definer" } end
  settings_options(list, a.config)
  if replace then list[#list + 1] = { "replace", true } end
  if s ~= "public" then list[#list + 1] = { "schema", s } end
  list[#list + 1] = { "body", a.body }
  return { { code = call(ctx.indent, "create_function", { n, fields(list) }, { spread = true }) } }
end

create["function"] = function(ctx, id, a)
  local steps = function_steps(ctx, id, a, false)
  return with_comment(ctx, steps, "function", id, a)
end

drop["function"] = function(ctx, id, a)
  local s, n, args = names.split_function(id)
  local list = {}
  if a.kind == "procedure" then list[#list + 1] = { "procedure", true } end
  list[#list + 1] = { "args", args }
  if s ~= "public" then list[#list + 1] = { "schema", s } end
  return { { code = call(ctx.indent, "drop_function", { n, fields(list) }) } }
end

-- A new body, volatility, security or setting is CREATE OR REPLACE (settings it no longer
-- has are reset first: OR REPLACE keeps them); a new result type or kind needs the function
-- dropped and created again.
change["function"] = function(ctx, id, before, after, changes)
  local steps, replace = {}, false
  local s, n, args = names.split_function(id)
  for _, c in ipairs(changes) do
    local attr = c.attribute
    if attr == "result" or attr == "kind" or attr == "arguments" then
      return "replace"
    elseif attr == "comment" or attr == "owner" then
      steps[#steps + 1] = comment_or_owner_step(ctx, "function", id, attr, after)
    elseif attr == "config" and #(before.config or {}) > 0 then
      local list = {}
      if after.kind == "procedure" then list[#list + 1] = { "procedure", true } end
      list[#list + 1] = { "args", args }
      list[#list + 1] = { "reset", "all" }
      if s ~= "public" then list[#list + 1] = { "schema", s } end
      steps[#steps + 1] = { code = call(ctx.indent, "alter_function", { n, fields(list) }) }
      replace = true
    else
      replace = true
    end
  end
  if replace then
    for _, st in ipairs(function_steps(ctx, id, after, true)) do steps[#steps + 1] = st end
  end
  return steps
end

---------------------------------------------------------------------------------------------
-- Triggers
---------------------------------------------------------------------------------------------

local EVENTS = { INSERT = "insert", UPDATE = "update", DELETE = "delete", TRUNCATE = "truncate" }

-- CREATE TRIGGER name timing events ON s.t FOR EACH ROW|STATEMENT [WHEN (c)]
--   EXECUTE FUNCTION f(args)
local function parse_trigger(def)
  local name, timing, events, tbl, each, rest = def:match(
    "^CREATE TRIGGER (%S+) (%u+ ?O?F?) (.-) ON (%S+) FOR EACH (%u+) (.*)$")
  if not name or def:find(" FROM ", 1, true) or def:find("REFERENCING", 1, true)
      or def:find("DEFERRABLE", 1, true) then
    return nil
  end
  timing = timing:gsub(" $", "")
  if timing == "INSTEAD OF" then timing = "instead of" else timing = timing:lower() end
  local t = { name = names.unquote(name), timing = timing, events = {}, for_each = each:lower() }
  for _, e in ipairs(names.split_top(events, " OR ")) do
    local cols = e:match("^UPDATE OF (.*)$")
    if cols then
      t.columns = names.column_names(cols)
      if not t.columns then return nil end
      e = "UPDATE"
    end
    if not EVENTS[e] then return nil end
    t.events[#t.events + 1] = EVENTS[e]
  end
  local when, after_when = rest:match("^WHEN (%b()) (.*)$")
  if when then
    t.when = when:sub(2, -2)
    rest = after_when
  end
  local fn, args = rest:match("^EXECUTE FUNCTION (.-)(%b())$")
  if not fn then return nil end
  local fs, fname = fn:match("^([^.]+)%.(.+)$")
  t.execute = names.unquote(fname or fn)
  t.execute_schema = fs and names.unquote(fs)
  local arglist = {}
  for _, item in ipairs(names.split_top(args:sub(2, -2))) do
    local s = item:match("^'(.*)'$")
    if not s then return nil end
    arglist[#arglist + 1] = (s:gsub("''", "'"))
  end
  t.arguments = #arglist > 0 and arglist or nil
  return t
end

-- enable_trigger / disable_trigger: the model's `enabled` is nil (fires in origin mode),
-- "disabled", "replica" or "always".
local function enabled_step(ctx, t, name, enabled)
  if enabled == "disabled" then
    return { code = call(ctx.indent, "disable_trigger", named_args(t, { name })) }
  end
  local list = {}
  if enabled then list[1] = { "mode", enabled } end
  return { code = call(ctx.indent, "enable_trigger", named_args(t, { name }, list)) }
end

create.trigger = function(ctx, id, a)
  local t, name = names.split_member(id)
  local g = parse_trigger(a.definition)
  local steps
  if g then
    local list = { { "timing", g.timing }, { "events", g.events } }
    if g.columns then list[#list + 1] = { "columns", g.columns } end
    list[#list + 1] = { "for_each", g.for_each }
    if g.when then list[#list + 1] = { "when", g.when } end
    list[#list + 1] = { "execute", g.execute }
    if g.execute_schema then list[#list + 1] = { "execute_schema", g.execute_schema } end
    if g.arguments then list[#list + 1] = { "arguments", g.arguments } end
    steps = { { code = call(ctx.indent, "create_trigger", named_args(t, { name }, list)) } }
  else
    steps = { exec(ctx, a.definition) }
  end
  if a.enabled then steps[#steps + 1] = enabled_step(ctx, t, name, a.enabled) end
  return with_comment(ctx, steps, "trigger", id, a)
end

drop.trigger = drop_member("trigger")

change.trigger = function(ctx, id, before, after, changes)
  local t, name = names.split_member(id)
  local steps = {}
  for _, c in ipairs(changes) do
    if c.attribute == "enabled" then
      steps[#steps + 1] = enabled_step(ctx, t, name, after.enabled)
    elseif c.attribute == "comment" then
      steps[#steps + 1] = comment_step(ctx, "trigger", id, after.comment)
    else
      return "replace"
    end
  end
  return steps
end

---------------------------------------------------------------------------------------------
-- Policies: a changed policy is dropped and created again (in the same transaction)
---------------------------------------------------------------------------------------------

create.policy = function(ctx, id, a)
  local t, name = names.split_member(id)
  local tn, schema = tname(t)
  local list = {}
  if a.command ~= "all" then list[#list + 1] = { "command", a.command } end
  if a.permissive == false then list[#list + 1] = { "restrictive", true } end
  local roles = a.roles or {}
  if not (#roles == 1 and roles[1] == "public") then
    list[#list + 1] = { "to", #roles == 1 and roles[1] or roles }
  end
  if a.using then list[#list + 1] = { "using", a.using } end
  if a.with_check then list[#list + 1] = { "with_check", a.with_check } end
  local steps = { { code = call(ctx.indent, "create_policy", { tn, name, with_schema(list, schema) }) } }
  return with_comment(ctx, steps, "policy", id, a)
end

drop.policy = drop_member("policy")

change.policy = comment_or_replace("policy")

---------------------------------------------------------------------------------------------
-- Grants and default privileges
---------------------------------------------------------------------------------------------

local API_PRIVILEGES = { SELECT = true, INSERT = true, UPDATE = true, DELETE = true,
  TRUNCATE = true, REFERENCES = true, TRIGGER = true, USAGE = true, EXECUTE = true,
  CREATE = true }

local function lower_list(list)
  local out = {}
  for i, p in ipairs(list) do out[i] = p:lower() end
  return out
end

-- grant/revoke of `privileges` (upper case, as the model has them) on g's object.
local function privilege_steps(ctx, verb, g, privileges, grant_option)
  if #privileges == 0 then return {} end
  for _, p in ipairs(privileges) do
    if not API_PRIVILEGES[p] then
      -- A privilege the schema API does not know yet (MAINTAIN): SQL.
      local target
      if g.on == "column" then
        local t, c = names.split_member(g.object)
        local cols = {}
        for i, p2 in ipairs(privileges) do cols[i] = p2 .. " (" .. qi(c) .. ")" end
        return { exec(ctx, verb:upper() .. " " .. table.concat(cols, ", ") .. " ON TABLE "
          .. qn(t) .. (verb == "grant" and " TO " or " FROM ") .. qi(g.grantee)) }
      end
      target = (g.on == "view" and "TABLE" or g.on:upper()) .. " "
        .. (g.on == "function" and function_target(g.object) or g.on == "schema"
          and qi(g.object) or qn(g.object))
      return { exec(ctx, verb:upper() .. " " .. table.concat(privileges, ", ") .. " ON " .. target
        .. (verb == "grant" and " TO " or " FROM ") .. (g.grantee == "PUBLIC" and "PUBLIC"
          or qi(g.grantee))) }
    end
  end
  local privs = lower_list(privileges)
  local list, object = {}, nil
  if g.on == "table" or g.on == "view" then
    local name, schema = tname(g.object)
    object = name
    if schema then list[#list + 1] = { "schema", schema } end
  elseif g.on == "column" then
    local t, c = names.split_member(g.object)
    local name, schema = tname(t)
    object = name
    list[#list + 1] = { "columns", { c } }
    if schema then list[#list + 1] = { "schema", schema } end
  elseif g.on == "sequence" then
    local name, schema = tname(g.object)
    object = name
    list[#list + 1] = { "type", "sequence" }
    if schema then list[#list + 1] = { "schema", schema } end
  elseif g.on == "function" then
    local s, n, args = names.split_function(g.object)
    object = n
    list[#list + 1] = { "type", "function" }
    list[#list + 1] = { "args", args }
    if s ~= "public" then list[#list + 1] = { "schema", s } end
  elseif g.on == "schema" then
    object = g.object
    list[#list + 1] = { "type", "schema" }
  end
  if grant_option then
    list[#list + 1] = { verb == "grant" and "with_grant_option" or "grant_option_for", true }
  end
  local grantee = g.grantee == "PUBLIC" and "public" or g.grantee
  local args = { #privs == 1 and privs[1] or privs, object, grantee }
  if #list > 0 then args[4] = fields(list) end
  return { { code = call(ctx.indent, verb, args) } }
end

local function minus(a, b)
  local in_b, out = {}, {}
  for _, v in ipairs(b or {}) do in_b[v] = true end
  for _, v in ipairs(a or {}) do
    if not in_b[v] then out[#out + 1] = v end
  end
  return out
end

-- What takes the privileges of grant or default privilege entry `before` to those of
-- `after` (either may be nil), in the order it must run: privileges gone, grant options gone
-- from privileges that stay, privileges granted, privileges granted with grant option. Each
-- is { verb, privileges, grant_option }; none is empty.
local function privilege_changes(before, after)
  local bp, ap = before and before.privileges or {}, after and after.privileges or {}
  local bo, ao = before and before.grant_option or {}, after and after.grant_option or {}
  local gone = minus(bp, ap)
  local out = {}
  for _, c in ipairs({
    { "revoke", gone },
    { "revoke", minus(minus(bo, ao), gone), true },
    { "grant", minus(minus(ap, bp), ao) },
    { "grant", minus(ao, bo), true },
  }) do
    if #c[2] > 0 then out[#out + 1] = c end
  end
  return out
end

-- Revoking a privilege on a table revokes it on every column too (PostgreSQL's REVOKE):
-- the column grants, kept from before, that a table-level revoke of `revoked` (and of the
-- grant options in `revoked_options`) takes away from g's grantee are granted again after it.
local function regrant_columns(ctx, g, revoked, revoked_options, steps)
  if g.on ~= "table" or (#revoked == 0 and #revoked_options == 0) then return end
  local prefix = g.object .. "."
  local ids = {}
  for id, colg in pairs(ctx.to.objects.grant) do
    -- Only grants that were there before: a new or changed one has steps of its own.
    if colg.on == "column" and colg.grantee == g.grantee
        and colg.object:sub(1, #prefix) == prefix and ctx.from.objects.grant[id] then
      ids[#ids + 1] = id
    end
  end
  table.sort(ids)
  local any_option = {}
  for _, p in ipairs(revoked) do any_option[#any_option + 1] = p end
  for _, p in ipairs(revoked_options) do any_option[#any_option + 1] = p end
  for _, id in ipairs(ids) do
    local colg = ctx.to.objects.grant[id]
    local options = colg.grant_option or {}
    local plain = minus(minus(colg.privileges, minus(colg.privileges, revoked)), options)
    local with_option = minus(options, minus(options, any_option))
    for _, c in ipairs({ { plain, false }, { with_option, true } }) do
      if #c[1] > 0 then
        for _, st in ipairs(privilege_steps(ctx, "grant", colg, c[1], c[2])) do
          steps[#steps + 1] = st
        end
      end
    end
  end
end

-- The grants from g_before to g_after (either may be nil): revokes, then grants.
local function grant_steps(ctx, before, after)
  local g = after or before
  local steps = {}
  local revoked, revoked_options = {}, {}
  for _, c in ipairs(privilege_changes(before, after)) do
    for _, st in ipairs(privilege_steps(ctx, c[1], g, c[2], c[3])) do steps[#steps + 1] = st end
    if c[1] == "revoke" then
      for _, p in ipairs(c[2]) do
        local list = c[3] and revoked_options or revoked
        list[#list + 1] = p
      end
    end
  end
  regrant_columns(ctx, g, revoked, revoked_options, steps)
  return steps
end

create.grant = function(ctx, id, a) return grant_steps(ctx, nil, a) end
drop.grant = function(ctx, id, a) return grant_steps(ctx, a, nil) end
change.grant = function(ctx, id, before, after) return grant_steps(ctx, before, after) end

-- grant_default / revoke_default of `privileges` (upper case) for a default privilege entry.
local function default_step(ctx, verb, a, privileges, grant_option)
  local list = { { "for_role", a.role } }
  if a.schema then list[#list + 1] = { "schema", a.schema } end
  if grant_option then
    list[#list + 1] = { verb == "grant" and "with_grant_option" or "grant_option_for", true }
  end
  local privs = lower_list(privileges)
  local grantee = a.grantee == "PUBLIC" and "public" or a.grantee
  return { code = call(ctx.indent, verb .. "_default", { #privs == 1 and privs[1] or privs,
    a.objects, grantee, fields(list) }) }
end

local function default_steps(ctx, before, after)
  local a = after or before
  local steps = {}
  for i, c in ipairs(privilege_changes(before, after)) do
    steps[i] = default_step(ctx, c[1], a, c[2], c[3])
  end
  return steps
end

create.default_privilege = function(ctx, id, a) return default_steps(ctx, nil, a) end
drop.default_privilege = function(ctx, id, a) return default_steps(ctx, a, nil) end
change.default_privilege = function(ctx, id, before, after)
  return default_steps(ctx, before, after)
end

M.create, M.drop, M.change = create, drop, change
return M
