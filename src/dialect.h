/* dialect.h: which SQL a database speaks. A URL's scheme names it (config.c reads it); the
 * driver registered for it (driver.c) runs it, and the few places that write SQL differently
 * for each (versions.c, --sql literals in db_value.c) ask the connection for it. Depends on
 * nothing. */
#ifndef RBACMIG_DIALECT_H
#define RBACMIG_DIALECT_H

typedef enum { DIALECT_NONE, DIALECT_POSTGRESQL, DIALECT_SQLITE } db_dialect;

#endif
