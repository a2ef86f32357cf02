-- rbacmig.rbac: the multi-tenant RBAC model and the operations on its data.
--
-- Validates the model files (rbac/permissions.lua, rbac/roles.lua), syncs them
-- into the tables made by migration 91759229c32b, and manages tenants and
-- memberships. Pure Lua so that it runs in the migration sandbox: it uses only
-- base, string, table and math, and reaches the database only through the
-- `db` object the host passes in (db:exec, db:query, db:scalar, db.dialect,
-- db.offline, db:load_rbac). Every value is a bound parameter; no name, slug
-- or description is ever pasted into SQL text.
--
-- Writes are set-based: sync issues a fixed number of statements however many
-- tenants there are. Callers run these functions inside one transaction (the
-- host opens one per command and per migration), so a failure leaves nothing
-- half done.

local util = require("rbacmig.util")

local M = {}

local DEFAULT_FILES = {
  permissions = "rbac/permissions.lua",
  roles = "rbac/roles.lua",
}

local MAX_PERMISSION_NAME = 100
local MAX_ROLE_NAME = 63

local UUID_PATTERN = "^" .. ("%x"):rep(8) .. "%-" .. ("%x"):rep(4) .. "%-"
  .. ("%x"):rep(4) .. "%-" .. ("%x"):rep(4) .. "%-" .. ("%x"):rep(12) .. "$"

-- ---------------------------------------------------------------------------
-- Text: what a value may hold, and how it is shown

-- Code points a terminal acts on instead of showing: C1 controls, line and
-- paragraph separators, and the bidirectional marks, embeddings and isolates
-- (a name could reorder what is printed after it).
local function is_invisible(cp)
  return (cp >= 0x80 and cp <= 0x9f) or cp == 0x61c or cp == 0x200e or cp == 0x200f
    or (cp >= 0x2028 and cp <= 0x202e) or (cp >= 0x2066 and cp <= 0x2069)
end

local ESCAPES = { [0x0a] = "\\n", [0x09] = "\\t", [0x0d] = "\\r" }

-- Walks s as UTF-8, calling f(start, code point or nil for a byte that is not
-- valid UTF-8, the sequence); stops at the first truthy result of f.
local function each_char(s, f)
  local i, n = 1, #s
  while i <= n do
    local c = s:byte(i)
    local len = c < 0x80 and 1 or c >= 0xf0 and 4 or c >= 0xe0 and 3 or c >= 0xc2 and 2 or 0
    local seq = len > 0 and s:sub(i, i + len - 1) or nil
    local r
    if seq and #seq == len and utf8.len(seq) == 1 then
      r = f(i, utf8.codepoint(seq), seq)
      i = i + len
    else
      r = f(i, nil, s:sub(i, i))
      i = i + 1
    end
    if r then
      return r
    end
  end
end

-- s with every control character, invisible code point and byte that is not
-- UTF-8 written as an escape (\n, \t, \x1b, \u{202e}, \xff): what reaches a
-- terminal can neither forge a line nor send it a command. A backslash stays
-- as it is, so that printable(printable(s)) == printable(s): messages built
-- from values already shown are never escaped twice.
local function printable(s)
  s = tostring(s)
  if not s:find("[%c\128-\255]") then
    return s
  end
  local out = {}
  each_char(s, function(_, cp, seq)
    if cp == nil then
      out[#out + 1] = ("\\x%02x"):format(seq:byte())
    elseif ESCAPES[cp] then
      out[#out + 1] = ESCAPES[cp]
    elseif cp < 0x20 or cp == 0x7f then
      out[#out + 1] = ("\\x%02x"):format(cp)
    elseif is_invisible(cp) then
      out[#out + 1] = ("\\u{%x}"):format(cp)
    else
      out[#out + 1] = seq
    end
  end)
  return table.concat(out)
end
M.printable = printable

-- What is wrong with s as stored text, or nil: bytes that are not UTF-8, and
-- control characters (NUL included: PostgreSQL text cannot hold one, and a C
-- string ends there) except tab and newline when `multiline`.
local function text_problem(s, multiline)
  return each_char(s, function(i, cp, seq)
    if cp == nil then
      return ("is not valid UTF-8 (byte \\x%02x at byte %d)"):format(seq:byte(), i)
    end
    if (cp < 0x20 or cp == 0x7f or (cp >= 0x80 and cp <= 0x9f))
      and not (multiline and (cp == 0x09 or cp == 0x0a)) then
      return ("holds the control character %s at byte %d (%s)"):format(printable(seq), i,
        multiline and "only tab and newline are allowed" or "none is allowed")
    end
  end)
end
M.text_problem = text_problem

-- Error messages show every string argument through printable: a value can
-- carry anything, the message is read on a terminal.
local function format(fmt, ...)
  local args = table.pack(...)
  for i = 1, args.n do
    if type(args[i]) == "string" then
      args[i] = printable(args[i])
    end
  end
  return string.format(fmt, table.unpack(args, 1, args.n))
end

-- Raises "rbac: ..." as an ArgError value (rbacmig.util): the public functions
-- are util.public, so the message blames their caller however deep it is raised.
local function raise(fmt, ...)
  util.fail("rbac: " .. format(fmt, ...))
end

-- Model-file errors name the file and entry themselves; a Lua position would
-- only point into this module.
local function invalid(file, fmt, ...)
  error("rbac: " .. printable(file) .. ": " .. format(fmt, ...), 0)
end

local show = util.describe

-- ---------------------------------------------------------------------------
-- Names

-- resource.action: two or more segments of [a-z][a-z0-9_]*, joined by '.'.
local function is_permission_name(s)
  if type(s) ~= "string" or #s > MAX_PERMISSION_NAME then
    return false
  end
  local segments = 0
  for segment in (s .. "."):gmatch("(.-)%.") do
    if not segment:match("^[a-z][a-z0-9_]*$") then
      return false
    end
    segments = segments + 1
  end
  return segments >= 2
end

local function is_role_name(s)
  return type(s) == "string" and #s <= MAX_ROLE_NAME
    and s:match("^[a-z][a-z0-9_]*$") ~= nil
end

-- A tenant slug, as the tenants_slug_check constraint has it.
local function is_slug(s)
  return type(s) == "string" and #s >= 3 and #s <= 63
    and s:match("^[a-z0-9%-]+$") ~= nil
end

M.is_permission_name = is_permission_name
M.is_role_name = is_role_name
M.is_slug = is_slug

-- ---------------------------------------------------------------------------
-- Validation

-- Checks that `t` is a list with no other keys and returns n. (A hole is left to the entry
-- checks, which name the entry that is missing.)
local function check_list(t, file, what)
  if type(t) ~= "table" then
    invalid(file, "expected a list of %s, got %s", what, type(t))
  end
  local n, key = util.plain_list(t)
  if key ~= nil then
    invalid(file, "unexpected key %s in the list of %s (expected a plain list)",
      show(key), what)
  end
  return n or #t
end

-- Checks an entry's keys against `fields` ({ {key, "lua type"}, ... }, all
-- required, checked in that order) and returns a label naming the entry.
local function check_entry(e, file, index, kind, fields, is_name, name_rule)
  local label = ("entry %d"):format(index)
  if type(e) ~= "table" then
    invalid(file, "%s: expected a %s table, got %s", label, kind, type(e))
  end
  if type(e.name) == "string" then
    label = ("%s '%s' (entry %d)"):format(kind, e.name, index)
  end
  -- Stored text first: a NUL or an escape must never reach a name check's
  -- message raw, nor the database.
  for _, field in ipairs(fields) do
    local k = field[1]
    if type(e[k]) == "string" then
      local problem = text_problem(e[k], k == "description")
      if problem then
        invalid(file, "%s: %s %s", label, k, problem)
      end
    end
  end
  local allowed = {}
  for _, field in ipairs(fields) do
    allowed[field[1]] = true
  end
  for k in pairs(e) do
    if not allowed[k] then
      invalid(file, "%s: unknown key %s", label, show(k))
    end
  end
  for _, field in ipairs(fields) do
    local k, want = field[1], field[2]
    if type(e[k]) ~= want then
      invalid(file, "%s: field '%s' must be a %s, got %s", label, k, want, type(e[k]))
    end
  end
  if not is_name(e.name) then
    invalid(file, "%s: invalid %s name %s (%s)", label, kind, show(e.name), name_rule)
  end
  if e.description == "" then
    invalid(file, "%s: description is empty", label)
  end
  return label
end

local PERMISSION_RULE = "expected resource.action: lowercase letters, digits and '_',"
  .. " segments joined by '.', each starting with a letter, at most "
  .. MAX_PERMISSION_NAME .. " characters"
local ROLE_RULE = "expected lowercase letters, digits and '_', starting with a letter,"
  .. " at most " .. MAX_ROLE_NAME .. " characters"

-- Expands one entry of a role's permission list against the sorted catalogue:
-- "*" is every permission, "resource.*" every name starting with "resource.",
-- anything else one exact name. Returns the names, or nil and the problem.
local function expand(pattern, names, known)
  if pattern == "*" then
    if #names == 0 then
      return nil, "pattern '*' matches no permission"
    end
    return names
  end
  local prefix = pattern:match("^(.*)%.%*$")
  if prefix then
    if not (prefix:match("^[a-z][a-z0-9_]*$") or is_permission_name(prefix)) then
      return nil, ("invalid pattern '%s' (expected '*' or 'resource.*')"):format(pattern)
    end
    local out, head = {}, prefix .. "."
    for _, name in ipairs(names) do
      if name:sub(1, #head) == head then
        out[#out + 1] = name
      end
    end
    if #out == 0 then
      return nil, ("pattern '%s' matches no permission"):format(pattern)
    end
    return out
  end
  if not is_permission_name(pattern) then
    return nil, ("invalid permission name '%s' (%s)"):format(pattern, PERMISSION_RULE)
  end
  if not known[pattern] then
    return nil, ("unknown permission '%s'"):format(pattern)
  end
  return { pattern }
end

-- Validates the tables returned by the two model files and returns the model:
--   { permissions = { {name=, description=}, ... sorted by name },
--     roles = { {name=, description=, permissions = {sorted names}}, ... } }
-- Roles keep their order in the file. Raises "rbac: <file>: <entry>: <problem>".
function M.validate(permissions, roles, files)
  files = files or DEFAULT_FILES
  local pfile = files.permissions or DEFAULT_FILES.permissions
  local rfile = files.roles or DEFAULT_FILES.roles

  local catalogue, known = {}, {}
  for i = 1, check_list(permissions, pfile, "permissions") do
    local e = permissions[i]
    local label = check_entry(e, pfile, i, "permission",
      { { "name", "string" }, { "description", "string" } },
      is_permission_name, PERMISSION_RULE)
    if known[e.name] then
      invalid(pfile, "%s: duplicate permission (first defined in entry %d)",
        label, known[e.name])
    end
    known[e.name] = i
    catalogue[#catalogue + 1] = { name = e.name, description = e.description }
  end
  table.sort(catalogue, function(a, b) return a.name < b.name end)
  local names = {}
  for i, p in ipairs(catalogue) do
    names[i] = p.name
  end

  local templates, seen = {}, {}
  for i = 1, check_list(roles, rfile, "roles") do
    local e = roles[i]
    local label = check_entry(e, rfile, i, "role",
      { { "name", "string" }, { "description", "string" }, { "permissions", "table" } },
      is_role_name, ROLE_RULE)
    if seen[e.name] then
      invalid(rfile, "%s: duplicate role (first defined in entry %d)", label, seen[e.name])
    end
    seen[e.name] = i

    local granted, listed = {}, {}
    for j = 1, check_list(e.permissions, rfile, "permissions of " .. label) do
      local pattern = e.permissions[j]
      if type(pattern) ~= "string" then
        invalid(rfile, "%s: permission %d must be a string, got %s",
          label, j, type(pattern))
      end
      if listed[pattern] then
        invalid(rfile, "%s: permission '%s' is listed twice", label, pattern)
      end
      listed[pattern] = true
      local matched, problem = expand(pattern, names, known)
      if not matched then
        invalid(rfile, "%s: %s", label, problem)
      end
      for _, name in ipairs(matched) do
        granted[name] = true
      end
    end

    local list = {}
    for name in pairs(granted) do
      list[#list + 1] = name
    end
    table.sort(list)
    templates[#templates + 1] = {
      name = e.name,
      description = e.description,
      permissions = list,
    }
  end

  return { permissions = catalogue, roles = templates }
end

-- ---------------------------------------------------------------------------
-- SQL building: placeholders are numbered as values are added, so a statement
-- and its arguments are always built together.

local params = util.params

-- A common table expression `name(columns) AS (VALUES ...)` holding `rows` as
-- bound text values. The first row's CASTs fix the column types for
-- PostgreSQL; an empty list becomes a query with no rows, as VALUES needs one.
local function values_cte(p, name, columns, rows)
  local head = name .. "(" .. table.concat(columns, ", ") .. ") AS ("
  if #rows == 0 then
    local nulls = {}
    for j = 1, #columns do
      nulls[j] = "CAST(NULL AS text)"
    end
    return head .. "SELECT " .. table.concat(nulls, ", ") .. " WHERE 1 = 0)"
  end
  local tuples = {}
  for i, row in ipairs(rows) do
    local cells = {}
    for j = 1, #columns do
      local ph = p:add(row[j])
      cells[j] = i == 1 and ("CAST(" .. ph .. " AS text)") or ph
    end
    tuples[i] = "(" .. table.concat(cells, ", ") .. ")"
  end
  return head .. "\n  VALUES " .. table.concat(tuples, ",\n         ") .. ")"
end

-- The condition restricting tenant-scoped rows (column `col` holds the
-- tenant id) to a scope: nil for all tenants, { id = uuid } or
-- { slugs = {...} }. Returns nil when every tenant is in scope.
local function scope_condition(p, scope, col)
  if scope == nil then
    return nil
  elseif scope.id then
    return col .. " = " .. p:add(scope.id)
  end
  return col .. " IN (SELECT id FROM tenants WHERE slug IN (" .. p:list(scope.slugs) .. "))"
end

-- "WHERE a AND b ..." over the conditions given, skipping nils (a scope
-- condition is nil when every tenant is in scope).
local function where(...)
  local out = {}
  for i = 1, select("#", ...) do
    local c = select(i, ...)
    if c then
      out[#out + 1] = c
    end
  end
  if #out == 0 then
    return ""
  end
  return "\nWHERE " .. table.concat(out, "\n  AND ")
end

-- A row count from the host (an integer, or a string on some paths; nothing
-- in --sql mode) as an integer.
local function count(v)
  return math.tointeger(tonumber(v)) or 0
end

-- Runs a statement built by `build(p)` and returns the rows it changed; in
-- --sql mode the host prints it and there is no count.
local function run(db, build)
  local p = params()
  local sql = build(p)
  return count(db:exec(sql, table.unpack(p, 1, p.n)))
end

-- ---------------------------------------------------------------------------
-- Seeding tenants with their template roles and grants. Shared by sync and by
-- create_tenant on SQLite (PostgreSQL's tenants_seed_roles trigger runs the
-- same two statements for new tenants).

-- Roles from templates the tenant lacks, unless the tenant already has a role
-- from that template (perhaps renamed) or a role of its own with that name.
-- `only` (a list of template names) limits the templates used.
local function seed_roles(db, scope, only)
  return run(db, function(p)
    return "INSERT INTO roles (tenant_id, name, description, template)\n"
      .. "SELECT t.id, rt.name, rt.description, rt.name\n"
      .. "FROM tenants t CROSS JOIN role_templates rt"
      .. where(
        scope_condition(p, scope, "t.id"),
        only and ("rt.name IN (" .. (#only > 0 and p:list(only) or "NULL") .. ")"),
        "NOT EXISTS (SELECT 1 FROM roles r WHERE r.tenant_id = t.id AND r.template = rt.name)",
        "NOT EXISTS (SELECT 1 FROM roles r WHERE r.tenant_id = t.id AND r.name = rt.name)")
      .. "\nON CONFLICT DO NOTHING"
  end)
end

-- Grants that template roles lack compared with their template.
local function seed_grants(db, scope)
  return run(db, function(p)
    return "INSERT INTO role_permissions (tenant_id, role_id, permission_id)\n"
      .. "SELECT r.tenant_id, r.id, tp.permission_id\n"
      .. "FROM roles r JOIN role_template_permissions tp ON tp.template = r.template"
      .. where(
        scope_condition(p, scope, "r.tenant_id"),
        "NOT EXISTS (SELECT 1 FROM role_permissions x"
          .. " WHERE x.tenant_id = r.tenant_id AND x.role_id = r.id"
          .. " AND x.permission_id = tp.permission_id)")
      .. "\nON CONFLICT DO NOTHING"
  end)
end

-- ---------------------------------------------------------------------------
-- Sync

-- Rows of `tbl` whose name is not in `names`: what a prune had to keep.
local function count_missing(db, tbl, names)
  local p = params()
  local sql = "SELECT count(*) FROM " .. tbl
  if #names > 0 then
    sql = sql .. " WHERE name NOT IN (" .. p:list(names) .. ")"
  end
  return count(db:scalar(sql, table.unpack(p, 1, p.n)))
end

local SYNC_OPTIONS = { prune = "boolean", tenants = "table", model = "table" }

local function check_db(db)
  if type(db) ~= "table" and type(db) ~= "userdata" then
    raise("expected a db object, got %s", type(db))
  end
end

-- Checks sync's options; returns the model (loaded and validated when not
-- given), the scope (nil for every tenant, or { slugs = {...} }) and whether
-- to prune.
local function sync_options(db, opts)
  opts = opts or {}
  if type(opts) ~= "table" then
    raise("sync options must be a table, got %s", type(opts))
  end
  for k, v in pairs(opts) do
    if SYNC_OPTIONS[k] == nil then
      raise("unknown sync option %s", show(k))
    elseif type(v) ~= SYNC_OPTIONS[k] then
      raise("sync option '%s' must be a %s, got %s", k, SYNC_OPTIONS[k], type(v))
    end
  end

  local model = opts.model
  if model == nil then
    local loaded = db:load_rbac()
    model = M.validate(loaded.permissions, loaded.roles, loaded.files)
  elseif type(model.permissions) ~= "table" or type(model.roles) ~= "table" then
    raise("sync option 'model' is not a model returned by rbac.validate")
  end

  local scope
  if opts.tenants then
    local slugs = {}
    for i, slug in ipairs(opts.tenants) do
      if type(slug) ~= "string" then
        raise("tenant %d in sync option 'tenants' must be a string, got %s", i, type(slug))
      end
      slugs[i] = slug
    end
    scope = { slugs = slugs }
  end

  return model, scope, opts.prune
end

-- Unknown slugs fail before anything is written.
local function check_scope(db, scope)
  if scope and #scope.slugs > 0 and not db.offline then
    local found = {}
    local p = params()
    local rows = db:query("SELECT slug FROM tenants WHERE slug IN (" .. p:list(scope.slugs)
      .. ")", table.unpack(p, 1, p.n))
    for _, row in ipairs(rows) do
      found[row.slug] = true
    end
    for _, slug in ipairs(scope.slugs) do
      if not found[slug] then
        raise("unknown tenant '%s'", slug)
      end
    end
  end
end

-- The model as rows of VALUES lists and lists of names.
local function model_rows(model)
  local perm_rows, perm_name_rows, perm_list = {}, {}, {}
  for i, p in ipairs(model.permissions) do
    perm_rows[i] = { p.name, p.description }
    perm_name_rows[i] = { p.name }
    perm_list[i] = p.name
  end
  local tmpl_rows, tmpl_name_rows, grant_rows = {}, {}, {}
  local tmpl_list = {}
  for i, r in ipairs(model.roles) do
    tmpl_rows[i] = { r.name, r.description }
    tmpl_name_rows[i] = { r.name }
    tmpl_list[i] = r.name
    for _, name in ipairs(r.permissions) do
      grant_rows[#grant_rows + 1] = { r.name, name }
    end
  end
  return {
    perm_rows = perm_rows, perm_name_rows = perm_name_rows, perm_list = perm_list,
    tmpl_rows = tmpl_rows, tmpl_name_rows = tmpl_name_rows, tmpl_list = tmpl_list,
    grant_rows = grant_rows,
  }
end

-- The global catalogue and templates: added and updated, template grants added.
local function sync_catalogue(db, m, s)
  local function upsert(tbl, rows)
    local updated = run(db, function(p)
      return "WITH " .. values_cte(p, "v", { "name", "description" }, rows)
        .. "\nUPDATE " .. tbl .. " SET description = v.description, updated_at = CURRENT_TIMESTAMP"
        .. "\nFROM v WHERE " .. tbl .. ".name = v.name AND " .. tbl .. ".description <> v.description"
    end)
    local added = run(db, function(p)
      return "WITH " .. values_cte(p, "v", { "name", "description" }, rows)
        .. "\nINSERT INTO " .. tbl .. " (name, description)"
        .. "\nSELECT v.name, v.description FROM v"
        .. "\nWHERE NOT EXISTS (SELECT 1 FROM " .. tbl .. " x WHERE x.name = v.name)"
        .. "\nON CONFLICT DO NOTHING"
    end)
    return added, updated
  end
  s.permissions_added, s.permissions_updated = upsert("permissions", m.perm_rows)
  s.templates_added, s.templates_updated = upsert("role_templates", m.tmpl_rows)

  s.template_grants_added = run(db, function(p)
    return "WITH " .. values_cte(p, "g", { "template", "permission" }, m.grant_rows)
      .. "\nINSERT INTO role_template_permissions (template, permission_id)"
      .. "\nSELECT g.template, p.id FROM g JOIN permissions p ON p.name = g.permission"
      .. "\nWHERE NOT EXISTS (SELECT 1 FROM role_template_permissions x"
      .. " WHERE x.template = g.template AND x.permission_id = p.id)"
      .. "\nON CONFLICT DO NOTHING"
  end)
end

-- What the files no longer name, removed top down: template grants, then the
-- copies of them in the tenants in scope, then template roles, templates and
-- permissions nothing refers to any more.
local function prune(db, m, scope, s)
  s.template_grants_removed = run(db, function(p)
    return "WITH " .. values_cte(p, "g", { "template", "permission" }, m.grant_rows)
      .. "\nDELETE FROM role_template_permissions"
      .. "\nWHERE NOT EXISTS (SELECT 1 FROM g JOIN permissions p ON p.name = g.permission"
      .. " WHERE g.template = role_template_permissions.template"
      .. " AND p.id = role_template_permissions.permission_id)"
  end)
  s.grants_removed = run(db, function(p)
    return "DELETE FROM role_permissions" .. where(
      scope_condition(p, scope, "role_permissions.tenant_id"),
      "EXISTS (SELECT 1 FROM roles r"
        .. " WHERE r.tenant_id = role_permissions.tenant_id AND r.id = role_permissions.role_id"
        .. " AND r.template IS NOT NULL"
        .. " AND NOT EXISTS (SELECT 1 FROM role_template_permissions tp"
        .. " WHERE tp.template = r.template AND tp.permission_id = role_permissions.permission_id))")
  end)
  s.memberships_removed = run(db, function(p)
    return "WITH " .. values_cte(p, "t", { "name" }, m.tmpl_name_rows)
      .. "\nDELETE FROM memberships" .. where(
        scope_condition(p, scope, "memberships.tenant_id"),
        "EXISTS (SELECT 1 FROM roles r"
          .. " WHERE r.tenant_id = memberships.tenant_id AND r.id = memberships.role_id"
          .. " AND r.template IS NOT NULL AND r.template NOT IN (SELECT name FROM t))")
  end)
  s.roles_removed = run(db, function(p)
    return "WITH " .. values_cte(p, "t", { "name" }, m.tmpl_name_rows)
      .. "\nDELETE FROM roles" .. where(
        scope_condition(p, scope, "roles.tenant_id"),
        "roles.template IS NOT NULL",
        "roles.template NOT IN (SELECT name FROM t)")
  end)
  s.templates_removed = run(db, function(p)
    return "WITH " .. values_cte(p, "t", { "name" }, m.tmpl_name_rows)
      .. "\nDELETE FROM role_templates"
      .. "\nWHERE name NOT IN (SELECT name FROM t)"
      .. "\n  AND NOT EXISTS (SELECT 1 FROM roles r WHERE r.template = role_templates.name)"
  end)
  s.permissions_removed = run(db, function(p)
    return "WITH " .. values_cte(p, "v", { "name" }, m.perm_name_rows)
      .. "\nDELETE FROM permissions"
      .. "\nWHERE name NOT IN (SELECT name FROM v)"
      .. "\n  AND NOT EXISTS (SELECT 1 FROM role_permissions rp"
      .. " WHERE rp.permission_id = permissions.id)"
  end)
end

-- The tenants in scope: template roles updated, missing roles and grants
-- added. After a prune, templates still kept for tenants out of scope must not
-- come back to the tenants in scope.
local function seed_scope(db, m, scope, pruning, s)
  if not (scope and #scope.slugs == 0) then
    s.roles_updated = run(db, function(p)
      return "UPDATE roles SET description = rt.description, updated_at = CURRENT_TIMESTAMP"
        .. "\nFROM role_templates rt" .. where(
          "rt.name = roles.template",
          "roles.description <> rt.description",
          scope_condition(p, scope, "roles.tenant_id"))
    end)
    s.roles_added = seed_roles(db, scope, pruning and m.tmpl_list or nil)
    s.grants_added = seed_grants(db, scope)
  end
end

-- How many tenants were in scope and, after a prune, what had to be kept.
local function count_scope(db, m, scope, pruning, s)
  if not db.offline then
    if not (scope and #scope.slugs == 0) then
      local p = params()
      local sql = "SELECT count(*) FROM tenants"
      if scope then
        sql = sql .. " WHERE slug IN (" .. p:list(scope.slugs) .. ")"
      end
      s.tenants = count(db:scalar(sql, table.unpack(p, 1, p.n)))
    end
    if pruning then
      s.permissions_kept = count_missing(db, "permissions", m.perm_list)
      s.templates_kept = count_missing(db, "role_templates", m.tmpl_list)
    end
  end
end

-- Syncs the catalogue and templates of the model into the database, then
-- gives every tenant in scope its missing template roles and grants.
--   opts.model    an already validated model (default: db:load_rbac(), validated)
--   opts.tenants  list of tenant slugs to seed/prune (default: every tenant)
--   opts.prune    also remove what the files no longer name: template grants,
--                 template roles (with their memberships), templates and
--                 permissions. Roles a tenant made itself are never touched; a
--                 permission one of them still grants is kept (permissions_kept).
-- Returns a table of counts; a second run returns all zeros.
function M.sync(db, opts)
  check_db(db)
  local model, scope, pruning = sync_options(db, opts)
  local s = {
    permissions_added = 0, permissions_updated = 0, permissions_removed = 0,
    permissions_kept = 0,
    templates_added = 0, templates_updated = 0, templates_removed = 0,
    templates_kept = 0,
    template_grants_added = 0, template_grants_removed = 0,
    roles_added = 0, roles_updated = 0, roles_removed = 0,
    grants_added = 0, grants_removed = 0,
    memberships_removed = 0,
    tenants = 0,
  }

  check_scope(db, scope)
  local m = model_rows(model)
  sync_catalogue(db, m, s)
  if pruning then
    prune(db, m, scope, s)
  end
  seed_scope(db, m, scope, pruning, s)
  count_scope(db, m, scope, pruning, s)
  return s
end

-- ---------------------------------------------------------------------------
-- Tenants and members. Tenants are named by slug, roles by name, users by
-- UUID (compared in lowercase, as PostgreSQL prints them).

local function check_string(what, v)
  if type(v) ~= "string" then
    raise("%s must be a string, got %s", what, type(v))
  end
end

local function user_uuid(user_id)
  check_string("user id", user_id)
  local id = user_id:lower()
  if not id:match(UUID_PATTERN) then
    raise("invalid user id '%s' (expected a UUID like"
      .. " '123e4567-e89b-42d3-a456-426614174000')", user_id)
  end
  return id
end

local function tenant_id(db, slug)
  check_string("tenant slug", slug)
  local id = db:scalar("SELECT id FROM tenants WHERE slug = $1", slug)
  if id == nil then
    raise("unknown tenant '%s'", slug)
  end
  return id
end

-- When `name` is unknown to the database but listed in the model files: the
-- hint that a seed is due, else "". Only on the error path, and never an error
-- itself (a db object without load_rbac, model files that fail to load).
local function seed_hint(db, kind, name)
  local ok, loaded = pcall(function()
    return db:load_rbac()
  end)
  if not ok or type(loaded) ~= "table" or type(loaded[kind]) ~= "table" then
    return ""
  end
  for _, e in ipairs(loaded[kind]) do
    if type(e) == "table" and e.name == name then
      local file = type(loaded.files) == "table" and loaded.files[kind] or DEFAULT_FILES[kind]
      return (" (it is in %s but not in the database yet: run 'rbacmig seed')"):format(file)
    end
  end
  return ""
end

local function role_id(db, tid, slug, role)
  check_string("role name", role)
  local id = db:scalar("SELECT id FROM roles WHERE tenant_id = $1 AND name = $2", tid, role)
  if id == nil then
    raise("unknown role '%s' in tenant '%s'%s", role, slug, seed_hint(db, "roles", role))
  end
  return id
end

-- Creates a tenant with every template role and, when owner_user_id is given,
-- makes that user its owner. Returns the tenant's id. On PostgreSQL the
-- tenants_seed_roles trigger creates the roles (whoever inserts the row); on
-- SQLite, which has no such trigger, this function does.
function M.create_tenant(db, slug, name, owner_user_id)
  check_db(db)
  check_string("tenant slug", slug)
  check_string("tenant name", name)
  if not is_slug(slug) then
    raise("invalid tenant slug '%s' (expected 3 to 63 characters from a-z, 0-9 and '-')", slug)
  end
  if name == "" then
    raise("tenant name is empty")
  end
  local problem = text_problem(name, false)
  if problem then
    raise("tenant name '%s' %s", name, problem)
  end
  local owner
  if owner_user_id ~= nil then
    owner = user_uuid(owner_user_id)
    if db:scalar("SELECT name FROM role_templates WHERE name = 'owner'") == nil then
      raise("cannot make '%s' the owner of tenant '%s': there is no 'owner' role template"
        .. " (run 'rbacmig seed' first)", owner_user_id, slug)
    end
  end
  if db:scalar("SELECT id FROM tenants WHERE slug = $1", slug) ~= nil then
    raise("tenant '%s' already exists", slug)
  end

  db:exec("INSERT INTO tenants (slug, name) VALUES ($1, $2)", slug, name)
  local id = tenant_id(db, slug)
  if db.dialect ~= "postgresql" then
    seed_roles(db, { id = id })
    seed_grants(db, { id = id })
  end
  if owner then
    local rid = role_id(db, id, slug, "owner")
    db:exec("INSERT INTO memberships (tenant_id, user_id, role_id) VALUES ($1, $2, $3)"
      .. " ON CONFLICT DO NOTHING", id, owner, rid)
  end
  return id
end

-- Deletes a tenant; its roles, grants and memberships go with it (cascade).
function M.delete_tenant(db, slug)
  check_db(db)
  check_string("tenant slug", slug)
  if count(db:exec("DELETE FROM tenants WHERE slug = $1", slug)) == 0 then
    raise("unknown tenant '%s'", slug)
  end
  return true
end

-- Gives a user a role in a tenant. Returns true if added, false if the user
-- already had it.
function M.add_member(db, slug, user_id, role)
  check_db(db)
  local uid = user_uuid(user_id)
  local tid = tenant_id(db, slug)
  local rid = role_id(db, tid, slug, role)
  return count(db:exec("INSERT INTO memberships (tenant_id, user_id, role_id)"
    .. " VALUES ($1, $2, $3) ON CONFLICT DO NOTHING", tid, uid, rid)) > 0
end

-- Takes a role from a user in a tenant, or every role when `role` is nil.
-- Returns the number of memberships removed (0 if the user had none).
function M.remove_member(db, slug, user_id, role)
  check_db(db)
  local uid = user_uuid(user_id)
  local tid = tenant_id(db, slug)
  if role == nil then
    return count(db:exec("DELETE FROM memberships WHERE tenant_id = $1 AND user_id = $2",
      tid, uid))
  end
  local rid = role_id(db, tid, slug, role)
  return count(db:exec("DELETE FROM memberships"
    .. " WHERE tenant_id = $1 AND user_id = $2 AND role_id = $3", tid, uid, rid))
end

-- Returns the tenant's members: { {user_id=, roles={names, sorted}}, ... }
-- sorted by user id.
function M.list_members(db, slug)
  check_db(db)
  local tid = tenant_id(db, slug)
  local rows = db:query("SELECT m.user_id, r.name AS role"
    .. " FROM memberships m JOIN roles r ON r.tenant_id = m.tenant_id AND r.id = m.role_id"
    .. " WHERE m.tenant_id = $1", tid)
  local by_user, members = {}, {}
  for _, row in ipairs(rows) do
    local m = by_user[row.user_id]
    if not m then
      m = { user_id = row.user_id, roles = {} }
      by_user[row.user_id] = m
      members[#members + 1] = m
    end
    m.roles[#m.roles + 1] = row.role
  end
  table.sort(members, function(a, b) return a.user_id < b.user_id end)
  for _, m in ipairs(members) do
    table.sort(m.roles)
  end
  return members
end

-- The tables of migration 91759229c32b, in the order it makes them.
local TABLES = {
  "tenants", "permissions", "role_templates", "role_template_permissions", "roles",
  "role_permissions", "memberships",
}

-- Raises one line naming the migration to run when any RBAC table is missing:
-- otherwise the first statement to touch one fails with the whole statement.
function M.check_tables(db)
  check_db(db)
  local rows = {}
  for i, name in ipairs(TABLES) do
    rows[i] = "('" .. name .. "')"
  end
  local missing = db.dialect == "postgresql"
    and "SELECT n FROM t WHERE to_regclass(n) IS NULL"
    or "SELECT n FROM t WHERE n NOT IN (SELECT name FROM sqlite_master WHERE type = 'table')"
  local found = db:query("WITH t(n) AS (VALUES " .. table.concat(rows, ", ") .. ") " .. missing)
  if #found > 0 then
    local names = {}
    for i, row in ipairs(found) do
      names[i] = row.n
    end
    raise("the database has no RBAC tables (missing: %s): run 'rbacmig upgrade 91759229c32b'",
      table.concat(names, ", "))
  end
  return true
end

-- Returns every tenant: { {id=, slug=, name=, created_at=, members=n}, ... }
-- sorted by slug.
function M.list_tenants(db)
  check_db(db)
  local rows = db:query("SELECT t.id, t.slug, t.name, t.created_at,"
    .. " (SELECT count(DISTINCT m.user_id) FROM memberships m WHERE m.tenant_id = t.id) AS members"
    .. " FROM tenants t")
  local tenants = {}
  for i, row in ipairs(rows) do
    tenants[i] = {
      id = row.id, slug = row.slug, name = row.name,
      created_at = row.created_at, members = count(row.members),
    }
  end
  table.sort(tenants, function(a, b) return a.slug < b.slug end)
  return tenants
end

-- Whether a user holds a permission in a tenant, and through which roles:
-- returns allowed (boolean), roles (sorted list of role names).
function M.can(db, slug, user_id, permission)
  check_db(db)
  local uid = user_uuid(user_id)
  check_string("permission", permission)
  if not is_permission_name(permission) then
    raise("invalid permission name '%s' (%s)", permission, PERMISSION_RULE)
  end
  local tid = tenant_id(db, slug)
  local pid = db:scalar("SELECT id FROM permissions WHERE name = $1", permission)
  if pid == nil then
    raise("unknown permission '%s'%s", permission, seed_hint(db, "permissions", permission))
  end
  local rows = db:query("SELECT r.name"
    .. " FROM memberships m"
    .. " JOIN role_permissions rp ON rp.tenant_id = m.tenant_id AND rp.role_id = m.role_id"
    .. " JOIN roles r ON r.tenant_id = m.tenant_id AND r.id = m.role_id"
    .. " WHERE m.tenant_id = $1 AND m.user_id = $2 AND rp.permission_id = $3",
    tid, uid, pid)
  local roles = {}
  for i, row in ipairs(rows) do
    roles[i] = row.name
  end
  table.sort(roles)
  return #roles > 0, roles
end

-- Mistakes in the arguments (raise) name the caller's line, wherever they are found.
for _, name in ipairs({ "validate", "sync", "create_tenant", "delete_tenant", "add_member",
    "remove_member", "list_members", "check_tables", "list_tenants", "can" }) do
  M[name] = util.public(M[name])
end

-- The explicit catalogue changes a migration makes (rbac.add_permissions, grant_template, ...;
-- autogenerate writes them) live in rbacmig.rbac.catalog and are called through here.
local catalog = require("rbacmig.rbac.catalog")
for _, name in ipairs(catalog.API) do
  M[name] = catalog[name]
end

return M
