/* demo.c - what `make demo` runs.
 *
 * Builds a small but realistic model state (about 4 MiB: BF16 embeddings,
 * F16 attention weights, F32 MLP weights, I64 position ids, U8 token types,
 * a BOOL attention mask, a scalar I64 counter) and a bfloat16 KV-cache block,
 * then round-trips them through every local backend (plain path, file://
 * URL, memory://) in both formats (safetensors, PyTorch .pt), converts .pt to
 * safetensors, and prints a table of what happened with throughput figures.
 * Every load is compared byte for byte with what was saved; throughput is
 * the best of three runs (these are small files; see bench/ for real numbers).
 *
 * Writes under demo-out/ in the current directory (`make demo` runs it in
 * build/). Builds as C99 and as C++. */
#define MOONCAKE_FILEIO_IMPLEMENTATION
#include "../mooncake_fileio.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static double now_seconds(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static double mib_per_s(uint64_t bytes, double seconds)
{
    return (double)bytes / 1048576.0 / (seconds > 1e-9 ? seconds : 1e-9);
}

/* ---- the model state ---------------------------------------------------- */

static uint32_t rng_state = 12345u;
static uint32_t rng(void)
{
    rng_state = rng_state * 1664525u + 1013904223u;
    return rng_state >> 8;
}

/* A weight-like value in [-0.25, 0.25) as float bits. */
static float weight_value(void) { return ((float)(rng() & 0xFFFF) / 65536.0f - 0.5f) * 0.5f; }

static uint16_t to_bf16(float f)
{
    uint32_t u;
    memcpy(&u, &f, 4);
    return (uint16_t)((u + 0x7FFFu + ((u >> 16) & 1u)) >> 16);   /* round to nearest even */
}

/* IEEE half from a float in the normal range used here (|f| < 1, no NaN). */
static uint16_t to_f16(float f)
{
    uint32_t u, sign, mant;
    int exp;
    memcpy(&u, &f, 4);
    sign = (u >> 16) & 0x8000u;
    exp = (int)((u >> 23) & 0xFF) - 127 + 15;
    mant = (u >> 13) & 0x3FFu;
    if (exp <= 0) return (uint16_t)sign;                          /* flush tiny values */
    return (uint16_t)(sign | ((uint32_t)exp << 10) | mant);
}

#define NT 8
#define REPEATS 3
typedef struct model {
    mcf_tensor t[NT];
    void *mem[NT];
    uint64_t bytes;
} model;

static void *tensor(model *m, int i, const char *name, mcf_dtype dt, int ndim, int64_t d0, int64_t d1)
{
    mcf_tensor *t = &m->t[i];
    memset(t, 0, sizeof *t);
    t->name = name; t->dtype = dt; t->ndim = ndim;
    t->shape[0] = d0; t->shape[1] = d1;
    m->mem[i] = malloc((size_t)mcf_tensor_nbytes(t) + 1);
    t->data = m->mem[i];
    m->bytes += mcf_tensor_nbytes(t);
    return m->mem[i];
}

static int model_build(model *m)
{
    uint16_t *embed, *qkv;
    float *up, *norm;
    int64_t *pos, *step;
    unsigned char *types, *mask;
    size_t i;
    memset(m, 0, sizeof *m);
    embed = (uint16_t *)tensor(m, 0, "model.embed_tokens.weight", MCF_BF16, 2, 1024, 512);
    qkv = (uint16_t *)tensor(m, 1, "model.layers.0.self_attn.qkv_proj.weight", MCF_F16, 2, 768, 512);
    up = (float *)tensor(m, 2, "model.layers.0.mlp.up_proj.weight", MCF_F32, 2, 1024, 512);
    norm = (float *)tensor(m, 3, "model.norm.weight", MCF_F32, 1, 512, 0);
    pos = (int64_t *)tensor(m, 4, "position_ids", MCF_I64, 2, 1, 2048);
    types = (unsigned char *)tensor(m, 5, "token_type_ids", MCF_U8, 2, 1, 2048);
    mask = (unsigned char *)tensor(m, 6, "attention_mask", MCF_BOOL, 2, 1, 2048);
    step = (int64_t *)tensor(m, 7, "num_batches_tracked", MCF_I64, 0, 0, 0);
    for (i = 0; i < NT; i++) if (!m->mem[i]) return 1;
    for (i = 0; i < 1024 * 512; i++) embed[i] = to_bf16(weight_value());
    for (i = 0; i < 768 * 512; i++) qkv[i] = to_f16(weight_value());
    for (i = 0; i < 1024 * 512; i++) up[i] = weight_value();
    for (i = 0; i < 512; i++) norm[i] = 1.0f + weight_value() * 0.1f;
    for (i = 0; i < 2048; i++) {
        pos[i] = (int64_t)i;
        types[i] = (unsigned char)(i >= 1024);
        mask[i] = (unsigned char)(i < 1900);               /* padding at the end */
    }
    *step = 31337;
    return 0;
}

static void model_free(model *m)
{
    int i;
    for (i = 0; i < NT; i++) free(m->mem[i]);
}

/* ---- the table ---------------------------------------------------------- */

static int failures;

static void row(const char *what, const char *backend, const char *format, uint64_t size,
                double save_mibs, double load_mibs, const char *result)
{
    char sz[32], sv[32], ld[32];
    snprintf(sz, sizeof sz, "%.2f MiB", (double)size / 1048576.0);
    if (save_mibs > 0) snprintf(sv, sizeof sv, "%8.0f MiB/s", save_mibs); else snprintf(sv, sizeof sv, "%14s", "-");
    if (load_mibs > 0) snprintf(ld, sizeof ld, "%8.0f MiB/s", load_mibs); else snprintf(ld, sizeof ld, "%14s", "-");
    printf("%-12s %-10s %-12s %10s  %s  %s  %s\n", what, backend, format, sz, sv, ld, result);
}

/* file:// URL of a path under the current directory (percent-encoded). */
static int file_url(const char *rel, char *out, size_t cap)
{
    char cwd[2048];
    const char *parts[3];
    size_t n, k;
    int p;
    if (!getcwd(cwd, sizeof cwd)) return 1;
    parts[0] = cwd; parts[1] = "/"; parts[2] = rel;
    n = (size_t)snprintf(out, cap, "file://");
    for (p = 0; p < 3; p++) {
        for (k = 0; parts[p][k]; k++) {
            unsigned char c = (unsigned char)parts[p][k];
            int plain = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                        c == '/' || c == '.' || c == '_' || c == '~' || c == '-';
            if (n + 4 >= cap) return 1;
            if (plain) out[n++] = (char)c;
            else n += (size_t)snprintf(out + n, cap - n, "%%%02X", c);
        }
    }
    out[n] = 0;
    return 0;
}

/* Saves the model to url, reads every tensor back with mcf_read, compares. */
static void model_roundtrip(const model *m, const char *url, const char *backend, const char *format)
{
    mcf_options o;
    mcf_reader *r = NULL;
    uint64_t size = 0;
    double t0, t1, t2, best_save = 0, best_load = 0;
    size_t i;
    int same = 1, rep;
    unsigned char *buf = NULL;
    memset(&o, 0, sizeof o);
    o.format = format;
    o.flags = MCF_VERIFY;                               /* torch: check zip CRCs on read */
    for (rep = 0; rep < REPEATS; rep++) {   /* best of REPEATS: small files, noisy clocks */
    t0 = now_seconds();
    if (mcf_save(url, m->t, NT, &o) != MCF_OK) goto fail;
    t1 = now_seconds();
    if (mcf_open(url, &o, &r) != MCF_OK) goto fail;
    if (mcf_count(r) != NT) same = 0;
    for (i = 0; i < NT && same; i++) {
        int k = mcf_find(r, m->t[i].name);
        size_t nb = (size_t)mcf_tensor_nbytes(&m->t[i]);
        mcf_tensor info;
        if (k < 0) goto fail;
        free(buf);
        buf = (unsigned char *)malloc(nb + 1);
        if (!buf || mcf_entry(r, (size_t)k, &info) != MCF_OK || mcf_read(r, (size_t)k, buf, nb) != MCF_OK) goto fail;
        same = info.dtype == m->t[i].dtype && info.ndim == m->t[i].ndim &&
               memcmp(info.shape, m->t[i].shape, sizeof info.shape) == 0 && memcmp(buf, m->t[i].data, nb) == 0;
    }
    t2 = now_seconds();
    mcf_close(r);
    r = NULL;
    if (rep == 0 || t1 - t0 < best_save) best_save = t1 - t0;
    if (rep == 0 || t2 - t1 < best_load) best_load = t2 - t1;
    }
    free(buf);
    if (mcf_file_size(url, &size, NULL) != MCF_OK) goto fail2;
    row("model state", backend, format, size, mib_per_s(m->bytes, best_save), mib_per_s(m->bytes, best_load),
        same ? "ok, identical" : "DIFFERENT");
    if (!same) failures++;
    return;
fail:
    mcf_close(r);
    free(buf);
fail2:
    row("model state", backend, format, 0, 0, 0, "FAILED");
    printf("    %s\n", mcf_last_error());
    failures++;
}

/* Saves the KV block under key through the store layer to url, loads it
 * back under another key, compares the store's two objects. */
static void kv_roundtrip(mcf_store *store, const mcf_tensor *kv, const char *url, const char *backend, const char *format)
{
    mcf_tensor back;
    uint64_t size = 0, nb = mcf_tensor_nbytes(kv);
    double t0, t1, t2, best_save = 0, best_load = 0;
    int same, rep;
    for (rep = 0; rep < REPEATS; rep++) {
        t0 = now_seconds();
        if (mcf_save_kv_cache_to_file(store, "req7/layer-block-0", url, NULL) != MCF_OK) goto fail;
        t1 = now_seconds();
        if (mcf_load_kv_cache_from_file(store, "restored", url, NULL, NULL) != MCF_OK) goto fail;
        t2 = now_seconds();
        if (rep == 0 || t1 - t0 < best_save) best_save = t1 - t0;
        if (rep == 0 || t2 - t1 < best_load) best_load = t2 - t1;
    }
    if (mcf_store_get_tensor(store, "restored", NULL, &back) != MCF_OK) goto fail;
    same = back.dtype == kv->dtype && back.ndim == kv->ndim && memcmp(back.shape, kv->shape, sizeof back.shape) == 0 &&
           mcf_tensor_nbytes(&back) == nb && memcmp(back.data, kv->data, (size_t)nb) == 0;
    mcf_tensor_free(&back, NULL);
    if (mcf_file_size(url, &size, NULL) != MCF_OK) goto fail;
    row("kv block", backend, format, size, mib_per_s(nb, best_save), mib_per_s(nb, best_load), same ? "ok, identical" : "DIFFERENT");
    if (!same) failures++;
    return;
fail:
    row("kv block", backend, format, 0, 0, 0, "FAILED");
    printf("    %s\n", mcf_last_error());
    failures++;
}

/* .pt -> safetensors through the reader and writer; the result must equal
 * the safetensors file written directly from the same tensors. */
static void convert_check(const char *src, const char *dst, const char *direct, uint64_t bytes)
{
    mcf_reader *r = NULL;
    mcf_tensor t[NT];
    void *a = NULL, *b = NULL;
    size_t i, alen = 0, blen = 0, n;
    double t0 = now_seconds(), t1;
    int same;
    if (mcf_open(src, NULL, &r) != MCF_OK) goto fail;
    n = mcf_count(r);
    if (n != NT) { mcf_set_error(MCF_DESERIALIZE_FAIL, "%s: %lu entries, expected %d", src, (unsigned long)n, NT); goto fail; }
    for (i = 0; i < n; i++)
        if (mcf_entry(r, i, &t[i]) != MCF_OK || mcf_view(r, i, &t[i].data) != MCF_OK) goto fail;
    if (mcf_save(dst, t, n, NULL) != MCF_OK) goto fail;
    t1 = now_seconds();
    mcf_close(r);
    r = NULL;
    if (mcf_read_bytes(dst, &a, &alen, NULL) != MCF_OK || mcf_read_bytes(direct, &b, &blen, NULL) != MCF_OK) goto fail;
    same = alen == blen && memcmp(a, b, alen) == 0;
    row("convert", "plain path", "pt->st", alen, mib_per_s(bytes, t1 - t0), 0,
        same ? "ok, byte-identical to a direct save" : "DIFFERENT from a direct save");
    if (!same) failures++;
    mcf_free(a);
    mcf_free(b);
    return;
fail:
    mcf_close(r);
    mcf_free(a);
    mcf_free(b);
    row("convert", "plain path", "pt->st", 0, 0, 0, "FAILED");
    printf("    %s\n", mcf_last_error());
    failures++;
}

int main(void)
{
    static const char *const formats[2] = {"safetensors", "pt"};
    static uint16_t kvdata[2 * 8 * 8 * 64 * 64];          /* [k/v, layers, heads, tokens, head_dim] */
    model m;
    mcf_store *store;
    mcf_tensor kv;
    char urls[3][2][4096];
    const char *backends[3] = {"plain path", "file://", "memory://"};
    size_t i;
    int b, f;

    if (model_build(&m) != 0) { fprintf(stderr, "out of memory\n"); return 1; }
    for (i = 0; i < sizeof kvdata / sizeof kvdata[0]; i++) kvdata[i] = to_bf16(weight_value() * 8.0f);
    memset(&kv, 0, sizeof kv);
    kv.dtype = MCF_BF16; kv.ndim = 5;
    kv.shape[0] = 2; kv.shape[1] = 8; kv.shape[2] = 8; kv.shape[3] = 64; kv.shape[4] = 64;
    kv.data = kvdata;

    printf("mooncake_fileio.h %s demo\n\n", MCF_VERSION_STRING);
    printf("model state: %d tensors, %.2f MiB (BF16, F16, F32, I64, U8, BOOL, a 0-d I64)\n", NT, (double)m.bytes / 1048576.0);
    printf("kv block:    BF16 [2, 8, 8, 64, 64], %.2f MiB, through a Mooncake object store\n\n", (double)mcf_tensor_nbytes(&kv) / 1048576.0);
    printf("%-12s %-10s %-12s %10s  %14s  %14s  %s\n", "what", "backend", "format", "size", "save", "load", "result");

    for (f = 0; f < 2; f++) {
        snprintf(urls[0][f], sizeof urls[0][f], "demo-out/plain/model.%s", formats[f]);
        if (file_url(f ? "demo-out/url form/model.pt" : "demo-out/url form/model.safetensors", urls[1][f], sizeof urls[1][f]) != 0) return 1;
        snprintf(urls[2][f], sizeof urls[2][f], "memory://demo/model.%s", formats[f]);
    }
    for (b = 0; b < 3; b++)
        for (f = 0; f < 2; f++) model_roundtrip(&m, urls[b][f], backends[b], f ? "torch" : "safetensors");

    store = mcf_memory_store_create();
    if (!store || mcf_store_put_tensor(store, "req7/layer-block-0", &kv) != MCF_OK) {
        printf("store: %s\n", mcf_last_error());
        return 1;
    }
    for (b = 0; b < 3; b++)
        for (f = 0; f < 2; f++) {
            char url[4096];
            size_t len = strlen(urls[b][f]);
            /* same directory, kv_block.<ext> instead of model.<ext> */
            snprintf(url, sizeof url, "%.*skv_block.%s", (int)(len - strlen(strrchr(urls[b][f], '/')) + 1), urls[b][f], formats[f]);
            kv_roundtrip(store, &kv, url, backends[b], f ? "torch" : "safetensors");
        }
    mcf_memory_store_destroy(store);

    convert_check("demo-out/plain/model.pt", "demo-out/converted.safetensors", "demo-out/plain/model.safetensors", m.bytes);

    /* errors come back as a code plus a sentence naming the object */
    {
        mcf_reader *r;
        int rc = mcf_open("memory://demo/missing.pt", NULL, &r);
        printf("\nopening a missing object -> %s: %s\n", mcf_result_name(rc), mcf_last_error());
        if (rc != MCF_FILE_NOT_FOUND) failures++;
    }
    for (f = 0; f < 2; f++) (void)mcf_remove(urls[2][f], NULL);
    model_free(&m);
    printf("\n%s\n", failures ? "demo FAILED" : "demo ok: every file read back identical to what was saved");
    return failures ? 1 : 0;
}
