/* scripts.h: the migrations directory. Loads every *.lua file into a revision graph (each
 * file read once, hashed, and its text handed to the Lua host), runs a migration from its
 * file, and writes new revision files (revision, merge) and project scaffolds (init). */
#ifndef RBACMIG_SCRIPTS_H
#define RBACMIG_SCRIPTS_H

#include "graph.h"
#include "lua_host.h"

/* Reads every DIR/NAME.lua (sorted by name) and builds the graph. A missing directory is an
 * error naming it, with a hint to run `rbacmig init`. With checksums each revision gets the
 * SHA-256 of its file (sha256_hex_normalised); listing commands that never show or compare
 * them pass false: with 10,000 files hashing is a quarter of the load time, and a file the
 * cache knows is then not read at all. */
int scripts_load(lua_host *host, const char *dir, bool checksums, graph *g, rb_error *err);

/* Runs function ("upgrade" or "downgrade") of the migration rev with a `db` object on conn
 * (lua_host_run_migration), reading its file again: with a checksum (rev->sha256 not ""),
 * a file whose bytes no longer have it is an error and nothing of it runs, since what runs
 * must be what the history will say ran. */
int scripts_run_migration(lua_host *host, const revision *rev, const char *function,
                          db_conn *conn, rb_error *err);

typedef struct new_revision {
    const char *message;       /* -m */
    const char *rev_id;        /* --rev-id, or NULL for a random 12-hex id */
    const str_list *parents;   /* down_revision(s); empty for a root */
    const str_list *depends_on;
    const char *branch_label;  /* or NULL */
    bool sql;                  /* --sql: upgrade and downgrade run <stem>.up.sql/.down.sql */
    const char *upgrade_body;  /* the functions' statements (revision --autogenerate), */
    const char *downgrade_body;/* indented into place; NULL: an empty function */
} new_revision;

/* Writes DIR/<rev>_<slug>.lua with a header comment and empty upgrade/downgrade; returns
 * the new path (caller frees). Refuses to overwrite. With spec->sql, the functions run
 * db:exec_file on DIR/<rev>_<slug>.up.sql and .down.sql, written too (with a header
 * comment), and their paths are pushed onto *sql_paths (nullable). */
int scripts_write_revision(const char *dir, const new_revision *spec, char **path,
                           str_list *sql_paths, rb_error *err);

/* What scripts_init_project made; what it did not make was there already. */
typedef struct scripts_init_result {
    bool created_config, created_migrations, created_env;
    str_list rbac_created, rbac_kept; /* init --rbac: the shipped files, as the project names
                                       * them ("migrations/91759229c32b_....lua") */
} scripts_init_result;

/* Scaffolds a project in dir (created if needed): config_file (written only when it does
 * not exist, with `migrations = "migrations"`), the migrations directory (created with its
 * parents) and .env.example. Relative names are taken in dir. Never overwrites a file.
 * With rbac_dir (init --rbac) also the RBAC migrations and the rbac/ model the binary
 * carries (embedded_files.h), byte for byte: checked first, so that a file of one of their
 * names with other bytes, or a migrations directory whose own revisions would make
 * 91759229c32b a second root, is refused (naming the file) before anything is written; a
 * file already holding the shipped bytes is kept. res is filled also on failure: release
 * it with scripts_init_result_release. */
int scripts_init_project(const char *dir, const char *config_file, const char *migrations_dir,
                         const char *rbac_dir, scripts_init_result *res, rb_error *err);
void scripts_init_result_release(scripts_init_result *res);

#endif
