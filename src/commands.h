/* commands.h: the command table's types (commands.c holds the table): per command what it
 * needs (the graph, a database, read-only, the migration lock, --sql) and what it takes (its
 * options with help lines and examples, its arguments). The dispatcher (cli.c) checks a
 * command line against it and sets up from its flags; help.c renders usage, `help COMMAND`,
 * the man page and the completion word lists from it. Neither includes the other. */
#ifndef RBACMIG_COMMANDS_H
#define RBACMIG_COMMANDS_H

#include <stdbool.h>

#include "error.h"

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
    /* Answered from the table alone, before rbacmig.lua is read: `help` works anywhere. */
    CMD_NO_CONFIG = 1u << 9,
};

/* A command-line option, global or a command's own. A table of them ends with {0}. */
typedef struct cli_opt {
    const char *name;       /* long name without "--", or NULL for a short-only one (-x) */
    char short_name;        /* or 0 */
    const char *value_name; /* "URL", "SLUG": the option takes a value; NULL: a flag */
    bool repeatable;        /* may be given more than once (else a usage error) */
    bool required;          /* the command needs it */
    const char *help;       /* one line for `rbacmig COMMAND --help` */
    /* A use of it, as typed after "rbacmig COMMAND" (after "rbacmig" for a global one):
     * shown by --help and the man page, so every option has one (check_cli.c). */
    const char *example;
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
    const char *example;    /* a typical use, after "rbacmig COMMAND" ("" for none needed) */
    bool hidden;            /* plumbing for the completion scripts: listed nowhere */
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
       CLI_G_QUIET, CLI_G_VERBOSE, CLI_G_NO_COLOR, CLI_G_HELP, CLI_G_VERSION };

/* A command by name; sub names a subcommand (or NULL). NULL when there is none. */
const cli_command *cli_find_command(const char *name, const char *sub);

/* The table names its handlers; they live in the cmd_*.c files, which see the whole run
 * state through cli.h. */
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
int cmd_status(cli_state *st, rb_error *err);          /* cmd_status.c */
int cmd_status_check(cli_state *st, rb_error *err);
int cmd_format_check(cli_state *st, rb_error *err);    /* cmd_info.c: --format text|json */
int cmd_repair(cli_state *st, rb_error *err);
int cmd_rbac(cli_state *st, rb_error *err);
int cmd_rbac_check(cli_state *st, rb_error *err);
int cmd_schema_dump(cli_state *st, rb_error *err);
int cmd_diff(cli_state *st, rb_error *err);
int cmd_schema_check(cli_state *st, rb_error *err);
int cmd_test(cli_state *st, rb_error *err);
int cmd_revision_check(cli_state *st, rb_error *err);  /* cmd_autogen.c */
int cmd_schema_export(cli_state *st, rb_error *err);
int cmd_schema_export_check(cli_state *st, rb_error *err);
int cmd_drift(cli_state *st, rb_error *err);
int cmd_help(cli_state *st, rb_error *err);          /* cmd_help.c */
int cmd_complete(cli_state *st, rb_error *err);
int cmd_complete_revisions(cli_state *st, rb_error *err);
int cmd_man(cli_state *st, rb_error *err);
int cmd_reference(cli_state *st, rb_error *err);

#endif
