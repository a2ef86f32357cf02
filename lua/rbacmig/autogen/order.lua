-- rbacmig.autogen.order: the order of a migration's steps. Drops come first, in reverse
-- dependency order (what depends on an object is dropped before it); then creates and
-- changes, in dependency order (an object after what it depends on). Dependencies are the
-- model's `depends` map where the reader kept one (PostgreSQL: pg_depend, SQLite: foreign
-- keys and the tables views and triggers name), plus what every model implies: what is on a
-- table after the table, a grant after its object. Between steps the graph leaves free, the
-- order of the model's kinds (rbacmig.inspect.model.KINDS) and then the identity decide, so
-- the same models always give the same text.
--
-- The readers keep `depends` and column positions out of the dump: they are fields of the
-- model's metatable (__index), which neither the text nor the JSON rendering walks.
--
-- Pure: depends on nothing but base, string and table.

local model = require("rbacmig.inspect.model")
local names = require("rbacmig.autogen.names")

local M = {}

-- The hidden parts of a model, or empty tables.
function M.depends(m) return m.depends or {} end
function M.positions(m) return m.positions or {} end

-- Attaches hidden parts to a model (the readers' side).
function M.attach(m, hidden)
  local mt = getmetatable(m)
  if not mt then
    mt = {}
    setmetatable(m, mt)
  end
  local index = mt.__index or {}
  for k, v in pairs(hidden) do index[k] = v end
  mt.__index = index
  return m
end

local MEMBER_KINDS = { column = true, constraint = true, index = true, trigger = true,
  policy = true }

-- The keys ("kind identity") an object of model m depends on by what it is.
local function implied(m, kind, id)
  local out = {}
  if MEMBER_KINDS[kind] then
    local t = names.member_table(m.dialect, kind, id)
    if t and m.objects.table[t] then out[#out + 1] = "table " .. t end
    if t and m.objects.view[t] then out[#out + 1] = "view " .. t end
  end
  if kind == "grant" then
    local g = m.objects.grant[id]
    if g then
      if g.on == "column" then
        out[#out + 1] = "column " .. g.object
        -- A REVOKE on the table takes the same privileges off its columns too, so a
        -- grantee's column grants come after what changes its grant on the table.
        local t = names.member_table(m.dialect, "column", g.object)
        if t then out[#out + 1] = "grant table " .. t .. " TO " .. g.grantee end
      else
        out[#out + 1] = g.on .. " " .. g.object
      end
    end
  end
  if kind == "constraint" and m.dialect == "postgresql" then
    -- A foreign key after the key it references (the key's table is in pg_depend).
    local a = m.objects.constraint[id]
    if a and a.type == "foreign key" then
      for other, b in pairs(m.objects.constraint) do
        if (b.type == "primary key" or b.type == "unique") and other ~= id then
          local t = names.split_member(other)
          local _, tn = names.split_table("postgresql", t)
          if a.definition:find("REFERENCES " .. tn .. "(", 1, true)
              or a.definition:find("REFERENCES " .. t .. "(", 1, true) then
            out[#out + 1] = "constraint " .. other
          end
        end
      end
    end
  end
  if kind == "function" and m.dialect == "postgresql" then
    -- PostgreSQL checks a SQL function's body when it is created but records no dependency
    -- on what the body calls (only BEGIN ATOMIC bodies have one): a function after the
    -- functions its body names, as schema.name( or, in its own schema, name(.
    local a = m.objects["function"][id]
    local own = id:match("^(.-)%.[^.(]*%(")
    if a and a.body then
      for other in pairs(m.objects["function"]) do
        local schema, name = other:match("^(.-)%.([^.(]*)%(")
        if other ~= id and name then
          local pattern = "%f[%w_.]" .. name:gsub("%p", "%%%0") .. "%s*%("
          if a.body:find(schema .. "." .. name .. "(", 1, true)
              or (schema == own and a.body:find(pattern)) then
            out[#out + 1] = "function " .. other
          end
        end
      end
    end
  end
  if kind == "table" and m.dialect == "sqlite" then
    -- A table after the tables its foreign keys name is only tidier: SQLite does not ask.
    return out
  end
  return out
end

-- Rank of a step between the free ones.
local function rank(s)
  local r = model.KIND_RANK[s.kind] or 99
  if s.kind == "constraint" and s.model and s.model.objects.constraint[s.identity]
      and s.model.objects.constraint[s.identity].type == "foreign key" then
    r = r + 0.5
  end
  return r
end

function M.sort(steps, from, to)
  local n = #steps
  local by_key = { drop = {}, create = {} }
  for i, s in ipairs(steps) do
    s.seq = i
    -- A step that waits for another object (s.after) is not one of its object's chain: what
    -- depends on the object need not wait for it.
    s.key = s.kind .. " " .. s.identity .. (s.after and " (after)" or "")
    local list = by_key[s.phase][s.key]
    if not list then
      list = {}
      by_key[s.phase][s.key] = list
    end
    list[#list + 1] = s
  end

  local after = {} -- after[s] = steps that must come before s
  for _, s in ipairs(steps) do after[s] = {} end
  local function edge(first, second) after[second][#after[second] + 1] = first end

  -- Steps of one object keep their order.
  for _, phase in pairs(by_key) do
    for _, list in pairs(phase) do
      for i = 2, #list do edge(list[i - 1], list[i]) end
    end
  end
  -- Every drop before every create.
  local drops_left = 0
  for _, s in ipairs(steps) do
    if s.phase == "drop" then drops_left = drops_left + 1 end
  end

  local to_deps, from_deps = M.depends(to), M.depends(from)
  local function deps_of(m, deps, key, kind, id)
    local out = {}
    for _, d in ipairs(deps[key] or {}) do out[#out + 1] = d end
    for _, d in ipairs(implied(m, kind, id)) do out[#out + 1] = d end
    return out
  end
  -- The steps of an object, or else of the table it is on: a column or constraint of a new
  -- table is made by its create_table, and goes with its table's drop.
  local function steps_of(phase, m, key)
    local list = by_key[phase][key]
    if list then return list end
    local kind, id = key:match("^(%S+) (.*)$")
    if kind and MEMBER_KINDS[kind] then
      local t = names.member_table(m.dialect, kind, id)
      return t and (by_key[phase]["table " .. t] or by_key[phase]["view " .. t])
    end
    return nil
  end

  for _, s in ipairs(steps) do
    if s.phase == "create" then
      -- A step may name one more object it needs (a sequence's OWNED BY, its column).
      for _, key in ipairs(s.after or {}) do
        local list = by_key.create[key]
        if list then edge(list[#list], s) end
      end
      for _, d in ipairs(deps_of(s.model or to, to_deps, s.key, s.kind, s.identity)) do
        local list = steps_of("create", to, d)
        if list and list[#list] ~= s and d ~= s.key then edge(list[#list], s) end
      end
    end
  end
  -- What is created gets the grants of the default privileges in force at that moment, and
  -- the generator counted on the new ones (autogen's implied grants): they change first.
  local NEW_GETS_DEFAULTS = { table = true, view = true, sequence = true, ["function"] = true }
  for _, d in ipairs(steps) do
    if d.phase == "create" and d.kind == "default_privilege" then
      for _, s in ipairs(steps) do
        if s.creates and NEW_GETS_DEFAULTS[s.kind] then edge(d, s) end
      end
    end
  end
  -- A drop waits for the drops of what depends on it (of their tables, when they go with
  -- them): over every dependency of the old model, not only of what is dropped, since a
  -- foreign key goes with its table.
  for key, list in pairs(from_deps) do
    local kind, id = key:match("^(%S+) (.*)$")
    local implied_list = implied(from, kind, id)
    local all = {}
    for _, d in ipairs(list) do all[#all + 1] = d end
    for _, d in ipairs(implied_list) do all[#all + 1] = d end
    local mine = steps_of("drop", from, key)
    if mine then
      for _, d in ipairs(all) do
        local theirs = steps_of("drop", from, d)
        if theirs and theirs[1] ~= mine[1] then edge(mine[#mine], theirs[1]) end
      end
    end
  end
  for _, s in ipairs(steps) do
    if s.phase == "drop" and by_key.drop[s.key][1] == s and not from_deps[s.key] then
      for _, d in ipairs(implied(from, s.kind, s.identity)) do
        local theirs = steps_of("drop", from, d)
        if theirs and theirs[1] ~= s then edge(s, theirs[1]) end
      end
    end
  end

  -- Kahn's algorithm, taking the free step of lowest (phase, rank, identity, seq).
  local placed, out = {}, {}
  local function before(a, b)
    if a.phase ~= b.phase then return a.phase == "drop" end
    local ra, rb = rank(a), rank(b)
    if a.phase == "drop" then ra, rb = -ra, -rb end
    if ra ~= rb then return ra < rb end
    if a.identity ~= b.identity then return a.identity < b.identity end
    return a.seq < b.seq
  end
  local function ready(s)
    if s.phase == "create" and drops_left > 0 then return false end
    for _, p in ipairs(after[s]) do
      if not placed[p] then return false end
    end
    return true
  end
  while #out < n do
    local best
    for _, s in ipairs(steps) do
      if not placed[s] and ready(s) and (not best or before(s, best)) then best = s end
    end
    if not best then
      -- A cycle: the remaining steps in rank order.
      for _, s in ipairs(steps) do
        if not placed[s] and (not best or before(s, best)) then best = s end
      end
    end
    placed[best] = true
    if best.phase == "drop" then drops_left = drops_left - 1 end
    out[#out + 1] = best
  end
  return out
end

return M
