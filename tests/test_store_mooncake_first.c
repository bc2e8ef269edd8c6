/* [24] The adapter compiled with store_c.h included first in the file that
 * defines the implementation: the order the header's include-order note
 * allows when the feature macros it would set come first. The adapter then
 * uses store_c.h's own types (mooncake_replicate_config_t, not its private
 * copy of the layout); this checks that path compiles cleanly (C99 and
 * C++11) and delivers the same values. */
#define _POSIX_C_SOURCE 200809L
#define _DEFAULT_SOURCE 1
#define _FILE_OFFSET_BITS 64
#include "fake_store_c.h"
#define MCF_STATIC
#define MOONCAKE_FILEIO_IMPLEMENTATION
#define MOONCAKE_FILEIO_MOONCAKE_STORE
#include "mcf_test.h"
#include "fake_store_c.c"

static const float f6[6] = {1, 2, 3, 4, 5, 6};

static int store_mooncake_first_types(void)
{
    /* the adapter's config is store_c.h's own struct here */
    mooncake_replicate_config_t c;
    mcf__mcstore_config *p = &c;
    memset(&c, 0, sizeof c);
    MCF_CHECK(p == &c && sizeof(mcf__mcstore_config) == sizeof(mooncake_replicate_config_t));
    return 0;
}

static int store_mooncake_first_roundtrip(void)
{
    static const char *const segs[1] = {"seg-x"};
    mooncake_store_t ms = mooncake_store_create();
    fake_store *f = (fake_store *)ms;
    mcf_store s;
    mcf_tensor t, out;
    mcf_replicate r;
    mcf_options o;
    memset(&t, 0, sizeof t);
    t.name = "w"; t.dtype = MCF_F32; t.ndim = 2; t.shape[0] = 2; t.shape[1] = 3; t.data = f6;
    MCF_CHECK_RC(mcf_mooncake_store_init(&s, ms), MCF_OK);
    MCF_CHECK_RC(mcf_save("memory://first/w.safetensors", &t, 1, NULL), MCF_OK);
    memset(&r, 0, sizeof r);
    r.replica_num = 2;
    r.preferred_segments = segs;
    r.preferred_segments_count = 1;
    r.soft_pin_action = MCF_SOFT_PIN_ENABLE;
    r.has_soft_pin_ttl = 1;
    r.soft_pin_ttl_ms = 1234;
    memset(&o, 0, sizeof o);
    o.replicate = &r;
    MCF_CHECK_RC(mcf_load_tensor_from_file(&s, "w", "memory://first/w.safetensors", &o, NULL), MCF_OK);
    MCF_CHECK(f->have_config == 1 && f->config.replica_num == 2 && f->config.preferred_segments_count == 1);
    MCF_CHECK(strcmp(f->segs[0], "seg-x") == 0 && f->config.soft_pin_action == MOONCAKE_SOFT_PIN_ENABLE);
    MCF_CHECK(f->config.has_soft_pin_ttl == 1 && f->config.soft_pin_ttl_ms == 1234 && f->config.with_hard_pin == 0);
    MCF_CHECK_RC(mcf_store_get_tensor(&s, "w", NULL, &out), MCF_OK);
    MCF_CHECK(memcmp(out.data, f6, 24) == 0 && f->nregs == 0 && f->registers == 1);
    mcf_tensor_free(&out, NULL);
    f->fail_put = -714;
    MCF_CHECK_RC(mcf_store_put_tensor(&s, "w9", &t), -714);
    MCF_CHECK_ERR("failed with -714 (OBJECT_REPLICA_BUSY)");
    MCF_CHECK_RC(mcf_remove("memory://first/w.safetensors", NULL), MCF_OK);
    mooncake_store_destroy(ms);
    return 0;
}

MCF_TEST_MAIN(
    MCF_TEST(store_mooncake_first_types),
    MCF_TEST(store_mooncake_first_roundtrip)
)
