/* cmd_scaffold.c: the commands that write files: init, revision, merge. */
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "output.h"
#include "scripts.h"

int cmd_init(cli_state *st, int argc, char **argv, rb_error *err)
{
    (void)st;
    cli_args args;
    int rc = -1;
    if (cli_parse_args("init", argc, argv, NULL, &args, err) != 0)
        goto done;
    if (args.positional.count > 1) {
        rb_errorf(err, RB_EXIT_USAGE, "'init' takes at most one directory");
        goto done;
    }
    const char *dir = args.positional.count ? args.positional.items[0] : ".";
    if ((rc = scripts_init_project(dir, err)) == 0)
        out_progress("Initialised rbacmig project in '%s' (rbacmig.lua, migrations/, .env.example)", dir);
done:
    cli_args_release(&args);
    return rc;
}

enum { REV_MESSAGE, REV_ID, REV_HEAD, REV_DEPENDS, REV_LABEL };

static const cli_opt revision_opts[] = {
    {"message", 'm', true},
    {"rev-id", 0, true},
    {"head", 0, true},
    {"depends-on", 0, true},
    {"branch-label", 0, true},
    {NULL, 0, false},
};

/* A revision named on the command line (exact, prefix, head, LABEL@head) -> its id. */
static int resolve_one(cli_state *st, const char *spec, const char **id, rb_error *err)
{
    int idx;
    if (graph_resolve_one(&st->g, spec, &idx, err) != 0)
        return -1;
    *id = st->g.revs[idx].id;
    return 0;
}

static int write_revision(cli_state *st, const char *message, const char *rev_id,
                          const str_list *parents, const str_list *depends, const char *label,
                          rb_error *err)
{
    new_revision spec = {.message = message, .rev_id = rev_id, .parents = parents,
                         .depends_on = depends, .branch_label = label};
    if (rev_id && graph_find(&st->g, rev_id) >= 0)
        return rb_errorf(err, RB_EXIT_USAGE, "revision '%s' already exists", rev_id);
    char *path = NULL;
    if (scripts_write_revision(st->cfg.migrations_dir, &spec, &path, err) != 0)
        return -1;
    out_print("%s", path);
    free(path);
    return 0;
}

int cmd_revision(cli_state *st, int argc, char **argv, rb_error *err)
{
    cli_args args;
    str_list parents = {0}, depends = {0};
    int rc = -1;
    if (cli_parse_args("revision", argc, argv, revision_opts, &args, err) != 0)
        goto done;
    const char *message = cli_arg(&args, REV_MESSAGE);
    if (!message || !message[0]) {
        rb_errorf(err, RB_EXIT_USAGE, "'revision' needs a message: rbacmig revision -m \"add users\"");
        goto done;
    }
    if (args.positional.count) {
        rb_errorf(err, RB_EXIT_USAGE, "unexpected argument '%s' (quote the message: -m \"...\")",
                  args.positional.items[0]);
        goto done;
    }
    if (cli_load_graph(st, err) != 0)
        goto done;
    const char *head = cli_arg(&args, REV_HEAD);
    const char *label = cli_arg(&args, REV_LABEL);
    const char *id;
    if (head && strcmp(head, "base") == 0) {
        /* A new root is only allowed in an empty graph (one root per graph). */
        if (st->g.count) {
            rb_errorf(err, RB_EXIT_USAGE, "--head base would make a second root revision");
            goto done;
        }
    } else if (head || st->g.count) {
        if (resolve_one(st, head ? head : "head", &id, err) != 0)
            goto done;
        if (str_list_push(&parents, id) != 0)
            goto oom;
    }
    for (int i = 0; i < args.values[REV_DEPENDS].count; i++) {
        if (resolve_one(st, args.values[REV_DEPENDS].items[i], &id, err) != 0)
            goto done;
        if (str_list_push(&depends, id) != 0)
            goto oom;
    }
    rc = write_revision(st, message, cli_arg(&args, REV_ID), &parents, &depends, label, err);
    goto done;
oom:
    rb_errorf(err, RB_EXIT_FAILURE, "out of memory");
done:
    str_list_release(&parents);
    str_list_release(&depends);
    cli_args_release(&args);
    return rc;
}

int cmd_merge(cli_state *st, int argc, char **argv, rb_error *err)
{
    cli_args args;
    str_list parents = {0};
    int rc = -1;
    if (cli_parse_args("merge", argc, argv, revision_opts, &args, err) != 0)
        goto done;
    const char *message = cli_arg(&args, REV_MESSAGE);
    if (!message || !message[0] || args.positional.count < 2) {
        rb_errorf(err, RB_EXIT_USAGE, "usage: rbacmig merge -m MSG REV REV...");
        goto done;
    }
    if (cli_load_graph(st, err) != 0)
        goto done;
    for (int i = 0; i < args.positional.count; i++) {
        const char *spec = args.positional.items[i], *id;
        if (strcmp(spec, "heads") == 0) {
            int *heads = malloc(sizeof *heads * ((size_t)st->g.count + 1));
            if (!heads)
                goto oom;
            int n = graph_heads(&st->g, heads);
            for (int h = 0; h < n; h++)
                if (!str_list_contains(&parents, st->g.revs[heads[h]].id) &&
                    str_list_push(&parents, st->g.revs[heads[h]].id) != 0) {
                    free(heads);
                    goto oom;
                }
            free(heads);
            continue;
        }
        if (resolve_one(st, spec, &id, err) != 0)
            goto done;
        if (str_list_contains(&parents, id)) {
            rb_errorf(err, RB_EXIT_USAGE, "revision '%s' is named twice", id);
            goto done;
        }
        if (str_list_push(&parents, id) != 0)
            goto oom;
    }
    if (parents.count < 2) {
        rb_errorf(err, RB_EXIT_USAGE, "a merge needs at least two revisions");
        goto done;
    }
    rc = write_revision(st, message, cli_arg(&args, REV_ID), &parents, NULL, NULL, err);
    goto done;
oom:
    rb_errorf(err, RB_EXIT_FAILURE, "out of memory");
done:
    str_list_release(&parents);
    cli_args_release(&args);
    return rc;
}
