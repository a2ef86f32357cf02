/* runner.h: runs a plan against a database: each step in its own transaction together with
 * its version-table update and history row, under the migration lock, with the version
 * re-read under the lock so concurrent runs each apply a step once. Also reads the version
 * table for the inspection commands, and stamps. */
#ifndef RBACMIG_RUNNER_H
#define RBACMIG_RUNNER_H

#include <stdbool.h>

#include "config.h"
#include "driver.h"
#include "graph.h"
#include "lua_host.h"

typedef struct migrate_options {
    direction dir;
    const char *target;        /* as typed: head, base, +1, REV, ... */
    const char *sql_start;     /* --sql START:END: the revision to start from (NULL = base) */
    bool single_transaction;   /* the whole command in one transaction */
    bool stamp;                /* move the version table only; run no migration */
    bool purge;                /* stamp --purge: empty the version table first */
    bool allow_changed;        /* run even if an applied file changed since it was applied */
} migrate_options;

typedef struct runner {
    const config *cfg;
    lua_host *host;
    const graph *g;
    db_conn *conn;
} runner;

int runner_migrate(runner *r, const migrate_options *opts, rb_error *err);

/* The version table's rows; *exists is false (and rows empty) when it does not exist yet. */
int runner_read_versions(runner *r, str_list *rows, bool *exists, rb_error *err);

/* An applied revision whose file is not the one that was applied, and the history row
 * that recorded the applied one. */
typedef struct runner_change {
    int rev;             /* graph index */
    char recorded[65];   /* the SHA-256 the history holds (the file's is g->revs[rev].sha256) */
    char how[16];        /* the row that recorded it: "upgrade", "stamp" or "repair" */
    char who[128];       /* its database user, or "" */
    char when[64];       /* its start time as the database prints it, or "" */
} runner_change;

/* Applied revisions whose file changed: each applied revision's SHA-256 against the one its
 * latest successful upgrade, stamp or repair recorded in the history table, in topological
 * order. Fills *changes (caller frees). */
int runner_changes(runner *r, const rev_set *applied, runner_change **changes, int *nchanges,
                   rb_error *err);
/* The same, as graph indices (caller frees *changed). */
int runner_changed_files(runner *r, const rev_set *applied, int **changed, int *nchanged,
                         rb_error *err);

/* `repair`: records the current SHA-256 of every applied file that changed, as a history row
 * ("repair") each, under the migration lock, and changes nothing else: no migration runs
 * and the version table stays. With dry_run only finds them. Fills *changes with what was
 * (or would be) recorded, in the form runner_changes gives (caller frees). */
int runner_repair(runner *r, bool dry_run, runner_change **changes, int *nchanges,
                  rb_error *err);

/* Revisions whose latest history row is a failure (a non-transactional migration that
 * stopped midway and was not resolved with `stamp`). */
int runner_failed_revisions(runner *r, str_list *failed, rb_error *err);

/* The migration lock's key for this config (PostgreSQL advisory lock); stable across
 * rbacmig versions. Every command that writes takes it. */
long long runner_lock_key(const config *cfg);

/* Called from a signal handler: stop the running migration (rolled back by the runner), or
 * the running Lua code; with neither under way, exit 128 + signo at once. */
void runner_request_stop(int signo);
/* The signal that asked the run to stop, or 0. */
int runner_stop_signal(void);

#endif
