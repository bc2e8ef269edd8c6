/* The one translation unit of the tests that compiles the implementation. */
#define MOONCAKE_FILEIO_IMPLEMENTATION
#include "../mooncake_fileio.h"
