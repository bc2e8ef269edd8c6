/* [17] MOONCAKE_FILEIO_MOONCAKE_STORE: the mcf_store adapter over Mooncake's
 * store_c.h, compiled against a fake client with the exact signatures
 * (tests/fake_store_c.c). Self-contained: this file compiles its own private
 * copy of the implementation (MCF_STATIC) with the adapter switched on, so
 * it needs no special build rule next to tests/impl.c. */
#define MCF_STATIC
#define MOONCAKE_FILEIO_IMPLEMENTATION
#define MOONCAKE_FILEIO_MOONCAKE_STORE
#include "mcf_test.h"
#include "mcf_test_endian.h"
/* after the header: its own prototypes must agree with store_c.h's */
#include "fake_store_c.c"

static const float f6[6] = {1, 2, 3, 4, 5, 6};

static mcf_tensor mk_w(void)
{
    mcf_tensor t;
    memset(&t, 0, sizeof t);
    t.name = "w"; t.dtype = MCF_F32; t.ndim = 2; t.shape[0] = 2; t.shape[1] = 3; t.data = f6;
    return t;
}

static int test_store_mooncake_put_get_remove(void)
{
    mooncake_store_t ms = mooncake_store_create();
    fake_store *f = (fake_store *)ms;
    mcf_store s;
    mcf_tensor t = mk_w(), out, v;
    int i;
    MCF_CHECK_RC(mcf_mooncake_store_init(&s, ms), MCF_OK);
    MCF_CHECK_RC(mcf_store_put_tensor(&s, "layer0/k", &t), MCF_OK);
    MCF_CHECK(f->puts == 1 && f->last_config == NULL);
    i = fake_find(f, "layer0/k");
    MCF_CHECK(i >= 0 && f->lens[i] == 328);
    MCF_CHECK_RC(mcf_moon_decode(f->vals[i], f->lens[i], &v), MCF_OK);   /* a real Mooncake object */
    MCF_CHECK(v.dtype == MCF_F32 && v.shape[1] == 3 && mcf_test_host_eq_le(f6, v.data, 24, MCF_F32));   /* the view is LE */
    MCF_CHECK_RC(mcf_store_get_tensor(&s, "layer0/k", NULL, &out), MCF_OK);
    MCF_CHECK(strcmp(out.name, "layer0/k") == 0 && memcmp(out.data, f6, 24) == 0);
    mcf_tensor_free(&out, NULL);
    MCF_CHECK_RC(mcf_store_get_tensor(&s, "absent", NULL, &out), MCF_OBJECT_NOT_FOUND);
    MCF_CHECK_ERR("Mooncake store: no key \"absent\"");
    MCF_CHECK_RC(s.remove(s.user, "layer0/k"), MCF_OK);
    MCF_CHECK_RC(s.remove(s.user, "layer0/k"), MCF_OBJECT_NOT_FOUND);   /* -704 passed through */
    MCF_CHECK_ERR("remove of key \"layer0/k\" failed with -704 (OBJECT_NOT_FOUND)");
    MCF_CHECK(f->removes == 2);
    mooncake_store_destroy(ms);
    return 0;
}

static int test_store_mooncake_errors(void)
{
    mooncake_store_t ms = mooncake_store_create();
    fake_store *f = (fake_store *)ms;
    mcf_store s;
    mcf_tensor t = mk_w(), out;
    MCF_CHECK_RC(mcf_mooncake_store_init(NULL, ms), MCF_INVALID_PARAMS);
    MCF_CHECK_RC(mcf_mooncake_store_init(&s, NULL), MCF_INVALID_PARAMS);
    MCF_CHECK_RC(mcf_mooncake_store_init(&s, ms), MCF_OK);
    /* Mooncake ErrorCode numbers are ours */
    f->fail_put = MCF_FILE_WRITE_FAIL;
    MCF_CHECK_RC(mcf_store_put_tensor(&s, "w", &t), MCF_FILE_WRITE_FAIL);
    MCF_CHECK_ERR("Mooncake store: put of key \"w\" (328 bytes) failed with -1103 (FILE_WRITE_FAIL)");
    f->fail_put = -1;
    MCF_CHECK_RC(mcf_store_put_tensor(&s, "w", &t), MCF_INTERNAL_ERROR);
    /* a number we do not know */
    f->fail_put = -200;
    MCF_CHECK_RC(mcf_store_put_tensor(&s, "w", &t), MCF_PERSISTENT_FAIL);
    MCF_CHECK_ERR("failed with -200 (PERSISTENT_FAIL)");
    f->fail_put = 0;
    MCF_CHECK_RC(mcf_store_put_tensor(&s, "w", &t), MCF_OK);
    /* the object changes size between get_size and get_into */
    f->short_get = 1;
    MCF_CHECK_RC(mcf_store_get_tensor(&s, "w", NULL, &out), MCF_FILE_READ_FAIL);
    MCF_CHECK_ERR("key \"w\" returned 327 bytes, expected 328");
    f->short_get = 0;
    /* get_size fails for an existing key: its code is passed through */
    f->fail_size = MCF_PERMISSION_DENIED;
    MCF_CHECK_RC(mcf_store_get_tensor(&s, "w", NULL, &out), MCF_PERMISSION_DENIED);
    MCF_CHECK_ERR("size of key \"w\" failed with -1603");
    f->fail_size = 0;
    /* a save of a missing key is FILE_NOT_FOUND, as with any store */
    MCF_CHECK_RC(mcf_save_tensor_to_file(&s, "nope", "memory://mc/nope.pt", NULL), MCF_FILE_NOT_FOUND);
    mooncake_store_destroy(ms);
    return 0;
}

/* The seed functions run unchanged over the adapter. */
static int test_store_mooncake_seed_roundtrip(void)
{
    mooncake_store_t ms = mooncake_store_create();
    fake_store *f = (fake_store *)ms;
    mcf_store s;
    mcf_tensor t = mk_w();
    int a, b, rc;
    MCF_CHECK_RC(mcf_mooncake_store_init(&s, ms), MCF_OK);
    MCF_CHECK_RC(mcf_store_put_tensor(&s, "w", &t), MCF_OK);
    rc = mcf_save_tensor_to_safetensor(&s, "w", "memory://mc/w.safetensors", NULL);
    MCF_CHECK_RC(rc, MCF_OK);
    MCF_CHECK_RC(mcf_load_tensor_from_safetensor(&s, "w2", "memory://mc/w.safetensors", NULL, NULL), MCF_OK);
    a = fake_find(f, "w");
    b = fake_find(f, "w2");
    MCF_CHECK(a >= 0 && b >= 0 && f->lens[a] == f->lens[b] && memcmp(f->vals[a], f->vals[b], f->lens[a]) == 0);
    mooncake_store_destroy(ms);
    return 0;
}

MCF_TEST_MAIN(
    MCF_TEST(test_store_mooncake_put_get_remove),
    MCF_TEST(test_store_mooncake_errors),
    MCF_TEST(test_store_mooncake_seed_roundtrip)
)
