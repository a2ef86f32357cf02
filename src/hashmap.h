/* hashmap.h: a string-keyed index of non-negative ints (open addressing, linear probing,
 * FNV-1a), the one hash table of the code base: revision ids -> graph indices, migration
 * file names -> metadata cache entries.
 *
 * Keys are borrowed: the caller keeps each key alive and unchanged while it is in the map.
 * Depends on nothing. */
#ifndef RBACMIG_HASHMAP_H
#define RBACMIG_HASHMAP_H

#include <stddef.h>
#include <stdint.h>

typedef struct hashmap {
    const char **keys; /* NULL: an empty slot */
    int *values;
    int nslots;        /* a power of two, or 0 before the first put */
    int count;
} hashmap;

/* 64-bit FNV-1a of len bytes, continuing from h (HASHMAP_FNV1A_INIT to start): the hash
 * of the map's keys, and a checksum where a cryptographic one is not needed. */
#define HASHMAP_FNV1A_INIT 14695981039346656037ULL
uint64_t hashmap_fnv1a(uint64_t h, const void *data, size_t len);

void hashmap_init(hashmap *m);
void hashmap_release(hashmap *m);

/* Room for count keys without growing; -1 when out of memory. */
int hashmap_reserve(hashmap *m, int count);

/* Adds key -> value (value >= 0): 0 when added, 1 when key was there already (its value
 * is left as it was), -1 when out of memory. */
int hashmap_put(hashmap *m, const char *key, int value);

/* key's value, or -1. */
int hashmap_get(const hashmap *m, const char *key);

#endif
