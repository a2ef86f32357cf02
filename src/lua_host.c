/* lua_host.c: the Lua state, protected calls (docall, msghandler, interrupts) and the entry
 * points that run migration, config, data files and RBAC commands. The sandbox each chunk
 * runs in is lua_sandbox.c's, the tables files return are checked by lua_fields.c, files
 * are read by textfile.c (and migrations handed over as text by scripts.c). */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "lua_host.h"
#include "lua_internal.h"
#include "output.h"
#include "textfile.h"

#define HOST_KEY "rbacmig.host"

struct lua_host {
    lua_State *L;
    const config *cfg;
    /* Set while a file runs when it reads more than its own text (any module, the
     * environment, the clock): its metadata may then change while the file does not. A
     * module's table is shared by every file that requires it, so even rbacmig's own
     * modules could carry what one file put there into another's metadata. */
    bool read_outside;
    /* The connection the running migration or RBAC command was given, or NULL: a `db`
     * object works only while the call it was made for runs, so one kept in a module (a
     * finalizer that runs when the state closes, a later file's top-level code) can never
     * reach a connection that is closed, or run outside the run's transaction. */
    db_conn *active_conn;
    /* While msghandler runs, the interrupt hook lets it finish: an error raised inside the
     * handler would replace the report with "error in error handling". */
    bool in_msghandler;
    /* Where the interrupt hook first stopped the code ("file:line: "), for the message. */
    char interrupt_where[512];
};

static lua_host *host_of(lua_State *L)
{
    lua_getfield(L, LUA_REGISTRYINDEX, HOST_KEY);
    lua_host *h = lua_touserdata(L, -1);
    lua_pop(L, 1);
    return h;
}

bool lua_host_last_read_self_contained(const lua_host *h)
{
    return !h->read_outside;
}

void lua_host_note_outside(lua_State *L)
{
    host_of(L)->read_outside = true;
}

const config *lua_host_config(lua_State *L)
{
    return host_of(L)->cfg;
}


/* The state whose call a signal should stop: one run, one state. */
static lua_State *volatile running_state;
/* The signal that interrupted the run, or 0. Set by the signal handler (lua_host_interrupt)
 * and kept for the rest of the run: from then on every Lua call stops at its next
 * instruction, and a failed call is reported as interrupted whatever its error says. */
static volatile sig_atomic_t interrupt_signal;

/* ---- protected calls ----------------------------------------------------------------- */

/* The message handler of every protected call: turns any error value into a table
 * {message, traceback, sqlstate, detail, hint, statement, position} and adds where it happened, taken
 * from the first frame that runs a file on disk (the migration, not rbacmig's modules). */
/* "file:line" of the innermost frame at or above level that runs a file on disk, or "". */
static void file_where(lua_State *L, int level, char *where, size_t size)
{
    lua_Debug ar;
    where[0] = '\0';
    for (; lua_getstack(L, level, &ar); level++) {
        lua_getinfo(L, "Sl", &ar);
        if (ar.currentline > 0 && ar.source[0] == '@') {
            snprintf(where, size, "%s:%d", ar.source + 1, ar.currentline);
            return;
        }
    }
}

static int msghandler(lua_State *L)
{
    lua_host *h = host_of(L);
    h->in_msghandler = true; /* cleared by docall, also if this handler fails */
    char where[512];
    file_where(L, 1, where, sizeof where);
    lua_newtable(L);                       /* err result */
    /* The kind comes from the value's metatable (raw: its __metatable is false), never
     * from a field a migration could set. */
    if (lua_getmetatable(L, 1)) {
        luaL_getmetatable(L, NEEDS_FK_OFF_MT);
        lua_pushboolean(L, lua_rawequal(L, -1, -2));
        lua_setfield(L, -4, "needs_fk_off");
        lua_pop(L, 2);
    }
    if (lua_istable(L, 1)) {
        static const char *const fields[] = {"message", "sqlstate", "detail", "hint", "statement",
                                             "position"};
        for (size_t i = 0; i < sizeof fields / sizeof *fields; i++) {
            lua_getfield(L, 1, fields[i]);
            lua_setfield(L, -2, fields[i]);
        }
    }
    const char *msg = NULL;
    if (lua_type(L, 1) == LUA_TSTRING || lua_type(L, 1) == LUA_TNUMBER) {
        msg = lua_tostring(L, 1);
    } else {
        lua_getfield(L, -1, "message");
        msg = lua_tostring(L, -1);
        lua_pop(L, 1);
        if (!msg)
            msg = luaL_tolstring(L, 1, NULL); /* any other value, via __tostring; stays pushed */
        else
            lua_pushnil(L);
        lua_insert(L, -2);                 /* err tostr-or-nil result */
    }
    /* A message raised from Lua already starts with a location; one from C does not. */
    if (where[0] && strncmp(msg, where, strlen(where)) != 0 && msg[0] != '@' &&
        !(strstr(msg, ".lua:") && strstr(msg, ".lua:") < msg + 200 && msg[0] != ' '))
        lua_pushfstring(L, "%s: %s", where, msg);
    else
        lua_pushstring(L, msg);
    lua_setfield(L, -2, "message");
    luaL_traceback(L, L, NULL, 1);
    lua_setfield(L, -2, "traceback");
    h->in_msghandler = false;
    return 1;
}

static void field_to(lua_State *L, int idx, const char *name, char *dst, size_t size)
{
    lua_getfield(L, idx, name);
    const char *s = lua_tostring(L, -1);
    if (s)
        rb_strlcpy(dst, s, size);
    lua_pop(L, 1);
}

static void interrupt_hook(lua_State *L, lua_Debug *ar)
{
    (void)ar;
    lua_host *h = host_of(L);
    if (h->in_msghandler)
        return;
    if (!h->interrupt_where[0]) {
        file_where(L, 0, h->interrupt_where, sizeof h->interrupt_where - 2);
        if (h->interrupt_where[0])
            strcat(h->interrupt_where, ": ");
    }
    /* The hook stays armed (lua.c's lstop disarms it): a pcall in the migration may catch
     * this error, but the next instruction after it raises again. */
    luaL_error(L, "interrupted");
}

/* Counting every instruction, not calls and returns as lua.c does: a call hook would also
 * fire on entering msghandler. A long C function still stops when it returns to Lua. */
static void arm_interrupt(lua_State *L)
{
    lua_sethook(L, interrupt_hook, LUA_MASKCOUNT, 1);
}

/* Calls the function below nargs arguments, protected; on error fills err: code 1, or the
 * signal's exit code when the run was interrupted. */
int lua_host_docall(lua_State *L, int nargs, int nresults, rb_error *err)
{
    lua_host *h = host_of(L);
    int base = lua_gettop(L) - nargs;
    lua_pushcfunction(L, msghandler);
    lua_insert(L, base);
    /* Not NULL when Lua code calls back into the host (db:load_rbac): that outer call goes
     * on afterwards and keeps the hook, armed if interrupted. */
    lua_State *outer = running_state;
    running_state = L;
    if (interrupt_signal)
        arm_interrupt(L); /* a signal that came between two calls stops this one too */
    int status = lua_pcall(L, nargs, nresults, base);
    running_state = outer;
    if (!outer)
        lua_sethook(L, NULL, 0, 0);
    h->in_msghandler = false;
    lua_remove(L, base);
    if (status == LUA_OK)
        return 0;
    rb_error_init(err);
    err->kind = RB_ERR_FAILURE;
    if (lua_istable(L, -1)) {
        if (lua_getfield(L, -1, "needs_fk_off") == LUA_TBOOLEAN && lua_toboolean(L, -1))
            err->kind = RB_ERR_NEEDS_FK_OFF;
        lua_pop(L, 1);
        field_to(L, -1, "message", err->message, sizeof err->message);
        field_to(L, -1, "sqlstate", err->sqlstate, sizeof err->sqlstate);
        field_to(L, -1, "detail", err->detail, sizeof err->detail);
        field_to(L, -1, "hint", err->hint, sizeof err->hint);
        field_to(L, -1, "statement", err->statement, sizeof err->statement);
        field_to(L, -1, "traceback", err->traceback, sizeof err->traceback);
        if (lua_getfield(L, -1, "position") == LUA_TNUMBER)
            err->position = (int)lua_tointeger(L, -1);
        lua_pop(L, 1);
    } else {
        /* Out of memory or an error in the handler itself. */
        rb_strlcpy(err->message, lua_tostring(L, -1) ? lua_tostring(L, -1) : "Lua error",
                   sizeof err->message);
    }
    lua_pop(L, 1);
    /* The record of the signal decides, not the text: a migration may catch the interrupt
     * and raise something else, or raise "interrupted" itself without any signal. */
    if (interrupt_signal) {
        char traceback[sizeof err->traceback];
        rb_strlcpy(traceback, err->traceback, sizeof traceback);
        rb_error_interrupted(err, interrupt_signal, "%sinterrupted", h->interrupt_where);
        rb_strlcpy(err->traceback, traceback, sizeof err->traceback);
    }
    return -1;
}

bool lua_host_interrupt(int signo)
{
    if (!interrupt_signal)
        interrupt_signal = signo;
    lua_State *L = running_state;
    if (L) /* lua.c's laction: a hook is the only thing a signal handler may set */
        arm_interrupt(L);
    return L != NULL;
}

/* ---- the db object ------------------------------------------------------------------- */

/* Pushes a `db` object on conn, built in a protected call: it loads the schema builder, whose
 * failure is reported like any other error. */
int lua_host_push_db(lua_host *h, db_conn *conn, rb_error *err)
{
    lua_pushcfunction(h->L, lua_db_new);
    lua_pushlightuserdata(h->L, conn);
    lua_push_config(h->L, h->cfg);
    return lua_host_docall(h->L, 2, 1, err);
}

/* docall for code given a `db` on conn, which works only while this call runs. */
int lua_host_docall_with_db(lua_host *h, db_conn *conn, int nargs, int nresults,
                            rb_error *err)
{
    db_conn *outer = h->active_conn;
    h->active_conn = conn;
    int rc = lua_host_docall(h->L, nargs, nresults, err);
    h->active_conn = outer;
    return rc;
}

db_conn *lua_host_active_conn(lua_State *L)
{
    return host_of(L)->active_conn;
}

/* ---- data files ---------------------------------------------------------------------- */

/* Checks a file before Lua sees it, so empty and binary files get a clear message. */
static int check_text(const char *path, const char *text, size_t len, rb_error *err)
{
    size_t i = 0;
    while (i < len && (text[i] == ' ' || text[i] == '\n' || text[i] == '\r' || text[i] == '\t'))
        i++;
    if (i == len)
        return rb_errorf(err, RB_ERR_FAILURE, "%s: the file is empty", path);
    if (memchr(text, '\0', len) || (unsigned char)text[0] == 0x1b)
        return rb_errorf(err, RB_ERR_FAILURE, "%s: not a Lua text file (binary data)", path);
    return 0;
}

/* Loads text, the file at path, as a sandboxed chunk named @path; pushes it. */
static int load_file_text(lua_State *L, const char *path, const char *text, size_t len,
                          rb_error *err)
{
    char chunkname[1024];
    if (check_text(path, text, len, err) != 0)
        return -1;
    snprintf(chunkname, sizeof chunkname, "@%s", path);
    return lua_sandbox_load(L, text, len, chunkname, err);
}

int lua_host_dofile_value(lua_State *L, const char *path, rb_error *err)
{
    LUA_STACK_ENTER(L);
    textfile tf;
    if (textfile_read(path, &tf, err) != 0)
        return -1;
    int rc = load_file_text(L, path, tf.text, tf.len, err);
    textfile_release(&tf);
    if (rc == 0)
        rc = lua_host_docall(L, 0, 1, err);
    LUA_STACK_LEAVE(L, rc == 0 ? 1 : 0);
    return rc;
}

int lua_host_dofile_in(lua_State *L, const char *path, rb_error *err)
{
    LUA_STACK_ENTER(L);                       /* env */
    char chunkname[1024];
    textfile tf;
    int rc = textfile_read(path, &tf, err);
    snprintf(chunkname, sizeof chunkname, "@%s", path);
    if (rc == 0)
        rc = check_text(path, tf.text, tf.len, err);
    if (rc == 0 && luaL_loadbufferx(L, tf.text, tf.len, chunkname, "t") != LUA_OK) {
        rc = rb_errorf(err, RB_ERR_FAILURE, "%s", lua_tostring(L, -1));
        lua_pop(L, 1);
    }
    textfile_release(&tf);
    if (rc == 0) {                            /* env chunk */
        lua_rotate(L, -2, 1);                 /* chunk env */
        lua_setupvalue(L, -2, 1);             /* chunk */
        rc = lua_host_docall(L, 0, 1, err);            /* value */
    } else {
        lua_pop(L, 1);
    }
    LUA_STACK_LEAVE(L, rc == 0 ? 0 : -1);
    return rc;
}

int lua_host_new(const config *cfg, lua_host **out, rb_error *err)
{
    *out = NULL;
    lua_host *h = calloc(1, sizeof *h);
    if (!h || !(h->L = luaL_newstate())) {
        free(h);
        return rb_errorf(err, RB_ERR_FAILURE, "cannot create a Lua state: out of memory");
    }
    h->cfg = cfg;
    interrupt_signal = 0; /* one run, one host: a new one starts uninterrupted */
    lua_State *L = h->L;
    /* The full libraries are opened in the host state only to copy the allowed functions
     * into the sandbox base; no chunk ever runs with this _G as its environment. */
    luaL_openlibs(L);
    lua_sandbox_build(L);
    lua_pushlightuserdata(L, h);
    lua_setfield(L, LUA_REGISTRYINDEX, HOST_KEY);
    lua_gc(L, LUA_GCGEN, 0, 0);
    *out = h;
    return 0;
}

lua_State *lua_host_push_sandbox_env(lua_host *h)
{
    lua_sandbox_push_env(h->L);
    return h->L;
}

void lua_host_free(lua_host *h)
{
    if (!h)
        return;
    lua_close(h->L);
    free(h);
}

/* ---- migration files ----------------------------------------------------------------- */

int lua_host_read_revision(lua_host *h, const char *path, const char *text, size_t len,
                           revision *out, rb_error *err)
{
    lua_State *L = h->L;
    LUA_STACK_ENTER(L);
    memset(out, 0, sizeof *out);
    h->read_outside = false;
    int rc = load_file_text(L, path, text, len, err);
    if (rc == 0 && (rc = lua_host_docall(L, 0, 1, err)) == 0) {
        rc = lua_fields_read_revision(L, -1, path, out, err);
        lua_pop(L, 1);
    }
    if (rc != 0)
        revision_release(out);
    LUA_STACK_LEAVE(L, 0);
    return rc;
}

int lua_host_run_migration(lua_host *h, const char *path, const char *text, size_t len,
                           const char *function, db_conn *conn, rb_error *err)
{
    lua_State *L = h->L;
    LUA_STACK_ENTER(L);
    if (load_file_text(L, path, text, len, err) != 0 || lua_host_docall(L, 0, 1, err) != 0) {
        LUA_STACK_LEAVE(L, 0);
        return -1;
    }
    int rc, type = lua_istable(L, -1) ? raw_field(L, -1, function) : LUA_TNONE;
    if (type != LUA_TFUNCTION) {                 /* t [v] */
        rc = rb_errorf(err, RB_ERR_FAILURE, "%s: no %s function", path, function);
        if (type != LUA_TNONE)
            lua_pop(L, 1);                       /* t */
    } else if ((rc = lua_host_push_db(h, conn, err)) != 0) {  /* t fn db */
        lua_pop(L, 1);                           /* t */
    } else {
        rc = lua_host_docall_with_db(h, conn, 1, 0, err); /* t */
    }
    lua_pop(L, 1);
    lua_gc(L, LUA_GCSTEP, 0);
    LUA_STACK_LEAVE(L, 0);
    return rc;
}

/* ---- config files -------------------------------------------------------------------- */

int lua_host_read_config(lua_host *h, const char *path, bool required, config *cfg, rb_error *err)
{
    lua_State *L = h->L;
    LUA_STACK_ENTER(L);
    struct stat st; /* not an open: a FIFO would wait for a writer; the load refuses it */
    if (stat(path, &st) != 0) {
        if (!required && errno == ENOENT)
            return 0;
        return rb_errorf(err, RB_ERR_FAILURE, "cannot open config file '%s': %s", path,
                         strerror(errno));
    }
    if (lua_host_dofile_value(L, path, err) != 0)
        return -1;
    int rc = lua_fields_read_config(L, -1, path, cfg, err);
    lua_pop(L, 1);
    LUA_STACK_LEAVE(L, 0);
    return rc;
}

lua_State *lua_host_state(lua_host *h)
{
    return h->L;
}

const config *lua_host_cfg(const lua_host *h)
{
    return h->cfg;
}
