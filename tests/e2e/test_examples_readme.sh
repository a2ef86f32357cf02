#!/usr/bin/env bash
# The examples' READMEs run as written. Every fenced ```sh block preceded by a marker line
#
#   <!-- test: sqlite postgresql [supabase] [exit=N] -->
#
# is a test: it runs with `bash -e -o pipefail` in a copy of the example's directory, with
# `rbacmig` on PATH and DATABASE_URL set to a fresh test database, on the dialects it names
# (`supabase`: PostgreSQL made to look like Supabase by tests/pgtap/00_supabase_fixture.sql,
# with users signed up), and must exit 0 (or N). The blocks of a README run in order on one
# database; after them this script checks what they left. An unmarked block is not run.
. "$(dirname "$0")/lib.sh"

mkdir -p "$TEST_DIR/bin"
ln -s "$RBACMIG" "$TEST_DIR/bin/rbacmig"
export PATH="$TEST_DIR/bin:$PATH"
ada=123e4567-e89b-42d3-a456-426614174000
bob=223e4567-e89b-42d3-a456-426614174000

# extract README OUTDIR: writes OUTDIR/N.sh and OUTDIR/N.tag for each marked block, in order;
# prints how many.
extract() {
  mkdir -p "$2"
  awk -v out="$2" '
    /^<!-- test:.*-->$/ { tag = $0; sub(/^<!-- test:[ ]*/, "", tag); sub(/[ ]*-->$/, "", tag); armed = 1; next }
    armed && /^```sh$/ { n++; printf "%s\n", tag > (out "/" n ".tag"); inblock = 1; armed = 0; next }
    inblock && /^```$/ { inblock = 0; close(out "/" n ".sh"); next }
    inblock { print > (out "/" n ".sh"); next }
    { armed = 0 }
    END { print n + 0 }
  ' "$1"
}

# applies TAG: whether a block so marked runs on this dialect.
applies() {
  local w
  for w in $1; do
    case "$w" in
      "$DIALECT") return 0 ;;
      supabase) [ "$DIALECT" = postgresql ] && return 0 ;;
    esac
  done
  return 1
}

# run_blocks README BLOCKDIR LABEL: runs each marked block that applies, in the working
# directory; BLOCK_OUT[N] keeps each block's stdout.
declare -a BLOCK_OUT
run_blocks() {
  local n i tag want rc
  n=$(extract "$1" "$2")
  BLOCKS=$n
  for ((i = 1; i <= n; i++)); do
    tag=$(cat "$2/$i.tag")
    applies "$tag" || continue
    want=0
    case " $tag " in *" exit="*) want=$(printf '%s\n' "$tag" | sed 's/.*exit=\([0-9]*\).*/\1/') ;; esac
    BLOCK_OUT[$i]=$(bash -e -o pipefail "$2/$i.sh" 2>"$TEST_DIR/.block-stderr")
    rc=$?
    if [ "$rc" = "$want" ]; then
      pass
    else
      RC=$rc OUT=${BLOCK_OUT[$i]} ERR=$(cat "$TEST_DIR/.block-stderr")
      fail "$3: block $i ($tag) exited $rc, expected $want: $(head -c 300 "$2/$i.sh")"
    fi
  done
}

# ---- examples/saas ----------------------------------------------------------------------
new_db
cp -r "$SRC/examples/saas" saas
for f in "$SRC"/migrations/*.lua; do
  check "saas: $(basename "$f") is the shipped file" cmp -s "$f" "saas/migrations/$(basename "$f")"
done
cd saas || exit 1
run_blocks README.md "$TEST_DIR/saas-blocks" saas
expect_eq "$BLOCKS" 3 "saas: three marked blocks"
cd .. || exit 1
# The last block went down to base; the database state is checked by running the first two
# again on a fresh database and stopping there.
new_db
cd saas || exit 1
rm -f saas.db
bash -e -o pipefail "$TEST_DIR/saas-blocks/1.sh" >/dev/null 2>"$TEST_DIR/.block-stderr"
expect_eq "$?" 0 "saas: the first block again"
for t in projects audit_log invitations tenants roles; do
  check "saas: table $t" table_exists $t
done
expect_eq "$(sql "SELECT count(*) FROM permissions WHERE name LIKE 'invitations.%'")" 3 \
  "saas: three invitation permissions in the catalogue"
expect_eq "$(sql "SELECT r.name || ':' || p.name FROM roles r
                  JOIN tenants t ON t.id = r.tenant_id
                  JOIN role_permissions rp ON rp.tenant_id = r.tenant_id AND rp.role_id = r.id
                  JOIN permissions p ON p.id = rp.permission_id
                  WHERE t.slug = 'acme' AND p.name LIKE 'invitations.%'
                  ORDER BY r.name, p.name" | tr '\n' ' ')" \
  "admin:invitations.create admin:invitations.read admin:invitations.revoke member:invitations.read owner:invitations.create owner:invitations.read owner:invitations.revoke " \
  "saas: acme's roles hold the invitation permissions their templates give"
expect_eq "$(sql "SELECT count(*) FROM audit_log WHERE action = 'rbac.permissions_added'")" 1 \
  "saas: the tenant's audit log records the new permissions"
rb can --tenant acme --user $bob invitations.create
expect_rc 3 "saas: a member sends no invitation"
check "saas: an invitation names a role of its own tenant" \
  sql "INSERT INTO invitations (tenant_id, email, role) SELECT id, 'eve@example.com', 'member' FROM tenants WHERE slug = 'acme'"
check "saas: not a role the tenant lacks" \
  test -z "$(sql "INSERT INTO invitations (tenant_id, email, role) SELECT id, 'eve2@example.com', 'nobody' FROM tenants WHERE slug = 'acme'" 2>/dev/null && echo inserted)"
cd .. || exit 1

# The --sql script of the whole chain (the sync as set-based statements) leaves the same
# catalogue and template grants as the online upgrade.
counts="SELECT (SELECT count(*) FROM permissions) || ' ' || (SELECT count(*) FROM role_template_permissions)"
online=$(sql "$counts")
new_db
cd saas || exit 1
rb upgrade --sql head
expect_rc 0 "saas: upgrade --sql head"
printf '%s\n' "$OUT" > "$TEST_DIR/saas-up.sql"
if [ "$DIALECT" = postgresql ]; then
  check "saas: the script applies with psql" \
    "$PSQL" -X -q -v ON_ERROR_STOP=1 -d "$DB_URL" -f "$TEST_DIR/saas-up.sql"
else
  check "saas: the script applies with sqlite3" sqlite3 -bail "$DB_FILE" ".read $TEST_DIR/saas-up.sql"
fi
expect_eq "$(sql "$counts")" "$online" \
  "saas: --sql leaves the catalogue and templates the online upgrade left"
expect_eq "$(sql "SELECT version_num FROM rbacmig_version")" c0ffee000003 "saas: --sql version"
cd .. || exit 1

# The migration itself brings the permissions to tenants that exist already: a database
# seeded with the model `init --rbac` ships (no invitations), with a tenant, then this
# project's upgrade head.
new_db
mkdir release1 && cd release1 || exit 1
rbacmig init --rbac >/dev/null && rbacmig upgrade head >/dev/null 2>&1 && rbacmig seed >/dev/null 2>&1 &&
  rbacmig tenant create acme --name "Acme Inc" --owner $ada >/dev/null 2>&1 &&
  rbacmig member add --tenant acme --user $bob --role member >/dev/null 2>&1
expect_eq "$?" 0 "saas: release 1 from the shipped model"
expect_eq "$(sql "SELECT count(*) FROM permissions WHERE name LIKE 'invitations.%'")" 0 \
  "saas: release 1 has no invitation permissions"
cd ../saas || exit 1
rb upgrade head
expect_rc 0 "saas: upgrade head over release 1"
expect_err_has "add invitations: 3 permission(s) added, 7 grant(s) to the roles of 1 tenant(s)" \
  "saas: the migration says what it added and granted"
rb can --tenant acme --user $ada invitations.revoke
expect_rc 0 "saas: the existing owner may revoke invitations"
rb can --tenant acme --user $bob invitations.read
expect_rc 0 "saas: the existing member may read invitations"
rb check
expect_rc 0 "saas: check is clean (the shipped files are the ones release 1 ran)"
cd .. || exit 1

# ---- examples/supabase (PostgreSQL only) ------------------------------------------------
expect_eq "$(extract "$SRC/examples/supabase/README.md" "$TEST_DIR/supabase-count")" 4 \
  "supabase: four marked blocks"
if [ "$DIALECT" = postgresql ]; then
  new_db
  env PGOPTIONS="-c client_min_messages=warning" "$PSQL" -X -q -v ON_ERROR_STOP=1 \
    -d "${PG_ADMIN_URL%/*}/$DB_NAME" -f "$SRC/tests/pgtap/00_supabase_fixture.sql" >/dev/null
  expect_eq "$?" 0 "supabase: the fixture loads"
  sql "INSERT INTO auth.users (id, email) VALUES ('$ada', 'ada@example.com')" >/dev/null
  cp -r "$SRC/examples/supabase" supabase
  cd supabase || exit 1
  run_blocks README.md "$TEST_DIR/supabase-blocks" supabase
  expect_eq "$(sql "SELECT relrowsecurity FROM pg_class WHERE oid = 'public.tenants'::regclass")" t \
    "supabase: row-level security on"
  expect_eq "$(sql "SELECT r.template FROM memberships m JOIN tenants t ON t.id = m.tenant_id
                    JOIN roles r ON r.tenant_id = m.tenant_id AND r.id = m.role_id
                    WHERE t.slug = 'acme' AND m.user_id = '$ada'")" owner "supabase: Ada owns acme"
  expect_eq "$(printf '%s\n' "${BLOCK_OUT[3]:-}" | tr '\n' ' ')" "t t " \
    "supabase: has_permission through the API's role answers true for Ada"
  expect_eq "${BLOCK_OUT[4]:-}" t "supabase: the three-argument form for the backend"
  check "supabase: init kept the example's .env.example" \
    cmp -s .env.example "$SRC/examples/supabase/.env.example"
  # examples/saas on top: its tables get the same kind of policies (lua/saas/rls.lua).
  cd ../saas || exit 1
  rb upgrade head
  expect_rc 0 "supabase: examples/saas on top of the project"
  expect_eq "$(sql "SELECT tablename || ':' || count(*) FROM pg_policies
                    WHERE tablename IN ('projects', 'audit_log', 'invitations')
                    GROUP BY tablename ORDER BY tablename" | tr '\n' ' ')" \
    "audit_log:1 invitations:3 projects:4 " "supabase: the saas tables' policies"
  # as_user UUID SQL: SQL as PostgREST runs it for that user (as in test_supabase.sh).
  as_user() {
    "$PSQL" -X -q -At -v ON_ERROR_STOP=1 -d "$DB_URL" -c "BEGIN; SET LOCAL ROLE authenticated;
      SET LOCAL request.jwt.claims = '{\"sub\": \"$1\", \"role\": \"authenticated\"}'; $2; COMMIT"
  }
  check "supabase: Ada (owner) creates a project through the API's role" \
    as_user $ada "INSERT INTO projects (tenant_id, name) SELECT id, 'apollo' FROM tenants WHERE slug = 'acme'"
  expect_eq "$(as_user $ada "SELECT name FROM projects")" apollo "supabase: Ada reads it"
  expect_eq "$(as_user $bob "SELECT count(*) FROM projects")" 0 "supabase: Bob, no member, reads nothing"
  check "supabase: Bob cannot create one in acme" \
    test -z "$(as_user $bob "INSERT INTO projects (tenant_id, name)
                             VALUES ('$(sql "SELECT id FROM tenants WHERE slug = 'acme'")', 'x')" \
               2>/dev/null && echo inserted)"
  cd .. || exit 1
fi

finish
