/* cmd_info.c: the read-only commands: current, heads, branches, history, show, check. They
 * never create a database or take the lock (their flags in commands.c say so; the dispatcher
 * loads the graph and opens the read-only connection). */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "cmd_autogen.h"
#include "cmd_info.h"
#include "output.h"
#include "versions.h"

int info_format_check(cli_state *st, rb_error *err)
{
    const char *format = cli_value(st, "format");
    if (!format || strcmp(format, "text") == 0 || strcmp(format, "json") == 0)
        return 0;
    return rb_errorf(err, RB_ERR_USAGE, "--format takes 'text' or 'json', got '%s'", format);
}

int cmd_format_check(cli_state *st, rb_error *err)
{
    return info_format_check(st, err);
}

bool info_want_json(const cli_state *st)
{
    const char *format = cli_value(st, "format");
    return format && strcmp(format, "json") == 0;
}

json_t *info_json_string(const char *s)
{
    if (!s)
        return json_null();
    json_t *v = json_string(s);
    if (v)
        return v;
    /* Not UTF-8: each byte of a sequence jansson refused becomes U+FFFD (3 bytes). */
    size_t len = strlen(s);
    char *fixed = malloc(len * 3 + 1), *o = fixed;
    if (!fixed)
        return NULL;
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        if (*p < 0x80) {
            *o++ = (char)*p;
        } else {
            int n = *p >= 0xf0 && *p < 0xf5 ? 4 : *p >= 0xe0 ? 3 : *p >= 0xc2 && *p < 0xe0 ? 2 : 0;
            int ok = n > 0;
            for (int k = 1; ok && k < n; k++)
                ok = (p[k] & 0xc0) == 0x80;
            if (ok) { /* jansson checks it again below */
                memcpy(o, p, (size_t)n);
                o += n;
                p += n - 1;
            } else {
                memcpy(o, "\xef\xbf\xbd", 3);
                o += 3;
            }
        }
    }
    *o = '\0';
    v = json_string(fixed);
    if (!v) { /* an overlong or surrogate form passed the test above: keep ASCII only */
        o = fixed;
        for (const unsigned char *p = (const unsigned char *)s; *p; p++)
            *o++ = *p < 0x80 ? (char)*p : '?';
        *o = '\0';
        v = json_string(fixed);
    }
    free(fixed);
    return v;
}

json_t *info_json_ids(const graph *g, const int *idx, int n)
{
    json_t *arr = json_array();
    for (int i = 0; arr && i < n; i++)
        if (json_array_append_new(arr, json_string(g->revs[idx[i]].id)) != 0) {
            json_decref(arr);
            return NULL;
        }
    return arr;
}

static json_t *json_strings(const str_list *list)
{
    json_t *arr = json_array();
    for (int i = 0; arr && i < list->count; i++)
        if (json_array_append_new(arr, info_json_string(list->items[i])) != 0) {
            json_decref(arr);
            return NULL;
        }
    return arr;
}

/* Every field, always: JSON readers get the same keys whatever -v says. sha256 is null where
 * the files were listed without hashing (current, heads, history, branches without -v). */
json_t *info_revision_json(const graph *g, int idx, const str_list *current)
{
    const revision *rev = &g->revs[idx];
    json_t *o = json_object();
    if (!o)
        return NULL;
    int bad = 0;
    bad |= json_object_set_new(o, "id", json_string(rev->id));
    bad |= json_object_set_new(o, "parents", info_json_ids(g, rev->parents, rev->nparents));
    bad |= json_object_set_new(o, "depends_on", info_json_ids(g, rev->deps, rev->ndeps));
    bad |= json_object_set_new(o, "children", info_json_ids(g, rev->children, rev->nchildren));
    bad |= json_object_set_new(o, "branch_labels", json_strings(&rev->branch_labels));
    bad |= json_object_set_new(o, "message", info_json_string(rev->message));
    bad |= json_object_set_new(o, "path", info_json_string(rev->path));
    bad |= json_object_set_new(o, "sha256", rev->sha256[0] ? json_string(rev->sha256) : json_null());
    bad |= json_object_set_new(o, "create_date", info_json_string(rev->create_date));
    bad |= json_object_set_new(o, "transactional", json_boolean(rev->transactional));
    bad |= json_object_set_new(o, "head", json_boolean(rev->nchildren == 0));
    bad |= json_object_set_new(o, "branchpoint", json_boolean(rev->nchildren > 1));
    bad |= json_object_set_new(o, "mergepoint", json_boolean(rev->nparents > 1));
    bad |= json_object_set_new(o, "current",
                               json_boolean(current && str_list_contains(current, rev->id)));
    if (bad) {
        json_decref(o);
        return NULL;
    }
    return o;
}

/* {"<key>": [revision, ...]}: the JSON form of the listing commands. */
static int print_json_list(const char *key, const graph *g, const int *idx, int n,
                           const str_list *current, rb_error *err)
{
    json_t *root = json_object(), *arr = json_array();
    int bad = !root || !arr;
    for (int i = 0; !bad && i < n; i++)
        bad = json_array_append_new(arr, info_revision_json(g, idx[i], current)) != 0;
    if (bad || json_object_set(root, key, arr) != 0) {
        json_decref(arr);
        json_decref(root);
        return rb_errorf(err, RB_ERR_FAILURE, "out of memory");
    }
    json_decref(arr);
    return out_json(root, err);
}

/* The applied set of the database, for (current) marks. */
int info_read_current(cli_state *st, str_list *rows, rb_error *err)
{
    version_store vs;
    bool exists;
    int rc = versions_open(&vs, st->conn, &st->cfg, &st->g, err);
    if (rc == 0)
        rc = versions_read(&vs, rows, &exists, err);
    versions_close(&vs);
    return rc;
}

/* "<base>" or "a, b": what a revision revises. Caller frees. */
static char *parents_text(const graph *g, const revision *rev)
{
    return rev->nparents ? graph_join_ids(g, rev->parents, rev->nparents) : strdup("<base>");
}

/* "a, b" of a revision's branch labels, printable; "" for none. Caller frees. */
static char *labels_text(const revision *rev)
{
    size_t n = 1;
    for (int i = 0; i < rev->branch_labels.count; i++)
        n += strlen(rev->branch_labels.items[i]) * 4 + 2;
    char *out = malloc(n);
    if (!out)
        return NULL;
    out[0] = '\0';
    for (int i = 0; i < rev->branch_labels.count; i++) {
        char *label = out_printable(rev->branch_labels.items[i]);
        if (!label) {
            free(out);
            return NULL;
        }
        if (i)
            strcat(out, ", ");
        strcat(out, label);
        free(label);
    }
    return out;
}

static int print_revision(const graph *g, int idx, bool verbose, const str_list *current,
                          rb_error *err)
{
    const revision *rev = &g->revs[idx];
    const char *head = rev->nchildren == 0 ? " (head)" : "";
    const char *cur = current && str_list_contains(current, rev->id) ? " (current)" : "";
    const char *branchpoint = rev->nchildren > 1 ? " (branchpoint)" : "";
    const char *merge = rev->nparents > 1 ? " (mergepoint)" : "";
    char *parents = parents_text(g, rev), *labels = labels_text(rev);
    char *message = out_printable(rev->message);
    if (!parents || !labels || !message) {
        free(parents);
        free(labels);
        free(message);
        return rb_errorf(err, RB_ERR_FAILURE, "out of memory");
    }
    if (!verbose) {
        out_print("%s -> %s%s%s%s%s%s%s%s, %s", parents, rev->id, labels[0] ? " (" : "", labels,
                  labels[0] ? ")" : "", head, cur, branchpoint, merge, message);
    } else {
        out_print("Rev: %s%s%s%s%s", rev->id, head, cur, branchpoint, merge);
        out_print("Parent: %s", parents);
        if (labels[0])
            out_print("Branch names: %s", labels);
        if (rev->ndeps) {
            char *deps = graph_join_ids(g, rev->deps, rev->ndeps);
            out_print("Also depends on: %s", deps ? deps : "");
            free(deps);
        }
        if (rev->nchildren) {
            char *kids = graph_join_ids(g, rev->children, rev->nchildren);
            out_print("Children: %s", kids ? kids : "");
            free(kids);
        }
        out_print("Path: %s", rev->path);
        if (rev->sha256[0])
            out_print("SHA-256: %s", rev->sha256);
        if (rev->create_date)
            out_print("Create Date: %s", rev->create_date);
        if (!rev->transactional)
            out_print("Transactional: no");
        out_print("\n    %s\n", message);
    }
    free(parents);
    free(labels);
    free(message);
    return 0;
}

/* Short form used by current and heads: "<rev> (labels) (head)". */
static int print_short(const graph *g, int idx, rb_error *err)
{
    const revision *rev = &g->revs[idx];
    char *labels = labels_text(rev);
    if (!labels)
        return rb_errorf(err, RB_ERR_FAILURE, "out of memory");
    out_print("%s%s%s%s%s", rev->id, labels[0] ? " (" : "", labels, labels[0] ? ")" : "",
              rev->nchildren == 0 ? " (head)" : "");
    free(labels);
    return 0;
}

/* How a listing shows each revision as text: print_short's one line, print_revision's line
 * "parents -> rev ... message", or print_revision's verbose block. */
typedef enum { REV_SHORT, REV_LINE, REV_FULL } rev_form;

/* The revisions idx[0..n) of a listing command: {"<key>": [...]} with --format json, else
 * each in `form`. `current` marks the applied ones (NULL when not read). */
static int print_listing(cli_state *st, const char *key, const int *idx, int n, rev_form form,
                         const str_list *current, rb_error *err)
{
    if (info_want_json(st))
        return print_json_list(key, &st->g, idx, n, current, err);
    for (int i = 0; i < n; i++) {
        int rc = form == REV_SHORT
                     ? print_short(&st->g, idx[i], err)
                     : print_revision(&st->g, idx[i], form == REV_FULL, current, err);
        if (rc != 0)
            return rc;
    }
    return 0;
}

/* -v, before or after the command: it means more detail everywhere (cli.h). */
static bool verbose_flag(cli_state *st)
{
    (void)st;
    return out_verbose();
}

int cmd_current(cli_state *st, rb_error *err)
{
    str_list rows = {0};
    int rc = -1, *idx = NULL;
    bool verbose = verbose_flag(st);
    if (info_read_current(st, &rows, err) != 0)
        goto done;
    if (!(idx = malloc(sizeof *idx * ((size_t)rows.count + 1)))) {
        rb_errorf(err, RB_ERR_FAILURE, "out of memory");
        goto done;
    }
    for (int i = 0; i < rows.count; i++) {
        int k = graph_find(&st->g, rows.items[i]);
        if (k < 0) {
            rb_errorf(err, RB_ERR_FAILURE,
                      "the database is at revision '%s', which no migration file has",
                      rows.items[i]);
            goto done;
        }
        idx[i] = k;
    }
    rc = print_listing(st, "current", idx, rows.count, verbose ? REV_FULL : REV_SHORT, &rows,
                       err);
done:
    free(idx);
    str_list_release(&rows);
    return rc;
}

int cmd_heads(cli_state *st, rb_error *err)
{
    int *heads = NULL, rc = -1;
    bool verbose = verbose_flag(st);
    if (!(heads = malloc(sizeof *heads * ((size_t)st->g.count + 1)))) {
        rb_errorf(err, RB_ERR_FAILURE, "out of memory");
        goto done;
    }
    int n = graph_heads(&st->g, heads);
    rc = print_listing(st, "heads", heads, n, verbose ? REV_FULL : REV_SHORT, NULL, err);
done:
    free(heads);
    return rc;
}

int cmd_branches(cli_state *st, rb_error *err)
{
    bool verbose = verbose_flag(st);
    if (info_want_json(st)) {
        int *points = malloc(sizeof *points * ((size_t)st->g.count + 1)), n = 0;
        if (!points)
            return rb_errorf(err, RB_ERR_FAILURE, "out of memory");
        for (int k = 0; k < st->g.count; k++)
            if (st->g.revs[st->g.order[k]].nchildren > 1)
                points[n++] = st->g.order[k];
        int rc = print_json_list("branchpoints", &st->g, points, n, NULL, err);
        free(points);
        return rc;
    }
    for (int k = 0; k < st->g.count; k++) {
        int i = st->g.order[k];
        const revision *rev = &st->g.revs[i];
        if (rev->nchildren < 2)
            continue;
        if (verbose) {
            if (print_revision(&st->g, i, true, NULL, err) != 0)
                return -1;
            continue;
        }
        out_print("%s (branchpoint)", rev->id);
        for (int c = 0; c < rev->nchildren; c++) {
            const revision *kid = &st->g.revs[rev->children[c]];
            char *message = out_printable(kid->message);
            if (!message)
                return rb_errorf(err, RB_ERR_FAILURE, "out of memory");
            out_print("    -> %s%s, %s", kid->id, kid->nchildren == 0 ? " (head)" : "", message);
            free(message);
        }
    }
    return 0;
}

/* One end of -r START:END, or the REV of show: the revisions it names. `current` is what the
 * database is at (none at base, several at several heads); "" and `base` name none. */
static int resolve_end(cli_state *st, const char *spec, const str_list *current, int **idx,
                       int *n, rb_error *err)
{
    *n = 0;
    if (!(*idx = malloc(sizeof **idx * ((size_t)st->g.count + 1))))
        return rb_errorf(err, RB_ERR_FAILURE, "out of memory");
    if (!spec[0] || strcmp(spec, "base") == 0)
        return 0;
    if (strcmp(spec, "current") != 0)
        return graph_resolve_one(&st->g, spec, &(*idx)[(*n)++], err);
    for (int i = 0; i < current->count; i++) {
        int k = graph_find(&st->g, current->items[i]);
        if (k < 0)
            return rb_errorf(err, RB_ERR_FAILURE,
                             "the database is at revision '%s', which no migration file has",
                             current->items[i]);
        (*idx)[(*n)++] = k;
    }
    return 0;
}

/* -r START:END, each end base, current, empty or a revision that exists: usage errors found
 * before anything connects. */
int cmd_history_check(cli_state *st, rb_error *err)
{
    if (info_format_check(st, err) != 0)
        return -1;
    const char *range = cli_value(st, "rev-range");
    const char *colon = range ? strchr(range, ':') : NULL;
    if (!range)
        return 0;
    if (!colon)
        return rb_errorf(err, RB_ERR_USAGE, "-r takes START:END (either may be empty), got '%s'",
                         range);
    char *left = strndup(range, (size_t)(colon - range));
    if (!left)
        return rb_errorf(err, RB_ERR_FAILURE, "out of memory");
    const char *ends[] = {left, colon + 1};
    int rc = 0;
    for (int e = 0; e < 2 && rc == 0; e++) {
        int unused;
        if (ends[e][0] && strcmp(ends[e], "base") != 0 && strcmp(ends[e], "current") != 0)
            rc = graph_resolve_one(&st->g, ends[e], &unused, err);
    }
    free(left);
    return rc;
}

int cmd_history(cli_state *st, rb_error *err)
{
    str_list rows = {0};
    rev_set upto = {0}, from = {0};
    int *start = NULL, *end = NULL, nstart = 0, nend = 0, rc = -1, *listed = NULL, nlisted = 0;
    char *left = NULL;
    bool verbose = verbose_flag(st);
    /* -r START:END keeps revisions that descend from START and lead to END: older to newer,
     * as Alembic reads it. An empty end is open; `base` as END leaves nothing. */
    const char *range = cli_value(st, "rev-range");
    const char *colon = range ? strchr(range, ':') : NULL;
    if (range && !(left = strndup(range, (size_t)(colon - range)))) {
        rb_errorf(err, RB_ERR_FAILURE, "out of memory");
        goto done;
    }
    if (info_read_current(st, &rows, err) != 0)
        goto done;
    if (rev_set_init(&upto, &st->g) != 0 || rev_set_init(&from, &st->g) != 0) {
        rb_errorf(err, RB_ERR_FAILURE, "out of memory");
        goto done;
    }
    bool open_start = true, open_end = true;
    if (range) {
        if (resolve_end(st, left, &rows, &start, &nstart, err) != 0 ||
            resolve_end(st, colon + 1, &rows, &end, &nend, err) != 0)
            goto done;
        open_start = nstart == 0; /* "", base, or current at base */
        open_end = colon[1] == '\0';
    }
    for (int i = 0; i < nend; i++)
        rev_set_add_ancestors(&upto, &st->g, end[i]);
    for (int i = 0; i < nstart; i++)
        rev_set_add(&from, start[i]);
    if (nstart) {
        rev_set_add_descendants(&from, &st->g, false);
        /* START after END: a reversed range, not an empty history. */
        bool reaches = open_end;
        for (int i = 0; i < nstart && !reaches; i++)
            reaches = upto.in[start[i]];
        if (!reaches) {
            rb_errorf(err, RB_ERR_USAGE,
                      "-r %s: '%s' does not lead to '%s' (START:END goes from older to newer, "
                      "as in -r base:head)", range, left, colon + 1);
            goto done;
        }
    }
    if (!(listed = malloc(sizeof *listed * ((size_t)st->g.count + 1)))) {
        rb_errorf(err, RB_ERR_FAILURE, "out of memory");
        goto done;
    }
    for (int k = st->g.count - 1; k >= 0; k--) {
        int i = st->g.order[k];
        if ((!open_end && !upto.in[i]) || (!open_start && !from.in[i]))
            continue;
        listed[nlisted++] = i;
    }
    rc = print_listing(st, "revisions", listed, nlisted, verbose ? REV_FULL : REV_LINE, &rows,
                       err);
done:
    free(listed);
    free(left);
    free(start);
    free(end);
    rev_set_release(&upto);
    rev_set_release(&from);
    str_list_release(&rows);
    return rc;
}

/* One problem check (or status) found: a line of text, or with --format json an object of
 * problems[] ({"kind", "revision", "path", "message"}); the message is the line either way. */
static int report_problem(json_t *list, const char *kind, const char *rev_id,
                          const char *path, const char *message, rb_error *err)
{
    if (!list) {
        out_print("%s: %s", kind, message);
        return 0;
    }
    json_t *o = json_object();
    int bad = !o;
    if (o) {
        bad |= json_object_set_new(o, "kind", json_string(kind));
        bad |= json_object_set_new(o, "revision", info_json_string(rev_id));
        bad |= json_object_set_new(o, "path", info_json_string(path));
        bad |= json_object_set_new(o, "message", info_json_string(message));
    }
    if (bad || json_array_append_new(list, o) != 0)
        return rb_errorf(err, RB_ERR_FAILURE, "out of memory");
    return 0;
}

int info_problems(cli_state *st, const str_list *rows, rev_set *applied, json_t *list,
                  int *problems, rb_error *err)
{
    str_list known = {0}, failed = {0};
    version_store vs = {0};
    int *changed = NULL, nchanged = 0, *heads = NULL, rc = -1;
    char text[1024];
    *problems = 0;
    for (int i = 0; i < rows->count; i++) {
        if (graph_find(&st->g, rows->items[i]) < 0) {
            snprintf(text, sizeof text,
                     "the database is at revision %s, which no migration file has",
                     rows->items[i]);
            if (report_problem(list, "missing", rows->items[i], NULL, text, err) != 0)
                goto done;
            ++*problems;
        } else if (str_list_push(&known, rows->items[i]) != 0) {
            goto oom;
        }
    }
    if (graph_applied(&st->g, &known, applied, err) != 0)
        goto done;
    if (versions_open(&vs, st->conn, &st->cfg, &st->g, err) != 0 ||
        versions_changed_files(&vs, applied, &changed, &nchanged, err) != 0)
        goto done;
    for (int i = 0; i < nchanged; i++) {
        const revision *rev = &st->g.revs[changed[i]];
        snprintf(text, sizeof text,
                 "%s (revision %s) differs from the file that was applied; if the edit "
                 "changes nothing that ran, 'rbacmig repair' records it", rev->path, rev->id);
        if (report_problem(list, "changed", rev->id, rev->path, text, err) != 0)
            goto done;
        ++*problems;
    }
    if (versions_failed(&vs, &failed, err) != 0)
        goto done;
    for (int i = 0; i < failed.count; i++) {
        snprintf(text, sizeof text,
                 "revision %s stopped midway (transactional = false); repair it, then "
                 "'rbacmig stamp' the revision it is at", failed.items[i]);
        if (report_problem(list, "failed", failed.items[i], NULL, text, err) != 0)
            goto done;
        ++*problems;
    }
    if (!(heads = malloc(sizeof *heads * ((size_t)st->g.count + 1))))
        goto oom;
    int nheads = graph_heads(&st->g, heads);
    if (nheads > 1) {
        char *ids = graph_join_ids(&st->g, heads, nheads);
        snprintf(text, sizeof text, "%d heads (%s); join them with 'rbacmig merge -m MSG heads'",
                 nheads, ids ? ids : "");
        free(ids);
        if (report_problem(list, "heads", NULL, NULL, text, err) != 0)
            goto done;
        ++*problems;
    }
    rc = 0;
    goto done;
oom:
    rb_errorf(err, RB_ERR_FAILURE, "out of memory");
done:
    versions_close(&vs);
    free(changed);
    free(heads);
    str_list_release(&known);
    str_list_release(&failed);
    return rc;
}

/* check: the declarations (a schema directory, docs/autogenerate.md), when there are any,
 * against the schema at head: each difference listed, one problem. */
static int check_declarations(cli_state *st, json_t *list, bool *checked, int *problems,
                              rb_error *err)
{
    int differences = 0;
    /* The shadows' replay reports its steps on stderr: stdout is check's answer. */
    out_set_stdout_is_sql(true);
    if (autogen_check(st, list != NULL, checked, &differences, err) != 0)
        return rb_error_prefix(err, "checking the declarations in '%s'", st->cfg.schema_dir);
    if (!differences)
        return 0;
    char text[512];
    snprintf(text, sizeof text, "the declarations in '%s' differ from head in %d place%s; "
             "'rbacmig revision --autogenerate -m MSG' writes the migration",
             st->cfg.schema_dir, differences, differences == 1 ? "" : "s");
    ++*problems;
    return report_problem(list, "declarations", NULL, st->cfg.schema_dir, text, err);
}

/* check: applied files that changed, applied revisions with no file, several heads, and
 * declarations that differ from head. */
int cmd_check(cli_state *st, rb_error *err)
{
    str_list rows = {0};
    rev_set applied = {0};
    json_t *list = NULL;
    int problems = 0, rc = -1;
    bool declared = false;
    if (info_want_json(st) && !(list = json_array())) {
        rb_errorf(err, RB_ERR_FAILURE, "out of memory");
        goto done;
    }
    if (info_read_current(st, &rows, err) != 0 ||
        info_problems(st, &rows, &applied, list, &problems, err) != 0 ||
        check_declarations(st, list, &declared, &problems, err) != 0)
        goto done;
    if (list) {
        json_t *root = json_object();
        int bad = !root;
        if (root) {
            bad |= json_object_set_new(root, "ok", json_boolean(problems == 0));
            bad |= json_object_set_new(root, "revisions", json_integer(st->g.count));
            bad |= json_object_set_new(root, "applied", json_integer(applied.count));
            bad |= json_object_set(root, "problems", list);
        }
        if (bad) {
            json_decref(root);
            rb_errorf(err, RB_ERR_FAILURE, "out of memory");
            goto done;
        }
        if (out_json(root, err) != 0)
            goto done;
    }
    if (problems) {
        rc = rb_errorf(err, RB_ERR_FAILURE, "check found %d problem%s", problems,
                       problems == 1 ? "" : "s");
    } else {
        if (!list)
            out_print("ok: %d revision%s, %d applied, files unchanged%s", st->g.count,
                      st->g.count == 1 ? "" : "s", applied.count,
                      declared ? ", declarations match head" : "");
        rc = 0;
    }
done:
    json_decref(list);
    rev_set_release(&applied);
    str_list_release(&rows);
    return rc;
}

int cmd_show_check(cli_state *st, rb_error *err)
{
    if (strcmp(st->args.positional.items[0], "base") == 0)
        return rb_errorf(err, RB_ERR_USAGE, "'base' is not a revision");
    return info_format_check(st, err);
}

int cmd_show(cli_state *st, rb_error *err)
{
    str_list rows = {0};
    int *idx = NULL, n = 0, rc = -1;
    const char *spec = st->args.positional.items[0];
    /* Only `current` needs the database. */
    if (strcmp(spec, "current") == 0 &&
        (cli_connect(st, err) != 0 || info_read_current(st, &rows, err) != 0))
        goto done;
    if (resolve_end(st, spec, &rows, &idx, &n, err) != 0)
        goto done;
    if (n == 0) {
        rb_errorf(err, RB_ERR_USAGE, "the database is at no revision (base): nothing to show");
        goto done;
    }
    rc = print_listing(st, "revisions", idx, n, REV_FULL, rows.count ? &rows : NULL, err);
done:
    free(idx);
    str_list_release(&rows);
    return rc;
}
