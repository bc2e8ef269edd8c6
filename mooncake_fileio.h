/* mooncake_fileio.h - tensor and KV-cache file I/O in one C header
 *
 * Saves and loads tensors (and Mooncake KV-cache blocks) to and from local
 * files, process memory, HTTP and S3, in the safetensors and PyTorch .pt
 * formats, with nothing beyond libc (libcurl optional). It is the C
 * counterpart of the Python `store_file_io` module of the Mooncake store.
 *
 * license: Apache-2.0, see end of file            version: 0.1.0
 *
 * ===========================================================================
 * QUICK START
 * ===========================================================================
 * In exactly one C or C++ file, before any other #include:
 *
 *     #define MOONCAKE_FILEIO_IMPLEMENTATION
 *     #include "mooncake_fileio.h"
 *
 * Everywhere else just #include "mooncake_fileio.h". Then:
 *
 *     float w[6] = {1, 2, 3, 4, 5, 6};
 *     mcf_tensor t;
 *     memset(&t, 0, sizeof t);
 *     t.name = "w"; t.dtype = MCF_F32; t.ndim = 2;
 *     t.shape[0] = 2; t.shape[1] = 3; t.data = w;
 *     if (mcf_save("model.safetensors", &t, 1, NULL) != MCF_OK)
 *         fprintf(stderr, "%s\n", mcf_last_error());
 *
 *     mcf_reader *r;
 *     if (mcf_open("model.safetensors", NULL, &r) == MCF_OK) {
 *         int i = mcf_find(r, "w");
 *         const void *p;
 *         if (i >= 0 && mcf_view(r, (size_t)i, &p) == MCF_OK)
 *             printf("w[5] = %g\n", (double)((const float *)p)[5]);
 *         mcf_close(r);
 *     }
 *
 * The same calls take "file:///abs/path", "memory://name", and with libcurl
 * "http(s)://host/path" and "s3://bucket/key"; ".pt"/".pth" (or
 * options.format = "torch") writes what torch.save writes.
 *
 * ===========================================================================
 * CONTENTS (grep for the tag, e.g. "[12]")
 * ===========================================================================
 *   [01] platform & config          [10] fs: http & s3 (curl)
 *   [02] results & last error       [11] JSON read/write
 *   [03] alloc & checked math       [12] safetensors
 *   [04] bytes: LE load/store, CRC32 [13] zip
 *   [05] dtypes & tensors           [14] pickle
 *   [06] URL parser                 [15] torch .pt
 *   [07] fs registry                [16] save/open dispatch
 *   [08] fs: memory                 [17] Mooncake object codec & store API
 *   [09] fs: posix
 *
 * ===========================================================================
 * BUILD MACROS
 * ===========================================================================
 *   MOONCAKE_FILEIO_IMPLEMENTATION  compile the implementation in this TU
 *   MCF_STATIC                      make every function static (private copy)
 *   MOONCAKE_FILEIO_CURL            http://, https://, s3:// via libcurl (-lcurl)
 *   MOONCAKE_FILEIO_MOONCAKE_STORE  adapter over Mooncake's store_c.h
 *   MCF_NO_POSIX                    memory filesystem only (no unistd/mmap)
 *   MCF_MALLOC/MCF_REALLOC/MCF_FREE library bookkeeping allocator (all or none)
 *   MCF_ASSERT                      assert() replacement
 *   MCF_MAX_DIMS                    maximum tensor rank (default 8, Mooncake's)
 * The implementation TU must include this header before any system header,
 * because the header defines _POSIX_C_SOURCE / _DEFAULT_SOURCE /
 * _FILE_OFFSET_BITS for pread, mmap and 64-bit offsets (an #error says so).
 *
 * ===========================================================================
 * OPTIONS (mcf_options; zero every field, or pass NULL, for the defaults)
 * ===========================================================================
 *   format           NULL/"auto", "safetensors" ("safe_tensors"), "torch"
 *                    ("pt", "pth", "standard", "standard_file"); case and
 *                    '-' vs '_' do not matter. auto on save: ".safetensors"
 *                    suffix -> safetensors, else torch; on load: sniffed.
 *   filesystem       NULL/"auto" = from the URL scheme; "file"/"local"/
 *                    "localfs"/"posix" = local; another name N turns a path
 *                    without "://" into "N://path".
 *   storage_options  NULL-terminated key, value, key, value, ... list for the
 *                    backend (S3: key secret token region endpoint_url; ...)
 *   tensor_name      entry to write or select
 *   metadata         NULL-terminated key, value, ... safetensors __metadata__
 *   flags            MCF_DURABLE MCF_NO_MMAP MCF_VERIFY MCF_NO_OVERWRITE
 *                    MCF_LENIENT
 *   progress         progress(user, done, total); non-zero return cancels
 *   alloc/dealloc    where loaded tensor data goes (map_location analogue)
 *
 * ===========================================================================
 * ERRORS
 * ===========================================================================
 * Every fallible call returns 0 (MCF_OK) or a negative MCF_* code whose value
 * is Mooncake's ErrorCode number. mcf_last_error() then holds a sentence for
 * the latest failure in this thread naming the file or URL and the cause;
 * mcf_result_name() spells a code. Out-parameters are written only on success
 * (handles are set to NULL on failure). A failed save never leaves a partial
 * destination: writes go to a temporary object that is renamed at the end.
 *
 * ===========================================================================
 * THREAD SAFETY
 * ===========================================================================
 * Every function may be called from several threads at once on different
 * objects. A reader (mcf_reader) must not be used by two threads at once.
 * The memory filesystem, the memory store and the filesystem registry are
 * process-wide and locked. The only other global state is the thread-local
 * error message.
 *
 * ===========================================================================
 * LIMITS (all checked before any allocation a file asks for)
 * ===========================================================================
 *   safetensors header      <= 100,000,000 bytes (MCF_MAX_HEADER)
 *   tensor rank             <= MCF_MAX_DIMS
 *   JSON nesting depth      <= MCF_MAX_JSON_DEPTH (a valid header needs 3)
 *   pickle stack / memo     <= MCF_MAX_PICKLE_STACK / MCF_MAX_PICKLE_MEMO
 *   zip entries             <= MCF_MAX_ZIP_ENTRIES
 *
 * Change log: see the end of the file.
 */
#ifndef MOONCAKE_FILEIO_H
#define MOONCAKE_FILEIO_H

/* ===== [01] platform & config ============================================ */
/* Feature macros must precede the first system header of the implementation
 * TU (glibc reads them once, in <features.h>), so they come before <stdint.h>. */
#if defined(MOONCAKE_FILEIO_IMPLEMENTATION) && !defined(MCF_NO_POSIX) && !defined(_WIN32)
#ifndef _POSIX_C_SOURCE
#define _POSIX_C_SOURCE 200809L
#endif
#ifndef _DEFAULT_SOURCE
#define _DEFAULT_SOURCE 1
#endif
#ifndef _FILE_OFFSET_BITS
#define _FILE_OFFSET_BITS 64
#endif
#endif

#include <stddef.h>
#include <stdint.h>

#define MCF_VERSION_MAJOR 0
#define MCF_VERSION_MINOR 1
#define MCF_VERSION_PATCH 0
#define MCF_VERSION_STRING "0.1.0"

#ifndef MCFDEF
#ifdef MCF_STATIC
#if defined(__GNUC__) || defined(__clang__)
#define MCFDEF static __attribute__((unused))
#else
#define MCFDEF static
#endif
#else
#define MCFDEF extern
#endif
#endif

#ifndef MCF_MAX_DIMS
#define MCF_MAX_DIMS 8                  /* Mooncake's TensorMetadata limit */
#endif
#ifndef MCF_MAX_HEADER
#define MCF_MAX_HEADER 100000000u       /* safetensors header cap (HF rule) */
#endif
#ifndef MCF_MAX_JSON_DEPTH
#define MCF_MAX_JSON_DEPTH 64           /* a valid header nests 3 deep */
#endif
#ifndef MCF_MAX_PICKLE_STACK
#define MCF_MAX_PICKLE_STACK 1000000    /* values on the unpickler stack */
#endif
#ifndef MCF_MAX_PICKLE_MEMO
#define MCF_MAX_PICKLE_MEMO 1000000     /* unpickler memo slots */
#endif
#ifndef MCF_MAX_ZIP_ENTRIES
#define MCF_MAX_ZIP_ENTRIES 1000000     /* entries in one .pt archive */
#endif
#ifndef MCF_ERROR_MAX
#define MCF_ERROR_MAX 1024              /* bytes of the last-error sentence */
#endif

#ifdef __cplusplus
extern "C" {
#endif

/* ===== [02] results & last error ========================================= */
/* Mooncake's ErrorCode numbers, so the store passes them through unchanged. */
enum {
    MCF_OK = 0,
    MCF_INTERNAL_ERROR = -1,            /* bug or allocation failure */
    MCF_BUFFER_OVERFLOW = -10,          /* caller's buffer too small */
    MCF_INVALID_PARAMS = -600,          /* bad argument, unknown name */
    MCF_OBJECT_NOT_FOUND = -704,        /* tensor / store key absent */
    MCF_CHECKSUM_MISMATCH = -801,       /* zip CRC32 mismatch (MCF_VERIFY) */
    MCF_NOT_SUPPORTED = -1012,          /* valid input, unhandled feature */
    MCF_FILE_NOT_FOUND = -1100,
    MCF_FILE_OPEN_FAIL = -1101,
    MCF_FILE_READ_FAIL = -1102,         /* I/O error or short read */
    MCF_FILE_WRITE_FAIL = -1103,        /* I/O error, disk full */
    MCF_FILE_INVALID_BUFFER = -1104,
    MCF_SERIALIZE_UNSUPPORTED = -1500,  /* the format cannot hold it */
    MCF_SERIALIZE_FAIL = -1501,
    MCF_DESERIALIZE_FAIL = -1502,       /* malformed or hostile input */
    MCF_PERSISTENT_FAIL = -1503,        /* generic persistence failure */
    MCF_PERMISSION_DENIED = -1603
};

/* "FILE_NOT_FOUND" for MCF_FILE_NOT_FOUND; "UNKNOWN" for other values. Static. */
MCFDEF const char *mcf_result_name(int result);
/* The sentence for the latest failure in this thread; never NULL ("" before
 * any failure). Valid until the next failing call in the same thread. */
MCFDEF const char *mcf_last_error(void);

/* ===== [03] alloc & checked math ========================================= */
/* Frees memory this library returned (mcf_read_bytes, mcf_save_to_memory). NULL ok. */
MCFDEF void mcf_free(void *p);

/* ===== [04] bytes: LE load/store, CRC32 ================================== */
/* Zip CRC-32 (reflected polynomial 0xEDB88320) of len bytes continuing from
 * crc (start with 0), using the fastest code this CPU runs. */
MCFDEF uint32_t mcf_crc32(uint32_t crc, const void *data, size_t len);

/* ===== [05] dtypes & tensors ============================================= */
typedef enum mcf_dtype {
    MCF_BOOL = 0, MCF_U8, MCF_I8, MCF_F8_E5M2, MCF_F8_E4M3,
    MCF_I16, MCF_U16, MCF_F16, MCF_BF16,
    MCF_I32, MCF_U32, MCF_F32, MCF_F64, MCF_I64, MCF_U64,
    /* newer safetensors types, carried as opaque bytes */
    MCF_C64, MCF_F8_E8M0, MCF_F4, MCF_F6_E2M3, MCF_F6_E3M2,
    MCF_DTYPE_COUNT
} mcf_dtype;

typedef struct mcf_tensor {
    const char    *name;          /* entry name in the file */
    mcf_dtype      dtype;
    int            ndim;          /* 0 = scalar */
    int64_t        shape[MCF_MAX_DIMS];
    const int64_t *strides;       /* in elements; NULL = contiguous row-major */
    const void    *data;          /* elements in host byte order (files are
                                     little-endian; big-endian hosts swap) */
} mcf_tensor;

/* Bytes per element; 0 for the sub-byte types (F4, F6_*) and invalid values. */
MCFDEF size_t mcf_dtype_size(mcf_dtype dtype);
/* Bits per element (4 for F4, 6 for F6_*, 8 * size otherwise); 0 if invalid. */
MCFDEF unsigned mcf_dtype_bits(mcf_dtype dtype);
/* safetensors spelling: "F32", "BF16", "F8_E4M3", ...; "?" if invalid. */
MCFDEF const char *mcf_dtype_name(mcf_dtype dtype);
/* Parses the safetensors spelling (exact case). 0 or MCF_INVALID_PARAMS. */
MCFDEF int mcf_dtype_parse(const char *name, mcf_dtype *out);
/* torch name without "torch.": "float32", "bfloat16", "float8_e4m3fn", ...
 * NULL when torch has no such dtype. */
MCFDEF const char *mcf_dtype_torch_name(mcf_dtype dtype);
/* Accepts "float32", "torch.float32", and torch aliases ("float", "half", "long"). */
MCFDEF int mcf_dtype_from_torch_name(const char *name, mcf_dtype *out);
/* Mooncake TensorDtype numbers (FLOAT32=0 ... FLOAT8_E5M2=14); -1 if none. */
MCFDEF int mcf_dtype_to_mooncake(mcf_dtype dtype);
MCFDEF int mcf_dtype_from_mooncake(int mooncake_dtype, mcf_dtype *out);

/* product(shape) elements. UINT64_MAX on overflow or a negative dimension. */
MCFDEF uint64_t mcf_tensor_numel(const mcf_tensor *t);
/* Contiguous byte size (sub-byte types: ceil(elements * bits / 8)).
 * UINT64_MAX on overflow, negative dimension, bad ndim or bad dtype. */
MCFDEF uint64_t mcf_tensor_nbytes(const mcf_tensor *t);
/* 1 if t->strides is NULL or equal to the row-major strides of t->shape. */
MCFDEF int mcf_tensor_is_contiguous(const mcf_tensor *t);
/* Copies t (any strides >= 0) into dst as contiguous row-major bytes.
 * MCF_BUFFER_OVERFLOW if dst_len < mcf_tensor_nbytes(t); sub-byte dtypes with
 * non-contiguous strides: MCF_SERIALIZE_UNSUPPORTED. */
MCFDEF int mcf_tensor_copy_contiguous(const mcf_tensor *t, void *dst, size_t dst_len);

/* ===== [06] URL parser =================================================== */
typedef struct mcf_url {
    char *scheme;    /* lower-case: "file", "memory", "http", "https", "s3", ... */
    char *host;      /* http(s): host (IPv6 without brackets); s3: bucket; else "" */
    int   port;      /* explicit port, or 0 */
    char *path;      /* file: local path (percent-decoded, %2F kept);
                        memory: "/a/b"; http(s): "/p" as written; s3: key */
    char *query;     /* text after '?' (http/s3), else "" */
    char *dirname;   /* parent of path; '/' and '\\' both separate; "" if none */
    char *basename;  /* last component of path */
    char *url;       /* canonical form, e.g. "memory:///a/b", "s3://b/k" */
} mcf_url;

/* Splits url the way fsspec does (see DESIGN §6). filesystem may be NULL or a
 * name as in mcf_options.filesystem. On success free with mcf_url_free().
 * Errors: MCF_INVALID_PARAMS for empty or malformed URLs. */
MCFDEF int  mcf_url_parse(const char *url, const char *filesystem, mcf_url *out);
MCFDEF void mcf_url_free(mcf_url *u);

/* ===== [07] fs registry ================================================== */
#define MCF_DURABLE       0x01u  /* fsync file, rename, fsync directory */
#define MCF_NO_MMAP       0x02u  /* read with pread instead of mmap */
#define MCF_VERIFY        0x04u  /* check zip CRC32s when reading */
#define MCF_NO_OVERWRITE  0x08u  /* fail if the destination exists */
#define MCF_LENIENT       0x10u  /* allow bytes after the safetensors buffer */

typedef int (*mcf_progress_fn)(void *user, uint64_t done, uint64_t total);

typedef struct mcf_options {
    const char *format;                    /* see the OPTIONS manual above */
    const char *filesystem;
    const char *const *storage_options;    /* key, value, ..., NULL */
    const char *tensor_name;
    const char *const *metadata;           /* key, value, ..., NULL */
    unsigned flags;                        /* MCF_DURABLE | ... */
    mcf_progress_fn progress;
    void *progress_user;
    void *(*alloc)(void *user, size_t size, size_t align);
    void  (*dealloc)(void *user, void *p);
    void *alloc_user;
} mcf_options;

/* A filesystem backend: positional reads, sequential atomic writes. The
 * library calls these for URLs whose scheme matches. Every int-returning
 * callback returns 0 or a negative MCF_* code and sets the message with
 * mcf_set_error(). */
typedef struct mcf_filesystem {
    const char *scheme;                          /* "oss", no "://" */
    void *user;
    /* Stat: size of an existing object, MCF_FILE_NOT_FOUND if absent. */
    int  (*stat)(void *user, const mcf_url *url, const mcf_options *o, uint64_t *size);
    /* Reading: open, read exactly len bytes at offset, optional whole-object
     * mapping (NULL if not mapped), close. */
    int  (*open_read)(void *user, const mcf_url *url, const mcf_options *o,
                      void **file, uint64_t *size);
    int  (*read_at)(void *file, uint64_t offset, void *dst, size_t len);
    const void *(*map)(void *file);
    void (*close_read)(void *file);
    /* Writing: open with the final size (UINT64_MAX = unknown), write in
     * order, then commit (publish atomically) or abort (nothing visible).
     * Both free the file handle. */
    int  (*open_write)(void *user, const mcf_url *url, uint64_t size,
                       const mcf_options *o, void **file);
    int  (*write)(void *file, const void *src, size_t len);
    int  (*commit)(void *file);
    void (*abort)(void *file);
    int  (*remove)(void *user, const mcf_url *url, const mcf_options *o);
} mcf_filesystem;

/* Adds (or replaces) the backend for fs->scheme. The struct is copied; the
 * scheme string must outlive the registration. Thread-safe. */
MCFDEF int mcf_register_filesystem(const mcf_filesystem *fs);
/* Copies the backend serving scheme ("file", "memory", a registered one) so a
 * user backend can wrap it or a caller can use positional reads directly. */
MCFDEF int mcf_filesystem_lookup(const char *scheme, mcf_filesystem *out);
/* Sets this thread's last-error sentence (for backends); returns code. */
MCFDEF int mcf_set_error(int code, const char *fmt, ...)
#if defined(__GNUC__) || defined(__clang__)
    __attribute__((format(printf, 2, 3)))
#endif
    ;

/* Whole-object helpers. mcf_read_bytes returns a buffer to mcf_free(). */
MCFDEF int mcf_write_bytes(const char *url, const void *data, size_t len, const mcf_options *o);
MCFDEF int mcf_read_bytes(const char *url, void **data, size_t *len, const mcf_options *o);
MCFDEF int mcf_exists(const char *url, const mcf_options *o);   /* 1, 0 or < 0 */
MCFDEF int mcf_file_size(const char *url, uint64_t *size, const mcf_options *o);
MCFDEF int mcf_remove(const char *url, const mcf_options *o);

/* ===== [16] save/open dispatch =========================================== */
typedef struct mcf_reader mcf_reader;

/* Writes n tensors to url in one format (options.format, else by suffix). */
MCFDEF int mcf_save(const char *url, const mcf_tensor *t, size_t n, const mcf_options *o);
/* Same, into one MCF_MALLOC buffer (free with mcf_free); format must be set. */
MCFDEF int mcf_save_to_memory(const mcf_tensor *t, size_t n, const mcf_options *o,
                              void **out, size_t *out_len);
/* Opens a file, reading only its header/index. *r is NULL on failure. */
MCFDEF int mcf_open(const char *url, const mcf_options *o, mcf_reader **r);
/* Opens a caller buffer; it must outlive the reader (views point into it). */
MCFDEF int mcf_open_memory(const void *buf, size_t len, const mcf_options *o, mcf_reader **r);
MCFDEF size_t mcf_count(const mcf_reader *r);
/* Entry i: name (owned by r), dtype, ndim, shape; strides/data are NULL. */
MCFDEF int mcf_entry(const mcf_reader *r, size_t i, mcf_tensor *info);
/* Index of the entry called name, or MCF_OBJECT_NOT_FOUND. */
MCFDEF int mcf_find(const mcf_reader *r, const char *name);
/* Contiguous bytes of entry i, zero-copy where the source is mapped; valid
 * until mcf_close. */
MCFDEF int mcf_view(mcf_reader *r, size_t i, const void **data);
/* Copies entry i as contiguous bytes into dst (dst_len >= its nbytes). */
MCFDEF int mcf_read(mcf_reader *r, size_t i, void *dst, size_t dst_len);
/* Value of a safetensors __metadata__ key, or NULL. Owned by r. */
MCFDEF const char *mcf_metadata(const mcf_reader *r, const char *key);
/* Number of metadata pairs, and pair i (key and value owned by r). */
MCFDEF size_t mcf_metadata_count(const mcf_reader *r);
MCFDEF int mcf_metadata_pair(const mcf_reader *r, size_t i, const char **key, const char **value);
/* "safetensors" or "torch". */
MCFDEF const char *mcf_reader_format(const mcf_reader *r);
/* Byte offset of entry i's data in the file and its contiguous size. */
MCFDEF int mcf_entry_location(const mcf_reader *r, size_t i, uint64_t *offset, uint64_t *nbytes);
MCFDEF void mcf_close(mcf_reader *r);

/* ===== [17] Mooncake object codec & store API ============================ */
/* Any key-value store of Mooncake tensor objects (TensorMetadata + data). */
typedef struct mcf_store {
    void *user;
    int  (*put)(void *user, const char *key, const void *obj, size_t len);
    int  (*get)(void *user, const char *key, void **obj, size_t *len);
    void (*release)(void *user, void *obj);
    int  (*remove)(void *user, const char *key);
} mcf_store;

/* The embedded default: a thread-safe in-process hash map. */
MCFDEF mcf_store *mcf_memory_store_create(void);
MCFDEF void       mcf_memory_store_destroy(mcf_store *s);

/* Mooncake tensor object codec (integration_utils.h byte layout). */
MCFDEF size_t mcf_moon_object_size(const mcf_tensor *t);   /* 304 + data bytes */
MCFDEF int    mcf_moon_encode(const mcf_tensor *t, void *dst, size_t cap, size_t *written);
MCFDEF int    mcf_moon_decode(const void *obj, size_t len, mcf_tensor *view);

MCFDEF int  mcf_store_put_tensor(mcf_store *s, const char *key, const mcf_tensor *t);
MCFDEF int  mcf_store_get_tensor(mcf_store *s, const char *key, const mcf_options *o, mcf_tensor *out);
/* Frees the name, strides and data a load allocated (data via o->dealloc). */
MCFDEF void mcf_tensor_free(mcf_tensor *t, const mcf_options *o);

/* Seed API parity (store_file_io.py): file_name NULL = key; key NULL = file_name. */
MCFDEF int mcf_save_tensor_to_file(mcf_store *s, const char *key, const char *file_name,
                                   const mcf_options *o);
MCFDEF int mcf_load_tensor_from_file(mcf_store *s, const char *key, const char *file_name,
                                     const mcf_options *o, mcf_tensor *out);
MCFDEF int mcf_save_kv_cache_to_file(mcf_store *s, const char *key, const char *file_name,
                                     const mcf_options *o);
MCFDEF int mcf_load_kv_cache_from_file(mcf_store *s, const char *key, const char *file_name,
                                       const mcf_options *o, mcf_tensor *out);
MCFDEF int mcf_save_tensor_to_safetensor(mcf_store *s, const char *key, const char *file_name,
                                         const mcf_options *o);
MCFDEF int mcf_load_tensor_from_safetensor(mcf_store *s, const char *key, const char *file_name,
                                           const mcf_options *o, mcf_tensor *out);
/* artifact_kind: "tensor", "kv_cache" ("kvcache", "kv"), "safetensor" ("safetensors"). */
MCFDEF int mcf_save_tensor(mcf_store *s, const char *key, const char *file_name,
                           const char *artifact_kind, const mcf_options *o);
MCFDEF int mcf_load_tensor(mcf_store *s, const char *key, const char *file_name,
                           const char *artifact_kind, const mcf_options *o, mcf_tensor *out);

#ifdef __cplusplus
}
#endif
#endif /* MOONCAKE_FILEIO_H */

/* ========================================================================= */
/*                            IMPLEMENTATION                                 */
/* ========================================================================= */
#if defined(MOONCAKE_FILEIO_IMPLEMENTATION) && !defined(MCF__IMPLEMENTED)
#define MCF__IMPLEMENTED

/* ===== [01] platform & config ============================================ */
/* System headers, the lock and thread-local abstractions, host byte order.
 * POSIX needs _POSIX_C_SOURCE >= 200809L, set at the top of this file. */
#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#ifndef MCF_NO_POSIX
#include <fcntl.h>
#include <pthread.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <time.h>
#include <unistd.h>
#if defined(__GLIBC__) && !defined(__USE_XOPEN2K8)
#error "mooncake_fileio.h: the implementation file must include mooncake_fileio.h before any system header (it needs _POSIX_C_SOURCE >= 200809L), or define _POSIX_C_SOURCE=200809L itself"
#endif
#endif

#ifndef MCF_ASSERT
#include <assert.h>
#define MCF_ASSERT(x) assert(x)
#endif

#if defined(__cplusplus) && __cplusplus >= 201103L
#define MCF__THREAD_LOCAL thread_local
#elif defined(__STDC_VERSION__) && __STDC_VERSION__ >= 201112L
#define MCF__THREAD_LOCAL _Thread_local
#elif defined(__GNUC__) || defined(__clang__)
#define MCF__THREAD_LOCAL __thread
#elif defined(_MSC_VER)
#define MCF__THREAD_LOCAL __declspec(thread)
#else
#error "mooncake_fileio.h: no thread-local storage keyword for this compiler"
#endif

#if defined(__GNUC__) || defined(__clang__)
#define MCF__PRINTF(f, a) __attribute__((format(printf, f, a)))
#define MCF__SHARED static __attribute__((unused))  /* helper of several sections */
#else
#define MCF__PRINTF(f, a)
#define MCF__SHARED static
#endif

/* Byte order of the host: files are little-endian, big-endian hosts swap. */
#if defined(__BYTE_ORDER__) && defined(__ORDER_BIG_ENDIAN__) && __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
#define MCF__BIG_ENDIAN 1
#else
#define MCF__BIG_ENDIAN 0
#endif

/* One process-wide lock type for the registry and the memory filesystem. */
#if defined(MCF_NO_POSIX)
#if defined(__GNUC__) || defined(__clang__)
typedef volatile int mcf__mutex;
#define MCF__MUTEX_INIT 0
static void mcf__lock(mcf__mutex *m) { while (__atomic_exchange_n(m, 1, __ATOMIC_ACQUIRE)) { } }
static void mcf__unlock(mcf__mutex *m) { __atomic_store_n(m, 0, __ATOMIC_RELEASE); }
#else /* single-threaded targets: no lock available */
typedef int mcf__mutex;
#define MCF__MUTEX_INIT 0
static void mcf__lock(mcf__mutex *m) { (void)m; }
static void mcf__unlock(mcf__mutex *m) { (void)m; }
#endif
#else
typedef pthread_mutex_t mcf__mutex;
#define MCF__MUTEX_INIT PTHREAD_MUTEX_INITIALIZER
static void mcf__lock(mcf__mutex *m) { (void)pthread_mutex_lock(m); }
static void mcf__unlock(mcf__mutex *m) { (void)pthread_mutex_unlock(m); }
#endif

/* ===== [02] results & last error ========================================= */
/* One helper sets the code and the sentence together (mcf__fail). errno is
 * mapped with our own table: strerror() is not thread-safe. */
static MCF__THREAD_LOCAL char mcf__error_text[MCF_ERROR_MAX];

MCFDEF const char *mcf_result_name(int result)
{
    switch (result) {
    case MCF_OK: return "OK";
    case MCF_INTERNAL_ERROR: return "INTERNAL_ERROR";
    case MCF_BUFFER_OVERFLOW: return "BUFFER_OVERFLOW";
    case MCF_INVALID_PARAMS: return "INVALID_PARAMS";
    case MCF_OBJECT_NOT_FOUND: return "OBJECT_NOT_FOUND";
    case MCF_CHECKSUM_MISMATCH: return "CHECKSUM_MISMATCH";
    case MCF_NOT_SUPPORTED: return "NOT_SUPPORTED";
    case MCF_FILE_NOT_FOUND: return "FILE_NOT_FOUND";
    case MCF_FILE_OPEN_FAIL: return "FILE_OPEN_FAIL";
    case MCF_FILE_READ_FAIL: return "FILE_READ_FAIL";
    case MCF_FILE_WRITE_FAIL: return "FILE_WRITE_FAIL";
    case MCF_FILE_INVALID_BUFFER: return "FILE_INVALID_BUFFER";
    case MCF_SERIALIZE_UNSUPPORTED: return "SERIALIZE_UNSUPPORTED";
    case MCF_SERIALIZE_FAIL: return "SERIALIZE_FAIL";
    case MCF_DESERIALIZE_FAIL: return "DESERIALIZE_FAIL";
    case MCF_PERSISTENT_FAIL: return "PERSISTENT_FAIL";
    case MCF_PERMISSION_DENIED: return "PERMISSION_DENIED";
    default: return "UNKNOWN";
    }
}

MCFDEF const char *mcf_last_error(void) { return mcf__error_text; }

static int mcf__vfail(int code, const char *fmt, va_list ap)
{
    char tmp[MCF_ERROR_MAX];
    /* format into a copy first: arguments may point into mcf__error_text */
    (void)vsnprintf(tmp, sizeof tmp, fmt, ap);
    memcpy(mcf__error_text, tmp, sizeof tmp);
    return code;
}

MCFDEF int mcf_set_error(int code, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    code = mcf__vfail(code, fmt, ap);
    va_end(ap);
    return code;
}

static int mcf__fail(int code, const char *fmt, ...) MCF__PRINTF(2, 3);
static int mcf__fail(int code, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    code = mcf__vfail(code, fmt, ap);
    va_end(ap);
    return code;
}

/* errno -> result code; fallback is the code of the operation that failed. */
MCF__SHARED int mcf__errno_code(int e, int fallback)
{
    switch (e) {
    case ENOENT: case ENOTDIR: return MCF_FILE_NOT_FOUND;
    case EACCES: case EPERM: case EROFS: return MCF_PERMISSION_DENIED;
    case ENOSPC: case EIO: case EFBIG:
#ifdef EDQUOT
    case EDQUOT:
#endif
        return MCF_FILE_WRITE_FAIL;
    case ENOMEM: return MCF_INTERNAL_ERROR;
    case ENAMETOOLONG: case EINVAL: return MCF_INVALID_PARAMS;
    case EISDIR: case EMFILE: case ENFILE: case EEXIST: return MCF_FILE_OPEN_FAIL;
    default: return fallback;
    }
}

MCF__SHARED const char *mcf__errno_text(int e)
{
    switch (e) {
    case ENOENT: return "no such file or directory";
    case ENOTDIR: return "a path component is not a directory";
    case EACCES: return "permission denied";
    case EPERM: return "operation not permitted";
    case EROFS: return "read-only file system";
    case ENOSPC: return "no space left on device";
    case EIO: return "input/output error";
    case EFBIG: return "file too large";
#ifdef EDQUOT
    case EDQUOT: return "disk quota exceeded";
#endif
    case ENOMEM: return "out of memory";
    case ENAMETOOLONG: return "file name too long";
    case EINVAL: return "invalid argument";
    case EISDIR: return "is a directory";
    case EMFILE: return "too many open files in this process";
    case ENFILE: return "too many open files in the system";
    case EEXIST: return "file exists";
    case EBADF: return "bad file descriptor";
#ifdef ELOOP
    case ELOOP: return "too many levels of symbolic links";
#endif
    default: return "system error";
    }
}

/* ===== [03] alloc & checked math ========================================= */
/* Bookkeeping goes through MCF_MALLOC/REALLOC/FREE; tensor payloads through
 * the options' alloc hook (64-byte aligned by default). Every size sum or
 * product from a file goes through the checked helpers here. */
#if defined(MCF_MALLOC) && defined(MCF_REALLOC) && defined(MCF_FREE)
/* user-provided */
#elif defined(MCF_MALLOC) || defined(MCF_REALLOC) || defined(MCF_FREE)
#error "mooncake_fileio.h: define all of MCF_MALLOC, MCF_REALLOC and MCF_FREE, or none"
#else
#define MCF_MALLOC(n) malloc(n)
#define MCF_REALLOC(p, n) realloc(p, n)
#define MCF_FREE(p) free(p)
#endif

MCFDEF void mcf_free(void *p) { if (p) MCF_FREE(p); }

MCF__SHARED int mcf__mul64(uint64_t a, uint64_t b, uint64_t *out)
{
    if (a != 0 && b > UINT64_MAX / a) return 0;
    *out = a * b;
    return 1;
}

MCF__SHARED int mcf__add64(uint64_t a, uint64_t b, uint64_t *out)
{
    if (b > UINT64_MAX - a) return 0;
    *out = a + b;
    return 1;
}

/* 1 if v fits size_t (32-bit hosts reject what they cannot address). */
MCF__SHARED int mcf__fits_size(uint64_t v) { return v <= (uint64_t)SIZE_MAX; }

static void *mcf__malloc(size_t n) { return MCF_MALLOC(n ? n : 1); }

/* Bytes of RAM, or UINT64_MAX when unknown. A whole-object read larger than
 * (or a memory sink planned that big) fails up front instead of relying on malloc, which overcommit (or a
 * sanitizer's allocator) may not fail cleanly for a 1 TiB sparse file. */
MCF__SHARED uint64_t mcf__ram_bytes(void)
{
#if !defined(MCF_NO_POSIX) && defined(_SC_PHYS_PAGES) && defined(_SC_PAGESIZE)
    long pages = sysconf(_SC_PHYS_PAGES), page = sysconf(_SC_PAGESIZE);
    uint64_t total;
    if (pages > 0 && page > 0 && mcf__mul64((uint64_t)pages, (uint64_t)page, &total)) return total;
#endif
    return UINT64_MAX;
}

MCF__SHARED void *mcf__calloc(size_t count, size_t size)
{
    void *p;
    if (size != 0 && count > SIZE_MAX / size) return NULL;
    p = mcf__malloc(count * size);
    if (p) memset(p, 0, count * size);
    return p;
}

MCF__SHARED char *mcf__strndup(const char *s, size_t n)
{
    char *d = (char *)mcf__malloc(n + 1);
    if (!d) return NULL;
    memcpy(d, s, n);
    d[n] = '\0';
    return d;
}

MCF__SHARED char *mcf__strdup(const char *s) { return mcf__strndup(s, strlen(s)); }

static char mcf__lower(char c) { return (c >= 'A' && c <= 'Z') ? (char)(c - 'A' + 'a') : c; }

/* Compares a user-supplied name with a canonical lower-case name the way the
 * seed normalises format/kind names: case-insensitive, '-' equals '_'. */
static int mcf__name_is(const char *user, const char *canon)
{
    for (; *user && *canon; user++, canon++) {
        char c = mcf__lower(*user);
        if (c == '-') c = '_';
        if (c != *canon) return 0;
    }
    return *user == '\0' && *canon == '\0';
}

static int mcf__ends_with_nocase(const char *s, const char *suffix)
{
    size_t n = strlen(s), m = strlen(suffix), i;
    if (m > n) return 0;
    for (i = 0; i < m; i++)
        if (mcf__lower(s[n - m + i]) != mcf__lower(suffix[i])) return 0;
    return 1;
}

/* Growable byte buffer for headers (JSON, pickle, zip directory). A failed
 * allocation sets `failed` and later appends do nothing, so callers check once. */
typedef struct mcf__buf {
    unsigned char *data;
    size_t len, cap;
    int failed;
} mcf__buf;

static int mcf__buf_reserve(mcf__buf *b, size_t extra)
{
    size_t want, cap;
    unsigned char *p;
    if (b->failed) return 0;
    if (extra > SIZE_MAX - b->len) { b->failed = 1; return 0; }
    want = b->len + extra;
    if (want <= b->cap) return 1;
    cap = b->cap ? b->cap : 256;
    while (cap < want) cap = (cap > SIZE_MAX / 2) ? want : cap * 2;
    p = (unsigned char *)MCF_REALLOC(b->data, cap);
    if (!p) { b->failed = 1; return 0; }
    b->data = p;
    b->cap = cap;
    return 1;
}

static void mcf__buf_put(mcf__buf *b, const void *p, size_t n)
{
    if (n == 0 || !mcf__buf_reserve(b, n)) return;
    memcpy(b->data + b->len, p, n);
    b->len += n;
}

MCF__SHARED void mcf__buf_putc(mcf__buf *b, unsigned char c) { mcf__buf_put(b, &c, 1); }
MCF__SHARED void mcf__buf_puts(mcf__buf *b, const char *s) { mcf__buf_put(b, s, strlen(s)); }

MCF__SHARED void mcf__buf_put_u64(mcf__buf *b, uint64_t v)
{
    char tmp[24];
    int i = 24;
    do { tmp[--i] = (char)('0' + (int)(v % 10)); v /= 10; } while (v);
    mcf__buf_put(b, tmp + i, (size_t)(24 - i));
}

MCF__SHARED void mcf__buf_free(mcf__buf *b) { MCF_FREE(b->data); b->data = NULL; b->len = b->cap = 0; }

/* Tensor payload memory: the caller's hook, else MCF_MALLOC aligned to 64. */
MCF__SHARED void *mcf__payload_alloc(const mcf_options *o, size_t n)
{
    unsigned char *raw, *p;
    if (o && o->alloc) return o->alloc(o->alloc_user, n ? n : 1, 64);
    if (n > SIZE_MAX - 64 - sizeof(void *)) return NULL;
    raw = (unsigned char *)MCF_MALLOC(n + 64 + sizeof(void *));
    if (!raw) return NULL;
    p = raw + sizeof(void *);
    p += (64 - (size_t)((uintptr_t)p & 63)) & 63;
    memcpy(p - sizeof(void *), &raw, sizeof raw);
    return p;
}

MCF__SHARED void mcf__payload_free(const mcf_options *o, void *p)
{
    unsigned char *raw;
    if (!p) return;
    if (o && o->alloc) { if (o->dealloc) o->dealloc(o->alloc_user, p); return; }
    memcpy(&raw, (unsigned char *)p - sizeof(void *), sizeof raw);
    MCF_FREE(raw);
}

/* ===== [04] bytes: LE load/store, CRC32 ================================== */
/* Every integer in a file goes through these byte-wise helpers: no unaligned
 * loads, no host byte order. */
MCF__SHARED uint16_t mcf__le16(const unsigned char *p) { return (uint16_t)(p[0] | (p[1] << 8)); }
MCF__SHARED uint32_t mcf__le32(const unsigned char *p)
{
    return (uint32_t)p[0] | ((uint32_t)p[1] << 8) | ((uint32_t)p[2] << 16) | ((uint32_t)p[3] << 24);
}
MCF__SHARED uint64_t mcf__le64(const unsigned char *p)
{
    return (uint64_t)mcf__le32(p) | ((uint64_t)mcf__le32(p + 4) << 32);
}
MCF__SHARED void mcf__put_le16(unsigned char *p, uint16_t v) { p[0] = (unsigned char)v; p[1] = (unsigned char)(v >> 8); }
MCF__SHARED void mcf__put_le32(unsigned char *p, uint32_t v)
{
    p[0] = (unsigned char)v; p[1] = (unsigned char)(v >> 8);
    p[2] = (unsigned char)(v >> 16); p[3] = (unsigned char)(v >> 24);
}
MCF__SHARED void mcf__put_le64(unsigned char *p, uint64_t v)
{
    mcf__put_le32(p, (uint32_t)v);
    mcf__put_le32(p + 4, (uint32_t)(v >> 32));
}

/* Reverses each unit-byte group in place (big-endian hosts only). */
static void mcf__swap_units(void *data, size_t nbytes, size_t unit)
{
    unsigned char *p = (unsigned char *)data, t;
    size_t i, j;
    if (unit < 2) return;
    for (i = 0; i + unit <= nbytes; i += unit)
        for (j = 0; j < unit / 2; j++) {
            t = p[i + j]; p[i + j] = p[i + unit - 1 - j]; p[i + unit - 1 - j] = t;
        }
}

/* Bitwise reference CRC-32; section [13] provides the table/carry-less paths. */
static uint32_t mcf__crc32_bitwise(uint32_t crc, const unsigned char *p, size_t n)
{
    int k;
    crc = ~crc;
    while (n--) {
        crc ^= *p++;
        for (k = 0; k < 8; k++) crc = (crc >> 1) ^ (0xEDB88320u & (0u - (crc & 1u)));
    }
    return ~crc;
}

MCFDEF uint32_t mcf_crc32(uint32_t crc, const void *data, size_t len)
{
    return mcf__crc32_bitwise(crc, (const unsigned char *)data, len);
}

/* ===== [05] dtypes & tensors ============================================= */
/* One table holds every dtype's spellings and numbers. Strided copies walk
 * the index space row-major with an odometer, memcpy-ing innermost runs. */
typedef struct mcf__dtype_info {
    const char *name;    /* safetensors */
    unsigned bits;
    unsigned swap;       /* byte-swap unit on big-endian hosts */
    const char *torch;   /* torch.<name>, or NULL */
    int mooncake;        /* TensorDtype number, or -1 */
} mcf__dtype_info;

static const mcf__dtype_info mcf__dtypes[MCF_DTYPE_COUNT] = {
    {"BOOL", 8, 1, "bool", 10},
    {"U8", 8, 1, "uint8", 3},
    {"I8", 8, 1, "int8", 2},
    {"F8_E5M2", 8, 1, "float8_e5m2", 14},
    {"F8_E4M3", 8, 1, "float8_e4m3fn", 13},
    {"I16", 16, 2, "int16", 4},
    {"U16", 16, 2, "uint16", 5},
    {"F16", 16, 2, "float16", 11},
    {"BF16", 16, 2, "bfloat16", 12},
    {"I32", 32, 4, "int32", 6},
    {"U32", 32, 4, "uint32", 7},
    {"F32", 32, 4, "float32", 0},
    {"F64", 64, 8, "float64", 1},
    {"I64", 64, 8, "int64", 8},
    {"U64", 64, 8, "uint64", 9},
    {"C64", 64, 4, "complex64", -1},
    {"F8_E8M0", 8, 1, "float8_e8m0fnu", -1},
    {"F4", 4, 1, NULL, -1},
    {"F6_E2M3", 6, 1, NULL, -1},
    {"F6_E3M2", 6, 1, NULL, -1}
};

static int mcf__dtype_valid(mcf_dtype d) { return (int)d >= 0 && (int)d < (int)MCF_DTYPE_COUNT; }

MCFDEF size_t mcf_dtype_size(mcf_dtype d)
{
    if (!mcf__dtype_valid(d) || mcf__dtypes[d].bits % 8) return 0;
    return mcf__dtypes[d].bits / 8;
}

MCFDEF unsigned mcf_dtype_bits(mcf_dtype d) { return mcf__dtype_valid(d) ? mcf__dtypes[d].bits : 0; }

MCFDEF const char *mcf_dtype_name(mcf_dtype d) { return mcf__dtype_valid(d) ? mcf__dtypes[d].name : "?"; }

MCFDEF int mcf_dtype_parse(const char *name, mcf_dtype *out)
{
    int i;
    if (!name || !out) return mcf__fail(MCF_INVALID_PARAMS, "mcf_dtype_parse: NULL argument");
    for (i = 0; i < (int)MCF_DTYPE_COUNT; i++)
        if (strcmp(name, mcf__dtypes[i].name) == 0) { *out = (mcf_dtype)i; return MCF_OK; }
    return mcf__fail(MCF_INVALID_PARAMS, "unknown dtype \"%s\"", name);
}

MCFDEF const char *mcf_dtype_torch_name(mcf_dtype d) { return mcf__dtype_valid(d) ? mcf__dtypes[d].torch : NULL; }

MCFDEF int mcf_dtype_from_torch_name(const char *name, mcf_dtype *out)
{
    static const struct { const char *alias; mcf_dtype d; } aliases[] = {
        {"float", MCF_F32}, {"double", MCF_F64}, {"half", MCF_F16}, {"long", MCF_I64},
        {"int", MCF_I32}, {"short", MCF_I16}, {"cfloat", MCF_C64}
    };
    const char *n = name;
    int i;
    if (!name || !out) return mcf__fail(MCF_INVALID_PARAMS, "mcf_dtype_from_torch_name: NULL argument");
    if (strncmp(n, "torch.", 6) == 0) n += 6;
    for (i = 0; i < (int)MCF_DTYPE_COUNT; i++)
        if (mcf__dtypes[i].torch && strcmp(n, mcf__dtypes[i].torch) == 0) { *out = (mcf_dtype)i; return MCF_OK; }
    for (i = 0; i < (int)(sizeof aliases / sizeof aliases[0]); i++)
        if (strcmp(n, aliases[i].alias) == 0) { *out = aliases[i].d; return MCF_OK; }
    return mcf__fail(MCF_INVALID_PARAMS, "unknown torch dtype \"%s\"", name);
}

MCFDEF int mcf_dtype_to_mooncake(mcf_dtype d) { return mcf__dtype_valid(d) ? mcf__dtypes[d].mooncake : -1; }

MCFDEF int mcf_dtype_from_mooncake(int m, mcf_dtype *out)
{
    int i;
    if (!out) return mcf__fail(MCF_INVALID_PARAMS, "mcf_dtype_from_mooncake: NULL argument");
    for (i = 0; i < (int)MCF_DTYPE_COUNT; i++)
        if (m >= 0 && mcf__dtypes[i].mooncake == m) { *out = (mcf_dtype)i; return MCF_OK; }
    return mcf__fail(MCF_INVALID_PARAMS, "unknown Mooncake dtype number %d", m);
}

/* numel of an explicit shape; UINT64_MAX on overflow or negative dims. */
static uint64_t mcf__numel(int ndim, const int64_t *shape)
{
    uint64_t n = 1;
    int i;
    if (ndim < 0 || ndim > MCF_MAX_DIMS) return UINT64_MAX;
    for (i = 0; i < ndim; i++) if (shape[i] < 0) return UINT64_MAX;
    for (i = 0; i < ndim; i++) if (shape[i] == 0) return 0;
    for (i = 0; i < ndim; i++)
        if (!mcf__mul64(n, (uint64_t)shape[i], &n) || n == UINT64_MAX) return UINT64_MAX;
    return n;
}

/* Bytes of numel elements of d, ceil for sub-byte types; UINT64_MAX on overflow. */
MCF__SHARED uint64_t mcf__bytes_for(mcf_dtype d, uint64_t numel)
{
    uint64_t bits;
    if (!mcf__dtype_valid(d) || numel == UINT64_MAX) return UINT64_MAX;
    if (!mcf__mul64(numel, mcf__dtypes[d].bits, &bits)) return UINT64_MAX;
    return bits / 8 + (bits % 8 != 0);
}

MCFDEF uint64_t mcf_tensor_numel(const mcf_tensor *t) { return t ? mcf__numel(t->ndim, t->shape) : UINT64_MAX; }

MCFDEF uint64_t mcf_tensor_nbytes(const mcf_tensor *t)
{
    return t ? mcf__bytes_for(t->dtype, mcf__numel(t->ndim, t->shape)) : UINT64_MAX;
}

static int mcf__strides_contiguous(int ndim, const int64_t *shape, const int64_t *strides)
{
    int64_t expect = 1;
    int i;
    if (!strides) return 1;
    for (i = ndim - 1; i >= 0; i--) {
        /* a dimension of size 1 may carry any stride */
        if (shape[i] != 1 && strides[i] != expect) {
            if (shape[i] == 0) return 1;   /* empty: no element is addressed */
            return 0;
        }
        expect *= shape[i] ? shape[i] : 1;
    }
    return 1;
}

MCFDEF int mcf_tensor_is_contiguous(const mcf_tensor *t)
{
    return t && mcf__strides_contiguous(t->ndim, t->shape, t->strides);
}

/* Byte extent from element 0 to one past the furthest element addressed by
 * (shape, strides); UINT64_MAX on overflow or negative strides. */
MCF__SHARED uint64_t mcf__strided_span(int ndim, const int64_t *shape, const int64_t *strides, size_t esize)
{
    uint64_t last = 0, term, span;
    int i;
    for (i = 0; i < ndim; i++) {
        if (shape[i] < 0 || strides[i] < 0) return UINT64_MAX;
        if (shape[i] == 0) return 0;
    }
    for (i = 0; i < ndim; i++) {
        if (!mcf__mul64((uint64_t)(shape[i] - 1), (uint64_t)strides[i], &term) || !mcf__add64(last, term, &last))
            return UINT64_MAX;
    }
    if (!mcf__add64(last, 1, &last) || !mcf__mul64(last, esize, &span)) return UINT64_MAX;
    return span;
}

/* Copies elements [first, first+count) in row-major order of a strided view
 * rooted at base into dst. Shapes/strides were validated by the caller. */
static void mcf__gather(const unsigned char *base, size_t esize, int ndim, const int64_t *shape,
                        const int64_t *strides, uint64_t first, uint64_t count, unsigned char *dst)
{
    int64_t idx[MCF_MAX_DIMS];
    int64_t off = 0, inner, istride;
    int i;
    if (count == 0) return;
    if (ndim == 0) { memcpy(dst, base, esize); return; }
    for (i = ndim - 1; i >= 0; i--) {
        idx[i] = (int64_t)(first % (uint64_t)shape[i]);
        first /= (uint64_t)shape[i];
        off += idx[i] * strides[i];
    }
    inner = shape[ndim - 1];
    istride = strides[ndim - 1];
    while (count > 0) {
        uint64_t run = (uint64_t)(inner - idx[ndim - 1]);
        if (run > count) run = count;
        if (istride == 1) {
            memcpy(dst, base + (size_t)off * esize, (size_t)run * esize);
        } else {
            uint64_t k;
            for (k = 0; k < run; k++) memcpy(dst + (size_t)k * esize, base + (size_t)(off + (int64_t)k * istride) * esize, esize);
        }
        dst += (size_t)run * esize;
        count -= run;
        if (count == 0) break;
        /* advance the odometer past this run */
        off += ((int64_t)run - 1) * istride;
        idx[ndim - 1] += (int64_t)run - 1;
        for (i = ndim - 1; i >= 0; i--) {
            if (++idx[i] < shape[i]) { off += strides[i]; break; }
            off -= idx[i] > 0 ? (idx[i] - 1) * strides[i] : 0;
            idx[i] = 0;
        }
    }
}

/* Checks a caller tensor before writing it: dtype, rank, shape, strides, data. */
static int mcf__check_tensor(const mcf_tensor *t, const char *who)
{
    int i;
    const char *name = t->name ? t->name : "";
    if (!mcf__dtype_valid(t->dtype)) return mcf__fail(MCF_INVALID_PARAMS, "%s: tensor \"%s\" has an invalid dtype %d", who, name, (int)t->dtype);
    if (t->ndim < 0 || t->ndim > MCF_MAX_DIMS)
        return mcf__fail(MCF_INVALID_PARAMS, "%s: tensor \"%s\" has ndim %d (allowed 0..%d)", who, name, t->ndim, MCF_MAX_DIMS);
    for (i = 0; i < t->ndim; i++)
        if (t->shape[i] < 0) return mcf__fail(MCF_INVALID_PARAMS, "%s: tensor \"%s\" has negative dimension %d", who, name, i);
    if (mcf_tensor_nbytes(t) == UINT64_MAX)
        return mcf__fail(MCF_INVALID_PARAMS, "%s: tensor \"%s\" is too large (size overflows 64 bits)", who, name);
    if (t->strides) {
        for (i = 0; i < t->ndim; i++)
            if (t->strides[i] < 0) return mcf__fail(MCF_INVALID_PARAMS, "%s: tensor \"%s\" has a negative stride", who, name);
        if (!mcf__strides_contiguous(t->ndim, t->shape, t->strides)) {
            if (mcf__dtypes[t->dtype].bits % 8)
                return mcf__fail(MCF_SERIALIZE_UNSUPPORTED, "%s: tensor \"%s\": strided %s data cannot be copied (sub-byte dtype)", who, name, mcf__dtypes[t->dtype].name);
            if (mcf__strided_span(t->ndim, t->shape, t->strides, mcf_dtype_size(t->dtype)) == UINT64_MAX)
                return mcf__fail(MCF_INVALID_PARAMS, "%s: tensor \"%s\": strides overflow", who, name);
        }
    }
    if (!t->data && mcf_tensor_nbytes(t) > 0) return mcf__fail(MCF_INVALID_PARAMS, "%s: tensor \"%s\" has NULL data", who, name);
    return MCF_OK;
}

MCFDEF int mcf_tensor_copy_contiguous(const mcf_tensor *t, void *dst, size_t dst_len)
{
    uint64_t nbytes;
    int rc;
    if (!t || (!dst && dst_len)) return mcf__fail(MCF_INVALID_PARAMS, "mcf_tensor_copy_contiguous: NULL argument");
    if ((rc = mcf__check_tensor(t, "mcf_tensor_copy_contiguous")) != MCF_OK) return rc;
    nbytes = mcf_tensor_nbytes(t);
    if (nbytes > dst_len)
        return mcf__fail(MCF_BUFFER_OVERFLOW, "mcf_tensor_copy_contiguous: tensor \"%s\" needs %llu bytes, buffer has %llu",
                         t->name ? t->name : "", (unsigned long long)nbytes, (unsigned long long)dst_len);
    if (nbytes == 0) return MCF_OK;
    if (mcf_tensor_is_contiguous(t)) memcpy(dst, t->data, (size_t)nbytes);
    else mcf__gather((const unsigned char *)t->data, mcf_dtype_size(t->dtype), t->ndim, t->shape, t->strides,
                     0, mcf_tensor_numel(t), (unsigned char *)dst);
    return MCF_OK;
}

/* ===== [06] URL parser =================================================== */
/* fsspec's split: "scheme://rest", else a local path (a one-letter "scheme"
 * is a Windows drive). file: URLs are percent-decoded (RFC 8089) except %2F,
 * which stays inside its segment; memory paths are "/"-rooted like fsspec's
 * MemoryFileSystem; http keeps the path as written; s3 is bucket + key.
 * All strings of one mcf_url live in one allocation owned by `scheme`. */
typedef struct mcf__url_arena {
    char *p, *end;
} mcf__url_arena;

static char *mcf__url_put(mcf__url_arena *a, const char *s, size_t n)
{
    char *d = a->p;
    MCF_ASSERT((size_t)(a->end - a->p) > n);
    memcpy(d, s, n);
    d[n] = '\0';
    a->p += n + 1;
    return d;
}

static int mcf__hexval(char c)
{
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

/* Concatenates up to four strings (NULL ends the list early) into the arena. */
static char *mcf__url_cat(mcf__url_arena *a, const char *s1, const char *s2, const char *s3, const char *s4)
{
    const char *parts[4];
    char *d = a->p;
    int i;
    parts[0] = s1; parts[1] = s2; parts[2] = s3; parts[3] = s4;
    for (i = 0; i < 4 && parts[i]; i++) {
        size_t n = strlen(parts[i]);
        MCF_ASSERT((size_t)(a->end - a->p) > n);
        memcpy(a->p, parts[i], n);
        a->p += n;
    }
    *a->p++ = '\0';
    return d;
}

/* Percent-decodes s[0..n) into the arena; %2F stays encoded. */
static char *mcf__url_decode(mcf__url_arena *a, const char *s, size_t n, const char *url, int *rc)
{
    char *d = a->p, *start = a->p;
    size_t i;
    for (i = 0; i < n; i++) {
        if (s[i] == '%') {
            int hi = i + 2 < n ? mcf__hexval(s[i + 1]) : -1;
            int lo = i + 2 < n ? mcf__hexval(s[i + 2]) : -1;
            if (hi < 0 || lo < 0) {
                *rc = mcf__fail(MCF_INVALID_PARAMS, "URL \"%s\": bad percent-escape", url);
                return NULL;
            }
            if (hi == 0 && lo == 0) {
                *rc = mcf__fail(MCF_INVALID_PARAMS, "URL \"%s\": %%00 (NUL) is not allowed in a path", url);
                return NULL;
            }
            if (hi == 2 && (lo == 15)) { memcpy(d, s + i, 3); d += 3; }
            else *d++ = (char)(hi * 16 + lo);
            i += 2;
        } else {
            *d++ = s[i];
        }
    }
    *d = '\0';
    a->p = d + 1;
    return start;
}

/* Splits path at its last '/' or '\\' (seed fix 3: backslashes separate too). */
static void mcf__url_split_path(mcf__url_arena *a, mcf_url *u)
{
    const char *p = u->path, *sep = NULL, *q;
    for (q = p; *q; q++) if (*q == '/' || *q == '\\') sep = q;
    if (!sep) {
        u->dirname = mcf__url_put(a, "", 0);
        u->basename = mcf__url_put(a, p, strlen(p));
        return;
    }
    u->dirname = mcf__url_put(a, p, sep == p ? 1 : (size_t)(sep - p));
    u->basename = mcf__url_put(a, sep + 1, strlen(sep + 1));
}

static int mcf__is_scheme_char(char c, int first)
{
    if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')) return 1;
    return !first && ((c >= '0' && c <= '9') || c == '+' || c == '-' || c == '.');
}

/* http(s) authority: [user@] rejected, host or [v6], optional :port. */
static int mcf__url_authority(mcf__url_arena *a, const char *s, size_t n, const char *url, mcf_url *u)
{
    const char *host = s, *colon = NULL;
    size_t hn = n, i;
    if (memchr(s, '@', n))
        return mcf__fail(MCF_INVALID_PARAMS, "URL \"%s\": credentials in URLs are not accepted (use storage_options)", url);
    if (n > 0 && s[0] == '[') {
        const char *close = (const char *)memchr(s, ']', n);
        if (!close || close == s + 1) return mcf__fail(MCF_INVALID_PARAMS, "URL \"%s\": bad IPv6 host", url);
        host = s + 1;
        hn = (size_t)(close - s - 1);
        for (i = 0; i < hn; i++)
            if (!(mcf__hexval(host[i]) >= 0 || host[i] == ':' || host[i] == '.'))
                return mcf__fail(MCF_INVALID_PARAMS, "URL \"%s\": bad IPv6 host", url);
        if (close + 1 < s + n) {
            if (close[1] != ':') return mcf__fail(MCF_INVALID_PARAMS, "URL \"%s\": unexpected text after IPv6 host", url);
            colon = close + 1;
        }
    } else {
        colon = (const char *)memchr(s, ':', n);
        if (colon) hn = (size_t)(colon - s);
        for (i = 0; i < hn; i++) {
            char c = s[i];
            if (!(mcf__is_scheme_char(c, 0) || c == '_' || c == '~' || c == '%'))
                return mcf__fail(MCF_INVALID_PARAMS, "URL \"%s\": bad character in host", url);
        }
    }
    if (hn == 0) return mcf__fail(MCF_INVALID_PARAMS, "URL \"%s\": missing host", url);
    u->port = 0;
    if (colon) {
        const char *pe = s + n, *pp = colon + 1;
        long port = 0;
        if (pp == pe) return mcf__fail(MCF_INVALID_PARAMS, "URL \"%s\": empty port", url);
        for (; pp < pe; pp++) {
            if (*pp < '0' || *pp > '9' || port > 65535) return mcf__fail(MCF_INVALID_PARAMS, "URL \"%s\": bad port", url);
            port = port * 10 + (*pp - '0');
        }
        if (port < 1 || port > 65535) return mcf__fail(MCF_INVALID_PARAMS, "URL \"%s\": port out of range", url);
        u->port = (int)port;
    }
    u->host = mcf__url_put(a, host, hn);
    for (i = 0; i < hn; i++) u->host[i] = mcf__lower(u->host[i]);
    return MCF_OK;
}

static int mcf__local_fs_name(const char *n)
{
    return mcf__name_is(n, "file") || mcf__name_is(n, "local") || mcf__name_is(n, "localfs") || mcf__name_is(n, "posix");
}

MCFDEF int mcf_url_parse(const char *url, const char *filesystem, mcf_url *out)
{
    mcf__url_arena a;
    mcf_url u;
    const char *in = url, *sep, *rest;
    char *block, *joined = NULL;
    size_t len, slen = 0, i;
    int rc = MCF_OK;

    if (!url || !out) return mcf__fail(MCF_INVALID_PARAMS, "mcf_url_parse: NULL argument");
    if (!*url) return mcf__fail(MCF_INVALID_PARAMS, "empty URL");
    sep = strstr(url, "://");
    /* seed rule: an explicit filesystem N turns "path" into "N://path" */
    if (filesystem && *filesystem && !mcf__name_is(filesystem, "auto") && !mcf__local_fs_name(filesystem) && !sep) {
        size_t fl = strlen(filesystem), ul = strlen(url);
        for (i = 0; i < fl; i++)
            if (!mcf__is_scheme_char(filesystem[i], i == 0))
                return mcf__fail(MCF_INVALID_PARAMS, "filesystem \"%s\" is not a valid scheme name", filesystem);
        joined = (char *)mcf__malloc(fl + ul + 4);
        if (!joined) return mcf__fail(MCF_INTERNAL_ERROR, "out of memory parsing URL \"%s\"", url);
        memcpy(joined, filesystem, fl);
        memcpy(joined + fl, "://", 3);
        memcpy(joined + fl + 3, url, ul + 1);
        in = joined;
        sep = joined + fl;
    }
    len = strlen(in);
    memset(&u, 0, sizeof u);
    block = (char *)mcf__malloc(8 * (len + 40));
    if (!block) { MCF_FREE(joined); return mcf__fail(MCF_INTERNAL_ERROR, "out of memory parsing URL \"%s\"", url); }
    a.p = block;
    a.end = block + 8 * (len + 40);

    if (sep) {
        slen = (size_t)(sep - in);
        for (i = 0; i < slen; i++)
            if (!mcf__is_scheme_char(in[i], i == 0)) break;
        if (slen == 0 || i < slen) { rc = mcf__fail(MCF_INVALID_PARAMS, "URL \"%s\": malformed scheme", url); goto done; }
        if (slen == 1) sep = NULL;   /* "C://dir" is a Windows drive, not a scheme */
    }
    if (!sep) {
        /* a plain local path, kept exactly as given */
        u.scheme = mcf__url_put(&a, "file", 4);
        u.host = mcf__url_put(&a, "", 0);
        u.path = mcf__url_put(&a, in, len);
        u.query = mcf__url_put(&a, "", 0);
        u.url = mcf__url_put(&a, in, len);
        mcf__url_split_path(&a, &u);
        goto done;
    }
    u.scheme = mcf__url_put(&a, in, slen);
    for (i = 0; i < slen; i++) u.scheme[i] = mcf__lower(u.scheme[i]);
    rest = sep + 3;
    u.query = NULL;
    if (strcmp(u.scheme, "file") == 0) {
        const char *p = rest;
        if (*p != '/') {
            const char *slash = strchr(p, '/');
            size_t hl = slash ? (size_t)(slash - p) : strlen(p);
            if (!(hl == 9 && mcf__name_is(mcf__url_put(&a, p, hl), "localhost"))) {
                rc = mcf__fail(MCF_INVALID_PARAMS, "URL \"%s\": file URLs must name a local path (host \"%.*s\" not supported)", url, (int)hl, p);
                goto done;
            }
            p += hl;
        }
        if (!*p) { rc = mcf__fail(MCF_INVALID_PARAMS, "URL \"%s\": empty path", url); goto done; }
#ifdef _WIN32
        if (p[0] == '/' && ((p[1] >= 'A' && p[1] <= 'Z') || (p[1] >= 'a' && p[1] <= 'z')) && p[2] == ':') p++;
#endif
        u.host = mcf__url_put(&a, "", 0);
        u.path = mcf__url_decode(&a, p, strlen(p), url, &rc);
        if (!u.path) goto done;
        u.query = mcf__url_put(&a, "", 0);
        u.url = mcf__url_cat(&a, "file://", u.path, NULL, NULL);
    } else if (strcmp(u.scheme, "memory") == 0) {
        const char *p = rest;
        size_t n;
        while (*p == '/') p++;
        n = strlen(p);
        while (n > 0 && p[n - 1] == '/') n--;
        if (n == 0) { rc = mcf__fail(MCF_INVALID_PARAMS, "URL \"%s\": empty memory path", url); goto done; }
        u.host = mcf__url_put(&a, "", 0);
        u.path = a.p;
        u.path[0] = '/';
        memcpy(u.path + 1, p, n);
        u.path[n + 1] = '\0';
        a.p += n + 2;
        u.query = mcf__url_put(&a, "", 0);
        u.url = mcf__url_cat(&a, "memory://", u.path, NULL, NULL);
    } else if (strcmp(u.scheme, "http") == 0 || strcmp(u.scheme, "https") == 0) {
        size_t an = strcspn(rest, "/?#"), pn;
        const char *p = rest + an, *q;
        if ((rc = mcf__url_authority(&a, rest, an, url, &u)) != MCF_OK) goto done;
        pn = strcspn(p, "?#");
        u.path = pn ? mcf__url_put(&a, p, pn) : mcf__url_put(&a, "/", 1);
        q = p + pn;
        if (*q == '?') { size_t qn = strcspn(q + 1, "#"); u.query = mcf__url_put(&a, q + 1, qn); }
        else u.query = mcf__url_put(&a, "", 0);
        for (i = 0; u.path[i]; i++)
            if ((unsigned char)u.path[i] <= ' ') { rc = mcf__fail(MCF_INVALID_PARAMS, "URL \"%s\": spaces or control characters in path (percent-encode them)", url); goto done; }
        {
            int v6 = strchr(u.host, ':') != NULL;
            char port[16] = "";
            if (u.port) (void)snprintf(port, sizeof port, ":%d", u.port);
            u.url = mcf__url_cat(&a, u.scheme, v6 ? "://[" : "://", u.host, v6 ? "]" : "");
            a.p--;   /* continue the same string */
            (void)mcf__url_cat(&a, port, u.path, *u.query ? "?" : "", u.query);
        }
    } else if (strcmp(u.scheme, "s3") == 0 || strcmp(u.scheme, "s3a") == 0) {
        const char *slash = strchr(rest, '/');
        size_t bn = slash ? (size_t)(slash - rest) : strlen(rest);
        if (bn == 0) { rc = mcf__fail(MCF_INVALID_PARAMS, "URL \"%s\": missing bucket", url); goto done; }
        if (!slash || !slash[1]) { rc = mcf__fail(MCF_INVALID_PARAMS, "URL \"%s\": missing object key after the bucket", url); goto done; }
        u.host = mcf__url_put(&a, rest, bn);
        u.port = 0;
        u.path = mcf__url_put(&a, slash + 1, strlen(slash + 1));
        u.query = mcf__url_put(&a, "", 0);
        u.url = mcf__url_cat(&a, "s3://", u.host, "/", u.path);
    } else {
        /* a user-registered scheme: everything after "://" is the path */
        if (!*rest) { rc = mcf__fail(MCF_INVALID_PARAMS, "URL \"%s\": empty path", url); goto done; }
        u.host = mcf__url_put(&a, "", 0);
        u.path = mcf__url_put(&a, rest, strlen(rest));
        u.query = mcf__url_put(&a, "", 0);
        u.url = mcf__url_cat(&a, u.scheme, "://", u.path, NULL);
    }
    mcf__url_split_path(&a, &u);
done:
    MCF_FREE(joined);
    if (rc != MCF_OK) { MCF_FREE(block); return rc; }
    MCF_ASSERT(u.scheme == block);
    *out = u;
    return MCF_OK;
}

MCFDEF void mcf_url_free(mcf_url *u)
{
    if (!u) return;
    MCF_FREE(u->scheme);
    memset(u, 0, sizeof *u);
}

/* ===== [07] fs registry ================================================== */
/* Scheme -> backend table (user registrations first, then the built-ins),
 * plus the two objects every format section works through: a source
 * (positional reads, maybe mapped) and a sink (sequential writes, size known
 * up front, committed atomically by the dispatcher). */
#ifndef MCF__MAX_FILESYSTEMS
#define MCF__MAX_FILESYSTEMS 32
#endif
static mcf__mutex mcf__registry_lock = MCF__MUTEX_INIT;
static mcf_filesystem mcf__registry[MCF__MAX_FILESYSTEMS];
static int mcf__registry_count;

static int mcf__builtin_filesystem(const char *scheme, mcf_filesystem *out);

MCFDEF int mcf_register_filesystem(const mcf_filesystem *fs)
{
    int i, rc = MCF_OK;
    if (!fs || !fs->scheme || !*fs->scheme)
        return mcf__fail(MCF_INVALID_PARAMS, "mcf_register_filesystem: missing scheme");
    for (i = 0; fs->scheme[i]; i++)
        if (!mcf__is_scheme_char(fs->scheme[i], i == 0) || (fs->scheme[i] >= 'A' && fs->scheme[i] <= 'Z'))
            return mcf__fail(MCF_INVALID_PARAMS, "mcf_register_filesystem: scheme \"%s\" must be lower-case letters, digits, '+', '-', '.'", fs->scheme);
    if (!fs->open_read || !fs->read_at || !fs->close_read || !fs->stat)
        return mcf__fail(MCF_INVALID_PARAMS, "mcf_register_filesystem: \"%s\" needs stat, open_read, read_at and close_read", fs->scheme);
    mcf__lock(&mcf__registry_lock);
    for (i = 0; i < mcf__registry_count; i++)
        if (strcmp(mcf__registry[i].scheme, fs->scheme) == 0) break;
    if (i == MCF__MAX_FILESYSTEMS) rc = mcf__fail(MCF_INVALID_PARAMS, "mcf_register_filesystem: registry full (%d schemes)", MCF__MAX_FILESYSTEMS);
    else {
        mcf__registry[i] = *fs;
        if (i == mcf__registry_count) mcf__registry_count++;
    }
    mcf__unlock(&mcf__registry_lock);
    return rc;
}

/* Finds the backend for u->scheme; INVALID_PARAMS naming the known schemes. */
static int mcf__fs_lookup(const mcf_url *u, mcf_filesystem *out)
{
    char known[512];
    size_t k = 0;
    int i, found = 0;
    mcf__lock(&mcf__registry_lock);
    for (i = 0; i < mcf__registry_count && !found; i++)
        if (strcmp(mcf__registry[i].scheme, u->scheme) == 0) { *out = mcf__registry[i]; found = 1; }
    if (!found) {
        k = (size_t)snprintf(known, sizeof known, "file, memory");
#ifdef MOONCAKE_FILEIO_CURL
        k += (size_t)snprintf(known + k, sizeof known - k, ", http, https, s3");
#endif
        for (i = 0; i < mcf__registry_count && k < sizeof known; i++)
            k += (size_t)snprintf(known + k, sizeof known - k, ", %s", mcf__registry[i].scheme);
    }
    mcf__unlock(&mcf__registry_lock);
    if (found || mcf__builtin_filesystem(u->scheme, out)) return MCF_OK;
#ifndef MOONCAKE_FILEIO_CURL
    if (strcmp(u->scheme, "http") == 0 || strcmp(u->scheme, "https") == 0 || strcmp(u->scheme, "s3") == 0 || strcmp(u->scheme, "s3a") == 0)
        return mcf__fail(MCF_INVALID_PARAMS, "\"%s\": %s:// needs libcurl: define MOONCAKE_FILEIO_CURL in the implementation file and link with -lcurl",
                         u->url, u->scheme);
#endif
    return mcf__fail(MCF_INVALID_PARAMS, "\"%s\": unknown filesystem \"%s\" (registered: %s)", u->url, u->scheme, known);
}

MCFDEF int mcf_filesystem_lookup(const char *scheme, mcf_filesystem *out)
{
    mcf_url u;
    if (!scheme || !out) return mcf__fail(MCF_INVALID_PARAMS, "mcf_filesystem_lookup: NULL argument");
    memset(&u, 0, sizeof u);
    u.scheme = (char *)scheme;
    u.url = (char *)scheme;
    return mcf__fs_lookup(&u, out);
}

/* Parses url with o->filesystem and finds its backend. */
static int mcf__resolve(const char *url, const mcf_options *o, mcf_url *u, mcf_filesystem *fs)
{
    int rc;
    if (!url) return mcf__fail(MCF_INVALID_PARAMS, "NULL URL");
    if ((rc = mcf_url_parse(url, o ? o->filesystem : NULL, u)) != MCF_OK) return rc;
    if ((rc = mcf__fs_lookup(u, fs)) != MCF_OK) { mcf_url_free(u); return rc; }
    return MCF_OK;
}

/* A readable object: an open backend file, or a caller buffer (fs.read_at NULL). */
typedef struct mcf__source {
    mcf_filesystem fs;
    void *file;
    uint64_t size;
    const unsigned char *base;      /* whole object in memory, or NULL */
    const char *name;               /* URL for messages (owned elsewhere) */
} mcf__source;

static int mcf__source_read(mcf__source *s, uint64_t off, void *dst, size_t n)
{
    uint64_t end;
    if (!mcf__add64(off, n, &end) || end > s->size)
        return mcf__fail(MCF_DESERIALIZE_FAIL, "%s: read of %llu bytes at offset %llu passes the end of the file (%llu bytes)",
                         s->name, (unsigned long long)n, (unsigned long long)off, (unsigned long long)s->size);
    if (n == 0) return MCF_OK;
    if (s->base) { memcpy(dst, s->base + off, n); return MCF_OK; }
    return s->fs.read_at(s->file, off, dst, n);
}

static void mcf__source_close(mcf__source *s)
{
    if (s->file && s->fs.close_read) s->fs.close_read(s->file);
    s->file = NULL;
    s->base = NULL;
}

/* A destination: a backend write stream or one exact-size memory buffer. */
typedef struct mcf__sink {
    mcf_filesystem fs;              /* fs.write NULL = memory sink */
    const mcf_url *url;
    const mcf_options *o;
    void *file;
    unsigned char *mem;
    uint64_t total, done;
    const char *name;
    int begun;
} mcf__sink;

static int mcf__sink_begin(mcf__sink *s, uint64_t total)
{
    int rc;
    MCF_ASSERT(!s->begun);
    s->total = total;
    s->done = 0;
    if (!s->fs.write) {
        if (!mcf__fits_size(total)) return mcf__fail(MCF_NOT_SUPPORTED, "%s: %llu bytes do not fit in memory on this host", s->name, (unsigned long long)total);
        if (total > mcf__ram_bytes())
            return mcf__fail(MCF_INTERNAL_ERROR, "%s: out of memory: %llu bytes exceed this machine's RAM (%llu bytes)", s->name,
                             (unsigned long long)total, (unsigned long long)mcf__ram_bytes());
        s->mem = (unsigned char *)mcf__malloc((size_t)total);
        if (!s->mem) return mcf__fail(MCF_INTERNAL_ERROR, "%s: out of memory for %llu bytes", s->name, (unsigned long long)total);
    } else {
        if (!s->fs.open_write) return mcf__fail(MCF_NOT_SUPPORTED, "%s: the %s filesystem is read-only", s->name, s->url->scheme);
        if ((rc = s->fs.open_write(s->fs.user, s->url, total, s->o, &s->file)) != MCF_OK) return rc;
    }
    s->begun = 1;
    return MCF_OK;
}

static int mcf__sink_write(mcf__sink *s, const void *p, size_t n)
{
    int rc;
    MCF_ASSERT(s->begun);
    if (n == 0) return MCF_OK;
    if (n > s->total - s->done)
        return mcf__fail(MCF_INTERNAL_ERROR, "%s: writer produced more bytes than it planned (%llu)", s->name, (unsigned long long)s->total);
    if (s->mem) memcpy(s->mem + s->done, p, n);
    else if ((rc = s->fs.write(s->file, p, n)) != MCF_OK) return rc;
    s->done += n;
    if (s->o && s->o->progress && s->o->progress(s->o->progress_user, s->done, s->total) != 0)
        return mcf__fail(MCF_PERSISTENT_FAIL, "%s: cancelled by the progress callback after %llu of %llu bytes; nothing was written",
                         s->name, (unsigned long long)s->done, (unsigned long long)s->total);
    return MCF_OK;
}

MCF__SHARED int mcf__sink_zeros(mcf__sink *s, size_t n)
{
    static const unsigned char zeros[64] = {0};
    int rc = MCF_OK;
    while (n > 0 && rc == MCF_OK) {
        size_t k = n < sizeof zeros ? n : sizeof zeros;
        rc = mcf__sink_write(s, zeros, k);
        n -= k;
    }
    return rc;
}

/* Chunk size for gathering strided or byte-swapped tensors: bounded memory. */
#ifndef MCF__CHUNK
#define MCF__CHUNK ((size_t)4 << 20)
#endif

/* Writes a checked tensor's elements as contiguous little-endian bytes. If
 * crc is not NULL the CRC-32 is updated chunk by chunk while the chunk is
 * still in cache (fused, not a second pass over the tensor). */
MCF__SHARED int mcf__sink_tensor(mcf__sink *s, const mcf_tensor *t, uint32_t *crc)
{
    uint64_t nbytes = mcf_tensor_nbytes(t), numel, first;
    size_t esize = mcf_dtype_size(t->dtype), chunk_elems;
    unsigned char *tmp;
    int rc = MCF_OK;
    int direct = mcf_tensor_is_contiguous(t) && (!MCF__BIG_ENDIAN || mcf__dtypes[t->dtype].swap < 2);
    if (nbytes == 0) return MCF_OK;
    if (direct) {
        const unsigned char *p = (const unsigned char *)t->data;
        while (nbytes > 0 && rc == MCF_OK) {
            size_t k = nbytes < (uint64_t)MCF__CHUNK ? (size_t)nbytes : MCF__CHUNK;
            if (crc) *crc = mcf_crc32(*crc, p, k);
            rc = mcf__sink_write(s, p, k);
            p += k;
            nbytes -= k;
        }
        return rc;
    }
    if (esize == 0) esize = 1;   /* sub-byte dtypes are contiguous here */
    chunk_elems = MCF__CHUNK / esize;
    tmp = (unsigned char *)mcf__malloc(chunk_elems * esize);
    if (!tmp) return mcf__fail(MCF_INTERNAL_ERROR, "%s: out of memory", s->name);
    numel = mcf_tensor_numel(t);
    for (first = 0; first < numel && rc == MCF_OK; first += chunk_elems) {
        uint64_t cnt = numel - first < (uint64_t)chunk_elems ? numel - first : (uint64_t)chunk_elems;
        size_t bytes = (size_t)cnt * esize;
        if (t->strides && !mcf_tensor_is_contiguous(t))
            mcf__gather((const unsigned char *)t->data, esize, t->ndim, t->shape, t->strides, first, cnt, tmp);
        else
            memcpy(tmp, (const unsigned char *)t->data + (size_t)first * esize, bytes);
        if (MCF__BIG_ENDIAN) mcf__swap_units(tmp, bytes, mcf__dtypes[t->dtype].swap);
        if (crc) *crc = mcf_crc32(*crc, tmp, bytes);
        rc = mcf__sink_write(s, tmp, bytes);
    }
    MCF_FREE(tmp);
    return rc;
}

/* One tensor entry of an open file, filled by a format section. */
typedef struct mcf__entry {
    char *name;
    mcf_dtype dtype;
    int ndim;
    int64_t shape[MCF_MAX_DIMS];
    int64_t strides[MCF_MAX_DIMS];  /* elements; meaningful when !contiguous */
    int contiguous;
    uint64_t offset;                /* byte offset of element 0 in the source */
    uint64_t nbytes;                /* contiguous size */
    uint64_t span;                  /* bytes from offset touched by the view */
    long aux;                       /* format-private (torch: zip entry), else -1 */
} mcf__entry;

struct mcf_reader {
    mcf__source src;
    char *name;                     /* URL, or "<memory>" */
    const char *format;             /* "safetensors" | "torch" */
    mcf__entry *entries;
    size_t count;
    char **meta;                    /* key0, value0, key1, ... */
    size_t meta_count;
    unsigned flags;
    void **views;                   /* per-entry copies made by mcf_view */
    unsigned char *verified;        /* per-entry: CRC already checked */
    size_t *index;                  /* open-addressing name index, index_cap slots */
    size_t index_cap;
    void *priv;                     /* format-private state */
    void (*priv_free)(void *priv);
    int (*verify)(mcf_reader *r, size_t i);   /* MCF_VERIFY hook, or NULL */
};

/* ===== [08] fs: memory =================================================== */
/* Process-wide named blobs, like fsspec's MemoryFileSystem. A blob is
 * immutable once committed and reference-counted, so readers keep a stable
 * view while another thread overwrites or removes the name. */
typedef struct mcf__mem_blob {
    size_t refs;
    size_t size;
    unsigned char *data;
} mcf__mem_blob;

typedef struct mcf__mem_node {
    char *path;
    mcf__mem_blob *blob;
    struct mcf__mem_node *next;
} mcf__mem_node;

#define MCF__MEM_BUCKETS 256
static mcf__mutex mcf__mem_lock = MCF__MUTEX_INIT;
static mcf__mem_node *mcf__mem_table[MCF__MEM_BUCKETS];

static size_t mcf__hash(const char *s)
{
    uint64_t h = 1469598103934665603ull;   /* FNV-1a */
    while (*s) { h ^= (unsigned char)*s++; h *= 1099511628211ull; }
    return (size_t)(h ^ (h >> 32));
}

static mcf__mem_node **mcf__mem_slot(const char *path)
{
    mcf__mem_node **pp = &mcf__mem_table[mcf__hash(path) % MCF__MEM_BUCKETS];
    while (*pp && strcmp((*pp)->path, path) != 0) pp = &(*pp)->next;
    return pp;
}

static void mcf__mem_unref_locked(mcf__mem_blob *b)
{
    if (b && --b->refs == 0) { MCF_FREE(b->data); MCF_FREE(b); }
}

static int mcf__mem_stat(void *user, const mcf_url *u, const mcf_options *o, uint64_t *size)
{
    mcf__mem_node *n;
    (void)user; (void)o;
    mcf__lock(&mcf__mem_lock);
    n = *mcf__mem_slot(u->path);
    if (n) *size = n->blob->size;
    mcf__unlock(&mcf__mem_lock);
    return n ? MCF_OK : mcf__fail(MCF_FILE_NOT_FOUND, "%s: no such object in the memory filesystem", u->url);
}

static int mcf__mem_open_read(void *user, const mcf_url *u, const mcf_options *o, void **file, uint64_t *size)
{
    mcf__mem_node *n;
    (void)user; (void)o;
    mcf__lock(&mcf__mem_lock);
    n = *mcf__mem_slot(u->path);
    if (n) { n->blob->refs++; *file = n->blob; *size = n->blob->size; }
    mcf__unlock(&mcf__mem_lock);
    return n ? MCF_OK : mcf__fail(MCF_FILE_NOT_FOUND, "%s: no such object in the memory filesystem", u->url);
}

static int mcf__mem_read_at(void *file, uint64_t off, void *dst, size_t n)
{
    mcf__mem_blob *b = (mcf__mem_blob *)file;
    if (off > b->size || n > b->size - off) return mcf__fail(MCF_FILE_READ_FAIL, "memory filesystem: read past the end of an object");
    memcpy(dst, b->data + off, n);
    return MCF_OK;
}

static const void *mcf__mem_map(void *file) { return ((mcf__mem_blob *)file)->data; }

static void mcf__mem_close_read(void *file)
{
    mcf__lock(&mcf__mem_lock);
    mcf__mem_unref_locked((mcf__mem_blob *)file);
    mcf__unlock(&mcf__mem_lock);
}

typedef struct mcf__mem_writer {
    mcf__buf buf;
    char *path;
    char *url;
    unsigned flags;
} mcf__mem_writer;

static int mcf__mem_open_write(void *user, const mcf_url *u, uint64_t size, const mcf_options *o, void **file)
{
    mcf__mem_writer *w;
    (void)user;
    if (o && (o->flags & MCF_NO_OVERWRITE)) {
        int exists;
        mcf__lock(&mcf__mem_lock);
        exists = *mcf__mem_slot(u->path) != NULL;
        mcf__unlock(&mcf__mem_lock);
        if (exists) return mcf__fail(MCF_FILE_OPEN_FAIL, "%s: already exists (MCF_NO_OVERWRITE)", u->url);
    }
    w = (mcf__mem_writer *)mcf__calloc(1, sizeof *w);
    if (!w) return mcf__fail(MCF_INTERNAL_ERROR, "%s: out of memory", u->url);
    w->path = mcf__strdup(u->path);
    w->url = mcf__strdup(u->url);
    w->flags = o ? o->flags : 0;
    if (size != UINT64_MAX && mcf__fits_size(size)) (void)mcf__buf_reserve(&w->buf, (size_t)size);
    if (!w->path || !w->url || w->buf.failed) {
        MCF_FREE(w->path); MCF_FREE(w->url); mcf__buf_free(&w->buf); MCF_FREE(w);
        return mcf__fail(MCF_INTERNAL_ERROR, "%s: out of memory for %llu bytes", u->url, (unsigned long long)size);
    }
    *file = w;
    return MCF_OK;
}

static int mcf__mem_write(void *file, const void *src, size_t n)
{
    mcf__mem_writer *w = (mcf__mem_writer *)file;
    mcf__buf_put(&w->buf, src, n);
    return w->buf.failed ? mcf__fail(MCF_FILE_WRITE_FAIL, "%s: out of memory while writing", w->url) : MCF_OK;
}

static void mcf__mem_abort(void *file)
{
    mcf__mem_writer *w = (mcf__mem_writer *)file;
    mcf__buf_free(&w->buf);
    MCF_FREE(w->path);
    MCF_FREE(w->url);
    MCF_FREE(w);
}

static int mcf__mem_commit(void *file)
{
    mcf__mem_writer *w = (mcf__mem_writer *)file;
    mcf__mem_blob *b = (mcf__mem_blob *)mcf__calloc(1, sizeof *b);
    mcf__mem_node **slot, *n = NULL;
    int rc = MCF_OK;
    if (!b) { mcf__mem_abort(w); return mcf__fail(MCF_INTERNAL_ERROR, "memory filesystem: out of memory"); }
    b->refs = 1;
    b->size = w->buf.len;
    b->data = w->buf.data ? w->buf.data : (unsigned char *)mcf__malloc(1);
    w->buf.data = NULL;
    mcf__lock(&mcf__mem_lock);
    slot = mcf__mem_slot(w->path);
    if (*slot && (w->flags & MCF_NO_OVERWRITE)) {
        rc = mcf__fail(MCF_FILE_OPEN_FAIL, "%s: already exists (MCF_NO_OVERWRITE)", w->url);
    } else if (*slot) {
        mcf__mem_unref_locked((*slot)->blob);
        (*slot)->blob = b;
        b = NULL;
    } else if ((n = (mcf__mem_node *)mcf__calloc(1, sizeof *n)) != NULL) {
        n->path = w->path;
        w->path = NULL;
        n->blob = b;
        b = NULL;
        *slot = n;
    } else {
        rc = mcf__fail(MCF_INTERNAL_ERROR, "memory filesystem: out of memory");
    }
    if (b) mcf__mem_unref_locked(b);
    mcf__unlock(&mcf__mem_lock);
    mcf__mem_abort(w);
    return rc;
}

static int mcf__mem_remove(void *user, const mcf_url *u, const mcf_options *o)
{
    mcf__mem_node **slot, *n;
    (void)user; (void)o;
    mcf__lock(&mcf__mem_lock);
    slot = mcf__mem_slot(u->path);
    n = *slot;
    if (n) { *slot = n->next; mcf__mem_unref_locked(n->blob); }
    mcf__unlock(&mcf__mem_lock);
    if (!n) return mcf__fail(MCF_FILE_NOT_FOUND, "%s: no such object in the memory filesystem", u->url);
    MCF_FREE(n->path);
    MCF_FREE(n);
    return MCF_OK;
}

static const mcf_filesystem mcf__memory_fs = {
    "memory", NULL, mcf__mem_stat, mcf__mem_open_read, mcf__mem_read_at, mcf__mem_map, mcf__mem_close_read,
    mcf__mem_open_write, mcf__mem_write, mcf__mem_commit, mcf__mem_abort, mcf__mem_remove
};

/* ===== [09] fs: posix ==================================================== */
/* Local files: open/pread/mmap to read; to write, a temp file in the target's
 * directory (created like makedirs(exist_ok=True)) that commit renames over
 * the target, so readers never see a half-written file and a failed save
 * leaves the old file intact. MCF_DURABLE: fsync file, rename, fsync dir.
 * On POSIX only '/' separates directories ('\\' is a file-name byte). */
#ifndef MCF_NO_POSIX
#include <dirent.h>
#include <sys/file.h>
#ifndef MCF_STALE_TEMP_SECONDS
#define MCF_STALE_TEMP_SECONDS 900  /* where flock() is unavailable: a temp untouched this long is a killed save's */
#endif
typedef struct mcf__posix_reader {
    int fd;
    uint64_t size;
    void *map;
    char *name;
} mcf__posix_reader;

static int mcf__posix_err(int e, int fallback, const char *what, const char *path)
{
    return mcf__fail(mcf__errno_code(e, fallback), "file: cannot %s \"%s\": %s", what, path, mcf__errno_text(e));
}

static int mcf__posix_stat(void *user, const mcf_url *u, const mcf_options *o, uint64_t *size)
{
    struct stat st;
    (void)user; (void)o;
    if (stat(u->path, &st) != 0) return mcf__posix_err(errno, MCF_FILE_OPEN_FAIL, "stat", u->path);
    if (S_ISDIR(st.st_mode)) return mcf__fail(MCF_FILE_OPEN_FAIL, "file: \"%s\" is a directory", u->path);
    *size = (uint64_t)st.st_size;
    return MCF_OK;
}

static int mcf__posix_open_read(void *user, const mcf_url *u, const mcf_options *o, void **file, uint64_t *size)
{
    mcf__posix_reader *r;
    struct stat st;
    int fd, e;
    (void)user;
    /* O_NONBLOCK: opening a FIFO must not wait for a writer (it is refused below) */
    do fd = open(u->path, O_RDONLY | O_CLOEXEC | O_NONBLOCK); while (fd < 0 && errno == EINTR);
    if (fd < 0) return mcf__posix_err(errno, MCF_FILE_OPEN_FAIL, "open", u->path);
    if (fstat(fd, &st) != 0) { e = errno; close(fd); return mcf__posix_err(e, MCF_FILE_OPEN_FAIL, "stat", u->path); }
    if (S_ISDIR(st.st_mode)) { close(fd); return mcf__fail(MCF_FILE_OPEN_FAIL, "file: \"%s\" is a directory", u->path); }
    if (!S_ISREG(st.st_mode)) { close(fd); return mcf__fail(MCF_FILE_OPEN_FAIL, "file: \"%s\" is not a regular file (FIFO, socket or device: its size is unknown)", u->path); }
    r = (mcf__posix_reader *)mcf__calloc(1, sizeof *r);
    if (!r || !(r->name = mcf__strdup(u->path))) { MCF_FREE(r); close(fd); return mcf__fail(MCF_INTERNAL_ERROR, "file: out of memory opening \"%s\"", u->path); }
    r->fd = fd;
    r->size = (uint64_t)st.st_size;
    /* mapping is O(1) whatever the size; on failure we fall back to pread */
    if (!(o && (o->flags & MCF_NO_MMAP)) && S_ISREG(st.st_mode) && r->size > 0 && mcf__fits_size(r->size)) {
        void *m = mmap(NULL, (size_t)r->size, PROT_READ, MAP_SHARED, fd, 0);
        if (m != MAP_FAILED) r->map = m;
    }
    *file = r;
    *size = r->size;
    return MCF_OK;
}

static int mcf__posix_read_at(void *file, uint64_t off, void *dst, size_t n)
{
    mcf__posix_reader *r = (mcf__posix_reader *)file;
    unsigned char *d = (unsigned char *)dst;
    while (n > 0) {
        size_t want = n > ((size_t)1 << 30) ? ((size_t)1 << 30) : n;
        ssize_t got = pread(r->fd, d, want, (off_t)off);
        if (got < 0) {
            if (errno == EINTR) continue;
            return mcf__posix_err(errno, MCF_FILE_READ_FAIL, "read", r->name);
        }
        if (got == 0) return mcf__fail(MCF_FILE_READ_FAIL, "file: \"%s\": unexpected end of file at offset %llu (file shrank?)", r->name, (unsigned long long)off);
        d += got; off += (uint64_t)got; n -= (size_t)got;
    }
    return MCF_OK;
}

static const void *mcf__posix_map(void *file) { return ((mcf__posix_reader *)file)->map; }

static void mcf__posix_close_read(void *file)
{
    mcf__posix_reader *r = (mcf__posix_reader *)file;
    if (r->map) (void)munmap(r->map, (size_t)r->size);
    (void)close(r->fd);
    MCF_FREE(r->name);
    MCF_FREE(r);
}

/* mkdir -p of dir (a copy is modified in place). */
static int mcf__posix_makedirs(const char *dir)
{
    char *d = mcf__strdup(dir), *p;
    struct stat st;
    int rc = MCF_OK;
    if (!d) return mcf__fail(MCF_INTERNAL_ERROR, "file: out of memory");
    for (p = d + 1; rc == MCF_OK; p++) {
        char c = *p;
        if (c != '/' && c != '\0') continue;
        *p = '\0';
        if (mkdir(d, 0777) != 0) {
            int e = errno;
            if (e == EEXIST) {
                if (stat(d, &st) != 0 || !S_ISDIR(st.st_mode))
                    rc = mcf__fail(MCF_FILE_OPEN_FAIL, "file: cannot create directory \"%s\": a file with that name exists", d);
            } else if (e != EISDIR) {
                rc = mcf__posix_err(e, MCF_FILE_OPEN_FAIL, "create directory", d);
            }
        }
        *p = c;
        if (c == '\0') break;
    }
    MCF_FREE(d);
    return rc;
}

typedef struct mcf__posix_writer {
    int fd;
    int lockfd;     /* dup of fd holding the temp's flock() until publish, or -1 */
    unsigned flags;
    char *path;     /* destination */
    char *tmp;      /* temp file beside it */
    char *dir;      /* its directory ("." for a bare name) */
} mcf__posix_writer;

static void mcf__posix_writer_free(mcf__posix_writer *w)
{
    MCF_FREE(w->path); MCF_FREE(w->tmp); MCF_FREE(w->dir); MCF_FREE(w);
}

/* Locks a new temp file (flock, released by the kernel when the process
 * dies, even by SIGKILL) so the sweep below knows a live save from a dead
 * one. 0 if a sweeper removed the file between open and lock: retry. */
static int mcf__posix_claim_temp(mcf__posix_writer *w)
{
    struct stat a, b;
    if (flock(w->fd, LOCK_EX | LOCK_NB) != 0) return errno != EWOULDBLOCK;  /* no flock here: the age rule applies */
    if (fstat(w->fd, &a) != 0 || stat(w->tmp, &b) != 0 || a.st_ino != b.st_ino || a.st_dev != b.st_dev) return 0;
    w->lockfd = dup(w->fd);   /* keeps the lock after close(fd) until the rename is done */
    return 1;
}

static int mcf__posix_open_write(void *user, const mcf_url *u, uint64_t size, const mcf_options *o, void **file)
{
    static MCF__THREAD_LOCAL unsigned long counter;   /* mixes temp names; per thread, so no data race */
    mcf__posix_writer *w;
    const char *slash = strrchr(u->path, '/');
    size_t plen = strlen(u->path), dlen;
    struct stat st;
    int attempt, rc;
    (void)user; (void)size;
    if (plen == 0 || u->path[plen - 1] == '/') return mcf__fail(MCF_INVALID_PARAMS, "file: \"%s\" names a directory, not a file", u->path);
    if (o && (o->flags & MCF_NO_OVERWRITE) && lstat(u->path, &st) == 0)
        return mcf__fail(MCF_FILE_OPEN_FAIL, "file: \"%s\" already exists (MCF_NO_OVERWRITE)", u->path);
    w = (mcf__posix_writer *)mcf__calloc(1, sizeof *w);
    if (!w) return mcf__fail(MCF_INTERNAL_ERROR, "file: out of memory");
    w->fd = w->lockfd = -1;
    w->flags = o ? o->flags : 0;
    dlen = slash ? (size_t)(slash - u->path) : 0;
    w->path = mcf__strdup(u->path);
    w->dir = slash ? mcf__strndup(u->path, dlen ? dlen : 1) : mcf__strdup(".");
    w->tmp = (char *)mcf__malloc(plen + 64);
    if (!w->path || !w->dir || !w->tmp) { mcf__posix_writer_free(w); return mcf__fail(MCF_INTERNAL_ERROR, "file: out of memory"); }
    if (slash && dlen > 0 && (rc = mcf__posix_makedirs(w->dir)) != MCF_OK) { mcf__posix_writer_free(w); return rc; }
    for (attempt = 0; attempt < 100; attempt++) {
        unsigned long salt = (unsigned long)getpid() * 2654435761u ^ (unsigned long)time(NULL) ^ (unsigned long)(uintptr_t)w ^ (++counter * 40503u);
        (void)snprintf(w->tmp, plen + 64, "%.*s%s.%s.mcf-%08lx.tmp", (int)(slash ? slash - u->path + 1 : 0), u->path, "",
                       slash ? slash + 1 : u->path, salt & 0xffffffffu);
        /* 0666 & ~umask, like any newly created file */
        do w->fd = open(w->tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0666); while (w->fd < 0 && errno == EINTR);
        if (w->fd < 0) { if (errno != EEXIST) break; continue; }
        if (mcf__posix_claim_temp(w)) break;
        (void)close(w->fd);
        w->fd = -1;
        errno = EEXIST;
    }
    if (w->fd < 0) {
        rc = mcf__posix_err(errno, MCF_FILE_OPEN_FAIL, "create a temporary file for", u->path);
        mcf__posix_writer_free(w);
        return rc;
    }
    *file = w;
    return MCF_OK;
}

static void mcf__posix_abort(void *file)
{
    mcf__posix_writer *w = (mcf__posix_writer *)file;
    if (w->fd >= 0) (void)close(w->fd);
    (void)unlink(w->tmp);
    if (w->lockfd >= 0) (void)close(w->lockfd);
    mcf__posix_writer_free(w);
}

static int mcf__posix_write(void *file, const void *src, size_t n)
{
    mcf__posix_writer *w = (mcf__posix_writer *)file;
    const unsigned char *p = (const unsigned char *)src;
    while (n > 0) {
        size_t want = n > ((size_t)1 << 30) ? ((size_t)1 << 30) : n;
        ssize_t put = write(w->fd, p, want);
        if (put < 0) {
            if (errno == EINTR) continue;
            return mcf__posix_err(errno, MCF_FILE_WRITE_FAIL, "write", w->path);
        }
        if (put == 0) return mcf__fail(MCF_FILE_WRITE_FAIL, "file: cannot write \"%s\": no progress", w->path);
        p += put; n -= (size_t)put;
    }
    return MCF_OK;
}

static int mcf__posix_fsync_dir(const char *dir, const char *path)
{
    int fd = open(dir, O_RDONLY | O_CLOEXEC), rc = MCF_OK;
    if (fd < 0) return mcf__posix_err(errno, MCF_FILE_WRITE_FAIL, "open the directory of", path);
    if (fsync(fd) != 0 && errno != EINVAL) rc = mcf__posix_err(errno, MCF_FILE_WRITE_FAIL, "fsync the directory of", path);
    (void)close(fd);
    return rc;
}

/* A killed save leaves its temp file ".<base>.mcf-XXXXXXXX.tmp" behind; the
 * next successful save of the same name removes those whose flock() is free
 * (their writer is dead: a live save holds it until its rename). Where flock
 * does not work, only those not modified for MCF_STALE_TEMP_SECONDS (a live
 * save keeps writing, so its mtime stays fresh). Best effort, errors
 * ignored; costs one readdir of the directory per save. */
static void mcf__posix_sweep_temps(const mcf__posix_writer *w)
{
    const char *slash = strrchr(w->path, '/');
    const char *base = slash ? slash + 1 : w->path;
    size_t blen = strlen(base), dlen = strlen(w->dir), k;
    time_t now = time(NULL);
    int fd, dead;
    struct dirent *de;
    char *full;
    DIR *d = opendir(w->dir);
    if (!d) return;
    full = (char *)mcf__malloc(dlen + blen + 24);
    while (full && (de = readdir(d)) != NULL) {
        const char *nm = de->d_name;
        struct stat st;
        if (strlen(nm) != blen + 18 || nm[0] != '.' || memcmp(nm + 1, base, blen) != 0 ||
            memcmp(nm + 1 + blen, ".mcf-", 5) != 0 || strcmp(nm + blen + 14, ".tmp") != 0) continue;
        for (k = blen + 6; k < blen + 14 && mcf__hexval(nm[k]) >= 0; k++) { }
        if (k != blen + 14) continue;
        (void)snprintf(full, dlen + blen + 24, "%s/%s", w->dir, nm);
        if (lstat(full, &st) != 0 || !S_ISREG(st.st_mode)) continue;
        dead = now - st.st_mtime >= (time_t)MCF_STALE_TEMP_SECONDS;
        fd = open(full, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK);
        if (fd >= 0) {
            if (flock(fd, LOCK_EX | LOCK_NB) == 0) dead = 1;
            else if (errno == EWOULDBLOCK) dead = 0;
        }
        if (dead) (void)unlink(full);
        if (fd >= 0) (void)close(fd);
    }
    MCF_FREE(full);
    (void)closedir(d);
}

static int mcf__posix_commit(void *file)
{
    mcf__posix_writer *w = (mcf__posix_writer *)file;
    int rc = MCF_OK, fd = w->fd;
    w->fd = -1;
    if ((w->flags & MCF_DURABLE) && fsync(fd) != 0) rc = mcf__posix_err(errno, MCF_FILE_WRITE_FAIL, "fsync", w->path);
    if (close(fd) != 0 && rc == MCF_OK) rc = mcf__posix_err(errno, MCF_FILE_WRITE_FAIL, "close", w->path);
    if (rc == MCF_OK) {
        if (w->flags & MCF_NO_OVERWRITE) {
            /* link() refuses an existing name, so the check and the publish are one step */
            if (link(w->tmp, w->path) != 0)
                rc = errno == EEXIST ? mcf__fail(MCF_FILE_OPEN_FAIL, "file: \"%s\" already exists (MCF_NO_OVERWRITE)", w->path)
                                     : mcf__posix_err(errno, MCF_FILE_WRITE_FAIL, "publish", w->path);
        } else if (rename(w->tmp, w->path) != 0) {
            rc = mcf__posix_err(errno, MCF_FILE_WRITE_FAIL, "rename the temporary file onto", w->path);
        }
    }
    if (rc != MCF_OK || (w->flags & MCF_NO_OVERWRITE)) (void)unlink(w->tmp);
    if (w->lockfd >= 0) (void)close(w->lockfd);
    if (rc == MCF_OK) mcf__posix_sweep_temps(w);
    if (rc == MCF_OK && (w->flags & MCF_DURABLE)) rc = mcf__posix_fsync_dir(w->dir, w->path);
    mcf__posix_writer_free(w);
    return rc;
}

static int mcf__posix_remove(void *user, const mcf_url *u, const mcf_options *o)
{
    (void)user; (void)o;
    if (unlink(u->path) != 0) return mcf__posix_err(errno, MCF_FILE_WRITE_FAIL, "remove", u->path);
    return MCF_OK;
}

static const mcf_filesystem mcf__posix_fs = {
    "file", NULL, mcf__posix_stat, mcf__posix_open_read, mcf__posix_read_at, mcf__posix_map, mcf__posix_close_read,
    mcf__posix_open_write, mcf__posix_write, mcf__posix_commit, mcf__posix_abort, mcf__posix_remove
};
#endif /* MCF_NO_POSIX */

static int mcf__builtin_filesystem(const char *scheme, mcf_filesystem *out)
{
    if (strcmp(scheme, "memory") == 0) { *out = mcf__memory_fs; return 1; }
#ifndef MCF_NO_POSIX
    if (strcmp(scheme, "file") == 0) { *out = mcf__posix_fs; return 1; }
#endif
    return 0;
}

/* Whole-object helpers (DESIGN §6). */
MCFDEF int mcf_write_bytes(const char *url, const void *data, size_t len, const mcf_options *o)
{
    mcf_url u;
    mcf__sink s;
    int rc;
    if (!data && len) return mcf__fail(MCF_INVALID_PARAMS, "mcf_write_bytes: NULL data");
    memset(&s, 0, sizeof s);
    if ((rc = mcf__resolve(url, o, &u, &s.fs)) != MCF_OK) return rc;
    if (!s.fs.write) rc = mcf__fail(MCF_NOT_SUPPORTED, "%s: the %s filesystem is read-only", u.url, u.scheme);
    else {
        s.url = &u; s.o = o; s.name = u.url;
        rc = mcf__sink_begin(&s, len);
        while (rc == MCF_OK && s.done < len) {
            size_t k = len - (size_t)s.done < MCF__CHUNK ? len - (size_t)s.done : MCF__CHUNK;
            rc = mcf__sink_write(&s, (const unsigned char *)data + s.done, k);
        }
        if (s.begun) { if (rc == MCF_OK) rc = s.fs.commit(s.file); else s.fs.abort(s.file); }
    }
    mcf_url_free(&u);
    return rc;
}

MCFDEF int mcf_read_bytes(const char *url, void **data, size_t *len, const mcf_options *o)
{
    mcf_url u;
    mcf__source src;
    unsigned char *buf = NULL;
    int rc;
    if (!data || !len) return mcf__fail(MCF_INVALID_PARAMS, "mcf_read_bytes: NULL output");
    memset(&src, 0, sizeof src);
    if ((rc = mcf__resolve(url, o, &u, &src.fs)) != MCF_OK) return rc;
    src.name = u.url;
    rc = src.fs.open_read(src.fs.user, &u, o, &src.file, &src.size);
    if (rc == MCF_OK) {
        if (!mcf__fits_size(src.size)) rc = mcf__fail(MCF_NOT_SUPPORTED, "%s: %llu bytes do not fit in memory on this host", u.url, (unsigned long long)src.size);
        else if (src.size > mcf__ram_bytes())
            rc = mcf__fail(MCF_INTERNAL_ERROR, "%s: out of memory: %llu bytes exceed this machine's RAM (%llu bytes); read it in parts with mcf_open",
                           u.url, (unsigned long long)src.size, (unsigned long long)mcf__ram_bytes());
        else if (!(buf = (unsigned char *)mcf__malloc((size_t)src.size))) rc = mcf__fail(MCF_INTERNAL_ERROR, "%s: out of memory for %llu bytes", u.url, (unsigned long long)src.size);
        else rc = src.size ? src.fs.read_at(src.file, 0, buf, (size_t)src.size) : MCF_OK;
        src.fs.close_read(src.file);
    }
    if (rc == MCF_OK) { *data = buf; *len = (size_t)src.size; }
    else MCF_FREE(buf);
    mcf_url_free(&u);
    return rc;
}

MCFDEF int mcf_file_size(const char *url, uint64_t *size, const mcf_options *o)
{
    mcf_url u;
    mcf_filesystem fs;
    uint64_t sz = 0;
    int rc;
    if (!size) return mcf__fail(MCF_INVALID_PARAMS, "mcf_file_size: NULL output");
    if ((rc = mcf__resolve(url, o, &u, &fs)) != MCF_OK) return rc;
    rc = fs.stat(fs.user, &u, o, &sz);
    if (rc == MCF_OK) *size = sz;
    mcf_url_free(&u);
    return rc;
}

MCFDEF int mcf_exists(const char *url, const mcf_options *o)
{
    uint64_t sz;
    char saved[MCF_ERROR_MAX];
    int rc;
    memcpy(saved, mcf__error_text, sizeof saved);
    rc = mcf_file_size(url, &sz, o);
    if (rc == MCF_OK) return 1;
    if (rc == MCF_FILE_NOT_FOUND) { memcpy(mcf__error_text, saved, sizeof saved); return 0; }  /* not a failure */
    return rc;
}

MCFDEF int mcf_remove(const char *url, const mcf_options *o)
{
    mcf_url u;
    mcf_filesystem fs;
    int rc;
    if ((rc = mcf__resolve(url, o, &u, &fs)) != MCF_OK) return rc;
    rc = fs.remove ? fs.remove(fs.user, &u, o) : mcf__fail(MCF_NOT_SUPPORTED, "%s: the %s filesystem cannot remove objects", u.url, u.scheme);
    mcf_url_free(&u);
    return rc;
}

/* ===== [10] fs: http & s3 (curl) ========================================= */
/* (requires MOONCAKE_FILEIO_CURL) */

/* ===== [11] JSON read/write ============================================== */
/* A strict pull parser for RFC 8259 over a length-bounded buffer: full UTF-8
 * validation (RFC 3629: no overlongs, no surrogates, <= U+10FFFF), escapes
 * incl. \uXXXX surrogate pairs (lone surrogates rejected, as serde_json does),
 * numbers checked against the RFC grammar and read as exact uint64 (never via
 * double). Nesting lives on an explicit stack bounded by MCF_MAX_JSON_DEPTH:
 * no recursion a file controls. The writer escapes strings as serde_json does
 * (short forms for " \ \b \f \n \r \t, \u00xx lower-case for other controls). */
enum {
    MCF__J_END, MCF__J_OBJ, MCF__J_OBJ_END, MCF__J_ARR, MCF__J_ARR_END,
    MCF__J_KEY, MCF__J_STR, MCF__J_NUM, MCF__J_TRUE, MCF__J_FALSE, MCF__J_NULL
};
enum { MCF__JS_VALUE, MCF__JS_VALUE_OR_CLOSE, MCF__JS_KEY, MCF__JS_KEY_OR_CLOSE, MCF__JS_COMMA_OR_CLOSE, MCF__JS_DONE };

typedef struct mcf__json {
    const unsigned char *base, *p, *end;
    const char *who;                  /* message prefix, e.g. "safetensors: <url>" */
    int state, depth;
    unsigned char stack[MCF_MAX_JSON_DEPTH];   /* 'o' object, 'a' array */
    int type;                         /* last token */
    const unsigned char *tok;         /* its text: string body without quotes, number */
    size_t tok_len;
    int tok_escaped;                  /* string body contains a backslash */
} mcf__json;

static void mcf__json_init(mcf__json *j, const unsigned char *text, size_t len, const char *who)
{
    memset(j, 0, sizeof *j);
    j->base = j->p = text;
    j->end = text + len;
    j->who = who;
    j->state = MCF__JS_VALUE;
}

static int mcf__json_err(const mcf__json *j, const unsigned char *at, const char *what)
{
    return mcf__fail(MCF_DESERIALIZE_FAIL, "%s: invalid header JSON at byte %lu: %s", j->who,
                     (unsigned long)(at - j->base), what);
}

/* Length of the valid UTF-8 sequence at p (RFC 3629 table 3-7), 0 if invalid. */
MCF__SHARED size_t mcf__utf8_seq(const unsigned char *p, const unsigned char *end)
{
    unsigned c = p[0];
    size_t n, i;
    unsigned lo = 0x80, hi = 0xBF;
    if (c < 0x80) return 1;
    if (c >= 0xC2 && c <= 0xDF) n = 2;
    else if (c >= 0xE0 && c <= 0xEF) { n = 3; if (c == 0xE0) lo = 0xA0; if (c == 0xED) hi = 0x9F; }
    else if (c >= 0xF0 && c <= 0xF4) { n = 4; if (c == 0xF0) lo = 0x90; if (c == 0xF4) hi = 0x8F; }
    else return 0;
    if ((size_t)(end - p) < n) return 0;
    if (p[1] < lo || p[1] > hi) return 0;
    for (i = 2; i < n; i++) if (p[i] < 0x80 || p[i] > 0xBF) return 0;
    return n;
}

/* 1 if s[0..n) is valid UTF-8. */
MCF__SHARED int mcf__utf8_valid(const char *s, size_t n)
{
    const unsigned char *p = (const unsigned char *)s, *end = p + n;
    while (p < end) {
        size_t k = mcf__utf8_seq(p, end);
        if (!k) return 0;
        p += k;
    }
    return 1;
}

static int mcf__json_hex4(const unsigned char *p, const unsigned char *end, unsigned *out)
{
    unsigned v = 0;
    int i;
    if (end - p < 4) return 0;
    for (i = 0; i < 4; i++) {
        unsigned c = p[i], d;
        if (c >= '0' && c <= '9') d = c - '0';
        else if (c >= 'a' && c <= 'f') d = c - 'a' + 10;
        else if (c >= 'A' && c <= 'F') d = c - 'A' + 10;
        else return 0;
        v = v * 16 + d;
    }
    *out = v;
    return 1;
}

/* Scans a string whose opening quote is at j->p; sets tok to its body. */
static int mcf__json_string(mcf__json *j)
{
    const unsigned char *p = j->p + 1, *end = j->end;
    j->tok_escaped = 0;
    for (;;) {
        unsigned c;
        if (p >= end) return mcf__json_err(j, j->p, "unterminated string");
        c = *p;
        if (c == '"') break;
        if (c < 0x20) return mcf__json_err(j, p, "unescaped control character in a string");
        if (c == '\\') {
            unsigned u, lo;
            j->tok_escaped = 1;
            if (p + 1 >= end) return mcf__json_err(j, p, "unterminated escape");
            c = p[1];
            if (c == 'u') {
                if (!mcf__json_hex4(p + 2, end, &u)) return mcf__json_err(j, p, "\\u needs four hex digits");
                if (u >= 0xDC00 && u <= 0xDFFF) return mcf__json_err(j, p, "lone low surrogate in a \\u escape");
                if (u >= 0xD800 && u <= 0xDBFF) {
                    if (end - p < 12 || p[6] != '\\' || p[7] != 'u' || !mcf__json_hex4(p + 8, end, &lo) || lo < 0xDC00 || lo > 0xDFFF)
                        return mcf__json_err(j, p, "lone high surrogate in a \\u escape");
                    p += 12;
                } else {
                    p += 6;
                }
            } else if (c == '"' || c == '\\' || c == '/' || c == 'b' || c == 'f' || c == 'n' || c == 'r' || c == 't') {
                p += 2;
            } else {
                return mcf__json_err(j, p, "invalid escape in a string");
            }
        } else {
            size_t k = mcf__utf8_seq(p, end);
            if (!k) return mcf__json_err(j, p, "invalid UTF-8 in a string");
            p += k;
        }
    }
    j->tok = j->p + 1;
    j->tok_len = (size_t)(p - j->tok);
    j->p = p + 1;
    return MCF_OK;
}

/* Scans a number (RFC 8259 grammar: no leading zeros, '+', bare '.', NaN). */
static int mcf__json_number(mcf__json *j)
{
    const unsigned char *p = j->p, *end = j->end;
    if (p < end && *p == '-') p++;
    if (p >= end || *p < '0' || *p > '9') return mcf__json_err(j, j->p, "invalid number");
    if (*p == '0') {
        p++;
        if (p < end && *p >= '0' && *p <= '9') return mcf__json_err(j, j->p, "number with a leading zero");
    } else {
        while (p < end && *p >= '0' && *p <= '9') p++;
    }
    if (p < end && *p == '.') {
        p++;
        if (p >= end || *p < '0' || *p > '9') return mcf__json_err(j, j->p, "invalid number (no digit after '.')");
        while (p < end && *p >= '0' && *p <= '9') p++;
    }
    if (p < end && (*p == 'e' || *p == 'E')) {
        p++;
        if (p < end && (*p == '+' || *p == '-')) p++;
        if (p >= end || *p < '0' || *p > '9') return mcf__json_err(j, j->p, "invalid number (no digit in the exponent)");
        while (p < end && *p >= '0' && *p <= '9') p++;
    }
    j->tok = j->p;
    j->tok_len = (size_t)(p - j->p);
    j->p = p;
    return MCF_OK;
}

static void mcf__json_after_value(mcf__json *j)
{
    j->state = j->depth == 0 ? MCF__JS_DONE : MCF__JS_COMMA_OR_CLOSE;
}

/* Starts the value at j->p (a non-space byte). */
static int mcf__json_value(mcf__json *j)
{
    static const char *const lits[3] = {"true", "false", "null"};
    static const int lit_types[3] = {MCF__J_TRUE, MCF__J_FALSE, MCF__J_NULL};
    unsigned c = *j->p;
    int rc, i;
    if (c == '{' || c == '[') {
        if (j->depth >= MCF_MAX_JSON_DEPTH) return mcf__json_err(j, j->p, "nesting deeper than MCF_MAX_JSON_DEPTH");
        j->stack[j->depth++] = (unsigned char)(c == '{' ? 'o' : 'a');
        j->p++;
        j->state = c == '{' ? MCF__JS_KEY_OR_CLOSE : MCF__JS_VALUE_OR_CLOSE;
        j->type = c == '{' ? MCF__J_OBJ : MCF__J_ARR;
        return MCF_OK;
    }
    if (c == '"') {
        if ((rc = mcf__json_string(j)) != MCF_OK) return rc;
        j->type = MCF__J_STR;
    } else if (c == '-' || (c >= '0' && c <= '9')) {
        if ((rc = mcf__json_number(j)) != MCF_OK) return rc;
        j->type = MCF__J_NUM;
    } else {
        for (i = 0; i < 3; i++) {
            size_t n = strlen(lits[i]);
            if ((size_t)(j->end - j->p) >= n && memcmp(j->p, lits[i], n) == 0) break;
        }
        if (i == 3) return mcf__json_err(j, j->p, "expected a value");
        j->tok = j->p;
        j->tok_len = strlen(lits[i]);
        j->p += j->tok_len;
        j->type = lit_types[i];
    }
    mcf__json_after_value(j);
    return MCF_OK;
}

static int mcf__json_is_space(unsigned c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; }

/* Advances to the next token (j->type); MCF__J_END once the document and any
 * trailing whitespace are consumed. */
static int mcf__json_next(mcf__json *j)
{
    int rc;
    for (;;) {
        unsigned c;
        while (j->p < j->end && mcf__json_is_space(*j->p)) j->p++;
        if (j->state == MCF__JS_DONE) {
            if (j->p < j->end) return mcf__json_err(j, j->p, "unexpected bytes after the end of the JSON value");
            j->type = MCF__J_END;
            return MCF_OK;
        }
        if (j->p >= j->end) return mcf__json_err(j, j->p, "unexpected end of the header");
        c = *j->p;
        switch (j->state) {
        case MCF__JS_VALUE_OR_CLOSE:
            if (c == ']') { j->p++; j->depth--; j->type = MCF__J_ARR_END; mcf__json_after_value(j); return MCF_OK; }
            return mcf__json_value(j);
        case MCF__JS_VALUE:
            return mcf__json_value(j);
        case MCF__JS_KEY_OR_CLOSE:
        case MCF__JS_KEY:
            if (c == '}' && j->state == MCF__JS_KEY_OR_CLOSE) {
                j->p++; j->depth--; j->type = MCF__J_OBJ_END; mcf__json_after_value(j); return MCF_OK;
            }
            if (c != '"') return mcf__json_err(j, j->p, j->state == MCF__JS_KEY ? "expected a string key after ','" : "expected a string key or '}'");
            if ((rc = mcf__json_string(j)) != MCF_OK) return rc;
            while (j->p < j->end && mcf__json_is_space(*j->p)) j->p++;
            if (j->p >= j->end || *j->p != ':') return mcf__json_err(j, j->p, "expected ':' after an object key");
            j->p++;
            j->state = MCF__JS_VALUE;
            j->type = MCF__J_KEY;
            return MCF_OK;
        default: /* MCF__JS_COMMA_OR_CLOSE */
            if (j->stack[j->depth - 1] == 'o') {
                if (c == ',') { j->p++; j->state = MCF__JS_KEY; continue; }
                if (c == '}') { j->p++; j->depth--; j->type = MCF__J_OBJ_END; mcf__json_after_value(j); return MCF_OK; }
                return mcf__json_err(j, j->p, "expected ',' or '}' in an object");
            }
            if (c == ',') { j->p++; j->state = MCF__JS_VALUE; continue; }
            if (c == ']') { j->p++; j->depth--; j->type = MCF__J_ARR_END; mcf__json_after_value(j); return MCF_OK; }
            return mcf__json_err(j, j->p, "expected ',' or ']' in an array");
        }
    }
}

/* Consumes the rest of a value whose first token was just read (iterative). */
static int mcf__json_skip(mcf__json *j)
{
    int rc, depth;
    if (j->type != MCF__J_OBJ && j->type != MCF__J_ARR) return MCF_OK;
    depth = j->depth - 1;
    while (j->depth > depth)
        if ((rc = mcf__json_next(j)) != MCF_OK) return rc;
    return MCF_OK;
}

/* Checks that text[0..len) is one complete, valid JSON document. */
static int mcf__json_validate(const unsigned char *text, size_t len, const char *who)
{
    mcf__json j;
    int rc;
    mcf__json_init(&j, text, len, who);
    do {
        if ((rc = mcf__json_next(&j)) != MCF_OK) return rc;
    } while (j.type != MCF__J_END);
    return MCF_OK;
}

/* Decodes a validated string body into dst (room for n bytes; the result is
 * never longer). Returns the decoded length; *has_nul is set for U+0000. */
static size_t mcf__json_unescape(const unsigned char *s, size_t n, char *dst, int *has_nul)
{
    size_t i = 0, k = 0;
    *has_nul = 0;
    while (i < n) {
        unsigned c = s[i], u, lo;
        if (c != '\\') { dst[k++] = (char)c; i++; continue; }
        c = s[i + 1];
        i += 2;
        switch (c) {
        case 'b': dst[k++] = '\b'; break;
        case 'f': dst[k++] = '\f'; break;
        case 'n': dst[k++] = '\n'; break;
        case 'r': dst[k++] = '\r'; break;
        case 't': dst[k++] = '\t'; break;
        case 'u':
            (void)mcf__json_hex4(s + i, s + n, &u);
            i += 4;
            if (u >= 0xD800 && u <= 0xDBFF) {
                (void)mcf__json_hex4(s + i + 2, s + n, &lo);
                i += 6;
                u = 0x10000 + ((u - 0xD800) << 10) + (lo - 0xDC00);
            }
            if (u == 0) *has_nul = 1;
            if (u < 0x80) dst[k++] = (char)u;
            else if (u < 0x800) { dst[k++] = (char)(0xC0 | (u >> 6)); dst[k++] = (char)(0x80 | (u & 0x3F)); }
            else if (u < 0x10000) {
                dst[k++] = (char)(0xE0 | (u >> 12)); dst[k++] = (char)(0x80 | ((u >> 6) & 0x3F)); dst[k++] = (char)(0x80 | (u & 0x3F));
            } else {
                dst[k++] = (char)(0xF0 | (u >> 18)); dst[k++] = (char)(0x80 | ((u >> 12) & 0x3F));
                dst[k++] = (char)(0x80 | ((u >> 6) & 0x3F)); dst[k++] = (char)(0x80 | (u & 0x3F));
            }
            break;
        default: dst[k++] = (char)c; break;   /* " \ / */
        }
    }
    return k;
}

/* The current string token as a new NUL-terminated string (MCF_MALLOC);
 * NULL on allocation failure. *has_nul reports an escaped U+0000. */
static char *mcf__json_strdup(const mcf__json *j, int *has_nul)
{
    char *d = (char *)mcf__malloc(j->tok_len + 1);
    size_t k;
    if (!d) return NULL;
    k = mcf__json_unescape(j->tok, j->tok_len, d, has_nul);
    d[k] = '\0';
    return d;
}

/* 1 if the current string token decodes to exactly lit. */
static int mcf__json_tok_is(const mcf__json *j, const char *lit)
{
    char tmp[128];
    size_t n = strlen(lit), k;
    int nul;
    if (!j->tok_escaped) return j->tok_len == n && memcmp(j->tok, lit, n) == 0;
    if (j->tok_len > sizeof tmp) return 0;   /* decodes to > 21 bytes: longer than any key we look for */
    k = mcf__json_unescape(j->tok, j->tok_len, tmp, &nul);
    return k == n && memcmp(tmp, lit, n) == 0;
}

/* The current number token as an exact uint64. On failure *why says which rule broke. */
static int mcf__json_u64(const mcf__json *j, uint64_t *out, const char **why)
{
    uint64_t v = 0;
    size_t i;
    if (j->type != MCF__J_NUM) { *why = "is not a number"; return 0; }
    if (j->tok[0] == '-') { *why = "is negative"; return 0; }
    for (i = 0; i < j->tok_len; i++) {
        unsigned d = (unsigned)(j->tok[i] - '0');
        if (d > 9) { *why = "is not an integer (fraction or exponent)"; return 0; }
        if (v > (UINT64_MAX - d) / 10) { *why = "does not fit in 64 bits"; return 0; }
        v = v * 10 + d;
    }
    *out = v;
    return 1;
}

/* Appends s[0..n) as a JSON string with serde_json's escaping. */
MCF__SHARED void mcf__json_put_str(mcf__buf *b, const char *s, size_t n)
{
    static const char hex[] = "0123456789abcdef";
    size_t i, run = 0;
    mcf__buf_putc(b, '"');
    for (i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        char esc[6];
        size_t elen = 2;
        if (c >= 0x20 && c != '"' && c != '\\') continue;
        mcf__buf_put(b, s + run, i - run);
        run = i + 1;
        esc[0] = '\\';
        switch (c) {
        case '"': esc[1] = '"'; break;
        case '\\': esc[1] = '\\'; break;
        case '\b': esc[1] = 'b'; break;
        case '\f': esc[1] = 'f'; break;
        case '\n': esc[1] = 'n'; break;
        case '\r': esc[1] = 'r'; break;
        case '\t': esc[1] = 't'; break;
        default:
            esc[1] = 'u'; esc[2] = '0'; esc[3] = '0'; esc[4] = hex[c >> 4]; esc[5] = hex[c & 15];
            elen = 6;
            break;
        }
        mcf__buf_put(b, esc, elen);
    }
    mcf__buf_put(b, s + run, n - run);
    mcf__buf_putc(b, '"');
}

/* ===== [12] safetensors ================================================== */
/* The Hugging Face format (safetensors README "Format"; crate v0.7.0
 * tensor.rs): u64 LE header length N, N bytes of JSON, then the data buffer.
 * Reader: reads only the 8 + N header bytes, validates like the reference
 * (sorted, contiguous, complete offsets; exact byte spans; N <= 100 MB) and
 * is stricter where the reference lets two readers disagree (duplicate keys,
 * non-object entries, null __metadata__). Writer: byte-identical to the
 * reference serializer (dtype rank then name order, compact JSON, space
 * padding to 8), streaming each tensor from the caller's memory.
 * Contract with [16]: mcf__st_save gets tensors checked by the dispatcher
 * (names non-NULL and unique) and calls mcf__sink_begin once with the exact
 * total before the first byte; mcf__st_open fills r->entries/count and r->meta. */

/* Position of each dtype in the crate's Dtype enum, written first to last. */
static int mcf__st_rank(mcf_dtype d)
{
    static const mcf_dtype order[MCF_DTYPE_COUNT] = {
        MCF_U64, MCF_I64, MCF_F64, MCF_C64, MCF_F32, MCF_U32, MCF_I32, MCF_BF16, MCF_F16, MCF_U16,
        MCF_I16, MCF_F8_E8M0, MCF_F8_E4M3, MCF_F8_E5M2, MCF_I8, MCF_U8, MCF_F6_E3M2, MCF_F6_E2M3, MCF_F4, MCF_BOOL
    };
    int i;
    for (i = 0; i < (int)MCF_DTYPE_COUNT; i++) if (order[i] == d) return i;
    return (int)MCF_DTYPE_COUNT;
}

/* Byte-wise string order of Rust's String (memcmp, shorter first on a tie). */
static int mcf__st_bytecmp(const char *a, size_t an, const char *b, size_t bn)
{
    int c = memcmp(a, b, an < bn ? an : bn);
    if (c) return c;
    return an < bn ? -1 : an > bn;
}

typedef struct mcf__st_key {
    const char *name;
    size_t len;
    int rank;
    size_t idx;
} mcf__st_key;

static int mcf__st_key_cmp(const void *pa, const void *pb)
{
    const mcf__st_key *a = (const mcf__st_key *)pa, *b = (const mcf__st_key *)pb;
    int c;
    if (a->rank != b->rank) return a->rank < b->rank ? -1 : 1;
    c = mcf__st_bytecmp(a->name, a->len, b->name, b->len);
    if (c) return c;
    return a->idx < b->idx ? -1 : a->idx > b->idx;
}

/* Sorts n keys (rank, bytes, input index); returns the index of the first
 * of two equal names among them (same rank), or n if all differ. */
static size_t mcf__st_sort_keys(mcf__st_key *k, size_t n)
{
    size_t i;
    if (n > 1) qsort(k, n, sizeof *k, mcf__st_key_cmp);
    for (i = 1; i < n; i++)
        if (k[i].rank == k[i - 1].rank && mcf__st_bytecmp(k[i].name, k[i].len, k[i - 1].name, k[i - 1].len) == 0) return i;
    return n;
}

static void mcf__st_put_entry(mcf__buf *b, const mcf_tensor *t, uint64_t begin, uint64_t end)
{
    int d;
    mcf__json_put_str(b, t->name, strlen(t->name));
    mcf__buf_puts(b, ":{\"dtype\":\"");
    mcf__buf_puts(b, mcf__dtypes[t->dtype].name);
    mcf__buf_puts(b, "\",\"shape\":[");
    for (d = 0; d < t->ndim; d++) {
        if (d) mcf__buf_putc(b, ',');
        mcf__buf_put_u64(b, (uint64_t)t->shape[d]);
    }
    mcf__buf_puts(b, "],\"data_offsets\":[");
    mcf__buf_put_u64(b, begin);
    mcf__buf_putc(b, ',');
    mcf__buf_put_u64(b, end);
    mcf__buf_puts(b, "]}");
}

static int mcf__st_save(mcf__sink *s, const mcf_tensor *t, size_t n, const mcf_options *o)
{
    const char *const *meta = o ? o->metadata : NULL;
    mcf__st_key *keys = NULL, *mkeys = NULL;
    mcf__buf hb;
    size_t i, nmeta = 0, dup;
    uint64_t data = 0, total, hlen;
    unsigned char lenb[8];
    int rc = MCF_OK;
    memset(&hb, 0, sizeof hb);
    /* every check happens before mcf__sink_begin: a refused save opens nothing */
    for (i = 0; i < n; i++) {
        uint64_t bits;
        size_t len = strlen(t[i].name);
        if (!mcf__utf8_valid(t[i].name, len))
            return mcf__fail(MCF_INVALID_PARAMS, "safetensors: %s: tensor name \"%s\" is not valid UTF-8", s->name, t[i].name);
        if (strcmp(t[i].name, "__metadata__") == 0)
            return mcf__fail(MCF_INVALID_PARAMS, "safetensors: %s: \"__metadata__\" is reserved and cannot name a tensor", s->name);
        if (!mcf__mul64(mcf_tensor_numel(&t[i]), mcf__dtypes[t[i].dtype].bits, &bits) || bits % 8)
            return mcf__fail(MCF_SERIALIZE_UNSUPPORTED, "safetensors: %s: tensor \"%s\": %llu elements of %s are not a whole number of bytes",
                             s->name, t[i].name, (unsigned long long)mcf_tensor_numel(&t[i]), mcf__dtypes[t[i].dtype].name);
        if (!mcf__add64(data, bits / 8, &data))
            return mcf__fail(MCF_SERIALIZE_FAIL, "safetensors: %s: total tensor size overflows 64 bits", s->name);
    }
    if (meta) {
        while (meta[2 * nmeta]) {
            if (!meta[2 * nmeta + 1])
                return mcf__fail(MCF_INVALID_PARAMS, "safetensors: %s: metadata key \"%s\" has no value (the list is key, value, ..., NULL)", s->name, meta[2 * nmeta]);
            nmeta++;
        }
        mkeys = (mcf__st_key *)mcf__calloc(nmeta ? nmeta : 1, sizeof *mkeys);
        if (!mkeys) return mcf__fail(MCF_INTERNAL_ERROR, "safetensors: %s: out of memory", s->name);
        for (i = 0; i < nmeta; i++) {
            mkeys[i].name = meta[2 * i];
            mkeys[i].len = strlen(meta[2 * i]);
            mkeys[i].idx = i;
            if (!mcf__utf8_valid(meta[2 * i], mkeys[i].len) || !mcf__utf8_valid(meta[2 * i + 1], strlen(meta[2 * i + 1]))) {
                rc = mcf__fail(MCF_INVALID_PARAMS, "safetensors: %s: metadata \"%s\" is not valid UTF-8", s->name, meta[2 * i]);
                goto done;
            }
        }
        if ((dup = mcf__st_sort_keys(mkeys, nmeta)) < nmeta) {
            rc = mcf__fail(MCF_INVALID_PARAMS, "safetensors: %s: duplicate metadata key \"%s\"", s->name, mkeys[dup].name);
            goto done;
        }
    }
    keys = (mcf__st_key *)mcf__calloc(n ? n : 1, sizeof *keys);
    if (!keys) { rc = mcf__fail(MCF_INTERNAL_ERROR, "safetensors: %s: out of memory", s->name); goto done; }
    for (i = 0; i < n; i++) {
        keys[i].name = t[i].name;
        keys[i].len = strlen(t[i].name);
        keys[i].rank = mcf__st_rank(t[i].dtype);
        keys[i].idx = i;
    }
    (void)mcf__st_sort_keys(keys, n);   /* names are unique ([16] checked) */

    /* the header: compact JSON, __metadata__ first, then tensors in order */
    mcf__buf_putc(&hb, '{');
    if (meta) {
        mcf__buf_puts(&hb, "\"__metadata__\":{");
        for (i = 0; i < nmeta; i++) {
            const char *v = meta[2 * mkeys[i].idx + 1];
            if (i) mcf__buf_putc(&hb, ',');
            mcf__json_put_str(&hb, mkeys[i].name, mkeys[i].len);
            mcf__buf_putc(&hb, ':');
            mcf__json_put_str(&hb, v, strlen(v));
        }
        mcf__buf_putc(&hb, '}');
    }
    data = 0;
    for (i = 0; i < n; i++) {
        const mcf_tensor *ti = &t[keys[i].idx];
        uint64_t nb = mcf_tensor_nbytes(ti);
        if (i || meta) mcf__buf_putc(&hb, ',');
        mcf__st_put_entry(&hb, ti, data, data + nb);
        data += nb;
    }
    mcf__buf_putc(&hb, '}');
    while (hb.len % 8) mcf__buf_putc(&hb, ' ');
    if (hb.failed) { rc = mcf__fail(MCF_INTERNAL_ERROR, "safetensors: %s: out of memory for the header", s->name); goto done; }
    hlen = hb.len;
    if (hlen > MCF_MAX_HEADER) {
        rc = mcf__fail(MCF_SERIALIZE_FAIL, "safetensors: %s: header of %llu bytes exceeds the %llu-byte limit", s->name,
                       (unsigned long long)hlen, (unsigned long long)MCF_MAX_HEADER);
        goto done;
    }
    if (!mcf__add64(8 + hlen, data, &total)) { rc = mcf__fail(MCF_SERIALIZE_FAIL, "safetensors: %s: file size overflows 64 bits", s->name); goto done; }

    if ((rc = mcf__sink_begin(s, total)) != MCF_OK) goto done;
    mcf__put_le64(lenb, hlen);
    if ((rc = mcf__sink_write(s, lenb, 8)) != MCF_OK) goto done;
    if ((rc = mcf__sink_write(s, hb.data, hb.len)) != MCF_OK) goto done;
    for (i = 0; i < n && rc == MCF_OK; i++) rc = mcf__sink_tensor(s, &t[keys[i].idx], NULL);
done:
    mcf__buf_free(&hb);
    MCF_FREE(keys);
    MCF_FREE(mkeys);
    return rc;
}

/* Reader state while the header is walked. */
typedef struct mcf__st_parse {
    mcf_reader *r;
    char who[MCF_ERROR_MAX];
    size_t cap, meta_cap;
    uint64_t *offs;                  /* begin, end per entry */
} mcf__st_parse;

static int mcf__st_grow(mcf__st_parse *p)
{
    mcf_reader *r = p->r;
    if (r->count == p->cap) {
        size_t c = p->cap ? p->cap * 2 : 16;
        mcf__entry *e;
        uint64_t *o;
        if (c > SIZE_MAX / sizeof(mcf__entry) / 2) return mcf__fail(MCF_INTERNAL_ERROR, "safetensors: %s: too many tensors", r->name);
        e = (mcf__entry *)MCF_REALLOC(r->entries, c * sizeof *e);
        if (!e) return mcf__fail(MCF_INTERNAL_ERROR, "safetensors: %s: out of memory", r->name);
        r->entries = e;
        o = (uint64_t *)MCF_REALLOC(p->offs, c * 2 * sizeof *o);
        if (!o) return mcf__fail(MCF_INTERNAL_ERROR, "safetensors: %s: out of memory", r->name);
        p->offs = o;
        p->cap = c;
    }
    return MCF_OK;
}

/* Reads the value of "shape" or "data_offsets": an array of uint64. */
static int mcf__st_u64_array(mcf__json *j, mcf__st_parse *p, const char *tname, const char *field,
                             uint64_t *vals, int maxn, int *count)
{
    const char *why = "";
    uint64_t v;
    int rc, k = 0;
    if ((rc = mcf__json_next(j)) != MCF_OK) return rc;
    if (j->type != MCF__J_ARR)
        return mcf__fail(MCF_DESERIALIZE_FAIL, "safetensors: %s: tensor \"%s\": %s is not an array", p->r->name, tname, field);
    for (;;) {
        if ((rc = mcf__json_next(j)) != MCF_OK) return rc;
        if (j->type == MCF__J_ARR_END) break;
        if (!mcf__json_u64(j, &v, &why))
            return mcf__fail(MCF_DESERIALIZE_FAIL, "safetensors: %s: tensor \"%s\": %s element %d %s (must be a non-negative 64-bit integer)",
                             p->r->name, tname, field, k, why);
        if (k == maxn) {
            if (maxn == 2)
                return mcf__fail(MCF_DESERIALIZE_FAIL, "safetensors: %s: tensor \"%s\": data_offsets must have exactly 2 elements", p->r->name, tname);
            return mcf__fail(MCF_NOT_SUPPORTED, "safetensors: %s: tensor \"%s\": more than MCF_MAX_DIMS (%d) dimensions", p->r->name, tname, MCF_MAX_DIMS);
        }
        vals[k++] = v;
    }
    *count = k;
    return MCF_OK;
}

/* Parses one tensor entry object; the key (name) is already in the entry. */
static int mcf__st_tensor(mcf__json *j, mcf__st_parse *p, mcf__entry *e, uint64_t *offs)
{
    uint64_t shape[MCF_MAX_DIMS], numel = 1, bits;
    int rc, have_dtype = 0, have_shape = 0, have_offs = 0, ndim = 0, noffs = 0, d, i, nul;
    const char *rn = p->r->name;
    if ((rc = mcf__json_next(j)) != MCF_OK) return rc;
    if (j->type != MCF__J_OBJ)
        return mcf__fail(MCF_DESERIALIZE_FAIL, "safetensors: %s: tensor \"%s\": entry is not a JSON object", rn, e->name);
    for (;;) {
        if ((rc = mcf__json_next(j)) != MCF_OK) return rc;
        if (j->type == MCF__J_OBJ_END) break;
        if (mcf__json_tok_is(j, "dtype")) {
            char dt[128];
            size_t k;
            if (have_dtype++) return mcf__fail(MCF_DESERIALIZE_FAIL, "safetensors: %s: tensor \"%s\": repeated field \"dtype\"", rn, e->name);
            if ((rc = mcf__json_next(j)) != MCF_OK) return rc;
            if (j->type != MCF__J_STR) return mcf__fail(MCF_DESERIALIZE_FAIL, "safetensors: %s: tensor \"%s\": dtype is not a string", rn, e->name);
            if (j->tok_len >= sizeof dt) k = sizeof dt;   /* decodes to > 21 bytes: no dtype is that long */
            else { k = mcf__json_unescape(j->tok, j->tok_len, dt, &nul); dt[k] = '\0'; }
            for (i = 0; k < sizeof dt && i < (int)MCF_DTYPE_COUNT; i++)
                if (strcmp(dt, mcf__dtypes[i].name) == 0) break;
            if (k >= sizeof dt || i == (int)MCF_DTYPE_COUNT) {
                if (k < sizeof dt && (strcmp(dt, "F8_E5M2FNUZ") == 0 || strcmp(dt, "F8_E4M3FNUZ") == 0))
                    return mcf__fail(MCF_NOT_SUPPORTED, "safetensors: %s: tensor \"%s\": dtype %s is not supported", rn, e->name, dt);
                return mcf__fail(MCF_DESERIALIZE_FAIL, "safetensors: %s: tensor \"%s\": unknown dtype \"%.*s\"", rn, e->name,
                                 (int)(j->tok_len > 32 ? 32 : j->tok_len), (const char *)j->tok);
            }
            e->dtype = (mcf_dtype)i;
        } else if (mcf__json_tok_is(j, "shape")) {
            if (have_shape++) return mcf__fail(MCF_DESERIALIZE_FAIL, "safetensors: %s: tensor \"%s\": repeated field \"shape\"", rn, e->name);
            if ((rc = mcf__st_u64_array(j, p, e->name, "shape", shape, MCF_MAX_DIMS, &ndim)) != MCF_OK) return rc;
        } else if (mcf__json_tok_is(j, "data_offsets")) {
            if (have_offs++) return mcf__fail(MCF_DESERIALIZE_FAIL, "safetensors: %s: tensor \"%s\": repeated field \"data_offsets\"", rn, e->name);
            if ((rc = mcf__st_u64_array(j, p, e->name, "data_offsets", offs, 2, &noffs)) != MCF_OK) return rc;
            if (noffs != 2)
                return mcf__fail(MCF_DESERIALIZE_FAIL, "safetensors: %s: tensor \"%s\": data_offsets must have exactly 2 elements", rn, e->name);
        } else {
            /* unknown fields are ignored, as the reference does */
            if ((rc = mcf__json_next(j)) != MCF_OK || (rc = mcf__json_skip(j)) != MCF_OK) return rc;
        }
    }
    if (!have_dtype || !have_shape || !have_offs)
        return mcf__fail(MCF_DESERIALIZE_FAIL, "safetensors: %s: tensor \"%s\": missing field \"%s\"", rn, e->name,
                         !have_dtype ? "dtype" : !have_shape ? "shape" : "data_offsets");
    /* exact size math (the reference's checked_mul chain) */
    for (d = 0; d < ndim; d++)
        if (!mcf__mul64(numel, shape[d], &numel))
            return mcf__fail(MCF_DESERIALIZE_FAIL, "safetensors: %s: tensor \"%s\": shape overflows 64 bits", rn, e->name);
    if (!mcf__mul64(numel, mcf__dtypes[e->dtype].bits, &bits))
        return mcf__fail(MCF_DESERIALIZE_FAIL, "safetensors: %s: tensor \"%s\": size in bits overflows 64 bits", rn, e->name);
    if (bits % 8)
        return mcf__fail(MCF_DESERIALIZE_FAIL, "safetensors: %s: tensor \"%s\": %llu elements of %s are not a whole number of bytes",
                         rn, e->name, (unsigned long long)numel, mcf__dtypes[e->dtype].name);
    for (d = 0; d < ndim; d++) {
        if (shape[d] > (uint64_t)INT64_MAX)
            return mcf__fail(MCF_NOT_SUPPORTED, "safetensors: %s: tensor \"%s\": dimension %d (%llu) exceeds INT64_MAX", rn, e->name, d,
                             (unsigned long long)shape[d]);
        e->shape[d] = (int64_t)shape[d];
    }
    e->ndim = ndim;
    e->nbytes = bits / 8;
    return MCF_OK;
}

static int mcf__st_metadata(mcf__json *j, mcf__st_parse *p)
{
    mcf_reader *r = p->r;
    int rc, nul;
    if ((rc = mcf__json_next(j)) != MCF_OK) return rc;
    if (j->type != MCF__J_OBJ)
        return mcf__fail(MCF_DESERIALIZE_FAIL, "safetensors: %s: __metadata__ is %s, not an object of strings", r->name,
                         j->type == MCF__J_NULL ? "null" : "another JSON type");
    for (;;) {
        char *key, *val;
        if ((rc = mcf__json_next(j)) != MCF_OK) return rc;
        if (j->type == MCF__J_OBJ_END) return MCF_OK;
        if (r->meta_count == p->meta_cap) {
            size_t c = p->meta_cap ? p->meta_cap * 2 : 8;
            char **m = c > SIZE_MAX / (2 * sizeof(char *)) ? NULL : (char **)MCF_REALLOC(r->meta, c * 2 * sizeof(char *));
            if (!m) return mcf__fail(MCF_INTERNAL_ERROR, "safetensors: %s: out of memory", r->name);
            r->meta = m;
            p->meta_cap = c;
        }
        if (!(key = mcf__json_strdup(j, &nul))) return mcf__fail(MCF_INTERNAL_ERROR, "safetensors: %s: out of memory", r->name);
        if (nul) { MCF_FREE(key); return mcf__fail(MCF_NOT_SUPPORTED, "safetensors: %s: a __metadata__ key contains U+0000 (not representable as a C string)", r->name); }
        if ((rc = mcf__json_next(j)) != MCF_OK) { MCF_FREE(key); return rc; }
        if (j->type != MCF__J_STR) {
            rc = mcf__fail(MCF_DESERIALIZE_FAIL, "safetensors: %s: __metadata__ value of \"%s\" is not a string", r->name, key);
            MCF_FREE(key);
            return rc;
        }
        if (!(val = mcf__json_strdup(j, &nul))) { MCF_FREE(key); return mcf__fail(MCF_INTERNAL_ERROR, "safetensors: %s: out of memory", r->name); }
        if (nul) {
            rc = mcf__fail(MCF_NOT_SUPPORTED, "safetensors: %s: __metadata__ value of \"%s\" contains U+0000 (not representable as a C string)", r->name, key);
            MCF_FREE(key); MCF_FREE(val);
            return rc;
        }
        r->meta[2 * r->meta_count] = key;
        r->meta[2 * r->meta_count + 1] = val;
        r->meta_count++;
    }
}

/* Order of data_offsets (begin, end), then header position (a stable sort). */
typedef struct mcf__st_span { uint64_t begin, end; size_t idx; } mcf__st_span;

static int mcf__st_span_cmp(const void *pa, const void *pb)
{
    const mcf__st_span *a = (const mcf__st_span *)pa, *b = (const mcf__st_span *)pb;
    if (a->begin != b->begin) return a->begin < b->begin ? -1 : 1;
    if (a->end != b->end) return a->end < b->end ? -1 : 1;
    return a->idx < b->idx ? -1 : a->idx > b->idx;
}

static int mcf__st_strcmp(const void *pa, const void *pb)
{
    return strcmp(*(const char *const *)pa, *(const char *const *)pb);
}

/* Fails on a repeated string among names[0..n) (sorted in place). */
static int mcf__st_no_dups(mcf_reader *r, const char **names, size_t n, const char *what)
{
    size_t i;
    if (n > 1) qsort((void *)names, n, sizeof *names, mcf__st_strcmp);
    for (i = 1; i < n; i++)
        if (strcmp(names[i], names[i - 1]) == 0)
            return mcf__fail(MCF_DESERIALIZE_FAIL, "safetensors: %s: duplicate %s \"%s\"", r->name, what, names[i]);
    return MCF_OK;
}

/* Walks the (already validated) header and checks the layout. */
static int mcf__st_walk(mcf__st_parse *p, const unsigned char *hdr, size_t n, uint64_t hlen)
{
    mcf_reader *r = p->r;
    mcf__json j;
    mcf__st_span *spans = NULL;
    const char **names = NULL;
    uint64_t start = 0, end, size = r->src.size;
    size_t i;
    int rc, nul, have_meta = 0;
    mcf__json_init(&j, hdr, n, p->who);
    if ((rc = mcf__json_next(&j)) != MCF_OK) return rc;
    if (j.type != MCF__J_OBJ) return mcf__fail(MCF_DESERIALIZE_FAIL, "safetensors: %s: the header is not a JSON object", r->name);
    for (;;) {
        mcf__entry *e;
        if ((rc = mcf__json_next(&j)) != MCF_OK) return rc;
        if (j.type == MCF__J_OBJ_END) break;
        if (mcf__json_tok_is(&j, "__metadata__")) {
            if (have_meta++) return mcf__fail(MCF_DESERIALIZE_FAIL, "safetensors: %s: repeated __metadata__ key", r->name);
            if ((rc = mcf__st_metadata(&j, p)) != MCF_OK) return rc;
            continue;
        }
        if ((rc = mcf__st_grow(p)) != MCF_OK) return rc;
        e = &r->entries[r->count];
        memset(e, 0, sizeof *e);
        if (!(e->name = mcf__json_strdup(&j, &nul))) return mcf__fail(MCF_INTERNAL_ERROR, "safetensors: %s: out of memory", r->name);
        r->count++;
        if (nul) return mcf__fail(MCF_NOT_SUPPORTED, "safetensors: %s: tensor name \"%s\\u0000...\" contains U+0000 (not representable as a C string)", r->name, e->name);
        if ((rc = mcf__st_tensor(&j, p, e, p->offs + 2 * (r->count - 1))) != MCF_OK) return rc;
    }
    /* duplicate names and metadata keys: two readers could see different tensors */
    names = (const char **)mcf__calloc(r->count > r->meta_count ? r->count + 1 : r->meta_count + 1, sizeof *names);
    spans = (mcf__st_span *)mcf__calloc(r->count + 1, sizeof *spans);
    if (!names || !spans) { rc = mcf__fail(MCF_INTERNAL_ERROR, "safetensors: %s: out of memory", r->name); goto done; }
    for (i = 0; i < r->count; i++) names[i] = r->entries[i].name;
    if ((rc = mcf__st_no_dups(r, names, r->count, "tensor name")) != MCF_OK) goto done;
    for (i = 0; i < r->meta_count; i++) names[i] = r->meta[2 * i];
    if ((rc = mcf__st_no_dups(r, names, r->meta_count, "__metadata__ key")) != MCF_OK) goto done;
    /* offsets sorted by (begin, end): start at 0, contiguous, exact spans */
    for (i = 0; i < r->count; i++) { spans[i].begin = p->offs[2 * i]; spans[i].end = p->offs[2 * i + 1]; spans[i].idx = i; }
    if (r->count > 1) qsort(spans, r->count, sizeof *spans, mcf__st_span_cmp);
    for (i = 0; i < r->count; i++) {
        mcf__entry *e = &r->entries[spans[i].idx];
        uint64_t b = spans[i].begin, en = spans[i].end;
        if (en < b) { rc = mcf__fail(MCF_DESERIALIZE_FAIL, "safetensors: %s: tensor \"%s\": data_offsets [%llu,%llu) end before they begin", r->name, e->name, (unsigned long long)b, (unsigned long long)en); goto done; }
        if (b != start) {
            rc = mcf__fail(MCF_DESERIALIZE_FAIL, "safetensors: %s: tensor \"%s\": data_offsets [%llu,%llu) %s (expected to begin at %llu)", r->name, e->name,
                           (unsigned long long)b, (unsigned long long)en, b < start ? "overlap the previous tensor" : "leave a gap after the previous tensor",
                           (unsigned long long)start);
            goto done;
        }
        if (en - b != e->nbytes) {
            char shp[16 * MCF_MAX_DIMS + 4];
            size_t k = 0;
            int d;
            for (d = 0; d < e->ndim; d++) k += (size_t)snprintf(shp + k, sizeof shp - k, "%s%lld", d ? "," : "", (long long)e->shape[d]);
            shp[k] = '\0';
            rc = mcf__fail(MCF_DESERIALIZE_FAIL, "safetensors: %s: tensor \"%s\" data_offsets [%llu,%llu) do not match dtype %s shape [%s] (%llu bytes)",
                           r->name, e->name, (unsigned long long)b, (unsigned long long)en, mcf__dtypes[e->dtype].name, shp, (unsigned long long)e->nbytes);
            goto done;
        }
        start = en;
    }
    /* the buffer must end exactly at the end of the file */
    if (!mcf__add64(8 + hlen, start, &end) || end > size) {
        rc = mcf__fail(MCF_DESERIALIZE_FAIL, "safetensors: %s: tensor data ends at byte %llu%s, past the end of the file (%llu bytes)", r->name,
                       (unsigned long long)start, " of the buffer", (unsigned long long)size);
        goto done;
    }
    if (end < size && !(r->flags & MCF_LENIENT)) {
        rc = mcf__fail(MCF_DESERIALIZE_FAIL, "safetensors: %s: %llu trailing bytes after the last tensor (the buffer ends at byte %llu of %llu; MCF_LENIENT accepts this)",
                       r->name, (unsigned long long)(size - end), (unsigned long long)end, (unsigned long long)size);
        goto done;
    }
    for (i = 0; i < r->count; i++) {
        mcf__entry *e = &r->entries[i];
        e->offset = 8 + hlen + p->offs[2 * i];
        e->span = e->nbytes;
        e->contiguous = 1;
        e->aux = -1;
    }
done:
    MCF_FREE(names);
    MCF_FREE(spans);
    return rc;
}

static int mcf__st_open(mcf_reader *r)
{
    mcf__st_parse p;
    unsigned char lenb[8], *owned = NULL;
    const unsigned char *hdr;
    uint64_t hlen, size = r->src.size;
    int rc;
    memset(&p, 0, sizeof p);
    p.r = r;
    (void)snprintf(p.who, sizeof p.who, "safetensors: %s", r->name);
    if (size < 8)
        return mcf__fail(MCF_DESERIALIZE_FAIL, "safetensors: %s: file of %llu bytes is too short for the 8-byte header length", r->name, (unsigned long long)size);
    if ((rc = mcf__source_read(&r->src, 0, lenb, 8)) != MCF_OK) return rc;
    hlen = mcf__le64(lenb);
    /* both limits are checked before anything is allocated */
    if (hlen > MCF_MAX_HEADER)
        return mcf__fail(MCF_DESERIALIZE_FAIL, "safetensors: %s: header length %llu exceeds the limit of %llu bytes", r->name,
                         (unsigned long long)hlen, (unsigned long long)MCF_MAX_HEADER);
    if (hlen > size - 8)
        return mcf__fail(MCF_DESERIALIZE_FAIL, "safetensors: %s: header length %llu runs past the end of the file (%llu bytes)", r->name,
                         (unsigned long long)hlen, (unsigned long long)size);
    if (r->src.base) hdr = r->src.base + 8;   /* mapped or in memory: parse in place */
    else {
        if (!(owned = (unsigned char *)mcf__malloc((size_t)hlen)))
            return mcf__fail(MCF_INTERNAL_ERROR, "safetensors: %s: out of memory for a %llu-byte header", r->name, (unsigned long long)hlen);
        if ((rc = mcf__source_read(&r->src, 8, owned, (size_t)hlen)) != MCF_OK) { MCF_FREE(owned); return rc; }
        hdr = owned;
    }
    /* the whole header must be valid JSON before any of it is interpreted */
    rc = mcf__json_validate(hdr, (size_t)hlen, p.who);
    if (rc == MCF_OK) rc = mcf__st_walk(&p, hdr, (size_t)hlen, hlen);
    MCF_FREE(owned);
    MCF_FREE(p.offs);
    return rc;
}

/* ===== [13] zip ========================================================== */

/* ===== [14] pickle ======================================================= */

/* ===== [15] torch .pt ==================================================== */
/* Contract with [16]: as for [12]. */
static int mcf__pt_save(mcf__sink *s, const mcf_tensor *t, size_t n, const mcf_options *o)
{
    (void)t; (void)n; (void)o;
    return mcf__fail(MCF_NOT_SUPPORTED, "%s: torch writing is not built yet", s->name);
}

static int mcf__pt_open(mcf_reader *r)
{
    return mcf__fail(MCF_NOT_SUPPORTED, "%s: torch reading is not built yet", r->name);
}

/* ===== [16] save/open dispatch =========================================== */
/* Resolves options once, picks the format (suffix on save, sniffed bytes on
 * load), runs the format section against a sink or source, and commits or
 * aborts. Reader operations shared by all formats live here too. */
enum { MCF__FMT_AUTO = 0, MCF__FMT_SAFETENSORS = 1, MCF__FMT_TORCH = 2 };

static int mcf__parse_format(const char *f, int *fmt)
{
    if (!f || !*f || mcf__name_is(f, "auto")) { *fmt = MCF__FMT_AUTO; return MCF_OK; }
    if (mcf__name_is(f, "safetensors") || mcf__name_is(f, "safe_tensors")) { *fmt = MCF__FMT_SAFETENSORS; return MCF_OK; }
    if (mcf__name_is(f, "torch") || mcf__name_is(f, "pt") || mcf__name_is(f, "pth") || mcf__name_is(f, "standard") || mcf__name_is(f, "standard_file")) {
        *fmt = MCF__FMT_TORCH;
        return MCF_OK;
    }
    return mcf__fail(MCF_INVALID_PARAMS, "unknown format \"%s\" (valid: auto, safetensors, safe_tensors, torch, pt, pth, standard, standard_file)", f);
}

/* Open-addressing table of entry names (slot = index + 1, 0 = empty). Fails
 * on a duplicate name, which would let two readers see different tensors. */
static int mcf__index_build(size_t **index, size_t *cap, const char *const *names, size_t n, size_t *dup)
{
    size_t c = 16, i;
    while (c < 2 * n) c *= 2;
    *index = (size_t *)mcf__calloc(c, sizeof(size_t));
    if (!*index) return MCF_INTERNAL_ERROR;
    *cap = c;
    for (i = 0; i < n; i++) {
        size_t h = mcf__hash(names[i]) & (c - 1);
        while ((*index)[h]) {
            if (strcmp(names[(*index)[h] - 1], names[i]) == 0) { *dup = i; return MCF_INVALID_PARAMS; }
            h = (h + 1) & (c - 1);
        }
        (*index)[h] = i + 1;
    }
    return MCF_OK;
}

/* Checks the caller's tensors before anything is opened for writing. */
static int mcf__check_save_args(const mcf_tensor *t, size_t n, const char *who)
{
    const char **names;
    size_t *index = NULL, cap = 0, dup = 0, i;
    int rc;
    if (!t && n) return mcf__fail(MCF_INVALID_PARAMS, "%s: NULL tensor array", who);
    for (i = 0; i < n; i++) {
        if (!t[i].name) return mcf__fail(MCF_INVALID_PARAMS, "%s: tensor %lu has no name", who, (unsigned long)i);
        if ((rc = mcf__check_tensor(&t[i], who)) != MCF_OK) return rc;
    }
    names = (const char **)mcf__calloc(n ? n : 1, sizeof *names);
    if (!names) return mcf__fail(MCF_INTERNAL_ERROR, "%s: out of memory", who);
    for (i = 0; i < n; i++) names[i] = t[i].name;
    rc = mcf__index_build(&index, &cap, names, n, &dup);
    MCF_FREE(index);
    MCF_FREE(names);
    if (rc == MCF_INVALID_PARAMS) return mcf__fail(MCF_INVALID_PARAMS, "%s: duplicate tensor name \"%s\"", who, t[dup].name);
    if (rc != MCF_OK) return mcf__fail(MCF_INTERNAL_ERROR, "%s: out of memory", who);
    return MCF_OK;
}

static int mcf__save_with(int fmt, mcf__sink *s, const mcf_tensor *t, size_t n, const mcf_options *o)
{
    return fmt == MCF__FMT_SAFETENSORS ? mcf__st_save(s, t, n, o) : mcf__pt_save(s, t, n, o);
}

MCFDEF int mcf_save(const char *url, const mcf_tensor *t, size_t n, const mcf_options *o)
{
    mcf_url u;
    mcf__sink s;
    int fmt, rc;
    if ((rc = mcf__parse_format(o ? o->format : NULL, &fmt)) != MCF_OK) return rc;
    if ((rc = mcf__check_save_args(t, n, url ? url : "mcf_save")) != MCF_OK) return rc;
    memset(&s, 0, sizeof s);
    if ((rc = mcf__resolve(url, o, &u, &s.fs)) != MCF_OK) return rc;
    if (fmt == MCF__FMT_AUTO) fmt = mcf__ends_with_nocase(u.path, ".safetensors") ? MCF__FMT_SAFETENSORS : MCF__FMT_TORCH;
    if (!s.fs.write) rc = mcf__fail(MCF_NOT_SUPPORTED, "%s: the %s filesystem is read-only", u.url, u.scheme);
    else {
        s.url = &u; s.o = o; s.name = u.url;
        rc = mcf__save_with(fmt, &s, t, n, o);
        if (s.begun) {
            if (rc == MCF_OK && s.done != s.total)
                rc = mcf__fail(MCF_INTERNAL_ERROR, "%s: writer wrote %llu of %llu planned bytes", u.url, (unsigned long long)s.done, (unsigned long long)s.total);
            if (rc == MCF_OK) rc = s.fs.commit(s.file);
            else s.fs.abort(s.file);
        }
    }
    mcf_url_free(&u);
    return rc;
}

MCFDEF int mcf_save_to_memory(const mcf_tensor *t, size_t n, const mcf_options *o, void **out, size_t *out_len)
{
    mcf__sink s;
    int fmt, rc;
    if (!out || !out_len) return mcf__fail(MCF_INVALID_PARAMS, "mcf_save_to_memory: NULL output");
    if ((rc = mcf__parse_format(o ? o->format : NULL, &fmt)) != MCF_OK) return rc;
    if (fmt == MCF__FMT_AUTO) return mcf__fail(MCF_INVALID_PARAMS, "mcf_save_to_memory: options.format must be \"safetensors\" or \"torch\"");
    if ((rc = mcf__check_save_args(t, n, "mcf_save_to_memory")) != MCF_OK) return rc;
    memset(&s, 0, sizeof s);
    s.o = o;
    s.name = "<memory>";
    rc = mcf__save_with(fmt, &s, t, n, o);
    if (rc == MCF_OK && s.done != s.total)
        rc = mcf__fail(MCF_INTERNAL_ERROR, "mcf_save_to_memory: writer wrote %llu of %llu planned bytes", (unsigned long long)s.done, (unsigned long long)s.total);
    if (rc != MCF_OK) { MCF_FREE(s.mem); return rc; }
    *out = s.mem;
    *out_len = (size_t)s.total;
    return MCF_OK;
}

/* Format by content; the suffix only breaks ties (DESIGN §5). */
static int mcf__sniff(mcf_reader *r, int forced, const char *path)
{
    unsigned char head[24];
    size_t n = r->src.size < sizeof head ? (size_t)r->src.size : sizeof head, i;
    int rc;
    if (forced != MCF__FMT_AUTO) return forced;
    if ((rc = mcf__source_read(&r->src, 0, head, n)) != MCF_OK) return rc;
    if (n >= 4 && head[0] == 'P' && head[1] == 'K' && (head[2] == 3 || head[2] == 5) && (head[3] == 4 || head[3] == 6)) return MCF__FMT_TORCH;
    if (n >= 2 && head[0] == 0x80 && head[1] >= 2 && head[1] <= 5) return MCF__FMT_TORCH;   /* legacy pickle stream */
    if (n >= 9 && mcf__le64(head) <= MCF_MAX_HEADER) {
        for (i = 8; i < n && (head[i] == ' ' || head[i] == '\t' || head[i] == '\n' || head[i] == '\r'); i++) { }
        if (i < n && head[i] == '{') return MCF__FMT_SAFETENSORS;
    }
    if (path && mcf__ends_with_nocase(path, ".safetensors")) return MCF__FMT_SAFETENSORS;
    if (path && (mcf__ends_with_nocase(path, ".pt") || mcf__ends_with_nocase(path, ".pth") || mcf__ends_with_nocase(path, ".bin"))) return MCF__FMT_TORCH;
    return mcf__fail(MCF_DESERIALIZE_FAIL, "%s: not a safetensors or PyTorch file (%llu bytes, unknown leading bytes)",
                     r->name, (unsigned long long)r->src.size);
}

static void mcf__reader_free(mcf_reader *r)
{
    size_t i;
    if (!r) return;
    if (r->priv_free) r->priv_free(r->priv);
    if (r->views) for (i = 0; i < r->count; i++) MCF_FREE(r->views[i]);
    if (r->entries) for (i = 0; i < r->count; i++) MCF_FREE(r->entries[i].name);
    if (r->meta) for (i = 0; i < 2 * r->meta_count; i++) MCF_FREE(r->meta[i]);
    MCF_FREE(r->meta);
    MCF_FREE(r->views);
    MCF_FREE(r->verified);
    MCF_FREE(r->index);
    MCF_FREE(r->entries);
    mcf__source_close(&r->src);
    MCF_FREE(r->name);
    MCF_FREE(r);
}

/* Shared tail of mcf_open/mcf_open_memory: sniff, parse, index. */
static int mcf__open_common(mcf_reader *r, const mcf_options *o, const char *path)
{
    int fmt, rc;
    size_t i, dup = 0;
    const char **names;
    if ((rc = mcf__parse_format(o ? o->format : NULL, &fmt)) != MCF_OK) return rc;
    r->flags = o ? o->flags : 0;
    fmt = mcf__sniff(r, fmt, path);
    if (fmt < 0) return fmt;
    r->format = fmt == MCF__FMT_SAFETENSORS ? "safetensors" : "torch";
    rc = fmt == MCF__FMT_SAFETENSORS ? mcf__st_open(r) : mcf__pt_open(r);
    if (rc != MCF_OK) return rc;
    r->views = (void **)mcf__calloc(r->count ? r->count : 1, sizeof(void *));
    r->verified = (unsigned char *)mcf__calloc(r->count ? r->count : 1, 1);
    names = (const char **)mcf__calloc(r->count ? r->count : 1, sizeof *names);
    if (!r->views || !r->verified || !names) { MCF_FREE(names); return mcf__fail(MCF_INTERNAL_ERROR, "%s: out of memory", r->name); }
    for (i = 0; i < r->count; i++) names[i] = r->entries[i].name;
    rc = mcf__index_build(&r->index, &r->index_cap, names, r->count, &dup);
    MCF_FREE(names);
    if (rc == MCF_INVALID_PARAMS) return mcf__fail(MCF_DESERIALIZE_FAIL, "%s: duplicate tensor name \"%s\"", r->name, r->entries[dup].name);
    if (rc != MCF_OK) return mcf__fail(MCF_INTERNAL_ERROR, "%s: out of memory", r->name);
    return MCF_OK;
}

MCFDEF int mcf_open(const char *url, const mcf_options *o, mcf_reader **out)
{
    mcf_url u;
    mcf_reader *r;
    int rc;
    if (!out) return mcf__fail(MCF_INVALID_PARAMS, "mcf_open: NULL output");
    *out = NULL;
    r = (mcf_reader *)mcf__calloc(1, sizeof *r);
    if (!r) return mcf__fail(MCF_INTERNAL_ERROR, "mcf_open: out of memory");
    if ((rc = mcf__resolve(url, o, &u, &r->src.fs)) != MCF_OK) { MCF_FREE(r); return rc; }
    r->name = mcf__strdup(u.url);
    if (!r->name) rc = mcf__fail(MCF_INTERNAL_ERROR, "mcf_open: out of memory");
    else rc = r->src.fs.open_read(r->src.fs.user, &u, o, &r->src.file, &r->src.size);
    if (rc != MCF_OK) { r->src.file = NULL; mcf_url_free(&u); mcf__reader_free(r); return rc; }
    r->src.name = r->name;
    if (r->src.fs.map) r->src.base = (const unsigned char *)r->src.fs.map(r->src.file);
    rc = mcf__open_common(r, o, u.path);
    mcf_url_free(&u);
    if (rc != MCF_OK) { mcf__reader_free(r); return rc; }
    *out = r;
    return MCF_OK;
}

MCFDEF int mcf_open_memory(const void *buf, size_t len, const mcf_options *o, mcf_reader **out)
{
    mcf_reader *r;
    int rc;
    if (!out) return mcf__fail(MCF_INVALID_PARAMS, "mcf_open_memory: NULL output");
    *out = NULL;
    if (!buf && len) return mcf__fail(MCF_INVALID_PARAMS, "mcf_open_memory: NULL buffer");
    r = (mcf_reader *)mcf__calloc(1, sizeof *r);
    if (!r || !(r->name = mcf__strdup("<memory>"))) { MCF_FREE(r); return mcf__fail(MCF_INTERNAL_ERROR, "mcf_open_memory: out of memory"); }
    r->src.base = (const unsigned char *)(buf ? buf : "");
    r->src.size = len;
    r->src.name = r->name;
    rc = mcf__open_common(r, o, NULL);
    if (rc != MCF_OK) { mcf__reader_free(r); return rc; }
    *out = r;
    return MCF_OK;
}

MCFDEF void mcf_close(mcf_reader *r) { mcf__reader_free(r); }

MCFDEF size_t mcf_count(const mcf_reader *r) { return r ? r->count : 0; }

MCFDEF const char *mcf_reader_format(const mcf_reader *r) { return r ? r->format : ""; }

static int mcf__check_index(const mcf_reader *r, size_t i, const char *who)
{
    if (!r) return mcf__fail(MCF_INVALID_PARAMS, "%s: NULL reader", who);
    if (i >= r->count) return mcf__fail(MCF_INVALID_PARAMS, "%s: %s: entry %lu out of range (%lu entries)", who, r->name, (unsigned long)i, (unsigned long)r->count);
    return MCF_OK;
}

MCFDEF int mcf_entry(const mcf_reader *r, size_t i, mcf_tensor *info)
{
    const mcf__entry *e;
    int rc;
    if ((rc = mcf__check_index(r, i, "mcf_entry")) != MCF_OK) return rc;
    if (!info) return mcf__fail(MCF_INVALID_PARAMS, "mcf_entry: NULL output");
    e = &r->entries[i];
    memset(info, 0, sizeof *info);
    info->name = e->name;
    info->dtype = e->dtype;
    info->ndim = e->ndim;
    memcpy(info->shape, e->shape, sizeof e->shape);
    return MCF_OK;
}

MCFDEF int mcf_entry_location(const mcf_reader *r, size_t i, uint64_t *offset, uint64_t *nbytes)
{
    int rc;
    if ((rc = mcf__check_index(r, i, "mcf_entry_location")) != MCF_OK) return rc;
    if (offset) *offset = r->entries[i].offset;
    if (nbytes) *nbytes = r->entries[i].nbytes;
    return MCF_OK;
}

MCFDEF int mcf_find(const mcf_reader *r, const char *name)
{
    size_t h;
    if (!r || !name) return mcf__fail(MCF_INVALID_PARAMS, "mcf_find: NULL argument");
    if (r->index_cap) {
        h = mcf__hash(name) & (r->index_cap - 1);
        while (r->index[h]) {
            size_t i = r->index[h] - 1;
            if (strcmp(r->entries[i].name, name) == 0) return (int)i;
            h = (h + 1) & (r->index_cap - 1);
        }
    }
    return mcf__fail(MCF_OBJECT_NOT_FOUND, "%s: no tensor named \"%s\"", r->name, name);
}

static int mcf__verify_once(mcf_reader *r, size_t i)
{
    int rc;
    if (!(r->flags & MCF_VERIFY) || !r->verify || r->verified[i]) return MCF_OK;
    if ((rc = r->verify(r, i)) != MCF_OK) return rc;
    r->verified[i] = 1;
    return MCF_OK;
}

MCFDEF int mcf_read(mcf_reader *r, size_t i, void *dst, size_t dst_len)
{
    const mcf__entry *e;
    unsigned char *tmp = NULL;
    int rc;
    if ((rc = mcf__check_index(r, i, "mcf_read")) != MCF_OK) return rc;
    e = &r->entries[i];
    if (!dst && dst_len) return mcf__fail(MCF_INVALID_PARAMS, "mcf_read: NULL buffer");
    if (dst_len < e->nbytes)
        return mcf__fail(MCF_BUFFER_OVERFLOW, "%s: tensor \"%s\" needs %llu bytes, buffer has %llu", r->name, e->name,
                         (unsigned long long)e->nbytes, (unsigned long long)dst_len);
    if ((rc = mcf__verify_once(r, i)) != MCF_OK) return rc;
    if (e->nbytes == 0) return MCF_OK;
    if (e->contiguous) {
        rc = mcf__source_read(&r->src, e->offset, dst, (size_t)e->nbytes);
    } else {
        const unsigned char *base;
        if (r->src.base) base = r->src.base + e->offset;
        else {
            if (!mcf__fits_size(e->span) || !(tmp = (unsigned char *)mcf__malloc((size_t)e->span)))
                return mcf__fail(MCF_INTERNAL_ERROR, "%s: out of memory reading tensor \"%s\"", r->name, e->name);
            if ((rc = mcf__source_read(&r->src, e->offset, tmp, (size_t)e->span)) != MCF_OK) { MCF_FREE(tmp); return rc; }
            base = tmp;
        }
        mcf__gather(base, mcf_dtype_size(e->dtype), e->ndim, e->shape, e->strides, 0,
                    mcf__numel(e->ndim, e->shape), (unsigned char *)dst);
        MCF_FREE(tmp);
    }
    if (rc == MCF_OK && MCF__BIG_ENDIAN) mcf__swap_units(dst, (size_t)e->nbytes, mcf__dtypes[e->dtype].swap);
    return rc;
}

MCFDEF int mcf_view(mcf_reader *r, size_t i, const void **data)
{
    const mcf__entry *e;
    int rc;
    if ((rc = mcf__check_index(r, i, "mcf_view")) != MCF_OK) return rc;
    if (!data) return mcf__fail(MCF_INVALID_PARAMS, "mcf_view: NULL output");
    e = &r->entries[i];
    if ((rc = mcf__verify_once(r, i)) != MCF_OK) return rc;
    if (e->contiguous && r->src.base && (!MCF__BIG_ENDIAN || mcf__dtypes[e->dtype].swap < 2)) {
        *data = r->src.base + e->offset;   /* zero-copy */
        return MCF_OK;
    }
    if (!r->views[i]) {
        void *p;
        if (!mcf__fits_size(e->nbytes)) return mcf__fail(MCF_NOT_SUPPORTED, "%s: tensor \"%s\" (%llu bytes) does not fit in memory on this host", r->name, e->name, (unsigned long long)e->nbytes);
        p = mcf__malloc((size_t)e->nbytes);
        if (!p) return mcf__fail(MCF_INTERNAL_ERROR, "%s: out of memory for tensor \"%s\"", r->name, e->name);
        if ((rc = mcf_read(r, i, p, (size_t)e->nbytes)) != MCF_OK) { MCF_FREE(p); return rc; }
        r->views[i] = p;
    }
    *data = r->views[i];
    return MCF_OK;
}

MCFDEF size_t mcf_metadata_count(const mcf_reader *r) { return r ? r->meta_count : 0; }

MCFDEF int mcf_metadata_pair(const mcf_reader *r, size_t i, const char **key, const char **value)
{
    if (!r || i >= r->meta_count) return mcf__fail(MCF_INVALID_PARAMS, "mcf_metadata_pair: index out of range");
    if (key) *key = r->meta[2 * i];
    if (value) *value = r->meta[2 * i + 1];
    return MCF_OK;
}

MCFDEF const char *mcf_metadata(const mcf_reader *r, const char *key)
{
    size_t i;
    if (!r || !key) return NULL;
    for (i = 0; i < r->meta_count; i++)
        if (strcmp(r->meta[2 * i], key) == 0) return r->meta[2 * i + 1];
    return NULL;
}

/* ===== [17] Mooncake object codec & store API ============================ */

#endif /* MOONCAKE_FILEIO_IMPLEMENTATION */

/*
------------------------------------------------------------------------------
CHANGE LOG
  0.1.0  first release: foundation (results, dtypes, URLs, file + memory
         filesystems).
------------------------------------------------------------------------------
LICENSE

Copyright 2026 The mooncake_fileio.h authors

Licensed under the Apache License, Version 2.0 (the "License");
you may not use this file except in compliance with the License.
You may obtain a copy of the License at

    http://www.apache.org/licenses/LICENSE-2.0

Unless required by applicable law or agreed to in writing, software
distributed under the License is distributed on an "AS IS" BASIS,
WITHOUT WARRANTIES OR CONDITIONS OF ANY KIND, either express or implied.
See the License for the specific language governing permissions and
limitations under the License.
------------------------------------------------------------------------------
*/
