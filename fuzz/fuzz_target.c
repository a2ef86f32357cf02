/* fuzz_target.c: graph_resolve_target and graph_plan on fixed revision graphs.
 *
 * Input: byte 0 chooses the graph (bit 0) and the version-table rows (bits 1-7, one
 * candidate revision each; the applied set is their ancestors, as graph_applied makes it);
 * the rest, NUL-terminated, is the target string, resolved for an upgrade and for a
 * downgrade. Every resolved target is planned, and target and plan are checked against
 * small reference computations written here, independent of graph.c's own loops.
 *
 * Depends on graph.h only: no files, no Lua, no database. */
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz_util.h"
#include "graph.h"

/* One revision of a fixture: down_revision(s), depends_on and branch labels as CSV. */
typedef struct fixture_rev {
    const char *id, *down, *deps, *labels;
} fixture_rev;

/* Three heads: a chain, a branch labelled "feature" merged back, a second branch from the
 * root with two labels, a cross-branch depends_on, and an id ("beef") that is a prefix of
 * another ("beef0001"). */
static const fixture_rev graph_a_revs[] = {
    {"91759229c32b", NULL, NULL, NULL},
    {"ae1027a6acf0", "91759229c32b", NULL, NULL},
    {"abcd00000003", "ae1027a6acf0", NULL, NULL},
    {"abcd00000004", "ae1027a6acf0", NULL, "feature"},
    {"27c6a30d7c1e", "abcd00000004", NULL, NULL},
    {"3cbd1b7a9e01", "abcd00000003,27c6a30d7c1e", NULL, NULL},
    {"d5e6f7a8b9c0", "91759229c32b", NULL, "audit,reports"},
    {"f00dcafe0007", "3cbd1b7a9e01", "d5e6f7a8b9c0", NULL},
    {"0badc0de0009", "d5e6f7a8b9c0", NULL, NULL},
    {"beef", "3cbd1b7a9e01", NULL, NULL},
    {"beef0001", "beef", NULL, "tip"},
    {NULL, NULL, NULL, NULL},
};
/* Version-table row candidates for graph A, one per bit 1-7 of the first byte. */
static const char *const graph_a_rows[7] = {
    "ae1027a6acf0", "abcd00000003", "27c6a30d7c1e", "3cbd1b7a9e01",
    "0badc0de0009", "f00dcafe0007", "beef",
};

/* One head: a branch labelled "side" merged back, a depends_on on an ancestor, labels on
 * a merge-free tip, ids sharing a long prefix, an id with '_'. */
static const fixture_rev graph_b_revs[] = {
    {"c0ffee000001", NULL, NULL, NULL},
    {"c0ffee000002", "c0ffee000001", NULL, NULL},
    {"add_users_01", "c0ffee000002", NULL, "side"},
    {"c0ffee000004", "c0ffee000002", NULL, NULL},
    {"c0ffee000005", "add_users_01,c0ffee000004", NULL, NULL},
    {"c0ffee000006", "c0ffee000005", "add_users_01", NULL},
    {"c0ffee000007", "c0ffee000006", NULL, "main"},
    {NULL, NULL, NULL, NULL},
};
static const char *const graph_b_rows[7] = {
    "c0ffee000001", "c0ffee000002", "add_users_01", "c0ffee000004",
    "c0ffee000005", "c0ffee000006", "c0ffee000007",
};

static graph graphs[2];
static const char *const *graph_rows[2] = {graph_a_rows, graph_b_rows};

static void push_csv(str_list *l, const char *csv)
{
    if (!csv)
        return;
    char *copy = strdup(csv), *save = NULL;
    FUZZ_CHECK(copy != NULL, "out of memory");
    for (char *tok = strtok_r(copy, ",", &save); tok; tok = strtok_r(NULL, ",", &save))
        FUZZ_CHECK(str_list_push(l, tok) == 0, "out of memory");
    free(copy);
}

static void build_fixture(graph *g, const fixture_rev *revs)
{
    rb_error err;
    rb_error_init(&err);
    graph_init(g);
    for (const fixture_rev *f = revs; f->id; f++) {
        revision r;
        char path[64];
        memset(&r, 0, sizeof r);
        snprintf(path, sizeof path, "migrations/%s_m.lua", f->id);
        r.id = strdup(f->id);
        r.path = strdup(path);
        r.message = strdup("m");
        r.transactional = true;
        push_csv(&r.down, f->down);
        push_csv(&r.depends_on, f->deps);
        push_csv(&r.branch_labels, f->labels);
        FUZZ_CHECK(r.id && r.path && r.message, "out of memory");
        FUZZ_CHECK(graph_add(g, &r, &err) == 0, "graph_add: %s", err.message);
    }
    FUZZ_CHECK(graph_build(g, &err) == 0, "fixture does not build: %s", err.message);
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    build_fixture(&graphs[0], graph_a_revs);
    build_fixture(&graphs[1], graph_b_revs);
    return 0;
}

/* ---- reference computations (deliberately naive) ----------------------------------- */

/* in[] |= i and everything it needs through parents and depends_on. */
static void ref_ancestors(const graph *g, int i, unsigned char *in)
{
    if (in[i])
        return;
    in[i] = 1;
    for (int j = 0; j < g->revs[i].nparents; j++)
        ref_ancestors(g, g->revs[i].parents[j], in);
    for (int j = 0; j < g->revs[i].ndeps; j++)
        ref_ancestors(g, g->revs[i].deps[j], in);
}

/* Is a reachable from b by following down_revision edges only (a == b counts)? This is
 * the relation relative targets and LABEL@head walk. */
static bool ref_parent_reaches(const graph *g, int b, int a)
{
    if (a == b)
        return true;
    for (int j = 0; j < g->revs[b].nparents; j++)
        if (ref_parent_reaches(g, g->revs[b].parents[j], a))
            return true;
    return false;
}

static bool is_head(const graph *g, int i)
{
    return g->revs[i].nchildren == 0;
}

static int count_heads(const graph *g)
{
    int n = 0;
    for (int i = 0; i < g->count; i++)
        n += is_head(g, i);
    return n;
}

/* Is s a step count: digits only, 1 to 999999 (leading zeros allowed)? */
static bool ref_count(const char *s, long *n)
{
    if (!*s || strspn(s, "0123456789") != strlen(s))
        return false;
    *n = strtol(s, NULL, 10);
    return *n > 0 && *n < 1000000;
}

/* The one version row of an applied set, -1 for base, -2 when there are several. */
static int ref_single_current(const graph *g, const rev_set *applied)
{
    int found = -1, n = 0;
    for (int i = 0; i < g->count; i++) {
        if (!applied->in[i])
            continue;
        bool applied_child = false;
        for (int c = 0; c < g->revs[i].nchildren; c++)
            applied_child |= applied->in[g->revs[i].children[c]] != 0;
        if (!applied_child) {
            found = i;
            n++;
        }
    }
    return n > 1 ? -2 : found;
}

/* ---- checks ------------------------------------------------------------------------ */

static void check_target(const graph *g, const rev_set *applied, const char *spec,
                         direction dir, const target *t)
{
    FUZZ_CHECK(t->kind == TARGET_BASE || t->kind == TARGET_REVISIONS, "kind %d", t->kind);
    if (t->kind == TARGET_REVISIONS) {
        FUZZ_CHECK(t->nrevs >= 1 && t->nrevs <= 64, "'%s' resolved to %d revisions", spec,
                   t->nrevs);
        for (int i = 0; i < t->nrevs; i++) {
            FUZZ_CHECK(t->revs[i] >= 0 && t->revs[i] < g->count, "'%s': index %d", spec,
                       t->revs[i]);
            for (int j = 0; j < i; j++)
                FUZZ_CHECK(t->revs[i] != t->revs[j], "'%s': revision %d twice", spec,
                           t->revs[i]);
        }
        char *ids = graph_join_ids(g, t->revs, t->nrevs);
        FUZZ_CHECK(ids != NULL, "graph_join_ids failed");
        size_t want = 0;
        for (int i = 0; i < t->nrevs; i++)
            want += strlen(g->revs[t->revs[i]].id) + (i ? 2 : 0);
        FUZZ_CHECK(strlen(ids) == want, "graph_join_ids gave '%s'", ids);
        free(ids);
    }
    long n;
    int exact = graph_find(g, spec);
    const char *at = strchr(spec, '@');
    const char *sign = strpbrk(spec, "+-");
    if (strcmp(spec, "base") == 0) {
        FUZZ_CHECK(t->kind == TARGET_BASE, "'base' is not base");
    } else if (strcmp(spec, "heads") == 0 || strcmp(spec, "head") == 0) {
        FUZZ_CHECK(t->kind == TARGET_REVISIONS && t->nrevs == count_heads(g),
                   "'%s' gave %d of %d heads", spec, t->nrevs, count_heads(g));
        FUZZ_CHECK(spec[4] == 's' || t->nrevs == 1, "'head' resolved with %d heads", t->nrevs);
        for (int i = 0; i < t->nrevs; i++)
            FUZZ_CHECK(is_head(g, t->revs[i]), "'%s' gave non-head '%s'", spec,
                       g->revs[t->revs[i]].id);
    } else if (at) {
        /* LABEL@head: the one head descending from the labelled revision. */
        FUZZ_CHECK(strcmp(at, "@head") == 0, "'%s' resolved", spec);
        FUZZ_CHECK(t->kind == TARGET_REVISIONS && t->nrevs == 1, "'%s': not one revision",
                   spec);
        int labelled = -1;
        size_t len = (size_t)(at - spec);
        for (int i = 0; i < g->count && labelled < 0; i++)
            for (int l = 0; l < g->revs[i].branch_labels.count; l++)
                if (strlen(g->revs[i].branch_labels.items[l]) == len &&
                    memcmp(g->revs[i].branch_labels.items[l], spec, len) == 0)
                    labelled = i;
        FUZZ_CHECK(labelled >= 0, "'%s' resolved without such a label", spec);
        FUZZ_CHECK(is_head(g, t->revs[0]) && ref_parent_reaches(g, t->revs[0], labelled),
                   "'%s' gave '%s', not a head above the label", spec,
                   g->revs[t->revs[0]].id);
    } else if ((spec[0] == '+' || spec[0] == '-') && ref_count(spec + 1, &n)) {
        FUZZ_CHECK((spec[0] == '+') == (dir == DIR_UPGRADE), "'%s' resolved the wrong way",
                   spec);
        int cur = ref_single_current(g, applied);
        FUZZ_CHECK(cur != -2, "'%s' resolved with several current heads", spec);
        if (spec[0] == '+') {
            FUZZ_CHECK(t->kind == TARGET_REVISIONS, "'%s' gave base", spec);
            FUZZ_CHECK(!applied->in[t->revs[0]], "'%s' gave applied '%s'", spec,
                       g->revs[t->revs[0]].id);
            FUZZ_CHECK(cur < 0 || ref_parent_reaches(g, t->revs[0], cur),
                       "'%s' gave '%s', not above the current revision", spec,
                       g->revs[t->revs[0]].id);
        } else {
            FUZZ_CHECK(cur >= 0, "'%s' resolved below base", spec);
            FUZZ_CHECK(t->kind == TARGET_BASE ||
                       (t->revs[0] != cur && ref_parent_reaches(g, cur, t->revs[0])),
                       "'%s' gave '%s', not below the current revision", spec,
                       g->revs[t->revs[0]].id);
        }
    } else if (sign && sign > spec && ref_count(sign + 1, &n)) {
        /* REV+N / REV-N: strictly above / below a revision REV names (exactly or as a
         * prefix; the base of REV-N is not checked). */
        if (*sign == '+') {
            FUZZ_CHECK(t->kind == TARGET_REVISIONS, "'%s' gave base", spec);
            bool below = false;
            for (int i = 0; i < g->count && !below; i++)
                below = strncmp(g->revs[i].id, spec, (size_t)(sign - spec)) == 0 &&
                        i != t->revs[0] && ref_parent_reaches(g, t->revs[0], i);
            FUZZ_CHECK(below, "'%s' gave '%s', above no matching revision", spec,
                       g->revs[t->revs[0]].id);
        } else if (t->kind == TARGET_REVISIONS) {
            bool above = false;
            for (int i = 0; i < g->count && !above; i++)
                above = strncmp(g->revs[i].id, spec, (size_t)(sign - spec)) == 0 &&
                        i != t->revs[0] && ref_parent_reaches(g, i, t->revs[0]);
            FUZZ_CHECK(above, "'%s' gave '%s', below no matching revision", spec,
                       g->revs[t->revs[0]].id);
        }
    } else if (exact >= 0) {
        FUZZ_CHECK(t->kind == TARGET_REVISIONS && t->nrevs == 1 && t->revs[0] == exact,
                   "exact id '%s' resolved elsewhere", spec);
    } else {
        /* A prefix of 4+ characters naming exactly one revision. */
        size_t len = strlen(spec);
        FUZZ_CHECK(len >= 4 && t->kind == TARGET_REVISIONS, "'%s' resolved", spec);
        int matches = 0;
        for (int i = 0; i < g->count; i++)
            matches += strncmp(g->revs[i].id, spec, len) == 0;
        FUZZ_CHECK(matches == 1 && strncmp(g->revs[t->revs[0]].id, spec, len) == 0,
                   "prefix '%s' matches %d revisions, resolved to '%s'", spec, matches,
                   g->revs[t->revs[0]].id);
    }
}

static void check_plan(const graph *g, const rev_set *applied, const target *t, direction dir,
                       const int *steps, int nsteps)
{
    unsigned char *want = calloc((size_t)g->count + 1, 1);
    unsigned char *seen = calloc((size_t)g->count + 1, 1);
    FUZZ_CHECK(want && seen, "out of memory");
    FUZZ_CHECK(nsteps >= 0 && nsteps <= g->count, "%d steps", nsteps);
    for (int s = 0; s < nsteps; s++) {
        FUZZ_CHECK(steps[s] >= 0 && steps[s] < g->count, "step %d is index %d", s, steps[s]);
        FUZZ_CHECK(!seen[steps[s]], "'%s' planned twice", g->revs[steps[s]].id);
        seen[steps[s]] = 1;
    }
    if (dir == DIR_UPGRADE) {
        /* Exactly the missing ancestors of the target, parents (and dependencies) first. */
        if (t->kind == TARGET_REVISIONS)
            for (int i = 0; i < t->nrevs; i++)
                ref_ancestors(g, t->revs[i], want);
        for (int i = 0; i < g->count; i++)
            FUZZ_CHECK(seen[i] == (want[i] && !applied->in[i]), "upgrade plan %s '%s'",
                       seen[i] ? "has" : "lacks", g->revs[i].id);
        for (int s = 1; s < nsteps; s++)
            FUZZ_CHECK(g->revs[steps[s - 1]].topo < g->revs[steps[s]].topo,
                       "upgrade steps out of topological order");
        unsigned char *done = calloc((size_t)g->count + 1, 1);
        FUZZ_CHECK(done != NULL, "out of memory");
        memcpy(done, applied->in, (size_t)g->count);
        for (int s = 0; s < nsteps; s++) {
            const revision *r = &g->revs[steps[s]];
            for (int j = 0; j < r->nparents; j++)
                FUZZ_CHECK(done[r->parents[j]], "'%s' planned before its parent", r->id);
            for (int j = 0; j < r->ndeps; j++)
                FUZZ_CHECK(done[r->deps[j]], "'%s' planned before its dependency", r->id);
            done[steps[s]] = 1;
        }
        free(done);
    } else {
        /* Exactly the applied revisions above the target (all of them for base), children
         * first; what stays applied still has all it needs. */
        int to = t->kind == TARGET_REVISIONS ? t->revs[0] : -1;
        for (int i = 0; i < g->count; i++) {
            if (!applied->in[i] || i == to)
                continue;
            if (to < 0) {
                want[i] = 1;
            } else {
                unsigned char *anc = calloc((size_t)g->count + 1, 1);
                FUZZ_CHECK(anc != NULL, "out of memory");
                ref_ancestors(g, i, anc);
                want[i] = anc[to];
                free(anc);
            }
        }
        for (int i = 0; i < g->count; i++)
            FUZZ_CHECK(seen[i] == want[i], "downgrade plan %s '%s'", seen[i] ? "has" : "lacks",
                       g->revs[i].id);
        for (int s = 1; s < nsteps; s++)
            FUZZ_CHECK(g->revs[steps[s - 1]].topo > g->revs[steps[s]].topo,
                       "downgrade steps out of reverse topological order");
        for (int i = 0; i < g->count; i++) {
            if (!applied->in[i] || seen[i])
                continue;
            const revision *r = &g->revs[i];
            for (int j = 0; j < r->nparents; j++)
                FUZZ_CHECK(!seen[r->parents[j]], "'%s' stays but its parent goes", r->id);
            for (int j = 0; j < r->ndeps; j++)
                FUZZ_CHECK(!seen[r->deps[j]], "'%s' stays but its dependency goes", r->id);
        }
    }
    free(want);
    free(seen);
}

static void resolve_and_plan(const graph *g, const rev_set *applied, const char *spec,
                             direction dir)
{
    target t;
    rb_error err;
    rb_error_init(&err);
    if (graph_resolve_target(g, spec, dir, applied, &t, &err) != 0) {
        FUZZ_CHECK(err.kind == RB_ERR_USAGE || err.kind == RB_ERR_FAILURE,
                   "'%s' failed with code %d", spec, err.kind);
        FUZZ_CHECK(err.message[0] != '\0', "'%s' failed without a message", spec);
        return;
    }
    check_target(g, applied, spec, dir, &t);

    int *steps = NULL, nsteps = -1;
    rb_error_init(&err);
    if (graph_plan(g, applied, &t, dir, &steps, &nsteps, &err) != 0) {
        /* The only planned refusal: downgrading to a revision that is not applied. */
        FUZZ_CHECK(dir == DIR_DOWNGRADE && t.kind == TARGET_REVISIONS &&
                   !applied->in[t.revs[0]], "plan for '%s' failed: %s", spec, err.message);
        FUZZ_CHECK(steps == NULL, "failed plan left steps allocated");
        return;
    }
    check_plan(g, applied, &t, dir, steps, nsteps);
    free(steps);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    const graph *g = &graphs[data[0] & 1];
    const char *const *candidates = graph_rows[data[0] & 1];
    str_list rows = {0};
    for (int b = 0; b < 7; b++)
        if (data[0] & (2 << b))
            FUZZ_CHECK(str_list_push(&rows, candidates[b]) == 0, "out of memory");

    rev_set applied;
    rb_error err;
    rb_error_init(&err);
    FUZZ_CHECK(graph_applied(g, &rows, &applied, &err) == 0, "graph_applied: %s", err.message);
    /* The applied set is closed under ancestors, and its version rows give it back. */
    str_list again = {0};
    rev_set back;
    FUZZ_CHECK(graph_version_rows(g, &applied, &again) == 0, "graph_version_rows failed");
    FUZZ_CHECK(graph_applied(g, &again, &back, &err) == 0, "graph_applied: %s", err.message);
    FUZZ_CHECK(back.count == applied.count &&
               memcmp(back.in, applied.in, (size_t)g->count) == 0,
               "version rows do not give the applied set back");
    for (int i = 0; i < g->count; i++) {
        if (!applied.in[i])
            continue;
        for (int j = 0; j < g->revs[i].nparents; j++)
            FUZZ_CHECK(applied.in[g->revs[i].parents[j]], "applied set not closed");
        for (int j = 0; j < g->revs[i].ndeps; j++)
            FUZZ_CHECK(applied.in[g->revs[i].deps[j]], "applied set not closed");
    }
    rev_set_release(&back);
    str_list_release(&again);

    char *spec = fuzz_cstr(data + 1, size - 1);
    resolve_and_plan(g, &applied, spec, DIR_UPGRADE);
    resolve_and_plan(g, &applied, spec, DIR_DOWNGRADE);
    free(spec);
    rev_set_release(&applied);
    str_list_release(&rows);
    return 0;
}
