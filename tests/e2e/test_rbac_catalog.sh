#!/usr/bin/env bash
# The explicit RBAC catalogue calls a migration makes (rbac.add_permissions, grant_template,
# remove_templates, ...) on a real database with tenants: what they change reaches every
# tenant's template roles, a downgrade puts it back, bad arguments are one error line and
# change nothing. Then rbacmig.rbac.delta, the calls autogenerate writes for a change of
# rbac/*.lua, run inside a migration: the upgrade brings the catalogue to the files, the
# downgrade brings it back to what it was, row for row.
. "$(dirname "$0")/lib.sh"
new_db
cp -r "$SRC/migrations" "$SRC/rbac" .

rb upgrade head
expect_rc 0 "upgrade head"
rb seed
expect_rc 0 "seed"
owner=123e4567-e89b-42d3-a456-426614174000
viewer=223e4567-e89b-42d3-a456-426614174000
rb tenant create acme --owner $owner
expect_rc 0 "tenant acme"
rb tenant create globex --owner $owner
expect_rc 0 "tenant globex"
rb member add --tenant acme --user $viewer --role viewer
expect_rc 0 "viewer in acme"
head=$("$RBACMIG" heads | awk '{print $1}')

# The whole catalogue as rows, to compare before and after.
catalogue() {
  sql "SELECT 'p', name, description FROM permissions
       UNION ALL SELECT 't', name, description FROM role_templates
       UNION ALL SELECT 'g', tp.template, p.name FROM role_template_permissions tp JOIN permissions p ON p.id = tp.permission_id
       UNION ALL SELECT 'r', t.slug || ':' || r.name, p.name FROM role_permissions rp
         JOIN roles r ON r.tenant_id = rp.tenant_id AND r.id = rp.role_id
         JOIN tenants t ON t.id = r.tenant_id JOIN permissions p ON p.id = rp.permission_id
       UNION ALL SELECT 'm', t.slug || ':' || r.name, m.user_id FROM memberships m
         JOIN roles r ON r.tenant_id = m.tenant_id AND r.id = m.role_id JOIN tenants t ON t.id = r.tenant_id
       ORDER BY 1, 2, 3"
}
before=$(catalogue)

# ---- the calls -----------------------------------------------------------------------
migration a1 "$head" '
    local rbac = require("rbacmig.rbac")
    rbac.add_permissions(db, { { "reports.export", "Export reports" } })
    rbac.add_templates(db, { { "auditor", "Reads the audit trail" } })
    rbac.grant_template(db, "viewer", { "reports.export" })
    rbac.grant_template(db, "auditor", { "reports.export", "projects.read" })' '
    local rbac = require("rbacmig.rbac")
    rbac.remove_templates(db, { "auditor" })
    rbac.revoke_template(db, "viewer", { "reports.export" })
    rbac.remove_permissions(db, { "reports.export" })'
rb upgrade a1
expect_rc 0 "upgrade with catalogue calls"
rb can --tenant acme --user $viewer reports.export
expect_rc 0 "a granted template permission reaches an existing tenant's role"
expect_eq "$(sql "SELECT count(*) FROM roles WHERE template = 'auditor'")" 2 "a new template gives every tenant its role"
expect_eq "$(sql "SELECT count(*) FROM role_permissions rp JOIN roles r ON r.tenant_id = rp.tenant_id AND r.id = rp.role_id WHERE r.template = 'auditor'")" 4 "the new template's grants reach both tenants"
rb downgrade "$head"
expect_rc 0 "downgrade the catalogue calls"
expect_eq "$(catalogue)" "$before" "downgrade leaves the catalogue as it was"
rb can --tenant acme --user $viewer reports.export
expect_rc 1 "the removed permission is unknown again"

# Idempotent: a seeded database takes an add of what it has.
migration a2 "$head" '
    local rbac = require("rbacmig.rbac")
    rbac.add_permissions(db, { { "projects.read", "View projects and their contents" } })
    rbac.grant_template(db, "viewer", { "projects.read" })' 'return'
rm migrations/a1_m.lua
rb upgrade a2
expect_rc 0 "adding what is there"
expect_eq "$(catalogue)" "$before" "adding what is there changes nothing"
rb downgrade "$head"
expect_rc 0 "downgrade a2"
rm migrations/a2_m.lua

# Bad arguments: one error line naming the value, nothing changed.
migration a3 "$head" '
    local rbac = require("rbacmig.rbac")
    rbac.add_permissions(db, { { "reports.export", "Export" } })
    rbac.grant_template(db, "viewer", { "reports.export", "no.such" })' 'return'
rb upgrade a3
expect_rc 1 "grant of an unknown permission"
expect_err_has "unknown permission 'no.such'" "the unknown permission named"
expect_err_has "a3_m.lua" "the migration named"
expect_one_error_line "grant of an unknown permission"
expect_eq "$(catalogue)" "$before" "a failed migration changes nothing"
migration a3 "$head" '
    require("rbacmig.rbac").add_permissions(db, { { "Bad Name", "x" } })' 'return'
rb upgrade a3
expect_rc 1 "a bad permission name"
expect_err_has "permission 1: name is not valid: 'Bad Name'" "the bad name named"
rm migrations/a3_m.lua

# ---- the delta, in a migration -------------------------------------------------------
# The files change: a permission added and granted, one removed, a template added, one
# removed, a description changed.
lua5.4 - <<'LUA'
local function load_file(p) return dofile(p) end
local perms = load_file("rbac/permissions.lua")
local roles = load_file("rbac/roles.lua")
local function ser(v, ind)
  if type(v) == "string" then return string.format("%q", v) end
  local out = { "{" }
  for k, x in pairs(v) do
    local key = type(k) == "number" and "" or (k .. " = ")
    out[#out + 1] = ind .. "  " .. key .. ser(x, ind .. "  ") .. ","
  end
  out[#out + 1] = ind .. "}"
  return table.concat(out, "\n")
end
local kept = {}
for _, p in ipairs(perms) do
  if p.name ~= "billing.read" then kept[#kept + 1] = p end
  if p.name == "projects.read" then p.description = "See projects" end
end
kept[#kept + 1] = { name = "reports.export", description = "Export reports" }
local rkept = {}
for _, r in ipairs(roles) do
  local ps = {}
  for _, n in ipairs(r.permissions) do
    if n ~= "billing.read" then ps[#ps + 1] = n end
  end
  r.permissions = ps
  if r.name == "viewer" then table.insert(r.permissions, "reports.export") end
  if r.name ~= "member" then rkept[#rkept + 1] = r end
end
rkept[#rkept + 1] = { name = "auditor", description = "Audits", permissions = { "reports.*", "projects.read" } }
io.open("rbac/permissions.lua", "w"):write("return " .. ser(kept, "") .. "\n")
io.open("rbac/roles.lua", "w"):write("return " .. ser(rkept, "") .. "\n")
LUA
expect_eq "$?" 0 "rewrite rbac/ files"

# The migration runs the delta's upgrade, checks the catalogue equals the files, runs its
# downgrade, checks the catalogue equals what it read first, and runs the upgrade again.
migration d1 "$head" '
    local rbac = require("rbacmig.rbac")
    local catalog, delta = require("rbacmig.rbac.catalog"), require("rbacmig.rbac.delta")
    local raw = db:load_rbac()
    local model = rbac.validate(raw.permissions, raw.roles, raw.files)
    local function run(text)
      assert(load("return function(db)\n" .. text .. "\nend", "=delta", "t"))()(db)
    end
    local function flat(c)
      local out = {}
      for k, v in pairs(c.permissions) do out[#out + 1] = "p " .. k .. "=" .. v end
      for k, v in pairs(c.templates) do out[#out + 1] = "t " .. k .. "=" .. v end
      for t, g in pairs(c.grants) do
        for p in pairs(g) do out[#out + 1] = "g " .. t .. " " .. p end
      end
      table.sort(out)
      return table.concat(out, "\n")
    end
    local function same(a, b, what)
      if flat(a) ~= flat(b) then error(what .. " differs:\n" .. flat(a) .. "\n---\n" .. flat(b)) end
    end
    local first = catalog.read(db)
    local d = delta.changes(first, model)
    assert(d.upgrade ~= "" and #d.drops == 2, "a delta with two drops")
    run(d.upgrade)
    assert(delta.changes(catalog.read(db), model).upgrade == "", "upgrade reaches the files")
    run(d.downgrade)
    same(catalog.read(db), first, "after the downgrade")
    run(d.upgrade)' 'return'
rb upgrade d1
expect_rc 0 "the delta upgrades, downgrades and upgrades"
rb seed --prune
expect_rc 0 "seed after the delta"
expect_out_has "permissions: 0 added, 0 updated, 0 removed" "seed finds the catalogue converged"
expect_out_has "template grants: 0 added, 0 removed" "seed finds the template grants converged"
expect_out_has "grants: 0 added, 0 removed" "seed finds every tenant's grants converged"
rb can --tenant acme --user $viewer reports.export
expect_rc 0 "the delta's grant reached the tenant"
rb can --tenant acme --user $owner billing.read
expect_rc 1 "the delta's removed permission is gone"

finish
