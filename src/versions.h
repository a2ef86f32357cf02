/* versions.h: the version store: rbacmig's own two tables in the migrated database, the
 * version table (the applied heads, as alembic_version) and the history table (one row per
 * upgrade, downgrade, stamp, unstamp, repair, or failure of a non-transactional step).
 * It knows their names and per-dialect DDL, reads and writes them, answers which applied
 * files changed and which revisions failed midway, closes the tables to Supabase's API roles,
 * switches SQLite's foreign keys for the steps that need them off, and records what moves
 * only the bookkeeping: `stamp` and `repair`.
 *
 * It runs no migration and decides no plan: the runner (runner.c) does, calling this store
 * inside the transactions it opens; the inspection commands (check, current, repair) call
 * it directly. Depends on the driver (statements, quoting, the
 * migration lock), the graph (revisions, applied sets, version rows) and the config (schema
 * and table names); nothing here prints. */
#ifndef RBACMIG_VERSIONS_H
#define RBACMIG_VERSIONS_H

#include <stdbool.h>

#include "config.h"
#include "driver.h"
#include "graph.h"

typedef struct version_store {
    db_conn *conn;
    const config *cfg;
    const graph *g;
    char *version; /* the version table, quoted ("schema"."table" on PostgreSQL) */
    char *history; /* the history table, the same way */
    char *schema;  /* the schema, quoted (used on PostgreSQL only) */
} version_store;

/* Quotes the names for conn's dialect; versions_close frees them. */
int versions_open(version_store *vs, db_conn *conn, const config *cfg, const graph *g,
                  rb_error *err);
void versions_close(version_store *vs);

/* The migration lock's key for this config (PostgreSQL advisory lock); stable across
 * rbacmig versions. Every command that writes takes it. */
long long versions_lock_key(const config *cfg);

/* --- reading --- */

/* The version table's rows; *exists is false (and rows empty) when it does not exist yet
 * (outside a transaction only: inside one the error stands). */
int versions_read(version_store *vs, str_list *rows, bool *exists, rb_error *err);
/* The statement versions_read runs, for a read under the lock (db_begin_locked_read);
 * caller frees, NULL after filling err. */
char *versions_read_sql(const version_store *vs, rb_error *err);
/* The version rows of that statement's result, appended to rows. */
int versions_rows_from_result(const db_result *res, str_list *rows, rb_error *err);

/* An applied revision whose file is not the one that was applied, and the history row
 * that recorded the applied one. */
typedef struct version_change {
    int rev;             /* graph index */
    char recorded[65];   /* the SHA-256 the history holds (the file's is g->revs[rev].sha256) */
    char how[16];        /* the row that recorded it: "upgrade", "stamp" or "repair" */
    char who[128];       /* its database user, or "" */
    char when[64];       /* its start time as the database prints it, or "" */
} version_change;

/* Applied revisions whose file changed: each applied revision's SHA-256 against the one its
 * latest successful upgrade, stamp or repair recorded in the history table, in topological
 * order. Fills *changes (caller frees). */
int versions_changes(version_store *vs, const rev_set *applied, version_change **changes,
                     int *nchanges, rb_error *err);
/* The same, as graph indices (caller frees *changed). */
int versions_changed_files(version_store *vs, const rev_set *applied, int **changed,
                           int *nchanged, rb_error *err);
/* Revisions whose latest history row is a failure (a non-transactional migration that
 * stopped midway and was not resolved with `stamp`), oldest first. */
int versions_failed(version_store *vs, str_list *failed, rb_error *err);

/* --- writing: inside a transaction the caller began under the migration lock --- */

/* Creates the schema (PostgreSQL, if not public), the version table and the history table
 * when missing; on PostgreSQL also closes them to Supabase's API roles. */
int versions_ensure_tables(version_store *vs, rb_error *err);
/* Empties the version table (stamp --purge). */
int versions_clear(version_store *vs, rb_error *err);
/* Brings the version table from `before` rows to the rows of the applied set. */
int versions_write(version_store *vs, const str_list *before, const rev_set *applied,
                   rb_error *err);
/* Appends a history row for rev: direction_name is "upgrade", "downgrade", "stamp",
 * "unstamp" or "repair"; ms its duration (NULL where statements only are written: --sql). */
int versions_write_history(version_store *vs, const revision *rev, const char *direction_name,
                           double ms, bool success, rb_error *err);
/* A successful step's bookkeeping: the version rows from `before` to `applied` and its
 * history row, then the COMMIT when asked. On PostgreSQL a linear step is one statement sent
 * with its COMMIT, and with `reopen` that flight may begin the next step's transaction
 * (db_exec_commit). */
int versions_record_step(version_store *vs, const str_list *before, const rev_set *applied,
                         const revision *rev, const char *direction_name, double ms,
                         bool commit, db_reopen *reopen, rb_error *err);

/* --- SQLite's foreign keys (no-ops where the driver has no switch: PostgreSQL, --sql) ---
 *
 * SQLite cannot ALTER a table in place; the schema builder rebuilds it, and a rebuild drops
 * the old table, which with foreign keys on would fire ON DELETE actions in the tables that
 * reference it. The builder then fails the step with RB_ERR_NEEDS_FK_OFF and the runner runs
 * it again with foreign keys off (a pragma that only takes effect outside a transaction),
 * checking them with versions_check_foreign_keys before it commits: SQLite's own ALTER TABLE
 * procedure. Every other step runs with foreign keys on, so ON DELETE CASCADE works in data
 * migrations as users expect. */

/* PRAGMA foreign_keys: only takes effect outside a transaction. */
int versions_foreign_keys(version_store *vs, bool on, rb_error *err);
/* Fails, naming rev, when rows violate foreign keys (after a step ran with them off). */
int versions_check_foreign_keys(version_store *vs, const revision *rev, rb_error *err);

/* A non-transactional migration that stopped midway leaves the database between two
 * revisions: fails with the first failed revision named and a hint to stamp, if any. */
int versions_refuse_failed(version_store *vs, rb_error *err);

/* `stamp`: in one transaction under the migration lock, moves the version table to the
 * target (with purge, emptied first), running no migration, and records a history row for
 * every revision whose state it changed, for the target, and for failed revisions (stamping
 * is how a person resolves a failure): "stamp" for a revision now recorded as applied,
 * "unstamp" for one recorded as not applied (`stamp base` unstamps them all). */
int versions_stamp(version_store *vs, bool purge, const target *t, rb_error *err);

/* `repair`: records the current SHA-256 of every applied file that changed, as a history row
 * ("repair") each, under the migration lock, and changes nothing else: no migration runs
 * and the version table stays. With dry_run only finds them. Fills *changes with what was
 * (or would be) recorded (caller frees). */
int versions_repair(version_store *vs, bool dry_run, version_change **changes, int *nchanges,
                    rb_error *err);

#endif
