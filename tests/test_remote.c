/* [12] fs: http & s3 (curl), and what slices cost over them. In the curl variants (-DMOONCAKE_FILEIO_CURL)
 * these tests start real servers on free 127.0.0.1 ports through
 * tests/servers/mcf-servers.sh (nginx with DAV; @20minutes/s3rver, which
 * checks SigV4 signatures; python3 -m http.server, which ignores Range) and
 * stop them by PID at exit. Without curl the
 * file holds one test: http/s3 URLs fail with a message on how to enable them. */
#include "mcf_test.h"

#ifndef MOONCAKE_FILEIO_CURL
static int remote_needs_curl(void)
{
    MCF_CHECK_RC(mcf_write_bytes("http://127.0.0.1:1/x.bin", "x", 1, NULL), MCF_INVALID_PARAMS);
    MCF_CHECK_ERR("MOONCAKE_FILEIO_CURL");
    MCF_CHECK_RC(mcf_file_size("s3://bucket/key", NULL, NULL), MCF_INVALID_PARAMS);
    {
        uint64_t sz;
        MCF_CHECK_RC(mcf_file_size("s3://bucket/key", &sz, NULL), MCF_INVALID_PARAMS);
        MCF_CHECK_ERR("-lcurl");
    }
    return 0;
}
MCF_TEST_MAIN(MCF_TEST(remote_needs_curl))
#else

#include "mcf_test_server.h"

/* No message may ever carry a credential. */
#define CHECK_NO_SECRETS() do { MCF_CHECK(!strstr(mcf_last_error(), S3_SECRET)); \
    MCF_CHECK(!strstr(mcf_last_error(), S3_KEY)); MCF_CHECK(!strstr(mcf_last_error(), "mcf-test-token")); } while (0)

static void url_of(char *dst, size_t cap, const char *base, const char *path)
{
    (void)snprintf(dst, cap, "%s%s", base, path);
}

/* write, size, exists, read back, remove, then everything says "absent" */
static int round_trip(const char *url, const mcf_options *o, size_t n)
{
    unsigned char *data = noise(n, (unsigned)n), *back = NULL;
    void *got = NULL;
    size_t len = 0;
    uint64_t size = 0;
    int ok = 0;
    if (!data) return 0;
    if (mcf_write_bytes(url, data, n, o) != MCF_OK) { fprintf(stderr, "  write: %s\n", mcf_last_error()); goto done; }
    if (mcf_file_size(url, &size, o) != MCF_OK || size != n) { fprintf(stderr, "  size: %s\n", mcf_last_error()); goto done; }
    if (mcf_exists(url, o) != 1) goto done;
    if (mcf_read_bytes(url, &got, &len, o) != MCF_OK) { fprintf(stderr, "  read: %s\n", mcf_last_error()); goto done; }
    back = (unsigned char *)got;
    if (len != n || (n && memcmp(back, data, n) != 0)) { fprintf(stderr, "  bytes differ\n"); goto done; }
    if (mcf_remove(url, o) != MCF_OK) { fprintf(stderr, "  remove: %s\n", mcf_last_error()); goto done; }
    if (mcf_exists(url, o) != 0) goto done;
    if (mcf_file_size(url, &size, o) != MCF_FILE_NOT_FOUND) goto done;
    ok = 1;
done:
    mcf_free(got);
    free(data);
    return ok;
}

static int remote_http_bytes_round_trip(void)
{
    char url[160];
    NEED_HTTP();
    url_of(url, sizeof url, g_http_base, "/rt/dir/small.bin");
    MCF_CHECK(round_trip(url, NULL, 1000));
    url_of(url, sizeof url, g_http_base, "/rt/empty.bin");
    MCF_CHECK(round_trip(url, NULL, 0));
    url_of(url, sizeof url, g_http_base, "/rt/big.bin");
    MCF_CHECK(round_trip(url, NULL, (size_t)9 << 20));   /* several 4 MiB sink chunks */
    return 0;
}

static int remote_http_missing_is_file_not_found(void)
{
    char url[160];
    uint64_t size;
    void *p;
    size_t n;
    NEED_HTTP();
    url_of(url, sizeof url, g_http_base, "/nope/missing.bin");
    MCF_CHECK_RC(mcf_file_size(url, &size, NULL), MCF_FILE_NOT_FOUND);
    MCF_CHECK_ERR("HEAD");
    MCF_CHECK_ERR(url);
    MCF_CHECK_ERR("HTTP 404");
    MCF_CHECK_RC(mcf_read_bytes(url, &p, &n, NULL), MCF_FILE_NOT_FOUND);
    MCF_CHECK_ERR(url);
    MCF_CHECK_RC(mcf_exists(url, NULL), 0);
    MCF_CHECK_RC(mcf_remove(url, NULL), MCF_FILE_NOT_FOUND);
    MCF_CHECK_ERR("DELETE");
    return 0;
}

/* read_at through the backend: ranges, the read-ahead block, and 416 when
 * the object shrank under an open reader. */
static int remote_http_range_reads(void)
{
    char url[160];
    mcf_filesystem fs;
    mcf_url u;
    void *f = NULL;
    uint64_t size = 0, r0, r1, down0, down1;
    size_t n = 300000;
    unsigned char *data = noise(n, 7), buf[64], *big;
    NEED_HTTP();
    MCF_CHECK(data != NULL);
    url_of(url, sizeof url, g_http_base, "/range/obj.bin");
    MCF_CHECK_RC(mcf_write_bytes(url, data, n, NULL), MCF_OK);
    MCF_CHECK_RC(mcf_filesystem_lookup("http", &fs), MCF_OK);
    MCF_CHECK(fs.map == NULL);
    MCF_CHECK_RC(mcf_url_parse(url, NULL, &u), MCF_OK);
    MCF_CHECK_RC(fs.open_read(fs.user, &u, NULL, &f, &size), MCF_OK);
    MCF_CHECK(size == n);
    mcf_curl_counters(&r0, &down0, NULL);
    MCF_CHECK_RC(fs.read_at(f, 123457, buf, 33), MCF_OK);
    MCF_CHECK(memcmp(buf, data + 123457, 33) == 0);
    MCF_CHECK_RC(fs.read_at(f, 123457 + 1000, buf, 64), MCF_OK);   /* inside the 4 KiB read-ahead block */
    MCF_CHECK(memcmp(buf, data + 123457 + 1000, 64) == 0);
    MCF_CHECK_RC(fs.read_at(f, n - 5, buf, 5), MCF_OK);             /* last bytes: a block ending at EOF */
    MCF_CHECK(memcmp(buf, data + n - 5, 5) == 0);
    MCF_CHECK_RC(fs.read_at(f, n - 4000, buf, 20), MCF_OK);         /* before them, still in that block */
    MCF_CHECK(memcmp(buf, data + n - 4000, 20) == 0);
    mcf_curl_counters(&r1, &down1, NULL);
    MCF_CHECK(r1 - r0 == 2);                                        /* one GET per block */
    MCF_CHECK(down1 - down0 < 2 * 4096 + 2048);                     /* the blocks, not the object */
    big = (unsigned char *)malloc(200000);
    MCF_CHECK(big != NULL);
    MCF_CHECK_RC(fs.read_at(f, 50000, big, 200000), MCF_OK);        /* large: one exact range */
    MCF_CHECK(memcmp(big, data + 50000, 200000) == 0);
    free(big);
    /* the object shrinks under the open reader: the range is unsatisfiable */
    MCF_CHECK_RC(mcf_write_bytes(url, data, 10, NULL), MCF_OK);
    MCF_CHECK_RC(fs.read_at(f, 200000, buf, 64), MCF_FILE_READ_FAIL);
    MCF_CHECK_ERR("HTTP 416");
    MCF_CHECK_ERR(url);
    fs.close_read(f);
    mcf_url_free(&u);
    MCF_CHECK_RC(mcf_remove(url, NULL), MCF_OK);
    free(data);
    return 0;
}

static int remote_http_status_mapping(void)
{
    char url[160];
    const char *so[] = { "retries", "1", NULL };
    mcf_options o;
    uint64_t size, r0, r1;
    mcf_reader *r = NULL;
    NEED_HTTP();
    memset(&o, 0, sizeof o);
    o.storage_options = so;
    url_of(url, sizeof url, g_http_base, "/status/403/x.bin");
    MCF_CHECK_RC(mcf_file_size(url, &size, NULL), MCF_PERMISSION_DENIED);
    MCF_CHECK_ERR("HTTP 403 Forbidden");
    url_of(url, sizeof url, g_http_base, "/status/401/x.bin");
    MCF_CHECK_RC(mcf_file_size(url, &size, NULL), MCF_PERMISSION_DENIED);
    MCF_CHECK_ERR("HTTP 401");
    url_of(url, sizeof url, g_http_base, "/status/503/x.bin");
    mcf_curl_counters(&r0, NULL, NULL);
    MCF_CHECK_RC(mcf_file_size(url, &size, &o), MCF_PERSISTENT_FAIL);
    mcf_curl_counters(&r1, NULL, NULL);
    MCF_CHECK_ERR("HTTP 503");
    MCF_CHECK_ERR("gave up after 2 attempts");
    MCF_CHECK(r1 - r0 == 2);
    /* an open for reading is a GET: the same codes, and retried the same way */
    mcf_curl_counters(&r0, NULL, NULL);
    MCF_CHECK_RC(mcf_open(url, &o, &r), MCF_PERSISTENT_FAIL);
    mcf_curl_counters(&r1, NULL, NULL);
    MCF_CHECK_ERR("http: GET");
    MCF_CHECK_ERR(url);
    MCF_CHECK_ERR("HTTP 503");
    MCF_CHECK_ERR("gave up after 2 attempts");
    MCF_CHECK(r1 - r0 == 2);
    url_of(url, sizeof url, g_http_base, "/status/403/x.bin");
    MCF_CHECK_RC(mcf_open(url, NULL, &r), MCF_PERMISSION_DENIED);
    MCF_CHECK_ERR("http: GET");
    MCF_CHECK_ERR("HTTP 403 Forbidden");
    MCF_CHECK(r == NULL);
    /* nothing listens on port 1: a transport error, not a crash or a hang */
    MCF_CHECK_RC(mcf_open("http://127.0.0.1:1/x.safetensors", NULL, &r), MCF_FILE_OPEN_FAIL);
    MCF_CHECK_ERR("http://127.0.0.1:1/x.safetensors");
    MCF_CHECK_RC(mcf_file_size("http://127.0.0.1:1/x", &size, NULL), MCF_FILE_OPEN_FAIL);
    MCF_CHECK_ERR("http://127.0.0.1:1/x");
    return 0;
}

static int remote_http_bearer_and_headers(void)
{
    char url[160];
    const char *bearer[] = { "bearer_token", "mcf-test-token", NULL };
    const char *hdrs[] = { "headers", "X-Other: 1\r\nAuthorization: Bearer mcf-test-token\n", NULL };
    const char *bad[] = { "bearer_token", "wrong", NULL };
    mcf_options ob, oh, ox;
    void *p;
    size_t n;
    NEED_HTTP();
    memset(&ob, 0, sizeof ob); ob.storage_options = bearer;
    memset(&oh, 0, sizeof oh); oh.storage_options = hdrs;
    memset(&ox, 0, sizeof ox); ox.storage_options = bad;
    url_of(url, sizeof url, g_http_base, "/private/secret.bin");
    MCF_CHECK_RC(mcf_write_bytes(url, "hello", 5, NULL), MCF_PERMISSION_DENIED);
    MCF_CHECK_ERR("PUT");
    MCF_CHECK_ERR("HTTP 401");
    MCF_CHECK_RC(mcf_write_bytes(url, "hello", 5, &ob), MCF_OK);
    MCF_CHECK_RC(mcf_read_bytes(url, &p, &n, &oh), MCF_OK);
    MCF_CHECK(n == 5 && memcmp(p, "hello", 5) == 0);
    mcf_free(p);
    MCF_CHECK_RC(mcf_read_bytes(url, &p, &n, &ox), MCF_PERMISSION_DENIED);
    CHECK_NO_SECRETS();
    MCF_CHECK_RC(mcf_remove(url, &ob), MCF_OK);
    return 0;
}

static int remote_bad_storage_options(void)
{
    static const struct { const char *url; const char *opts[3]; const char *msg; } cases[] = {
        {"http://127.0.0.1:1/x", {"bearer", "x", NULL}, "unknown storage option \"bearer\""},
        {"http://127.0.0.1:1/x", {"verify_tls", "maybe", NULL}, "verify_tls"},
        {"http://127.0.0.1:1/x", {"timeout", "1.5", NULL}, "timeout"},
        {"http://127.0.0.1:1/x", {"timeout", NULL, NULL}, "no value"},
        {"s3://bucket/key", {"secret", "x", NULL}, "access key needs its secret"},
    };
    mcf_options o;
    uint64_t size;
    size_t i;
    memset(&o, 0, sizeof o);
    for (i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        o.storage_options = cases[i].opts;
        MCF_CHECK_RC(mcf_file_size(cases[i].url, &size, &o), MCF_INVALID_PARAMS);
        MCF_CHECK_ERR(cases[i].msg);
    }
    CHECK_NO_SECRETS();
    return 0;
}

static int g_cancel_after;
static int cancel_progress(void *user, uint64_t done, uint64_t total)
{
    (void)user; (void)total;
    return done >= (uint64_t)g_cancel_after;
}

/* A cancelled upload publishes nothing and leaves an older object intact. */
static int remote_http_cancelled_put_keeps_old(void)
{
    char url[160];
    size_t n = (size_t)10 << 20;
    unsigned char *data = noise(n, 3);
    mcf_options o;
    void *p;
    size_t len;
    NEED_HTTP();
    MCF_CHECK(data != NULL);
    url_of(url, sizeof url, g_http_base, "/cancel/obj.bin");
    memset(&o, 0, sizeof o);
    o.progress = cancel_progress;
    g_cancel_after = 1;
    MCF_CHECK_RC(mcf_write_bytes(url, data, n, &o), MCF_PERSISTENT_FAIL);
    MCF_CHECK_ERR("cancelled");
    MCF_CHECK_RC(mcf_exists(url, NULL), 0);
    MCF_CHECK_RC(mcf_write_bytes(url, "old", 3, NULL), MCF_OK);
    MCF_CHECK_RC(mcf_write_bytes(url, data, n, &o), MCF_PERSISTENT_FAIL);
    MCF_CHECK_RC(mcf_read_bytes(url, &p, &len, NULL), MCF_OK);
    MCF_CHECK(len == 3 && memcmp(p, "old", 3) == 0);
    mcf_free(p);
    o.progress = NULL;
    o.flags = MCF_NO_OVERWRITE;
    MCF_CHECK_RC(mcf_write_bytes(url, "new", 3, &o), MCF_FILE_OPEN_FAIL);
    MCF_CHECK_ERR("already exists");
    MCF_CHECK_RC(mcf_remove(url, NULL), MCF_OK);
    free(data);
    return 0;
}

static int remote_s3_bytes_round_trip(void)
{
    char url[160];
    mcf_options o;
    NEED_S3();
    o = s3_options(S3_SECRET);
    MCF_CHECK(round_trip("s3://" S3_BUCKET "/dir/plain.bin", &o, 5000));
    /* keys that SigV4 canonicalizes: space, '+', parentheses, '!', UTF-8 */
    (void)snprintf(url, sizeof url, "s3://%s/odd dir/a+b (1)!=\xc3\xbc.bin", S3_BUCKET);
    MCF_CHECK(round_trip(url, &o, 777));
    MCF_CHECK(round_trip("s3://" S3_BUCKET "/empty.bin", &o, 0));
    return 0;
}

static int remote_s3_wrong_secret(void)
{
    mcf_options good, bad;
    uint64_t size;
    void *p;
    size_t n;
    NEED_S3();
    good = s3_options(S3_SECRET);
    MCF_CHECK_RC(mcf_write_bytes("s3://" S3_BUCKET "/auth/obj.bin", "abc", 3, &good), MCF_OK);
    bad = s3_options("wrong-" S3_SECRET);
    MCF_CHECK_RC(mcf_write_bytes("s3://" S3_BUCKET "/auth/obj.bin", "xyz", 3, &bad), MCF_PERMISSION_DENIED);
    MCF_CHECK_ERR("SignatureDoesNotMatch");
    MCF_CHECK_ERR("s3://" S3_BUCKET "/auth/obj.bin");
    MCF_CHECK_ERR("PUT");
    CHECK_NO_SECRETS();
    MCF_CHECK_RC(mcf_file_size("s3://" S3_BUCKET "/auth/obj.bin", &size, &bad), MCF_PERMISSION_DENIED);
    MCF_CHECK_ERR("SignatureDoesNotMatch");   /* learnt from a 1-byte GET: HEAD answers carry no body */
    CHECK_NO_SECRETS();
    MCF_CHECK_RC(mcf_read_bytes("s3://" S3_BUCKET "/auth/obj.bin", &p, &n, &bad), MCF_PERMISSION_DENIED);
    MCF_CHECK_ERR("SignatureDoesNotMatch");
    CHECK_NO_SECRETS();
    MCF_CHECK_RC(mcf_remove("s3://" S3_BUCKET "/auth/obj.bin", &bad), MCF_PERMISSION_DENIED);
    CHECK_NO_SECRETS();
    /* the object is unchanged */
    MCF_CHECK_RC(mcf_read_bytes("s3://" S3_BUCKET "/auth/obj.bin", &p, &n, &good), MCF_OK);
    MCF_CHECK(n == 3 && memcmp(p, "abc", 3) == 0);
    mcf_free(p);
    MCF_CHECK_RC(mcf_remove("s3://" S3_BUCKET "/auth/obj.bin", &good), MCF_OK);
    return 0;
}

static int remote_s3_missing(void)
{
    mcf_options o;
    uint64_t size;
    void *p;
    size_t n;
    NEED_S3();
    o = s3_options(S3_SECRET);
    MCF_CHECK_RC(mcf_file_size("s3://" S3_BUCKET "/no/such/key", &size, &o), MCF_FILE_NOT_FOUND);
    MCF_CHECK_ERR("s3://" S3_BUCKET "/no/such/key");
    MCF_CHECK_RC(mcf_read_bytes("s3://" S3_BUCKET "/no/such/key", &p, &n, &o), MCF_FILE_NOT_FOUND);
    MCF_CHECK_RC(mcf_remove("s3://" S3_BUCKET "/no/such/key", &o), MCF_FILE_NOT_FOUND);
    MCF_CHECK_RC(mcf_exists("s3://no-such-bucket/key", &o), 0);
    MCF_CHECK_RC(mcf_write_bytes("s3://no-such-bucket/key", "x", 1, &o), MCF_FILE_NOT_FOUND);
    MCF_CHECK_ERR("NoSuchBucket");
    CHECK_NO_SECRETS();
    return 0;
}

/* Three 1 MiB parts and a short one, streamed: CreateMultipartUpload, 4 part
 * PUTs, CompleteMultipartUpload. */
static int remote_s3_multipart(void)
{
    size_t n = ((size_t)3 << 20) + 12345;
    unsigned char *data = noise(n, 11);
    mcf_options o;
    uint64_t r0, r1, up0, up1, size;
    void *p;
    size_t len;
    NEED_S3();
    MCF_CHECK(data != NULL);
    o = s3_part_options("1048576");
    mcf_curl_counters(&r0, NULL, &up0);
    MCF_CHECK_RC(mcf_write_bytes("s3://" S3_BUCKET "/mp/big.bin", data, n, &o), MCF_OK);
    mcf_curl_counters(&r1, NULL, &up1);
    MCF_CHECK(r1 - r0 == 6);
    MCF_CHECK(up1 - up0 > n && up1 - up0 < n + 4096);   /* the data once, plus the Complete XML */
    MCF_CHECK_RC(mcf_file_size("s3://" S3_BUCKET "/mp/big.bin", &size, &o), MCF_OK);
    MCF_CHECK(size == n);
    MCF_CHECK_RC(mcf_read_bytes("s3://" S3_BUCKET "/mp/big.bin", &p, &len, &o), MCF_OK);
    MCF_CHECK(len == n && memcmp(p, data, n) == 0);
    mcf_free(p);
    /* a cancelled multipart upload leaves no object (s3rver refuses the abort with 405) */
    o.progress = cancel_progress;
    g_cancel_after = 1;
    MCF_CHECK_RC(mcf_write_bytes("s3://" S3_BUCKET "/mp/cancelled.bin", data, n, &o), MCF_PERSISTENT_FAIL);
    MCF_CHECK_ERR("cancelled");
    MCF_CHECK_RC(mcf_exists("s3://" S3_BUCKET "/mp/cancelled.bin", &o), 0);
    MCF_CHECK_RC(mcf_remove("s3://" S3_BUCKET "/mp/big.bin", &o), MCF_OK);
    free(data);
    return 0;
}

static int remote_s3_env_credentials(void)
{
    mcf_options o;
    const char *anon[] = { "anon", "1", NULL };
    void *p;
    size_t n;
    NEED_S3();
    MCF_CHECK(setenv("AWS_ACCESS_KEY_ID", S3_KEY, 1) == 0);
    MCF_CHECK(setenv("AWS_SECRET_ACCESS_KEY", S3_SECRET, 1) == 0);
    MCF_CHECK(setenv("AWS_ENDPOINT_URL", g_s3_endpoint, 1) == 0);
    MCF_CHECK(setenv("AWS_REGION", "us-east-1", 1) == 0);
    MCF_CHECK(round_trip("s3://" S3_BUCKET "/env/obj.bin", NULL, 4321));
    MCF_CHECK(setenv("AWS_SECRET_ACCESS_KEY", "wrong", 1) == 0);
    MCF_CHECK_RC(mcf_write_bytes("s3://" S3_BUCKET "/env/obj.bin", "x", 1, NULL), MCF_PERMISSION_DENIED);
    MCF_CHECK_ERR("SignatureDoesNotMatch");
    /* anon: unsigned requests (s3rver serves them anonymously) */
    memset(&o, 0, sizeof o);
    o.storage_options = anon;
    MCF_CHECK_RC(mcf_write_bytes("s3://" S3_BUCKET "/env/anon.bin", "yz", 2, &o), MCF_OK);
    MCF_CHECK_RC(mcf_read_bytes("s3://" S3_BUCKET "/env/anon.bin", &p, &n, &o), MCF_OK);
    MCF_CHECK(n == 2 && memcmp(p, "yz", 2) == 0);
    mcf_free(p);
    MCF_CHECK_RC(mcf_remove("s3://" S3_BUCKET "/env/anon.bin", &o), MCF_OK);
    unsetenv("AWS_ACCESS_KEY_ID"); unsetenv("AWS_SECRET_ACCESS_KEY");
    unsetenv("AWS_ENDPOINT_URL"); unsetenv("AWS_REGION");
    return 0;
}


/* ---- formats over the network ------------------------------------------ */
#include <dirent.h>

static int read_local(const char *path, unsigned char **data, size_t *len)
{
    *data = mcf_test_slurp(path, len);
    return *data != NULL;
}

/* Opens the same file locally and at url; both must agree on every entry,
 * metadata pair and tensor byte (or fail with the same code). */
static int same_as_local(const char *local, const char *url, const mcf_options *o)
{
    mcf_reader *a = NULL, *b = NULL;
    int ra = mcf_open(local, NULL, &a), rb = mcf_open(url, o, &b), ok = 0;
    size_t i;
    if (ra != MCF_OK || rb != MCF_OK) {
        if (ra != rb) fprintf(stderr, "  %s: local %s, remote %s (%s)\n", local, mcf_result_name(ra), mcf_result_name(rb), mcf_last_error());
        ok = ra == rb;
        goto done;
    }
    if (mcf_count(a) != mcf_count(b) || mcf_metadata_count(a) != mcf_metadata_count(b) ||
        strcmp(mcf_reader_format(a), mcf_reader_format(b)) != 0) goto done;
    for (i = 0; i < mcf_metadata_count(a); i++) {
        const char *ka, *va, *kb, *vb;
        if (mcf_metadata_pair(a, i, &ka, &va) != MCF_OK || mcf_metadata_pair(b, i, &kb, &vb) != MCF_OK) goto done;
        if (strcmp(ka, kb) != 0 || strcmp(va, vb) != 0) goto done;
    }
    for (i = 0; i < mcf_count(a); i++) {
        mcf_tensor ta, tb;
        uint64_t na, nb;
        unsigned char *da, *db;
        int same;
        if (mcf_entry(a, i, &ta) != MCF_OK || mcf_entry(b, i, &tb) != MCF_OK) goto done;
        if (strcmp(ta.name, tb.name) != 0 || ta.dtype != tb.dtype || ta.ndim != tb.ndim ||
            memcmp(ta.shape, tb.shape, sizeof ta.shape) != 0) goto done;
        if (mcf_entry_location(a, i, NULL, &na) != MCF_OK || mcf_entry_location(b, i, NULL, &nb) != MCF_OK || na != nb) goto done;
        da = (unsigned char *)malloc((size_t)na + 1);
        db = (unsigned char *)malloc((size_t)nb + 1);
        same = da && db && mcf_read(a, i, da, (size_t)na) == MCF_OK && mcf_read(b, i, db, (size_t)nb) == MCF_OK &&
               memcmp(da, db, (size_t)na) == 0;
        free(da); free(db);
        if (!same) { fprintf(stderr, "  %s: tensor %s differs (%s)\n", url, ta.name, mcf_last_error()); goto done; }
    }
    ok = 1;
done:
    mcf_close(a);
    mcf_close(b);
    return ok;
}

/* Every reference file in dir, uploaded to base/ref/ (or, when base is NULL,
 * already served at served/NAME), reads the same remotely as locally. */
static int references_at(const char *dir, const char *suffix, const char *base, const char *served, const mcf_options *o, int *files)
{
    DIR *d = opendir(dir);
    struct dirent *e;
    int ok = 1;
    if (!d) { fprintf(stderr, "  cannot list %s\n", dir); return 0; }
    while (ok && (e = readdir(d)) != NULL) {
        char local[512], url[512];
        unsigned char *data;
        size_t n, sl = strlen(suffix), nl = strlen(e->d_name);
        if (nl <= sl || strcmp(e->d_name + nl - sl, suffix) != 0) continue;
        (void)snprintf(local, sizeof local, "%s/%s", dir, e->d_name);
        if (!base) {
            (void)snprintf(url, sizeof url, "%s/%s", served, e->d_name);
            ok = same_as_local(local, url, o);
            ++*files;
            continue;
        }
        (void)snprintf(url, sizeof url, "%s/ref/%s", base, e->d_name);
        if (!read_local(local, &data, &n)) { ok = 0; break; }
        if (mcf_write_bytes(url, data, n, o) != MCF_OK) { fprintf(stderr, "  upload %s: %s\n", url, mcf_last_error()); ok = 0; }
        free(data);
        if (ok) ok = same_as_local(local, url, o);
        if (ok) ok = mcf_remove(url, o) == MCF_OK;
        ++*files;
    }
    closedir(d);
    return ok;
}

static int references_over(const char *dir, const char *suffix, const char *base, const mcf_options *o, int *files)
{
    return references_at(dir, suffix, base, NULL, o, files);
}

/* Every reference file of dir (names ending in suffix) over nginx and s3rver. */
static int references_http_and_s3(const char *dir, const char *suffix)
{
    char base[128];
    mcf_options o;
    int files = 0;
    NEED_HTTP();
    NEED_S3();
    MCF_CHECK(references_over(dir, suffix, g_http_base, NULL, &files));
    o = s3_options(S3_SECRET);
    (void)snprintf(base, sizeof base, "s3://%s", S3_BUCKET);
    MCF_CHECK(references_over(dir, suffix, base, &o, &files));
    MCF_CHECK(files >= 40);
    return 0;
}

/* What the open's one ranged GET asks for: the first 72 KiB of the object. */
#define OPEN_BLOCK ((uint64_t)72 << 10)

static int remote_safetensors_references_http_and_s3(void) { return references_http_and_s3("tests/data/safetensors", ".safetensors"); }

/* mcf_open fetches the header only, in one ranged GET of the first 72 KiB
 * (a zip adds one of its end records); mcf_read of one tensor fetches only
 * its range: the whole single-tensor load stays under that block + tensor +
 * 64 KiB although the file holds a 4 MiB tensor as well. */
static int lazy_load(const char *url, const mcf_options *o, uint64_t window)
{
    static float small[16], big[1 << 20];
    static int64_t ids[3] = { 7, -8, 9 };
    mcf_tensor t[3], info;
    mcf_reader *r = NULL;
    uint64_t r0, r1, r2, d0, d1, d2, off, nb;
    float got[16];
    float *gotbig;
    size_t i;
    int ia, ib;
    for (i = 0; i < 16; i++) small[i] = (float)i * 0.5f;
    for (i = 0; i < (size_t)1 << 20; i++) big[i] = (float)i;
    memset(t, 0, sizeof t);
    t[0].name = "big"; t[0].dtype = MCF_F32; t[0].ndim = 2; t[0].shape[0] = 1024; t[0].shape[1] = 1024; t[0].data = big;
    t[1].name = "ids"; t[1].dtype = MCF_I64; t[1].ndim = 1; t[1].shape[0] = 3; t[1].data = ids;
    t[2].name = "small"; t[2].dtype = MCF_F32; t[2].ndim = 1; t[2].shape[0] = 16; t[2].data = small;
    MCF_CHECK_RC(mcf_save(url, t, 3, o), MCF_OK);
    {   /* the streamed upload holds exactly the bytes a memory save produces */
        mcf_options mo;
        void *mem = NULL, *net = NULL;
        size_t mlen = 0, nlen = 0;
        memset(&mo, 0, sizeof mo);
        mo.format = strstr(url, ".safetensors") ? "safetensors" : "torch";
        MCF_CHECK_RC(mcf_save_to_memory(t, 3, &mo, &mem, &mlen), MCF_OK);
        MCF_CHECK_RC(mcf_read_bytes(url, &net, &nlen, o), MCF_OK);
        i = mlen == nlen && memcmp(mem, net, mlen) == 0;
        mcf_free(mem);
        mcf_free(net);
        MCF_CHECK(i);
    }
    mcf_curl_counters(&r0, &d0, NULL);
    MCF_CHECK_RC(mcf_open(url, o, &r), MCF_OK);
    mcf_curl_counters(&r1, &d1, NULL);
    MCF_CHECK(mcf_count(r) == 3);
    ia = mcf_find(r, "small");
    MCF_CHECK(ia >= 0);
    MCF_CHECK_RC(mcf_entry_location(r, (size_t)ia, &off, &nb), MCF_OK);
    MCF_CHECK(nb == sizeof small);
    MCF_CHECK_RC(mcf_read(r, (size_t)ia, got, sizeof got), MCF_OK);
    mcf_curl_counters(&r2, &d2, NULL);
    MCF_CHECK(memcmp(got, small, sizeof small) == 0);
    /* the header ends where the first tensor's data starts (sorted offsets) */
    ib = mcf_find(r, "big");
    MCF_CHECK(ib >= 0);
    MCF_CHECK_RC(mcf_entry(r, (size_t)ib, &info), MCF_OK);
    MCF_CHECK(info.shape[0] == 1024 && info.shape[1] == 1024);
    {
        /* everything that is not tensor data: safetensors length + JSON; torch
         * zip records, central directory and data.pkl */
        uint64_t size = 0, data_total = 0, e;
        MCF_CHECK_RC(mcf_file_size(url, &size, o), MCF_OK);
        for (i = 0; i < 3; i++) { MCF_CHECK_RC(mcf_entry_location(r, i, NULL, &e), MCF_OK); data_total += e; }
        fprintf(stderr, "  %s: open %llu requests %llu bytes, +read(small) %llu requests %llu bytes (file %llu, non-data %llu, tensor %llu)\n", url,
                (unsigned long long)(r1 - r0), (unsigned long long)(d1 - d0), (unsigned long long)(r2 - r1),
                (unsigned long long)(d2 - d1), (unsigned long long)size, (unsigned long long)(size - data_total), (unsigned long long)nb);
        MCF_CHECK(d2 - d0 <= (size - data_total > OPEN_BLOCK ? size - data_total : OPEN_BLOCK) + nb + 65536 + window);
        /* safetensors: the first block holds the header; torch: the zip's end
         * records and central directory take one more GET at the end */
        MCF_CHECK(r1 - r0 == (strstr(url, ".safetensors") ? 1u : 2u));
    }
    gotbig = (float *)malloc(sizeof big);
    MCF_CHECK(gotbig != NULL);
    MCF_CHECK_RC(mcf_read(r, (size_t)ib, gotbig, sizeof big), MCF_OK);
    MCF_CHECK(memcmp(gotbig, big, sizeof big) == 0);
    free(gotbig);
    mcf_close(r);
    MCF_CHECK_RC(mcf_remove(url, o), MCF_OK);
    return 0;
}

/* Opening a safetensors file whose header and small tensors lie in the first
 * 72 KiB costs exactly one request (a ranged GET of that block: the size
 * comes from its Content-Range), and reading those tensors costs nothing
 * more: they come from the block the open kept. */
static int open_one_request(const char *url, const mcf_options *o)
{
    static float a[1000], b[4000];
    mcf_tensor t[2];
    mcf_reader *r = NULL;
    float got[4000];
    uint64_t r0, r1, r2, d0, d1, d2, off, nb;
    size_t i;
    int ib;
    for (i = 0; i < 1000; i++) a[i] = (float)i * 0.5f;
    for (i = 0; i < 4000; i++) b[i] = (float)i - 3.0f;
    memset(t, 0, sizeof t);
    t[0].name = "a"; t[0].dtype = MCF_F32; t[0].ndim = 1; t[0].shape[0] = 1000; t[0].data = a;
    t[1].name = "b"; t[1].dtype = MCF_F32; t[1].ndim = 2; t[1].shape[0] = 40; t[1].shape[1] = 100; t[1].data = b;
    MCF_CHECK_RC(mcf_save(url, t, 2, o), MCF_OK);
    mcf_curl_counters(&r0, &d0, NULL);
    MCF_CHECK_RC(mcf_open(url, o, &r), MCF_OK);
    mcf_curl_counters(&r1, &d1, NULL);
    MCF_CHECK(mcf_count(r) == 2);
    ib = mcf_find(r, "b");
    MCF_CHECK(ib >= 0);
    MCF_CHECK_RC(mcf_entry_location(r, (size_t)ib, &off, &nb), MCF_OK);
    MCF_CHECK(off + nb <= OPEN_BLOCK);
    MCF_CHECK_RC(mcf_read(r, (size_t)ib, got, sizeof b), MCF_OK);
    MCF_CHECK(memcmp(got, b, sizeof b) == 0);
    MCF_CHECK_RC(mcf_read(r, 0, got, sizeof a), MCF_OK);
    MCF_CHECK(memcmp(got, a, sizeof a) == 0);
    mcf_curl_counters(&r2, &d2, NULL);
    fprintf(stderr, "  %s: open %llu requests %llu bytes, reading both tensors %llu requests\n", url, (unsigned long long)(r1 - r0),
            (unsigned long long)(d1 - d0), (unsigned long long)(r2 - r1));
    MCF_CHECK(r1 - r0 == 1);                 /* no HEAD: one GET of bytes 0-73727 */
    MCF_CHECK(d1 - d0 < off + nb + 4096);    /* the whole (short) file and the answer's head */
    MCF_CHECK(r2 - r1 == 0 && d2 == d1);     /* both tensors lie in the kept block */
    mcf_close(r);
    MCF_CHECK_RC(mcf_remove(url, o), MCF_OK);
    return 0;
}

static int remote_open_is_one_request_http_and_s3(void)
{
    char url[160];
    mcf_options o;
    NEED_HTTP();
    NEED_S3();
    url_of(url, sizeof url, g_http_base, "/one/model.safetensors");
    MCF_CHECK(open_one_request(url, NULL) == 0);
    o = s3_options(S3_SECRET);
    MCF_CHECK(open_one_request("s3://" S3_BUCKET "/one/model.safetensors", &o) == 0);
    return 0;
}

/* An empty object opens with size 0 in one request, whatever the server
 * answers the open's range with: nginx 200 with Content-Length 0, s3rver a
 * 206 "bytes 0-0/0" (announcing a byte it never sends), and a 416 with
 * "bytes * /0" as RFC 9110 has it (a fixed nginx answer). */
static int empty_open(const char *url, const mcf_options *o, int write)
{
    mcf_filesystem fs;
    mcf_url u;
    void *f = NULL, *p = NULL;
    uint64_t size = 1, r0, r1;
    size_t n = 1;
    if (write) MCF_CHECK_RC(mcf_write_bytes(url, "", 0, o), MCF_OK);
    MCF_CHECK_RC(mcf_filesystem_lookup(strncmp(url, "s3:", 3) == 0 ? "s3" : "http", &fs), MCF_OK);
    MCF_CHECK_RC(mcf_url_parse(url, NULL, &u), MCF_OK);
    mcf_set_error(MCF_OK, "%s", "");
    mcf_curl_counters(&r0, NULL, NULL);
    MCF_CHECK_RC(fs.open_read(fs.user, &u, o, &f, &size), MCF_OK);
    mcf_curl_counters(&r1, NULL, NULL);
    MCF_CHECK(size == 0);
    MCF_CHECK(r1 - r0 == 1);
    MCF_CHECK(mcf_last_error()[0] == '\0');
    MCF_CHECK_RC(fs.read_at(f, 0, NULL, 0), MCF_OK);
    fs.close_read(f);
    mcf_url_free(&u);
    MCF_CHECK_RC(mcf_read_bytes(url, &p, &n, o), MCF_OK);
    MCF_CHECK(n == 0);
    mcf_free(p);
    if (write) MCF_CHECK_RC(mcf_remove(url, o), MCF_OK);
    return 0;
}

static int remote_empty_object_open_http_and_s3(void)
{
    char url[160];
    mcf_options o;
    NEED_HTTP();
    NEED_S3();
    url_of(url, sizeof url, g_http_base, "/empty/e.bin");
    MCF_CHECK(empty_open(url, NULL, 1) == 0);
    url_of(url, sizeof url, g_http_base, "/badrange/empty416.bin");
    MCF_CHECK(empty_open(url, NULL, 0) == 0);
    o = s3_options(S3_SECRET);
    MCF_CHECK(empty_open("s3://" S3_BUCKET "/empty/e.bin", &o, 1) == 0);
    return 0;
}

/* A 416 without Content-Range: a HEAD settles the size. Zero: the object
 * opens empty (the GET and the HEAD); any other size: the 416 stands, as
 * the open's error. */
static int remote_bare_416_asks_head(void)
{
    char url[160], want[256];
    uint64_t r0, r1;
    mcf_reader *r = (mcf_reader *)1;
    void *p = NULL;
    size_t n = 1;
    NEED_HTTP();
    url_of(url, sizeof url, g_http_base, "/bare416/empty.bin");
    MCF_CHECK_RC(mcf_write_bytes(url, "", 0, NULL), MCF_OK);
    mcf_curl_counters(&r0, NULL, NULL);
    MCF_CHECK_RC(mcf_read_bytes(url, &p, &n, NULL), MCF_OK);
    mcf_curl_counters(&r1, NULL, NULL);
    MCF_CHECK(n == 0 && r1 - r0 == 2);
    mcf_free(p);
    url_of(url, sizeof url, g_http_base, "/bare416/five.bin");
    MCF_CHECK_RC(mcf_write_bytes(url, "12345", 5, NULL), MCF_OK);
    MCF_CHECK_RC(mcf_open(url, NULL, &r), MCF_FILE_READ_FAIL);
    MCF_CHECK(r == NULL);
    (void)snprintf(want, sizeof want, "http: GET %s: HTTP 416 Requested Range Not Satisfiable", url);
    MCF_CHECK_ERR(want);
    MCF_CHECK_RC(mcf_remove(url, NULL), MCF_OK);
    url_of(url, sizeof url, g_http_base, "/bare416/empty.bin");
    MCF_CHECK_RC(mcf_remove(url, NULL), MCF_OK);
    return 0;
}

static int remote_safetensors_lazy_load_http(void)
{
    char url[160];
    NEED_HTTP();
    url_of(url, sizeof url, g_http_base, "/lazy/model.safetensors");
    return lazy_load(url, NULL, 0);
}

/* The zip reader ([16]) finds torch's comment-less end record in the last
 * 22 bytes, so torch loads get no allowance beyond the common budget. */
#define ZIP_WINDOW 0u

static int remote_torch_lazy_load_http(void)
{
    char url[160];
    NEED_HTTP();
    url_of(url, sizeof url, g_http_base, "/lazy/model.pt");
    return lazy_load(url, NULL, ZIP_WINDOW);
}

static int remote_torch_references_http_and_s3(void) { return references_http_and_s3("tests/data/torch", ".pt"); }

/* part_size 256 KiB: the 4 MiB tensor spans many streamed multipart parts */
static int remote_safetensors_lazy_load_s3_multipart(void)
{
    mcf_options o;
    NEED_S3();
    o = s3_part_options("262144");
    if (lazy_load("s3://" S3_BUCKET "/lazy/model.safetensors", &o, 0) != 0) return 1;
    return lazy_load("s3://" S3_BUCKET "/lazy/model.pt", &o, ZIP_WINDOW);
}


/* The Python store_file_io module's flows with an s3:// destination: a tensor and
 * a KV-cache block go store -> S3 file -> store, in both formats. */
static int remote_s3_file_io_flows(void)
{
    static float w[6] = { 1.5f, -2.0f, 3.25f, 4.0f, -5.5f, 6.0f };
    static uint16_t kv[2 * 4 * 8];
    mcf_store *s;
    mcf_tensor t, out;
    mcf_options o;
    const char *urls[2] = { "s3://" S3_BUCKET "/fileio/w.pt", "s3://" S3_BUCKET "/fileio/kv.safetensors" };
    size_t i;
    NEED_S3();
    for (i = 0; i < sizeof kv / sizeof kv[0]; i++) kv[i] = (uint16_t)(i * 257u);
    o = s3_options(S3_SECRET);
    s = mcf_memory_store_create();
    MCF_CHECK(s != NULL);
    memset(&t, 0, sizeof t);
    t.dtype = MCF_F32; t.ndim = 2; t.shape[0] = 2; t.shape[1] = 3; t.data = w;
    MCF_CHECK_RC(mcf_store_put_tensor(s, "w", &t), MCF_OK);
    memset(&t, 0, sizeof t);
    t.dtype = MCF_BF16; t.ndim = 3; t.shape[0] = 2; t.shape[1] = 4; t.shape[2] = 8; t.data = kv;
    MCF_CHECK_RC(mcf_store_put_tensor(s, "kv", &t), MCF_OK);

    MCF_CHECK_RC(mcf_save_tensor_to_file(s, "w", urls[0], &o), MCF_OK);
    MCF_CHECK_RC(mcf_save_kv_cache_to_file(s, "kv", urls[1], &o), MCF_OK);
    MCF_CHECK_RC(mcf_exists(urls[0], &o), 1);
    MCF_CHECK_RC(mcf_load_tensor_from_file(s, "w2", urls[0], &o, &out), MCF_OK);
    MCF_CHECK(out.dtype == MCF_F32 && out.ndim == 2 && out.shape[0] == 2 && out.shape[1] == 3);
    MCF_CHECK(memcmp(out.data, w, sizeof w) == 0);
    mcf_tensor_free(&out, &o);
    MCF_CHECK_RC(mcf_load_kv_cache_from_file(s, "kv2", urls[1], &o, &out), MCF_OK);
    MCF_CHECK(out.dtype == MCF_BF16 && out.ndim == 3 && out.shape[2] == 8);
    MCF_CHECK(memcmp(out.data, kv, sizeof kv) == 0);
    mcf_tensor_free(&out, &o);
    MCF_CHECK_RC(mcf_store_get_tensor(s, "kv2", NULL, &out), MCF_OK);
    MCF_CHECK(memcmp(out.data, kv, sizeof kv) == 0);
    mcf_tensor_free(&out, NULL);
    /* a missing remote file is FILE_NOT_FOUND, like a local one */
    MCF_CHECK_RC(mcf_load_tensor_from_file(s, "w3", "s3://" S3_BUCKET "/fileio/missing.pt", &o, NULL), MCF_FILE_NOT_FOUND);
    for (i = 0; i < 2; i++) MCF_CHECK_RC(mcf_remove(urls[i], &o), MCF_OK);
    mcf_memory_store_destroy(s);
    return 0;
}


/* ---- a server that ignores Range: python3 -m http.server ----------------
 * It answers HEAD with Content-Length and every GET with 200 and the whole
 * file. It serves tests/data/safetensors and tests/data/torch (symbolic links
 * in its directory) and the files these tests write there with local saves. */
static int py_link_data(void)
{
    static int linked;
    const char *sub[2] = { "safetensors", "torch" };
    char cwd[400], from[512], to[128];
    int i;
    if (linked) return 1;
    if (!getcwd(cwd, sizeof cwd)) return 0;
    for (i = 0; i < 2; i++) {
        (void)snprintf(from, sizeof from, "%s/tests/data/%s", cwd, sub[i]);
        (void)snprintf(to, sizeof to, "%s/www/%s", g_py.dir, sub[i]);
        if (symlink(from, to) != 0 && errno != EEXIST) return 0;
    }
    linked = 1;
    return 1;
}

/* The note a reader leaves once when the server answers a range with 200. */
static int has_range_note(const char *url)
{
    char want[256];
    (void)snprintf(want, sizeof want, "note: http: %s: the server ignores Range requests", url);
    if (strncmp(mcf_last_error(), want, strlen(want)) == 0) return 1;
    fprintf(stderr, "  last error \"%s\" does not start with \"%s\"%s\n", mcf_last_error(), want,
            strstr(mcf_last_error(), "note:") ? "" : " (does this python's http.server honor Range now?)");
    return 0;
}

/* Every reference file reads the same from a server that ignores Range as
 * from the local file. */
static int remote_http_no_range_references(void)
{
    char served[128];
    int files = 0;
    NEED_PY();
    MCF_CHECK(py_link_data());
    (void)snprintf(served, sizeof served, "%s/safetensors", g_py_base);
    MCF_CHECK(references_at("tests/data/safetensors", ".safetensors", NULL, served, NULL, &files));
    (void)snprintf(served, sizeof served, "%s/torch", g_py_base);
    MCF_CHECK(references_at("tests/data/torch", ".pt", NULL, served, NULL, &files));
    MCF_CHECK(files >= 40);
    return 0;
}

/* Size (HEAD), whole-object reads, a range at 0, the note once per reader.
 * The open asks for the first 72 KiB: for a file no longer than that, the
 * server's 200 is the whole object and the right answer (one request, no
 * note); for a longer one the 200 shows that Range is ignored, and the open
 * already leaves the note. */
static int remote_http_no_range_note(void)
{
    static float w[50000];
    char url[160], path[160];
    const char *local = "tests/data/safetensors/larger.safetensors";
    unsigned char *data, buf[64];
    size_t n, len, i;
    uint64_t size, r0, r1;
    void *p, *f = NULL;
    mcf_filesystem fs;
    mcf_url u;
    mcf_reader *r = NULL;
    mcf_tensor t;
    NEED_PY();
    MCF_CHECK(py_link_data());
    MCF_CHECK(read_local(local, &data, &n));
    MCF_CHECK(n > 4096 && n < OPEN_BLOCK);   /* more than one read-ahead block, less than the open's */
    url_of(url, sizeof url, g_py_base, "/safetensors/larger.safetensors");
    MCF_CHECK_RC(mcf_file_size(url, &size, NULL), MCF_OK);
    MCF_CHECK(size == n);
    MCF_CHECK_RC(mcf_exists(url, NULL), 1);
    /* the whole object: a 200 is the right answer, no note */
    mcf_set_error(MCF_OK, "%s", "");
    mcf_curl_counters(&r0, NULL, NULL);
    MCF_CHECK_RC(mcf_read_bytes(url, &p, &len, NULL), MCF_OK);
    mcf_curl_counters(&r1, NULL, NULL);
    MCF_CHECK(len == n && memcmp(p, data, n) == 0);
    mcf_free(p);
    MCF_CHECK(mcf_last_error()[0] == '\0');
    MCF_CHECK(r1 - r0 == 1);   /* the open's GET brought it all */
    free(data);
    /* a file longer than the open's block */
    for (i = 0; i < 50000; i++) w[i] = (float)i - 7.5f;
    memset(&t, 0, sizeof t);
    t.name = "w"; t.dtype = MCF_F32; t.ndim = 1; t.shape[0] = 50000; t.data = w;
    (void)snprintf(path, sizeof path, "%s/www/note.safetensors", g_py.dir);
    MCF_CHECK_RC(mcf_save(path, &t, 1, NULL), MCF_OK);
    MCF_CHECK(read_local(path, &data, &n));
    MCF_CHECK(n > OPEN_BLOCK);
    url_of(url, sizeof url, g_py_base, "/note.safetensors");
    /* the open's 200 leaves the note; 8 bytes at 0 (the safetensors length)
     * come from the block it kept */
    MCF_CHECK_RC(mcf_filesystem_lookup("http", &fs), MCF_OK);
    MCF_CHECK_RC(mcf_url_parse(url, NULL, &u), MCF_OK);
    mcf_set_error(MCF_OK, "%s", "");
    mcf_curl_counters(&r0, NULL, NULL);
    MCF_CHECK_RC(fs.open_read(fs.user, &u, NULL, &f, &size), MCF_OK);
    MCF_CHECK(size == n);
    MCF_CHECK(has_range_note(url));
    MCF_CHECK_ERR("bytes 0-73727");
    MCF_CHECK_RC(fs.read_at(f, 0, buf, 8), MCF_OK);
    mcf_curl_counters(&r1, NULL, NULL);
    MCF_CHECK(memcmp(buf, data, 8) == 0);
    MCF_CHECK(r1 - r0 == 1);
    mcf_set_error(MCF_OK, "%s", "");
    MCF_CHECK_RC(fs.read_at(f, n - 64, buf, 64), MCF_OK);
    MCF_CHECK(memcmp(buf, data + n - 64, 64) == 0);
    MCF_CHECK(mcf_last_error()[0] == '\0');   /* once per reader */
    fs.close_read(f);
    mcf_url_free(&u);
    /* mcf_open leaves it after a successful open; a new reader says it again */
    MCF_CHECK_RC(mcf_open(url, NULL, &r), MCF_OK);
    MCF_CHECK(has_range_note(url));
    MCF_CHECK(mcf_count(r) == 1);
    mcf_close(r);
    /* a whole-object read of it too: its open asked for a range */
    mcf_set_error(MCF_OK, "%s", "");
    MCF_CHECK_RC(mcf_read_bytes(url, &p, &len, NULL), MCF_OK);
    MCF_CHECK(len == n && memcmp(p, data, n) == 0);
    mcf_free(p);
    MCF_CHECK(has_range_note(url));
    MCF_CHECK(remove(path) == 0);
    free(data);
    return 0;
}

/* A lazy single-tensor load of a 4.5 MB file: open reads one 72 KiB block,
 * a small tensor's read streams the file up to the block that holds it and
 * pauses there; the rest is sent only if a later read needs it. */
static int remote_http_no_range_lazy_load(void)
{
    static float a[65536], b[16], c[1 << 20];
    mcf_tensor t[3];
    mcf_reader *r = NULL;
    char path[160], url[160], pt_path[160], pt_url[160];
    uint64_t r0, r1, r2, r3, d0, d1, d2, d3, off, nb, size, open_req, open_bytes, b_req, b_bytes;
    float got[16], *gotc;
    unsigned char tail[5];
    unsigned char *local, *chunk;
    size_t i, n;
    int ib, ic;
    void *f = NULL;
    mcf_filesystem fs;
    mcf_url u;
    NEED_PY();
    for (i = 0; i < 65536; i++) a[i] = (float)i;
    for (i = 0; i < 16; i++) b[i] = (float)i * 0.25f - 1.0f;
    for (i = 0; i < (size_t)1 << 20; i++) c[i] = (float)i * 2.0f;
    memset(t, 0, sizeof t);
    t[0].name = "a"; t[0].dtype = MCF_F32; t[0].ndim = 1; t[0].shape[0] = 65536; t[0].data = a;
    t[1].name = "b"; t[1].dtype = MCF_F32; t[1].ndim = 1; t[1].shape[0] = 16; t[1].data = b;
    t[2].name = "c"; t[2].dtype = MCF_F32; t[2].ndim = 2; t[2].shape[0] = 1024; t[2].shape[1] = 1024; t[2].data = c;
    (void)snprintf(path, sizeof path, "%s/www/lazy.safetensors", g_py.dir);
    MCF_CHECK_RC(mcf_save(path, t, 3, NULL), MCF_OK);
    url_of(url, sizeof url, g_py_base, "/lazy.safetensors");

    mcf_set_error(MCF_OK, "%s", "");
    mcf_curl_counters(&r0, &d0, NULL);
    MCF_CHECK_RC(mcf_open(url, NULL, &r), MCF_OK);
    mcf_curl_counters(&r1, &d1, NULL);
    MCF_CHECK(has_range_note(url));
    MCF_CHECK(mcf_count(r) == 3);
    MCF_CHECK(r1 - r0 == 1);                     /* one GET (its 200 cut): the header is in the first 72 KiB */
    MCF_CHECK(d1 - d0 < (72 + 16 + 2) * 1024);   /* that block, one receive buffer past it, headers */
    open_req = r1 - r0;
    open_bytes = d1 - d0;
    MCF_CHECK_RC(mcf_file_size(url, &size, NULL), MCF_OK);
    ib = mcf_find(r, "b");
    MCF_CHECK(ib >= 0);
    MCF_CHECK_RC(mcf_entry_location(r, (size_t)ib, &off, &nb), MCF_OK);
    MCF_CHECK(nb == sizeof b && off > 80 * 1024 && off + nb + ((uint64_t)1 << 20) < size);
    mcf_set_error(MCF_OK, "%s", "");
    mcf_curl_counters(&r1, &d1, NULL);
    MCF_CHECK_RC(mcf_read(r, (size_t)ib, got, sizeof got), MCF_OK);
    mcf_curl_counters(&r2, &d2, NULL);
    MCF_CHECK(memcmp(got, b, sizeof b) == 0);
    MCF_CHECK(mcf_last_error()[0] == '\0');      /* said once, at open */
    MCF_CHECK(r2 - r1 == 1);
    MCF_CHECK(d2 - d1 >= off + nb);              /* streamed from byte 0 ... */
    MCF_CHECK(d2 - d1 < off + (72 + 16 + 2) * 1024);    /* ... and paused after one 72 KiB block there */
    b_req = r2 - r1;
    b_bytes = d2 - d1;
    /* the next tensor, to the end of the file: the held GET goes on (no new
     * request), and its start comes from the block b's read kept */
    ic = mcf_find(r, "c");
    MCF_CHECK(ic >= 0);
    gotc = (float *)malloc(sizeof c);
    MCF_CHECK(gotc != NULL);
    MCF_CHECK_RC(mcf_read(r, (size_t)ic, gotc, sizeof c), MCF_OK);
    mcf_curl_counters(&r3, &d3, NULL);
    MCF_CHECK(memcmp(gotc, c, sizeof c) == 0);
    MCF_CHECK(r3 - r2 == 0 && d3 - d2 < size - off);
    /* a tensor behind the stream starts a new GET */
    MCF_CHECK_RC(mcf_read(r, 0, gotc, sizeof a), MCF_OK);
    mcf_curl_counters(&r2, &d2, NULL);
    MCF_CHECK(memcmp(gotc, a, sizeof a) == 0);
    MCF_CHECK(r2 - r3 == 1);
    free(gotc);
    mcf_close(r);
    fprintf(stderr, "  %s (ignores Range): open %llu requests %llu bytes, +read(b) %llu requests %llu bytes (file %llu, b at %llu)\n",
            url, (unsigned long long)open_req, (unsigned long long)open_bytes, (unsigned long long)b_req,
            (unsigned long long)b_bytes, (unsigned long long)size, (unsigned long long)off);
    /* the last bytes through the backend: a read-ahead block ending at EOF */
    MCF_CHECK(read_local(path, &local, &n));
    MCF_CHECK_RC(mcf_filesystem_lookup("http", &fs), MCF_OK);
    MCF_CHECK_RC(mcf_url_parse(url, NULL, &u), MCF_OK);
    MCF_CHECK_RC(fs.open_read(fs.user, &u, NULL, &f, &size), MCF_OK);
    MCF_CHECK(n == size);
    /* a copy in 256 KiB pieces (mcf cp reads 1 MiB ones): the first read
     * finds out, then one GET serves all the others, not one GET each */
    chunk = (unsigned char *)malloc((size_t)256 << 10);
    MCF_CHECK(chunk != NULL);
    mcf_curl_counters(&r0, &d0, NULL);
    for (i = 0; i < n; i += (size_t)256 << 10) {
        size_t k = n - i < ((size_t)256 << 10) ? n - i : ((size_t)256 << 10);
        MCF_CHECK_RC(fs.read_at(f, i, chunk, k), MCF_OK);
        MCF_CHECK(memcmp(chunk, local + i, k) == 0);
    }
    mcf_curl_counters(&r1, &d1, NULL);
    free(chunk);
    /* the open's 200 showed it: one GET streamed from byte 0 serves every
     * piece (its first 72 KiB also came with the open), not 17 prefixes */
    MCF_CHECK(r1 - r0 == 1 && d1 - d0 < n + ((size_t)(16 + 2) << 10));
    MCF_CHECK_RC(fs.read_at(f, size - 5, tail, 5), MCF_OK);
    MCF_CHECK(memcmp(tail, local + n - 5, 5) == 0);
    /* the file changes under the open reader: a 200 of another length is refused */
    MCF_CHECK_RC(mcf_save(path, t + 1, 1, NULL), MCF_OK);
    MCF_CHECK_RC(fs.read_at(f, 100000, tail, 5), MCF_FILE_READ_FAIL);
    MCF_CHECK_ERR("the server ignored Range");
    MCF_CHECK_ERR("changed since?");
    MCF_CHECK_ERR(url);
    fs.close_read(f);
    mcf_url_free(&u);
    free(local);
    /* the same tensors as a torch file (zip: its end records sit at the end) */
    (void)snprintf(pt_path, sizeof pt_path, "%s/www/lazy.pt", g_py.dir);
    url_of(pt_url, sizeof pt_url, g_py_base, "/lazy.pt");
    MCF_CHECK_RC(mcf_save(pt_path, t, 3, NULL), MCF_OK);
    MCF_CHECK(same_as_local(pt_path, pt_url, NULL));
    return 0;
}

/* A 206 must carry the Content-Range asked for: anything else is an error,
 * never bytes from elsewhere in the object. The open asks for bytes 0-73727
 * and learns the size from that header, so a range that starts elsewhere,
 * stops short of an object that is longer, a total of "*" and a header that
 * does not parse all fail the open naming the URL, never a guessed size. */
static int remote_http_bad_content_range(void)
{
    static const char *const bad[][2] = {
        { "/badrange/wrong.bin", "bytes 0-73727: the server answered 206 with Content-Range \"bytes 1-8/9\", not the bytes asked for" },
        { "/badrange/total.bin", "bytes 0-73727: the server answered 206 with Content-Range \"bytes 0-7/9\", not the bytes asked for" },
        { "/badrange/star.bin", "bytes 0-73727: the server answered 206 with Content-Range \"bytes 0-7/*\", not the bytes asked for" },
        { "/badrange/junk.bin", "bytes 0-73727: the server answered 206 with Content-Range \"bytes zero-7/8\", not the bytes asked for" },
        { "/badrange/none.bin", "bytes 0-73727: the server answered 206 without a Content-Range header" },
    };
    char url[160];
    void *p;
    size_t n, i;
    uint64_t size;
    mcf_reader *r = NULL;
    NEED_HTTP();
    url_of(url, sizeof url, g_http_base, "/badrange/wrong.bin");
    MCF_CHECK_RC(mcf_file_size(url, &size, NULL), MCF_OK);   /* a HEAD: Content-Length */
    MCF_CHECK(size == 8);
    for (i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        url_of(url, sizeof url, g_http_base, bad[i][0]);
        MCF_CHECK_RC(mcf_read_bytes(url, &p, &n, NULL), MCF_FILE_READ_FAIL);
        MCF_CHECK_ERR("http: GET");
        MCF_CHECK_ERR(url);
        MCF_CHECK_ERR(bad[i][1]);
        MCF_CHECK_RC(mcf_open(url, NULL, &r), MCF_FILE_READ_FAIL);
        MCF_CHECK_ERR(bad[i][1]);
        MCF_CHECK(r == NULL);
    }
    return 0;
}

/* A server that sends no Content-Length (nginx's /chunked/ rewrites bodies,
 * so it answers chunked and ignores Range): the size is unknown, so a HEAD
 * (mcf_file_size) and the open's GET both fail with MCF_NOT_SUPPORTED
 * naming the URL; the open cuts the stream, it never downloads the object. */
static int remote_http_no_content_length(void)
{
    char url[160];
    unsigned char *data = noise(100000, 23);
    uint64_t size, d0, d1;
    void *p = NULL;
    size_t n;
    mcf_reader *r = NULL;
    NEED_HTTP();
    MCF_CHECK(data != NULL);
    url_of(url, sizeof url, g_http_base, "/chunked/c.bin");
    MCF_CHECK_RC(mcf_write_bytes(url, data, 100000, NULL), MCF_OK);
    MCF_CHECK_RC(mcf_file_size(url, &size, NULL), MCF_NOT_SUPPORTED);
    MCF_CHECK_ERR("http: HEAD");
    MCF_CHECK_ERR("the server sent no Content-Length, so the size is unknown");
    mcf_curl_counters(NULL, &d0, NULL);
    MCF_CHECK_RC(mcf_read_bytes(url, &p, &n, NULL), MCF_NOT_SUPPORTED);
    mcf_curl_counters(NULL, &d1, NULL);
    MCF_CHECK_ERR("http: GET");
    MCF_CHECK_ERR(url);
    MCF_CHECK_ERR("the server sent no Content-Length, so the size is unknown");
    MCF_CHECK(d1 - d0 < 100000);   /* cut at its first bytes */
    MCF_CHECK_RC(mcf_open(url, NULL, &r), MCF_NOT_SUPPORTED);
    MCF_CHECK_ERR("the server sent no Content-Length");
    MCF_CHECK(r == NULL);
    MCF_CHECK_RC(mcf_remove(url, NULL), MCF_OK);
    free(data);
    return 0;
}

/* https: a self-signed certificate fails verification by default, and works
 * with ca_file (verified) or verify_tls=0. */
static int remote_https_tls_options(void)
{
    char url[160], cert[128], data[128];
    const char *with_ca[] = { "ca_file", NULL, NULL };
    const char *no_verify[] = { "verify_tls", "false", NULL };
    mcf_options o;
    uint64_t size;
    void *p;
    size_t n;
    FILE *f;
    NEED_HTTP();
    (void)snprintf(cert, sizeof cert, "%s/www/cert.pem", g_http.dir);
    if (access(cert, R_OK) != 0) MCF_SKIP("no openssl to make a test certificate, https not tested");
    (void)snprintf(data, sizeof data, "%s/www/data/tls.bin", g_http.dir);
    f = fopen(data, "wb");
    MCF_CHECK(f != NULL);
    MCF_CHECK(fwrite("secure", 1, 6, f) == 6);
    fclose(f);
    (void)snprintf(url, sizeof url, "https://127.0.0.1:%d/tls.bin", g_http.port2);
    MCF_CHECK_RC(mcf_file_size(url, &size, NULL), MCF_FILE_OPEN_FAIL);
    MCF_CHECK_ERR(url);
    MCF_CHECK_ERR("certificate");
    with_ca[1] = cert;
    memset(&o, 0, sizeof o);
    o.storage_options = with_ca;
    MCF_CHECK_RC(mcf_read_bytes(url, &p, &n, &o), MCF_OK);
    MCF_CHECK(n == 6 && memcmp(p, "secure", 6) == 0);
    mcf_free(p);
    o.storage_options = no_verify;
    MCF_CHECK_RC(mcf_file_size(url, &size, &o), MCF_OK);
    MCF_CHECK(size == 6);
    return 0;
}

/* ---- slices and dtype conversion over the network ------------------------ */
/* The same slices read remotely and locally give the same bytes (the local
 * reader is checked against PyTorch in test_slice.c): a file of several
 * dtypes and shapes, and real PyTorch views (transpose, storage offsets). */
static int slices_same_as_local(const char *file_url, const unsigned char *bytes, size_t len, const mcf_options *o)
{
    mcf_reader *a = NULL, *b = NULL;
    size_t i;
    uint32_t x = 12345;
    int k, d, ok = 0, cases = 0;
    if (mcf_write_bytes(file_url, bytes, len, o) != MCF_OK) { fprintf(stderr, "  upload %s: %s\n", file_url, mcf_last_error()); return 0; }
    if (mcf_open_memory(bytes, len, NULL, &a) != MCF_OK || mcf_open(file_url, o, &b) != MCF_OK) {
        fprintf(stderr, "  open %s: %s\n", file_url, mcf_last_error());
        goto done;
    }
    for (i = 0; i < mcf_count(a); i++) {
        mcf_tensor t;
        if (mcf_entry(a, i, &t) != MCF_OK) goto done;
        for (k = 0; k < 12; k++) {
            mcf_slice s[8];
            int64_t shape[8];
            uint64_t numel = 1;
            int ns = t.ndim ? (int)(x % (uint32_t)(t.ndim + 1)) : 0, to_f32 = k % 2 && mcf_convert_supported(t.dtype, MCF_F32);
            size_t os, n;
            unsigned char *pa, *pb;
            int ra, rb;
            for (d = 0; d < ns; d++) {
                int64_t m = t.shape[d] + 2;
                x = x * 1103515245u + 12345u;
                s[d].start = (int64_t)(x >> 8) % (2 * m + 1) - m;
                x = x * 1103515245u + 12345u;
                s[d].stop = (x >> 20) % 4 == 0 ? MCF_SLICE_END : (int64_t)(x >> 8) % (2 * m + 1) - m;
                s[d].step = 1 + (int64_t)((x >> 4) % 3);
            }
            x = x * 1103515245u + 12345u;
            if (mcf_slice_shape(a, i, s, ns, shape) != MCF_OK) goto done;
            for (d = 0; d < t.ndim; d++) numel *= (uint64_t)shape[d];
            os = mcf_dtype_size(to_f32 ? MCF_F32 : t.dtype);
            n = (size_t)numel * os;
            pa = (unsigned char *)malloc(n + 1);
            pb = (unsigned char *)malloc(n + 1);
            if (!pa || !pb) { free(pa); free(pb); goto done; }
            ra = to_f32 ? mcf_read_as(a, i, MCF_F32, s, ns, pa, n) : mcf_read_slice(a, i, s, ns, pa, n);
            rb = to_f32 ? mcf_read_as(b, i, MCF_F32, s, ns, pb, n) : mcf_read_slice(b, i, s, ns, pb, n);
            if (ra != MCF_OK || rb != MCF_OK || memcmp(pa, pb, n) != 0) {
                fprintf(stderr, "  %s: tensor %s slice %d: local %s, remote %s (%s)\n", file_url, t.name, k, mcf_result_name(ra),
                        mcf_result_name(rb), mcf_last_error());
                free(pa); free(pb);
                goto done;
            }
            free(pa); free(pb);
            cases++;
        }
    }
    ok = cases > 0;
done:
    mcf_close(a);
    mcf_close(b);
    if (mcf_remove(file_url, o) != MCF_OK) ok = 0;
    return ok;
}

static int remote_slices_match_local_http_and_s3(void)
{
    static const char *const pt[] = {"transpose_view.pt", "slice_2d_offset.pt", "slice_offset.pt", "rank4.pt", "dtype_bf16.pt",
                                     "empty_3d.pt", "scalar_0d.pt", "shared_storage.pt"};
    static const mcf_dtype dts[] = {MCF_F32, MCF_BF16, MCF_F16, MCF_I8, MCF_U16, MCF_F64, MCF_I64, MCF_F8_E4M3};
    mcf_tensor t[8];
    mcf_options so, fo;
    unsigned char *data = noise(200000, 3), *st = NULL;
    void *mem = NULL;
    size_t len = 0, st_len = 0, i, off = 0;
    char url[256];
    int pass;
    NEED_HTTP();
    NEED_S3();
    MCF_CHECK(data != NULL);
    memset(t, 0, sizeof t);
    for (i = 0; i < 8; i++) {
        static char names[8][8];
        (void)snprintf(names[i], sizeof names[i], "t%lu", (unsigned long)i);
        t[i].name = names[i];
        t[i].dtype = dts[i];
        t[i].ndim = (int)(i % 4);
        t[i].shape[0] = 37; t[i].shape[1] = 23; t[i].shape[2] = 5;
        t[i].data = data + off;
        off += (size_t)mcf_tensor_nbytes(&t[i]);
    }
    t[7].ndim = 2; t[7].shape[0] = 0;           /* an empty tensor too */
    for (i = 0; i < off; i++) if (data[i] == 0x7f || data[i] == 0xff) data[i] = 0x3c;   /* no F8_E4M3 NaN patterns */
    memset(&fo, 0, sizeof fo);
    fo.format = "safetensors";
    MCF_CHECK_RC(mcf_save_to_memory(t, 8, &fo, &mem, &len), MCF_OK);
    so = s3_options(S3_SECRET);
    for (pass = 0; pass < 2; pass++) {
        const mcf_options *o = pass ? &so : NULL;
        const char *base = pass ? "s3://" S3_BUCKET : g_http_base;
        (void)snprintf(url, sizeof url, "%s/slices/model.safetensors", base);
        MCF_CHECK(slices_same_as_local(url, (const unsigned char *)mem, len, o));
        for (i = 0; i < sizeof pt / sizeof pt[0]; i++) {
            char local[128];
            (void)snprintf(local, sizeof local, "tests/data/torch/%s", pt[i]);
            MCF_CHECK((st = mcf_test_slurp(local, &st_len)) != NULL);
            (void)snprintf(url, sizeof url, "%s/slices/%s", base, pt[i]);
            MCF_CHECK(slices_same_as_local(url, st, st_len, o));
            free(st);
        }
    }
    mcf_free(mem);
    free(data);
    return 0;
}

/* A row slice and a column slice of a BF16 [4096, 4096] weight (32 MiB):
 * what each costs in requests and bytes beyond the open. A row slice moves
 * at most its bytes + 64 KiB; a column slice's runs are 8 KiB apart, so its
 * reads merge (gaps under 64 KiB) into 8 ranged GETs of at most 4 MiB. */
static int slice_cost(const char *url, const mcf_options *o)
{
    enum { N = 4096, K = 128 };
    uint16_t *w = (uint16_t *)malloc((size_t)N * N * 2), *got = (uint16_t *)malloc((size_t)N * K * 4);
    float *f = (float *)got;
    mcf_tensor t;
    mcf_reader *r = NULL;
    mcf_slice s[2];
    uint64_t r0, r1, r2, r3, r4, d0, d1, d2, d3, d4;
    size_t i, j;
    MCF_CHECK(w && got);
    for (i = 0; i < (size_t)N * N; i++) w[i] = (uint16_t)(0x3f80u + (i * 2654435761u >> 20) % 0x300u);   /* finite BF16 */
    memset(&t, 0, sizeof t);
    t.name = "weight"; t.dtype = MCF_BF16; t.ndim = 2; t.shape[0] = N; t.shape[1] = N; t.data = w;
    MCF_CHECK_RC(mcf_save(url, &t, 1, o), MCF_OK);
    mcf_curl_counters(&r0, &d0, NULL);
    MCF_CHECK_RC(mcf_open(url, o, &r), MCF_OK);
    mcf_curl_counters(&r1, &d1, NULL);
    /* rows 0..127: 1 MiB */
    s[0] = mcf_slice_range(0, K);
    MCF_CHECK_RC(mcf_read_slice(r, 0, s, 1, got, (size_t)K * N * 2), MCF_OK);
    mcf_curl_counters(&r2, &d2, NULL);
    MCF_CHECK(memcmp(got, w, (size_t)K * N * 2) == 0);
    /* the same rows as F32: the same transfer */
    MCF_CHECK_RC(mcf_read_as(r, 0, MCF_F32, s, 1, f, (size_t)K * N * 4), MCF_OK);
    mcf_curl_counters(&r3, &d3, NULL);
    for (i = 0; i < (size_t)K * N; i++) {
        uint32_t b;
        memcpy(&b, &f[i], 4);
        MCF_CHECK(b == (uint32_t)w[i] << 16);
    }
    /* columns 0..127 of every row */
    s[0] = mcf_slice_range(0, MCF_SLICE_END);
    s[1] = mcf_slice_range(0, K);
    MCF_CHECK_RC(mcf_read_slice(r, 0, s, 2, got, (size_t)N * K * 2), MCF_OK);
    mcf_curl_counters(&r4, &d4, NULL);
    for (i = 0; i < N; i++)
        for (j = 0; j < K; j++) MCF_CHECK(got[i * K + j] == w[i * N + j]);
    fprintf(stderr, "  %s: BF16 [4096, 4096]: open %llu requests %llu bytes; rows 0:128 (%d bytes) %llu requests %llu bytes; "
                    "as F32 %llu requests %llu bytes; columns 0:128 (%d bytes) %llu requests %llu bytes\n",
            url, (unsigned long long)(r1 - r0), (unsigned long long)(d1 - d0), K * N * 2, (unsigned long long)(r2 - r1),
            (unsigned long long)(d2 - d1), (unsigned long long)(r3 - r2), (unsigned long long)(d3 - d2), K * N * 2,
            (unsigned long long)(r4 - r3), (unsigned long long)(d4 - d3));
    MCF_CHECK(d2 - d1 <= (uint64_t)K * N * 2 + 65536);
    MCF_CHECK(r2 - r1 == 1);
    MCF_CHECK(d3 - d2 <= (uint64_t)K * N * 2 + 65536);
    MCF_CHECK(r4 - r3 == 8);
    /* the first 72 KiB come from the block the open kept */
    MCF_CHECK(d4 - d3 + OPEN_BLOCK >= 8 * (511 * 8192 + 256u) && d4 - d3 <= 8 * (511 * 8192 + 256u) + 65536);
    mcf_close(r);
    MCF_CHECK_RC(mcf_remove(url, o), MCF_OK);
    free(w);
    free(got);
    return 0;
}

static int remote_slice_cost_row_and_column(void)
{
    mcf_options o;
    char url[160];
    NEED_HTTP();
    NEED_S3();
    url_of(url, sizeof url, g_http_base, "/slices/weight.safetensors");
    if (slice_cost(url, NULL) != 0) return 1;
    o = s3_options(S3_SECRET);
    return slice_cost("s3://" S3_BUCKET "/slices/weight.safetensors", &o);
}

MCF_TEST_MAIN(MCF_TEST(remote_http_bytes_round_trip), MCF_TEST(remote_http_missing_is_file_not_found),
              MCF_TEST(remote_http_range_reads), MCF_TEST(remote_http_status_mapping),
              MCF_TEST(remote_http_bearer_and_headers), MCF_TEST(remote_bad_storage_options),
              MCF_TEST(remote_http_cancelled_put_keeps_old), MCF_TEST(remote_s3_bytes_round_trip),
              MCF_TEST(remote_s3_wrong_secret), MCF_TEST(remote_s3_missing), MCF_TEST(remote_s3_multipart),
              MCF_TEST(remote_s3_env_credentials), MCF_TEST(remote_safetensors_references_http_and_s3),
              MCF_TEST(remote_safetensors_lazy_load_http), MCF_TEST(remote_safetensors_lazy_load_s3_multipart),
              MCF_TEST(remote_torch_references_http_and_s3), MCF_TEST(remote_torch_lazy_load_http),
              MCF_TEST(remote_s3_file_io_flows), MCF_TEST(remote_http_no_range_references),
              MCF_TEST(remote_http_no_range_note), MCF_TEST(remote_http_no_range_lazy_load),
              MCF_TEST(remote_http_bad_content_range), MCF_TEST(remote_https_tls_options),
              MCF_TEST(remote_slices_match_local_http_and_s3), MCF_TEST(remote_slice_cost_row_and_column),
              MCF_TEST(remote_open_is_one_request_http_and_s3), MCF_TEST(remote_empty_object_open_http_and_s3), MCF_TEST(remote_bare_416_asks_head),
              MCF_TEST(remote_http_no_content_length))
#endif
