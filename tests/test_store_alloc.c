/* [21][22] allocation failures: a private copy of the implementation (MCF_STATIC)
 * built on a counting MCF_MALLOC that fails at the Nth call. Every store path
 * (codec, memory store, seed save/load through memory://) must fail cleanly
 * with a negative code and leave no allocation behind. */
#include <stddef.h>
static long alloc_live, alloc_calls, alloc_fail_at;
static void *count_malloc(size_t n);
static void *count_realloc(void *p, size_t n);
static void count_free(void *p);
#define MCF_MALLOC(n) count_malloc(n)
#define MCF_REALLOC(p, n) count_realloc(p, n)
#define MCF_FREE(p) count_free(p)
#define MCF_STATIC
#define MOONCAKE_FILEIO_IMPLEMENTATION
#include "mcf_test.h"

static void *count_malloc(size_t n)
{
    void *p;
    if (++alloc_calls == alloc_fail_at) return NULL;
    p = malloc(n);
    if (p) alloc_live++;
    return p;
}
static void *count_realloc(void *p, size_t n)
{
    void *q;
    if (++alloc_calls == alloc_fail_at) return NULL;
    q = realloc(p, n);
    if (q && !p) alloc_live++;
    return q;
}
static void count_free(void *p) { if (p) { alloc_live--; free(p); } }

static const float f6[6] = {1, 2, 3, 4, 5, 6};

/* One pass over the store API; returns the first failure code (or 0). */
static int scenario(int with_files)
{
    mcf_tensor t, out;
    mcf_store *s = mcf_memory_store_create();
    int rc;
    if (!s) return MCF_INTERNAL_ERROR;
    memset(&t, 0, sizeof t);
    t.name = "w"; t.dtype = MCF_F32; t.ndim = 2; t.shape[0] = 2; t.shape[1] = 3; t.data = f6;
    rc = mcf_store_put_tensor(s, "w", &t);
    if (rc == MCF_OK) {
        rc = mcf_store_get_tensor(s, "w", NULL, &out);
        if (rc == MCF_OK) { if (memcmp(out.data, f6, 24) != 0) rc = 1; mcf_tensor_free(&out, NULL); }
    }
    if (rc == MCF_OK && with_files) rc = mcf_save_tensor_to_file(s, "w", "memory://oom/w.safetensors", NULL);
    if (rc == MCF_OK && with_files) {
        rc = mcf_load_tensor_from_file(s, "w2", "memory://oom/w.safetensors", NULL, &out);
        if (rc == MCF_OK) { if (memcmp(out.data, f6, 24) != 0) rc = 1; mcf_tensor_free(&out, NULL); }
    }
    if (rc == MCF_OK && with_files) rc = mcf_save_tensor_to_file(s, "w", "memory://oom/w.pt", NULL);
    if (rc == MCF_OK && with_files) rc = mcf_load_tensor_from_file(s, "w3", "memory://oom/w.pt", NULL, NULL);
    alloc_fail_at = 0;   /* the test's own cleanup must not fail */
    if (with_files) { (void)mcf_remove("memory://oom/w.safetensors", NULL); (void)mcf_remove("memory://oom/w.pt", NULL); }
    mcf_memory_store_destroy(s);
    return rc;
}

static int run_failing(int with_files)
{
    long n, total;
    int rc;
    /* a clean run first: it must succeed and tell how many calls there are */
    alloc_fail_at = 0; alloc_calls = 0; alloc_live = 0;
    rc = scenario(with_files);
    MCF_CHECK_RC(rc, MCF_OK);
    MCF_CHECK(alloc_live == 0);
    total = alloc_calls;
    for (n = 1; n <= total; n++) {
        alloc_fail_at = n; alloc_live = 0; alloc_calls = 0;
        rc = scenario(with_files);
        alloc_fail_at = 0;
        if (rc == 1) { fprintf(stderr, "  fail at %ld: wrong data\n", n); return 1; }
        if (alloc_live != 0) { fprintf(stderr, "  fail at %ld: %ld allocations leaked (rc %d: %s)\n", n, alloc_live, rc, mcf_last_error()); return 1; }
    }
    return 0;
}

static int test_store_alloc_failures_codec_and_store(void) { return run_failing(0); }
static int test_store_alloc_failures_seed_files(void) { return run_failing(1); }

MCF_TEST_MAIN(
    MCF_TEST(test_store_alloc_failures_codec_and_store),
    MCF_TEST(test_store_alloc_failures_seed_files)
)
