/* [04][08][19][21] byte order: files are little-endian on every host. White-box:
 * this file compiles a private copy of the implementation (MCF_STATIC) to
 * drive the sink (mcf__sink_tensor) and the reader (mcf_read/mcf_view) with
 * host-order values of every dtype, on the s390x leg too (big-endian). */
#if defined(__GNUC__) || defined(__clang__)
/* a private copy warns about public functions declared but not (yet) built,
 * such as the [23] store API, which this TU does not call */
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
static const uint64_t v64[6] = {0x0102030405060708ull, 0xA1B2C3D4E5F60718ull, 0x3FF8000000000000ull,
                                0x0000000000000001ull, 0x8000000000000000ull, 0xDEADBEEF01234567ull};
static const unsigned char le8[3] = {0x01, 0x80, 0xFE};
static const unsigned char le16[6] = {0x02, 0x01, 0xB2, 0xA1, 0xFE, 0xFF};
static const unsigned char le32[24] = {0x04, 0x03, 0x02, 0x01, 0xD4, 0xC3, 0xB2, 0xA1, 0x00, 0x00, 0xC0, 0x3F,
                                       0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x80, 0xEF, 0xBE, 0xAD, 0xDE};
static const unsigned char le64[48] = {0x08, 0x07, 0x06, 0x05, 0x04, 0x03, 0x02, 0x01, 0x18, 0x07, 0xF6, 0xE5,
                                       0xD4, 0xC3, 0xB2, 0xA1, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0xF8, 0x3F,
                                       0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
                                       0x00, 0x00, 0x00, 0x80, 0x67, 0x45, 0x23, 0x01, 0xEF, 0xBE, 0xAD, 0xDE};

/* Host values and LE bytes for 3 elements of d (C64: 3 pairs of 4-byte units,
 * C128: 3 pairs of 8-byte units). */
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
static int endian_sink_writes_little_endian(void)
{
    int d;
    for (d = 0; d < (int)MCF_DTYPE_COUNT; d++) {
        const void *host; const unsigned char *le; size_t n, esize = mcf_dtype_size((mcf_dtype)d), i;
        unsigned char spread[96];
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
static int endian_sink_float_values(void)
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
    mcf_reader *r = mcf__reader_new("endian-test", NULL);
    mcf__entry *e;
    size_t esize = mcf_dtype_size(d), i;
    if (!r) return NULL;
    memset(file, 0x5A, offset + 2 * n);
    if (!strided) memcpy(file + offset, le, n);
    else for (i = 0; i < 3; i++) memcpy(file + offset + 2 * i * esize, le + i * esize, esize);
    r->entries = (mcf__entry *)mcf__calloc(1, sizeof *r->entries);
    r->views = (void **)mcf__calloc(1, sizeof(void *));
    r->verified = (unsigned char *)mcf__calloc(1, 1);
    if (!r->entries || !r->views || !r->verified) { mcf__reader_free(r); return NULL; }
    r->count = 1;
    r->format = "test";
    e = &r->entries[0];
    e->name = mcf__strdup("t");
    e->dtype = d; e->ndim = 1; e->shape[0] = 3; e->offset = offset; e->nbytes = n; e->aux = -1;
    e->contiguous = !strided;
    e->strides[0] = strided ? 2 : 1;
    e->span = strided ? 5 * esize : n;
    r->files[0].src.size = offset + 2 * n;
    if (mapped) { r->files[0].src.base = file; return r; }
    {
        mcf_url u;
        if (mcf_write_bytes("memory://endian/file", file, offset + 2 * n, NULL) != MCF_OK ||
            mcf_url_parse("memory://endian/file", NULL, &u) != MCF_OK) { mcf__reader_free(r); return NULL; }
        r->files[0].src.fs = mcf__memory_fs;
        if (r->files[0].src.fs.open_read(NULL, &u, NULL, &r->files[0].src.file, &r->files[0].src.size) != MCF_OK) r->files[0].src.file = NULL;
        mcf_url_free(&u);
    }
    return r;
}

/* Reading: mcf_read and mcf_view give host-order values for every dtype,
 * mapped or not, contiguous or strided, at aligned and odd offsets; views
 * are aligned to the element unit. */
static int endian_reader_returns_host_order(void)
{
    /* aligned for every element type, so "offset % unit" is the address's alignment too */
    static union { unsigned char b[256]; uint64_t u64; double f64; } file_storage;
    unsigned char *file = file_storage.b;
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
                    MCF_CHECK(r != NULL && (mapped || r->files[0].src.file != NULL));
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
static int endian_reader_float_values(void)
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
static int endian_le_helpers(void)
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

/* ---- black box: the reference file all_dtypes.safetensors -------------------
 * Host-order values of each tensor (the spec's little-endian data_hex decoded
 * by hand); F32/F64 are -5.25, -0.625, 4, -4, 0.625, 5.25. */
static const unsigned char ad_bool[6] = {0x00, 0x00, 0x01, 0x00, 0x00, 0x01};
static const char ad_bool_le[] = "000001000001";
static const unsigned char ad_u8[6] = {0x06, 0xB7, 0x68, 0x19, 0xCA, 0x7B};
static const char ad_u8_le[] = "06b76819ca7b";
static const unsigned char ad_i8[6] = {0x86, 0x37, 0xE8, 0x99, 0x4A, 0xFB};
static const char ad_i8_le[] = "8637e8994afb";
static const unsigned char ad_f8_e5m2[6] = {0xC5, 0x24, 0x24, 0x05, 0xBE, 0xCB};
static const char ad_f8_e5m2_le[] = "c5242405becb";
static const unsigned char ad_f8_e4m3[6] = {0x70, 0xD2, 0x2A, 0x2F, 0x46, 0x46};
static const char ad_f8_e4m3_le[] = "70d22a2f4646";
static const uint16_t ad_i16[6] = {0x8008, 0xF9B9, 0x736A, 0xED1B, 0x66CC, 0xE07D};
static const char ad_i16_le[] = "0880b9f96a731bedcc667de0";
static const uint16_t ad_u16[6] = {0x8, 0x79B9, 0xF36A, 0x6D1B, 0xE6CC, 0x607D};
static const char ad_u16_le[] = "0800b9796af31b6dcce67d60";
static const uint16_t ad_f16[6] = {0xC540, 0xB900, 0x4400, 0xC400, 0x3900, 0x4540};
static const char ad_f16_le[] = "40c500b9004400c400394045";
static const uint16_t ad_bf16[6] = {0x7CB3, 0x2697, 0xA28B, 0x9BE9, 0x2AF3, 0xADF1};
static const char ad_bf16_le[] = "b37c97268ba2e99bf32af1ad";
static const uint32_t ad_i32[6] = {0x80000008u, 0x1E3779B9u, 0xBC6EF36Au, 0x5AA66D1Bu, 0xF8DDE6CCu, 0x9715607Du};
static const char ad_i32_le[] = "08000080b979371e6af36ebc1b6da65acce6ddf87d601597";
static const uint32_t ad_u32[6] = {0x8u, 0x9E3779B9u, 0x3C6EF36Au, 0xDAA66D1Bu, 0x78DDE6CCu, 0x1715607Du};
static const char ad_u32_le[] = "08000000b979379e6af36e3c1b6da6dacce6dd787d601517";
static const float ad_f32[6] = {-5.25f, -0.625f, 4.0f, -4.0f, 0.625f, 5.25f};
static const char ad_f32_le[] = "0000a8c0000020bf00008040000080c00000203f0000a840";
static const double ad_f64[6] = {-5.25, -0.625, 4.0, -4.0, 0.625, 5.25};
static const char ad_f64_le[] = "00000000000015c0000000000000e4bf000000000000104000000000000010c0000000000000e43f0000000000001540";
static const uint64_t ad_i64[6] = {0x8000000000000008ull, 0x800000009E3779B9ull, 0x800000013C6EF36Aull, 0x80000001DAA66D1Bull, 0x8000000278DDE6CCull, 0x800000031715607Dull};
static const char ad_i64_le[] = "0800000000000080b979379e000000806af36e3c010000801b6da6da01000080cce6dd78020000807d60151703000080";
static const uint64_t ad_u64[6] = {0x8ull, 0x9E3779B9ull, 0x13C6EF36Aull, 0x1DAA66D1Bull, 0x278DDE6CCull, 0x31715607Dull};
static const char ad_u64_le[] = "0800000000000000b979379e000000006af36e3c010000001b6da6da01000000cce6dd78020000007d60151703000000";

typedef struct ad_case { const char *name; mcf_dtype dtype; const void *host; const char *le_hex; } ad_case;
static const ad_case ad_cases[] = {
    {"z_bool", MCF_BOOL, ad_bool, ad_bool_le}, {"z_u8", MCF_U8, ad_u8, ad_u8_le}, {"z_i8", MCF_I8, ad_i8, ad_i8_le},
    {"z_f8_e5m2", MCF_F8_E5M2, ad_f8_e5m2, ad_f8_e5m2_le}, {"z_f8_e4m3", MCF_F8_E4M3, ad_f8_e4m3, ad_f8_e4m3_le},
    {"z_i16", MCF_I16, ad_i16, ad_i16_le}, {"z_u16", MCF_U16, ad_u16, ad_u16_le}, {"z_f16", MCF_F16, ad_f16, ad_f16_le},
    {"z_bf16", MCF_BF16, ad_bf16, ad_bf16_le}, {"z_i32", MCF_I32, ad_i32, ad_i32_le}, {"z_u32", MCF_U32, ad_u32, ad_u32_le},
    {"z_f32", MCF_F32, ad_f32, ad_f32_le}, {"z_f64", MCF_F64, ad_f64, ad_f64_le}, {"z_i64", MCF_I64, ad_i64, ad_i64_le},
    {"z_u64", MCF_U64, ad_u64, ad_u64_le}
};
#define AD_COUNT (sizeof ad_cases / sizeof ad_cases[0])

static int hex_is(const unsigned char *p, size_t n, const char *hex)
{
    size_t i;
    if (strlen(hex) != 2 * n) return 0;
    for (i = 0; i < n; i++) {
        unsigned v = 0;
        if (sscanf(hex + 2 * i, "%2x", &v) != 1 || v != p[i]) return 0;
    }
    return 1;
}

/* Every entry of the reference file decodes to the host values, through
 * mcf_read and mcf_view (big-endian hosts swap, little-endian ones copy). */
static int check_all_dtypes_reader(mcf_reader *r)
{
    size_t k;
    MCF_CHECK(mcf_count(r) == AD_COUNT);
    for (k = 0; k < AD_COUNT; k++) {
        const ad_case *c = &ad_cases[k];
        unsigned char out[48];
        const void *view = NULL;
        mcf_tensor e;
        int i = mcf_find(r, c->name);
        size_t n = 6 * mcf_dtype_size(c->dtype);
        MCF_CHECK(i >= 0);
        MCF_CHECK_RC(mcf_entry(r, (size_t)i, &e), MCF_OK);
        MCF_CHECK(e.dtype == c->dtype && e.ndim == 2 && e.shape[0] == 2 && e.shape[1] == 3);
        MCF_CHECK_RC(mcf_read(r, (size_t)i, out, sizeof out), MCF_OK);
        if (memcmp(out, c->host, n) != 0) { fprintf(stderr, "  %s: mcf_read values differ\n", c->name); return 1; }
        MCF_CHECK_RC(mcf_view(r, (size_t)i, &view), MCF_OK);
        MCF_CHECK(memcmp(view, c->host, n) == 0);
        MCF_CHECK((uintptr_t)view % mcf__dtypes[c->dtype].swap == 0);
    }
    {   /* typed access to the floats */
        int i = mcf_find(r, "z_f32");
        const void *view = NULL;
        float x;
        MCF_CHECK_RC(mcf_view(r, (size_t)i, &view), MCF_OK);
        x = ((const float *)view)[5];
        MCF_CHECK(memcmp(&x, &ad_f32[5], sizeof x) == 0);
    }
    return 0;
}

static int endian_reference_all_dtypes_read(void)
{
    size_t len = 0;
    unsigned char *buf = mcf_test_slurp("tests/data/safetensors/all_dtypes.safetensors", &len);
    mcf_reader *r = NULL;
    int bad;
    MCF_CHECK(buf != NULL);
    MCF_CHECK_RC(mcf_open_memory(buf, len, NULL, &r), MCF_OK);
    bad = check_all_dtypes_reader(r);
    mcf_close(r);
    free(buf);
    MCF_CHECK(bad == 0);
#ifndef MCF_NO_POSIX
    {
        mcf_options o;
        memset(&o, 0, sizeof o);
        MCF_CHECK_RC(mcf_open("tests/data/safetensors/all_dtypes.safetensors", NULL, &r), MCF_OK);
        bad = check_all_dtypes_reader(r);
        mcf_close(r);
        MCF_CHECK(bad == 0);
        o.flags = MCF_NO_MMAP;
        MCF_CHECK_RC(mcf_open("tests/data/safetensors/all_dtypes.safetensors", &o, &r), MCF_OK);
        bad = check_all_dtypes_reader(r);
        mcf_close(r);
        MCF_CHECK(bad == 0);
    }
#endif
    return 0;
}

/* Host values of every dtype written by the safetensors writer come out as
 * the reference's little-endian bytes, and read back as the host values. */
static int endian_reference_all_dtypes_write(void)
{
    mcf_tensor t[AD_COUNT];
    mcf_options o;
    void *out = NULL;
    size_t len = 0, k;
    mcf_reader *r = NULL;
    int bad;
    memset(t, 0, sizeof t);
    memset(&o, 0, sizeof o);
    for (k = 0; k < AD_COUNT; k++) {
        t[k].name = ad_cases[k].name; t[k].dtype = ad_cases[k].dtype; t[k].ndim = 2;
        t[k].shape[0] = 2; t[k].shape[1] = 3; t[k].data = ad_cases[k].host;
    }
    o.format = "safetensors";
    MCF_CHECK_RC(mcf_save_to_memory(t, AD_COUNT, &o, &out, &len), MCF_OK);
    MCF_CHECK_RC(mcf_open_memory(out, len, NULL, &r), MCF_OK);
    for (k = 0; k < AD_COUNT; k++) {
        uint64_t off = 0, nb = 0;
        int i = mcf_find(r, ad_cases[k].name);
        MCF_CHECK(i >= 0);
        MCF_CHECK_RC(mcf_entry_location(r, (size_t)i, &off, &nb), MCF_OK);
        MCF_CHECK(off + nb <= len);
        if (!hex_is((const unsigned char *)out + off, (size_t)nb, ad_cases[k].le_hex)) {
            fprintf(stderr, "  %s: written bytes are not the reference little-endian bytes\n", ad_cases[k].name);
            mcf_close(r); mcf_free(out); return 1;
        }
    }
    bad = check_all_dtypes_reader(r);
    mcf_close(r);
    mcf_free(out);
    MCF_CHECK(bad == 0);
    return 0;
}

MCF_TEST_MAIN(MCF_TEST(endian_le_helpers), MCF_TEST(endian_sink_writes_little_endian),
              MCF_TEST(endian_sink_float_values), MCF_TEST(endian_reader_returns_host_order),
              MCF_TEST(endian_reader_float_values), MCF_TEST(endian_reference_all_dtypes_read),
              MCF_TEST(endian_reference_all_dtypes_write))
