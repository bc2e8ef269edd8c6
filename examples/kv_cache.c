/* kv_cache.c - a KV-cache block through the store layer: put it into a
 * store, save it to file:// and memory://, load it back, compare.
 *
 *   cc -std=c99 -O2 examples/kv_cache.c -o kv_cache && ./kv_cache
 *
 * The store holds Mooncake tensor objects (TensorMetadata + data, the bytes
 * Mooncake's integration_utils.h reads); mcf_memory_store_create() is the
 * embedded in-process store. A Mooncake deployment passes its own mcf_store
 * (see MOONCAKE_FILEIO_MOONCAKE_STORE) and the calls stay the same.
 * Writes mcf-kv/ in the current directory. Builds as C99 and as C++. */
#define MOONCAKE_FILEIO_IMPLEMENTATION
#include "../mooncake_fileio.h"

#include <stdio.h>
#include <string.h>
#include <unistd.h>

/* A block of a KV cache: [k/v, layers, heads, tokens, head_dim] in bfloat16. */
#define KV 2
#define LAYERS 2
#define HEADS 4
#define TOKENS 16
#define HEAD_DIM 8
#define ELEMS (KV * LAYERS * HEADS * TOKENS * HEAD_DIM)

/* file:// URL for a path under the current directory, percent-encoding
 * every byte outside [A-Za-z0-9/._~-] (file URLs are percent-decoded). */
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

/* Loads url into the store under key, then checks the store's copy. */
static int load_and_check(mcf_store *store, const char *key, const char *url, const uint16_t *expect)
{
    mcf_tensor back;
    int ok;
    if (mcf_load_kv_cache_from_file(store, key, url, NULL, NULL) != MCF_OK ||
        mcf_store_get_tensor(store, key, NULL, &back) != MCF_OK) {
        fprintf(stderr, "load %s failed: %s\n", url, mcf_last_error());
        return 1;
    }
    ok = back.dtype == MCF_BF16 && back.ndim == 5 && back.shape[3] == TOKENS &&
         mcf_tensor_nbytes(&back) == sizeof(uint16_t) * ELEMS &&
         memcmp(back.data, expect, sizeof(uint16_t) * ELEMS) == 0;
    printf("  %-14s <- %-30s %s [%lld, %lld, %lld, %lld, %lld]  %s\n", key,
           strncmp(url, "file://", 7) == 0 ? "file://.../mcf-kv/block.pt" : url, mcf_dtype_name(back.dtype),
           (long long)back.shape[0], (long long)back.shape[1], (long long)back.shape[2],
           (long long)back.shape[3], (long long)back.shape[4], ok ? "identical" : "DIFFERENT");
    mcf_tensor_free(&back, NULL);
    return ok ? 0 : 1;
}

int main(void)
{
    static uint16_t block[ELEMS];
    mcf_store *store;
    mcf_tensor t;
    char url[4096];
    size_t i;
    int failures = 0;
    uint64_t size = 0;

    for (i = 0; i < ELEMS; i++)   /* deterministic bfloat16 values in [-2, 2) */
        block[i] = (uint16_t)(((i * 40503u) & 0x8000u) | (0x3f00u + (i % 255u)));

    memset(&t, 0, sizeof t);
    t.dtype = MCF_BF16;
    t.ndim = 5;
    t.shape[0] = KV; t.shape[1] = LAYERS; t.shape[2] = HEADS; t.shape[3] = TOKENS; t.shape[4] = HEAD_DIM;
    t.data = block;

    store = mcf_memory_store_create();
    if (!store || mcf_store_put_tensor(store, "req42/block0", &t) != MCF_OK) {
        fprintf(stderr, "store put failed: %s\n", mcf_last_error());
        return 1;
    }
    printf("stored req42/block0: %s, %lu bytes of data, %lu bytes as a Mooncake object\n",
           mcf_dtype_name(t.dtype), (unsigned long)mcf_tensor_nbytes(&t), (unsigned long)mcf_moon_object_size(&t));

    /* save the store entry: to a local file (torch format, what torch.save
     * writes for a tensor) and to process memory (safetensors, by suffix) */
    if (file_url("mcf-kv/block.pt", url, sizeof url) != 0) return 1;
    if (mcf_save_kv_cache_to_file(store, "req42/block0", url, NULL) != MCF_OK ||
        mcf_save_kv_cache_to_file(store, "req42/block0", "memory://kv/block.safetensors", NULL) != MCF_OK) {
        fprintf(stderr, "save failed: %s\n", mcf_last_error());
        return 1;
    }
    if (mcf_file_size("mcf-kv/block.pt", &size, NULL) == MCF_OK) printf("saved file://.../mcf-kv/block.pt (%lu bytes)\n", (unsigned long)size);
    if (mcf_file_size("memory://kv/block.safetensors", &size, NULL) == MCF_OK) printf("saved memory://kv/block.safetensors (%lu bytes)\n", (unsigned long)size);

    /* load both back under new keys and compare with the original */
    printf("loaded back:\n");
    failures += load_and_check(store, "restored/file", url, block);
    failures += load_and_check(store, "restored/mem", "memory://kv/block.safetensors", block);

    /* a key that is not in the store: an error code and a sentence */
    if (mcf_save_kv_cache_to_file(store, "req42/missing", "memory://kv/missing.pt", NULL) == MCF_FILE_NOT_FOUND)
        printf("saving a missing key -> %s\n", mcf_result_name(MCF_FILE_NOT_FOUND));
    else
        failures++;

    (void)mcf_remove("memory://kv/block.safetensors", NULL);
    mcf_memory_store_destroy(store);
    printf("%s\n", failures ? "kv_cache FAILED" : "kv_cache ok");
    return failures ? 1 : 0;
}
