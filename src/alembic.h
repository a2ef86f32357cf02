/* alembic.h: the bridge from Alembic. It reads an Alembic project's version table
 * (alembic_version) for `stamp --from-alembic`, and turns an Alembic project's revisions
 * into rbacmig migrations for `import alembic`, asking Alembic itself (run with the system
 * Python) for each revision's metadata and the SQL it prints offline.
 *
 * Depends on the driver (the read) and the graph's str_list; nothing here prints. */
#ifndef RBACMIG_ALEMBIC_H
#define RBACMIG_ALEMBIC_H

#include <stdbool.h>

#include "driver.h"
#include "graph.h"

/* The rows of Alembic's version table: table (default "alembic_version") in schema (NULL:
 * the connection's search_path on PostgreSQL, the database file on SQLite). A missing table
 * is RB_ERR_NOT_FOUND with one line naming it. Needs a database to read (not --sql). */
int alembic_read_versions(db_conn *c, const char *schema, const char *table, str_list *revs,
                          rb_error *err);

/* What `import alembic` did with one Alembic revision. */
typedef struct alembic_step {
    char id[41];
    char file[256];     /* the migration file written, relative to the migrations directory */
    bool offline_ok;    /* Alembic rendered both directions offline */
    char why[512];      /* when not: Alembic's error, one line */
} alembic_step;

/* What the import learned of the project as a whole, from its env.py. */
typedef struct alembic_project {
    char version_table[128];  /* Alembic's version table ("alembic_version" by default) */
    char version_schema[128]; /* its schema, or "" (the search_path's) */
} alembic_project;

/* Imports the Alembic project at project_dir (the directory holding alembic.ini) into
 * migrations_dir: one Lua migration per Alembic revision, ids, parents, labels and
 * dependencies kept, bodies the SQL Alembic prints offline for each step through the
 * project's env.py (as `alembic upgrade --sql`), for the dialect of its URL (alembic.ini's
 * sqlalchemy.url, or `dialect` when given), run with db:exec_script. Refuses to overwrite a
 * file. Fills *project, and *steps in the order Alembic lists them, base first (caller
 * frees). */
int alembic_import(const char *project_dir, const char *migrations_dir, const char *dialect,
                   alembic_project *project, alembic_step **steps, int *nsteps,
                   rb_error *err);

/* Upgrades the database at url (an rbacmig URL) to rev with Alembic, as `alembic upgrade
 * REV` does (the project's env.py, its sqlalchemy.url replaced by url): the Alembic side of
 * the import's proof. Alembic's own output goes to stderr. */
int alembic_upgrade(const char *project_dir, const char *url, const char *rev, rb_error *err);

/* Runs argv (argv[0] a path, NULL-terminated) and reads its stdout (with_stderr: and its
 * stderr): *out is the caller's to
 * free, *status its wait status. */
int alembic_run_capture(const char *const argv[], bool with_stderr, char **out, int *status,
                        rb_error *err);

#endif
