/* tp_shard.c - tensor-parallel loading: rank R of N reads its rows of every
 * 2-D weight of a sharded checkpoint, as F32, and nothing else.
 *
 *   cc -std=c99 -O2 examples/tp_shard.c -o tp_shard
 *   ./tp_shard                          # writes mcf-tp/ (a 3-shard checkpoint), loads rank 1 of 4
 *   ./tp_shard URL RANK N               # any index: model.safetensors.index.json,
 *                                       # pytorch_model.bin.index.json, a plain file
 *
 * Each 2-D weight of R rows is split along dim 0 into N parts of
 * ceil(R / N) rows (the last may be shorter or empty); rank k reads rows
 * [k * part, (k + 1) * part). Only those rows are read from the shard that
 * holds the weight (one ranged read per weight over http/s3), converted to
 * F32 on the way (F16, BF16, F64, integers). Builds as C99 and as C++. */
#define MOONCAKE_FILEIO_IMPLEMENTATION   /* in exactly one .c/.cpp file */
#include "../mooncake_fileio.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* A small model saved in shards of at most 2000 bytes: 3 layers of a [16, 24]
 * F32 and a [8, 24] BF16 weight, a bias each (1-D: not split). */
static int write_demo(const char *url)
{
    static float w[3][16 * 24];
    static uint16_t h[3][8 * 24];
    static float b[3][16];
    static char names[9][40];
    mcf_tensor t[9];
    mcf_options o;
    int k, i, n = 0;
    memset(t, 0, sizeof t);
    for (k = 0; k < 3; k++) {
        for (i = 0; i < 16 * 24; i++) w[k][i] = (float)(k * 1000 + i);
        for (i = 0; i < 8 * 24; i++) h[k][i] = (uint16_t)(0x3f80 + k);   /* bfloat16 1.0, 1.0078125, 1.015625 */
        for (i = 0; i < 16; i++) b[k][i] = 0.5f;
        sprintf(names[n], "layers.%d.mlp.weight", k);
        t[n].name = names[n]; t[n].dtype = MCF_F32; t[n].ndim = 2; t[n].shape[0] = 16; t[n].shape[1] = 24; t[n].data = w[k];
        n++;
        sprintf(names[n], "layers.%d.attn.weight", k);
        t[n].name = names[n]; t[n].dtype = MCF_BF16; t[n].ndim = 2; t[n].shape[0] = 8; t[n].shape[1] = 24; t[n].data = h[k];
        n++;
        sprintf(names[n], "layers.%d.bias", k);
        t[n].name = names[n]; t[n].dtype = MCF_F32; t[n].ndim = 1; t[n].shape[0] = 16; t[n].data = b[k];
        n++;
    }
    memset(&o, 0, sizeof o);
    o.max_shard_bytes = 2000;            /* Hugging Face: max_shard_size="2KB" */
    if (mcf_save(url, t, (size_t)n, &o) != MCF_OK) {
        fprintf(stderr, "save failed: %s\n", mcf_last_error());
        return 1;
    }
    return 0;
}

/* The last path component of a URL, for printing shard names. */
static const char *base(const char *url)
{
    const char *s = strrchr(url, '/');
    return s ? s + 1 : url;
}

int main(int argc, char **argv)
{
    const char *url = "mcf-tp/model.safetensors.index.json";
    long rank = 1, world = 4;
    mcf_reader *r;
    size_t i, loaded = 0;
    uint64_t bytes = 0;
    if (argc == 4) {
        url = argv[1];
        rank = strtol(argv[2], NULL, 10);
        world = strtol(argv[3], NULL, 10);
        if (world < 1 || rank < 0 || rank >= world) {
            fprintf(stderr, "usage: tp_shard [URL RANK N] with 0 <= RANK < N\n");
            return 2;
        }
    } else if (argc != 1) {
        fprintf(stderr, "usage: tp_shard [URL RANK N]\n");
        return 2;
    } else if (write_demo("mcf-tp/model.safetensors") != 0) {
        return 1;
    }

    if (mcf_open(url, NULL, &r) != MCF_OK) {
        fprintf(stderr, "open failed: %s\n", mcf_last_error());
        return 1;
    }
    printf("%s: %lu tensors; rank %ld of %ld\n", url, (unsigned long)mcf_count(r), rank, world);
    for (i = 0; i < mcf_count(r); i++) {
        mcf_tensor t;
        mcf_slice rows;
        int64_t part, shape[MCF_MAX_DIMS];
        size_t n, k;
        float *buf;
        double sum = 0;
        mcf_entry(r, i, &t);
        if (t.ndim != 2 || !mcf_convert_supported(t.dtype, MCF_F32)) continue;
        part = (t.shape[0] + world - 1) / world;
        rows = mcf_slice_range(rank * part, (rank + 1) * part);   /* clamps at the end */
        if (mcf_slice_shape(r, i, &rows, 1, shape) != MCF_OK) return 1;
        n = (size_t)(shape[0] * shape[1]);
        buf = (float *)malloc(n ? n * sizeof *buf : 1);
        if (!buf) return 1;
        if (mcf_read_as(r, i, MCF_F32, &rows, 1, buf, n * sizeof *buf) != MCF_OK) {
            fprintf(stderr, "read failed: %s\n", mcf_last_error());
            free(buf);
            mcf_close(r);
            return 1;
        }
        for (k = 0; k < n; k++) sum += buf[k];
        printf("  %-22s %-5s [%lld, %lld] -> rows %lld:%lld [%lld, %lld]  sum %.9g  (%s)\n", t.name, mcf_dtype_name(t.dtype),
               (long long)t.shape[0], (long long)t.shape[1], (long long)rows.start,
               (long long)(rows.start + shape[0]), (long long)shape[0], (long long)shape[1], sum, base(mcf_entry_source(r, i)));
        loaded++;
        bytes += (uint64_t)n * sizeof *buf;
        free(buf);
    }
    printf("rank %ld loaded %lu weights, %llu bytes of F32\n", rank, (unsigned long)loaded, (unsigned long long)bytes);
    mcf_close(r);
    return 0;
}
