/* [14] JSON read/write + [15] safetensors: the reference files (read, hashed,
 * re-written byte for byte), round trips of every dtype and shape class,
 * malformed headers with exact codes and messages, and the known failures of
 * other C/C++ safetensors readers. */
#ifndef _FILE_OFFSET_BITS
#define _FILE_OFFSET_BITS 64   /* the 4 GiB sparse file test needs a 64-bit off_t */
#endif
#include "mcf_test.h"
#include "sha256.h"
#include "st_reference.h"
#include "mcf_test_endian.h"
#ifndef MCF_NO_POSIX
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>
#include <dirent.h>
#endif

#define ST_DIR "tests/data/safetensors/"

/* ---- helpers ------------------------------------------------------------ */

/* 8-byte LE length + header text + data_len pattern bytes (malloc'd). */
static unsigned char *st_build(const char *hdr, size_t hlen, size_t data_len, size_t *out_len)
{
    unsigned char *b = (unsigned char *)malloc(8 + hlen + data_len + 1);
    size_t i;
    if (!b) return NULL;
    for (i = 0; i < 8; i++) b[i] = (unsigned char)((uint64_t)hlen >> (8 * i));
    memcpy(b + 8, hdr, hlen);
    for (i = 0; i < data_len; i++) b[8 + hlen + i] = (unsigned char)(i * 7 + 1);
    *out_len = 8 + hlen + data_len;
    return b;
}

static mcf_options st_opts(unsigned flags)
{
    mcf_options o;
    memset(&o, 0, sizeof o);
    o.format = "safetensors";
    o.flags = flags;
    return o;
}

/* Opens a built header from memory with the format forced (so the parser,
 * not the sniffer, sees every malformed input). */
static int st_open_hdr(const char *hdr, size_t data_len, unsigned flags, unsigned char **buf, mcf_reader **r)
{
    mcf_options o = st_opts(flags);
    size_t len;
    *buf = st_build(hdr, strlen(hdr), data_len, &len);
    if (!*buf) return MCF_INTERNAL_ERROR;
    return mcf_open_memory(*buf, len, &o, r);
}

/* Tensor data in mcf_tensor is in host byte order, files are little-endian:
 * on a big-endian host the tests swap the reference bytes themselves
 * (helpers in mcf_test_endian.h). */

/* The spec's tensors in input order; on big-endian hosts host-order copies
 * are allocated into copies[] (free with st_free_copies). */
static int st_spec_tensors(const st_ref_file *f, mcf_tensor *t, void **copies)
{
    size_t i;
    int d;
    for (i = 0; i < f->n_spec; i++) copies[i] = NULL;
    for (i = 0; i < f->n_spec; i++) {
        const st_spec_tensor *s = &f->spec[i];
        memset(&t[i], 0, sizeof t[i]);
        t[i].name = s->name;
        if (mcf_dtype_parse(s->dtype, &t[i].dtype) != MCF_OK) return 0;
        t[i].ndim = s->ndim;
        for (d = 0; d < s->ndim; d++) t[i].shape[d] = s->shape[d];
        t[i].data = s->data;
        if (mcf_test_big_endian() && mcf_test_swap_unit(t[i].dtype) > 1) {
            copies[i] = malloc(s->data_len + 1);
            if (!copies[i]) return 0;
            memcpy(copies[i], s->data, s->data_len);
            mcf_test_swap((unsigned char *)copies[i], s->data_len, mcf_test_swap_unit(t[i].dtype));
            t[i].data = copies[i];
        }
    }
    return 1;
}

static void st_free_copies(void **copies, size_t n)
{
    size_t i;
    for (i = 0; i < n; i++) free(copies[i]);
}

/* sha256 of host-order tensor bytes as they are stored in the file (LE). */
static int st_sha_le(const void *p, size_t n, mcf_dtype d, const char *want)
{
    unsigned char *tmp;
    int ok;
    if (!mcf_test_big_endian() || mcf_test_swap_unit(d) == 1) return test_sha256_is(p, n, want);
    tmp = (unsigned char *)malloc(n + 1);
    if (!tmp) return 0;
    memcpy(tmp, p, n);
    mcf_test_swap(tmp, n, mcf_test_swap_unit(d));
    ok = test_sha256_is(tmp, n, want);
    free(tmp);
    return ok;
}

/* Checks a reader against a manifest entry: order, names, dtypes, shapes,
 * offsets, tensor sha256, metadata; base (if not NULL) is the buffer the
 * reader was opened on, so views must point into it. */
static int st_check_reader(mcf_reader *r, const st_ref_file *f, const unsigned char *base)
{
    size_t i, nm = 0;
    int d;
    MCF_CHECK(strcmp(mcf_reader_format(r), "safetensors") == 0);
    MCF_CHECK(mcf_count(r) == f->n_tensors);
    for (i = 0; i < f->n_tensors; i++) {
        const st_ref_tensor *rt = &f->tensors[i];
        mcf_tensor e;
        uint64_t off, nb;
        const void *p;
        unsigned char *copy;
        MCF_CHECK_RC(mcf_entry(r, i, &e), MCF_OK);
        MCF_CHECK(strlen(e.name) == rt->name_len && memcmp(e.name, rt->name, rt->name_len) == 0);
        MCF_CHECK(strcmp(mcf_dtype_name(e.dtype), rt->dtype) == 0);
        MCF_CHECK(e.ndim == rt->ndim);
        for (d = 0; d < e.ndim; d++) MCF_CHECK(e.shape[d] == rt->shape[d]);
        MCF_CHECK(mcf_find(r, rt->name) == (int)i);
        MCF_CHECK_RC(mcf_entry_location(r, i, &off, &nb), MCF_OK);
        MCF_CHECK(off == 8 + f->header_len + rt->begin);
        MCF_CHECK(nb == rt->end - rt->begin);
        MCF_CHECK_RC(mcf_view(r, i, &p), MCF_OK);
        /* zero-copy unless a big-endian host must swap the elements */
        if (base && (!mcf_test_big_endian() || mcf_test_swap_unit(e.dtype) == 1)) MCF_CHECK(p == base + off);
        MCF_CHECK(st_sha_le(p, (size_t)nb, e.dtype, rt->sha256));
        copy = (unsigned char *)malloc((size_t)nb + 1);
        MCF_CHECK(copy != NULL);
        MCF_CHECK_RC(mcf_read(r, i, copy, (size_t)nb), MCF_OK);
        d = st_sha_le(copy, (size_t)nb, e.dtype, rt->sha256);
        free(copy);
        MCF_CHECK(d);
    }
    if (f->meta) {
        for (nm = 0; f->meta[2 * nm]; nm++) {
            const char *v = mcf_metadata(r, f->meta[2 * nm]);
            MCF_CHECK(v != NULL && strcmp(v, f->meta[2 * nm + 1]) == 0);
        }
    }
    MCF_CHECK(mcf_metadata_count(r) == nm);
    return 0;
}

/* ---- reference files ---------------------------------------------------- */

/* Runs check on every reference file; the first failure names its file. */
static int st_each_ref(int (*check)(const st_ref_file *f))
{
    int k;
    for (k = 0; k < ST_REF_COUNT; k++)
        if (check(&st_ref_files[k])) { fprintf(stderr, "  reference file %s\n", st_ref_files[k].file); return 1; }
    return 0;
}

/* One reference file read from memory and, with POSIX, mapped and with pread. */
static int st_ref_read(const st_ref_file *f)
{
    char path[256];
    size_t len;
    unsigned char *buf;
    mcf_reader *r;
    int bad;
    snprintf(path, sizeof path, ST_DIR "%s", f->file);
    buf = mcf_test_slurp(path, &len);
    MCF_CHECK(buf != NULL);
    MCF_CHECK(len == f->file_len);
    MCF_CHECK(f->file_sha256 == NULL || test_sha256_is(buf, len, f->file_sha256));   /* NULL: metadata order varies */
    MCF_CHECK_RC(mcf_open_memory(buf, len, NULL, &r), MCF_OK);   /* format sniffed */
    bad = st_check_reader(r, f, buf);
    mcf_close(r);
    free(buf);
    if (bad) { fprintf(stderr, "  in %s (memory)\n", f->file); return 1; }
#ifndef MCF_NO_POSIX
    {
        mcf_options o;
        memset(&o, 0, sizeof o);
        MCF_CHECK_RC(mcf_open(path, NULL, &r), MCF_OK);
        bad = st_check_reader(r, f, NULL);
        mcf_close(r);
        if (bad) { fprintf(stderr, "  in %s (file)\n", f->file); return 1; }
        o.flags = MCF_NO_MMAP;
        MCF_CHECK_RC(mcf_open(path, &o, &r), MCF_OK);
        bad = st_check_reader(r, f, NULL);
        mcf_close(r);
        if (bad) { fprintf(stderr, "  in %s (file, no mmap)\n", f->file); return 1; }
    }
#endif
    return 0;
}

static int safetensors_reference_files_read(void) { return st_each_ref(st_ref_read); }

/* Our bytes for a reference file's spec must be the reference's bytes. */
static int st_check_written(const st_ref_file *f, const unsigned char *out, size_t len)
{
    uint64_t hlen = 0;
    int i;
    MCF_CHECK(len == f->file_len);
    for (i = 0; i < 8; i++) hlen |= (uint64_t)out[i] << (8 * i);
    MCF_CHECK(hlen == f->header_len);
    MCF_CHECK(test_sha256_is(out + 8, (size_t)hlen, f->header_sha256_sorted));
    MCF_CHECK(test_sha256_is(out + 8 + hlen, len - 8 - (size_t)hlen, f->data_sha256));
    if (f->header_deterministic) {
        char path[256];
        size_t rlen;
        unsigned char *ref;
        MCF_CHECK(test_sha256_is(out, len, f->file_sha256));
        snprintf(path, sizeof path, ST_DIR "%s", f->file);
        ref = mcf_test_slurp(path, &rlen);
        MCF_CHECK(ref != NULL);
        i = rlen == len && memcmp(ref, out, len) == 0;
        free(ref);
        MCF_CHECK(i);
    }
    return 0;
}

/* One reference file written from its spec, to memory and, with POSIX, to
 * a file (format by suffix): the reference's bytes. */
static int st_ref_write(const st_ref_file *f)
{
    mcf_tensor t[32];
    void *copies[32];
    mcf_options o = st_opts(0);
    void *out = NULL;
    size_t len = 0;
    int bad, rc;
    MCF_CHECK(f->n_spec <= 32);
    bad = !st_spec_tensors(f, t, copies);
    o.metadata = f->meta;
    rc = bad ? MCF_INTERNAL_ERROR : mcf_save_to_memory(t, f->n_spec, &o, &out, &len);
    bad = rc != MCF_OK || st_check_written(f, (const unsigned char *)out, len);
    mcf_free(out);
    if (bad) { st_free_copies(copies, f->n_spec); fprintf(stderr, "  writing %s (memory): %s\n", f->file, mcf_last_error()); return 1; }
#ifndef MCF_NO_POSIX
    {
        char dir[] = "/tmp/mcf_st_XXXXXX", path[300];
        unsigned char *buf;
        MCF_CHECK(mkdtemp(dir) != NULL);
        snprintf(path, sizeof path, "%s/sub/%s", dir, f->file);
        o.format = NULL;   /* by suffix */
        rc = mcf_save(path, t, f->n_spec, &o);
        buf = rc == MCF_OK ? mcf_test_slurp(path, &len) : NULL;
        bad = !buf || st_check_written(f, buf, len);
        free(buf);
        remove(path);
        snprintf(path, sizeof path, "%s/sub", dir);
        rmdir(path);
        rmdir(dir);
        if (bad) { st_free_copies(copies, f->n_spec); fprintf(stderr, "  writing %s (file): %s\n", f->file, mcf_last_error()); return 1; }
    }
#endif
    st_free_copies(copies, f->n_spec);
    return 0;
}

static int safetensors_reference_files_write(void) { return st_each_ref(st_ref_write); }

/* ---- round trips -------------------------------------------------------- */

/* Every dtype x {0-d, [0], [3,0,2], [2,4], [1,2,2,2,1,1,1,2]} in one file,
 * written, read back and compared, in memory and on memory://. */
static int safetensors_roundtrip_every_dtype_and_shape(void)
{
    enum { NSH = 5 };
    static const int ndims[NSH] = {0, 1, 3, 2, 8};
    static const int64_t shapes[NSH][8] = {{0}, {0}, {3, 0, 2}, {2, 4}, {1, 2, 2, 2, 1, 1, 1, 2}};
    mcf_tensor t[MCF_DTYPE_COUNT * NSH];
    char names[MCF_DTYPE_COUNT * NSH][32];
    unsigned char data[64 * 8];
    size_t n = 0, i, pass;
    int dt, s, d;
    for (i = 0; i < sizeof data; i++) data[i] = (unsigned char)(i * 37 + 11);
    for (dt = 0; dt < (int)MCF_DTYPE_COUNT; dt++)
        for (s = 0; s < NSH; s++) {
            if (dt == (int)MCF_C128) continue;   /* no safetensors dtype: refused (safetensors_refuses_c128) */
            mcf_tensor *x = &t[n];
            memset(x, 0, sizeof *x);
            x->dtype = (mcf_dtype)dt;
            x->ndim = ndims[s];
            for (d = 0; d < ndims[s]; d++) x->shape[d] = shapes[s][d];
            if (mcf_dtype_bits(x->dtype) % 8 && s == 0) continue;   /* 1 sub-byte element is not whole bytes */
            snprintf(names[n], sizeof names[n], "%s/shape%d", mcf_dtype_name(x->dtype), s);
            x->name = names[n];
            x->data = data;
            n++;
        }
    for (pass = 0; pass < 2; pass++) {
        mcf_options o = st_opts(0);
        mcf_reader *r;
        void *out = NULL;
        size_t len = 0;
        if (pass == 0) {
            MCF_CHECK_RC(mcf_save_to_memory(t, n, &o, &out, &len), MCF_OK);
            MCF_CHECK_RC(mcf_open_memory(out, len, NULL, &r), MCF_OK);
        } else {
            o.format = NULL;
            MCF_CHECK_RC(mcf_save("memory://st/roundtrip.safetensors", t, n, &o), MCF_OK);
            MCF_CHECK_RC(mcf_open("memory://st/roundtrip.safetensors", NULL, &r), MCF_OK);
        }
        MCF_CHECK(mcf_count(r) == n);
        for (i = 0; i < n; i++) {
            int j = mcf_find(r, t[i].name);
            mcf_tensor e;
            const void *p;
            uint64_t nb = mcf_tensor_nbytes(&t[i]), off, enb;
            MCF_CHECK(j >= 0);
            MCF_CHECK_RC(mcf_entry(r, (size_t)j, &e), MCF_OK);
            MCF_CHECK(e.dtype == t[i].dtype && e.ndim == t[i].ndim);
            MCF_CHECK(memcmp(e.shape, t[i].shape, sizeof e.shape) == 0);
            MCF_CHECK_RC(mcf_entry_location(r, (size_t)j, &off, &enb), MCF_OK);
            MCF_CHECK(enb == nb);
            MCF_CHECK_RC(mcf_view(r, (size_t)j, &p), MCF_OK);
            MCF_CHECK(nb == 0 || memcmp(p, data, (size_t)nb) == 0);
        }
        mcf_close(r);
        mcf_free(out);
    }
    MCF_CHECK_RC(mcf_remove("memory://st/roundtrip.safetensors", NULL), MCF_OK);
    return 0;
}

/* Zero-byte tensors first, in the middle and last of the buffer. */
static int safetensors_zero_byte_tensors_any_position(void)
{
    static const uint64_t u64v[2] = {1, 2};
    static const float f32v[2] = {1.5f, -2.0f};
    mcf_tensor t[5];
    void *out = NULL;
    size_t len = 0;
    mcf_reader *r;
    const char *hdr;
    int i;
    memset(t, 0, sizeof t);
    t[0].name = "e_first"; t[0].dtype = MCF_U64; t[0].ndim = 1; t[0].shape[0] = 0;
    t[1].name = "u"; t[1].dtype = MCF_U64; t[1].ndim = 1; t[1].shape[0] = 2; t[1].data = u64v;
    t[2].name = "e_mid"; t[2].dtype = MCF_F64; t[2].ndim = 2; t[2].shape[0] = 4; t[2].shape[1] = 0;
    t[3].name = "f"; t[3].dtype = MCF_F32; t[3].ndim = 1; t[3].shape[0] = 2; t[3].data = f32v;
    t[4].name = "e_last"; t[4].dtype = MCF_BOOL; t[4].ndim = 1; t[4].shape[0] = 0;
    MCF_CHECK_RC(mcf_test_save_open(t, 5, "safetensors", &out, &len, &r), MCF_OK);
    hdr = "{\"e_first\":{\"dtype\":\"U64\",\"shape\":[0],\"data_offsets\":[0,0]},"
          "\"u\":{\"dtype\":\"U64\",\"shape\":[2],\"data_offsets\":[0,16]},"
          "\"e_mid\":{\"dtype\":\"F64\",\"shape\":[4,0],\"data_offsets\":[16,16]},"
          "\"f\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[16,24]},"
          "\"e_last\":{\"dtype\":\"BOOL\",\"shape\":[0],\"data_offsets\":[24,24]}}";
    MCF_CHECK(len == 8 + ((strlen(hdr) + 7) / 8) * 8 + 24);
    MCF_CHECK(memcmp((const char *)out + 8, hdr, strlen(hdr)) == 0);
    for (i = 0; i < 5; i++) {
        const void *p;
        MCF_CHECK_RC(mcf_view(r, (size_t)i, &p), MCF_OK);
        MCF_CHECK(p != NULL);
    }
    MCF_CHECK_RC(mcf_read(r, 0, NULL, 0), MCF_OK);
    mcf_close(r);
    mcf_free(out);
    return 0;
}

/* Non-contiguous inputs are written contiguously. */
static int safetensors_strided_input_save(void)
{
    static const float m[3][4] = {{0, 1, 2, 3}, {4, 5, 6, 7}, {8, 9, 10, 11}};
    static const int64_t tstrides[2] = {1, 4};       /* transpose: 4x3 view */
    static const int64_t everyother[1] = {2};
    static const float want_t[12] = {0, 4, 8, 1, 5, 9, 2, 6, 10, 3, 7, 11};
    static const float want_e[6] = {0, 2, 4, 6, 8, 10};
    mcf_tensor t[2];
    void *out = NULL;
    size_t len = 0;
    mcf_reader *r;
    const void *p;
    float got[12];
    memset(t, 0, sizeof t);
    t[0].name = "transposed"; t[0].dtype = MCF_F32; t[0].ndim = 2; t[0].shape[0] = 4; t[0].shape[1] = 3;
    t[0].strides = tstrides; t[0].data = m;
    t[1].name = "even"; t[1].dtype = MCF_F32; t[1].ndim = 1; t[1].shape[0] = 6; t[1].strides = everyother; t[1].data = m;
    MCF_CHECK_RC(mcf_test_save_open(t, 2, "safetensors", &out, &len, &r), MCF_OK);
    MCF_CHECK_RC(mcf_view(r, (size_t)mcf_find(r, "transposed"), &p), MCF_OK);
    MCF_CHECK(memcmp(p, want_t, sizeof want_t) == 0);
    MCF_CHECK_RC(mcf_read(r, (size_t)mcf_find(r, "even"), got, sizeof got), MCF_OK);
    MCF_CHECK(memcmp(got, want_e, sizeof want_e) == 0);
    MCF_CHECK_RC(mcf_read(r, (size_t)mcf_find(r, "even"), got, 8), MCF_BUFFER_OVERFLOW);
    mcf_close(r);
    mcf_free(out);
    return 0;
}

/* ---- malformed headers -------------------------------------------------- */

typedef struct st_bad { const char *what, *hdr; size_t data_len; int code; const char *msg; } st_bad;

#define ST_T(name, rest) "\"" name "\":{" rest "}"
static const st_bad st_bad_cases[] = {
    {"empty header", "", 0, MCF_DESERIALIZE_FAIL, "unexpected end of the header"},
    {"whitespace only", "   ", 0, MCF_DESERIALIZE_FAIL, "unexpected end of the header"},
    {"root array", "[]", 0, MCF_DESERIALIZE_FAIL, "the header is not a JSON object"},
    {"root string", "\"x\"", 0, MCF_DESERIALIZE_FAIL, "the header is not a JSON object"},
    {"root number", "12", 0, MCF_DESERIALIZE_FAIL, "the header is not a JSON object"},
    {"bytes after root", "{} x", 0, MCF_DESERIALIZE_FAIL, "unexpected bytes after the end of the JSON value"},
    {"two roots", "{}{}", 0, MCF_DESERIALIZE_FAIL, "unexpected bytes after the end"},
    {"unclosed object", "{", 0, MCF_DESERIALIZE_FAIL, "unexpected end of the header"},
    {"trailing comma in object", "{" ST_T("a", "\"dtype\":\"U8\",\"shape\":[1],\"data_offsets\":[0,1]") ",}", 1, MCF_DESERIALIZE_FAIL, "expected a string key after ','"},
    {"trailing comma in array", "{" ST_T("a", "\"dtype\":\"U8\",\"shape\":[1,],\"data_offsets\":[0,1]") "}", 1, MCF_DESERIALIZE_FAIL, "expected a value"},
    {"missing colon", "{\"a\" {}}", 0, MCF_DESERIALIZE_FAIL, "expected ':' after an object key"},
    {"missing comma", "{\"a\":1 \"b\":2}", 0, MCF_DESERIALIZE_FAIL, "expected ',' or '}' in an object"},
    {"comment", "{/* c */}", 0, MCF_DESERIALIZE_FAIL, "expected a string key or '}'"},
    {"single-quoted key", "{'a':1}", 0, MCF_DESERIALIZE_FAIL, "expected a string key or '}'"},
    {"NaN", "{\"a\":NaN}", 0, MCF_DESERIALIZE_FAIL, "expected a value"},
    {"leading zero", "{" ST_T("a", "\"dtype\":\"U8\",\"shape\":[01],\"data_offsets\":[0,1]") "}", 1, MCF_DESERIALIZE_FAIL, "number with a leading zero"},
    {"plus sign", "{" ST_T("a", "\"dtype\":\"U8\",\"shape\":[+1],\"data_offsets\":[0,1]") "}", 1, MCF_DESERIALIZE_FAIL, "expected a value"},
    {"bare dot", "{" ST_T("a", "\"dtype\":\"U8\",\"shape\":[1.],\"data_offsets\":[0,1]") "}", 1, MCF_DESERIALIZE_FAIL, "no digit after '.'"},
    {"fraction in shape", "{" ST_T("a", "\"dtype\":\"U8\",\"shape\":[2.5],\"data_offsets\":[0,2]") "}", 2, MCF_DESERIALIZE_FAIL, "shape element 0 is not an integer"},
    {"float 2.0 in shape", "{" ST_T("a", "\"dtype\":\"U8\",\"shape\":[2.0],\"data_offsets\":[0,2]") "}", 2, MCF_DESERIALIZE_FAIL, "is not an integer"},
    {"exponent in offsets", "{" ST_T("a", "\"dtype\":\"U8\",\"shape\":[1],\"data_offsets\":[0,1e0]") "}", 1, MCF_DESERIALIZE_FAIL, "data_offsets element 1 is not an integer"},
    {"negative shape", "{" ST_T("a", "\"dtype\":\"U8\",\"shape\":[-4],\"data_offsets\":[0,4]") "}", 4, MCF_DESERIALIZE_FAIL, "shape element 0 is negative"},
    {"u64 overflow", "{" ST_T("a", "\"dtype\":\"U8\",\"shape\":[18446744073709551616],\"data_offsets\":[0,1]") "}", 1, MCF_DESERIALIZE_FAIL, "does not fit in 64 bits"},
    {"string in shape", "{" ST_T("a", "\"dtype\":\"U8\",\"shape\":[\"1\"],\"data_offsets\":[0,1]") "}", 1, MCF_DESERIALIZE_FAIL, "shape element 0 is not a number"},
    {"invalid UTF-8", "{\"a\xff\":1}", 0, MCF_DESERIALIZE_FAIL, "invalid UTF-8 in a string"},
    {"overlong UTF-8", "{\"\xc0\x80\":1}", 0, MCF_DESERIALIZE_FAIL, "invalid UTF-8 in a string"},
    {"UTF-8 surrogate", "{\"\xed\xa0\x80\":1}", 0, MCF_DESERIALIZE_FAIL, "invalid UTF-8 in a string"},
    {"beyond U+10FFFF", "{\"\xf4\x90\x80\x80\":1}", 0, MCF_DESERIALIZE_FAIL, "invalid UTF-8 in a string"},
    {"truncated UTF-8", "{\"\xe2\x82\":1}", 0, MCF_DESERIALIZE_FAIL, "invalid UTF-8 in a string"},
    {"lone high surrogate", "{\"\\ud800\":1}", 0, MCF_DESERIALIZE_FAIL, "lone high surrogate"},
    {"high + non-low surrogate", "{\"\\ud800\\u0041\":1}", 0, MCF_DESERIALIZE_FAIL, "lone high surrogate"},
    {"lone low surrogate", "{\"\\udc00\":1}", 0, MCF_DESERIALIZE_FAIL, "lone low surrogate"},
    {"short \\u escape", "{\"\\u12\":1}", 0, MCF_DESERIALIZE_FAIL, "\\u needs four hex digits"},
    {"bad escape", "{\"\\x41\":1}", 0, MCF_DESERIALIZE_FAIL, "invalid escape in a string"},
    {"raw control char", "{\"a\tb\":1}", 0, MCF_DESERIALIZE_FAIL, "unescaped control character"},
    {"unterminated string", "{\"abc", 0, MCF_DESERIALIZE_FAIL, "unterminated string"},
    {"bad literal", "{\"a\":tru}", 0, MCF_DESERIALIZE_FAIL, "expected a value"},
    {"duplicate tensor", "{" ST_T("a", "\"dtype\":\"U8\",\"shape\":[1],\"data_offsets\":[0,1]") ","
                          ST_T("a", "\"dtype\":\"U8\",\"shape\":[1],\"data_offsets\":[1,2]") "}", 2, MCF_DESERIALIZE_FAIL, "duplicate tensor name \"a\""},
    {"duplicate via escape", "{" ST_T("a", "\"dtype\":\"U8\",\"shape\":[1],\"data_offsets\":[0,1]") ","
                          ST_T("\\u0061", "\"dtype\":\"U8\",\"shape\":[1],\"data_offsets\":[1,2]") "}", 2, MCF_DESERIALIZE_FAIL, "duplicate tensor name \"a\""},
    {"duplicate metadata key", "{\"__metadata__\":{\"k\":\"1\",\"k\":\"2\"}}", 0, MCF_DESERIALIZE_FAIL, "duplicate __metadata__ key \"k\""},
    {"repeated __metadata__", "{\"__metadata__\":{},\"__metadata__\":{}}", 0, MCF_DESERIALIZE_FAIL, "repeated __metadata__ key"},
    {"__metadata__ null", "{\"__metadata__\":null}", 0, MCF_DESERIALIZE_FAIL, "__metadata__ is null"},
    {"__metadata__ array", "{\"__metadata__\":[\"a\"]}", 0, MCF_DESERIALIZE_FAIL, "__metadata__ is another JSON type"},
    {"__metadata__ number value", "{\"__metadata__\":{\"k\":1}}", 0, MCF_DESERIALIZE_FAIL, "__metadata__ value of \"k\" is not a string"},
    {"__metadata__ nested value", "{\"__metadata__\":{\"k\":{}}}", 0, MCF_DESERIALIZE_FAIL, "__metadata__ value of \"k\" is not a string"},
    {"entry not an object", "{\"a\":[0,1]}", 0, MCF_DESERIALIZE_FAIL, "tensor \"a\": entry is not a JSON object"},
    {"entry null", "{\"a\":null}", 0, MCF_DESERIALIZE_FAIL, "tensor \"a\": entry is not a JSON object"},
    {"dtype not a string", "{" ST_T("a", "\"dtype\":8,\"shape\":[1],\"data_offsets\":[0,1]") "}", 1, MCF_DESERIALIZE_FAIL, "tensor \"a\": dtype is not a string"},
    {"unknown dtype", "{" ST_T("a", "\"dtype\":\"F128\",\"shape\":[1],\"data_offsets\":[0,16]") "}", 16, MCF_DESERIALIZE_FAIL, "unknown dtype \"F128\""},
    {"lower-case dtype", "{" ST_T("a", "\"dtype\":\"f32\",\"shape\":[1],\"data_offsets\":[0,4]") "}", 4, MCF_DESERIALIZE_FAIL, "unknown dtype \"f32\""},
    {"newer upstream dtype", "{" ST_T("a", "\"dtype\":\"F8_E5M2FNUZ\",\"shape\":[1],\"data_offsets\":[0,1]") "}", 1, MCF_NOT_SUPPORTED, "dtype F8_E5M2FNUZ is not supported"},
    {"missing dtype", "{" ST_T("a", "\"shape\":[1],\"data_offsets\":[0,1]") "}", 1, MCF_DESERIALIZE_FAIL, "missing field \"dtype\""},
    {"missing shape", "{" ST_T("a", "\"dtype\":\"U8\",\"data_offsets\":[0,1]") "}", 1, MCF_DESERIALIZE_FAIL, "missing field \"shape\""},
    {"missing offsets", "{" ST_T("a", "\"dtype\":\"U8\",\"shape\":[1]") "}", 1, MCF_DESERIALIZE_FAIL, "missing field \"data_offsets\""},
    {"repeated dtype", "{" ST_T("a", "\"dtype\":\"U8\",\"dtype\":\"I8\",\"shape\":[1],\"data_offsets\":[0,1]") "}", 1, MCF_DESERIALIZE_FAIL, "repeated field \"dtype\""},
    {"repeated shape", "{" ST_T("a", "\"dtype\":\"U8\",\"shape\":[1],\"shape\":[1],\"data_offsets\":[0,1]") "}", 1, MCF_DESERIALIZE_FAIL, "repeated field \"shape\""},
    {"shape not an array", "{" ST_T("a", "\"dtype\":\"U8\",\"shape\":1,\"data_offsets\":[0,1]") "}", 1, MCF_DESERIALIZE_FAIL, "shape is not an array"},
    {"three offsets", "{" ST_T("a", "\"dtype\":\"U8\",\"shape\":[1],\"data_offsets\":[0,1,2]") "}", 1, MCF_DESERIALIZE_FAIL, "data_offsets must have exactly 2 elements"},
    {"one offset", "{" ST_T("a", "\"dtype\":\"U8\",\"shape\":[1],\"data_offsets\":[1]") "}", 1, MCF_DESERIALIZE_FAIL, "data_offsets must have exactly 2 elements"},
    {"nine dims", "{" ST_T("a", "\"dtype\":\"U8\",\"shape\":[1,1,1,1,1,1,1,1,1],\"data_offsets\":[0,1]") "}", 1, MCF_NOT_SUPPORTED, "more than MCF_MAX_DIMS (8) dimensions"},
    {"NUL in a name", "{" ST_T("a\\u0000b", "\"dtype\":\"U8\",\"shape\":[1],\"data_offsets\":[0,1]") "}", 1, MCF_NOT_SUPPORTED, "contains U+0000"},
    {"NUL in metadata", "{\"__metadata__\":{\"k\":\"v\\u0000\"}}", 0, MCF_NOT_SUPPORTED, "contains U+0000"},
    {"end before begin", "{" ST_T("a", "\"dtype\":\"U8\",\"shape\":[0],\"data_offsets\":[0,0]") ","
                          ST_T("b", "\"dtype\":\"U8\",\"shape\":[1],\"data_offsets\":[1,0]") "}", 1, MCF_DESERIALIZE_FAIL, "tensor \"b\": data_offsets [1,0) end before they begin"},
    {"gap at start", "{" ST_T("a", "\"dtype\":\"U8\",\"shape\":[1],\"data_offsets\":[4,5]") "}", 5, MCF_DESERIALIZE_FAIL, "leave a gap after the previous tensor (expected to begin at 0)"},
    {"gap between", "{" ST_T("a", "\"dtype\":\"U8\",\"shape\":[1],\"data_offsets\":[0,1]") ","
                     ST_T("b", "\"dtype\":\"U8\",\"shape\":[1],\"data_offsets\":[2,3]") "}", 3, MCF_DESERIALIZE_FAIL, "tensor \"b\": data_offsets [2,3) leave a gap"},
    {"overlap", "{" ST_T("a", "\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]") ","
                 ST_T("b", "\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[4,12]") "}", 12, MCF_DESERIALIZE_FAIL, "tensor \"b\": data_offsets [4,12) overlap the previous tensor"},
    {"same range twice", "{" ST_T("a", "\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]") ","
                 ST_T("b", "\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]") "}", 8, MCF_DESERIALIZE_FAIL, "overlap the previous tensor"},
    {"span mismatch", "{" ST_T("w", "\"dtype\":\"F32\",\"shape\":[2,2],\"data_offsets\":[0,12]") "}", 12, MCF_DESERIALIZE_FAIL,
     "tensor \"w\" data_offsets [0,12) do not match dtype F32 shape [2,2] (16 bytes)"},
    {"shape overflow", "{" ST_T("a", "\"dtype\":\"U8\",\"shape\":[4294967296,4294967296,2],\"data_offsets\":[0,1]") "}", 1, MCF_DESERIALIZE_FAIL, "shape overflows 64 bits"},
    {"bits overflow", "{" ST_T("a", "\"dtype\":\"U64\",\"shape\":[4611686018427387904],\"data_offsets\":[0,1]") "}", 1, MCF_DESERIALIZE_FAIL, "size in bits overflows 64 bits"},
    {"F4 odd count", "{" ST_T("a", "\"dtype\":\"F4\",\"shape\":[3],\"data_offsets\":[0,2]") "}", 2, MCF_DESERIALIZE_FAIL, "3 elements of F4 are not a whole number of bytes"},
    {"F6 two elements", "{" ST_T("a", "\"dtype\":\"F6_E2M3\",\"shape\":[2],\"data_offsets\":[0,2]") "}", 2, MCF_DESERIALIZE_FAIL, "2 elements of F6_E2M3 are not a whole number of bytes"},
    {"data past end of file", "{" ST_T("a", "\"dtype\":\"F32\",\"shape\":[4],\"data_offsets\":[0,16]") "}", 12, MCF_DESERIALIZE_FAIL, "past the end of the file"},
    {"trailing bytes", "{" ST_T("a", "\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]") "}", 8, MCF_DESERIALIZE_FAIL, "4 trailing bytes after the last tensor"},
    {"trailing bytes, no tensors", "{}", 3, MCF_DESERIALIZE_FAIL, "3 trailing bytes"},
    {"deep nesting", "{\"a\":[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]}",
     0, MCF_DESERIALIZE_FAIL, "nesting deeper than MCF_MAX_JSON_DEPTH"},
    {"dimension above INT64_MAX", "{" ST_T("a", "\"dtype\":\"U8\",\"shape\":[0,9223372036854775808],\"data_offsets\":[0,0]") "}", 0, MCF_NOT_SUPPORTED, "exceeds INT64_MAX"}
};

static int safetensors_malformed_headers(void)
{
    size_t i;
    int bad = 0;
    for (i = 0; i < sizeof st_bad_cases / sizeof st_bad_cases[0]; i++) {
        const st_bad *c = &st_bad_cases[i];
        unsigned char *buf;
        mcf_reader *r = (mcf_reader *)&bad;   /* must come back NULL */
        int rc = st_open_hdr(c->hdr, c->data_len, 0, &buf, &r);
        if (rc != c->code || r != NULL || !strstr(mcf_last_error(), c->msg) || !strstr(mcf_last_error(), "safetensors: <memory>")) {
            fprintf(stderr, "  case \"%s\": got %s \"%s\", want %s \"%s\"\n", c->what, mcf_result_name(rc), mcf_last_error(),
                    mcf_result_name(c->code), c->msg);
            bad = 1;
        }
        if (rc == MCF_OK) mcf_close(r);
        free(buf);
    }
    MCF_CHECK(sizeof st_bad_cases / sizeof st_bad_cases[0] >= 30);
    return bad;
}

/* The length field: short file, over the 100 MB cap, past the end. */
static int safetensors_bad_length_field(void)
{
    mcf_options o = st_opts(0);
    unsigned char b[16];
    mcf_reader *r;
    memset(b, 0, sizeof b);
    MCF_CHECK_RC(mcf_open_memory(b, 7, &o, &r), MCF_DESERIALIZE_FAIL);
    MCF_CHECK_ERR("file of 7 bytes is too short for the 8-byte header length");
    MCF_CHECK(r == NULL);
    b[0] = 0x01; b[1] = 0xe1; b[2] = 0xf5; b[3] = 0x05;      /* 100,000,001 */
    MCF_CHECK_RC(mcf_open_memory(b, sizeof b, &o, &r), MCF_DESERIALIZE_FAIL);
    MCF_CHECK_ERR("header length 100000001 exceeds the limit of 100000000 bytes");
    memset(b, 0xff, 8);                                    /* 2^64-1: no overflow in the check */
    MCF_CHECK_RC(mcf_open_memory(b, sizeof b, &o, &r), MCF_DESERIALIZE_FAIL);
    MCF_CHECK_ERR("exceeds the limit");
    memset(b, 0, sizeof b);
    b[0] = 9;                                              /* 9 > 16 - 8 */
    MCF_CHECK_RC(mcf_open_memory(b, sizeof b, &o, &r), MCF_DESERIALIZE_FAIL);
    MCF_CHECK_ERR("header length 9 runs past the end of the file (16 bytes)");
    return 0;
}

/* ---- known failures of other readers ------------------------------------- */

/* Validation is part of open, not an optional call: overlapping tensors
 * never produce a reader. */
static int safetensors_overlap_rejected_at_open(void)
{
    unsigned char *buf;
    mcf_reader *r;
    MCF_CHECK_RC(st_open_hdr("{\"a\":{\"dtype\":\"U8\",\"shape\":[4],\"data_offsets\":[0,4]},"
                             "\"b\":{\"dtype\":\"U8\",\"shape\":[4],\"data_offsets\":[2,6]}}", 6, 0, &buf, &r), MCF_DESERIALIZE_FAIL);
    MCF_CHECK_ERR("tensor \"b\": data_offsets [2,6) overlap the previous tensor");
    MCF_CHECK(r == NULL);
    free(buf);
    return 0;
}

/* HF writes empty tensors as shape [0] with offsets [s,s], several sharing s. */
static int safetensors_hf_empty_tensors_accepted(void)
{
    const char *hdr = "{\"x\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]},"
                      "\"e1\":{\"dtype\":\"F32\",\"shape\":[0],\"data_offsets\":[4,4]},"
                      "\"e2\":{\"dtype\":\"I64\",\"shape\":[2,0,3],\"data_offsets\":[4,4]},"
                      "\"y\":{\"dtype\":\"U8\",\"shape\":[2],\"data_offsets\":[4,6]},"
                      "\"e3\":{\"dtype\":\"BOOL\",\"shape\":[0],\"data_offsets\":[6,6]}}";
    unsigned char *buf;
    mcf_reader *r;
    mcf_tensor e;
    const void *p;
    uint64_t off, nb;
    MCF_CHECK_RC(st_open_hdr(hdr, 6, 0, &buf, &r), MCF_OK);
    MCF_CHECK(mcf_count(r) == 5);
    MCF_CHECK_RC(mcf_entry(r, 2, &e), MCF_OK);
    MCF_CHECK(strcmp(e.name, "e2") == 0 && e.ndim == 3 && e.shape[1] == 0 && e.dtype == MCF_I64);
    MCF_CHECK_RC(mcf_entry_location(r, 2, &off, &nb), MCF_OK);
    MCF_CHECK(off == 8 + strlen(hdr) + 4 && nb == 0);
    MCF_CHECK_RC(mcf_view(r, 1, &p), MCF_OK);
    MCF_CHECK_RC(mcf_view(r, 3, &p), MCF_OK);
    MCF_CHECK(p == buf + 8 + strlen(hdr) + 4);   /* y starts at buffer byte 4 */
    mcf_close(r);
    free(buf);
    return 0;
}

static int safetensors_non_object_root_rejected(void)
{
    static const char *const roots[] = {"[]", "[{\"a\":1}]", "\"{}\"", "null", "true", "0"};
    size_t i;
    for (i = 0; i < sizeof roots / sizeof roots[0]; i++) {
        unsigned char *buf;
        mcf_reader *r;
        MCF_CHECK_RC(st_open_hdr(roots[i], 0, 0, &buf, &r), MCF_DESERIALIZE_FAIL);
        MCF_CHECK_ERR("the header is not a JSON object");
        free(buf);
    }
    return 0;
}

/* Numbers are exact integers: 2.5 and -4 are refused, not rounded or
 * wrapped; 2^63-1 survives (a double would make it 2^63). */
static int safetensors_numbers_exact(void)
{
    unsigned char *buf;
    mcf_reader *r;
    mcf_tensor e;
    MCF_CHECK_RC(st_open_hdr("{\"a\":{\"dtype\":\"U8\",\"shape\":[2.5],\"data_offsets\":[0,2]}}", 2, 0, &buf, &r), MCF_DESERIALIZE_FAIL);
    MCF_CHECK_ERR("tensor \"a\": shape element 0 is not an integer");
    free(buf);
    MCF_CHECK_RC(st_open_hdr("{\"a\":{\"dtype\":\"U8\",\"shape\":[-4],\"data_offsets\":[0,4]}}", 4, 0, &buf, &r), MCF_DESERIALIZE_FAIL);
    MCF_CHECK_ERR("tensor \"a\": shape element 0 is negative");
    free(buf);
    MCF_CHECK_RC(st_open_hdr("{\"a\":{\"dtype\":\"U8\",\"shape\":[2],\"data_offsets\":[-0,2]}}", 2, 0, &buf, &r), MCF_DESERIALIZE_FAIL);
    MCF_CHECK_ERR("data_offsets element 0 is negative");
    free(buf);
    MCF_CHECK_RC(st_open_hdr("{\"a\":{\"dtype\":\"U8\",\"shape\":[0,9223372036854775807],\"data_offsets\":[0,0]}}", 0, 0, &buf, &r), MCF_OK);
    MCF_CHECK_RC(mcf_entry(r, 0, &e), MCF_OK);
    MCF_CHECK(e.shape[1] == INT64_MAX);
    mcf_close(r);
    free(buf);
    return 0;
}

/* 100,000 nested '[' must fail cleanly (no recursion, no stack overflow),
 * inside a tensor entry's unknown field too. */
static int safetensors_deep_nesting_no_stack_overflow(void)
{
    size_t n = 100000, i, k;
    char *h = (char *)malloc(2 * n + 64);
    unsigned char *buf;
    mcf_reader *r;
    MCF_CHECK(h != NULL);
    k = (size_t)sprintf(h, "{\"a\":{\"dtype\":\"U8\",\"x\":");
    for (i = 0; i < n; i++) h[k++] = '[';
    for (i = 0; i < n; i++) h[k++] = ']';
    strcpy(h + k, "}}");
    MCF_CHECK_RC(st_open_hdr(h, 0, 0, &buf, &r), MCF_DESERIALIZE_FAIL);
    MCF_CHECK_ERR("nesting deeper than MCF_MAX_JSON_DEPTH");
    free(buf);
    for (i = 0; i < n; i++) h[i] = '[';
    h[n] = '\0';                                      /* unterminated too */
    MCF_CHECK_RC(st_open_hdr(h, 0, 0, &buf, &r), MCF_DESERIALIZE_FAIL);
    MCF_CHECK_ERR("nesting deeper");
    free(buf);
    free(h);
    return 0;
}

/* Names and metadata are JSON-escaped by the writer (serde_json forms) and
 * come back byte-exact. */
static int safetensors_writer_escapes_names_and_metadata(void)
{
    static const unsigned char v[1] = {7};
    static const char *const meta[] = {"k\"\\", "v\n\r\t\b\f\001\037\177/\xc3\xa9", NULL};
    const char *name = "q\"b\\s/\x01\x1f\x7f\xe4\xb8\xad";
    const char *want = "{\"__metadata__\":{\"k\\\"\\\\\":\"v\\n\\r\\t\\b\\f\\u0001\\u001f\177/\xc3\xa9\"},"
                       "\"q\\\"b\\\\s/\\u0001\\u001f\177\xe4\xb8\xad\":{\"dtype\":\"U8\",\"shape\":[1],\"data_offsets\":[0,1]}}";
    mcf_tensor t;
    mcf_options o = st_opts(0);
    void *out = NULL;
    size_t len = 0;
    mcf_reader *r;
    mcf_tensor e;
    memset(&t, 0, sizeof t);
    t.name = name; t.dtype = MCF_U8; t.ndim = 1; t.shape[0] = 1; t.data = v;
    o.metadata = meta;
    MCF_CHECK_RC(mcf_save_to_memory(&t, 1, &o, &out, &len), MCF_OK);
    MCF_CHECK(len >= 8 + strlen(want) && memcmp((char *)out + 8, want, strlen(want)) == 0);
    MCF_CHECK_RC(mcf_open_memory(out, len, NULL, &r), MCF_OK);
    MCF_CHECK_RC(mcf_entry(r, 0, &e), MCF_OK);
    MCF_CHECK(strcmp(e.name, name) == 0);
    MCF_CHECK(mcf_metadata(r, meta[0]) && strcmp(mcf_metadata(r, meta[0]), meta[1]) == 0);
    mcf_close(r);
    mcf_free(out);
    return 0;
}

/* A file with metadata and no tensors is valid JSON (no dangling comma). */
static int safetensors_metadata_without_tensors(void)
{
    static const char *const meta[] = {"b", "2", "a", "1", NULL};
    static const char *const none[] = {NULL};
    mcf_options o = st_opts(0);
    void *out = NULL;
    size_t len = 0;
    mcf_reader *r;
    o.metadata = meta;
    MCF_CHECK_RC(mcf_save_to_memory(NULL, 0, &o, &out, &len), MCF_OK);
    MCF_CHECK(len == 8 + 40 && memcmp((char *)out + 8, "{\"__metadata__\":{\"a\":\"1\",\"b\":\"2\"}}      ", 40) == 0);
    MCF_CHECK_RC(mcf_open_memory(out, len, NULL, &r), MCF_OK);
    MCF_CHECK(mcf_count(r) == 0 && mcf_metadata_count(r) == 2);
    MCF_CHECK(strcmp(mcf_metadata(r, "a"), "1") == 0 && strcmp(mcf_metadata(r, "b"), "2") == 0);
    mcf_close(r);
    mcf_free(out);
    o.metadata = none;                                    /* empty list: {} */
    MCF_CHECK_RC(mcf_save_to_memory(NULL, 0, &o, &out, &len), MCF_OK);
    MCF_CHECK(len == 8 + 24 && memcmp((char *)out + 8, "{\"__metadata__\":{}}     ", 24) == 0);
    mcf_free(out);
    o.metadata = NULL;                                    /* absent: no key */
    MCF_CHECK_RC(mcf_save_to_memory(NULL, 0, &o, &out, &len), MCF_OK);
    MCF_CHECK(len == 16 && memcmp((char *)out + 8, "{}      ", 8) == 0);
    mcf_free(out);
    return 0;
}

/* 10,000-byte names and 200,000-byte metadata come back whole. */
static int safetensors_long_names_not_truncated(void)
{
    size_t nlen = 10000, vlen = 200000, i;
    char *name = (char *)malloc(nlen + 1), *val = (char *)malloc(vlen + 1);
    const char *meta[3];
    static const uint16_t v[2] = {1, 2};
    mcf_tensor t, e;
    mcf_options o = st_opts(0);
    void *out = NULL;
    size_t len = 0;
    mcf_reader *r;
    MCF_CHECK(name && val);
    for (i = 0; i < nlen; i++) name[i] = (char)('a' + i % 26);
    for (i = 0; i < vlen; i++) val[i] = (char)('A' + i % 23);
    name[nlen] = val[vlen] = '\0';
    meta[0] = name; meta[1] = val; meta[2] = NULL;
    memset(&t, 0, sizeof t);
    t.name = name; t.dtype = MCF_U16; t.ndim = 1; t.shape[0] = 2; t.data = v;
    o.metadata = meta;
    MCF_CHECK_RC(mcf_save_to_memory(&t, 1, &o, &out, &len), MCF_OK);
    MCF_CHECK_RC(mcf_open_memory(out, len, NULL, &r), MCF_OK);
    MCF_CHECK_RC(mcf_entry(r, 0, &e), MCF_OK);
    MCF_CHECK(strlen(e.name) == nlen && strcmp(e.name, name) == 0);
    MCF_CHECK(mcf_find(r, name) == 0);
    MCF_CHECK(mcf_metadata(r, name) != NULL && strcmp(mcf_metadata(r, name), val) == 0);
    mcf_close(r);
    mcf_free(out);
    free(name);
    free(val);
    return 0;
}

#ifndef MCF_NO_POSIX
static int st_dir_entries(const char *dir)
{
    DIR *d = opendir(dir);
    struct dirent *de;
    int n = 0;
    if (!d) return -1;
    while ((de = readdir(d)) != NULL)
        if (strcmp(de->d_name, ".") != 0 && strcmp(de->d_name, "..") != 0) n++;
    closedir(d);
    return n;
}

/* A refused save leaves the existing destination as it was (and no temp file). */
static int safetensors_failed_save_keeps_old_file(void)
{
    static const float good[2] = {1, 2};
    static const char *const dupmeta[] = {"k", "1", "k", "2", NULL};
    char dir[] = "/tmp/mcf_st_XXXXXX", path[300];
    mcf_tensor t[2];
    mcf_options o;
    unsigned char *before, *after;
    size_t blen, alen;
    memset(&o, 0, sizeof o);
    memset(t, 0, sizeof t);
    MCF_CHECK(mkdtemp(dir) != NULL);
    snprintf(path, sizeof path, "%s/model.safetensors", dir);
    t[0].name = "w"; t[0].dtype = MCF_F32; t[0].ndim = 1; t[0].shape[0] = 2; t[0].data = good;
    MCF_CHECK_RC(mcf_save(path, t, 1, NULL), MCF_OK);
    before = mcf_test_slurp(path, &blen);
    MCF_CHECK(before != NULL);
    /* bad tensor: 3 F4 elements are 12 bits */
    t[1].name = "f4"; t[1].dtype = MCF_F4; t[1].ndim = 1; t[1].shape[0] = 3; t[1].data = good;
    MCF_CHECK_RC(mcf_save(path, t, 2, NULL), MCF_SERIALIZE_UNSUPPORTED);
    MCF_CHECK_ERR("tensor \"f4\": 3 elements of F4 are not a whole number of bytes");
    /* bad metadata */
    o.metadata = dupmeta;
    MCF_CHECK_RC(mcf_save(path, t, 1, &o), MCF_INVALID_PARAMS);
    MCF_CHECK_ERR("duplicate metadata key \"k\"");
    /* bad tensor in the dispatcher's checks */
    t[1].dtype = MCF_F32; t[1].name = "w";
    MCF_CHECK_RC(mcf_save(path, t, 2, NULL), MCF_INVALID_PARAMS);
    MCF_CHECK_ERR("duplicate tensor name \"w\"");
    after = mcf_test_slurp(path, &alen);
    MCF_CHECK(after != NULL && alen == blen && memcmp(before, after, blen) == 0);
    MCF_CHECK(st_dir_entries(dir) == 1);
    free(before);
    free(after);
    remove(path);
    rmdir(dir);
    return 0;
}

/* mcf_view of a local file points into one mapping: zero-copy, offsets
 * preserved; with MCF_NO_MMAP it is a copy with the same bytes. (On a
 * big-endian host only 1-byte dtypes can be zero-copy; the rest are swapped.) */
static int safetensors_view_zero_copy_file(void)
{
    const st_ref_file *f = &st_ref_files[0];
    char path[512], cwd[200];
    mcf_reader *r, *r2;
    mcf_options o;
    mcf_tensor e;
    const void *p0 = NULL, *pi, *again, *q;
    uint64_t off0 = 0, offi;
    size_t i, checked = 0;
    MCF_CHECK(getcwd(cwd, sizeof cwd) != NULL && cwd[0] == '/');
    snprintf(path, sizeof path, "file://%s/" ST_DIR "%s", cwd, f->file);
    MCF_CHECK_RC(mcf_open(path, NULL, &r), MCF_OK);
    memset(&o, 0, sizeof o);
    o.flags = MCF_NO_MMAP;
    MCF_CHECK_RC(mcf_open(path, &o, &r2), MCF_OK);
    for (i = 0; i < mcf_count(r); i++) {
        MCF_CHECK_RC(mcf_entry(r, i, &e), MCF_OK);
        MCF_CHECK_RC(mcf_view(r, i, &pi), MCF_OK);
        MCF_CHECK_RC(mcf_entry_location(r, i, &offi, NULL), MCF_OK);
        MCF_CHECK_RC(mcf_view(r, i, &again), MCF_OK);
        MCF_CHECK(again == pi);
        MCF_CHECK_RC(mcf_view(r2, i, &q), MCF_OK);
        MCF_CHECK(memcmp(q, pi, (size_t)(f->tensors[i].end - f->tensors[i].begin)) == 0);
        if (mcf_test_big_endian() && mcf_test_swap_unit(e.dtype) > 1) continue;
        if (!p0) {
            p0 = pi;
            off0 = offi;
            /* the byte at file offset 8 is the header's '{': p0 maps the whole file */
            MCF_CHECK(((const unsigned char *)p0)[8 - (long)off0] == '{');
        }
        MCF_CHECK((const unsigned char *)pi - (const unsigned char *)p0 == (long)offi - (long)off0);
        checked++;
    }
    MCF_CHECK(checked >= 4);
    mcf_close(r);
    mcf_close(r2);
    return 0;
}

/* A 4 GiB + 16 byte sparse file: offsets past 2^32 are exact, opening reads
 * only the header, and a read at offset > 4 GiB returns the right bytes. */
static int safetensors_sparse_4gib_file(void)
{
    char dir[] = "/tmp/mcf_st_XXXXXX", path[300];
    const char *hdr = "{\"big\":{\"dtype\":\"U8\",\"shape\":[4294967296],\"data_offsets\":[0,4294967296]},"
                      "\"tail\":{\"dtype\":\"U8\",\"shape\":[16],\"data_offsets\":[4294967296,4294967312]}}";
    size_t hlen = strlen(hdr), len, pass;
    unsigned char *b = st_build(hdr, hlen, 0, &len);
    uint64_t total = 8 + (uint64_t)hlen + 4294967312ull, off, nb;
    int fd, ok;
    unsigned char tail[16], got[16];
    MCF_CHECK(b != NULL);
    if (sizeof(off_t) < 8) { free(b); MCF_SKIP("off_t is %u bytes on this host", (unsigned)sizeof(off_t)); }
    MCF_CHECK(mkdtemp(dir) != NULL);
    snprintf(path, sizeof path, "%s/big.safetensors", dir);
    fd = open(path, O_RDWR | O_CREAT | O_TRUNC, 0644);
    MCF_CHECK(fd >= 0);
    for (len = 0; len < 16; len++) tail[len] = (unsigned char)(0xA0 + len);
    ok = write(fd, b, 8 + hlen) == (ssize_t)(8 + hlen) && ftruncate(fd, (off_t)total) == 0 &&
         pwrite(fd, tail, 16, (off_t)(total - 16)) == 16;
    close(fd);
    free(b);
    if (!ok) { remove(path); rmdir(dir); MCF_SKIP("the file system refused a %llu-byte sparse file", (unsigned long long)total); }
    for (pass = 0; pass < 2; pass++) {
        mcf_options o;
        mcf_reader *r;
        mcf_tensor e;
        const void *p;
        memset(&o, 0, sizeof o);
        o.flags = pass ? MCF_NO_MMAP : 0;
        MCF_CHECK_RC(mcf_open(path, &o, &r), MCF_OK);
        MCF_CHECK(mcf_count(r) == 2);
        MCF_CHECK_RC(mcf_entry(r, 0, &e), MCF_OK);
        MCF_CHECK(e.shape[0] == 4294967296ll);
        MCF_CHECK_RC(mcf_entry_location(r, 1, &off, &nb), MCF_OK);
        MCF_CHECK(off == 8 + hlen + 4294967296ull && nb == 16);
        MCF_CHECK_RC(mcf_read(r, 1, got, sizeof got), MCF_OK);
        MCF_CHECK(memcmp(got, tail, 16) == 0);
        MCF_CHECK_RC(mcf_view(r, 1, &p), MCF_OK);
        MCF_CHECK(memcmp(p, tail, 16) == 0);
        mcf_close(r);
    }
    remove(path);
    rmdir(dir);
    return 0;
}
#endif

/* A counting filesystem over one buffer: proves mcf_open reads the header
 * only and that a tensor read fetches just that tensor (as HTTP Range will). */
typedef struct st_cnt { const unsigned char *data; uint64_t size, bytes, max_end; int reads; } st_cnt;
static st_cnt st_counter;

static int st_cnt_stat(void *user, const mcf_url *u, const mcf_options *o, uint64_t *size)
{
    (void)user; (void)u; (void)o;
    *size = st_counter.size;
    return MCF_OK;
}
static int st_cnt_open(void *user, const mcf_url *u, const mcf_options *o, void **file, uint64_t *size)
{
    (void)user; (void)u; (void)o;
    *file = &st_counter;
    *size = st_counter.size;
    return MCF_OK;
}
static int st_cnt_read(void *file, uint64_t off, void *dst, size_t n)
{
    st_cnt *c = (st_cnt *)file;
    if (off + n > c->size) return mcf_set_error(MCF_FILE_READ_FAIL, "cnt: read past the end");
    memcpy(dst, c->data + off, n);
    c->bytes += n;
    c->reads++;
    if (off + n > c->max_end) c->max_end = off + n;
    return MCF_OK;
}
static void st_cnt_close(void *file) { (void)file; }

static int safetensors_open_reads_only_header(void)
{
    static const float x[4] = {1, 2, 3, 4};
    mcf_filesystem fs;
    mcf_tensor t[2];
    mcf_options o = st_opts(0);
    void *out = NULL;
    size_t len = 0, i;
    unsigned char *big = (unsigned char *)calloc(1, 1 << 20);
    mcf_reader *r;
    uint64_t hlen = 0, off;
    float got[4];
    MCF_CHECK(big != NULL);
    memset(t, 0, sizeof t);
    t[0].name = "big"; t[0].dtype = MCF_U8; t[0].ndim = 1; t[0].shape[0] = 1 << 20; t[0].data = big;
    t[1].name = "x"; t[1].dtype = MCF_F32; t[1].ndim = 1; t[1].shape[0] = 4; t[1].data = x;
    MCF_CHECK_RC(mcf_save_to_memory(t, 2, &o, &out, &len), MCF_OK);
    free(big);
    for (i = 0; i < 8; i++) hlen |= (uint64_t)((unsigned char *)out)[i] << (8 * i);
    memset(&fs, 0, sizeof fs);
    fs.scheme = "stcount";
    fs.stat = st_cnt_stat; fs.open_read = st_cnt_open; fs.read_at = st_cnt_read; fs.close_read = st_cnt_close;
    MCF_CHECK_RC(mcf_register_filesystem(&fs), MCF_OK);
    memset(&st_counter, 0, sizeof st_counter);
    st_counter.data = (const unsigned char *)out;
    st_counter.size = len;
    MCF_CHECK_RC(mcf_open("stcount://bucket/m.safetensors", NULL, &r), MCF_OK);
    MCF_CHECK(st_counter.max_end <= 8 + hlen);             /* nothing past the header */
    MCF_CHECK(st_counter.bytes <= 24 + 8 + hlen);          /* sniff + length + header */
    MCF_CHECK(mcf_find(r, "x") == 0);                      /* F32 sorts before U8 */
    MCF_CHECK_RC(mcf_entry_location(r, 0, &off, NULL), MCF_OK);
    MCF_CHECK(off == 8 + hlen);
    st_counter.bytes = 0;
    MCF_CHECK_RC(mcf_read(r, 0, got, sizeof got), MCF_OK);
    MCF_CHECK(st_counter.bytes == 16 && memcmp(got, x, 16) == 0);
    mcf_close(r);
    mcf_free(out);
    return 0;
}

/* MCF_LENIENT accepts trailing bytes after the buffer (a published SD-1.5
 * checkpoint has 4); strict mode refuses them. */
static int safetensors_lenient_trailing_bytes(void)
{
    const char *hdr = "{\"a\":{\"dtype\":\"U8\",\"shape\":[2],\"data_offsets\":[0,2]}}";
    unsigned char *buf;
    mcf_reader *r;
    const void *p;
    MCF_CHECK_RC(st_open_hdr(hdr, 6, 0, &buf, &r), MCF_DESERIALIZE_FAIL);
    MCF_CHECK_ERR("4 trailing bytes after the last tensor");
    MCF_CHECK_ERR("MCF_LENIENT");
    free(buf);
    MCF_CHECK_RC(st_open_hdr(hdr, 6, MCF_LENIENT, &buf, &r), MCF_OK);
    MCF_CHECK_RC(mcf_view(r, 0, &p), MCF_OK);
    MCF_CHECK(p == buf + 8 + strlen(hdr) && ((const unsigned char *)p)[1] == 8);
    mcf_close(r);
    free(buf);
    /* lenient does not excuse data past the end */
    MCF_CHECK_RC(st_open_hdr(hdr, 1, MCF_LENIENT, &buf, &r), MCF_DESERIALIZE_FAIL);
    MCF_CHECK_ERR("past the end of the file");
    free(buf);
    return 0;
}

/* What the reference also accepts: surrounding JSON whitespace, no padding,
 * unknown fields, escaped field names, offsets out of header order. */
static int safetensors_accepts_reference_leniencies(void)
{
    unsigned char *buf;
    mcf_reader *r;
    mcf_tensor e;
    uint64_t off;
    const char *hdr = " \t\r\n{\"b\":{\"d\\u0074ype\":\"\\u0055\\u0038\",\"shape\":[1],\"data_offsets\":[2,3],\"extra\":{\"x\":[1,{\"y\":null}]}},"
                      "\"a\" : { \"data_offsets\" : [0,2] , \"shape\" : [ 2 ] , \"dtype\" : \"I8\" } } \n";
    MCF_CHECK_RC(st_open_hdr(hdr, 3, 0, &buf, &r), MCF_OK);
    MCF_CHECK(mcf_count(r) == 2);
    MCF_CHECK_RC(mcf_entry(r, 0, &e), MCF_OK);             /* header order is kept */
    MCF_CHECK(strcmp(e.name, "b") == 0 && e.dtype == MCF_U8);
    MCF_CHECK_RC(mcf_entry_location(r, 0, &off, NULL), MCF_OK);
    MCF_CHECK(off == 8 + strlen(hdr) + 2);
    MCF_CHECK_RC(mcf_entry(r, 1, &e), MCF_OK);
    MCF_CHECK(strcmp(e.name, "a") == 0 && e.dtype == MCF_I8 && e.shape[0] == 2);
    mcf_close(r);
    free(buf);
    return 0;
}

/* Writer-side refusals, each before anything is written. */
static int safetensors_save_rejects_bad_input(void)
{
    static const uint8_t v[4] = {1, 2, 3, 4};
    static const char *const odd[] = {"k", NULL};
    static const char *const badutf[] = {"k", "\xff", NULL};
    mcf_tensor t;
    mcf_options o = st_opts(0);
    void *out = (void *)&o;
    size_t len = 99;
    memset(&t, 0, sizeof t);
    t.name = "x"; t.dtype = MCF_U8; t.ndim = 1; t.shape[0] = 4; t.data = v;
    o.metadata = odd;
    MCF_CHECK_RC(mcf_save_to_memory(&t, 1, &o, &out, &len), MCF_INVALID_PARAMS);
    MCF_CHECK_ERR("metadata key \"k\" has no value");
    o.metadata = badutf;
    MCF_CHECK_RC(mcf_save_to_memory(&t, 1, &o, &out, &len), MCF_INVALID_PARAMS);
    MCF_CHECK_ERR("metadata \"k\" is not valid UTF-8");
    o.metadata = NULL;
    t.name = "bad\xc3";
    MCF_CHECK_RC(mcf_save_to_memory(&t, 1, &o, &out, &len), MCF_INVALID_PARAMS);
    MCF_CHECK_ERR("is not valid UTF-8");
    t.name = "__metadata__";
    MCF_CHECK_RC(mcf_save_to_memory(&t, 1, &o, &out, &len), MCF_INVALID_PARAMS);
    MCF_CHECK_ERR("\"__metadata__\" is reserved");
    t.name = "f6"; t.dtype = MCF_F6_E3M2; t.shape[0] = 2;
    MCF_CHECK_RC(mcf_save_to_memory(&t, 1, &o, &out, &len), MCF_SERIALIZE_UNSUPPORTED);
    MCF_CHECK_ERR("tensor \"f6\": 2 elements of F6_E3M2 are not a whole number of bytes");
    t.ndim = 0;                                         /* a 0-d F6 is 6 bits */
    MCF_CHECK_RC(mcf_save_to_memory(&t, 1, &o, &out, &len), MCF_SERIALIZE_UNSUPPORTED);
    t.ndim = 1; t.shape[0] = 4;                         /* 24 bits: fine */
    MCF_CHECK_RC(mcf_save_to_memory(&t, 1, &o, &out, &len), MCF_OK);
    MCF_CHECK(len == 8 + 64 + 3);   /* 59-byte header padded to 64 */
    mcf_free(out);
    return 0;
}

static int st_cancel_after_header(void *user, uint64_t done, uint64_t total)
{
    (void)total;
    *(uint64_t *)user = done;
    return done > 8;   /* let the length field through, stop at the header */
}

/* A progress callback that cancels leaves nothing behind (memory:// here). */
static int safetensors_cancelled_save_leaves_nothing(void)
{
    static const double v[3] = {1, 2, 3};
    mcf_tensor t;
    mcf_options o;
    uint64_t seen = 0;
    memset(&t, 0, sizeof t);
    memset(&o, 0, sizeof o);
    t.name = "v"; t.dtype = MCF_F64; t.ndim = 1; t.shape[0] = 3; t.data = v;
    o.progress = st_cancel_after_header;
    o.progress_user = &seen;
    MCF_CHECK_RC(mcf_save("memory://st/cancel.safetensors", &t, 1, &o), MCF_PERSISTENT_FAIL);
    MCF_CHECK_ERR("cancelled by the progress callback");
    MCF_CHECK(seen > 8);
    MCF_CHECK(mcf_exists("memory://st/cancel.safetensors", NULL) == 0);
    return 0;
}

/* The writer refuses a padded header over 100,000,000 bytes (SERIALIZE_FAIL). */
static int safetensors_save_header_limit(void)
{
    size_t vlen = 100000000 - 40;
    char *val = (char *)malloc(vlen + 1);
    const char *meta[3];
    mcf_options o = st_opts(0);
    void *out = NULL;
    size_t len = 0;
    MCF_CHECK(val != NULL);
    memset(val, 'v', vlen);
    val[vlen] = '\0';
    meta[0] = "k"; meta[1] = val; meta[2] = NULL;
    o.metadata = meta;
    /* {"__metadata__":{"k":"..."}} is 25 + vlen bytes, padded to a multiple of 8 */
    MCF_CHECK_RC(mcf_save_to_memory(NULL, 0, &o, &out, &len), MCF_OK);
    MCF_CHECK(len == 8 + ((25 + vlen + 7) / 8) * 8);
    mcf_free(out);
    memset(val, '\n', 64);                              /* 64 escapes add 64 bytes: over the cap */
    MCF_CHECK_RC(mcf_save_to_memory(NULL, 0, &o, &out, &len), MCF_SERIALIZE_FAIL);
    MCF_CHECK_ERR("exceeds the 100000000-byte limit");
    free(val);
    return 0;
}

/* C128 (torch.complex128) has no safetensors dtype: a save naming it is
 * refused before anything is written, and "C128" in a header is unknown. */
static int safetensors_refuses_c128(void)
{
    static const double z[4] = {1.0, -2.0, 0.5, 3.0};   /* (1-2j), (0.5+3j) */
    mcf_options o = st_opts(0);
    mcf_tensor t[2];
    mcf_reader *r = NULL;
    unsigned char *buf = NULL;
    void *out = NULL;
    size_t len = 0;
    memset(t, 0, sizeof t);
    t[0].name = "ok"; t[0].dtype = MCF_F64; t[0].ndim = 1; t[0].shape[0] = 4; t[0].data = z;
    t[1].name = "z"; t[1].dtype = MCF_C128; t[1].ndim = 1; t[1].shape[0] = 2; t[1].data = z;
    MCF_CHECK_RC(mcf_save_to_memory(t, 2, &o, &out, &len), MCF_SERIALIZE_UNSUPPORTED);
    MCF_CHECK(out == NULL);
    MCF_CHECK_ERR("tensor \"z\" has dtype C128 (torch.complex128), which safetensors has no dtype for");
    MCF_CHECK_RC(mcf_save("memory://st/c128.safetensors", t, 2, NULL), MCF_SERIALIZE_UNSUPPORTED);
    MCF_CHECK_RC(mcf_exists("memory://st/c128.safetensors", NULL), 0);
    MCF_CHECK_RC(st_open_hdr("{\"z\":{\"dtype\":\"C128\",\"shape\":[1],\"data_offsets\":[0,16]}}", 16, 0, &buf, &r),
                 MCF_DESERIALIZE_FAIL);
    MCF_CHECK_ERR("unknown dtype \"C128\"");
    free(buf);
    return 0;
}

#ifndef MCF_NO_POSIX
#define ST_POSIX_TESTS MCF_TEST(safetensors_failed_save_keeps_old_file), MCF_TEST(safetensors_view_zero_copy_file), \
    MCF_TEST(safetensors_sparse_4gib_file),
#else
#define ST_POSIX_TESTS
#endif

MCF_TEST_MAIN(
    MCF_TEST(safetensors_reference_files_read),
    MCF_TEST(safetensors_reference_files_write),
    MCF_TEST(safetensors_roundtrip_every_dtype_and_shape),
    MCF_TEST(safetensors_zero_byte_tensors_any_position),
    MCF_TEST(safetensors_strided_input_save),
    MCF_TEST(safetensors_malformed_headers),
    MCF_TEST(safetensors_bad_length_field),
    MCF_TEST(safetensors_overlap_rejected_at_open),
    MCF_TEST(safetensors_hf_empty_tensors_accepted),
    MCF_TEST(safetensors_non_object_root_rejected),
    MCF_TEST(safetensors_numbers_exact),
    MCF_TEST(safetensors_deep_nesting_no_stack_overflow),
    MCF_TEST(safetensors_writer_escapes_names_and_metadata),
    MCF_TEST(safetensors_metadata_without_tensors),
    MCF_TEST(safetensors_long_names_not_truncated),
    ST_POSIX_TESTS
    MCF_TEST(safetensors_open_reads_only_header),
    MCF_TEST(safetensors_lenient_trailing_bytes),
    MCF_TEST(safetensors_accepts_reference_leniencies),
    MCF_TEST(safetensors_save_rejects_bad_input),
    MCF_TEST(safetensors_cancelled_save_leaves_nothing),
    MCF_TEST(safetensors_save_header_limit),
    MCF_TEST(safetensors_refuses_c128)
)
