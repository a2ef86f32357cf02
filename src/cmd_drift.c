/* cmd_drift.c: `rbacmig drift`: replays the project's migrations up to the live database's
 * current revision(s) into a shadow database (shadow.h) and lists what differs between the
 * shadow (what the migrations make) and the live database, within the managed scope, each
 * difference classified as `diff` classifies it (rbacmig.inspect.diff). Exit 0 no drift, 4
 * drift, 5 security-weakening drift, 1 an error (README, "Exit codes"). The live database is
 * only read: opened read-only, its schema read in a READ ONLY transaction. */
#include <signal.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "output.h"
#include "runner.h"
#include "shadow.h"

enum { EXIT_DRIFT = 4, EXIT_WEAKENING_DRIFT = 5 };

static int read_rows(cli_state *st, str_list *rows, rb_error *err)
{
    version_store vs;
    bool exists = false;
    int rc = versions_open(&vs, st->conn, &st->cfg, &st->g, err);
    if (rc == 0)
        rc = versions_read(&vs, rows, &exists, err);
    versions_close(&vs);
    return rc;
}

/* Both schemas, each in its own read transaction, compared: from the shadow to the live. */
static int compare(cli_state *st, shadow *sh, char **out, int *status, rb_error *err)
{
    db_conn *conns[2] = {sh->conn, st->conn};
    int rc = 0;
    for (int i = 0; i < 2 && rc == 0; i++)
        rc = db_begin_read(conns[i], err);
    const char *format = cli_value(st, "format");
    if (rc == 0)
        rc = lua_host_call_inspect(st->host, "diff", conns, 2, cli_values(st, "schema"),
                                   format && strcmp(format, "json") == 0, out, status, err);
    for (int i = 0; i < 2; i++)
        if (db_in_transaction(conns[i]))
            db_rollback(conns[i]);
    return rc;
}

int cmd_drift(cli_state *st, rb_error *err)
{
    str_list rows = {0};
    shadow sh = {0};
    char *out = NULL;
    int status = 0, rc = -1;
    /* stdout is the diff: the replay's progress lines go to stderr, as under --sql. */
    out_set_stdout_is_sql(true);
    if (read_rows(st, &rows, err) != 0 ||
        shadow_open(&st->cfg, cli_value(st, "shadow-url"), &sh, err) != 0 ||
        shadow_bring(&sh, st->conn, err) != 0)
        goto done;
    /* The live database's version rows are its heads: each replayed up to (nothing for a
     * database with no migration applied: an empty shadow). */
    for (int i = 0; i < rows.count; i++)
        if (shadow_migrate(&sh, st->host, &st->g, DIR_UPGRADE, rows.items[i], err) != 0) {
            rb_error_prefix(err, "replaying into the shadow database");
            goto done;
        }
    if (runner_stop_signal()) {
        int signo = runner_stop_signal();
        rb_error_interrupted(err, signo, "interrupted by %s",
                             signo == SIGTERM ? "SIGTERM" : "SIGINT");
        goto done;
    }
    if (compare(st, &sh, &out, &status, err) != 0)
        goto done;
    size_t len = strlen(out);
    if (len > 0 && out[len - 1] == '\n')
        out[len - 1] = '\0';
    out_print("%s", out);
    rc = status == 2 ? EXIT_WEAKENING_DRIFT : status == 1 ? EXIT_DRIFT : 0;
done:
    shadow_close(&sh);
    str_list_release(&rows);
    free(out);
    return rc;
}
