/* cmd_status.c: `rbacmig status` (Flyway's info, Prisma's migrate status): where the database
 * is, what `upgrade heads` would run and in which order, and what check finds (edited or
 * failed applied revisions, revisions with no file, several heads). As cheap as `current`
 * plus check's hashing: one read of the version table, the history read check makes, and
 * the plan computed in memory. --exit-code turns "pending" into exit 6 and a problem into
 * exit 1, for CI gates; without it status only reports (exit 0). */
#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "cmd_info.h"
#include "config.h"
#include "output.h"

/* README, "Exit codes": status --exit-code found revisions not yet applied. */
#define EXIT_PENDING 6

int cmd_status_check(cli_state *st, rb_error *err)
{
    return info_format_check(st, err);
}

/* What `upgrade heads` would run from applied, in its order. */
static int pending_steps(const graph *g, const rev_set *applied, int **steps, int *nsteps,
                         rb_error *err)
{
    target t = {.kind = TARGET_REVISIONS};
    int *heads = malloc(sizeof *heads * ((size_t)g->count + 1));
    if (!heads)
        return rb_errorf(err, RB_ERR_FAILURE, "out of memory");
    int nheads = graph_heads(g, heads);
    int rc = 0;
    if (nheads <= (int)(sizeof t.revs / sizeof *t.revs)) {
        memcpy(t.revs, heads, sizeof *heads * (size_t)nheads);
        t.nrevs = nheads;
        rc = graph_plan(g, applied, &t, DIR_UPGRADE, steps, nsteps, err);
    } else {
        /* More heads than a target holds: every missing revision, parents first. */
        *nsteps = 0;
        if (!(*steps = malloc(sizeof **steps * ((size_t)g->count + 1))))
            rc = rb_errorf(err, RB_ERR_FAILURE, "out of memory");
        for (int k = 0; rc == 0 && k < g->count; k++)
            if (!applied->in[g->order[k]])
                (*steps)[(*nsteps)++] = g->order[k];
    }
    free(heads);
    return rc;
}

/* "a -> b, message" as history prints it. */
static int print_step(const graph *g, int idx, rb_error *err)
{
    const revision *rev = &g->revs[idx];
    char *parents = rev->nparents ? graph_join_ids(g, rev->parents, rev->nparents)
                                  : strdup("<base>");
    char *message = out_printable(rev->message);
    int rc = 0;
    if (!parents || !message)
        rc = rb_errorf(err, RB_ERR_FAILURE, "out of memory");
    else
        out_print("    %s -> %s, %s", parents, rev->id, message);
    free(parents);
    free(message);
    return rc;
}

static int print_json(cli_state *st, const str_list *rows, const int *steps, int nsteps,
                      json_t *problems, rb_error *err)
{
    json_t *root = json_object(), *current = json_array(), *pending = json_array();
    int *heads = malloc(sizeof *heads * ((size_t)st->g.count + 1));
    char *masked = config_mask_url(st->cfg.database_url);
    int bad = !root || !current || !pending || !heads || !masked;
    for (int i = 0; !bad && i < rows->count; i++)
        bad = json_array_append_new(current, info_json_string(rows->items[i])) != 0;
    for (int i = 0; !bad && i < nsteps; i++)
        bad = json_array_append_new(pending, info_revision_json(&st->g, steps[i], rows)) != 0;
    if (!bad) {
        int nheads = graph_heads(&st->g, heads);
        bad |= json_object_set_new(root, "database", info_json_string(masked));
        bad |= json_object_set_new(root, "current", json_incref(current));
        bad |= json_object_set_new(root, "pending", json_incref(pending));
        bad |= json_object_set_new(root, "heads", info_json_ids(&st->g, heads, nheads));
        bad |= json_object_set_new(root, "problems", json_incref(problems));
        bad |= json_object_set_new(root, "up_to_date",
                                   json_boolean(nsteps == 0 && json_array_size(problems) == 0));
    }
    json_decref(current);
    json_decref(pending);
    free(heads);
    free(masked);
    if (bad) {
        json_decref(root);
        return rb_errorf(err, RB_ERR_FAILURE, "out of memory");
    }
    return out_json(root, err);
}

int cmd_status(cli_state *st, rb_error *err)
{
    str_list rows = {0};
    rev_set applied = {0};
    json_t *problems_json = NULL;
    int *steps = NULL, nsteps = 0, problems = 0, rc = -1;
    bool json = info_want_json(st);
    if (json && !(problems_json = json_array())) {
        rb_errorf(err, RB_ERR_FAILURE, "out of memory");
        goto done;
    }
    if (info_read_current(st, &rows, err) != 0)
        goto done;
    if (!json) {
        size_t len = 1;
        for (int i = 0; i < rows.count; i++)
            len += strlen(rows.items[i]) + 2;
        char *ids = malloc(len), *shown = NULL;
        if (ids) {
            ids[0] = '\0';
            for (int i = 0; i < rows.count; i++) {
                if (i)
                    strcat(ids, ", ");
                strcat(ids, rows.items[i]);
            }
            shown = out_printable(ids);
        }
        free(ids);
        if (!shown) {
            rb_errorf(err, RB_ERR_FAILURE, "out of memory");
            goto done;
        }
        out_print("current: %s", rows.count ? shown : "<base> (no revision applied)");
        free(shown);
    }
    /* Problems first: they say why a pending list may not be what upgrade would do (a
     * revision with no file is left out of the applied set). */
    if (info_problems(st, &rows, &applied, problems_json, &problems, err) != 0)
        goto done;
    if (pending_steps(&st->g, &applied, &steps, &nsteps, err) != 0)
        goto done;
    if (json) {
        if (print_json(st, &rows, steps, nsteps, problems_json, err) != 0)
            goto done;
    } else {
        if (nsteps)
            out_print("pending: %d revision%s, in the order 'rbacmig upgrade heads' runs them",
                      nsteps, nsteps == 1 ? "" : "s");
        for (int i = 0; i < nsteps; i++)
            if (print_step(&st->g, steps[i], err) != 0)
                goto done;
        if (!nsteps && !problems)
            out_print("ok: up to date, %d revision%s applied", applied.count,
                      applied.count == 1 ? "" : "s");
    }
    rc = 0;
    if (cli_flag(st, "exit-code")) {
        if (problems)
            rc = rb_errorf(err, RB_ERR_FAILURE, "status found %d problem%s", problems,
                           problems == 1 ? "" : "s");
        else if (nsteps)
            rc = EXIT_PENDING;
    }
done:
    json_decref(problems_json);
    free(steps);
    rev_set_release(&applied);
    str_list_release(&rows);
    return rc;
}
