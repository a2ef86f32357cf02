/* cmd_migrate.c: upgrade, downgrade and stamp: parse the target and hand the plan to the
 * runner. The graph and the database (or the --sql writer) are the dispatcher's, set up from
 * the command table (commands.c). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "alembic.h"
#include "cli.h"
#include "output.h"
#include "runner.h"

/* A START:END target needs --sql; downgrade --sql needs one (there is no database to read
 * the start from). Usage errors, found before anything connects. */
int cmd_migrate_check(cli_state *st, rb_error *err)
{
    bool sql = cli_flag(st, "sql");
    if (strcmp(st->cmd->name, "stamp") == 0) {
        /* stamp takes REV or --from-alembic (which reads the database: not with --sql). */
        bool alembic = cli_flag(st, "from-alembic");
        if (alembic == (st->args.positional.count == 1))
            return rb_errorf(err, RB_ERR_USAGE, "stamp takes a revision or --from-alembic "
                             "(one of them)");
        if (!alembic && (cli_flag(st, "alembic-table") || cli_flag(st, "alembic-schema")))
            return rb_errorf(err, RB_ERR_USAGE, "--alembic-table and --alembic-schema go with "
                             "--from-alembic");
        if (alembic && sql)
            return rb_errorf(err, RB_ERR_USAGE, "stamp --from-alembic reads Alembic's version "
                             "table; --sql has no database to read it from");
        if (alembic)
            return 0;
    }
    const char *spec = st->args.positional.items[0];
    bool range = strchr(spec, ':') != NULL;
    if (range && !sql)
        return rb_errorf(err, RB_ERR_USAGE, "target '%s': START:END ranges need --sql", spec);
    if (strcmp(st->cmd->name, "downgrade") == 0 && sql && !range)
        return rb_errorf(err, RB_ERR_USAGE, "downgrade --sql needs a START:END range (there is "
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
            rb_errorf(err, RB_ERR_FAILURE, "out of memory");
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

/* The revisions alembic_version holds, as a target: each must have a migration file here
 * (the same id); otherwise nothing is stamped and every one that has none is named. No rows
 * is Alembic's base. */
static int alembic_target(cli_state *st, target *t, rb_error *err)
{
    str_list revs = {0}, missing = {0};
    const char *table = cli_value(st, "alembic-table");
    int rc = -1;
    if (alembic_read_versions(st->conn, cli_value(st, "alembic-schema"),
                              table ? table : "alembic_version", &revs, err) != 0)
        goto done;
    *t = (target){.kind = revs.count ? TARGET_REVISIONS : TARGET_BASE};
    for (int i = 0; i < revs.count; i++) {
        int idx = graph_find(&st->g, revs.items[i]);
        if (idx < 0 && str_list_push(&missing, revs.items[i]) != 0) {
            rb_errorf(err, RB_ERR_FAILURE, "out of memory");
            goto done;
        }
        if (idx >= 0 && t->nrevs < (int)(sizeof t->revs / sizeof *t->revs))
            t->revs[t->nrevs++] = idx;
    }
    if (missing.count) {
        char list[800] = "";
        for (int i = 0; i < missing.count; i++) {
            char *shown = out_printable(missing.items[i]);
            snprintf(list + strlen(list), sizeof list - strlen(list), "%s%s", i ? ", " : "",
                     shown ? shown : "?");
            free(shown);
        }
        rb_errorf(err, RB_ERR_FAILURE, "alembic_version holds %d revision%s with no migration "
                  "file in %s/, nothing stamped: %s", missing.count,
                  missing.count == 1 ? "" : "s", st->cfg.migrations_dir, list);
        snprintf(err->hint, sizeof err->hint, "import them first: rbacmig import alembic "
                 "ALEMBIC_PROJECT_DIR");
        goto done;
    }
    rc = 0;
done:
    str_list_release(&revs);
    str_list_release(&missing);
    return rc;
}

int cmd_stamp(cli_state *st, rb_error *err)
{
    if (!cli_flag(st, "from-alembic"))
        return migrate(st, DIR_UPGRADE, true, err);
    target t;
    if (alembic_target(st, &t, err) != 0)
        return -1;
    migrate_options opts = {.dir = DIR_UPGRADE, .target = "alembic", .fixed_target = &t,
                            .purge = cli_flag(st, "purge")};
    runner r = {.cfg = &st->cfg, .host = st->host, .g = &st->g, .conn = st->conn};
    return runner_stamp(&r, &opts, err);
}
