/* driver_impl.h: what a driver implements, and the registry entry that makes it reachable
 * (driver.c's table). Included by driver.c and the driver files (driver_pg.c,
 * driver_sqlite.c, driver_offline.c) only: everything else holds an opaque db_conn and goes
 * through driver.h's calls and accessors. A driver builds on db_value.h and output.h and
 * never calls back into driver.c. */
#ifndef RBACMIG_DRIVER_IMPL_H
#define RBACMIG_DRIVER_IMPL_H

#include "driver.h"

/* What a driver can do, beyond running statements (driver_ops.caps). */
enum {
    /* Queries answer with rows: the version can be read, and read again under the lock. */
    DB_CAP_READ = 1 << 0,
    /* Statements take effect on a database: a failure can leave work committed or rolled
     * back, and a step takes time worth reporting. (--sql only writes them down.) */
    DB_CAP_EXECUTE = 1 << 1,
};

typedef struct driver_ops {
    const char *name; /* "postgresql" or "sqlite": also db.dialect */
    db_dialect dialect;
    unsigned caps;    /* DB_CAP_* */
    /* One statement. rows (nullable) receives the result set; affected (nullable) the
     * number of rows changed. */
    int (*exec)(db_conn *c, const char *sql, int nparams, const db_value *params,
                db_result **rows, long long *affected, rb_error *err);
    /* A script of several statements without parameters (driver.h's db_exec_script). On
     * failure *stmt_no is the failing statement's number and *offset the byte offset in sql
     * of where it begins (or of the error the server points at), (size_t)-1 if unknown. */
    int (*exec_script)(db_conn *c, const char *sql, int *stmt_no, size_t *offset,
                       rb_error *err);
    /* Starts the transaction that holds the migration lock, waiting for other runs (with a
     * note on stderr) up to the lock timeout, then fails with RB_ERR_LOCK_TIMEOUT. key
     * identifies the version table. With read_sql, also runs that query once the lock is
     * held and returns its rows (in the same round trip when the lock is free). */
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
    /* Optional: queries sent without waiting for their rows (PostgreSQL's pipeline mode),
     * which collect_queries then takes, given the same sqls (for error messages). Drivers
     * without them run the queries at db_collect_queries. */
    int (*send_queries)(db_conn *c, const char *const *sqls, int n, rb_error *err);
    int (*collect_queries)(db_conn *c, const char *const *sqls, int n, db_result **results,
                           rb_error *err);
    /* Never fails loudly: used on error paths. */
    void (*rollback)(db_conn *c);
    /* Optional: asks the server to cancel the running statement. Async-signal-safe. */
    void (*interrupt)(db_conn *c);
    /* A newly allocated quoted identifier. */
    char *(*quote_ident)(db_conn *c, const char *name);
    /* Optional, COPY ... FROM STDIN (PostgreSQL): start with the COPY statement, send rows,
     * then end it (abort_reason non-NULL cancels it). */
    int (*copy_begin)(db_conn *c, const char *copy_sql, rb_error *err);
    int (*copy_row)(db_conn *c, const db_value *values, int n, rb_error *err);
    int (*copy_end)(db_conn *c, const char *abort_reason, long long *copied, rb_error *err);
    /* Optional (SQLite): foreign-key enforcement switched for the connection, outside a
     * transaction; and the rows that violate foreign keys (PRAGMA foreign_key_check's:
     * table, rowid, parent, fkid). */
    int (*set_foreign_keys)(db_conn *c, bool on, rb_error *err);
    int (*foreign_key_check)(db_conn *c, db_result **rows, rb_error *err);
    /* Database user name, for history rows (static or owned by the connection). */
    const char *(*current_user)(db_conn *c);
    void (*close)(db_conn *c);
} driver_ops;

/* Every driver's connection starts with this; driver.c keeps in_transaction. */
struct db_conn {
    const driver_ops *ops;
    bool in_transaction;
    /* Reached through a transaction-mode pooler (port 6543, Supabase's): every transaction
     * may get another server session. */
    bool via_transaction_pooler;
};

/* A registry entry: the driver for the URLs of one dialect (config_url_dialect reads it
 * from the scheme: postgresql://, postgres:// and key=value strings; sqlite:). */
typedef struct db_driver {
    db_dialect dialect;
    /* Opening waits on the network (PostgreSQL: a server process started, several round
     * trips): db_open_read_many opens several such connections at the same time. */
    bool open_waits;
    int (*open)(const config *cfg, const db_open_options *opts, db_conn **out, rb_error *err);
} db_driver;

extern const db_driver db_driver_postgresql;
extern const db_driver db_driver_sqlite;
/* --sql: writes each statement to stdout for the dialect of the URL instead of running it. */
int offline_open(const config *cfg, db_dialect dialect, db_conn **out, rb_error *err);

#endif
