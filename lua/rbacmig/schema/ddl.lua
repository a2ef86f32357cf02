-- rbacmig.schema.ddl: the portable pieces of DDL: identifiers and literals, db.fn values,
-- types, defaults, column specs and table constraints, checked and rendered per dialect.
--
-- Depends on nothing but base, string, table and math: it runs inside the migration sandbox.

local util = require("rbacmig.util")
local check = require("rbacmig.schema.check")
local argerror, check_columns = check.argerror, check.check_columns
local check_options, describe, is_name = check.check_options, check.describe, check.is_name
local raise, refuse_on_sqlite = check.raise, check.refuse_on_sqlite

---------------------------------------------------------------------------------------------
-- Identifiers and literals
---------------------------------------------------------------------------------------------

local function q(db, name)
  return db:quote_ident(name)
end

local function qualified(db, schema, name)
  if schema then return q(db, schema) .. "." .. q(db, name) end
  return q(db, name)
end

local function column_list(db, columns)
  local out = {}
  for i, c in ipairs(columns) do out[i] = q(db, c) end
  return "(" .. table.concat(out, ", ") .. ")"
end

-- Values built by db.fn carry this metatable, so a plain string default is always a literal.
local Fn = {}
Fn.__tostring = function(f) return "db.fn." .. f.kind .. "()" end

local function is_fn(v)
  return getmetatable(v) == Fn
end

local function fn_value(kind, sql)
  return setmetatable({ kind = kind, sql = sql }, Fn)
end

local fn = {
  -- The current date and time: now() on PostgreSQL, CURRENT_TIMESTAMP (UTC text) on SQLite.
  now = function() return fn_value("now") end,
  -- A random version-4 UUID: gen_random_uuid() on PostgreSQL, a text UUID on SQLite.
  uuid = function() return fn_value("uuid") end,
  -- SQL written by the migration author, used as is (a default, an index expression).
  raw = util.public(function(sql)
    if type(sql) ~= "string" or not sql:find("%S") then
      raise("db.fn.raw: sql must be a non-empty string, got %s", describe(sql))
    end
    return fn_value("raw", sql)
  end),
}

-- SQLite has no UUID function; this builds the version-4 text form from randomblob. The
-- variant nibble uses random() & 3 because abs(random()) overflows on the smallest integer.
local SQLITE_UUID = "(lower(hex(randomblob(4))) || '-' || lower(hex(randomblob(2))) || '-4' || "
  .. "substr(lower(hex(randomblob(2))), 2) || '-' || substr('89ab', 1 + (random() & 3), 1) || "
  .. "substr(lower(hex(randomblob(2))), 2) || '-' || lower(hex(randomblob(6))))"

local function number_literal(op, what, v)
  if math.type(v) == "integer" then return string.format("%d", v) end
  if v ~= v or v == math.huge or v == -math.huge then
    argerror(op, "%s must be a finite number, got %s", what, tostring(v))
  end
  -- The shortest form that reads back as the same double.
  for _, format in ipairs({ "%.15g", "%.16g" }) do
    local s = string.format(format, v)
    if tonumber(s) == v then return s end
  end
  return string.format("%.17g", v)
end

local function string_literal(op, what, v)
  if v:find("\0", 1, true) then argerror(op, "%s must not contain a NUL byte", what) end
  return "'" .. v:gsub("'", "''") .. "'"
end

-- Checks a default value early (before any SQL is sent); it is rendered per dialect later.
local function check_default(op, what, v)
  local t = type(v)
  if t == "string" then string_literal(op, what, v)
  elseif t == "number" then number_literal(op, what, v)
  elseif t ~= "boolean" and not is_fn(v) then
    argerror(op, "%s must be a string, number, boolean or db.fn value, got %s", what, t)
  end
  return v
end

-- SQLite accepts only a literal, a CURRENT_* keyword or a parenthesised expression as a DEFAULT.
local function default_sql(d, v)
  if is_fn(v) then
    if v.kind == "now" then return d == "postgresql" and "now()" or "CURRENT_TIMESTAMP" end
    if v.kind == "uuid" then return d == "postgresql" and "gen_random_uuid()" or SQLITE_UUID end
    -- Parenthesised on PostgreSQL too: DEFAULT takes a restricted expression (no AND, IS...).
    return "(" .. v.sql .. ")"
  end
  if type(v) == "boolean" then
    if d == "postgresql" then return v and "TRUE" or "FALSE" end
    return v and "1" or "0"
  end
  if type(v) == "number" then return number_literal("default", "default", v) end
  return string_literal("default", "default", v)
end

---------------------------------------------------------------------------------------------
-- Types
---------------------------------------------------------------------------------------------

-- Portable type -> spelling per dialect. `args` is how many (n[,m]) arguments it may take.
-- SQLite spellings are chosen for their affinity: only INTEGER makes a rowid alias, and
-- types such as uuid or timestamptz would get NUMERIC affinity under their own name.
local TYPES = {
  integer     = { postgresql = "integer", sqlite = "INTEGER" },
  bigint      = { postgresql = "bigint", sqlite = "INTEGER" },
  smallint    = { postgresql = "smallint", sqlite = "INTEGER" },
  serial      = { postgresql = "integer", sqlite = "INTEGER", identity = true },
  bigserial   = { postgresql = "bigint", sqlite = "INTEGER", identity = true },
  boolean     = { postgresql = "boolean", sqlite = "INTEGER" },
  text        = { postgresql = "text", sqlite = "TEXT" },
  varchar     = { postgresql = "varchar", sqlite = "VARCHAR", args = 1 },
  numeric     = { postgresql = "numeric", sqlite = "NUMERIC", args = 2 },
  real        = { postgresql = "real", sqlite = "REAL" },
  double      = { postgresql = "double precision", sqlite = "REAL" },
  uuid        = { postgresql = "uuid", sqlite = "TEXT" },
  date        = { postgresql = "date", sqlite = "TEXT" },
  timestamp   = { postgresql = "timestamp", sqlite = "TEXT" },
  timestamptz = { postgresql = "timestamptz", sqlite = "TEXT" },
  json        = { postgresql = "json", sqlite = "TEXT" },
  jsonb       = { postgresql = "jsonb", sqlite = "TEXT" },
  bytea       = { postgresql = "bytea", sqlite = "BLOB" },
  blob        = { postgresql = "bytea", sqlite = "BLOB" },
}

-- Parses a column type for dialect d into { sql = ..., identity = bool, portable = name }.
-- On PostgreSQL an unknown type is passed through as written (text[], interval, citext...).
local function parse_type(op, what, s, d)
  if type(s) ~= "string" or not s:find("%S") then
    argerror(op, "%s needs a type, got %s", what, describe(s))
  end
  local base, args = s:match("^%s*([%a_][%w_]*)%s*(%b())%s*$")
  if not base then base = s:match("^%s*([%a_][%w_]*)%s*$") end
  local t = base and TYPES[base:lower()]
  if not t then
    if d == "postgresql" then return { sql = s, raw = true } end
    argerror(op, "unknown type '%s' for %s (only postgresql passes other types through)", s, what)
  end
  local nums = {}
  if args then
    for part in (args:sub(2, -2) .. ","):gmatch("([^,]*),") do
      local n = part:match("^%s*(%d+)%s*$")
      if not n then argerror(op, "bad arguments in type '%s' for %s", s, what) end
      nums[#nums + 1] = tonumber(n)
    end
  end
  if #nums > (t.args or 0) or (args and #nums == 0) then
    argerror(op, "type '%s' for %s takes at most %d argument(s)", s, what, t.args or 0)
  end
  if nums[1] and nums[1] < 1 or nums[2] and nums[2] > nums[1] then
    argerror(op, "bad arguments in type '%s' for %s", s, what)
  end
  local suffix = #nums > 0 and "(" .. table.concat(nums, ",") .. ")" or ""
  return { sql = t[d] .. suffix, identity = t.identity, portable = base:lower() }
end

---------------------------------------------------------------------------------------------
-- Column specs and constraints
---------------------------------------------------------------------------------------------

local COLUMN_KEYS = {
  primary_key = "boolean", not_null = "boolean", nullable = "boolean", unique = "boolean",
  default = "any", check = "sql", references = "name", on_delete = "action",
  on_update = "action", generated = "sql", collation = "name",
  identity = { always = "ALWAYS", ["by default"] = "BY DEFAULT" },
  renamed_from = "identifier", -- a declaration's rename (check.record_rename)
}

-- references = "table", "table.column" or (PostgreSQL) "schema.table.column".
local function parse_references(op, what, d, s)
  local parts = {}
  for part in (s .. "."):gmatch("([^.]*)%.") do parts[#parts + 1] = part end
  for _, p in ipairs(parts) do
    if p == "" then argerror(op, "%s: bad references '%s'", what, s) end
  end
  if #parts == 1 then return { table = parts[1] } end
  if #parts == 2 then return { table = parts[1], columns = { parts[2] } } end
  if #parts == 3 then
    if d == "sqlite" then
      argerror(op, "%s: a schema in references is not supported on sqlite", what)
    end
    return { schema = parts[1], table = parts[2], columns = { parts[3] } }
  end
  argerror(op, "%s: references must be 'table', 'table.column' or 'schema.table.column', got '%s'",
    what, s)
end

-- Normalises a column spec { name, type, key = value... } for dialect d.
local function check_column(op, d, spec, label)
  if type(spec) ~= "table" then
    argerror(op, "%s must be a table, got %s", label, describe(spec))
  end
  if not is_name(spec[1]) then argerror(op, "%s has no name (first element)", label) end
  local what = string.format("column '%s'", spec[1])
  local options = {}
  for k, v in pairs(spec) do
    if k ~= 1 and k ~= 2 then options[k] = v end
  end
  local o = check_options(op, options, COLUMN_KEYS, what)
  local col = {
    name = spec[1],
    type = parse_type(op, what, spec[2], d),
    primary_key = o.primary_key,
    unique = o.unique,
    check = o.check,
    generated = o.generated,
    identity = o.identity,
    collation = o.collation,
    renamed_from = o.renamed_from,
  }
  -- GENERATED ALWAYS AS (expr) STORED, an identity column with its own clause (serial and
  -- bigserial are BY DEFAULT), a collation ("C", or "schema.name" on PostgreSQL).
  if col.identity and d == "sqlite" then
    argerror(op, "%s: key 'identity' is not supported on sqlite (use type serial or bigserial)",
      what)
  end
  if col.identity and col.type.identity then
    argerror(op, "%s: key 'identity' and type %s both make an identity column", what,
      col.type.portable)
  end
  if col.generated and (col.identity or col.type.identity) then
    argerror(op, "%s: a generated column cannot be an identity column", what)
  end
  if col.collation then
    local schema, name = col.collation:match("^([^.]+)%.([^.]+)$")
    if schema and d == "sqlite" then
      argerror(op, "%s: a schema in collation is not supported on sqlite", what)
    end
    col.collation_parts = schema and { schema, name } or { col.collation }
  end
  if o.not_null ~= nil and o.nullable ~= nil and o.not_null == o.nullable then
    argerror(op, "%s: not_null and nullable contradict each other", what)
  end
  if o.not_null ~= nil then col.not_null = o.not_null
  elseif o.nullable ~= nil then col.not_null = not o.nullable end
  if spec.default ~= nil then
    col.has_default, col.default = true, check_default(op, what .. " default", spec.default)
  end
  if o.references then
    col.references = parse_references(op, what, d, o.references)
    col.references.on_delete, col.references.on_update = o.on_delete, o.on_update
  elseif o.on_delete or o.on_update then
    argerror(op, "%s: on_delete/on_update need references", what)
  end
  if col.type.identity or col.identity then
    local kind = col.identity and "an identity" or "a " .. col.type.portable
    if col.has_default then argerror(op, "%s: %s column cannot have a default", what, kind) end
    if col.not_null == false then argerror(op, "%s: %s column cannot be nullable", what, kind) end
  end
  if col.generated and col.has_default then
    argerror(op, "%s: a generated column cannot have a default", what)
  end
  if col.primary_key and col.not_null == false then
    argerror(op, "%s: a primary key column cannot be nullable", what)
  end
  return col
end

local function references_sql(db, ref)
  local s = "REFERENCES " .. qualified(db, ref.schema, ref.table)
  if ref.columns then s = s .. " " .. column_list(db, ref.columns) end
  if ref.on_delete then s = s .. " ON DELETE " .. ref.on_delete end
  if ref.on_update then s = s .. " ON UPDATE " .. ref.on_update end
  return s
end

-- Renders a column definition. pk is true when the column carries the primary key itself;
-- pk_name names that key (SQLite serial columns take a table-level key inline).
local function column_sql(db, d, col, pk, pk_name)
  local parts = { q(db, col.name) }
  local function add(s) parts[#parts + 1] = s end
  if col.type.identity and d == "sqlite" then
    -- SQLite generates keys only for an INTEGER PRIMARY KEY; AUTOINCREMENT also stops ids of
    -- deleted rows from being reused, which an identity column guarantees on PostgreSQL.
    add("INTEGER")
    if pk_name then add("CONSTRAINT " .. q(db, pk_name)) end
    add("PRIMARY KEY AUTOINCREMENT")
  else
    add(col.type.sql)
    if col.collation then
      local parts = {}
      for i, part in ipairs(col.collation_parts) do parts[i] = q(db, part) end
      add("COLLATE " .. table.concat(parts, "."))
    end
    if col.type.identity then add("GENERATED BY DEFAULT AS IDENTITY") end
    if col.identity then add("GENERATED " .. col.identity .. " AS IDENTITY") end
    if col.generated then add("GENERATED ALWAYS AS (" .. col.generated .. ") STORED") end
    -- SQLite lets most primary key columns hold NULL; spelling NOT NULL keeps both dialects alike.
    if col.not_null or (col.primary_key or pk) and not col.type.identity then add("NOT NULL") end
    if col.has_default then add("DEFAULT " .. default_sql(d, col.default)) end
    if col.primary_key then add("PRIMARY KEY") end
  end
  if col.unique then add("UNIQUE") end
  if col.check then add("CHECK (" .. col.check .. ")") end
  if col.references then add(references_sql(db, col.references)) end
  return table.concat(parts, " ")
end

local function named(db, name)
  return name and "CONSTRAINT " .. q(db, name) .. " " or ""
end

local function primary_key_sql(db, c)
  return named(db, c.name) .. "PRIMARY KEY " .. column_list(db, c.columns)
end

local function unique_sql(db, c)
  return named(db, c.name) .. "UNIQUE " .. column_list(db, c.columns)
end

local function check_constraint_sql(db, c)
  return named(db, c.name) .. "CHECK (" .. c.expr .. ")"
end

local function foreign_key_sql(db, c)
  return named(db, c.name) .. "FOREIGN KEY " .. column_list(db, c.columns) .. " "
    .. references_sql(db, c.references)
end

-- { "a", "b" } or { name = "n", columns = { "a", "b" } } (primary_key and unique entries).
-- A lone column name is accepted for the primary key only: in the unique list, { "a", "b" }
-- could mean one composite key or two single ones.
local function check_key_constraint(op, what, v, allow_name)
  if allow_name and type(v) == "string" then v = { v } end
  if type(v) ~= "table" then
    argerror(op, "%s must be a list of columns or { name = ..., columns = ... }", what)
  end
  if v.columns == nil and v.name == nil then return { columns = check_columns(op, what, v) } end
  local o = check_options(op, v, { name = "name", columns = "columns" }, what)
  if not o.columns then argerror(op, "%s needs columns", what) end
  return o
end

local FOREIGN_KEY_KEYS = {
  name = "name", columns = "columns", references_table = "name", references_columns = "columns",
  references_schema = "name", on_delete = "action", on_update = "action",
}

local function check_foreign_key(op, d, what, v)
  local o = check_options(op, v, FOREIGN_KEY_KEYS, what)
  if not o.columns then argerror(op, "%s needs columns", what) end
  if not o.references_table then argerror(op, "%s needs references_table", what) end
  if o.references_columns and #o.references_columns ~= #o.columns then
    argerror(op, "%s: columns and references_columns differ in length", what)
  end
  refuse_on_sqlite(op, d, o, "references_schema")
  return {
    name = o.name, columns = o.columns,
    references = {
      schema = o.references_schema, table = o.references_table, columns = o.references_columns,
      on_delete = o.on_delete, on_update = o.on_update,
    },
  }
end

return {
  check_column = check_column,
  check_constraint_sql = check_constraint_sql,
  check_default = check_default,
  check_foreign_key = check_foreign_key,
  check_key_constraint = check_key_constraint,
  column_list = column_list,
  column_sql = column_sql,
  default_sql = default_sql,
  fn = fn,
  foreign_key_sql = foreign_key_sql,
  is_fn = is_fn,
  named = named,
  number_literal = number_literal,
  parse_type = parse_type,
  primary_key_sql = primary_key_sql,
  q = q,
  qualified = qualified,
  string_literal = string_literal,
  unique_sql = unique_sql,
}
