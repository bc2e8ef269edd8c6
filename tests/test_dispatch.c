/* [19] readers and [21] save dispatch: format sniffing never takes a valid file of one
 * format for the other (every safetensors header length whose bytes read
 * like a pickle marker or a zip signature, real files with such headers,
 * real legacy and TorchScript files from PyTorch), what a failed open says
 * (empty, truncated, text, TorchScript), and the out-parameter rule of the
 * error model. */
#include "mcf_test.h"
#include "mcf_test_posix.h"
#include <stdint.h>

#define TORCH_DIR "tests/data/torch/"

/* ---- helpers ------------------------------------------------------------- */

/* The bytes as a local file and as a memory:// object, both called name;
 * each URL is written to urls[0] (local, "" without POSIX) and urls[1]. */
static int put_both(const char *name, const void *p, size_t n, char urls[2][512])
{
    urls[0][0] = '\0';
#ifndef MCF_NO_POSIX
    if (!mcf_test_tmpdir()) return 0;
    if (!mcf_test_write_file(mcf_test_tmp_path(urls[0], 512, name), p, n)) return 0;
#endif
    snprintf(urls[1], 512, "memory://dispatch/%s", name);
    return mcf_write_bytes(urls[1], p, n, NULL) == MCF_OK;
}

/* Opening the bytes under name (local file and memory://) fails with code
 * and a message holding msg; the reader comes back NULL. */
static int open_urls_fail(const char *name, const void *p, size_t n, int code, const char *msg)
{
    char urls[2][512];
    int u;
    MCF_CHECK(put_both(name, p, n, urls));
    for (u = 0; u < 2; u++) {
        mcf_reader *r = (mcf_reader *)&u;
        if (!urls[u][0]) continue;
        MCF_CHECK_RC(mcf_open(urls[u], NULL, &r), code);
        MCF_CHECK_ERR(msg);
        MCF_CHECK(r == NULL);
    }
    return 0;
}

/* Runs a Python script with /usr/bin/python3 (PyTorch 1.13), argv[1] = the
 * temporary directory. 0 ok, MCF_TEST_SKIPPED without python or torch, 1
 * the script failed (what it printed goes to stderr). */
static int run_python(const char *script)
{
    char path[600], args[1400], why[2048], *out = NULL;
    int rc;
    if (!mcf_test_tmpdir() || !mcf_test_write_file(mcf_test_tmp_path(path, sizeof path, "gen.py"), script, strlen(script))) return 1;
    snprintf(args, sizeof args, "'%s' '%s'", path, mcf_test_tmpdir());
    rc = mcf_test_python(args, &out, why, sizeof why);
    if (rc == 1) fprintf(stderr, "  python: %s\n", why);
    free(out);
    return rc;
}

/* ---- [1] safetensors header lengths that look like other formats ---------- */

/* Every header length <= 100,000,000 whose first bytes read as a pickle
 * protocol marker (0x80 0x02..0x05: 640, 896, 1152, 1408, 66176, ...) or a
 * zip signature ("PK\3\4", "PK\5\4") is a safetensors length: a prefix
 * that claims it is refused by the safetensors reader (the header runs past
 * the end), never as a torch file. */
static int dispatch_sniff_every_marker_length_is_safetensors(void)
{
    static const uint64_t zip_like[2] = {0x04034b50u, 0x04054b50u};
    unsigned char buf[16];
    char want[128];
    uint64_t n, k;
    unsigned low;
    int ws, i, count = 0;
    for (ws = 0; ws < 2; ws++) {
        for (low = 0x0280; low <= 0x0580; low += 0x0100) {
            for (k = 0; (n = (k << 16) | low) <= 100000000u; k++) {
                mcf_reader *r = (mcf_reader *)buf;
                size_t len;
                for (i = 0; i < 8; i++) buf[i] = (unsigned char)(n >> (8 * i));
                MCF_CHECK(buf[0] == 0x80 && buf[1] >= 2 && buf[1] <= 5 && buf[4] == 0);
                len = ws ? 12 : 10;
                memcpy(buf + 8, ws ? " \n{\"" : "{\"", len - 8);
                snprintf(want, sizeof want, "safetensors: <memory>: header length %llu runs past the end of the file (%lu bytes)",
                         (unsigned long long)n, (unsigned long)len);
                MCF_CHECK_RC(mcf_open_memory(buf, len, NULL, &r), MCF_DESERIALIZE_FAIL);
                MCF_CHECK_ERR(want);
                MCF_CHECK(r == NULL);
                count++;
            }
        }
    }
    MCF_CHECK(count == 2 * 4 * 1526);   /* k = 0..1525 for each low half */
    for (k = 0; k < 2; k++) {
        mcf_reader *r = (mcf_reader *)buf;
        for (i = 0; i < 8; i++) buf[i] = (unsigned char)(zip_like[k] >> (8 * i));
        MCF_CHECK(buf[0] == 'P' && buf[1] == 'K');
        memcpy(buf + 8, "{\"", 2);
        snprintf(want, sizeof want, "safetensors: <memory>: header length %llu runs past the end", (unsigned long long)zip_like[k]);
        MCF_CHECK_RC(mcf_open_memory(buf, 10, NULL, &r), MCF_DESERIALIZE_FAIL);
        MCF_CHECK_ERR(want);
        MCF_CHECK(r == NULL);
    }
    return 0;
}

/* An SGD-like checkpoint: weights and their momentum buffers. */
static const float sgd_w[12] = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12}, sgd_b[4] = {-1, -2, -3, -4};
static const float sgd_mw[12] = {.5f, .25f, .125f, 0, 1, 2, 3, 4, 5, 6, 7, 8}, sgd_mb[4] = {9, 8, 7, 6};

static void sgd_tensors(mcf_tensor t[4])
{
    memset(t, 0, 4 * sizeof *t);
    t[0].name = "model.0.weight"; t[0].ndim = 2; t[0].shape[0] = 4; t[0].shape[1] = 3; t[0].data = sgd_w;
    t[1].name = "model.0.bias"; t[1].ndim = 1; t[1].shape[0] = 4; t[1].data = sgd_b;
    t[2].name = "optimizer.state.0.momentum_buffer"; t[2].ndim = 2; t[2].shape[0] = 4; t[2].shape[1] = 3; t[2].data = sgd_mw;
    t[3].name = "optimizer.state.1.momentum_buffer"; t[3].ndim = 1; t[3].shape[0] = 4; t[3].data = sgd_mb;
    t[0].dtype = t[1].dtype = t[2].dtype = t[3].dtype = MCF_F32;
}

static uint64_t le64_of(const void *p)
{
    const unsigned char *b = (const unsigned char *)p;
    uint64_t v = 0;
    int i;
    for (i = 7; i >= 0; i--) v = (v << 8) | b[i];
    return v;
}

/* Metadata {"pad": "ppp..."} long enough that the safetensors header of the
 * SGD tensors is exactly target bytes (a multiple of 8: the writer pads the
 * JSON with spaces to 8). *pad is malloc'd; NULL-terminated pairs in meta. */
static int pad_for_header(uint64_t target, const char *meta[3], char **pad)
{
    mcf_tensor t[4];
    mcf_options o;
    void *out = NULL;
    size_t len = 0;
    uint64_t h;
    sgd_tensors(t);
    memset(&o, 0, sizeof o);
    o.format = "safetensors";
    meta[0] = "pad"; meta[1] = ""; meta[2] = NULL;
    o.metadata = meta;
    if (mcf_save_to_memory(t, 4, &o, &out, &len) != MCF_OK) return 0;
    h = le64_of(out);
    mcf_free(out);
    if (h > target || !(*pad = (char *)malloc((size_t)(target - h) + 1))) return 0;
    memset(*pad, 'p', (size_t)(target - h));
    (*pad)[target - h] = '\0';
    meta[1] = *pad;
    return 1;
}

/* Reader r holds the SGD tensors with their values. */
static int check_sgd(mcf_reader *r)
{
    mcf_tensor t[4], e;
    float got[12];
    size_t i;
    int idx;
    sgd_tensors(t);
    MCF_CHECK(strcmp(mcf_reader_format(r), "safetensors") == 0);
    MCF_CHECK(mcf_count(r) == 4);
    for (i = 0; i < 4; i++) {
        size_t nb = (size_t)mcf_tensor_nbytes(&t[i]);
        MCF_CHECK((idx = mcf_find(r, t[i].name)) >= 0);
        MCF_CHECK_RC(mcf_entry(r, (size_t)idx, &e), MCF_OK);
        MCF_CHECK(e.dtype == MCF_F32 && e.ndim == t[i].ndim && e.shape[0] == t[i].shape[0] && e.shape[1] == t[i].shape[1]);
        memset(got, 0, sizeof got);
        MCF_CHECK_RC(mcf_read(r, (size_t)idx, got, sizeof got), MCF_OK);
        MCF_CHECK(memcmp(got, t[i].data, nb) == 0);
    }
    return 0;
}

/* Complete, valid safetensors files whose header is 640, 896, 1152, 1408
 * and 66176 bytes (first bytes 0x80 0x02..0x05, as `mcf convert` of an SGD
 * checkpoint once wrote), saved with mcf_save to a file and to memory://,
 * open as safetensors from the file, from memory:// and from a buffer, with
 * every value read back. */
static int dispatch_sniff_valid_files_with_marker_lengths(void)
{
    static const uint64_t lengths[5] = {640, 896, 1152, 1408, 0x10280};
    size_t f;
    for (f = 0; f < 5; f++) {
        const char *meta[3];
        char *pad = NULL, urls[2][512], name[64];
        mcf_tensor t[4];
        mcf_options o;
        void *bytes = NULL;
        size_t len = 0;
        mcf_reader *r;
        int u;
        MCF_CHECK(pad_for_header(lengths[f], meta, &pad));
        sgd_tensors(t);
        memset(&o, 0, sizeof o);
        o.metadata = meta;
        snprintf(name, sizeof name, "sgd-%lu.safetensors", (unsigned long)lengths[f]);
        MCF_CHECK(put_both(name, "", 0, urls));
        for (u = 0; u < 2; u++) {
            if (!urls[u][0]) continue;
            MCF_CHECK_RC(mcf_save(urls[u], t, 4, &o), MCF_OK);
            MCF_CHECK_RC(mcf_read_bytes(urls[u], &bytes, &len, NULL), MCF_OK);
            MCF_CHECK(le64_of(bytes) == lengths[f]);
            MCF_CHECK(((unsigned char *)bytes)[0] == 0x80 && ((unsigned char *)bytes)[1] >= 2 && ((unsigned char *)bytes)[1] <= 5);
            MCF_CHECK_RC(mcf_open(urls[u], NULL, &r), MCF_OK);
            if (check_sgd(r)) { mcf_close(r); return 1; }
            MCF_CHECK(strcmp(mcf_metadata(r, "pad"), pad) == 0);
            mcf_close(r);
            MCF_CHECK_RC(mcf_open_memory(bytes, len, NULL, &r), MCF_OK);
            if (check_sgd(r)) { mcf_close(r); return 1; }
            mcf_close(r);
            mcf_free(bytes);
        }
        free(pad);
    }
    return 0;
}

/* A valid file whose 67,324,752-byte header length reads "PK\3\4" is
 * safetensors too, not a zip archive. */
static int dispatch_sniff_valid_file_with_zip_signature_length(void)
{
    const char *meta[3];
    char *pad = NULL;
    mcf_tensor t[4];
    mcf_options o;
    void *bytes = NULL;
    size_t len = 0;
    mcf_reader *r;
    MCF_CHECK(pad_for_header(0x04034b50u, meta, &pad));
    sgd_tensors(t);
    memset(&o, 0, sizeof o);
    o.format = "safetensors";
    o.metadata = meta;
    MCF_CHECK_RC(mcf_save_to_memory(t, 4, &o, &bytes, &len), MCF_OK);
    free(pad);
    MCF_CHECK(memcmp(bytes, "PK\3\4\0\0\0\0{", 9) == 0);
    MCF_CHECK_RC(mcf_open_memory(bytes, len, NULL, &r), MCF_OK);
    if (check_sgd(r)) { mcf_close(r); return 1; }
    mcf_close(r);
    mcf_free(bytes);
    return 0;
}

/* Legacy torch files (pre-1.6 format) stay NOT_SUPPORTED with their own
 * message: the fixture, and real PyTorch ones of pickle protocols 2..5 (4
 * and 5 put a FRAME before the magic number). */
static int dispatch_legacy_torch_refused(void)
{
    static const char script[] =
        "import sys, torch\n"
        "d = sys.argv[1]\n"
        "t = {'w': torch.arange(6, dtype=torch.float32).reshape(2, 3)}\n"
        "for p in (2, 3, 4, 5):\n"
        "    torch.save(t, '%s/legacy%d.pt' % (d, p), _use_new_zipfile_serialization=False, pickle_protocol=p)\n";
    size_t len = 0;
    unsigned char *bytes = mcf_test_slurp(TORCH_DIR "legacy_format.pt", &len);
    mcf_reader *r = NULL;
    int p, rc;
    MCF_CHECK(bytes != NULL);
    MCF_CHECK_RC(mcf_open_memory(bytes, len, NULL, &r), MCF_NOT_SUPPORTED);
    MCF_CHECK_ERR("legacy torch format (pre-1.6, not a zip archive)");
    MCF_CHECK(r == NULL);
    if (open_urls_fail("legacy_format.pt", bytes, len, MCF_NOT_SUPPORTED, "legacy torch format")) { free(bytes); return 1; }
    free(bytes);
    rc = run_python(script);
    if (rc == MCF_TEST_SKIPPED) MCF_SKIP("no /usr/bin/python3 with torch");
    MCF_CHECK(rc == 0);
    for (p = 2; p <= 5; p++) {
        char path[600];
        snprintf(path, sizeof path, "%s/legacy%d.pt", mcf_test_tmpdir(), p);
        MCF_CHECK((bytes = mcf_test_slurp(path, &len)) != NULL);
        MCF_CHECK(bytes[0] == 0x80 && bytes[1] == p);
        rc = mcf_open_memory(bytes, len, NULL, &r);
        free(bytes);
        if (rc != MCF_NOT_SUPPORTED) fprintf(stderr, "  protocol %d: %s\n", p, mcf_last_error());
        MCF_CHECK_RC(rc, MCF_NOT_SUPPORTED);
        MCF_CHECK_ERR("legacy torch format");
        MCF_CHECK(r == NULL);
    }
    return 0;
}

/* ---- [7] what a failed open says ------------------------------------------ */

/* An empty file is "empty file", whatever its name or format. */
static int dispatch_empty_file(void)
{
    static const char *names[3] = {"empty.pt", "empty.safetensors", "empty.bin"};
    static const char *formats[3] = {NULL, "torch", "safetensors"};
    unsigned char junk[8];
    mcf_reader *r;
    mcf_options o;
    size_t i;
    for (i = 0; i < 3; i++)
        if (open_urls_fail(names[i], "", 0, MCF_DESERIALIZE_FAIL, "empty file (0 bytes)")) return 1;
    memset(&o, 0, sizeof o);
    for (i = 0; i < 3; i++) {
        o.format = formats[i];
        r = (mcf_reader *)junk;
        MCF_CHECK_RC(mcf_open_memory("", 0, &o, &r), MCF_DESERIALIZE_FAIL);
        MCF_CHECK_ERR("<memory>: empty file (0 bytes)");
        MCF_CHECK(r == NULL);
        r = (mcf_reader *)junk;
        MCF_CHECK_RC(mcf_open_memory(NULL, 0, &o, &r), MCF_DESERIALIZE_FAIL);
        MCF_CHECK_ERR("empty file");
        MCF_CHECK(r == NULL);
    }
    return 0;
}

/* Real torch.save output cut at many sizes says truncated and the size. */
static int dispatch_truncated_torch(void)
{
    static const char *files[2] = {"state_dict_sequential.pt", "many_tensors.pt"};
    size_t f;
    for (f = 0; f < 2; f++) {
        char path[256];
        size_t len = 0, cuts[14], c, nc = 0;
        unsigned char *bytes;
        mcf_reader *r = NULL;
        snprintf(path, sizeof path, TORCH_DIR "%s", files[f]);
        MCF_CHECK((bytes = mcf_test_slurp(path, &len)) != NULL);
        MCF_CHECK(len > 1024);
        MCF_CHECK_RC(mcf_open_memory(bytes, len, NULL, &r), MCF_OK);   /* whole: fine */
        mcf_close(r);
        cuts[nc++] = 2; cuts[nc++] = 3; cuts[nc++] = 4; cuts[nc++] = 10; cuts[nc++] = 21; cuts[nc++] = 22;
        cuts[nc++] = 64; cuts[nc++] = 512; cuts[nc++] = len / 2; cuts[nc++] = len - 98;
        cuts[nc++] = len - 22; cuts[nc++] = len - 21; cuts[nc++] = len - 1;
        for (c = 0; c < nc; c++) {
            char want[64];
            snprintf(want, sizeof want, "truncated: %lu bytes", (unsigned long)cuts[c]);
            if (mcf_open_memory(bytes, cuts[c], NULL, &r) != MCF_DESERIALIZE_FAIL || !strstr(mcf_last_error(), want))
                fprintf(stderr, "  %s cut at %lu bytes\n", files[f], (unsigned long)cuts[c]);
            MCF_CHECK_RC(mcf_open_memory(bytes, cuts[c], NULL, &r), MCF_DESERIALIZE_FAIL);
            MCF_CHECK_ERR(want);
            MCF_CHECK(r == NULL);
            if (open_urls_fail("cut.pt", bytes, cuts[c], MCF_DESERIALIZE_FAIL, want)) { free(bytes); return 1; }
        }
        /* one byte left: only a file named .pt is known to be torch */
        if (open_urls_fail("cut1.pt", bytes, 1, MCF_DESERIALIZE_FAIL, "truncated: 1 bytes")) { free(bytes); return 1; }
        free(bytes);
    }
    return 0;
}

/* A text file named .safetensors is "not a safetensors file", saying what
 * it begins with instead of quoting its first 8 bytes as a header length. */
static int dispatch_text_named_safetensors(void)
{
    static const char text[] = "hello, world\nthis is not a tensor file\n";
    static const char utf8[] = "\xd0\x9f\xd1\x80\xd0\xb8\xd0\xb2\xd0\xb5\xd1\x82 tensors?\n";
    mcf_reader *r = NULL;
    mcf_options o;
    if (open_urls_fail("notes.safetensors", text, sizeof text - 1, MCF_DESERIALIZE_FAIL,
                       "not a safetensors file: it begins with text \"hello, w\", where an 8-byte little-endian header length belongs"))
        return 1;
    MCF_CHECK(strstr(mcf_last_error(), "exceeds") == NULL);
    if (open_urls_fail("hi.safetensors", "hi\n", 3, MCF_DESERIALIZE_FAIL, "not a safetensors file: it begins with text \"hi\\n\"")) return 1;
    if (open_urls_fail("utf8.safetensors", utf8, sizeof utf8 - 1, MCF_DESERIALIZE_FAIL, "not a safetensors file: it begins with text \"\\xd0\\x9f")) return 1;
    memset(&o, 0, sizeof o);
    o.format = "safetensors";
    MCF_CHECK_RC(mcf_open_memory(text, sizeof text - 1, &o, &r), MCF_DESERIALIZE_FAIL);
    MCF_CHECK_ERR("safetensors: <memory>: not a safetensors file: it begins with text");
    /* no name to go by: neither format */
    MCF_CHECK_RC(mcf_open_memory(text, sizeof text - 1, NULL, &r), MCF_DESERIALIZE_FAIL);
    MCF_CHECK_ERR("<memory>: not a safetensors or PyTorch file (39 bytes, it begins with text \"hello, w\")");
    /* binary junk still says what the length field held */
    if (open_urls_fail("junk.safetensors", "\xff\xff\xff\xff\xff\xff\xff\xff{}", 10, MCF_DESERIALIZE_FAIL,
                       "not a safetensors file: header length 18446744073709551615 exceeds the limit of 100000000 bytes (the file begins with bytes ff ff ff ff ff ff ff ff)"))
        return 1;
    return 0;
}

/* A TorchScript archive made by real PyTorch is NOT_SUPPORTED, named as
 * what it is (it has compressed code entries and a module pickle). */
static int dispatch_torchscript_refused(void)
{
    static const char script[] =
        "import sys, torch\n"
        "torch.jit.save(torch.jit.script(torch.nn.Linear(2, 2)), sys.argv[1] + '/scripted.pt')\n";
    static const char msg[] = "TorchScript archive (torch.jit.save), not a torch.save checkpoint";
    char path[600];
    size_t len = 0;
    unsigned char *bytes;
    mcf_reader *r = NULL;
    int rc;
    rc = run_python(script);
    if (rc == MCF_TEST_SKIPPED) MCF_SKIP("no /usr/bin/python3 with torch");
    MCF_CHECK(rc == 0);
    mcf_test_tmp_path(path, sizeof path, "scripted.pt");
    MCF_CHECK((bytes = mcf_test_slurp(path, &len)) != NULL);
    MCF_CHECK(memcmp(bytes, "PK\3\4", 4) == 0);
    MCF_CHECK_RC(mcf_open_memory(bytes, len, NULL, &r), MCF_NOT_SUPPORTED);
    MCF_CHECK_ERR("torch: <memory>: ");
    MCF_CHECK_ERR(msg);
    MCF_CHECK(r == NULL);
    rc = open_urls_fail("scripted.pt", bytes, len, MCF_NOT_SUPPORTED, msg);
    free(bytes);
    return rc;
}

/* ---- [9] out-parameters are written only on success ----------------------- */

/* A failed call leaves every out-parameter as it was, except the reader
 * handle of mcf_open/mcf_open_memory (NULL) and mcf_moon_encode's
 * *written on MCF_BUFFER_OVERFLOW (the size needed); caller buffers are
 * left alone by failures that are not read errors. */
static int dispatch_out_params_on_failure(void)
{
    static const float x[6] = {1, 2, 3, 4, 5, 6};
    unsigned char junk[64], buf[512], before[512];
    mcf_tensor t, info, before_t;
    mcf_reader *r = (mcf_reader *)junk, *ok = NULL;
    mcf_options o;
    mcf_url url, before_url;
    mcf_filesystem fs, before_fs;
    mcf_dtype dt = MCF_U16;
    mcf_moon_layout lay, before_lay;
    mcf_store *s;
    const char *k = "k", *v = "v";
    const void *view = junk;
    void *data = junk, *out = junk;
    size_t len = 7, out_len = 9, written = 11;
    uint64_t off = 13, nb = 15, sz = 17;
    uint32_t crc = 19;
    memset(junk, 0x5a, sizeof junk);
    memset(&t, 0, sizeof t);
    t.name = "x"; t.dtype = MCF_F32; t.ndim = 2; t.shape[0] = 2; t.shape[1] = 3; t.data = x;
    /* handles: NULL after any failure */
    MCF_CHECK_RC(mcf_open("memory://dispatch/missing.pt", NULL, &r), MCF_FILE_NOT_FOUND);
    MCF_CHECK(r == NULL);
    r = (mcf_reader *)junk;
    MCF_CHECK_RC(mcf_open_memory(junk, sizeof junk, NULL, &r), MCF_DESERIALIZE_FAIL);
    MCF_CHECK(r == NULL);
    mcf_close(r);
    /* reader queries */
    memset(&o, 0, sizeof o);
    o.format = "safetensors";
    MCF_CHECK_RC(mcf_save_to_memory(&t, 1, &o, &out, &out_len), MCF_OK);
    MCF_CHECK_RC(mcf_open_memory(out, out_len, NULL, &ok), MCF_OK);
    memset(&info, 0x3c, sizeof info);
    before_t = info;
    MCF_CHECK_RC(mcf_entry(ok, 1, &info), MCF_INVALID_PARAMS);
    MCF_CHECK(memcmp(&info, &before_t, sizeof info) == 0);
    MCF_CHECK_RC(mcf_entry_location(ok, 1, &off, &nb), MCF_INVALID_PARAMS);
    MCF_CHECK(off == 13 && nb == 15);
    MCF_CHECK_RC(mcf_metadata_pair(ok, 0, &k, &v), MCF_INVALID_PARAMS);
    MCF_CHECK(strcmp(k, "k") == 0 && strcmp(v, "v") == 0);
    MCF_CHECK_RC(mcf_view(ok, 1, &view), MCF_INVALID_PARAMS);
    MCF_CHECK(view == junk);
    memset(buf, 0xa5, sizeof buf);
    memcpy(before, buf, sizeof buf);
    MCF_CHECK_RC(mcf_read(ok, 0, buf, 23), MCF_BUFFER_OVERFLOW);
    MCF_CHECK(memcmp(buf, before, sizeof buf) == 0);
    mcf_close(ok);
    mcf_free(out);
    out = junk; out_len = 9;
    /* whole-object helpers and savers */
    MCF_CHECK_RC(mcf_read_bytes("memory://dispatch/missing", &data, &len, NULL), MCF_FILE_NOT_FOUND);
    MCF_CHECK(data == junk && len == 7);
    MCF_CHECK_RC(mcf_file_size("memory://dispatch/missing", &sz, NULL), MCF_FILE_NOT_FOUND);
    MCF_CHECK(sz == 17);
    t.shape[0] = -1;
    MCF_CHECK_RC(mcf_save_to_memory(&t, 1, &o, &out, &out_len), MCF_INVALID_PARAMS);
    MCF_CHECK(out == junk && out_len == 9);
    MCF_CHECK_RC(mcf_tensor_copy_contiguous(&t, buf, sizeof buf), MCF_INVALID_PARAMS);
    t.shape[0] = 2;
    MCF_CHECK_RC(mcf_tensor_copy_contiguous(&t, buf, 23), MCF_BUFFER_OVERFLOW);
    MCF_CHECK(memcmp(buf, before, sizeof buf) == 0);
    /* names, URLs, filesystems, CRC */
    MCF_CHECK_RC(mcf_dtype_parse("F31", &dt), MCF_INVALID_PARAMS);
    MCF_CHECK_RC(mcf_dtype_parse_torch("float31", &dt), MCF_INVALID_PARAMS);
    MCF_CHECK_RC(mcf_dtype_from_mooncake(99, &dt), MCF_INVALID_PARAMS);
    MCF_CHECK(dt == MCF_U16);
    memset(&url, 0x3c, sizeof url);
    before_url = url;
    MCF_CHECK_RC(mcf_url_parse("", NULL, &url), MCF_INVALID_PARAMS);
    MCF_CHECK_RC(mcf_url_parse("1x://a", NULL, &url), MCF_INVALID_PARAMS);
    MCF_CHECK(memcmp(&url, &before_url, sizeof url) == 0);
    memset(&fs, 0x3c, sizeof fs);
    before_fs = fs;
    MCF_CHECK_RC(mcf_filesystem_lookup("nosuchscheme", &fs), MCF_INVALID_PARAMS);
    MCF_CHECK(memcmp(&fs, &before_fs, sizeof fs) == 0);
    MCF_CHECK_RC(mcf_crc32_variant(99, &crc, "a", 1), MCF_INVALID_PARAMS);
    MCF_CHECK(crc == 19);
    /* Mooncake objects: *written is the size needed on BUFFER_OVERFLOW only */
    MCF_CHECK_RC(mcf_moon_encode(&t, buf, 100, &written), MCF_BUFFER_OVERFLOW);
    MCF_CHECK(written == MCF_MOON_HEADER_SIZE + 24);
    MCF_CHECK(memcmp(buf, before, sizeof buf) == 0);
    written = 11;
    t.ndim = MCF_MAX_DIMS + 1;
    MCF_CHECK(mcf_moon_encode(&t, buf, sizeof buf, &written) < 0);
    MCF_CHECK(written == 11 && memcmp(buf, before, sizeof buf) == 0);
    t.ndim = 2;
    info = before_t;
    memset(&lay, 0x3c, sizeof lay);
    before_lay = lay;
    MCF_CHECK_RC(mcf_moon_decode_layout(junk, sizeof junk, &info, &lay), MCF_DESERIALIZE_FAIL);
    MCF_CHECK(memcmp(&info, &before_t, sizeof info) == 0 && memcmp(&lay, &before_lay, sizeof lay) == 0);
    /* the store */
    MCF_CHECK((s = mcf_memory_store_create()) != NULL);
    MCF_CHECK_RC(mcf_store_get_tensor(s, "missing", NULL, &info), MCF_OBJECT_NOT_FOUND);
    MCF_CHECK(memcmp(&info, &before_t, sizeof info) == 0);
    MCF_CHECK_RC(mcf_load_tensor_from_file(s, "k", "memory://dispatch/missing.pt", NULL, &info), MCF_FILE_NOT_FOUND);
    MCF_CHECK(memcmp(&info, &before_t, sizeof info) == 0);
    mcf_memory_store_destroy(s);
    return 0;
}

MCF_TEST_MAIN(MCF_TEST(dispatch_sniff_every_marker_length_is_safetensors), MCF_TEST(dispatch_sniff_valid_files_with_marker_lengths),
              MCF_TEST(dispatch_sniff_valid_file_with_zip_signature_length), MCF_TEST(dispatch_legacy_torch_refused),
              MCF_TEST(dispatch_empty_file), MCF_TEST(dispatch_truncated_torch), MCF_TEST(dispatch_text_named_safetensors),
              MCF_TEST(dispatch_torchscript_refused), MCF_TEST(dispatch_out_params_on_failure))
