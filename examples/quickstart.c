/* quickstart.c - save a few tensors to a file, list what is in it, load one.
 *
 *   cc -std=c99 -O2 examples/quickstart.c -o quickstart && ./quickstart
 *
 * Writes mcf-quickstart/model.safetensors and mcf-quickstart/model.pt in the
 * current directory (the directory is created). Builds as C99 and as C++. */
#define MOONCAKE_FILEIO_IMPLEMENTATION   /* in exactly one .c/.cpp file */
#include "../mooncake_fileio.h"

#include <stdio.h>
#include <string.h>

/* Prints every entry of a file: name, dtype, shape. */
static int list(const char *url)
{
    mcf_reader *r;
    size_t i;
    if (mcf_open(url, NULL, &r) != MCF_OK) {
        fprintf(stderr, "open failed: %s\n", mcf_last_error());
        return 1;
    }
    printf("%s (%s), %lu tensors:\n", url, mcf_reader_format(r), (unsigned long)mcf_count(r));
    for (i = 0; i < mcf_count(r); i++) {
        mcf_tensor t;
        int d;
        mcf_entry(r, i, &t);
        printf("  %-10s %-5s [", t.name, mcf_dtype_name(t.dtype));
        for (d = 0; d < t.ndim; d++) printf("%s%lld", d ? ", " : "", (long long)t.shape[d]);
        printf("]\n");
    }
    mcf_close(r);
    return 0;
}

int main(void)
{
    float weight[2][3] = {{0.5f, -1.0f, 2.0f}, {3.25f, 4.0f, -5.5f}};
    uint16_t bias[3] = {0x3f80, 0x4000, 0xbfc0};        /* bfloat16: 1, 2, -1.5 */
    int64_t token_ids[4] = {101, 2023, 2003, 102};
    const char *metadata[] = {"format", "pt", "producer", "quickstart.c", NULL};
    mcf_tensor t[3];
    mcf_options o;
    mcf_reader *r;
    float loaded[6];
    int i;

    /* 1. describe the tensors: name, dtype, shape, pointer to the data */
    memset(t, 0, sizeof t);
    t[0].name = "weight"; t[0].dtype = MCF_F32; t[0].ndim = 2;
    t[0].shape[0] = 2; t[0].shape[1] = 3; t[0].data = weight;
    t[1].name = "bias"; t[1].dtype = MCF_BF16; t[1].ndim = 1;
    t[1].shape[0] = 3; t[1].data = bias;
    t[2].name = "token_ids"; t[2].dtype = MCF_I64; t[2].ndim = 1;
    t[2].shape[0] = 4; t[2].data = token_ids;

    /* 2. save them: the suffix picks the format, options add metadata */
    memset(&o, 0, sizeof o);
    o.metadata = metadata;
    if (mcf_save("mcf-quickstart/model.safetensors", t, 3, &o) != MCF_OK ||
        mcf_save("mcf-quickstart/model.pt", t, 3, NULL) != MCF_OK) {   /* what torch.save writes */
        fprintf(stderr, "save failed: %s\n", mcf_last_error());
        return 1;
    }

    /* 3. list both files */
    if (list("mcf-quickstart/model.safetensors") || list("mcf-quickstart/model.pt")) return 1;

    /* 4. load one tensor: find it by name, copy its bytes out */
    if (mcf_open("mcf-quickstart/model.pt", NULL, &r) != MCF_OK) {
        fprintf(stderr, "open failed: %s\n", mcf_last_error());
        return 1;
    }
    i = mcf_find(r, "weight");
    if (i < 0 || mcf_read(r, (size_t)i, loaded, sizeof loaded) != MCF_OK) {
        fprintf(stderr, "read failed: %s\n", mcf_last_error());
        mcf_close(r);
        return 1;
    }
    printf("weight =");
    for (i = 0; i < 6; i++) printf(" %g", (double)loaded[i]);
    printf("\n");

    /* a missing name is an error code plus a sentence, never a crash */
    if (mcf_find(r, "missing") == MCF_OBJECT_NOT_FOUND)
        printf("mcf_find(\"missing\") -> %s\n", mcf_result_name(MCF_OBJECT_NOT_FOUND));
    mcf_close(r);

    /* safetensors metadata comes back as key/value strings */
    if (mcf_open("mcf-quickstart/model.safetensors", NULL, &r) == MCF_OK) {
        printf("producer = %s\n", mcf_metadata(r, "producer"));
        mcf_close(r);
    }
    return 0;
}
