/* Allocation failure in every section: each operation below runs once with
 * nothing failing, then with its 1st, 2nd, ... allocation failing until it
 * no longer reaches the failing call (tests/mcf_test_alloc.h). Every run
 * that reached it returns MCF_INTERNAL_ERROR with an "out of memory"
 * sentence, hands nothing out (NULL reader, untouched outputs), leaves no
 * object or file behind (and an overwritten one as it was), and keeps no
 * block allocated; the run after the last allocation gives the normal
 * result. The asan variants run the same sweeps under AddressSanitizer. */
#include "mcf_test_alloc.h"
#include "mcf_test_posix.h"
#include "mcf_test_server.h"
#include "st_reference.h"
#include <stdint.h>

/* A result no library call returns: the test itself found the outcome wrong. */
#define WRONG 1000

static const float f6[6] = {1, 2, 3, 4, 5, 6};

/* Bytes 0, 1, 2, ... (mod 251) */
static unsigned char *pattern(size_t n)
{
    unsigned char *p = (unsigned char *)malloc(n ? n : 1);
    size_t i;
    for (i = 0; p && i < n; i++) p[i] = (unsigned char)(i % 251);
    return p;
}

/* The reference safetensors file called name (tests/st_reference.h). */
static const st_ref_file *st_ref(const char *name)
{
    int i;
    for (i = 0; i < ST_REF_COUNT; i++)
        if (strcmp(st_ref_files[i].file, name) == 0) return &st_ref_files[i];
    return NULL;
}

/* The reference file's tensors as mcf_tensors (at most cap); their count. */
static size_t st_ref_tensors(const st_ref_file *f, mcf_tensor *t, size_t cap)
{
    size_t i;
    int d;
    for (i = 0; i < f->n_spec && i < cap; i++) {
        memset(&t[i], 0, sizeof t[i]);
        t[i].name = f->spec[i].name;
        if (mcf_dtype_parse(f->spec[i].dtype, &t[i].dtype) != MCF_OK) return 0;
        t[i].ndim = f->spec[i].ndim;
        for (d = 0; d < t[i].ndim; d++) t[i].shape[d] = f->spec[i].shape[d];
        t[i].data = f->spec[i].data;
    }
    return i;
}

/* Opens url (buf when url is NULL) and goes through all it holds: each
 * entry read with mcf_read and compared with mcf_view, every metadata pair
 * and value; then closes it. The first failure is returned; *count and
 * *values are the entries and values seen (0 on failure). */
static int open_read_all(const char *url, const void *buf, size_t len, const mcf_options *o, size_t *count, size_t *values)
{
    mcf_reader *r = (mcf_reader *)&r;
    const char *a, *b, *c;
    size_t i;
    int rc = url ? mcf_open(url, o, &r) : mcf_open_memory(buf, len, o, &r);
    *count = *values = 0;
    if (rc != MCF_OK) {
        if (r != NULL) { fprintf(stderr, "  failed open left a reader\n"); return WRONG; }
        return rc;
    }
    for (i = 0; rc == MCF_OK && i < mcf_count(r); i++) {
        uint64_t off, nbytes;
        const void *view = NULL;
        void *dst;
        if ((rc = mcf_entry_location(r, i, &off, &nbytes)) != MCF_OK) break;
        if (!(dst = malloc(nbytes ? (size_t)nbytes : 1))) { rc = WRONG; break; }
        if ((rc = mcf_read(r, i, dst, (size_t)nbytes)) == MCF_OK && (rc = mcf_view(r, i, &view)) == MCF_OK)
            if (nbytes && memcmp(dst, view, (size_t)nbytes) != 0) rc = WRONG;
        free(dst);
    }
    for (i = 0; rc == MCF_OK && i < mcf_metadata_count(r); i++) rc = mcf_metadata_pair(r, i, &a, &b);
    for (i = 0; rc == MCF_OK && i < mcf_value_count(r); i++) rc = mcf_value(r, i, &a, &b, &c);
    if (rc == MCF_OK) { *count = mcf_count(r); *values = mcf_value_count(r); }
    mcf_close(r);
    return rc;
}

/* Sweeps open_read_all over one file: final is its normal result, count and
 * values what a successful run sees, min_failed the fewest runs that must
 * have failed (a floor that shows the sweep reached the parser). */
static int sweep_open(const char *what, const char *url, const void *buf, size_t len, const mcf_options *o, int final,
                      size_t count, size_t values, long min_failed)
{
    mcf_test_sweep sw;
    mcf_test_sweep_begin(&sw, what, final);
    while (mcf_test_sweep_next(&sw)) {
        size_t got_count, got_values;
        int rc = open_read_all(url, buf, len, o, &got_count, &got_values);
        MCF_CHECK(mcf_test_sweep_result(&sw, rc));
        if (rc == MCF_OK) MCF_CHECK(got_count == count && got_values == values);
        MCF_CHECK(mcf_test_sweep_end(&sw));
    }
    if (sw.failed_runs < min_failed) fprintf(stderr, "  %s: %ld failing runs, expected at least %ld\n", what, sw.failed_runs, min_failed);
    MCF_CHECK(sw.failed_runs >= min_failed);
    return 0;
}

/* sweep_open over a file of the repository, from memory and, where there is
 * POSIX, from the file itself both mapped and read with pread. */
static int sweep_open_file(const char *path, int final, size_t count, size_t values, long min_failed)
{
    char what[3][160];
    mcf_options o;
    size_t len;
    unsigned char *buf = mcf_test_slurp(path, &len);
    int bad;
    MCF_CHECK(buf != NULL);
    (void)snprintf(what[0], sizeof what[0], "%s from memory", path);
    (void)snprintf(what[1], sizeof what[1], "%s mapped", path);
    (void)snprintf(what[2], sizeof what[2], "%s read with pread", path);
    memset(&o, 0, sizeof o);
    bad = sweep_open(what[0], NULL, buf, len, &o, final, count, values, min_failed);
    free(buf);
#ifndef MCF_NO_POSIX
    if (!bad) bad = sweep_open(what[1], path, NULL, 0, &o, final, count, values, min_failed);
    o.flags = MCF_NO_MMAP;
    if (!bad) bad = sweep_open(what[2], path, NULL, 0, &o, final, count, values, min_failed);
#endif
    return bad;
}

/* ---- [07] URL parser ------------------------------------------------------- */

static int url_alloc_failures_parse(void)
{
    static const char *const urls[][3] = {
        /* url, filesystem, canonical form */
        {"memory://alloc/a/b.bin", NULL, "memory:///alloc/a/b.bin"},
        {"file:///tmp/with%20space/x.pt", NULL, "file:///tmp/with space/x.pt"},
        {"rel/dir/x.safetensors", NULL, "rel/dir/x.safetensors"},
        {"C:\\dir\\f.pt", NULL, "C:\\dir\\f.pt"},
        {"http://127.0.0.1:8080/p/q.bin?x=1#frag", NULL, "http://127.0.0.1:8080/p/q.bin?x=1"},
        {"https://[::1]:9/x", NULL, "https://[::1]:9/x"},
        {"s3://bucket/key/a.pt", NULL, "s3://bucket/key/a.pt"},
        {"x/y", "memory", "memory:///x/y"},
    };
    size_t k;
    for (k = 0; k < sizeof urls / sizeof urls[0]; k++) {
        mcf_test_sweep sw;
        mcf_test_sweep_begin(&sw, urls[k][0], MCF_OK);
        while (mcf_test_sweep_next(&sw)) {
            mcf_url u;
            int rc;
            memset(&u, 0, sizeof u);
            rc = mcf_url_parse(urls[k][0], urls[k][1], &u);
            MCF_CHECK(mcf_test_sweep_result(&sw, rc));
            if (rc == MCF_OK) {
                if (strcmp(u.url, urls[k][2]) != 0) fprintf(stderr, "  %s parsed as %s\n", urls[k][0], u.url);
                MCF_CHECK(strcmp(u.url, urls[k][2]) == 0);
                mcf_url_free(&u);
            } else {
                MCF_CHECK_ERR(urls[k][0]);
                MCF_CHECK(u.scheme == NULL && u.url == NULL);   /* nothing handed out */
            }
            MCF_CHECK(mcf_test_sweep_end(&sw));
        }
        MCF_CHECK(sw.failed_runs >= 1);
    }
    return 0;
}

/* ---- [08]-[13] filesystems: whole-object calls ---------------------------- */

/* 1 if url holds exactly the n bytes at p (p NULL: if there is no object). */
static int holds(const char *url, const mcf_options *o, const void *p, size_t n)
{
    void *now = NULL;
    size_t len = 0;
    int rc = mcf_read_bytes(url, &now, &len, o), ok;
    ok = p ? rc == MCF_OK && len == n && memcmp(now, p, n) == 0 : rc == MCF_FILE_NOT_FOUND;
    if (!ok) fprintf(stderr, "  %s: %s (%lu bytes) where %s was expected\n", url, rc == MCF_OK ? "an object" : mcf_last_error(),
                     (unsigned long)len, p ? "an object" : "none");
    mcf_free(now);
    return ok;
}

/* Every whole-object call on url (options o): writing a new object,
 * overwriting one, reading, sizing, testing and removing it. A write that
 * fails leaves no object, or the old one whole; with dir (the local
 * directory url is in), no temporary file either. multipart: the writes
 * are S3 multipart uploads. */
static int sweep_bytes(const char *url, const char *dir, const mcf_options *o, int multipart)
{
    static const char *const what[6] = {"write a new object", "overwrite an object", "read an object",
                                        "size an object", "test an object", "remove an object"};
    const size_t n = 3 * 65536 + 17;          /* several chunks: the sink grows */
    unsigned char *data = pattern(n);
    mcf_test_sweep sw;
    int rc, step, took, unknown, unknowns = 0;
    MCF_CHECK(data != NULL);
    for (step = 0; step < 6; step++) {
        /* step 0 starts without the object, the others with it holding "old" */
        if (step == 1) MCF_CHECK_RC(mcf_write_bytes(url, "old", 3, o), MCF_OK);
        mcf_test_sweep_begin(&sw, what[step], step == 4 ? 1 : MCF_OK);   /* mcf_exists: 1 = there */
        /* a local save sweeps stale temporary files after publishing, as a
         * best effort: without that one buffer the save still succeeds */
        if (dir && step < 2) mcf_test_sweep_allow(&sw, MCF_OK, NULL, 1);
        while (mcf_test_sweep_next(&sw)) {
            void *back = NULL;
            size_t len = 0;
            uint64_t size = 0;
            switch (step) {
            case 0: case 1: rc = mcf_write_bytes(url, data, n, o); break;
            case 2: rc = mcf_read_bytes(url, &back, &len, o); break;
            case 3: rc = mcf_file_size(url, &size, o); break;
            case 4: rc = mcf_exists(url, o); break;
            default: rc = mcf_remove(url, o); break;
            }
            MCF_CHECK(mcf_test_sweep_result(&sw, rc));
            /* CompleteMultipartUpload sent but its answer not kept: the
             * server made the object, and the sentence says it may exist */
            unknown = multipart && strstr(mcf_last_error(), "may or may not have been written") != NULL;
            unknowns += unknown;
            took = rc == sw.final_code || unknown;
            /* the object as the call left it, and what the call handed out */
            if (step < 2 && took) MCF_CHECK(holds(url, o, data, n));
            else MCF_CHECK(holds(url, o, step == 0 || (step == 5 && took) ? NULL : "old", 3));
            if (step == 2) MCF_CHECK(rc == MCF_OK ? len == 3 && memcmp(back, "old", 3) == 0 : back == NULL && len == 0);
            if (step == 3) MCF_CHECK(size == (rc == MCF_OK ? 3u : 0u));
            mcf_free(back);
#ifndef _WIN32
            if (dir) MCF_CHECK(mcf_test_count_entries(dir, ".mcf-", 1) == 0);   /* no temporary file left */
#endif
            /* back to the state the next run starts from */
            if (step == 0 && took) MCF_CHECK_RC(mcf_remove(url, o), MCF_OK);
            if ((step == 1 || step == 5) && took) MCF_CHECK_RC(mcf_write_bytes(url, "old", 3, o), MCF_OK);
            MCF_CHECK(mcf_test_sweep_end(&sw));
        }
        MCF_CHECK(sw.failed_runs >= 1 && (!dir || step >= 2 || sw.allowed_seen[0] == 1));
        /* each multipart write reached the unkept CompleteMultipartUpload answer */
        MCF_CHECK(!multipart || step >= 2 || unknowns >= 1);
        unknowns = 0;
    }
    free(data);
    MCF_CHECK_RC(mcf_remove(url, o), MCF_OK);
    return 0;
}

static int memory_alloc_failures_bytes(void) { return sweep_bytes("memory://alloc/bytes.bin", NULL, NULL, 0); }

#ifndef MCF_NO_POSIX
static int posix_alloc_failures_bytes(void)
{
    char path[512], url[600];
    int bad;
    MCF_CHECK(mcf_test_tmpdir() != NULL);
    bad = sweep_bytes(mcf_test_tmp_path(path, sizeof path, "bytes.bin"), mcf_test_tmpdir(), NULL, 0);
    (void)snprintf(url, sizeof url, "file://%s", mcf_test_tmp_path(path, sizeof path, "url.bin"));
    if (!bad) bad = sweep_bytes(url, mcf_test_tmpdir(), NULL, 0);
    return bad;
}
#endif

#ifdef MOONCAKE_FILEIO_CURL
/* ---- [12] http & s3 over libcurl (real servers on 127.0.0.1) ---------------------
 * libcurl allocates with its own malloc; these sweeps fail the library's
 * allocations around it: request state, headers, signatures, URLs, the
 * part buffers of an upload and the readers over Range requests. */

static int remote_alloc_failures_http_bytes(void)
{
    char url[128];
    NEED_HTTP();
    (void)snprintf(url, sizeof url, "%s/alloc/bytes.bin", g_http_base);
    return sweep_bytes(url, NULL, NULL, 0);
}

static int remote_alloc_failures_s3_bytes(void)
{
    mcf_options o;
    NEED_S3();
    o = s3_options(S3_SECRET);
    return sweep_bytes("s3://" S3_BUCKET "/alloc/bytes.bin", NULL, &o, 0);
}

/* 64 KiB parts: the writes are multipart uploads of four parts. */
static int remote_alloc_failures_s3_multipart(void)
{
    mcf_options o;
    NEED_S3();
    o = s3_part_options("65536");
    return sweep_bytes("s3://" S3_BUCKET "/alloc/parts.bin", NULL, &o, 1);
}

/* Readers over Range requests: a safetensors and a torch file uploaded to
 * each server, opened and read through entry by entry. */
static int remote_alloc_failures_open(void)
{
    static const char *const files[2][2] = {{"tests/data/safetensors/mixed_many.safetensors", "mixed_many.safetensors"},
                                            {"tests/data/torch/nested_mixed.pt", "nested_mixed.pt"}};
    static const size_t counts[2][2] = {{28, 0}, {5, 12}};
    mcf_options o, none;
    int f, pass;
    NEED_HTTP();
    NEED_S3();
    o = s3_options(S3_SECRET);
    memset(&none, 0, sizeof none);
    for (pass = 0; pass < 2; pass++)
        for (f = 0; f < 2; f++) {
            char url[160];
            size_t len;
            unsigned char *buf = mcf_test_slurp(files[f][0], &len);
            int bad;
            MCF_CHECK(buf != NULL);
            if (pass) (void)snprintf(url, sizeof url, "s3://" S3_BUCKET "/alloc/%s", files[f][1]);
            else (void)snprintf(url, sizeof url, "%s/alloc/%s", g_http_base, files[f][1]);
            bad = mcf_write_bytes(url, buf, len, pass ? &o : &none) != MCF_OK;
            free(buf);
            MCF_CHECK(!bad);
            bad = sweep_open(url, url, NULL, 0, pass ? &o : &none, MCF_OK, counts[f][0], counts[f][1], 10);
            MCF_CHECK_RC(mcf_remove(url, pass ? &o : &none), MCF_OK);
            if (bad) return bad;
        }
    return 0;
}

/* threads = 4 with 64 KiB parts: the writes send their four parts at once
 * (buffered parts, each on a handle of its own). */
static int remote_alloc_failures_s3_multipart_threads(void)
{
    mcf_options o;
    NEED_S3();
    o = s3_part_options("65536");
    o.threads = 4;
    return sweep_bytes("s3://" S3_BUCKET "/alloc/threads.bin", NULL, &o, 1);
}

/* threads = 4 with 64 KiB parts: one read of a 1 MiB object over http is
 * its first part alone, then the rest as ranged GETs at once. */
static int remote_alloc_failures_split_read(void)
{
    static const char *const so[] = { "part_size", "65536", NULL };
    const size_t n = (size_t)1 << 20;
    unsigned char *data = pattern(n);
    char url[128];
    mcf_options o;
    mcf_test_sweep sw;
    NEED_HTTP();
    MCF_CHECK(data != NULL);
    (void)snprintf(url, sizeof url, "%s/alloc/split.bin", g_http_base);
    MCF_CHECK_RC(mcf_write_bytes(url, data, n, NULL), MCF_OK);
    memset(&o, 0, sizeof o);
    o.storage_options = so;
    o.threads = 4;
    mcf_test_sweep_begin(&sw, "split read over http", MCF_OK);
    /* the split's list of transfers is best effort: without it the read is
     * one GET, and succeeds */
    mcf_test_sweep_allow(&sw, MCF_OK, NULL, 1);
    while (mcf_test_sweep_next(&sw)) {
        void *back = NULL;
        size_t len = 0;
        int rc = mcf_read_bytes(url, &back, &len, &o);
        MCF_CHECK(mcf_test_sweep_result(&sw, rc));
        MCF_CHECK(rc == MCF_OK ? len == n && memcmp(back, data, n) == 0 : back == NULL && len == 0);
        mcf_free(back);
        MCF_CHECK(mcf_test_sweep_end(&sw));
    }
    MCF_CHECK(sw.failed_runs >= 1 && sw.allowed_seen[0] == 1);
    MCF_CHECK_RC(mcf_remove(url, NULL), MCF_OK);
    free(data);
    return 0;
}

#define CURL_TESTS , MCF_TEST(remote_alloc_failures_http_bytes), MCF_TEST(remote_alloc_failures_s3_bytes), \
    MCF_TEST(remote_alloc_failures_s3_multipart), MCF_TEST(remote_alloc_failures_open), \
    MCF_TEST(remote_alloc_failures_s3_multipart_threads), MCF_TEST(remote_alloc_failures_split_read)
#else
#define CURL_TESTS
#endif

/* ---- [14] JSON, [15] safetensors -------------------------------------------- */

/* mixed_many: 28 tensors with metadata, from memory (the header parsed in
 * place) and from the file, mapped and read with pread (the header copied
 * into an allocated buffer). */
static int safetensors_alloc_failures_open(void)
{
    return sweep_open_file("tests/data/safetensors/mixed_many.safetensors", MCF_OK, 28, 0, 6);
}

/* Writing reference files (metadata, many tensors) to memory; the bytes
 * must be the reference file's. */
static int safetensors_alloc_failures_save(void)
{
    static const char *const files[3] = {"metadata_multi.safetensors", "mixed_many.safetensors", "all_dtypes.safetensors"};
    int k;
    for (k = 0; k < 3; k++) {
        const st_ref_file *f = st_ref(files[k]);
        mcf_tensor t[32];
        mcf_options o;
        mcf_test_sweep sw;
        size_t nt;
        MCF_CHECK(f != NULL && f->n_spec <= 32);
        MCF_CHECK((nt = st_ref_tensors(f, t, 32)) == f->n_spec);
        memset(&o, 0, sizeof o);
        o.format = "safetensors";
        o.metadata = f->meta;
        mcf_test_sweep_begin(&sw, files[k], MCF_OK);
        while (mcf_test_sweep_next(&sw)) {
            void *out = (void *)&sw;
            size_t len = 1;
            int rc = mcf_save_to_memory(t, nt, &o, &out, &len);
            MCF_CHECK(mcf_test_sweep_result(&sw, rc));
            if (rc == MCF_OK) {
                MCF_CHECK(len == f->file_len);
                mcf_free(out);
            } else MCF_CHECK(out == (void *)&sw && len == 1);   /* outputs untouched */
            MCF_CHECK(mcf_test_sweep_end(&sw));
        }
        MCF_CHECK(sw.failed_runs > 3);
    }
    return 0;
}

/* Metadata that needs escaping both ways (quotes, backslashes, control
 * characters, non-ASCII, \u escapes on read) survives a save and an open
 * under every failing allocation. */
static int json_alloc_failures_escaped_metadata(void)
{
    static const char *const meta[] = {"quote\"d", "back\\slash\tand\ttabs", "format", "pt", "unicode", "caf\xc3\xa9 \xe2\x82\xac",
                                       "ctl", "\x01\x1f line\nbreak", NULL};
    static const char header[] = "{\"__metadata__\":{\"u\":\"\\u00e9\\ud83d\\ude00\\n\",\"k\\\"q\":\"v\"},"
                                 "\"a\\u0041\":{\"dtype\":\"F32\",\"shape\":[2,3],\"data_offsets\":[0,24]}}";
    unsigned char file[512];
    mcf_tensor t;
    mcf_options o;
    mcf_test_sweep sw;
    void *out = NULL;
    size_t len = 0, hl = sizeof header - 1;
    int step;
    memset(&t, 0, sizeof t);
    t.name = "w"; t.dtype = MCF_F32; t.ndim = 2; t.shape[0] = 2; t.shape[1] = 3; t.data = f6;
    memset(&o, 0, sizeof o);
    o.format = "safetensors";
    o.metadata = meta;
    MCF_CHECK_RC(mcf_save_to_memory(&t, 1, &o, &out, &len), MCF_OK);
    /* a hand-written header with \u escapes (surrogate pair included) */
    MCF_CHECK(8 + hl + 24 <= sizeof file);
    memset(file, 0, sizeof file);
    file[0] = (unsigned char)hl;
    memcpy(file + 8, header, hl);
    memcpy(file + 8 + hl, f6, 24);
    for (step = 0; step < 3; step++) {
        mcf_test_sweep_begin(&sw, step == 0 ? "save escaped metadata" : step == 1 ? "open escaped metadata" : "open \\u escapes", MCF_OK);
        while (mcf_test_sweep_next(&sw)) {
            mcf_reader *r = NULL;
            void *again = NULL;
            size_t again_len = 0;
            int rc = step == 0 ? mcf_save_to_memory(&t, 1, &o, &again, &again_len)
                               : step == 1 ? mcf_open_memory(out, len, NULL, &r) : mcf_open_memory(file, 8 + hl + 24, NULL, &r);
            MCF_CHECK(mcf_test_sweep_result(&sw, rc));
            if (rc == MCF_OK && step == 0) MCF_CHECK(again_len == len && memcmp(again, out, len) == 0);
            if (rc == MCF_OK && step == 1) {
                const char *v = mcf_metadata(r, "quote\"d");
                MCF_CHECK(v && strcmp(v, "back\\slash\tand\ttabs") == 0);
                v = mcf_metadata(r, "unicode");
                MCF_CHECK(v && strcmp(v, "caf\xc3\xa9 \xe2\x82\xac") == 0);
                v = mcf_metadata(r, "ctl");
                MCF_CHECK(v && strcmp(v, "\x01\x1f line\nbreak") == 0);
            }
            if (rc == MCF_OK && step == 2) {
                const char *v = mcf_metadata(r, "u");
                MCF_CHECK(v && strcmp(v, "\xc3\xa9\xf0\x9f\x98\x80\n") == 0);
                v = mcf_metadata(r, "k\"q");
                MCF_CHECK(v && strcmp(v, "v") == 0);
                MCF_CHECK(mcf_find(r, "aA") == 0);
            }
            if (rc != MCF_OK) MCF_CHECK(r == NULL && again == NULL);
            mcf_close(r);
            mcf_free(again);
            MCF_CHECK(mcf_test_sweep_end(&sw));
        }
        MCF_CHECK(sw.failed_runs >= 2);
    }
    mcf_free(out);
    return 0;
}

/* Refusals run their error paths with allocations failing too: the result
 * is the refusal once nothing fails. */
static int safetensors_alloc_failures_refusals(void)
{
    static const char *const headers[3] = {
        "{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]},\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[4,8]}}",
        "{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]},\"b\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[4,12]}}",
        "{\"__metadata__\":{\"k\":1},\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]}}",
    };
    int k;
    for (k = 0; k < 3; k++) {
        unsigned char file[256];
        size_t hl = strlen(headers[k]);
        int bad;
        memset(file, 0, sizeof file);
        file[0] = (unsigned char)hl;
        memcpy(file + 8, headers[k], hl);
        bad = sweep_open(headers[k], NULL, file, 8 + hl + 12, NULL, MCF_DESERIALIZE_FAIL, 0, 0, 1);
        if (bad) return bad;
    }
    return 0;
}

/* ---- [16] zip, [17] pickle, [18] torch ------------------------------------------ */

/* Real PyTorch files: 40 tensors in one archive, nested containers with
 * values, storage shared between tensors, a transposed view, a module's
 * state dict; then refusals (a forbidden global, the legacy format). */
static int torch_alloc_failures_open(void)
{
    static const struct { const char *file; int final; size_t count, values; } files[] = {
        {"many_tensors.pt", MCF_OK, 40, 0},
        {"nested_mixed.pt", MCF_OK, 5, 12},
        {"shared_storage.pt", MCF_OK, 3, 0},
        {"transpose_view.pt", MCF_OK, 1, 0},
        {"state_dict_sequential.pt", MCF_OK, 4, 0},
        {"malicious_reduce_print.pt", MCF_DESERIALIZE_FAIL, 0, 0},
        {"legacy_format.pt", MCF_NOT_SUPPORTED, 0, 0},
    };
    size_t k;
    for (k = 0; k < sizeof files / sizeof files[0]; k++) {
        char path[128];
        (void)snprintf(path, sizeof path, "tests/data/torch/%s", files[k].file);
        if (sweep_open_file(path, files[k].final, files[k].count, files[k].values, files[k].final == MCF_OK ? 10 : 1)) return 1;
    }
    return 0;
}

/* Values (mcf_value) of a checkpoint, each read with the reader's own
 * allocations failing: the names, types and reprs torch wrote. */
static int values_alloc_failures_list(void)
{
    size_t len;
    unsigned char *buf = mcf_test_slurp("tests/data/torch/nested_mixed.pt", &len);
    mcf_test_sweep sw;
    MCF_CHECK(buf != NULL);
    mcf_test_sweep_begin(&sw, "values of nested_mixed.pt", MCF_OK);
    while (mcf_test_sweep_next(&sw)) {
        mcf_reader *r = NULL;
        int rc = mcf_open_memory(buf, len, NULL, &r);
        MCF_CHECK(mcf_test_sweep_result(&sw, rc));
        if (rc == MCF_OK) {
            const char *name, *type, *text;
            MCF_CHECK(mcf_value_count(r) == 12);
            MCF_CHECK_RC(mcf_value(r, 0, &name, &type, &text), MCF_OK);
            MCF_CHECK(strcmp(name, "epoch") == 0 && strcmp(type, "int") == 0 && strcmp(text, "7") == 0);
            MCF_CHECK_RC(mcf_value(r, 4, &name, &type, &text), MCF_OK);
            MCF_CHECK(strcmp(name, "meta.tag") == 0 && strcmp(type, "str") == 0 && strcmp(text, "'run-\xce\xb1'") == 0);
        } else MCF_CHECK(r == NULL);
        mcf_close(r);
        MCF_CHECK(mcf_test_sweep_end(&sw));
    }
    free(buf);
    MCF_CHECK(sw.failed_runs > 10);
    return 0;
}

/* Saving torch files (the zip writer and the pickler) to memory, to a
 * memory:// object and, with POSIX, to a local file: a failed save leaves
 * nothing behind; a good one opens with the same tensors. */
static int torch_alloc_failures_save(void)
{
    const st_ref_file *f = st_ref("mixed_many.safetensors");
    char path[512];
    const char *urls[3] = {NULL, "memory://alloc/save.pt", NULL};
    mcf_tensor t[32];
    mcf_options o;
    size_t nt, k;
    int u;
    MCF_CHECK(f != NULL && f->n_spec <= 32);
    MCF_CHECK(st_ref_tensors(f, t, 32) == f->n_spec);
    /* the dtypes torch 1.13 has (the writer refuses unsigned 16-64 and FP8) */
    for (nt = 0, k = 0; k < f->n_spec; k++)
        if (mcf_dtype_torch_name(t[k].dtype) && t[k].dtype != MCF_U16 && t[k].dtype != MCF_U32 && t[k].dtype != MCF_U64 &&
            t[k].dtype != MCF_F8_E5M2 && t[k].dtype != MCF_F8_E4M3)
            t[nt++] = t[k];
    MCF_CHECK(nt >= 20);
    memset(&o, 0, sizeof o);
    o.format = "torch";
#ifndef MCF_NO_POSIX
    MCF_CHECK(mcf_test_tmpdir() != NULL);
    urls[2] = mcf_test_tmp_path(path, sizeof path, "save.pt");
#else
    (void)path;
#endif
    for (u = 0; u < 3; u++) {
        mcf_test_sweep sw;
        if (u == 2 && !urls[2]) break;
        mcf_test_sweep_begin(&sw, urls[u] ? urls[u] : "torch save to memory", MCF_OK);
        if (u == 2) mcf_test_sweep_allow(&sw, MCF_OK, NULL, 1);   /* the best-effort sweep of stale temporary files */
        while (mcf_test_sweep_next(&sw)) {
            void *out = NULL;
            size_t len = 0, count, values;
            int rc = urls[u] ? mcf_save(urls[u], t, nt, &o) : mcf_save_to_memory(t, nt, &o, &out, &len);
            MCF_CHECK(mcf_test_sweep_result(&sw, rc));
            if (urls[u]) MCF_CHECK(mcf_exists(urls[u], NULL) == (rc == MCF_OK));
            if (rc == MCF_OK) {
                MCF_CHECK_RC(open_read_all(urls[u], out, len, NULL, &count, &values), MCF_OK);
                MCF_CHECK(count == nt && values == 0);
                if (urls[u]) MCF_CHECK_RC(mcf_remove(urls[u], NULL), MCF_OK);
            } else MCF_CHECK(out == NULL);
#ifndef MCF_NO_POSIX
            if (u == 2) MCF_CHECK(mcf_test_count_entries(mcf_test_tmpdir(), ".mcf-", 1) == 0);
#endif
            mcf_free(out);
            MCF_CHECK(mcf_test_sweep_end(&sw));
        }
        MCF_CHECK(sw.failed_runs > 10 && (u < 2 || sw.allowed_seen[0] == 1));
    }
    return 0;
}

/* ---- [06] dtype conversion, [19] slices ------------------------------------------ */

/* mcf_convert works in the caller's buffers: no pair allocates. */
static int convert_allocates_nothing(void)
{
    unsigned char src[16 * 64], dst[16 * 64];   /* 64 elements of the widest dtype */
    mcf_dtype from, to;
    int pairs = 0;
    memset(src, 0x3c, sizeof src);
    for (from = (mcf_dtype)0; (int)from < MCF_DTYPE_COUNT; from = (mcf_dtype)(from + 1))
        for (to = (mcf_dtype)0; (int)to < MCF_DTYPE_COUNT; to = (mcf_dtype)(to + 1)) {
            if (!mcf_convert_supported(from, to) || mcf_dtype_bits(from) % 8 || mcf_dtype_bits(to) % 8) continue;
            mcf_test_alloc_calls = 0;
            MCF_CHECK_RC(mcf_convert(from, to, src, dst, 64), MCF_OK);
            MCF_CHECK(mcf_test_alloc_calls == 0);
            pairs++;
        }
    MCF_CHECK(pairs >= 40);
    return 0;
}

/* The memory filesystem without its mapping: reads go through read_at. */
static int nomap_register(void)
{
    mcf_filesystem fs;
    if (mcf_filesystem_lookup("memory", &fs) != MCF_OK) return -1;
    fs.scheme = "nomap";
    fs.map = NULL;
    return mcf_register_filesystem(&fs);
}

/* A slice read that needs a read buffer (a source without a mapping) fails
 * for its one allocation with the buffer's size in the message, with and
 * without a conversion. */
static int slice_alloc_failures_report_and_free(void)
{
    static float w[64 * 48];
    float out[64 * 3];
    double out64[64 * 3];
    mcf_tensor t;
    mcf_reader *r = NULL;
    mcf_slice s[2];
    int i, way;
    for (i = 0; i < 64 * 48; i++) w[i] = (float)i;
    memset(&t, 0, sizeof t);
    t.name = "w"; t.dtype = MCF_F32; t.ndim = 2; t.shape[0] = 64; t.shape[1] = 48; t.data = w;
    MCF_CHECK_RC(nomap_register(), MCF_OK);
    MCF_CHECK_RC(mcf_save("memory:///alloc/w.safetensors", &t, 1, NULL), MCF_OK);
    MCF_CHECK_RC(mcf_open("nomap:///alloc/w.safetensors", NULL, &r), MCF_OK);
    s[0] = mcf_slice_range(0, MCF_SLICE_END);
    s[1] = mcf_slice_range(5, 8);                   /* 3 columns: runs 192 bytes apart, one buffered read */
    for (way = 0; way < 2; way++) {
        mcf_test_sweep sw;
        mcf_test_sweep_begin(&sw, way ? "mcf_read_as" : "mcf_read_slice", MCF_OK);
        sw.oom_msg = "nomap:///alloc/w.safetensors: out of memory for a 12108-byte read buffer";
        while (mcf_test_sweep_next(&sw)) {
            int rc = way ? mcf_read_as(r, 0, MCF_F64, s, 2, out64, sizeof out64) : mcf_read_slice(r, 0, s, 2, out, sizeof out);
            MCF_CHECK(mcf_test_sweep_result(&sw, rc));
            MCF_CHECK(mcf_test_sweep_end(&sw));   /* nothing kept after the call */
        }
        MCF_CHECK(sw.allocs == 1 && sw.failed_runs == 1);   /* exactly one allocation: the read buffer */
        for (i = 0; i < 64 * 3; i++)
            MCF_CHECK(way ? out64[i] == (double)((i / 3) * 48 + 5 + i % 3) : out[i] == (float)((i / 3) * 48 + 5 + i % 3));
    }
    mcf_close(r);
    MCF_CHECK_RC(mcf_remove("memory:///alloc/w.safetensors", NULL), MCF_OK);
    MCF_CHECK(mcf_test_alloc_live == 0);
    return 0;
}

/* A torch file's transposed view, sliced and converted to BF16 over a source
 * without a mapping: open, slice and convert in one run. */
static int slice_alloc_failures_torch_view(void)
{
    size_t len;
    unsigned char *buf = mcf_test_slurp("tests/data/torch/transpose_view.pt", &len);
    unsigned char want[64], got[64];
    mcf_test_sweep sw;
    mcf_slice s[2];
    int64_t shape[8];
    MCF_CHECK(buf != NULL);
    MCF_CHECK_RC(nomap_register(), MCF_OK);
    MCF_CHECK_RC(mcf_write_bytes("memory:///alloc/view.pt", buf, len, NULL), MCF_OK);
    free(buf);
    s[0] = mcf_slice_range(1, MCF_SLICE_END);
    s[1] = mcf_slice_range(0, MCF_SLICE_END);
    s[1].step = 2;
    memset(want, 0, sizeof want);
    mcf_test_sweep_begin(&sw, "slice of transpose_view.pt", MCF_OK);
    while (mcf_test_sweep_next(&sw)) {
        mcf_reader *r = NULL;
        int rc = mcf_open("nomap:///alloc/view.pt", NULL, &r);
        memset(got, 0xee, sizeof got);
        if (rc == MCF_OK) rc = mcf_read_as(r, 0, MCF_BF16, s, 2, got, sizeof got);
        MCF_CHECK(mcf_test_sweep_result(&sw, rc));
        if (rc == MCF_OK) {
            MCF_CHECK_RC(mcf_slice_shape(r, 0, s, 2, shape), MCF_OK);
            if (sw.n == 0) memcpy(want, got, sizeof want);
            MCF_CHECK(memcmp(got, want, sizeof got) == 0);
        }
        mcf_close(r);
        MCF_CHECK(mcf_test_sweep_end(&sw));
    }
    MCF_CHECK(shape[0] > 0 && shape[1] > 0);
    MCF_CHECK(sw.failed_runs > 10);
    MCF_CHECK_RC(mcf_remove("memory:///alloc/view.pt", NULL), MCF_OK);
    return 0;
}

/* Parallel reads on 4 threads from a mapped object (the parts allocate
 * nothing on the worker threads, so every allocation is the caller's):
 * mcf_read_many of every entry, a big mcf_read and a big converting
 * mcf_read_as cut into parts, after an open in the same run. */
static int parallel_alloc_failures_read_many(void)
{
    static float big[768 * 1024];                   /* 3 MiB: cut into parts */
    static float small[3][100];
    static double got[384 * 1024];
    void *dst[4];
    size_t idx[4], lens[4];
    mcf_tensor t[4];
    mcf_options o;
    mcf_test_sweep sw;
    mcf_slice half = mcf_slice_range(0, 384 * 1024);   /* as F64: the size of the F32 tensor */
    int i, k;
    for (i = 0; i < 768 * 1024; i++) big[i] = (float)(i % 1000);
    memset(t, 0, sizeof t);
    for (k = 0; k < 4; k++) {
        t[k].dtype = MCF_F32;
        t[k].ndim = 1;
        t[k].shape[0] = k ? 100 : 768 * 1024;
        t[k].data = k ? (const void *)small[k - 1] : (const void *)big;
        for (i = 0; k && i < 100; i++) small[k - 1][i] = (float)(k * 1000 + i);
    }
    t[0].name = "big"; t[1].name = "a"; t[2].name = "b"; t[3].name = "c";
    MCF_CHECK_RC(mcf_save("memory:///alloc/par.safetensors", t, 4, NULL), MCF_OK);
    memset(&o, 0, sizeof o);
    o.threads = 4;
    mcf_test_sweep_begin(&sw, "parallel reads", MCF_OK);
    while (mcf_test_sweep_next(&sw)) {
        mcf_reader *r = NULL;
        int rc = mcf_open("memory:///alloc/par.safetensors", &o, &r), ok = 1;
        void *many[4];
        for (k = 0; k < 4; k++) many[k] = NULL;
        for (k = 0; rc == MCF_OK && k < 4; k++) {
            int e = mcf_find(r, t[k].name);
            idx[k] = (size_t)e;
            lens[k] = (size_t)mcf_tensor_nbytes(&t[k]);
            if (e < 0 || !(many[k] = malloc(lens[k]))) rc = WRONG;
            dst[k] = many[k];
        }
        if (rc == MCF_OK) rc = mcf_read_many(r, idx, dst, lens, 4, NULL);
        for (k = 0; rc == MCF_OK && k < 4; k++) ok &= memcmp(many[k], t[k].data, lens[k]) == 0;
        if (rc == MCF_OK) rc = mcf_read(r, idx[0], got, sizeof big);
        if (rc == MCF_OK) ok &= memcmp(got, big, sizeof big) == 0;
        if (rc == MCF_OK) rc = mcf_read_as(r, idx[0], MCF_F64, &half, 1, got, sizeof got);
        if (rc == MCF_OK) ok &= got[384 * 1024 - 1] == (double)((384 * 1024 - 1) % 1000);
        if (rc == MCF_OK) rc = ok ? MCF_OK : WRONG;
        MCF_CHECK(mcf_test_sweep_result(&sw, rc));
        for (k = 0; k < 4; k++) free(many[k]);
        mcf_close(r);
        MCF_CHECK(mcf_test_sweep_end(&sw));
    }
    MCF_CHECK(sw.failed_runs > 5);
    MCF_CHECK_RC(mcf_remove("memory:///alloc/par.safetensors", NULL), MCF_OK);
    return 0;
}

/* ---- [22] Mooncake object codec, [23] store API ---------------------------------------- */

/* mcf_memory_store_create fails with NULL and an "out of memory" message. */
static int store_alloc_failures_create(void)
{
    mcf_test_sweep sw;
    mcf_test_sweep_begin(&sw, "mcf_memory_store_create", MCF_OK);
    while (mcf_test_sweep_next(&sw)) {
        mcf_store *s = mcf_memory_store_create();
        MCF_CHECK(mcf_test_sweep_result(&sw, s ? MCF_OK : MCF_INTERNAL_ERROR));
        mcf_memory_store_destroy(s);
        MCF_CHECK(mcf_test_sweep_end(&sw));
    }
    MCF_CHECK(sw.failed_runs >= 2);
    return 0;
}

/* One pass over the store API on s, judged by sw (1 = right). with_files
 * adds the store_file_io functions through memory:// (safetensors and
 * torch, tensor and KV-cache kinds). Leaves s and the memory filesystem as
 * it found them. */
static int store_scenario(mcf_store *s, int with_files, mcf_test_sweep *sw)
{
    static const char *const urls[4] = {"memory://oom/w.safetensors", "memory://oom/w.pt", "memory://oom/kv.pt", "memory://oom/w4.pt"};
    static const char *const keys[6] = {"w", "w2", "w3", "kv", "w4", "w5"};
    mcf_tensor t, out;
    int rc, i, ok;
    memset(&t, 0, sizeof t);
    t.name = "w"; t.dtype = MCF_F32; t.ndim = 2; t.shape[0] = 2; t.shape[1] = 3; t.data = f6;
    rc = mcf_store_put_tensor(s, "w", &t);
    if (rc == MCF_OK) {
        rc = mcf_store_get_tensor(s, "w", NULL, &out);
        if (rc == MCF_OK) { if (memcmp(out.data, f6, 24) != 0) rc = WRONG; mcf_tensor_free(&out, NULL); }
    }
    if (rc == MCF_OK && with_files) rc = mcf_save_tensor_to_file(s, "w", urls[0], NULL);
    if (rc == MCF_OK && with_files) {
        rc = mcf_load_tensor_from_file(s, "w2", urls[0], NULL, &out);
        if (rc == MCF_OK) { if (memcmp(out.data, f6, 24) != 0) rc = WRONG; mcf_tensor_free(&out, NULL); }
    }
    if (rc == MCF_OK && with_files) rc = mcf_save_tensor_to_file(s, "w", urls[1], NULL);
    if (rc == MCF_OK && with_files) rc = mcf_load_tensor_from_file(s, "w3", urls[1], NULL, NULL);
    if (rc == MCF_OK && with_files) rc = mcf_save_kv_cache_to_file(s, "w", urls[2], NULL);
    if (rc == MCF_OK && with_files) {
        rc = mcf_load_kv_cache_from_file(s, "kv", urls[2], NULL, &out);
        if (rc == MCF_OK) { if (memcmp(out.data, f6, 24) != 0) rc = WRONG; mcf_tensor_free(&out, NULL); }
    }
    /* the two-way pair: put and write, then read back from the file and from the store */
    if (rc == MCF_OK && with_files) rc = mcf_save_tensor(s, "w4", &t, urls[3], "safe_tensors", NULL);
    if (rc == MCF_OK && with_files) rc = mcf_load_tensor(s, "w5", urls[3], "generic", NULL, NULL);
    if (rc == MCF_OK && with_files) {
        rc = mcf_load_tensor(s, "w5", NULL, NULL, NULL, &out);
        if (rc == MCF_OK) { if (memcmp(out.data, f6, 24) != 0) rc = WRONG; mcf_tensor_free(&out, NULL); }
    }
    ok = mcf_test_sweep_result(sw, rc);
    for (i = 0; with_files && i < 4; i++) (void)mcf_remove(urls[i], NULL);
    for (i = 0; i < 6; i++) (void)s->remove(s->user, keys[i]);
    return ok;
}

static int store_sweep(int with_files)
{
    mcf_test_sweep sw;
    mcf_store *s = mcf_memory_store_create();
    MCF_CHECK(s != NULL);
    mcf_test_sweep_begin(&sw, with_files ? "store file functions" : "codec and memory store", MCF_OK);
    while (mcf_test_sweep_next(&sw)) {
        MCF_CHECK(store_scenario(s, with_files, &sw));
        MCF_CHECK(mcf_test_sweep_end(&sw));
    }
    mcf_memory_store_destroy(s);
    MCF_CHECK(sw.failed_runs > (with_files ? 20 : 3));
    return 0;
}

static int store_alloc_failures_codec_and_store(void) { return store_sweep(0); }

/* One pass over the batch and raw-value functions on s (hooks or not):
 * every failure is the run's code, and a failed batch hands nothing out. */
static int store_batch_scenario(mcf_store *s, mcf_test_sweep *sw)
{
    static const char *const keys[3] = {"b0", "b1", "raw"};
    mcf_tensor t[2], out[2];
    unsigned char buf[8];
    size_t len = 0;
    int res[2], rc, i, ok;
    memset(t, 0, sizeof t);
    for (i = 0; i < 2; i++) { t[i].dtype = MCF_F32; t[i].ndim = 1; t[i].shape[0] = 6; t[i].data = f6; }
    rc = mcf_store_put_tensors(s, keys, t, 2, res);
    if (rc == MCF_OK && (res[0] != MCF_OK || res[1] != MCF_OK)) rc = WRONG;
    if (rc == MCF_OK) {
        rc = mcf_store_get_tensors(s, keys, NULL, out, 2, res);
        for (i = 0; i < 2; i++) {
            if (res[i] == MCF_OK ? memcmp(out[i].data, f6, 24) != 0 : out[i].data != NULL) rc = WRONG;
            mcf_tensor_free(&out[i], NULL);
        }
    }
    if (rc == MCF_OK) rc = mcf_store_put_bytes(s, "raw", "abcdef", 6);
    if (rc == MCF_OK && (rc = mcf_store_get_into(s, "raw", buf, sizeof buf, &len)) == MCF_OK && (len != 6 || memcmp(buf, "abcdef", 6) != 0))
        rc = WRONG;
    ok = mcf_test_sweep_result(sw, rc);
    for (i = 0; i < 3; i++) (void)s->remove(s->user, keys[i]);
    return ok;
}

static int batch_sweep(int hooks)
{
    mcf_test_sweep sw;
    mcf_store *m = mcf_memory_store_create(), s;
    MCF_CHECK(m != NULL);
    s = *m;
    if (!hooks) {
        s.get_into = NULL;
        s.put_batch = NULL;
        s.get_batch = NULL;
    }
    mcf_test_sweep_begin(&sw, hooks ? "batches (memory store hooks)" : "batches (key by key)", MCF_OK);
    while (mcf_test_sweep_next(&sw)) {
        MCF_CHECK(store_batch_scenario(&s, &sw));
        MCF_CHECK(mcf_test_sweep_end(&sw));
    }
    mcf_memory_store_destroy(m);
    MCF_CHECK(sw.failed_runs > 5);
    return 0;
}

/* [25] seeding a checkpoint (chunked and whole) into the memory store:
 * a failure leaves the keys put before it and keeps no block. */
static int seed_alloc_failures(void)
{
    static const char *const keys[6] = {"m/keys/rank_0/a", "m/keys/rank_0/b.__chunk__.0", "m/keys/rank_0/b.__chunk__.1",
                                        "m/keys/rank_0/b.__chunk__.2", "m/keys/rank_0/b.__chunk_manifest__", "m/keys/rank_0/b"};
    mcf_tensor t[2];
    mcf_options o;
    mcf_test_sweep sw;
    mcf_store *s = mcf_memory_store_create();
    const char *url = "memory://oom/seed.safetensors";
    int i, pass;
#ifndef MCF_NO_POSIX
    char local[512];
    mcf_test_tmp_path(local, sizeof local, "seed.safetensors");
#endif
    MCF_CHECK(s != NULL);
    memset(t, 0, sizeof t);
    t[0].name = "a"; t[0].dtype = MCF_F32; t[0].ndim = 1; t[0].shape[0] = 2; t[0].data = f6;
    t[1].name = "b"; t[1].dtype = MCF_F32; t[1].ndim = 1; t[1].shape[0] = 6; t[1].data = f6;
    MCF_CHECK_RC(mcf_save(url, t, 2, NULL), MCF_OK);
    /* memory:// (put straight from the object) and, where there are local
     * files, a file read into the one buffer; whole tensors and chunks */
    for (pass = 0; pass < 4; pass++) {
#ifndef MCF_NO_POSIX
        if (pass == 2) {
            MCF_CHECK_RC(mcf_save(local, t, 2, NULL), MCF_OK);
            url = local;
        }
#else
        if (pass == 2) break;
#endif
        memset(&o, 0, sizeof o);
        o.chunk_bytes = pass % 2 ? 10 : 0;
        mcf_test_sweep_begin(&sw, pass % 2 ? "mcf_seed_model (chunks)" : "mcf_seed_model", MCF_OK);
        while (mcf_test_sweep_next(&sw)) {
            MCF_CHECK(mcf_test_sweep_result(&sw, mcf_seed_model(s, url, "m", 0, &o)));
            for (i = 0; i < 6; i++) (void)s->remove(s->user, keys[i]);
            MCF_CHECK(mcf_test_sweep_end(&sw));
        }
        MCF_CHECK(sw.failed_runs > (pass % 2 ? 8 : 4));
    }
    MCF_CHECK_RC(mcf_remove("memory://oom/seed.safetensors", NULL), MCF_OK);
#ifndef MCF_NO_POSIX
    MCF_CHECK_RC(mcf_remove(local, NULL), MCF_OK);
#endif
    /* through an index over two shards */
    memset(&o, 0, sizeof o);
    o.max_shard_bytes = 8;
    MCF_CHECK_RC(mcf_save("memory://oom/sh/model.safetensors", t, 2, &o), MCF_OK);
    for (pass = 0; pass < 2; pass++) {
        memset(&o, 0, sizeof o);
        o.chunk_bytes = pass ? 10 : 0;
        mcf_test_sweep_begin(&sw, pass ? "mcf_seed_model (index, chunks)" : "mcf_seed_model (index)", MCF_OK);
        while (mcf_test_sweep_next(&sw)) {
            MCF_CHECK(mcf_test_sweep_result(&sw, mcf_seed_model(s, "memory://oom/sh/model.safetensors.index.json", "m", 0, &o)));
            for (i = 0; i < 6; i++) (void)s->remove(s->user, keys[i]);
            MCF_CHECK(mcf_test_sweep_end(&sw));
        }
        MCF_CHECK(sw.failed_runs > 8);
    }
    MCF_CHECK_RC(mcf_remove("memory://oom/sh/model.safetensors.index.json", NULL), MCF_OK);
    MCF_CHECK_RC(mcf_remove("memory://oom/sh/model-00001-of-00002.safetensors", NULL), MCF_OK);
    MCF_CHECK_RC(mcf_remove("memory://oom/sh/model-00002-of-00002.safetensors", NULL), MCF_OK);
    mcf_memory_store_destroy(s);
    return 0;
}

static int store_alloc_failures_batches_hooks(void) { return batch_sweep(1); }
static int store_alloc_failures_batches_per_key(void) { return batch_sweep(0); }
static int store_alloc_failures_file_functions(void) { return store_sweep(1); }

/* ---- [20] sharded checkpoints ---------------------------------------------- */

static const char *const shard_files[] = {"m-00001-of-00003.safetensors", "m-00002-of-00003.safetensors", "m-00003-of-00003.safetensors",
                                          "m.safetensors.index.json", "m.safetensors", NULL};

/* How many of the files above exist under memory://alloc/<dir>/; removes them. */
static int shard_files_remove(const char *dir)
{
    char url[128];
    int k, n = 0;
    for (k = 0; shard_files[k]; k++) {
        (void)snprintf(url, sizeof url, "memory://alloc/%s/%s", dir, shard_files[k]);
        if (mcf_exists(url, NULL) == 1) { n++; (void)mcf_remove(url, NULL); }
    }
    return n;
}

/* Three 8-byte U8 tensors and a 2x2 F32 at 12-byte shards: 3 shards. */
static size_t shard_tensors(mcf_tensor *t)
{
    static const unsigned char b[8] = {1, 2, 3, 4, 5, 6, 7, 8};
    static const float f[4] = {1, 2, 3, 4};
    static const char *const names[3] = {"layers.0.w", "layers.0.b", "caf\xc3\xa9"};
    int k;
    memset(t, 0, 4 * sizeof *t);
    for (k = 0; k < 3; k++) { t[k].name = names[k]; t[k].dtype = MCF_U8; t[k].ndim = 1; t[k].shape[0] = 8; t[k].data = b; }
    t[1].shape[0] = 4;
    t[3].name = "head"; t[3].dtype = MCF_F32; t[3].ndim = 2; t[3].shape[0] = 2; t[3].shape[1] = 2; t[3].data = f;
    return 4;
}

/* Opening a sharded checkpoint (index, three shards, merge, metadata)
 * under every failing allocation. */
static int shard_alloc_failures_open(void)
{
    mcf_tensor t[4];
    mcf_options o;
    size_t n = shard_tensors(t);
    int bad;
    memset(&o, 0, sizeof o);
    o.max_shard_bytes = 12;
    MCF_CHECK_RC(mcf_save("memory://alloc/shopen/m.safetensors", t, n, &o), MCF_OK);
    memset(&o, 0, sizeof o);
    bad = sweep_open("sharded open", "memory://alloc/shopen/m.safetensors.index.json", NULL, 0, &o, MCF_OK, 4, 0, 20);
    MCF_CHECK(shard_files_remove("shopen") == 4);
    return bad;
}

/* A sharded save under every failing allocation: it succeeds with every
 * file, or fails leaving none of them (no index, no shard). */
static int shard_alloc_failures_save(void)
{
    mcf_tensor t[4];
    mcf_options o;
    mcf_test_sweep sw;
    size_t n = shard_tensors(t);
    memset(&o, 0, sizeof o);
    o.max_shard_bytes = 12;
    mcf_test_sweep_begin(&sw, "sharded save", MCF_OK);
    while (mcf_test_sweep_next(&sw)) {
        int rc = mcf_save("memory://alloc/shsave/m.safetensors", t, n, &o);
        MCF_CHECK(mcf_test_sweep_result(&sw, rc));
        MCF_CHECK(shard_files_remove("shsave") == (rc == MCF_OK ? 4 : 0));
        MCF_CHECK(mcf_test_sweep_end(&sw));
    }
    MCF_CHECK(sw.failed_runs > 10);
    return 0;
}

/* Last: every test left the library holding no block at all (the memory
 * filesystem and the registry give theirs back once emptied). */
static int alloc_nothing_left_allocated(void)
{
    MCF_CHECK(mcf_test_alloc_live == 0);
    return 0;
}

#ifndef MCF_NO_POSIX
#define POSIX_TESTS , MCF_TEST(posix_alloc_failures_bytes)
#else
#define POSIX_TESTS
#endif

MCF_TEST_MAIN(
    MCF_TEST(url_alloc_failures_parse),
    MCF_TEST(memory_alloc_failures_bytes),
    MCF_TEST(safetensors_alloc_failures_open),
    MCF_TEST(safetensors_alloc_failures_save),
    MCF_TEST(json_alloc_failures_escaped_metadata),
    MCF_TEST(safetensors_alloc_failures_refusals),
    MCF_TEST(torch_alloc_failures_open),
    MCF_TEST(values_alloc_failures_list),
    MCF_TEST(torch_alloc_failures_save),
    MCF_TEST(convert_allocates_nothing),
    MCF_TEST(slice_alloc_failures_report_and_free),
    MCF_TEST(slice_alloc_failures_torch_view),
    MCF_TEST(parallel_alloc_failures_read_many),
    MCF_TEST(store_alloc_failures_create),
    MCF_TEST(store_alloc_failures_codec_and_store),
    MCF_TEST(store_alloc_failures_batches_hooks),
    MCF_TEST(store_alloc_failures_batches_per_key),
    MCF_TEST(seed_alloc_failures),
    MCF_TEST(store_alloc_failures_file_functions),
    MCF_TEST(shard_alloc_failures_open),
    MCF_TEST(shard_alloc_failures_save)
    POSIX_TESTS
    CURL_TESTS,
    MCF_TEST(alloc_nothing_left_allocated)
)
