-- rbacmig.rbac.catalog: explicit changes to the permission catalogue and the role templates,
-- made by a migration (autogenerate writes them: rbacmig.rbac.delta), each carried to every
-- tenant's template roles at once. `rbacmig seed` converges the whole model; these change
-- exactly what they name, so a migration says what it changes and its downgrade can undo it.
--
-- Every call is idempotent (adding what is there updates its description, removing what is
-- not there does nothing), so a database that was seeded before its project moved to
-- migrations takes them without error. The functions are re-exported by rbacmig.rbac:
--
--   rbac.add_permissions(db, { { "projects.export", "Export projects" }, ... })
--   rbac.remove_permissions(db, { "projects.export", ... })
--   rbac.add_templates(db, { { "auditor", "Reads the audit log" }, ... })
--   rbac.remove_templates(db, { "auditor", ... })
--   rbac.grant_template(db, "admin", { "projects.export", ... })
--   rbac.revoke_template(db, "admin", { "projects.export", ... })
--
-- Removing follows `seed --prune`: a permission that a tenant's own role still grants is
-- kept (its template grants go), and removing a template removes its roles in every tenant
-- with their memberships. Values are bound parameters, never pasted into SQL.

local util = require("rbacmig.util")

local M = {}

-- rbacmig.rbac requires this module while it loads, so its validators are looked up when a
-- call runs, not when this module loads.
local function rbac()
  return require("rbacmig.rbac")
end

local function check_db(db)
  if type(db) ~= "table" and type(db) ~= "userdata" then
    util.raise("rbac: expected a db object, got %s", type(db))
  end
end

-- A non-empty list of names, each one `is_name` accepts; returns it.
local function names_arg(what, list, is_name)
  if type(list) ~= "table" or #list == 0 or not util.plain_list(list) then
    util.raise("rbac: expected a non-empty list of %s names, got %s", what, util.describe(list))
  end
  for i, name in ipairs(list) do
    if not is_name(name) then
      util.raise("rbac: %s name %d is not valid: %s", what, i,
        type(name) == "string" and util.describe(rbac().printable(name)) or type(name))
    end
  end
  return list
end

-- A non-empty list of { name, description } pairs; returns the names and descriptions.
local function pairs_arg(what, list, is_name)
  if type(list) ~= "table" or #list == 0 or not util.plain_list(list) then
    util.raise("rbac: expected a non-empty list of { name, description } %ss, got %s", what,
      util.describe(list))
  end
  local names, descriptions = {}, {}
  for i, e in ipairs(list) do
    if type(e) ~= "table" then
      util.raise("rbac: %s %d: expected { name, description }, got %s", what, i, type(e))
    end
    local name, description = e[1] or e.name, e[2] or e.description or ""
    if not is_name(name) then
      util.raise("rbac: %s %d: name is not valid: %s", what, i,
        type(name) == "string" and util.describe(rbac().printable(name)) or type(name))
    end
    local problem = type(description) ~= "string" and "is not a string"
      or rbac().text_problem(description, true)
    if problem then
      util.raise("rbac: %s '%s': description %s", what, name, problem)
    end
    names[i], descriptions[i] = name, description
  end
  return names, descriptions
end

-- Runs one statement whose text `build(p)` makes while binding its values.
local function run(db, build)
  local p = util.params()
  local sql = build(p)
  return db:exec(sql, table.unpack(p, 1, p.n))
end

-- Names in `names` that `tbl` lacks (nothing to check under --sql, where nothing is read).
local function missing(db, tbl, names)
  if db.offline then return {} end
  local p = util.params()
  local rows = db:query("SELECT name FROM " .. tbl .. " WHERE name IN (" .. p:list(names) .. ")",
    table.unpack(p, 1, p.n))
  local have, out = {}, {}
  for _, r in ipairs(rows) do have[r.name] = true end
  for _, n in ipairs(names) do
    if not have[n] then out[#out + 1] = n end
  end
  return out
end

-- Inserts or updates { name, description } rows of `tbl` (permissions, role_templates).
local function upsert(db, tbl, names, descriptions)
  for i = 1, #names do
    run(db, function(p)
      return "INSERT INTO " .. tbl .. " (name, description) VALUES (" .. p:add(names[i]) .. ", "
        .. p:add(descriptions[i]) .. ")"
        .. "\nON CONFLICT (name) DO UPDATE SET description = excluded.description,"
        .. " updated_at = CURRENT_TIMESTAMP"
        .. "\nWHERE " .. tbl .. ".description <> excluded.description"
    end)
  end
end

function M.add_permissions(db, list)
  check_db(db)
  local names, descriptions = pairs_arg("permission", list, rbac().is_permission_name)
  upsert(db, "permissions", names, descriptions)
end

function M.remove_permissions(db, names)
  check_db(db)
  names_arg("permission", names, rbac().is_permission_name)
  local function ids(p)
    return "SELECT id FROM permissions WHERE name IN (" .. p:list(names) .. ")"
  end
  run(db, function(p)
    return "DELETE FROM role_template_permissions WHERE permission_id IN (" .. ids(p) .. ")"
  end)
  run(db, function(p)
    return "DELETE FROM role_permissions WHERE permission_id IN (" .. ids(p) .. ")"
      .. "\n  AND EXISTS (SELECT 1 FROM roles r WHERE r.tenant_id = role_permissions.tenant_id"
      .. " AND r.id = role_permissions.role_id AND r.template IS NOT NULL)"
  end)
  run(db, function(p)
    return "DELETE FROM permissions WHERE name IN (" .. p:list(names) .. ")"
      .. "\n  AND NOT EXISTS (SELECT 1 FROM role_permissions rp"
      .. " WHERE rp.permission_id = permissions.id)"
  end)
end

-- Adds the templates and gives every tenant a role from each, as seeding a tenant does
-- (unless the tenant has one from that template, or a role of its own with that name);
-- template roles take a changed description.
function M.add_templates(db, list)
  check_db(db)
  local names, descriptions = pairs_arg("template", list, rbac().is_role_name)
  upsert(db, "role_templates", names, descriptions)
  run(db, function(p)
    return "UPDATE roles SET description = rt.description, updated_at = CURRENT_TIMESTAMP"
      .. "\nFROM role_templates rt WHERE rt.name = roles.template AND rt.name IN ("
      .. p:list(names) .. ") AND roles.description <> rt.description"
  end)
  run(db, function(p)
    return "INSERT INTO roles (tenant_id, name, description, template)"
      .. "\nSELECT t.id, rt.name, rt.description, rt.name FROM tenants t CROSS JOIN role_templates rt"
      .. "\nWHERE rt.name IN (" .. p:list(names) .. ")"
      .. "\n  AND NOT EXISTS (SELECT 1 FROM roles r WHERE r.tenant_id = t.id AND r.template = rt.name)"
      .. "\n  AND NOT EXISTS (SELECT 1 FROM roles r WHERE r.tenant_id = t.id AND r.name = rt.name)"
      .. "\nON CONFLICT DO NOTHING"
  end)
end

function M.remove_templates(db, names)
  check_db(db)
  names_arg("template", names, rbac().is_role_name)
  local function roles(p)
    return "SELECT r.id FROM roles r WHERE r.template IN (" .. p:list(names) .. ")"
  end
  run(db, function(p)
    return "DELETE FROM memberships WHERE role_id IN (" .. roles(p) .. ")"
  end)
  run(db, function(p)
    return "DELETE FROM roles WHERE template IN (" .. p:list(names) .. ")"
  end)
  run(db, function(p)
    return "DELETE FROM role_templates WHERE name IN (" .. p:list(names) .. ")"
  end)
end

-- The template and permission names of a grant or revoke, checked.
local function grant_args(template, permissions)
  if not rbac().is_role_name(template) then
    util.raise("rbac: template name is not valid: %s", util.describe(template))
  end
  names_arg("permission", permissions, rbac().is_permission_name)
end

-- The template and the permissions must exist: a grant of nothing would pass silently.
local function check_grant(db, template, permissions)
  grant_args(template, permissions)
  if #missing(db, "role_templates", { template }) > 0 then
    util.raise("rbac: unknown template '%s'", template)
  end
  local unknown = missing(db, "permissions", permissions)
  if #unknown > 0 then
    util.raise("rbac: unknown permission%s %s", #unknown > 1 and "s" or "",
      "'" .. table.concat(unknown, "', '") .. "'")
  end
end

function M.grant_template(db, template, permissions)
  check_db(db)
  check_grant(db, template, permissions)
  run(db, function(p)
    return "INSERT INTO role_template_permissions (template, permission_id)"
      .. "\nSELECT " .. p:add(template) .. ", id FROM permissions WHERE name IN ("
      .. p:list(permissions) .. ")\nON CONFLICT DO NOTHING"
  end)
  run(db, function(p)
    return "INSERT INTO role_permissions (tenant_id, role_id, permission_id)"
      .. "\nSELECT r.tenant_id, r.id, pm.id FROM roles r JOIN permissions pm ON pm.name IN ("
      .. p:list(permissions) .. ")\nWHERE r.template = " .. p:add(template)
      .. "\nON CONFLICT DO NOTHING"
  end)
end

function M.revoke_template(db, template, permissions)
  check_db(db)
  grant_args(template, permissions)
  run(db, function(p)
    return "DELETE FROM role_permissions WHERE permission_id IN (SELECT id FROM permissions"
      .. " WHERE name IN (" .. p:list(permissions) .. "))"
      .. "\n  AND EXISTS (SELECT 1 FROM roles r WHERE r.tenant_id = role_permissions.tenant_id"
      .. " AND r.id = role_permissions.role_id AND r.template = " .. p:add(template) .. ")"
  end)
  run(db, function(p)
    return "DELETE FROM role_template_permissions WHERE template = " .. p:add(template)
      .. " AND permission_id IN (SELECT id FROM permissions WHERE name IN ("
      .. p:list(permissions) .. "))"
  end)
end

-- What the catalogue holds now, for rbacmig.rbac.delta: nil when the database has no RBAC
-- tables (migration 91759229c32b is not applied there).
--   { permissions = { [name] = description }, templates = { [name] = description },
--     grants = { [template] = { [permission] = true } } }
function M.read(db)
  check_db(db)
  -- check_tables reads the catalogs: a failed query would end a PostgreSQL transaction.
  if not pcall(rbac().check_tables, db) then return nil end
  local out = { permissions = {}, templates = {}, grants = {} }
  for _, r in ipairs(db:query("SELECT name, description FROM permissions")) do
    out.permissions[r.name] = r.description
  end
  for _, r in ipairs(db:query("SELECT name, description FROM role_templates")) do
    out.templates[r.name] = r.description
    out.grants[r.name] = {}
  end
  for _, r in ipairs(db:query("SELECT tp.template, p.name FROM role_template_permissions tp"
      .. " JOIN permissions p ON p.id = tp.permission_id")) do
    out.grants[r.template][r.name] = true
  end
  return out
end

M.API = { "add_permissions", "remove_permissions", "add_templates", "remove_templates",
  "grant_template", "revoke_template" }
for _, name in ipairs(M.API) do
  M[name] = util.public(M[name])
end

return M
