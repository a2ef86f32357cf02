#!/usr/bin/env bash
# The examples run as documented: up, inspected, and down again, on both databases.
. "$(dirname "$0")/lib.sh"
new_db
cp -r "$SRC/examples/blog" blog
cd blog || exit 1

rb upgrade head
expect_rc 0 "blog: upgrade head"
expect_eq "$(echo "$OUT" | grep -c '^Running upgrade')" 4 "blog: four steps"
expect_eq "$(sql "SELECT slug FROM posts")" "it-s-a-fine-day" "blog: backfilled slug"
expect_eq "$(sql "SELECT title FROM posts")" "It's a fine day" "blog: quote stored as data"
check "blog: slug is required now" test "$(sql "INSERT INTO posts (author_id, title) VALUES (1, 'x')" 2>&1 | grep -ci 'null')" -ge 1
rb history
expect_out_has "(head) (current), index published posts" "blog: history marks head and current"
rb downgrade base
expect_rc 0 "blog: downgrade base"
check "blog: nothing left" test "$(table_exists posts && echo yes)" != yes
rb upgrade head
expect_rc 0 "blog: up again after down"

finish
