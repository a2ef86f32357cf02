/* str_list.h: a growable list of owned strings (revision ids, version rows, option values)
 * and the helpers every user of one needs: membership, copy, the difference of two lists,
 * and joining for messages. Depends on nothing. */
#ifndef RBACMIG_STR_LIST_H
#define RBACMIG_STR_LIST_H

#include <stdbool.h>

typedef struct str_list {
    char **items;
    int count;
} str_list;

void str_list_release(str_list *l);
int str_list_push(str_list *l, const char *s); /* copies s; -1 when out of memory */
bool str_list_contains(const str_list *l, const char *s);
/* Appends copies of src's items to dst; -1 when out of memory (dst then holds a prefix). */
int str_list_append(str_list *dst, const str_list *src);

/* What changes from before to after, as sets: the items of before not in after go to
 * *removed, those of after not in before to *added (each in its list's order); -1 when
 * out of memory. */
int str_list_diff(const str_list *before, const str_list *after, str_list *removed,
                  str_list *added);

/* The n strings joined with sep ("a, b"; "" for none), malloc'd; NULL when out of memory. */
char *str_join(const char *const *items, int n, const char *sep);
char *str_list_join(const str_list *l, const char *sep);

#endif
