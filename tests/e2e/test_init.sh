#!/usr/bin/env bash
# `rbacmig init --rbac`: a new empty directory gets the shipped RBAC migrations and the rbac/
# model from the binary itself, byte for byte (their checksums are their identity), and the
# README's RBAC example runs right after it; init never overwrites a file, refuses a file of
# a shipped name with other bytes and a migrations directory whose own revisions would make
# a second root, each in one line naming the file, before it writes anything.
. "$(dirname "$0")/lib.sh"
new_db
owner=123e4567-e89b-42d3-a456-426614174000
viewer=223e4567-e89b-42d3-a456-426614174000
# The shipped files, as the source tree has them: what the binary must carry.
shipped=$(cd "$SRC" && ls migrations/*.lua rbac/*.lua)

# ---- a new empty directory: init --rbac, then the README's example ------------------------
mkdir fresh && cd fresh || exit 1
rb init --rbac
expect_rc 0 "init --rbac in an empty directory"
for f in $shipped; do
  check "init --rbac writes $f as shipped" cmp -s "$f" "$SRC/$f"
  expect_out_has "created $f" "init --rbac lists $f"
done
check "init --rbac writes rbacmig.lua" test -f rbacmig.lua
check "init --rbac writes .env.example" test -f .env.example
expect_eq "$(ls migrations | wc -l)" "$(cd "$SRC" && ls migrations/*.lua | wc -l)" \
  "only the shipped migrations"

rb upgrade 91759229c32b
expect_rc 0 "upgrade 91759229c32b right after init --rbac"
rb seed
expect_rc 0 "seed right after"
rb tenant create acme --name "Acme" --owner $owner
expect_rc 0 "tenant create"
rb member add --tenant acme --user $viewer --role viewer
expect_rc 0 "member add"
rb can --tenant acme --user $viewer projects.read
expect_rc 0 "can: the viewer reads projects"
expect_out_has "allowed" "can says allowed"
rb can --tenant acme --user $viewer projects.delete
expect_rc 3 "can: the viewer deletes no project"
rb upgrade head
expect_rc 0 "upgrade head goes on with the later shipped migrations"
rb check
expect_rc 0 "check: the files are the ones that ran"
expect_eq "$(sql "SELECT count(*) FROM permissions")" \
  "$(grep -c '{ name = "' "$SRC/rbac/permissions.lua")" "the shipped catalogue seeded"

# Again: everything is kept, nothing is claimed, nothing changes.
sums=$(md5sum $shipped rbacmig.lua .env.example)
rb init --rbac
expect_rc 0 "init --rbac again"
expect_not_in_output "created" "a second init --rbac creates nothing"
expect_out_has "kept rbac/roles.lua" "a second init --rbac says it kept the model"
expect_eq "$(md5sum $shipped rbacmig.lua .env.example)" "$sums" "a second init --rbac changes nothing"
cd .. || exit 1

if [ "$DIALECT" = sqlite ]; then
  # ---- refusals: one line naming the file, nothing written ----------------------------------
  mkdir edited edited/rbac && echo "return {}" > edited/rbac/roles.lua
  rb init --rbac edited
  expect_rc 1 "init --rbac over an edited rbac/roles.lua"
  expect_one_error_line "the refusal is one line"
  expect_err_has "'edited/rbac/roles.lua' exists" "the refusal names the file"
  expect_eq "$(cat edited/rbac/roles.lua)" "return {}" "the user's file is untouched"
  expect_eq "$(find edited -type f | sort | tr '\n' ' ')" "edited/rbac/roles.lua " \
    "nothing else written before the refusal"

  mkdir edited2 edited2/migrations
  head -c 100 "$SRC/migrations/91759229c32b_add_initial_rbac_tables.lua" \
    > edited2/migrations/91759229c32b_add_initial_rbac_tables.lua
  rb init --rbac edited2
  expect_rc 1 "init --rbac over a different 91759229c32b file"
  expect_err_has "91759229c32b_add_initial_rbac_tables.lua' exists" "names the migration"

  mkdir own && (cd own && "$RBACMIG" init >/dev/null 2>&1 && "$RBACMIG" revision -m first --rev-id aaaa00000001 >/dev/null 2>&1)
  rb init --rbac own
  expect_rc 1 "init --rbac into a project with its own root revision"
  expect_one_error_line "one line"
  expect_err_has "aaaa00000001_first.lua' is a revision already" "names the revision"
  check "no RBAC migration written there" test ! -e own/migrations/91759229c32b_add_initial_rbac_tables.lua
  check "no rbac/ written there" test ! -e own/rbac

  # A project that began with init --rbac and has revisions of its own since: kept as it is.
  (cd fresh && "$RBACMIG" revision -m "add projects" --rev-id bbbb00000001 >/dev/null 2>&1)
  rb init --rbac fresh
  expect_rc 0 "init --rbac again after revisions of the project's own"

  # ---- the project's configured directories ------------------------------------------------
  mkdir conf && printf 'return { migrations = "db/migrations", rbac = "model" }\n' > conf/rbacmig.lua
  rb init --rbac conf
  expect_rc 0 "init --rbac DIR with a configured layout"
  check "migrations go to the configured directory" \
    cmp -s conf/db/migrations/91759229c32b_add_initial_rbac_tables.lua \
    "$SRC/migrations/91759229c32b_add_initial_rbac_tables.lua"
  check "the model goes to the configured directory" cmp -s conf/model/roles.lua "$SRC/rbac/roles.lua"
  check "no migrations/ there" test ! -e conf/migrations
  (cd conf && "$RBACMIG" -d "sqlite:$TEST_DIR/conf.db" upgrade head >/dev/null 2>&1 &&
     "$RBACMIG" -d "sqlite:$TEST_DIR/conf.db" seed >/dev/null 2>&1)
  expect_eq "$?" 0 "upgrade and seed from the configured layout"

  rb init --rbac=yes
  expect_rc 2 "--rbac takes no value"
  rb init --rbac a b
  expect_rc 2 "init takes one directory"
fi

finish
