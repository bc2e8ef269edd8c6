/* The consumer program: the one file with the implementation, a save and a
 * load of one tensor through a file, and whether libcurl was built in.
 * Usage: consumer FILE.safetensors */
#define MOONCAKE_FILEIO_IMPLEMENTATION
#include "mooncake_fileio.h"
#include <stdio.h>
#include <string.h>

int main(int argc, char **argv)
{
    static const float w[6] = {1, 2, 3, 4, 5, 6};
    float back[6];
    mcf_tensor t;
    mcf_reader *r;
    int i;
    if (argc != 2) { fprintf(stderr, "usage: consumer FILE.safetensors\n"); return 2; }
    memset(&t, 0, sizeof t);
    t.name = "w"; t.dtype = MCF_F32; t.ndim = 2; t.shape[0] = 2; t.shape[1] = 3; t.data = w;
    if (mcf_save(argv[1], &t, 1, NULL) != MCF_OK || mcf_open(argv[1], NULL, &r) != MCF_OK) {
        fprintf(stderr, "consumer: %s\n", mcf_last_error());
        return 1;
    }
    i = mcf_find(r, "w");
    if (i < 0 || mcf_read(r, (size_t)i, back, sizeof back) != MCF_OK || memcmp(back, w, sizeof w) != 0) {
        fprintf(stderr, "consumer: read back failed: %s\n", mcf_last_error());
        mcf_close(r);
        return 1;
    }
    mcf_close(r);
#ifdef MOONCAKE_FILEIO_CURL
    {
        uint64_t requests = 1;
        mcf_curl_counters(&requests, NULL, NULL);
        printf("consumer %s: round trip ok, curl: yes (%llu requests)\n", MCF_VERSION_STRING, (unsigned long long)requests);
    }
#else
    printf("consumer %s: round trip ok, curl: no\n", MCF_VERSION_STRING);
#endif
    return 0;
}
