-- rbacmig.rbac.delta: what a migration must do to bring the permission catalogue and role
-- templates of a database (as rbacmig.rbac.catalog.read found them) to the model of the
-- project's rbac/ files, written as rbacmig.rbac calls for autogenerate: the upgrade, and the
-- downgrade that puts back exactly what the upgrade changed. So a permission added to
-- rbac/permissions.lua reaches every environment by `rbacmig upgrade`, not by remembering
-- to run `seed`.
--
-- Pure: depends on nothing but base, string and table.

local M = {}

local INDENT = "    "

local function sorted_keys(t)
  local keys = {}
  for k in pairs(t) do keys[#keys + 1] = k end
  table.sort(keys)
  return keys
end

-- The model (rbacmig.rbac.validate) as the same shape as a read catalogue.
local function as_catalogue(model)
  local out = { permissions = {}, templates = {}, grants = {} }
  for _, p in ipairs(model.permissions) do out.permissions[p.name] = p.description end
  for _, r in ipairs(model.roles) do
    out.templates[r.name] = r.description
    local g = {}
    for _, name in ipairs(r.permissions) do g[name] = true end
    out.grants[r.name] = g
  end
  return out
end

-- Names in a (a set keyed by name) that b lacks, in order; with `or_changed`, also those
-- whose value differs from b's.
local function missing(a, b, or_changed)
  local out = {}
  for _, k in ipairs(sorted_keys(a)) do
    if b[k] == nil or or_changed and b[k] ~= a[k] then out[#out + 1] = k end
  end
  return out
end

local function missing_or_changed(a, b)
  return missing(a, b, true)
end

local function quote(s)
  return (string.format("%q", s):gsub("\\\n", "\\n"))
end

local function name_list(names)
  local q = {}
  for i, n in ipairs(names) do q[i] = quote(n) end
  return "{ " .. table.concat(q, ", ") .. " }"
end

-- rbac.<fn>(db, { { name, description }, ... }) over `names` with descriptions from `from`.
local function pairs_call(out, fn, names, from)
  if #names == 0 then return end
  out[#out + 1] = INDENT .. "rbac." .. fn .. "(db, {"
  for _, n in ipairs(names) do
    out[#out + 1] = INDENT .. "  { " .. quote(n) .. ", " .. quote(from[n]) .. " },"
  end
  out[#out + 1] = INDENT .. "})"
end

local function names_call(out, fn, names)
  if #names == 0 then return end
  out[#out + 1] = INDENT .. "rbac." .. fn .. "(db, " .. name_list(names) .. ")"
end

-- grant_template / revoke_template for each template of `templates`, of the permissions
-- `want` grants and `have` does not.
local function grant_calls(out, fn, templates, want, have)
  for _, t in ipairs(templates) do
    local names = missing(want[t] or {}, have[t] or {})
    if #names > 0 then
      out[#out + 1] = INDENT .. "rbac." .. fn .. "(db, " .. quote(t) .. ", " .. name_list(names) .. ")"
    end
  end
end

-- The calls that take the catalogue `have` to `want`. Templates and permissions come first,
-- then grants, then revokes, then removals, so that each call finds what it names.
local function steps(have, want)
  local out = {}
  pairs_call(out, "add_templates", missing_or_changed(want.templates, have.templates), want.templates)
  pairs_call(out, "add_permissions", missing_or_changed(want.permissions, have.permissions),
    want.permissions)
  grant_calls(out, "grant_template", sorted_keys(want.grants), want.grants, have.grants)
  -- Only templates that stay: removing a template removes its grants with it.
  local staying = {}
  for _, t in ipairs(sorted_keys(have.grants)) do
    if want.templates[t] then staying[#staying + 1] = t end
  end
  grant_calls(out, "revoke_template", staying, have.grants, want.grants)
  names_call(out, "remove_permissions", missing(have.permissions, want.permissions))
  names_call(out, "remove_templates", missing(have.templates, want.templates))
  return out
end

M.as_catalogue = as_catalogue

-- One line per call, for a reader: "add_permissions reports.export", ...
local function summary(lines)
  local out = {}
  for _, l in ipairs(lines) do
    local fn, rest = l:match("^%s*rbac%.([%w_]+)%(db, (.*)%)$")
    if fn then
      out[#out + 1] = fn .. " " .. rest:gsub("[{}\"]", ""):gsub("^%s+", ""):gsub("%s+$", "")
    elseif l:match("^%s*rbac%.([%w_]+)%(db, {$") then
      out[#out + 1] = l:match("rbac%.([%w_]+)")
    elseif #out > 0 and l:match('^%s*{ "') then
      out[#out] = out[#out] .. " " .. l:match('^%s*{ "([^"]*)"')
    end
  end
  return out
end

-- The changes from the catalogue `have` to the catalogue `want` (both as
-- rbacmig.rbac.catalog.read returns them):
--   { upgrade = text, downgrade = text, lines = { summary... },
--     drops = { "permission x.y", "role template t (...)", ... } }
-- Text is "" when there is nothing to change. `drops` are what the upgrade removes for good
-- (a template's roles take their memberships with them): autogenerate asks for --allow-drop.
function M.between(current, want)
  local up, down = steps(current, want), steps(want, current)
  local drops = {}
  for _, n in ipairs(missing(current.permissions, want.permissions)) do
    drops[#drops + 1] = "permission " .. n
  end
  for _, n in ipairs(missing(current.templates, want.templates)) do
    drops[#drops + 1] = "role template " .. n .. " (its roles in every tenant, with their memberships)"
  end
  local function text(lines)
    if #lines == 0 then return "" end
    return INDENT .. 'local rbac = require("rbacmig.rbac")\n' .. table.concat(lines, "\n") .. "\n"
  end
  return { upgrade = text(up), downgrade = text(down), drops = drops, lines = summary(up) }
end

-- The changes from `current` (rbacmig.rbac.catalog.read) to `model` (rbacmig.rbac.validate).
function M.changes(current, model)
  return M.between(current, as_catalogue(model))
end

return M
