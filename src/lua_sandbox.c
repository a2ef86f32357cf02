/* lua_sandbox.c: what a chunk sees. Every chunk (migration, rbacmig.lua, project module)
 * is loaded as text into its own _ENV whose reads fall through to one shared base: a few
 * base functions, read-only views of string, table, math, utf8 and os.time/date/clock/
 * getenv, and rbacmig's require, print and load. No io, no os.execute/exit/remove/rename,
 * no debug, no C modules, no string.dump, no bytecode but rbacmig's own embedded modules.
 * Asks the host (lua_internal.h) only for the run's config and to note a read of the world
 * outside a file's text. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "embedded.h"
#include "lua_internal.h"
#include "output.h"
#include "textfile.h"

#define SANDBOX_BASE "rbacmig.sandbox"
#define SANDBOX_ENV_MT "rbacmig.sandbox.envmt" /* {__index = base, __metatable = false} */
#define LOADED "rbacmig.loaded"

/* Pushes a fresh _ENV whose reads fall through to the shared sandbox base (one table per
 * chunk, with a shared metatable: loading 10,000 migrations must stay cheap). */
void lua_sandbox_push_env(lua_State *L)
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
        rb_errorf(err, RB_ERR_FAILURE, "%s", lua_tostring(L, -1));
        lua_pop(L, 1);
        LUA_STACK_LEAVE(L, 0);
        return -1;
    }
    lua_sandbox_push_env(L);
    lua_setupvalue(L, -2, 1);
    LUA_STACK_LEAVE(L, 1);
    return 0;
}

int lua_sandbox_load(lua_State *L, const char *text, size_t len, const char *chunkname,
                     rb_error *err)
{
    return load_chunk_mode(L, text, len, chunkname, "t", err);
}

/* require(name): embedded rbacmig modules first, then the project's lua/ directory. */
int lua_sandbox_require(lua_State *L)
{
    const char *name = luaL_checkstring(L, 1);
    const embedded_module *m = embedded_modules;
    while (m->name && strcmp(m->name, name) != 0)
        m++;
    lua_host_note_outside(L);
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
        const config *cfg = lua_host_config(L);
        luaL_Buffer b;
        luaL_buffinit(L, &b);
        luaL_addstring(&b, cfg && cfg->lua_dir ? cfg->lua_dir : "lua");
        luaL_addchar(&b, '/');
        for (const char *p = name; *p; p++)
            luaL_addchar(&b, *p == '.' ? '/' : *p);
        luaL_addstring(&b, ".lua");
        luaL_pushresult(&b);                         /* name loaded path */
        const char *path = lua_tostring(L, -1);
        /* A missing module gets its own message; textfile_read refuses anything but a
         * regular file. */
        struct stat st;
        if (stat(path, &st) != 0)
            return luaL_error(L, "module '%s' not found (not embedded in rbacmig, no file '%s')",
                              name, path);
        textfile tf;
        char chunkname[1024];
        snprintf(chunkname, sizeof chunkname, "@%s", path);
        rc = textfile_read(path, &tf, &err);
        if (rc == 0)
            rc = lua_sandbox_load(L, tf.text, tf.len, chunkname, &err);
        textfile_release(&tf);
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
    lua_host_note_outside(L);
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
        lua_sandbox_push_env(L);
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

void lua_sandbox_build(lua_State *L)
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
    lua_pushcfunction(L, lua_sandbox_require);
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
    lua_newtable(L);                                  /* what require has loaded */
    lua_setfield(L, LUA_REGISTRYINDEX, LOADED);
    LUA_STACK_LEAVE(L, 0);
}

