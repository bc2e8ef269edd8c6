/* [25] model seeding: the key layout of Mooncake's remote model loader
 * ({model}/keys/rank_{r}/{name} = raw little-endian tensor bytes), chunks
 * and their manifest byte for byte, the sidecar files and their index, and
 * a sharded checkpoint written by real PyTorch whose every tensor must reach
 * the store with the bytes torch holds. */
#include "mcf_test.h"
#include "mcf_test_endian.h"
#include "mcf_test_posix.h"
#include "mcf_test_store.h"
#include "sha256.h"

/* 1 when key holds exactly the n bytes at want. */
static int holds(mcf_test_store *w, const char *key, const void *want, size_t n)
{
    static unsigned char buf[1 << 16];
    size_t len = 0;
    if (mcf_store_get_into(&w->vt, key, buf, sizeof buf, &len) != MCF_OK) {
        fprintf(stderr, "  %s: %s\n", key, mcf_last_error());
        return 0;
    }
    if (len != n || (n && memcmp(buf, want, n) != 0)) {
        fprintf(stderr, "  %s: %lu bytes, want %lu\n", key, (unsigned long)len, (unsigned long)n);
        return 0;
    }
    return 1;
}

static int absent(mcf_test_store *w, const char *key)
{
    size_t len = 0;
    return mcf_store_get_into(&w->vt, key, NULL, 0, &len) == MCF_OBJECT_NOT_FOUND;
}

/* Bytes 0, 1, 2, ... (mod 251) of a U8 tensor. */
static void fill(unsigned char *p, size_t n)
{
    size_t i;
    for (i = 0; i < n; i++) p[i] = (unsigned char)(i % 251);
}

/* One .safetensors file: every tensor under {model}/keys/rank_{r}/{name}
 * with its little-endian bytes, nothing else (no sidecars for a file). */
static int seed_single_file_layout(void)
{
    static const float f6[6] = {1, 2, 3, 4, 5, 6};
    static const uint16_t h4[4] = {0x3f80, 0x4000, 0xbf80, 0x0000};   /* bf16 1, 2, -1, 0 */
    unsigned char le[24];
    mcf_tensor t[3];
    mcf_test_store w;
    mcf_test_store_init(&w, 0);
    MCF_CHECK(w.in != NULL);
    t[0] = mcf_test_tensor("layers.0.w", MCF_F32, 2, 2, 3, f6);
    t[1] = mcf_test_tensor("norm", MCF_BF16, 1, 4, 0, h4);
    t[2] = mcf_test_tensor("empty", MCF_F32, 2, 0, 5, NULL);
    MCF_CHECK_RC(mcf_save("memory://seed/one.safetensors", t, 3, NULL), MCF_OK);
    MCF_CHECK_RC(mcf_seed_model(&w.vt, "memory://seed/one.safetensors", "org/model-7b", 3, NULL), MCF_OK);
    MCF_CHECK(w.puts == 3 && w.replicated == 0);
    mcf_test_to_le(le, f6, 24, MCF_F32);
    MCF_CHECK(holds(&w, "org/model-7b/keys/rank_3/layers.0.w", le, 24));
    mcf_test_to_le(le, h4, 8, MCF_BF16);
    MCF_CHECK(holds(&w, "org/model-7b/keys/rank_3/norm", le, 8));
    MCF_CHECK(holds(&w, "org/model-7b/keys/rank_3/empty", "", 0));
    MCF_CHECK(absent(&w, "__index__org/model-7b/files/"));
    /* replication settings ride on every put */
    {
        mcf_replicate r;
        mcf_options o;
        memset(&r, 0, sizeof r);
        memset(&o, 0, sizeof o);
        r.replica_num = 2;
        o.replicate = &r;
        MCF_CHECK_RC(mcf_seed_model(&w.vt, "memory://seed/one.safetensors", "m", 0, &o), MCF_OK);
        MCF_CHECK(w.puts == 6 && w.replicated == 3);
    }
    MCF_CHECK_RC(mcf_remove("memory://seed/one.safetensors", NULL), MCF_OK);
    mcf_memory_store_destroy(w.in);
    return 0;
}

/* chunk_bytes: a tensor of exactly chunk_bytes is one value; one byte more
 * is two chunks (chunk_bytes and 1) and a manifest, written after them;
 * an empty tensor is one empty value. */
static int seed_chunk_edges(void)
{
    static unsigned char d[3 * 64 + 1];
    /* in the file's order (the writer sorts by name) */
    const char *want_log =
        "m/keys/rank_0/empty\nm/keys/rank_0/exact\n"
        "m/keys/rank_0/plus1.__chunk__.0\nm/keys/rank_0/plus1.__chunk__.1\nm/keys/rank_0/plus1.__chunk_manifest__\n"
        "m/keys/rank_0/small\n"
        "m/keys/rank_0/three.__chunk__.0\nm/keys/rank_0/three.__chunk__.1\nm/keys/rank_0/three.__chunk__.2\n"
        "m/keys/rank_0/three.__chunk_manifest__\n";
    mcf_tensor t[5];
    mcf_options o;
    mcf_test_store w;
    mcf_test_store_init(&w, 0);
    MCF_CHECK(w.in != NULL);
    fill(d, sizeof d);
    t[0] = mcf_test_tensor("exact", MCF_U8, 1, 64, 0, d);
    t[1] = mcf_test_tensor("plus1", MCF_U8, 1, 65, 0, d);
    t[2] = mcf_test_tensor("three", MCF_U8, 2, 3, 64, d);
    t[3] = mcf_test_tensor("empty", MCF_U8, 1, 0, 0, NULL);
    t[4] = mcf_test_tensor("small", MCF_U8, 1, 1, 0, d + 5);
    MCF_CHECK_RC(mcf_save("memory://seed/chunks.safetensors", t, 5, NULL), MCF_OK);
    memset(&o, 0, sizeof o);
    o.chunk_bytes = 64;
    MCF_CHECK_RC(mcf_seed_model(&w.vt, "memory://seed/chunks.safetensors", "m", 0, &o), MCF_OK);
    if (strcmp(w.log, want_log) != 0) fprintf(stderr, "  put order:\n%s", w.log);
    MCF_CHECK(strcmp(w.log, want_log) == 0);
    MCF_CHECK(holds(&w, "m/keys/rank_0/exact", d, 64));
    MCF_CHECK(holds(&w, "m/keys/rank_0/plus1.__chunk__.0", d, 64));
    MCF_CHECK(holds(&w, "m/keys/rank_0/plus1.__chunk__.1", d + 64, 1));
    MCF_CHECK(holds(&w, "m/keys/rank_0/plus1.__chunk_manifest__", "{\"num_chunks\": 2, \"size\": 65}", 29));
    MCF_CHECK(holds(&w, "m/keys/rank_0/three.__chunk__.2", d + 128, 64));
    MCF_CHECK(holds(&w, "m/keys/rank_0/three.__chunk_manifest__", "{\"num_chunks\": 3, \"size\": 192}", 30));
    MCF_CHECK(holds(&w, "m/keys/rank_0/empty", "", 0));
    MCF_CHECK(holds(&w, "m/keys/rank_0/small", d + 5, 1));
    MCF_CHECK(absent(&w, "m/keys/rank_0/plus1") && absent(&w, "m/keys/rank_0/exact.__chunk_manifest__"));
    /* a chunk the store refuses: seeding stops there, no manifest */
    mcf_memory_store_destroy(w.in);
    mcf_test_store_init(&w, 0);
    w.refuse = "m/keys/rank_0/three.__chunk__.1";
    MCF_CHECK_RC(mcf_seed_model(&w.vt, "memory://seed/chunks.safetensors", "m", 0, &o), -200);
    MCF_CHECK_ERR("seeding \"memory://seed/chunks.safetensors\": put of key \"m/keys/rank_0/three.__chunk__.1\" (64 bytes): test store: no handle");
    MCF_CHECK(absent(&w, "m/keys/rank_0/three.__chunk_manifest__") && absent(&w, "m/keys/rank_0/three.__chunk__.2"));
    MCF_CHECK(holds(&w, "m/keys/rank_0/three.__chunk__.0", d, 64));
    MCF_CHECK_RC(mcf_remove("memory://seed/chunks.safetensors", NULL), MCF_OK);
    mcf_memory_store_destroy(w.in);
    return 0;
}

static int seed_errors(void)
{
    static const float f2[2] = {1, 2};
    mcf_tensor t = mcf_test_tensor("w", MCF_F32, 1, 2, 0, f2);
    mcf_test_store w;
    mcf_test_store_init(&w, 0);
    MCF_CHECK(w.in != NULL);
    MCF_CHECK_RC(mcf_save("memory://seed/e.safetensors", &t, 1, NULL), MCF_OK);
    MCF_CHECK_RC(mcf_seed_model(NULL, "memory://seed/e.safetensors", "m", 0, NULL), MCF_INVALID_PARAMS);
    MCF_CHECK_RC(mcf_seed_model(&w.vt, NULL, "m", 0, NULL), MCF_INVALID_PARAMS);
    MCF_CHECK_RC(mcf_seed_model(&w.vt, "memory://seed/e.safetensors", NULL, 0, NULL), MCF_INVALID_PARAMS);
    MCF_CHECK_RC(mcf_seed_model(&w.vt, "memory://seed/e.safetensors", "", 0, NULL), MCF_INVALID_PARAMS);
    MCF_CHECK_ERR("empty model name");
    MCF_CHECK_RC(mcf_seed_model(&w.vt, "memory://seed/e.safetensors", "m", -1, NULL), MCF_INVALID_PARAMS);
    MCF_CHECK_ERR("negative rank -1");
    MCF_CHECK_RC(mcf_seed_model(&w.vt, "memory://seed/none.safetensors", "m", 0, NULL), MCF_FILE_NOT_FOUND);
    /* a directory that cannot be listed and has no index */
    MCF_CHECK_RC(mcf_seed_model(&w.vt, "memory://seed", "m", 0, NULL), MCF_NOT_SUPPORTED);
    MCF_CHECK_ERR("no model.safetensors.index.json there, and only local directories can be listed");
    /* not a safetensors file */
    MCF_CHECK_RC(mcf_write_bytes("memory://seed/junk.safetensors", "not a checkpoint", 16, NULL), MCF_OK);
    MCF_CHECK_RC(mcf_seed_model(&w.vt, "memory://seed/junk.safetensors", "m", 0, NULL), MCF_DESERIALIZE_FAIL);
    /* the store's code comes back, the message names the key */
    w.refuse = "m/keys/rank_0/w";
    MCF_CHECK_RC(mcf_seed_model(&w.vt, "memory://seed/e.safetensors", "m", 0, NULL), -200);
    MCF_CHECK_ERR("put of key \"m/keys/rank_0/w\" (8 bytes)");
    MCF_CHECK(w.puts == 1);
    MCF_CHECK_RC(mcf_remove("memory://seed/e.safetensors", NULL), MCF_OK);
    MCF_CHECK_RC(mcf_remove("memory://seed/junk.safetensors", NULL), MCF_OK);
    mcf_memory_store_destroy(w.in);
    return 0;
}

/* A "https" backend over the memory one that, like a presigned URL, serves
 * an object only with the query it was signed for ("sig=1"); every other
 * query is a not-found, counted in signed_fs_bad. */
static mcf_filesystem signed_fs_mem;
static int signed_fs_bad;

static int signed_fs_url(const mcf_url *url, mcf_url *mu)
{
    char buf[512];
    if (strcmp(url->query, "sig=1") != 0) {
        signed_fs_bad++;
        return mcf_set_error(MCF_FILE_NOT_FOUND, "%s: signature does not match", url->url);
    }
    (void)snprintf(buf, sizeof buf, "memory://%s", url->path);
    return mcf_url_parse(buf, NULL, mu);
}
static int signed_fs_stat(void *user, const mcf_url *url, const mcf_options *o, uint64_t *size)
{
    mcf_url mu;
    int rc = signed_fs_url(url, &mu);
    (void)user;
    if (rc != MCF_OK) return rc;
    rc = signed_fs_mem.stat(signed_fs_mem.user, &mu, o, size);
    mcf_url_free(&mu);
    return rc;
}
static int signed_fs_open(void *user, const mcf_url *url, const mcf_options *o, void **file, uint64_t *size)
{
    mcf_url mu;
    int rc = signed_fs_url(url, &mu);
    (void)user;
    if (rc != MCF_OK) return rc;
    rc = signed_fs_mem.open_read(signed_fs_mem.user, &mu, o, file, size);
    mcf_url_free(&mu);
    return rc;
}
static int signed_fs_read(void *file, uint64_t off, void *dst, size_t len) { return signed_fs_mem.read_at(file, off, dst, len); }
static void signed_fs_close(void *file) { signed_fs_mem.close_read(file); }

/* mcf_seed_model tells a file, an index and a directory apart as mcf_open
 * does: by the parsed path, whatever the case of ".safetensors" and
 * ".index.json", and without an http(s) URL's query. */
static int seed_names_any_case_and_query(void)
{
    static const float f2[2] = {1, 2}, g3[3] = {3, 4, 5};
    static const char index[] = "{\"metadata\": {\"total_size\": 20}, \"weight_map\": {\"a\": \"s1.safetensors\", \"b\": \"S2.SafeTensors\"}}";
    unsigned char le[12];
    mcf_tensor t = mcf_test_tensor("w", MCF_F32, 1, 2, 0, f2), a = mcf_test_tensor("a", MCF_F32, 1, 2, 0, f2), b = mcf_test_tensor("b", MCF_F32, 1, 3, 0, g3);
    mcf_filesystem fs;
    mcf_test_store w;
    mcf_test_store_init(&w, 0);
    MCF_CHECK(w.in != NULL);
    /* one file named in upper case */
    MCF_CHECK_RC(mcf_save("memory://seedcase/ONE.SAFETENSORS", &t, 1, NULL), MCF_OK);
    MCF_CHECK_RC(mcf_seed_model(&w.vt, "memory://seedcase/ONE.SAFETENSORS", "m", 0, NULL), MCF_OK);
    mcf_test_to_le(le, f2, 8, MCF_F32);
    MCF_CHECK(w.puts == 1 && holds(&w, "m/keys/rank_0/w", le, 8));
    /* an index named in upper case (shards in mixed case) */
    MCF_CHECK_RC(mcf_save("memory://seedcase/s1.safetensors", &a, 1, NULL), MCF_OK);
    MCF_CHECK_RC(mcf_save("memory://seedcase/S2.SafeTensors", &b, 1, NULL), MCF_OK);
    MCF_CHECK_RC(mcf_write_bytes("memory://seedcase/MODEL.SAFETENSORS.INDEX.JSON", index, sizeof index - 1, NULL), MCF_OK);
    MCF_CHECK_RC(mcf_seed_model(&w.vt, "memory://seedcase/MODEL.SAFETENSORS.INDEX.JSON", "ix", 1, NULL), MCF_OK);
    MCF_CHECK(w.puts == 3 && holds(&w, "ix/keys/rank_1/a", le, 8));
    mcf_test_to_le(le, g3, 12, MCF_F32);
    MCF_CHECK(holds(&w, "ix/keys/rank_1/b", le, 12));
    /* http(s) URLs with a query: the query is not part of the name, and it
     * reaches the backend unchanged */
    MCF_CHECK_RC(mcf_filesystem_lookup("memory", &signed_fs_mem), MCF_OK);
    memset(&fs, 0, sizeof fs);
    fs.scheme = "https";
    fs.stat = signed_fs_stat;
    fs.open_read = signed_fs_open;
    fs.read_at = signed_fs_read;
    fs.close_read = signed_fs_close;
    MCF_CHECK_RC(mcf_register_filesystem(&fs), MCF_OK);
    MCF_CHECK_RC(mcf_seed_model(&w.vt, "https://h.test/seedcase/ONE.SAFETENSORS?sig=1", "q", 0, NULL), MCF_OK);
    mcf_test_to_le(le, f2, 8, MCF_F32);
    MCF_CHECK(w.puts == 4 && holds(&w, "q/keys/rank_0/w", le, 8));
    MCF_CHECK_RC(mcf_seed_model(&w.vt, "https://h.test/seedcase/s1.safetensors?sig=1", "q1", 0, NULL), MCF_OK);
    MCF_CHECK(w.puts == 5 && holds(&w, "q1/keys/rank_0/a", le, 8));
    MCF_CHECK(signed_fs_bad == 0);
    /* a wrong query is refused by the backend (and named) */
    MCF_CHECK_RC(mcf_seed_model(&w.vt, "https://h.test/seedcase/s1.safetensors?sig=2", "q2", 0, NULL), MCF_FILE_NOT_FOUND);
    MCF_CHECK_ERR("https://h.test/seedcase/s1.safetensors?sig=2: signature does not match");
    MCF_CHECK(signed_fs_bad == 1 && w.puts == 5);
    MCF_CHECK_RC(mcf_remove("memory://seedcase/ONE.SAFETENSORS", NULL), MCF_OK);
    MCF_CHECK_RC(mcf_remove("memory://seedcase/s1.safetensors", NULL), MCF_OK);
    MCF_CHECK_RC(mcf_remove("memory://seedcase/S2.SafeTensors", NULL), MCF_OK);
    MCF_CHECK_RC(mcf_remove("memory://seedcase/MODEL.SAFETENSORS.INDEX.JSON", NULL), MCF_OK);
    mcf_memory_store_destroy(w.in);
    return 0;
}

#if !defined(MCF_NO_POSIX) && !defined(_WIN32)
/* Runs tests/torch_checkpoint.py into dir with args; *out is its listing
 * ("name nbytes sha256" lines; free it). */
static int make_checkpoint(const char *dir, const char *args, char **out)
{
    char cmd[1024], why[256];
    int rc;
    (void)snprintf(cmd, sizeof cmd, "tests/torch_checkpoint.py '%s' %s", dir, args);
    rc = mcf_test_python(cmd, out, why, sizeof why);
    if (rc != 0) fprintf(stderr, "  torch_checkpoint.py: %s %s\n", why, *out ? *out : "");
    return rc;
}

/* Every tensor of the listing is in the store under prefix with torch's
 * bytes (sha256 of t.contiguous().view(torch.uint8)), whole or, when larger
 * than chunk (0 = never), as chunks whose manifest is exact. Returns the
 * number of tensors, or -1. */
static int check_listing(mcf_test_store *w, const char *listing, const char *prefix, size_t chunk)
{
    static unsigned char buf[1 << 17];
    const char *at = listing;
    char line[512], name[300], sha[80], key[400], hex[65], manifest[96];
    unsigned long nbytes;
    int count = 0;
    while (mcf_test_next_line(&at, line, sizeof line)) {
        test_sha256 h;
        size_t len = 0;
        if (sscanf(line, "%299s %lu %79s", name, &nbytes, sha) != 3) continue;
        (void)snprintf(key, sizeof key, "%s%s", prefix, name);
        test_sha256_init(&h);
        if (chunk && nbytes > chunk) {
            unsigned long n = (unsigned long)((nbytes + chunk - 1) / chunk), i;
            (void)snprintf(manifest, sizeof manifest, "{\"num_chunks\": %lu, \"size\": %lu}", n, nbytes);
            (void)snprintf(key, sizeof key, "%s%s.__chunk_manifest__", prefix, name);
            if (!holds(w, key, manifest, strlen(manifest))) return -1;
            for (i = 0; i < n; i++) {
                (void)snprintf(key, sizeof key, "%s%s.__chunk__.%lu", prefix, name, i);
                if (mcf_store_get_into(&w->vt, key, buf, sizeof buf, &len) != MCF_OK) { fprintf(stderr, "  %s: %s\n", key, mcf_last_error()); return -1; }
                if (len != (i + 1 < n ? chunk : nbytes - i * chunk)) { fprintf(stderr, "  %s: %lu bytes\n", key, (unsigned long)len); return -1; }
                test_sha256_update(&h, buf, len);
            }
            (void)snprintf(key, sizeof key, "%s%s", prefix, name);
            if (!absent(w, key)) { fprintf(stderr, "  %s is there whole too\n", key); return -1; }
        } else {
            if (mcf_store_get_into(&w->vt, key, buf, sizeof buf, &len) != MCF_OK) { fprintf(stderr, "  %s: %s\n", key, mcf_last_error()); return -1; }
            if (len != nbytes) { fprintf(stderr, "  %s: %lu bytes, torch has %lu\n", key, (unsigned long)len, nbytes); return -1; }
            test_sha256_update(&h, buf, len);
        }
        test_sha256_hex(&h, hex);
        if (strcmp(hex, sha) != 0) { fprintf(stderr, "  %s: bytes differ from torch's\n", key); return -1; }
        count++;
    }
    return count;
}

/* The sidecars of the checkpoint directory: text as Python's text mode
 * reads it, tokenizer.model (not UTF-8) left out, the index once. */
static int check_sidecars(mcf_test_store *w)
{
    static const char config[] = "{\n  \"model_type\": \"llama\",\n  \"hidden_size\": 32\n}\n";
    static const char tmpl[] = "{% for m in messages %}{{ m['content'] }}\n{% endfor %}";
    static const char vocab[] = "{\"<s>\": 0, \"caf\xc3\xa9\": 1}";
    static const char index[] = "llama/files/config.json\nllama/files/chat_template.jinja\nllama/files/vocab.json";
    MCF_CHECK(holds(w, "llama/files/config.json", config, sizeof config - 1));
    MCF_CHECK(holds(w, "llama/files/chat_template.jinja", tmpl, sizeof tmpl - 1));
    MCF_CHECK(holds(w, "llama/files/vocab.json", vocab, sizeof vocab - 1));
    MCF_CHECK(absent(w, "llama/files/tokenizer.model") && absent(w, "llama/files/merges.txt"));
    MCF_CHECK(holds(w, "__index__llama/files/", index, sizeof index - 1));
    return 0;
}

/* A directory of 4 shards made by PyTorch, no index: the *.safetensors
 * files in name order, every tensor with torch's bytes, then the sidecars
 * and their index (written last, once). */
static int seed_torch_shards_directory(void)
{
    char dir[512], *listing = NULL;
    mcf_test_store w;
    int rc, n;
    mcf_test_tmp_path(dir, sizeof dir, "ck_noindex");
    rc = make_checkpoint(dir, "--shards 4 --no-index", &listing);
    if (rc == MCF_TEST_SKIPPED) { free(listing); MCF_SKIP("PyTorch unavailable"); }
    MCF_CHECK(rc == 0 && listing);
    mcf_test_store_init(&w, 0);
    MCF_CHECK_RC(mcf_seed_model(&w.vt, dir, "llama", 1, NULL), MCF_OK);
    n = check_listing(&w, listing, "llama/keys/rank_1/", 0);
    MCF_CHECK(n == 12);
    MCF_CHECK(w.puts == 12 + 3 + 1);
    MCF_CHECK(strncmp(w.log, "llama/keys/rank_1/model.embed_tokens.weight\n", 44) == 0);   /* shard 1 first */
    MCF_CHECK(strstr(w.log, "llama/files/vocab.json\n__index__llama/files/\n") != NULL &&
              strlen(strstr(w.log, "__index__")) == strlen("__index__llama/files/\n"));   /* the index is the last put */
    if (check_sidecars(&w)) return 1;
    /* chunked: 1000-byte chunks */
    mcf_memory_store_destroy(w.in);
    mcf_test_store_init(&w, 0);
    {
        mcf_options o;
        memset(&o, 0, sizeof o);
        o.chunk_bytes = 1000;
        MCF_CHECK_RC(mcf_seed_model(&w.vt, dir, "llama", 1, &o), MCF_OK);
        MCF_CHECK(check_listing(&w, listing, "llama/keys/rank_1/", 1000) == 12);
        MCF_CHECK(holds(&w, "llama/keys/rank_1/model.layers.0.mlp.up_proj.weight.__chunk_manifest__",
                        "{\"num_chunks\": 7, \"size\": 6144}", 31));
    }
    /* one shard file alone: its tensors, no sidecars */
    mcf_memory_store_destroy(w.in);
    mcf_test_store_init(&w, 0);
    {
        char one[600];
        (void)snprintf(one, sizeof one, "%s/model-00003-of-00004.safetensors", dir);
        MCF_CHECK_RC(mcf_seed_model(&w.vt, one, "llama", 0, NULL), MCF_OK);
        MCF_CHECK(w.puts == 3 && absent(&w, "__index__llama/files/"));
        MCF_CHECK(holds(&w, "llama/keys/rank_0/model.scale", "\x03\x00\x00\x00", 4));
    }
    mcf_memory_store_destroy(w.in);
    free(listing);
    /* a directory without checkpoint files, and none at all */
    mcf_test_store_init(&w, 0);
    MCF_CHECK_RC(mcf_seed_model(&w.vt, mcf_test_tmpdir(), "llama", 0, NULL), MCF_FILE_NOT_FOUND);
    MCF_CHECK_ERR("no model.safetensors.index.json and no *.safetensors files there");
    mcf_test_tmp_path(dir, sizeof dir, "no-such-dir");
    MCF_CHECK_RC(mcf_seed_model(&w.vt, dir, "llama", 0, NULL), MCF_FILE_NOT_FOUND);
    MCF_CHECK_ERR("no such file or directory");
    MCF_CHECK(w.puts == 0);
    mcf_memory_store_destroy(w.in);
    return 0;
}

/* The same checkpoint with model.safetensors.index.json: the directory is
 * seeded through its index (every shard it names), and the index file
 * itself may be named (then no sidecars). */
static int seed_torch_shards_index(void)
{
    char dir[512], idx[600], *listing = NULL;
    mcf_test_store w;
    int rc;
    mcf_test_tmp_path(dir, sizeof dir, "ck_index");
    rc = make_checkpoint(dir, "--shards 3", &listing);
    if (rc == MCF_TEST_SKIPPED) { free(listing); MCF_SKIP("PyTorch unavailable"); }
    MCF_CHECK(rc == 0 && listing);
    mcf_test_store_init(&w, 0);
    MCF_CHECK_RC(mcf_seed_model(&w.vt, dir, "llama", 0, NULL), MCF_OK);
    MCF_CHECK(check_listing(&w, listing, "llama/keys/rank_0/", 0) == 12);
    if (check_sidecars(&w)) return 1;
    mcf_memory_store_destroy(w.in);
    mcf_test_store_init(&w, 0);
    (void)snprintf(idx, sizeof idx, "%s/model.safetensors.index.json", dir);
    MCF_CHECK_RC(mcf_seed_model(&w.vt, idx, "llama", 2, NULL), MCF_OK);
    MCF_CHECK(check_listing(&w, listing, "llama/keys/rank_2/", 0) == 12);
    MCF_CHECK(w.puts == 12 && absent(&w, "__index__llama/files/"));
    mcf_memory_store_destroy(w.in);
    free(listing);
    return 0;
}
#define POSIX_TESTS , MCF_TEST(seed_torch_shards_directory), MCF_TEST(seed_torch_shards_index)
#else
#define POSIX_TESTS
#endif

MCF_TEST_MAIN(
    MCF_TEST(seed_single_file_layout),
    MCF_TEST(seed_chunk_edges),
    MCF_TEST(seed_errors),
    MCF_TEST(seed_names_any_case_and_query)
    POSIX_TESTS
)
