/* json_out.h: a Lua value as JSON text, for the --format json of the inspection commands
 * (src/cmd_schema.c through lua_host). The value is converted into a jansson value and
 * dumped by jansson with sorted keys and a fixed indent, so equal values print the same
 * bytes. A Lua table is a JSON array when it is a sequence 1..n (n > 0) or its metatable
 * says __json = "array" (an empty list); otherwise an object, whose keys must be strings or
 * numbers. nil is null; strings must be UTF-8.
 *
 * A Lua-binding file (it includes lua.h, like lua_host.c and lua_db.c); depends on jansson. */
#ifndef RBACMIG_JSON_OUT_H
#define RBACMIG_JSON_OUT_H

#include "error.h"

struct lua_State;

/* Encodes the value at stack index idx (left in place) into *out, NUL-terminated and ending
 * with a newline; the caller frees it with free(). */
int json_out_encode(struct lua_State *L, int idx, char **out, rb_error *err);

#endif
