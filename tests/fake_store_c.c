/* A fake Mooncake store behind the store_c.h C API: a small key table in
 * process memory that answers like the real client (ErrorCode numbers:
 * OBJECT_NOT_FOUND = -704 for absent keys) and can be told to fail. Included
 * by tests/test_store_mooncake.c after mooncake_fileio.h, so the prototypes
 * the header declared must agree with store_c.h's. */
#include "fake_store_c.h"
#include <stdlib.h>
#include <string.h>

#define FAKE_MAX_KEYS 64
typedef struct fake_store {
    char *keys[FAKE_MAX_KEYS];
    unsigned char *vals[FAKE_MAX_KEYS];
    size_t lens[FAKE_MAX_KEYS];
    int fail_put;         /* non-zero: put returns this */
    int short_get;        /* get_into returns one byte less */
    int64_t fail_size;    /* non-zero: get_size returns this */
    int puts, gets, removes;
    const void *last_config;
} fake_store;

static int fake_find(fake_store *f, const char *key)
{
    int i;
    for (i = 0; i < FAKE_MAX_KEYS; i++) if (f->keys[i] && strcmp(f->keys[i], key) == 0) return i;
    return -1;
}

mooncake_store_t mooncake_store_create(void) { return calloc(1, sizeof(fake_store)); }

void mooncake_store_destroy(mooncake_store_t store)
{
    fake_store *f = (fake_store *)store;
    int i;
    if (!f) return;
    for (i = 0; i < FAKE_MAX_KEYS; i++) { free(f->keys[i]); free(f->vals[i]); }
    free(f);
}

int mooncake_store_put(mooncake_store_t store, const char *key, const void *value, size_t size,
                       const mooncake_replicate_config_t *config)
{
    fake_store *f = (fake_store *)store;
    int i;
    if (!f || !key || (!value && size)) return -1;
    f->puts++;
    f->last_config = config;
    if (f->fail_put) return f->fail_put;
    i = fake_find(f, key);
    if (i < 0) {
        for (i = 0; i < FAKE_MAX_KEYS && f->keys[i]; i++) { }
        if (i == FAKE_MAX_KEYS) return -200;   /* NO_AVAILABLE_HANDLE-like */
        f->keys[i] = (char *)malloc(strlen(key) + 1);
        strcpy(f->keys[i], key);
    }
    free(f->vals[i]);
    f->vals[i] = (unsigned char *)malloc(size ? size : 1);
    memcpy(f->vals[i], value, size);
    f->lens[i] = size;
    return 0;
}

int64_t mooncake_store_get_into(mooncake_store_t store, const char *key, void *buffer, size_t size)
{
    fake_store *f = (fake_store *)store;
    int i;
    if (!f || !key || (!buffer && size)) return -1;
    f->gets++;
    i = fake_find(f, key);
    if (i < 0) return -704;
    if (size < f->lens[i]) return -10;   /* BUFFER_OVERFLOW */
    memcpy(buffer, f->vals[i], f->lens[i]);
    return (int64_t)f->lens[i] - (f->short_get ? 1 : 0);
}

int mooncake_store_is_exist(mooncake_store_t store, const char *key)
{
    fake_store *f = (fake_store *)store;
    if (!f || !key) return -1;
    return fake_find(f, key) >= 0 ? 1 : 0;
}

int64_t mooncake_store_get_size(mooncake_store_t store, const char *key)
{
    fake_store *f = (fake_store *)store;
    int i;
    if (!f || !key) return -1;
    if (f->fail_size) return f->fail_size;
    i = fake_find(f, key);
    return i < 0 ? -704 : (int64_t)f->lens[i];
}

int mooncake_store_remove(mooncake_store_t store, const char *key, int force)
{
    fake_store *f = (fake_store *)store;
    int i;
    if (!f || !key || force) return -1;   /* the adapter never forces */
    f->removes++;
    i = fake_find(f, key);
    if (i < 0) return -704;
    free(f->keys[i]); free(f->vals[i]);
    f->keys[i] = NULL; f->vals[i] = NULL; f->lens[i] = 0;
    return 0;
}
