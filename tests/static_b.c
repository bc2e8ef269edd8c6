#define MCF_STATIC
#define MOONCAKE_FILEIO_IMPLEMENTATION
#include "../mooncake_fileio.h"

int static_b_roundtrip(void)
{
    return mcf_exists("memory://static/a", NULL) == 0 &&
           mcf_write_bytes("memory://static/b", "b", 1, NULL) == MCF_OK &&
           mcf_exists("memory://static/b", NULL) == 1;
}
