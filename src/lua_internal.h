/* lua_internal.h: what the lua_*.c files (host, sandbox, db, fields, commands) share: the
 * contract between them, so that none of them includes another's header. The only header besides them that
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

struct revision; /* graph.h: only lua_fields.c and lua_host.c fill one */

/* Stack discipline, asserted in debug builds: LUA_STACK_ENTER at the top of a function,
 * LUA_STACK_LEAVE(L, n) before each return that leaves n more values than it found. */
#ifdef RBACMIG_DEBUG
#define LUA_STACK_ENTER(L) const int lua_stack_top_ = lua_gettop(L)
#define LUA_STACK_LEAVE(L, n) assert(lua_gettop(L) == lua_stack_top_ + (n))
#else
#define LUA_STACK_ENTER(L) ((void)0)
#define LUA_STACK_LEAVE(L, n) ((void)0)
#endif

/* t[k] without metamethods; pushes it and returns its type. The tables a chunk returns are
 * read outside a protected call, where an __index that raises (or never returns) would
 * abort rbacmig. */
static inline int raw_field(lua_State *L, int idx, const char *k)
{
    idx = lua_absindex(L, idx);
    lua_pushstring(L, k);
    return lua_rawget(L, idx);
}

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

/* The host's protected calls, for the entry points in lua_commands.c. lua_host_docall calls
 * the function below nargs arguments with the message handler and the interrupt hook; on
 * error it fills err (its kind from the error value, or interrupted). lua_host_push_db
 * pushes a `db` on conn; lua_host_docall_with_db is lua_host_docall while that `db` works. */
lua_State *lua_host_state(struct lua_host *h);
const config *lua_host_cfg(const struct lua_host *h);
int lua_host_docall(lua_State *L, int nargs, int nresults, rb_error *err);
int lua_host_push_db(struct lua_host *h, db_conn *conn, rb_error *err);
int lua_host_docall_with_db(struct lua_host *h, db_conn *conn, int nargs, int nresults,
                            rb_error *err);

/* A lua_CFunction, to be called protected: (conn, cfg as light userdata) -> a new `db`
 * object on conn (borrowed: it must outlive the call it is given to). Loads the schema
 * builder, so it can fail. */
int lua_db_new(lua_State *L);

/* Pushes a result set as db:query returns it: a list of rows, each a table by column name. */
void lua_db_push_rows(lua_State *L, const db_result *r);

/* The connection whose `db` objects work now (the running migration's or RBAC command's), or
 * NULL; a db method on any other connection raises. */
db_conn *lua_host_active_conn(lua_State *L);

/* The metatable of the rebuild engine's "run me again with foreign keys off" error, given
 * only to rbacmig's own modules (lua_sandbox_require): a migration cannot make an error that
 * carries it, so no migration can forge RB_ERR_NEEDS_FK_OFF. */
#define NEEDS_FK_OFF_MT "rbacmig.error.needs_fk_off"

/* The sandbox (lua_sandbox.c). Builds the shared base every chunk's _ENV reads through, in
 * a state whose full libraries are open (only to be copied from). */
void lua_sandbox_build(lua_State *L);
/* Pushes a fresh _ENV whose reads fall through to the shared sandbox base. */
void lua_sandbox_push_env(lua_State *L);
/* Loads text as a chunk named chunkname (text only: no bytecode) with a fresh sandbox _ENV;
 * pushes it. On a syntax error pushes nothing and fills err. */
int lua_sandbox_load(lua_State *L, const char *text, size_t len, const char *chunkname,
                     rb_error *err);
/* The sandbox's require(name), a lua_CFunction: embedded rbacmig modules first, then the
 * project's lua/ directory. */
int lua_sandbox_require(lua_State *L);

/* What the sandbox asks of the host (lua_host.c): the run's config, and to note that the
 * running chunk read more than its own text (a module, the clock, the environment). */
const config *lua_host_config(lua_State *L);
void lua_host_note_outside(lua_State *L);

/* The tables Lua files return, checked against their specs (lua_fields.c) and read into C:
 * the table at idx, returned by the migration at path, into *out (id, message, parents,
 * labels, dependencies, transactional, path; the caller releases it on error too)... */
int lua_fields_read_revision(lua_State *L, int idx, const char *path, struct revision *out,
                             rb_error *err);
/* ... and the table at idx, returned by the config file at path, into cfg. */
int lua_fields_read_config(lua_State *L, int idx, const char *path, config *cfg, rb_error *err);

/* The registry key of the table the db methods live in (for tests of the API). */
#define LUA_DB_METHODS "rbacmig.db.methods"
#define LUA_DB_ERROR "rbacmig.db.error"

#endif
