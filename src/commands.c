/* commands.c: the command table: for each command its handler (cmd_*.c), what it needs
 * (flags the dispatcher in cli.c acts on), what it takes (options with their help lines and
 * examples, positional arguments) and its summary. Usage, `help COMMAND`, `COMMAND --help`,
 * shell completion and the man page (help.c) are generated from it: a command is described
 * here and nowhere else. An example is what follows "rbacmig COMMAND" on a command line. */
#include <string.h>

#include "commands.h"

/* Options shared by several commands' tables. */
#define OPT_SQL(ex) {.name = "sql", .help = "write the SQL to stdout instead of running it", .example = (ex)}
#define OPT_SINGLE_TX(ex) \
    {.name = "single-transaction", .help = "run every step in one transaction", .example = (ex)}
#define OPT_ALLOW_CHANGED(ex) \
    {.name = "allow-changed", .help = "run although an applied file was edited since it ran", \
     .example = (ex)}
#define OPT_REV_ID(ex) \
    {.name = "rev-id", .value_name = "ID", .help = "the revision id instead of a random one", \
     .example = (ex)}
#define OPT_TENANT(req, ex) \
    {.name = "tenant", .value_name = "SLUG", .required = (req), .help = "the tenant, by slug", \
     .example = (ex)}
#define OPT_USER(req, ex) \
    {.name = "user", .value_name = "USER_ID", .required = (req), \
     .help = "the user, by id (a UUID)", .example = (ex)}
#define UUID "9f1c2a4e-0b7d-4c1e-8a2f-3d5e6f708192"
#define OPT_END {0}

static const cli_opt no_opts[] = {OPT_END};
/* --format of the read-only commands (docs/json.md). */
#define OPT_FORMAT(ex) \
    {.name = "format", .value_name = "text|json", .help = "text (the default) or json (docs/json.md)", \
     .example = (ex)}
static const cli_opt format_opts[] = {OPT_FORMAT("--format json"), OPT_END};

static const cli_opt init_opts[] = {
    {.name = "rbac", .help = "also the RBAC migrations and the rbac/ model (permissions, role templates)",
     .example = "--rbac"},
    OPT_END,
};
static const cli_opt upgrade_opts[] = {
    OPT_SQL("--sql head > up.sql"),
    OPT_SINGLE_TX("--single-transaction head"),
    OPT_ALLOW_CHANGED("--allow-changed head"),
    OPT_END,
};
static const cli_opt downgrade_opts[] = {
    OPT_SQL("--sql head:base > down.sql"),
    OPT_SINGLE_TX("--single-transaction base"),
    OPT_ALLOW_CHANGED("--allow-changed -1"),
    OPT_END,
};
static const cli_opt stamp_opts[] = {
    OPT_SQL("--sql head > stamp.sql"),
    {.name = "purge", .help = "empty the version table first (it may name unknown revisions)",
     .example = "--purge 91759229c32b"},
    {.name = "from-alembic", .help = "the revisions Alembic's alembic_version holds, instead of REV",
     .example = "--from-alembic"},
    {.name = "alembic-table", .value_name = "NAME",
     .help = "Alembic's version table (default alembic_version)",
     .example = "--from-alembic --alembic-table app_alembic_version"},
    {.name = "alembic-schema", .value_name = "S",
     .help = "its schema (default: the search_path's; PostgreSQL)",
     .example = "--from-alembic --alembic-schema app"},
    OPT_END,
};
static const cli_opt import_alembic_opts[] = {
    {.name = "dialect", .value_name = "NAME",
     .help = "postgresql or sqlite (default: that of alembic.ini's sqlalchemy.url)",
     .example = "--dialect postgresql ../app"},
    {.name = "shadow-alembic", .value_name = "URL",
     .help = "an empty database Alembic's chain is replayed into, to prove the import",
     .example = "--shadow-alembic postgresql:///shadow_a --shadow postgresql:///shadow_b ../app"},
    {.name = "shadow", .value_name = "URL",
     .help = "an empty database the imported chain is replayed into (with --shadow-alembic)",
     .example = "--shadow-alembic sqlite:a.db --shadow sqlite:b.db ../app"},
    OPT_END,
};
static const cli_opt status_opts[] = {
    OPT_FORMAT("--format json"),
    {.name = "exit-code", .help = "exit 6 when revisions are pending, 1 on a problem (CI gates)",
     .example = "--exit-code"},
    OPT_END,
};
static const cli_opt history_opts[] = {
    OPT_FORMAT("-r base:head --format json"),
    {.name = "rev-range", .short_name = 'r', .value_name = "START:END",
     .help = "older to newer; either end may be empty", .example = "-r current:head"},
    OPT_END,
};
static const cli_opt revision_opts[] = {
    {.name = "message", .short_name = 'm', .value_name = "MSG", .required = true,
     .help = "what the revision does (also names the file)", .example = "-m \"add projects\""},
    OPT_REV_ID("-m \"add projects\" --rev-id 0123456789ab"),
    {.name = "head", .value_name = "REV",
     .help = "the parent revision instead of the head ('base' for a root)",
     .example = "-m \"billing root\" --head base"},
    {.name = "depends-on", .value_name = "REV", .repeatable = true,
     .help = "a revision it also needs (repeatable)",
     .example = "-m \"audit\" --depends-on 91759229c32b"},
    {.name = "branch-label", .value_name = "L", .help = "a label naming the new revision's branch",
     .example = "-m \"billing root\" --head base --branch-label billing"},
    {.name = "sql",
     .help = "upgrade and downgrade run <rev>_<slug>.up.sql and .down.sql (written too)",
     .example = "-m \"add projects\" --sql"},
    /* docs/autogenerate.md */
    {.name = "autogenerate",
     .help = "write what differs from head to the declarations in schema/, proved up and down",
     .example = "--autogenerate -m \"add projects\""},
    {.name = "from-db", .help = "with --autogenerate: compare with the live database, not head",
     .example = "--autogenerate --from-db -m \"take dashboard edits\""},
    {.name = "rename", .value_name = "T.OLD:NEW", .repeatable = true,
     .help = "with --autogenerate: a column (TABLE.OLD:NEW) or table (OLD:NEW) renamed",
     .example = "--autogenerate --rename users.name:full_name -m \"rename\""},
    {.name = "allow-drop", .help = "with --autogenerate: drops are allowed (else refused)",
     .example = "--autogenerate --allow-drop -m \"drop legacy\""},
    {.name = "shadow-url", .value_name = "URL", .repeatable = true,
     .help = "with --autogenerate: empty databases for the shadows (head, then declarations)",
     .example = "--autogenerate --shadow-url postgresql:///sa --shadow-url postgresql:///sb -m x"},
    {.name = "schema", .value_name = "NAME", .repeatable = true,
     .help = "with --autogenerate: a managed schema (repeatable; default as for diff)",
     .example = "--autogenerate --schema public -m \"add projects\""},
    OPT_END,
};
static const cli_opt export_opts[] = {
    {.name = "format", .value_name = "lua|sql",
     .help = "a Lua declaration (the default), or the SQL it runs (stdout only)",
     .example = "--format sql > schema.sql"},
    {.name = "output", .short_name = 'o', .value_name = "FILE|DIR",
     .help = "write to FILE, or DIR/export.lua (never over a file)", .example = "-o schema/"},
    {.name = "schema", .value_name = "NAME", .repeatable = true,
     .help = "a managed schema (repeatable; default: as for schema dump)",
     .example = "--schema public"},
    OPT_END,
};
static const cli_opt merge_opts[] = {
    {.name = "message", .short_name = 'm', .value_name = "MSG", .required = true,
     .help = "what the merge is", .example = "-m \"join billing\" heads"},
    OPT_REV_ID("-m \"join billing\" --rev-id 0123456789ab heads"),
    {.name = "branch-label", .value_name = "L", .help = "a label naming the merged branch",
     .example = "-m \"join\" --branch-label main heads"},
    OPT_END,
};
static const cli_opt repair_opts[] = {
    {.name = "dry-run", .help = "list what would be recorded and change nothing",
     .example = "--dry-run"},
    OPT_END,
};
static const cli_opt seed_opts[] = {
    {.name = "tenant", .value_name = "SLUG", .repeatable = true,
     .help = "only this tenant (repeatable; default: every tenant)",
     .example = "--tenant acme --tenant globex"},
    {.name = "prune", .help = "also remove what the files no longer name", .example = "--prune"},
    OPT_SQL("--sql > seed.sql"),
    OPT_END,
};
static const cli_opt tenant_create_opts[] = {
    {.name = "name", .value_name = "NAME", .help = "its display name (default: the slug)",
     .example = "acme --name \"Acme Corp\""},
    {.name = "owner", .value_name = "USER_ID", .help = "a user made its owner",
     .example = "acme --owner " UUID},
    OPT_END,
};
static const cli_opt member_add_opts[] = {
    OPT_TENANT(true, "--tenant acme --user " UUID " --role admin"),
    OPT_USER(true, "--tenant acme --user " UUID " --role admin"),
    {.name = "role", .value_name = "ROLE", .required = true, .help = "the tenant's role to give",
     .example = "--tenant acme --user " UUID " --role admin"},
    OPT_END,
};
static const cli_opt member_remove_opts[] = {
    OPT_TENANT(true, "--tenant acme --user " UUID),
    OPT_USER(true, "--tenant acme --user " UUID),
    {.name = "role", .value_name = "ROLE", .help = "only this role (default: every role)",
     .example = "--tenant acme --user " UUID " --role admin"},
    OPT_END,
};
static const cli_opt member_list_opts[] = {
    OPT_TENANT(true, "--tenant acme"),
    OPT_FORMAT("--tenant acme --format json"),
    OPT_END,
};
static const cli_opt can_opts[] = {
    OPT_TENANT(true, "--tenant acme --user " UUID " projects.create"),
    OPT_USER(true, "--tenant acme --user " UUID " projects.create"),
    OPT_FORMAT("--tenant acme --user " UUID " --format json projects.create"),
    OPT_END,
};

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

/* What the schema reader takes: the format, and the managed schemas. */
static const cli_opt inspect_opts[] = {
    {.name = "format", .value_name = "text|json", .help = "text (the default) or json",
     .example = "--format json"},
    {.name = "schema", .value_name = "NAME", .repeatable = true,
     .help = "a managed schema (repeatable; default: managed_schemas in the config file, else "
             "all but the system's and, on Supabase, Supabase's)",
     .example = "--schema public --schema app"},
    OPT_END,
};

/* What a shadow database takes (test, drift): the managed schemas and --shadow-url;
 * drift prints a diff, in either format. */
#define SHADOW_OPTS                                                                          \
    {.name = "schema", .value_name = "NAME", .repeatable = true,                             \
     .help = "a managed schema (repeatable; default: managed_schemas in the config file, "    \
             "else all but the system's and, on Supabase, Supabase's)",                      \
     .example = "--schema public"},                                                          \
    {.name = "shadow-url", .value_name = "URL",                                              \
     .help = "replay into this empty database instead of a new one on the same server",      \
     .example = "--shadow-url postgresql://localhost/shadow"}
static const cli_opt test_opts[] = {
    SHADOW_OPTS,
    {.name = "dialect", .value_name = "postgresql|sqlite|both",
     .help = "test on this dialect, or both in one run (default: test_dialects in the config "
             "file, else the database URL's)",
     .example = "--dialect both"},
    OPT_END,
};
static const cli_opt drift_opts[] = {
    {.name = "format", .value_name = "text|json", .help = "text (the default) or json",
     .example = "--format json"},
    SHADOW_OPTS,
    OPT_END,
};

static const cli_command schema_subs[] = {
    /* One read-only snapshot: the reader never writes, and sees the schema whole. */
    {.name = "dump", .run = cmd_schema_dump, .flags = CMD_DB | CMD_READ_ONLY | CMD_READ_TX,
     .opts = inspect_opts, .check = cmd_schema_check,
     .summary = "print the database's schema, sorted and stable", .example = "--format json"},
    {.name = "export", .run = cmd_schema_export, .flags = CMD_DB | CMD_READ_ONLY | CMD_READ_TX,
     .opts = export_opts, .check = cmd_schema_export_check,
     .summary = "write the database's schema as declarations (revision --autogenerate)",
     .example = "-o schema/"},
};

static const cli_command tenant_subs[] = {
    {.name = "create", .run = cmd_rbac, .flags = RBAC_WRITES, .opts = tenant_create_opts,
     .args = "SLUG", .min_args = 1, .max_args = 1, .check = cmd_rbac_check,
     .summary = "create a tenant with its template roles (and owner membership)",
     .example = "acme --name \"Acme Corp\" --owner " UUID,
     .args_hint = "quote a name with spaces: --name \"Foo Corp\""},
    {.name = "list", .run = cmd_rbac, .flags = RBAC_READS, .opts = format_opts,
     .check = cmd_rbac_check, .summary = "list tenants: slug, id, name, members", .example = ""},
    {.name = "delete", .run = cmd_rbac, .flags = RBAC_WRITES, .opts = no_opts, .args = "SLUG",
     .min_args = 1, .max_args = 1, .check = cmd_rbac_check,
     .summary = "delete a tenant and everything in it", .example = "acme"},
};

static const cli_command import_subs[] = {
    {.name = "alembic", .run = cmd_import, .opts = import_alembic_opts, .args = "DIR",
     .min_args = 1, .max_args = 1,
     .summary = "turn the Alembic project in DIR (holding alembic.ini) into migrations",
     .args_hint = "name the directory that holds alembic.ini", .example = "../app"},
};

static const cli_command member_subs[] = {
    {.name = "add", .run = cmd_rbac, .flags = RBAC_WRITES, .opts = member_add_opts,
     .check = cmd_rbac_check, .summary = "give a user a role in a tenant",
     .example = "--tenant acme --user " UUID " --role admin"},
    {.name = "remove", .run = cmd_rbac, .flags = RBAC_WRITES, .opts = member_remove_opts,
     .check = cmd_rbac_check, .summary = "take a user's role (or every role) in a tenant",
     .example = "--tenant acme --user " UUID},
    {.name = "list", .run = cmd_rbac, .flags = RBAC_READS, .opts = member_list_opts,
     .check = cmd_rbac_check, .summary = "list a tenant's members and their roles",
     .example = "--tenant acme"},
};

const cli_command cli_commands[] = {
    {.name = "init", .run = cmd_init, .opts = init_opts, .args = "[DIR]", .max_args = 1,
     .summary = "create rbacmig.lua, migrations/ and .env.example (--rbac: the RBAC schema too)",
     .example = "--rbac myproject"},
    /* --autogenerate opens shadow databases on the live database's server (lazy: -d). */
    {.name = "revision", .run = cmd_revision, .flags = CMD_GRAPH | CMD_DB_LAZY | CMD_READ_ONLY,
     .opts = revision_opts, .check = cmd_revision_check,
     .summary = "write a new migration file whose parent is the current head (--autogenerate: "
                "written from the declarations in schema/, proved)",
     .example = "-m \"add projects\"",
     .args_hint = "quote a message with spaces: -m \"add users\""},
    {.name = "merge", .run = cmd_merge, .flags = CMD_GRAPH, .opts = merge_opts,
     .args = "REV|heads...", .min_args = 1, .max_args = -1, .check = cmd_message_check,
     .summary = "write a revision that joins several heads", .example = "-m \"join\" heads",
     .args_hint = "name the revisions to join, or 'heads' for all of them"},
    {.name = "upgrade", .run = cmd_upgrade, .flags = MIGRATES, .opts = upgrade_opts,
     .args = "TARGET", .min_args = 1, .max_args = 1, .check = cmd_migrate_check,
     .summary = "apply migrations up to TARGET (head, heads, REV, +N, REV+N, LABEL@head)",
     .example = "head",
     .args_hint = "to apply everything: rbacmig upgrade head"},
    {.name = "downgrade", .run = cmd_downgrade, .flags = MIGRATES, .opts = downgrade_opts,
     .args = "TARGET", .min_args = 1, .max_args = 1, .check = cmd_migrate_check,
     .summary = "revert migrations down to TARGET (base, REV, -N, REV-N)", .example = "-1",
     .args_hint = "to revert everything, say so: rbacmig downgrade base"},
    {.name = "stamp", .run = cmd_stamp, .flags = MIGRATES, .opts = stamp_opts, .args = "[REV]",
     .min_args = 0, .max_args = 1, .check = cmd_migrate_check,
     .summary = "set the version table to REV (or Alembic's revisions) without running "
                "migrations",
     .example = "91759229c32b"},
    {.name = "current", .run = cmd_current, .flags = INSPECTS | CMD_GRAPH_LIGHT,
     .opts = format_opts, .check = cmd_format_check, .summary = "show the revision(s) the database is at", .example = "-v"},
    {.name = "heads", .run = cmd_heads, .flags = CMD_GRAPH | CMD_GRAPH_LIGHT,
     .opts = format_opts, .check = cmd_format_check, .summary = "show the head revision(s)", .example = ""},
    {.name = "branches", .run = cmd_branches, .flags = CMD_GRAPH | CMD_GRAPH_LIGHT,
     .opts = format_opts, .check = cmd_format_check, .summary = "show branch points", .example = ""},
    {.name = "history", .run = cmd_history, .flags = INSPECTS | CMD_GRAPH_LIGHT,
     .opts = history_opts, .check = cmd_history_check,
     .summary = "list revisions, newest first (ends: base, head, current, REV)",
     .example = "-r base:current -v",
     .args_hint = "use -r START:END"},
    /* Only `show current` reads the database: a revision is shown without one. */
    {.name = "show", .run = cmd_show, .flags = CMD_GRAPH | CMD_DB_LAZY | CMD_READ_ONLY,
     .opts = format_opts, .args = "REV|current", .min_args = 1, .max_args = 1,
     .check = cmd_show_check, .summary = "show one revision", .example = "current"},
    {.name = "repair", .run = cmd_repair, .flags = CMD_GRAPH | CMD_DB | CMD_STEP_LOCK,
     .opts = repair_opts, .read_only_with = "dry-run",
     .summary = "record the checksums of applied files edited since (a comment added); runs "
                "nothing",
     .example = "--dry-run"},
    {.name = "status", .run = cmd_status, .flags = INSPECTS, .opts = status_opts,
     .check = cmd_status_check,
     .summary = "where the database is, what upgrade would run, edited or failed revisions, "
                "several heads",
     .example = "--exit-code"},
    {.name = "check", .run = cmd_check, .flags = INSPECTS, .opts = format_opts,
     .check = cmd_format_check,
     .summary = "report edited applied files, revisions with no file, several heads and "
                "declarations that differ from head (exit 1)",
     .example = ""},
    {.name = "seed", .run = cmd_rbac, .flags = RBAC_WRITES | CMD_SQL, .opts = seed_opts,
     .check = cmd_rbac_check,
     .summary = "sync rbac/ into the database and give tenants their template roles",
     .example = ""},
    {.name = "tenant", .subs = tenant_subs, .nsubs = 3, .opts = no_opts,
     .summary = "manage tenants", .example = "list"},
    {.name = "member", .subs = member_subs, .nsubs = 3, .opts = no_opts,
     .summary = "manage memberships", .example = "list --tenant acme"},
    {.name = "import", .subs = import_subs, .nsubs = 1, .opts = no_opts,
     .summary = "import migrations from another tool (alembic)", .example = "alembic ../app"},
    {.name = "can", .run = cmd_rbac, .flags = RBAC_READS, .opts = can_opts,
     .args = "PERMISSION", .min_args = 1, .max_args = 1, .check = cmd_rbac_check,
     .summary = "allowed (exit 0, with the granting roles) or denied (exit 3)",
     .example = "--tenant acme --user " UUID " projects.create"},
    {.name = "schema", .subs = schema_subs, .nsubs = 2, .opts = no_opts,
     .summary = "read the database's schema back", .example = "dump"},
    /* Opens the two databases it is given itself, each read-only in its own snapshot. */
    {.name = "diff", .run = cmd_diff, .opts = inspect_opts, .args = "FROM_URL TO_URL",
     .min_args = 2, .max_args = 2, .check = cmd_schema_check,
     .summary = "list what differs between two databases' schemas (exit 4; 5 if "
                "security-weakening)",
     .example = "postgresql://localhost/prod postgresql://localhost/dev",
     .args_hint = "give two database URLs: rbacmig diff FROM_URL TO_URL"},
    /* Opens its own shadow database (src/shadow.c): the live database's URL (-d) only names
     * its server; it is never opened here (lazy: -d applies). */
    {.name = "test", .run = cmd_test, .flags = CMD_GRAPH | CMD_DB_LAZY, .opts = test_opts,
     .summary = "test every migration up, down and up again in a shadow database (TAP; exit 1 "
                "if any failed)",
     .example = ""},
    /* Reads the live database (read-only) and replays into a shadow of its own. */
    {.name = "drift", .run = cmd_drift, .flags = CMD_GRAPH | CMD_DB | CMD_READ_ONLY,
     .opts = drift_opts, .check = cmd_schema_check,
     .summary = "list how the database differs from what its migrations make (exit 4; 5 if "
                "security-weakening)",
     .example = "--format json"},
    {.name = "help", .run = cmd_help, .flags = CMD_NO_CONFIG, .opts = no_opts,
     .args = "[COMMAND [SUBCOMMAND]]", .max_args = 2,
     .summary = "this list, or a command's options with an example each", .example = "upgrade"},
    /* Plumbing for completions/ (hidden): `__complete commands|subcommands CMD|options [CMD
     * [SUB]]|targets` from the table, `__revisions` from the migrations directory, `__man
     * TEMPLATE` the man page (built by CMake from doc/rbacmig.1.in), `__reference` the
     * README's command reference (scripts/gen-readme-reference.sh). */
    {.name = "__complete", .run = cmd_complete, .flags = CMD_NO_CONFIG, .opts = no_opts,
     .args = "WHAT [COMMAND [SUBCOMMAND]]", .min_args = 1, .max_args = 3, .hidden = true,
     .summary = "list commands, subcommands, options or targets, one a line", .example = "commands"},
    {.name = "__revisions", .run = cmd_complete_revisions, .flags = CMD_GRAPH | CMD_GRAPH_LIGHT,
     .opts = no_opts, .hidden = true, .summary = "list revision ids and branch labels",
     .example = ""},
    {.name = "__man", .run = cmd_man, .flags = CMD_NO_CONFIG, .opts = no_opts,
     .args = "TEMPLATE", .min_args = 1, .max_args = 1, .hidden = true,
     .summary = "write the man page, filling TEMPLATE from the table", .example = "doc/rbacmig.1.in"},
    {.name = "__reference", .run = cmd_reference, .flags = CMD_NO_CONFIG, .opts = no_opts,
     .hidden = true, .summary = "write the README's command reference (Markdown) from the table",
     .example = ""},
};
const int cli_ncommands = (int)(sizeof cli_commands / sizeof *cli_commands);

/* Before the command or after it (one rule: a global option goes anywhere, so no command
 * takes an option of the same name; check_cli.c holds the table to that). Those that apply
 * to some commands only are a usage error elsewhere: `--lock-timeout 5 heads` would
 * otherwise promise a wait that never happens. */
const cli_opt cli_global_opts[] = {
    [CLI_G_URL] = {.name = "database-url", .short_name = 'd', .value_name = "URL",
                   .help = "database (else DATABASE_URL, .env, rbacmig.lua, sqlite:rbacmig.db)",
                   .example = "-d postgresql://localhost/app upgrade head",
                   .applies_to = CMD_DB | CMD_DB_LAZY, .why_not = "it opens no database"},
    [CLI_G_CONFIG] = {.name = "config", .short_name = 'c', .value_name = "FILE",
                      .help = "config file (default rbacmig.lua)",
                      .example = "-c staging.lua current"},
    [CLI_G_X] = {.short_name = 'x', .value_name = "KEY=VALUE", .repeatable = true,
                 .help = "passed to migrations as db.x.KEY (repeatable)",
                 .example = "-x tenant=acme upgrade head",
                 .applies_to = CMD_DB, .why_not = "it runs nothing on a database"},
    [CLI_G_LOCK] = {.name = "lock-timeout", .value_name = "SECONDS",
                    .help = "give up waiting for another run's lock (default: wait)",
                    .example = "--lock-timeout 30 upgrade head",
                    .applies_to = CMD_LOCK | CMD_STEP_LOCK, .why_not = "it takes no lock"},
    [CLI_G_DB_LOCK] = {.name = "db-lock-timeout", .value_name = "SECONDS",
                       .help = "PostgreSQL lock_timeout in migrations (default 10)",
                       .example = "--db-lock-timeout 3 upgrade head",
                       .applies_to = CMD_LOCK | CMD_STEP_LOCK,
                       .why_not = "it runs no migration transaction"},
    [CLI_G_STATEMENT] = {.name = "statement-timeout", .value_name = "SECONDS",
                         .help = "PostgreSQL statement_timeout in migrations (default 0: none)",
                         .example = "--statement-timeout 60 upgrade head",
                         .applies_to = CMD_LOCK | CMD_STEP_LOCK | CMD_READ_TX,
                         .why_not = "it runs no transaction that sets it"},
    [CLI_G_QUIET] = {.name = "quiet", .short_name = 'q', .repeatable = true,
                     .help = "print only results and errors (no progress, no notes)",
                     .example = "-q upgrade head"},
    [CLI_G_VERBOSE] = {.name = "verbose", .short_name = 'v', .repeatable = true,
                       .help = "more detail: every field of each revision listed, debug notes",
                       .example = "history -v"},
    [CLI_G_NO_COLOR] = {.name = "no-color", .repeatable = true,
                        .help = "no colour (also NO_COLOR=1; colour only ever on a terminal)",
                        .example = "--no-color upgrade head"},
    [CLI_G_HELP] = {.name = "help", .short_name = 'h', .repeatable = true,
                    .help = "this help; `rbacmig help COMMAND` for a command",
                    .example = "upgrade --help"},
    [CLI_G_VERSION] = {.name = "version", .repeatable = true,
                       .help = "print the version, git revision and build type",
                       .example = "--version"},
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
