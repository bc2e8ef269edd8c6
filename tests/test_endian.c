/* [04][07][16] byte order: files are little-endian on every host. White-box:
 * this file compiles a private copy of the implementation (MCF_STATIC) to
 * drive the sink (mcf__sink_tensor) and the reader (mcf_read/mcf_view) with
 * host-order values of every dtype, on the s390x leg too (big-endian). */
#if defined(__GNUC__) || defined(__clang__)
/* a private copy warns about public functions declared but not (yet) built,
 * such as the [17] store API before it lands; this TU does not call them */
#pragma GCC diagnostic ignored "-Wunused-function"
#endif
#define MCF_STATIC
#define MOONCAKE_FILEIO_IMPLEMENTATION
#include "../mooncake_fileio.h"
#include "mcf_test.h"

/* Three host-order elements per swap unit, and their little-endian bytes. */
static const uint8_t  v8[3]  = {0x01, 0x80, 0xFE};
static const uint16_t v16[3] = {0x0102, 0xA1B2, 0xFFFE};
static const uint32_t v32[6] = {0x01020304u, 0xA1B2C3D4u, 0x3FC00000u, 0x00000001u, 0x80000000u, 0xDEADBEEFu};
static const uint64_t v64[3] = {0x0102030405060708ull, 0xA1B2C3D4E5F60718ull, 0x3FF8000000000000ull};
static const unsigned char le8[3] = {0x01, 0x80, 0xFE};
static const unsigned char le16[6] = {0x02, 0x01, 0xB2, 0xA1, 0xFE, 0xFF};
static const unsigned char le32[24] = {0x04, 0x03, 0x02, 0x01, 0xD4, 0xC3, 0xB2, 0xA1, 0x00, 0x00, 0xC0, 0x3F,
                                       0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x80, 0xEF, 0xBE, 0xAD, 0xDE};
static const unsigned char le64[24] = {0x08, 0x07, 0x06, 0x05, 0x04, 0x03, 0x02, 0x01, 0x18, 0x07, 0xF6, 0xE5,
                                       0xD4, 0xC3, 0xB2, 0xA1, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0xF8, 0x3F};

/* Host values and LE bytes for 3 elements of d (C64: 3 pairs of 4-byte units). */
static void sample(mcf_dtype d, const void **host, const unsigned char **le, size_t *nbytes)
{
    size_t esize = mcf_dtype_size(d);
    switch (mcf__dtypes[d].swap) {
    case 2: *host = v16; *le = le16; break;
    case 4: *host = v32; *le = le32; break;
    case 8: *host = v64; *le = le64; break;
    default: *host = v8; *le = le8; break;
    }
    *nbytes = 3 * esize;
}

static int sink_bytes(const mcf_tensor *t, const unsigned char *want, size_t n)
{
    mcf__sink s;
    uint32_t crc = 0;
    int ok;
    memset(&s, 0, sizeof s);
    s.name = "<endian>";
    MCF_CHECK_RC(mcf__sink_begin(&s, n), MCF_OK);
    MCF_CHECK_RC(mcf__sink_tensor(&s, t, &crc), MCF_OK);
    ok = s.done == n && memcmp(s.mem, want, n) == 0 && crc == mcf_crc32(0, want, n);
    MCF_FREE(s.mem);
    if (!ok) fprintf(stderr, "  %s: sink bytes or CRC differ from little-endian\n", mcf_dtype_name(t->dtype));
    return ok ? 0 : 1;
}

/* Writing: every byte-sized dtype, contiguous and strided, comes out LE. */
static int test_endian_sink_writes_little_endian(void)
{
    int d;
    for (d = 0; d < (int)MCF_DTYPE_COUNT; d++) {
        const void *host; const unsigned char *le; size_t n, esize = mcf_dtype_size((mcf_dtype)d), i;
        unsigned char spread[48];
        int64_t stride[1] = {2};
        mcf_tensor t;
        if (esize == 0) continue;   /* sub-byte dtypes are bytes, never swapped */
        sample((mcf_dtype)d, &host, &le, &n);
        memset(&t, 0, sizeof t);
        t.name = "t"; t.dtype = (mcf_dtype)d; t.ndim = 1; t.shape[0] = 3; t.data = host;
        MCF_CHECK(sink_bytes(&t, le, n) == 0);
        /* same values every other element: gather + swap */
        memset(spread, 0xEE, sizeof spread);
        for (i = 0; i < 3; i++) memcpy(spread + 2 * i * esize, (const unsigned char *)host + i * esize, esize);
        t.data = spread; t.strides = stride;
        MCF_CHECK(sink_bytes(&t, le, n) == 0);
    }
    return 0;
}

/* The compiler's own float/double bit patterns, written LE. */
static int test_endian_sink_float_values(void)
{
    static const float f[3] = {1.5f, -2.25f, 0.1f};
    static const double g[3] = {1.5, -2.25, 0.1};
    static const unsigned char lef[12] = {0x00, 0x00, 0xC0, 0x3F, 0x00, 0x00, 0x10, 0xC0, 0xCD, 0xCC, 0xCC, 0x3D};
    static const unsigned char leg[24] = {0, 0, 0, 0, 0, 0, 0xF8, 0x3F, 0, 0, 0, 0, 0, 0, 0x02, 0xC0,
                                          0x9A, 0x99, 0x99, 0x99, 0x99, 0x99, 0xB9, 0x3F};
    mcf_tensor t;
    memset(&t, 0, sizeof t);
    t.name = "f"; t.dtype = MCF_F32; t.ndim = 1; t.shape[0] = 3; t.data = f;
    MCF_CHECK(sink_bytes(&t, lef, sizeof lef) == 0);
    t.dtype = MCF_F64; t.data = g;
    MCF_CHECK(sink_bytes(&t, leg, sizeof leg) == 0);
    return 0;
}

/* A hand-built reader over LE bytes at `offset` in a buffer (mapped) or in a
 * memory-filesystem object read positionally (not mapped). */
static mcf_reader *make_reader(mcf_dtype d, const unsigned char *le, size_t n, size_t offset, int strided,
                               int mapped, unsigned char *file)
{
    mcf_reader *r = (mcf_reader *)mcf__calloc(1, sizeof *r);
    mcf__entry *e;
    size_t esize = mcf_dtype_size(d), i;
    if (!r) return NULL;
    memset(file, 0x5A, offset + 2 * n);
    if (!strided) memcpy(file + offset, le, n);
    else for (i = 0; i < 3; i++) memcpy(file + offset + 2 * i * esize, le + i * esize, esize);
    r->name = mcf__strdup("endian-test");
    r->entries = (mcf__entry *)mcf__calloc(1, sizeof *r->entries);
    r->views = (void **)mcf__calloc(1, sizeof(void *));
    r->verified = (unsigned char *)mcf__calloc(1, 1);
    if (!r->name || !r->entries || !r->views || !r->verified) { mcf__reader_free(r); return NULL; }
    r->count = 1;
    r->format = "test";
    e = &r->entries[0];
    e->name = mcf__strdup("t");
    e->dtype = d; e->ndim = 1; e->shape[0] = 3; e->offset = offset; e->nbytes = n; e->aux = -1;
    e->contiguous = !strided;
    e->strides[0] = strided ? 2 : 1;
    e->span = strided ? 5 * esize : n;
    r->src.name = r->name;
    r->src.size = offset + 2 * n;
    if (mapped) { r->src.base = file; return r; }
    {
        mcf_url u;
        if (mcf_write_bytes("memory://endian/file", file, offset + 2 * n, NULL) != MCF_OK ||
            mcf_url_parse("memory://endian/file", NULL, &u) != MCF_OK) { mcf__reader_free(r); return NULL; }
        r->src.fs = mcf__memory_fs;
        if (r->src.fs.open_read(NULL, &u, NULL, &r->src.file, &r->src.size) != MCF_OK) r->src.file = NULL;
        mcf_url_free(&u);
    }
    return r;
}

/* Reading: mcf_read and mcf_view give host-order values for every dtype,
 * mapped or not, contiguous or strided, at aligned and odd offsets; views
 * are aligned to the element unit. */
static int test_endian_reader_returns_host_order(void)
{
    static unsigned char file[256];
    int d, mapped, strided;
    size_t offset;
    for (d = 0; d < (int)MCF_DTYPE_COUNT; d++) {
        const void *host; const unsigned char *le; size_t n, unit = mcf__dtypes[d].swap;
        if (mcf_dtype_size((mcf_dtype)d) == 0) continue;
        sample((mcf_dtype)d, &host, &le, &n);
        for (mapped = 0; mapped < 2; mapped++)
            for (strided = 0; strided < 2; strided++)
                for (offset = 8; offset <= 9; offset++) {
                    unsigned char out[64];
                    const void *view = NULL;
                    mcf_reader *r = make_reader((mcf_dtype)d, le, n, offset, strided, mapped, file);
                    MCF_CHECK(r != NULL && (mapped || r->src.file != NULL));
                    memset(out, 0, sizeof out);
                    MCF_CHECK_RC(mcf_read(r, 0, out, sizeof out), MCF_OK);
                    if (memcmp(out, host, n) != 0) {
                        fprintf(stderr, "  %s mapped=%d strided=%d offset=%lu: mcf_read not in host order\n",
                                mcf_dtype_name((mcf_dtype)d), mapped, strided, (unsigned long)offset);
                        mcf_close(r);
                        return 1;
                    }
                    MCF_CHECK_RC(mcf_view(r, 0, &view), MCF_OK);
                    MCF_CHECK(memcmp(view, host, n) == 0);
                    MCF_CHECK((uintptr_t)view % unit == 0);
                    /* zero-copy exactly when nothing needs fixing */
                    if (mapped && !strided && offset % unit == 0 && (!MCF__BIG_ENDIAN || unit == 1))
                        MCF_CHECK(view == (const void *)(file + offset));
                    else
                        MCF_CHECK(view != (const void *)(file + offset));
                    mcf_close(r);
                }
    }
    MCF_CHECK_RC(mcf_remove("memory://endian/file", NULL), MCF_OK);
    return 0;
}

/* The reader hands out typed values the caller can use directly. */
static int test_endian_reader_float_values(void)
{
    static unsigned char file[64];
    static const unsigned char lef[12] = {0x00, 0x00, 0xC0, 0x3F, 0x00, 0x00, 0x10, 0xC0, 0xCD, 0xCC, 0xCC, 0x3D};
    static const float want[3] = {1.5f, -2.25f, 0.1f};
    const void *view = NULL;
    float f[3], x;
    mcf_reader *r = make_reader(MCF_F32, lef, sizeof lef, 9, 0, 1, file);
    MCF_CHECK(r != NULL);
    MCF_CHECK_RC(mcf_view(r, 0, &view), MCF_OK);
    memcpy(f, view, sizeof f);
    /* bit patterns, not ==: i386 compares 0.1f in x87 long double */
    MCF_CHECK(memcmp(f, want, sizeof f) == 0);
    x = ((const float *)view)[1];   /* aligned: a typed load is fine */
    MCF_CHECK(memcmp(&x, &want[1], sizeof x) == 0);
    mcf_close(r);
    return 0;
}

/* The byte helpers themselves. */
static int test_endian_le_helpers(void)
{
    unsigned char b[8];
    mcf__put_le16(b, 0xA1B2);
    MCF_CHECK(b[0] == 0xB2 && b[1] == 0xA1 && mcf__le16(b) == 0xA1B2);
    mcf__put_le32(b, 0x01020304u);
    MCF_CHECK(b[0] == 4 && b[3] == 1 && mcf__le32(b) == 0x01020304u);
    mcf__put_le64(b, 0x0102030405060708ull);
    MCF_CHECK(memcmp(b, le64, 8) == 0 && mcf__le64(b) == 0x0102030405060708ull);
    memcpy(b, le16, 6);
    mcf__swap_units(b, 6, 2);
    MCF_CHECK(b[0] == 0x01 && b[1] == 0x02 && b[4] == 0xFF && b[5] == 0xFE);
    return 0;
}

MCF_TEST_MAIN(MCF_TEST(test_endian_le_helpers), MCF_TEST(test_endian_sink_writes_little_endian),
              MCF_TEST(test_endian_sink_float_values), MCF_TEST(test_endian_reader_returns_host_order),
              MCF_TEST(test_endian_reader_float_values))
