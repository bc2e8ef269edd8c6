/* A fake Mooncake store behind the whole store_c.h C interface: a small key
 * table in process memory that answers the way the real client does, so the
 * adapter is tested against upstream's behaviour, not a friendlier one:
 *   - put of an existing key keeps the stored value and returns 0 (the client
 *     treats the master's OBJECT_ALREADY_EXISTS as success; batches too);
 *   - the zero-copy calls (get_into, put_from and their batches) read and
 *     write only memory registered with mooncake_store_register_buffer; any
 *     other buffer fails with TRANSFER_FAIL (-800), what an RDMA transfer
 *     into unregistered memory ends with;
 *   - a missing key is OBJECT_NOT_FOUND (-704), a buffer smaller than the
 *     object INVALID_PARAMS (-600), bad arguments and an out-of-range
 *     soft_pin_action -1, as store_c's wrappers return;
 *   - put_from of 0 bytes stores nothing and returns 0.
 * Knobs make single calls (or a whole batch call) fail, and counters and the last replicate config
 * (copied, strings included) let tests see what arrived. Included by the
 * adapter tests after mooncake_fileio.h (or after store_c.h), so the
 * prototypes the header declares are checked against these. */
#include "fake_store_c.h"
#include <regex.h>
#include <stdlib.h>
#include <string.h>

#define FAKE_MAX_KEYS 64
#define FAKE_MAX_REGS 16
#define FAKE_MAX_SEGS 4

typedef struct fake_region { unsigned char *base; size_t size; } fake_region;

typedef struct fake_store {
    char *keys[FAKE_MAX_KEYS];
    unsigned char *vals[FAKE_MAX_KEYS];
    size_t lens[FAKE_MAX_KEYS];
    fake_region regs[FAKE_MAX_REGS];
    int nregs;
    /* knobs: non-zero makes the call return it */
    int fail_put, fail_register, fail_unregister;
    int64_t fail_size, fail_get;
    int fail_batch;                     /* a batch call fails as a whole (a C++
                                           exception inside store_c: -1) */
    int short_get;                      /* get_into reports one byte less */
    /* what happened */
    int puts, gets, removes, registers, unregisters, setups;
    int batch_puts, batch_gets;         /* batch calls (each key also counts in puts/gets) */
    int last_force;
    int have_config;                    /* the last put had a config */
    mooncake_replicate_config_t config; /* its copy (preferred_segments NULL) */
    char segs[FAKE_MAX_SEGS][32];       /* its preferred segment names */
} fake_store;

static int fake_find(const fake_store *f, const char *key)
{
    int i;
    for (i = 0; i < FAKE_MAX_KEYS; i++) if (f->keys[i] && strcmp(f->keys[i], key) == 0) return i;
    return -1;
}

/* 1 if [p, p+n) lies inside one registered region. */
static int fake_registered(const fake_store *f, const void *p, size_t n)
{
    const unsigned char *b = (const unsigned char *)p;
    int i;
    for (i = 0; i < f->nregs; i++)
        if (b >= f->regs[i].base && n <= f->regs[i].size && (size_t)(b - f->regs[i].base) <= f->regs[i].size - n) return 1;
    return 0;
}

static void fake_drop(fake_store *f, int i)
{
    free(f->keys[i]);
    free(f->vals[i]);
    f->keys[i] = NULL;
    f->vals[i] = NULL;
    f->lens[i] = 0;
}

/* Checks and records a config: -1 for an unknown soft-pin action. */
static int fake_take_config(fake_store *f, const mooncake_replicate_config_t *c)
{
    size_t i;
    f->have_config = c != NULL;
    memset(&f->config, 0, sizeof f->config);
    memset(f->segs, 0, sizeof f->segs);
    if (!c) return 0;
    if (c->soft_pin_action < MOONCAKE_SOFT_PIN_PRESERVE || c->soft_pin_action > MOONCAKE_SOFT_PIN_DISABLE) return -1;
    f->config = *c;
    f->config.preferred_segments = NULL;
    for (i = 0; c->preferred_segments && i < c->preferred_segments_count && i < FAKE_MAX_SEGS; i++)
        if (c->preferred_segments[i]) strncpy(f->segs[i], c->preferred_segments[i], sizeof f->segs[i] - 1);
    return 0;
}

/* Stores a copy under key unless the key exists (then keeps the old value). */
static int fake_store_value(fake_store *f, const char *key, const void *value, size_t size)
{
    int i;
    if (fake_find(f, key) >= 0) return 0;
    for (i = 0; i < FAKE_MAX_KEYS && f->keys[i]; i++) { }
    if (i == FAKE_MAX_KEYS) return -200;   /* NO_AVAILABLE_HANDLE: the store is full */
    f->keys[i] = (char *)malloc(strlen(key) + 1);
    f->vals[i] = (unsigned char *)malloc(size ? size : 1);
    if (!f->keys[i] || !f->vals[i]) { fake_drop(f, i); return -1; }
    strcpy(f->keys[i], key);
    if (size) memcpy(f->vals[i], value, size);
    f->lens[i] = size;
    return 0;
}

/* ---- lifecycle ---- */
mooncake_store_t mooncake_store_create(void) { return calloc(1, sizeof(fake_store)); }

void mooncake_store_destroy(mooncake_store_t store)
{
    fake_store *f = (fake_store *)store;
    int i;
    if (!f) return;
    for (i = 0; i < FAKE_MAX_KEYS; i++) fake_drop(f, i);
    free(f);
}

int mooncake_store_setup(mooncake_store_t store, const char *local_hostname,
    const char *metadata_server, uint64_t global_segment_size, uint64_t local_buffer_size,
    const char *protocol, const char *device_name, const char *master_server_addr)
{
    fake_store *f = (fake_store *)store;
    (void)local_hostname; (void)metadata_server; (void)global_segment_size; (void)local_buffer_size;
    (void)protocol; (void)device_name; (void)master_server_addr;
    if (!f) return -1;
    f->setups++;
    return 0;
}

int mooncake_store_init_all(mooncake_store_t store, const char *protocol, const char *device_name,
    uint64_t mount_segment_size)
{
    (void)protocol; (void)device_name; (void)mount_segment_size;
    return store ? 0 : -1;
}

int mooncake_store_health_check(mooncake_store_t store) { return store ? 0 : -1; }

/* ---- put ---- */
/* What every put checks first: its arguments, the replicate config, and a
 * failure the test asked for. 1 to go on and store; else *rc is the answer. */
static int fake_put_begin(fake_store *f, const char *key, const void *data, size_t size,
    const mooncake_replicate_config_t *config, int *rc)
{
    *rc = -1;
    if (!f || !key || (!data && size)) return 0;
    if (fake_take_config(f, config) != 0) return 0;
    f->puts++;
    *rc = f->fail_put;
    return !f->fail_put;
}

int mooncake_store_put(mooncake_store_t store, const char *key, const void *value, size_t size,
    const mooncake_replicate_config_t *config)
{
    fake_store *f = (fake_store *)store;
    int rc;
    if (!fake_put_begin(f, key, value, size, config, &rc)) return rc;
    return fake_store_value(f, key, value, size);
}

int mooncake_store_put_from(mooncake_store_t store, const char *key, void *buffer, size_t size,
    const mooncake_replicate_config_t *config)
{
    fake_store *f = (fake_store *)store;
    int rc;
    if (!fake_put_begin(f, key, buffer, size, config, &rc)) return rc;
    if (size == 0) return 0;
    if (!fake_registered(f, buffer, size)) return -800;
    return fake_store_value(f, key, buffer, size);
}

int mooncake_store_batch_put_from(mooncake_store_t store, const char **keys, void **buffers,
    const size_t *sizes, size_t count, const mooncake_replicate_config_t *config, int *results_out)
{
    fake_store *f = (fake_store *)store;
    size_t i;
    if (!f || !keys || !buffers || !sizes || !results_out) return -1;
    for (i = 0; i < count; i++) if (!keys[i] || (!buffers[i] && sizes[i])) return -1;
    if (fake_take_config(f, config) != 0) return -1;
    f->batch_puts++;
    if (f->fail_batch) return f->fail_batch;
    for (i = 0; i < count; i++) {
        f->puts++;
        if (f->fail_put) results_out[i] = f->fail_put;
        else if (sizes[i] && !fake_registered(f, buffers[i], sizes[i])) results_out[i] = -800;
        else results_out[i] = fake_store_value(f, keys[i], buffers[i], sizes[i]);
    }
    return 0;
}

/* ---- get ---- */
int64_t mooncake_store_get_into(mooncake_store_t store, const char *key, void *buffer, size_t size)
{
    fake_store *f = (fake_store *)store;
    int i;
    if (!f || !key || (!buffer && size)) return -1;
    f->gets++;
    if (f->fail_get) return f->fail_get;
    i = fake_find(f, key);
    if (i < 0) return -704;
    if (size < f->lens[i]) return -600;
    if (f->lens[i] && !fake_registered(f, buffer, f->lens[i])) return -800;
    if (f->lens[i]) memcpy(buffer, f->vals[i], f->lens[i]);
    return (int64_t)f->lens[i] - (f->short_get ? 1 : 0);
}

int mooncake_store_batch_get_into(mooncake_store_t store, const char **keys, void **buffers,
    const size_t *sizes, size_t count, int64_t *results_out)
{
    fake_store *f = (fake_store *)store;
    size_t i;
    if (!f || !keys || !buffers || !sizes || !results_out) return -1;
    for (i = 0; i < count; i++) if (!keys[i] || (!buffers[i] && sizes[i])) return -1;
    f->batch_gets++;
    if (f->fail_batch) return f->fail_batch;
    for (i = 0; i < count; i++) results_out[i] = mooncake_store_get_into(store, keys[i], buffers[i], sizes[i]);
    return 0;
}

/* ---- existence, size, hostname ---- */
int mooncake_store_is_exist(mooncake_store_t store, const char *key)
{
    fake_store *f = (fake_store *)store;
    if (!f || !key) return -1;
    return fake_find(f, key) >= 0 ? 1 : 0;
}

int mooncake_store_batch_is_exist(mooncake_store_t store, const char **keys, size_t count, int *results_out)
{
    size_t i;
    if (!store || !keys || !results_out) return -1;
    for (i = 0; i < count; i++) if (!keys[i]) return -1;
    for (i = 0; i < count; i++) results_out[i] = mooncake_store_is_exist(store, keys[i]);
    return 0;
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

int mooncake_store_get_hostname(mooncake_store_t store, char *buf_out, size_t buf_len)
{
    static const char name[] = "127.0.0.1:17812";
    if (!store || !buf_out || buf_len == 0 || sizeof name > buf_len) return -1;
    memcpy(buf_out, name, sizeof name);
    return 0;
}

/* ---- remove ---- */
int mooncake_store_remove(mooncake_store_t store, const char *key, int force)
{
    fake_store *f = (fake_store *)store;
    int i;
    if (!f || !key) return -1;
    f->removes++;
    f->last_force = force;
    i = fake_find(f, key);
    if (i < 0) return -704;
    fake_drop(f, i);
    return 0;
}

int64_t mooncake_store_remove_by_regex(mooncake_store_t store, const char *pattern, int force)
{
    fake_store *f = (fake_store *)store;
    regex_t re;
    int64_t n = 0;
    int i;
    if (!f || !pattern) return -1;
    f->last_force = force;
    if (regcomp(&re, pattern, REG_EXTENDED | REG_NOSUB) != 0) return -1;
    for (i = 0; i < FAKE_MAX_KEYS; i++)
        if (f->keys[i] && regexec(&re, f->keys[i], 0, NULL, 0) == 0) { fake_drop(f, i); n++; }
    regfree(&re);
    return n;
}

int64_t mooncake_store_remove_all(mooncake_store_t store, int force)
{
    fake_store *f = (fake_store *)store;
    int64_t n = 0;
    int i;
    if (!f) return -1;
    f->last_force = force;
    for (i = 0; i < FAKE_MAX_KEYS; i++) if (f->keys[i]) { fake_drop(f, i); n++; }
    return n;
}

/* ---- buffer registration ---- */
int mooncake_store_register_buffer(mooncake_store_t store, void *buffer, size_t size)
{
    fake_store *f = (fake_store *)store;
    if (!f || !buffer || size == 0) return -1;
    f->registers++;
    if (f->fail_register) return f->fail_register;
    if (f->nregs == FAKE_MAX_REGS) return -1;
    f->regs[f->nregs].base = (unsigned char *)buffer;
    f->regs[f->nregs].size = size;
    f->nregs++;
    return 0;
}

int mooncake_store_unregister_buffer(mooncake_store_t store, void *buffer)
{
    fake_store *f = (fake_store *)store;
    int i;
    if (!f) return -1;
    f->unregisters++;
    for (i = 0; i < f->nregs; i++)
        if (f->regs[i].base == (unsigned char *)buffer) {
            f->regs[i] = f->regs[--f->nregs];
            return f->fail_unregister;
        }
    return -600;   /* not registered */
}
