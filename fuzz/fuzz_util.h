/* fuzz_util.h: what the fuzz targets share: a private scratch directory per process,
 * writing files into it, NUL-terminated copies of inputs, and an assertion that libFuzzer
 * records as a crash (with the input) in every build type.
 *
 * Depends on nothing in rbacmig; the targets include the module headers they fuzz. */
#ifndef RBACMIG_FUZZ_UTIL_H
#define RBACMIG_FUZZ_UTIL_H

#include <stddef.h>
#include <stdint.h>

/* assert() would vanish under NDEBUG; an invariant of a fuzz target must not. */
#define FUZZ_CHECK(cond, ...)                                                              \
    do {                                                                                   \
        if (!(cond))                                                                       \
            fuzz_fail(__FILE__, __LINE__, #cond, __VA_ARGS__);                             \
    } while (0)

/* libFuzzer's entry points, which each target defines (LLVMFuzzerInitialize optionally). */
int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

void fuzz_fail(const char *file, int line, const char *cond, const char *fmt, ...)
    __attribute__((noreturn, format(printf, 4, 5)));

/* /tmp/rbacmig-fuzz-XXXXXX, created on first use and removed (with what fuzz_write_file
 * put there) when the process exits normally. Exits on failure: no target can run. */
const char *fuzz_scratch_dir(void);

/* Joins the scratch directory and name into a new string (caller frees). */
char *fuzz_scratch_path(const char *name);

/* Creates or truncates path and writes size bytes; exits on failure (disk full or the
 * directory gone is an environment problem, not a finding). */
void fuzz_write_file(const char *path, const uint8_t *data, size_t size);

/* A NUL-terminated copy of data (caller frees). Embedded NULs stay: C callers see the
 * string up to the first one, as they would with a command-line argument. */
char *fuzz_cstr(const uint8_t *data, size_t size);

#endif
