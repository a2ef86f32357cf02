-- add projects
--
-- Revision ID: c0ffee000001
-- Revises: e6cef4861c9f
-- Create Date: 2026-12-03 14:00:00
--
-- The product's main object. Like the RBAC tables it is tenant-scoped with
-- tenant_id first in its key, and deleting a tenant deletes its projects. On
-- Supabase its rows are guarded by the projects.* permissions (lua/saas/rls.lua).

local rls = require("saas.rls")

return {
  revision = "c0ffee000001",
  down_revision = "e6cef4861c9f",
  message = "add projects",

  upgrade = function(db)
    db:create_table("projects", {
      { "tenant_id", "uuid", not_null = true },
      { "id", "uuid", not_null = true, default = db.fn.uuid() },
      { "name", "text", not_null = true },
      { "created_by", "uuid" },
      { "created_at", "timestamptz", not_null = true, default = db.fn.now() },
      { "archived_at", "timestamptz" },
    }, {
      primary_key = { name = "projects_pkey", columns = { "tenant_id", "id" } },
      unique = { { name = "projects_tenant_id_name_key", columns = { "tenant_id", "name" } } },
      foreign_keys = {
        { name = "projects_tenant_id_fkey", columns = { "tenant_id" },
          references_table = "tenants", references_columns = { "id" }, on_delete = "cascade" },
      },
      checks = { { name = "projects_name_check", expr = "name <> ''" } },
    })
    rls.protect(db, "projects", {
      select = "projects.read", insert = "projects.create",
      update = "projects.update", delete = "projects.delete",
    })
  end,

  downgrade = function(db)
    db:drop_table("projects")
  end,
}
