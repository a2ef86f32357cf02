-- renamed_from in declarations (docs/autogenerate.md, "Renames and drops"): the schema builder
-- records it on db.declaration as --rename spells it (the SQL is the same as without it),
-- refuses it where there is no db.declaration (a migration), and refuses a value that is not
-- an identifier; rbacmig.autogen.commands refuses a --rename that contradicts it. No
-- database needed (schema_recorder); run from the source root:
--   build/tests/lua_runner tests/lua/test_schema_renamed_from.lua

local T = require("harness")
local test, raises, same = T.test, T.raises, T.same
local R = require("schema_recorder")

-- A recorder db as the host gives a declaration: db.declaration collects the renames.
local function declaration_db(dialect)
  local db = R.new(dialect)
  db.declaration = { file = "schema/10_app.lua", renames = {} }
  return db
end

local function renames(db)
  local out = {}
  for i, r in ipairs(db.declaration.renames) do out[i] = r.rename end
  return out
end

local function notes(db, column_extra, options)
  local content = { "content", "text" }
  for k, v in pairs(column_extra or {}) do content[k] = v end
  db:create_table("notes", { { "id", "integer", primary_key = true }, content }, options)
end

for _, dialect in ipairs({ "postgresql", "sqlite" }) do
  test(dialect .. ": renamed_from on a column and a table is recorded; the SQL is the same", function()
    local plain, db = R.new(dialect), declaration_db(dialect)
    notes(plain)
    notes(db, { renamed_from = "body" }, { renamed_from = "memos" })
    same(R.statements(db), R.statements(plain), "statement")
    same(renames(db), { "memos:notes", "notes.body:content" }, "rename")
    db:add_column("notes", { "title", "text", renamed_from = "subject" })
    same(renames(db), { "memos:notes", "notes.body:content", "notes.subject:title" }, "rename")
    T.eq(db.declaration.renames[1].where, "schema/10_app.lua", "where (no call in the file)")
  end)

  test(dialect .. ": renamed_from in a migration is refused, naming what to say instead", function()
    local db = R.new(dialect)
    raises({ "option 'renamed_from' belongs in a declaration",
      'db:rename_column("notes", "body", "content")' },
      notes, db, { renamed_from = "body" })
    raises({ "option 'renamed_from'", 'db:rename_table("memos", "notes")' },
      notes, db, nil, { renamed_from = "memos" })
    raises({ "option 'renamed_from'", 'db:rename_column("notes", "subject", "title")' },
      db.add_column, db, "notes", { "title", "text", renamed_from = "subject" })
    same(R.statements(db), {}, "statement")
  end)

  test(dialect .. ": a renamed_from that is not an identifier is refused", function()
    for _, bad in ipairs({ 42, "", "1x", "a.b", "a:b", "a b", true }) do
      local db = declaration_db(dialect)
      raises({ "key 'renamed_from' must be an identifier" }, notes, db, { renamed_from = bad })
      raises({ "option 'renamed_from' must be an identifier" }, notes, db, nil,
        { renamed_from = bad })
      same(R.statements(db), {}, "statement")
      same(renames(db), {}, "rename")
    end
  end)

  test(dialect .. ": a name that cannot be spelt as a rename is refused", function()
    local db = declaration_db(dialect)
    raises({ "cannot say a rename involving 'a.b'" }, db.create_table, db, "a.b",
      { { "id", "integer" } }, { renamed_from = "old" })
  end)
end

test("postgresql: a schema is spelt into the rename", function()
  local db = declaration_db("postgresql")
  notes(db, { renamed_from = "body" }, { schema = "app", renamed_from = "memos" })
  same(renames(db), { "app.memos:app.notes", "app.notes.body:content" }, "rename")
end)

test("autogen.commands: a --rename contradicting renamed_from is one usage error", function()
  local commands = require("rbacmig.autogen.commands")
  local m = { dialect = "sqlite", objects = { table = {}, column = {} } }
  local declared = { { rename = "notes.body:content", where = "schema/10_app.lua:3" } }
  for _, arg in ipairs({ "notes.body:text", "notes.other:content" }) do
    local res = commands.generate({ renames = { arg }, declared_renames = declared }, m, m)
    T.eq(res.status, 3, "status")
    T.check(res.text:find("--rename " .. arg, 1, true), "names the --rename: " .. res.text)
    T.check(res.text:find("schema/10_app.lua:3 (notes.body:content)", 1, true),
      "names the declaration: " .. res.text)
  end
  -- Two declarations contradicting each other.
  local two = { declared[1], { rename = "notes.body:text", where = "schema/20_more.lua:5" } }
  local res = commands.generate({ declared_renames = two }, m, m)
  T.eq(res.status, 3, "status")
  T.check(res.text:find("schema/20_more.lua:5", 1, true), "names both: " .. res.text)
end)

return T.done()
