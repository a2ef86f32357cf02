/* str_list.c: lists of owned strings (see str_list.h). Lists here are short (a revision's
 * parents, a database's heads), so membership is a linear scan. */
#include "str_list.h"

#include <stdlib.h>
#include <string.h>

void str_list_release(str_list *l)
{
    for (int i = 0; i < l->count; i++)
        free(l->items[i]);
    free(l->items);
    l->items = NULL;
    l->count = 0;
}

/* The array holds 4 items, then doubles whenever count reaches a power of two: no
 * capacity field, and a list of n items costs log n reallocations. */
int str_list_push(str_list *l, const char *s)
{
    int n = l->count;
    if (n == 0 || (n >= 4 && (n & (n - 1)) == 0)) {
        char **grown = realloc(l->items, sizeof *grown * (size_t)(n ? 2 * n : 4));
        if (!grown)
            return -1;
        l->items = grown;
    }
    if (!(l->items[n] = strdup(s)))
        return -1;
    l->count++;
    return 0;
}

bool str_list_contains(const str_list *l, const char *s)
{
    for (int i = 0; i < l->count; i++)
        if (strcmp(l->items[i], s) == 0)
            return true;
    return false;
}

int str_list_append(str_list *dst, const str_list *src)
{
    for (int i = 0; i < src->count; i++)
        if (str_list_push(dst, src->items[i]) != 0)
            return -1;
    return 0;
}

/* The items of a missing from b, appended to out. */
static int missing(const str_list *a, const str_list *b, str_list *out)
{
    for (int i = 0; i < a->count; i++)
        if (!str_list_contains(b, a->items[i]) && str_list_push(out, a->items[i]) != 0)
            return -1;
    return 0;
}

int str_list_diff(const str_list *before, const str_list *after, str_list *removed,
                  str_list *added)
{
    return missing(before, after, removed) != 0 || missing(after, before, added) != 0 ? -1 : 0;
}

char *str_join(const char *const *items, int n, const char *sep)
{
    size_t len = 1, seplen = strlen(sep);
    for (int i = 0; i < n; i++)
        len += strlen(items[i]) + (i ? seplen : 0);
    char *out = malloc(len), *p = out;
    if (!out)
        return NULL;
    for (int i = 0; i < n; i++) {
        if (i) {
            memcpy(p, sep, seplen);
            p += seplen;
        }
        size_t k = strlen(items[i]);
        memcpy(p, items[i], k);
        p += k;
    }
    *p = '\0';
    return out;
}

char *str_list_join(const str_list *l, const char *sep)
{
    return str_join((const char *const *)l->items, l->count, sep);
}
