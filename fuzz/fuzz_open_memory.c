/* Whole mcf_open_memory on arbitrary bytes: format sniffing, then the
 * safetensors JSON, zip directory and restricted unpickler behind it. */
#include "fuzz_common.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    mcf_fuzz_reader(data, size, NULL, 0);
    mcf_fuzz_reader(data, size, NULL, MCF_VERIFY | MCF_LENIENT);
    return 0;
}
