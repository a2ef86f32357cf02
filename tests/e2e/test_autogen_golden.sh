#!/usr/bin/env bash
# The migration generator's golden tests (tests/lua/autogen_live.lua) against a real
# database: the suite runs inside a migration, where it has the live `db`, on a fresh SQLite
# file and a fresh PostgreSQL database. Each case builds its "from" and "to" schemas with real
# DDL, reads them with the schema reader, checks the generated text, and proves the upgrade
# and the downgrade on the database (zero differences each way). The migration raises when a
# case fails, so the upgrade's exit code is the suite's verdict.
. "$(dirname "$0")/lib.sh"

new_db
# Supabase as it is: the API roles, and default privileges that give them everything
# `postgres` creates in public (tables, sequences, functions); the cases must hold there.
supabase_fixture
mkdir -p lua
cp "$SRC/tests/lua/harness.lua" "$SRC/tests/lua/autogen_live.lua" lua/
# On SQLite the table rebuild wants foreign keys off, which only a migration outside a
# transaction can switch (each case is a savepoint of its own).
extra=""
[ "$DIALECT" = sqlite ] && extra="transactional = false,"
migration a1 "" 'require("autogen_live")(db)' 'return' "$extra"
rb upgrade head
expect_rc 0 "the golden cases pass on $DIALECT"
case "$ERR" in *" passed, 0 failed"*) pass ;; *) fail "the suite reports no failure" ;; esac
finish
