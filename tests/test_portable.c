/* Portability: local paths on Windows and POSIX (separators, drive letters,
 * UNC-style roots, UTF-8 names), 32-bit size limits and > 4 GiB files. These
 * run on every `make cross` leg (qemu aarch64/armhf/s390x/i386, wine64). */
#include "mcf_test.h"
#if !defined(MCF_NO_POSIX) && defined(_WIN32)
#include <windows.h>
#elif !defined(MCF_NO_POSIX)
#include <errno.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>
#include "mcf_test_posix.h"
#endif

#define HOST_IS_32BIT (SIZE_MAX < UINT64_C(0x100000000))

/* A contiguous tensor bigger than this host can address is NOT_SUPPORTED
 * (not truncated); 64-bit hosts just see a too-small buffer. */
static int portable_sizes_beyond_size_t(void)
{
    static unsigned char buf[16];
    mcf_tensor t;
    int64_t zero_stride[1] = {0};
    memset(&t, 0, sizeof t);
    t.name = "huge"; t.dtype = MCF_U8; t.ndim = 2;
    t.shape[0] = (int64_t)1 << 20; t.shape[1] = (int64_t)1 << 13;   /* 8 GiB */
    t.data = buf;
    if (HOST_IS_32BIT) {
        MCF_CHECK_RC(mcf_tensor_copy_contiguous(&t, buf, sizeof buf), MCF_NOT_SUPPORTED);
        MCF_CHECK_ERR("tensor \"huge\"");
        MCF_CHECK_ERR("8589934592 bytes");
        MCF_CHECK_ERR("more than this host can address");
        MCF_CHECK_RC(mcf_save("memory://portable/huge.safetensors", &t, 1, NULL), MCF_NOT_SUPPORTED);
        MCF_CHECK_ERR("more than this host can address");
    } else {
        MCF_CHECK_RC(mcf_tensor_copy_contiguous(&t, buf, sizeof buf), MCF_BUFFER_OVERFLOW);
        MCF_CHECK_ERR("needs 8589934592 bytes");
    }
    /* a broadcast view (stride 0) addresses one byte whatever its shape */
    t.ndim = 1; t.shape[0] = (int64_t)1 << 33; t.strides = zero_stride;
    MCF_CHECK_RC(mcf_tensor_copy_contiguous(&t, buf, sizeof buf), MCF_BUFFER_OVERFLOW);
    MCF_CHECK_ERR("needs 8589934592 bytes");
    return 0;
}

#if !defined(MCF_NO_POSIX) && !defined(_WIN32)
/* 32-bit: a 5 GiB file is stat'ed exactly, read positionally (never mapped),
 * and whole-file reads say NOT_SUPPORTED instead of truncating the size. */
static int portable_file_over_4gib(void)
{
    char file[512];
    const uint64_t size = (uint64_t)5 << 30;
    mcf_filesystem fs;
    void *h = NULL, *d = NULL;
    size_t n = 0;
    char marker[8], why[256];
    int rc;
    snprintf(file, sizeof file, "%s/big.bin", mcf_test_tmpdir());
    rc = mcf_test_sparse_open(file, size, "4GiB+1!!", ((uint64_t)4 << 30) + 1, &fs, &h, why, sizeof why);
    if (rc == MCF_TEST_SKIPPED) MCF_SKIP("%s", why);
    MCF_CHECK(rc == 0);
    if (HOST_IS_32BIT) MCF_CHECK(fs.map(h) == NULL);   /* cannot map 5 GiB: pread path */
    MCF_CHECK_RC(fs.read_at(h, ((uint64_t)4 << 30) + 1, marker, 8), MCF_OK);
    MCF_CHECK(memcmp(marker, "4GiB+1!!", 8) == 0);
    fs.close_read(h);
    if (HOST_IS_32BIT) {
        d = (void *)1;
        MCF_CHECK_RC(mcf_read_bytes(file, &d, &n, NULL), MCF_NOT_SUPPORTED);
        MCF_CHECK_ERR("5368709120 bytes do not fit in memory on this host");
        MCF_CHECK(d == (void *)1);
    }
    MCF_CHECK_RC(mcf_remove(file, NULL), MCF_OK);
    return 0;
}

/* On POSIX '\' is an ordinary file-name byte: no directories appear. */
static int portable_posix_backslash_is_a_name_byte(void)
{
    char path[512], dir[512];
    struct stat st;
    snprintf(path, sizeof path, "%s/dir\\sub\\f.bin", mcf_test_tmpdir());
    MCF_CHECK_RC(mcf_write_bytes(path, "bs", 2, NULL), MCF_OK);
    MCF_CHECK(stat(path, &st) == 0 && S_ISREG(st.st_mode) && st.st_size == 2);
    snprintf(dir, sizeof dir, "%s/dir", mcf_test_tmpdir());
    MCF_CHECK(stat(dir, &st) != 0);
    MCF_CHECK_RC(mcf_remove(path, NULL), MCF_OK);
    return 0;
}

/* Last: the temporary directory goes, with everything the tests left. */
static int portable_cleanup(void)
{
    MCF_CHECK(mcf_test_tmp_remove());
    return 0;
}
#endif

#if !defined(MCF_NO_POSIX) && defined(_WIN32)
static char win_root[MAX_PATH + 64];   /* C:\...\Temp\mcf-portable-<pid> (no trailing '\') */

static const char *tmpdir(void)
{
    if (!win_root[0]) {
        char t[MAX_PATH + 1];
        DWORD n = GetTempPathA(sizeof t, t);
        if (n == 0 || n > MAX_PATH) return NULL;
        snprintf(win_root, sizeof win_root, "%smcf-portable-%lu", t, (unsigned long)GetCurrentProcessId());
    }
    return win_root;
}

static int count_tmp_files(const char *dir)
{
    char pat[MAX_PATH + 64];
    WIN32_FIND_DATAA fd;
    HANDLE h;
    int n = 0;
    snprintf(pat, sizeof pat, "%s\\*.tmp", dir);
    h = FindFirstFileA(pat, &fd);
    if (h == INVALID_HANDLE_VALUE) return 0;
    do n++; while (FindNextFileA(h, &fd));
    FindClose(h);
    return n;
}

static int is_dir(const char *p)
{
    DWORD a = GetFileAttributesA(p);
    return a != INVALID_FILE_ATTRIBUTES && (a & FILE_ATTRIBUTE_DIRECTORY);
}

static int read_is(const char *url, const char *want, unsigned flags)
{
    mcf_options o;
    void *d = NULL;
    size_t n = 0;
    int ok;
    memset(&o, 0, sizeof o);
    o.flags = flags;
    if (mcf_read_bytes(url, &d, &n, &o) != MCF_OK) { fprintf(stderr, "  read %s: %s\n", url, mcf_last_error()); return 0; }
    ok = n == strlen(want) && memcmp(d, want, n) == 0;
    mcf_free(d);
    return ok;
}

/* The backslash case for real: dir\sub\f.bin creates dir\sub; the
 * same file is reachable as C:/.../f.bin and file:///C:/.../f.bin. */
static int portable_win_separators_drive_and_file_url(void)
{
    char p[1024], q[1024], url[1200], sub[1024];
    const char *root = tmpdir();
    char *c;
    uint64_t sz = 0;
    MCF_CHECK(root && root[1] == ':');
    snprintf(p, sizeof p, "%s\\dir\\sub\\f.bin", root);
    MCF_CHECK_RC(mcf_write_bytes(p, "backslash", 9, NULL), MCF_OK);
    snprintf(sub, sizeof sub, "%s\\dir\\sub", root);
    MCF_CHECK(is_dir(sub));
    /* forward slashes and the file URL name the same file */
    snprintf(q, sizeof q, "%s/dir/sub/f.bin", root);
    for (c = q; *c; c++) if (*c == '\\') *c = '/';
    MCF_CHECK(read_is(q, "backslash", 0));
    MCF_CHECK(read_is(q, "backslash", MCF_NO_MMAP));
    snprintf(url, sizeof url, "file:///%s", q);
    MCF_CHECK(read_is(url, "backslash", 0));
    MCF_CHECK_RC(mcf_file_size(url, &sz, NULL), MCF_OK);
    MCF_CHECK(sz == 9);
    /* writing through the URL (percent-encoded space) lands at C:\...\a b\g.bin */
    snprintf(url, sizeof url, "file:///%s/a%%20b/g.bin", q);
    c = strstr(url, "/dir/sub/f.bin");
    MCF_CHECK(c != NULL);
    memmove(c, c + strlen("/dir/sub/f.bin"), strlen(c + strlen("/dir/sub/f.bin")) + 1);
    MCF_CHECK_RC(mcf_write_bytes(url, "url", 3, NULL), MCF_OK);
    snprintf(p, sizeof p, "%s\\a b\\g.bin", root);
    MCF_CHECK(read_is(p, "url", 0));
    /* mixed separators, and replacing an existing file (MoveFileExW) */
    snprintf(p, sizeof p, "%s/dir\\sub/f.bin", root);
    MCF_CHECK_RC(mcf_write_bytes(p, "second", 6, NULL), MCF_OK);
    MCF_CHECK(read_is(q, "second", 0));
    MCF_CHECK(count_tmp_files(sub) == 0);
    return 0;
}

static int portable_win_errors_and_no_overwrite(void)
{
    char p[1024], below[1100];
    const char *root = tmpdir();
    mcf_options o;
    void *d = NULL;
    size_t n = 0;
    memset(&o, 0, sizeof o);
    snprintf(p, sizeof p, "%s\\missing.bin", root);
    MCF_CHECK_RC(mcf_read_bytes(p, &d, &n, NULL), MCF_FILE_NOT_FOUND);
    MCF_CHECK_ERR("no such file or directory");
    MCF_CHECK_ERR(p);
    MCF_CHECK(mcf_exists(p, NULL) == 0);
    MCF_CHECK_RC(mcf_remove(p, NULL), MCF_FILE_NOT_FOUND);
    MCF_CHECK_RC(mcf_read_bytes(root, &d, &n, NULL), MCF_FILE_OPEN_FAIL);
    MCF_CHECK_ERR("is a directory");
    /* a path through a regular file */
    snprintf(p, sizeof p, "%s\\old.bin", root);
    MCF_CHECK_RC(mcf_write_bytes(p, "old", 3, NULL), MCF_OK);
    snprintf(below, sizeof below, "%s\\sub\\new.bin", p);
    MCF_CHECK_RC(mcf_write_bytes(below, "new", 3, NULL), MCF_FILE_OPEN_FAIL);
    MCF_CHECK_ERR("a file with that name exists");
    /* MCF_NO_OVERWRITE keeps the old file; DURABLE writes a fresh one */
    o.flags = MCF_NO_OVERWRITE;
    MCF_CHECK_RC(mcf_write_bytes(p, "other", 5, &o), MCF_FILE_OPEN_FAIL);
    MCF_CHECK_ERR("already exists (MCF_NO_OVERWRITE)");
    MCF_CHECK(read_is(p, "old", 0));
    snprintf(p, sizeof p, "%s\\fresh.bin", root);
    o.flags = MCF_NO_OVERWRITE | MCF_DURABLE;
    MCF_CHECK_RC(mcf_write_bytes(p, "fresh", 5, &o), MCF_OK);
    MCF_CHECK(read_is(p, "fresh", 0));
    MCF_CHECK(count_tmp_files(root) == 0);
    /* not UTF-8 */
    snprintf(p, sizeof p, "%s\\bad\xff.bin", root);
    MCF_CHECK_RC(mcf_write_bytes(p, "x", 1, NULL), MCF_INVALID_PARAMS);
    MCF_CHECK_ERR("not valid UTF-8");
    return 0;
}

/* UTF-8 names become UTF-16 (checked with the wide API), and \\?\ roots
 * are skipped by makedirs. */
static int portable_win_utf8_and_long_prefix(void)
{
    char p[1024];
    wchar_t wp[1024];
    const char *root = tmpdir();
    snprintf(p, sizeof p, "%s\\\xc3\xa9t\xc3\xa9\\\xe2\x82\xac.bin", root);   /* été\€.bin */
    MCF_CHECK_RC(mcf_write_bytes(p, "utf8", 4, NULL), MCF_OK);
    MCF_CHECK(MultiByteToWideChar(CP_UTF8, 0, root, -1, wp, 1000) > 0);
    wcscat(wp, L"\\\x00e9t\x00e9\\\x20ac.bin");
    MCF_CHECK(GetFileAttributesW(wp) != INVALID_FILE_ATTRIBUTES);
    MCF_CHECK(read_is(p, "utf8", 0));
    snprintf(p, sizeof p, "\\\\?\\%s\\long\\prefix\\x.bin", root);
    MCF_CHECK_RC(mcf_write_bytes(p, "ext", 3, NULL), MCF_OK);
    snprintf(p, sizeof p, "%s\\long\\prefix\\x.bin", root);
    MCF_CHECK(read_is(p, "ext", 0));
    return 0;
}

static int portable_win_cleanup(void)
{
    static const char *const files[] = {"dir\\sub\\f.bin", "a b\\g.bin", "old.bin", "fresh.bin",
                                        "\xc3\xa9t\xc3\xa9\\\xe2\x82\xac.bin", "long\\prefix\\x.bin", NULL};
    static const char *const dirs[] = {"dir\\sub", "dir", "a b", "\xc3\xa9t\xc3\xa9", "long\\prefix", "long", "", NULL};
    char p[1024];
    wchar_t wp[1024];
    int i;
    for (i = 0; files[i]; i++) {
        snprintf(p, sizeof p, "%s\\%s", tmpdir(), files[i]);
        MCF_CHECK_RC(mcf_remove(p, NULL), MCF_OK);
    }
    for (i = 0; dirs[i]; i++) {
        snprintf(p, sizeof p, "%s\\%s", tmpdir(), dirs[i]);
        MCF_CHECK(MultiByteToWideChar(CP_UTF8, 0, p, -1, wp, 1024) > 0);
        MCF_CHECK(RemoveDirectoryW(wp));
    }
    return 0;
}
#endif

#if !defined(MCF_NO_POSIX) && defined(_WIN32)
MCF_TEST_MAIN(MCF_TEST(portable_sizes_beyond_size_t), MCF_TEST(portable_win_separators_drive_and_file_url),
              MCF_TEST(portable_win_errors_and_no_overwrite), MCF_TEST(portable_win_utf8_and_long_prefix),
              MCF_TEST(portable_win_cleanup))
#elif !defined(MCF_NO_POSIX)
MCF_TEST_MAIN(MCF_TEST(portable_sizes_beyond_size_t), MCF_TEST(portable_file_over_4gib),
              MCF_TEST(portable_posix_backslash_is_a_name_byte), MCF_TEST(portable_cleanup))
#else
MCF_TEST_MAIN(MCF_TEST(portable_sizes_beyond_size_t))
#endif
