-- rbacmig.commands: the RBAC commands of the CLI (seed, tenant, member, can) on top of
-- rbacmig.rbac. The C host parses the command line, opens the database and owns the
-- transaction; a handler gets (db, args, opts) and returns the lines to print and the exit
-- code (0, or 3 for `can` denied).
local rbac = require("rbacmig.rbac")

local M = {}

-- Errors of the RBAC helpers name a value ("unknown tenant 'acme'"); the location inside
-- rbacmig's own modules would only be noise on the command line.
local function call(fn, ...)
  local ok, result, extra = pcall(fn, ...)
  if not ok then
    local msg = type(result) == "table" and result or tostring(result):gsub("^%[rbacmig%][^:]*:%d+: ", "")
    error(msg, 0)
  end
  return result, extra
end

local function one(opts, key, what)
  local values = opts[key]
  if type(values) ~= "table" or #values == 0 then
    error(string.format("%s needs --%s %s", what, key, key:upper()), 0)
  end
  return values[#values]
end

local function plural(n, word)
  return string.format("%d %s%s", n, word, n == 1 and "" or "s")
end

function M.seed(db, args, opts)
  if #args > 0 then
    error("seed takes no arguments, got '" .. args[1] .. "'", 0)
  end
  local s = call(rbac.sync, db, { tenants = opts.tenant, prune = opts.prune == true })
  local lines = {
    string.format("permissions: %d added, %d updated, %d removed",
      s.permissions_added or 0, s.permissions_updated or 0, s.permissions_removed or 0),
    string.format("role templates: %d added, %d updated, %d removed; template grants: %d added, %d removed",
      s.templates_added or 0, s.templates_updated or 0, s.templates_removed or 0,
      s.template_grants_added or 0, s.template_grants_removed or 0),
    string.format("tenant roles: %d added, %d removed; grants: %d added, %d removed (%s)",
      s.roles_added or 0, s.roles_removed or 0, s.grants_added or 0, s.grants_removed or 0,
      plural(s.tenants or 0, "tenant")),
  }
  return lines, 0
end

local tenant = {}

function tenant.create(db, args, opts)
  local slug = args[2] or error("usage: rbacmig tenant create SLUG [--name NAME] [--owner USER_ID]", 0)
  local name = opts.name and opts.name[#opts.name] or slug
  local owner = opts.owner and opts.owner[#opts.owner] or nil
  local id = call(rbac.create_tenant, db, slug, name, owner)
  return { string.format("created tenant %s (%s)%s", slug, id, owner and (" owned by " .. owner) or "") }, 0
end

function tenant.list(db)
  local lines = {}
  for _, t in ipairs(call(rbac.list_tenants, db)) do
    lines[#lines + 1] = string.format("%s\t%s\t%s\t%s", t.slug, t.id, t.name, plural(t.members, "member"))
  end
  return lines, 0
end

function tenant.delete(db, args)
  local slug = args[2] or error("usage: rbacmig tenant delete SLUG", 0)
  call(rbac.delete_tenant, db, slug)
  return { "deleted tenant " .. slug }, 0
end

function M.tenant(db, args, opts)
  local handler = tenant[args[1] or ""]
  if not handler then
    error("usage: rbacmig tenant create|list|delete ...", 0)
  end
  return handler(db, args, opts)
end

local member = {}

function member.add(db, _, opts)
  local slug, user, role = one(opts, "tenant", "member add"), one(opts, "user", "member add"),
    one(opts, "role", "member add")
  local added = call(rbac.add_member, db, slug, user, role)
  return { string.format("%s %s as %s in %s", added and "added" or "already a member:", user, role, slug) }, 0
end

function member.remove(db, _, opts)
  local slug, user = one(opts, "tenant", "member remove"), one(opts, "user", "member remove")
  local role = opts.role and opts.role[#opts.role] or nil
  local n = call(rbac.remove_member, db, slug, user, role)
  if n == 0 then
    error(string.format("user %s has no %s in tenant '%s'", user, role and ("role '" .. role .. "'") or "role", slug), 0)
  end
  return { string.format("removed %s from %s (%s)", user, slug, plural(n, "membership")) }, 0
end

function member.list(db, _, opts)
  local lines = {}
  for _, m in ipairs(call(rbac.list_members, db, one(opts, "tenant", "member list"))) do
    lines[#lines + 1] = m.user_id .. "\t" .. table.concat(m.roles, ",")
  end
  return lines, 0
end

function M.member(db, args, opts)
  local handler = member[args[1] or ""]
  if not handler then
    error("usage: rbacmig member add|remove|list --tenant SLUG [--user USER_ID] [--role ROLE]", 0)
  end
  if #args > 1 then
    error("unexpected argument '" .. args[2] .. "'", 0)
  end
  return handler(db, args, opts)
end

function M.can(db, args, opts)
  if #args ~= 1 then
    error("usage: rbacmig can --tenant SLUG --user USER_ID PERMISSION", 0)
  end
  local allowed, roles = call(rbac.can, db, one(opts, "tenant", "can"), one(opts, "user", "can"), args[1])
  if allowed then
    return { "allowed (" .. table.concat(roles, ", ") .. ")" }, 0
  end
  return { "denied" }, 3
end

-- The entry point the host calls: command(name, db, args, opts) -> lines, exit code.
function M.command(name, db, args, opts)
  local handler = M[name]
  if type(handler) ~= "function" or name == "command" then
    error("unknown RBAC command '" .. tostring(name) .. "'", 0)
  end
  return handler(db, args, opts)
end

return M
