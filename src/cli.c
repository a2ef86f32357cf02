/* cli.c: the command table and its one dispatcher (git's git.c), global options, and the
 * shared set-up steps (config, graph, connection) commands ask for. */
#include "cli.h"

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "output.h"
#include "runner.h"
#include "scripts.h"

typedef struct cli_command {
    const char *name;
    int (*run)(cli_state *st, int argc, char **argv, rb_error *err);
    const char *usage;
    const char *summary;
} cli_command;

static const cli_command commands[] = {
    {"init", cmd_init, "init [DIR]", "create rbacmig.lua, migrations/ and .env.example"},
    {"revision", cmd_revision,
     "revision -m MSG [--rev-id ID] [--head REV] [--depends-on REV] [--branch-label L]",
     "write a new migration file whose parent is the current head"},
    {"merge", cmd_merge, "merge -m MSG REV REV...", "write a revision that joins several heads"},
    {"upgrade", cmd_upgrade, "upgrade [--sql] [--single-transaction] [--allow-changed] TARGET",
     "apply migrations up to TARGET (head, heads, REV, +N, REV+N, LABEL@head)"},
    {"downgrade", cmd_downgrade, "downgrade [--sql] [--single-transaction] TARGET",
     "revert migrations down to TARGET (base, REV, -N, REV-N)"},
    {"stamp", cmd_stamp, "stamp [--sql] [--purge] REV",
     "set the version table to REV without running migrations"},
    {"current", cmd_current, "current [-v]", "show the revision(s) the database is at"},
    {"heads", cmd_heads, "heads [-v]", "show the head revision(s)"},
    {"branches", cmd_branches, "branches [-v]", "show branch points"},
    {"history", cmd_history, "history [-r START:END] [-v]", "list revisions, newest first"},
    {"show", cmd_show, "show REV", "show one revision"},
    {"repair", cmd_repair, "repair [--dry-run]",
     "record the checksums of applied files edited since (a comment added); runs nothing"},
    {"check", cmd_check, "check",
     "report edited applied files, revisions with no file and several heads (exit 1)"},
    {"seed", cmd_seed, "seed [--tenant SLUG]... [--prune] [--sql]",
     "sync rbac/ into the database and give tenants their template roles"},
    {"tenant", cmd_tenant, "tenant create SLUG [--name NAME] [--owner USER_ID] | list | delete SLUG",
     "manage tenants"},
    {"member", cmd_member,
     "member add|remove --tenant SLUG --user USER_ID --role ROLE | list --tenant SLUG",
     "manage memberships"},
    {"can", cmd_can, "can --tenant SLUG --user USER_ID PERMISSION",
     "allowed (exit 0, with the granting roles) or denied (exit 3)"},
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
            "\nglobal options:\n"
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

int cli_parse_args(const char *command, int argc, char **argv, const cli_opt *opts,
                   cli_args *out, rb_error *err)
{
    memset(out, 0, sizeof *out);
    bool options_done = false;
    for (int i = 0; i < argc; i++) {
        const char *a = argv[i];
        if (options_done || a[0] != '-' || a[1] == '\0' || is_negative_number(a)) {
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
        for (int j = 0; opts && opts[j].name && k < 0; j++) {
            size_t n = strlen(opts[j].name);
            if (a[1] == '-' && strncmp(a + 2, opts[j].name, n) == 0 &&
                (a[2 + n] == '\0' || (a[2 + n] == '=' && opts[j].has_value))) {
                k = j;
                inline_value = a[2 + n] == '=' ? a + 3 + n : NULL;
            } else if (a[1] != '-' && opts[j].short_name && a[1] == opts[j].short_name) {
                k = j;
                inline_value = a[2] ? a + 2 : NULL;
                if (inline_value && !opts[j].has_value)
                    k = -1;
            }
        }
        if (k < 0)
            return rb_errorf(err, RB_EXIT_USAGE, "unknown option '%s' for '%s'", a, command);
        const char *value = "true";
        if (opts[k].has_value) {
            if (inline_value) {
                value = inline_value;
            } else if (i + 1 < argc) {
                value = argv[++i];
            } else {
                return rb_errorf(err, RB_EXIT_USAGE, "option '%s' of '%s' needs a value", a,
                                 command);
            }
        }
        if (str_list_push(&out->values[k], value) != 0)
            return rb_errorf(err, RB_EXIT_FAILURE, "out of memory");
    }
    return 0;
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

/* ---- shared set-up ---------------------------------------------------------------- */

int cli_load_graph(cli_state *st, rb_error *err)
{
    if (st->g.slots || st->g.count)
        return 0;
    return scripts_load(st->host, st->cfg.migrations_dir, &st->g, err);
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

static int parse_globals(cli_state *st, int argc, char **argv, int *next, rb_error *err)
{
    int i = 1;
    for (; i < argc && argv[i][0] == '-'; i++) {
        const char *a = argv[i];
        const char *value = NULL;
        bool takes = strcmp(a, "-d") == 0 || strcmp(a, "--database-url") == 0 ||
                     strcmp(a, "-c") == 0 || strcmp(a, "--config") == 0 ||
                     strcmp(a, "-x") == 0 || strcmp(a, "--lock-timeout") == 0 ||
                     strcmp(a, "--db-lock-timeout") == 0 ||
                     strcmp(a, "--statement-timeout") == 0;
        if (takes) {
            if (i + 1 >= argc)
                return rb_errorf(err, RB_EXIT_USAGE, "option '%s' needs a value", a);
            value = argv[++i];
        } else if (strncmp(a, "--database-url=", 15) == 0) {
            a = "--database-url";
            value = argv[i] + 15;
        }
        if (strcmp(a, "-d") == 0 || strcmp(a, "--database-url") == 0) {
            if (config_set(&st->cfg.flag_url, value, err) != 0)
                return -1;
            config_register_url_secrets(value);
        } else if (strcmp(a, "-c") == 0 || strcmp(a, "--config") == 0) {
            if (config_set(&st->cfg.config_file, value, err) != 0)
                return -1;
            st->cfg.config_file_given = true;
        } else if (strcmp(a, "-x") == 0) {
            if (config_add_x(&st->cfg, value, err) != 0)
                return -1;
        } else if (strcmp(a, "--lock-timeout") == 0) {
            if (parse_seconds(a, value, &st->lock_timeout_ms, err) != 0)
                return -1;
        } else if (strcmp(a, "--db-lock-timeout") == 0) {
            if (parse_seconds(a, value, &st->flag_db_lock_timeout_ms, err) != 0)
                return -1;
        } else if (strcmp(a, "--statement-timeout") == 0) {
            if (parse_seconds(a, value, &st->flag_statement_timeout_ms, err) != 0)
                return -1;
        } else if (strcmp(a, "-q") == 0 || strcmp(a, "--quiet") == 0) {
            out_set_quiet(true);
        } else if (strcmp(a, "-v") == 0 || strcmp(a, "--verbose") == 0) {
            out_set_verbose(true);
        } else if (strcmp(a, "-h") == 0 || strcmp(a, "--help") == 0) {
            print_usage(stdout);
            *next = -1;
            return 0;
        } else if (strcmp(a, "--version") == 0) {
            printf("rbacmig %s\n", RBACMIG_VERSION);
            *next = -1;
            return 0;
        } else {
            return rb_errorf(err, RB_EXIT_USAGE, "unknown option '%s'", a);
        }
    }
    *next = i;
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
    for (int i = next + 1; i < argc; i++)
        if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
            printf("usage: rbacmig %s\n\n%s\n", cmd->usage, cmd->summary);
            rc = 0;
            goto done;
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
    return rc;
}
