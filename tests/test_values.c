/* [17][18][19] torch checkpoints as torch.load(weights_only=True) sees them:
 * tests/gen_values.py saves checkpoints with real PyTorch (state dicts, SGD
 * and Adam optimizer state, epoch/lr/str/None/bool/bytes values, complex128,
 * torch.Size, torch.dtype, protocols 0-5, a whole pickled model) and prints
 * what Python sees in each: every tensor, every other leaf's type name and
 * repr(), torch's own weights_only verdict and the globals it allows. The
 * reader must list exactly that, accept every global torch accepts and
 * refuse what it refuses. */
#include "mcf_test.h"
#include "mcf_test_posix.h"
#include <stdint.h>

#define GEN_SCRIPT "tests/gen_values.py"

static char g_dir[64];
static char *g_out;          /* gen_values.py's stdout */
static int g_state;          /* 0 not run, 1 ok, 2 skip, -1 failed */
static char g_why[512];

/* Complex128 tensors written by this library, for PyTorch to load. */
static const double g_z[4] = {1.0, -2.0, 0.5, 3.0};   /* (1-2j), (0.5+3j) */

static int save_ours(const char *name, const mcf_tensor *t, size_t n)
{
    char path[128];
    mcf_options o;
    void *out = NULL;
    size_t len = 0;
    int ok;
    memset(&o, 0, sizeof o);
    o.format = "torch";
    if (mcf_save_to_memory(t, n, &o, &out, &len) != MCF_OK) return 0;
    snprintf(path, sizeof path, "%s/%s", g_dir, name);
    ok = mcf_test_write_file(path, out, len);
    mcf_free(out);
    return ok;
}

/* Runs gen_values.py once per process (importing torch takes seconds). */
static int setup(void)
{
    char args[1024];
    mcf_tensor t[2];
    int rc;
    if (g_state) return g_state;
    g_state = -1;
    if (!mcf_test_tmpdir()) { snprintf(g_why, sizeof g_why, "mkdtemp failed"); return g_state; }
    snprintf(g_dir, sizeof g_dir, "%s", mcf_test_tmpdir());
    memset(t, 0, sizeof t);
    t[0].name = "z"; t[0].dtype = MCF_C128; t[0].ndim = 1; t[0].shape[0] = 2; t[0].data = g_z;
    t[1].name = "w"; t[1].dtype = MCF_F64; t[1].ndim = 1; t[1].shape[0] = 4; t[1].data = g_z;
    if (!save_ours("ours_c128.pt", t, 2)) { snprintf(g_why, sizeof g_why, "cannot write ours_c128.pt: %s", mcf_last_error()); return g_state; }
    t[0].name = "";
    if (!save_ours("ours_bare.pt", t, 1)) { snprintf(g_why, sizeof g_why, "cannot write ours_bare.pt: %s", mcf_last_error()); return g_state; }
    snprintf(args, sizeof args, GEN_SCRIPT " %s --check %s/ours_c128.pt %s/ours_bare.pt "
             "tests/data/torch/malicious_os_system.pt tests/data/torch/malicious_reduce_print.pt", g_dir, g_dir, g_dir);
    rc = mcf_test_python(args, &g_out, g_why, sizeof g_why);
    if (rc == MCF_TEST_SKIPPED) return g_state = 2;
    if (rc != 0) return g_state;
    if (!g_out) { snprintf(g_why, sizeof g_why, "no output from %s", GEN_SCRIPT); return g_state; }
    return g_state = 1;
}

#define SETUP() do { int s_ = setup(); if (s_ == 2) MCF_SKIP("real PyTorch unavailable: %s", g_why); \
    if (s_ != 1) { fprintf(stderr, "  %s\n", g_why); return 1; } } while (0)

/* Next manifest line split at tabs into f[0..*nf); returns 0 at the end. */
static int next_line(const char **at, char *line, size_t cap, char **f, int *nf, int maxf)
{
    char *p;
    if (!mcf_test_next_line(at, line, cap)) return 0;
    *nf = 0;
    f[(*nf)++] = line;
    for (p = line; *p && *nf < maxf; p++)
        if (*p == '\t') { *p = '\0'; f[(*nf)++] = p + 1; }
    return 1;
}

static mcf_reader *open_gen(const char *name, int *rc, unsigned char **bytes)
{
    char path[128];
    size_t len = 0;
    mcf_reader *r = NULL;
    snprintf(path, sizeof path, "%s/%s", g_dir, name);
    *bytes = mcf_test_slurp(path, &len);
    *rc = *bytes ? mcf_open_memory(*bytes, len, NULL, &r) : MCF_FILE_NOT_FOUND;
    return r;
}

/* Opens a torch archive whose only entry is archive/data.pkl = the n bytes
 * at pkl; returns the archive (free it after mcf_close), NULL on failure. */
static unsigned char *open_pickle(const void *pkl, size_t n, mcf_reader **r, int *rc)
{
    const char *names[1];
    const unsigned char *data[1];
    size_t lens[1], zl = 0;
    unsigned char *z;
    names[0] = "archive/data.pkl";
    data[0] = (const unsigned char *)pkl;
    lens[0] = n;
    *r = NULL;
    if (!(z = mcf_test_zip(1, names, data, lens, &zl))) { *rc = MCF_INTERNAL_ERROR; return NULL; }
    if ((*rc = mcf_open_memory(z, zl, NULL, r)) != MCF_OK) { free(z); return NULL; }
    return z;
}

/* The verdict torch 1.13's weights_only gave file `name` ("ok" or "refused: ..."). */
static const char *verdict_of(const char *name, char *out, size_t cap)
{
    const char *at = g_out;
    char line[512], *f[8];
    int nf;
    out[0] = '\0';
    while (next_line(&at, line, sizeof line, f, &nf, 8))
        if (nf >= 4 && strcmp(f[0], "F") == 0 && strcmp(f[1], name) == 0) { snprintf(out, cap, "%s", f[3]); break; }
    return out;
}

/* Every file: the tensors (name, dtype, shape) and the values (name, type,
 * text) Python sees, in order, and nothing else. */
static int values_match_python(void)
{
    const char *at;
    static char line[4096];
    char *f[8];
    int nf, files = 0, refused = 0;
    size_t ti = 0, vi = 0, nvalues = 0;
    mcf_reader *r = NULL;
    unsigned char *bytes = NULL;
    SETUP();
    at = g_out;
    for (;;) {
        int more = next_line(&at, line, sizeof line, f, &nf, 8);
        if (!more || (nf >= 1 && strcmp(f[0], "F") == 0)) {
            if (r) {   /* the previous file: nothing more than Python saw */
                if (ti != mcf_count(r) || vi != mcf_value_count(r)) {
                    fprintf(stderr, "  %lu tensors / %lu values listed, Python saw %lu / %lu\n", (unsigned long)mcf_count(r),
                            (unsigned long)mcf_value_count(r), (unsigned long)ti, (unsigned long)vi);
                    return 1;
                }
                nvalues += vi;
                mcf_close(r);
                r = NULL;
            }
            free(bytes);
            bytes = NULL;
            if (!more) break;
        }
        if (nf < 1) continue;
        if (strcmp(f[0], "F") == 0) {
            int rc;
            MCF_CHECK(nf == 4);
            files++;
            ti = vi = 0;
            r = open_gen(f[1], &rc, &bytes);
            if (strcmp(f[1], "whole_model.pt") == 0) {   /* refused by torch too; a hint instead */
                MCF_CHECK_RC(rc, MCF_DESERIALIZE_FAIL);
                MCF_CHECK_ERR("forbidden global torch.nn.modules.container.Sequential");
                MCF_CHECK_ERR("save model.state_dict() instead");
                refused++;
                continue;
            }
            if (strncmp(f[1], "unsupported_", 12) == 0) {   /* allowed globals, objects this library lacks */
                MCF_CHECK_RC(rc, MCF_NOT_SUPPORTED);
                MCF_CHECK_ERR(strcmp(f[1], "unsupported_quant.pt") == 0 ? "tensor \"q\" is a quantized tensor (torch._utils._rebuild_qtensor)"
                                                                      : "tensor \"s\" is a sparse tensor (torch._utils._rebuild_sparse_tensor)");
                MCF_CHECK(strstr(mcf_last_error(), "forbidden") == NULL);
                refused++;
                continue;
            }
            if (rc != MCF_OK) { fprintf(stderr, "  %s: %s\n", f[1], mcf_last_error()); return 1; }
        } else if (strcmp(f[0], "T") == 0 && r) {
            mcf_tensor t;
            char shape[128];
            size_t k = 0;
            int d;
            MCF_CHECK(nf == 4);
            MCF_CHECK(ti < mcf_count(r));
            MCF_CHECK_RC(mcf_entry(r, ti, &t), MCF_OK);
            shape[k++] = '[';
            for (d = 0; d < t.ndim; d++) k += (size_t)snprintf(shape + k, sizeof shape - k, "%s%lld", d ? ", " : "", (long long)t.shape[d]);
            snprintf(shape + k, sizeof shape - k, "]");
            if (strcmp(t.name, f[1]) != 0 || strcmp(mcf_dtype_name(t.dtype), f[2]) != 0 || strcmp(shape, f[3]) != 0) {
                fprintf(stderr, "  tensor %lu: %s %s %s, Python: %s %s %s\n", (unsigned long)ti, t.name, mcf_dtype_name(t.dtype), shape, f[1], f[2], f[3]);
                return 1;
            }
            ti++;
        } else if (strcmp(f[0], "V") == 0 && r) {
            const char *name = NULL, *type = NULL, *text = NULL;
            MCF_CHECK(nf == 4);
            MCF_CHECK(vi < mcf_value_count(r));
            MCF_CHECK_RC(mcf_value(r, vi, &name, &type, &text), MCF_OK);
            if (strcmp(name, f[1]) != 0 || strcmp(type, f[2]) != 0 || strcmp(text, f[3]) != 0) {
                fprintf(stderr, "  value %lu:\n    ours:   %s | %s | %s\n    Python: %s | %s | %s\n", (unsigned long)vi, name, type, text, f[1], f[2], f[3]);
                return 1;
            }
            vi++;
        }
    }
    MCF_CHECK(files == 26 && refused == 3);
    MCF_CHECK(nvalues > 10800);   /* 2 x 5115 floats, 2 x 305 ints, the rest */
    return 0;
}

static int has_value(const mcf_reader *r, const char *name, const char *type, const char *text)
{
    size_t i;
    for (i = 0; i < mcf_value_count(r); i++) {
        const char *n = NULL, *ty = NULL, *tx = NULL;
        if (mcf_value(r, i, &n, &ty, &tx) == MCF_OK && strcmp(n, name) == 0)
            return strcmp(ty, type) == 0 && strcmp(tx, text) == 0;
    }
    return 0;
}

/* The values spelled out: what a user sees for the common checkpoints.
 * file: a %s stands for the pickle protocol (2 to 5). */
static const struct { const char *file, *name, *type, *text; } g_examples[] = {
    /* {'model': m.state_dict(), 'optim': SGD(lr=0.01).state_dict(), 'epoch': 3} */
    {"sgd_p%s.pt", "optim.state.0.momentum_buffer", "NoneType", "None"},   /* no momentum */
    {"sgd_p%s.pt", "optim.param_groups.0.lr", "float", "0.01"},
    {"sgd_p%s.pt", "optim.param_groups.0.momentum", "int", "0"},
    {"sgd_p%s.pt", "optim.param_groups.0.nesterov", "bool", "False"},
    {"sgd_p%s.pt", "optim.param_groups.0.foreach", "NoneType", "None"},
    {"sgd_p%s.pt", "optim.param_groups.0.params", "list", "[0, 1]"},
    {"sgd_p%s.pt", "epoch", "int", "3"},
    /* Adam: state tensors named by parameter index, betas one tuple value */
    {"adam_p%s.pt", "optim.param_groups.0.lr", "float", "0.001"},
    {"adam_p%s.pt", "optim.param_groups.0.betas", "tuple", "(0.9, 0.999)"},
    {"adam_p%s.pt", "optim.param_groups.0.eps", "float", "1e-08"},
    {"adam_p%s.pt", "optim.param_groups.0.amsgrad", "bool", "False"},
    {"ckpt_p%s.pt", "epoch", "int", "3"},
    {"ckpt_p%s.pt", "lr", "float", "0.001"},
    {"ckpt_p%s.pt", "name", "str", "'adam'"},
    {"ckpt_p%s.pt", "none", "NoneType", "None"},
    {"ckpt_p%s.pt", "flag", "bool", "True"},
    {"ckpt_p%s.pt", "raw", "bytes", "b\"x'y\\x00\\xff\""},
    {"ckpt_p%s.pt", "size", "torch.Size", "torch.Size([2, 3])"},
    {"ckpt_p%s.pt", "dtype", "torch.dtype", "torch.bfloat16"},
    {"ckpt_p%s.pt", "device", "torch.device", "device(type='cuda', index=1)"},
    /* what torch 1.13's weights_only loads: complex128, torch.Size, torch.dtype */
    {"wo_ok.pt", "size", "torch.Size", "torch.Size([2, 3])"},
    {"wo_ok.pt", "dtype", "torch.dtype", "torch.float32"},
    {"wo_ok.pt", "cdtype", "torch.dtype", "torch.complex128"},
    {"wo_ok.pt", "big", "int", "1180591620717411303424"},
    {"wo_ok.pt", "nested.0", "list", "[1, 2]"},
    {"wo_ok.pt", "nested.1", "tuple", "(3,)"},
    {"wo_ok.pt", "empty", "list", "[]"},
    {"bare_int.pt", "", "int", "3"},                                      /* torch.save(3) */
};

/* Opens the generated file (a %s in file takes proto) and checks every
 * value g_examples lists for it; the reader, or NULL after a message. */
static mcf_reader *open_example(const char *file, const char *proto, unsigned char **bytes)
{
    char name[64];
    mcf_reader *r;
    size_t i;
    int rc;
    snprintf(name, sizeof name, file, proto);
    r = open_gen(name, &rc, bytes);
    if (rc != MCF_OK) { fprintf(stderr, "  %s: %s\n", name, mcf_last_error()); free(*bytes); return NULL; }
    for (i = 0; i < sizeof g_examples / sizeof g_examples[0]; i++)
        if (strcmp(g_examples[i].file, file) == 0 && !has_value(r, g_examples[i].name, g_examples[i].type, g_examples[i].text)) {
            fprintf(stderr, "  %s: no value %s of type %s and repr %s\n", name, g_examples[i].name, g_examples[i].type, g_examples[i].text);
            mcf_close(r);
            free(*bytes);
            return NULL;
        }
    return r;
}

static int values_exact_examples(void)
{
    static const char *const protos[4] = {"2", "3", "4", "5"};
    unsigned char *bytes = NULL;
    double z[4];
    mcf_reader *r;
    mcf_tensor t;
    int rc, p;
    SETUP();
    for (p = 0; p < 4; p++) {
        MCF_CHECK((r = open_example("sgd_p%s.pt", protos[p], &bytes)) != NULL);
        MCF_CHECK(mcf_count(r) == 2);                  /* entries stay tensors only */
        MCF_CHECK(mcf_find(r, "model.weight") == 0 && mcf_find(r, "model.bias") == 1);
        MCF_CHECK(mcf_value_count(r) == 12);
        mcf_close(r);
        free(bytes);
        MCF_CHECK((r = open_example("adam_p%s.pt", protos[p], &bytes)) != NULL);
        MCF_CHECK(mcf_count(r) == 8);
        MCF_CHECK(mcf_find(r, "optim.state.0.exp_avg") >= 0 && mcf_find(r, "optim.state.1.exp_avg_sq") >= 0);
        MCF_CHECK(mcf_find(r, "optim.state.0.step") >= 0);
        mcf_close(r);
        free(bytes);
        MCF_CHECK((r = open_example("ckpt_p%s.pt", protos[p], &bytes)) != NULL);
        MCF_CHECK((rc = mcf_find(r, "z")) >= 0);
        MCF_CHECK_RC(mcf_entry(r, (size_t)rc, &t), MCF_OK);
        MCF_CHECK(t.dtype == MCF_C128 && t.ndim == 2 && t.shape[0] == 1 && t.shape[1] == 2);
        MCF_CHECK_RC(mcf_read(r, (size_t)rc, z, sizeof z), MCF_OK);
        MCF_CHECK(memcmp(z, g_z, sizeof z) == 0);       /* [[1-2j, 0.5+3j]] */
        mcf_close(r);
        free(bytes);
    }
    MCF_CHECK((r = open_example("wo_ok.pt", "", &bytes)) != NULL);
    MCF_CHECK(mcf_count(r) == 3);
    mcf_close(r);
    free(bytes);
    MCF_CHECK((r = open_example("bare_int.pt", "", &bytes)) != NULL);
    MCF_CHECK(mcf_count(r) == 0 && mcf_value_count(r) == 1);
    mcf_close(r);
    free(bytes);
    r = open_gen("empty_dict.pt", &rc, &bytes);        /* torch.save({}): nothing */
    MCF_CHECK_RC(rc, MCF_OK);
    MCF_CHECK(mcf_count(r) == 0 && mcf_value_count(r) == 0);
    mcf_close(r);
    free(bytes);
    return 0;
}

/* Real torch 1.13's verdicts. Every file it loads, we load; the files it
 * refuses only for an opcode (BINFLOAT, 71: current torch reads it; FRAME,
 * 149: pickle protocol 4+, data only) or for a global current torch allows
 * (_codecs.encode, protocol-2 bytes) we load; those it refuses for a global
 * no torch allows (a whole model, the malicious fixtures) we refuse. A
 * sparse tensor torch loads is NOT_SUPPORTED here (not representable). */
static int values_weights_only_verdicts(void)
{
    static const struct { const char *file, *verdict; } want[] = {
        {"wo_ok.pt", "ok"}, {"ints_p2.pt", "ok"}, {"bare_int.pt", "ok"}, {"empty_dict.pt", "ok"},
        {"sgd_p2.pt", "refused: Unsupported operand 71"}, {"adam_p3.pt", "refused: Unsupported operand 71"},
        {"ckpt_p2.pt", "refused: Unsupported operand 71"}, {"floats_p2.pt", "refused: Unsupported operand 71"},
        {"sgd_p4.pt", "refused: Unsupported operand 149"}, {"ckpt_p5.pt", "refused: Unsupported operand 149"},
        {"misc_p2.pt", "refused: Unsupported class _codecs.encode"},
        {"whole_model.pt", "refused: Unsupported class torch.nn.modules.container.Sequential"},
        {"attrs_p2.pt", "ok"}, {"unsupported_sparse.pt", "ok"},
        {"unsupported_quant.pt", "refused: Unsupported class torch._utils._rebuild_qtensor"}
    };
    static const char *const malicious[2][2] = {{"tests/data/torch/malicious_os_system.pt", "os.system"},
                                                {"tests/data/torch/malicious_reduce_print.pt", "__builtin__.print"}};
    char v[256], line[512], *f[8], expect_w[128];
    const char *at;
    size_t i;
    int nf, seen = 0;
    SETUP();
    for (i = 0; i < sizeof want / sizeof want[0]; i++) {
        verdict_of(want[i].file, v, sizeof v);
        if (strcmp(v, want[i].verdict) != 0) { fprintf(stderr, "  %s: torch says \"%s\", expected \"%s\"\n", want[i].file, v, want[i].verdict); return 1; }
    }
    for (i = 0; i < 2; i++) {   /* refused by torch, refused here, naming the same global */
        unsigned char *bytes;
        size_t len = 0;
        mcf_reader *r = NULL;
        char msg[128];
        snprintf(expect_w, sizeof expect_w, "refused: Unsupported class %s", malicious[i][1]);
        at = g_out;
        while (next_line(&at, line, sizeof line, f, &nf, 8))
            if (nf == 3 && strcmp(f[0], "W") == 0 && strcmp(f[1], malicious[i][0]) == 0) { MCF_CHECK(strcmp(f[2], expect_w) == 0); seen++; }
        MCF_CHECK((bytes = mcf_test_slurp(malicious[i][0], &len)) != NULL);
        MCF_CHECK_RC(mcf_open_memory(bytes, len, NULL, &r), MCF_DESERIALIZE_FAIL);
        snprintf(msg, sizeof msg, "forbidden global %s", malicious[i][1]);
        MCF_CHECK_ERR(msg);
        free(bytes);
    }
    MCF_CHECK(seen == 2);
    return 0;
}

/* Every global torch 1.13's weights_only allows (its own list, read from the
 * running torch) loads here: as a value "<class ...>", "<function ...>" or
 * "torch.<dtype>". */
static int values_allowlist_covers_pytorch(void)
{
    const char *at;
    char line[512], *f[8];
    int nf, n = 0;
    SETUP();
    at = g_out;
    while (next_line(&at, line, sizeof line, f, &nf, 8)) {
        char pkl[300];
        size_t k;
        unsigned char *z;
        mcf_reader *r = NULL;
        const char *vn = NULL, *vt = NULL, *vx = NULL;
        char want[256];
        int rc;
        if (nf != 3 || strcmp(f[0], "G") != 0) continue;
        k = (size_t)snprintf(pkl, sizeof pkl, "\x80\x02" "c%s\n%s\n.", f[1], f[2]);
        z = open_pickle(pkl, k, &r, &rc);
        if (rc != MCF_OK) { fprintf(stderr, "  %s.%s: %s\n", f[1], f[2], mcf_last_error()); return 1; }
        MCF_CHECK(mcf_value_count(r) == 1);
        MCF_CHECK_RC(mcf_value(r, 0, &vn, &vt, &vx), MCF_OK);
        if (strcmp(vt, "torch.dtype") == 0) snprintf(want, sizeof want, "%s.%s", f[1], f[2]);
        else if (strcmp(vt, "type") == 0) snprintf(want, sizeof want, "<class '%s.%s'>", f[1], f[2]);
        else snprintf(want, sizeof want, "<function %s.%s>", f[1], f[2]);
        if (strcmp(vx, want) != 0 || vn[0]) { fprintf(stderr, "  %s.%s: listed as \"%s\" (%s)\n", f[1], f[2], vx, vt); return 1; }
        mcf_close(r);
        free(z);
        n++;
    }
    MCF_CHECK(n >= 80);   /* torch 1.13 allows 88 */
    return 0;
}

/* complex128 written here loads in real PyTorch (weights_only=True) with
 * its values; our reader reads it back. */
static int values_c128_written_loads_in_pytorch(void)
{
    const char *at;
    char line[1024], *f[8], path[128], want_z[160], want_bare[160];
    int nf, x = 0, w = 0;
    unsigned char *bytes;
    size_t len = 0;
    mcf_reader *r;
    double back[4];
    SETUP();
    snprintf(path, sizeof path, "%s/ours_c128.pt", g_dir);
    snprintf(want_z, sizeof want_z, "%s/ours_c128.pt", g_dir);
    snprintf(want_bare, sizeof want_bare, "%s/ours_bare.pt", g_dir);
    at = g_out;
    while (next_line(&at, line, sizeof line, f, &nf, 8)) {
        if (nf == 3 && strcmp(f[0], "W") == 0 && (strcmp(f[1], want_z) == 0 || strcmp(f[1], want_bare) == 0)) {
            if (strcmp(f[2], "ok") != 0) { fprintf(stderr, "  %s: %s\n", f[1], f[2]); return 1; }
            w++;
        }
        if (nf == 5 && strcmp(f[0], "X") == 0 && strcmp(f[1], want_z) == 0) {
            if (strcmp(f[2], "z") == 0) MCF_CHECK(strcmp(f[3], "C128") == 0 && strcmp(f[4], "[(1-2j), (0.5+3j)]") == 0);
            else MCF_CHECK(strcmp(f[2], "w") == 0 && strcmp(f[3], "F64") == 0 && strcmp(f[4], "[1.0, -2.0, 0.5, 3.0]") == 0);
            x++;
        }
        if (nf == 5 && strcmp(f[0], "X") == 0 && strcmp(f[1], want_bare) == 0) {
            MCF_CHECK(f[2][0] == '\0' && strcmp(f[3], "C128") == 0 && strcmp(f[4], "[(1-2j), (0.5+3j)]") == 0);
            x++;
        }
    }
    MCF_CHECK(w == 2 && x == 3);
    MCF_CHECK((bytes = mcf_test_slurp(path, &len)) != NULL);
    MCF_CHECK_RC(mcf_open_memory(bytes, len, NULL, &r), MCF_OK);
    MCF_CHECK(mcf_find(r, "z") == 0 && mcf_value_count(r) == 0);
    MCF_CHECK_RC(mcf_read(r, 0, back, 32), MCF_OK);
    MCF_CHECK(memcmp(back, g_z, 32) == 0);
    mcf_close(r);
    free(bytes);
    return 0;
}

/* The accessors' contract, without PyTorch. */
static int values_api_edges(void)
{
    static const float w[2] = {1, 2};
    const char *name = "untouched", *type = "untouched", *text = "untouched";
    mcf_tensor t;
    mcf_reader *r;
    void *out = NULL;
    size_t len = 0;
    int rc;
    memset(&t, 0, sizeof t);
    t.name = "w"; t.dtype = MCF_F32; t.ndim = 1; t.shape[0] = 2; t.data = w;
    MCF_CHECK_RC(mcf_test_save_open(&t, 1, "safetensors", &out, &len, &r), MCF_OK);
    MCF_CHECK(mcf_value_count(r) == 0);                 /* safetensors: none */
    MCF_CHECK_RC(mcf_value(r, 0, &name, &type, &text), MCF_INVALID_PARAMS);
    MCF_CHECK_ERR("value 0 out of range (0 values)");
    MCF_CHECK(strcmp(name, "untouched") == 0 && strcmp(text, "untouched") == 0);
    mcf_close(r);
    mcf_free(out);
    MCF_CHECK(mcf_value_count(NULL) == 0);
    MCF_CHECK_RC(mcf_value(NULL, 0, &name, &type, &text), MCF_INVALID_PARAMS);
    /* a torch file of tensors only has no values; NULL out-pointers are skipped */
    MCF_CHECK_RC(mcf_test_save_open(&t, 1, "torch", &out, &len, &r), MCF_OK);
    MCF_CHECK(mcf_count(r) == 1 && mcf_value_count(r) == 0);
    mcf_close(r);
    mcf_free(out);
    {   /* {'a': 1.5, 'b': (2, 'x')} by hand: value 1 with only its text asked for */
        static const char pkl[] = "\x80\x02}(X\x01\x00\x00\x00" "aG?\xf8\x00\x00\x00\x00\x00\x00X\x01\x00\x00\x00" "bK\x02X\x01\x00\x00\x00" "x\x86u.";
        unsigned char *z = open_pickle(pkl, sizeof pkl - 1, &r, &rc);
        MCF_CHECK_RC(rc, MCF_OK);
        MCF_CHECK(mcf_value_count(r) == 2);
        text = NULL;
        MCF_CHECK_RC(mcf_value(r, 1, NULL, NULL, &text), MCF_OK);
        MCF_CHECK(text && strcmp(text, "(2, 'x')") == 0);
        MCF_CHECK_RC(mcf_value(r, 0, &name, &type, &text), MCF_OK);
        MCF_CHECK(strcmp(name, "a") == 0 && strcmp(type, "float") == 0 && strcmp(text, "1.5") == 0);
        mcf_close(r);
        free(z);
    }
    {   /* {'a\0b': 1}: a value name is a C string, so the NUL is written \x00 */
        static const char pkl[] = "\x80\x02}X\x03\x00\x00\x00" "a\x00" "bK\x01s.";
        unsigned char *z = open_pickle(pkl, sizeof pkl - 1, &r, &rc);
        MCF_CHECK_RC(rc, MCF_OK);
        MCF_CHECK_RC(mcf_value(r, 0, &name, &type, &text), MCF_OK);
        MCF_CHECK(strcmp(name, "a\\x00b") == 0 && strcmp(type, "int") == 0 && strcmp(text, "1") == 0);
        mcf_close(r);
        free(z);
    }
    return 0;
}

/* Last: removes what gen_values.py wrote. */
static int values_cleanup(void)
{
    const char *at;
    char line[512], *f[8], path[160];
    int nf;
    if (g_state == 0 || !g_dir[0]) return 0;
    at = g_out ? g_out : "";
    while (next_line(&at, line, sizeof line, f, &nf, 8))
        if (nf >= 2 && strcmp(f[0], "F") == 0) { snprintf(path, sizeof path, "%s/%s", g_dir, f[1]); remove(path); }
    snprintf(path, sizeof path, "%s/ours_c128.pt", g_dir);
    remove(path);
    snprintf(path, sizeof path, "%s/ours_bare.pt", g_dir);
    remove(path);
    MCF_CHECK(rmdir(g_dir) == 0);
    free(g_out);
    g_out = NULL;
    return 0;
}

MCF_TEST_MAIN(MCF_TEST(values_match_python), MCF_TEST(values_exact_examples), MCF_TEST(values_weights_only_verdicts),
              MCF_TEST(values_allowlist_covers_pytorch), MCF_TEST(values_c128_written_loads_in_pytorch),
              MCF_TEST(values_api_edges), MCF_TEST(values_cleanup))
