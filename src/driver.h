/* driver.h: the database interface the rest of rbacmig sees: an opaque connection, opened
 * for a URL by the driver registered for its scheme (driver.c: PostgreSQL, SQLite; --sql opens
 * the offline driver, which writes SQL instead of running it), statements, the locked
 * migration transaction, COPY, and accessors for what a caller may ask of a connection.
 *
 * Values cross the interface as db_value (db_value.h), so nothing above this layer sees
 * libpq, SQLite or Lua types. Errors are rb_error values carrying their kind (a missing
 * table is RB_ERR_NOT_FOUND, a lock wait past the timeout RB_ERR_LOCK_TIMEOUT) and SQLSTATE,
 * detail, hint and the statement. A driver implements driver_impl.h. */
#ifndef RBACMIG_DRIVER_H
#define RBACMIG_DRIVER_H

#include <stdbool.h>
#include <stddef.h>

#include "config.h"
#include "db_value.h"
#include "error.h"

typedef struct db_conn db_conn;

/* The next step's transaction, begun in the same flight that commits this one (see
 * db_exec_commit). The driver fills `rows` only when that transaction is open and holds the
 * migration lock; otherwise nothing of it is left open and the caller begins as usual. */
typedef struct db_reopen {
    long long key;        /* the migration lock, as for begin_locked */
    const char *read_sql; /* read under the lock */
    db_result *rows;      /* out: read_sql's rows, the caller's to free; or NULL */
} db_reopen;

/* How a connection is opened. */
typedef struct db_open_options {
    bool offline;            /* --sql: write SQL to stdout, run nothing */
    bool read_only;          /* inspection commands: never create a SQLite file */
    int lock_timeout_ms;     /* how long to wait for another run's lock; 0 = forever */
} db_open_options;

/* Opens a connection for cfg->database_url. Prints nothing. */
int db_open(const config *cfg, const db_open_options *opts, db_conn **out, rb_error *err);
void db_close(db_conn *c);
/* Opens n connections (each for cfgs[i].database_url) and begins each one's read-only
 * transaction (db_begin_read): diff's two databases. Connections whose driver waits on the
 * network to open (PostgreSQL) are opened at the same time, each in a thread of its own,
 * so that their connects and server start-ups overlap; others one after the other. On
 * failure nothing is left open, *failed is the index of the first connection (in cfgs'
 * order) that failed and err is its error. Prints nothing. */
int db_open_read_many(const config *cfgs, int n, const db_open_options *opts, db_conn **out,
                      int *failed, rb_error *err);

int db_exec(db_conn *c, const char *sql, int nparams, const db_value *params, db_result **rows,
            long long *affected, rb_error *err);
static inline int db_run(db_conn *c, const char *sql, rb_error *err)
{
    return db_exec(c, sql, 0, NULL, NULL, NULL, err);
}
/* Runs a script of several statements (db:exec_script) in the transaction that is open, as
 * the database's own client would: PostgreSQL's simple query protocol (one round trip, no
 * parameters; $$ bodies, comments and quoted semicolons are the server's to read), SQLite's
 * prepared statements one after another over the text; --sql writes the script. On failure
 * *stmt_no is the failing statement's number (from 1) and *line the line of the script it
 * begins on (or the line PostgreSQL points at, when it does); err is the database's error
 * with that statement's text. COPY ... FROM STDIN is refused (its rows would have to
 * follow in the script, which only psql reads). */
int db_exec_script(db_conn *c, const char *sql, int *stmt_no, int *line, rb_error *err);
int db_begin_locked(db_conn *c, long long key, rb_error *err);
/* db_begin_locked, then read_sql under the lock; *rows is the caller's to free. */
int db_begin_locked_read(db_conn *c, long long key, const char *read_sql, db_result **rows,
                         rb_error *err);
/* A transaction that only reads and never waits for the migration lock (can, list). */
int db_begin_read(db_conn *c, rb_error *err);
/* Ends the transaction, committed or (when COMMIT fails) rolled back, in every driver. */
int db_commit(db_conn *c, rb_error *err);
/* Runs one statement and commits, in one round trip where the driver can. When the
 * statement fails nothing is committed and the transaction is left for db_rollback.
 * With `next` (nullable), the driver may also begin the next locked transaction and run
 * next->read_sql in that round trip: on success next->rows then holds the rows and the
 * connection is in that transaction; next->rows NULL means it was not begun (a driver
 * without pipelining, the lock taken by another run, any error there), and the caller
 * calls db_begin_locked_read, which waits and reports as usual. */
int db_exec_commit(db_conn *c, const char *sql, int nparams, const db_value *params,
                   db_reopen *next, rb_error *err);
void db_rollback(db_conn *c);
/* A batch of reads, in two halves so that several connections' servers work at the same
 * time: db_send_queries hands n queries (no parameters) to the server without waiting;
 * db_collect_queries, given the same sqls, waits for their rows (results[i], the caller's
 * to free). Nothing else may run on c in between. A driver without pipelining runs them
 * at collect. On error every results[i] is NULL and err names the first query that failed;
 * the transaction is then aborted, for db_rollback. */
int db_send_queries(db_conn *c, const char *const *sqls, int n, rb_error *err);
int db_collect_queries(db_conn *c, const char *const *sqls, int n, db_result **results,
                       rb_error *err);
char *db_quote_ident(db_conn *c, const char *name);
/* COPY: true when the driver can stream rows (PostgreSQL, online). */
bool db_can_copy(const db_conn *c);
int db_copy_begin(db_conn *c, const char *copy_sql, rb_error *err);
int db_copy_row(db_conn *c, const db_value *values, int n, rb_error *err);
int db_copy_end(db_conn *c, const char *abort_reason, long long *copied, rb_error *err);
/* Cancels the statement in progress (from a signal handler). */
void db_interrupt(db_conn *c);
const char *db_dialect_name(const db_conn *c);

/* --- what a caller may ask of a connection --- */

db_dialect db_conn_dialect(const db_conn *c);
/* "postgresql" or "sqlite" (also offline: the dialect the script is written for). */
const char *db_dialect_name(const db_conn *c);
/* Queries answer with rows (not so for --sql, which has no database to ask). */
bool db_can_read(const db_conn *c);
/* Statements take effect (not so for --sql): a failure can leave work committed or rolled
 * back, and a step's duration is worth reporting and recording. */
bool db_executes(const db_conn *c);
/* --sql: statements are written to stdout as a script instead of running. */
bool db_is_offline(const db_conn *c);
/* Inside the transaction db_begin_locked began (or db_exec_commit's `next`). */
bool db_in_transaction(const db_conn *c);
/* Reached through a transaction-mode pooler: one session per transaction only. */
bool db_via_transaction_pooler(const db_conn *c);
/* The database user, for history rows ("" when unknown); owned by the connection. */
const char *db_current_user(db_conn *c);

/* SQLite's foreign keys for the steps that rebuild a referenced table: switched off and on
 * outside a transaction, and checked before such a step commits (rows: table, rowid,
 * parent, fkid; the caller frees). No-ops (no rows) where the driver has no such switch. */
int db_set_foreign_keys(db_conn *c, bool on, rb_error *err);
int db_foreign_key_check(db_conn *c, db_result **rows, rb_error *err);

#endif
