/* textfile.h: reading a whole file into memory, the one way rbacmig does it (migrations,
 * rbacmig.lua, project modules, data files, .env, the metadata cache).
 *
 * Regular files only: a FIFO, a device or a directory named like one of those files is
 * refused before a byte is read (a FIFO would wait for a writer, a device might never end).
 * The buffer holds every byte, a NUL included: whether the bytes are text is the caller's
 * question (Lua refuses binary chunks with its own message). Depends on error.h. */
#ifndef RBACMIG_TEXTFILE_H
#define RBACMIG_TEXTFILE_H

#include <stddef.h>
#include <sys/stat.h>

#include "error.h"

typedef struct textfile {
    char *text;     /* len bytes and a terminating NUL; owned, textfile_release frees it */
    size_t len;
    struct stat st; /* the open file's identity, taken before the read: a file that changes
                     * during the read has a len or an mtime that no longer matches it */
} textfile;

/* Flags for textfile_read_ex. */
enum {
    TEXTFILE_NOFOLLOW = 1, /* refuse a symbolic link as the last component of path */
};

/* Reads all of path into *out (zeroed on failure). Errors name the file: "cannot open
 * 'x': ...", "cannot read 'x': not a regular file". On failure errno is the failed call's
 * (ENOENT for a missing file), for callers to whom a missing file is no error. */
int textfile_read(const char *path, textfile *out, rb_error *err);
/* The same with flags, refusing a file larger than max bytes (0: no limit). */
int textfile_read_ex(const char *path, int flags, size_t max, textfile *out, rb_error *err);

void textfile_release(textfile *f);

#endif
