/* [19] slices under allocation failure: a private MCF_STATIC copy of the
 * implementation whose MCF_MALLOC fails at the Nth call. A slice read that
 * needs a read buffer (a source without a mapping) must give INTERNAL_ERROR
 * with an "out of memory" sentence for every N until it succeeds, and leak
 * nothing. (The shared impl.o this is also linked with stays unused.) */
#include <stddef.h>
static void *sa_malloc(size_t n);
static void *sa_realloc(void *p, size_t n);
static void sa_free(void *p);
#define MCF_STATIC
#define MOONCAKE_FILEIO_IMPLEMENTATION
#define MCF_MALLOC(n) sa_malloc(n)
#define MCF_REALLOC(p, n) sa_realloc(p, n)
#define MCF_FREE(p) sa_free(p)
#include "../mooncake_fileio.h"
#include "mcf_test.h"

static long sa_calls, sa_fail_at, sa_live;

static void *sa_malloc(size_t n)
{
    void *p;
    if (++sa_calls == sa_fail_at) return NULL;
    p = malloc(n);
    if (p) sa_live++;
    return p;
}

static void *sa_realloc(void *p, size_t n)
{
    void *q;
    if (++sa_calls == sa_fail_at) return NULL;
    q = realloc(p, n);
    if (q && !p) sa_live++;
    return q;
}

static void sa_free(void *p)
{
    if (p) sa_live--;
    free(p);
}

/* The memory filesystem without its mapping: reads go through read_at. */
static mcf_filesystem sa_mem;
static int sa_register(void)
{
    mcf_filesystem fs;
    if (mcf_filesystem_lookup("memory", &sa_mem) != MCF_OK) return -1;
    fs = sa_mem;
    fs.scheme = "nomap";
    fs.map = NULL;
    return mcf_register_filesystem(&fs);
}

static int slice_alloc_failures_report_and_free(void)
{
    static float w[64 * 48];
    float out[64 * 3];
    double out64[64 * 3];
    mcf_tensor t;
    mcf_reader *r;
    mcf_slice s[2];
    long n, base;
    int i, rc, way;
    for (i = 0; i < 64 * 48; i++) w[i] = (float)i;
    memset(&t, 0, sizeof t);
    t.name = "w"; t.dtype = MCF_F32; t.ndim = 2; t.shape[0] = 64; t.shape[1] = 48; t.data = w;
    MCF_CHECK_RC(sa_register(), MCF_OK);
    MCF_CHECK_RC(mcf_save("memory:///alloc/w.safetensors", &t, 1, NULL), MCF_OK);
    s[0] = mcf_slice_range(0, MCF_SLICE_END);
    s[1] = mcf_slice_range(5, 8);                   /* 3 columns: runs 192 bytes apart, one buffered read */
    for (way = 0; way < 2; way++) {
        for (n = 1; n < 100; n++) {
            r = NULL;
            sa_fail_at = 0;
            MCF_CHECK_RC(mcf_open("nomap:///alloc/w.safetensors", NULL, &r), MCF_OK);
            base = sa_live;
            sa_calls = 0;
            sa_fail_at = n;
            rc = way ? mcf_read_as(r, 0, MCF_F64, s, 2, out64, sizeof out64) : mcf_read_slice(r, 0, s, 2, out, sizeof out);
            sa_fail_at = 0;
            MCF_CHECK(sa_live == base);             /* nothing kept after the call */
            if (rc == MCF_OK) break;
            MCF_CHECK_RC(rc, MCF_INTERNAL_ERROR);
            MCF_CHECK_ERR("nomap:///alloc/w.safetensors: out of memory for a 12108-byte read buffer");
            mcf_close(r);
        }
        MCF_CHECK(n == 2);                          /* exactly one allocation: the read buffer */
        for (i = 0; i < 64 * 3; i++)
            MCF_CHECK(way ? out64[i] == (double)((i / 3) * 48 + 5 + i % 3) : out[i] == (float)((i / 3) * 48 + 5 + i % 3));
        mcf_close(r);
    }
    MCF_CHECK_RC(mcf_remove("memory:///alloc/w.safetensors", NULL), MCF_OK);
    MCF_CHECK(sa_live == 0);
    return 0;
}

MCF_TEST_MAIN(MCF_TEST(slice_alloc_failures_report_and_free))
