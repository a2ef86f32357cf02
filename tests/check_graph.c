/* check_graph.c: building the revision DAG (and its errors), resolving targets, planning
 * upgrades and downgrades, and the version-table rows of an applied set. Graphs are built
 * in memory, as scripts.c would after reading the files. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check_rbacmig.h"
#include "graph.h"

/* Pushes each comma-separated item of csv (NULL or "" for none). */
static void push_csv(str_list *l, const char *csv)
{
    if (!csv)
        return;
    char *copy = strdup(csv), *save = NULL;
    ck_assert_ptr_nonnull(copy);
    for (char *tok = strtok_r(copy, ",", &save); tok; tok = strtok_r(NULL, ",", &save))
        ck_assert_int_eq(str_list_push(l, tok), 0);
    free(copy);
}

/* Adds revision id with down_revision(s), depends_on and branch labels given as CSV; its
 * path is "migrations/<id>_m.lua". */
static void add_rev(graph *g, const char *id, const char *down, const char *deps,
                    const char *labels)
{
    revision r;
    memset(&r, 0, sizeof r);
    char path[256];
    snprintf(path, sizeof path, "migrations/%s_m.lua", id);
    r.id = strdup(id);
    r.path = strdup(path);
    r.message = strdup("m");
    r.transactional = true;
    ck_assert_ptr_nonnull(r.id);
    ck_assert_ptr_nonnull(r.path);
    push_csv(&r.down, down);
    push_csv(&r.depends_on, deps);
    push_csv(&r.branch_labels, labels);
    rb_error err;
    ck_assert_int_eq(graph_add(g, &r, &err), 0);
    ck_assert_ptr_null(r.id); /* ownership passed to the graph */
}

static void build_ok(graph *g)
{
    rb_error err;
    rb_error_init(&err);
    int rc = graph_build(g, &err);
    ck_assert_msg(rc == 0, "graph_build failed: %s", err.message);
}

/* graph_build must fail; the message is copied to msg. */
static void build_fails(graph *g, char msg[2048])
{
    rb_error err;
    rb_error_init(&err);
    int rc = graph_build(g, &err);
    ck_assert_msg(rc == -1, "graph_build should fail");
    ck_assert_int_ne(err.kind, 0);
    rb_strlcpy(msg, err.message, 2048);
}

/* A revision as data: id, down_revision(s), depends_on, branch labels (CSV or NULL), and
 * a path suffix when two files must differ ("copy": migrations/<id>_copy.lua). */
typedef struct rev_spec {
    const char *id, *down, *deps, *labels, *path_suffix;
} rev_spec;

/* Adds each spec, up to the one with a NULL id. */
static void add_specs(graph *g, const rev_spec *revs)
{
    for (; revs->id; revs++) {
        if (!revs->path_suffix) {
            add_rev(g, revs->id, revs->down, revs->deps, revs->labels);
            continue;
        }
        revision r;
        memset(&r, 0, sizeof r);
        char path[256];
        snprintf(path, sizeof path, "migrations/%s_%s.lua", revs->id, revs->path_suffix);
        r.id = strdup(revs->id);
        r.path = strdup(path);
        r.message = strdup("m");
        push_csv(&r.down, revs->down);
        rb_error err;
        ck_assert_int_eq(graph_add(g, &r, &err), 0);
    }
}

static void build_fixture(graph *g, const rev_spec *revs)
{
    graph_init(g);
    add_specs(g, revs);
    build_ok(g);
}

/* 1000aaaa <- 2000bbbb <- 2000cccc <- 3000dddd (label "feature") <- 4000eeee */
static const rev_spec LINEAR_FIVE[] = {
    {"1000aaaa", NULL, NULL, NULL, NULL},
    {"2000bbbb", "1000aaaa", NULL, NULL, NULL},
    {"2000cccc", "2000bbbb", NULL, NULL, NULL},
    {"3000dddd", "2000cccc", NULL, "feature", NULL},
    {"4000eeee", "3000dddd", NULL, NULL, NULL},
    {NULL, NULL, NULL, NULL, NULL},
};

/* root <- a1 (label "alpha") <- a2, root <- b1 (label "beta") <- b2: two heads. */
static const rev_spec TWO_BRANCHES[] = {
    {"r000root", NULL, NULL, NULL, NULL},
    {"a1a1a1a1", "r000root", NULL, "alpha", NULL},
    {"a2a2a2a2", "a1a1a1a1", NULL, NULL, NULL},
    {"b1b1b1b1", "r000root", NULL, "beta", NULL},
    {"b2b2b2b2", "b1b1b1b1", NULL, NULL, NULL},
    {NULL, NULL, NULL, NULL, NULL},
};

/* A label on the root, from which two branches grow. */
static const rev_spec LABELLED_ROOT[] = {
    {"r000root", NULL, NULL, "trunk", NULL},
    {"a1a1a1a1", "r000root", NULL, NULL, NULL},
    {"b1b1b1b1", "r000root", NULL, NULL, NULL},
    {NULL, NULL, NULL, NULL, NULL},
};

/* An id that is the prefix of another. */
static const rev_spec PREFIXED[] = {
    {"abcd", NULL, NULL, NULL, NULL},
    {"abcdef", "abcd", NULL, NULL, NULL},
    {NULL, NULL, NULL, NULL, NULL},
};

/* root <- a1 <- a2, root <- b1 (depends_on a2) */
static const rev_spec DEPENDS[] = {
    {"r000root", NULL, NULL, NULL, NULL},
    {"b1b1b1b1", "r000root", "a2a2a2a2", NULL, NULL},
    {"a1a1a1a1", "r000root", NULL, NULL, NULL},
    {"a2a2a2a2", "a1a1a1a1", NULL, NULL, NULL},
    {NULL, NULL, NULL, NULL, NULL},
};

/* root <- a1, root <- b1, m1 = merge(a1, b1) */
static const rev_spec MERGED[] = {
    {"r000root", NULL, NULL, NULL, NULL},
    {"a1a1a1a1", "r000root", NULL, NULL, NULL},
    {"b1b1b1b1", "r000root", NULL, NULL, NULL},
    {"m1m1m1m1", "a1a1a1a1,b1b1b1b1", NULL, NULL, NULL},
    {NULL, NULL, NULL, NULL, NULL},
};

static int idx(const graph *g, const char *id)
{
    int i = graph_find(g, id);
    ck_assert_msg(i >= 0, "graph_find('%s') found nothing", id);
    return i;
}

static const char *id_at(const graph *g, int i)
{
    return g->revs[i].id;
}

/* The applied set from version-table rows given as CSV. */
static void applied_from(const graph *g, const char *rows_csv, rev_set *applied)
{
    str_list rows = {0};
    push_csv(&rows, rows_csv);
    rb_error err;
    rb_error_init(&err);
    int rc = graph_applied(g, &rows, applied, &err);
    str_list_release(&rows);
    ck_assert_msg(rc == 0, "graph_applied(%s) failed: %s", rows_csv ? rows_csv : "", err.message);
}

/* The ids of a plan as "a,b,c". */
static void plan_ids(const graph *g, const int *steps, int n, char *out, size_t size)
{
    out[0] = '\0';
    for (int i = 0; i < n; i++) {
        size_t len = strlen(out);
        snprintf(out + len, size - len, "%s%s", i ? "," : "", id_at(g, steps[i]));
    }
}

/* Resolves spec and plans from applied_csv; the plan's ids are written to out. */
static void plan_for(const graph *g, const char *applied_csv, const char *spec, direction dir,
                     char *out, size_t size)
{
    rev_set applied;
    applied_from(g, applied_csv, &applied);
    target t;
    rb_error err;
    rb_error_init(&err);
    int rc = graph_resolve_target(g, spec, dir, &applied, &t, &err);
    if (rc != 0) {
        rev_set_release(&applied);
        ck_abort_msg("graph_resolve_target('%s') failed: %s", spec, err.message);
    }
    int *steps = NULL, n = 0;
    rc = graph_plan(g, &applied, &t, dir, &steps, &n, &err);
    rev_set_release(&applied);
    if (rc != 0) {
        free(steps);
        ck_abort_msg("graph_plan('%s') failed: %s", spec, err.message);
    }
    plan_ids(g, steps, n, out, size);
    free(steps);
}

/* ---- building ------------------------------------------------------------------------ */

START_TEST(test_linear_chain)
{
    graph g;
    graph_init(&g);
    /* Added out of order: the graph orders them, not the files. */
    add_rev(&g, "cccc3333", "bbbb2222", NULL, NULL);
    add_rev(&g, "aaaa1111", NULL, NULL, NULL);
    add_rev(&g, "bbbb2222", "aaaa1111", NULL, NULL);
    build_ok(&g);
    ck_assert_int_eq(g.count, 3);
    int a = idx(&g, "aaaa1111"), b = idx(&g, "bbbb2222"), c = idx(&g, "cccc3333");
    ck_assert_int_eq(graph_find(&g, "dddd4444"), -1);
    ck_assert_int_eq(graph_find(&g, "aaaa"), -1); /* exact ids only */
    ck_assert_int_eq(g.order[0], a);
    ck_assert_int_eq(g.order[1], b);
    ck_assert_int_eq(g.order[2], c);
    ck_assert_int_lt(g.revs[a].topo, g.revs[b].topo);
    ck_assert_int_lt(g.revs[b].topo, g.revs[c].topo);
    ck_assert_int_eq(g.revs[b].nparents, 1);
    ck_assert_int_eq(g.revs[b].parents[0], a);
    ck_assert_int_eq(g.revs[a].nchildren, 1);
    ck_assert_int_eq(g.revs[a].children[0], b);
    ck_assert_int_eq(g.revs[c].nchildren, 0);
    int heads[3];
    ck_assert_int_eq(graph_heads(&g, heads), 1);
    ck_assert_int_eq(heads[0], c);
    char *ids = graph_join_ids(&g, g.order, g.count);
    ck_assert_str_eq(ids, "aaaa1111, bbbb2222, cccc3333");
    free(ids);
    graph_release(&g);
    ck_assert_int_eq(g.count, 0);
}
END_TEST

START_TEST(test_branch_and_merge)
{
    graph g;
    graph_init(&g);
    add_rev(&g, "mmmm0004", "bbbb0002,cccc0003", NULL, NULL);
    add_rev(&g, "bbbb0002", "aaaa0001", NULL, NULL);
    add_rev(&g, "cccc0003", "aaaa0001", NULL, NULL);
    add_rev(&g, "aaaa0001", NULL, NULL, NULL);
    build_ok(&g);
    int a = idx(&g, "aaaa0001"), b = idx(&g, "bbbb0002"), c = idx(&g, "cccc0003"),
        m = idx(&g, "mmmm0004");
    ck_assert_int_eq(g.revs[a].nchildren, 2);
    ck_assert_int_eq(g.revs[m].nparents, 2);
    ck_assert_int_eq(g.order[0], a);
    ck_assert_int_eq(g.order[3], m);
    ck_assert_int_lt(g.revs[b].topo, g.revs[m].topo);
    ck_assert_int_lt(g.revs[c].topo, g.revs[m].topo);
    int heads[4];
    ck_assert_int_eq(graph_heads(&g, heads), 1);
    ck_assert_int_eq(heads[0], m);
    graph_release(&g);
}
END_TEST

/* Graphs graph_build rejects, and what its message must (and must not) name. */
static const struct build_error_case {
    const char *why;
    rev_spec revs[6];
    const char *names[3];
    const char *not_named[2];
} build_error_cases[] = {
    {"duplicate id",
     {{"aaaa0001", NULL, NULL, NULL, NULL}, {"bbbb0002", "aaaa0001", NULL, NULL, NULL},
      {"bbbb0002", "aaaa0001", NULL, NULL, "copy"}},
     {"bbbb0002", "migrations/bbbb0002_m.lua", "migrations/bbbb0002_copy.lua"}, {NULL}},
    {"dangling parent",
     {{"aaaa0001", NULL, NULL, NULL, NULL}, {"bbbb0002", "zzzz9999", NULL, NULL, NULL}},
     {"migrations/bbbb0002_m.lua", "zzzz9999", NULL}, {NULL}},
    {"dangling dependency",
     {{"aaaa0001", NULL, NULL, NULL, NULL}, {"bbbb0002", "aaaa0001", "yyyy8888", NULL, NULL}},
     {"migrations/bbbb0002_m.lua", "yyyy8888", "depends_on"}, {NULL}},
    {"own parent",
     {{"aaaa0001", NULL, NULL, NULL, NULL}, {"bbbb0002", "bbbb0002", NULL, NULL, NULL}},
     {"migrations/bbbb0002_m.lua", "itself", NULL}, {NULL}},
    {"cycle",
     {{"aaaa0001", NULL, NULL, NULL, NULL}, {"bbbb0002", "aaaa0001", NULL, NULL, NULL},
      {"cccc0003", "dddd0004", NULL, NULL, NULL}, {"dddd0004", "cccc0003", NULL, NULL, NULL}},
     {"cycle", "migrations/cccc0003_m.lua", "migrations/dddd0004_m.lua"},
     {"aaaa0001", "bbbb0002"}}, /* revisions off the cycle are not named */
    {"cycle through depends_on",
     {{"aaaa0001", NULL, NULL, NULL, NULL}, {"bbbb0002", "aaaa0001", "cccc0003", NULL, NULL},
      {"cccc0003", "bbbb0002", NULL, NULL, NULL}},
     {"cycle", "migrations/bbbb0002_m.lua", NULL}, {NULL}},
    {"two roots",
     {{"aaaa0001", NULL, NULL, NULL, NULL}, {"bbbb0002", "aaaa0001", NULL, NULL, NULL},
      {"cccc0003", NULL, NULL, NULL, NULL}},
     {"migrations/aaaa0001_m.lua", "migrations/cccc0003_m.lua", NULL}, {NULL}},
    {"duplicate branch label",
     {{"aaaa0001", NULL, NULL, NULL, NULL}, {"bbbb0002", "aaaa0001", NULL, "feature", NULL},
      {"cccc0003", "aaaa0001", NULL, "other,feature", NULL}},
     {"'feature'", "migrations/bbbb0002_m.lua", "migrations/cccc0003_m.lua"}, {NULL}},
};

START_TEST(test_build_errors)
{
    const struct build_error_case *c = &build_error_cases[_i];
    graph g;
    graph_init(&g);
    add_specs(&g, c->revs);
    char msg[2048];
    build_fails(&g, msg);
    graph_release(&g);
    for (int k = 0; k < 3 && c->names[k]; k++)
        ck_assert_msg(strstr(msg, c->names[k]) != NULL, "%s: '%s' lacks '%s'", c->why, msg,
                      c->names[k]);
    for (int k = 0; k < 2 && c->not_named[k]; k++)
        ck_assert_msg(strstr(msg, c->not_named[k]) == NULL, "%s: '%s' names '%s'", c->why, msg,
                      c->not_named[k]);
}
END_TEST

START_TEST(test_empty_graph)
{
    graph g;
    graph_init(&g);
    build_ok(&g);
    ck_assert_int_eq(graph_find(&g, "aaaa"), -1);
    rev_set applied;
    applied_from(&g, NULL, &applied);
    target t;
    rb_error err;
    ck_assert_int_eq(graph_resolve_target(&g, "heads", DIR_UPGRADE, &applied, &t, &err), 0);
    ck_assert_int_eq(t.nrevs, 0);
    int *steps = NULL, n = -1;
    ck_assert_int_eq(graph_plan(&g, &applied, &t, DIR_UPGRADE, &steps, &n, &err), 0);
    ck_assert_int_eq(n, 0);
    free(steps);
    rev_set_release(&applied);
    graph_release(&g);
}
END_TEST

/* ---- targets ------------------------------------------------------------------------- */

static void linear_five(graph *g)
{
    build_fixture(g, LINEAR_FIVE);
}

static void two_branches(graph *g)
{
    build_fixture(g, TWO_BRANCHES);
}

typedef struct resolved {
    int rc;
    target t;
    rb_error err;
} resolved;

static resolved resolve_on(const graph *g, const char *applied_csv, const char *spec,
                           direction dir)
{
    resolved r;
    rev_set applied;
    applied_from(g, applied_csv, &applied);
    rb_error_init(&r.err);
    r.rc = graph_resolve_target(g, spec, dir, &applied, &r.t, &r.err);
    rev_set_release(&applied);
    return r;
}

/* spec must resolve to exactly the revision want_id ("base" for base). */
static void expect_target(const graph *g, const char *applied_csv, const char *spec,
                          direction dir, const char *want_id)
{
    resolved r = resolve_on(g, applied_csv, spec, dir);
    ck_assert_msg(r.rc == 0, "target '%s' (applied %s) failed: %s", spec,
                  applied_csv ? applied_csv : "none", r.err.message);
    if (strcmp(want_id, "base") == 0) {
        ck_assert_msg(r.t.kind == TARGET_BASE, "target '%s' should be base", spec);
        return;
    }
    ck_assert_msg(r.t.kind == TARGET_REVISIONS && r.t.nrevs == 1,
                  "target '%s': kind %d, %d revisions", spec, (int)r.t.kind, r.t.nrevs);
    ck_assert_msg(strcmp(id_at(g, r.t.revs[0]), want_id) == 0, "target '%s' = %s, want %s",
                  spec, id_at(g, r.t.revs[0]), want_id);
}

/* spec must be rejected with `code` (0: any) and a message containing `part`. */
static void expect_target_error(const graph *g, const char *applied_csv, const char *spec,
                                direction dir, int code, const char *part)
{
    resolved r = resolve_on(g, applied_csv, spec, dir);
    ck_assert_msg(r.rc == -1, "target '%s' should fail", spec);
    if (code)
        ck_assert_msg((int)r.err.kind == code, "target '%s': kind %d, want %d (%s)", spec,
                      (int)r.err.kind, code, r.err.message);
    ck_assert_msg(strstr(r.err.message, part) != NULL, "target '%s': message '%s' lacks '%s'",
                  spec, r.err.message, part);
}

/* A target resolved on a graph with some rows applied: to one revision, to base, or to an
 * error whose message holds `part`. */
#define UP DIR_UPGRADE
#define DOWN DIR_DOWNGRADE
#define FAILS NULL
static const struct target_case {
    const rev_spec *graph;
    const char *applied, *spec;
    direction dir;
    const char *want; /* an id, "base", or FAILS */
    const char *part; /* FAILS: in the message */
    int code;         /* FAILS: the exit code (0: RB_ERR_USAGE, -1: any) */
} target_cases[] = {
    /* head, heads, base */
    {LINEAR_FIVE, NULL, "head", UP, "4000eeee", NULL, 0},
    {LINEAR_FIVE, NULL, "heads", UP, "4000eeee", NULL, 0},
    {LINEAR_FIVE, "4000eeee", "base", DOWN, "base", NULL, 0},
    /* exact ids and unique prefixes */
    {LINEAR_FIVE, NULL, "2000bbbb", UP, "2000bbbb", NULL, 0},
    {LINEAR_FIVE, NULL, "3000", UP, "3000dddd", NULL, 0},
    {LINEAR_FIVE, NULL, "2000b", UP, "2000bbbb", NULL, 0},
    {LINEAR_FIVE, NULL, "2000c", UP, "2000cccc", NULL, 0},
    {PREFIXED, NULL, "abcd", UP, "abcd", NULL, 0}, /* exact beats being a prefix */
    {PREFIXED, NULL, "abcde", UP, "abcdef", NULL, 0},
    {PREFIXED, NULL, "abcd+1", UP, "abcdef", NULL, 0},
    /* bad ids */
    {LINEAR_FIVE, NULL, "2000", UP, FAILS, "2000bbbb", 0},
    {LINEAR_FIVE, NULL, "2000", UP, FAILS, "2000cccc", 0},
    {LINEAR_FIVE, NULL, "300", UP, FAILS, "'300'", 0},
    {LINEAR_FIVE, NULL, "300", UP, FAILS, "4 characters", 0},
    {LINEAR_FIVE, NULL, "9999", UP, FAILS, "'9999'", 0},
    {LINEAR_FIVE, NULL, "4000eeeeX", UP, FAILS, "4000eeeeX", 0},
    {LINEAR_FIVE, NULL, "", UP, FAILS, "empty", 0},
    /* +N and -N from the current revision */
    {LINEAR_FIVE, NULL, "+1", UP, "1000aaaa", NULL, 0},
    {LINEAR_FIVE, NULL, "+5", UP, "4000eeee", NULL, 0},
    {LINEAR_FIVE, "2000bbbb", "+2", UP, "3000dddd", NULL, 0},
    {LINEAR_FIVE, "2000bbbb", "-1", DOWN, "1000aaaa", NULL, 0},
    {LINEAR_FIVE, "2000bbbb", "-2", DOWN, "base", NULL, 0},
    {LINEAR_FIVE, "4000eeee", "-4", DOWN, "1000aaaa", NULL, 0},
    {LINEAR_FIVE, "2000bbbb", "-3", DOWN, FAILS, "below base", 0},
    {LINEAR_FIVE, "2000bbbb", "+4", UP, FAILS, "past the head", 0},
    {LINEAR_FIVE, "4000eeee", "+1", UP, FAILS, "past the head", 0},
    {LINEAR_FIVE, NULL, "-1", DOWN, FAILS, "below base", 0},
    {LINEAR_FIVE, "2000bbbb", "+1", DOWN, FAILS, "'+1'", 0}, /* the sign must agree */
    {LINEAR_FIVE, "2000bbbb", "-1", UP, FAILS, "'-1'", 0},
    /* REV+N and REV-N */
    {LINEAR_FIVE, NULL, "2000bbbb+2", UP, "3000dddd", NULL, 0},
    {LINEAR_FIVE, NULL, "2000b+1", UP, "2000cccc", NULL, 0},
    {LINEAR_FIVE, "4000eeee", "3000dddd-3", DOWN, "1000aaaa", NULL, 0},
    {LINEAR_FIVE, "4000eeee", "3000dddd-4", DOWN, "base", NULL, 0},
    {LINEAR_FIVE, "4000eeee", "3000dddd-5", DOWN, FAILS, "below base", 0},
    {LINEAR_FIVE, NULL, "4000eeee+1", UP, FAILS, "past the head", 0},
    {LINEAR_FIVE, NULL, "9999aaaa+1", UP, FAILS, "9999aaaa", 0},
    /* LABEL@head */
    {LINEAR_FIVE, NULL, "feature@head", UP, "4000eeee", NULL, 0},
    {LINEAR_FIVE, "1000aaaa", "feature@head", UP, "4000eeee", NULL, 0},
    {LINEAR_FIVE, NULL, "nosuch@head", UP, FAILS, "nosuch@head", 0},
    {LINEAR_FIVE, NULL, "feature@tail", UP, FAILS, "feature@tail", 0},
    {TWO_BRANCHES, NULL, "alpha@head", UP, "a2a2a2a2", NULL, 0},
    {TWO_BRANCHES, NULL, "beta@head", UP, "b2b2b2b2", NULL, 0},
    {LABELLED_ROOT, NULL, "trunk@head", UP, FAILS, "a1a1a1a1", -1},
    {LABELLED_ROOT, NULL, "trunk@head", UP, FAILS, "b1b1b1b1", -1},
    /* several heads, children or parents to choose from */
    {TWO_BRANCHES, "r000root", "+1", UP, FAILS, "ambiguous", 0},
    {TWO_BRANCHES, "a2a2a2a2,b2b2b2b2", "+1", UP, FAILS, "+1", 0},
    {TWO_BRANCHES, "a2a2a2a2,b2b2b2b2", "-1", DOWN, FAILS, "-1", 0},
    {TWO_BRANCHES, "a2a2a2a2,b2b2b2b2", "b2b2-1", DOWN, "b1b1b1b1", NULL, 0},
    {MERGED, "m1m1m1m1", "-2", DOWN, FAILS, "merge", 0},
};

START_TEST(test_targets)
{
    const struct target_case *c = &target_cases[_i];
    graph g;
    build_fixture(&g, c->graph);
    if (c->want)
        expect_target(&g, c->applied, c->spec, c->dir, c->want);
    else
        expect_target_error(&g, c->applied, c->spec, c->dir,
                            c->code == 0 ? RB_ERR_USAGE : c->code < 0 ? 0 : c->code, c->part);
    graph_release(&g);
}
END_TEST

START_TEST(test_target_two_heads)
{
    graph g;
    two_branches(&g);
    resolved r = resolve_on(&g, NULL, "head", DIR_UPGRADE);
    ck_assert_int_eq(r.rc, -1);
    ck_assert_msg(strstr(r.err.message, "a2a2a2a2") && strstr(r.err.message, "b2b2b2b2"),
                  "message should list both heads: %s", r.err.message);
    ck_assert_msg(strstr(r.err.message, "'head'") != NULL, "names the target: %s",
                  r.err.message);

    r = resolve_on(&g, NULL, "heads", DIR_UPGRADE);
    ck_assert_int_eq(r.rc, 0);
    ck_assert_int_eq(r.t.nrevs, 2);
    ck_assert_int_eq(r.t.revs[0] == graph_find(&g, "a2a2a2a2") ||
                         r.t.revs[1] == graph_find(&g, "a2a2a2a2"),
                     1);
    ck_assert_int_eq(r.t.revs[0] == graph_find(&g, "b2b2b2b2") ||
                         r.t.revs[1] == graph_find(&g, "b2b2b2b2"),
                     1);
    int heads[5];
    ck_assert_int_eq(graph_heads(&g, heads), 2);

    graph_release(&g);
}
END_TEST

/* ---- plans --------------------------------------------------------------------------- */

/* Plans from some rows applied to a target: the steps' ids in order, "" for none. */
static const struct plan_case {
    const rev_spec *graph;
    const char *applied, *spec;
    direction dir;
    const char *steps;
} plan_cases[] = {
    /* upgrades go parents first */
    {LINEAR_FIVE, NULL, "head", UP, "1000aaaa,2000bbbb,2000cccc,3000dddd,4000eeee"},
    {LINEAR_FIVE, "2000bbbb", "3000dddd", UP, "2000cccc,3000dddd"},
    {LINEAR_FIVE, "2000bbbb", "+1", UP, "2000cccc"},
    {LINEAR_FIVE, "4000eeee", "head", UP, ""}, /* already there */
    /* downgrades go children first */
    {LINEAR_FIVE, "4000eeee", "2000bbbb", DOWN, "4000eeee,3000dddd,2000cccc"},
    {LINEAR_FIVE, "4000eeee", "base", DOWN, "4000eeee,3000dddd,2000cccc,2000bbbb,1000aaaa"},
    {LINEAR_FIVE, "3000dddd", "-1", DOWN, "3000dddd"},
    {LINEAR_FIVE, NULL, "base", DOWN, ""},
    /* one branch moves, the other stays */
    {TWO_BRANCHES, "a2a2a2a2,b2b2b2b2", "a1a1a1a1", DOWN, "a2a2a2a2"},
    {TWO_BRANCHES, "a2a2a2a2,b2b2b2b2", "b1b1", DOWN, "b2b2b2b2"},
    {TWO_BRANCHES, "r000root", "alpha@head", UP, "a1a1a1a1,a2a2a2a2"},
    {TWO_BRANCHES, "a2a2a2a2", "heads", UP, "b1b1b1b1,b2b2b2b2"},
    /* depends_on: upgrading to b1 pulls in a1 and a2; taking a2 away takes b1 first */
    {DEPENDS, "r000root", "b1b1b1b1", UP, "a1a1a1a1,a2a2a2a2,b1b1b1b1"},
    {DEPENDS, NULL, "b1b1b1b1", UP, "r000root,a1a1a1a1,a2a2a2a2,b1b1b1b1"},
    {DEPENDS, "a2a2a2a2,b1b1b1b1", "a1a1a1a1", DOWN, "b1b1b1b1,a2a2a2a2"},
    {DEPENDS, "a2a2a2a2,b1b1b1b1", "r000root", DOWN, "b1b1b1b1,a2a2a2a2,a1a1a1a1"},
    /* merges */
    {MERGED, "a1a1a1a1", "head", UP, "b1b1b1b1,m1m1m1m1"},
    {MERGED, "m1m1m1m1", "a1a1a1a1", DOWN, "m1m1m1m1"},
    {MERGED, "m1m1m1m1", "r000root", DOWN, "m1m1m1m1,b1b1b1b1,a1a1a1a1"},
};

START_TEST(test_plans)
{
    const struct plan_case *c = &plan_cases[_i];
    graph g;
    build_fixture(&g, c->graph);
    char ids[512];
    plan_for(&g, c->applied, c->spec, c->dir, ids, sizeof ids);
    ck_assert_msg(strcmp(ids, c->steps) == 0, "%s from %s: '%s', want '%s'", c->spec,
                  c->applied ? c->applied : "base", ids, c->steps);
    graph_release(&g);
}
END_TEST

/* Down to the root of two branches: both go, each child before its parent (the order of
 * the branches is the graph's to choose). */
START_TEST(test_plan_downgrade_both_branches)
{
    graph g;
    two_branches(&g);
    char ids[512];
    plan_for(&g, "a2a2a2a2,b2b2b2b2", "r000root", DIR_DOWNGRADE, ids, sizeof ids);
    ck_assert_uint_eq(strlen(ids), 4 * 8 + 3);
    ck_assert_ptr_null(strstr(ids, "r000root"));
    ck_assert_msg(strstr(ids, "a2a2a2a2") < strstr(ids, "a1a1a1a1"), "a2 before a1: %s", ids);
    ck_assert_msg(strstr(ids, "b2b2b2b2") < strstr(ids, "b1b1b1b1"), "b2 before b1: %s", ids);
    graph_release(&g);
}
END_TEST

START_TEST(test_plan_downgrade_unapplied_target)
{
    graph g;
    linear_five(&g);
    rev_set applied;
    applied_from(&g, "2000bbbb", &applied);
    target t;
    rb_error err;
    ck_assert_int_eq(graph_resolve_target(&g, "3000dddd", DIR_DOWNGRADE, &applied, &t, &err), 0);
    int *steps = (int *)&t, n = -1;
    int rc = graph_plan(&g, &applied, &t, DIR_DOWNGRADE, &steps, &n, &err);
    rev_set_release(&applied);
    graph_release(&g);
    ck_assert_int_eq(rc, -1);
    ck_assert_ptr_null(steps);
    ck_assert_msg(strstr(err.message, "3000dddd") != NULL, "message: %s", err.message);
}
END_TEST

/* ---- version rows -------------------------------------------------------------------- */

/* "a,b" as a list; the two lists must hold the same ids, in any order. */
static void assert_same_set(const str_list *got, const char *want_csv, const char *what)
{
    str_list want = {0}, missing = {0}, extra = {0};
    push_csv(&want, want_csv);
    ck_assert_int_eq(str_list_diff(&want, got, &missing, &extra), 0);
    char *have = str_list_join(got, ",");
    ck_assert_msg(missing.count == 0 && extra.count == 0, "%s: '%s', want '%s'", what, have,
                  want_csv ? want_csv : "");
    free(have);
    str_list_release(&want);
    str_list_release(&missing);
    str_list_release(&extra);
}

/* Rows read from the version table -> the applied set -> the rows to write back. */
static const struct rows_case {
    const rev_spec *graph;
    const char *rows;
    int members;      /* of the applied set */
    const char *back; /* the rows written back */
} rows_cases[] = {
    {TWO_BRANCHES, "a2a2a2a2,b1b1b1b1", 4, "a2a2a2a2,b1b1b1b1"},
    {TWO_BRANCHES, "a1a1a1a1,a2a2a2a2,r000root", 3, "a2a2a2a2"}, /* ancestors collapse */
    {TWO_BRANCHES, "r000root", 1, "r000root"},
    {TWO_BRANCHES, NULL, 0, NULL},
    {DEPENDS, "b1b1b1b1", 4, "a2a2a2a2,b1b1b1b1"}, /* a2 is a dependency, not a parent */
    {MERGED, "m1m1m1m1", 4, "m1m1m1m1"},
};

START_TEST(test_version_rows_round_trip)
{
    const struct rows_case *c = &rows_cases[_i];
    graph g;
    build_fixture(&g, c->graph);
    rev_set applied;
    applied_from(&g, c->rows, &applied);
    ck_assert_int_eq(applied.count, c->members);
    str_list rows = {0};
    ck_assert_int_eq(graph_version_rows(&g, &applied, &rows), 0);
    assert_same_set(&rows, c->back, c->rows ? c->rows : "no rows");
    str_list_release(&rows);
    rev_set_release(&applied);
    graph_release(&g);
}
END_TEST

/* The version table's change for a step: the rows before, the rows the new applied set is
 * read from, and what to delete and insert. */
static const struct changes_case {
    const rev_spec *graph;
    const char *before, *after, *removed, *added;
} changes_cases[] = {
    {LINEAR_FIVE, NULL, "1000aaaa", NULL, "1000aaaa"},
    {LINEAR_FIVE, "1000aaaa", "2000bbbb", "1000aaaa", "2000bbbb"},
    {LINEAR_FIVE, "1000aaaa", NULL, "1000aaaa", NULL},
    {LINEAR_FIVE, "2000bbbb", "2000bbbb", NULL, NULL},
    {TWO_BRANCHES, "a2a2a2a2,b1b1b1b1", "a2a2a2a2,b2b2b2b2", "b1b1b1b1", "b2b2b2b2"},
    {TWO_BRANCHES, "a1a1a1a1", "b1b1b1b1,a1a1a1a1", NULL, "b1b1b1b1"},
    {MERGED, "a1a1a1a1,b1b1b1b1", "m1m1m1m1", "a1a1a1a1,b1b1b1b1", "m1m1m1m1"},
    {MERGED, "m1m1m1m1", "a1a1a1a1,b1b1b1b1", "m1m1m1m1", "a1a1a1a1,b1b1b1b1"},
};

START_TEST(test_version_changes)
{
    const struct changes_case *c = &changes_cases[_i];
    graph g;
    build_fixture(&g, c->graph);
    rev_set applied;
    applied_from(&g, c->after, &applied);
    str_list before = {0}, removed = {0}, added = {0};
    push_csv(&before, c->before);
    ck_assert_int_eq(graph_version_changes(&g, &before, &applied, &removed, &added), 0);
    assert_same_set(&removed, c->removed, "removed");
    assert_same_set(&added, c->added, "added");
    str_list_release(&before);
    str_list_release(&removed);
    str_list_release(&added);
    rev_set_release(&applied);
    graph_release(&g);
}
END_TEST

/* The descendants of some revisions, through parents only or through depends_on too. */
static const struct descendants_case {
    const rev_spec *graph;
    const char *from;
    bool through_deps;
    const char *want; /* from included */
} descendants_cases[] = {
    {LINEAR_FIVE, "2000cccc", false, "2000cccc,3000dddd,4000eeee"},
    {LINEAR_FIVE, "4000eeee", false, "4000eeee"},
    {TWO_BRANCHES, "a1a1a1a1", false, "a1a1a1a1,a2a2a2a2"},
    {TWO_BRANCHES, "a1a1a1a1,b2b2b2b2", false, "a1a1a1a1,a2a2a2a2,b2b2b2b2"},
    {TWO_BRANCHES, "r000root", false, "r000root,a1a1a1a1,a2a2a2a2,b1b1b1b1,b2b2b2b2"},
    {DEPENDS, "a2a2a2a2", false, "a2a2a2a2"},
    {DEPENDS, "a2a2a2a2", true, "a2a2a2a2,b1b1b1b1"},
    {DEPENDS, "a1a1a1a1", true, "a1a1a1a1,a2a2a2a2,b1b1b1b1"},
    {MERGED, "a1a1a1a1", false, "a1a1a1a1,m1m1m1m1"},
};

START_TEST(test_descendants)
{
    const struct descendants_case *c = &descendants_cases[_i];
    graph g;
    build_fixture(&g, c->graph);
    rev_set s;
    ck_assert_int_eq(rev_set_init(&s, &g), 0);
    str_list from = {0}, got = {0};
    push_csv(&from, c->from);
    for (int i = 0; i < from.count; i++)
        rev_set_add(&s, idx(&g, from.items[i]));
    rev_set_add_descendants(&s, &g, c->through_deps);
    int members = 0;
    for (int i = 0; i < g.count; i++)
        if (s.in[i]) {
            members++;
            ck_assert_int_eq(str_list_push(&got, g.revs[i].id), 0);
        }
    ck_assert_int_eq(s.count, members);
    assert_same_set(&got, c->want, c->from);
    str_list_release(&from);
    str_list_release(&got);
    rev_set_release(&s);
    graph_release(&g);
}
END_TEST

START_TEST(test_applied_unknown_row)
{
    graph g;
    two_branches(&g);
    str_list rows = {0};
    str_list_push(&rows, "a1a1a1a1");
    str_list_push(&rows, "ffff0000");
    rev_set applied;
    rb_error err;
    rb_error_init(&err);
    int rc = graph_applied(&g, &rows, &applied, &err);
    str_list_release(&rows);
    graph_release(&g);
    ck_assert_int_eq(rc, -1);
    ck_assert_int_ne(err.kind, 0);
    ck_assert_msg(strstr(err.message, "ffff0000") != NULL, "message: %s", err.message);
    ck_assert_ptr_null(applied.in); /* released on error */
}
END_TEST

/* ---- scale --------------------------------------------------------------------------- */

START_TEST(test_ten_thousand_linear)
{
    enum { N = 10000 };
    graph g;
    graph_init(&g);
    char id[16], parent[16];
    for (int i = 0; i < N; i++) {
        snprintf(id, sizeof id, "r%07d", i);
        snprintf(parent, sizeof parent, "r%07d", i - 1);
        add_rev(&g, id, i ? parent : NULL, NULL, i == 5000 ? "half" : NULL);
    }
    build_ok(&g);
    ck_assert_int_eq(g.count, N);
    for (int k = 0; k < N; k += 997)
        ck_assert_int_eq(g.order[k], k);

    rev_set applied;
    applied_from(&g, NULL, &applied);
    target t;
    rb_error err;
    rb_error_init(&err);
    ck_assert_int_eq(graph_resolve_target(&g, "head", DIR_UPGRADE, &applied, &t, &err), 0);
    ck_assert_int_eq(t.revs[0], N - 1);
    int *steps = NULL, n = 0;
    ck_assert_int_eq(graph_plan(&g, &applied, &t, DIR_UPGRADE, &steps, &n, &err), 0);
    ck_assert_int_eq(n, N);
    for (int i = 0; i < N; i++)
        ck_assert_int_eq(steps[i], i);
    free(steps);
    rev_set_release(&applied);

    applied_from(&g, "r0009999", &applied);
    ck_assert_int_eq(applied.count, N);
    ck_assert_int_eq(graph_resolve_target(&g, "half@head", DIR_UPGRADE, &applied, &t, &err), 0);
    ck_assert_int_eq(t.revs[0], N - 1);
    ck_assert_int_eq(graph_resolve_target(&g, "-2500", DIR_DOWNGRADE, &applied, &t, &err), 0);
    ck_assert_int_eq(t.revs[0], N - 1 - 2500);
    ck_assert_int_eq(graph_resolve_target(&g, "base", DIR_DOWNGRADE, &applied, &t, &err), 0);
    ck_assert_int_eq(graph_plan(&g, &applied, &t, DIR_DOWNGRADE, &steps, &n, &err), 0);
    ck_assert_int_eq(n, N);
    ck_assert_int_eq(steps[0], N - 1);
    ck_assert_int_eq(steps[N - 1], 0);
    free(steps);
    str_list rows = {0};
    ck_assert_int_eq(graph_version_rows(&g, &applied, &rows), 0);
    ck_assert_int_eq(rows.count, 1);
    ck_assert_str_eq(rows.items[0], "r0009999");
    str_list_release(&rows);
    rev_set_release(&applied);
    graph_release(&g);
}
END_TEST

/* root <- a, root <- b, m = merge(a, b): every relative step through it is ambiguous, and
 * the hint names the revisions to choose from as commands to run. */
START_TEST(test_target_ambiguous_step_hints)
{
    graph g;
    graph_init(&g);
    add_rev(&g, "r000root", NULL, NULL, NULL);
    add_rev(&g, "a1a1a1a1", "r000root", NULL, NULL);
    add_rev(&g, "b1b1b1b1", "r000root", NULL, NULL);
    add_rev(&g, "m0m0m0m0", "a1a1a1a1,b1b1b1b1", NULL, NULL);
    build_ok(&g);
    resolved r = resolve_on(&g, "m0m0m0m0", "-1", DIR_DOWNGRADE);
    ck_assert_int_eq(r.rc, -1);
    ck_assert_int_eq(r.err.kind, RB_ERR_USAGE);
    ck_assert_msg(strstr(r.err.hint, "'rbacmig downgrade a1a1a1a1'") &&
                  strstr(r.err.hint, "'rbacmig downgrade b1b1b1b1'"),
                  "hint '%s' should name both parents", r.err.hint);
    r = resolve_on(&g, "r000root", "+1", DIR_UPGRADE);
    ck_assert_int_eq(r.rc, -1);
    ck_assert_msg(strstr(r.err.hint, "'rbacmig upgrade a1a1a1a1'") &&
                  strstr(r.err.hint, "'rbacmig upgrade b1b1b1b1'"),
                  "hint '%s' should name both children", r.err.hint);
    graph_release(&g);
}
END_TEST

/* 40 revisions sharing a prefix: the list in the message is cut at a whole id. */
START_TEST(test_target_prefix_list_cut_whole)
{
    graph g;
    graph_init(&g);
    char id[64], parent[64] = "";
    for (int i = 0; i < 40; i++) {
        snprintf(id, sizeof id, "abcd%036d", i);
        add_rev(&g, id, parent[0] ? parent : NULL, NULL, NULL);
        memcpy(parent, id, sizeof parent);
    }
    build_ok(&g);
    resolved r = resolve_on(&g, NULL, "abcd", DIR_UPGRADE);
    ck_assert_int_eq(r.rc, -1);
    const char *end = r.err.message + strlen(r.err.message);
    ck_assert_msg(end - r.err.message > 5 && strcmp(end - 5, ", ...") == 0,
                  "message '%s' should end with ', ...'", r.err.message);
    /* Every listed id is whole: after each ", " come 40 characters, then ',' or the end. */
    const char *list = strstr(r.err.message, "prefix of ");
    ck_assert_ptr_nonnull(list);
    int whole = 0;
    for (const char *p = list + 10; p; p = strstr(p, ", ")) {
        p += *p == ',' ? 2 : 0;
        if (strcmp(p, "...") == 0)
            break;
        ck_assert_msg(strspn(p, "abcd0123456789") == 40 && (p[40] == ',' || !p[40]),
                      "a cut id in '%s'", r.err.message);
        whole++;
    }
    ck_assert_int_gt(whole, 5);
    graph_release(&g);
}
END_TEST

/* A cycle through many long paths: the list is cut at a whole path. */
START_TEST(test_error_cycle_list_cut_whole)
{
    graph g;
    graph_init(&g);
    add_rev(&g, "r000root", NULL, NULL, NULL);
    char id[64], parent[64];
    for (int i = 0; i < 60; i++) {
        snprintf(id, sizeof id, "cycle%035d", i);
        snprintf(parent, sizeof parent, "cycle%035d", (i + 1) % 60);
        add_rev(&g, id, parent, NULL, NULL);
    }
    char msg[2048];
    build_fails(&g, msg);
    ck_assert_msg(strstr(msg, "cycle in the revision graph") != NULL, "%s", msg);
    ck_assert_msg(strcmp(msg + strlen(msg) - 5, ", ...") == 0, "'%s' should end with ', ...'", msg);
    graph_release(&g);
}
END_TEST

/* Ancestors through parents and depends_on, over a long chain: the walk has its stack from
 * rev_set_init and allocates nothing itself (it cannot stop half-way). */
START_TEST(test_ancestors_walk)
{
    graph g;
    graph_init(&g);
    char id[32], parent[32] = "";
    for (int i = 0; i < 5000; i++) {
        snprintf(id, sizeof id, "c%07d", i);
        add_rev(&g, id, parent[0] ? parent : NULL, NULL, NULL);
        memcpy(parent, id, sizeof parent);
    }
    add_rev(&g, "side0001", "c0000000", NULL, NULL);
    add_rev(&g, "tip00001", "c0004999", "side0001", NULL);
    build_ok(&g);
    rev_set s;
    ck_assert_int_eq(rev_set_init(&s, &g), 0);
    ck_assert_ptr_nonnull(s.stack);
    rev_set_add_ancestors(&s, &g, graph_find(&g, "tip00001"));
    ck_assert_int_eq(s.count, 5002);
    rev_set_add_ancestors(&s, &g, graph_find(&g, "tip00001")); /* idempotent */
    ck_assert_int_eq(s.count, 5002);
    rev_set_release(&s);
    ck_assert_ptr_null(s.stack);
    graph_release(&g);
}
END_TEST

/* One test per row of a case table. */
#define ADD_CASES(tc, test, table) tcase_add_loop_test(tc, test, 0, (int)(sizeof table / sizeof table[0]))

Suite *make_graph_suite(void)
{
    Suite *s = suite_create("graph");
    TCase *tc = tcase_create("build");
    tcase_add_test(tc, test_linear_chain);
    tcase_add_test(tc, test_branch_and_merge);
    ADD_CASES(tc, test_build_errors, build_error_cases);
    tcase_add_test(tc, test_empty_graph);
    tcase_add_test(tc, test_error_cycle_list_cut_whole);
    suite_add_tcase(s, tc);

    tc = tcase_create("targets");
    ADD_CASES(tc, test_targets, target_cases);
    tcase_add_test(tc, test_target_two_heads);
    tcase_add_test(tc, test_target_ambiguous_step_hints);
    tcase_add_test(tc, test_target_prefix_list_cut_whole);
    suite_add_tcase(s, tc);

    tc = tcase_create("plans");
    ADD_CASES(tc, test_plans, plan_cases);
    tcase_add_test(tc, test_plan_downgrade_both_branches);
    tcase_add_test(tc, test_plan_downgrade_unapplied_target);
    suite_add_tcase(s, tc);

    tc = tcase_create("sets and rows");
    ADD_CASES(tc, test_version_rows_round_trip, rows_cases);
    ADD_CASES(tc, test_version_changes, changes_cases);
    ADD_CASES(tc, test_descendants, descendants_cases);
    tcase_add_test(tc, test_applied_unknown_row);
    suite_add_tcase(s, tc);

    tc = tcase_create("scale");
    tcase_add_test(tc, test_ten_thousand_linear);
    tcase_add_test(tc, test_ancestors_walk);
    suite_add_tcase(s, tc);
    return s;
}
