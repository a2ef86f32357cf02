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

# ---- drop_column takes the column's dependents with it, as PostgreSQL does ----------------
# The same migrations on both dialects must leave the same tables: columns, primary key,
# unique constraints, indexes, foreign keys and CHECK constraints (shape prints them).
shape() { # shape TABLE: one line describing the table, the same on both dialects
  if [ "$DIALECT" = postgresql ]; then
    sql "SELECT 'cols=' || (SELECT string_agg(attname, ',' ORDER BY attnum) FROM pg_attribute
           WHERE attrelid = '$1'::regclass AND attnum > 0 AND NOT attisdropped)
      || ' pk=' || coalesce((SELECT string_agg(a.attname, ',' ORDER BY k.ord) FROM pg_constraint c,
           unnest(c.conkey) WITH ORDINALITY AS k(n, ord), pg_attribute a WHERE c.conrelid = '$1'::regclass
           AND c.contype = 'p' AND a.attrelid = c.conrelid AND a.attnum = k.n), '')
      || ' unique=' || coalesce((SELECT string_agg(u, ' ' ORDER BY u) FROM (SELECT '(' || string_agg(a.attname,
           ',' ORDER BY k.ord) || ')' AS u FROM pg_constraint c, unnest(c.conkey) WITH ORDINALITY AS k(n, ord),
           pg_attribute a WHERE c.conrelid = '$1'::regclass AND c.contype = 'u' AND a.attrelid = c.conrelid
           AND a.attnum = k.n GROUP BY c.oid) AS x), '')
      || ' idx=' || coalesce((SELECT string_agg(i.relname, ',' ORDER BY i.relname) FROM pg_index x
           JOIN pg_class i ON i.oid = x.indexrelid WHERE x.indrelid = '$1'::regclass AND NOT EXISTS
           (SELECT 1 FROM pg_constraint c WHERE c.conindid = x.indexrelid AND c.conrelid = x.indrelid)), '')
      || ' fk=' || coalesce((SELECT string_agg(f, ' ' ORDER BY f) FROM (SELECT string_agg(a.attname, ','
           ORDER BY k.ord) || '->' || c.confrelid::regclass::text AS f FROM pg_constraint c,
           unnest(c.conkey) WITH ORDINALITY AS k(n, ord), pg_attribute a WHERE c.conrelid = '$1'::regclass
           AND c.contype = 'f' AND a.attrelid = c.conrelid AND a.attnum = k.n GROUP BY c.oid, c.confrelid) AS x), '')
      || ' checks=' || (SELECT count(*) FROM pg_constraint WHERE conrelid = '$1'::regclass AND contype = 'c')"
  else
    sql "SELECT 'cols=' || (SELECT group_concat(name, ',') FROM (SELECT name FROM pragma_table_info('$1') ORDER BY cid))
      || ' pk=' || coalesce((SELECT group_concat(name, ',') FROM (SELECT name FROM pragma_table_info('$1')
           WHERE pk > 0 ORDER BY pk)), '')
      || ' unique=' || coalesce((SELECT group_concat(u, ' ') FROM (SELECT '(' || (SELECT group_concat(name, ',')
           FROM (SELECT name FROM pragma_index_info(l.name) ORDER BY seqno)) || ')' AS u
           FROM pragma_index_list('$1') AS l WHERE l.origin = 'u' ORDER BY u)), '')
      || ' idx=' || coalesce((SELECT group_concat(name, ',') FROM (SELECT name FROM pragma_index_list('$1')
           WHERE origin = 'c' ORDER BY name)), '')
      || ' fk=' || coalesce((SELECT group_concat(f, ' ') FROM (SELECT group_concat(\"from\", ',') || '->' || \"table\" AS f
           FROM pragma_foreign_key_list('$1') GROUP BY id ORDER BY f)), '')
      || ' checks=' || (SELECT (length(sql) - length(replace(upper(sql), 'CHECK', ''))) / 5
           FROM sqlite_master WHERE type = 'table' AND name = '$1')"
  fi
}
new_db
mkdir -p dropcol/migrations
cat > dropcol/migrations/a.lua <<'LUA'
return { revision = "dc0000000001", upgrade = function(db)
  db:create_table("authors", {
    { "id", "integer", primary_key = true },
    { "name", "text", not_null = true },
    { "email", "text", unique = true },
    { "code", "text" },
    { "rank", "integer", check = "rank > 0" },
    { "lo", "integer" },
    { "hi", "integer" },
    { "nick", "text" },
  }, { unique = { { "name", "code" } }, checks = { { name = "lo_below_hi", expr = "lo < hi" } } })
  db:create_index("authors", { "nick" }, { name = "authors_nick" })
  db:create_index("authors", { "name", "nick" }, { name = "authors_name_nick" })
  db:create_index("authors", { db.fn.raw("lower(code)") }, { name = "authors_lower_code" })
  db:create_index("authors", { "name" }, { name = "authors_name_some", where = "hi > 0" })
  db:create_index("authors", { "name" }, { name = "authors_name" })
  db:create_table("books", {
    { "id", "integer", primary_key = true },
    { "author_id", "integer", references = "authors.id", on_delete = "cascade" },
    { "editor_id", "integer", references = "authors.id" },
    { "title", "text" },
  })
  db:create_table("pairs", { { "a", "integer" }, { "b", "integer" }, { "c", "text" } },
    { primary_key = { "a", "b" } })
  db:execute("INSERT INTO authors (id, name, email, code, rank, lo, hi, nick) VALUES "
    .. "(1, 'Ann', 'a@x', 'A', 1, 1, 2, 'an'), (2, 'Bob', 'b@x', 'B', 2, 1, 3, 'bo')")
  db:execute("INSERT INTO books (id, author_id, editor_id, title) VALUES (1, 1, 2, 'T1'), (2, 2, 1, 'T2')")
  db:execute("INSERT INTO pairs VALUES (1, 1, 'x'), (1, 2, 'y')")
end, downgrade = function(db) db:drop_table("books"); db:drop_table("authors"); db:drop_table("pairs") end }
LUA
cat > dropcol/migrations/b.lua <<'LUA'
return { revision = "dc0000000002", down_revision = "dc0000000001", upgrade = function(db)
  db:drop_column("authors", "email")   -- unique = true, in a table others reference
  db:drop_column("authors", "nick")    -- in two indexes
  db:drop_column("authors", "code")    -- in a composite unique constraint and an expression index
  db:drop_column("authors", "hi")      -- in a table CHECK and a partial index
  db:drop_column("authors", "rank")    -- its own CHECK
  db:drop_column("books", "editor_id") -- a foreign key
  db:drop_column("pairs", "b")         -- part of the primary key
end, downgrade = function() end }
LUA
( cd dropcol && "$RBACMIG" upgrade head >../dropcol.out 2>&1; echo $? >../dropcol.rc )
expect_eq "$(cat dropcol.rc)" 0 "drop_column of columns with dependents: $(cat dropcol.out)"
expect_eq "$(shape authors)" "cols=id,name,lo pk=id unique= idx=authors_name fk= checks=0" \
  "drop_column took the unique, check constraints and indexes with the columns"
expect_eq "$(shape books)" "cols=id,author_id,title pk=id unique= idx= fk=author_id->authors checks=0" \
  "drop_column took the foreign key with its column"
expect_eq "$(shape pairs)" "cols=a,c pk= unique= idx= fk= checks=0" \
  "drop_column of a primary key column drops the primary key"
expect_eq "$(sql "SELECT count(*) FROM authors") $(sql "SELECT count(*) FROM books") $(sql "SELECT count(*) FROM pairs")" \
  "2 2 2" "rows survive"
sql "DELETE FROM authors WHERE id = 1" >/dev/null
expect_eq "$(sql "SELECT count(*) FROM books")" 1 "ON DELETE CASCADE survives the rebuild"
sql "INSERT INTO pairs VALUES (1, 'x')" >/dev/null
expect_eq "$(sql "SELECT count(*) FROM pairs")" 3 "no key left on pairs"

# What PostgreSQL refuses without CASCADE is refused on both, naming what depends on it.
dropcol_refused() { # dropcol_refused LUA SQLITE_MESSAGE
  cat > dropcol/migrations/c.lua <<LUA
return { revision = "dc0000000003", down_revision = "dc0000000002", upgrade = function(db)
  $1
end, downgrade = function() end }
LUA
  ( cd dropcol && "$RBACMIG" upgrade head >../dropcol.out 2>&1; echo $? >../dropcol.rc )
  expect_eq "$(cat dropcol.rc)" 1 "refused: $1: $(cat dropcol.out)"
  if [ "$DIALECT" = sqlite ]; then
    check "refused with '$2': $(cat dropcol.out)" grep -qF "$2" dropcol.out
  fi
  expect_eq "$(shape authors)" "cols=id,name,lo pk=id unique= idx=authors_name fk= checks=0" \
    "a refused drop_column changes nothing: $1"
}
dropcol_refused 'db:drop_column("authors", "id")' \
  "drop_column: cannot drop column 'id' of table 'authors': table 'books' references it (author_id)"
dropcol_refused 'db:execute("CREATE VIEW author_names AS SELECT name FROM authors")
  db:drop_column("authors", "name")' \
  "drop_column: cannot drop column 'name' of table 'authors': view 'author_names' uses it"
dropcol_refused 'db:execute("CREATE TABLE g (a integer, b integer GENERATED ALWAYS AS (a * 2) STORED)")
  db:drop_column("g", "a")' \
  "drop_column: cannot drop column 'a' of table 'g': generated column 'b' uses it"
dropcol_refused 'db:execute("CREATE TABLE u (id integer PRIMARY KEY, code text UNIQUE)")
  db:execute("CREATE VIEW u_codes AS SELECT code FROM u")
  db:drop_column("u", "code")' \
  "drop_column: cannot drop column 'code' of table 'u': view 'u_codes' uses it"
if [ "$DIALECT" = sqlite ]; then
  # A trigger, through the rebuild (code is UNIQUE) and through SQLite's own DROP COLUMN.
  dropcol_refused 'db:execute("CREATE TABLE u (id integer PRIMARY KEY, code text UNIQUE, n integer)")
  db:execute("CREATE TRIGGER u_log AFTER INSERT ON u BEGIN SELECT new.code, new.n; END")
  db:drop_column("u", "code")' \
    "drop_column: cannot drop column 'code' of table 'u': trigger 'u_log' uses it"
  dropcol_refused 'db:execute("CREATE TABLE u (id integer PRIMARY KEY, code text UNIQUE, n integer)")
  db:execute("CREATE TRIGGER u_log AFTER INSERT ON u BEGIN SELECT new.code, new.n; END")
  db:drop_column("u", "n")' \
    "drop_column: cannot drop column 'n' of table 'u': trigger 'u_log' uses it"
fi
rm dropcol/migrations/c.lua

# A rebuild of a table others reference runs the whole migration with foreign keys off on
# SQLite, so ON DELETE actions do not fire in it: the error says so and how to split it.
cat > dropcol/migrations/c.lua <<'LUA'
return { revision = "dc0000000003", down_revision = "dc0000000002", upgrade = function(db)
  db:add_column("authors", { "email", "text" })
  db:create_unique_constraint("authors", "authors_email_key", { "email" })
  db:execute("DELETE FROM authors WHERE id = 2")
  db:drop_column("authors", "email")
end, downgrade = function() end }
LUA
( cd dropcol && "$RBACMIG" upgrade head >../dropcol.out 2>&1; echo $? >../dropcol.rc )
if [ "$DIALECT" = postgresql ]; then
  expect_eq "$(cat dropcol.rc)" 0 "a delete cascading before a drop_column: $(cat dropcol.out)"
  expect_eq "$(sql "SELECT count(*) FROM books")" 0 "the cascade fired"
else
  expect_eq "$(cat dropcol.rc)" 1 "a delete relying on a cascade next to a rebuild of the parent"
  check "the error says foreign keys were off and how to split: $(cat dropcol.out)" \
    grep -qF "foreign keys are off in this migration" dropcol.out
  check "it names the operation to move: $(cat dropcol.out)" \
    grep -qF "put the operations that rebuild 'authors' in a migration of their own" dropcol.out
  expect_eq "$(sql "SELECT count(*) FROM books")" 1 "nothing of it was committed"
fi
# The same with the delete after the rebuild: the runner's foreign key check before the
# commit finds the rows the cascade would have deleted.
cat > dropcol/migrations/c.lua <<'LUA'
return { revision = "dc0000000003", down_revision = "dc0000000002", upgrade = function(db)
  db:add_column("authors", { "email", "text" })
  db:create_unique_constraint("authors", "authors_email_key", { "email" })
  db:drop_column("authors", "email")
  db:execute("DELETE FROM authors WHERE id = 2")
end, downgrade = function() end }
LUA
if [ "$DIALECT" = sqlite ]; then
  ( cd dropcol && "$RBACMIG" upgrade head >../dropcol.out 2>&1; echo $? >../dropcol.rc )
  expect_eq "$(cat dropcol.rc)" 1 "a delete relying on a cascade after a rebuild of the parent"
  check "the error names the rows left: $(cat dropcol.out)" grep -qF "violating foreign keys" dropcol.out
  check "the error says foreign keys were off and how to split: $(cat dropcol.out)" grep -qF "in a migration of their own" dropcol.out
  expect_eq "$(sql "SELECT count(*) FROM books") $(sql "SELECT count(*) FROM authors")" "1 1" \
    "nothing of it was committed"
fi
rm dropcol/migrations/c.lua
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
