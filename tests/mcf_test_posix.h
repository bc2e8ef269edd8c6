/* mcf_test_posix.h - helpers for the tests that are POSIX programs: one
 * private temporary directory per process, directory listings, and real
 * PyTorch (/usr/bin/python3) run as a child. Empty on Windows, where only
 * the portable tests run. */
#ifndef MCF_TEST_POSIX_H
#define MCF_TEST_POSIX_H
#include "mcf_test.h"
#ifndef _WIN32
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <unistd.h>

static char mcf_test_tmp_root[64];

/* Removes the temporary directory with all it holds (it is made again on
 * the next use); 1 on success or when there is none. */
MCF_TEST_UNUSED
static int mcf_test_tmp_remove(void)
{
    char cmd[128];
    if (!mcf_test_tmp_root[0]) return 1;
    (void)snprintf(cmd, sizeof cmd, "rm -rf '%s'", mcf_test_tmp_root);
    if (system(cmd) != 0) { fprintf(stderr, "  could not remove %s\n", mcf_test_tmp_root); return 0; }
    mcf_test_tmp_root[0] = '\0';
    return 1;
}

MCF_TEST_UNUSED
static void mcf_test_tmp_cleanup(void) { (void)mcf_test_tmp_remove(); }

/* A private directory under /tmp, made on first use and removed with all it
 * holds at exit; NULL if it cannot be made. */
MCF_TEST_UNUSED
static const char *mcf_test_tmpdir(void)
{
    static int registered;
    if (!mcf_test_tmp_root[0]) {
        (void)snprintf(mcf_test_tmp_root, sizeof mcf_test_tmp_root, "/tmp/mcf_test_XXXXXX");
        if (!mkdtemp(mcf_test_tmp_root)) { mcf_test_tmp_root[0] = '\0'; return NULL; }
        if (!registered) (void)atexit(mcf_test_tmp_cleanup);
        registered = 1;
    }
    return mcf_test_tmp_root;
}

/* out = "<temporary directory>/name"; returns out. */
MCF_TEST_UNUSED
static char *mcf_test_tmp_path(char *out, size_t cap, const char *name)
{
    const char *dir = mcf_test_tmpdir();
    (void)snprintf(out, cap, "%s/%s", dir ? dir : "/nonexistent", name);
    return out;
}

/* Entries of dir whose name starts with text (anywhere = 0) or holds it
 * (anywhere = 1); -1 if dir cannot be listed. */
MCF_TEST_UNUSED
static int mcf_test_count_entries(const char *dir, const char *text, int anywhere)
{
    DIR *d = opendir(dir);
    struct dirent *e;
    int n = 0;
    if (!d) return -1;
    while ((e = readdir(d)) != NULL)
        if (anywhere ? strstr(e->d_name, text) != NULL : strncmp(e->d_name, text, strlen(text)) == 0) n++;
    closedir(d);
    return n;
}

/* Removes dir and the files in it (one level: no subdirectories). */
MCF_TEST_UNUSED
static void mcf_test_remove_dir(const char *dir)
{
    DIR *d = opendir(dir);
    struct dirent *e;
    char p[4096];
    if (!d) return;
    while ((e = readdir(d)) != NULL) {
        if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0) continue;
        (void)snprintf(p, sizeof p, "%s/%s", dir, e->d_name);
        (void)unlink(p);
    }
    closedir(d);
    (void)rmdir(dir);
}

/* A sparse file of size bytes at path holding the 8 bytes of marker at
 * offset at, whose size mcf_file_size and the file backend's open_read
 * both report exactly; *h is that open file (fs->close_read it). 0 done;
 * MCF_TEST_SKIPPED (why says so) where the filesystem refuses such a file;
 * 1 on any other failure (printed). */
MCF_TEST_UNUSED
static int mcf_test_sparse_open(const char *path, uint64_t size, const char *marker, uint64_t at, mcf_filesystem *fs, void **h,
                                char *why, size_t cap)
{
    mcf_url u;
    uint64_t got = 0, opened = 0;
    int fd = open(path, O_CREAT | O_WRONLY | O_TRUNC, 0644), rc = 0;
    if (fd < 0) { fprintf(stderr, "  cannot create %s (errno %d)\n", path, errno); return 1; }
    if (ftruncate(fd, (off_t)size) != 0) {
        (void)snprintf(why, cap, "filesystem refuses a %llu-byte sparse file (errno %d)", (unsigned long long)size, errno);
        rc = MCF_TEST_SKIPPED;
    } else if (pwrite(fd, marker, 8, (off_t)at) != 8) {
        (void)snprintf(why, cap, "cannot write at offset %llu here", (unsigned long long)at);
        rc = MCF_TEST_SKIPPED;
    }
    close(fd);
    if (rc) { unlink(path); return rc; }
    if (mcf_file_size(path, &got, NULL) != MCF_OK || mcf_filesystem_lookup("file", fs) != MCF_OK || mcf_url_parse(path, NULL, &u) != MCF_OK) {
        fprintf(stderr, "  %s: %s\n", path, mcf_last_error());
        return 1;
    }
    rc = fs->open_read(fs->user, &u, NULL, h, &opened);
    mcf_url_free(&u);
    if (rc != MCF_OK) { fprintf(stderr, "  %s: %s\n", path, mcf_last_error()); return 1; }
    if (got == size && opened == size) return 0;
    fprintf(stderr, "  %s: size %llu, opened as %llu bytes, made %llu\n", path, (unsigned long long)got, (unsigned long long)opened,
            (unsigned long long)size);
    fs->close_read(*h);
    return 1;
}

/* Runs "/usr/bin/python3 <args> 2>&1" (args: a shell command tail, quoted
 * by the caller) and hands back all it printed, NUL-terminated, in *out
 * (free it; NULL if nothing could be read). Returns 0 when python exited 0;
 * MCF_TEST_SKIPPED when /usr/bin/python3 is missing or lacks torch or numpy;
 * 1 on any other failure. why (cap bytes) says what went wrong. */
MCF_TEST_UNUSED
static int mcf_test_python(const char *args, char **out, char *why, size_t cap)
{
    char cmd[4096], chunk[4096];
    size_t len = 0, room = 0;
    FILE *p;
    int status;
    *out = NULL;
    why[0] = '\0';
    if (access("/usr/bin/python3", X_OK) != 0) { (void)snprintf(why, cap, "/usr/bin/python3 is missing"); return MCF_TEST_SKIPPED; }
    if ((size_t)snprintf(cmd, sizeof cmd, "/usr/bin/python3 %s 2>&1", args) >= sizeof cmd) { (void)snprintf(why, cap, "command too long"); return 1; }
    fflush(NULL);
    if (!(p = popen(cmd, "r"))) { (void)snprintf(why, cap, "popen failed"); return 1; }
    for (;;) {
        size_t k = fread(chunk, 1, sizeof chunk, p);
        if (k == 0) break;
        if (len + k + 1 > room) {
            char *q = (char *)realloc(*out, room = (len + k + 1) * 2);
            if (!q) { (void)pclose(p); (void)snprintf(why, cap, "out of memory"); return 1; }
            *out = q;
        }
        memcpy(*out + len, chunk, k);
        len += k;
    }
    status = pclose(p);
    if (*out) (*out)[len] = '\0';
    if (*out && (strstr(*out, "No module named 'torch'") || strstr(*out, "No module named 'numpy'") ||
                 strstr(*out, "cannot import torch"))) {
        (void)snprintf(why, cap, "no torch or numpy in /usr/bin/python3");
        return MCF_TEST_SKIPPED;
    }
    if (status == 0) return 0;
    (void)snprintf(why, cap, "/usr/bin/python3 exited with status %d: ", status);
    len = strlen(why);
    if (*out && len + 1 < cap) {   /* then what it printed, as much as fits */
        size_t k = strlen(*out) < cap - len - 1 ? strlen(*out) : cap - len - 1;
        memcpy(why + len, *out, k);
        why[len + k] = '\0';
    }
    return 1;
}

/* Runs "/usr/bin/python3 script <temporary directory>" and hands each line
 * it printed to take (1: a line it used); why collects the other lines.
 * 0 when the script ended well with a line "DONE"; MCF_TEST_SKIPPED without
 * python or torch; 1 otherwise. */
MCF_TEST_UNUSED
static int mcf_test_python_lines(const char *script, int (*take)(const char *line, void *ctx), void *ctx, char *why, size_t cap)
{
    char args[600], line[1024], *out = NULL;
    const char *at;
    int rc, done = 0;
    if (!mcf_test_tmpdir()) { (void)snprintf(why, cap, "mkdtemp failed"); return 1; }
    (void)snprintf(args, sizeof args, "%s '%s'", script, mcf_test_tmpdir());
    rc = mcf_test_python(args, &out, why, cap);
    if (rc == MCF_TEST_SKIPPED) { free(out); return rc; }
    why[0] = '\0';
    at = out;
    while (mcf_test_next_line(&at, line, sizeof line)) {
        if (strcmp(line, "DONE") == 0) done = 1;
        else if (!take(line, ctx) && strlen(why) + strlen(line) + 2 < cap) { strcat(why, line); strcat(why, "\n"); }
    }
    free(out);
    return rc == 0 && done ? 0 : 1;
}

/* mcf_test_python_lines once per process (a test file runs one script):
 * its result, and why in mcf_test_torch_why. */
MCF_TEST_UNUSED static char mcf_test_torch_why[2048];
MCF_TEST_UNUSED
static int mcf_test_torch_once(const char *script, int (*take)(const char *line, void *ctx))
{
    static int rc = -1;
    if (rc == -1) rc = mcf_test_python_lines(script, take, NULL, mcf_test_torch_why, sizeof mcf_test_torch_why);
    return rc;
}

/* In a test: skips it without PyTorch, fails it when the script failed. */
#define MCF_TEST_NEED_TORCH(script, take) do { int rc_ = mcf_test_torch_once(script, take); \
    if (rc_ == MCF_TEST_SKIPPED) MCF_SKIP("PyTorch unavailable: %s", mcf_test_torch_why); \
    if (rc_ != 0) { fprintf(stderr, "  %s failed: %s\n", script, mcf_test_torch_why); return 1; } } while (0)
#endif
#endif
