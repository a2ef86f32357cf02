/* sha256.h: SHA-256 (FIPS 180-4) of a migration file, for the history table and `check`. */
#ifndef RBACMIG_SHA256_H
#define RBACMIG_SHA256_H

#include <stddef.h>
#include <stdint.h>

typedef struct sha256_ctx {
    uint32_t state[8];
    uint64_t bytes;
    unsigned char block[64];
    size_t fill;
} sha256_ctx;

void sha256_init(sha256_ctx *ctx);
void sha256_update(sha256_ctx *ctx, const void *data, size_t len);
void sha256_final(sha256_ctx *ctx, unsigned char digest[32]);

/* Hex digest (64 chars + NUL) of `text` with every "\r\n" read as "\n", so a checkout with
 * other line endings hashes the same. */
void sha256_hex_normalised(const char *text, size_t len, char hex[65]);

#endif
