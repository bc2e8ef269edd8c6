/* [10] fs: posix - atomic replace, makedirs, errno mapping, 64-bit offsets. */
#include "mcf_test.h"
#ifndef MCF_NO_POSIX
#include "mcf_test_posix.h"
#include <errno.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

static int posix_roundtrip_makedirs_and_file_url(void)
{
    char path[512], url[600];
    void *d = NULL; size_t n = 0; uint64_t sz = 0;
    snprintf(path, sizeof path, "%s/deep/er/dir/x.bin", mcf_test_tmpdir());
    MCF_CHECK_RC(mcf_write_bytes(path, "payload", 7, NULL), MCF_OK);
    snprintf(url, sizeof url, "file://%s", path);
    MCF_CHECK_RC(mcf_read_bytes(url, &d, &n, NULL), MCF_OK);
    MCF_CHECK(n == 7 && memcmp(d, "payload", 7) == 0);
    mcf_free(d);
    /* percent-decoded file URL; file://localhost/ form */
    snprintf(url, sizeof url, "file://localhost%s/with%%20space/y.bin", mcf_test_tmpdir());
    MCF_CHECK_RC(mcf_write_bytes(url, "Y", 1, NULL), MCF_OK);
    snprintf(path, sizeof path, "%s/with space/y.bin", mcf_test_tmpdir());
    MCF_CHECK_RC(mcf_file_size(path, &sz, NULL), MCF_OK);
    MCF_CHECK(sz == 1);
    MCF_CHECK(mcf_exists(path, NULL) == 1);
    MCF_CHECK_RC(mcf_remove(url, NULL), MCF_OK);
    MCF_CHECK(mcf_exists(path, NULL) == 0);
    MCF_CHECK_RC(mcf_remove(path, NULL), MCF_FILE_NOT_FOUND);
    MCF_CHECK_ERR("no such file or directory");
    /* the temp files are gone */
    snprintf(path, sizeof path, "%s/deep/er/dir", mcf_test_tmpdir());
    MCF_CHECK(mcf_test_count_entries(path, ".tmp", 1) == 0);
    return 0;
}

static int posix_errors_name_path_and_cause(void)
{
    char path[512];
    void *d = NULL; size_t n = 0;
    snprintf(path, sizeof path, "%s/missing.bin", mcf_test_tmpdir());
    MCF_CHECK_RC(mcf_read_bytes(path, &d, &n, NULL), MCF_FILE_NOT_FOUND);
    MCF_CHECK_ERR(path);
    MCF_CHECK_ERR("no such file or directory");
    MCF_CHECK_RC(mcf_read_bytes(mcf_test_tmpdir(), &d, &n, NULL), MCF_FILE_OPEN_FAIL);
    MCF_CHECK_ERR("is a directory");
    /* sysfs refuses new files even for root: EACCES -> PERMISSION_DENIED */
    {
        int rc = mcf_write_bytes("/sys/mcf-test-denied.bin", "x", 1, NULL);
        if (rc != MCF_PERMISSION_DENIED && access("/sys", F_OK) != 0) MCF_SKIP("no /sys here");
        MCF_CHECK_RC(rc, MCF_PERMISSION_DENIED);
        MCF_CHECK_ERR("/sys/mcf-test-denied.bin");
    }
    return 0;
}

/* A path that runs through a regular file cannot be created; the old file
 * stays exactly as it was (not root-dependent, unlike a read-only dir). */
static int posix_failed_write_keeps_old_file(void)
{
    char file[512], below[600];
    void *d = NULL; size_t n = 0;
    snprintf(file, sizeof file, "%s/old.bin", mcf_test_tmpdir());
    MCF_CHECK_RC(mcf_write_bytes(file, "old contents", 12, NULL), MCF_OK);
    snprintf(below, sizeof below, "%s/sub/new.bin", file);
    MCF_CHECK_RC(mcf_write_bytes(below, "new", 3, NULL), MCF_FILE_OPEN_FAIL);
    MCF_CHECK_ERR("a file with that name exists");
    snprintf(below, sizeof below, "%s/new.bin", file);
    MCF_CHECK_RC(mcf_write_bytes(below, "new", 3, NULL), MCF_FILE_OPEN_FAIL);
    MCF_CHECK_ERR("a file with that name exists");
    MCF_CHECK(mcf_exists(below, NULL) == 0);
    {
        uint64_t sz;
        MCF_CHECK_RC(mcf_file_size(below, &sz, NULL), MCF_FILE_NOT_FOUND);   /* stat: ENOTDIR */
    }
    MCF_CHECK_ERR("a path component is not a directory");
    MCF_CHECK_RC(mcf_read_bytes(file, &d, &n, NULL), MCF_OK);
    MCF_CHECK(n == 12 && memcmp(d, "old contents", 12) == 0);
    mcf_free(d);
    return 0;
}

static int cancel_at_once(void *user, uint64_t done, uint64_t total)
{
    (void)user; (void)done; (void)total;
    return 1;
}

static int posix_cancel_and_no_overwrite_keep_old_file(void)
{
    static unsigned char big[6 << 20];
    char file[512];
    void *d = NULL; size_t n = 0;
    mcf_options o;
    snprintf(file, sizeof file, "%s/keep.bin", mcf_test_tmpdir());
    MCF_CHECK_RC(mcf_write_bytes(file, "keep", 4, NULL), MCF_OK);
    memset(&o, 0, sizeof o);
    o.progress = cancel_at_once;
    MCF_CHECK_RC(mcf_write_bytes(file, big, sizeof big, &o), MCF_PERSISTENT_FAIL);
    o.progress = NULL;
    o.flags = MCF_NO_OVERWRITE;
    MCF_CHECK_RC(mcf_write_bytes(file, "other", 5, &o), MCF_FILE_OPEN_FAIL);
    MCF_CHECK_ERR("already exists (MCF_NO_OVERWRITE)");
    MCF_CHECK_RC(mcf_read_bytes(file, &d, &n, NULL), MCF_OK);
    MCF_CHECK(n == 4 && memcmp(d, "keep", 4) == 0);
    mcf_free(d);
    MCF_CHECK(mcf_test_count_entries(mcf_test_tmpdir(), ".tmp", 1) == 0);
    /* NO_OVERWRITE to a fresh name and DURABLE both succeed */
    snprintf(file, sizeof file, "%s/fresh.bin", mcf_test_tmpdir());
    o.flags = MCF_NO_OVERWRITE | MCF_DURABLE;
    MCF_CHECK_RC(mcf_write_bytes(file, "fresh", 5, &o), MCF_OK);
    MCF_CHECK(mcf_exists(file, NULL) == 1);
    MCF_CHECK(mcf_test_count_entries(mcf_test_tmpdir(), ".tmp", 1) == 0);
    return 0;
}

static int posix_new_file_mode_follows_umask(void)
{
    char file[512];
    struct stat st;
    mode_t old = umask(022);
    snprintf(file, sizeof file, "%s/mode.bin", mcf_test_tmpdir());
    MCF_CHECK_RC(mcf_write_bytes(file, "m", 1, NULL), MCF_OK);
    umask(old);
    MCF_CHECK(stat(file, &st) == 0);
    MCF_CHECK((st.st_mode & 0777) == 0644);
    return 0;
}

/* 64-bit offsets: a 5 GiB sparse file, a marker past 4 GiB read positionally
 * through the file backend, size reported exactly. */
static int posix_sparse_5gib_offsets(void)
{
    char file[512];
    const uint64_t size = (uint64_t)5 << 30;
    mcf_filesystem fs;
    void *h = NULL;
    char marker[8], why[256];
    int rc;
    snprintf(file, sizeof file, "%s/sparse.bin", mcf_test_tmpdir());
    rc = mcf_test_sparse_open(file, size, "MARKER!!", size - 8, &fs, &h, why, sizeof why);
    if (rc == MCF_TEST_SKIPPED) MCF_SKIP("%s", why);
    MCF_CHECK(rc == 0);
    MCF_CHECK_RC(fs.read_at(h, size - 8, marker, 8), MCF_OK);
    MCF_CHECK(memcmp(marker, "MARKER!!", 8) == 0);
    MCF_CHECK_RC(fs.read_at(h, size - 4, marker, 8), MCF_FILE_READ_FAIL);   /* short read is an error */
    MCF_CHECK_ERR("unexpected end of file");
    fs.close_read(h);
    MCF_CHECK_RC(mcf_remove(file, NULL), MCF_OK);
    return 0;
}

/* Local files have no settings: every storage option is refused, naming
 * the key, the path and the backend, on each entry point (the save, size,
 * read, mcf_open, remove, and the backend called directly), and the file on
 * disk is left as it was. */
static int posix_refuses_storage_options(void)
{
    const char *endpoint[] = { "endpoint_url", "http://127.0.0.1:9000", NULL };
    const char *none[] = { NULL };
    char path[512], want[700];
    mcf_options o;
    mcf_reader *r = (mcf_reader *)1;
    mcf_filesystem fs;
    mcf_url u;
    mcf_tensor t;
    float x = 1.5f;
    void *d = NULL, *h = (void *)1; size_t n = 0; uint64_t sz = 0;
    snprintf(path, sizeof path, "%s/opts.bin", mcf_test_tmpdir());
    memset(&o, 0, sizeof o);
    o.storage_options = endpoint;
    MCF_CHECK_RC(mcf_write_bytes(path, "abc", 3, &o), MCF_INVALID_PARAMS);
    snprintf(want, sizeof want, "file: unknown storage option \"endpoint_url\" for \"%s\" (local files take no storage options)", path);
    MCF_CHECK_ERR(want);
    MCF_CHECK(mcf_exists(path, NULL) == 0);
    MCF_CHECK_RC(mcf_write_bytes(path, "abc", 3, NULL), MCF_OK);
    memset(&t, 0, sizeof t);
    t.name = "x"; t.dtype = MCF_F32; t.ndim = 1; t.shape[0] = 1; t.data = &x;
    MCF_CHECK_RC(mcf_save(path, &t, 1, &o), MCF_INVALID_PARAMS);
    MCF_CHECK_ERR("unknown storage option \"endpoint_url\"");
    MCF_CHECK_RC(mcf_file_size(path, &sz, &o), MCF_INVALID_PARAMS);
    MCF_CHECK_RC(mcf_read_bytes(path, &d, &n, &o), MCF_INVALID_PARAMS);
    MCF_CHECK(d == NULL);
    MCF_CHECK_RC(mcf_open(path, &o, &r), MCF_INVALID_PARAMS);
    MCF_CHECK(r == NULL);
    MCF_CHECK_ERR("local files take no storage options");
    MCF_CHECK_RC(mcf_remove(path, &o), MCF_INVALID_PARAMS);
    MCF_CHECK_RC(mcf_filesystem_lookup("file", &fs), MCF_OK);
    MCF_CHECK_RC(mcf_url_parse(path, NULL, &u), MCF_OK);
    MCF_CHECK_RC(fs.open_read(fs.user, &u, &o, &h, &sz), MCF_INVALID_PARAMS);
    MCF_CHECK(h == (void *)1);
    MCF_CHECK_RC(fs.open_write(fs.user, &u, 3, &o, &h), MCF_INVALID_PARAMS);
    MCF_CHECK(h == (void *)1);
    mcf_url_free(&u);
    MCF_CHECK_RC(mcf_read_bytes(path, &d, &n, NULL), MCF_OK);
    MCF_CHECK(n == 3 && memcmp(d, "abc", 3) == 0);
    mcf_free(d);
    MCF_CHECK(mcf_test_count_entries(mcf_test_tmpdir(), ".tmp", 1) == 0);
    o.storage_options = none;
    MCF_CHECK_RC(mcf_remove(path, &o), MCF_OK);
    return 0;
}

/* Last: the temporary directory goes, with everything the tests left. */
static int posix_cleanup(void)
{
    MCF_CHECK(mcf_test_tmp_remove());
    return 0;
}

MCF_TEST_MAIN(MCF_TEST(posix_roundtrip_makedirs_and_file_url), MCF_TEST(posix_errors_name_path_and_cause),
              MCF_TEST(posix_failed_write_keeps_old_file), MCF_TEST(posix_cancel_and_no_overwrite_keep_old_file),
              MCF_TEST(posix_new_file_mode_follows_umask), MCF_TEST(posix_sparse_5gib_offsets),
              MCF_TEST(posix_refuses_storage_options), MCF_TEST(posix_cleanup))
#else
/* Without POSIX there is no file backend, and the error says so. */
static int posix_absent(void)
{
    void *d; size_t n;
    MCF_CHECK_RC(mcf_read_bytes("/tmp/x.bin", &d, &n, NULL), MCF_INVALID_PARAMS);
    MCF_CHECK_ERR("unknown filesystem \"file\"");
    return 0;
}
MCF_TEST_MAIN(MCF_TEST(posix_absent))
#endif
