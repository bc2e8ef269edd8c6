/* [03]/[05]-[10]/[19] resource limits and hostile inputs at the foundation:
 * claimed sizes larger than memory, overflowing shapes, FIFOs, huge URLs.
 * Each case must fail cleanly (exact code + sentence) without allocating
 * what the input claims. */
#include "mcf_test.h"
#include <stdint.h>

#ifndef MCF_NO_POSIX
#include <errno.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>
#endif

/* A user filesystem whose one object claims a size it cannot back. */
static uint64_t limits_claim;
static int limits_reads;
static int limits_fs_stat(void *user, const mcf_url *u, const mcf_options *o, uint64_t *size)
{
    (void)user; (void)u; (void)o;
    *size = limits_claim;
    return MCF_OK;
}
static int limits_fs_open(void *user, const mcf_url *u, const mcf_options *o, void **file, uint64_t *size)
{
    (void)u; (void)o;
    *file = user;
    *size = limits_claim;
    return MCF_OK;
}
static int limits_fs_read(void *file, uint64_t off, void *dst, size_t n)
{
    (void)file; (void)off; (void)dst; (void)n;
    limits_reads++;
    return mcf_set_error(MCF_FILE_READ_FAIL, "claimfs: nothing to read");
}
static void limits_fs_close(void *file) { (void)file; }

static int limits_backend_claims_huge_size(void)
{
    mcf_filesystem fs;
    void *d = NULL;
    size_t n = 0;
    static char user[] = "claimfs";
    uint64_t sz = 0;
    memset(&fs, 0, sizeof fs);
    fs.scheme = "claimfs"; fs.user = user;
    fs.stat = limits_fs_stat; fs.open_read = limits_fs_open; fs.read_at = limits_fs_read; fs.close_read = limits_fs_close;
    MCF_CHECK_RC(mcf_register_filesystem(&fs), MCF_OK);
    limits_reads = 0;
    limits_claim = (uint64_t)1 << 62;
    MCF_CHECK_RC(mcf_file_size("claimfs://big", &sz, NULL), MCF_OK);
    MCF_CHECK(sz == (uint64_t)1 << 62);
    if (sizeof(size_t) >= 8) {
        MCF_CHECK_RC(mcf_read_bytes("claimfs://big", &d, &n, NULL), MCF_INTERNAL_ERROR);
        MCF_CHECK_ERR("claimfs://big: out of memory");     /* RAM cap, or (MCF_NO_POSIX) malloc failed */
        MCF_CHECK_ERR("4611686018427387904 bytes");
#ifndef MCF_NO_POSIX
        MCF_CHECK_ERR("exceed this machine's RAM");
#endif
        limits_claim = UINT64_MAX;
        MCF_CHECK_RC(mcf_read_bytes("claimfs://big", &d, &n, NULL), MCF_INTERNAL_ERROR);
        MCF_CHECK_ERR("18446744073709551615 bytes");
    } else {
        MCF_CHECK_RC(mcf_read_bytes("claimfs://big", &d, &n, NULL), MCF_NOT_SUPPORTED);
        MCF_CHECK_ERR("do not fit in memory on this host");
    }
    MCF_CHECK(limits_reads == 0);              /* refused before any read */
    MCF_CHECK(d == NULL && n == 0);            /* out-params untouched on failure */
    /* mcf_open of the same claim: the sniff read fails; nothing huge is allocated */
    {
        mcf_reader *r = (mcf_reader *)&fs;
        limits_claim = (uint64_t)1 << 62;
        MCF_CHECK_RC(mcf_open("claimfs://big", NULL, &r), MCF_FILE_READ_FAIL);
        MCF_CHECK_ERR("claimfs: nothing to read");
        MCF_CHECK(r == NULL);
    }
    return 0;
}

static int limits_tensor_shapes(void)
{
    mcf_tensor t;
    unsigned char b[16] = {0};
    int64_t strides[2];
    memset(&t, 0, sizeof t);
    t.name = "w"; t.dtype = MCF_F32; t.ndim = 2; t.data = b;
    t.shape[0] = (int64_t)1 << 40; t.shape[1] = (int64_t)1 << 40;
    MCF_CHECK(mcf_tensor_numel(&t) == UINT64_MAX);      /* 2^80 elements */
    MCF_CHECK(mcf_tensor_nbytes(&t) == UINT64_MAX);
    MCF_CHECK_RC(mcf_save("memory://limits/w.safetensors", &t, 1, NULL), MCF_INVALID_PARAMS);
    MCF_CHECK_ERR("tensor \"w\" is too large (size overflows 64 bits)");
    t.shape[0] = (int64_t)1 << 31; t.shape[1] = (int64_t)1 << 31;      /* 2^62 elements * 4 bytes overflows */
    MCF_CHECK(mcf_tensor_numel(&t) == (uint64_t)1 << 62);
    MCF_CHECK(mcf_tensor_nbytes(&t) == UINT64_MAX);
    t.shape[0] = -1; t.shape[1] = 2;
    MCF_CHECK(mcf_tensor_nbytes(&t) == UINT64_MAX);
    MCF_CHECK_RC(mcf_save("memory://limits/w.safetensors", &t, 1, NULL), MCF_INVALID_PARAMS);
    MCF_CHECK_ERR("negative dimension 0");
    t.shape[0] = 2; t.ndim = MCF_MAX_DIMS + 1;
    MCF_CHECK_RC(mcf_save("memory://limits/w.safetensors", &t, 1, NULL), MCF_INVALID_PARAMS);
    MCF_CHECK_ERR("has ndim 9 (allowed 0..8)");
    t.ndim = 2; t.dtype = (mcf_dtype)(MCF_DTYPE_COUNT + 3);
    MCF_CHECK_RC(mcf_save("memory://limits/w.safetensors", &t, 1, NULL), MCF_INVALID_PARAMS);
    MCF_CHECK_ERR("has an invalid dtype");
    t.dtype = MCF_F32; t.shape[0] = 2; t.shape[1] = 2;
    strides[0] = INT64_MAX / 2; strides[1] = 1;
    t.strides = strides;
    MCF_CHECK_RC(mcf_save("memory://limits/w.safetensors", &t, 1, NULL), MCF_INVALID_PARAMS);
    MCF_CHECK_ERR("strides overflow");
    strides[0] = -2;
    MCF_CHECK_RC(mcf_save("memory://limits/w.safetensors", &t, 1, NULL), MCF_INVALID_PARAMS);
    MCF_CHECK_ERR("negative stride");
    MCF_CHECK(mcf_exists("memory://limits/w.safetensors", NULL) == 0);   /* nothing written */
    return 0;
}

/* A tensor claiming far more bytes than RAM: the memory sink refuses it before
 * allocating (the claim is the caller's, the data pointer cannot back it). */
static int limits_save_to_memory_larger_than_ram(void)
{
    mcf_options o;
    mcf_tensor t;
    unsigned char b[8] = {0};
    void *out = NULL;
    size_t len = 0;
    if (sizeof(size_t) < 8) MCF_SKIP("32-bit host: covered by the fits-in-size_t check");
    memset(&o, 0, sizeof o);
    memset(&t, 0, sizeof t);
    o.format = "safetensors";
    t.name = "huge"; t.dtype = MCF_U8; t.ndim = 1; t.shape[0] = (int64_t)1 << 56; t.data = b;
    MCF_CHECK_RC(mcf_save_to_memory(&t, 1, &o, &out, &len), MCF_INTERNAL_ERROR);
    MCF_CHECK_ERR("<memory>: out of memory");
#ifndef MCF_NO_POSIX
    MCF_CHECK_ERR("exceed this machine's RAM");   /* refused before malloc */
#endif
    MCF_CHECK(out == NULL && len == 0);
    return 0;
}

/* Hostile little buffers: never a crash, always a sentence. */
static int limits_open_memory_hostile_heads(void)
{
    unsigned char buf[64];
    mcf_reader *r = NULL;
    mcf_options o;
    memset(buf, 0, sizeof buf);
    MCF_CHECK_RC(mcf_open_memory(buf, 0, NULL, &r), MCF_DESERIALIZE_FAIL);
    MCF_CHECK_ERR("<memory>: empty file (0 bytes)");
    MCF_CHECK(r == NULL);
    /* a safetensors-looking head whose length claims 2^62 bytes */
    buf[7] = 0x40; buf[8] = '{'; buf[9] = '}';
    MCF_CHECK_RC(mcf_open_memory(buf, 10, NULL, &r), MCF_DESERIALIZE_FAIL);
    MCF_CHECK_ERR("not a safetensors or PyTorch file (10 bytes");
    memset(&o, 0, sizeof o);
    o.format = "safetensors";
    /* forced: the claimed header passes the buffer and the 100 MB cap */
    MCF_CHECK_RC(mcf_open_memory(buf, 10, &o, &r), MCF_DESERIALIZE_FAIL);
    MCF_CHECK(r == NULL);
    return 0;
}

static int limits_huge_urls(void)
{
    size_t n = (size_t)1 << 20, i;
    char *url = (char *)malloc(3 * n + 16);
    mcf_url u;
    MCF_CHECK(url != NULL);
    /* 1 MiB of percent-escapes decodes to 1 MiB of 'A' */
    strcpy(url, "file:///");
    for (i = 0; i < n; i++) memcpy(url + 8 + 3 * i, "%41", 3);
    url[8 + 3 * n] = '\0';
    MCF_CHECK_RC(mcf_url_parse(url, NULL, &u), MCF_OK);
    MCF_CHECK(strlen(u.path) == n + 1 && u.path[0] == '/' && u.path[1] == 'A' && u.path[n] == 'A');
    MCF_CHECK(strlen(u.basename) == n);
    mcf_url_free(&u);
    /* the error sentence is bounded, however long the URL */
    url[8 + 3 * n - 1] = 'z';
    MCF_CHECK_RC(mcf_url_parse(url, NULL, &u), MCF_INVALID_PARAMS);
    MCF_CHECK(strlen(mcf_last_error()) < 1024);
    /* a port with many digits */
    strcpy(url, "http://h:");
    for (i = 0; i < 100; i++) url[9 + i] = '9';
    strcpy(url + 109, "/x");
    MCF_CHECK_RC(mcf_url_parse(url, NULL, &u), MCF_INVALID_PARAMS);
    MCF_CHECK_ERR("bad port");
    /* memory:// of a 1 MiB name works and round-trips */
    strcpy(url, "memory://");
    memset(url + 9, 'k', n);
    url[9 + n] = '\0';
    MCF_CHECK_RC(mcf_write_bytes(url, "v", 1, NULL), MCF_OK);
    MCF_CHECK(mcf_exists(url, NULL) == 1);
    MCF_CHECK_RC(mcf_remove(url, NULL), MCF_OK);
    free(url);
    return 0;
}

#ifndef MCF_NO_POSIX
static int limits_sparse_1tib_read_bytes(void)
{
    char dir[] = "/tmp/mcf_limits_XXXXXX", path[128];
    void *d = NULL;
    size_t n = 0;
    uint64_t sz = 0;
    int fd;
    if (sizeof(size_t) < 8) MCF_SKIP("32-bit host");
    MCF_CHECK(mkdtemp(dir) != NULL);
    snprintf(path, sizeof path, "%s/sparse.bin", dir);
    fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    MCF_CHECK(fd >= 0);
    if (ftruncate(fd, (off_t)1 << 40) != 0) {
        close(fd); unlink(path); rmdir(dir);
        MCF_SKIP("this filesystem cannot hold a 1 TiB sparse file (errno %d)", errno);
    }
    close(fd);
    MCF_CHECK_RC(mcf_file_size(path, &sz, NULL), MCF_OK);
    MCF_CHECK(sz == (uint64_t)1 << 40);
    MCF_CHECK_RC(mcf_read_bytes(path, &d, &n, NULL), MCF_INTERNAL_ERROR);
    MCF_CHECK_ERR("sparse.bin: out of memory: 1099511627776 bytes exceed this machine's RAM");
    MCF_CHECK(d == NULL && n == 0);
    unlink(path);
    rmdir(dir);
    return 0;
}

static int limits_fifo_refused(void)
{
    char dir[] = "/tmp/mcf_limits_XXXXXX", path[128];
    void *d = NULL;
    size_t n = 0;
    mcf_reader *r = NULL;
    MCF_CHECK(mkdtemp(dir) != NULL);
    snprintf(path, sizeof path, "%s/pipe", dir);
    MCF_CHECK(mkfifo(path, 0644) == 0);
    /* would block forever in open() waiting for a writer */
    MCF_CHECK_RC(mcf_read_bytes(path, &d, &n, NULL), MCF_FILE_OPEN_FAIL);
    MCF_CHECK_ERR("is not a regular file");
    MCF_CHECK_RC(mcf_open(path, NULL, &r), MCF_FILE_OPEN_FAIL);
    MCF_CHECK(r == NULL);
    MCF_CHECK_RC(mcf_read_bytes(dir, &d, &n, NULL), MCF_FILE_OPEN_FAIL);
    MCF_CHECK_ERR("is a directory");
    unlink(path);
    rmdir(dir);
    return 0;
}
#endif

#ifndef MCF_NO_POSIX
#define LIMITS_POSIX_TESTS , MCF_TEST(limits_sparse_1tib_read_bytes), MCF_TEST(limits_fifo_refused)
#else
#define LIMITS_POSIX_TESTS
#endif
MCF_TEST_MAIN(MCF_TEST(limits_backend_claims_huge_size), MCF_TEST(limits_tensor_shapes),
              MCF_TEST(limits_save_to_memory_larger_than_ram), MCF_TEST(limits_open_memory_hostile_heads),
              MCF_TEST(limits_huge_urls) LIMITS_POSIX_TESTS)
