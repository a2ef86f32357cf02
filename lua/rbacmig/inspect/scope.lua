-- rbacmig.inspect.scope: what the schema reader looks at. The managed schemas are the ones
-- the caller names, or else every schema that is not PostgreSQL's own nor, when the database
-- is a Supabase one (it has the `auth` schema), Supabase's. Supabase's own roles are left
-- alone there too: their grants and default privileges are the platform's, not the project's.
-- rbacmig's bookkeeping tables (the version table and the history) are never in scope, nor
-- anything on them.
--
-- Pure: depends on nothing but base, string and table.

local M = {}

-- Schemas PostgreSQL owns, on every server.
local SYSTEM_SCHEMAS = { pg_catalog = true, information_schema = true, pg_toast = true }

-- The schemas and roles of Supabase's platform (its services, extensions and dashboard).
M.SUPABASE_SCHEMAS = {
  "_analytics", "_realtime", "_supavisor", "auth", "cron", "extensions", "graphql",
  "graphql_public", "net", "pgbouncer", "pgsodium", "pgsodium_masks", "pgtle", "realtime",
  "storage", "supabase_functions", "supabase_migrations", "vault",
}
M.SUPABASE_ROLES = {
  "authenticator", "dashboard_user", "pgbouncer", "pgsodium_keyholder", "pgsodium_keyiduser",
  "pgsodium_keymaker", "pgtle_admin", "supabase_admin", "supabase_auth_admin",
  "supabase_functions_admin", "supabase_read_only_user", "supabase_realtime_admin",
  "supabase_replication_admin", "supabase_storage_admin",
}

local function set_of(list)
  local s = {}
  for _, v in ipairs(list) do s[v] = true end
  return s
end
local supabase_schemas, supabase_roles = set_of(M.SUPABASE_SCHEMAS), set_of(M.SUPABASE_ROLES)

local function is_system(name)
  return SYSTEM_SCHEMAS[name] or name:find("^pg_temp_") or name:find("^pg_toast_temp_")
end

-- A scope for a database whose schemas are `present` (a list of names).
--   opts.schemas     the managed schemas (a list), instead of the default
--   opts.bookkeeping the bookkeeping tables as "schema.table" (PostgreSQL) or "table"
function M.new(dialect, present, opts)
  opts = opts or {}
  local s = { dialect = dialect, managed = {}, profile = nil, bookkeeping = {} }
  local have = set_of(present or {})
  if dialect == "postgresql" and have.auth then
    s.profile = "supabase"
  end
  if opts.schemas and #opts.schemas > 0 then
    for _, name in ipairs(opts.schemas) do s.managed[name] = true end
  else
    for name in pairs(have) do
      if not is_system(name) and not (s.profile == "supabase" and supabase_schemas[name]) then
        s.managed[name] = true
      end
    end
  end
  for _, t in ipairs(opts.bookkeeping or {}) do s.bookkeeping[t] = true end
  return setmetatable(s, { __index = M })
end

function M:schema(name)
  return self.managed[name] == true
end

-- A table (or an object on it) in a managed schema and not rbacmig's own.
function M:table(schema, name)
  if self.dialect == "sqlite" then
    return not self.bookkeeping[name] and not name:find("^sqlite_")
  end
  return self.managed[schema] == true and not self.bookkeeping[schema .. "." .. name]
end

-- Whether grants to (or default privileges of) this role are the project's.
function M:role(name)
  return not (self.profile == "supabase" and supabase_roles[name])
end

-- The managed schemas, sorted.
function M:schemas()
  local list = {}
  for name in pairs(self.managed) do list[#list + 1] = name end
  table.sort(list)
  return list
end

return M
