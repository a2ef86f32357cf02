/* cmd_help.c: `help`, and the plumbing the completion scripts and the build ask of the
 * table (`__complete`, `__revisions`, `__man`,
 * `__reference`); what they print is rendered by help.c. */
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "help.h"
#include "textfile.h"

/* ---- `help [COMMAND [SUBCOMMAND]]` --------------------------------------------------- */

int cmd_help(cli_state *st, rb_error *err)
{
    const str_list *a = &st->args.positional;
    if (a->count == 0) {
        help_print_usage(stdout);
        return 0;
    }
    const cli_command *parent = cli_find_command(a->items[0], NULL);
    if (!parent)
        return rb_errorf(err, RB_ERR_USAGE, "unknown command '%s' (see 'rbacmig help')",
                         a->items[0]);
    if (a->count == 1) {
        help_print_command(stdout, NULL, parent);
        return 0;
    }
    const cli_command *cmd = cli_find_command(a->items[0], a->items[1]);
    if (!cmd)
        return rb_errorf(err, RB_ERR_USAGE, "unknown %s command '%s' (see 'rbacmig help %s')",
                         a->items[0], a->items[1], a->items[0]);
    help_print_command(stdout, parent, cmd);
    return 0;
}

/* `__complete commands | subcommands CMD | options [CMD [SUB]] | values [CMD [SUB]] |
 * positional CMD [SUB]`: one word a line. */
int cmd_complete(cli_state *st, rb_error *err)
{
    return help_complete(stdout, &st->args.positional, err);
}

/* `__revisions`: every revision id, branch label and LABEL@head of the migrations directory,
 * one a line, for completing targets. */
int cmd_complete_revisions(cli_state *st, rb_error *err)
{
    (void)err;
    const graph *g = &st->g;
    for (int i = 0; i < g->count; i++)
        printf("%s\n", g->revs[i].id);
    for (int i = 0; i < g->count; i++)
        for (int j = 0; j < g->revs[i].branch_labels.count; j++)
            printf("%s\n%s@head\n", g->revs[i].branch_labels.items[j],
                   g->revs[i].branch_labels.items[j]);
    return 0;
}

/* `__man TEMPLATE`: the man page on stdout; CMake runs it at build time. */
int cmd_man(cli_state *st, rb_error *err)
{
    textfile t;
    if (textfile_read(st->args.positional.items[0], &t, err) != 0)
        return -1;
    help_print_man(stdout, t.text, t.len);
    textfile_release(&t);
    return 0;
}

/* `__reference`: the README's command reference (Markdown) on stdout;
 * scripts/gen-readme-reference.sh puts it between README.md's markers. */
int cmd_reference(cli_state *st, rb_error *err)
{
    (void)st;
    (void)err;
    help_print_reference(stdout);
    return 0;
}
