/* cli.c: the one dispatcher (git's git.c) over the command table of commands.c: one option
 * parser for the global options and a command's (a global option goes before or after the
 * command), the set-up each command's flags ask for (config, graph, connection, transaction
 * and lock), colour, and the check that stdout was written (git's run_builtin). Usage and
 * help are rendered by help.c from the same table. */
#include "cli.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "help.h"
#include "output.h"
#include "runner.h"
#include "scripts.h"
#include "versions.h"

/* ---- the one option parser ---------------------------------------------------------- */

static bool is_negative_number(const char *s)
{
    if (s[0] != '-' || !s[1])
        return false;
    for (const char *p = s + 1; *p; p++)
        if (*p < '0' || *p > '9')
            return false;
    return true;
}

/* Which entry of opts the word a names (k, or -1), and its value after '=' or the letter. */
static int find_option(const char *a, const cli_opt *opts, const char **inline_value,
                       int *namelen)
{
    *inline_value = NULL;
    if (a[1] == '-') {
        const char *eq = strchr(a + 2, '=');
        size_t n = eq ? (size_t)(eq - a - 2) : strlen(a + 2);
        *inline_value = eq ? eq + 1 : NULL;
        *namelen = (int)n + 2;
        for (int j = 0; !help_opts_end(&opts[j]); j++)
            if (opts[j].name && strlen(opts[j].name) == n && strncmp(a + 2, opts[j].name, n) == 0)
                return j;
        return -1;
    }
    *inline_value = a[2] ? a + 2 : NULL;
    *namelen = 2;
    for (int j = 0; !help_opts_end(&opts[j]); j++)
        if (opts[j].short_name && a[1] == opts[j].short_name)
            return j;
    return -1;
}

/* Whether any command's table, or the globals, has the option word a names: then it is
 * not unknown, only not this command's. */
static bool option_elsewhere(const char *a)
{
    const char *v;
    int n;
    if (find_option(a, cli_global_opts, &v, &n) >= 0)
        return true;
    for (int i = 0; i < cli_ncommands; i++) {
        const cli_command *c = &cli_commands[i];
        if (find_option(a, c->opts, &v, &n) >= 0)
            return true;
        for (int j = 0; j < c->nsubs; j++)
            if (find_option(a, c->subs[j].opts, &v, &n) >= 0)
                return true;
    }
    return false;
}

/* The one parser, for the global options (command NULL: it stops at the first positional,
 * the command's name, and *next is its index) and for a command's; then a global option
 * (globals not NULL) is taken wherever it stands: `rbacmig upgrade head -d URL` works. */
static int parse_options(const char *command, int argc, char **argv, const cli_opt *opts,
                         cli_args *out, cli_args *globals, int *next, rb_error *err)
{
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
                return rb_errorf(err, RB_ERR_FAILURE, "out of memory");
            continue;
        }
        if (strcmp(a, "--") == 0) {
            options_done = true;
            continue;
        }
        const char *inline_value;
        int namelen;
        const cli_opt *table = opts;
        cli_args *dest = out;
        int k = find_option(a, opts, &inline_value, &namelen);
        if (k < 0 && command && (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0)) {
            out->help = true;
            continue;
        }
        if (k < 0 && command && globals &&
            (k = find_option(a, cli_global_opts, &inline_value, &namelen)) >= 0) {
            table = cli_global_opts;
            dest = globals;
        }
        if (k < 0 && !command)
            return rb_errorf(err, RB_ERR_USAGE, "unknown option '%s'", a);
        if (k < 0 && option_elsewhere(a)) {
            int shown = inline_value ? namelen : (int)strlen(a);
            return rb_errorf(err, RB_ERR_USAGE, "'%s' does not take %.*s", command, shown, a);
        }
        if (k < 0)
            return rb_errorf(err, RB_ERR_USAGE, "unknown option '%s' for '%s'", a, command);
        const char *value = "true";
        if (table[k].value_name) {
            if (inline_value)
                value = inline_value;
            else if (i + 1 < argc)
                value = argv[++i];
            else if (command)
                return rb_errorf(err, RB_ERR_USAGE, "option '%s' of '%s' needs a value", a,
                                 command);
            else
                return rb_errorf(err, RB_ERR_USAGE, "option '%s' needs a value", a);
        } else if (inline_value) {
            return rb_errorf(err, RB_ERR_USAGE, "option '%.*s'%s%s%s takes no value, got '%s'",
                             namelen, a, command ? " of '" : "", command ? command : "",
                             command ? "'" : "", a);
        }
        if (str_list_push(&dest->values[k], value) != 0)
            return rb_errorf(err, RB_ERR_FAILURE, "out of memory");
    }
    if (next)
        *next = i;
    return 0;
}

int cli_parse_args(const char *command, int argc, char **argv, const cli_opt *opts,
                   cli_args *out, rb_error *err)
{
    return parse_options(command, argc, argv, opts, out, NULL, NULL, err);
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
    for (int i = 0; a->opts && !help_opts_end(&a->opts[i]); i++)
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

/* ---- the whole command line against the table ---------------------------------------- */

/* "create, list or delete". */
static void list_subs(const cli_command *cmd, char *buf, size_t size)
{
    buf[0] = '\0';
    for (int i = 0; i < cmd->nsubs; i++) {
        size_t used = strlen(buf);
        snprintf(buf + used, size - used, "%s%s", i == 0 ? "" : i == cmd->nsubs - 1 ? " or " : ", ",
                 cmd->subs[i].name);
    }
}

/* The options of every subcommand of parent, once each, into line->merged: the command line
 * is parsed against them before the subcommand is known (`member --tenant a list` is a
 * subcommand after an option). */
static void merge_sub_options(const cli_command *parent, cli_line *line)
{
    int n = 0;
    for (int s = 0; s < parent->nsubs; s++)
        for (const cli_opt *o = parent->subs[s].opts; !help_opts_end(o); o++) {
            bool seen = false;
            for (int k = 0; k < n && !seen; k++)
                seen = strcmp(line->merged[k].name, o->name) == 0;
            if (!seen && n < CLI_MAX_OPTS) {
                line->merged[n] = *o;
                line->merged[n].required = false;
                line->merged[n++].repeatable = true; /* the subcommand's table decides */
            }
        }
    memset(&line->merged[n], 0, sizeof line->merged[n]);
}

/* Picks the subcommand the first positional names and moves the values parsed against the
 * merged table into the subcommand's own; an option it does not take is a usage error. */
static int pick_subcommand(cli_line *line, rb_error *err)
{
    const cli_command *parent = line->parent;
    cli_args *a = &line->args;
    char subs[128], usage[512];
    list_subs(parent, subs, sizeof subs);
    if (a->positional.count == 0)
        return rb_errorf(err, RB_ERR_USAGE, "'%s' needs a command: %s", parent->name, subs);
    const char *word = a->positional.items[0];
    line->cmd = cli_find_command(parent->name, word);
    if (!line->cmd)
        return rb_errorf(err, RB_ERR_USAGE, "unknown %s command '%s' (expected %s)",
                         parent->name, word, subs);
    help_synopsis(parent, line->cmd, usage, sizeof usage);
    cli_args own;
    memset(&own, 0, sizeof own);
    own.opts = line->cmd->opts;
    own.help = a->help;
    for (int k = 0; !help_opts_end(&line->merged[k]); k++) {
        if (a->values[k].count == 0)
            continue;
        int j = -1;
        for (int i = 0; !help_opts_end(&own.opts[i]) && j < 0; i++)
            if (strcmp(own.opts[i].name, line->merged[k].name) == 0)
                j = i;
        if (j < 0) {
            cli_args_release(&own);
            return rb_errorf(err, RB_ERR_USAGE, "'%s %s' does not take --%s (usage: rbacmig %s)",
                             parent->name, line->cmd->name, line->merged[k].name, usage);
        }
        own.values[j] = a->values[k];
        memset(&a->values[k], 0, sizeof a->values[k]);
    }
    for (int i = 1; i < a->positional.count; i++)
        if (str_list_push(&own.positional, a->positional.items[i]) != 0) {
            cli_args_release(&own);
            return rb_errorf(err, RB_ERR_FAILURE, "out of memory");
        }
    cli_args_release(a);
    *a = own;
    return 0;
}

/* What the command's table says it takes: options given once unless repeatable, the ones it
 * needs, its number of positional arguments; and the global options that apply to it. */
static int check_command_args(const cli_line *line, rb_error *err)
{
    const cli_command *cmd = line->cmd;
    const cli_args *a = &line->args;
    char name[128], usage[512];
    help_command_name(line->parent, cmd, name, sizeof name);
    help_synopsis(line->parent, cmd, usage, sizeof usage);
    for (int k = 0; !help_opts_end(&cmd->opts[k]); k++) {
        const cli_opt *o = &cmd->opts[k];
        if (a->values[k].count > 1 && !o->repeatable)
            return rb_errorf(err, RB_ERR_USAGE, "'%s': --%s is given %d times; it takes one "
                             "value", name, o->name, a->values[k].count);
        if (a->values[k].count == 0 && o->required)
            return rb_errorf(err, RB_ERR_USAGE, "'%s' needs --%s (usage: rbacmig %s)", name,
                             o->name, usage);
    }
    for (int k = 0; !help_opts_end(&cli_global_opts[k]); k++) {
        const cli_opt *o = &cli_global_opts[k];
        char shown[64];
        if (line->globals.values[k].count && o->applies_to && !(cmd->flags & o->applies_to))
            return rb_errorf(err, RB_ERR_USAGE, "'%s' does not take %s (%s)", name,
                             help_opt_display(o, shown, sizeof shown), o->why_not);
    }
    int n = a->positional.count, rc = 0;
    if (n > cmd->max_args && cmd->max_args >= 0)
        rc = rb_errorf(err, RB_ERR_USAGE, "unexpected argument '%s' for '%s' (usage: rbacmig %s)",
                       a->positional.items[cmd->max_args], name, usage);
    else if (n < cmd->min_args)
        rc = rb_errorf(err, RB_ERR_USAGE, "'%s' needs %s (usage: rbacmig %s)", name, cmd->args,
                       usage);
    if (rc != 0 && cmd->args_hint)
        rb_strlcpy(err->hint, cmd->args_hint, sizeof err->hint);
    return rc;
}

/* Non-repeatable global options given twice, before or after the command. */
static int check_global_counts(const cli_line *line, rb_error *err)
{
    for (int k = 0; !help_opts_end(&cli_global_opts[k]); k++) {
        char shown[64];
        if (line->globals.values[k].count > 1 && !cli_global_opts[k].repeatable)
            return rb_errorf(err, RB_ERR_USAGE, "option '%s' is given %d times; it takes one "
                             "value", help_opt_display(&cli_global_opts[k], shown, sizeof shown),
                             line->globals.values[k].count);
    }
    return 0;
}

int cli_parse_line(int argc, char **argv, cli_line *line, rb_error *err)
{
    int next = 0;
    memset(line, 0, sizeof *line);
    if (parse_options(NULL, argc - 1, argv + 1, cli_global_opts, &line->globals, NULL, &next,
                      err) != 0)
        return -1;
    next++;
    if (check_global_counts(line, err) != 0)
        return -1;
    if (line->globals.values[CLI_G_HELP].count || line->globals.values[CLI_G_VERSION].count)
        return 0;
    if (next >= argc) {
        line->no_command = true;
        return rb_errorf(err, RB_ERR_USAGE, "no command given");
    }
    const char *name = argv[next];
    const cli_command *cmd = cli_find_command(name, NULL);
    if (!cmd)
        return rb_errorf(err, RB_ERR_USAGE, "unknown command '%s' (see 'rbacmig help')", name);
    char full[128];
    const cli_opt *opts = cmd->opts;
    line->cmd = cmd;
    if (cmd->subs) {
        line->parent = cmd;
        line->cmd = next + 1 < argc ? cli_find_command(name, argv[next + 1]) : NULL;
        if (line->cmd) {
            /* `tenant list ...`: the subcommand's own table from here on. */
            opts = line->cmd->opts;
            next++;
        } else {
            merge_sub_options(cmd, line);
            opts = line->merged;
        }
    }
    help_command_name(line->cmd ? line->parent : NULL, line->cmd ? line->cmd : cmd, full,
                      sizeof full);
    if (parse_options(full, argc - next - 1, argv + next + 1, opts, &line->args, &line->globals,
                      NULL, err) != 0 ||
        check_global_counts(line, err) != 0)
        return -1;
    /* `upgrade --version`: the version, as before the command. */
    if (line->globals.values[CLI_G_VERSION].count)
        return 0;
    /* `tenant --help` describes every subcommand. */
    if (!line->cmd && line->args.help && line->args.positional.count == 0) {
        line->help = true;
        return 0;
    }
    if (!line->cmd && pick_subcommand(line, err) != 0)
        return -1;
    line->help = line->args.help;
    return line->help ? 0 : check_command_args(line, err);
}

void cli_line_release(cli_line *line)
{
    cli_args_release(&line->globals);
    cli_args_release(&line->args);
}

/* ---- set-up from the flags --------------------------------------------------------- */

static bool run_is_read_only(const cli_state *st)
{
    return (st->cmd->flags & CMD_READ_ONLY) ||
           (st->cmd->read_only_with && cli_flag(st, st->cmd->read_only_with));
}

static bool run_is_sql(const cli_state *st)
{
    return (st->cmd->flags & CMD_SQL) && cli_flag(st, "sql");
}

int cli_connect(cli_state *st, rb_error *err)
{
    if (st->conn)
        return 0;
    bool offline = run_is_sql(st);
    db_open_options opts = {.offline = offline, .read_only = run_is_read_only(st),
                            .lock_timeout_ms = st->lock_timeout_ms};
    if (!offline) {
        char *masked = config_mask_url(st->cfg.database_url);
        out_note("database: %s (from %s)", masked ? masked : "", st->cfg.url_source);
        free(masked);
    }
    return db_open(&st->cfg, &opts, &st->conn, err);
}

/* "2.5" -> 2500 ms; a number of seconds from 0 to a day. */
static int parse_seconds(const char *option, const char *value, int *ms, rb_error *err)
{
    char *end;
    double s = strtod(value, &end);
    if (*end || end == value || s < 0 || s > 86400)
        return rb_errorf(err, RB_ERR_USAGE, "%s takes a number of seconds, got '%s'", option,
                         value);
    *ms = s > 0 && s * 1000 < 1 ? 1 : (int)(s * 1000);
    return 0;
}

/* The global options into the run's state and config. */
static int apply_globals(cli_state *st, const cli_args *g, rb_error *err)
{
    const char *v;
    if ((v = cli_arg(g, CLI_G_URL))) {
        if (config_set(&st->cfg.flag_url, v, err) != 0)
            return -1;
        config_register_url_secrets(v);
    }
    if ((v = cli_arg(g, CLI_G_CONFIG))) {
        if (config_set(&st->cfg.config_file, v, err) != 0)
            return -1;
        st->cfg.config_file_given = true;
    }
    for (int i = 0; i < g->values[CLI_G_X].count; i++)
        if (config_add_x(&st->cfg, g->values[CLI_G_X].items[i], err) != 0)
            return -1;
    if (((v = cli_arg(g, CLI_G_LOCK)) &&
         parse_seconds("--lock-timeout", v, &st->lock_timeout_ms, err) != 0) ||
        ((v = cli_arg(g, CLI_G_DB_LOCK)) &&
         parse_seconds("--db-lock-timeout", v, &st->flag_db_lock_timeout_ms, err) != 0) ||
        ((v = cli_arg(g, CLI_G_STATEMENT)) &&
         parse_seconds("--statement-timeout", v, &st->flag_statement_timeout_ms, err) != 0))
        return -1;
    if (g->values[CLI_G_QUIET].count)
        out_set_quiet(true);
    if (g->values[CLI_G_VERBOSE].count)
        out_set_verbose(true);
    return 0;
}

/* Colour only on a terminal, and never when the user said no: --no-color (before or after
 * the command; on a usage error, wherever it stands in argv) or NO_COLOR set and not empty
 * (no-color.org), or TERM=dumb. out_* decide per stream, and never colour --sql output. */
static void set_colour(const cli_line *line, bool parsed, int argc, char **argv)
{
    bool no = parsed && line->globals.values[CLI_G_NO_COLOR].count > 0;
    for (int i = 1; !parsed && i < argc && strcmp(argv[i], "--") != 0; i++)
        no = no || strcmp(argv[i], "--no-color") == 0;
    const char *env = getenv("NO_COLOR"), *term = getenv("TERM");
    no = no || (env && env[0]) || (term && strcmp(term, "dumb") == 0);
    out_set_colour(!no && isatty(STDOUT_FILENO), !no && isatty(STDERR_FILENO));
}

/* The config file, then the URL; flags win over the file. */
static int read_config(cli_state *st, rb_error *err)
{
    if (lua_host_new(&st->cfg, &st->host, err) != 0 ||
        lua_host_read_config(st->host, st->cfg.config_file, st->cfg.config_file_given, &st->cfg,
                             err) != 0 ||
        config_resolve_url(&st->cfg, err) != 0)
        return -1;
    if (st->flag_db_lock_timeout_ms >= 0)
        st->cfg.lock_timeout_ms = st->flag_db_lock_timeout_ms;
    if (st->flag_statement_timeout_ms >= 0)
        st->cfg.statement_timeout_ms = st->flag_statement_timeout_ms;
    return 0;
}

static void on_signal(int signo)
{
    runner_request_stop(signo);
}

/* Set-up from the flags, the command's own checks, the handler, and the end of the
 * transaction the flags asked for: committed when the handler succeeded, else rolled back. */
static int run_command(cli_state *st, rb_error *err)
{
    const cli_command *cmd = st->cmd;
    unsigned f = cmd->flags;
    /* Listing commands show checksums only with -v, and need not hash every file without. */
    bool checksums = !(f & CMD_GRAPH_LIGHT) || out_verbose();
    if ((f & CMD_GRAPH) &&
        scripts_load(st->host, st->cfg.migrations_dir, checksums, &st->g, err) != 0)
        return -1;
    if (cmd->check && cmd->check(st, err) != 0)
        return -1;
    if (f & CMD_SQL)
        out_set_stdout_is_sql(run_is_sql(st));
    if ((f & CMD_DB) && cli_connect(st, err) != 0)
        return -1;
    if ((f & CMD_LOCK) && db_begin_locked(st->conn, versions_lock_key(&st->cfg), err) != 0)
        return -1;
    if ((f & CMD_READ_TX) && db_begin_read(st->conn, err) != 0)
        return -1;
    int rc = cmd->run(st, err);
    /* A handler may have ended the transaction itself (an RBAC command commits before it
     * prints what it did). */
    if (st->conn && db_in_transaction(st->conn) && (f & (CMD_LOCK | CMD_READ_TX))) {
        if (rc < 0)
            db_rollback(st->conn);
        else if (db_commit(st->conn, err) != 0)
            rc = -1;
    }
    return rc;
}

/* --help, --version or `COMMAND --help`: printed, and nothing else runs. */
static bool answer_help(const cli_line *line)
{
    if (line->globals.values[CLI_G_HELP].count)
        help_print_usage(stdout);
    else if (line->globals.values[CLI_G_VERSION].count)
        help_print_version(stdout);
    else if (line->help)
        help_print_command(stdout, line->parent, line->cmd ? line->cmd : line->parent);
    else
        return false;
    return true;
}

/* Whether everything printed on stdout reached it (git's run_builtin does the same): a
 * full disk or a closed pipe must not pass for a written --sql script. The stream stays
 * open; closing a duplicate of it reports what a close would (NFS reports late). */
static int check_stdout(rb_error *err)
{
    if (fflush(stdout) != 0)
        return rb_errorf(err, RB_ERR_FAILURE, "cannot write to standard output: %s",
                         strerror(errno));
    if (ferror(stdout))
        return rb_errorf(err, RB_ERR_FAILURE, "cannot write to standard output");
    int fd = dup(fileno(stdout));
    if (fd >= 0 && close(fd) != 0)
        return rb_errorf(err, RB_ERR_FAILURE, "cannot write to standard output: %s",
                         strerror(errno));
    return 0;
}

int cli_main(int argc, char **argv)
{
    cli_state st;
    cli_line line;
    rb_error err;
    int rc = -1;
    char name[128];
    memset(&st, 0, sizeof st);
    st.flag_db_lock_timeout_ms = st.flag_statement_timeout_ms = -1;
    rb_error_init(&err);
    config_init(&st.cfg);
    graph_init(&st.g);

    /* What the command takes is checked here, before any file is read or database opened. */
    bool parsed = cli_parse_line(argc, argv, &line, &err) == 0;
    set_colour(&line, parsed, argc, argv);
    if (!parsed) {
        if (line.no_command)
            help_print_usage(stderr);
        goto done;
    }
    if (answer_help(&line)) {
        rc = 0;
        goto done;
    }
    if (apply_globals(&st, &line.globals, &err) != 0)
        goto done;
    st.cmd = line.cmd;
    help_command_name(line.parent, line.cmd, name, sizeof name);
    st.command_name = name;
    st.args = line.args;
    memset(&line.args, 0, sizeof line.args); /* st owns them now */
    /* `help`, the completion lists and the man page come from the table alone: they work
     * in any directory, with or without a readable rbacmig.lua. */
    if (st.cmd->flags & CMD_NO_CONFIG) {
        rc = st.cmd->run(&st, &err);
        goto done;
    }
    if (read_config(&st, &err) != 0)
        goto done;

    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);

    rc = run_command(&st, &err);
done:
    if (rc >= 0 && check_stdout(&err) != 0)
        rc = -1;
    if (rc < 0) {
        if (err.kind == RB_ERR_NONE)
            err.kind = RB_ERR_FAILURE;
        /* Every failure says what failed: one that does not is a bug, and exit 1 with no
         * word would leave the user nothing to go on. */
        if (!err.message[0])
            rb_errorf(&err, err.kind, "failed without saying why (a bug in rbacmig; please "
                      "report it with the command that was run)");
        out_report_error(&err);
        rc = rb_error_exit_code(&err);
    }
    /* The Lua state first: finalizers run when it closes, and must not find the connection
     * freed (lua_host.c refuses a `db` outside its call anyway). */
    lua_host_free(st.host);
    db_close(st.conn);
    graph_release(&st.g);
    config_release(&st.cfg);
    out_forget_secrets();
    cli_args_release(&st.args);
    cli_line_release(&line);
    return rc;
}
