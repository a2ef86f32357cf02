-- add audit log
--
-- Revision ID: c0ffee000002
-- Revises: c0ffee000001
-- Create Date: 2026-12-03 14:00:01
--
-- Who did what in a tenant, append-only. Readable by audit_log.read on
-- Supabase; written by the backend (service_role) and by migrations.

local rls = require("saas.rls")

return {
  revision = "c0ffee000002",
  down_revision = "c0ffee000001",
  message = "add audit log",

  upgrade = function(db)
    db:create_table("audit_log", {
      { "id", "bigserial", primary_key = true },
      { "tenant_id", "uuid", not_null = true, references = "tenants.id", on_delete = "cascade" },
      { "actor", "uuid" },                       -- NULL: the system (a migration, a job)
      { "action", "text", not_null = true },     -- "projects.create", "rbac.permissions_added"
      { "subject", "text", not_null = true, default = "" },
      { "created_at", "timestamptz", not_null = true, default = db.fn.now() },
    })
    db:create_index("audit_log", { "tenant_id", "created_at" }, { name = "audit_log_tenant_idx" })
    rls.protect(db, "audit_log", { select = "audit_log.read" })
  end,

  downgrade = function(db)
    db:drop_table("audit_log")
  end,
}
