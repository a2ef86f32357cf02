#!/usr/bin/env bash
# `renamed_from` in a declaration (docs/autogenerate.md, "Renames and drops"): a column
# declared with renamed_from = "old" (in create_table's column list, or on add_column) and a
# table declared with { renamed_from = "old" } give a migration that renames, with no
# refusal, and the rows stay after `upgrade head`. Left in place after the upgrade it does
# nothing: "No changes in schema detected." It merges with --rename (the same rename said
# twice is one), and a --rename that contradicts it is one usage error (exit 2) naming both.
# A bad value is one error naming the declaration file and line (exit 1). In a migration,
# renamed_from is refused (it means nothing there: rename_column does it), and the database
# is left as it was.
. "$(dirname "$0")/lib.sh"

export TMPDIR="$TEST_DIR/tmp"
mkdir -p "$TMPDIR"
new_db

migration_count() { ls migrations/*.lua | wc -l; }
# declare BODY: schema/10_app.lua is `return function(db) BODY end`.
declare_schema() {
  mkdir -p schema
  printf 'return function(db)\n%s\nend\n' "$1" > schema/10_app.lua
}

rb init
expect_rc 0 "init"
cat > migrations/aaaa00000001_notes.lua <<'LUA'
return {
  revision = "aaaa00000001",
  down_revision = nil,
  upgrade = function(db)
    db:create_table("notes", {
      { "id", "integer", primary_key = true },
      { "body", "text", not_null = true, default = "" },
    })
    db:create_index("notes", { "body" })
  end,
  downgrade = function(db) db:drop_table("notes") end,
}
LUA
rb upgrade head
expect_rc 0 "upgrade head"
sql "INSERT INTO notes (id, body) VALUES (1, 'hello')" >/dev/null

# ---- a column: renamed_from in create_table's column list -------------------------------------
declare_schema '  db:create_table("notes", {
    { "id", "integer", primary_key = true },
    { "content", "text", not_null = true, default = "", renamed_from = "body" },
  })
  db:create_index("notes", { "content" }, { name = "notes_body_idx" })'
before=$(migration_count)
rb revision --autogenerate -m "content"
expect_rc 0 "renamed_from on a column: a migration, no refusal"
expect_eq "$(migration_count)" "$((before + 1))" "one file written"
check "rename_column in the upgrade" grep -q 'db:rename_column("notes", "body", "content")' "$OUT"
check "and back in the downgrade" grep -q 'db:rename_column("notes", "content", "body")' "$OUT"
check "no column dropped" sh -c "! grep -q 'drop_column' '$OUT'"
rb upgrade head
expect_rc 0 "upgrade head renames the column"
expect_eq "$(sql "SELECT content FROM notes WHERE id = 1")" hello "the row is kept"

# Left in place: the column it names no longer exists at head, so it does nothing.
rb revision --autogenerate -m "again"
expect_rc 0 "renamed_from left in place after the upgrade"
expect_out "No changes in schema detected." "no changes"
rb check
expect_rc 0 "check: the declarations with renamed_from equal head"

# ---- a table: { renamed_from = "old" } ---------------------------------------------------------
declare_schema '  db:create_table("memos", {
    { "id", "integer", primary_key = true },
    { "content", "text", not_null = true, default = "", renamed_from = "body" },
  }, { renamed_from = "notes" })
  db:create_index("memos", { "content" }, { name = "notes_body_idx" })'
rb revision --autogenerate -m "memos"
expect_rc 0 "renamed_from on a table: a migration, no refusal"
check "rename_table in the upgrade" grep -q 'db:rename_table("notes", "memos")' "$OUT"
check "no table dropped" sh -c "! grep -q 'drop_table' '$OUT'"
rb upgrade head
expect_rc 0 "upgrade head renames the table"
expect_eq "$(sql "SELECT content FROM memos WHERE id = 1")" hello "the table's rows are kept"
rb revision --autogenerate -m "again"
expect_out "No changes in schema detected." "the table's renamed_from left in place: no changes"

# ---- a column: renamed_from on add_column, said again by --rename --------------------------------
declare_schema '  db:create_table("memos", {
    { "id", "integer", primary_key = true },
  }, { renamed_from = "notes" })
  db:add_column("memos", { "text", "text", not_null = true, default = "", renamed_from = "content" })
  db:create_index("memos", { "text" }, { name = "notes_body_idx" })'
# The same rename on the command line too: one rename, no conflict.
rb revision --autogenerate -m "text" --rename memos.content:text
expect_rc 0 "renamed_from on add_column, with the same --rename"
check "rename_column in the upgrade" grep -q 'db:rename_column("memos", "content", "text")' "$OUT"
check "once" test "$(grep -c 'db:rename_column("memos", "content", "text")' "$OUT")" = 1
rb upgrade head
expect_rc 0 "upgrade head"
expect_eq "$(sql "SELECT text FROM memos WHERE id = 1")" hello "the row is kept"

# ---- a conflict with --rename: one usage error naming both -------------------------------------
declare_schema '  db:create_table("memos", {
    { "id", "integer", primary_key = true },
    { "title", "text", not_null = true, default = "", renamed_from = "text" },
  })
  db:create_index("memos", { "title" }, { name = "notes_body_idx" })'
before=$(migration_count)
rb revision --autogenerate -m "title" --rename memos.text:heading
expect_rc 2 "--rename contradicting renamed_from"
expect_one_error_line "the conflict"
expect_err_has "--rename memos.text:heading" "names the --rename"
expect_err_has "schema/10_app.lua:2" "and the declaration's file and line"
expect_eq "$(migration_count)" "$before" "nothing written"
rb revision --autogenerate -m "title" --rename memos.other:title
expect_rc 2 "--rename to the same new name from another column"
expect_err_has "schema/10_app.lua:2" "names the declaration"

# ---- bad values: one error naming the declaration file and line ------------------------------
declare_schema '  db:create_table("memos", {
    { "id", "integer", primary_key = true },
    { "title", "text", renamed_from = 42 },
  })'
rb revision --autogenerate -m "bad"
expect_rc 1 "renamed_from = 42"
expect_one_error_line "renamed_from = 42"
expect_err_has "schema/10_app.lua:2:" "names the declaration file and line"
expect_err_has "renamed_from" "and the option"
declare_schema '  db:create_table("memos", {
    { "id", "integer", primary_key = true },
  }, { renamed_from = "app.notes" })'
rb revision --autogenerate -m "bad"
expect_rc 1 "renamed_from = \"app.notes\""
expect_one_error_line "renamed_from = \"app.notes\""
expect_err_has "schema/10_app.lua:2:" "names the declaration file and line"
expect_err_has "'app.notes'" "and the value"
expect_eq "$(migration_count)" "$before" "nothing written"

# ---- in a migration: refused, the database left as it was ---------------------------------------
cat > migrations/bbbb00000001_bad.lua <<LUA
return {
  revision = "bbbb00000001",
  down_revision = "$(sed -n 's/^  *revision = "\([0-9a-f]*\)".*/\1/p' migrations/*.lua | while read -r r; do grep -q "down_revision = \"$r\"" migrations/*.lua || echo "$r"; done)",
  upgrade = function(db)
    db:add_column("memos", { "title", "text", renamed_from = "text" })
  end,
  downgrade = function(db) db:drop_column("memos", "title") end,
}
LUA
rb upgrade head
expect_rc 1 "renamed_from in a migration"
expect_one_error_line "renamed_from in a migration"
expect_err_has "bbbb00000001_bad.lua:5:" "names the migration's line"
expect_err_has "renamed_from" "names the option"
expect_err_has "rename_column" "and what a migration says instead"
expect_eq "$(sql "SELECT text FROM memos WHERE id = 1")" hello "the database is as it was"
rb current
expect_not_in_output "bbbb00000001" "the migration is not applied"

finish
