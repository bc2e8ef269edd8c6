/* torch .pt reader (zip directory, restricted unpickler, storages) with the
 * format forced; MCF_VERIFY also runs the zip CRC path. */
#include "fuzz_common.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    mcf_fuzz_reader(data, size, "torch", 0);
    mcf_fuzz_reader(data, size, "torch", MCF_VERIFY);
    return 0;
}
