/* fuzz_revcache.c: the metadata cache's reader (src/revcache.c), behind its checksum.
 *
 * A cache file is only read when its FNV-1a trailer, magic line, binary identity and
 * directory all match, so random bytes would never get past the first check. The harness
 * does what a corrupt-but-checksummed file would: the first input byte picks a mode,
 *   even: the rest is the body after the header this binary writes (its identity and the
 *         scratch migrations directory), so entries are fuzzed;
 *   odd:  the rest is the whole file, header included;
 * and the correct trailer is appended either way. Then it looks up four names with fixed
 * file identities (the seed corpus holds entries with those keys, so lookups that parse an
 * entry's fields lazily are reached), saves, reopens and looks them up again. Beyond "no
 * sanitizer report":
 *   - a lookup that succeeds gives a revision a graph could use: an id, a message, a
 *     SHA-256 of 0 or 64 characters, the path asked for;
 *   - saving and reading back changes no lookup's answer (what was served is served
 *     again, what was refused is refused again).
 *
 * Depends on revcache.h and graph.h. */
#include <dirent.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fuzz_util.h"
#include "graph.h"
#include "revcache.h"

#define MAGIC "rbacmig-revcache 1\n"
#define NAMES 4
static const char *const names[NAMES] = {"a.lua", "b.lua", "c.lua", "d.lua"};
/* Far from every fake file time: nothing counts as changed in the last two seconds. */
static const double NOW = 2e9;

static char *migrations_dir, *cache_dir, *cache_file;
static char *header;   /* MAGIC and the identity and directory fields, as written here */
static size_t header_len;

/* The identity of names[i]'s file as the cache keys it: the seed corpus writes "1 <100+i>
 * <10+i> <1000+i> 0 <1000+i> 0". */
static struct stat fake_stat(int i)
{
    struct stat st;
    memset(&st, 0, sizeof st);
    st.st_dev = 1;
    st.st_ino = (ino_t)(100 + i);
    st.st_size = 10 + i;
    st.st_mtim.tv_sec = 1000 + i;
    st.st_ctim.tv_sec = 1000 + i;
    return st;
}

/* Past one "<len>:<bytes>" field of s; NULL when there is none. */
static const char *skip_field(const char *s, const char *end)
{
    size_t n = 0;
    while (s < end && *s >= '0' && *s <= '9')
        n = n * 10 + (size_t)(*s++ - '0');
    if (s == end || *s++ != ':' || (size_t)(end - s) < n)
        return NULL;
    return s + n;
}

static char *read_whole(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    char *buf = malloc(1 << 16);
    *len = buf ? fread(buf, 1, 1 << 16, f) : 0;
    fclose(f);
    return buf;
}

/* Learns the header this binary writes (its identity comes from /proc/self/exe) by saving a
 * cache with one entry, and where the file lives. */
int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    migrations_dir = fuzz_scratch_path("migrations");
    cache_dir = fuzz_scratch_path("cache");
    if (mkdir(migrations_dir, 0700) != 0 || mkdir(cache_dir, 0700) != 0)
        fuzz_fail(__FILE__, __LINE__, "mkdir", "cannot make the scratch directories");
    revcache *c = revcache_open_at(migrations_dir, cache_dir, NOW);
    FUZZ_CHECK(c != NULL, "the cache does not open in a private scratch directory");
    revision r;
    memset(&r, 0, sizeof r);
    r.id = "aaaa00000001";
    r.message = "m";
    struct stat st = fake_stat(0);
    revcache_store(c, names[0], &st, &r);
    revcache_save(c);
    revcache_free(c);

    DIR *d = opendir(cache_dir);
    struct dirent *e;
    while (d && (e = readdir(d)) != NULL)
        if (strstr(e->d_name, ".revs")) {
            size_t n = strlen(cache_dir) + strlen(e->d_name) + 2;
            cache_file = malloc(n);
            snprintf(cache_file, n, "%s/%s", cache_dir, e->d_name);
        }
    if (d)
        closedir(d);
    FUZZ_CHECK(cache_file != NULL, "saving wrote no cache file");
    size_t len;
    char *data = read_whole(cache_file, &len);
    FUZZ_CHECK(data && len > sizeof MAGIC && memcmp(data, MAGIC, sizeof MAGIC - 1) == 0,
               "the saved cache file does not start with the magic line");
    const char *p = skip_field(data + sizeof MAGIC - 1, data + len);
    p = p ? skip_field(p, data + len) : NULL;
    FUZZ_CHECK(p != NULL, "the saved cache file has no identity and directory fields");
    header_len = (size_t)(p - data);
    header = malloc(header_len);
    memcpy(header, data, header_len);
    free(data);
    return 0;
}

/* What one lookup answered, to compare across a save. */
typedef struct answer {
    bool found;
    char id[64], message[64], sha256[65];
    int ndown, nlabels, ndeps;
} answer;

static void look_up_all(revcache *c, answer out[NAMES])
{
    for (int i = 0; i < NAMES; i++) {
        struct stat st = fake_stat(i);
        revision r;
        answer *a = &out[i];
        memset(a, 0, sizeof *a);
        a->found = revcache_lookup(c, names[i], &st, "migrations/x.lua", NULL, &r);
        if (!a->found)
            continue;
        FUZZ_CHECK(r.id && r.id[0] && r.message && r.path, "a served entry lacks a field");
        FUZZ_CHECK(strcmp(r.path, "migrations/x.lua") == 0, "served path '%s'", r.path);
        size_t sha = strlen(r.sha256);
        FUZZ_CHECK(sha == 0 || sha == 64, "a served SHA-256 of %zu characters", sha);
        snprintf(a->id, sizeof a->id, "%s", r.id);
        snprintf(a->message, sizeof a->message, "%s", r.message);
        memcpy(a->sha256, r.sha256, sizeof a->sha256);
        a->ndown = r.down.count;
        a->nlabels = r.branch_labels.count;
        a->ndeps = r.depends_on.count;
        revision_release(&r);
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size == 0)
        return 0;
    bool whole = data[0] & 1;
    data++;
    size--;
    size_t prefix = whole ? 0 : header_len;
    size_t len = prefix + size;
    char *file = malloc(len + 19); /* the trailer, and snprintf's NUL */
    FUZZ_CHECK(file != NULL, "out of memory");
    memcpy(file, header, prefix);
    memcpy(file + prefix, data, size);
    snprintf(file + len, 19, "\n%016" PRIx64 "\n", revcache_checksum(file, len));
    fuzz_write_file(cache_file, (const uint8_t *)file, len + 18);
    free(file);

    answer before[NAMES], after[NAMES];
    revcache *c = revcache_open_at(migrations_dir, cache_dir, NOW);
    FUZZ_CHECK(c != NULL, "the cache does not open");
    look_up_all(c, before);
    revcache_save(c);
    revcache_free(c);
    c = revcache_open_at(migrations_dir, cache_dir, NOW);
    FUZZ_CHECK(c != NULL, "the cache does not open after a save");
    look_up_all(c, after);
    revcache_free(c);
    for (int i = 0; i < NAMES; i++)
        FUZZ_CHECK(memcmp(&before[i], &after[i], sizeof before[i]) == 0,
                   "%s: served %s '%s' before a save, %s '%s' after", names[i],
                   before[i].found ? "yes" : "no", before[i].id, after[i].found ? "yes" : "no",
                   after[i].id);
    return 0;
}
