-- Row-level security for the example's tenant-scoped tables, on Supabase.
--
-- The RBAC migration (91759229c32b) adds, on Supabase only, the helpers
-- rbac_private.member_tenants() and rbac_private.permitted_tenants(permission):
-- the tenants the signed-in user (auth.uid()) belongs to, and those where one
-- of the user's roles grants the permission. A table of the application is
-- protected the way the RBAC tables are: RLS on, one policy per command for
-- `authenticated`, each asking permitted_tenants() about the row's tenant_id.
-- anon gets nothing.
--
-- The policies are written as one DO block that runs only where those helpers
-- exist, so the same migration (and its --sql script) leaves plain PostgreSQL
-- as it was, and SQLite gets nothing at all.
local M = {}

-- protect(db, "projects", { select = "projects.read", insert = "projects.create", ... })
function M.protect(db, tbl, permissions)
  if db.dialect ~= "postgresql" then
    return
  end
  local t = db:quote_ident(tbl)
  local stmts = { "ALTER TABLE " .. t .. " ENABLE ROW LEVEL SECURITY" }
  for _, command in ipairs({ "select", "insert", "update", "delete" }) do
    local perm = permissions[command]
    if perm then
      -- Permission names are [a-z0-9_.]: safe inside a literal.
      assert(perm:match("^[a-z][a-z0-9_.]*$"), "bad permission name " .. perm)
      local cond = ("tenant_id IN (SELECT rbac_private.permitted_tenants('%s'))"):format(perm)
      local clause = command == "insert" and "WITH CHECK (" .. cond .. ")"
        or command == "update" and "USING (" .. cond .. ") WITH CHECK (" .. cond .. ")"
        or "USING (" .. cond .. ")"
      stmts[#stmts + 1] = ("CREATE POLICY %s ON %s FOR %s TO authenticated %s"):format(
        db:quote_ident(tbl .. "_" .. command), t, command:upper(), clause)
    end
  end
  stmts[#stmts + 1] = "REVOKE ALL ON TABLE " .. t .. " FROM anon"
  db:exec("DO $saas$\nBEGIN\n"
    .. "  IF to_regprocedure('rbac_private.permitted_tenants(text)') IS NOT NULL THEN\n    "
    .. table.concat(stmts, ";\n    ") .. ";\n  END IF;\nEND\n$saas$")
end

return M
