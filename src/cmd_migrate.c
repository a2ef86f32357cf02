/* cmd_migrate.c: upgrade, downgrade and stamp: parse the target and hand the plan to the
 * runner. The graph and the database (or the --sql writer) are the dispatcher's, set up from
 * the command table (commands.c). */
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "runner.h"

/* A START:END target needs --sql; downgrade --sql needs one (there is no database to read
 * the start from). Usage errors, found before anything connects. */
int cmd_migrate_check(cli_state *st, rb_error *err)
{
    bool sql = cli_flag(st, "sql");
    const char *spec = st->args.positional.items[0];
    bool range = strchr(spec, ':') != NULL;
    if (range && !sql)
        return rb_errorf(err, RB_EXIT_USAGE, "target '%s': START:END ranges need --sql", spec);
    if (strcmp(st->cmd->name, "downgrade") == 0 && sql && !range)
        return rb_errorf(err, RB_EXIT_USAGE, "downgrade --sql needs a START:END range (there is "
                         "no database to read the current revision from)");
    return 0;
}

static int migrate(cli_state *st, direction dir, bool stamp, rb_error *err)
{
    char *start = NULL;
    int rc = -1;
    migrate_options opts = {
        .dir = dir,
        .target = st->args.positional.items[0],
        .single_transaction = !stamp && cli_flag(st, "single-transaction"),
        .purge = stamp && cli_flag(st, "purge"),
        .allow_changed = !stamp && cli_flag(st, "allow-changed"),
    };
    const char *colon = strchr(opts.target, ':');
    if (colon) {
        if (!(start = strndup(opts.target, (size_t)(colon - opts.target)))) {
            rb_errorf(err, RB_EXIT_FAILURE, "out of memory");
            goto done;
        }
        opts.sql_start = start;
        opts.target = colon + 1;
    }
    runner r = {.cfg = &st->cfg, .host = st->host, .g = &st->g, .conn = st->conn};
    rc = stamp ? runner_stamp(&r, &opts, err) : runner_migrate(&r, &opts, err);
done:
    free(start);
    return rc;
}

int cmd_upgrade(cli_state *st, rb_error *err)
{
    return migrate(st, DIR_UPGRADE, false, err);
}

int cmd_downgrade(cli_state *st, rb_error *err)
{
    return migrate(st, DIR_DOWNGRADE, false, err);
}

int cmd_stamp(cli_state *st, rb_error *err)
{
    return migrate(st, DIR_UPGRADE, true, err);
}
