/* check_cli.c: the command line. The option parser (both spellings, values kept whole and
 * as given, flags that refuse values); whole command lines against the command table (one
 * row per case: unknown options, another command's, globals before and after the command,
 * subcommands, required options and arguments); the table's flags and completeness; and
 * cli_main itself: usage errors found before any file is read or database opened, global
 * options in both spellings, --help generated from the table, output that could not be
 * written. */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check_rbacmig.h"
#include "cli.h"

enum { O_MESSAGE, O_SQL, O_DEPENDS };
static const cli_opt opts[] = {
    {.name = "message", .short_name = 'm', .value_name = "MSG"},
    {.name = "sql"},
    {.name = "depends-on", .value_name = "REV", .repeatable = true},
    {0},
};

/* Parses the NULL-terminated words (char * as main gets them: cli never writes through
 * them); returns the parser's result, err filled. */
static int parse(cli_args *a, rb_error *err, char **words)
{
    int argc = 0;
    while (words[argc])
        argc++;
    rb_error_init(err);
    return cli_parse_args("cmd", argc, words, opts, a, err);
}

START_TEST(test_parse_both_spellings)
{
    cli_args a;
    rb_error err;
    char *w[] = {"--message=a=b", "-mshort", "-m", "sep", "--message", "long", NULL};
    ck_assert_int_eq(parse(&a, &err, w), 0);
    ck_assert_int_eq(a.values[O_MESSAGE].count, 4);
    ck_assert_str_eq(a.values[O_MESSAGE].items[0], "a=b");
    ck_assert_str_eq(a.values[O_MESSAGE].items[1], "short");
    ck_assert_str_eq(a.values[O_MESSAGE].items[2], "sep");
    ck_assert_str_eq(cli_arg(&a, O_MESSAGE), "long");
    cli_args_release(&a);
}
END_TEST

START_TEST(test_parse_values_as_given)
{
    /* The word true is a value like any other, and a long value is kept whole. */
    char *big = malloc(5001);
    ck_assert_ptr_nonnull(big);
    memset(big, 'v', 5000);
    big[5000] = '\0';
    cli_args a;
    rb_error err;
    char *w[] = {"-m", "true", "--depends-on", big, "--depends-on=", "--sql", NULL};
    ck_assert_int_eq(parse(&a, &err, w), 0);
    ck_assert_str_eq(cli_arg(&a, O_MESSAGE), "true");
    ck_assert_int_eq(a.values[O_DEPENDS].count, 2);
    ck_assert_uint_eq(strlen(a.values[O_DEPENDS].items[0]), 5000);
    ck_assert_str_eq(a.values[O_DEPENDS].items[1], "");
    ck_assert_int_eq(a.values[O_SQL].count, 1);
    cli_args_release(&a);
    free(big);
}
END_TEST

START_TEST(test_parse_positionals)
{
    cli_args a;
    rb_error err;
    char *w[] = {"-3", "head", "--", "--sql", "-m", NULL};
    ck_assert_int_eq(parse(&a, &err, w), 0);
    ck_assert_int_eq(a.positional.count, 4);
    ck_assert_str_eq(a.positional.items[0], "-3");
    ck_assert_str_eq(a.positional.items[2], "--sql");
    ck_assert_int_eq(a.values[O_SQL].count, 0);
    cli_args_release(&a);
}
END_TEST

START_TEST(test_parse_errors)
{
    static char *bad[][3] = {
        {"--sql=yes", NULL, NULL},      /* a flag takes no value */
        {"--frob", NULL, NULL},         /* unknown */
        {"--messages", "x", NULL},      /* not a prefix match */
        {"-m", NULL, NULL},             /* a missing value */
        {"-q", NULL, NULL},             /* unknown short */
    };
    static const char *const part[] = {"takes no value", "unknown option '--frob'",
                                       "unknown option '--messages'", "needs a value",
                                       "'cmd' does not take -q"};
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        cli_args a;
        rb_error err;
        ck_assert_int_eq(parse(&a, &err, bad[i]), -1);
        ck_assert_int_eq(err.kind, RB_ERR_USAGE);
        ck_assert_msg(strstr(err.message, part[i]) != NULL, "'%s': '%s' lacks '%s'", bad[i][0],
                      err.message, part[i]);
        cli_args_release(&a);
    }
}
END_TEST

START_TEST(test_parse_help)
{
    cli_args a;
    rb_error err;
    char *w[] = {"head", "--help", NULL};
    ck_assert_int_eq(parse(&a, &err, w), 0);
    ck_assert(a.help);
    cli_args_release(&a);
}
END_TEST

/* ---- the whole command line against the command table: one case per row -------------- */

typedef struct line_case {
    const char *words[10]; /* after the program name, NULL-terminated */
    int rc;                /* 0 or RB_ERR_USAGE */
    const char *expect;    /* rc 0: the command run ("tenant list"); else part of the error */
} line_case;

static const line_case line_cases[] = {
    /* what the table takes */
    {{"upgrade", "--sql", "--single-transaction", "head"}, 0, "upgrade"},
    {{"downgrade", "-3"}, 0, "downgrade"},                 /* -3 is a target, not an option */
    {{"merge", "-m", "x", "--", "-rev", "heads"}, 0, "merge"}, /* -- ends options */
    {{"revision", "-m", "-x"}, 0, "revision"},             /* a value may start with '-' */
    {{"history", "-rbase:head", "-v"}, 0, "history"},
    {{"current", "-v"}, 0, "current"},                     /* -v, -q: every command's */
    {{"check", "-q"}, 0, "check"},
    {{"init", "-v", "--no-color"}, 0, "init"},
    /* a global option after the command works as before it (one rule: anywhere) */
    {{"upgrade", "head", "-d", "sqlite:x.db", "--lock-timeout=5"}, 0, "upgrade"},
    {{"member", "--tenant", "a", "list", "-c", "x.lua"}, 0, "member list"},
    {{"tenant", "list", "--statement-timeout", "1"}, 0, "tenant list"},
    {{"tenant", "list"}, 0, "tenant list"},
    {{"member", "--tenant", "a", "list"}, 0, "member list"}, /* an option before the sub */
    {{"can", "--tenant=a", "--user", "u", "p.q"}, 0, "can"},
    {{"seed", "--tenant", "a", "--tenant", "b", "--prune"}, 0, "seed"},
    /* globals before the command, in both spellings, where they apply */
    {{"-q", "--lock-timeout", "5", "-dsqlite:x.db", "upgrade", "head"}, 0, "upgrade"},
    {{"--config=x.lua", "-v", "heads"}, 0, "heads"},
    {{"--statement-timeout=1", "can", "--tenant", "a", "--user", "u", "p"}, 0, "can"},
    /* unknown, another command's, a global after the command or where it does not apply */
    {{"upgrade", "--frob", "head"}, RB_ERR_USAGE, "unknown option '--frob' for 'upgrade'"},
    {{"--frob", "upgrade", "head"}, RB_ERR_USAGE, "unknown option '--frob'"},
    {{"stamp", "--single-transaction", "head"}, RB_ERR_USAGE,
     "'stamp' does not take --single-transaction"},
    {{"check", "-r", "1:2"}, RB_ERR_USAGE, "'check' does not take -r"},
    {{"heads", "--lock-timeout", "5"}, RB_ERR_USAGE,
     "'heads' does not take --lock-timeout (it takes no lock)"},
    {{"upgrade", "head", "-c", "a", "--config", "b"}, RB_ERR_USAGE,
     "option '--config' is given 2 times"},
    {{"--lock-timeout", "5", "heads"}, RB_ERR_USAGE,
     "'heads' does not take --lock-timeout (it takes no lock)"},
    {{"--lock-timeout=5", "can", "--tenant", "a", "--user", "u", "p"}, RB_ERR_USAGE,
     "'can' does not take --lock-timeout"},
    {{"-d", "sqlite:x.db", "init"}, RB_ERR_USAGE, "'init' does not take --database-url"},
    {{"-x", "a=b", "revision", "-m", "m"}, RB_ERR_USAGE, "'revision' does not take -x"},
    {{"tenant", "list", "--tenant", "a"}, RB_ERR_USAGE, "'tenant list' does not take --tenant"},
    {{"tenant", "--owner", "u", "list"}, RB_ERR_USAGE, "'tenant list' does not take --owner"},
    /* values: a flag given one, one missing, one given twice */
    {{"upgrade", "--sql=yes", "head"}, RB_ERR_USAGE, "option '--sql' of 'upgrade' takes no value"},
    {{"history", "-r"}, RB_ERR_USAGE, "option '-r' of 'history' needs a value"},
    {{"upgrade", "head", "--lock-timeout"}, RB_ERR_USAGE,
     "option '--lock-timeout' of 'upgrade' needs a value"},
    {{"--lock-timeout"}, RB_ERR_USAGE, "option '--lock-timeout' needs a value"},
    {{"-c", "a", "-c", "b", "heads"}, RB_ERR_USAGE, "option '--config' is given 2 times"},
    {{"can", "--tenant", "a", "--tenant", "b", "--user", "u", "p"}, RB_ERR_USAGE,
     "--tenant is given 2 times"},
    /* required options, arguments, subcommands */
    {{"member", "add", "--tenant", "a", "--user", "u"}, RB_ERR_USAGE, "'member add' needs --role"},
    {{"revision"}, RB_ERR_USAGE, "'revision' needs --message"},
    {{"upgrade"}, RB_ERR_USAGE, "'upgrade' needs TARGET"},
    {{"heads", "extra"}, RB_ERR_USAGE, "unexpected argument 'extra' for 'heads'"},
    {{"tenant", "delete", "a", "b"}, RB_ERR_USAGE, "unexpected argument 'b' for 'tenant delete'"},
    {{"tenant"}, RB_ERR_USAGE, "'tenant' needs a command: create, list or delete"},
    {{"member", "promote"}, RB_ERR_USAGE,
     "unknown member command 'promote' (expected add, remove or list)"},
    {{"frobnicate"}, RB_ERR_USAGE, "unknown command 'frobnicate'"},
    {{"-q"}, RB_ERR_USAGE, "no command given"},
};

START_TEST(test_line_cases)
{
    const line_case *c = &line_cases[_i];
    char *argv[12];
    int argc = 0;
    argv[argc++] = "rbacmig";
    for (int i = 0; c->words[i]; i++)
        argv[argc++] = (char *)(uintptr_t)c->words[i]; /* cli never writes through argv */
    argv[argc] = NULL;
    cli_line line;
    rb_error err;
    rb_error_init(&err);
    int rc = cli_parse_line(argc, argv, &line, &err);
    if (c->rc == 0) {
        ck_assert_msg(rc == 0, "case %d (%s ...): %s", _i, c->words[0], err.message);
        ck_assert_ptr_nonnull(line.cmd);
        char name[128];
        snprintf(name, sizeof name, "%s%s%s", line.parent ? line.parent->name : "",
                 line.parent ? " " : "", line.cmd->name);
        ck_assert_str_eq(name, c->expect);
    } else {
        ck_assert_msg(rc == -1 && rb_error_exit_code(&err) == c->rc, "case %d (%s ...) should be a usage error",
                      _i, c->words[0]);
        ck_assert_msg(strstr(err.message, c->expect) != NULL, "case %d: '%s' lacks '%s'", _i,
                      err.message, c->expect);
        ck_assert_msg(!strchr(err.message, '\n'), "case %d: one line", _i);
    }
    cli_line_release(&line);
}
END_TEST

/* The options end up where the handler looks: by name in the (sub)command's own table. */
START_TEST(test_line_values)
{
    char *argv[] = {"rbacmig", "member", "--tenant", "t1", "remove", "--user=u1", NULL};
    cli_line line;
    rb_error err;
    ck_assert_int_eq(cli_parse_line(6, argv, &line, &err), 0);
    ck_assert_ptr_eq(line.cmd, cli_find_command("member", "remove"));
    ck_assert_ptr_eq(line.args.opts, line.cmd->opts);
    ck_assert_str_eq(cli_arg(&line.args, 0), "t1");
    ck_assert_str_eq(cli_arg(&line.args, 1), "u1");
    ck_assert_ptr_null(cli_arg(&line.args, 2));
    ck_assert_int_eq(line.args.positional.count, 0);
    cli_line_release(&line);
}
END_TEST

/* What the dispatcher sets up is the table's word: the commands that only read never wait
 * for the migration lock, the ones that write always hold it. */
static const struct {
    const char *name, *sub;
    unsigned set, unset;
} flag_cases[] = {
    {"can", NULL, CMD_DB | CMD_READ_ONLY | CMD_READ_TX, CMD_LOCK | CMD_STEP_LOCK},
    {"tenant", "list", CMD_DB | CMD_READ_ONLY | CMD_READ_TX, CMD_LOCK | CMD_STEP_LOCK},
    {"member", "list", CMD_DB | CMD_READ_ONLY | CMD_READ_TX, CMD_LOCK | CMD_STEP_LOCK},
    {"tenant", "create", CMD_DB | CMD_LOCK, CMD_READ_ONLY | CMD_READ_TX},
    {"tenant", "delete", CMD_DB | CMD_LOCK, CMD_READ_ONLY | CMD_READ_TX},
    {"member", "add", CMD_DB | CMD_LOCK, CMD_READ_ONLY | CMD_READ_TX},
    {"member", "remove", CMD_DB | CMD_LOCK, CMD_READ_ONLY | CMD_READ_TX},
    {"seed", NULL, CMD_DB | CMD_LOCK | CMD_SQL, CMD_READ_ONLY},
    {"upgrade", NULL, CMD_GRAPH | CMD_DB | CMD_STEP_LOCK | CMD_SQL, CMD_READ_ONLY | CMD_LOCK},
    {"current", NULL, CMD_GRAPH | CMD_DB | CMD_READ_ONLY, CMD_LOCK | CMD_STEP_LOCK},
    {"history", NULL, CMD_GRAPH | CMD_DB | CMD_READ_ONLY, CMD_LOCK | CMD_STEP_LOCK},
    {"check", NULL, CMD_GRAPH | CMD_DB | CMD_READ_ONLY, CMD_LOCK | CMD_STEP_LOCK},
    {"heads", NULL, CMD_GRAPH, CMD_DB | CMD_DB_LAZY},
    {"init", NULL, 0, CMD_GRAPH | CMD_DB | CMD_DB_LAZY},
};

START_TEST(test_command_flags)
{
    const cli_command *c = cli_find_command(flag_cases[_i].name, flag_cases[_i].sub);
    ck_assert_ptr_nonnull(c);
    ck_assert_msg((c->flags & flag_cases[_i].set) == flag_cases[_i].set, "%s %s lacks flags",
                  flag_cases[_i].name, flag_cases[_i].sub ? flag_cases[_i].sub : "");
    ck_assert_msg((c->flags & flag_cases[_i].unset) == 0, "%s %s has flags it must not",
                  flag_cases[_i].name, flag_cases[_i].sub ? flag_cases[_i].sub : "");
}
END_TEST

/* Help, completion and the man page are generated from the table: every command and option
 * must carry what they print. */
static void check_table_entry(const cli_command *c)
{
    ck_assert_msg(c->summary && c->summary[0], "'%s' has no summary", c->name);
    ck_assert_ptr_nonnull(c->opts);
    ck_assert_msg((c->run != NULL) != (c->subs != NULL), "'%s': a handler or subcommands",
                  c->name);
    ck_assert_msg(!c->min_args || c->args, "'%s' takes arguments it does not name", c->name);
    ck_assert_msg(c->example, "'%s' has no example (\"\" when it needs none)", c->name);
    int n = 0;
    for (const cli_opt *o = c->opts; o->name; o++, n++) {
        ck_assert_msg(o->help && o->help[0], "'%s --%s' has no help line", c->name, o->name);
        ck_assert_msg(o->example && o->example[0], "'%s --%s' has no example", c->name, o->name);
        /* One rule: a global option goes anywhere, so no command may take one by its name. */
        for (const cli_opt *g = cli_global_opts; g->name || g->short_name; g++) {
            ck_assert_msg(!g->name || strcmp(g->name, o->name) != 0,
                          "'%s --%s' hides the global option of that name", c->name, o->name);
            ck_assert_msg(!o->short_name || o->short_name != g->short_name,
                          "'%s -%c' hides the global option of that letter", c->name,
                          o->short_name);
        }
    }
    ck_assert_int_le(n, CLI_MAX_OPTS);
    if ((c->flags & CMD_SQL) != 0) {
        bool has_sql = false;
        for (const cli_opt *o = c->opts; o->name; o++)
            has_sql |= strcmp(o->name, "sql") == 0;
        ck_assert_msg(has_sql, "'%s' is CMD_SQL without --sql", c->name);
    }
    for (int i = 0; i < c->nsubs; i++)
        check_table_entry(&c->subs[i]);
}

START_TEST(test_table_complete)
{
    for (int i = 0; i < cli_ncommands; i++)
        check_table_entry(&cli_commands[i]);
    for (const cli_opt *o = cli_global_opts; o->name || o->short_name; o++)
        ck_assert_msg(o->help && o->example && (!o->applies_to || o->why_not),
                      "a global option lacks help or an example");
}
END_TEST

/* Runs cli_main on the words with stderr sent to /dev/null; returns its exit code. */
static int run_main(char *const *words)
{
    char *argv[32];
    int argc = 0;
    argv[argc++] = "rbacmig";
    while (words[argc - 1] && argc < 31) {
        argv[argc] = words[argc - 1];
        argc++;
    }
    argv[argc] = NULL;
    fflush(stderr);
    int saved = dup(STDERR_FILENO), null = open("/dev/null", O_WRONLY);
    ck_assert_int_ge(saved, 0);
    ck_assert_int_ge(null, 0);
    dup2(null, STDERR_FILENO);
    close(null);
    int rc = cli_main(argc, argv);
    fflush(stderr);
    dup2(saved, STDERR_FILENO);
    close(saved);
    return rc;
}

START_TEST(test_main_usage_before_connecting)
{
    /* A database nobody can reach: each of these is exit 2, never a connection error (1). */
    static char *const cases[][8] = {
        {"-d", "postgresql://nobody@127.0.0.1:1/x", "stamp", "--single-transaction", "head", NULL},
        {"-d", "postgresql://nobody@127.0.0.1:1/x", "stamp", "--allow-changed", "head", NULL},
        {"-d", "postgresql://nobody@127.0.0.1:1/x", "check", "-r", "1:2", NULL},
        {"-d", "postgresql://nobody@127.0.0.1:1/x", "check", "-v", "extra", NULL},
        {"-d", "postgresql://nobody@127.0.0.1:1/x", "show", "-r", "x", "head", NULL},
        {"-d", "postgresql://nobody@127.0.0.1:1/x", "upgrade", "--sql=true", "head", NULL},
        {"-d", "postgresql://nobody@127.0.0.1:1/x", "upgrade", NULL},
        {"-d", "postgresql://nobody@127.0.0.1:1/x", "revision", "-m", "a", "-m", "b", NULL},
        {"--database-url=postgresql://nobody@127.0.0.1:1/x", "--lock-timeout=never", "current",
         NULL},
        {"--bogus", "current", NULL},
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++)
        ck_assert_msg(run_main(cases[i]) == RB_ERR_USAGE, "case %zu should be a usage error", i);
}
END_TEST

START_TEST(test_main_globals_both_spellings)
{
    char dir[64], cwd[4096];
    ck_tmpdir(dir);
    ck_assert_ptr_nonnull(getcwd(cwd, sizeof cwd));
    char *conf = ck_write_in(dir, "other.lua", "return { migrations = \"m\" }\n");
    char *m = ck_path(dir, "m");
    ck_assert_int_eq(mkdir(m, 0755), 0);
    ck_assert_int_eq(chdir(dir), 0);
    char *a[] = {"--config=other.lua", "--lock-timeout=5", "--db-lock-timeout=1",
                 "--statement-timeout=2", "stamp", "--sql", "base", NULL};
    char *b[] = {"-cother.lua", "--lock-timeout", "5", "stamp", "--sql", "base", NULL};
    ck_capture cap;
    ck_capture_begin(&cap);
    int rc_a = run_main(a), rc_b = run_main(b);
    free(ck_capture_end(&cap));
    ck_assert_int_eq(chdir(cwd), 0);
    ck_assert_int_eq(rc_a, 0);
    ck_assert_int_eq(rc_b, 0);
    rmdir(m);
    ck_rmdir(dir);
    free(m);
    free(conf);
}
END_TEST

START_TEST(test_main_command_help)
{
    /* `COMMAND --help` is the table's synopsis and its options' help lines. */
    static char *const cases[][4] = {
        {"upgrade", "--help", NULL},
        {"tenant", "create", "-h", NULL},
        {"member", "--help", NULL},
    };
    static const char *const want[][2] = {
        {"usage: rbacmig upgrade [--sql] [--single-transaction] [--allow-changed] TARGET",
         "      --sql                 write the SQL to stdout instead of running it\n"
         "                            e.g. rbacmig upgrade --sql head > up.sql"},
        {"usage: rbacmig tenant create [--name NAME] [--owner USER_ID] SLUG",
         "      --owner USER_ID  a user made its owner"},
        {"usage: rbacmig member add --tenant SLUG --user USER_ID --role ROLE",
         "rbacmig member remove --tenant SLUG --user USER_ID [--role ROLE]"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        ck_capture cap;
        ck_capture_begin(&cap);
        int rc = run_main(cases[i]);
        char *out = ck_capture_end(&cap);
        ck_assert_int_eq(rc, 0);
        for (int j = 0; j < 2; j++)
            ck_assert_msg(strstr(out, want[i][j]) != NULL, "'%s --help' lacks '%s':\n%s",
                          cases[i][0], want[i][j], out);
        free(out);
    }
}
END_TEST

/* Runs cli_main on the words and returns what it printed on stdout (rc in *rc). */
static char *main_output(char *const *words, int *rc)
{
    ck_capture cap;
    ck_capture_begin(&cap);
    *rc = run_main(words);
    return ck_capture_end(&cap);
}

START_TEST(test_main_help_every_option)
{
    /* `help CMD [SUB]` is `CMD [SUB] --help`, and names every option of the table with its
     * help line and its example; -q and -v are taken by every command, after it too. */
    for (int i = 0; i < cli_ncommands; i++) {
        const cli_command *c = &cli_commands[i];
        for (int j = 0; j < (c->subs ? c->nsubs : 1); j++) {
            const cli_command *cmd = c->subs ? &c->subs[j] : c;
            char name[64], subname[64];
            snprintf(name, sizeof name, "%s", c->name);
            snprintf(subname, sizeof subname, "%s", cmd->name);
            char *sub = c->subs ? subname : NULL;
            char *help_words[] = {"help", name, sub, NULL};
            char *flag_words[] = {name, sub ? sub : "-q", sub ? "-q" : "-v", "-v", "--help",
                                  NULL};
            int rc1, rc2;
            char *a = main_output(help_words, &rc1), *b = main_output(flag_words, &rc2);
            ck_assert_msg(rc1 == 0 && rc2 == 0, "help for '%s %s': %d %d", c->name,
                          sub ? sub : "", rc1, rc2);
            ck_assert_str_eq(a, b);
            for (const cli_opt *o = cmd->opts; o->name; o++) {
                char want[512];
                snprintf(want, sizeof want, "--%s", o->name);
                ck_assert_msg(strstr(a, want) && strstr(a, o->help) && strstr(a, o->example),
                              "help for '%s' lacks --%s, its help or its example:\n%s", c->name,
                              o->name, a);
            }
            free(a);
            free(b);
        }
    }
    int rc;
    char *unknown[] = {"help", "nosuch", NULL};
    ck_assert_int_eq(run_main(unknown), RB_ERR_USAGE);
    char *all[] = {"help", NULL}, *dashes[] = {"--help", NULL};
    char *a = main_output(all, &rc), *b = main_output(dashes, &rc);
    ck_assert_str_eq(a, b);
    ck_assert_ptr_null(strstr(a, "__complete")); /* plumbing stays hidden */
    free(a);
    free(b);
}
END_TEST

START_TEST(test_main_output_not_written)
{
    /* stdout on a full device: the run fails (exit 1), whatever the command. */
    fflush(stdout);
    int saved = dup(STDOUT_FILENO), full = open("/dev/full", O_WRONLY);
    if (full < 0) {
        close(saved);
        return; /* no /dev/full here */
    }
    dup2(full, STDOUT_FILENO);
    close(full);
    char *version[] = {"--version", NULL};
    char *help[] = {"upgrade", "--help", NULL};
    int rc_version = run_main(version), rc_help = run_main(help);
    clearerr(stdout);
    dup2(saved, STDOUT_FILENO);
    close(saved);
    ck_assert_int_eq(rc_version, RB_ERR_FAILURE);
    ck_assert_int_eq(rc_help, RB_ERR_FAILURE);
    char *ok[] = {"--version", NULL};
    ck_capture cap;
    ck_capture_begin(&cap);
    int rc_ok = run_main(ok);
    char *out = ck_capture_end(&cap);
    ck_assert_int_eq(rc_ok, 0);
    ck_assert_ptr_nonnull(strstr(out, "rbacmig "));
    free(out);
}
END_TEST

Suite *make_cli_suite(void)
{
    Suite *s = suite_create("cli");
    TCase *tc = tcase_create("parse");
    tcase_add_test(tc, test_parse_both_spellings);
    tcase_add_test(tc, test_parse_values_as_given);
    tcase_add_test(tc, test_parse_positionals);
    tcase_add_test(tc, test_parse_errors);
    tcase_add_test(tc, test_parse_help);
    suite_add_tcase(s, tc);

    tc = tcase_create("table");
    tcase_add_loop_test(tc, test_line_cases, 0, (int)(sizeof line_cases / sizeof *line_cases));
    tcase_add_test(tc, test_line_values);
    tcase_add_loop_test(tc, test_command_flags, 0, (int)(sizeof flag_cases / sizeof *flag_cases));
    tcase_add_test(tc, test_table_complete);
    suite_add_tcase(s, tc);

    tc = tcase_create("main");
    tcase_add_test(tc, test_main_command_help);
    tcase_add_test(tc, test_main_help_every_option);
    tcase_add_test(tc, test_main_usage_before_connecting);
    tcase_add_test(tc, test_main_globals_both_spellings);
    tcase_add_test(tc, test_main_output_not_written);
    suite_add_tcase(s, tc);
    return s;
}
