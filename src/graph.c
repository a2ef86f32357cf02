/* graph.c: the revision DAG, its checks, target resolution and planning. */
#include "graph.h"

#include <ctype.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Appends ", item" (or item, first) to the list in buf if it fits whole, else ", ..." once:
 * a list in a message is cut at an entry, never silently mid-name. */
static void list_append(char *buf, size_t size, const char *item)
{
    size_t used = strlen(buf);
    if (used >= 5 && strcmp(buf + used - 5, ", ...") == 0)
        return;
    int w = snprintf(buf + used, size - used, "%s%s", used ? ", " : "", item);
    if (w < 0 || (size_t)w >= size - used) {
        buf[used] = '\0';
        if (used + 6 <= size)
            strcat(buf, ", ...");
    }
}

/* ---- revisions and the graph ----------------------------------------------------- */

void revision_release(revision *r)
{
    free(r->id);
    free(r->path);
    free(r->message);
    free(r->create_date);
    str_list_release(&r->down);
    str_list_release(&r->branch_labels);
    str_list_release(&r->depends_on);
    free(r->parents);
    free(r->deps);
    free(r->children);
    memset(r, 0, sizeof *r);
}

void graph_init(graph *g)
{
    memset(g, 0, sizeof *g);
}

void graph_release(graph *g)
{
    for (int i = 0; i < g->count; i++)
        revision_release(&g->revs[i]);
    free(g->revs);
    free(g->order);
    hashmap_release(&g->ids);
    memset(g, 0, sizeof *g);
}

int graph_add(graph *g, revision *r, rb_error *err)
{
    if (g->count == g->cap) {
        int cap = g->cap ? g->cap * 2 : 64;
        revision *grown = realloc(g->revs, sizeof *grown * (size_t)cap);
        if (!grown)
            return rb_errorf(err, RB_ERR_FAILURE, "out of memory");
        g->revs = grown;
        g->cap = cap;
    }
    g->revs[g->count++] = *r;
    memset(r, 0, sizeof *r);
    return 0;
}

int graph_find(const graph *g, const char *id)
{
    return hashmap_get(&g->ids, id);
}

static int build_index(graph *g, rb_error *err)
{
    hashmap_release(&g->ids);
    if (hashmap_reserve(&g->ids, g->count) != 0)
        return rb_errorf(err, RB_ERR_FAILURE, "out of memory");
    for (int i = 0; i < g->count; i++) {
        int added = hashmap_put(&g->ids, g->revs[i].id, i);
        if (added > 0) {
            int existing = graph_find(g, g->revs[i].id);
            return rb_errorf(err, RB_ERR_FAILURE, "duplicate revision '%s' in '%s' and '%s'",
                             g->revs[i].id, g->revs[existing].path, g->revs[i].path);
        }
        if (added < 0)
            return rb_errorf(err, RB_ERR_FAILURE, "out of memory");
    }
    return 0;
}

static int link_list(graph *g, revision *r, const str_list *names, const char *what, int **out,
                     int *nout, rb_error *err)
{
    *nout = 0;
    if (names->count == 0)
        return 0;
    if (!(*out = malloc(sizeof **out * (size_t)names->count)))
        return rb_errorf(err, RB_ERR_FAILURE, "out of memory");
    for (int j = 0; j < names->count; j++) {
        int p = graph_find(g, names->items[j]);
        if (p < 0)
            return rb_errorf(err, RB_ERR_FAILURE,
                             "%s: %s '%s' names no migration file", r->path, what,
                             names->items[j]);
        if (p == r - g->revs)
            return rb_errorf(err, RB_ERR_FAILURE, "%s: revision '%s' names itself as %s",
                             r->path, r->id, what);
        (*out)[(*nout)++] = p;
    }
    return 0;
}

/* Kahn's algorithm over parent and dependency edges; what is left over lies on a cycle. */
static int topo_sort(graph *g, rb_error *err)
{
    int *pending = calloc((size_t)g->count + 1, sizeof *pending);
    int *queue = malloc(sizeof *queue * ((size_t)g->count + 1));
    int rc = -1;
    free(g->order);
    g->order = malloc(sizeof *g->order * ((size_t)g->count + 1));
    if (!pending || !queue || !g->order) {
        rb_errorf(err, RB_ERR_FAILURE, "out of memory");
        goto done;
    }
    int head = 0, tail = 0, n = 0;
    for (int i = 0; i < g->count; i++) {
        pending[i] = g->revs[i].nparents + g->revs[i].ndeps;
        if (pending[i] == 0)
            queue[tail++] = i;
    }
    /* Dependents of a revision: its children, and revisions depending on it. The latter
     * are found by a scan per revision only when dependencies exist at all. */
    bool any_deps = false;
    for (int i = 0; i < g->count; i++)
        any_deps |= g->revs[i].ndeps > 0;
    while (head < tail) {
        int i = queue[head++];
        g->revs[i].topo = n;
        g->order[n++] = i;
        for (int c = 0; c < g->revs[i].nchildren; c++)
            if (--pending[g->revs[i].children[c]] == 0)
                queue[tail++] = g->revs[i].children[c];
        if (any_deps)
            for (int k = 0; k < g->count; k++)
                for (int d = 0; d < g->revs[k].ndeps; d++)
                    if (g->revs[k].deps[d] == i && --pending[k] == 0)
                        queue[tail++] = k;
    }
    if (n < g->count) {
        char names[1024] = "";
        for (int i = 0; i < g->count; i++) {
            if (pending[i] == 0)
                continue;
            char *quoted = malloc(strlen(g->revs[i].path) + 3);
            if (quoted) {
                sprintf(quoted, "'%s'", g->revs[i].path);
                list_append(names, sizeof names, quoted);
            }
            free(quoted);
        }
        rb_errorf(err, RB_ERR_FAILURE, "cycle in the revision graph through %s", names);
        goto done;
    }
    rc = 0;
done:
    free(pending);
    free(queue);
    return rc;
}

int graph_build(graph *g, rb_error *err)
{
    if (build_index(g, err) != 0)
        return -1;
    for (int i = 0; i < g->count; i++) {
        revision *r = &g->revs[i];
        free(r->parents);
        free(r->deps);
        free(r->children);
        r->parents = r->deps = r->children = NULL;
        r->nchildren = 0;
    }
    for (int i = 0; i < g->count; i++) {
        revision *r = &g->revs[i];
        if (link_list(g, r, &r->down, "down_revision", &r->parents, &r->nparents, err) != 0 ||
            link_list(g, r, &r->depends_on, "depends_on", &r->deps, &r->ndeps, err) != 0)
            return -1;
        for (int j = 0; j < r->nparents; j++)
            g->revs[r->parents[j]].nchildren++;
    }
    int *fill = calloc((size_t)g->count + 1, sizeof *fill);
    if (!fill)
        return rb_errorf(err, RB_ERR_FAILURE, "out of memory");
    for (int i = 0; i < g->count; i++) {
        revision *r = &g->revs[i];
        if (r->nchildren && !(r->children = malloc(sizeof *r->children * (size_t)r->nchildren))) {
            free(fill);
            return rb_errorf(err, RB_ERR_FAILURE, "out of memory");
        }
    }
    for (int i = 0; i < g->count; i++)
        for (int j = 0; j < g->revs[i].nparents; j++) {
            int p = g->revs[i].parents[j];
            g->revs[p].children[fill[p]++] = i;
        }
    free(fill);

    int roots = 0, first_root = -1;
    for (int i = 0; i < g->count; i++) {
        if (g->revs[i].nparents > 0)
            continue;
        if (roots++ == 0) {
            first_root = i;
        } else {
            return rb_errorf(err, RB_ERR_FAILURE,
                             "two root revisions (down_revision = nil): '%s' and '%s'",
                             g->revs[first_root].path, g->revs[i].path);
        }
    }
    if (topo_sort(g, err) != 0)
        return -1;
    /* Branch labels name one revision each. */
    for (int i = 0; i < g->count; i++)
        for (int l = 0; l < g->revs[i].branch_labels.count; l++)
            for (int k = i + 1; k < g->count; k++)
                if (str_list_contains(&g->revs[k].branch_labels, g->revs[i].branch_labels.items[l]))
                    return rb_errorf(err, RB_ERR_FAILURE,
                                     "branch label '%s' is used by '%s' and '%s'",
                                     g->revs[i].branch_labels.items[l], g->revs[i].path,
                                     g->revs[k].path);
    return 0;
}

int graph_heads(const graph *g, int *out)
{
    int n = 0;
    for (int k = 0; k < g->count; k++) {
        int i = g->order[k];
        if (g->revs[i].nchildren == 0)
            out[n++] = i;
    }
    return n;
}

/* ---- sets ------------------------------------------------------------------------- */

int rev_set_init(rev_set *s, const graph *g)
{
    s->count = 0;
    s->in = calloc((size_t)g->count + 1, 1);
    /* The walk's stack is allocated with the set: a walk that cannot allocate would leave
     * the set short, and a plan made from it would be wrong. */
    s->stack = malloc(sizeof *s->stack * ((size_t)g->count + 1));
    if (!s->in || !s->stack) {
        rev_set_release(s);
        return -1;
    }
    return 0;
}

void rev_set_release(rev_set *s)
{
    free(s->in);
    free(s->stack);
    s->in = NULL;
    s->stack = NULL;
    s->count = 0;
}

void rev_set_add(rev_set *s, int i)
{
    if (!s->in[i]) {
        s->in[i] = 1;
        s->count++;
    }
}

void rev_set_add_ancestors(rev_set *s, const graph *g, int i)
{
    /* Iterative DFS; a revision is pushed once, when it joins the set, so the stack never
     * holds more than the graph. */
    int top = 0;
    if (!s->in[i]) {
        rev_set_add(s, i);
        s->stack[top++] = i;
    }
    while (top > 0) {
        const revision *r = &g->revs[s->stack[--top]];
        for (int j = 0; j < r->nparents + r->ndeps; j++) {
            int p = j < r->nparents ? r->parents[j] : r->deps[j - r->nparents];
            if (!s->in[p]) {
                rev_set_add(s, p);
                s->stack[top++] = p;
            }
        }
    }
}

void rev_set_add_descendants(rev_set *s, const graph *g, bool through_deps)
{
    /* In topological order every parent is decided before its children. */
    for (int k = 0; k < g->count; k++) {
        int i = g->order[k];
        const revision *r = &g->revs[i];
        int n = r->nparents + (through_deps ? r->ndeps : 0);
        for (int j = 0; j < n && !s->in[i]; j++)
            if (s->in[j < r->nparents ? r->parents[j] : r->deps[j - r->nparents]])
                rev_set_add(s, i);
    }
}

int graph_applied(const graph *g, const str_list *rows, rev_set *applied, rb_error *err)
{
    if (rev_set_init(applied, g) != 0)
        return rb_errorf(err, RB_ERR_FAILURE, "out of memory");
    for (int i = 0; i < rows->count; i++) {
        int idx = graph_find(g, rows->items[i]);
        if (idx < 0) {
            rev_set_release(applied);
            rb_errorf(err, RB_ERR_FAILURE,
                      "the database is at revision '%s', which no migration file has",
                      rows->items[i]);
            rb_strlcpy(err->hint, "check out the branch that has it, or fix the version table "
                       "with 'rbacmig stamp --purge REV'", sizeof err->hint);
            return -1;
        }
        rev_set_add_ancestors(applied, g, idx);
    }
    return 0;
}

int graph_version_rows(const graph *g, const rev_set *applied, str_list *rows)
{
    for (int k = 0; k < g->count; k++) {
        int i = g->order[k];
        if (!applied->in[i])
            continue;
        bool has_applied_child = false;
        for (int c = 0; c < g->revs[i].nchildren && !has_applied_child; c++)
            has_applied_child = applied->in[g->revs[i].children[c]];
        if (!has_applied_child && str_list_push(rows, g->revs[i].id) != 0)
            return -1;
    }
    return 0;
}

int graph_version_changes(const graph *g, const str_list *before, const rev_set *applied,
                          str_list *removed, str_list *added)
{
    str_list after = {0};
    int rc = graph_version_rows(g, applied, &after) == 0 &&
                     str_list_diff(before, &after, removed, added) == 0
                 ? 0
                 : -1;
    str_list_release(&after);
    return rc;
}

/* ---- targets ---------------------------------------------------------------------- */

char *graph_join_ids(const graph *g, const int *idx, int n)
{
    const char **ids = malloc(sizeof *ids * ((size_t)n + 1));
    if (!ids)
        return NULL;
    for (int i = 0; i < n; i++)
        ids[i] = g->revs[idx[i]].id;
    char *out = str_join(ids, n, ", ");
    free(ids);
    return out;
}

static int several_heads_error(const graph *g, const int *heads, int n, const char *spec,
                               rb_error *err)
{
    char *ids = graph_join_ids(g, heads, n);
    rb_errorf(err, RB_ERR_USAGE, "target '%s' is ambiguous: there are %d heads (%s)", spec, n,
              ids ? ids : "");
    rb_strlcpy(err->hint, "name one of them, use 'heads' to apply all, or join them with "
               "'rbacmig merge -m MSG REV REV'", sizeof err->hint);
    free(ids);
    return -1;
}

/* Exact id, else a unique prefix of 4+ characters. */
static int find_revision(const graph *g, const char *spec, int *out, rb_error *err)
{
    int idx = graph_find(g, spec);
    if (idx >= 0) {
        *out = idx;
        return 0;
    }
    size_t n = strlen(spec);
    if (n < 4)
        return rb_errorf(err, RB_ERR_USAGE,
                         "unknown target '%s' (a revision prefix needs at least 4 characters)",
                         spec);
    int found = -1, matches = 0;
    char others[512] = "";
    for (int i = 0; i < g->count; i++) {
        if (strncmp(g->revs[i].id, spec, n) != 0)
            continue;
        if (matches++ == 0)
            found = i;
        list_append(others, sizeof others, g->revs[i].id);
    }
    if (matches == 0)
        return rb_errorf(err, RB_ERR_USAGE, "unknown target '%s': no revision matches it", spec);
    if (matches > 1)
        return rb_errorf(err, RB_ERR_USAGE, "ambiguous target '%s': it is a prefix of %s", spec,
                         others);
    *out = found;
    return 0;
}

/* The single current revision, -1 for base; several is an error for relative targets. */
static int single_current(const graph *g, const rev_set *applied, const char *spec, int *out,
                          rb_error *err)
{
    str_list rows = {0};
    if (graph_version_rows(g, applied, &rows) != 0)
        return rb_errorf(err, RB_ERR_FAILURE, "out of memory");
    int rc = 0;
    if (rows.count > 1)
        rc = rb_errorf(err, RB_ERR_USAGE,
                       "relative target '%s' is ambiguous: the database is at %d heads; name a "
                       "revision as REV%s",
                       spec, rows.count, strchr(spec, '+') ? "+N" : "-N");
    else
        *out = rows.count ? graph_find(g, rows.items[0]) : -1;
    str_list_release(&rows);
    return rc;
}

/* The hint of an ambiguous relative step: the revisions to choose from, as commands. */
static int choice_hint(const graph *g, const int *idx, int n, const char *command,
                       const char *effect, rb_error *err)
{
    size_t used = 0;
    int w = snprintf(err->hint, sizeof err->hint, "name the revision instead (%s): ", effect);
    used = w > 0 ? (size_t)w : 0;
    for (int i = 0; i < n && used < sizeof err->hint; i++) {
        w = snprintf(err->hint + used, sizeof err->hint - used, "%s'rbacmig %s %s'",
                     i == 0 ? "" : i == n - 1 ? " or " : ", ", command, g->revs[idx[i]].id);
        if (w < 0 || (size_t)w >= sizeof err->hint - used) {
            /* Too many to list: cut at a whole entry, never mid-id. */
            err->hint[used] = '\0';
            rb_strlcpy(err->hint + used, ", ...", sizeof err->hint - used);
            break;
        }
        used += (size_t)w;
    }
    return -1;
}

/* Walks n steps from `from` (-1 = base) towards the heads (n > 0) or the root (n < 0). */
static int walk(const graph *g, int from, long n, const char *spec, target *out, rb_error *err)
{
    int at = from;
    for (long step = 0; step < labs(n); step++) {
        if (n > 0) {
            int next = -1, choices = 0;
            if (at < 0) {
                for (int i = 0; i < g->count; i++)
                    if (g->revs[i].nparents == 0) {
                        next = i;
                        choices++;
                    }
            } else {
                choices = g->revs[at].nchildren;
                next = choices ? g->revs[at].children[0] : -1;
            }
            if (choices == 0)
                return rb_errorf(err, RB_ERR_USAGE,
                                 "target '%s' goes past the head: only %ld step(s) available",
                                 spec, step);
            if (choices > 1 && at < 0)
                return rb_errorf(err, RB_ERR_USAGE,
                                 "target '%s' is ambiguous: base has %d roots", spec, choices);
            if (choices > 1) {
                rb_errorf(err, RB_ERR_USAGE,
                          "target '%s' is ambiguous: revision '%s' has %d children", spec,
                          g->revs[at].id, choices);
                return choice_hint(g, g->revs[at].children, choices, "upgrade",
                                   "each applies one branch", err);
            }
            at = next;
        } else {
            if (at < 0)
                return rb_errorf(err, RB_ERR_USAGE,
                                 "target '%s' goes below base: only %ld step(s) available", spec,
                                 step);
            if (g->revs[at].nparents > 1) {
                rb_errorf(err, RB_ERR_USAGE,
                          "target '%s' is ambiguous: '%s' is a merge of %d revisions", spec,
                          g->revs[at].id, g->revs[at].nparents);
                return choice_hint(g, g->revs[at].parents, g->revs[at].nparents, "downgrade",
                                   "each reverts the merge and keeps the other branches", err);
            }
            at = g->revs[at].nparents ? g->revs[at].parents[0] : -1;
        }
    }
    if (at < 0) {
        out->kind = TARGET_BASE;
    } else {
        out->kind = TARGET_REVISIONS;
        out->revs[0] = at;
        out->nrevs = 1;
    }
    return 0;
}

static bool parse_count(const char *s, long *n)
{
    if (!*s)
        return false;
    for (const char *p = s; *p; p++)
        if (!isdigit((unsigned char)*p))
            return false;
    *n = strtol(s, NULL, 10);
    return *n > 0 && *n < 1000000;
}

/* head (one head, else an error) or heads (all of them; base when a downgrade has none). */
static int resolve_heads(const graph *g, const char *spec, direction dir, target *out,
                         rb_error *err)
{
    int *all = malloc(sizeof *all * ((size_t)g->count + 1));
    if (!all)
        return rb_errorf(err, RB_ERR_FAILURE, "out of memory");
    int nh = graph_heads(g, all), rc = 0;
    if (nh > 1 && spec[4] == '\0')
        rc = several_heads_error(g, all, nh, spec, err);
    else if (nh > 64)
        rc = rb_errorf(err, RB_ERR_FAILURE, "too many heads (%d)", nh);
    if (rc == 0) {
        memcpy(out->revs, all, sizeof *all * (size_t)nh);
        out->nrevs = nh;
        if (nh == 0 && dir == DIR_DOWNGRADE)
            out->kind = TARGET_BASE;
    }
    free(all);
    return rc;
}

/* LABEL@head (at points at the '@'): the one head that descends from the labelled revision. */
static int resolve_label_head(const graph *g, const char *spec, const char *at, target *out,
                              rb_error *err)
{
    if (strcmp(at, "@head") != 0)
        return rb_errorf(err, RB_ERR_USAGE, "unknown target '%s' (expected LABEL@head)", spec);
    int labelled = -1;
    size_t len = (size_t)(at - spec);
    for (int i = 0; i < g->count && labelled < 0; i++)
        for (int l = 0; l < g->revs[i].branch_labels.count; l++)
            if (strlen(g->revs[i].branch_labels.items[l]) == len &&
                strncmp(g->revs[i].branch_labels.items[l], spec, len) == 0)
                labelled = i;
    if (labelled < 0)
        return rb_errorf(err, RB_ERR_USAGE, "unknown branch label in target '%s'", spec);
    rev_set desc;
    if (rev_set_init(&desc, g) != 0)
        return rb_errorf(err, RB_ERR_FAILURE, "out of memory");
    rev_set_add(&desc, labelled);
    rev_set_add_descendants(&desc, g, false);
    int heads[64], nh = 0;
    for (int k = 0; k < g->count && nh < 64; k++)
        if (desc.in[g->order[k]] && g->revs[g->order[k]].nchildren == 0)
            heads[nh++] = g->order[k];
    rev_set_release(&desc);
    if (nh > 1)
        return several_heads_error(g, heads, nh, spec, err);
    out->revs[0] = heads[0];
    out->nrevs = 1;
    return 0;
}

int graph_resolve_target(const graph *g, const char *spec, direction dir, const rev_set *applied,
                         target *out, rb_error *err)
{
    memset(out, 0, sizeof *out);
    out->kind = TARGET_REVISIONS;
    long n;

    if (!spec[0])
        return rb_errorf(err, RB_ERR_USAGE, "empty target");
    if (strcmp(spec, "base") == 0) {
        out->kind = TARGET_BASE;
        return 0;
    }
    if (strcmp(spec, "head") == 0 || strcmp(spec, "heads") == 0)
        return resolve_heads(g, spec, dir, out, err);
    const char *at = strchr(spec, '@');
    if (at)
        return resolve_label_head(g, spec, at, out, err);
    if ((spec[0] == '+' || spec[0] == '-') && parse_count(spec + 1, &n)) {
        if ((spec[0] == '+') != (dir == DIR_UPGRADE))
            return rb_errorf(err, RB_ERR_USAGE, "relative target '%s' goes the wrong way for %s",
                             spec, dir == DIR_UPGRADE ? "upgrade" : "downgrade");
        int from = -1;
        if (single_current(g, applied, spec, &from, err) != 0)
            return -1;
        return walk(g, from, spec[0] == '+' ? n : -n, spec, out, err);
    }
    const char *sign = strpbrk(spec, "+-");
    if (sign && sign > spec && parse_count(sign + 1, &n)) {
        char base_rev[128];
        size_t len = (size_t)(sign - spec);
        if (len >= sizeof base_rev)
            return rb_errorf(err, RB_ERR_USAGE, "unknown target '%s'", spec);
        memcpy(base_rev, spec, len);
        base_rev[len] = '\0';
        int from = -1;
        if (find_revision(g, base_rev, &from, err) != 0)
            return -1;
        return walk(g, from, *sign == '+' ? n : -n, spec, out, err);
    }
    int idx;
    if (find_revision(g, spec, &idx, err) != 0)
        return -1;
    out->revs[0] = idx;
    out->nrevs = 1;
    return 0;
}

int graph_resolve_one(const graph *g, const char *spec, int *idx, rb_error *err)
{
    rev_set none;
    target t;
    if (rev_set_init(&none, g) != 0)
        return rb_errorf(err, RB_ERR_FAILURE, "out of memory");
    int rc = graph_resolve_target(g, spec, DIR_UPGRADE, &none, &t, err);
    rev_set_release(&none);
    if (rc != 0)
        return -1;
    if (t.kind != TARGET_REVISIONS || t.nrevs != 1)
        return rb_errorf(err, RB_ERR_USAGE, "'%s' must name one revision", spec);
    *idx = t.revs[0];
    return 0;
}

/* ---- plans ------------------------------------------------------------------------ */

int graph_plan(const graph *g, const rev_set *applied, const target *t, direction dir,
               int **steps, int *nsteps, rb_error *err)
{
    rev_set want;
    *steps = NULL;
    *nsteps = 0;
    if (rev_set_init(&want, g) != 0 || !(*steps = malloc(sizeof **steps * ((size_t)g->count + 1)))) {
        rev_set_release(&want);
        return rb_errorf(err, RB_ERR_FAILURE, "out of memory");
    }
    if (dir == DIR_UPGRADE) {
        if (t->kind == TARGET_REVISIONS)
            for (int i = 0; i < t->nrevs; i++)
                rev_set_add_ancestors(&want, g, t->revs[i]);
        for (int k = 0; k < g->count; k++) {
            int i = g->order[k];
            if (want.in[i] && !applied->in[i])
                (*steps)[(*nsteps)++] = i;
        }
    } else {
        if (t->kind == TARGET_BASE) {
            for (int i = 0; i < g->count; i++)
                if (applied->in[i])
                    rev_set_add(&want, i);
        } else {
            int to = t->revs[0];
            if (!applied->in[to]) {
                rev_set_release(&want);
                free(*steps);
                *steps = NULL;
                return rb_errorf(err, RB_ERR_FAILURE,
                                 "cannot downgrade to '%s': it is not applied", g->revs[to].id);
            }
            /* Applied descendants of the target, through parents and dependencies: an
             * applied set holds the ancestors of its members, so they are its descendants
             * that are applied. */
            rev_set_add(&want, to);
            rev_set_add_descendants(&want, g, true);
            want.in[to] = 0; /* the target stays */
            want.count--;
        }
        for (int k = g->count - 1; k >= 0; k--) {
            int i = g->order[k];
            if (want.in[i] && applied->in[i])
                (*steps)[(*nsteps)++] = i;
        }
    }
    rev_set_release(&want);
    return 0;
}
