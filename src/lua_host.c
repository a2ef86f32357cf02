/* lua_host.c: the Lua state, its sandbox, protected calls, embedded modules and loading of
 * migration, config and data files. */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "embedded.h"
#include "lua_host.h"
#include "lua_internal.h"
#include "output.h"
#include "sha256.h"

#define SANDBOX_BASE "rbacmig.sandbox"
#define SANDBOX_ENV_MT "rbacmig.sandbox.envmt" /* {__index = base, __metatable = false} */
#define LOADED "rbacmig.loaded"
#define HOST_KEY "rbacmig.host"
/* The metatable of the rebuild engine's "run me again with foreign keys off" error, given
 * only to rbacmig's own modules (sandbox_require): a migration cannot make an error that
 * carries it, so no migration can forge RB_ERR_NEEDS_FK_OFF. */
#define NEEDS_FK_OFF_MT "rbacmig.error.needs_fk_off"

struct lua_host {
    lua_State *L;
    const config *cfg;
    bool skip_checksums;
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

void lua_host_set_checksums(lua_host *h, bool on)
{
    h->skip_checksums = !on;
}

bool lua_host_checksums(const lua_host *h)
{
    return !h->skip_checksums;
}

bool lua_host_last_read_self_contained(const lua_host *h)
{
    return !h->read_outside;
}

static lua_host *host_of(lua_State *L)
{
    lua_getfield(L, LUA_REGISTRYINDEX, HOST_KEY);
    lua_host *h = lua_touserdata(L, -1);
    lua_pop(L, 1);
    return h;
}

/* The state whose call a signal should stop: one run, one state. */
static lua_State *volatile running_state;
/* The signal that interrupted the run, or 0. Set by the signal handler (lua_host_interrupt)
 * and kept for the rest of the run: from then on every Lua call stops at its next
 * instruction, and a failed call is reported as interrupted whatever its error says. */
static volatile sig_atomic_t interrupt_signal;

/* ---- reading files ------------------------------------------------------------------- */

/* Reads a whole file into a new NUL-terminated buffer (caller frees). */
static int read_file(const char *path, char **buf, size_t *len, rb_error *err)
{
    *buf = NULL;
    /* O_NONBLOCK: a FIFO named like a migration must not hang the run (it is refused just
     * below); it changes nothing for regular files. */
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
    FILE *f = fd >= 0 ? fdopen(fd, "rb") : NULL;
    if (!f) {
        rb_errorf(err, RB_EXIT_FAILURE, "cannot open '%s': %s", path, strerror(errno));
        if (fd >= 0)
            close(fd);
        return -1;
    }
    struct stat st;
    if (fstat(fileno(f), &st) != 0 || !S_ISREG(st.st_mode)) {
        fclose(f);
        return rb_errorf(err, RB_EXIT_FAILURE, "cannot read '%s': not a regular file", path);
    }
    size_t size = (size_t)st.st_size;
    char *data = malloc(size + 1);
    if (!data) {
        fclose(f);
        return rb_errorf(err, RB_EXIT_FAILURE, "out of memory reading '%s'", path);
    }
    size_t got = fread(data, 1, size, f);
    int failed = ferror(f);
    fclose(f);
    if (failed || got != size) {
        free(data);
        return rb_errorf(err, RB_EXIT_FAILURE, "cannot read '%s': %s", path, strerror(errno));
    }
    data[size] = '\0';
    *buf = data;
    *len = size;
    return 0;
}

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
static int docall(lua_State *L, int nargs, int nresults, rb_error *err)
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
static int push_db(lua_host *h, db_conn *conn, rb_error *err)
{
    lua_pushcfunction(h->L, lua_db_new);
    lua_pushlightuserdata(h->L, conn);
    lua_push_config(h->L, h->cfg);
    return docall(h->L, 2, 1, err);
}

/* docall for code given a `db` on conn, which works only while this call runs. */
static int docall_with_db(lua_host *h, db_conn *conn, int nargs, int nresults, rb_error *err)
{
    db_conn *outer = h->active_conn;
    h->active_conn = conn;
    int rc = docall(h->L, nargs, nresults, err);
    h->active_conn = outer;
    return rc;
}

db_conn *lua_host_active_conn(lua_State *L)
{
    return host_of(L)->active_conn;
}

/* ---- the sandbox --------------------------------------------------------------------- */

/* Pushes a fresh _ENV whose reads fall through to the shared sandbox base (one table per
 * chunk, with a shared metatable: loading 10,000 migrations must stay cheap). */
static void push_sandbox_env(lua_State *L)
{
    LUA_STACK_ENTER(L);
    lua_newtable(L);
    lua_getfield(L, LUA_REGISTRYINDEX, SANDBOX_ENV_MT);
    lua_setmetatable(L, -2);
    LUA_STACK_LEAVE(L, 1);
}

/* Loads a chunk named @name (or =name) with a fresh sandbox _ENV; pushes it. mode is "t"
 * (text) for everything but rbacmig's own embedded modules, which are bytecode ("b"). */
static int load_chunk_mode(lua_State *L, const char *text, size_t len, const char *chunkname,
                           const char *mode, rb_error *err)
{
    LUA_STACK_ENTER(L);
    if (luaL_loadbufferx(L, text, len, chunkname, mode) != LUA_OK) {
        rb_errorf(err, RB_EXIT_FAILURE, "%s", lua_tostring(L, -1));
        lua_pop(L, 1);
        LUA_STACK_LEAVE(L, 0);
        return -1;
    }
    push_sandbox_env(L);
    lua_setupvalue(L, -2, 1);
    LUA_STACK_LEAVE(L, 1);
    return 0;
}

static int load_chunk(lua_State *L, const char *text, size_t len, const char *chunkname,
                      rb_error *err)
{
    return load_chunk_mode(L, text, len, chunkname, "t", err);
}

/* Checks a file before Lua sees it, so empty and binary files get a clear message. */
static int check_text(const char *path, const char *text, size_t len, rb_error *err)
{
    size_t i = 0;
    while (i < len && (text[i] == ' ' || text[i] == '\n' || text[i] == '\r' || text[i] == '\t'))
        i++;
    if (i == len)
        return rb_errorf(err, RB_EXIT_FAILURE, "%s: the file is empty", path);
    if (memchr(text, '\0', len) || (unsigned char)text[0] == 0x1b)
        return rb_errorf(err, RB_EXIT_FAILURE, "%s: not a Lua text file (binary data)", path);
    return 0;
}

int lua_host_dofile_value(lua_State *L, const char *path, rb_error *err)
{
    LUA_STACK_ENTER(L);
    char *text = NULL, chunkname[1024];
    size_t len = 0;
    if (read_file(path, &text, &len, err) != 0)
        return -1;
    snprintf(chunkname, sizeof chunkname, "@%s", path);
    int rc = check_text(path, text, len, err);
    if (rc == 0)
        rc = load_chunk(L, text, len, chunkname, err);
    free(text);
    if (rc == 0)
        rc = docall(L, 0, 1, err);
    LUA_STACK_LEAVE(L, rc == 0 ? 1 : 0);
    return rc;
}

int lua_host_dofile_in(lua_State *L, const char *path, rb_error *err)
{
    LUA_STACK_ENTER(L);                       /* env */
    char *text = NULL, chunkname[1024];
    size_t len = 0;
    int rc = read_file(path, &text, &len, err);
    snprintf(chunkname, sizeof chunkname, "@%s", path);
    if (rc == 0)
        rc = check_text(path, text, len, err);
    if (rc == 0 && luaL_loadbufferx(L, text, len, chunkname, "t") != LUA_OK) {
        rc = rb_errorf(err, RB_EXIT_FAILURE, "%s", lua_tostring(L, -1));
        lua_pop(L, 1);
    }
    free(text);
    if (rc == 0) {                            /* env chunk */
        lua_rotate(L, -2, 1);                 /* chunk env */
        lua_setupvalue(L, -2, 1);             /* chunk */
        rc = docall(L, 0, 1, err);            /* value */
    } else {
        lua_pop(L, 1);
    }
    LUA_STACK_LEAVE(L, rc == 0 ? 0 : -1);
    return rc;
}

/* require(name): embedded rbacmig modules first, then the project's lua/ directory. */
static int sandbox_require(lua_State *L)
{
    const char *name = luaL_checkstring(L, 1);
    const embedded_module *m = embedded_modules;
    while (m->name && strcmp(m->name, name) != 0)
        m++;
    host_of(L)->read_outside = true;
    lua_getfield(L, LUA_REGISTRYINDEX, LOADED);
    if (lua_getfield(L, -1, name) != LUA_TNIL)
        return 1;
    lua_pop(L, 1);                                   /* name loaded */
    rb_error err;
    int rc;
    if (m->name) {
        char chunkname[256];
        snprintf(chunkname, sizeof chunkname, "=[rbacmig] %s", name);
        rc = load_chunk_mode(L, m->chunk, m->length, chunkname, "b", &err);
    } else {
        const lua_host *h = host_of(L);
        luaL_Buffer b;
        luaL_buffinit(L, &b);
        luaL_addstring(&b, h->cfg && h->cfg->lua_dir ? h->cfg->lua_dir : "lua");
        luaL_addchar(&b, '/');
        for (const char *p = name; *p; p++)
            luaL_addchar(&b, *p == '.' ? '/' : *p);
        luaL_addstring(&b, ".lua");
        luaL_pushresult(&b);                         /* name loaded path */
        const char *path = lua_tostring(L, -1);
        /* stat, not an open: opening a FIFO named like a module would wait for a writer;
         * read_file refuses anything but a regular file. */
        struct stat st;
        if (stat(path, &st) != 0)
            return luaL_error(L, "module '%s' not found (not embedded in rbacmig, no file '%s')",
                              name, path);
        char *text = NULL;
        size_t len;
        char chunkname[1024];
        snprintf(chunkname, sizeof chunkname, "@%s", path);
        rc = read_file(path, &text, &len, &err);
        if (rc == 0)
            rc = load_chunk(L, text, len, chunkname, &err);
        free(text);
        if (rc == 0)
            lua_remove(L, -2);                       /* name loaded chunk */
    }
    if (rc != 0)
        return luaL_error(L, "%s", err.message);
    lua_pushvalue(L, 1);
    int nargs = 1;
    if (m->name) { /* rbacmig's own modules get the private metatables as `...`'s second */
        lua_createtable(L, 0, 1);
        luaL_getmetatable(L, NEEDS_FK_OFF_MT);
        lua_setfield(L, -2, "needs_fk_off");
        nargs = 2;
    }
    lua_call(L, nargs, 1);                           /* errors propagate to our caller */
    if (lua_isnil(L, -1)) {
        lua_pop(L, 1);
        lua_pushboolean(L, 1);
    }
    lua_pushvalue(L, -1);
    lua_setfield(L, -3, name);
    return 1;
}

/* os.time/date/clock/getenv: the original function, after noting that the running chunk
 * read the world outside its text. */
static int sandbox_os_call(lua_State *L)
{
    host_of(L)->read_outside = true;
    lua_pushvalue(L, lua_upvalueindex(1));
    lua_insert(L, 1);
    lua_call(L, lua_gettop(L) - 1, LUA_MULTRET);
    return lua_gettop(L);
}

/* print() writes to stderr: stdout may be carrying --sql output. */
static int sandbox_print(lua_State *L)
{
    int n = lua_gettop(L);
    luaL_Buffer b;
    luaL_buffinit(L, &b);
    for (int i = 1; i <= n; i++) {
        if (i > 1)
            luaL_addchar(&b, '\t');
        luaL_tolstring(L, i, NULL);
        luaL_addvalue(&b);
    }
    luaL_pushresult(&b);
    char *line = out_masked(lua_tostring(L, -1));
    if (line) {
        fprintf(stderr, "%s\n", line);
        free(line);
    }
    return 0;
}

/* load() in text mode only, with the caller's env or a fresh sandbox. */
static int sandbox_load(lua_State *L)
{
    size_t len;
    const char *chunk = luaL_checklstring(L, 1, &len);
    const char *name = luaL_optstring(L, 2, "=(load)");
    int has_env = lua_gettop(L) >= 4;
    if (luaL_loadbufferx(L, chunk, len, name, "t") != LUA_OK) {
        lua_pushnil(L);
        lua_insert(L, -2);
        return 2;
    }
    if (has_env)
        lua_pushvalue(L, 4);
    else
        push_sandbox_env(L);
    lua_setupvalue(L, -2, 1);
    return 1;
}

/* A read-only view of a library table: reads go through, writes raise. */
static int readonly_newindex(lua_State *L)
{
    return luaL_error(L, "the '%s' library is read-only in migrations",
                      lua_tostring(L, lua_upvalueindex(1)));
}

/* The iterator of a read-only view: next() over the library, which is its upvalue. The state
 * pairs() returns is the view, never the library: a chunk would get the real table from it
 * (`local _, t = pairs(string)`) and could change what every migration shares. */
static int readonly_next(lua_State *L)
{
    lua_settop(L, 2);
    lua_pushvalue(L, lua_upvalueindex(1));   /* view key lib */
    lua_insert(L, 2);                        /* view lib key */
    return lua_next(L, 2) ? 2 : 0;
}

static int readonly_pairs(lua_State *L)
{
    lua_pushvalue(L, lua_upvalueindex(1));   /* the iterator, closed over the library */
    lua_pushvalue(L, 1);
    lua_pushnil(L);
    return 3;
}

/* Replaces the library table on top of the stack with a read-only view of it: a userdata,
 * so that not even rawset can change what every migration shares. */
static void push_readonly(lua_State *L, const char *libname)
{
    LUA_STACK_ENTER(L);
    lua_newuserdatauv(L, 0, 0);               /* lib view */
    lua_newtable(L);                          /* lib view mt */
    lua_pushvalue(L, -3);
    lua_setfield(L, -2, "__index");
    lua_pushstring(L, libname);
    lua_pushcclosure(L, readonly_newindex, 1);
    lua_setfield(L, -2, "__newindex");
    lua_pushvalue(L, -3);
    lua_pushcclosure(L, readonly_next, 1);
    lua_pushcclosure(L, readonly_pairs, 1);
    lua_setfield(L, -2, "__pairs");
    lua_pushboolean(L, 0);
    lua_setfield(L, -2, "__metatable");
    lua_setmetatable(L, -2);                  /* lib view */
    lua_remove(L, -2);
    LUA_STACK_LEAVE(L, 0);
}

static void build_sandbox(lua_State *L)
{
    LUA_STACK_ENTER(L);
    static const char *const base_names[] = {
        "assert", "error", "ipairs", "next", "pairs", "pcall", "rawequal", "rawget", "rawlen",
        "rawset", "select", "setmetatable", "getmetatable", "tonumber", "tostring", "type",
        "xpcall", "_VERSION",
    };
    static const char *const libs[] = {"string", "table", "math", "utf8"};
    static const char *const os_names[] = {"time", "date", "clock", "getenv"};

    lua_newtable(L);                                  /* base */
    for (size_t i = 0; i < sizeof base_names / sizeof *base_names; i++) {
        lua_getglobal(L, base_names[i]);
        lua_setfield(L, -2, base_names[i]);
    }
    for (size_t i = 0; i < sizeof libs / sizeof *libs; i++) {
        /* A shallow copy, so the sandbox can drop string.dump (bytecode is not allowed). */
        lua_newtable(L);
        lua_getglobal(L, libs[i]);
        lua_pushnil(L);
        while (lua_next(L, -2)) {
            lua_pushvalue(L, -2);
            lua_insert(L, -2);
            lua_rawset(L, -5);
        }
        lua_pop(L, 1);
        lua_pushnil(L);
        lua_setfield(L, -2, "dump");
        if (strcmp(libs[i], "string") == 0) {
            /* Methods of strings look here too, not in the host's string table: else
             * ("").dump would still reach string.dump. */
            lua_pushliteral(L, "");
            lua_getmetatable(L, -1);          /* base copy "" mt */
            lua_pushvalue(L, -3);
            lua_setfield(L, -2, "__index");
            lua_pop(L, 2);
        }
        push_readonly(L, libs[i]);
        lua_setfield(L, -2, libs[i]);
    }
    lua_newtable(L);                                  /* base os */
    lua_getglobal(L, "os");
    for (size_t i = 0; i < sizeof os_names / sizeof *os_names; i++) {
        lua_getfield(L, -1, os_names[i]);
        lua_pushcclosure(L, sandbox_os_call, 1);
        lua_setfield(L, -3, os_names[i]);
    }
    lua_pop(L, 1);
    push_readonly(L, "os");
    lua_setfield(L, -2, "os");
    lua_pushcfunction(L, sandbox_require);
    lua_setfield(L, -2, "require");
    lua_pushcfunction(L, sandbox_print);
    lua_setfield(L, -2, "print");
    lua_pushcfunction(L, sandbox_load);
    lua_setfield(L, -2, "load");
    lua_pushvalue(L, -1);
    lua_setfield(L, LUA_REGISTRYINDEX, SANDBOX_BASE);
    lua_newtable(L);                                  /* base envmt */
    lua_insert(L, -2);
    lua_setfield(L, -2, "__index");
    lua_pushboolean(L, 0);
    lua_setfield(L, -2, "__metatable"); /* getmetatable(_ENV) cannot reach the base */
    lua_setfield(L, LUA_REGISTRYINDEX, SANDBOX_ENV_MT);
    luaL_newmetatable(L, NEEDS_FK_OFF_MT);
    lua_pushboolean(L, 0);
    lua_setfield(L, -2, "__metatable"); /* getmetatable(e) cannot reach it to forge one */
    lua_pop(L, 1);

    /* Strings' shared metatable stays out of reach: getmetatable("") returns false. */
    lua_pushliteral(L, "");
    lua_getmetatable(L, -1);
    lua_pushboolean(L, 0);
    lua_setfield(L, -2, "__metatable");
    lua_pop(L, 2);
    LUA_STACK_LEAVE(L, 0);
}

int lua_host_new(const config *cfg, lua_host **out, rb_error *err)
{
    *out = NULL;
    lua_host *h = calloc(1, sizeof *h);
    if (!h || !(h->L = luaL_newstate())) {
        free(h);
        return rb_errorf(err, RB_EXIT_FAILURE, "cannot create a Lua state: out of memory");
    }
    h->cfg = cfg;
    interrupt_signal = 0; /* one run, one host: a new one starts uninterrupted */
    lua_State *L = h->L;
    /* The full libraries are opened in the host state only to copy the allowed functions
     * into the sandbox base; no chunk ever runs with this _G as its environment. */
    luaL_openlibs(L);
    build_sandbox(L);
    lua_newtable(L);
    lua_setfield(L, LUA_REGISTRYINDEX, LOADED);
    lua_pushlightuserdata(L, h);
    lua_setfield(L, LUA_REGISTRYINDEX, HOST_KEY);
    lua_gc(L, LUA_GCGEN, 0, 0);
    *out = h;
    return 0;
}

void lua_host_free(lua_host *h)
{
    if (!h)
        return;
    lua_close(h->L);
    free(h);
}

/* ---- migration files ----------------------------------------------------------------- */

/* t[k] without metamethods. The tables a chunk returns are read outside a protected call,
 * where an __index or __len that raises (or never returns) would abort rbacmig. */
static int rawfield(lua_State *L, int idx, const char *k)
{
    idx = lua_absindex(L, idx);
    lua_pushstring(L, k);
    return lua_rawget(L, idx);
}

static bool valid_revision_id(const char *s)
{
    size_t n = strlen(s);
    if (n == 0 || n > 40)
        return false;
    for (size_t i = 0; i < n; i++)
        if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= '0' && s[i] <= '9') || s[i] == '_'))
            return false;
    return true;
}

/* Reads nil, a string, or a list of strings at field `name` of the table at idx. */
static int read_str_list(lua_State *L, int idx, const char *path, const char *name,
                         bool ids, str_list *out, rb_error *err)
{
    LUA_STACK_ENTER(L);
    int rc = 0;
    int t = rawfield(L, idx, name);
    if (t == LUA_TSTRING) {
        if (str_list_push(out, lua_tostring(L, -1)) != 0)
            rc = rb_errorf(err, RB_EXIT_FAILURE, "out of memory");
    } else if (t == LUA_TTABLE) {
        lua_Integer n = (lua_Integer)lua_rawlen(L, -1);
        for (lua_Integer i = 1; i <= n && rc == 0; i++) {
            if (lua_rawgeti(L, -1, i) != LUA_TSTRING)
                rc = rb_errorf(err, RB_EXIT_FAILURE, "%s: %s[%lld] is a %s, expected a string",
                               path, name, (long long)i, luaL_typename(L, -1));
            else if (str_list_push(out, lua_tostring(L, -1)) != 0)
                rc = rb_errorf(err, RB_EXIT_FAILURE, "out of memory");
            lua_pop(L, 1);
        }
    } else if (t != LUA_TNIL) {
        rc = rb_errorf(err, RB_EXIT_FAILURE,
                       "%s: %s is a %s, expected a string or a list of strings", path, name,
                       luaL_typename(L, -1));
    }
    lua_pop(L, 1);
    for (int i = 0; rc == 0 && i < out->count; i++)
        for (int j = 0; rc == 0 && j < i; j++)
            if (strcmp(out->items[i], out->items[j]) == 0)
                rc = rb_errorf(err, RB_EXIT_FAILURE, "%s: %s names '%s' twice", path, name,
                               out->items[i]);
    for (int i = 0; rc == 0 && ids && i < out->count; i++)
        if (!valid_revision_id(out->items[i]))
            rc = rb_errorf(err, RB_EXIT_FAILURE,
                           "%s: %s names '%s', which is not a revision id (lowercase letters, "
                           "digits, '_')", path, name, out->items[i]);
    LUA_STACK_LEAVE(L, 0);
    return rc;
}

static const char *const revision_keys[] = {
    "revision", "down_revision", "branch_labels", "depends_on", "message", "transactional",
    "upgrade", "downgrade", NULL,
};

/* The "Create Date:" of a generated header comment, if any. */
static char *header_create_date(const char *text)
{
    const char *p = strstr(text, "-- Create Date:");
    if (!p || p - text > 2048)
        return NULL;
    p += strlen("-- Create Date:");
    while (*p == ' ')
        p++;
    return strndup(p, strcspn(p, "\r\n"));
}

int lua_host_read_revision(lua_host *h, const char *path, revision *out, rb_error *err)
{
    lua_State *L = h->L;
    LUA_STACK_ENTER(L);
    memset(out, 0, sizeof *out);
    char *text = NULL, chunkname[1024];
    size_t len = 0;
    int rc = -1;
    h->read_outside = false;
    if (read_file(path, &text, &len, err) != 0)
        return -1;
    if (check_text(path, text, len, err) != 0)
        goto done;
    snprintf(chunkname, sizeof chunkname, "@%s", path);
    if (load_chunk(L, text, len, chunkname, err) != 0)
        goto done;
    if (docall(L, 0, 1, err) != 0)
        goto done;
    /* stack: result */
    if (!lua_istable(L, -1)) {
        rb_errorf(err, RB_EXIT_FAILURE, "%s: the migration returned %s, expected a table "
                  "(return { revision = ..., upgrade = ..., downgrade = ... })",
                  path, lua_isnil(L, -1) ? "nothing" : luaL_typename(L, -1));
        goto pop;
    }
    lua_pushnil(L);
    while (lua_next(L, -2)) {
        const char *key = lua_type(L, -2) == LUA_TSTRING ? lua_tostring(L, -2) : NULL;
        int k = 0;
        while (key && revision_keys[k] && strcmp(revision_keys[k], key) != 0)
            k++;
        if (!key || !revision_keys[k]) {
            rb_errorf(err, RB_EXIT_FAILURE, "%s: unknown field '%s' in the migration table", path,
                      key ? key : luaL_typename(L, -2));
            lua_pop(L, 2);
            goto pop;
        }
        lua_pop(L, 1);
    }
    if (rawfield(L, -1, "revision") != LUA_TSTRING) {
        rb_errorf(err, RB_EXIT_FAILURE, "%s: 'revision' is %s, expected a string such as "
                  "\"91759229c32b\"", path, lua_isnil(L, -1) ? "missing" : luaL_typename(L, -1));
        lua_pop(L, 1);
        goto pop;
    }
    if (!valid_revision_id(lua_tostring(L, -1))) {
        rb_errorf(err, RB_EXIT_FAILURE, "%s: revision '%s' is not a revision id (1 to 40 "
                  "lowercase letters, digits or '_')", path, lua_tostring(L, -1));
        lua_pop(L, 1);
        goto pop;
    }
    out->id = strdup(lua_tostring(L, -1));
    lua_pop(L, 1);
    const char *fns[] = {"upgrade", "downgrade"};
    for (int i = 0; i < 2; i++) {
        int t = rawfield(L, -1, fns[i]);
        lua_pop(L, 1);
        if (t != LUA_TFUNCTION) {
            rb_errorf(err, RB_EXIT_FAILURE, "%s: '%s' is %s, expected a function(db)", path,
                      fns[i], t == LUA_TNIL ? "missing" : lua_typename(L, t));
            goto pop;
        }
    }
    int t = rawfield(L, -1, "message");
    if (t != LUA_TSTRING && t != LUA_TNIL) {
        rb_errorf(err, RB_EXIT_FAILURE, "%s: 'message' is a %s, expected a string", path,
                  luaL_typename(L, -1));
        lua_pop(L, 1);
        goto pop;
    }
    out->message = strdup(t == LUA_TSTRING ? lua_tostring(L, -1) : "");
    lua_pop(L, 1);
    t = rawfield(L, -1, "transactional");
    if (t != LUA_TBOOLEAN && t != LUA_TNIL) {
        rb_errorf(err, RB_EXIT_FAILURE, "%s: 'transactional' is a %s, expected true or false",
                  path, luaL_typename(L, -1));
        lua_pop(L, 1);
        goto pop;
    }
    out->transactional = t == LUA_TNIL || lua_toboolean(L, -1);
    lua_pop(L, 1);
    if (read_str_list(L, -1, path, "down_revision", true, &out->down, err) != 0 ||
        read_str_list(L, -1, path, "branch_labels", false, &out->branch_labels, err) != 0 ||
        read_str_list(L, -1, path, "depends_on", true, &out->depends_on, err) != 0)
        goto pop;
    out->path = strdup(path);
    out->create_date = header_create_date(text);
    if (!h->skip_checksums)
        sha256_hex_normalised(text, len, out->sha256);
    if (!out->id || !out->message || !out->path) {
        rb_errorf(err, RB_EXIT_FAILURE, "out of memory");
        goto pop;
    }
    rc = 0;
pop:
    lua_pop(L, 1);
done:
    free(text);
    if (rc != 0)
        revision_release(out);
    LUA_STACK_LEAVE(L, 0);
    return rc;
}

int lua_host_run_migration(lua_host *h, const char *path, const char *sha256,
                           const char *function, db_conn *conn, rb_error *err)
{
    lua_State *L = h->L;
    LUA_STACK_ENTER(L);
    char *text = NULL, chunkname[1024], now_sha256[65];
    size_t len = 0;
    if (read_file(path, &text, &len, err) != 0)
        return -1;
    int rc = check_text(path, text, len, err);
    /* The file was read once to plan and to record its checksum, and now again to run: what
     * runs must be what the history will say ran. */
    if (rc == 0 && sha256 && sha256[0]) {
        sha256_hex_normalised(text, len, now_sha256);
        if (strcmp(now_sha256, sha256) != 0) {
            rc = rb_errorf(err, RB_EXIT_FAILURE, "%s changed while rbacmig was running (SHA-256 "
                           "%.12s... when read, %.12s... now); nothing of it ran", path, sha256,
                           now_sha256);
            rb_strlcpy(err->hint, "run the command again", sizeof err->hint);
        }
    }
    snprintf(chunkname, sizeof chunkname, "@%s", path);
    if (rc == 0)
        rc = load_chunk(L, text, len, chunkname, err);
    free(text);
    if (rc == 0)
        rc = docall(L, 0, 1, err);
    if (rc != 0) {
        LUA_STACK_LEAVE(L, 0);
        return -1;
    }
    int type = lua_istable(L, -1) ? rawfield(L, -1, function) : LUA_TNONE;
    if (type != LUA_TFUNCTION) {                 /* t [v] */
        rc = rb_errorf(err, RB_EXIT_FAILURE, "%s: no %s function", path, function);
        if (type != LUA_TNONE)
            lua_pop(L, 1);                       /* t */
    } else if ((rc = push_db(h, conn, err)) != 0) {  /* t fn db */
        lua_pop(L, 1);                           /* t */
    } else {
        rc = docall_with_db(h, conn, 1, 0, err); /* t */
    }
    lua_pop(L, 1);
    lua_gc(L, LUA_GCSTEP, 0);
    LUA_STACK_LEAVE(L, 0);
    return rc;
}

/* ---- config files -------------------------------------------------------------------- */

static int config_string(lua_State *L, const char *path, const char *key, char **field,
                         rb_error *err)
{
    int t = rawfield(L, -1, key);
    int rc = 0;
    if (t == LUA_TSTRING)
        rc = config_set(field, lua_tostring(L, -1), err);
    else if (t != LUA_TNIL)
        rc = rb_errorf(err, RB_EXIT_FAILURE, "%s: '%s' is a %s, expected a string", path, key,
                       luaL_typename(L, -1));
    lua_pop(L, 1);
    return rc;
}

/* A name rbacmig gives PostgreSQL: it would cut one longer than 63 bytes without a word and
 * then find, or make, another table than the one named. */
static int config_name(const char *path, const char *key, const char *value, rb_error *err)
{
    enum { PG_NAME_MAX = 63 };
    if (!value[0])
        return rb_errorf(err, RB_EXIT_FAILURE, "%s: '%s' is empty", path, key);
    if (strlen(value) > PG_NAME_MAX)
        return rb_errorf(err, RB_EXIT_FAILURE, "%s: '%s' is longer than %d bytes, the longest "
                         "name PostgreSQL keeps", path, key, PG_NAME_MAX);
    return 0;
}

static int config_seconds(lua_State *L, const char *path, const char *key, int *ms, rb_error *err)
{
    int t = rawfield(L, -1, key);
    int rc = 0;
    if (t == LUA_TNUMBER && lua_tonumber(L, -1) >= 0 && lua_tonumber(L, -1) < 86400 * 7)
        *ms = (int)(lua_tonumber(L, -1) * 1000);
    else if (t != LUA_TNIL)
        rc = rb_errorf(err, RB_EXIT_FAILURE, "%s: '%s' must be a number of seconds", path, key);
    lua_pop(L, 1);
    return rc;
}

int lua_host_read_config(lua_host *h, const char *path, bool required, config *cfg, rb_error *err)
{
    lua_State *L = h->L;
    LUA_STACK_ENTER(L);
    struct stat st; /* not an open: a FIFO would wait for a writer; the load refuses it */
    if (stat(path, &st) != 0) {
        if (!required && errno == ENOENT)
            return 0;
        return rb_errorf(err, RB_EXIT_FAILURE, "cannot open config file '%s': %s", path,
                         strerror(errno));
    }
    if (lua_host_dofile_value(L, path, err) != 0)
        return -1;
    int rc = 0;
    static const char *const keys[] = {"database_url", "migrations", "rbac", "lua",
                                       "version_table", "history_table", "schema",
                                       "lock_timeout", "statement_timeout", NULL};
    if (!lua_istable(L, -1)) {
        rc = rb_errorf(err, RB_EXIT_FAILURE, "%s: the config file must return a table", path);
        goto done;
    }
    lua_pushnil(L);
    while (lua_next(L, -2)) {
        const char *key = lua_type(L, -2) == LUA_TSTRING ? lua_tostring(L, -2) : "?";
        int k = 0;
        while (keys[k] && strcmp(keys[k], key) != 0)
            k++;
        lua_pop(L, 1);
        if (!keys[k]) {
            rc = rb_errorf(err, RB_EXIT_FAILURE, "%s: unknown setting '%s'", path, key);
            lua_pop(L, 1);
            goto done;
        }
    }
    if (config_string(L, path, "database_url", &cfg->file_url, err) != 0 ||
        config_string(L, path, "migrations", &cfg->migrations_dir, err) != 0 ||
        config_string(L, path, "rbac", &cfg->rbac_dir, err) != 0 ||
        config_string(L, path, "lua", &cfg->lua_dir, err) != 0 ||
        config_string(L, path, "version_table", &cfg->version_table, err) != 0 ||
        config_string(L, path, "history_table", &cfg->history_table, err) != 0 ||
        config_string(L, path, "schema", &cfg->schema, err) != 0 ||
        config_seconds(L, path, "lock_timeout", &cfg->lock_timeout_ms, err) != 0 ||
        config_seconds(L, path, "statement_timeout", &cfg->statement_timeout_ms, err) != 0 ||
        config_name(path, "version_table", cfg->version_table, err) != 0 ||
        config_name(path, "history_table", cfg->history_table, err) != 0 ||
        config_name(path, "schema", cfg->schema, err) != 0)
        rc = -1;
done:
    lua_pop(L, 1);
    LUA_STACK_LEAVE(L, 0);
    return rc;
}

/* ---- RBAC commands ------------------------------------------------------------------- */

int lua_host_call_rbac(lua_host *h, const char *function, db_conn *conn, const str_list *args,
                       const lua_rbac_opt *opts, int nopts, int *answer, rb_error *err)
{
    lua_State *L = h->L;
    LUA_STACK_ENTER(L);
    *answer = 0;
    lua_pushcfunction(L, sandbox_require);
    lua_pushliteral(L, "rbacmig.commands");
    if (docall(L, 1, 1, err) != 0)
        return -1;
    if (rawfield(L, -1, "command") != LUA_TFUNCTION) {
        lua_pop(L, 2);
        return rb_errorf(err, RB_EXIT_FAILURE, "rbacmig.commands has no 'command' entry point");
    }
    lua_pushstring(L, function);
    if (push_db(h, conn, err) != 0) {
        lua_pop(L, 3);                                /* module command name */
        LUA_STACK_LEAVE(L, 0);
        return -1;
    }
    lua_createtable(L, args->count, 0);
    for (int i = 0; i < args->count; i++) {
        lua_pushstring(L, args->items[i]);
        lua_rawseti(L, -2, i + 1);
    }
    /* Typed options: a value is never read as anything but a string ("--name true"). */
    lua_createtable(L, 0, nopts);                     /* ... opts */
    for (int i = 0; i < nopts; i++) {
        const str_list *values = opts[i].values;
        if (!values) {
            lua_pushboolean(L, 1);
        } else {
            lua_createtable(L, values->count, 0);
            for (int j = 0; j < values->count; j++) {
                lua_pushstring(L, values->items[j]);
                lua_rawseti(L, -2, j + 1);
            }
        }                                             /* ... opts value */
        lua_setfield(L, -2, opts[i].name);
    }
    /* rbac module, command, name, db, args, opts */
    int rc = docall_with_db(h, conn, 4, 2, err);
    if (rc != 0 && !out_verbose())
        err->traceback[0] = '\0'; /* a CLI error names its value; the stack is for -v */
    if (rc == 0) {
        if (lua_type(L, -2) == LUA_TTABLE && !db_is_offline(conn)) {
            lua_Integer n = (lua_Integer)lua_rawlen(L, -2);
            for (lua_Integer i = 1; i <= n; i++) {
                lua_rawgeti(L, -2, i);
                out_print("%s", lua_tostring(L, -1) ? lua_tostring(L, -1) : "");
                lua_pop(L, 1);
            }
        }
        *answer = (int)lua_tointeger(L, -1);
        lua_pop(L, 2);
    }
    lua_pop(L, 1);
    LUA_STACK_LEAVE(L, 0);
    return rc;
}
