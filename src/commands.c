/* commands.c: the command table: for each command its handler (cmd_*.c), what it needs
 * (flags the dispatcher in cli.c acts on), what it takes (options with their help lines,
 * positional arguments) and its summary. Usage and --help are generated from it, and so
 * will be `help COMMAND`, shell completion and the man page: a command is described here
 * and nowhere else. */
#include <string.h>

#include "cli.h"

/* Options shared by several commands' tables. */
#define OPT_VERBOSE {.name = "verbose", .short_name = 'v', .help = "show every detail of each revision"}
#define OPT_SQL {.name = "sql", .help = "write the SQL to stdout instead of running it"}
#define OPT_SINGLE_TX {.name = "single-transaction", .help = "run every step in one transaction"}
#define OPT_ALLOW_CHANGED \
    {.name = "allow-changed", .help = "run although an applied file was edited since it ran"}
#define OPT_REV_ID {.name = "rev-id", .value_name = "ID", .help = "the revision id instead of a random one"}
#define OPT_TENANT(req) {.name = "tenant", .value_name = "SLUG", .required = (req), .help = "the tenant, by slug"}
#define OPT_USER(req) {.name = "user", .value_name = "USER_ID", .required = (req), .help = "the user, by id (a UUID)"}
#define OPT_END {0}

static const cli_opt no_opts[] = {OPT_END};
static const cli_opt init_opts[] = {
    {.name = "rbac", .help = "also the RBAC migrations and the rbac/ model (permissions, role templates)"},
    OPT_END,
};
static const cli_opt verbose_opts[] = {OPT_VERBOSE, OPT_END};
static const cli_opt migrate_opts[] = {OPT_SQL, OPT_SINGLE_TX, OPT_ALLOW_CHANGED, OPT_END};
static const cli_opt stamp_opts[] = {
    OPT_SQL,
    {.name = "purge", .help = "empty the version table first (it may name unknown revisions)"},
    {.name = "from-alembic", .help = "the revisions Alembic's alembic_version holds, instead of REV"},
    {.name = "alembic-table", .value_name = "NAME",
     .help = "Alembic's version table (default alembic_version)"},
    {.name = "alembic-schema", .value_name = "S",
     .help = "its schema (default: the search_path's; PostgreSQL)"},
    OPT_END,
};
static const cli_opt import_alembic_opts[] = {
    {.name = "dialect", .value_name = "NAME",
     .help = "postgresql or sqlite (default: that of alembic.ini's sqlalchemy.url)"},
    {.name = "shadow-alembic", .value_name = "URL",
     .help = "an empty database Alembic's chain is replayed into, to prove the import"},
    {.name = "shadow", .value_name = "URL",
     .help = "an empty database the imported chain is replayed into (with --shadow-alembic)"},
    OPT_END,
};
static const cli_opt history_opts[] = {
    {.name = "rev-range", .short_name = 'r', .value_name = "START:END",
     .help = "older to newer; either end may be empty"},
    OPT_VERBOSE,
    OPT_END,
};
static const cli_opt revision_opts[] = {
    {.name = "message", .short_name = 'm', .value_name = "MSG", .required = true,
     .help = "what the revision does (also names the file)"},
    OPT_REV_ID,
    {.name = "head", .value_name = "REV",
     .help = "the parent revision instead of the head ('base' for a root)"},
    {.name = "depends-on", .value_name = "REV", .repeatable = true,
     .help = "a revision it also needs (repeatable)"},
    {.name = "branch-label", .value_name = "L", .help = "a label naming the new revision's branch"},
    OPT_END,
};
static const cli_opt merge_opts[] = {
    {.name = "message", .short_name = 'm', .value_name = "MSG", .required = true,
     .help = "what the merge is"},
    OPT_REV_ID,
    {.name = "branch-label", .value_name = "L", .help = "a label naming the merged branch"},
    OPT_END,
};
static const cli_opt repair_opts[] = {
    {.name = "dry-run", .help = "list what would be recorded and change nothing"},
    OPT_END,
};
static const cli_opt seed_opts[] = {
    {.name = "tenant", .value_name = "SLUG", .repeatable = true,
     .help = "only this tenant (repeatable; default: every tenant)"},
    {.name = "prune", .help = "also remove what the files no longer name"},
    OPT_SQL,
    OPT_END,
};
static const cli_opt tenant_create_opts[] = {
    {.name = "name", .value_name = "NAME", .help = "its display name (default: the slug)"},
    {.name = "owner", .value_name = "USER_ID", .help = "a user made its owner"},
    OPT_END,
};
static const cli_opt member_add_opts[] = {
    OPT_TENANT(true),
    OPT_USER(true),
    {.name = "role", .value_name = "ROLE", .required = true, .help = "the tenant's role to give"},
    OPT_END,
};
static const cli_opt member_remove_opts[] = {
    OPT_TENANT(true),
    OPT_USER(true),
    {.name = "role", .value_name = "ROLE", .help = "only this role (default: every role)"},
    OPT_END,
};
static const cli_opt member_list_opts[] = {OPT_TENANT(true), OPT_END};
static const cli_opt can_opts[] = {OPT_TENANT(true), OPT_USER(true), OPT_END};

/* Migrations run, or their SQL is written (--sql); the runner takes the lock per step. */
#define MIGRATES (CMD_GRAPH | CMD_DB | CMD_STEP_LOCK | CMD_SQL)
/* Reads the database and the graph, never writes. */
#define INSPECTS (CMD_GRAPH | CMD_DB | CMD_READ_ONLY)
/* An RBAC command that changes data: one transaction under the migration lock, so that it
 * never interleaves with an upgrade. */
#define RBAC_WRITES (CMD_DB | CMD_LOCK)
/* An RBAC command that only reads: one read-only transaction (one snapshot) without the
 * lock, so it answers while a migration runs. */
#define RBAC_READS (CMD_DB | CMD_READ_ONLY | CMD_READ_TX)

static const cli_command tenant_subs[] = {
    {.name = "create", .run = cmd_rbac, .flags = RBAC_WRITES, .opts = tenant_create_opts,
     .args = "SLUG", .min_args = 1, .max_args = 1, .check = cmd_rbac_check,
     .summary = "create a tenant with its template roles (and owner membership)",
     .args_hint = "quote a name with spaces: --name \"Foo Corp\""},
    {.name = "list", .run = cmd_rbac, .flags = RBAC_READS, .opts = no_opts,
     .check = cmd_rbac_check, .summary = "list tenants: slug, id, name, members"},
    {.name = "delete", .run = cmd_rbac, .flags = RBAC_WRITES, .opts = no_opts, .args = "SLUG",
     .min_args = 1, .max_args = 1, .check = cmd_rbac_check,
     .summary = "delete a tenant and everything in it"},
};

static const cli_command import_subs[] = {
    {.name = "alembic", .run = cmd_import, .opts = import_alembic_opts, .args = "DIR",
     .min_args = 1, .max_args = 1,
     .summary = "turn the Alembic project in DIR (holding alembic.ini) into migrations",
     .args_hint = "name the directory that holds alembic.ini"},
};

static const cli_command member_subs[] = {
    {.name = "add", .run = cmd_rbac, .flags = RBAC_WRITES, .opts = member_add_opts,
     .check = cmd_rbac_check, .summary = "give a user a role in a tenant"},
    {.name = "remove", .run = cmd_rbac, .flags = RBAC_WRITES, .opts = member_remove_opts,
     .check = cmd_rbac_check, .summary = "take a user's role (or every role) in a tenant"},
    {.name = "list", .run = cmd_rbac, .flags = RBAC_READS, .opts = member_list_opts,
     .check = cmd_rbac_check, .summary = "list a tenant's members and their roles"},
};

const cli_command cli_commands[] = {
    {.name = "init", .run = cmd_init, .opts = init_opts, .args = "[DIR]", .max_args = 1,
     .summary = "create rbacmig.lua, migrations/ and .env.example"},
    {.name = "revision", .run = cmd_revision, .flags = CMD_GRAPH, .opts = revision_opts,
     .check = cmd_message_check,
     .summary = "write a new migration file whose parent is the current head",
     .args_hint = "quote a message with spaces: -m \"add users\""},
    {.name = "merge", .run = cmd_merge, .flags = CMD_GRAPH, .opts = merge_opts,
     .args = "REV|heads...", .min_args = 1, .max_args = -1, .check = cmd_message_check,
     .summary = "write a revision that joins several heads",
     .args_hint = "name the revisions to join, or 'heads' for all of them"},
    {.name = "upgrade", .run = cmd_upgrade, .flags = MIGRATES, .opts = migrate_opts,
     .args = "TARGET", .min_args = 1, .max_args = 1, .check = cmd_migrate_check,
     .summary = "apply migrations up to TARGET (head, heads, REV, +N, REV+N, LABEL@head)",
     .args_hint = "to apply everything: rbacmig upgrade head"},
    {.name = "downgrade", .run = cmd_downgrade, .flags = MIGRATES, .opts = migrate_opts,
     .args = "TARGET", .min_args = 1, .max_args = 1, .check = cmd_migrate_check,
     .summary = "revert migrations down to TARGET (base, REV, -N, REV-N)",
     .args_hint = "to revert everything, say so: rbacmig downgrade base"},
    {.name = "stamp", .run = cmd_stamp, .flags = MIGRATES, .opts = stamp_opts, .args = "[REV]",
     .min_args = 0, .max_args = 1, .check = cmd_migrate_check,
     .summary = "set the version table to REV (or Alembic's revisions) without running "
                "migrations"},
    {.name = "current", .run = cmd_current, .flags = INSPECTS | CMD_GRAPH_LIGHT,
     .opts = verbose_opts, .summary = "show the revision(s) the database is at"},
    {.name = "heads", .run = cmd_heads, .flags = CMD_GRAPH | CMD_GRAPH_LIGHT,
     .opts = verbose_opts, .summary = "show the head revision(s)"},
    {.name = "branches", .run = cmd_branches, .flags = CMD_GRAPH | CMD_GRAPH_LIGHT,
     .opts = verbose_opts, .summary = "show branch points"},
    {.name = "history", .run = cmd_history, .flags = INSPECTS | CMD_GRAPH_LIGHT,
     .opts = history_opts, .check = cmd_history_check,
     .summary = "list revisions, newest first (ends: base, head, current, REV)",
     .args_hint = "use -r START:END"},
    /* Only `show current` reads the database: a revision is shown without one. */
    {.name = "show", .run = cmd_show, .flags = CMD_GRAPH | CMD_DB_LAZY | CMD_READ_ONLY,
     .opts = no_opts, .args = "REV|current", .min_args = 1, .max_args = 1,
     .check = cmd_show_check, .summary = "show one revision"},
    {.name = "repair", .run = cmd_repair, .flags = CMD_GRAPH | CMD_DB | CMD_STEP_LOCK,
     .opts = repair_opts, .read_only_with = "dry-run",
     .summary = "record the checksums of applied files edited since (a comment added); runs "
                "nothing"},
    {.name = "check", .run = cmd_check, .flags = INSPECTS, .opts = no_opts,
     .summary = "report edited applied files, revisions with no file and several heads (exit "
                "1)"},
    {.name = "seed", .run = cmd_rbac, .flags = RBAC_WRITES | CMD_SQL, .opts = seed_opts,
     .check = cmd_rbac_check,
     .summary = "sync rbac/ into the database and give tenants their template roles"},
    {.name = "tenant", .subs = tenant_subs, .nsubs = 3, .opts = no_opts,
     .summary = "manage tenants"},
    {.name = "member", .subs = member_subs, .nsubs = 3, .opts = no_opts,
     .summary = "manage memberships"},
    {.name = "import", .subs = import_subs, .nsubs = 1, .opts = no_opts,
     .summary = "import migrations from another tool (alembic)"},
    {.name = "can", .run = cmd_rbac, .flags = RBAC_READS, .opts = can_opts,
     .args = "PERMISSION", .min_args = 1, .max_args = 1, .check = cmd_rbac_check,
     .summary = "allowed (exit 0, with the granting roles) or denied (exit 3)"},
};
const int cli_ncommands = (int)(sizeof cli_commands / sizeof *cli_commands);

/* Before the command. Those that apply to some commands only are a usage error elsewhere:
 * `--lock-timeout 5 heads` would otherwise promise a wait that never happens. */
const cli_opt cli_global_opts[] = {
    [CLI_G_URL] = {.name = "database-url", .short_name = 'd', .value_name = "URL",
                   .help = "database (else DATABASE_URL, .env, rbacmig.lua, sqlite:rbacmig.db)",
                   .applies_to = CMD_DB | CMD_DB_LAZY, .why_not = "it opens no database"},
    [CLI_G_CONFIG] = {.name = "config", .short_name = 'c', .value_name = "FILE",
                      .help = "config file (default rbacmig.lua)"},
    [CLI_G_X] = {.short_name = 'x', .value_name = "KEY=VALUE", .repeatable = true,
                 .help = "passed to migrations as db.x.KEY (repeatable)",
                 .applies_to = CMD_DB, .why_not = "it runs nothing on a database"},
    [CLI_G_LOCK] = {.name = "lock-timeout", .value_name = "SECONDS",
                    .help = "give up waiting for another run's lock (default: wait)",
                    .applies_to = CMD_LOCK | CMD_STEP_LOCK, .why_not = "it takes no lock"},
    [CLI_G_DB_LOCK] = {.name = "db-lock-timeout", .value_name = "SECONDS",
                       .help = "PostgreSQL lock_timeout in migrations (default 10)",
                       .applies_to = CMD_LOCK | CMD_STEP_LOCK,
                       .why_not = "it runs no migration transaction"},
    [CLI_G_STATEMENT] = {.name = "statement-timeout", .value_name = "SECONDS",
                         .help = "PostgreSQL statement_timeout in migrations (default 0: none)",
                         .applies_to = CMD_LOCK | CMD_STEP_LOCK | CMD_READ_TX,
                         .why_not = "it runs no transaction that sets it"},
    [CLI_G_QUIET] = {.name = "quiet", .short_name = 'q', .repeatable = true,
                     .help = "print only results and errors"},
    [CLI_G_VERBOSE] = {.name = "verbose", .short_name = 'v', .repeatable = true,
                       .help = "print debugging detail"},
    [CLI_G_HELP] = {.name = "help", .short_name = 'h', .repeatable = true,
                    .help = "this help; `rbacmig COMMAND --help` for a command"},
    [CLI_G_VERSION] = {.name = "version", .repeatable = true, .help = "print the version"},
    OPT_END,
};

const cli_command *cli_find_command(const char *name, const char *sub)
{
    for (int i = 0; i < cli_ncommands; i++) {
        const cli_command *c = &cli_commands[i];
        if (strcmp(c->name, name) != 0)
            continue;
        if (!sub)
            return c;
        for (int j = 0; j < c->nsubs; j++)
            if (strcmp(c->subs[j].name, sub) == 0)
                return &c->subs[j];
        return NULL;
    }
    return NULL;
}
