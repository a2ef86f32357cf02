/* fuzz_migration.c: loading a migrations directory (scripts_load: lua_host_read_revision
 * for each file, then graph_build), with one Lua host for the whole run as rbacmig has.
 *
 * Input: up to 8 migration files separated by the line "--8<--" (that is, the bytes
 * "\n--8<--\n"; the 8th file takes the rest). File k is written as m<k>.lua in a scratch
 * migrations directory, which is emptied first; an empty piece writes no file, so an
 * empty input is an empty directory. When the load succeeds the graph is checked: one
 * revision per file, one root, distinct parents, a topological order that puts parents
 * and dependencies first, heads, and an upgrade plan from base to "heads" that applies
 * every revision.
 *
 * Migration chunks run their top level when loaded, so an input can loop forever. A
 * watchdog timer calls lua_host_interrupt (the hook rbacmig's SIGINT handler uses) after
 * RBACMIG_FUZZ_LUA_MS milliseconds (default 250; 0 turns it off) and again every 50 ms;
 * with it on, inputs that mention "pcall" are skipped, since a pcall can catch the
 * interrupt and go on looping. See README.md.
 *
 * Depends on scripts.h, lua_host.h, graph.h, config.h. */
#define _GNU_SOURCE /* memmem, SIGEV_THREAD_ID */
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "config.h"
#include "fuzz_util.h"
#include "graph.h"
#include "lua_host.h"
#include "scripts.h"

#define MAX_FILES 8
static const char separator[] = "\n--8<--\n";

static config cfg;
static lua_host *host;
static char *migrations_dir;
static timer_t watchdog;
static long watchdog_ms = 250;

/* A migration can ask for any amount of memory ("x"):rep(2^40): the Lua host sets no
 * limit, so let ASan refuse huge blocks (Lua then raises "not enough memory") instead of
 * libFuzzer reporting its malloc limit as a crash. Environment ASAN_OPTIONS still wins. */
const char *__asan_default_options(void);
const char *__asan_default_options(void)
{
    return "allocator_may_return_null=1:max_allocation_size_mb=512";
}

/* Lua's hook is the only thing a signal may set (lua_host_interrupt is async-safe). */
static volatile sig_atomic_t watchdog_fired;
static void on_watchdog(int signo)
{
    (void)signo;
    watchdog_fired = 1;
    lua_host_interrupt(SIGINT);
}

/* A timer signal aimed at this thread, never at libFuzzer's own threads. SIGALRM is
 * libFuzzer's (-timeout); a real-time signal is nobody's. */
static void start_watchdog(void)
{
    const char *ms = getenv("RBACMIG_FUZZ_LUA_MS");
    if (ms)
        watchdog_ms = strtol(ms, NULL, 10);
    if (watchdog_ms <= 0)
        return;
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_watchdog;
    sa.sa_flags = SA_RESTART;
    sigemptyset(&sa.sa_mask);
    FUZZ_CHECK(sigaction(SIGRTMIN + 2, &sa, NULL) == 0, "sigaction failed");
    struct sigevent sev;
    memset(&sev, 0, sizeof sev);
    sev.sigev_notify = SIGEV_THREAD_ID;
    sev.sigev_signo = SIGRTMIN + 2;
    sev._sigev_un._tid = (pid_t)syscall(SYS_gettid);
    FUZZ_CHECK(timer_create(CLOCK_MONOTONIC, &sev, &watchdog) == 0, "timer_create failed");
}

static void arm_watchdog(bool on)
{
    if (watchdog_ms <= 0)
        return;
    struct itimerspec its;
    memset(&its, 0, sizeof its);
    if (on) {
        its.it_value.tv_sec = watchdog_ms / 1000;
        its.it_value.tv_nsec = (watchdog_ms % 1000) * 1000000L;
        its.it_interval.tv_nsec = 50 * 1000000L;
    }
    timer_settime(watchdog, 0, &its, NULL);
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    rb_error err;
    rb_error_init(&err);
    config_init(&cfg);
    /* Every input is written just now, so the metadata cache would store nothing anyway;
     * off, so that no run leaves a cache file in $HOME. */
    setenv("RBACMIG_NO_CACHE", "1", 1);
    migrations_dir = fuzz_scratch_path("migrations");
    /* require() of a project module looks here: an empty directory, not the cwd's lua/. */
    char *lua_dir = fuzz_scratch_path("lua");
    FUZZ_CHECK(config_set(&cfg.migrations_dir, migrations_dir, &err) == 0 &&
               config_set(&cfg.lua_dir, lua_dir, &err) == 0, "config_set failed");
    free(lua_dir);
    FUZZ_CHECK(mkdir(migrations_dir, 0700) == 0 && mkdir(cfg.lua_dir, 0700) == 0,
               "cannot create the scratch directories");
    FUZZ_CHECK(lua_host_new(&cfg, &host, &err) == 0, "lua_host_new: %s", err.message);
    start_watchdog();
    return 0;
}

/* Only write_files puts files there, named m0.lua to m7.lua. */
static void empty_migrations_dir(void)
{
    for (int k = 0; k < MAX_FILES; k++) {
        char name[64];
        snprintf(name, sizeof name, "migrations/m%d.lua", k);
        char *path = fuzz_scratch_path(name);
        unlink(path);
        free(path);
    }
}

/* Writes the pieces of the input; returns how many files were written. */
static int write_files(const uint8_t *data, size_t size)
{
    int files = 0;
    size_t seplen = sizeof separator - 1;
    for (int k = 0; k < MAX_FILES; k++) {
        const uint8_t *end = k + 1 < MAX_FILES ? memmem(data, size, separator, seplen) : NULL;
        size_t len = end ? (size_t)(end - data) : size;
        if (len > 0) {
            char name[64];
            snprintf(name, sizeof name, "migrations/m%d.lua", k);
            char *path = fuzz_scratch_path(name);
            fuzz_write_file(path, data, len);
            free(path);
            files++;
        }
        if (!end)
            break;
        data = end + seplen;
        size -= len + seplen;
    }
    return files;
}

static void check_graph(const graph *g, int files)
{
    FUZZ_CHECK(g->count == files, "%d files loaded as %d revisions", files, g->count);
    if (g->count == 0)
        return;
    int roots = 0;
    unsigned char *placed = calloc((size_t)g->count, 1);
    FUZZ_CHECK(placed != NULL, "out of memory");
    for (int k = 0; k < g->count; k++) {
        int i = g->order[k];
        FUZZ_CHECK(i >= 0 && i < g->count && !placed[i], "order is not a permutation");
        placed[i] = 1;
        const revision *r = &g->revs[i];
        FUZZ_CHECK(r->topo == k, "'%s' has topo %d at position %d", r->id, r->topo, k);
        FUZZ_CHECK(graph_find(g, r->id) == i, "graph_find('%s') is not %d", r->id, i);
        FUZZ_CHECK(r->nparents == r->down.count && r->ndeps == r->depends_on.count,
                   "'%s': links do not match its lists", r->id);
        FUZZ_CHECK(r->path && r->message && strlen(r->sha256) == 64, "'%s': fields unset",
                   r->id);
        roots += r->nparents == 0;
        /* A parent named twice would be two edges: a chain that walks like a merge. */
        for (int j = 0; j < r->nparents; j++)
            for (int k2 = 0; k2 < j; k2++)
                FUZZ_CHECK(r->parents[j] != r->parents[k2], "'%s' has parent '%s' twice",
                           r->id, g->revs[r->parents[j]].id);
        for (int j = 0; j < r->nparents; j++)
            FUZZ_CHECK(placed[r->parents[j]], "'%s' ordered before its parent", r->id);
        for (int j = 0; j < r->ndeps; j++)
            FUZZ_CHECK(placed[r->deps[j]], "'%s' ordered before its dependency", r->id);
    }
    free(placed);
    FUZZ_CHECK(roots == 1, "%d roots", roots);

    int *heads = malloc(sizeof *heads * (size_t)g->count);
    FUZZ_CHECK(heads != NULL, "out of memory");
    int nheads = graph_heads(g, heads);
    FUZZ_CHECK(nheads >= 1, "no head");
    free(heads);

    /* base -> heads applies every revision once, parents first. */
    rev_set applied;
    FUZZ_CHECK(rev_set_init(&applied, g) == 0, "out of memory");
    target t;
    rb_error err;
    rb_error_init(&err);
    if (graph_resolve_target(g, "heads", DIR_UPGRADE, &applied, &t, &err) == 0) {
        int *steps = NULL, nsteps = 0;
        FUZZ_CHECK(graph_plan(g, &applied, &t, DIR_UPGRADE, &steps, &nsteps, &err) == 0,
                   "plan to heads: %s", err.message);
        FUZZ_CHECK(nsteps == g->count, "plan to heads has %d of %d steps", nsteps, g->count);
        free(steps);
    } else {
        FUZZ_CHECK(nheads > 64, "'heads' failed: %s", err.message);
    }
    rev_set_release(&applied);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    /* An input looping in pcall is stopped only by the watchdog's hook, again and again
     * (lua_host.c): slow, and it teaches the fuzzer nothing. */
    if (watchdog_ms > 0 && memmem(data, size, "pcall", 5))
        return -1;
    empty_migrations_dir();
    int files = write_files(data, size);

    graph g;
    graph_init(&g);
    rb_error err;
    rb_error_init(&err);
    arm_watchdog(true);
    int rc = scripts_load(host, migrations_dir, true, &g, &err);
    arm_watchdog(false);
    if (watchdog_fired) {
        watchdog_fired = 0;
        /* An interrupt stops every later call of its host (one run, one host, as in
         * rbacmig): the next input gets a new host. */
        lua_host_free(host);
        rb_error fresh;
        rb_error_init(&fresh);
        FUZZ_CHECK(lua_host_new(&cfg, &host, &fresh) == 0, "lua_host_new: %s", fresh.message);
    }
    if (rc == 0) {
        check_graph(&g, files);
    } else {
        FUZZ_CHECK(rc == -1 && err.kind != 0 && err.message[0], "failure without an error");
    }
    graph_release(&g);
    return 0;
}
