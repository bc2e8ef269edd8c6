/* test_bench.c - `make bench` in smoke mode, so the bench code cannot rot.
 *
 * Runs build/bench/bench --smoke (4 MiB, one run, warm cache), then checks
 * that it exited 0, that build/bench-smoke/bench-results.json is well-formed
 * JSON of the promised shape, and that every figure the bench measures was
 * produced with a positive finite ratio. Nothing here depends on timing: a
 * goal that is NOT MET still passes. A figure the library cannot produce yet
 * (a format or the store layer not built) is reported as skipped with the
 * bench's reason, which MCF_TEST_REQUIRE_ALL=1 turns into a failure.
 * Runs from the repository root like every test. */
#include "../tests/mcf_test.h"

#include <math.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#ifndef BENCH_EXE
#define BENCH_EXE "build/bench/bench"
#endif
#define BENCH_JSON "build/bench-smoke/bench-results.json"
#define BENCH_OUT "build/bench-smoke/bench.out"

/* ---- a strict little JSON reader for the results file ---------------------- */
enum { JV_NULL, JV_FALSE, JV_TRUE, JV_NUM, JV_STR, JV_OTHER };
typedef struct jfield { char key[32]; int type; double num; char str[1024]; } jfield;
typedef struct jfig { jfield f[16]; int n; } jfig;

static jfig figs[128];
static int nfigs = -1;          /* -1: not parsed (yet, or failed) */
static int bench_status = -1;
static char parse_error[256];

typedef struct jp { const char *s, *e; } jp;

static void jws(jp *p) { while (p->s < p->e && (*p->s == ' ' || *p->s == '\t' || *p->s == '\n' || *p->s == '\r')) p->s++; }

static int jfail(const char *what, const jp *p, const char *base)
{
    snprintf(parse_error, sizeof parse_error, "%s at byte %ld", what, (long)(p->s - base));
    return -1;
}

/* String into out (cap bytes, truncating); handles the escapes JSON allows. */
static int jstring(jp *p, char *out, size_t cap, const char *base)
{
    size_t n = 0;
    if (p->s >= p->e || *p->s != '"') return jfail("expected a string", p, base);
    p->s++;
    while (p->s < p->e && *p->s != '"') {
        char c = *p->s++;
        if ((unsigned char)c < 0x20) return jfail("control character in a string", p, base);
        if (c == '\\') {
            if (p->s >= p->e) break;
            c = *p->s++;
            if (c == 'u') {
                int i;
                for (i = 0; i < 4; i++, p->s++)
                    if (p->s >= p->e || !strchr("0123456789abcdefABCDEF", *p->s) || !*p->s) return jfail("bad \\u escape", p, base);
                c = '?';
            } else if (c == 'n') c = '\n';
            else if (c == 't') c = '\t';
            else if (c == 'r') c = '\r';
            else if (c == 'b') c = '\b';
            else if (c == 'f') c = '\f';
            else if (c != '"' && c != '\\' && c != '/') return jfail("bad escape", p, base);
        }
        if (n + 1 < cap) out[n++] = c;
    }
    if (p->s >= p->e) return jfail("unterminated string", p, base);
    p->s++;
    if (cap) out[n < cap ? n : cap - 1] = '\0';
    return 0;
}

static int jnumber(jp *p, double *v, const char *base)
{
    const char *q = p->s;
    char tmp[64];
    size_t n;
    if (q < p->e && *q == '-') q++;
    if (q >= p->e || *q < '0' || *q > '9') return jfail("expected a value", p, base);
    if (*q == '0' && q + 1 < p->e && q[1] >= '0' && q[1] <= '9') return jfail("leading zero", p, base);
    while (q < p->e && *q >= '0' && *q <= '9') q++;
    if (q < p->e && *q == '.') {
        q++;
        if (q >= p->e || *q < '0' || *q > '9') return jfail("digit expected after '.'", p, base);
        while (q < p->e && *q >= '0' && *q <= '9') q++;
    }
    if (q < p->e && (*q == 'e' || *q == 'E')) {
        q++;
        if (q < p->e && (*q == '+' || *q == '-')) q++;
        if (q >= p->e || *q < '0' || *q > '9') return jfail("digit expected in exponent", p, base);
        while (q < p->e && *q >= '0' && *q <= '9') q++;
    }
    n = (size_t)(q - p->s);
    if (n >= sizeof tmp) return jfail("number too long", p, base);
    memcpy(tmp, p->s, n);
    tmp[n] = '\0';
    *v = strtod(tmp, NULL);
    p->s = q;
    return 0;
}

static int jlit(jp *p, const char *lit)
{
    size_t n = strlen(lit);
    if ((size_t)(p->e - p->s) < n || memcmp(p->s, lit, n) != 0) return -1;
    p->s += n;
    return 0;
}

/* A scalar value (the results file holds nothing deeper inside a figure). */
static int jscalar(jp *p, jfield *f, const char *base)
{
    jws(p);
    if (p->s >= p->e) return jfail("value expected", p, base);
    if (*p->s == '"') { f->type = JV_STR; return jstring(p, f->str, sizeof f->str, base); }
    if (jlit(p, "null") == 0) { f->type = JV_NULL; return 0; }
    if (jlit(p, "true") == 0) { f->type = JV_TRUE; return 0; }
    if (jlit(p, "false") == 0) { f->type = JV_FALSE; return 0; }
    if (*p->s == '{' || *p->s == '[') return jfail("nested value inside a figure", p, base);
    f->type = JV_NUM;
    return jnumber(p, &f->num, base);
}

static int jparse(const char *text, size_t len)
{
    jp p;
    int n = 0;
    p.s = text; p.e = text + len;
    jws(&p);
    if (p.s >= p.e || *p.s != '[') return jfail("expected '['", &p, text);
    p.s++;
    jws(&p);
    if (p.s < p.e && *p.s == ']') { p.s++; goto end; }
    for (;;) {
        jfig *g;
        jws(&p);
        if (p.s >= p.e || *p.s != '{') return jfail("expected '{'", &p, text);
        if (n == (int)(sizeof figs / sizeof figs[0])) return jfail("too many figures", &p, text);
        g = &figs[n++];
        g->n = 0;
        p.s++;
        jws(&p);
        if (p.s < p.e && *p.s == '}') p.s++;
        else for (;;) {
            jfield *f;
            int i;
            if (g->n == (int)(sizeof g->f / sizeof g->f[0])) return jfail("too many keys", &p, text);
            f = &g->f[g->n];
            jws(&p);
            if (jstring(&p, f->key, sizeof f->key, text) != 0) return -1;
            for (i = 0; i < g->n; i++) if (strcmp(g->f[i].key, f->key) == 0) return jfail("duplicate key", &p, text);
            jws(&p);
            if (p.s >= p.e || *p.s != ':') return jfail("expected ':'", &p, text);
            p.s++;
            if (jscalar(&p, f, text) != 0) return -1;
            g->n++;
            jws(&p);
            if (p.s < p.e && *p.s == ',') { p.s++; continue; }
            if (p.s < p.e && *p.s == '}') { p.s++; break; }
            return jfail("expected ',' or '}'", &p, text);
        }
        jws(&p);
        if (p.s < p.e && *p.s == ',') { p.s++; continue; }
        if (p.s < p.e && *p.s == ']') { p.s++; break; }
        return jfail("expected ',' or ']'", &p, text);
    }
end:
    jws(&p);
    if (p.s != p.e) return jfail("trailing bytes after the list", &p, text);
    nfigs = n;
    return 0;
}

static const jfield *jget(const jfig *g, const char *key)
{
    int i;
    for (i = 0; i < g->n; i++) if (strcmp(g->f[i].key, key) == 0) return &g->f[i];
    return NULL;
}

static const jfig *find_fig(const char *name)
{
    int i;
    for (i = 0; i < nfigs; i++) {
        const jfield *f = jget(&figs[i], "figure");
        if (f && f->type == JV_STR && strcmp(f->str, name) == 0) return &figs[i];
    }
    return NULL;
}

/* ---- running the bench once ------------------------------------------------------ */
static int run_bench_once(void)
{
    pid_t pid;
    int st = 0;
    FILE *f;
    static char text[1 << 20];
    size_t len;
    if (bench_status >= 0) return bench_status;
    (void)remove(BENCH_JSON);
    fflush(NULL);
    pid = fork();
    if (pid < 0) return bench_status = 255;
    if (pid == 0) {
        FILE *o = freopen(BENCH_OUT, "w", stdout);
        if (!o) _exit(126);
        execl(BENCH_EXE, BENCH_EXE, "--smoke", "--json", BENCH_JSON, (char *)NULL);
        _exit(127);
    }
    while (waitpid(pid, &st, 0) < 0) { }
    bench_status = WIFEXITED(st) ? WEXITSTATUS(st) : 128;
    f = fopen(BENCH_JSON, "rb");
    if (!f) { snprintf(parse_error, sizeof parse_error, "%s was not written", BENCH_JSON); return bench_status; }
    len = fread(text, 1, sizeof text - 1, f);
    fclose(f);
    text[len] = '\0';
    if (len == sizeof text - 1) snprintf(parse_error, sizeof parse_error, "%s is larger than 1 MiB", BENCH_JSON);
    else (void)jparse(text, len);
    return bench_status;
}

/* ---- tests ------------------------------------------------------------------------- */
static int bench_smoke_exits_zero(void)
{
    int st = run_bench_once();
    if (st != 0) fprintf(stderr, "  %s --smoke exited %d; its output is in %s\n", BENCH_EXE, st, BENCH_OUT);
    MCF_CHECK(st == 0);
    return 0;
}

static int bench_smoke_json_wellformed(void)
{
    int i;
    (void)run_bench_once();
    if (nfigs < 0) fprintf(stderr, "  %s: %s\n", BENCH_JSON, parse_error);
    MCF_CHECK(nfigs > 0);
    for (i = 0; i < nfigs; i++) {
        const jfield *name = jget(&figs[i], "figure"), *ratio = jget(&figs[i], "ratio"), *goal = jget(&figs[i], "goal");
        const jfield *met = jget(&figs[i], "met"), *detail = jget(&figs[i], "detail"), *status = jget(&figs[i], "status");
        MCF_CHECK(name && name->type == JV_STR && name->str[0]);
        MCF_CHECK(ratio && (ratio->type == JV_NUM || ratio->type == JV_NULL));
        MCF_CHECK(goal && (goal->type == JV_NUM || goal->type == JV_NULL));
        MCF_CHECK(met && (met->type == JV_TRUE || met->type == JV_FALSE || met->type == JV_NULL));
        MCF_CHECK(detail && detail->type == JV_STR && detail->str[0]);
        MCF_CHECK(status && status->type == JV_STR);
        /* met is a verdict on a goal: present exactly when the figure has a goal and a ratio */
        MCF_CHECK((met->type == JV_NULL) == (goal->type == JV_NULL || ratio->type == JV_NULL));
        MCF_CHECK((ratio->type == JV_NULL) == (strcmp(status->str, "SKIPPED") == 0));
        if (met->type != JV_NULL) MCF_CHECK(strcmp(status->str, met->type == JV_TRUE ? "MET" : "NOT MET") == 0);
        MCF_CHECK(find_fig(name->str) == &figs[i]);     /* names are unique */
    }
    return 0;
}

static int check_figure(const char *name)
{
    const jfig *g;
    const jfield *ratio, *status, *detail;
    (void)run_bench_once();
    MCF_CHECK(nfigs > 0);
    g = find_fig(name);
    if (!g) fprintf(stderr, "  figure \"%s\" missing from %s\n", name, BENCH_JSON);
    MCF_CHECK(g != NULL);
    ratio = jget(g, "ratio"); status = jget(g, "status"); detail = jget(g, "detail");
    MCF_CHECK(ratio && status && detail);
    if (status->type == JV_STR && strcmp(status->str, "SKIPPED") == 0) MCF_SKIP("%s: %s", name, detail->str);
    MCF_CHECK(ratio->type == JV_NUM);
    MCF_CHECK(isfinite(ratio->num) && ratio->num >= 0);
    return 0;
}

/* One test per figure of the bench (smoke mode measures warm only). */
#define FIG(id) static int bench_smoke_##id(void) { return check_figure(#id); }
FIG(crc32_vs_zlib)
FIG(crc32_vs_zlib_dram)
FIG(st_save_one)
FIG(st_save_many)
FIG(st_load_view)
FIG(st_load_read)
FIG(st_load_pread)
FIG(st_load_view_many)
FIG(st_open_flat)
FIG(rss_st_save)
FIG(rss_st_view)
FIG(rss_st_read)
FIG(pt_save_one)
FIG(pt_load_view)
FIG(pt_load_read)
FIG(pt_load_pread)
FIG(pt_open_flat)
FIG(rss_pt_save)
FIG(rss_pt_view)
FIG(rss_pt_read)
FIG(pt_save_vs_pytorch)
FIG(pt_load_vs_pytorch)
FIG(memfs_roundtrip)
FIG(memfs_bytes_roundtrip)
FIG(store_roundtrip_file)
FIG(store_roundtrip_memfs)
FIG(rss_seed)
FIG(convert_bf16_f32)
FIG(http_read_threads)
FIG(http_read_vs_curl)
FIG(s3_upload_threads)
/* the parallel group's warm rows (its cold rows need root and a dropped cache) */
FIG(par_read_many_threads)
FIG(st_read_fresh_memory)
FIG(st_read_prefaulted)
FIG(pt_open_many_mapped)
FIG(pt_save_threads)
FIG(peer_llama_load_threads)

MCF_TEST_MAIN(MCF_TEST(bench_smoke_exits_zero), MCF_TEST(bench_smoke_json_wellformed),
              MCF_TEST(bench_smoke_crc32_vs_zlib), MCF_TEST(bench_smoke_crc32_vs_zlib_dram),
              MCF_TEST(bench_smoke_st_save_one), MCF_TEST(bench_smoke_st_save_many),
              MCF_TEST(bench_smoke_st_load_view), MCF_TEST(bench_smoke_st_load_read),
              MCF_TEST(bench_smoke_st_load_pread), MCF_TEST(bench_smoke_st_load_view_many),
              MCF_TEST(bench_smoke_st_open_flat), MCF_TEST(bench_smoke_rss_st_save),
              MCF_TEST(bench_smoke_rss_st_view), MCF_TEST(bench_smoke_rss_st_read),
              MCF_TEST(bench_smoke_pt_save_one), MCF_TEST(bench_smoke_pt_load_view),
              MCF_TEST(bench_smoke_pt_load_read), MCF_TEST(bench_smoke_pt_load_pread),
              MCF_TEST(bench_smoke_pt_open_flat), MCF_TEST(bench_smoke_rss_pt_save),
              MCF_TEST(bench_smoke_rss_pt_view), MCF_TEST(bench_smoke_rss_pt_read),
              MCF_TEST(bench_smoke_pt_save_vs_pytorch), MCF_TEST(bench_smoke_pt_load_vs_pytorch),
              MCF_TEST(bench_smoke_memfs_roundtrip), MCF_TEST(bench_smoke_memfs_bytes_roundtrip),
              MCF_TEST(bench_smoke_store_roundtrip_file), MCF_TEST(bench_smoke_store_roundtrip_memfs),
              MCF_TEST(bench_smoke_rss_seed), MCF_TEST(bench_smoke_convert_bf16_f32), MCF_TEST(bench_smoke_http_read_threads),
              MCF_TEST(bench_smoke_http_read_vs_curl), MCF_TEST(bench_smoke_s3_upload_threads),
              MCF_TEST(bench_smoke_par_read_many_threads), MCF_TEST(bench_smoke_st_read_fresh_memory),
              MCF_TEST(bench_smoke_st_read_prefaulted), MCF_TEST(bench_smoke_pt_open_many_mapped),
              MCF_TEST(bench_smoke_pt_save_threads), MCF_TEST(bench_smoke_peer_llama_load_threads))
