/* mcf_test_endian.h - byte order helpers of the tests.
 *
 * Tensor data in memory (mcf_tensor.data given to a writer, mcf_read and
 * mcf_view results, mcf_store_get_tensor and loaded tensors) is in host byte
 * order; files and Mooncake objects (mcf_moon_encode output, mcf_moon_decode
 * views) are little-endian. Reference bytes and manifest hashes are of the
 * little-endian form, so on a big-endian host (the s390x cross leg) a test
 * converts host-order elements to it before comparing or hashing. On a
 * little-endian host every helper here is a plain copy/compare. */
#ifndef MCF_TEST_ENDIAN_H
#define MCF_TEST_ENDIAN_H
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "../mooncake_fileio.h"

static inline int mcf_test_big_endian(void)
{
    const uint16_t one = 1;
    return *(const unsigned char *)&one == 0;
}

/* Byte-swap unit of d: its element size, C64 its two F32 parts, 1 for
 * byte-sized and sub-byte dtypes (never swapped). */
static inline size_t mcf_test_swap_unit(mcf_dtype d)
{
    if (d == MCF_C64) return 4;
    return mcf_dtype_size(d) > 1 ? mcf_dtype_size(d) : 1;
}

/* Reverses the bytes of every whole unit in p[0..n). */
static inline void mcf_test_swap(void *p, size_t n, size_t unit)
{
    unsigned char *b = (unsigned char *)p;
    size_t i, j;
    for (i = 0; unit > 1 && i + unit <= n; i += unit)
        for (j = 0; j < unit / 2; j++) {
            unsigned char c = b[i + j];
            b[i + j] = b[i + unit - 1 - j];
            b[i + unit - 1 - j] = c;
        }
}

/* Copies n bytes of host-order elements of d as little-endian bytes (the
 * same conversion turns little-endian bytes into host order). */
static inline void mcf_test_to_le(void *dst, const void *host, size_t n, mcf_dtype d)
{
    memmove(dst, host, n);
    if (mcf_test_big_endian()) mcf_test_swap(dst, n, mcf_test_swap_unit(d));
}

/* 1 if the n bytes of host-order elements of d at host are, as
 * little-endian, exactly the bytes at le; 0 otherwise (or out of memory). */
static inline int mcf_test_host_eq_le(const void *host, const void *le, size_t n, mcf_dtype d)
{
    unsigned char *tmp;
    int eq;
    if (!mcf_test_big_endian() || mcf_test_swap_unit(d) == 1) return memcmp(host, le, n) == 0;
    tmp = (unsigned char *)malloc(n + 1);
    if (!tmp) return 0;
    mcf_test_to_le(tmp, host, n, d);
    eq = memcmp(tmp, le, n) == 0;
    free(tmp);
    return eq;
}
#endif
