/* safetensors reader (header length, JSON, offsets) with the format forced,
 * so inputs that do not sniff as safetensors still reach the parser. */
#include "fuzz_common.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    mcf_fuzz_reader(data, size, "safetensors", 0);
    mcf_fuzz_reader(data, size, "safetensors", MCF_LENIENT);
    return 0;
}
