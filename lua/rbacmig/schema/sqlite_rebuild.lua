-- rbacmig.schema.sqlite_rebuild: the SQLite table rebuild behind the operations SQLite's
-- ALTER TABLE cannot do, and the plan of a DROP COLUMN.
--
-- Depends on nothing but base, string, table and math: it runs inside the migration sandbox.

local check = require("rbacmig.schema.check")
local argerror, raise = check.argerror, check.raise
local ddl = require("rbacmig.schema.ddl")
local q = ddl.q
local parse = require("rbacmig.schema.sqlite_parse")
local find_column, group_names_column = parse.find_column, parse.group_names_column
local index_names_column, parse_create_table = parse.index_names_column, parse.parse_create_table
local render_model = parse.render_model

-- The host gives its own modules, as the loader's second argument, the metatable that makes
-- an error mean "run this migration again with foreign keys off" (src/lua_host.c). Nothing
-- a migration can reach holds it, and its __metatable hides it from getmetatable: only this
-- module can raise that error. Loaded by a plain Lua (the test suites) the second argument is
-- the file name, and a local metatable stands in.
local _, host = ...
local NeedsFkOff = type(host) == "table" and host.needs_fk_off or { __metatable = false }
-- The errors raised here, for the test suites to recognise one (weak: they are garbage).
local raised = setmetatable({}, { __mode = "k" })

local function raise_needs_fk_off(message)
  local e = setmetatable({ message = message }, NeedsFkOff)
  raised[e] = true
  error(e, 0)
end

-- Whether err is this module's "foreign keys must be off" error.
local function needs_foreign_keys_off(err)
  return raised[err] == true
end

---------------------------------------------------------------------------------------------
-- SQLite table rebuild
--
-- SQLite's ALTER TABLE cannot change a column or add/drop a constraint, so those operations
-- copy the table, as its manual describes ("making other kinds of table schema changes"). The
-- new definition starts from the stored CREATE TABLE text rather than from pragma rows, which
-- lose CHECK constraints, constraint names and collations; pragma_table_xinfo only confirms
-- that the text was understood.
---------------------------------------------------------------------------------------------

local function truthy(v)
  return tonumber(v) == 1
end

-- Reads table `name` from the live database into a model with copy expressions.
local function read_table(op, db, name)
  local rows = db:query(
    "SELECT name, sql FROM sqlite_master WHERE type = 'table' AND name = $1 COLLATE NOCASE", name)
  if #rows == 0 then argerror(op, "table '%s' does not exist", name) end
  local sql = rows[1].sql
  local kind = type(sql) == "string" and sql:upper():match("^%s*CREATE%s+(%a+)")
  if kind ~= "TABLE" then
    raise("%s: table '%s' cannot be rebuilt (it is not an ordinary table)", op, name)
  end
  local model = parse_create_table(op, sql)
  model.name = rows[1].name
  local info = db:query("SELECT name FROM pragma_table_xinfo($1) ORDER BY cid", model.name)
  local same = #info == #model.columns
  for i, col in ipairs(model.columns) do
    same = same and info[i].name:lower() == col.name:lower()
    if not col.generated then col.copy = q(db, col.name) end
  end
  if not same then
    raise("%s: cannot understand the stored definition of table '%s'; change it with db:execute",
      op, model.name)
  end
  return model
end

local function referencing_tables(db, name)
  local rows = db:query("SELECT DISTINCT m.name AS name FROM sqlite_master AS m, "
    .. "pragma_foreign_key_list(m.name) AS f WHERE m.type = 'table' "
    .. "AND m.name <> $1 COLLATE NOCASE AND f.\"table\" = $1 COLLATE NOCASE ORDER BY m.name", name)
  local names = {}
  for i, row in ipairs(rows) do names[i] = row.name end
  return names
end

local function has_autoincrement(model)
  for _, col in ipairs(model.columns) do
    for _, c in ipairs(col.clauses) do
      if c.autoincrement then return true end
    end
  end
  return false
end

-- SQLite re-checks every view and trigger of the schema when a table is renamed (unless
-- legacy_alter_table is on). The rebuild renames with it on, so it would leave a view or a
-- trigger that names a column no longer there; renaming a scratch table reports it, as
-- SQLite's own DROP COLUMN does ("error in view v: no such column: c").
local function check_views_and_triggers(db, legacy)
  if legacy then db:exec("PRAGMA legacy_alter_table = OFF") end
  db:exec("CREATE TABLE _rbacmig_check (x)")
  db:exec("ALTER TABLE _rbacmig_check RENAME TO _rbacmig_checked")
  db:exec("DROP TABLE _rbacmig_checked")
  if legacy then db:exec("PRAGMA legacy_alter_table = ON") end
end

-- Rebuilds table `name` inside the migration's transaction. edit(model) changes the model
-- (columns, constraints, copy expressions) and returns false when there is nothing to do;
-- it may list in model.dropped_indexes indexes that are not to be re-created. With
-- options.check_schema, views and triggers are checked against the new table.
local function rebuild(op, db, name, edit, options)
  if db.offline then
    raise("%s is not supported on sqlite in --sql mode "
      .. "(it rebuilds the table from its live definition)", op)
  end
  local model = read_table(op, db, name)
  local autoincrement = has_autoincrement(model)
  if edit(model) == false then return end
  name = model.name
  local tmp = "_rbacmig_tmp_" .. name

  -- With foreign keys on (which cannot change inside a transaction), DROP TABLE deletes the
  -- rows first: ON DELETE actions would empty child tables and NO ACTION would fail at commit.
  -- The error carries the private metatable above: the host then rolls the migration back
  -- and runs it again with foreign keys off, checking them with foreign_key_check before it
  -- commits (SQLite's own ALTER TABLE procedure). A non-transactional migration cannot be
  -- retried, so there the message says what to do.
  local fk_on = truthy(db:scalar("PRAGMA foreign_keys"))
  local children = referencing_tables(db, name)
  if fk_on and #children > 0 then
    raise_needs_fk_off(string.format("%s: table '%s' cannot be rebuilt on sqlite while "
      .. "foreign keys are on: it is referenced by '%s' (in a migration with transactional = "
      .. "false, run PRAGMA foreign_keys = OFF first)", op, name, table.concat(children, "', '")))
  end
  local saved = {}
  local dropped = {}
  for _, index in ipairs(model.dropped_indexes or {}) do dropped[index:lower()] = true end
  for _, row in ipairs(db:query("SELECT type, name, sql FROM sqlite_master WHERE type IN ("
      .. "'index', 'trigger') AND tbl_name = $1 AND sql IS NOT NULL ORDER BY rowid", name)) do
    if not (row.type == "index" and dropped[row.name:lower()]) then saved[#saved + 1] = row end
  end
  local deferred = truthy(db:scalar("PRAGMA defer_foreign_keys"))
  local legacy = truthy(db:scalar("PRAGMA legacy_alter_table"))
  local seq = autoincrement and db:scalar("SELECT seq FROM sqlite_sequence WHERE name = $1", name)

  local function copy()
    if not deferred then db:exec("PRAGMA defer_foreign_keys = ON") end
    -- The table's references to itself must follow it through the final rename: with foreign
    -- keys on the rename rewrites them (so they name the copy), with them off it does not.
    db:exec(render_model(db, model, tmp, fk_on and tmp or name))
    local into, from = {}, {}
    for _, col in ipairs(model.columns) do
      if col.copy then
        into[#into + 1] = q(db, col.name)
        from[#from + 1] = col.copy
      end
    end
    db:exec("INSERT INTO " .. q(db, tmp) .. " (" .. table.concat(into, ", ") .. ") SELECT "
      .. table.concat(from, ", ") .. " FROM " .. q(db, name))
    db:exec("DROP TABLE " .. q(db, name))
    -- legacy_alter_table keeps the rename from re-checking views and triggers that mention
    -- the table, which would fail while the old one is gone.
    if not legacy then db:exec("PRAGMA legacy_alter_table = ON") end
    db:exec("ALTER TABLE " .. q(db, tmp) .. " RENAME TO " .. q(db, name))
    if not legacy then db:exec("PRAGMA legacy_alter_table = OFF") end
    if seq and has_autoincrement(model) then
      -- Copying explicit ids forgets a high-water mark left by deleted rows; keep it.
      db:exec("UPDATE sqlite_sequence SET seq = max(seq, $2) WHERE name = $1", name, seq)
      db:exec("INSERT INTO sqlite_sequence (name, seq) SELECT $1, $2 "
        .. "WHERE NOT EXISTS (SELECT 1 FROM sqlite_sequence WHERE name = $1)", name, seq)
    end
    for _, row in ipairs(saved) do db:exec(row.sql) end
    if options and options.check_schema then check_views_and_triggers(db, legacy) end
    if not deferred then db:exec("PRAGMA defer_foreign_keys = OFF") end

    table.insert(children, 1, name)
    for _, t in ipairs(children) do
      local bad = db:query("SELECT * FROM pragma_foreign_key_check($1)", t)
      if #bad > 0 and not fk_on then
        -- Rows that an ON DELETE or ON UPDATE action would have changed: with foreign keys
        -- off no action runs, in this migration's statements before the rebuild as after it.
        raise("%s: after rebuilding table '%s', %d row(s) of table '%s' reference missing "
          .. "rows of table '%s': foreign keys are off in this migration (rbacmig turns them "
          .. "off for a whole migration that rebuilds a table other tables reference, since "
          .. "SQLite cannot switch them inside a transaction), so ON DELETE and ON UPDATE "
          .. "actions did not run; put the operations that rebuild '%s' in a migration of "
          .. "their own", op, name, #bad, t, tostring(bad[1].parent), name)
      elseif #bad > 0 then
        raise("%s: after rebuilding table '%s', %d row(s) of table '%s' violate a foreign key "
          .. "(the first references table '%s')", op, name, #bad, t, tostring(bad[1].parent))
      end
    end
  end

  -- The savepoint makes the rebuild all or nothing in a migration that runs outside a
  -- transaction (transactional = false) too, where each statement would commit on its own.
  db:exec("SAVEPOINT rbacmig_rebuild")
  local ok, err = pcall(copy)
  if not ok then
    -- Undo what ran and restore the settings; the error to report is the first one.
    pcall(db.exec, db, "ROLLBACK TO SAVEPOINT rbacmig_rebuild")
    pcall(db.exec, db, "RELEASE SAVEPOINT rbacmig_rebuild")
    pcall(db.exec, db, "PRAGMA legacy_alter_table = " .. (legacy and "ON" or "OFF"))
    if not deferred then pcall(db.exec, db, "PRAGMA defer_foreign_keys = OFF") end
    error(err, 0)
  end
  db:exec("RELEASE SAVEPOINT rbacmig_rebuild")
end

-- Plans dropping column `column` of `model` the way PostgreSQL does it: the indexes that use
-- the column, the PRIMARY KEY, UNIQUE and FOREIGN KEY constraints that list it and the CHECK
-- constraints that mention it go with it; what PostgreSQL refuses without CASCADE (another
-- table's foreign key to the column, a generated column computed from it) is refused. Views
-- and triggers that use it are reported by SQLite itself. Edits the model; returns whether
-- the table needs a rebuild (SQLite's DROP COLUMN refuses a column in a key, in a foreign key
-- or in a CHECK of another column or of the table) and the names of the indexes to drop.
local function plan_drop_column(op, db, model, column)
  local col = find_column(op, model, column)
  local function refuse(fmt, ...)
    raise("%s: cannot drop column '%s' of table '%s': " .. fmt, op, col.name, model.name, ...)
  end
  if #model.columns == 1 then refuse("it is the only column (a SQLite table needs one)") end
  local needs_rebuild, had_pk, keeps_pk = false, false, false
  for _, c in ipairs(col.clauses) do
    if c.kind == "primary_key" then had_pk = true end
    if c.kind == "primary_key" or c.kind == "unique" or c.kind == "references" then
      needs_rebuild = true
    end
  end

  local columns = {}
  for _, other in ipairs(model.columns) do
    if other ~= col then
      local clauses = {}
      for _, c in ipairs(other.clauses) do
        if c.kind == "generated" and group_names_column(op, c.text, col.name) then
          refuse("generated column '%s' uses it", other.name)
        end
        if c.kind == "check" and group_names_column(op, c.text, col.name) then
          needs_rebuild = true
        else
          clauses[#clauses + 1] = c
          if c.kind == "primary_key" then keeps_pk = true end
        end
      end
      other.clauses = clauses
      columns[#columns + 1] = other
    end
  end
  model.columns = columns

  local constraints = {}
  for _, con in ipairs(model.constraints) do
    -- A foreign key's own columns come before REFERENCES; the referenced ones are another
    -- table's (references to this table's column are refused below).
    if group_names_column(op, con.before or con.text, col.name) then
      needs_rebuild = true
      if con.kind == "primary" then had_pk = true end
    else
      constraints[#constraints + 1] = con
      if con.kind == "primary" then keeps_pk = true end
    end
  end
  model.constraints = constraints
  if had_pk and not keeps_pk and model.tail:upper():find("WITHOUT%s+ROWID") then
    refuse("it is in the primary key of a WITHOUT ROWID table, which needs one")
  end

  -- Foreign keys to the column, from other tables or from other columns of this one. A
  -- reference without columns is to the primary key.
  local in_pk = false
  for _, row in ipairs(db:query("SELECT name FROM pragma_table_info($1) WHERE pk > 0",
      model.name)) do
    if row.name:lower() == col.name:lower() then in_pk = true end
  end
  local fks, order = {}, {}
  for _, row in ipairs(db:query("SELECT m.name AS tbl, f.id AS id, f.\"from\" AS src, "
      .. "f.\"to\" AS dst FROM sqlite_master AS m, pragma_foreign_key_list(m.name) AS f "
      .. "WHERE m.type = 'table' AND f.\"table\" = $1 COLLATE NOCASE ORDER BY m.name, f.id, f.seq",
      model.name)) do
    local key = row.tbl .. "\0" .. row.id
    local fk = fks[key]
    if not fk then
      fk = { tbl = row.tbl, from = {} }
      fks[key], order[#order + 1] = fk, key
    end
    fk.from[#fk.from + 1] = row.src
    if row.dst == nil and in_pk or row.dst and row.dst:lower() == col.name:lower() then
      fk.uses = true
    end
    if row.tbl:lower() == model.name:lower() and row.src:lower() == col.name:lower() then
      fk.goes = true -- a reference of this table from the column itself: dropped with it
    end
  end
  for _, key in ipairs(order) do
    local fk = fks[key]
    if fk.uses and not fk.goes then
      refuse("table '%s' references it (%s); drop that foreign key first", fk.tbl,
        table.concat(fk.from, ", "))
    end
  end

  local indexes = {}
  for _, row in ipairs(db:query("SELECT name, sql FROM sqlite_master WHERE type = 'index' "
      .. "AND tbl_name = $1 COLLATE NOCASE AND sql IS NOT NULL ORDER BY name", model.name)) do
    if index_names_column(op, row.sql, col.name) then indexes[#indexes + 1] = row.name end
  end
  model.dropped_indexes = indexes
  return needs_rebuild, indexes
end

-- A view or trigger that uses the dropped column makes SQLite's schema check fail with
-- "error in view v: no such column: c"; that becomes a refusal naming it, as PostgreSQL
-- refuses without CASCADE. Other errors pass unchanged.
local function explain_drop_column_error(op, table_name, column, err)
  local msg = type(err) == "table" and err.message or tostring(err)
  local kind, name = msg:match("error in (%a+) ([^%s:]+)")
  local missing = msg:match("no such column: (%S+)")
  missing = missing and missing:match("([^.]+)$")
  if kind and missing and missing:lower() == column:lower() then
    raise("%s: cannot drop column '%s' of table '%s': %s '%s' uses it; drop or change it first",
      op, column, table_name, kind, name)
  end
  error(err, 0)
end

return {
  explain_drop_column_error = explain_drop_column_error,
  plan_drop_column = plan_drop_column,
  read_table = read_table,
  rebuild = rebuild,
  needs_foreign_keys_off = needs_foreign_keys_off,
}
