/* lua_internal.h: what lua_host.c and lua_db.c share. The only header besides them that
 * includes lua.h; nothing else in rbacmig sees the Lua API. */
#ifndef RBACMIG_LUA_INTERNAL_H
#define RBACMIG_LUA_INTERNAL_H

#include <assert.h>
#include <stdint.h>
#include <lauxlib.h>
#include <lua.h>
#include <lualib.h>

#include "config.h"
#include "driver.h"

/* Stack discipline, asserted in debug builds: LUA_STACK_ENTER at the top of a function,
 * LUA_STACK_LEAVE(L, n) before each return that leaves n more values than it found. */
#ifdef RBACMIG_DEBUG
#define LUA_STACK_ENTER(L) const int lua_stack_top_ = lua_gettop(L)
#define LUA_STACK_LEAVE(L, n) assert(lua_gettop(L) == lua_stack_top_ + (n))
#else
#define LUA_STACK_ENTER(L) ((void)0)
#define LUA_STACK_LEAVE(L, n) ((void)0)
#endif

/* Pushes the run's config as a light userdata, which Lua types as a plain void *: it is
 * read back only as a const config * (lua_touserdata), never written through. */
static inline void lua_push_config(lua_State *L, const config *cfg)
{
    lua_pushlightuserdata(L, (void *)(uintptr_t)cfg);
}

/* Loads path as a sandboxed text chunk and runs it; pushes its first result. On error
 * pushes nothing, fills err and returns -1. */
int lua_host_dofile_value(lua_State *L, const char *path, rb_error *err);
/* The same with the table on top of the stack (popped) as the chunk's only _ENV instead of
 * a sandbox: for data files that must see nothing. */
int lua_host_dofile_in(lua_State *L, const char *path, rb_error *err);

/* Pushes a fresh sandbox _ENV, the one a migration gets, on the host's state and returns
 * that state. For tests/lua_runner.c: it adds what only the Lua suites may use to this one
 * table and runs a suite in it with lua_host_dofile_in; the shared sandbox stays as it is. */
struct lua_host;
lua_State *lua_host_push_sandbox_env(struct lua_host *h);

/* A lua_CFunction, to be called protected: (conn, cfg as light userdata) -> a new `db`
 * object on conn (borrowed: it must outlive the call it is given to). Loads the schema
 * builder, so it can fail. */
int lua_db_new(lua_State *L);

/* The connection whose `db` objects work now (the running migration's or RBAC command's), or
 * NULL; a db method on any other connection raises. */
db_conn *lua_host_active_conn(lua_State *L);

/* The registry key of the table the db methods live in (for tests of the API). */
#define LUA_DB_METHODS "rbacmig.db.methods"
#define LUA_DB_ERROR "rbacmig.db.error"

#endif
