-- Role templates: the roles every tenant gets, kept in step by
-- `rbacmig seed`. Each names permissions from rbac/permissions.lua,
-- exactly ("members.read"), by resource ("projects.*": every permission whose
-- name starts with "projects."), or all of them ("*"). Patterns are expanded
-- against the catalogue when the files are validated, so a permission added
-- later reaches every template whose pattern covers it at the next sync.
--
-- A tenant may also make roles of its own; sync never touches those.
return {
  {
    name = "owner",
    description = "Full control of the tenant, including billing and deletion",
    permissions = { "*" },
  },
  {
    name = "admin",
    description = "Manages members, roles, projects and integrations; cannot delete the tenant or change billing",
    permissions = {
      "tenants.read", "tenants.update",
      "members.*", "roles.*",
      "projects.*",
      "billing.read",
      "api_keys.*", "webhooks.*", "integrations.*",
      "audit_log.read",
      "invitations.*",
    },
  },
  {
    name = "member",
    description = "Works on projects; sees the team and the tenant's integrations",
    permissions = {
      "tenants.read",
      "members.read", "roles.read",
      "projects.read", "projects.create", "projects.update", "projects.archive",
      "api_keys.read",
      "webhooks.read", "integrations.read",
      "invitations.read",
    },
  },
  {
    name = "viewer",
    description = "Read-only access to projects and the team",
    permissions = {
      "tenants.read",
      "members.read", "roles.read",
      "projects.read",
    },
  },
}
