-- The permission catalogue: every action the application checks, as
-- "resource.action" (lowercase letters, digits and '_', joined by '.').
--
-- Plain data, loaded by `rbacmig seed` and validated by
-- lua/rbacmig/rbac.lua. Adding an entry and syncing inserts it; removing one
-- only takes effect with `--prune` (see docs/rbac.md). Role templates that
-- grant these live in rbac/roles.lua.
return {
  -- The tenant (organisation/workspace) itself.
  { name = "tenants.read",   description = "View the tenant's name, slug and settings" },
  { name = "tenants.update", description = "Rename the tenant and change its settings" },
  { name = "tenants.delete", description = "Delete the tenant and all of its data" },

  -- People and their roles.
  { name = "members.read",   description = "List the tenant's members and their roles" },
  { name = "members.invite", description = "Invite new members to the tenant" },
  { name = "members.manage", description = "Change members' roles and remove members" },
  { name = "roles.read",     description = "List roles and the permissions they grant" },
  { name = "roles.manage",   description = "Create, edit and delete the tenant's own roles" },

  -- The product's main objects.
  { name = "projects.read",    description = "View projects and their contents" },
  { name = "projects.create",  description = "Create projects" },
  { name = "projects.update",  description = "Edit projects and their contents" },
  { name = "projects.archive", description = "Archive and restore projects" },
  { name = "projects.delete",  description = "Delete projects permanently" },

  -- Money.
  { name = "billing.read",   description = "View the plan, usage and invoices" },
  { name = "billing.manage", description = "Change the plan and payment methods" },

  -- Machine access.
  { name = "api_keys.read",   description = "List API keys (never their secrets)" },
  { name = "api_keys.create", description = "Create API keys" },
  { name = "api_keys.revoke", description = "Revoke API keys" },
  { name = "webhooks.read",   description = "View webhook endpoints and deliveries" },
  { name = "webhooks.manage", description = "Create, edit and delete webhook endpoints" },
  { name = "integrations.read",   description = "View connected third-party integrations" },
  { name = "integrations.manage", description = "Connect and disconnect third-party integrations" },

  -- Security and compliance.
  { name = "audit_log.read",   description = "View the tenant's audit log" },
  { name = "audit_log.export", description = "Export the tenant's audit log" },
  { name = "sso.manage",       description = "Configure single sign-on and domain verification" },

  -- This example's own, added with the invitations table by migration
  -- c0ffee000003 (which syncs them into every tenant's roles).
  { name = "invitations.read",   description = "See the tenant's pending invitations" },
  { name = "invitations.create", description = "Invite someone by email, with a role" },
  { name = "invitations.revoke", description = "Withdraw a pending invitation" },
}
