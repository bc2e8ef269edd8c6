/* [19] slices and dtype conversion on read: mcf_read_slice and mcf_read_as
 * against real PyTorch's t[s0, s1, ...] and t[...].to(dtype) on files it
 * made (tests/torch_slices.py: a safetensors file with every dtype, 0-d,
 * empty and large tensors; a torch file of transposes, permutes, steps,
 * storage offsets, narrows and an expanded view), through every way a
 * reader gets bytes: a caller buffer, a mapped file, positional reads
 * (MCF_NO_MMAP), both also with several threads (reads of 2 MiB and more
 * cut into parts), and a counting filesystem without a mapping that shows
 * exactly which byte ranges a slice reads. Then the refusals. */
#include "mcf_test.h"
#include "sha256.h"
#include "mcf_test_endian.h"
#include "mcf_test_posix.h"
#include <stdint.h>

/* ---- the cases PyTorch computed: one python run per process ------------------- */
typedef struct scase {
    char file[24], name[24];
    int conv;                       /* 0: mcf_read_slice; 1: mcf_read_as(to) */
    mcf_dtype to;
    int ns, ndim;
    mcf_slice s[8];
    int64_t shape[8];
    char sha[65];
} scase;

static scase *g_cases;
static int g_ncases;

static void cleanup(void)
{
    free(g_cases);
    g_cases = NULL;
}

static int parse_case(const char *line, scase *c)
{
    char to[16];
    const char *p;
    int n, d;
    long long a, b, st;
    memset(c, 0, sizeof c[0]);
    if (sscanf(line, "CASE %23s %23s %15s %d%n", c->file, c->name, to, &c->ns, &n) != 4 || c->ns < 0 || c->ns > 8) return 0;
    c->conv = strcmp(to, "-") != 0;
    if (c->conv && mcf_dtype_parse(to, &c->to) != MCF_OK) return 0;
    p = line + n;
    for (d = 0; d < c->ns; d++) {
        if (sscanf(p, "%lld %lld %lld%n", &a, &b, &st, &n) != 3) return 0;
        c->s[d].start = a; c->s[d].stop = b; c->s[d].step = st;
        p += n;
    }
    if (sscanf(p, "%d%n", &c->ndim, &n) != 1 || c->ndim < 0 || c->ndim > 8) return 0;
    p += n;
    for (d = 0; d < c->ndim; d++) {
        if (sscanf(p, "%lld%n", &a, &n) != 1) return 0;
        c->shape[d] = a;
        p += n;
    }
    return sscanf(p, "%64s", c->sha) == 1 && strlen(c->sha) == 64;
}

/* One CASE line of tests/torch_slices.py; 1 if it was one. */
static int take_case(const char *line, void *ctx)
{
    static int cap;
    (void)ctx;
    if (strncmp(line, "CASE ", 5) != 0) return 0;
    if (g_ncases == cap) {
        scase *m = (scase *)realloc(g_cases, (size_t)(cap ? 2 * cap : 1024) * sizeof *m);
        if (!m) return 0;
        if (!g_cases) (void)atexit(cleanup);
        g_cases = m;
        cap = cap ? 2 * cap : 1024;
    }
    if (!parse_case(line, &g_cases[g_ncases])) return 0;
    g_ncases++;
    return 1;
}

#define NEED_TORCH() MCF_TEST_NEED_TORCH("tests/torch_slices.py", take_case)

static void path_of(char *out, size_t cap, const char *file) { (void)snprintf(out, cap, "%s/%s", mcf_test_tmpdir(), file); }

/* ---- a filesystem that counts reads: the memory filesystem without a mapping ---- */
static mcf_filesystem g_mem;
static uint64_t g_reads, g_read_bytes;
static int count_read_at(void *file, uint64_t off, void *dst, size_t n)
{
    g_reads++;
    g_read_bytes += n;
    return g_mem.read_at(file, off, dst, n);
}

static int count_fs_register(void)
{
    mcf_filesystem fs;
    static int done;
    if (done) return MCF_OK;
    if (mcf_filesystem_lookup("memory", &g_mem) != MCF_OK) return -1;
    fs = g_mem;
    fs.scheme = "countfs";
    fs.map = NULL;
    fs.read_at = count_read_at;
    done = 1;
    return mcf_register_filesystem(&fs);
}

/* Copies DIR/file into the memory filesystem as /slices/file (countfs reads it). */
static int stage(const char *file)
{
    char path[128], url[128];
    size_t len = 0;
    unsigned char *b;
    int rc;
    path_of(path, sizeof path, file);
    if (!(b = mcf_test_slurp(path, &len))) return -1;
    (void)snprintf(url, sizeof url, "memory:///slices/%s", file);
    rc = mcf_write_bytes(url, b, len, NULL);
    free(b);
    return rc;
}

/* ---- the readers every case runs through ----------------------------------------- */
enum { MODE_BUFFER, MODE_COUNTFS, MODE_MAPPED, MODE_PREAD, MODE_MAPPED_THREADS, MODE_PREAD_THREADS, NMODES };
static const char *const mode_name[NMODES] = {"caller buffer", "countfs (no mapping)", "mapped file", "MCF_NO_MMAP",
                                              "mapped file, 4 threads", "MCF_NO_MMAP, 3 threads"};

static int open_mode(int mode, const char *file, unsigned char **keep, mcf_reader **r)
{
    char path[128];
    mcf_options o;
    size_t len = 0;
    memset(&o, 0, sizeof o);
    *keep = NULL;
    path_of(path, sizeof path, file);
    switch (mode) {
    case MODE_BUFFER:
        if (!(*keep = mcf_test_slurp(path, &len))) return -1;
        return mcf_open_memory(*keep, len, NULL, r);
    case MODE_COUNTFS:
        (void)snprintf(path, sizeof path, "countfs:///slices/%s", file);
        if (count_fs_register() != MCF_OK || stage(file) != MCF_OK) return -1;
        return mcf_open(path, NULL, r);
    case MODE_MAPPED:
    case MODE_MAPPED_THREADS:
        o.threads = mode == MODE_MAPPED ? 0 : 4;
        return mcf_open(path, &o, r);
    default:
        o.flags = MCF_NO_MMAP;
        o.threads = mode == MODE_PREAD ? 0 : 3;
        return mcf_open(path, &o, r);
    }
}

/* Runs case c on r: shape, then the bytes (sha256 against PyTorch the first
 * time, against the first reader's bytes after that). */
static int run_case(mcf_reader *r, const scase *c, unsigned char **first, size_t *first_len, const char *how)
{
    int idx = mcf_find(r, c->name), d;
    mcf_tensor info;
    int64_t shape[8];
    uint64_t numel = 1;
    size_t os, nbytes;
    unsigned char *buf;
    char hex[65];
    if (idx < 0) { fprintf(stderr, "  %s: no tensor %s: %s\n", c->file, c->name, mcf_last_error()); return 1; }
    MCF_CHECK_RC(mcf_entry(r, (size_t)idx, &info), MCF_OK);
    MCF_CHECK_RC(mcf_slice_shape(r, (size_t)idx, c->s, c->ns, shape), MCF_OK);
    MCF_CHECK(info.ndim == c->ndim);
    for (d = 0; d < c->ndim; d++) {
        if (shape[d] != c->shape[d]) {
            fprintf(stderr, "  %s %s dim %d: shape %lld, torch %lld\n", c->file, c->name, d, (long long)shape[d], (long long)c->shape[d]);
            return 1;
        }
        numel *= (uint64_t)shape[d];
    }
    os = mcf_dtype_size(c->conv ? c->to : info.dtype);
    nbytes = (size_t)numel * os;
    buf = (unsigned char *)malloc(nbytes + 1);
    MCF_CHECK(buf != NULL);
    memset(buf, 0xEE, nbytes + 1);
    if (c->conv) MCF_CHECK_RC(mcf_read_as(r, (size_t)idx, c->to, c->s, c->ns, buf, nbytes), MCF_OK);
    else MCF_CHECK_RC(mcf_read_slice(r, (size_t)idx, c->s, c->ns, buf, nbytes), MCF_OK);
    MCF_CHECK(buf[nbytes] == 0xEE);                         /* nothing past the slice */
    mcf_test_to_le(buf, buf, nbytes, c->conv ? c->to : info.dtype);
    if (!*first) {
        test_sha256_of(buf, nbytes, hex);
        if (strcmp(hex, c->sha) != 0) {
            fprintf(stderr, "  %s %s%s%s, %d slice dims (%s): sha256 %s, torch %s\n", c->file, c->name, c->conv ? " to " : "",
                    c->conv ? mcf_dtype_name(c->to) : "", c->ns, how, hex, c->sha);
            free(buf);
            return 1;
        }
        *first = buf;
        *first_len = nbytes;
        return 0;
    }
    if (nbytes != *first_len || memcmp(buf, *first, nbytes) != 0) {
        fprintf(stderr, "  %s %s (%s): bytes differ from the first reader's\n", c->file, c->name, how);
        free(buf);
        return 1;
    }
    free(buf);
    return 0;
}

static int run_file(const char *file, int *count)
{
    mcf_reader *r[NMODES];
    unsigned char *keep[NMODES];
    int m, k, nmodes = NMODES;
#ifdef MCF_NO_POSIX
    nmodes = MODE_MAPPED;                   /* no file backend */
#endif
    for (m = 0; m < nmodes; m++) {
        if (open_mode(m, file, &keep[m], &r[m]) != MCF_OK) {
            fprintf(stderr, "  %s (%s): %s\n", file, mode_name[m], mcf_last_error());
            return 1;
        }
    }
    for (k = 0; k < g_ncases; k++) {
        unsigned char *first = NULL;
        size_t first_len = 0;
        if (strcmp(g_cases[k].file, file) != 0) continue;
        for (m = 0; m < nmodes; m++)
            if (run_case(r[m], &g_cases[k], &first, &first_len, mode_name[m])) { free(first); return 1; }
        free(first);
        (*count)++;
    }
    for (m = 0; m < nmodes; m++) { mcf_close(r[m]); free(keep[m]); }
    return 0;
}

/* Every case of file PyTorch computed; more than min of them. */
static int file_matches_pytorch(const char *file, int min)
{
    int n = 0;
    NEED_TORCH();
    MCF_CHECK(run_file(file, &n) == 0);
    MCF_CHECK(n > min);
    return 0;
}

static int slice_safetensors_matches_pytorch(void) { return file_matches_pytorch("slices.safetensors", 400); }
static int slice_torch_views_match_pytorch(void) { return file_matches_pytorch("slices.pt", 300); }

/* Which bytes a slice reads from a source without a mapping (a remote
 * object behaves the same way): exact read calls and byte counts. */
static int slice_reads_only_what_it_needs(void)
{
    mcf_reader *r;
    unsigned char *keep;
    mcf_slice s[2];
    int big, wide, bigt;
    uint64_t off = 0;
    float *buf = (float *)malloc(1100 * 1024 * 4);
    NEED_TORCH();
    MCF_CHECK(buf != NULL);
    MCF_CHECK_RC(open_mode(MODE_COUNTFS, "slices.safetensors", &keep, &r), MCF_OK);
    MCF_CHECK((big = mcf_find(r, "big")) >= 0 && (wide = mcf_find(r, "wide")) >= 0);
    /* rows 100..227 of F32 [1100, 1024]: one read of exactly those bytes, into dst */
    s[0] = mcf_slice_range(100, 228);
    g_reads = g_read_bytes = 0;
    MCF_CHECK_RC(mcf_read_slice(r, (size_t)big, s, 1, buf, 128 * 4096), MCF_OK);
    MCF_CHECK(g_reads == 1 && g_read_bytes == 128 * 4096);
    /* the same rows converted to BF16: the same bytes, one read into a
     * bounded buffer and converted from there */
    g_reads = g_read_bytes = 0;
    MCF_CHECK_RC(mcf_read_as(r, (size_t)big, MCF_BF16, s, 1, buf, 128 * 2048), MCF_OK);
    MCF_CHECK(g_reads == 1 && g_read_bytes == 128 * 4096);
    /* the whole 4.4 MB tensor converted: pieces of at most 4 MiB */
    g_reads = g_read_bytes = 0;
    MCF_CHECK_RC(mcf_read_as(r, (size_t)big, MCF_BF16, NULL, 0, buf, 1100 * 2048), MCF_OK);
    MCF_CHECK(g_reads == 2 && g_read_bytes == 1100 * 4096);
    /* column 5: 4 bytes every 4 KiB; the gaps are under 64 KiB, so the reads
     * merge, in batches of at most 4 MiB: rows 0..1023 (1023 * 4096 + 4
     * bytes), then rows 1024..1099 (75 * 4096 + 4) */
    s[0] = mcf_slice_range(0, MCF_SLICE_END);
    s[1] = mcf_slice_range(5, 6);
    g_reads = g_read_bytes = 0;
    MCF_CHECK_RC(mcf_read_slice(r, (size_t)big, s, 2, buf, 1100 * 4), MCF_OK);
    MCF_CHECK(g_reads == 2 && g_read_bytes == 1098 * 4096 + 8);
    /* column 3 of F32 [40, 20000]: rows are 80000 bytes apart (>= 64 KiB),
     * so each element is its own read */
    s[1] = mcf_slice_range(3, 4);
    g_reads = g_read_bytes = 0;
    MCF_CHECK_RC(mcf_read_slice(r, (size_t)wide, s, 2, buf, 40 * 4), MCF_OK);
    MCF_CHECK(g_reads == 40 && g_read_bytes == 40 * 4);
    /* a 0-d slice of nothing reads nothing */
    s[0] = mcf_slice_range(7, 7);
    g_reads = 0;
    MCF_CHECK_RC(mcf_read_slice(r, (size_t)big, s, 1, NULL, 0), MCF_OK);
    MCF_CHECK(g_reads == 0);
    mcf_close(r);
    /* a transposed torch view: rows 0..9 of big_t = BF16 [2048, 1100] with
     * strides [1, 2048] are 20-byte runs 4 KiB apart in the file, read in
     * file order and merged like the column above */
    MCF_CHECK_RC(open_mode(MODE_COUNTFS, "slices.pt", &keep, &r), MCF_OK);
    MCF_CHECK((bigt = mcf_find(r, "big_t")) >= 0);
    MCF_CHECK_RC(mcf_entry_location(r, (size_t)bigt, &off, NULL), MCF_OK);
    s[0] = mcf_slice_range(0, 10);
    g_reads = g_read_bytes = 0;
    MCF_CHECK_RC(mcf_read_slice(r, (size_t)bigt, s, 1, buf, 10 * 1100 * 2), MCF_OK);
    MCF_CHECK(g_reads == 2 && g_read_bytes == 1098 * 4096 + 40);
    mcf_close(r);
    free(buf);
    return 0;
}

/* Bad arguments: exact codes, and sentences naming the file, tensor and dimension. */
static int slice_refusals(void)
{
    mcf_reader *r;
    unsigned char *keep = NULL;
    mcf_slice s[4];
    int64_t shape[8];
    unsigned char buf[64];
    int i, f4, c64, sc;
    char path[128];
    NEED_TORCH();
    path_of(path, sizeof path, "slices.safetensors");
    MCF_CHECK_RC(open_mode(MODE_BUFFER, "slices.safetensors", &keep, &r), MCF_OK);
    MCF_CHECK((i = mcf_find(r, "t_F32")) >= 0);
    s[0] = mcf_slice_range(0, 2);
    s[1] = mcf_slice_range(0, 2);
    s[1].step = 0;
    MCF_CHECK_RC(mcf_read_slice(r, (size_t)i, s, 2, buf, sizeof buf), MCF_INVALID_PARAMS);
    MCF_CHECK_ERR("<memory>: tensor \"t_F32\": slice step 0 in dimension 1 must be >= 1");
    s[1].step = -1;
    MCF_CHECK_RC(mcf_slice_shape(r, (size_t)i, s, 2, shape), MCF_INVALID_PARAMS);
    MCF_CHECK_ERR("slice step -1 in dimension 1");
    s[1].step = 1;
    MCF_CHECK_RC(mcf_read_slice(r, (size_t)i, s, 4, buf, sizeof buf), MCF_INVALID_PARAMS);
    MCF_CHECK_ERR("tensor \"t_F32\" has 3 dimensions, the slice gives 4");
    MCF_CHECK_RC(mcf_read_slice(r, (size_t)i, s, -1, buf, sizeof buf), MCF_INVALID_PARAMS);
    MCF_CHECK_RC(mcf_read_slice(r, (size_t)i, NULL, 1, buf, sizeof buf), MCF_INVALID_PARAMS);
    MCF_CHECK_ERR("NULL slice array");
    MCF_CHECK_RC(mcf_read_slice(r, 999, s, 1, buf, sizeof buf), MCF_INVALID_PARAMS);
    MCF_CHECK_ERR("entry 999 out of range");
    /* [0:2, 0:2, :] of F32 [5, 7, 3] is 48 bytes */
    MCF_CHECK_RC(mcf_read_slice(r, (size_t)i, s, 2, buf, 47), MCF_BUFFER_OVERFLOW);
    MCF_CHECK_ERR("the slice needs 48 bytes (12 F32 elements), buffer has 47");
    MCF_CHECK_RC(mcf_read_as(r, (size_t)i, MCF_F64, s, 2, buf, 95), MCF_BUFFER_OVERFLOW);
    MCF_CHECK_ERR("needs 96 bytes");
    MCF_CHECK_RC(mcf_read_slice(r, (size_t)i, s, 2, NULL, 48), MCF_INVALID_PARAMS);
    /* conversions outside the list */
    MCF_CHECK_RC(mcf_read_as(r, (size_t)i, MCF_I32, NULL, 0, buf, sizeof buf), MCF_NOT_SUPPORTED);
    MCF_CHECK_ERR("tensor \"t_F32\": no conversion from F32 to I32");
    MCF_CHECK((c64 = mcf_find(r, "t_C64")) >= 0);
    MCF_CHECK_RC(mcf_read_as(r, (size_t)c64, MCF_F32, NULL, 0, buf, sizeof buf), MCF_NOT_SUPPORTED);
    MCF_CHECK_ERR("no conversion from C64 to F32");
    MCF_CHECK_RC(mcf_read_as(r, (size_t)i, MCF_DTYPE_COUNT, NULL, 0, buf, sizeof buf), MCF_INVALID_PARAMS);
    /* sub-byte dtypes: the whole tensor only */
    MCF_CHECK((f4 = mcf_find(r, "packed_f4")) >= 0);
    MCF_CHECK_RC(mcf_read_slice(r, (size_t)f4, s, 1, buf, sizeof buf), MCF_NOT_SUPPORTED);
    MCF_CHECK_ERR("tensor \"packed_f4\": F4 elements are not whole bytes");
    MCF_CHECK_RC(mcf_slice_shape(r, (size_t)f4, s, 1, shape), MCF_NOT_SUPPORTED);
    memset(buf, 0, sizeof buf);
    MCF_CHECK_RC(mcf_read_slice(r, (size_t)f4, NULL, 0, buf, sizeof buf), MCF_OK);
    MCF_CHECK(buf[0] == 0x12 && buf[3] == 0x78);
    MCF_CHECK_RC(mcf_read_as(r, (size_t)f4, MCF_F4, NULL, 0, buf, sizeof buf), MCF_OK);
    MCF_CHECK_RC(mcf_read_as(r, (size_t)f4, MCF_F32, NULL, 0, buf, sizeof buf), MCF_NOT_SUPPORTED);
    MCF_CHECK_ERR("no conversion from F4 to F32");
    /* a 0-d tensor takes only ns = 0 */
    MCF_CHECK((sc = mcf_find(r, "scalar")) >= 0);
    MCF_CHECK_RC(mcf_read_slice(r, (size_t)sc, s, 1, buf, sizeof buf), MCF_INVALID_PARAMS);
    MCF_CHECK_ERR("tensor \"scalar\" has 0 dimensions, the slice gives 1");
    MCF_CHECK_RC(mcf_read_as(r, (size_t)sc, MCF_F64, NULL, 0, buf, 8), MCF_OK);
    mcf_close(r);
    free(keep);
#ifndef MCF_NO_POSIX
    /* the message names the file a reader was opened on */
    MCF_CHECK_RC(mcf_open(path, NULL, &r), MCF_OK);
    s[0].step = 0;
    MCF_CHECK_RC(mcf_read_slice(r, (size_t)i, s, 1, buf, sizeof buf), MCF_INVALID_PARAMS);
    MCF_CHECK_ERR("slices.safetensors: tensor \"t_F32\": slice step 0 in dimension 0");
    mcf_close(r);
#endif
    MCF_CHECK_RC(mcf_read_slice(NULL, 0, s, 1, buf, sizeof buf), MCF_INVALID_PARAMS);
    return 0;
}

/* Bounds at the ends of int64: numpy's clamping, no overflow. */
static int slice_extreme_bounds_clamp(void)
{
    float v[6] = {0, 1, 2, 3, 4, 5}, out[6];
    mcf_tensor t;
    void *file = NULL;
    size_t len = 0;
    mcf_reader *r;
    mcf_slice s;
    int64_t shape[1];
    memset(&t, 0, sizeof t);
    t.name = "v"; t.dtype = MCF_F32; t.ndim = 1; t.shape[0] = 6; t.data = v;
    MCF_CHECK_RC(mcf_test_save_open(&t, 1, "safetensors", &file, &len, &r), MCF_OK);
    s.start = INT64_MIN; s.stop = INT64_MAX; s.step = 1;
    MCF_CHECK_RC(mcf_slice_shape(r, 0, &s, 1, shape), MCF_OK);
    MCF_CHECK(shape[0] == 6);
    s.start = INT64_MAX; s.stop = INT64_MIN;
    MCF_CHECK_RC(mcf_slice_shape(r, 0, &s, 1, shape), MCF_OK);
    MCF_CHECK(shape[0] == 0);
    s.start = -4; s.stop = MCF_SLICE_END; s.step = INT64_MAX;    /* one element: v[2] */
    MCF_CHECK_RC(mcf_slice_shape(r, 0, &s, 1, shape), MCF_OK);
    MCF_CHECK(shape[0] == 1);
    MCF_CHECK_RC(mcf_read_slice(r, 0, &s, 1, out, 4), MCF_OK);
    MCF_CHECK(out[0] == 2.0f);
    s.start = 1; s.stop = -1; s.step = 2;                        /* v[1:-1:2] = 1, 3 */
    MCF_CHECK_RC(mcf_read_slice(r, 0, &s, 1, out, sizeof out), MCF_OK);
    MCF_CHECK(out[0] == 1.0f && out[1] == 3.0f);
    s = mcf_slice_range(-2, MCF_SLICE_END);
    MCF_CHECK(s.step == 1);
    MCF_CHECK_RC(mcf_read_as(r, 0, MCF_F64, &s, 1, out, sizeof out), MCF_OK);
    {
        double d[2];
        memcpy(d, out, sizeof d);
        MCF_CHECK(d[0] == 4.0 && d[1] == 5.0);
    }
    mcf_close(r);
    mcf_free(file);
    return 0;
}

MCF_TEST_MAIN(MCF_TEST(slice_safetensors_matches_pytorch), MCF_TEST(slice_torch_views_match_pytorch),
              MCF_TEST(slice_reads_only_what_it_needs), MCF_TEST(slice_refusals), MCF_TEST(slice_extreme_bounds_clamp))
