/* [06] dtype conversion: every supported pair against real PyTorch 1.13
 * bit for bit (tests/torch_convert.py writes the inputs and torch's
 * .to(dtype) results), every code path (portable, SSE2, AVX2, F16C) against
 * the same vectors, FP8 decoding against the OCP 8-bit floating point
 * definitions computed here, and the refusals. NaN results are checked as
 * the library promises (a quiet NaN with the input's sign), because torch's
 * own NaN bits differ between its code paths; every other result exactly. */
#include "mcf_test.h"
#include "mcf_test_endian.h"
#include "mcf_test_posix.h"
#include <math.h>
#include <stdint.h>

/* ---- torch's results: one python run per process ---------------------------- */
typedef struct pair_rec { mcf_dtype from, to; size_t n; } pair_rec;
static pair_rec g_pairs[64];
static int g_npairs;

/* One PAIR line of tests/torch_convert.py; 1 if it was one. */
static int take_pair(const char *line, void *ctx)
{
    char a[16], b[16];
    unsigned long n;
    (void)ctx;
    if (sscanf(line, "PAIR %15s %15s %lu", a, b, &n) != 3 || g_npairs >= 64 || mcf_dtype_parse(a, &g_pairs[g_npairs].from) != MCF_OK ||
        mcf_dtype_parse(b, &g_pairs[g_npairs].to) != MCF_OK)
        return 0;
    g_pairs[g_npairs++].n = (size_t)n;
    return 1;
}

#define NEED_TORCH() MCF_TEST_NEED_TORCH("tests/torch_convert.py", take_pair)

static unsigned char *load(const char *name, size_t *len)
{
    char path[128];
    (void)snprintf(path, sizeof path, "%s/%s", mcf_test_tmpdir(), name);
    return mcf_test_slurp(path, len);
}

/* ---- bit facts of the float types, written here from IEEE 754 ----------------- */
static uint64_t elem(const unsigned char *p, size_t size)   /* little-endian */
{
    uint64_t v = 0;
    size_t i;
    for (i = 0; i < size; i++) v |= (uint64_t)p[i] << (8 * i);
    return v;
}

typedef struct fmt { unsigned ebits, mbits; } fmt;
static fmt fmt_of(mcf_dtype d)
{
    fmt f;
    f.ebits = d == MCF_F64 ? 11 : d == MCF_F32 ? 8 : d == MCF_F16 ? 5 : d == MCF_BF16 ? 8 : 0;
    f.mbits = d == MCF_F64 ? 52 : d == MCF_F32 ? 23 : d == MCF_F16 ? 10 : d == MCF_BF16 ? 7 : 0;
    return f;
}
static int is_nan(mcf_dtype d, uint64_t v)
{
    fmt f = fmt_of(d);
    uint64_t emax = (1ull << f.ebits) - 1;
    if (!f.ebits) return 0;
    return ((v >> f.mbits) & emax) == emax && (v & ((1ull << f.mbits) - 1)) != 0;
}
static int is_quiet(mcf_dtype d, uint64_t v) { return (int)((v >> (fmt_of(d).mbits - 1)) & 1u); }
static int sign_of(mcf_dtype d, uint64_t v) { fmt f = fmt_of(d); return (int)((v >> (f.ebits + f.mbits)) & 1u); }

/* Compares our n results with torch's: exact, except that where torch gave
 * a NaN ours must be a quiet NaN with the input's sign. */
static int compare(mcf_dtype from, mcf_dtype to, const unsigned char *in, const unsigned char *want, const unsigned char *got,
                   size_t n, const char *path)
{
    size_t es = mcf_dtype_size(from), os = mcf_dtype_size(to), i;
    for (i = 0; i < n; i++) {
        uint64_t w = elem(want + i * os, os), g = elem(got + i * os, os), x = elem(in + i * es, es);
        if (is_nan(to, w)) {
            if (!is_nan(to, g) || !is_quiet(to, g) || !is_nan(from, x) || sign_of(to, g) != sign_of(from, x)) {
                fprintf(stderr, "  %s -> %s (%s): input %llx: got %llx, want a quiet NaN of the input's sign (torch: %llx)\n",
                        mcf_dtype_name(from), mcf_dtype_name(to), path, (unsigned long long)x, (unsigned long long)g, (unsigned long long)w);
                return 1;
            }
        } else if (w != g) {
            fprintf(stderr, "  %s -> %s (%s): input %llx: got %llx, torch %llx\n", mcf_dtype_name(from), mcf_dtype_name(to), path,
                    (unsigned long long)x, (unsigned long long)g, (unsigned long long)w);
            return 1;
        }
    }
    return 0;
}

static const int g_variants[] = {MCF_CONVERT_PORTABLE, MCF_CONVERT_SSE2, MCF_CONVERT_AVX2, MCF_CONVERT_F16C};

static int convert_matches_pytorch_bit_for_bit(void)
{
    int k, v, variants_run = 0, sizes_seen = 0;
    NEED_TORCH();
    MCF_CHECK(g_npairs == 13 * 4 - 4);      /* 13 sources x 4 targets, minus the 4 same-dtype pairs */
    for (k = 0; k < g_npairs; k++) {
        const pair_rec *pr = &g_pairs[k];
        char name[32];
        size_t in_len = 0, out_len = 0, es = mcf_dtype_size(pr->from), os = mcf_dtype_size(pr->to);
        unsigned char *in, *want, *host, *got;
        (void)snprintf(name, sizeof name, "%s.in", mcf_dtype_name(pr->from));
        in = load(name, &in_len);
        (void)snprintf(name, sizeof name, "%s-%s.out", mcf_dtype_name(pr->from), mcf_dtype_name(pr->to));
        want = load(name, &out_len);
        MCF_CHECK(in && want);
        MCF_CHECK(in_len == pr->n * es && out_len == pr->n * os);
        if (pr->from == MCF_F16 || pr->from == MCF_BF16) { MCF_CHECK(pr->n == 65536); sizes_seen++; }
        host = (unsigned char *)malloc(in_len + 1);
        got = (unsigned char *)malloc(out_len + 1);
        MCF_CHECK(host && got);
        mcf_test_to_le(host, in, in_len, pr->from);         /* little-endian -> host order */
        for (v = 0; v < (int)(sizeof g_variants / sizeof g_variants[0]); v++) {
            int rc = mcf_convert_variant(g_variants[v], pr->from, pr->to, host, got, pr->n);
            if (rc == MCF_NOT_SUPPORTED) continue;
            MCF_CHECK_RC(rc, MCF_OK);
            mcf_test_to_le(got, got, out_len, pr->to);
            if (compare(pr->from, pr->to, in, want, got, pr->n, mcf_convert_variant_name(g_variants[v]))) return 1;
            variants_run++;
        }
        memset(got, 0xAB, out_len);
        MCF_CHECK_RC(mcf_convert(pr->from, pr->to, host, got, pr->n), MCF_OK);
        mcf_test_to_le(got, got, out_len, pr->to);
        if (compare(pr->from, pr->to, in, want, got, pr->n, "mcf_convert")) return 1;
        free(in); free(want); free(host); free(got);
    }
    MCF_CHECK(sizes_seen == 6);
    MCF_CHECK(variants_run >= g_npairs);
    return 0;
}

/* Every accelerated path gives the portable path's bytes, NaN payloads
 * included, at every length (vector bodies and scalar tails) and at
 * unaligned addresses. */
static int convert_variants_agree_with_portable(void)
{
    static const mcf_dtype pairs[][2] = {{MCF_BF16, MCF_F32}, {MCF_F32, MCF_BF16}, {MCF_F16, MCF_F32}, {MCF_F32, MCF_F16}};
    const size_t N = 4099;
    unsigned char *src = (unsigned char *)malloc(8 * N + 8), *ref = (unsigned char *)malloc(8 * N + 8), *got = (unsigned char *)malloc(8 * N + 8);
    uint64_t x = 88172645463325252ull;
    size_t i, n;
    int p, v, other = 0;
    MCF_CHECK(src && ref && got);
    for (i = 0; i < 8 * N + 8; i++) { x ^= x << 13; x ^= x >> 7; x ^= x << 17; src[i] = (unsigned char)x; }
    for (i = 0; i < 64; i++) {              /* special patterns at the front, F32 and 16-bit views */
        static const uint32_t sp[] = {0x7f800001u, 0xff800001u, 0x7fc00000u, 0xffffffffu, 0x7f800000u, 0xff800000u, 0, 0x80000000u,
                                      0x477ff000u, 0x477fefffu, 0x33000000u, 0x33000001u, 0x7f7f8000u, 0x7f7fffffu, 0x00000001u, 0x38800000u};
        uint32_t s = sp[i % 16];
        memcpy(src + 1 + 4 * i, &s, 4);
    }
    for (p = 0; p < 4; p++)
        for (n = 0; n <= 70; n += (n < 40 ? 1 : 7)) {
            size_t off;
            for (off = 0; off < 3; off++) {
                size_t cnt = n == 70 ? N : n, os = mcf_dtype_size(pairs[p][1]);
                MCF_CHECK_RC(mcf_convert_variant(MCF_CONVERT_PORTABLE, pairs[p][0], pairs[p][1], src + off, ref + off, cnt), MCF_OK);
                for (v = 1; v < 4; v++) {
                    int rc;
                    memset(got, 0xAB, 8 * N + 8);
                    rc = mcf_convert_variant(g_variants[v], pairs[p][0], pairs[p][1], src + off, got + off, cnt);
                    if (rc == MCF_NOT_SUPPORTED) { MCF_CHECK_ERR("is not available on this CPU or build"); continue; }
                    MCF_CHECK_RC(rc, MCF_OK);
                    if (cnt && memcmp(ref + off, got + off, cnt * os) != 0) {
                        fprintf(stderr, "  %s differs from portable: %s -> %s, n %lu, offset %lu\n", mcf_convert_variant_name(g_variants[v]),
                                mcf_dtype_name(pairs[p][0]), mcf_dtype_name(pairs[p][1]), (unsigned long)cnt, (unsigned long)off);
                        return 1;
                    }
                    other++;
                }
            }
        }
    free(src); free(ref); free(got);
    /* large results (>= 8 MiB) take the non-temporal stores: at 32-byte
     * aligned and unaligned destinations */
    n = ((size_t)9 << 20) / 4 + 13;
    src = (unsigned char *)malloc(2 * n + 8);
    ref = (unsigned char *)malloc(4 * n + 8);
    got = (unsigned char *)malloc(4 * n + 128);
    MCF_CHECK(src && ref && got);
    for (i = 0; i < 2 * n + 8; i++) { x ^= x << 13; x ^= x >> 7; x ^= x << 17; src[i] = (unsigned char)x; }
    for (p = 0; p < 3; p += 2) {
        size_t off;
        for (off = 0; off < 64; off += 20) {   /* 0, 20, 40, 60 bytes past a 64-byte boundary */
            unsigned char *d = got + ((64 - ((uintptr_t)got & 63)) & 63);
            MCF_CHECK_RC(mcf_convert_variant(MCF_CONVERT_PORTABLE, pairs[p][0], MCF_F32, src + 1, ref, n), MCF_OK);
            for (v = 1; v < 4; v++) {
                int rc;
                memset(d + off, 0xAB, 4 * n);
                rc = mcf_convert_variant(g_variants[v], pairs[p][0], MCF_F32, src + 1, d + off, n);
                if (rc == MCF_NOT_SUPPORTED) continue;
                MCF_CHECK_RC(rc, MCF_OK);
                MCF_CHECK(memcmp(ref, d + off, 4 * n) == 0);
                other++;
            }
        }
    }
#if defined(__x86_64__) && !defined(MCF_NO_SIMD)
    MCF_CHECK(other > 0);                   /* SSE2 exists on every x86-64 */
#else
    MCF_CHECK(other == 0);
#endif
    free(src); free(ref); free(got);
    return 0;
}

/* ---- FP8: the OCP 8-bit floating point definitions, computed here --------------- */
/* E4M3FN: bias 7, 3 mantissa bits, subnormals 2^-6 * m/8, no infinity,
 * S.1111.111 the only NaN. E5M2: bias 15, 2 mantissa bits, subnormals
 * 2^-14 * m/4, exponent 31: infinity (m = 0) or NaN. */
static double ocp_value(mcf_dtype d, unsigned v, int *nan)
{
    int e4 = d == MCF_F8_E4M3;
    unsigned mb = e4 ? 3 : 2, bias = e4 ? 7 : 15, emax = e4 ? 15 : 31;
    unsigned s = v >> 7, e = (v >> mb) & emax, m = v & ((1u << mb) - 1);
    double mag;
    *nan = 0;
    if (e4 && e == 15 && m == 7) { *nan = 1; return 0; }
    if (!e4 && e == 31) { if (m) { *nan = 1; return 0; } mag = INFINITY; }
    else if (e == 0) mag = ldexp((double)m, 1 - (int)bias - (int)mb);
    else mag = ldexp((double)((1u << mb) + m), (int)e - (int)bias - (int)mb);
    return s ? -mag : mag;
}

/* binary16 value, decoded here from IEEE 754 (not by the library). */
static double f16_value(uint16_t h, int *nan)
{
    unsigned s = h >> 15, e = (h >> 10) & 31u, m = h & 1023u;
    double mag;
    *nan = e == 31 && m != 0;
    if (e == 31) mag = INFINITY;
    else if (e == 0) mag = ldexp((double)m, -24);
    else mag = ldexp((double)(1024 + m), (int)e - 25);
    return s ? -mag : mag;
}

static double bf16_value(uint16_t b, int *nan)
{
    uint32_t u = (uint32_t)b << 16;
    float f;
    memcpy(&f, &u, 4);
    *nan = f != f;
    return (double)f;
}

static int same_value(double got, int got_nan, double want, int want_nan, int want_sign)
{
    if (want_nan) return got_nan && (signbit(got) != 0) == (want_sign != 0);
    return !got_nan && got == want && (signbit(got) != 0) == (signbit(want) != 0);
}

static int convert_fp8_matches_ocp_spec(void)
{
    static const mcf_dtype f8[2] = {MCF_F8_E4M3, MCF_F8_E5M2};
    unsigned char in[256];
    double d[256];
    float f[256];
    uint16_t h[256], b[256];
    int k, i, nans = 0, infs = 0;
    for (i = 0; i < 256; i++) in[i] = (unsigned char)i;
    for (k = 0; k < 2; k++) {
        MCF_CHECK_RC(mcf_convert(f8[k], MCF_F64, in, d, 256), MCF_OK);
        MCF_CHECK_RC(mcf_convert(f8[k], MCF_F32, in, f, 256), MCF_OK);
        MCF_CHECK_RC(mcf_convert(f8[k], MCF_F16, in, h, 256), MCF_OK);
        MCF_CHECK_RC(mcf_convert(f8[k], MCF_BF16, in, b, 256), MCF_OK);
        for (i = 0; i < 256; i++) {
            int nan, gnan;
            double want = ocp_value(f8[k], (unsigned)i, &nan), g;
            uint64_t db;
            uint32_t fb;
            int sign = i >> 7;
            nans += nan;
            infs += !nan && isinf(want);
            memcpy(&db, &d[i], 8);
            memcpy(&fb, &f[i], 4);
            if (!same_value(d[i], d[i] != d[i], want, nan, sign) || (nan && !((db >> 51) & 1u))) {
                fprintf(stderr, "  %s 0x%02x -> F64 %.17g, OCP %.17g%s\n", mcf_dtype_name(f8[k]), i, d[i], want, nan ? " (NaN)" : "");
                return 1;
            }
            if (!same_value((double)f[i], f[i] != f[i], want, nan, sign) || (nan && !((fb >> 22) & 1u))) {
                fprintf(stderr, "  %s 0x%02x -> F32 %.9g, OCP %.17g\n", mcf_dtype_name(f8[k]), i, (double)f[i], want);
                return 1;
            }
            g = f16_value(h[i], &gnan);
            if (!same_value(g, gnan, want, nan, sign) || (nan && !((h[i] >> 9) & 1u))) {
                fprintf(stderr, "  %s 0x%02x -> F16 %04x (%.9g), OCP %.17g\n", mcf_dtype_name(f8[k]), i, h[i], g, want);
                return 1;
            }
            g = bf16_value(b[i], &gnan);
            if (!same_value(g, gnan, want, nan, sign) || (nan && !((b[i] >> 6) & 1u))) {
                fprintf(stderr, "  %s 0x%02x -> BF16 %04x (%.9g), OCP %.17g\n", mcf_dtype_name(f8[k]), i, b[i], g, want);
                return 1;
            }
        }
    }
    /* E4M3FN: 2 NaNs, no infinity; E5M2: 6 NaNs, 2 infinities */
    MCF_CHECK(nans == 2 + 6);
    MCF_CHECK(infs == 2);
    /* largest finite values: 448 and 57344 */
    MCF_CHECK(d[0x7b] == 57344.0 && d[0xfb] == -57344.0);
    MCF_CHECK_RC(mcf_convert(MCF_F8_E4M3, MCF_F64, in, d, 256), MCF_OK);
    MCF_CHECK(d[0x7e] == 448.0 && d[0x01] == ldexp(1.0, -9));
    return 0;
}

/* Known values written out (independent of torch): round to nearest even,
 * ties, overflow, subnormals, double rounding through F32. */
static int convert_known_values(void)
{
    uint32_t f32[8] = {0x3f808000u /* 1 + 2^-8: BF16 tie, even -> 1 */, 0x3f818000u /* tie, odd -> up */,
                       0x477ff000u /* 65520 -> F16 inf */, 0x477fefffu /* -> 65504 */,
                       0x33000000u /* 2^-25: F16 tie -> 0 */, 0x33000001u /* -> 2^-24 */,
                       0x7f7fffffu /* FLT_MAX -> BF16 inf */, 0xff800001u /* -sNaN */};
    uint16_t h[8], b[8];
    int64_t big = ((int64_t)1 << 30) + ((int64_t)1 << 22) + 1;  /* BF16 via F32: two roundings */
    uint16_t hb;
    double dd = 1.0 + ldexp(1.0, -11) + ldexp(1.0, -40);       /* F16 via F32: tie after the first rounding */
    MCF_CHECK_RC(mcf_convert(MCF_F32, MCF_F16, f32, h, 8), MCF_OK);
    MCF_CHECK_RC(mcf_convert(MCF_F32, MCF_BF16, f32, b, 8), MCF_OK);
    MCF_CHECK(b[0] == 0x3f80 && b[1] == 0x3f82);
    MCF_CHECK(h[2] == 0x7c00 && h[3] == 0x7bff && h[4] == 0x0000 && h[5] == 0x0001);
    MCF_CHECK(b[6] == 0x7f80);
    MCF_CHECK(h[7] == 0xfe00 && b[7] == 0xffc0);              /* quiet, sign and top payload kept */
    MCF_CHECK_RC(mcf_convert(MCF_I64, MCF_BF16, &big, &hb, 1), MCF_OK);
    MCF_CHECK(hb == 0x4e80);                                    /* direct rounding would give 0x4e81 */
    MCF_CHECK_RC(mcf_convert(MCF_F64, MCF_F16, &dd, &hb, 1), MCF_OK);
    MCF_CHECK(hb == 0x3c00);                                    /* direct rounding would give 0x3c01 */
    return 0;
}

static int convert_refuses_other_pairs(void)
{
    static const mcf_dtype targets[] = {MCF_F64, MCF_F32, MCF_F16, MCF_BF16};
    float f = 1.0f;
    int32_t i32 = 0;
    unsigned char buf[16];
    int a, t, yes = 0;
    MCF_CHECK_RC(mcf_convert(MCF_F32, MCF_I32, &f, &i32, 1), MCF_NOT_SUPPORTED);
    MCF_CHECK_ERR("no conversion from F32 to I32");
    MCF_CHECK_RC(mcf_convert(MCF_C64, MCF_F32, buf, buf + 8, 1), MCF_NOT_SUPPORTED);
    MCF_CHECK_ERR("C64 to F32");
    MCF_CHECK_RC(mcf_convert(MCF_F8_E8M0, MCF_F16, buf, buf + 8, 1), MCF_NOT_SUPPORTED);
    MCF_CHECK_ERR("F8_E8M0 to F16");
    MCF_CHECK_RC(mcf_convert(MCF_F4, MCF_F32, buf, buf + 8, 1), MCF_NOT_SUPPORTED);
    MCF_CHECK_RC(mcf_convert(MCF_F32, MCF_F8_E4M3, &f, buf, 1), MCF_NOT_SUPPORTED);
    MCF_CHECK_ERR("F32 to F8_E4M3");
    MCF_CHECK_RC(mcf_convert(MCF_F4, MCF_F4, buf, buf + 8, 1), MCF_NOT_SUPPORTED);
    MCF_CHECK_ERR("not whole bytes");
    MCF_CHECK_RC(mcf_convert(MCF_DTYPE_COUNT, MCF_F32, buf, buf + 8, 1), MCF_INVALID_PARAMS);
    MCF_CHECK_RC(mcf_convert(MCF_F32, MCF_F16, NULL, buf, 1), MCF_INVALID_PARAMS);
    MCF_CHECK_RC(mcf_convert(MCF_F32, MCF_F16, NULL, NULL, 0), MCF_OK);
    MCF_CHECK_RC(mcf_convert_variant(9, MCF_F32, MCF_F16, &f, buf, 1), MCF_INVALID_PARAMS);
    MCF_CHECK_ERR("unknown variant 9");
    MCF_CHECK(strcmp(mcf_convert_variant_name(MCF_CONVERT_AVX2), "avx2") == 0);
    MCF_CHECK(strcmp(mcf_convert_variant_name(7), "?") == 0);
    /* the matrix: 15 sources x 4 targets, and every dtype to itself */
    for (a = 0; a < (int)MCF_DTYPE_COUNT; a++)
        for (t = 0; t < 4; t++) yes += mcf_convert_supported((mcf_dtype)a, targets[t]);
    MCF_CHECK(yes == 15 * 4);
    for (a = 0; a < (int)MCF_DTYPE_COUNT; a++) MCF_CHECK(mcf_convert_supported((mcf_dtype)a, (mcf_dtype)a));
    MCF_CHECK(!mcf_convert_supported(MCF_F32, MCF_I64));
    /* same dtype: a copy */
    f = -2.5f;
    MCF_CHECK_RC(mcf_convert(MCF_F32, MCF_F32, &f, buf, 1), MCF_OK);
    MCF_CHECK(memcmp(buf, &f, 4) == 0);
    return 0;
}

MCF_TEST_MAIN(MCF_TEST(convert_matches_pytorch_bit_for_bit), MCF_TEST(convert_variants_agree_with_portable),
              MCF_TEST(convert_fp8_matches_ocp_spec), MCF_TEST(convert_known_values), MCF_TEST(convert_refuses_other_pairs))
