-- rbacmig.inspect.diff: what differs between two schema models (rbacmig.inspect.model), each
-- difference classified, and its rendering as text. A pure function of two models: no
-- database, no I/O.
--
-- A difference is { kind, identity, change = "added"|"dropped"|"changed",
-- changes = { { attribute, from, to } } (for "changed"), class, reasons }. Its class is
--   security-weakening  row-level security disabled or no longer forced; a policy dropped,
--                       made permissive, or USING/WITH CHECK (true); privileges granted to
--                       PUBLIC, anon or authenticated (tables, columns, sequences, functions,
--                       schemas, default privileges); security_invoker or security_barrier
--                       removed from a view; a SECURITY DEFINER function without a fixed
--                       search_path;
--   destructive         anything dropped (an object, a grant);
--   neutral             the rest.
-- `reasons` says why a difference weakens security, in words a reviewer reads.
--
-- Pure: depends on nothing but base, string and table.

local model = require("rbacmig.inspect.model")

local M = {}

-- The roles whose new privileges open data to the API (Supabase's anon and authenticated,
-- and everyone).
local API_ROLES = { PUBLIC = true, anon = true, authenticated = true }

local function sorted_union(a, b)
  local seen, keys = {}, {}
  for _, t in ipairs({ a, b }) do
    for k in pairs(t) do
      if not seen[k] then
        seen[k] = true
        keys[#keys + 1] = k
      end
    end
  end
  table.sort(keys)
  return keys
end

local function minus(a, b)
  local in_b, out = {}, {}
  for _, v in ipairs(b or {}) do in_b[v] = true end
  for _, v in ipairs(a or {}) do
    if not in_b[v] then out[#out + 1] = v end
  end
  return out
end

local function is_true_expr(e)
  return e ~= nil and e:gsub("[%s()]", "") == "true"
end

local function definer_without_path(f)
  if not (f and f.security_definer) then return false end
  for _, setting in ipairs(f.config or {}) do
    if setting:find("^search_path=") then return false end
  end
  return true
end

-- Why a difference weakens security (a list, empty when it does not).
local function weakening(kind, change, before, after)
  local reasons = {}
  local function add(fmt, ...) reasons[#reasons + 1] = string.format(fmt, ...) end
  before, after = before or {}, after or {}
  if kind == "table" and change == "changed" then
    if before.rls and not after.rls then add("row-level security disabled") end
    if before.rls_forced and not after.rls_forced then
      add("row-level security no longer forced")
    end
  elseif kind == "policy" then
    if change == "dropped" then
      add("policy dropped")
    else
      if change == "changed" and before.permissive == false and after.permissive then
        add("policy made permissive")
      end
      if is_true_expr(after.using) and not is_true_expr(before.using) then add("USING (true)") end
      if is_true_expr(after.with_check) and not is_true_expr(before.with_check) then
        add("WITH CHECK (true)")
      end
    end
  elseif (kind == "grant" or kind == "default_privilege") and change ~= "dropped" then
    local gained = minus(after.privileges, before.privileges)
    if API_ROLES[after.grantee] and #gained > 0 then
      if after.on == "function" then
        add("function newly executable by %s", after.grantee)
      else
        add("%s granted to %s", table.concat(gained, ", "), after.grantee)
      end
    end
  elseif kind == "view" and change == "changed" then
    for _, option in ipairs({ "security_invoker", "security_barrier" }) do
      if before[option] and not after[option] then add("%s removed", option) end
    end
  elseif kind == "function" and change ~= "dropped" then
    if definer_without_path(after) and not definer_without_path(before) then
      add("SECURITY DEFINER function without a fixed search_path")
    end
  end
  return reasons
end

function M.classify(kind, change, before, after)
  local reasons = weakening(kind, change, before, after)
  if #reasons > 0 then return "security-weakening", reasons end
  if change == "dropped" then return "destructive", reasons end
  return "neutral", reasons
end

-- The owner of the object a grant is on, in model m (a column's is its table's).
local GRANT_KIND = { table = "table", view = "view", sequence = "sequence",
  ["function"] = "function", schema = "schema" }
local function owner_of(m, g)
  local kind, object = GRANT_KIND[g.on], g.object
  if g.on == "column" then kind, object = "table", object:match("^(.*)%.[^.]*$") end
  local o = kind and object and m.objects[kind] and m.objects[kind][object]
  return o and o.owner
end

-- A grant that one side has and the other has not because there its grantee owns the
-- object: the owner holds every privilege anyway, so that is the owner difference (reported
-- as such), not a grant difference. Databases whose owners differ would otherwise show a
-- grant difference for every object.
local function owner_grant(from, to, before, after)
  local g = before or after
  return (before and g.grantee == owner_of(to, g)) or (after and g.grantee == owner_of(from, g))
end

-- The differences from model `from` to model `to`, sorted by kind then identity.
function M.compare(from, to)
  local out = {}
  for _, kind in ipairs(model.KINDS) do
    local a, b = from.objects[kind] or {}, to.objects[kind] or {}
    for _, id in ipairs(sorted_union(a, b)) do
      local before, after = a[id], b[id]
      local d
      if not before then
        d = { kind = kind, identity = id, change = "added" }
      elseif not after then
        d = { kind = kind, identity = id, change = "dropped" }
      else
        local changes = {}
        for _, attr in ipairs(sorted_union(before, after)) do
          if not model.same(before[attr], after[attr]) then
            changes[#changes + 1] = { attribute = attr, from = before[attr], to = after[attr] }
          end
        end
        if #changes > 0 then
          d = { kind = kind, identity = id, change = "changed", changes = changes }
        end
      end
      if d and kind == "grant" and owner_grant(from, to, before, after) then d = nil end
      if d then
        d.class, d.reasons = M.classify(kind, d.change, before, after)
        -- A policy that goes with its table protects nothing any more: the drop of the
        -- table is the difference, destructive.
        if kind == "policy" and d.change == "dropped" then
          local t = id:match("^(.*)%.[^.]*$")
          if t and from.objects.table[t] and not to.objects.table[t] then
            d.class, d.reasons = "destructive", {}
          end
        end
        if #d.reasons == 0 then d.reasons = nil end
        out[#out + 1] = d
      end
    end
  end
  return out
end

-- Counts per class: { total, ["security-weakening"], destructive, neutral }.
function M.summary(diffs)
  local s = { total = #diffs, ["security-weakening"] = 0, destructive = 0, neutral = 0 }
  for _, d in ipairs(diffs) do s[d.class] = s[d.class] + 1 end
  return s
end

---------------------------------------------------------------------------------------------
-- Text: one line per difference, "class  kind identity: change", the changed attributes
-- after it ("attribute: from -> to", or "attribute changed" for a value of several lines),
-- then the reasons; a closing summary line.
---------------------------------------------------------------------------------------------

local function short(v)
  if v == nil then return "(none)" end
  local s = model.value_text(v)
  if s:find("\n", 1, true) or #s > 120 then return nil end
  return s
end

function M.render_line(d)
  local parts = {}
  for _, c in ipairs(d.changes or {}) do
    local f, t = short(c.from), short(c.to)
    parts[#parts + 1] = (f and t) and string.format("%s %s -> %s", c.attribute, f, t)
      or c.attribute .. " changed"
  end
  local line = string.format("%-18s %s %s: %s", d.class, d.kind, model.value_text(d.identity),
    d.change)
  if #parts > 0 then line = line .. " (" .. table.concat(parts, "; ") .. ")" end
  if d.reasons then line = line .. " -- " .. table.concat(d.reasons, "; ") end
  return line
end

function M.render_text(diffs, from, to)
  local lines = {}
  for _, m in ipairs({ from, to }) do
    if m and next(m.not_compared) then
      local nc = {}
      for _, what in ipairs(model.sorted_keys(m.not_compared)) do
        nc[#nc + 1] = string.format("%d %s", m.not_compared[what], what)
      end
      lines[#lines + 1] = string.format("-- not compared in %s: %s", m == from and "FROM" or "TO",
        table.concat(nc, ", "))
    end
  end
  for _, d in ipairs(diffs) do lines[#lines + 1] = M.render_line(d) end
  local s = M.summary(diffs)
  if s.total == 0 then
    lines[#lines + 1] = "no differences"
  else
    lines[#lines + 1] = string.format("%d difference%s: %d security-weakening, %d destructive, "
      .. "%d neutral", s.total, s.total == 1 and "" or "s", s["security-weakening"],
      s.destructive, s.neutral)
  end
  return table.concat(lines, "\n") .. "\n"
end

return M
