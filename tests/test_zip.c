/* [04] CRC-32 paths and [13] zip container: writer layout and reader checks. */
#include "mcf_test.h"
#include <stdint.h>

static uint32_t zip_rng(uint64_t *s)
{
    *s = *s * 6364136223846793005ull + 1442695040888963407ull;
    return (uint32_t)(*s >> 33);
}

/* Every path gives the known check values and equals the bitwise reference
 * on many lengths, misalignments and split points. */
static int crc32_known_vectors_all_paths(void)
{
    static const unsigned char zeros[32] = {0};
    int v, tested = 0;
    for (v = MCF_CRC32_BITWISE; v <= MCF_CRC32_ARM; v++) {
        uint32_t c = 0;
        int rc = mcf_crc32_variant(v, &c, "123456789", 9);
        if (rc == MCF_NOT_SUPPORTED) { fprintf(stderr, "  (crc32 path %s not on this CPU)\n", mcf_crc32_variant_name(v)); continue; }
        MCF_CHECK_RC(rc, MCF_OK);
        MCF_CHECK(c == 0xCBF43926u);
        c = 0;
        MCF_CHECK_RC(mcf_crc32_variant(v, &c, "", 0), MCF_OK);
        MCF_CHECK(c == 0);
        c = 0;
        MCF_CHECK_RC(mcf_crc32_variant(v, &c, zeros, 32), MCF_OK);
        MCF_CHECK(c == 0x190A55ADu);
        c = 0;
        MCF_CHECK_RC(mcf_crc32_variant(v, &c, "The quick brown fox jumps over the lazy dog", 43), MCF_OK);
        MCF_CHECK(c == 0x414FA339u);
        tested++;
    }
    MCF_CHECK(tested >= 2);
    MCF_CHECK(mcf_crc32(0, "123456789", 9) == 0xCBF43926u);
    MCF_CHECK_RC(mcf_crc32_variant(99, NULL, NULL, 0), MCF_INVALID_PARAMS);
    return 0;
}

static int crc32_random_buffers_match_reference(void)
{
    size_t cap = 70000, i;
    unsigned char *buf = (unsigned char *)malloc(cap + 64);
    uint64_t seed = 42;
    int v, trial;
    MCF_CHECK(buf != NULL);
    for (i = 0; i < cap + 64; i++) buf[i] = (unsigned char)zip_rng(&seed);
    for (trial = 0; trial < 300; trial++) {
        size_t len = trial < 100 ? (size_t)trial * 7 : (size_t)(zip_rng(&seed) % cap);
        size_t off = zip_rng(&seed) % 64, split = len ? zip_rng(&seed) % (len + 1) : 0;
        uint32_t init = trial % 3 ? zip_rng(&seed) : 0, ref = init;
        MCF_CHECK_RC(mcf_crc32_variant(MCF_CRC32_BITWISE, &ref, buf + off, len), MCF_OK);
        MCF_CHECK(mcf_crc32(init, buf + off, len) == ref);
        for (v = MCF_CRC32_SLICE8; v <= MCF_CRC32_ARM; v++) {
            uint32_t c = init;
            if (mcf_crc32_variant(v, &c, buf + off, len) == MCF_NOT_SUPPORTED) continue;
            if (c != ref) { fprintf(stderr, "  path %s len %lu off %lu\n", mcf_crc32_variant_name(v), (unsigned long)len, (unsigned long)off); MCF_CHECK(c == ref); }
            c = init;   /* incremental: two calls equal one */
            MCF_CHECK_RC(mcf_crc32_variant(v, &c, buf + off, split), MCF_OK);
            MCF_CHECK_RC(mcf_crc32_variant(v, &c, buf + off + split, len - split), MCF_OK);
            MCF_CHECK(c == ref);
        }
    }
    free(buf);
    return 0;
}

MCF_TEST_MAIN(MCF_TEST(crc32_known_vectors_all_paths), MCF_TEST(crc32_random_buffers_match_reference))
