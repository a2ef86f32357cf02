/* lua_fields.c: the fields of the tables that Lua files return, as data, and the one checker
 * that walks them.
 *
 * A migration returns {revision, down_revision, ..., upgrade, downgrade}; rbacmig.lua returns
 * {database_url, migrations, ...}. Each shape is a spec table below: a field's name, its
 * kind, whether it must be there, where its value goes in the C struct and any further rule
 * on its strings. read_fields checks the table against its spec (unknown fields first, then
 * each field in spec order) and fills the struct; every message names the file and the
 * field. Tables are read raw: they are read outside a protected call, where an __index or
 * __len that raises (or never returns) would abort rbacmig. Depends on lua_internal.h. */
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "graph.h"
#include "lua_internal.h"

typedef enum field_kind {
    FIELD_STRING,   /* a string, copied into a char * (freeing what was there) */
    FIELD_BOOLEAN,  /* true or false, into a bool */
    FIELD_FUNCTION, /* a function, left in the table: nothing is copied */
    FIELD_SECONDS,  /* a number of seconds from 0 to a week, into an int of milliseconds */
    FIELD_LIST,     /* a string or a list of strings, into a str_list, no string twice */
} field_kind;

typedef int field_rule(const char *path, const char *field, const char *value, rb_error *err);

typedef struct field_spec {
    const char *name;
    field_kind kind;
    bool required;
    size_t offset;         /* of the C field it fills in the target struct */
    field_rule *rule;      /* checked on each string value, or NULL */
    const char *expected;  /* what a message says the field should be */
} field_spec;

typedef struct table_spec {
    const char *unknown;   /* "unknown field 'x' in the migration table": "field", ... */
    const char *where;     /* ... " in the migration table" */
    const field_spec *fields;
    size_t count;
} table_spec;

/* ---- rules --------------------------------------------------------------------------- */

static int rule_revision_id(const char *path, const char *field, const char *value,
                            rb_error *err)
{
    size_t n = strlen(value);
    if (n > 0 && n <= 40 && strspn(value, "abcdefghijklmnopqrstuvwxyz0123456789_") == n)
        return 0;
    return rb_errorf(err, RB_ERR_FAILURE, "%s: %s '%s' is not a revision id (1 to 40 "
                     "lowercase letters, digits or '_')", path, field, value);
}

/* A name rbacmig gives PostgreSQL: it would cut one longer than 63 bytes without a word and
 * then find, or make, another table than the one named. */
static int rule_pg_name(const char *path, const char *field, const char *value, rb_error *err)
{
    enum { PG_NAME_MAX = 63 };
    if (!value[0])
        return rb_errorf(err, RB_ERR_FAILURE, "%s: '%s' is empty", path, field);
    if (strlen(value) > PG_NAME_MAX)
        return rb_errorf(err, RB_ERR_FAILURE, "%s: '%s' is longer than %d bytes, the longest "
                         "name PostgreSQL keeps", path, field, PG_NAME_MAX);
    return 0;
}

/* What `rbacmig test` can run on (src/cmd_test.c). */
static int rule_test_dialect(const char *path, const char *field, const char *value,
                             rb_error *err)
{
    if (strcmp(value, "postgresql") == 0 || strcmp(value, "sqlite") == 0 ||
        strcmp(value, "both") == 0)
        return 0;
    return rb_errorf(err, RB_ERR_FAILURE, "%s: %s names '%s': expected \"postgresql\", "
                     "\"sqlite\" or \"both\"", path, field, value);
}

/* ---- the specs ----------------------------------------------------------------------- */

#define REV(f) offsetof(revision, f)
static const field_spec migration_fields[] = {
    {"revision", FIELD_STRING, true, REV(id), rule_revision_id,
     "a string such as \"91759229c32b\""},
    {"upgrade", FIELD_FUNCTION, true, 0, NULL, "a function(db)"},
    {"downgrade", FIELD_FUNCTION, true, 0, NULL, "a function(db)"},
    {"message", FIELD_STRING, false, REV(message), NULL, "a string"},
    {"transactional", FIELD_BOOLEAN, false, REV(transactional), NULL, "true or false"},
    {"down_revision", FIELD_LIST, false, REV(down), rule_revision_id,
     "a string or a list of strings"},
    {"branch_labels", FIELD_LIST, false, REV(branch_labels), NULL,
     "a string or a list of strings"},
    {"depends_on", FIELD_LIST, false, REV(depends_on), rule_revision_id,
     "a string or a list of strings"},
};
static const table_spec migration_spec = {"field", " in the migration table", migration_fields,
                                          sizeof migration_fields / sizeof *migration_fields};

#define CFG(f) offsetof(config, f)
static const field_spec config_fields[] = {
    {"database_url", FIELD_STRING, false, CFG(file_url), NULL, "a string"},
    {"migrations", FIELD_STRING, false, CFG(migrations_dir), NULL, "a string"},
    {"rbac", FIELD_STRING, false, CFG(rbac_dir), NULL, "a string"},
    {"lua", FIELD_STRING, false, CFG(lua_dir), NULL, "a string"},
    {"schema_dir", FIELD_STRING, false, CFG(schema_dir), NULL, "a string"},
    {"version_table", FIELD_STRING, false, CFG(version_table), rule_pg_name, "a string"},
    {"history_table", FIELD_STRING, false, CFG(history_table), rule_pg_name, "a string"},
    {"schema", FIELD_STRING, false, CFG(schema), rule_pg_name, "a string"},
    {"lock_timeout", FIELD_SECONDS, false, CFG(lock_timeout_ms), NULL, "a number of seconds"},
    {"statement_timeout", FIELD_SECONDS, false, CFG(statement_timeout_ms), NULL,
     "a number of seconds"},
    {"managed_schemas", FIELD_LIST, false, CFG(managed_schemas), rule_pg_name,
     "a list of schema names such as { \"public\", \"app\" }"},
    {"test_dialects", FIELD_LIST, false, CFG(test_dialects), rule_test_dialect,
     "a list such as { \"postgresql\", \"sqlite\" }"},
    {"keep_shadows", FIELD_BOOLEAN, false, CFG(keep_shadows), NULL, "true or false"},
};
static const table_spec config_spec = {"setting", "", config_fields,
                                       sizeof config_fields / sizeof *config_fields};

/* ---- the checker --------------------------------------------------------------------- */

static int set_string(char **dst, const char *value, rb_error *err)
{
    char *copy = strdup(value);
    if (!copy)
        return rb_errorf(err, RB_ERR_FAILURE, "out of memory");
    free(*dst);
    *dst = copy;
    return 0;
}

/* The list on top of the stack (a string or a table of strings) into *out. */
static int read_list(lua_State *L, const char *path, const field_spec *f, str_list *out,
                     rb_error *err)
{
    if (lua_type(L, -1) == LUA_TSTRING)
        return str_list_push(out, lua_tostring(L, -1)) == 0 ? 0
               : rb_errorf(err, RB_ERR_FAILURE, "out of memory");
    lua_Integer n = (lua_Integer)lua_rawlen(L, -1);
    int rc = 0;
    for (lua_Integer i = 1; i <= n && rc == 0; i++) {
        if (lua_rawgeti(L, -1, i) != LUA_TSTRING)
            rc = rb_errorf(err, RB_ERR_FAILURE, "%s: %s[%lld] is a %s, expected a string",
                           path, f->name, (long long)i, luaL_typename(L, -1));
        else if (str_list_contains(out, lua_tostring(L, -1)))
            rc = rb_errorf(err, RB_ERR_FAILURE, "%s: %s names '%s' twice", path, f->name,
                           lua_tostring(L, -1));
        else if (str_list_push(out, lua_tostring(L, -1)) != 0)
            rc = rb_errorf(err, RB_ERR_FAILURE, "out of memory");
        lua_pop(L, 1);
    }
    return rc;
}

/* The value on top of the stack (of type t, not nil) into the struct at base. */
static int read_field(lua_State *L, int t, const char *path, const field_spec *f, char *base,
                      rb_error *err)
{
    static const int types[] = {
        [FIELD_STRING] = LUA_TSTRING, [FIELD_BOOLEAN] = LUA_TBOOLEAN,
        [FIELD_FUNCTION] = LUA_TFUNCTION, [FIELD_SECONDS] = LUA_TNUMBER,
        [FIELD_LIST] = LUA_TTABLE,
    };
    void *dst = base + f->offset;
    if (f->kind == FIELD_SECONDS) {
        double s = t == LUA_TNUMBER ? lua_tonumber(L, -1) : -1;
        if (!(s >= 0 && s < 86400 * 7))
            return rb_errorf(err, RB_ERR_FAILURE, "%s: '%s' must be a number of seconds",
                             path, f->name);
        *(int *)dst = (int)(s * 1000);
        return 0;
    }
    if (t != types[f->kind] && !(f->kind == FIELD_LIST && t == LUA_TSTRING))
        return rb_errorf(err, RB_ERR_FAILURE, "%s: '%s' is a %s, expected %s", path, f->name,
                         lua_typename(L, t), f->expected);
    switch (f->kind) {
    case FIELD_STRING:
        if (f->rule && f->rule(path, f->name, lua_tostring(L, -1), err) != 0)
            return -1;
        return set_string(dst, lua_tostring(L, -1), err);
    case FIELD_BOOLEAN:
        *(bool *)dst = lua_toboolean(L, -1);
        return 0;
    case FIELD_LIST: {
        str_list *l = dst;
        if (read_list(L, path, f, l, err) != 0)
            return -1;
        for (int i = 0; f->rule && i < l->count; i++)
            if (f->rule(path, f->name, l->items[i], err) != 0)
                return -1;
        return 0;
    }
    default:
        return 0;
    }
}

/* Checks the table at idx against spec and fills the struct at out. On error the struct
 * may be partly filled: the caller releases it. */
static int read_fields(lua_State *L, int idx, const char *path, const table_spec *spec,
                       void *out, rb_error *err)
{
    LUA_STACK_ENTER(L);
    idx = lua_absindex(L, idx);
    lua_pushnil(L);
    while (lua_next(L, idx)) {
        lua_pop(L, 1);
        const char *key = lua_type(L, -1) == LUA_TSTRING ? lua_tostring(L, -1) : NULL;
        size_t k = 0;
        while (key && k < spec->count && strcmp(spec->fields[k].name, key) != 0)
            k++;
        if (!key || k == spec->count) {
            rb_errorf(err, RB_ERR_FAILURE, "%s: unknown %s '%s'%s", path, spec->unknown,
                      key ? key : luaL_typename(L, -1), spec->where);
            lua_pop(L, 1);
            LUA_STACK_LEAVE(L, 0);
            return -1;
        }
    }
    int rc = 0;
    for (size_t i = 0; i < spec->count && rc == 0; i++) {
        const field_spec *f = &spec->fields[i];
        int t = raw_field(L, idx, f->name);
        if (t == LUA_TNIL && f->required)
            rc = rb_errorf(err, RB_ERR_FAILURE, "%s: '%s' is missing, expected %s", path,
                           f->name, f->expected);
        else if (t != LUA_TNIL)
            rc = read_field(L, t, path, f, out, err);
        lua_pop(L, 1);
    }
    LUA_STACK_LEAVE(L, 0);
    return rc;
}

int lua_fields_read_revision(lua_State *L, int idx, const char *path, revision *out,
                             rb_error *err)
{
    if (!lua_istable(L, idx))
        return rb_errorf(err, RB_ERR_FAILURE, "%s: the migration returned %s, expected a "
                         "table (return { revision = ..., upgrade = ..., downgrade = ... })",
                         path, lua_isnil(L, idx) ? "nothing" : luaL_typename(L, idx));
    out->transactional = true;
    if (read_fields(L, idx, path, &migration_spec, out, err) != 0)
        return -1;
    if ((!out->message && set_string(&out->message, "", err) != 0) ||
        set_string(&out->path, path, err) != 0)
        return -1;
    return 0;
}

int lua_fields_read_config(lua_State *L, int idx, const char *path, config *cfg, rb_error *err)
{
    if (!lua_istable(L, idx))
        return rb_errorf(err, RB_ERR_FAILURE, "%s: the config file must return a table", path);
    if (read_fields(L, idx, path, &config_spec, cfg, err) != 0)
        return -1;
    /* An empty list would silently mean the default (all schemas, the URL's dialect), and
     * a key that is not a list position ({ app = true }) would be silently skipped. */
    static const char *const lists[] = {"managed_schemas", "test_dialects"};
    const str_list *values[] = {&cfg->managed_schemas, &cfg->test_dialects};
    int rc = 0;
    for (int i = 0; i < 2 && rc == 0; i++) {
        if (raw_field(L, idx, lists[i]) == LUA_TTABLE) {
            lua_Integer keys = 0;
            lua_pushnil(L);
            while (lua_next(L, -2)) {
                lua_pop(L, 1);
                keys++;
            }
            if (keys != (lua_Integer)lua_rawlen(L, -1))
                rc = rb_errorf(err, RB_ERR_FAILURE, "%s: '%s' has keys besides its list of "
                               "names, expected a list such as { \"a\", \"b\" }", path,
                               lists[i]);
            else if (values[i]->count == 0)
                rc = rb_errorf(err, RB_ERR_FAILURE, "%s: '%s' is an empty list: name at least "
                               "one, or leave it out for the default", path, lists[i]);
        }
        lua_pop(L, 1);
    }
    return rc;
}
