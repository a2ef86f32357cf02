/* check_json_out.c: Lua values as JSON (src/json_out.c): sorted keys whatever the insertion
 * order, arrays and objects told apart (an empty list marked __json = "array"), scalars as
 * jansson prints them, and errors for what JSON cannot carry. */
#include <lauxlib.h>
#include <lua.h>
#include <lualib.h>

#include "check_rbacmig.h"
#include "json_out.h"

/* The JSON of the value the Lua expression `expr` evaluates to; NULL (and err filled) when
 * it cannot be encoded. The caller frees the text. */
static char *encode(const char *expr, rb_error *err)
{
    lua_State *L = luaL_newstate();
    ck_assert_ptr_nonnull(L);
    luaL_openlibs(L);
    char chunk[1024];
    snprintf(chunk, sizeof chunk, "return %s", expr);
    ck_assert_msg(luaL_dostring(L, chunk) == LUA_OK, "lua: %s", lua_tostring(L, -1));
    char *out = NULL;
    rb_error_init(err);
    if (json_out_encode(L, -1, &out, err) != 0)
        out = NULL;
    ck_assert_int_eq(lua_gettop(L), 1); /* the value is left in place, the stack balanced */
    lua_close(L);
    return out;
}

static void assert_json(const char *expr, const char *want)
{
    rb_error err;
    char *got = encode(expr, &err);
    ck_assert_msg(got != NULL, "%s: %s", expr, err.message);
    ck_assert_str_eq(got, want);
    free(got);
}

START_TEST(test_sorted_keys)
{
    assert_json("{ c = 'text', a = 1, b = { y = nil, x = true } }",
                "{\n  \"a\": 1,\n  \"b\": {\n    \"x\": true\n  },\n  \"c\": \"text\"\n}\n");
    /* The same table filled in another order prints the same bytes. */
    assert_json("(function() local t = {} t.c = 'text' t.b = { x = true } t.a = 1 return t end)()",
                "{\n  \"a\": 1,\n  \"b\": {\n    \"x\": true\n  },\n  \"c\": \"text\"\n}\n");
}
END_TEST

START_TEST(test_arrays)
{
    assert_json("{ 'b', 'a', 3 }", "[\n  \"b\",\n  \"a\",\n  3\n]\n");
    assert_json("{}", "{}\n");
    assert_json("setmetatable({}, { __json = 'array' })", "[]\n");
    /* A sequence with a hole, or with other keys, is an object keyed by text. */
    assert_json("{ [1] = 'a', [3] = 'c' }", "{\n  \"1\": \"a\",\n  \"3\": \"c\"\n}\n");
    assert_json("{ 'a', n = 1 }", "{\n  \"1\": \"a\",\n  \"n\": 1\n}\n");
}
END_TEST

START_TEST(test_scalars)
{
    assert_json("'a \"quoted\"\\nline \\1'", "\"a \\\"quoted\\\"\\nline \\u0001\"\n");
    assert_json("-42", "-42\n");
    assert_json("0.5", "0.5\n");
    assert_json("false", "false\n");
    assert_json("'caf\\u{e9}'", "\"caf\xc3\xa9\"\n");
}
END_TEST

START_TEST(test_errors)
{
    rb_error err;
    ck_assert_ptr_null(encode("'\\xff'", &err));
    ck_assert_msg(strstr(err.message, "not valid UTF-8") != NULL, "%s", err.message);
    ck_assert_ptr_null(encode("{ f = print }", &err));
    ck_assert_msg(strstr(err.message, "cannot encode a function") != NULL, "%s", err.message);
    ck_assert_ptr_null(encode("0/0", &err));
    ck_assert_msg(strstr(err.message, "not finite") != NULL, "%s", err.message);
    ck_assert_ptr_null(encode("(function() local t = {} t.self = t return t end)()", &err));
    ck_assert_msg(strstr(err.message, "nested deeper") != NULL, "%s", err.message);
    ck_assert_ptr_null(encode("{ [true] = 1 }", &err));
    ck_assert_msg(strstr(err.message, "a table key is a boolean") != NULL, "%s", err.message);
}
END_TEST

Suite *make_json_out_suite(void)
{
    Suite *s = suite_create("json_out");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, test_sorted_keys);
    tcase_add_test(tc, test_arrays);
    tcase_add_test(tc, test_scalars);
    tcase_add_test(tc, test_errors);
    suite_add_tcase(s, tc);
    return s;
}
