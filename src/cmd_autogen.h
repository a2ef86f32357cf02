/* cmd_autogen.h: the schema declared as code (docs/autogenerate.md). The declarations (the
 * schema directory's *.lua and *.sql files, applied in file-name order to an empty shadow
 * database) are compared with the schema at head (the migrations replayed into another
 * shadow), and what differs becomes a migration, proved in the shadow up and down before it
 * is written: `revision --autogenerate`. Also `schema export` (declarations from the live
 * database) and the declarations line of `check`. */
#ifndef RBACMIG_CMD_AUTOGEN_H
#define RBACMIG_CMD_AUTOGEN_H

#include "cli.h"

/* What `revision --autogenerate` exits with when the proof failed: nothing was written. A
 * refusal (a drop without --allow-drop, a rename to decide) is a usage error (2). */
enum { AUTOGEN_EXIT_PROOF_FAILED = 7 };

/* `revision`'s usage checks (its table row's check): -m, and the autogenerate options only
 * with --autogenerate. */
int cmd_revision_check(cli_state *st, rb_error *err);

/* `revision --autogenerate`: the new revision's parents (the current head(s)) and
 * dependencies (--depends-on) are given.
 * Returns the exit code (0 written or nothing to write, 7 proof failed), or -1 with err. */
int autogen_revision(cli_state *st, const str_list *parents, const str_list *depends,
                     rb_error *err);

/* `schema export [--format lua|sql] [-o FILE|DIR]`: the live database's schema as a
 * declaration file (rbacmig.autogen's declare), or as the SQL that file runs (through the
 * --sql driver, on stdout); and its usage check. */
int cmd_schema_export(cli_state *st, rb_error *err);
int cmd_schema_export_check(cli_state *st, rb_error *err);

/* `check`: whether the project's declarations (when its schema directory exists) differ
 * from the schema at head. *checked false when there is no schema directory; *differences
 * their number, each printed on a line (unless quiet_lines). */
int autogen_check(cli_state *st, bool quiet_lines, bool *checked, int *differences,
                  rb_error *err);

#endif
