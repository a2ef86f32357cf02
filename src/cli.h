/* cli.h: the command table (commands.c) and the one dispatcher (cli.c), as git's git.c has
 * them: each command says what it needs (the graph, a database, read-only, the migration
 * lock, --sql) and what it takes (its options, its arguments), and the dispatcher checks the
 * command line against that, sets up what the flags ask for, runs the handler, ends the
 * transaction and checks stdout. Usage, `COMMAND --help` (and later `help COMMAND`,
 * completion and the man page) are generated from the same table. */
#ifndef RBACMIG_CLI_H
#define RBACMIG_CLI_H

#include <stdbool.h>

#include "config.h"
#include "driver.h"
#include "error.h"
#include "graph.h"
#include "lua_host.h"

/* What a command needs; the dispatcher provides it before the handler runs. */
enum {
    CMD_GRAPH = 1u << 0,        /* the revision graph of the migrations directory */
    /* ...with checksums only under -v (listing 10,000 files must not hash them all) */
    CMD_GRAPH_LIGHT = 1u << 1,
    CMD_DB = 1u << 2,           /* a connection, opened before the handler */
    CMD_DB_LAZY = 1u << 3,      /* a connection the handler may ask for (cli_connect) */
    CMD_READ_ONLY = 1u << 4,    /* reads only: never creates a SQLite file, writes nothing */
    CMD_LOCK = 1u << 5,         /* runs in a transaction holding the migration lock */
    CMD_READ_TX = 1u << 6,      /* runs in one read-only transaction, without the lock */
    CMD_STEP_LOCK = 1u << 7,    /* takes the migration lock itself, step by step (runner) */
    CMD_SQL = 1u << 8,          /* --sql writes the SQL to stdout instead of running it */
};

/* A command-line option, global or a command's own. A table of them ends with {0}. */
typedef struct cli_opt {
    const char *name;       /* long name without "--", or NULL for a short-only one (-x) */
    char short_name;        /* or 0 */
    const char *value_name; /* "URL", "SLUG": the option takes a value; NULL: a flag */
    bool repeatable;        /* may be given more than once (else a usage error) */
    bool required;          /* the command needs it */
    const char *help;       /* one line for `rbacmig COMMAND --help` */
    /* Global options only: the command flags (CMD_*) of the commands it applies to (0: all),
     * and why it does not apply to the others ("it takes no lock"). */
    unsigned applies_to;
    const char *why_not;
} cli_opt;

#define CLI_MAX_OPTS 12

typedef struct cli_state cli_state;

/* One command of the table, or one subcommand (`tenant create`). */
typedef struct cli_command {
    const char *name;       /* "upgrade", or the subcommand's word ("create") */
    int (*run)(cli_state *st, rb_error *err);
    unsigned flags;         /* CMD_* */
    const cli_opt *opts;    /* what it takes (never NULL; {0} for nothing) */
    const char *args;       /* its positional arguments in a synopsis ("TARGET"), or NULL */
    int min_args, max_args; /* their number; max -1: any */
    const char *summary;    /* one line: the command list, --help, the man page */
    const char *args_hint;  /* advice when their number is wrong, or NULL */
    /* Usage errors the table cannot express, found after the graph is loaded and before
     * anything connects (so a wrong command line never waits on a database); or NULL. */
    int (*check)(cli_state *st, rb_error *err);
    /* The option that makes a run read-only (repair --dry-run), or NULL. */
    const char *read_only_with;
    /* Subcommands: the first positional argument names one; run is NULL then. */
    const struct cli_command *subs;
    int nsubs;
} cli_command;

/* The commands, in the order `rbacmig --help` lists them. */
extern const cli_command cli_commands[];
extern const int cli_ncommands;
/* The global options (before the command). */
extern const cli_opt cli_global_opts[];
enum { CLI_G_URL, CLI_G_CONFIG, CLI_G_X, CLI_G_LOCK, CLI_G_DB_LOCK, CLI_G_STATEMENT,
       CLI_G_QUIET, CLI_G_VERBOSE, CLI_G_HELP, CLI_G_VERSION };

/* A command by name; sub names a subcommand (or NULL). NULL when there is none. */
const cli_command *cli_find_command(const char *name, const char *sub);

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

/* argv as main gets it (argv[0] the program). Usage errors are RB_EXIT_USAGE, one line
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

/* Command handlers (cmd_*.c): -1 after filling err, else the exit code (0, or 3 for a
 * denied `can`). What the table's flags ask for is set up; st->args is checked. */
int cmd_upgrade(cli_state *st, rb_error *err);
int cmd_downgrade(cli_state *st, rb_error *err);
int cmd_stamp(cli_state *st, rb_error *err);
int cmd_import(cli_state *st, rb_error *err);
int cmd_migrate_check(cli_state *st, rb_error *err);
int cmd_current(cli_state *st, rb_error *err);
int cmd_heads(cli_state *st, rb_error *err);
int cmd_branches(cli_state *st, rb_error *err);
int cmd_history(cli_state *st, rb_error *err);
int cmd_history_check(cli_state *st, rb_error *err);
int cmd_show(cli_state *st, rb_error *err);
int cmd_show_check(cli_state *st, rb_error *err);
int cmd_init(cli_state *st, rb_error *err);
int cmd_revision(cli_state *st, rb_error *err);
int cmd_merge(cli_state *st, rb_error *err);
int cmd_message_check(cli_state *st, rb_error *err);
int cmd_check(cli_state *st, rb_error *err);
int cmd_repair(cli_state *st, rb_error *err);
int cmd_rbac(cli_state *st, rb_error *err);
int cmd_rbac_check(cli_state *st, rb_error *err);

#endif
