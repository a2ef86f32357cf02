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
--     changes lists { kind, identity, change, summary } for the upgrade.
--   On refusal it raises { kind = "refused", lines = { "one line per reason" } }.
--
--   declare(model) -> the text of a declaration file creating everything in the model.
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

-- The steps from model `from` to model `to` (already renamed), unordered.
local function steps_for(from, to, dialect, indent)
  local E = require(EMITTERS[dialect])
  local ctx = { from = from, to = to, indent = indent, dialect = dialect,
    positions = order.positions(to) }
  local diffs = diff.compare(from, to)
  local steps, changes, unsupported = {}, {}, {}
  local dropped = {}
  for _, d in ipairs(diffs) do
    if d.change == "dropped" then dropped[d.kind .. " " .. d.identity] = true end
  end
  local function add(list, phase, kind, id, attrs_model)
    for _, s in ipairs(list) do
      s.phase, s.kind, s.identity = phase, kind, id
      s.model = attrs_model
      steps[#steps + 1] = s
    end
  end
  local function emitter(table_, kind)
    local f = table_[kind]
    if not f then return nil end
    return f
  end
  local function do_create(kind, id, attrs)
    local f = emitter(E.create, kind)
    local r = f and f(ctx, id, attrs)
    if type(r) ~= "table" then
      unsupported[#unsupported + 1] = string.format("cannot create %s %s on %s yet", kind, id,
        dialect)
      return
    end
    add(r, "create", kind, id, to)
  end
  local function do_drop(kind, id, attrs)
    local f = emitter(E.drop, kind)
    local r = f and f(ctx, id, attrs)
    if type(r) ~= "table" then
      unsupported[#unsupported + 1] = string.format("cannot drop %s %s on %s yet", kind, id,
        dialect)
      return
    end
    add(r, "drop", kind, id, from)
  end

  -- Creates of new tables first (they say their own columns and constraints).
  for _, d in ipairs(diffs) do
    if d.change == "added" and d.kind == "table" then
      do_create(d.kind, d.identity, to.objects[d.kind][d.identity])
    end
  end
  for _, d in ipairs(diffs) do
    local before, after = from.objects[d.kind][d.identity], to.objects[d.kind][d.identity]
    if d.change == "added" then
      if d.kind ~= "table" then do_create(d.kind, d.identity, after) end
    elseif d.change == "dropped" then
      -- What goes with its table or object is not dropped on its own.
      local c = container(from, d.kind, d.identity, before)
      if not (c and dropped[c]) then do_drop(d.kind, d.identity, before) end
    else
      local f = emitter(E.change, d.kind)
      local r = f and f(ctx, d.identity, before, after, d.changes)
      if r == "replace" then
        do_drop(d.kind, d.identity, before)
        do_create(d.kind, d.identity, after)
      elseif type(r) == "table" then
        add(r, "create", d.kind, d.identity, to)
      else
        unsupported[#unsupported + 1] = string.format("cannot change %s %s on %s yet", d.kind,
          d.identity, dialect)
      end
    end
    changes[#changes + 1] = { kind = d.kind, identity = d.identity, change = d.change,
      summary = summary(d) }
  end
  if #unsupported > 0 then refuse(unsupported) end
  return steps, changes, diffs
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

-- The declaration file of a model: everything in it, created in dependency order.
function M.declare(m, opts)
  opts = opts or {}
  local empty = model.new(m.dialect)
  empty.schemas = m.schemas
  -- What exists in every database (the public schema, plpgsql) is not declared.
  if m.dialect == "postgresql" then
    if m.objects.schema.public then empty.objects.schema.public = m.objects.schema.public end
  end
  local steps = steps_for(empty, m, m.dialect, "")
  local text = render(order.sort(steps, empty, m))
  return "-- Declared schema (rbacmig schema export)\n" .. text
end

M.emit = emit
return M
