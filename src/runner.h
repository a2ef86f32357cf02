/* runner.h: the plan executor: runs a plan against a database, each step in its own
 * transaction together with its version-table update and history row (versions.h), under
 * the migration lock, with the version re-read under the lock so concurrent runs each apply
 * a step once; and stamps. The inspection commands read the version store directly. */
#ifndef RBACMIG_RUNNER_H
#define RBACMIG_RUNNER_H

#include <stdbool.h>

#include "config.h"
#include "driver.h"
#include "graph.h"
#include "lua_host.h"
#include "versions.h"

typedef struct migrate_options {
    direction dir;
    const char *target;        /* as typed: head, base, +1, REV, ... */
    const char *sql_start;     /* --sql START:END: the revision to start from (NULL = base) */
    bool single_transaction;   /* the whole command in one transaction */
    bool purge;                /* stamp --purge: empty the version table first */
    bool allow_changed;        /* run even if an applied file changed since it was applied */
    const target *fixed_target; /* stamp: resolved already (stamp --from-alembic), or NULL */
} migrate_options;

typedef struct runner {
    const config *cfg;
    lua_host *host;
    const graph *g;
    db_conn *conn;
} runner;

/* upgrade and downgrade: the plan from the database's version to opts->target. */
int runner_migrate(runner *r, const migrate_options *opts, rb_error *err);

/* stamp: moves the version table to the target in one locked transaction, running no
 * migration, and records a history row ("stamp" or "unstamp") for every revision whose state
 * it changed, for the target, and for failed revisions (stamping resolves a failure). */
int runner_stamp(runner *r, const migrate_options *opts, rb_error *err);

/* Called from a signal handler: stop the running migration (rolled back by the runner), or
 * the running Lua code; with neither under way, exit 128 + signo at once. */
void runner_request_stop(int signo);

/* While on, a signal with nothing under way does not exit at once: it is recorded (see
 * runner_stop_signal) for a caller that has something to clean up first (a shadow database,
 * src/shadow.c); the work under way is still cancelled. */
void runner_hold_exit(bool on);

/* The signal that asked the run to stop, or 0. */
int runner_stop_signal(void);

#endif
