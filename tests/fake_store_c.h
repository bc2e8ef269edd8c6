/* A stand-in for Mooncake's mooncake-store/include/store_c.h: the same
 * include guard, types and prototypes of the calls the adapter uses, so the
 * adapter test compiles against exactly those signatures. */
#ifndef MOONCAKE_STORE_C_H
#define MOONCAKE_STORE_C_H
#include <stddef.h>
#include <stdint.h>
#ifdef __cplusplus
extern "C" {
#endif
typedef void *mooncake_store_t;
struct mooncake_replicate_config {
    size_t replica_num;
    int with_soft_pin;
    const char **preferred_segments;
    size_t preferred_segments_count;
};
typedef struct mooncake_replicate_config mooncake_replicate_config_t;

mooncake_store_t mooncake_store_create(void);
void mooncake_store_destroy(mooncake_store_t store);
int mooncake_store_put(mooncake_store_t store, const char *key, const void *value, size_t size,
                       const mooncake_replicate_config_t *config);
int64_t mooncake_store_get_into(mooncake_store_t store, const char *key, void *buffer, size_t size);
int mooncake_store_is_exist(mooncake_store_t store, const char *key);
int64_t mooncake_store_get_size(mooncake_store_t store, const char *key);
int mooncake_store_remove(mooncake_store_t store, const char *key, int force);
#ifdef __cplusplus
}
#endif
#endif
