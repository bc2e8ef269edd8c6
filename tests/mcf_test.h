/* mcf_test.h - the tiny test harness of mooncake_fileio.h's tests.
 *
 * Each test is `static int <area>_<behaviour>(void)` returning 0 (pass), 1 (fail) or
 * MCF_TEST_SKIPPED (after printing why with MCF_SKIP). Every test file ends
 * with an MCF_TEST_MAIN table; the last line printed is
 * "N passed, N failed" plus ", N skipped" when something was skipped.
 * With MCF_TEST_REQUIRE_ALL=1 in the environment a skip counts as a failure.
 *
 * Shared helpers, one header per need: this file (files, lines, payloads,
 * hand-made zips; builds everywhere, Windows included), mcf_test_posix.h
 * (temporary directory, listings, sparse files, real PyTorch),
 * mcf_test_server.h (nginx, s3rver, http.server for the curl variants; its
 * ports and process plumbing in mcf_test_net.h, which the bench shares),
 * mcf_test_alloc.h (the counting allocator and allocation-failure sweeps),
 * mcf_test_endian.h (little-endian views of tensors), mcf_test_store.h (a
 * counting, logging store over the memory store). */
#ifndef MCF_TEST_H
#define MCF_TEST_H
/* tests are POSIX programs (mkdtemp, fork, pthreads) even when the library is not */
#ifndef _POSIX_C_SOURCE
#define _POSIX_C_SOURCE 200809L
#endif
/* 64-bit off_t for the tests' own ftruncate/pwrite on 32-bit hosts */
#ifndef _FILE_OFFSET_BITS
#define _FILE_OFFSET_BITS 64
#endif
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "../mooncake_fileio.h"

#define MCF_TEST_SKIPPED 2

/* Helpers in these headers are static; a test file uses some of them. */
#if defined(__GNUC__) || defined(__clang__)
#define MCF_TEST_UNUSED __attribute__((unused))
#else
#define MCF_TEST_UNUSED
#endif

#define MCF_CHECK(cond) do { if (!(cond)) { \
    fprintf(stderr, "  %s:%d: check failed: %s\n", __FILE__, __LINE__, #cond); return 1; } } while (0)

/* Checks the result code and prints the code name and message on mismatch. */
#define MCF_CHECK_RC(call, code) do { int rc_ = (call); if (rc_ != (code)) { \
    fprintf(stderr, "  %s:%d: %s returned %d (%s), expected %s; last error: %s\n", __FILE__, __LINE__, \
            #call, rc_, mcf_result_name(rc_), mcf_result_name(code), mcf_last_error()); return 1; } } while (0)

/* The last error must contain text. */
#define MCF_CHECK_ERR(text) do { if (!strstr(mcf_last_error(), (text))) { \
    fprintf(stderr, "  %s:%d: last error \"%s\" lacks \"%s\"\n", __FILE__, __LINE__, mcf_last_error(), (text)); \
    return 1; } } while (0)

#define MCF_SKIP(...) do { fprintf(stderr, "  skipped: "); fprintf(stderr, __VA_ARGS__); \
    fprintf(stderr, "\n"); return MCF_TEST_SKIPPED; } while (0)

/* Whole file via stdio (works in every build: the library may lack POSIX).
 * Returns a malloc'd buffer (one spare byte) and its length, or NULL. */
MCF_TEST_UNUSED
static unsigned char *mcf_test_slurp(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    unsigned char *buf;
    long n;
    if (!f) return NULL;
    if (fseek(f, 0, SEEK_END) != 0 || (n = ftell(f)) < 0 || fseek(f, 0, SEEK_SET) != 0) { fclose(f); return NULL; }
    buf = (unsigned char *)malloc((size_t)n + 1);
    if (buf && fread(buf, 1, (size_t)n, f) != (size_t)n) { free(buf); buf = NULL; }
    fclose(f);
    *len = (size_t)n;
    return buf;
}

/* Payload version v of words 64-bit words: word i is v << 32 | i, stored
 * little-endian, so a torn or mixed write shows as a wrong word. */
MCF_TEST_UNUSED
static void mcf_test_payload(unsigned char *p, size_t words, uint32_t v)
{
    size_t i;
    int b;
    for (i = 0; i < words; i++) {
        uint64_t x = ((uint64_t)v << 32) | (uint64_t)(uint32_t)i;
        for (b = 0; b < 8; b++) p[8 * i + (size_t)b] = (unsigned char)(x >> (8 * b));
    }
}

/* 1 if the len bytes at p are one whole payload of words words (any
 * version, returned in *v). */
MCF_TEST_UNUSED
static int mcf_test_payload_whole(const unsigned char *p, size_t len, size_t words, uint32_t *v)
{
    size_t i;
    int b;
    if (len != words * 8) return 0;
    *v = (uint32_t)p[4] | ((uint32_t)p[5] << 8) | ((uint32_t)p[6] << 16) | ((uint32_t)p[7] << 24);
    for (i = 0; i < words; i++) {
        uint64_t x = ((uint64_t)*v << 32) | (uint64_t)(uint32_t)i;
        for (b = 0; b < 8; b++)
            if (p[8 * i + (size_t)b] != (unsigned char)(x >> (8 * b))) return 0;
    }
    return 1;
}

/* A contiguous tensor of up to two dimensions (d1 unused for ndim < 2) over
 * data; name may be NULL. */
MCF_TEST_UNUSED
static mcf_tensor mcf_test_tensor(const char *name, mcf_dtype dt, int ndim, int64_t d0, int64_t d1, const void *data)
{
    mcf_tensor t;
    memset(&t, 0, sizeof t);
    t.name = name;
    t.dtype = dt;
    t.ndim = ndim;
    t.shape[0] = d0;
    t.shape[1] = d1;
    t.data = data;
    return t;
}

/* Saves the n tensors into memory as format and opens those bytes: the
 * first failing code. *file (mcf_free it after mcf_close) and *r are what
 * the two calls hand out. */
MCF_TEST_UNUSED
static int mcf_test_save_open(const mcf_tensor *t, size_t n, const char *format, void **file, size_t *len, mcf_reader **r)
{
    mcf_options o;
    int rc;
    memset(&o, 0, sizeof o);
    o.format = format;
    *file = NULL;
    *len = 0;
    *r = NULL;
    rc = mcf_save_to_memory(t, n, &o, file, len);
    return rc == MCF_OK ? mcf_open_memory(*file, *len, NULL, r) : rc;
}

/* Writes n bytes to path with stdio; 1 on success. */
MCF_TEST_UNUSED
static int mcf_test_write_file(const char *path, const void *p, size_t n)
{
    FILE *f = fopen(path, "wb");
    int ok;
    if (!f) return 0;
    ok = fwrite(p, 1, n, f) == n;
    return fclose(f) == 0 && ok;
}

/* Copies the line at *at (without its newline, cut to cap - 1 bytes) into
 * line and moves *at past it; 0 at the end of the text. */
MCF_TEST_UNUSED
static int mcf_test_next_line(const char **at, char *line, size_t cap)
{
    const char *nl;
    size_t n;
    if (!*at || !**at) return 0;
    nl = strchr(*at, '\n');
    n = nl ? (size_t)(nl - *at) : strlen(*at);
    memcpy(line, *at, n < cap ? n : cap - 1);
    line[n < cap ? n : cap - 1] = '\0';
    *at += nl ? n + 1 : n;
    return 1;
}

/* A minimal Stored zip of n entries (name, data, len), e.g. a torch archive
 * around a hand-made data.pkl. Returns malloc'd bytes (NULL if n > 8). */
typedef struct mcf_test_zbuf { unsigned char *p; size_t n, cap; } mcf_test_zbuf;
MCF_TEST_UNUSED
static void mcf_test_zput(mcf_test_zbuf *b, const void *d, size_t n)
{
    if (b->n + n > b->cap) {
        unsigned char *q;
        b->cap = (b->n + n) * 2 + 64;
        if (!(q = (unsigned char *)realloc(b->p, b->cap))) { fprintf(stderr, "out of memory\n"); exit(1); }
        b->p = q;
    }
    memcpy(b->p + b->n, d, n);
    b->n += n;
}
MCF_TEST_UNUSED
static void mcf_test_zle(mcf_test_zbuf *b, uint64_t v, int bytes)
{
    unsigned char t[8];
    int i;
    for (i = 0; i < bytes; i++) t[i] = (unsigned char)(v >> (8 * i));
    mcf_test_zput(b, t, (size_t)bytes);
}
MCF_TEST_UNUSED
static unsigned char *mcf_test_zip(int n, const char *const *names, const unsigned char *const *data, const size_t *lens, size_t *out_len)
{
    mcf_test_zbuf z;
    size_t off[8], cd, eocd;
    int i;
    if (n > 8) return NULL;
    memset(&z, 0, sizeof z);
    for (i = 0; i < n; i++) {
        off[i] = z.n;
        mcf_test_zle(&z, 0x04034b50u, 4); mcf_test_zle(&z, 20, 2); mcf_test_zle(&z, 0, 2); mcf_test_zle(&z, 0, 2); mcf_test_zle(&z, 0, 4);
        mcf_test_zle(&z, mcf_crc32(0, data[i], lens[i]), 4); mcf_test_zle(&z, lens[i], 4); mcf_test_zle(&z, lens[i], 4);
        mcf_test_zle(&z, strlen(names[i]), 2); mcf_test_zle(&z, 0, 2);
        mcf_test_zput(&z, names[i], strlen(names[i]));
        mcf_test_zput(&z, data[i], lens[i]);
    }
    cd = z.n;
    for (i = 0; i < n; i++) {
        mcf_test_zle(&z, 0x02014b50u, 4); mcf_test_zle(&z, 20, 2); mcf_test_zle(&z, 20, 2); mcf_test_zle(&z, 0, 2); mcf_test_zle(&z, 0, 2);
        mcf_test_zle(&z, 0, 4);
        mcf_test_zle(&z, mcf_crc32(0, data[i], lens[i]), 4); mcf_test_zle(&z, lens[i], 4); mcf_test_zle(&z, lens[i], 4);
        mcf_test_zle(&z, strlen(names[i]), 2); mcf_test_zle(&z, 0, 2); mcf_test_zle(&z, 0, 2); mcf_test_zle(&z, 0, 2); mcf_test_zle(&z, 0, 2);
        mcf_test_zle(&z, 0, 4);
        mcf_test_zle(&z, off[i], 4);
        mcf_test_zput(&z, names[i], strlen(names[i]));
    }
    eocd = z.n;
    mcf_test_zle(&z, 0x06054b50u, 4); mcf_test_zle(&z, 0, 2); mcf_test_zle(&z, 0, 2); mcf_test_zle(&z, (uint64_t)n, 2);
    mcf_test_zle(&z, (uint64_t)n, 2); mcf_test_zle(&z, eocd - cd, 4);
    mcf_test_zle(&z, cd, 4); mcf_test_zle(&z, 0, 2);
    *out_len = z.n;
    return z.p;
}

typedef struct mcf_test_case { const char *name; int (*fn)(void); } mcf_test_case;

static int mcf_test_run(const mcf_test_case *tests, int argc, char **argv)
{
    int passed = 0, failed = 0, skipped = 0, i;
    const char *req = getenv("MCF_TEST_REQUIRE_ALL");
    int require_all = req && *req && strcmp(req, "0") != 0;
    for (i = 0; tests[i].name; i++) {
        int r;
        if (argc > 1 && !strstr(tests[i].name, argv[1])) continue;
        r = tests[i].fn();
        if (r == 0) passed++;
        else if (r == MCF_TEST_SKIPPED && !require_all) { skipped++; fprintf(stderr, "SKIP %s\n", tests[i].name); }
        else { failed++; fprintf(stderr, "FAIL %s%s\n", tests[i].name, r == MCF_TEST_SKIPPED ? " (skipped, MCF_TEST_REQUIRE_ALL=1)" : ""); }
    }
    if (skipped) printf("%d passed, %d failed, %d skipped\n", passed, failed, skipped);
    else printf("%d passed, %d failed\n", passed, failed);
    return failed ? 1 : 0;
}

#define MCF_TEST(fn) { #fn, fn }
#define MCF_TEST_MAIN(...) \
    int main(int argc, char **argv) { static const mcf_test_case t_[] = { __VA_ARGS__, { NULL, NULL } }; \
                                      return mcf_test_run(t_, argc, argv); }
#endif
