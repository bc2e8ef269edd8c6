/* mcf_test_alloc.h - allocation-failure injection for the tests.
 *
 * Include it instead of mcf_test.h: the test file then compiles its own
 * MCF_STATIC copy of the implementation (the shared impl.o it is linked with
 * stays unused) on a counting MCF_MALLOC/REALLOC/FREE. The counter knows the
 * calls made, the blocks still live, and can fail the Nth call.
 *
 * A sweep runs one operation again and again: first with nothing failing
 * (the warm-up, so that state the library keeps for good, such as the memory
 * filesystem's table, exists before anything is counted), then with
 * allocation 1, 2, ... failing, until a run never reaches the failing call.
 *
 *     mcf_test_sweep sw;
 *     mcf_test_sweep_begin(&sw, "open x", MCF_OK);
 *     while (mcf_test_sweep_next(&sw)) {
 *         int rc = operation(...);
 *         MCF_CHECK(mcf_test_sweep_result(&sw, rc));
 *         ...check the outcome, free what the operation made...
 *         MCF_CHECK(mcf_test_sweep_end(&sw));
 *     }
 *
 * MCF_TEST_VERBOSE=1 prints each finished sweep's counts.
 *
 * mcf_test_sweep_result turns the failure off again and accepts exactly two
 * outcomes: the run reached the failing call and returned MCF_INTERNAL_ERROR
 * (or sw.oom_code) with a message holding sw.oom_msg ("out of memory"), or it
 * did not reach it and returned the operation's own final code.
 * mcf_test_sweep_allow lets a run that reached the failing call give some
 * other answer instead, a few times: a best-effort step that went without
 * its allocation (the final code), or a known gap, written next to the
 * sweep that allows it. mcf_test_sweep_end requires the live blocks to be
 * what they were before the run (nothing leaked, nothing freed twice). */#ifndef MCF_TEST_ALLOC_H
#define MCF_TEST_ALLOC_H
#include <stddef.h>

static void *mcf_test_alloc_malloc(size_t n);
static void *mcf_test_alloc_realloc(void *p, size_t n);
static void mcf_test_alloc_free(void *p);
#define MCF_STATIC
#define MOONCAKE_FILEIO_IMPLEMENTATION
#define MCF_MALLOC(n) mcf_test_alloc_malloc(n)
#define MCF_REALLOC(p, n) mcf_test_alloc_realloc(p, n)
#define MCF_FREE(p) mcf_test_alloc_free(p)
#include "mcf_test.h"

/* calls: MCF_MALLOC + MCF_REALLOC calls so far; fail_at: the call that
 * returns NULL (0 = none); live: blocks allocated and not yet freed. */
static long mcf_test_alloc_calls, mcf_test_alloc_fail_at, mcf_test_alloc_live;

static void *mcf_test_alloc_malloc(size_t n)
{
    void *p;
    if (++mcf_test_alloc_calls == mcf_test_alloc_fail_at) return NULL;
    p = malloc(n);
    if (p) mcf_test_alloc_live++;
    return p;
}

static void *mcf_test_alloc_realloc(void *p, size_t n)
{
    void *q;
    if (++mcf_test_alloc_calls == mcf_test_alloc_fail_at) return NULL;
    q = realloc(p, n);
    if (q && !p) mcf_test_alloc_live++;
    return q;
}

static void mcf_test_alloc_free(void *p)
{
    if (p) mcf_test_alloc_live--;
    free(p);
}

/* More runs than any operation here needs allocations: a sweep that gets
 * there is stuck (an operation whose allocation count keeps growing). */
#define MCF_TEST_SWEEP_MAX_RUNS 20000L

typedef struct mcf_test_sweep {
    const char *what;       /* the operation, for failure reports */
    int final_code;         /* what the operation returns when nothing fails */
    int oom_code;           /* what it returns when an allocation fails (MCF_INTERNAL_ERROR) */
    const char *oom_msg;    /* what its message then holds ("out of memory") */
    long n;                 /* the call that fails in this run; 0 in the warm-up */
    long base;              /* live blocks before this run */
    long allocs;            /* allocations of the warm-up run */
    long failed_runs;       /* runs that reached the failing call */
    int n_allowed;          /* other answers such a run may give: */
    int allowed_code[4];    /* this code */
    const char *allowed_msg[4];   /* with this in the message (NULL: any) */
    long allowed_max[4];    /* this many times at most */
    long allowed_seen[4];   /* how many times it did */
    int reached;            /* this run reached the failing call */
    int done;
    char msg[1024];         /* this run's message, before the checks overwrite it */
} mcf_test_sweep;

MCF_TEST_UNUSED
static void mcf_test_sweep_begin(mcf_test_sweep *s, const char *what, int final_code)
{
    memset(s, 0, sizeof *s);
    s->what = what;
    s->final_code = final_code;
    s->oom_code = MCF_INTERNAL_ERROR;
    s->oom_msg = "out of memory";
    s->n = -1;
}

/* Lets up to max runs that reached the failing call return code with msg
 * in the message (NULL: any message); its count is allowed_seen[slot]. */
MCF_TEST_UNUSED
static void mcf_test_sweep_allow(mcf_test_sweep *s, int code, const char *msg, long max)
{
    if (s->n_allowed == 4) { s->failed_runs = -1; return; }   /* no count check can pass */
    s->allowed_code[s->n_allowed] = code;
    s->allowed_msg[s->n_allowed] = msg;
    s->allowed_max[s->n_allowed++] = max;
}

/* 1 while there is another run to make; arms the failure for it. */
MCF_TEST_UNUSED
static int mcf_test_sweep_next(mcf_test_sweep *s)
{
    if (s->done) return 0;
    if (++s->n > MCF_TEST_SWEEP_MAX_RUNS) {
        fprintf(stderr, "  %s: still reaching the failing allocation after %ld runs\n", s->what, MCF_TEST_SWEEP_MAX_RUNS);
        s->done = 1;
        s->failed_runs = -1;   /* no count check can pass */
        return 0;
    }
    s->base = mcf_test_alloc_live;
    s->reached = 0;
    s->msg[0] = '\0';
    mcf_test_alloc_calls = 0;
    mcf_test_alloc_fail_at = s->n;
    return 1;
}

/* Ends the injection and judges the run's result code; 1 if it is right. */
MCF_TEST_UNUSED
static int mcf_test_sweep_result(mcf_test_sweep *s, int rc)
{
    int i;
    mcf_test_alloc_fail_at = 0;
    s->reached = s->n > 0 && mcf_test_alloc_calls >= s->n;
    if (s->n == 0) s->allocs = mcf_test_alloc_calls;
    (void)snprintf(s->msg, sizeof s->msg, "%s", mcf_last_error());
    if (s->reached) {
        s->failed_runs++;
        if (rc == s->oom_code && strstr(s->msg, s->oom_msg)) return 1;
        for (i = 0; i < s->n_allowed; i++)
            if (rc == s->allowed_code[i] && (!s->allowed_msg[i] || strstr(s->msg, s->allowed_msg[i])) &&
                ++s->allowed_seen[i] <= s->allowed_max[i])
                return 1;
        fprintf(stderr, "  %s, allocation %ld failing: returned %d (%s) \"%s\", expected %s with \"%s\"\n", s->what, s->n, rc,
                mcf_result_name(rc), s->msg, mcf_result_name(s->oom_code), s->oom_msg);
        return 0;
    }
    if (rc == s->final_code) return 1;
    fprintf(stderr, "  %s, %s: returned %d (%s) \"%s\", expected %s\n", s->what, s->n ? "no allocation failing" : "warm-up run",
            rc, mcf_result_name(rc), s->msg, mcf_result_name(s->final_code));
    return 0;
}

/* After the run's own cleanup: 1 if no block leaked; ends the sweep after
 * the first run that did not reach the failing call. */
MCF_TEST_UNUSED
static int mcf_test_sweep_end(mcf_test_sweep *s)
{
    mcf_test_alloc_fail_at = 0;
    if (s->n > 0 && !s->reached) {
        const char *v = getenv("MCF_TEST_VERBOSE");
        s->done = 1;
        if (v && *v && strcmp(v, "0") != 0)
            fprintf(stderr, "  sweep %s: %ld allocations, %ld failing runs\n", s->what, s->allocs, s->failed_runs);
    }
    if (mcf_test_alloc_live == s->base) return 1;
    fprintf(stderr, "  %s, %s: %ld blocks live after the run, %ld before (result: \"%s\")\n", s->what,
            s->n ? "with an allocation failing" : "warm-up run", mcf_test_alloc_live, s->base, s->msg);
    if (s->n) fprintf(stderr, "  (allocation %ld failed)\n", s->n);
    return 0;
}
#endif
