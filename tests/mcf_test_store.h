/* A store for the store-layer tests: the memory store behind a vtable that
 * counts the calls reaching it, logs the keys put in order (each followed by
 * '\n') and can refuse the put of one key. With hooks = 1 it also offers the
 * optional get_into / put_batch / get_batch hooks (counted; batch puts are
 * not logged); with hooks = 0 they stay NULL and the library goes key by
 * key. put_replicated is always there (the library calls it only when
 * options carry replication settings). */
#ifndef MCF_TEST_STORE_H
#define MCF_TEST_STORE_H
#include "mcf_test.h"

typedef struct mcf_test_store {
    mcf_store vt;                       /* hand &vt to the library */
    mcf_store *in;                      /* the memory store underneath */
    int puts, replicated, gets, get_intos, put_batches, get_batches;
    const char *refuse;                 /* a put of this key fails with -200 */
    char log[8192];
    size_t loglen;
} mcf_test_store;

static int mcf_test_store_put_r(void *u, const char *k, const void *o, size_t l, const mcf_replicate *r)
{
    mcf_test_store *w = (mcf_test_store *)u;
    size_t n = strlen(k);
    w->puts++;
    if (r) w->replicated++;
    if (w->loglen + n + 2 < sizeof w->log) {
        memcpy(w->log + w->loglen, k, n);
        w->loglen += n;
        w->log[w->loglen++] = '\n';
        w->log[w->loglen] = '\0';
    }
    if (w->refuse && strcmp(k, w->refuse) == 0) return mcf_set_error(-200, "test store: no handle for \"%s\"", k);
    return w->in->put(w->in->user, k, o, l);
}
static int mcf_test_store_put(void *u, const char *k, const void *o, size_t l) { return mcf_test_store_put_r(u, k, o, l, NULL); }
static int mcf_test_store_get(void *u, const char *k, void **o, size_t *l)
{
    mcf_test_store *w = (mcf_test_store *)u;
    w->gets++;
    return w->in->get(w->in->user, k, o, l);
}
static void mcf_test_store_release(void *u, void *o) { mcf_test_store *w = (mcf_test_store *)u; w->in->release(w->in->user, o); }
static int mcf_test_store_remove(void *u, const char *k) { mcf_test_store *w = (mcf_test_store *)u; return w->in->remove(w->in->user, k); }
static int mcf_test_store_get_into(void *u, const char *k, void *d, size_t cap, size_t *len)
{
    mcf_test_store *w = (mcf_test_store *)u;
    w->get_intos++;
    return w->in->get_into(w->in->user, k, d, cap, len);
}
static int mcf_test_store_put_batch(void *u, const char *const *k, const void *const *o, const size_t *l, size_t n, const mcf_replicate *r, int *res)
{
    mcf_test_store *w = (mcf_test_store *)u;
    w->put_batches++;
    return w->in->put_batch(w->in->user, k, o, l, n, r, res);
}
static int mcf_test_store_get_batch(void *u, const char *const *k, size_t n, void **o, size_t *l, int *res)
{
    mcf_test_store *w = (mcf_test_store *)u;
    w->get_batches++;
    return w->in->get_batch(w->in->user, k, n, o, l, res);
}

/* w->in is NULL if the memory store could not be made; destroy it with
 * mcf_memory_store_destroy(w->in). */
static void mcf_test_store_init(mcf_test_store *w, int hooks)
{
    memset(w, 0, sizeof *w);
    w->in = mcf_memory_store_create();
    w->vt.user = w;
    w->vt.put = mcf_test_store_put;
    w->vt.get = mcf_test_store_get;
    w->vt.release = mcf_test_store_release;
    w->vt.remove = mcf_test_store_remove;
    w->vt.put_replicated = mcf_test_store_put_r;
    if (hooks) {
        w->vt.get_into = mcf_test_store_get_into;
        w->vt.put_batch = mcf_test_store_put_batch;
        w->vt.get_batch = mcf_test_store_get_batch;
    }
}

#endif
