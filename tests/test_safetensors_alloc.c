/* [15] safetensors under allocation failure: a private MCF_STATIC copy of the
 * implementation whose MCF_MALLOC fails at the Nth call. Every N must give
 * INTERNAL_ERROR with an "out of memory" sentence (or success once N passes
 * the number of allocations), a NULL reader, and no leaked block.
 * (Its own MCF_STATIC copy of the implementation; the shared impl.o it is
 * also linked with stays unused.) */
#include <stddef.h>
static void *st_fail_malloc(size_t n);
static void *st_fail_realloc(void *p, size_t n);
static void st_fail_free(void *p);
#define MCF_STATIC
#define MOONCAKE_FILEIO_IMPLEMENTATION
#define MCF_MALLOC(n) st_fail_malloc(n)
#define MCF_REALLOC(p, n) st_fail_realloc(p, n)
#define MCF_FREE(p) st_fail_free(p)
#include "../mooncake_fileio.h"
#include "mcf_test.h"
#include "st_reference.h"

static long st_calls, st_fail_at, st_live;

static void *st_fail_malloc(size_t n)
{
    void *p;
    if (++st_calls == st_fail_at) return NULL;
    p = malloc(n);
    if (p) st_live++;
    return p;
}

static void *st_fail_realloc(void *p, size_t n)
{
    void *q;
    if (++st_calls == st_fail_at) return NULL;
    q = realloc(p, n);
    if (q && !p) st_live++;
    return q;
}

static void st_fail_free(void *p)
{
    if (p) st_live--;
    free(p);
}

static const st_ref_file *st_alloc_ref(const char *name)
{
    int i;
    for (i = 0; i < ST_REF_COUNT; i++)
        if (strcmp(st_ref_files[i].file, name) == 0) return &st_ref_files[i];
    return NULL;
}

/* One sweep: open mixed_many (28 tensors, metadata) with allocation n
 * failing, for n = 1, 2, ... until the open succeeds. way 0: from memory
 * (header parsed in place); way 1: a file read with pread (MCF_NO_MMAP: the
 * header is copied into an allocated buffer). */
static int st_alloc_open_sweep(int way, const unsigned char *buf, size_t len)
{
    mcf_options o;
    long n;
    int done = 0;
    memset(&o, 0, sizeof o);
    o.flags = MCF_NO_MMAP;
    for (n = 1; n < 10000 && !done; n++) {
        mcf_reader *r = NULL;
        int rc;
        st_calls = 0; st_fail_at = n; st_live = 0;
        if (way == 1) rc = mcf_open("tests/data/safetensors/mixed_many.safetensors", &o, &r);
        else rc = mcf_open_memory(buf, len, NULL, &r);
        if (rc == MCF_OK) {
            const void *p;
            st_fail_at = 0;
            MCF_CHECK(mcf_count(r) == 28);
            MCF_CHECK_RC(mcf_view(r, 27, &p), MCF_OK);
            mcf_close(r);
            done = 1;
        } else {
            MCF_CHECK_RC(rc, MCF_INTERNAL_ERROR);
            MCF_CHECK_ERR("out of memory");
            MCF_CHECK(r == NULL);
        }
        MCF_CHECK(st_live == 0);
    }
    st_fail_at = 0;
    MCF_CHECK(done && n > 5);   /* success came only after failing each earlier allocation */
    return 0;
}

static int safetensors_alloc_failures_open(void)
{
    size_t len;
    unsigned char *buf = mcf_test_slurp("tests/data/safetensors/mixed_many.safetensors", &len);
    int bad;
    MCF_CHECK(buf != NULL);
    bad = st_alloc_open_sweep(0, buf, len);
#ifndef MCF_NO_POSIX
    if (!bad) bad = st_alloc_open_sweep(1, buf, len);
#endif
    free(buf);
    return bad;
}

/* Writing metadata_multi and mixed_many with every allocation failing once. */
static int safetensors_alloc_failures_save(void)
{
    static const char *const files[2] = {"metadata_multi.safetensors", "mixed_many.safetensors"};
    int k;
    for (k = 0; k < 2; k++) {
        const st_ref_file *f = st_alloc_ref(files[k]);
        mcf_tensor t[32];
        mcf_options o;
        size_t i;
        long n;
        int d, done = 0;
        MCF_CHECK(f != NULL && f->n_spec <= 32);
        for (i = 0; i < f->n_spec; i++) {
            memset(&t[i], 0, sizeof t[i]);
            t[i].name = f->spec[i].name;
            MCF_CHECK_RC(mcf_dtype_parse(f->spec[i].dtype, &t[i].dtype), MCF_OK);
            t[i].ndim = f->spec[i].ndim;
            for (d = 0; d < t[i].ndim; d++) t[i].shape[d] = f->spec[i].shape[d];
            t[i].data = f->spec[i].data;
        }
        memset(&o, 0, sizeof o);
        o.format = "safetensors";
        o.metadata = f->meta;
        for (n = 1; n < 10000 && !done; n++) {
            void *out = NULL;
            size_t len = 0;
            int rc;
            st_calls = 0; st_fail_at = n; st_live = 0;
            rc = mcf_save_to_memory(t, f->n_spec, &o, &out, &len);
            if (rc == MCF_OK) {
                MCF_CHECK(len == f->file_len);
                mcf_free(out);
                done = 1;
            } else {
                MCF_CHECK_RC(rc, MCF_INTERNAL_ERROR);
                MCF_CHECK_ERR("out of memory");
            }
            MCF_CHECK(st_live == 0);
        }
        st_fail_at = 0;
        MCF_CHECK(done && n > 3);
    }
    return 0;
}

MCF_TEST_MAIN(
    MCF_TEST(safetensors_alloc_failures_open),
    MCF_TEST(safetensors_alloc_failures_save)
)
