/* [18] torch .pt: every fixture written by real PyTorch 1.13 read and hashed
 * against its manifest, our writer's bytes compared with torch's, and files
 * we write loaded by real PyTorch (tests/torch_check.py). */
#include "mcf_test.h"
#include "sha256.h"
#include "mcf_test_endian.h"
#include "mcf_test_posix.h"
#include <stdint.h>

#define TORCH_DIR "tests/data/torch/"

/* ---- tiny line-oriented reader of manifest.json / torch_check output ---- */
typedef struct rec { char key[96]; int null_key; char dtype[16]; int ndim; long long shape[8]; char sha[65]; } rec;
typedef struct man_file { char file[64]; int legacy, must_reject; char forbidden[64]; int n; rec e[48]; } man_file;

static const char *json_str(const char *line, const char *field, char *out, size_t cap)
{
    const char *p = strstr(line, field);
    size_t i = 0;
    if (!p) return NULL;
    p += strlen(field);
    while (*p == ' ' || *p == ':') p++;
    if (*p != '"') return NULL;
    p++;
    while (*p && *p != '"' && i + 1 < cap) out[i++] = *p++;
    out[i] = '\0';
    return p;
}

/* Parses one tensor record line ({"key": ..., "dtype": ..., "shape": [...], "sha256": ...}). */
static int parse_rec(const char *line, rec *r)
{
    const char *p;
    memset(r, 0, sizeof *r);
    if (!strstr(line, "\"dtype\"")) return 0;
    p = strstr(line, "\"key\": ");
    if (!p) return 0;
    if (strncmp(p + 7, "null", 4) == 0) r->null_key = 1;
    else if (!json_str(line, "\"key\"", r->key, sizeof r->key)) return 0;
    if (!json_str(line, "\"dtype\"", r->dtype, sizeof r->dtype)) return 0;
    if (!json_str(line, "\"sha256\"", r->sha, sizeof r->sha)) return 0;
    p = strstr(line, "\"shape\": [");
    if (!p) return 0;
    p += 10;
    while (*p && *p != ']') {
        char *end;
        long long v = strtoll(p, &end, 10);
        if (end == p) break;
        if (r->ndim < 8) r->shape[r->ndim++] = v;
        p = end;
        while (*p == ',' || *p == ' ') p++;
    }
    return 1;
}

static int load_manifest(man_file *files, int cap)
{
    FILE *f = fopen(TORCH_DIR "manifest.json", "r");
    char line[4096];
    int n = -1;
    if (!f) return -1;
    while (fgets(line, sizeof line, f)) {
        char tmp[64];
        if (json_str(line, "\"file\"", tmp, sizeof tmp) && strstr(line, "\"file\": ")) {
            if (++n >= cap) break;
            memset(&files[n], 0, sizeof files[n]);
            strcpy(files[n].file, tmp);
        } else if (n >= 0 && strstr(line, "\"legacy\": true")) files[n].legacy = 1;
        else if (n >= 0 && strstr(line, "\"must_reject\": true")) files[n].must_reject = 1;
        else if (n >= 0 && json_str(line, "\"forbidden_global\"", tmp, sizeof tmp)) strcpy(files[n].forbidden, tmp);
        else if (n >= 0 && files[n].n < 48 && parse_rec(line, &files[n].e[files[n].n])) files[n].n++;
    }
    fclose(f);
    return n + 1;
}

#define MAXREC 1100
static man_file g_man[40];

static void fixture_path(char *out, size_t cap, const char *file)
{
    size_t a = strlen(TORCH_DIR), b = strlen(file);
    if (a + b + 1 > cap) b = cap - a - 1;
    memcpy(out, TORCH_DIR, a);
    memcpy(out + a, file, b);
    out[a + b] = '\0';
}

/* Checks entry i of r against record m: dtype, shape, sha256 of read and view bytes. */
static int check_entry(mcf_reader *r, const rec *m)
{
    mcf_tensor t;
    int i = mcf_find(r, m->null_key ? "" : m->key), d;
    unsigned char *buf;
    const void *view;
    char hex[65];
    uint64_t nbytes;
    if (i < 0) { fprintf(stderr, "  missing tensor \"%s\": %s\n", m->key, mcf_last_error()); return 1; }
    MCF_CHECK_RC(mcf_entry(r, (size_t)i, &t), MCF_OK);
    MCF_CHECK(strcmp(mcf_dtype_name(t.dtype), m->dtype) == 0);
    MCF_CHECK(t.ndim == m->ndim);
    for (d = 0; d < t.ndim; d++) MCF_CHECK(t.shape[d] == m->shape[d]);
    nbytes = mcf_tensor_nbytes(&t);
    buf = (unsigned char *)malloc((size_t)nbytes + 1);
    MCF_CHECK(buf != NULL);
    /* the manifest hashes the file's LE bytes; mcf_read and mcf_view give host order */
    MCF_CHECK_RC(mcf_read(r, (size_t)i, buf, (size_t)nbytes), MCF_OK);
    mcf_test_to_le(buf, buf, (size_t)nbytes, t.dtype);
    test_sha256_of(buf, (size_t)nbytes, hex);
    if (strcmp(hex, m->sha) != 0) { fprintf(stderr, "  tensor \"%s\": sha256 %s, manifest %s\n", m->key, hex, m->sha); free(buf); return 1; }
    MCF_CHECK_RC(mcf_view(r, (size_t)i, &view), MCF_OK);
    mcf_test_to_le(buf, view, (size_t)nbytes, t.dtype);
    test_sha256_of(buf, (size_t)nbytes, hex);
    free(buf);
    MCF_CHECK(strcmp(hex, m->sha) == 0);
    return 0;
}

static int torch_fixtures_match_manifest(void)
{
    int nf = load_manifest(g_man, 40), i, j, tested = 0;
    mcf_options o;
    memset(&o, 0, sizeof o);
    o.flags = MCF_VERIFY;
    MCF_CHECK(nf >= 27);
    for (i = 0; i < nf; i++) {
        man_file *m = &g_man[i];
        char path[128];
        size_t len = 0;
        unsigned char *bytes;
        mcf_reader *r;
        if (m->legacy || m->must_reject) continue;
        fixture_path(path, sizeof path, m->file);
        bytes = mcf_test_slurp(path, &len);
        MCF_CHECK(bytes != NULL);
        if (mcf_open_memory(bytes, len, &o, &r) != MCF_OK) { fprintf(stderr, "  %s: %s\n", m->file, mcf_last_error()); free(bytes); return 1; }
        MCF_CHECK(strcmp(mcf_reader_format(r), "torch") == 0);
        if (mcf_count(r) != (size_t)m->n) { fprintf(stderr, "  %s: %lu entries, manifest %d\n", m->file, (unsigned long)mcf_count(r), m->n); return 1; }
        for (j = 0; j < m->n; j++)
            if (check_entry(r, &m->e[j])) { fprintf(stderr, "  in %s\n", m->file); return 1; }
        mcf_close(r);
        free(bytes);
#ifndef MCF_NO_POSIX
        MCF_CHECK_RC(mcf_open(path, &o, &r), MCF_OK);   /* mapped file, CRCs verified */
        for (j = 0; j < m->n; j++)
            if (check_entry(r, &m->e[j])) { fprintf(stderr, "  in %s (file)\n", m->file); return 1; }
        mcf_close(r);
#endif
        tested++;
    }
    MCF_CHECK(tested == 25);
    return 0;
}

static int torch_must_reject_fixtures_name_the_global(void)
{
    int nf = load_manifest(g_man, 40), i, tested = 0;
    for (i = 0; i < nf; i++) {
        char path[128], want[96];
        size_t len = 0;
        unsigned char *bytes;
        mcf_reader *r = (mcf_reader *)&len;
        if (!g_man[i].must_reject) continue;
        fixture_path(path, sizeof path, g_man[i].file);
        MCF_CHECK((bytes = mcf_test_slurp(path, &len)) != NULL);
        MCF_CHECK_RC(mcf_open_memory(bytes, len, NULL, &r), MCF_DESERIALIZE_FAIL);
        MCF_CHECK(r == NULL);
        snprintf(want, sizeof want, "forbidden global %s", g_man[i].forbidden);
        MCF_CHECK_ERR(want);
        free(bytes);
        tested++;
    }
    MCF_CHECK(tested == 2);
    return 0;
}

static int torch_legacy_format_not_supported(void)
{
    size_t len = 0;
    unsigned char *bytes = mcf_test_slurp(TORCH_DIR "legacy_format.pt", &len);
    mcf_reader *r;
    MCF_CHECK(bytes != NULL);
    MCF_CHECK_RC(mcf_open_memory(bytes, len, NULL, &r), MCF_NOT_SUPPORTED);
    MCF_CHECK_ERR("legacy torch format");
    MCF_CHECK_ERR("re-save it with torch >= 1.6");
    free(bytes);
    return 0;
}

/* Re-saving what a torch fixture holds gives torch's exact bytes (bare
 * tensors and a plain OrderedDict; prefix "archive"). */
static int torch_writer_bytes_identical_to_torch(void)
{
    static const char *files[] = {"dtype_f64.pt", "dtype_f32.pt", "dtype_f16.pt", "dtype_bf16.pt", "dtype_i64.pt",
                                  "dtype_i32.pt", "dtype_i16.pt", "dtype_i8.pt", "dtype_u8.pt", "dtype_bool.pt",
                                  "scalar_0d.pt", "empty_1d.pt", "empty_3d.pt", "rank4.pt", "many_tensors.pt"};
    size_t f;
    mcf_options o;
    memset(&o, 0, sizeof o);
    o.format = "torch";
    for (f = 0; f < sizeof files / sizeof files[0]; f++) {
        char path[128];
        size_t len = 0, n, i, out_len = 0;
        unsigned char *bytes;
        void *out = NULL;
        mcf_reader *r;
        mcf_tensor t[64];
        fixture_path(path, sizeof path, files[f]);
        MCF_CHECK((bytes = mcf_test_slurp(path, &len)) != NULL);
        MCF_CHECK_RC(mcf_open_memory(bytes, len, NULL, &r), MCF_OK);
        n = mcf_count(r);
        MCF_CHECK(n >= 1 && n <= 64);
        for (i = 0; i < n; i++) {
            MCF_CHECK_RC(mcf_entry(r, i, &t[i]), MCF_OK);
            MCF_CHECK_RC(mcf_view(r, i, &t[i].data), MCF_OK);
        }
        MCF_CHECK_RC(mcf_save_to_memory(t, n, &o, &out, &out_len), MCF_OK);
        if (out_len != len || memcmp(out, bytes, len) != 0) {
            for (i = 0; i < len && i < out_len && ((unsigned char *)out)[i] == bytes[i]; i++) { }
            fprintf(stderr, "  %s: %lu bytes vs torch's %lu, first difference at %lu\n", files[f], (unsigned long)out_len, (unsigned long)len, (unsigned long)i);
            return 1;
        }
        mcf_free(out);
        mcf_close(r);
        free(bytes);
    }
    return 0;
}

/* ---- files we write, loaded by real PyTorch ---- */
/* tests/torch_check.py (run from the repository root, as tests/run.sh does);
 * MCF_TORCH_CHECK names another copy. */
static const char *torch_check_script(void)
{
    const char *env = getenv("MCF_TORCH_CHECK");
    return env && *env ? env : "tests/torch_check.py";
}

/* Runs torch_check.py's main() on each of
 * paths[0..np) in ONE python process (importing torch costs seconds);
 * records of file f go to recs[f][], their count to counts[f] (-1 = torch
 * could not load it). Returns 0, -2 when python or torch is unavailable
 * (skip), -1 on other failures. */
static int run_torch_check(const char *const *paths, int np, rec (*recs)[MAXREC], int *counts, char *why, size_t why_cap)
{
    char args[1024], driver[600], line[4096], *out = NULL;
    const char *script = torch_check_script(), *slash, *at;
    FILE *py;
    int f = -1, i, rc;
    size_t k;
    if (!mcf_test_tmpdir() || !(py = fopen(mcf_test_tmp_path(driver, sizeof driver, "torch_driver.py"), "w"))) {
        snprintf(why, why_cap, "cannot create a temporary file");
        return -1;
    }
    /* torch_check.py imported, so one process checks every file */
    slash = strrchr(script, '/');
    fprintf(py, "import sys\nsys.path.insert(0, %s%.*s%s)\nimport torch_check as c\n"
                "for f in sys.argv[1:]:\n    print('@@FILE', flush=True)\n    print('@@RC', c.main([f]), flush=True)\n",
            "'", slash ? (int)(slash - script) : 1, slash ? script : ".", "'");
    if (fclose(py) != 0) { snprintf(why, why_cap, "cannot write %s", driver); return -1; }
    k = (size_t)snprintf(args, sizeof args, "%s", driver);
    for (i = 0; i < np && k < sizeof args; i++) k += (size_t)snprintf(args + k, sizeof args - k, " %s", paths[i]);
    if (k >= sizeof args) { snprintf(why, why_cap, "command too long"); return -1; }
    rc = mcf_test_python(args, &out, why, why_cap);
    if (rc == MCF_TEST_SKIPPED) { free(out); return -2; }
    why[0] = '\0';
    for (i = 0; i < np; i++) counts[i] = 0;
    at = out;
    while (mcf_test_next_line(&at, line, sizeof line)) {
        if (strncmp(line, "@@FILE", 6) == 0) { f++; continue; }
        if (strncmp(line, "@@RC", 4) == 0) { if (f >= 0 && f < np && atoi(line + 5) != 0) counts[f] = -1; continue; }
        if (f >= 0 && f < np && counts[f] >= 0 && counts[f] < MAXREC && parse_rec(line, &recs[f][counts[f]])) counts[f]++;
        else if (strlen(why) + strlen(line) + 2 < why_cap) { strcat(why, line); strcat(why, "\n"); }
    }
    free(out);
    if (rc != 0 || f != np - 1) return -1;
    return 0;
}

static uint32_t rng32(uint64_t *s)
{
    *s = *s * 6364136223846793005ull + 1442695040888963407ull;
    return (uint32_t)(*s >> 33);
}

#define NBIG 1001
static int torch_saved_files_load_in_pytorch(void)
{
    static const mcf_dtype dts[] = {MCF_F64, MCF_F32, MCF_F16, MCF_BF16, MCF_I64, MCF_I32, MCF_I16, MCF_I8, MCF_U8, MCF_BOOL, MCF_C64};
    enum { NDT = sizeof dts / sizeof dts[0] };
    static mcf_tensor t[NDT + 3 + NBIG];
    static char names[NDT + 3 + NBIG][16];
    static rec got[2][MAXREC];
    static char expect_sha[NDT + 3 + NBIG][65];
    static int32_t base[4 * 6];
    static int64_t tstride[2] = {1, 4};    /* 6x4 int32 storage viewed as its 4x6 transpose */
    static uint16_t scalar = 0x3c00;
    unsigned char *data;
    char path[600], path2[600], why[2048];
    const char *paths[2];
    int counts[2];
    size_t n = 0, i, total = 0, out_len = 0;
    void *out = NULL;
    uint64_t seed = 7;
    int k, j;
    mcf_options o;
    memset(&o, 0, sizeof o);
    o.format = "torch";
    data = (unsigned char *)malloc(64 * 1024);
    MCF_CHECK(data != NULL);
    for (i = 0; i < 64 * 1024; i++) data[i] = (unsigned char)rng32(&seed);
    for (i = 0; i < 24; i++) base[i] = (int32_t)(i * 7 - 40);
    memset(t, 0, sizeof t);
    for (i = 0; i < NDT; i++) {       /* every dtype torch 1.13 has a storage for */
        snprintf(names[n], sizeof names[n], "dt_%s", mcf_dtype_name(dts[i]));
        t[n].name = names[n]; t[n].dtype = dts[i]; t[n].ndim = 2; t[n].shape[0] = 3; t[n].shape[1] = 5;
        t[n].data = data + total;
        if (dts[i] == MCF_BOOL) for (k = 0; k < 15; k++) data[total + (size_t)k] &= 1;
        total += (size_t)mcf_tensor_nbytes(&t[n]);
        n++;
    }
    snprintf(names[n], 16, "strided"); t[n].name = names[n]; t[n].dtype = MCF_I32; t[n].ndim = 2;
    t[n].shape[0] = 4; t[n].shape[1] = 6; t[n].strides = tstride; t[n].data = base; n++;
    snprintf(names[n], 16, "scalar"); t[n].name = names[n]; t[n].dtype = MCF_F16; t[n].ndim = 0; t[n].data = &scalar; n++;
    snprintf(names[n], 16, "empty"); t[n].name = names[n]; t[n].dtype = MCF_F32; t[n].ndim = 3;
    t[n].shape[0] = 2; t[n].shape[1] = 0; t[n].shape[2] = 3; t[n].data = NULL; n++;
    for (i = 0; i < NBIG; i++, n++) {  /* > 1000 items: two SETITEMS batches */
        snprintf(names[n], 16, "t%04lu", (unsigned long)i);
        t[n].name = names[n]; t[n].dtype = MCF_F32; t[n].ndim = 1; t[n].shape[0] = (int64_t)(i % 5);
        t[n].data = data + 4 * i;
    }
    for (i = 0; i < n; i++) {
        uint64_t nb = mcf_tensor_nbytes(&t[i]);
        unsigned char *c = (unsigned char *)malloc((size_t)nb + 1);
        MCF_CHECK(c != NULL);
        MCF_CHECK_RC(mcf_tensor_copy_contiguous(&t[i], c, (size_t)nb), MCF_OK);
        mcf_test_to_le(c, c, (size_t)nb, t[i].dtype);   /* torch hashes the LE bytes */
        test_sha256_of(c, (size_t)nb, expect_sha[i]);
        free(c);
    }
    MCF_CHECK_RC(mcf_save_to_memory(t, n, &o, &out, &out_len), MCF_OK);
    MCF_CHECK(mcf_test_tmpdir() != NULL);
    mcf_test_tmp_path(path, sizeof path, "ours.pt");
    mcf_test_tmp_path(path2, sizeof path2, "ours.bare");
    MCF_CHECK(mcf_test_write_file(path, out, out_len));
    mcf_free(out);
    t[0].name = "";                     /* one tensor named "": a bare tensor */
    MCF_CHECK_RC(mcf_save_to_memory(t, 1, &o, &out, &out_len), MCF_OK);
    t[0].name = names[0];
    MCF_CHECK(mcf_test_write_file(path2, out, out_len));
    mcf_free(out);
    paths[0] = path;
    paths[1] = path2;
    k = run_torch_check(paths, 2, got, counts, why, sizeof why);
    remove(path);
    remove(path2);
    if (k == -2) { free(data); MCF_SKIP("real PyTorch unavailable: %s", why); }
    if (k < 0 || counts[0] < 0 || counts[1] < 0) { fprintf(stderr, "  torch could not load our files: %s\n", why); return 1; }
    MCF_CHECK(counts[0] == (int)n);
    for (j = 0; j < counts[0]; j++) {   /* torch keeps our (insertion) order */
        const mcf_tensor *e = &t[j];
        const rec *g = &got[0][j];
        int d;
        MCF_CHECK(!g->null_key && strcmp(g->key, e->name) == 0);
        MCF_CHECK(strcmp(g->dtype, mcf_dtype_name(e->dtype)) == 0);
        MCF_CHECK(g->ndim == e->ndim);
        for (d = 0; d < e->ndim; d++) MCF_CHECK(g->shape[d] == e->shape[d]);
        if (strcmp(g->sha, expect_sha[j]) != 0) { fprintf(stderr, "  %s: torch sha %s, ours %s\n", e->name, g->sha, expect_sha[j]); return 1; }
    }
    MCF_CHECK(counts[1] == 1);
    MCF_CHECK(got[1][0].null_key && strcmp(got[1][0].dtype, "F64") == 0 && got[1][0].ndim == 2);
    MCF_CHECK(got[1][0].shape[0] == 3 && got[1][0].shape[1] == 5);
    MCF_CHECK(strcmp(got[1][0].sha, expect_sha[0]) == 0);
    free(data);
    return 0;
}

static int torch_unsupported_dtypes_refused(void)
{
    static const struct { mcf_dtype d; const char *why; } cases[] = {
        {MCF_U16, "torch >= 2.3"}, {MCF_U32, "torch >= 2.3"}, {MCF_U64, "torch >= 2.3"},
        {MCF_F8_E4M3, "torch >= 2.1"}, {MCF_F8_E5M2, "torch >= 2.1"}, {MCF_F8_E8M0, "torch >= 2.7"},
        {MCF_F4, "sub-byte"}, {MCF_F6_E2M3, "sub-byte"}
    };
    unsigned char buf[16] = {0};
    size_t i, len = 0;
    void *out = NULL;
    mcf_options o;
    memset(&o, 0, sizeof o);
    o.format = "torch";
    for (i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        mcf_tensor t;
        memset(&t, 0, sizeof t);
        t.name = "w"; t.dtype = cases[i].d; t.ndim = 1; t.shape[0] = 2; t.data = buf;
        MCF_CHECK_RC(mcf_save_to_memory(&t, 1, &o, &out, &len), MCF_SERIALIZE_UNSUPPORTED);
        MCF_CHECK_ERR(cases[i].why);
        MCF_CHECK_ERR(mcf_dtype_name(cases[i].d));
    }
    return 0;
}

/* Views: shared storage offsets, strided views read contiguous, Parameter. */
static int torch_views_share_storage(void)
{
    size_t len = 0;
    unsigned char *bytes = mcf_test_slurp(TORCH_DIR "shared_storage.pt", &len);
    mcf_reader *r;
    uint64_t ob, orow, ot, nb;
    const void *vb, *vrow;
    int b, row, bt;
    MCF_CHECK(bytes != NULL);
    MCF_CHECK_RC(mcf_open_memory(bytes, len, NULL, &r), MCF_OK);
    MCF_CHECK((b = mcf_find(r, "base")) >= 0 && (row = mcf_find(r, "row1")) >= 0 && (bt = mcf_find(r, "base_t")) >= 0);
    MCF_CHECK_RC(mcf_entry_location(r, (size_t)b, &ob, &nb), MCF_OK);
    MCF_CHECK(nb == 48 && ob % 64 == 0);
    MCF_CHECK_RC(mcf_entry_location(r, (size_t)row, &orow, &nb), MCF_OK);
    MCF_CHECK(orow == ob + 16 && nb == 16);      /* row 1 = storage offset 4 floats */
    MCF_CHECK_RC(mcf_entry_location(r, (size_t)bt, &ot, &nb), MCF_OK);
    MCF_CHECK(ot == ob && nb == 48);
    MCF_CHECK_RC(mcf_view(r, (size_t)b, &vb), MCF_OK);
    MCF_CHECK_RC(mcf_view(r, (size_t)row, &vrow), MCF_OK);
    if (!mcf_test_big_endian()) {
        MCF_CHECK(vb == (const void *)(bytes + ob));  /* zero-copy from the caller's buffer */
        MCF_CHECK((const unsigned char *)vrow == (const unsigned char *)vb + 16);
    } else {   /* F32 must be swapped: host-order copies of the same storage bytes */
        MCF_CHECK(mcf_test_host_eq_le(vb, bytes + ob, 48, MCF_F32));
        MCF_CHECK(mcf_test_host_eq_le(vrow, bytes + ob + 16, 16, MCF_F32));
    }
    mcf_close(r);
    free(bytes);
    return 0;
}

/* Our writer, our reader: strided input comes back contiguous; CRCs hold. */
static int torch_roundtrip_and_crc_verify(void)
{
    static float base[12] = {0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11};
    static const int64_t st[2] = {1, 3};
    static const float want[12] = {0, 3, 6, 9, 1, 4, 7, 10, 2, 5, 8, 11};
    float got[12];
    mcf_tensor t[2];
    mcf_options o;
    mcf_reader *r;
    void *out = NULL;
    size_t len = 0;
    uint64_t off, nb;
    int i;
    memset(t, 0, sizeof t);
    memset(&o, 0, sizeof o);
    o.format = "torch";
    t[0].name = "a.t"; t[0].dtype = MCF_F32; t[0].ndim = 2; t[0].shape[0] = 3; t[0].shape[1] = 4; t[0].strides = st; t[0].data = base;
    t[1].name = "b"; t[1].dtype = MCF_F32; t[1].ndim = 0; t[1].data = &base[5];
    MCF_CHECK_RC(mcf_save_to_memory(t, 2, &o, &out, &len), MCF_OK);
    o.format = NULL;
    o.flags = MCF_VERIFY;
    MCF_CHECK_RC(mcf_open_memory(out, len, &o, &r), MCF_OK);
    MCF_CHECK(mcf_count(r) == 2);
    MCF_CHECK((i = mcf_find(r, "a.t")) == 0);
    MCF_CHECK_RC(mcf_read(r, 0, got, sizeof got), MCF_OK);
    MCF_CHECK(memcmp(got, want, sizeof want) == 0);
    MCF_CHECK_RC(mcf_read(r, 1, got, 4), MCF_OK);
    MCF_CHECK(got[0] == 5.0f);
    MCF_CHECK_RC(mcf_entry_location(r, 0, &off, &nb), MCF_OK);
    MCF_CHECK(off % 64 == 0 && nb == 48);
    mcf_close(r);
    /* flip one data byte: only a verifying reader notices */
    ((unsigned char *)out)[off + 5] ^= 0x40;
    MCF_CHECK_RC(mcf_open_memory(out, len, &o, &r), MCF_OK);
    MCF_CHECK_RC(mcf_read(r, 0, got, sizeof got), MCF_CHECKSUM_MISMATCH);
    MCF_CHECK_ERR("CRC-32");
    MCF_CHECK_ERR("archive/data/0");
    MCF_CHECK_RC(mcf_read(r, 1, got, 4), MCF_OK);   /* other storage is intact */
    mcf_close(r);
    MCF_CHECK_RC(mcf_open_memory(out, len, NULL, &r), MCF_OK);
    MCF_CHECK_RC(mcf_read(r, 0, got, sizeof got), MCF_OK);
    mcf_close(r);
    mcf_free(out);
    return 0;
}

/* mcf_save picks torch for a non-.safetensors path and writes the same bytes. */
#ifndef MCF_NO_POSIX   /* no file:// in that build: the test is left out, not skipped */
static int torch_save_to_file_matches_memory(void)
{
    static const int64_t v[3] = {1, -2, 3};
    char path[600];
    mcf_tensor t;
    mcf_options o;
    void *mem = NULL, *file = NULL;
    size_t mlen = 0, flen = 0;
    memset(&t, 0, sizeof t);
    memset(&o, 0, sizeof o);
    t.name = "v"; t.dtype = MCF_I64; t.ndim = 1; t.shape[0] = 3; t.data = v;
    MCF_CHECK(mcf_test_tmpdir() != NULL);
    mcf_test_tmp_path(path, sizeof path, "model.pt");
    MCF_CHECK_RC(mcf_save(path, &t, 1, NULL), MCF_OK);
    o.format = "pt";
    MCF_CHECK_RC(mcf_save_to_memory(&t, 1, &o, &mem, &mlen), MCF_OK);
    MCF_CHECK_RC(mcf_read_bytes(path, &file, &flen, NULL), MCF_OK);
    MCF_CHECK(flen == mlen && memcmp(file, mem, mlen) == 0);
    mcf_free(mem);
    mcf_free(file);
    remove(path);
    return 0;
}
#define TORCH_FILE_TESTS , MCF_TEST(torch_save_to_file_matches_memory)
#else
#define TORCH_FILE_TESTS
#endif

MCF_TEST_MAIN(MCF_TEST(torch_fixtures_match_manifest), MCF_TEST(torch_must_reject_fixtures_name_the_global),
              MCF_TEST(torch_legacy_format_not_supported), MCF_TEST(torch_writer_bytes_identical_to_torch),
              MCF_TEST(torch_saved_files_load_in_pytorch), MCF_TEST(torch_unsupported_dtypes_refused),
              MCF_TEST(torch_views_share_storage), MCF_TEST(torch_roundtrip_and_crc_verify)
              TORCH_FILE_TESTS)
