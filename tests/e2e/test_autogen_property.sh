#!/usr/bin/env bash
# The migration generator's property test (tests/lua/autogen_property.lua): random pairs of
# schemas made with real DDL on a fresh SQLite file and a fresh PostgreSQL database, each
# pair proved both ways (upgrade from A gives B, downgrade gives A again). It runs inside a
# migration, which fails when a pair does; a failing pair names its seed, and
# RBACMIG_AUTOGEN_SEED=<seed> RBACMIG_AUTOGEN_PAIRS=1 runs it alone.
. "$(dirname "$0")/lib.sh"

new_db
# The grants in the cases name Supabase's API roles: made here, whatever ran before.
api_roles
mkdir -p lua
cp "$SRC/tests/lua/autogen_property.lua" lua/
extra=""
[ "$DIALECT" = sqlite ] && extra="transactional = false,"
migration a1 "" 'require("autogen_property")(db)' 'return' "$extra"
rb upgrade head
expect_rc 0 "the random pairs are proved on $DIALECT"
case "$ERR" in *" refused as needing a step by hand, 0 failed"*) pass ;; *) fail "the property test reports no failure" ;; esac
finish
