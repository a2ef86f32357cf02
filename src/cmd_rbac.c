/* cmd_rbac.c: the RBAC commands (seed, tenant, member, can). The command line is checked
 * here against the form of each command, before anything connects, and the transaction is
 * here; the work is rbacmig.commands in Lua, on rbacmig.rbac. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "runner.h"

#include "output.h"

enum { OPT_TENANT, OPT_USER, OPT_ROLE, OPT_NAME, OPT_OWNER, OPT_PRUNE, OPT_SQL, OPT_COUNT };
#define OPT(o) (1u << (o))

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

/* What one RBAC command takes. Everything else on its command line is a usage error. */
typedef struct rbac_form {
    const char *command;
    const char *sub;       /* the subcommand, or NULL for a command without one */
    const char *operand;   /* the one positional argument it takes (after sub), or NULL */
    unsigned allowed;      /* OPT_* bits */
    unsigned required;     /* of those, the ones it needs */
    unsigned repeatable;   /* of those, the ones that may be given more than once */
    const char *usage;
} rbac_form;

static const rbac_form rbac_forms[] = {
    {"seed", NULL, NULL, OPT(OPT_TENANT) | OPT(OPT_PRUNE) | OPT(OPT_SQL), 0, OPT(OPT_TENANT),
     "seed [--tenant SLUG]... [--prune] [--sql]"},
    {"tenant", "create", "SLUG", OPT(OPT_NAME) | OPT(OPT_OWNER), 0, 0,
     "tenant create SLUG [--name NAME] [--owner USER_ID]"},
    {"tenant", "list", NULL, 0, 0, 0, "tenant list"},
    {"tenant", "delete", "SLUG", 0, 0, 0, "tenant delete SLUG"},
    {"member", "add", NULL, OPT(OPT_TENANT) | OPT(OPT_USER) | OPT(OPT_ROLE),
     OPT(OPT_TENANT) | OPT(OPT_USER) | OPT(OPT_ROLE), 0,
     "member add --tenant SLUG --user USER_ID --role ROLE"},
    {"member", "remove", NULL, OPT(OPT_TENANT) | OPT(OPT_USER) | OPT(OPT_ROLE),
     OPT(OPT_TENANT) | OPT(OPT_USER), 0,
     "member remove --tenant SLUG --user USER_ID [--role ROLE]"},
    {"member", "list", NULL, OPT(OPT_TENANT), OPT(OPT_TENANT), 0, "member list --tenant SLUG"},
    {"can", NULL, "PERMISSION", OPT(OPT_TENANT) | OPT(OPT_USER), OPT(OPT_TENANT) | OPT(OPT_USER),
     0, "can --tenant SLUG --user USER_ID PERMISSION"},
};
#define NFORMS (sizeof rbac_forms / sizeof rbac_forms[0])

/* "create, list or delete": the subcommands of command, for a usage message. */
static void list_subs(const char *command, char *buf, size_t size)
{
    int n = 0, total = 0;
    for (size_t i = 0; i < NFORMS; i++)
        total += strcmp(rbac_forms[i].command, command) == 0;
    buf[0] = '\0';
    for (size_t i = 0; i < NFORMS; i++) {
        if (strcmp(rbac_forms[i].command, command) != 0)
            continue;
        size_t used = strlen(buf);
        snprintf(buf + used, size - used, "%s%s", n == 0 ? "" : n == total - 1 ? " or " : ", ",
                 rbac_forms[i].sub);
        n++;
    }
}

/* Finds the form args match and checks the arguments and options against it. */
static int match_form(const char *command, const cli_args *args, const rbac_form **out,
                      rb_error *err)
{
    const str_list *pos = &args->positional;
    const rbac_form *form = NULL;
    int first = 0; /* the first operand in pos */
    for (size_t i = 0; i < NFORMS && !form; i++) {
        const rbac_form *f = &rbac_forms[i];
        if (strcmp(f->command, command) != 0)
            continue;
        if (!f->sub)
            form = f;
        else if (pos->count > 0 && strcmp(pos->items[0], f->sub) == 0)
            form = f, first = 1;
    }
    if (!form) {
        char subs[128];
        list_subs(command, subs, sizeof subs);
        if (pos->count == 0)
            return rb_errorf(err, RB_EXIT_USAGE, "'%s' needs a command: %s", command, subs);
        return rb_errorf(err, RB_EXIT_USAGE, "unknown %s command '%s' (expected %s)", command,
                         pos->items[0], subs);
    }
    int operands = pos->count - first, wanted = form->operand ? 1 : 0;
    if (operands < wanted)
        return rb_errorf(err, RB_EXIT_USAGE, "'%s%s%s' needs %s (usage: rbacmig %s)", command,
                         form->sub ? " " : "", form->sub ? form->sub : "", form->operand,
                         form->usage);
    if (operands > wanted)
        return rb_errorf(err, RB_EXIT_USAGE,
                         "unexpected argument '%s'%s (usage: rbacmig %s)",
                         pos->items[first + wanted],
                         form->allowed & OPT(OPT_NAME) ? "; quote a name with spaces" : "",
                         form->usage);
    for (int k = 0; k < OPT_COUNT; k++) {
        int given = args->values[k].count;
        if (given && !(form->allowed & OPT(k)))
            return rb_errorf(err, RB_EXIT_USAGE, "'%s%s%s' does not take --%s (usage: rbacmig %s)",
                             command, form->sub ? " " : "", form->sub ? form->sub : "",
                             rbac_opts[k].name, form->usage);
        if (given > 1 && !(form->repeatable & OPT(k)))
            return rb_errorf(err, RB_EXIT_USAGE, "--%s is given %d times; it takes one value",
                             rbac_opts[k].name, given);
        if (!given && (form->required & OPT(k)))
            return rb_errorf(err, RB_EXIT_USAGE, "'%s%s%s' needs --%s (usage: rbacmig %s)",
                             command, form->sub ? " " : "", form->sub ? form->sub : "",
                             rbac_opts[k].name, form->usage);
    }
    *out = form;
    return 0;
}

/* A SQLite file that does not exist has no RBAC tables; opening it would create it empty. */
static int check_sqlite_exists(const config *cfg, rb_error *err)
{
    db_dialect dialect;
    char *path = NULL;
    int rc = 0;
    if (config_url_dialect(cfg->database_url, &dialect, err) != 0)
        return -1;
    if (dialect != DIALECT_SQLITE)
        return 0;
    if (config_sqlite_path(cfg->database_url, &path, err) != 0)
        return -1;
    if (strcmp(path, ":memory:") != 0 && access(path, F_OK) != 0)
        rc = rb_errorf(err, RB_EXIT_FAILURE,
                       "the SQLite database '%s' does not exist, so it has no RBAC tables: run "
                       "'rbacmig upgrade 91759229c32b'",
                       path);
    free(path);
    return rc;
}

static int rbac_command(cli_state *st, const char *command, int argc, char **argv, rb_error *err)
{
    cli_args args;
    const rbac_form *form = NULL;
    lua_rbac_opt opts[OPT_COUNT];
    str_list lines = {0};
    int nopts = 0, rc = -1, answer = 0;
    if (cli_parse_args(command, argc, argv, rbac_opts, &args, err) != 0)
        goto done;
    if (match_form(command, &args, &form, err) != 0)
        goto done;
    for (int k = 0; k < OPT_COUNT; k++) {
        if (k == OPT_SQL || !args.values[k].count)
            continue;
        opts[nopts].name = rbac_opts[k].name;
        opts[nopts].values = rbac_opts[k].has_value ? &args.values[k] : NULL;
        nopts++;
    }
    /* seed --sql: the statements go to stdout (counts are unknown without a database). */
    bool sql = args.values[OPT_SQL].count > 0;
    out_set_stdout_is_sql(sql);
    if (!sql && check_sqlite_exists(&st->cfg, err) != 0)
        goto done;
    if (cli_connect(st, sql, false, err) != 0)
        goto done;
    /* Under the migration lock, so a seed never interleaves with an upgrade. */
    if (db_begin_locked(st->conn, versions_lock_key(&st->cfg), err) != 0)
        goto done;
    if (lua_host_call_rbac(st->host, command, st->conn, &args.positional, opts, nopts, &lines,
                           &answer, err) != 0) {
        if (!out_verbose())
            err->traceback[0] = '\0'; /* a CLI error names its value; the stack is for -v */
        db_rollback(st->conn);
        goto done;
    }
    if (db_commit(st->conn, err) != 0)
        goto done;
    for (int i = 0; i < lines.count && !sql; i++) /* --sql: stdout carries the SQL */
        out_print("%s", lines.items[i]);
    rc = answer;
done:
    str_list_release(&lines);
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
