#!/usr/bin/env bash
# The RBAC schema end to end: migration 91759229c32b up and down, `seed` (idempotent,
# --prune, --tenant), tenants, members, `can`, hostile names, and a 1,000-tenant seed.
. "$(dirname "$0")/lib.sh"
new_db
cp -r "$SRC/migrations" "$SRC/rbac" .

rb upgrade 91759229c32b
expect_rc 0 "upgrade 91759229c32b"
expect_out_has "Running upgrade  -> 91759229c32b, add initial RBAC tables" "prints the step"
for t in tenants permissions role_templates role_template_permissions roles role_permissions memberships; do
  check "table $t created" table_exists $t
done

count() { sql "SELECT count(*) FROM $1"; }

# ---- seed ----------------------------------------------------------------------------
perms=$(grep -c 'name *= *"' rbac/permissions.lua)
rb seed
expect_rc 0 "seed"
expect_out_has "permissions: $perms added" "seed adds the whole catalogue"
expect_eq "$(count permissions)" "$perms" "catalogue rows"
expect_eq "$(count role_templates)" 4 "four role templates"
expect_eq "$(sql "SELECT count(*) FROM role_template_permissions rtp JOIN role_templates rt ON rt.name = rtp.template WHERE rt.name = 'owner'")" "$perms" "owner template holds every permission"
rb seed
expect_rc 0 "second seed"
expect_out_has "permissions: 0 added, 0 updated, 0 removed" "second seed changes no permission"
expect_out_has "template grants: 0 added, 0 removed" "second seed changes no template grant"
expect_out_has "grants: 0 added, 0 removed" "second seed changes no tenant grant"

# ---- tenants and members -------------------------------------------------------------
owner=123e4567-e89b-42d3-a456-426614174000
viewer=223e4567-e89b-42d3-a456-426614174000
hostile="Acme'; DROP TABLE tenants; --"
rb tenant create acme --name "$hostile" --owner $owner
expect_rc 0 "tenant create"
expect_eq "$(sql "SELECT name FROM tenants WHERE slug = 'acme'")" "$hostile" "hostile name stored as typed"
expect_eq "$(sql "SELECT count(*) FROM roles r JOIN tenants t ON t.id = r.tenant_id WHERE t.slug = 'acme'")" 4 "tenant gets the four template roles"
rb tenant create "Bad Slug!" --name x
expect_rc 1 "bad slug"
expect_err_has "invalid tenant slug 'Bad Slug!'" "bad slug named"
expect_one_error_line "bad slug"
rb tenant create acme
expect_rc 1 "duplicate tenant"
expect_err_has "tenant 'acme' already exists" "duplicate tenant named"
rb member add --tenant acme --user $viewer --role viewer
expect_rc 0 "member add"
rb member list --tenant acme
expect_out_has "$owner	owner" "owner listed"
expect_out_has "$viewer	viewer" "viewer listed"
rb can --tenant acme --user $owner billing.manage
expect_rc 0 "owner can billing.manage"
expect_out "allowed (owner)" "can names the granting role"
rb can --tenant acme --user $viewer projects.update
expect_rc 3 "viewer cannot projects.update"
expect_out "denied" "denied printed"
rb can --tenant acme --user $viewer projects.read
expect_rc 0 "viewer can projects.read"
rb can --tenant nope --user $viewer projects.read
expect_rc 1 "unknown tenant"
expect_err_has "unknown tenant 'nope'" "unknown tenant named"
rb member add --tenant acme --user $viewer --role "superuser'--"
expect_rc 1 "unknown role"
expect_err_has "unknown role 'superuser'--'" "unknown role named as typed"
rb member add --tenant acme --user not-a-uuid --role viewer
expect_rc 1 "bad user id"
expect_err_has "invalid user id 'not-a-uuid'" "bad user id named"
rb member remove --tenant acme --user $viewer --role viewer
expect_rc 0 "member remove"
rb can --tenant acme --user $viewer projects.read
expect_rc 3 "removed member loses access at once"
rb member add --tenant acme --user $viewer
expect_rc 2 "member add without --role is a usage error"
expect_err_has "'member add' needs --role" "the missing option is named"
rb tenant list
expect_out_has "acme" "tenant list"

# ---- a role the tenant made itself is never touched by seed --prune ----------------------
tid=$(sql "SELECT id FROM tenants WHERE slug = 'acme'")
if [ "$DIALECT" = postgresql ]; then
  sql "INSERT INTO roles (tenant_id, name, description) VALUES ('$tid', 'custom', 'own role')" >/dev/null
else
  sql "INSERT INTO roles (tenant_id, id, name, description) VALUES ('$tid', 'custom-role-id', 'custom', 'own role')" >/dev/null
fi
sql "INSERT INTO role_permissions (tenant_id, role_id, permission_id) SELECT '$tid', r.id, p.id FROM roles r, permissions p WHERE r.tenant_id = '$tid' AND r.name = 'custom' AND p.name = 'projects.read'" >/dev/null
# The viewer template loses projects.read and the member template goes away.
lua5.4 -e '
  local roles = dofile("rbac/roles.lua")
  local keep = {}
  for _, r in ipairs(roles) do
    if r.name ~= "member" then
      if r.name == "viewer" then r.permissions = { "tenants.read", "members.read", "roles.read" } end
      keep[#keep + 1] = r
    end
  end
  local f = io.open("rbac/roles.lua", "w")
  f:write("return {\n")
  for _, r in ipairs(keep) do
    f:write(string.format("  { name = %q, description = %q, permissions = {", r.name, r.description))
    for _, p in ipairs(r.permissions) do f:write(string.format(" %q,", p)) end
    f:write(" } },\n")
  end
  f:write("}\n")
  f:close()'
rb seed
expect_rc 0 "seed without --prune keeps what the files dropped"
expect_eq "$(count role_templates)" 4 "templates kept without --prune"
rb seed --prune
expect_rc 0 "seed --prune"
expect_eq "$(count role_templates)" 3 "member template pruned"
expect_eq "$(sql "SELECT count(*) FROM roles WHERE tenant_id = '$tid' AND name = 'member'")" 0 "tenant's member role pruned"
expect_eq "$(sql "SELECT count(*) FROM role_permissions rp JOIN roles r ON r.tenant_id = rp.tenant_id AND r.id = rp.role_id JOIN permissions p ON p.id = rp.permission_id WHERE r.tenant_id = '$tid' AND r.name = 'viewer' AND p.name = 'projects.read'")" 0 "viewer grant pruned"
expect_eq "$(sql "SELECT count(*) FROM role_permissions rp JOIN roles r ON r.tenant_id = rp.tenant_id AND r.id = rp.role_id WHERE r.tenant_id = '$tid' AND r.name = 'custom'")" 1 "the tenant's own role and grant untouched"
rb seed --prune
expect_out_has "tenant roles: 0 added, 0 updated, 0 removed; grants: 0 added, 0 removed; memberships: 0 removed" "second prune changes nothing"

# ---- 1,000 tenants seeded at once ---------------------------------------------------------
if [ "$DIALECT" = postgresql ]; then
  # The trigger seeds roles on insert, whoever inserts: prove it, then strip roles so
  # seed has the work to do.
  sql "INSERT INTO tenants (slug, name) SELECT 'bulk-' || g, 'Bulk ' || g FROM generate_series(1, 1000) g" >/dev/null
  expect_eq "$(sql "SELECT count(*) FROM roles r JOIN tenants t ON t.id = r.tenant_id WHERE t.slug LIKE 'bulk-%'")" 3000 "trigger gives inserted tenants their roles"
  sql "DELETE FROM roles WHERE tenant_id IN (SELECT id FROM tenants WHERE slug LIKE 'bulk-%')" >/dev/null
else
  sql "WITH RECURSIVE g(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM g WHERE n < 1000) INSERT INTO tenants (slug, name) SELECT 'bulk-' || n, 'Bulk ' || n FROM g" >/dev/null
fi
start=$(date +%s%N)
rb seed
elapsed=$(( ($(date +%s%N) - start) / 1000000 ))
expect_rc 0 "seed 1,000 tenants"
expect_out_has "tenant roles: 3000 added" "3 roles for each of 1,000 tenants"
expect_eq "$(sql "SELECT count(*) FROM roles r JOIN tenants t ON t.id = r.tenant_id WHERE t.slug LIKE 'bulk-%'")" 3000 "bulk roles in the database"
echo "seed of 1,000 tenants: ${elapsed} ms"
rb seed --tenant bulk-1 --tenant bulk-2
expect_rc 0 "seed --tenant twice"
expect_out_has "(2 tenants)" "seed --tenant scopes the run"

# ---- a later migration adds a permission and propagates it with rbac.sync -------------------
lua5.4 -e '
  local perms = dofile("rbac/permissions.lua")
  perms[#perms + 1] = { name = "reports.read", description = "Read reports" }
  local f = io.open("rbac/permissions.lua", "w")
  f:write("return {\n")
  for _, p in ipairs(perms) do f:write(string.format("  { name = %q, description = %q },\n", p.name, p.description)) end
  f:write("}\n")
  f:close()'
cat > migrations/5e6f70819203_add_reports_permission.lua <<'LUA'
local rbac = require("rbacmig.rbac")
return {
  revision = "5e6f70819203", down_revision = "e6cef4861c9f", message = "add reports.read",
  upgrade = function(db) rbac.sync(db) end,
  downgrade = function(db)
    db:exec("DELETE FROM role_permissions WHERE permission_id IN (SELECT id FROM permissions WHERE name = $1)", "reports.read")
    db:exec("DELETE FROM permissions WHERE name = $1", "reports.read")
  end,
}
LUA
rb upgrade head
expect_rc 0 "a migration calling rbac.sync"
expect_eq "$(sql "SELECT count(*) FROM role_permissions rp JOIN permissions p ON p.id = rp.permission_id JOIN roles r ON r.tenant_id = rp.tenant_id AND r.id = rp.role_id JOIN tenants t ON t.id = r.tenant_id WHERE t.slug = 'acme' AND r.name = 'owner' AND p.name = 'reports.read'")" 1 "the new permission reached an existing tenant's owner role"
rb can --tenant acme --user $owner reports.read
expect_rc 0 "owner can use the new permission at once"

# ---- seed --sql writes the statements instead ---------------------------------------------------
rb seed --sql
expect_rc 0 "seed --sql"
expect_out_has "INSERT INTO" "seed --sql writes SQL"
check "seed --sql stdout is only SQL" test "$(echo "$OUT" | grep -c '^permissions:')" = 0

# ---- downgrade removes everything -------------------------------------------------------------
rb downgrade base
expect_rc 0 "downgrade base"
for t in tenants permissions role_templates role_template_permissions roles role_permissions memberships; do
  check "table $t dropped" test "$(table_exists $t && echo yes)" != yes
done
if [ "$DIALECT" = postgresql ]; then
  expect_eq "$(sql "SELECT count(*) FROM pg_proc WHERE proname IN ('has_permission')")" 0 "functions dropped"
fi

finish
