-- rbacmig.autogen.rename: renames for autogenerate. A rename is said, never guessed:
-- { kind = "table", from, to } or { kind = "column", table, from, to } (from --rename or a
-- declaration's renamed_from). normalize checks each against the two models, apply turns the
-- `from` model into the one the renames leave (identities, grants, definitions that name the
-- renamed object) and gives the rename_table / rename_column steps, reverse turns them around
-- for the downgrade, and lookalikes finds a drop and an add that look like a rename nobody
-- said, which autogenerate refuses (no silent data loss).
--
-- Pure: depends on nothing but base, string and table.

local emit = require("rbacmig.autogen.emit")
local names = require("rbacmig.autogen.names")
local fields, call = emit.fields, emit.call

local M = {}

local MEMBER_KINDS = { column = true, constraint = true, index = true, trigger = true,
  policy = true }

local function refuse(lines)
  error({ kind = "refused", lines = lines }, 0)
end

-- A table identity in model m from what a user wrote ("t" or "schema.t").
local function find_table(m, dialect, name)
  if dialect == "sqlite" or name:find(".", 1, true) then
    return m.objects.table[name] and name or nil
  end
  local found
  for id in pairs(m.objects.table) do
    local _, n = names.split_table(dialect, id)
    if n == name then
      if found then return nil end
      found = id
    end
  end
  return found
end

-- How a table is shown to a user: without the public schema.
local function shown(dialect, id)
  if dialect == "postgresql" then return (id:gsub("^public%.", "")) end
  return id
end

function M.normalize(from, to, renames, dialect)
  local out, bad = {}, {}
  local table_map = {} -- old id -> new id
  for _, r in ipairs(renames) do
    if r.kind == "table" then
      local old = find_table(from, dialect, r.from)
      local new
      if dialect == "postgresql" and old and not r.to:find(".", 1, true) then
        new = names.split_table(dialect, old) .. "." .. r.to
      else
        new = r.to
      end
      if not old then
        bad[#bad + 1] = string.format("rename of table %s to %s: there is no table %s to rename",
          r.from, r.to, r.from)
      elseif not to.objects.table[new] then
        bad[#bad + 1] = string.format("rename of table %s to %s: table %s is not declared",
          r.from, r.to, r.to)
      elseif to.objects.table[old] then
        bad[#bad + 1] = string.format("rename of table %s to %s: table %s is still declared",
          r.from, r.to, r.from)
      elseif from.objects.table[new] then
        bad[#bad + 1] = string.format("rename of table %s to %s: table %s exists already",
          r.from, r.to, r.to)
      else
        table_map[old] = new
        out[#out + 1] = { kind = "table", from = old, to = new }
      end
    end
  end
  for _, r in ipairs(renames) do
    if r.kind == "column" then
      local tnew = find_table(to, dialect, r.table or "")
      local told
      if tnew then
        for o, n in pairs(table_map) do
          if n == tnew then told = o end
        end
        told = told or (from.objects.table[tnew] and tnew)
      else
        told = find_table(from, dialect, r.table or "")
        tnew = told and (table_map[told] or told)
      end
      local what = string.format("rename of column %s.%s to %s", tostring(r.table), r.from, r.to)
      if not told or not to.objects.table[tnew] then
        bad[#bad + 1] = what .. ": there is no table " .. tostring(r.table)
      elseif not from.objects.column[told .. "." .. r.from] then
        bad[#bad + 1] = string.format("%s: there is no column %s.%s to rename", what,
          shown(dialect, told), r.from)
      elseif not to.objects.column[tnew .. "." .. r.to] then
        bad[#bad + 1] = string.format("%s: column %s.%s is not declared", what,
          shown(dialect, tnew), r.to)
      elseif to.objects.column[tnew .. "." .. r.from] then
        bad[#bad + 1] = string.format("%s: column %s.%s is still declared", what,
          shown(dialect, tnew), r.from)
      else
        out[#out + 1] = { kind = "column", table_from = told, table_to = tnew, from = r.from,
          to = r.to }
      end
    elseif r.kind ~= "table" then
      bad[#bad + 1] = "rename of a " .. tostring(r.kind) .. ": only tables and columns are renamed"
    end
  end
  if #bad > 0 then refuse(bad) end
  return out
end

function M.reverse(renames)
  local out = {}
  for _, r in ipairs(renames) do
    if r.kind == "table" then
      out[#out + 1] = { kind = "table", from = r.to, to = r.from }
    else
      out[#out + 1] = { kind = "column", table_from = r.table_to, table_to = r.table_from,
        from = r.to, to = r.from }
    end
  end
  return out
end

local function escape(s) return (s:gsub("[%^%$%(%)%%%.%[%]%*%+%-%?]", "%%%0")) end

-- `word` replaced as a whole identifier (bare or double-quoted) in text.
local function replace_word(text, old, new)
  if type(text) ~= "string" then return text end
  local e = escape(old)
  text = text:gsub('"' .. e .. '"', '"' .. new .. '"')
  return (text:gsub("%f[%w_$\"]" .. e .. "%f[^%w_$\"]", new))
end

local function copy(v)
  if type(v) ~= "table" then return v end
  local out = {}
  for k, x in pairs(v) do out[k] = copy(x) end
  return setmetatable(out, getmetatable(v))
end

-- The model `m` with one rename applied: map(kind, id) gives the new identity, fix(kind,
-- attrs) edits the attributes of each object.
local function rewrite(m, map, fix)
  local out = { dialect = m.dialect, profile = m.profile, schemas = m.schemas,
    not_compared = m.not_compared, objects = {} }
  for kind, of in pairs(m.objects) do
    local o = {}
    for id, a in pairs(of) do
      local na = fix(kind, copy(a)) or a
      o[map(kind, id, a) or id] = na
    end
    out.objects[kind] = o
  end
  local deps = {}
  for key, list in pairs(m.depends or {}) do
    local function mk(k)
      local kind, id = k:match("^(%S+) (.*)$")
      return kind .. " " .. (map(kind, id) or id)
    end
    local nl = {}
    for i, k in ipairs(list) do nl[i] = mk(k) end
    deps[mk(key)] = nl
  end
  local positions = {}
  for id, p in pairs(m.positions or {}) do positions[map("column", id) or id] = p end
  return setmetatable(out, { __index = { depends = deps, positions = positions } })
end

local function rename_table(m, old, new, dialect)
  local _, oname = names.split_table(dialect, old)
  local _, nname = names.split_table(dialect, new)
  local prefix = old .. "."
  local function map(kind, id, a)
    if (kind == "table") and id == old then return new end
    if MEMBER_KINDS[kind] and id:sub(1, #prefix) == prefix then return new .. "." .. id:sub(#prefix + 1) end
    if kind == "grant" and a and (a.object == old or a.on == "column"
        and a.object:sub(1, #prefix) == prefix) then
      return (id:gsub("^(%S+ )" .. escape(old), "%1" .. new:gsub("%%", "%%%%")))
    end
    if kind == "constraint" and dialect == "sqlite" then
      return (id:gsub("%-> " .. escape(oname) .. "%(", "-> " .. nname .. "("))
    end
    return nil
  end
  local function fix(kind, a)
    if kind == "grant" then
      if a.object == old then a.object = new
      elseif a.on == "column" and a.object:sub(1, #prefix) == prefix then
        a.object = new .. a.object:sub(#prefix)
      end
    elseif kind == "sequence" and a.owned_by and a.owned_by:sub(1, #prefix) == prefix then
      a.owned_by = new .. a.owned_by:sub(#prefix)
    elseif a.definition then
      if dialect == "postgresql" then
        a.definition = a.definition:gsub(" ON " .. escape(old) .. " ", " ON " .. new .. " ")
          :gsub("REFERENCES " .. escape(oname) .. "%(", "REFERENCES " .. nname .. "(")
          :gsub("REFERENCES " .. escape(old) .. "%(", "REFERENCES " .. new .. "(")
      else
        a.definition = replace_word(a.definition, oname, nname)
      end
    end
    if kind == "constraint" and a.references then
      a.references = a.references:gsub("^" .. escape(oname) .. "%(", nname .. "(")
    end
    return a
  end
  return rewrite(m, map, fix)
end

local function rename_column(m, t, old, new, dialect)
  local col = t .. "." .. old
  local prefix = t .. "."
  local function on_table(kind, id)
    return MEMBER_KINDS[kind] and id:sub(1, #prefix) == prefix
  end
  local function map(kind, id, a)
    if kind == "column" and id == col then return t .. "." .. new end
    if kind == "grant" and a and a.on == "column" and a.object == col then
      return (id:gsub(escape(col), (t .. "." .. new):gsub("%%", "%%%%"), 1))
    end
    if kind == "constraint" and dialect == "sqlite" and on_table(kind, id) then
      return (id:gsub("%b()", function(g) return replace_word(g, old, new) end, 1))
    end
    return nil
  end
  local function fix(kind, a)
    if kind == "grant" and a.on == "column" and a.object == col then a.object = t .. "." .. new end
    if kind == "sequence" and a.owned_by == col then a.owned_by = t .. "." .. new end
    if a.columns then
      for i, c in ipairs(a.columns) do if c == old then a.columns[i] = new end end
    end
    return a
  end
  local out = rewrite(m, map, fix)
  -- Definitions of what is on the table name the column.
  for _, kind in ipairs({ "constraint", "index", "trigger", "policy" }) do
    for id, a in pairs(out.objects[kind]) do
      if on_table(kind, id) then
        a.definition = replace_word(a.definition, old, new)
        a.using = replace_word(a.using, old, new)
        a.with_check = replace_word(a.with_check, old, new)
      end
    end
  end
  return out
end

-- PostgreSQL names a table's keys, indexes and identity sequences after the table
-- (orgs_pkey); after a table rename they keep the old name. Where `to` has the same object
-- under the new table's name, it is renamed too, not dropped and created again.
local function qi(name)
  if name:find("^[a-z_][a-z0-9_$]*$") then return name end
  return '"' .. name:gsub('"', '""') .. '"'
end

function M.follow_names(m, to, t, oname, nname, steps, indent)
  local s = names.split_table("postgresql", t)
  local renames = {}
  local function follow(kind, id, build)
    local _, n = names.split_member(id)
    if kind == "sequence" then n = select(2, names.split_table("postgresql", id)) end
    if n:sub(1, #oname + 1) ~= oname .. "_" then return end
    local nn = nname .. n:sub(#oname + 1)
    local nid = (kind == "sequence" and s .. "." or t .. ".") .. nn
    if to.objects[kind][nid] and not to.objects[kind][id] and not m.objects[kind][nid] then
      renames[#renames + 1] = { kind = kind, id = id, nid = nid }
      local sql = build(n, nn)
      steps[#steps + 1] = { kind = kind, identity = id, summary = kind .. " " .. id
        .. " renamed to " .. nn, code = indent .. "db:exec(" .. emit.string(sql) .. ")" }
    end
  end
  local prefix = t .. "."
  for _, kind in ipairs({ "constraint", "index" }) do
    local ids = {}
    for id in pairs(m.objects[kind]) do
      if id:sub(1, #prefix) == prefix then ids[#ids + 1] = id end
    end
    table.sort(ids)
    for _, id in ipairs(ids) do
      follow(kind, id, function(n, nn)
        if kind == "constraint" then
          return "ALTER TABLE " .. qi(s) .. "." .. qi(nname) .. " RENAME CONSTRAINT " .. qi(n)
            .. " TO " .. qi(nn)
        end
        return "ALTER INDEX " .. qi(s) .. "." .. qi(n) .. " RENAME TO " .. qi(nn)
      end)
    end
  end
  local seqs = {}
  for id, a in pairs(m.objects.sequence) do
    if a.owned_by and a.owned_by:sub(1, #prefix) == prefix then seqs[#seqs + 1] = id end
  end
  table.sort(seqs)
  for _, id in ipairs(seqs) do
    follow("sequence", id, function(n, nn)
      return "ALTER SEQUENCE " .. qi(s) .. "." .. qi(n) .. " RENAME TO " .. qi(nn)
    end)
  end
  if #renames == 0 then return m end
  local map = {}
  for _, r in ipairs(renames) do map[r.kind .. " " .. r.id] = r.nid end
  return rewrite(m, function(kind, id) return map[kind .. " " .. id] end,
    function(_, a) return a end)
end

function M.apply(from, to, renames, dialect, indent)
  local m, steps = from, {}
  local function with_schema(args, id)
    local s = names.split_table(dialect, id)
    if dialect == "postgresql" and s ~= "public" then
      args[#args + 1] = fields({ { "schema", s } })
    end
    return args
  end
  for _, r in ipairs(renames) do
    if r.kind == "table" then
      local so, on = names.split_table(dialect, r.from)
      local sn, nn = names.split_table(dialect, r.to)
      if so ~= sn then refuse({ string.format("rename of table %s to %s: a table moves to "
        .. "another schema by hand, not by a rename", r.from, r.to) }) end
      m = rename_table(m, r.from, r.to, dialect)
      steps[#steps + 1] = { kind = "table", identity = r.from,
        summary = "table " .. r.from .. " renamed to " .. r.to,
        code = call(indent, "rename_table", with_schema({ on, nn }, r.from)) }
      if dialect == "postgresql" then
        m = M.follow_names(m, to, r.to, on, nn, steps, indent)
      end
    end
  end
  for _, r in ipairs(renames) do
    if r.kind == "column" then
      local _, tn = names.split_table(dialect, r.table_to)
      m = rename_column(m, r.table_to, r.from, r.to, dialect)
      steps[#steps + 1] = { kind = "column", identity = r.table_to .. "." .. r.from,
        summary = "column " .. r.table_to .. "." .. r.from .. " renamed to " .. r.to,
        code = call(indent, "rename_column", with_schema({ tn, r.from, r.to }, r.table_to)) }
    end
  end
  return m, steps
end

-- Lines for the drops that look like renames: a column dropped and one of the same type
-- added to the same table; a table dropped and one with the same columns added.
function M.lookalikes(from, to, diffs, dialect)
  local lines, seen = {}, {}
  local dropped_cols, added_cols, dropped_tabs, added_tabs = {}, {}, {}, {}
  for _, d in ipairs(diffs) do
    if d.kind == "column" then
      local t, c = d.identity:match("^(.*)%.([^.]*)$")
      if d.change == "dropped" and to.objects.table[t] then
        dropped_cols[#dropped_cols + 1] = { t = t, c = c, a = from.objects.column[d.identity] }
      elseif d.change == "added" and from.objects.table[t] then
        added_cols[#added_cols + 1] = { t = t, c = c, a = to.objects.column[d.identity] }
      end
    elseif d.kind == "table" then
      if d.change == "dropped" then dropped_tabs[#dropped_tabs + 1] = d.identity
      elseif d.change == "added" then added_tabs[#added_tabs + 1] = d.identity end
    end
  end
  for _, dc in ipairs(dropped_cols) do
    for _, ac in ipairs(added_cols) do
      if dc.t == ac.t and dc.a.type == ac.a.type and not seen[ac.t .. "." .. ac.c] then
        seen[ac.t .. "." .. ac.c] = true
        seen[dc.t .. "." .. dc.c] = true
        local t = shown(dialect, dc.t)
        lines[#lines + 1] = string.format("column %s.%s dropped and %s.%s added: a rename? "
          .. "say --rename %s.%s:%s or renamed_from", t, dc.c, t, ac.c, t, dc.c, ac.c)
        break
      end
    end
  end
  local function column_set(m, t)
    local list, prefix = {}, t .. "."
    for id in pairs(m.objects.column) do
      if id:sub(1, #prefix) == prefix and not id:find(".", #prefix + 1, true) then
        list[#list + 1] = id:sub(#prefix + 1)
      end
    end
    table.sort(list)
    return table.concat(list, ",")
  end
  for _, dt in ipairs(dropped_tabs) do
    for _, at in ipairs(added_tabs) do
      if not seen[at] and column_set(from, dt) == column_set(to, at) then
        seen[at], seen[dt] = true, true
        lines[#lines + 1] = string.format("table %s dropped and %s added: a rename? say "
          .. "--rename %s:%s or renamed_from", shown(dialect, dt), shown(dialect, at),
          shown(dialect, dt), shown(dialect, at))
        break
      end
    end
  end
  return lines, seen
end

return M
