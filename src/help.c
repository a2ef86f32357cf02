/* help.c: usage, `help COMMAND`, `COMMAND --help`, --version, the man page, the README's
 * command reference and the word lists for shell completion, all rendered from the command table (commands.c): a new
 * option or command shows up in each of them, with its help line and its example, without
 * another edit. Only this file and cli.c print help; help goes to stdout (it was asked
 * for), usage after an error to stderr. */
#include "help.h"

#include <stdlib.h>
#include <string.h>

#include "revision.h"
#include "version.h"

bool help_opts_end(const cli_opt *o)
{
    return !o->name && !o->short_name;
}

const char *help_opt_display(const cli_opt *o, char *buf, size_t size)
{
    if (o->name)
        snprintf(buf, size, "--%s", o->name);
    else
        snprintf(buf, size, "-%c", o->short_name);
    return buf;
}

void help_command_name(const cli_command *parent, const cli_command *cmd, char *buf,
                       size_t size)
{
    snprintf(buf, size, "%s%s%s", parent ? parent->name : "", parent ? " " : "", cmd->name);
}

void help_synopsis(const cli_command *parent, const cli_command *cmd, char *buf, size_t size)
{
    help_command_name(parent, cmd, buf, size);
    for (const cli_opt *o = cmd->opts; !help_opts_end(o); o++) {
        size_t used = strlen(buf);
        char flag[64];
        if (o->short_name)
            snprintf(flag, sizeof flag, "-%c", o->short_name);
        else
            help_opt_display(o, flag, sizeof flag);
        snprintf(buf + used, size - used, " %s%s%s%s%s%s", o->required ? "" : "[", flag,
                 o->value_name ? " " : "", o->value_name ? o->value_name : "",
                 o->required ? "" : "]", o->repeatable ? "..." : "");
    }
    if (cmd->args) {
        size_t used = strlen(buf);
        snprintf(buf + used, size - used, " %s", cmd->args);
    }
}

/* "-m, --message MSG" or "    --sql": the left column of an option's help line. */
static int option_left(const cli_opt *o, char *buf, size_t size)
{
    if (!o->name)
        return snprintf(buf, size, "-%c %s", o->short_name, o->value_name ? o->value_name : "");
    return snprintf(buf, size, "%c%c%s--%s%s%s", o->short_name ? '-' : ' ',
                    o->short_name ? o->short_name : ' ', o->short_name ? ", " : "  ", o->name,
                    o->value_name ? " " : "", o->value_name ? o->value_name : "");
}

/* "  -m, --message MSG      what the revision does" and under it "e.g. rbacmig revision -m
 * ...", aligned on the table's longest; prefix is "rbacmig COMMAND" (or "rbacmig"). */
static void print_option_lines(FILE *f, const cli_opt *opts, const char *prefix)
{
    char left[96];
    int width = 0;
    for (const cli_opt *o = opts; !help_opts_end(o); o++) {
        int n = option_left(o, left, sizeof left);
        width = n > width ? n : width;
    }
    for (const cli_opt *o = opts; !help_opts_end(o); o++) {
        option_left(o, left, sizeof left);
        fprintf(f, "  %-*s  %s\n", width, left, o->help ? o->help : "");
        if (o->example)
            fprintf(f, "  %-*s  e.g. %s %s\n", width, "", prefix, o->example);
    }
}

void help_print_usage(FILE *f)
{
    fprintf(f, "usage: rbacmig [GLOBAL OPTIONS] COMMAND [ARGS]\n\n"
               "Schema migrations in Lua for PostgreSQL and SQLite.\n\ncommands:\n");
    for (int i = 0; i < cli_ncommands; i++)
        if (!cli_commands[i].hidden)
            fprintf(f, "  %-10s %s\n", cli_commands[i].name, cli_commands[i].summary);
    fprintf(f, "\nglobal options (before or after the command; --opt VALUE or --opt=VALUE):\n");
    print_option_lines(f, cli_global_opts, "rbacmig");
    fprintf(f, "\n`rbacmig help COMMAND` (or `rbacmig COMMAND --help`) lists a command's options"
               " with an example each;\n`man rbacmig` has it all.\n"
               "\nexit codes: 0 ok, 1 migration or database failure (`test`: a test failed),\n"
               "            2 usage error, 3 `can` denied, 4 `diff`/`drift` found differences,\n"
               "            5 security-weakening ones, 130/143 interrupted by SIGINT/SIGTERM\n");
}

/* The global options that apply to cmd (all but -h and --version, which are answered
 * before any command runs), short where they have a short name: "-d, -c, -x, -q". */
static void applicable_globals(const cli_command *cmd, char *buf, size_t size)
{
    buf[0] = '\0';
    for (int k = 0; !help_opts_end(&cli_global_opts[k]); k++) {
        const cli_opt *o = &cli_global_opts[k];
        if (k == CLI_G_HELP || k == CLI_G_VERSION || (o->applies_to && !(cmd->flags & o->applies_to)))
            continue;
        size_t used = strlen(buf);
        char shown[64];
        if (o->short_name)
            snprintf(shown, sizeof shown, "-%c", o->short_name);
        else
            help_opt_display(o, shown, sizeof shown);
        snprintf(buf + used, size - used, "%s%s", used ? ", " : "", shown);
    }
}

void help_print_command(FILE *f, const cli_command *parent, const cli_command *cmd)
{
    char line[512], name[128];
    if (cmd->subs) {
        for (int i = 0; i < cmd->nsubs; i++) {
            help_synopsis(cmd, &cmd->subs[i], line, sizeof line);
            fprintf(f, "%s rbacmig %s\n", i ? "      " : "usage:", line);
        }
        fprintf(f, "\n%s:\n", cmd->summary);
        for (int i = 0; i < cmd->nsubs; i++)
            fprintf(f, "  %-10s %s\n", cmd->subs[i].name, cmd->subs[i].summary);
        fprintf(f, "\nexample: rbacmig %s %s\n", cmd->name, cmd->example ? cmd->example : "");
        fprintf(f, "\n`rbacmig help %s SUBCOMMAND` lists a subcommand's options\n", cmd->name);
        return;
    }
    help_synopsis(parent, cmd, line, sizeof line);
    help_command_name(parent, cmd, name, sizeof name);
    fprintf(f, "usage: rbacmig %s\n\n%s\n", line, cmd->summary);
    if (cmd->example)
        fprintf(f, "\nexample: rbacmig %s%s%s\n", name, cmd->example[0] ? " " : "", cmd->example);
    if (!help_opts_end(cmd->opts)) {
        char prefix[160];
        snprintf(prefix, sizeof prefix, "rbacmig %s", name);
        fprintf(f, "\noptions:\n");
        print_option_lines(f, cmd->opts, prefix);
    }
    char globals[256];
    applicable_globals(cmd, globals, sizeof globals);
    fprintf(f, "\nglobal options it takes, before or after it (`rbacmig --help`):\n  %s\n",
            globals);
}

void help_print_version(FILE *f)
{
    fprintf(f, "rbacmig %s (git %s, %s)\n", RBACMIG_VERSION, RBACMIG_GIT_REVISION,
            RBACMIG_BUILD_TYPE);
}

/* ---- word lists for completions/ ----------------------------------------------------- */

/* Each option of opts as the shell offers it: "--name" (and "-x" when it has one); only
 * those taking a value when valued (the scripts then complete the value, not an option);
 * a global option only where it applies (flags: the command's; ~0u before a command). */
static void list_options(FILE *f, const cli_opt *opts, bool valued, unsigned flags)
{
    for (const cli_opt *o = opts; !help_opts_end(o); o++) {
        if ((valued && !o->value_name) || (o->applies_to && !(o->applies_to & flags)))
            continue;
        if (o->name)
            fprintf(f, "--%s\n", o->name);
        if (o->short_name)
            fprintf(f, "-%c\n", o->short_name);
    }
}

/* What to offer for the command's positional arguments, from its synopsis: literal words
 * (lower case: "current", "heads"), and "@revisions" / "@commands" / "@dirs" for the
 * scripts to expand. TARGET adds the targets every migration command knows. */
static void list_positional(FILE *f, const cli_command *cmd)
{
    if (!cmd->args)
        return;
    char words[128];
    snprintf(words, sizeof words, "%s", cmd->args);
    bool revisions = false;
    for (char *w = strtok(words, " []|."); w; w = strtok(NULL, " []|.")) {
        if (strcmp(w, "TARGET") == 0) {
            fprintf(f, "head\nheads\nbase\n");
            revisions = true;
        } else if (strcmp(w, "REV") == 0) {
            revisions = true;
        } else if (strcmp(w, "COMMAND") == 0) {
            fprintf(f, "@commands\n");
        } else if (strcmp(w, "DIR") == 0 || strcmp(w, "TEMPLATE") == 0) {
            fprintf(f, "@files\n");
        } else if (w[0] >= 'a' && w[0] <= 'z') {
            fprintf(f, "%s\n", w);
        }
    }
    if (revisions)
        fprintf(f, "@revisions\n");
}

/* `__complete commands | subcommands CMD | options [CMD [SUB]] | values [CMD [SUB]] |
 * positional CMD [SUB]`: one word a line. Global options go anywhere, so they are part of
 * every command's options. An unknown command lists nothing: completion must stay quiet. */
int help_complete(FILE *f, const str_list *a, rb_error *err)
{
    const char *what = a->items[0];
    const cli_command *parent = a->count > 1 ? cli_find_command(a->items[1], NULL) : NULL;
    const cli_command *cmd = parent;
    if (parent && parent->subs && a->count > 2)
        cmd = cli_find_command(a->items[1], a->items[2]);
    if (strcmp(what, "commands") == 0) {
        for (int i = 0; i < cli_ncommands; i++)
            if (!cli_commands[i].hidden)
                fprintf(f, "%s\n", cli_commands[i].name);
    } else if (strcmp(what, "subcommands") == 0) {
        for (int i = 0; parent && i < parent->nsubs; i++)
            fprintf(f, "%s\n", parent->subs[i].name);
    } else if (strcmp(what, "options") == 0 || strcmp(what, "values") == 0) {
        bool valued = what[0] == 'v';
        unsigned flags = cmd ? cmd->flags : ~0u;
        for (int i = 0; cmd && i < cmd->nsubs; i++)
            flags |= cmd->subs[i].flags;
        list_options(f, cli_global_opts, valued, flags);
        if (cmd && cmd->subs) { /* before the subcommand: any subcommand's (cli.c does so) */
            for (int i = 0; i < cmd->nsubs; i++)
                list_options(f, cmd->subs[i].opts, valued, ~0u);
        } else if (cmd) {
            list_options(f, cmd->opts, valued, ~0u);
        }
    } else if (strcmp(what, "positional") == 0) {
        if (cmd && !cmd->subs)
            list_positional(f, cmd);
    } else {
        return rb_errorf(err, RB_ERR_USAGE, "'__complete' lists commands, subcommands, "
                         "options, values or positional, not '%s'", what);
    }
    return 0;
}

/* ---- the man page -------------------------------------------------------------------- */

/* text for roff: backslashes and hyphens escaped (a "-" would be a hyphen, not the minus
 * an option is typed with), and a line that would start with '.' or '\'' made literal. */
static void roff(FILE *f, const char *text)
{
    if (text[0] == '.' || text[0] == '\'')
        fputs("\\&", f);
    for (const char *p = text; *p; p++) {
        if (*p == '\\')
            fputs("\\e", f);
        else if (*p == '-')
            fputs("\\-", f);
        else
            fputc(*p, f);
    }
}

/* One option as a tagged paragraph: the option in bold, its value in italics, the help
 * line, and the example. */
static void man_option(FILE *f, const cli_opt *o, const char *prefix)
{
    fputs(".TP\n\\fB", f);
    if (o->short_name)
        fprintf(f, "\\-%c", o->short_name);
    if (o->short_name && o->name)
        fputs("\\fR, \\fB", f);
    if (o->name) {
        fputs("\\-\\-", f);
        roff(f, o->name);
    }
    fputs("\\fR", f);
    if (o->value_name) {
        fputs(" \\fI", f);
        roff(f, o->value_name);
        fputs("\\fR", f);
    }
    fputs("\n", f);
    roff(f, o->help ? o->help : "");
    if (o->repeatable && o->value_name && !strstr(o->help ? o->help : "", "repeatable"))
        fputs(" (repeatable)", f);
    if (o->example) {
        fputs("\n.br\nExample: \\fB", f);
        roff(f, prefix);
        fputc(' ', f);
        roff(f, o->example);
        fputs("\\fR", f);
    }
    fputs("\n", f);
}

static void man_command(FILE *f, const cli_command *parent, const cli_command *cmd)
{
    char line[512], name[128];
    help_synopsis(parent, cmd, line, sizeof line);
    help_command_name(parent, cmd, name, sizeof name);
    fputs(".SS \"", f);
    roff(f, line);
    fputs("\"\n", f);
    roff(f, cmd->summary);
    fputs(".\n", f);
    if (cmd->example) {
        fputs(".br\nExample: \\fBrbacmig ", f);
        roff(f, name);
        if (cmd->example[0])
            fputc(' ', f);
        roff(f, cmd->example);
        fputs("\\fR\n", f);
    }
    char prefix[160];
    snprintf(prefix, sizeof prefix, "rbacmig %s", name);
    for (const cli_opt *o = cmd->opts; !help_opts_end(o); o++)
        man_option(f, o, prefix);
}

/* The sections generated from the table, at the template's "@COMMANDS@" and
 * "@GLOBAL_OPTIONS@" lines; "@VERSION@" anywhere. */
static void man_fill(FILE *f, const char *line, size_t len)
{
    if (len == 10 && memcmp(line, "@COMMANDS@", 10) == 0) {
        for (int i = 0; i < cli_ncommands; i++) {
            const cli_command *c = &cli_commands[i];
            if (c->hidden)
                continue;
            if (!c->subs)
                man_command(f, NULL, c);
            for (int j = 0; j < c->nsubs; j++)
                man_command(f, c, &c->subs[j]);
        }
        return;
    }
    if (len == 16 && memcmp(line, "@GLOBAL_OPTIONS@", 16) == 0) {
        for (const cli_opt *o = cli_global_opts; !help_opts_end(o); o++)
            man_option(f, o, "rbacmig");
        return;
    }
    const char *at = NULL;
    for (size_t i = 0; i + 9 <= len && !at; i++)
        if (memcmp(line + i, "@VERSION@", 9) == 0)
            at = line + i;
    if (!at) {
        fwrite(line, 1, len, f);
    } else {
        fwrite(line, 1, (size_t)(at - line), f);
        fputs(RBACMIG_VERSION, f);
        fwrite(at + 9, 1, len - (size_t)(at - line) - 9, f);
    }
    fputc('\n', f);
}

void help_print_man(FILE *f, const char *template_text, size_t len)
{
    for (const char *p = template_text; p < template_text + len;) {
        const char *nl = memchr(p, '\n', (size_t)(template_text + len - p));
        size_t n = nl ? (size_t)(nl - p) : (size_t)(template_text + len - p);
        man_fill(f, p, n);
        p += n + 1;
    }
}

/* ---- the README's command reference (Markdown) ----------------------------------------- */

/* Prose for Markdown: '<' (which GitHub would take for an HTML tag: "<rev>_<slug>.up.sql"),
 * '*' and '\\' escaped; backticks are kept, the table uses them for code on purpose. */
static void md_text(FILE *f, const char *text)
{
    for (const char *p = text; *p; p++) {
        if (*p == '<' || *p == '*' || *p == '\\')
            fputc('\\', f);
        fputc(*p, f);
    }
}

/* A code span: `text`, or ``text`` when the text holds a backtick. */
static void md_code(FILE *f, const char *prefix, const char *text)
{
    bool tick = strchr(prefix, '`') || strchr(text, '`');
    fprintf(f, "%s%s%s%s%s", tick ? "`` " : "`", prefix, prefix[0] && text[0] ? " " : "",
            text, tick ? " ``" : "`");
}

/* "  - `-m, --message MSG`: what the revision does. Example: `rbacmig revision -m ...`" */
static void md_options(FILE *f, const cli_opt *opts, const char *prefix, const char *indent)
{
    for (const cli_opt *o = opts; !help_opts_end(o); o++) {
        char left[96], shortname[8] = "";
        if (o->short_name)
            snprintf(shortname, sizeof shortname, "-%c%s", o->short_name, o->name ? ", " : "");
        snprintf(left, sizeof left, "%s%s%s%s%s", shortname, o->name ? "--" : "",
                 o->name ? o->name : "", o->value_name ? " " : "",
                 o->value_name ? o->value_name : "");
        fprintf(f, "%s- ", indent);
        md_code(f, "", left);
        fputs(": ", f);
        md_text(f, o->help ? o->help : "");
        if (o->repeatable && o->value_name && !strstr(o->help ? o->help : "", "repeatable"))
            fputs(" (repeatable)", f);
        if (o->example) {
            fputs(". Example: ", f);
            md_code(f, prefix, o->example);
        }
        fputc('\n', f);
    }
}

static void md_command(FILE *f, const cli_command *parent, const cli_command *cmd)
{
    char line[512], name[128], prefix[160];
    help_synopsis(parent, cmd, line, sizeof line);
    help_command_name(parent, cmd, name, sizeof name);
    snprintf(prefix, sizeof prefix, "rbacmig %s", name);
    fputs("- **", f);
    md_code(f, "rbacmig", line);
    fputs("**: ", f);
    md_text(f, cmd->summary);
    if (cmd->example) {
        fputs(". Example: ", f);
        md_code(f, prefix, cmd->example);
    }
    fputc('\n', f);
    md_options(f, cmd->opts, prefix, "  ");
}

void help_print_reference(FILE *f)
{
    fputs("<!-- Generated from the command table (src/commands.c) by `rbacmig __reference`:\n"
          "     edit the table and run scripts/gen-readme-reference.sh, not this. -->\n\n", f);
    for (int i = 0; i < cli_ncommands; i++) {
        const cli_command *c = &cli_commands[i];
        if (c->hidden)
            continue;
        if (!c->subs)
            md_command(f, NULL, c);
        for (int j = 0; j < c->nsubs; j++)
            md_command(f, c, &c->subs[j]);
    }
    fputs("\nGlobal options, before or after the command (`--opt VALUE` or `--opt=VALUE`):\n\n", f);
    md_options(f, cli_global_opts, "rbacmig", "");
}
