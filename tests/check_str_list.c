/* check_str_list.c: lists of strings (src/str_list.c): joining and the set difference the
 * version table is written from. */
#include "check_rbacmig.h"
#include "str_list.h"

/* "a,b" -> a list; "" -> empty. */
static str_list list_of(const char *csv)
{
    str_list l = {0};
    char *copy = strdup(csv), *save = NULL;
    ck_assert_ptr_nonnull(copy);
    for (char *t = strtok_r(copy, ",", &save); t; t = strtok_r(NULL, ",", &save))
        ck_assert_int_eq(str_list_push(&l, t), 0);
    free(copy);
    return l;
}

static const struct {
    const char *items, *sep, *want;
} join_cases[] = {
    {"", ", ", ""},
    {"a", ", ", "a"},
    {"a,b,c", ", ", "a, b, c"},
    {"91759229c32b,ae1027a6acf", " | ", "91759229c32b | ae1027a6acf"},
};

START_TEST(test_join)
{
    str_list l = list_of(join_cases[_i].items);
    char *got = str_list_join(&l, join_cases[_i].sep);
    ck_assert_str_eq(got, join_cases[_i].want);
    free(got);
    str_list_release(&l);
}
END_TEST

/* Version rows before and after a step, and what the table must lose and gain. */
static const struct {
    const char *before, *after, *removed, *added;
} diff_cases[] = {
    {"", "a", "", "a"},            /* first upgrade */
    {"a", "b", "a", "b"},          /* linear step: one UPDATE */
    {"a", "", "a", ""},            /* down to base */
    {"a,b", "c", "a,b", "c"},      /* a merge */
    {"c", "a,b", "c", "a,b"},      /* the merge undone */
    {"a,b", "b,a", "", ""},        /* same rows in another order */
    {"a,b", "a,c", "b", "c"},      /* one of two heads moves */
};

START_TEST(test_diff)
{
    str_list before = list_of(diff_cases[_i].before), after = list_of(diff_cases[_i].after);
    str_list removed = {0}, added = {0};
    ck_assert_int_eq(str_list_diff(&before, &after, &removed, &added), 0);
    char *r = str_list_join(&removed, ","), *a = str_list_join(&added, ",");
    ck_assert_str_eq(r, diff_cases[_i].removed);
    ck_assert_str_eq(a, diff_cases[_i].added);
    free(r);
    free(a);
    str_list_release(&before);
    str_list_release(&after);
    str_list_release(&removed);
    str_list_release(&added);
}
END_TEST

START_TEST(test_push_contains_append)
{
    str_list a = list_of("x,y"), b = {0};
    ck_assert(str_list_contains(&a, "y"));
    ck_assert(!str_list_contains(&a, "z"));
    ck_assert(!str_list_contains(&b, "x"));
    ck_assert_int_eq(str_list_append(&b, &a), 0);
    ck_assert_int_eq(b.count, 2);
    ck_assert_ptr_ne(a.items[0], b.items[0]); /* copies */
    ck_assert_str_eq(b.items[1], "y");
    str_list_release(&a);
    str_list_release(&b);
    ck_assert_int_eq(b.count, 0);
    ck_assert_ptr_null(b.items);
}
END_TEST

/* The array doubles at powers of two with no capacity field: growing past several of
 * them, popping back below one (as versions.c pops rows) and growing again must keep every
 * item (valgrind and ASan watch the writes). */
START_TEST(test_grow_pop_grow)
{
    str_list l = {0};
    char item[16];
    for (int i = 0; i < 100; i++) {
        snprintf(item, sizeof item, "r%d", i);
        ck_assert_int_eq(str_list_push(&l, item), 0);
    }
    while (l.count > 3)
        free(l.items[--l.count]);
    for (int i = 3; i < 70; i++) {
        snprintf(item, sizeof item, "r%d", i);
        ck_assert_int_eq(str_list_push(&l, item), 0);
    }
    ck_assert_int_eq(l.count, 70);
    for (int i = 0; i < 70; i++) {
        snprintf(item, sizeof item, "r%d", i);
        ck_assert_str_eq(l.items[i], item);
    }
    str_list_release(&l);
}
END_TEST

Suite *make_str_list_suite(void)
{
    Suite *s = suite_create("str_list");
    TCase *tc = tcase_create("core");
    tcase_add_loop_test(tc, test_join, 0, (int)(sizeof join_cases / sizeof join_cases[0]));
    tcase_add_loop_test(tc, test_diff, 0, (int)(sizeof diff_cases / sizeof diff_cases[0]));
    tcase_add_test(tc, test_push_contains_append);
    tcase_add_test(tc, test_grow_pop_grow);
    suite_add_tcase(s, tc);
    return s;
}
