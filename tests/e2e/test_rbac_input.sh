#!/usr/bin/env bash
# What the RBAC commands accept and print (issue 12): model files are plain data with no
# globals and no control characters (items 3, 7); values from the database are printed
# escaped (8); every RBAC command line is checked before connecting, usage errors exit 2,
# option values are strings whatever they read (16); prune says what it removed, a database
# without the RBAC tables and an unseeded permission get a one-line hint (19).
. "$(dirname "$0")/lib.sh"
new_db
cp -r "$SRC/migrations" "$SRC/rbac" .
owner=123e4567-e89b-42d3-a456-426614174000
viewer=223e4567-e89b-42d3-a456-426614174000
count() { sql "SELECT count(*) FROM $1"; }
ESC=$(printf '\033')

# ---- 19: a database without the RBAC tables ------------------------------------------------
if [ "$DIALECT" = sqlite ]; then
  rb tenant list
  expect_rc 1 "tenant list on a missing SQLite file"
  expect_err_has "run 'rbacmig upgrade 91759229c32b'" "the missing file gets the hint"
  expect_one_error_line "missing SQLite file"
  check "no SQLite file created" test ! -e "$DB_FILE"
  sql "CREATE TABLE unrelated (x int)"
fi
for cmd in "tenant list" "seed" "member list --tenant acme" "can --tenant acme --user $owner a.b"; do
  rb $cmd
  expect_rc 1 "$cmd without the RBAC tables"
  expect_err_has "run 'rbacmig upgrade 91759229c32b'" "$cmd names the migration to run"
  expect_one_error_line "$cmd without the RBAC tables"
  check "$cmd: the error is one line, not a statement" \
    test "$(printf '%s\n' "$ERR" | grep -vc '^rbacmig: database:')" = 1
done

rb upgrade 91759229c32b
expect_rc 0 "upgrade 91759229c32b"

# ---- 3: control characters in model strings ---------------------------------------------------
# roles.lua with a NUL in a description: --sql used to lose the literal's closing quote
# and turn the next description into code; online seed cut the text at the NUL.
cp rbac/roles.lua roles.orig
cat > rbac/roles.lua <<'LUA'
return {
  { name = "owner", description = "x\0", permissions = { "*" } },
  { name = "admin", description = "x; CREATE TABLE pwned (x int); --", permissions = { "*" } },
}
LUA
rb seed --sql
expect_rc 1 "seed --sql refuses a NUL in a description"
expect_err_has "rbac/roles.lua: role 'owner' (entry 1): description holds the control character \\x00" \
  "the file, entry and character are named"
expect_not_in_output "pwned" "nothing of the model reaches the script"
expect_not_in_output "role_templates" "no statement is written"
rb seed
expect_rc 1 "online seed refuses a NUL in a description"
expect_err_has "rbac/roles.lua: role 'owner' (entry 1)" "online: file and entry named"
expect_eq "$(count role_templates)" 0 "nothing seeded"

printf 'return {\n  { name = "owner", description = "Owner \\27]0;pwned\\7", permissions = { "*" } },\n}\n' > rbac/roles.lua
rb seed
expect_rc 1 "an escape sequence in a description is refused"
expect_err_has "description holds the control character \\x1b" "ESC named, escaped"
expect_not_in_output "$ESC" "the raw ESC is never echoed"

printf 'return {\n  { name = "owner", description = "Owner\\tof\\nthe tenant", permissions = { "*" } },\n}\n' > rbac/roles.lua
rb seed
expect_rc 0 "tab and newline are allowed in a description"
expect_eq "$(sql "SELECT description FROM role_templates WHERE name = 'owner'")" "$(printf 'Owner\tof\nthe tenant')" "stored exactly"

printf 'return {\n  { name = "tenants.read", description = "bad \\255 byte" },\n}\n' > rbac/permissions.lua.new
cp rbac/permissions.lua permissions.orig
mv rbac/permissions.lua.new rbac/permissions.lua
rb seed
expect_rc 1 "a description that is not UTF-8 is refused"
expect_err_has "rbac/permissions.lua: permission 'tenants.read' (entry 1): description is not valid UTF-8" \
  "invalid UTF-8 named"
cp permissions.orig rbac/permissions.lua

# ---- 7: model files run with no globals ----------------------------------------------------
sed 's/description = "Full control[^"]*"/description = os.getenv("DATABASE_URL")/' roles.orig > rbac/roles.lua
check "the crafted roles.lua reads DATABASE_URL" grep -q 'os.getenv("DATABASE_URL")' rbac/roles.lua
rb seed
expect_rc 1 "os.getenv in roles.lua is an error"
expect_err_has "rbac/roles.lua:" "the error names the file and line"
expect_err_has "'os' is not available" "the error names the global"
expect_eq "$(sql "SELECT count(*) FROM role_templates WHERE description LIKE '%sqlite%' OR description LIKE '%postgres%'")" 0 \
  "the URL reached no description"
for global in 'require("rbacmig.rbac")' 'print("x")' 'load("return 1")' 'string.rep("x", 2)'; do
  printf 'local x = %s\nreturn {}\n' "$global" > rbac/permissions.lua
  rb seed
  expect_rc 1 "$global in permissions.lua is an error"
  expect_err_has "rbac/permissions.lua:1:" "$global: file and line named"
done
cp permissions.orig rbac/permissions.lua
cp roles.orig rbac/roles.lua
rb seed
expect_rc 0 "the shipped model seeds"

# ---- 16: command lines are checked before connecting ----------------------------------------
DATABASE_URL_SAVED=$DATABASE_URL
export DATABASE_URL="postgresql://nobody@127.0.0.1:1/down"
usage_case() { # usage_case EXPECTED_ERR ARGS...
  local want=$1
  shift
  rb "$@"
  expect_rc 2 "'$*' is a usage error"
  expect_err_has "$want" "'$*' says why"
  expect_not_in_output "database:" "'$*' is refused before connecting"
}
usage_case "unexpected argument 'Foo'" tenant create foo-co Foo Corp
usage_case "unexpected argument 'b-2'" tenant delete a-1 b-2
usage_case "'tenant delete' needs SLUG" tenant delete
usage_case "'tenant' needs a command: create, list or delete" tenant
usage_case "unknown tenant command 'frob' (expected create, list or delete)" tenant frob
usage_case "'tenant list' does not take --tenant" tenant list --tenant acme
usage_case "'member add' needs --role" member add --tenant acme --user $owner
usage_case "unexpected argument 'extra'" member list --tenant acme extra
usage_case "unknown member command 'promote'" member promote --tenant acme
usage_case "'can' needs PERMISSION" can --tenant acme --user $owner
usage_case "unexpected argument 'b.c'" can --tenant acme --user $owner a.b b.c
usage_case "--tenant is given 2 times" can --tenant a --tenant b --user $owner a.b
usage_case "unexpected argument 'x'" seed x
usage_case "'seed' does not take --name" seed --name x
usage_case "--name is given 2 times" tenant create acme --name a --name b
export DATABASE_URL=$DATABASE_URL_SAVED

# Option values are strings, whatever they read: "true" is a name and a slug like any other.
rb tenant create acme --name true --owner $owner
expect_rc 0 "--name true"
expect_eq "$(sql "SELECT name FROM tenants WHERE slug = 'acme'")" "true" "the name is the string 'true'"
rb tenant create true
expect_rc 0 "a tenant with slug 'true'"
rb member add --tenant true --user $viewer --role viewer
expect_rc 0 "--tenant true is the slug 'true'"
rb member list --tenant true
expect_out "$viewer	viewer" "members of tenant 'true'"
long=$(printf 'n%.0s' $(seq 1 3000))
rb tenant create long-name --name "$long"
expect_rc 0 "a 3,000-byte name"
expect_eq "$(sql "SELECT length(name) FROM tenants WHERE slug = 'long-name'")" 3000 "kept whole, not cut at 1018 bytes"
rb tenant delete true
expect_rc 0 "tenant delete true"

# ---- 8: values from the database are printed escaped ---------------------------------------
rb tenant create evil --name "$(printf 'Evil\033[2J')"
expect_rc 1 "a control character in a tenant name is refused"
expect_err_has 'tenant name '"'"'Evil\x1b[2J'"'"' holds the control character \x1b' "named, escaped"
expect_not_in_output "$ESC" "no raw ESC in the error"
# A tenant admin writes the tables directly (PostgREST on Supabase): newlines, tabs, ESC.
forged=$'Evil Co\n'"$owner"$'\towner\e]0;x\a'
rb tenant create evil-co --name "Evil Co"
expect_rc 0 "tenant evil-co"
tid=$(sql "SELECT id FROM tenants WHERE slug = 'evil-co'")
if [ "$DIALECT" = postgresql ]; then
  sql "UPDATE tenants SET name = E'Evil Co\\n$owner\\towner\\033]0;x\\007' WHERE slug = 'evil-co'" >/dev/null
  sql "INSERT INTO roles (tenant_id, name) VALUES ('$tid', E'own\\ner\\033[31m')" >/dev/null
else
  sql "UPDATE tenants SET name = 'Evil Co' || char(10) || '$owner' || char(9) || 'owner' || char(27) || ']0;x' || char(7) WHERE slug = 'evil-co'"
  sql "INSERT INTO roles (tenant_id, id, name) VALUES ('$tid', 'r1', 'own' || char(10) || 'er' || char(27) || '[31m')"
fi
check "the forged name is stored" test "$(sql "SELECT name FROM tenants WHERE slug = 'evil-co'")" = "$forged"
rid=$(sql "SELECT id FROM roles WHERE tenant_id = '$tid' AND template IS NULL")
pid=$(sql "SELECT id FROM permissions WHERE name = 'projects.read'")
sql "INSERT INTO role_permissions (tenant_id, role_id, permission_id) VALUES ('$tid', '$rid', '$pid')" >/dev/null
sql "INSERT INTO memberships (tenant_id, user_id, role_id) VALUES ('$tid', '$viewer', '$rid')" >/dev/null
rb tenant list
expect_rc 0 "tenant list"
expect_eq "$(printf '%s\n' "$OUT" | wc -l)" 3 "one line per tenant (acme, evil-co, long-name)"
expect_out_has "Evil Co\\n$owner\\towner\\x1b]0;x\\x07" "the name is shown escaped"
expect_not_in_output "$ESC" "tenant list: no raw ESC"
rb member list --tenant evil-co
expect_rc 0 "member list"
expect_out "$viewer	own\\ner\\x1b[31m" "member list: one line, the role escaped"
rb can --tenant evil-co --user $viewer projects.read
expect_rc 0 "can through the custom role"
expect_out "allowed (own\\ner\\x1b[31m)" "can: the role escaped"

# Migration e6cef4861c9f keeps such names out of the database, whoever writes them.
rb upgrade head
expect_rc 1 "the migration refuses to run over names it would forbid"
expect_err_has "tenants_name_printable_check" "the broken constraint is named"
sql "UPDATE tenants SET name = 'Evil Co' WHERE slug = 'evil-co'" >/dev/null
sql "UPDATE roles SET name = 'own_er' WHERE tenant_id = '$tid' AND template IS NULL" >/dev/null
rb upgrade head
expect_rc 0 "upgrade e6cef4861c9f once the names are clean"
if [ "$DIALECT" = postgresql ]; then
  bad_tenant="UPDATE tenants SET name = E'Evil\\nCo' WHERE slug = 'evil-co'"
  bad_role="INSERT INTO roles (tenant_id, name) VALUES ('$tid', E'x\\u009b31m')"
else
  bad_tenant="UPDATE tenants SET name = 'Evil' || char(10) || 'Co' WHERE slug = 'evil-co'"
  bad_role="INSERT INTO roles (tenant_id, id, name) VALUES ('$tid', 'r2', 'x' || char(27))"
fi
check "a newline in a tenant name is refused by the database" eval '! sql "$bad_tenant" >/dev/null 2>&1'
check "a control character in a role name is refused by the database" eval '! sql "$bad_role" >/dev/null 2>&1'
sql "UPDATE tenants SET name = 'Evil Co 東京 é' WHERE slug = 'evil-co'" >/dev/null
expect_eq "$(sql "SELECT name FROM tenants WHERE slug = 'evil-co'")" "Evil Co 東京 é" "other text is still allowed"
rb downgrade 91759229c32b
expect_rc 0 "downgrade e6cef4861c9f"
check "the database takes such names again after the downgrade" eval 'sql "$bad_tenant" >/dev/null 2>&1'
sql "UPDATE tenants SET name = 'Evil Co' WHERE slug = 'evil-co'" >/dev/null

# ---- 19: seed --prune says what it removed; an unseeded permission gets a hint --------------
rb member add --tenant acme --user $viewer --role member
expect_rc 0 "a member in the 'member' role"
lua5.4 -e '
  local roles = dofile("rbac/roles.lua")
  local f = assert(io.open("rbac/roles.lua", "w"))
  f:write("return {\n")
  for _, r in ipairs(roles) do
    if r.name ~= "member" then
      f:write(("  { name = %q, description = %q, permissions = {"):format(r.name, r.description))
      for _, p in ipairs(r.permissions) do f:write(("%q, "):format(p)) end
      f:write("} },\n")
    end
  end
  f:write("}\n")
  f:close()'
rb seed --prune
expect_rc 0 "seed --prune"
expect_out_has "memberships: 1 removed" "the membership prune removed is counted"
expect_out_has "tenant roles: 0 added, 0 updated, 3 removed" "a member role removed per tenant"
expect_eq "$(sql "SELECT count(*) FROM memberships WHERE user_id = '$viewer' AND tenant_id = (SELECT id FROM tenants WHERE slug = 'acme')")" 0 \
  "the membership is gone"
cp roles.orig rbac/roles.lua

lua5.4 -e '
  local perms = dofile("rbac/permissions.lua")
  perms[#perms + 1] = { name = "new.permission", description = "New" }
  local f = assert(io.open("rbac/permissions.lua", "w"))
  f:write("return {\n")
  for _, p in ipairs(perms) do f:write(("  { name = %q, description = %q },\n"):format(p.name, p.description)) end
  f:write("}\n")
  f:close()'
rb can --tenant acme --user $owner new.permission
expect_rc 1 "an unseeded permission"
expect_err_has "unknown permission 'new.permission' (it is in rbac/permissions.lua but not in the database yet: run 'rbacmig seed')" \
  "the hint names the file and the command"
rb can --tenant acme --user $owner none.such
expect_rc 1 "a permission in no file"
expect_not_in_output "run 'rbacmig seed'" "no seed hint for a permission the files lack"
rb seed
rb can --tenant acme --user $owner new.permission
expect_rc 0 "after seed the owner has it"

finish
