/* driver.h: the database driver interface, one struct of function pointers per driver
 * (driver_pg.c, driver_sqlite.c, and driver_offline.c, which writes SQL instead of
 * running it for --sql).
 *
 * A connection is an opaque db_conn; values cross the interface as db_value, so nothing
 * above this layer sees libpq, SQLite or Lua types. Errors are rb_error values carrying
 * SQLSTATE, detail, hint and the statement. */
#ifndef RBACMIG_DRIVER_H
#define RBACMIG_DRIVER_H

#include <stdbool.h>
#include <stddef.h>

#include "config.h"
#include "error.h"

typedef enum { DBV_NULL, DBV_INT, DBV_FLOAT, DBV_BOOL, DBV_TEXT } db_value_type;

/* A parameter or a result cell. In parameters `text` is borrowed from the caller; in a
 * db_result it is owned by the result. Text is NUL-terminated; `len` excludes the NUL. */
typedef struct db_value {
    db_value_type type;
    long long i;
    double f;
    bool b;
    const char *text;
    size_t len;
} db_value;

/* Rows of a query, column-major names, row-major cells; freed with db_result_free. */
typedef struct db_result {
    int ncols;
    int nrows;
    char **names;
    db_value *cells;
} db_result;

void db_result_free(db_result *result);
static inline const db_value *db_result_cell(const db_result *r, int row, int col)
{
    return &r->cells[(size_t)row * (size_t)r->ncols + (size_t)col];
}
/* Allocates an empty result of ncols columns; cells grow with db_result_add_row. */
db_result *db_result_new(int ncols);
/* Appends a row of NULLs and returns it for the driver to fill (text via strndup). */
db_value *db_result_add_row(db_result *r);

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

typedef struct driver_ops {
    const char *name; /* "postgresql" or "sqlite": also db.dialect */
    /* One statement. rows (nullable) receives the result set; affected (nullable) the
     * number of rows changed. */
    int (*exec)(db_conn *c, const char *sql, int nparams, const db_value *params,
                db_result **rows, long long *affected, rb_error *err);
    /* Starts the transaction that holds the migration lock, waiting for other runs (with a
     * note on stderr) up to the lock timeout. key identifies the version table. With
     * read_sql, also runs that query once the lock is held and returns its rows (in the same
     * round trip when the lock is free). */
    int (*begin_locked)(db_conn *c, long long key, const char *read_sql, db_result **rows,
                        rb_error *err);
    /* Optional: a read-only transaction (one snapshot) without the migration lock, with the
     * session settings a locked one has. Drivers without it get a plain BEGIN. */
    int (*begin_read)(db_conn *c, rb_error *err);
    int (*commit)(db_conn *c, rb_error *err);
    /* Optional: one statement then COMMIT in a single round trip, and with `next`
     * (nullable) the next locked transaction begun in that flight too. *ended says whether
     * the committed transaction is over (committed, or rolled back by a failed COMMIT); a
     * failed statement leaves it open. Drivers without it get exec then commit. */
    int (*exec_commit)(db_conn *c, const char *sql, int nparams, const db_value *params,
                       db_reopen *next, bool *ended, rb_error *err);
    /* Never fails loudly: used on error paths. */
    void (*rollback)(db_conn *c);
    /* Asks the server to cancel the running statement. Async-signal-safe. */
    void (*interrupt)(db_conn *c);
    /* A newly allocated quoted identifier. */
    char *(*quote_ident)(db_conn *c, const char *name);
    /* COPY ... FROM STDIN (PostgreSQL; NULL elsewhere): start with the COPY statement, send
     * rows, then end it (abort_reason non-NULL cancels it). */
    int (*copy_begin)(db_conn *c, const char *copy_sql, rb_error *err);
    int (*copy_row)(db_conn *c, const db_value *values, int n, rb_error *err);
    int (*copy_end)(db_conn *c, const char *abort_reason, long long *copied, rb_error *err);
    /* Database user name, for history rows (static or owned by the connection). */
    const char *(*current_user)(db_conn *c);
    void (*close)(db_conn *c);
} driver_ops;

/* Every driver's connection starts with this. */
struct db_conn {
    const driver_ops *ops;
    db_dialect dialect;
    bool offline;
    bool in_transaction;
    /* Reached through a transaction-mode pooler (port 6543, Supabase's): every transaction
     * may get another server session. */
    bool via_transaction_pooler;
};

/* Opens a connection for cfg->database_url. Prints nothing. */
int db_open(const config *cfg, const db_open_options *opts, db_conn **out, rb_error *err);
void db_close(db_conn *c);

int db_exec(db_conn *c, const char *sql, int nparams, const db_value *params, db_result **rows,
            long long *affected, rb_error *err);
static inline int db_run(db_conn *c, const char *sql, rb_error *err)
{
    return db_exec(c, sql, 0, NULL, NULL, NULL, err);
}
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
char *db_quote_ident(db_conn *c, const char *name);
/* COPY: true when the driver can stream rows (PostgreSQL, online). */
bool db_can_copy(const db_conn *c);
int db_copy_begin(db_conn *c, const char *copy_sql, rb_error *err);
int db_copy_row(db_conn *c, const db_value *values, int n, rb_error *err);
int db_copy_end(db_conn *c, const char *abort_reason, long long *copied, rb_error *err);
/* Cancels the statement in progress (from a signal handler). */
void db_interrupt(db_conn *c);
const char *db_dialect_name(const db_conn *c);

/* Helpers for parameters. */
static inline db_value dbv_text(const char *s)
{
    db_value v = {.type = s ? DBV_TEXT : DBV_NULL, .text = s, .len = s ? __builtin_strlen(s) : 0};
    return v;
}
static inline db_value dbv_int(long long i)
{
    db_value v = {.type = DBV_INT, .i = i};
    return v;
}
static inline db_value dbv_bool(bool b)
{
    db_value v = {.type = DBV_BOOL, .b = b};
    return v;
}

/* `"name"` with embedded quotes doubled; both dialects accept it. Caller frees. */
char *db_quote_ident_generic(const char *name);
/* A SQL literal for v ('text' with quotes doubled, numbers, TRUE/FALSE or 1/0, NULL), for
 * --sql output where there is no server to bind parameters: *out (the caller frees it) is
 * *len bytes and never holds a NUL. Text with a NUL byte is CAST(X'..' AS TEXT) on SQLite
 * and an error on PostgreSQL, whose text cannot store one. */
int db_literal(const db_value *v, db_dialect dialect, char **out, size_t *len, rb_error *err);

/* Per-driver constructors, called by db_open. */
int pg_open(const config *cfg, const db_open_options *opts, db_conn **out, rb_error *err);
int sqlite_open_conn(const config *cfg, const db_open_options *opts, db_conn **out, rb_error *err);
int offline_open(const config *cfg, db_dialect dialect, db_conn **out, rb_error *err);

#endif
