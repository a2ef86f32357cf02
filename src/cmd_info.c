/* cmd_info.c: the read-only commands: current, heads, branches, history, show. They never
 * create a database or take the lock. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "output.h"
#include "runner.h"

enum { OPT_VERBOSE, OPT_RANGE };

static const cli_opt info_opts[] = {
    {"verbose", 'v', false},
    {"rev-range", 'r', true},
    {NULL, 0, false},
};

/* The applied set of the database, for (current) marks. */
static int read_current(cli_state *st, str_list *rows, rb_error *err)
{
    if (cli_connect(st, false, true, err) != 0)
        return -1;
    runner r = {.cfg = &st->cfg, .host = st->host, .g = &st->g, .conn = st->conn};
    bool exists;
    return runner_read_versions(&r, rows, &exists, err);
}

/* "<base>" or "a, b": what a revision revises. Caller frees. */
static char *parents_text(const graph *g, const revision *rev)
{
    return rev->nparents ? graph_join_ids(g, rev->parents, rev->nparents) : strdup("<base>");
}

static void print_revision(const graph *g, int idx, bool verbose, const str_list *current)
{
    const revision *rev = &g->revs[idx];
    char labels[512] = "";
    for (int i = 0; i < rev->branch_labels.count; i++) {
        size_t n = strlen(labels);
        snprintf(labels + n, sizeof labels - n, "%s%s", n ? ", " : "", rev->branch_labels.items[i]);
    }
    const char *head = rev->nchildren == 0 ? " (head)" : "";
    const char *cur = current && str_list_contains(current, rev->id) ? " (current)" : "";
    const char *branchpoint = rev->nchildren > 1 ? " (branchpoint)" : "";
    const char *merge = rev->nparents > 1 ? " (mergepoint)" : "";
    char *parents = parents_text(g, rev);
    if (!verbose) {
        out_print("%s -> %s%s%s%s%s%s%s%s, %s", parents ? parents : "", rev->id,
                  labels[0] ? " (" : "", labels, labels[0] ? ")" : "", head, cur, branchpoint,
                  merge, rev->message);
    } else {
        out_print("Rev: %s%s%s%s%s", rev->id, head, cur, branchpoint, merge);
        out_print("Parent: %s", parents ? parents : "");
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
        out_print("\n    %s\n", rev->message);
    }
    free(parents);
}

/* Short form used by current and heads: "<rev> (head)". */
static void print_short(const graph *g, int idx, const str_list *current)
{
    const revision *rev = &g->revs[idx];
    (void)current;
    char labels[512] = "";
    for (int i = 0; i < rev->branch_labels.count; i++) {
        size_t n = strlen(labels);
        snprintf(labels + n, sizeof labels - n, "%s%s", n ? ", " : "", rev->branch_labels.items[i]);
    }
    out_print("%s%s%s%s%s", rev->id, labels[0] ? " (" : "", labels, labels[0] ? ")" : "",
              rev->nchildren == 0 ? " (head)" : "");
}

int cmd_current(cli_state *st, int argc, char **argv, rb_error *err)
{
    cli_args args;
    str_list rows = {0};
    int rc = -1;
    if (cli_parse_args("current", argc, argv, info_opts, &args, err) != 0)
        goto done;
    if (args.positional.count) {
        rb_errorf(err, RB_EXIT_USAGE, "'current' takes no arguments, got '%s'",
                  args.positional.items[0]);
        goto done;
    }
    bool verbose = args.values[OPT_VERBOSE].count > 0 || out_verbose();
    lua_host_set_checksums(st->host, verbose); /* only -v shows them */
    if (cli_load_graph(st, err) != 0 || read_current(st, &rows, err) != 0)
        goto done;
    for (int i = 0; i < rows.count; i++) {
        int idx = graph_find(&st->g, rows.items[i]);
        if (idx < 0) {
            rb_errorf(err, RB_EXIT_FAILURE,
                      "the database is at revision '%s', which no migration file has",
                      rows.items[i]);
            goto done;
        }
        if (verbose)
            print_revision(&st->g, idx, true, &rows);
        else
            print_short(&st->g, idx, &rows);
    }
    rc = 0;
done:
    str_list_release(&rows);
    cli_args_release(&args);
    return rc;
}

int cmd_heads(cli_state *st, int argc, char **argv, rb_error *err)
{
    cli_args args;
    int *heads = NULL, rc = -1;
    if (cli_parse_args("heads", argc, argv, info_opts, &args, err) != 0)
        goto done;
    bool verbose = args.values[OPT_VERBOSE].count > 0 || out_verbose();
    lua_host_set_checksums(st->host, verbose); /* only -v shows them */
    if (cli_load_graph(st, err) != 0)
        goto done;
    if (!(heads = malloc(sizeof *heads * ((size_t)st->g.count + 1)))) {
        rb_errorf(err, RB_EXIT_FAILURE, "out of memory");
        goto done;
    }
    int n = graph_heads(&st->g, heads);
    for (int i = 0; i < n; i++) {
        if (verbose)
            print_revision(&st->g, heads[i], true, NULL);
        else
            print_short(&st->g, heads[i], NULL);
    }
    rc = 0;
done:
    free(heads);
    cli_args_release(&args);
    return rc;
}

int cmd_branches(cli_state *st, int argc, char **argv, rb_error *err)
{
    cli_args args;
    int rc = -1;
    if (cli_parse_args("branches", argc, argv, info_opts, &args, err) != 0)
        goto done;
    bool verbose = args.values[OPT_VERBOSE].count > 0 || out_verbose();
    lua_host_set_checksums(st->host, verbose); /* only -v shows them */
    if (cli_load_graph(st, err) != 0)
        goto done;
    for (int k = 0; k < st->g.count; k++) {
        int i = st->g.order[k];
        const revision *rev = &st->g.revs[i];
        if (rev->nchildren < 2)
            continue;
        if (verbose) {
            print_revision(&st->g, i, true, NULL);
            continue;
        }
        out_print("%s (branchpoint)", rev->id);
        for (int c = 0; c < rev->nchildren; c++) {
            const revision *kid = &st->g.revs[rev->children[c]];
            out_print("    -> %s%s, %s", kid->id, kid->nchildren == 0 ? " (head)" : "", kid->message);
        }
    }
    rc = 0;
done:
    cli_args_release(&args);
    return rc;
}

/* Resolves one end of -r START:END; an empty end is open. */
static int range_end(cli_state *st, const char *spec, int *idx, rb_error *err)
{
    *idx = -1;
    if (!spec[0] || strcmp(spec, "base") == 0)
        return 0;
    return graph_resolve_one(&st->g, spec, idx, err);
}

int cmd_history(cli_state *st, int argc, char **argv, rb_error *err)
{
    cli_args args;
    str_list rows = {0};
    rev_set upto = {0}, from = {0};
    int rc = -1;
    if (cli_parse_args("history", argc, argv, info_opts, &args, err) != 0)
        goto done;
    bool verbose = args.values[OPT_VERBOSE].count > 0 || out_verbose();
    lua_host_set_checksums(st->host, verbose); /* only -v shows them */
    if (cli_load_graph(st, err) != 0)
        goto done;
    if (args.positional.count) {
        rb_errorf(err, RB_EXIT_USAGE, "'history' takes no arguments, got '%s' (use -r START:END)",
                  args.positional.items[0]);
        goto done;
    }
    /* -r START:END keeps revisions that are descendants of START and ancestors of END. */
    const char *range = cli_arg(&args, OPT_RANGE);
    int start = -1, end = -1;
    if (range) {
        const char *colon = strchr(range, ':');
        if (!colon) {
            rb_errorf(err, RB_EXIT_USAGE, "-r takes START:END (either may be empty), got '%s'", range);
            goto done;
        }
        char *left = strndup(range, (size_t)(colon - range));
        int bad = !left || range_end(st, left, &start, err) != 0 || range_end(st, colon + 1, &end, err) != 0;
        free(left);
        if (bad)
            goto done;
    }
    if (rev_set_init(&upto, &st->g) != 0 || rev_set_init(&from, &st->g) != 0) {
        rb_errorf(err, RB_EXIT_FAILURE, "out of memory");
        goto done;
    }
    if (end >= 0)
        rev_set_add_ancestors(&upto, &st->g, end);
    if (start >= 0) {
        rev_set_add(&from, start);
        for (int k = st->g.revs[start].topo + 1; k < st->g.count; k++) {
            int i = st->g.order[k];
            for (int p = 0; p < st->g.revs[i].nparents; p++)
                if (from.in[st->g.revs[i].parents[p]])
                    rev_set_add(&from, i);
        }
    }
    if (read_current(st, &rows, err) != 0)
        goto done;
    for (int k = st->g.count - 1; k >= 0; k--) {
        int i = st->g.order[k];
        if ((end >= 0 && !upto.in[i]) || (start >= 0 && !from.in[i]))
            continue;
        print_revision(&st->g, i, verbose, &rows);
    }
    rc = 0;
done:
    rev_set_release(&upto);
    rev_set_release(&from);
    str_list_release(&rows);
    cli_args_release(&args);
    return rc;
}

/* check: applied files that changed, applied revisions with no file, several heads. */
int cmd_check(cli_state *st, int argc, char **argv, rb_error *err)
{
    cli_args args;
    str_list rows = {0}, known = {0};
    rev_set applied = {0};
    int *changed = NULL, nchanged = 0, *heads = NULL, problems = 0, rc = -1;
    if (cli_parse_args("check", argc, argv, info_opts, &args, err) != 0 ||
        cli_load_graph(st, err) != 0 || read_current(st, &rows, err) != 0)
        goto done;
    for (int i = 0; i < rows.count; i++) {
        if (graph_find(&st->g, rows.items[i]) < 0) {
            out_print("missing: the database is at revision %s, which no migration file has",
                      rows.items[i]);
            problems++;
        } else if (str_list_push(&known, rows.items[i]) != 0) {
            goto oom;
        }
    }
    if (graph_applied(&st->g, &known, &applied, err) != 0)
        goto done;
    runner r = {.cfg = &st->cfg, .host = st->host, .g = &st->g, .conn = st->conn};
    if (runner_changed_files(&r, &applied, &changed, &nchanged, err) != 0)
        goto done;
    for (int i = 0; i < nchanged; i++) {
        const revision *rev = &st->g.revs[changed[i]];
        out_print("changed: %s (revision %s) differs from the file that was applied", rev->path,
                  rev->id);
        problems++;
    }
    str_list failed = {0};
    if (runner_failed_revisions(&r, &failed, err) != 0)
        goto done;
    for (int i = 0; i < failed.count; i++) {
        out_print("failed: revision %s stopped midway (transactional = false); repair it, then "
                  "'rbacmig stamp' the revision it is at", failed.items[i]);
        problems++;
    }
    str_list_release(&failed);
    if (!(heads = malloc(sizeof *heads * ((size_t)st->g.count + 1))))
        goto oom;
    int nheads = graph_heads(&st->g, heads);
    if (nheads > 1) {
        char *ids = graph_join_ids(&st->g, heads, nheads);
        out_print("heads: %d heads (%s); join them with 'rbacmig merge -m MSG heads'", nheads,
                  ids ? ids : "");
        free(ids);
        problems++;
    }
    if (problems) {
        rc = rb_errorf(err, RB_EXIT_FAILURE, "check found %d problem%s", problems,
                       problems == 1 ? "" : "s");
    } else {
        out_print("ok: %d revision%s, %d applied, files unchanged", st->g.count,
                  st->g.count == 1 ? "" : "s", applied.count);
        rc = 0;
    }
    goto done;
oom:
    rb_errorf(err, RB_EXIT_FAILURE, "out of memory");
done:
    free(changed);
    free(heads);
    rev_set_release(&applied);
    str_list_release(&rows);
    str_list_release(&known);
    cli_args_release(&args);
    return rc;
}

int cmd_show(cli_state *st, int argc, char **argv, rb_error *err)
{
    cli_args args;
    int rc = -1;
    if (cli_parse_args("show", argc, argv, info_opts, &args, err) != 0 || cli_load_graph(st, err) != 0)
        goto done;
    if (args.positional.count != 1) {
        rb_errorf(err, RB_EXIT_USAGE, "'show' takes one revision (usage: rbacmig show REV)");
        goto done;
    }
    int idx;
    if (strcmp(args.positional.items[0], "base") == 0) {
        rb_errorf(err, RB_EXIT_USAGE, "'base' is not a revision");
        goto done;
    }
    if ((rc = graph_resolve_one(&st->g, args.positional.items[0], &idx, err)) == 0)
        print_revision(&st->g, idx, true, NULL);
done:
    cli_args_release(&args);
    return rc;
}
