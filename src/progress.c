/* progress.c: the step lines, done lines and summary of an upgrade or downgrade (see
 * progress.h), and the clock that times them. */
#include "progress.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "output.h"

double progress_now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1000.0 + (double)ts.tv_nsec / 1e6;
}

void progress_init(progress *p, const graph *g, direction dir, bool executes)
{
    *p = (progress){.g = g, .dir = dir, .executes = executes, .t0 = progress_now_ms()};
}

static const char *verb(const progress *p)
{
    return p->dir == DIR_UPGRADE ? "upgrade" : "downgrade";
}

/* "a, b" for the ids a step moves from (or to); "" for base. Caller frees. */
static char *step_ids(const graph *g, int idx, direction dir, bool to)
{
    const revision *rev = &g->revs[idx];
    bool parents = (dir == DIR_UPGRADE) != to;
    return parents ? graph_join_ids(g, rev->parents, rev->nparents) : strdup(rev->id);
}

int progress_step_start(progress *p, int idx, int left, bool announce, rb_error *err)
{
    p->step_t0 = progress_now_ms();
    if (!announce)
        return 0;
    const revision *rev = &p->g->revs[idx];
    char *from = step_ids(p->g, idx, p->dir, false);
    char *to = step_ids(p->g, idx, p->dir, true);
    char *message = out_printable(rev->message);
    int rc = 0;
    if (!from || !to || !message)
        rc = rb_errorf(err, RB_ERR_FAILURE, "out of memory");
    else
        out_progress_step(p->done + 1, p->done + left, "Running %s %s -> %s, %s", verb(p),
                          from, to, message);
    free(from);
    free(to);
    free(message);
    return rc;
}

double progress_step_ms(const progress *p)
{
    return progress_now_ms() - p->step_t0;
}

/* On a terminal a run of several steps also says how long it has been going. */
void progress_step_done(progress *p, int left)
{
    int all = p->done + left;
    p->done++;
    if (!p->executes)
        return;
    if (all > 1 && out_progress_on_terminal())
        out_progress("  done in %.0f ms, %.1f s elapsed", progress_step_ms(p),
                     (progress_now_ms() - p->t0) / 1000);
    else
        out_progress("  done in %.0f ms", progress_step_ms(p));
}

void progress_finish(const progress *p)
{
    if (p->done <= 1 || !p->executes)
        return; /* one step: its done line says it all */
    double ms = progress_now_ms() - p->t0;
    if (ms < 10000)
        out_progress("%s: %d steps in %.0f ms", verb(p), p->done, ms);
    else
        out_progress("%s: %d steps in %.1f s", verb(p), p->done, ms / 1000);
}
