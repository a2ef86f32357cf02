/* help.h: everything rbacmig says about itself, generated from the command table
 * (commands.c) so that none of it can drift from what the dispatcher accepts: usage,
 * `help COMMAND` and `COMMAND --help` (every option with its line and an example), the
 * version, the man page (doc/rbacmig.1.in filled in at build time), the README's command
 * reference (`__reference`), and the word lists the
 * completion scripts (completions/) ask the hidden `__complete` for. Depends on the table's
 * types (commands.h) and knows nothing of a run (cli.c calls it for usage errors and
 * --help; cmd_help.c answers `help`, `__complete` and `__man` with it). */
#ifndef RBACMIG_HELP_H
#define RBACMIG_HELP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include "commands.h"
#include "str_list.h"

/* The end of an option table ({0}). */
bool help_opts_end(const cli_opt *o);
/* "--name", or "-x" for a short-only option. */
const char *help_opt_display(const cli_opt *o, char *buf, size_t size);
/* "tenant create" or "upgrade". */
void help_command_name(const cli_command *parent, const cli_command *cmd, char *buf,
                       size_t size);
/* The synopsis: "revision -m MSG [--rev-id ID] [--depends-on REV]... TARGET". */
void help_synopsis(const cli_command *parent, const cli_command *cmd, char *buf, size_t size);

/* `rbacmig --help` / `rbacmig help`: the commands, the global options, the exit codes. */
void help_print_usage(FILE *f);
/* `rbacmig help COMMAND` / `COMMAND --help`; for a command with subcommands, each of them. */
void help_print_command(FILE *f, const cli_command *parent, const cli_command *cmd);
/* "rbacmig 0.1.0 (git 640a682, Debug)": the git revision and the build type as CMake saw
 * them at build time; "unknown" for a tree without git (a tarball). */
void help_print_version(FILE *f);

/* `__complete WHAT [CMD [SUB]]` (words: WHAT and the rest): one word a line on f. An unknown
 * command lists nothing (completion must stay quiet); an unknown WHAT is a usage error. */
int help_complete(FILE *f, const str_list *words, rb_error *err);
/* The README's command reference (Markdown): every visible command's synopsis, summary and
 * example, each option with its help line and example, then the global options. README.md
 * holds exactly this between its commands:begin/end markers. */
void help_print_reference(FILE *f);
/* The man page: template (doc/rbacmig.1.in, len bytes) with the table filled in, on f. */
void help_print_man(FILE *f, const char *template_text, size_t len);

#endif
