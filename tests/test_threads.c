/* [08]-[10] concurrency: many threads saving and loading local files (bytes
 * and safetensors), the memory filesystem (same and different names) and the
 * memory store (own and shared keys) while others register
 * filesystems; every read sees one complete version. Built and run under
 * ThreadSanitizer by `make test` (variant tsan). */
#include "mcf_test.h"

#if !defined(MCF_NO_POSIX)
#include <pthread.h>
#include <stdint.h>
#include <sys/stat.h>
#include <unistd.h>
#include <dirent.h>
#include "mcf_test_posix.h"

#define TH_THREADS 8
#define TH_ROUNDS 40
#define TH_WORDS 2048                  /* 16 KiB payloads */

static char th_dir[64];

typedef struct th_arg {
    int id;
    int failures;
    char msg[256];
} th_arg;

#define TH_FAIL(a, ...) do { (a)->failures++; snprintf((a)->msg, sizeof (a)->msg, __VA_ARGS__); return NULL; } while (0)

/* Own file, a shared file and an own + shared memory object, saved and read back. */
static void *th_worker(void *p)
{
    th_arg *a = (th_arg *)p;
    unsigned char *buf = (unsigned char *)malloc(TH_WORDS * 8);
    char own[128], shared[128], mem_own[64], err[64];
    int r;
    if (!buf) TH_FAIL(a, "out of memory");
    snprintf(own, sizeof own, "%s/own%d.bin", th_dir, a->id);
    snprintf(shared, sizeof shared, "%s/shared.bin", th_dir);
    snprintf(mem_own, sizeof mem_own, "memory://th/own%d", a->id);
    for (r = 0; r < TH_ROUNDS; r++) {
        uint32_t tag = (uint32_t)(a->id * 1000 + r), got_tag;
        void *data = NULL;
        size_t len = 0;
        const char *urls[4];
        int k;
        urls[0] = own; urls[1] = shared; urls[2] = mem_own; urls[3] = "memory://th/shared";
        mcf_test_payload(buf, TH_WORDS, tag);
        for (k = 0; k < 4; k++) {
            if (mcf_write_bytes(urls[k], buf, TH_WORDS * 8, NULL) != MCF_OK) TH_FAIL(a, "write %s: %s", urls[k], mcf_last_error());
            if (mcf_read_bytes(urls[k], &data, &len, NULL) != MCF_OK) TH_FAIL(a, "read %s: %s", urls[k], mcf_last_error());
            if (!mcf_test_payload_whole((const unsigned char *)data, len, TH_WORDS, &got_tag)) { mcf_free(data); TH_FAIL(a, "%s: torn read", urls[k]); }
            /* own objects hold exactly what this thread wrote */
            if ((k == 0 || k == 2) && got_tag != tag) { mcf_free(data); TH_FAIL(a, "%s: tag %u, wrote %u", urls[k], got_tag, tag); }
            mcf_free(data);
        }
        /* the last-error sentence is per thread */
        snprintf(err, sizeof err, "memory://th/missing-%d-%d", a->id, r);
        if (mcf_read_bytes(err, &data, &len, NULL) != MCF_FILE_NOT_FOUND) TH_FAIL(a, "missing object found");
        if (!strstr(mcf_last_error(), err + 9)) TH_FAIL(a, "last error \"%s\" is another thread's", mcf_last_error());
        if (mcf_exists(mem_own, NULL) != 1) TH_FAIL(a, "%s vanished", mem_own);
        if (r % 8 == 7) {
            if (mcf_remove(mem_own, NULL) != MCF_OK) TH_FAIL(a, "remove %s: %s", mem_own, mcf_last_error());
            if (mcf_exists(mem_own, NULL) != 0) TH_FAIL(a, "%s still exists", mem_own);
        }
    }
    free(buf);
    return NULL;
}

/* Tensors: a safetensors file per thread (mcf_save / mcf_open / mcf_read)
 * and one shared memory store (own key + a key every thread overwrites). */
static mcf_store *th_store;

static void *th_tensor_worker(void *p)
{
    th_arg *a = (th_arg *)p;
    unsigned char *buf = (unsigned char *)malloc(TH_WORDS * 8), *back = (unsigned char *)malloc(TH_WORDS * 8);
    char path[128], key[32];
    int r;
    if (!buf || !back) TH_FAIL(a, "out of memory");
    snprintf(path, sizeof path, "%s/t%d.safetensors", th_dir, a->id);
    snprintf(key, sizeof key, "k%d", a->id);
    for (r = 0; r < TH_ROUNDS / 2; r++) {
        uint32_t tag = (uint32_t)(a->id * 1000 + r), got_tag;
        mcf_tensor t, out;
        mcf_reader *rd = NULL;
        mcf_test_payload(buf, TH_WORDS, tag);
        memset(&t, 0, sizeof t);
        t.name = "w"; t.dtype = MCF_I64; t.ndim = 1; t.shape[0] = TH_WORDS; t.data = buf;
        if (mcf_save(path, &t, 1, NULL) != MCF_OK) TH_FAIL(a, "save %s: %s", path, mcf_last_error());
        if (mcf_open(path, NULL, &rd) != MCF_OK) TH_FAIL(a, "open %s: %s", path, mcf_last_error());
        if (mcf_count(rd) != 1 || mcf_read(rd, 0, back, TH_WORDS * 8) != MCF_OK) { mcf_close(rd); TH_FAIL(a, "read %s: %s", path, mcf_last_error()); }
        mcf_close(rd);
        if (memcmp(back, buf, TH_WORDS * 8) != 0) TH_FAIL(a, "%s: wrong bytes back", path);
        if (mcf_store_put_tensor(th_store, key, &t) != MCF_OK) TH_FAIL(a, "put %s: %s", key, mcf_last_error());
        if (mcf_store_put_tensor(th_store, "shared", &t) != MCF_OK) TH_FAIL(a, "put shared: %s", mcf_last_error());
        memset(&out, 0, sizeof out);
        if (mcf_store_get_tensor(th_store, key, NULL, &out) != MCF_OK) TH_FAIL(a, "get %s: %s", key, mcf_last_error());
        if (out.dtype != MCF_I64 || out.ndim != 1 || out.shape[0] != TH_WORDS || memcmp(out.data, buf, TH_WORDS * 8) != 0) {
            mcf_tensor_free(&out, NULL);
            TH_FAIL(a, "store key %s: wrong tensor back", key);
        }
        mcf_tensor_free(&out, NULL);
        /* a put keeps an existing key's value: remove it for the next round */
        if (th_store->remove(th_store->user, key) != MCF_OK) TH_FAIL(a, "remove %s: %s", key, mcf_last_error());
        memset(&out, 0, sizeof out);
        if (mcf_store_get_tensor(th_store, "shared", NULL, &out) != MCF_OK) TH_FAIL(a, "get shared: %s", mcf_last_error());
        if (out.shape[0] != TH_WORDS || !mcf_test_payload_whole((const unsigned char *)out.data, TH_WORDS * 8, TH_WORDS, &got_tag)) {
            mcf_tensor_free(&out, NULL);
            TH_FAIL(a, "store key shared: torn tensor");
        }
        mcf_tensor_free(&out, NULL);
    }
    free(buf);
    free(back);
    return NULL;
}

/* A user filesystem whose objects are its scheme's name repeated. */
static int th_fs_stat(void *user, const mcf_url *u, const mcf_options *o, uint64_t *size)
{
    (void)o; (void)u;
    *size = strlen((const char *)user);
    return MCF_OK;
}
static int th_fs_open(void *user, const mcf_url *u, const mcf_options *o, void **file, uint64_t *size)
{
    (void)o; (void)u;
    *file = user;
    *size = strlen((const char *)user);
    return MCF_OK;
}
static int th_fs_read(void *file, uint64_t off, void *dst, size_t n)
{
    memcpy(dst, (const char *)file + off, n);
    return MCF_OK;
}
static void th_fs_close(void *file) { (void)file; }

static const char *const th_schemes[4] = { "tha", "thb", "thc", "thd" };
static const char *const th_bodies[4] = { "body-a", "body-b", "body-c", "body-d" };

static int th_register(int i)
{
    mcf_filesystem fs;
    memset(&fs, 0, sizeof fs);
    fs.scheme = th_schemes[i];
    fs.user = (void *)(uintptr_t)th_bodies[i];
    fs.stat = th_fs_stat; fs.open_read = th_fs_open; fs.read_at = th_fs_read; fs.close_read = th_fs_close;
    return mcf_register_filesystem(&fs);
}

static void *th_registrar(void *p)
{
    th_arg *a = (th_arg *)p;
    int r;
    for (r = 0; r < 200; r++)
        if (th_register(r % 4) != MCF_OK) TH_FAIL(a, "register: %s", mcf_last_error());
    return NULL;
}

static void *th_resolver(void *p)
{
    th_arg *a = (th_arg *)p;
    int r;
    for (r = 0; r < 200; r++) {
        char url[32];
        void *data;
        size_t len;
        int i = (r + a->id) % 4;
        snprintf(url, sizeof url, "%s://obj", th_schemes[i]);
        if (mcf_read_bytes(url, &data, &len, NULL) != MCF_OK) TH_FAIL(a, "read %s: %s", url, mcf_last_error());
        if (len != 6 || memcmp(data, th_bodies[i], 6) != 0) { mcf_free(data); TH_FAIL(a, "%s: wrong body", url); }
        mcf_free(data);
    }
    return NULL;
}

static int threads_files_and_memory(void)
{
    pthread_t t[2 * TH_THREADS];
    th_arg a[2 * TH_THREADS];
    int i, failures = 0;
    DIR *d;
    struct dirent *de;
    strcpy(th_dir, "/tmp/mcf_threads_XXXXXX");
    MCF_CHECK(mkdtemp(th_dir) != NULL);
    th_store = mcf_memory_store_create();
    MCF_CHECK(th_store != NULL);
    for (i = 0; i < 2 * TH_THREADS; i++) {
        memset(&a[i], 0, sizeof a[i]);
        a[i].id = i;
        MCF_CHECK(pthread_create(&t[i], NULL, i < TH_THREADS ? th_worker : th_tensor_worker, &a[i]) == 0);
    }
    for (i = 0; i < 2 * TH_THREADS; i++) {
        pthread_join(t[i], NULL);
        if (a[i].failures) { fprintf(stderr, "  thread %d: %s\n", i, a[i].msg); failures++; }
    }
    mcf_memory_store_destroy(th_store);
    MCF_CHECK(failures == 0);
    /* every save committed or cleaned up: no temp file is left */
    d = opendir(th_dir);
    MCF_CHECK(d != NULL);
    while ((de = readdir(d)) != NULL)
        if (strstr(de->d_name, ".mcf-")) { fprintf(stderr, "  left over: %s\n", de->d_name); failures++; }
    closedir(d);
    mcf_test_remove_dir(th_dir);
    MCF_CHECK(failures == 0);
    return 0;
}

static int threads_registry(void)
{
    pthread_t t[5];
    th_arg a[5];
    int i, failures = 0;
    for (i = 0; i < 4; i++) MCF_CHECK_RC(th_register(i), MCF_OK);
    for (i = 0; i < 5; i++) {
        memset(&a[i], 0, sizeof a[i]);
        a[i].id = i;
        MCF_CHECK(pthread_create(&t[i], NULL, i == 0 ? th_registrar : th_resolver, &a[i]) == 0);
    }
    for (i = 0; i < 5; i++) {
        pthread_join(t[i], NULL);
        if (a[i].failures) { fprintf(stderr, "  thread %d: %s\n", i, a[i].msg); failures++; }
    }
    MCF_CHECK(failures == 0);
    return 0;
}

MCF_TEST_MAIN(MCF_TEST(threads_files_and_memory), MCF_TEST(threads_registry))
#else
/* MCF_NO_POSIX: the memory filesystem alone, from one thread (no pthreads). */
static int threads_memory_single(void)
{
    void *d;
    size_t n;
    MCF_CHECK_RC(mcf_write_bytes("memory://th/x", "abc", 3, NULL), MCF_OK);
    MCF_CHECK_RC(mcf_read_bytes("memory://th/x", &d, &n, NULL), MCF_OK);
    MCF_CHECK(n == 3 && memcmp(d, "abc", 3) == 0);
    mcf_free(d);
    MCF_CHECK_RC(mcf_remove("memory://th/x", NULL), MCF_OK);
    return 0;
}
MCF_TEST_MAIN(MCF_TEST(threads_memory_single))
#endif
