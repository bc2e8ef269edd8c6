/* sha256.h - a small SHA-256 (FIPS 180-4) for the tests: hashes tensor bytes
 * and files to compare with the reference manifests. Not for the library. */
#ifndef MCF_TEST_SHA256_H
#define MCF_TEST_SHA256_H
#include <stddef.h>
#include <stdint.h>
#include <string.h>

typedef struct test_sha256 { uint32_t h[8]; uint64_t len; unsigned char blk[64]; size_t fill; } test_sha256;

static uint32_t test_sha256_ror(uint32_t x, int n) { return (x >> n) | (x << (32 - n)); }

static void test_sha256_block(test_sha256 *s, const unsigned char *p)
{
    static const uint32_t k[64] = {
        0x428a2f98u, 0x71374491u, 0xb5c0fbcfu, 0xe9b5dba5u, 0x3956c25bu, 0x59f111f1u, 0x923f82a4u, 0xab1c5ed5u,
        0xd807aa98u, 0x12835b01u, 0x243185beu, 0x550c7dc3u, 0x72be5d74u, 0x80deb1feu, 0x9bdc06a7u, 0xc19bf174u,
        0xe49b69c1u, 0xefbe4786u, 0x0fc19dc6u, 0x240ca1ccu, 0x2de92c6fu, 0x4a7484aau, 0x5cb0a9dcu, 0x76f988dau,
        0x983e5152u, 0xa831c66du, 0xb00327c8u, 0xbf597fc7u, 0xc6e00bf3u, 0xd5a79147u, 0x06ca6351u, 0x14292967u,
        0x27b70a85u, 0x2e1b2138u, 0x4d2c6dfcu, 0x53380d13u, 0x650a7354u, 0x766a0abbu, 0x81c2c92eu, 0x92722c85u,
        0xa2bfe8a1u, 0xa81a664bu, 0xc24b8b70u, 0xc76c51a3u, 0xd192e819u, 0xd6990624u, 0xf40e3585u, 0x106aa070u,
        0x19a4c116u, 0x1e376c08u, 0x2748774cu, 0x34b0bcb5u, 0x391c0cb3u, 0x4ed8aa4au, 0x5b9cca4fu, 0x682e6ff3u,
        0x748f82eeu, 0x78a5636fu, 0x84c87814u, 0x8cc70208u, 0x90befffau, 0xa4506cebu, 0xbef9a3f7u, 0xc67178f2u};
    uint32_t w[64], a, b, c, d, e, f, g, h, t1, t2;
    int i;
    for (i = 0; i < 16; i++)
        w[i] = ((uint32_t)p[4 * i] << 24) | ((uint32_t)p[4 * i + 1] << 16) | ((uint32_t)p[4 * i + 2] << 8) | p[4 * i + 3];
    for (i = 16; i < 64; i++) {
        uint32_t s0 = test_sha256_ror(w[i - 15], 7) ^ test_sha256_ror(w[i - 15], 18) ^ (w[i - 15] >> 3);
        uint32_t s1 = test_sha256_ror(w[i - 2], 17) ^ test_sha256_ror(w[i - 2], 19) ^ (w[i - 2] >> 10);
        w[i] = w[i - 16] + s0 + w[i - 7] + s1;
    }
    a = s->h[0]; b = s->h[1]; c = s->h[2]; d = s->h[3]; e = s->h[4]; f = s->h[5]; g = s->h[6]; h = s->h[7];
    for (i = 0; i < 64; i++) {
        t1 = h + (test_sha256_ror(e, 6) ^ test_sha256_ror(e, 11) ^ test_sha256_ror(e, 25)) + ((e & f) ^ (~e & g)) + k[i] + w[i];
        t2 = (test_sha256_ror(a, 2) ^ test_sha256_ror(a, 13) ^ test_sha256_ror(a, 22)) + ((a & b) ^ (a & c) ^ (b & c));
        h = g; g = f; f = e; e = d + t1; d = c; c = b; b = a; a = t1 + t2;
    }
    s->h[0] += a; s->h[1] += b; s->h[2] += c; s->h[3] += d; s->h[4] += e; s->h[5] += f; s->h[6] += g; s->h[7] += h;
}

static void test_sha256_init(test_sha256 *s)
{
    static const uint32_t iv[8] = {0x6a09e667u, 0xbb67ae85u, 0x3c6ef372u, 0xa54ff53au, 0x510e527fu, 0x9b05688cu, 0x1f83d9abu, 0x5be0cd19u};
    memcpy(s->h, iv, sizeof iv);
    s->len = 0;
    s->fill = 0;
}

static void test_sha256_update(test_sha256 *s, const void *data, size_t n)
{
    const unsigned char *p = (const unsigned char *)data;
    s->len += n;
    while (n > 0) {
        size_t k = 64 - s->fill < n ? 64 - s->fill : n;
        memcpy(s->blk + s->fill, p, k);
        s->fill += k; p += k; n -= k;
        if (s->fill == 64) { test_sha256_block(s, s->blk); s->fill = 0; }
    }
}

/* Writes the digest as 64 lower-case hex digits plus NUL into hex[65]. */
static void test_sha256_hex(test_sha256 *s, char hex[65])
{
    static const char digits[] = "0123456789abcdef";
    uint64_t bits = s->len * 8;
    unsigned char pad = 0x80, lenb[8];
    int i;
    test_sha256_update(s, &pad, 1);
    pad = 0;
    while (s->fill != 56) test_sha256_update(s, &pad, 1);
    for (i = 0; i < 8; i++) lenb[i] = (unsigned char)(bits >> (56 - 8 * i));
    test_sha256_update(s, lenb, 8);
    for (i = 0; i < 32; i++) {
        unsigned char byte = (unsigned char)(s->h[i / 4] >> (24 - 8 * (i % 4)));
        hex[2 * i] = digits[byte >> 4];
        hex[2 * i + 1] = digits[byte & 15];
    }
    hex[64] = '\0';
}

/* the one-shot helpers are optional for an includer */
#if defined(__GNUC__) || defined(__clang__)
#define TEST_SHA256_OPTIONAL static __attribute__((unused))
#else
#define TEST_SHA256_OPTIONAL static
#endif

/* One-shot digest of data[0..n) as 64 hex digits plus NUL in hex[65]. */
TEST_SHA256_OPTIONAL void test_sha256_of(const void *data, size_t n, char hex[65])
{
    test_sha256 s;
    test_sha256_init(&s);
    test_sha256_update(&s, data, n);
    test_sha256_hex(&s, hex);
}

/* One-shot: 1 if sha256(data[0..n)) equals the hex digest want. */
TEST_SHA256_OPTIONAL int test_sha256_is(const void *data, size_t n, const char *want)
{
    char hex[65];
    test_sha256_of(data, n, hex);
    return strcmp(hex, want) == 0;
}
#endif
