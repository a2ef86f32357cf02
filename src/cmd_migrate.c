/* cmd_migrate.c: upgrade, downgrade and stamp: parse the target, open the database (or
 * the --sql writer), and hand the plan to the runner. */
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "output.h"
#include "runner.h"

/* The options and the one target were checked by the dispatcher against each command's
 * table (cli.c): only what the command takes reaches here. */
static int migrate(cli_state *st, direction dir, bool stamp, rb_error *err)
{
    char *start = NULL;
    int rc = -1;
    bool sql = cli_flag(st, "sql");
    migrate_options opts = {
        .dir = dir,
        .target = st->args.positional.items[0],
        .single_transaction = !stamp && cli_flag(st, "single-transaction"),
        .purge = stamp && cli_flag(st, "purge"),
        .allow_changed = !stamp && cli_flag(st, "allow-changed"),
    };
    const char *colon = strchr(opts.target, ':');
    if (colon) {
        if (!sql) {
            rb_errorf(err, RB_EXIT_USAGE, "target '%s': START:END ranges need --sql", opts.target);
            goto done;
        }
        if (!(start = strndup(opts.target, (size_t)(colon - opts.target)))) {
            rb_errorf(err, RB_EXIT_FAILURE, "out of memory");
            goto done;
        }
        opts.sql_start = start;
        opts.target = colon + 1;
    }
    if (dir == DIR_DOWNGRADE && sql && !opts.sql_start) {
        rb_errorf(err, RB_EXIT_USAGE, "downgrade --sql needs a START:END range (there is no "
                  "database to read the current revision from)");
        goto done;
    }
    if (cli_load_graph(st, err) != 0 || cli_connect(st, sql, false, err) != 0)
        goto done;
    out_set_stdout_is_sql(sql);
    runner r = {.cfg = &st->cfg, .host = st->host, .g = &st->g, .conn = st->conn};
    rc = stamp ? runner_stamp(&r, &opts, err) : runner_migrate(&r, &opts, err);
done:
    free(start);
    return rc;
}

int cmd_upgrade(cli_state *st, int argc, char **argv, rb_error *err)
{
    (void)argc, (void)argv;
    return migrate(st, DIR_UPGRADE, false, err);
}

int cmd_downgrade(cli_state *st, int argc, char **argv, rb_error *err)
{
    (void)argc, (void)argv;
    return migrate(st, DIR_DOWNGRADE, false, err);
}

int cmd_stamp(cli_state *st, int argc, char **argv, rb_error *err)
{
    (void)argc, (void)argv;
    return migrate(st, DIR_UPGRADE, true, err);
}
