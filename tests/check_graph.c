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

START_TEST(test_error_duplicate_id)
{
    graph g;
    graph_init(&g);
    char msg[2048];
    add_rev(&g, "aaaa0001", NULL, NULL, NULL);
    add_rev(&g, "bbbb0002", "aaaa0001", NULL, NULL);
    /* Same id, another file. */
    revision r;
    memset(&r, 0, sizeof r);
    r.id = strdup("bbbb0002");
    r.path = strdup("migrations/bbbb0002_copy.lua");
    r.message = strdup("copy");
    str_list_push(&r.down, "aaaa0001");
    rb_error err;
    ck_assert_int_eq(graph_add(&g, &r, &err), 0);
    build_fails(&g, msg);
    graph_release(&g);
    ck_assert_msg(strstr(msg, "bbbb0002") != NULL, "message should name the id: %s", msg);
    ck_assert_msg(strstr(msg, "migrations/bbbb0002_m.lua") != NULL, "first path: %s", msg);
    ck_assert_msg(strstr(msg, "migrations/bbbb0002_copy.lua") != NULL, "second path: %s", msg);
}
END_TEST

START_TEST(test_error_dangling_parent)
{
    graph g;
    graph_init(&g);
    char msg[2048];
    add_rev(&g, "aaaa0001", NULL, NULL, NULL);
    add_rev(&g, "bbbb0002", "zzzz9999", NULL, NULL);
    build_fails(&g, msg);
    graph_release(&g);
    ck_assert_msg(strstr(msg, "migrations/bbbb0002_m.lua") != NULL, "path: %s", msg);
    ck_assert_msg(strstr(msg, "zzzz9999") != NULL, "missing id: %s", msg);
}
END_TEST

START_TEST(test_error_dangling_dependency)
{
    graph g;
    graph_init(&g);
    char msg[2048];
    add_rev(&g, "aaaa0001", NULL, NULL, NULL);
    add_rev(&g, "bbbb0002", "aaaa0001", "yyyy8888", NULL);
    build_fails(&g, msg);
    graph_release(&g);
    ck_assert_msg(strstr(msg, "migrations/bbbb0002_m.lua") != NULL, "path: %s", msg);
    ck_assert_msg(strstr(msg, "yyyy8888") != NULL, "missing id: %s", msg);
    ck_assert_msg(strstr(msg, "depends_on") != NULL, "which field: %s", msg);
}
END_TEST

START_TEST(test_error_self_parent)
{
    graph g;
    graph_init(&g);
    char msg[2048];
    add_rev(&g, "aaaa0001", NULL, NULL, NULL);
    add_rev(&g, "bbbb0002", "bbbb0002", NULL, NULL);
    build_fails(&g, msg);
    graph_release(&g);
    ck_assert_msg(strstr(msg, "migrations/bbbb0002_m.lua") != NULL, "path: %s", msg);
    ck_assert_msg(strstr(msg, "itself") != NULL, "message: %s", msg);
}
END_TEST

START_TEST(test_error_cycle)
{
    graph g;
    graph_init(&g);
    char msg[2048];
    add_rev(&g, "aaaa0001", NULL, NULL, NULL);
    add_rev(&g, "bbbb0002", "aaaa0001", NULL, NULL);
    add_rev(&g, "cccc0003", "dddd0004", NULL, NULL);
    add_rev(&g, "dddd0004", "cccc0003", NULL, NULL);
    build_fails(&g, msg);
    graph_release(&g);
    ck_assert_msg(strstr(msg, "cycle") != NULL, "message: %s", msg);
    ck_assert_msg(strstr(msg, "migrations/cccc0003_m.lua") != NULL, "names c: %s", msg);
    ck_assert_msg(strstr(msg, "migrations/dddd0004_m.lua") != NULL, "names d: %s", msg);
    ck_assert_msg(strstr(msg, "aaaa0001") == NULL && strstr(msg, "bbbb0002") == NULL,
                  "revisions off the cycle are not named: %s", msg);
}
END_TEST

START_TEST(test_error_cycle_through_depends_on)
{
    graph g;
    graph_init(&g);
    char msg[2048];
    add_rev(&g, "aaaa0001", NULL, NULL, NULL);
    add_rev(&g, "bbbb0002", "aaaa0001", "cccc0003", NULL);
    add_rev(&g, "cccc0003", "bbbb0002", NULL, NULL);
    build_fails(&g, msg);
    graph_release(&g);
    ck_assert_msg(strstr(msg, "cycle") != NULL, "message: %s", msg);
    ck_assert_msg(strstr(msg, "migrations/bbbb0002_m.lua") != NULL, "names b: %s", msg);
}
END_TEST

START_TEST(test_error_two_roots)
{
    graph g;
    graph_init(&g);
    char msg[2048];
    add_rev(&g, "aaaa0001", NULL, NULL, NULL);
    add_rev(&g, "bbbb0002", "aaaa0001", NULL, NULL);
    add_rev(&g, "cccc0003", NULL, NULL, NULL);
    build_fails(&g, msg);
    graph_release(&g);
    ck_assert_msg(strstr(msg, "migrations/aaaa0001_m.lua") != NULL, "first root: %s", msg);
    ck_assert_msg(strstr(msg, "migrations/cccc0003_m.lua") != NULL, "second root: %s", msg);
}
END_TEST

START_TEST(test_error_duplicate_branch_label)
{
    graph g;
    graph_init(&g);
    char msg[2048];
    add_rev(&g, "aaaa0001", NULL, NULL, NULL);
    add_rev(&g, "bbbb0002", "aaaa0001", NULL, "feature");
    add_rev(&g, "cccc0003", "aaaa0001", NULL, "other,feature");
    build_fails(&g, msg);
    graph_release(&g);
    ck_assert_msg(strstr(msg, "'feature'") != NULL, "label: %s", msg);
    ck_assert_msg(strstr(msg, "migrations/bbbb0002_m.lua") != NULL, "first: %s", msg);
    ck_assert_msg(strstr(msg, "migrations/cccc0003_m.lua") != NULL, "second: %s", msg);
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

/* 1000aaaa <- 2000bbbb <- 2000cccc <- 3000dddd (label "feature") <- 4000eeee */
static void linear_five(graph *g)
{
    graph_init(g);
    add_rev(g, "1000aaaa", NULL, NULL, NULL);
    add_rev(g, "2000bbbb", "1000aaaa", NULL, NULL);
    add_rev(g, "2000cccc", "2000bbbb", NULL, NULL);
    add_rev(g, "3000dddd", "2000cccc", NULL, "feature");
    add_rev(g, "4000eeee", "3000dddd", NULL, NULL);
    build_ok(g);
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

START_TEST(test_target_head_heads_base)
{
    graph g;
    linear_five(&g);
    expect_target(&g, NULL, "head", DIR_UPGRADE, "4000eeee");
    expect_target(&g, NULL, "heads", DIR_UPGRADE, "4000eeee");
    expect_target(&g, "4000eeee", "base", DIR_DOWNGRADE, "base");
    graph_release(&g);
}
END_TEST

START_TEST(test_target_exact_and_prefix)
{
    graph g;
    linear_five(&g);
    expect_target(&g, NULL, "2000bbbb", DIR_UPGRADE, "2000bbbb");
    expect_target(&g, NULL, "3000", DIR_UPGRADE, "3000dddd");
    expect_target(&g, NULL, "2000b", DIR_UPGRADE, "2000bbbb");
    expect_target(&g, NULL, "2000c", DIR_UPGRADE, "2000cccc");
    graph_release(&g);
}
END_TEST

START_TEST(test_target_bad_ids)
{
    graph g;
    linear_five(&g);
    expect_target_error(&g, NULL, "2000", DIR_UPGRADE, RB_EXIT_USAGE, "2000bbbb");
    expect_target_error(&g, NULL, "2000", DIR_UPGRADE, RB_EXIT_USAGE, "2000cccc");
    expect_target_error(&g, NULL, "300", DIR_UPGRADE, RB_EXIT_USAGE, "'300'");
    expect_target_error(&g, NULL, "300", DIR_UPGRADE, RB_EXIT_USAGE, "4 characters");
    expect_target_error(&g, NULL, "9999", DIR_UPGRADE, RB_EXIT_USAGE, "'9999'");
    expect_target_error(&g, NULL, "4000eeeeX", DIR_UPGRADE, RB_EXIT_USAGE, "4000eeeeX");
    expect_target_error(&g, NULL, "", DIR_UPGRADE, RB_EXIT_USAGE, "empty");
    graph_release(&g);
}
END_TEST

START_TEST(test_target_relative)
{
    graph g;
    linear_five(&g);
    expect_target(&g, NULL, "+1", DIR_UPGRADE, "1000aaaa");
    expect_target(&g, NULL, "+5", DIR_UPGRADE, "4000eeee");
    expect_target(&g, "2000bbbb", "+2", DIR_UPGRADE, "3000dddd");
    expect_target(&g, "2000bbbb", "-1", DIR_DOWNGRADE, "1000aaaa");
    expect_target(&g, "2000bbbb", "-2", DIR_DOWNGRADE, "base");
    expect_target(&g, "4000eeee", "-4", DIR_DOWNGRADE, "1000aaaa");
    expect_target_error(&g, "2000bbbb", "-3", DIR_DOWNGRADE, RB_EXIT_USAGE, "below base");
    expect_target_error(&g, "2000bbbb", "+4", DIR_UPGRADE, RB_EXIT_USAGE, "past the head");
    expect_target_error(&g, "4000eeee", "+1", DIR_UPGRADE, RB_EXIT_USAGE, "past the head");
    expect_target_error(&g, NULL, "-1", DIR_DOWNGRADE, RB_EXIT_USAGE, "below base");
    /* The sign must agree with the command. */
    expect_target_error(&g, "2000bbbb", "+1", DIR_DOWNGRADE, RB_EXIT_USAGE, "'+1'");
    expect_target_error(&g, "2000bbbb", "-1", DIR_UPGRADE, RB_EXIT_USAGE, "'-1'");
    graph_release(&g);
}
END_TEST

START_TEST(test_target_rev_plus_minus)
{
    graph g;
    linear_five(&g);
    expect_target(&g, NULL, "2000bbbb+2", DIR_UPGRADE, "3000dddd");
    expect_target(&g, NULL, "2000b+1", DIR_UPGRADE, "2000cccc");
    expect_target(&g, "4000eeee", "3000dddd-3", DIR_DOWNGRADE, "1000aaaa");
    expect_target(&g, "4000eeee", "3000dddd-4", DIR_DOWNGRADE, "base");
    expect_target_error(&g, "4000eeee", "3000dddd-5", DIR_DOWNGRADE, RB_EXIT_USAGE,
                        "below base");
    expect_target_error(&g, NULL, "4000eeee+1", DIR_UPGRADE, RB_EXIT_USAGE, "past the head");
    expect_target_error(&g, NULL, "9999aaaa+1", DIR_UPGRADE, RB_EXIT_USAGE, "9999aaaa");
    graph_release(&g);
}
END_TEST

START_TEST(test_target_label_head)
{
    graph g;
    linear_five(&g);
    expect_target(&g, NULL, "feature@head", DIR_UPGRADE, "4000eeee");
    expect_target(&g, "1000aaaa", "feature@head", DIR_UPGRADE, "4000eeee");
    expect_target_error(&g, NULL, "nosuch@head", DIR_UPGRADE, RB_EXIT_USAGE, "nosuch@head");
    expect_target_error(&g, NULL, "feature@tail", DIR_UPGRADE, RB_EXIT_USAGE, "feature@tail");
    graph_release(&g);
}
END_TEST

/* root <- a1 <- a2 (label "alpha"), root <- b1 (label "beta") <- b2: two heads. */
static void two_branches(graph *g)
{
    graph_init(g);
    add_rev(g, "r000root", NULL, NULL, NULL);
    add_rev(g, "a1a1a1a1", "r000root", NULL, "alpha");
    add_rev(g, "a2a2a2a2", "a1a1a1a1", NULL, NULL);
    add_rev(g, "b1b1b1b1", "r000root", NULL, "beta");
    add_rev(g, "b2b2b2b2", "b1b1b1b1", NULL, NULL);
    build_ok(g);
}

START_TEST(test_target_label_with_two_heads)
{
    /* A label on the root: both branches descend from it. */
    graph g;
    graph_init(&g);
    add_rev(&g, "r000root", NULL, NULL, "trunk");
    add_rev(&g, "a1a1a1a1", "r000root", NULL, NULL);
    add_rev(&g, "b1b1b1b1", "r000root", NULL, NULL);
    build_ok(&g);
    expect_target_error(&g, NULL, "trunk@head", DIR_UPGRADE, 0, "a1a1a1a1");
    expect_target_error(&g, NULL, "trunk@head", DIR_UPGRADE, 0, "b1b1b1b1");
    graph_release(&g);
}
END_TEST

START_TEST(test_target_id_prefix_of_another)
{
    /* An exact id wins over being the prefix of a longer one. */
    graph g;
    graph_init(&g);
    add_rev(&g, "abcd", NULL, NULL, NULL);
    add_rev(&g, "abcdef", "abcd", NULL, NULL);
    build_ok(&g);
    expect_target(&g, NULL, "abcd", DIR_UPGRADE, "abcd");
    expect_target(&g, NULL, "abcde", DIR_UPGRADE, "abcdef");
    expect_target(&g, NULL, "abcd+1", DIR_UPGRADE, "abcdef");
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

    expect_target(&g, NULL, "alpha@head", DIR_UPGRADE, "a2a2a2a2");
    expect_target(&g, NULL, "beta@head", DIR_UPGRADE, "b2b2b2b2");
    /* +1 from the root has two children to choose from. */
    expect_target_error(&g, "r000root", "+1", DIR_UPGRADE, RB_EXIT_USAGE, "ambiguous");
    /* +1 / -1 from two current heads is ambiguous too. */
    expect_target_error(&g, "a2a2a2a2,b2b2b2b2", "+1", DIR_UPGRADE, RB_EXIT_USAGE, "+1");
    expect_target_error(&g, "a2a2a2a2,b2b2b2b2", "-1", DIR_DOWNGRADE, RB_EXIT_USAGE, "-1");
    expect_target(&g, "a2a2a2a2,b2b2b2b2", "b2b2-1", DIR_DOWNGRADE, "b1b1b1b1");
    graph_release(&g);
}
END_TEST

/* ---- plans --------------------------------------------------------------------------- */

START_TEST(test_plan_upgrade_parents_first)
{
    graph g;
    linear_five(&g);
    char ids[512];
    plan_for(&g, NULL, "head", DIR_UPGRADE, ids, sizeof ids);
    ck_assert_str_eq(ids, "1000aaaa,2000bbbb,2000cccc,3000dddd,4000eeee");
    plan_for(&g, "2000bbbb", "3000dddd", DIR_UPGRADE, ids, sizeof ids);
    ck_assert_str_eq(ids, "2000cccc,3000dddd");
    plan_for(&g, "2000bbbb", "+1", DIR_UPGRADE, ids, sizeof ids);
    ck_assert_str_eq(ids, "2000cccc");
    /* Already there: nothing to do. */
    plan_for(&g, "4000eeee", "head", DIR_UPGRADE, ids, sizeof ids);
    ck_assert_str_eq(ids, "");
    graph_release(&g);
}
END_TEST

START_TEST(test_plan_downgrade_children_first)
{
    graph g;
    linear_five(&g);
    char ids[512];
    plan_for(&g, "4000eeee", "2000bbbb", DIR_DOWNGRADE, ids, sizeof ids);
    ck_assert_str_eq(ids, "4000eeee,3000dddd,2000cccc");
    plan_for(&g, "4000eeee", "base", DIR_DOWNGRADE, ids, sizeof ids);
    ck_assert_str_eq(ids, "4000eeee,3000dddd,2000cccc,2000bbbb,1000aaaa");
    plan_for(&g, "3000dddd", "-1", DIR_DOWNGRADE, ids, sizeof ids);
    ck_assert_str_eq(ids, "3000dddd");
    plan_for(&g, NULL, "base", DIR_DOWNGRADE, ids, sizeof ids);
    ck_assert_str_eq(ids, "");
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

START_TEST(test_plan_downgrade_keeps_other_branch)
{
    graph g;
    two_branches(&g);
    char ids[512];
    plan_for(&g, "a2a2a2a2,b2b2b2b2", "a1a1a1a1", DIR_DOWNGRADE, ids, sizeof ids);
    ck_assert_str_eq(ids, "a2a2a2a2");
    plan_for(&g, "a2a2a2a2,b2b2b2b2", "b1b1", DIR_DOWNGRADE, ids, sizeof ids);
    ck_assert_str_eq(ids, "b2b2b2b2");

    /* Down to the root: both branches go, each child before its parent. */
    plan_for(&g, "a2a2a2a2,b2b2b2b2", "r000root", DIR_DOWNGRADE, ids, sizeof ids);
    ck_assert_uint_eq(strlen(ids), 4 * 8 + 3);
    ck_assert_ptr_null(strstr(ids, "r000root"));
    ck_assert_msg(strstr(ids, "a2a2a2a2") < strstr(ids, "a1a1a1a1"), "a2 before a1: %s", ids);
    ck_assert_msg(strstr(ids, "b2b2b2b2") < strstr(ids, "b1b1b1b1"), "b2 before b1: %s", ids);

    /* Upgrading one branch leaves the other alone. */
    plan_for(&g, "r000root", "alpha@head", DIR_UPGRADE, ids, sizeof ids);
    ck_assert_str_eq(ids, "a1a1a1a1,a2a2a2a2");
    plan_for(&g, "a2a2a2a2", "heads", DIR_UPGRADE, ids, sizeof ids);
    ck_assert_str_eq(ids, "b1b1b1b1,b2b2b2b2");
    graph_release(&g);
}
END_TEST

START_TEST(test_plan_depends_on)
{
    /* root <- a1 <- a2, root <- b1 (depends_on a2) */
    graph g;
    graph_init(&g);
    add_rev(&g, "r000root", NULL, NULL, NULL);
    add_rev(&g, "b1b1b1b1", "r000root", "a2a2a2a2", NULL);
    add_rev(&g, "a1a1a1a1", "r000root", NULL, NULL);
    add_rev(&g, "a2a2a2a2", "a1a1a1a1", NULL, NULL);
    build_ok(&g);
    char ids[512];
    /* Upgrading to b1 pulls in a1 and a2 first. */
    plan_for(&g, "r000root", "b1b1b1b1", DIR_UPGRADE, ids, sizeof ids);
    ck_assert_str_eq(ids, "a1a1a1a1,a2a2a2a2,b1b1b1b1");
    plan_for(&g, NULL, "b1b1b1b1", DIR_UPGRADE, ids, sizeof ids);
    ck_assert_str_eq(ids, "r000root,a1a1a1a1,a2a2a2a2,b1b1b1b1");
    /* Downgrading a2 away takes b1, which depends on it, first. */
    plan_for(&g, "a2a2a2a2,b1b1b1b1", "a1a1a1a1", DIR_DOWNGRADE, ids, sizeof ids);
    ck_assert_str_eq(ids, "b1b1b1b1,a2a2a2a2");
    graph_release(&g);
}
END_TEST

START_TEST(test_plan_merge)
{
    graph g;
    graph_init(&g);
    add_rev(&g, "r000root", NULL, NULL, NULL);
    add_rev(&g, "a1a1a1a1", "r000root", NULL, NULL);
    add_rev(&g, "b1b1b1b1", "r000root", NULL, NULL);
    add_rev(&g, "m1m1m1m1", "a1a1a1a1,b1b1b1b1", NULL, NULL);
    build_ok(&g);
    char ids[512];
    plan_for(&g, "a1a1a1a1", "head", DIR_UPGRADE, ids, sizeof ids);
    ck_assert_str_eq(ids, "b1b1b1b1,m1m1m1m1");
    plan_for(&g, "m1m1m1m1", "a1a1a1a1", DIR_DOWNGRADE, ids, sizeof ids);
    ck_assert_str_eq(ids, "m1m1m1m1");
    expect_target_error(&g, "m1m1m1m1", "-2", DIR_DOWNGRADE, RB_EXIT_USAGE, "merge");
    graph_release(&g);
}
END_TEST

/* ---- version rows -------------------------------------------------------------------- */

/* Applied from rows_csv, then back to rows, as "a,b" in topological order. */
static void round_trip(const graph *g, const char *rows_csv, char *out, size_t size,
                       int *members)
{
    rev_set applied;
    applied_from(g, rows_csv, &applied);
    *members = applied.count;
    str_list rows = {0};
    ck_assert_int_eq(graph_version_rows(g, &applied, &rows), 0);
    out[0] = '\0';
    for (int i = 0; i < rows.count; i++) {
        size_t len = strlen(out);
        snprintf(out + len, size - len, "%s%s", i ? "," : "", rows.items[i]);
    }
    str_list_release(&rows);
    rev_set_release(&applied);
}

START_TEST(test_version_rows_round_trip)
{
    graph g;
    two_branches(&g);
    char rows[512];
    int members;
    round_trip(&g, "a2a2a2a2,b1b1b1b1", rows, sizeof rows, &members);
    ck_assert_int_eq(members, 4);
    ck_assert_msg(strcmp(rows, "a2a2a2a2,b1b1b1b1") == 0 ||
                      strcmp(rows, "b1b1b1b1,a2a2a2a2") == 0,
                  "rows: %s", rows);
    /* Redundant rows (an ancestor of another row) collapse. */
    round_trip(&g, "a1a1a1a1,a2a2a2a2,r000root", rows, sizeof rows, &members);
    ck_assert_int_eq(members, 3);
    ck_assert_str_eq(rows, "a2a2a2a2");
    round_trip(&g, "r000root", rows, sizeof rows, &members);
    ck_assert_int_eq(members, 1);
    ck_assert_str_eq(rows, "r000root");
    round_trip(&g, NULL, rows, sizeof rows, &members);
    ck_assert_int_eq(members, 0);
    ck_assert_str_eq(rows, "");

    rev_set applied;
    applied_from(&g, "b2b2b2b2", &applied);
    ck_assert_int_eq(applied.in[graph_find(&g, "r000root")], 1);
    ck_assert_int_eq(applied.in[graph_find(&g, "b1b1b1b1")], 1);
    ck_assert_int_eq(applied.in[graph_find(&g, "a1a1a1a1")], 0);
    rev_set_release(&applied);
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

START_TEST(test_str_list)
{
    str_list l = {0};
    ck_assert_int_eq(str_list_push(&l, "a"), 0);
    ck_assert_int_eq(str_list_push(&l, "bc"), 0);
    ck_assert_int_eq(l.count, 2);
    ck_assert(str_list_contains(&l, "bc"));
    ck_assert(!str_list_contains(&l, "b"));
    str_list_release(&l);
    ck_assert_int_eq(l.count, 0);
    ck_assert_ptr_null(l.items);
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
    ck_assert_int_eq(r.err.kind, RB_EXIT_USAGE);
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

Suite *make_graph_suite(void)
{
    Suite *s = suite_create("graph");
    TCase *tc = tcase_create("build");
    tcase_add_test(tc, test_str_list);
    tcase_add_test(tc, test_linear_chain);
    tcase_add_test(tc, test_branch_and_merge);
    tcase_add_test(tc, test_error_duplicate_id);
    tcase_add_test(tc, test_error_dangling_parent);
    tcase_add_test(tc, test_error_dangling_dependency);
    tcase_add_test(tc, test_error_self_parent);
    tcase_add_test(tc, test_error_cycle);
    tcase_add_test(tc, test_error_cycle_through_depends_on);
    tcase_add_test(tc, test_error_two_roots);
    tcase_add_test(tc, test_error_duplicate_branch_label);
    tcase_add_test(tc, test_empty_graph);
    tcase_add_test(tc, test_error_cycle_list_cut_whole);
    suite_add_tcase(s, tc);

    tc = tcase_create("targets");
    tcase_add_test(tc, test_target_head_heads_base);
    tcase_add_test(tc, test_target_exact_and_prefix);
    tcase_add_test(tc, test_target_bad_ids);
    tcase_add_test(tc, test_target_relative);
    tcase_add_test(tc, test_target_rev_plus_minus);
    tcase_add_test(tc, test_target_label_head);
    tcase_add_test(tc, test_target_two_heads);
    tcase_add_test(tc, test_target_label_with_two_heads);
    tcase_add_test(tc, test_target_id_prefix_of_another);
    tcase_add_test(tc, test_target_ambiguous_step_hints);
    tcase_add_test(tc, test_target_prefix_list_cut_whole);
    suite_add_tcase(s, tc);

    tc = tcase_create("plans");
    tcase_add_test(tc, test_plan_upgrade_parents_first);
    tcase_add_test(tc, test_plan_downgrade_children_first);
    tcase_add_test(tc, test_plan_downgrade_unapplied_target);
    tcase_add_test(tc, test_plan_downgrade_keeps_other_branch);
    tcase_add_test(tc, test_plan_depends_on);
    tcase_add_test(tc, test_plan_merge);
    tcase_add_test(tc, test_version_rows_round_trip);
    tcase_add_test(tc, test_applied_unknown_row);
    suite_add_tcase(s, tc);

    tc = tcase_create("scale");
    tcase_add_test(tc, test_ten_thousand_linear);
    tcase_add_test(tc, test_ancestors_walk);
    suite_add_tcase(s, tc);
    return s;
}
