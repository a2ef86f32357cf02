/* shadow.h: a throwaway database to replay the project's migrations into (`rbacmig test`,
 * `rbacmig drift`). On PostgreSQL a database created on the live database's server
 * (rbacmig_shadow_<random>) and dropped by shadow_close, also after an error or SIGINT/SIGTERM
 * (the runner cancels the interrupted statement first, then the caller closes the shadow);
 * with --shadow-url, the given database, which must be empty and is left as the replay made
 * it. On SQLite a temporary file, removed by shadow_close. */
#ifndef RBACMIG_SHADOW_H
#define RBACMIG_SHADOW_H

#include <stdbool.h>

#include "config.h"
#include "driver.h"
#include "graph.h"
#include "lua_host.h"

typedef struct shadow {
    db_conn *conn;     /* the shadow, open for the runner */
    char *url;         /* the shadow's URL */
    char *created_db;  /* PostgreSQL: the database we created (dropped by shadow_close), or NULL */
    char *live_url;    /* PostgreSQL: where to connect to drop created_db */
    char *file;        /* SQLite: the temporary file (removed by shadow_close), or NULL */
    config cfg;        /* the run's settings with the shadow's URL (strings borrowed) */
    bool brought;      /* PostgreSQL: what the replay needs from outside the scope is in */
    bool kept;         /* a kept shadow (below): shadow_close leaves the database */
    bool reused;       /* kept, and found as an earlier run left it (clean, or empty) */
    char *not_brought; /* what could not be brought, named when a replay fails, or NULL */
} shadow;

/* Opens a shadow for the database at cfg->database_url: shadow_url if not NULL (refused
 * unless empty, naming what it holds), else a new one. On PostgreSQL it then brings what
 * the replay needs from outside the managed scope, read from cfg->database_url (see
 * shadow_bring), so that every shadow, `test`'s too, replays as the live database did.
 * Signals no longer end the process at
 * once while a shadow is open: they stop the work under way, and the caller cleans up. */
int shadow_open(const config *cfg, const char *shadow_url, shadow *sh, rb_error *err);

/* Replays migrations into the shadow: upgrade (or downgrade) to `to` ("head", a revision,
 * "base"). */
int shadow_migrate(shadow *sh, lua_host *host, const graph *g, direction dir, const char *to,
                   rb_error *err);

/* PostgreSQL: brings what the replay needs from outside the managed scope, read from the
 * live database: every schema that is neither PostgreSQL's, nor rbacmig's own, nor managed
 * (managed_schemas; without it, on Supabase, Supabase's schemas), with its extensions (as
 * CREATE EXTENSION: an untrusted one cannot be created by a non-superuser), types, sequences,
 * tables (columns, defaults, keys), functions and views; and public's default privileges and
 * grants. Best effort: what cannot be brought is kept in not_brought and named when a
 * replay fails (--verbose names it at once). Nothing on SQLite, nor when shadow_open
 * brought it already (it does on PostgreSQL): kept for callers that bring from a
 * connection of their own. */
int shadow_bring(shadow *sh, db_conn *live, rb_error *err);

/* Kept shadows (shadow.c explains why; `revision --autogenerate` and `check` use them on
 * PostgreSQL unless keep_shadows = false): rbacmig_shadow_<id>_<role> on the live server,
 * where id (12 hex digits) names the live database and the project. shadow_kept_lock
 * takes the pair's session advisory lock on the live connection (*locked false: another
 * run holds it). shadow_open_kept closes sh, then opens the role's database, making it
 * (again) when fresh, or unless an earlier run left it clean (head) or empty (declared): then sh->reused is true and
 * nothing is brought. shadow_mark records (clean) or clears the head's clean mark: clear
 * it before changing the head, record it once the run leaves it where it should be.
 * shadow_bring_from_live brings what lies outside the managed scope, in the transaction
 * that is open if one is (each statement in a savepoint). */
int shadow_kept_id(const config *cfg, char id[13]);
int shadow_kept_lock(db_conn *live, const char *id, bool *locked, rb_error *err);
int shadow_open_kept(const config *cfg, db_conn *live, const char *id, const char *role,
                     bool fresh, shadow *sh, rb_error *err);
int shadow_mark(shadow *sh, bool clean, rb_error *err);
int shadow_bring_from_live(shadow *sh, rb_error *err);

/* Closes the shadow's connection and drops the database or removes the file it created.
 * Safe on a zeroed or half-opened shadow; reports nothing (a failed drop is named in a
 * warning, for the user to drop by hand). */
void shadow_close(shadow *sh);

#endif
