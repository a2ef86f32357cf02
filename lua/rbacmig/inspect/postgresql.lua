-- rbacmig.inspect.postgresql: reads a PostgreSQL database's catalog into the model
-- (rbacmig.inspect.model). The server prints every expression and body (pg_get_expr,
-- pg_get_viewdef, pg_get_constraintdef, pg_get_indexdef, pg_get_triggerdef,
-- pg_get_function_*), so two schemas built from different text read the same. ACLs are read
-- through aclexplode, a missing ACL as the default it stands for (acldefault), and keyed by
-- object + grantee: the grantor and the owner's own privileges are left out, so the same
-- grants under different owners read the same. Objects that belong to an extension are the
-- extension's, not compared one by one.
--
-- Only queries (through db:query); the caller holds the READ ONLY transaction.

local model = require("rbacmig.inspect.model")
local scope_mod = require("rbacmig.inspect.scope")

local M = {}

-- An enum without labels is still a list in the JSON output (src/json_out.h).
local ARRAY = { __json = "array" }

-- Not an extension's member: objid of class cls.
local function not_ext(cls, objid)
  return string.format("NOT EXISTS (SELECT 1 FROM pg_catalog.pg_depend dx WHERE dx.classid = "
    .. "'pg_catalog.%s'::regclass AND dx.objid = %s AND dx.deptype = 'e')", cls, objid)
end

local NOT_SYSTEM = "n.nspname NOT IN ('pg_catalog', 'information_schema', 'pg_toast') "
  .. "AND n.nspname NOT LIKE 'pg\\_temp\\_%' AND n.nspname NOT LIKE 'pg\\_toast\\_temp\\_%'"

-- The comment of an object, joined (obj_description would look each one up apart: at 5,000
-- columns a third of the read).
local function comment_join(alias, objoid, catalog, subid)
  -- Ends with a newline: the long string that follows drops the one after its [[.
  return string.format(" LEFT JOIN pg_catalog.pg_description %s ON %s.objoid = %s AND "
    .. "%s.classoid = 'pg_catalog.%s'::regclass AND %s.objsubid = %s\n", alias, alias, objoid,
    alias, catalog, alias, subid or "0")
end

local function grantee_sql(col)
  return string.format("CASE WHEN %s = 0 THEN 'PUBLIC' ELSE pg_catalog.pg_get_userbyid(%s) END",
    col, col)
end

local Q = {}

Q.schemas = [[
SELECT n.nspname AS name, pg_catalog.pg_get_userbyid(n.nspowner) AS owner,
       ds.description AS comment
FROM pg_catalog.pg_namespace n ]] .. comment_join("ds", "n.oid", "pg_namespace") .. [[ ORDER BY 1]]

Q.extensions = [[
SELECT x.extname AS name, x.extversion AS version, n.nspname AS schema
FROM pg_catalog.pg_extension x JOIN pg_catalog.pg_namespace n ON n.oid = x.extnamespace
ORDER BY 1]]

Q.enums = [[
SELECT n.nspname AS schema, t.typname AS name, pg_catalog.pg_get_userbyid(t.typowner) AS owner,
       ds.description AS comment, e.enumlabel AS label
FROM pg_catalog.pg_type t JOIN pg_catalog.pg_namespace n ON n.oid = t.typnamespace
]] .. comment_join("ds", "t.oid", "pg_type") .. [[
LEFT JOIN pg_catalog.pg_enum e ON e.enumtypid = t.oid
WHERE t.typtype = 'e' AND ]] .. NOT_SYSTEM .. " AND " .. not_ext("pg_type", "t.oid") .. [[

ORDER BY 1, 2, e.enumsortorder]]

Q.sequences = [[
SELECT n.nspname AS schema, c.relname AS name, pg_catalog.pg_get_userbyid(c.relowner) AS owner,
       pg_catalog.format_type(s.seqtypid, NULL) AS type, s.seqstart::text AS start,
       s.seqmin::text AS min, s.seqmax::text AS max, s.seqincrement::text AS increment,
       s.seqcache::text AS cache, s.seqcycle AS cycle,
       (SELECT tn.nspname || '.' || t.relname || '.' || a.attname
        FROM pg_catalog.pg_depend d JOIN pg_catalog.pg_class t ON t.oid = d.refobjid
        JOIN pg_catalog.pg_namespace tn ON tn.oid = t.relnamespace
        JOIN pg_catalog.pg_attribute a ON a.attrelid = t.oid AND a.attnum = d.refobjsubid
        WHERE d.classid = 'pg_catalog.pg_class'::regclass AND d.objid = c.oid
          AND d.refclassid = 'pg_catalog.pg_class'::regclass AND d.deptype IN ('a', 'i')) AS owned_by,
       ds.description AS comment
FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
JOIN pg_catalog.pg_sequence s ON s.seqrelid = c.oid
]] .. comment_join("ds", "c.oid", "pg_class") .. [[
WHERE c.relkind = 'S' AND ]] .. NOT_SYSTEM .. " AND " .. not_ext("pg_class", "c.oid")

-- Tables, views and materialized views (relkind r, p, v, m).
Q.relations = [[
SELECT n.nspname AS schema, c.relname AS name, c.relkind AS relkind,
       pg_catalog.pg_get_userbyid(c.relowner) AS owner, c.relrowsecurity AS rls,
       c.relforcerowsecurity AS rls_forced, c.relpersistence AS persistence,
       pg_catalog.array_to_string(c.reloptions, ', ') AS options,
       CASE WHEN c.relkind IN ('v', 'm') THEN pg_catalog.pg_get_viewdef(c.oid) END AS definition,
       CASE WHEN c.relkind = 'p' THEN pg_catalog.pg_get_partkeydef(c.oid) END AS partition_key,
       CASE WHEN c.relispartition THEN
         (SELECT pn.nspname || '.' || p.relname FROM pg_catalog.pg_inherits i
          JOIN pg_catalog.pg_class p ON p.oid = i.inhparent
          JOIN pg_catalog.pg_namespace pn ON pn.oid = p.relnamespace WHERE i.inhrelid = c.oid)
         || ' ' || pg_catalog.pg_get_expr(c.relpartbound, c.oid) END AS partition_of,
       ds.description AS comment
FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
]] .. comment_join("ds", "c.oid", "pg_class") .. [[
WHERE c.relkind IN ('r', 'p', 'v', 'm') AND ]] .. NOT_SYSTEM .. " AND "
  .. not_ext("pg_class", "c.oid")

Q.columns = [[
SELECT n.nspname AS schema, c.relname AS tbl, a.attname AS name,
       pg_catalog.format_type(a.atttypid, a.atttypmod) AS type, a.attnotnull AS not_null,
       CASE WHEN a.attgenerated = '' THEN pg_catalog.pg_get_expr(d.adbin, d.adrelid) END AS "default",
       CASE WHEN a.attgenerated = 's' THEN pg_catalog.pg_get_expr(d.adbin, d.adrelid) END AS generated,
       CASE a.attidentity WHEN 'a' THEN 'always' WHEN 'd' THEN 'by default' END AS identity,
       CASE WHEN a.attcollation <> 0 AND a.attcollation <> t.typcollation THEN
         (SELECT cn.nspname || '.' || co.collname FROM pg_catalog.pg_collation co
          JOIN pg_catalog.pg_namespace cn ON cn.oid = co.collnamespace
          WHERE co.oid = a.attcollation) END AS "collation",
       ds.description AS comment
FROM pg_catalog.pg_attribute a JOIN pg_catalog.pg_class c ON c.oid = a.attrelid
JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
JOIN pg_catalog.pg_type t ON t.oid = a.atttypid
LEFT JOIN pg_catalog.pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum
]] .. comment_join("ds", "c.oid", "pg_class", "a.attnum") .. [[
WHERE c.relkind IN ('r', 'p') AND a.attnum > 0 AND NOT a.attisdropped AND ]] .. NOT_SYSTEM
  .. " AND " .. not_ext("pg_class", "c.oid")

Q.constraints = [[
SELECT n.nspname AS schema, c.relname AS tbl, k.conname AS name,
       CASE k.contype WHEN 'p' THEN 'primary key' WHEN 'u' THEN 'unique' WHEN 'c' THEN 'check'
         WHEN 'f' THEN 'foreign key' WHEN 'x' THEN 'exclusion' ELSE k.contype::text END AS type,
       pg_catalog.pg_get_constraintdef(k.oid) AS definition,
       ds.description AS comment
FROM pg_catalog.pg_constraint k JOIN pg_catalog.pg_class c ON c.oid = k.conrelid
JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
]] .. comment_join("ds", "k.oid", "pg_constraint") .. [[
WHERE k.contype IN ('p', 'u', 'c', 'f', 'x') AND ]] .. NOT_SYSTEM .. " AND "
  .. not_ext("pg_class", "c.oid")

-- Indexes that are not a constraint's (those are the constraint's definition).
Q.indexes = [[
SELECT n.nspname AS schema, c.relname AS tbl, i.relname AS name,
       pg_catalog.pg_get_indexdef(x.indexrelid) AS definition,
       ds.description AS comment
FROM pg_catalog.pg_index x JOIN pg_catalog.pg_class i ON i.oid = x.indexrelid
JOIN pg_catalog.pg_class c ON c.oid = x.indrelid
JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
]] .. comment_join("ds", "i.oid", "pg_class") .. [[
WHERE c.relkind IN ('r', 'p', 'm') AND ]] .. NOT_SYSTEM .. " AND " .. not_ext("pg_class", "c.oid") .. [[

  AND x.indexrelid NOT IN (SELECT k.conindid FROM pg_catalog.pg_constraint k
                           WHERE k.contype IN ('p', 'u', 'x'))]]

Q.functions = [[
SELECT n.nspname AS schema, p.proname AS name,
       pg_catalog.oidvectortypes(p.proargtypes) AS identity_args,
       CASE p.prokind WHEN 'p' THEN 'procedure' ELSE 'function' END AS kind,
       pg_catalog.pg_get_function_arguments(p.oid) AS arguments,
       pg_catalog.pg_get_function_result(p.oid) AS result, l.lanname AS language,
       CASE p.provolatile WHEN 'i' THEN 'immutable' WHEN 's' THEN 'stable' ELSE 'volatile' END AS volatility,
       p.proisstrict AS strict, p.prosecdef AS security_definer, p.proleakproof AS leakproof,
       CASE p.proparallel WHEN 's' THEN 'safe' WHEN 'r' THEN 'restricted' ELSE 'unsafe' END AS parallel,
       (SELECT pg_catalog.string_agg(u.c, E'\n' ORDER BY u.ord)
        FROM pg_catalog.unnest(p.proconfig) WITH ORDINALITY AS u(c, ord)) AS config,
       CASE WHEN p.prosqlbody IS NOT NULL THEN pg_catalog.pg_get_function_sqlbody(p.oid)
            ELSE p.prosrc END AS body,
       pg_catalog.pg_get_userbyid(p.proowner) AS owner,
       ds.description AS comment
FROM pg_catalog.pg_proc p JOIN pg_catalog.pg_namespace n ON n.oid = p.pronamespace
JOIN pg_catalog.pg_language l ON l.oid = p.prolang
]] .. comment_join("ds", "p.oid", "pg_proc") .. [[
WHERE p.prokind IN ('f', 'p') AND ]] .. NOT_SYSTEM .. " AND " .. not_ext("pg_proc", "p.oid")

Q.triggers = [[
SELECT n.nspname AS schema, c.relname AS tbl, g.tgname AS name,
       pg_catalog.pg_get_triggerdef(g.oid) AS definition,
       CASE g.tgenabled WHEN 'O' THEN NULL WHEN 'D' THEN 'disabled' WHEN 'R' THEN 'replica'
         WHEN 'A' THEN 'always' END AS enabled,
       ds.description AS comment
FROM pg_catalog.pg_trigger g JOIN pg_catalog.pg_class c ON c.oid = g.tgrelid
JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
]] .. comment_join("ds", "g.oid", "pg_trigger") .. [[
WHERE NOT g.tgisinternal AND ]] .. NOT_SYSTEM .. " AND " .. not_ext("pg_class", "c.oid")

Q.policies = [[
SELECT n.nspname AS schema, c.relname AS tbl, p.polname AS name,
       CASE p.polcmd WHEN 'r' THEN 'select' WHEN 'a' THEN 'insert' WHEN 'w' THEN 'update'
         WHEN 'd' THEN 'delete' ELSE 'all' END AS command,
       p.polpermissive AS permissive,
       pg_catalog.pg_get_expr(p.polqual, p.polrelid) AS "using",
       pg_catalog.pg_get_expr(p.polwithcheck, p.polrelid) AS with_check,
       ds.description AS comment, r.role
FROM pg_catalog.pg_policy p JOIN pg_catalog.pg_class c ON c.oid = p.polrelid
JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
LEFT JOIN LATERAL (SELECT CASE WHEN o = 0 THEN 'public' ELSE pg_catalog.pg_get_userbyid(o) END
                   AS role FROM pg_catalog.unnest(p.polroles) AS o) r ON true
]] .. comment_join("ds", "p.oid", "pg_policy") .. [[
WHERE ]] .. NOT_SYSTEM .. [[

ORDER BY 1, 2, 3, r.role]]

-- Grants on relations (tables, views, sequences) and their columns, functions and schemas.
-- The owner's own privileges are the owner's, compared as `owner`.
Q.relation_grants = [[
SELECT n.nspname AS schema, c.relname AS name,
       CASE WHEN c.relkind = 'S' THEN 'sequence' WHEN c.relkind IN ('v', 'm') THEN 'view'
            ELSE 'table' END AS kind, NULL AS colname,
       ]] .. grantee_sql("a.grantee") .. [[ AS grantee, a.privilege_type AS privilege,
       a.is_grantable AS grantable
FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
CROSS JOIN LATERAL pg_catalog.aclexplode(coalesce(c.relacl,
  pg_catalog.acldefault((CASE WHEN c.relkind = 'S' THEN 's' ELSE 'r' END)::"char", c.relowner))) a
WHERE c.relkind IN ('r', 'p', 'v', 'm', 'S') AND a.grantee <> c.relowner AND ]] .. NOT_SYSTEM
  .. " AND " .. not_ext("pg_class", "c.oid") .. [[

UNION ALL
SELECT n.nspname, c.relname, 'column', t.attname, ]] .. grantee_sql("a.grantee") .. [[,
       a.privilege_type, a.is_grantable
FROM pg_catalog.pg_attribute t JOIN pg_catalog.pg_class c ON c.oid = t.attrelid
JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
CROSS JOIN LATERAL pg_catalog.aclexplode(t.attacl) a
WHERE t.attacl IS NOT NULL AND t.attnum > 0 AND NOT t.attisdropped AND a.grantee <> c.relowner
  AND ]] .. NOT_SYSTEM

Q.function_grants = [[
SELECT n.nspname AS schema, p.proname AS name,
       pg_catalog.oidvectortypes(p.proargtypes) AS identity_args,
       ]] .. grantee_sql("a.grantee") .. [[ AS grantee, a.privilege_type AS privilege,
       a.is_grantable AS grantable
FROM pg_catalog.pg_proc p JOIN pg_catalog.pg_namespace n ON n.oid = p.pronamespace
CROSS JOIN LATERAL pg_catalog.aclexplode(coalesce(p.proacl, pg_catalog.acldefault('f', p.proowner))) a
WHERE p.prokind IN ('f', 'p') AND a.grantee <> p.proowner AND ]] .. NOT_SYSTEM .. " AND "
  .. not_ext("pg_proc", "p.oid")

Q.schema_grants = [[
SELECT n.nspname AS name, ]] .. grantee_sql("a.grantee") .. [[ AS grantee,
       a.privilege_type AS privilege, a.is_grantable AS grantable
FROM pg_catalog.pg_namespace n
CROSS JOIN LATERAL pg_catalog.aclexplode(coalesce(n.nspacl, pg_catalog.acldefault('n', n.nspowner))) a
WHERE a.grantee <> n.nspowner AND ]] .. NOT_SYSTEM

Q.default_privileges = [[
SELECT pg_catalog.pg_get_userbyid(d.defaclrole) AS role, n.nspname AS schema,
       CASE d.defaclobjtype WHEN 'r' THEN 'tables' WHEN 'S' THEN 'sequences'
         WHEN 'f' THEN 'functions' WHEN 'T' THEN 'types' WHEN 'n' THEN 'schemas' END AS objects,
       ]] .. grantee_sql("a.grantee") .. [[ AS grantee, a.privilege_type AS privilege,
       a.is_grantable AS grantable
FROM pg_catalog.pg_default_acl d LEFT JOIN pg_catalog.pg_namespace n ON n.oid = d.defaclnamespace
CROSS JOIN LATERAL pg_catalog.aclexplode(d.defaclacl) a]]

-- What the reader does not model, counted per kind within the managed schemas (or, for
-- database-wide objects, in the database) so that a dump says what it left out.
-- The objects in a schema are found through their dependency on it (every object created in
-- a schema other than pg_catalog records one in pg_depend; a composite type's is its
-- pg_type row's, a table's row type has none): one scan of pg_depend instead of one query
-- per catalog. A fresh connection plans each catalog it touches from cold caches, and this
-- query, a UNION of thirteen catalogs, was a quarter of a small schema's whole read
-- (bench/schema.sh, bench/RESULTS.md "Reading schemas back"). Objects an extension made are
-- the extension's (deptype 'e'). Rules hang on their table and casts, publications, event
-- triggers and foreign servers on no schema: those are read from their own catalogs.
Q.not_compared = [[
SELECT w.what, w.schema, count(*) AS n FROM (
  SELECT CASE d.classid
      WHEN 'pg_catalog.pg_type'::regclass THEN
        (SELECT CASE t.typtype WHEN 'd' THEN 'domain' WHEN 'r' THEN 'range type'
                  WHEN 'c' THEN 'composite type' END
         FROM pg_catalog.pg_type t WHERE t.oid = d.objid)
      WHEN 'pg_catalog.pg_proc'::regclass THEN
        (SELECT CASE p.prokind WHEN 'a' THEN 'aggregate' WHEN 'w' THEN 'window function' END
         FROM pg_catalog.pg_proc p WHERE p.oid = d.objid)
      WHEN 'pg_catalog.pg_class'::regclass THEN
        (SELECT CASE c.relkind WHEN 'f' THEN 'foreign table' END
         FROM pg_catalog.pg_class c WHERE c.oid = d.objid)
      WHEN 'pg_catalog.pg_operator'::regclass THEN 'operator'
      WHEN 'pg_catalog.pg_statistic_ext'::regclass THEN 'statistics object'
      WHEN 'pg_catalog.pg_collation'::regclass THEN 'collation'
      WHEN 'pg_catalog.pg_ts_config'::regclass THEN 'text search configuration'
    END AS what, n.nspname AS schema
  FROM pg_catalog.pg_depend d JOIN pg_catalog.pg_namespace n ON n.oid = d.refobjid
  WHERE d.refclassid = 'pg_catalog.pg_namespace'::regclass AND d.deptype = 'n'
    AND NOT EXISTS (SELECT 1 FROM pg_catalog.pg_depend dx WHERE dx.classid = d.classid
                    AND dx.objid = d.objid AND dx.deptype = 'e')) w
WHERE w.what IS NOT NULL GROUP BY 1, 2
UNION ALL
SELECT 'rule', n.nspname, count(*)
FROM pg_catalog.pg_rewrite r JOIN pg_catalog.pg_class c ON c.oid = r.ev_class
JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
WHERE r.rulename <> '_RETURN' GROUP BY 2
UNION ALL
SELECT 'cast', NULL, count(*) FROM pg_catalog.pg_cast c
WHERE c.oid >= 16384 AND ]] .. not_ext("pg_cast", "c.oid") .. [[

UNION ALL
SELECT 'publication', NULL, count(*) FROM pg_catalog.pg_publication
UNION ALL
SELECT 'event trigger', NULL, count(*) FROM pg_catalog.pg_event_trigger e
WHERE ]] .. not_ext("pg_event_trigger", "e.oid") .. [[

UNION ALL
SELECT 'foreign server', NULL, count(*) FROM pg_catalog.pg_foreign_server s
WHERE ]] .. not_ext("pg_foreign_server", "s.oid")

local function qualify(schema, name)
  return schema .. "." .. name
end

-- Sets attrs[key] = value unless value is nil or, for strings, empty.
local function put(attrs, key, value)
  if value ~= nil and value ~= "" then attrs[key] = value end
end

local function lines(text)
  local list = {}
  if text then
    for line in (text .. "\n"):gmatch("(.-)\n") do list[#list + 1] = line end
  end
  return list
end

-- The search_path a function sets, or nil.
function M.search_path(config)
  for _, setting in ipairs(config or {}) do
    local value = setting:match("^search_path=(.*)$")
    if value then return value end
  end
  return nil
end

-- "SELECT, UPDATE" style lists: privileges sorted, those with the grant option apart.
local function add_privilege(grants, id, base, privilege, grantable)
  local g = grants[id]
  if not g then
    g = base
    g.privileges, g.grant_option = {}, {}
    grants[id] = g
  end
  g.privileges[#g.privileges + 1] = privilege
  if grantable then g.grant_option[#g.grant_option + 1] = privilege end
end

local function finish_grants(m, kind, grants)
  for id, g in pairs(grants) do
    table.sort(g.privileges)
    table.sort(g.grant_option)
    if #g.grant_option == 0 then g.grant_option = nil end
    model.add(m, kind, id, g)
  end
end

-- Objects on a table (columns, constraints, indexes, triggers), identified as
-- schema.table.name, with the attributes named in `fields` that the row has.
local function add_on_table(m, in_table, rows, kind, fields)
  for _, r in ipairs(rows) do
    if in_table(r) then
      local a = {}
      for _, f in ipairs(fields) do put(a, f, r[f]) end
      model.add(m, kind, qualify(r.schema, r.tbl) .. "." .. r.name, a)
    end
  end
end

-- Schemas, extensions, enums and sequences.
local function read_namespaces(db, m, scope, schema_rows)
  for _, r in ipairs(schema_rows) do
    if scope:schema(r.name) then
      local a = { owner = r.owner }
      put(a, "comment", r.comment)
      model.add(m, "schema", r.name, a)
    end
  end

  for _, r in ipairs(db:query(Q.extensions)) do
    -- Extensions Supabase's users add land in `extensions`, a platform schema.
    if scope:schema(r.schema) or (scope.profile == "supabase" and r.schema == "extensions"
        and r.name ~= "plpgsql") then
      model.add(m, "extension", r.name, { schema = r.schema, version = r.version })
    end
  end

  for _, r in ipairs(db:query(Q.enums)) do
    if scope:schema(r.schema) then
      local id = qualify(r.schema, r.name)
      local a = m.objects.enum[id]
      if not a then
        a = model.add(m, "enum", id, { owner = r.owner, values = setmetatable({}, ARRAY) })
        put(a, "comment", r.comment)
      end
      if r.label then a.values[#a.values + 1] = r.label end
    end
  end

  for _, r in ipairs(db:query(Q.sequences)) do
    -- A sequence owned by a bookkeeping table is rbacmig's too.
    local owner_table = r.owned_by and r.owned_by:match("^(.*)%.[^.]*$")
    if scope:schema(r.schema) and not (owner_table and scope.bookkeeping[owner_table]) then
      local a = { owner = r.owner, type = r.type, start = r.start, min = r.min, max = r.max,
        increment = r.increment, cache = r.cache, cycle = r.cycle }
      put(a, "owned_by", r.owned_by)
      put(a, "comment", r.comment)
      model.add(m, "sequence", qualify(r.schema, r.name), a)
    end
  end
end

-- Tables, views and what is on a table.
local function read_relations(db, m, scope)
  local in_table = function(r) return scope:table(r.schema, r.tbl or r.name) end
  local RELKIND = { r = "table", p = "partitioned table", v = "view", m = "materialized view" }
  for _, r in ipairs(db:query(Q.relations)) do
    if in_table(r) then
      local a = { owner = r.owner }
      put(a, "comment", r.comment)
      if r.relkind == "v" or r.relkind == "m" then
        a.kind = RELKIND[r.relkind]
        a.definition = r.definition
        -- The server keeps a view option as written (security_invoker=on, =true): read as a
        -- boolean, both spellings are the same.
        for opt in (r.options or ""):gmatch("[^,%s]+") do
          local k, v = opt:match("^([^=]+)=(.*)$")
          if k == "security_invoker" or k == "security_barrier" then
            a[k] = v == "true" or v == "on" or v == "1" or v == "yes"
          elseif k == "check_option" then
            a.check_option = v
          elseif k then
            a.options = (a.options and a.options .. ", " or "") .. opt
          end
        end
        model.add(m, "view", qualify(r.schema, r.name), a)
      else
        if r.relkind == "p" then a.kind = RELKIND.p end
        a.rls, a.rls_forced = r.rls, r.rls_forced
        if r.persistence == "u" then a.unlogged = true end
        put(a, "options", r.options)
        put(a, "partition_key", r.partition_key)
        put(a, "partition_of", r.partition_of)
        model.add(m, "table", qualify(r.schema, r.name), a)
      end
    end
  end

  add_on_table(m, in_table, db:query(Q.columns), "column",
    { "type", "not_null", "default", "generated", "identity", "collation", "comment" })
  add_on_table(m, in_table, db:query(Q.constraints), "constraint",
    { "type", "definition", "comment" })
  add_on_table(m, in_table, db:query(Q.indexes), "index", { "definition", "comment" })

  add_on_table(m, in_table, db:query(Q.triggers), "trigger",
    { "definition", "enabled", "comment" })

  for _, r in ipairs(db:query(Q.policies)) do
    if in_table(r) then
      local id = qualify(r.schema, r.tbl) .. "." .. r.name
      local a = m.objects.policy[id]
      if not a then
        a = model.add(m, "policy", id, { command = r.command, permissive = r.permissive,
          roles = {} })
        put(a, "using", r.using)
        put(a, "with_check", r.with_check)
        put(a, "comment", r.comment)
      end
      if r.role then a.roles[#a.roles + 1] = r.role end
    end
  end
  for _, a in pairs(m.objects.policy) do table.sort(a.roles) end
end

local function read_functions(db, m, scope)
  for _, r in ipairs(db:query(Q.functions)) do
    if scope:schema(r.schema) then
      local a = { kind = r.kind, language = r.language,
        volatility = r.volatility, strict = r.strict, security_definer = r.security_definer,
        leakproof = r.leakproof, parallel = r.parallel, body = r.body, owner = r.owner }
      put(a, "arguments", r.arguments)
      put(a, "result", r.result)
      if r.config then a.config = lines(r.config) end
      put(a, "comment", r.comment)
      model.add(m, "function", qualify(r.schema, r.name) .. "(" .. r.identity_args .. ")", a)
    end
  end
end

-- Grants, keyed by object and grantee, and default privileges.
local function read_grants(db, m, scope)
  local grants = {}
  for _, r in ipairs(db:query(Q.relation_grants)) do
    local object = qualify(r.schema, r.name)
    local known = r.kind ~= "sequence" or m.objects.sequence[object]
    if known and scope:table(r.schema, r.name) and scope:role(r.grantee) then
      if r.colname then object = object .. "." .. r.colname end
      add_privilege(grants, r.kind .. " " .. object .. " TO " .. r.grantee,
        { on = r.kind, object = object, grantee = r.grantee }, r.privilege, r.grantable)
    end
  end
  for _, r in ipairs(db:query(Q.function_grants)) do
    if scope:schema(r.schema) and scope:role(r.grantee) then
      local object = qualify(r.schema, r.name) .. "(" .. r.identity_args .. ")"
      add_privilege(grants, "function " .. object .. " TO " .. r.grantee,
        { on = "function", object = object, grantee = r.grantee }, r.privilege, r.grantable)
    end
  end
  for _, r in ipairs(db:query(Q.schema_grants)) do
    if scope:schema(r.name) and scope:role(r.grantee) then
      add_privilege(grants, "schema " .. r.name .. " TO " .. r.grantee,
        { on = "schema", object = r.name, grantee = r.grantee }, r.privilege, r.grantable)
    end
  end
  finish_grants(m, "grant", grants)

  local defaults = {}
  for _, r in ipairs(db:query(Q.default_privileges)) do
    if (r.schema == nil or scope:schema(r.schema)) and scope:role(r.role)
        and scope:role(r.grantee) then
      local id = string.format("FOR ROLE %s%s ON %s TO %s", r.role,
        r.schema and " IN SCHEMA " .. r.schema or "", r.objects, r.grantee)
      local base = { role = r.role, objects = r.objects, grantee = r.grantee, schema = r.schema }
      add_privilege(defaults, id, base, r.privilege, r.grantable)
    end
  end
  finish_grants(m, "default_privilege", defaults)
end

function M.read(db, opts)
  local m = model.new("postgresql")
  local schema_rows = db:query(Q.schemas)
  local present = {}
  for _, r in ipairs(schema_rows) do present[#present + 1] = r.name end
  local scope = scope_mod.new("postgresql", present, opts)
  m.profile = scope.profile
  m.schemas = scope:schemas()
  read_namespaces(db, m, scope, schema_rows)
  read_relations(db, m, scope)
  read_functions(db, m, scope)
  read_grants(db, m, scope)
  for _, r in ipairs(db:query(Q.not_compared)) do
    if r.schema == nil or scope:schema(r.schema) then model.count(m, r.what, r.n) end
  end
  return m
end

M.queries = Q
return M
