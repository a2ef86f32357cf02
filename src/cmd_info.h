/* cmd_info.h: what the read-only commands (cmd_info.c) share with `status` (cmd_status.c):
 * the --format check, the version table's rows, and a revision as a JSON object (the
 * fields docs/json.md documents), built with jansson. */
#ifndef RBACMIG_CMD_INFO_H
#define RBACMIG_CMD_INFO_H

#include <stdbool.h>

#include "cli.h"

struct json_t;

/* --format text|json (a usage error otherwise), checked before anything connects. */
int info_format_check(cli_state *st, rb_error *err);
/* Whether --format json was given. */
bool info_want_json(const cli_state *st);
/* The version table's rows (none when it does not exist yet). */
int info_read_current(cli_state *st, str_list *rows, rb_error *err);
/* A text as a JSON string: bytes that are not UTF-8 become U+FFFD, so a message read from a
 * file never fails the output. NULL only when out of memory. */
struct json_t *info_json_string(const char *s);
/* Graph indices as a JSON array of revision ids. */
struct json_t *info_json_ids(const graph *g, const int *idx, int n);
/* Revision idx as a JSON object; current (or NULL) marks the applied heads. */
struct json_t *info_revision_json(const graph *g, int idx, const str_list *current);

/* check's findings (status reports them too): applied revisions with no file ("missing"),
 * edited applied files ("changed"), failed non-transactional steps ("failed"), several heads
 * ("heads"); each printed as "kind: message", or appended to list (JSON) when list is not
 * NULL. Fills *applied (initialised here; caller releases) and *problems. */
int info_problems(cli_state *st, const str_list *rows, rev_set *applied, struct json_t *list,
                  int *problems, rb_error *err);

#endif
