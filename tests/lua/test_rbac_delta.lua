-- Tests for rbacmig.rbac.delta: the rbacmig.rbac calls autogenerate writes for a change of
-- the permission catalogue and role templates, upgrade and downgrade. What the calls do to a
-- real database is tested end to end (tests/e2e/test_rbac_catalog.sh).

local T = require("harness")
local test, eq, same = T.test, T.eq, T.same

local delta = require("rbacmig.rbac.delta")

local function lines(text)
  local out = {}
  for l in text:gmatch("[^\n]+") do out[#out + 1] = l end
  return out
end

-- A catalogue as rbacmig.rbac.catalog.read returns it.
local function current()
  return {
    permissions = { ["projects.read"] = "View projects", ["billing.read"] = "View billing" },
    templates = { owner = "Owns", viewer = "Reads" },
    grants = {
      owner = { ["projects.read"] = true, ["billing.read"] = true },
      viewer = { ["projects.read"] = true },
    },
  }
end

-- The same catalogue as rbacmig.rbac.validate returns a model.
local function model()
  return {
    permissions = { { name = "billing.read", description = "View billing" },
                    { name = "projects.read", description = "View projects" } },
    roles = { { name = "owner", description = "Owns", permissions = { "billing.read", "projects.read" } },
              { name = "viewer", description = "Reads", permissions = { "projects.read" } } },
  }
end

test("an unchanged catalogue gives no calls", function()
  local d = delta.changes(current(), model())
  eq(d.upgrade, "", "upgrade")
  eq(d.downgrade, "", "downgrade")
  eq(#d.drops, 0, "drops")
end)

test("a permission added and granted: added then granted, revoked then removed", function()
  local m = model()
  table.insert(m.permissions, { name = "projects.export", description = "Export \"all\" projects" })
  table.insert(m.roles[2].permissions, "projects.export")
  local d = delta.changes(current(), m)
  same(lines(d.upgrade), {
    '    local rbac = require("rbacmig.rbac")',
    "    rbac.add_permissions(db, {",
    '      { "projects.export", "Export \\"all\\" projects" },',
    "    })",
    '    rbac.grant_template(db, "viewer", { "projects.export" })',
  }, "upgrade line")
  same(lines(d.downgrade), {
    '    local rbac = require("rbacmig.rbac")',
    '    rbac.revoke_template(db, "viewer", { "projects.export" })',
    '    rbac.remove_permissions(db, { "projects.export" })',
  }, "downgrade line")
  eq(#d.drops, 0, "adding drops nothing")
end)

test("a permission removed is a drop, and the downgrade puts back its grants", function()
  local m = model()
  table.remove(m.permissions, 1)   -- billing.read
  m.roles[1].permissions = { "projects.read" }
  local d = delta.changes(current(), m)
  same(lines(d.upgrade), {
    '    local rbac = require("rbacmig.rbac")',
    '    rbac.revoke_template(db, "owner", { "billing.read" })',
    '    rbac.remove_permissions(db, { "billing.read" })',
  }, "upgrade line")
  same(lines(d.downgrade), {
    '    local rbac = require("rbacmig.rbac")',
    "    rbac.add_permissions(db, {",
    '      { "billing.read", "View billing" },',
    "    })",
    '    rbac.grant_template(db, "owner", { "billing.read" })',
  }, "downgrade line")
  same(d.drops, { "permission billing.read" }, "drop")
end)

test("a template added, one removed, a description changed", function()
  local m = model()
  m.roles[2] = { name = "auditor", description = "Audits", permissions = { "billing.read" } }
  m.permissions[2].description = "See projects"
  local d = delta.changes(current(), m)
  same(lines(d.upgrade), {
    '    local rbac = require("rbacmig.rbac")',
    "    rbac.add_templates(db, {",
    '      { "auditor", "Audits" },',
    "    })",
    "    rbac.add_permissions(db, {",
    '      { "projects.read", "See projects" },',
    "    })",
    '    rbac.grant_template(db, "auditor", { "billing.read" })',
    '    rbac.remove_templates(db, { "viewer" })',
  }, "upgrade line")
  same(lines(d.downgrade), {
    '    local rbac = require("rbacmig.rbac")',
    "    rbac.add_templates(db, {",
    '      { "viewer", "Reads" },',
    "    })",
    "    rbac.add_permissions(db, {",
    '      { "projects.read", "View projects" },',
    "    })",
    '    rbac.grant_template(db, "viewer", { "projects.read" })',
    '    rbac.remove_templates(db, { "auditor" })',
  }, "downgrade line")
  eq(#d.drops, 1, "one drop")
  T.check(d.drops[1]:find("role template viewer", 1, true), "the template is the drop")
end)

test("a description with a line break stays one Lua line", function()
  local m = model()
  m.permissions[1].description = "View\nbilling"
  local d = delta.changes(current(), m)
  T.check(d.upgrade:find('"View\\nbilling"', 1, true), "escaped newline in " .. d.upgrade)
end)

return T.done()
