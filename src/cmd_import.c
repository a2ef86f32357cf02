/* cmd_import.c: `import alembic DIR`: an Alembic project's revisions become migrations in
 * the configured migrations directory (the work is alembic.c's; this reports it). */
#include <stdlib.h>
#include <string.h>

#include "alembic.h"
#include "cli.h"
#include "output.h"

int cmd_import(cli_state *st, rb_error *err)
{
    alembic_step *steps = NULL;
    int nsteps = 0, refused = 0, rc = -1;
    const char *dir = st->args.positional.items[0];
    if (alembic_import(dir, st->cfg.migrations_dir, cli_value(st, "dialect"), &steps, &nsteps,
                       err) != 0)
        goto done;
    out_progress("Imported %d Alembic revision%s from '%s' into %s/:", nsteps,
                 nsteps == 1 ? "" : "s", dir, st->cfg.migrations_dir);
    for (int i = 0; i < nsteps; i++) {
        out_print("%s %s", steps[i].id, steps[i].file);
        if (!steps[i].offline_ok) {
            refused++;
            out_note("%s: %s; that direction refuses to run until written by hand",
                     steps[i].id, steps[i].why);
        }
    }
    if (refused)
        out_note("%d revision%s could not be rendered offline in full (see above)", refused,
                 refused == 1 ? "" : "s");
    rc = 0;
done:
    free(steps);
    return rc;
}
