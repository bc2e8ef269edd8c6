/* [09] fs: memory - process-wide, thread-safe named blobs. */
#include "mcf_test.h"
#include <pthread.h>

static int memory_roundtrip_and_aliases(void)
{
    void *d = NULL; size_t n = 0; uint64_t sz = 0;
    MCF_CHECK_RC(mcf_write_bytes("memory://a/b", "hello", 5, NULL), MCF_OK);
    /* memory://a/b and memory:///a/b are the same object */
    MCF_CHECK_RC(mcf_read_bytes("memory:///a/b", &d, &n, NULL), MCF_OK);
    MCF_CHECK(n == 5 && memcmp(d, "hello", 5) == 0);
    mcf_free(d);
    MCF_CHECK_RC(mcf_file_size("memory://a/b/", &sz, NULL), MCF_OK);
    MCF_CHECK(sz == 5);
    MCF_CHECK(mcf_exists("memory://a/b", NULL) == 1);
    /* filesystem option turns a path into memory://path */
    {
        mcf_options o;
        memset(&o, 0, sizeof o);
        o.filesystem = "memory";
        MCF_CHECK(mcf_exists("a/b", &o) == 1);
    }
    MCF_CHECK_RC(mcf_remove("memory://a/b", NULL), MCF_OK);
    MCF_CHECK(mcf_exists("memory://a/b", NULL) == 0);
    MCF_CHECK_RC(mcf_remove("memory://a/b", NULL), MCF_FILE_NOT_FOUND);
    MCF_CHECK_ERR("memory:///a/b");
    d = (void *)1;
    MCF_CHECK_RC(mcf_read_bytes("memory://a/b", &d, &n, NULL), MCF_FILE_NOT_FOUND);
    MCF_CHECK_ERR("no such object");
    MCF_CHECK(d == (void *)1);   /* outputs untouched on failure */
    return 0;
}

static int memory_overwrite_empty_and_no_overwrite(void)
{
    mcf_options o;
    void *d = NULL; size_t n = 1;
    memset(&o, 0, sizeof o);
    MCF_CHECK_RC(mcf_write_bytes("memory://ov", "first", 5, NULL), MCF_OK);
    MCF_CHECK_RC(mcf_write_bytes("memory://ov", "2nd", 3, NULL), MCF_OK);
    MCF_CHECK_RC(mcf_read_bytes("memory://ov", &d, &n, NULL), MCF_OK);
    MCF_CHECK(n == 3 && memcmp(d, "2nd", 3) == 0);
    mcf_free(d);
    o.flags = MCF_NO_OVERWRITE;
    MCF_CHECK_RC(mcf_write_bytes("memory://ov", "third", 5, &o), MCF_FILE_OPEN_FAIL);
    MCF_CHECK_ERR("already exists");
    MCF_CHECK_RC(mcf_read_bytes("memory://ov", &d, &n, NULL), MCF_OK);
    MCF_CHECK(n == 3 && memcmp(d, "2nd", 3) == 0);
    mcf_free(d);
    MCF_CHECK_RC(mcf_write_bytes("memory://empty", NULL, 0, NULL), MCF_OK);
    MCF_CHECK_RC(mcf_read_bytes("memory://empty", &d, &n, NULL), MCF_OK);
    MCF_CHECK(n == 0);
    mcf_free(d);
    MCF_CHECK_RC(mcf_remove("memory://ov", NULL), MCF_OK);
    MCF_CHECK_RC(mcf_remove("memory://empty", NULL), MCF_OK);
    return 0;
}

static int cancel_after_first(void *user, uint64_t done, uint64_t total)
{
    (void)total;
    *(uint64_t *)user = done;
    return 1;
}

static int memory_progress_cancel_writes_nothing(void)
{
    static unsigned char big[9 << 20];
    mcf_options o;
    uint64_t seen = 0;
    memset(&o, 0, sizeof o);
    o.progress = cancel_after_first;
    o.progress_user = &seen;
    MCF_CHECK_RC(mcf_write_bytes("memory://cancelled", big, sizeof big, &o), MCF_PERSISTENT_FAIL);
    MCF_CHECK_ERR("cancelled by the progress callback");
    MCF_CHECK(seen > 0 && seen < sizeof big);
    MCF_CHECK(mcf_exists("memory://cancelled", NULL) == 0);
    return 0;
}

/* A reader keeps its bytes while another writer replaces or removes the name. */
static int memory_blob_outlives_overwrite(void)
{
    mcf_filesystem fs;
    (void)fs;
    MCF_CHECK_RC(mcf_write_bytes("memory://stable", "AAAA", 4, NULL), MCF_OK);
    /* mcf_open keeps a reference; formats are tested elsewhere, so use the
     * whole-object path twice around an overwrite instead */
    {
        void *d1 = NULL; size_t n1 = 0;
        MCF_CHECK_RC(mcf_read_bytes("memory://stable", &d1, &n1, NULL), MCF_OK);
        MCF_CHECK_RC(mcf_write_bytes("memory://stable", "BB", 2, NULL), MCF_OK);
        MCF_CHECK(n1 == 4 && memcmp(d1, "AAAA", 4) == 0);
        mcf_free(d1);
    }
    MCF_CHECK_RC(mcf_remove("memory://stable", NULL), MCF_OK);
    return 0;
}

#define THREADS 8
#define ROUNDS 200

typedef struct worker { int id; int failures; } worker;

static void *memory_worker(void *arg)
{
    worker *w = (worker *)arg;
    char own[64], buf[32];
    int r;
    snprintf(own, sizeof own, "memory://threads/own-%d", w->id);
    for (r = 0; r < ROUNDS; r++) {
        void *d = NULL; size_t n = 0;
        int len = snprintf(buf, sizeof buf, "%d:%d", w->id, r);
        /* private name: what I wrote is what I read */
        if (mcf_write_bytes(own, buf, (size_t)len, NULL) != MCF_OK) w->failures++;
        if (mcf_read_bytes(own, &d, &n, NULL) != MCF_OK || n != (size_t)len || memcmp(d, buf, n) != 0) w->failures++;
        mcf_free(d);
        /* shared name: whatever I read is one complete value of some writer */
        if (mcf_write_bytes("memory://threads/shared", buf, (size_t)len, NULL) != MCF_OK) w->failures++;
        d = NULL;
        if (mcf_read_bytes("memory://threads/shared", &d, &n, NULL) == MCF_OK) {
            int a = -1, b = -1;
            char tmp[32];
            if (n >= sizeof tmp) w->failures++;
            else {
                memcpy(tmp, d, n); tmp[n] = 0;
                if (sscanf(tmp, "%d:%d", &a, &b) != 2 || a < 0 || a >= THREADS || b < 0 || b >= ROUNDS) w->failures++;
            }
            mcf_free(d);
        } else if (mcf_last_error()[0] == '\0' || !strstr(mcf_last_error(), "no such object")) {
            w->failures++;   /* the only acceptable failure: another thread removed it */
        }
        if (r % 50 == 49) (void)mcf_remove("memory://threads/shared", NULL);
    }
    if (mcf_remove(own, NULL) != MCF_OK) w->failures++;
    return NULL;
}

static int memory_threads(void)
{
    pthread_t th[THREADS];
    worker w[THREADS];
    int i, fails = 0;
    for (i = 0; i < THREADS; i++) {
        w[i].id = i; w[i].failures = 0;
        MCF_CHECK(pthread_create(&th[i], NULL, memory_worker, &w[i]) == 0);
    }
    for (i = 0; i < THREADS; i++) { pthread_join(th[i], NULL); fails += w[i].failures; }
    MCF_CHECK(fails == 0);
    (void)mcf_remove("memory://threads/shared", NULL);
    return 0;
}

static int memory_registry_user_scheme(void)
{
    /* a user backend registered under a new scheme reuses the memory code
     * through a thin wrapper: here we only check lookup and the error list */
    void *d; size_t n;
    mcf_filesystem fs;
    memset(&fs, 0, sizeof fs);
    fs.scheme = "Bad";
    MCF_CHECK_RC(mcf_register_filesystem(&fs), MCF_INVALID_PARAMS);
    MCF_CHECK_ERR("lower-case");
    fs.scheme = "nofuncs";
    MCF_CHECK_RC(mcf_register_filesystem(&fs), MCF_INVALID_PARAMS);
    MCF_CHECK_ERR("needs stat");
    MCF_CHECK_RC(mcf_read_bytes("nofuncs://x", &d, &n, NULL), MCF_INVALID_PARAMS);
    MCF_CHECK_ERR("unknown filesystem \"nofuncs\"");
    return 0;
}

/* The memory backend has no settings: every storage option is refused,
 * naming the key and the backend, on each entry point (write, size, read,
 * mcf_open, remove), and nothing is written or removed. */
static int memory_refuses_storage_options(void)
{
    const char *region[] = { "region", "us-east-1", NULL };
    const char *none[] = { NULL };
    mcf_options o;
    mcf_reader *r = (mcf_reader *)1;
    void *d = NULL; size_t n = 0; uint64_t sz = 0;
    memset(&o, 0, sizeof o);
    o.storage_options = region;
    MCF_CHECK_RC(mcf_write_bytes("memory://so/x", "abc", 3, &o), MCF_INVALID_PARAMS);
    MCF_CHECK_ERR("memory: unknown storage option \"region\" for \"memory:///so/x\" (memory objects take no storage options)");
    MCF_CHECK(mcf_exists("memory://so/x", NULL) == 0);
    MCF_CHECK_RC(mcf_write_bytes("memory://so/x", "abc", 3, NULL), MCF_OK);
    MCF_CHECK_RC(mcf_file_size("memory://so/x", &sz, &o), MCF_INVALID_PARAMS);
    MCF_CHECK_ERR("unknown storage option \"region\"");
    MCF_CHECK(mcf_exists("memory://so/x", &o) == MCF_INVALID_PARAMS);
    MCF_CHECK_RC(mcf_read_bytes("memory://so/x", &d, &n, &o), MCF_INVALID_PARAMS);
    MCF_CHECK(d == NULL);
    MCF_CHECK_RC(mcf_open("memory://so/x", &o, &r), MCF_INVALID_PARAMS);
    MCF_CHECK(r == NULL);
    MCF_CHECK_ERR("memory objects take no storage options");
    MCF_CHECK_RC(mcf_remove("memory://so/x", &o), MCF_INVALID_PARAMS);
    MCF_CHECK(mcf_exists("memory://so/x", NULL) == 1);
    /* an empty list is no option at all */
    o.storage_options = none;
    MCF_CHECK_RC(mcf_file_size("memory://so/x", &sz, &o), MCF_OK);
    MCF_CHECK(sz == 3);
    MCF_CHECK_RC(mcf_remove("memory://so/x", &o), MCF_OK);
    return 0;
}

MCF_TEST_MAIN(MCF_TEST(memory_roundtrip_and_aliases), MCF_TEST(memory_overwrite_empty_and_no_overwrite),
              MCF_TEST(memory_progress_cancel_writes_nothing), MCF_TEST(memory_blob_outlives_overwrite),
              MCF_TEST(memory_threads), MCF_TEST(memory_registry_user_scheme),
              MCF_TEST(memory_refuses_storage_options))
