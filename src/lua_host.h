/* lua_host.h: the Lua side of rbacmig, seen from C as an opaque handle.
 *
 * One Lua state per run. Every chunk (migration, rbacmig.lua, project module) is loaded as
 * text into its own sandboxed _ENV: base, string, table, math, utf8 and os.time/date/clock/
 * getenv, the libraries read-only and shared; no io, no os.execute/exit/remove/rename, no
 * debug, no C modules, no string.dump, no bytecode. `require` finds the embedded rbacmig.*
 * modules (bytecode compiled at build time from lua/rbacmig/, the only bytecode ever
 * loaded), then the project's lua/ dir. Every call into Lua is protected and reports
 * file:line and a traceback in rb_error. A `db` object works only during the call it was
 * given to. Free the host before closing a connection it was given: finalizers run then. */
#ifndef RBACMIG_LUA_HOST_H
#define RBACMIG_LUA_HOST_H

#include <stddef.h>

#include "config.h"
#include "driver.h"
#include "error.h"
#include "graph.h"

typedef struct lua_host lua_host;

/* cfg (borrowed, must outlive the host): lua_dir is where `require` looks after the embedded
 * modules ("lua" if NULL), rbac_dir where db:load_rbac reads, schema and x what a db object
 * shows. */
int lua_host_new(const config *cfg, lua_host **out, rb_error *err);
void lua_host_free(lua_host *h);

/* Runs text, the migration file at path as read (scripts.c reads it once, hashes it and
 * hands it over), in a fresh sandbox, and reads the table it must return into *out (which
 * it initialises): id, message, parents, labels, dependencies, transactional and path,
 * checked against the migration table's spec (lua_fields.c). The checksum and the header's
 * date are the caller's. */
int lua_host_read_revision(lua_host *h, const char *path, const char *text, size_t len,
                           revision *out, rb_error *err);

/* Whether what the last lua_host_read_revision read depended on the file's text alone:
 * false when it called require (any module: their tables are shared between files) or
 * os.time, os.date, os.clock or os.getenv. Only such self-contained files may be cached
 * (revcache.h). */
bool lua_host_last_read_self_contained(const lua_host *h);

/* Reads a config file (rbacmig.lua) into cfg, checked against the config file's spec
 * (lua_fields.c); a missing file is fine unless required. */
int lua_host_read_config(lua_host *h, const char *path, bool required, config *cfg, rb_error *err);

/* Runs the `upgrade` or `downgrade` function of the migration whose text is given (the file
 * at path, read and checked against its recorded checksum by scripts_read_migration) with
 * a `db` object on conn. The caller owns the transaction. */
int lua_host_run_migration(lua_host *h, const char *path, const char *text, size_t len,
                           const char *function, db_conn *conn, rb_error *err);

/* An option given to an RBAC command: a flag (values NULL), or its values in order. */
typedef struct lua_rbac_opt {
    const char *name;
    const str_list *values;
} lua_rbac_opt;

/* Runs an RBAC command through rbacmig.commands.command(name, db, args, opts): args are the
 * positional arguments, opts a typed table (a flag is true, a value option the list of its
 * values as strings, whatever they read). The lines it returns are appended to *lines (the
 * caller prints them, and releases the list also on error) and its exit code (0, or 3 for a
 * denied `can`) is stored in *answer. Nothing is printed here. */
int lua_host_call_rbac(lua_host *h, const char *function, db_conn *conn, const str_list *args,
                       const lua_rbac_opt *opts, int nopts, str_list *lines, int *answer,
                       rb_error *err);
/* The same; with json not NULL, *json gets the command's result as a JSON document (its
 * third return value, encoded by json_out; caller frees), for --format json. */
int lua_host_call_rbac_json(lua_host *h, const char *function, db_conn *conn,
                            const str_list *args, const lua_rbac_opt *opts, int nopts,
                            str_list *lines, int *answer, char **json, rb_error *err);

/* The schema commands (src/cmd_schema.c): reads the schema of each of conns[0..nconns-1]
 * through rbacmig.inspect.commands.read (with schemas, NULL or empty for the default scope,
 * and the config's bookkeeping tables), then calls its `function` ("dump" with one model,
 * "diff" with two). The caller holds each connection's READ ONLY transaction. *out gets what
 * to print (the text, or with json the result's data as JSON; the caller frees it), *status
 * the result's status (0, 1 differences, 2 security-weakening differences). Prints nothing. */
int lua_host_call_inspect(lua_host *h, const char *function, db_conn *const *conns, int nconns,
                          const str_list *schemas, bool json, char **out, int *status,
                          rb_error *err);

/* The renames declarations say (renamed_from), as --rename spells them ("TABLE.OLD:NEW",
 * "OLD:NEW"), and where each was said ("file:line"), item for item. */
typedef struct lua_declared_renames {
    str_list renames;
    str_list where;
} lua_declared_renames;
void lua_declared_renames_release(lua_declared_renames *d);

/* Runs the declaration file at path (revision --autogenerate, src/cmd_autogen.c) in a fresh
 * sandbox: a file returning function(db) is called with a `db` on conn, whose
 * db.declaration = { file = path, renames = {} } collects its renamed_from options (appended
 * to *renames when it is not NULL; without a db.declaration, as in a migration, the schema
 * builder refuses renamed_from); a file returning { migrations = { "REV", ... } } (the RBAC
 * schema exactly as its migrations create it) has those ids appended to *migrations, for the
 * caller to run their upgrades. */
int lua_host_run_declaration(lua_host *h, const char *path, db_conn *conn,
                             str_list *migrations, lua_declared_renames *renames,
                             rb_error *err);

/* What rbacmig.autogen.commands is given besides the models. */
typedef struct lua_autogen_opts {
    const str_list *schemas;  /* the managed schemas (NULL: the reader's default scope) */
    const str_list *renames;  /* --rename arguments, or NULL */
    const lua_declared_renames *declared; /* the declarations' renamed_from, or NULL */
    bool allow_drop;
    const char *against;      /* prove: "from" or "to" */
} lua_autogen_opts;

/* Its answer: status (each function's meaning is stated in the module), text, lines, and the
 * generated bodies (NULL unless generated). Owned; lua_autogen_result_release frees. */
typedef struct lua_autogen_result {
    int status;
    char *text, *upgrade, *downgrade;
    str_list lines;
} lua_autogen_result;

/* Reads the model of each of conns[0..nconns-1] (as lua_host_call_inspect does; the caller
 * holds each one's read transaction) and calls rbacmig.autogen.commands[function](opts,
 * models...): generate, prove, compare, declare. Prints nothing. */
int lua_host_call_autogen(lua_host *h, const char *function, db_conn *const *conns, int nconns,
                          const lua_autogen_opts *opts, lua_autogen_result *out, rb_error *err);
void lua_autogen_result_release(lua_autogen_result *r);

/* Called from a signal handler: the running Lua call, if any, stops at its next instruction,
 * and so does every later one (a pcall in the migration cannot catch it for good). A call
 * that fails from then on reports RB_ERR_INTERRUPTED with the signal in rb_error.signo.
 * Returns whether a call was running. Async-signal-safe. */
bool lua_host_interrupt(int signo);

#endif
