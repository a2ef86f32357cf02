-- add invitations
--
-- Revision ID: c0ffee000003
-- Revises: c0ffee000002
-- Create Date: 2026-12-03 14:00:02
--
-- Invitations by email, each naming the tenant's role the invitee will get,
-- and the permissions that guard them: invitations.read, .create, .revoke.
--
-- The permissions are added to rbac/permissions.lua (and granted by the
-- templates in rbac/roles.lua: admin "invitations.*", member
-- "invitations.read", owner "*") in the same commit as this migration, and
-- this migration syncs that model into the database with rbac.sync, the call
-- `rbacmig seed` makes: the catalogue gets the new permissions and every
-- existing tenant's template roles get their grants, in the same transaction
-- as the table that needs them. A deploy is then `rbacmig upgrade head` and
-- nothing else. Roles a tenant made itself are left as they are (sync never
-- touches them); prune is off, so nothing is removed.

local rbac = require("rbacmig.rbac")
local rls = require("saas.rls")

local ADDED = { "invitations.read", "invitations.create", "invitations.revoke" }

return {
  revision = "c0ffee000003",
  down_revision = "c0ffee000002",
  message = "add invitations",

  upgrade = function(db)
    local pg = db.dialect == "postgresql"
    db:create_table("invitations", {
      { "tenant_id", "uuid", not_null = true },
      { "id", "uuid", not_null = true, default = db.fn.uuid() },
      { "email", "text", not_null = true },
      { "role", "text", not_null = true },
      { "invited_by", "uuid" },
      { "created_at", "timestamptz", not_null = true, default = db.fn.now() },
      { "expires_at", "timestamptz", not_null = true,
        default = db.fn.raw(pg and "now() + interval '7 days'" or "datetime('now', '+7 days')") },
    }, {
      primary_key = { name = "invitations_pkey", columns = { "tenant_id", "id" } },
      unique = { { name = "invitations_tenant_id_email_key", columns = { "tenant_id", "email" } } },
      foreign_keys = {
        { name = "invitations_tenant_id_fkey", columns = { "tenant_id" },
          references_table = "tenants", references_columns = { "id" }, on_delete = "cascade" },
        -- The role is the tenant's own (roles_tenant_id_name_key): an invitation
        -- can never name another tenant's role.
        { name = "invitations_role_fkey", columns = { "tenant_id", "role" },
          references_table = "roles", references_columns = { "tenant_id", "name" },
          on_delete = "cascade", on_update = "cascade" },
      },
      checks = { { name = "invitations_email_check", expr = "email LIKE '%_@_%'" } },
    })
    rls.protect(db, "invitations", {
      select = "invitations.read", insert = "invitations.create", delete = "invitations.revoke",
    })

    local s = rbac.sync(db, { prune = false })
    if not db.offline then
      local missing = {}
      for _, name in ipairs(ADDED) do
        if db:scalar("SELECT count(*) FROM permissions WHERE name = $1", name) == 0 then
          missing[#missing + 1] = name
        end
      end
      if #missing > 0 then
        error("rbac/permissions.lua does not name " .. table.concat(missing, ", ")
          .. ": add them with this migration", 0)
      end
      print(("add invitations: %d permission(s) added, %d grant(s) to the roles of %d tenant(s)")
        :format(s.permissions_added, s.grants_added, s.tenants))
    end
    db:exec("INSERT INTO audit_log (tenant_id, action, subject)"
      .. " SELECT id, 'rbac.permissions_added', $1 FROM tenants", table.concat(ADDED, " "))
  end,

  downgrade = function(db)
    db:drop_table("invitations")
    -- The grants go with the permissions; `rbacmig seed` would add them back
    -- while rbac/ names them.
    for _, name in ipairs(ADDED) do
      db:exec("DELETE FROM role_permissions WHERE permission_id IN"
        .. " (SELECT id FROM permissions WHERE name = $1)", name)
      db:exec("DELETE FROM permissions WHERE name = $1", name)
    end
  end,
}
