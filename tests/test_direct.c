/* [10] [11] MCF_DIRECT: unbuffered reads and writes of local files
 * (O_DIRECT; FILE_FLAG_NO_BUFFERING on Windows). On a file system that takes
 * O_DIRECT (the build directory: ext4, xfs, btrfs...) saves are
 * byte-identical to buffered ones and leave the data out of the page cache,
 * and reads at every offset and destination alignment, in parts on several
 * threads too, give the file's bytes without pulling it into the page
 * cache. Where O_DIRECT is refused (tmpfs before Linux 6.6, ramfs) the same
 * calls succeed with buffered I/O and leave a "note:" saying so. On Windows
 * the same saves, reads and a cancelled save run (the page-cache checks are
 * Linux's). */
#define _DEFAULT_SOURCE 1   /* mincore */
#include "mcf_test.h"

#if !defined(MCF_NO_POSIX)
/* Three tensors of odd sizes (the data of the first starts at an offset
 * that is not a multiple of 8, let alone 4096). */
static unsigned char *g_data;
static mcf_tensor g_t[3];
static size_t g_nb[3];

static void make_tensors(void)
{
    static const int64_t n[3] = { 3 * 4096 + 77, 1000003, 2 * 4096 };
    static const char *const names[3] = { "odd", "big", "blocks" };
    size_t off = 0, k, i;
    uint32_t x = 7;
    if (g_data) return;
    for (k = 0; k < 3; k++) g_nb[k] = (size_t)n[k] * (k == 1 ? 4 : 1);
    g_data = (unsigned char *)malloc(g_nb[0] + g_nb[1] + g_nb[2]);
    for (i = 0; g_data && i < g_nb[0] + g_nb[1] + g_nb[2]; i++) { x = x * 1103515245u + 12345u; g_data[i] = (unsigned char)(x >> 16); }
    for (k = 0; k < 3; k++) {
        memset(&g_t[k], 0, sizeof g_t[k]);
        g_t[k].name = names[k];
        g_t[k].dtype = k == 1 ? MCF_F32 : MCF_U8;
        g_t[k].ndim = 1;
        g_t[k].shape[0] = n[k];
        g_t[k].data = g_data + off;
        off += g_nb[k];
    }
}

/* 1 when the files at a and b hold the same bytes. */
static int same_bytes(const char *a, const char *b)
{
    size_t la = 0, lb = 0;
    unsigned char *x = mcf_test_slurp(a, &la), *y = mcf_test_slurp(b, &lb);
    int same = x && y && la == lb && memcmp(x, y, la) == 0;
    free(x);
    free(y);
    return same;
}

/* Every tensor of r (the file of make_tensors) into destinations at every
 * alignment (congruent to its file offset too: straight in), a slice of odd
 * rows, and all three at once; each must give the saved bytes. */
static int read_every_way(mcf_reader *r, const char *path)
{
    unsigned char *buf = (unsigned char *)malloc(g_nb[1] + 3 * 4096 + 16);
    size_t k, idx[3], lens[3];
    void *dst[3];
    int shift;
    MCF_CHECK(buf != NULL);
    for (k = 0; k < 3; k++) {
        int i = mcf_find(r, g_t[k].name), shifts[12], ns = 0, t;
        uint64_t off = 0, nb = 0;
        MCF_CHECK(i >= 0);
        idx[k] = (size_t)i;
        lens[k] = g_nb[k];
        MCF_CHECK_RC(mcf_entry_location(r, idx[k], &off, &nb), MCF_OK);
        for (t = 0; t < 8; t++) shifts[ns++] = t;
        shifts[ns++] = 4096;
        for (t = -1; t <= 1; t++) shifts[ns++] = (int)(off % 4096) + 4096 + t;   /* congruent: straight in */
        for (t = 0; t < ns; t++) {
            unsigned char *d = buf + (4096 - (uintptr_t)buf % 4096) % 4096 + (size_t)shifts[t];
            shift = shifts[t];
            if (d + g_nb[k] > buf + g_nb[1] + 3 * 4096 + 16) break;
            memset(d, 0, g_nb[k]);
            MCF_CHECK_RC(mcf_read(r, idx[k], d, g_nb[k]), MCF_OK);
            if (memcmp(d, g_t[k].data, g_nb[k]) != 0) { fprintf(stderr, "  %s: tensor %s, destination + %d: wrong bytes\n", path, g_t[k].name, shift); return 1; }
        }
    }
    {   /* a slice of odd rows: unaligned ranges read in batches */
        mcf_slice s = mcf_slice_range(5, 4096 * 3 + 70);
        s.step = 3;
        MCF_CHECK_RC(mcf_read_slice(r, idx[0], &s, 1, buf, g_nb[0]), MCF_OK);
        for (k = 0; k < (4096 * 3 + 70 - 5 + 2) / 3; k++) MCF_CHECK(buf[k] == g_data[5 + 3 * k]);
    }
    for (k = 0; k < 3; k++) { dst[k] = malloc(g_nb[k]); MCF_CHECK(dst[k] != NULL); }
    MCF_CHECK_RC(mcf_read_many(r, idx, dst, lens, 3, NULL), MCF_OK);
    for (k = 0; k < 3; k++) { MCF_CHECK(memcmp(dst[k], g_t[k].data, g_nb[k]) == 0); free(dst[k]); }
    free(buf);
    return 0;
}

/* Whole objects of every size around a block, written and read with o. */
static int whole_sizes(const char *path, mcf_options *o)
{
    static const size_t sizes[7] = { 0, 1, 4095, 4096, 4097, 3 * 4096 + 3, ((size_t)1 << 20) + 5 };
    int e;
    for (e = 0; e < 7; e++) {
        void *got = NULL;
        size_t n = 0;
        o->threads = 0;
        MCF_CHECK_RC(mcf_write_bytes(path, g_data, sizes[e], o), MCF_OK);
        MCF_CHECK_RC(mcf_read_bytes(path, &got, &n, o), MCF_OK);
        MCF_CHECK(n == sizes[e] && (n == 0 || memcmp(got, g_data, n) == 0));
        mcf_free(got);
    }
    return 0;
}

static int cancel_after_1mib(void *user, uint64_t done, uint64_t total)
{
    (void)user; (void)total;
    return done >= ((uint64_t)1 << 20);
}

/* A direct save cancelled after its first MiB went out fails, and path
 * keeps the bytes of ref (saved there first). */
static int failed_save_keeps_old(const char *path, const char *ref)
{
    mcf_options o;
    memset(&o, 0, sizeof o);
    o.flags = MCF_DIRECT;
    MCF_CHECK_RC(mcf_write_bytes(path, "old", 3, &o), MCF_OK);
    o.progress = cancel_after_1mib;
    MCF_CHECK_RC(mcf_save(path, g_t, 3, &o), MCF_PERSISTENT_FAIL);
    MCF_CHECK_ERR("cancelled by the progress callback");
    {
        size_t n = 0;
        unsigned char *b = mcf_test_slurp(path, &n);
        MCF_CHECK(b && n == 3 && memcmp(b, "old", 3) == 0);
        free(b);
    }
    MCF_CHECK(!same_bytes(path, ref));
    return 0;
}
#endif

#if !defined(MCF_NO_POSIX) && !defined(_WIN32)
#include <fcntl.h>
#include <stdint.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>
#include "mcf_test_posix.h"

#if defined(O_DIRECT)
#define T_O_DIRECT O_DIRECT
#elif defined(__O_DIRECT)
#define T_O_DIRECT __O_DIRECT
#endif

#define T_BLOCKS 7

/* 1 if files in dir take O_DIRECT (what the library should then use). */
static int dir_takes_direct(const char *dir)
{
    char p[512];
    int fd, ok = 0;
    (void)snprintf(p, sizeof p, "%s/.probe", dir);
    fd = open(p, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (fd < 0) return 0;
#ifdef T_O_DIRECT
    ok = fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | T_O_DIRECT) == 0;
#endif
    close(fd);
    unlink(p);
    return ok;
}

/* Pages of path in the page cache (after mapping it), or -1. */
#define DIRECT_SLACK 6   /* pages: the last block + what a tool's look at the head brings in */

static long cached_pages(const char *path, long *total)
{
    struct stat st;
    unsigned char *v;
    void *m;
    long n, i, in = 0;
    int fd = open(path, O_RDONLY);
    if (fd < 0 || fstat(fd, &st) != 0 || st.st_size == 0) { if (fd >= 0) close(fd); return -1; }
    m = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_SHARED, fd, 0);
    close(fd);
    if (m == MAP_FAILED) return -1;
    n = (long)((st.st_size + 4095) / 4096);
    v = (unsigned char *)malloc((size_t)n);
    if (!v || mincore(m, (size_t)st.st_size, v) != 0) { free(v); munmap(m, (size_t)st.st_size); return -1; }
    for (i = 0; i < n; i++) in += v[i] & 1;
    free(v);
    munmap(m, (size_t)st.st_size);
    *total = n;
    return in;
}

/* Drops path's pages from the page cache. */
static int evict(const char *path)
{
    int fd = open(path, O_RDONLY), ok;
    if (fd < 0) return 0;
    ok = fsync(fd) == 0 && posix_fadvise(fd, 0, 0, POSIX_FADV_DONTNEED) == 0;
    close(fd);
    return ok;
}

/* Saves with MCF_DIRECT into dir (format fmt) and reads back every way;
 * direct: whether dir takes O_DIRECT. */
static int direct_case(const char *dir, const char *file, int direct)
{
    char path[512], ref[512], note[700];
    mcf_options o;
    mcf_reader *r;
    long total = 0, in;
    make_tensors();
    MCF_CHECK(g_data != NULL);
    (void)snprintf(path, sizeof path, "%s/%s", dir, file);
    (void)snprintf(ref, sizeof ref, "%s/ref-%s", dir, file);
    (void)snprintf(note, sizeof note, "note: file: \"%s\": the file system refuses O_DIRECT (invalid argument); writing with buffered I/O instead (MCF_DIRECT)", path);
    memset(&o, 0, sizeof o);
    MCF_CHECK_RC(mcf_save(ref, g_t, 3, &o), MCF_OK);
    o.flags = MCF_DIRECT | MCF_DURABLE;
    (void)mcf_set_error(MCF_OK, "before");
    MCF_CHECK_RC(mcf_save(path, g_t, 3, &o), MCF_OK);
    if (direct) MCF_CHECK(strcmp(mcf_last_error(), "before") == 0);
    else MCF_CHECK_ERR(note);
    /* O_DIRECT wrote around the page cache: a buffered save leaves all ~982
     * pages cached, a direct one the buffered last block. DIRECT_SLACK:
     * valgrind reads the head of each file cached_pages maps (it looks for
     * debug info), and readahead brings in the first 4 pages with it. */
    in = cached_pages(path, &total);
    MCF_CHECK(in >= 0 && total > 900);
    if (direct && in > DIRECT_SLACK) { fprintf(stderr, "  %s: %ld of %ld pages cached after a direct save\n", path, in, total); return 1; }
    /* byte-identical to the buffered save; nothing left beside it */
    MCF_CHECK(same_bytes(path, ref));
    MCF_CHECK(mcf_test_count_entries(dir, ".tmp", 1) == 0);
    /* reads: every destination alignment, whole and sliced, in parts on threads */
    MCF_CHECK(evict(path));
    o.flags = MCF_DIRECT;
    o.threads = 3;
    (void)mcf_set_error(MCF_OK, "before");
    MCF_CHECK_RC(mcf_open(path, &o, &r), MCF_OK);
    if (direct) MCF_CHECK(strcmp(mcf_last_error(), "before") == 0);
    else {
        (void)snprintf(note, sizeof note, "note: file: \"%s\": the file system refuses O_DIRECT (invalid argument); reading with buffered I/O instead (MCF_DIRECT)", path);
        MCF_CHECK_ERR(note);
    }
    if (read_every_way(r, path)) return 1;
    mcf_close(r);
    in = cached_pages(path, &total);
    if (direct && in > DIRECT_SLACK) { fprintf(stderr, "  %s: %ld of %ld pages cached after direct reads\n", path, in, total); return 1; }
    if (whole_sizes(path, &o)) return 1;
    if (failed_save_keeps_old(path, ref)) return 1;
    MCF_CHECK(mcf_test_count_entries(dir, ".tmp", 1) == 0);
    MCF_CHECK(unlink(path) == 0 && unlink(ref) == 0);
    return 0;
}

/* A file system that takes O_DIRECT: a directory under build/ (the
 * repository's disk), or the temporary directory if build/ is missing. */
static int direct_on_disk(void)
{
    char dir[] = "build/mcf_direct_XXXXXX";
    const char *d = mkdtemp(dir);
    int rc;
    if (!d) d = mcf_test_tmpdir();
    MCF_CHECK(d != NULL);
    if (!dir_takes_direct(d)) fprintf(stderr, "  note: %s does not take O_DIRECT: the buffered fallback is tested twice\n", d);
    rc = direct_case(d, "w.safetensors", dir_takes_direct(d));
    if (rc == 0) rc = direct_case(d, "w.pt", dir_takes_direct(d));
    if (d == dir) mcf_test_remove_dir(dir);
    return rc;
}

/* A file system that refuses O_DIRECT: buffered I/O and the note. tmpfs
 * (/dev/shm) refuses it before Linux 6.6; where it takes it, a ramfs
 * mounted for the test (root or CAP_SYS_ADMIN) refuses it. */
static int direct_falls_back_where_refused(void)
{
    char dir[] = "/dev/shm/mcf_direct_XXXXXX", mnt[] = "/tmp/mcf_direct_XXXXXX";
    const char *d = dir;
    int rc, mounted = 0;
    MCF_CHECK(mkdtemp(dir) != NULL);   /* every Linux system mounts tmpfs at /dev/shm */
    if (dir_takes_direct(dir)) {
        MCF_CHECK(mkdtemp(mnt) != NULL);
        if (mount("ramfs", mnt, "ramfs", 0, NULL) != 0) {
            mcf_test_remove_dir(dir);
            rmdir(mnt);
            MCF_SKIP("tmpfs takes O_DIRECT on this kernel and a ramfs cannot be mounted here (needs root or CAP_SYS_ADMIN)");
        }
        mounted = 1;
        d = mnt;
    }
    MCF_CHECK(!dir_takes_direct(d));
    rc = direct_case(d, "w.safetensors", 0);
    if (mounted) { MCF_CHECK(umount(mnt) == 0); rmdir(mnt); }
    mcf_test_remove_dir(dir);
    return rc;
}

MCF_TEST_MAIN(MCF_TEST(direct_on_disk), MCF_TEST(direct_falls_back_where_refused))
#elif !defined(MCF_NO_POSIX) && defined(_WIN32)
#include <windows.h>

static int count_tmp_files(const char *dir)
{
    char pat[MAX_PATH + 64];
    WIN32_FIND_DATAA fd;
    HANDLE h;
    int n = 0;
    (void)snprintf(pat, sizeof pat, "%s\\*.tmp", dir);
    h = FindFirstFileA(pat, &fd);
    if (h == INVALID_HANDLE_VALUE) return 0;
    do n++; while (FindNextFileA(h, &fd));
    FindClose(h);
    return n;
}

/* The note a refused FILE_FLAG_NO_BUFFERING leaves, or nothing: the
 * temporary directory's file system decides (wine on Linux takes it). */
static int win_note_or_nothing(const char *path, const char *doing)
{
    char want[700];
    const char *e = mcf_last_error();
    if (strcmp(e, "before") == 0) return 1;
    (void)snprintf(want, sizeof want, "note: file: \"%s\": the file system refuses FILE_FLAG_NO_BUFFERING (", path);
    if (strncmp(e, want, strlen(want)) != 0 || !strstr(e, doing)) { fprintf(stderr, "  unexpected message: %s\n", e); return 0; }
    fprintf(stderr, "  note: %s\n", e);
    return 1;
}

/* The Windows backend with MCF_DIRECT: saves byte-identical to a buffered
 * save (the partial last block appended buffered), reads at every offset
 * and destination alignment, whole objects around a block, and a failed
 * save that leaves the old file and no temporary file. */
static int direct_win(void)
{
    char t[MAX_PATH + 1], dir[MAX_PATH + 64], path[MAX_PATH + 96], ref[MAX_PATH + 96];
    const char *files[2] = { "w.safetensors", "w.pt" };
    mcf_options o;
    mcf_reader *r;
    DWORD n = GetTempPathA(sizeof t, t);
    int k;
    MCF_CHECK(n > 0 && n <= MAX_PATH);
    (void)snprintf(dir, sizeof dir, "%smcf-direct-%lu", t, (unsigned long)GetCurrentProcessId());
    MCF_CHECK(CreateDirectoryA(dir, NULL) || GetLastError() == ERROR_ALREADY_EXISTS);
    make_tensors();
    MCF_CHECK(g_data != NULL);
    for (k = 0; k < 2; k++) {
        (void)snprintf(path, sizeof path, "%s\\%s", dir, files[k]);
        (void)snprintf(ref, sizeof ref, "%s\\ref-%s", dir, files[k]);
        memset(&o, 0, sizeof o);
        MCF_CHECK_RC(mcf_save(ref, g_t, 3, &o), MCF_OK);
        o.flags = MCF_DIRECT | MCF_DURABLE;
        (void)mcf_set_error(MCF_OK, "before");
        MCF_CHECK_RC(mcf_save(path, g_t, 3, &o), MCF_OK);
        MCF_CHECK(win_note_or_nothing(path, "writing with buffered I/O instead (MCF_DIRECT)"));
        MCF_CHECK(same_bytes(path, ref));
        MCF_CHECK(count_tmp_files(dir) == 0);
        o.flags = MCF_DIRECT;
        o.threads = 3;
        (void)mcf_set_error(MCF_OK, "before");
        MCF_CHECK_RC(mcf_open(path, &o, &r), MCF_OK);
        MCF_CHECK(win_note_or_nothing(path, "reading with buffered I/O instead (MCF_DIRECT)"));
        if (read_every_way(r, path)) return 1;
        mcf_close(r);
        if (whole_sizes(path, &o)) return 1;
        if (failed_save_keeps_old(path, ref)) return 1;
        MCF_CHECK(count_tmp_files(dir) == 0);
        MCF_CHECK(DeleteFileA(path) && DeleteFileA(ref));
    }
    MCF_CHECK(RemoveDirectoryA(dir));
    return 0;
}

MCF_TEST_MAIN(MCF_TEST(direct_win))
#else
/* No local files here: MCF_DIRECT changes nothing for memory://. */
static int direct_ignored_by_memory(void)
{
    mcf_options o;
    void *d;
    size_t n;
    memset(&o, 0, sizeof o);
    o.flags = MCF_DIRECT;
    MCF_CHECK_RC(mcf_write_bytes("memory://direct/x", "abc", 3, &o), MCF_OK);
    MCF_CHECK_RC(mcf_read_bytes("memory://direct/x", &d, &n, &o), MCF_OK);
    MCF_CHECK(n == 3 && memcmp(d, "abc", 3) == 0);
    mcf_free(d);
    MCF_CHECK_RC(mcf_remove("memory://direct/x", &o), MCF_OK);
    return 0;
}
MCF_TEST_MAIN(MCF_TEST(direct_ignored_by_memory))
#endif
