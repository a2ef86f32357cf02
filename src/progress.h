/* progress.h: what an upgrade or downgrade tells its user while it runs, and the clock that
 * times its steps. The runner says what happens; this module decides what to print:
 *
 *     [2/3] Running upgrade a -> b, message    a step as it starts ("[i/n] " on a terminal,
 *                                              for a run of several steps)
 *       done in 12 ms, 0.4 s elapsed           the step recorded (", elapsed" as above)
 *     upgrade: 3 steps in 40 ms                the end of a run of several steps
 *
 * A step is named when it starts, so that a long or failing step is known while it runs (as
 * Alembic does); the summary is one line to read after the scroll. A run that executes
 * nothing (--sql writes the script) prints only the step lines. Lines go through output.h:
 * -q silences them, --sql sends them to stderr. */
#ifndef RBACMIG_PROGRESS_H
#define RBACMIG_PROGRESS_H

#include <stdbool.h>

#include "error.h"
#include "graph.h"

typedef struct progress {
    const graph *g;
    direction dir;
    bool executes;      /* the run changes a database (not --sql): done and summary lines */
    int done;           /* steps completed, across plans made again */
    double t0;          /* when the command began (progress_now_ms) */
    double step_t0;     /* when the current step, or its rerun, began */
} progress;

/* Milliseconds on a monotonic clock: for durations only. */
double progress_now_ms(void);

/* A run's progress, its clock started now. */
void progress_init(progress *p, const graph *g, direction dir, bool executes);

/* The plan's step idx starts; left counts it and the plan's steps after it. A rerun of the
 * same step (announce false: SQLite's foreign-keys-off retry) restarts its clock and prints
 * nothing. Fails only when out of memory. */
int progress_step_start(progress *p, int idx, int left, bool announce, rb_error *err);

/* Milliseconds since the current step started: the duration its history row records. */
double progress_step_ms(const progress *p);

/* The current step was recorded: its done line, and one more step done. */
void progress_step_done(progress *p, int left);

/* The end of a successful run: a summary line when it did several steps. */
void progress_finish(const progress *p);

#endif
