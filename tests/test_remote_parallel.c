/* [12] fs: http & s3 (curl) with options.threads > 1: read_at on several
 * threads at once for one open object (a pool of handles, one connection
 * each), big reads split into ranged GETs fetched at once, multipart uploads
 * sending several parts at once; injected failures of one range or one part,
 * once (the retry succeeds) or always (a clear error, nothing left behind).
 * Real servers on 127.0.0.1: nginx (its access log names each request's
 * connection) and s3rver (tests/servers/s3-server.js fails the ranges and
 * parts named in a key and counts requests in flight). Without curl the file
 * holds one test. */
#include "mcf_test.h"

#ifndef MOONCAKE_FILEIO_CURL
static int remote_parallel_needs_curl(void)
{
    mcf_filesystem fs;
    MCF_CHECK_RC(mcf_filesystem_lookup("s3", &fs), MCF_INVALID_PARAMS);
    MCF_CHECK_ERR("MOONCAKE_FILEIO_CURL");
    return 0;
}
MCF_TEST_MAIN(MCF_TEST(remote_parallel_needs_curl))
#else

#include "mcf_test_server.h"
#include <pthread.h>
#if defined(__GLIBC__) && (__GLIBC__ > 2 || (__GLIBC__ == 2 && __GLIBC_MINOR__ >= 33))
#include <malloc.h>
#define HEAP_GAUGE 1
#endif
#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
#undef HEAP_GAUGE   /* the sanitizers' allocators keep glibc's counts still */
#elif defined(__has_feature)
#if __has_feature(address_sanitizer) || __has_feature(thread_sanitizer)
#undef HEAP_GAUGE
#endif
#endif

#define MIB ((size_t)1 << 20)
#define CHECK_NO_SECRETS() MCF_CHECK(!strstr(mcf_last_error(), S3_SECRET) && !strstr(mcf_last_error(), S3_KEY))

static uint64_t requests_now(void)
{
    uint64_t r;
    mcf_curl_counters(&r, NULL, NULL);
    return r;
}

/* ---- nginx's access log: "$connection $method $uri \"$http_range\" $status" ---- */
static long log_size(void)
{
    char path[128];
    struct stat st;
    (void)snprintf(path, sizeof path, "%s/www/logs/access.log", g_http.dir);
    return stat(path, &st) == 0 ? (long)st.st_size : 0;
}

/* Distinct connections of the ranged GETs of uri logged after byte from. */
static int log_connections(long from, const char *uri, int *ranged_gets)
{
    char path[128], line[512], want[200];
    long conns[256];
    int n = 0, i;
    FILE *f;
    *ranged_gets = 0;
    (void)snprintf(path, sizeof path, "%s/www/logs/access.log", g_http.dir);
    (void)snprintf(want, sizeof want, " GET %s \"bytes=", uri);
    if (!(f = fopen(path, "r"))) return -1;
    (void)fseek(f, from, SEEK_SET);
    while (fgets(line, sizeof line, f)) {
        long c = strtol(line, NULL, 10);
        if (!strstr(line, want)) continue;
        (*ranged_gets)++;
        for (i = 0; i < n && conns[i] != c; i++) { }
        if (i == n && n < 256) conns[n++] = c;
    }
    fclose(f);
    return n;
}

/* ---- s3-server.js's gauge: most requests in flight at once since reset;
 * *conns (when not NULL): the client connections seen since then ---- */
static int s3_gauge_conns(const char *what, int *conns)
{
    char url[128];
    void *p = NULL;
    size_t n = 0;
    int v = -1;
    if (conns) *conns = -1;
    (void)snprintf(url, sizeof url, "%s/__mcf/%s", g_s3_endpoint, what);
    if (mcf_read_bytes(url, &p, &n, NULL) == MCF_OK && n < 200) {
        const char *s = strstr((const char *)p, "inflight_max="), *c = strstr((const char *)p, "sockets=");
        if (s) v = atoi(s + 13);
        if (c && conns) *conns = atoi(c + 8);
    }
    mcf_free(p);
    return v;
}

static int s3_gauge(const char *what) { return s3_gauge_conns(what, NULL); }

/* Options with extra storage options appended to base's (NULL-ended pairs). */
static const char *g_opts[24];
static mcf_options with_opts(const mcf_options *base, unsigned threads, const char *const *extra)
{
    mcf_options o;
    size_t n = 0, i;
    if (base) o = *base;
    else memset(&o, 0, sizeof o);
    if (base && base->storage_options)
        for (; base->storage_options[n]; n++) g_opts[n] = base->storage_options[n];
    for (i = 0; extra && extra[i]; i++) g_opts[n++] = extra[i];
    g_opts[n] = NULL;
    o.storage_options = g_opts;
    o.threads = threads;
    return o;
}

/* ---- several threads on one reader ---- */
typedef struct reader_job {
    const mcf_filesystem *fs;
    void *f;
    const unsigned char *data;
    size_t n;
    unsigned seed;
    pthread_barrier_t *go;
    int bad;
    char err[200];
} reader_job;

/* 24 reads each: big ones (on pool handles, concurrently) and small ones
 * (through the kept blocks, under the reader's lock). */
static void *reader_thread(void *arg)
{
    reader_job *j = (reader_job *)arg;
    unsigned char *buf = (unsigned char *)malloc(600000);
    uint32_t x = 88172645u ^ j->seed;
    int i;
    (void)pthread_barrier_wait(j->go);
    for (i = 0; buf && i < 24 && !j->bad; i++) {
        size_t len, off;
        x ^= x << 13; x ^= x >> 17; x ^= x << 5;
        len = (i & 1) ? 1 + x % 5000 : 100000 + x % 500000;
        off = (size_t)(x >> 3) % (j->n - len);
        if (j->fs->read_at(j->f, off, buf, len) != MCF_OK) {
            (void)snprintf(j->err, sizeof j->err, "%s", mcf_last_error());
            j->bad = 1;
        } else if (memcmp(buf, j->data + off, len) != 0) {
            (void)snprintf(j->err, sizeof j->err, "bytes differ at %lu (+%lu)", (unsigned long)off, (unsigned long)len);
            j->bad = 1;
        }
    }
    if (!buf) j->bad = 1;
    free(buf);
    return NULL;
}

/* Runs nthreads reader threads on f; 0 when every read was right. */
static int run_readers(const mcf_filesystem *fs, void *f, const unsigned char *data, size_t n, int nthreads)
{
    pthread_t t[8];
    reader_job jobs[8];
    pthread_barrier_t go;
    int i, bad = 0;
    (void)pthread_barrier_init(&go, NULL, (unsigned)nthreads);
    for (i = 0; i < nthreads; i++) {
        memset(&jobs[i], 0, sizeof jobs[i]);
        jobs[i].fs = fs;
        jobs[i].f = f;
        jobs[i].data = data;
        jobs[i].n = n;
        jobs[i].seed = (unsigned)i * 7919u + 1u;
        jobs[i].go = &go;
        if (pthread_create(&t[i], NULL, reader_thread, &jobs[i]) != 0) return 1;
    }
    for (i = 0; i < nthreads; i++) {
        (void)pthread_join(t[i], NULL);
        if (jobs[i].bad) {
            fprintf(stderr, "  reader thread %d: %s\n", i, jobs[i].err);
            bad = 1;
        }
    }
    (void)pthread_barrier_destroy(&go);
    return bad;
}

/* 8 threads on one nginx object opened with threads = 4: every byte right,
 * and nginx saw at least 2 and at most 4 connections (one per pool handle).
 * Then again with 64 KiB parts: the big reads split while other threads
 * wait for handles. */
static int remote_http_read_at_many_threads(void)
{
    static const char *const none[] = { NULL }, *const small_parts[] = { "part_size", "65536", NULL };
    char url[160];
    mcf_filesystem fs;
    mcf_url u;
    mcf_options o;
    void *f = NULL;
    uint64_t size = 0;
    size_t n = 4 * MIB;
    unsigned char *data = noise(n, 11);
    long from;
    int conns, gets, pass;
    NEED_HTTP();
    MCF_CHECK(data != NULL);
    (void)snprintf(url, sizeof url, "%s/par/threads.bin", g_http_base);
    MCF_CHECK_RC(mcf_write_bytes(url, data, n, NULL), MCF_OK);
    MCF_CHECK_RC(mcf_filesystem_lookup("http", &fs), MCF_OK);
    MCF_CHECK(fs.flags & MCF_FS_THREADSAFE_READ);
    MCF_CHECK_RC(mcf_url_parse(url, NULL, &u), MCF_OK);
    for (pass = 0; pass < 2; pass++) {
        o = with_opts(NULL, 4, pass ? small_parts : none);
        from = log_size();
        MCF_CHECK_RC(fs.open_read(fs.user, &u, &o, &f, &size), MCF_OK);
        MCF_CHECK(size == n);
        MCF_CHECK(run_readers(&fs, f, data, n, 8) == 0);
        fs.close_read(f);
        conns = log_connections(from, "/par/threads.bin", &gets);
        fprintf(stderr, "  8 threads, threads = 4%s: %d ranged GETs on %d connections\n", pass ? ", 64 KiB parts" : "", gets, conns);
        MCF_CHECK(gets > 8);
        /* one per pool handle; a split's multi handle keeps 4 more, and the
         * open's ranged GET counts its handle's own connection even when
         * that handle then runs only in splits (on the multi's) */
        MCF_CHECK(conns >= 2 && conns <= (pass ? 9 : 4));
    }
    mcf_url_free(&u);
    MCF_CHECK_RC(mcf_remove(url, NULL), MCF_OK);
    free(data);
    return 0;
}

/* Opens url with o, checks a small read, then reads [off, off + len) in one
 * read_at and compares it with data; the requests the big read sent in *reqs. */
static int big_read(const char *scheme, const char *url, const mcf_options *o, const unsigned char *data, size_t off, size_t len,
                    int want_rc, uint64_t *reqs)
{
    mcf_filesystem fs;
    mcf_url u;
    void *f = NULL;
    uint64_t size = 0, r0;
    unsigned char small[16], *buf = (unsigned char *)malloc(len);
    int rc = 1;
    if (!buf || mcf_filesystem_lookup(scheme, &fs) != MCF_OK || mcf_url_parse(url, NULL, &u) != MCF_OK) { free(buf); return 1; }
    if (fs.open_read(fs.user, &u, o, &f, &size) == MCF_OK) {
        /* a small read first: the server shows it honours Range */
        if (fs.read_at(f, size - 16, small, 16) == MCF_OK && memcmp(small, data + size - 16, 16) == 0) {
            r0 = requests_now();
            rc = fs.read_at(f, off, buf, len);
            *reqs = requests_now() - r0;
            if (rc == MCF_OK && memcmp(buf, data + off, len) != 0) {
                fprintf(stderr, "  %s: bytes differ\n", url);
                rc = 1;
            } else if (rc != want_rc) {
                fprintf(stderr, "  %s: rc %d, wanted %d: %s\n", url, rc, want_rc, mcf_last_error());
                rc = 1;
            } else {
                rc = 0;
            }
        } else {
            fprintf(stderr, "  %s: small read: %s\n", url, mcf_last_error());
        }
        fs.close_read(f);
    } else {
        fprintf(stderr, "  %s: open: %s\n", url, mcf_last_error());
    }
    mcf_url_free(&u);
    free(buf);
    return rc;
}

/* One read_at of 16 MiB with threads = 4 and 1 MiB parts: 16 ranged GETs of
 * 1 MiB, run on 4 connections at once. */
static int remote_http_big_read_split(void)
{
    static const char *const part[] = { "part_size", "1048576", NULL };
    char url[160];
    mcf_options o = with_opts(NULL, 4, part), one = with_opts(NULL, 1, part);
    size_t n = 16 * MIB;
    unsigned char *data = noise(n, 12);
    uint64_t reqs = 0;
    long from;
    int conns, gets;
    NEED_HTTP();
    MCF_CHECK(data != NULL);
    (void)snprintf(url, sizeof url, "%s/par/split.bin", g_http_base);
    MCF_CHECK_RC(mcf_write_bytes(url, data, n, NULL), MCF_OK);
    from = log_size();
    MCF_CHECK(big_read("http", url, &o, data, 0, n, MCF_OK, &reqs) == 0);
    conns = log_connections(from, "/par/split.bin", &gets);
    fprintf(stderr, "  16 MiB, threads = 4, part_size 1 MiB: %llu requests, %d ranged GETs on %d connections\n",
            (unsigned long long)reqs, gets, conns);
    MCF_CHECK(reqs == 16);                     /* the open kept the first 72 KiB: 16 MiB - 72 KiB in 16 pieces */
    MCF_CHECK(gets == 18);                     /* with the open's block and the small read's */
    MCF_CHECK(conns >= 3 && conns <= 5);       /* 4 at once (+ the open's and the small read's) */
    /* threads = 1: one GET, the same bytes */
    MCF_CHECK(big_read("http", url, &one, data, 0, n, MCF_OK, &reqs) == 0);
    MCF_CHECK(reqs == 1);
    /* unaligned: a range in the middle */
    MCF_CHECK(big_read("http", url, &o, data, 12345, n - 99999, MCF_OK, &reqs) == 0);
    MCF_CHECK(reqs == 16);                     /* 16 MiB - 99999 bytes: 16 pieces */
    MCF_CHECK_RC(mcf_remove(url, NULL), MCF_OK);
    free(data);
    return 0;
}

/* nginx answers 500 to every GET of /fault/ whose range starts at 2 MiB: the
 * split read fails naming that range after its retries; others still work. */
static int remote_http_big_read_range_fails_always(void)
{
    static const char *const part[] = { "part_size", "1048576", "retries", "1", NULL };
    char url[160];
    mcf_options o = with_opts(NULL, 4, part);
    size_t n = 16 * MIB;
    unsigned char *data = noise(n, 13);
    uint64_t reqs = 0;
    NEED_HTTP();
    MCF_CHECK(data != NULL);
    (void)snprintf(url, sizeof url, "%s/fault/always.bin", g_http_base);
    MCF_CHECK_RC(mcf_write_bytes(url, data, n, NULL), MCF_OK);
    /* from 1 MiB: past the block the open kept, so a piece starts at 2 MiB */
    MCF_CHECK(big_read("http", url, &o, data, MIB, n - MIB, MCF_PERSISTENT_FAIL, &reqs) == 0);
    MCF_CHECK_ERR("GET");
    MCF_CHECK_ERR("/fault/always.bin bytes 2097152-3145727: HTTP 500");
    MCF_CHECK_ERR("gave up after 2 attempts");
    MCF_CHECK(big_read("http", url, &o, data, 4 * MIB, 8 * MIB, MCF_OK, &reqs) == 0);
    MCF_CHECK(reqs == 8);
    MCF_CHECK_RC(mcf_remove(url, NULL), MCF_OK);
    free(data);
    return 0;
}

/* The same over S3: a range failing once is retried (one request more),
 * one failing always fails the read with the range and S3's error code. */
static int remote_s3_big_read_range_faults(void)
{
    static const char *const part[] = { "part_size", "1048576", "retries", "1", NULL };
    const char *once = "s3://" S3_BUCKET "/par/fault-get-once-2097152/obj.bin";
    const char *always = "s3://" S3_BUCKET "/par/fault-get-always-2097152/obj.bin";
    mcf_options base, o;
    size_t n = 16 * MIB;
    unsigned char *data = noise(n, 14);
    uint64_t reqs = 0;
    NEED_S3();
    MCF_CHECK(data != NULL);
    base = s3_options(S3_SECRET);
    MCF_CHECK_RC(mcf_write_bytes(once, data, n, &base), MCF_OK);
    MCF_CHECK_RC(mcf_write_bytes(always, data, n, &base), MCF_OK);
    o = with_opts(&base, 4, part);
    MCF_CHECK(s3_gauge("reset") == 0);
    /* from 1 MiB: past the block the open kept, so a piece starts at 2 MiB */
    MCF_CHECK(big_read("s3", once, &o, data, MIB, n - MIB, MCF_OK, &reqs) == 0);
    fprintf(stderr, "  s3 16 MiB, threads = 4, one range failing once: %llu requests, %d at once\n",
            (unsigned long long)reqs, s3_gauge("stats"));
    MCF_CHECK(reqs == 16);                     /* 15 pieces + the retry */
    MCF_CHECK(s3_gauge("stats") >= 2);
    MCF_CHECK(big_read("s3", always, &o, data, MIB, n - MIB, MCF_PERSISTENT_FAIL, &reqs) == 0);
    MCF_CHECK_ERR("bytes 2097152-3145727: HTTP 500 InternalError: injected failure (gave up after 2 attempts)");
    CHECK_NO_SECRETS();
    MCF_CHECK_RC(mcf_remove(once, &base), MCF_OK);
    MCF_CHECK_RC(mcf_remove(always, &base), MCF_OK);
    free(data);
    return 0;
}

/* mcf_read_bytes with threads = 4 over http: the open's ranged GET shows
 * that Range is honoured and keeps the first 72 KiB; the whole object's one
 * read_at takes those from the block and splits the rest. */
static int remote_http_read_bytes_threads(void)
{
    static const char *const part[] = { "part_size", "1048576", NULL };
    char url[160];
    mcf_options o = with_opts(NULL, 4, part);
    size_t n = 8 * MIB + 3, len = 0;
    unsigned char *data = noise(n, 15);
    void *back = NULL;
    uint64_t r0;
    NEED_HTTP();
    MCF_CHECK(data != NULL);
    (void)snprintf(url, sizeof url, "%s/par/whole.bin", g_http_base);
    MCF_CHECK_RC(mcf_write_bytes(url, data, n, NULL), MCF_OK);
    r0 = requests_now();
    MCF_CHECK_RC(mcf_read_bytes(url, &back, &len, &o), MCF_OK);
    MCF_CHECK(len == n && memcmp(back, data, n) == 0);
    /* the open's GET (206: Range honoured, its 72 KiB kept), then the other
     * 8 MiB + 3 - 72 KiB in 8 pieces */
    MCF_CHECK(requests_now() - r0 == 1 + 8);
    mcf_free(back);
    MCF_CHECK_RC(mcf_remove(url, NULL), MCF_OK);
    free(data);
    return 0;
}

/* A server that ignores Range (python3 -m http.server) with threads = 4: the
 * open's GET shows it (a 200, cut after 72 KiB), the rest comes from the held
 * stream, not split; the bytes equal and the note says why. */
static int remote_http_threads_without_range(void)
{
    static const char *const part[] = { "part_size", "1048576", NULL };
    char path[160], url[160];
    mcf_options o = with_opts(NULL, 4, part);
    size_t n = 6 * MIB + 5, len = 0;
    unsigned char *data = noise(n, 19);
    void *back = NULL;
    uint64_t r0;
    FILE *f;
    NEED_PY();
    MCF_CHECK(data != NULL);
    (void)snprintf(path, sizeof path, "%s/www/norange.bin", g_py.dir);
    MCF_CHECK((f = fopen(path, "wb")) != NULL);
    MCF_CHECK(fwrite(data, 1, n, f) == n);
    MCF_CHECK(fclose(f) == 0);
    (void)snprintf(url, sizeof url, "%s/norange.bin", g_py_base);
    r0 = requests_now();
    MCF_CHECK_RC(mcf_read_bytes(url, &back, &len, &o), MCF_OK);
    MCF_CHECK(len == n && memcmp(back, data, n) == 0);
    MCF_CHECK(requests_now() - r0 == 2);   /* the open's GET (a 200, cut), one GET streamed from byte 0 */
    MCF_CHECK_ERR("ignores Range");
    mcf_free(back);
    MCF_CHECK(remove(path) == 0);
    free(data);
    return 0;
}

/* End to end: mcf_open + mcf_read of an 8 MiB tensor from nginx with
 * threads = 4: the tensor's bytes arrive in several ranged GETs on several
 * connections at once, equal to what was saved. */
static int remote_http_mcf_read_threads(void)
{
    static const char *const part[] = { "part_size", "1048576", NULL };
    char url[160];
    mcf_options o = with_opts(NULL, 4, part);
    mcf_tensor t;
    mcf_reader *r = NULL;
    size_t n = 8 * MIB;
    unsigned char *data = noise(n, 18), *back = (unsigned char *)malloc(n);
    uint64_t r0, reqs;
    long from;
    int conns, gets;
    NEED_HTTP();
    MCF_CHECK(data != NULL && back != NULL);
    (void)snprintf(url, sizeof url, "%s/par/model.safetensors", g_http_base);
    memset(&t, 0, sizeof t);
    t.name = "w";
    t.dtype = MCF_U8;
    t.ndim = 1;
    t.shape[0] = (int64_t)n;
    t.data = data;
    MCF_CHECK_RC(mcf_save(url, &t, 1, NULL), MCF_OK);
    from = log_size();
    MCF_CHECK_RC(mcf_open(url, &o, &r), MCF_OK);
    r0 = requests_now();
    MCF_CHECK_RC(mcf_read(r, 0, back, n), MCF_OK);
    reqs = requests_now() - r0;
    MCF_CHECK(memcmp(back, data, n) == 0);
    mcf_close(r);
    conns = log_connections(from, "/par/model.safetensors", &gets);
    fprintf(stderr, "  mcf_read of 8 MiB, threads = 4: %llu requests, %d connections\n", (unsigned long long)reqs, conns);
    /* the reader cuts the read into parts on its threads, each a read_at on
     * a handle of its own, or the backend splits one read_at into 1 MiB
     * ranged GETs: either way several requests on several connections */
    MCF_CHECK(reqs >= 4 && reqs <= 9);
    MCF_CHECK(conns >= 3 && conns <= 5);
    MCF_CHECK_RC(mcf_remove(url, NULL), MCF_OK);
    free(back);
    free(data);
    return 0;
}

/* ---- parallel multipart uploads ---- */
/* Writes n bytes through the s3 backend in 64 KiB writes; *peak: the most
 * heap in use above the start (when HEAP_GAUGE), sampled after each write. */
static int upload(const char *url, const mcf_options *o, const unsigned char *data, size_t n, size_t *peak)
{
    mcf_filesystem fs;
    mcf_url u;
    void *f = NULL;
    size_t at = 0;
    int rc;
#ifdef HEAP_GAUGE
    struct mallinfo2 m0 = mallinfo2();
    size_t base = m0.uordblks + m0.hblkhd;
#endif
    *peak = 0;
    if (mcf_filesystem_lookup("s3", &fs) != MCF_OK || mcf_url_parse(url, NULL, &u) != MCF_OK) return MCF_INTERNAL_ERROR;
    if ((rc = fs.open_write(fs.user, &u, n, o, &f)) == MCF_OK) {
        while (rc == MCF_OK && at < n) {
            size_t k = n - at < 65536 ? n - at : 65536;
            rc = fs.write(f, data + at, k);
            at += k;
#ifdef HEAP_GAUGE
            {
                struct mallinfo2 m = mallinfo2();
                if (m.uordblks + m.hblkhd > base && m.uordblks + m.hblkhd - base > *peak) *peak = m.uordblks + m.hblkhd - base;
            }
#endif
        }
        if (rc == MCF_OK) rc = fs.commit(f);
        else fs.abort(f);
    }
    mcf_url_free(&u);
    return rc;
}

/* 1 when the object at url reads back as exactly the n bytes at data. */
static int reads_back(const char *url, const mcf_options *o, const unsigned char *data, size_t n)
{
    void *back = NULL;
    size_t len = 0;
    int same = mcf_read_bytes(url, &back, &len, o) == MCF_OK && len == n && memcmp(back, data, n) == 0;
    if (!same) fprintf(stderr, "  %s: %s\n", url, mcf_last_error());
    mcf_free(back);
    return same;
}

/* upload() between a reset and a reading of the server's gauge: *reqs the
 * requests the upload made, *most the most at once, *conns its connections. */
static int gauged_upload(const char *url, const mcf_options *o, const unsigned char *data, size_t n, size_t *peak,
                         uint64_t *reqs, int *most, int *conns)
{
    uint64_t r0;
    int rc;
    if (s3_gauge("reset") != 0) return MCF_INTERNAL_ERROR;
    r0 = requests_now();
    rc = upload(url, o, data, n, peak);
    *most = s3_gauge_conns("stats", conns);
    *reqs = requests_now() - r0 - 1;   /* less the gauge's own GET */
    return rc;
}

/* threads = 4, 1 MiB parts, 10.5 MiB: 11 parts, up to 4 in flight at once;
 * the bytes read back equal; the heap holds at most 4 parts, not the object. */
static int remote_s3_multipart_threads(void)
{
    static const char *const part[] = { "part_size", "1048576", NULL };
    const char *url = "s3://" S3_BUCKET "/par/upload.bin";
    mcf_options base, o;
    size_t n = 10 * MIB + MIB / 2, peak = 0;
    unsigned char *data = noise(n, 16);
    uint64_t reqs;
    int most, conns;
    NEED_S3();
    MCF_CHECK(data != NULL);
    base = s3_options(S3_SECRET);
    o = with_opts(&base, 4, part);
    MCF_CHECK_RC(gauged_upload(url, &o, data, n, &peak, &reqs, &most, &conns), MCF_OK);
    fprintf(stderr, "  s3 upload 10.5 MiB, threads = 4, 1 MiB parts: %llu requests, %d at once, heap peak %lu bytes\n",
            (unsigned long long)reqs, most, (unsigned long)peak);
    MCF_CHECK(reqs == 1 + 11 + 1);   /* create, 11 parts, complete */
    MCF_CHECK(most >= 2 && most <= 4);
#ifdef HEAP_GAUGE
    /* 4 part buffers and 4 handles' 256 KiB upload buffers; not the 10.5 MiB */
    MCF_CHECK(peak > 3 * MIB && peak < 4 * (MIB + MIB / 4) + MIB);
#endif
    MCF_CHECK(reads_back(url, &base, data, n));
    /* unknown size (mcf_write_bytes streams through a sink): the same parts */
    MCF_CHECK_RC(mcf_remove(url, &base), MCF_OK);
    MCF_CHECK_RC(mcf_write_bytes(url, data, 2 * MIB + 1, &o), MCF_OK);
    MCF_CHECK(reads_back(url, &base, data, 2 * MIB + 1));
    MCF_CHECK_RC(mcf_remove(url, &base), MCF_OK);
    free(data);
    return 0;
}

/* threads = 1, 1 MiB parts, 5.5 MiB: the parts go one after another on one
 * kept connection, not one connection per part (a TCP and TLS handshake
 * each); the bytes read back equal. */
static int remote_s3_multipart_one_connection(void)
{
    static const char *const part[] = { "part_size", "1048576", NULL };
    const char *url = "s3://" S3_BUCKET "/par/serial.bin";
    mcf_options base, o;
    size_t n = 5 * MIB + MIB / 2, peak = 0;
    unsigned char *data = noise(n, 18);
    uint64_t reqs;
    int most, conns;
    NEED_S3();
    MCF_CHECK(data != NULL);
    base = s3_options(S3_SECRET);
    o = with_opts(&base, 1, part);
    MCF_CHECK_RC(gauged_upload(url, &o, data, n, &peak, &reqs, &most, &conns), MCF_OK);
    fprintf(stderr, "  s3 upload 5.5 MiB, threads = 1, 1 MiB parts: %llu requests on %d connections\n",
            (unsigned long long)reqs, conns);
    MCF_CHECK(reqs == 1 + 6 + 1 && most == 1);   /* create, 6 parts, complete, one at a time */
    /* create and complete on the handle's connection, the parts on the
     * upload's; a third only if the server closed an idle one meanwhile */
    MCF_CHECK(conns >= 1 && conns <= 3);
    MCF_CHECK(reads_back(url, &base, data, n));
    MCF_CHECK_RC(mcf_remove(url, &base), MCF_OK);
    free(data);
    return 0;
}

/* Part 3 fails once: retried, the upload completes (one request more).
 * Part 3 fails always: the upload fails naming part 3, and no object exists. */
static int remote_s3_multipart_part_faults(void)
{
    static const char *const part[] = { "part_size", "1048576", "retries", "1", NULL };
    const char *once = "s3://" S3_BUCKET "/par/fault-part-once-3/obj.bin";
    const char *always = "s3://" S3_BUCKET "/par/fault-part-always-3/obj.bin";
    mcf_options base, o;
    size_t n = 6 * MIB, peak;
    unsigned char *data = noise(n, 17);
    uint64_t r0;
    NEED_S3();
    MCF_CHECK(data != NULL);
    base = s3_options(S3_SECRET);
    o = with_opts(&base, 4, part);
    r0 = requests_now();
    MCF_CHECK_RC(upload(once, &o, data, n, &peak), MCF_OK);
    MCF_CHECK(requests_now() - r0 == 1 + 6 + 1 + 1);   /* create, 6 parts, the retry, complete */
    MCF_CHECK(reads_back(once, &base, data, n));
    MCF_CHECK_RC(upload(always, &o, data, n, &peak), MCF_PERSISTENT_FAIL);
    MCF_CHECK_ERR("part 3: HTTP 500 InternalError: injected failure (gave up after 2 attempts)");
    MCF_CHECK_ERR("partNumber=3");
    CHECK_NO_SECRETS();
    MCF_CHECK_RC(mcf_exists(always, &base), 0);
    /* the same through the public API, streaming through a sink */
    MCF_CHECK_RC(mcf_write_bytes(always, data, n, &o), MCF_PERSISTENT_FAIL);
    MCF_CHECK_ERR("part 3");
    MCF_CHECK_RC(mcf_exists(always, &base), 0);
    MCF_CHECK_RC(mcf_remove(once, &base), MCF_OK);
    free(data);
    return 0;
}

MCF_TEST_MAIN(MCF_TEST(remote_http_read_at_many_threads), MCF_TEST(remote_http_big_read_split),
              MCF_TEST(remote_http_big_read_range_fails_always), MCF_TEST(remote_s3_big_read_range_faults),
              MCF_TEST(remote_http_read_bytes_threads), MCF_TEST(remote_http_threads_without_range),
              MCF_TEST(remote_http_mcf_read_threads),
              MCF_TEST(remote_s3_multipart_threads), MCF_TEST(remote_s3_multipart_one_connection),
              MCF_TEST(remote_s3_multipart_part_faults))
#endif
