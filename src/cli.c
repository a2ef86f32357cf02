/* cli.c: the command table and its one dispatcher (git's git.c), global options, and the
 * shared set-up steps (config, graph, connection) commands ask for. */
#include "cli.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "output.h"
#include "runner.h"
#include "scripts.h"
#include "version.h"

/* Options shared by several commands' tables. */
#define OPT_VERBOSE {"verbose", 'v', false, false, "show every detail of each revision"}
#define OPT_SQL {"sql", 0, false, false, "write the SQL to stdout instead of running it"}
#define OPT_SINGLE_TX {"single-transaction", 0, false, false, "run every step in one transaction"}
#define OPT_ALLOW_CHANGED \
    {"allow-changed", 0, false, false, "run although an applied file was edited since it ran"}
#define OPT_END {NULL, 0, false, false, NULL}

static const cli_opt no_opts[] = {OPT_END};
static const cli_opt verbose_opts[] = {OPT_VERBOSE, OPT_END};
static const cli_opt inspect_opts[] = {
    {"format", 0, true, false, "text (the default) or json"},
    {"schema", 0, true, true, "a managed schema (repeatable; default: all but the system's "
                              "and, on Supabase, Supabase's)"},
    OPT_END,
};
static const cli_opt upgrade_opts[] = {OPT_SQL, OPT_SINGLE_TX, OPT_ALLOW_CHANGED, OPT_END};
static const cli_opt downgrade_opts[] = {OPT_SQL, OPT_SINGLE_TX, OPT_ALLOW_CHANGED, OPT_END};
static const cli_opt stamp_opts[] = {
    OPT_SQL,
    {"purge", 0, false, false, "empty the version table first (it may name unknown revisions)"},
    OPT_END,
};
static const cli_opt history_opts[] = {
    OPT_VERBOSE,
    {"rev-range", 'r', true, false, "START:END, older to newer; either end may be empty"},
    OPT_END,
};
static const cli_opt revision_opts[] = {
    {"message", 'm', true, false, "what the revision does (also names the file)"},
    {"rev-id", 0, true, false, "the revision id instead of a random one"},
    {"head", 0, true, false, "the parent revision instead of the head ('base' for a root)"},
    {"depends-on", 0, true, true, "a revision it also needs (repeatable)"},
    {"branch-label", 0, true, false, "a label naming the new revision's branch"},
    OPT_END,
};
static const cli_opt repair_opts[] = {
    {"dry-run", 0, false, false, "list what would be recorded and change nothing"},
    OPT_END,
};
static const cli_opt merge_opts[] = {
    {"message", 'm', true, false, "what the merge is"},
    {"rev-id", 0, true, false, "the revision id instead of a random one"},
    {"branch-label", 0, true, false, "a label naming the merged branch"},
    OPT_END,
};

typedef struct cli_command {
    const char *name;
    int (*run)(cli_state *st, int argc, char **argv, rb_error *err);
    const char *usage;
    const char *summary;
    /* What the command takes, checked before the config is read or a database opened. NULL:
     * the handler parses argv itself. */
    const cli_opt *opts;
    int min_args, max_args; /* positional arguments; max -1: any number */
    const char *args_hint;  /* advice when their number is wrong, or NULL */
} cli_command;

static const cli_command commands[] = {
    {"init", cmd_init, "init [DIR]", "create rbacmig.lua, migrations/ and .env.example",
     no_opts, 0, 1, NULL},
    {"revision", cmd_revision,
     "revision -m MSG [--rev-id ID] [--head REV] [--depends-on REV]... [--branch-label L]",
     "write a new migration file whose parent is the current head", revision_opts, 0, 0,
     "quote a message with spaces: -m \"add users\""},
    {"merge", cmd_merge, "merge -m MSG [--rev-id ID] [--branch-label L] REV|heads...",
     "write a revision that joins several heads", merge_opts, 1, -1,
     "name the revisions to join, or 'heads' for all of them"},
    {"upgrade", cmd_upgrade, "upgrade [--sql] [--single-transaction] [--allow-changed] TARGET",
     "apply migrations up to TARGET (head, heads, REV, +N, REV+N, LABEL@head)", upgrade_opts, 1,
     1, "to apply everything: rbacmig upgrade head"},
    {"downgrade", cmd_downgrade,
     "downgrade [--sql] [--single-transaction] [--allow-changed] TARGET",
     "revert migrations down to TARGET (base, REV, -N, REV-N)", downgrade_opts, 1, 1,
     "to revert everything, say so: rbacmig downgrade base"},
    {"stamp", cmd_stamp, "stamp [--sql] [--purge] REV",
     "set the version table to REV without running migrations", stamp_opts, 1, 1, NULL},
    {"current", cmd_current, "current [-v]", "show the revision(s) the database is at",
     verbose_opts, 0, 0, NULL},
    {"heads", cmd_heads, "heads [-v]", "show the head revision(s)", verbose_opts, 0, 0, NULL},
    {"branches", cmd_branches, "branches [-v]", "show branch points", verbose_opts, 0, 0, NULL},
    {"history", cmd_history, "history [-r START:END] [-v]",
     "list revisions, newest first (ends: base, head, current, REV)", history_opts, 0, 0,
     "use -r START:END"},
    {"show", cmd_show, "show REV|current", "show one revision", no_opts, 1, 1, NULL},
    {"repair", cmd_repair, "repair [--dry-run]",
     "record the checksums of applied files edited since (a comment added); runs nothing",
     repair_opts, 0, 0, NULL},
    {"check", cmd_check, "check",
     "report edited applied files, revisions with no file and several heads (exit 1)", no_opts,
     0, 0, NULL},
    {"seed", cmd_seed, "seed [--tenant SLUG]... [--prune] [--sql]",
     "sync rbac/ into the database and give tenants their template roles", NULL, 0, 0, NULL},
    {"tenant", cmd_tenant, "tenant create SLUG [--name NAME] [--owner USER_ID] | list | delete SLUG",
     "manage tenants", NULL, 0, 0, NULL},
    {"member", cmd_member,
     "member add|remove --tenant SLUG --user USER_ID --role ROLE | list --tenant SLUG",
     "manage memberships", NULL, 0, 0, NULL},
    {"can", cmd_can, "can --tenant SLUG --user USER_ID PERMISSION",
     "allowed (exit 0, with the granting roles) or denied (exit 3)", NULL, 0, 0, NULL},
    {"schema", cmd_schema, "schema dump [--format text|json] [--schema NAME]...",
     "print the database's schema, sorted (read-only)", inspect_opts, 1, 1,
     "the command is: rbacmig schema dump"},
    {"diff", cmd_diff, "diff [--format text|json] [--schema NAME]... FROM_URL TO_URL",
     "list what differs between two databases' schemas (exit 4; 5 if security-weakening)",
     inspect_opts, 2, 2, "give two database URLs: rbacmig diff FROM_URL TO_URL"},
};

/* The global options, parsed by the same parser as a command's; they end at the command. */
enum { G_URL, G_CONFIG, G_X, G_LOCK, G_DB_LOCK, G_STATEMENT, G_QUIET, G_VERBOSE, G_HELP,
       G_VERSION };
static const cli_opt global_opts[] = {
    {"database-url", 'd', true, false, NULL},
    {"config", 'c', true, false, NULL},
    {NULL, 'x', true, true, NULL},
    {"lock-timeout", 0, true, false, NULL},
    {"db-lock-timeout", 0, true, false, NULL},
    {"statement-timeout", 0, true, false, NULL},
    {"quiet", 'q', false, true, NULL},
    {"verbose", 'v', false, true, NULL},
    {"help", 'h', false, true, NULL},
    {"version", 0, false, true, NULL},
    OPT_END,
};

static void print_usage(FILE *f)
{
    fprintf(f,
            "usage: rbacmig [-d URL] [-c FILE] [-x KEY=VALUE]... [-q] [-v] [--lock-timeout S]\n"
            "               [--db-lock-timeout S] [--statement-timeout S]\n"
            "               COMMAND [ARGS]\n\n"
            "Schema migrations in Lua for PostgreSQL and SQLite.\n\ncommands:\n");
    for (size_t i = 0; i < sizeof commands / sizeof *commands; i++)
        fprintf(f, "  %-10s %s\n", commands[i].name, commands[i].summary);
    fprintf(f,
            "\nglobal options (before the command; --opt VALUE or --opt=VALUE):\n"
            "  -d, --database-url URL   database (else DATABASE_URL, .env, rbacmig.lua,\n"
            "                           sqlite:rbacmig.db)\n"
            "  -c, --config FILE        config file (default rbacmig.lua)\n"
            "  -x KEY=VALUE             passed to migrations as db.x.KEY\n"
            "  --lock-timeout SECONDS   give up waiting for another run's lock (default: wait)\n"
            "  --db-lock-timeout S      PostgreSQL lock_timeout in migrations (default 10)\n"
            "  --statement-timeout S    PostgreSQL statement_timeout in migrations (default 0:\n"
            "                           none)\n"
            "  -q, --quiet              print only results and errors\n"
            "  -v, --verbose            print debugging detail\n"
            "  -h, --help               this help; `rbacmig COMMAND --help` for a command\n"
            "  --version                print the version\n\n"
            "exit codes: 0 ok, 1 migration or database failure, 2 usage error,\n"
            "            3 `can` denied, 130/143 interrupted by SIGINT/SIGTERM\n");
}

static void print_command_usage(const cli_command *cmd)
{
    printf("usage: rbacmig %s\n\n%s\n", cmd->usage, cmd->summary);
    if (!cmd->opts || !cmd->opts[0].name)
        return;
    printf("\noptions:\n");
    for (const cli_opt *o = cmd->opts; o->name || o->short_name; o++) {
        char left[64];
        snprintf(left, sizeof left, "%c%c%s--%s%s", o->short_name ? '-' : ' ',
                 o->short_name ? o->short_name : ' ', o->short_name ? ", " : "  ", o->name,
                 o->has_value ? " VALUE" : "");
        printf("  %-28s %s\n", left, o->help ? o->help : "");
    }
}

/* ---- argument parsing ------------------------------------------------------------- */

static bool is_negative_number(const char *s)
{
    if (s[0] != '-' || !s[1])
        return false;
    for (const char *p = s + 1; *p; p++)
        if (*p < '0' || *p > '9')
            return false;
    return true;
}

static bool opts_end(const cli_opt *o)
{
    return !o->name && !o->short_name;
}

/* "'upgrade'" or "" (globals), for messages. */
static void of_command(const char *command, char *buf, size_t size)
{
    if (command)
        snprintf(buf, size, " of '%s'", command);
    else
        buf[0] = '\0';
}

/* The one parser, for the global options (command NULL: it stops at the first positional,
 * the command's name, and *next is its index) and for a command's. */
static int parse_options(const char *command, int argc, char **argv, const cli_opt *opts,
                         cli_args *out, int *next, rb_error *err)
{
    char of[128];
    of_command(command, of, sizeof of);
    memset(out, 0, sizeof *out);
    out->opts = opts;
    bool options_done = false;
    int i = 0;
    for (; i < argc; i++) {
        const char *a = argv[i];
        if (options_done || a[0] != '-' || a[1] == '\0' || is_negative_number(a)) {
            if (!command)
                break;
            if (str_list_push(&out->positional, a) != 0)
                return rb_errorf(err, RB_EXIT_FAILURE, "out of memory");
            continue;
        }
        if (strcmp(a, "--") == 0) {
            options_done = true;
            continue;
        }
        int k = -1;
        const char *inline_value = NULL;
        size_t namelen = 0;
        if (a[1] == '-') {
            const char *eq = strchr(a + 2, '=');
            namelen = eq ? (size_t)(eq - a - 2) : strlen(a + 2);
            for (int j = 0; opts && !opts_end(&opts[j]) && k < 0; j++)
                if (opts[j].name && strlen(opts[j].name) == namelen &&
                    strncmp(a + 2, opts[j].name, namelen) == 0)
                    k = j;
            inline_value = eq ? eq + 1 : NULL;
        } else {
            for (int j = 0; opts && !opts_end(&opts[j]) && k < 0; j++)
                if (opts[j].short_name && a[1] == opts[j].short_name)
                    k = j;
            inline_value = a[2] ? a + 2 : NULL;
            namelen = 1;
        }
        if (k < 0 && command && (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0)) {
            out->help = true;
            continue;
        }
        if (k < 0) {
            if (command)
                return rb_errorf(err, RB_EXIT_USAGE, "unknown option '%s' for '%s'", a, command);
            return rb_errorf(err, RB_EXIT_USAGE, "unknown option '%s'", a);
        }
        const char *value = "true";
        if (opts[k].has_value) {
            if (inline_value) {
                value = inline_value;
            } else if (i + 1 < argc) {
                value = argv[++i];
            } else {
                return rb_errorf(err, RB_EXIT_USAGE, "option '%s'%s needs a value", a, of);
            }
        } else if (inline_value) {
            return rb_errorf(err, RB_EXIT_USAGE, "option '%.*s'%s takes no value, got '%s'",
                             (int)namelen + (a[1] == '-' ? 2 : 1), a, of, a);
        }
        if (str_list_push(&out->values[k], value) != 0)
            return rb_errorf(err, RB_EXIT_FAILURE, "out of memory");
    }
    if (next)
        *next = i;
    return 0;
}

int cli_parse_args(const char *command, int argc, char **argv, const cli_opt *opts,
                   cli_args *out, rb_error *err)
{
    return parse_options(command, argc, argv, opts, out, NULL, err);
}

void cli_args_release(cli_args *a)
{
    for (int i = 0; i < CLI_MAX_OPTS; i++)
        str_list_release(&a->values[i]);
    str_list_release(&a->positional);
}

const char *cli_arg(const cli_args *a, int i)
{
    const str_list *l = &a->values[i];
    return l->count ? l->items[l->count - 1] : NULL;
}

/* The index of option name in the command's table; a name not there is a bug in rbacmig. */
static int option_index(const cli_args *a, const char *name)
{
    for (int i = 0; a->opts && !opts_end(&a->opts[i]); i++)
        if (a->opts[i].name && strcmp(a->opts[i].name, name) == 0)
            return i;
    fprintf(stderr, "rbacmig: bug: option '--%s' is not in the command's table\n", name);
    abort();
}

bool cli_flag(const cli_state *st, const char *name)
{
    return st->args.values[option_index(&st->args, name)].count > 0;
}

const char *cli_value(const cli_state *st, const char *name)
{
    return cli_arg(&st->args, option_index(&st->args, name));
}

const str_list *cli_values(const cli_state *st, const char *name)
{
    return &st->args.values[option_index(&st->args, name)];
}

/* What cmd's table says it takes: no option twice that takes one value, and its number of
 * positional arguments. */
static int check_command_args(const cli_command *cmd, const cli_args *a, rb_error *err)
{
    for (int k = 0; !opts_end(&cmd->opts[k]); k++)
        if (a->values[k].count > 1 && !cmd->opts[k].repeatable)
            return rb_errorf(err, RB_EXIT_USAGE, "option '--%s' of '%s' is given %d times; it "
                             "takes one value", cmd->opts[k].name, cmd->name, a->values[k].count);
    int n = a->positional.count;
    int rc = 0;
    if (n > cmd->max_args && cmd->max_args >= 0)
        rc = rb_errorf(err, RB_EXIT_USAGE, "unexpected argument '%s' for '%s' (usage: rbacmig %s)",
                       a->positional.items[cmd->max_args], cmd->name, cmd->usage);
    else if (n < cmd->min_args)
        rc = rb_errorf(err, RB_EXIT_USAGE, "'%s' needs %s (usage: rbacmig %s)", cmd->name,
                       cmd->min_args == 1 ? "an argument" : "more arguments", cmd->usage);
    if (rc != 0 && cmd->args_hint)
        rb_strlcpy(err->hint, cmd->args_hint, sizeof err->hint);
    return rc;
}

/* ---- shared set-up ---------------------------------------------------------------- */

int cli_load_graph_checksums(cli_state *st, bool checksums, rb_error *err)
{
    if (st->g.slots || st->g.count)
        return 0;
    return scripts_load(st->host, st->cfg.migrations_dir, checksums, &st->g, err);
}

int cli_load_graph(cli_state *st, rb_error *err)
{
    return cli_load_graph_checksums(st, true, err);
}

int cli_connect(cli_state *st, bool offline, bool read_only, rb_error *err)
{
    if (st->conn)
        return 0;
    db_open_options opts = {.offline = offline, .read_only = read_only,
                            .lock_timeout_ms = st->lock_timeout_ms};
    if (!offline) {
        char *masked = config_mask_url(st->cfg.database_url);
        out_note("database: %s (from %s)", masked ? masked : "", st->cfg.url_source);
        free(masked);
    }
    return db_open(&st->cfg, &opts, &st->conn, err);
}

static void on_signal(int signo)
{
    runner_request_stop(signo);
}

/* "2.5" -> 2500 ms; a number of seconds from 0 to a day. */
static int parse_seconds(const char *option, const char *value, int *ms, rb_error *err)
{
    char *end;
    double s = strtod(value, &end);
    if (*end || end == value || s < 0 || s > 86400)
        return rb_errorf(err, RB_EXIT_USAGE, "%s takes a number of seconds, got '%s'", option,
                         value);
    *ms = s > 0 && s * 1000 < 1 ? 1 : (int)(s * 1000);
    return 0;
}

/* Parses and applies the global options; *next is the command's index in argv, or -1 when
 * --help or --version answered already. */
static int parse_globals(cli_state *st, int argc, char **argv, int *next, rb_error *err)
{
    cli_args g;
    int rc = -1, used = 0;
    if (parse_options(NULL, argc - 1, argv + 1, global_opts, &g, &used, err) != 0)
        goto done;
    *next = used + 1;
    for (int k = 0; k <= G_STATEMENT; k++)
        if (k != G_X && g.values[k].count > 1) {
            rb_errorf(err, RB_EXIT_USAGE, "option '--%s' is given %d times; it takes one value",
                      global_opts[k].name, g.values[k].count);
            goto done;
        }
    if (g.values[G_HELP].count) {
        print_usage(stdout);
        *next = -1;
        rc = 0;
        goto done;
    }
    if (g.values[G_VERSION].count) {
        printf("rbacmig %s\n", RBACMIG_VERSION);
        *next = -1;
        rc = 0;
        goto done;
    }
    const char *v;
    if ((v = cli_arg(&g, G_URL))) {
        if (config_set(&st->cfg.flag_url, v, err) != 0)
            goto done;
        config_register_url_secrets(v);
    }
    if ((v = cli_arg(&g, G_CONFIG))) {
        if (config_set(&st->cfg.config_file, v, err) != 0)
            goto done;
        st->cfg.config_file_given = true;
    }
    for (int i = 0; i < g.values[G_X].count; i++)
        if (config_add_x(&st->cfg, g.values[G_X].items[i], err) != 0)
            goto done;
    if (((v = cli_arg(&g, G_LOCK)) && parse_seconds("--lock-timeout", v, &st->lock_timeout_ms,
                                                     err) != 0) ||
        ((v = cli_arg(&g, G_DB_LOCK)) &&
         parse_seconds("--db-lock-timeout", v, &st->flag_db_lock_timeout_ms, err) != 0) ||
        ((v = cli_arg(&g, G_STATEMENT)) &&
         parse_seconds("--statement-timeout", v, &st->flag_statement_timeout_ms, err) != 0))
        goto done;
    if (g.values[G_QUIET].count)
        out_set_quiet(true);
    if (g.values[G_VERBOSE].count)
        out_set_verbose(true);
    rc = 0;
done:
    cli_args_release(&g);
    return rc;
}

/* Whether everything printed on stdout reached it (git's run_builtin does the same): a
 * full disk or a closed pipe must not pass for a written --sql script. The stream stays
 * open; closing a duplicate of it reports what a close would (NFS reports late). */
static int check_stdout(rb_error *err)
{
    if (fflush(stdout) != 0)
        return rb_errorf(err, RB_EXIT_FAILURE, "cannot write to standard output: %s",
                         strerror(errno));
    if (ferror(stdout))
        return rb_errorf(err, RB_EXIT_FAILURE, "cannot write to standard output");
    int fd = dup(fileno(stdout));
    if (fd >= 0 && close(fd) != 0)
        return rb_errorf(err, RB_EXIT_FAILURE, "cannot write to standard output: %s",
                         strerror(errno));
    return 0;
}

int cli_main(int argc, char **argv)
{
    cli_state st;
    rb_error err;
    int next = 0, rc = -1;
    memset(&st, 0, sizeof st);
    st.flag_db_lock_timeout_ms = st.flag_statement_timeout_ms = -1;
    rb_error_init(&err);
    config_init(&st.cfg);
    graph_init(&st.g);

    if (parse_globals(&st, argc, argv, &next, &err) != 0)
        goto done;
    if (next < 0) {
        rc = 0;
        goto done;
    }
    if (next >= argc) {
        print_usage(stderr);
        rb_errorf(&err, RB_EXIT_USAGE, "no command given");
        goto done;
    }
    const char *name = argv[next];
    const cli_command *cmd = NULL;
    for (size_t i = 0; i < sizeof commands / sizeof *commands; i++)
        if (strcmp(commands[i].name, name) == 0)
            cmd = &commands[i];
    if (!cmd) {
        rb_errorf(&err, RB_EXIT_USAGE, "unknown command '%s' (see 'rbacmig --help')", name);
        goto done;
    }
    /* What the command takes is checked here, before any file is read or database opened. */
    if (cmd->opts) {
        if (parse_options(cmd->name, argc - next - 1, argv + next + 1, cmd->opts, &st.args,
                          NULL, &err) != 0)
            goto done;
        if (st.args.help) {
            print_command_usage(cmd);
            rc = 0;
            goto done;
        }
        if (check_command_args(cmd, &st.args, &err) != 0)
            goto done;
    } else {
        for (int i = next + 1; i < argc; i++)
            if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
                print_command_usage(cmd);
                rc = 0;
                goto done;
            }
    }
    if (lua_host_new(&st.cfg, &st.host, &err) != 0 ||
        lua_host_read_config(st.host, st.cfg.config_file, st.cfg.config_file_given, &st.cfg,
                             &err) != 0 ||
        config_resolve_url(&st.cfg, &err) != 0)
        goto done;
    /* Flags win over the config file. */
    if (st.flag_db_lock_timeout_ms >= 0)
        st.cfg.lock_timeout_ms = st.flag_db_lock_timeout_ms;
    if (st.flag_statement_timeout_ms >= 0)
        st.cfg.statement_timeout_ms = st.flag_statement_timeout_ms;

    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);

    rc = cmd->run(&st, argc - next - 1, argv + next + 1, &err);
done:
    if (rc >= 0 && check_stdout(&err) != 0)
        rc = -1;
    if (rc < 0) {
        if (err.code == 0)
            err.code = RB_EXIT_FAILURE;
        /* Every failure says what failed: one that does not is a bug, and exit 1 with no
         * word would leave the user nothing to go on. */
        if (!err.message[0])
            rb_errorf(&err, err.code, "failed without saying why (a bug in rbacmig; please "
                      "report it with the command that was run)");
        out_report_error(&err);
        rc = err.code;
    }
    /* The Lua state first: finalizers run when it closes, and must not find the connection
     * freed (lua_host.c refuses a `db` outside its call anyway). */
    lua_host_free(st.host);
    db_close(st.conn);
    graph_release(&st.g);
    config_release(&st.cfg);
    out_forget_secrets();
    cli_args_release(&st.args);
    return rc;
}
