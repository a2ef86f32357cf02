/* scripts.h: the migrations directory. Loads every *.lua file into a revision graph and
 * writes new revision files (revision, merge) and project scaffolds (init). */
#ifndef RBACMIG_SCRIPTS_H
#define RBACMIG_SCRIPTS_H

#include "graph.h"
#include "lua_host.h"

/* Reads every DIR/NAME.lua (sorted by name) and builds the graph. A missing directory is an
 * error naming it, with a hint to run `rbacmig init`. */
int scripts_load(lua_host *host, const char *dir, graph *g, rb_error *err);

typedef struct new_revision {
    const char *message;       /* -m */
    const char *rev_id;        /* --rev-id, or NULL for a random 12-hex id */
    const str_list *parents;   /* down_revision(s); empty for a root */
    const str_list *depends_on;
    const char *branch_label;  /* or NULL */
} new_revision;

/* Writes DIR/<rev>_<slug>.lua with a header comment and empty upgrade/downgrade; returns
 * the new path (caller frees). Refuses to overwrite. */
int scripts_write_revision(const char *dir, const new_revision *spec, char **path, rb_error *err);

/* Scaffolds rbacmig.lua, migrations/ and .env.example in dir (created if needed); never
 * overwrites an existing file. */
int scripts_init_project(const char *dir, rb_error *err);

#endif
