/* lua_db.c: the `db` object migrations call. C methods (exec, exec_script, exec_file, query,
 * scalar, quote_ident, load_rbac, copy) live in a shared methods table; the Lua schema
 * builder (rbacmig.schema) adds create_table and friends to the same table. A db object is
 * a table with dialect, offline, schema and x, whose metatable indexes the methods. */
#define _XOPEN_SOURCE 700 /* realpath */
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "lua_internal.h"
#include "sql_lex.h"
#include "textfile.h"

#define RESULT_BOX "rbacmig.db.result"
#define DB_MT_CACHE "rbacmig.db.mtcache" /* { [conn] = the db metatable for it } */

/* Upvalue 1 of every C method: the connection (light userdata), 2: the config. The connection
 * is used only while the call the db object was given to runs: a db kept in a module could
 * otherwise be called after the run, even after the connection was closed. */
static db_conn *conn_of(lua_State *L)
{
    db_conn *c = lua_touserdata(L, lua_upvalueindex(1));
    if (c != lua_host_active_conn(L))
        luaL_error(L, "db: used after the migration or command it was given to ended");
    return c;
}

/* Raises the driver error as a table {message, sqlstate, detail, hint, statement, position};
 * the host's message handler adds the migration's file:line. */
static int raise_db_error(lua_State *L, const rb_error *err)
{
    lua_createtable(L, 0, 5);
    lua_pushstring(L, err->message);
    lua_setfield(L, -2, "message");
    if (err->sqlstate[0]) {
        lua_pushstring(L, err->sqlstate);
        lua_setfield(L, -2, "sqlstate");
    }
    if (err->detail[0]) {
        lua_pushstring(L, err->detail);
        lua_setfield(L, -2, "detail");
    }
    if (err->hint[0]) {
        lua_pushstring(L, err->hint);
        lua_setfield(L, -2, "hint");
    }
    if (err->statement[0]) {
        lua_pushstring(L, err->statement);
        lua_setfield(L, -2, "statement");
    }
    if (err->position > 0) {
        lua_pushinteger(L, err->position);
        lua_setfield(L, -2, "position");
    }
    luaL_setmetatable(L, LUA_DB_ERROR);
    return lua_error(L);
}

static int db_error_tostring(lua_State *L)
{
    lua_getfield(L, 1, "message");
    return 1;
}

/* Converts arguments first..top into db_values in a userdata array (pushed; freed by the
 * GC even if a later step raises). Strings are borrowed from the Lua stack. */
static db_value *collect_params(lua_State *L, int first, const char *method, int *nparams)
{
    int n = lua_gettop(L) - first + 1;
    if (n < 0)
        n = 0;
    db_value *params = lua_newuserdatauv(L, sizeof *params * (size_t)(n ? n : 1), 0);
    for (int i = 0; i < n; i++) {
        int idx = first + i;
        db_value *v = &params[i];
        memset(v, 0, sizeof *v);
        switch (lua_type(L, idx)) {
        case LUA_TNIL: v->type = DBV_NULL; break;
        case LUA_TBOOLEAN: v->type = DBV_BOOL; v->b = lua_toboolean(L, idx); break;
        case LUA_TNUMBER:
            if (lua_isinteger(L, idx)) {
                v->type = DBV_INT;
                v->i = (long long)lua_tointeger(L, idx);
            } else {
                v->type = DBV_FLOAT;
                v->f = (double)lua_tonumber(L, idx);
                if (!isfinite(v->f))
                    luaL_error(L, "db:%s: parameter $%d is not a finite number", method, i + 1);
            }
            break;
        case LUA_TSTRING:
            v->type = DBV_TEXT;
            v->text = lua_tolstring(L, idx, &v->len);
            break;
        default:
            luaL_error(L, "db:%s: parameter $%d is a %s; expected nil, boolean, number or string",
                       method, i + 1, luaL_typename(L, idx));
        }
    }
    *nparams = n;
    return params;
}

static void push_value(lua_State *L, const db_value *v)
{
    switch (v->type) {
    case DBV_NULL: lua_pushnil(L); break;
    case DBV_INT: lua_pushinteger(L, (lua_Integer)v->i); break;
    case DBV_FLOAT: lua_pushnumber(L, (lua_Number)v->f); break;
    case DBV_BOOL: lua_pushboolean(L, v->b); break;
    case DBV_TEXT: lua_pushlstring(L, v->text, v->len); break;
    }
}

static int result_box_gc(lua_State *L)
{
    db_result **box = luaL_checkudata(L, 1, RESULT_BOX);
    db_result_free(*box);
    *box = NULL;
    return 0;
}

/* Runs the statement at arg 2 with params 3..top. With want_rows, returns the result box
 * (pushed, owning the rows); else pushes the affected count. */
static db_result *run(lua_State *L, const char *method, bool want_rows)
{
    db_conn *c = conn_of(L);
    luaL_checktype(L, 1, LUA_TTABLE);
    const char *sql = luaL_checkstring(L, 2);
    int nparams;
    db_value *params = collect_params(L, 3, method, &nparams);
    /* The box exists before the result it will own, so an error never leaks it. */
    db_result **box = lua_newuserdatauv(L, sizeof *box, 0);
    *box = NULL;
    luaL_setmetatable(L, RESULT_BOX);
    rb_error err;
    long long affected = 0;
    if (db_exec(c, sql, nparams, params, want_rows ? box : NULL, &affected, &err) != 0)
        raise_db_error(L, &err);
    if (!want_rows)
        lua_pushinteger(L, (lua_Integer)affected);
    return *box;
}

static int db_exec_method(lua_State *L)
{
    run(L, "exec", false);
    return 1;
}

void lua_db_push_rows(lua_State *L, const db_result *r)
{
    lua_createtable(L, r->nrows, 0);
    for (int row = 0; row < r->nrows; row++) {
        lua_createtable(L, 0, r->ncols);
        for (int col = 0; col < r->ncols; col++) {
            push_value(L, db_result_cell(r, row, col));
            lua_setfield(L, -2, r->names[col]);
        }
        lua_rawseti(L, -2, row + 1);
    }
}

static int db_query_method(lua_State *L)
{
    lua_db_push_rows(L, run(L, "query", true));     /* ... box rows */
    return 1;
}

static int db_scalar_method(lua_State *L)
{
    db_result *r = run(L, "scalar", true);
    if (r->nrows > 0 && r->ncols > 0)
        push_value(L, db_result_cell(r, 0, 0));
    else
        lua_pushnil(L);
    return 1;
}

static int db_quote_ident_method(lua_State *L)
{
    const char *name = luaL_checkstring(L, 2);
    if (!name[0])
        return luaL_error(L, "db:quote_ident: empty identifier");
    char *q = db_quote_ident(conn_of(L), name);
    if (!q)
        return luaL_error(L, "out of memory");
    lua_pushstring(L, q);
    free(q);
    return 1;
}

/* Raises a failed script's error: "<where>:<line>: statement <n>: <message>", where is the
 * file (exec_file) or "script" (exec_script), with the database's fields kept. */
static int raise_script_error(lua_State *L, const char *where, int stmt_no, int line,
                              rb_error *err)
{
    char at[64] = "";
    if (line > 0)
        snprintf(at, sizeof at, ":%d", line);
    if (stmt_no > 0)
        rb_error_prefix(err, "%s%s: statement %d", where, at, stmt_no);
    else
        rb_error_prefix(err, "%s%s", where, at);
    return raise_db_error(L, err);
}

/* What a script must not hold, found by the scanner before any of it is sent (so the
 * database is as it was, and --sql writes no broken script): a statement that opens or ends
 * a transaction, inside the migration's own (COMMIT would commit half a migration and the
 * version would not follow), and COPY FROM STDIN / TO STDOUT, whose rows only psql can carry
 * in a script (offline, psql would take the statements after it for rows). */
static int refuse_script(db_conn *c, const char *sql, int *stmt_no, int *line, rb_error *err)
{
    sql_script sc;
    sql_statement st;
    sql_script_init(&sc, sql);
    while (sql_script_next(&sc, &st)) {
        *stmt_no = st.number;
        *line = st.line;
        if (st.kind == SQL_STMT_TRANSACTION && db_in_transaction(c)) {
            rb_errorf(err, RB_ERR_FAILURE, "%s cannot run in a migration's script: rbacmig "
                      "runs the migration in one transaction and ends it itself", st.keyword);
            rb_strlcpy(err->hint, "remove it (a migration that must run outside a transaction "
                       "says transactional = false)", sizeof err->hint);
            return -1;
        }
        if (st.kind == SQL_STMT_COPY_STDIN || st.kind == SQL_STMT_COPY_STDOUT) {
            rb_errorf(err, RB_ERR_FAILURE, "COPY ... %s cannot run in a script: its rows would "
                      "have to follow in the script, which only psql reads",
                      st.kind == SQL_STMT_COPY_STDIN ? "FROM STDIN" : "TO STDOUT");
            rb_strlcpy(err->hint, "use db:copy in the migration, or COPY from a server-side "
                       "file", sizeof err->hint);
            return -1;
        }
    }
    return 0;
}

static void run_script(lua_State *L, const char *sql, const char *where)
{
    db_conn *c = conn_of(L);
    rb_error err;
    int stmt_no = 0, line = 0;
    rb_error_init(&err);
    if (refuse_script(c, sql, &stmt_no, &line, &err) != 0 ||
        db_exec_script(c, sql, &stmt_no, &line, &err) != 0)
        raise_script_error(L, where, stmt_no, line, &err);
}

/* db:exec_script(sql): a script of several statements (driver.h's db_exec_script). */
static int db_exec_script_method(lua_State *L)
{
    luaL_checktype(L, 1, LUA_TTABLE);
    const char *sql = luaL_checkstring(L, 2);
    if (lua_gettop(L) > 2)
        return luaL_error(L, "db:exec_script takes the script only (no parameters: a script "
                             "runs as its database's client reads it)");
    run_script(L, sql, "script");
    return 0;
}

/* The migration file the running code belongs to: the innermost Lua function on the stack
 * whose chunk is a file directly in the migrations directory (a helper module calling
 * db:exec_file reads for the migration that called it). Pushes its path, or raises. */
static const char *calling_migration(lua_State *L, const char *dir)
{
    size_t dirlen = strlen(dir);
    lua_Debug ar;
    for (int level = 1; lua_getstack(L, level, &ar); level++) {
        if (!lua_getinfo(L, "S", &ar) || ar.source[0] != '@')
            continue;
        const char *path = ar.source + 1;
        size_t n = strlen(path);
        if (strncmp(path, dir, dirlen) == 0 && path[dirlen] == '/' &&
            !strchr(path + dirlen + 1, '/') && n > dirlen + 5 &&
            strcmp(path + n - 4, ".lua") == 0) {
            lua_pushstring(L, path);
            return lua_tostring(L, -1);
        }
    }
    luaL_error(L, "db:exec_file: called outside a migration of '%s'", dir);
    return NULL;
}

/* db:exec_file(name): the script in the migrations directory file `name`, which must be one
 * of the calling migration's SQL files, <stem>.<part>.sql beside <stem>.lua: those are the
 * files its checksum covers (scripts.c), so `check` sees an edit and `repair` records it.
 * Anything else is refused naming the file: an absolute path, a directory part (`..`
 * included), another name, and a symbolic link that leads out of the directory. */
static int db_exec_file_method(lua_State *L)
{
    const config *cfg = lua_touserdata(L, lua_upvalueindex(2));
    const char *dir = cfg && cfg->migrations_dir ? cfg->migrations_dir : "migrations";
    luaL_checktype(L, 1, LUA_TTABLE);
    const char *name = luaL_checkstring(L, 2);
    if (name[0] == '/')
        return luaL_error(L, "db:exec_file: '%s' is an absolute path; name a file beside the "
                             "migration, in '%s'", name, dir);
    if (strstr(name, ".."))
        return luaL_error(L, "db:exec_file: '%s' leads out of the migrations directory '%s'",
                          name, dir);
    if (strchr(name, '/'))
        return luaL_error(L, "db:exec_file: '%s' is in a subdirectory; the migration's SQL "
                             "files are beside it in '%s'", name, dir);
    const char *mig = calling_migration(L, dir);       /* ... migpath */
    const char *base = mig + strlen(dir) + 1;
    size_t stem = strlen(base) - 4;                    /* without ".lua" */
    size_t n = strlen(name);
    if (strncmp(name, base, stem) != 0 || name[stem] != '.' || n < stem + 6 ||
        strcmp(name + n - 4, ".sql") != 0) {
        lua_pushlstring(L, base, stem);                /* ... migpath stem */
        return luaL_error(L, "db:exec_file: '%s' is not one of %s's SQL files: they are "
                             "named '%s.<part>.sql' (the migration's checksum covers "
                             "exactly those)", name, base, lua_tostring(L, -1));
    }
    lua_pushfstring(L, "%s/%s", dir, name);            /* ... migpath path */
    const char *path = lua_tostring(L, -1);
    char *real_dir = realpath(dir, NULL), *real_file = realpath(path, NULL);
    bool inside = real_dir && real_file && strncmp(real_file, real_dir, strlen(real_dir)) == 0 &&
                  real_file[strlen(real_dir)] == '/';
    free(real_dir);
    free(real_file);
    if (!inside) {
        struct stat st;
        if (lstat(path, &st) != 0)
            return luaL_error(L, "db:exec_file: cannot open '%s': %s", path, strerror(errno));
        return luaL_error(L, "db:exec_file: '%s' is a symbolic link leading out of the "
                             "migrations directory '%s'", path, dir);
    }
    textfile tf;
    rb_error err;
    if (textfile_read(path, &tf, &err) != 0) {
        lua_pushfstring(L, "db:exec_file: %s", err.message);
        return lua_error(L);
    }
    if (memchr(tf.text, '\0', tf.len)) {
        textfile_release(&tf);
        return luaL_error(L, "db:exec_file: '%s' is not a text file (it holds a NUL byte)", path);
    }
    /* The text goes onto the Lua stack so that an error raised below cannot leak it. */
    lua_pushlstring(L, tf.text, tf.len);
    textfile_release(&tf);
    run_script(L, lua_tostring(L, -1), path);
    return 0;
}

/* A model file's globals: there are none. Data needs only constructors and literals; a
 * model that reads os.getenv or requires a module would copy what it finds into
 * descriptions every signed-in user can read. The error points at the file and line. */
static int model_global(lua_State *L)
{
    return luaL_error(L, "'%s' is not available: rbac model files are plain data, with no "
                         "globals", lua_tostring(L, 2) ? lua_tostring(L, 2) : "?");
}

static void push_model_env(lua_State *L)
{
    lua_newtable(L);                          /* env */
    lua_createtable(L, 0, 3);                 /* env mt */
    lua_pushcfunction(L, model_global);
    lua_setfield(L, -2, "__index");
    lua_pushcfunction(L, model_global);
    lua_setfield(L, -2, "__newindex");
    lua_pushboolean(L, 0);
    lua_setfield(L, -2, "__metatable");
    lua_setmetatable(L, -2);                  /* env */
}

/* db:load_rbac(): the project's rbac/permissions.lua and rbac/roles.lua, each run with no
 * globals at all, as { permissions = ..., roles = ..., files = { permissions=, roles= } }. */
static int db_load_rbac_method(lua_State *L)
{
    const config *cfg = lua_touserdata(L, lua_upvalueindex(2));
    const char *dir = cfg && cfg->rbac_dir ? cfg->rbac_dir : "rbac";
    static const char *const parts[] = {"permissions", "roles"};
    lua_createtable(L, 0, 3);                 /* model */
    lua_createtable(L, 0, 2);                 /* model files */
    for (int i = 0; i < 2; i++) {
        lua_pushfstring(L, "%s/%s.lua", dir, parts[i]);
        lua_pushvalue(L, -1);
        lua_setfield(L, -3, parts[i]);        /* model files path */
        const char *path = lua_tostring(L, -1);
        rb_error err;
        push_model_env(L);                    /* model files path env */
        if (lua_host_dofile_in(L, path, &err) != 0) {
            lua_pushstring(L, err.message);
            return lua_error(L);
        }                                     /* model files path value */
        lua_setfield(L, -4, parts[i]);
        lua_pop(L, 1);
    }
    lua_setfield(L, -2, "files");
    return 1;
}

/* db:copy(target, columns, rows [, first, last]) streams rows[first..last] (tables keyed by
 * column name; a missing key is NULL) with COPY target (columns) FROM STDIN, PostgreSQL
 * only; target is SQL the schema builder quoted. Returns the number of rows copied.
 * The lists and rows are read raw (their metamethods are not called): no Lua code may run
 * while the COPY is open, where an error or a db:exec would leave the connection in it.
 * One function of about 90 lines on purpose: from copy_begin on the COPY is open, and each
 * way out (a row that cannot be sent, a bad row, the end) must end it before luaL_error may
 * unwind; with begin, the row loop and every end in one place, that stays checkable. */
static int db_copy_method(lua_State *L)
{
    db_conn *c = conn_of(L);
    luaL_checktype(L, 1, LUA_TTABLE);
    const char *target = luaL_checkstring(L, 2);
    luaL_checktype(L, 3, LUA_TTABLE);
    luaL_checktype(L, 4, LUA_TTABLE);
    lua_Integer first = luaL_optinteger(L, 5, 1);
    lua_Integer last = luaL_optinteger(L, 6, (lua_Integer)lua_rawlen(L, 4));
    lua_Unsigned ncols_raw = lua_rawlen(L, 3);
    if (ncols_raw > 1600) /* PostgreSQL's most columns in a table */
        return luaL_error(L, "db:copy: %d columns or fewer, got %I", 1600, (lua_Integer)ncols_raw);
    int ncols = (int)ncols_raw;
    if (!db_can_copy(c))
        return luaL_error(L, "db:copy: COPY is not available on %s%s", db_dialect_name(c),
                          db_is_offline(c) ? " in --sql mode" : "");
    /* A row's values stay on the stack until it is sent (see below). */
    luaL_checkstack(L, ncols + 8, "db:copy: too many columns");
    luaL_Buffer b;
    luaL_buffinit(L, &b);
    luaL_addstring(&b, "COPY ");
    luaL_addstring(&b, target);
    luaL_addstring(&b, " (");
    for (int j = 1; j <= ncols; j++) {
        lua_rawgeti(L, 3, j);
        char *q = lua_type(L, -1) == LUA_TSTRING ? db_quote_ident(c, lua_tostring(L, -1)) : NULL;
        lua_pop(L, 1);
        if (!q)
            return luaL_error(L, "db:copy: columns[%d] is not a name", j);
        if (j > 1)
            luaL_addstring(&b, ", ");
        luaL_addstring(&b, q);
        free(q);
    }
    luaL_addstring(&b, ") FROM STDIN");
    luaL_pushresult(&b);
    const char *copy_sql = lua_tostring(L, -1);
    db_value *values = lua_newuserdatauv(L, sizeof *values * (size_t)(ncols ? ncols : 1), 0);
    rb_error err;
    if (db_copy_begin(c, copy_sql, &err) != 0)
        return raise_db_error(L, &err);
    const char *bad = NULL;
    for (lua_Integer r = first; r <= last && !bad; r++) {
        if (lua_rawgeti(L, 4, r) != LUA_TTABLE) {
            bad = "a row is not a table";
            lua_pop(L, 1);
            break;
        }
        int row = lua_gettop(L);
        /* The values are borrowed: each stays on the stack, where the collector cannot free
         * it, until db_copy_row has sent the row. */
        for (int j = 0; j < ncols && !bad; j++) {
            lua_rawgeti(L, 3, j + 1);
            lua_rawget(L, row);                  /* row ... value */
            db_value *v = &values[j];
            memset(v, 0, sizeof *v);
            switch (lua_type(L, -1)) {
            case LUA_TNIL: v->type = DBV_NULL; break;
            case LUA_TBOOLEAN: v->type = DBV_BOOL; v->b = lua_toboolean(L, -1); break;
            case LUA_TNUMBER:
                if (lua_isinteger(L, -1)) {
                    v->type = DBV_INT;
                    v->i = (long long)lua_tointeger(L, -1);
                } else {
                    v->type = DBV_FLOAT;
                    v->f = (double)lua_tonumber(L, -1);
                }
                break;
            case LUA_TSTRING:
                v->type = DBV_TEXT;
                v->text = lua_tolstring(L, -1, &v->len);
                break;
            default: bad = "a value is not nil, a boolean, a number or a string";
            }
        }
        if (!bad && db_copy_row(c, values, ncols, &err) != 0) {
            db_copy_end(c, "rbacmig could not send a row", NULL, &err);
            return raise_db_error(L, &err);
        }
        lua_settop(L, row - 1);
    }
    long long copied = 0;
    if (bad) {
        db_copy_end(c, bad, NULL, &err);
        return luaL_error(L, "db:copy: %s", bad);
    }
    if (db_copy_end(c, NULL, &copied, &err) != 0)
        return raise_db_error(L, &err);
    lua_pushinteger(L, (lua_Integer)copied);
    return 1;
}

static const luaL_Reg db_methods[] = {
    {"exec", db_exec_method},
    {"exec_script", db_exec_script_method},
    {"exec_file", db_exec_file_method},
    {"query", db_query_method},
    {"scalar", db_scalar_method},
    {"quote_ident", db_quote_ident_method},
    {"load_rbac", db_load_rbac_method},
    {"copy", db_copy_method},
    {NULL, NULL},
};

/* Copies the functions (and the fn helper table) of rbacmig.schema into methods. Raises if
 * the builder cannot be loaded: a db without it would fail later, on the first create_table,
 * with "attempt to call a nil value". */
static void add_schema_builder(lua_State *L, int methods)
{
    /* The sandbox's require, so the module loads like any other: embedded, as text. */
    lua_getfield(L, LUA_REGISTRYINDEX, "rbacmig.sandbox");
    lua_getfield(L, -1, "require");
    lua_remove(L, -2);
    lua_pushliteral(L, "rbacmig.schema");
    lua_call(L, 1, 1);
    if (!lua_istable(L, -1))
        luaL_error(L, "the schema builder 'rbacmig.schema' returned a %s, expected a table",
                   luaL_typename(L, -1));
    lua_pushnil(L);
    while (lua_next(L, -2)) {
        lua_pushvalue(L, -2);
        if (lua_rawget(L, methods) == LUA_TNIL) { /* C methods win */
            lua_pop(L, 1);
            lua_pushvalue(L, -2);
            lua_insert(L, -2);
            lua_rawset(L, methods);
        } else {
            lua_pop(L, 2);
        }
    }
    lua_pop(L, 1);
}

/* __index of a db's method table until a schema builder function is first asked for: the
 * builder (some 3,000 lines of Lua) is loaded then, its functions copied in, and the table
 * answers for itself from there on. A read (diff, schema dump, can) never loads it: a
 * tenth of a diff's memory. */
static int load_builder_on_miss(lua_State *L)
{
    lua_settop(L, 2);                /* methods key */
    lua_pushnil(L);
    lua_setmetatable(L, 1);
    add_schema_builder(L, 1);
    lua_rawget(L, 1);
    return 1;
}

int lua_db_new(lua_State *L)
{
    db_conn *conn = lua_touserdata(L, 1);
    const config *cfg = lua_touserdata(L, 2);
    lua_settop(L, 0);
    LUA_STACK_ENTER(L);
    int lua_stack_base = lua_gettop(L);
    if (luaL_newmetatable(L, LUA_DB_ERROR)) {
        lua_pushcfunction(L, db_error_tostring);
        lua_setfield(L, -2, "__tostring");
    }
    lua_pop(L, 1);
    if (luaL_newmetatable(L, RESULT_BOX)) {
        lua_pushcfunction(L, result_box_gc);
        lua_setfield(L, -2, "__gc");
        lua_pushcfunction(L, result_box_gc);
        lua_setfield(L, -2, "__close");
    }
    lua_pop(L, 1);

    /* The methods and the db metatable are per connection: the C methods close over it. */
    lua_createtable(L, 0, 8);                          /* db */
    lua_pushstring(L, db_dialect_name(conn));
    lua_setfield(L, -2, "dialect");
    lua_pushboolean(L, db_is_offline(conn));
    lua_setfield(L, -2, "offline");
    lua_pushstring(L, cfg && cfg->schema ? cfg->schema : "public");
    lua_setfield(L, -2, "schema");
    lua_newtable(L);
    for (int i = 0; cfg && i < cfg->x_count; i++) {
        lua_pushstring(L, cfg->x[i].value);
        lua_setfield(L, -2, cfg->x[i].key);
    }
    lua_setfield(L, -2, "x");

    /* The metatable (C methods closing over conn, plus the schema builder's ~40 functions)
     * is built once per connection and reused for every step: building it per step was a
     * tenth of a long upgrade's client time. */
    lua_getfield(L, LUA_REGISTRYINDEX, DB_MT_CACHE);   /* db cache? */
    if (!lua_istable(L, -1) || lua_rawgetp(L, -1, conn) != LUA_TTABLE ||
        (lua_getfield(L, -1, "__cfg"), lua_touserdata(L, -1) != (const void *)cfg)) {
        lua_settop(L, lua_stack_base + 1);             /* db */
        lua_createtable(L, 0, 3);                      /* db mt */
        lua_newtable(L);                               /* db mt methods */
        int methods = lua_gettop(L);
        lua_pushlightuserdata(L, conn);
        lua_push_config(L, cfg);
        luaL_setfuncs(L, db_methods, 2);
        lua_createtable(L, 0, 1);
        lua_pushcfunction(L, load_builder_on_miss);
        lua_setfield(L, -2, "__index");
        lua_setmetatable(L, methods);
        lua_setfield(L, -2, "__index");                /* db mt */
        lua_push_config(L, cfg);
        lua_setfield(L, -2, "__cfg");
        /* Shared by every migration of the run, so none may reach in and change it. */
        lua_pushboolean(L, 0);
        lua_setfield(L, -2, "__metatable");
        /* One cache entry: a run has one connection. */
        lua_createtable(L, 0, 1);                      /* db mt cache */
        lua_pushvalue(L, -2);
        lua_rawsetp(L, -2, conn);
        lua_setfield(L, LUA_REGISTRYINDEX, DB_MT_CACHE);
    } else {
        lua_pop(L, 1);                                 /* db cache mt */
        lua_remove(L, -2);                             /* db mt */
    }
    /* db.fn: the schema builder's default-value helpers, reachable as a field too. */
    lua_getfield(L, -1, "__index");
    lua_getfield(L, -1, "fn");
    lua_setfield(L, -4, "fn");
    lua_pop(L, 1);                                     /* db mt */
    lua_setmetatable(L, -2);
    LUA_STACK_LEAVE(L, 1);
    return 1;
}
