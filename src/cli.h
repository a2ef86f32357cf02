/* cli.h: the command table, global and per-command option parsing, and the run state that
 * every command handler receives. */
#ifndef RBACMIG_CLI_H
#define RBACMIG_CLI_H

#include <stdbool.h>

#include "config.h"
#include "driver.h"
#include "error.h"
#include "graph.h"
#include "lua_host.h"

/* A command-line option, global or a command's own. A table of them ends with {NULL, 0}. */
typedef struct cli_opt {
    const char *name;  /* long name without "--", or NULL for a short-only option (-x) */
    char short_name;   /* or 0 */
    bool has_value;    /* takes a value: --name VALUE, --name=VALUE, -n VALUE, -nVALUE */
    bool repeatable;   /* may be given more than once (else, for table commands, a usage error) */
    const char *help;  /* one line for `rbacmig COMMAND --help`, or NULL */
} cli_opt;

#define CLI_MAX_OPTS 12

typedef struct cli_args {
    const cli_opt *opts;           /* the table the values were parsed against */
    str_list values[CLI_MAX_OPTS]; /* per option, in table order; a flag counts ("true") */
    str_list positional;
    bool help;                     /* -h/--help was among the options */
} cli_args;

/* Everything one run holds, owned here and released by cli_main. */
typedef struct cli_state {
    config cfg;
    lua_host *host;
    graph g;
    db_conn *conn;
    int lock_timeout_ms; /* --lock-timeout: how long to wait for another run; 0 = forever */
    int flag_db_lock_timeout_ms;    /* --db-lock-timeout, or -1 (then the config's) */
    int flag_statement_timeout_ms;  /* --statement-timeout, or -1 */
    /* The command's own arguments, parsed and checked by the dispatcher against the
     * command's table before anything is read or connected (empty for a command that
     * parses its own argv). */
    cli_args args;
} cli_state;

/* Parses argv against opts: --name VALUE, --name=VALUE, -x VALUE, -xVALUE; "--" ends
 * options; "-3" is a positional (a relative target), not an option. A flag's value is
 * "true", to be counted, never read as a value. Unknown options, a flag given a value and a
 * missing value are usage errors; -h/--help, when not in opts, sets out->help. */
int cli_parse_args(const char *command, int argc, char **argv, const cli_opt *opts,
                   cli_args *out, rb_error *err);
void cli_args_release(cli_args *a);
/* The last value of option i, or NULL. */
const char *cli_arg(const cli_args *a, int i);

/* A table command's options by name (the name must be in its table): */
bool cli_flag(const cli_state *st, const char *name);          /* given at all */
const char *cli_value(const cli_state *st, const char *name);  /* its value, or NULL */
const str_list *cli_values(const cli_state *st, const char *name); /* every value, in order */

/* The revision graph of the configured migrations directory (loaded once), with each
 * file's checksum... */
int cli_load_graph(cli_state *st, rb_error *err);
/* ... or, for listing commands that show checksums only with -v, with them only when asked
 * (scripts_load). */
int cli_load_graph_checksums(cli_state *st, bool checksums, rb_error *err);
/* Opens the database (prints the URL in use, masked, on stderr). */
int cli_connect(cli_state *st, bool offline, bool read_only, rb_error *err);

/* Runs rbacmig with argv; returns the exit code, having reported any error. */
int cli_main(int argc, char **argv);

/* Command handlers (cmd_*.c): -1 after filling err, else the exit code (0, or 3 for a
 * denied `can`). A command with an option table in cli.c reads st->args; argc/argv are its
 * raw arguments, for the commands that still parse their own. */
int cmd_upgrade(cli_state *st, int argc, char **argv, rb_error *err);
int cmd_downgrade(cli_state *st, int argc, char **argv, rb_error *err);
int cmd_stamp(cli_state *st, int argc, char **argv, rb_error *err);
int cmd_current(cli_state *st, int argc, char **argv, rb_error *err);
int cmd_heads(cli_state *st, int argc, char **argv, rb_error *err);
int cmd_branches(cli_state *st, int argc, char **argv, rb_error *err);
int cmd_history(cli_state *st, int argc, char **argv, rb_error *err);
int cmd_show(cli_state *st, int argc, char **argv, rb_error *err);
int cmd_init(cli_state *st, int argc, char **argv, rb_error *err);
int cmd_revision(cli_state *st, int argc, char **argv, rb_error *err);
int cmd_merge(cli_state *st, int argc, char **argv, rb_error *err);
int cmd_check(cli_state *st, int argc, char **argv, rb_error *err);
int cmd_repair(cli_state *st, int argc, char **argv, rb_error *err);
int cmd_seed(cli_state *st, int argc, char **argv, rb_error *err);
int cmd_tenant(cli_state *st, int argc, char **argv, rb_error *err);
int cmd_member(cli_state *st, int argc, char **argv, rb_error *err);
int cmd_can(cli_state *st, int argc, char **argv, rb_error *err);
int cmd_schema(cli_state *st, int argc, char **argv, rb_error *err);
int cmd_diff(cli_state *st, int argc, char **argv, rb_error *err);

#endif
