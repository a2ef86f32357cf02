/* cmd_rbac.c: the RBAC commands (seed, tenant, member, can). What each takes, and whether it
 * runs under the migration lock or in a read-only transaction without it, is the command
 * table's (commands.c), checked and set up by the dispatcher; the work is rbacmig.commands
 * in Lua, on rbacmig.rbac. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "output.h"

/* A SQLite file that does not exist has no RBAC tables; opening it would create it empty
 * (or, read-only, show an empty database): say what to run instead. */
int cmd_rbac_check(cli_state *st, rb_error *err)
{
    db_dialect dialect;
    char *path = NULL;
    int rc = 0;
    for (int k = 0; st->cmd->opts[k].name; k++) /* tenant list, member list, can */
        if (strcmp(st->cmd->opts[k].name, "format") == 0 && cmd_format_check(st, err) != 0)
            return -1;
    if ((st->cmd->flags & CMD_SQL) && cli_flag(st, "sql"))
        return 0;
    if (config_url_dialect(st->cfg.database_url, &dialect, err) != 0)
        return -1;
    if (dialect != DIALECT_SQLITE)
        return 0;
    if (config_sqlite_path(st->cfg.database_url, &path, err) != 0)
        return -1;
    if (strcmp(path, ":memory:") != 0 && access(path, F_OK) != 0)
        rc = rb_errorf(err, RB_ERR_FAILURE,
                       "the SQLite database '%s' does not exist, so it has no RBAC tables: run "
                       "'rbacmig upgrade 91759229c32b'",
                       path);
    free(path);
    return rc;
}

/* The transaction is the dispatcher's; Lua gets the command's name, its arguments (the
 * subcommand first, as rbacmig.commands expects) and its options, typed. */
int cmd_rbac(cli_state *st, rb_error *err)
{
    const char *space = strchr(st->command_name, ' ');
    char command[64];
    str_list args = {0}, lines = {0};
    char *json = NULL;
    bool want_json = false;
    lua_rbac_opt opts[CLI_MAX_OPTS];
    int nopts = 0, rc = -1, answer = 0;
    snprintf(command, sizeof command, "%.*s",
             space ? (int)(space - st->command_name) : (int)strlen(st->command_name),
             st->command_name);
    if (space && str_list_push(&args, space + 1) != 0)
        goto oom;
    for (int i = 0; i < st->args.positional.count; i++)
        if (str_list_push(&args, st->args.positional.items[i]) != 0)
            goto oom;
    for (int k = 0; st->cmd->opts[k].name; k++) {
        const cli_opt *o = &st->cmd->opts[k];
        if (strcmp(o->name, "sql") == 0 || !st->args.values[k].count)
            continue;
        if (strcmp(o->name, "format") == 0) { /* how to print, not what to do: not Lua's */
            want_json = strcmp(st->args.values[k].items[0], "json") == 0;
            continue;
        }
        opts[nopts].name = o->name;
        opts[nopts].values = o->value_name ? &st->args.values[k] : NULL;
        nopts++;
    }
    if (lua_host_call_rbac_json(st->host, command, st->conn, &args, opts, nopts, &lines,
                                &answer, want_json ? &json : NULL, err) != 0) {
        if (!out_verbose())
            err->traceback[0] = '\0'; /* a CLI error names its value; the stack is for -v */
        goto done;
    }
    /* Committed here, before the lines are printed: "created tenant" must never be shown for
     * a tenant a failed COMMIT took back. The dispatcher then finds no transaction to end. */
    if (db_in_transaction(st->conn) && db_commit(st->conn, err) != 0)
        goto done;
    bool sql = (st->cmd->flags & CMD_SQL) && cli_flag(st, "sql");
    if (json) {
        size_t len = strlen(json);
        if (len && json[len - 1] == '\n')
            json[len - 1] = '\0';
        out_print("%s", json);
    }
    for (int i = 0; i < lines.count && !sql && !json; i++) /* --sql: stdout carries the SQL */
        out_print("%s", lines.items[i]);
    rc = answer;
    goto done;
oom:
    rb_errorf(err, RB_ERR_FAILURE, "out of memory");
done:
    free(json);
    str_list_release(&lines);
    str_list_release(&args);
    return rc;
}
