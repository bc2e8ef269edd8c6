/* [20] sharded checkpoints: mcf_open of a Hugging Face index (one reader over
 * every shard), every rule an index must follow, and mcf_save with
 * max_shard_bytes (huggingface_hub's split, the shard and index names, the
 * index bytes transformers writes). Proven against real PyTorch
 * (tests/shard_ref.py: the split and json.dumps index for the same tensors,
 * a torch-sharded checkpoint made by torch.save, and torch.load of ours),
 * over local paths, file://, memory://, and in the curl variants nginx and
 * s3rver, where opening a 4-shard checkpoint is counted. */
#include "mcf_test.h"
#ifndef MCF_NO_POSIX
#include <sys/stat.h>
#include "mcf_test_posix.h"
#endif
#ifdef MOONCAKE_FILEIO_CURL
#include "mcf_test_server.h"
#endif
#include <stdint.h>

static int put_text(const char *url, const char *text)
{
    return mcf_write_bytes(url, text, strlen(text), NULL);
}

static void tensor_f32(mcf_tensor *t, const char *name, const float *v, int64_t rows, int64_t cols)
{
    memset(t, 0, sizeof *t);
    t->name = name;
    t->dtype = MCF_F32;
    t->ndim = 2;
    t->shape[0] = rows;
    t->shape[1] = cols;
    t->data = v;
}

static void tensor_u8(mcf_tensor *t, const char *name, const unsigned char *v, int64_t n)
{
    memset(t, 0, sizeof *t);
    t->name = name;
    t->dtype = MCF_U8;
    t->ndim = 1;
    t->shape[0] = n;
    t->data = v;
}

/* Shards under memory://v/: a.safetensors holds x [2,3] then y [4,6], b z
 * [3], c x and z, d.pt q. */
static float g_x[6] = {1, 2, 3, 4, 5, 6}, g_y[24], g_z[3] = {7, 8, 9};
static int shards_made;

static int make_shards(void)
{
    mcf_tensor t[2];
    int i;
    if (shards_made) return MCF_OK;
    for (i = 0; i < 24; i++) g_y[i] = (float)i * 0.5f - 3.0f;
    tensor_f32(&t[0], "x", g_x, 2, 3);
    tensor_f32(&t[1], "y", g_y, 4, 6);
    if (mcf_save("memory://v/a.safetensors", t, 2, NULL) != MCF_OK) return 1;
    tensor_f32(&t[0], "z", g_z, 1, 3);
    if (mcf_save("memory://v/b.safetensors", t, 1, NULL) != MCF_OK) return 1;
    tensor_f32(&t[0], "x", g_x, 2, 3);
    tensor_f32(&t[1], "z", g_z, 1, 3);
    if (mcf_save("memory://v/c.safetensors", t, 2, NULL) != MCF_OK) return 1;
    tensor_f32(&t[0], "q", g_z, 3, 1);
    if (mcf_save("memory://v/d.pt", t, 1, NULL) != MCF_OK) return 1;
    shards_made = 1;
    return MCF_OK;
}

/* Opens index text written to memory://v/<name>; the reader or NULL. */
static int open_index(const char *name, const char *text, unsigned flags, mcf_reader **r)
{
    char url[128];
    mcf_options o;
    memset(&o, 0, sizeof o);
    o.flags = flags;
    (void)snprintf(url, sizeof url, "memory://v/%s", name);
    if (put_text(url, text) != MCF_OK) return MCF_INTERNAL_ERROR;
    return mcf_open(url, &o, r);
}

/* One reader over every shard: entry order, sources, metadata, reads. */
static int shard_open_merges_shards(void)
{
    mcf_reader *r = NULL;
    mcf_tensor info;
    const char *key, *val;
    float row[6], col[4];
    double as[3];
    mcf_slice s[2];
    const void *view;
    MCF_CHECK(make_shards() == MCF_OK);
    MCF_CHECK_RC(open_index("m.safetensors.index.json",
                            "{\"metadata\": {\"total_size\": 132, \"format\": \"pt\", \"nested\": {\"a\": [1, 2]}, \"flag\": true},\n"
                            " \"weight_map\": {\"z\": \"b.safetensors\", \"y\": \"a.safetensors\", \"x\": \"a.safetensors\"}, \"extra\": [1]}",
                            0, &r), MCF_OK);
    MCF_CHECK(mcf_count(r) == 3);
    MCF_CHECK(strcmp(mcf_reader_format(r), "safetensors") == 0);
    /* shard name order, then offset: x and y of a.safetensors, then z */
    MCF_CHECK_RC(mcf_entry(r, 0, &info), MCF_OK);
    MCF_CHECK(strcmp(info.name, "x") == 0);
    MCF_CHECK_RC(mcf_entry(r, 1, &info), MCF_OK);
    MCF_CHECK(strcmp(info.name, "y") == 0 && info.shape[0] == 4 && info.shape[1] == 6);
    MCF_CHECK_RC(mcf_entry(r, 2, &info), MCF_OK);
    MCF_CHECK(strcmp(info.name, "z") == 0);
    MCF_CHECK(strcmp(mcf_entry_source(r, 0), "memory:///v/a.safetensors") == 0);
    MCF_CHECK(strcmp(mcf_entry_source(r, 1), "memory:///v/a.safetensors") == 0);
    MCF_CHECK(strcmp(mcf_entry_source(r, 2), "memory:///v/b.safetensors") == 0);
    MCF_CHECK(mcf_entry_source(r, 3) == NULL);
    MCF_CHECK_ERR("out of range");
    MCF_CHECK(mcf_entry_source(NULL, 0) == NULL);
    /* metadata from the index: numbers as decimal text, strings decoded,
     * other values as their JSON text */
    MCF_CHECK(mcf_metadata_count(r) == 4);
    MCF_CHECK(strcmp(mcf_metadata(r, "total_size"), "132") == 0);
    MCF_CHECK(strcmp(mcf_metadata(r, "format"), "pt") == 0);
    MCF_CHECK(strcmp(mcf_metadata(r, "nested"), "{\"a\": [1, 2]}") == 0);
    MCF_CHECK(strcmp(mcf_metadata(r, "flag"), "true") == 0);
    MCF_CHECK_RC(mcf_metadata_pair(r, 0, &key, &val), MCF_OK);
    MCF_CHECK(strcmp(key, "total_size") == 0 && strcmp(val, "132") == 0);
    /* reads, views, slices and conversions work across shards */
    MCF_CHECK(mcf_find(r, "z") == 2);
    MCF_CHECK_RC(mcf_read_as(r, 2, MCF_F64, NULL, 0, as, sizeof as), MCF_OK);
    MCF_CHECK(as[0] == 7.0 && as[2] == 9.0);
    MCF_CHECK_RC(mcf_view(r, 0, &view), MCF_OK);
    MCF_CHECK(memcmp(view, g_x, sizeof g_x) == 0);
    s[0] = mcf_slice_range(2, 3);
    s[1] = mcf_slice_range(0, MCF_SLICE_END);
    MCF_CHECK_RC(mcf_read_slice(r, 1, s, 2, row, sizeof row), MCF_OK);
    MCF_CHECK(memcmp(row, g_y + 12, sizeof row) == 0);
    s[0] = mcf_slice_range(0, MCF_SLICE_END);
    s[1] = mcf_slice_range(-1, MCF_SLICE_END);
    MCF_CHECK_RC(mcf_read_slice(r, 1, s, 2, col, sizeof col), MCF_OK);
    MCF_CHECK(col[0] == g_y[5] && col[3] == g_y[23]);
    mcf_close(r);
    return 0;
}

/* An index may not reach outside its directory. */
static int shard_names_stay_in_the_directory(void)
{
    static const char *const bad[][2] = {
        {"../x.safetensors", "contains \"..\""}, {"/etc/passwd", "absolute"},
        {"http://elsewhere/x", "scheme"}, {"sub\\\\x.safetensors", "backslash"},
        {"file:a.safetensors", "scheme"}, {"", "empty"}, {"a/../../x", "\"..\""},
        {"C:x.safetensors", "scheme or drive"},
    };
    char text[256];
    size_t i;
    mcf_reader *r = (mcf_reader *)&text;
    MCF_CHECK(make_shards() == MCF_OK);
    for (i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        (void)snprintf(text, sizeof text, "{\"weight_map\": {\"x\": \"a.safetensors\", \"evil\": \"%s\"}}", bad[i][0]);
        MCF_CHECK_RC(open_index("bad.safetensors.index.json", text, 0, &r), MCF_DESERIALIZE_FAIL);
        MCF_CHECK(r == NULL);
        MCF_CHECK_ERR("memory:///v/bad.safetensors.index.json: tensor \"evil\": shard name");
        MCF_CHECK_ERR(bad[i][1]);
        MCF_CHECK_ERR("only files in its own directory");
    }
    MCF_CHECK_RC(open_index("bad.safetensors.index.json", "{\"weight_map\": {\"x\": \"a.safe\\u0000tensors\"}}", 0, &r), MCF_DESERIALIZE_FAIL);
    MCF_CHECK_ERR("tensor \"x\": its shard name holds a NUL character");
    MCF_CHECK_RC(open_index("bad.safetensors.index.json", "{\"weight_map\": {\"x\\u0000y\": \"a.safetensors\"}}", 0, &r), MCF_NOT_SUPPORTED);
    MCF_CHECK_ERR("a tensor name holds a NUL character");
    return 0;
}

/* Every tensor in exactly its shard; unlisted ones only with MCF_LENIENT. */
static int shard_tensors_match_the_index(void)
{
    mcf_reader *r = NULL;
    MCF_CHECK(make_shards() == MCF_OK);
    MCF_CHECK_RC(open_index("i.index.json", "{\"weight_map\": {\"x\": \"a.safetensors\", \"y\": \"a.safetensors\", \"w\": \"b.safetensors\", \"z\": \"b.safetensors\"}}",
                            0, &r), MCF_DESERIALIZE_FAIL);
    MCF_CHECK_ERR("memory:///v/i.index.json: tensor \"w\" is missing from its shard \"b.safetensors\"");
    MCF_CHECK_RC(open_index("i.index.json", "{\"weight_map\": {\"x\": \"a.safetensors\", \"y\": \"a.safetensors\", \"z\": \"c.safetensors\"}}", 0, &r),
                 MCF_DESERIALIZE_FAIL);
    MCF_CHECK_ERR("memory:///v/i.index.json: tensor \"x\" is in two shards, \"a.safetensors\" and \"c.safetensors\"");
    MCF_CHECK_RC(open_index("i.index.json", "{\"weight_map\": {\"x\": \"c.safetensors\", \"z\": \"b.safetensors\"}}", 0, &r), MCF_DESERIALIZE_FAIL);
    MCF_CHECK_ERR("tensor \"z\" is in two shards, \"b.safetensors\" and \"c.safetensors\"");
    MCF_CHECK_RC(open_index("i.index.json", "{\"weight_map\": {\"y\": \"b.safetensors\", \"x\": \"a.safetensors\"}}", 0, &r), MCF_DESERIALIZE_FAIL);
    MCF_CHECK_ERR("shard \"b.safetensors\" holds tensor \"z\", which the index does not list (MCF_LENIENT");
    MCF_CHECK_RC(open_index("i.index.json", "{\"weight_map\": {\"x\": \"a.safetensors\", \"z\": \"b.safetensors\"}}", 0, &r), MCF_DESERIALIZE_FAIL);
    MCF_CHECK_ERR("memory:///v/i.index.json: shard \"a.safetensors\" holds tensor \"y\", which the index does not list");
    MCF_CHECK(r == NULL);
    MCF_CHECK_RC(open_index("i.index.json", "{\"weight_map\": {\"x\": \"a.safetensors\", \"z\": \"b.safetensors\"}}", MCF_LENIENT, &r), MCF_OK);
    MCF_CHECK(mcf_count(r) == 2 && mcf_find(r, "y") == MCF_OBJECT_NOT_FOUND && mcf_find(r, "z") == 1);
    mcf_close(r);
    /* a tensor the index maps to one shard while another holds it */
    MCF_CHECK_RC(open_index("i.index.json", "{\"weight_map\": {\"x\": \"a.safetensors\", \"y\": \"a.safetensors\", \"z\": \"a.safetensors\"}}", MCF_LENIENT, &r),
                 MCF_DESERIALIZE_FAIL);
    MCF_CHECK_ERR("tensor \"z\" is missing from its shard \"a.safetensors\"");
    return 0;
}

/* A malformed index, a missing shard, mixed formats: each its own code. */
static int shard_bad_index_and_missing_shards(void)
{
    static const char *const malformed[][2] = {
        {"{\"weight_map\": {\"x\": \"a.safetensors\"}", "invalid header JSON"},
        {"[1, 2]", "the index is not a JSON object"},
        {"{\"metadata\": {}}", "the index has no \"weight_map\""},
        {"{\"weight_map\": []}", "\"weight_map\" is not a JSON object"},
        {"{\"weight_map\": {\"x\": 3}}", "tensor \"x\": its shard is not a JSON string"},
        {"{\"weight_map\": {\"x\": \"a.safetensors\", \"x\": \"a.safetensors\"}}", "tensor \"x\" is listed twice"},
        {"{\"weight_map\": {}, \"weight_map\": {}}", "\"weight_map\" appears twice"},
        {"{\"metadata\": null, \"weight_map\": {}}", "\"metadata\" is not a JSON object"},
        {"{\"metadata\": {\"a\": 1, \"a\": 2}, \"weight_map\": {}}", "metadata key \"a\" appears twice"},
        {"{\"weight_map\": {\"x\": \"a.safetensors\"}} x", "invalid header JSON"},
        {"\xff{}", "invalid header JSON"},
        {"{\"metadata\": {\"a\": \"x\\u0000\"}, \"weight_map\": {}}", "metadata \"a\" holds a NUL character"},
        {"{\"metadata\": {\"a\\u0000\": 1}, \"weight_map\": {}}", "a metadata key holds a NUL character"},
        {"{\"metadata\": {\"a\": {\"b\": [1, }}, \"weight_map\": {}}", "invalid header JSON"},
    };
    mcf_reader *r = NULL;
    size_t i;
    MCF_CHECK(make_shards() == MCF_OK);
    for (i = 0; i < sizeof malformed / sizeof malformed[0]; i++) {
        MCF_CHECK_RC(open_index("j.index.json", malformed[i][0], 0, &r), MCF_DESERIALIZE_FAIL);
        MCF_CHECK_ERR("memory:///v/j.index.json");
        MCF_CHECK_ERR(malformed[i][1]);
    }
    MCF_CHECK_RC(mcf_write_bytes("memory://v/e.index.json", "", 0, NULL), MCF_OK);
    MCF_CHECK_RC(mcf_open("memory://v/e.index.json", NULL, &r), MCF_DESERIALIZE_FAIL);
    MCF_CHECK_ERR("memory:///v/e.index.json: empty index");
    MCF_CHECK_RC(mcf_open("memory://v/none.index.json", NULL, &r), MCF_FILE_NOT_FOUND);
    MCF_CHECK_RC(open_index("j.index.json", "{\"weight_map\": {\"x\": \"a.safetensors\", \"y\": \"a.safetensors\", \"k\": \"gone.safetensors\"}}", 0, &r),
                 MCF_FILE_NOT_FOUND);
    MCF_CHECK_ERR("memory:///v/j.index.json: shard \"gone.safetensors\" (tensor \"k\"): ");
    MCF_CHECK_ERR("memory:///v/gone.safetensors");
    MCF_CHECK(r == NULL);
    MCF_CHECK_RC(open_index("j.index.json", "{\"weight_map\": {\"x\": \"a.safetensors\", \"y\": \"a.safetensors\", \"q\": \"d.pt\"}}", 0, &r),
                 MCF_DESERIALIZE_FAIL);
    MCF_CHECK_ERR("shard \"d.pt\" (tensor \"q\") is a torch file, shard \"a.safetensors\" a safetensors file");
    /* a shard that is not a checkpoint at all */
    MCF_CHECK_RC(put_text("memory://v/junk.safetensors", "hello, world"), MCF_OK);
    MCF_CHECK_RC(open_index("j.index.json", "{\"weight_map\": {\"x\": \"junk.safetensors\"}}", 0, &r), MCF_DESERIALIZE_FAIL);
    MCF_CHECK_ERR("memory:///v/j.index.json: shard \"junk.safetensors\" (tensor \"x\"): ");
    /* an empty weight_map is an empty checkpoint */
    MCF_CHECK_RC(open_index("j.index.json", "{\"weight_map\": {}}", 0, &r), MCF_OK);
    MCF_CHECK(mcf_count(r) == 0);
    mcf_close(r);
    return 0;
}

/* huggingface_hub's split on sizes [6, 10, 30, 2, 2] with limit 10: the
 * 30-byte tensor gets shard 2 at once, ahead of the shard being filled. */
static int shard_split_rule(void)
{
    static unsigned char bytes[64];
    static const int64_t sizes[5] = {6, 10, 30, 2, 2};
    static const char *const names[5] = {"t1", "t2", "t3", "t4", "t5"};
    static const char *const want[5] = {"m-00001-of-00004.safetensors", "m-00003-of-00004.safetensors", "m-00002-of-00004.safetensors",
                                        "m-00004-of-00004.safetensors", "m-00004-of-00004.safetensors"};
    mcf_tensor t[5];
    mcf_options o;
    mcf_reader *r = NULL;
    size_t i;
    memset(&o, 0, sizeof o);
    for (i = 0; i < 5; i++) tensor_u8(&t[i], names[i], bytes, sizes[i]);
    o.max_shard_bytes = 10;
    MCF_CHECK_RC(mcf_save("memory://split/m.safetensors", t, 5, &o), MCF_OK);
    MCF_CHECK(mcf_exists("memory://split/m.safetensors", NULL) == 0);
    MCF_CHECK_RC(mcf_open("memory://split/m.safetensors.index.json", NULL, &r), MCF_OK);
    MCF_CHECK(mcf_count(r) == 5);
    for (i = 0; i < 5; i++) {
        int k = mcf_find(r, names[i]);
        const char *src;
        MCF_CHECK(k >= 0);
        src = mcf_entry_source(r, (size_t)k);
        MCF_CHECK(strlen(src) > strlen(want[i]) && strcmp(src + strlen(src) - strlen(want[i]), want[i]) == 0);
    }
    MCF_CHECK(strcmp(mcf_metadata(r, "total_size"), "50") == 0);
    mcf_close(r);
    /* shards carry {"format": "pt"} when no metadata is given */
    MCF_CHECK_RC(mcf_open("memory://split/m-00004-of-00004.safetensors", NULL, &r), MCF_OK);
    MCF_CHECK(mcf_metadata_count(r) == 1 && strcmp(mcf_metadata(r, "format"), "pt") == 0);
    mcf_close(r);
    /* exactly at the limit: one shard, the plain file, no index */
    o.max_shard_bytes = 12;
    tensor_u8(&t[0], "a", bytes, 6);
    tensor_u8(&t[1], "b", bytes, 6);
    MCF_CHECK_RC(mcf_save("memory://split/one.safetensors", t, 2, &o), MCF_OK);
    MCF_CHECK(mcf_exists("memory://split/one.safetensors", NULL) == 1);
    MCF_CHECK(mcf_exists("memory://split/one.safetensors.index.json", NULL) == 0);
    MCF_CHECK(mcf_exists("memory://split/one-00001-of-00001.safetensors", NULL) == 0);
    MCF_CHECK_RC(mcf_open("memory://split/one.safetensors", NULL, &r), MCF_OK);
    MCF_CHECK(mcf_count(r) == 2 && mcf_metadata_count(r) == 0);   /* a plain save: no default metadata */
    mcf_close(r);
    /* one byte more: two shards */
    tensor_u8(&t[2], "c", bytes, 1);
    MCF_CHECK_RC(mcf_save("memory://split/two.safetensors", t, 3, &o), MCF_OK);
    MCF_CHECK(mcf_exists("memory://split/two-00001-of-00002.safetensors", NULL) == 1);
    MCF_CHECK(mcf_exists("memory://split/two-00002-of-00002.safetensors", NULL) == 1);
    /* one tensor over the limit alone: one shard */
    o.max_shard_bytes = 1;
    MCF_CHECK_RC(mcf_save("memory://split/big.safetensors", t, 1, &o), MCF_OK);
    MCF_CHECK(mcf_exists("memory://split/big.safetensors", NULL) == 1);
    MCF_CHECK(mcf_exists("memory://split/big.safetensors.index.json", NULL) == 0);
    /* the caller's metadata goes to every shard */
    {
        static const char *const meta[] = {"format", "np", "author", "me", NULL};
        o.metadata = meta;
        MCF_CHECK_RC(mcf_save("memory://split/meta.safetensors", t, 3, &o), MCF_OK);
        MCF_CHECK_RC(mcf_open("memory://split/meta-00002-of-00003.safetensors", NULL, &r), MCF_OK);
        MCF_CHECK(strcmp(mcf_metadata(r, "format"), "np") == 0 && strcmp(mcf_metadata(r, "author"), "me") == 0);
        mcf_close(r);
        o.metadata = NULL;
    }
    /* torch shards: NAME-k-of-n.EXT and NAME.EXT.index.json for .pt and .bin */
    MCF_CHECK_RC(mcf_save("memory://split/model.pt", t, 3, &o), MCF_OK);
    MCF_CHECK(mcf_exists("memory://split/model-00003-of-00003.pt", NULL) == 1);
    MCF_CHECK_RC(mcf_open("memory://split/model.pt.index.json", NULL, &r), MCF_OK);
    MCF_CHECK(mcf_count(r) == 3 && strcmp(mcf_reader_format(r), "torch") == 0);
    mcf_close(r);
    MCF_CHECK_RC(mcf_save("memory://split/pytorch_model.bin", t, 3, &o), MCF_OK);
    MCF_CHECK(mcf_exists("memory://split/pytorch_model-00001-of-00003.bin", NULL) == 1);
    MCF_CHECK_RC(mcf_open("memory://split/pytorch_model.bin.index.json", NULL, &r), MCF_OK);
    MCF_CHECK(mcf_count(r) == 3);
    mcf_close(r);
    return 0;
}

/* A second save with fewer shards replaces the index; the earlier save's
 * extra shard stays (this call did not write it) and readers ignore it. */
static int shard_resave_leaves_stale_shards_unnamed(void)
{
    static unsigned char bytes[8] = {1, 2, 3, 4, 5, 6, 7, 8};
    mcf_tensor t[3];
    mcf_options o;
    mcf_reader *r = NULL;
    memset(&o, 0, sizeof o);
    o.max_shard_bytes = 4;
    tensor_u8(&t[0], "a", bytes, 4);
    tensor_u8(&t[1], "b", bytes, 4);
    tensor_u8(&t[2], "c", bytes, 4);
    MCF_CHECK_RC(mcf_save("memory://stale/m.safetensors", t, 3, &o), MCF_OK);
    MCF_CHECK(mcf_exists("memory://stale/m-00003-of-00003.safetensors", NULL) == 1);
    o.max_shard_bytes = 8;
    MCF_CHECK_RC(mcf_save("memory://stale/m.safetensors", t, 3, &o), MCF_OK);
    MCF_CHECK(mcf_exists("memory://stale/m-00003-of-00003.safetensors", NULL) == 1);
    MCF_CHECK_RC(mcf_open("memory://stale/m.safetensors.index.json", NULL, &r), MCF_OK);
    MCF_CHECK(mcf_count(r) == 3);
    MCF_CHECK(strstr(mcf_entry_source(r, 2), "m-00002-of-00002.safetensors") != NULL);
    mcf_close(r);
    /* MCF_NO_OVERWRITE refuses before writing anything */
    o.flags = MCF_NO_OVERWRITE;
    MCF_CHECK_RC(mcf_save("memory://stale/m.safetensors", t, 3, &o), MCF_FILE_OPEN_FAIL);
    MCF_CHECK_ERR("already exists (MCF_NO_OVERWRITE)");
    MCF_CHECK(mcf_exists("memory://stale/m.safetensors.index.json", NULL) == 1);
    return 0;
}

/* Index strings are escaped as Python's json.dumps does (ensure_ascii). */
static int shard_index_escapes_as_python(void)
{
    static unsigned char bytes[4];
    static const char want[] =
        "{\n  \"metadata\": {\n    \"total_size\": 4\n  },\n  \"weight_map\": {\n"
        "    \"\\u0001\\t\\n\\\"\\\\/~\\u007f\": \"e-00001-of-00002.safetensors\",\n"
        "    \"caf\\u00e9\": \"e-00002-of-00002.safetensors\",\n"
        "    \"\\u20ac\\ud83d\\ude00\": \"e-00002-of-00002.safetensors\"\n  }\n}\n";
    mcf_tensor t[3];
    mcf_options o;
    void *got = NULL;
    size_t len = 0;
    memset(&o, 0, sizeof o);
    o.max_shard_bytes = 2;
    tensor_u8(&t[0], "\x01\t\n\"\\/~\x7f", bytes, 2);
    tensor_u8(&t[1], "\xe2\x82\xac\xf0\x9f\x98\x80", bytes, 1);
    tensor_u8(&t[2], "caf\xc3\xa9", bytes, 1);
    MCF_CHECK_RC(mcf_save("memory://esc/e.safetensors", t, 3, &o), MCF_OK);
    MCF_CHECK_RC(mcf_read_bytes("memory://esc/e.safetensors.index.json", &got, &len, NULL), MCF_OK);
    if (len != strlen(want) || memcmp(got, want, len) != 0) fprintf(stderr, "  got:\n%.*s\n", (int)len, (const char *)got);
    MCF_CHECK(len == strlen(want) && memcmp(got, want, len) == 0);
    mcf_free(got);
    return 0;
}

#ifndef MCF_NO_POSIX
/* A save that fails midway removes the shards it wrote and writes no index. */
static int shard_failed_save_leaves_nothing(void)
{
    static unsigned char bytes[8];
    char dir[600], path[700], blocker[700];
    mcf_tensor t[2];
    mcf_options o;
    memset(&o, 0, sizeof o);
    MCF_CHECK(mcf_test_tmpdir() != NULL);
    mcf_test_tmp_path(dir, sizeof dir, "fail");
    MCF_CHECK(mkdir(dir, 0755) == 0);
    (void)snprintf(path, sizeof path, "%s/m.safetensors", dir);
    (void)snprintf(blocker, sizeof blocker, "%s/m-00002-of-00002.safetensors", dir);
    MCF_CHECK(mkdir(blocker, 0755) == 0);   /* a directory where shard 2 goes */
    tensor_u8(&t[0], "a", bytes, 8);
    tensor_u8(&t[1], "b", bytes, 8);
    o.max_shard_bytes = 8;
    MCF_CHECK(mcf_save(path, t, 2, &o) < 0);
    MCF_CHECK_ERR("m-00002-of-00002.safetensors");
    MCF_CHECK(mcf_test_count_entries(dir, "m-00001", 0) == 0);
    MCF_CHECK(mcf_test_count_entries(dir, ".index.json", 1) == 0);
    MCF_CHECK(mcf_test_count_entries(dir, ".tmp", 1) == 0);
    return 0;
}

/* A file name with a space and a '%' through a file: URL (percent-decoded):
 * the index names the decoded shard files, which open by path and URL. */
static int shard_file_url_names_are_decoded(void)
{
    static unsigned char bytes[8] = {1, 2, 3, 4, 5, 6, 7, 8};
    char url[700], path[700];
    mcf_tensor t[2];
    mcf_options o;
    mcf_reader *r = NULL;
    void *text = NULL;
    size_t len = 0;
    memset(&o, 0, sizeof o);
    MCF_CHECK(mcf_test_tmpdir() != NULL);
    tensor_u8(&t[0], "a", bytes, 8);
    tensor_u8(&t[1], "b", bytes, 8);
    o.max_shard_bytes = 8;
    (void)snprintf(url, sizeof url, "file://%s/sp/my%%20model%%25.safetensors", mcf_test_tmpdir());
    MCF_CHECK_RC(mcf_save(url, t, 2, &o), MCF_OK);
    (void)snprintf(path, sizeof path, "%s/sp/my model%%-00002-of-00002.safetensors", mcf_test_tmpdir());
    MCF_CHECK(mcf_exists(path, NULL) == 1);
    (void)snprintf(path, sizeof path, "%s/sp/my model%%.safetensors.index.json", mcf_test_tmpdir());
    MCF_CHECK_RC(mcf_read_bytes(path, &text, &len, NULL), MCF_OK);
    MCF_CHECK(len > 0 && strstr((const char *)text, "\"b\": \"my model%-00002-of-00002.safetensors\"") != NULL);
    mcf_free(text);
    MCF_CHECK_RC(mcf_open(path, NULL, &r), MCF_OK);
    MCF_CHECK(mcf_count(r) == 2);
    mcf_close(r);
    (void)snprintf(url, sizeof url, "file://%s/sp/my%%20model%%25.safetensors.index.json", mcf_test_tmpdir());
    MCF_CHECK_RC(mcf_open(url, NULL, &r), MCF_OK);
    MCF_CHECK(strncmp(mcf_entry_source(r, 1), "file:///", 8) == 0);   /* the canonical file: URL holds the decoded path */
    MCF_CHECK(strstr(mcf_entry_source(r, 1), "/sp/my model%-00002-of-00002.safetensors") != NULL);
    mcf_close(r);
    return 0;
}

/* ---- against real PyTorch ---------------------------------------------------- */

static int g_py_state = -1;
static char g_py_why[2048];

static int py_line(const char *line, void *ctx)
{
    (void)ctx;
    return strncmp(line, "SHARDS ", 7) == 0;
}

static int py_run(const char *mode)
{
    char args[700];
    if (!mcf_test_tmpdir()) return 1;
    (void)snprintf(args, sizeof args, "tests/shard_ref.py %s", mode);
    return mcf_test_python_lines(args, py_line, NULL, g_py_why, sizeof g_py_why);
}

#define NEED_REF() do { if (g_py_state < 0) g_py_state = py_run("make"); \
    if (g_py_state == MCF_TEST_SKIPPED) MCF_SKIP("PyTorch unavailable: %s", g_py_why); \
    if (g_py_state != 0) { fprintf(stderr, "  shard_ref.py make failed: %s\n", g_py_why); return 1; } } while (0)

/* Every tensor of a equals the one of b with its name. */
static int same_tensors(mcf_reader *a, mcf_reader *b)
{
    size_t i;
    if (mcf_count(a) != mcf_count(b)) { fprintf(stderr, "  %lu vs %lu tensors\n", (unsigned long)mcf_count(a), (unsigned long)mcf_count(b)); return 0; }
    for (i = 0; i < mcf_count(a); i++) {
        mcf_tensor x, y;
        const void *p, *q;
        int k, d;
        if (mcf_entry(a, i, &x) != MCF_OK || (k = mcf_find(b, x.name)) < 0 || mcf_entry(b, (size_t)k, &y) != MCF_OK) return 0;
        if (x.dtype != y.dtype || x.ndim != y.ndim) { fprintf(stderr, "  %s: dtype or rank differs\n", x.name); return 0; }
        for (d = 0; d < x.ndim; d++)
            if (x.shape[d] != y.shape[d]) return 0;
        if (mcf_view(a, i, &p) != MCF_OK || mcf_view(b, (size_t)k, &q) != MCF_OK) return 0;
        if (memcmp(p, q, (size_t)mcf_tensor_nbytes(&x)) != 0) { fprintf(stderr, "  %s: bytes differ\n", x.name); return 0; }
    }
    return 1;
}

/* Our split, names and index bytes are what a Hugging Face save of the same
 * tensors writes, our torch shards the bytes torch.save writes for each
 * shard's OrderedDict; PyTorch loads our torch shards and reads our
 * safetensors shards; we read PyTorch's torch-sharded checkpoint. */
/* 1 if the two files hold the same bytes (says which differ if not). */
static int same_bytes(const char *path, const char *want)
{
    size_t la = 0, lb = 0;
    unsigned char *a = mcf_test_slurp(path, &la), *b = mcf_test_slurp(want, &lb);
    int same = a && b && la == lb && memcmp(a, b, la) == 0;
    if (!same) fprintf(stderr, "  %s differs from %s\n", path, want);
    free(a);
    free(b);
    return same;
}

static int shard_matches_huggingface_and_pytorch(void)
{
    char src[700], out[700], path[800], want[800];
    mcf_reader *r = NULL, *s = NULL;
    mcf_tensor t[32];
    mcf_options o;
    size_t n, i;
    static const char *const kinds[2][2] = {{"model.safetensors", "want.safetensors.index.json"}, {"pytorch_model.bin", "want.bin.index.json"}};
    NEED_REF();
    MCF_CHECK_RC(mcf_open(mcf_test_tmp_path(src, sizeof src, "src.pt"), NULL, &r), MCF_OK);
    n = mcf_count(r);
    MCF_CHECK(n == 13);
    for (i = 0; i < n; i++) {
        MCF_CHECK_RC(mcf_entry(r, i, &t[i]), MCF_OK);
        MCF_CHECK_RC(mcf_view(r, i, &t[i].data), MCF_OK);
    }
    memset(&o, 0, sizeof o);
    o.max_shard_bytes = 1000;
    mcf_test_tmp_path(out, sizeof out, "out");
    for (i = 0; i < 2; i++) {
        (void)snprintf(path, sizeof path, "%s/%s", out, kinds[i][0]);
        MCF_CHECK_RC(mcf_save(path, t, n, &o), MCF_OK);
        (void)snprintf(path, sizeof path, "%s/%s.index.json", out, kinds[i][0]);
        (void)snprintf(want, sizeof want, "%s/%s", mcf_test_tmpdir(), kinds[i][1]);
        MCF_CHECK(same_bytes(path, want));
        MCF_CHECK_RC(mcf_open(path, NULL, &s), MCF_OK);
        MCF_CHECK(same_tensors(r, s));
        MCF_CHECK(strcmp(mcf_metadata(s, "total_size"), "4269") == 0);
        mcf_close(s);
    }
    /* our torch shards are torch.save of each shard's OrderedDict, byte for byte */
    for (i = 1; i <= 4; i++) {
        (void)snprintf(path, sizeof path, "%s/pytorch_model-%05lu-of-00004.bin", out, (unsigned long)i);
        (void)snprintf(want, sizeof want, "%s/want/pytorch_model-%05lu-of-00004.bin", mcf_test_tmpdir(), (unsigned long)i);
        MCF_CHECK(same_bytes(path, want));
    }
    /* PyTorch's torch.save shards and transformers' index, read by us, also
     * through file:// */
    MCF_CHECK_RC(mcf_open(mcf_test_tmp_path(path, sizeof path, "ref/pytorch_model.bin.index.json"), NULL, &s), MCF_OK);
    MCF_CHECK(same_tensors(r, s) && same_tensors(s, r));
    MCF_CHECK(strcmp(mcf_reader_format(s), "torch") == 0);
    MCF_CHECK(strstr(mcf_entry_source(s, 0), "ref/pytorch_model-00001-of-00004.bin") != NULL);
    MCF_CHECK(strstr(mcf_entry_source(s, n - 1), "ref/pytorch_model-00004-of-00004.bin") != NULL);
    mcf_close(s);
    (void)snprintf(want, sizeof want, "file://%s/ref/pytorch_model.bin.index.json", mcf_test_tmpdir());
    MCF_CHECK_RC(mcf_open(want, NULL, &s), MCF_OK);
    MCF_CHECK(same_tensors(r, s));
    MCF_CHECK(strncmp(mcf_entry_source(s, 0), "file://", 7) == 0);
    mcf_close(s);
    mcf_close(r);
    /* PyTorch reads what we wrote */
    {
        int rc = py_run("check");
        if (rc != 0) fprintf(stderr, "  shard_ref.py check: %s\n", g_py_why);
        MCF_CHECK(rc == 0);
    }
    return 0;
}
#endif

#ifdef MOONCAKE_FILEIO_CURL
/* Four 256 KiB shards saved to nginx (DAV PUT) and s3rver; opening the
 * index costs the index and one header range per shard, never tensor data. */
static int remote_case(const char *base, const mcf_options *o, const char *label)
{
    enum { W = 65536 };
    static float w[4][W];
    static const char *const names[4] = {"layers.0.w", "layers.1.w", "layers.2.w", "layers.3.w"};
    char url[256];
    mcf_tensor t[4];
    mcf_options so;
    mcf_reader *r = NULL;
    uint64_t req0, down0, req1, down1;
    float got[8];
    mcf_slice s[2];
    int i, k;
    for (k = 0; k < 4; k++) {
        for (i = 0; i < W; i++) w[k][i] = (float)(k * W + i);
        tensor_f32(&t[k], names[k], w[k], 256, 256);
    }
    so = *o;
    so.max_shard_bytes = (uint64_t)W * 4;
    (void)snprintf(url, sizeof url, "%s/sharded/model.safetensors", base);
    MCF_CHECK_RC(mcf_save(url, t, 4, &so), MCF_OK);
    (void)snprintf(url, sizeof url, "%s/sharded/model.safetensors.index.json", base);
    mcf_curl_counters(&req0, &down0, NULL);
    MCF_CHECK_RC(mcf_open(url, o, &r), MCF_OK);
    mcf_curl_counters(&req1, &down1, NULL);
    fprintf(stderr, "  %s: opening a 4-shard index: %llu requests, %llu bytes received\n", label,
            (unsigned long long)(req1 - req0), (unsigned long long)(down1 - down0));
    /* one ranged GET of the first 72 KiB per object, its size from the
     * answer: the index (all of it), then each shard's header (no HEADs) */
    MCF_CHECK(req1 - req0 == 1 + 4);
    /* those blocks and the answers' heads, not the 1 MiB of tensors */
    MCF_CHECK(down1 - down0 < 5 * ((72 << 10) + 1024));
    MCF_CHECK(mcf_count(r) == 4);
    MCF_CHECK(strstr(mcf_entry_source(r, 3), "/sharded/model-00004-of-00004.safetensors") != NULL);
    s[0] = mcf_slice_range(255, 256);
    s[1] = mcf_slice_range(248, MCF_SLICE_END);
    MCF_CHECK_RC(mcf_read_slice(r, 3, s, 2, got, sizeof got), MCF_OK);
    MCF_CHECK(got[0] == (float)(3 * W + 255 * 256 + 248) && got[7] == (float)(4 * W - 1));
    mcf_close(r);
    /* names that need percent-encoding in a URL */
    if (strncmp(base, "http", 4) == 0) {
        /* a presigned URL signs one object: refused before anything is sent,
         * and the signature stays out of the sentence */
        (void)snprintf(url, sizeof url, "%s/sharded/signed.safetensors?X-Amz-Signature=abc123", base);
        mcf_curl_counters(&req0, NULL, NULL);
        MCF_CHECK_RC(mcf_save(url, t, 4, &so), MCF_INVALID_PARAMS);
        MCF_CHECK_ERR("/sharded/signed.safetensors?...: a sharded save cannot take a URL with a query");
        MCF_CHECK(strstr(mcf_last_error(), "abc123") == NULL);
        mcf_curl_counters(&req1, NULL, NULL);
        MCF_CHECK(req1 == req0);
        (void)snprintf(url, sizeof url, "%s/sharded/my%%20model.safetensors", base);
        MCF_CHECK_RC(mcf_save(url, t, 2, &so), MCF_OK);
        (void)snprintf(url, sizeof url, "%s/sharded/my%%20model.safetensors.index.json", base);
        MCF_CHECK_RC(mcf_open(url, o, &r), MCF_OK);
        MCF_CHECK(mcf_count(r) == 2);
        MCF_CHECK(strstr(mcf_entry_source(r, 1), "/sharded/my%20model-00002-of-00002.safetensors") != NULL);
        MCF_CHECK_RC(mcf_read_slice(r, 1, s, 2, got, sizeof got), MCF_OK);
        MCF_CHECK(got[0] == (float)(W + 255 * 256 + 248));
        mcf_close(r);
    }
    /* a shard that went missing */
    (void)snprintf(url, sizeof url, "%s/sharded/model-00002-of-00004.safetensors", base);
    MCF_CHECK_RC(mcf_remove(url, o), MCF_OK);
    (void)snprintf(url, sizeof url, "%s/sharded/model.safetensors.index.json", base);
    MCF_CHECK_RC(mcf_open(url, o, &r), MCF_FILE_NOT_FOUND);
    MCF_CHECK_ERR("shard \"model-00002-of-00004.safetensors\" (tensor \"layers.1.w\")");
    return 0;
}

static int shard_remote_http(void)
{
    mcf_options o;
    NEED_HTTP();
    memset(&o, 0, sizeof o);
    return remote_case(g_http_base, &o, "nginx");
}

static int shard_remote_s3(void)
{
    mcf_options o;
    NEED_S3();
    o = s3_options(S3_SECRET);
    return remote_case("s3://" S3_BUCKET, &o, "s3rver");
}
#endif

#define SHARD_COMMON MCF_TEST(shard_open_merges_shards), MCF_TEST(shard_names_stay_in_the_directory), MCF_TEST(shard_tensors_match_the_index), \
    MCF_TEST(shard_bad_index_and_missing_shards), MCF_TEST(shard_split_rule), MCF_TEST(shard_resave_leaves_stale_shards_unnamed), \
    MCF_TEST(shard_index_escapes_as_python)
#if defined(MCF_NO_POSIX)
MCF_TEST_MAIN(SHARD_COMMON)
#elif !defined(MOONCAKE_FILEIO_CURL)
MCF_TEST_MAIN(SHARD_COMMON, MCF_TEST(shard_failed_save_leaves_nothing), MCF_TEST(shard_file_url_names_are_decoded),
              MCF_TEST(shard_matches_huggingface_and_pytorch))
#else
MCF_TEST_MAIN(SHARD_COMMON, MCF_TEST(shard_failed_save_leaves_nothing), MCF_TEST(shard_file_url_names_are_decoded),
              MCF_TEST(shard_matches_huggingface_and_pytorch), MCF_TEST(shard_remote_http), MCF_TEST(shard_remote_s3))
#endif
