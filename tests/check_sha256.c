/* check_sha256.c: SHA-256 against the FIPS 180-4 examples, incremental updates that cross
 * block boundaries, and the CRLF normalisation of migration files. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check_rbacmig.h"
#include "sha256.h"

static void to_hex(const unsigned char digest[32], char hex[65])
{
    for (int i = 0; i < 32; i++)
        snprintf(hex + i * 2, 3, "%02x", digest[i]);
}

/* One sha256_update call per chunk of `chunk` bytes (the last one shorter). */
static void digest_chunked(const void *data, size_t len, size_t chunk, char hex[65])
{
    sha256_ctx ctx;
    unsigned char digest[32];
    const unsigned char *p = data;
    sha256_init(&ctx);
    for (size_t off = 0; off < len; off += chunk)
        sha256_update(&ctx, p + off, len - off < chunk ? len - off : chunk);
    sha256_final(&ctx, digest);
    to_hex(digest, hex);
}

static void digest_once(const void *data, size_t len, char hex[65])
{
    digest_chunked(data, len, len ? len : 1, hex);
}

START_TEST(test_fips_empty)
{
    char hex[65];
    digest_once("", 0, hex);
    ck_assert_str_eq(hex, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
}
END_TEST

START_TEST(test_fips_abc)
{
    char hex[65];
    digest_once("abc", 3, hex);
    ck_assert_str_eq(hex, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
}
END_TEST

START_TEST(test_fips_448_bits)
{
    const char *msg = "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq";
    char hex[65];
    ck_assert_uint_eq(strlen(msg) * 8, 448);
    digest_once(msg, strlen(msg), hex);
    ck_assert_str_eq(hex, "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
}
END_TEST

START_TEST(test_fips_896_bits)
{
    const char *msg = "abcdefghbcdefghicdefghijdefghijkefghijklfghijklmghijklmnhijklmno"
                      "ijklmnopjklmnopqklmnopqrlmnopqrsmnopqrstnopqrstu";
    char hex[65];
    digest_once(msg, strlen(msg), hex);
    ck_assert_str_eq(hex, "cf5b16a778af8380036ce59e7b0492370b249b11e8f07a51afac45037afee9d1");
}
END_TEST

START_TEST(test_fips_million_a)
{
    size_t n = 1000000;
    char *a = malloc(n);
    ck_assert_ptr_nonnull(a);
    memset(a, 'a', n);
    char once[65], chunked[65], bytewise[65];
    digest_once(a, n, once);
    digest_chunked(a, n, 997, chunked); /* a prime: every offset within a block occurs */
    digest_chunked(a, 1000, 1, bytewise);
    free(a);
    const char *want = "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0";
    ck_assert_str_eq(once, want);
    ck_assert_str_eq(chunked, want);
    /* 1000 'a' (sha256sum of the same bytes) fed one byte at a time. */
    ck_assert_str_eq(bytewise, "41edece42d63e8d9bf515a9ba6932e1c20cbc9f5a5d134645adb5db1b9737ea3");
}
END_TEST

/* Lengths around the padding boundary (55/56 bytes: the length fits or needs a new block)
 * and the block boundary (63/64/65), one-shot and split at every position. */
START_TEST(test_padding_boundaries)
{
    static const struct {
        size_t n;
        const char *hex;
    } cases[] = {
        {55, "9f4390f8d30c2dd92ec9f095b65e2b9ae9b0a925a5258e241c9f1e910f734318"},
        {56, "b35439a4ac6f0948b6d6f9e3c6af0f5f590ce20f1bde7090ef7970686ec6738a"},
        {63, "7d3e74a05d7db15bce4ad9ec0658ea98e3f06eeecf16b4c6fff2da457ddc2f34"},
        {64, "ffe054fe7ae0cb6dc65c3af9b61d5209f439851db43d0ba5997337df154668eb"},
        {65, "635361c48bb9eab14198e76ea8ab7f1a41685d6ad62aa9146d301d4f17eb0ae0"},
        {119, "31eba51c313a5c08226adf18d4a359cfdfd8d2e816b13f4af952f7ea6584dcfb"},
        {120, "2f3d335432c70b580af0e8e1b3674a7c020d683aa5f73aaaedfdc55af904c21c"},
    };
    char a[128];
    memset(a, 'a', sizeof a);
    for (size_t c = 0; c < sizeof cases / sizeof *cases; c++) {
        char hex[65];
        digest_once(a, cases[c].n, hex);
        ck_assert_msg(strcmp(hex, cases[c].hex) == 0, "sha256 of %zu 'a': got %s, want %s",
                      cases[c].n, hex, cases[c].hex);
        for (size_t split = 0; split <= cases[c].n; split++) {
            sha256_ctx ctx;
            unsigned char digest[32];
            sha256_init(&ctx);
            sha256_update(&ctx, a, split);
            sha256_update(&ctx, a + split, cases[c].n - split);
            sha256_final(&ctx, digest);
            to_hex(digest, hex);
            ck_assert_msg(strcmp(hex, cases[c].hex) == 0,
                          "sha256 of %zu 'a' split at %zu: got %s, want %s", cases[c].n, split,
                          hex, cases[c].hex);
        }
    }
}
END_TEST

START_TEST(test_incremental_matches_one_shot)
{
    unsigned char data[1000];
    for (size_t i = 0; i < sizeof data; i++)
        data[i] = (unsigned char)(i * 7 + 3);
    char once[65];
    digest_once(data, sizeof data, once);
    static const size_t chunks[] = {1, 3, 63, 64, 65, 128, 999};
    for (size_t c = 0; c < sizeof chunks / sizeof *chunks; c++) {
        char hex[65];
        digest_chunked(data, sizeof data, chunks[c], hex);
        ck_assert_msg(strcmp(hex, once) == 0, "chunks of %zu: %s != one-shot %s", chunks[c],
                      hex, once);
    }
    /* Empty updates change nothing. */
    sha256_ctx ctx;
    unsigned char digest[32];
    char hex[65];
    sha256_init(&ctx);
    sha256_update(&ctx, "", 0);
    sha256_update(&ctx, "ab", 2);
    sha256_update(&ctx, "", 0);
    sha256_update(&ctx, "c", 1);
    sha256_final(&ctx, digest);
    to_hex(digest, hex);
    ck_assert_str_eq(hex, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
}
END_TEST

START_TEST(test_normalised_plain)
{
    char hex[65];
    sha256_hex_normalised("abc", 3, hex);
    ck_assert_str_eq(hex, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    ck_assert_uint_eq(strlen(hex), 64);
    sha256_hex_normalised("", 0, hex);
    ck_assert_str_eq(hex, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
}
END_TEST

START_TEST(test_normalised_crlf)
{
    char crlf[65], lf[65];
    sha256_hex_normalised("a\r\nb", 4, crlf);
    sha256_hex_normalised("a\nb", 3, lf);
    ck_assert_str_eq(crlf, lf);
    ck_assert_str_eq(lf, "7e18f737311b2dc3b2f269dd78396b0351f14fb66efa879f768cb23181883c78");
    /* Leading, trailing and consecutive CRLFs. */
    sha256_hex_normalised("\r\n\r\nx\r\n", 7, crlf);
    sha256_hex_normalised("\n\nx\n", 4, lf);
    ck_assert_str_eq(crlf, lf);
}
END_TEST

START_TEST(test_normalised_lone_cr_kept)
{
    char hex[65], lf[65];
    sha256_hex_normalised("a\rb", 3, hex);
    ck_assert_str_eq(hex, "af9081672dd5ef3247a30c2db5b0dafcc9bcf981a26aefb3c55d210d43fcc14e");
    sha256_hex_normalised("a\nb", 3, lf);
    ck_assert_str_ne(hex, lf);
    /* A "\r" at the very end has no "\n" after it. */
    sha256_hex_normalised("a\r", 2, hex);
    ck_assert_str_eq(hex, "961a57df036f6c4f44ca8a054271c45e823f469bcc439f0255c40974c3e3d131");
    /* "\r\r\n": only the last pair is a line ending, so the result is the bytes "a\r\nb". */
    char raw[65];
    sha256_hex_normalised("a\r\r\nb", 5, hex);
    digest_once("a\r\nb", 4, raw);
    ck_assert_str_eq(hex, raw);
}
END_TEST

START_TEST(test_normalised_long_text)
{
    /* 2000 lines: the CRLF file crosses many block boundaries at varying offsets. */
    size_t cap = 2000 * 16;
    char *crlf = malloc(cap), *lf = malloc(cap);
    ck_assert_ptr_nonnull(crlf);
    ck_assert_ptr_nonnull(lf);
    size_t nc = 0, nl = 0;
    for (int i = 0; i < 2000; i++) {
        nc += (size_t)snprintf(crlf + nc, cap - nc, "line %d\r\n", i);
        nl += (size_t)snprintf(lf + nl, cap - nl, "line %d\n", i);
    }
    char a[65], b[65], c[65];
    sha256_hex_normalised(crlf, nc, a);
    sha256_hex_normalised(lf, nl, b);
    digest_once(lf, nl, c);
    free(crlf);
    free(lf);
    ck_assert_str_eq(a, b);
    ck_assert_str_eq(b, c);
}
END_TEST

Suite *make_sha256_suite(void)
{
    Suite *s = suite_create("sha256");
    TCase *tc = tcase_create("fips");
    tcase_add_test(tc, test_fips_empty);
    tcase_add_test(tc, test_fips_abc);
    tcase_add_test(tc, test_fips_448_bits);
    tcase_add_test(tc, test_fips_896_bits);
    tcase_add_test(tc, test_fips_million_a);
    tcase_add_test(tc, test_padding_boundaries);
    tcase_add_test(tc, test_incremental_matches_one_shot);
    suite_add_tcase(s, tc);
    tc = tcase_create("normalised");
    tcase_add_test(tc, test_normalised_plain);
    tcase_add_test(tc, test_normalised_crlf);
    tcase_add_test(tc, test_normalised_lone_cr_kept);
    tcase_add_test(tc, test_normalised_long_text);
    suite_add_tcase(s, tc);
    return s;
}
