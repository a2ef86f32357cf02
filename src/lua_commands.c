/* lua_commands.c: the entry points of the commands written in Lua: the RBAC commands
 * (rbacmig.commands) and schema inspection (rbacmig.inspect.commands). Each pushes the
 * module's function, a `db` on the command's connection and typed arguments, calls it
 * through the host's protected call, and hands back what the command layer prints: lines
 * and an exit code, or text/JSON and a status. Nothing here prints. */
#include <stdlib.h>
#include <string.h>

#include "json_out.h"
#include "lua_host.h"
#include "lua_internal.h"
#include "output.h"

/* ---- RBAC commands ------------------------------------------------------------------- */

/* Pushes a list of strings as a Lua sequence. */
static void push_strings(lua_State *L, const str_list *l)
{
    lua_createtable(L, l->count, 0);
    for (int i = 0; i < l->count; i++) {
        lua_pushstring(L, l->items[i]);
        lua_rawseti(L, -2, i + 1);
    }
}

/* The sequence of strings at idx appended to *lines (anything else is an empty line). */
static int take_lines(lua_State *L, int idx, str_list *lines, rb_error *err)
{
    lua_Integer n = lua_type(L, idx) == LUA_TTABLE ? (lua_Integer)lua_rawlen(L, idx) : 0;
    int rc = 0;
    for (lua_Integer i = 1; i <= n && rc == 0; i++) {
        lua_rawgeti(L, idx, i);
        if (str_list_push(lines, lua_tostring(L, -1) ? lua_tostring(L, -1) : "") != 0)
            rc = rb_errorf(err, RB_ERR_FAILURE, "out of memory");
        lua_pop(L, 1);
    }
    return rc;
}

int lua_host_call_rbac(lua_host *h, const char *function, db_conn *conn, const str_list *args,
                       const lua_rbac_opt *opts, int nopts, str_list *lines, int *answer,
                       rb_error *err)
{
    return lua_host_call_rbac_json(h, function, conn, args, opts, nopts, lines, answer, NULL,
                                   err);
}

int lua_host_call_rbac_json(lua_host *h, const char *function, db_conn *conn,
                            const str_list *args, const lua_rbac_opt *opts, int nopts,
                            str_list *lines, int *answer, char **json, rb_error *err)
{
    lua_State *L = lua_host_state(h);
    LUA_STACK_ENTER(L);
    *answer = 0;
    if (json)
        *json = NULL;
    lua_pushcfunction(L, lua_sandbox_require);
    lua_pushliteral(L, "rbacmig.commands");
    if (lua_host_docall(L, 1, 1, err) != 0)
        return -1;
    if (raw_field(L, -1, "command") != LUA_TFUNCTION) {
        lua_pop(L, 2);
        return rb_errorf(err, RB_ERR_FAILURE, "rbacmig.commands has no 'command' entry point");
    }
    lua_pushstring(L, function);
    if (lua_host_push_db(h, conn, err) != 0) {
        lua_pop(L, 3);                                /* module command name */
        LUA_STACK_LEAVE(L, 0);
        return -1;
    }
    push_strings(L, args);
    /* Typed options: a value is never read as anything but a string ("--name true"). */
    lua_createtable(L, 0, nopts);                     /* ... opts */
    for (int i = 0; i < nopts; i++) {
        if (opts[i].values)
            push_strings(L, opts[i].values);
        else
            lua_pushboolean(L, 1);                    /* ... opts value */
        lua_setfield(L, -2, opts[i].name);
    }
    /* rbac module, command, name, db, args, opts */
    int rc = lua_host_docall_with_db(h, conn, 4, 3, err);
    if (rc == 0) {                                    /* module lines code data */
        rc = take_lines(L, -3, lines, err);
        *answer = (int)lua_tointeger(L, -2);
        if (rc == 0 && json) {
            if (lua_type(L, -1) == LUA_TTABLE)
                rc = json_out_encode(L, -1, json, err);
            else
                rc = rb_errorf(err, RB_ERR_FAILURE, "rbac %s has no --format json", function);
        }
        lua_pop(L, 3);
    }
    lua_pop(L, 1);
    LUA_STACK_LEAVE(L, 0);
    return rc;
}

/* ---- schema inspection (schema dump, diff) -------------------------------------------- */

/* The reader's options: the managed schemas (--schema, else the config file's
 * managed_schemas), where they were named (for a message about one the database lacks), and
 * where rbacmig keeps its bookkeeping. */
static void push_inspect_opts(lua_host *h, const str_list *schemas)
{
    lua_State *L = lua_host_state(h);
    const config *cfg = lua_host_cfg(h);
    lua_createtable(L, 0, 5);
    if (schemas && schemas->count > 0) {
        lua_pushliteral(L, "--schema");
    } else {
        schemas = &cfg->managed_schemas;
        lua_pushfstring(L, "%s: managed_schemas", cfg->config_file ? cfg->config_file : "");
    }
    lua_setfield(L, -2, "schemas_from");
    if (schemas->count > 0) {
        push_strings(L, schemas);
        lua_setfield(L, -2, "schemas");
    }
    lua_pushstring(L, lua_host_cfg(h)->schema);
    lua_setfield(L, -2, "schema");
    lua_pushstring(L, lua_host_cfg(h)->version_table);
    lua_setfield(L, -2, "version_table");
    lua_pushstring(L, lua_host_cfg(h)->history_table);
    lua_setfield(L, -2, "history_table");
}

/* One connection's share of read_models: the reader's queries (strings owned by the Lua
 * table they came from, which stays on the stack) and their rows once collected. */
typedef struct read_batch {
    int n;
    const char **names, **sqls;
    db_result **rows;
} read_batch;

static void read_batch_release(read_batch *b)
{
    for (int i = 0; b->rows && i < b->n; i++)
        db_result_free(b->rows[i]);
    free(b->names);
    free(b->sqls);
    free(b->rows);
    memset(b, 0, sizeof *b);
}

/* Pushes the reader's query list for conn's dialect (rbacmig.inspect.commands.queries,
 * at index inspect) and points b at its strings. */
static int push_batch(lua_State *L, int inspect, db_conn *conn, bool with_depends,
                      read_batch *b, rb_error *err)
{
    raw_field(L, inspect, "queries");
    lua_pushstring(L, db_dialect_name(conn));
    lua_pushboolean(L, with_depends);
    if (lua_host_docall(L, 2, 1, err) != 0)
        return -1;
    int n = lua_istable(L, -1) ? (int)lua_rawlen(L, -1) : 0;
    b->names = calloc((size_t)n + 1, sizeof *b->names);
    b->sqls = calloc((size_t)n + 1, sizeof *b->sqls);
    b->rows = calloc((size_t)n + 1, sizeof *b->rows);
    if (!b->names || !b->sqls || !b->rows)
        return rb_errorf(err, RB_ERR_FAILURE, "out of memory");
    for (int i = 0; i < n; i++) {
        lua_rawgeti(L, -1, i + 1);
        raw_field(L, -1, "name");
        raw_field(L, -2, "sql");
        b->names[i] = lua_tostring(L, -2);
        b->sqls[i] = lua_tostring(L, -1);
        lua_pop(L, 3);
        if (!b->names[i] || !b->sqls[i])
            return rb_errorf(err, RB_ERR_FAILURE, "rbacmig.inspect.commands.queries: entry "
                             "%d has no name or sql", i + 1);
    }
    b->n = n;
    return 0;
}

/* Reads the model of each connection, pushed in order: module.read(db, opts, prefetched) at
 * module's and opts' indexes, while only that connection's `db` works. Every reader query
 * is sent on every connection before any result is taken, so the servers plan and run
 * them at the same time (diff, drift and autogenerate read two databases; each query on a
 * fresh connection pays for building its catalog caches), and each connection waits one
 * round trip, not one per query. */
static int read_models(lua_host *h, int module, int opts, db_conn *const *conns, int nconns,
                       rb_error *err)
{
    lua_State *L = lua_host_state(h);
    int base = lua_gettop(L);
    read_batch *batches = calloc((size_t)nconns + 1, sizeof *batches);
    if (!batches)
        return rb_errorf(err, RB_ERR_FAILURE, "out of memory");
    lua_pushcfunction(L, lua_sandbox_require);
    lua_pushliteral(L, "rbacmig.inspect.commands");
    int rc = lua_host_docall(L, 1, 1, err);
    int inspect = lua_gettop(L), sent = 0;
    bool with_depends = raw_field(L, opts, "depends") == LUA_TBOOLEAN && lua_toboolean(L, -1);
    lua_pop(L, 1);
    for (int i = 0; i < nconns && rc == 0; i++)    /* inspect lists... */
        rc = push_batch(L, inspect, conns[i], with_depends, &batches[i], err);
    for (; sent < nconns && rc == 0; sent++)
        rc = db_send_queries(conns[sent], batches[sent].sqls, batches[sent].n, err);
    /* Every connection sent to is collected, even after an error, so it leaves pipeline
     * mode; only the first error is kept. */
    for (int i = 0; i < sent; i++) {
        read_batch *b = &batches[i];
        rb_error later;
        if (db_collect_queries(conns[i], b->sqls, b->n, b->rows, rc == 0 ? err : &later) != 0)
            rc = -1;
        if (rc != 0)
            continue;
        raw_field(L, module, "read");                 /* ... models... read */
        if ((rc = lua_host_push_db(h, conns[i], err)) != 0)
            continue;
        lua_pushvalue(L, opts);
        lua_createtable(L, 0, b->n);                  /* ... read db opts prefetched */
        for (int q = 0; q < b->n; q++) {
            lua_db_push_rows(L, b->rows[q]);
            lua_setfield(L, -2, b->names[q]);
            db_result_free(b->rows[q]);
            b->rows[q] = NULL;
        }
        rc = lua_host_docall_with_db(h, conns[i], 3, 1, err);  /* ... models... model */
    }
    for (int i = 0; i < nconns; i++)
        read_batch_release(&batches[i]);
    free(batches);
    if (rc != 0) {
        lua_settop(L, base);
        return -1;
    }
    /* Only the models stay: the module and the query lists under them go. */
    for (int i = 0; i <= nconns; i++)
        lua_remove(L, base + 1);
    return 0;
}

/* The result table on top: its text, or its data as JSON, into *out; its status. */
static int take_inspect_result(lua_State *L, bool json, char **out, int *status, rb_error *err)
{
    int rc = 0;
    if (json) {
        raw_field(L, -1, "data");
        rc = json_out_encode(L, -1, out, err);
    } else {
        raw_field(L, -1, "text");
        const char *text = lua_tostring(L, -1);
        if (!(*out = strdup(text ? text : "")))
            rc = rb_errorf(err, RB_ERR_FAILURE, "out of memory");
    }
    lua_pop(L, 1);
    raw_field(L, -1, "status");
    *status = (int)lua_tointeger(L, -1);
    lua_pop(L, 1);
    return rc;
}

int lua_host_call_inspect(lua_host *h, const char *function, db_conn *const *conns, int nconns,
                          const str_list *schemas, bool json, char **out, int *status,
                          rb_error *err)
{
    lua_State *L = lua_host_state(h);
    LUA_STACK_ENTER(L);
    *out = NULL;
    *status = 0;
    int base = lua_gettop(L);
    lua_pushcfunction(L, lua_sandbox_require);
    lua_pushliteral(L, "rbacmig.inspect.commands");
    if (lua_host_docall(L, 1, 1, err) != 0)
        return -1;
    int module = lua_gettop(L);
    push_inspect_opts(h, schemas);
    int opts = lua_gettop(L);
    int rc = read_models(h, module, opts, conns, nconns, err); /* module opts models... */
    if (rc == 0) {
        raw_field(L, module, function);
        lua_insert(L, opts + 1);                      /* module opts fn models... */
        rc = lua_host_docall(L, nconns, 1, err);               /* module opts result */
        if (rc == 0)
            rc = take_inspect_result(L, json, out, status, err);
        if (rc != 0) {
            free(*out);
            *out = NULL;
        }
    }
    /* The reader's errors name their value (a schema, a dialect); the stack is for -v. */
    if (rc != 0 && !out_verbose())
        err->traceback[0] = '\0';
    lua_settop(L, base);
    LUA_STACK_LEAVE(L, 0);
    return rc;
}

/* ---- declarations and autogenerate (src/cmd_autogen.c) --------------------------------- */

void lua_declared_renames_release(lua_declared_renames *d)
{
    str_list_release(&d->renames);
    str_list_release(&d->where);
}

/* The declaration table at idx's renames ({ rename =, where = }, recorded by the schema
 * builder) appended to *out. */
static int take_declared_renames(lua_State *L, int idx, lua_declared_renames *out,
                                 rb_error *err)
{
    lua_Integer n = raw_field(L, idx, "renames") == LUA_TTABLE
                        ? (lua_Integer)lua_rawlen(L, -1) : 0;
    int rc = 0;
    for (lua_Integer i = 1; i <= n && rc == 0; i++) {
        if (lua_rawgeti(L, -1, i) == LUA_TTABLE) {
            raw_field(L, -1, "rename");
            raw_field(L, -2, "where");
            const char *r = lua_tostring(L, -2), *w = lua_tostring(L, -1);
            if (r && (str_list_push(&out->renames, r) != 0 ||
                      str_list_push(&out->where, w ? w : "") != 0))
                rc = rb_errorf(err, RB_ERR_FAILURE, "out of memory");
            lua_pop(L, 2);
        }
        lua_pop(L, 1);
    }
    lua_pop(L, 1);
    return rc;
}

int lua_host_run_declaration(lua_host *h, const char *path, db_conn *conn,
                             str_list *migrations, lua_declared_renames *renames,
                             rb_error *err)
{
    lua_State *L = lua_host_state(h);
    LUA_STACK_ENTER(L);
    if (lua_host_dofile_value(L, path, err) != 0)
        return -1;                                    /* value */
    int rc = 0;
    if (lua_type(L, -1) == LUA_TFUNCTION) {
        if ((rc = lua_host_push_db(h, conn, err)) != 0) { /* fn db */
            lua_pop(L, 1);
            LUA_STACK_LEAVE(L, 0);
            return rc;
        }
        /* db.declaration: what tells the schema builder it runs a declaration, and where
         * it records renamed_from; kept below the call to be read after it. */
        lua_createtable(L, 0, 2);                     /* fn db decl */
        lua_pushstring(L, path);
        lua_setfield(L, -2, "file");
        lua_newtable(L);
        lua_setfield(L, -2, "renames");
        lua_pushvalue(L, -1);
        lua_setfield(L, -3, "declaration");
        lua_insert(L, -3);                            /* decl fn db */
        rc = lua_host_docall_with_db(h, conn, 1, 0, err);    /* decl */
        if (rc == 0 && renames)
            rc = take_declared_renames(L, -1, renames, err);
        lua_pop(L, 1);
        LUA_STACK_LEAVE(L, 0);
        return rc;
    }
    /* { migrations = { "91759229c32b", ... } }: what those migrations' upgrades create. */
    int type = lua_istable(L, -1) ? raw_field(L, -1, "migrations") : LUA_TNONE;
    lua_Integer n = type == LUA_TTABLE ? (lua_Integer)lua_rawlen(L, -1) : 0;
    if (n == 0)
        rc = rb_errorf(err, RB_ERR_FAILURE, "%s: a declaration returns function(db) ... end, "
                       "or { migrations = { \"REV\", ... } }", path);
    for (lua_Integer i = 1; rc == 0 && i <= n; i++) {
        if (lua_rawgeti(L, -1, i) != LUA_TSTRING)
            rc = rb_errorf(err, RB_ERR_FAILURE, "%s: migrations[%lld] is not a revision id",
                           path, (long long)i);
        else if (str_list_push(migrations, lua_tostring(L, -1)) != 0)
            rc = rb_errorf(err, RB_ERR_FAILURE, "out of memory");
        lua_pop(L, 1);
    }
    lua_pop(L, type == LUA_TNONE ? 1 : 2);
    LUA_STACK_LEAVE(L, 0);
    return rc;
}

void lua_autogen_result_release(lua_autogen_result *r)
{
    free(r->text);
    free(r->upgrade);
    free(r->downgrade);
    str_list_release(&r->lines);
    memset(r, 0, sizeof *r);
}

/* The string field k of the table at idx, copied (NULL when absent). */
static int take_string(lua_State *L, int idx, const char *k, char **out, rb_error *err)
{
    *out = NULL;
    if (raw_field(L, idx, k) == LUA_TSTRING && !(*out = strdup(lua_tostring(L, -1)))) {
        lua_pop(L, 1);
        return rb_errorf(err, RB_ERR_FAILURE, "out of memory");
    }
    lua_pop(L, 1);
    return 0;
}

int lua_host_call_autogen(lua_host *h, const char *function, db_conn *const *conns, int nconns,
                          const lua_autogen_opts *o, lua_autogen_result *out, rb_error *err)
{
    lua_State *L = lua_host_state(h);
    LUA_STACK_ENTER(L);
    memset(out, 0, sizeof *out);
    int base = lua_gettop(L);
    lua_pushcfunction(L, lua_sandbox_require);
    lua_pushliteral(L, "rbacmig.autogen.commands");
    if (lua_host_docall(L, 1, 1, err) != 0) {
        lua_settop(L, base);
        return -1;
    }
    int module = lua_gettop(L);
    push_inspect_opts(h, o->schemas);
    lua_pushboolean(L, 1); /* the generator orders by what depends on what */
    lua_setfield(L, -2, "depends");
    int read_opts = lua_gettop(L);
    raw_field(L, module, function);                   /* ... fn */
    lua_createtable(L, 0, 3);                         /* ... fn opts */
    if (o->renames) {
        push_strings(L, o->renames);
        lua_setfield(L, -2, "renames");
    }
    if (o->declared) {
        /* { { rename = "TABLE.OLD:NEW", where = "file:line" }, ... } */
        lua_createtable(L, o->declared->renames.count, 0);
        for (int i = 0; i < o->declared->renames.count; i++) {
            lua_createtable(L, 0, 2);
            lua_pushstring(L, o->declared->renames.items[i]);
            lua_setfield(L, -2, "rename");
            lua_pushstring(L, o->declared->where.items[i]);
            lua_setfield(L, -2, "where");
            lua_rawseti(L, -2, i + 1);
        }
        lua_setfield(L, -2, "declared_renames");
    }
    lua_pushboolean(L, o->allow_drop);
    lua_setfield(L, -2, "allow_drop");
    if (o->against) {
        lua_pushstring(L, o->against);
        lua_setfield(L, -2, "against");
    }
    /* One model per connection, each with its RBAC catalogue (rbacmig.autogen.commands.read). */
    int rc = read_models(h, module, read_opts, conns, nconns, err);
    if (rc == 0 && (rc = lua_host_docall(L, 1 + nconns, 1, err)) == 0) {
        if (!lua_istable(L, -1)) {
            rc = rb_errorf(err, RB_ERR_FAILURE, "rbacmig.autogen.commands.%s returned no table",
                           function);
        } else {
            raw_field(L, -1, "status");
            out->status = (int)lua_tointeger(L, -1);
            lua_pop(L, 1);
            raw_field(L, -1, "lines");
            rc = take_lines(L, -1, &out->lines, err);
            lua_pop(L, 1);
            if (rc == 0)
                rc = take_string(L, -1, "text", &out->text, err);
            if (rc == 0)
                rc = take_string(L, -1, "upgrade", &out->upgrade, err);
            if (rc == 0)
                rc = take_string(L, -1, "downgrade", &out->downgrade, err);
        }
    }
    if (rc != 0)
        lua_autogen_result_release(out);
    lua_settop(L, base);
    LUA_STACK_LEAVE(L, 0);
    return rc;
}
