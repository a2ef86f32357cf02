/* hashmap.c: the string-keyed index (see hashmap.h). Kept at most half full, so a probe
 * sequence is short and always ends at an empty slot. */
#include "hashmap.h"

#include <stdlib.h>
#include <string.h>

uint64_t hashmap_fnv1a(uint64_t h, const void *data, size_t len)
{
    const unsigned char *p = data;
    for (size_t i = 0; i < len; i++)
        h = (h ^ p[i]) * 1099511628211ULL;
    return h;
}

void hashmap_init(hashmap *m)
{
    memset(m, 0, sizeof *m);
}

void hashmap_release(hashmap *m)
{
    free(m->keys);
    free(m->values);
    hashmap_init(m);
}

/* The slot holding key, or the empty slot where it would go. */
static int find_slot(const hashmap *m, const char *key)
{
    uint32_t mask = (uint32_t)m->nslots - 1;
    for (uint32_t s = (uint32_t)hashmap_fnv1a(HASHMAP_FNV1A_INIT, key, strlen(key)) & mask;;
         s = (s + 1) & mask)
        if (!m->keys[s] || strcmp(m->keys[s], key) == 0)
            return (int)s;
}

int hashmap_reserve(hashmap *m, int count)
{
    if (count * 2 <= m->nslots)
        return 0;
    int n = m->nslots ? m->nslots : 16;
    while (count * 2 > n)
        n *= 2;
    hashmap grown = {calloc((size_t)n, sizeof *grown.keys), malloc(sizeof *grown.values * (size_t)n),
                     n, 0};
    if (!grown.keys || !grown.values) {
        hashmap_release(&grown);
        return -1;
    }
    for (int i = 0; i < m->nslots; i++)
        if (m->keys[i]) {
            int s = find_slot(&grown, m->keys[i]);
            grown.keys[s] = m->keys[i];
            grown.values[s] = m->values[i];
            grown.count++;
        }
    hashmap_release(m);
    *m = grown;
    return 0;
}

int hashmap_put(hashmap *m, const char *key, int value)
{
    if (hashmap_reserve(m, m->count + 1) != 0)
        return -1;
    int s = find_slot(m, key);
    if (m->keys[s])
        return 1;
    m->keys[s] = key;
    m->values[s] = value;
    m->count++;
    return 0;
}

int hashmap_get(const hashmap *m, const char *key)
{
    if (m->count == 0)
        return -1;
    int s = find_slot(m, key);
    return m->keys[s] ? m->values[s] : -1;
}
