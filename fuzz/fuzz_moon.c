/* Mooncake tensor object decode: mcf_moon_decode on hostile bytes. */
#include "fuzz_common.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    mcf_tensor t;
    memset(&t, 0, sizeof t);
    if (mcf_moon_decode(data, size, &t) == MCF_OK) {
        uint64_t nbytes = mcf_tensor_nbytes(&t);
        if (t.ndim < 0 || t.ndim > MCF_MAX_DIMS) mcf_fuzz_die("decoded ndim out of range");
        if (nbytes == UINT64_MAX || nbytes > size) mcf_fuzz_die("decoded view claims more bytes than the object holds");
        if (nbytes && (!t.data || (const uint8_t *)t.data < data || (const uint8_t *)t.data + nbytes > data + size))
            mcf_fuzz_die("decoded view points outside the object");
        if (nbytes) {   /* touch every byte: ASan checks the view */
            volatile unsigned char sum = 0;
            size_t i;
            for (i = 0; i < (size_t)nbytes; i++) sum = (unsigned char)(sum + ((const unsigned char *)t.data)[i]);
            (void)sum;
        }
    } else if (mcf_last_error()[0] == '\0') {
        mcf_fuzz_die("failure without a sentence");
    }
    return 0;
}
