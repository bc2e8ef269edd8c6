/* remote.c - save tensors to an http(s):// or s3:// URL, open the file
 * lazily, read one tensor, and show what crossed the network.
 *
 *   cc -std=c99 -DMOONCAKE_FILEIO_CURL examples/remote.c -o remote -lcurl -pthread
 *   ./remote http://127.0.0.1:8080/models/demo.safetensors
 *   AWS_ACCESS_KEY_ID=... AWS_SECRET_ACCESS_KEY=... AWS_ENDPOINT_URL=http://127.0.0.1:4568 \
 *       ./remote s3://bucket/models/demo.pt
 *
 * S3 credentials, region and endpoint come from the AWS_* environment (or,
 * in your own code, from options.storage_options: "key", "secret", ...).
 * The suffix picks the format: .safetensors, anything else torch .pt. */
#define MOONCAKE_FILEIO_IMPLEMENTATION
#include "../mooncake_fileio.h"

#include <stdio.h>
#include <string.h>

#ifndef MOONCAKE_FILEIO_CURL
int main(void)
{
    fprintf(stderr, "remote: build with -DMOONCAKE_FILEIO_CURL and link -lcurl\n");
    return 2;
}
#else
int main(int argc, char **argv)
{
    static float weight[512 * 1024];            /* 2 MiB the load must not fetch */
    static float bias[8] = { 1, 2, 3, 4, 5, 6, 7, 8 };
    mcf_tensor t[2];
    mcf_reader *r = NULL;
    uint64_t req0, in0, req1, in1, off, nbytes;
    float got[8];
    size_t i;
    int idx;

    if (argc != 2) {
        fprintf(stderr, "usage: %s http://host:port/path/file.safetensors | s3://bucket/key.pt\n", argv[0]);
        return 2;
    }
    for (i = 0; i < sizeof weight / sizeof weight[0]; i++) weight[i] = (float)i / 1024.0f;
    memset(t, 0, sizeof t);
    t[0].name = "layer.weight"; t[0].dtype = MCF_F32; t[0].ndim = 2;
    t[0].shape[0] = 512; t[0].shape[1] = 1024; t[0].data = weight;
    t[1].name = "layer.bias"; t[1].dtype = MCF_F32; t[1].ndim = 1;
    t[1].shape[0] = 8; t[1].data = bias;

    if (mcf_save(argv[1], t, 2, NULL) != MCF_OK) {   /* streamed PUT / multipart upload */
        fprintf(stderr, "save failed: %s\n", mcf_last_error());
        return 1;
    }
    mcf_curl_counters(&req0, &in0, NULL);
    if (mcf_open(argv[1], NULL, &r) != MCF_OK) {     /* one ranged GET: the first 72 KiB */
        fprintf(stderr, "open failed: %s\n", mcf_last_error());
        return 1;
    }
    idx = mcf_find(r, "layer.bias");
    if (idx < 0 || mcf_read(r, (size_t)idx, got, sizeof got) != MCF_OK) {   /* one ranged GET */
        fprintf(stderr, "read failed: %s\n", mcf_last_error());
        mcf_close(r);
        return 1;
    }
    mcf_curl_counters(&req1, &in1, NULL);
    (void)mcf_entry_location(r, (size_t)idx, &off, &nbytes);
    printf("%s (%s, %lu tensors)\n", argv[1], mcf_reader_format(r), (unsigned long)mcf_count(r));
    printf("layer.bias = [%g %g %g ... %g] from offset %llu\n", (double)got[0], (double)got[1], (double)got[2],
           (double)got[7], (unsigned long long)off);
    printf("open + one tensor: %llu requests, %llu bytes received (the file is over %lu bytes)\n",
           (unsigned long long)(req1 - req0), (unsigned long long)(in1 - in0), (unsigned long)sizeof weight);
    mcf_close(r);
    return memcmp(got, bias, sizeof bias) == 0 ? 0 : 1;
}
#endif
