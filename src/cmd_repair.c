/* cmd_repair.c: `repair` (Flyway's word): after an applied migration file was edited in a way
 * that changes nothing that ran (a comment, formatting), record its current checksum, so that
 * `check` is clean and `upgrade` goes on. The version store does the work under the lock; this file
 * prints what was (or would be) recorded. */
#include <stdlib.h>

#include "cli.h"
#include "output.h"
#include "versions.h"

/* The graph and the connection (read-only under --dry-run) come from the dispatcher. */
int cmd_repair(cli_state *st, rb_error *err)
{
    version_store vs = {0};
    version_change *changes = NULL;
    int n = 0, rc = -1;
    bool dry_run = cli_flag(st, "dry-run");
    if (versions_open(&vs, st->conn, &st->cfg, &st->g, err) != 0 ||
        versions_repair(&vs, dry_run, &changes, &n, err) != 0)
        goto done;
    if (n == 0) {
        out_print("nothing to repair: every applied file has the checksum the history records");
        rc = 0;
        goto done;
    }
    for (int i = 0; i < n; i++) {
        const version_change *c = &changes[i];
        const revision *rev = &st->g.revs[c->rev];
        out_print("%s (%s)", rev->id, rev->path);
        out_print("  recorded %s  (%s%s%s%s%s)", c->recorded, c->how,
                  c->who[0] ? " by " : "", c->who, c->when[0] ? " at " : "", c->when);
        out_print("  file     %s", rev->sha256);
    }
    if (dry_run)
        out_print("would record %d new checksum%s (--dry-run: nothing changed)", n,
                  n == 1 ? "" : "s");
    else
        out_print("recorded %d new checksum%s; no migration ran, the version is unchanged", n,
                  n == 1 ? "" : "s");
    rc = 0;
done:
    versions_close(&vs);
    free(changes);
    return rc;
}
