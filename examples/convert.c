/* convert.c - PyTorch .pt -> safetensors.
 *
 *   cc -std=c99 -O2 examples/convert.c -o convert
 *   ./convert model.pt model.safetensors
 *
 * Reads the checkpoint with the library's restricted unpickler (no code from
 * the file runs, unlike torch.load without weights_only), views every tensor
 * zero-copy where the file is mapped, and writes all of them to one
 * safetensors file. Nested dict keys come out joined with '.', as
 * model.state_dict() names them; a file holding one bare tensor
 * (torch.save(t)) gets the entry name "tensor". Builds as C99 and as C++. */
#define MOONCAKE_FILEIO_IMPLEMENTATION
#include "../mooncake_fileio.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int main(int argc, char **argv)
{
    mcf_reader *r;
    mcf_tensor *t;
    mcf_options o;
    size_t i, n;
    uint64_t bytes = 0;
    int rc;

    if (argc != 3) {
        fprintf(stderr, "usage: %s IN.pt OUT.safetensors\n", argv[0]);
        return 2;
    }
    memset(&o, 0, sizeof o);
    o.format = "torch";                       /* refuse anything else as input */
    if (mcf_open(argv[1], &o, &r) != MCF_OK) {
        fprintf(stderr, "convert: %s\n", mcf_last_error());
        return 1;
    }
    n = mcf_count(r);
    t = (mcf_tensor *)calloc(n ? n : 1, sizeof *t);
    if (!t) { mcf_close(r); return 1; }
    for (i = 0; i < n; i++) {
        /* name, dtype, shape from the index; data: a view valid until mcf_close */
        if (mcf_entry(r, i, &t[i]) != MCF_OK || mcf_view(r, i, &t[i].data) != MCF_OK) {
            fprintf(stderr, "convert: %s\n", mcf_last_error());
            free(t);
            mcf_close(r);
            return 1;
        }
        if (t[i].name[0] == '\0') t[i].name = "tensor";
        bytes += mcf_tensor_nbytes(&t[i]);
    }

    memset(&o, 0, sizeof o);
    o.format = "safetensors";                 /* whatever OUT's suffix is */
    rc = mcf_save(argv[2], t, n, &o);
    if (rc != MCF_OK) fprintf(stderr, "convert: %s\n", mcf_last_error());
    else {
        printf("%lu tensors, %llu bytes:\n", (unsigned long)n, (unsigned long long)bytes);
        for (i = 0; i < n; i++) {
            int d;
            printf("  %-24s %-5s [", t[i].name, mcf_dtype_name(t[i].dtype));
            for (d = 0; d < t[i].ndim; d++) printf("%s%lld", d ? ", " : "", (long long)t[i].shape[d]);
            printf("]\n");
        }
    }
    free(t);
    mcf_close(r);
    return rc == MCF_OK ? 0 : 1;
}
