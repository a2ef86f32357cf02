/* textfile.c: the whole-file reader (textfile.h). */
#include "textfile.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* Reads fd to its end into a buffer of at least hint + 1 bytes, growing it when the file
 * grew since its stat. Returns the buffer (caller frees) or NULL with errno set. */
static char *read_all(int fd, size_t hint, size_t max, size_t *len)
{
    size_t cap = hint + 1, got = 0;
    char *buf = malloc(cap);
    while (buf) {
        if (got + 1 == cap) {
            char *grown = cap > (size_t)-1 / 2 ? NULL : realloc(buf, cap * 2);
            if (!grown) {
                free(buf);
                errno = ENOMEM;
                return NULL;
            }
            buf = grown;
            cap *= 2;
        }
        ssize_t n = read(fd, buf + got, cap - 1 - got);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0) {
            int saved = errno;
            free(buf);
            errno = saved;
            return NULL;
        }
        if (n == 0)
            break;
        got += (size_t)n;
        if (max && got > max) {
            free(buf);
            errno = EFBIG;
            return NULL;
        }
    }
    if (buf) {
        buf[got] = '\0';
        *len = got;
    }
    return buf;
}

int textfile_read_ex(const char *path, int flags, size_t max, textfile *out, rb_error *err)
{
    memset(out, 0, sizeof *out);
    /* O_NONBLOCK: opening a FIFO must not wait for a writer (it is refused just below); it
     * changes nothing for regular files. */
    int oflags = O_RDONLY | O_CLOEXEC | O_NONBLOCK | (flags & TEXTFILE_NOFOLLOW ? O_NOFOLLOW : 0);
    int fd = open(path, oflags);
    if (fd < 0)
        return rb_errorf(err, RB_ERR_FAILURE, "cannot open '%s': %s", path, strerror(errno));
    int rc = -1, saved = 0;
    if (fstat(fd, &out->st) != 0) {
        saved = errno;
        rb_errorf(err, RB_ERR_FAILURE, "cannot read '%s': %s", path, strerror(errno));
    } else if (!S_ISREG(out->st.st_mode)) {
        saved = S_ISDIR(out->st.st_mode) ? EISDIR : EINVAL;
        rb_errorf(err, RB_ERR_FAILURE, "cannot read '%s': not a regular file", path);
    } else if (max && (size_t)out->st.st_size > max) {
        saved = EFBIG;
        rb_errorf(err, RB_ERR_FAILURE, "cannot read '%s': larger than %zu bytes", path, max);
    } else if (!(out->text = read_all(fd, (size_t)out->st.st_size, max, &out->len))) {
        saved = errno;
        if (errno == ENOMEM)
            rb_errorf(err, RB_ERR_FAILURE, "out of memory reading '%s'", path);
        else
            rb_errorf(err, RB_ERR_FAILURE, "cannot read '%s': %s", path, strerror(errno));
    } else {
        rc = 0;
    }
    close(fd);
    if (rc != 0) {
        memset(out, 0, sizeof *out);
        errno = saved;
    }
    return rc;
}

int textfile_read(const char *path, textfile *out, rb_error *err)
{
    return textfile_read_ex(path, 0, 0, out, err);
}

void textfile_release(textfile *f)
{
    free(f->text);
    f->text = NULL;
    f->len = 0;
}
