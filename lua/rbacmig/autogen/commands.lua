-- rbacmig.autogen.commands: the Lua side of `rbacmig revision --autogenerate`, `rbacmig
-- schema export` and the declarations line of `rbacmig check` (src/cmd_autogen.c). The host
-- reads each database's model (rbacmig.inspect.commands.read, in a read transaction it owns)
-- and calls one of these functions with an options table and the models; none of them needs
-- a database. Each returns
--   { status = integer, text = string, lines = { string... }, upgrade = string?,
--     downgrade = string? }
-- whose meaning each function states.
--   opts  renames (a list of the --rename arguments, "TABLE.OLD:NEW" or "OLD:NEW"),
--         declared_renames (the declarations' renamed_from: { rename = as --rename spells
--         it, where = "file:line" }),
--         allow_drop (boolean), against ("from" or "to": what a proof compares with)
--
-- The generator itself is rbacmig.autogen; this module only words its answers, and keeps the
-- two models of one run (the module is loaded once per run) for the proofs that follow.
--
-- The RBAC catalogue is compared too: where both databases have migration 91759229c32b's
-- tables, the permissions, role templates and template grants the "from" database holds are
-- compared with the project's rbac/*.lua, and the difference is written as rbacmig.rbac
-- calls (rbacmig.rbac.delta) after the schema's upgrade and before its downgrade.

local diff = require("rbacmig.inspect.diff")
local catalog = require("rbacmig.rbac.catalog")
local delta = require("rbacmig.rbac.delta")

local M = {}

-- What generate compared: the schema at head (or the live one) and the declared one; and
-- the catalogues (from, and to: the rbac/ files) when there are RBAC tables on both sides.
local kept = {}

-- Per model read here: its RBAC catalogue (rbacmig.rbac.catalog.read, nil without the RBAC
-- tables) and the project's rbac/ model (nil without rbac/ files). Kept beside the model,
-- not in it, so that the model stays what the reader documents.
local rbac_of = setmetatable({}, { __mode = "k" })

-- The project's rbac/ files, validated, or nil when the project has none.
local function rbac_files(db)
  local ok, raw = pcall(db.load_rbac, db)
  if not ok then return nil end
  local rbac = require("rbacmig.rbac")
  return rbac.validate(raw.permissions, raw.roles, raw.files)
end

-- read(db, opts): the model of db (rbacmig.inspect.commands.read), with its catalogue.
function M.read(db, opts, prefetched)
  local m = require("rbacmig.inspect.commands").read(db, opts, prefetched)
  local current = catalog.read(db)
  rbac_of[m] = { current = current, files = current and rbac_files(db) }
  return m
end

-- The catalogue changes from `from` to `to`'s rbac/ model, and that model as a catalogue:
-- nil when either side lacks the RBAC tables or the project has no rbac/ files.
local function rbac_changes(from, to)
  local f, t = rbac_of[from], rbac_of[to]
  if not (f and t and f.current and t.current and t.files) then return nil end
  return delta.changes(f.current, t.files), delta.as_catalogue(t.files)
end

-- A table's identity as the reader writes it: schema.name on PostgreSQL (public when the
-- argument names no schema), the bare name on SQLite.
local function table_identity(dialect, name)
  if dialect == "postgresql" and not name:find(".", 1, true) then return "public." .. name end
  return name
end

-- One --rename argument as the generator's rename, or nil and why not.
--   OLD_TABLE:NEW_TABLE      a table (in OLD_TABLE's schema; public when it names none)
--   SCHEMA.OLD:SCHEMA.NEW    a table, both sides qualified (PostgreSQL)
--   TABLE.OLD:NEW            a column of TABLE (TABLE may be SCHEMA.TABLE)
function M.parse_rename(dialect, arg)
  local bad = string.format("--rename '%s' is not TABLE.OLD:NEW (a column) or "
    .. "OLD_TABLE:NEW_TABLE (a table)", arg)
  local left, right = arg:match("^([^:%s]+):([^:%s]+)$")
  if not left then return nil, bad end
  local function dots(s) return select(2, s:gsub("%.", "")) end
  local most = dialect == "postgresql" and 1 or 0 -- dots a table's identity may hold
  if dots(right) > 0 then
    if dots(right) ~= most or dots(left) ~= most then return nil, bad end
    return { kind = "table", from = left, to = right }
  end
  if dots(left) == 0 then
    local from = table_identity(dialect, left)
    local schema = from:match("^(.*)%.")
    return { kind = "table", from = from, to = schema and schema .. "." .. right or right }
  end
  local tbl, old = left:match("^(.+)%.([^.]+)$")
  if not tbl or dots(tbl) > most or tbl:sub(-1) == "." or tbl:sub(1, 1) == "." then
    return nil, bad
  end
  return { kind = "column", table = table_identity(dialect, tbl), from = old, to = right }
end

local function renames_of(dialect, args)
  local out = {}
  for _, arg in ipairs(args or {}) do
    local r, why = M.parse_rename(dialect, arg)
    if not r then return nil, why end
    out[#out + 1] = r
  end
  return out
end

-- Whether two renames are of the same kind and, for columns, of the same table.
local function same_place(a, b)
  return a.kind == b.kind and (a.kind == "table" or a.table == b.table)
end

-- The declarations' renamed_from (declared: { { rename = "TABLE.OLD:NEW", where = "file:line"
-- }, ... }) merged into the --rename list `renames` (args: its arguments, item for item).
-- The same rename said twice is one; two that share the old or the new name but not both
-- contradict each other: nil and a message naming both. A declared rename whose old table
-- or column is not in `from` is left out: it has been applied (by the migration it gave),
-- and a declaration may keep saying it.
local function merge_declared(from, renames, args, declared)
  local said = {} -- { r, what } of every rename kept, --rename first
  for i, r in ipairs(renames) do
    said[#said + 1] = { r = r, what = "--rename " .. args[i] }
  end
  local fresh = {}
  for _, d in ipairs(declared or {}) do
    local what = string.format("renamed_from at %s (%s)", d.where, d.rename)
    local r, why = M.parse_rename(from.dialect, d.rename)
    if not r then return nil, string.format("%s: %s", d.where, why) end
    local dup = false
    for _, s in ipairs(said) do
      if same_place(s.r, r) then
        local old, new = s.r.from == r.from, s.r.to == r.to
        if old and new then dup = true break end
        if old or new then
          return nil, string.format("%s contradicts %s: say one rename", s.what, what)
        end
      end
    end
    if not dup then
      said[#said + 1] = { r = r, what = what }
      fresh[#fresh + 1] = r
    end
  end
  local objects = from.objects or {}
  local tables, columns = objects.table or {}, objects.column or {}
  local applied = {}
  for _, r in ipairs(fresh) do
    if r.kind == "table" and not tables[r.from] then applied[r] = true end
  end
  for _, r in ipairs(fresh) do
    if r.kind == "column" then
      local told = r.table
      for _, s in ipairs(said) do
        if s.r.kind == "table" and s.r.to == r.table and not applied[s.r] then told = s.r.from end
      end
      if not columns[told .. "." .. r.from] then applied[r] = true end
    end
  end
  local out = {}
  for _, s in ipairs(said) do
    if not applied[s.r] then out[#out + 1] = s.r end
  end
  return out
end

-- generate(opts, from, to): status 0 nothing differs (text says so); 1 a migration, whose
-- upgrade and downgrade bodies are given and whose changes are listed in lines; 2 refused
-- by the generator (a drop without allow_drop, a rename to decide), lines saying what; 3 a
-- --rename argument that names nothing the generator can take, or one that contradicts a
-- declaration's renamed_from, text saying which.
-- A difference the generator has no statement for leaves it out: the proof that follows
-- finds it, and nothing is written.
function M.generate(opts, from, to)
  if from.dialect ~= to.dialect then
    error(string.format("autogenerate: cannot compare a %s database with a %s one",
      from.dialect, to.dialect), 0)
  end
  kept.from, kept.to = from, to
  local renames, why = renames_of(from.dialect, opts.renames)
  if renames then
    renames, why = merge_declared(from, renames, opts.renames or {}, opts.declared_renames)
  end
  if not renames then return { status = 3, text = why, lines = {} } end
  local rbac, want = rbac_changes(from, to)
  kept.rbac_from, kept.rbac_to = rbac and rbac_of[from].current, want
  local schema_same = #diff.compare(from, to) == 0
  if schema_same and (rbac == nil or rbac.upgrade == "") then
    return { status = 0, text = "No changes in schema detected.", lines = {} }
  end
  if rbac and #rbac.drops > 0 and not opts.allow_drop then
    local lines = {}
    for _, d in ipairs(rbac.drops) do
      lines[#lines + 1] = "rbac/: " .. d .. " would be removed: say --allow-drop to remove it"
    end
    return { status = 2, text = "", lines = lines }
  end
  local res = { upgrade = "", downgrade = "", changes = {} }
  if not schema_same then
    local autogen = require("rbacmig.autogen")
    local ok
    ok, res = pcall(autogen.generate, from, to,
      { dialect = from.dialect, renames = renames, allow_drop = opts.allow_drop and true or false })
    if not ok then
      if type(res) == "table" and res.kind == "refused" then
        return { status = 2, text = "", lines = res.lines or {} }
      end
      error(res, 0)
    end
  end
  local lines = {}
  for _, c in ipairs(res.changes or {}) do
    lines[#lines + 1] = c.summary or string.format("%s %s %s", c.change, c.kind, c.identity)
  end
  local upgrade, downgrade = res.upgrade or "", res.downgrade or ""
  if rbac and rbac.upgrade ~= "" then
    -- The catalogue after the schema that holds it, and undone before it.
    for _, l in ipairs(rbac.lines) do lines[#lines + 1] = "rbac: " .. l end
    upgrade = upgrade .. (upgrade ~= "" and "\n" or "") .. rbac.upgrade
    downgrade = rbac.downgrade .. (downgrade ~= "" and "\n" or "") .. downgrade
  end
  return { status = 1, text = "", lines = lines, upgrade = upgrade, downgrade = downgrade }
end

-- prove(opts, model): whether model (the shadow after the generated upgrade, or after the
-- downgrade too) equals what generate kept (opts.against: "to", the declarations; "from",
-- the schema it started from). status 0 equal; 1 not, text the residual differences (as
-- `rbacmig diff` words them: from the shadow to what it should be).
function M.prove(opts, m)
  local expected = kept[opts.against]
  if not expected then error("autogenerate: nothing generated to prove", 0) end
  local diffs = diff.compare(m, expected)
  local text = #diffs > 0 and diff.render_text(diffs, m, expected) or ""
  -- The catalogue: what the calls left must be what they were to make.
  local want = opts.against == "to" and kept.rbac_to or kept.rbac_from
  local got = rbac_of[m] and rbac_of[m].current
  if want and got then
    local rest = delta.between(got, want)
    if rest.upgrade ~= "" then
      text = text .. "the RBAC catalogue differs; what would still have to run:\n" .. rest.upgrade
    end
  end
  return { status = text == "" and 0 or 1, text = text, lines = {} }
end

-- compare(opts, from, to): status 0 equal, 1 differing; text the differences, lines one
-- summary line per difference (check's declarations line).
function M.compare(opts, from, to)
  local diffs = diff.compare(from, to)
  local lines = {}
  for _, d in ipairs(diffs) do lines[#lines + 1] = diff.render_line(d) end
  -- The RBAC catalogue is not compared here: `rbacmig seed` is as good a way to fill it as a
  -- migration, so a catalogue that head lacks is no fault of the declarations.
  return { status = #lines > 0 and 1 or 0, text = diff.render_text(diffs, from, to),
    lines = lines }
end

-- Statements as a declaration file: its leading comment lines, then the statements in
-- `return function(db) ... end`, indented two spaces except inside a long bracket ([[ ]],
-- [==[ ]==]: SQL bodies, whose text must stay as it is). A text that is a declaration file
-- already is kept.
local function as_declaration(text)
  if text:find("^[%-%s%w%p]*return%s+function%s*%(db%)") and text:find("\nend%s*$") then
    return text
  end
  local head, body, open = {}, {}, nil
  for line in (text:gsub("\n$", "") .. "\n"):gmatch("([^\n]*)\n") do
    if #body == 0 and line:find("^%-%-") and not line:find("^%-%-%[=*%[") then
      head[#head + 1] = line
    else
      body[#body + 1] = (open or line == "") and line or "  " .. line
      local pos = 1
      while true do
        if open then
          local _, e = line:find("%]" .. open .. "%]", pos)
          if not e then break end
          open, pos = nil, e + 1
        else
          local s, e, eq = line:find("%[(=*)%[", pos)
          if not s then break end
          open, pos = eq, e + 1
        end
      end
    end
  end
  head[#head + 1] = "return function(db)"
  for _, l in ipairs(body) do head[#head + 1] = l end
  head[#head + 1] = "end"
  return table.concat(head, "\n") .. "\n"
end

-- declare(opts, model): text a declaration file creating the whole model (schema export);
-- status 2 when the generator cannot declare some of it, lines saying what.
function M.declare(opts, m)
  local ok, res = pcall(require("rbacmig.autogen").declare, m)
  if ok then return { status = 0, text = as_declaration(res), lines = {} } end
  if type(res) == "table" and res.kind == "refused" then
    return { status = 2, text = "", lines = res.lines or {} }
  end
  error(res, 0)
end

return M
