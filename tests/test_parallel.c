/* [19] parallel reads: mcf_read_many, and single reads cut into parts, on
 * several threads (options.threads). Every way a reader gets bytes (a caller
 * buffer, memory://, a mapped file, positional reads, a user backend
 * without a mapping) and every thread count gives the bytes a serial
 * mcf_read gives, in safetensors and torch files, many small tensors and
 * big ones cut into parts, slices and conversions too. A user backend that
 * fails one range shows the failing entry or part named in the message; a
 * backend without MCF_FS_THREADSAFE_READ is never read from two threads at
 * once, one with it is. Built and run under ThreadSanitizer by `make test`
 * (variant tsan). */
#include "mcf_test.h"
#include "mcf_test_posix.h"
#include <stdint.h>
#if defined(_WIN32)
#include <windows.h>
#else
#include <time.h>
#endif

#define NT 240                         /* tensors in the test files */

/* ---- test tensors: small ones of mixed dtypes, a scalar, an empty one,
 * and three big ones (cut into parts with threads > 1) ---- */
typedef struct tset {
    mcf_tensor t[NT];
    char names[NT][16];
    unsigned char *data[NT];
    size_t nbytes[NT];
} tset;

static void tset_free(tset *s)
{
    int i;
    for (i = 0; i < NT; i++) free(s->data[i]);
    memset(s, 0, sizeof *s);
}

static int tset_make(tset *s)
{
    static const mcf_dtype dt[5] = { MCF_F32, MCF_BF16, MCF_I64, MCF_U8, MCF_F16 };
    uint32_t x = 12345;
    int i;
    size_t k;
    memset(s, 0, sizeof *s);
    for (i = 0; i < NT; i++) {
        mcf_tensor *t = &s->t[i];
        size_t es;
        (void)snprintf(s->names[i], sizeof s->names[i], "t%03d", i);
        t->name = s->names[i];
        t->dtype = dt[i % 5];
        es = mcf_dtype_size(t->dtype);
        if (i == 7) t->ndim = 0;                                      /* scalar */
        else if (i == 8) { t->ndim = 2; t->shape[0] = 0; t->shape[1] = 5; }   /* empty */
        else if (i == 20) { t->dtype = MCF_F32; t->ndim = 2; t->shape[0] = 768; t->shape[1] = 1025; }   /* 3 MiB + */
        else if (i == 100) { t->dtype = MCF_BF16; t->ndim = 1; t->shape[0] = (5 << 20) / 2 + 3; }       /* 5 MiB + */
        else if (i == 200) { t->dtype = MCF_U8; t->ndim = 3; t->shape[0] = 3; t->shape[1] = 1024; t->shape[2] = 1027; }
        else { t->ndim = 1; t->shape[0] = (int64_t)(1 + ((unsigned)i * 2654435761u) % 9000u); }
        s->nbytes[i] = (size_t)mcf_tensor_nbytes(t);
        s->data[i] = (unsigned char *)malloc(s->nbytes[i] + 1);
        if (!s->data[i]) return 0;
        for (k = 0; k < s->nbytes[i]; k++) { x = x * 1103515245u + 12345u; s->data[i][k] = (unsigned char)(x >> 16); }
        if (t->dtype == MCF_F32 || t->dtype == MCF_BF16 || t->dtype == MCF_F16)   /* no NaNs: conversions compare bytes */
            for (k = es - 1; k < s->nbytes[i]; k += es) s->data[i][k] &= 0x3f;
        t->data = s->data[i];
    }
    return 1;
}

/* ---- a user backend over a buffer: no mapping, optional thread-safe flag,
 * an injected failure for reads touching [fail_lo, fail_hi), and counters
 * of reads in flight ---- */
typedef struct pfs {
    const unsigned char *data;
    size_t size;
    uint64_t fail_lo, fail_hi;      /* empty window: no failure */
    uint64_t fail2_lo, fail2_hi;    /* a second one */
    int inflight, max_inflight;     /* atomics */
    int wait_for_two;               /* read_at waits (up to 10 s) until two reads overlap */
    int nfiles;                     /* > 0: pfs://.../NAME serves the file called NAME */
    const char *name[6];
    const unsigned char *file[6];
    size_t file_size[6];
} pfs;

static pfs g_pfs;
typedef struct pfs_open_file { const unsigned char *data; size_t size; } pfs_open_file;
static pfs_open_file g_pfs_open[7];   /* [0] the one image, [1 + k] file k */

/* The bytes a URL names: the one image, or the named file whose name ends
 * the path; NULL if there is none. */
static pfs_open_file *pfs_lookup(const pfs *p, const char *path)
{
    size_t n = strlen(path), m;
    int k;
    if (p->nfiles == 0) {
        g_pfs_open[0].data = p->data;
        g_pfs_open[0].size = p->size;
        return &g_pfs_open[0];
    }
    for (k = 0; k < p->nfiles; k++)
        if ((m = strlen(p->name[k])) <= n && strcmp(path + n - m, p->name[k]) == 0) {
            g_pfs_open[1 + k].data = p->file[k];
            g_pfs_open[1 + k].size = p->file_size[k];
            return &g_pfs_open[1 + k];
        }
    return NULL;
}

static int pfs_stat(void *user, const mcf_url *u, const mcf_options *o, uint64_t *size)
{
    pfs_open_file *f = pfs_lookup((const pfs *)user, u->path);
    (void)o;
    if (!f) return mcf_set_error(MCF_FILE_NOT_FOUND, "pfs: no file %s", u->path);
    *size = f->size;
    return MCF_OK;
}
static int pfs_open(void *user, const mcf_url *u, const mcf_options *o, void **file, uint64_t *size)
{
    pfs_open_file *f = pfs_lookup((const pfs *)user, u->path);
    (void)o;
    if (!f) return mcf_set_error(MCF_FILE_NOT_FOUND, "pfs: no file %s", u->path);
    *file = f;
    *size = f->size;
    return MCF_OK;
}
static void pfs_close(void *file) { (void)file; }

static void pfs_pause(void)   /* 1 ms */
{
#if defined(_WIN32)
    Sleep(1);
#else
    struct timespec ts;
    ts.tv_sec = 0;
    ts.tv_nsec = 1000000;
    (void)nanosleep(&ts, NULL);
#endif
}

static int pfs_read(void *file, uint64_t off, void *dst, size_t n)
{
    const pfs_open_file *f = (const pfs_open_file *)file;
    pfs *p = &g_pfs;
    int now = __atomic_add_fetch(&p->inflight, 1, __ATOMIC_SEQ_CST), seen, waited;
    int rc = MCF_OK;
    seen = __atomic_load_n(&p->max_inflight, __ATOMIC_SEQ_CST);
    while (now > seen && !__atomic_compare_exchange_n(&p->max_inflight, &seen, now, 0, __ATOMIC_SEQ_CST, __ATOMIC_SEQ_CST)) { }
    for (waited = 0; p->wait_for_two && waited < 10000 && __atomic_load_n(&p->max_inflight, __ATOMIC_SEQ_CST) < 2; waited++) pfs_pause();
    if (off + n > f->size) rc = mcf_set_error(MCF_FILE_READ_FAIL, "pfs: read past the end");
    else if ((off < p->fail_hi && off + n > p->fail_lo) || (off < p->fail2_hi && off + n > p->fail2_lo))
        rc = mcf_set_error(MCF_FILE_READ_FAIL, "pfs: injected failure reading %lu bytes at offset %llu", (unsigned long)n, (unsigned long long)off);
    else memcpy(dst, f->data + off, n);
    __atomic_sub_fetch(&p->inflight, 1, __ATOMIC_SEQ_CST);
    return rc;
}

static void pfs_reset(const void *data, size_t size)
{
    memset(&g_pfs, 0, sizeof g_pfs);
    g_pfs.data = (const unsigned char *)data;
    g_pfs.size = size;
}

/* "pfs" has MCF_FS_THREADSAFE_READ, "pfsserial" does not; both serve g_pfs. */
static int pfs_register(void)
{
    mcf_filesystem fs;
    memset(&fs, 0, sizeof fs);
    fs.scheme = "pfs";
    fs.user = &g_pfs;
    fs.stat = pfs_stat; fs.open_read = pfs_open; fs.read_at = pfs_read; fs.close_read = pfs_close;
    fs.flags = MCF_FS_THREADSAFE_READ;
    if (mcf_register_filesystem(&fs) != MCF_OK) return 0;
    fs.scheme = "pfsserial";
    fs.flags = 0;
    return mcf_register_filesystem(&fs) == MCF_OK;
}

/* ---- readers ---- */
enum { SRC_BUFFER, SRC_MEMFS, SRC_PFS, SRC_MAPPED, SRC_PREAD, NSRC };
static const char *const src_name[NSRC] = { "caller buffer", "memory://", "user backend", "mapped file", "MCF_NO_MMAP" };
#if !defined(MCF_NO_POSIX) && !defined(_WIN32)
#define NSRC_HERE NSRC
#else
#define NSRC_HERE SRC_MAPPED                   /* no local files to read */
#endif

/* Opens the file image img (len bytes) as source kind with threads. */
static int open_src(int kind, const void *img, size_t len, const char *fmt, unsigned threads, unsigned flags, mcf_reader **r)
{
    mcf_options o;
    char path[128];
    int rc;
    memset(&o, 0, sizeof o);
    o.threads = threads;
    o.flags = flags;
    o.format = fmt;
    switch (kind) {
    case SRC_BUFFER:
        return mcf_open_memory(img, len, &o, r);
    case SRC_MEMFS:
        if ((rc = mcf_write_bytes("memory://par/img", img, len, NULL)) != MCF_OK) return rc;
        return mcf_open("memory://par/img", &o, r);
    case SRC_PFS:
        pfs_reset(img, len);
        return mcf_open("pfs://img", &o, r);
    default:
#if !defined(MCF_NO_POSIX) && !defined(_WIN32)
        (void)mcf_test_tmp_path(path, sizeof path, "par.img");
        if (!mcf_test_write_file(path, img, len)) return -1;
        if (kind == SRC_PREAD) o.flags |= MCF_NO_MMAP;
        return mcf_open(path, &o, r);
#else
        (void)path;
        return -1;
#endif
    }
}

/* ent[i] = the reader's index of tensor i (safetensors files sort them); 1 if all found. */
static int map_entries(const mcf_reader *r, const tset *s, size_t *ent)
{
    int i, k;
    for (i = 0; i < NT; i++) {
        if ((k = mcf_find(r, s->names[i])) < 0) return 0;
        ent[i] = (size_t)k;
    }
    return 1;
}

/* mcf_read_many of every entry (in reverse order) into fresh buffers,
 * compared with the tensors; a guard byte past each buffer stays. */
static int read_all_matches(mcf_reader *r, const tset *s, const mcf_options *o, const char *how)
{
    size_t idx[NT], len[NT], ent[NT];
    void *dst[NT];
    int k, bad = 0;
    MCF_CHECK(map_entries(r, s, ent));
    for (k = 0; k < NT; k++) {
        int i = NT - 1 - k;
        idx[k] = ent[i];
        len[k] = s->nbytes[i];
        dst[k] = malloc(s->nbytes[i] + 1);
        if (!dst[k]) return 1;
        memset(dst[k], 0xA5, s->nbytes[i] + 1);
    }
    MCF_CHECK_RC(mcf_read_many(r, idx, dst, len, NT, o), MCF_OK);
    for (k = 0; k < NT; k++) {
        int i = NT - 1 - k;
        if (memcmp(dst[k], s->data[i], s->nbytes[i]) != 0 || ((unsigned char *)dst[k])[s->nbytes[i]] != 0xA5) {
            if (!bad) fprintf(stderr, "  %s: tensor %s: wrong bytes\n", how, s->names[i]);
            bad = 1;
        }
        free(dst[k]);
    }
    return bad;
}

/* The test tensors saved in format fmt (*img, *len: mcf_free it) and a
 * buffer per tensor (dst[k], lens[k]); 1 when done. */
static int fixture(tset *s, const char *fmt, void **img, size_t *len, void **dst, size_t *lens)
{
    mcf_options so;
    int k;
    memset(dst, 0, NT * sizeof *dst);
    *img = NULL;
    memset(&so, 0, sizeof so);
    so.format = fmt;
    if (!tset_make(s) || mcf_save_to_memory(s->t, NT, &so, img, len) != MCF_OK) return 0;
    for (k = 0; k < NT; k++) {
        lens[k] = s->nbytes[k];
        if (!(dst[k] = malloc(s->nbytes[k] + 1))) return 0;
    }
    return 1;
}

static void fixture_free(tset *s, void *img, void **dst)
{
    int k;
    for (k = 0; k < NT; k++) free(dst[k]);
    mcf_free(img);
    tset_free(s);
}

static int parallel_read_many_matches_tensors(void)
{
    static const unsigned threads[4] = { 0, 2, 3, 8 };
    static const char *const fmts[2] = { "safetensors", "torch" };
    tset s;
    void *img;
    size_t len;
    int f, kind, t;
    MCF_CHECK(pfs_register());
    MCF_CHECK(tset_make(&s));
    for (f = 0; f < 2; f++) {
        mcf_options so;
        memset(&so, 0, sizeof so);
        so.format = fmts[f];
        MCF_CHECK_RC(mcf_save_to_memory(s.t, NT, &so, &img, &len), MCF_OK);
        for (kind = 0; kind < NSRC_HERE; kind++) {
            for (t = 0; t < 4; t++) {
                mcf_reader *r;
                mcf_options o;
                char how[96];
                (void)snprintf(how, sizeof how, "%s, %s, %u threads", fmts[f], src_name[kind], threads[t]);
                MCF_CHECK_RC(open_src(kind, img, len, NULL, threads[t], 0, &r), MCF_OK);
                /* the reader's own threads, then a call's options over them */
                MCF_CHECK(read_all_matches(r, &s, NULL, how) == 0);
                memset(&o, 0, sizeof o);
                o.threads = 4;
                MCF_CHECK(read_all_matches(r, &s, &o, how) == 0);
                mcf_close(r);
            }
        }
        mcf_free(img);
    }
    (void)mcf_remove("memory://par/img", NULL);
    tset_free(&s);
    return 0;
}

/* Big single reads in parts: mcf_read, mcf_read_slice, mcf_read_as give the
 * bytes of a serial reader on the same image. */
static int parallel_single_reads_in_parts(void)
{
    tset s;
    void *img;
    size_t len, n;
    mcf_options so;
    mcf_slice sl[3];
    int kind, f;
    MCF_CHECK(pfs_register());
    MCF_CHECK(tset_make(&s));
    for (f = 0; f < 2; f++) {
        mcf_reader *ser;
        memset(&so, 0, sizeof so);
        so.format = f ? "torch" : "safetensors";
        MCF_CHECK_RC(mcf_save_to_memory(s.t, NT, &so, &img, &len), MCF_OK);
        MCF_CHECK_RC(mcf_open_memory(img, len, NULL, &ser), MCF_OK);
        for (kind = 0; kind < NSRC_HERE; kind++) {
            static const int big[3] = { 20, 100, 200 };
            mcf_reader *r;
            int b;
            MCF_CHECK_RC(open_src(kind, img, len, NULL, 4, 0, &r), MCF_OK);
            for (b = 0; b < 3; b++) {
                size_t i = (size_t)big[b], cap = s.nbytes[i] * 4 + 1, e = (size_t)mcf_find(r, s.names[i]);
                unsigned char *x = (unsigned char *)malloc(cap), *y = (unsigned char *)malloc(cap);
                MCF_CHECK(x && y);
                memset(x, 0x5A, cap);
                MCF_CHECK(e == (size_t)mcf_find(ser, s.names[i]));
                MCF_CHECK_RC(mcf_read(r, e, x, s.nbytes[i]), MCF_OK);
                MCF_CHECK(memcmp(x, s.data[i], s.nbytes[i]) == 0 && x[s.nbytes[i]] == 0x5A);
                /* a slice of all but the first and last row (or element) */
                sl[0] = mcf_slice_range(1, -1);
                sl[1] = mcf_slice_range(0, MCF_SLICE_END);
                sl[1].step = 2;
                n = s.nbytes[i];
                memset(x, 0x5A, cap);
                memset(y, 0x5A, cap);
                MCF_CHECK_RC(mcf_read_slice(ser, e, sl, s.t[i].ndim > 1 ? 2 : 1, y, n), MCF_OK);
                MCF_CHECK_RC(mcf_read_slice(r, e, sl, s.t[i].ndim > 1 ? 2 : 1, x, n), MCF_OK);
                MCF_CHECK(memcmp(x, y, cap) == 0);
                if (mcf_convert_supported(s.t[i].dtype, MCF_F64)) {
                    memset(x, 0x5A, cap);
                    memset(y, 0x5A, cap);
                    n = s.nbytes[i] / mcf_dtype_size(s.t[i].dtype) * 8;
                    if (n < cap) {
                        MCF_CHECK_RC(mcf_read_as(ser, e, MCF_F64, NULL, 0, y, n), MCF_OK);
                        MCF_CHECK_RC(mcf_read_as(r, e, MCF_F64, NULL, 0, x, n), MCF_OK);
                        MCF_CHECK(memcmp(x, y, cap) == 0);
                    }
                    n = s.nbytes[i] / mcf_dtype_size(s.t[i].dtype) * 2;
                    memset(x, 0x5A, cap);
                    memset(y, 0x5A, cap);
                    MCF_CHECK_RC(mcf_read_as(ser, e, MCF_BF16, sl, 1, y, n), MCF_OK);
                    MCF_CHECK_RC(mcf_read_as(r, e, MCF_BF16, sl, 1, x, n), MCF_OK);
                    MCF_CHECK(memcmp(x, y, cap) == 0);
                }
                free(x);
                free(y);
            }
            mcf_close(r);
        }
        mcf_close(ser);
        mcf_free(img);
    }
    (void)mcf_remove("memory://par/img", NULL);
    tset_free(&s);
    return 0;
}

/* A backend that fails the reads of one range: the code comes back and the
 * message names the failing entry (read_many) or part (one big read). */
static int parallel_failure_names_entry_or_part(void)
{
    tset s;
    void *img;
    size_t len, idx[NT], lens[NT], ent[NT];
    void *dst[NT];
    uint64_t off, nb;
    mcf_reader *r;
    char want[128];
    int k, t;
    MCF_CHECK(pfs_register());
    MCF_CHECK(fixture(&s, "safetensors", &img, &len, dst, lens));
    for (t = 1; t <= 8; t *= 2) {
        MCF_CHECK_RC(open_src(SRC_PFS, img, len, NULL, (unsigned)t, 0, &r), MCF_OK);
        MCF_CHECK(map_entries(r, &s, ent));
        for (k = 0; k < NT; k++) idx[k] = ent[k];
        /* one small entry fails */
        MCF_CHECK_RC(mcf_entry_location(r, ent[150], &off, &nb), MCF_OK);
        g_pfs.fail_lo = off + 1;
        g_pfs.fail_hi = off + 2;
        MCF_CHECK_RC(mcf_read_many(r, idx, dst, lens, NT, NULL), MCF_FILE_READ_FAIL);
        (void)snprintf(want, sizeof want, "mcf_read_many: entry 150 (tensor %lu, \"t150\"): pfs: injected failure", (unsigned long)ent[150]);
        MCF_CHECK_ERR(want);
        /* two fail: the first in list order is named */
        MCF_CHECK_RC(mcf_entry_location(r, ent[30], &off, &nb), MCF_OK);
        g_pfs.fail2_lo = off;
        g_pfs.fail2_hi = off + nb;
        MCF_CHECK_RC(mcf_read_many(r, idx, dst, lens, NT, NULL), MCF_FILE_READ_FAIL);
        (void)snprintf(want, sizeof want, "mcf_read_many: entry 30 (tensor %lu, \"t030\"): pfs: injected failure", (unsigned long)ent[30]);
        MCF_CHECK_ERR(want);
        g_pfs.fail2_lo = g_pfs.fail2_hi = 0;
        /* a part in the middle of a big tensor fails */
        MCF_CHECK_RC(mcf_entry_location(r, ent[100], &off, &nb), MCF_OK);
        g_pfs.fail_lo = off + nb / 2;
        g_pfs.fail_hi = off + nb / 2 + 1;
        MCF_CHECK_RC(mcf_read(r, ent[100], dst[100], lens[100]), MCF_FILE_READ_FAIL);
        MCF_CHECK_ERR("pfs: injected failure");
        if (t > 1) MCF_CHECK_ERR("pfs://img: tensor \"t100\": part ");
        MCF_CHECK_RC(mcf_read_many(r, idx + 100, dst + 100, lens + 100, 1, NULL), MCF_FILE_READ_FAIL);
        (void)snprintf(want, sizeof want, "mcf_read_many: entry 0 (tensor %lu, \"t100\"): ", (unsigned long)ent[100]);
        MCF_CHECK_ERR(want);
        /* the window gone, the same reader reads everything */
        g_pfs.fail_lo = g_pfs.fail_hi = 0;
        MCF_CHECK_RC(mcf_read_many(r, idx, dst, lens, NT, NULL), MCF_OK);
        for (k = 0; k < NT; k++) MCF_CHECK(memcmp(dst[k], s.data[k], s.nbytes[k]) == 0);
        mcf_close(r);
    }
    fixture_free(&s, img, dst);
    return 0;
}

/* Bad arguments are refused before anything is read, naming the entry. */
static int parallel_read_many_refusals(void)
{
    tset s;
    void *img;
    size_t len, idx[3], lens[3];
    void *dst[3];
    unsigned char a[64], b[64], c[64];
    mcf_reader *r;
    mcf_options so;
    MCF_CHECK(tset_make(&s));
    memset(&so, 0, sizeof so);
    so.format = "safetensors";
    MCF_CHECK_RC(mcf_save_to_memory(s.t, NT, &so, &img, &len), MCF_OK);
    MCF_CHECK_RC(mcf_open_memory(img, len, NULL, &r), MCF_OK);
    idx[0] = (size_t)mcf_find(r, "t007");           /* scalar */
    idx[1] = (size_t)mcf_find(r, "t008");           /* empty */
    idx[2] = 999;                                   /* out of range */
    dst[0] = a; dst[1] = b; dst[2] = c;
    lens[0] = lens[1] = lens[2] = sizeof a;
    memset(a, 1, sizeof a);
    MCF_CHECK_RC(mcf_read_many(NULL, idx, dst, lens, 3, NULL), MCF_INVALID_PARAMS);
    MCF_CHECK_ERR("mcf_read_many: NULL reader");
    MCF_CHECK_RC(mcf_read_many(r, NULL, dst, lens, 3, NULL), MCF_INVALID_PARAMS);
    MCF_CHECK_ERR("mcf_read_many: <memory>: NULL index array");
    MCF_CHECK_RC(mcf_read_many(r, idx, dst, NULL, 3, NULL), MCF_INVALID_PARAMS);
    MCF_CHECK_ERR("NULL length array");
    MCF_CHECK_RC(mcf_read_many(r, idx, dst, lens, 3, NULL), MCF_INVALID_PARAMS);
    MCF_CHECK_ERR("mcf_read_many: <memory>: entry 2: tensor 999 out of range (240 entries)");
    MCF_CHECK(a[0] == 1);                           /* nothing was read */
    idx[2] = (size_t)mcf_find(r, "t009");
    lens[2] = s.nbytes[9] - 1;
    MCF_CHECK_RC(mcf_read_many(r, idx, dst, lens, 3, NULL), MCF_BUFFER_OVERFLOW);
    MCF_CHECK_ERR("mcf_read_many: <memory>: entry 2: tensor \"t009\" needs");
    MCF_CHECK(a[0] == 1);
    dst[2] = NULL;
    lens[2] = s.nbytes[9];
    MCF_CHECK_RC(mcf_read_many(r, idx, dst, lens, 3, NULL), MCF_INVALID_PARAMS);
    MCF_CHECK_ERR("entry 2 (tensor \"t009\"): NULL buffer");
    MCF_CHECK_RC(mcf_read_many(r, NULL, NULL, NULL, 0, NULL), MCF_OK);
    /* an empty tensor takes a NULL buffer; the scalar is read */
    dst[1] = NULL;
    lens[1] = 0;
    MCF_CHECK_RC(mcf_read_many(r, idx, dst, lens, 2, NULL), MCF_OK);
    MCF_CHECK(memcmp(a, s.data[7], s.nbytes[7]) == 0);
    mcf_close(r);
    mcf_free(img);
    tset_free(&s);
    return 0;
}

/* MCF_VERIFY: a torch entry whose bytes fail their CRC-32 is named. */
static int parallel_verify_names_entry(void)
{
    tset s;
    unsigned char *img;
    size_t len, idx[NT], lens[NT];
    void *dst[NT];
    uint64_t off;
    mcf_reader *r;
    mcf_options so;
    char want[128];
    int k;
    MCF_CHECK(fixture(&s, "torch", (void **)&img, &len, dst, lens));
    memset(&so, 0, sizeof so);
    so.flags = MCF_VERIFY;
    so.threads = 4;
    MCF_CHECK_RC(mcf_open_memory(img, len, &so, &r), MCF_OK);
    MCF_CHECK(map_entries(r, &s, idx));
    MCF_CHECK_RC(mcf_read_many(r, idx, dst, lens, NT, NULL), MCF_OK);
    for (k = 0; k < NT; k++) MCF_CHECK(memcmp(dst[k], s.data[k], s.nbytes[k]) == 0);
    mcf_close(r);
    MCF_CHECK_RC(mcf_open_memory(img, len, &so, &r), MCF_OK);
    MCF_CHECK_RC(mcf_entry_location(r, idx[123], &off, NULL), MCF_OK);
    img[off] ^= 1;
    MCF_CHECK_RC(mcf_entry_location(r, idx[200], &off, NULL), MCF_OK);
    img[off + 5000] ^= 1;               /* a second bad entry, later in the list, checked on another thread */
    MCF_CHECK_RC(mcf_read_many(r, idx, dst, lens, NT, NULL), MCF_CHECKSUM_MISMATCH);
    (void)snprintf(want, sizeof want, "mcf_read_many: entry 123 (tensor %lu, \"t123\"): torch: <memory>: zip entry", (unsigned long)idx[123]);
    MCF_CHECK_ERR(want);
    for (k = 0; k < NT / 2; k++) {      /* reversed: t200 comes first now */
        size_t x = idx[k], y = lens[k];
        void *d = dst[k];
        idx[k] = idx[NT - 1 - k]; idx[NT - 1 - k] = x;
        lens[k] = lens[NT - 1 - k]; lens[NT - 1 - k] = y;
        dst[k] = dst[NT - 1 - k]; dst[NT - 1 - k] = d;
    }
    MCF_CHECK_RC(mcf_read_many(r, idx, dst, lens, NT, NULL), MCF_CHECKSUM_MISMATCH);
    (void)snprintf(want, sizeof want, "mcf_read_many: entry %d (tensor %lu, \"t200\"): torch: <memory>: zip entry", NT - 1 - 200, (unsigned long)idx[NT - 1 - 200]);
    MCF_CHECK_ERR(want);
    mcf_close(r);
    fixture_free(&s, img, dst);
    return 0;
}

/* MCF_VERIFY over tensors that view one storage (a file written by real
 * PyTorch): the storage is checked once, by one thread, and a flipped byte
 * in it is reported for the first entry of the list that views it. */
static int parallel_verify_shared_storage(void)
{
    size_t len, idx[3], lens[3], k, n;
    unsigned char *img = mcf_test_slurp("tests/data/torch/shared_storage.pt", &len), *one;
    void *dst[3];
    uint64_t off;
    mcf_reader *r;
    mcf_options so;
    int pass;
    MCF_CHECK(img != NULL);
    memset(&so, 0, sizeof so);
    so.flags = MCF_VERIFY;
    so.threads = 3;
    for (pass = 0; pass < 2; pass++) {
        MCF_CHECK_RC(mcf_open_memory(img, len, &so, &r), MCF_OK);
        n = mcf_count(r);
        MCF_CHECK(n == 3);
        for (k = 0; k < n; k++) {
            uint64_t nb;
            idx[k] = n - 1 - k;
            MCF_CHECK_RC(mcf_entry_location(r, idx[k], NULL, &nb), MCF_OK);
            lens[k] = (size_t)nb;
            dst[k] = malloc(lens[k] + 1);
            MCF_CHECK(dst[k] != NULL);
        }
        if (pass == 0) {
            MCF_CHECK_RC(mcf_read_many(r, idx, dst, lens, n, NULL), MCF_OK);
            for (k = 0; k < n; k++) {       /* the bytes a serial mcf_read gives */
                MCF_CHECK((one = (unsigned char *)malloc(lens[k] + 1)) != NULL);
                MCF_CHECK_RC(mcf_read(r, idx[k], one, lens[k]), MCF_OK);
                MCF_CHECK(memcmp(one, dst[k], lens[k]) == 0);
                free(one);
            }
        } else {
            MCF_CHECK_RC(mcf_read_many(r, idx, dst, lens, n, NULL), MCF_CHECKSUM_MISMATCH);
            MCF_CHECK_ERR("mcf_read_many: entry 0 (tensor 2, \"base_t\"): torch: <memory>: zip entry \"archive/data/0\" has CRC-32");
        }
        for (k = 0; k < n; k++) free(dst[k]);
        if (pass == 0) {                    /* the storage's first byte flipped for the second pass */
            MCF_CHECK_RC(mcf_entry_location(r, 0, &off, NULL), MCF_OK);
            img[off] ^= 1;
        }
        mcf_close(r);
    }
    free(img);
    return 0;
}

/* Without MCF_FS_THREADSAFE_READ a backend is read from one thread at a
 * time, whatever threads asks; with it, reads overlap (each read waits until
 * a second one is in flight, so a serial reader would wait 10 s per read and
 * this check fails rather than hangs). */
static int parallel_backend_flag_decides(void)
{
    tset s;
    void *img;
    size_t len, idx[NT], lens[NT];
    void *dst[NT];
    mcf_reader *r;
    mcf_options so;
    int k;
    MCF_CHECK(pfs_register());
    MCF_CHECK(fixture(&s, "safetensors", &img, &len, dst, lens));
    memset(&so, 0, sizeof so);
    pfs_reset(img, len);
    so.threads = 8;
    so.format = NULL;
    MCF_CHECK_RC(mcf_open("pfsserial://img", &so, &r), MCF_OK);
    MCF_CHECK(map_entries(r, &s, idx));
    MCF_CHECK_RC(mcf_read_many(r, idx, dst, lens, NT, NULL), MCF_OK);
    MCF_CHECK_RC(mcf_read(r, idx[100], dst[100], lens[100]), MCF_OK);
    MCF_CHECK(g_pfs.max_inflight == 1);
    for (k = 0; k < NT; k++) MCF_CHECK(memcmp(dst[k], s.data[k], s.nbytes[k]) == 0);
    mcf_close(r);
#if !defined(MCF_NO_POSIX)
    pfs_reset(img, len);
    MCF_CHECK_RC(mcf_open("pfs://img", &so, &r), MCF_OK);
    g_pfs.wait_for_two = 1;
    MCF_CHECK_RC(mcf_read_many(r, idx + 100, dst + 100, lens + 100, 1, NULL), MCF_OK);
    MCF_CHECK(g_pfs.max_inflight >= 2);
    g_pfs.wait_for_two = 0;
    MCF_CHECK(memcmp(dst[100], s.data[100], s.nbytes[100]) == 0);
    mcf_close(r);
#endif
    fixture_free(&s, img, dst);
    return 0;
}

/* A sharded checkpoint (several safetensors files and an index): one
 * mcf_read_many over entries of every shard, on several threads, from
 * memory:// and from local files. */
static int parallel_read_many_sharded(void)
{
    static const char *const bases[2] = { "memory://par/sh", NULL };
    tset s;
    mcf_options o;
    int b, t;
    char url[256], index[300];
    MCF_CHECK(tset_make(&s));
    for (b = 0; b < 2; b++) {
        mcf_reader *r;
        const char *base = bases[b];
#if !defined(MCF_NO_POSIX) && !defined(_WIN32)
        if (!base) base = mcf_test_tmpdir();
#endif
        if (!base) continue;
        (void)snprintf(url, sizeof url, "%s/model.safetensors", base);
        (void)snprintf(index, sizeof index, "%s.index.json", url);
        memset(&o, 0, sizeof o);
        o.max_shard_bytes = (uint64_t)3 << 20;
        MCF_CHECK_RC(mcf_save(url, s.t, NT, &o), MCF_OK);
        for (t = 1; t <= 4; t *= 2) {
            o.threads = (unsigned)t;
            MCF_CHECK_RC(mcf_open(index, &o, &r), MCF_OK);
            MCF_CHECK(mcf_count(r) == NT);
            MCF_CHECK(mcf_entry_source(r, 0) && mcf_entry_source(r, NT - 1) &&
                      strcmp(mcf_entry_source(r, 0), mcf_entry_source(r, NT - 1)) != 0);   /* two shards at least */
            MCF_CHECK(read_all_matches(r, &s, NULL, index) == 0);
            mcf_close(r);
        }
    }
#if !defined(MCF_NO_POSIX)
    {   /* the reader keeps the threads it was opened with: a big mcf_read
         * from a shard is cut into parts read at once */
        char names[6][64];
        void *bytes[6] = { NULL, NULL, NULL, NULL, NULL, NULL };
        size_t n[6], k, at, nf = 0;
        mcf_reader *r;
        unsigned char *got = (unsigned char *)malloc(s.nbytes[100]);
        MCF_CHECK(got != NULL && pfs_register());
        memset(&o, 0, sizeof o);
        o.max_shard_bytes = (uint64_t)6 << 20;   /* t100 (5 MiB) in a shard of its own or nearly */
        MCF_CHECK_RC(mcf_save("memory://par/two/model.safetensors", s.t, NT, &o), MCF_OK);
        MCF_CHECK_RC(mcf_open("memory://par/two/model.safetensors.index.json", NULL, &r), MCF_OK);
        (void)snprintf(names[nf++], sizeof names[0], "model.safetensors.index.json");
        for (k = 0; k < mcf_count(r); k++) {          /* each shard once, in entry order */
            const char *src = strrchr(mcf_entry_source(r, k), '/') + 1;
            if (strcmp(src, names[nf - 1]) != 0) { MCF_CHECK(nf < 6); (void)snprintf(names[nf++], sizeof names[0], "%s", src); }
        }
        mcf_close(r);
        pfs_reset(NULL, 0);
        for (k = 0; k < nf; k++) {
            (void)snprintf(url, sizeof url, "memory://par/two/%.63s", names[k]);
            MCF_CHECK_RC(mcf_read_bytes(url, &bytes[k], &n[k], NULL), MCF_OK);
            g_pfs.name[k] = names[k];
            g_pfs.file[k] = (const unsigned char *)bytes[k];
            g_pfs.file_size[k] = n[k];
        }
        g_pfs.nfiles = (int)nf;
        o.max_shard_bytes = 0;
        o.threads = 2;
        MCF_CHECK_RC(mcf_open("pfs://two/model.safetensors.index.json", &o, &r), MCF_OK);
        at = (size_t)mcf_find(r, "t100");
        g_pfs.wait_for_two = 1;
        MCF_CHECK_RC(mcf_read(r, at, got, s.nbytes[100]), MCF_OK);
        g_pfs.wait_for_two = 0;
        MCF_CHECK(g_pfs.max_inflight >= 2);
        MCF_CHECK(memcmp(got, s.data[100], s.nbytes[100]) == 0);
        mcf_close(r);
        for (k = 0; k < nf; k++) mcf_free(bytes[k]);
        free(got);
    }
#endif
    tset_free(&s);
    return 0;
}

/* A torch save with threads > 1 computes a big tensor's CRC-32 on a second
 * thread: the file is byte for byte the serial one (and reads back with
 * MCF_VERIFY); a save cancelled midway joins that thread and leaves nothing. */
static int cancel_half(void *user, uint64_t done, uint64_t total) { (void)user; return done * 2 > total; }

static int parallel_torch_save_crc_on_thread(void)
{
    tset s;
    void *a, *b;
    size_t la, lb, i;
    mcf_options o;
    mcf_reader *r;
    unsigned char *big = (unsigned char *)malloc((size_t)9 << 20);
    mcf_tensor t[2];
    MCF_CHECK(tset_make(&s) && big != NULL);
    for (i = 0; i < ((size_t)9 << 20); i++) big[i] = (unsigned char)(i * 31 + (i >> 13));
    t[0] = s.t[5];
    memset(&t[1], 0, sizeof t[1]);
    t[1].name = "big";
    t[1].dtype = MCF_U8;
    t[1].ndim = 1;
    t[1].shape[0] = (int64_t)9 << 20;
    t[1].data = big;
    memset(&o, 0, sizeof o);
    o.format = "torch";
    MCF_CHECK_RC(mcf_save_to_memory(t, 2, &o, &a, &la), MCF_OK);
    o.threads = 2;
    MCF_CHECK_RC(mcf_save_to_memory(t, 2, &o, &b, &lb), MCF_OK);
    MCF_CHECK(la == lb && memcmp(a, b, la) == 0);
    memset(&o, 0, sizeof o);
    o.flags = MCF_VERIFY;
    MCF_CHECK_RC(mcf_open_memory(b, lb, &o, &r), MCF_OK);
    MCF_CHECK_RC(mcf_read(r, (size_t)mcf_find(r, "big"), big, (size_t)9 << 20), MCF_OK);   /* CRC checked */
    mcf_close(r);
    mcf_free(a);
    mcf_free(b);
    memset(&o, 0, sizeof o);
    o.format = "torch";
    o.threads = 2;
    o.progress = cancel_half;
    MCF_CHECK_RC(mcf_save("memory://par/cancelled.pt", t, 2, &o), MCF_PERSISTENT_FAIL);
    MCF_CHECK_ERR("cancelled by the progress callback");
    MCF_CHECK(mcf_exists("memory://par/cancelled.pt", NULL) == 0);
    free(big);
    tset_free(&s);
    return 0;
}

MCF_TEST_MAIN(MCF_TEST(parallel_torch_save_crc_on_thread), MCF_TEST(parallel_read_many_sharded), MCF_TEST(parallel_read_many_matches_tensors), MCF_TEST(parallel_single_reads_in_parts),
              MCF_TEST(parallel_failure_names_entry_or_part), MCF_TEST(parallel_read_many_refusals),
              MCF_TEST(parallel_verify_names_entry), MCF_TEST(parallel_verify_shared_storage), MCF_TEST(parallel_backend_flag_decides))
