/* [10] crash safety of local saves: SIGKILL at random points (plain saves,
 * buffered and MCF_DIRECT, and sharded saves), stale temp files,
 * MCF_DURABLE ordering (strace, also with MCF_DIRECT), disk full (tiny
 * tmpfs). */
#include "mcf_test.h"

#ifndef MCF_NO_POSIX
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdint.h>
#include <sys/file.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include "mcf_test_posix.h"

#ifndef MCF_STALE_TEMP_SECONDS
#define MCF_STALE_TEMP_SECONDS 900   /* the library's default */
#endif
#define CRASH_WORDS ((size_t)3 << 17)          /* 3 MiB of uint64 words */
#define CRASH_BYTES (CRASH_WORDS * 8)

/* The version p holds if it is one complete payload, else -1. */
static long crash_version(const unsigned char *p, size_t len, size_t words)
{
    uint32_t v;
    return mcf_test_payload_whole(p, len, words, &v) ? (long)v : -1;
}

static int crash_touch(const char *dir, const char *name, long age)
{
    char p[4096];
    int fd;
    snprintf(p, sizeof p, "%s/%s", dir, name);
    fd = open(p, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (fd < 0) return -1;
    if (write(fd, "x", 1) != 1) { close(fd); return -1; }
    close(fd);
    if (age) {
        struct timeval tv[2];
        gettimeofday(&tv[0], NULL);
        tv[0].tv_sec -= age;
        tv[1] = tv[0];
        if (utimes(p, tv) != 0) return -1;
    }
    return 0;
}

static int crash_exists(const char *dir, const char *name)
{
    char p[4096];
    struct stat st;
    snprintf(p, sizeof p, "%s/%s", dir, name);
    return lstat(p, &st) == 0;
}

static unsigned crash_rand_state = 12345u;
static unsigned crash_rand(void)
{
    crash_rand_state = crash_rand_state * 1103515245u + 12345u;
    return (crash_rand_state >> 8) & 0xffffffu;
}

static void crash_sleep_us(unsigned us)
{
    struct timespec ts;
    ts.tv_sec = (time_t)(us / 1000000u);
    ts.tv_nsec = (long)(us % 1000000u) * 1000L;
    while (nanosleep(&ts, &ts) != 0 && errno == EINTR) { }
}

static double crash_now(void)
{
    struct timeval tv;
    gettimeofday(&tv, NULL);
    return (double)tv.tv_sec + (double)tv.tv_usec / 1e6;
}

/* Child: saves versions first, first+1, ... forever (until killed). */
static void crash_saver(const char *dest, uint32_t first, unsigned flags)
{
    unsigned char *buf = (unsigned char *)malloc(CRASH_BYTES);
    mcf_options o;
    uint32_t v;
    memset(&o, 0, sizeof o);
    o.flags = flags;
    if (!buf) _exit(3);
    for (v = first;; v++) {
        mcf_test_payload(buf, CRASH_WORDS, v);
        if (mcf_write_bytes(dest, buf, CRASH_BYTES, &o) != MCF_OK) _exit(2);
    }
}

static int crash_sigkill_never_tears(void)
{
    char dir[] = "/tmp/mcf_crash_XXXXXX", dest[256];
    unsigned char *buf;
    size_t len;
    long last = 0, v;
    int iter = 0, torn = 0, hit_mid_save = 0, max_temps = 0, advanced = 0;
    unsigned max_delay_us;
    double t0;
    MCF_CHECK(mkdtemp(dir) != NULL);
    snprintf(dest, sizeof dest, "%s/ckpt.bin", dir);
    crash_rand_state = (unsigned)getpid();
    buf = (unsigned char *)malloc(CRASH_BYTES);
    MCF_CHECK(buf != NULL);
    t0 = crash_now();
    mcf_test_payload(buf, CRASH_WORDS, 0);
    MCF_CHECK_RC(mcf_write_bytes(dest, buf, CRASH_BYTES, NULL), MCF_OK);
    /* kill within ~4 saves' time, however slow this build is (valgrind, sanitizers) */
    max_delay_us = (unsigned)((crash_now() - t0) * 4e6) + 2000u;
    if (max_delay_us > 2000000u) max_delay_us = 2000000u;
    free(buf);
    t0 = crash_now();
    while ((crash_now() - t0 < 1.5 || iter < 20 || !advanced || !hit_mid_save) && iter < 2000) {
        int status, temps;
        pid_t pid = fork();
        MCF_CHECK(pid >= 0);
        /* every other save writes with O_DIRECT (MCF_DIRECT), alone or durable */
        if (pid == 0) crash_saver(dest, (uint32_t)last + 1, iter % 4 == 3 ? MCF_DURABLE | MCF_DIRECT : iter % 4 == 1 ? MCF_DIRECT : 0u);
        crash_sleep_us(crash_rand() % max_delay_us);
        kill(pid, SIGKILL);
        MCF_CHECK(waitpid(pid, &status, 0) == pid);
        MCF_CHECK(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL);   /* it never failed on its own */
        buf = mcf_test_slurp(dest, &len);
        MCF_CHECK(buf != NULL);
        v = crash_version(buf, len, CRASH_WORDS);
        free(buf);
        if (v < 0) { torn++; fprintf(stderr, "  iteration %d: torn destination (%lu bytes)\n", iter, (unsigned long)len); }
        else {
            MCF_CHECK(v >= last);          /* never goes back to an older version */
            if (v > last) advanced++;
            last = v;
        }
        temps = mcf_test_count_entries(dir, ".ckpt.bin.mcf-", 0);
        if (temps > 0) hit_mid_save++;
        if (temps > max_temps) max_temps = temps;
        iter++;
    }
    fprintf(stderr, "  crash: %d kills, %d mid-save, %d advanced the file, latest version %ld, at most %d temp files left\n",
            iter, hit_mid_save, advanced, last, max_temps);
    MCF_CHECK(torn == 0);
    MCF_CHECK(advanced > 0);       /* saves completed between kills */
    MCF_CHECK(hit_mid_save > 0);   /* and kills landed inside saves */
    /* a killed save can leave only the one temp file it was writing */
    MCF_CHECK(max_temps <= iter);
    /* the next successful save removes every temp file the kills left */
    MCF_CHECK_RC(mcf_write_bytes(dest, "done", 4, NULL), MCF_OK);
    MCF_CHECK(mcf_test_count_entries(dir, ".ckpt.bin.mcf-", 0) == 0);
    mcf_test_remove_dir(dir);
    return 0;
}

/* The tensor of version v: I64 words v << 32 | i (mcf_test_payload). */
static void crash_tensor(mcf_tensor *t, const unsigned char *data, size_t words)
{
    memset(t, 0, sizeof *t);
    t->name = "weights";
    t->dtype = MCF_I64;
    t->ndim = 2;
    t->shape[0] = (int64_t)(words / 1024);
    t->shape[1] = 1024;
    t->data = data;
}

/* Child: mcf_save of versions first, first+1, ... until killed. */
static void crash_tensor_saver(const char *dest, uint32_t first, size_t words)
{
    unsigned char *buf = (unsigned char *)malloc(words * 8);
    mcf_tensor t;
    uint32_t v;
    if (!buf) _exit(3);
    for (v = first;; v++) {
        mcf_test_payload(buf, words, v);
        crash_tensor(&t, buf, words);
        if (mcf_save(dest, &t, 1, NULL) != MCF_OK) _exit(2);
    }
}

/* The destination is exactly what mcf_save_to_memory makes for one version. */
static long crash_saved_version(const char *dest, const char *format, size_t words)
{
    mcf_reader *r = NULL;
    mcf_options o;
    mcf_tensor t;
    unsigned char *file, *buf, first[8];
    void *want = NULL;
    size_t len, want_len = 0;
    long v = -1;
    if (mcf_open(dest, NULL, &r) != MCF_OK) { fprintf(stderr, "  torn? %s\n", mcf_last_error()); return -1; }
    if (mcf_count(r) == 1 && mcf_read(r, 0, NULL, 0) == MCF_BUFFER_OVERFLOW) {
        const void *view;
        if (mcf_view(r, 0, &view) == MCF_OK) {
            memcpy(first, view, 8);
            v = (long)((uint32_t)first[4] | ((uint32_t)first[5] << 8) | ((uint32_t)first[6] << 16) | ((uint32_t)first[7] << 24));
        }
    }
    mcf_close(r);
    if (v < 0) return -1;
    buf = (unsigned char *)malloc(words * 8);
    if (!buf) return -1;
    mcf_test_payload(buf, words, (uint32_t)v);
    crash_tensor(&t, buf, words);
    memset(&o, 0, sizeof o);
    o.format = format;
    if (mcf_save_to_memory(&t, 1, &o, &want, &want_len) != MCF_OK) v = -1;
    file = mcf_test_slurp(dest, &len);
    if (!file || len != want_len || memcmp(file, want, len) != 0) v = -1;
    free(file);
    free(buf);
    mcf_free(want);
    return v;
}

static int crash_format_kills(const char *format, const char *fname)
{
    char dir[] = "/tmp/mcf_crash_XXXXXX", dest[256], prefix[64];
    size_t words = (size_t)1 << 18;   /* 2 MiB */
    unsigned char *buf;
    mcf_tensor t;
    long last, v;
    int iter = 0, advanced = 0, mid = 0, status;
    unsigned max_delay_us;
    double t0;
    mcf_options o;
    void *probe = NULL;
    size_t probe_len;
    memset(&o, 0, sizeof o);
    o.format = format;
    buf = (unsigned char *)malloc(words * 8);
    MCF_CHECK(buf != NULL);
    t0 = crash_now();                 /* the child fills, then saves: time both */
    mcf_test_payload(buf, words, 0);
    crash_tensor(&t, buf, words);
    if (mcf_save_to_memory(&t, 1, &o, &probe, &probe_len) == MCF_NOT_SUPPORTED) { free(buf); MCF_SKIP("%s writer not built in this tree", format); }
    mcf_free(probe);
    MCF_CHECK(mkdtemp(dir) != NULL);
    snprintf(dest, sizeof dest, "%s/%s", dir, fname);
    snprintf(prefix, sizeof prefix, ".%s.mcf-", fname);
    MCF_CHECK_RC(mcf_save(dest, &t, 1, NULL), MCF_OK);
    max_delay_us = (unsigned)((crash_now() - t0) * 4e6) + 2000u;
    if (max_delay_us > 2000000u) max_delay_us = 2000000u;
    free(buf);
    last = crash_saved_version(dest, format, words);
    MCF_CHECK(last == 0);
    t0 = crash_now();
    while ((crash_now() - t0 < 0.75 || iter < 10 || !advanced || !mid) && iter < 400) {
        pid_t pid = fork();
        MCF_CHECK(pid >= 0);
        if (pid == 0) crash_tensor_saver(dest, (uint32_t)last + 1, words);
        crash_sleep_us(crash_rand() % max_delay_us);
        kill(pid, SIGKILL);
        MCF_CHECK(waitpid(pid, &status, 0) == pid);
        MCF_CHECK(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL);
        v = crash_saved_version(dest, format, words);
        if (v < 0) fprintf(stderr, "  %s iteration %d: destination is not one complete save\n", format, iter);
        MCF_CHECK(v >= last);
        if (v > last) advanced++;
        last = v;
        if (mcf_test_count_entries(dir, prefix, 0) > 0) mid++;
        iter++;
    }
    fprintf(stderr, "  crash %s: %d kills, %d mid-save, %d advanced, latest version %ld\n", format, iter, mid, advanced, last);
    MCF_CHECK(advanced > 0 && mid > 0);
    buf = (unsigned char *)malloc(words * 8);
    MCF_CHECK(buf != NULL);
    mcf_test_payload(buf, words, 99999);
    crash_tensor(&t, buf, words);
    MCF_CHECK_RC(mcf_save(dest, &t, 1, NULL), MCF_OK);
    free(buf);
    MCF_CHECK(mcf_test_count_entries(dir, prefix, 0) == 0);
    MCF_CHECK(crash_saved_version(dest, format, words) == 99999);
    mcf_test_remove_dir(dir);
    return 0;
}

/* ---- sharded saves: the index never names a missing, torn or foreign shard ---- */
#define SHARD_WORDS ((size_t)1 << 16)   /* 512 KiB per tensor, one tensor per shard */

/* Child: sharded saves of three tensors, all of version v, v = first, ... */
static void crash_shard_saver(const char *dest, uint32_t first)
{
    static const char *const names[3] = {"a", "b", "c"};
    unsigned char *buf = (unsigned char *)malloc(3 * SHARD_WORDS * 8);
    mcf_tensor t[3];
    mcf_options o;
    uint32_t v;
    int k;
    if (!buf) _exit(3);
    memset(&o, 0, sizeof o);
    o.max_shard_bytes = SHARD_WORDS * 8;
    for (v = first;; v++) {
        for (k = 0; k < 3; k++) {
            mcf_test_payload(buf + (size_t)k * SHARD_WORDS * 8, SHARD_WORDS, v);
            crash_tensor(&t[k], buf + (size_t)k * SHARD_WORDS * 8, SHARD_WORDS);
            t[k].name = names[k];
        }
        if (mcf_save(dest, t, 3, &o) != MCF_OK) _exit(2);
    }
}

/* The version every tensor of the index holds; -2 when there is no index;
 * -1 when it cannot be opened or the tensors are torn or disagree. */
static long crash_shard_version(const char *index)
{
    mcf_reader *r = NULL;
    long v = -1;
    size_t i;
    if (access(index, F_OK) != 0) return -2;
    if (mcf_open(index, NULL, &r) != MCF_OK) { fprintf(stderr, "  index does not open: %s\n", mcf_last_error()); return -1; }
    for (i = 0; i < mcf_count(r); i++) {
        const void *p;
        uint32_t got;
        if (mcf_view(r, i, &p) != MCF_OK || !mcf_test_payload_whole((const unsigned char *)p, SHARD_WORDS * 8, SHARD_WORDS, &got)) { v = -1; break; }
        if (i == 0) v = (long)got;
        else if ((long)got != v) { fprintf(stderr, "  index names shards of versions %ld and %lu\n", v, (unsigned long)got); v = -1; break; }
    }
    if (mcf_count(r) != 3) v = -1;
    mcf_close(r);
    return v;
}

static int crash_sigkill_sharded_save(void)
{
    char dir[] = "/tmp/mcf_crash_XXXXXX", dest[256], index[300];
    long last = 0, v;
    int iter = 0, advanced = 0, no_index = 0, status;
    unsigned max_delay_us;
    double t0;
    pid_t pid;
    MCF_CHECK(mkdtemp(dir) != NULL);
    snprintf(dest, sizeof dest, "%s/model.safetensors", dir);
    snprintf(index, sizeof index, "%s.index.json", dest);
    t0 = crash_now();
    pid = fork();                       /* version 0, saved to the end */
    MCF_CHECK(pid >= 0);
    if (pid == 0) {
        unsigned char *buf = (unsigned char *)malloc(3 * SHARD_WORDS * 8);
        mcf_tensor t[3];
        mcf_options o;
        static const char *const names[3] = {"a", "b", "c"};
        int k;
        if (!buf) _exit(3);
        memset(&o, 0, sizeof o);
        o.max_shard_bytes = SHARD_WORDS * 8;
        for (k = 0; k < 3; k++) {
            mcf_test_payload(buf + (size_t)k * SHARD_WORDS * 8, SHARD_WORDS, 0);
            crash_tensor(&t[k], buf + (size_t)k * SHARD_WORDS * 8, SHARD_WORDS);
            t[k].name = names[k];
        }
        _exit(mcf_save(dest, t, 3, &o) == MCF_OK ? 0 : 2);
    }
    MCF_CHECK(waitpid(pid, &status, 0) == pid && WIFEXITED(status) && WEXITSTATUS(status) == 0);
    max_delay_us = (unsigned)((crash_now() - t0) * 4e6) + 2000u;
    if (max_delay_us > 2000000u) max_delay_us = 2000000u;
    MCF_CHECK(crash_shard_version(index) == 0);
    t0 = crash_now();
    while ((crash_now() - t0 < 0.75 || iter < 20 || !advanced || !no_index) && iter < 400) {
        pid = fork();
        MCF_CHECK(pid >= 0);
        if (pid == 0) crash_shard_saver(dest, (uint32_t)last + 1);
        crash_sleep_us(crash_rand() % max_delay_us);
        kill(pid, SIGKILL);
        MCF_CHECK(waitpid(pid, &status, 0) == pid);
        MCF_CHECK(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL);
        v = crash_shard_version(index);
        if (v == -1) fprintf(stderr, "  iteration %d: the index names a missing, torn or mixed shard\n", iter);
        MCF_CHECK(v != -1);
        if (v == -2) no_index++;
        else {
            MCF_CHECK(v >= last);
            if (v > last) advanced++;
            last = v;
        }
        iter++;
    }
    fprintf(stderr, "  crash sharded: %d kills, %d left no index (cut mid-save), %d advanced, latest version %ld\n", iter, no_index, advanced, last);
    MCF_CHECK(advanced > 0 && no_index > 0);
    mcf_test_remove_dir(dir);
    return 0;
}

static int crash_sigkill_mcf_save_safetensors(void) { return crash_format_kills("safetensors", "m.safetensors"); }
static int crash_sigkill_mcf_save_torch(void) { return crash_format_kills("torch", "m.pt"); }

/* Temp files of killed saves are removed by the next successful save of the
 * same name; a temp whose writer is alive (holds its flock) is kept. */
static int crash_stale_temps_swept(void)
{
    char dir[] = "/tmp/mcf_crash_XXXXXX", dest[256], live[300];
    const char payload[] = "new";
    int i, status, live_fd;
    unsigned max_delay_us;
    MCF_CHECK(mkdtemp(dir) != NULL);
    snprintf(dest, sizeof dest, "%s/w.bin", dir);
    /* leave real temp files: kill savers mid-save (within ~2 saves' time) */
    {
        unsigned char *buf = (unsigned char *)malloc(CRASH_BYTES);
        double t0 = crash_now();
        MCF_CHECK(buf != NULL);
        mcf_test_payload(buf, CRASH_WORDS, 0);
        MCF_CHECK_RC(mcf_write_bytes(dest, buf, CRASH_BYTES, NULL), MCF_OK);
        max_delay_us = (unsigned)((crash_now() - t0) * 2e6) + 1000u;
        free(buf);
    }
    for (i = 0; i < 500 && mcf_test_count_entries(dir, ".w.bin.mcf-", 0) < 1; i++) {
        pid_t pid = fork();
        MCF_CHECK(pid >= 0);
        if (pid == 0) crash_saver(dest, 1, 0);
        crash_sleep_us(200u + crash_rand() % max_delay_us);
        kill(pid, SIGKILL);
        MCF_CHECK(waitpid(pid, &status, 0) == pid);
    }
    MCF_CHECK(mcf_test_count_entries(dir, ".w.bin.mcf-", 0) >= 1);
    /* a live save: this process holds the lock, and the file is old */
    snprintf(live, sizeof live, "%s/.w.bin.mcf-0badf00d.tmp", dir);
    MCF_CHECK(crash_touch(dir, ".w.bin.mcf-0badf00d.tmp", 2L * MCF_STALE_TEMP_SECONDS) == 0);
    live_fd = open(live, O_RDONLY);
    MCF_CHECK(live_fd >= 0);
    MCF_CHECK(flock(live_fd, LOCK_EX | LOCK_NB) == 0);
    MCF_CHECK(crash_touch(dir, ".w.bin.mcf-zzzzzzzz.tmp", 0) == 0);   /* not our pattern */
    MCF_CHECK(crash_touch(dir, ".w.bin.mcf-1234567.tmp", 0) == 0);    /* 7 digits */
    MCF_CHECK(crash_touch(dir, ".v.bin.mcf-12345678.tmp", 0) == 0);   /* another file's */
    MCF_CHECK(crash_touch(dir, ".w.bin.mcf-12345678.tmp", 0) == 0);   /* unlocked: dead writer */
    MCF_CHECK_RC(mcf_write_bytes(dest, payload, 3, NULL), MCF_OK);
    MCF_CHECK(mcf_test_count_entries(dir, ".w.bin.mcf-", 0) == 3);
    MCF_CHECK(crash_exists(dir, ".w.bin.mcf-0badf00d.tmp"));
    MCF_CHECK(crash_exists(dir, ".w.bin.mcf-zzzzzzzz.tmp"));
    MCF_CHECK(crash_exists(dir, ".w.bin.mcf-1234567.tmp"));
    MCF_CHECK(crash_exists(dir, ".v.bin.mcf-12345678.tmp"));
    MCF_CHECK(!crash_exists(dir, ".w.bin.mcf-12345678.tmp"));
    /* repeated successful saves never add temp files */
    for (i = 0; i < 50; i++) MCF_CHECK_RC(mcf_write_bytes(dest, payload, 3, NULL), MCF_OK);
    MCF_CHECK(mcf_test_count_entries(dir, ".w.bin.mcf-", 0) == 3);
    /* the live writer finishes (its lock goes): the next save removes it */
    close(live_fd);
    MCF_CHECK_RC(mcf_write_bytes(dest, payload, 3, NULL), MCF_OK);
    MCF_CHECK(!crash_exists(dir, ".w.bin.mcf-0badf00d.tmp"));
    MCF_CHECK(mcf_test_count_entries(dir, ".w.bin.mcf-", 0) == 2);
    mcf_test_remove_dir(dir);
    return 0;
}

/* 1 once /proc/<pid>/status shows a tracer attached. */
static int crash_traced(pid_t pid)
{
    char p[64], line[256];
    FILE *f;
    int traced = 0;
    snprintf(p, sizeof p, "/proc/%ld/status", (long)pid);
    if (!(f = fopen(p, "r"))) return 0;
    while (fgets(line, sizeof line, f))
        if (strncmp(line, "TracerPid:", 10) == 0) traced = atoi(line + 10) != 0;
    fclose(f);
    return traced;
}

/* 1 if files in dir take O_DIRECT (glibc spells it __O_DIRECT without _GNU_SOURCE). */
static int crash_dir_takes_direct(const char *dir)
{
    char p[512];
    int fd, ok = 0;
    snprintf(p, sizeof p, "%s/.probe", dir);
    if ((fd = open(p, O_WRONLY | O_CREAT | O_TRUNC, 0644)) < 0) return 0;
#if defined(O_DIRECT)
    ok = fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_DIRECT) == 0;
#elif defined(__O_DIRECT)
    ok = fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | __O_DIRECT) == 0;
#endif
    close(fd);
    unlink(p);
    return ok;
}

/* MCF_DURABLE: fsync(temp) -> rename(temp, dest) -> fsync(dir), seen by
 * strace attached to a forked child (works under qemu-user too: no exec).
 * With MCF_DIRECT (a payload of whole blocks and a partial one) the same
 * order, and before it the temp file switched to O_DIRECT (fcntl) where
 * the file system takes it. */
static int crash_durable_order(unsigned flags)
{
    char dir[] = "/tmp/mcf_crash_XXXXXX", dest[256], log[256], cmd[1024], line[4096];
    static unsigned char payload[3 * 4096 + 5];
    size_t plen = flags & MCF_DIRECT ? sizeof payload : 7;
    FILE *f;
    int step = 0, status, go[2], i, direct_seen = 0, want_direct;
    pid_t pid;
    if (system("strace -V >/dev/null 2>&1") != 0) MCF_SKIP("strace is not installed (apt-get install strace)");
    MCF_CHECK(mkdtemp(dir) != NULL);
    want_direct = (flags & MCF_DIRECT) && crash_dir_takes_direct(dir);
    memcpy(payload, "durable", 7);
    snprintf(dest, sizeof dest, "%s/d.bin", dir);
    snprintf(log, sizeof log, "%s/strace.log", dir);
    MCF_CHECK(pipe(go) == 0);
    pid = fork();
    MCF_CHECK(pid >= 0);
    if (pid == 0) {
        mcf_options o;
        char c;
        close(go[1]);
        if (read(go[0], &c, 1) != 1) _exit(43);
        memset(&o, 0, sizeof o);
        o.flags = MCF_DURABLE | flags;
        _exit(mcf_write_bytes(dest, payload, plen, &o) == MCF_OK ? 0 : 42);
    }
    close(go[0]);
    snprintf(cmd, sizeof cmd, "strace -f -y -qq -o '%s' -e trace=fsync,fdatasync,rename,renameat,renameat2,link,linkat,fcntl -p %ld >/dev/null 2>&1 &",
             log, (long)pid);
    (void)system(cmd);
    for (i = 0; i < 500 && !crash_traced(pid); i++) crash_sleep_us(10000);
    if (!crash_traced(pid)) {
        kill(pid, SIGKILL); waitpid(pid, &status, 0); close(go[1]); mcf_test_remove_dir(dir);
        MCF_SKIP("strace could not attach within 5 s (ptrace not permitted here?)");
    }
    MCF_CHECK(write(go[1], "g", 1) == 1);
    close(go[1]);
    MCF_CHECK(waitpid(pid, &status, 0) == pid);
    MCF_CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    for (i = 0; i < 300 && step != 3; i++) {   /* strace writes the log as it goes; wait for it */
        crash_sleep_us(10000);
        step = 0;
        direct_seen = 0;
        if (!(f = fopen(log, "r"))) continue;
        while (fgets(line, sizeof line, f)) {
            int is_fsync = strstr(line, "fsync(") != NULL;
            int is_rename = strstr(line, "rename") != NULL;
            if (strstr(line, "= -1") || strstr(line, "<unfinished")) continue;
            if (strstr(line, "fcntl")) {            /* O_DIRECT switched on for the temp file, before step 0 */
                if (step == 0 && strstr(line, "F_SETFL") && strstr(line, "O_DIRECT") && strstr(line, ".d.bin.mcf-")) direct_seen = 1;
                continue;
            }
            if (!is_fsync && !is_rename && !strstr(line, "link")) continue;
            /* expected: 0 fsync of the temp file, 1 rename onto d.bin, 2 fsync of the directory */
            if (step == 0 && is_fsync && strstr(line, ".d.bin.mcf-")) step = 1;
            else if (step == 1 && is_rename && strstr(line, ".d.bin.mcf-") && strstr(line, "/d.bin\"")) step = 2;
            else if (step == 2 && is_fsync) {
                char want[300];
                snprintf(want, sizeof want, "<%s>)", dir);
                if (!strstr(line, want)) { fprintf(stderr, "  directory fsync expected, got: %s", line); fclose(f); return 1; }
                step = 3;
            } else if (step < 3) {
                fprintf(stderr, "  unexpected at step %d: %s", step, line);
                fclose(f);
                return 1;
            }
        }
        fclose(f);
    }
    if (step != 3) fprintf(stderr, "  durable order incomplete (step %d), see %s\n", step, log);
    MCF_CHECK(step == 3);
    if (direct_seen != want_direct) fprintf(stderr, "  O_DIRECT %s on the temp file, expected %s; see %s\n", direct_seen ? "set" : "not set", want_direct ? "set" : "not", log);
    MCF_CHECK(direct_seen == want_direct);
    {   /* the file holds the payload */
        unsigned char *got;
        size_t n;
        MCF_CHECK((got = mcf_test_slurp(dest, &n)) != NULL);
        MCF_CHECK(n == plen && memcmp(got, payload, n) == 0);
        free(got);
    }
    crash_sleep_us(50000);   /* let strace exit before the directory goes */
    mcf_test_remove_dir(dir);
    return 0;
}

static int crash_durable_order_strace(void) { return crash_durable_order(0); }
static int crash_durable_direct_order_strace(void) { return crash_durable_order(MCF_DIRECT); }

/* Disk full: a save into a 1 MiB tmpfs fails cleanly. */
static int crash_disk_full(void)
{
    char dir[] = "/tmp/mcf_crash_XXXXXX", mnt[256], dest[300];
    unsigned char *buf, *got;
    size_t len;
    int ok = 1;
    MCF_CHECK(mkdtemp(dir) != NULL);
    snprintf(mnt, sizeof mnt, "%s/mnt", dir);
    MCF_CHECK(mkdir(mnt, 0755) == 0);
    if (mount("tmpfs", mnt, "tmpfs", 0, "size=1m") != 0) {
        int e = errno;
        rmdir(mnt); rmdir(dir);
        MCF_SKIP("cannot mount a 1 MiB tmpfs (%s; needs root or CAP_SYS_ADMIN)", e == EPERM ? "EPERM" : "error");
    }
    snprintf(dest, sizeof dest, "%s/full.bin", mnt);
    buf = (unsigned char *)malloc(CRASH_BYTES);
    if (!buf) ok = 0;
    if (ok) {
        mcf_test_payload(buf, 32768, 7);            /* 256 KiB: fits */
        ok = mcf_write_bytes(dest, buf, 32768 * 8, NULL) == MCF_OK;
        if (!ok) fprintf(stderr, "  first save: %s\n", mcf_last_error());
    }
    if (ok) {
        mcf_options o;
        int rc;
        memset(&o, 0, sizeof o);
        mcf_test_payload(buf, CRASH_WORDS, 8);      /* 3 MiB: does not */
        rc = mcf_write_bytes(dest, buf, CRASH_BYTES, NULL);
        if (rc != MCF_FILE_WRITE_FAIL || !strstr(mcf_last_error(), "no space left on device") || !strstr(mcf_last_error(), dest)) {
            fprintf(stderr, "  disk-full save: %d %s\n", rc, mcf_last_error());
            ok = 0;
        }
        o.flags = MCF_DURABLE;
        rc = mcf_write_bytes(dest, buf, CRASH_BYTES, &o);
        if (rc != MCF_FILE_WRITE_FAIL || !strstr(mcf_last_error(), "no space left on device")) ok = 0;
        if (ok) {
            got = mcf_test_slurp(dest, &len);
            ok = got && crash_version(got, len, 32768) == 7;   /* old file intact */
            free(got);
        }
        if (ok) ok = mcf_test_count_entries(mnt, ".full.bin.mcf-", 0) == 0;  /* no temp file left */
        if (ok) { mcf_test_payload(buf, 32768, 9); ok = mcf_write_bytes(dest, buf, 32768 * 8, NULL) == MCF_OK; }  /* space is back */
    }
    free(buf);
    (void)umount(mnt);
    rmdir(mnt); rmdir(dir);
    MCF_CHECK(ok);
    return 0;
}

MCF_TEST_MAIN(MCF_TEST(crash_sigkill_never_tears), MCF_TEST(crash_stale_temps_swept),
              MCF_TEST(crash_sigkill_mcf_save_safetensors), MCF_TEST(crash_sigkill_mcf_save_torch),
              MCF_TEST(crash_sigkill_sharded_save), MCF_TEST(crash_durable_order_strace), MCF_TEST(crash_durable_direct_order_strace),
              MCF_TEST(crash_disk_full))
#else
/* MCF_NO_POSIX: local paths are refused, so there is nothing to tear. */
static int crash_no_local_files(void)
{
    MCF_CHECK_RC(mcf_write_bytes("/tmp/mcf_noposix.bin", "x", 1, NULL), MCF_INVALID_PARAMS);
    MCF_CHECK_ERR("unknown filesystem \"file\"");
    return 0;
}
MCF_TEST_MAIN(MCF_TEST(crash_no_local_files))
#endif
