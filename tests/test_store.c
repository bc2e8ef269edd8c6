/* [22] Mooncake object codec & [23] store API: golden bytes of TensorMetadata,
 * Mooncake's validation rules, the memory store (also under threads), and
 * file functions of the Python store_file_io module against files, file:// URIs,
 * memory:// and the reference files in tests/data. */
#include "mcf_test.h"
#include "mcf_test_endian.h"
#include "mcf_test_posix.h"
#include <pthread.h>
#ifndef MCF_NO_POSIX
#include <sys/stat.h>
#include <unistd.h>
#endif

/* ---- helpers ------------------------------------------------------------- */

/* A call that must succeed; frees the test's memory store s first when it
 * does not (no leak report on top of the failure). */
#define STORE_CHECK_OK(call) do { int rc_n_ = (call); \
    if (rc_n_ != MCF_OK) mcf_memory_store_destroy(s); \
    MCF_CHECK_RC(rc_n_, MCF_OK); } while (0)

static mcf_tensor mk(const char *name, mcf_dtype dt, int ndim, const int64_t *shape, const void *data)
{
    mcf_tensor t;
    int i;
    memset(&t, 0, sizeof t);
    t.name = name;
    t.dtype = dt;
    t.ndim = ndim;
    for (i = 0; i < ndim; i++) t.shape[i] = shape[i];
    t.data = data;
    return t;
}

static const float f6[6] = {1, 2, 3, 4, 5, 6};
static const int64_t s23[2] = {2, 3};

/* Reads one object of a store as raw bytes (caller frees with release). */
static int store_raw(mcf_store *s, const char *key, void **obj, size_t *len) { return s->get(s->user, key, obj, len); }

/* ---- golden bytes: written out by hand from integration_utils.h ---------- */
#define Z4 0x00, 0x00, 0x00, 0x00
#define Z8 Z4, Z4
#define M1 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff   /* int64 -1 */
#define Z32 Z8, Z8, Z8, Z8                                   /* one unused LayoutAxis */

/* F32 [2,3] = {1..6}, FULL */
static const unsigned char golden_f32[304 + 24] = {
    /* TensorObjectHeader (40 bytes) */
    0x4e, 0x4f, 0x4f, 0x4d,                         /* magic 0x4d4f4f4e "MOON" */
    0x01, 0x00,                                     /* version 1 */
    0x30, 0x01,                                     /* header_size 304 */
    0x00, 0x00, 0x00, 0x00,                         /* dtype FLOAT32 = 0 */
    0x02, 0x00, 0x00, 0x00,                         /* ndim 2 */
    0x00, 0x00, 0x00, 0x00,                         /* layout_kind FULL */
    0x00, 0x00, 0x00, 0x00,                         /* reserved_flags */
    0x30, 0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, /* data_offset 304 */
    0x18, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, /* data_bytes 24 */
    /* TensorLayoutMetadata (264 bytes): global_shape[8] */
    0x02, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
    0x03, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
    M1, M1, M1, M1, M1, M1,
    /* local_shape[8] */
    0x02, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
    0x03, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
    M1, M1, M1, M1, M1, M1,
    Z4,                                             /* axis_count 0 */
    Z4,                                             /* reserved0 */
    Z32, Z32, Z32, Z32,                             /* axes[4] */
    /* data: 1.0f .. 6.0f little-endian */
    0x00, 0x00, 0x80, 0x3f, 0x00, 0x00, 0x00, 0x40, 0x00, 0x00, 0x40, 0x40,
    0x00, 0x00, 0x80, 0x40, 0x00, 0x00, 0xa0, 0x40, 0x00, 0x00, 0xc0, 0x40
};

/* BF16 local [2,3] of global [4,3], SHARD, one TP axis: rank 1 of 2, split_dim 0 */
static const unsigned char golden_shard[304 + 12] = {
    0x4e, 0x4f, 0x4f, 0x4d, 0x01, 0x00, 0x30, 0x01,
    0x0c, 0x00, 0x00, 0x00,                         /* dtype BFLOAT16 = 12 */
    0x02, 0x00, 0x00, 0x00,                         /* ndim 2 */
    0x01, 0x00, 0x00, 0x00,                         /* layout_kind SHARD */
    0x00, 0x00, 0x00, 0x00,
    0x30, 0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, /* data_offset 304 */
    0x0c, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, /* data_bytes 12 */
    0x04, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, /* global [4,3] */
    0x03, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
    M1, M1, M1, M1, M1, M1,
    0x02, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, /* local [2,3] */
    0x03, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
    M1, M1, M1, M1, M1, M1,
    0x01, 0x00, 0x00, 0x00,                         /* axis_count 1 */
    Z4,
    0x01, 0x00, 0x00, 0x00,                         /* axes[0].kind TP */
    0x00, 0x00, 0x00, 0x00,                         /* axis_index 0 */
    0x01, 0x00, 0x00, 0x00,                         /* shard_rank 1 */
    0x02, 0x00, 0x00, 0x00,                         /* shard_count 2 */
    0x00, 0x00, 0x00, 0x00,                         /* split_dim 0 */
    Z4, Z8,                                         /* reserved0, reserved1 */
    Z32, Z32, Z32,
    /* bf16 1.0 2.0 3.0 4.0 5.0 6.0 */
    0x80, 0x3f, 0x00, 0x40, 0x40, 0x40, 0x80, 0x40, 0xa0, 0x40, 0xc0, 0x40
};

/* I64 scalar 7, FULL, ndim 0: every dimension is -1 */
static const unsigned char golden_scalar[304 + 8] = {
    0x4e, 0x4f, 0x4f, 0x4d, 0x01, 0x00, 0x30, 0x01,
    0x08, 0x00, 0x00, 0x00,                         /* dtype INT64 = 8 */
    Z4,                                             /* ndim 0 */
    Z4, Z4,
    0x30, 0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
    0x08, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, /* data_bytes 8 */
    M1, M1, M1, M1, M1, M1, M1, M1,
    M1, M1, M1, M1, M1, M1, M1, M1,
    Z4, Z4, Z32, Z32, Z32, Z32,
    0x07, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00
};

static int store_moon_golden_f32(void)
{
    mcf_tensor t = mk("w", MCF_F32, 2, s23, f6);
    unsigned char buf[400];
    size_t w = 0;
    MCF_CHECK(mcf_moon_object_size(&t) == 328);
    MCF_CHECK_RC(mcf_moon_encode(&t, buf, sizeof buf, &w), MCF_OK);
    MCF_CHECK(w == sizeof golden_f32);
    MCF_CHECK(memcmp(buf, golden_f32, sizeof golden_f32) == 0);
    return 0;
}

static int store_moon_golden_shard(void)
{
    static const uint16_t bf[6] = {0x3f80, 0x4000, 0x4040, 0x4080, 0x40a0, 0x40c0};
    mcf_tensor t = mk("s", MCF_BF16, 2, s23, bf), v;
    mcf_moon_layout l, back;
    unsigned char buf[400];
    size_t w = 0;
    memset(&l, 0, sizeof l);
    l.kind = MCF_MOON_SHARD;
    l.global_shape[0] = 4; l.global_shape[1] = 3;
    l.axis_count = 1;
    l.axes[0].kind = MCF_MOON_TP; l.axes[0].shard_rank = 1; l.axes[0].shard_count = 2; l.axes[0].split_dim = 0;
    MCF_CHECK_RC(mcf_moon_encode_layout(&t, &l, buf, sizeof buf, &w), MCF_OK);
    MCF_CHECK(w == sizeof golden_shard && memcmp(buf, golden_shard, w) == 0);
    MCF_CHECK_RC(mcf_moon_decode_layout(golden_shard, sizeof golden_shard, &v, &back), MCF_OK);
    MCF_CHECK(back.kind == MCF_MOON_SHARD && back.global_shape[0] == 4 && back.global_shape[1] == 3 && back.global_shape[2] == -1);
    MCF_CHECK(back.axis_count == 1 && back.axes[0].kind == MCF_MOON_TP && back.axes[0].shard_rank == 1 && back.axes[0].shard_count == 2);
    MCF_CHECK(v.dtype == MCF_BF16 && v.ndim == 2 && v.shape[0] == 2 && v.shape[1] == 3);
    MCF_CHECK(v.data == golden_shard + 304);
    return 0;
}

static int store_moon_golden_scalar(void)
{
    int64_t seven = 7;
    mcf_tensor t = mk("k", MCF_I64, 0, NULL, &seven), v;
    unsigned char buf[312];
    size_t w = 0;
    MCF_CHECK_RC(mcf_moon_encode(&t, buf, sizeof buf, &w), MCF_OK);
    MCF_CHECK(w == 312 && memcmp(buf, golden_scalar, 312) == 0);
    MCF_CHECK_RC(mcf_moon_decode(golden_scalar, sizeof golden_scalar, &v), MCF_OK);
    MCF_CHECK(v.ndim == 0 && v.dtype == MCF_I64 && v.data == golden_scalar + 304 && v.name == NULL && v.strides == NULL);
    return 0;
}

static int store_moon_decode_zero_copy(void)
{
    mcf_tensor v;
    mcf_moon_layout l;
    MCF_CHECK_RC(mcf_moon_decode_layout(golden_f32, sizeof golden_f32, &v, &l), MCF_OK);
    MCF_CHECK(v.data == golden_f32 + 304);
    MCF_CHECK(v.dtype == MCF_F32 && v.ndim == 2 && v.shape[0] == 2 && v.shape[1] == 3);
    MCF_CHECK(l.kind == MCF_MOON_FULL && l.axis_count == 0 && l.global_shape[0] == 2 && l.global_shape[7] == -1);
    return 0;
}

static void put32(unsigned char *p, uint32_t v) { p[0] = (unsigned char)v; p[1] = (unsigned char)(v >> 8); p[2] = (unsigned char)(v >> 16); p[3] = (unsigned char)(v >> 24); }
static void put64(unsigned char *p, uint64_t v) { put32(p, (uint32_t)v); put32(p + 4, (uint32_t)(v >> 32)); }

/* One broken field per case: width 2, 4 or 8 bytes at off (axis fields
 * need axis_count 1, set with ax). */
typedef struct bad_case { int off, width; int64_t value; int ax; size_t len; const char *msg; } bad_case;

static const bad_case bad_cases[] = {
    {0, 1, 0x4f, 0, 0, "bad magic 0x4d4f4f4f"},
    {4, 2, 2, 0, 0, "version 2 (only 1"},
    {6, 2, 305, 0, 0, "header_size 305 (expected 304)"},
    {8, 4, 15, 0, 0, "dtype 15 out of range"},
    {8, 4, -1, 0, 0, "dtype -1 out of range"},
    {12, 4, 9, 0, 0, "ndim 9 out of range"},
    {12, 4, -1, 0, 0, "ndim -1 out of range"},
    {16, 4, 2, 0, 0, "layout_kind 2"},
    {168, 4, 5, 0, 0, "axis_count 5"},
    {24, 8, 303, 0, 0, "data_offset 303 outside [304, 328]"},
    {24, 8, 329, 0, 0, "data_offset 329 outside [304, 328]"},
    {32, 8, 23, 0, 0, "data_bytes 23 but 24 bytes follow"},
    {40, 8, -1, 0, 0, "dimension 0 has global -1, local 2 (both must be >= 0)"},
    {40, 8, -3, 0, 0, "dimension 0 has global -3"},
    {112, 8, -2, 0, 0, "dimension 1 has global 3, local -2"},
    {56, 8, 0, 0, 0, "unused dimension 2 is global 0"},
    {160, 8, 5, 0, 0, "unused dimension 7 is global -1, local 5"},
    {12, 4, 1, 0, 0, "unused dimension 1 is global 3, local 3"},
    {104, 8, 1, 0, 0, "data_bytes 24 do not match dtype F32 local shape (12 bytes)"},
    {176, 4, 5, 1, 0, "axis 0 kind 5"},
    {176, 4, -1, 1, 0, "axis 0 kind -1"},
    {188, 4, 0, 1, 0, "shard_rank 0 not in [0, shard_count 0)"},
    {184, 4, 2, 1, 0, "shard_rank 2 not in [0, shard_count 2)"},
    {184, 4, -1, 1, 0, "shard_rank -1 not in"},
    {192, 4, 2, 1, 0, "split_dim 2 not in [-1, ndim 2)"},
    {192, 4, -2, 1, 0, "split_dim -2 not in"},
    {0, 0, 0, 0, 303, "303 bytes, shorter than the 304-byte TensorMetadata"},
    {0, 0, 0, 0, 327, "data_bytes 24 but 23 bytes follow"}
};

static int store_moon_decode_rejects(void)
{
    size_t i;
    for (i = 0; i < sizeof bad_cases / sizeof bad_cases[0]; i++) {
        const bad_case *c = &bad_cases[i];
        unsigned char b[sizeof golden_f32];
        mcf_tensor v;
        memcpy(b, golden_f32, sizeof b);
        if (c->ax) {
            put32(b + 168, 1);
            put32(b + 176, 1); put32(b + 184, 0); put32(b + 188, 2); put32(b + 192, 0);   /* a valid TP axis */
        }
        if (c->width == 1) b[c->off] = (unsigned char)c->value;
        else if (c->width == 2) { b[c->off] = (unsigned char)c->value; b[c->off + 1] = (unsigned char)((uint64_t)c->value >> 8); }
        else if (c->width == 4) put32(b + c->off, (uint32_t)c->value);
        else if (c->width == 8) put64(b + c->off, (uint64_t)c->value);
        memset(&v, 0, sizeof v);
        if (mcf_moon_decode(b, c->len ? c->len : sizeof b, &v) != MCF_DESERIALIZE_FAIL || !strstr(mcf_last_error(), c->msg)) {
            fprintf(stderr, "  case %lu: rc/message \"%s\", expected \"%s\"\n", (unsigned long)i, mcf_last_error(), c->msg);
            return 1;
        }
        MCF_CHECK(v.data == NULL);   /* out-parameter untouched on failure */
    }
    return 0;
}

/* A larger data_offset (padding after the 304 bytes) is valid Mooncake. */
static int store_moon_decode_padded_offset(void)
{
    unsigned char b[sizeof golden_f32 + 8];
    mcf_tensor v;
    memcpy(b, golden_f32, 304);
    memset(b + 304, 0xee, 8);
    memcpy(b + 312, golden_f32 + 304, 24);
    put64(b + 24, 312);
    MCF_CHECK_RC(mcf_moon_decode(b, sizeof b, &v), MCF_OK);
    MCF_CHECK(v.data == b + 312 && mcf_test_host_eq_le(f6, v.data, 24, MCF_F32));   /* the view is LE */
    return 0;
}

static int store_moon_encode_errors(void)
{
    static const int64_t s9[9] = {1, 1, 1, 1, 1, 1, 1, 1, 1};
    float c64[4] = {0};
    mcf_tensor t = mk("c", MCF_C64, 1, s23, c64);
    unsigned char buf[400];
    size_t w = 0;
    MCF_CHECK_RC(mcf_moon_encode(&t, buf, sizeof buf, &w), MCF_SERIALIZE_UNSUPPORTED);
    MCF_CHECK_ERR("dtype C64 has no Mooncake TensorDtype");
    t = mk("w", MCF_F32, 2, s23, f6);
    w = 0;
    MCF_CHECK_RC(mcf_moon_encode(&t, buf, 327, &w), MCF_BUFFER_OVERFLOW);
    MCF_CHECK(w == 328);
    MCF_CHECK_ERR("needs 328 bytes, buffer has 327");
    w = 0;
    MCF_CHECK_RC(mcf_moon_encode(&t, NULL, 0, &w), MCF_BUFFER_OVERFLOW);   /* ask first */
    MCF_CHECK(w == 328);
#if MCF_MAX_DIMS > 8
    t = mk("r9", MCF_U8, 9, s9, buf);
    MCF_CHECK_RC(mcf_moon_encode(&t, buf, sizeof buf, &w), MCF_SERIALIZE_UNSUPPORTED);
#else
    (void)s9;
#endif
    {
        mcf_moon_layout l;
        memset(&l, 0, sizeof l);
        l.kind = MCF_MOON_SHARD;
        l.global_shape[0] = 4; l.global_shape[1] = 3;
        l.axis_count = 1;
        l.axes[0].kind = MCF_MOON_EP; l.axes[0].shard_rank = 2; l.axes[0].shard_count = 2;
        MCF_CHECK_RC(mcf_moon_encode_layout(&t, &l, buf, sizeof buf, &w), MCF_INVALID_PARAMS);
        MCF_CHECK_ERR("axis 0 has shard_rank 2 of shard_count 2");
        l.axes[0].shard_rank = 1;
        l.global_shape[1] = -1;
        MCF_CHECK_RC(mcf_moon_encode_layout(&t, &l, buf, sizeof buf, &w), MCF_INVALID_PARAMS);
        MCF_CHECK_ERR("tensor \"w\": global dimension 1 is -1 (Mooncake needs >= 0)");
    }
    return 0;
}

/* Zero-element tensors are valid Mooncake objects (upstream accepts them
 * since it stores torch.empty(0) and friends): the 304-byte header with
 * data_bytes 0 and the zero in both shapes, no payload. */
static int store_moon_zero_element(void)
{
    static const int64_t s03[2] = {0, 3}, s0[1] = {0};
    unsigned char buf[400], want[304];
    mcf_tensor t = mk("e", MCF_F32, 2, s03, NULL), v;
    mcf_moon_layout l;
    size_t w = 0;
    MCF_CHECK(mcf_moon_object_size(&t) == 304);
    MCF_CHECK_RC(mcf_moon_encode(&t, buf, sizeof buf, &w), MCF_OK);
    MCF_CHECK(w == 304);
    memcpy(want, golden_f32, 304);   /* the [2,3] header with a 0 for the 2 */
    put64(want + 32, 0);
    put64(want + 40, 0);
    put64(want + 104, 0);
    MCF_CHECK(memcmp(buf, want, 304) == 0);
    memset(&v, 0, sizeof v);
    MCF_CHECK_RC(mcf_moon_decode_layout(buf, w, &v, &l), MCF_OK);
    MCF_CHECK(v.dtype == MCF_F32 && v.ndim == 2 && v.shape[0] == 0 && v.shape[1] == 3 && v.data == buf + 304);
    MCF_CHECK(l.kind == MCF_MOON_FULL && l.global_shape[0] == 0 && l.global_shape[1] == 3 && mcf_tensor_nbytes(&v) == 0);
    /* what torch.empty(0) becomes: one dimension of 0 */
    t = mk("e1", MCF_I64, 1, s0, f6);
    MCF_CHECK_RC(mcf_moon_encode(&t, buf, sizeof buf, &w), MCF_OK);
    MCF_CHECK(w == 304 && buf[8] == 8 && buf[12] == 1);   /* INT64 = 8, ndim 1 */
    MCF_CHECK_RC(mcf_moon_decode(buf, w, &v), MCF_OK);
    MCF_CHECK(v.dtype == MCF_I64 && v.ndim == 1 && v.shape[0] == 0);
    /* a shard may be empty, and so may the global tensor */
    memset(&l, 0, sizeof l);
    l.kind = MCF_MOON_SHARD;
    l.global_shape[0] = 0;
    l.axis_count = 1;
    l.axes[0].kind = MCF_MOON_TP; l.axes[0].shard_rank = 1; l.axes[0].shard_count = 2;
    MCF_CHECK_RC(mcf_moon_encode_layout(&t, &l, buf, sizeof buf, &w), MCF_OK);
    MCF_CHECK_RC(mcf_moon_decode_layout(buf, w, &v, &l), MCF_OK);
    MCF_CHECK(l.kind == MCF_MOON_SHARD && l.global_shape[0] == 0 && v.shape[0] == 0);
    /* decode: a global dimension of 0 over a non-empty local shard is what
     * upstream's rule (every dimension >= 0) accepts, so it decodes */
    {
        unsigned char obj[328];
        memcpy(obj, golden_f32, sizeof obj);
        put64(obj + 40, 0);
        MCF_CHECK_RC(mcf_moon_decode_layout(obj, sizeof obj, &v, &l), MCF_OK);
        MCF_CHECK(l.global_shape[0] == 0 && v.shape[0] == 2 && mcf_tensor_nbytes(&v) == 24);
        /* ... but data_bytes must still match the local shape */
        put64(obj + 104, 0);
        MCF_CHECK_RC(mcf_moon_decode(obj, sizeof obj, &v), MCF_DESERIALIZE_FAIL);
        MCF_CHECK_ERR("data_bytes 24 do not match dtype F32 local shape (0 bytes)");
    }
    return 0;
}

/* A strided (non-contiguous) tensor is stored contiguous. */
static int store_moon_encode_strided(void)
{
    static const float full[4][4] = {{0, 1, 2, 3}, {4, 5, 6, 7}, {8, 9, 10, 11}, {12, 13, 14, 15}};
    static const int64_t shape[2] = {2, 3}, strides[2] = {4, 1}, tstrides[2] = {1, 4};
    static const float want[6] = {5, 6, 7, 9, 10, 11}, want_t[6] = {0, 4, 8, 1, 5, 9};
    unsigned char buf[400];
    mcf_tensor t = mk("kv", MCF_F32, 2, shape, &full[1][1]), v;
    size_t w;
    t.strides = strides;
    MCF_CHECK_RC(mcf_moon_encode(&t, buf, sizeof buf, &w), MCF_OK);
    MCF_CHECK(w == 328 && mcf_test_host_eq_le(want, buf + 304, 24, MCF_F32));
    MCF_CHECK(memcmp(buf, golden_f32, 304) == 0);   /* same header as a contiguous [2,3] F32 */
    t.data = &full[0][0];
    t.strides = tstrides;   /* transposed view */
    MCF_CHECK_RC(mcf_moon_encode(&t, buf, sizeof buf, &w), MCF_OK);
    MCF_CHECK_RC(mcf_moon_decode(buf, w, &v), MCF_OK);
    MCF_CHECK(mcf_test_host_eq_le(want_t, v.data, 24, MCF_F32));
    return 0;
}

/* torch.empty(0) through the store and both file formats: every object
 * that comes back is the 304-byte header the put wrote. */
static int store_zero_element_roundtrip(void)
{
    static const int64_t s0[1] = {0};
    static const char *const urls[2] = {"memory://zero/e.pt", "memory://zero/e.safetensors"};
    mcf_store *s = mcf_memory_store_create();
    mcf_tensor t = mk("e", MCF_F32, 1, s0, NULL), out;
    void *a, *b;
    size_t la, lb;
    int i;
    MCF_CHECK_RC(mcf_store_put_tensor(s, "e", &t), MCF_OK);
    MCF_CHECK_RC(mcf_store_get_tensor(s, "e", NULL, &out), MCF_OK);
    MCF_CHECK(out.dtype == MCF_F32 && out.ndim == 1 && out.shape[0] == 0 && strcmp(out.name, "e") == 0);
    mcf_tensor_free(&out, NULL);
    for (i = 0; i < 2; i++) {
        char key[16];
        snprintf(key, sizeof key, "back%d", i);
        STORE_CHECK_OK(mcf_save_tensor_to_file(s, "e", urls[i], NULL));
        MCF_CHECK_RC(mcf_load_tensor_from_file(s, key, urls[i], NULL, &out), MCF_OK);
        MCF_CHECK(out.dtype == MCF_F32 && out.ndim == 1 && out.shape[0] == 0);
        mcf_tensor_free(&out, NULL);
        MCF_CHECK_RC(store_raw(s, "e", &a, &la), MCF_OK);
        MCF_CHECK_RC(store_raw(s, key, &b, &lb), MCF_OK);
        MCF_CHECK(la == 304 && lb == 304 && memcmp(a, b, 304) == 0);
        s->release(s->user, a);
        s->release(s->user, b);
        MCF_CHECK_RC(mcf_remove(urls[i], NULL), MCF_OK);
    }
    mcf_memory_store_destroy(s);
    return 0;
}

/* ---- memory store ---------------------------------------------------------- */

static int store_memory_put_get_remove(void)
{
    mcf_store *s = mcf_memory_store_create();
    mcf_tensor t = mk("w", MCF_F32, 2, s23, f6), out;
    void *obj = NULL;
    size_t len = 0;
    MCF_CHECK(s != NULL);
    MCF_CHECK_RC(mcf_store_put_tensor(s, "w", &t), MCF_OK);
    MCF_CHECK_RC(store_raw(s, "w", &obj, &len), MCF_OK);
    MCF_CHECK(len == sizeof golden_f32 && memcmp(obj, golden_f32, len) == 0);
    s->release(s->user, obj);
    MCF_CHECK_RC(mcf_store_get_tensor(s, "w", NULL, &out), MCF_OK);
    MCF_CHECK(strcmp(out.name, "w") == 0 && out.dtype == MCF_F32 && out.ndim == 2 && out.shape[1] == 3);
    MCF_CHECK(memcmp(out.data, f6, 24) == 0 && ((uintptr_t)out.data & 63) == 0);
    mcf_tensor_free(&out, NULL);
    MCF_CHECK(out.data == NULL && out.name == NULL);
    MCF_CHECK_RC(mcf_store_get_tensor(s, "nope", NULL, &out), MCF_OBJECT_NOT_FOUND);
    MCF_CHECK_ERR("memory store: no key \"nope\"");
    MCF_CHECK_RC(s->remove(s->user, "w"), MCF_OK);
    MCF_CHECK_RC(s->remove(s->user, "w"), MCF_OBJECT_NOT_FOUND);
    MCF_CHECK_RC(mcf_store_get_tensor(s, "w", NULL, &out), MCF_OBJECT_NOT_FOUND);
    /* a value that is not a Mooncake object */
    MCF_CHECK_RC(s->put(s->user, "junk", "xyz", 3), MCF_OK);
    MCF_CHECK_RC(mcf_store_get_tensor(s, "junk", NULL, &out), MCF_DESERIALIZE_FAIL);
    MCF_CHECK_ERR("store key \"junk\": Mooncake object: 3 bytes, shorter than the 304-byte");
    /* many keys: the table grows and keeps every key */
    {
        char key[32];
        int i;
        for (i = 0; i < 1000; i++) { snprintf(key, sizeof key, "k%d", i); MCF_CHECK_RC(s->put(s->user, key, &i, sizeof i), MCF_OK); }
        for (i = 0; i < 1000; i++) {
            int got = -1;
            snprintf(key, sizeof key, "k%d", i);
            MCF_CHECK_RC(store_raw(s, key, &obj, &len), MCF_OK);
            MCF_CHECK(len == sizeof got);
            memcpy(&got, obj, sizeof got);
            s->release(s->user, obj);
            MCF_CHECK(got == i);
        }
    }
    mcf_memory_store_destroy(s);
    mcf_memory_store_destroy(NULL);
    return 0;
}

/* Put of an existing key keeps the stored value and succeeds (Mooncake's
 * client treats the master's OBJECT_ALREADY_EXISTS as success); a file load
 * into an existing key is such a put: it succeeds, its out is the file's
 * tensor, the store keeps its value. Replication settings are accepted and
 * ignored (one process, no replicas). */
static int store_memory_put_existing_key(void)
{
    static const float g[6] = {7, 8, 9, 10, 11, 12};
    mcf_store *s = mcf_memory_store_create();
    mcf_tensor t = mk("w", MCF_F32, 2, s23, f6), u = mk("w", MCF_F32, 2, s23, g), out;
    mcf_replicate r;
    mcf_options o;
    void *obj;
    size_t len;
    MCF_CHECK(s->put_replicated == NULL);
    MCF_CHECK_RC(mcf_store_put_tensor(s, "w", &t), MCF_OK);
    MCF_CHECK_RC(mcf_store_put_tensor(s, "w", &u), MCF_OK);
    MCF_CHECK_RC(s->put(s->user, "w", "xyz", 3), MCF_OK);
    MCF_CHECK_RC(store_raw(s, "w", &obj, &len), MCF_OK);
    MCF_CHECK(len == sizeof golden_f32 && memcmp(obj, golden_f32, len) == 0);   /* the first put's object */
    s->release(s->user, obj);
    STORE_CHECK_OK(mcf_save("memory://exist/g.safetensors", &u, 1, NULL));
    memset(&r, 0, sizeof r);
    r.replica_num = 2;
    memset(&o, 0, sizeof o);
    o.replicate = &r;
    MCF_CHECK_RC(mcf_load_tensor_from_file(s, "w", "memory://exist/g.safetensors", &o, &out), MCF_OK);
    MCF_CHECK(memcmp(out.data, g, 24) == 0);   /* out: the file's tensor */
    mcf_tensor_free(&out, NULL);
    MCF_CHECK_RC(mcf_store_get_tensor(s, "w", NULL, &out), MCF_OK);
    MCF_CHECK(memcmp(out.data, f6, 24) == 0);   /* the store: its own value */
    mcf_tensor_free(&out, NULL);
    /* after a remove the load puts the file's tensor */
    MCF_CHECK_RC(s->remove(s->user, "w"), MCF_OK);
    MCF_CHECK_RC(mcf_load_tensor_from_file(s, "w", "memory://exist/g.safetensors", &o, NULL), MCF_OK);
    MCF_CHECK_RC(mcf_store_get_tensor(s, "w", NULL, &out), MCF_OK);
    MCF_CHECK(memcmp(out.data, g, 24) == 0);
    mcf_tensor_free(&out, NULL);
    MCF_CHECK_RC(mcf_remove("memory://exist/g.safetensors", NULL), MCF_OK);
    mcf_memory_store_destroy(s);
    return 0;
}

/* The allocator hook is where loaded data goes (map_location analogue). */
typedef struct hook_state { int allocs, frees; size_t last_size, last_align; } hook_state;
static void *hook_alloc(void *user, size_t size, size_t align)
{
    hook_state *h = (hook_state *)user;
    h->allocs++; h->last_size = size; h->last_align = align;
    return malloc(size);
}
static void hook_free(void *user, void *p) { ((hook_state *)user)->frees++; free(p); }

static int store_get_tensor_alloc_hook(void)
{
    mcf_store *s = mcf_memory_store_create();
    mcf_tensor t = mk("w", MCF_F32, 2, s23, f6), out;
    mcf_options o;
    hook_state h;
    memset(&h, 0, sizeof h);
    memset(&o, 0, sizeof o);
    o.alloc = hook_alloc; o.dealloc = hook_free; o.alloc_user = &h;
    MCF_CHECK_RC(mcf_store_put_tensor(s, "w", &t), MCF_OK);
    MCF_CHECK_RC(mcf_store_get_tensor(s, "w", &o, &out), MCF_OK);
    MCF_CHECK(h.allocs == 1 && h.last_size == 24 && h.last_align == 64);
    MCF_CHECK(memcmp(out.data, f6, 24) == 0);
    mcf_tensor_free(&out, &o);
    MCF_CHECK(h.frees == 1);
    mcf_memory_store_destroy(s);
    return 0;
}

/* Threads hammer one store: private keys (put/get/verify, some removed) and
 * one shared key that the first writer's put fills and no later put of the
 * key changes: every read gets one writer's whole object, always the same. */
#define HAMMER_THREADS 8
#define HAMMER_ROUNDS 400
typedef struct hammer_arg { mcf_store *s; int id; int failures; float first_shared; } hammer_arg;

static void *hammer(void *p)
{
    hammer_arg *a = (hammer_arg *)p;
    char key[32];
    int i;
    for (i = 0; i < HAMMER_ROUNDS; i++) {
        float vals[6];
        mcf_tensor t, out;
        int j;
        for (j = 0; j < 6; j++) vals[j] = (float)(a->id * 1000 + i + j);
        t = mk("h", MCF_F32, 2, s23, vals);
        snprintf(key, sizeof key, "t%d/%d", a->id, i);
        if (mcf_store_put_tensor(a->s, key, &t) != MCF_OK) { a->failures++; continue; }
        if (mcf_store_get_tensor(a->s, key, NULL, &out) != MCF_OK) { a->failures++; continue; }
        if (memcmp(out.data, vals, sizeof vals) != 0) a->failures++;
        mcf_tensor_free(&out, NULL);
        if (i % 3 == 0 && a->s->remove(a->s->user, key) != MCF_OK) a->failures++;
        /* shared key: whole objects only, never a mix */
        if (mcf_store_put_tensor(a->s, "shared", &t) != MCF_OK) a->failures++;
        if (mcf_store_get_tensor(a->s, "shared", NULL, &out) == MCF_OK) {
            const float *d = (const float *)out.data;
            for (j = 1; j < 6; j++) if (d[j] != d[0] + (float)j) a->failures++;
            if (i == 0) a->first_shared = d[0];
            else if (d[0] != a->first_shared) a->failures++;   /* never replaced */
            mcf_tensor_free(&out, NULL);
        } else a->failures++;
    }
    return NULL;
}

static int store_memory_threads(void)
{
    mcf_store *s = mcf_memory_store_create();
    pthread_t th[HAMMER_THREADS];
    hammer_arg args[HAMMER_THREADS];
    int i;
    MCF_CHECK(s != NULL);
    for (i = 0; i < HAMMER_THREADS; i++) {
        args[i].s = s; args[i].id = i; args[i].failures = 0;
        MCF_CHECK(pthread_create(&th[i], NULL, hammer, &args[i]) == 0);
    }
    for (i = 0; i < HAMMER_THREADS; i++) pthread_join(th[i], NULL);
    for (i = 0; i < HAMMER_THREADS; i++) MCF_CHECK(args[i].failures == 0 && args[i].first_shared == args[0].first_shared);
    mcf_memory_store_destroy(s);
    return 0;
}

/* ---- a store that fails: errors are passed through --------------------- */
static int fail_put(void *u, const char *k, const void *o, size_t l) { (void)u; (void)o; (void)l; return mcf_set_error(MCF_FILE_WRITE_FAIL, "fake store: put \"%s\" refused", k); }
static int fail_get(void *u, const char *k, void **o, size_t *l) { (void)u; (void)o; (void)l; return mcf_set_error(MCF_PERMISSION_DENIED, "fake store: get \"%s\" denied", k); }
static void fail_release(void *u, void *o) { (void)u; (void)o; }
static int fail_remove(void *u, const char *k) { (void)u; (void)k; return MCF_OK; }

static int store_errors_passed_through(void)
{
    mcf_store s;
    mcf_tensor t = mk("w", MCF_F32, 2, s23, f6), out;
    memset(&s, 0, sizeof s);
    s.put = fail_put; s.get = fail_get; s.release = fail_release; s.remove = fail_remove;
    MCF_CHECK_RC(mcf_store_put_tensor(&s, "w", &t), MCF_FILE_WRITE_FAIL);
    MCF_CHECK_ERR("fake store: put \"w\" refused");
    MCF_CHECK_RC(mcf_store_get_tensor(&s, "w", NULL, &out), MCF_PERMISSION_DENIED);
    MCF_CHECK_ERR("fake store: get \"w\" denied");
    MCF_CHECK_RC(mcf_save_tensor_to_file(&s, "w", "memory://denied.pt", NULL), MCF_PERMISSION_DENIED);
    MCF_CHECK_ERR("fake store: get \"w\" denied");
    MCF_CHECK(mcf_exists("memory://denied.pt", NULL) == 0);
    MCF_CHECK_RC(mcf_store_put_tensor(NULL, "w", &t), MCF_INVALID_PARAMS);
    MCF_CHECK_RC(mcf_store_put_tensor(&s, NULL, &t), MCF_INVALID_PARAMS);
    MCF_CHECK_ERR("NULL key");
    return 0;
}

/* Parameter errors need no format: they are checked before any I/O. */
static int store_file_io_param_errors(void)
{
    mcf_store *s = mcf_memory_store_create();
    mcf_tensor t = mk("w", MCF_F32, 2, s23, f6), out;
    mcf_options o;
    memset(&o, 0, sizeof o);
    MCF_CHECK_RC(mcf_store_put_tensor(s, "w", &t), MCF_OK);
    /* missing key on save: FILE_NOT_FOUND, nothing written */
    MCF_CHECK_RC(mcf_save_tensor_to_file(s, "absent", "memory://fileio/absent.pt", NULL), MCF_FILE_NOT_FOUND);
    MCF_CHECK_ERR("store key \"absent\" does not exist");
    MCF_CHECK(mcf_exists("memory://fileio/absent.pt", NULL) == 0);
    MCF_CHECK_RC(mcf_save_tensor_to_safetensor(s, "absent", "memory://fileio/absent.safetensors", NULL), MCF_FILE_NOT_FOUND);
    MCF_CHECK_RC(mcf_save_kv_cache_to_file(s, "absent", NULL, NULL), MCF_FILE_NOT_FOUND);
    /* unknown artifact kind */
    MCF_CHECK_RC(mcf_save_tensor(s, "w", NULL, "memory://fileio/k.pt", "checkpoint", NULL), MCF_INVALID_PARAMS);
    MCF_CHECK_ERR("unknown artifact kind \"checkpoint\" (valid: tensor, generic, file, kv_cache, kvcache, kv, safetensor, safetensors, safe_tensors)");
    MCF_CHECK_RC(mcf_load_tensor(s, "w", "memory://fileio/k.pt", "kv cache", NULL, &out), MCF_INVALID_PARAMS);
    MCF_CHECK_ERR("unknown artifact kind \"kv cache\"");
    /* unknown format */
    o.format = "pickle";
    MCF_CHECK_RC(mcf_save_tensor_to_file(s, "w", "memory://fileio/f.pt", &o), MCF_INVALID_PARAMS);
    MCF_CHECK_ERR("unknown format \"pickle\"");
    MCF_CHECK_RC(mcf_load_tensor_from_file(s, "w", "memory://fileio/f.pt", &o, NULL), MCF_INVALID_PARAMS);
    MCF_CHECK_ERR("unknown format \"pickle\"");
    /* loading a missing file */
    MCF_CHECK_RC(mcf_load_tensor_from_file(s, "w", "memory://fileio/none.pt", NULL, NULL), MCF_FILE_NOT_FOUND);
    MCF_CHECK_ERR("memory:///fileio/none.pt");
    MCF_CHECK_RC(mcf_load_tensor_from_file(s, "w", NULL, NULL, NULL), MCF_INVALID_PARAMS);
    MCF_CHECK_RC(mcf_load_tensor_from_file(NULL, "w", "memory://fileio/none.pt", NULL, NULL), MCF_INVALID_PARAMS);
    MCF_CHECK_RC(mcf_save_tensor_to_file(NULL, "w", "memory://x.pt", NULL), MCF_INVALID_PARAMS);
    mcf_memory_store_destroy(s);
    return 0;
}

/* ---- the store_file_io functions (need the format sections) ------------- */

/* Checks that key holds F32 [2,3] {1..6} exactly (object bytes included). */
static int check_w(mcf_store *s, const char *key)
{
    void *obj = NULL;
    size_t len = 0;
    MCF_CHECK_RC(store_raw(s, key, &obj, &len), MCF_OK);
    MCF_CHECK(len == sizeof golden_f32 && memcmp(obj, golden_f32, len) == 0);
    s->release(s->user, obj);
    return 0;
}

static int store_file_io_memory_fs(void)
{
    mcf_store *s = mcf_memory_store_create();
    mcf_tensor t = mk("w", MCF_F32, 2, s23, f6), out;
    mcf_reader *r;
    mcf_tensor e;
    MCF_CHECK_RC(mcf_store_put_tensor(s, "w", &t), MCF_OK);
    STORE_CHECK_OK(mcf_save_tensor_to_file(s, "w", "memory://fileio/w.safetensors", NULL));
    MCF_CHECK_RC(mcf_open("memory://fileio/w.safetensors", NULL, &r), MCF_OK);
    MCF_CHECK(strcmp(mcf_reader_format(r), "safetensors") == 0 && mcf_count(r) == 1);
    MCF_CHECK_RC(mcf_entry(r, 0, &e), MCF_OK);
    MCF_CHECK(strcmp(e.name, "w") == 0);   /* entry named after the key */
    MCF_CHECK(mcf_metadata_count(r) == 0);
    mcf_close(r);
    memset(&out, 0, sizeof out);
    MCF_CHECK_RC(mcf_load_tensor_from_file(s, "w2", "memory://fileio/w.safetensors", NULL, &out), MCF_OK);
    MCF_CHECK(strcmp(out.name, "w2") == 0 && out.ndim == 2 && memcmp(out.data, f6, 24) == 0);
    mcf_tensor_free(&out, NULL);
    if (check_w(s, "w2")) return 1;
    /* torch into memory: a bare tensor */
    STORE_CHECK_OK(mcf_save_tensor_to_file(s, "w", "memory://fileio/w.pt", NULL));
    MCF_CHECK_RC(mcf_open("memory://fileio/w.pt", NULL, &r), MCF_OK);
    MCF_CHECK(strcmp(mcf_reader_format(r), "torch") == 0 && mcf_count(r) == 1);
    MCF_CHECK_RC(mcf_entry(r, 0, &e), MCF_OK);
    MCF_CHECK(strcmp(e.name, "") == 0);
    mcf_close(r);
    MCF_CHECK_RC(mcf_load_tensor_from_file(s, NULL, "memory://fileio/w.pt", NULL, NULL), MCF_OK);
    if (check_w(s, "memory://fileio/w.pt")) return 1;   /* key defaults to file_name */
    /* the filesystem option turns a bare name into memory:// */
    {
        mcf_options o;
        memset(&o, 0, sizeof o);
        o.filesystem = "memory";
        STORE_CHECK_OK(mcf_save_tensor_to_file(s, "w", "fileio/fs.safetensors", &o));
        MCF_CHECK(mcf_exists("memory://fileio/fs.safetensors", NULL) == 1);
    }
    mcf_memory_store_destroy(s);
    return 0;
}

static int store_file_io_kv_aliases(void)
{
    static const struct { const char *kind, *format; } kinds[] = {
        {"tensor", "torch"}, {"kv_cache", "torch"}, {"KV-Cache", "torch"}, {"kvcache", "torch"}, {"kv", "torch"}, {"KV", "torch"},
        /* the format is forced: the .pt suffix does not matter */
        {"safetensor", "safetensors"}, {"safetensors", "safetensors"}, {"SafeTensors", "safetensors"}, {"SAFETENSOR", "safetensors"},
        {"safe_tensors", "safetensors"}, {"Safe-Tensors", "safetensors"},
        /* the kinds of the two-way functions that keep the format of the suffix */
        {"generic", "torch"}, {"file", "torch"}, {"FILE", "torch"}, {"Generic", "torch"}
    };
    mcf_store *s = mcf_memory_store_create();
    mcf_tensor t = mk("w", MCF_F32, 2, s23, f6);
    char url[64], key[32];
    size_t i;
    MCF_CHECK_RC(mcf_store_put_tensor(s, "kv", &t), MCF_OK);
    for (i = 0; i < sizeof kinds / sizeof kinds[0]; i++) {
        mcf_reader *r;
        snprintf(url, sizeof url, "memory://kv/alias%lu.pt", (unsigned long)i);
        snprintf(key, sizeof key, "back%lu", (unsigned long)i);
        STORE_CHECK_OK(mcf_save_tensor(s, "kv", NULL, url, kinds[i].kind, NULL));
        MCF_CHECK_RC(mcf_open(url, NULL, &r), MCF_OK);
        MCF_CHECK(strcmp(mcf_reader_format(r), kinds[i].format) == 0);
        if (strcmp(kinds[i].format, "safetensors") == 0) MCF_CHECK(mcf_find(r, "kv") == 0);
        mcf_close(r);
        MCF_CHECK_RC(mcf_load_tensor(s, key, url, kinds[i].kind, NULL, NULL), MCF_OK);
        if (check_w(s, key)) return 1;
    }
    STORE_CHECK_OK(mcf_save_kv_cache_to_file(s, "kv", "memory://kv/direct.pt", NULL));
    MCF_CHECK_RC(mcf_load_kv_cache_from_file(s, "direct", "memory://kv/direct.pt", NULL, NULL), MCF_OK);
    if (check_w(s, "direct")) return 1;
    STORE_CHECK_OK(mcf_save_tensor(s, "kv", NULL, "memory://kv/null.pt", NULL, NULL));   /* NULL kind = tensor */
    mcf_memory_store_destroy(s);
    return 0;
}

/* mcf_save_tensor / mcf_load_tensor, each part optional: a given tensor is
 * put first (an existing key keeps its value, and the file gets what the
 * store holds); no file means the store only; the kind is checked before
 * anything happens. */
static int store_save_load_tensor_two_way(void)
{
    static const float g[6] = {7, 8, 9, 10, 11, 12};
    mcf_store *s = mcf_memory_store_create();
    mcf_tensor t = mk("w", MCF_F32, 2, s23, f6), u = mk("w", MCF_F32, 2, s23, g), out;
    mcf_reader *r;
    MCF_CHECK(s != NULL);
    /* tensor and file: put, then written */
    STORE_CHECK_OK(mcf_save_tensor(s, "w", &t, "memory://two/w.pt", "generic", NULL));
    if (check_w(s, "w")) return 1;
    MCF_CHECK_RC(mcf_open("memory://two/w.pt", NULL, &r), MCF_OK);
    MCF_CHECK(strcmp(mcf_reader_format(r), "torch") == 0 && mcf_count(r) == 1);
    mcf_close(r);
    /* an existing key keeps its value; the file gets the stored tensor */
    STORE_CHECK_OK(mcf_save_tensor(s, "w", &u, "memory://two/w2.safetensors", "file", NULL));
    MCF_CHECK_RC(mcf_load_tensor(s, "w-back", "memory://two/w2.safetensors", "file", NULL, &out), MCF_OK);
    MCF_CHECK(memcmp(out.data, f6, 24) == 0);
    mcf_tensor_free(&out, NULL);
    /* tensor only: the store, no file */
    STORE_CHECK_OK(mcf_save_tensor(s, "only", &u, NULL, NULL, NULL));
    MCF_CHECK(mcf_exists("memory://only", NULL) == 0 && mcf_exists("only", NULL) != 1);   /* nothing written */
    /* file only: the store's value, format forced by the kind */
    STORE_CHECK_OK(mcf_save_tensor(s, "only", NULL, "memory://two/only.pt", "safe_tensors", NULL));
    MCF_CHECK_RC(mcf_open("memory://two/only.pt", NULL, &r), MCF_OK);
    MCF_CHECK(strcmp(mcf_reader_format(r), "safetensors") == 0 && mcf_find(r, "only") == 0);
    mcf_close(r);
    /* neither, a missing key, a bad kind (nothing put) */
    MCF_CHECK_RC(mcf_save_tensor(s, "x", NULL, NULL, NULL, NULL), MCF_INVALID_PARAMS);
    MCF_CHECK_ERR("mcf_save_tensor: store key \"x\": neither a tensor to put nor a file to write");
    MCF_CHECK_RC(mcf_save_tensor(s, "x", NULL, "memory://two/x.pt", NULL, NULL), MCF_FILE_NOT_FOUND);
    MCF_CHECK(mcf_exists("memory://two/x.pt", NULL) == 0);
    MCF_CHECK_RC(mcf_save_tensor(s, "x", &t, "memory://two/x.pt", "weights", NULL), MCF_INVALID_PARAMS);
    MCF_CHECK_ERR("unknown artifact kind \"weights\"");
    MCF_CHECK_RC(mcf_load_tensor(s, "x", NULL, NULL, NULL, NULL), MCF_OBJECT_NOT_FOUND);   /* nothing was put */
    MCF_CHECK_RC(mcf_save_tensor(s, NULL, &t, NULL, NULL, NULL), MCF_INVALID_PARAMS);
    MCF_CHECK_RC(mcf_save_tensor(NULL, "x", &t, NULL, NULL, NULL), MCF_INVALID_PARAMS);
    /* load from the store only */
    MCF_CHECK_RC(mcf_load_tensor(s, "only", NULL, "kv", NULL, &out), MCF_OK);
    MCF_CHECK(strcmp(out.name, "only") == 0 && memcmp(out.data, g, 24) == 0);
    mcf_tensor_free(&out, NULL);
    MCF_CHECK_RC(mcf_load_tensor(s, "only", NULL, NULL, NULL, NULL), MCF_OK);
    MCF_CHECK_RC(mcf_load_tensor(s, NULL, NULL, NULL, NULL, NULL), MCF_INVALID_PARAMS);
    MCF_CHECK_RC(mcf_load_tensor(s, "only", NULL, "pickle", NULL, NULL), MCF_INVALID_PARAMS);
    /* load from a file: into the store and out */
    MCF_CHECK_RC(mcf_load_tensor(s, "from-file", "memory://two/only.pt", "safe-tensors", NULL, &out), MCF_OK);
    MCF_CHECK(memcmp(out.data, g, 24) == 0);
    mcf_tensor_free(&out, NULL);
    MCF_CHECK_RC(mcf_load_tensor(s, "from-file", NULL, NULL, NULL, &out), MCF_OK);
    MCF_CHECK(memcmp(out.data, g, 24) == 0);
    mcf_tensor_free(&out, NULL);
    MCF_CHECK_RC(mcf_remove("memory://two/w.pt", NULL), MCF_OK);
    MCF_CHECK_RC(mcf_remove("memory://two/w2.safetensors", NULL), MCF_OK);
    MCF_CHECK_RC(mcf_remove("memory://two/only.pt", NULL), MCF_OK);
    mcf_memory_store_destroy(s);
    return 0;
}

/* A non-contiguous KV-cache slice, saved as safetensors, gives
 * exactly the reference serializer's bytes for the contiguous slice. */
static int store_file_io_kv_slice_safetensors(void)
{
    static const float kv[3][4] = {{0, 1, 2, 3}, {4, 5, 6, 7}, {8, 9, 10, 11}};
    static const int64_t shape[2] = {2, 2}, strides[2] = {4, 1};
    static const char json[] = "{\"kv0\":{\"dtype\":\"F32\",\"shape\":[2,2],\"data_offsets\":[0,16]}}     ";
    static const float want[4] = {5, 6, 9, 10};
    mcf_store *s = mcf_memory_store_create();
    mcf_tensor t = mk("kv0", MCF_F32, 2, shape, &kv[1][1]), out;
    unsigned char expect[8 + 64 + 16];
    void *file = NULL;
    size_t len = 0;
    t.strides = strides;
    MCF_CHECK(sizeof json - 1 == 64);
    memset(expect, 0, 8);
    expect[0] = 64;
    memcpy(expect + 8, json, 64);
    mcf_test_to_le(expect + 72, want, 16, MCF_F32);   /* files are LE */
    MCF_CHECK(!mcf_tensor_is_contiguous(&t));
    MCF_CHECK_RC(mcf_store_put_tensor(s, "kv0", &t), MCF_OK);
    STORE_CHECK_OK(mcf_save_tensor_to_safetensor(s, "kv0", "memory://kv/slice.safetensors", NULL));
    MCF_CHECK_RC(mcf_read_bytes("memory://kv/slice.safetensors", &file, &len, NULL), MCF_OK);
    MCF_CHECK(len == sizeof expect && memcmp(file, expect, len) == 0);
    mcf_free(file);
    MCF_CHECK_RC(mcf_load_tensor_from_safetensor(s, "kv1", "memory://kv/slice.safetensors", NULL, &out), MCF_OK);
    MCF_CHECK(out.ndim == 2 && out.shape[0] == 2 && out.shape[1] == 2 && memcmp(out.data, want, 16) == 0);
    mcf_tensor_free(&out, NULL);
    mcf_memory_store_destroy(s);
    return 0;
}

/* Entry choice: tensor_name, key, basename (backslashes too), sole entry. */
static int store_file_io_entry_choice(void)
{
    static const float a[2] = {1, 2}, b[2] = {3, 4};
    static const int64_t s2[1] = {2};
    mcf_store *s = mcf_memory_store_create();
    mcf_tensor two[2], out;
    mcf_options o;
    memset(&o, 0, sizeof o);
    two[0] = mk("alpha", MCF_F32, 1, s2, a);
    two[1] = mk("weights", MCF_F32, 1, s2, b);
    o.format = "safetensors";
    STORE_CHECK_OK(mcf_save("memory://C:\\models\\weights.safetensors", two, 2, &o));
    STORE_CHECK_OK(mcf_save("memory://choice/pair.safetensors", two, 2, &o));
    STORE_CHECK_OK(mcf_save("memory://choice/one.safetensors", two, 1, &o));
    /* basename fallback with a Windows-style path: "weights", no warning */
    mcf_set_error(MCF_OK, "%s", "");
    MCF_CHECK_RC(mcf_load_tensor_from_file(s, NULL, "memory://C:\\models\\weights.safetensors", NULL, &out), MCF_OK);
    MCF_CHECK(memcmp(out.data, b, 8) == 0 && strcmp(out.name, "memory://C:\\models\\weights.safetensors") == 0);
    MCF_CHECK(strcmp(mcf_last_error(), "") == 0);
    mcf_tensor_free(&out, NULL);
    /* tensor_name wins over the key */
    memset(&o, 0, sizeof o);
    o.tensor_name = "alpha";
    MCF_CHECK_RC(mcf_load_tensor_from_file(s, "weights", "memory://choice/pair.safetensors", &o, &out), MCF_OK);
    MCF_CHECK(memcmp(out.data, a, 8) == 0);
    mcf_tensor_free(&out, NULL);
    /* then the key */
    MCF_CHECK_RC(mcf_load_tensor_from_file(s, "weights", "memory://choice/pair.safetensors", NULL, &out), MCF_OK);
    MCF_CHECK(memcmp(out.data, b, 8) == 0);
    mcf_tensor_free(&out, NULL);
    /* no match among two: OBJECT_NOT_FOUND listing the names, store untouched */
    MCF_CHECK_RC(mcf_load_tensor_from_file(s, "gamma", "memory://choice/pair.safetensors", NULL, NULL), MCF_OBJECT_NOT_FOUND);
    MCF_CHECK_ERR("no tensor for store key \"gamma\"");
    MCF_CHECK_ERR("available: \"alpha\", \"weights\"");
    MCF_CHECK_RC(mcf_store_get_tensor(s, "gamma", NULL, &out), MCF_OBJECT_NOT_FOUND);
    o.tensor_name = "delta";
    MCF_CHECK_RC(mcf_load_tensor_from_file(s, "gamma", "memory://choice/pair.safetensors", &o, NULL), MCF_OBJECT_NOT_FOUND);
    MCF_CHECK_ERR("tried tensor_name \"delta\"");
    /* the only entry: success with a warning */
    MCF_CHECK_RC(mcf_load_tensor_from_file(s, "gamma", "memory://choice/one.safetensors", NULL, &out), MCF_OK);
    MCF_CHECK_ERR("warning");
    MCF_CHECK_ERR("took the only entry \"alpha\"");
    MCF_CHECK(memcmp(out.data, a, 8) == 0 && strcmp(out.name, "gamma") == 0);
    mcf_tensor_free(&out, NULL);
    mcf_memory_store_destroy(s);
    return 0;
}

/* SHARD layouts survive store -> safetensors -> store byte for byte. */
static int store_file_io_shard_roundtrip(void)
{
    mcf_store *s = mcf_memory_store_create();
    mcf_reader *r;
    void *obj = NULL;
    size_t len = 0;
    unsigned char shard[sizeof golden_shard];
    memcpy(shard, golden_shard, sizeof shard);
    put32(shard + 20, 5);             /* reserved_flags and reserved1 survive too */
    put64(shard + 176 + 24, 77);
    MCF_CHECK_RC(s->put(s->user, "sh", shard, sizeof shard), MCF_OK);
    STORE_CHECK_OK(mcf_save_tensor_to_file(s, "sh", "memory://shard/sh.safetensors", NULL));
    MCF_CHECK_RC(mcf_open("memory://shard/sh.safetensors", NULL, &r), MCF_OK);
    MCF_CHECK(mcf_metadata(r, "mooncake.layout") && strcmp(mcf_metadata(r, "mooncake.layout"), "SHARD") == 0);
    MCF_CHECK(strcmp(mcf_metadata(r, "mooncake.global_shape"), "[4,3]") == 0);
    MCF_CHECK(strcmp(mcf_metadata(r, "mooncake.axes"), "[[1,0,1,2,0,0,77]]") == 0);
    MCF_CHECK(strcmp(mcf_metadata(r, "mooncake.reserved"), "[5,0]") == 0);
    mcf_close(r);
    MCF_CHECK_RC(mcf_load_tensor_from_file(s, "sh2", "memory://shard/sh.safetensors", NULL, NULL), MCF_OK);
    MCF_CHECK_RC(store_raw(s, "sh2", &obj, &len), MCF_OK);
    MCF_CHECK(len == sizeof shard && memcmp(obj, shard, len) == 0);
    s->release(s->user, obj);
    /* user metadata goes along; "mooncake." keys are reserved */
    {
        static const char *const meta[] = {"format", "pt", NULL};
        static const char *const clash[] = {"mooncake.axes", "[]", NULL};
        mcf_options o;
        memset(&o, 0, sizeof o);
        o.metadata = meta;
        STORE_CHECK_OK(mcf_save_tensor_to_file(s, "sh", "memory://shard/meta.safetensors", &o));
        MCF_CHECK_RC(mcf_open("memory://shard/meta.safetensors", NULL, &r), MCF_OK);
        MCF_CHECK(strcmp(mcf_metadata(r, "format"), "pt") == 0 && mcf_metadata_count(r) == 5);
        mcf_close(r);
        o.metadata = clash;
        MCF_CHECK_RC(mcf_save_tensor_to_file(s, "sh", "memory://shard/clash.safetensors", &o), MCF_INVALID_PARAMS);
        MCF_CHECK_ERR("metadata key \"mooncake.axes\" is reserved");
    }
    /* hostile layout metadata */
    {
        static const int64_t s23b[2] = {2, 3};
        static const uint16_t bf[6] = {0};
        static const char *const bad1[] = {"mooncake.layout", "SHARD", "mooncake.global_shape", "[4,3", NULL};
        static const char *const bad2[] = {"mooncake.layout", "SHARD", "mooncake.global_shape", "[4,3]", "mooncake.axes", "[[1,0,2,2,0,0,0]]", NULL};
        static const char *const bad3[] = {"mooncake.layout", "TILED", NULL};
        mcf_tensor t = mk("x", MCF_BF16, 2, s23b, bf);
        mcf_options o;
        memset(&o, 0, sizeof o);
        o.format = "safetensors";
        o.metadata = bad1;
        STORE_CHECK_OK(mcf_save("memory://shard/bad1.safetensors", &t, 1, &o));
        MCF_CHECK_RC(mcf_load_tensor_from_file(s, "x", "memory://shard/bad1.safetensors", NULL, NULL), MCF_DESERIALIZE_FAIL);
        MCF_CHECK_ERR("\"mooncake.global_shape\" must be a list of 2 integers, got \"[4,3\"");
        o.metadata = bad2;
        STORE_CHECK_OK(mcf_save("memory://shard/bad2.safetensors", &t, 1, &o));
        MCF_CHECK_RC(mcf_load_tensor_from_file(s, "x", "memory://shard/bad2.safetensors", NULL, NULL), MCF_INVALID_PARAMS);
        MCF_CHECK_ERR("shard_rank 2 of shard_count 2");
        o.metadata = bad3;
        STORE_CHECK_OK(mcf_save("memory://shard/bad3.safetensors", &t, 1, &o));
        MCF_CHECK_RC(mcf_load_tensor_from_file(s, "x", "memory://shard/bad3.safetensors", NULL, NULL), MCF_DESERIALIZE_FAIL);
        MCF_CHECK_ERR("\"mooncake.layout\" is \"TILED\"");
    }
    mcf_memory_store_destroy(s);
    return 0;
}

#ifndef MCF_NO_POSIX
/* Reference files: torch.save and the HF serializer wrote these. */
static int store_file_io_reference_files(void)
{
    static const unsigned char f32_ref[24] = {0x00, 0x00, 0xc0, 0xbf, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x80, 0x3f,
                                              0x00, 0x00, 0x20, 0x40, 0x00, 0x00, 0x80, 0x7f, 0x00, 0x00, 0x00, 0x80};
    static const unsigned char weight_ref[16] = {0x00, 0x00, 0xa4, 0xc0, 0x00, 0x00, 0x00, 0xbf, 0x00, 0x00, 0x84, 0x40, 0x00, 0x00, 0x78, 0xc0};
    mcf_store *s;
    mcf_tensor out;
    void *obj;
    size_t len;
    mcf_options o;
    s = mcf_memory_store_create();
    memset(&o, 0, sizeof o);
    STORE_CHECK_OK(mcf_load_tensor_from_file(s, "ref", "tests/data/torch/dtype_f32.pt", NULL, &out));
    MCF_CHECK(out.dtype == MCF_F32 && out.ndim == 2 && out.shape[0] == 2 && out.shape[1] == 3);
    MCF_CHECK(mcf_test_host_eq_le(out.data, f32_ref, 24, MCF_F32));   /* loaded: host order */
    mcf_tensor_free(&out, NULL);
    MCF_CHECK_RC(store_raw(s, "ref", &obj, &len), MCF_OK);
    MCF_CHECK(len == 328 && memcmp(obj, golden_f32, 304) == 0 && memcmp((unsigned char *)obj + 304, f32_ref, 24) == 0);
    s->release(s->user, obj);
    /* safetensors: the entry named like the key */
    STORE_CHECK_OK(mcf_load_tensor_from_safetensor(s, "weight", "tests/data/safetensors/metadata_one.safetensors", NULL, &out));
    MCF_CHECK(out.ndim == 2 && out.shape[0] == 2 && mcf_test_host_eq_le(out.data, weight_ref, 16, MCF_F32));
    mcf_tensor_free(&out, NULL);
    MCF_CHECK_RC(mcf_load_tensor_from_file(s, NULL, "tests/data/safetensors/metadata_one.safetensors", NULL, NULL), MCF_OBJECT_NOT_FOUND);
    MCF_CHECK_ERR("available: \"bias\", \"weight\"");
    /* a non-contiguous view saved by torch (base(3x4).t()) is stored contiguous */
    {
        static const unsigned char tv[48] = {
            0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x80, 0x40, 0x00, 0x00, 0x00, 0x41, 0x00, 0x00, 0x80, 0x3f,
            0x00, 0x00, 0xa0, 0x40, 0x00, 0x00, 0x10, 0x41, 0x00, 0x00, 0x00, 0x40, 0x00, 0x00, 0xc0, 0x40,
            0x00, 0x00, 0x20, 0x41, 0x00, 0x00, 0x40, 0x40, 0x00, 0x00, 0xe0, 0x40, 0x00, 0x00, 0x30, 0x41};
        static const unsigned char bias0[12] = {0xb8, 0x91, 0xf4, 0xbe, 0x52, 0x8b, 0xa9, 0xbe, 0xe8, 0x0e, 0x53, 0xbe};
        static const unsigned char ones[12] = {0x00, 0x00, 0x80, 0x3f, 0x00, 0x00, 0x80, 0x3f, 0x00, 0x00, 0x80, 0x3f};
        mcf_tensor v;
        MCF_CHECK_RC(mcf_load_tensor_from_file(s, "tv", "tests/data/torch/transpose_view.pt", NULL, NULL), MCF_OK);
        MCF_CHECK_RC(store_raw(s, "tv", &obj, &len), MCF_OK);
        MCF_CHECK_RC(mcf_moon_decode(obj, len, &v), MCF_OK);
        MCF_CHECK(v.ndim == 2 && v.shape[0] == 4 && v.shape[1] == 3 && memcmp(v.data, tv, 48) == 0);
        s->release(s->user, obj);
        /* a state_dict: tensor_name, then the key, pick the entry */
        o.tensor_name = "0.bias";
        MCF_CHECK_RC(mcf_load_tensor_from_file(s, "b", "tests/data/torch/state_dict_sequential.pt", &o, &out), MCF_OK);
        MCF_CHECK(out.ndim == 1 && out.shape[0] == 3 && mcf_test_host_eq_le(out.data, bias0, 12, MCF_F32));
        mcf_tensor_free(&out, NULL);
        MCF_CHECK_RC(mcf_load_tensor_from_file(s, "1.weight", "tests/data/torch/state_dict_sequential.pt", NULL, &out), MCF_OK);
        MCF_CHECK(mcf_test_host_eq_le(out.data, ones, 12, MCF_F32));
        mcf_tensor_free(&out, NULL);
        MCF_CHECK_RC(mcf_load_tensor_from_file(s, "2.bias", "tests/data/torch/state_dict_sequential.pt", NULL, NULL), MCF_OBJECT_NOT_FOUND);
        MCF_CHECK_ERR("available: \"0.weight\", \"0.bias\", \"1.weight\", \"1.bias\"");
    }
    /* empty tensors are Mooncake objects too: header only */
    o.tensor_name = "nothing";
    MCF_CHECK_RC(mcf_load_tensor_from_file(s, "e", "tests/data/safetensors/only_empty.safetensors", &o, NULL), MCF_OK);
    MCF_CHECK_RC(store_raw(s, "e", &obj, &len), MCF_OK);
    MCF_CHECK(len == 304);
    s->release(s->user, obj);
    MCF_CHECK_RC(mcf_store_get_tensor(s, "e", NULL, &out), MCF_OK);
    MCF_CHECK(out.dtype == MCF_F16 && out.ndim == 2 && out.shape[0] == 0 && out.shape[1] == 8 && out.data != NULL);
    mcf_tensor_free(&out, NULL);
    MCF_CHECK_RC(mcf_load_tensor_from_file(s, "e3", "tests/data/torch/empty_3d.pt", NULL, &out), MCF_OK);
    MCF_CHECK(out.dtype == MCF_I64 && out.ndim == 3 && out.shape[0] == 2 && out.shape[1] == 0 && out.shape[2] == 3);
    mcf_tensor_free(&out, NULL);
    mcf_memory_store_destroy(s);
    return 0;
}
#endif

#ifndef MCF_NO_POSIX
/* Runs real PyTorch's torch.load on path (tests/torch_check.py): 1 if it
 * printed one bare tensor with this sha, dtype and shape; 0 if not (or the
 * check failed); -1 without python or torch. */
static int torch_says_bare_as(const char *path, const char *sha, const char *dtype, const char *shape)
{
    char args[1024], why[2048], line[2048], *out = NULL;
    const char *at;
    int ok = 0, lines = 0, rc;
    snprintf(args, sizeof args, "tests/torch_check.py '%s'", path);
    rc = mcf_test_python(args, &out, why, sizeof why);
    if (rc == 1) fprintf(stderr, "  %s\n", why);
    at = out;
    while (rc == 0 && mcf_test_next_line(&at, line, sizeof line)) {
        lines++;
        if (strstr(line, "\"key\": null") && strstr(line, sha) && strstr(line, dtype) && strstr(line, shape)) ok = 1;
        else fprintf(stderr, "  torch_check: %s\n", line);
    }
    free(out);
    if (rc == MCF_TEST_SKIPPED) return -1;
    return rc == 0 && ok && lines == 1;
}

static int torch_says_bare(const char *path, const char *sha) { return torch_says_bare_as(path, sha, "\"F32\"", "\"shape\": [2, 3]"); }

/* torch.empty(0) saved from the store is what torch.load reads as such. */
static int store_zero_element_torch(void)
{
    static const char sha_empty[] = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";
    static const int64_t s0[1] = {0};
    mcf_store *s = mcf_memory_store_create();
    mcf_tensor t = mk("e", MCF_F32, 1, s0, NULL), out;
    char path[512];
    int torch_ok;
    MCF_CHECK(mcf_test_tmpdir() != NULL);
    mcf_test_tmp_path(path, sizeof path, "empty.pt");
    MCF_CHECK_RC(mcf_store_put_tensor(s, "e", &t), MCF_OK);
    STORE_CHECK_OK(mcf_save_tensor_to_file(s, "e", path, NULL));
    MCF_CHECK_RC(mcf_load_tensor_from_file(s, "e2", path, NULL, &out), MCF_OK);
    MCF_CHECK(out.dtype == MCF_F32 && out.ndim == 1 && out.shape[0] == 0);
    mcf_tensor_free(&out, NULL);
    mcf_memory_store_destroy(s);
    torch_ok = torch_says_bare_as(path, sha_empty, "\"F32\"", "\"shape\": [0]");
    if (torch_ok < 0) MCF_SKIP("real PyTorch (/usr/bin/python3 with torch, tests/torch_check.py) is not available");
    MCF_CHECK(torch_ok == 1);
    return 0;
}

static int store_file_io_pt_standard_file(void)
{
    static const char sha[] = "24ae2dfe8df57c1b80e54cef3d90ac3b417fd98973345a5f616bbc9a75dcc202";   /* of {1..6} F32 */
    mcf_store *s = mcf_memory_store_create();
    mcf_tensor t = mk("w", MCF_F32, 2, s23, f6), out;
    mcf_options o;
    char path[512], path2[512];
    int torch_ok;
    MCF_CHECK(mcf_test_tmpdir() != NULL);
    mcf_test_tmp_path(path, sizeof path, "w.pt");
    mcf_test_tmp_path(path2, sizeof path2, "w.bin");
    MCF_CHECK_RC(mcf_store_put_tensor(s, "w", &t), MCF_OK);
    STORE_CHECK_OK(mcf_save_tensor_to_file(s, "w", path, NULL));
    memset(&o, 0, sizeof o);
    o.format = "standard_file";   /* the Python module's name for torch, any suffix */
    STORE_CHECK_OK(mcf_save_tensor_to_file(s, "w", path2, &o));
    MCF_CHECK_RC(mcf_load_tensor_from_file(s, "back", path, NULL, &out), MCF_OK);
    MCF_CHECK(memcmp(out.data, f6, 24) == 0 && strcmp(out.name, "back") == 0);
    mcf_tensor_free(&out, NULL);
    if (check_w(s, "back")) return 1;
    MCF_CHECK_RC(mcf_load_tensor_from_file(s, "back2", path2, &o, NULL), MCF_OK);
    if (check_w(s, "back2")) return 1;
    torch_ok = torch_says_bare(path, sha);
    if (torch_ok < 0) { mcf_memory_store_destroy(s); MCF_SKIP("real PyTorch (/usr/bin/python3 with torch, tests/torch_check.py) is not available"); }
    MCF_CHECK(torch_ok == 1);
    MCF_CHECK(torch_says_bare(path2, sha) == 1);
    mcf_memory_store_destroy(s);
    return 0;
}

static int store_file_io_file_uri_nested(void)
{
    mcf_store *s = mcf_memory_store_create();
    mcf_tensor t = mk("w", MCF_F32, 2, s23, f6);
    char url[600], dir[512];
    struct stat st;
    MCF_CHECK(mcf_test_tmpdir() != NULL);
    snprintf(url, sizeof url, "file://%s/a/b/c/w.safetensors", mcf_test_tmpdir());
    MCF_CHECK_RC(mcf_store_put_tensor(s, "w", &t), MCF_OK);
    STORE_CHECK_OK(mcf_save_tensor_to_file(s, "w", url, NULL));
    snprintf(dir, sizeof dir, "%s/a/b/c", mcf_test_tmpdir());
    MCF_CHECK(stat(dir, &st) == 0 && S_ISDIR(st.st_mode));
    MCF_CHECK(mcf_exists(url, NULL) == 1);
    MCF_CHECK_RC(mcf_load_tensor_from_file(s, "u", url, NULL, NULL), MCF_OK);
    if (check_w(s, "u")) return 1;
    snprintf(url, sizeof url, "file://%s/x/y/kv.pt", mcf_test_tmpdir());
    STORE_CHECK_OK(mcf_save_kv_cache_to_file(s, "w", url, NULL));
    MCF_CHECK_RC(mcf_load_kv_cache_from_file(s, NULL, url, NULL, NULL), MCF_OK);
    if (check_w(s, url)) return 1;
    mcf_memory_store_destroy(s);
    return 0;
}

/* Basename fallback on a local file whose name has backslashes (POSIX keeps
 * them in the name; the Python module splits at them). */
static int store_file_io_basename_windows_path(void)
{
    static const float b[2] = {3, 4};
    static const int64_t s2[1] = {2};
    mcf_store *s = mcf_memory_store_create();
    mcf_tensor t = mk("cache", MCF_F32, 1, s2, b), out;
    mcf_options o;
    char path[512];
    MCF_CHECK(mcf_test_tmpdir() != NULL);
    mcf_test_tmp_path(path, sizeof path, "C:\\kv\\cache.safetensors");
    memset(&o, 0, sizeof o);
    o.format = "safetensors";
    STORE_CHECK_OK(mcf_save(path, &t, 1, &o));
    mcf_set_error(MCF_OK, "%s", "");
    MCF_CHECK_RC(mcf_load_tensor_from_file(s, NULL, path, NULL, &out), MCF_OK);
    MCF_CHECK(strcmp(mcf_last_error(), "") == 0);   /* found by basename, no warning */
    MCF_CHECK(memcmp(out.data, b, 8) == 0);
    mcf_tensor_free(&out, NULL);
    mcf_memory_store_destroy(s);
    return 0;
}

static int store_file_io_file_errors(void)
{
    mcf_store *s = mcf_memory_store_create();
    mcf_tensor t = mk("w", MCF_F32, 2, s23, f6);
    char path[512];
    MCF_CHECK(mcf_test_tmpdir() != NULL);
    mcf_test_tmp_path(path, sizeof path, "missing.pt");
    MCF_CHECK_RC(mcf_store_put_tensor(s, "w", &t), MCF_OK);
    MCF_CHECK_RC(mcf_load_tensor_from_file(s, "w", path, NULL, NULL), MCF_FILE_NOT_FOUND);
    MCF_CHECK_ERR("missing.pt");
    MCF_CHECK_RC(mcf_save_tensor_to_file(s, "nokey", path, NULL), MCF_FILE_NOT_FOUND);
    MCF_CHECK(access(path, F_OK) != 0);
    mcf_memory_store_destroy(s);
    return 0;
}
#endif

#ifndef MCF_NO_POSIX
#define POSIX_TESTS , MCF_TEST(store_file_io_pt_standard_file), MCF_TEST(store_zero_element_torch), MCF_TEST(store_file_io_file_uri_nested), \
    MCF_TEST(store_file_io_basename_windows_path), MCF_TEST(store_file_io_file_errors), \
    MCF_TEST(store_file_io_reference_files)
#else
#define POSIX_TESTS
#endif

MCF_TEST_MAIN(
    MCF_TEST(store_moon_golden_f32),
    MCF_TEST(store_moon_golden_shard),
    MCF_TEST(store_moon_golden_scalar),
    MCF_TEST(store_moon_decode_zero_copy),
    MCF_TEST(store_moon_decode_rejects),
    MCF_TEST(store_moon_decode_padded_offset),
    MCF_TEST(store_moon_encode_errors),
    MCF_TEST(store_moon_zero_element),
    MCF_TEST(store_moon_encode_strided),
    MCF_TEST(store_zero_element_roundtrip),
    MCF_TEST(store_memory_put_get_remove),
    MCF_TEST(store_memory_put_existing_key),
    MCF_TEST(store_get_tensor_alloc_hook),
    MCF_TEST(store_memory_threads),
    MCF_TEST(store_errors_passed_through),
    MCF_TEST(store_file_io_param_errors),
    MCF_TEST(store_file_io_memory_fs),
    MCF_TEST(store_file_io_kv_aliases),
    MCF_TEST(store_save_load_tensor_two_way),
    MCF_TEST(store_file_io_kv_slice_safetensors),
    MCF_TEST(store_file_io_entry_choice),
    MCF_TEST(store_file_io_shard_roundtrip)
    POSIX_TESTS
)
