/* runner.c: the plan executor: applies a plan step by step under the migration lock, each
 * step in its own transaction with its bookkeeping (versions.c), re-planning when another run
 * moved the version; and `stamp`, which moves the version without running a migration. What
 * the user sees of a run's steps is progress.c's. */
#include "runner.h"

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "output.h"
#include "progress.h"
#include "scripts.h"

static volatile sig_atomic_t stop_signal;
static volatile sig_atomic_t migrating;   /* runner_migrate or runner_stamp is in progress */
static db_conn *volatile running_conn;    /* the connection a migration is running on */
static volatile sig_atomic_t held;        /* runner_hold_exit: a caller has cleanup to do */

/* The signal's default action: the process ends as killed by it. */
static void die_by_signal(int signo)
{
    struct sigaction dfl;
    memset(&dfl, 0, sizeof dfl);
    dfl.sa_handler = SIG_DFL;
    sigemptyset(&dfl.sa_mask);
    sigaction(signo, &dfl, NULL);
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, signo);
    sigprocmask(SIG_UNBLOCK, &set, NULL); /* blocked while its handler runs */
    raise(signo);
    _exit(128 + signo);
}

void runner_request_stop(int signo)
{
    /* A second signal: the first did not stop the run (a finalizer that loops runs with hooks
     * off; a driver call may ignore the cancel). Nothing was committed by the step under way,
     * and the database rolls back a connection that goes away. */
    if (stop_signal)
        die_by_signal(signo);
    stop_signal = signo;
    /* Lua running (a migration, a file being loaded, an RBAC command) stops at its next
     * instruction and the server at its current statement; the runner then rolls back and
     * reports, outside the handler. With neither Lua nor a migration under way there is
     * nothing to undo: exit as the default action would. */
    bool lua = lua_host_interrupt(signo);
    if (running_conn)
        db_interrupt(running_conn);
    if (!lua && !migrating && !held)
        _exit(128 + signo);
}

void runner_hold_exit(bool on)
{
    held = on;
}

int runner_stop_signal(void)
{
    return stop_signal;
}

/* Refuses to build on an applied migration whose file was edited after it ran; with
 * --allow-changed names each and runs anyway, recording nothing: accepting the edited file
 * as the applied one is `repair`'s job, done once, not a side effect of every upgrade. */
static int refuse_changed(runner *r, version_store *vs, const rev_set *applied, bool allow,
                          rb_error *err)
{
    version_change *changes = NULL;
    int n = 0;
    if (versions_changes(vs, applied, &changes, &n, err) != 0)
        return -1;
    int rc = 0;
    if (n > 0 && !allow) {
        const revision *rev = &r->g->revs[changes[0].rev];
        rc = rb_errorf(err, RB_ERR_FAILURE,
                       "'%s' (revision %s) changed after it was applied%s", rev->path, rev->id,
                       n > 1 ? " (and others; see 'rbacmig check')" : "");
        rb_strlcpy(err->hint, "restore the applied file; or, if the edit changes nothing that "
                   "ran (a comment), record it with 'rbacmig repair'; or pass --allow-changed "
                   "to run this once anyway", sizeof err->hint);
    }
    for (int i = 0; allow && i < n; i++)
        out_note("warning: '%s' (revision %s) changed after it was applied; running anyway "
                 "(--allow-changed); 'rbacmig repair' records the edit",
                 r->g->revs[changes[i].rev].path, r->g->revs[changes[i].rev].id);
    free(changes);
    return rc;
}

static bool same_rows(const str_list *a, const str_list *b)
{
    if (a->count != b->count)
        return false;
    for (int i = 0; i < a->count; i++)
        if (!str_list_contains(b, a->items[i]))
            return false;
    return true;
}

/* The version rows read at the start of a step's transaction, under the lock, replace
 * *rows; the plan stays valid only if they are what our own last step left. Frees res. */
static int take_fresh_rows(db_result *res, str_list *rows, bool *plan_valid, rb_error *err)
{
    str_list fresh = {0};
    int failed = versions_rows_from_result(res, &fresh, err);
    db_result_free(res);
    if (failed) {
        str_list_release(&fresh);
        return -1;
    }
    *plan_valid = *plan_valid && same_rows(&fresh, rows);
    str_list_release(rows);
    *rows = fresh;
    return 0;
}

static int plan_from(runner *r, const migrate_options *opts, const str_list *rows, const target *t,
                     rev_set *applied, int **steps, int *nsteps, rb_error *err)
{
    if (graph_applied(r->g, rows, applied, err) != 0)
        return -1;
    if (graph_plan(r->g, applied, t, opts->dir, steps, nsteps, err) != 0) {
        rev_set_release(applied);
        return -1;
    }
    return 0;
}

/* Stop handling spans a whole command: a signal while it waits for the lock or does its
 * bookkeeping cancels the server's work, and the command says it was interrupted. */
static void work_begin(runner *r)
{
    migrating = 1;
    running_conn = r->conn; /* a signal cancels whatever the server is doing, lock waits too */
}

static int work_end(int rc, rb_error *err)
{
    running_conn = NULL;
    migrating = 0;
    if (rc != 0 && stop_signal && err->kind != RB_ERR_INTERRUPTED) {
        /* Cancelled outside a migration (waiting for the lock, bookkeeping): nothing of the
         * step that was under way was committed. */
        rb_error_prefix(err, "interrupted by %s", stop_signal == SIGTERM ? "SIGTERM" : "SIGINT");
        err->kind = RB_ERR_INTERRUPTED;
        err->signo = stop_signal;
    }
    return rc;
}

/* The state before any lock: the version rows (with no database to read, --sql: START's, or
 * none) and the target resolved against them, once: relative targets (+1, -2) must not drift
 * while concurrent runs move the database. */
static int first_look(runner *r, version_store *vs, const migrate_options *opts, str_list *rows,
                      bool *exists, target *t, rb_error *err)
{
    if (!db_can_read(r->conn)) {
        /* No database to read: start from START (or base) and write every step. */
        if (opts->sql_start && strcmp(opts->sql_start, "base") != 0) {
            int idx;
            if (graph_resolve_one(r->g, opts->sql_start, &idx, err) != 0)
                return -1;
            if (str_list_push(rows, r->g->revs[idx].id) != 0)
                return rb_errorf(err, RB_ERR_FAILURE, "out of memory");
        }
    } else if (versions_read(vs, rows, exists, err) != 0) {
        return -1;
    }
    str_list none = {0};
    rev_set applied;
    if (graph_applied(r->g, opts->purge ? &none : rows, &applied, err) != 0)
        return -1;
    int rc = graph_resolve_target(r->g, opts->target, opts->dir, &applied, t, err);
    rev_set_release(&applied);
    return rc;
}

int runner_stamp(runner *r, const migrate_options *opts, rb_error *err)
{
    version_store vs;
    str_list rows = {0};
    bool exists = false;
    target t;
    work_begin(r);
    int rc = versions_open(&vs, r->conn, r->cfg, r->g, err);
    if (rc == 0 && opts->fixed_target)
        t = *opts->fixed_target;
    else if (rc == 0)
        rc = first_look(r, &vs, opts, &rows, &exists, &t, err);
    if (rc == 0)
        rc = versions_stamp(&vs, opts->purge, &t, err);
    if (rc == 0) {
        char *ids = t.kind == TARGET_BASE ? strdup("base") : graph_join_ids(r->g, t.revs, t.nrevs);
        out_progress("Stamped %s", ids ? ids : "");
        free(ids);
    }
    str_list_release(&rows);
    versions_close(&vs);
    return work_end(rc, err);
}

/* One run of runner_migrate: what its loop carries from step to step. */
typedef struct run {
    runner *r;
    const migrate_options *opts;
    version_store vs;
    target t;
    long long key;            /* the migration lock */
    char *read_sql;           /* the locked re-read of each step */
    str_list rows;            /* the version rows, as last read or written */
    rev_set applied;          /* the applied set the plan starts from, moved by each step */
    int *steps, nsteps, next; /* the plan, and the index of its next step */
    bool exists;              /* the version table existed at the last read */
    bool tables_ready;        /* rbacmig's tables exist: a step's begin reads the version */
    bool plan_valid;          /* steps still follow from rows */
    bool fk_off;              /* SQLite: the next step runs with foreign keys off */
    progress progress;        /* the step lines, and the clock that times each step */
} run;

static const char *verb_of(direction dir)
{
    return dir == DIR_UPGRADE ? "upgrade" : "downgrade";
}

/* Under --single-transaction a failure takes the command's earlier steps with it (the plan
 * is only made again before the transaction began, so they are this plan's): the text that
 * says so (", and --single-transaction rolled back the 2 steps before it (a, b) too"), or ""
 * when there are none. Returns their number. */
static int rolled_back_too(const run *s, char *buf, size_t size)
{
    int n = s->opts->single_transaction && db_executes(s->r->conn) ? s->next : 0;
    buf[0] = '\0';
    if (n == 0)
        return 0;
    char *ids = graph_join_ids(s->r->g, s->steps, n);
    snprintf(buf, size, ", and --single-transaction rolled back the %d step%s before it (%s) "
             "too", n, n == 1 ? "" : "s", ids ? ids : "out of memory");
    free(ids);
    return n;
}

/* "upgrade X failed" (a step's own failure), with what --single-transaction took along. */
static int step_failed(const run *s, const revision *rev, rb_error *err)
{
    char too[512];
    rolled_back_too(s, too, sizeof too);
    return rb_error_prefix(err, "%s %s failed%s", verb_of(s->opts->dir), rev->id, too);
}

/* The current plan's steps from the next one on. */
static int steps_left(const run *s)
{
    return s->nsteps - s->next;
}

/* A non-transactional step failed: its statements that ran are committed. Records the
 * failure, so that nothing runs on top of a half-applied revision. */
static void record_failure(run *s, const revision *rev, double ms, rb_error *err)
{
    rb_error record;
    if (db_begin_locked(s->r->conn, s->key, &record) == 0 &&
        versions_write_history(&s->vs, rev, verb_of(s->opts->dir), ms, false, &record) == 0)
        db_commit(s->r->conn, &record);
    else
        db_rollback(s->r->conn);
    rb_strlcpy(err->hint, "the migration ran outside a transaction: its statements before "
               "the failure are committed; 'rbacmig check' shows it as failed", sizeof err->hint);
}

/* The step's bookkeeping: the applied set moves by the step, the version table and the
 * history follow, and the transaction commits (unless --single-transaction). */
static int record_success(run *s, const revision *rev, double ms, db_reopen *reopen,
                          rb_error *err)
{
    const graph *g = s->r->g;
    int idx = s->steps[s->next];
    rev_set next;
    if (rev_set_init(&next, g) != 0)
        return rb_errorf(err, RB_ERR_FAILURE, "out of memory");
    memcpy(next.in, s->applied.in, (size_t)g->count);
    next.count = s->applied.count;
    if (s->opts->dir == DIR_UPGRADE) {
        rev_set_add(&next, idx);
    } else {
        next.in[idx] = 0;
        next.count--;
    }
    /* A deferred constraint fails at COMMIT: the error names the step it failed. */
    if (versions_record_step(&s->vs, &s->rows, &next, rev, verb_of(s->opts->dir), ms,
                             !s->opts->single_transaction, reopen, err) != 0) {
        rev_set_release(&next);
        return step_failed(s, rev, err);
    }
    str_list_release(&s->rows);
    rev_set_release(&s->applied);
    s->applied = next;
    if (graph_version_rows(g, &next, &s->rows) != 0)
        /* Committed, but the rows for the next step's plan could not be kept. */
        return rb_errorf(err, RB_ERR_FAILURE, "out of memory after %s %s",
                         verb_of(s->opts->dir), rev->id);
    return 0;
}

/* A transactional = false step ran in autocommit mode, without the lock; its bookkeeping
 * takes the lock again in a transaction of its own. Another run may have recorded a step
 * meanwhile (a second pod running the same one): written over that, the bookkeeping would
 * erase it. So the version is read again first, and a move stops the run. */
static int relock_after_autocommit(run *s, const revision *rev, rb_error *err)
{
    db_conn *c = s->r->conn;
    if (!s->tables_ready || !db_can_read(c))
        return db_begin_locked(c, s->key, err);
    db_result *res = NULL;
    bool unmoved = true;
    if (db_begin_locked_read(c, s->key, s->read_sql, &res, err) != 0 ||
        take_fresh_rows(res, &s->rows, &unmoved, err) != 0)
        return -1;
    if (unmoved)
        return 0;
    char *now = str_list_join(&s->rows, ", ");
    rb_errorf(err, RB_ERR_FAILURE, "%s %s ran outside a transaction, and meanwhile another run "
              "moved the version (to %s): its statements are committed, but not recorded by "
              "this run", verb_of(s->opts->dir), rev->id, now && now[0] ? now : "base");
    free(now);
    rb_strlcpy(err->hint, "'rbacmig check' shows where the database is; when its schema is "
               "what that revision makes, 'rbacmig stamp' records it", sizeof err->hint);
    return -1;
}

/* Runs the plan's next step and records it; without --single-transaction it ends the
 * transaction the loop began, and with `reopen` may begin the next one (db_exec_commit).
 * A rerun with foreign keys off prints no new line. */
static int apply_step(run *s, db_reopen *reopen, rb_error *err)
{
    runner *r = s->r;
    const revision *rev = &r->g->revs[s->steps[s->next]];
    const char *verb = verb_of(s->opts->dir);
    /* A rerun with foreign keys off is the same step: it is not announced again. */
    if (progress_step_start(&s->progress, s->steps[s->next], steps_left(s), !s->fk_off,
                            err) != 0)
        return -1;
    int rc = scripts_run_migration(r->host, rev, verb, r->conn, err);
    if (stop_signal) {
        char too[512];
        int nearlier = rolled_back_too(s, too, sizeof too);
        return rb_error_interrupted(err, stop_signal,
                         "interrupted by %s: %s %s rolled back%s; the database stays at the "
                         "revision %s", stop_signal == SIGTERM ? "SIGTERM" : "SIGINT", verb,
                         rev->id, too, nearlier ? "it was at before the command" : "before it");
    }
    if (rc != 0 && !db_in_transaction(r->conn) && db_executes(r->conn))
        record_failure(s, rev, progress_step_ms(&s->progress), err);
    if (rc != 0)
        return step_failed(s, rev, err);
    double ms = progress_step_ms(&s->progress);
    if (s->fk_off && versions_check_foreign_keys(&s->vs, rev, err) != 0)
        return step_failed(s, rev, err);
    if (!db_in_transaction(r->conn) && relock_after_autocommit(s, rev, err) != 0)
        return -1;
    if (record_success(s, rev, ms, reopen, err) != 0)
        return -1;
    progress_step_done(&s->progress, steps_left(s));
    return 0;
}

/* Before any lock: the version, the target, and the fast path of a no-op run (one query, no
 * lock, no write). 1: nothing to do. */
static int run_prepare(run *s, rb_error *err)
{
    runner *r = s->r;
    if (versions_open(&s->vs, r->conn, r->cfg, r->g, err) != 0 ||
        first_look(r, &s->vs, s->opts, &s->rows, &s->exists, &s->t, err) != 0)
        return -1;
    if (db_can_read(r->conn)) {
        if (plan_from(r, s->opts, &s->rows, &s->t, &s->applied, &s->steps, &s->nsteps, err) != 0)
            return -1;
        if (s->nsteps == 0) {
            out_debug("nothing to do: already at the target");
            return 1;
        }
        if (s->exists && versions_refuse_failed(&s->vs, err) != 0)
            return -1;
        if (s->exists && refuse_changed(r, &s->vs, &s->applied, s->opts->allow_changed, err) != 0)
            return -1;
        rev_set_release(&s->applied);
        free(s->steps);
        s->steps = NULL;
    }
    /* rbacmig's tables are made together, in one transaction: a version table that could
     * be read means both exist, and the first step can begin with the locked read. */
    s->tables_ready = s->exists && db_can_read(r->conn);
    s->plan_valid = false;
    return (s->read_sql = versions_read_sql(&s->vs, err)) ? 0 : -1;
}

/* Begins the next step's transaction under the migration lock (SQLite: with foreign keys
 * switched off first when the step needs them so). Another run may have moved the database
 * while we waited for the lock, so the version is read again under it: in the same round
 * trip once the tables exist. */
static int open_step_transaction(run *s, rb_error *err)
{
    db_conn *c = s->r->conn;
    if (s->fk_off && versions_foreign_keys(&s->vs, false, err) != 0)
        return -1;
    if (s->tables_ready && db_can_read(c)) {
        db_result *res = NULL;
        if (db_begin_locked_read(c, s->key, s->read_sql, &res, err) != 0)
            return -1;
        return take_fresh_rows(res, &s->rows, &s->plan_valid, err);
    }
    if (db_begin_locked(c, s->key, err) != 0)
        return -1;
    if (!s->tables_ready && versions_ensure_tables(&s->vs, err) != 0)
        return -1;
    s->tables_ready = true;
    if (!db_can_read(c))
        return 0; /* unread, the state only moves by our own steps: rows stay as they are */
    str_list_release(&s->rows);
    s->plan_valid = false;
    return versions_read(&s->vs, &s->rows, &s->exists, err);
}

/* Planning walks the whole graph; doing it once per step made a long upgrade quadratic. The
 * plan is made again only when another run moved the database. */
static int replan_if_moved(run *s, rb_error *err)
{
    if (s->plan_valid)
        return 0;
    rev_set_release(&s->applied);
    free(s->steps);
    s->steps = NULL;
    if (plan_from(s->r, s->opts, &s->rows, &s->t, &s->applied, &s->steps, &s->nsteps, err) != 0)
        return -1;
    s->next = 0;
    s->plan_valid = true;
    return 0;
}

/* A transactional = false step runs its statements one by one, outside a transaction; the
 * lock and the version update take a transaction of their own afterwards. */
static int leave_transaction(run *s, const revision *rev, rb_error *err)
{
    if (s->opts->single_transaction)
        return rb_errorf(err, RB_ERR_FAILURE,
                         "%s: transactional = false cannot run inside --single-transaction",
                         rev->path);
    if (db_via_transaction_pooler(s->r->conn))
        return rb_errorf(err, RB_ERR_FAILURE,
                         "%s: transactional = false needs one database session, which a "
                         "transaction-mode pooler does not give; use the direct URL (port "
                         "5432) or the session-mode pooler for this migration", rev->path);
    return db_commit(s->r->conn, err);
}

/* After a step failed: whether to run it again with foreign keys off (RB_ERR_NEEDS_FK_OFF,
 * see versions.h), having rolled it back. */
static bool retry_with_foreign_keys_off(run *s, const revision *rev, rb_error *err)
{
    if (err->kind != RB_ERR_NEEDS_FK_OFF || s->fk_off || !rev->transactional ||
        s->opts->single_transaction || stop_signal)
        return false;
    out_debug("%s rebuilds a referenced table: running it again with foreign keys off",
              rev->path);
    db_rollback(s->r->conn);
    s->fk_off = true;
    s->tables_ready = false; /* the rollback may have undone their creation */
    rb_error_init(err);
    return true;
}

/* After a step was recorded: the next step's locked read that came back with the COMMIT,
 * foreign keys back on, and a stop asked for meanwhile. */
static int after_step(run *s, const revision *rev, db_result *fresh, rb_error *err)
{
    s->next++;
    if (fresh) {
        out_debug("the next step's transaction began with this step's COMMIT");
        if (take_fresh_rows(fresh, &s->rows, &s->plan_valid, err) != 0)
            return -1;
    }
    if (!s->opts->single_transaction && s->fk_off) {
        s->fk_off = false;
        if (versions_foreign_keys(&s->vs, true, err) != 0)
            return -1;
    }
    if (!stop_signal)
        return 0;
    const char *sig = stop_signal == SIGTERM ? "SIGTERM" : "SIGINT";
    if (db_in_transaction(s->r->conn) && s->opts->single_transaction && db_executes(s->r->conn))
        return rb_error_interrupted(err, stop_signal, "interrupted by %s after %s %s: --single-transaction "
                         "rolled back all %d step%s of the command; the database stays at the "
                         "revision it was at before it", sig, verb_of(s->opts->dir), rev->id,
                         s->next, s->next == 1 ? "" : "s");
    return rb_error_interrupted(err, stop_signal, "interrupted by %s after %s %s; the database is at a "
                     "consistent revision", sig, verb_of(s->opts->dir), rev->id);
}

/* One turn of the loop: 0 to go on, 1 when the plan is done, -1 on failure. */
static int run_step(run *s, rb_error *err)
{
    db_conn *c = s->r->conn;
    /* Our own plan is done: no transaction to open just to find nothing left. */
    if (s->plan_valid && s->next == s->nsteps && !db_in_transaction(c))
        return 1;
    if (!db_in_transaction(c) && open_step_transaction(s, err) != 0)
        return -1;
    if (replan_if_moved(s, err) != 0)
        return -1;
    if (s->next == s->nsteps)
        return 1;
    const revision *rev = &s->r->g->revs[s->steps[s->next]];
    if (!rev->transactional && leave_transaction(s, rev, err) != 0)
        return -1;
    /* The next step's transaction may begin in the round trip that commits this one
     * (PostgreSQL): its locked read then comes back with the commit. */
    db_reopen reopen = {.key = s->key, .read_sql = s->read_sql};
    bool want_reopen = !s->opts->single_transaction && db_can_read(c) && s->tables_ready &&
                       s->next + 1 < s->nsteps &&
                       s->r->g->revs[s->steps[s->next + 1]].transactional;
    if (apply_step(s, want_reopen ? &reopen : NULL, err) != 0) {
        db_result_free(reopen.rows); /* a step that committed, then ran out of memory */
        return retry_with_foreign_keys_off(s, rev, err) ? 0 : -1;
    }
    return after_step(s, rev, want_reopen ? reopen.rows : NULL, err);
}

int runner_migrate(runner *r, const migrate_options *opts, rb_error *err)
{
    run s = {.r = r, .opts = opts, .key = versions_lock_key(r->cfg)};
    progress_init(&s.progress, r->g, opts->dir, db_executes(r->conn));
    work_begin(r);
    int rc = run_prepare(&s, err);
    while (rc == 0)
        rc = run_step(&s, err);
    if (rc == 1 && db_in_transaction(r->conn) && db_commit(r->conn, err) != 0) {
        /* A deferred constraint or a lost connection at the one COMMIT. */
        if (opts->single_transaction && db_executes(r->conn))
            rb_error_prefix(err, "committing the %d step%s of --single-transaction failed, "
                            "so none of them is applied", s.nsteps, s.nsteps == 1 ? "" : "s");
        rc = -1;
    }
    if (rc == 1)
        progress_finish(&s.progress);
    db_rollback(r->conn); /* only if a failure left a transaction open */
    if (s.fk_off) {
        rb_error ignored;
        versions_foreign_keys(&s.vs, true, &ignored);
    }
    rev_set_release(&s.applied);
    free(s.steps);
    str_list_release(&s.rows);
    versions_close(&s.vs);
    free(s.read_sql);
    return work_end(rc == 1 ? 0 : rc, err);
}
