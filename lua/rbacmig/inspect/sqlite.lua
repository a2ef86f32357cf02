-- rbacmig.inspect.sqlite: reads a SQLite database into the model (rbacmig.inspect.model).
-- SQLite keeps the text it was given; what it also knows as structure is read through its
-- pragmas (columns, keys, foreign keys, indexes), and only what exists as text alone (CHECK
-- expressions, index, trigger and view definitions) is compared as text, with runs of
-- white space made one. Constraints SQLite does not name are identified by what they hold
-- (table.unique(a, b), table.foreign key(a) -> p(id)); a named CHECK by its name.
--
-- Only reads (through db:query).

local model = require("rbacmig.inspect.model")
local scope_mod = require("rbacmig.inspect.scope")
local parse = require("rbacmig.schema.sqlite_parse")

local M = {}

-- White space outside quotes made one space; quoted text kept as it is.
function M.squash(sql)
  if not sql then return nil end
  local out, i, n = {}, 1, #sql
  while i <= n do
    local c = sql:sub(i, i)
    if c == "'" or c == '"' or c == "`" or c == "[" then
      local close = c == "[" and "]" or c
      local j = i + 1
      while true do
        local at = sql:find(close, j, true)
        if not at then j = n break end
        if close ~= "]" and sql:sub(at + 1, at + 1) == close then j = at + 2
        else j = at break end
      end
      out[#out + 1] = sql:sub(i, j)
      i = j + 1
    elseif c:find("%s") then
      local j = i
      while j <= n and sql:sub(j, j):find("%s") do j = j + 1 end
      out[#out + 1] = " "
      i = j
    else
      local j = i
      while j <= n and not sql:sub(j, j):find("[%s'\"`%[]") do j = j + 1 end
      out[#out + 1] = sql:sub(i, j - 1)
      i = j
    end
  end
  local s = table.concat(out):gsub("^ ", ""):gsub(" $", ""):gsub(" ?; ?$", "")
  return s
end

local function put(attrs, key, value)
  if value ~= nil and value ~= "" then attrs[key] = value end
end

local function cols(list)
  return table.concat(list, ", ")
end

local function read_table(db, m, name, sql, hidden)
  local parsed = parse.parse_create_table("schema dump", sql)
  local tail = (parsed.tail or ""):upper()
  local t = {}
  if tail:find("WITHOUT%s+ROWID") then t.without_rowid = true end
  if tail:find("STRICT") then t.strict = true end
  model.add(m, "table", name, t)

  local clauses = {}
  for _, c in ipairs(parsed.columns) do clauses[c.name] = c.clauses end

  local pk = {}
  local columns = db:query("SELECT name, type, \"notnull\" AS not_null, dflt_value, pk, hidden, "
    .. "cid FROM pragma_table_xinfo(?) ORDER BY cid", name)
  for _, r in ipairs(columns) do
    local a = { type = r.type, not_null = r.not_null == 1 }
    put(a, "default", r.dflt_value)
    if r.hidden == 2 or r.hidden == 3 then
      for _, clause in ipairs(clauses[r.name] or {}) do
        if clause.kind == "generated" then a.generated = M.squash(clause.text) end
      end
      if r.hidden == 3 then a.stored = true end
    end
    for _, clause in ipairs(clauses[r.name] or {}) do
      if clause.kind == "collate" then a.collation = M.squash(clause.text:gsub("^%S+%s*", "")) end
      if clause.kind == "primary_key" and clause.autoincrement then a.autoincrement = true end
    end
    if r.hidden ~= 1 then
      model.add(m, "column", name .. "." .. r.name, a)
      hidden.positions[name .. "." .. r.name] = r.cid
    end
    if r.pk > 0 then pk[r.pk] = r.name end
  end
  if #pk > 0 then
    model.add(m, "constraint", name .. ".primary key", { type = "primary key", columns = pk })
  end

  for _, r in ipairs(db:query("SELECT name, \"unique\" AS is_unique, origin, partial "
      .. "FROM pragma_index_list(?)", name)) do
    if r.origin == "u" then
      local members = {}
      local info = db:query("SELECT name FROM pragma_index_info(?) ORDER BY seqno", r.name)
      for _, c in ipairs(info) do
        members[#members + 1] = c.name or "(expression)"
      end
      model.add(m, "constraint", name .. ".unique(" .. cols(members) .. ")",
        { type = "unique", columns = members })
    end
  end

  local fks = {}
  for _, r in ipairs(db:query("SELECT id, seq, \"table\" AS ref, \"from\" AS col, \"to\" AS ref_col, "
      .. "on_update, on_delete, \"match\" AS match_type FROM pragma_foreign_key_list(?) "
      .. "ORDER BY id, seq", name)) do
    local fk = fks[r.id + 1]
    if not fk then
      fk = { ref = r.ref, from = {}, to = {}, on_update = r.on_update, on_delete = r.on_delete,
        match = r.match_type }
      fks[r.id + 1] = fk
    end
    fk.from[#fk.from + 1] = r.col
    fk.to[#fk.to + 1] = r.ref_col or "(primary key)"
  end
  for _, fk in pairs(fks) do
    local references = fk.ref .. "(" .. cols(fk.to) .. ")"
    local a = { type = "foreign key", columns = fk.from, references = references,
      on_update = fk.on_update, on_delete = fk.on_delete }
    if fk.match ~= "NONE" then a.match = fk.match end
    local id = name .. ".foreign key(" .. cols(fk.from) .. ") -> " .. references
    model.add(m, "constraint", id, a)
    hidden.refs[#hidden.refs + 1] = { "constraint " .. id, fk.ref }
  end

  -- CHECKs exist only as text: a column's and the table's, by name when named.
  local function add_check(con_name, text, column)
    local expr = M.squash(text:gsub("^[Cc][Hh][Ee][Cc][Kk]%s*", ""))
    local id = name .. "." .. (con_name or "check" .. expr)
    local a = { type = "check", definition = expr }
    put(a, "column", column)
    model.add(m, "constraint", id, a)
  end
  for _, c in ipairs(parsed.columns) do
    for _, clause in ipairs(c.clauses) do
      if clause.kind == "check" then add_check(clause.name, clause.text, c.name) end
    end
  end
  for _, con in ipairs(parsed.constraints) do
    if con.kind == "check" then add_check(con.name, con.text) end
  end
end

-- What depends on what, as "kind identity" keys (rbacmig.autogen.order): a foreign key on
-- the table it references, a view or a trigger on each table or view its text names.
local function depends_of(m, hidden)
  local deps = {}
  local function add(key, ref)
    if key == ref then return end
    deps[key] = deps[key] or {}
    table.insert(deps[key], ref)
  end
  local relations = {}
  for t in pairs(m.objects.table) do relations[#relations + 1] = { "table " .. t, t } end
  for v in pairs(m.objects.view) do relations[#relations + 1] = { "view " .. v, v } end
  table.sort(relations, function(a, b) return a[1] < b[1] end)
  for _, r in ipairs(hidden.refs) do
    if m.objects.table[r[2]] then add(r[1], "table " .. r[2]) end
  end
  for _, kind in ipairs({ "view", "trigger" }) do
    for id, a in pairs(m.objects[kind]) do
      local words = {}
      for w in a.definition:lower():gmatch("[%w_]+") do words[w] = true end
      for q in a.definition:lower():gmatch('"([^"]+)"') do words[q] = true end
      for _, rel in ipairs(relations) do
        if words[rel[2]:lower()] then add(kind .. " " .. id, rel[1]) end
      end
    end
  end
  for _, list in pairs(deps) do table.sort(list) end
  return deps
end

function M.read(db, opts)
  local m = model.new("sqlite")
  local hidden = { positions = {}, refs = {} }
  local scope = scope_mod.new("sqlite", {}, opts)
  local rows = db:query("SELECT type, name, tbl_name, sql FROM sqlite_master "
    .. "WHERE sql IS NOT NULL ORDER BY type, name")
  local virtual = 0
  for _, r in ipairs(rows) do
    if r.type == "table" and scope:table(nil, r.name) then
      if r.sql:upper():find("^%s*CREATE%s+VIRTUAL") then
        virtual = virtual + 1
      else
        read_table(db, m, r.name, r.sql, hidden)
      end
    end
  end
  for _, r in ipairs(rows) do
    if r.type ~= "table" and scope:table(nil, r.tbl_name) and m.objects.table[r.tbl_name] then
      if r.type == "index" then
        model.add(m, "index", r.tbl_name .. "." .. r.name, { definition = M.squash(r.sql) })
      elseif r.type == "trigger" then
        model.add(m, "trigger", r.tbl_name .. "." .. r.name, { definition = M.squash(r.sql) })
      end
    elseif r.type == "view" and scope:table(nil, r.name) then
      model.add(m, "view", r.name, { definition = M.squash(r.sql) })
    elseif r.type == "trigger" and scope:table(nil, r.tbl_name) then
      -- A trigger on a view (INSTEAD OF).
      model.add(m, "trigger", r.tbl_name .. "." .. r.name, { definition = M.squash(r.sql) })
    end
  end
  model.count(m, "virtual table", virtual)
  -- Kept beside the model, not in it (see the header of rbacmig.autogen.order).
  setmetatable(m, { __index = { depends = depends_of(m, hidden), positions = hidden.positions } })
  return m
end

return M
