/* fuzz_common.h - shared driver of the libFuzzer targets of mooncake_fileio.h.
 * Each target is one translation unit that compiles the implementation. */
#ifndef MCF_FUZZ_COMMON_H
#define MCF_FUZZ_COMMON_H
#define MOONCAKE_FILEIO_IMPLEMENTATION
#include "../mooncake_fileio.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Reads above this many bytes are skipped: a stride-0 torch view may
 * legitimately describe more bytes than the file holds. */
#define MCF_FUZZ_READ_CAP ((uint64_t)16 << 20)

static void mcf_fuzz_die(const char *what)
{
    fprintf(stderr, "contract broken: %s (last error: \"%s\")\n", what, mcf_last_error());
    abort();
}

/* A readable entry: the whole-tensor slice is mcf_read's bytes; a strided
 * slice and a conversion to F32 succeed too. */
static void mcf_fuzz_slices(mcf_reader *r, size_t i, const mcf_tensor *t, const void *whole, uint64_t nbytes)
{
    mcf_slice s[MCF_MAX_DIMS];
    uint64_t numel = mcf_tensor_numel(t);
    unsigned char *b;
    int d;
    if (mcf_dtype_size(t->dtype) == 0) return;              /* sub-byte: whole reads only */
    if (!(b = (unsigned char *)malloc(nbytes * 2 + 1))) return;
    if (mcf_read_slice(r, i, NULL, 0, b, (size_t)nbytes) != MCF_OK || (nbytes && memcmp(b, whole, (size_t)nbytes) != 0))
        mcf_fuzz_die("mcf_read_slice of the whole tensor differs from mcf_read");
    for (d = 0; d < t->ndim; d++) { s[d].start = d % 2 ? -3 : 1; s[d].stop = d % 3 ? MCF_SLICE_END : -1; s[d].step = 1 + d % 3; }
    if (mcf_read_slice(r, i, s, t->ndim, b, (size_t)nbytes) != MCF_OK) mcf_fuzz_die("a slice of a readable tensor failed");
    if (mcf_convert_supported(t->dtype, MCF_F32) && numel <= nbytes / 2 &&
        mcf_read_as(r, i, MCF_F32, s, t->ndim, b, (size_t)nbytes * 2) != MCF_OK)
        mcf_fuzz_die("mcf_read_as of a readable tensor failed");
    free(b);
}

/* The result rc of an open that gave r: a failure must leave a code and a
 * sentence and no reader; a reader must answer consistently. Closes r. */
#if defined(__GNUC__) || defined(__clang__)
__attribute__((unused))
#endif
static void mcf_fuzz_check(mcf_reader *r, int rc)
{
    size_t i, n;
    if (rc != MCF_OK) {
        if (r != NULL) mcf_fuzz_die("reader set on failure");
        if (rc >= 0 || mcf_last_error()[0] == '\0') mcf_fuzz_die("failure without code or sentence");
        return;
    }
    n = mcf_count(r);
    for (i = 0; i < n; i++) {
        mcf_tensor t;
        uint64_t off = 0, nbytes = 0;
        const void *view = NULL;
        if (mcf_entry(r, i, &t) != MCF_OK || !t.name) mcf_fuzz_die("mcf_entry of a listed entry failed");
        if (mcf_find(r, t.name) != (int)i) mcf_fuzz_die("mcf_find does not return the entry's own index");
        if (mcf_entry_location(r, i, &off, &nbytes) != MCF_OK) mcf_fuzz_die("mcf_entry_location failed");
        if (nbytes != mcf_tensor_nbytes(&t)) mcf_fuzz_die("entry nbytes differs from its dtype and shape");
        if (!mcf_entry_source(r, i)) mcf_fuzz_die("an entry without a source");
        if (nbytes <= MCF_FUZZ_READ_CAP) {
            void *buf = malloc(nbytes ? (size_t)nbytes : 1);
            if (!buf) continue;
            rc = mcf_read(r, i, buf, (size_t)nbytes);
            if (rc != MCF_OK && mcf_last_error()[0] == '\0') mcf_fuzz_die("mcf_read failed without a sentence");
            if (rc == MCF_OK && mcf_view(r, i, &view) == MCF_OK && nbytes && memcmp(view, buf, (size_t)nbytes) != 0)
                mcf_fuzz_die("mcf_view and mcf_read disagree");
            if (rc == MCF_OK) mcf_fuzz_slices(r, i, &t, buf, nbytes);
            free(buf);
        }
    }
    for (i = 0; i < mcf_metadata_count(r); i++) {
        const char *k = NULL, *v = NULL;
        if (mcf_metadata_pair(r, i, &k, &v) != MCF_OK || !k || !v) mcf_fuzz_die("metadata pair missing");
        if (mcf_metadata(r, k) == NULL) mcf_fuzz_die("metadata key not found by name");
    }
    for (i = 0; i < mcf_value_count(r); i++) {   /* non-tensor leaves of a torch file */
        const char *vn = NULL, *vt = NULL, *vx = NULL;
        if (mcf_value(r, i, &vn, &vt, &vx) != MCF_OK || !vn || !vt || !vx) mcf_fuzz_die("listed value missing");
        if (strlen(vx) > 120) mcf_fuzz_die("value text longer than 120 bytes");
    }
    if (mcf_value(r, mcf_value_count(r), NULL, NULL, NULL) != MCF_INVALID_PARAMS) mcf_fuzz_die("mcf_value past the end did not fail");
    (void)mcf_reader_format(r);
    mcf_close(r);
}

/* mcf_open_memory of the bytes, checked. */
#if defined(__GNUC__) || defined(__clang__)
__attribute__((unused))
#endif
static void mcf_fuzz_reader(const unsigned char *data, size_t size, const char *format, unsigned flags)
{
    mcf_options o;
    mcf_reader *r = NULL;
    int rc;
    memset(&o, 0, sizeof o);
    o.format = format;
    o.flags = flags;
    rc = mcf_open_memory(data, size, &o, &r);
    mcf_fuzz_check(r, rc);
}
#endif
