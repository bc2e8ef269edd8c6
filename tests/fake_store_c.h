/* The C interface of the Mooncake store client (mooncake-store/include/
 * store_c.h upstream) for the tests: the same include guard, types, struct
 * layout and every function with the same signature, so the adapter test
 * compiles against the interface a real build links with.
 * tests/fake_store_c.c implements it in process memory. */
#ifndef MOONCAKE_STORE_C_H
#define MOONCAKE_STORE_C_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef void *mooncake_store_t;

/* What a put does with an object's soft pin. A zeroed config is PRESERVE
 * without a TTL; any other value makes the put functions return -1. */
enum mooncake_soft_pin_action {
    MOONCAKE_SOFT_PIN_PRESERVE = 0,     /* keep an unexpired deadline */
    MOONCAKE_SOFT_PIN_ENABLE = 1,       /* pin on publish */
    MOONCAKE_SOFT_PIN_DISABLE = 2       /* drop an existing pin */
};

struct mooncake_replicate_config {
    size_t replica_num;
    int with_hard_pin;
    const char **preferred_segments;
    size_t preferred_segments_count;
    int soft_pin_action;                /* enum mooncake_soft_pin_action */
    int has_soft_pin_ttl;               /* non-zero: soft_pin_ttl_ms applies */
    uint64_t soft_pin_ttl_ms;
};
typedef struct mooncake_replicate_config mooncake_replicate_config_t;

/* Lifecycle */
mooncake_store_t mooncake_store_create();
void mooncake_store_destroy(mooncake_store_t store);
int mooncake_store_setup(mooncake_store_t store, const char *local_hostname,
    const char *metadata_server, uint64_t global_segment_size, uint64_t local_buffer_size,
    const char *protocol, const char *device_name, const char *master_server_addr);
int mooncake_store_init_all(mooncake_store_t store, const char *protocol, const char *device_name,
    uint64_t mount_segment_size);
int mooncake_store_health_check(mooncake_store_t store);

/* Put */
int mooncake_store_put(mooncake_store_t store, const char *key, const void *value, size_t size,
    const mooncake_replicate_config_t *config);
int mooncake_store_put_from(mooncake_store_t store, const char *key, void *buffer, size_t size,
    const mooncake_replicate_config_t *config);
int mooncake_store_batch_put_from(mooncake_store_t store, const char **keys, void **buffers,
    const size_t *sizes, size_t count, const mooncake_replicate_config_t *config, int *results_out);

/* Get */
int64_t mooncake_store_get_into(mooncake_store_t store, const char *key, void *buffer, size_t size);
int mooncake_store_batch_get_into(mooncake_store_t store, const char **keys, void **buffers,
    const size_t *sizes, size_t count, int64_t *results_out);

/* Existence, size, hostname */
int mooncake_store_is_exist(mooncake_store_t store, const char *key);
int mooncake_store_batch_is_exist(mooncake_store_t store, const char **keys, size_t count, int *results_out);
int64_t mooncake_store_get_size(mooncake_store_t store, const char *key);
int mooncake_store_get_hostname(mooncake_store_t store, char *buf_out, size_t buf_len);

/* Remove */
int mooncake_store_remove(mooncake_store_t store, const char *key, int force);
int64_t mooncake_store_remove_by_regex(mooncake_store_t store, const char *pattern, int force);
int64_t mooncake_store_remove_all(mooncake_store_t store, int force);

/* Buffer registration (the zero-copy calls read and write only registered
 * memory) */
int mooncake_store_register_buffer(mooncake_store_t store, void *buffer, size_t size);
int mooncake_store_unregister_buffer(mooncake_store_t store, void *buffer);

#ifdef __cplusplus
}
#endif

#endif
