/* bench.c - speed and memory of mooncake_fileio.h as ratios against
 * baselines timed in the same run on the same data.
 *
 *   build/bench/bench [--size 1G] [--runs 3] [--cache warm|cold|both]
 *                     [--dir /tmp] [--json build/bench-results.json]
 *                     [--only crc,st,pt,rss,mem,store,convert,remote,par] [--no-python] [--smoke]
 *
 * Every figure is best-of-N, baseline and library run alternately (ABAB) so
 * drift in machine load hits both. Ratios are baseline time / our time for
 * speed (higher is better) and extra bytes / tensor bytes for memory (lower
 * is better). The table goes to stdout, the list of
 * {"figure","ratio","goal","met","detail",...} to the JSON file.
 *
 * Peak memory is measured in a fresh process per case (this program re-exec'd
 * with --rss-child): VmHWM from /proc/self/status after the operation minus
 * VmRSS just before it (with the high-water mark reset through
 * /proc/self/clear_refs) minus the tensor bytes the caller ends up holding.
 */
#define MOONCAKE_FILEIO_IMPLEMENTATION
#include "../mooncake_fileio.h"

#include <math.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#ifdef MCF_BENCH_ZLIB
#include <zlib.h>
#endif

/* snprintf that may truncate (every buffer here is for display or a path
 * already bounded), without -Wformat-truncation's false alarms. */
static int bfmt(char *out, size_t cap, const char *fmt, ...)
#if defined(__GNUC__) || defined(__clang__)
    __attribute__((format(printf, 3, 4)))
#endif
    ;
static int bfmt(char *out, size_t cap, const char *fmt, ...)
{
    va_list ap;
    int n;
    va_start(ap, fmt);
    n = vsnprintf(out, cap, fmt, ap);
    va_end(ap);
    return n;
}


/* ---- configuration --------------------------------------------------------- */
typedef struct bench_cfg {
    uint64_t size;              /* main tensor bytes */
    int runs;
    int warm, cold;             /* which page-cache states to measure loads in */
    int python;
    int smoke;
    int cpu_clock;              /* ratios from CPU time instead of wall time */
    const char *parent;         /* where the scratch directory goes */
    const char *json;
    const char *only;           /* comma list of groups, NULL = all */
    const char *py_script;
    const char *python_exe;
    char self[4096];            /* this executable, for --rss-child */
    char dir[4096];             /* scratch directory */
} bench_cfg;

static bench_cfg cfg;

/* ---- results ----------------------------------------------------------------- */
enum { FIG_MET, FIG_NOT_MET, FIG_INFO, FIG_SKIPPED };
typedef struct bench_fig {
    char name[48];
    char title[128];
    char cache[8];
    double ratio, goal;         /* goal < 0: informational */
    int lower_better;
    int status;
    double ratio_layout;        /* vs the same file layout written/read by hand; NAN if none */
    char detail[1024];
} bench_fig;

#define MAX_FIGS 96
static bench_fig figs[MAX_FIGS];
static int nfigs;

static const char *status_text(int s)
{
    return s == FIG_MET ? "MET" : s == FIG_NOT_MET ? "NOT MET" : s == FIG_INFO ? "info" : "SKIPPED";
}

/* A figure's table line: name, cache, ratio, goal, status, title. */
static void print_fig_line(const bench_fig *f)
{
    char ratio[32], goal[32];
    if (f->status == FIG_SKIPPED) bfmt(ratio, sizeof ratio, "-");
    else if (f->lower_better) bfmt(ratio, sizeof ratio, "%.4f", f->ratio);
    else bfmt(ratio, sizeof ratio, "%.2fx", f->ratio);
    if (f->goal < 0) bfmt(goal, sizeof goal, "-");
    else if (f->lower_better) bfmt(goal, sizeof goal, "<=%.4f", f->goal);
    else bfmt(goal, sizeof goal, ">=%.2fx", f->goal);
    printf("%-26s %-5s %10s %10s  %-7s  %s\n", f->name, f->cache, ratio, goal, status_text(f->status), f->title);
}

static void print_fig(bench_fig *f)
{
    char *c;
    for (c = f->detail; *c; c++) if (*c == '\n' || *c == '\r' || *c == '\t') *c = ' ';
    print_fig_line(f);
    printf("%-26s       %s\n", "", f->detail);
    fflush(stdout);
}

static bench_fig *fig_new(const char *name, const char *title, const char *cache)
{
    bench_fig *f;
    if (nfigs == MAX_FIGS) { fprintf(stderr, "bench: too many figures\n"); exit(2); }
    f = &figs[nfigs++];
    memset(f, 0, sizeof *f);
    bfmt(f->name, sizeof f->name, "%s", name);
    bfmt(f->title, sizeof f->title, "%s", title);
    bfmt(f->cache, sizeof f->cache, "%s", cache);
    f->goal = -1;
    f->ratio_layout = NAN;
    return f;
}

static void fig_skip(const char *name, const char *title, const char *cache, const char *why)
{
    bench_fig *f = fig_new(name, title, cache);
    f->status = FIG_SKIPPED;
    bfmt(f->detail, sizeof f->detail, "SKIPPED: %s", why);
    print_fig(f);
}

/* Speed figure: ratio = baseline seconds / our seconds (higher is better),
 * by wall clock unless --clock cpu; both ratios go into the detail when the
 * CPU times are known (> 0). */
static void fig_speed(const char *name, const char *title, const char *cache, double ours, double base,
                      double ours_cpu, double base_cpu, double goal, const char *what)
{
    bench_fig *f = fig_new(name, title, cache);
    int have_cpu = ours_cpu > 0 && base_cpu > 0;
    f->ratio = cfg.cpu_clock && have_cpu ? base_cpu / ours_cpu : base / ours;
    f->goal = goal;
    f->status = goal < 0 ? FIG_INFO : f->ratio >= goal ? FIG_MET : FIG_NOT_MET;
    if (have_cpu)
        bfmt(f->detail, sizeof f->detail, "%s; ratio by wall clock %.2fx, by CPU time %.2fx (CPU %.4f s vs %.4f s); ratio column: %s",
             what, base / ours, base_cpu / ours_cpu, ours_cpu, base_cpu, cfg.cpu_clock ? "CPU time" : "wall clock");
    else
        bfmt(f->detail, sizeof f->detail, "%s; ratio by wall clock", what);
    print_fig(f);
}

static void fig_skip_rc(const char *name, const char *title, const char *cache, const char *call, int rc)
{
    char why[700];
    bfmt(why, sizeof why, "%s returned %s: %s", call, mcf_result_name(rc), mcf_last_error());
    fig_skip(name, title, cache, why);
}

static int want(const char *group)
{
    const char *p = cfg.only;
    size_t n = strlen(group);
    if (!p) return 1;
    while (*p) {
        const char *e = strchr(p, ',');
        size_t k = e ? (size_t)(e - p) : strlen(p);
        if (k == n && strncmp(p, group, n) == 0) return 1;
        p += k + (e ? 1 : 0);
    }
    return 0;
}

/* ---- small utilities ----------------------------------------------------------- */
static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

/* CPU seconds of this process (user + system): on a shared machine it does
 * not count the time other processes hold the CPU. */
static double cpu_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

/* Wall and CPU seconds together, for the loops that are not ops. */
typedef struct tpair { double w, c; } tpair;
static tpair tp_now(void) { tpair t; t.w = now(); t.c = cpu_now(); return t; }
static tpair tp_inf(void) { tpair t; t.w = INFINITY; t.c = INFINITY; return t; }
/* Folds the time since t0 into best (each clock's minimum); returns wall seconds. */
static double tp_min_since(tpair t0, tpair *best)
{
    double w = now() - t0.w, c = cpu_now() - t0.c;
    if (w < best->w) best->w = w;
    if (c < best->c) best->c = c;
    return w;
}

static double gbps(uint64_t bytes, double secs) { return secs > 0 ? (double)bytes / secs / 1e9 : 0; }

static const char *human(uint64_t b, char *out, size_t cap)
{
    if (b >= ((uint64_t)1 << 30) && b % ((uint64_t)1 << 30) == 0) bfmt(out, cap, "%llu GiB", (unsigned long long)(b >> 30));
    else if (b >= ((uint64_t)1 << 20)) bfmt(out, cap, "%.1f MiB", (double)b / 1048576.0);
    else if (b >= 1024) bfmt(out, cap, "%.1f KiB", (double)b / 1024.0);
    else bfmt(out, cap, "%llu B", (unsigned long long)b);
    return out;
}

static volatile unsigned bench_sink;

/* Reads one byte of every 4 KiB page (and the last byte). */
static void touch(const void *p, size_t n)
{
    const unsigned char *c = (const unsigned char *)p;
    unsigned s = 0;
    size_t i;
    for (i = 0; i < n; i += 4096) s += c[i];
    if (n) s += c[n - 1];
    bench_sink += s;
}

static void *xalloc(size_t n)
{
    void *p = NULL;
    if (posix_memalign(&p, 64, n ? n : 1) != 0) { fprintf(stderr, "bench: out of memory for %zu bytes\n", n); exit(2); }
    return p;
}

/* Deterministic non-zero bytes (xorshift64), so pages are real and distinct. */
static void fill(unsigned char *p, size_t n, uint64_t seed)
{
    uint64_t x = seed * 0x9E3779B97F4A7C15ull + 1;
    size_t i = 0;
    for (; i + 8 <= n; i += 8) {
        x ^= x << 13; x ^= x >> 7; x ^= x << 17;
        memcpy(p + i, &x, 8);
    }
    for (; i < n; i++) p[i] = (unsigned char)(i * 131u);
}

static void path_of(char *out, size_t cap, const char *name) { bfmt(out, cap, "%s/%s", cfg.dir, name); }

static int can_drop_caches(void) { return access("/proc/sys/vm/drop_caches", W_OK) == 0; }

static int drop_caches(void)
{
    FILE *f = fopen("/proc/sys/vm/drop_caches", "w");
    int ok;
    if (!f) return -1;
    ok = fputs("1\n", f) >= 0;
    ok = (fclose(f) == 0) && ok;
    return ok ? 0 : -1;
}

/* fsync so that drop_caches can evict the file (dirty pages stay). */
static void sync_file(const char *path)
{
    int fd = open(path, O_RDONLY);
    if (fd >= 0) { (void)fsync(fd); (void)close(fd); }
}

static uint64_t file_size_of(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0 ? (uint64_t)st.st_size : 0;
}

/* ---- baselines --------------------------------------------------------------------- */
/* write(2) of each tensor's bytes to a new file (one call per tensor). */
static int plain_write(const char *path, const mcf_tensor *t, size_t n)
{
    size_t i;
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_EXCL, 0644);
    if (fd < 0) { perror(path); return -1; }
    for (i = 0; i < n; i++) {
        const unsigned char *p = (const unsigned char *)t[i].data;
        size_t left = (size_t)mcf_tensor_nbytes(&t[i]);
        while (left > 0) {
            ssize_t k = write(fd, p, left > ((size_t)1 << 30) ? ((size_t)1 << 30) : left);
            if (k < 0 && errno == EINTR) continue;
            if (k <= 0) { perror(path); (void)close(fd); return -1; }
            p += k; left -= (size_t)k;
        }
    }
    if (close(fd) != 0) { perror(path); return -1; }
    return 0;
}

/* read(2) of the whole file into dst (cap bytes), then touch it. */
static int plain_read(const char *path, unsigned char *dst, size_t cap, size_t *got)
{
    size_t n = 0;
    int fd = open(path, O_RDONLY);
    if (fd < 0) { perror(path); return -1; }
    for (;;) {
        ssize_t k;
        if (n == cap) break;
        k = read(fd, dst + n, cap - n > ((size_t)1 << 30) ? ((size_t)1 << 30) : cap - n);
        if (k < 0 && errno == EINTR) continue;
        if (k < 0) { perror(path); (void)close(fd); return -1; }
        if (k == 0) break;
        n += (size_t)k;
    }
    (void)close(fd);
    touch(dst, n);
    *got = n;
    return 0;
}

/* ---- the data ------------------------------------------------------------------------ */
typedef struct bench_data {
    unsigned char *payload;     /* cfg.size bytes */
    size_t size;
    unsigned char *rbuf;        /* pre-faulted destination for read(2) / mcf_read */
    size_t rcap;
    mcf_tensor one;             /* F32 [rows, cols] over the whole payload */
    mcf_tensor *many;           /* 1000 F32 vectors over the first size/4 bytes */
    size_t nmany;
    uint64_t many_bytes;
    mcf_tensor tiny;            /* ~1 KiB file */
    float tiny_data[200];
    char names[1000][24];
} bench_data;

static bench_data D;

static void shape_one(mcf_tensor *t, const char *name, const void *data, uint64_t bytes)
{
    uint64_t elems = bytes / 4, cols = 4096;
    memset(t, 0, sizeof *t);
    t->name = name;
    t->dtype = MCF_F32;
    t->data = data;
    while (cols > 1 && elems % cols) cols /= 2;
    t->ndim = 2;
    t->shape[0] = (int64_t)(elems / cols);
    t->shape[1] = (int64_t)cols;
}

static void data_init(void)
{
    size_t i, per;
    D.size = (size_t)cfg.size;
    D.payload = (unsigned char *)xalloc(D.size);
    fill(D.payload, D.size, 1);
    D.rcap = D.size + ((size_t)16 << 20);      /* room for a header */
    D.rbuf = (unsigned char *)xalloc(D.rcap);
    memset(D.rbuf, 0, D.rcap);                 /* fault it in once, outside every timing */
    shape_one(&D.one, "weight", D.payload, D.size);
    D.nmany = 1000;
    per = (D.size / 4 / D.nmany) & ~(size_t)3;
    D.many = (mcf_tensor *)calloc(D.nmany, sizeof *D.many);
    if (!D.many) exit(2);
    for (i = 0; i < D.nmany; i++) {
        bfmt(D.names[i], sizeof D.names[i], "layers.%03zu.weight", i);
        memset(&D.many[i], 0, sizeof D.many[i]);
        D.many[i].name = D.names[i];
        D.many[i].dtype = MCF_F32;
        D.many[i].ndim = 1;
        D.many[i].shape[0] = (int64_t)(per / 4);
        D.many[i].data = D.payload + i * per;
    }
    D.many_bytes = (uint64_t)per * D.nmany;
    for (i = 0; i < 200; i++) D.tiny_data[i] = (float)i;
    memset(&D.tiny, 0, sizeof D.tiny);
    D.tiny.name = "weight";
    D.tiny.dtype = MCF_F32;
    D.tiny.ndim = 1;
    D.tiny.shape[0] = 200;
    D.tiny.data = D.tiny_data;
}

/* ---- timed operations ----------------------------------------------------------------- */
typedef struct op {
    const char *path;
    const mcf_tensor *t;
    size_t n;
    const mcf_options *o;
    uint64_t bytes;             /* data bytes the op moves */
    int rc;                     /* first library failure, or 0 */
    double cpu;                 /* CPU seconds of the last run */
    const unsigned char *pre, *post;    /* file bytes before / after the tensor data */
    size_t pre_len, post_len;
    uint64_t data_off;          /* where the tensor data starts in the file */
} op;

typedef double (*op_fn)(op *x);    /* seconds, or < 0 on failure */

/* Ends an op's clocks started at t0: its CPU seconds go to x, the wall
 * seconds are returned. */
static double op_stop(op *x, tpair t0)
{
    double w = now() - t0.w;
    x->cpu = cpu_now() - t0.c;
    return w;
}

static double op_plain_write(op *x)
{
    tpair t0 = tp_now();
    double t;
    if (plain_write(x->path, x->t, x->n) != 0) return -1;
    t = op_stop(x, t0);
    (void)unlink(x->path);
    return t;
}

static double op_mcf_save(op *x)
{
    tpair t0 = tp_now();
    double t;
    int rc = mcf_save(x->path, x->t, x->n, x->o);
    t = op_stop(x, t0);
    if (rc != MCF_OK) { x->rc = rc; return -1; }
    (void)unlink(x->path);
    return t;
}

static double op_plain_read(op *x)
{
    size_t got;
    tpair t0 = tp_now();
    if (plain_read(x->path, D.rbuf, D.rcap, &got) != 0) return -1;
    return op_stop(x, t0);
}

static int write_all(int fd, const unsigned char *p, size_t left)
{
    while (left > 0) {
        ssize_t k = write(fd, p, left > ((size_t)1 << 30) ? ((size_t)1 << 30) : left);
        if (k < 0 && errno == EINTR) continue;
        if (k <= 0) return -1;
        p += k; left -= (size_t)k;
    }
    return 0;
}

/* write(2) of the identical file: the format's bytes before the tensor, the
 * tensor straight from the caller's buffer, the bytes after it. */
static double op_plain_write_layout(op *x)
{
    tpair t0 = tp_now();
    double t;
    int fd = open(x->path, O_WRONLY | O_CREAT | O_TRUNC | O_EXCL, 0644);
    if (fd < 0) return -1;
    if (write_all(fd, x->pre, x->pre_len) != 0 || write_all(fd, (const unsigned char *)x->t->data, (size_t)mcf_tensor_nbytes(x->t)) != 0 ||
        write_all(fd, x->post, x->post_len) != 0) { (void)close(fd); (void)unlink(x->path); return -1; }
    if (close(fd) != 0) return -1;
    t = op_stop(x, t0);
    (void)unlink(x->path);
    return t;
}

/* pread(2) of just the tensor bytes of the same file (where the format put
 * them) into the pre-faulted buffer: the ideal loader of that layout. */
static double op_plain_pread_layout(op *x)
{
    tpair t0 = tp_now();
    size_t n = (size_t)x->bytes, got = 0;
    int fd = open(x->path, O_RDONLY);
    if (fd < 0 || n > D.rcap) { if (fd >= 0) (void)close(fd); return -1; }
    while (got < n) {
        ssize_t k = pread(fd, D.rbuf + got, n - got > ((size_t)1 << 30) ? ((size_t)1 << 30) : n - got, (off_t)(x->data_off + got));
        if (k < 0 && errno == EINTR) continue;
        if (k <= 0) { (void)close(fd); return -1; }
        got += (size_t)k;
    }
    (void)close(fd);
    touch(D.rbuf, n);
    return op_stop(x, t0);
}

/* The bytes around the single tensor of file, for the same-layout
 * baselines: x (zeroed first) gets pre/post, data_off and bytes; free them
 * with layout_free. 0, or -1 when the file holds more than one tensor. */
static int layout_of(const char *file, op *x)
{
    mcf_reader *r = NULL;
    uint64_t off = 0, nb = 0, size = file_size_of(file);
    unsigned char *pre, *post;
    int fd, ok;
    memset(x, 0, sizeof *x);
    if (mcf_open(file, NULL, &r) != MCF_OK) return -1;
    ok = mcf_count(r) == 1 && mcf_entry_location(r, 0, &off, &nb) == MCF_OK && off + nb <= size;
    mcf_close(r);
    if (!ok) return -1;
    x->pre_len = (size_t)off;
    x->post_len = (size_t)(size - off - nb);
    pre = (unsigned char *)xalloc(x->pre_len);
    post = (unsigned char *)xalloc(x->post_len);
    fd = open(file, O_RDONLY);
    ok = fd >= 0 && pread(fd, pre, x->pre_len, 0) == (ssize_t)x->pre_len &&
         pread(fd, post, x->post_len, (off_t)(off + nb)) == (ssize_t)x->post_len;
    if (fd >= 0) (void)close(fd);
    if (!ok) { free(pre); free(post); return -1; }
    x->pre = pre;
    x->post = post;
    x->data_off = off;
    x->bytes = nb;
    return 0;
}

static void layout_free(op *x)
{
    free((void *)(uintptr_t)x->pre);
    free((void *)(uintptr_t)x->post);
}

/* mcf_open + mcf_view of every entry + touching every page + mcf_close. */
static double op_mcf_view(op *x)
{
    mcf_reader *r = NULL;
    size_t i;
    int rc;
    tpair t0 = tp_now();
    if ((rc = mcf_open(x->path, x->o, &r)) != MCF_OK) { x->rc = rc; return -1; }
    for (i = 0; i < mcf_count(r); i++) {
        const void *p;
        uint64_t nb = 0;
        if ((rc = mcf_view(r, i, &p)) != MCF_OK || (rc = mcf_entry_location(r, i, NULL, &nb)) != MCF_OK) {
            x->rc = rc; mcf_close(r); return -1;
        }
        touch(p, (size_t)nb);
    }
    mcf_close(r);
    return op_stop(x, t0);
}

/* mcf_open + mcf_read of every entry into the caller's (pre-faulted) buffer. */
static double op_mcf_read(op *x)
{
    mcf_reader *r = NULL;
    size_t i, off = 0;
    int rc;
    tpair t0 = tp_now();
    if ((rc = mcf_open(x->path, x->o, &r)) != MCF_OK) { x->rc = rc; return -1; }
    for (i = 0; i < mcf_count(r); i++) {
        uint64_t nb = 0;
        if ((rc = mcf_entry_location(r, i, NULL, &nb)) != MCF_OK || nb > D.rcap - off ||
            (rc = mcf_read(r, i, D.rbuf + off, D.rcap - off)) != MCF_OK) {
            x->rc = rc ? rc : MCF_BUFFER_OVERFLOW; mcf_close(r); return -1;
        }
        touch(D.rbuf + off, (size_t)nb);
        off += (size_t)nb;
    }
    mcf_close(r);
    return op_stop(x, t0);
}

static double op_mcf_open_only(op *x)
{
    mcf_reader *r = NULL;
    int rc;
    double t0 = now(), t;
    rc = mcf_open(x->path, x->o, &r);
    t = now() - t0;
    if (rc != MCF_OK) { x->rc = rc; return -1; }
    mcf_close(r);
    return t;
}

/* Best of cfg.runs for both, alternating baseline and ours; cold: drop the
 * page cache before every timed run. Returns 0, or -1 (x_ours->rc says why
 * when the library failed). */
static int best_pair(op_fn base, op *xb, op_fn ours, op *xo, int runs, int cold, double *tb, double *to,
                     double *cb, double *co)
{
    int i;
    *tb = *to = *cb = *co = INFINITY;
    for (i = 0; i < runs; i++) {
        double a, b;
        if (cold && drop_caches() != 0) return -1;
        if ((a = base(xb)) < 0) return -1;
        if (cold && drop_caches() != 0) return -1;
        if ((b = ours(xo)) < 0) return -1;
        if (getenv("MCF_BENCH_DEBUG"))
            fprintf(stderr, "  run %d: baseline %.4f s (CPU %.4f s), mcf %.4f s (CPU %.4f s)\n", i, a, xb->cpu, b, xo->cpu);
        if (a < *tb) *tb = a;
        if (b < *to) *to = b;
        if (xb->cpu < *cb) *cb = xb->cpu;
        if (xo->cpu < *co) *co = xo->cpu;
    }
    return 0;
}

/* ---- figure 3: CRC32 -------------------------------------------------------------------- */
/* Called through volatile pointers: mcf_crc32 is in this translation unit and
 * pure, so the compiler could otherwise hoist repeated calls out of a loop. */
static uint32_t (*volatile p_mcf_crc32)(uint32_t, const void *, size_t) = mcf_crc32;

#ifdef MCF_BENCH_ZLIB
static uint32_t zlib_crc(const unsigned char *p, size_t n)
{
    uLong c = crc32(0L, Z_NULL, 0);
    while (n > 0) {
        uInt k = n > ((size_t)1 << 30) ? (uInt)1 << 30 : (uInt)n;
        c = crc32(c, p, k);
        p += k; n -= k;
    }
    return (uint32_t)c;
}
static uint32_t (*volatile p_zlib_crc)(const unsigned char *, size_t) = zlib_crc;
#endif

/* Plain streaming read of n bytes (the memory-bandwidth bound of a CRC). */
static uint64_t read_stream(const unsigned char *p, size_t n)
{
    uint64_t a = 0, b = 0, c = 0, d = 0, w[4];
    size_t i;
    for (i = 0; i + 32 <= n; i += 32) {
        memcpy(w, p + i, 32);
        a ^= w[0]; b ^= w[1]; c ^= w[2]; d ^= w[3];
    }
    return a ^ b ^ c ^ d;
}
static uint64_t (*volatile p_read_stream)(const unsigned char *, size_t) = read_stream;

static void bench_crc(void)
{
    const char *t_l2 = "mcf_crc32 vs zlib crc32, 256 KiB cache-resident (compute)";
    const char *t_dram = "mcf_crc32 vs zlib crc32, whole tensor streamed from DRAM";
#ifndef MCF_BENCH_ZLIB
    fig_skip("crc32_vs_zlib", t_l2, "-", "built without zlib (zlib.h not found; install zlib1g-dev)");
    fig_skip("crc32_vs_zlib_dram", t_dram, "-", "built without zlib (zlib.h not found; install zlib1g-dev)");
#else
    const unsigned char *p = D.payload;
    size_t n = D.size, small = (size_t)256 << 10;
    size_t reps = (size_t)(((uint64_t)1 << 28) / small), i;
    tpair tz = tp_inf(), tm = tp_inf(), tzs = tp_inf(), tms = tp_inf(), trd = tp_inf(), t0;
    uint32_t cz = 0, cm = 0, sz = 0, sm = 0;
    int r, v;
    char what[768], vars[400], hb[32];
    size_t vk = 0;
    if (cfg.smoke) reps = 4;
    /* cache-resident: the algorithm's own speed */
    for (r = 0; r < cfg.runs; r++) {
        t0 = tp_now();
        for (i = 0; i < reps; i++) sz ^= p_zlib_crc(p, small);
        (void)tp_min_since(t0, &tzs);
        t0 = tp_now();
        for (i = 0; i < reps; i++) sm ^= p_mcf_crc32(0, p, small);
        (void)tp_min_since(t0, &tms);
    }
    vars[0] = '\0';
    for (v = MCF_CRC32_SLICE8; v <= MCF_CRC32_ARM; v++) {
        uint32_t c = 0;
        tpair tv = tp_inf();
        if (mcf_crc32_variant(v, &c, p, small) != MCF_OK) continue;
        t0 = tp_now();
        for (i = 0; i < reps; i++) { c = 0; (void)mcf_crc32_variant(v, &c, p, small); bench_sink += c; }
        (void)tp_min_since(t0, &tv);
        vk += (size_t)bfmt(vars + vk, vk < sizeof vars ? sizeof vars - vk : 0, "%s%s %.1f GB/s", vk ? ", " : "",
                           mcf_crc32_variant_name(v), gbps((uint64_t)small * reps, cfg.cpu_clock ? tv.c : tv.w));
        if (vk >= sizeof vars) break;
    }
    if (sz != sm) {
        bfmt(what, sizeof what, "mcf_crc32 and zlib crc32 differ over the same 256 KiB (xor of %zu results %08x vs %08x)", reps, sm, sz);
        fig_skip("crc32_vs_zlib", t_l2, "-", what);
    } else {
        bfmt(what, sizeof what, "%zu x 256 KiB (L2-resident): mcf_crc32 %.2f GB/s, zlib crc32 %.2f GB/s, best of %d; mcf variants: %s",
             reps, gbps((uint64_t)small * reps, tms.w), gbps((uint64_t)small * reps, tzs.w), cfg.runs, vars);
        fig_speed("crc32_vs_zlib", t_l2, "-", tms.w, tzs.w, tms.c, tzs.c, 10.0, what);
    }
    /* streaming: what the fused writer sees on a tensor in DRAM */
    for (r = 0; r < cfg.runs; r++) {
        t0 = tp_now();
        cz = p_zlib_crc(p, n);
        (void)tp_min_since(t0, &tz);
        t0 = tp_now();
        cm = p_mcf_crc32(0, p, n);
        (void)tp_min_since(t0, &tm);
        t0 = tp_now();
        bench_sink += (unsigned)p_read_stream(p, n);
        (void)tp_min_since(t0, &trd);
    }
    if (cz != cm) {
        bfmt(what, sizeof what, "mcf_crc32 = %08x but zlib crc32 = %08x over the same %zu bytes", cm, cz, n);
        fig_skip("crc32_vs_zlib_dram", t_dram, "-", what);
        return;
    }
    bfmt(what, sizeof what, "%s: mcf_crc32 %.3f s (%.2f GB/s), zlib crc32 %.3f s (%.2f GB/s); a plain read of the same bytes %.2f GB/s (the DRAM bound); best of %d",
         human(n, hb, sizeof hb), tm.w, gbps(n, tm.w), tz.w, gbps(n, tz.w), gbps(n, trd.w), cfg.runs);
    fig_speed("crc32_vs_zlib_dram", t_dram, "-", tm.w, tz.w, tm.c, tz.c, 10.0, what);
#endif
}

/* ---- figures 1 and 2: saves, loads, open ------------------------------------------------ */
typedef struct fmt_info {
    const char *tag;            /* "st" | "pt" */
    const char *label;          /* "safetensors" | "torch" */
    const char *ext;
    const char *format;
    double save_goal;
} fmt_info;

static const fmt_info FMT_ST = {"st", "safetensors", ".safetensors", "safetensors", 0.9};
static const fmt_info FMT_PT = {"pt", "torch", ".pt", "torch", 0.8};

/* Save figure; keeps one saved copy at dir/keep for the load figures.
 * Returns our best seconds, or -1 when the figure was skipped. */
static double save_figure(const fmt_info *fi, const char *suffix, const char *title, const mcf_tensor *t, size_t n,
                          uint64_t bytes, const char *keep, double *cpu_out)
{
    char name[48], plain[4096], mine[4096], what[768], hb[32];
    mcf_options o;
    op xb, xo;
    double tb, to, cb, co;
    int rc;
    memset(&o, 0, sizeof o);
    o.format = fi->format;
    bfmt(name, sizeof name, "%s_save_%s", fi->tag, suffix);
    path_of(plain, sizeof plain, "plain.bin");
    path_of(mine, sizeof mine, keep);
    memset(&xb, 0, sizeof xb); memset(&xo, 0, sizeof xo);
    xb.path = plain; xb.t = t; xb.n = n;
    xo.path = mine; xo.t = t; xo.n = n; xo.o = &o;
    if (best_pair(op_plain_write, &xb, op_mcf_save, &xo, cfg.runs, 0, &tb, &to, &cb, &co) != 0) {
        if (xo.rc) fig_skip_rc(name, title, "-", "mcf_save", xo.rc);
        else fig_skip(name, title, "-", "baseline write(2) failed");
        (void)unlink(plain);
        return -1;
    }
    if ((rc = mcf_save(mine, t, n, &o)) != MCF_OK) { fig_skip_rc(name, title, "-", "mcf_save (kept copy)", rc); return -1; }
    sync_file(mine);
    bfmt(what, sizeof what, "%s in %zu tensor%s: mcf_save %.3f s (%.2f GB/s), write(2) %.3f s (%.2f GB/s); file %llu bytes; best of %d, new file in %s each run",
             human(bytes, hb, sizeof hb), n, n == 1 ? "" : "s", to, gbps(bytes, to), tb, gbps(bytes, tb),
             (unsigned long long)file_size_of(mine), cfg.runs, cfg.dir);
    fig_speed(name, title, "-", to, tb, co, cb, fi->save_goal, what);
    if (cpu_out) *cpu_out = co;
    {
        /* second baseline: write(2) of the very same file bytes (format layout, data straight from the caller) */
        op xl, xm;
        double tl, tm2, cl, cm2;
        bench_fig *f = &figs[nfigs - 1];
        if (n == 1 && layout_of(mine, &xl) == 0) {
            char plain2[4096], again[4096];
            path_of(plain2, sizeof plain2, "plain-layout.bin");
            bfmt(hb, sizeof hb, "again%s", fi->ext);
            path_of(again, sizeof again, hb);
            memset(&xm, 0, sizeof xm);
            xl.path = plain2; xl.t = t;
            xm.path = again; xm.t = t; xm.n = n; xm.o = &o;
            if (best_pair(op_plain_write_layout, &xl, op_mcf_save, &xm, cfg.runs, 0, &tl, &tm2, &cl, &cm2) == 0) {
                size_t k = strlen(f->detail);
                f->ratio_layout = cfg.cpu_clock ? cl / cm2 : tl / tm2;
                bfmt(f->detail + k, sizeof f->detail - k, ". Same-layout baseline (write(2) of this file's %zu header bytes, the data from the caller's buffer, %zu trailer bytes; data at file offset %llu = %llu mod 64): %.3f s (CPU %.4f s) vs mcf_save %.3f s (CPU %.4f s) -> %.2fx by %s",
                     xl.pre_len, xl.post_len, (unsigned long long)xl.data_off, (unsigned long long)(xl.data_off % 64), tl, cl, tm2, cm2,
                     f->ratio_layout, cfg.cpu_clock ? "CPU time" : "wall clock");
                printf("%-26s       %s\n", "", f->detail + k + 2);
            }
            layout_free(&xl);
        }
    }
    return to;
}

/* Load figures (view, and read when with_read) in each cache state; returns
 * the warm mcf_view seconds, or -1. */
static double load_figures(const fmt_info *fi, const char *suffix, const char *file, uint64_t bytes, int with_read,
                           double *cpu_out)
{
    double warm_view = -1;
    char name[64], title[96], what[768], hb[32];
    op xb, xo;
    double tb, to, cb, co;
    int pass;
    for (pass = 0; pass < 2; pass++) {
        int cold = pass == 1, kind;
        int runs_here = cold && !cfg.smoke && cfg.runs < 5 ? 5 : cfg.runs;   /* disk I/O is noisier */
        const char *cache = cold ? "cold" : "warm";
        if ((cold && !cfg.cold) || (!cold && !cfg.warm)) continue;
        for (kind = 0; kind < (with_read ? 3 : 1); kind++) {
            static const char *const kname[3] = {"view", "read", "pread"};
            static const char *const ktitle[3] = {"open+mcf_view+touch every page", "open+mcf_read into caller buffer",
                                                  "open(MCF_NO_MMAP)+mcf_read into caller buffer"};
            static const op_fn kfn[3] = {op_mcf_view, op_mcf_read, op_mcf_read};
            mcf_options nomap;
            memset(&nomap, 0, sizeof nomap);
            nomap.flags = MCF_NO_MMAP;
            bfmt(name, sizeof name, "%s_load_%s%s%s", fi->tag, kname[kind], suffix, cold ? "_cold" : "");
            bfmt(title, sizeof title, "%s load: %s vs read(2)", fi->label, ktitle[kind]);
            if (cold && !can_drop_caches()) { fig_skip(name, title, cache, "cannot write /proc/sys/vm/drop_caches (not root)"); continue; }
            memset(&xb, 0, sizeof xb); memset(&xo, 0, sizeof xo);
            xb.path = xo.path = file;
            if (kind == 2) xo.o = &nomap;
            if (best_pair(op_plain_read, &xb, kfn[kind], &xo, runs_here, cold, &tb, &to, &cb, &co) != 0) {
                if (xo.rc) fig_skip_rc(name, title, cache, kind ? "mcf_open/mcf_read" : "mcf_open/mcf_view", xo.rc);
                else fig_skip(name, title, cache, "baseline read(2) or drop_caches failed");
                continue;
            }
            bfmt(what, sizeof what, "%s: %s %.3f s (%.2f GB/s), read(2) into a pre-faulted buffer %.3f s (%.2f GB/s); best of %d, page cache %s",
                     human(bytes, hb, sizeof hb), kind ? "mcf_read" : "mcf_view", to, gbps(bytes, to), tb, gbps(bytes, tb), runs_here,
                     cold ? "dropped before every run (echo 1 > /proc/sys/vm/drop_caches)" : "warm");
            fig_speed(name, title, cache, to, tb, cold ? -1 : co, cold ? -1 : cb, 0.8, what);   /* cold: I/O wait counts */
            if (with_read && kind != 0) {
                /* second baseline: pread(2) of just this file's tensor bytes, at the offset the format gives them */
                op xl, xm;
                double tl, tm2, cl, cm2;
                bench_fig *f = &figs[nfigs - 1];
                if (layout_of(file, &xl) == 0) {
                    memset(&xm, 0, sizeof xm);
                    xl.path = xm.path = file;
                    if (kind == 2) xm.o = &nomap;
                    if (best_pair(op_plain_pread_layout, &xl, kfn[kind], &xm, runs_here, cold, &tl, &tm2, &cl, &cm2) == 0) {
                        size_t k = strlen(f->detail);
                        int use_cpu = cfg.cpu_clock && !cold;
                        f->ratio_layout = use_cpu ? cl / cm2 : tl / tm2;
                        bfmt(f->detail + k, sizeof f->detail - k, ". Same-layout baseline (pread(2) of the %llu tensor bytes at file offset %llu = %llu mod 64): %.3f s (CPU %.4f s) vs mcf %.3f s (CPU %.4f s) -> %.2fx by %s",
                             (unsigned long long)xl.bytes, (unsigned long long)xl.data_off, (unsigned long long)(xl.data_off % 64), tl, cl,
                             tm2, cm2, f->ratio_layout, use_cpu ? "CPU time" : "wall clock");
                        printf("%-26s       %s\n", "", f->detail + k + 2);
                    }
                    layout_free(&xl);
                }
            }
            if (!cold && !kind) { warm_view = to; if (cpu_out) *cpu_out = co; }
        }
    }
    return warm_view;
}

/* open-only time of a ~1 KiB file vs the big one: must not grow with size.
 * A third file of 1/16 the size shows whether any difference grows. */
static void open_flat_figure(const fmt_info *fi, const char *big)
{
    char name[48], title[96], tiny[4096], mid[4096], what[768], hb[32];
    mcf_options o;
    mcf_tensor tm;
    op xs, xl, xm;
    double ts = INFINITY, tl = INFINITY, tmid = INFINITY;
    int i, iters = cfg.smoke ? 20 : 300, rc;
    bench_fig *f;
    bfmt(name, sizeof name, "%s_open_flat", fi->tag);
    bfmt(title, sizeof title, "%s mcf_open time, big file / ~1 KiB file", fi->label);
    memset(&o, 0, sizeof o);
    o.format = fi->format;
    bfmt(what, sizeof what, "tiny%s", fi->ext);
    path_of(tiny, sizeof tiny, what);
    bfmt(what, sizeof what, "mid%s", fi->ext);
    path_of(mid, sizeof mid, what);
    if ((rc = mcf_save(tiny, &D.tiny, 1, &o)) != MCF_OK) { fig_skip_rc(name, title, "warm", "mcf_save (tiny)", rc); return; }
    shape_one(&tm, "weight", D.payload, D.size / 16);
    if ((rc = mcf_save(mid, &tm, 1, &o)) != MCF_OK) { fig_skip_rc(name, title, "warm", "mcf_save (1/16 size)", rc); (void)unlink(tiny); return; }
    if (access(big, R_OK) != 0) { fig_skip(name, title, "warm", "the big file was not written"); (void)unlink(tiny); (void)unlink(mid); return; }
    memset(&xs, 0, sizeof xs); memset(&xl, 0, sizeof xl); memset(&xm, 0, sizeof xm);
    xs.path = tiny; xl.path = big; xm.path = mid;
    for (i = 0; i < iters; i++) {
        double a = op_mcf_open_only(&xs), b = op_mcf_open_only(&xl), c = op_mcf_open_only(&xm);
        if (a < 0 || b < 0 || c < 0) {
            fig_skip_rc(name, title, "warm", "mcf_open", xs.rc ? xs.rc : xl.rc ? xl.rc : xm.rc);
            (void)unlink(tiny); (void)unlink(mid);
            return;
        }
        if (a < ts) ts = a;
        if (b < tl) tl = b;
        if (c < tmid) tmid = c;
    }
    f = fig_new(name, title, "warm");
    f->ratio = tl / ts;
    f->goal = 1.5;
    f->lower_better = 1;
    f->status = f->ratio <= f->goal ? FIG_MET : FIG_NOT_MET;
    bfmt(f->detail, sizeof f->detail, "mcf_open (close not timed) of a %llu-byte file %.1f us, of a %s file %.1f us, of a %s file %.1f us (big / 1/16-size = %.2f); best of %d rotating opens, warm page cache, wall clock; flat = ratio <= 1.5",
         (unsigned long long)file_size_of(tiny), ts * 1e6, human(file_size_of(mid), what, sizeof what), tmid * 1e6,
         human(file_size_of(big), hb, sizeof hb), tl * 1e6, tl / tmid, iters);
    print_fig(f);
    (void)unlink(tiny);
    (void)unlink(mid);
}

/* ---- figure 4: peak memory in a fresh process ---------------------------------------------- */
static long status_kb(const char *key)
{
    char line[256];
    size_t kl = strlen(key);
    long v = -1;
    FILE *f = fopen("/proc/self/status", "r");
    if (!f) return -1;
    while (fgets(line, sizeof line, f))
        if (strncmp(line, key, kl) == 0 && line[kl] == ':') { v = strtol(line + kl + 1, NULL, 10); break; }
    fclose(f);
    return v;
}

static void reset_hwm(void)
{
    FILE *f = fopen("/proc/self/clear_refs", "w");
    if (f) { (void)fputs("5\n", f); (void)fclose(f); }
}

/* ---- model seeding: peak memory and throughput ------------------------------------- */
/* A store that counts what it is given and keeps nothing. */
static int count_put(void *u, const char *key, const void *obj, size_t len)
{
    uint64_t *n = (uint64_t *)u;
    (void)key;
    touch(obj, len);
    n[0] += len;
    n[1]++;
    return MCF_OK;
}
static int count_get(void *u, const char *key, void **obj, size_t *len)
{
    (void)u; (void)obj; (void)len;
    return mcf_set_error(MCF_OBJECT_NOT_FOUND, "counting store: no key \"%s\"", key);
}
static void count_release(void *u, void *obj) { (void)u; (void)obj; }

/* Child side: mcf_seed_model of the checkpoint directory dir into the
 * counting store; prints the rss line plus the bytes and seconds. */
static int seed_child(const char *dir, uint64_t size)
{
    uint64_t counted[2] = {0, 0};
    mcf_store s;
    long base, hwm;
    double t0, t1;
    int rc;
    (void)size;
    memset(&s, 0, sizeof s);
    s.user = counted;
    s.put = count_put;
    s.get = count_get;
    s.release = count_release;
    reset_hwm();
    base = status_kb("VmRSS");
    t0 = now();
    rc = mcf_seed_model(&s, dir, "bench", 0, NULL);
    t1 = now();
    hwm = status_kb("VmHWM");
    printf("rss base=%ld hwm=%ld held=0 overhead=0 rc=%d bytes=%llu keys=%llu secs=%.6f\n", base, hwm, rc,
           (unsigned long long)counted[0], (unsigned long long)counted[1], t1 - t0);
    if (rc != MCF_OK) printf("error %s\n", mcf_last_error());
    return 0;
}

/* Child side: one case, prints "rss base=KB hwm=KB held=BYTES overhead=BYTES rc=N". */
static int rss_child(const char *kase, const char *file, uint64_t size)
{
    long base, hwm;
    uint64_t held = 0, overhead = 0;
    int rc = MCF_OK;
    int is_save = strstr(kase, "save") != NULL, is_pt = strncmp(kase, "pt", 2) == 0;
    mcf_options o;
    memset(&o, 0, sizeof o);
    o.format = is_pt ? "torch" : "safetensors";
    if (strcmp(kase, "seed") == 0) return seed_child(file, size);
    if (is_save) {
        mcf_tensor t;
        unsigned char *p = (unsigned char *)xalloc((size_t)size);
        fill(p, (size_t)size, 1);
        shape_one(&t, "weight", p, size);
        reset_hwm();
        base = status_kb("VmRSS");
        rc = mcf_save(file, &t, 1, &o);
        hwm = status_kb("VmHWM");
        if (rc == MCF_OK) overhead = file_size_of(file) - size;
        (void)unlink(file);
        free(p);
    } else if (strstr(kase, "view")) {
        mcf_reader *r = NULL;
        size_t i;
        reset_hwm();
        base = status_kb("VmRSS");
        if ((rc = mcf_open(file, &o, &r)) == MCF_OK) {
            for (i = 0; i < mcf_count(r) && rc == MCF_OK; i++) {
                const void *v;
                uint64_t nb = 0;
                if ((rc = mcf_view(r, i, &v)) == MCF_OK && (rc = mcf_entry_location(r, i, NULL, &nb)) == MCF_OK) {
                    touch(v, (size_t)nb);
                    held += nb;     /* the view's pages are the caller's tensor */
                }
            }
        }
        hwm = status_kb("VmHWM");
        overhead = file_size_of(file) - held;
        mcf_close(r);
    } else {
        mcf_reader *r = NULL;
        unsigned char *dst = NULL;
        uint64_t nb = 0;
        o.flags = MCF_NO_MMAP;
        if ((rc = mcf_open(file, &o, &r)) == MCF_OK && (rc = mcf_entry_location(r, 0, NULL, &nb)) == MCF_OK) {
            dst = (unsigned char *)xalloc((size_t)nb);
            memset(dst, 0, (size_t)nb);         /* the caller holds this before the load */
            mcf_close(r);
            r = NULL;
            reset_hwm();
            base = status_kb("VmRSS");
            if ((rc = mcf_open(file, &o, &r)) == MCF_OK) rc = mcf_read(r, 0, dst, (size_t)nb);
            hwm = status_kb("VmHWM");
            overhead = file_size_of(file) - nb;
            mcf_close(r);
        } else {
            base = hwm = 0;
        }
        free(dst);
    }
    printf("rss base=%ld hwm=%ld held=%llu overhead=%llu rc=%d\n", base, hwm, (unsigned long long)held,
           (unsigned long long)overhead, rc);
    if (rc != MCF_OK) printf("error %s\n", mcf_last_error());
    return 0;
}

/* Runs argv, captures stdout into out (NUL-terminated); returns exit status or -1. */
static int run_capture(char *const argv[], char *out, size_t cap)
{
    int fds[2], status = 0;
    size_t n = 0;
    pid_t pid;
    if (pipe(fds) != 0) return -1;
    pid = fork();
    if (pid < 0) { close(fds[0]); close(fds[1]); return -1; }
    if (pid == 0) {
        (void)dup2(fds[1], 1);
        close(fds[0]); close(fds[1]);
        execv(argv[0], argv);
        fprintf(stderr, "bench: cannot run %s: %s\n", argv[0], strerror(errno));
        _exit(127);
    }
    close(fds[1]);
    for (;;) {
        ssize_t k = read(fds[0], out + n, cap - 1 - n);
        if (k < 0 && errno == EINTR) continue;
        if (k <= 0) break;
        n += (size_t)k;
        if (n == cap - 1) {     /* drain the rest */
            char junk[4096];
            while (read(fds[0], junk, sizeof junk) > 0) { }
            break;
        }
    }
    out[n] = '\0';
    close(fds[0]);
    while (waitpid(pid, &status, 0) < 0 && errno == EINTR) { }
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

static void rss_figure(const fmt_info *fi, const char *kase, const char *title, const char *file)
{
    char name[48], sz[32], out[8192], what[768], hb[32], hx[32];
    char *argv[8];
    long base = 0, hwm = 0;
    unsigned long long held = 0, overhead = 0;
    int rc = 0, st;
    double extra, bound;
    bench_fig *f;
    bfmt(name, sizeof name, "rss_%s_%s", fi->tag, kase);
    bfmt(sz, sizeof sz, "%llu", (unsigned long long)cfg.size);
    argv[0] = cfg.self; argv[1] = (char *)"--rss-child"; argv[2] = name + 4; argv[3] = (char *)file;
    argv[4] = sz; argv[5] = NULL;
    st = run_capture(argv, out, sizeof out);
    if (st != 0 || sscanf(out, "rss base=%ld hwm=%ld held=%llu overhead=%llu rc=%d", &base, &hwm, &held, &overhead, &rc) != 5) {
        bfmt(what, sizeof what, "child exited %d, printed \"%.200s\"", st, out);
        fig_skip(name, title, "-", what);
        return;
    }
    if (rc != MCF_OK) {
        char *e = strstr(out, "error ");
        bfmt(what, sizeof what, "%s: %s", mcf_result_name(rc), e ? e + 6 : "");
        if (strchr(what, '\n')) *strchr(what, '\n') = '\0';
        fig_skip(name, title, "-", what);
        return;
    }
    if (base <= 0 || hwm <= 0) { fig_skip(name, title, "-", "no VmRSS/VmHWM in /proc/self/status"); return; }
    extra = (double)hwm * 1024.0 - (double)base * 1024.0 - (double)held;
    if (extra < 0) extra = 0;
    bound = 16.0 * 1048576.0 + 4.0 * (double)overhead;
    f = fig_new(name, title, "-");
    f->ratio = extra / (double)cfg.size;
    f->goal = bound / (double)cfg.size;
    f->lower_better = 1;
    f->status = extra <= bound ? FIG_MET : FIG_NOT_MET;
    bfmt(f->detail, sizeof f->detail, "fresh process: VmRSS before %ld KiB, VmHWM after %ld KiB, tensor bytes the caller holds %s -> extra %s for a %s tensor (bound 16 MiB + 4 x header %llu B); ratio = extra / tensor bytes",
             base, hwm, human(held, hb, sizeof hb), human((uint64_t)extra, hx, sizeof hx), human(cfg.size, sz, sizeof sz), overhead);
    print_fig(f);
}

/* ---- PyTorch reference -------------------------------------------------------------------------- */
static double kv_num(const char *out, const char *key)
{
    const char *p = out;
    size_t k = strlen(key);
    while ((p = strstr(p, key)) != NULL) {
        if ((p == out || p[-1] == '\n') && p[k] == ' ') return strtod(p + k + 1, NULL);
        p += k;
    }
    return -1;
}

static void python_figures(double mcf_save_s, double mcf_load_s, double mcf_save_cpu, double mcf_load_cpu, const char *mcf_pt)
{
    static char out[16384];
    char payload[4096], rows[32], cols[32], runs[32], what[768], hb[32], ver[48], mm[64];
    char *argv[12];
    double ps, pl, plm, eq, psc, plc;
    int st, have_mcf = mcf_save_s > 0 && mcf_load_s > 0;
    const char *t1 = "torch save: torch.save / mcf_save time", *t2 = "torch load: torch.load / mcf_view load time";
    if (!cfg.python) {
        fig_skip("pt_save_vs_pytorch", t1, "warm", "--no-python");
        fig_skip("pt_load_vs_pytorch", t2, "warm", "--no-python");
        return;
    }
    if (access(cfg.python_exe, X_OK) != 0 || access(cfg.py_script, R_OK) != 0) {
        bfmt(what, sizeof what, "%s or %s not found", cfg.python_exe, cfg.py_script);
        fig_skip("pt_save_vs_pytorch", t1, "warm", what);
        fig_skip("pt_load_vs_pytorch", t2, "warm", what);
        return;
    }
    path_of(payload, sizeof payload, "payload.bin");
    if (plain_write(payload, &D.one, 1) != 0) { fig_skip("pt_save_vs_pytorch", t1, "warm", "cannot write payload"); fig_skip("pt_load_vs_pytorch", t2, "warm", "cannot write payload"); return; }
    bfmt(rows, sizeof rows, "%lld", (long long)D.one.shape[0]);
    bfmt(cols, sizeof cols, "%lld", (long long)D.one.shape[1]);
    bfmt(runs, sizeof runs, "%d", cfg.runs);
    argv[0] = (char *)cfg.python_exe; argv[1] = (char *)cfg.py_script; argv[2] = payload; argv[3] = rows; argv[4] = cols;
    argv[5] = cfg.dir; argv[6] = runs; argv[7] = (char *)(mcf_pt && access(mcf_pt, R_OK) == 0 ? mcf_pt : "-"); argv[8] = NULL;
    st = run_capture(argv, out, sizeof out);
    (void)unlink(payload);
    if (strstr(out, "skip ")) {
        char *s = strstr(out, "skip ") + 5;
        if (strchr(s, '\n')) *strchr(s, '\n') = '\0';
        fig_skip("pt_save_vs_pytorch", t1, "warm", s);
        fig_skip("pt_load_vs_pytorch", t2, "warm", s);
        return;
    }
    ps = kv_num(out, "save_best"); pl = kv_num(out, "load_best");
    psc = kv_num(out, "save_best_cpu"); plc = kv_num(out, "load_best_cpu"); plm = kv_num(out, "load_mmap_best"); eq = kv_num(out, "mcf_pt_equal");
    if (st != 0 || ps <= 0 || pl <= 0) {
        bfmt(what, sizeof what, "python exited %d: %.300s", st, out);
        fig_skip("pt_save_vs_pytorch", t1, "warm", what);
        fig_skip("pt_load_vs_pytorch", t2, "warm", what);
        return;
    }
    if (!have_mcf) {
        bfmt(what, sizeof what, "mcf torch save/load did not run (see pt_save_one); torch.save %.3f s (%.2f GB/s), torch.load %.3f s (%.2f GB/s)",
                 ps, gbps(cfg.size, ps), pl, gbps(cfg.size, pl));
        fig_skip("pt_save_vs_pytorch", t1, "warm", what);
        fig_skip("pt_load_vs_pytorch", t2, "warm", what);
        return;
    }
    {
        const char *v = strstr(out, "torch_version ");
        size_t vl = v ? strcspn(v + 14, "\n") : 0;
        bfmt(ver, sizeof ver, "%.*s", (int)(vl < 40 ? vl : 40), v ? v + 14 : "?");
    }
    bfmt(what, sizeof what, "%s dict {\"weight\": F32}: torch.save %.3f s (%.2f GB/s) vs mcf_save %.3f s (%.2f GB/s); best of %d; torch %s in %s; torch.load(weights_only=True) of the mcf file: %s",
             human(cfg.size, hb, sizeof hb), ps, gbps(cfg.size, ps), mcf_save_s, gbps(cfg.size, mcf_save_s), cfg.runs,
             ver, cfg.python_exe, eq == 1 ? "equal tensor" : eq == 0 ? "DIFFERENT tensor" : "not loadable");
    fig_speed("pt_save_vs_pytorch", t1, "warm", mcf_save_s, ps, mcf_save_cpu, psc, -1, what);
    if (plm > 0) bfmt(mm, sizeof mm, "%.3f s", plm); else bfmt(mm, sizeof mm, "n/a (torch < 2.1)");
    bfmt(what, sizeof what, "torch.load(weights_only=True)+touch %.3f s (%.2f GB/s), torch.load(mmap=True)+touch %s, vs mcf_open+mcf_view+touch %.3f s (%.2f GB/s); best of %d, warm",
             pl, gbps(cfg.size, pl), mm, mcf_load_s, gbps(cfg.size, mcf_load_s), cfg.runs);
    fig_speed("pt_load_vs_pytorch", t2, "warm", mcf_load_s, pl, mcf_load_cpu, plc, -1, what);
}

/* Runs the whole format group: saves, loads, open flatness, memory. */
static void bench_format(const fmt_info *fi)
{
    char one[4096], many[4096], title[96], fn[64];
    double best_save, best_view = -1, save_cpu = -1, view_cpu = -1;
    bfmt(fn, sizeof fn, "one%s", fi->ext);
    path_of(one, sizeof one, fn);
    bfmt(title, sizeof title, "%s save, 1 tensor, vs write(2)", fi->label);
    best_save = save_figure(fi, "one", title, &D.one, 1, D.size, fn, &save_cpu);
    if (strcmp(fi->tag, "st") == 0) {
        bfmt(fn, sizeof fn, "many%s", fi->ext);
        path_of(many, sizeof many, fn);
        bfmt(title, sizeof title, "%s save, 1000 tensors, vs write(2)", fi->label);
        (void)save_figure(fi, "many", title, D.many, D.nmany, D.many_bytes, fn, NULL);
    }
    if (access(one, R_OK) == 0) {
        best_view = load_figures(fi, "", one, D.size, 1, &view_cpu);
    } else {
        bfmt(title, sizeof title, "%s load vs read(2)", fi->label);
        bfmt(fn, sizeof fn, "%s_load_view", fi->tag);
        fig_skip(fn, title, "warm", "no file was saved (see the save figure)");
        bfmt(fn, sizeof fn, "%s_load_read", fi->tag);
        fig_skip(fn, title, "warm", "no file was saved (see the save figure)");
        bfmt(fn, sizeof fn, "%s_load_pread", fi->tag);
        fig_skip(fn, title, "warm", "no file was saved (see the save figure)");
    }
    if (strcmp(fi->tag, "st") == 0) {
        if (access(many, R_OK) == 0) (void)load_figures(fi, "_many", many, D.many_bytes, 0, NULL);
        else fig_skip("st_load_view_many", "safetensors load of 1000 tensors vs read(2)", "warm", "no file was saved (see st_save_many)");
        (void)unlink(many);
    }
    open_flat_figure(fi, one);
    if (want("rss")) {
        char rfile[4096];
        bfmt(fn, sizeof fn, "rss%s", fi->ext);
        path_of(rfile, sizeof rfile, fn);
        bfmt(title, sizeof title, "%s save: peak extra memory", fi->label);
        rss_figure(fi, "save", title, rfile);
        bfmt(title, sizeof title, "%s load (mcf_view): peak extra memory", fi->label);
        if (access(one, R_OK) == 0) rss_figure(fi, "view", title, one);
        else { bfmt(fn, sizeof fn, "rss_%s_view", fi->tag); fig_skip(fn, title, "-", "no file was saved"); }
        bfmt(title, sizeof title, "%s load (mcf_read): peak extra memory", fi->label);
        if (access(one, R_OK) == 0) rss_figure(fi, "read", title, one);
        else { bfmt(fn, sizeof fn, "rss_%s_read", fi->tag); fig_skip(fn, title, "-", "no file was saved"); }
    }
    if (strcmp(fi->tag, "pt") == 0) python_figures(best_save, best_view, save_cpu, view_cpu, one);
    (void)unlink(one);
}

/* ---- figure 5: memory filesystem and store layer --------------------------------------------------- */
static void kv_tensor(mcf_tensor *t, const void *data, uint64_t bytes)
{
    memset(t, 0, sizeof *t);
    t->name = "kv";
    t->dtype = MCF_BF16;
    t->ndim = 3;
    t->shape[0] = 2;
    t->shape[1] = (int64_t)(bytes / (2 * 2 * 128));
    t->shape[2] = 128;
    t->data = data;
}

/* Baselines of figure 5: memcpy of n bytes into a warm (pre-faulted) buffer,
 * and into fresh memory (malloc + memcpy + touch + free), best of runs. */
static void best_memcpy(unsigned char *dst, const unsigned char *src, size_t n, int runs, tpair *warm, tpair *fresh)
{
    int i;
    *warm = tp_inf();
    *fresh = tp_inf();
    for (i = 0; i < runs; i++) {
        tpair t0 = tp_now();
        unsigned char *f;
        memcpy(dst, src, n);
        touch(dst, n);
        (void)tp_min_since(t0, warm);
        t0 = tp_now();
        f = (unsigned char *)malloc(n);
        if (!f) break;
        memcpy(f, src, n);
        touch(f, n);
        free(f);
        (void)tp_min_since(t0, fresh);
    }
}

static void bench_mem(void)
{
    uint64_t kvb = (cfg.size / 16) & ~(uint64_t)511;
    mcf_tensor kv;
    tpair tm, tf, best = tp_inf(), bestb = tp_inf();
    int i, rc = MCF_OK;
    char what[768], hb[32];
    const char *url = "memory://bench/kv.safetensors", *burl = "memory://bench/kv.bin";
    const char *t1 = "memory:// mcf_save+mcf_open+mcf_view of a KV block vs memcpy to fresh memory";
    const char *t2 = "memory:// mcf_write_bytes+mcf_read_bytes vs memcpy to fresh memory";
    kv_tensor(&kv, D.payload, kvb);
    best_memcpy(D.rbuf, D.payload, (size_t)kvb, cfg.runs, &tm, &tf);
    for (i = 0; i < cfg.runs && rc == MCF_OK; i++) {
        mcf_reader *r = NULL;
        const void *p;
        tpair t0 = tp_now();
        if ((rc = mcf_save(url, &kv, 1, NULL)) != MCF_OK) break;
        if ((rc = mcf_open(url, NULL, &r)) != MCF_OK) break;
        if ((rc = mcf_view(r, 0, &p)) != MCF_OK) { mcf_close(r); break; }
        touch(p, (size_t)kvb);
        mcf_close(r);
        (void)tp_min_since(t0, &best);
        (void)mcf_remove(url, NULL);
    }
    if (rc != MCF_OK) fig_skip_rc("memfs_roundtrip", t1, "-", "mcf_save/mcf_open/mcf_view", rc);
    else {
        bfmt(what, sizeof what, "BF16 [2,%lld,128] = %s: mcf_save+mcf_open+mcf_view+touch %.4f s (%.2f GB/s; one copy into a new object, the view is zero-copy) vs memcpy into fresh malloc %.4f s (%.2f GB/s), into a warm buffer %.4f s (%.2f GB/s); best of %d",
             (long long)kv.shape[1], human(kvb, hb, sizeof hb), best.w, gbps(kvb, best.w), tf.w, gbps(kvb, tf.w), tm.w, gbps(kvb, tm.w), cfg.runs);
        fig_speed("memfs_roundtrip", t1, "-", best.w, tf.w, best.c, tf.c, -1, what);
    }
    for (i = 0, rc = MCF_OK; i < cfg.runs && rc == MCF_OK; i++) {
        void *back = NULL;
        size_t len = 0;
        tpair t0 = tp_now();
        if ((rc = mcf_write_bytes(burl, D.payload, (size_t)kvb, NULL)) != MCF_OK) break;
        if ((rc = mcf_read_bytes(burl, &back, &len, NULL)) != MCF_OK) break;
        touch(back, len);
        mcf_free(back);
        (void)tp_min_since(t0, &bestb);
        (void)mcf_remove(burl, NULL);
    }
    if (rc != MCF_OK) fig_skip_rc("memfs_bytes_roundtrip", t2, "-", "mcf_write_bytes/mcf_read_bytes", rc);
    else {
        bfmt(what, sizeof what, "%s: mcf_write_bytes+mcf_read_bytes+touch %.4f s (%.2f GB/s; two copies into new memory by contract) vs one memcpy into fresh malloc %.4f s, into a warm buffer %.4f s; best of %d",
             human(kvb, hb, sizeof hb), bestb.w, gbps(kvb, bestb.w), tf.w, tm.w, cfg.runs);
        fig_speed("memfs_bytes_roundtrip", t2, "-", bestb.w, tf.w, bestb.c, tf.c, -1, what);
    }
}

static void bench_store(void)
{
    uint64_t kvb = (cfg.size / 16) & ~(uint64_t)511;
    mcf_tensor kv;
    mcf_store *s;
    tpair tm, tf;
    int pass;
    char what[768], hb[32], file[4096];
    const char *title[2] = {"store: save_kv_cache_to_file+load_kv_cache_from_file (local file) vs memcpy to fresh memory",
                            "store: save_kv_cache_to_file+load_kv_cache_from_file (memory://) vs memcpy to fresh memory"};
    const char *name[2] = {"store_roundtrip_file", "store_roundtrip_memfs"};
    kv_tensor(&kv, D.payload, kvb);
    best_memcpy(D.rbuf, D.payload, (size_t)kvb, cfg.runs, &tm, &tf);
    for (pass = 0; pass < 2; pass++) {
        tpair best = tp_inf();
        int i, rc;
        const char *call = "mcf_store_put_tensor";
        if (pass == 0) path_of(file, sizeof file, "kv_block.pt");
        else bfmt(file, sizeof file, "memory://bench/kv_block.pt");
        s = mcf_memory_store_create();
        if (!s) { fig_skip(name[pass], title[pass], pass ? "-" : "warm", "mcf_memory_store_create returned NULL"); continue; }
        rc = mcf_store_put_tensor(s, "kv", &kv);
        for (i = 0; i < cfg.runs && rc == MCF_OK; i++) {
            mcf_tensor out;
            tpair t0 = tp_now();
            memset(&out, 0, sizeof out);
            call = "mcf_save_kv_cache_to_file";
            if ((rc = mcf_save_kv_cache_to_file(s, "kv", file, NULL)) != MCF_OK) break;
            call = "mcf_load_kv_cache_from_file";
            if ((rc = mcf_load_kv_cache_from_file(s, "kv_loaded", file, NULL, &out)) != MCF_OK) break;
            touch(out.data, (size_t)mcf_tensor_nbytes(&out));
            mcf_tensor_free(&out, NULL);
            (void)tp_min_since(t0, &best);
            (void)mcf_remove(file, NULL);
            if (s->remove) (void)s->remove(s->user, "kv_loaded");
        }
        mcf_memory_store_destroy(s);
        if (mcf_exists(file, NULL) == 1) (void)mcf_remove(file, NULL);
        if (rc != MCF_OK) { fig_skip_rc(name[pass], title[pass], pass ? "-" : "warm", call, rc); continue; }
        bfmt(what, sizeof what, "BF16 [2,%lld,128] = %s via %s: save_kv_cache_to_file+load_kv_cache_from_file+touch %.4f s (%.2f GB/s) vs memcpy into fresh malloc %.4f s (%.2f GB/s), into a warm buffer %.4f s; best of %d",
             (long long)kv.shape[1], human(kvb, hb, sizeof hb), pass ? "memory://" : cfg.dir, best.w, gbps(kvb, best.w), tf.w, gbps(kvb, tf.w), tm.w, cfg.runs);
        fig_speed(name[pass], title[pass], pass ? "-" : "warm", best.w, tf.w, best.c, tf.c, -1, what);
    }
}

/* Peak extra memory and throughput of mcf_seed_model on a 4-shard checkpoint
 * of --size bytes (32 tensors), in a fresh process, into a store that keeps
 * nothing: the bound is one tensor + 16 MiB, never a shard. */
static void bench_seed(void)
{
    const char *title = "seed: mcf_seed_model of a 4-shard checkpoint, peak extra memory";
    uint64_t tb = cfg.size / 32;
    unsigned long long keys = 0, bytes = 0;
    char dir[4096], path[4200], sz[32], out[8192], what[1024], hb[32], hx[32], ht[32];
    char *argv[6];
    long base = 0, hwm = 0;
    double secs = 0, extra, bound;
    int k, j, rc = MCF_OK, st;
    bench_fig *f;
    path_of(dir, sizeof dir, "seedck");
    if (mkdir(dir, 0755) != 0) { fig_skip("rss_seed", title, "-", "cannot make the checkpoint directory"); return; }
    for (k = 0; k < 4 && rc == MCF_OK; k++) {
        mcf_tensor t[8];
        char names[8][32];
        for (j = 0; j < 8; j++) {
            bfmt(names[j], sizeof names[j], "layers.%d.w%d", k, j);
            memset(&t[j], 0, sizeof t[j]);
            t[j].name = names[j];
            t[j].dtype = MCF_U8;
            t[j].ndim = 1;
            t[j].shape[0] = (int64_t)tb;
            t[j].data = D.payload + (size_t)(k * 8 + j) * (size_t)tb;
        }
        bfmt(path, sizeof path, "%s/model-%05d-of-00004.safetensors", dir, k + 1);
        rc = mcf_save(path, t, 8, NULL);
    }
    if (rc != MCF_OK) {
        bfmt(what, sizeof what, "cannot write the checkpoint: %s", mcf_last_error());
        fig_skip("rss_seed", title, "-", what);
    } else {
        bfmt(sz, sizeof sz, "%llu", (unsigned long long)cfg.size);
        argv[0] = cfg.self; argv[1] = (char *)"--rss-child"; argv[2] = (char *)"seed"; argv[3] = dir; argv[4] = sz; argv[5] = NULL;
        st = run_capture(argv, out, sizeof out);
        if (st != 0 || sscanf(out, "rss base=%ld hwm=%ld held=0 overhead=0 rc=%d bytes=%llu keys=%llu secs=%lf", &base, &hwm, &rc,
                              &bytes, &keys, &secs) != 6) {
            bfmt(what, sizeof what, "child exited %d, printed \"%.200s\"", st, out);
            fig_skip("rss_seed", title, "-", what);
        } else if (rc != MCF_OK || bytes != cfg.size || keys != 32) {
            bfmt(what, sizeof what, "%s (%llu bytes, %llu keys): %.300s", mcf_result_name(rc), bytes, keys, out);
            fig_skip("rss_seed", title, "-", what);
        } else if (base <= 0 || hwm <= 0) {
            fig_skip("rss_seed", title, "-", "no VmRSS/VmHWM in /proc/self/status");
        } else {
            extra = (double)hwm * 1024.0 - (double)base * 1024.0;
            if (extra < 0) extra = 0;
            bound = (double)tb + 16.0 * 1048576.0;
            f = fig_new("rss_seed", title, "warm");
            f->ratio = extra / (double)cfg.size;
            f->goal = bound / (double)cfg.size;
            f->lower_better = 1;
            f->status = extra <= bound ? FIG_MET : FIG_NOT_MET;
            bfmt(f->detail, sizeof f->detail, "fresh process, store that keeps nothing: %s checkpoint in 4 shards of 8 tensors of %s; VmRSS before %ld KiB, VmHWM after %ld KiB -> extra %s (bound: one tensor + 16 MiB); %.0f MB/s (%llu keys in %.3f s, warm page cache); ratio = extra / checkpoint bytes",
                 human(cfg.size, hb, sizeof hb), human(tb, ht, sizeof ht), base, hwm, human((uint64_t)extra, hx, sizeof hx),
                 secs > 0 ? (double)bytes / secs / 1e6 : 0.0, keys, secs);
            print_fig(f);
        }
    }
    for (k = 0; k < 4; k++) {
        bfmt(path, sizeof path, "%s/model-%05d-of-00004.safetensors", dir, k + 1);
        (void)unlink(path);
    }
    (void)rmdir(dir);
}

/* ---- figure 6: dtype conversion on read ----------------------------------------------------------- */
/* mcf_read_as of a BF16 tensor to F32 (256 MiB of BF16 by default, half the
 * --size when smaller) from an open reader over memory, vs memcpy of the
 * output bytes (twice the input) into the same pre-faulted buffer: the
 * conversion must run at >= 0.5x the speed of just writing its result. The
 * detail gives each code path's speed through mcf_convert_variant. */
static void bench_convert(void)
{
    const char *title = "mcf_read_as BF16 -> F32 vs memcpy of the output bytes";
    uint64_t in_bytes = (uint64_t)256 << 20;
    size_t out_bytes, n;
    mcf_tensor t;
    mcf_options o;
    mcf_reader *r = NULL;
    void *file = NULL;
    size_t file_len = 0;
    tpair tm = tp_inf(), tc = tp_inf(), t0;
    char what[768], vars[300], hb[32], hb2[32];
    size_t vk = 0;
    int i, v, rc;
    if (in_bytes > cfg.size / 2) in_bytes = (cfg.size / 2) & ~(uint64_t)4095;
    out_bytes = (size_t)in_bytes * 2;
    n = (size_t)in_bytes / 2;
    memset(&t, 0, sizeof t);
    t.name = "w";
    t.dtype = MCF_BF16;
    t.ndim = 2;
    t.shape[0] = (int64_t)(n / 2048);
    t.shape[1] = 2048;
    t.data = D.payload;
    memset(&o, 0, sizeof o);
    o.format = "safetensors";
    if ((rc = mcf_save_to_memory(&t, 1, &o, &file, &file_len)) != MCF_OK) { fig_skip_rc("convert_bf16_f32", title, "-", "mcf_save_to_memory", rc); return; }
    if ((rc = mcf_open_memory(file, file_len, NULL, &r)) != MCF_OK) {
        mcf_free(file);
        fig_skip_rc("convert_bf16_f32", title, "-", "mcf_open_memory", rc);
        return;
    }
    for (i = 0; i < cfg.runs; i++) {
        t0 = tp_now();
        memcpy(D.rbuf, D.payload, out_bytes);
        (void)tp_min_since(t0, &tm);
        bench_sink += D.rbuf[out_bytes - 1];
        t0 = tp_now();
        rc = mcf_read_as(r, 0, MCF_F32, NULL, 0, D.rbuf, out_bytes);
        (void)tp_min_since(t0, &tc);
        if (rc != MCF_OK) break;
        bench_sink += D.rbuf[out_bytes - 1];
    }
    mcf_close(r);
    mcf_free(file);
    if (rc != MCF_OK) { fig_skip_rc("convert_bf16_f32", title, "-", "mcf_read_as", rc); return; }
    vars[0] = '\0';
    for (v = MCF_CONVERT_PORTABLE; v <= MCF_CONVERT_F16C; v++) {
        tpair tv = tp_inf();
        if (v == MCF_CONVERT_F16C) continue;    /* F16 only */
        for (i = 0; i < cfg.runs; i++) {
            t0 = tp_now();
            rc = mcf_convert_variant(v, MCF_BF16, MCF_F32, D.payload, D.rbuf, n);
            (void)tp_min_since(t0, &tv);
            if (rc != MCF_OK) break;
        }
        if (rc != MCF_OK) continue;
        vk += (size_t)bfmt(vars + vk, vk < sizeof vars ? sizeof vars - vk : 0, "%s%s %.2f GB/s", vk ? ", " : "",
                           mcf_convert_variant_name(v), gbps(out_bytes, cfg.cpu_clock ? tv.c : tv.w));
        if (vk >= sizeof vars) break;
    }
    bfmt(what, sizeof what, "%s BF16 -> %s F32: mcf_read_as %.4f s (%.2f GB/s of output), memcpy of %s %.4f s (%.2f GB/s), both into the same pre-faulted buffer; best of %d; mcf_convert_variant: %s",
         human(in_bytes, hb, sizeof hb), human(out_bytes, hb2, sizeof hb2), tc.w, gbps(out_bytes, tc.w), hb2, tm.w, gbps(out_bytes, tm.w),
         cfg.runs, vars);
    fig_speed("convert_bf16_f32", title, "-", tc.w, tm.w, tc.c, tm.c, 0.5, what);
}

/* Runnable tasks of other processes, averaged over ten samples 50 ms apart
 * (the fourth field of /proc/loadavg counts this process too). */
static double bench_others_runnable(void)
{
    double sum = 0;
    int i, n = 0;
    for (i = 0; i < 10; i++) {
        struct timespec ts;
        FILE *f = fopen("/proc/loadavg", "r");
        double a, b, c;
        int run = 0, all = 0;
        if (f && fscanf(f, "%lf %lf %lf %d/%d", &a, &b, &c, &run, &all) == 5) { sum += run > 0 ? run - 1 : 0; n++; }
        if (f) fclose(f);
        ts.tv_sec = 0;
        ts.tv_nsec = 50000000L;
        (void)nanosleep(&ts, NULL);
    }
    return n ? sum / n : 0;
}

/* A speed figure whose goal counts only on a quiet machine: need is the
 * CPUs the measured call keeps busy at once; with need > 1 every other
 * runnable task takes a share of them, so half a task already counts. */
static void fig_quiet(const char *name, const char *title, const char *cache, double ours, double base, double goal, double busy,
                      int need, const char *what)
{
    long ncpu = sysconf(_SC_NPROCESSORS_ONLN);
    char detail[1024];
    double cpus = (double)(ncpu > 0 ? ncpu : 1);
    int contended = busy >= (need > 1 ? cpus - need + 0.5 : 0.75 * cpus);
    if (contended)
        bfmt(detail, sizeof detail, "%s; CONTENDED: other processes kept %.1f tasks runnable on %ld CPUs, so the ratio (goal >= %.2fx) is not claimed",
             what, busy, ncpu, goal);
    else
        bfmt(detail, sizeof detail, "%s; quiet: other processes kept %.1f tasks runnable on %ld CPUs", what, busy, ncpu);
    fig_speed(name, title, cache, ours, base, 0, 0, contended ? -1 : goal, detail);
}

/* ---- figure 7: http and s3 with threads --------------------------------------------------------------- */
/* The test servers of tests/servers (nginx, s3rver) started on free
 * 127.0.0.1 ports through mcf-servers.sh, as the remote tests do. 1) one
 * read_at of the whole --size object from nginx with threads = 2 vs one
 * stream (threads = 1), and vs the curl tool fetching the same ranges with
 * --parallel; 2) an S3 multipart upload to s3rver with threads = 4 vs 1.
 * Transfers over loopback spend the server's CPU too, so these ratios are by
 * wall clock, and a figure is only informational when other processes kept
 * the CPUs busy (runnable tasks from /proc/loadavg, sampled before and after
 * the group). */
#ifdef MOONCAKE_FILEIO_CURL
#include "../tests/mcf_test_net.h"
#ifdef __linux__
#include <sys/prctl.h>
#endif

typedef struct bench_server {
    pid_t pid;
    int port;
    char dir[4200];
    char why[400];
} bench_server;

static void bench_server_stop(bench_server *s) { mcf_test_stop_server(&s->pid, s->dir); }

#define BENCH_S3_WORKERS "4"

/* kind "nginx" or "s3": 1 when it answers, else 0 with s->why. */
static int bench_server_start(bench_server *s, const char *kind)
{
    char port[16], log[4300];
    int i, st;
    memset(s, 0, sizeof *s);
    bfmt(s->dir, sizeof s->dir, "%s/%s", cfg.dir, kind);
    bfmt(log, sizeof log, "%s.log", s->dir);
    if ((s->port = mcf_test_free_port()) < 0) { bfmt(s->why, sizeof s->why, "no free port"); return 0; }
    bfmt(port, sizeof port, "%d", s->port);
    fflush(NULL);
    if ((s->pid = fork()) < 0) { s->pid = 0; bfmt(s->why, sizeof s->why, "fork failed"); return 0; }
    if (s->pid == 0) {
        int fd = open(log, O_WRONLY | O_CREAT | O_TRUNC, 0600);
#ifdef __linux__
        (void)prctl(PR_SET_PDEATHSIG, SIGTERM);   /* no orphan server if the bench dies */
#endif
        if (fd >= 0) { (void)dup2(fd, 1); (void)dup2(fd, 2); close(fd); }
        /* s3rver in BENCH_S3_WORKERS processes unless MCF_S3_WORKERS says
         * otherwise: one node process handles one part at a time on one core,
         * which no number of client connections can go faster than */
        if (strcmp(kind, "s3") == 0 && setenv("MCF_S3_WORKERS", BENCH_S3_WORKERS, 0) == 0)
            execl("/bin/sh", "sh", "tests/servers/mcf-servers.sh", "s3", s->dir, port, "mcf-bench-key", "mcf-bench-secret", "bench", (char *)NULL);
        else
            execl("/bin/sh", "sh", "tests/servers/mcf-servers.sh", "nginx", s->dir, port, (char *)NULL);
        _exit(127);
    }
    for (i = 0; i < 1200; i++) {   /* 60 s: the first s3rver start installs it */
        struct timespec ts;
        if (waitpid(s->pid, &st, WNOHANG) == s->pid) {
            FILE *f = fopen(log, "r");
            size_t n = 0;
            s->pid = 0;
            n = (size_t)bfmt(s->why, sizeof s->why, "%s launcher exited %d: ", kind, WIFEXITED(st) ? WEXITSTATUS(st) : -1);
            if (f && n < sizeof s->why) { n += fread(s->why + n, 1, sizeof s->why - n - 1, f); s->why[n] = '\0'; }
            if (f) fclose(f);
            while (n > 0 && s->why[n - 1] == '\n') s->why[--n] = '\0';
            (void)unlink(log);
            bench_server_stop(s);
            return 0;
        }
        if (mcf_test_port_open(s->port)) { (void)unlink(log); return 1; }
        ts.tv_sec = 0;
        ts.tv_nsec = 50000000L;
        (void)nanosleep(&ts, NULL);
    }
    bfmt(s->why, sizeof s->why, "%s did not answer within 60 s", kind);
    (void)unlink(log);
    bench_server_stop(s);
    return 0;
}

/* The remote figures: one CPU's worth of work at a time. */
static void fig_remote(const char *name, const char *title, double ours, double base, double goal, double busy, const char *what)
{
    fig_quiet(name, title, "warm", ours, base, goal, busy, 1, what);
}

static double bench_curl_parallel(const char *url, uint64_t size, uint64_t piece, unsigned threads, int *ok)
{
    char *argv[400], ranges[64][48], maxs[16];
    int argc = 0, st;
    uint64_t off;
    size_t k = 0;
    pid_t pid;
    double t0;
    argv[argc++] = (char *)"curl";
    argv[argc++] = (char *)"--silent";
    argv[argc++] = (char *)"--fail";
    argv[argc++] = (char *)"--parallel";
    argv[argc++] = (char *)"--parallel-max";
    bfmt(maxs, sizeof maxs, "%u", threads);
    argv[argc++] = maxs;
    for (off = 0; off < size && k < 64; off += piece, k++) {
        uint64_t end = off + piece < size ? off + piece : size;
        bfmt(ranges[k], sizeof ranges[k], "%llu-%llu", (unsigned long long)off, (unsigned long long)(end - 1));
        argv[argc++] = (char *)"-r";
        argv[argc++] = ranges[k];
        argv[argc++] = (char *)"-o";
        argv[argc++] = (char *)"/dev/null";
        argv[argc++] = (char *)url;
    }
    argv[argc] = NULL;
    *ok = 0;
    if (off < size) return -1;
    t0 = now();
    fflush(NULL);
    if ((pid = fork()) < 0) return -1;
    if (pid == 0) {
        int fd = open("/dev/null", O_WRONLY);   /* --parallel draws its meter even with --silent */
        if (fd >= 0) { (void)dup2(fd, 1); (void)dup2(fd, 2); close(fd); }
        execvp("curl", argv);
        _exit(127);
    }
    if (waitpid(pid, &st, 0) != pid || !WIFEXITED(st) || WEXITSTATUS(st) != 0) return -1;
    *ok = 1;
    return now() - t0;
}

/* One read_at of the whole object after a small (header) read, both on one
 * reader opened with threads; seconds, or < 0 (and *rc). */
static double bench_http_read(const char *url, unsigned threads, const char *part, int *rc)
{
    const char *so[] = { "part_size", part, NULL };
    mcf_filesystem fs;
    mcf_options o;
    mcf_url u;
    void *f = NULL;
    uint64_t size = 0;
    unsigned char head[16];
    double t0, t = -1;
    memset(&o, 0, sizeof o);
    o.storage_options = so;
    o.threads = threads;
    if ((*rc = mcf_filesystem_lookup("http", &fs)) != MCF_OK || (*rc = mcf_url_parse(url, NULL, &u)) != MCF_OK) return -1;
    if ((*rc = fs.open_read(fs.user, &u, &o, &f, &size)) == MCF_OK) {
        if ((*rc = fs.read_at(f, 0, head, sizeof head)) == MCF_OK) {
            t0 = now();
            if ((*rc = fs.read_at(f, 0, D.rbuf, (size_t)size)) == MCF_OK) t = now() - t0;
        }
        fs.close_read(f);
    }
    mcf_url_free(&u);
    if (t >= 0 && memcmp(D.rbuf, D.payload, (size_t)size) != 0) {
        *rc = MCF_FILE_READ_FAIL;
        (void)mcf_set_error(MCF_FILE_READ_FAIL, "bench: %s: the bytes read differ from the file", url);
        return -1;
    }
    return t;
}

static void bench_remote_http(void)
{
    const char *t1 = "http: read_at of the object, threads = 2 vs one stream (threads = 1), nginx on 127.0.0.1";
    const char *t2 = "http: read_at of the object, threads = 2 vs curl --parallel of the same ranges";
    bench_server s;
    char path[4300], url[128], part[32], what[768], hb[32], hp[32];
    uint64_t piece = cfg.size / 16;
    double best1 = INFINITY, best2 = INFINITY, bestc = INFINITY, busy;
    int i, rc = MCF_OK, curl_ok = 1;
    busy = bench_others_runnable();
    if (!bench_server_start(&s, "nginx")) {
        fig_skip("http_read_threads", t1, "warm", s.why);
        fig_skip("http_read_vs_curl", t2, "warm", s.why);
        return;
    }
    bfmt(path, sizeof path, "%s/data/object.bin", s.dir);
    bfmt(url, sizeof url, "http://127.0.0.1:%d/object.bin", s.port);
    bfmt(part, sizeof part, "%llu", (unsigned long long)piece);
    if (plain_write(path, &D.one, 1) != 0) rc = MCF_FILE_WRITE_FAIL;
    for (i = 0; i < cfg.runs && rc == MCF_OK; i++) {   /* ABC ABC ...: drift hits all three */
        double t, c;
        int ok;
        if ((t = bench_http_read(url, 1, part, &rc)) < 0) break;
        if (t < best1) best1 = t;
        if ((t = bench_http_read(url, 2, part, &rc)) < 0) break;
        if (t < best2) best2 = t;
        c = bench_curl_parallel(url, cfg.size, piece, 2, &ok);
        if (!ok) curl_ok = 0;
        else if (c < bestc) bestc = c;
    }
    busy = fmax(busy, bench_others_runnable());
    bench_server_stop(&s);
    if (rc != MCF_OK) {
        fig_skip_rc("http_read_threads", t1, "warm", "read_at", rc);
        fig_skip_rc("http_read_vs_curl", t2, "warm", "read_at", rc);
        return;
    }
    bfmt(what, sizeof what, "%s in pieces of %s: threads = 2 %.4f s (%.2f GB/s) vs threads = 1 %.4f s (%.2f GB/s); best of %d",
         human(cfg.size, hb, sizeof hb), human(piece, hp, sizeof hp), best2, gbps(cfg.size, best2), best1, gbps(cfg.size, best1), cfg.runs);
    fig_remote("http_read_threads", t1, best2, best1, 1.3, busy, what);
    if (!curl_ok) {
        fig_skip("http_read_vs_curl", t2, "warm", "the curl tool failed or is missing (curl --parallel needs curl >= 7.66)");
        return;
    }
    bfmt(what, sizeof what, "%s: threads = 2 %.4f s (%.2f GB/s) vs curl --parallel --parallel-max 2 of the same %llu ranges to /dev/null %.4f s (%.2f GB/s); best of %d",
         human(cfg.size, hb, sizeof hb), best2, gbps(cfg.size, best2), (unsigned long long)((cfg.size + piece - 1) / piece), bestc, gbps(cfg.size, bestc), cfg.runs);
    fig_remote("http_read_vs_curl", t2, best2, bestc, 0.9, busy, what);
}

/* A multipart upload of size bytes in parts of part bytes through the s3
 * backend in 4 MiB writes; seconds, or < 0 (and *rc). */
static double bench_s3_upload(const bench_server *s, uint64_t size, const char *part, unsigned threads, int *rc)
{
    char endpoint[64];
    const char *so[] = { "key", "mcf-bench-key", "secret", "mcf-bench-secret", "endpoint_url", endpoint, "region", "us-east-1",
                         "part_size", part, NULL };
    mcf_filesystem fs;
    mcf_options o;
    mcf_url u;
    void *f = NULL;
    uint64_t at = 0;
    double t0 = now(), t = -1;
    bfmt(endpoint, sizeof endpoint, "http://127.0.0.1:%d", s->port);
    memset(&o, 0, sizeof o);
    o.storage_options = so;
    o.threads = threads;
    if ((*rc = mcf_filesystem_lookup("s3", &fs)) != MCF_OK || (*rc = mcf_url_parse("s3://bench/upload.bin", NULL, &u)) != MCF_OK) return -1;
    if ((*rc = fs.open_write(fs.user, &u, size, &o, &f)) == MCF_OK) {
        while (*rc == MCF_OK && at < size) {
            size_t k = size - at < ((uint64_t)4 << 20) ? (size_t)(size - at) : (size_t)4 << 20;
            *rc = fs.write(f, D.payload + at, k);
            at += k;
        }
        if (*rc == MCF_OK) *rc = fs.commit(f);
        else fs.abort(f);
        if (*rc == MCF_OK) t = now() - t0;
    }
    if (*rc == MCF_OK) *rc = fs.remove(fs.user, &u, &o);
    mcf_url_free(&u);
    return *rc == MCF_OK ? t : -1;
}

static void bench_remote_s3(void)
{
    const char *title = "s3: multipart upload, threads = 4 vs threads = 1, s3rver on 127.0.0.1";
    bench_server s;
    uint64_t size = cfg.size > ((uint64_t)256 << 20) ? (uint64_t)256 << 20 : cfg.size, piece = size / 16;
    char part[32], what[768], hb[32], hp[32];
    double best1 = INFINITY, best4 = INFINITY, busy;
    int i, rc = MCF_OK;
    busy = bench_others_runnable();
    if (!bench_server_start(&s, "s3")) {
        fig_skip("s3_upload_threads", title, "warm", s.why);
        return;
    }
    bfmt(part, sizeof part, "%llu", (unsigned long long)piece);
    /* untimed: the first upload writes into new page-cache pages and starts
     * every server process's code cold */
    if (bench_s3_upload(&s, size, part, 1, &rc) >= 0) (void)bench_s3_upload(&s, size, part, 4, &rc);
    for (i = 0; i < cfg.runs && rc == MCF_OK; i++) {
        double t;
        if ((t = bench_s3_upload(&s, size, part, 1, &rc)) < 0) break;
        if (t < best1) best1 = t;
        if ((t = bench_s3_upload(&s, size, part, 4, &rc)) < 0) break;
        if (t < best4) best4 = t;
    }
    busy = fmax(busy, bench_others_runnable());
    bench_server_stop(&s);
    if (rc != MCF_OK) { fig_skip_rc("s3_upload_threads", title, "warm", "s3 upload", rc); return; }
    bfmt(what, sizeof what, "%s in 16 parts of %s: threads = 4 %.4f s (%.2f GB/s) vs threads = 1 (parts streamed one at a time) %.4f s (%.2f GB/s); best of %d",
         human(size, hb, sizeof hb), human(piece, hp, sizeof hp), best4, gbps(size, best4), best1, gbps(size, best1), cfg.runs);
    /* the parts are stored by server processes on two cores at once: claimed
     * only when the other processes left both free, as the par rows that need
     * two CPUs are */
    fig_quiet("s3_upload_threads", title, "warm", best4, best1, 1.3, busy, 2, what);
}

static void bench_remote(void)
{
    bench_remote_http();
    bench_remote_s3();
}
#else
static void bench_remote(void)
{
    const char *why = "the bench was built without libcurl (install libcurl4-openssl-dev and rebuild)";
    fig_skip("http_read_threads", "http: read_at of the object, threads = 2 vs one stream (threads = 1), nginx on 127.0.0.1", "warm", why);
    fig_skip("http_read_vs_curl", "http: read_at of the object, threads = 2 vs curl --parallel of the same ranges", "warm", why);
    fig_skip("s3_upload_threads", "s3: multipart upload, threads = 4 vs threads = 1, s3rver on 127.0.0.1", "warm", why);
}
#endif

/* ---- parallel and direct I/O (group "par") ------------------------------------------------ */
/* Wall-clock ratios (threads use more CPU time to take less wall time), each
 * claimed only on a quiet machine (fig_quiet). Saves are timed after an
 * untimed warm-up save of both. */
static mcf_tensor *par_t;                      /* tensors of the current file */
static void **par_dst;                         /* their destinations (slices of D.rbuf) */
static size_t *par_idx, *par_len, par_n;

/* n tensors of the given byte sizes over D.payload, destinations in D.rbuf;
 * 0 if they do not fit. */
static int par_tensors(size_t n, const uint64_t *bytes, mcf_dtype dt, const int64_t (*shape)[2])
{
    size_t i, off = 0, es = mcf_dtype_size(dt);
    static char (*names)[32];
    free(par_t); free(par_dst); free(par_idx); free(par_len); free(names);
    par_t = (mcf_tensor *)calloc(n, sizeof *par_t);
    par_dst = (void **)calloc(n, sizeof *par_dst);
    par_idx = (size_t *)calloc(n, sizeof *par_idx);
    par_len = (size_t *)calloc(n, sizeof *par_len);
    names = (char (*)[32])calloc(n, sizeof *names);
    if (!par_t || !par_dst || !par_idx || !par_len || !names) exit(2);
    par_n = n;
    for (i = 0; i < n; i++) {
        if (bytes[i] > D.size - off || bytes[i] > D.rcap - off) return 0;
        bfmt(names[i], sizeof names[i], "t%04zu", i);
        par_t[i].name = names[i];
        par_t[i].dtype = dt;
        par_t[i].ndim = shape && shape[i][1] ? 2 : 1;
        par_t[i].shape[0] = shape ? shape[i][0] : (int64_t)(bytes[i] / es);
        par_t[i].shape[1] = shape ? shape[i][1] : 0;
        par_t[i].data = D.payload + off;
        par_dst[i] = D.rbuf + off;
        par_len[i] = (size_t)bytes[i];
        off += (size_t)bytes[i];
    }
    return 1;
}

/* mcf_open + mcf_read_many of every tensor (options x->o) into par_dst. */
static double op_par_read_many(op *x)
{
    mcf_reader *r = NULL;
    size_t i;
    int rc, k;
    tpair t0 = tp_now();
    if ((rc = mcf_open(x->path, x->o, &r)) != MCF_OK) { x->rc = rc; return -1; }
    for (i = 0; i < par_n; i++) {
        if ((k = mcf_find(r, par_t[i].name)) < 0) { x->rc = k; mcf_close(r); return -1; }
        par_idx[i] = (size_t)k;
    }
    if ((rc = mcf_read_many(r, par_idx, par_dst, par_len, par_n, NULL)) != MCF_OK) { x->rc = rc; mcf_close(r); return -1; }
    mcf_close(r);
    return op_stop(x, t0);
}

/* The Hugging Face crate's mmap load-all, by hand: mmap the file, parse
 * nothing (offsets known), memcpy each tensor into par_dst. */
static uint64_t *par_file_off;
static double op_par_mmap_copy(op *x)
{
    tpair t0 = tp_now();
    int fd = open(x->path, O_RDONLY | O_CLOEXEC);
    struct stat st;
    unsigned char *m;
    size_t i;
    if (fd < 0 || fstat(fd, &st) != 0) { if (fd >= 0) close(fd); return -1; }
    m = (unsigned char *)mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_SHARED, fd, 0);
    close(fd);
    if (m == MAP_FAILED) return -1;
    for (i = 0; i < par_n; i++) memcpy(par_dst[i], m + par_file_off[i], par_len[i]);
    munmap(m, (size_t)st.st_size);
    return op_stop(x, t0);
}

/* O_DIRECT preads of the whole file in pieces of x->bytes by x->n threads
 * at once (queue depth), into D.rbuf from its first 4096-aligned byte. */
typedef struct par_dio { int fd; uint64_t size, next, piece; pthread_mutex_t mu; int bad; unsigned char *buf; } par_dio;
static void *par_dio_worker(void *p)
{
    par_dio *d = (par_dio *)p;
    for (;;) {
        uint64_t at;
        ssize_t k;
        pthread_mutex_lock(&d->mu);
        at = d->next;
        d->next += d->piece;
        pthread_mutex_unlock(&d->mu);
        if (at >= d->size) return NULL;
        k = pread(d->fd, d->buf + at, (size_t)d->piece, (off_t)at);
        if (k <= 0 && at < d->size) { d->bad = 1; return NULL; }
    }
}
static double op_par_odirect(op *x)
{
    tpair t0 = tp_now();
    pthread_t tid[16];
    par_dio d;
    size_t i;
    memset(&d, 0, sizeof d);
    d.fd = open(x->path, O_RDONLY | O_CLOEXEC | MCF__O_DIRECT);
    if (d.fd < 0) return -1;
    d.size = file_size_of(x->path);
    d.piece = x->bytes;
    d.buf = D.rbuf + (4096 - (uintptr_t)D.rbuf % 4096) % 4096;
    if (d.size + d.piece + 4096 > D.rcap) { close(d.fd); return -1; }
    pthread_mutex_init(&d.mu, NULL);
    for (i = 1; i < x->n; i++) pthread_create(&tid[i], NULL, par_dio_worker, &d);
    par_dio_worker(&d);
    for (i = 1; i < x->n; i++) pthread_join(tid[i], NULL);
    pthread_mutex_destroy(&d.mu);
    close(d.fd);
    return d.bad ? -1 : op_stop(x, t0);
}

static double op_par_plain_read(op *x)
{
    tpair t0 = tp_now();
    size_t got;
    if (plain_read(x->path, D.rbuf, D.rcap, &got) != 0) return -1;
    return op_stop(x, t0);
}

/* Warm load-all of 1000 x 256 KiB into caller buffers, threads = 2 vs
 * threads = 1: from a file named file (its suffix picks the format) opened
 * with flags; verb says what mcf_read_many does. */
static void par_many_row(const char *name, const char *title, const char *file, unsigned flags, const char *verb)
{
    uint64_t *b = (uint64_t *)calloc(1000, sizeof *b);
    size_t i, n = cfg.smoke ? 8 : 1000;
    char path[4096], what[768];
    mcf_options o1, o2;
    op x1, x2;
    double t1, t2, c1, c2, busy;
    int rc, runs = cfg.runs < 5 ? 5 : cfg.runs;
    if (!b) exit(2);
    for (i = 0; i < n; i++) b[i] = cfg.smoke ? 4096 : (uint64_t)256 << 10;
    if (!par_tensors(n, b, MCF_F32, NULL)) { free(b); fig_skip(name, title, "warm", "--size too small for 250 MiB"); return; }
    free(b);
    path_of(path, sizeof path, file);
    if ((rc = mcf_save(path, par_t, par_n, NULL)) != MCF_OK) { fig_skip_rc(name, title, "warm", "mcf_save", rc); return; }
    memset(&o1, 0, sizeof o1); memset(&o2, 0, sizeof o2);
    o1.flags = o2.flags = flags;
    o1.threads = 1; o2.threads = 2;
    memset(&x1, 0, sizeof x1); memset(&x2, 0, sizeof x2);
    x1.path = x2.path = path; x1.o = &o1; x2.o = &o2;
    busy = bench_others_runnable();
    (void)op_par_read_many(&x1);                   /* page cache warm */
    if (best_pair(op_par_read_many, &x1, op_par_read_many, &x2, runs, 0, &t1, &t2, &c1, &c2) != 0)
        fig_skip_rc(name, title, "warm", "mcf_read_many", x2.rc ? x2.rc : x1.rc);
    else {
        busy = fmax(busy, bench_others_runnable());
        bfmt(what, sizeof what, "%zu tensors, %.0f MiB: mcf_open + mcf_read_many%s threads = 2 %.4f s (%.2f GB/s, CPU %.4f s), threads = 1 %.4f s (%.2f GB/s, CPU %.4f s); pre-faulted destinations; best of %d",
             par_n, (double)par_n * (double)par_len[0] / 1048576.0, verb, t2, gbps(par_n * par_len[0], t2), c2, t1, gbps(par_n * par_len[0], t1), c1, runs);
        fig_quiet(name, title, "warm", t2, t1, 1.5, busy, 2, what);
    }
    (void)unlink(path);
}

static void par_many(void)
{
    par_many_row("par_read_many_threads", "safetensors load-all of 1000 x 256 KiB into caller buffers: threads = 2 vs threads = 1",
                 "many.safetensors", 0, "");
}

/* MCF_VERIFY: every zip entry's CRC-32 checked before its bytes are handed out. */
static void par_many_verify(void)
{
    par_many_row("pt_verify_many_threads", "torch load-all of 1000 x 256 KiB with MCF_VERIFY (CRC-32 of every entry): threads = 2 vs threads = 1",
                 "many.pt", MCF_VERIFY, " (MCF_VERIFY)");
}

/* Cold 1 GiB safetensors load with MCF_DIRECT and threads = 4 against
 * O_DIRECT preads of 1 MiB and 4 MiB pieces at queue depth 1, 4 and 16 (the
 * best is the device's limit) and a cold buffered read(2): once into a
 * malloc'ed buffer (never congruent to the data's file offset mod 4096, so
 * every byte goes through a bounce buffer) and once into a buffer placed
 * congruent to it (straight into the destination). */
static void par_cold_direct(void)
{
    const char *t1 = "cold safetensors load, MCF_DIRECT + threads = 4 into malloc'ed memory vs the best O_DIRECT pread";
    const char *t2 = "cold safetensors load, MCF_DIRECT + threads = 4 into malloc'ed memory vs a cold buffered read(2)";
    const char *t3 = "cold safetensors load, MCF_DIRECT + threads = 4 into a buffer congruent to the file offset vs the best O_DIRECT pread";
    static const size_t qd[3] = { 1, 4, 16 };
    static const uint64_t piece[2] = { (uint64_t)1 << 20, (uint64_t)4 << 20 };
    uint64_t b[1], off = 0, len = 0;
    char path[4096], what[1024], list[256];
    mcf_options o;
    mcf_reader *r = NULL;
    op xo, xc, xb;
    double tq[2][3], to = INFINITY, tc = INFINITY, tr = INFINITY, best = INFINITY, busy, cb, co, tmp;
    int runs = cfg.runs < 5 ? 5 : cfg.runs, q, pc, rc, bestq = 0, bestp = 0;
    void *plain_dst, *congruent_dst;
    if (!cfg.cold || !can_drop_caches()) {
        fig_skip("par_cold_direct_vs_odirect", t1, "cold", "needs root (drop_caches) and --cache cold or both");
        fig_skip("par_cold_direct_vs_read", t2, "cold", "needs root (drop_caches) and --cache cold or both");
        fig_skip("par_cold_direct_congruent", t3, "cold", "needs root (drop_caches) and --cache cold or both");
        return;
    }
    b[0] = D.size;
    if (!par_tensors(1, b, MCF_U8, NULL)) return;
    path_of(path, sizeof path, "cold.safetensors");
    if ((rc = mcf_save(path, par_t, 1, NULL)) != MCF_OK) { fig_skip_rc("par_cold_direct_vs_odirect", t1, "cold", "mcf_save", rc); return; }
    sync_file(path);
    if ((rc = mcf_open(path, NULL, &r)) != MCF_OK || (rc = mcf_entry_location(r, 0, &off, &len)) != MCF_OK) {
        mcf_close(r);
        fig_skip_rc("par_cold_direct_vs_odirect", t1, "cold", "mcf_entry_location", rc);
        return;
    }
    mcf_close(r);
    memset(&o, 0, sizeof o);
    o.flags = MCF_DIRECT;
    o.threads = 4;
    memset(&xo, 0, sizeof xo); memset(&xc, 0, sizeof xc); memset(&xb, 0, sizeof xb);
    xo.path = xc.path = xb.path = path; xo.o = xc.o = &o;
    busy = bench_others_runnable();
    /* par_dst[0] is D.rbuf (malloc'ed); the congruent buffer starts in D.rbuf
     * at the file offset's remainder mod 4096 (D.rcap has room for it) */
    plain_dst = par_dst[0];
    congruent_dst = D.rbuf + (4096 - (uintptr_t)D.rbuf % 4096) % 4096 + off % 4096;
    for (pc = 0; pc < 2; pc++)
        for (q = 0; q < 3; q++) {
            double tb1, tb2, tm1, tm2;
            xb.n = qd[q];
            xb.bytes = piece[pc];
            par_dst[0] = plain_dst;
            rc = best_pair(op_par_odirect, &xb, op_par_read_many, &xo, runs, 1, &tb1, &tm1, &cb, &co);
            par_dst[0] = congruent_dst;
            if (rc == 0) rc = best_pair(op_par_odirect, &xb, op_par_read_many, &xc, runs, 1, &tb2, &tm2, &cb, &co);
            par_dst[0] = plain_dst;
            if (rc != 0) {
                fig_skip("par_cold_direct_vs_odirect", t1, "cold", xo.rc || xc.rc ? mcf_last_error() : "O_DIRECT pread baseline failed (file system refuses O_DIRECT?)");
                (void)unlink(path);
                return;
            }
            tq[pc][q] = fmin(tb1, tb2);
            to = fmin(to, tm1);
            tc = fmin(tc, tm2);
            if (tq[pc][q] < best) { best = tq[pc][q]; bestq = q; bestp = pc; }
        }
    par_dst[0] = plain_dst;
    if (best_pair(op_par_plain_read, &xb, op_par_read_many, &xo, runs, 1, &tr, &tmp, &cb, &co) == 0 && tmp < to) to = tmp;
    busy = fmax(busy, bench_others_runnable());
    bfmt(list, sizeof list, "1 MiB pieces at queue depth 1/4/16 %.3f/%.3f/%.3f s, 4 MiB pieces %.3f/%.3f/%.3f s (best: %s at %zu)",
         tq[0][0], tq[0][1], tq[0][2], tq[1][0], tq[1][1], tq[1][2], bestp ? "4 MiB" : "1 MiB", qd[bestq]);
    bfmt(what, sizeof what, "%.0f MiB file: mcf_open + mcf_read_many (MCF_DIRECT, threads = 4) into malloc'ed memory %.3f s (%.2f GB/s); O_DIRECT pread: %s; cache dropped before every run, best of %d",
         (double)D.size / 1048576.0, to, gbps(D.size, to), list, runs);
    fig_quiet("par_cold_direct_vs_odirect", t1, "cold", to, best, 0.9, busy, 1, what);
    bfmt(what, sizeof what, "%.0f MiB file: mcf (MCF_DIRECT, threads = 4) into malloc'ed memory %.3f s (%.2f GB/s), buffered read(2) of the file %.3f s (%.2f GB/s); cache dropped before every run, best of %d",
         (double)D.size / 1048576.0, to, gbps(D.size, to), tr, gbps(D.size, tr), runs);
    fig_quiet("par_cold_direct_vs_read", t2, "cold", to, tr, 1.0, busy, 1, what);
    bfmt(what, sizeof what, "%.0f MiB file, data at file offset %llu: mcf (MCF_DIRECT, threads = 4) into a buffer at that offset's remainder mod 4096 %.3f s (%.2f GB/s); O_DIRECT pread: %s; cache dropped before every run, best of %d",
         (double)D.size / 1048576.0, (unsigned long long)off, tc, gbps(D.size, tc), list, runs);
    fig_quiet("par_cold_direct_congruent", t3, "cold", tc, best, 0.9, busy, 1, what);
    (void)unlink(path);
}

/* Torch save of the main tensor with threads = 2 (CRC-32 on the second
 * core) vs write(2) of its bytes, both after an untimed warm-up save. */
static void par_torch_save(void)
{
    const char *title = "torch save of one tensor, threads = 2 (CRC-32 on a second thread) vs write(2)";
    char plain[4096], mine[4096], what[768], hb[32];
    mcf_options o;
    op xb, xo;
    double tb, to, cb, co, busy;
    memset(&o, 0, sizeof o);
    o.format = "torch";
    o.threads = 2;
    path_of(plain, sizeof plain, "plain.bin");
    path_of(mine, sizeof mine, "threads.pt");
    memset(&xb, 0, sizeof xb); memset(&xo, 0, sizeof xo);
    xb.path = plain; xb.t = &D.one; xb.n = 1;
    xo.path = mine; xo.t = &D.one; xo.n = 1; xo.o = &o;
    busy = bench_others_runnable();
    if (op_plain_write(&xb) < 0 || op_mcf_save(&xo) < 0 ||
        best_pair(op_plain_write, &xb, op_mcf_save, &xo, cfg.runs < 5 ? 5 : cfg.runs, 0, &tb, &to, &cb, &co) != 0) {
        fig_skip_rc("pt_save_threads", title, "-", "mcf_save", xo.rc);
        return;
    }
    busy = fmax(busy, bench_others_runnable());
    bfmt(what, sizeof what, "%s: mcf_save (threads = 2) %.3f s (%.2f GB/s, CPU %.3f s of two threads), write(2) %.3f s (%.2f GB/s); warm-up save of both first; best of %d",
         human(D.size, hb, sizeof hb), to, gbps(D.size, to), co, tb, gbps(D.size, tb), cfg.runs < 5 ? 5 : cfg.runs);
    fig_quiet("pt_save_threads", title, "-", to, tb, 0.8, busy, 2, what);
}

/* Opening a 1000-tensor .pt, 21 times: mapped (default) vs MCF_NO_MMAP,
 * with the minor page faults of each. */
static long par_minflt(void)
{
    struct rusage u;
    getrusage(RUSAGE_SELF, &u);
    return u.ru_minflt;
}
static void par_pt_open(void)
{
    const char *title = "torch open of a 1000-tensor .pt (21 opens): mapped vs MCF_NO_MMAP";
    char path[4096], what[768];
    mcf_options om, on;
    double tm = INFINITY, tn = INFINITY, busy;
    long fm = 0, fn = 0;
    int pass, k, rc;
    path_of(path, sizeof path, "many.pt");
    memset(&om, 0, sizeof om);
    om.format = "torch";
    if ((rc = mcf_save(path, D.many, D.nmany, &om)) != MCF_OK) { fig_skip_rc("pt_open_many_mapped", title, "warm", "mcf_save", rc); return; }
    memset(&on, 0, sizeof on);
    on.flags = MCF_NO_MMAP;
    om.format = NULL;
    busy = bench_others_runnable();
    for (pass = 0; pass < 2 * cfg.runs; pass++) {
        const mcf_options *o = pass % 2 ? &on : &om;
        long f0 = par_minflt();
        double t0 = now(), t;
        for (k = 0; k < 21; k++) {
            mcf_reader *r;
            if ((rc = mcf_open(path, o, &r)) != MCF_OK) { fig_skip_rc("pt_open_many_mapped", title, "warm", "mcf_open", rc); (void)unlink(path); return; }
            mcf_close(r);
        }
        t = now() - t0;
        if (pass % 2) { if (t < tn) tn = t; fn = par_minflt() - f0; }
        else { if (t < tm) tm = t; fm = par_minflt() - f0; }
    }
    busy = fmax(busy, bench_others_runnable());
    bfmt(what, sizeof what, "21 opens: mapped %.4f s, %ld minor faults; MCF_NO_MMAP %.4f s, %ld minor faults; best of %d", tm, fm, tn, fn, cfg.runs);
    fig_quiet("pt_open_many_mapped", title, "warm", tm, tn, 1.0, busy, 1, what);
    (void)unlink(path);
}

/* mcf_read of the main tensor (mapped) into fresh and into pre-faulted
 * memory against pread(2) of its bytes into the same kind of memory. */
static double op_par_fresh(op *x)
{
    mcf_reader *r = NULL;
    unsigned char *d = x->n ? D.rbuf : (unsigned char *)mmap(NULL, (size_t)x->bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    tpair t0;
    int rc = MCF_OK;
    if (d == (unsigned char *)MAP_FAILED) return -1;
    t0 = tp_now();
    if (x->o) {                 /* ours */
        if ((rc = mcf_open(x->path, NULL, &r)) == MCF_OK) rc = mcf_read(r, 0, d, (size_t)x->bytes);
        mcf_close(r);
    } else {                    /* pread of the tensor bytes */
        int fd = open(x->path, O_RDONLY | O_CLOEXEC);
        size_t got = 0;
        while (fd >= 0 && got < x->bytes) {
            ssize_t k = pread(fd, d + got, (size_t)x->bytes - got, (off_t)(x->data_off + got));
            if (k <= 0) break;
            got += (size_t)k;
        }
        if (fd >= 0) close(fd);
        if (got != x->bytes) rc = MCF_FILE_READ_FAIL;
    }
    {
        double t = op_stop(x, t0);
        if (!x->n) munmap(d, (size_t)x->bytes);
        if (rc != MCF_OK) { x->rc = rc; return -1; }
        return t;
    }
}
static void par_read_fresh(void)
{
    static const char *const names[2] = { "st_read_fresh_memory", "st_read_prefaulted" };
    static const char *const titles[2] = { "safetensors mcf_read (mapped) into fresh memory vs pread(2) into fresh memory",
                                           "safetensors mcf_read (mapped) into pre-faulted memory vs pread(2) into the same" };
    char path[4096], what[768];
    mcf_options o;
    mcf_reader *r;
    uint64_t off = 0;
    op xb, xo;
    double tb, to, cb, co, busy;
    int rc, kind;
    path_of(path, sizeof path, "fresh.safetensors");
    if ((rc = mcf_save(path, &D.one, 1, NULL)) != MCF_OK) { fig_skip_rc(names[0], titles[0], "warm", "mcf_save", rc); return; }
    if ((rc = mcf_open(path, NULL, &r)) != MCF_OK) { fig_skip_rc(names[0], titles[0], "warm", "mcf_open", rc); return; }
    (void)mcf_entry_location(r, 0, &off, NULL);
    mcf_close(r);
    memset(&o, 0, sizeof o);
    for (kind = 0; kind < 2; kind++) {
        memset(&xb, 0, sizeof xb); memset(&xo, 0, sizeof xo);
        xb.path = xo.path = path;
        xb.bytes = xo.bytes = D.size;
        xb.data_off = xo.data_off = off;
        xb.n = xo.n = (size_t)kind;
        xo.o = &o;
        busy = bench_others_runnable();
        (void)op_par_fresh(&xb);
        if (best_pair(op_par_fresh, &xb, op_par_fresh, &xo, cfg.runs < 5 ? 5 : cfg.runs, 0, &tb, &to, &cb, &co) != 0) {
            fig_skip_rc(names[kind], titles[kind], "warm", "mcf_read", xo.rc);
            continue;
        }
        busy = fmax(busy, bench_others_runnable());
        bfmt(what, sizeof what, "%.0f MiB at file offset %llu: mcf_open + mcf_read %.4f s (%.2f GB/s), pread(2) %.4f s (%.2f GB/s); %s; best of %d",
             (double)D.size / 1048576.0, (unsigned long long)off, to, gbps(D.size, to), tb, gbps(D.size, tb),
             kind ? "destination pre-faulted once" : "a new anonymous mapping per run", cfg.runs < 5 ? 5 : cfg.runs);
        fig_quiet(names[kind], titles[kind], "warm", to, tb, 0.95, busy, 1, what);
    }
    (void)unlink(path);
}

/* Against the best peer: a 291-tensor Llama-shaped BF16 checkpoint (32
 * layers of q/k/v/o, gate/up/down and two norms, embeddings, final norm,
 * head; hidden size scaled to --size) loaded into caller buffers with
 * threads = 2, against mmap + memcpy of each tensor. */
static void par_llama(void)
{
    const char *title = "load-all of a 291-tensor Llama-shaped BF16 checkpoint, threads = 2 vs mmap + memcpy per tensor";
    int64_t (*shape)[2] = (int64_t (*)[2])calloc(291, sizeof *shape);
    uint64_t *bytes = (uint64_t *)calloc(291, sizeof *bytes), total = 0;
    int64_t h = 64, inter, vocab;
    char path[4096], what[1024];
    mcf_options o1, o2;
    op xb, xo;
    double tb, to, cb, co, busy;
    mcf_reader *r;
    size_t i = 0, k;
    int l, rc;
    if (!shape || !bytes || !(par_file_off = (uint64_t *)realloc(par_file_off, 291 * sizeof *par_file_off))) exit(2);
    /* 32 layers of about 12.1 h^2 BF16 elements: 774 h^2 bytes; up to ~80% of --size */
    while ((uint64_t)774 * (uint64_t)(2 * h) * (uint64_t)(2 * h) <= D.size / 10 * 8) h *= 2;
    inter = h * 27 / 10 / 64 * 64;
    vocab = h * 8;
    shape[i][0] = vocab; shape[i++][1] = h;
    for (l = 0; l < 32; l++) {
        for (k = 0; k < 4; k++) { shape[i][0] = h; shape[i++][1] = h; }
        shape[i][0] = inter; shape[i++][1] = h;
        shape[i][0] = inter; shape[i++][1] = h;
        shape[i][0] = h; shape[i++][1] = inter;
        shape[i][0] = h; shape[i++][1] = 0;
        shape[i][0] = h; shape[i++][1] = 0;
    }
    shape[i][0] = h; shape[i++][1] = 0;
    shape[i][0] = vocab; shape[i++][1] = h;
    for (k = 0; k < 291; k++) { bytes[k] = (uint64_t)shape[k][0] * (uint64_t)(shape[k][1] ? shape[k][1] : 1) * 2; total += bytes[k]; }
    if (!par_tensors(291, bytes, MCF_BF16, (const int64_t (*)[2])shape)) { fig_skip("peer_llama_load_threads", title, "warm", "--size too small"); free(shape); free(bytes); return; }
    free(shape); free(bytes);
    path_of(path, sizeof path, "llama.safetensors");
    if ((rc = mcf_save(path, par_t, par_n, NULL)) != MCF_OK || (rc = mcf_open(path, NULL, &r)) != MCF_OK) {
        fig_skip_rc("peer_llama_load_threads", title, "warm", "mcf_save/mcf_open", rc);
        return;
    }
    for (k = 0; k < par_n; k++) (void)mcf_entry_location(r, (size_t)mcf_find(r, par_t[k].name), &par_file_off[k], NULL);
    mcf_close(r);
    memset(&o1, 0, sizeof o1); memset(&o2, 0, sizeof o2);
    o2.threads = 2;
    memset(&xb, 0, sizeof xb); memset(&xo, 0, sizeof xo);
    xb.path = xo.path = path; xb.o = &o1; xo.o = &o2;
    busy = bench_others_runnable();
    (void)op_par_mmap_copy(&xb);
    if (best_pair(op_par_mmap_copy, &xb, op_par_read_many, &xo, cfg.runs < 5 ? 5 : cfg.runs, 0, &tb, &to, &cb, &co) != 0) {
        fig_skip_rc("peer_llama_load_threads", title, "warm", "mcf_read_many", xo.rc);
        (void)unlink(path);
        return;
    }
    busy = fmax(busy, bench_others_runnable());
    bfmt(what, sizeof what, "hidden %lld, intermediate %lld, vocab %lld, %.0f MiB: mcf_open + mcf_read_many threads = 2 %.4f s (%.2f GB/s), mmap + memcpy of each tensor %.4f s (%.2f GB/s), both into the same pre-faulted buffers; best of %d. The baseline is what the Hugging Face safetensors crate's mmap load-all costs, not the crate itself (not installed here)",
         (long long)h, (long long)inter, (long long)vocab, (double)total / 1048576.0, to, gbps(total, to), tb, gbps(total, tb), cfg.runs < 5 ? 5 : cfg.runs);
    fig_quiet("peer_llama_load_threads", title, "warm", to, tb, 1.3, busy, 2, what);
    (void)unlink(path);
}

static void bench_par(void)
{
    par_many();
    par_read_fresh();
    par_pt_open();
    par_torch_save();
    par_llama();
    par_many_verify();
    par_cold_direct();
    free(par_t); free(par_dst); free(par_idx); free(par_len); free(par_file_off);
}

/* ---- output ------------------------------------------------------------------------------------------ */
static void json_str(FILE *f, const char *s)
{
    fputc('"', f);
    for (; *s; s++) {
        unsigned char c = (unsigned char)*s;
        if (c == '"' || c == '\\') fprintf(f, "\\%c", c);
        else if (c == '\n') fputs("\\n", f);
        else if (c < 0x20) fprintf(f, "\\u%04x", c);
        else fputc(c, f);
    }
    fputc('"', f);
}

static void json_num(FILE *f, double v)
{
    if (isfinite(v)) fprintf(f, "%.6g", v);
    else fputs("null", f);
}

static int write_json(const char *path)
{
    FILE *f = fopen(path, "w");
    int i;
    if (!f) { fprintf(stderr, "bench: cannot write %s: %s\n", path, strerror(errno)); return -1; }
    fputs("[\n", f);
    for (i = 0; i < nfigs; i++) {
        const bench_fig *g = &figs[i];
        fputs("  {\"figure\": ", f); json_str(f, g->name);
        fputs(", \"ratio\": ", f);
        if (g->status == FIG_SKIPPED) fputs("null", f); else json_num(f, g->ratio);
        fputs(", \"goal\": ", f);
        if (g->goal < 0) fputs("null", f); else json_num(f, g->goal);
        fputs(", \"met\": ", f);
        fputs(g->status == FIG_MET ? "true" : g->status == FIG_NOT_MET ? "false" : "null", f);
        fputs(", \"detail\": ", f); json_str(f, g->detail);
        if (isfinite(g->ratio_layout)) { fputs(", \"ratio_same_layout\": ", f); json_num(f, g->ratio_layout); }
        fputs(", \"status\": ", f); json_str(f, status_text(g->status));
        fputs(", \"better\": ", f); json_str(f, g->lower_better ? "lower" : "higher");
        fputs(", \"cache\": ", f); json_str(f, g->cache);
        fputs(", \"title\": ", f); json_str(f, g->title);
        fputs(i + 1 < nfigs ? "},\n" : "}\n", f);
    }
    fputs("]\n", f);
    if (fclose(f) != 0) return -1;
    return 0;
}

static void print_summary(void)
{
    int i, met = 0, not_met = 0, skipped = 0;
    printf("\n%-26s %-5s %10s %10s  %-7s  %s\n", "figure", "cache", "ratio", "goal", "status", "what");
    for (i = 0; i < nfigs; i++) {
        const bench_fig *f = &figs[i];
        print_fig_line(f);
        met += f->status == FIG_MET;
        not_met += f->status == FIG_NOT_MET;
        skipped += f->status == FIG_SKIPPED;
    }
    printf("%d figures: %d MET, %d NOT MET, %d skipped, %d informational\n", nfigs, met, not_met, skipped,
           nfigs - met - not_met - skipped);
}

/* ---- main ----------------------------------------------------------------------------------------------- */
static int parse_size(const char *s, uint64_t *out)
{
    char *end;
    double v = strtod(s, &end);
    uint64_t mul = 1;
    if (end == s || v <= 0) return -1;
    if (*end == 'k' || *end == 'K') mul = (uint64_t)1 << 10;
    else if (*end == 'm' || *end == 'M') mul = (uint64_t)1 << 20;
    else if (*end == 'g' || *end == 'G') mul = (uint64_t)1 << 30;
    else if (*end) return -1;
    if (*end && end[1] && strcmp(end + 1, "iB") != 0 && strcmp(end + 1, "B") != 0) return -1;
    *out = (uint64_t)(v * (double)mul);
    return 0;
}

static void usage(void)
{
    fprintf(stderr,
            "usage: bench [--size BYTES[K|M|G]] [--runs N] [--cache warm|cold|both] [--dir DIR]\n"
            "             [--json FILE] [--only crc,st,pt,mem,store,rss,convert,remote] [--no-python] [--python EXE]\n"
            "             [--py-script FILE] [--clock auto|wall|cpu] [--smoke]\n"
            "  defaults: --size 1G --runs 3 --cache both when /proc/sys/vm/drop_caches is writable (root), else warm;\n"
            "            --dir $TMPDIR or /tmp; --json build/bench-results.json\n"
            "  --clock cpu: ratios from process CPU time (user+sys) instead of wall time, for a\n"
            "             machine shared with other jobs (cold-cache loads always use wall time);\n"
            "             auto (default): cpu when the 1-minute load average >= 0.75 x CPUs\n"
            "  --smoke: 4 MiB, 1 run, warm cache (the test suite's mode)\n");
}

int main(int argc, char **argv)
{
    int i, cache_set = 0;
    const char *tmp = getenv("TMPDIR");
    char host[256] = "?";
    ssize_t k;
    if (argc >= 5 && strcmp(argv[1], "--rss-child") == 0) {
        uint64_t size = 0;
        if (parse_size(argv[4], &size) != 0) return 2;
        return rss_child(argv[2], argv[3], size);
    }
    memset(&cfg, 0, sizeof cfg);
    cfg.size = (uint64_t)1 << 30;
    cfg.runs = 3;
    cfg.warm = 1;
    cfg.python = 1;
    cfg.cpu_clock = -1;         /* auto: CPU time when the machine is busy */
    cfg.parent = tmp && *tmp ? tmp : "/tmp";
    cfg.json = "build/bench-results.json";
    cfg.py_script = "bench/torch_bench.py";
    cfg.python_exe = "/usr/bin/python3";
    for (i = 1; i < argc; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (strcmp(a, "--smoke") == 0) { cfg.smoke = 1; cfg.size = (uint64_t)4 << 20; cfg.runs = 1; }
        else if (strcmp(a, "--no-python") == 0) cfg.python = 0;
        else if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) { usage(); return 0; }
        else if (!v) { usage(); return 2; }
        else if (strcmp(a, "--size") == 0) { if (parse_size(v, &cfg.size) != 0) { usage(); return 2; } i++; }
        else if (strcmp(a, "--runs") == 0) { cfg.runs = atoi(v); if (cfg.runs < 1) { usage(); return 2; } i++; }
        else if (strcmp(a, "--cache") == 0) {
            cache_set = 1;
            cfg.warm = strcmp(v, "warm") == 0 || strcmp(v, "both") == 0;
            cfg.cold = strcmp(v, "cold") == 0 || strcmp(v, "both") == 0;
            if (!cfg.warm && !cfg.cold) { usage(); return 2; }
            i++;
        }
        else if (strcmp(a, "--dir") == 0) { cfg.parent = v; i++; }
        else if (strcmp(a, "--clock") == 0) {
            if (strcmp(v, "cpu") == 0) cfg.cpu_clock = 1;
            else if (strcmp(v, "wall") == 0) cfg.cpu_clock = 0;
            else if (strcmp(v, "auto") == 0) cfg.cpu_clock = -1;
            else { usage(); return 2; }
            i++;
        }
        else if (strcmp(a, "--json") == 0) { cfg.json = v; i++; }
        else if (strcmp(a, "--only") == 0) { cfg.only = v; i++; }
        else if (strcmp(a, "--python") == 0) { cfg.python_exe = v; i++; }
        else if (strcmp(a, "--py-script") == 0) { cfg.py_script = v; i++; }
        else { usage(); return 2; }
    }
    if (!cache_set && !cfg.smoke && can_drop_caches()) cfg.cold = 1;   /* root: measure loads both ways */
    cfg.size &= ~(((uint64_t)64 << 10) - 1);       /* whole 64 KiB units */
    if (cfg.size < ((uint64_t)1 << 20)) { fprintf(stderr, "bench: --size must be at least 1M\n"); return 2; }
    if (!mcf__fits_size(cfg.size + ((uint64_t)16 << 20))) { fprintf(stderr, "bench: --size too large for this host\n"); return 2; }
    k = readlink("/proc/self/exe", cfg.self, sizeof cfg.self - 1);
    if (k <= 0) { fprintf(stderr, "bench: cannot find my own executable\n"); return 2; }
    cfg.self[k] = '\0';
    bfmt(cfg.dir, sizeof cfg.dir, "%s/mcf-bench-XXXXXX", cfg.parent);
    if (!mkdtemp(cfg.dir)) { fprintf(stderr, "bench: cannot create a directory in %s: %s\n", cfg.parent, strerror(errno)); return 2; }
    (void)gethostname(host, sizeof host);
    {
        /* auto clock: with more runnable work than CPUs, wall time mostly
         * measures waiting for a CPU; process CPU time does not */
        double load1 = 0;
        long ncpu = sysconf(_SC_NPROCESSORS_ONLN);
        FILE *la = fopen("/proc/loadavg", "r");
        if (la) { if (fscanf(la, "%lf", &load1) != 1) load1 = 0; fclose(la); }
        if (cfg.cpu_clock < 0) cfg.cpu_clock = load1 >= 0.75 * (double)(ncpu > 0 ? ncpu : 1);
        printf("load average %.2f on %ld CPUs -> ratios by %s\n", load1, ncpu,
               cfg.cpu_clock ? "process CPU time (machine busy; wall-clock ratios are in each detail)" : "wall clock");
    }
    {
        char hb[32];
        printf("mooncake_fileio.h %s bench: size %s, best of %d, loads with %s page cache, scratch %s, %ld CPUs, host %s\n",
               MCF_VERSION_STRING, human(cfg.size, hb, sizeof hb), cfg.runs,
               cfg.warm && cfg.cold ? "warm and dropped" : cfg.cold ? "dropped" : "warm", cfg.dir, sysconf(_SC_NPROCESSORS_ONLN), host);
        printf("ratio = baseline time / mcf time by %s (higher is better) unless the goal says <=\n\n",
               cfg.cpu_clock ? "process CPU time (user+sys)" : "wall clock");
        fflush(stdout);
    }
    data_init();
    if (want("crc")) bench_crc();
    if (want("st")) bench_format(&FMT_ST);
    if (want("pt")) bench_format(&FMT_PT);
    if (want("mem")) bench_mem();
    if (want("store")) bench_store();
    if (want("store")) bench_seed();
    if (want("convert")) bench_convert();
    if (want("remote")) bench_remote();
    if (want("par")) bench_par();
    print_summary();
    if (rmdir(cfg.dir) != 0) fprintf(stderr, "bench: %s not empty after the run: %s\n", cfg.dir, strerror(errno));
    free(D.payload); free(D.rbuf); free(D.many);
    if (write_json(cfg.json) != 0) return 1;
    printf("wrote %s\n", cfg.json);
    return 0;
}
