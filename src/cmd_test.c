/* cmd_test.c: `rbacmig test`: the project's migrations tested in a shadow database
 * (shadow.h), printed as TAP with a closing "N passed, N failed" line: a single head; base
 * to head applies; head to base applies; then the stairway: for every
 * revision in order, up, down, up again, with the schema model after each down compared with
 * the one before that up (rbacmig.inspect.commands remember / since_remembered), so a
 * downgrade that leaves an index, a policy, a grant or an enum behind names it. Exit 0 when
 * all passed, 1 when any failed (README, "Exit codes"); an error (no shadow, a signal) is an
 * error. It runs on the database URL's dialect, or on each that --dialect (postgresql, sqlite,
 * both) or the config file's test_dialects names, one after the other in one TAP stream:
 * then each line and diagnostic names its dialect, and the closing line counts each. */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "output.h"
#include "runner.h"
#include "shadow.h"

typedef struct tap {
    int n, passed, failed;
    const char *dialect; /* "postgresql: " before each line when testing on several, or "" */
} tap;

/* One test's line: "ok N - [dialect: ]what id rest". */
static void tap_result(tap *t, bool ok, const char *what, const char *id, const char *rest)
{
    char desc[256];
    snprintf(desc, sizeof desc, "%s%s%s%s%s", t->dialect, what, id[0] ? " " : "", id, rest);
    t->n++;
    if (ok)
        t->passed++;
    else
        t->failed++;
    out_print("%s %d - %s", ok ? "ok" : "not ok", t->n, desc);
}

/* Each line of text as a TAP diagnostic, after the dialect and prefix. */
static void tap_diag(const tap *t, const char *prefix, const char *text)
{
    const char *p = text;
    while (*p) {
        const char *nl = strchr(p, '\n');
        int len = nl ? (int)(nl - p) : (int)strlen(p);
        if (len > 0)
            out_print("# %s%s%.*s", t->dialect, prefix, len, p);
        p += len + (nl ? 1 : 0);
    }
}

/* A stop by signal ends the whole run: nothing after it may touch the shadow but its drop. */
static bool stopped(rb_error *err)
{
    if (err->kind == RB_ERR_INTERRUPTED)
        return true;
    int signo = runner_stop_signal();
    if (!signo)
        return false;
    rb_error_interrupted(err, signo, "interrupted by %s", signo == SIGTERM ? "SIGTERM" : "SIGINT");
    return true;
}

/* One migration step in the shadow as one test; a failure's message as its diagnostic. */
static bool step(cli_state *st, shadow *sh, tap *t, direction dir, const char *to,
                 const char *what, const char *id, const char *rest, rb_error *err)
{
    rb_error_init(err);
    bool ok = shadow_migrate(sh, st->host, &st->g, dir, to, err) == 0;
    if (stopped(err))
        return false;
    tap_result(t, ok, what, id, rest);
    if (!ok)
        tap_diag(t, "", err->message);
    rb_error_init(err);
    return ok;
}

/* Reads the shadow's model in a read transaction and calls function on it ("remember", or
 * "since_remembered": *differs set, and *text what differs). */
static int inspect(cli_state *st, shadow *sh, const char *function, char **text, bool *differs,
                   rb_error *err)
{
    int status = 0;
    char *out = NULL;
    int rc = db_begin_read(sh->conn, err);
    if (rc == 0)
        rc = lua_host_call_inspect(st->host, function, &sh->conn, 1, cli_values(st, "schema"),
                                   false, &out, &status, err);
    if (db_in_transaction(sh->conn))
        db_rollback(sh->conn);
    if (differs)
        *differs = status != 0;
    if (text)
        *text = out;
    else
        free(out);
    return rc;
}

/* After a downgrade: the model equals the remembered one, or the test names what differs. */
static int no_trace(cli_state *st, shadow *sh, tap *t, const char *what, const char *id,
                    const char *where, rb_error *err)
{
    char *text = NULL;
    bool differs = false;
    if (inspect(st, sh, "since_remembered", &text, &differs, err) != 0)
        return -1;
    tap_result(t, !differs, what, id, " leaves no trace");
    if (differs)
        tap_diag(t, where, text);
    free(text);
    return 0;
}

/* Where a revision's downgrade goes: its parent, base for the root, one step for a merge. */
static void down_target(const graph *g, const revision *rev, char *buf, size_t size)
{
    if (rev->nparents == 0)
        snprintf(buf, size, "base");
    else if (rev->nparents == 1)
        snprintf(buf, size, "%s", g->revs[rev->parents[0]].id);
    else
        snprintf(buf, size, "-1");
}

/* The stairway: every revision up, down (leaving no trace) and up again, in order. Stops at
 * the first step that fails to run: the shadow's state is unknown after it. */
static int stairway(cli_state *st, shadow *sh, tap *t, rb_error *err)
{
    const graph *g = &st->g;
    for (int i = 0; i < g->count; i++) {
        const revision *rev = &g->revs[g->order[i]];
        char down[80], where[160];
        down_target(g, rev, down, sizeof down);
        snprintf(where, sizeof where, "revision %s, downgrade: ", rev->id);
        if (inspect(st, sh, "remember", NULL, NULL, err) != 0)
            return -1;
        if (!step(st, sh, t, DIR_UPGRADE, rev->id, "upgrade", rev->id, "", err) ||
            !step(st, sh, t, DIR_DOWNGRADE, down, "downgrade", rev->id, "", err))
            return stopped(err) ? -1 : 0;
        if (no_trace(st, sh, t, "downgrade", rev->id, where, err) != 0)
            return -1;
        if (!step(st, sh, t, DIR_UPGRADE, rev->id, "upgrade", rev->id, " again", err))
            return stopped(err) ? -1 : 0;
    }
    return 0;
}

/* One dialect's tests, from a shadow of cfg's database: base to head, head to base, the
 * stairway. Returns -1 on an error or a stop, which ends the whole run. */
static int run_dialect(cli_state *st, const config *cfg, const char *given, tap *t,
                       rb_error *err)
{
    shadow sh = {0};
    int rc = -1;
    if (shadow_open(cfg, given, &sh, err) != 0)
        goto done;
    bool both = step(st, &sh, t, DIR_UPGRADE, "heads", "base to head applies", "", "", err) &&
                step(st, &sh, t, DIR_DOWNGRADE, "base", "head to base applies", "", "", err);
    if (stopped(err))
        goto done;
    /* The stairway starts from nothing: in a fresh shadow, so that what the downgrade to base
     * left behind is named once, by the revision that left it (a --shadow-url database is
     * reused, as it cannot be emptied for sure). */
    if (!given) {
        shadow_close(&sh);
        if (shadow_open(cfg, NULL, &sh, err) != 0)
            goto done;
    }
    if ((both || !given) && stairway(st, &sh, t, err) != 0)
        goto done;
    rc = stopped(err) ? -1 : 0;
done:
    shadow_close(&sh);
    return rc;
}

typedef struct dialect_run {
    db_dialect dialect;
    const char *name;
    int passed, failed;
} dialect_run;

/* Adds name's dialects ("both": PostgreSQL, then SQLite) to runs, each once. */
static bool add_dialects(const char *name, dialect_run runs[2], int *n)
{
    static const dialect_run all[] = {{DIALECT_POSTGRESQL, "postgresql", 0, 0},
                                      {DIALECT_SQLITE, "sqlite", 0, 0}};
    bool known = false;
    for (int k = 0; k < 2; k++) {
        if (strcmp(name, "both") != 0 && strcmp(name, all[k].name) != 0)
            continue;
        known = true;
        bool have = false;
        for (int i = 0; i < *n; i++)
            have |= runs[i].dialect == all[k].dialect;
        if (!have)
            runs[(*n)++] = all[k];
    }
    return known;
}

/* What to test on: --dialect, else test_dialects in the config file, else the database
 * URL's dialect. PostgreSQL needs a PostgreSQL URL (its shadow is made on that server);
 * SQLite needs none (its shadow is a temporary file). --shadow-url is one database, so it
 * goes with one dialect, its own. */
static int plan_dialects(cli_state *st, dialect_run runs[2], int *n, db_dialect *url_dialect,
                         rb_error *err)
{
    const config *cfg = &st->cfg;
    const char *flag = cli_value(st, "dialect"), *given = cli_value(st, "shadow-url");
    char from[512];
    *n = 0;
    if (config_url_dialect(cfg->database_url, url_dialect, err) != 0)
        return -1;
    if (flag) {
        if (!add_dialects(flag, runs, n))
            return rb_errorf(err, RB_ERR_USAGE, "--dialect takes 'postgresql', 'sqlite' or "
                             "'both', got '%s'", flag);
        snprintf(from, sizeof from, "--dialect %s", flag);
    } else if (cfg->test_dialects.count > 0) {
        for (int i = 0; i < cfg->test_dialects.count; i++)
            add_dialects(cfg->test_dialects.items[i], runs, n); /* checked when read */
        snprintf(from, sizeof from, "test_dialects in %s", cfg->config_file);
    } else {
        runs[(*n)++] = *url_dialect == DIALECT_SQLITE
            ? (dialect_run){DIALECT_SQLITE, "sqlite", 0, 0}
            : (dialect_run){DIALECT_POSTGRESQL, "postgresql", 0, 0};
        return 0;
    }
    for (int i = 0; i < *n; i++)
        if (runs[i].dialect == DIALECT_POSTGRESQL && *url_dialect != DIALECT_POSTGRESQL)
            return rb_errorf(err, RB_ERR_USAGE, "testing on postgresql (%s) needs a PostgreSQL "
                             "database URL, to make the shadow database on its server; the "
                             "database URL is '%s' (from %s)", from, cfg->database_url,
                             cfg->url_source);
    if (!given)
        return 0;
    if (*n > 1)
        return rb_errorf(err, RB_ERR_USAGE, "--shadow-url is one database, and %s names two "
                         "dialects: add --dialect postgresql or --dialect sqlite", from);
    db_dialect shadow_dialect;
    if (config_url_dialect(given, &shadow_dialect, err) != 0)
        return -1;
    if (shadow_dialect != runs[0].dialect)
        return rb_errorf(err, RB_ERR_USAGE, "--shadow-url is not a %s database (%s)",
                         runs[0].name, from);
    return 0;
}

int cmd_test(cli_state *st, rb_error *err)
{
    tap t = {.dialect = ""};
    dialect_run runs[2];
    int nruns = 0;
    db_dialect url_dialect;
    if (plan_dialects(st, runs, &nruns, &url_dialect, err) != 0)
        return -1;
    int *heads = malloc(sizeof *heads * (size_t)(st->g.count + 1));
    if (!heads)
        return rb_errorf(err, RB_ERR_FAILURE, "out of memory");
    /* stdout is the TAP stream: the replays' progress lines go to stderr, as under --sql. */
    out_set_stdout_is_sql(true);
    int nheads = graph_heads(&st->g, heads);
    tap_result(&t, nheads <= 1, "single head", "", nheads > 1 ? " (several: merge them)" : "");
    for (int i = 0; nheads > 1 && i < nheads; i++)
        out_print("# head %s", st->g.revs[heads[i]].id);
    free(heads);
    for (int i = 0; i < nruns; i++) {
        char prefix[32];
        snprintf(prefix, sizeof prefix, "%s: ", runs[i].name);
        t.dialect = nruns > 1 ? prefix : "";
        /* The run's settings with a URL of the dialect: the database URL for its own, and
         * for SQLite under a PostgreSQL URL any sqlite: one (the shadow is a new file). */
        config cfg = st->cfg; /* a shallow copy: only the URL may differ, borrowed */
        if (url_dialect != runs[i].dialect)
            cfg.database_url = (char *)"sqlite:";
        int passed = t.passed, failed = t.failed;
        if (run_dialect(st, &cfg, cli_value(st, "shadow-url"), &t, err) != 0)
            return -1;
        runs[i].passed = t.passed - passed;
        runs[i].failed = t.failed - failed;
    }
    out_print("1..%d", t.n);
    if (nruns > 1)
        out_print("%d passed, %d failed (%s: %d passed, %d failed; %s: %d passed, %d failed)",
                  t.passed, t.failed, runs[0].name, runs[0].passed, runs[0].failed,
                  runs[1].name, runs[1].passed, runs[1].failed);
    else
        out_print("%d passed, %d failed", t.passed, t.failed);
    return t.failed ? 1 : 0;
}
