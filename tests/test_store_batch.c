/* [23] store API: batches (mcf_store_put_tensors / mcf_store_get_tensors)
 * and raw values (mcf_store_put_bytes / mcf_store_get_into), through the
 * memory store's own batch hooks and through a store without them (the
 * library then calls put and get key by key); per-key results, the first
 * failing key's code and message, and BUFFER_OVERFLOW without a copy. */
#include "mcf_test.h"
#include "mcf_test_store.h"

static const float f6[6] = {1, 2, 3, 4, 5, 6};
static const float g6[6] = {7, 8, 9, 10, 11, 12};
static const int32_t i3[3] = {-1, 0, 70000};

/* Three tensors (one of them empty) put as one batch come back as they went
 * in, stored as the same objects mcf_store_put_tensor makes; with the hooks
 * that is one call each way, without them one put / get per key. */
static int batch_roundtrip(int hooks)
{
    static const char *const keys[3] = {"b/w", "b/i", "b/empty"};
    mcf_tensor t[3], out[3], one;
    int res[3] = {9, 9, 9}, i;
    void *a, *b;
    size_t la, lb;
    mcf_test_store w;
    mcf_test_store_init(&w, hooks);
    MCF_CHECK(w.in != NULL);
    t[0] = mcf_test_tensor(NULL, MCF_F32, 2, 2, 3, f6);
    t[1] = mcf_test_tensor(NULL, MCF_I32, 1, 3, 0, i3);
    t[2] = mcf_test_tensor(NULL, MCF_BF16, 2, 0, 4, NULL);
    MCF_CHECK_RC(mcf_store_put_tensors(&w.vt, keys, t, 3, res), MCF_OK);
    MCF_CHECK(res[0] == 0 && res[1] == 0 && res[2] == 0);
    MCF_CHECK(hooks ? w.put_batches == 1 && w.puts == 0 : w.put_batches == 0 && w.puts == 3);
    /* the same object bytes as a single put */
    MCF_CHECK_RC(mcf_store_put_tensor(&w.vt, "single", &t[0]), MCF_OK);
    MCF_CHECK_RC(w.in->get(w.in->user, "single", &a, &la), MCF_OK);
    MCF_CHECK_RC(w.in->get(w.in->user, "b/w", &b, &lb), MCF_OK);
    MCF_CHECK(la == 328 && la == lb && memcmp(a, b, la) == 0);
    w.in->release(w.in->user, a);
    w.in->release(w.in->user, b);
    MCF_CHECK_RC(mcf_store_get_tensors(&w.vt, keys, NULL, out, 3, NULL), MCF_OK);   /* results may be NULL */
    MCF_CHECK(hooks ? w.get_batches == 1 && w.gets == 0 : w.get_batches == 0 && w.gets == 3);
    MCF_CHECK(strcmp(out[0].name, "b/w") == 0 && out[0].dtype == MCF_F32 && out[0].ndim == 2 && out[0].shape[1] == 3);
    MCF_CHECK(memcmp(out[0].data, f6, sizeof f6) == 0);
    MCF_CHECK(strcmp(out[1].name, "b/i") == 0 && out[1].dtype == MCF_I32 && out[1].shape[0] == 3 && memcmp(out[1].data, i3, sizeof i3) == 0);
    MCF_CHECK(out[2].dtype == MCF_BF16 && out[2].ndim == 2 && out[2].shape[0] == 0 && out[2].shape[1] == 4);
    for (i = 0; i < 3; i++) mcf_tensor_free(&out[i], NULL);
    /* a batch put of existing keys keeps their values (and succeeds) */
    one = mcf_test_tensor(NULL, MCF_F32, 2, 2, 3, g6);
    MCF_CHECK_RC(mcf_store_put_tensors(&w.vt, keys, &one, 1, res), MCF_OK);
    MCF_CHECK(res[0] == 0);
    MCF_CHECK_RC(mcf_store_get_tensors(&w.vt, keys, NULL, out, 1, res), MCF_OK);
    MCF_CHECK(res[0] == 0 && memcmp(out[0].data, f6, sizeof f6) == 0);
    mcf_tensor_free(&out[0], NULL);
    /* nothing to do */
    MCF_CHECK_RC(mcf_store_put_tensors(&w.vt, NULL, NULL, 0, NULL), MCF_OK);
    MCF_CHECK_RC(mcf_store_get_tensors(&w.vt, NULL, NULL, NULL, 0, NULL), MCF_OK);
    mcf_memory_store_destroy(w.in);
    return 0;
}

static int store_batch_roundtrip_hooks(void) { return batch_roundtrip(1); }
static int store_batch_roundtrip_per_key(void) { return batch_roundtrip(0); }

/* Every key is tried; each gets its own code; the call returns the first
 * failing key's code with that key's message, even when later keys fail
 * differently; a failed get leaves out[i] zeroed. */
static int batch_failures(int hooks)
{
    static const char *const keys[4] = {"ok/1", NULL, "bad/c64", "ok/2"};
    static const char *const gkeys[4] = {"ok/1", "missing", NULL, "ok/2"};
    mcf_tensor t[4], out[4];
    int res[4];
    mcf_test_store w;
    mcf_test_store_init(&w, hooks);
    MCF_CHECK(w.in != NULL);
    t[0] = mcf_test_tensor(NULL, MCF_F32, 2, 2, 3, f6);
    t[1] = t[0];
    t[2] = mcf_test_tensor(NULL, MCF_C64, 1, 3, 0, f6);   /* no Mooncake dtype */
    t[3] = mcf_test_tensor(NULL, MCF_F32, 1, 6, 0, g6);
    MCF_CHECK_RC(mcf_store_put_tensors(&w.vt, keys, t, 4, res), MCF_INVALID_PARAMS);
    MCF_CHECK_ERR("mcf_store_put_tensors: key 1 is NULL");
    MCF_CHECK(res[0] == MCF_OK && res[1] == MCF_INVALID_PARAMS && res[2] == MCF_SERIALIZE_UNSUPPORTED && res[3] == MCF_OK);
    /* the dtype failure alone: its own code, the message names the key */
    MCF_CHECK_RC(mcf_store_put_tensors(&w.vt, keys + 2, t + 2, 1, NULL), MCF_SERIALIZE_UNSUPPORTED);
    MCF_CHECK_ERR("store key \"bad/c64\": ");
    MCF_CHECK_ERR("dtype C64 has no Mooncake TensorDtype");
    memset(out, 0x5a, sizeof out);
    MCF_CHECK_RC(mcf_store_get_tensors(&w.vt, gkeys, NULL, out, 4, res), MCF_OBJECT_NOT_FOUND);
    MCF_CHECK_ERR("memory store: no key \"missing\"");
    MCF_CHECK(res[0] == MCF_OK && res[1] == MCF_OBJECT_NOT_FOUND && res[2] == MCF_INVALID_PARAMS && res[3] == MCF_OK);
    MCF_CHECK(out[1].data == NULL && out[1].name == NULL && out[1].ndim == 0);
    MCF_CHECK(out[2].data == NULL && out[2].name == NULL);
    MCF_CHECK(memcmp(out[0].data, f6, sizeof f6) == 0 && memcmp(out[3].data, g6, sizeof g6) == 0);
    mcf_tensor_free(&out[0], NULL);
    mcf_tensor_free(&out[1], NULL);   /* zeroed: fine to free */
    mcf_tensor_free(&out[2], NULL);
    mcf_tensor_free(&out[3], NULL);
    /* a value that is no Mooncake object fails its key only */
    MCF_CHECK_RC(mcf_store_put_bytes(&w.vt, "missing", "junk", 4), MCF_OK);
    MCF_CHECK_RC(mcf_store_get_tensors(&w.vt, gkeys, NULL, out, 2, res), MCF_DESERIALIZE_FAIL);
    MCF_CHECK_ERR("store key \"missing\": Mooncake object: 4 bytes");
    MCF_CHECK(res[0] == MCF_OK && res[1] == MCF_DESERIALIZE_FAIL && out[1].data == NULL);
    mcf_tensor_free(&out[0], NULL);
    /* the whole call's arguments: every key gets INVALID_PARAMS */
    res[0] = res[1] = 9;
    MCF_CHECK_RC(mcf_store_put_tensors(NULL, keys, t, 2, res), MCF_INVALID_PARAMS);
    MCF_CHECK(res[0] == MCF_INVALID_PARAMS && res[1] == MCF_INVALID_PARAMS);
    MCF_CHECK_RC(mcf_store_put_tensors(&w.vt, keys, NULL, 2, res), MCF_INVALID_PARAMS);
    MCF_CHECK_ERR("mcf_store_put_tensors: NULL tensor array for 2 keys");
    MCF_CHECK_RC(mcf_store_get_tensors(&w.vt, NULL, NULL, out, 2, res), MCF_INVALID_PARAMS);
    MCF_CHECK_ERR("mcf_store_get_tensors: NULL key array for 2 keys");
    MCF_CHECK(res[0] == MCF_INVALID_PARAMS && res[1] == MCF_INVALID_PARAMS && out[0].data == NULL);
    mcf_memory_store_destroy(w.in);
    return 0;
}

static int store_batch_failures_hooks(void) { return batch_failures(1); }
static int store_batch_failures_per_key(void) { return batch_failures(0); }

/* Raw values: put as they are, read into the caller's buffer; too small a
 * buffer is BUFFER_OVERFLOW with *len = the value's size and the buffer
 * untouched; cap 0 asks the size. */
static int raw_values(int hooks)
{
    static const unsigned char v[5] = {0, 1, 2, 0xfe, 0xff};
    unsigned char buf[8];
    size_t len = 77;
    mcf_test_store w;
    mcf_test_store_init(&w, hooks);
    MCF_CHECK(w.in != NULL);
    MCF_CHECK_RC(mcf_store_put_bytes(&w.vt, "raw", v, sizeof v), MCF_OK);
    MCF_CHECK_RC(mcf_store_put_bytes(&w.vt, "raw", "other", 5), MCF_OK);   /* existing key: kept */
    MCF_CHECK_RC(mcf_store_put_bytes(&w.vt, "empty", NULL, 0), MCF_OK);
    memset(buf, 0xcc, sizeof buf);
    MCF_CHECK_RC(mcf_store_get_into(&w.vt, "raw", buf, sizeof buf, &len), MCF_OK);
    MCF_CHECK(len == 5 && memcmp(buf, v, 5) == 0 && buf[5] == 0xcc);
    MCF_CHECK(hooks ? w.get_intos == 1 && w.gets == 0 : w.get_intos == 0 && w.gets == 1);
    memset(buf, 0xcc, sizeof buf);
    len = 0;
    MCF_CHECK_RC(mcf_store_get_into(&w.vt, "raw", buf, 4, &len), MCF_BUFFER_OVERFLOW);
    MCF_CHECK_ERR("\"raw\": its 5-byte value does not fit the 4-byte buffer");
    MCF_CHECK(len == 5 && buf[0] == 0xcc && buf[3] == 0xcc);   /* nothing copied */
    len = 0;
    MCF_CHECK_RC(mcf_store_get_into(&w.vt, "raw", NULL, 0, &len), MCF_BUFFER_OVERFLOW);
    MCF_CHECK(len == 5);
    len = 9;
    MCF_CHECK_RC(mcf_store_get_into(&w.vt, "empty", NULL, 0, &len), MCF_OK);
    MCF_CHECK(len == 0);
    MCF_CHECK_RC(mcf_store_get_into(&w.vt, "absent", buf, sizeof buf, &len), MCF_OBJECT_NOT_FOUND);
    MCF_CHECK_ERR("memory store: no key \"absent\"");
    /* the raw value is no tensor object */
    {
        mcf_tensor out;
        MCF_CHECK_RC(mcf_store_get_tensor(&w.vt, "raw", NULL, &out), MCF_DESERIALIZE_FAIL);
    }
    /* bad arguments */
    MCF_CHECK_RC(mcf_store_put_bytes(&w.vt, "x", NULL, 3), MCF_INVALID_PARAMS);
    MCF_CHECK_ERR("mcf_store_put_bytes: key \"x\": NULL data for 3 bytes");
    MCF_CHECK_RC(mcf_store_put_bytes(&w.vt, NULL, v, 3), MCF_INVALID_PARAMS);
    MCF_CHECK_RC(mcf_store_put_bytes(NULL, "x", v, 3), MCF_INVALID_PARAMS);
    MCF_CHECK_RC(mcf_store_get_into(&w.vt, "raw", buf, sizeof buf, NULL), MCF_INVALID_PARAMS);
    MCF_CHECK_ERR("mcf_store_get_into: key \"raw\": NULL length");
    MCF_CHECK_RC(mcf_store_get_into(&w.vt, "raw", NULL, 4, &len), MCF_INVALID_PARAMS);
    MCF_CHECK_ERR("NULL buffer");
    MCF_CHECK_RC(mcf_store_get_into(&w.vt, NULL, buf, 4, &len), MCF_INVALID_PARAMS);
    MCF_CHECK(mcf_exists("memory://nothing-written", NULL) == 0);
    mcf_memory_store_destroy(w.in);
    return 0;
}

static int store_raw_values_hooks(void) { return raw_values(1); }
static int store_raw_values_per_key(void) { return raw_values(0); }

/* The memory store's hooks called directly: a batch result per key, the
 * message of the first failing key. */
static int store_memory_hooks_direct(void)
{
    static const char *const keys[3] = {"a", "b", "c"};
    const void *objs[3];
    void *got[3];
    size_t lens[3] = {1, 2, 0}, glens[3];
    int res[3];
    mcf_store *s = mcf_memory_store_create();
    MCF_CHECK(s != NULL && s->put_batch && s->get_batch && s->get_into);
    objs[0] = "A";
    objs[1] = "BB";
    objs[2] = "";
    MCF_CHECK_RC(s->put_batch(s->user, keys, objs, lens, 2, NULL, res), MCF_OK);
    MCF_CHECK(res[0] == 0 && res[1] == 0);
    MCF_CHECK_RC(s->get_batch(s->user, keys, 3, got, glens, res), MCF_OK);
    MCF_CHECK(res[0] == 0 && res[1] == 0 && res[2] == MCF_OBJECT_NOT_FOUND && got[2] == NULL);
    MCF_CHECK_ERR("memory store: no key \"c\"");
    MCF_CHECK(glens[0] == 1 && memcmp(got[0], "A", 1) == 0 && glens[1] == 2 && memcmp(got[1], "BB", 2) == 0);
    s->release(s->user, got[0]);
    s->release(s->user, got[1]);
    mcf_memory_store_destroy(s);
    return 0;
}

MCF_TEST_MAIN(
    MCF_TEST(store_batch_roundtrip_hooks),
    MCF_TEST(store_batch_roundtrip_per_key),
    MCF_TEST(store_batch_failures_hooks),
    MCF_TEST(store_batch_failures_per_key),
    MCF_TEST(store_raw_values_hooks),
    MCF_TEST(store_raw_values_per_key),
    MCF_TEST(store_memory_hooks_direct)
)
