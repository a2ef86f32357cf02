/* lua_runner.c: runs one Lua suite (tests/lua/test_*.lua) where rbacmig runs a migration:
 * in a lua_host's sandbox, with rbacmig's modules as the binary embeds them (bytecode,
 * through the sandbox's own `require`), and the suite's directory as the project's module
 * directory (the harness and the suites' helpers are found there). It links the same
 * rbacmig_core and liblua as rbacmig, so the user-facing binary carries no test command.
 *
 *   lua_runner SUITE.lua        run from the source root (fixtures are read from there)
 *
 * What a suite needs beyond a migration's sandbox goes into the suite's own _ENV and nowhere
 * else: modules it requires and chunks it loads get the sandbox as migrations do (and
 * test_sandbox.lua checks that they do):
 *   read_file(path)            the text of a fixture (rbac/ files, a migration, the docs)
 *   debug.getinfo, .traceback  where a check was called from
 *
 * Exit 0 when the suite ended with `return T.done()` (tests/lua/harness.lua) and every case
 * of at least one passed; 1 when a case failed, none ran, or the suite raised or stopped
 * before its end; 2 on a usage error. */
#include <errno.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "config.h"
#include "error.h"
#include "lua_host.h"
#include "lua_internal.h"

/* read_file(path) -> the file's bytes. The buffer is made before the file is opened: Lua
 * may raise (out of memory) only while no C resource is held. */
static int test_read_file(lua_State *L)
{
    const char *path = luaL_checkstring(L, 1);
    struct stat st;
    if (stat(path, &st) != 0)
        return luaL_error(L, "cannot read '%s': %s", path, strerror(errno));
    if (!S_ISREG(st.st_mode))
        return luaL_error(L, "cannot read '%s': not a regular file", path);
    size_t size = (size_t)st.st_size;
    luaL_Buffer b;
    char *data = luaL_buffinitsize(L, &b, size);
    FILE *f = fopen(path, "rb");
    int saved = errno;
    size_t got = f ? fread(data, 1, size, f) : 0;
    bool failed = !f || ferror(f) || got != size;
    if (f)
        fclose(f);
    if (failed)
        return luaL_error(L, "cannot read '%s': %s", path, f ? "short read" : strerror(saved));
    luaL_pushresultsize(&b, got);
    return 1;
}

/* Adds the suite's grants to the _ENV on top of the stack. `debug` is taken from the host's
 * own globals, which the sandbox never exposes (lua_host.c copies from them). */
static void grant(lua_State *L)
{
    static const char *const debug_names[] = {"getinfo", "traceback"};
    lua_pushcfunction(L, test_read_file);
    lua_setfield(L, -2, "read_file");
    lua_newtable(L);                                  /* env debug */
    lua_getglobal(L, "debug");                        /* env debug hostdebug */
    for (size_t i = 0; i < sizeof debug_names / sizeof *debug_names; i++) {
        lua_getfield(L, -1, debug_names[i]);
        lua_setfield(L, -3, debug_names[i]);
    }
    lua_pop(L, 1);
    lua_setfield(L, -2, "debug");                     /* env */
}

int main(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: lua_runner SUITE.lua\n");
        return RB_ERR_USAGE;
    }
    const char *suite = argv[1];
    config cfg;
    config_init(&cfg);
    lua_host *host = NULL;
    rb_error err;
    rb_error_init(&err);
    int status = RB_ERR_FAILURE;
    char *copy = strdup(suite);
    if (!copy) {
        rb_errorf(&err, RB_ERR_FAILURE, "out of memory");
        goto done;
    }
    if (config_set(&cfg.lua_dir, dirname(copy), &err) != 0 ||
        lua_host_new(&cfg, &host, &err) != 0)
        goto done;
    lua_State *L = lua_host_push_sandbox_env(host);  /* env */
    grant(L);
    if (lua_host_dofile_in(L, suite, &err) != 0)      /* result */
        goto done;
    lua_Integer passed = -1, failed = -1;
    if (lua_istable(L, -1)) {                         /* {passed = n, failed = m} */
        lua_getfield(L, -1, "passed");
        lua_getfield(L, -2, "failed");
        passed = lua_isinteger(L, -2) ? lua_tointeger(L, -2) : -1;
        failed = lua_isinteger(L, -1) ? lua_tointeger(L, -1) : -1;
        lua_pop(L, 2);
    }
    lua_pop(L, 1);
    if (passed < 0 || failed < 0)
        rb_errorf(&err, RB_ERR_FAILURE, "%s: the suite must end with `return T.done()`", suite);
    else if (failed > 0)
        rb_errorf(&err, RB_ERR_FAILURE, "%s: %lld of %lld cases failed", suite,
                  (long long)failed, (long long)(passed + failed));
    else if (passed == 0)
        rb_errorf(&err, RB_ERR_FAILURE, "%s: no case ran", suite);
    else
        status = 0;
done:
    if (status != 0)
        fprintf(stderr, "lua_runner: %s\n%s%s", err.message, err.traceback,
                err.traceback[0] ? "\n" : "");
    lua_host_free(host);
    config_release(&cfg);
    free(copy);
    return status;
}
