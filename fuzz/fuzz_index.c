/* Sharded-checkpoint index parser: the fuzzed bytes are an .index.json in
 * memory:// next to fixed shards (a.safetensors: x and y; b.safetensors: z;
 * c.pt: q; sub/d.safetensors: w), opened strictly and with MCF_LENIENT. A
 * reader that opens must only name shards of that directory. */
#include "fuzz_common.h"

static int g_shards_made;

static void make_shards(void)
{
    static const float v[6] = {1, 2, 3, 4, 5, 6};
    mcf_tensor t[2];
    memset(t, 0, sizeof t);
    t[0].name = "x"; t[0].dtype = MCF_F32; t[0].ndim = 2; t[0].shape[0] = 2; t[0].shape[1] = 3; t[0].data = v;
    t[1].name = "y"; t[1].dtype = MCF_F32; t[1].ndim = 1; t[1].shape[0] = 2; t[1].data = v;
    if (mcf_save("memory://fz/a.safetensors", t, 2, NULL) != MCF_OK) mcf_fuzz_die("shard a");
    t[0].name = "z";
    if (mcf_save("memory://fz/b.safetensors", t, 1, NULL) != MCF_OK) mcf_fuzz_die("shard b");
    t[0].name = "q";
    if (mcf_save("memory://fz/c.pt", t, 1, NULL) != MCF_OK) mcf_fuzz_die("shard c");
    t[0].name = "w";
    if (mcf_save("memory://fz/sub/d.safetensors", t, 1, NULL) != MCF_OK) mcf_fuzz_die("shard d");
    if (mcf_save("memory://elsewhere/e.safetensors", t, 1, NULL) != MCF_OK) mcf_fuzz_die("shard e");
    g_shards_made = 1;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const unsigned flags[2] = {0, MCF_LENIENT | MCF_VERIFY};
    mcf_options o;
    int k;
    if (!g_shards_made) make_shards();
    if (mcf_write_bytes("memory://fz/m.safetensors.index.json", data, size, NULL) != MCF_OK) mcf_fuzz_die("writing the index");
    for (k = 0; k < 2; k++) {
        mcf_reader *r = NULL;
        size_t i;
        int rc;
        memset(&o, 0, sizeof o);
        o.flags = flags[k];
        rc = mcf_open("memory://fz/m.safetensors.index.json", &o, &r);
        if (rc == MCF_OK)
            for (i = 0; i < mcf_count(r); i++)
                if (strncmp(mcf_entry_source(r, i), "memory:///fz/", 13) != 0) mcf_fuzz_die("a shard outside the index's directory");
        mcf_fuzz_check(r, rc);
    }
    return 0;
}
