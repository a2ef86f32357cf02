/* cli.h: the command table (commands.c) and the one dispatcher (cli.c), as git's git.c has
 * them: each command says what it needs (the graph, a database, read-only, the migration
 * lock, --sql) and what it takes (its options, its arguments), and the dispatcher checks the
 * command line against that, sets up what the flags ask for, runs the handler, ends the
 * transaction and checks stdout. Usage, `help COMMAND`, `COMMAND --help`, shell completion
 * and the man page are generated from the same table (help.c). */
#ifndef RBACMIG_CLI_H
#define RBACMIG_CLI_H

#include <stdbool.h>

#include "config.h"
#include "driver.h"
#include "error.h"
#include "graph.h"
#include "lua_host.h"
#include "commands.h"

typedef struct cli_args {
    const cli_opt *opts;           /* the table the values were parsed against */
    str_list values[CLI_MAX_OPTS]; /* per option, in table order; a flag counts ("true") */
    str_list positional;
    bool help;                     /* -h/--help was among the options */
} cli_args;

/* Parses argv against opts: --name VALUE, --name=VALUE, -x VALUE, -xVALUE; "--" ends
 * options; "-3" is a positional (a relative target), not an option. A flag's value is
 * "true", to be counted, never read as a value. Unknown options, a flag given a value and a
 * missing value are usage errors; -h/--help, when not in opts, sets out->help. */
int cli_parse_args(const char *command, int argc, char **argv, const cli_opt *opts,
                   cli_args *out, rb_error *err);
void cli_args_release(cli_args *a);
/* The last value of option i, or NULL. */
const char *cli_arg(const cli_args *a, int i);

/* A whole command line, parsed and checked against the table (no file read yet). */
typedef struct cli_line {
    cli_args globals;          /* against cli_global_opts */
    const cli_command *parent; /* `tenant` of `tenant create`, or NULL */
    const cli_command *cmd;    /* the command to run; NULL with --help/--version alone */
    cli_args args;             /* the command's options (against cmd->opts) and arguments */
    bool help;                 /* `rbacmig COMMAND --help`: print, run nothing */
    bool no_command;           /* nothing after the global options */
    cli_opt merged[CLI_MAX_OPTS + 1]; /* a parent's subcommands' options, while parsing */
} cli_line;

/* argv as main gets it (argv[0] the program). Usage errors are RB_ERR_USAGE, one line
 * naming the option or argument and the command. */
int cli_parse_line(int argc, char **argv, cli_line *line, rb_error *err);
void cli_line_release(cli_line *line);

/* Everything one run holds, owned here and released by cli_main. */
struct cli_state {
    config cfg;
    lua_host *host;
    graph g;
    db_conn *conn;
    const cli_command *cmd;
    const char *command_name;       /* "tenant create": for messages and Lua */
    int lock_timeout_ms;            /* --lock-timeout: how long to wait for another run */
    int flag_db_lock_timeout_ms;    /* --db-lock-timeout, or -1 (then the config's) */
    int flag_statement_timeout_ms;  /* --statement-timeout, or -1 */
    /* The command's own arguments, checked against its table before anything is read. For
     * a subcommand, positional holds the arguments after the subcommand's word. */
    cli_args args;
};

/* A command's options by name (the name must be in its table): */
bool cli_flag(const cli_state *st, const char *name);          /* given at all */
const char *cli_value(const cli_state *st, const char *name);  /* its value, or NULL */
const str_list *cli_values(const cli_state *st, const char *name); /* every value, in order */

/* Opens the database as the command's flags say (for CMD_DB_LAZY: when the handler needs it;
 * the dispatcher does it for CMD_DB). Prints the URL in use, masked, on stderr. */
int cli_connect(cli_state *st, rb_error *err);

/* Runs rbacmig with argv; returns the exit code, having reported any error. */
int cli_main(int argc, char **argv);


#endif
