/* revcache.h: what each migration file said last time, so that unchanged files are not
 * compiled again.
 *
 * Loading the graph runs every migration file to read its revision, parents, labels and
 * message: Lua compilation is most of the time of `history` or `current` over a long
 * history, and of a no-op `upgrade`. The cache keeps that metadata (and the file's SHA-256)
 * per file name, keyed by the file's identity on disk: device, inode, size, mtime and
 * ctime. An edit, a copy over it, a checkout or a rename changes at least the ctime, which
 * no user can set back, so a file whose key still matches has the same bytes as when it
 * was read. Files changed in the last two seconds are not stored (a second edit within the
 * same clock tick could keep the key), nor files whose metadata depended on more than their
 * text (a project module from `require`, or os.getenv/os.time/os.date/os.clock at the top
 * of the file), whose changes the key would not see.
 *
 * The cache only ever stands in for reading metadata: a migration that runs is always read
 * and compiled from its file.
 *
 * One cache file per migrations directory (named after the SHA-256 of its real path) in
 * $RBACMIG_CACHE_DIR, else $XDG_CACHE_HOME/rbacmig, else $HOME/.cache/rbacmig: an SQLite
 * database, which also records which rbacmig binary wrote it, with a digest per entry.
 * RBACMIG_NO_CACHE=1 turns the cache off. A cache that is missing, unreadable, corrupt,
 * owned by another user (or in a directory others can write to) or written by another
 * build is not used, and the next save replaces it; one that cannot be written is read
 * but not updated: everything then works as without it. Linux: the binary's identity
 * comes from /proc/self/exe. Depends on graph.h (the revision struct), hashmap.h,
 * sha256.h and SQLite.
 *
 * The key is trusted as is only where metadata is merely shown (current, history...).
 * Where a checksum is recorded or compared (upgrade, downgrade, check, show...) the caller
 * hashes the file's bytes and the entry is used only if its SHA-256 is the same, so file
 * systems whose timestamps can be set back, or whose clocks disagree with this machine's,
 * cannot put a stale checksum in the history or hide an edit from `check`. */
#ifndef RBACMIG_REVCACHE_H
#define RBACMIG_REVCACHE_H

#include <stdbool.h>
#include <sys/stat.h>

#include "graph.h"

typedef struct revcache revcache;

/* The cache of the migrations directory dir, loaded; NULL when it is turned off or there
 * is nowhere to keep it. */
revcache *revcache_open(const char *dir);

/* As revcache_open, with the cache file's directory given (tests, fuzzing); now is the
 * current time in seconds, for the "changed in the last two seconds" rule. */
revcache *revcache_open_at(const char *dir, const char *cache_dir, double now);

/* When name's entry (as saved by an earlier run) matches st (and, if sha256 is not NULL, carries that SHA-256 of the
 * file's bytes), fills *out (which it initialises; the caller owns it, path set to a copy of
 * path) and returns true. Either way name is remembered as present, so that entries of
 * removed files are dropped. */
bool revcache_lookup(revcache *c, const char *name, const struct stat *st, const char *path,
                     const char *sha256, revision *out);

/* Remembers what r (just read from name, whose identity before the read was st) says,
 * unless the file changed too recently to trust its key. */
void revcache_store(revcache *c, const char *name, const struct stat *st, const revision *r);

/* Writes the cache back if it changed (in one SQLite transaction), keeping only the entries
 * looked up or stored in this run; errors are ignored, as a cache is only an optimisation.
 * NULL is fine. */
void revcache_save(revcache *c);

/* Frees the cache (NULL is fine). */
void revcache_free(revcache *c);

#endif
