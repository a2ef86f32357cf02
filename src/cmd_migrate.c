/* cmd_migrate.c: upgrade, downgrade and stamp: parse the target, open the database (or
 * the --sql writer), and hand the plan to the runner. */
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "output.h"
#include "runner.h"

enum { OPT_SQL, OPT_SINGLE_TX, OPT_PURGE, OPT_ALLOW_CHANGED };

static const cli_opt migrate_opts[] = {
    {"sql", 0, false},
    {"single-transaction", 0, false},
    {"purge", 0, false},
    {"allow-changed", 0, false},
    {NULL, 0, false},
};

static int migrate(cli_state *st, const char *command, direction dir, bool stamp, int argc,
                   char **argv, rb_error *err)
{
    cli_args args;
    char *start = NULL;
    int rc = -1;
    if (cli_parse_args(command, argc, argv, migrate_opts, &args, err) != 0)
        goto done;
    bool sql = args.values[OPT_SQL].count > 0;
    if (!stamp && args.values[OPT_PURGE].count) {
        rb_errorf(err, RB_EXIT_USAGE, "unknown option '--purge' for '%s'", command);
        goto done;
    }
    if (args.positional.count != 1) {
        rb_errorf(err, RB_EXIT_USAGE, "'%s' takes one target, got %d (usage: rbacmig %s %s)",
                  command, args.positional.count, command,
                  stamp ? "[--sql] [--purge] REV" : "[--sql] TARGET");
        if (dir == DIR_DOWNGRADE && args.positional.count == 0)
            rb_strlcpy(err->hint, "to revert everything, say so: rbacmig downgrade base",
                       sizeof err->hint);
        goto done;
    }
    migrate_options opts = {
        .dir = dir,
        .target = args.positional.items[0],
        .single_transaction = args.values[OPT_SINGLE_TX].count > 0,
        .stamp = stamp,
        .purge = args.values[OPT_PURGE].count > 0,
        .allow_changed = args.values[OPT_ALLOW_CHANGED].count > 0,
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
    rc = runner_migrate(&r, &opts, err);
done:
    free(start);
    cli_args_release(&args);
    return rc;
}

int cmd_upgrade(cli_state *st, int argc, char **argv, rb_error *err)
{
    return migrate(st, "upgrade", DIR_UPGRADE, false, argc, argv, err);
}

int cmd_downgrade(cli_state *st, int argc, char **argv, rb_error *err)
{
    return migrate(st, "downgrade", DIR_DOWNGRADE, false, argc, argv, err);
}

int cmd_stamp(cli_state *st, int argc, char **argv, rb_error *err)
{
    return migrate(st, "stamp", DIR_UPGRADE, true, argc, argv, err);
}
