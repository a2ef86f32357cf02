/* json_out.c: Lua value -> jansson value -> text (see json_out.h). jansson does the
 * escaping, the number formats and the key order; this file only walks the Lua value. */
#include <jansson.h>
#include <lauxlib.h>
#include <lua.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "json_out.h"

/* Deeper than any model: a table that contains itself would otherwise recurse forever. */
#define MAX_DEPTH 64

static json_t *convert(lua_State *L, int idx, int depth, rb_error *err);

/* Whether the table at idx is to be a JSON array: marked so, or a non-empty sequence. */
static int is_array(lua_State *L, int idx)
{
    if (luaL_getmetafield(L, idx, "__json") != LUA_TNIL) {
        int marked = lua_type(L, -1) == LUA_TSTRING && strcmp(lua_tostring(L, -1), "array") == 0;
        lua_pop(L, 1);
        if (marked)
            return 1;
    }
    lua_Integer n = (lua_Integer)lua_rawlen(L, idx);
    if (n == 0)
        return 0;
    lua_Integer count = 0;
    lua_pushnil(L);
    while (lua_next(L, idx) != 0) {
        lua_pop(L, 1);
        if (!lua_isinteger(L, -1)) {
            lua_pop(L, 1);
            return 0;
        }
        count++;
    }
    return count == n;
}

static json_t *convert_array(lua_State *L, int idx, int depth, rb_error *err)
{
    json_t *arr = json_array();
    if (!arr) {
        rb_errorf(err, RB_ERR_FAILURE, "out of memory");
        return NULL;
    }
    lua_Integer n = (lua_Integer)lua_rawlen(L, idx);
    for (lua_Integer i = 1; i <= n; i++) {
        lua_rawgeti(L, idx, i);
        json_t *item = convert(L, lua_gettop(L), depth + 1, err);
        lua_pop(L, 1);
        if (!item || json_array_append_new(arr, item) != 0) {
            if (item)
                rb_errorf(err, RB_ERR_FAILURE, "out of memory");
            json_decref(arr);
            return NULL;
        }
    }
    return arr;
}

static json_t *convert_object(lua_State *L, int idx, int depth, rb_error *err)
{
    json_t *obj = json_object();
    if (!obj) {
        rb_errorf(err, RB_ERR_FAILURE, "out of memory");
        return NULL;
    }
    lua_pushnil(L);
    while (lua_next(L, idx) != 0) {               /* ... key value */
        int kt = lua_type(L, -2);
        if (kt != LUA_TSTRING && kt != LUA_TNUMBER) {
            lua_pop(L, 2);
            json_decref(obj);
            rb_errorf(err, RB_ERR_FAILURE, "json: a table key is a %s, not a string",
                      lua_typename(L, kt));
            return NULL;
        }
        /* A copy of the key: lua_tostring on the key itself would confuse lua_next. */
        lua_pushvalue(L, -2);                      /* ... key value keycopy */
        const char *key = lua_tostring(L, -1);
        json_t *value = convert(L, lua_gettop(L) - 1, depth + 1, err);
        int failed = !value;
        if (value && json_object_set_new(obj, key, value) != 0) {
            /* set_new took value and freed it */
            rb_errorf(err, RB_ERR_FAILURE, "json: key '%.40s' is not valid UTF-8", key);
            failed = 1;
        }
        lua_pop(L, 2);                             /* ... key */
        if (failed) {
            lua_pop(L, 1);
            json_decref(obj);
            return NULL;
        }
    }
    return obj;
}

static json_t *convert(lua_State *L, int idx, int depth, rb_error *err)
{
    if (depth > MAX_DEPTH) {
        rb_errorf(err, RB_ERR_FAILURE, "json: value nested deeper than %d levels", MAX_DEPTH);
        return NULL;
    }
    /* Each level pushes at most a key, a value and a copy of the key, plus a metafield. */
    if (!lua_checkstack(L, 4)) {
        rb_errorf(err, RB_ERR_FAILURE, "out of memory");
        return NULL;
    }
    json_t *v = NULL;
    switch (lua_type(L, idx)) {
    case LUA_TNIL: v = json_null(); break;
    case LUA_TBOOLEAN: v = json_boolean(lua_toboolean(L, idx)); break;
    case LUA_TNUMBER:
        if (lua_isinteger(L, idx)) {
            v = json_integer((json_int_t)lua_tointeger(L, idx));
        } else {
            double d = (double)lua_tonumber(L, idx);
            if (!isfinite(d)) {
                rb_errorf(err, RB_ERR_FAILURE, "json: a number is not finite");
                return NULL;
            }
            v = json_real(d);
        }
        break;
    case LUA_TSTRING: {
        size_t len;
        const char *s = lua_tolstring(L, idx, &len);
        v = json_stringn(s, len);
        if (!v) {
            rb_errorf(err, RB_ERR_FAILURE, "json: a value is not valid UTF-8: '%.40s'", s);
            return NULL;
        }
        break;
    }
    case LUA_TTABLE:
        return is_array(L, idx) ? convert_array(L, idx, depth, err)
                                : convert_object(L, idx, depth, err);
    default:
        rb_errorf(err, RB_ERR_FAILURE, "json: cannot encode a %s", luaL_typename(L, idx));
        return NULL;
    }
    if (!v)
        rb_errorf(err, RB_ERR_FAILURE, "out of memory");
    return v;
}

int json_out_encode(lua_State *L, int idx, char **out, rb_error *err)
{
    *out = NULL;
    idx = lua_absindex(L, idx);
    json_t *root = convert(L, idx, 0, err);
    if (!root)
        return -1;
    char *text = json_dumps(root, JSON_INDENT(2) | JSON_SORT_KEYS | JSON_ENCODE_ANY |
                                      JSON_REAL_PRECISION(17));
    json_decref(root);
    if (!text)
        return rb_errorf(err, RB_ERR_FAILURE, "out of memory");
    size_t len = strlen(text);
    char *line = realloc(text, len + 2);
    if (!line) {
        free(text);
        return rb_errorf(err, RB_ERR_FAILURE, "out of memory");
    }
    line[len] = '\n';
    line[len + 1] = '\0';
    *out = line;
    return 0;
}
