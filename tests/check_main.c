/* check_main.c: the one runner of the Check unit suites (one suite per module, each from
 * tests/check_<module>.c). Exit status 0 only when every test passed. */
#include <stdlib.h>

#include "check_rbacmig.h"

int main(void)
{
    SRunner *sr = srunner_create(make_sha256_suite());
    srunner_add_suite(sr, make_config_suite());
    srunner_add_suite(sr, make_graph_suite());
    srunner_add_suite(sr, make_driver_sqlite_suite());
    srunner_add_suite(sr, make_lua_host_suite());
    srunner_add_suite(sr, make_revcache_suite());
    srunner_add_suite(sr, make_cli_suite());
    srunner_add_suite(sr, make_output_suite());
    srunner_add_suite(sr, make_runner_suite());
    srunner_add_suite(sr, make_offline_suite());
    srunner_add_suite(sr, make_error_suite());
    srunner_add_suite(sr, make_hashmap_suite());
    srunner_add_suite(sr, make_str_list_suite());
    srunner_add_suite(sr, make_sql_lex_suite());
    srunner_add_suite(sr, make_json_out_suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
