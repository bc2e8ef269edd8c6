/* torch .pt reader (zip directory, restricted unpickler, storages) with the
 * format forced; MCF_VERIFY also runs the zip CRC path. The same bytes as a
 * memory:// object (mapped, with positional reads: the local headers are
 * read as for a mapped local file) must give the same result code, and its
 * reads run on two threads. */
#include "fuzz_common.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    mcf_options o;
    mcf_reader *r = NULL, *m = NULL;
    int rc, rc2;
    mcf_fuzz_reader(data, size, "torch", 0);
    mcf_fuzz_reader(data, size, "torch", MCF_VERIFY);
    memset(&o, 0, sizeof o);
    o.format = "torch";
    rc = mcf_open_memory(data, size, &o, &m);
    mcf_close(m);
    if (mcf_write_bytes("memory://fz/t.pt", data, size, NULL) != MCF_OK) mcf_fuzz_die("writing the object");
    o.threads = 2;
    rc2 = mcf_open("memory://fz/t.pt", &o, &r);
    if (rc2 != rc) mcf_fuzz_die("memory:// and a caller buffer disagree");
    mcf_fuzz_check(r, rc2);
    return 0;
}
