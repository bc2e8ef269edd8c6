/* [24] MOONCAKE_FILEIO_MOONCAKE_STORE: the mcf_store adapter over Mooncake's
 * store_c.h, compiled against a fake client that declares upstream's whole
 * interface with its exact signatures and struct layout and answers the way
 * the real client does (tests/fake_store_c.c). Self-contained: this file
 * compiles its own private copy of the implementation (MCF_STATIC) with the
 * adapter switched on (and the counting allocator of tests/mcf_test_alloc.h), so it needs no special build rule next to
 * tests/impl.c. Here store_c.h comes after the header (the header declares
 * what it calls); tests/test_store_mooncake_first.c includes it first. */
#define MOONCAKE_FILEIO_MOONCAKE_STORE
#include "mcf_test_alloc.h"   /* the private copy, on the counting allocator */
#include "mcf_test_endian.h"
/* after the header: its own prototypes must agree with store_c.h's */
#include "fake_store_c.c"

static const float f6[6] = {1, 2, 3, 4, 5, 6};
static const float g6[6] = {7, 8, 9, 10, 11, 12};

static mcf_tensor mk_w(const float *data)
{
    mcf_tensor t;
    memset(&t, 0, sizeof t);
    t.name = "w"; t.dtype = MCF_F32; t.ndim = 2; t.shape[0] = 2; t.shape[1] = 3; t.data = data;
    return t;
}

/* The layout of store_c.h's struct mooncake_replicate_config, worked out by
 * hand from its declaration (size_t, int, pointer, size_t, int, int,
 * uint64_t) for each ABI the tests run on; the compiler must agree, and so
 * must the adapter's private copy of the layout. */
typedef struct abi_probe { char c; mooncake_replicate_config_t x; } abi_probe;

static int store_mooncake_config_layout(void)
{
    size_t want[9];
#if defined(__x86_64__) || defined(__aarch64__) || defined(__s390x__) || defined(_WIN64)
    /* LP64 / LLP64: size_t and pointers 8, uint64_t 8-aligned */
    static const size_t lp64[9] = {48, 8, 0, 8, 16, 24, 32, 36, 40};
    memcpy(want, lp64, sizeof want);
#elif defined(__arm__)
    /* 32-bit ARM EABI: 4-byte size_t and pointers, uint64_t 8-aligned in structs */
    static const size_t arm[9] = {32, 8, 0, 4, 8, 12, 16, 20, 24};
    memcpy(want, arm, sizeof want);
#elif defined(__i386__)
    /* i386 System V: uint64_t is 4-aligned inside structs */
    static const size_t ia32[9] = {32, 4, 0, 4, 8, 12, 16, 20, 24};
    memcpy(want, ia32, sizeof want);
#else
    memset(want, 0, sizeof want);
    MCF_SKIP("no hand-computed layout of mooncake_replicate_config for this CPU");
#endif
    MCF_CHECK(offsetof(abi_probe, x) == want[1]);   /* the struct's alignment */
    /* store_c.h's struct, and the adapter's copy used when store_c.h was not seen first */
#define CHECK_LAYOUT(T) \
    MCF_CHECK(sizeof(T) == want[0] && offsetof(T, replica_num) == want[2] && offsetof(T, with_hard_pin) == want[3] && \
              offsetof(T, preferred_segments) == want[4] && offsetof(T, preferred_segments_count) == want[5] && \
              offsetof(T, soft_pin_action) == want[6] && offsetof(T, has_soft_pin_ttl) == want[7] && \
              offsetof(T, soft_pin_ttl_ms) == want[8])
    CHECK_LAYOUT(mooncake_replicate_config_t);
    CHECK_LAYOUT(mcf__mcstore_config);
#undef CHECK_LAYOUT
    MCF_CHECK((int)MCF_SOFT_PIN_PRESERVE == (int)MOONCAKE_SOFT_PIN_PRESERVE && (int)MCF_SOFT_PIN_ENABLE == (int)MOONCAKE_SOFT_PIN_ENABLE &&
              (int)MCF_SOFT_PIN_DISABLE == (int)MOONCAKE_SOFT_PIN_DISABLE);
    return 0;
}

static int store_mooncake_put_get_remove(void)
{
    mooncake_store_t ms = mooncake_store_create();
    fake_store *f = (fake_store *)ms;
    mcf_store s;
    mcf_tensor t = mk_w(f6), out, v;
    int i;
    MCF_CHECK_RC(mcf_mooncake_store_init(&s, ms), MCF_OK);
    MCF_CHECK_RC(mcf_store_put_tensor(&s, "layer0/k", &t), MCF_OK);
    MCF_CHECK(f->puts == 1 && f->have_config == 0);   /* no replicate: the store's defaults */
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
    MCF_CHECK(f->removes == 2 && f->last_force == 0);
    mooncake_store_destroy(ms);
    return 0;
}

/* get_into is zero-copy: the fake, like an RDMA transfer, refuses memory
 * that is not registered, so the adapter registers its read buffer for the
 * call and unregisters it on every path. */
static int store_mooncake_get_registers(void)
{
    mooncake_store_t ms = mooncake_store_create();
    fake_store *f = (fake_store *)ms;
    mcf_store s;
    mcf_tensor t = mk_w(f6), out;
    unsigned char probe[8];
    MCF_CHECK_RC(mcf_mooncake_store_init(&s, ms), MCF_OK);
    MCF_CHECK_RC(mcf_store_put_tensor(&s, "w", &t), MCF_OK);
    /* the fake enforces it */
    MCF_CHECK(mooncake_store_get_into(ms, "w", probe, sizeof probe) == -600);   /* too small */
    {
        unsigned char big[400];
        MCF_CHECK(mooncake_store_get_into(ms, "w", big, sizeof big) == -800);   /* not registered */
        MCF_CHECK(mooncake_store_register_buffer(ms, big, sizeof big) == 0);
        MCF_CHECK(mooncake_store_get_into(ms, "w", big, sizeof big) == 328);
        MCF_CHECK(mooncake_store_unregister_buffer(ms, big) == 0 && f->nregs == 0);
        f->registers = f->unregisters = 0;
    }
    MCF_CHECK_RC(mcf_store_get_tensor(&s, "w", NULL, &out), MCF_OK);
    MCF_CHECK(memcmp(out.data, f6, 24) == 0);
    mcf_tensor_free(&out, NULL);
    MCF_CHECK(f->registers == 1 && f->unregisters == 1 && f->nregs == 0);
    /* registration refused: nothing read, nothing left registered */
    f->fail_register = -1;
    f->gets = 0;
    MCF_CHECK_RC(mcf_store_get_tensor(&s, "w", NULL, &out), MCF_INTERNAL_ERROR);
    MCF_CHECK_ERR("Mooncake store: registering the 328-byte buffer for key \"w\" failed with -1 (INTERNAL_ERROR)");
    MCF_CHECK(f->gets == 0 && f->nregs == 0);
    f->fail_register = 0;
    /* the read fails: the buffer is unregistered all the same */
    f->fail_get = -707;
    MCF_CHECK_RC(mcf_store_get_tensor(&s, "w", NULL, &out), -707);
    MCF_CHECK_ERR("get of key \"w\" failed with -707 (LEASE_EXPIRED)");
    MCF_CHECK(f->registers == 3 && f->unregisters == 2 && f->nregs == 0);   /* the refused one needs none */
    f->fail_get = 0;
    /* a short read too */
    f->short_get = 1;
    MCF_CHECK_RC(mcf_store_get_tensor(&s, "w", NULL, &out), MCF_FILE_READ_FAIL);
    MCF_CHECK_ERR("key \"w\" returned 327 bytes, expected 328");
    MCF_CHECK(f->nregs == 0);
    f->short_get = 0;
    /* unregistering fails after a good read: reported, buffer not handed out */
    f->fail_unregister = -600;
    MCF_CHECK_RC(mcf_store_get_tensor(&s, "w", NULL, &out), MCF_INVALID_PARAMS);
    MCF_CHECK_ERR("unregistering the buffer of key \"w\" failed with -600 (INVALID_PARAMS)");
    f->fail_unregister = 0;
    MCF_CHECK(f->nregs == 0);
    mooncake_store_destroy(ms);
    return 0;
}

/* Every code the store returns comes back unchanged, named as Mooncake
 * names it (none is folded into PERSISTENT_FAIL). */
static int store_mooncake_codes_pass_through(void)
{
    static const struct { int code; const char *name; } cases[] = {
        {-200, "NO_AVAILABLE_HANDLE"}, {-706, "OBJECT_HAS_LEASE"}, {-705, "OBJECT_ALREADY_EXISTS"},
        {-901, "RPC_TIMEOUT"}, {-1005, "K8S_LEASE_OPERATION_ERROR"}, {-1106, "FILE_INVALID_HANDLE"},
        {-1402, "JOB_NOT_FOUND"}, {-1601, "DFS_SERVICE_UNAVAILABLE"}, {-1700, "TENANT_QUOTA_EXCEEDED"},
        {-1103, "FILE_WRITE_FAIL"}, {-1, "INTERNAL_ERROR"}, {-4321, "UNKNOWN"}
    };
    mooncake_store_t ms = mooncake_store_create();
    fake_store *f = (fake_store *)ms;
    mcf_store s;
    mcf_tensor t = mk_w(f6), out;
    char want[128];
    size_t i;
    MCF_CHECK_RC(mcf_mooncake_store_init(NULL, ms), MCF_INVALID_PARAMS);
    MCF_CHECK_RC(mcf_mooncake_store_init(&s, NULL), MCF_INVALID_PARAMS);
    MCF_CHECK_RC(mcf_mooncake_store_init(&s, ms), MCF_OK);
    for (i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        f->fail_put = cases[i].code;
        MCF_CHECK_RC(mcf_store_put_tensor(&s, "w", &t), cases[i].code);
        snprintf(want, sizeof want, "Mooncake store: put of key \"w\" (328 bytes) failed with %d (%s)", cases[i].code, cases[i].name);
        MCF_CHECK_ERR(want);
        MCF_CHECK(strcmp(mcf_result_name(cases[i].code), cases[i].name) == 0);
    }
    f->fail_put = 0;
    MCF_CHECK_RC(mcf_store_put_tensor(&s, "w", &t), MCF_OK);
    /* get_size fails for an existing key: its code is passed through */
    f->fail_size = -1603;
    MCF_CHECK_RC(mcf_store_get_tensor(&s, "w", NULL, &out), MCF_PERMISSION_DENIED);
    MCF_CHECK_ERR("size of key \"w\" failed with -1603 (PERMISSION_DENIED)");
    f->fail_size = -1011;
    MCF_CHECK_RC(mcf_store_get_tensor(&s, "w", NULL, &out), -1011);
    MCF_CHECK_ERR("failed with -1011 (UNAVAILABLE_IN_CURRENT_MODE)");
    f->fail_size = 0;
    f->fail_get = -712;
    MCF_CHECK_RC(mcf_store_get_tensor(&s, "w", NULL, &out), -712);
    MCF_CHECK_ERR("get of key \"w\" failed with -712 (REPLICA_IS_GONE)");
    f->fail_get = 0;
    /* the file functions (mcf_save_tensor_to_file, ...) pass them through as well */
    f->fail_put = -200;
    MCF_CHECK_RC(mcf_save_tensor_to_safetensor(&s, "w", "memory://mc/codes.safetensors", NULL), MCF_OK);
    MCF_CHECK_RC(mcf_load_tensor_from_safetensor(&s, "w2", "memory://mc/codes.safetensors", NULL, NULL), -200);
    MCF_CHECK_ERR("failed with -200 (NO_AVAILABLE_HANDLE)");
    f->fail_put = 0;
    MCF_CHECK_RC(mcf_remove("memory://mc/codes.safetensors", NULL), MCF_OK);
    /* a save of a missing key is FILE_NOT_FOUND, as with any store */
    MCF_CHECK_RC(mcf_save_tensor_to_file(&s, "nope", "memory://mc/nope.pt", NULL), MCF_FILE_NOT_FOUND);
    mooncake_store_destroy(ms);
    return 0;
}

/* Put of an existing key keeps the first value and succeeds, as upstream's
 * client does; so does a file load into an existing key, whose out is then
 * the file's tensor while the store keeps its own. */
static int store_mooncake_put_existing_key(void)
{
    mooncake_store_t ms = mooncake_store_create();
    fake_store *f = (fake_store *)ms;
    mcf_store s;
    mcf_tensor t = mk_w(f6), u = mk_w(g6), out;
    MCF_CHECK_RC(mcf_mooncake_store_init(&s, ms), MCF_OK);
    MCF_CHECK_RC(mcf_store_put_tensor(&s, "w", &t), MCF_OK);
    MCF_CHECK_RC(mcf_store_put_tensor(&s, "w", &u), MCF_OK);
    MCF_CHECK(f->puts == 2);
    MCF_CHECK_RC(mcf_store_get_tensor(&s, "w", NULL, &out), MCF_OK);
    MCF_CHECK(memcmp(out.data, f6, 24) == 0);   /* the first value */
    mcf_tensor_free(&out, NULL);
    MCF_CHECK_RC(mcf_save("memory://mc/g6.safetensors", &u, 1, NULL), MCF_OK);
    MCF_CHECK_RC(mcf_load_tensor_from_file(&s, "w", "memory://mc/g6.safetensors", NULL, &out), MCF_OK);
    MCF_CHECK(memcmp(out.data, g6, 24) == 0);   /* what the file holds */
    mcf_tensor_free(&out, NULL);
    MCF_CHECK_RC(mcf_store_get_tensor(&s, "w", NULL, &out), MCF_OK);
    MCF_CHECK(memcmp(out.data, f6, 24) == 0);   /* the store kept its value */
    mcf_tensor_free(&out, NULL);
    /* remove, then the load replaces it */
    MCF_CHECK_RC(s.remove(s.user, "w"), MCF_OK);
    MCF_CHECK_RC(mcf_load_tensor_from_file(&s, "w", "memory://mc/g6.safetensors", NULL, NULL), MCF_OK);
    MCF_CHECK_RC(mcf_store_get_tensor(&s, "w", NULL, &out), MCF_OK);
    MCF_CHECK(memcmp(out.data, g6, 24) == 0);
    mcf_tensor_free(&out, NULL);
    MCF_CHECK_RC(mcf_remove("memory://mc/g6.safetensors", NULL), MCF_OK);
    mooncake_store_destroy(ms);
    return 0;
}

/* options.replicate reaches mooncake_store_put field for field. */
static int store_mooncake_replicate(void)
{
    static const char *const segs[2] = {"seg-a", "node7:seg-b"};
    mooncake_store_t ms = mooncake_store_create();
    fake_store *f = (fake_store *)ms;
    mcf_store s;
    mcf_tensor t = mk_w(f6);
    mcf_replicate r;
    mcf_options o;
    MCF_CHECK_RC(mcf_mooncake_store_init(&s, ms), MCF_OK);
    MCF_CHECK_RC(mcf_save("memory://mc/r.safetensors", &t, 1, NULL), MCF_OK);
    memset(&r, 0, sizeof r);
    r.replica_num = 3;
    r.with_hard_pin = 1;
    r.preferred_segments = segs;
    r.preferred_segments_count = 2;
    r.soft_pin_action = MCF_SOFT_PIN_ENABLE;
    r.has_soft_pin_ttl = 1;
    r.soft_pin_ttl_ms = 5000000000ull;   /* more than 32 bits */
    memset(&o, 0, sizeof o);
    o.replicate = &r;
    MCF_CHECK_RC(mcf_load_tensor_from_file(&s, "w", "memory://mc/r.safetensors", &o, NULL), MCF_OK);
    MCF_CHECK(f->have_config == 1);
    MCF_CHECK(f->config.replica_num == 3 && f->config.with_hard_pin == 1 && f->config.preferred_segments_count == 2);
    MCF_CHECK(strcmp(f->segs[0], "seg-a") == 0 && strcmp(f->segs[1], "node7:seg-b") == 0);
    MCF_CHECK(f->config.soft_pin_action == MOONCAKE_SOFT_PIN_ENABLE && f->config.has_soft_pin_ttl == 1);
    MCF_CHECK(f->config.soft_pin_ttl_ms == 5000000000ull);
    /* the other actions, no TTL, no segments */
    memset(&r, 0, sizeof r);
    r.replica_num = 1;
    r.soft_pin_action = MCF_SOFT_PIN_DISABLE;
    MCF_CHECK_RC(mcf_load_tensor_from_file(&s, "w2", "memory://mc/r.safetensors", &o, NULL), MCF_OK);
    MCF_CHECK(f->have_config == 1 && f->config.replica_num == 1 && f->config.soft_pin_action == MOONCAKE_SOFT_PIN_DISABLE);
    MCF_CHECK(f->config.has_soft_pin_ttl == 0 && f->config.soft_pin_ttl_ms == 0 && f->config.preferred_segments_count == 0);
    MCF_CHECK(f->config.with_hard_pin == 0 && f->segs[0][0] == '\0');
    /* an action the client does not know: its -1 comes back */
    r.soft_pin_action = 7;
    MCF_CHECK_RC(mcf_load_tensor_from_file(&s, "w3", "memory://mc/r.safetensors", &o, NULL), MCF_INTERNAL_ERROR);
    MCF_CHECK_ERR("put of key \"w3\" (328 bytes) failed with -1 (INTERNAL_ERROR)");
    /* no replicate: NULL, the store's defaults */
    o.replicate = NULL;
    MCF_CHECK_RC(mcf_load_tensor_from_file(&s, "w4", "memory://mc/r.safetensors", &o, NULL), MCF_OK);
    MCF_CHECK(f->have_config == 0);
    MCF_CHECK_RC(mcf_remove("memory://mc/r.safetensors", NULL), MCF_OK);
    mooncake_store_destroy(ms);
    return 0;
}

/* The file functions run unchanged over the adapter; empty tensors too. */
static int store_mooncake_file_io_roundtrip(void)
{
    static const int64_t s0[1] = {0};
    mooncake_store_t ms = mooncake_store_create();
    fake_store *f = (fake_store *)ms;
    mcf_store s;
    mcf_tensor t = mk_w(f6), e, out;
    int a, b;
    MCF_CHECK_RC(mcf_mooncake_store_init(&s, ms), MCF_OK);
    MCF_CHECK_RC(mcf_store_put_tensor(&s, "w", &t), MCF_OK);
    MCF_CHECK_RC(mcf_save_tensor_to_safetensor(&s, "w", "memory://mc/w.safetensors", NULL), MCF_OK);
    MCF_CHECK_RC(mcf_load_tensor_from_safetensor(&s, "w2", "memory://mc/w.safetensors", NULL, NULL), MCF_OK);
    a = fake_find(f, "w");
    b = fake_find(f, "w2");
    MCF_CHECK(a >= 0 && b >= 0 && f->lens[a] == f->lens[b] && memcmp(f->vals[a], f->vals[b], f->lens[a]) == 0);
    memset(&e, 0, sizeof e);
    e.dtype = MCF_F32; e.ndim = 1; e.shape[0] = s0[0];
    MCF_CHECK_RC(mcf_store_put_tensor(&s, "empty", &e), MCF_OK);
    MCF_CHECK(f->lens[fake_find(f, "empty")] == 304);
    MCF_CHECK_RC(mcf_save_tensor_to_file(&s, "empty", "memory://mc/empty.pt", NULL), MCF_OK);
    MCF_CHECK_RC(mcf_load_tensor_from_file(&s, "empty2", "memory://mc/empty.pt", NULL, &out), MCF_OK);
    MCF_CHECK(out.ndim == 1 && out.shape[0] == 0 && out.dtype == MCF_F32);
    mcf_tensor_free(&out, NULL);
    MCF_CHECK(f->nregs == 0);
    MCF_CHECK_RC(mcf_remove("memory://mc/w.safetensors", NULL), MCF_OK);
    MCF_CHECK_RC(mcf_remove("memory://mc/empty.pt", NULL), MCF_OK);
    mooncake_store_destroy(ms);
    return 0;
}

/* The adapter with the library's allocations failing (the fake client's
 * own never do): put, get and the file functions fail with INTERNAL_ERROR
 * "out of memory" and keep no block. */
static int store_mooncake_alloc_failures(void)
{
    mooncake_store_t ms = mooncake_store_create();
    mcf_store s;
    mcf_tensor t = mk_w(f6), out;
    mcf_test_sweep sw;
    MCF_CHECK_RC(mcf_mooncake_store_init(&s, ms), MCF_OK);
    mcf_test_sweep_begin(&sw, "the Mooncake store adapter", MCF_OK);
    while (mcf_test_sweep_next(&sw)) {
        int rc = mcf_store_put_tensor(&s, "w", &t);
        if (rc == MCF_OK && (rc = mcf_store_get_tensor(&s, "w", NULL, &out)) == MCF_OK) {
            if (memcmp(out.data, f6, sizeof f6) != 0) rc = MCF_SERIALIZE_FAIL;   /* a code no run may give */
            mcf_tensor_free(&out, NULL);
        }
        if (rc == MCF_OK) {   /* the batch calls: both keys or a failure with nothing handed out */
            static const char *const keys[2] = {"b0", "b1"};
            mcf_tensor two[2], back[2];
            int res[2], i;
            unsigned char raw[400];
            size_t len;
            two[0] = t;
            two[1] = t;
            memset(back, 0, sizeof back);
            rc = mcf_store_put_tensors(&s, keys, two, 2, res);
            if (rc == MCF_OK) rc = mcf_store_get_tensors(&s, keys, NULL, back, 2, res);
            for (i = 0; i < 2; i++) {
                if (back[i].data && memcmp(back[i].data, f6, sizeof f6) != 0) rc = MCF_SERIALIZE_FAIL;
                mcf_tensor_free(&back[i], NULL);
            }
            if (rc == MCF_OK) rc = mcf_store_get_into(&s, "b1", raw, sizeof raw, &len);
        }
        if (rc == MCF_OK) rc = mcf_save_tensor_to_safetensor(&s, "w", "memory://mc/w.safetensors", NULL);
        if (rc == MCF_OK) rc = mcf_load_tensor_from_safetensor(&s, "w2", "memory://mc/w.safetensors", NULL, NULL);
        MCF_CHECK(mcf_test_sweep_result(&sw, rc));
        (void)mcf_remove("memory://mc/w.safetensors", NULL);
        (void)s.remove(s.user, "w");
        (void)s.remove(s.user, "w2");
        (void)s.remove(s.user, "b0");
        (void)s.remove(s.user, "b1");
        MCF_CHECK(mcf_test_sweep_end(&sw));
    }
    mooncake_store_destroy(ms);
    MCF_CHECK(sw.failed_runs > 10);
    return 0;
}

/* Batches go through upstream's batch calls, one call each way, and every
 * buffer they touch is registered for the call and unregistered after it on
 * every path (the fake refuses unregistered memory as a transfer would). */
static int store_mooncake_batches(void)
{
    static const char *const keys[3] = {"b/0", "b/1", "b/2"};
    mooncake_store_t ms = mooncake_store_create();
    fake_store *f = (fake_store *)ms;
    mcf_store s;
    mcf_tensor t[3], out[3];
    int res[3], i;
    t[0] = mk_w(f6);
    t[1] = mk_w(g6);
    t[2] = mk_w(f6);
    t[2].shape[0] = 0;   /* an empty tensor: a 304-byte object */
    MCF_CHECK_RC(mcf_mooncake_store_init(&s, ms), MCF_OK);
    MCF_CHECK_RC(mcf_store_put_tensors(&s, keys, t, 3, res), MCF_OK);
    MCF_CHECK(res[0] == 0 && res[1] == 0 && res[2] == 0);
    MCF_CHECK(f->batch_puts == 1 && f->puts == 3 && f->registers == 3 && f->unregisters == 3 && f->nregs == 0);
    MCF_CHECK(f->lens[fake_find(f, "b/2")] == 304);
    MCF_CHECK_RC(mcf_store_get_tensors(&s, keys, NULL, out, 3, res), MCF_OK);
    MCF_CHECK(f->batch_gets == 1 && f->gets == 3 && f->registers == 6 && f->nregs == 0);
    MCF_CHECK(memcmp(out[0].data, f6, 24) == 0 && memcmp(out[1].data, g6, 24) == 0 && out[2].shape[0] == 0);
    for (i = 0; i < 3; i++) mcf_tensor_free(&out[i], NULL);
    /* existing keys: kept, and success */
    MCF_CHECK_RC(mcf_store_put_tensors(&s, keys + 1, t, 1, res), MCF_OK);
    MCF_CHECK_RC(mcf_store_get_tensors(&s, keys + 1, NULL, out, 1, res), MCF_OK);
    MCF_CHECK(memcmp(out[0].data, g6, 24) == 0);
    mcf_tensor_free(&out[0], NULL);
    /* per-key codes from the client pass through */
    MCF_CHECK(mooncake_store_remove_all(ms, 0) == 3);
    f->fail_put = -200;
    MCF_CHECK_RC(mcf_store_put_tensors(&s, keys, t, 2, res), -200);
    MCF_CHECK_ERR("Mooncake store: put of key \"b/0\" (328 bytes) failed with -200 (NO_AVAILABLE_HANDLE)");
    MCF_CHECK(res[0] == -200 && res[1] == -200 && f->nregs == 0);
    f->fail_put = 0;
    /* registration refused for the batch: each key fails, nothing transferred */
    f->fail_register = -1;
    f->batch_puts = 0;
    MCF_CHECK_RC(mcf_store_put_tensors(&s, keys, t, 2, res), MCF_INTERNAL_ERROR);
    MCF_CHECK_ERR("registering the 328-byte buffer for key \"b/0\" failed with -1");
    MCF_CHECK(res[0] == MCF_INTERNAL_ERROR && res[1] == MCF_INTERNAL_ERROR && f->batch_puts == 0 && f->nregs == 0);
    f->fail_register = 0;
    /* the batch call fails as a whole: every key gets its code, all unregistered */
    f->fail_batch = -1;
    MCF_CHECK_RC(mcf_store_put_tensors(&s, keys, t, 2, res), MCF_INTERNAL_ERROR);
    MCF_CHECK_ERR("batch put of 2 keys failed with -1 (INTERNAL_ERROR)");
    MCF_CHECK(res[0] == MCF_INTERNAL_ERROR && res[1] == MCF_INTERNAL_ERROR && f->nregs == 0 && mooncake_store_is_exist(ms, "b/0") == 0);
    f->fail_batch = 0;
    MCF_CHECK_RC(mcf_store_put_tensors(&s, keys, t, 2, res), MCF_OK);
    f->fail_batch = -1;
    MCF_CHECK_RC(mcf_store_get_tensors(&s, keys, NULL, out, 2, res), MCF_INTERNAL_ERROR);
    MCF_CHECK_ERR("batch get of 2 keys failed with -1 (INTERNAL_ERROR)");
    MCF_CHECK(res[0] == MCF_INTERNAL_ERROR && out[0].data == NULL && out[1].data == NULL && f->nregs == 0);
    f->fail_batch = 0;
    /* a missing key fails alone (get_size, then is_exist); the others arrive */
    MCF_CHECK_RC(mcf_store_get_tensors(&s, keys, NULL, out, 3, res), MCF_OBJECT_NOT_FOUND);
    MCF_CHECK_ERR("Mooncake store: no key \"b/2\"");
    MCF_CHECK(res[0] == 0 && res[1] == 0 && res[2] == MCF_OBJECT_NOT_FOUND && out[2].data == NULL && f->nregs == 0);
    MCF_CHECK(memcmp(out[0].data, f6, 24) == 0 && memcmp(out[1].data, g6, 24) == 0);
    for (i = 0; i < 3; i++) mcf_tensor_free(&out[i], NULL);
    /* a per-key read failure and a short read: that key only, unregistered */
    f->fail_get = -707;
    MCF_CHECK_RC(mcf_store_get_tensors(&s, keys, NULL, out, 2, res), -707);
    MCF_CHECK_ERR("get of key \"b/0\" failed with -707 (LEASE_EXPIRED)");
    MCF_CHECK(res[1] == -707 && f->nregs == 0);
    f->fail_get = 0;
    /* unregistering fails after a good transfer: reported for that key */
    f->fail_unregister = -600;
    MCF_CHECK_RC(mcf_store_get_tensors(&s, keys, NULL, out, 1, res), MCF_INVALID_PARAMS);
    MCF_CHECK_ERR("unregistering the buffer of key \"b/0\" failed with -600 (INVALID_PARAMS)");
    MCF_CHECK(out[0].data == NULL && f->nregs == 0);
    f->fail_unregister = 0;
    mooncake_store_destroy(ms);
    return 0;
}

/* Raw values: put_bytes is a plain put (the client copies into its own
 * pool), get_into reads straight into the caller's buffer, registered for
 * the call; too small a buffer is BUFFER_OVERFLOW before any transfer. */
static int store_mooncake_raw_values(void)
{
    mooncake_store_t ms = mooncake_store_create();
    fake_store *f = (fake_store *)ms;
    mcf_store s;
    unsigned char buf[16];
    size_t len = 0;
    MCF_CHECK_RC(mcf_mooncake_store_init(&s, ms), MCF_OK);
    MCF_CHECK_RC(mcf_store_put_bytes(&s, "m/keys/rank_0/w", "0123456789", 10), MCF_OK);
    MCF_CHECK(f->registers == 0 && f->lens[fake_find(f, "m/keys/rank_0/w")] == 10);
    memset(buf, 0xcc, sizeof buf);
    MCF_CHECK_RC(mcf_store_get_into(&s, "m/keys/rank_0/w", buf, sizeof buf, &len), MCF_OK);
    MCF_CHECK(len == 10 && memcmp(buf, "0123456789", 10) == 0 && buf[10] == 0xcc);
    MCF_CHECK(f->registers == 1 && f->unregisters == 1 && f->nregs == 0);
    f->gets = 0;
    MCF_CHECK_RC(mcf_store_get_into(&s, "m/keys/rank_0/w", buf, 9, &len), MCF_BUFFER_OVERFLOW);
    MCF_CHECK_ERR("its 10-byte value does not fit the 9-byte buffer");
    MCF_CHECK(len == 10 && f->gets == 0 && f->registers == 1);
    MCF_CHECK_RC(mcf_store_get_into(&s, "nope", buf, sizeof buf, &len), MCF_OBJECT_NOT_FOUND);
    f->fail_get = -801;
    MCF_CHECK_RC(mcf_store_get_into(&s, "m/keys/rank_0/w", buf, sizeof buf, &len), -801);
    MCF_CHECK_ERR("failed with -801 (CHECKSUM_MISMATCH)");
    MCF_CHECK(f->nregs == 0);
    f->fail_get = 0;
    mooncake_store_destroy(ms);
    return 0;
}

/* Seeding through the adapter: every non-empty value is a zero-copy
 * batch_put_from of one key from memory registered for the call (nothing
 * stays registered), with the replicate config; an empty tensor is a plain
 * put; the raw bytes and the manifest arrive as they are. */
static int store_mooncake_seed(void)
{
    static const unsigned char empty[1] = {0};
    mooncake_store_t ms = mooncake_store_create();
    fake_store *f = (fake_store *)ms;
    mcf_store s;
    mcf_tensor t[3];
    mcf_replicate r;
    mcf_options o;
    unsigned char le[24];
    int i;
    t[0] = mk_w(f6);
    t[1] = mk_w(g6);
    t[1].name = "big";
    t[2] = mk_w(f6);
    t[2].name = "none";
    t[2].shape[0] = 0;
    t[2].data = empty;
    MCF_CHECK_RC(mcf_save("memory://mc/seed.safetensors", t, 3, NULL), MCF_OK);
    MCF_CHECK_RC(mcf_mooncake_store_init(&s, ms), MCF_OK);
    memset(&r, 0, sizeof r);
    r.replica_num = 2;
    memset(&o, 0, sizeof o);
    o.replicate = &r;
    o.chunk_bytes = 16;
    MCF_CHECK_RC(mcf_seed_model(&s, "memory://mc/seed.safetensors", "m", 1, &o), MCF_OK);
    MCF_CHECK(f->batch_puts == 6 && f->puts == 7 && f->registers == 6 && f->unregisters == 6 && f->nregs == 0);
    MCF_CHECK(f->have_config == 1 && f->config.replica_num == 2);
    mcf_test_to_le(le, g6, 24, MCF_F32);
    i = fake_find(f, "m/keys/rank_1/big.__chunk__.1");
    MCF_CHECK(i >= 0 && f->lens[i] == 8 && memcmp(f->vals[i], le + 16, 8) == 0);
    i = fake_find(f, "m/keys/rank_1/big.__chunk_manifest__");
    MCF_CHECK(i >= 0 && f->lens[i] == 29 && memcmp(f->vals[i], "{\"num_chunks\": 2, \"size\": 24}", 29) == 0);
    i = fake_find(f, "m/keys/rank_1/none");
    MCF_CHECK(i >= 0 && f->lens[i] == 0);
    MCF_CHECK(fake_find(f, "m/keys/rank_1/w.__chunk_manifest__") >= 0 && fake_find(f, "m/keys/rank_1/w") < 0);
    /* a refused put stops the seeding with the store's code */
    MCF_CHECK(mooncake_store_remove_all(ms, 0) == 7);
    f->fail_put = -200;
    MCF_CHECK_RC(mcf_seed_model(&s, "memory://mc/seed.safetensors", "m", 1, &o), -200);
    MCF_CHECK_ERR("seeding \"memory://mc/seed.safetensors\": put of key \"m/keys/rank_1/big.__chunk__.0\" (16 bytes)");
    MCF_CHECK_ERR("failed with -200 (NO_AVAILABLE_HANDLE)");
    MCF_CHECK(f->nregs == 0);
    f->fail_put = 0;
    MCF_CHECK_RC(mcf_remove("memory://mc/seed.safetensors", NULL), MCF_OK);
    mooncake_store_destroy(ms);
    return 0;
}

/* The fake's other calls (batch put and get, buffer registration, existence
 * checks) answer as upstream's do. */
static int store_mooncake_fake_interface(void)
{
    mooncake_store_t ms = mooncake_store_create();
    fake_store *f = (fake_store *)ms;
    unsigned char a[16], b[16], back[2][16];
    const char *keys[2] = {"k/a", "k/b"};
    void *bufs[2], *outs[2];
    size_t sizes[2] = {16, 16};
    int res[2], ex[2];
    int64_t got[2];
    char host[64];
    MCF_CHECK(ms != NULL);
    MCF_CHECK(mooncake_store_setup(ms, "127.0.0.1", "P2PHANDSHAKE", 1 << 20, 1 << 20, "tcp", "", "127.0.0.1:50051") == 0);
    MCF_CHECK(mooncake_store_init_all(ms, "tcp", "", 1 << 20) == 0 && mooncake_store_health_check(ms) == 0);
    memset(a, 0xa1, sizeof a);
    memset(b, 0xb2, sizeof b);
    bufs[0] = a; bufs[1] = b;
    /* batch put from unregistered memory: per-key TRANSFER_FAIL */
    MCF_CHECK(mooncake_store_batch_put_from(ms, keys, bufs, sizes, 2, NULL, res) == 0);
    MCF_CHECK(res[0] == -800 && res[1] == -800);
    MCF_CHECK(mooncake_store_register_buffer(ms, a, sizeof a) == 0 && mooncake_store_register_buffer(ms, b, sizeof b) == 0);
    MCF_CHECK(mooncake_store_batch_put_from(ms, keys, bufs, sizes, 2, NULL, res) == 0 && res[0] == 0 && res[1] == 0);
    MCF_CHECK(mooncake_store_put_from(ms, "k/c", a, 0, NULL) == 0 && mooncake_store_is_exist(ms, "k/c") == 0);   /* 0 bytes: nothing */
    MCF_CHECK(mooncake_store_batch_is_exist(ms, keys, 2, ex) == 0 && ex[0] == 1 && ex[1] == 1);
    MCF_CHECK(mooncake_store_unregister_buffer(ms, a) == 0 && mooncake_store_unregister_buffer(ms, b) == 0);
    MCF_CHECK(mooncake_store_unregister_buffer(ms, b) == -600);
    outs[0] = back[0]; outs[1] = back[1];
    MCF_CHECK(mooncake_store_register_buffer(ms, back, sizeof back) == 0);
    MCF_CHECK(mooncake_store_batch_get_into(ms, keys, outs, sizes, 2, got) == 0 && got[0] == 16 && got[1] == 16);
    MCF_CHECK(memcmp(back[0], a, 16) == 0 && memcmp(back[1], b, 16) == 0);
    MCF_CHECK(mooncake_store_unregister_buffer(ms, back) == 0);
    MCF_CHECK(mooncake_store_get_size(ms, "k/a") == 16);
    MCF_CHECK(mooncake_store_get_hostname(ms, host, sizeof host) == 0 && strcmp(host, "127.0.0.1:17812") == 0);
    MCF_CHECK(mooncake_store_get_hostname(ms, host, 4) == -1);
    MCF_CHECK(mooncake_store_put(ms, "z/1", a, 4, NULL) == 0 && mooncake_store_put(ms, "z/2", a, 4, NULL) == 0);
    MCF_CHECK(mooncake_store_remove_by_regex(ms, "^z/", 0) == 2 && mooncake_store_is_exist(ms, "z/1") == 0);
    MCF_CHECK(mooncake_store_remove_all(ms, 1) == 2 && f->last_force == 1);
    MCF_CHECK(mooncake_store_put(ms, NULL, a, 4, NULL) == -1 && mooncake_store_put(ms, "x", NULL, 4, NULL) == -1);
    /* the batch calls: -1 and nothing written for NULL arrays, a NULL key,
     * a NULL buffer with a size */
    {
        const char *nullkey[2] = {"k/a", NULL};
        void *nullbuf[2] = {a, NULL};
        res[0] = res[1] = 77;
        got[0] = got[1] = 77;
        MCF_CHECK(mooncake_store_batch_put_from(ms, NULL, bufs, sizes, 2, NULL, res) == -1);
        MCF_CHECK(mooncake_store_batch_put_from(ms, keys, bufs, sizes, 2, NULL, NULL) == -1);
        MCF_CHECK(mooncake_store_batch_put_from(ms, nullkey, bufs, sizes, 2, NULL, res) == -1);
        MCF_CHECK(mooncake_store_batch_put_from(ms, keys, nullbuf, sizes, 2, NULL, res) == -1);
        MCF_CHECK(mooncake_store_batch_get_into(ms, keys, NULL, sizes, 2, got) == -1);
        MCF_CHECK(mooncake_store_batch_get_into(ms, nullkey, outs, sizes, 2, got) == -1);
        MCF_CHECK(mooncake_store_batch_get_into(NULL, keys, outs, sizes, 2, got) == -1);
        MCF_CHECK(res[0] == 77 && res[1] == 77 && got[0] == 77 && got[1] == 77);
        /* a missing key: its own code, the other key still read */
        MCF_CHECK(mooncake_store_put(ms, "k/a", a, 16, NULL) == 0 && mooncake_store_register_buffer(ms, back, sizeof back) == 0);
        MCF_CHECK(mooncake_store_batch_get_into(ms, keys, outs, sizes, 2, got) == 0 && got[0] == 16 && got[1] == -704);
        MCF_CHECK(mooncake_store_unregister_buffer(ms, back) == 0);
    }
    mooncake_store_destroy(ms);
    return 0;
}

MCF_TEST_MAIN(
    MCF_TEST(store_mooncake_config_layout),
    MCF_TEST(store_mooncake_put_get_remove),
    MCF_TEST(store_mooncake_get_registers),
    MCF_TEST(store_mooncake_codes_pass_through),
    MCF_TEST(store_mooncake_put_existing_key),
    MCF_TEST(store_mooncake_replicate),
    MCF_TEST(store_mooncake_file_io_roundtrip),
    MCF_TEST(store_mooncake_alloc_failures),
    MCF_TEST(store_mooncake_batches),
    MCF_TEST(store_mooncake_raw_values),
    MCF_TEST(store_mooncake_seed),
    MCF_TEST(store_mooncake_fake_interface)
)
