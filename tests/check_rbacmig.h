/* check_rbacmig.h: the suites of the one unit-test runner (check_main.c), and the few file
 * and stdout helpers they share. Each tests/check_<module>.c defines make_<module>_suite().
 *
 * The suites also run with CK_FORK=no (valgrind, ASan): every test restores what it changes
 * in the process (cwd, environment, registered secrets, stdout) and frees what it allocates. */
#ifndef RBACMIG_CHECK_RBACMIG_H
#define RBACMIG_CHECK_RBACMIG_H

#include <check.h>
#include <dirent.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

Suite *make_sha256_suite(void);
Suite *make_config_suite(void);
Suite *make_graph_suite(void);
Suite *make_driver_sqlite_suite(void);
Suite *make_lua_host_suite(void);
Suite *make_revcache_suite(void);
Suite *make_cli_suite(void);
Suite *make_output_suite(void);
Suite *make_runner_suite(void);
Suite *make_offline_suite(void);
Suite *make_error_suite(void);
Suite *make_hashmap_suite(void);
Suite *make_str_list_suite(void);
Suite *make_sql_lex_suite(void);
Suite *make_json_out_suite(void);

/* A new empty directory under /tmp; dir must hold 64 bytes. */
static inline void ck_tmpdir(char dir[64])
{
    snprintf(dir, 64, "/tmp/rbacmig-check-XXXXXX");
    ck_assert_msg(mkdtemp(dir) != NULL, "mkdtemp failed");
}

/* "dir/name", malloc'd. */
static inline char *ck_path(const char *dir, const char *name)
{
    size_t n = strlen(dir) + strlen(name) + 2;
    char *p = malloc(n);
    ck_assert_ptr_nonnull(p);
    snprintf(p, n, "%s/%s", dir, name);
    return p;
}

/* Writes len bytes of data to path (created or truncated). */
static inline void ck_write_bytes(const char *path, const char *data, size_t len)
{
    FILE *f = fopen(path, "wb");
    ck_assert_msg(f != NULL, "cannot create '%s'", path);
    ck_assert_uint_eq(fwrite(data, 1, len, f), len);
    ck_assert_int_eq(fclose(f), 0);
}

static inline void ck_write_text(const char *path, const char *text)
{
    ck_write_bytes(path, text, strlen(text));
}

/* Writes dir/name and returns its path (malloc'd). */
static inline char *ck_write_in(const char *dir, const char *name, const char *text)
{
    char *p = ck_path(dir, name);
    ck_write_text(p, text);
    return p;
}

/* Removes dir and the files directly inside it. */
static inline void ck_rmdir(const char *dir)
{
    DIR *d = opendir(dir);
    if (d) {
        struct dirent *e;
        while ((e = readdir(d)) != NULL) {
            if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
                continue;
            char *p = ck_path(dir, e->d_name);
            unlink(p);
            free(p);
        }
        closedir(d);
    }
    rmdir(dir);
}

static inline int ck_file_exists(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0;
}

/* Reads a whole file into a malloc'd NUL-terminated string. */
static inline char *ck_read_file(const char *path)
{
    FILE *f = fopen(path, "rb");
    ck_assert_msg(f != NULL, "cannot open '%s'", path);
    size_t cap = 4096, n = 0, got;
    char *buf = malloc(cap);
    ck_assert_ptr_nonnull(buf);
    while ((got = fread(buf + n, 1, cap - n - 1, f)) > 0) {
        n += got;
        if (cap - n - 1 == 0) {
            cap *= 2;
            buf = realloc(buf, cap);
            ck_assert_ptr_nonnull(buf);
        }
    }
    fclose(f);
    buf[n] = '\0';
    return buf;
}

/* Reads a whole file (any bytes) into a malloc'd buffer; *len its length. */
static inline char *ck_read_bytes(const char *path, size_t *len)
{
    struct stat st;
    ck_assert_int_eq(stat(path, &st), 0);
    char *buf = malloc((size_t)st.st_size + 1);
    ck_assert_ptr_nonnull(buf);
    FILE *f = fopen(path, "rb");
    ck_assert_ptr_nonnull(f);
    *len = fread(buf, 1, (size_t)st.st_size, f);
    fclose(f);
    ck_assert_uint_eq(*len, (size_t)st.st_size);
    return buf;
}

/* Redirects stdout (fd 1 and the stdio stream) into a temporary file until
 * ck_capture_end, which returns what was written (malloc'd) and restores stdout. */
typedef struct ck_capture {
    int saved_fd;
    char path[64];
} ck_capture;

static inline void ck_capture_begin(ck_capture *cap)
{
    fflush(stdout);
    snprintf(cap->path, sizeof cap->path, "/tmp/rbacmig-check-out-XXXXXX");
    int fd = mkstemp(cap->path);
    ck_assert_msg(fd >= 0, "mkstemp failed");
    cap->saved_fd = dup(STDOUT_FILENO);
    ck_assert_int_ge(cap->saved_fd, 0);
    ck_assert_int_ge(dup2(fd, STDOUT_FILENO), 0);
    close(fd);
}

static inline char *ck_capture_end(ck_capture *cap)
{
    fflush(stdout);
    dup2(cap->saved_fd, STDOUT_FILENO);
    close(cap->saved_fd);
    char *text = ck_read_file(cap->path);
    unlink(cap->path);
    return text;
}

#endif
