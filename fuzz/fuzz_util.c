/* fuzz_util.c: scratch files and checks shared by the fuzz targets (see fuzz_util.h). */
#include "fuzz_util.h"

#include <dirent.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static char scratch[64];

void fuzz_fail(const char *file, int line, const char *cond, const char *fmt, ...)
{
    va_list ap;
    fprintf(stderr, "\n==fuzz== invariant failed at %s:%d: %s\n==fuzz== ", file, line, cond);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputs("\n", stderr);
    /* abort() is a "deadly signal" to libFuzzer: it saves the input as crash-<sha1>. */
    abort();
}

/* Depth-first removal; the scratch tree is ours and a few entries deep at most. */
static void remove_tree(const char *path)
{
    struct stat st;
    if (lstat(path, &st) != 0)
        return;
    if (S_ISDIR(st.st_mode)) {
        DIR *d = opendir(path);
        struct dirent *e;
        while (d && (e = readdir(d)) != NULL) {
            if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
                continue;
            size_t n = strlen(path) + strlen(e->d_name) + 2;
            char *child = malloc(n);
            if (child) {
                snprintf(child, n, "%s/%s", path, e->d_name);
                remove_tree(child);
                free(child);
            }
        }
        if (d)
            closedir(d);
        rmdir(path);
    } else {
        unlink(path);
    }
}

static void remove_scratch(void)
{
    if (scratch[0])
        remove_tree(scratch);
}

const char *fuzz_scratch_dir(void)
{
    if (scratch[0])
        return scratch;
    snprintf(scratch, sizeof scratch, "/tmp/rbacmig-fuzz-XXXXXX");
    if (!mkdtemp(scratch)) {
        fprintf(stderr, "fuzz: cannot create a scratch directory in /tmp: %s\n",
                strerror(errno));
        exit(1);
    }
    atexit(remove_scratch);
    return scratch;
}

char *fuzz_scratch_path(const char *name)
{
    const char *dir = fuzz_scratch_dir();
    size_t n = strlen(dir) + strlen(name) + 2;
    char *p = malloc(n);
    if (!p) {
        fputs("fuzz: out of memory\n", stderr);
        exit(1);
    }
    snprintf(p, n, "%s/%s", dir, name);
    return p;
}

void fuzz_write_file(const char *path, const uint8_t *data, size_t size)
{
    /* A new file rather than a truncated one: ext4 flushes a file truncated and rewritten
     * when it is closed (auto_da_alloc), which made every input wait for the disk. */
    unlink(path);
    FILE *f = fopen(path, "wb");
    if (!f || (size && fwrite(data, 1, size, f) != size) || fclose(f) != 0) {
        fprintf(stderr, "fuzz: cannot write '%s': %s\n", path, strerror(errno));
        exit(1);
    }
}

char *fuzz_cstr(const uint8_t *data, size_t size)
{
    char *s = malloc(size + 1);
    if (!s) {
        fputs("fuzz: out of memory\n", stderr);
        exit(1);
    }
    if (size)
        memcpy(s, data, size);
    s[size] = '\0';
    return s;
}
