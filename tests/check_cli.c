/* check_cli.c: the command line. The option parser (both spellings, values kept whole and
 * as given, flags that refuse values), and cli_main itself: usage errors found before any
 * file is read or database opened, global options in both spellings, and output that could
 * not be written. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check_rbacmig.h"
#include "cli.h"

enum { O_MESSAGE, O_SQL, O_DEPENDS };
static const cli_opt opts[] = {
    {"message", 'm', true, false, NULL},
    {"sql", 0, false, false, NULL},
    {"depends-on", 0, true, true, NULL},
    {NULL, 0, false, false, NULL},
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
                                       "unknown option '-q'"};
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        cli_args a;
        rb_error err;
        ck_assert_int_eq(parse(&a, &err, bad[i]), -1);
        ck_assert_int_eq(err.kind, RB_EXIT_USAGE);
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
        {"-d", "postgresql://nobody@127.0.0.1:1/x", "check", "-v", NULL},
        {"-d", "postgresql://nobody@127.0.0.1:1/x", "show", "-r", "x", "head", NULL},
        {"-d", "postgresql://nobody@127.0.0.1:1/x", "upgrade", "--sql=true", "head", NULL},
        {"-d", "postgresql://nobody@127.0.0.1:1/x", "upgrade", NULL},
        {"-d", "postgresql://nobody@127.0.0.1:1/x", "revision", "-m", "a", "-m", "b", NULL},
        {"--database-url=postgresql://nobody@127.0.0.1:1/x", "--lock-timeout=never", "current",
         NULL},
        {"--bogus", "current", NULL},
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++)
        ck_assert_msg(run_main(cases[i]) == RB_EXIT_USAGE, "case %zu should be a usage error", i);
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
                 "--statement-timeout=2", "heads", NULL};
    char *b[] = {"-cother.lua", "--lock-timeout", "5", "heads", NULL};
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
    ck_assert_int_eq(rc_version, RB_EXIT_FAILURE);
    ck_assert_int_eq(rc_help, RB_EXIT_FAILURE);
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

    tc = tcase_create("main");
    tcase_add_test(tc, test_main_usage_before_connecting);
    tcase_add_test(tc, test_main_globals_both_spellings);
    tcase_add_test(tc, test_main_output_not_written);
    suite_add_tcase(s, tc);
    return s;
}
