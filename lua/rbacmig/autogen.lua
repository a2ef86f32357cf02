-- rbacmig.autogen: the migration from one schema model to another (rbacmig.inspect.model),
-- as the Lua source of its upgrade and downgrade in the schema API's calls, readable as if
-- written by hand. `rbacmig revision --autogenerate` (rbacmig.autogen.commands) reads the
-- two models, calls generate, proves the result on a shadow and writes the file; `schema
-- export` calls declare.
--
--   generate(from, to, opts) -> { upgrade = text, downgrade = text, changes = { ... } }
--     opts.dialect     "postgresql" | "sqlite" (default: the models')
--     opts.renames     { { kind = "table", from = "old", to = "new" },
--                        { kind = "column", table = "t", from = "old", to = "new" } }
--                      (a table by its name or schema.name, on either side of its rename)
--     opts.allow_drop  drops are allowed (else refused, each listed)
--     upgrade and downgrade are statements indented 4 spaces, "" when the models are equal;
--     changes lists { kind, identity, change, summary } for the upgrade (what is on a table
--     added or dropped goes with it: the table's line stands for them).
--   On refusal it raises { kind = "refused", lines = { "one line per reason" } }.
--
--   declare(model) -> the text of a declaration file creating everything in the model:
--     `return function(db) ... end`, the statements indented 2 spaces.
--
-- The order comes from the models' dependency graphs (rbacmig.autogen.order): creates in
-- dependency order, drops in reverse, an object that must change by being dropped and
-- created again is dropped with the drops and created with the creates. The downgrade is the
-- same generation from `to` back to `from`, with every rename turned around.
--
-- Pure: depends on nothing but base, string and table.

local diff = require("rbacmig.inspect.diff")
local model = require("rbacmig.inspect.model")
local emit = require("rbacmig.autogen.emit")
local names = require("rbacmig.autogen.names")
local order = require("rbacmig.autogen.order")
local rename = require("rbacmig.autogen.rename")

local M = {}

local EMITTERS = {
  postgresql = "rbacmig.autogen.postgresql",
  sqlite = "rbacmig.autogen.sqlite",
}

local function refuse(lines)
  error({ kind = "refused", lines = lines }, 0)
end

-- What an object is on: its table (columns, constraints, indexes, triggers, policies) or the
-- object a grant is on; nil for what stands alone.
local MEMBER_KINDS = { column = true, constraint = true, index = true, trigger = true,
  policy = true }
local GRANT_KIND = { table = "table", view = "view", sequence = "sequence",
  ["function"] = "function", schema = "schema" }

local function container(m, kind, id, attrs)
  if MEMBER_KINDS[kind] then
    local t = names.member_table(m.dialect, kind, id)
    if m.objects.table[t] then return "table " .. t end
    if m.objects.view[t] then return "view " .. t end
    return nil
  end
  -- A sequence OWNED BY a column goes with the column.
  if kind == "sequence" and attrs and attrs.owned_by then return "column " .. attrs.owned_by end
  if kind == "grant" and attrs then
    if attrs.on == "column" then
      return "column " .. attrs.object
    end
    return GRANT_KIND[attrs.on] and GRANT_KIND[attrs.on] .. " " .. attrs.object
  end
  return nil
end

local function summary(d)
  local s = d.kind .. " " .. d.identity .. " " .. d.change
  if d.changes then
    local attrs = {}
    for _, c in ipairs(d.changes) do attrs[#attrs + 1] = c.attribute end
    s = s .. " (" .. table.concat(attrs, ", ") .. ")"
  end
  return s
end

-- Keys ("kind identity") of what depends on each key in model m, transitively.
local function dependents(m)
  local rev = {}
  for key, list in pairs(m.depends or {}) do
    for _, d in ipairs(list) do
      rev[d] = rev[d] or {}
      rev[d][#rev[d] + 1] = key
    end
  end
  return rev
end

-- What must be dropped and created again because something it depends on is: views,
-- triggers and policies over it, foreign keys on a key of it.
local FOLLOWS = { view = true, trigger = true, policy = true, constraint = true, index = true }

local function split_key(key)
  return key:match("^(%S+) (.*)$")
end

-- PostgreSQL gives a new object privileges nobody wrote: PUBLIC may execute a new function
-- (acldefault), and ALTER DEFAULT PRIVILEGES adds its grants (the owner's, for the object's
-- schema or everywhere; one for everywhere replaces acldefault). Those are the grants an
-- object has once created, so the grants it must have are compared with them: what the
-- declaration does not want is revoked after the create. Returns `from` with them added and
-- the set of their identities.
local DEFAULT_OBJECTS = { table = "tables", view = "tables", sequence = "sequences",
  ["function"] = "functions", schema = "schemas" }

-- The grants object `id` of `kind` (attributes a, as `to` has it) has when just created.
local function implied_grants(to, kind, id, a)
  local objects = DEFAULT_OBJECTS[kind]
  local out = {}
  if to.dialect ~= "postgresql" or not objects or not a.owner then return out end
  local schema = kind ~= "schema" and id:match("^([^.]+)%.") or nil
  local acl, global = {}, false
  local function grant(grantee, privileges, grant_option)
    if grantee == a.owner then return end
    local g = acl[grantee] or { privileges = {}, grant_option = {} }
    acl[grantee] = g
    for _, p in ipairs(privileges) do g.privileges[#g.privileges + 1] = p end
    for _, p in ipairs(grant_option or {}) do g.grant_option[#g.grant_option + 1] = p end
  end
  local defaults = {}
  for _, key in ipairs(model.sorted_keys(to.objects.default_privilege)) do
    defaults[#defaults + 1] = to.objects.default_privilege[key]
  end
  for _, d in ipairs(defaults) do
    if d.role == a.owner and d.objects == objects and d.schema == nil then
      global = true
      grant(d.grantee, d.privileges, d.grant_option)
    end
  end
  if not global and kind == "function" then grant("PUBLIC", { "EXECUTE" }) end
  for _, d in ipairs(defaults) do
    if d.role == a.owner and d.objects == objects and schema and d.schema == schema then
      grant(d.grantee, d.privileges, d.grant_option)
    end
  end
  for grantee, g in pairs(acl) do
    local seen, privs, opts = {}, {}, {}
    for _, p in ipairs(g.privileges) do
      if not seen[p] then seen[p] = true; privs[#privs + 1] = p end
    end
    seen = {}
    for _, p in ipairs(g.grant_option) do
      if not seen[p] then seen[p] = true; opts[#opts + 1] = p end
    end
    table.sort(privs)
    table.sort(opts)
    out[kind .. " " .. id .. " TO " .. grantee] = { on = kind, object = id, grantee = grantee,
      privileges = privs, grant_option = #opts > 0 and opts or nil }
  end
  return out
end

local function with_implied_grants(from, to)
  if to.dialect ~= "postgresql" then return from, {} end
  local extra, implied = {}, {}
  for kind in pairs(DEFAULT_OBJECTS) do
    for id, a in pairs(to.objects[kind]) do
      if not from.objects[kind][id] then
        for gid, g in pairs(implied_grants(to, kind, id, a)) do
          extra[gid] = g
          implied[gid] = true
        end
      end
    end
  end
  if next(extra) == nil then return from, implied end
  local out = setmetatable({ dialect = from.dialect, profile = from.profile,
    schemas = from.schemas, not_compared = from.not_compared, objects = {} },
    getmetatable(from))
  for kind, of in pairs(from.objects) do out.objects[kind] = of end
  local grants = {}
  for gid, g in pairs(from.objects.grant) do grants[gid] = g end
  for gid, g in pairs(extra) do grants[gid] = g end
  out.objects.grant = grants
  return out, implied
end

-- The steps from model `from` to model `to` (already renamed), unordered.
local function steps_for(from, to, dialect, indent)
  local E = require(EMITTERS[dialect])
  local implied
  from, implied = with_implied_grants(from, to)
  local ctx = { from = from, to = to, indent = indent, dialect = dialect,
    positions = order.positions(to) }
  local diffs = diff.compare(from, to)
  local steps, changes, unsupported = {}, {}, {}
  local dropped = {}
  for _, d in ipairs(diffs) do
    if d.change == "dropped" then dropped[d.kind .. " " .. d.identity] = true end
  end
  local function add(list, phase, kind, id, m, creates)
    for _, s in ipairs(list) do
      s.phase, s.kind, s.identity, s.model, s.creates = phase, kind, id, m, creates
      steps[#steps + 1] = s
    end
  end
  local function try(f, ...)
    if not f then return nil end
    return f(ctx, ...)
  end
  -- Adds what the emitter E[verb][kind] writes for the object (attributes `a`) as steps of
  -- `phase`, or notes that it cannot write it on this dialect yet.
  local function emit(verb, kind, id, a, phase, m, creates)
    local r = try(E[verb][kind], id, a)
    if type(r) ~= "table" then
      unsupported[#unsupported + 1] = string.format("cannot %s %s %s on %s yet", verb, kind, id,
        dialect)
    else
      add(r, phase, kind, id, m, creates)
    end
  end

  -- What goes with a table (or object) added or dropped is listed with it, not apart.
  local added = {}
  for _, d in ipairs(diffs) do
    if d.change == "added" then added[d.kind .. " " .. d.identity] = true end
  end
  local function part_of_container(d)
    if d.change == "added" then
      local c = container(to, d.kind, d.identity, to.objects[d.kind][d.identity])
      return c and added[c]
    elseif d.change == "dropped" then
      local c = container(from, d.kind, d.identity, from.objects[d.kind][d.identity])
      return c and dropped[c]
    end
    return false
  end

  -- What each difference asks for: create, drop, change (steps), replace (drop + create).
  local plan, keys = {}, {}
  for _, d in ipairs(diffs) do
    local key = d.kind .. " " .. d.identity
    keys[#keys + 1] = key
    local p = { d = d }
    plan[key] = p
    if d.change == "added" then
      p.action = "create"
    elseif d.change == "dropped" then
      local c = container(from, d.kind, d.identity, from.objects[d.kind][d.identity])
      p.action = (c and dropped[c]) and "none" or "drop"
    else
      local r = try(E.change[d.kind], d.identity, from.objects[d.kind][d.identity],
        to.objects[d.kind][d.identity], d.changes)
      if r == "replace" then p.action = "replace"
      elseif type(r) == "table" then p.action, p.steps = "change", r
      else p.action = "unsupported" end
    end
    if implied[d.identity] and d.kind == "grant" then
      -- Revoked after its object is created; a grant kept as it came is no change.
      p.implied = true
    elseif not part_of_container(d) then
      changes[#changes + 1] = { kind = d.kind, identity = d.identity, change = d.change,
        summary = summary(d) }
    end
  end

  -- SQLite: a table whose columns or constraints change in a way its ALTER TABLE and the
  -- schema API cannot is rebuilt whole (E.rebuild), its indexes and triggers with it.
  local rebuild = {}
  if E.rebuild then
    for _, key in ipairs(keys) do
      local p = plan[key]
      local kind, id = split_key(key)
      local t = MEMBER_KINDS[kind] and names.member_table(dialect, kind, id)
      if t and from.objects.table[t] and to.objects.table[t] and p.action ~= "none" then
        local a_from, a_to = from.objects[kind][id], to.objects[kind][id]
        local ok = p.action == "change"
        local creates = p.action == "create" or p.action == "replace"
        local drops = p.action == "drop" or p.action == "replace"
        if creates or drops then
          ok = (not creates or type(try(E.create[kind], id, a_to)) == "table")
            and (not drops or type(try(E.drop[kind], id, a_from)) == "table")
        end
        if not ok and (kind == "column" or kind == "constraint") then rebuild[t] = true end
      elseif kind == "table" and p.action == "replace" then
        rebuild[id] = true
        p.action = "none"
      end
    end
  end

  -- Replaced objects take what depends on them along.
  local rev = dependents(from)
  local queue = {}
  local function replace(key)
    local kind, id = split_key(key)
    local p = plan[key]
    if p and p.action ~= "change" then return end
    if not (FOLLOWS[kind] and from.objects[kind][id] and to.objects[kind][id]) then return end
    if not p then
      p = { d = { kind = kind, identity = id, change = "changed" } }
      plan[key] = p
      keys[#keys + 1] = key
    end
    p.action, p.steps = "replace", nil
    queue[#queue + 1] = key
  end
  for t in pairs(rebuild) do
    for _, kind in ipairs({ "index", "trigger" }) do
      for id in pairs(from.objects[kind]) do
        if names.member_table(dialect, kind, id) == t then replace(kind .. " " .. id) end
      end
    end
    queue[#queue + 1] = "table " .. t
  end
  -- Columns an enum's new type was given to (rbacmig.autogen.postgresql's swap_enum).
  for key in pairs(ctx.retyped or {}) do queue[#queue + 1] = key end
  for _, key in ipairs(keys) do
    local p = plan[key]
    if p.action == "replace" then queue[#queue + 1] = key end
    -- PostgreSQL will not change the type of a column a view or a policy uses.
    if p.action == "change" and p.d.kind == "column" then
      for _, c in ipairs(p.d.changes or {}) do
        if c.attribute == "type" then queue[#queue + 1] = key end
      end
    end
  end
  local seen = {}
  while #queue > 0 do
    local key = table.remove(queue)
    if not seen[key] then
      seen[key] = true
      for _, dep in ipairs(rev[key] or {}) do replace(dep) end
    end
  end

  -- An object dropped and created again loses its grants: they are given again, compared
  -- with what the new object gets by default.
  local replaced = {}
  for _, key in ipairs(keys) do
    local kind = split_key(key)
    if plan[key].action == "replace" and DEFAULT_OBJECTS[kind] then replaced[key] = true end
  end
  if next(replaced) then
    local gids = {}
    for _, m in ipairs({ from, to }) do
      for gid, g in pairs(m.objects.grant) do
        local on = g.on == "column" and "table " .. names.member_table(dialect, "column", g.object)
          or g.on .. " " .. g.object
        if replaced[on] then gids[gid] = on end
      end
    end
    local sorted = {}
    for gid in pairs(gids) do sorted[#sorted + 1] = gid end
    table.sort(sorted)
    local fresh = {}
    for _, gid in ipairs(sorted) do
      local on = gids[gid]
      if not fresh[on] then
        local kind, id = split_key(on)
        fresh[on] = implied_grants(to, kind, id, to.objects[kind][id])
      end
      local key = "grant " .. gid
      if not plan[key] then keys[#keys + 1] = key end
      plan[key] = { d = { kind = "grant", identity = gid, change = "changed" }, action = "regrant",
        before = fresh[on][gid], after = to.objects.grant[gid] }
    end
  end

  for _, key in ipairs(keys) do
    local p = plan[key]
    local kind, id = split_key(key)
    local t = MEMBER_KINDS[kind] and names.member_table(dialect, kind, id)
    local a_from, a_to = from.objects[kind][id], to.objects[kind][id]
    if t and rebuild[t] and (kind == "column" or kind == "constraint") then
      p.action = "none"
    end
    local function do_create() emit("create", kind, id, a_to, "create", to, true) end
    local function do_drop()
      emit("drop", kind, id, a_from, p.implied and "create" or "drop", from)
    end
    if p.action == "create" and kind == "table" then
      do_create()
    elseif p.action == "drop" then
      do_drop()
    elseif p.action == "replace" then
      do_drop()
      do_create()
    elseif p.action == "change" then
      add(p.steps, "create", kind, id, p.implied and from or to)
    elseif p.action == "regrant" then
      add(E.change.grant(ctx, id, p.before, p.after), "create", kind, id, to)
    elseif p.action == "unsupported" then
      unsupported[#unsupported + 1] = string.format("cannot change %s %s on %s yet", kind, id,
        dialect)
    end
  end
  -- Objects created after their tables (a new table says its own columns and constraints).
  for _, key in ipairs(keys) do
    local kind, id = split_key(key)
    if plan[key].action == "create" and kind ~= "table" then
      emit("create", kind, id, to.objects[kind][id], "create", to, true)
    end
  end
  local tables = {}
  for t in pairs(rebuild) do tables[#tables + 1] = t end
  table.sort(tables)
  for _, t in ipairs(tables) do
    add(E.rebuild(ctx, t), "create", "table", t, to)
  end
  if #unsupported > 0 then refuse(unsupported) end
  local real = {}
  for _, d in ipairs(diffs) do
    if not (d.kind == "grant" and implied[d.identity]) then real[#real + 1] = d end
  end
  return steps, changes, real
end

local function render(steps)
  local out = {}
  for _, s in ipairs(steps) do out[#out + 1] = s.code end
  if #out == 0 then return "" end
  return table.concat(out, "\n") .. "\n"
end

-- One direction: renames first, then the drops, then the creates and changes.
local function direction(from, to, renames, dialect, indent)
  local renamed, rename_steps = rename.apply(from, to, renames, dialect, indent)
  local steps, changes, diffs = steps_for(renamed, to, dialect, indent)
  local ordered = order.sort(steps, renamed, to)
  local all = {}
  for _, s in ipairs(rename_steps) do all[#all + 1] = s end
  for _, s in ipairs(ordered) do all[#all + 1] = s end
  for i = #rename_steps, 1, -1 do
    table.insert(changes, 1, { kind = rename_steps[i].kind, identity = rename_steps[i].identity,
      change = "renamed", summary = rename_steps[i].summary })
  end
  return render(all), changes, diffs, renamed
end

function M.generate(from, to, opts)
  opts = opts or {}
  local dialect = opts.dialect or to.dialect or from.dialect
  if not EMITTERS[dialect] then
    error("autogenerate: no generator for dialect " .. tostring(dialect), 0)
  end
  local renames = rename.normalize(from, to, opts.renames or {}, dialect)
  local up, changes, diffs, renamed = direction(from, to, renames, dialect, "    ")

  -- No silent data loss: a drop that looks like a rename, and any other drop without
  -- allow_drop, is refused with every reason listed.
  local lines, lookalike = rename.lookalikes(renamed, to, diffs, dialect)
  if not opts.allow_drop then
    local dropped = {}
    for _, d in ipairs(diffs) do
      if d.change == "dropped" then dropped[d.kind .. " " .. d.identity] = true end
    end
    for _, d in ipairs(diffs) do
      local c = d.change == "dropped"
        and container(renamed, d.kind, d.identity, renamed.objects[d.kind][d.identity])
      if d.change == "dropped" and not (c and dropped[c]) and not lookalike[d.identity] then
        lines[#lines + 1] = string.format("%s %s would be dropped (say --allow-drop)", d.kind,
          d.identity)
      end
    end
  end
  if #lines > 0 then refuse(lines) end

  local down = direction(to, from, rename.reverse(renames), dialect, "    ")
  return { upgrade = up, downgrade = down, changes = changes }
end

-- What a declaration runs on, unless told: an empty database made like the one m was read
-- from. On PostgreSQL that is one with the public schema, its grants and m's default
-- privileges in public: what a shadow brings from the live database before it applies
-- declarations (src/shadow.c, "the environment"), and what a Supabase project has before
-- any migration. The declaration says only what differs from it (other default privileges
-- are declared, before what they apply to), and what it creates gets the grants the
-- defaults give.
local function environment(m)
  local empty = model.new(m.dialect)
  empty.schemas = m.schemas
  if m.dialect ~= "postgresql" then return empty end
  if m.objects.schema.public then empty.objects.schema.public = m.objects.schema.public end
  for gid, g in pairs(m.objects.grant) do
    if g.on == "schema" and g.object == "public" then empty.objects.grant[gid] = g end
  end
  for id, d in pairs(m.objects.default_privilege) do
    if d.schema == "public" then empty.objects.default_privilege[id] = d end
  end
  return empty
end

-- The declaration file of a model: everything in it, created in dependency order.
--   opts.base  the model of the database the declaration will run on (default: environment(m))
function M.declare(m, opts)
  opts = opts or {}
  local empty = opts.base or environment(m)
  local steps = steps_for(empty, m, m.dialect, "  ")
  local text = render(order.sort(steps, empty, m))
  return "-- The schema as declarations (rbacmig schema export): applied to an empty database,\n"
    .. "-- they make what was read.\nreturn function(db)\n" .. text .. "end\n"
end

return M
