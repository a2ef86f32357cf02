-- rbacmig.commands: the RBAC commands of the CLI (seed, tenant, member, can) on top of
-- rbacmig.rbac. What each takes is the C command table's (src/commands.c), checked before
-- anything connects (usage errors exit 2): a required option is there, once unless
-- repeatable, and nothing else is. The C side opens the database and owns the transaction
-- (under the migration lock, or read-only for can and the lists); a handler gets
-- (db, args, opts) and returns the lines to print, the exit code (0, or 3 for `can`
-- denied) and, for the commands that take --format json (tenant list, member list, can),
-- the result as data: the C side encodes it (docs/json.md), raw values, not shown ones.
--   args  the positional arguments, the subcommand first (tenant, member)
--   opts  typed: a flag is true (opts.prune), a value option a list of strings in the order
--         given (opts.tenant = { "a", "b" }); an option not given is absent
-- Every value that reaches a line is shown through rbac.printable: names come from the
-- database, where a tenant admin may have put newlines or terminal escapes.
local rbac = require("rbacmig.rbac")
local util = require("rbacmig.util")

local M = {}

local show = rbac.printable

-- Errors of the RBAC helpers name a value ("unknown tenant 'acme'"): raised with no Lua
-- position (util.call), which would only point into rbacmig's modules.
local call = util.call

-- The value of an option the command table makes sure was given once (it is required).
local function one(opts, key)
  local values = opts[key]
  if type(values) ~= "table" or #values ~= 1 then
    error(string.format("internal error: option --%s reached %s", key,
      values == nil and "no value" or "several values"), 0)
  end
  return values[1]
end

local function maybe(opts, key)
  return opts[key] and one(opts, key) or nil
end

-- A list that is a JSON array even when empty.
local function array(t)
  return setmetatable(t, { __json = "array" })
end

local function plural(n, word)
  return string.format("%d %s%s", n, word, n == 1 and "" or "s")
end

function M.seed(db, _, opts)
  local prune = opts.prune == true
  -- The model files first: their errors need no database to fix.
  local loaded = call(db.load_rbac, db)
  local model = call(rbac.validate, loaded.permissions, loaded.roles, loaded.files)
  if not db.offline then
    call(rbac.check_tables, db)
  end
  local s = call(rbac.sync, db, { tenants = opts.tenant, prune = prune, model = model })
  -- Every count sync returns, so that nothing --prune removes goes unsaid.
  local function kept(n)
    return prune and string.format(", %d kept", n or 0) or ""
  end
  return {
    string.format("permissions: %d added, %d updated, %d removed%s",
      s.permissions_added, s.permissions_updated, s.permissions_removed, kept(s.permissions_kept)),
    string.format("role templates: %d added, %d updated, %d removed%s; template grants: %d added, %d removed",
      s.templates_added, s.templates_updated, s.templates_removed, kept(s.templates_kept),
      s.template_grants_added, s.template_grants_removed),
    string.format("tenant roles: %d added, %d updated, %d removed; grants: %d added, %d removed;"
      .. " memberships: %d removed (%s)",
      s.roles_added, s.roles_updated, s.roles_removed, s.grants_added, s.grants_removed,
      s.memberships_removed, plural(s.tenants, "tenant")),
  }, 0
end

local tenant = {}

function tenant.create(db, args, opts)
  local slug = args[2]
  local owner = maybe(opts, "owner")
  local id = call(rbac.create_tenant, db, slug, maybe(opts, "name") or slug, owner)
  return { string.format("created tenant %s (%s)%s", show(slug), show(id),
    owner and (" owned by " .. show(owner)) or "") }, 0
end

function tenant.list(db)
  local lines, data = {}, array({})
  for _, t in ipairs(call(rbac.list_tenants, db)) do
    lines[#lines + 1] = string.format("%s\t%s\t%s\t%s", show(t.slug), show(t.id), show(t.name),
      plural(t.members, "member"))
    data[#data + 1] = { slug = t.slug, id = tostring(t.id), name = t.name, members = t.members }
  end
  return lines, 0, { tenants = data }
end

function tenant.delete(db, args)
  call(rbac.delete_tenant, db, args[2])
  return { "deleted tenant " .. show(args[2]) }, 0
end

local member = {}

function member.add(db, _, opts)
  local slug, user, role = one(opts, "tenant"), one(opts, "user"), one(opts, "role")
  local added = call(rbac.add_member, db, slug, user, role)
  return { string.format("%s %s as %s in %s", added and "added" or "already a member:",
    show(user), show(role), show(slug)) }, 0
end

function member.remove(db, _, opts)
  local slug, user, role = one(opts, "tenant"), one(opts, "user"), maybe(opts, "role")
  local n = call(rbac.remove_member, db, slug, user, role)
  if n == 0 then
    error(string.format("user %s has no %s in tenant '%s'", show(user),
      role and ("role '" .. show(role) .. "'") or "role", show(slug)), 0)
  end
  return { string.format("removed %s from %s (%s)", show(user), show(slug),
    plural(n, "membership")) }, 0
end

function member.list(db, _, opts)
  local slug = one(opts, "tenant")
  local lines, data = {}, array({})
  for _, m in ipairs(call(rbac.list_members, db, slug)) do
    local roles, raw = {}, array({})
    for i, r in ipairs(m.roles) do
      roles[i] = show(r)
      raw[i] = r
    end
    lines[#lines + 1] = show(m.user_id) .. "\t" .. table.concat(roles, ",")
    data[#data + 1] = { user_id = tostring(m.user_id), roles = raw }
  end
  return lines, 0, { tenant = slug, members = data }
end

local function subcommand(handlers, name)
  return function(db, args, opts)
    local handler = handlers[args[1]]
    if not handler then
      error(string.format("internal error: unknown %s command '%s'", name, show(args[1])), 0)
    end
    return handler(db, args, opts)
  end
end

M.tenant = subcommand(tenant, "tenant")
M.member = subcommand(member, "member")

function M.can(db, args, opts)
  local slug, user = one(opts, "tenant"), one(opts, "user")
  local allowed, roles = call(rbac.can, db, slug, user, args[1])
  local data = { allowed = allowed, tenant = slug, user = user, permission = args[1],
    roles = array({ table.unpack(roles) }) }
  if allowed then
    local shown = {}
    for i, r in ipairs(roles) do
      shown[i] = show(r)
    end
    return { "allowed (" .. table.concat(shown, ", ") .. ")" }, 0, data
  end
  return { "denied" }, 3, data
end

-- The entry point the host calls: command(name, db, args, opts) -> lines, exit code, data.
-- A database without the RBAC tables gets one line saying what to run, not the
-- statement that failed (--sql has no database to ask).
function M.command(name, db, args, opts)
  local handler = M[name]
  if type(handler) ~= "function" or name == "command" then
    error("unknown RBAC command '" .. show(name) .. "'", 0)
  end
  if not db.offline and name ~= "seed" then
    call(rbac.check_tables, db)
  end
  return handler(db, args, opts)
end

return M
