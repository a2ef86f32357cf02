/* check_hashmap.c: the string-keyed index (src/hashmap.c). */
#include "check_rbacmig.h"
#include "hashmap.h"

/* The published FNV-1a 64 values, so the hash is the one its name says; a hash continued
 * over two pieces is the hash of the whole. */
static const struct {
    const char *in;
    uint64_t want;
} fnv_cases[] = {
    {"", 0xcbf29ce484222325ULL},
    {"a", 0xaf63dc4c8601ec8cULL},
    {"foobar", 0x85944171f73967e8ULL},
};

START_TEST(test_fnv1a_known_values)
{
    const char *in = fnv_cases[_i].in;
    size_t n = strlen(in);
    ck_assert_uint_eq(hashmap_fnv1a(HASHMAP_FNV1A_INIT, in, n), fnv_cases[_i].want);
    uint64_t half = hashmap_fnv1a(HASHMAP_FNV1A_INIT, in, n / 2);
    ck_assert_uint_eq(hashmap_fnv1a(half, in + n / 2, n - n / 2), fnv_cases[_i].want);
}
END_TEST

/* Enough keys to grow the table several times: each is found with its own value, a key
 * never put is not, and a second put keeps the first value. */
START_TEST(test_put_get_grow)
{
    hashmap m;
    hashmap_init(&m);
    ck_assert_int_eq(hashmap_get(&m, "missing"), -1);
    enum { N = 1000 };
    static char keys[N][16];
    for (int i = 0; i < N; i++) {
        snprintf(keys[i], sizeof keys[i], "rev%04x", i * 7919);
        ck_assert_int_eq(hashmap_put(&m, keys[i], i), 0);
    }
    ck_assert_int_eq(m.count, N);
    ck_assert_int_le(m.count * 2, m.nslots);
    for (int i = 0; i < N; i++)
        ck_assert_int_eq(hashmap_get(&m, keys[i]), i);
    ck_assert_int_eq(hashmap_put(&m, keys[5], 99), 1);
    ck_assert_int_eq(hashmap_get(&m, keys[5]), 5);
    ck_assert_int_eq(hashmap_get(&m, "rev"), -1);
    ck_assert_int_eq(hashmap_get(&m, ""), -1);
    hashmap_release(&m);
    ck_assert_int_eq(m.nslots, 0);
    ck_assert_int_eq(hashmap_get(&m, keys[0]), -1);
}
END_TEST

/* Keys are compared by content, not pointer: a copy of a key finds it. */
START_TEST(test_keys_compared_by_content)
{
    hashmap m;
    hashmap_init(&m);
    char a[] = "91759229c32b", b[] = "91759229c32b";
    ck_assert_int_eq(hashmap_reserve(&m, 4), 0);
    ck_assert_int_eq(hashmap_put(&m, a, 3), 0);
    ck_assert_int_eq(hashmap_get(&m, b), 3);
    ck_assert_int_eq(hashmap_put(&m, b, 4), 1);
    hashmap_release(&m);
}
END_TEST

Suite *make_hashmap_suite(void)
{
    Suite *s = suite_create("hashmap");
    TCase *tc = tcase_create("core");
    tcase_add_loop_test(tc, test_fnv1a_known_values, 0,
                        (int)(sizeof fnv_cases / sizeof fnv_cases[0]));
    tcase_add_test(tc, test_put_get_grow);
    tcase_add_test(tc, test_keys_compared_by_content);
    suite_add_tcase(s, tc);
    return s;
}
