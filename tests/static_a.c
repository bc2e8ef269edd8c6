/* MCF_STATIC: this TU and static_b.c each compile a private copy of the
 * implementation into one program; a missing MCFDEF would clash at link time. */
#define MCF_STATIC
#define MOONCAKE_FILEIO_IMPLEMENTATION
#include "../mooncake_fileio.h"
#include <stdio.h>

int static_b_roundtrip(void);

int main(void)
{
    static const char data[] = "static-a";
    void *back = NULL;
    size_t len = 0;
    int ok = mcf_write_bytes("memory://static/a", data, sizeof data, NULL) == MCF_OK &&
             mcf_read_bytes("memory://static/a", &back, &len, NULL) == MCF_OK && len == sizeof data &&
             memcmp(back, data, len) == 0;
    mcf_free(back);
    /* each copy has its own memory filesystem: b cannot see a's object */
    ok = ok && static_b_roundtrip();
    printf("%d passed, %d failed\n", ok ? 1 : 0, ok ? 0 : 1);
    return ok ? 0 : 1;
}
