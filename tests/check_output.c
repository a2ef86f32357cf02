/* check_output.c: the masking rule of output.c (README, "Configuration"): credentials (the URL
 * as given, ":password@", "password=...") are masked everywhere, the --sql script included;
 * a bare password only in diagnostics and only where it stands as a whole token. */
#include "check_rbacmig.h"
#include "config.h"
#include "output.h"

/* out_sql(text) as it reaches stdout (malloc'd). */
static char *sql_out(const char *text)
{
    ck_capture cap;
    ck_capture_begin(&cap);
    out_sql(text);
    return ck_capture_end(&cap);
}

/* out_mask on a copy of text (malloc'd). */
static char *diag(const char *text)
{
    char *copy = strdup(text);
    ck_assert_ptr_nonnull(copy);
    out_mask(copy);
    return copy;
}

static const char script[] =
    "CREATE EXTENSION IF NOT EXISTS postgres_fdw;\n"
    "CREATE TABLE posts (id integer, created_at timestamptz, status text DEFAULT 'at');\n"
    "GRANT SELECT ON posts TO postgres;\n";

/* Supabase's local default URL and a password "at": the script holds no secret and comes
 * out byte for byte (it came out as "****_fdw", "TO ****" and "cre**ed_**"). */
START_TEST(test_sql_script_not_masked_by_substring)
{
    out_forget_secrets();
    config_register_url_secrets("postgresql://postgres:postgres@127.0.0.1:54322/postgres");
    config_register_url_secrets("postgresql://app:at@127.0.0.1:54322/postgres");
    /* Strings without a password are no credentials (fuzz_dotenv found "po"). */
    config_register_url_secrets("po");
    config_register_url_secrets("dbname=postgres");
    char *out = sql_out(script);
    out_forget_secrets();
    ck_assert_str_eq(out, script);
    free(out);
}
END_TEST

START_TEST(test_sql_script_masks_credentials)
{
    out_forget_secrets();
    config_register_url_secrets("postgresql://app:at@127.0.0.1:54322/postgres");
    config_register_url_secrets("host=h password=s3cr3t-pw dbname=d");
    char *out = sql_out("-- postgresql://app:at@127.0.0.1:54322/postgres\n"
                        "-- user app:at@host\n-- password=s3cr3t-pw\n-- s3cr3t-pw alone\n");
    out_forget_secrets();
    ck_assert_str_eq(out, "-- postgresql://app:****@127.0.0.1:54322/postgres\n"
                          "-- user app:****@host\n-- password=****\n-- s3cr3t-pw alone\n");
    free(out);
}
END_TEST

START_TEST(test_diagnostics_mask_whole_tokens)
{
    out_forget_secrets();
    config_register_url_secrets("postgresql://postgres:postgres@127.0.0.1:54322/postgres");
    char *m = diag("role \"postgres\" cannot use postgres_fdw or mypostgres; postgres.");
    ck_assert_str_eq(m, "role \"****\" cannot use postgres_fdw or mypostgres; ****.");
    free(m);
    /* The masked URL is shown as it is: the user name is not the password there. */
    m = diag("database: postgresql://postgres:****@127.0.0.1:54322/postgres");
    ck_assert_str_eq(m, "database: postgresql://postgres:****@127.0.0.1:54322/postgres");
    free(m);
    out_forget_secrets();

    config_register_url_secrets("postgresql://app:at@h/d");
    m = diag("created_at at the 'at' status");
    ck_assert_str_eq(m, "created_at ** the '**' status");
    free(m);
    /* A password beginning or ending with punctuation needs no boundary on that side. */
    out_forget_secrets();
    config_register_url_secrets("postgresql://app:%2Fsl4sh%2F@h/d");
    m = diag("x/sl4sh/y");
    ck_assert_str_eq(m, "x****y");
    free(m);
    out_forget_secrets();
}
END_TEST

/* A migration printing the URL sees its masked form, longer than a 2-byte password. */
START_TEST(test_masked_url_may_grow)
{
    out_forget_secrets();
    config_register_url_secrets("postgresql://app:at@h:5432/d");
    char *m = out_masked("url is postgresql://app:at@h:5432/d.");
    ck_assert_str_eq(m, "url is postgresql://app:****@h:5432/d.");
    free(m);
    /* In place there is no room: the whole URL becomes "****". */
    m = diag("url is postgresql://app:at@h:5432/d.");
    ck_assert_str_eq(m, "url is ****.");
    free(m);
    out_forget_secrets();
}
END_TEST

/* Every registered URL stays masked however many there are (there were 8 slots). */
START_TEST(test_many_secrets)
{
    out_forget_secrets();
    char url[128], text[128];
    for (int i = 0; i < 40; i++) {
        snprintf(url, sizeof url, "postgresql://u:longpassword%02d@h/d", i);
        config_register_url_secrets(url);
    }
    for (int i = 0; i < 40; i++) {
        snprintf(text, sizeof text, "bad password longpassword%02d", i);
        char *m = diag(text);
        ck_assert_msg(strcmp(m, "bad password ****") == 0, "not masked: %s", m);
        free(m);
    }
    out_forget_secrets();
}
END_TEST

Suite *make_output_suite(void)
{
    Suite *s = suite_create("output");
    TCase *tc = tcase_create("masking");
    tcase_add_test(tc, test_sql_script_not_masked_by_substring);
    tcase_add_test(tc, test_sql_script_masks_credentials);
    tcase_add_test(tc, test_diagnostics_mask_whole_tokens);
    tcase_add_test(tc, test_masked_url_may_grow);
    tcase_add_test(tc, test_many_secrets);
    suite_add_tcase(s, tc);
    return s;
}
