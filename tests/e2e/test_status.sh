#!/usr/bin/env bash
# `rbacmig status` (issue 16): where the database is, what `upgrade heads` would run and in
# which order, edited and failed applied revisions, revisions with no file and several heads;
# --exit-code's exits (6 pending, 1 a problem) for CI gates; --format json parsed with jq.
# Then the progress of a run of many steps: [i/n] and the elapsed time on a terminal, plain
# lines otherwise, a summary line at the end.
. "$(dirname "$0")/lib.sh"
new_db

migration aaaa00000001 "" "db:exec('CREATE TABLE s1 (id integer)')" "db:exec('DROP TABLE s1')"
migration aaaa00000002 aaaa00000001 "db:exec('CREATE TABLE s2 (id integer)')" "db:exec('DROP TABLE s2')"
migration aaaa00000003 aaaa00000002 "db:exec('CREATE TABLE s3 (id integer)')" "db:exec('DROP TABLE s3')"

# ---- a fresh database: everything pending, in order ----------------------------------------
rb status
expect_rc 0 "status without --exit-code reports only"
expect_out "current: <base> (no revision applied)
pending: 3 revisions, in the order 'rbacmig upgrade heads' runs them
    <base> -> aaaa00000001, step aaaa00000001
    aaaa00000001 -> aaaa00000002, step aaaa00000002
    aaaa00000002 -> aaaa00000003, step aaaa00000003" "status at base"
check "status wrote nothing (no version table)" test "$(table_exists rbacmig_version && echo yes)" != yes
rb status --exit-code
expect_rc 6 "--exit-code: pending is exit 6"
rb status --format json
expect_rc 0 "status --format json"
expect_eq "$(jq -r '.pending | map(.id) | join(" ")' <<<"$OUT")" \
  "aaaa00000001 aaaa00000002 aaaa00000003" "json: pending in order"
expect_eq "$(jq -c '.current' <<<"$OUT")" '[]' "json: current at base"
expect_eq "$(jq -r '.up_to_date' <<<"$OUT")" false "json: not up to date"
expect_eq "$(jq -r '.database' <<<"$OUT" | cut -c1-6)" "${DB_URL:0:6}" "json: the database"

# ---- part-way, then up to date -----------------------------------------------------------
rb upgrade aaaa00000001
rb status
expect_out_has "current: aaaa00000001" "status names the current revision"
expect_out_has "pending: 2 revisions" "two pending"
rb upgrade head
rb status --exit-code
expect_rc 0 "--exit-code: up to date is exit 0"
expect_out "current: aaaa00000003
ok: up to date, 3 revisions applied" "status up to date"
rb status --format json --exit-code
expect_eq "$(jq -r '.up_to_date, (.pending | length), (.problems | length)' <<<"$OUT" | tr '\n' ' ')" \
  "true 0 0 " "json: up to date"

# ---- an edited applied file, several heads -------------------------------------------------
printf '\n-- edited after it ran\n' >> migrations/aaaa00000002_m.lua
migration bbbb00000001 aaaa00000001 "db:exec('CREATE TABLE b1 (id integer)')" "db:exec('DROP TABLE b1')"
rb status
expect_rc 0 "problems without --exit-code: exit 0"
expect_out_has "changed: migrations/aaaa00000002_m.lua (revision aaaa00000002)" "status names the edited file"
expect_out_has "heads: 2 heads (" "status names several heads"
expect_out_has "pending: 1 revision," "the other branch is pending"
expect_out_has "aaaa00000001 -> bbbb00000001, step bbbb00000001" "the pending step"
rb status --exit-code
expect_rc 1 "--exit-code: a problem is exit 1"
expect_err_has "status found 2 problems" "the error counts them"
rb status --format json
expect_eq "$(jq -r '[.problems[].kind] | sort | join(" ")' <<<"$OUT")" "changed heads" "json: problem kinds"
expect_eq "$(jq -r '.problems[] | select(.kind == "changed") | .path' <<<"$OUT")" \
  "migrations/aaaa00000002_m.lua" "json: the edited path"
expect_eq "$(jq -r '.heads | length' <<<"$OUT")" 2 "json: two heads"
rb repair
rm migrations/bbbb00000001_m.lua

# ---- a failed non-transactional step ---------------------------------------------------------
migration aaaa00000004 aaaa00000003 "db:exec('CREATE TABLE s4 (id integer)'); error('boom')" \
  "db:exec('DROP TABLE s4')" "transactional = false,"
rb upgrade head
expect_rc 1 "the non-transactional step fails"
rb status
expect_out_has "failed: revision aaaa00000004 stopped midway" "status names the failed revision"
rb status --format json
expect_eq "$(jq -r '.problems[] | select(.kind == "failed") | .revision' <<<"$OUT")" \
  aaaa00000004 "json: the failed revision"

# ---- a revision with no file; usage ----------------------------------------------------------
rb stamp aaaa00000004
mv migrations/aaaa00000004_m.lua "$TEST_DIR/gone.lua"
rb status --exit-code
expect_rc 1 "a revision with no file is a problem"
expect_out_has "missing: the database is at revision aaaa00000004" "status names it"
rb status --format yaml
expect_rc 2 "--format yaml is a usage error"

# ---- progress of a run of many steps (issue 16) ----------------------------------------------
new_db
rm -f migrations/*.lua
for i in 1 2 3; do
  parent=""; [ $i -gt 1 ] && parent="cccc0000000$((i - 1))"
  migration "cccc0000000$i" "$parent" "db:exec('CREATE TABLE p$i (id integer)')" "db:exec('DROP TABLE p$i')"
done
rb upgrade head
expect_rc 0 "upgrade of three steps"
expect_eq "$(echo "$OUT" | grep -c '^Running upgrade')" 3 "plain step lines when not on a terminal"
expect_not_in_output "[1/3]" "no counter when not on a terminal"
check "a summary line ends it" bash -c 'echo "$1" | tail -1 | grep -Eq "^upgrade: 3 steps in [0-9]+ ms$"' _ "$OUT"
rb -q downgrade base
expect_out "" "-q: no step lines, no summary"
rb upgrade +1
expect_eq "$(echo "$OUT" | grep -c 'steps in')" 0 "one step: no summary (its done line says it)"
if command -v script >/dev/null; then
  out=$(NO_COLOR=1 TERM=dumb script -qec "$(printf '%q ' "$RBACMIG" upgrade head)" /dev/null 2>&1 | tr -d '\r')
  case $out in *"[1/2] Running upgrade cccc00000001 -> cccc00000002, step cccc00000002"*) pass ;;
    *) fail "terminal: [1/2] before the step line ($out)" ;; esac
  case $out in *"[2/2] Running upgrade cccc00000002 -> cccc00000003"*) pass ;;
    *) fail "terminal: [2/2] ($out)" ;; esac
  check "terminal: elapsed time on the done line" \
    bash -c 'echo "$1" | grep -Eq "^  done in [0-9]+ ms, [0-9]+\.[0-9] s elapsed$"' _ "$out"
  case $out in *"upgrade: 2 steps in "*) pass ;; *) fail "terminal: the summary ($out)" ;; esac
fi
finish
