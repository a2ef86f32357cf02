#!/usr/bin/env bash
# The metadata cache (src/revcache.h): listing commands skip compiling unchanged migration
# files, and never show stale metadata: edits (even of the same size with the mtime set
# back), files whose metadata comes from a project module or the environment, removed
# files, broken files, a corrupt or unwritable cache.
. "$(dirname "$0")/lib.sh"
new_db
export RBACMIG_CACHE_DIR="$TEST_DIR/cache"

for i in 1 2 3; do
  parent=""
  [ $i -gt 1 ] && parent="cccc0000000$((i - 1))"
  migration "cccc0000000$i" "$parent" "db:exec('CREATE TABLE c$i (id integer)')" "db:exec('DROP TABLE c$i')"
done
mkdir -p lua
echo 'return { message = "from module v1" }' > lua/msgs.lua
cat > migrations/cccc00000004_m.lua <<'LUA'
local msgs = require("msgs")
return {
  revision = "cccc00000004",
  down_revision = "cccc00000003",
  message = msgs.message,
  upgrade = function(db) end,
  downgrade = function(db) end,
}
LUA
cat > migrations/cccc00000005_m.lua <<'LUA'
return {
  revision = "cccc00000005",
  down_revision = "cccc00000004",
  message = "env " .. (os.getenv("CACHE_TEST_MSG") or "unset"),
  upgrade = function(db) end,
  downgrade = function(db) end,
}
LUA
# Files changed in the last two seconds are never cached: let these settle.
sleep 2.2

cache_files() { find "$RBACMIG_CACHE_DIR" -type f 2>/dev/null | wc -l | tr -d ' '; }

RBACMIG_NO_CACHE=1 rb history -v
expect_rc 0 "history without the cache"
UNCACHED=$OUT
expect_eq "$(cache_files)" 0 "RBACMIG_NO_CACHE=1 writes no cache"

rb history -v
expect_rc 0 "history, first run (fills the cache)"
expect_eq "$OUT" "$UNCACHED" "the first run shows what an uncached run shows"
expect_eq "$(cache_files)" 1 "one cache file for the directory"
expect_eq "$(stat -c %a "$RBACMIG_CACHE_DIR")" 700 "the cache directory is private"
rb history -v
expect_eq "$OUT" "$UNCACHED" "a cached run shows the same, checksums included"
expect_out_has "env unset" "os.getenv read at load time"

# ---- edits are seen at once ----------------------------------------------------------
f=migrations/cccc00000002_m.lua
touch -r "$f" "$TEST_DIR/stamp"
cp "$f" "$TEST_DIR/keep2"
ino=$(stat -c %i "$f")
edited=$(sed 's/step cccc00000002/STEP CCCC00000002/' "$f")
printf '%s\n' "$edited" > "$f"                # in place: same inode, same size
touch -r "$TEST_DIR/stamp" "$f"                # and the mtime set back: only the ctime differs
expect_eq "$(stat -c %i.%s.%Y "$f")" "$ino.$(stat -c %s "$TEST_DIR/keep2").$(stat -c %Y "$TEST_DIR/stamp")" "the edit kept inode, size and mtime"
rb history
expect_out_has "cccc00000001 -> cccc00000002, STEP CCCC00000002" "a same-size edit with the old mtime is seen"
rb show cccc00000002
expect_out_has "STEP CCCC00000002" "show sees the edit too"

echo 'return { message = "from module v2" }' > lua/msgs.lua
rb history
expect_out_has "from module v2" "a file whose metadata comes from a project module is read again"
CACHE_TEST_MSG=set rb history
expect_out_has "env set" "a file that reads the environment is read again"

# ---- checksums stay right through the cache --------------------------------------------
rb upgrade head
expect_rc 0 "upgrade with a warm cache"
for i in 1 2 3 4 5; do
  want=$(RBACMIG_NO_CACHE=1 "$RBACMIG" show "cccc0000000$i" | sed -n 's/^SHA-256: *//p')
  got=$(sql "SELECT checksum FROM rbacmig_history WHERE revision = 'cccc0000000$i' AND direction = 'upgrade'")
  expect_eq "$got" "$want" "history checksum of cccc0000000$i equals the file's"
done
rb check
expect_rc 0 "check passes on unchanged files with a warm cache"
sed -i 's/CREATE TABLE c1 (id integer)/CREATE TABLE c1 (id bigint )/' migrations/cccc00000001_m.lua
rb check
expect_rc 1 "check catches an edit of an applied file behind a warm cache"
expect_out_has "changed: migrations/cccc00000001_m.lua" "check names the edited file"

# ---- broken and removed files ----------------------------------------------------------
cp migrations/cccc00000003_m.lua "$TEST_DIR/keep3"
echo 'return {' >> migrations/cccc00000003_m.lua
rb history
expect_rc 1 "a file broken after it was cached fails"
expect_one_error_line "broken file"
expect_err_has "cccc00000003_m.lua" "the error names the broken file"
cp "$TEST_DIR/keep3" migrations/cccc00000003_m.lua

rm migrations/cccc00000005_m.lua
rb history
expect_rc 0 "history after removing the head file"
expect_eq "$(echo "$OUT" | grep -c cccc00000005)" 0 "a removed file is not listed from the cache"

# ---- a cache that is corrupt, or cannot be written ----------------------------------------
sleep 2.2
RBACMIG_NO_CACHE=1 rb history -v
UNCACHED=$OUT
rb history -v
cf=$(find "$RBACMIG_CACHE_DIR" -type f | head -1)
head -c 4096 /dev/urandom > "$cf"
rb history -v
expect_rc 0 "history with a corrupt cache"
expect_eq "$OUT" "$UNCACHED" "a corrupt cache is not used"
truncate -s 40 "$cf"
rb history -v
expect_eq "$OUT" "$UNCACHED" "a truncated cache is not used"

rm -rf "$RBACMIG_CACHE_DIR"
echo "not a directory" > "$RBACMIG_CACHE_DIR"
rb history -v
expect_rc 0 "history when the cache cannot be written"
expect_eq "$OUT" "$UNCACHED" "the same output without a cache"
expect_eq "$(printf '%s\n' "$ERR" | grep -c -e error -e warning -e cache)" 0 "nothing said about the cache"

# ---- a FIFO named like a migration is refused, not waited on -----------------------------
mkfifo migrations/zzzz_fifo.lua
for cache in on off; do
  if [ $cache = off ]; then export RBACMIG_NO_CACHE=1; fi
  OUT=$(timeout 20 "$RBACMIG" upgrade head 2>"$TEST_DIR/.stderr"); RC=$?
  ERR=$(cat "$TEST_DIR/.stderr")
  expect_rc 1 "a FIFO in migrations/ (cache $cache)"
  expect_one_error_line "FIFO (cache $cache)"
  expect_err_has "cannot read 'migrations/zzzz_fifo.lua': not a regular file" "the FIFO is named (cache $cache)"
done
unset RBACMIG_NO_CACHE
rm migrations/zzzz_fifo.lua

# ... and so is a FIFO where the config file or a project module should be
mkfifo rbacmig.lua
OUT=$(timeout 20 "$RBACMIG" current 2>"$TEST_DIR/.stderr"); RC=$?
ERR=$(cat "$TEST_DIR/.stderr")
expect_rc 1 "a FIFO named rbacmig.lua"
expect_err_has "cannot read 'rbacmig.lua': not a regular file" "the FIFO config file is named"
rm rbacmig.lua
mkdir -p lua
mkfifo lua/fifomod.lua
printf 'return { revision = "ffee00000001", down_revision = "cccc00000004", upgrade = function(db) require("fifomod") end, downgrade = function() end }\n' > migrations/ffee_fifo_user.lua
OUT=$(timeout 20 "$RBACMIG" upgrade --sql head 2>"$TEST_DIR/.stderr"); RC=$?
ERR=$(cat "$TEST_DIR/.stderr")
expect_rc 1 "a migration requiring a FIFO module"
expect_one_error_line "FIFO module"
expect_err_has "cannot read 'lua/fifomod.lua': not a regular file" "the FIFO module is named"
rm -f lua/fifomod.lua migrations/ffee_fifo_user.lua

finish
