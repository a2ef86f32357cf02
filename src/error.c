/* error.c: filling rb_error values, and the one mapping of their kinds to exit codes. */
#include "error.h"

#include <signal.h>
#include <stdio.h>
#include <string.h>

void rb_error_init(rb_error *err)
{
    memset(err, 0, sizeof *err);
}

int rb_verrorf(rb_error *err, rb_error_kind kind, const char *fmt, va_list ap)
{
    rb_error_init(err);
    err->kind = kind;
    vsnprintf(err->message, sizeof err->message, fmt, ap);
    return -1;
}

int rb_errorf(rb_error *err, rb_error_kind kind, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    rb_verrorf(err, kind, fmt, ap);
    va_end(ap);
    return -1;
}

int rb_error_interrupted(rb_error *err, int signo, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    rb_verrorf(err, RB_ERR_INTERRUPTED, fmt, ap);
    va_end(ap);
    err->signo = signo;
    return -1;
}

int rb_error_prefix(rb_error *err, const char *fmt, ...)
{
    char prefix[1024], old[sizeof err->message];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(prefix, sizeof prefix, fmt, ap);
    va_end(ap);
    rb_strlcpy(old, err->message, sizeof old);
    /* A message is a bounded buffer on purpose: a long prefix plus message is cut at the
     * end, which GCC (rightly) sees may happen. The one place rbacmig means to truncate. */
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wformat-truncation"
#endif
    snprintf(err->message, sizeof err->message, "%s: %s", prefix, old);
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic pop
#endif
    if (err->kind == RB_ERR_NONE)
        err->kind = RB_ERR_FAILURE;
    return -1;
}

int rb_error_exit_code(const rb_error *err)
{
    switch (err->kind) {
    case RB_ERR_NONE:
        return 0;
    case RB_ERR_USAGE:
        return 2;
    case RB_ERR_DENIED:
        return 3;
    case RB_ERR_INTERRUPTED:
        /* 130 and 143, as a shell reports a process killed by the signal. */
        return 128 + (err->signo == SIGTERM ? SIGTERM : SIGINT);
    case RB_ERR_FAILURE:
    case RB_ERR_NOT_FOUND:
    case RB_ERR_LOCK_TIMEOUT:
    case RB_ERR_NEEDS_FK_OFF:
        break;
    }
    return 1;
}

void rb_strlcpy(char *dst, const char *src, size_t size)
{
    if (size == 0)
        return;
    size_t n = src ? strlen(src) : 0;
    if (n >= size)
        n = size - 1;
    if (n)
        memcpy(dst, src, n);
    dst[n] = '\0';
}
