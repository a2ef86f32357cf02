/* check_error.c: the error value (error.c): each kind's exit status, the one mapping the
 * command layer uses (README, "Exit codes": these numbers are part of the interface), and
 * what filling and prefixing an error keeps. */
#include <signal.h>
#include <string.h>

#include "check_rbacmig.h"
#include "error.h"

static const struct {
    rb_error_kind kind;
    int signo;
    int exit_code;
} exit_cases[] = {
    {RB_ERR_NONE, 0, 0},
    {RB_ERR_FAILURE, 0, 1},
    {RB_ERR_USAGE, 0, 2},
    {RB_ERR_DENIED, 0, 3},
    /* The kinds control flow acts on are failures to whoever runs the command. */
    {RB_ERR_NOT_FOUND, 0, 1},
    {RB_ERR_LOCK_TIMEOUT, 0, 1},
    {RB_ERR_NEEDS_FK_OFF, 0, 1},
    {RB_ERR_INTERRUPTED, SIGINT, 130},
    {RB_ERR_INTERRUPTED, SIGTERM, 143},
};

START_TEST(test_exit_codes)
{
    rb_error err;
    rb_error_init(&err);
    if (exit_cases[_i].kind == RB_ERR_INTERRUPTED)
        rb_error_interrupted(&err, exit_cases[_i].signo, "interrupted");
    else if (exit_cases[_i].kind != RB_ERR_NONE)
        rb_errorf(&err, exit_cases[_i].kind, "failed");
    ck_assert_int_eq(err.kind, exit_cases[_i].kind);
    ck_assert_int_eq(rb_error_exit_code(&err), exit_cases[_i].exit_code);
}
END_TEST

START_TEST(test_prefix_keeps_the_kind)
{
    rb_error err;
    rb_error_init(&err);
    ck_assert_int_eq(rb_errorf(&err, RB_ERR_LOCK_TIMEOUT, "timed out after %d ms", 50), -1);
    rb_strlcpy(err.hint, "retry", sizeof err.hint);
    ck_assert_int_eq(rb_error_prefix(&err, "upgrade %s failed", "abc"), -1);
    ck_assert_int_eq(err.kind, RB_ERR_LOCK_TIMEOUT);
    ck_assert_str_eq(err.message, "upgrade abc failed: timed out after 50 ms");
    ck_assert_str_eq(err.hint, "retry");
    /* An error with no kind yet becomes a failure when prefixed: never exit 0. */
    rb_error_init(&err);
    rb_error_prefix(&err, "reading '%s'", "x");
    ck_assert_int_eq(err.kind, RB_ERR_FAILURE);
    ck_assert_int_eq(rb_error_exit_code(&err), 1);
    /* Filling an error again starts it afresh: no signal or field of the last one stays. */
    rb_error_interrupted(&err, SIGTERM, "interrupted");
    rb_errorf(&err, RB_ERR_USAGE, "bad");
    ck_assert_int_eq(err.signo, 0);
    ck_assert_int_eq(rb_error_exit_code(&err), 2);
}
END_TEST

Suite *make_error_suite(void)
{
    Suite *s = suite_create("error");
    TCase *tc = tcase_create("core");
    tcase_add_loop_test(tc, test_exit_codes, 0, (int)(sizeof exit_cases / sizeof *exit_cases));
    tcase_add_test(tc, test_prefix_keeps_the_kind);
    suite_add_tcase(s, tc);
    return s;
}
