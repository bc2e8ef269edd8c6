/* Restricted unpickler: the input is data.pkl, wrapped here in a valid
 * stored zip ("archive/data.pkl", "archive/version", storages
 * "archive/data/0".."15" of 1 KiB each) so every mutation reaches the
 * pickle machine instead of failing the zip checks. */
#include "fuzz_common.h"

#define PKZ_STORAGES 16
#define PKZ_STORAGE_BYTES 1024

static unsigned char *pkz_buf;
static size_t pkz_len, pkz_cap;

static void pkz_put(const void *p, size_t n)
{
    if (pkz_len + n > pkz_cap) {
        size_t c = pkz_cap ? pkz_cap : 65536;
        while (c < pkz_len + n) c *= 2;
        pkz_buf = (unsigned char *)realloc(pkz_buf, c);
        if (!pkz_buf) abort();
        pkz_cap = c;
    }
    memcpy(pkz_buf + pkz_len, p, n);
    pkz_len += n;
}

static void pkz_u16(unsigned v) { unsigned char b[2]; mcf__put_le16(b, (uint16_t)v); pkz_put(b, 2); }
static void pkz_u32(uint32_t v) { unsigned char b[4]; mcf__put_le32(b, v); pkz_put(b, 4); }

typedef struct pkz_ent { char name[32]; const unsigned char *data; size_t n; uint32_t crc, off; } pkz_ent;

static void pkz_zip(pkz_ent *e, int count)
{
    int i;
    uint32_t cd, cd_size;
    pkz_len = 0;
    for (i = 0; i < count; i++) {
        size_t nl = strlen(e[i].name);
        e[i].crc = mcf_crc32(0, e[i].data, e[i].n);
        e[i].off = (uint32_t)pkz_len;
        pkz_u32(0x04034b50u); pkz_u16(20); pkz_u16(0); pkz_u16(0); pkz_u16(0); pkz_u16(0);
        pkz_u32(e[i].crc); pkz_u32((uint32_t)e[i].n); pkz_u32((uint32_t)e[i].n);
        pkz_u16((unsigned)nl); pkz_u16(0);
        pkz_put(e[i].name, nl);
        pkz_put(e[i].data, e[i].n);
    }
    cd = (uint32_t)pkz_len;
    for (i = 0; i < count; i++) {
        size_t nl = strlen(e[i].name);
        pkz_u32(0x02014b50u); pkz_u16(20); pkz_u16(20); pkz_u16(0); pkz_u16(0); pkz_u16(0); pkz_u16(0);
        pkz_u32(e[i].crc); pkz_u32((uint32_t)e[i].n); pkz_u32((uint32_t)e[i].n);
        pkz_u16((unsigned)nl); pkz_u16(0); pkz_u16(0); pkz_u16(0); pkz_u16(0); pkz_u32(0); pkz_u32(e[i].off);
        pkz_put(e[i].name, nl);
    }
    cd_size = (uint32_t)(pkz_len - cd);
    pkz_u32(0x06054b50u); pkz_u16(0); pkz_u16(0); pkz_u16((unsigned)count); pkz_u16((unsigned)count);
    pkz_u32(cd_size); pkz_u32(cd); pkz_u16(0);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static unsigned char storage[PKZ_STORAGE_BYTES];
    pkz_ent e[PKZ_STORAGES + 3];
    int i, n = 0;
    if (size > 65536) return 0;
    for (i = 0; i < PKZ_STORAGE_BYTES; i++) storage[i] = (unsigned char)(i * 37);
    memset(e, 0, sizeof e);
    snprintf(e[n].name, sizeof e[n].name, "archive/data.pkl"); e[n].data = data; e[n].n = size; n++;
    for (i = 0; i < PKZ_STORAGES; i++) {
        snprintf(e[n].name, sizeof e[n].name, "archive/data/%d", i); e[n].data = storage; e[n].n = PKZ_STORAGE_BYTES; n++;
    }
    snprintf(e[n].name, sizeof e[n].name, "archive/version"); e[n].data = (const unsigned char *)"3\n"; e[n].n = 2; n++;
    pkz_zip(e, n);
    mcf_fuzz_reader(pkz_buf, pkz_len, "torch", 0);
    mcf_fuzz_reader(pkz_buf, pkz_len, "torch", MCF_VERIFY);
    return 0;
}
