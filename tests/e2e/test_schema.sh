#!/usr/bin/env bash
# The portable schema API through the real binary, on PostgreSQL and SQLite: every
# operation, a SQLite rebuild that keeps rows, indexes and foreign keys, bulk_insert of
# 100,000 rows, validation errors, and the same migrations in --sql mode.
. "$(dirname "$0")/lib.sh"
new_db
mkdir -p migrations

write() { # write ID PARENT UP DOWN
  local parent=nil
  [ -n "$2" ] && parent="\"$2\""
  cat > "migrations/$1_m.lua" <<LUA
return {
  revision = "$1", down_revision = $parent, message = "schema $1",
  upgrade = function(db)
$3
  end,
  downgrade = function(db)
$4
  end,
}
LUA
}

write aaaa00000001 "" '
    db:create_table("authors", {
      { "id", "bigserial", primary_key = true },
      { "name", "text", not_null = true },
      { "email", "varchar(200)", unique = true },
      { "joined", "timestamptz", default = db.fn.now() },
      { "active", "boolean", default = true },
      { "uid", "uuid", default = db.fn.uuid() },
    })
    db:create_table("books", {
      { "id", "bigserial", primary_key = true },
      { "author_id", "bigint", not_null = true, references = "authors.id", on_delete = "cascade" },
      { "title", "text", not_null = true, default = "untitled" },
      { "price", "numeric(10,2)", check = "price >= 0" },
    }, { if_not_exists = true, unique = { { "author_id", "title" } } })
    db:create_index("books", { "author_id", "title" }, { name = "books_author_title" })
    db:create_index("authors", { db.fn.raw("lower(name)") }, { name = "authors_lower_name", where = "active" })' '
    db:drop_table("books")
    db:drop_table("authors")'

write aaaa00000002 aaaa00000001 '
    db:execute("INSERT INTO authors (name, email) VALUES ($1, $2)", "Ursula", "u@example.com")
    db:execute("INSERT INTO books (author_id, title, price) VALUES (1, $1, 9.5)", "The Dispossessed")
    db:add_column("books", { "isbn", "varchar(20)" })
    db:rename_column("books", "title", "name")
    db:alter_column("books", "name", { type = "varchar(300)", nullable = false })
    db:create_unique_constraint("books", "books_isbn_key", { "isbn" })
    db:create_check_constraint("books", "books_name_nonempty", "length(name) > 0")' '
    db:drop_constraint("books", "books_name_nonempty")
    db:drop_constraint("books", "books_isbn_key")
    db:alter_column("books", "name", { type = "text" })
    db:rename_column("books", "name", "title")
    db:drop_column("books", "isbn")
    db:execute("DELETE FROM books")
    db:execute("DELETE FROM authors")'

write aaaa00000003 aaaa00000002 '
    local rows = {}
    for i = 1, 100000 do rows[i] = { n = i, label = "row " .. i } end
    db:create_table("bulk", { { "n", "integer", primary_key = true }, { "label", "text" } })
    local t = os.clock()
    assert(db:bulk_insert("bulk", rows) == 100000)
    print(string.format("bulk_insert of 100,000 rows: %.0f ms of CPU", (os.clock() - t) * 1000))
    db:rename_table("bulk", "bulk2")' '
    db:drop_table("bulk2", { if_exists = true })'

rb upgrade head
expect_rc 0 "schema migrations upgrade"
echo "$ERR" | grep "bulk_insert" || true
check "authors created" table_exists authors
expect_eq "$(sql "SELECT title FROM books" 2>/dev/null)" "" "title was renamed"
expect_eq "$(sql "SELECT name FROM books")" "The Dispossessed" "rows survive add/rename/alter/constraints"
expect_eq "$(sql "SELECT count(*) FROM bulk2")" 100000 "bulk_insert 100,000 rows"
expect_eq "$(sql "SELECT active FROM authors")" "$([ "$DIALECT" = postgresql ] && echo t || echo 1)" "boolean default"
expect_eq "$(sql "SELECT length(CAST(uid AS text)) FROM authors")" 36 "uuid default"
# The SQLite rebuild kept the foreign key, its cascade, the check, the unique and the indexes.
rb downgrade aaaa00000002
check "insert violating the check fails" test "$(sql "INSERT INTO books (author_id, name) VALUES (1, '')" 2>&1 | grep -ci 'constraint\|check')" -ge 1
check "insert violating the foreign key fails" test "$(sql "INSERT INTO books (author_id, name) VALUES (999, 'x')" 2>&1 | grep -ci 'foreign\|constraint')" -ge 1
sql "INSERT INTO books (author_id, name, isbn) VALUES (1, 'Other', 'i1')" >/dev/null
check "unique constraint kept" test "$(sql "INSERT INTO books (author_id, name, isbn) VALUES (1, 'Third', 'i1')" 2>&1 | grep -ci 'unique\|duplicate')" -ge 1
if [ "$DIALECT" = sqlite ]; then
  expect_eq "$(sql "SELECT count(*) FROM sqlite_master WHERE type = 'index' AND name = 'books_author_title'")" 1 "index kept by the rebuild"
  sql "DELETE FROM authors" >/dev/null
  expect_eq "$(sql "SELECT count(*) FROM books")" 0 "ON DELETE CASCADE kept by the rebuild"
else
  sql "DELETE FROM authors" >/dev/null
  expect_eq "$(sql "SELECT count(*) FROM books")" 0 "ON DELETE CASCADE"
fi
rb downgrade base
expect_rc 0 "schema migrations downgrade"
check "everything dropped" test "$(table_exists authors && echo yes)" != yes

# ---- PostgreSQL-only operations --------------------------------------------------------
if [ "$DIALECT" = postgresql ]; then
  write aaaa00000004 aaaa00000003 '
    db:create_schema("audit", { if_not_exists = true })
    db:create_extension("citext", { if_not_exists = true })
    db:create_table("docs", { { "id", "serial", primary_key = true }, { "owner", "text" }, { "updated_at", "timestamptz" } })
    db:enable_rls("docs", { force = true })
    db:create_policy("docs", "docs_owner", { command = "select", to = "public", using = "owner = current_user" })
    db:create_function("touch", { returns = "trigger", language = "plpgsql", body = "BEGIN NEW.updated_at := now(); RETURN NEW; END" })
    db:create_trigger("docs", "docs_touch", { timing = "before", events = "update", for_each = "row", execute = "touch" })
    db:revoke("all", "docs", "public")
    db:grant("select", "docs", "public")' '
    db:drop_trigger("docs", "docs_touch")
    db:drop_function("touch")
    db:drop_policy("docs", "docs_owner")
    db:drop_table("docs")
    db:drop_extension("citext")
    db:drop_schema("audit")'
  rb upgrade head
  expect_rc 0 "PostgreSQL-only operations"
  expect_eq "$(sql "SELECT count(*) FROM pg_policies WHERE policyname = 'docs_owner'")" 1 "policy created"
  expect_eq "$(sql "SELECT relrowsecurity AND relforcerowsecurity FROM pg_class WHERE relname = 'docs'")" t "RLS forced"
  expect_eq "$(sql "SELECT count(*) FROM pg_trigger WHERE tgname = 'docs_touch'")" 1 "trigger created"
  expect_eq "$(sql "SELECT count(*) FROM pg_namespace WHERE nspname = 'audit'")" 1 "schema created"
  rb downgrade aaaa00000003
  expect_rc 0 "PostgreSQL-only operations downgrade"
  expect_eq "$(sql "SELECT count(*) FROM pg_namespace WHERE nspname = 'audit'")" 0 "schema dropped"
  rm migrations/aaaa00000004_m.lua
else
  write aaaa00000004 aaaa00000003 '    db:enable_rls("x")' ''
  rb upgrade head
  expect_rc 1 "a PostgreSQL-only operation on SQLite"
  expect_err_has "enable_rls is not supported on sqlite" "says it is not supported"
  expect_err_has "aaaa00000004_m.lua:4" "names the migration line"
  rm migrations/aaaa00000004_m.lua
fi

# ---- altering a table other tables reference (SQLite: a rebuild with foreign keys off) ---
write aaaa00000005 aaaa00000003 '
    db:execute("INSERT INTO authors (name, email) VALUES ($1, $2)", "Octavia", "o@example.com")
    db:execute("INSERT INTO books (author_id, name) SELECT id, $1 FROM authors WHERE email = $2", "Kindred", "o@example.com")
    db:alter_column("authors", "name", { type = "varchar(100)" })' '
    db:execute("DELETE FROM authors")'
rb upgrade head
expect_rc 0 "alter a referenced table"
expect_eq "$(sql "SELECT count(*) FROM books WHERE name = 'Kindred'")" 1 "child rows survive the parent's rebuild"
check "the foreign key still holds" test "$(sql "INSERT INTO books (author_id, name) VALUES (999, 'x')" 2>&1 | grep -ci 'foreign\|constraint')" -ge 1
rb downgrade aaaa00000003
expect_rc 0 "a downgrade relying on ON DELETE CASCADE"
expect_eq "$(sql "SELECT count(*) FROM books")" 0 "the cascade fired inside the migration"
rm migrations/aaaa00000005_m.lua
rb downgrade base
expect_rc 0 "back to base"

# ---- bulk_insert round-trips awkward values (COPY on PostgreSQL, INSERT on SQLite) ---------
new_db
mkdir -p tricky/migrations
cat > tricky/migrations/a.lua <<'LUA'
return { revision = "aaaa00000001", upgrade = function(db)
  db:create_table("tricky", { { "id", "integer", primary_key = true }, { "s", "text" }, { "b", "boolean" }, { "f", "double" } })
  db:bulk_insert("tricky", {
    { id = 1, s = "tab\there", b = true, f = 1.5 },
    { id = 2, s = "new\nline\r\nand back\\slash \\N", b = false, f = -0.25 },
    { id = 3, b = true },
    { id = 4, s = "ünïcødé ✓ 'quoted' \"double\"", f = 1e300 },
  }, { columns = { "id", "s", "b", "f" } })
end, downgrade = function(db) db:drop_table("tricky") end }
LUA
( cd tricky && "$RBACMIG" upgrade head >../tricky.out 2>&1 )
check "bulk_insert of awkward values: $(cat tricky.out)" test "$(sql "SELECT count(*) FROM tricky")" = 4
expect_eq "$(sql "SELECT s = 'tab' || char(9) || 'here' FROM tricky WHERE id = 1" 2>/dev/null || sql "SELECT s = E'tab\\there' FROM tricky WHERE id = 1")" "$([ "$DIALECT" = postgresql ] && echo t || echo 1)" "a tab survives"
expect_eq "$(sql "SELECT length(s) FROM tricky WHERE id = 2")" 27 "newlines, CR and backslashes survive"
expect_eq "$(sql "SELECT s IS NULL FROM tricky WHERE id = 3")" "$([ "$DIALECT" = postgresql ] && echo t || echo 1)" "a missing key is NULL"
expect_eq "$(sql "SELECT s FROM tricky WHERE id = 4")" "ünïcødé ✓ 'quoted' \"double\"" "unicode and quotes survive"
cat > tricky/migrations/b.lua <<'LUA'
return { revision = "aaaa00000002", down_revision = "aaaa00000001", upgrade = function(db)
  db:execute("INSERT INTO tricky (id, s) VALUES (100, 'marker')")
  db:bulk_insert("tricky", { { id = 5, s = "ok" }, { id = 1, s = "duplicate key" } })
end, downgrade = function() end }
LUA
( cd tricky && "$RBACMIG" upgrade head >../tricky2.out 2>&1; echo $? >../tricky2.rc )
expect_eq "$(cat tricky2.rc)" 1 "a failing bulk_insert fails the migration"
check "its error names the migration line: $(head -2 tricky2.out)" grep -q "migrations/b.lua:3" tricky2.out
expect_eq "$(sql "SELECT count(*) FROM tricky WHERE id IN (5, 100)")" 0 "and rolls everything back"

# The same on a fresh database, where the first step also creates rbacmig's own tables.
new_db
mkdir -p fresh/migrations
cat > fresh/migrations/a.lua <<'LUA'
return { revision = "aaaa00000001", upgrade = function(db)
  db:create_table("p", { { "id", "integer", primary_key = true }, { "name", "text" } })
  db:create_table("c", { { "id", "integer", primary_key = true }, { "p_id", "integer", references = "p.id", on_delete = "cascade" } })
  db:exec("INSERT INTO p VALUES (1, 'x')"); db:exec("INSERT INTO c VALUES (1, 1)")
  db:alter_column("p", "name", { type = "varchar(10)" })
end, downgrade = function(db) db:drop_table("c"); db:drop_table("p") end }
LUA
( cd fresh && "$RBACMIG" upgrade head >../fresh.out 2>&1 )
check "rebuild of a referenced table in the first migration: $(cat fresh.out)" test "$(sql 'SELECT p_id FROM c')" = 1
new_db

# ---- validation errors: named operation and argument, nothing sent ----------------------
bad_op() { # bad_op LUA EXPECTED
  write bbbb00000001 aaaa00000003 "    db:create_table(\"keep_out\", { { \"id\", \"integer\" } })
    $1" ''
  rb upgrade head
  expect_rc 1 "bad call: $1"
  expect_err_has "$2" "bad call names the problem: $1"
  check "bad call left nothing: $1" test "$(table_exists keep_out && echo yes)" != yes
  rm migrations/bbbb00000001_m.lua
}
bad_op 'db:create_table("t", { { "id", "integr" } })' "integr"
bad_op 'db:create_table("t", { { nil, "integer" } })' "create_table"
bad_op 'db:create_table("t", { { "id", "integer", primary = true } })' "primary"
bad_op 'db:add_column("t", { "c", "text" }, { if_not_exist = true })' "if_not_exist"
bad_op 'db:create_index("t", {})' "create_index"
bad_op 'db:bulk_insert("t", { { a = {} } })' "bulk_insert"

# ---- --sql mode emits what the online run executes ----------------------------------------
new_db
rm -f migrations/aaaa00000003_m.lua
rb upgrade --sql head
if [ "$DIALECT" = postgresql ]; then
  expect_rc 0 "schema API in --sql mode"
  expect_out_has "CREATE TABLE" "--sql has the DDL"
  printf '%s\n' "$OUT" > schema.sql
  "$PSQL" -X -q -v ON_ERROR_STOP=1 -d "$DB_URL" -f schema.sql >/dev/null 2>psql.err
  check "--sql output applies: $(cat psql.err 2>/dev/null)" test ! -s psql.err
else
  # The SQLite rebuild reads the live table definition, so offline it is refused, clearly.
  expect_rc 1 "alter_column on SQLite in --sql mode"
  expect_err_has "alter_column is not supported on sqlite in --sql mode" "offline rebuild refused clearly"
fi

finish
