/* graph.h: the revision graph (a DAG of migration files) and the plans that walk it.
 *
 * graph_add takes revisions as read from files (scripts.c), graph_build links and checks
 * them (duplicates, dangling parents, cycles, several roots), and the planning functions
 * turn the applied state plus a target into an ordered list of steps. Pure data: no I/O,
 * no database, no Lua. */
#ifndef RBACMIG_GRAPH_H
#define RBACMIG_GRAPH_H

#include <stdbool.h>

#include "error.h"
#include "hashmap.h"
#include "str_list.h"

/* One migration file's metadata. Strings owned by the revision. */
typedef struct revision {
    char *id;               /* "91759229c32b" */
    char *path;             /* "migrations/91759229c32b_add_initial_rbac_tables.lua" */
    char *message;
    char *create_date;      /* from the header comment, or NULL */
    str_list down;          /* down_revision(s): several for a merge */
    str_list branch_labels;
    str_list depends_on;
    bool transactional;
    char sha256[65];
    /* Filled by graph_build: indices into the graph. */
    int *parents, nparents;   /* from `down` */
    int *deps, ndeps;         /* from `depends_on` */
    int *children, nchildren;
    int topo;                 /* position in a topological order (parents first) */
} revision;

void revision_release(revision *r);

typedef struct graph {
    revision *revs;    /* owned */
    int count, cap;
    int *order;        /* revision indices in topological order */
    hashmap ids;       /* id -> revision index; keys borrowed from revs[i].id */
} graph;

void graph_init(graph *g);
void graph_release(graph *g);

/* Takes ownership of *r's fields (r is zeroed). */
int graph_add(graph *g, revision *r, rb_error *err);
/* Links parents, children and dependencies; rejects duplicates, unknown parents, cycles and
 * several roots, naming the files at fault. */
int graph_build(graph *g, rb_error *err);

/* Exact id -> index, or -1. */
int graph_find(const graph *g, const char *id);
/* Heads: revisions no other revision names as down_revision, in topological order. */
int graph_heads(const graph *g, int *out /* g->count */);

/* A set of revisions as a bitmap over graph indices. */
typedef struct rev_set {
    unsigned char *in;
    int count;  /* members */
    int *stack; /* rev_set_add_ancestors' work space, allocated with the set */
} rev_set;

/* A set for g's revisions: -1 when out of memory (then nothing is allocated). */
int rev_set_init(rev_set *s, const graph *g);
void rev_set_release(rev_set *s);
void rev_set_add(rev_set *s, int i);
/* Adds i and everything it needs (parents and depends_on), transitively. It allocates
 * nothing, so it cannot fail half-way. */
void rev_set_add_ancestors(rev_set *s, const graph *g, int i);

/* Adds every revision that descends from a member of s through parents (and, with
 * through_deps, through depends_on too), transitively. */
void rev_set_add_descendants(rev_set *s, const graph *g, bool through_deps);

/* The applied set implied by the version table's rows (each row and its ancestors). Rows
 * naming unknown revisions are an error. */
int graph_applied(const graph *g, const str_list *rows, rev_set *applied, rb_error *err);
/* The version-table rows for an applied set: its members with no applied child. */
int graph_version_rows(const graph *g, const rev_set *applied, str_list *rows);
/* What the version table must lose (*removed) and gain (*added) to go from the rows before
 * to the rows of applied; -1 when out of memory. */
int graph_version_changes(const graph *g, const str_list *before, const rev_set *applied,
                          str_list *removed, str_list *added);

/* A resolved target. */
typedef enum { TARGET_REVISIONS, TARGET_BASE } target_kind;
typedef struct target {
    target_kind kind;
    int revs[64];  /* graph indices (upgrade to several heads) */
    int nrevs;
} target;

typedef enum { DIR_UPGRADE, DIR_DOWNGRADE } direction;

/* Resolves a target string against the graph and, for relative forms, the applied state:
 * head, heads, base, a revision or unique prefix (4+ chars), +N / -N, REV+N / REV-N,
 * LABEL@head. A bad target is a usage error naming it. */
int graph_resolve_target(const graph *g, const char *spec, direction dir, const rev_set *applied,
                         target *out, rb_error *err);

/* Resolves a spec that must name exactly one revision (exact id, prefix, head, LABEL@head,
 * REV+N...) with nothing applied; `base` and several heads are usage errors. */
int graph_resolve_one(const graph *g, const char *spec, int *idx, rb_error *err);

/* The ordered steps (graph indices) from applied to target: for an upgrade every missing
 * ancestor of the target, parents first; for a downgrade every applied descendant of the
 * target (and what depends on it), children first. *steps is malloc'd; caller frees. */
int graph_plan(const graph *g, const rev_set *applied, const target *t, direction dir,
               int **steps, int *nsteps, rb_error *err);

/* "a, b" from a list of revision ids (for messages); caller frees. */
char *graph_join_ids(const graph *g, const int *idx, int n);

#endif
