-- Tests for lua/rbacmig/rbac.lua, the shipped model files (rbac/) and the
-- shape of the SQL that the RBAC module and the first migration issue.
--
-- ctest runs it in rbacmig's sandbox with the embedded modules (tests/lua_runner.c), from
-- the repository root: build/tests/lua_runner tests/lua/test_rbac.lua
-- Needs no database: a recording fake stands in for the host's `db` object.
-- End-to-end runs against PostgreSQL and SQLite go through the real binary.

local T = require("harness")
local test, eq, check, raises, fmt = T.test, T.eq, T.check, T.raises, T.show

local rbac = require("rbacmig.rbac")
local schema = require("rbacmig.schema")

local MIGRATION = "migrations/91759229c32b_add_initial_rbac_tables.lua"

-- Loads a model file as plain data: text only, with no globals at all.
local function load_data(path)
  return assert(load(read_file(path), "@" .. path, "t", {}))()
end

-- Loads a migration as the host does: text only, in a fresh sandbox _ENV (the sandbox's
-- load without an environment gives one).
local function load_migration(path)
  return assert(load(read_file(path), "@" .. path))()
end

local function contains(list, value)
  for _, v in ipairs(list) do
    if v == value then
      return true
    end
  end
  return false
end

local function copy(t)
  if type(t) ~= "table" then
    return t
  end
  local out = {}
  for k, v in pairs(t) do
    out[k] = copy(v)
  end
  return out
end

-- A small catalogue and templates to vary in the validation tests.
local function catalogue()
  return {
    { name = "tenants.read", description = "View the tenant" },
    { name = "projects.read", description = "View projects" },
    { name = "projects.update", description = "Edit projects" },
    { name = "projects.settings.read", description = "View project settings" },
    { name = "members.manage", description = "Manage members" },
  }
end

local function templates()
  return {
    { name = "owner", description = "Everything", permissions = { "*" } },
    { name = "editor", description = "Edits projects", permissions = { "projects.*", "tenants.read" } },
  }
end

local FILES = { permissions = "rbac/permissions.lua", roles = "rbac/roles.lua" }

-- A fake `db` that records every statement with its parameters. Queries
-- return `rows` (a function of the SQL) or nothing. Like the host's, it has
-- the schema API (db:create_table..., db.fn), which sends SQL through db:exec.
local function fake_db(dialect, opts)
  opts = opts or {}
  local db = { dialect = dialect, offline = opts.offline or false, schema = opts.schema or "public",
               calls = {} }
  for k, v in pairs(schema) do
    db[k] = v
  end
  function db:exec(sql, ...)
    self.calls[#self.calls + 1] = { kind = "exec", sql = sql, args = table.pack(...) }
    return 0
  end
  function db:query(sql, ...)
    if self.offline then
      error("query is not available in --sql mode")
    end
    self.calls[#self.calls + 1] = { kind = "query", sql = sql, args = table.pack(...) }
    return opts.rows and opts.rows(sql, ...) or {}
  end
  function db:scalar(sql, ...)
    local rows = self:query(sql, ...)
    local row = rows[1]
    if row then
      local _, v = next(row)
      return v
    end
    return nil
  end
  function db:quote_ident(name)
    return '"' .. name:gsub('"', '""') .. '"'
  end
  function db:load_rbac()
    return { permissions = load_data(FILES.permissions), roles = load_data(FILES.roles),
             files = FILES }
  end
  return db
end

-- Checks that a recorded statement's placeholders are exactly $1..$n for its
-- n arguments.
local function check_placeholders(call)
  local max, used = 0, {}
  for d in call.sql:gmatch("%$(%d+)") do
    local i = tonumber(d)
    used[i] = true
    if i > max then
      max = i
    end
  end
  eq(max, call.args.n, "highest placeholder vs arguments in: " .. call.sql)
  for i = 1, max do
    check(used[i], ("placeholder $%d unused in: %s"):format(i, call.sql))
  end
end

-- ---------------------------------------------------------------------------
-- The shipped model files

test("shipped files validate", function()
  local model = rbac.validate(load_data(FILES.permissions), load_data(FILES.roles), FILES)
  check(#model.permissions >= 20 and #model.permissions <= 30, "catalogue of 20-30 entries")
  local names = {}
  for i, p in ipairs(model.permissions) do
    names[i] = p.name
    check(type(p.description) == "string" and p.description ~= "", "description of " .. p.name)
    if i > 1 then
      check(names[i - 1] < p.name, "permissions sorted by name")
    end
  end
  for _, required in ipairs({ "tenants.read", "tenants.update", "tenants.delete",
      "members.read", "members.manage", "roles.read", "roles.manage", "audit_log.read" }) do
    check(contains(names, required), "catalogue has " .. required)
  end
  local roles = {}
  for i, r in ipairs(model.roles) do
    roles[r.name] = r
    eq(r.name, ({ "owner", "admin", "member", "viewer" })[i], "role order")
  end
  eq(#roles.owner.permissions, #model.permissions, "owner holds every permission")
  check(not contains(roles.admin.permissions, "tenants.delete"), "admin cannot delete the tenant")
  check(contains(roles.admin.permissions, "members.manage"), "admin manages members")
  check(contains(roles.admin.permissions, "roles.manage"), "admin manages roles")
  check(not contains(roles.member.permissions, "members.manage"), "member does not manage members")
  for _, p in ipairs(roles.viewer.permissions) do
    check(p:match("%.read$"), "viewer only reads: " .. p)
  end
end)

test("shipped files are plain data", function()
  -- loaded with an empty environment: any global access would fail
  eq(type(load_data(FILES.permissions)), "table", "permissions.lua returns")
  eq(type(load_data(FILES.roles)), "table", "roles.lua returns")
end)

-- ---------------------------------------------------------------------------
-- Expansion

test("wildcards expand against the catalogue", function()
  local model = rbac.validate(catalogue(), templates(), FILES)
  eq(#model.roles, 2, "roles")
  eq(table.concat(model.roles[1].permissions, ","),
    "members.manage,projects.read,projects.settings.read,projects.update,tenants.read", "owner *")
  eq(table.concat(model.roles[2].permissions, ","),
    "projects.read,projects.settings.read,projects.update,tenants.read", "editor projects.*")
end)

test("nested wildcard and overlapping patterns", function()
  local roles = {
    { name = "settings", description = "d", permissions = { "projects.settings.*", "projects.*" } },
  }
  local model = rbac.validate(catalogue(), roles, FILES)
  eq(table.concat(model.roles[1].permissions, ","),
    "projects.read,projects.settings.read,projects.update", "deduplicated union")
  roles[1].permissions = { "projects.settings.*" }
  model = rbac.validate(catalogue(), roles, FILES)
  eq(table.concat(model.roles[1].permissions, ","), "projects.settings.read", "nested prefix")
end)

test("prefix matches whole segments only", function()
  local perms = catalogue()
  perms[#perms + 1] = { name = "projectsx.read", description = "d" }
  local model = rbac.validate(perms, { { name = "p", description = "d", permissions = { "projects.*" } } })
  check(not contains(model.roles[1].permissions, "projectsx.read"), "projects.* excludes projectsx.read")
end)

test("a role may grant nothing", function()
  local model = rbac.validate(catalogue(), { { name = "guest", description = "d", permissions = {} } })
  eq(#model.roles[1].permissions, 0, "empty role")
end)

test("validate does not change its input", function()
  local perms, roles = catalogue(), templates()
  rbac.validate(perms, roles, FILES)
  eq(perms[1].name, "tenants.read", "catalogue order kept")
  eq(roles[1].permissions[1], "*", "patterns kept")
end)

-- ---------------------------------------------------------------------------
-- Validation errors name the file and the entry

local PF, RF = "rbac/permissions.lua", "rbac/roles.lua"

local function with_permission(entry)
  local perms = catalogue()
  perms[3] = entry
  return perms
end

local function with_role(entry)
  local roles = templates()
  roles[2] = entry
  return roles
end

test("permission names are checked", function()
  for _, bad in ipairs({ "projects", "Projects.read", "projects.Read", "projects..read",
      ".projects.read", "projects.read.", "projects.1read", "1projects.read", "projects-x.read",
      "projects.read write", "projects._read", "", ("a"):rep(50) .. "." .. ("b"):rep(50) }) do
    raises({ PF, "entry 3", "invalid permission name", "resource.action" },
      rbac.validate, with_permission({ name = bad, description = "d" }), templates(), FILES)
  end
  for _, good in ipairs({ "a.b", "api_keys.create", "a.b.c", "a1.b2_c" }) do
    rbac.validate(with_permission({ name = good, description = "d" }), {}, FILES)
  end
end)

test("duplicate permission", function()
  raises({ PF, "permission 'projects.read' (entry 3)", "duplicate permission", "entry 2" },
    rbac.validate, with_permission({ name = "projects.read", description = "again" }), {}, FILES)
end)

test("permission field types and keys", function()
  raises({ PF, "entry 3", "field 'name' must be a string, got number" },
    rbac.validate, with_permission({ name = 42, description = "d" }), {}, FILES)
  raises({ PF, "entry 3", "field 'name' must be a string, got nil" },
    rbac.validate, with_permission({ description = "d" }), {}, FILES)
  raises({ PF, "permission 'x.y' (entry 3)", "field 'description' must be a string, got nil" },
    rbac.validate, with_permission({ name = "x.y" }), {}, FILES)
  raises({ PF, "permission 'x.y' (entry 3)", "description is empty" },
    rbac.validate, with_permission({ name = "x.y", description = "" }), {}, FILES)
  raises({ PF, "permission 'x.y' (entry 3)", "unknown key 'descripton'" },
    rbac.validate, with_permission({ name = "x.y", descripton = "d", description = "d" }), {}, FILES)
  raises({ PF, "entry 3", "expected a permission table, got string" },
    rbac.validate, with_permission("x.y"), {}, FILES)
end)

test("the permission list must be a plain list", function()
  raises({ PF, "expected a list of permissions, got string" }, rbac.validate, "x", {}, FILES)
  raises({ PF, "unexpected key 'permissions'" },
    rbac.validate, { permissions = catalogue() }, {}, FILES)
  local holes = catalogue()
  holes[10] = { name = "x.y", description = "d" }
  raises({ PF }, rbac.validate, holes, {}, FILES)
end)

test("role names are checked", function()
  for _, bad in ipairs({ "Admin", "1admin", "ad-min", "ad min", "", ("a"):rep(64), "_admin" }) do
    raises({ RF, "entry 2", "invalid role name" },
      rbac.validate, catalogue(), with_role({ name = bad, description = "d", permissions = {} }), FILES)
  end
end)

test("duplicate role", function()
  raises({ RF, "role 'owner' (entry 2)", "duplicate role", "entry 1" }, rbac.validate,
    catalogue(), with_role({ name = "owner", description = "d", permissions = {} }), FILES)
end)

test("unknown permission in a role", function()
  raises({ RF, "role 'editor' (entry 2)", "unknown permission 'projects.raed'" }, rbac.validate,
    catalogue(), with_role({ name = "editor", description = "d", permissions = { "projects.raed" } }), FILES)
end)

test("wildcard matching nothing", function()
  raises({ RF, "role 'editor' (entry 2)", "pattern 'billing.*' matches no permission" }, rbac.validate,
    catalogue(), with_role({ name = "editor", description = "d", permissions = { "billing.*" } }), FILES)
  raises({ RF, "pattern '*' matches no permission" }, rbac.validate, {}, templates(), FILES)
end)

test("bad patterns in a role", function()
  for _, bad in ipairs({ "projects*", "*.read", "projects.*.read", "Projects.*", ".*", "projects" }) do
    raises({ RF, "role 'editor' (entry 2)", bad }, rbac.validate,
      catalogue(), with_role({ name = "editor", description = "d", permissions = { bad } }), FILES)
  end
end)

test("role field types and keys", function()
  raises({ RF, "role 'editor' (entry 2)", "field 'permissions' must be a table, got string" },
    rbac.validate, catalogue(), with_role({ name = "editor", description = "d", permissions = "*" }), FILES)
  raises({ RF, "role 'editor' (entry 2)", "permission 1 must be a string, got number" },
    rbac.validate, catalogue(), with_role({ name = "editor", description = "d", permissions = { 1 } }), FILES)
  raises({ RF, "role 'editor' (entry 2)", "unknown key 'perms'" }, rbac.validate,
    catalogue(), with_role({ name = "editor", description = "d", permissions = {}, perms = {} }), FILES)
  raises({ RF, "role 'editor' (entry 2)", "'tenants.read' is listed twice" }, rbac.validate,
    catalogue(), with_role({ name = "editor", description = "d",
      permissions = { "tenants.read", "tenants.read" } }), FILES)
  raises({ RF, "role 'editor' (entry 2)", "unexpected key 'x'" }, rbac.validate,
    catalogue(), with_role({ name = "editor", description = "d", permissions = { x = "tenants.read" } }), FILES)
  raises({ RF, "expected a list of roles, got nil" }, rbac.validate, catalogue(), nil, FILES)
end)

test("errors name the files the host passes", function()
  local files = { permissions = "custom/perms.lua", roles = "custom/roles.lua" }
  raises({ "rbac: custom/perms.lua: permission 'Bad' (entry 3)" }, rbac.validate,
    with_permission({ name = "Bad", description = "d" }), {}, files)
  raises({ "rbac: custom/roles.lua: role 'editor'" }, rbac.validate, catalogue(),
    with_role({ name = "editor", description = "d", permissions = { "nope.nope" } }), files)
end)

test("errors name the default files when none are given", function()
  raises({ "rbac: rbac/roles.lua:" }, rbac.validate, catalogue(),
    with_role({ name = "editor", description = "d", permissions = { "nope.nope" } }))
end)

-- ---------------------------------------------------------------------------
-- The module runs in the migration sandbox

test("module runs in the migration sandbox: validate and an offline sync", function()
  -- This suite runs in the sandbox, and `rbac` came from the sandbox's require: the
  -- embedded bytecode a migration gets.
  local model = rbac.validate(copy(catalogue()), copy(templates()), FILES)
  eq(#model.roles, 2, "validate in the sandbox")
  local db = fake_db("sqlite", { offline = true })
  rbac.sync(db, { model = model, prune = true })
end)

-- ---------------------------------------------------------------------------
-- Sync: a fixed number of set-based statements, values only as parameters

local function sync_calls(dialect, opts, db_opts)
  local db = fake_db(dialect, db_opts)
  local summary = rbac.sync(db, opts)
  return db.calls, summary
end

test("sync issues a fixed number of statements", function()
  local model = rbac.validate(load_data(FILES.permissions), load_data(FILES.roles), FILES)
  for _, dialect in ipairs({ "postgresql", "sqlite" }) do
    local calls = sync_calls(dialect, { model = model })
    local execs = 0
    for _, c in ipairs(calls) do
      if c.kind == "exec" then
        execs = execs + 1
      end
    end
    eq(execs, 8, dialect .. " statements without prune")
    calls = sync_calls(dialect, { model = model, prune = true })
    execs = 0
    for _, c in ipairs(calls) do
      if c.kind == "exec" then
        execs = execs + 1
      end
    end
    eq(execs, 14, dialect .. " statements with prune")
  end
end)

test("sync binds every value as a parameter", function()
  local perms = catalogue()
  perms[1].description = "It's; DROP TABLE tenants; --"
  local roles = templates()
  roles[1].description = "Robert'); --"
  local model = rbac.validate(perms, roles, FILES)
  local rows = function(sql)
    if sql:find("SELECT slug FROM tenants", 1, true) then
      return { { slug = "o'brien" } }
    end
    return { { count = 1 } }
  end
  local calls, summary = sync_calls("postgresql",
    { model = model, prune = true, tenants = { "o'brien" } }, { rows = rows })
  eq(summary.tenants, 1, "tenant count from the query")
  local seen_description = false
  for _, c in ipairs(calls) do
    check_placeholders(c)
    check(not c.sql:find("DROP TABLE", 1, true), "no value pasted into SQL")
    check(not c.sql:find("Robert", 1, true), "no value pasted into SQL")
    check(not c.sql:find("o'brien", 1, true), "slug not pasted into SQL")
    check(not c.sql:find("tenants.read", 1, true), "permission names not pasted into SQL")
    for i = 1, c.args.n do
      if c.args[i] == "It's; DROP TABLE tenants; --" then
        seen_description = true
      end
    end
  end
  check(seen_description, "description passed as a parameter")
end)

test("sync statements are set-based", function()
  local calls = sync_calls("sqlite", { model = rbac.validate(catalogue(), templates(), FILES) })
  local text = {}
  for _, c in ipairs(calls) do
    text[#text + 1] = c.sql
  end
  text = table.concat(text, "\n;\n")
  check(text:find("INSERT INTO roles (tenant_id, name, description, template)\nSELECT", 1, true),
    "roles seeded with INSERT ... SELECT")
  check(text:find("INSERT INTO role_permissions (tenant_id, role_id, permission_id)\nSELECT", 1, true),
    "grants seeded with INSERT ... SELECT")
  check(text:find("ON CONFLICT DO NOTHING", 1, true), "idempotent inserts")
end)

test("sync checks the tenants it is given", function()
  local model = rbac.validate(catalogue(), templates(), FILES)
  local db = fake_db("sqlite", { rows = function() return { { slug = "acme" } } end })
  raises({ "rbac: unknown tenant 'nope'" }, rbac.sync, db, { model = model, tenants = { "acme", "nope" } })
  for _, c in ipairs(db.calls) do
    eq(c.kind, "query", "nothing written before the check")
  end
end)

test("sync with an empty tenant list touches no tenant", function()
  local model = rbac.validate(catalogue(), templates(), FILES)
  local calls, summary = sync_calls("sqlite", { model = model, tenants = {} })
  eq(summary.tenants, 0, "tenants")
  for _, c in ipairs(calls) do
    check(not c.sql:find("INTO roles", 1, true), "no roles seeded")
  end
end)

test("sync options are checked", function()
  local db = fake_db("sqlite")
  raises({ "rbac: unknown sync option 'prun'" }, rbac.sync, db, { prun = true })
  raises({ "sync option 'prune' must be a boolean" }, rbac.sync, db, { prune = "yes" })
  raises({ "tenant 1 in sync option 'tenants' must be a string" }, rbac.sync, db, { tenants = { 1 } })
  raises({ "not a model" }, rbac.sync, db, { model = {} })
end)

test("sync loads and validates the model through the host", function()
  local db = fake_db("postgresql", { offline = true })
  local summary = rbac.sync(db)
  eq(summary.tenants, 0, "no counts offline")
  check(#db.calls > 0, "statements printed offline")
  local bad = fake_db("postgresql", { offline = true })
  function bad:load_rbac()
    return { permissions = { { name = "Bad", description = "d" } }, roles = {},
             files = { permissions = "rbac/permissions.lua", roles = "rbac/roles.lua" } }
  end
  raises({ "rbac: rbac/permissions.lua: permission 'Bad' (entry 1)", "invalid permission name 'Bad'" },
    rbac.sync, bad)
end)

test("sync in --sql mode runs no query", function()
  local model = rbac.validate(catalogue(), templates(), FILES)
  local calls, summary = sync_calls("postgresql",
    { model = model, prune = true, tenants = { "acme" } }, { offline = true })
  for _, c in ipairs(calls) do
    eq(c.kind, "exec", "only exec offline")
  end
  for k, v in pairs(summary) do
    eq(v, 0, k)
  end
end)

test("the summary has every count", function()
  local _, summary = sync_calls("sqlite", { model = rbac.validate(catalogue(), templates(), FILES) })
  for _, key in ipairs({ "permissions_added", "permissions_updated", "permissions_removed",
      "templates_added", "templates_updated", "templates_removed", "template_grants_added",
      "template_grants_removed", "roles_added", "roles_removed", "grants_added",
      "grants_removed", "tenants" }) do
    eq(math.type(summary[key]), "integer", key)
  end
end)

-- ---------------------------------------------------------------------------
-- Tenant and member functions: argument checks before any write

test("tenant functions check their arguments", function()
  local db = fake_db("sqlite")
  raises({ "rbac: invalid tenant slug 'Acme'" }, rbac.create_tenant, db, "Acme", "Acme")
  raises({ "invalid tenant slug 'ab'" }, rbac.create_tenant, db, "ab", "Acme")
  raises({ "invalid tenant slug 'a_b'" }, rbac.create_tenant, db, "a_b", "Acme")
  raises({ "invalid tenant slug" }, rbac.create_tenant, db, ("a"):rep(64), "Acme")
  raises({ "tenant name is empty" }, rbac.create_tenant, db, "acme", "")
  raises({ "tenant name must be a string, got nil" }, rbac.create_tenant, db, "acme")
  raises({ "invalid user id 'bob'" }, rbac.create_tenant, db, "acme", "Acme", "bob")
  raises({ "invalid user id 'bob'" }, rbac.add_member, db, "acme", "bob", "admin")
  raises({ "invalid permission name 'admin'" }, rbac.can, db, "acme",
    "123e4567-e89b-42d3-a456-426614174000", "admin")
  for _, c in ipairs(db.calls) do
    check(c.kind ~= "exec", "nothing written")
  end
end)

test("unknown tenant and role are named", function()
  local db = fake_db("sqlite")
  local user = "123e4567-e89b-42d3-a456-426614174000"
  raises({ "rbac: unknown tenant 'x'; DROP TABLE t'" }, rbac.add_member, db, "x'; DROP TABLE t", user, "admin")
  raises({ "rbac: unknown tenant 'nope'" }, rbac.delete_tenant, db, "nope")
  raises({ "rbac: unknown tenant 'nope'" }, rbac.list_members, db, "nope")
  local tenant = fake_db("sqlite", { rows = function(sql)
    if sql:find("FROM tenants", 1, true) then
      return { { id = "11111111-1111-4111-8111-111111111111" } }
    end
    return {}
  end })
  raises({ "rbac: unknown role 'boss' in tenant 'acme'" }, rbac.add_member, tenant, "acme", user, "boss")
  raises({ "rbac: unknown role 'boss' in tenant 'acme'" }, rbac.remove_member, tenant, "acme", user, "boss")
  raises({ "rbac: unknown permission 'x.y'" }, rbac.can, tenant, "acme", user, "x.y")
  for _, c in ipairs(tenant.calls) do
    check_placeholders(c)
    check(not c.sql:find("acme", 1, true), "slug bound, not pasted")
  end
end)

test("errors point at the caller", function()
  local db = fake_db("sqlite")
  local err = raises({ "unknown tenant 'nope'" }, function()
    rbac.delete_tenant(db, "nope") -- this line is blamed
  end)
  check(err:find("test_rbac.lua:%d+: rbac: unknown tenant"), "position of the caller in " .. err)
end)

test("errors found in nested checks point at the caller's line", function()
  local db = fake_db("sqlite")
  local user = "123e4567-e89b-42d3-a456-426614174000"
  local line
  local function here() line = debug.getinfo(2, "l").currentline end
  local cases = {
    { function() here() rbac.add_member(db, "acme", "nope", "r") end, "rbac: invalid user id 'nope'" },
    { function() here() rbac.can(db, "nope", user, "a.b") end, "rbac: unknown tenant 'nope'" },
    { function() here() rbac.remove_member(db, 42, user) end,
      "rbac: tenant slug must be a string, got number" },
    { function() here() rbac.sync(db, { prun = true }) end, "rbac: unknown sync option 'prun'" },
    { function() here() rbac.sync(1) end, "rbac: expected a db object, got number" },
  }
  for _, c in ipairs(cases) do
    local ok, err = pcall(c[1])
    eq(ok, false)
    local at, msg = tostring(err):match("^[^:]*test_rbac%.lua:(%d+): (.*)$")
    eq(tonumber(at), line, "blamed line in " .. tostring(err))
    check(msg and msg:sub(1, #c[2]) == c[2], "message " .. tostring(err))
  end
end)

test("create_tenant seeds roles itself on SQLite only", function()
  local id = "11111111-1111-4111-8111-111111111111"
  local lookups = 0
  local function rows(sql)
    if sql:find("SELECT id FROM tenants", 1, true) then
      -- absent before the insert, present after
      lookups = lookups + 1
      return lookups > 1 and { { id = id } } or {}
    end
    return {}
  end
  for _, dialect in ipairs({ "sqlite", "postgresql" }) do
    lookups = 0
    local db = fake_db(dialect, { rows = rows })
    eq(rbac.create_tenant(db, "acme", "Acme"), id, dialect .. " id")
    local seeded = false
    for _, c in ipairs(db.calls) do
      if c.kind == "exec" and c.sql:find("INSERT INTO roles", 1, true) then
        seeded = true
      end
    end
    eq(seeded, dialect == "sqlite", dialect .. " seeds in Lua")
  end
end)

-- ---------------------------------------------------------------------------
-- Text: control characters in model files, escaping of what is printed
-- (issue 12, items 3 and 8)

local function no_controls(msg, what)
  check(not msg:find("[%c\128-\159]"), (what or "message") .. " holds a raw control character: " .. fmt(msg))
end

test("model strings with control characters are refused", function()
  -- A NUL in a description used to reach the --sql writer, which lost the literal's
  -- closing quote there; online it was cut at the NUL.
  for _, case in ipairs({
      { "x\0y", "\\x00 at byte 2" }, { "\27[2J", "\\x1b at byte 1" }, { "a\rb", "\\r at byte 2" },
      { "a\127", "\\x7f at byte 2" }, { "a\u{85}", "\\u{85} at byte 2" } }) do
    local msg = raises({ RF, "role 'editor' (entry 2)", "description holds the control character "
        .. case[2], "only tab and newline are allowed" },
      rbac.validate, catalogue(), with_role({ name = "editor", description = case[1], permissions = {} }), FILES)
    no_controls(msg)
    msg = raises({ PF, "permission 'x.y' (entry 3)", "description holds the control character" },
      rbac.validate, with_permission({ name = "x.y", description = case[1] }), {}, FILES)
    no_controls(msg)
  end
  raises({ PF, "permission 'x.y' (entry 3)", "description is not valid UTF-8 (byte \\xff at byte 3)" },
    rbac.validate, with_permission({ name = "x.y", description = "ab\255" }), {}, FILES)
  -- Names: the entry's label shows the name escaped, the problem is the character.
  local msg = raises({ RF, "role 'ed\\x00itor' (entry 2)", "name holds the control character \\x00",
      "none is allowed" },
    rbac.validate, catalogue(), with_role({ name = "ed\0itor", description = "d", permissions = {} }), FILES)
  no_controls(msg)
  msg = raises({ RF, "role 'editor' (entry 2)", "invalid pattern 'projects\\n.*'" },
    rbac.validate, catalogue(), with_role({ name = "editor", description = "d", permissions = { "projects\n.*" } }), FILES)
  no_controls(msg)
  -- Tab and newline are text in a description.
  local model = rbac.validate(with_permission({ name = "x.y", description = "a\tb\nc" }), {}, FILES)
  eq(model.permissions[5].description, "a\tb\nc", "tab and newline kept")
end)

test("printable escapes what a terminal acts on, and only that", function()
  eq(rbac.printable("Acme Corp 東京 é"), "Acme Corp 東京 é", "text unchanged")
  eq(rbac.printable("a\nb\tc\rd"), "a\\nb\\tc\\rd", "newline, tab, CR")
  eq(rbac.printable("\27[31mred\7"), "\\x1b[31mred\\x07", "ESC and BEL")
  eq(rbac.printable("\0\127"), "\\x00\\x7f", "NUL and DEL")
  eq(rbac.printable("\u{9b}31m"), "\\u{9b}31m", "C1 CSI")
  eq(rbac.printable("\u{202e}txt.exe"), "\\u{202e}txt.exe", "bidi override")
  eq(rbac.printable("a\u{2028}b"), "a\\u{2028}b", "line separator")
  eq(rbac.printable("bad\255\192\128"), "bad\\xff\\xc0\\x80", "bytes that are not UTF-8")
  eq(rbac.printable("C:\\path"), "C:\\path", "a backslash stays")
  for _, v in ipairs({ "a\nb", "\27x\255", "\u{202e}" }) do
    eq(rbac.printable(rbac.printable(v)), rbac.printable(v), "idempotent for " .. fmt(v))
  end
  eq(rbac.printable(42), "42", "numbers")
end)

test("errors show the values they name escaped", function()
  local db = fake_db("sqlite")
  local msg = raises({ "unknown tenant 'a\\nb\\x1b[2J'" }, rbac.delete_tenant, db, "a\nb\27[2J")
  no_controls(msg)
  msg = raises({ "invalid tenant slug 'x\\ny'" }, rbac.create_tenant, db, "x\ny", "X")
  no_controls(msg)
end)

test("a tenant name with a control character is refused", function()
  local db = fake_db("sqlite")
  for _, bad in ipairs({ "Evil\nowner", "Evil\tCo", "\27]0;x\7", "a\0b" }) do
    local msg = raises({ "tenant name '", "holds the control character", "none is allowed" },
      rbac.create_tenant, db, "evil", bad)
    no_controls(msg)
  end
  for _, c in ipairs(db.calls) do
    check(c.kind ~= "exec", "nothing written")
  end
end)

test("check_tables names the migration to run", function()
  for _, dialect in ipairs({ "sqlite", "postgresql" }) do
    local missing = fake_db(dialect, { rows = function()
      return { { n = "tenants" }, { n = "memberships" } }
    end })
    local msg = raises({ "missing: tenants, memberships", "run 'rbacmig upgrade 91759229c32b'" },
      rbac.check_tables, missing)
    check(not msg:find("\n"), "one line")
    eq(rbac.check_tables(fake_db(dialect)), true, dialect .. ": all there")
  end
end)

test("an unknown permission or role that rbac/ lists hints at seed", function()
  local user = "123e4567-e89b-42d3-a456-426614174000"
  local tenant = fake_db("sqlite", { rows = function(sql)
    if sql:find("FROM tenants", 1, true) then
      return { { id = "11111111-1111-4111-8111-111111111111" } }
    end
    return {}
  end })
  raises({ "unknown permission 'tenants.read' (it is in rbac/permissions.lua but not in the database yet: run 'rbacmig seed')" },
    rbac.can, tenant, "acme", user, "tenants.read")
  raises({ "unknown role 'viewer' in tenant 'acme' (it is in rbac/roles.lua but not in the database yet: run 'rbacmig seed')" },
    rbac.add_member, tenant, "acme", user, "viewer")
  local msg = raises({ "unknown permission 'none.such'" }, rbac.can, tenant, "acme", user, "none.such")
  check(not msg:find("seed", 1, true), "no hint for a name the files lack: " .. msg)
  -- Model files that fail to load give no hint, and no other error.
  tenant.load_rbac = function() error("rbac/roles.lua:1: broken") end
  msg = raises({ "unknown permission 'tenants.read'" }, rbac.can, tenant, "acme", user, "tenants.read")
  check(not msg:find("broken", 1, true), "the load error does not leak: " .. msg)
end)

-- ---------------------------------------------------------------------------
-- The commands (rbacmig.commands): typed options, escaped lines, all counts

local commands = require("rbacmig.commands")

test("util: argument errors located once, plain lists, describe", function()
  local util = require("rbacmig.util")
  local inner = util.public(function() util.fail("rbac: unknown tenant 'a'") end)
  local outer = util.public(function() inner() end)
  -- A command line gets the message alone, however deep it was raised.
  eq(select(2, pcall(util.call, outer)), "rbac: unknown tenant 'a'")
  -- A migration gets its own line, not one inside the public function that called another.
  local function migration() local x = outer() return x end
  local line = debug.getinfo(1, "l").currentline - 1
  local where = debug.getinfo(1, "S").short_src .. ":" .. line .. ": "
  eq(select(2, pcall(migration)), where .. "rbac: unknown tenant 'a'")
  -- Anything else passes unchanged, a string with its position or an error object.
  local e = { message = "sql" }
  eq(select(2, pcall(util.call, function() error(e) end)), e)
  eq(select(2, pcall(util.call, function() error("x.lua:3: boom", 0) end)), "x.lua:3: boom")
  eq(select(3, util.call(function() return 1, 2, 3 end)), 3)
  eq(util.plain_list({}), 0)
  eq(util.plain_list({ "a", "b" }), 2)
  eq(select(2, util.plain_list({ "a", x = 1 })), "x")
  -- A hole: its border (#) is 1 or 4; either way no count, and 3 is named only past #.
  local holey = { [1] = "a", [3] = "c", [4] = "d" }
  local n, key = util.plain_list(holey)
  eq(n, nil)
  eq(key, #holey == 1 and 3 or nil)
  eq(util.describe("x"), "'x'")
  eq(util.describe(nil), "nil")
end)

test("command lines show database values escaped", function()
  local db = fake_db("postgresql", { rows = function(sql)
    if sql:find("FROM tenants t", 1, true) then
      return { { id = "11111111-1111-4111-8111-111111111111", slug = "evil",
                 name = "Evil\n123e4567-e89b-42d3-a456-426614174000\towner\27[2J", members = 1 } }
    elseif sql:find("FROM memberships m JOIN roles", 1, true) then
      return { { user_id = "123e4567-e89b-42d3-a456-426614174000", role = "own\ner" } }
    elseif sql:find("SELECT id FROM tenants", 1, true) then
      return { { id = "11111111-1111-4111-8111-111111111111" } }
    end
    return {}
  end })
  local lines, code = commands.command("tenant", db, { "list" }, {})
  eq(code, 0, "exit code")
  eq(#lines, 1, "one line per tenant")
  eq(lines[1], "evil\t11111111-1111-4111-8111-111111111111\tEvil\\n123e4567-e89b-42d3-a456-426614174000\\towner\\x1b[2J\t1 member",
    "tenant line")
  lines = commands.command("member", db, { "list" }, { tenant = { "evil" } })
  eq(lines[1], "123e4567-e89b-42d3-a456-426614174000\town\\ner", "member line")
  check(db.calls[1].sql:find("rbacmig upgrade", 1, true) == nil and db.calls[1].sql:find("WITH t(n)", 1, true),
    "the tables are checked first")
end)

test("option values are strings, whatever they read", function()
  local created
  local db = fake_db("postgresql", { rows = function(sql)
    if sql:find("SELECT id FROM tenants", 1, true) and created then
      return { { id = "11111111-1111-4111-8111-111111111111" } }
    end
    return {}
  end })
  local exec = db.exec
  function db:exec(sql, ...)
    if sql:find("INSERT INTO tenants", 1, true) then
      created = table.pack(...)
    end
    return exec(self, sql, ...)
  end
  local lines = commands.command("tenant", db, { "create", "true" }, { name = { "true" } })
  eq(created[1], "true", "slug")
  eq(created[2], "true", "name")
  eq(lines[1], "created tenant true (11111111-1111-4111-8111-111111111111)", "line")
end)

test("seed prints every count sync returns", function()
  local db = fake_db("sqlite")
  local lines = commands.command("seed", db, {}, { prune = true })
  local text = table.concat(lines, "\n")
  for _, part in ipairs({ "permissions: 0 added, 0 updated, 0 removed, 0 kept",
      "role templates: 0 added, 0 updated, 0 removed, 0 kept; template grants: 0 added, 0 removed",
      "tenant roles: 0 added, 0 updated, 0 removed; grants: 0 added, 0 removed; memberships: 0 removed (0 tenants)" }) do
    check(text:find(part, 1, true), "seed output lacks " .. fmt(part) .. " in " .. fmt(text))
  end
end)

-- ---------------------------------------------------------------------------
-- The first migration

test("migration header and fields", function()
  local m = load_migration(MIGRATION)
  eq(m.revision, "91759229c32b", "revision")
  eq(m.down_revision, nil, "down_revision")
  eq(m.message, "add initial RBAC tables", "message")
  eq(type(m.upgrade), "function", "upgrade")
  eq(type(m.downgrade), "function", "downgrade")
  local head = read_file(MIGRATION)
  check(head:find("^%-%- add initial RBAC tables\n%-%-\n%-%- Revision ID: 91759229c32b\n%-%- Revises:\n%-%- Create Date: "),
    "Alembic-style header")
end)

local function migration_sql(dialect, direction, schema)
  local m = load_migration(MIGRATION)
  local db = fake_db(dialect, { schema = schema })
  m[direction](db)
  local out = {}
  for _, c in ipairs(db.calls) do
    if c.kind == "query" then
      -- On PostgreSQL the migration asks whether the database is Supabase.
      eq(dialect, "postgresql", "only PostgreSQL reads the catalogue")
      check(c.sql:find("^%s*SELECT to_reg"), "a catalogue probe: " .. c.sql)
    else
      eq(c.kind, "exec", "migration only executes")
      out[#out + 1] = c.sql
    end
    eq(c.args.n, 0, "DDL takes no parameters")
  end
  return out
end

-- The migration's statements on a fake Supabase: the probe for auth.users and auth.uid()
-- answers true, and no role is missing.
local function supabase_sql(direction, offline)
  local m = load_migration(MIGRATION)
  local db = fake_db("postgresql", { offline = offline, rows = function(sql)
    if sql:find("auth.users", 1, true) or sql:find("rbac_private", 1, true) then
      return { { present = true } }
    end
    return {}
  end })
  m[direction](db)
  local out = {}
  for _, c in ipairs(db.calls) do
    if c.kind == "exec" then
      out[#out + 1] = c.sql
    end
  end
  return table.concat(out, "\n")
end

test("supabase layer: RLS, policies, rbac_private, and all of it dropped", function()
  local up = supabase_sql("upgrade")
  for _, want in ipairs({ "REFERENCES auth.users (id) ON DELETE CASCADE", "CREATE SCHEMA rbac_private",
      "ALTER TABLE memberships ENABLE ROW LEVEL SECURITY", "TO authenticated",
      "CREATE FUNCTION has_permission(tenant_id uuid, permission text)", "SET search_path = ''",
      "FROM PUBLIC, anon, authenticated" }) do
    check(up:find(want, 1, true), "supabase upgrade has " .. want)
  end
  local _, calls = up:gsub("auth%.uid%(%)", "")
  local _, wrapped = up:gsub("%(SELECT auth%.uid%(%)%)", "")
  check(calls > 0 and calls == wrapped, "every auth.uid() is wrapped as (SELECT auth.uid())")
  local down = supabase_sql("downgrade")
  for name in up:gmatch("CREATE FUNCTION ([%w_.]+)") do
    check(down:find("DROP FUNCTION " .. name:gsub("%.", "%%."), 1), "downgrade drops " .. name)
  end
  check(down:find("DROP SCHEMA rbac_private", 1, true), "downgrade drops rbac_private")
end)

test("offline: the Supabase layer guarded in the script, statement for statement", function()
  local up = supabase_sql("upgrade", true)
  check(up:find("IF NOT (SELECT to_regclass('auth.users') IS NOT NULL", 1, true), "layer guarded by auth")
  check(up:find("RAISE EXCEPTION USING MESSAGE = '91759229c32b: the database has Supabase''s", 1, true),
    "refuses where the roles are missing")
  for _, stmt in ipairs({ "CREATE SCHEMA rbac_private", "ALTER TABLE tenants ENABLE ROW LEVEL SECURITY",
      "REVOKE ALL ON TABLE tenants, permissions" }) do
    check(up:find("EXECUTE $rbacmig_statement$" .. stmt, 1, true), "offline layer runs " .. stmt)
  end
  -- Every statement the online upgrade runs on Supabase is in the script, as it is.
  local m = load_migration(MIGRATION)
  local db = fake_db("postgresql", { rows = function(sql)
    return sql:find("auth.users", 1, true) and { { present = true } } or {}
  end })
  m.upgrade(db)
  local n = 0
  for _, c in ipairs(db.calls) do
    if c.kind == "exec" then
      n = n + 1
      check(up:find(c.sql, 1, true), "offline script has: " .. c.sql:sub(1, 60))
    end
  end
  check(n > 30, "the online statements were compared")
  local down = supabase_sql("downgrade", true)
  check(down:find("IF NOT (SELECT to_regnamespace('rbac_private') IS NOT NULL)", 1, true),
    "layer dropped where present")
  check(down:find("EXECUTE $rbacmig_statement$DROP SCHEMA rbac_private$rbacmig_statement$", 1, true),
    "offline downgrade drops rbac_private")
end)

test("downgrade removes everything upgrade creates", function()
  for _, dialect in ipairs({ "postgresql", "sqlite" }) do
    local created, dropped = {}, {}
    for _, sql in ipairs(migration_sql(dialect, "upgrade")) do
      local kind, name = sql:match('^%s*CREATE (%u+) "?([%w_]+)')
      if kind == "TABLE" or kind == "FUNCTION" then
        created[#created + 1] = kind .. " " .. name
      end
    end
    for _, sql in ipairs(migration_sql(dialect, "downgrade")) do
      local kind, name = sql:match('^%s*DROP (%u+) "?([%w_]+)')
      dropped[kind .. " " .. name] = true
    end
    eq(#created, dialect == "postgresql" and 10 or 7, dialect .. " objects created")
    for _, obj in ipairs(created) do
      check(dropped[obj], dialect .. " downgrade drops " .. obj)
    end
  end
end)

test("migration quotes the schema in function bodies", function()
  local sql = table.concat(migration_sql("postgresql", "upgrade", 'My "Schema"'), "\n")
  check(not sql:find("@schema@", 1, true), "placeholder replaced")
  check(sql:find('"My ""Schema""".memberships', 1, true), "schema quoted by the host")
  check(sql:find("SECURITY DEFINER", 1, true), "security definer")
  check(sql:find("SET search_path = pg_catalog, pg_temp", 1, true), "fixed search_path")
  check(sql:find("REVOKE ALL ON FUNCTION \"My \"\"Schema\"\"\".has_permission(uuid, uuid, text) FROM PUBLIC", 1, true),
    "revoked from PUBLIC")
  check(sql:find("FROM anon", 1, true) and sql:find("FROM authenticated", 1, true),
    "revoked from anon and authenticated")
end)

test("sqlite migration has no PostgreSQL-only syntax", function()
  local sql = table.concat(migration_sql("sqlite", "upgrade"), "\n")
  for _, pg in ipairs({ "gen_random_uuid", "timestamptz", "plpgsql", "~ '", "@uuid" }) do
    check(not sql:find(pg, 1, true), "sqlite DDL has no " .. pg)
  end
end)

test("every tenant-scoped key starts with tenant_id", function()
  for _, dialect in ipairs({ "postgresql", "sqlite" }) do
    for _, sql in ipairs(migration_sql(dialect, "upgrade")) do
      local tbl = sql:match('^%s*CREATE TABLE "?([%w_]+)')
      if tbl and sql:find("tenant_id", 1, true) then
        for kind, cols in sql:gmatch("(%u[%u ]+) %(([^)]*)%)") do
          if kind:find("PRIMARY KEY$") or kind:find("UNIQUE$") then
            check(cols:find('^"?tenant_id'), ("%s %s %s (%s) starts with tenant_id"):format(dialect, tbl, kind, cols))
          end
        end
      end
    end
  end
end)

return T.done()
