-- The generator's property test: random pairs of schemas A and B (tables, columns, indexes,
-- check and foreign key constraints, views, triggers; on PostgreSQL also enums, functions,
-- row-level security, policies and grants), each made with real DDL on the live database
-- and read with the schema reader. For each pair: the database at A, the generated upgrade
-- applied, zero differences against B; the downgrade applied, zero differences against A.
-- tests/e2e/test_autogen_property.sh runs it inside a migration, on SQLite and PostgreSQL.
--
--   RBACMIG_AUTOGEN_SEED   the first seed (default 1); a failure names its seed, and
--   RBACMIG_AUTOGEN_PAIRS  how many pairs (default 100 on SQLite, 30 on PostgreSQL)
-- so `RBACMIG_AUTOGEN_SEED=17 RBACMIG_AUTOGEN_PAIRS=1` runs the failing pair alone.

local autogen = require("rbacmig.autogen")
local diff = require("rbacmig.inspect.diff")
local read_model = require("rbacmig.inspect.commands").read

local db

-- A small deterministic generator (an LCG on 31 bits), the same on every Lua.
local function rng(seed)
  local state = seed % 2147483647
  if state <= 0 then state = state + 2147483646 end
  local r = {}
  function r.int(n) -- 1..n
    state = (state * 48271) % 2147483647
    return state % n + 1
  end
  function r.chance(p) return r.int(1000) <= p * 1000 end
  function r.pick(list) return list[r.int(#list)] end
  return r
end

---------------------------------------------------------------------------------------------
-- A schema: tables of columns (a column's name says its type), indexes, checks, foreign
-- keys, views and triggers, and on PostgreSQL an enum, functions, RLS, policies and grants.
---------------------------------------------------------------------------------------------

local COLUMNS = {
  { name = "n1", pg = "integer", sqlite = "INTEGER", num = true },
  { name = "n2", pg = "bigint", sqlite = "INTEGER", num = true },
  { name = "s1", pg = "text", sqlite = "TEXT" },
  { name = "s2", pg = "varchar(20)", sqlite = "VARCHAR(20)" },
  { name = "f1", pg = "double precision", sqlite = "REAL", num = true },
  { name = "ref", pg = "integer", sqlite = "INTEGER", num = true, ref = true },
}

local function schema(r, pg)
  local s = { tables = {}, pg = pg }
  for t = 1, r.int(3) do
    local tbl = { name = "t" .. t, columns = {}, indexes = {}, checks = {} }
    for _, c in ipairs(COLUMNS) do
      if r.chance(0.5) then
        -- n2's type varies between draws: a column whose type changes.
        if c.name == "n2" and r.chance(0.4) then c = { name = "n2", pg = "integer",
          sqlite = "NUMERIC", num = true } end
        tbl.columns[#tbl.columns + 1] = { def = c, not_null = r.chance(0.3),
          default = r.chance(0.3) and (c.num and tostring(r.int(9)) or "'x" .. r.int(3) .. "'") }
      end
    end
    for _, c in ipairs(tbl.columns) do
      if c.def.ref and t > 1 and r.chance(0.7) then
        tbl.fk = { column = c.def.name, table = "t" .. r.int(t - 1),
          on_delete = r.pick({ false, "CASCADE", "SET NULL" }) }
        if tbl.fk.on_delete == "SET NULL" and c.not_null then tbl.fk.on_delete = false end
      end
      if r.chance(0.3) then
        tbl.indexes[#tbl.indexes + 1] = { name = tbl.name .. "_" .. c.def.name .. "_idx",
          column = c.def.name, unique = r.chance(0.3) and not c.default }
      end
      if c.def.num and r.chance(0.2) then
        tbl.checks[#tbl.checks + 1] = { name = tbl.name .. "_" .. c.def.name .. "_check",
          expr = c.def.name .. " > " .. (r.int(3) - 2) }
      end
    end
    if #tbl.columns > 0 and r.chance(0.4) then
      tbl.view = { name = "v" .. t, columns = {} }
      for _, c in ipairs(tbl.columns) do
        if r.chance(0.6) then tbl.view.columns[#tbl.view.columns + 1] = c.def.name end
      end
      if #tbl.view.columns == 0 then tbl.view.columns[1] = "id" end
      tbl.view.invoker = pg and r.chance(0.5)
      tbl.view.over = r.chance(0.3) -- a second view over the first
    end
    tbl.trigger = r.chance(0.25)
    if pg then
      tbl.rls = r.chance(0.5)
      tbl.force = tbl.rls and r.chance(0.3)
      tbl.policies = {}
      if tbl.rls then
        for p = 1, r.int(3) - 1 do
          -- A policy may call a function of the schema (f1, when there is one).
          tbl.policies[#tbl.policies + 1] = { name = tbl.name .. "_p" .. p,
            command = r.pick({ "ALL", "SELECT", "UPDATE" }),
            role = r.pick({ "authenticated", "anon", "PUBLIC" }),
            expr = r.chance(0.3) and "id > f1()" or "id > " .. r.int(3),
            restrictive = r.chance(0.2) }
        end
      end
      -- Supabase's default privileges give the API roles ALL on a new table: most tables
      -- take that back, some keep it.
      tbl.revoke = r.chance(0.7)
      tbl.grants = {}
      for _, role in ipairs({ "anon", "authenticated" }) do
        if r.chance(0.4) then
          tbl.grants[#tbl.grants + 1] = { role = role,
            privileges = r.pick({ "SELECT", "SELECT, INSERT", "UPDATE", "ALL" }) }
        end
      end
      if #tbl.columns > 0 and r.chance(0.3) then
        tbl.column_grant = { role = "authenticated", column = r.pick(tbl.columns).def.name }
      end
      if r.chance(0.3) then tbl.comment = "table " .. tbl.name .. " v" .. r.int(2) end
    end
    s.tables[#s.tables + 1] = tbl
  end
  if pg then
    if r.chance(0.5) then
      s.enum = {}
      for _, v in ipairs({ "a", "b", "c", "d" }) do
        if r.chance(0.6) then s.enum[#s.enum + 1] = v end
      end
    end
    s.functions = {}
    for f = 1, r.int(3) - 1 do
      s.functions[#s.functions + 1] = { name = "f" .. f, body = "SELECT " .. r.int(3),
        stable = r.chance(0.5), definer = r.chance(0.3), public = r.chance(0.5),
        -- Supabase's default privileges let anon execute it unless taken back.
        anon = r.chance(0.5) }
    end
  end
  return s
end

local function ddl(s)
  local out = {}
  local function add(sql) out[#out + 1] = sql end
  local pg = s.pg
  if s.enum then
    local values = {}
    for i, v in ipairs(s.enum) do values[i] = "'" .. v .. "'" end
    add("CREATE TYPE mood AS ENUM (" .. table.concat(values, ", ") .. ")")
  end
  local uses_f1 = false
  for _, t in ipairs(s.tables) do
    for _, p in ipairs(t.policies or {}) do
      if p.expr:find("f1()", 1, true) then uses_f1 = true end
    end
  end
  if uses_f1 and not (s.functions and s.functions[1]) then
    s.functions = { { name = "f1", body = "SELECT 0", stable = true } }
  end
  for _, f in ipairs(s.functions or {}) do
    add(string.format("CREATE FUNCTION %s() RETURNS integer LANGUAGE sql %s %s AS $$ %s $$",
      f.name, f.stable and "STABLE" or "", f.definer and "SECURITY DEFINER SET search_path = ''"
      or "", f.body))
    if not f.public then add("REVOKE EXECUTE ON FUNCTION " .. f.name .. "() FROM PUBLIC") end
    if not f.anon then add("REVOKE EXECUTE ON FUNCTION " .. f.name .. "() FROM anon") end
  end
  if pg and #(s.tables) > 0 then
    add("CREATE FUNCTION touch() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RETURN NEW; END $$")
  end
  for _, t in ipairs(s.tables) do
    local cols = { "id " .. (pg and "integer" or "INTEGER") .. " NOT NULL PRIMARY KEY" }
    for _, c in ipairs(t.columns) do
      cols[#cols + 1] = c.def.name .. " " .. (pg and c.def.pg or c.def.sqlite)
        .. (c.not_null and " NOT NULL" or "") .. (c.default and " DEFAULT " .. c.default or "")
    end
    if s.enum and pg then cols[#cols + 1] = "mood mood" end
    for _, k in ipairs(t.checks) do
      cols[#cols + 1] = "CONSTRAINT " .. k.name .. " CHECK (" .. k.expr .. ")"
    end
    if t.fk then
      cols[#cols + 1] = "FOREIGN KEY (" .. t.fk.column .. ") REFERENCES " .. t.fk.table .. " (id)"
        .. (t.fk.on_delete and " ON DELETE " .. t.fk.on_delete or "")
    end
    add("CREATE TABLE " .. t.name .. " (" .. table.concat(cols, ", ") .. ")")
    for _, i in ipairs(t.indexes) do
      add("CREATE " .. (i.unique and "UNIQUE " or "") .. "INDEX " .. i.name .. " ON " .. t.name
        .. " (" .. i.column .. ")")
    end
    if t.view then
      add("CREATE VIEW " .. t.view.name .. (t.view.invoker and " WITH (security_invoker = true)"
        or "") .. " AS SELECT " .. table.concat(t.view.columns, ", ") .. " FROM " .. t.name)
      if t.view.over then
        add("CREATE VIEW w" .. t.name:sub(2) .. " AS SELECT " .. t.view.columns[1] .. " FROM "
          .. t.view.name)
      end
    end
    if t.trigger then
      if pg then
        add("CREATE TRIGGER " .. t.name .. "_touch BEFORE UPDATE ON " .. t.name
          .. " FOR EACH ROW EXECUTE FUNCTION touch()")
      else
        add("CREATE TRIGGER " .. t.name .. "_touch AFTER UPDATE ON " .. t.name
          .. " BEGIN SELECT 1; END")
      end
    end
    if pg then
      if t.revoke then add("REVOKE ALL ON " .. t.name .. " FROM anon, authenticated") end
      if t.rls then
        add("ALTER TABLE " .. t.name .. " ENABLE ROW LEVEL SECURITY")
        if t.force then add("ALTER TABLE " .. t.name .. " FORCE ROW LEVEL SECURITY") end
      end
      for _, p in ipairs(t.policies) do
        add("CREATE POLICY " .. p.name .. " ON " .. t.name .. (p.restrictive and " AS RESTRICTIVE"
          or "") .. " FOR " .. p.command .. " TO " .. p.role .. " USING (" .. p.expr .. ")")
      end
      for _, g in ipairs(t.grants) do
        add("GRANT " .. g.privileges .. " ON " .. t.name .. " TO " .. g.role)
      end
      if t.column_grant then
        add("GRANT UPDATE (" .. t.column_grant.column .. ") ON " .. t.name .. " TO "
          .. t.column_grant.role)
      end
      if t.comment then add("COMMENT ON TABLE " .. t.name .. " IS '" .. t.comment .. "'") end
    end
  end
  return table.concat(out, ";\n") .. (#out > 0 and ";\n" or "")
end

---------------------------------------------------------------------------------------------
-- The pairs
---------------------------------------------------------------------------------------------

local function read()
  return read_model(db, { version_table = "rbacmig_version", history_table = "rbacmig_history",
    depends = true })
end

local function rolled_back(fn)
  db:exec("SAVEPOINT autogen_pair")
  local ok, a = pcall(fn)
  db:exec("ROLLBACK TO SAVEPOINT autogen_pair")
  db:exec("RELEASE SAVEPOINT autogen_pair")
  if not ok then error(a, 0) end
  return a
end

local function script(sql)
  if sql:find("%S") then db:exec_script(sql) end
end

local function message(e)
  if type(e) == "table" and e.lines then return table.concat(e.lines, "\n") end
  if type(e) == "table" and e.message then return tostring(e.message) end
  return tostring(e)
end

local function residual(want)
  local d = diff.compare(read(), want)
  if #d == 0 then return nil end
  return diff.render_text(d)
end

local function run(text)
  local chunk, err = load("local db = ...\n" .. text, "=generated", "t")
  if not chunk then error("generated code does not load: " .. err, 0) end
  chunk(db)
end

-- One pair; returns "ok", "look-alike" (a drop and an add refused as a possible rename,
-- which the generator must refuse), "by hand" (a SQLite rebuild it must refuse) or raises
-- what went wrong.
local function pair(seed)
  local pg = db.dialect == "postgresql"
  local r = rng(seed)
  -- B is a second draw that keeps some of A as it is, as a real change does.
  local sa, sb = schema(r, pg), schema(r, pg)
  for i, t in ipairs(sa.tables) do
    if sb.tables[i] and r.chance(0.5) then sb.tables[i] = t end
  end
  if r.chance(0.5) then sb.enum = sa.enum end
  if r.chance(0.5) then sb.functions = sa.functions end
  local a_sql, b_sql = ddl(sa), ddl(sb)
  local a = rolled_back(function() script(a_sql) return read() end)
  local b = rolled_back(function() script(b_sql) return read() end)
  local ok, res = pcall(autogen.generate, a, b, { allow_drop = true })
  if not ok then
    local lines = type(res) == "table" and res.lines or {}
    local all_lookalikes = #lines > 0
    for _, l in ipairs(lines) do
      if not l:find("a rename?", 1, true) then all_lookalikes = false end
    end
    if all_lookalikes then return "look-alike" end
    -- SQLite: a table other tables reference cannot be rebuilt with foreign keys on, and a
    -- constraint SQLite keeps no name for can only go by a rebuild.
    if #lines == 1 and lines[1]:find("write that step by hand", 1, true) then
      return "by hand"
    end
    error("generate failed: " .. message(res) .. "\n--- A\n" .. a_sql .. "--- B\n" .. b_sql, 0)
  end
  local proved, why = pcall(rolled_back, function()
    script(a_sql)
    run(res.upgrade)
    local left = residual(b)
    if left then error("after the upgrade, differences remain:\n" .. left, 0) end
    run(res.downgrade)
    left = residual(a)
    if left then error("after the downgrade, differences remain:\n" .. left, 0) end
  end)
  if not proved then
    error(message(why) .. "\n--- A\n" .. a_sql .. "--- B\n" .. b_sql .. "--- upgrade\n"
      .. res.upgrade .. "--- downgrade\n" .. res.downgrade, 0)
  end
  -- The declaration of B (schema export), against the database it runs on, makes B.
  local declared = autogen.declare(b, { base = read() })
  local made, mwhy = pcall(rolled_back, function()
    local chunk, err = load(declared, "=declared", "t")
    if not chunk then error("the declaration does not load: " .. err, 0) end
    chunk()(db)
    local left = residual(b)
    if left then error("after the declaration, differences remain:\n" .. left, 0) end
  end)
  if not made then
    error(message(mwhy) .. "\n--- B\n" .. b_sql .. "--- declaration\n" .. declared, 0)
  end
  return "ok"
end

return function(live)
  db = live
  -- SQLite's table rebuild wants foreign keys off, which a transaction cannot switch: the
  -- runner runs such a migration again with them off; here the migration is not
  -- transactional on SQLite (each case is a savepoint of its own) and turns them off.
  if db.dialect == "sqlite" then db:exec("PRAGMA foreign_keys = OFF") end
  local first = tonumber(os.getenv("RBACMIG_AUTOGEN_SEED") or "") or 1
  local count = tonumber(os.getenv("RBACMIG_AUTOGEN_PAIRS") or "")
    or (db.dialect == "postgresql" and 30 or 100)
  local counts, failed = { ok = 0, ["look-alike"] = 0, ["by hand"] = 0 }, {}
  for seed = first, first + count - 1 do
    local ok, res = pcall(pair, seed)
    if ok then
      counts[res] = counts[res] + 1
    else
      failed[#failed + 1] = seed
      print(string.format("FAIL seed %d (RBACMIG_AUTOGEN_SEED=%d RBACMIG_AUTOGEN_PAIRS=1): %s\n",
        seed, seed, message(res)))
    end
  end
  print(string.format("%d pairs proved, %d refused as rename look-alikes, %d refused as "
    .. "needing a step by hand, %d failed", counts.ok, counts["look-alike"], counts["by hand"],
    #failed))
  if #failed > 0 then error("autogen property: failing seeds " .. table.concat(failed, ", "), 0) end
  if counts.ok < count // 2 then
    error("autogen property: too few pairs proved (" .. counts.ok .. " of " .. count .. ")", 0)
  end
end
