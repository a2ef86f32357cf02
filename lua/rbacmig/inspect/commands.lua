-- rbacmig.inspect.commands: the Lua side of `rbacmig schema dump` and `rbacmig diff`
-- (src/cmd_schema.c). The host calls read(db, opts) once per database, inside a READ ONLY
-- transaction it owns, then dump(model) or diff(from, to), which need no database. Each
-- returns { text = what to print for --format text, data = the table printed for --format
-- json, status = 0 | 1 (differences) | 2 (security-weakening differences) }.
--   opts  schemas (a list: the managed schemas, else the default scope), schemas_from
--         (where they were named: "--schema" or "rbacmig.lua: managed_schemas"), and where
--         rbacmig keeps its bookkeeping: schema, version_table, history_table; depends
--         (true: also what depends on what, m.depends, which autogenerate orders by)

local model = require("rbacmig.inspect.model")
local diff = require("rbacmig.inspect.diff")

local M = {}

-- A list the JSON output shows as an array even when empty (src/json_out.h).
local ARRAY = { __json = "array" }

local READERS = {
  postgresql = "rbacmig.inspect.postgresql",
  sqlite = "rbacmig.inspect.sqlite",
}

-- The schemas named by the run (--schema or managed_schemas) and where, kept by read() for
-- dump() and diff(): a name no database read has is a typo, which would otherwise show as
-- an empty dump or "no drift" forever. The module is loaded once per run.
local named

-- Errors unless every named schema is in one of the models (PostgreSQL: SQLite has none).
local function check_named(models)
  if not named or models[1].dialect ~= "postgresql" then return end
  for _, name in ipairs(named.schemas) do
    local found = false
    for _, m in ipairs(models) do found = found or m.objects.schema[name] ~= nil end
    if not found then
      error(string.format("%s names schema '%s', which %s", named.from, name,
        #models == 1 and "the database does not have" or "neither database has"), 0)
    end
  end
end

-- The catalog queries the reader of a dialect runs, { { name =, sql = }, ... }, for the
-- host to send ahead on every connection (src/lua_commands.c, read_models); empty when the
-- reader's queries depend on what it finds (SQLite's, per table).
function M.queries(dialect, with_depends)
  local reader = READERS[dialect]
  local mod = reader and require(reader)
  return mod and mod.query_list and mod.query_list(with_depends) or {}
end

-- prefetched (optional): the rows of queries(db.dialect), by name.
function M.read(db, opts, prefetched)
  opts = opts or {}
  if opts.schemas then named = { schemas = opts.schemas, from = opts.schemas_from or "--schema" } end
  local reader = READERS[db.dialect]
  if not reader then error("schema: cannot read a " .. tostring(db.dialect) .. " database", 0) end
  local bookkeeping = {}
  for _, t in ipairs({ opts.version_table, opts.history_table }) do
    if db.dialect == "postgresql" then
      bookkeeping[#bookkeeping + 1] = (opts.schema or "public") .. "." .. t
    else
      bookkeeping[#bookkeeping + 1] = t
    end
  end
  return require(reader).read(db, { schemas = opts.schemas, bookkeeping = bookkeeping,
    depends = opts.depends }, prefetched)
end

function M.dump(m)
  check_named({ m })
  return { text = model.render_text(m), data = m, status = 0 }
end

function M.diff(from, to)
  if from.dialect ~= to.dialect then
    error(string.format("diff: cannot compare a %s database with a %s one", from.dialect,
      to.dialect), 0)
  end
  check_named({ from, to })
  local diffs = diff.compare(from, to)
  local summary = diff.summary(diffs)
  local status = summary["security-weakening"] > 0 and 2 or summary.total > 0 and 1 or 0
  return {
    text = diff.render_text(diffs, from, to),
    data = { differences = setmetatable(diffs, ARRAY), summary = summary,
      not_compared = { from = from.not_compared, to = to.not_compared } },
    status = status,
  }
end

-- `rbacmig test` (src/cmd_test.c) compares a shadow's schema before a revision's upgrade
-- with the schema after its downgrade: remember(model) keeps the first, one at a time, and
-- since_remembered(model) words what the second differs in as what the downgrade left
-- behind ("leftover"), took away ("missing") or changed. The module is loaded once per run,
-- so the model stays between the two calls.
local remembered

function M.remember(m)
  remembered = m
  return { text = "", data = {}, status = 0 }
end

local WORD = { added = "leftover", dropped = "missing", changed = "changed" }

function M.since_remembered(m)
  if not remembered then error("test: no schema remembered to compare with", 0) end
  local lines = {}
  for _, d in ipairs(diff.compare(remembered, m)) do
    local parts = {}
    for _, c in ipairs(d.changes or {}) do parts[#parts + 1] = c.attribute end
    local line = string.format("%s %s %s", WORD[d.change] or d.change, d.kind,
      model.value_text(d.identity))
    if #parts > 0 then line = line .. " (" .. table.concat(parts, ", ") .. ")" end
    lines[#lines + 1] = line
  end
  return { text = table.concat(lines, "\n"), data = setmetatable(lines, ARRAY),
    status = #lines > 0 and 1 or 0 }
end

return M
