-- rbacmig.schema.check: the error convention and argument checking of the schema builder.
--
-- Every operation validates all its arguments before sending anything; a mistake is raised as
-- an ArgError value and definer(M)'s wrapper turns it into a message at the migration's line.
--
-- Depends on nothing but base, string, table and math: it runs inside the migration sandbox.

local util = require("rbacmig.util")

---------------------------------------------------------------------------------------------
-- Errors
---------------------------------------------------------------------------------------------

-- Mistakes in a migration's arguments are raised as util's ArgError values (raise, argerror);
-- each operation is util.public, which re-raises their text at the migration's line.
local ArgError, raise = util.ArgError, util.raise

local function argerror(op, fmt, ...)
  raise("%s: " .. fmt, op, ...)
end

-- Returns define(op, impl), which registers a public operation in M. impl receives the
-- operation name first so that every message can start with it.
local function definer(M)
  return function(op, impl)
    M[op] = util.public(function(db, ...)
      if type(db) ~= "table" then
        raise("%s: call it with a colon, as db:%s(...)", op, op)
      end
      return impl(op, db, ...)
    end)
  end
end

---------------------------------------------------------------------------------------------
-- Argument checking
---------------------------------------------------------------------------------------------

local function sorted_keys(t)
  local keys = {}
  for k in pairs(t) do keys[#keys + 1] = tostring(k) end
  table.sort(keys)
  return table.concat(keys, ", ")
end

local describe = util.describe

local function is_name(v)
  return type(v) == "string" and v ~= "" and not v:find("\0", 1, true)
end

local function check_name(op, what, v)
  if not is_name(v) then
    argerror(op, "%s must be a non-empty string, got %s", what, describe(v))
  end
  return v
end

local function check_sql(op, what, v)
  if type(v) ~= "string" or not v:find("%S") then
    argerror(op, "%s must be a non-empty SQL string, got %s", what, describe(v))
  end
  return v
end

-- A list given as a plain sequence: no holes, no extra keys.
local function check_sequence(op, what, v)
  if type(v) ~= "table" then argerror(op, "%s must be a list, got %s", what, describe(v)) end
  if not util.plain_list(v) then
    argerror(op, "%s must be a plain list (found non-list keys)", what)
  end
  return v
end

-- Lists of names accept one name as a shorthand for a list of one.
local function check_name_list(op, what, v, noun)
  if type(v) == "string" then v = { v } end
  check_sequence(op, what, v)
  if #v == 0 then argerror(op, "%s must name at least one %s", what, noun) end
  for i, c in ipairs(v) do check_name(op, string.format("%s[%d]", what, i), c) end
  return v
end

local function check_columns(op, what, v)
  return check_name_list(op, what, v, "column")
end

local function check_names(op, what, v)
  return check_name_list(op, what, v, "name")
end

local ACTIONS = {
  ["cascade"] = "CASCADE", ["restrict"] = "RESTRICT", ["no action"] = "NO ACTION",
  ["set null"] = "SET NULL", ["set default"] = "SET DEFAULT",
}

local function check_action(op, what, v)
  local action = type(v) == "string" and ACTIONS[v:lower():gsub("_", " ")]
  if not action then
    argerror(op, "%s must be one of cascade, restrict, no action, set null, set default; got %s",
      what, describe(v))
  end
  return action
end

-- Option kinds: each value of an options table is checked (and normalised) by its kind.
-- A table kind is an enumeration mapping lower-case words to their SQL spelling.
local KIND = {
  boolean = function(op, what, v)
    if type(v) ~= "boolean" then
      argerror(op, "%s must be true or false, got %s", what, describe(v))
    end
    return v
  end,
  name = check_name,
  names = check_names,
  columns = check_columns,
  sql = check_sql,
  action = check_action,
  count = function(op, what, v)
    if math.type(v) ~= "integer" or v < 1 then
      argerror(op, "%s must be a positive integer, got %s", what, describe(v))
    end
    return v
  end,
  -- An integer as SQL text: a Lua integer, or a string of digits for what a Lua integer
  -- cannot hold or the catalog gives as text (sequence bounds). The server checks the range.
  integer = function(op, what, v)
    if math.type(v) == "integer" then return string.format("%d", v) end
    if type(v) == "string" and v:match("^%-?%d+$") then return v end
    argerror(op, "%s must be an integer, got %s", what, describe(v))
  end,
  -- A finite number above zero (a function's cost and rows estimates).
  positive = function(op, what, v)
    if type(v) ~= "number" or v ~= v or v <= 0 or v == math.huge then
      argerror(op, "%s must be a number above 0, got %s", what, describe(v))
    end
    return v
  end,
  -- A plain identifier: a letter or _, then letters, digits, _ or $ (renamed_from's old name,
  -- which autogenerate spells into a rename as --rename does, so it can hold no '.' or ':').
  identifier = function(op, what, v)
    if type(v) ~= "string" or not v:match("^[%a_][%w_$]*$") then
      argerror(op, "%s must be an identifier (a letter or _, then letters, digits, _ or $), "
        .. "got %s", what, describe(v))
    end
    return v
  end,
  any = function(_, _, v) return v end,
}

-- Checks an options table against the keys an operation knows; returns a normalised copy.
-- Unknown keys are errors so that a misspelt option never silently does nothing. `where`
-- names a nested table (a column spec, a constraint) instead of the operation's options.
local function check_options(op, options, known, where)
  local prefix, noun = where and where .. ": " or "", where and "key" or "option"
  if options == nil then return {} end
  if type(options) ~= "table" then
    argerror(op, "%s must be a table, got %s", where or "options", describe(options))
  end
  local out = {}
  for k, v in pairs(options) do
    local kind = known[k]
    if kind == nil then
      argerror(op, "%sunknown %s '%s' (known: %s)", prefix, noun, tostring(k), sorted_keys(known))
    end
    local label = string.format("%s%s '%s'", prefix, noun, k)
    if type(kind) == "table" then
      local sql = type(v) == "string" and kind[v:lower()]
      if not sql then
        argerror(op, "%s must be one of %s, got %s", label, sorted_keys(kind), describe(v))
      end
      out[k] = sql
    else
      out[k] = KIND[kind](op, label, v)
    end
  end
  return out
end

local function dialect_of(op, db)
  local d = db.dialect
  if d ~= "postgresql" and d ~= "sqlite" then
    argerror(op, "unknown dialect %s (expected 'postgresql' or 'sqlite')", describe(d))
  end
  return d
end

local function postgresql_only(op, db)
  if dialect_of(op, db) ~= "postgresql" then raise("%s is not supported on sqlite", op) end
end

-- Options that only PostgreSQL can honour are refused on SQLite rather than ignored; false
-- asks for nothing, so `cascade = db.dialect == "postgresql"` stays portable.
local function refuse_on_sqlite(op, d, o, ...)
  if d ~= "sqlite" then return end
  for _, key in ipairs({ ... }) do
    if o[key] ~= nil and o[key] ~= false then
      argerror(op, "option '%s' is not supported on sqlite", key)
    end
  end
end

-- Where the declaration file's code called the operation running now ("file:line"), or the
-- file alone: error() at each level up the stack gives that level's position (the sandbox has
-- no debug library), and the first one in the file is the call. Lua shortens a long file name
-- to "..." and its tail.
local function position_in(file)
  for level = 3, 60 do
    local _, where = pcall(error, "", level)
    local src, line = tostring(where):match("^(.-):(%d+): $")
    if src and (src == file
        or src:sub(1, 3) == "..." and #src > 3 and file:sub(-(#src - 3)) == src:sub(4)) then
      return file .. ":" .. line
    end
  end
  return file
end

-- renamed_from (docs/autogenerate.md, "Renames and drops"): a declaration's way of saying a
-- rename, recorded for autogenerate as `rename` spells it on the command line (--rename
-- TABLE.OLD:NEW or OLD:NEW), with where it was said. The host gives a declaration's `db` a
-- `declaration` table to record in; a migration's `db` has none, and there renamed_from is
-- refused rather than ignored: a migration that says it most likely meant `instead`, and
-- ignoring it would create an empty column where the data was meant to go. `names` are the
-- names spelled into the rename, which must hold no '.', ':' or space to be read back.
local function record_rename(op, db, rename, instead, names)
  local decl = db.declaration
  if type(decl) ~= "table" or type(decl.renames) ~= "table" then
    argerror(op, "option 'renamed_from' belongs in a declaration (schema/*.lua), where "
      .. "autogenerate turns it into a rename; a migration renames with %s", instead)
  end
  for _, name in ipairs(names) do
    if name:find("[.:%s]") then
      argerror(op, "option 'renamed_from' cannot say a rename involving '%s': a name holding "
        .. "'.', ':' or a space cannot be spelt as a rename (write that migration by hand)", name)
    end
  end
  local file = type(decl.file) == "string" and decl.file or "?"
  decl.renames[#decl.renames + 1] = { rename = rename, where = position_in(file) }
end

-- DROP TABLE, DROP COLUMN, DROP SCHEMA and DROP EXTENSION take the same options.
local DROP_OPTIONS = { if_exists = "boolean", cascade = "boolean", schema = "name" }

return {
  ArgError = ArgError,
  DROP_OPTIONS = DROP_OPTIONS,
  argerror = argerror,
  check_columns = check_columns,
  check_name = check_name,
  check_name_list = check_name_list,
  check_options = check_options,
  check_sequence = check_sequence,
  check_sql = check_sql,
  definer = definer,
  describe = describe,
  dialect_of = dialect_of,
  is_name = is_name,
  postgresql_only = postgresql_only,
  raise = raise,
  record_rename = record_rename,
  refuse_on_sqlite = refuse_on_sqlite,
  sorted_keys = sorted_keys,
}
