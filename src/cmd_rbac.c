/* cmd_rbac.c: the RBAC commands (seed, tenant, member, can). Option parsing and the
 * transaction are here; the work is rbacmig.commands in Lua, on rbacmig.rbac. */
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "runner.h"

#include "output.h"

enum { OPT_TENANT, OPT_USER, OPT_ROLE, OPT_NAME, OPT_OWNER, OPT_PRUNE, OPT_SQL };

static const cli_opt rbac_opts[] = {
    {"tenant", 0, true},
    {"user", 0, true},
    {"role", 0, true},
    {"name", 0, true},
    {"owner", 0, true},
    {"prune", 0, false},
    {"sql", 0, false},
    {NULL, 0, false},
};

/* Which options each command accepts (a bit per OPT_*). */
static unsigned allowed_options(const char *command)
{
    if (strcmp(command, "seed") == 0)
        return 1u << OPT_TENANT | 1u << OPT_PRUNE | 1u << OPT_SQL;
    if (strcmp(command, "tenant") == 0)
        return 1u << OPT_NAME | 1u << OPT_OWNER;
    return 1u << OPT_TENANT | 1u << OPT_USER | 1u << OPT_ROLE; /* member, can */
}

static int rbac_command(cli_state *st, const char *command, int argc, char **argv, rb_error *err)
{
    cli_args args;
    str_list opts = {0};
    int rc = -1, answer = 0;
    if (cli_parse_args(command, argc, argv, rbac_opts, &args, err) != 0)
        goto done;
    unsigned allowed = allowed_options(command);
    for (int k = 0; rbac_opts[k].name; k++) {
        if (args.values[k].count && !(allowed & (1u << k))) {
            rb_errorf(err, RB_EXIT_USAGE, "unknown option '--%s' for '%s'", rbac_opts[k].name,
                      command);
            goto done;
        }
        for (int i = 0; k != OPT_SQL && i < args.values[k].count; i++) {
            char kv[1024];
            snprintf(kv, sizeof kv, "%s=%s", rbac_opts[k].name, args.values[k].items[i]);
            if (str_list_push(&opts, kv) != 0) {
                rb_errorf(err, RB_EXIT_FAILURE, "out of memory");
                goto done;
            }
        }
    }
    /* seed --sql: the statements go to stdout (counts are unknown without a database). */
    bool sql = args.values[OPT_SQL].count > 0;
    out_set_stdout_is_sql(sql);
    if (cli_connect(st, sql, false, err) != 0)
        goto done;
    /* Under the migration lock, so a seed never interleaves with an upgrade. */
    if (db_begin_locked(st->conn, runner_lock_key(&st->cfg), err) != 0)
        goto done;
    if (lua_host_call_rbac(st->host, command, st->conn, args.positional.count,
                           (const char *const *)args.positional.items, &opts, &answer, err) != 0) {
        db_rollback(st->conn);
        goto done;
    }
    if (db_commit(st->conn, err) != 0)
        goto done;
    rc = answer;
done:
    str_list_release(&opts);
    cli_args_release(&args);
    return rc;
}

int cmd_seed(cli_state *st, int argc, char **argv, rb_error *err)
{
    return rbac_command(st, "seed", argc, argv, err);
}

int cmd_tenant(cli_state *st, int argc, char **argv, rb_error *err)
{
    return rbac_command(st, "tenant", argc, argv, err);
}

int cmd_member(cli_state *st, int argc, char **argv, rb_error *err)
{
    return rbac_command(st, "member", argc, argv, err);
}

int cmd_can(cli_state *st, int argc, char **argv, rb_error *err)
{
    return rbac_command(st, "can", argc, argv, err);
}
