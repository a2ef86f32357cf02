#!/usr/bin/env bash
# --format json of current, heads, branches, history, show and check (issue 16, docs/json.md):
# each output parsed with jq, the fields docs/json.md documents, a message with quotes, a
# newline, a backslash and non-ASCII text escaped by the encoder, and the text unchanged
# without --format.
. "$(dirname "$0")/lib.sh"
new_db

migration aaaa00000001 "" "" ""
migration aaaa00000002 aaaa00000001 "" "" 'branch_labels = {"main"},'
migration bbbb00000001 aaaa00000001 "" ""
migration cccc00000001 '{"aaaa00000002", "bbbb00000001"}' "" ""
# A message JSON must escape: quotes, a backslash, a newline, and UTF-8.
sed -i 's/message = "step cccc00000001"/message = "join \\"a\\" \\\\ b\\nline two — é"/' \
  migrations/cccc00000001_m.lua
rb upgrade aaaa00000002
expect_rc 0 "upgrade to one branch"

json() { # json COMMAND...: runs it with --format json, checks it parses, leaves it in $OUT
  rb "$@" --format json
  if jq -e . >/dev/null 2>&1 <<<"$OUT"; then pass; else fail "$*: not JSON"; fi
}

json current
expect_rc 0 "current --format json"
expect_eq "$(jq -r '.current | map(.id) | join(" ")' <<<"$OUT")" aaaa00000002 "current: the id"
expect_eq "$(jq -r '.current[0] | [.current, .head, (.branch_labels | join(",")), (.parents | join(","))] | join(" ")' <<<"$OUT")" \
  "true false main aaaa00000001" "current: the revision's fields"
expect_eq "$(jq -r '.current[0] | keys | join(" ")' <<<"$OUT")" \
  "branch_labels branchpoint children create_date current depends_on head id mergepoint message parents path sha256 transactional" \
  "current: every documented key"

json heads
expect_eq "$(jq -r '.heads | map(.id) | join(" ")' <<<"$OUT")" cccc00000001 "heads"
expect_eq "$(jq -r '.heads[0].message' <<<"$OUT")" "join \"a\" \\ b
line two — é" "heads: the message round-trips through the encoder"
expect_eq "$(jq -r '.heads[0].mergepoint' <<<"$OUT")" true "heads: mergepoint"

json branches
expect_eq "$(jq -r '.branchpoints | map(.id + ">" + (.children | join(","))) | join(" ")' <<<"$OUT")" \
  "aaaa00000001>aaaa00000002,bbbb00000001" "branches: the branch point and its children"

json history
expect_eq "$(jq -r '.revisions | length' <<<"$OUT")" 4 "history: every revision"
expect_eq "$(jq -r '.revisions[0].id, .revisions[-1].id' <<<"$OUT" | tr '\n' ' ')" \
  "cccc00000001 aaaa00000001 " "history: newest first"
expect_eq "$(jq -r '[.revisions[] | select(.current) | .id] | join(" ")' <<<"$OUT")" \
  aaaa00000002 "history: current marked"
json history -r base:current
expect_eq "$(jq -r '.revisions | map(.id) | join(" ")' <<<"$OUT")" "aaaa00000002 aaaa00000001" \
  "history -r base:current"

json show aaaa00000002
expect_eq "$(jq -r '.revisions[0] | .id, .path, (.sha256 | length)' <<<"$OUT" | tr '\n' ' ')" \
  "aaaa00000002 migrations/aaaa00000002_m.lua 64 " "show: id, path and SHA-256"
json show current
expect_eq "$(jq -r '.revisions[0].current' <<<"$OUT")" true "show current"

json check
expect_rc 0 "check: clean"
expect_eq "$(jq -r '[.ok, .revisions, .applied, (.problems | length)] | join(" ")' <<<"$OUT")" \
  "true 4 2 0" "check: ok, revisions, applied"
printf '\n-- edited\n' >> migrations/aaaa00000001_m.lua
json check
expect_rc 1 "check with an edited file: exit 1, JSON still printed"
expect_eq "$(jq -r '.problems[0] | [.kind, .revision, .path] | join(" ")' <<<"$OUT")" \
  "changed aaaa00000001 migrations/aaaa00000001_m.lua" "check: the problem's fields"
expect_err_has "check found 1 problem" "check: the error on stderr"

# ---- text is unchanged without --format; a bad format is a usage error ----------------------
rb heads
expect_out "cccc00000001 (head)" "heads: text as before"
for c in current heads branches history check; do
  rb $c --format csv
  expect_rc 2 "$c --format csv is a usage error"
done
rb show --format csv head
expect_rc 2 "show --format csv is a usage error"

# ---- the RBAC commands: tenant list, member list, can ---------------------------------------
new_db
rm -rf migrations
cp -r "$SRC/migrations" "$SRC/rbac" .
rb upgrade 91759229c32b
rb seed
owner=11111111-1111-4111-8111-111111111111
viewer=22222222-2222-4222-8222-222222222222
json tenant list
expect_eq "$(jq -c '.tenants' <<<"$OUT")" '[]' "tenant list: an empty array"
rb tenant create acme --name 'Acme "Corp" \ é' --owner $owner
rb member add --tenant acme --user $viewer --role viewer
json tenant list
expect_eq "$(jq -r '.tenants[0] | [.slug, .members, (.id | length > 0)] | join(" ")' <<<"$OUT")" \
  "acme 2 true" "tenant list: slug, members, id"
expect_eq "$(jq -r '.tenants[0].name' <<<"$OUT")" 'Acme "Corp" \ é' "tenant list: the raw name, escaped by the encoder"
json member list --tenant acme
expect_eq "$(jq -r '.tenant, (.members | map(.user_id + "=" + (.roles | join(","))) | join(" "))' <<<"$OUT" | tr '\n' ' ')" \
  "acme $owner=owner $viewer=viewer " "member list: users and roles"
json can --tenant acme --user $owner tenants.delete
expect_rc 0 "can (allowed) --format json: exit 0"
expect_eq "$(jq -r '[.allowed, .permission, .tenant, .user, (.roles | join(","))] | join(" ")' <<<"$OUT")" \
  "true tenants.delete acme $owner owner" "can: allowed with its roles"
json can --tenant acme --user $viewer tenants.delete
expect_rc 3 "can (denied) --format json: exit 3"
expect_eq "$(jq -c '[.allowed, .roles]' <<<"$OUT")" '[false,[]]' "can: denied, no roles"
rb tenant list
expect_out_has "acme" "tenant list: text as before"
rb tenant list --format csv
expect_rc 2 "tenant list --format csv is a usage error"
finish
