/* [04] CRC-32 paths and [16] zip container: writer layout and reader checks. */
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
        if (rc == MCF_NOT_SUPPORTED) { fprintf(stderr, "  (crc32 path %s not available on this CPU/build)\n", mcf_crc32_variant_name(v)); continue; }
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

/* ---- zip container: our writer's layout, then hostile edits of it ---- */
static unsigned char *small_pt(size_t *len)
{
    static const int32_t v[5] = {1, 2, 3, 4, 5};
    mcf_tensor t[2];
    mcf_options o;
    void *out = NULL;
    memset(t, 0, sizeof t);
    memset(&o, 0, sizeof o);
    o.format = "torch";
    t[0].name = "a"; t[0].dtype = MCF_I32; t[0].ndim = 1; t[0].shape[0] = 5; t[0].data = v;
    t[1].name = "b"; t[1].dtype = MCF_I32; t[1].ndim = 1; t[1].shape[0] = 2; t[1].data = v;
    if (mcf_save_to_memory(t, 2, &o, &out, len) != MCF_OK) return NULL;
    return (unsigned char *)out;
}

static uint32_t le32(const unsigned char *p) { return (uint32_t)p[0] | ((uint32_t)p[1] << 8) | ((uint32_t)p[2] << 16) | ((uint32_t)p[3] << 24); }
static void put32(unsigned char *p, uint32_t v) { p[0] = (unsigned char)v; p[1] = (unsigned char)(v >> 8); p[2] = (unsigned char)(v >> 16); p[3] = (unsigned char)(v >> 24); }

/* Offset of the n-th occurrence of a 4-byte signature. */
static size_t find_sig(const unsigned char *p, size_t len, const char *sig, int nth)
{
    size_t i;
    for (i = 0; i + 4 <= len; i++)
        if (memcmp(p + i, sig, 4) == 0 && nth-- == 0) return i;
    return (size_t)-1;
}

/* Opens p as a caller buffer, then as memory:// (mapped, with positional
 * reads: local headers are then read as for a mapped local file); both
 * must give the same code and message, which is returned (else WRONG_WAY). */
#define WRONG_WAY 1000
static int open_rc(const unsigned char *p, size_t len)
{
    mcf_reader *r = NULL;
    char first[1024];
    int rc = mcf_open_memory(p, len, NULL, &r), rc2;
    if (rc == MCF_OK) mcf_close(r);
    (void)snprintf(first, sizeof first, "%s", mcf_last_error());
    if (mcf_write_bytes("memory://zip/open", p, len, NULL) != MCF_OK) return WRONG_WAY;
    rc2 = mcf_open("memory://zip/open", NULL, &r);
    if (rc2 == MCF_OK) mcf_close(r);
    (void)mcf_remove("memory://zip/open", NULL);
    {   /* the same sentence but the name: "<memory>" there, the URL here */
        char want[1100];
        const char *at = strstr(first, "<memory>");
        if (at) (void)snprintf(want, sizeof want, "%.*smemory:///zip/open%s", (int)(at - first), first, at + 8);
        else (void)snprintf(want, sizeof want, "%s", first);
        if (rc2 == rc && strcmp(want, mcf_last_error()) == 0) return rc;
    }
    {
        fprintf(stderr, "  caller buffer: %d %s\n  memory://: %d %s\n", rc, first, rc2, mcf_last_error());
        return WRONG_WAY;
    }
}

static int zip_writer_layout_like_torch(void)
{
    size_t len = 0, cd, z64, loc, eocd, i;
    unsigned char *p = small_pt(&len);
    MCF_CHECK(p != NULL);
    cd = find_sig(p, len, "PK\x01\x02", 0);
    z64 = find_sig(p, len, "PK\x06\x06", 0);
    loc = find_sig(p, len, "PK\x06\x07", 0);
    eocd = find_sig(p, len, "PK\x05\x06", 0);
    MCF_CHECK(eocd + 22 == len && loc + 20 == eocd && z64 + 56 == loc);
    MCF_CHECK(le32(p + eocd + 16) == cd && le32(p + z64 + 48) == cd);
    for (i = 0; i < 4; i++) {   /* data.pkl, data/0, data/1, version: FB padding to 64, flags 0x0808 */
        size_t h = find_sig(p, len, "PK\x03\x04", (int)i), nl = (size_t)(p[h + 26] | (p[h + 27] << 8)), xl = (size_t)(p[h + 28] | (p[h + 29] << 8));
        MCF_CHECK(h != (size_t)-1 && p[h + 6] == 0x08 && p[h + 7] == 0x08);
        MCF_CHECK(le32(p + h + 14) == 0 && le32(p + h + 18) == 0 && le32(p + h + 22) == 0);   /* CRC and sizes in the descriptor */
        MCF_CHECK(p[h + 30 + nl] == 'F' && p[h + 31 + nl] == 'B' && (h + 30 + nl + xl) % 64 == 0);
    }
    MCF_CHECK(memcmp(p + find_sig(p, len, "PK\x03\x04", 1) + 30, "archive/data/0", 14) == 0);
    MCF_CHECK(memcmp(p + find_sig(p, len, "PK\x03\x04", 3) + 30, "archive/version", 15) == 0);
    MCF_CHECK_RC(open_rc(p, len), MCF_OK);
    free(p);
    return 0;
}

/* Copies p to q with the 32-bit field at a set to va (and the one at b to
 * vb, unless b is 0): 1 if opening that fails with code and msg. */
static int patched_fails(const unsigned char *p, size_t len, unsigned char *q, size_t a, uint32_t va, size_t b, uint32_t vb,
                         int code, const char *msg)
{
    int rc;
    memcpy(q, p, len);
    put32(q + a, va);
    if (b) put32(q + b, vb);
    rc = open_rc(q, len);
    if (rc == code && strstr(mcf_last_error(), msg)) return 1;
    fprintf(stderr, "  field at %lu = %lu: %d (%s), expected %s with \"%s\"\n", (unsigned long)a, (unsigned long)va, rc,
            mcf_last_error(), mcf_result_name(code), msg);
    return 0;
}

static int zip_hostile_archives_rejected(void)
{
    size_t len = 0, cd, cd1, z64;
    unsigned char *p = small_pt(&len), *q;
    MCF_CHECK(p != NULL);
    q = (unsigned char *)malloc(len);
    MCF_CHECK(q != NULL);
    cd = find_sig(p, len, "PK\x01\x02", 0);
    cd1 = find_sig(p, len, "PK\x01\x02", 1);
    z64 = find_sig(p, len, "PK\x06\x06", 0);
    /* compressed entry */
    memcpy(q, p, len); q[cd1 + 10] = 8;
    MCF_CHECK_RC(open_rc(q, len), MCF_NOT_SUPPORTED);
    MCF_CHECK_ERR("\"archive/data/0\" is compressed (method 8)");
    /* truncated: the end record is gone */
    MCF_CHECK_RC(open_rc(p, len - 1), MCF_DESERIALIZE_FAIL);
    MCF_CHECK_ERR("no end-of-central-directory record");
    MCF_CHECK_RC(open_rc(p, 10), MCF_DESERIALIZE_FAIL);
    MCF_CHECK_ERR("too small");
    /* central directory offset past the end records (zip64 record wins) */
    MCF_CHECK(patched_fails(p, len, q, z64 + 48, (uint32_t)len, 0, 0, MCF_DESERIALIZE_FAIL, "central directory"));
    /* zip64 locator pointing outside */
    MCF_CHECK(patched_fails(p, len, q, find_sig(p, len, "PK\x06\x07", 0) + 8, 0x7fffffffu, 0, 0, MCF_DESERIALIZE_FAIL, "zip64 locator"));
    /* entry count larger than the directory can hold */
    MCF_CHECK(patched_fails(p, len, q, z64 + 32, 100000, z64 + 24, 100000, MCF_DESERIALIZE_FAIL, "cannot hold"));
    /* a local header offset that points at nothing */
    MCF_CHECK(patched_fails(p, len, q, cd1 + 42, 3, 0, 0, MCF_DESERIALIZE_FAIL, "no local header"));
    /* a size that runs into the next entry: overlap */
    MCF_CHECK(patched_fails(p, len, q, cd1 + 20, le32(p + cd1 + 20) + 100, cd1 + 24, le32(p + cd1 + 24) + 100, MCF_DESERIALIZE_FAIL, "overlap"));
    /* a size that runs into the central directory */
    MCF_CHECK(patched_fails(p, len, q, cd + 20, 0x10000, cd + 24, 0x10000, MCF_DESERIALIZE_FAIL, "runs into the central directory"));
    /* compressed size != size for a stored entry */
    MCF_CHECK(patched_fails(p, len, q, cd1 + 20, 1, 0, 0, MCF_DESERIALIZE_FAIL, "compressed size"));
    /* central and local names differ */
    memcpy(q, p, len); q[find_sig(p, len, "PK\x03\x04", 1) + 30 + 13] = '9';
    MCF_CHECK_RC(open_rc(q, len), MCF_DESERIALIZE_FAIL);
    MCF_CHECK_ERR("local header name differs");
    /* encrypted flag */
    memcpy(q, p, len); q[cd1 + 8] |= 1;
    MCF_CHECK_RC(open_rc(q, len), MCF_NOT_SUPPORTED);
    MCF_CHECK_ERR("encrypted");
    /* a directory-less first entry: no prefix */
    memcpy(q, p, len); memcpy(q + cd + 46, "archive_data.pkl", 16);
    MCF_CHECK_RC(open_rc(q, len), MCF_DESERIALIZE_FAIL);
    MCF_CHECK(strstr(mcf_last_error(), "local header name differs") || strstr(mcf_last_error(), "no top folder"));
    /* every truncation fails cleanly */
    {
        size_t cut;
        for (cut = 0; cut < len; cut++) {
            int rc = open_rc(p, cut);
            if (rc != MCF_DESERIALIZE_FAIL) { fprintf(stderr, "  cut at %lu: %d %s\n", (unsigned long)cut, rc, mcf_last_error()); return 1; }
        }
    }
    free(q);
    free(p);
    return 0;
}

/* ---- zip64: a 4 GiB + 4 KiB tensor through a filesystem that keeps only the
 * first and last 64 KiB of the archive and synthesizes the middle ---- */
#define Z64_ROWS 1048577u              /* x 4096 bytes = 4 GiB + 4096 */
#define Z64_KEEP 65536u
typedef struct z64_file { uint64_t size, pos; } z64_file;
static unsigned char z64_head[Z64_KEEP], z64_tail[Z64_KEEP], z64_row[4096];
static uint64_t z64_total, z64_data_off;

static int z64_open_write(void *user, const mcf_url *u, uint64_t size, const mcf_options *o, void **file)
{
    z64_file *f = (z64_file *)calloc(1, sizeof *f);
    (void)user; (void)u; (void)o;
    if (!f || size == UINT64_MAX) { free(f); return mcf_set_error(MCF_INTERNAL_ERROR, "z64: no size"); }
    f->size = size;
    *file = f;
    return MCF_OK;
}
static int z64_write(void *file, const void *src, size_t n)
{
    z64_file *f = (z64_file *)file;
    const unsigned char *p = (const unsigned char *)src;
    size_t i;
    if (f->pos < Z64_KEEP || f->pos + n > f->size - Z64_KEEP)
        for (i = 0; i < n; i++) {
            uint64_t at = f->pos + i;
            if (at < Z64_KEEP) z64_head[at] = p[i];
            if (at >= f->size - Z64_KEEP) z64_tail[at - (f->size - Z64_KEEP)] = p[i];
        }
    f->pos += n;
    return MCF_OK;
}
static int z64_commit(void *file) { z64_total = ((z64_file *)file)->pos; free(file); return MCF_OK; }
static void z64_abort(void *file) { free(file); }
static int z64_stat(void *user, const mcf_url *u, const mcf_options *o, uint64_t *size) { (void)user; (void)u; (void)o; *size = z64_total; return MCF_OK; }
static int z64_open_read(void *user, const mcf_url *u, const mcf_options *o, void **file, uint64_t *size)
{
    (void)user; (void)u; (void)o;
    *file = z64_head;
    *size = z64_total;
    return MCF_OK;
}
static int z64_read_at(void *file, uint64_t off, void *dst, size_t n)
{
    unsigned char *d = (unsigned char *)dst;
    (void)file;
    while (n > 0) {
        if (off < Z64_KEEP) *d = z64_head[off];
        else if (off >= z64_total - Z64_KEEP) *d = z64_tail[off - (z64_total - Z64_KEEP)];
        else if (off >= z64_data_off) {   /* inside data/0: whole rows at a time */
            size_t k = (size_t)((off - z64_data_off) % 4096), run = 4096 - k;
            if (run > n) run = n;
            if (off + run > z64_total - Z64_KEEP) run = 1;
            memcpy(d, z64_row + k, run);
            d += run; off += run; n -= run;
            continue;
        } else *d = 0;
        d++; off++; n--;
    }
    return MCF_OK;
}
static void z64_close_read(void *file) { (void)file; }

static uint64_t le64(const unsigned char *p) { return (uint64_t)le32(p) | ((uint64_t)le32(p + 4) << 32); }

static int zip_zip64_past_4gib(void)
{
    static const int64_t strides[2] = {0, 1};   /* every row is the same 4096 bytes */
    mcf_filesystem fs;
    mcf_tensor t;
    mcf_options o;
    mcf_reader *r;
    mcf_tensor info;
    const unsigned char *tl = z64_tail, *e, *z;
    uint64_t big = (uint64_t)Z64_ROWS * 4096u, cd_off, off, nb, tail0;
    uint32_t crc = 0;
    size_t i;
    for (i = 0; i < 4096; i++) z64_row[i] = (unsigned char)(i * 7 + 1);
    memset(&fs, 0, sizeof fs);
    fs.scheme = "z64test"; fs.stat = z64_stat; fs.open_read = z64_open_read; fs.read_at = z64_read_at; fs.close_read = z64_close_read;
    fs.open_write = z64_open_write; fs.write = z64_write; fs.commit = z64_commit; fs.abort = z64_abort;
    MCF_CHECK_RC(mcf_register_filesystem(&fs), MCF_OK);
    memset(&t, 0, sizeof t);
    memset(&o, 0, sizeof o);
    t.name = "big"; t.dtype = MCF_U8; t.ndim = 2; t.shape[0] = Z64_ROWS; t.shape[1] = 4096; t.strides = strides; t.data = z64_row;
    o.format = "torch";
    MCF_CHECK_RC(mcf_save("z64test://x.pt", &t, 1, &o), MCF_OK);
    MCF_CHECK(z64_total > big + 320 && z64_total < big + 4096);
    tail0 = z64_total - Z64_KEEP;
    /* classic end record: offsets saturated; zip64 record holds the truth */
    e = tl + Z64_KEEP - 22;
    MCF_CHECK(le32(e) == 0x06054b50u && le32(e + 16) == 0xFFFFFFFFu && e[10] == 3);
    z = e - 20 - 56;
    MCF_CHECK(le32(z) == 0x06064b50u && le32(e - 20) == 0x07064b50u);
    cd_off = le64(z + 48);
    MCF_CHECK(le64(e - 20 + 8) == tail0 + (Z64_KEEP - 22 - 20 - 56));
    MCF_CHECK(cd_off > big && cd_off >= tail0 && le64(z + 32) == 3);
    /* central directory: data.pkl, data/0 (zip64 sizes), version (zip64 offset) */
    e = tl + (cd_off - tail0);
    MCF_CHECK(le32(e) == 0x02014b50u);
    e += 46 + (e[28] | (e[29] << 8)) + (e[30] | (e[31] << 8));
    MCF_CHECK(le32(e) == 0x02014b50u && le32(e + 20) == 0xFFFFFFFFu && le32(e + 24) == 0xFFFFFFFFu);
    MCF_CHECK(memcmp(e + 46, "archive/data/0", 14) == 0 && e[30] == 20 && e[46 + 14] == 1 && e[46 + 16] == 16);
    MCF_CHECK(le64(e + 46 + 14 + 4) == big && le64(e + 46 + 14 + 12) == big && le32(e + 42) < 0xFFFFFFFFu);
    for (i = 0; i < Z64_ROWS; i++) crc = mcf_crc32(crc, z64_row, 4096);
    MCF_CHECK(le32(e + 16) == crc);
    z64_data_off = le32(e + 42) + 30 + 14 + (uint64_t)(z64_head[le32(e + 42) + 28] | (z64_head[le32(e + 42) + 29] << 8));
    MCF_CHECK(z64_data_off % 64 == 0);
    e += 46 + 14 + 20;
    MCF_CHECK(le32(e) == 0x02014b50u && le32(e + 42) == 0xFFFFFFFFu && e[30] == 12 && le64(e + 46 + 15 + 4) > big);
    /* the 24-byte zip64 data descriptor after the data */
    e = tl + (z64_data_off + big - tail0);
    MCF_CHECK(le32(e) == 0x08074b50u && le32(e + 4) == crc && le64(e + 8) == big && le64(e + 16) == big);
    /* read back: the index from the zip64 records, the CRC over 4 GiB */
    o.format = NULL;
    o.flags = MCF_VERIFY;
    MCF_CHECK_RC(mcf_open("z64test://x.pt", &o, &r), MCF_OK);
    MCF_CHECK(mcf_count(r) == 1);
    MCF_CHECK_RC(mcf_entry(r, 0, &info), MCF_OK);
    MCF_CHECK(info.ndim == 2 && info.shape[0] == Z64_ROWS && info.shape[1] == 4096 && info.dtype == MCF_U8);
    MCF_CHECK_RC(mcf_entry_location(r, 0, &off, &nb), MCF_OK);
    MCF_CHECK(off == z64_data_off && nb == big);
    mcf_close(r);
    return 0;
}

MCF_TEST_MAIN(MCF_TEST(crc32_known_vectors_all_paths), MCF_TEST(crc32_random_buffers_match_reference),
              MCF_TEST(zip_writer_layout_like_torch), MCF_TEST(zip_hostile_archives_rejected), MCF_TEST(zip_zip64_past_4gib))
