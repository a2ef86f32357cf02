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
       ds.description AS comment, n.oid
FROM pg_catalog.pg_namespace n ]] .. comment_join("ds", "n.oid", "pg_namespace") .. [[ ORDER BY 1]]

Q.extensions = [[
SELECT x.extname AS name, x.extversion AS version, n.nspname AS schema, x.oid
FROM pg_catalog.pg_extension x JOIN pg_catalog.pg_namespace n ON n.oid = x.extnamespace
ORDER BY 1]]

Q.enums = [[
SELECT n.nspname AS schema, t.typname AS name, pg_catalog.pg_get_userbyid(t.typowner) AS owner,
       ds.description AS comment, e.enumlabel AS label, t.oid
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
       ds.description AS comment, c.oid
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
       ds.description AS comment, c.oid
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
       ds.description AS comment, a.attnum AS position, c.oid
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
       ds.description AS comment, k.oid, k.conindid AS index_oid
FROM pg_catalog.pg_constraint k JOIN pg_catalog.pg_class c ON c.oid = k.conrelid
JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
]] .. comment_join("ds", "k.oid", "pg_constraint") .. [[
WHERE k.contype IN ('p', 'u', 'c', 'f', 'x') AND ]] .. NOT_SYSTEM .. " AND "
  .. not_ext("pg_class", "c.oid")

-- Indexes that are not a constraint's (those are the constraint's definition).
Q.indexes = [[
SELECT n.nspname AS schema, c.relname AS tbl, i.relname AS name,
       pg_catalog.pg_get_indexdef(x.indexrelid) AS definition,
       ds.description AS comment, x.indexrelid AS oid
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
       ds.description AS comment, p.oid
FROM pg_catalog.pg_proc p JOIN pg_catalog.pg_namespace n ON n.oid = p.pronamespace
JOIN pg_catalog.pg_language l ON l.oid = p.prolang
]] .. comment_join("ds", "p.oid", "pg_proc") .. [[
WHERE p.prokind IN ('f', 'p') AND ]] .. NOT_SYSTEM .. " AND " .. not_ext("pg_proc", "p.oid")

Q.triggers = [[
SELECT n.nspname AS schema, c.relname AS tbl, g.tgname AS name,
       pg_catalog.pg_get_triggerdef(g.oid) AS definition,
       CASE g.tgenabled WHEN 'O' THEN NULL WHEN 'D' THEN 'disabled' WHEN 'R' THEN 'replica'
         WHEN 'A' THEN 'always' END AS enabled,
       ds.description AS comment, g.oid
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
       ds.description AS comment, r.role, p.oid
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

-- What depends on what (pg_depend), for the order of autogenerate's steps
-- (rbacmig.autogen.order); the reader turns each (catalog, oid, sub-id) into the identity of
-- the model's object it read with that oid. A view's rule stands for the view, a column
-- default for its column, an array type for its element type. What a relation has on
-- itself (a default on its own column) orders nothing. Only objects made after initdb (oid
-- 16384 and up, FirstNormalObjectId) can be in a model.
Q.depends = [[
SELECT CASE WHEN rw.oid IS NOT NULL OR ad.oid IS NOT NULL THEN 'pg_class'
            ELSE d.classid::pg_catalog.regclass::text END AS cls,
       coalesce(rw.ev_class, ad.adrelid, d.objid) AS oid,
       coalesce(ad.adnum, CASE WHEN rw.oid IS NOT NULL THEN 0 END, d.objsubid) AS sub,
       d.refclassid::pg_catalog.regclass::text AS ref_cls,
       coalesce(et.typelem, d.refobjid) AS ref_oid, d.refobjsubid AS ref_sub
FROM pg_catalog.pg_depend d
LEFT JOIN pg_catalog.pg_rewrite rw ON d.classid = 'pg_catalog.pg_rewrite'::regclass
  AND rw.oid = d.objid
LEFT JOIN pg_catalog.pg_attrdef ad ON d.classid = 'pg_catalog.pg_attrdef'::regclass
  AND ad.oid = d.objid
LEFT JOIN pg_catalog.pg_type et ON d.refclassid = 'pg_catalog.pg_type'::regclass
  AND et.oid = d.refobjid AND et.typcategory = 'A'
WHERE d.deptype IN ('n', 'a') AND d.objid >= 16384 AND d.refobjid >= 16384]]

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

-- Which model object a catalog row is (catalog, oid, sub-id -> "kind identity"), for the
-- dependencies read from pg_depend (Q.depends).
local function remember(hidden, catalog, oid, sub, key)
  if oid ~= nil then hidden.keys[catalog .. ":" .. tostring(oid) .. ":" .. tostring(sub or 0)] = key end
end

-- Objects on a table (columns, constraints, indexes, triggers), identified as
-- schema.table.name, with the attributes named in `fields` that the row has; `catalog`
-- names where their oids are (columns: their table's, with the column number).
local function add_on_table(m, in_table, rows, kind, fields, hidden, catalog)
  for _, r in ipairs(rows) do
    if in_table(r) then
      local a = {}
      for _, f in ipairs(fields) do put(a, f, r[f]) end
      local id = qualify(r.schema, r.tbl) .. "." .. r.name
      model.add(m, kind, id, a)
      remember(hidden, catalog, r.oid, r.position, kind .. " " .. id)
      if r.index_oid and tostring(r.index_oid) ~= "0" then
        remember(hidden, "pg_class", r.index_oid, 0, kind .. " " .. id)
      end
    end
  end
end

-- Schemas, extensions, enums and sequences.
local function read_namespaces(fetch, m, scope, schema_rows, hidden)
  for _, r in ipairs(schema_rows) do
    if scope:schema(r.name) then
      local a = { owner = r.owner }
      put(a, "comment", r.comment)
      model.add(m, "schema", r.name, a)
      remember(hidden, "pg_namespace", r.oid, 0, "schema " .. r.name)
    end
  end

  for _, r in ipairs(fetch("extensions")) do
    -- Extensions Supabase's users add land in `extensions`, a platform schema.
    if scope:schema(r.schema) or (scope.profile == "supabase" and r.schema == "extensions"
        and r.name ~= "plpgsql") then
      model.add(m, "extension", r.name, { schema = r.schema, version = r.version })
      remember(hidden, "pg_extension", r.oid, 0, "extension " .. r.name)
    end
  end

  for _, r in ipairs(fetch("enums")) do
    if scope:schema(r.schema) then
      local id = qualify(r.schema, r.name)
      local a = m.objects.enum[id]
      if not a then
        a = model.add(m, "enum", id, { owner = r.owner, values = setmetatable({}, ARRAY) })
        remember(hidden, "pg_type", r.oid, 0, "enum " .. id)
        put(a, "comment", r.comment)
      end
      if r.label then a.values[#a.values + 1] = r.label end
    end
  end

  for _, r in ipairs(fetch("sequences")) do
    -- A sequence owned by a bookkeeping table is rbacmig's too.
    local owner_table = r.owned_by and r.owned_by:match("^(.*)%.[^.]*$")
    if scope:schema(r.schema) and not (owner_table and scope.bookkeeping[owner_table]) then
      local a = { owner = r.owner, type = r.type, start = r.start, min = r.min, max = r.max,
        increment = r.increment, cache = r.cache, cycle = r.cycle }
      put(a, "owned_by", r.owned_by)
      put(a, "comment", r.comment)
      model.add(m, "sequence", qualify(r.schema, r.name), a)
      remember(hidden, "pg_class", r.oid, 0, "sequence " .. qualify(r.schema, r.name))
    end
  end
end

-- Tables, views and what is on a table.
local function read_relations(fetch, m, scope, hidden)
  local in_table = function(r) return scope:table(r.schema, r.tbl or r.name) end
  local RELKIND = { r = "table", p = "partitioned table", v = "view", m = "materialized view" }
  for _, r in ipairs(fetch("relations")) do
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
        remember(hidden, "pg_class", r.oid, 0, "view " .. qualify(r.schema, r.name))
      else
        if r.relkind == "p" then a.kind = RELKIND.p end
        a.rls, a.rls_forced = r.rls, r.rls_forced
        if r.persistence == "u" then a.unlogged = true end
        put(a, "options", r.options)
        put(a, "partition_key", r.partition_key)
        put(a, "partition_of", r.partition_of)
        model.add(m, "table", qualify(r.schema, r.name), a)
        remember(hidden, "pg_class", r.oid, 0, "table " .. qualify(r.schema, r.name))
      end
    end
  end

  local column_rows = fetch("columns")
  add_on_table(m, in_table, column_rows, "column",
    { "type", "not_null", "default", "generated", "identity", "collation", "comment" }, hidden,
    "pg_class")
  for _, r in ipairs(column_rows) do
    hidden.positions[qualify(r.schema, r.tbl) .. "." .. r.name] = r.position
  end
  add_on_table(m, in_table, fetch("constraints"), "constraint",
    { "type", "definition", "comment" }, hidden, "pg_constraint")
  add_on_table(m, in_table, fetch("indexes"), "index", { "definition", "comment" }, hidden,
    "pg_class")

  add_on_table(m, in_table, fetch("triggers"), "trigger",
    { "definition", "enabled", "comment" }, hidden, "pg_trigger")

  for _, r in ipairs(fetch("policies")) do
    if in_table(r) then
      local id = qualify(r.schema, r.tbl) .. "." .. r.name
      local a = m.objects.policy[id]
      if not a then
        a = model.add(m, "policy", id, { command = r.command, permissive = r.permissive,
          roles = {} })
        put(a, "using", r.using)
        put(a, "with_check", r.with_check)
        put(a, "comment", r.comment)
        remember(hidden, "pg_policy", r.oid, 0, "policy " .. id)
      end
      if r.role then a.roles[#a.roles + 1] = r.role end
    end
  end
  for _, a in pairs(m.objects.policy) do table.sort(a.roles) end
end

local function read_functions(fetch, m, scope, hidden)
  for _, r in ipairs(fetch("functions")) do
    if scope:schema(r.schema) then
      local a = { kind = r.kind, language = r.language,
        volatility = r.volatility, strict = r.strict, security_definer = r.security_definer,
        leakproof = r.leakproof, parallel = r.parallel, body = r.body, owner = r.owner }
      put(a, "arguments", r.arguments)
      put(a, "result", r.result)
      if r.config then a.config = lines(r.config) end
      put(a, "comment", r.comment)
      local id = qualify(r.schema, r.name) .. "(" .. r.identity_args .. ")"
      model.add(m, "function", id, a)
      remember(hidden, "pg_proc", r.oid, 0, "function " .. id)
    end
  end
end

-- Grants, keyed by object and grantee, and default privileges.
local function read_grants(fetch, m, scope)
  local grants = {}
  for _, r in ipairs(fetch("relation_grants")) do
    local object = qualify(r.schema, r.name)
    local known = r.kind ~= "sequence" or m.objects.sequence[object]
    if known and scope:table(r.schema, r.name) and scope:role(r.grantee) then
      if r.colname then object = object .. "." .. r.colname end
      add_privilege(grants, r.kind .. " " .. object .. " TO " .. r.grantee,
        { on = r.kind, object = object, grantee = r.grantee }, r.privilege, r.grantable)
    end
  end
  for _, r in ipairs(fetch("function_grants")) do
    if scope:schema(r.schema) and scope:role(r.grantee) then
      local object = qualify(r.schema, r.name) .. "(" .. r.identity_args .. ")"
      add_privilege(grants, "function " .. object .. " TO " .. r.grantee,
        { on = "function", object = object, grantee = r.grantee }, r.privilege, r.grantable)
    end
  end
  for _, r in ipairs(fetch("schema_grants")) do
    if scope:schema(r.name) and scope:role(r.grantee) then
      add_privilege(grants, "schema " .. r.name .. " TO " .. r.grantee,
        { on = "schema", object = r.name, grantee = r.grantee }, r.privilege, r.grantable)
    end
  end
  finish_grants(m, "grant", grants)

  local defaults = {}
  for _, r in ipairs(fetch("default_privileges")) do
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

-- What depends on what, as "kind identity" keys of the objects read: a column is its table
-- too (and is listed as both); a sequence OWNED BY a column is created before it (the
-- column's default calls it), so that link is no order.
local function read_depends(fetch, hidden)
  local depends, seen = {}, {}
  local function keys_of(catalog, oid, sub)
    local base = catalog .. ":" .. tostring(oid) .. ":"
    local whole, part = hidden.keys[base .. "0"], nil
    if tostring(sub) ~= "0" then part = hidden.keys[base .. tostring(sub)] end
    return whole, part
  end
  for _, r in ipairs(fetch("depends")) do
    if not (r.cls == r.ref_cls and tostring(r.oid) == tostring(r.ref_oid)) then
      local k1, k2 = keys_of(r.cls, r.oid, r.sub)
      local r1, r2 = keys_of(r.ref_cls, r.ref_oid, r.ref_sub)
      for _, key in ipairs({ k1 or false, k2 or false }) do
        for _, ref in ipairs({ r1 or false, r2 or false }) do
          local owned_by = key and key:find("^sequence ")
          if key and ref and key ~= ref and not owned_by and not seen[key .. "\0" .. ref] then
            seen[key .. "\0" .. ref] = true
            local list = depends[key]
            if not list then
              list = {}
              depends[key] = list
            end
            list[#list + 1] = ref
          end
        end
      end
    end
  end
  for _, list in pairs(depends) do table.sort(list) end
  return depends
end

-- Each query's text, by name, in the order the reader uses them: the host sends them all at
-- once (src/lua_commands.c, read_models) and hands read() their rows. The dependencies
-- (pg_depend) only with_depends: autogenerate orders by them; a diff or a dump needs none.
function M.query_list(with_depends)
  local names = {}
  for name in pairs(Q) do
    if name ~= "depends" or with_depends then names[#names + 1] = name end
  end
  table.sort(names)
  local list = {}
  for _, name in ipairs(names) do list[#list + 1] = { name = name, sql = Q[name] } end
  return list
end

-- prefetched (optional): rows by query name, as the host collected them; a query missing
-- there is run here.
function M.read(db, opts, prefetched)
  local function fetch(name)
    local rows = prefetched and prefetched[name]
    if rows then return rows end
    return db:query(Q[name])
  end
  local m = model.new("postgresql")
  local schema_rows = fetch("schemas")
  local present = {}
  for _, r in ipairs(schema_rows) do present[#present + 1] = r.name end
  local scope = scope_mod.new("postgresql", present, opts)
  m.profile = scope.profile
  m.schemas = scope:schemas()
  local hidden = { keys = {}, positions = {} }
  read_namespaces(fetch, m, scope, schema_rows, hidden)
  read_relations(fetch, m, scope, hidden)
  read_functions(fetch, m, scope, hidden)
  read_grants(fetch, m, scope)
  -- Kept beside the model, not in it (see the header of rbacmig.autogen.order): the dump,
  -- text or JSON, walks only the model's own fields.
  setmetatable(m, { __index = { depends = opts.depends and read_depends(fetch, hidden) or nil,
    positions = hidden.positions } })
  for _, r in ipairs(fetch("not_compared")) do
    if r.schema == nil or scope:schema(r.schema) then model.count(m, r.what, r.n) end
  end
  return m
end

M.queries = Q
return M
