#!/usr/bin/env bash
# Which schemas the reader compares is configuration: `managed_schemas` in rbacmig.lua, and
# `--schema NAME` (repeatable) over it. A project with two schemas where only `app` is
# managed: `schema dump` shows only app; `drift` ignores edits in public and reports those in
# app; `--schema public` overrides the file. Bad values are one error naming the file and the
# key (exit 1, as every config file error); a named schema the database lacks is an error too
# (a typo would otherwise read as an empty dump, or "no drift" forever). SQLite has no
# schemas: there the setting is accepted and has no effect.
. "$(dirname "$0")/lib.sh"

export TMPDIR="$TEST_DIR/tmp"
mkdir -p "$TMPDIR"
new_db

# bad_config LUA MESSAGE: rbacmig.lua returning LUA is refused with MESSAGE, exit 1.
bad_config() {
  printf 'return { %s }\n' "$1" > rbacmig.lua
  rb schema dump
  expect_rc 1 "$1: exit 1"
  expect_err_has "rbacmig: error: rbacmig.lua: $2" "$1: the file and the key"
  expect_one_error_line "$1"
}
bad_config 'managed_schemas = 5' "'managed_schemas' is a number, expected a list of schema names"
bad_config 'managed_schemas = { "app", 3 }' "managed_schemas[2] is a number, expected a string"
bad_config 'managed_schemas = {}' "'managed_schemas' is an empty list"
bad_config 'managed_schemas = { app = true }' "'managed_schemas' has keys besides its list"
bad_config 'managed_schemas = { "app", "app" }' "managed_schemas names 'app' twice"
bad_config 'managed_schemas = { "" }' "'managed_schemas' is empty"
bad_config 'test_dialects = { "mysql" }' "test_dialects names 'mysql'"
rm -f rbacmig.lua

if [ "$DIALECT" = sqlite ]; then
  migration aaaa00000001 "" 'db:create_table("t", {{"id", "integer", primary_key = true}})' \
    'db:drop_table("t")'
  rb upgrade head
  expect_rc 0 "upgrade head"
  echo 'return { managed_schemas = { "app" } }' > rbacmig.lua
  rb schema dump
  expect_rc 0 "SQLite: managed_schemas is accepted"
  expect_out_has "table t" "SQLite has no schemas: the setting does not narrow the dump"
  finish
  exit
fi

# Two schemas, both made by the migrations: app (managed) and public (not).
migration aaaa00000001 "" \
  'db:exec("CREATE SCHEMA app")
    db:exec("CREATE TABLE app.items (id integer PRIMARY KEY)")
    db:exec("CREATE TABLE public.things (id integer PRIMARY KEY)")' \
  'db:exec("DROP TABLE public.things")
    db:exec("DROP SCHEMA app CASCADE")'
rm -f rbacmig.lua
rb upgrade head
expect_rc 0 "upgrade head"

echo 'return { managed_schemas = { "app" } }' > rbacmig.lua
rb schema dump
expect_rc 0 "schema dump with managed_schemas"
expect_out_has "table app.items" "the managed schema is dumped"
expect_not_in_output "public" "the unmanaged one is not"
rb schema dump --format json
expect_eq "$(jq -c .schemas <<<"$OUT")" '["app"]' "the JSON names the managed schemas"

rb schema dump --schema public
expect_rc 0 "--schema over the config file"
expect_out_has "table public.things" "--schema public: public is dumped"
expect_not_in_output "app.items" "--schema public: app is not"
rb schema dump --schema public --schema app
expect_out_has "table public.things" "--schema twice: public"
expect_out_has "table app.items" "--schema twice: app"

# Edits in the unmanaged schema: no drift; the same edits are drift once public is managed.
sql "ALTER TABLE public.things ADD COLUMN note text; CREATE TABLE public.extra (id integer)" >/dev/null
rb drift
expect_rc 0 "drift ignores edits in an unmanaged schema"
expect_out "no differences" "nothing to report in app"
shadow_gone "drift with managed_schemas"
rb drift --schema public
expect_rc 4 "--schema public: the edits in public are drift"
expect_out_has "column public.things.note: added" "names the added column"
expect_out_has "table public.extra: added" "names the added table"
expect_not_in_output "app.items" "--schema public leaves app out"
sql "ALTER TABLE app.items ADD COLUMN note text" >/dev/null
rb drift
expect_rc 4 "an edit in the managed schema is drift"
expect_out "neutral            column app.items.note: added
1 difference: 0 security-weakening, 0 destructive, 1 neutral" "only the managed schema's edit"

# A named schema the database lacks: an error naming where it was named.
echo 'return { managed_schemas = { "app", "ap" } }' > rbacmig.lua
rb schema dump
expect_rc 1 "a managed schema the database lacks"
expect_err_has "rbacmig: error: rbacmig.lua: managed_schemas names schema 'ap', which the database does not have" \
  "names the file, the key and the schema"
expect_one_error_line "a missing managed schema"
rb drift
expect_rc 1 "drift: a managed schema neither database has"
expect_err_has "rbacmig.lua: managed_schemas names schema 'ap', which neither database has" \
  "drift names it too"
shadow_gone "drift that failed"
rb schema dump --schema nope
expect_rc 1 "a --schema the database lacks"
expect_err_has "rbacmig: error: --schema names schema 'nope', which the database does not have" \
  "names the option"

# test replays into shadows that start empty: a schema the migrations make is fine there.
echo 'return { managed_schemas = { "app" } }' > rbacmig.lua
rb test
expect_rc 0 "test with managed_schemas"
expect_out_has "ok 6 - downgrade aaaa00000001 leaves no trace" "the stairway compares app"

finish
