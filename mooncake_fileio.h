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
 * TASKS (what to call; every name is declared below with what it returns)
 * ===========================================================================
 *   save tensors to a file, memory:// or S3
 *       mcf_save (format from options.format, else the suffix);
 *       mcf_save_to_memory for one malloc'ed buffer
 *   load one tensor from a file, http or S3 (only its bytes are read)
 *       mcf_open, mcf_find, then mcf_read into your buffer or mcf_view
 *       (zero-copy when mapped), mcf_close; S3 credentials and endpoint in
 *       options.storage_options ("key", "secret", "region", "endpoint_url")
 *   load many tensors (a whole model) into your buffers, in parallel
 *       mcf_open with options.threads = N, then mcf_read_many
 *   list a checkpoint's tensors and metadata
 *       mcf_count, mcf_entry, mcf_entry_location, mcf_metadata,
 *       mcf_metadata_count/mcf_metadata_pair, mcf_reader_format
 *   load a sharded checkpoint (model.safetensors.index.json, ...)
 *       mcf_open of the index: one reader over every shard; mcf_entry_source
 *       names an entry's shard
 *   save in shards with an index, as Hugging Face does
 *       mcf_save with options.max_shard_bytes
 *   list a checkpoint's non-tensor values (epoch, lr, optimizer settings)
 *       mcf_value_count, mcf_value (Python type name and repr text)
 *   read a slice, or read as F32 / F16 / BF16 / F64
 *       mcf_read_slice, mcf_read_as (mcf_slice_range builds a slice,
 *       mcf_slice_shape tells the result's shape)
 *   convert .pt to safetensors (or back)
 *       mcf_open the .pt; per entry mcf_entry + mcf_view into an mcf_tensor
 *       array; mcf_save it to "x.safetensors"; then mcf_close (the mcf
 *       command-line tool's "convert" does this)
 *   check a torch checkpoint's CRC-32s
 *       options.flags |= MCF_VERIFY, then mcf_read/mcf_view each entry
 *   convert elements in memory
 *       mcf_convert, mcf_convert_supported
 *   put a tensor into the Mooncake store, get it back
 *       mcf_mooncake_store_init (a store_c.h client) or
 *       mcf_memory_store_create; mcf_store_put_tensor, mcf_store_get_tensor,
 *       mcf_tensor_free
 *   put a checkpoint into a store for Mooncake's model loader (SGLang, vLLM)
 *       mcf_seed_model (options.chunk_bytes); the mcf tool's "seed"
 *   many tensors (or raw bytes) in one store call
 *       mcf_store_put_tensors, mcf_store_get_tensors; mcf_store_put_bytes,
 *       mcf_store_get_into
 *   move tensors and KV-cache blocks between a store and files
 *       mcf_save_tensor_to_file, mcf_load_tensor_from_file (and the
 *       _kv_cache_ and _safetensor variants); mcf_save_tensor /
 *       mcf_load_tensor with an optional tensor and an optional file
 *   Mooncake tensor object bytes
 *       mcf_moon_object_size, mcf_moon_encode(_layout), mcf_moon_decode(_layout)
 *   whole objects by URL
 *       mcf_read_bytes, mcf_write_bytes, mcf_exists, mcf_file_size, mcf_remove
 *   add a filesystem ("oss://", ...)
 *       mcf_register_filesystem, mcf_filesystem_lookup, mcf_set_error
 *   parse a URL the way the library does
 *       mcf_url_parse, mcf_url_free
 *   dtype names and numbers
 *       mcf_dtype_name/mcf_dtype_parse (safetensors), mcf_dtype_torch_name/
 *       mcf_dtype_parse_torch, mcf_dtype_to_mooncake/mcf_dtype_from_mooncake
 *   CRC-32, what a remote load cost
 *       mcf_crc32; mcf_curl_counters
 *
 * ===========================================================================
 * CONTENTS (grep for the tag, e.g. "[15]"; a section calls only lower ones)
 * ===========================================================================
 *   [01] platform & config             [13] fs registry & whole-object helpers
 *   [02] results & last error          [14] JSON read/write
 *   [03] alloc, checked math & growth  [15] safetensors
 *   [04] bytes: LE load/store, CRC32   [16] zip
 *   [05] dtypes & tensors              [17] pickle
 *   [06] dtype conversion              [18] torch .pt
 *   [07] URL parser                    [19] readers: open, entries, reads,
 *   [08] fs interface: options,             views, slices, values
 *        sources & sinks               [20] sharded checkpoints: index,
 *   [09] fs: memory                         open, save
 *   [10] fs: posix                     [21] save dispatch
 *   [11] fs: win32                     [22] Mooncake object codec
 *   [12] fs: http & s3 (curl)          [23] store API
 *                                      [24] Mooncake store adapter
 *                                      [25] model seeding
 *
 * ===========================================================================
 * BUILD MACROS
 * ===========================================================================
 *   MOONCAKE_FILEIO_IMPLEMENTATION  compile the implementation in this TU
 *   MCF_STATIC                      make every function static (private copy)
 *   MOONCAKE_FILEIO_CURL            http://, https://, s3:// via libcurl (-lcurl)
 *   MOONCAKE_FILEIO_MOONCAKE_STORE  adapter over Mooncake's store_c.h
 *   MCF_NO_POSIX                    memory filesystem only (no unistd/mmap/
 *                                   pthread/windows.h): RTOS, bare metal
 *   MCF_MUTEX, MCF_MUTEX_INIT,      your own lock for the registry and the
 *   MCF_MUTEX_LOCK(p),              memory filesystem (all four or none), e.g.
 *   MCF_MUTEX_UNLOCK(p)             an RTOS mutex; see [01] in the code
 *   MCF_MALLOC/MCF_REALLOC/MCF_FREE library bookkeeping allocator (all or none)
 *   MCF_ASSERT                      assert() replacement
 *   MCF_NO_SIMD                     portable CRC-32 and conversion code only
 *   MCF_MAX_DIMS, MCF_ERROR_MAX,    limits and sizes you may set before the
 *   ... (see [01])                  first include; each is listed with its
 *                                   default and meaning in [01]
 * The implementation TU must include this header before any system header,
 * because the header defines _POSIX_C_SOURCE / _DEFAULT_SOURCE /
 * _FILE_OFFSET_BITS for pread, mmap and 64-bit offsets (an #error says so),
 * or define those itself first: _POSIX_C_SOURCE 200809L, _DEFAULT_SOURCE 1
 * and _FILE_OFFSET_BITS 64 (with MOONCAKE_FILEIO_MOONCAKE_STORE, the way to
 * include store_c.h first; see [24]).
 * Windows (MSVC or MinGW-w64, Vista or later): the file backend uses the wide
 * Win32 API; paths are UTF-8 and '/' and '\' both separate: C:\dir\x.pt,
 * file:///C:/dir/x.pt, \\server\share\x.pt and file://server/share/x.pt
 * all work. A file open in a reader with its mapping cannot be replaced
 * until that reader is closed (Windows refuses to rename over it).
 * 32-bit hosts: file sizes and offsets are 64-bit; anything that must be in
 * memory at once (mcf_read_bytes, mcf_view, memory sinks) and does not fit
 * size_t fails with MCF_NOT_SUPPORTED, and files over 4 GiB are read with
 * positional reads instead of a mapping.
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
 *                    backend (S3: key secret token region endpoint_url; ...);
 *                    a key the backend does not use is INVALID_PARAMS, and
 *                    local files and memory:// take none
 *   tensor_name      entry to write or select
 *   metadata         NULL-terminated key, value, ... safetensors __metadata__
 *   flags            MCF_DURABLE MCF_NO_MMAP MCF_VERIFY MCF_NO_OVERWRITE
 *                    MCF_LENIENT MCF_DIRECT (local files: O_DIRECT reads
 *                    and writes around the page cache, for cold loads and
 *                    KV-cache offload, FILE_FLAG_NO_BUFFERING on Windows;
 *                    unaligned heads and tails through aligned bounce
 *                    buffers; where the file system refuses it, buffered
 *                    I/O and a note; saves keep the temp file, rename and
 *                    MCF_DURABLE order; other backends ignore it)
 *   progress         progress(user, done, total); non-zero return cancels
 *   alloc/dealloc    where loaded tensor data goes (map_location analogue)
 *   threads          worker threads of a read (0 or 1: none, the default):
 *                    a reader keeps the value it was opened with; its
 *                    mcf_read/_slice/_as of 2 MiB or more and mcf_read_many
 *                    run in parts on up to that many threads, started for
 *                    the call and joined before it returns, when the
 *                    backend allows parallel reads (local files, memory://,
 *                    http/s3, mapped files); S3 uploads send that many
 *                    parts at once (see [12]); a torch save computes the CRC-32 of
 *                    each contiguous tensor of 8 MiB or more on a second
 *                    thread while it writes (the same bytes); MCF_NO_POSIX
 *                    and MCF_MUTEX builds run everything on the calling
 *                    thread
 *   replicate        replication of the puts a call makes into a store
 *                    (mcf_replicate, upstream's replicate config; NULL = the
 *                    store's defaults; the memory store has none)
 *   max_shard_bytes  mcf_save: 0 = one file; else shards of at most this
 *                    many tensor bytes plus an index, as Hugging Face
 *                    writes them (see [20])
 *   chunk_bytes      mcf_seed_model: a tensor larger than this many bytes is
 *                    stored as chunks plus a manifest (0 = never; Mooncake's
 *                    model loader uses 8 MiB in its standalone mode)
 *
 * ===========================================================================
 * ERRORS
 * ===========================================================================
 * Every fallible call returns 0 (MCF_OK) or a negative MCF_* code whose value
 * is Mooncake's ErrorCode number. mcf_last_error() then holds a sentence for
 * the latest failure in this thread naming the file or URL and the cause;
 * mcf_result_name() spells a code.
 * Out-parameters are written only on success; a failed call leaves them as
 * they were, with these exceptions: mcf_open and mcf_open_memory set *r to
 * NULL before anything can fail (so mcf_close(r) after a failure is
 * harmless); mcf_moon_encode and mcf_moon_encode_layout set *written to the
 * size needed when they return MCF_BUFFER_OVERFLOW, and mcf_store_get_into
 * sets *len so; the store batches mcf_store_put_tensors and
 * mcf_store_get_tensors fill results and out for every key, failed keys
 * included (their out[i] zeroed). A buffer the caller passes in to be
 * filled is written only by a successful call too, except that mcf_read may
 * leave part of the tensor in dst when a read fails midway. A failed save
 * never leaves a partial destination: writes go to a temporary object that is
 * renamed at the end.
 * A few successful calls leave a line in mcf_last_error() that starts with
 * "note: " or "warning: " (the return value is still MCF_OK): a store load
 * that took a file's only entry because no name matched ("warning: ... took
 * the only entry ..."), the first read from an http(s) server that
 * ignores Range requests ("note: http: URL: the server ignores Range
 * requests ..."), and a local file opened or saved with MCF_DIRECT on a
 * file system that refuses O_DIRECT ("note: file: \"PATH\": the file system
 * refuses O_DIRECT (invalid argument); reading with buffered I/O instead
 * (MCF_DIRECT)", "writing" for saves; on Windows "refuses
 * FILE_FLAG_NO_BUFFERING (invalid parameter, Windows error 87)"). Every
 * other success leaves the sentence as it was.
 * The "Returns:" line of each declaration lists the codes it can return.
 * There, "I/O codes" are what the filesystem backend reports:
 * MCF_FILE_NOT_FOUND, MCF_FILE_OPEN_FAIL, MCF_FILE_READ_FAIL,
 * MCF_FILE_WRITE_FAIL, MCF_PERMISSION_DENIED and, over http/s3,
 * MCF_PERSISTENT_FAIL (5xx answers, timeouts) and MCF_INTERNAL_ERROR; a
 * registered backend may return any code. "Store codes" are what the
 * mcf_store callbacks return (the memory store: MCF_OBJECT_NOT_FOUND,
 * MCF_INTERNAL_ERROR; Mooncake's store: its ErrorCode numbers).
 * MCF_INTERNAL_ERROR also means out of memory wherever a call allocates.
 * Local temp files are ".<name>.mcf-XXXXXXXX.tmp" beside the target; one left
 * by a killed process is removed by the next successful save of that name
 * (its flock() is free; without flock, once MCF_STALE_TEMP_SECONDS old).
 *
 * ===========================================================================
 * THREAD SAFETY
 * ===========================================================================
 * Every function may be called from several threads at once on different
 * objects. A reader (mcf_reader) must not be used by two threads at once.
 * With options.threads > 1 a read itself starts worker threads and joins
 * them before it returns; a registered backend is called from them only if
 * it sets MCF_FS_THREADSAFE_READ, and its read_at then sets its message
 * with mcf_set_error as usual (the library carries it to the caller).
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
 *   torch object nesting    <= MCF_MAX_TORCH_DEPTH (dicts/lists around tensors)
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

/* Tuning: define any of these before the first include to change it.
 * Switches without a default:
 *   MCF_NO_SIMD    compile only the portable CRC-32 and dtype conversion code
 *   MCF_ASSERT(x)  the internal-consistency check (default: assert(x))     */
#ifndef MCF_MAX_DIMS
#define MCF_MAX_DIMS 8                  /* tensor rank: Mooncake's TensorMetadata limit */
#endif
#ifndef MCF_MAX_HEADER
#define MCF_MAX_HEADER 100000000u       /* safetensors header cap (HF rule) */
#endif
#ifndef MCF_MAX_JSON_DEPTH
#define MCF_MAX_JSON_DEPTH 64           /* JSON nesting; a valid header nests 3 deep */
#endif
#ifndef MCF_MAX_PICKLE_STACK
#define MCF_MAX_PICKLE_STACK 1000000    /* values (and marks) on the unpickler stack */
#endif
#ifndef MCF_MAX_PICKLE_MEMO
#define MCF_MAX_PICKLE_MEMO 1000000     /* unpickler memo slots */
#endif
#ifndef MCF_MAX_ZIP_ENTRIES
#define MCF_MAX_ZIP_ENTRIES 1000000     /* entries in one .pt archive */
#endif
#ifndef MCF_MAX_TORCH_DEPTH
#define MCF_MAX_TORCH_DEPTH 256         /* dicts/lists nested around a .pt's tensors */
#endif
#ifndef MCF_MAX_FILESYSTEMS
#define MCF_MAX_FILESYSTEMS 32          /* schemes mcf_register_filesystem can add */
#endif
#ifndef MCF_ERROR_MAX
#define MCF_ERROR_MAX 1024              /* bytes of the last-error sentence */
#endif
#ifndef MCF_CHUNK_SIZE
#define MCF_CHUNK_SIZE ((size_t)4 << 20)   /* bytes per pass: strided/byte-swapped writes,
                                              CRC checks, batched slice reads */
#endif
#ifndef MCF_STALE_TEMP_SECONDS
#define MCF_STALE_TEMP_SECONDS 900      /* where flock() is unavailable: a temp file
                                           untouched this long is a killed save's */
#endif
#ifndef MCF_MAX_THREADS
#define MCF_MAX_THREADS 64              /* worker threads one call may run (options.threads
                                           is capped to it) */
#endif
#ifndef MCF_NET_PART_SIZE
#define MCF_NET_PART_SIZE ((uint64_t)64 << 20)   /* S3 multipart part size and threshold
                                                    (storage options override) */
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

/* The name of a code: "FILE_NOT_FOUND" for MCF_FILE_NOT_FOUND, and Mooncake's
 * own name for every other Mooncake ErrorCode a store passes through
 * ("NO_AVAILABLE_HANDLE" for -200, "OBJECT_HAS_LEASE" for -706, ...);
 * "UNKNOWN" for other values. Static. */
MCFDEF const char *mcf_result_name(int result);
/* The sentence for the latest failure in this thread; never NULL ("" before
 * any failure). Valid until the next failing call in the same thread. */
MCFDEF const char *mcf_last_error(void);

/* Sets this thread's last-error sentence (for backends, printf-style) and
 * returns code, so a backend fails with return mcf_set_error(code, ...). */
MCFDEF int mcf_set_error(int code, const char *fmt, ...)
#if defined(__GNUC__) || defined(__clang__)
    __attribute__((format(printf, 2, 3)))
#endif
    ;

/* ===== [03] alloc, checked math & growth ================================= */
/* Frees memory this library returned (mcf_read_bytes, mcf_save_to_memory). NULL ok. */
MCFDEF void mcf_free(void *p);

/* ===== [04] bytes: LE load/store, CRC32 ================================== */
/* Zip CRC-32 (reflected polynomial 0xEDB88320) of len bytes continuing from
 * crc (start with 0), using the fastest code this CPU runs. */
MCFDEF uint32_t mcf_crc32(uint32_t crc, const void *data, size_t len);
/* One named CRC-32 code path (for tests and benchmarks); *crc is in/out.
 * Returns: MCF_OK, MCF_INVALID_PARAMS (NULL argument, unknown variant),
 * MCF_NOT_SUPPORTED (this CPU or build lacks the path). */
enum { MCF_CRC32_BITWISE = 0, MCF_CRC32_SLICE8 = 1, MCF_CRC32_PCLMUL = 2, MCF_CRC32_VPCLMUL = 3, MCF_CRC32_ARM = 4 };
MCFDEF int mcf_crc32_variant(int variant, uint32_t *crc, const void *data, size_t len);
MCFDEF const char *mcf_crc32_variant_name(int variant);   /* "pclmulqdq", ...; static */

/* ===== [05] dtypes & tensors ============================================= */
typedef enum mcf_dtype {
    MCF_BOOL = 0, MCF_U8, MCF_I8, MCF_F8_E5M2, MCF_F8_E4M3,
    MCF_I16, MCF_U16, MCF_F16, MCF_BF16,
    MCF_I32, MCF_U32, MCF_F32, MCF_F64, MCF_I64, MCF_U64,
    /* newer safetensors types, carried as opaque bytes */
    MCF_C64, MCF_F8_E8M0, MCF_F4, MCF_F6_E2M3, MCF_F6_E3M2,
    /* torch.complex128: torch files only (safetensors has no such dtype) */
    MCF_C128,
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
/* safetensors spelling: "F32", "BF16", "F8_E4M3", ...; "C128" for the one
 * type safetensors lacks; "?" if invalid. */
MCFDEF const char *mcf_dtype_name(mcf_dtype dtype);
/* Parses a name mcf_dtype_name gives (exact case).
 * Returns: MCF_OK, MCF_INVALID_PARAMS (NULL argument, unknown name). */
MCFDEF int mcf_dtype_parse(const char *name, mcf_dtype *out);
/* torch name without "torch.": "float32", "bfloat16", "float8_e4m3fn", ...
 * NULL when torch has no such dtype. */
MCFDEF const char *mcf_dtype_torch_name(mcf_dtype dtype);
/* Parses a torch dtype name: "float32", "torch.float32", and torch aliases
 * ("float", "half", "long", ...).
 * Returns: MCF_OK, MCF_INVALID_PARAMS (NULL argument, unknown name). */
MCFDEF int mcf_dtype_parse_torch(const char *name, mcf_dtype *out);
/* Mooncake TensorDtype numbers (FLOAT32=0 ... FLOAT8_E5M2=14); -1 if none. */
MCFDEF int mcf_dtype_to_mooncake(mcf_dtype dtype);
/* Returns: MCF_OK, MCF_INVALID_PARAMS (NULL out, no dtype has that number). */
MCFDEF int mcf_dtype_from_mooncake(int mooncake_dtype, mcf_dtype *out);

/* product(shape) elements. UINT64_MAX on overflow or a negative dimension. */
MCFDEF uint64_t mcf_tensor_numel(const mcf_tensor *t);
/* Contiguous byte size (sub-byte types: ceil(elements * bits / 8)).
 * UINT64_MAX on overflow, negative dimension, bad ndim or bad dtype. */
MCFDEF uint64_t mcf_tensor_nbytes(const mcf_tensor *t);
/* 1 if t->strides is NULL or equal to the row-major strides of t->shape. */
MCFDEF int mcf_tensor_is_contiguous(const mcf_tensor *t);
/* Copies t (any strides >= 0) into dst as contiguous row-major bytes.
 * Returns: MCF_OK, MCF_INVALID_PARAMS (NULL argument; bad dtype, rank,
 * shape or strides, NULL data), MCF_BUFFER_OVERFLOW (dst_len <
 * mcf_tensor_nbytes(t)), MCF_SERIALIZE_UNSUPPORTED (a sub-byte dtype with
 * non-contiguous strides), MCF_NOT_SUPPORTED (more than size_t addresses). */
MCFDEF int mcf_tensor_copy_contiguous(const mcf_tensor *t, void *dst, size_t dst_len);

/* ===== [06] dtype conversion ============================================= */
/* Element conversions that give PyTorch's tensor.to(dtype) bits: from F64,
 * F32, F16, BF16, F8_E4M3, F8_E5M2, BOOL and the integer types to F64, F32,
 * F16 or BF16. Rounding is to nearest, ties to even; overflow gives +-inf;
 * F16 subnormals are kept; integers and F64 reach F16/BF16 through F32, as
 * PyTorch does (two roundings); BOOL is 0 or 1. A NaN becomes a quiet NaN
 * with the same sign and the top bits of its payload. */

/* Converts n elements from src to dst (both host byte order, not
 * overlapping); from == to copies. Uses the fastest path this CPU runs.
 * Returns: MCF_OK, MCF_INVALID_PARAMS (invalid dtype, NULL buffer),
 * MCF_NOT_SUPPORTED (a pair outside the list above, naming both dtypes; a
 * copy of sub-byte elements). */
MCFDEF int mcf_convert(mcf_dtype from, mcf_dtype to, const void *src, void *dst, size_t n);
/* 1 if mcf_convert (and mcf_read_as) handle from -> to, else 0. */
MCFDEF int mcf_convert_supported(mcf_dtype from, mcf_dtype to);
/* One named code path (for tests and benchmarks), the same results as
 * mcf_convert. Pairs a path does not speed up (SSE2, AVX2: BF16 <-> F32;
 * F16C: F16 <-> F32) run the portable code.
 * Returns: mcf_convert's codes, MCF_INVALID_PARAMS for an unknown variant,
 * MCF_NOT_SUPPORTED when this CPU or build lacks it (MCF_NO_SIMD leaves
 * only MCF_CONVERT_PORTABLE). */
enum { MCF_CONVERT_PORTABLE = 0, MCF_CONVERT_SSE2 = 1, MCF_CONVERT_AVX2 = 2, MCF_CONVERT_F16C = 3 };
MCFDEF int mcf_convert_variant(int variant, mcf_dtype from, mcf_dtype to, const void *src, void *dst, size_t n);
MCFDEF const char *mcf_convert_variant_name(int variant);   /* "avx2", ...; static */

/* ===== [07] URL parser =================================================== */
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

/* Splits url the way fsspec does: "scheme://rest", else a local path kept
 * as given (a one-letter scheme is a Windows drive, "C://x"). filesystem may
 * be NULL or a name as in mcf_options.filesystem. On success free with
 * mcf_url_free().
 * Returns: MCF_OK, MCF_INVALID_PARAMS (NULL argument, empty or malformed
 * URL), MCF_INTERNAL_ERROR. */
MCFDEF int  mcf_url_parse(const char *url, const char *filesystem, mcf_url *out);
MCFDEF void mcf_url_free(mcf_url *u);

/* ===== [08] fs interface: options, sources & sinks ======================= */
#define MCF_DURABLE       0x01u  /* fsync file, rename, fsync directory */
#define MCF_NO_MMAP       0x02u  /* read with pread instead of mmap */
#define MCF_VERIFY        0x04u  /* check zip CRC32s when reading */
#define MCF_NO_OVERWRITE  0x08u  /* fail if the destination exists */
#define MCF_LENIENT       0x10u  /* allow bytes after the safetensors buffer */
#define MCF_DIRECT        0x20u  /* local files: unbuffered (O_DIRECT) reads and writes */

typedef int (*mcf_progress_fn)(void *user, uint64_t done, uint64_t total);
/* Replication settings of a store put; the fields are declared in [23]. */
typedef struct mcf_replicate mcf_replicate;

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
    const mcf_replicate *replicate;        /* store puts: replication ([23]) */
    unsigned threads;                      /* worker threads (0 = 1 = none) */
    uint64_t max_shard_bytes;              /* mcf_save: shard size limit, 0 = one file ([20]) */
    uint64_t chunk_bytes;                  /* mcf_seed_model: chunk larger values ([25]) */
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
    unsigned flags;                              /* MCF_FS_THREADSAFE_READ */
} mcf_filesystem;
/* mcf_filesystem.flags: read_at may run on several threads at once for one
 * open file (reads with options.threads > 1 then run in parallel; without
 * it they stay serial). */
#define MCF_FS_THREADSAFE_READ 0x1u

/* ===== [12] fs: http & s3 (curl) ========================================= */
#ifdef MOONCAKE_FILEIO_CURL
/* Built-in backends "http", "https", "s3" (and "s3a"); storage_options keys:
 *   http(s): headers ("Name: value" lines), bearer_token, timeout and
 *            connect_timeout (seconds; timeout 0 = none), verify_tls ("0" to
 *            skip TLS checks), ca_file, retries (5xx/transport, default 3),
 *            part_size (bytes, default 64 MiB: the piece of a split read)
 *   s3:      key, secret, token (else AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY,
 *            AWS_SESSION_TOKEN), region (else AWS_REGION, AWS_DEFAULT_REGION,
 *            "us-east-1"), endpoint_url (else AWS_ENDPOINT_URL_S3,
 *            AWS_ENDPOINT_URL; path-style), anon ("1": unsigned), part_size
 *            and multipart_threshold (bytes, default 64 MiB), and the http keys
 *            except bearer_token. */
/* Reads are ranged GETs. Opening an object for reading is ONE of them: the
 * first 72 KiB, kept for the reads that fall inside it, with the size taken
 * from the answer (a 206's Content-Range total, a 200's Content-Length, a
 * 416 of an empty object), so opening a safetensors file whose header fits
 * in 72 KiB is one request and reading what lies in that block costs none.
 * mcf_file_size and mcf_exists send a HEAD. A server that ignores Range
 * (python3 -m http.server, many static servers and proxies) answers 200 with
 * the whole object. The first such read (usually the open's) takes its bytes
 * from that stream (for a small read, the 72 KiB from its offset) and cuts
 * the transfer; later reads go on with one GET of the object, held paused
 * between them until the reader closes, so reads in file order cost the
 * object once; a read behind the stream starts a new GET at byte 0.
 * The first 200 per open object that is not the whole object leaves, on
 * success, a note in mcf_last_error(): "note: http: URL: the server ignores
 * Range requests ...". A 206 whose Content-Range is not the range asked for
 * (at open: shorter only where the object ends, with a numeric total), or a
 * 200 whose length is not the size at open, fails with MCF_FILE_READ_FAIL:
 * never bytes from elsewhere in the object, never a guessed size. A 200
 * without Content-Length at open is MCF_NOT_SUPPORTED (the size is unknown).
 * With options.threads > 1 (the backends set MCF_FS_THREADSAFE_READ):
 * read_at may run on several threads at once for one open object, each
 * transfer on its own connection, at most `threads` of them. One read_at of
 * more than 2 x part_size is itself split into part_size pieces fetched by
 * up to `threads` ranged GETs at once, using only the connections free at
 * that moment, so reads a caller already runs in parallel are not split a
 * second time; each piece is retried on its own, and a piece that keeps
 * failing fails the read naming its byte range. Before the server has shown
 * that it honours Range, such a read fetches its first part alone.
 * S3 multipart uploads with threads > 1 buffer each part and send up to
 * `threads` at once (memory: threads x part_size, never the whole object);
 * a part is retried on its own (it is replayable), and a part that keeps
 * failing fails the upload naming its number: the upload is aborted and no
 * object appears. Plain http PUTs stay one stream. */
/* Process-wide counters of the curl backends since start: requests sent,
 * bytes received (response headers + bodies), request body bytes sent. Any
 * pointer may be NULL. Thread-safe. Shows what a lazy remote load costs. */
MCFDEF void mcf_curl_counters(uint64_t *requests, uint64_t *bytes_received, uint64_t *bytes_sent);
#endif

/* ===== [13] fs registry & whole-object helpers =========================== */
/* Adds (or replaces) the backend for fs->scheme. The struct is copied; the
 * scheme string must outlive the registration. Thread-safe.
 * Returns: MCF_OK, MCF_INVALID_PARAMS (bad scheme, a required callback
 * missing, MCF_MAX_FILESYSTEMS schemes registered already). */
MCFDEF int mcf_register_filesystem(const mcf_filesystem *fs);
/* Copies the backend serving scheme ("file", "memory", a registered one) so a
 * user backend can wrap it or a caller can use positional reads directly.
 * Returns: MCF_OK, MCF_INVALID_PARAMS (NULL argument, unknown scheme). */
MCFDEF int mcf_filesystem_lookup(const char *scheme, mcf_filesystem *out);
/* Whole-object helpers. Every one returns, besides what is listed, the URL
 * and backend codes: MCF_INVALID_PARAMS (NULL or malformed URL, unknown
 * scheme, a storage option the backend does not take), MCF_INTERNAL_ERROR,
 * and the I/O codes (see ERRORS). */
/* Writes len bytes as the whole object (atomically, as a save does).
 * Returns: MCF_OK, MCF_NOT_SUPPORTED (a read-only filesystem),
 * MCF_PERSISTENT_FAIL (cancelled by options.progress). */
MCFDEF int mcf_write_bytes(const char *url, const void *data, size_t len, const mcf_options *o);
/* Reads the whole object into a buffer to release with mcf_free().
 * Returns: MCF_OK, MCF_NOT_SUPPORTED (more than size_t bytes; an http
 * server that sends no Content-Length), MCF_INTERNAL_ERROR (also: larger
 * than this machine's RAM). */
MCFDEF int mcf_read_bytes(const char *url, void **data, size_t *len, const mcf_options *o);
/* Returns: 1 (exists), 0 (MCF_FILE_NOT_FOUND; the last error is left as it
 * was), or another negative code as mcf_file_size gives it. */
MCFDEF int mcf_exists(const char *url, const mcf_options *o);
/* Returns: MCF_OK, MCF_NOT_SUPPORTED (an http server that sends no
 * Content-Length). */
MCFDEF int mcf_file_size(const char *url, uint64_t *size, const mcf_options *o);
/* Returns: MCF_OK, MCF_NOT_SUPPORTED (a backend without remove). */
MCFDEF int mcf_remove(const char *url, const mcf_options *o);

/* ===== [19] readers: open, entries, reads, views, slices, values ========= */
typedef struct mcf_reader mcf_reader;

/* mcf_open (a file, or every shard of an index) is declared in [20]. */
/* Opens a caller buffer holding one file; it must outlive the reader
 * (views point into it). *r is NULL on failure.
 * Returns: mcf_open's codes but the I/O ones. */
MCFDEF int mcf_open_memory(const void *buf, size_t len, const mcf_options *o, mcf_reader **r);
MCFDEF size_t mcf_count(const mcf_reader *r);
/* Entry i: name (owned by r), dtype, ndim, shape; strides/data are NULL.
 * Returns: MCF_OK, MCF_INVALID_PARAMS (NULL argument, i out of range). */
MCFDEF int mcf_entry(const mcf_reader *r, size_t i, mcf_tensor *info);
/* Returns: the index (>= 0) of the entry called name, MCF_OBJECT_NOT_FOUND,
 * MCF_INVALID_PARAMS (NULL argument). */
MCFDEF int mcf_find(const mcf_reader *r, const char *name);
/* Contiguous host-order elements of entry i, aligned to the element size;
 * zero-copy where the source is mapped, aligned and needs no byte swap, else
 * a copy. Valid until mcf_close.
 * Returns: MCF_OK, MCF_INVALID_PARAMS (NULL argument, i out of range),
 * MCF_NOT_SUPPORTED (more than size_t bytes), MCF_CHECKSUM_MISMATCH
 * (MCF_VERIFY), MCF_INTERNAL_ERROR, the I/O codes. */
MCFDEF int mcf_view(mcf_reader *r, size_t i, const void **data);
/* Copies entry i as contiguous bytes into dst (dst_len >= its nbytes); a
 * read that fails midway may leave part of the tensor in dst. With the
 * reader's threads > 1, 2 MiB or more are read in parts on several threads
 * (a failure names the part: "...: tensor \"w\": part 3 of 8: ...").
 * Returns: mcf_view's codes, MCF_BUFFER_OVERFLOW (dst_len too small). */
MCFDEF int mcf_read(mcf_reader *r, size_t i, void *dst, size_t dst_len);
/* Value of a safetensors __metadata__ key (of a sharded reader: of the
 * index's "metadata", numbers as their decimal text), or NULL. Owned by r. */
MCFDEF const char *mcf_metadata(const mcf_reader *r, const char *key);
/* Number of metadata pairs, and pair i (key and value owned by r); NULL
 * out-pointers are skipped.
 * Returns (pair): MCF_OK, MCF_INVALID_PARAMS (NULL reader, i out of range). */
MCFDEF size_t mcf_metadata_count(const mcf_reader *r);
MCFDEF int mcf_metadata_pair(const mcf_reader *r, size_t i, const char **key, const char **value);
/* Non-tensor values of a torch file, which entries leave out: the other
 * leaves of the unpickled object (epoch, lr, optimizer param_groups, ...),
 * in pickle order. name is dotted as for tensors ("optim.param_groups.0.lr";
 * a dict key is named by str(key), "" for a bare top-level value); type is
 * the Python type name ("int", "float", "str", "bool", "NoneType", "bytes",
 * "complex", "torch.Size", "torch.dtype", "torch.device", "tuple", "list",
 * "set", "dict", "collections.OrderedDict", ...); text is its repr() ("3",
 * "0.001", "'adam'", "None", "torch.Size([2, 3])", "torch.float32"; floats
 * in the shortest form that reads back the same), cut to 120 bytes ending
 * in "..." when longer. Containers are walked as for tensors: a dict by key,
 * a list/tuple/set by position when it holds a tensor or a container; any
 * other list/tuple/set, and an empty dict, is one value ("(0.9, 0.999)").
 * Strings are owned by r. safetensors readers have none. NULL out-pointers
 * are skipped.
 * Returns (mcf_value): MCF_OK, MCF_INVALID_PARAMS (NULL reader,
 * i >= mcf_value_count). */
MCFDEF size_t mcf_value_count(const mcf_reader *r);
MCFDEF int mcf_value(const mcf_reader *r, size_t i, const char **name, const char **type, const char **text);
/* "safetensors" or "torch". */
MCFDEF const char *mcf_reader_format(const mcf_reader *r);
/* Byte offset of entry i's data in the file and its contiguous size; NULL
 * out-pointers are skipped.
 * Returns: MCF_OK, MCF_INVALID_PARAMS (NULL reader, i out of range). */
MCFDEF int mcf_entry_location(const mcf_reader *r, size_t i, uint64_t *offset, uint64_t *nbytes);
/* URL of the file holding entry i: its shard for a sharded reader, else the
 * URL the reader was opened with ("<memory>" for mcf_open_memory). Owned by
 * r; NULL (and MCF_INVALID_PARAMS in mcf_last_error) for a NULL reader or i
 * out of range. */
MCFDEF const char *mcf_entry_source(const mcf_reader *r, size_t i);
MCFDEF void mcf_close(mcf_reader *r);

/* ---- slices and dtype conversion on read ---- */
/* numpy basic slicing, t[s0, s1, ...]: per dimension start, stop and step.
 * Negative start/stop count from the end, out-of-range values clamp (an
 * empty result is fine), stop MCF_SLICE_END means "to the end", step >= 1.
 * s[0..ns) slice the first ns dimensions (ns <= ndim), the rest are whole.
 * Every dimension is kept: numpy's integer index i is the slice i:i+1 here. */
#define MCF_SLICE_END INT64_MAX
typedef struct mcf_slice { int64_t start, stop, step; } mcf_slice;
/* The slice start:stop with step 1; mcf_slice_range(0, MCF_SLICE_END) is ":". */
MCFDEF mcf_slice mcf_slice_range(int64_t start, int64_t stop);
/* Shape of entry i sliced by s[0..ns): its ndim sizes into shape.
 * Returns: MCF_OK, MCF_INVALID_PARAMS (NULL argument, i out of range,
 * ns < 0 or > ndim, a step < 1; the message names the file, tensor and
 * dimension), MCF_NOT_SUPPORTED (ns > 0 on a sub-byte dtype: F4, F6_* are
 * read whole). */
MCFDEF int mcf_slice_shape(const mcf_reader *r, size_t i, const mcf_slice *s, int ns, int64_t *shape);
/* Copies the slice into dst: contiguous, row-major, host byte order, from
 * any entry (torch views with strides and storage offsets too). Reads only
 * the bytes the slice needs: mapped runs, or positional/ranged reads in
 * which gaps under 64 KiB are merged (MCF_VERIFY first checks a torch
 * entry's CRC, which reads the whole entry once).
 * Returns: mcf_slice_shape's codes, MCF_BUFFER_OVERFLOW (dst_len smaller
 * than the slice's bytes; the message says how many), MCF_CHECKSUM_MISMATCH
 * (MCF_VERIFY), MCF_INTERNAL_ERROR, the I/O codes. */
MCFDEF int mcf_read_slice(mcf_reader *r, size_t i, const mcf_slice *s, int ns, void *dst, size_t dst_len);
/* mcf_read_slice converting to dtype `to` as mcf_convert does, in chunks
 * fused with the read (no second copy); s NULL with ns 0 reads the whole
 * tensor; to == the entry's dtype is a plain (sliced) read.
 * Returns: mcf_read_slice's codes; MCF_INVALID_PARAMS also for an invalid
 * `to`, MCF_NOT_SUPPORTED for a pair mcf_convert_supported() refuses
 * (naming both dtypes). */
MCFDEF int mcf_read_as(mcf_reader *r, size_t i, mcf_dtype to, const mcf_slice *s, int ns, void *dst, size_t dst_len);

/* Reads n entries at once: entry idx[k] into dst[k] (dst_len[k] >= its
 * nbytes; buffers must not overlap), as mcf_read would, on up to
 * o->threads threads (o NULL: the threads the reader was opened with; no
 * other field of o is used). Big tensors are cut into parts too. Threads
 * run only when the backend allows parallel reads (MCF_FS_THREADSAFE_READ:
 * local files, memory://, http/s3) or the file is mapped; else the entries
 * are read in order on the calling thread. MCF_VERIFY checks run first, on
 * the same threads (one check per stored object: torch tensors viewing one
 * storage share it); the entries count as verified only once every check
 * passed. Entries of several shards mix freely. Every argument is checked
 * before anything is read. On failure the result
 * is the code of the first failing entry in list order, and the message
 * names it ("mcf_read_many: entry 3 (tensor 17, \"w\"): ..."); which dst
 * buffers were filled completely is then unspecified.
 * Returns: mcf_read's codes; MCF_INVALID_PARAMS also for a NULL array or
 * an index out of range, MCF_BUFFER_OVERFLOW naming the entry. */
MCFDEF int mcf_read_many(mcf_reader *r, const size_t *idx, void *const *dst, const size_t *dst_len,
                         size_t n, const mcf_options *o);

/* ===== [20] sharded checkpoints: index, open, save ======================= */
/* Opens a file, reading only its header. A URL whose path ends in
 * ".index.json" opens a sharded checkpoint as Hugging Face writes it
 * ({"metadata": {...}, "weight_map": {"tensor": "shard file", ...}}): ONE
 * reader over every tensor of every shard it names, shards resolved next to
 * the index (local, file://, memory://, http(s), s3 alike). Opening reads the
 * index and each shard's header only (remote: one ranged GET per object
 * when its header fits in the first 72 KiB). Entries are ordered by shard name, then by offset in
 * the shard; mcf_entry_source names an entry's shard, mcf_metadata answers
 * from the index's "metadata". Every shard must be one format.
 * An index may name only files in its own directory: a shard name that is
 * empty, absolute, contains "..", a backslash or ':' (a scheme or drive)
 * fails, as do a tensor listed twice, a tensor missing from its shard or
 * held by two shards, and a shard tensor the index does not list (unless
 * MCF_LENIENT: then it is left out). Each message names the index, the
 * shard and the tensor. *r is NULL on failure.
 * Returns: MCF_OK, MCF_INVALID_PARAMS (NULL argument, URL, unknown format
 * or scheme, storage option), MCF_DESERIALIZE_FAIL (not a safetensors or
 * torch file, malformed or hostile, empty; a bad index as above),
 * MCF_NOT_SUPPORTED (valid but unhandled: legacy torch format, TorchScript,
 * compressed or encrypted zip entries, a tensor this library cannot load,
 * more than MCF_MAX_DIMS, a NUL in a tensor name), MCF_CHECKSUM_MISMATCH
 * (MCF_VERIFY: data.pkl), MCF_INTERNAL_ERROR, the I/O codes (a missing or
 * unreachable shard: the backend's code, the message naming the shard). */
MCFDEF int mcf_open(const char *url, const mcf_options *o, mcf_reader **r);
/* Saving sharded: mcf_save with options.max_shard_bytes > 0 splits the
 * tensors as huggingface_hub does (in the given order; a tensor larger than
 * the limit gets a shard of its own at once, ahead of the shard being
 * filled; otherwise a tensor that would push the current shard past the
 * limit starts a new one; sizes are tensor bytes). One resulting shard is
 * the plain file at url. Several are NAME-00001-of-0000N.EXT ... next to url
 * (url = dir/NAME.EXT) plus url + ".index.json" holding exactly what
 * transformers writes (json.dumps(..., indent=2, sort_keys=True) + "\n",
 * non-ASCII escaped, "total_size" = the sum of tensor bytes). safetensors
 * shards carry options.metadata, or {"format": "pt"} when it is NULL.
 * The shards are written first, each atomically, then the index; an index
 * already at url + ".index.json" is removed before the first shard, so a
 * save that fails or is killed never leaves an index naming a missing, torn
 * or foreign shard (a failed save removes the shards it wrote). Files of an
 * earlier save that the new index does not name (a plain NAME.EXT, or
 * NAME-00003-of-00003.EXT after a save into 2 shards) are left alone:
 * readers of the index never open them. MCF_NO_OVERWRITE fails before
 * anything is written if the index or any shard exists.
 * A URL with a query (a presigned URL, which signs one object) is refused
 * with MCF_INVALID_PARAMS when the save needs several shards.
 * mcf_save_to_memory ignores max_shard_bytes (one buffer, one file). */

/* ===== [21] save dispatch ================================================ */
/* Writes n tensors to url in one format (options.format, else by suffix).
 * Returns: MCF_OK, MCF_INVALID_PARAMS (NULL or malformed argument: URL,
 * format, a tensor without or with a duplicate name, bad dtype, shape,
 * strides or data, metadata that is not UTF-8 or repeats a key),
 * MCF_SERIALIZE_UNSUPPORTED (a dtype the format cannot hold, strided
 * sub-byte data), MCF_SERIALIZE_FAIL (a safetensors header over
 * MCF_MAX_HEADER, sizes overflowing 64 bits), MCF_NOT_SUPPORTED (a
 * read-only filesystem, tensor data beyond size_t), MCF_PERSISTENT_FAIL
 * (cancelled by options.progress), MCF_INTERNAL_ERROR, the I/O codes. */
MCFDEF int mcf_save(const char *url, const mcf_tensor *t, size_t n, const mcf_options *o);
/* Same, into one MCF_MALLOC buffer (free with mcf_free); format must be set.
 * Returns: mcf_save's codes but the I/O ones; MCF_NOT_SUPPORTED also when
 * the file would not fit size_t, MCF_INTERNAL_ERROR when it exceeds RAM. */
MCFDEF int mcf_save_to_memory(const mcf_tensor *t, size_t n, const mcf_options *o,
                              void **out, size_t *out_len);

/* ===== [22] Mooncake object codec ======================================== */
/* Store values are Mooncake tensor objects (integration_utils.h): a 304-byte
 * TensorMetadata (40-byte TensorObjectHeader + 264-byte TensorLayoutMetadata,
 * little-endian, natural C alignment) followed by the element bytes. */
#define MCF_MOON_HEADER_SIZE 304        /* sizeof(TensorMetadata) */
#define MCF_MOON_MAGIC 0x4d4f4f4eu      /* "MOON" as a little-endian u32 */
#define MCF_MOON_MAX_DIMS 8             /* kMaxTensorDims */
#define MCF_MOON_MAX_AXES 4             /* kMaxLayoutAxes */
enum { MCF_MOON_FULL = 0, MCF_MOON_SHARD = 1 };                 /* TensorLayoutKind */
enum { MCF_MOON_DP = 0, MCF_MOON_TP = 1, MCF_MOON_EP = 2, MCF_MOON_PP = 3, MCF_MOON_RESERVED = 4 };

typedef struct mcf_moon_axis {          /* LayoutAxis */
    int32_t kind;                       /* MCF_MOON_DP ... MCF_MOON_RESERVED */
    int32_t axis_index;
    int32_t shard_rank;                 /* 0 <= shard_rank < shard_count */
    int32_t shard_count;
    int32_t split_dim;                  /* -1 (none) .. ndim-1 */
    int32_t reserved0;
    int64_t reserved1;
} mcf_moon_axis;

typedef struct mcf_moon_layout {        /* the header/layout fields beyond mcf_tensor */
    uint32_t kind;                      /* MCF_MOON_FULL or MCF_MOON_SHARD */
    uint32_t reserved_flags;
    int64_t  global_shape[MCF_MOON_MAX_DIMS];   /* first ndim used (>= 0) */
    uint32_t axis_count;                /* <= MCF_MOON_MAX_AXES */
    uint32_t reserved0;
    mcf_moon_axis axes[MCF_MOON_MAX_AXES];
} mcf_moon_layout;

/* 304 + contiguous data bytes; 0 if t is NULL or its size overflows size_t. */
MCFDEF size_t mcf_moon_object_size(const mcf_tensor *t);
/* Encodes t (any strides; written contiguous, little-endian) as a FULL object
 * into dst. A zero-element tensor (a dimension of 0) is a valid object: the
 * 304-byte header and no data.
 * Returns: MCF_OK, MCF_INVALID_PARAMS (NULL argument; bad dtype, shape,
 * strides or data; a bad layout), MCF_SERIALIZE_UNSUPPORTED (a dtype
 * without a Mooncake number, ndim > 8, strided sub-byte data),
 * MCF_BUFFER_OVERFLOW (cap too small: *written = size needed),
 * MCF_NOT_SUPPORTED (the object would not fit size_t). */
MCFDEF int    mcf_moon_encode(const mcf_tensor *t, void *dst, size_t cap, size_t *written);
/* Validates obj as Mooncake's ValidateTensorMetadata does, plus data_bytes ==
 * local shape x dtype size, and fills a zero-copy view: shape = local shape,
 * name and strides NULL, data points into obj (little-endian bytes;
 * big-endian hosts: use mcf_store_get_tensor).
 * Returns: MCF_OK, MCF_INVALID_PARAMS (NULL argument), MCF_DESERIALIZE_FAIL
 * (not a valid object), MCF_NOT_SUPPORTED (more than MCF_MAX_DIMS dims). */
MCFDEF int    mcf_moon_decode(const void *obj, size_t len, mcf_tensor *view);
/* The same with the layout metadata: layout NULL = FULL with global = shape;
 * the same codes. */
MCFDEF int    mcf_moon_encode_layout(const mcf_tensor *t, const mcf_moon_layout *layout,
                                     void *dst, size_t cap, size_t *written);
MCFDEF int    mcf_moon_decode_layout(const void *obj, size_t len, mcf_tensor *view,
                                     mcf_moon_layout *layout);

/* ===== [23] store API ==================================================== */
/* Upstream Mooncake's replicate config (store_c.h), field for field: how many
 * copies a put makes and how they are kept. A put passes it to the store as
 * it is; NULL (the default) lets the store use its own defaults. A zeroed
 * struct is not NULL: replica_num 0 is passed as 0. */
struct mcf_replicate {
    size_t replica_num;                 /* copies to keep */
    int with_hard_pin;                  /* non-zero: never evicted */
    const char *const *preferred_segments;   /* segments to place copies on */
    size_t preferred_segments_count;
    int soft_pin_action;                /* MCF_SOFT_PIN_PRESERVE/_ENABLE/_DISABLE */
    int has_soft_pin_ttl;               /* non-zero: soft_pin_ttl_ms overrides */
    uint64_t soft_pin_ttl_ms;           /* the store's soft-pin lifetime */
};
/* Soft pin (a deadline before which eviction passes the object over): keep
 * an unexpired one, start a new one with this put, or drop it. */
enum { MCF_SOFT_PIN_PRESERVE = 0, MCF_SOFT_PIN_ENABLE = 1, MCF_SOFT_PIN_DISABLE = 2 };

/* Any key-value store of Mooncake tensor objects (or, through
 * mcf_store_put_bytes, of raw bytes). Callbacks return 0 or a negative MCF_*
 * code (setting the message with mcf_set_error). get returns
 * MCF_OBJECT_NOT_FOUND for an absent key and hands out *obj until release.
 * put of a key that exists keeps the stored value and returns 0, as
 * Mooncake's client does (remove first to replace a value).
 * put_replicated (may be NULL) is put with replication settings; calls whose
 * options carry a replicate use it, and stores without it ignore them.
 * The last three hooks are optional (NULL: the library calls put and get
 * once per key):
 *   get_into   copies key's value into dst and sets *len to its size; a
 *              value larger than cap: MCF_BUFFER_OVERFLOW with *len set and
 *              nothing copied (saves the copy get + memcpy would make)
 *   put_batch  n puts in one call (replicate may be NULL); results[i] gets
 *              key i's code, the message is the first failing key's
 *   get_batch  n gets in one call; for every i whose results[i] is 0,
 *              objs[i] and lens[i] are handed out until release
 * Both batch hooks return 0 when results are set, or a negative code when
 * the call failed as a whole (nothing put, nothing handed out).
 * Zero the struct before filling it in: hooks added later default to NULL. */
typedef struct mcf_store {
    void *user;
    int  (*put)(void *user, const char *key, const void *obj, size_t len);
    int  (*get)(void *user, const char *key, void **obj, size_t *len);
    void (*release)(void *user, void *obj);
    int  (*remove)(void *user, const char *key);
    int  (*put_replicated)(void *user, const char *key, const void *obj, size_t len,
                           const mcf_replicate *replicate);
    int  (*get_into)(void *user, const char *key, void *dst, size_t cap, size_t *len);
    int  (*put_batch)(void *user, const char *const *keys, const void *const *objs, const size_t *lens,
                      size_t n, const mcf_replicate *replicate, int *results);
    int  (*get_batch)(void *user, const char *const *keys, size_t n, void **objs, size_t *lens,
                      int *results);
} mcf_store;

/* The embedded default: a thread-safe in-process hash map key -> copy of the
 * object, with all three optional hooks; get hands out a private copy; put
 * of an existing key keeps the stored value. It has no replicas: options'
 * replicate is ignored. NULL on allocation failure (the message says so). */
MCFDEF mcf_store *mcf_memory_store_create(void);
MCFDEF void       mcf_memory_store_destroy(mcf_store *s);        /* NULL ok */

/* Encodes t and puts it under key.
 * Returns: mcf_moon_encode's codes but MCF_BUFFER_OVERFLOW,
 * MCF_INVALID_PARAMS also for a NULL or incomplete store or NULL key,
 * MCF_INTERNAL_ERROR, the store codes (passed through). */
MCFDEF int  mcf_store_put_tensor(mcf_store *s, const char *key, const mcf_tensor *t);
/* Gets key as a tensor in host byte order: data from o's alloc hook (the
 * map_location analogue), name = copy of key; release with
 * mcf_tensor_free(out, same o).
 * Returns: MCF_OK, MCF_INVALID_PARAMS (NULL or incomplete store, NULL key
 * or out), MCF_OBJECT_NOT_FOUND (no such key), mcf_moon_decode's codes (a
 * stored value that is no valid object), MCF_NOT_SUPPORTED (beyond size_t),
 * MCF_INTERNAL_ERROR, the store codes. */
MCFDEF int  mcf_store_get_tensor(mcf_store *s, const char *key, const mcf_options *o, mcf_tensor *out);
/* Batches: keys[i] <-> t[i] / out[i] for i < n, in one store call where the
 * store has put_batch / get_batch, else key by key. Every key is tried;
 * results (NULL, or n ints) gets each key's code. get: out[i] is filled for
 * each key that succeeded and zeroed for each that failed, so every out[i]
 * may go to mcf_tensor_free(&out[i], same o).
 * Returns: MCF_OK when every key succeeded, else the first failing key's
 * code (the message is that key's): mcf_store_put_tensor's and
 * mcf_store_get_tensor's codes, MCF_INVALID_PARAMS for a NULL key; a NULL or
 * incomplete store or NULL arrays with n > 0 is MCF_INVALID_PARAMS for
 * every key. */
MCFDEF int  mcf_store_put_tensors(mcf_store *s, const char *const *keys, const mcf_tensor *t, size_t n,
                                  int *results);
MCFDEF int  mcf_store_get_tensors(mcf_store *s, const char *const *keys, const mcf_options *o,
                                  mcf_tensor *out, size_t n, int *results);
/* Raw values: puts len bytes as they are (no tensor header), as the model
 * seeding does; data may be NULL when len is 0.
 * Returns: MCF_OK, MCF_INVALID_PARAMS (NULL or incomplete store, NULL key,
 * NULL data with len > 0), the store codes. */
MCFDEF int  mcf_store_put_bytes(mcf_store *s, const char *key, const void *data, size_t len);
/* Copies key's value (any bytes) into dst and sets *len to its size; dst
 * may be NULL when cap is 0 (to ask the size).
 * Returns: MCF_OK, MCF_BUFFER_OVERFLOW (the value is larger than cap: *len
 * is its size, nothing is copied), MCF_INVALID_PARAMS (NULL or incomplete
 * store, NULL key or len, NULL dst with cap > 0), MCF_OBJECT_NOT_FOUND,
 * MCF_INTERNAL_ERROR, the store codes. */
MCFDEF int  mcf_store_get_into(mcf_store *s, const char *key, void *dst, size_t cap, size_t *len);
/* Frees the name, strides and data a load allocated (data via o->dealloc),
 * then zeroes *t. NULL ok. */
MCFDEF void mcf_tensor_free(mcf_tensor *t, const mcf_options *o);

/* The functions of the Python store_file_io module. Save: file_name NULL =
 * key; the format is options.format, else by suffix (".safetensors", else
 * torch); torch files hold a bare tensor (torch.save(t)), safetensors one
 * entry named options.tensor_name, else key. A missing key: MCF_FILE_NOT_FOUND.
 * Load: key NULL = file_name; picks options.tensor_name, then key, then the
 * file's basename without extension ('\\' separates too), then the only entry
 * (success with a warning left in mcf_last_error), else MCF_OBJECT_NOT_FOUND
 * listing the names; puts it into the store under key (with options.
 * replicate, where the store takes it) and, if out is not NULL, also returns
 * it as mcf_store_get_tensor does. Like any put, a load into a key that
 * exists keeps the stored value and succeeds; out is then the file's tensor,
 * not the store's (remove the key first to replace its value).
 * SHARD objects keep their layout in safetensors __metadata__ under
 * "mooncake.layout" ("SHARD"), "mooncake.global_shape" ("[8,4]"),
 * "mooncake.axes" ("[[kind,axis_index,shard_rank,shard_count,split_dim,
 * reserved0,reserved1],...]") and, if non-zero, "mooncake.reserved"
 * ("[reserved_flags,reserved0]"); torch files keep only the local shard.
 * Returns (save): MCF_OK, MCF_FILE_NOT_FOUND (no such key), MCF_INVALID_PARAMS
 * (also a "mooncake." metadata key of the caller's for a SHARD object),
 * mcf_store_get_tensor's codes but MCF_OBJECT_NOT_FOUND, mcf_save's codes.
 * Returns (load): MCF_OK, MCF_OBJECT_NOT_FOUND (no entry for the key; the
 * message lists the names), mcf_open's and mcf_read's codes,
 * MCF_DESERIALIZE_FAIL (also bad "mooncake.*" layout metadata),
 * mcf_store_put_tensor's codes. */
MCFDEF int mcf_save_tensor_to_file(mcf_store *s, const char *key, const char *file_name,
                                   const mcf_options *o);
MCFDEF int mcf_load_tensor_from_file(mcf_store *s, const char *key, const char *file_name,
                                     const mcf_options *o, mcf_tensor *out);
/* Aliases of the _tensor_ pair (KV-cache blocks are tensors, as in the
 * Python store_file_io module). */
MCFDEF int mcf_save_kv_cache_to_file(mcf_store *s, const char *key, const char *file_name,
                                     const mcf_options *o);
MCFDEF int mcf_load_kv_cache_from_file(mcf_store *s, const char *key, const char *file_name,
                                       const mcf_options *o, mcf_tensor *out);
/* The _tensor_ pair with the format forced to safetensors. */
MCFDEF int mcf_save_tensor_to_safetensor(mcf_store *s, const char *key, const char *file_name,
                                         const mcf_options *o);
MCFDEF int mcf_load_tensor_from_safetensor(mcf_store *s, const char *key, const char *file_name,
                                           const mcf_options *o, mcf_tensor *out);
/* One call for both directions, each part optional.
 * save: t, when not NULL, is put under key first (with options' replicate;
 * an existing key keeps its value); then, when file_name is not NULL, key's
 * stored tensor is written to file_name as mcf_save_tensor_to_file does
 * (file_name NULL: store only). At least one of t and file_name is given.
 * load: file_name not NULL loads it into the store as
 * mcf_load_tensor_from_file does (key NULL = file_name); file_name NULL
 * reads key from the store only (mcf_store_get_tensor; out NULL checks that
 * key holds a tensor).
 * artifact_kind (NULL = "tensor"; case-insensitive, '-' = '_'): "tensor",
 * "generic", "file", "kv_cache" ("kvcache", "kv") take the format from
 * options or the suffix; "safetensor" ("safetensors", "safe_tensors") forces
 * safetensors.
 * Returns: the codes of mcf_store_put_tensor and of the pair above (or of
 * mcf_store_get_tensor); MCF_INVALID_PARAMS also for another kind, and for
 * a save with neither a tensor nor a file. */
MCFDEF int mcf_save_tensor(mcf_store *s, const char *key, const mcf_tensor *t, const char *file_name,
                           const char *artifact_kind, const mcf_options *o);
MCFDEF int mcf_load_tensor(mcf_store *s, const char *key, const char *file_name,
                           const char *artifact_kind, const mcf_options *o, mcf_tensor *out);

/* ===== [24] Mooncake store adapter ======================================= */
#ifdef MOONCAKE_FILEIO_MOONCAKE_STORE
/* An mcf_store over a Mooncake client handle (mooncake_store_t from
 * store_c.h; link with Mooncake's store library). It calls nine store_c
 * functions:
 *   put            mooncake_store_put (config: options' replicate, or NULL
 *                  for the store's defaults; an existing key keeps its value;
 *                  the client copies the value into its own registered pool)
 *   get, get_into  mooncake_store_get_size (mooncake_store_is_exist to tell
 *                  an absent key from a failure), then mooncake_store_get_into
 *                  (get: into a new buffer; get_into: into the caller's)
 *   put_batch      mooncake_store_batch_put_from (mcf_store_put_tensors)
 *   get_batch      get_size per key, then mooncake_store_batch_get_into into
 *                  new buffers (mcf_store_get_tensors)
 *   remove         mooncake_store_remove (force 0)
 * get_into and the two batch calls are zero-copy transfers, which upstream
 * makes only from and into registered memory: every buffer they touch is
 * registered for the call with mooncake_store_register_buffer and
 * unregistered after it with mooncake_store_unregister_buffer, whatever
 * happens in between.
 * Every negative result passes through unchanged: Mooncake's ErrorCode
 * numbers are ours, and mcf_result_name() spells each of them. Fills *s;
 * nothing to destroy (the handle stays the caller's).
 * Returns: MCF_OK, MCF_INVALID_PARAMS (NULL argument).
 * Include order. A file that only calls the library may include store_c.h
 * before or after this header: when store_c.h has not been seen, the nine
 * functions are declared here with the same types (mooncake_store_t is
 * void *). The file that defines MOONCAKE_FILEIO_IMPLEMENTATION includes this
 * header first (it selects POSIX before the first system header, and
 * store_c.h after it is fine); to include store_c.h first there, define
 * _POSIX_C_SOURCE 200809L, _DEFAULT_SOURCE 1 and _FILE_OFFSET_BITS 64 before
 * it, else a strict -std=c99 build stops at this header's #error. */
#ifndef MOONCAKE_STORE_C_H
struct mooncake_replicate_config;
int mooncake_store_put(void *store, const char *key, const void *value, size_t size,
                       const struct mooncake_replicate_config *config);
int64_t mooncake_store_get_into(void *store, const char *key, void *buffer, size_t size);
int64_t mooncake_store_get_size(void *store, const char *key);
int mooncake_store_is_exist(void *store, const char *key);
int mooncake_store_remove(void *store, const char *key, int force);
int mooncake_store_batch_put_from(void *store, const char **keys, void **buffers, const size_t *sizes, size_t count,
                                  const struct mooncake_replicate_config *config, int *results_out);
int mooncake_store_batch_get_into(void *store, const char **keys, void **buffers, const size_t *sizes, size_t count,
                                  int64_t *results_out);
int mooncake_store_register_buffer(void *store, void *buffer, size_t size);
int mooncake_store_unregister_buffer(void *store, void *buffer);
#endif
MCFDEF int mcf_mooncake_store_init(mcf_store *s, void *mooncake_store);
#endif

/* ===== [25] model seeding ================================================ */
/* Puts a safetensors checkpoint into s in the key layout of Mooncake's remote
 * model loader (which SGLang and vLLM load from):
 *   {model_name}/keys/rank_{tp_rank}/{tensor name}   the tensor's raw
 *       little-endian bytes (no tensor header), what
 *       tensor.contiguous().view(torch.uint8) holds
 * checkpoint_url: one .safetensors file, a .index.json (every shard it
 * names), or a directory holding model.safetensors.index.json, else its
 * *.safetensors files (local directories only; in name order).
 * o->chunk_bytes non-zero: a tensor larger than it is stored as
 *   {key}.__chunk__.{i}        i = 0 .. N-1, chunk_bytes each, the last
 *                              one shorter
 *   {key}.__chunk_manifest__   {"num_chunks": N, "size": BYTES} (after the
 *                              chunks, only when they all went in)
 * For a local directory the sidecar text files config.json,
 * generation_config.json, special_tokens_map.json, tokenizer.json,
 * tokenizer.model, tokenizer_config.json, preprocessor_config.json,
 * processor_config.json, chat_template.jinja, merges.txt, vocab.json (those
 * present that are UTF-8 text; line ends read as Python's text mode reads
 * them, "\r\n" and "\r" as "\n") go under {model_name}/files/{name}, and
 * __index__{model_name}/files/ lists their keys joined by "\n", written once
 * after them (a put of an existing key keeps its value).
 * One tensor (one chunk) is in memory at a time, read with ranged reads
 * straight into one buffer that is put from (from memory:// it is put
 * straight from the object, no copy); a store with put_batch gets each
 * value as a batch of one (the Mooncake adapter's zero-copy put). Puts
 * carry o->replicate. The
 * first failure stops the seeding (keys put before it stay).
 * Returns: MCF_OK, MCF_INVALID_PARAMS (NULL argument, empty model name,
 * negative rank, store without put), MCF_FILE_NOT_FOUND (no checkpoint, or
 * a directory without index or *.safetensors), MCF_NOT_SUPPORTED (a
 * directory that is not local and has no index; a tensor beyond size_t),
 * mcf_open's and mcf_read's codes, the store codes, MCF_INTERNAL_ERROR. */
MCFDEF int mcf_seed_model(mcf_store *s, const char *checkpoint_url, const char *model_name, int tp_rank,
                          const mcf_options *o);

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
#if !defined(MCF_NO_POSIX) && defined(_WIN32)
#ifndef WIN32_LEAN_AND_MEAN
#define WIN32_LEAN_AND_MEAN
#endif
#ifndef NOMINMAX
#define NOMINMAX
#endif
#include <windows.h>
#elif !defined(MCF_NO_POSIX)
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
/* 32-bit glibc: without it off_t would silently cut offsets at 2 GiB */
#if defined(__GLIBC__) && defined(__WORDSIZE) && __WORDSIZE == 32 && !defined(__x86_64__) && !defined(__USE_FILE_OFFSET64)
#error "mooncake_fileio.h: on a 32-bit host the implementation file must include mooncake_fileio.h before any system header (it needs _FILE_OFFSET_BITS=64 for files over 2 GiB), or define _FILE_OFFSET_BITS=64 itself"
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
#define MCF__SHARED static __attribute__((unused))  /* helper of several sections */
#else
#define MCF__SHARED static
#endif

/* Byte order of the host: files are little-endian, big-endian hosts swap. */
#if defined(__BYTE_ORDER__) && defined(__ORDER_BIG_ENDIAN__) && __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
#define MCF__BIG_ENDIAN 1
#else
#define MCF__BIG_ENDIAN 0
#endif

/* One process-wide lock type for the registry and the memory filesystem,
 * statically initialised (no init call, no constructor). Order: the user's
 * MCF_MUTEX (an RTOS mutex, say), Win32 SRWLOCK, pthread mutex; under
 * MCF_NO_POSIX a C11-style atomic spin lock (gcc/clang), else no lock at all
 * (single-threaded targets). Locks inside objects (the memory store) use
 * mcf__mutex_init/mcf__mutex_destroy (1 = ok); a user MCF_MUTEX is copied
 * from MCF_MUTEX_INIT. On an RTOS, before including the implementation:
 *     #define MCF_MUTEX            my_mutex_t
 *     #define MCF_MUTEX_INIT       MY_MUTEX_STATIC_INIT
 *     #define MCF_MUTEX_LOCK(p)    my_mutex_lock(p)
 *     #define MCF_MUTEX_UNLOCK(p)  my_mutex_unlock(p)                      */
#if defined(MCF_MUTEX) && defined(MCF_MUTEX_INIT) && defined(MCF_MUTEX_LOCK) && defined(MCF_MUTEX_UNLOCK)
typedef MCF_MUTEX mcf__mutex;
#define MCF__MUTEX_INIT MCF_MUTEX_INIT
static void mcf__lock(mcf__mutex *m) { MCF_MUTEX_LOCK(m); }
static void mcf__unlock(mcf__mutex *m) { MCF_MUTEX_UNLOCK(m); }
static const mcf__mutex mcf__mutex_initial = MCF_MUTEX_INIT;
MCF__SHARED int mcf__mutex_init(mcf__mutex *m) { *m = mcf__mutex_initial; return 1; }
MCF__SHARED void mcf__mutex_destroy(mcf__mutex *m) { (void)m; }
#elif defined(MCF_MUTEX) || defined(MCF_MUTEX_INIT) || defined(MCF_MUTEX_LOCK) || defined(MCF_MUTEX_UNLOCK)
#error "mooncake_fileio.h: define all of MCF_MUTEX, MCF_MUTEX_INIT, MCF_MUTEX_LOCK and MCF_MUTEX_UNLOCK, or none"
#elif defined(MCF_NO_POSIX)
#if defined(__GNUC__) || defined(__clang__)
typedef volatile int mcf__mutex;
#define MCF__MUTEX_INIT 0
static void mcf__lock(mcf__mutex *m) { while (__atomic_exchange_n(m, 1, __ATOMIC_ACQUIRE)) { } }
static void mcf__unlock(mcf__mutex *m) { __atomic_store_n(m, 0, __ATOMIC_RELEASE); }
MCF__SHARED int mcf__mutex_init(mcf__mutex *m) { *m = 0; return 1; }
MCF__SHARED void mcf__mutex_destroy(mcf__mutex *m) { (void)m; }
#else /* single-threaded targets: no lock available */
typedef int mcf__mutex;
#define MCF__MUTEX_INIT 0
static void mcf__lock(mcf__mutex *m) { (void)m; }
static void mcf__unlock(mcf__mutex *m) { (void)m; }
MCF__SHARED int mcf__mutex_init(mcf__mutex *m) { *m = 0; return 1; }
MCF__SHARED void mcf__mutex_destroy(mcf__mutex *m) { (void)m; }
#endif
#elif defined(_WIN32)
typedef SRWLOCK mcf__mutex;
#define MCF__MUTEX_INIT SRWLOCK_INIT
static void mcf__lock(mcf__mutex *m) { AcquireSRWLockExclusive(m); }
static void mcf__unlock(mcf__mutex *m) { ReleaseSRWLockExclusive(m); }
MCF__SHARED int mcf__mutex_init(mcf__mutex *m) { InitializeSRWLock(m); return 1; }
MCF__SHARED void mcf__mutex_destroy(mcf__mutex *m) { (void)m; }
#else
typedef pthread_mutex_t mcf__mutex;
#define MCF__MUTEX_INIT PTHREAD_MUTEX_INITIALIZER
static void mcf__lock(mcf__mutex *m) { (void)pthread_mutex_lock(m); }
static void mcf__unlock(mcf__mutex *m) { (void)pthread_mutex_unlock(m); }
MCF__SHARED int mcf__mutex_init(mcf__mutex *m) { return pthread_mutex_init(m, NULL) == 0; }
MCF__SHARED void mcf__mutex_destroy(mcf__mutex *m) { (void)pthread_mutex_destroy(m); }
#endif

/* ===== [02] results & last error ========================================= */
/* One helper sets the code and the sentence together (mcf__fail). errno is
 * mapped with our own table: strerror() is not thread-safe. */
static MCF__THREAD_LOCAL char mcf__error_text[MCF_ERROR_MAX];

/* Every ErrorCode of upstream Mooncake (types.h), so a code the store passes
 * through is spelled as Mooncake spells it. -1603 keeps this library's name. */
typedef struct mcf__code_name { int code; const char *name; } mcf__code_name;
static const mcf__code_name mcf__code_names[] = {
    {0, "OK"}, {-1, "INTERNAL_ERROR"}, {-10, "BUFFER_OVERFLOW"},
    {-100, "SHARD_INDEX_OUT_OF_RANGE"}, {-101, "SEGMENT_NOT_FOUND"}, {-102, "SEGMENT_ALREADY_EXISTS"},
    {-103, "CLIENT_NOT_FOUND"}, {-200, "NO_AVAILABLE_HANDLE"}, {-300, "INVALID_VERSION"}, {-400, "INVALID_KEY"},
    {-500, "WRITE_FAIL"}, {-600, "INVALID_PARAMS"}, {-601, "ILLEGAL_CLIENT"},
    {-700, "INVALID_WRITE"}, {-701, "INVALID_READ"}, {-702, "INVALID_REPLICA"}, {-703, "REPLICA_IS_NOT_READY"},
    {-704, "OBJECT_NOT_FOUND"}, {-705, "OBJECT_ALREADY_EXISTS"}, {-706, "OBJECT_HAS_LEASE"}, {-707, "LEASE_EXPIRED"},
    {-708, "OBJECT_HAS_REPLICATION_TASK"}, {-709, "OBJECT_NO_REPLICATION_TASK"}, {-710, "REPLICA_NOT_FOUND"},
    {-711, "REPLICA_ALREADY_EXISTS"}, {-712, "REPLICA_IS_GONE"}, {-713, "REPLICA_NOT_IN_LOCAL_MEMORY"},
    {-714, "OBJECT_REPLICA_BUSY"}, {-800, "TRANSFER_FAIL"}, {-801, "CHECKSUM_MISMATCH"},
    {-900, "RPC_FAIL"}, {-901, "RPC_TIMEOUT"},
    {-1000, "ETCD_OPERATION_ERROR"}, {-1001, "ETCD_KEY_NOT_EXIST"}, {-1002, "ETCD_TRANSACTION_FAIL"},
    {-1003, "ETCD_CTX_CANCELLED"}, {-1004, "OPLOG_ENTRY_NOT_FOUND"}, {-1005, "K8S_LEASE_OPERATION_ERROR"},
    {-1006, "K8S_LEASE_NOT_FOUND"}, {-1007, "INCOMPLETE_OPLOG_CATCH_UP"}, {-1010, "UNAVAILABLE_IN_CURRENT_STATUS"},
    {-1011, "UNAVAILABLE_IN_CURRENT_MODE"}, {-1012, "NOT_SUPPORTED"},
    {-1100, "FILE_NOT_FOUND"}, {-1101, "FILE_OPEN_FAIL"}, {-1102, "FILE_READ_FAIL"}, {-1103, "FILE_WRITE_FAIL"},
    {-1104, "FILE_INVALID_BUFFER"}, {-1105, "FILE_LOCK_FAIL"}, {-1106, "FILE_INVALID_HANDLE"},
    {-1200, "BUCKET_NOT_FOUND"}, {-1201, "BUCKET_ALREADY_EXISTS"}, {-1202, "KEYS_EXCEED_BUCKET_LIMIT"},
    {-1203, "KEYS_ULTRA_LIMIT"}, {-1300, "UNABLE_OFFLOAD"}, {-1301, "UNABLE_OFFLOADING"},
    {-1400, "TASK_NOT_FOUND"}, {-1401, "TASK_PENDING_LIMIT_EXCEEDED"}, {-1402, "JOB_NOT_FOUND"},
    {-1500, "SERIALIZE_UNSUPPORTED"}, {-1501, "SERIALIZE_FAIL"}, {-1502, "DESERIALIZE_FAIL"}, {-1503, "PERSISTENT_FAIL"},
    {-1600, "DFS_NETWORK_TIMEOUT"}, {-1601, "DFS_SERVICE_UNAVAILABLE"}, {-1602, "DFS_QUOTA_EXCEEDED"},
    {-1603, "PERMISSION_DENIED"}, {-1604, "DFS_STALE_HANDLE"}, {-1605, "DFS_PARTIAL_WRITE"},
    {-1700, "TENANT_QUOTA_EXCEEDED"}, {-1701, "TENANT_NOT_REGISTERED"}, {-1702, "TENANT_NOT_EMPTY"}
};

MCFDEF const char *mcf_result_name(int result)
{
    size_t i;
    for (i = 0; i < sizeof mcf__code_names / sizeof mcf__code_names[0]; i++)
        if (mcf__code_names[i].code == result) return mcf__code_names[i].name;
    return "UNKNOWN";
}

MCFDEF const char *mcf_last_error(void) { return mcf__error_text; }

MCFDEF int mcf_set_error(int code, const char *fmt, ...)
{
    char tmp[MCF_ERROR_MAX];
    va_list ap;
    /* format into a copy first: arguments may point into mcf__error_text */
    va_start(ap, fmt);
    (void)vsnprintf(tmp, sizeof tmp, fmt, ap);
    va_end(ap);
    memcpy(mcf__error_text, tmp, sizeof tmp);
    return code;
}

/* The library fails through the same function it offers backends:
 * return mcf__fail(MCF_..., "who: what: why", ...) sets the sentence and
 * returns the code (printf format checked by the declaration above). */
#define mcf__fail mcf_set_error

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

/* ===== [03] alloc, checked math & growth ================================= */
/* Bookkeeping goes through MCF_MALLOC/REALLOC/FREE; tensor payloads through
 * the options' alloc hook (64-byte aligned by default). Every size sum or
 * product from a file goes through the checked helpers here. The worker
 * threads of parallel reads (mcf__parallel) close the section. */
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

/* Makes room for need elements of elem bytes in the array *p of capacity
 * *cap, doubling it from 16. 0 on overflow or allocation failure, with *p
 * and *cap unchanged. */
MCF__SHARED int mcf__grow(void **p, size_t *cap, size_t need, size_t elem)
{
    size_t c = *cap ? *cap : 16;
    void *q;
    if (need <= *cap) return 1;
    while (c < need) {
        if (c > SIZE_MAX / 2 / elem) return 0;
        c *= 2;
    }
    q = MCF_REALLOC(*p, c * elem);
    if (!q) return 0;
    *p = q;
    *cap = c;
    return 1;
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
 * Python store_file_io module normalises format/kind names:
 * case-insensitive, '-' equals '_'. */
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

/* A large copy into memory that was never touched (freshly allocated, the
 * common "allocate, then load" case) takes one page fault per 4 KiB page of
 * the destination; on Linux, when the first page of dst is not resident,
 * the whole range is made resident with one MADV_POPULATE_WRITE first
 * (Linux 5.14+, when the TU sees madvise and mincore, which it does when
 * this header set the feature macros; elsewhere, or when refused, nothing
 * happens). Bytes are not changed. Measured on a 256 MiB copy into fresh memory: 90 ms instead of
 * 114 ms for pread(2) and 158 ms for memcpy alone. */
#define MCF__PREFAULT_MIN ((size_t)1 << 20)
#if defined(__linux__) && !defined(MCF_NO_POSIX) && \
    (defined(__USE_MISC) || (!defined(__GLIBC__) && (defined(_DEFAULT_SOURCE) || defined(_GNU_SOURCE))))
#define MCF__HAVE_PREFAULT 1            /* madvise and mincore are declared */
#endif
MCF__SHARED void mcf__prefault(void *dst, size_t n)
{
#ifdef MCF__HAVE_PREFAULT
#ifndef MADV_POPULATE_WRITE
#define MADV_POPULATE_WRITE 23
#endif
    long ps = sysconf(_SC_PAGESIZE);
    uintptr_t page = ps > 0 ? (uintptr_t)ps : 4096, a = (uintptr_t)dst & ~(page - 1), b = ((uintptr_t)dst + n + page - 1) & ~(page - 1);
    unsigned char in = 1;
    if (n < MCF__PREFAULT_MIN || mincore((void *)a, (size_t)page, &in) != 0 || (in & 1)) return;
    (void)madvise((void *)a, (size_t)(b - a), MADV_POPULATE_WRITE);
#else
    (void)dst; (void)n;
#endif
}

/* ---- worker threads ------------------------------------------------------ */
/* mcf__parallel(threads, n, fn, ctx, &failed) runs the tasks fn(ctx, k),
 * k = 0..n-1, on the calling thread plus up to min(threads, n,
 * MCF_MAX_THREADS) - 1 threads it starts for this call and joins before it
 * returns (no pool outlives a call, no thread is started when threads <= 1
 * or n <= 1). Tasks are handed out in order; once one fails no new one
 * starts, and the result is the code of the failing task with the lowest k
 * (*failed = k), its sentence copied into the caller's last error. A thread
 * the system refuses to start leaves its share to the others (never an
 * error). MCF_NO_POSIX and MCF_MUTEX builds assume no thread API: they run
 * every task on the calling thread, in order. */
#if !defined(MCF_NO_POSIX) && !defined(MCF_MUTEX)
#define MCF__THREADS 1
#else
#define MCF__THREADS 0
#endif

typedef int (*mcf__task_fn)(void *ctx, size_t k);

typedef struct mcf__pool {
    mcf__task_fn fn;
    void *ctx;
    size_t n, next, fail_k;
    int rc;
#if MCF__THREADS
    mcf__mutex lock;
#endif
    char msg[MCF_ERROR_MAX];
} mcf__pool;

/* Takes the next task under the lock; 0 when none is left or one failed. */
static int mcf__pool_take(mcf__pool *p, size_t *k)
{
    int ok;
#if MCF__THREADS
    mcf__lock(&p->lock);
#endif
    ok = p->next < p->n && p->rc == MCF_OK;
    if (ok) *k = p->next++;
#if MCF__THREADS
    mcf__unlock(&p->lock);
#endif
    return ok;
}

static void mcf__pool_work(mcf__pool *p)
{
    size_t k;
    while (mcf__pool_take(p, &k)) {
        int rc = p->fn(p->ctx, k);
        if (rc == MCF_OK) continue;
#if MCF__THREADS
        mcf__lock(&p->lock);
#endif
        if (p->rc == MCF_OK || k < p->fail_k) {
            p->rc = rc;
            p->fail_k = k;
            memcpy(p->msg, mcf__error_text, sizeof p->msg);   /* this thread's sentence */
        }
#if MCF__THREADS
        mcf__unlock(&p->lock);
#endif
    }
}

#if MCF__THREADS && defined(_WIN32)
static DWORD WINAPI mcf__pool_main(LPVOID p) { mcf__pool_work((mcf__pool *)p); return 0; }
#elif MCF__THREADS
static void *mcf__pool_main(void *p) { mcf__pool_work((mcf__pool *)p); return NULL; }
#endif

/* One function on a second thread while the caller goes on: mcf__bg_start
 * runs fn(ctx) on a new thread (at once on this one where threads are
 * unavailable or refused), mcf__bg_join waits for it. */
typedef struct mcf__bg {
    void (*fn)(void *ctx);
    void *ctx;
    int started;
#if MCF__THREADS && defined(_WIN32)
    HANDLE tid;
#elif MCF__THREADS
    pthread_t tid;
#endif
} mcf__bg;

#if MCF__THREADS && defined(_WIN32)
static DWORD WINAPI mcf__bg_main(LPVOID p) { ((mcf__bg *)p)->fn(((mcf__bg *)p)->ctx); return 0; }
#elif MCF__THREADS
static void *mcf__bg_main(void *p) { ((mcf__bg *)p)->fn(((mcf__bg *)p)->ctx); return NULL; }
#endif

MCF__SHARED void mcf__bg_start(mcf__bg *b, void (*fn)(void *ctx), void *ctx)
{
    b->fn = fn;
    b->ctx = ctx;
    b->started = 0;
#if MCF__THREADS && defined(_WIN32)
    b->started = (b->tid = CreateThread(NULL, 0, mcf__bg_main, b, 0, NULL)) != NULL;
#elif MCF__THREADS
    b->started = pthread_create(&b->tid, NULL, mcf__bg_main, b) == 0;
#endif
    if (!b->started) fn(ctx);
}

MCF__SHARED void mcf__bg_join(mcf__bg *b)
{
    if (!b->started) return;
#if MCF__THREADS && defined(_WIN32)
    (void)WaitForSingleObject(b->tid, INFINITE);
    (void)CloseHandle(b->tid);
#elif MCF__THREADS
    (void)pthread_join(b->tid, NULL);
#endif
    b->started = 0;
}

MCF__SHARED int mcf__parallel(unsigned threads, size_t n, mcf__task_fn fn, void *ctx, size_t *failed)
{
    mcf__pool p;
    size_t want = threads > 1 ? threads : 1, started = 0, t;
#if MCF__THREADS && defined(_WIN32)
    HANDLE tid[MCF_MAX_THREADS];
#elif MCF__THREADS
    pthread_t tid[MCF_MAX_THREADS];
#endif
    memset(&p, 0, sizeof p);
    p.fn = fn;
    p.ctx = ctx;
    p.n = n;
    if (want > n) want = n;
    if (want > MCF_MAX_THREADS) want = MCF_MAX_THREADS;
#if MCF__THREADS
    if (want > 1 && !mcf__mutex_init(&p.lock)) want = 1;
    for (t = 1; t < want; t++) {
#if defined(_WIN32)
        if (!(tid[started] = CreateThread(NULL, 0, mcf__pool_main, &p, 0, NULL))) break;
#else
        if (pthread_create(&tid[started], NULL, mcf__pool_main, &p) != 0) break;
#endif
        started++;
    }
#endif
    mcf__pool_work(&p);
#if MCF__THREADS
    for (t = 0; t < started; t++) {
#if defined(_WIN32)
        (void)WaitForSingleObject(tid[t], INFINITE);
        (void)CloseHandle(tid[t]);
#else
        (void)pthread_join(tid[t], NULL);
#endif
    }
    if (want > 1) mcf__mutex_destroy(&p.lock);
#else
    (void)t; (void)started;
#endif
    if (p.rc != MCF_OK) {
        memcpy(mcf__error_text, p.msg, sizeof p.msg);
        if (failed) *failed = p.fail_k;
    }
    return p.rc;
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

/* 1 if p[0..n) is the start of a text file: UTF-8 (a sequence may be cut at
 * the end) with no control byte but tab, LF and CR. Binary headers (a
 * length's zero bytes, "PK\3\4", a pickle's 0x80 0x02) never pass. */
MCF__SHARED int mcf__is_text(const unsigned char *p, size_t n)
{
    size_t i = 0, k;
    while (i < n) {
        unsigned c = p[i++];
        size_t more = c >= 0xc2 && c <= 0xdf ? 1 : c >= 0xe0 && c <= 0xef ? 2 : c >= 0xf0 && c <= 0xf4 ? 3 : 0;
        if ((c < 0x20 && c != '\t' && c != '\n' && c != '\r') || c == 0x7f || (c >= 0x80 && !more)) return 0;
        for (k = 0; k < more && i < n; k++, i++)
            if ((p[i] & 0xc0) != 0x80) return 0;
    }
    return n > 0;
}

/* The first bytes of a file for a message that says what it is not:
 * text "hello wo" (escaped) or bytes 89 50 4e 47. n <= 8; out holds 64. */
MCF__SHARED const char *mcf__head_desc(const unsigned char *p, size_t n, char out[64])
{
    size_t i, k;
    int text = mcf__is_text(p, n);
    if (n > 8) n = 8;
    k = (size_t)snprintf(out, 64, text ? "text \"" : "bytes");
    for (i = 0; i < n; i++) {
        unsigned c = p[i];
        if (!text) k += (size_t)snprintf(out + k, 64 - k, " %02x", c);
        else if (c == '"' || c == '\\') k += (size_t)snprintf(out + k, 64 - k, "\\%c", (char)c);
        else if (c >= 0x20 && c < 0x7f) out[k++] = (char)c;
        else k += (size_t)snprintf(out + k, 64 - k, c == '\n' ? "\\n" : c == '\r' ? "\\r" : c == '\t' ? "\\t" : "\\x%02x", c);
    }
    if (text) out[k++] = '"';
    out[k] = '\0';
    return out;
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

/* CRC-32 of zip (ISO-HDLC, reflected polynomial 0xEDB88320, PKWARE APPNOTE
 * 4.4.7). Paths, fastest first, picked per call by runtime CPU checks (no
 * mutable state): VPCLMULQDQ (AVX-512, 4x512-bit folding), PCLMULQDQ
 * (4x128-bit folding, Intel "Fast CRC Computation for Generic Polynomials
 * Using PCLMULQDQ"), ARMv8 CRC32 instructions, then portable slicing-by-8.
 * Folding constants are x^n mod P bit-reflected and shifted left by one, for
 * n = fold distance +/- 32. The folded 128-bit remainder is finished with the
 * table (16 bytes from state 0), which needs no Barrett reduction.
 * mcf__crc32_bitwise is the reference every path is tested against; define
 * MCF_NO_SIMD to compile only the portable paths. */
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

/* mcf__crc32_table[0][b] is the CRC register after shifting byte b through;
 * table[k][b] = (table[k-1][b] >> 8) ^ table[0][table[k-1][b] & 0xff]
 * (slicing-by-8). Generated from those two lines by a 10-line script. */
static const uint32_t mcf__crc32_table[8][256] = {
    {
        0x00000000u, 0x77073096u, 0xee0e612cu, 0x990951bau, 0x076dc419u, 0x706af48fu, 0xe963a535u,
        0x9e6495a3u, 0x0edb8832u, 0x79dcb8a4u, 0xe0d5e91eu, 0x97d2d988u, 0x09b64c2bu, 0x7eb17cbdu,
        0xe7b82d07u, 0x90bf1d91u, 0x1db71064u, 0x6ab020f2u, 0xf3b97148u, 0x84be41deu, 0x1adad47du,
        0x6ddde4ebu, 0xf4d4b551u, 0x83d385c7u, 0x136c9856u, 0x646ba8c0u, 0xfd62f97au, 0x8a65c9ecu,
        0x14015c4fu, 0x63066cd9u, 0xfa0f3d63u, 0x8d080df5u, 0x3b6e20c8u, 0x4c69105eu, 0xd56041e4u,
        0xa2677172u, 0x3c03e4d1u, 0x4b04d447u, 0xd20d85fdu, 0xa50ab56bu, 0x35b5a8fau, 0x42b2986cu,
        0xdbbbc9d6u, 0xacbcf940u, 0x32d86ce3u, 0x45df5c75u, 0xdcd60dcfu, 0xabd13d59u, 0x26d930acu,
        0x51de003au, 0xc8d75180u, 0xbfd06116u, 0x21b4f4b5u, 0x56b3c423u, 0xcfba9599u, 0xb8bda50fu,
        0x2802b89eu, 0x5f058808u, 0xc60cd9b2u, 0xb10be924u, 0x2f6f7c87u, 0x58684c11u, 0xc1611dabu,
        0xb6662d3du, 0x76dc4190u, 0x01db7106u, 0x98d220bcu, 0xefd5102au, 0x71b18589u, 0x06b6b51fu,
        0x9fbfe4a5u, 0xe8b8d433u, 0x7807c9a2u, 0x0f00f934u, 0x9609a88eu, 0xe10e9818u, 0x7f6a0dbbu,
        0x086d3d2du, 0x91646c97u, 0xe6635c01u, 0x6b6b51f4u, 0x1c6c6162u, 0x856530d8u, 0xf262004eu,
        0x6c0695edu, 0x1b01a57bu, 0x8208f4c1u, 0xf50fc457u, 0x65b0d9c6u, 0x12b7e950u, 0x8bbeb8eau,
        0xfcb9887cu, 0x62dd1ddfu, 0x15da2d49u, 0x8cd37cf3u, 0xfbd44c65u, 0x4db26158u, 0x3ab551ceu,
        0xa3bc0074u, 0xd4bb30e2u, 0x4adfa541u, 0x3dd895d7u, 0xa4d1c46du, 0xd3d6f4fbu, 0x4369e96au,
        0x346ed9fcu, 0xad678846u, 0xda60b8d0u, 0x44042d73u, 0x33031de5u, 0xaa0a4c5fu, 0xdd0d7cc9u,
        0x5005713cu, 0x270241aau, 0xbe0b1010u, 0xc90c2086u, 0x5768b525u, 0x206f85b3u, 0xb966d409u,
        0xce61e49fu, 0x5edef90eu, 0x29d9c998u, 0xb0d09822u, 0xc7d7a8b4u, 0x59b33d17u, 0x2eb40d81u,
        0xb7bd5c3bu, 0xc0ba6cadu, 0xedb88320u, 0x9abfb3b6u, 0x03b6e20cu, 0x74b1d29au, 0xead54739u,
        0x9dd277afu, 0x04db2615u, 0x73dc1683u, 0xe3630b12u, 0x94643b84u, 0x0d6d6a3eu, 0x7a6a5aa8u,
        0xe40ecf0bu, 0x9309ff9du, 0x0a00ae27u, 0x7d079eb1u, 0xf00f9344u, 0x8708a3d2u, 0x1e01f268u,
        0x6906c2feu, 0xf762575du, 0x806567cbu, 0x196c3671u, 0x6e6b06e7u, 0xfed41b76u, 0x89d32be0u,
        0x10da7a5au, 0x67dd4accu, 0xf9b9df6fu, 0x8ebeeff9u, 0x17b7be43u, 0x60b08ed5u, 0xd6d6a3e8u,
        0xa1d1937eu, 0x38d8c2c4u, 0x4fdff252u, 0xd1bb67f1u, 0xa6bc5767u, 0x3fb506ddu, 0x48b2364bu,
        0xd80d2bdau, 0xaf0a1b4cu, 0x36034af6u, 0x41047a60u, 0xdf60efc3u, 0xa867df55u, 0x316e8eefu,
        0x4669be79u, 0xcb61b38cu, 0xbc66831au, 0x256fd2a0u, 0x5268e236u, 0xcc0c7795u, 0xbb0b4703u,
        0x220216b9u, 0x5505262fu, 0xc5ba3bbeu, 0xb2bd0b28u, 0x2bb45a92u, 0x5cb36a04u, 0xc2d7ffa7u,
        0xb5d0cf31u, 0x2cd99e8bu, 0x5bdeae1du, 0x9b64c2b0u, 0xec63f226u, 0x756aa39cu, 0x026d930au,
        0x9c0906a9u, 0xeb0e363fu, 0x72076785u, 0x05005713u, 0x95bf4a82u, 0xe2b87a14u, 0x7bb12baeu,
        0x0cb61b38u, 0x92d28e9bu, 0xe5d5be0du, 0x7cdcefb7u, 0x0bdbdf21u, 0x86d3d2d4u, 0xf1d4e242u,
        0x68ddb3f8u, 0x1fda836eu, 0x81be16cdu, 0xf6b9265bu, 0x6fb077e1u, 0x18b74777u, 0x88085ae6u,
        0xff0f6a70u, 0x66063bcau, 0x11010b5cu, 0x8f659effu, 0xf862ae69u, 0x616bffd3u, 0x166ccf45u,
        0xa00ae278u, 0xd70dd2eeu, 0x4e048354u, 0x3903b3c2u, 0xa7672661u, 0xd06016f7u, 0x4969474du,
        0x3e6e77dbu, 0xaed16a4au, 0xd9d65adcu, 0x40df0b66u, 0x37d83bf0u, 0xa9bcae53u, 0xdebb9ec5u,
        0x47b2cf7fu, 0x30b5ffe9u, 0xbdbdf21cu, 0xcabac28au, 0x53b39330u, 0x24b4a3a6u, 0xbad03605u,
        0xcdd70693u, 0x54de5729u, 0x23d967bfu, 0xb3667a2eu, 0xc4614ab8u, 0x5d681b02u, 0x2a6f2b94u,
        0xb40bbe37u, 0xc30c8ea1u, 0x5a05df1bu, 0x2d02ef8du
    },
    {
        0x00000000u, 0x191b3141u, 0x32366282u, 0x2b2d53c3u, 0x646cc504u, 0x7d77f445u, 0x565aa786u,
        0x4f4196c7u, 0xc8d98a08u, 0xd1c2bb49u, 0xfaefe88au, 0xe3f4d9cbu, 0xacb54f0cu, 0xb5ae7e4du,
        0x9e832d8eu, 0x87981ccfu, 0x4ac21251u, 0x53d92310u, 0x78f470d3u, 0x61ef4192u, 0x2eaed755u,
        0x37b5e614u, 0x1c98b5d7u, 0x05838496u, 0x821b9859u, 0x9b00a918u, 0xb02dfadbu, 0xa936cb9au,
        0xe6775d5du, 0xff6c6c1cu, 0xd4413fdfu, 0xcd5a0e9eu, 0x958424a2u, 0x8c9f15e3u, 0xa7b24620u,
        0xbea97761u, 0xf1e8e1a6u, 0xe8f3d0e7u, 0xc3de8324u, 0xdac5b265u, 0x5d5daeaau, 0x44469febu,
        0x6f6bcc28u, 0x7670fd69u, 0x39316baeu, 0x202a5aefu, 0x0b07092cu, 0x121c386du, 0xdf4636f3u,
        0xc65d07b2u, 0xed705471u, 0xf46b6530u, 0xbb2af3f7u, 0xa231c2b6u, 0x891c9175u, 0x9007a034u,
        0x179fbcfbu, 0x0e848dbau, 0x25a9de79u, 0x3cb2ef38u, 0x73f379ffu, 0x6ae848beu, 0x41c51b7du,
        0x58de2a3cu, 0xf0794f05u, 0xe9627e44u, 0xc24f2d87u, 0xdb541cc6u, 0x94158a01u, 0x8d0ebb40u,
        0xa623e883u, 0xbf38d9c2u, 0x38a0c50du, 0x21bbf44cu, 0x0a96a78fu, 0x138d96ceu, 0x5ccc0009u,
        0x45d73148u, 0x6efa628bu, 0x77e153cau, 0xbabb5d54u, 0xa3a06c15u, 0x888d3fd6u, 0x91960e97u,
        0xded79850u, 0xc7cca911u, 0xece1fad2u, 0xf5facb93u, 0x7262d75cu, 0x6b79e61du, 0x4054b5deu,
        0x594f849fu, 0x160e1258u, 0x0f152319u, 0x243870dau, 0x3d23419bu, 0x65fd6ba7u, 0x7ce65ae6u,
        0x57cb0925u, 0x4ed03864u, 0x0191aea3u, 0x188a9fe2u, 0x33a7cc21u, 0x2abcfd60u, 0xad24e1afu,
        0xb43fd0eeu, 0x9f12832du, 0x8609b26cu, 0xc94824abu, 0xd05315eau, 0xfb7e4629u, 0xe2657768u,
        0x2f3f79f6u, 0x362448b7u, 0x1d091b74u, 0x04122a35u, 0x4b53bcf2u, 0x52488db3u, 0x7965de70u,
        0x607eef31u, 0xe7e6f3feu, 0xfefdc2bfu, 0xd5d0917cu, 0xcccba03du, 0x838a36fau, 0x9a9107bbu,
        0xb1bc5478u, 0xa8a76539u, 0x3b83984bu, 0x2298a90au, 0x09b5fac9u, 0x10aecb88u, 0x5fef5d4fu,
        0x46f46c0eu, 0x6dd93fcdu, 0x74c20e8cu, 0xf35a1243u, 0xea412302u, 0xc16c70c1u, 0xd8774180u,
        0x9736d747u, 0x8e2de606u, 0xa500b5c5u, 0xbc1b8484u, 0x71418a1au, 0x685abb5bu, 0x4377e898u,
        0x5a6cd9d9u, 0x152d4f1eu, 0x0c367e5fu, 0x271b2d9cu, 0x3e001cddu, 0xb9980012u, 0xa0833153u,
        0x8bae6290u, 0x92b553d1u, 0xddf4c516u, 0xc4eff457u, 0xefc2a794u, 0xf6d996d5u, 0xae07bce9u,
        0xb71c8da8u, 0x9c31de6bu, 0x852aef2au, 0xca6b79edu, 0xd37048acu, 0xf85d1b6fu, 0xe1462a2eu,
        0x66de36e1u, 0x7fc507a0u, 0x54e85463u, 0x4df36522u, 0x02b2f3e5u, 0x1ba9c2a4u, 0x30849167u,
        0x299fa026u, 0xe4c5aeb8u, 0xfdde9ff9u, 0xd6f3cc3au, 0xcfe8fd7bu, 0x80a96bbcu, 0x99b25afdu,
        0xb29f093eu, 0xab84387fu, 0x2c1c24b0u, 0x350715f1u, 0x1e2a4632u, 0x07317773u, 0x4870e1b4u,
        0x516bd0f5u, 0x7a468336u, 0x635db277u, 0xcbfad74eu, 0xd2e1e60fu, 0xf9ccb5ccu, 0xe0d7848du,
        0xaf96124au, 0xb68d230bu, 0x9da070c8u, 0x84bb4189u, 0x03235d46u, 0x1a386c07u, 0x31153fc4u,
        0x280e0e85u, 0x674f9842u, 0x7e54a903u, 0x5579fac0u, 0x4c62cb81u, 0x8138c51fu, 0x9823f45eu,
        0xb30ea79du, 0xaa1596dcu, 0xe554001bu, 0xfc4f315au, 0xd7626299u, 0xce7953d8u, 0x49e14f17u,
        0x50fa7e56u, 0x7bd72d95u, 0x62cc1cd4u, 0x2d8d8a13u, 0x3496bb52u, 0x1fbbe891u, 0x06a0d9d0u,
        0x5e7ef3ecu, 0x4765c2adu, 0x6c48916eu, 0x7553a02fu, 0x3a1236e8u, 0x230907a9u, 0x0824546au,
        0x113f652bu, 0x96a779e4u, 0x8fbc48a5u, 0xa4911b66u, 0xbd8a2a27u, 0xf2cbbce0u, 0xebd08da1u,
        0xc0fdde62u, 0xd9e6ef23u, 0x14bce1bdu, 0x0da7d0fcu, 0x268a833fu, 0x3f91b27eu, 0x70d024b9u,
        0x69cb15f8u, 0x42e6463bu, 0x5bfd777au, 0xdc656bb5u, 0xc57e5af4u, 0xee530937u, 0xf7483876u,
        0xb809aeb1u, 0xa1129ff0u, 0x8a3fcc33u, 0x9324fd72u
    },
    {
        0x00000000u, 0x01c26a37u, 0x0384d46eu, 0x0246be59u, 0x0709a8dcu, 0x06cbc2ebu, 0x048d7cb2u,
        0x054f1685u, 0x0e1351b8u, 0x0fd13b8fu, 0x0d9785d6u, 0x0c55efe1u, 0x091af964u, 0x08d89353u,
        0x0a9e2d0au, 0x0b5c473du, 0x1c26a370u, 0x1de4c947u, 0x1fa2771eu, 0x1e601d29u, 0x1b2f0bacu,
        0x1aed619bu, 0x18abdfc2u, 0x1969b5f5u, 0x1235f2c8u, 0x13f798ffu, 0x11b126a6u, 0x10734c91u,
        0x153c5a14u, 0x14fe3023u, 0x16b88e7au, 0x177ae44du, 0x384d46e0u, 0x398f2cd7u, 0x3bc9928eu,
        0x3a0bf8b9u, 0x3f44ee3cu, 0x3e86840bu, 0x3cc03a52u, 0x3d025065u, 0x365e1758u, 0x379c7d6fu,
        0x35dac336u, 0x3418a901u, 0x3157bf84u, 0x3095d5b3u, 0x32d36beau, 0x331101ddu, 0x246be590u,
        0x25a98fa7u, 0x27ef31feu, 0x262d5bc9u, 0x23624d4cu, 0x22a0277bu, 0x20e69922u, 0x2124f315u,
        0x2a78b428u, 0x2bbade1fu, 0x29fc6046u, 0x283e0a71u, 0x2d711cf4u, 0x2cb376c3u, 0x2ef5c89au,
        0x2f37a2adu, 0x709a8dc0u, 0x7158e7f7u, 0x731e59aeu, 0x72dc3399u, 0x7793251cu, 0x76514f2bu,
        0x7417f172u, 0x75d59b45u, 0x7e89dc78u, 0x7f4bb64fu, 0x7d0d0816u, 0x7ccf6221u, 0x798074a4u,
        0x78421e93u, 0x7a04a0cau, 0x7bc6cafdu, 0x6cbc2eb0u, 0x6d7e4487u, 0x6f38fadeu, 0x6efa90e9u,
        0x6bb5866cu, 0x6a77ec5bu, 0x68315202u, 0x69f33835u, 0x62af7f08u, 0x636d153fu, 0x612bab66u,
        0x60e9c151u, 0x65a6d7d4u, 0x6464bde3u, 0x662203bau, 0x67e0698du, 0x48d7cb20u, 0x4915a117u,
        0x4b531f4eu, 0x4a917579u, 0x4fde63fcu, 0x4e1c09cbu, 0x4c5ab792u, 0x4d98dda5u, 0x46c49a98u,
        0x4706f0afu, 0x45404ef6u, 0x448224c1u, 0x41cd3244u, 0x400f5873u, 0x4249e62au, 0x438b8c1du,
        0x54f16850u, 0x55330267u, 0x5775bc3eu, 0x56b7d609u, 0x53f8c08cu, 0x523aaabbu, 0x507c14e2u,
        0x51be7ed5u, 0x5ae239e8u, 0x5b2053dfu, 0x5966ed86u, 0x58a487b1u, 0x5deb9134u, 0x5c29fb03u,
        0x5e6f455au, 0x5fad2f6du, 0xe1351b80u, 0xe0f771b7u, 0xe2b1cfeeu, 0xe373a5d9u, 0xe63cb35cu,
        0xe7fed96bu, 0xe5b86732u, 0xe47a0d05u, 0xef264a38u, 0xeee4200fu, 0xeca29e56u, 0xed60f461u,
        0xe82fe2e4u, 0xe9ed88d3u, 0xebab368au, 0xea695cbdu, 0xfd13b8f0u, 0xfcd1d2c7u, 0xfe976c9eu,
        0xff5506a9u, 0xfa1a102cu, 0xfbd87a1bu, 0xf99ec442u, 0xf85cae75u, 0xf300e948u, 0xf2c2837fu,
        0xf0843d26u, 0xf1465711u, 0xf4094194u, 0xf5cb2ba3u, 0xf78d95fau, 0xf64fffcdu, 0xd9785d60u,
        0xd8ba3757u, 0xdafc890eu, 0xdb3ee339u, 0xde71f5bcu, 0xdfb39f8bu, 0xddf521d2u, 0xdc374be5u,
        0xd76b0cd8u, 0xd6a966efu, 0xd4efd8b6u, 0xd52db281u, 0xd062a404u, 0xd1a0ce33u, 0xd3e6706au,
        0xd2241a5du, 0xc55efe10u, 0xc49c9427u, 0xc6da2a7eu, 0xc7184049u, 0xc25756ccu, 0xc3953cfbu,
        0xc1d382a2u, 0xc011e895u, 0xcb4dafa8u, 0xca8fc59fu, 0xc8c97bc6u, 0xc90b11f1u, 0xcc440774u,
        0xcd866d43u, 0xcfc0d31au, 0xce02b92du, 0x91af9640u, 0x906dfc77u, 0x922b422eu, 0x93e92819u,
        0x96a63e9cu, 0x976454abu, 0x9522eaf2u, 0x94e080c5u, 0x9fbcc7f8u, 0x9e7eadcfu, 0x9c381396u,
        0x9dfa79a1u, 0x98b56f24u, 0x99770513u, 0x9b31bb4au, 0x9af3d17du, 0x8d893530u, 0x8c4b5f07u,
        0x8e0de15eu, 0x8fcf8b69u, 0x8a809decu, 0x8b42f7dbu, 0x89044982u, 0x88c623b5u, 0x839a6488u,
        0x82580ebfu, 0x801eb0e6u, 0x81dcdad1u, 0x8493cc54u, 0x8551a663u, 0x8717183au, 0x86d5720du,
        0xa9e2d0a0u, 0xa820ba97u, 0xaa6604ceu, 0xaba46ef9u, 0xaeeb787cu, 0xaf29124bu, 0xad6fac12u,
        0xacadc625u, 0xa7f18118u, 0xa633eb2fu, 0xa4755576u, 0xa5b73f41u, 0xa0f829c4u, 0xa13a43f3u,
        0xa37cfdaau, 0xa2be979du, 0xb5c473d0u, 0xb40619e7u, 0xb640a7beu, 0xb782cd89u, 0xb2cddb0cu,
        0xb30fb13bu, 0xb1490f62u, 0xb08b6555u, 0xbbd72268u, 0xba15485fu, 0xb853f606u, 0xb9919c31u,
        0xbcde8ab4u, 0xbd1ce083u, 0xbf5a5edau, 0xbe9834edu
    },
    {
        0x00000000u, 0xb8bc6765u, 0xaa09c88bu, 0x12b5afeeu, 0x8f629757u, 0x37def032u, 0x256b5fdcu,
        0x9dd738b9u, 0xc5b428efu, 0x7d084f8au, 0x6fbde064u, 0xd7018701u, 0x4ad6bfb8u, 0xf26ad8ddu,
        0xe0df7733u, 0x58631056u, 0x5019579fu, 0xe8a530fau, 0xfa109f14u, 0x42acf871u, 0xdf7bc0c8u,
        0x67c7a7adu, 0x75720843u, 0xcdce6f26u, 0x95ad7f70u, 0x2d111815u, 0x3fa4b7fbu, 0x8718d09eu,
        0x1acfe827u, 0xa2738f42u, 0xb0c620acu, 0x087a47c9u, 0xa032af3eu, 0x188ec85bu, 0x0a3b67b5u,
        0xb28700d0u, 0x2f503869u, 0x97ec5f0cu, 0x8559f0e2u, 0x3de59787u, 0x658687d1u, 0xdd3ae0b4u,
        0xcf8f4f5au, 0x7733283fu, 0xeae41086u, 0x525877e3u, 0x40edd80du, 0xf851bf68u, 0xf02bf8a1u,
        0x48979fc4u, 0x5a22302au, 0xe29e574fu, 0x7f496ff6u, 0xc7f50893u, 0xd540a77du, 0x6dfcc018u,
        0x359fd04eu, 0x8d23b72bu, 0x9f9618c5u, 0x272a7fa0u, 0xbafd4719u, 0x0241207cu, 0x10f48f92u,
        0xa848e8f7u, 0x9b14583du, 0x23a83f58u, 0x311d90b6u, 0x89a1f7d3u, 0x1476cf6au, 0xaccaa80fu,
        0xbe7f07e1u, 0x06c36084u, 0x5ea070d2u, 0xe61c17b7u, 0xf4a9b859u, 0x4c15df3cu, 0xd1c2e785u,
        0x697e80e0u, 0x7bcb2f0eu, 0xc377486bu, 0xcb0d0fa2u, 0x73b168c7u, 0x6104c729u, 0xd9b8a04cu,
        0x446f98f5u, 0xfcd3ff90u, 0xee66507eu, 0x56da371bu, 0x0eb9274du, 0xb6054028u, 0xa4b0efc6u,
        0x1c0c88a3u, 0x81dbb01au, 0x3967d77fu, 0x2bd27891u, 0x936e1ff4u, 0x3b26f703u, 0x839a9066u,
        0x912f3f88u, 0x299358edu, 0xb4446054u, 0x0cf80731u, 0x1e4da8dfu, 0xa6f1cfbau, 0xfe92dfecu,
        0x462eb889u, 0x549b1767u, 0xec277002u, 0x71f048bbu, 0xc94c2fdeu, 0xdbf98030u, 0x6345e755u,
        0x6b3fa09cu, 0xd383c7f9u, 0xc1366817u, 0x798a0f72u, 0xe45d37cbu, 0x5ce150aeu, 0x4e54ff40u,
        0xf6e89825u, 0xae8b8873u, 0x1637ef16u, 0x048240f8u, 0xbc3e279du, 0x21e91f24u, 0x99557841u,
        0x8be0d7afu, 0x335cb0cau, 0xed59b63bu, 0x55e5d15eu, 0x47507eb0u, 0xffec19d5u, 0x623b216cu,
        0xda874609u, 0xc832e9e7u, 0x708e8e82u, 0x28ed9ed4u, 0x9051f9b1u, 0x82e4565fu, 0x3a58313au,
        0xa78f0983u, 0x1f336ee6u, 0x0d86c108u, 0xb53aa66du, 0xbd40e1a4u, 0x05fc86c1u, 0x1749292fu,
        0xaff54e4au, 0x322276f3u, 0x8a9e1196u, 0x982bbe78u, 0x2097d91du, 0x78f4c94bu, 0xc048ae2eu,
        0xd2fd01c0u, 0x6a4166a5u, 0xf7965e1cu, 0x4f2a3979u, 0x5d9f9697u, 0xe523f1f2u, 0x4d6b1905u,
        0xf5d77e60u, 0xe762d18eu, 0x5fdeb6ebu, 0xc2098e52u, 0x7ab5e937u, 0x680046d9u, 0xd0bc21bcu,
        0x88df31eau, 0x3063568fu, 0x22d6f961u, 0x9a6a9e04u, 0x07bda6bdu, 0xbf01c1d8u, 0xadb46e36u,
        0x15080953u, 0x1d724e9au, 0xa5ce29ffu, 0xb77b8611u, 0x0fc7e174u, 0x9210d9cdu, 0x2aacbea8u,
        0x38191146u, 0x80a57623u, 0xd8c66675u, 0x607a0110u, 0x72cfaefeu, 0xca73c99bu, 0x57a4f122u,
        0xef189647u, 0xfdad39a9u, 0x45115eccu, 0x764dee06u, 0xcef18963u, 0xdc44268du, 0x64f841e8u,
        0xf92f7951u, 0x41931e34u, 0x5326b1dau, 0xeb9ad6bfu, 0xb3f9c6e9u, 0x0b45a18cu, 0x19f00e62u,
        0xa14c6907u, 0x3c9b51beu, 0x842736dbu, 0x96929935u, 0x2e2efe50u, 0x2654b999u, 0x9ee8defcu,
        0x8c5d7112u, 0x34e11677u, 0xa9362eceu, 0x118a49abu, 0x033fe645u, 0xbb838120u, 0xe3e09176u,
        0x5b5cf613u, 0x49e959fdu, 0xf1553e98u, 0x6c820621u, 0xd43e6144u, 0xc68bceaau, 0x7e37a9cfu,
        0xd67f4138u, 0x6ec3265du, 0x7c7689b3u, 0xc4caeed6u, 0x591dd66fu, 0xe1a1b10au, 0xf3141ee4u,
        0x4ba87981u, 0x13cb69d7u, 0xab770eb2u, 0xb9c2a15cu, 0x017ec639u, 0x9ca9fe80u, 0x241599e5u,
        0x36a0360bu, 0x8e1c516eu, 0x866616a7u, 0x3eda71c2u, 0x2c6fde2cu, 0x94d3b949u, 0x090481f0u,
        0xb1b8e695u, 0xa30d497bu, 0x1bb12e1eu, 0x43d23e48u, 0xfb6e592du, 0xe9dbf6c3u, 0x516791a6u,
        0xccb0a91fu, 0x740cce7au, 0x66b96194u, 0xde0506f1u
    },
    {
        0x00000000u, 0x3d6029b0u, 0x7ac05360u, 0x47a07ad0u, 0xf580a6c0u, 0xc8e08f70u, 0x8f40f5a0u,
        0xb220dc10u, 0x30704bc1u, 0x0d106271u, 0x4ab018a1u, 0x77d03111u, 0xc5f0ed01u, 0xf890c4b1u,
        0xbf30be61u, 0x825097d1u, 0x60e09782u, 0x5d80be32u, 0x1a20c4e2u, 0x2740ed52u, 0x95603142u,
        0xa80018f2u, 0xefa06222u, 0xd2c04b92u, 0x5090dc43u, 0x6df0f5f3u, 0x2a508f23u, 0x1730a693u,
        0xa5107a83u, 0x98705333u, 0xdfd029e3u, 0xe2b00053u, 0xc1c12f04u, 0xfca106b4u, 0xbb017c64u,
        0x866155d4u, 0x344189c4u, 0x0921a074u, 0x4e81daa4u, 0x73e1f314u, 0xf1b164c5u, 0xccd14d75u,
        0x8b7137a5u, 0xb6111e15u, 0x0431c205u, 0x3951ebb5u, 0x7ef19165u, 0x4391b8d5u, 0xa121b886u,
        0x9c419136u, 0xdbe1ebe6u, 0xe681c256u, 0x54a11e46u, 0x69c137f6u, 0x2e614d26u, 0x13016496u,
        0x9151f347u, 0xac31daf7u, 0xeb91a027u, 0xd6f18997u, 0x64d15587u, 0x59b17c37u, 0x1e1106e7u,
        0x23712f57u, 0x58f35849u, 0x659371f9u, 0x22330b29u, 0x1f532299u, 0xad73fe89u, 0x9013d739u,
        0xd7b3ade9u, 0xead38459u, 0x68831388u, 0x55e33a38u, 0x124340e8u, 0x2f236958u, 0x9d03b548u,
        0xa0639cf8u, 0xe7c3e628u, 0xdaa3cf98u, 0x3813cfcbu, 0x0573e67bu, 0x42d39cabu, 0x7fb3b51bu,
        0xcd93690bu, 0xf0f340bbu, 0xb7533a6bu, 0x8a3313dbu, 0x0863840au, 0x3503adbau, 0x72a3d76au,
        0x4fc3fedau, 0xfde322cau, 0xc0830b7au, 0x872371aau, 0xba43581au, 0x9932774du, 0xa4525efdu,
        0xe3f2242du, 0xde920d9du, 0x6cb2d18du, 0x51d2f83du, 0x167282edu, 0x2b12ab5du, 0xa9423c8cu,
        0x9422153cu, 0xd3826fecu, 0xeee2465cu, 0x5cc29a4cu, 0x61a2b3fcu, 0x2602c92cu, 0x1b62e09cu,
        0xf9d2e0cfu, 0xc4b2c97fu, 0x8312b3afu, 0xbe729a1fu, 0x0c52460fu, 0x31326fbfu, 0x7692156fu,
        0x4bf23cdfu, 0xc9a2ab0eu, 0xf4c282beu, 0xb362f86eu, 0x8e02d1deu, 0x3c220dceu, 0x0142247eu,
        0x46e25eaeu, 0x7b82771eu, 0xb1e6b092u, 0x8c869922u, 0xcb26e3f2u, 0xf646ca42u, 0x44661652u,
        0x79063fe2u, 0x3ea64532u, 0x03c66c82u, 0x8196fb53u, 0xbcf6d2e3u, 0xfb56a833u, 0xc6368183u,
        0x74165d93u, 0x49767423u, 0x0ed60ef3u, 0x33b62743u, 0xd1062710u, 0xec660ea0u, 0xabc67470u,
        0x96a65dc0u, 0x248681d0u, 0x19e6a860u, 0x5e46d2b0u, 0x6326fb00u, 0xe1766cd1u, 0xdc164561u,
        0x9bb63fb1u, 0xa6d61601u, 0x14f6ca11u, 0x2996e3a1u, 0x6e369971u, 0x5356b0c1u, 0x70279f96u,
        0x4d47b626u, 0x0ae7ccf6u, 0x3787e546u, 0x85a73956u, 0xb8c710e6u, 0xff676a36u, 0xc2074386u,
        0x4057d457u, 0x7d37fde7u, 0x3a978737u, 0x07f7ae87u, 0xb5d77297u, 0x88b75b27u, 0xcf1721f7u,
        0xf2770847u, 0x10c70814u, 0x2da721a4u, 0x6a075b74u, 0x576772c4u, 0xe547aed4u, 0xd8278764u,
        0x9f87fdb4u, 0xa2e7d404u, 0x20b743d5u, 0x1dd76a65u, 0x5a7710b5u, 0x67173905u, 0xd537e515u,
        0xe857cca5u, 0xaff7b675u, 0x92979fc5u, 0xe915e8dbu, 0xd475c16bu, 0x93d5bbbbu, 0xaeb5920bu,
        0x1c954e1bu, 0x21f567abu, 0x66551d7bu, 0x5b3534cbu, 0xd965a31au, 0xe4058aaau, 0xa3a5f07au,
        0x9ec5d9cau, 0x2ce505dau, 0x11852c6au, 0x562556bau, 0x6b457f0au, 0x89f57f59u, 0xb49556e9u,
        0xf3352c39u, 0xce550589u, 0x7c75d999u, 0x4115f029u, 0x06b58af9u, 0x3bd5a349u, 0xb9853498u,
        0x84e51d28u, 0xc34567f8u, 0xfe254e48u, 0x4c059258u, 0x7165bbe8u, 0x36c5c138u, 0x0ba5e888u,
        0x28d4c7dfu, 0x15b4ee6fu, 0x521494bfu, 0x6f74bd0fu, 0xdd54611fu, 0xe03448afu, 0xa794327fu,
        0x9af41bcfu, 0x18a48c1eu, 0x25c4a5aeu, 0x6264df7eu, 0x5f04f6ceu, 0xed242adeu, 0xd044036eu,
        0x97e479beu, 0xaa84500eu, 0x4834505du, 0x755479edu, 0x32f4033du, 0x0f942a8du, 0xbdb4f69du,
        0x80d4df2du, 0xc774a5fdu, 0xfa148c4du, 0x78441b9cu, 0x4524322cu, 0x028448fcu, 0x3fe4614cu,
        0x8dc4bd5cu, 0xb0a494ecu, 0xf704ee3cu, 0xca64c78cu
    },
    {
        0x00000000u, 0xcb5cd3a5u, 0x4dc8a10bu, 0x869472aeu, 0x9b914216u, 0x50cd91b3u, 0xd659e31du,
        0x1d0530b8u, 0xec53826du, 0x270f51c8u, 0xa19b2366u, 0x6ac7f0c3u, 0x77c2c07bu, 0xbc9e13deu,
        0x3a0a6170u, 0xf156b2d5u, 0x03d6029bu, 0xc88ad13eu, 0x4e1ea390u, 0x85427035u, 0x9847408du,
        0x531b9328u, 0xd58fe186u, 0x1ed33223u, 0xef8580f6u, 0x24d95353u, 0xa24d21fdu, 0x6911f258u,
        0x7414c2e0u, 0xbf481145u, 0x39dc63ebu, 0xf280b04eu, 0x07ac0536u, 0xccf0d693u, 0x4a64a43du,
        0x81387798u, 0x9c3d4720u, 0x57619485u, 0xd1f5e62bu, 0x1aa9358eu, 0xebff875bu, 0x20a354feu,
        0xa6372650u, 0x6d6bf5f5u, 0x706ec54du, 0xbb3216e8u, 0x3da66446u, 0xf6fab7e3u, 0x047a07adu,
        0xcf26d408u, 0x49b2a6a6u, 0x82ee7503u, 0x9feb45bbu, 0x54b7961eu, 0xd223e4b0u, 0x197f3715u,
        0xe82985c0u, 0x23755665u, 0xa5e124cbu, 0x6ebdf76eu, 0x73b8c7d6u, 0xb8e41473u, 0x3e7066ddu,
        0xf52cb578u, 0x0f580a6cu, 0xc404d9c9u, 0x4290ab67u, 0x89cc78c2u, 0x94c9487au, 0x5f959bdfu,
        0xd901e971u, 0x125d3ad4u, 0xe30b8801u, 0x28575ba4u, 0xaec3290au, 0x659ffaafu, 0x789aca17u,
        0xb3c619b2u, 0x35526b1cu, 0xfe0eb8b9u, 0x0c8e08f7u, 0xc7d2db52u, 0x4146a9fcu, 0x8a1a7a59u,
        0x971f4ae1u, 0x5c439944u, 0xdad7ebeau, 0x118b384fu, 0xe0dd8a9au, 0x2b81593fu, 0xad152b91u,
        0x6649f834u, 0x7b4cc88cu, 0xb0101b29u, 0x36846987u, 0xfdd8ba22u, 0x08f40f5au, 0xc3a8dcffu,
        0x453cae51u, 0x8e607df4u, 0x93654d4cu, 0x58399ee9u, 0xdeadec47u, 0x15f13fe2u, 0xe4a78d37u,
        0x2ffb5e92u, 0xa96f2c3cu, 0x6233ff99u, 0x7f36cf21u, 0xb46a1c84u, 0x32fe6e2au, 0xf9a2bd8fu,
        0x0b220dc1u, 0xc07ede64u, 0x46eaaccau, 0x8db67f6fu, 0x90b34fd7u, 0x5bef9c72u, 0xdd7beedcu,
        0x16273d79u, 0xe7718facu, 0x2c2d5c09u, 0xaab92ea7u, 0x61e5fd02u, 0x7ce0cdbau, 0xb7bc1e1fu,
        0x31286cb1u, 0xfa74bf14u, 0x1eb014d8u, 0xd5ecc77du, 0x5378b5d3u, 0x98246676u, 0x852156ceu,
        0x4e7d856bu, 0xc8e9f7c5u, 0x03b52460u, 0xf2e396b5u, 0x39bf4510u, 0xbf2b37beu, 0x7477e41bu,
        0x6972d4a3u, 0xa22e0706u, 0x24ba75a8u, 0xefe6a60du, 0x1d661643u, 0xd63ac5e6u, 0x50aeb748u,
        0x9bf264edu, 0x86f75455u, 0x4dab87f0u, 0xcb3ff55eu, 0x006326fbu, 0xf135942eu, 0x3a69478bu,
        0xbcfd3525u, 0x77a1e680u, 0x6aa4d638u, 0xa1f8059du, 0x276c7733u, 0xec30a496u, 0x191c11eeu,
        0xd240c24bu, 0x54d4b0e5u, 0x9f886340u, 0x828d53f8u, 0x49d1805du, 0xcf45f2f3u, 0x04192156u,
        0xf54f9383u, 0x3e134026u, 0xb8873288u, 0x73dbe12du, 0x6eded195u, 0xa5820230u, 0x2316709eu,
        0xe84aa33bu, 0x1aca1375u, 0xd196c0d0u, 0x5702b27eu, 0x9c5e61dbu, 0x815b5163u, 0x4a0782c6u,
        0xcc93f068u, 0x07cf23cdu, 0xf6999118u, 0x3dc542bdu, 0xbb513013u, 0x700de3b6u, 0x6d08d30eu,
        0xa65400abu, 0x20c07205u, 0xeb9ca1a0u, 0x11e81eb4u, 0xdab4cd11u, 0x5c20bfbfu, 0x977c6c1au,
        0x8a795ca2u, 0x41258f07u, 0xc7b1fda9u, 0x0ced2e0cu, 0xfdbb9cd9u, 0x36e74f7cu, 0xb0733dd2u,
        0x7b2fee77u, 0x662adecfu, 0xad760d6au, 0x2be27fc4u, 0xe0beac61u, 0x123e1c2fu, 0xd962cf8au,
        0x5ff6bd24u, 0x94aa6e81u, 0x89af5e39u, 0x42f38d9cu, 0xc467ff32u, 0x0f3b2c97u, 0xfe6d9e42u,
        0x35314de7u, 0xb3a53f49u, 0x78f9ececu, 0x65fcdc54u, 0xaea00ff1u, 0x28347d5fu, 0xe368aefau,
        0x16441b82u, 0xdd18c827u, 0x5b8cba89u, 0x90d0692cu, 0x8dd55994u, 0x46898a31u, 0xc01df89fu,
        0x0b412b3au, 0xfa1799efu, 0x314b4a4au, 0xb7df38e4u, 0x7c83eb41u, 0x6186dbf9u, 0xaada085cu,
        0x2c4e7af2u, 0xe712a957u, 0x15921919u, 0xdececabcu, 0x585ab812u, 0x93066bb7u, 0x8e035b0fu,
        0x455f88aau, 0xc3cbfa04u, 0x089729a1u, 0xf9c19b74u, 0x329d48d1u, 0xb4093a7fu, 0x7f55e9dau,
        0x6250d962u, 0xa90c0ac7u, 0x2f987869u, 0xe4c4abccu
    },
    {
        0x00000000u, 0xa6770bb4u, 0x979f1129u, 0x31e81a9du, 0xf44f2413u, 0x52382fa7u, 0x63d0353au,
        0xc5a73e8eu, 0x33ef4e67u, 0x959845d3u, 0xa4705f4eu, 0x020754fau, 0xc7a06a74u, 0x61d761c0u,
        0x503f7b5du, 0xf64870e9u, 0x67de9cceu, 0xc1a9977au, 0xf0418de7u, 0x56368653u, 0x9391b8ddu,
        0x35e6b369u, 0x040ea9f4u, 0xa279a240u, 0x5431d2a9u, 0xf246d91du, 0xc3aec380u, 0x65d9c834u,
        0xa07ef6bau, 0x0609fd0eu, 0x37e1e793u, 0x9196ec27u, 0xcfbd399cu, 0x69ca3228u, 0x582228b5u,
        0xfe552301u, 0x3bf21d8fu, 0x9d85163bu, 0xac6d0ca6u, 0x0a1a0712u, 0xfc5277fbu, 0x5a257c4fu,
        0x6bcd66d2u, 0xcdba6d66u, 0x081d53e8u, 0xae6a585cu, 0x9f8242c1u, 0x39f54975u, 0xa863a552u,
        0x0e14aee6u, 0x3ffcb47bu, 0x998bbfcfu, 0x5c2c8141u, 0xfa5b8af5u, 0xcbb39068u, 0x6dc49bdcu,
        0x9b8ceb35u, 0x3dfbe081u, 0x0c13fa1cu, 0xaa64f1a8u, 0x6fc3cf26u, 0xc9b4c492u, 0xf85cde0fu,
        0x5e2bd5bbu, 0x440b7579u, 0xe27c7ecdu, 0xd3946450u, 0x75e36fe4u, 0xb044516au, 0x16335adeu,
        0x27db4043u, 0x81ac4bf7u, 0x77e43b1eu, 0xd19330aau, 0xe07b2a37u, 0x460c2183u, 0x83ab1f0du,
        0x25dc14b9u, 0x14340e24u, 0xb2430590u, 0x23d5e9b7u, 0x85a2e203u, 0xb44af89eu, 0x123df32au,
        0xd79acda4u, 0x71edc610u, 0x4005dc8du, 0xe672d739u, 0x103aa7d0u, 0xb64dac64u, 0x87a5b6f9u,
        0x21d2bd4du, 0xe47583c3u, 0x42028877u, 0x73ea92eau, 0xd59d995eu, 0x8bb64ce5u, 0x2dc14751u,
        0x1c295dccu, 0xba5e5678u, 0x7ff968f6u, 0xd98e6342u, 0xe86679dfu, 0x4e11726bu, 0xb8590282u,
        0x1e2e0936u, 0x2fc613abu, 0x89b1181fu, 0x4c162691u, 0xea612d25u, 0xdb8937b8u, 0x7dfe3c0cu,
        0xec68d02bu, 0x4a1fdb9fu, 0x7bf7c102u, 0xdd80cab6u, 0x1827f438u, 0xbe50ff8cu, 0x8fb8e511u,
        0x29cfeea5u, 0xdf879e4cu, 0x79f095f8u, 0x48188f65u, 0xee6f84d1u, 0x2bc8ba5fu, 0x8dbfb1ebu,
        0xbc57ab76u, 0x1a20a0c2u, 0x8816eaf2u, 0x2e61e146u, 0x1f89fbdbu, 0xb9fef06fu, 0x7c59cee1u,
        0xda2ec555u, 0xebc6dfc8u, 0x4db1d47cu, 0xbbf9a495u, 0x1d8eaf21u, 0x2c66b5bcu, 0x8a11be08u,
        0x4fb68086u, 0xe9c18b32u, 0xd82991afu, 0x7e5e9a1bu, 0xefc8763cu, 0x49bf7d88u, 0x78576715u,
        0xde206ca1u, 0x1b87522fu, 0xbdf0599bu, 0x8c184306u, 0x2a6f48b2u, 0xdc27385bu, 0x7a5033efu,
        0x4bb82972u, 0xedcf22c6u, 0x28681c48u, 0x8e1f17fcu, 0xbff70d61u, 0x198006d5u, 0x47abd36eu,
        0xe1dcd8dau, 0xd034c247u, 0x7643c9f3u, 0xb3e4f77du, 0x1593fcc9u, 0x247be654u, 0x820cede0u,
        0x74449d09u, 0xd23396bdu, 0xe3db8c20u, 0x45ac8794u, 0x800bb91au, 0x267cb2aeu, 0x1794a833u,
        0xb1e3a387u, 0x20754fa0u, 0x86024414u, 0xb7ea5e89u, 0x119d553du, 0xd43a6bb3u, 0x724d6007u,
        0x43a57a9au, 0xe5d2712eu, 0x139a01c7u, 0xb5ed0a73u, 0x840510eeu, 0x22721b5au, 0xe7d525d4u,
        0x41a22e60u, 0x704a34fdu, 0xd63d3f49u, 0xcc1d9f8bu, 0x6a6a943fu, 0x5b828ea2u, 0xfdf58516u,
        0x3852bb98u, 0x9e25b02cu, 0xafcdaab1u, 0x09baa105u, 0xfff2d1ecu, 0x5985da58u, 0x686dc0c5u,
        0xce1acb71u, 0x0bbdf5ffu, 0xadcafe4bu, 0x9c22e4d6u, 0x3a55ef62u, 0xabc30345u, 0x0db408f1u,
        0x3c5c126cu, 0x9a2b19d8u, 0x5f8c2756u, 0xf9fb2ce2u, 0xc813367fu, 0x6e643dcbu, 0x982c4d22u,
        0x3e5b4696u, 0x0fb35c0bu, 0xa9c457bfu, 0x6c636931u, 0xca146285u, 0xfbfc7818u, 0x5d8b73acu,
        0x03a0a617u, 0xa5d7ada3u, 0x943fb73eu, 0x3248bc8au, 0xf7ef8204u, 0x519889b0u, 0x6070932du,
        0xc6079899u, 0x304fe870u, 0x9638e3c4u, 0xa7d0f959u, 0x01a7f2edu, 0xc400cc63u, 0x6277c7d7u,
        0x539fdd4au, 0xf5e8d6feu, 0x647e3ad9u, 0xc209316du, 0xf3e12bf0u, 0x55962044u, 0x90311ecau,
        0x3646157eu, 0x07ae0fe3u, 0xa1d90457u, 0x579174beu, 0xf1e67f0au, 0xc00e6597u, 0x66796e23u,
        0xa3de50adu, 0x05a95b19u, 0x34414184u, 0x92364a30u
    },
    {
        0x00000000u, 0xccaa009eu, 0x4225077du, 0x8e8f07e3u, 0x844a0efau, 0x48e00e64u, 0xc66f0987u,
        0x0ac50919u, 0xd3e51bb5u, 0x1f4f1b2bu, 0x91c01cc8u, 0x5d6a1c56u, 0x57af154fu, 0x9b0515d1u,
        0x158a1232u, 0xd92012acu, 0x7cbb312bu, 0xb01131b5u, 0x3e9e3656u, 0xf23436c8u, 0xf8f13fd1u,
        0x345b3f4fu, 0xbad438acu, 0x767e3832u, 0xaf5e2a9eu, 0x63f42a00u, 0xed7b2de3u, 0x21d12d7du,
        0x2b142464u, 0xe7be24fau, 0x69312319u, 0xa59b2387u, 0xf9766256u, 0x35dc62c8u, 0xbb53652bu,
        0x77f965b5u, 0x7d3c6cacu, 0xb1966c32u, 0x3f196bd1u, 0xf3b36b4fu, 0x2a9379e3u, 0xe639797du,
        0x68b67e9eu, 0xa41c7e00u, 0xaed97719u, 0x62737787u, 0xecfc7064u, 0x205670fau, 0x85cd537du,
        0x496753e3u, 0xc7e85400u, 0x0b42549eu, 0x01875d87u, 0xcd2d5d19u, 0x43a25afau, 0x8f085a64u,
        0x562848c8u, 0x9a824856u, 0x140d4fb5u, 0xd8a74f2bu, 0xd2624632u, 0x1ec846acu, 0x9047414fu,
        0x5ced41d1u, 0x299dc2edu, 0xe537c273u, 0x6bb8c590u, 0xa712c50eu, 0xadd7cc17u, 0x617dcc89u,
        0xeff2cb6au, 0x2358cbf4u, 0xfa78d958u, 0x36d2d9c6u, 0xb85dde25u, 0x74f7debbu, 0x7e32d7a2u,
        0xb298d73cu, 0x3c17d0dfu, 0xf0bdd041u, 0x5526f3c6u, 0x998cf358u, 0x1703f4bbu, 0xdba9f425u,
        0xd16cfd3cu, 0x1dc6fda2u, 0x9349fa41u, 0x5fe3fadfu, 0x86c3e873u, 0x4a69e8edu, 0xc4e6ef0eu,
        0x084cef90u, 0x0289e689u, 0xce23e617u, 0x40ace1f4u, 0x8c06e16au, 0xd0eba0bbu, 0x1c41a025u,
        0x92cea7c6u, 0x5e64a758u, 0x54a1ae41u, 0x980baedfu, 0x1684a93cu, 0xda2ea9a2u, 0x030ebb0eu,
        0xcfa4bb90u, 0x412bbc73u, 0x8d81bcedu, 0x8744b5f4u, 0x4beeb56au, 0xc561b289u, 0x09cbb217u,
        0xac509190u, 0x60fa910eu, 0xee7596edu, 0x22df9673u, 0x281a9f6au, 0xe4b09ff4u, 0x6a3f9817u,
        0xa6959889u, 0x7fb58a25u, 0xb31f8abbu, 0x3d908d58u, 0xf13a8dc6u, 0xfbff84dfu, 0x37558441u,
        0xb9da83a2u, 0x7570833cu, 0x533b85dau, 0x9f918544u, 0x111e82a7u, 0xddb48239u, 0xd7718b20u,
        0x1bdb8bbeu, 0x95548c5du, 0x59fe8cc3u, 0x80de9e6fu, 0x4c749ef1u, 0xc2fb9912u, 0x0e51998cu,
        0x04949095u, 0xc83e900bu, 0x46b197e8u, 0x8a1b9776u, 0x2f80b4f1u, 0xe32ab46fu, 0x6da5b38cu,
        0xa10fb312u, 0xabcaba0bu, 0x6760ba95u, 0xe9efbd76u, 0x2545bde8u, 0xfc65af44u, 0x30cfafdau,
        0xbe40a839u, 0x72eaa8a7u, 0x782fa1beu, 0xb485a120u, 0x3a0aa6c3u, 0xf6a0a65du, 0xaa4de78cu,
        0x66e7e712u, 0xe868e0f1u, 0x24c2e06fu, 0x2e07e976u, 0xe2ade9e8u, 0x6c22ee0bu, 0xa088ee95u,
        0x79a8fc39u, 0xb502fca7u, 0x3b8dfb44u, 0xf727fbdau, 0xfde2f2c3u, 0x3148f25du, 0xbfc7f5beu,
        0x736df520u, 0xd6f6d6a7u, 0x1a5cd639u, 0x94d3d1dau, 0x5879d144u, 0x52bcd85du, 0x9e16d8c3u,
        0x1099df20u, 0xdc33dfbeu, 0x0513cd12u, 0xc9b9cd8cu, 0x4736ca6fu, 0x8b9ccaf1u, 0x8159c3e8u,
        0x4df3c376u, 0xc37cc495u, 0x0fd6c40bu, 0x7aa64737u, 0xb60c47a9u, 0x3883404au, 0xf42940d4u,
        0xfeec49cdu, 0x32464953u, 0xbcc94eb0u, 0x70634e2eu, 0xa9435c82u, 0x65e95c1cu, 0xeb665bffu,
        0x27cc5b61u, 0x2d095278u, 0xe1a352e6u, 0x6f2c5505u, 0xa386559bu, 0x061d761cu, 0xcab77682u,
        0x44387161u, 0x889271ffu, 0x825778e6u, 0x4efd7878u, 0xc0727f9bu, 0x0cd87f05u, 0xd5f86da9u,
        0x19526d37u, 0x97dd6ad4u, 0x5b776a4au, 0x51b26353u, 0x9d1863cdu, 0x1397642eu, 0xdf3d64b0u,
        0x83d02561u, 0x4f7a25ffu, 0xc1f5221cu, 0x0d5f2282u, 0x079a2b9bu, 0xcb302b05u, 0x45bf2ce6u,
        0x89152c78u, 0x50353ed4u, 0x9c9f3e4au, 0x121039a9u, 0xdeba3937u, 0xd47f302eu, 0x18d530b0u,
        0x965a3753u, 0x5af037cdu, 0xff6b144au, 0x33c114d4u, 0xbd4e1337u, 0x71e413a9u, 0x7b211ab0u,
        0xb78b1a2eu, 0x39041dcdu, 0xf5ae1d53u, 0x2c8e0fffu, 0xe0240f61u, 0x6eab0882u, 0xa201081cu,
        0xa8c40105u, 0x646e019bu, 0xeae10678u, 0x264b06e6u
    }
};

/* Raw register update (no pre/post inversion). */
static uint32_t mcf__crc32_slice8_raw(uint32_t c, const unsigned char *p, size_t n)
{
    const uint32_t (*t)[256] = mcf__crc32_table;
    while (n > 0 && ((uintptr_t)p & 7u) != 0) { c = (c >> 8) ^ t[0][(c ^ *p++) & 0xffu]; n--; }
    while (n >= 8) {
        uint32_t a = c ^ mcf__le32(p), b = mcf__le32(p + 4);
        c = t[7][a & 0xffu] ^ t[6][(a >> 8) & 0xffu] ^ t[5][(a >> 16) & 0xffu] ^ t[4][a >> 24] ^
            t[3][b & 0xffu] ^ t[2][(b >> 8) & 0xffu] ^ t[1][(b >> 16) & 0xffu] ^ t[0][b >> 24];
        p += 8;
        n -= 8;
    }
    while (n > 0) { c = (c >> 8) ^ t[0][(c ^ *p++) & 0xffu]; n--; }
    return c;
}

static uint32_t mcf__crc32_slice8(uint32_t crc, const unsigned char *p, size_t n)
{
    return ~mcf__crc32_slice8_raw(~crc, p, n);
}

#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__)) && !defined(MCF_NO_SIMD)
#define MCF__CRC_X86 1
#include <immintrin.h>

/* Folding constants (see the section comment): distance 2048, 512, 128 bits. */
#define MCF__K2048_LO 0x11542778aLL
#define MCF__K2048_HI 0x1322d1430LL
#define MCF__K512_LO  0x154442bd4LL
#define MCF__K512_HI  0x1c6e41596LL
#define MCF__K128_LO  0x1751997d0LL
#define MCF__K128_HI  0x0ccaa009eLL

__attribute__((target("pclmul,sse2")))
static __m128i mcf__fold128(__m128i x, __m128i k, __m128i next)
{
    __m128i lo = _mm_clmulepi64_si128(x, k, 0x00), hi = _mm_clmulepi64_si128(x, k, 0x11);
    return _mm_xor_si128(_mm_xor_si128(lo, hi), next);
}

/* Folds the remaining 16-byte blocks of p into x, then finishes the 128-bit
 * remainder and the last n % 16 bytes with the table; the raw register. */
__attribute__((target("pclmul,sse2")))
static uint32_t mcf__crc32_fold_finish(__m128i x, const unsigned char *p, size_t n)
{
    const __m128i k = _mm_set_epi64x(MCF__K128_HI, MCF__K128_LO);
    unsigned char rest[16];
    while (n >= 16) {
        x = mcf__fold128(x, k, _mm_loadu_si128((const __m128i *)(const void *)p));
        p += 16;
        n -= 16;
    }
    _mm_storeu_si128((__m128i *)(void *)rest, x);
    return mcf__crc32_slice8_raw(mcf__crc32_slice8_raw(0, rest, 16), p, n);
}

/* Folds 16-byte blocks of p (n >= 64) and returns the raw register. */
__attribute__((target("pclmul,sse2")))
static uint32_t mcf__crc32_pclmul_raw(uint32_t c, const unsigned char *p, size_t n)
{
    __m128i x0, x1, x2, x3, k;
    x0 = _mm_loadu_si128((const __m128i *)(const void *)p);
    x1 = _mm_loadu_si128((const __m128i *)(const void *)(p + 16));
    x2 = _mm_loadu_si128((const __m128i *)(const void *)(p + 32));
    x3 = _mm_loadu_si128((const __m128i *)(const void *)(p + 48));
    x0 = _mm_xor_si128(x0, _mm_cvtsi32_si128((int)c));
    p += 64;
    n -= 64;
    k = _mm_set_epi64x(MCF__K512_HI, MCF__K512_LO);
    while (n >= 64) {
        x0 = mcf__fold128(x0, k, _mm_loadu_si128((const __m128i *)(const void *)p));
        x1 = mcf__fold128(x1, k, _mm_loadu_si128((const __m128i *)(const void *)(p + 16)));
        x2 = mcf__fold128(x2, k, _mm_loadu_si128((const __m128i *)(const void *)(p + 32)));
        x3 = mcf__fold128(x3, k, _mm_loadu_si128((const __m128i *)(const void *)(p + 48)));
        p += 64;
        n -= 64;
    }
    k = _mm_set_epi64x(MCF__K128_HI, MCF__K128_LO);
    x0 = mcf__fold128(x0, k, x1);
    x0 = mcf__fold128(x0, k, x2);
    x0 = mcf__fold128(x0, k, x3);
    return mcf__crc32_fold_finish(x0, p, n);
}

static uint32_t mcf__crc32_pclmul(uint32_t crc, const unsigned char *p, size_t n)
{
    if (n < 64) return mcf__crc32_slice8(crc, p, n);
    return ~mcf__crc32_pclmul_raw(~crc, p, n);
}

__attribute__((target("avx512f,vpclmulqdq,pclmul")))
static __m512i mcf__fold512(__m512i x, __m512i k, __m512i next)
{
    __m512i lo = _mm512_clmulepi64_epi128(x, k, 0x00), hi = _mm512_clmulepi64_epi128(x, k, 0x11);
    return _mm512_ternarylogic_epi64(lo, hi, next, 0x96);   /* lo ^ hi ^ next */
}

/* 256 bytes per iteration in four 512-bit lanes of four 128-bit folds. */
__attribute__((target("avx512f,vpclmulqdq,pclmul")))
static uint32_t mcf__crc32_vpclmul_raw(uint32_t c, const unsigned char *p, size_t n)
{
    __m512i z0, z1, z2, z3, k;
    __m128i x, k128;
    z0 = _mm512_loadu_si512((const void *)p);
    z1 = _mm512_loadu_si512((const void *)(p + 64));
    z2 = _mm512_loadu_si512((const void *)(p + 128));
    z3 = _mm512_loadu_si512((const void *)(p + 192));
    z0 = _mm512_xor_si512(z0, _mm512_inserti32x4(_mm512_setzero_si512(), _mm_cvtsi32_si128((int)c), 0));
    p += 256;
    n -= 256;
    k = _mm512_set_epi64(MCF__K2048_HI, MCF__K2048_LO, MCF__K2048_HI, MCF__K2048_LO, MCF__K2048_HI, MCF__K2048_LO, MCF__K2048_HI, MCF__K2048_LO);
    while (n >= 256) {
        z0 = mcf__fold512(z0, k, _mm512_loadu_si512((const void *)p));
        z1 = mcf__fold512(z1, k, _mm512_loadu_si512((const void *)(p + 64)));
        z2 = mcf__fold512(z2, k, _mm512_loadu_si512((const void *)(p + 128)));
        z3 = mcf__fold512(z3, k, _mm512_loadu_si512((const void *)(p + 192)));
        p += 256;
        n -= 256;
    }
    k = _mm512_set_epi64(MCF__K512_HI, MCF__K512_LO, MCF__K512_HI, MCF__K512_LO, MCF__K512_HI, MCF__K512_LO, MCF__K512_HI, MCF__K512_LO);
    z0 = mcf__fold512(z0, k, z1);
    z0 = mcf__fold512(z0, k, z2);
    z0 = mcf__fold512(z0, k, z3);
    while (n >= 64) {
        z0 = mcf__fold512(z0, k, _mm512_loadu_si512((const void *)p));
        p += 64;
        n -= 64;
    }
    k128 = _mm_set_epi64x(MCF__K128_HI, MCF__K128_LO);
    x = mcf__fold128(_mm512_maskz_extracti32x4_epi32(0xF, z0, 0), k128, _mm512_maskz_extracti32x4_epi32(0xF, z0, 1));
    x = mcf__fold128(x, k128, _mm512_maskz_extracti32x4_epi32(0xF, z0, 2));
    x = mcf__fold128(x, k128, _mm512_maskz_extracti32x4_epi32(0xF, z0, 3));
    return mcf__crc32_fold_finish(x, p, n);
}

static uint32_t mcf__crc32_vpclmul(uint32_t crc, const unsigned char *p, size_t n)
{
    if (n < 256) return mcf__crc32_pclmul(crc, p, n);
    return ~mcf__crc32_vpclmul_raw(~crc, p, n);
}

/* __builtin_cpu_supports reads libgcc's CPU model (filled by a constructor,
 * XCR0-aware for AVX-512): no state of ours. */
static int mcf__cpu_pclmul(void) { return __builtin_cpu_supports("pclmul") != 0; }
static int mcf__cpu_vpclmul(void)
{
    return __builtin_cpu_supports("vpclmulqdq") && __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("pclmul");
}
#endif

#if defined(__aarch64__) && defined(__linux__) && (defined(__GNUC__) || defined(__clang__)) && !defined(MCF_NO_SIMD)
#define MCF__CRC_ARM 1
#include <arm_acle.h>
#include <sys/auxv.h>
#ifndef HWCAP_CRC32
#define HWCAP_CRC32 (1UL << 7)
#endif
/* ARMv8 CRC32X/CRC32B (ACLE __crc32d/__crc32b) compute exactly the zip
 * polynomial on 8/1 bytes; the function alone is compiled for +crc. */
#if defined(__clang__)   /* clang's arm_acle.h hides __crc32* without -march=+crc */
#define MCF__ARM_CRC32B(c, b) __builtin_arm_crc32b(c, b)
#define MCF__ARM_CRC32D(c, d) __builtin_arm_crc32d(c, d)
__attribute__((target("crc")))
#else
#define MCF__ARM_CRC32B(c, b) __crc32b(c, b)
#define MCF__ARM_CRC32D(c, d) __crc32d(c, d)
__attribute__((target("+crc")))
#endif
static uint32_t mcf__crc32_arm(uint32_t crc, const unsigned char *p, size_t n)
{
    uint32_t c = ~crc;
    while (n > 0 && ((uintptr_t)p & 7u) != 0) { c = MCF__ARM_CRC32B(c, *p++); n--; }
    while (n >= 8) { c = MCF__ARM_CRC32D(c, mcf__le64(p)); p += 8; n -= 8; }
    while (n > 0) { c = MCF__ARM_CRC32B(c, *p++); n--; }
    return ~c;
}
static int mcf__cpu_armcrc(void) { return (getauxval(AT_HWCAP) & HWCAP_CRC32) != 0; }
#endif

MCFDEF uint32_t mcf_crc32(uint32_t crc, const void *data, size_t len)
{
    const unsigned char *p = (const unsigned char *)data;
    if (len == 0) return crc;
#if defined(MCF__CRC_X86)
    if (len >= 256 && mcf__cpu_vpclmul()) return mcf__crc32_vpclmul(crc, p, len);
    if (len >= 64 && mcf__cpu_pclmul()) return mcf__crc32_pclmul(crc, p, len);
#elif defined(MCF__CRC_ARM)
    if (mcf__cpu_armcrc()) return mcf__crc32_arm(crc, p, len);
#endif
    return mcf__crc32_slice8(crc, p, len);
}

MCFDEF int mcf_crc32_variant(int variant, uint32_t *crc, const void *data, size_t len)
{
    const unsigned char *p = (const unsigned char *)data;
    if (!crc || (!data && len)) return mcf__fail(MCF_INVALID_PARAMS, "mcf_crc32_variant: NULL argument");
    switch (variant) {
    case MCF_CRC32_BITWISE: *crc = mcf__crc32_bitwise(*crc, p, len); return MCF_OK;
    case MCF_CRC32_SLICE8: *crc = mcf__crc32_slice8(*crc, p, len); return MCF_OK;
#if defined(MCF__CRC_X86)
    case MCF_CRC32_PCLMUL:
        if (!mcf__cpu_pclmul()) break;
        *crc = mcf__crc32_pclmul(*crc, p, len);
        return MCF_OK;
    case MCF_CRC32_VPCLMUL:
        if (!mcf__cpu_vpclmul()) break;
        *crc = mcf__crc32_vpclmul(*crc, p, len);
        return MCF_OK;
#endif
#if defined(MCF__CRC_ARM)
    case MCF_CRC32_ARM:
        if (!mcf__cpu_armcrc()) break;
        *crc = mcf__crc32_arm(*crc, p, len);
        return MCF_OK;
#endif
    default:
        if (variant < 0 || variant > MCF_CRC32_ARM)
            return mcf__fail(MCF_INVALID_PARAMS, "mcf_crc32_variant: unknown variant %d", variant);
        break;
    }
    return mcf__fail(MCF_NOT_SUPPORTED, "mcf_crc32_variant: %s is not available on this CPU or build", mcf_crc32_variant_name(variant));
}

MCFDEF const char *mcf_crc32_variant_name(int variant)
{
    static const char *const names[] = {"bitwise", "slicing-by-8", "pclmulqdq", "vpclmulqdq", "armv8-crc32"};
    return variant >= 0 && variant <= MCF_CRC32_ARM ? names[variant] : "?";
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
    int st;              /* 1: a safetensors dtype */
} mcf__dtype_info;

static const mcf__dtype_info mcf__dtypes[MCF_DTYPE_COUNT] = {
    {"BOOL", 8, 1, "bool", 10, 1},
    {"U8", 8, 1, "uint8", 3, 1},
    {"I8", 8, 1, "int8", 2, 1},
    {"F8_E5M2", 8, 1, "float8_e5m2", 14, 1},
    {"F8_E4M3", 8, 1, "float8_e4m3fn", 13, 1},
    {"I16", 16, 2, "int16", 4, 1},
    {"U16", 16, 2, "uint16", 5, 1},
    {"F16", 16, 2, "float16", 11, 1},
    {"BF16", 16, 2, "bfloat16", 12, 1},
    {"I32", 32, 4, "int32", 6, 1},
    {"U32", 32, 4, "uint32", 7, 1},
    {"F32", 32, 4, "float32", 0, 1},
    {"F64", 64, 8, "float64", 1, 1},
    {"I64", 64, 8, "int64", 8, 1},
    {"U64", 64, 8, "uint64", 9, 1},
    {"C64", 64, 4, "complex64", -1, 1},
    {"F8_E8M0", 8, 1, "float8_e8m0fnu", -1, 1},
    {"F4", 4, 1, NULL, -1, 1},
    {"F6_E2M3", 6, 1, NULL, -1, 1},
    {"F6_E3M2", 6, 1, NULL, -1, 1},
    {"C128", 128, 8, "complex128", -1, 0}
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

MCFDEF int mcf_dtype_parse_torch(const char *name, mcf_dtype *out)
{
    static const struct { const char *alias; mcf_dtype d; } aliases[] = {
        {"float", MCF_F32}, {"double", MCF_F64}, {"half", MCF_F16}, {"long", MCF_I64},
        {"int", MCF_I32}, {"short", MCF_I16}, {"cfloat", MCF_C64}, {"cdouble", MCF_C128}
    };
    const char *n = name;
    int i;
    if (!name || !out) return mcf__fail(MCF_INVALID_PARAMS, "mcf_dtype_parse_torch: NULL argument");
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
    {
        /* the data lives in this process: what it spans must fit size_t (32-bit hosts) */
        uint64_t span = mcf__strides_contiguous(t->ndim, t->shape, t->strides) ? mcf_tensor_nbytes(t)
                        : mcf__strided_span(t->ndim, t->shape, t->strides, mcf_dtype_size(t->dtype));
        if (!mcf__fits_size(span))
            return mcf__fail(MCF_NOT_SUPPORTED, "%s: tensor \"%s\" is %llu bytes, more than this host can address (%u-bit size_t)",
                             who, name, (unsigned long long)span, (unsigned)(sizeof(size_t) * CHAR_BIT));
    }
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

/* ===== [06] dtype conversion ============================================= */
/* Pure element conversions, bit-exact with PyTorch's tensor.to(): IEEE 754
 * binary16/bfloat16/binary32/binary64 with round to nearest even, OCP 8-bit
 * floating point (E4M3FN: bias 7, no inf, S.1111.111 is NaN; E5M2: bias 15,
 * the top byte of a binary16). Every value goes through F32 bits except
 * conversions to F64, which are exact from every type but the 64-bit
 * integers (rounded once). Portable code works on bit patterns (no FPU NaN
 * quirks); x86-64 adds SSE2/AVX2 (BF16 <-> F32) and F16C (F16 <-> F32),
 * picked per call by runtime CPU checks. MCF_NO_SIMD keeps only the portable
 * code; every path is tested against the same vectors. */

/* Quiet NaN rule: sign and the payload's top bits kept, quiet bit set. */
static uint32_t mcf__f16_to_f32_bits(uint16_t h)
{
    uint32_t sign = (uint32_t)(h & 0x8000u) << 16, e = (h >> 10) & 0x1fu, m = h & 0x3ffu;
    if (e == 0x1f) return sign | 0x7f800000u | (m ? 0x00400000u | (m << 13) : 0);
    if (e != 0) return sign | ((e + 112u) << 23) | (m << 13);
    if (m == 0) return sign;
    e = 113;                        /* subnormal: m * 2^-24, normalised */
    while (!(m & 0x400u)) { m <<= 1; e--; }
    return sign | (e << 23) | ((m & 0x3ffu) << 13);
}

static uint16_t mcf__f32_to_f16_bits(uint32_t f)
{
    uint32_t sign = (f >> 16) & 0x8000u, a = f & 0x7fffffffu, e, m, q, rem, half, s;
    if (a > 0x7f800000u) return (uint16_t)(sign | 0x7e00u | ((a >> 13) & 0x3ffu));
    if (a >= 0x477ff000u) return (uint16_t)(sign | 0x7c00u);     /* >= 65520: rounds to inf */
    if (a >= 0x38800000u) {                                      /* normal binary16 */
        a -= 0x38000000u;                                        /* rebias 127 -> 15 */
        return (uint16_t)(sign | ((a + 0xfffu + ((a >> 13) & 1u)) >> 13));
    }
    if (a <= 0x33000000u) return (uint16_t)sign;                 /* <= 2^-25: ties to 0 */
    e = a >> 23;                                                 /* 102..112 */
    m = (a & 0x7fffffu) | 0x800000u;
    s = 126u - e;                                                /* value = m >> s units of 2^-24 */
    q = m >> s;
    rem = m & ((1u << s) - 1u);
    half = 1u << (s - 1u);
    if (rem > half || (rem == half && (q & 1u))) q++;
    return (uint16_t)(sign | q);
}

static uint32_t mcf__bf16_to_f32_bits(uint16_t b)
{
    uint32_t f = (uint32_t)b << 16;
    if ((f & 0x7fffffffu) > 0x7f800000u) f |= 0x00400000u;
    return f;
}

static uint16_t mcf__f32_to_bf16_bits(uint32_t f)
{
    if ((f & 0x7fffffffu) > 0x7f800000u) return (uint16_t)((f >> 16) | 0x40u);
    return (uint16_t)((f + 0x7fffu + ((f >> 16) & 1u)) >> 16);
}

static uint32_t mcf__e4m3_to_f32_bits(uint8_t v)
{
    uint32_t sign = (uint32_t)(v & 0x80u) << 24, e = (v >> 3) & 0xfu, m = v & 7u;
    if (e == 0xf && m == 7) return sign | 0x7fc00000u | (m << 20);
    if (e != 0) return sign | ((e + 120u) << 23) | (m << 20);
    if (m == 0) return sign;
    e = 121;                        /* subnormal: m * 2^-9, normalised */
    while (!(m & 8u)) { m <<= 1; e--; }
    return sign | (e << 23) | ((m & 7u) << 20);
}

static uint32_t mcf__f64_to_f32_bits(uint64_t d)
{
    uint32_t sign = (uint32_t)(d >> 32) & 0x80000000u, out;
    double v;
    float f;
    if ((d & 0x7fffffffffffffffull) > 0x7ff0000000000000ull)
        return sign | 0x7fc00000u | (uint32_t)((d >> 29) & 0x7fffffu);
    memcpy(&v, &d, 8);
    f = (float)v;                   /* IEEE 754: one rounding, to nearest even */
    memcpy(&out, &f, 4);
    return out;
}

/* A 64-bit integer magnitude m (negated when neg) as F32 bits, rounded once to
 * nearest even in integer arithmetic: exact on every host, where a compiler or
 * an emulator (valgrind) may convert int64 to float through double and round
 * twice. */
static uint32_t mcf__u64_to_f32_bits(uint64_t m, int neg)
{
    uint32_t sign = neg ? 0x80000000u : 0u, e = 63u + 127u, mant;
    uint64_t rest;
    if (m == 0) return sign;
    while (!(m >> 63)) { m <<= 1; e--; }      /* leading one at bit 63 */
    mant = (uint32_t)(m >> 40);               /* 24 bits, the leading one included */
    rest = m & (((uint64_t)1 << 40) - 1);
    if (rest > ((uint64_t)1 << 39) || (rest == ((uint64_t)1 << 39) && (mant & 1u))) {
        if (++mant == (1u << 24)) { mant >>= 1; e++; }
    }
    return sign | (e << 23) | (mant & 0x7fffffu);
}

static uint32_t mcf__i64_to_f32_bits(uint64_t v)
{
    return (v >> 63) ? mcf__u64_to_f32_bits((uint64_t)0 - v, 1) : mcf__u64_to_f32_bits(v, 0);
}

static uint64_t mcf__f32_to_f64_bits(uint32_t f)
{
    uint64_t out;
    float v;
    double d;
    if ((f & 0x7fffffffu) > 0x7f800000u)
        return ((uint64_t)(f & 0x80000000u) << 32) | 0x7ff8000000000000ull | ((uint64_t)(f & 0x7fffffu) << 29);
    memcpy(&v, &f, 4);
    d = (double)v;                  /* exact */
    memcpy(&out, &d, 8);
    return out;
}

static uint32_t mcf__float_bits(float f) { uint32_t u; memcpy(&u, &f, 4); return u; }
static uint64_t mcf__double_bits(double d) { uint64_t u; memcpy(&u, &d, 8); return u; }

static int mcf__convert_from_ok(mcf_dtype d)
{
    switch (d) {
    case MCF_F64: case MCF_F32: case MCF_F16: case MCF_BF16: case MCF_F8_E4M3: case MCF_F8_E5M2:
    case MCF_BOOL: case MCF_U8: case MCF_I8: case MCF_I16: case MCF_U16: case MCF_I32: case MCF_U32:
    case MCF_I64: case MCF_U64:
        return 1;
    default:
        return 0;
    }
}

MCFDEF int mcf_convert_supported(mcf_dtype from, mcf_dtype to)
{
    if (from == to) return mcf__dtype_valid(from);
    return mcf__convert_from_ok(from) && (to == MCF_F64 || to == MCF_F32 || to == MCF_F16 || to == MCF_BF16);
}

/* Element loads: host order, or little-endian file bytes when le is set
 * (the same on little-endian hosts). */
static uint16_t mcf__ld16(const unsigned char *p, int le)
{
    uint16_t v;
    if (MCF__BIG_ENDIAN && le) return mcf__le16(p);
    memcpy(&v, p, 2);
    return v;
}
static uint32_t mcf__ld32(const unsigned char *p, int le)
{
    uint32_t v;
    if (MCF__BIG_ENDIAN && le) return mcf__le32(p);
    memcpy(&v, p, 4);
    return v;
}
static uint64_t mcf__ld64(const unsigned char *p, int le)
{
    uint64_t v;
    if (MCF__BIG_ENDIAN && le) return mcf__le64(p);
    memcpy(&v, p, 8);
    return v;
}

#define MCF__CONV_BLOCK 256

/* The integer and 8-bit cases of a decode loop, once for F32 and F64
 * results: o[i] = TO(value) for n elements of from at s. */
#define MCF__DECODE_INTS(o, TO)                                                                     \
    case MCF_U8: for (i = 0; i < n; i++) o[i] = TO(s[i]); break;                                    \
    case MCF_I8: for (i = 0; i < n; i++) o[i] = TO((int8_t)s[i]); break;                            \
    case MCF_I16: for (i = 0; i < n; i++) o[i] = TO((int16_t)mcf__ld16(s + 2 * i, le)); break;      \
    case MCF_U16: for (i = 0; i < n; i++) o[i] = TO(mcf__ld16(s + 2 * i, le)); break;               \
    case MCF_I32: for (i = 0; i < n; i++) o[i] = TO((int32_t)mcf__ld32(s + 4 * i, le)); break;      \
    case MCF_U32: for (i = 0; i < n; i++) o[i] = TO(mcf__ld32(s + 4 * i, le)); break;
#define MCF__F32_OF(x) mcf__float_bits((float)(x))
#define MCF__F64_OF(x) mcf__double_bits((double)(x))

/* Decodes n <= MCF__CONV_BLOCK elements of from into F32 bit patterns.
 * Integers up to 32 bits are converted by C, which rounds to nearest even
 * (IEC 60559); 64-bit ones by mcf__u64_to_f32_bits, which rounds once. */
static void mcf__decode_f32(mcf_dtype from, const unsigned char *s, uint32_t *o, size_t n, int le)
{
    size_t i;
    switch (from) {
    case MCF_F64: for (i = 0; i < n; i++) o[i] = mcf__f64_to_f32_bits(mcf__ld64(s + 8 * i, le)); break;
    case MCF_F32: for (i = 0; i < n; i++) o[i] = mcf__ld32(s + 4 * i, le); break;
    case MCF_F16: for (i = 0; i < n; i++) o[i] = mcf__f16_to_f32_bits(mcf__ld16(s + 2 * i, le)); break;
    case MCF_BF16: for (i = 0; i < n; i++) o[i] = mcf__bf16_to_f32_bits(mcf__ld16(s + 2 * i, le)); break;
    case MCF_F8_E4M3: for (i = 0; i < n; i++) o[i] = mcf__e4m3_to_f32_bits(s[i]); break;
    case MCF_F8_E5M2: for (i = 0; i < n; i++) o[i] = mcf__f16_to_f32_bits((uint16_t)(s[i] << 8)); break;
    case MCF_BOOL: for (i = 0; i < n; i++) o[i] = s[i] ? 0x3f800000u : 0; break;
    MCF__DECODE_INTS(o, MCF__F32_OF)
    case MCF_I64: for (i = 0; i < n; i++) o[i] = mcf__i64_to_f32_bits(mcf__ld64(s + 8 * i, le)); break;
    case MCF_U64: for (i = 0; i < n; i++) o[i] = mcf__u64_to_f32_bits(mcf__ld64(s + 8 * i, le), 0); break;
    default: MCF_ASSERT(0); break;
    }
}

/* Decodes n <= MCF__CONV_BLOCK elements of from into F64 bit patterns. */
static void mcf__decode_f64(mcf_dtype from, const unsigned char *s, uint64_t *o, size_t n, int le)
{
    uint32_t f[MCF__CONV_BLOCK];
    size_t i;
    switch (from) {
    case MCF_F64: for (i = 0; i < n; i++) o[i] = mcf__ld64(s + 8 * i, le); break;
    MCF__DECODE_INTS(o, MCF__F64_OF)
    case MCF_I64: for (i = 0; i < n; i++) o[i] = MCF__F64_OF((int64_t)mcf__ld64(s + 8 * i, le)); break;
    case MCF_U64: for (i = 0; i < n; i++) o[i] = MCF__F64_OF(mcf__ld64(s + 8 * i, le)); break;
    default:                        /* the float types and BOOL are exact through F32 */
        mcf__decode_f32(from, s, f, n, le);
        for (i = 0; i < n; i++) o[i] = mcf__f32_to_f64_bits(f[i]);
        break;
    }
}

/* The portable path of every supported pair (from != to); writes host order. */
static void mcf__convert_portable(mcf_dtype from, mcf_dtype to, const unsigned char *s, unsigned char *d, size_t n, int le)
{
    size_t es = mcf_dtype_size(from), os = mcf_dtype_size(to), i;
    uint32_t f[MCF__CONV_BLOCK];
    uint64_t g[MCF__CONV_BLOCK];
    while (n > 0) {
        size_t k = n < MCF__CONV_BLOCK ? n : MCF__CONV_BLOCK;
        if (to == MCF_F64) {
            mcf__decode_f64(from, s, g, k, le);
            memcpy(d, g, k * 8);
        } else {
            mcf__decode_f32(from, s, f, k, le);
            if (to == MCF_F32) memcpy(d, f, k * 4);
            else if (to == MCF_F16) for (i = 0; i < k; i++) { uint16_t h = mcf__f32_to_f16_bits(f[i]); memcpy(d + 2 * i, &h, 2); }
            else for (i = 0; i < k; i++) { uint16_t h = mcf__f32_to_bf16_bits(f[i]); memcpy(d + 2 * i, &h, 2); }
        }
        s += k * es;
        d += k * os;
        n -= k;
    }
}

#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__)) && !defined(MCF_NO_SIMD)
#define MCF__CONV_X86 1
#include <cpuid.h>
#include <immintrin.h>

/* F32 -> BF16 tail for the SSE2 loop: the portable code. */
static void mcf__f32_bf16_rest(const unsigned char *s, unsigned char *d, size_t n)
{
    mcf__convert_portable(MCF_F32, MCF_BF16, s, d, n, 0);
}

/* packs narrows per 128-bit lane (a0-3 b0-3 a4-7 b4-7): the 256-bit form
 * restores the order with a permute. */
#define MCF__PACK_X4(a, b) _mm_packs_epi32(a, b)
#define MCF__PACK_X8(a, b) _mm256_permute4x64_epi64(_mm256_packs_epi32(a, b), 0xd8)

/* BF16 <-> F32 lane math and the F32 -> BF16 loop, written once for 128-bit
 * (SSE2) and 256-bit (AVX2) vectors: V is the vector type, P the
 * intrinsics' prefix (_mm, _mm256), S the suffix of the bitwise and
 * load/store ones (si128, si256).
 *   QUIET(x):  BF16 bits already moved up 16 as F32; NaN lanes get the quiet
 *              bit (as the portable code does).
 *   ROUND(x):  F32 -> BF16 as sign-extended 16-bit lanes ready for packs:
 *              round to nearest even by adding 0x7fff + lsb; NaN lanes keep
 *              their top bits with the quiet bit set.
 *   TO_BF16(s, d, n): two vectors of F32 per step, packed; the rest of n by
 *              REST (the narrower path). */
#define MCF__BF16_LANES(TARGET, V, P, S, PACK, REST, QUIET, ROUND, TO_BF16)                       \
    __attribute__((target(TARGET))) static V QUIET(V x)                                          \
    {                                                                                            \
        V nan = P##_cmpgt_epi32(P##_and_##S(x, P##_set1_epi32(0x7fffffff)), P##_set1_epi32(0x7f800000)); \
        return P##_or_##S(x, P##_and_##S(nan, P##_set1_epi32(0x00400000)));                       \
    }                                                                                            \
    __attribute__((target(TARGET))) static V ROUND(V x)                                          \
    {                                                                                            \
        V lsb = P##_and_##S(P##_srli_epi32(x, 16), P##_set1_epi32(1));                          \
        V r = P##_srai_epi32(P##_add_epi32(P##_add_epi32(x, P##_set1_epi32(0x7fff)), lsb), 16);   \
        V nan = P##_cmpgt_epi32(P##_and_##S(x, P##_set1_epi32(0x7fffffff)), P##_set1_epi32(0x7f800000)); \
        V q = P##_or_##S(P##_srai_epi32(x, 16), P##_set1_epi32(0x40));                           \
        return P##_or_##S(P##_and_##S(nan, q), P##_andnot_##S(nan, r));                          \
    }                                                                                            \
    __attribute__((target(TARGET))) static void TO_BF16(const unsigned char *s, unsigned char *d, size_t n) \
    {                                                                                            \
        const size_t w = sizeof(V) / 4;                                                          \
        size_t i = 0;                                                                            \
        for (; i + 2 * w <= n; i += 2 * w) {                                                     \
            V lo = ROUND(P##_loadu_##S((const V *)(const void *)(s + 4 * i)));                    \
            V hi = ROUND(P##_loadu_##S((const V *)(const void *)(s + 4 * i + 4 * w)));            \
            P##_storeu_##S((V *)(void *)(d + 2 * i), PACK(lo, hi));                               \
        }                                                                                        \
        if (i < n) REST(s + 4 * i, d + 2 * i, n - i);                                            \
    }
MCF__BF16_LANES("sse2", __m128i, _mm, si128, MCF__PACK_X4, mcf__f32_bf16_rest,
                mcf__bf16_quiet_x4, mcf__f32_bf16_x4, mcf__f32_bf16_sse2)
MCF__BF16_LANES("avx2", __m256i, _mm256, si256, MCF__PACK_X8, mcf__f32_bf16_sse2,
                mcf__bf16_quiet_x8, mcf__f32_bf16_x8, mcf__f32_bf16_avx2)

/* BF16 -> F32: the bits move up 16 (interleaved with zeros). */
__attribute__((target("sse2")))
static void mcf__bf16_f32_sse2(const unsigned char *s, unsigned char *d, size_t n)
{
    const __m128i zero = _mm_setzero_si128();
    size_t i = 0;
    for (; i + 8 <= n; i += 8) {
        __m128i v = _mm_loadu_si128((const __m128i *)(const void *)(s + 2 * i));
        _mm_storeu_si128((__m128i *)(void *)(d + 4 * i), mcf__bf16_quiet_x4(_mm_unpacklo_epi16(zero, v)));
        _mm_storeu_si128((__m128i *)(void *)(d + 4 * i + 16), mcf__bf16_quiet_x4(_mm_unpackhi_epi16(zero, v)));
    }
    if (i < n) mcf__convert_portable(MCF_BF16, MCF_F32, s + 2 * i, d + 4 * i, n - i, 0);
}

/* Results larger than this go around the cache (non-temporal stores), as
 * memcpy does for large copies: nothing will read them back soon. */
#define MCF__CONV_STREAM ((size_t)8 << 20)

/* Elements of 4 bytes before d reaches a 32-byte boundary, when n is large
 * enough (and d 4-aligned) for non-temporal stores; else 0 with *stream 0. */
static size_t mcf__stream_head(const unsigned char *d, size_t n, int *stream)
{
    *stream = n >= MCF__CONV_STREAM / 4 && ((uintptr_t)d & 3u) == 0;
    return *stream ? ((32u - ((uintptr_t)d & 31u)) & 31u) / 4 : 0;
}

/* BF16 -> F32, sixteen per step: widened to 32 bits and moved up 16. */
__attribute__((target("avx2")))
static void mcf__bf16_f32_avx2(const unsigned char *s, unsigned char *d, size_t n)
{
    int stream;
    size_t i = mcf__stream_head(d, n, &stream);
    mcf__bf16_f32_sse2(s, d, i);
    for (; i + 16 <= n; i += 16) {
        __m256i a = _mm256_slli_epi32(_mm256_cvtepu16_epi32(_mm_loadu_si128((const __m128i *)(const void *)(s + 2 * i))), 16);
        __m256i b = _mm256_slli_epi32(_mm256_cvtepu16_epi32(_mm_loadu_si128((const __m128i *)(const void *)(s + 2 * i + 16))), 16);
        a = mcf__bf16_quiet_x8(a);
        b = mcf__bf16_quiet_x8(b);
        if (stream) {
            _mm256_stream_si256((__m256i *)(void *)(d + 4 * i), a);
            _mm256_stream_si256((__m256i *)(void *)(d + 4 * i + 32), b);
        } else {
            _mm256_storeu_si256((__m256i *)(void *)(d + 4 * i), a);
            _mm256_storeu_si256((__m256i *)(void *)(d + 4 * i + 32), b);
        }
    }
    if (stream) _mm_sfence();
    if (i < n) mcf__bf16_f32_sse2(s + 2 * i, d + 4 * i, n - i);
}

/* F16C converts with round to nearest even and keeps subnormals; F16 -> F32
 * already quiets NaNs and keeps the payload, F32 -> F16 truncates it, as
 * the portable code does. */
__attribute__((target("avx,f16c")))
static void mcf__f16_f32_f16c(const unsigned char *s, unsigned char *d, size_t n)
{
    int stream;
    size_t i = mcf__stream_head(d, n, &stream);
    mcf__convert_portable(MCF_F16, MCF_F32, s, d, i, 0);
    if (stream) {
        for (; i + 8 <= n; i += 8)
            _mm256_stream_ps((float *)(void *)(d + 4 * i), _mm256_cvtph_ps(_mm_loadu_si128((const __m128i *)(const void *)(s + 2 * i))));
        _mm_sfence();
    }
    for (; i + 8 <= n; i += 8)
        _mm256_storeu_ps((float *)(void *)(d + 4 * i), _mm256_cvtph_ps(_mm_loadu_si128((const __m128i *)(const void *)(s + 2 * i))));
    if (i < n) mcf__convert_portable(MCF_F16, MCF_F32, s + 2 * i, d + 4 * i, n - i, 0);
}

__attribute__((target("avx,f16c")))
static void mcf__f32_f16_f16c(const unsigned char *s, unsigned char *d, size_t n)
{
    size_t i = 0;
    for (; i + 8 <= n; i += 8)
        _mm_storeu_si128((__m128i *)(void *)(d + 2 * i),
                         _mm256_cvtps_ph(_mm256_loadu_ps((const float *)(const void *)(s + 4 * i)), _MM_FROUND_TO_NEAREST_INT));
    if (i < n) mcf__convert_portable(MCF_F32, MCF_F16, s + 4 * i, d + 2 * i, n - i, 0);
}

static int mcf__cpu_avx2(void) { return __builtin_cpu_supports("avx2") != 0; }
/* F16C needs the AVX state the OS enables, which __builtin_cpu_supports("avx")
 * checks; clang has no "f16c" name for it, so there CPUID.1:ECX bit 29. */
static int mcf__cpu_f16c(void)
{
#if defined(__clang__)
    unsigned a, b, c, d;
    if (!__builtin_cpu_supports("avx") || !__get_cpuid(1, &a, &b, &c, &d)) return 0;
    return (c >> 29) & 1u;
#else
    return __builtin_cpu_supports("avx") && __builtin_cpu_supports("f16c");
#endif
}
#endif

/* The fastest path for from -> to on this CPU; callers pick once per call
 * (the CPU checks cost more than converting a few elements). */
static int mcf__convert_pick(mcf_dtype from, mcf_dtype to)
{
#if defined(MCF__CONV_X86)
    if ((from == MCF_BF16 && to == MCF_F32) || (from == MCF_F32 && to == MCF_BF16))
        return mcf__cpu_avx2() ? MCF_CONVERT_AVX2 : MCF_CONVERT_SSE2;
    if (((from == MCF_F16 && to == MCF_F32) || (from == MCF_F32 && to == MCF_F16)) && mcf__cpu_f16c())
        return MCF_CONVERT_F16C;
#else
    (void)from; (void)to;
#endif
    return MCF_CONVERT_PORTABLE;
}

/* Runs one conversion (from != to, a supported pair) with an available
 * variant. le: src holds little-endian file bytes, not host-order elements. */
static void mcf__convert_run(int variant, mcf_dtype from, mcf_dtype to, const unsigned char *s, unsigned char *d, size_t n, int le)
{
#if defined(MCF__CONV_X86)
    int bf = (from == MCF_BF16 && to == MCF_F32) || (from == MCF_F32 && to == MCF_BF16);
    int hf = (from == MCF_F16 && to == MCF_F32) || (from == MCF_F32 && to == MCF_F16);
    if (bf && variant == MCF_CONVERT_AVX2) { if (from == MCF_BF16) mcf__bf16_f32_avx2(s, d, n); else mcf__f32_bf16_avx2(s, d, n); return; }
    if (bf && variant == MCF_CONVERT_SSE2) { if (from == MCF_BF16) mcf__bf16_f32_sse2(s, d, n); else mcf__f32_bf16_sse2(s, d, n); return; }
    if (hf && variant == MCF_CONVERT_F16C) { if (from == MCF_F16) mcf__f16_f32_f16c(s, d, n); else mcf__f32_f16_f16c(s, d, n); return; }
#else
    (void)variant;
#endif
    mcf__convert_portable(from, to, s, d, n, le);
}

static int mcf__convert_args(mcf_dtype from, mcf_dtype to, const void *src, void *dst, size_t n, const char *who)
{
    if (!mcf__dtype_valid(from) || !mcf__dtype_valid(to))
        return mcf__fail(MCF_INVALID_PARAMS, "%s: invalid dtype %d or %d", who, (int)from, (int)to);
    if (!mcf_convert_supported(from, to))
        return mcf__fail(MCF_NOT_SUPPORTED, "%s: no conversion from %s to %s (targets: F64, F32, F16, BF16; sources: the float, integer and BOOL types)",
                         who, mcf__dtypes[from].name, mcf__dtypes[to].name);
    if (n && (!src || !dst)) return mcf__fail(MCF_INVALID_PARAMS, "%s: NULL buffer", who);
    if (from == to && mcf__dtypes[from].bits % 8)
        return mcf__fail(MCF_NOT_SUPPORTED, "%s: %s elements are not whole bytes", who, mcf__dtypes[from].name);
    return MCF_OK;
}

MCFDEF int mcf_convert(mcf_dtype from, mcf_dtype to, const void *src, void *dst, size_t n)
{
    int rc = mcf__convert_args(from, to, src, dst, n, "mcf_convert");
    if (rc != MCF_OK || n == 0) return rc;
    if (from == to) memcpy(dst, src, n * mcf_dtype_size(from));
    else mcf__convert_run(mcf__convert_pick(from, to), from, to, (const unsigned char *)src, (unsigned char *)dst, n, 0);
    return MCF_OK;
}

MCFDEF int mcf_convert_variant(int variant, mcf_dtype from, mcf_dtype to, const void *src, void *dst, size_t n)
{
    int rc;
    if (variant < MCF_CONVERT_PORTABLE || variant > MCF_CONVERT_F16C)
        return mcf__fail(MCF_INVALID_PARAMS, "mcf_convert_variant: unknown variant %d", variant);
#if defined(MCF__CONV_X86)
    if ((variant == MCF_CONVERT_AVX2 && !mcf__cpu_avx2()) || (variant == MCF_CONVERT_F16C && !mcf__cpu_f16c()))
#else
    if (variant != MCF_CONVERT_PORTABLE)
#endif
        return mcf__fail(MCF_NOT_SUPPORTED, "mcf_convert_variant: %s is not available on this CPU or build", mcf_convert_variant_name(variant));
    if ((rc = mcf__convert_args(from, to, src, dst, n, "mcf_convert_variant")) != MCF_OK || n == 0) return rc;
    if (from == to) memcpy(dst, src, n * mcf_dtype_size(from));
    else mcf__convert_run(variant, from, to, (const unsigned char *)src, (unsigned char *)dst, n, 0);
    return MCF_OK;
}

MCFDEF const char *mcf_convert_variant_name(int variant)
{
    static const char *const names[] = {"portable", "sse2", "avx2", "f16c"};
    return variant >= MCF_CONVERT_PORTABLE && variant <= MCF_CONVERT_F16C ? names[variant] : "?";
}

/* ===== [07] URL parser =================================================== */
/* fsspec's split: "scheme://rest", else a local path (a one-letter "scheme"
 * is a Windows drive). file: URLs are percent-decoded (RFC 8089) except %2F,
 * which stays inside its segment; memory paths are "/"-rooted like fsspec's
 * MemoryFileSystem; http keeps the path as written; s3 is bucket + key.
 * All strings of one mcf_url live in one allocation owned by `scheme`: an
 * arena sized for the most strings one parse stores (MCF__URL_STRINGS: on
 * Windows a file: URL stores scheme, host, decoded path, UNC host, UNC
 * path, query, url, dirname and basename), each at most the input's length
 * plus MCF__URL_EXTRA bytes: every stored string is a part of the input or
 * joins disjoint parts of it, and a join adds at most "file:///" or a "/"
 * (a canonical http path), plus the NUL. */
#define MCF__URL_STRINGS 9
#define MCF__URL_EXTRA 16

typedef struct mcf__url_arena {
    char *p, *end;
} mcf__url_arena;

/* Concatenates parts[0..n) into the arena as one string. */
static char *mcf__url_join(mcf__url_arena *a, const char *const *parts, int n)
{
    char *d = a->p;
    int i;
    for (i = 0; i < n; i++) {
        size_t k = strlen(parts[i]);
        MCF_ASSERT((size_t)(a->end - a->p) > k);
        memcpy(a->p, parts[i], k);
        a->p += k;
    }
    *a->p++ = '\0';
    return d;
}

/* s[0..n) as a string in the arena. */
static char *mcf__url_put(mcf__url_arena *a, const char *s, size_t n)
{
    char *d = a->p;
    MCF_ASSERT((size_t)(a->end - a->p) > n);
    memcpy(d, s, n);
    d[n] = '\0';
    a->p += n + 1;
    return d;
}

/* Concatenates up to four strings (NULL ends the list early). */
static char *mcf__url_cat(mcf__url_arena *a, const char *s1, const char *s2, const char *s3, const char *s4)
{
    const char *parts[4];
    parts[0] = s1;
    parts[1] = s2;
    parts[2] = s3;
    parts[3] = s4;
    return mcf__url_join(a, parts, !s2 ? 1 : !s3 ? 2 : !s4 ? 3 : 4);
}

static int mcf__hexval(char c)
{
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

/* Percent-decodes s into the arena; %2F stays encoded. NULL on a bad or
 * NUL escape (error set in *rc). */
static char *mcf__url_decode(mcf__url_arena *a, const char *s, const char *url, int *rc)
{
    char *d = a->p, *start = a->p;
    size_t i, n = strlen(s);
    for (i = 0; i < n; i++) {
        int hi, lo;
        if (s[i] != '%') {
            *d++ = s[i];
            continue;
        }
        hi = i + 2 < n ? mcf__hexval(s[i + 1]) : -1;
        lo = i + 2 < n ? mcf__hexval(s[i + 2]) : -1;
        if (hi < 0 || lo < 0) {
            *rc = mcf__fail(MCF_INVALID_PARAMS, "URL \"%s\": bad percent-escape", url);
            return NULL;
        }
        if (hi == 0 && lo == 0) {
            *rc = mcf__fail(MCF_INVALID_PARAMS, "URL \"%s\": %%00 (NUL) is not allowed in a path", url);
            return NULL;
        }
        if (hi == 2 && lo == 15) {   /* %2F: a '/' inside a segment */
            memcpy(d, s + i, 3);
            d += 3;
        } else {
            *d++ = (char)(hi * 16 + lo);
        }
        i += 2;
    }
    *d = '\0';
    a->p = d + 1;
    return start;
}

/* Splits path at its last '/' or '\\': backslashes separate too, so a
 * Windows path has the same dirname and basename on every host. */
static void mcf__url_split_path(mcf__url_arena *a, mcf_url *u)
{
    const char *p = u->path, *sep = NULL, *q;
    for (q = p; *q; q++)
        if (*q == '/' || *q == '\\') sep = q;
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

/* The port after ':' in s[0..n): 1..65535. */
static int mcf__url_port(const char *s, size_t n, const char *url, int *port)
{
    long v = 0;
    size_t i;
    if (n == 0) return mcf__fail(MCF_INVALID_PARAMS, "URL \"%s\": empty port", url);
    for (i = 0; i < n; i++) {
        if (s[i] < '0' || s[i] > '9' || v > 65535) return mcf__fail(MCF_INVALID_PARAMS, "URL \"%s\": bad port", url);
        v = v * 10 + (s[i] - '0');
    }
    if (v < 1 || v > 65535) return mcf__fail(MCF_INVALID_PARAMS, "URL \"%s\": port out of range", url);
    *port = (int)v;
    return MCF_OK;
}

/* http(s) authority: [user@] rejected, host or [v6], optional :port. */
static int mcf__url_authority(mcf__url_arena *a, const char *s, size_t n, const char *url, mcf_url *u)
{
    const char *host = s, *colon = NULL;
    size_t hn = n, i;
    int rc;
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
        if (close + 1 < s + n && close[1] != ':')
            return mcf__fail(MCF_INVALID_PARAMS, "URL \"%s\": unexpected text after IPv6 host", url);
        if (close + 1 < s + n) colon = close + 1;
    } else {
        colon = (const char *)memchr(s, ':', n);
        if (colon) hn = (size_t)(colon - s);
        for (i = 0; i < hn; i++)
            if (!(mcf__is_scheme_char(s[i], 0) || s[i] == '_' || s[i] == '~' || s[i] == '%'))
                return mcf__fail(MCF_INVALID_PARAMS, "URL \"%s\": bad character in host", url);
    }
    if (hn == 0) return mcf__fail(MCF_INVALID_PARAMS, "URL \"%s\": missing host", url);
    u->port = 0;
    if (colon && (rc = mcf__url_port(colon + 1, (size_t)(s + n - colon - 1), url, &u->port)) != MCF_OK) return rc;
    u->host = mcf__url_put(a, host, hn);
    for (i = 0; i < hn; i++) u->host[i] = mcf__lower(u->host[i]);
    return MCF_OK;
}

static int mcf__local_fs_name(const char *n)
{
    return mcf__name_is(n, "file") || mcf__name_is(n, "local") || mcf__name_is(n, "localfs") || mcf__name_is(n, "posix");
}

/* An explicit filesystem N (not auto, not local) turns a url without "://"
 * into "N://url": *joined is that new string (NULL when nothing changes). */
static int mcf__url_apply_filesystem(const char *url, const char *filesystem, char **joined)
{
    size_t fl, ul, i;
    *joined = NULL;
    if (!filesystem || !*filesystem || mcf__name_is(filesystem, "auto") || mcf__local_fs_name(filesystem) || strstr(url, "://"))
        return MCF_OK;
    fl = strlen(filesystem);
    ul = strlen(url);
    for (i = 0; i < fl; i++)
        if (!mcf__is_scheme_char(filesystem[i], i == 0))
            return mcf__fail(MCF_INVALID_PARAMS, "filesystem \"%s\" is not a valid scheme name", filesystem);
    if (!(*joined = (char *)mcf__malloc(fl + ul + 4))) return mcf__fail(MCF_INTERNAL_ERROR, "out of memory parsing URL \"%s\"", url);
    memcpy(*joined, filesystem, fl);
    memcpy(*joined + fl, "://", 3);
    memcpy(*joined + fl + 3, url, ul + 1);
    return MCF_OK;
}

/* Length of in's scheme, or 0 for a plain local path (no "://", or a
 * one-letter scheme: "C://dir" is a Windows drive). */
static int mcf__url_scheme_len(const char *in, const char *url, size_t *slen)
{
    const char *sep = strstr(in, "://");
    size_t i;
    *slen = 0;
    if (!sep) return MCF_OK;
    for (i = 0; in + i < sep; i++)
        if (!mcf__is_scheme_char(in[i], i == 0)) break;
    if (sep == in || in + i < sep) return mcf__fail(MCF_INVALID_PARAMS, "URL \"%s\": malformed scheme", url);
    if (i > 1) *slen = i;
    return MCF_OK;
}

/* A plain local path, kept exactly as given. */
static void mcf__url_local(mcf__url_arena *a, const char *in, mcf_url *u)
{
    u->scheme = mcf__url_put(a, "file", 4);
    u->host = mcf__url_put(a, "", 0);
    u->path = mcf__url_put(a, in, strlen(in));
    u->query = mcf__url_put(a, "", 0);
    u->url = mcf__url_put(a, in, strlen(in));
}

/* 1 if h[0..n) is "localhost" in any case. */
static int mcf__url_is_localhost(const char *h, size_t n)
{
    static const char lh[] = "localhost";
    size_t i;
    if (n != sizeof lh - 1) return 0;
    for (i = 0; i < n; i++)
        if (mcf__lower(h[i]) != lh[i]) return 0;
    return 1;
}

#ifdef _WIN32
/* Windows forms of a decoded file: path: a drive (file:///C:/x, RFC 8089
 * E.2), a UNC path from the host form (file://server/share/x, E.3, unc
 * given) or the four-slash form (file:////server/share/x). The canonical
 * url uses '/', the path '\\'. 0 when the path is none of them. */
static int mcf__url_file_win(mcf__url_arena *a, mcf_url *u, const char *unc, size_t unc_len, int drive)
{
    char *c;
    if (unc) u->path = mcf__url_cat(a, "//", mcf__url_put(a, unc, unc_len), u->path, NULL);
    if (!drive && !unc && !(u->path[0] == '/' && u->path[1] == '/' && u->path[2] && u->path[2] != '/')) return 0;
    for (c = u->path; *c; c++)
        if (*c == '\\') *c = '/';
    u->url = mcf__url_cat(a, drive ? "file:///" : "file:", u->path, NULL, NULL);
    for (c = u->path; *c; c++)
        if (*c == '/') *c = '\\';
    return 1;
}
#endif

/* file://[localhost]/path, percent-decoded. */
static int mcf__url_file(mcf__url_arena *a, const char *rest, const char *url, mcf_url *u)
{
    const char *p = rest, *unc = NULL;
    size_t unc_len = 0;
    int rc = MCF_OK, drive = 0;
    if (*p != '/') {
        size_t hl = strcspn(p, "/");
        if (!mcf__url_is_localhost(p, hl)) {
#ifdef _WIN32
            unc = p;   /* file://server/share/x */
            unc_len = hl;
#else
            return mcf__fail(MCF_INVALID_PARAMS, "URL \"%s\": file URLs must name a local path (host \"%.*s\" not supported)", url, (int)hl, p);
#endif
        }
        p += hl;
    }
    if (!*p) return mcf__fail(MCF_INVALID_PARAMS, "URL \"%s\": empty path", url);
#ifdef _WIN32
    /* file:///C:/dir/x.pt is the drive path C:\dir\x.pt */
    if (!unc && p[0] == '/' && ((p[1] >= 'A' && p[1] <= 'Z') || (p[1] >= 'a' && p[1] <= 'z')) && p[2] == ':') {
        p++;
        drive = 1;
    }
#endif
    u->host = mcf__url_put(a, "", 0);
    if (!(u->path = mcf__url_decode(a, p, url, &rc))) return rc;
    u->query = mcf__url_put(a, "", 0);
#ifdef _WIN32
    if (mcf__url_file_win(a, u, unc, unc_len, drive)) return MCF_OK;
#else
    (void)unc; (void)unc_len; (void)drive;
#endif
    u->url = mcf__url_cat(a, "file://", u->path, NULL, NULL);
    return MCF_OK;
}

/* memory://a/b: the path "/a/b" (leading and trailing '/' dropped first). */
static int mcf__url_memory(mcf__url_arena *a, const char *rest, const char *url, mcf_url *u)
{
    const char *p = rest;
    size_t n;
    while (*p == '/') p++;
    n = strlen(p);
    while (n > 0 && p[n - 1] == '/') n--;
    if (n == 0) return mcf__fail(MCF_INVALID_PARAMS, "URL \"%s\": empty memory path", url);
    u->host = mcf__url_put(a, "", 0);
    /* "/" + p[0..n): rest follows "://", so the byte before p is a '/' */
    u->path = mcf__url_put(a, p - 1, n + 1);
    u->query = mcf__url_put(a, "", 0);
    u->url = mcf__url_cat(a, "memory://", u->path, NULL, NULL);
    return MCF_OK;
}

/* http(s)://host[:port]/path[?query][#fragment]: the path as written. */
static int mcf__url_http(mcf__url_arena *a, const char *rest, const char *url, mcf_url *u)
{
    size_t an = strcspn(rest, "/?#"), pn, i;
    const char *p = rest + an, *parts[8];
    char port[16] = "";
    int rc, v6;
    if ((rc = mcf__url_authority(a, rest, an, url, u)) != MCF_OK) return rc;
    pn = strcspn(p, "?#");
    u->path = pn ? mcf__url_put(a, p, pn) : mcf__url_put(a, "/", 1);
    u->query = p[pn] == '?' ? mcf__url_put(a, p + pn + 1, strcspn(p + pn + 1, "#")) : mcf__url_put(a, "", 0);
    for (i = 0; u->path[i]; i++)
        if ((unsigned char)u->path[i] <= ' ')
            return mcf__fail(MCF_INVALID_PARAMS, "URL \"%s\": spaces or control characters in path (percent-encode them)", url);
    v6 = strchr(u->host, ':') != NULL;
    if (u->port) (void)snprintf(port, sizeof port, ":%d", u->port);
    parts[0] = u->scheme;
    parts[1] = v6 ? "://[" : "://";
    parts[2] = u->host;
    parts[3] = v6 ? "]" : "";
    parts[4] = port;
    parts[5] = u->path;
    parts[6] = *u->query ? "?" : "";
    parts[7] = u->query;
    u->url = mcf__url_join(a, parts, 8);
    return MCF_OK;
}

/* s3://bucket/key (s3a too): host = bucket, path = key. */
static int mcf__url_s3(mcf__url_arena *a, const char *rest, const char *url, mcf_url *u)
{
    const char *slash = strchr(rest, '/');
    size_t bn = slash ? (size_t)(slash - rest) : strlen(rest);
    if (bn == 0) return mcf__fail(MCF_INVALID_PARAMS, "URL \"%s\": missing bucket", url);
    if (!slash || !slash[1]) return mcf__fail(MCF_INVALID_PARAMS, "URL \"%s\": missing object key after the bucket", url);
    u->host = mcf__url_put(a, rest, bn);
    u->port = 0;
    u->path = mcf__url_put(a, slash + 1, strlen(slash + 1));
    u->query = mcf__url_put(a, "", 0);
    u->url = mcf__url_cat(a, "s3://", u->host, "/", u->path);
    return MCF_OK;
}

/* A user-registered scheme: everything after "://" is the path. */
static int mcf__url_other(mcf__url_arena *a, const char *rest, const char *url, mcf_url *u)
{
    if (!*rest) return mcf__fail(MCF_INVALID_PARAMS, "URL \"%s\": empty path", url);
    u->host = mcf__url_put(a, "", 0);
    u->path = mcf__url_put(a, rest, strlen(rest));
    u->query = mcf__url_put(a, "", 0);
    u->url = mcf__url_cat(a, u->scheme, "://", u->path, NULL);
    return MCF_OK;
}

/* in = "scheme://rest" with a scheme of slen (> 1) valid characters. */
static int mcf__url_with_scheme(mcf__url_arena *a, const char *in, size_t slen, const char *url, mcf_url *u)
{
    const char *rest = in + slen + 3;
    size_t i;
    int rc;
    u->scheme = mcf__url_put(a, in, slen);
    for (i = 0; i < slen; i++) u->scheme[i] = mcf__lower(u->scheme[i]);
    if (strcmp(u->scheme, "file") == 0) rc = mcf__url_file(a, rest, url, u);
    else if (strcmp(u->scheme, "memory") == 0) rc = mcf__url_memory(a, rest, url, u);
    else if (strcmp(u->scheme, "http") == 0 || strcmp(u->scheme, "https") == 0) rc = mcf__url_http(a, rest, url, u);
    else if (strcmp(u->scheme, "s3") == 0 || strcmp(u->scheme, "s3a") == 0) rc = mcf__url_s3(a, rest, url, u);
    else rc = mcf__url_other(a, rest, url, u);
    return rc;
}

MCFDEF int mcf_url_parse(const char *url, const char *filesystem, mcf_url *out)
{
    mcf__url_arena a;
    mcf_url u;
    const char *in;
    char *joined = NULL, *block;
    size_t cap, slen = 0;
    int rc;
    if (!url || !out) return mcf__fail(MCF_INVALID_PARAMS, "mcf_url_parse: NULL argument");
    if (!*url) return mcf__fail(MCF_INVALID_PARAMS, "empty URL");
    if ((rc = mcf__url_apply_filesystem(url, filesystem, &joined)) != MCF_OK) return rc;
    in = joined ? joined : url;
    cap = MCF__URL_STRINGS * (strlen(in) + MCF__URL_EXTRA);
    if (!(block = (char *)mcf__malloc(cap))) {
        MCF_FREE(joined);
        return mcf__fail(MCF_INTERNAL_ERROR, "out of memory parsing URL \"%s\"", url);
    }
    a.p = block;
    a.end = block + cap;
    memset(&u, 0, sizeof u);
    rc = mcf__url_scheme_len(in, url, &slen);
    if (rc == MCF_OK && slen == 0) mcf__url_local(&a, in, &u);
    else if (rc == MCF_OK) rc = mcf__url_with_scheme(&a, in, slen, url, &u);
    if (rc == MCF_OK) mcf__url_split_path(&a, &u);
    MCF_FREE(joined);
    if (rc != MCF_OK) {
        MCF_FREE(block);
        return rc;
    }
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

/* ===== [08] fs interface: options, sources & sinks ======================= */
/* What every backend and format section works through: the storage-option
 * rule of the option-less backends, a source (positional reads, maybe
 * mapped), a sink (sequential writes, size known up front, committed
 * atomically by the caller), and the reader every format section fills. */

/* The file and memory backends take no settings, so they refuse every
 * storage option, as the network backends refuse a key they do not know: a
 * misspelt or misplaced option is an error, never silently ignored. what
 * names the object ("x.pt"), kind says what it is for the message. */
static int mcf__fs_no_options(const char *who, const char *what, const char *kind, const mcf_options *o)
{
    if (!o || !o->storage_options || !o->storage_options[0]) return MCF_OK;
    return mcf__fail(MCF_INVALID_PARAMS, "%s: unknown storage option \"%s\" for \"%s\" (%s take no storage options)",
                     who, o->storage_options[0], what, kind);
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
    if (s->base) {
        mcf__prefault(dst, n);
        memcpy(dst, s->base + off, n);
        return MCF_OK;
    }
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

/* The CRC-32 of a contiguous tensor on a second thread (options.threads
 * > 1), computed while the calling thread writes the bytes. */
typedef struct mcf__crc_job {
    const unsigned char *p;
    size_t n;
    uint32_t crc;
} mcf__crc_job;

static void mcf__crc_job_run(void *ctx)
{
    mcf__crc_job *j = (mcf__crc_job *)ctx;
    j->crc = mcf_crc32(j->crc, j->p, j->n);
}

#define MCF__CRC_THREAD_MIN ((uint64_t)8 << 20)

/* Writes a checked tensor's elements as contiguous little-endian bytes. If
 * crc is not NULL the CRC-32 is updated chunk by chunk while the chunk is
 * still in cache (fused, not a second pass over the tensor), or, with
 * options.threads > 1 and a contiguous tensor of MCF__CRC_THREAD_MIN bytes
 * or more, on a second thread while this one writes (the CRC then costs
 * the writer nothing). */
MCF__SHARED int mcf__sink_tensor(mcf__sink *s, const mcf_tensor *t, uint32_t *crc)
{
    uint64_t nbytes = mcf_tensor_nbytes(t), numel, first;
    size_t esize = mcf_dtype_size(t->dtype), chunk_elems;
    unsigned char *tmp;
    int rc = MCF_OK;
    int direct = mcf_tensor_is_contiguous(t) && (!MCF__BIG_ENDIAN || mcf__dtypes[t->dtype].swap < 2);
    if (nbytes == 0) return MCF_OK;
    if (direct && crc && s->o && s->o->threads > 1 && nbytes >= MCF__CRC_THREAD_MIN && mcf__fits_size(nbytes)) {
        mcf__crc_job j;
        mcf__bg bg;
        const unsigned char *p = (const unsigned char *)t->data;
        j.p = p;
        j.n = (size_t)nbytes;
        j.crc = *crc;
        mcf__bg_start(&bg, mcf__crc_job_run, &j);
        while (nbytes > 0 && rc == MCF_OK) {
            size_t k = nbytes < (uint64_t)MCF_CHUNK_SIZE ? (size_t)nbytes : MCF_CHUNK_SIZE;
            rc = mcf__sink_write(s, p, k);
            p += k;
            nbytes -= k;
        }
        mcf__bg_join(&bg);
        *crc = j.crc;
        return rc;
    }
    if (direct) {
        const unsigned char *p = (const unsigned char *)t->data;
        while (nbytes > 0 && rc == MCF_OK) {
            size_t k = nbytes < (uint64_t)MCF_CHUNK_SIZE ? (size_t)nbytes : MCF_CHUNK_SIZE;
            if (crc) *crc = mcf_crc32(*crc, p, k);
            rc = mcf__sink_write(s, p, k);
            p += k;
            nbytes -= k;
        }
        return rc;
    }
    if (esize == 0) esize = 1;   /* sub-byte dtypes are contiguous here */
    chunk_elems = MCF_CHUNK_SIZE / esize;
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

/* One file a reader reads: its source and what the format section keeps
 * about it (torch: the zip directory, for MCF_VERIFY). A sharded reader has
 * one per shard, every other reader one; each entry names its file. */
typedef struct mcf__rfile {
    mcf__source src;
    char *url;                      /* a shard's URL (src.name points here), else NULL */
    void *priv;                     /* format-private state */
    void (*priv_free)(void *priv);
} mcf__rfile;

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
    size_t file;                    /* index of its file in the reader's files */
} mcf__entry;

typedef struct mcf__value {         /* a non-tensor leaf of a torch file */
    char *name;
    const char *type;               /* static: "int", "torch.Size", ... */
    char *text;
} mcf__value;

struct mcf_reader {
    mcf__rfile *files;              /* where entries come from: one file, or one per shard */
    size_t nfiles;
    char *name;                     /* URL (of the index, when sharded), or "<memory>" */
    const char *format;             /* "safetensors" | "torch" */
    mcf__entry *entries;
    size_t count;
    char **meta;                    /* key0, value0, key1, ... */
    size_t meta_count;
    mcf__value *values;             /* torch: non-tensor leaves, in pickle order */
    size_t value_count;
    unsigned flags;
    unsigned threads;               /* options.threads at open */
    void **views;                   /* per-entry copies made by mcf_view */
    unsigned char *verified;        /* per-entry: CRC already checked */
    size_t *index;                  /* open-addressing name index, index_cap slots */
    size_t index_cap;
    int (*verify)(mcf_reader *r, size_t i);   /* MCF_VERIFY hook, or NULL */
};

/* ===== [09] fs: memory =================================================== */
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
    (void)user;
    if (mcf__fs_no_options("memory", u->url, "memory objects", o) != MCF_OK) return MCF_INVALID_PARAMS;
    mcf__lock(&mcf__mem_lock);
    n = *mcf__mem_slot(u->path);
    if (n) *size = n->blob->size;
    mcf__unlock(&mcf__mem_lock);
    return n ? MCF_OK : mcf__fail(MCF_FILE_NOT_FOUND, "%s: no such object in the memory filesystem", u->url);
}

static int mcf__mem_open_read(void *user, const mcf_url *u, const mcf_options *o, void **file, uint64_t *size)
{
    mcf__mem_node *n;
    (void)user;
    if (mcf__fs_no_options("memory", u->url, "memory objects", o) != MCF_OK) return MCF_INVALID_PARAMS;
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
    if (mcf__fs_no_options("memory", u->url, "memory objects", o) != MCF_OK) return MCF_INVALID_PARAMS;
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
    if (!b) {
        rc = mcf__fail(MCF_INTERNAL_ERROR, "memory filesystem: \"%s\": out of memory", w->path);
        mcf__mem_abort(w);
        return rc;
    }
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
        rc = mcf__fail(MCF_INTERNAL_ERROR, "memory filesystem: \"%s\": out of memory", w->path);
    }
    if (b) mcf__mem_unref_locked(b);
    mcf__unlock(&mcf__mem_lock);
    mcf__mem_abort(w);
    return rc;
}

static int mcf__mem_remove(void *user, const mcf_url *u, const mcf_options *o)
{
    mcf__mem_node **slot, *n;
    (void)user;
    if (mcf__fs_no_options("memory", u->url, "memory objects", o) != MCF_OK) return MCF_INVALID_PARAMS;
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
    mcf__mem_open_write, mcf__mem_write, mcf__mem_commit, mcf__mem_abort, mcf__mem_remove, MCF_FS_THREADSAFE_READ
};

/* ===== [10] fs: posix ==================================================== */
/* Local files: open/pread/mmap to read; to write, a temp file in the target's
 * directory (created like makedirs(exist_ok=True)) that commit renames over
 * the target, so readers never see a half-written file and a failed save
 * leaves the old file intact. MCF_DURABLE: fsync file, rename, fsync dir.
 * Only '/' separates directories ('\\' is a file-name byte); the Win32
 * backend [11] has the same contract and treats both as separators. */
/* MCF_DIRECT, shared by this backend and [11]: unbuffered I/O moves whole
 * aligned blocks between the device and aligned memory, bypassing the page
 * cache (O_DIRECT here, FILE_FLAG_NO_BUFFERING on Windows; both want file
 * offsets, lengths and buffer addresses in multiples of MCF__DIO_ALIGN).
 * Reads: a second handle opened unbuffered; a range whose offset and
 * destination are equally misaligned goes straight into the destination but
 * for its head and tail blocks, any other through an aligned bounce buffer
 * of at most MCF__DIO_READ_BOUNCE bytes (each read takes its own; the reader
 * keeps up to MCF__DIO_SPARES of them for later reads, since a new one costs
 * a fresh mapping and its page faults every time). Writes: bytes collect in
 * an aligned bounce buffer written in whole blocks (aligned caller data goes
 * straight out), and the last partial block is written after the temp file
 * is switched back to buffered writes. Where the file system refuses
 * unbuffered I/O (tmpfs: EINVAL; Windows: ERROR_INVALID_PARAMETER or
 * ERROR_NOT_SUPPORTED) the file is read or written with buffered I/O, and a
 * "note: " sentence in mcf_last_error() says so; MCF_DIRECT never makes a
 * call fail. The backends supply one unbuffered read or write call and the
 * switch to buffered writes; the arithmetic and the loops are here. */
#if !defined(MCF_NO_POSIX)
#define MCF__DIO_ALIGN ((uint64_t)4096)
#define MCF__DIO_BOUNCE ((size_t)4 << 20)
/* A read bounce buffer: 1 MiB at any offset in one read. Smaller than the
 * write side on purpose: copied out right after its read, a 1 MiB piece is
 * still in the CPU cache, and a cold 1 GiB load on four threads measured
 * 10-15% faster than with 4 MiB pieces (whose copies come from DRAM). */
#define MCF__DIO_READ_BOUNCE (((size_t)1 << 20) + 2 * (size_t)MCF__DIO_ALIGN)
#define MCF__DIO_SPARES 8
#define MCF__DIO_ALIGNED(x) ((uint64_t)(x) % MCF__DIO_ALIGN == 0)

/* The aligned address within raw. */
static unsigned char *mcf__dio_align(void *raw)
{
    return raw ? (unsigned char *)raw + ((MCF__DIO_ALIGN - (uintptr_t)raw % MCF__DIO_ALIGN) % MCF__DIO_ALIGN) : NULL;
}

/* n bytes aligned to MCF__DIO_ALIGN; *raw is what to free. */
static unsigned char *mcf__dio_alloc(size_t n, void **raw)
{
    return mcf__dio_align(*raw = mcf__malloc(n + (size_t)MCF__DIO_ALIGN));
}

/* The note of a refused unbuffered open, read or write (what: the flag). */
static void mcf__dio_note(const char *path, const char *what, const char *cause, const char *doing)
{
    (void)mcf__fail(MCF_OK, "note: file: \"%s\": the file system refuses %s (%s); %s with buffered I/O instead (MCF_DIRECT)",
                    path, what, cause, doing);
}

static int mcf__dio_short(const char *path, uint64_t off)
{
    return mcf__fail(MCF_FILE_READ_FAIL, "file: \"%s\": unexpected end of file at offset %llu (file shrank?)", path, (unsigned long long)off);
}

/* The unbuffered side of a reader. pread reads up to n bytes at off into d
 * (all three aligned) through the unbuffered handle: 1 with *got (short only
 * at the end of the file), 0 failed (*rc set), -1 refused. */
typedef struct mcf__dio_reader {
    const char *name;
    void *file;
    int (*pread)(void *file, unsigned char *d, size_t n, uint64_t off, size_t *got, int *rc);
    mcf__mutex lock;                /* guards spare */
    void *spare[MCF__DIO_SPARES];   /* bounce buffers free for the next read */
    int nspare;
} mcf__dio_reader;

/* 1 = ready, 0 = no lock here (then the file is read buffered). */
static int mcf__dio_reader_init(mcf__dio_reader *d, const char *name, void *file,
                                int (*pread)(void *, unsigned char *, size_t, uint64_t, size_t *, int *))
{
    d->name = name;
    d->file = file;
    d->pread = pread;
    d->nspare = 0;
    return mcf__mutex_init(&d->lock);
}

static void mcf__dio_reader_free(mcf__dio_reader *d)
{
    while (d->nspare > 0) MCF_FREE(d->spare[--d->nspare]);
    mcf__mutex_destroy(&d->lock);
}

static int mcf__dio_pread(mcf__dio_reader *d, unsigned char *b, size_t n, uint64_t off, size_t *got, int *rc)
{
    MCF_ASSERT(MCF__DIO_ALIGNED(off) && MCF__DIO_ALIGNED(n) && MCF__DIO_ALIGNED((uintptr_t)b));
    return d->pread(d->file, b, n, off, got, rc);
}

/* A bounce buffer of MCF__DIO_READ_BOUNCE aligned bytes: one the reader keeps
 * from an earlier read, else a new one; *raw is what to give back. */
static unsigned char *mcf__dio_bounce_take(mcf__dio_reader *d, void **raw)
{
    *raw = NULL;
    mcf__lock(&d->lock);
    if (d->nspare > 0) *raw = d->spare[--d->nspare];
    mcf__unlock(&d->lock);
    if (*raw) return mcf__dio_align(*raw);
    return mcf__dio_alloc(MCF__DIO_READ_BOUNCE, raw);
}

static void mcf__dio_bounce_give(mcf__dio_reader *d, void *raw)
{
    mcf__lock(&d->lock);
    if (d->nspare < MCF__DIO_SPARES) { d->spare[d->nspare++] = raw; raw = NULL; }
    mcf__unlock(&d->lock);
    MCF_FREE(raw);
}

/* Unbuffered reads of [off, off + n) through an aligned bounce buffer, whole
 * blocks at a time. 1 = done, 0 = failed (*rc set), -1 = refused: the caller
 * reads with buffered I/O. */
static int mcf__dio_read_bounced(mcf__dio_reader *d, uint64_t off, unsigned char *dst, size_t n, int *rc)
{
    uint64_t end = off + n, cur = off, last = (end + MCF__DIO_ALIGN - 1) & ~(MCF__DIO_ALIGN - 1);
    size_t cap = MCF__DIO_READ_BOUNCE;
    void *raw;
    unsigned char *b = mcf__dio_bounce_take(d, &raw);
    int ok = 1;
    if (!b) { *rc = mcf__fail(MCF_INTERNAL_ERROR, "file: \"%s\": out of memory for a %lu-byte unbuffered-read buffer", d->name, (unsigned long)cap); return 0; }
    while (cur < end && ok == 1) {
        uint64_t lo = cur & ~(MCF__DIO_ALIGN - 1), hi = last - lo > cap ? lo + cap : last, stop = end < hi ? end : hi;
        size_t got = 0;
        ok = mcf__dio_pread(d, b, (size_t)(hi - lo), lo, &got, rc);
        if (ok == 1 && got < stop - lo) { *rc = mcf__dio_short(d->name, lo + got); ok = 0; }
        else if (ok == 1) { memcpy(dst + (cur - off), b + (cur - lo), (size_t)(stop - cur)); cur = stop; }
    }
    mcf__dio_bounce_give(d, raw);
    return ok;
}

/* An unbuffered read of [off, off + n) into dst; the same results as
 * mcf__dio_read_bounced. */
static int mcf__dio_read(mcf__dio_reader *d, uint64_t off, unsigned char *dst, size_t n, int *rc)
{
    uint64_t end = off + n, mlo = (off + MCF__DIO_ALIGN - 1) & ~(MCF__DIO_ALIGN - 1), mhi = end & ~(MCF__DIO_ALIGN - 1);
    size_t got = 0;
    int ok = 1;
    if ((uintptr_t)dst % MCF__DIO_ALIGN != off % MCF__DIO_ALIGN || mhi <= mlo) return mcf__dio_read_bounced(d, off, dst, n, rc);
    if (mlo > off) ok = mcf__dio_read_bounced(d, off, dst, (size_t)(mlo - off), rc);
    if (ok == 1) ok = mcf__dio_pread(d, dst + (mlo - off), (size_t)(mhi - mlo), mlo, &got, rc);
    if (ok == 1 && got < mhi - mlo) { *rc = mcf__dio_short(d->name, mlo + got); return 0; }
    if (ok == 1 && end > mhi) ok = mcf__dio_read_bounced(d, mhi, dst + (mhi - off), (size_t)(end - mhi), rc);
    return ok;
}

/* The unbuffered side of a temp-file writer. put makes one unbuffered write
 * of n aligned bytes: MCF_OK with *put, 1 = refused (it leaves the note), or
 * a negative code; off switches the file back to buffered writes; buffered
 * writes all n bytes buffered. */
typedef struct mcf__dio_writer {
    void *file;
    int (*put)(void *file, const unsigned char *p, size_t n, size_t *put);
    int (*off)(void *file);
    int (*buffered)(void *file, const unsigned char *p, size_t n);
    int direct;                     /* writes go through bounce */
    unsigned char *bounce;          /* MCF__DIO_BOUNCE aligned bytes */
    void *bounce_raw;
    size_t fill;
} mcf__dio_writer;

static int mcf__dio_off(mcf__dio_writer *d)
{
    d->direct = 0;
    return d->off(d->file);
}

/* Whole aligned blocks unbuffered; a refusal or a short write switches to
 * buffered writes for the rest. */
static int mcf__dio_write_blocks(mcf__dio_writer *d, const unsigned char *p, size_t n)
{
    int rc = MCF_OK;
    MCF_ASSERT(MCF__DIO_ALIGNED((uintptr_t)p) && MCF__DIO_ALIGNED(n));
    while (d->direct && n > 0 && rc == MCF_OK) {
        size_t want = n > ((size_t)1 << 30) ? ((size_t)1 << 30) : n, put = 0;
        if ((rc = d->put(d->file, p, want, &put)) == 1) { rc = mcf__dio_off(d); break; }
        if (rc != MCF_OK) return rc;
        p += put; n -= put;
        if (put == 0 || put % MCF__DIO_ALIGN) rc = mcf__dio_off(d);   /* a short write: the rest buffered */
    }
    return rc == MCF_OK && n ? d->buffered(d->file, p, n) : rc;
}

static int mcf__dio_write(mcf__dio_writer *d, const unsigned char *p, size_t n)
{
    int rc = MCF_OK;
    while (n > 0 && rc == MCF_OK && d->direct) {
        size_t k;
        if (d->fill == 0 && MCF__DIO_ALIGNED((uintptr_t)p) && n >= MCF__DIO_ALIGN) {   /* straight from the caller */
            k = n & ~(size_t)(MCF__DIO_ALIGN - 1);
            rc = mcf__dio_write_blocks(d, p, k);
        } else {
            k = n < MCF__DIO_BOUNCE - d->fill ? n : MCF__DIO_BOUNCE - d->fill;
            memcpy(d->bounce + d->fill, p, k);
            d->fill += k;
            if (d->fill == MCF__DIO_BOUNCE) { rc = mcf__dio_write_blocks(d, d->bounce, d->fill); d->fill = 0; }
        }
        p += k;
        n -= k;
    }
    return rc == MCF_OK && n > 0 ? d->buffered(d->file, p, n) : rc;   /* the bounce buffer is empty when not direct */
}

/* The bytes still in the bounce buffer: whole blocks unbuffered, then the
 * file back to buffered writes and the partial last block. */
static int mcf__dio_finish(mcf__dio_writer *d)
{
    size_t whole = d->fill & ~(size_t)(MCF__DIO_ALIGN - 1);
    int rc = MCF_OK;
    if (d->fill == 0) return MCF_OK;
    if (d->direct && whole) rc = mcf__dio_write_blocks(d, d->bounce, whole);
    else whole = 0;
    if (rc == MCF_OK && d->direct && whole < d->fill) rc = mcf__dio_off(d);
    if (rc == MCF_OK && whole < d->fill) rc = d->buffered(d->file, d->bounce + whole, d->fill - whole);
    d->fill = 0;
    return rc;
}
#endif /* MCF_NO_POSIX */

#if !defined(MCF_NO_POSIX) && !defined(_WIN32)
#include <dirent.h>
#include <sys/file.h>
typedef struct mcf__posix_reader {
    int fd;
    int dfd;        /* MCF_DIRECT: an O_DIRECT descriptor of the file, or -1 */
    uint64_t size;
    void *map;
    char *name;
    mcf__dio_reader dio;            /* dfd >= 0 only */
} mcf__posix_reader;

/* glibc declares O_DIRECT only for _GNU_SOURCE; its __O_DIRECT has the
 * value. */
#if defined(O_DIRECT)
#define MCF__O_DIRECT O_DIRECT
#elif defined(__O_DIRECT)
#define MCF__O_DIRECT __O_DIRECT
#endif

static void mcf__posix_direct_note(const char *path, int e, const char *what)
{
    mcf__dio_note(path, "O_DIRECT", mcf__errno_text(e), what);
}

static int mcf__posix_dio_pread(void *file, unsigned char *d, size_t n, uint64_t off, size_t *got, int *rc);

/* Opens the O_DIRECT descriptor of r, or leaves the note. */
static void mcf__posix_direct_open(mcf__posix_reader *r, const char *path)
{
#ifdef MCF__O_DIRECT
    if (!mcf__dio_reader_init(&r->dio, r->name, r, mcf__posix_dio_pread)) { r->dfd = -1; return; }   /* then buffered, as if refused */
    do r->dfd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK | MCF__O_DIRECT); while (r->dfd < 0 && errno == EINTR);
    if (r->dfd < 0) {
        int e = errno;
        mcf__dio_reader_free(&r->dio);
        mcf__posix_direct_note(path, e, "reading");
    }
#else
    r->dfd = -1;
    (void)mcf__fail(MCF_OK, "note: file: \"%s\": this system has no O_DIRECT; reading with buffered I/O instead (MCF_DIRECT)", path);
#endif
}

static int mcf__posix_err(int e, int fallback, const char *what, const char *path)
{
    return mcf__fail(mcf__errno_code(e, fallback), "file: cannot %s \"%s\": %s", what, path, mcf__errno_text(e));
}

static int mcf__posix_stat(void *user, const mcf_url *u, const mcf_options *o, uint64_t *size)
{
    struct stat st;
    (void)user;
    if (mcf__fs_no_options("file", u->path, "local files", o) != MCF_OK) return MCF_INVALID_PARAMS;
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
    if (mcf__fs_no_options("file", u->path, "local files", o) != MCF_OK) return MCF_INVALID_PARAMS;
    /* O_NONBLOCK: opening a FIFO must not wait for a writer (it is refused below) */
    do fd = open(u->path, O_RDONLY | O_CLOEXEC | O_NONBLOCK); while (fd < 0 && errno == EINTR);
    if (fd < 0) return mcf__posix_err(errno, MCF_FILE_OPEN_FAIL, "open", u->path);
    if (fstat(fd, &st) != 0) { e = errno; close(fd); return mcf__posix_err(e, MCF_FILE_OPEN_FAIL, "stat", u->path); }
    if (S_ISDIR(st.st_mode)) { close(fd); return mcf__fail(MCF_FILE_OPEN_FAIL, "file: \"%s\" is a directory", u->path); }
    if (!S_ISREG(st.st_mode)) { close(fd); return mcf__fail(MCF_FILE_OPEN_FAIL, "file: \"%s\" is not a regular file (FIFO, socket or device: its size is unknown)", u->path); }
    r = (mcf__posix_reader *)mcf__calloc(1, sizeof *r);
    if (!r || !(r->name = mcf__strdup(u->path))) { MCF_FREE(r); close(fd); return mcf__fail(MCF_INTERNAL_ERROR, "file: out of memory opening \"%s\"", u->path); }
    r->fd = fd;
    r->dfd = -1;
    r->size = (uint64_t)st.st_size;
    /* mapping is O(1) whatever the size; on failure we fall back to pread */
    if (o && (o->flags & MCF_DIRECT)) {
        mcf__posix_direct_open(r, u->path);
    } else if (!(o && (o->flags & MCF_NO_MMAP)) && S_ISREG(st.st_mode) && r->size > 0 && mcf__fits_size(r->size)) {
        void *m = mmap(NULL, (size_t)r->size, PROT_READ, MAP_SHARED, fd, 0);
        if (m != MAP_FAILED) r->map = m;
    }
    *file = r;
    *size = r->size;
    return MCF_OK;
}

/* Reads up to n bytes at off from fd: *got < n only at the end of the
 * file. On failure *e is errno. */
static int mcf__posix_pread_full(int fd, unsigned char *d, size_t n, uint64_t off, size_t *got, int *e)
{
    *got = 0;
    while (*got < n) {
        size_t want = n - *got > ((size_t)1 << 30) ? ((size_t)1 << 30) : n - *got;
        ssize_t k = pread(fd, d + *got, want, (off_t)(off + *got));
        if (k < 0) {
            if (errno == EINTR) continue;
            *e = errno;
            return 0;
        }
        if (k == 0) break;
        *got += (size_t)k;
    }
    return 1;
}


/* One O_DIRECT read for mcf__dio_reader; EINVAL is a refusal. */
static int mcf__posix_dio_pread(void *file, unsigned char *d, size_t n, uint64_t off, size_t *got, int *rc)
{
    mcf__posix_reader *r = (mcf__posix_reader *)file;
    int e = 0;
    if (mcf__posix_pread_full(r->dfd, d, n, off, got, &e)) return 1;
    if (e == EINVAL) return -1;
    *rc = mcf__posix_err(e, MCF_FILE_READ_FAIL, "read", r->name);
    return 0;
}

static int mcf__posix_read_at(void *file, uint64_t off, void *dst, size_t n)
{
    mcf__posix_reader *r = (mcf__posix_reader *)file;
    size_t got;
    int e = 0, rc = MCF_OK;
    if (r->dfd >= 0 && n > 0) {
        int ok = mcf__dio_read(&r->dio, off, (unsigned char *)dst, n, &rc);
        if (ok >= 0) return ok ? MCF_OK : rc;
        /* refused after all: this read goes through the page cache */
    }
    if (!mcf__posix_pread_full(r->fd, (unsigned char *)dst, n, off, &got, &e)) return mcf__posix_err(e, MCF_FILE_READ_FAIL, "read", r->name);
    return got < n ? mcf__dio_short(r->name, off + got) : MCF_OK;
}

static const void *mcf__posix_map(void *file) { return ((mcf__posix_reader *)file)->map; }

static void mcf__posix_close_read(void *file)
{
    mcf__posix_reader *r = (mcf__posix_reader *)file;
    if (r->map) (void)munmap(r->map, (size_t)r->size);
    if (r->dfd >= 0) {
        mcf__dio_reader_free(&r->dio);
        (void)close(r->dfd);
    }
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
    if (!d) return mcf__fail(MCF_INTERNAL_ERROR, "file: \"%s\": out of memory", dir);
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
    mcf__dio_writer dio;            /* dio.direct: fd has O_DIRECT */
} mcf__posix_writer;

static void mcf__posix_writer_free(mcf__posix_writer *w)
{
    MCF_FREE(w->dio.bounce_raw); MCF_FREE(w->path); MCF_FREE(w->tmp); MCF_FREE(w->dir); MCF_FREE(w);
}

/* MCF_DIRECT on the new temp file: O_DIRECT through fcntl, or the note.
 * Only an allocation failure fails. */
static int mcf__posix_direct_write_open(mcf__posix_writer *w)
{
#ifdef MCF__O_DIRECT
    int fl = fcntl(w->fd, F_GETFL);
    if (!(w->dio.bounce = mcf__dio_alloc(MCF__DIO_BOUNCE, &w->dio.bounce_raw))) return mcf__fail(MCF_INTERNAL_ERROR, "file: \"%s\": out of memory for the O_DIRECT buffer", w->path);
    if (fl != -1 && fcntl(w->fd, F_SETFL, fl | MCF__O_DIRECT) == 0) w->dio.direct = 1;
    else mcf__posix_direct_note(w->path, errno, "writing");
#else
    (void)mcf__fail(MCF_OK, "note: file: \"%s\": this system has no O_DIRECT; writing with buffered I/O instead (MCF_DIRECT)", w->path);
#endif
    return MCF_OK;
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

static void mcf__posix_abort(void *file);
static int mcf__posix_direct_put(void *file, const unsigned char *p, size_t n, size_t *put);
static int mcf__posix_direct_off(void *file);
static int mcf__posix_write_buffered(void *file, const unsigned char *p, size_t n);

static int mcf__posix_open_write(void *user, const mcf_url *u, uint64_t size, const mcf_options *o, void **file)
{
    static MCF__THREAD_LOCAL unsigned long counter;   /* mixes temp names; per thread, so no data race */
    mcf__posix_writer *w;
    const char *slash = strrchr(u->path, '/');
    size_t plen = strlen(u->path), dlen;
    struct stat st;
    int attempt, rc;
    (void)user; (void)size;
    if (mcf__fs_no_options("file", u->path, "local files", o) != MCF_OK) return MCF_INVALID_PARAMS;
    if (plen == 0 || u->path[plen - 1] == '/') return mcf__fail(MCF_INVALID_PARAMS, "file: \"%s\" names a directory, not a file", u->path);
    if (o && (o->flags & MCF_NO_OVERWRITE) && lstat(u->path, &st) == 0)
        return mcf__fail(MCF_FILE_OPEN_FAIL, "file: \"%s\" already exists (MCF_NO_OVERWRITE)", u->path);
    w = (mcf__posix_writer *)mcf__calloc(1, sizeof *w);
    if (!w) return mcf__fail(MCF_INTERNAL_ERROR, "file: \"%s\": out of memory", u->path);
    w->fd = w->lockfd = -1;
    w->flags = o ? o->flags : 0;
    w->dio.file = w;
    w->dio.put = mcf__posix_direct_put;
    w->dio.off = mcf__posix_direct_off;
    w->dio.buffered = mcf__posix_write_buffered;
    dlen = slash ? (size_t)(slash - u->path) : 0;
    w->path = mcf__strdup(u->path);
    w->dir = slash ? mcf__strndup(u->path, dlen ? dlen : 1) : mcf__strdup(".");
    w->tmp = (char *)mcf__malloc(plen + 64);
    if (!w->path || !w->dir || !w->tmp) { mcf__posix_writer_free(w); return mcf__fail(MCF_INTERNAL_ERROR, "file: \"%s\": out of memory", u->path); }
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
    if ((w->flags & MCF_DIRECT) && (rc = mcf__posix_direct_write_open(w)) != MCF_OK) {
        mcf__posix_abort(w);
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

static int mcf__posix_write_fd(mcf__posix_writer *w, const unsigned char *p, size_t n)
{
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

/* Switches the temp file back to buffered writes (the tail, or a file
 * system that accepted O_DIRECT at fcntl but refuses the write). */
static int mcf__posix_direct_off(void *file)
{
#ifdef MCF__O_DIRECT
    mcf__posix_writer *w = (mcf__posix_writer *)file;
    int fl = fcntl(w->fd, F_GETFL);
    if (fl != -1) (void)fcntl(w->fd, F_SETFL, fl & ~MCF__O_DIRECT);
#else
    (void)file;
#endif
    return MCF_OK;
}

/* One O_DIRECT write for mcf__dio_writer; EINVAL is a refusal. */
static int mcf__posix_direct_put(void *file, const unsigned char *p, size_t n, size_t *put)
{
    mcf__posix_writer *w = (mcf__posix_writer *)file;
    ssize_t k;
    do k = write(w->fd, p, n); while (k < 0 && errno == EINTR);
    if (k < 0 && errno == EINVAL) { mcf__posix_direct_note(w->path, EINVAL, "writing"); return 1; }
    if (k < 0) return mcf__posix_err(errno, MCF_FILE_WRITE_FAIL, "write", w->path);
    *put = (size_t)k;
    return MCF_OK;
}

static int mcf__posix_write_buffered(void *file, const unsigned char *p, size_t n)
{
    return mcf__posix_write_fd((mcf__posix_writer *)file, p, n);
}

static int mcf__posix_write(void *file, const void *src, size_t n)
{
    return mcf__dio_write(&((mcf__posix_writer *)file)->dio, (const unsigned char *)src, n);
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
    int rc = mcf__dio_finish(&w->dio), fd = w->fd;
    w->fd = -1;
    if (rc == MCF_OK && (w->flags & MCF_DURABLE) && fsync(fd) != 0) rc = mcf__posix_err(errno, MCF_FILE_WRITE_FAIL, "fsync", w->path);
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
    (void)user;
    if (mcf__fs_no_options("file", u->path, "local files", o) != MCF_OK) return MCF_INVALID_PARAMS;
    if (unlink(u->path) != 0) return mcf__posix_err(errno, MCF_FILE_WRITE_FAIL, "remove", u->path);
    return MCF_OK;
}

static const mcf_filesystem mcf__posix_fs = {
    "file", NULL, mcf__posix_stat, mcf__posix_open_read, mcf__posix_read_at, mcf__posix_map, mcf__posix_close_read,
    mcf__posix_open_write, mcf__posix_write, mcf__posix_commit, mcf__posix_abort, mcf__posix_remove, MCF_FS_THREADSAFE_READ
};
#endif /* POSIX */

/* ===== [11] fs: win32 ==================================================== */
/* Local files on Windows: the contract of [10] through the wide-character
 * API. UTF-8 paths are converted with MultiByteToWideChar and '/' becomes
 * '\'; drive roots (C:\), UNC roots (\\server\share\) and \\?\ prefixes
 * are never created by makedirs; reads are positional (ReadFile with
 * OVERLAPPED offsets) or a read-only mapping; commit is MoveFileExW(
 * MOVEFILE_REPLACE_EXISTING | MOVEFILE_WRITE_THROUGH), or without
 * REPLACE_EXISTING for MCF_NO_OVERWRITE, which makes the existence check
 * and the publish one step. MCF_DIRECT (the shared engine in [10]): reads
 * through a second handle opened with FILE_FLAG_NO_BUFFERING; the temp file
 * is created with FILE_FLAG_NO_BUFFERING | FILE_FLAG_WRITE_THROUGH, and for
 * the partial last block (or after a refused write) that handle is closed
 * and the still unpublished temp file opened again, buffered, to append the
 * rest; commit then flushes (MCF_DURABLE) and renames in the usual order,
 * so a crash at any point leaves at most a temp file, never a padded or
 * partial destination. */
#if !defined(MCF_NO_POSIX) && defined(_WIN32)
static int mcf__win_code(DWORD e, int fallback)
{
    switch (e) {
    case ERROR_FILE_NOT_FOUND: case ERROR_PATH_NOT_FOUND: case ERROR_INVALID_DRIVE:
    case ERROR_BAD_NETPATH: case ERROR_BAD_NET_NAME: return MCF_FILE_NOT_FOUND;
    case ERROR_ACCESS_DENIED: case ERROR_WRITE_PROTECT: case ERROR_PRIVILEGE_NOT_HELD: return MCF_PERMISSION_DENIED;
    case ERROR_DISK_FULL: case ERROR_HANDLE_DISK_FULL: return MCF_FILE_WRITE_FAIL;
    case ERROR_NOT_ENOUGH_MEMORY: case ERROR_OUTOFMEMORY: return MCF_INTERNAL_ERROR;
    case ERROR_INVALID_NAME: case ERROR_FILENAME_EXCED_RANGE: case ERROR_BAD_PATHNAME: return MCF_INVALID_PARAMS;
    case ERROR_FILE_EXISTS: case ERROR_ALREADY_EXISTS: case ERROR_TOO_MANY_OPEN_FILES:
    case ERROR_SHARING_VIOLATION: case ERROR_LOCK_VIOLATION: return MCF_FILE_OPEN_FAIL;
    default: return fallback;
    }
}

static const char *mcf__win_text(DWORD e)
{
    switch (e) {
    case ERROR_FILE_NOT_FOUND: return "no such file or directory";
    case ERROR_PATH_NOT_FOUND: return "no such directory on the path";
    case ERROR_INVALID_DRIVE: return "no such drive";
    case ERROR_BAD_NETPATH: case ERROR_BAD_NET_NAME: return "network path not found";
    case ERROR_ACCESS_DENIED: return "permission denied";
    case ERROR_WRITE_PROTECT: return "the medium is write-protected";
    case ERROR_PRIVILEGE_NOT_HELD: return "operation not permitted";
    case ERROR_DISK_FULL: case ERROR_HANDLE_DISK_FULL: return "no space left on device";
    case ERROR_NOT_ENOUGH_MEMORY: case ERROR_OUTOFMEMORY: return "out of memory";
    case ERROR_INVALID_NAME: case ERROR_BAD_PATHNAME: return "invalid file name";
    case ERROR_FILENAME_EXCED_RANGE: return "file name too long";
    case ERROR_FILE_EXISTS: case ERROR_ALREADY_EXISTS: return "file exists";
    case ERROR_TOO_MANY_OPEN_FILES: return "too many open files";
    case ERROR_SHARING_VIOLATION: case ERROR_LOCK_VIOLATION: return "the file is in use by another process";
    case ERROR_HANDLE_EOF: return "end of file";
    case ERROR_INVALID_PARAMETER: return "invalid parameter";
    case ERROR_NOT_SUPPORTED: return "not supported";
    default: return "system error";
    }
}

static int mcf__win_err(DWORD e, int fallback, const char *what, const char *path)
{
    return mcf__fail(mcf__win_code(e, fallback), "file: cannot %s \"%s\": %s (Windows error %lu)", what, path,
                     mcf__win_text(e), (unsigned long)e);
}

/* UTF-8 path -> UTF-16 with '\' separators; NULL after setting the error. */
static wchar_t *mcf__win_wide(const char *path, int *rc)
{
    int n = MultiByteToWideChar(CP_UTF8, MB_ERR_INVALID_CHARS, path, -1, NULL, 0);
    wchar_t *w, *c;
    if (n <= 0) { *rc = mcf__fail(MCF_INVALID_PARAMS, "file: \"%s\" is not valid UTF-8", path); return NULL; }
    w = (wchar_t *)mcf__malloc((size_t)n * sizeof(wchar_t));
    if (!w) { *rc = mcf__fail(MCF_INTERNAL_ERROR, "file: out of memory for \"%s\"", path); return NULL; }
    if (MultiByteToWideChar(CP_UTF8, MB_ERR_INVALID_CHARS, path, -1, w, n) != n) {
        MCF_FREE(w);
        *rc = mcf__fail(MCF_INVALID_PARAMS, "file: \"%s\" is not valid UTF-8", path);
        return NULL;
    }
    for (c = w; *c; c++) if (*c == L'/') *c = L'\\';
    return w;
}

static int mcf__win_is_sep(char c) { return c == '/' || c == '\\'; }

/* Length of the part of path that names a root and is never created:
 * "\\?\C:\", "\\?\UNC\server\share\", "\\server\share\", "C:\", "C:", "\". */
static size_t mcf__win_root_len(const char *p)
{
    size_t i = 0;
    int comps = 0;
    if (mcf__win_is_sep(p[0]) && mcf__win_is_sep(p[1])) {
        if ((p[2] == '?' || p[2] == '.') && mcf__win_is_sep(p[3])) {
            i = 4;
            if ((p[4] == 'U' || p[4] == 'u') && (p[5] == 'N' || p[5] == 'n') && (p[6] == 'C' || p[6] == 'c') && mcf__win_is_sep(p[7])) { i = 8; comps = 2; }
        } else {
            i = 2;
            comps = 2;
        }
        for (; comps > 0 && p[i]; comps--) {
            while (p[i] && !mcf__win_is_sep(p[i])) i++;
            if (p[i]) i++;
        }
        if (comps) return i;
    }
    if (((p[i] >= 'A' && p[i] <= 'Z') || (p[i] >= 'a' && p[i] <= 'z')) && p[i + 1] == ':') i += 2;
    if (mcf__win_is_sep(p[i])) i++;
    return i;
}

static int mcf__win_stat(void *user, const mcf_url *u, const mcf_options *o, uint64_t *size)
{
    WIN32_FILE_ATTRIBUTE_DATA fad;
    wchar_t *w;
    int rc = MCF_OK;
    (void)user;
    if (mcf__fs_no_options("file", u->path, "local files", o) != MCF_OK) return MCF_INVALID_PARAMS;
    if (!(w = mcf__win_wide(u->path, &rc))) return rc;
    if (!GetFileAttributesExW(w, GetFileExInfoStandard, &fad)) rc = mcf__win_err(GetLastError(), MCF_FILE_OPEN_FAIL, "stat", u->path);
    else if (fad.dwFileAttributes & FILE_ATTRIBUTE_DIRECTORY) rc = mcf__fail(MCF_FILE_OPEN_FAIL, "file: \"%s\" is a directory", u->path);
    else *size = ((uint64_t)fad.nFileSizeHigh << 32) | fad.nFileSizeLow;
    MCF_FREE(w);
    return rc;
}

typedef struct mcf__win_reader {
    HANDLE h, mapping;
    HANDLE dh;          /* MCF_DIRECT: an unbuffered handle, or INVALID_HANDLE_VALUE */
    void *map;
    uint64_t size;
    char *name;
    mcf__dio_reader dio;            /* dh valid only */
} mcf__win_reader;

/* Unbuffered I/O refused by the file system (not a failure of the file). */
static int mcf__win_refused(DWORD e) { return e == ERROR_INVALID_PARAMETER || e == ERROR_NOT_SUPPORTED; }

static void mcf__win_direct_note(const char *path, DWORD e, const char *what)
{
    char cause[64];
    (void)snprintf(cause, sizeof cause, "%s, Windows error %lu", mcf__win_text(e), (unsigned long)e);
    mcf__dio_note(path, "FILE_FLAG_NO_BUFFERING", cause, what);
}

/* One unbuffered read for mcf__dio_reader: up to n bytes, short only at the
 * end of the file (a read that stops short ends it: the next offset would
 * not be aligned). */
static int mcf__win_dio_pread(void *file, unsigned char *d, size_t n, uint64_t off, size_t *got, int *rc)
{
    mcf__win_reader *r = (mcf__win_reader *)file;
    *got = 0;
    while (*got < n) {
        DWORD want = n - *got > ((size_t)1 << 30) ? (DWORD)1 << 30 : (DWORD)(n - *got), k = 0;
        OVERLAPPED ov;
        memset(&ov, 0, sizeof ov);
        ov.Offset = (DWORD)((off + *got) & 0xffffffffu);
        ov.OffsetHigh = (DWORD)((off + *got) >> 32);
        if (!ReadFile(r->dh, d + *got, want, &k, &ov)) {
            DWORD e = GetLastError();
            if (mcf__win_refused(e)) return -1;
            if (e != ERROR_HANDLE_EOF) { *rc = mcf__win_err(e, MCF_FILE_READ_FAIL, "read", r->name); return 0; }
            k = 0;
        }
        *got += k;
        if (k < want) break;
    }
    return 1;
}

/* Opens the unbuffered handle of r, or leaves the note. */
static void mcf__win_direct_open(mcf__win_reader *r, const wchar_t *w)
{
    if (!mcf__dio_reader_init(&r->dio, r->name, r, mcf__win_dio_pread)) return;   /* then buffered, as if refused */
    r->dh = CreateFileW(w, GENERIC_READ, FILE_SHARE_READ | FILE_SHARE_WRITE | FILE_SHARE_DELETE, NULL, OPEN_EXISTING, FILE_FLAG_NO_BUFFERING, NULL);
    if (r->dh == INVALID_HANDLE_VALUE) {
        mcf__win_direct_note(r->name, GetLastError(), "reading");
        mcf__dio_reader_free(&r->dio);
    }
}

static int mcf__win_open_read(void *user, const mcf_url *u, const mcf_options *o, void **file, uint64_t *size)
{
    mcf__win_reader *r;
    LARGE_INTEGER li;
    HANDLE h;
    DWORD e, attr;
    wchar_t *w;
    int rc = MCF_OK;
    (void)user;
    if (mcf__fs_no_options("file", u->path, "local files", o) != MCF_OK) return MCF_INVALID_PARAMS;
    if (!(w = mcf__win_wide(u->path, &rc))) return rc;
    /* FILE_SHARE_DELETE lets a writer rename a new version over this name */
    h = CreateFileW(w, GENERIC_READ, FILE_SHARE_READ | FILE_SHARE_WRITE | FILE_SHARE_DELETE, NULL, OPEN_EXISTING, FILE_ATTRIBUTE_NORMAL, NULL);
    if (h == INVALID_HANDLE_VALUE) {
        e = GetLastError();
        attr = GetFileAttributesW(w);
        MCF_FREE(w);
        if (attr != INVALID_FILE_ATTRIBUTES && (attr & FILE_ATTRIBUTE_DIRECTORY)) return mcf__fail(MCF_FILE_OPEN_FAIL, "file: \"%s\" is a directory", u->path);
        return mcf__win_err(e, MCF_FILE_OPEN_FAIL, "open", u->path);
    }
    if (!GetFileSizeEx(h, &li)) { e = GetLastError(); CloseHandle(h); MCF_FREE(w); return mcf__win_err(e, MCF_FILE_OPEN_FAIL, "stat", u->path); }
    r = (mcf__win_reader *)mcf__calloc(1, sizeof *r);
    if (!r || !(r->name = mcf__strdup(u->path))) { MCF_FREE(r); CloseHandle(h); MCF_FREE(w); return mcf__fail(MCF_INTERNAL_ERROR, "file: out of memory opening \"%s\"", u->path); }
    r->h = h;
    r->dh = INVALID_HANDLE_VALUE;
    r->size = (uint64_t)li.QuadPart;
    /* a mapping when the whole file fits the address space; else ReadFile */
    if (o && (o->flags & MCF_DIRECT)) {
        mcf__win_direct_open(r, w);
    } else if (!(o && (o->flags & MCF_NO_MMAP)) && r->size > 0 && mcf__fits_size(r->size)) {
        r->mapping = CreateFileMappingW(h, NULL, PAGE_READONLY, 0, 0, NULL);
        if (r->mapping) {
            r->map = MapViewOfFile(r->mapping, FILE_MAP_READ, 0, 0, 0);
            if (!r->map) { CloseHandle(r->mapping); r->mapping = NULL; }
        }
    }
    MCF_FREE(w);
    *file = r;
    *size = r->size;
    return MCF_OK;
}

static int mcf__win_read_at(void *file, uint64_t off, void *dst, size_t n)
{
    mcf__win_reader *r = (mcf__win_reader *)file;
    unsigned char *d = (unsigned char *)dst;
    if (r->dh != INVALID_HANDLE_VALUE && n > 0) {
        int rc = MCF_OK, ok = mcf__dio_read(&r->dio, off, d, n, &rc);
        if (ok >= 0) return ok ? MCF_OK : rc;
        /* refused after all: this read goes through the cache */
    }
    while (n > 0) {
        DWORD want = n > ((size_t)1 << 30) ? (DWORD)1 << 30 : (DWORD)n, got = 0;
        OVERLAPPED ov;
        memset(&ov, 0, sizeof ov);
        ov.Offset = (DWORD)(off & 0xffffffffu);
        ov.OffsetHigh = (DWORD)(off >> 32);
        if (!ReadFile(r->h, d, want, &got, &ov)) {
            DWORD e = GetLastError();
            if (e != ERROR_HANDLE_EOF) return mcf__win_err(e, MCF_FILE_READ_FAIL, "read", r->name);
            got = 0;
        }
        if (got == 0) return mcf__dio_short(r->name, off);
        d += got; off += got; n -= got;
    }
    return MCF_OK;
}

static const void *mcf__win_map(void *file) { return ((mcf__win_reader *)file)->map; }

static void mcf__win_close_read(void *file)
{
    mcf__win_reader *r = (mcf__win_reader *)file;
    if (r->map) (void)UnmapViewOfFile(r->map);
    if (r->mapping) (void)CloseHandle(r->mapping);
    if (r->dh != INVALID_HANDLE_VALUE) {
        mcf__dio_reader_free(&r->dio);
        (void)CloseHandle(r->dh);
    }
    (void)CloseHandle(r->h);
    MCF_FREE(r->name);
    MCF_FREE(r);
}

/* mkdir -p of dir (UTF-8, either separator), roots skipped. */
static int mcf__win_makedirs(const char *dir)
{
    char *d = mcf__strdup(dir), *p;
    int rc = MCF_OK;
    if (!d) return mcf__fail(MCF_INTERNAL_ERROR, "file: \"%s\": out of memory", dir);
    for (p = d + mcf__win_root_len(d); rc == MCF_OK; p++) {
        char c = *p;
        wchar_t *w;
        DWORD attr;
        if (!mcf__win_is_sep(c) && c != '\0') continue;
        *p = '\0';
        if (p > d && !mcf__win_is_sep(p[-1]) && (w = mcf__win_wide(d, &rc)) != NULL) {
            attr = GetFileAttributesW(w);
            if (attr == INVALID_FILE_ATTRIBUTES) {
                if (!CreateDirectoryW(w, NULL) && GetLastError() != ERROR_ALREADY_EXISTS)
                    rc = mcf__win_err(GetLastError(), MCF_FILE_OPEN_FAIL, "create directory", d);
            } else if (!(attr & FILE_ATTRIBUTE_DIRECTORY)) {
                rc = mcf__fail(MCF_FILE_OPEN_FAIL, "file: cannot create directory \"%s\": a file with that name exists", d);
            }
            MCF_FREE(w);
        }
        *p = c;
        if (c == '\0') break;
    }
    MCF_FREE(d);
    return rc;
}

typedef struct mcf__win_writer {
    HANDLE h;
    unsigned flags;
    char *path;         /* destination, UTF-8, for messages */
    wchar_t *wpath;
    wchar_t *wtmp;      /* temp file beside it */
    mcf__dio_writer dio;            /* dio.direct: h is unbuffered */
} mcf__win_writer;

static void mcf__win_writer_free(mcf__win_writer *w)
{
    MCF_FREE(w->dio.bounce_raw); MCF_FREE(w->path); MCF_FREE(w->wpath); MCF_FREE(w->wtmp); MCF_FREE(w);
}

static int mcf__win_write_buffered(void *file, const unsigned char *p, size_t n);

/* One unbuffered write for mcf__dio_writer. */
static int mcf__win_direct_put(void *file, const unsigned char *p, size_t n, size_t *put)
{
    mcf__win_writer *w = (mcf__win_writer *)file;
    DWORD k = 0;
    if (!WriteFile(w->h, p, (DWORD)n, &k, NULL)) {
        DWORD e = GetLastError();
        if (mcf__win_refused(e)) { mcf__win_direct_note(w->path, e, "writing"); return 1; }
        return mcf__win_err(e, MCF_FILE_WRITE_FAIL, "write", w->path);
    }
    *put = k;
    return MCF_OK;
}

/* Back to buffered writes: the unbuffered handle closed, the temp file
 * opened again (share mode 0, as when it was made) at its end. */
static int mcf__win_direct_off(void *file)
{
    mcf__win_writer *w = (mcf__win_writer *)file;
    LARGE_INTEGER zero;
    if (!CloseHandle(w->h)) { w->h = INVALID_HANDLE_VALUE; return mcf__win_err(GetLastError(), MCF_FILE_WRITE_FAIL, "close", w->path); }
    w->h = CreateFileW(w->wtmp, GENERIC_WRITE, 0, NULL, OPEN_EXISTING, FILE_ATTRIBUTE_NORMAL, NULL);
    if (w->h == INVALID_HANDLE_VALUE) return mcf__win_err(GetLastError(), MCF_FILE_WRITE_FAIL, "reopen the temporary file for", w->path);
    zero.QuadPart = 0;
    if (!SetFilePointerEx(w->h, zero, NULL, FILE_END)) return mcf__win_err(GetLastError(), MCF_FILE_WRITE_FAIL, "seek in the temporary file for", w->path);
    return MCF_OK;
}

static int mcf__win_open_write(void *user, const mcf_url *u, uint64_t size, const mcf_options *o, void **file)
{
    static MCF__THREAD_LOCAL unsigned long counter;   /* mixes temp names */
    mcf__win_writer *w;
    const char *q, *base = u->path;
    size_t plen = strlen(u->path), dlen = 0;
    char *tmp = NULL, *dir = NULL;
    int attempt, rc = MCF_OK;
    (void)user; (void)size;
    if (mcf__fs_no_options("file", u->path, "local files", o) != MCF_OK) return MCF_INVALID_PARAMS;
    for (q = u->path; *q; q++) if (mcf__win_is_sep(*q)) base = q + 1;
    if (base == u->path && plen >= 2 && u->path[1] == ':') base = u->path + 2;   /* "C:x.pt" */
    dlen = (size_t)(base - u->path);
    if (*base == '\0') return mcf__fail(MCF_INVALID_PARAMS, "file: \"%s\" names a directory, not a file", u->path);
    w = (mcf__win_writer *)mcf__calloc(1, sizeof *w);
    if (!w) return mcf__fail(MCF_INTERNAL_ERROR, "file: \"%s\": out of memory", u->path);
    w->h = INVALID_HANDLE_VALUE;
    w->flags = o ? o->flags : 0;
    w->dio.file = w;
    w->dio.put = mcf__win_direct_put;
    w->dio.off = mcf__win_direct_off;
    w->dio.buffered = mcf__win_write_buffered;
    w->dio.direct = (w->flags & MCF_DIRECT) != 0;
    w->path = mcf__strdup(u->path);
    tmp = (char *)mcf__malloc(plen + 64);
    dir = mcf__strndup(u->path, dlen);
    if (w->dio.direct && !(w->dio.bounce = mcf__dio_alloc(MCF__DIO_BOUNCE, &w->dio.bounce_raw))) {
        rc = mcf__fail(MCF_INTERNAL_ERROR, "file: \"%s\": out of memory for the unbuffered-write buffer", u->path);
        goto fail;
    }
    if (!w->path || !tmp || !dir) { rc = mcf__fail(MCF_INTERNAL_ERROR, "file: \"%s\": out of memory", u->path); goto fail; }
    if (!(w->wpath = mcf__win_wide(u->path, &rc))) goto fail;
    if ((w->flags & MCF_NO_OVERWRITE) && GetFileAttributesW(w->wpath) != INVALID_FILE_ATTRIBUTES) {
        rc = mcf__fail(MCF_FILE_OPEN_FAIL, "file: \"%s\" already exists (MCF_NO_OVERWRITE)", u->path);
        goto fail;
    }
    if (dlen > mcf__win_root_len(dir) && (rc = mcf__win_makedirs(dir)) != MCF_OK) goto fail;
    for (attempt = 0; attempt < 100; attempt++) {
        unsigned long salt = (unsigned long)GetCurrentProcessId() * 2654435761u ^ (unsigned long)GetTickCount() ^
                             (unsigned long)(uintptr_t)w ^ (++counter * 40503u);
        DWORD e;
        (void)snprintf(tmp, plen + 64, "%.*s.%s.mcf-%08lx.tmp", (int)dlen, u->path, base, salt & 0xffffffffu);
        MCF_FREE(w->wtmp);
        if (!(w->wtmp = mcf__win_wide(tmp, &rc))) goto fail;
        w->h = CreateFileW(w->wtmp, GENERIC_WRITE, 0, NULL, CREATE_NEW, FILE_ATTRIBUTE_NORMAL |
                           (w->dio.direct ? FILE_FLAG_NO_BUFFERING | FILE_FLAG_WRITE_THROUGH : 0), NULL);
        if (w->h != INVALID_HANDLE_VALUE) break;
        e = GetLastError();
        if (w->dio.direct && mcf__win_refused(e)) {   /* unbuffered refused: a buffered temp file (the next name) */
            mcf__win_direct_note(u->path, e, "writing");
            w->dio.direct = 0;
            continue;
        }
        if (e != ERROR_FILE_EXISTS && e != ERROR_ALREADY_EXISTS) { rc = mcf__win_err(e, MCF_FILE_OPEN_FAIL, "create a temporary file for", u->path); goto fail; }
    }
    if (w->h == INVALID_HANDLE_VALUE) { rc = mcf__fail(MCF_FILE_OPEN_FAIL, "file: cannot create a temporary file for \"%s\": 100 names taken", u->path); goto fail; }
    MCF_FREE(tmp);
    MCF_FREE(dir);
    *file = w;
    return MCF_OK;
fail:
    MCF_FREE(tmp);
    MCF_FREE(dir);
    mcf__win_writer_free(w);
    return rc;
}

static void mcf__win_abort(void *file)
{
    mcf__win_writer *w = (mcf__win_writer *)file;
    if (w->h != INVALID_HANDLE_VALUE) (void)CloseHandle(w->h);
    (void)DeleteFileW(w->wtmp);
    mcf__win_writer_free(w);
}

static int mcf__win_write(void *file, const void *src, size_t n)
{
    return mcf__dio_write(&((mcf__win_writer *)file)->dio, (const unsigned char *)src, n);
}

static int mcf__win_write_buffered(void *file, const unsigned char *p, size_t n)
{
    mcf__win_writer *w = (mcf__win_writer *)file;
    while (n > 0) {
        DWORD want = n > ((size_t)1 << 30) ? (DWORD)1 << 30 : (DWORD)n, put = 0;
        if (!WriteFile(w->h, p, want, &put, NULL)) return mcf__win_err(GetLastError(), MCF_FILE_WRITE_FAIL, "write", w->path);
        if (put == 0) return mcf__fail(MCF_FILE_WRITE_FAIL, "file: cannot write \"%s\": no progress", w->path);
        p += put; n -= put;
    }
    return MCF_OK;
}

static int mcf__win_commit(void *file)
{
    mcf__win_writer *w = (mcf__win_writer *)file;
    int rc = mcf__dio_finish(&w->dio);
    HANDLE h = w->h;
    w->h = INVALID_HANDLE_VALUE;
    if (h == INVALID_HANDLE_VALUE) { (void)DeleteFileW(w->wtmp); mcf__win_writer_free(w); return rc; }   /* lost in a failed switch */
    if (rc == MCF_OK && (w->flags & MCF_DURABLE) && !FlushFileBuffers(h)) rc = mcf__win_err(GetLastError(), MCF_FILE_WRITE_FAIL, "flush", w->path);
    if (!CloseHandle(h) && rc == MCF_OK) rc = mcf__win_err(GetLastError(), MCF_FILE_WRITE_FAIL, "close", w->path);
    if (rc == MCF_OK) {
        DWORD how = MOVEFILE_WRITE_THROUGH | ((w->flags & MCF_NO_OVERWRITE) ? 0 : MOVEFILE_REPLACE_EXISTING);
        if (!MoveFileExW(w->wtmp, w->wpath, how)) {
            DWORD e = GetLastError();
            if ((w->flags & MCF_NO_OVERWRITE) && (e == ERROR_ALREADY_EXISTS || e == ERROR_FILE_EXISTS))
                rc = mcf__fail(MCF_FILE_OPEN_FAIL, "file: \"%s\" already exists (MCF_NO_OVERWRITE)", w->path);
            else
                rc = mcf__win_err(e, MCF_FILE_WRITE_FAIL, "rename the temporary file onto", w->path);
        }
    }
    if (rc != MCF_OK) (void)DeleteFileW(w->wtmp);
    mcf__win_writer_free(w);
    return rc;
}

static int mcf__win_remove(void *user, const mcf_url *u, const mcf_options *o)
{
    wchar_t *w;
    int rc = MCF_OK;
    (void)user;
    if (mcf__fs_no_options("file", u->path, "local files", o) != MCF_OK) return MCF_INVALID_PARAMS;
    if (!(w = mcf__win_wide(u->path, &rc))) return rc;
    if (!DeleteFileW(w)) {
        DWORD e = GetLastError(), attr = GetFileAttributesW(w);
        if (attr != INVALID_FILE_ATTRIBUTES && (attr & FILE_ATTRIBUTE_DIRECTORY)) rc = mcf__fail(MCF_FILE_OPEN_FAIL, "file: \"%s\" is a directory", u->path);
        else rc = mcf__win_err(e, MCF_FILE_WRITE_FAIL, "remove", u->path);
    }
    MCF_FREE(w);
    return rc;
}

static const mcf_filesystem mcf__win_fs = {
    "file", NULL, mcf__win_stat, mcf__win_open_read, mcf__win_read_at, mcf__win_map, mcf__win_close_read,
    mcf__win_open_write, mcf__win_write, mcf__win_commit, mcf__win_abort, mcf__win_remove, MCF_FS_THREADSAFE_READ
};
#endif /* _WIN32 */

/* ===== [12] fs: http & s3 (curl) ========================================= */
/* http://, https:// and s3:// over libcurl (MOONCAKE_FILEIO_CURL, -lcurl).
 * Reads: the open is one ranged GET of the first 72 KiB (mcf__net_open_get), its
 * answer giving the size and the first kept block; then ranged GETs on one
 * reused handle (keep-alive); small reads fetch a 4 KiB block and the last two
 * reads up to 72 KiB are kept, so header parsers' many small reads cost few
 * requests. Stat and exists are a HEAD. A 206 must name the
 * range asked for (RFC 9110 14.4); a 200 (Range ignored) is the whole object,
 * read from its start up to the bytes wanted and cut; later reads continue
 * one GET held paused between them. Writes: a PUT
 * streamed from the caller's write() calls via curl's multi interface (the
 * read callback pauses when the caller's chunk is used up: nothing buffered);
 * S3 objects above multipart_threshold go up as multipart parts, each
 * streamed the same way, one after another on one kept connection. S3 is signed with AWS SigV4 (CURLOPT_AWS_SIGV4);
 * libcurl 7.88 signs path and query as written, so both are built canonical.
 * Requests that can be replayed (HEAD, GET, DELETE, POST) are retried on 5xx
 * and transport errors with backoff; streamed PUTs cannot be and fail at once.
 * With threads > 1 a reader keeps a pool of easy handles (each its own
 * connection) for read_at on several threads; a big read is split on a multi
 * handle (mcf__net_split), and S3 parts are buffered, sent on a multi handle
 * and retried each on its own (mcf__job). */
#ifdef MOONCAKE_FILEIO_CURL
#ifdef MCF_NO_POSIX
#error "mooncake_fileio.h: MOONCAKE_FILEIO_CURL needs the POSIX build (remove MCF_NO_POSIX)"
#endif
#include <curl/curl.h>

#define MCF__NET_READAHEAD ((size_t)4 << 10)      /* smallest ranged GET */
#define MCF__NET_CACHE ((size_t)72 << 10)         /* reads up to this size are kept: a zip
                                                     end-record search window (64 KiB + 22) */
#define MCF__NET_ERRBODY 2048                     /* bytes kept of an error answer */
#define MCF__NET_KEEP_MAX ((size_t)1 << 20)       /* cap of a kept (XML) answer */
#define MCF__NET_THREADS_MAX 64u                  /* options.threads above this count as this */

/* Transfer counters (mcf_curl_counters): requests, bytes in, bytes out. */
static uint64_t mcf__net_count[3];
static mcf__mutex mcf__net_lock = MCF__MUTEX_INIT;
static int mcf__net_inited;

static void mcf__net_add(int which, uint64_t v)
{
#if defined(__GNUC__) || defined(__clang__)
    (void)__atomic_fetch_add(&mcf__net_count[which], v, __ATOMIC_RELAXED);
#else
    mcf__lock(&mcf__net_lock);
    mcf__net_count[which] += v;
    mcf__unlock(&mcf__net_lock);
#endif
}

MCFDEF void mcf_curl_counters(uint64_t *requests, uint64_t *bytes_received, uint64_t *bytes_sent)
{
    uint64_t v[3];
    int i;
    for (i = 0; i < 3; i++) {
#if defined(__GNUC__) || defined(__clang__)
        v[i] = __atomic_load_n(&mcf__net_count[i], __ATOMIC_RELAXED);
#else
        mcf__lock(&mcf__net_lock);
        v[i] = mcf__net_count[i];
        mcf__unlock(&mcf__net_lock);
#endif
    }
    if (requests) *requests = v[0];
    if (bytes_received) *bytes_received = v[1];
    if (bytes_sent) *bytes_sent = v[2];
}

/* One request's settings, resolved once per reader/writer/call. */
typedef struct mcf__net {
    CURL *h;
    struct curl_slist *hdrs;    /* sent with every request */
    char *url;                  /* request URL of the object (no query) */
    char *shown;                /* the object for messages: never credentials */
    char *user, *secret;        /* S3 key pair; NULL = unsigned requests */
    char sigv4[96];
    const char *who;            /* "http" or "s3" */
    const char *ca_file;
    int s3, verify, retries, anon;     /* anon: unsigned S3 requests */
    long timeout, connect_timeout;
    uint64_t part_size, threshold;
    unsigned flags, threads;    /* threads: transfers at once, >= 1 */
} mcf__net;

/* One HTTP exchange: what goes up, where the answer goes. */
typedef struct mcf__xfer {
    mcf__net *n;
    CURL *h;                            /* the handle it runs on (n->h unless pooled) */
    const char *method;
    char what[80];                      /* named in messages: "bytes A-B", "part N", or "" */
    const char *url;                    /* NULL = n->url */
    const char *content_type;           /* extra header, or NULL */
    long status;
    char reason[64];
    char etag[160];
    unsigned char *dst;                 /* 2xx body into dst[0..cap) */
    size_t cap, got;
    int overflow;
    int ranged;                         /* a ranged read: dst holds bytes [off, off+cap) */
    uint64_t off, size;                 /* ... of an object of size bytes (at open) */
    size_t room;                        /* 200 answer: keep up to room >= cap bytes */
    uint64_t pos;                       /* 200 answer: body bytes consumed so far */
    uint64_t counted;                   /* 200 answer: body bytes counted (a paused chunk comes again) */
    int hold;                           /* 200 answer: pause once dst is full (else cut) */
    int sizing;                         /* 200 answer at open: size comes from its Content-Length */
    int stopped, grown;                 /* 200 answer: cut once dst was full; or its length is not size */
    char crange[96];                    /* Content-Range of the answer */
    mcf__buf *keep;                     /* or into this buffer (XML answers) */
    char err[MCF__NET_ERRBODY];         /* start of a non-2xx body */
    size_t err_len;
    char curl_err[CURL_ERROR_SIZE];
    const unsigned char *up;            /* replayable request body */
    size_t up_len, up_pos;
    const unsigned char *chunk;         /* streamed body: the caller's chunk */
    size_t chunk_len, chunk_pos;
    int streaming, eof, paused;
} mcf__xfer;

static const char *mcf__sopt(const mcf_options *o, const char *key)
{
    const char *const *p;
    if (!o || !o->storage_options) return NULL;
    for (p = o->storage_options; p[0] && p[1]; p += 2)
        if (strcmp(p[0], key) == 0) return p[1];
    return NULL;
}

static int mcf__net_uint(const char *who, const char *key, const char *v, uint64_t max, uint64_t *out)
{
    uint64_t x = 0;
    const char *p = v;
    if (!*p) return mcf__fail(MCF_INVALID_PARAMS, "%s: storage option %s is empty (want a whole number)", who, key);
    for (; *p; p++) {
        if (*p < '0' || *p > '9' || x > (max - (uint64_t)(*p - '0')) / 10)
            return mcf__fail(MCF_INVALID_PARAMS, "%s: storage option %s=\"%s\" is not a whole number <= %llu", who, key, v, (unsigned long long)max);
        x = x * 10 + (uint64_t)(*p - '0');
    }
    *out = x;
    return MCF_OK;
}

static int mcf__net_bool(const char *who, const char *key, const char *v, int *out)
{
    if (mcf__name_is(v, "1") || mcf__name_is(v, "true") || mcf__name_is(v, "yes") || mcf__name_is(v, "on")) {
        *out = 1;
        return MCF_OK;
    }
    if (mcf__name_is(v, "0") || mcf__name_is(v, "false") || mcf__name_is(v, "no") || mcf__name_is(v, "off")) {
        *out = 0;
        return MCF_OK;
    }
    return mcf__fail(MCF_INVALID_PARAMS, "%s: storage option %s=\"%s\" is not a boolean (0/1/true/false)", who, key, v);
}

/* Percent-encodes s the way S3 canonicalizes a path (SigV4: all but
 * A-Za-z0-9-._~, and '/' when keep_slash), appending to b. */
static void mcf__net_encode(mcf__buf *b, const char *s, int keep_slash)
{
    static const char hex[] = "0123456789ABCDEF";
    for (; *s; s++) {
        unsigned char c = (unsigned char)*s;
        if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
            c == '-' || c == '.' || c == '_' || c == '~' || (c == '/' && keep_slash)) {
            mcf__buf_putc(b, c);
        } else {
            mcf__buf_putc(b, '%');
            mcf__buf_putc(b, (unsigned char)hex[c >> 4]);
            mcf__buf_putc(b, (unsigned char)hex[c & 15]);
        }
    }
}

static char *mcf__buf_cstr(mcf__buf *b)
{
    char *s;
    mcf__buf_putc(b, 0);
    if (b->failed) {
        mcf__buf_free(b);
        return NULL;
    }
    s = (char *)b->data;
    b->data = NULL;
    b->len = b->cap = 0;
    return s;
}

static void mcf__net_free(mcf__net *n)
{
    const char *who = n->who;   /* kept: messages name the backend after a failed init */
    if (n->h) curl_easy_cleanup(n->h);
    if (n->hdrs) curl_slist_free_all(n->hdrs);
    MCF_FREE(n->url);
    MCF_FREE(n->shown);
    MCF_FREE(n->user);
    MCF_FREE(n->secret);
    memset(n, 0, sizeof *n);
    n->who = who;
}

static int mcf__net_header(mcf__net *n, const char *line, size_t len)
{
    char *s = mcf__strndup(line, len);
    struct curl_slist *l;
    if (!s) return 0;
    l = curl_slist_append(n->hdrs, s);
    MCF_FREE(s);
    if (!l) return 0;
    n->hdrs = l;
    return 1;
}

/* Fails unless every storage option is a key this backend reads, with a value. */
static int mcf__net_check_keys(const mcf__net *n, const mcf_options *o)
{
    static const char *const known_http[] = { "headers", "bearer_token", "timeout", "connect_timeout", "verify_tls", "ca_file", "retries", "part_size", NULL };
    static const char *const known_s3[] = { "headers", "timeout", "connect_timeout", "verify_tls", "ca_file", "retries",
                                            "key", "secret", "token", "region", "endpoint_url", "anon", "multipart_threshold", "part_size", NULL };
    const char *const *known = n->s3 ? known_s3 : known_http, *const *p;
    int i;
    if (!o || !o->storage_options) return MCF_OK;
    for (p = o->storage_options; p[0]; p += 2) {
        if (!p[1]) return mcf__fail(MCF_INVALID_PARAMS, "%s: storage option \"%s\" has no value (the list is key, value, ..., NULL)", n->who, p[0]);
        for (i = 0; known[i] && strcmp(known[i], p[0]) != 0; i++) { }
        if (!known[i])
            return mcf__fail(MCF_INVALID_PARAMS, "%s: unknown storage option \"%s\" (valid: %s)", n->who, p[0],
                             n->s3 ? "key, secret, token, region, endpoint_url, anon, multipart_threshold, part_size, headers, timeout, connect_timeout, verify_tls, ca_file, retries"
                                   : "headers, bearer_token, timeout, connect_timeout, verify_tls, ca_file, retries, part_size");
    }
    return MCF_OK;
}

/* The numeric and boolean storage options (absent ones keep the defaults). */
static int mcf__net_numbers(mcf__net *n, const mcf_options *o)
{
    const char *v;
    uint64_t x;
    int rc = MCF_OK;
    if (rc == MCF_OK && (v = mcf__sopt(o, "timeout")) != NULL && (rc = mcf__net_uint(n->who, "timeout", v, 86400u * 365, &x)) == MCF_OK)
        n->timeout = (long)x;
    if (rc == MCF_OK && (v = mcf__sopt(o, "connect_timeout")) != NULL && (rc = mcf__net_uint(n->who, "connect_timeout", v, 86400u, &x)) == MCF_OK)
        n->connect_timeout = (long)x;
    if (rc == MCF_OK && (v = mcf__sopt(o, "retries")) != NULL && (rc = mcf__net_uint(n->who, "retries", v, 20, &x)) == MCF_OK)
        n->retries = (int)x;
    if (rc == MCF_OK && (v = mcf__sopt(o, "verify_tls")) != NULL) rc = mcf__net_bool(n->who, "verify_tls", v, &n->verify);
    if (rc == MCF_OK && (v = mcf__sopt(o, "anon")) != NULL) rc = mcf__net_bool(n->who, "anon", v, &n->anon);
    if (rc == MCF_OK && (v = mcf__sopt(o, "part_size")) != NULL) {
        rc = mcf__net_uint(n->who, "part_size", v, (uint64_t)5 << 30, &n->part_size);
        if (rc == MCF_OK && n->part_size == 0) rc = mcf__fail(MCF_INVALID_PARAMS, "%s: storage option part_size must be at least 1 byte", n->who);
    }
    n->threshold = n->part_size;
    if (rc == MCF_OK && (v = mcf__sopt(o, "multipart_threshold")) != NULL)
        rc = mcf__net_uint(n->who, "multipart_threshold", v, UINT64_MAX - 1, &n->threshold);
    n->ca_file = mcf__sopt(o, "ca_file");
    return rc;
}

/* The headers storage option: "Name: value" lines sent with every request. */
static int mcf__net_headers(mcf__net *n, const mcf_options *o)
{
    const char *v = mcf__sopt(o, "headers");
    while (v && *v) {
        size_t len = strcspn(v, "\n"), l = len;
        const char *colon;
        while (l > 0 && (v[l - 1] == '\r' || v[l - 1] == ' ')) l--;
        if (l > 0) {   /* blank lines are skipped */
            colon = (const char *)memchr(v, ':', l);
            if (!colon || colon == v)
                return mcf__fail(MCF_INVALID_PARAMS, "%s: storage option headers: a line is not \"Name: value\"", n->who);
            if (!mcf__net_header(n, v, l)) return mcf__fail(MCF_INTERNAL_ERROR, "%s: out of memory", n->who);
        }
        v += len;
        if (*v == '\n') v++;
    }
    return MCF_OK;
}

/* Appends the header prefix + value (NULL value: nothing). 0 when out of memory. */
static int mcf__net_header2(mcf__net *n, const char *prefix, const char *value)
{
    mcf__buf b;
    int ok;
    if (!value) return 1;
    memset(&b, 0, sizeof b);
    mcf__buf_puts(&b, prefix);
    mcf__buf_puts(&b, value);
    ok = !b.failed && mcf__net_header(n, (const char *)b.data, b.len);
    mcf__buf_free(&b);
    return ok;
}

/* http(s): the bearer token, and the URL shown in messages without its
 * query (presigned URLs carry signatures in it; the request keeps it). */
static int mcf__net_http(mcf__net *n, const mcf_url *u, const mcf_options *o)
{
    mcf__buf b;
    if (!mcf__net_header2(n, "Authorization: Bearer ", mcf__sopt(o, "bearer_token"))) return mcf__fail(MCF_INTERNAL_ERROR, "http: %.*s: out of memory", (int)strcspn(u->url, "?"), u->url);
    memset(&b, 0, sizeof b);
    n->url = mcf__strdup(u->url);
    mcf__buf_puts(&b, u->url);
    if (*u->query && !b.failed) {
        b.len -= strlen(u->query) + 1;
        mcf__buf_puts(&b, "?...");
    }
    n->shown = mcf__buf_cstr(&b);
    if (!n->url || !n->shown) return mcf__fail(MCF_INTERNAL_ERROR, "http: %.*s: out of memory", (int)strcspn(u->url, "?"), u->url);
    return MCF_OK;
}

/* The first non-empty of a storage option and two environment variables,
 * else fallback. */
static const char *mcf__net_setting(const mcf_options *o, const char *key, const char *env1, const char *env2, const char *fallback)
{
    const char *v = mcf__sopt(o, key);
    if (!v || !*v) v = env1 ? getenv(env1) : NULL;
    if (!v || !*v) v = env2 ? getenv(env2) : NULL;
    return v && *v ? v : fallback;
}

/* S3 request URL into b: a custom endpoint path-style, else AWS's
 * virtual-hosted style; the key percent-encoded as SigV4 canonicalizes it. */
static int mcf__net_s3_url(mcf__buf *b, const mcf_url *u, const char *region, const char *endpoint)
{
    if (endpoint) {
        size_t el = strlen(endpoint);
        if (strncmp(endpoint, "http://", 7) != 0 && strncmp(endpoint, "https://", 8) != 0)
            return mcf__fail(MCF_INVALID_PARAMS, "s3: endpoint_url \"%s\" must start with http:// or https://", endpoint);
        if (strchr(endpoint, '@')) return mcf__fail(MCF_INVALID_PARAMS, "s3: endpoint_url must not carry credentials");
        while (el > 0 && endpoint[el - 1] == '/') el--;
        mcf__buf_put(b, endpoint, el);
        mcf__buf_putc(b, '/');
        mcf__net_encode(b, u->host, 0);
    } else {
        mcf__buf_puts(b, "https://");
        mcf__buf_puts(b, u->host);
        mcf__buf_puts(b, ".s3.");
        mcf__buf_puts(b, region);
        mcf__buf_puts(b, ".amazonaws.com");
    }
    mcf__buf_putc(b, '/');
    mcf__net_encode(b, u->path, 1);
    return MCF_OK;
}

/* s3: credentials (storage options, else the standard AWS environment),
 * region, endpoint, the request URL and SigV4 settings. */
static int mcf__net_s3(mcf__net *n, const mcf_url *u, const mcf_options *o)
{
    const char *key, *secret, *token, *region, *endpoint;
    mcf__buf b;
    int i, rc;
    if (mcf__sopt(o, "key") || mcf__sopt(o, "secret")) {
        key = mcf__sopt(o, "key");
        secret = mcf__sopt(o, "secret");
        token = mcf__sopt(o, "token");
    } else {
        key = getenv("AWS_ACCESS_KEY_ID");
        secret = getenv("AWS_SECRET_ACCESS_KEY");
        token = getenv("AWS_SESSION_TOKEN");
    }
    if (key && !*key) key = NULL;
    if (!n->anon && (key != NULL) != (secret != NULL && *secret))
        return mcf__fail(MCF_INVALID_PARAMS, "s3: %s: an access key needs its secret and vice versa", u->url);
    region = mcf__net_setting(o, "region", "AWS_REGION", "AWS_DEFAULT_REGION", "us-east-1");
    for (i = 0; region[i]; i++)
        if (!((region[i] >= 'a' && region[i] <= 'z') || (region[i] >= '0' && region[i] <= '9') || region[i] == '-') || i > 40)
            return mcf__fail(MCF_INVALID_PARAMS, "s3: region \"%.48s\" is not a region name (a-z, 0-9, '-')", region);
    endpoint = mcf__net_setting(o, "endpoint_url", "AWS_ENDPOINT_URL_S3", "AWS_ENDPOINT_URL", NULL);
    memset(&b, 0, sizeof b);
    if ((rc = mcf__net_s3_url(&b, u, region, endpoint)) != MCF_OK) {
        mcf__buf_free(&b);
        return rc;
    }
    n->url = mcf__buf_cstr(&b);
    mcf__buf_puts(&b, u->url);
    mcf__buf_puts(&b, " (");
    if (n->url) mcf__buf_puts(&b, n->url);
    mcf__buf_puts(&b, ")");
    n->shown = mcf__buf_cstr(&b);
    (void)snprintf(n->sigv4, sizeof n->sigv4, "aws:amz:%s:s3", region);
    /* libcurl 7.88 does not add the payload hash header; S3 requires it */
    if (!mcf__net_header(n, "x-amz-content-sha256: UNSIGNED-PAYLOAD", 38)) return mcf__fail(MCF_INTERNAL_ERROR, "s3: %s: out of memory", u->url);
    if (!n->anon && key) {
        n->user = mcf__strdup(key);
        n->secret = mcf__strdup(secret);
        if (token && *token && !mcf__net_header2(n, "x-amz-security-token: ", token)) {
            MCF_FREE(n->user);
            n->user = NULL;
        }
        if (!n->user || !n->secret) return mcf__fail(MCF_INTERNAL_ERROR, "s3: %s: out of memory", u->url);
    }
    if (!n->url || !n->shown) return mcf__fail(MCF_INTERNAL_ERROR, "s3: %s: out of memory", u->url);
    return MCF_OK;
}

/* curl_global_init once per process (not thread-safe before libcurl 7.84),
 * then this request's handle. */
static int mcf__net_handle(mcf__net *n, const mcf_url *u)
{
    int inited;
    mcf__lock(&mcf__net_lock);
    if (!mcf__net_inited && curl_global_init(CURL_GLOBAL_ALL) == CURLE_OK) mcf__net_inited = 1;
    inited = mcf__net_inited;
    mcf__unlock(&mcf__net_lock);
    if (!inited) return mcf__fail(MCF_INTERNAL_ERROR, "%s: curl_global_init failed", n->who);
    if (!(n->h = curl_easy_init())) return mcf__fail(MCF_INTERNAL_ERROR, "%s: curl_easy_init failed", u->url);
    return MCF_OK;
}

/* Resolves storage_options (and the AWS_* environment for s3) for url u.
 * On failure n holds nothing to free. */
static int mcf__net_init(mcf__net *n, const mcf_url *u, const mcf_options *o)
{
    int rc;
    memset(n, 0, sizeof *n);
    n->s3 = strcmp(u->scheme, "s3") == 0 || strcmp(u->scheme, "s3a") == 0;
    n->who = n->s3 ? "s3" : "http";
    n->verify = 1;
    n->retries = 3;
    n->connect_timeout = 30;
    n->part_size = MCF_NET_PART_SIZE;
    n->flags = o ? o->flags : 0;
    n->threads = !o || o->threads < 1 ? 1 : o->threads > MCF__NET_THREADS_MAX ? MCF__NET_THREADS_MAX : o->threads;
    rc = mcf__net_check_keys(n, o);
    if (rc == MCF_OK) rc = mcf__net_numbers(n, o);
    if (rc == MCF_OK) rc = mcf__net_headers(n, o);
    if (rc == MCF_OK) rc = n->s3 ? mcf__net_s3(n, u, o) : mcf__net_http(n, u, o);
    if (rc == MCF_OK) rc = mcf__net_handle(n, u);
    if (rc != MCF_OK) mcf__net_free(n);
    return rc;
}

/* ---- callbacks ---- */
/* Whether header line p[0..n) is the field name (lower case, with ':'). */
static int mcf__net_field_is(const char *p, size_t n, const char *name)
{
    size_t i, k = strlen(name);
    if (n <= k) return 0;
    for (i = 0; i < k; i++)
        if (mcf__lower(p[i]) != name[i]) return 0;
    return 1;
}

/* The value of header line p[0..n) after its name of name_len bytes:
 * leading blanks and the trailing CR, LF and spaces left out; *k bytes. */
static const char *mcf__net_field_value(const char *p, size_t n, size_t name_len, size_t *k)
{
    const char *s = p + name_len;
    *k = n - name_len;
    while (*k > 0 && (*s == ' ' || *s == '\t')) {
        s++;
        (*k)--;
    }
    while (*k > 0 && (s[*k - 1] == '\r' || s[*k - 1] == '\n' || s[*k - 1] == ' ')) (*k)--;
    return s;
}

/* Parses a Content-Range value "bytes FIRST-LAST/TOTAL" (TOTAL may be "*",
 * given as UINT64_MAX). RFC 9110 section 14.4. */
static int mcf__net_parse_crange(const char *s, uint64_t *first, uint64_t *last, uint64_t *total)
{
    uint64_t v[3];
    int i;
    if (mcf__lower(s[0]) != 'b' || mcf__lower(s[1]) != 'y' || mcf__lower(s[2]) != 't' || mcf__lower(s[3]) != 'e' ||
        mcf__lower(s[4]) != 's' || s[5] != ' ')
        return 0;
    s += 6;
    for (i = 0; i < 3; i++) {
        if (i == 2 && *s == '*') {
            v[2] = UINT64_MAX;
            s++;
            break;
        }
        if (*s < '0' || *s > '9') return 0;
        for (v[i] = 0; *s >= '0' && *s <= '9'; s++) {
            if (v[i] > (UINT64_MAX - 1 - (uint64_t)(*s - '0')) / 10) return 0;
            v[i] = v[i] * 10 + (uint64_t)(*s - '0');
        }
        if (i < 2 && *s++ != (i == 0 ? '-' : '/')) return 0;
    }
    if (*s != '\0' || v[1] < v[0]) return 0;
    *first = v[0]; *last = v[1]; *total = v[2];
    return 1;
}

static size_t mcf__net_on_header(char *p, size_t size, size_t nitems, void *user)
{
    mcf__xfer *x = (mcf__xfer *)user;
    size_t n = size * nitems, k, i;
    mcf__net_add(1, n);
    if (n > 5 && memcmp(p, "HTTP/", 5) == 0) {   /* a new status line (after 100 Continue too) */
        const char *s = (const char *)memchr(p, ' ', n);
        x->etag[0] = '\0';
        x->reason[0] = '\0';
        x->crange[0] = '\0';
        if (s && (size_t)(s - p) + 4 <= n) {
            s++;
            while (s < p + n && *s >= '0' && *s <= '9') s++;   /* skip the status number */
            while (s < p + n && *s == ' ') s++;
            k = n - (size_t)(s - p);
            while (k > 0 && (s[k - 1] == '\r' || s[k - 1] == '\n')) k--;
            (void)snprintf(x->reason, sizeof x->reason, "%.*s", (int)k, s);
        }
    } else if (mcf__net_field_is(p, n, "etag:")) {
        const char *s = mcf__net_field_value(p, n, 5, &k);
        if (k < sizeof x->etag) {
            memcpy(x->etag, s, k);
            x->etag[k] = '\0';
        }
    } else if (mcf__net_field_is(p, n, "content-range:")) {
        const char *s = mcf__net_field_value(p, n, 14, &k);
        if (k >= sizeof x->crange) k = sizeof x->crange - 1;   /* too long to be valid: fails the parse */
        for (i = 0; i < k; i++) x->crange[i] = (s[i] >= ' ' && s[i] != 0x7f) ? s[i] : '?';
        x->crange[k] = '\0';
    } else if (x->sizing && (p[0] == '\r' || p[0] == '\n')) {
        /* the end of the open's answer head: a 206 that calls the object
         * empty has no bytes to send, whatever its Content-Length claims
         * (s3rver sends "bytes 0-0/0" and a length of 1): cut it here */
        uint64_t first, last, total;
        long status = 0;
        (void)curl_easy_getinfo(x->h, CURLINFO_RESPONSE_CODE, &status);
        if (status == 206 && mcf__net_parse_crange(x->crange, &first, &last, &total) && total == 0) {
            x->stopped = 1;
            return 0;
        }
    }
    return n;
}

/* A 200 answer to a ranged read: the server ignored Range and sends the
 * whole object from byte 0. Skips to off + got, keeps up to room bytes,
 * then cuts the transfer, or pauses it if it is held for the next read
 * (curl then delivers the chunk again); either way nothing beyond dst is
 * buffered. */
static size_t mcf__net_on_whole(mcf__xfer *x, const char *p, size_t n)
{
    uint64_t at = x->pos, need = x->off + x->got;
    curl_off_t len = -1;
    size_t from, k;
    if (at + n > x->counted) {
        mcf__net_add(1, at + n - x->counted);
        x->counted = at + n;
    }
    if (at == 0) (void)curl_easy_getinfo(x->h, CURLINFO_CONTENT_LENGTH_DOWNLOAD_T, &len);
    if (x->sizing) {   /* the open's GET: the size is the whole object's length */
        if (len < 0) {
            x->stopped = 1;   /* unknown length: the opener fails it */
            return 0;
        }
        x->sizing = 0;
        x->size = (uint64_t)len;
        if ((uint64_t)x->cap > x->size) x->cap = x->room = (size_t)x->size;
    }
    if ((len >= 0 && (uint64_t)len != x->size) || at + n > x->size) {
        x->grown = 1;
        return 0;
    }
    MCF_ASSERT(need >= at);
    if (x->dst && x->got < x->room) {
        if (at + n <= need) {
            x->pos += n;
            return n;
        }
        from = (size_t)(need - at);
        k = n - from < x->room - x->got ? n - from : x->room - x->got;
        memcpy(x->dst + x->got, p + from, k);
        x->got += k;
        if (from + k == n && (x->got < x->room || x->hold || x->pos + n == x->size)) {
            x->pos += n;
            return n;
        }
    }
    if (x->hold) {
        x->paused = 1;
        return CURL_WRITEFUNC_PAUSE;
    }
    x->stopped = 1;
    return 0;
}

/* A 2xx body into dst (at most cap bytes) or into the keep buffer. */
static size_t mcf__net_on_ok(mcf__xfer *x, const char *p, size_t n)
{
    if (x->hold) return 0;   /* a held GET (no Range sent) takes only a 200 */
    if (x->dst) {
        if (n > x->cap - x->got) {   /* more than asked: stop */
            x->overflow = 1;
            return 0;
        }
        memcpy(x->dst + x->got, p, n);
        x->got += n;
    } else if (x->keep) {
        if (n > MCF__NET_KEEP_MAX - x->keep->len) {
            x->overflow = 1;
            return 0;
        }
        mcf__buf_put(x->keep, p, n);
    }
    return n;
}

static size_t mcf__net_on_body(char *p, size_t size, size_t nitems, void *user)
{
    mcf__xfer *x = (mcf__xfer *)user;
    size_t n = size * nitems, k;
    long status = 0;
    (void)curl_easy_getinfo(x->h, CURLINFO_RESPONSE_CODE, &status);
    if (status == 200 && x->ranged) return mcf__net_on_whole(x, p, n);
    mcf__net_add(1, n);
    if (status >= 200 && status < 300) return mcf__net_on_ok(x, p, n);
    /* an error answer: its start is kept for the message */
    if (x->err_len + 1 < sizeof x->err) {
        k = sizeof x->err - 1 - x->err_len;
        if (k > n) k = n;
        memcpy(x->err + x->err_len, p, k);
        x->err_len += k;
        x->err[x->err_len] = '\0';
    }
    return n;
}

static size_t mcf__net_on_send(char *p, size_t size, size_t nitems, void *user)
{
    mcf__xfer *x = (mcf__xfer *)user;
    size_t room = size * nitems, k;
    if (x->streaming) {
        if (x->chunk_pos < x->chunk_len) {
            k = x->chunk_len - x->chunk_pos < room ? x->chunk_len - x->chunk_pos : room;
            memcpy(p, x->chunk + x->chunk_pos, k);
            x->chunk_pos += k;
            mcf__net_add(2, k);
            return k;
        }
        if (x->eof) return 0;
        x->paused = 1;               /* the caller's next write() resumes us */
        return CURL_READFUNC_PAUSE;
    }
    k = x->up_len - x->up_pos < room ? x->up_len - x->up_pos : room;
    if (k) memcpy(p, x->up + x->up_pos, k);
    x->up_pos += k;
    mcf__net_add(2, k);
    return k;
}

/* Clears what the previous exchange on x left. */
static void mcf__xfer_reset(mcf__xfer *x)
{
    x->status = 0;
    x->reason[0] = '\0';
    x->etag[0] = '\0';
    x->got = 0;
    x->overflow = 0;
    x->err_len = 0;
    x->err[0] = '\0';
    x->curl_err[0] = '\0';
    x->up_pos = 0;
    x->pos = 0;
    x->counted = 0;
    x->stopped = 0;
    x->grown = 0;
    x->paused = 0;
    x->crange[0] = '\0';
    if (x->keep) x->keep->len = 0;
}

/* The method's options: HEAD, PUT and POST (with body bytes, -1 = none, -2 =
 * unknown: chunked), GET, or a custom one. */
static void mcf__net_setup_method(mcf__xfer *x, CURL *h, int64_t body)
{
    if (strcmp(x->method, "HEAD") == 0) {
        (void)curl_easy_setopt(h, CURLOPT_NOBODY, 1L);
    } else if (strcmp(x->method, "PUT") == 0) {
        (void)curl_easy_setopt(h, CURLOPT_UPLOAD, 1L);
        (void)curl_easy_setopt(h, CURLOPT_READFUNCTION, mcf__net_on_send);
        (void)curl_easy_setopt(h, CURLOPT_READDATA, (void *)x);
        (void)curl_easy_setopt(h, CURLOPT_INFILESIZE_LARGE, (curl_off_t)(body < 0 ? -1 : body));
        (void)curl_easy_setopt(h, CURLOPT_UPLOAD_BUFFERSIZE, 256L * 1024L);
    } else if (strcmp(x->method, "POST") == 0) {
        (void)curl_easy_setopt(h, CURLOPT_POST, 1L);
        (void)curl_easy_setopt(h, CURLOPT_READFUNCTION, mcf__net_on_send);
        (void)curl_easy_setopt(h, CURLOPT_READDATA, (void *)x);
        (void)curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)(body < 0 ? 0 : body));
    } else if (strcmp(x->method, "GET") != 0) {
        (void)curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, x->method);
    }
}

/* Prepares n->h for x. body: -1 = no body; otherwise the upload size
 * (-2 = unknown, chunked). Returns the per-request header list to free. */
static int mcf__net_setup(mcf__xfer *x, const char *range, int64_t body, struct curl_slist **extra)
{
    mcf__net *n = x->n;
    CURL *h = x->h;
    struct curl_slist *hl = n->hdrs, *it;
    mcf__xfer_reset(x);
    *extra = NULL;
    if (x->content_type) {
        char line[128];
        for (it = n->hdrs; it; it = it->next)
            if (!(*extra = curl_slist_append(*extra, it->data))) return 0;
        (void)snprintf(line, sizeof line, "Content-Type: %s", x->content_type);
        if (!(it = curl_slist_append(*extra, line))) return 0;
        *extra = hl = it;
    }
    curl_easy_reset(h);   /* keeps the connection cache: the next request reuses the socket */
    (void)curl_easy_setopt(h, CURLOPT_URL, x->url ? x->url : n->url);
    (void)curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
    (void)curl_easy_setopt(h, CURLOPT_ERRORBUFFER, x->curl_err);
    (void)curl_easy_setopt(h, CURLOPT_HEADERFUNCTION, mcf__net_on_header);
    (void)curl_easy_setopt(h, CURLOPT_HEADERDATA, (void *)x);
    (void)curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, mcf__net_on_body);
    (void)curl_easy_setopt(h, CURLOPT_WRITEDATA, (void *)x);
    (void)curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT, n->connect_timeout);
    if (n->timeout) (void)curl_easy_setopt(h, CURLOPT_TIMEOUT, n->timeout);
    /* a stalled transfer fails instead of hanging (also without a timeout) */
    (void)curl_easy_setopt(h, CURLOPT_LOW_SPEED_LIMIT, 1L);
    (void)curl_easy_setopt(h, CURLOPT_LOW_SPEED_TIME, 120L);
    if (!n->verify) {
        (void)curl_easy_setopt(h, CURLOPT_SSL_VERIFYPEER, 0L);
        (void)curl_easy_setopt(h, CURLOPT_SSL_VERIFYHOST, 0L);
    }
    if (n->ca_file) (void)curl_easy_setopt(h, CURLOPT_CAINFO, n->ca_file);
    if (hl) (void)curl_easy_setopt(h, CURLOPT_HTTPHEADER, hl);
    if (n->user) {
        (void)curl_easy_setopt(h, CURLOPT_AWS_SIGV4, n->sigv4);
        (void)curl_easy_setopt(h, CURLOPT_USERNAME, n->user);
        (void)curl_easy_setopt(h, CURLOPT_PASSWORD, n->secret);
    }
    mcf__net_setup_method(x, h, body);
    if (range) (void)curl_easy_setopt(h, CURLOPT_RANGE, range);
    mcf__net_add(0, 1);
    return 1;
}

/* Copies the text of <tag>...</tag> from an S3 XML error body. */
static void mcf__net_xml(const char *xml, const char *tag, char *out, size_t cap)
{
    char open[32], close[32];
    const char *a, *b;
    size_t k, i;
    out[0] = '\0';
    (void)snprintf(open, sizeof open, "<%s>", tag);
    (void)snprintf(close, sizeof close, "</%s>", tag);
    if (!(a = strstr(xml, open))) return;
    a += strlen(open);
    if (!(b = strstr(a, close))) return;
    k = (size_t)(b - a) < cap - 1 ? (size_t)(b - a) : cap - 1;
    for (i = 0; i < k; i++) out[i] = (a[i] >= ' ' && a[i] != 0x7f) ? a[i] : ' ';
    out[k] = '\0';
}

/* Turns a finished exchange into a result code and sentence:
 * 404 FILE_NOT_FOUND, 401/403 PERMISSION_DENIED, 416 FILE_READ_FAIL, 5xx
 * PERSISTENT_FAIL; other failures get `fallback`. */
static int mcf__net_result(mcf__xfer *x, CURLcode cc, int attempts, int fallback)
{
    mcf__net *n = x->n;
    char code[96], msg[320], tries[48] = "";
    const char *label;
    const char *what = x->url && x->url != n->url ? strchr(x->url, '?') : NULL, *sp = x->what[0] ? " " : "";
    int rc;
    if (attempts > 1) (void)snprintf(tries, sizeof tries, " (gave up after %d attempts)", attempts);
    if (cc != CURLE_OK && x->status < 300) {
        if (x->overflow)
            return mcf__fail(MCF_FILE_READ_FAIL, "%s: %s %s%s%s%s: the server sent more bytes than were asked for (%lu)",
                             n->who, x->method, n->shown, what ? what : "", sp, x->what, (unsigned long)x->cap);
        if (x->grown)
            return mcf__fail(MCF_FILE_READ_FAIL, "%s: %s %s%s%s%s: the server ignored Range, and the whole object it sends is not "
                             "the %llu bytes it had when opened (changed since?)", n->who, x->method, n->shown, what ? what : "", sp, x->what,
                             (unsigned long long)x->size);
        rc = cc == CURLE_OPERATION_TIMEDOUT ? MCF_PERSISTENT_FAIL : fallback;
        return mcf__fail(rc, "%s: %s %s%s%s%s: %s%s%s%s", n->who, x->method, n->shown, what ? what : "", sp, x->what, curl_easy_strerror(cc),
                         x->curl_err[0] ? " (" : "", x->curl_err, x->curl_err[0] ? ")" : "");
    }
    if (x->status >= 200 && x->status < 300) return MCF_OK;
    mcf__net_xml(x->err, "Code", code, sizeof code);
    mcf__net_xml(x->err, "Message", msg, sizeof msg);
    if (x->status == 404) rc = MCF_FILE_NOT_FOUND;
    else if (x->status == 401 || x->status == 403) rc = MCF_PERMISSION_DENIED;
    else if (x->status == 416) rc = MCF_FILE_READ_FAIL;
    else if (x->status >= 500) rc = MCF_PERSISTENT_FAIL;
    else rc = fallback;
    label = code[0] ? code : x->reason[0] ? x->reason : "(no error body)";
    return mcf__fail(rc, "%s: %s %s%s%s%s: HTTP %ld %s%s%s%s", n->who, x->method, n->shown, what ? what : "", sp, x->what, x->status,
                     label, msg[0] ? ": " : "", msg, tries);
}

static void mcf__net_sleep_ms(long ms)
{
    struct timespec ts;
    ts.tv_sec = ms / 1000;
    ts.tv_nsec = (ms % 1000) * 1000000L;
    while (nanosleep(&ts, &ts) != 0 && errno == EINTR) { }
}

static int mcf__net_retryable(CURLcode cc, long status)
{
    if (cc == CURLE_OK) return status >= 500;
    return cc == CURLE_COULDNT_CONNECT || cc == CURLE_SEND_ERROR || cc == CURLE_RECV_ERROR ||
           cc == CURLE_GOT_NOTHING || cc == CURLE_PARTIAL_FILE || cc == CURLE_OPERATION_TIMEDOUT;
}

/* Runs a replayable exchange, retrying 5xx and transport errors with
 * exponential backoff (100 ms, 200 ms, ... capped at 5 s). */
static int mcf__net_perform(mcf__xfer *x, const char *range, int64_t body, int fallback)
{
    struct curl_slist *extra = NULL;
    CURLcode cc = CURLE_OK;
    int attempts = 0;
    long delay = 100;
    for (;;) {
        attempts++;
        if (!mcf__net_setup(x, range, body, &extra)) {
            curl_slist_free_all(extra);
            return mcf__fail(MCF_INTERNAL_ERROR, "%s: out of memory", x->n->who);
        }
        cc = curl_easy_perform(x->h);
        curl_slist_free_all(extra);
        extra = NULL;
        (void)curl_easy_getinfo(x->h, CURLINFO_RESPONSE_CODE, &x->status);
        if (x->stopped && cc == CURLE_WRITE_ERROR) cc = CURLE_OK;   /* we cut it: all we wanted arrived */
        if (x->overflow || x->grown || !mcf__net_retryable(cc, x->status) || attempts > x->n->retries) break;
        mcf__net_sleep_ms(delay);
        delay = delay * 2 > 5000 ? 5000 : delay * 2;
    }
    return mcf__net_result(x, cc, attempts, fallback);
}

static void mcf__xfer_init(mcf__xfer *x, mcf__net *n, const char *method)
{
    memset(x, 0, sizeof *x);
    x->n = n;
    x->h = n->h;
    x->method = method;
}

/* HEAD: size of the object. S3 answers a refused HEAD without a body, so a
 * 400/403 is repeated as a one-byte GET to learn the error code for the message. */
static int mcf__net_head(mcf__net *n, uint64_t *size, int fallback)
{
    mcf__xfer x;
    curl_off_t len = -1;
    int rc;
    mcf__xfer_init(&x, n, "HEAD");
    rc = mcf__net_perform(&x, NULL, -1, fallback);
    if (rc != MCF_OK) {
        if (n->s3 && (x.status == 403 || x.status == 400)) {
            mcf__xfer g;
            unsigned char one[1];
            char saved[MCF_ERROR_MAX];
            memcpy(saved, mcf__error_text, sizeof saved);
            mcf__xfer_init(&g, n, "GET");
            g.dst = one;
            g.cap = 1;
            if (mcf__net_perform(&g, "0-0", -1, fallback) != MCF_OK && g.status == x.status && g.err_len) return mcf__net_result(&g, CURLE_OK, 1, fallback);
            memcpy(mcf__error_text, saved, sizeof saved);
        }
        return rc;
    }
    (void)curl_easy_getinfo(x.h, CURLINFO_CONTENT_LENGTH_DOWNLOAD_T, &len);
    if (len < 0) return mcf__fail(MCF_NOT_SUPPORTED, "%s: HEAD %s: the server sent no Content-Length, so the size is unknown", n->who, n->shown);
    *size = (uint64_t)len;
    return MCF_OK;
}

/* ---- transfers in parallel ---- */
/* A transfer run on a multi handle with its own retries: a piece of a split
 * read, a part of a parallel multipart upload. Replayable only (a ranged GET,
 * a buffered part), so a 5xx or a broken connection runs it again with the
 * same backoff as mcf__net_perform. */
typedef struct mcf__job {
    mcf__xfer x;                 /* x.h: the job's handle */
    char range[64];              /* a ranged GET's range, else "" */
    int64_t body;                /* request body bytes (x.up), -1 = none */
    struct curl_slist *extra;
    int attempts, state;         /* state: 0 idle, 1 running, 2 waiting to run again */
    long delay;                  /* the next backoff, ms */
    uint64_t retry_at;           /* when it runs again (mcf__net_ms) */
    uint64_t tag;                /* the caller's: a piece's offset, a part's number */
} mcf__job;

static uint64_t mcf__net_ms(void)
{
    struct timespec ts;
    (void)clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

/* Sends the job (again); its attempts counted. */
static int mcf__job_start(CURLM *m, mcf__job *j)
{
    j->attempts++;
    if (j->attempts == 1) j->delay = 100;
    if (!mcf__net_setup(&j->x, j->range[0] ? j->range : NULL, j->body, &j->extra)) {
        curl_slist_free_all(j->extra);
        j->extra = NULL;
        return mcf__fail(MCF_INTERNAL_ERROR, "%s: out of memory", j->x.n->who);
    }
    if (curl_multi_add_handle(m, j->x.h) != CURLM_OK) {
        curl_slist_free_all(j->extra);
        j->extra = NULL;
        return mcf__fail(MCF_INTERNAL_ERROR, "%s: curl_multi_add_handle failed", j->x.n->who);
    }
    j->state = 1;
    return MCF_OK;
}

/* Takes the job off m (a running transfer is cut: its connection closes). */
static void mcf__job_stop(CURLM *m, mcf__job *j)
{
    if (j->state == 1) (void)curl_multi_remove_handle(m, j->x.h);
    curl_slist_free_all(j->extra);
    j->extra = NULL;
    j->state = 0;
}

/* An ended transfer: 1 when it is done for good (*rc its result), 0 when it
 * waits to run again. */
static int mcf__job_ended(CURLM *m, mcf__job *j, CURLcode cc, int fallback, int *rc)
{
    (void)curl_easy_getinfo(j->x.h, CURLINFO_RESPONSE_CODE, &j->x.status);
    if (j->x.stopped && cc == CURLE_WRITE_ERROR) cc = CURLE_OK;   /* cut by us: all we wanted arrived */
    mcf__job_stop(m, j);
    if (!j->x.overflow && !j->x.grown && mcf__net_retryable(cc, j->x.status) && j->attempts <= j->x.n->retries) {
        j->state = 2;
        j->retry_at = mcf__net_ms() + (uint64_t)j->delay;
        j->delay = j->delay * 2 > 5000 ? 5000 : j->delay * 2;
        return 0;
    }
    *rc = mcf__net_result(&j->x, cc, j->attempts, fallback);
    return 1;
}

/* Runs the jobs on m until one of them is done for good and returns its
 * index, *rc its result; -1 when none is running or waiting (or, with wait 0,
 * when none ended in one step). */
static long mcf__jobs_next(CURLM *m, mcf__job *jobs, size_t n, int fallback, int wait, int *rc)
{
    for (;;) {
        uint64_t now = mcf__net_ms(), soon = 100;
        CURLMsg *msg;
        int running = 0, queued, busy = 0;
        size_t i;
        for (i = 0; i < n; i++) {
            if (jobs[i].state != 2) continue;
            if (jobs[i].retry_at <= now) {
                if ((*rc = mcf__job_start(m, &jobs[i])) != MCF_OK) return (long)i;
            } else if (jobs[i].retry_at - now < soon) {
                soon = jobs[i].retry_at - now;
            }
        }
        if (curl_multi_perform(m, &running) != CURLM_OK) {
            for (i = 0; i < n && jobs[i].state != 1; i++) { }
            if (i < n) {
                mcf__job_stop(m, &jobs[i]);
                *rc = mcf__fail(fallback, "%s: curl_multi_perform failed", jobs[i].x.n->who);
                return (long)i;
            }
        }
        while ((msg = curl_multi_info_read(m, &queued)) != NULL) {
            if (msg->msg != CURLMSG_DONE) continue;
            for (i = 0; i < n && !(jobs[i].state == 1 && jobs[i].x.h == msg->easy_handle); i++) { }
            if (i < n && mcf__job_ended(m, &jobs[i], msg->data.result, fallback, rc)) return (long)i;
        }
        for (i = 0; i < n; i++) busy |= jobs[i].state != 0;
        if (!busy || !wait) return -1;
        (void)curl_multi_poll(m, NULL, 0, (int)soon, NULL);
    }
}

/* ---- reading ---- */
/* An open object; read_at may run on several threads at once. The open
 * fills the first kept block before any read can run. Under `lock`:
 * the kept blocks, the held whole-object stream and what the server showed
 * (small reads, and every read once the server is known to ignore Range, run
 * one at a time under it). Reads above MCF__NET_CACHE bytes run outside it,
 * each on an easy handle of the pool: at most `threads` handles, made when
 * first needed, each keeping its connection between requests. A thread never
 * waits for `lock` while it holds a pool handle (order: lock, then pool). */
typedef struct mcf__net_reader {
    mcf__net n;                     /* n.h: the pool's first handle */
    uint64_t size;
    pthread_mutex_t lock;
    unsigned char *ahead[2];        /* the last two reads up to MCF__NET_CACHE bytes */
    uint64_t ahead_off[2];
    size_t ahead_len[2];
    int older;                      /* slot to replace next */
    int whole;                      /* the server answered a ranged GET with the whole object */
    int ranged;                     /* it answered one with 206: big reads may be split */
    mcf__xfer st;                   /* whole: one GET held paused between reads (st.hold) */
    CURLM *m;
    int st_active, st_done;
    CURLcode st_cc;
    pthread_mutex_t pool_lock;      /* the pool of handles */
    pthread_cond_t pool_cv;
    CURL **idle;
    unsigned nidle, made, waiting;  /* waiting: threads blocked in mcf__net_take */
    pthread_mutex_t split_lock;     /* one split read at a time, on sm */
    CURLM *sm;
    int locks;                      /* the three locks and the condition exist */
} mcf__net_reader;

static int mcf__net_stat(void *user, const mcf_url *u, const mcf_options *o, uint64_t *size)
{
    mcf__net n;
    int rc;
    (void)user;
    if ((rc = mcf__net_init(&n, u, o)) != MCF_OK) return rc;
    rc = mcf__net_head(&n, size, MCF_FILE_OPEN_FAIL);
    mcf__net_free(&n);
    return rc;
}

/* A zeroed reader or writer of size bytes whose first member, its
 * mcf__net, is initialised for u. */
static int mcf__net_new(size_t size, const mcf_url *u, const mcf_options *o, void **out)
{
    void *p = mcf__calloc(1, size);
    int rc;
    if (!p) return mcf__fail(MCF_INTERNAL_ERROR, "%s: out of memory", u->url);
    if ((rc = mcf__net_init((mcf__net *)p, u, o)) != MCF_OK) {
        MCF_FREE(p);
        return rc;
    }
    *out = p;
    return MCF_OK;
}

/* A free handle of the pool, made if fewer than threads exist; with wait, the
 * next one given back. NULL: none free (wait 0), or out of memory. */
static CURL *mcf__net_take(mcf__net_reader *r, int wait)
{
    CURL *h = NULL;
    int make = 0;
    (void)pthread_mutex_lock(&r->pool_lock);
    for (;;) {
        if (r->nidle) {
            h = r->idle[--r->nidle];
            break;
        }
        if (r->made < r->n.threads) {
            r->made++;
            make = 1;
            break;
        }
        if (!wait) break;
        r->waiting++;
        (void)pthread_cond_wait(&r->pool_cv, &r->pool_lock);
        r->waiting--;
    }
    (void)pthread_mutex_unlock(&r->pool_lock);
    if (make && !(h = curl_easy_init())) {
        (void)pthread_mutex_lock(&r->pool_lock);
        r->made--;
        (void)pthread_cond_signal(&r->pool_cv);
        (void)pthread_mutex_unlock(&r->pool_lock);
    }
    return h;
}

/* Whether a thread waits for a pool handle. */
static int mcf__net_wanted(mcf__net_reader *r)
{
    unsigned w;
    (void)pthread_mutex_lock(&r->pool_lock);
    w = r->waiting;
    (void)pthread_mutex_unlock(&r->pool_lock);
    return w > 0;
}

static void mcf__net_give(mcf__net_reader *r, CURL *h)
{
    (void)pthread_mutex_lock(&r->pool_lock);
    r->idle[r->nidle++] = h;
    (void)pthread_cond_signal(&r->pool_cv);
    (void)pthread_mutex_unlock(&r->pool_lock);
}

/* One step of a transfer on a multi handle: 1 when it has ended, with *cc
 * its result (fail when curl_multi_perform itself fails). */
static int mcf__net_multi_run(CURLM *m, CURLcode fail, CURLcode *cc)
{
    int running, queued, done = 0;
    CURLMsg *msg;
    if (curl_multi_perform(m, &running) != CURLM_OK) {
        *cc = fail;
        return 1;
    }
    while ((msg = curl_multi_info_read(m, &queued)) != NULL) {
        if (msg->msg != CURLMSG_DONE) continue;
        done = 1;
        *cc = msg->data.result;
    }
    return done;
}

/* Once the server is known to ignore Range, reads continue one plain GET of
 * the whole object, held paused between reads (curl's multi interface, on a
 * pool handle kept while it runs): a read at or after its position goes on
 * from there, one before it starts a new GET. Nothing is kept beyond the
 * read's block and curl's one paused chunk; a held GET that broke while
 * paused (timeout, closed connection) is started over. All under lock. */
static void mcf__net_stream_stop(mcf__net_reader *r)
{
    if (!r->st_active) return;
    (void)curl_multi_remove_handle(r->m, r->st.h);   /* mid-transfer: closes the connection */
    mcf__net_give(r, r->st.h);
    r->st_active = 0;
}

static int mcf__net_stream_start(mcf__net_reader *r)
{
    struct curl_slist *extra = NULL;
    CURL *h;
    mcf__net_stream_stop(r);
    if (!r->m && !(r->m = curl_multi_init())) return mcf__fail(MCF_INTERNAL_ERROR, "%s: out of memory", r->n.who);
    if (!(h = mcf__net_take(r, 1))) return mcf__fail(MCF_INTERNAL_ERROR, "%s: out of memory", r->n.who);
    mcf__xfer_init(&r->st, &r->n, "GET");
    r->st.h = h;
    r->st.ranged = 1;
    r->st.hold = 1;
    r->st.size = r->size;
    if (!mcf__net_setup(&r->st, NULL, -1, &extra) || curl_multi_add_handle(r->m, h) != CURLM_OK) {
        curl_slist_free_all(extra);
        mcf__net_give(r, h);
        return mcf__fail(MCF_INTERNAL_ERROR, "%s: could not start a GET (out of memory?)", r->n.who);
    }
    r->st_active = 1;
    r->st_done = 0;
    r->st_cc = CURLE_OK;
    return MCF_OK;
}

/* Runs the held GET until the read's block is full (it pauses) or it ends. */
static void mcf__net_stream_drive(mcf__net_reader *r)
{
    if (r->st.paused) {   /* may deliver at once */
        r->st.paused = 0;
        (void)curl_easy_pause(r->st.h, CURLPAUSE_CONT);
    }
    while (!r->st_done && !r->st.paused) {
        if (mcf__net_multi_run(r->m, CURLE_RECV_ERROR, &r->st_cc)) r->st_done = 1;
        if (r->st_done || r->st.paused) break;
        (void)curl_multi_poll(r->m, NULL, 0, 100, NULL);
    }
}

/* The held GET's answer to len bytes at off, keeping up to room; as mcf__net_get. */
static int mcf__net_stream_read(mcf__net_reader *r, uint64_t off, unsigned char *dst, size_t len, size_t room, size_t *got)
{
    CURLcode cc;
    long delay = 100;
    int attempt, fresh, rc;
    for (attempt = 1; ; attempt++) {
        fresh = !r->st_active || r->st_done || off < r->st.pos;
        if (fresh && (rc = mcf__net_stream_start(r)) != MCF_OK) return rc;
        r->st.dst = dst;
        r->st.off = off;
        r->st.cap = len;
        r->st.room = room;
        r->st.got = 0;
        mcf__net_stream_drive(r);
        r->st.dst = NULL;
        if (r->st.got >= len) {
            *got = r->st.got;
            return MCF_OK;
        }
        (void)curl_easy_getinfo(r->st.h, CURLINFO_RESPONSE_CODE, &r->st.status);
        cc = r->st_cc;
        mcf__net_stream_stop(r);
        if (r->st.grown || attempt > r->n.retries || (fresh ? !mcf__net_retryable(cc, r->st.status) : cc == CURLE_OK)) break;
        if (fresh) {
            mcf__net_sleep_ms(delay);
            delay = delay * 2 > 5000 ? 5000 : delay * 2;
        }
    }
    if (cc == CURLE_OK && r->st.status == 200)
        return mcf__fail(MCF_FILE_READ_FAIL, "%s: GET %s: the whole object ended after %llu bytes, before byte %llu (changed since?)",
                         r->n.who, r->n.shown, (unsigned long long)r->st.pos, (unsigned long long)(off + len));
    if (r->st.status >= 200 && r->st.status < 300 && r->st.status != 200)
        return mcf__fail(MCF_FILE_READ_FAIL, "%s: GET %s: unexpected answer HTTP %ld %s (expected 200)", r->n.who, r->n.shown, r->st.status, r->st.reason);
    return mcf__net_result(&r->st, cc, attempt, MCF_FILE_READ_FAIL);
}

/* x set up as a ranged GET on h of len bytes at off into dst, keeping up to
 * room bytes of a 200 answer; range: its Range value. */
static void mcf__net_range_xfer(mcf__xfer *x, mcf__net_reader *r, CURL *h, uint64_t off, unsigned char *dst, size_t len,
                                size_t room, char *range, size_t range_cap)
{
    mcf__xfer_init(x, &r->n, "GET");
    x->h = h;
    x->dst = dst;
    x->cap = len;
    x->room = room;
    x->ranged = 1;
    x->off = off;
    x->size = r->size;
    (void)snprintf(range, range_cap, "%llu-%llu", (unsigned long long)off, (unsigned long long)(off + len - 1));
    (void)snprintf(x->what, sizeof x->what, "bytes %s", range);
}

/* A ranged GET's 2xx answer: a 206 must name exactly the range asked for
 * (RFC 9110 14.4), a 200 is the whole object (cut after the bytes wanted). */
static int mcf__net_check_range(const mcf__net_reader *r, const mcf__xfer *x)
{
    uint64_t first, last, total;
    if (x->status == 206) {
        if (!x->crange[0])
            return mcf__fail(MCF_FILE_READ_FAIL, "%s: GET %s %s: the server answered 206 without a Content-Range header, so what it sent is unknown",
                             r->n.who, r->n.shown, x->what);
        if (!mcf__net_parse_crange(x->crange, &first, &last, &total) || first != x->off || last != x->off + x->cap - 1)
            return mcf__fail(MCF_FILE_READ_FAIL, "%s: GET %s %s: the server answered 206 with Content-Range \"%s\", not the bytes asked for",
                             r->n.who, r->n.shown, x->what, x->crange);
        if (total != UINT64_MAX && total != r->size)
            return mcf__fail(MCF_FILE_READ_FAIL, "%s: GET %s %s: the object is now %llu bytes, it had %llu when opened (changed since?)",
                             r->n.who, r->n.shown, x->what, (unsigned long long)total, (unsigned long long)r->size);
    } else if (x->status != 200) {
        return mcf__fail(MCF_FILE_READ_FAIL, "%s: GET %s %s: unexpected answer HTTP %ld %s (expected 206 or 200)",
                         r->n.who, r->n.shown, x->what, x->status, x->reason);
    }
    if (x->got < x->cap)
        return mcf__fail(MCF_FILE_READ_FAIL, "%s: GET %s %s: short answer, %lu of %lu bytes", r->n.who, r->n.shown, x->what,
                         (unsigned long)x->got, (unsigned long)x->cap);
    return MCF_OK;
}

/* One ranged GET on pool handle h of exactly len bytes at off into dst. A
 * 200 answer (the server ignores Range) is the whole object, read up to
 * off + room (room >= len, room <= size - off) and then cut. *got: the bytes
 * now in dst; *status: 206 or 200. */
static int mcf__net_get(mcf__net_reader *r, CURL *h, uint64_t off, unsigned char *dst, size_t len, size_t room, size_t *got, long *status)
{
    mcf__xfer x;
    char range[64];
    int rc;
    mcf__net_range_xfer(&x, r, h, off, dst, len, room, range, sizeof range);
    if ((rc = mcf__net_perform(&x, range, -1, MCF_FILE_READ_FAIL)) != MCF_OK) return rc;
    if ((rc = mcf__net_check_range(r, &x)) != MCF_OK) return rc;
    *got = x.got;
    *status = x.status;
    return MCF_OK;
}

/* Under lock: what a successful ranged GET of len bytes at off showed of the
 * server. The first 200 leaves its note in mcf_last_error, once per reader. */
static void mcf__net_learned(mcf__net_reader *r, long status, uint64_t off, size_t len)
{
    if (status == 206) r->ranged = 1;
    if (status != 200 || len == r->size || r->whole) return;
    r->whole = 1;
    (void)mcf__fail(MCF_OK, "note: %s: %s: the server ignores Range requests (it answered GET bytes %llu-%llu with the whole object); "
                    "reads now stream the object from its start, and a read behind the stream starts it over", r->n.who, r->n.shown,
                    (unsigned long long)off, (unsigned long long)(off + len - 1));
}

/* Under lock: len bytes at off into dst, keeping up to room; through the
 * held stream once the server is known to ignore Range. */
static int mcf__net_fetch_locked(mcf__net_reader *r, uint64_t off, unsigned char *dst, size_t len, size_t room, size_t *got)
{
    CURL *h;
    long status = 0;
    int rc;
    if (r->whole) return mcf__net_stream_read(r, off, dst, len, room, got);
    if (!(h = mcf__net_take(r, 1))) return mcf__fail(MCF_INTERNAL_ERROR, "%s: out of memory", r->n.who);
    rc = mcf__net_get(r, h, off, dst, len, room, got, &status);
    mcf__net_give(r, h);
    if (rc == MCF_OK) mcf__net_learned(r, status, off, len);
    return rc;
}

/* A read of more than twice part_size bytes, split into pieces of at most
 * part_size fetched by ranged GETs at once on one multi handle, in the
 * calling thread. It takes only the pool handles free at that moment, so
 * reads the caller already runs on several threads are not split again: the
 * transfers in flight never exceed threads; and while another thread waits
 * for a handle, each piece that ends hands its handle over (down to one).
 * Each piece is retried on its own. 1: not split (another split runs, or
 * one handle is free). */
static int mcf__net_split(mcf__net_reader *r, uint64_t off, unsigned char *dst, size_t len)
{
    mcf__job *jobs;
    size_t piece, k = 0, i, held;
    uint64_t next = 0, left = len;
    int rc = MCF_OK, frc = MCF_OK;
    long j;
    if (pthread_mutex_trylock(&r->split_lock) != 0) return 1;
    jobs = (mcf__job *)mcf__calloc(r->n.threads, sizeof *jobs);
    if (!jobs || (!r->sm && !(r->sm = curl_multi_init()))) {
        MCF_FREE(jobs);
        (void)pthread_mutex_unlock(&r->split_lock);
        return 1;
    }
    for (k = 0; k < r->n.threads && (jobs[k].x.h = mcf__net_take(r, 0)) != NULL; k++) { }
    if (k < 2) {
        if (k) mcf__net_give(r, jobs[0].x.h);
        MCF_FREE(jobs);
        (void)pthread_mutex_unlock(&r->split_lock);
        return 1;
    }
    piece = r->n.part_size < (uint64_t)len / k ? (size_t)r->n.part_size : len / k + 1;   /* at least k pieces */
    held = k;
    for (;;) {
        /* every free job takes the next piece */
        for (i = 0; i < k && rc == MCF_OK && next < len; i++) {
            size_t n;
            CURL *h = jobs[i].x.h;
            if (jobs[i].state != 0 || !h) continue;
            if (held > 1 && mcf__net_wanted(r)) {   /* another read waits: it gets this one */
                mcf__net_give(r, h);
                jobs[i].x.h = NULL;
                held--;
                continue;
            }
            n = len - next < piece ? (size_t)(len - next) : piece;
            mcf__net_range_xfer(&jobs[i].x, r, h, off + next, dst + next, n, n, jobs[i].range, sizeof jobs[i].range);
            jobs[i].body = -1;
            jobs[i].attempts = 0;
            rc = mcf__job_start(r->sm, &jobs[i]);
            next += n;
        }
        if (rc != MCF_OK || left == 0) break;
        j = mcf__jobs_next(r->sm, jobs, k, MCF_FILE_READ_FAIL, 1, &frc);
        if (j < 0) break;
        if (frc == MCF_OK) frc = mcf__net_check_range(r, &jobs[j].x);
        if (frc != MCF_OK) {
            rc = frc;
            break;
        }
        left -= jobs[j].x.cap;
    }
    for (i = 0; i < k; i++) {
        mcf__job_stop(r->sm, &jobs[i]);
        if (jobs[i].x.h) mcf__net_give(r, jobs[i].x.h);
    }
    MCF_FREE(jobs);
    (void)pthread_mutex_unlock(&r->split_lock);
    if (rc == MCF_OK && left != 0) rc = mcf__fail(MCF_INTERNAL_ERROR, "%s: GET %s: split read ended early", r->n.who, r->n.shown);
    return rc;
}

/* One ranged GET on a pool handle, outside lock. */
static int mcf__net_get_one(mcf__net_reader *r, uint64_t off, unsigned char *dst, size_t len)
{
    CURL *h;
    long status = 0;
    size_t got;
    int rc;
    if (!(h = mcf__net_take(r, 1))) return mcf__fail(MCF_INTERNAL_ERROR, "%s: out of memory", r->n.who);
    rc = mcf__net_get(r, h, off, dst, len, len, &got, &status);
    mcf__net_give(r, h);
    if (rc == MCF_OK) {
        (void)pthread_mutex_lock(&r->lock);
        mcf__net_learned(r, status, off, len);
        (void)pthread_mutex_unlock(&r->lock);
    }
    return rc;
}

/* A read above MCF__NET_CACHE bytes, outside lock. With split, before the
 * server has shown that it honours Range, the first part_size bytes go
 * alone; a server that ignores Range then gets the rest through the held
 * stream, one that honours it the rest split. */
static int mcf__net_read_big(mcf__net_reader *r, uint64_t off, unsigned char *dst, size_t len, int split)
{
    size_t first = (size_t)r->n.part_size;
    int rc, ranged, whole;
    if (!split) return mcf__net_get_one(r, off, dst, len);
    (void)pthread_mutex_lock(&r->lock);
    ranged = r->ranged;
    (void)pthread_mutex_unlock(&r->lock);
    if (!ranged) {
        if ((rc = mcf__net_get_one(r, off, dst, first)) != MCF_OK) return rc;
        off += first;
        dst += first;
        len -= first;
        (void)pthread_mutex_lock(&r->lock);
        whole = r->whole;
        if (whole) rc = mcf__net_fetch_locked(r, off, dst, len, len, &first);
        (void)pthread_mutex_unlock(&r->lock);
        if (whole) return rc;
    }
    if ((rc = mcf__net_split(r, off, dst, len)) != 1) return rc;
    return mcf__net_get_one(r, off, dst, len);
}

/* Copies what a kept block holds of the read at off (its start, or all of
 * it) into out; the bytes copied. The rest is fetched (a held stream may
 * already be past that start). Under lock. */
static size_t mcf__net_from_kept(mcf__net_reader *r, uint64_t off, unsigned char *out, size_t len)
{
    size_t k;
    int slot;
    for (slot = 0; slot < 2; slot++) {
        if (!r->ahead_len[slot] || off < r->ahead_off[slot] || off >= r->ahead_off[slot] + r->ahead_len[slot]) continue;
        k = (size_t)(r->ahead_off[slot] + r->ahead_len[slot] - off);
        if (k > len) k = len;
        memcpy(out, r->ahead[slot] + (off - r->ahead_off[slot]), k);
        r->older = 1 - slot;
        return k;
    }
    return 0;
}

/* The block to fetch for a read of len (<= MCF__NET_CACHE) bytes at off:
 * its start, and *want bytes from there. Under lock. */
static uint64_t mcf__net_block(const mcf__net_reader *r, uint64_t off, size_t len, size_t *want)
{
    uint64_t start = off, lo;
    *want = len;
    if (r->whole) {
        /* the stream passes every byte before the read anyway: fill a whole
         * slot, ending at EOF near the end (zip end records, then the central
         * directory before them), never starting behind the held stream */
        lo = r->st_active && !r->st_done ? r->st.pos : 0;
        if (start > r->size - MCF__NET_CACHE && r->size > MCF__NET_CACHE) start = r->size - MCF__NET_CACHE;
        if (r->size <= MCF__NET_CACHE) start = 0;
        if (start < lo) start = lo;
        *want = (size_t)(off + len - start);
    } else if (len < MCF__NET_READAHEAD) {
        *want = r->size < (uint64_t)MCF__NET_READAHEAD ? (size_t)r->size : MCF__NET_READAHEAD;
        /* near the end the block slides back to end at EOF: zip readers walk
         * backwards from the end records, so one block serves them all */
        if (start > r->size - *want) start = r->size - *want;
    }
    return start;
}

/* Under lock: a small or medium read (magic, lengths, headers, zip records)
 * through one kept block, so the reads that follow it are served locally. */
static int mcf__net_read_small(mcf__net_reader *r, uint64_t off, unsigned char *out, size_t len)
{
    uint64_t start;
    size_t want, room, got;
    int rc, slot = r->older;   /* two blocks: e.g. a file's start and its zip end records */
    if (!r->ahead[slot] && !(r->ahead[slot] = (unsigned char *)mcf__malloc(MCF__NET_CACHE)))
        return mcf__fail(MCF_INTERNAL_ERROR, "%s: out of memory", r->n.who);
    start = mcf__net_block(r, off, len, &want);
    r->ahead_len[slot] = 0;
    /* a server that ignores Range streams from byte 0 anyway: then the block
     * takes the whole slot, which often holds the next header read too */
    room = r->size - start < (uint64_t)MCF__NET_CACHE ? (size_t)(r->size - start) : MCF__NET_CACHE;
    if ((rc = mcf__net_fetch_locked(r, start, r->ahead[slot], want, room, &got)) != MCF_OK) return rc;
    r->ahead_off[slot] = start;
    r->ahead_len[slot] = got;
    r->older = 1 - slot;
    memcpy(out, r->ahead[slot] + (off - start), len);
    return MCF_OK;
}

/* Safe on several threads at once for one reader: see mcf__net_reader. */
static int mcf__net_read_at(void *file, uint64_t off, void *dst, size_t len)
{
    mcf__net_reader *r = (mcf__net_reader *)file;
    unsigned char *out = (unsigned char *)dst;
    uint64_t end;
    size_t k, got;
    int rc = MCF_OK, split;
    if (len == 0) return MCF_OK;
    if (!mcf__add64(off, len, &end) || end > r->size)
        return mcf__fail(MCF_FILE_READ_FAIL, "%s: read of %lu bytes at %llu passes the end of %s (%llu bytes)", r->n.who,
                         (unsigned long)len, (unsigned long long)off, r->n.shown, (unsigned long long)r->size);
    (void)pthread_mutex_lock(&r->lock);
    k = mcf__net_from_kept(r, off, out, len);
    out += k;
    off += k;
    len -= k;
    if (len > MCF__NET_CACHE && !r->whole) {
        split = r->n.threads > 1 && len / 2 > r->n.part_size;
        (void)pthread_mutex_unlock(&r->lock);
        return mcf__net_read_big(r, off, out, len, split);
    }
    if (len > MCF__NET_CACHE) rc = mcf__net_fetch_locked(r, off, out, len, len, &got);
    else if (len > 0) rc = mcf__net_read_small(r, off, out, len);
    (void)pthread_mutex_unlock(&r->lock);
    return rc;
}

/* Whether a Content-Range value names an unsatisfied range of a 0-byte
 * object ("bytes", a star, then "/0"): a 416 for an empty object (RFC 9110
 * section 14.4). */
static int mcf__net_crange_empty(const char *s)
{
    static const char want[] = "bytes */0";
    size_t i;
    for (i = 0; want[i]; i++)
        if (mcf__lower(s[i]) != want[i]) return 0;
    return s[i] == '\0';
}

/* The open: one ranged GET of the object's first MCF__NET_CACHE bytes, kept
 * as a block, so sniffing and a header that fits cost nothing more. The size
 * comes from the answer: a 206's Content-Range total (its range the one asked
 * for, or shorter only where the object ends), a 200's Content-Length (the
 * server ignores Range: the block's bytes are taken from the stream and it is
 * cut, as for any read, and the note is left), or a 416 of an empty object. */
static int mcf__net_open_get(mcf__net_reader *r)
{
    mcf__xfer x;
    char range[64], keep[MCF_ERROR_MAX], saved[MCF_ERROR_MAX];
    uint64_t first = 0, last = 0, total = 0;
    curl_off_t len = -1;
    int rc;
    if (!(r->ahead[0] = (unsigned char *)mcf__malloc(MCF__NET_CACHE))) return mcf__fail(MCF_INTERNAL_ERROR, "%s: out of memory", r->n.who);
    mcf__net_range_xfer(&x, r, r->n.h, 0, r->ahead[0], MCF__NET_CACHE, MCF__NET_CACHE, range, sizeof range);
    x.sizing = 1;
    x.what[0] = '\0';   /* an error names the object, as any open does */
    memcpy(keep, mcf__error_text, sizeof keep);
    rc = mcf__net_perform(&x, range, -1, MCF_FILE_OPEN_FAIL);
    if (rc != MCF_OK && x.status == 416) {
        /* an empty object, said by Content-Range or else by a HEAD */
        memcpy(saved, mcf__error_text, sizeof saved);
        if (mcf__net_crange_empty(x.crange) || (mcf__net_head(&r->n, &total, MCF_FILE_OPEN_FAIL) == MCF_OK && total == 0)) {
            memcpy(mcf__error_text, keep, sizeof keep);
            r->size = 0;
            return MCF_OK;
        }
        memcpy(mcf__error_text, saved, sizeof saved);
        return rc;
    }
    if (rc != MCF_OK) return rc;
    if (x.status == 206 && mcf__net_parse_crange(x.crange, &first, &last, &total) && total == 0) {
        r->size = 0;   /* a 206 that calls the object empty (its body was cut at the head) */
        return MCF_OK;
    }
    if (x.status == 200) {
        (void)curl_easy_getinfo(x.h, CURLINFO_CONTENT_LENGTH_DOWNLOAD_T, &len);
        if (len < 0) return mcf__fail(MCF_NOT_SUPPORTED, "%s: GET %s: the server sent no Content-Length, so the size is unknown", r->n.who, r->n.shown);
        r->size = (uint64_t)len;
        if ((uint64_t)x.got != (r->size < MCF__NET_CACHE ? r->size : MCF__NET_CACHE))
            return mcf__fail(MCF_FILE_READ_FAIL, "%s: GET %s: short answer, %lu bytes of an object of %llu", r->n.who, r->n.shown,
                             (unsigned long)x.got, (unsigned long long)r->size);
    } else if (x.status == 206) {
        if (!x.crange[0])
            return mcf__fail(MCF_FILE_READ_FAIL, "%s: GET %s bytes %s: the server answered 206 without a Content-Range header, so the size is unknown",
                             r->n.who, r->n.shown, range);
        if (!mcf__net_parse_crange(x.crange, &first, &last, &total) || total == UINT64_MAX || first != 0 || last >= total ||
            last + 1 != (total < MCF__NET_CACHE ? total : MCF__NET_CACHE))
            return mcf__fail(MCF_FILE_READ_FAIL, "%s: GET %s bytes %s: the server answered 206 with Content-Range \"%s\", not the bytes asked for "
                             "and the object's size", r->n.who, r->n.shown, range, x.crange);
        if ((uint64_t)x.got != last + 1)
            return mcf__fail(MCF_FILE_READ_FAIL, "%s: GET %s bytes %s: short answer, %lu of %llu bytes", r->n.who, r->n.shown, range,
                             (unsigned long)x.got, (unsigned long long)(last + 1));
        r->size = total;
    } else {
        return mcf__fail(MCF_FILE_READ_FAIL, "%s: GET %s bytes %s: unexpected answer HTTP %ld %s (expected 206 or 200)", r->n.who, r->n.shown,
                         range, x.status, x.reason);
    }
    r->ahead_off[0] = 0;
    r->ahead_len[0] = x.got;
    r->older = 1;
    mcf__net_learned(r, x.status, 0, x.got);
    return MCF_OK;
}

static void mcf__net_close_read(void *file)
{
    mcf__net_reader *r = (mcf__net_reader *)file;
    unsigned i;
    mcf__net_stream_stop(r);   /* its handle back to the pool */
    if (r->m) curl_multi_cleanup(r->m);
    if (r->sm) curl_multi_cleanup(r->sm);
    for (i = 0; r->idle && i < r->nidle; i++)
        if (r->idle[i] != r->n.h) curl_easy_cleanup(r->idle[i]);
    if (r->locks) {
        (void)pthread_mutex_destroy(&r->lock);
        (void)pthread_mutex_destroy(&r->pool_lock);
        (void)pthread_mutex_destroy(&r->split_lock);
        (void)pthread_cond_destroy(&r->pool_cv);
    }
    mcf__net_free(&r->n);
    MCF_FREE(r->idle);
    MCF_FREE(r->ahead[0]);
    MCF_FREE(r->ahead[1]);
    MCF_FREE(r);
}

static int mcf__net_open_read(void *user, const mcf_url *u, const mcf_options *o, void **file, uint64_t *size)
{
    mcf__net_reader *r;
    void *mem = NULL;
    int rc, locks = 0;
    (void)user;
    if ((rc = mcf__net_new(sizeof *r, u, o, &mem)) != MCF_OK) return rc;
    r = (mcf__net_reader *)mem;
    if (pthread_mutex_init(&r->lock, NULL) == 0) {
        locks++;
        if (pthread_mutex_init(&r->pool_lock, NULL) == 0) {
            locks++;
            if (pthread_mutex_init(&r->split_lock, NULL) == 0) {
                locks++;
                if (pthread_cond_init(&r->pool_cv, NULL) == 0) locks++;
                else (void)pthread_mutex_destroy(&r->split_lock);
            }
            if (locks < 4) (void)pthread_mutex_destroy(&r->pool_lock);
        }
        if (locks < 4) (void)pthread_mutex_destroy(&r->lock);
    }
    r->locks = locks == 4;
    r->idle = (CURL **)mcf__malloc(r->n.threads * sizeof *r->idle);
    if (!r->locks || !r->idle) rc = mcf__fail(MCF_INTERNAL_ERROR, "%s: out of memory", u->url);
    if (rc == MCF_OK) {
        r->idle[r->nidle++] = r->n.h;   /* the open GET's handle (and connection) is the pool's first */
        r->made = 1;
        rc = mcf__net_open_get(r);
    }
    if (rc != MCF_OK) {
        mcf__net_close_read(r);
        return rc;
    }
    *file = r;
    *size = r->size;
    return MCF_OK;
}

static int mcf__net_remove(void *user, const mcf_url *u, const mcf_options *o)
{
    mcf__net n;
    mcf__xfer x;
    uint64_t size;
    int rc;
    (void)user;
    if ((rc = mcf__net_init(&n, u, o)) != MCF_OK) return rc;
    /* S3 answers DELETE of a missing key with 204; report it like a local file */
    if (n.s3) rc = mcf__net_head(&n, &size, MCF_FILE_WRITE_FAIL);
    if (rc == MCF_OK) {
        mcf__xfer_init(&x, &n, "DELETE");
        rc = mcf__net_perform(&x, NULL, -1, MCF_FILE_WRITE_FAIL);
    }
    mcf__net_free(&n);
    return rc;
}

/* ---- writing ---- */
/* A PUT whose body arrives in the caller's write() calls: curl's multi
 * interface is driven only inside write()/finish, and the read callback
 * pauses the transfer when the current chunk is used up. */
typedef struct mcf__upload {
    mcf__xfer x;
    CURLM *m;                       /* kept from part to part: its connection is reused */
    struct curl_slist *extra;
    int active, done;
    CURLcode cc;
} mcf__upload;

static int mcf__upload_start(mcf__upload *p, mcf__net *n, const char *url, int64_t size)
{
    mcf__xfer_init(&p->x, n, "PUT");
    p->x.url = url;
    p->x.streaming = 1;
    p->done = 0;
    p->cc = CURLE_OK;
    if (!mcf__net_setup(&p->x, NULL, size, &p->extra) || (!p->m && !(p->m = curl_multi_init()))) {
        curl_slist_free_all(p->extra);
        p->extra = NULL;
        return mcf__fail(MCF_INTERNAL_ERROR, "%s: out of memory", n->who);
    }
    if (curl_multi_add_handle(p->m, p->x.h) != CURLM_OK) {
        curl_slist_free_all(p->extra);
        p->extra = NULL;
        return mcf__fail(MCF_INTERNAL_ERROR, "%s: curl_multi_add_handle failed", n->who);
    }
    p->active = 1;
    return MCF_OK;
}

/* Runs the transfer until the chunk is consumed (to_end 0) or it ends. */
static void mcf__upload_drive(mcf__upload *p, int to_end)
{
    if (p->x.paused) {
        p->x.paused = 0;
        (void)curl_easy_pause(p->x.h, CURLPAUSE_CONT);
    }
    while (!p->done) {
        if (!to_end && p->x.chunk_pos == p->x.chunk_len) break;
        if (mcf__net_multi_run(p->m, CURLE_SEND_ERROR, &p->cc)) p->done = 1;
        if (p->done || (!to_end && p->x.chunk_pos == p->x.chunk_len)) break;
        if (p->x.paused) {
            if (!to_end) break;
            p->x.paused = 0;
            (void)curl_easy_pause(p->x.h, CURLPAUSE_CONT);
        }
        (void)curl_multi_poll(p->m, NULL, 0, 100, NULL);
    }
}

static void mcf__upload_stop(mcf__upload *p)
{
    if (!p->active) return;
    (void)curl_multi_remove_handle(p->m, p->x.h);   /* mid-transfer: closes the connection */
    curl_slist_free_all(p->extra);
    p->extra = NULL;
    p->active = 0;
}

static void mcf__upload_free(mcf__upload *p)
{
    mcf__upload_stop(p);
    if (p->m) curl_multi_cleanup(p->m);
    p->m = NULL;
}

static int mcf__upload_feed(mcf__upload *p, const void *src, size_t len)
{
    p->x.chunk = (const unsigned char *)src;
    p->x.chunk_len = len;
    p->x.chunk_pos = 0;
    mcf__upload_drive(p, 0);
    p->x.chunk = NULL;
    if (p->x.chunk_pos == p->x.chunk_len && !p->done) return MCF_OK;
    /* the server answered (or the connection broke) before taking all bytes */
    (void)curl_easy_getinfo(p->x.h, CURLINFO_RESPONSE_CODE, &p->x.status);
    if (p->cc == CURLE_OK && p->x.status >= 200 && p->x.status < 300)
        return mcf__fail(MCF_FILE_WRITE_FAIL, "%s: PUT %s: the server answered HTTP %ld before the whole body was sent",
                         p->x.n->who, p->x.n->shown, p->x.status);
    return mcf__net_result(&p->x, p->cc, 1, MCF_FILE_WRITE_FAIL);
}

static int mcf__upload_finish(mcf__upload *p)
{
    int rc;
    p->x.eof = 1;
    p->x.chunk = NULL;
    p->x.chunk_len = p->x.chunk_pos = 0;
    mcf__upload_drive(p, 1);
    (void)curl_easy_getinfo(p->x.h, CURLINFO_RESPONSE_CODE, &p->x.status);
    rc = mcf__net_result(&p->x, p->cc, 1, MCF_FILE_WRITE_FAIL);
    mcf__upload_stop(p);
    return rc;
}

typedef struct mcf__net_writer {
    mcf__net n;
    uint64_t total, done;           /* total UINT64_MAX = unknown */
    int multipart, part_no;
    char *upload_id;                /* percent-encoded, ready for a query */
    mcf__buf tags;                  /* part N's ETag at (N - 1) * MCF__NET_TAG bytes */
    mcf__upload upload;
    uint64_t part_left;             /* bytes still due in the streamed part */
    unsigned char *buf;             /* unknown total on S3: one part buffered */
    size_t buf_len;
    /* threads > 1 on S3 multipart: parts are buffered and up to threads of
     * them sent at once (memory: threads x part_size at most) */
    CURLM *pm;
    mcf__job *jobs;                 /* one per thread: its handle, its part (x.up) */
    unsigned char **pbuf;           /* the jobs' part buffers, made when first used */
    int fill;                       /* the job whose buffer is filling, or -1 */
    size_t fill_len;
} mcf__net_writer;

#define MCF__NET_TAG sizeof(((mcf__xfer *)0)->etag)

static void mcf__net_writer_free(mcf__net_writer *w)
{
    unsigned i;
    mcf__upload_free(&w->upload);
    for (i = 0; w->jobs && i < w->n.threads; i++) {   /* parts still in flight are cut */
        mcf__job_stop(w->pm, &w->jobs[i]);
        MCF_FREE((char *)w->jobs[i].x.url);
        if (w->jobs[i].x.h) curl_easy_cleanup(w->jobs[i].x.h);
        if (w->pbuf) MCF_FREE(w->pbuf[i]);
    }
    if (w->pm) curl_multi_cleanup(w->pm);
    MCF_FREE(w->jobs);
    MCF_FREE(w->pbuf);
    mcf__net_free(&w->n);
    MCF_FREE(w->upload_id);
    mcf__buf_free(&w->tags);
    MCF_FREE(w->buf);
    MCF_FREE(w);
}

/* URL of the object plus a canonical (sorted, every name with '=') query. */
static char *mcf__net_query_url(mcf__net_writer *w, int part_no)
{
    mcf__buf b;
    char num[24];
    memset(&b, 0, sizeof b);
    mcf__buf_puts(&b, w->n.url);
    if (part_no > 0) {
        (void)snprintf(num, sizeof num, "%d", part_no);
        mcf__buf_puts(&b, "?partNumber=");
        mcf__buf_puts(&b, num);
        mcf__buf_puts(&b, "&uploadId=");
        mcf__buf_puts(&b, w->upload_id);
    } else if (w->upload_id) {
        mcf__buf_puts(&b, "?uploadId=");
        mcf__buf_puts(&b, w->upload_id);
    } else {
        mcf__buf_puts(&b, "?uploads=");
    }
    return mcf__buf_cstr(&b);
}

/* CreateMultipartUpload: POST ?uploads= answers <UploadId>. */
static int mcf__s3_create_upload(mcf__net_writer *w)
{
    mcf__xfer x;
    mcf__buf keep, id;
    char *url = mcf__net_query_url(w, 0), raw[1024];
    int rc;
    memset(&keep, 0, sizeof keep);
    memset(&id, 0, sizeof id);
    if (!url) return mcf__fail(MCF_INTERNAL_ERROR, "s3: %s: out of memory", w->n.shown);
    mcf__xfer_init(&x, &w->n, "POST");
    x.url = url;
    x.keep = &keep;
    rc = mcf__net_perform(&x, NULL, 0, MCF_FILE_WRITE_FAIL);
    if (rc == MCF_OK) mcf__buf_putc(&keep, 0);
    if (rc == MCF_OK && keep.failed)
        rc = mcf__fail(MCF_INTERNAL_ERROR, "s3: %s: CreateMultipartUpload (POST ?uploads=): out of memory keeping the answer", w->n.shown);
    if (rc == MCF_OK) {
        mcf__net_xml((const char *)keep.data, "UploadId", raw, sizeof raw);
        if (!raw[0]) rc = mcf__fail(MCF_FILE_WRITE_FAIL, "s3: %s: CreateMultipartUpload (POST ?uploads=): the answer has no <UploadId>", w->n.shown);
        else {
            mcf__net_encode(&id, raw, 0);
            if (!(w->upload_id = mcf__buf_cstr(&id))) rc = mcf__fail(MCF_INTERNAL_ERROR, "s3: %s: out of memory", w->n.shown);
        }
    }
    mcf__buf_free(&keep);
    MCF_FREE(url);
    return rc;
}

/* Keeps part part_no's ETag for CompleteMultipartUpload (parts sent at
 * once may end in any order). */
static int mcf__s3_note_part(mcf__net_writer *w, int part_no, const char *etag)
{
    static const char zeros[MCF__NET_TAG] = "";
    size_t at = (size_t)(part_no - 1) * MCF__NET_TAG;
    if (!etag[0]) return mcf__fail(MCF_FILE_WRITE_FAIL, "s3: PUT %s part %d: the answer has no ETag", w->n.shown, part_no);
    while (w->tags.len < at + MCF__NET_TAG && !w->tags.failed) mcf__buf_put(&w->tags, zeros, MCF__NET_TAG);
    if (w->tags.failed) return mcf__fail(MCF_INTERNAL_ERROR, "s3: %s: out of memory", w->n.shown);
    memcpy(w->tags.data + at, etag, strlen(etag) + 1);
    return MCF_OK;
}

/* The URL of the next part, counted; NULL (and *rc) past 10000 parts. */
static char *mcf__s3_next_part(mcf__net_writer *w, int *rc)
{
    char *url;
    if (++w->part_no > 10000) {
        *rc = mcf__fail(MCF_FILE_WRITE_FAIL, "s3: %s: more than 10000 parts; raise the part_size storage option", w->n.shown);
        return NULL;
    }
    if (!(url = mcf__net_query_url(w, w->part_no))) *rc = mcf__fail(MCF_INTERNAL_ERROR, "s3: %s: out of memory", w->n.shown);
    return url;
}

static int mcf__s3_start_part(mcf__net_writer *w, uint64_t len)
{
    char *url;
    int rc = MCF_OK;
    if (!(url = mcf__s3_next_part(w, &rc))) return rc;
    /* the URL must outlive the transfer: kept in the xfer, freed at finish */
    rc = mcf__upload_start(&w->upload, &w->n, url, (int64_t)len);
    if (rc != MCF_OK) {
        MCF_FREE(url);
        w->upload.x.url = NULL;
        return rc;
    }
    w->part_left = len;
    return MCF_OK;
}

static int mcf__s3_end_part(mcf__net_writer *w)
{
    char *url = (char *)w->upload.x.url;
    int rc = mcf__upload_finish(&w->upload);
    if (rc == MCF_OK) rc = mcf__s3_note_part(w, w->part_no, w->upload.x.etag);
    MCF_FREE(url);
    w->upload.x.url = NULL;
    return rc;
}

/* One buffered part (unknown total): start, send, finish. */
static int mcf__s3_flush_buf(mcf__net_writer *w)
{
    int rc;
    if ((rc = mcf__s3_start_part(w, w->buf_len)) != MCF_OK) return rc;
    if ((rc = mcf__upload_feed(&w->upload, w->buf, w->buf_len)) != MCF_OK) return rc;
    w->buf_len = 0;
    return mcf__s3_end_part(w);
}

/* ---- parallel multipart upload (threads > 1) ---- */
/* Runs the parts in flight one step (wait 0) or until one ends (wait 1);
 * a part that ended is noted, a part that failed after its retries fails
 * the upload. *idle: nothing was in flight. */
static int mcf__s3_par_wait(mcf__net_writer *w, int wait, int *idle)
{
    int rc = MCF_OK;
    long j = mcf__jobs_next(w->pm, w->jobs, w->n.threads, MCF_FILE_WRITE_FAIL, wait, &rc);
    *idle = j < 0;
    if (j < 0) return MCF_OK;
    if (rc == MCF_OK) rc = mcf__s3_note_part(w, (int)w->jobs[j].tag, w->jobs[j].x.etag);
    MCF_FREE((char *)w->jobs[j].x.url);
    w->jobs[j].x.url = NULL;
    return rc;
}

/* A free job to fill the next part into (waits for a part in flight to end). */
static int mcf__s3_par_slot(mcf__net_writer *w)
{
    unsigned i;
    int rc, idle;
    for (;;) {
        for (i = 0; i < w->n.threads && w->jobs[i].state != 0; i++) { }
        if (i < w->n.threads) break;
        if ((rc = mcf__s3_par_wait(w, 1, &idle)) != MCF_OK) return rc;
    }
    if (!w->pbuf[i] && (!mcf__fits_size(w->n.part_size) || !(w->pbuf[i] = (unsigned char *)mcf__malloc((size_t)w->n.part_size))))
        return mcf__fail(MCF_INTERNAL_ERROR, "s3: out of memory for a %llu-byte part", (unsigned long long)w->n.part_size);
    if (!w->jobs[i].x.h && !(w->jobs[i].x.h = curl_easy_init())) return mcf__fail(MCF_INTERNAL_ERROR, "s3: curl_easy_init failed");
    w->fill = (int)i;
    w->fill_len = 0;
    return MCF_OK;
}

/* Sends the filled part (replayable: it is retried on its own). */
static int mcf__s3_par_send(mcf__net_writer *w)
{
    mcf__job *j = &w->jobs[w->fill];
    CURL *h = j->x.h;
    char *url;
    int rc = MCF_OK, idle;
    if (!(url = mcf__s3_next_part(w, &rc))) return rc;
    mcf__xfer_init(&j->x, &w->n, "PUT");
    j->x.h = h;
    j->x.url = url;
    j->x.up = w->pbuf[w->fill];
    j->x.up_len = w->fill_len;
    (void)snprintf(j->x.what, sizeof j->x.what, "part %d", w->part_no);
    j->body = (int64_t)w->fill_len;
    j->range[0] = '\0';
    j->attempts = 0;
    j->tag = (uint64_t)w->part_no;
    w->fill = -1;
    if ((rc = mcf__job_start(w->pm, j)) != MCF_OK) return rc;
    do rc = mcf__s3_par_wait(w, 0, &idle);   /* collect what ended meanwhile */
    while (rc == MCF_OK && !idle);
    return rc;
}

static int mcf__s3_par_write(mcf__net_writer *w, const unsigned char *p, size_t len)
{
    int rc = MCF_OK;
    while (len > 0 && rc == MCF_OK) {
        uint64_t start, part;
        size_t k;
        if (w->fill < 0 && (rc = mcf__s3_par_slot(w)) != MCF_OK) break;
        start = w->done - w->fill_len;
        part = w->total == UINT64_MAX || w->total - start > w->n.part_size ? w->n.part_size : w->total - start;
        k = part - w->fill_len < (uint64_t)len ? (size_t)(part - w->fill_len) : len;
        memcpy(w->pbuf[w->fill] + w->fill_len, p, k);
        w->fill_len += k;
        w->done += k;
        p += k;
        len -= k;
        if (w->fill_len == part) rc = mcf__s3_par_send(w);
    }
    return rc;
}

/* Sends the last (partial, or for an empty object the only) part and waits
 * for every part in flight. */
static int mcf__s3_par_finish(mcf__net_writer *w)
{
    int rc = MCF_OK, idle = 0;
    if ((w->fill >= 0 && w->fill_len > 0) || w->part_no == 0) {
        if (w->fill < 0) rc = mcf__s3_par_slot(w);
        if (rc == MCF_OK) rc = mcf__s3_par_send(w);
    }
    while (rc == MCF_OK && !idle) rc = mcf__s3_par_wait(w, 1, &idle);
    return rc;
}

static int mcf__net_open_write(void *user, const mcf_url *u, uint64_t size, const mcf_options *o, void **file)
{
    mcf__net_writer *w;
    void *mem = NULL;
    uint64_t existing;
    int rc;
    (void)user;
    if ((rc = mcf__net_new(sizeof *w, u, o, &mem)) != MCF_OK) return rc;
    w = (mcf__net_writer *)mem;
    w->total = size;
    if (w->n.flags & MCF_NO_OVERWRITE) {
        char saved[MCF_ERROR_MAX];
        memcpy(saved, mcf__error_text, sizeof saved);
        rc = mcf__net_head(&w->n, &existing, MCF_FILE_OPEN_FAIL);
        if (rc == MCF_OK) rc = mcf__fail(MCF_FILE_OPEN_FAIL, "%s: %s already exists (MCF_NO_OVERWRITE)", w->n.who, w->n.shown);
        else if (rc == MCF_FILE_NOT_FOUND) {
            rc = MCF_OK;
            memcpy(mcf__error_text, saved, sizeof saved);
        }
        if (rc != MCF_OK) {
            mcf__net_writer_free(w);
            return rc;
        }
    }
    if (w->n.s3 && (size == UINT64_MAX || size > w->n.threshold)) {
        w->multipart = 1;
        w->fill = -1;
        if (w->n.threads > 1) {
            w->jobs = (mcf__job *)mcf__calloc(w->n.threads, sizeof *w->jobs);
            w->pbuf = (unsigned char **)mcf__calloc(w->n.threads, sizeof *w->pbuf);
            rc = w->jobs && w->pbuf && (w->pm = curl_multi_init()) != NULL ? mcf__s3_create_upload(w)
                 : mcf__fail(MCF_INTERNAL_ERROR, "s3: %s: out of memory", w->n.shown);
        } else if (size == UINT64_MAX && (!mcf__fits_size(w->n.part_size) || !(w->buf = (unsigned char *)mcf__malloc((size_t)w->n.part_size))))
            rc = mcf__fail(MCF_INTERNAL_ERROR, "s3: out of memory for a %llu-byte part", (unsigned long long)w->n.part_size);
        else rc = mcf__s3_create_upload(w);
    } else {
        /* one PUT; an unknown size goes chunked (plain HTTP servers only) */
        rc = mcf__upload_start(&w->upload, &w->n, NULL, size == UINT64_MAX ? (int64_t)-2 : (int64_t)size);
    }
    if (rc != MCF_OK) {
        mcf__net_writer_free(w);
        return rc;
    }
    *file = w;
    return MCF_OK;
}

static int mcf__net_write(void *file, const void *src, size_t len)
{
    mcf__net_writer *w = (mcf__net_writer *)file;
    const unsigned char *p = (const unsigned char *)src;
    int rc = MCF_OK;
    if (w->total != UINT64_MAX && len > w->total - w->done)
        return mcf__fail(MCF_INTERNAL_ERROR, "%s: %s: more bytes written than the %llu announced", w->n.who, w->n.shown, (unsigned long long)w->total);
    if (!w->multipart) {
        if ((rc = mcf__upload_feed(&w->upload, p, len)) == MCF_OK) w->done += len;
        return rc;
    }
    if (w->jobs) return mcf__s3_par_write(w, p, len);
    while (len > 0 && rc == MCF_OK) {
        size_t k;
        if (w->buf) {   /* unknown total: fill one part, then send it */
            k = (size_t)w->n.part_size - w->buf_len < len ? (size_t)w->n.part_size - w->buf_len : len;
            memcpy(w->buf + w->buf_len, p, k);
            w->buf_len += k;
            if (w->buf_len == (size_t)w->n.part_size) rc = mcf__s3_flush_buf(w);
        } else {        /* known total: stream each part as it comes */
            if (!w->upload.active) {
                uint64_t left = w->total - w->done;
                rc = mcf__s3_start_part(w, left < w->n.part_size ? left : w->n.part_size);
                if (rc != MCF_OK) break;
            }
            k = w->part_left < (uint64_t)len ? (size_t)w->part_left : len;
            if ((rc = mcf__upload_feed(&w->upload, p, k)) != MCF_OK) break;
            w->part_left -= k;
            if (w->part_left == 0) rc = mcf__s3_end_part(w);
        }
        p += k;
        len -= k;
        w->done += k;
    }
    return rc;
}

static void mcf__net_abort(void *file)
{
    mcf__net_writer *w = (mcf__net_writer *)file;
    char saved[MCF_ERROR_MAX];
    memcpy(saved, mcf__error_text, sizeof saved);   /* the caller reports the first failure */
    if (w->upload.x.url) {
        MCF_FREE((char *)w->upload.x.url);
        w->upload.x.url = NULL;
    }
    mcf__upload_stop(&w->upload);   /* a cut PUT publishes nothing */
    if (w->multipart && w->upload_id) {
        /* AbortMultipartUpload frees the parts; servers without it (s3rver
         * answers 405) keep unreferenced parts, but no object is visible */
        char *url = mcf__net_query_url(w, 0);
        mcf__xfer x;
        if (url) {
            mcf__xfer_init(&x, &w->n, "DELETE");
            x.url = url;
            (void)mcf__net_perform(&x, NULL, -1, MCF_FILE_WRITE_FAIL);
            MCF_FREE(url);
        }
    }
    memcpy(mcf__error_text, saved, sizeof saved);
    mcf__net_writer_free(w);
}

/* CompleteMultipartUpload: POST the part list; S3 may answer 200 and still
 * report an error in the body. */
static int mcf__s3_complete(mcf__net_writer *w)
{
    mcf__xfer x;
    mcf__buf xml, keep;
    char *url;
    int rc, i;
    memset(&xml, 0, sizeof xml);
    memset(&keep, 0, sizeof keep);
    mcf__buf_puts(&xml, "<CompleteMultipartUpload>");
    for (i = 0; i < w->part_no && (size_t)(i + 1) * MCF__NET_TAG <= w->tags.len; i++) {
        const char *etag = (const char *)w->tags.data + (size_t)i * MCF__NET_TAG;
        char head[64];
        (void)snprintf(head, sizeof head, "<Part><PartNumber>%d</PartNumber><ETag>", i + 1);
        mcf__buf_puts(&xml, head);
        for (; *etag; etag++) {   /* XML-escape the quotes S3 puts around ETags */
            if (*etag == '"') mcf__buf_puts(&xml, "&quot;");
            else if (*etag == '&') mcf__buf_puts(&xml, "&amp;");
            else if (*etag == '<') mcf__buf_puts(&xml, "&lt;");
            else mcf__buf_putc(&xml, (unsigned char)*etag);
        }
        mcf__buf_puts(&xml, "</ETag></Part>");
    }
    mcf__buf_puts(&xml, "</CompleteMultipartUpload>");
    url = mcf__net_query_url(w, 0);
    if (!url || xml.failed) rc = mcf__fail(MCF_INTERNAL_ERROR, "s3: %s: out of memory", w->n.shown);
    else {
        mcf__xfer_init(&x, &w->n, "POST");
        x.url = url;
        x.content_type = "application/xml";
        x.up = xml.data;
        x.up_len = xml.len;
        x.keep = &keep;
        rc = mcf__net_perform(&x, NULL, (int64_t)xml.len, MCF_FILE_WRITE_FAIL);
        mcf__buf_putc(&keep, 0);
        /* A 200 may still carry <Error>, so an answer that could not be kept
         * leaves the outcome unknown: say so rather than call it a refusal. */
        if (rc == MCF_OK && keep.failed) {
            rc = mcf__fail(MCF_INTERNAL_ERROR, "s3: %s: CompleteMultipartUpload (POST ?uploadId=...): out of memory keeping the answer; the object may or may not have been written", w->n.shown);
        } else if (rc == MCF_OK && strstr((const char *)keep.data, "<Error>")) {
            char code[96];
            mcf__net_xml((const char *)keep.data, "Code", code, sizeof code);
            rc = mcf__fail(MCF_PERSISTENT_FAIL, "s3: %s: CompleteMultipartUpload (POST ?uploadId=...) failed: %s", w->n.shown, code[0] ? code : "unreadable answer");
        }
    }
    MCF_FREE(url);
    mcf__buf_free(&xml);
    mcf__buf_free(&keep);
    return rc;
}

static int mcf__net_commit(void *file)
{
    mcf__net_writer *w = (mcf__net_writer *)file;
    int rc = MCF_OK;
    if (w->total != UINT64_MAX && w->done != w->total) {
        rc = mcf__fail(MCF_INTERNAL_ERROR, "%s: %s: commit after %llu of %llu announced bytes", w->n.who, w->n.shown,
                       (unsigned long long)w->done, (unsigned long long)w->total);
        mcf__net_abort(w);
        return rc;
    }
    if (!w->multipart) {
        rc = mcf__upload_finish(&w->upload);
        mcf__net_writer_free(w);
        return rc;
    }
    if (w->jobs) rc = mcf__s3_par_finish(w);
    else if (w->buf && (w->buf_len > 0 || w->part_no == 0)) rc = mcf__s3_flush_buf(w);
    if (rc == MCF_OK) rc = mcf__s3_complete(w);
    if (rc != MCF_OK) {
        mcf__net_abort(w);
        return rc;
    }
    mcf__net_writer_free(w);
    return MCF_OK;
}

static int mcf__curl_filesystem(const char *scheme, mcf_filesystem *out)
{
    static const mcf_filesystem fs = {
        "http", NULL, mcf__net_stat, mcf__net_open_read, mcf__net_read_at, NULL, mcf__net_close_read,
        mcf__net_open_write, mcf__net_write, mcf__net_commit, mcf__net_abort, mcf__net_remove, MCF_FS_THREADSAFE_READ
    };
    if (strcmp(scheme, "http") && strcmp(scheme, "https") && strcmp(scheme, "s3") && strcmp(scheme, "s3a")) return 0;
    *out = fs;
    out->scheme = strcmp(scheme, "http") == 0 ? "http" : strcmp(scheme, "https") == 0 ? "https" : strcmp(scheme, "s3") == 0 ? "s3" : "s3a";
    return 1;
}
#endif /* MOONCAKE_FILEIO_CURL */

/* ===== [13] fs registry & whole-object helpers =========================== */
/* Scheme -> backend: user registrations first, then the built-in memory,
 * file ([10] or [11]) and, with libcurl, http/https/s3 backends; and the
 * whole-object helpers, which resolve a URL to its backend and read, write,
 * stat or remove one object in one call. */
static mcf__mutex mcf__registry_lock = MCF__MUTEX_INIT;
static mcf_filesystem mcf__registry[MCF_MAX_FILESYSTEMS];
static int mcf__registry_count;

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
    if (i == MCF_MAX_FILESYSTEMS) rc = mcf__fail(MCF_INVALID_PARAMS, "mcf_register_filesystem: registry full (%d schemes)", MCF_MAX_FILESYSTEMS);
    else {
        mcf__registry[i] = *fs;
        if (i == mcf__registry_count) mcf__registry_count++;
    }
    mcf__unlock(&mcf__registry_lock);
    return rc;
}

/* The built-in backend serving scheme: 1 and *out filled, or 0. */
static int mcf__builtin_filesystem(const char *scheme, mcf_filesystem *out)
{
    if (strcmp(scheme, "memory") == 0) {
        *out = mcf__memory_fs;
        return 1;
    }
#ifdef MOONCAKE_FILEIO_CURL
    if (mcf__curl_filesystem(scheme, out)) return 1;
#endif
    if (strcmp(scheme, "file") != 0) return 0;
#if !defined(MCF_NO_POSIX) && defined(_WIN32)
    *out = mcf__win_fs;
    return 1;
#elif !defined(MCF_NO_POSIX)
    *out = mcf__posix_fs;
    return 1;
#else
    return 0;
#endif
}

/* Finds the backend for u->scheme; INVALID_PARAMS naming the known schemes. */
static int mcf__fs_lookup(const mcf_url *u, mcf_filesystem *out)
{
    char known[512];
    size_t k = 0;
    int i, found = 0;
    mcf__lock(&mcf__registry_lock);
    for (i = 0; i < mcf__registry_count && !found; i++)
        if (strcmp(mcf__registry[i].scheme, u->scheme) == 0) {
            *out = mcf__registry[i];
            found = 1;
        }
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

/* Whole-object helpers: one object written or read in one call. */
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
            size_t k = len - (size_t)s.done < MCF_CHUNK_SIZE ? len - (size_t)s.done : MCF_CHUNK_SIZE;
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

/* ===== [14] JSON read/write ============================================== */
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
        size_t k;
        if (*p < 0x80) { p++; continue; }   /* ASCII fast path */
        k = mcf__utf8_seq(p, end);
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
        /* fast path: the printable ASCII run up to the next quote, backslash, control or non-ASCII byte */
        while (p < end && *p >= 0x20 && *p < 0x80 && *p != '"' && *p != '\\') p++;
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

/* ===== [15] safetensors ================================================== */
/* Hugging Face safetensors (README "Format"; crate v0.7.0 tensor.rs): u64 LE
 * header length N, N bytes of JSON, the data buffer. Reader: reads only the
 * 8 + N header bytes; reference validation (contiguous, complete offsets,
 * exact spans, N <= 100 MB) plus stricter rules where readers could disagree.
 * Writer: byte-identical to the reference (dtype rank, then name bytes;
 * compact JSON; space padding to 8), all checks before mcf__sink_begin, data
 * streamed from the caller. [21] checks names (non-NULL, unique) first;
 * mcf__st_open fills r->entries/count and r->meta in header order. */

/* Position of each dtype in the crate's Dtype enum, written first to last. */
static int mcf__st_rank(mcf_dtype d)
{
    static const mcf_dtype order[MCF_DTYPE_COUNT] = {
        MCF_U64, MCF_I64, MCF_F64, MCF_C64, MCF_F32, MCF_U32, MCF_I32, MCF_BF16, MCF_F16, MCF_U16,
        MCF_I16, MCF_F8_E8M0, MCF_F8_E4M3, MCF_F8_E5M2, MCF_I8, MCF_U8, MCF_F6_E3M2, MCF_F6_E2M3, MCF_F4, MCF_BOOL,
        MCF_C128   /* never written: refused before sorting */
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

/* Refuses what safetensors cannot hold; *data = the buffer's total size. */
static int mcf__st_check_tensors(const mcf__sink *s, const mcf_tensor *t, size_t n, uint64_t *data)
{
    size_t i;
    *data = 0;
    for (i = 0; i < n; i++) {
        const mcf__dtype_info *d = &mcf__dtypes[t[i].dtype];
        uint64_t bits;
        if (!mcf__utf8_valid(t[i].name, strlen(t[i].name)))
            return mcf__fail(MCF_INVALID_PARAMS, "safetensors: %s: tensor name \"%s\" is not valid UTF-8", s->name, t[i].name);
        if (strcmp(t[i].name, "__metadata__") == 0)
            return mcf__fail(MCF_INVALID_PARAMS, "safetensors: %s: \"__metadata__\" is reserved and cannot name a tensor", s->name);
        if (!d->st)
            return mcf__fail(MCF_SERIALIZE_UNSUPPORTED, "safetensors: %s: tensor \"%s\" has dtype %s (torch.%s), which safetensors has no dtype for; save it as torch (.pt) or convert it",
                             s->name, t[i].name, d->name, d->torch);
        if (!mcf__mul64(mcf_tensor_numel(&t[i]), d->bits, &bits) || bits % 8)
            return mcf__fail(MCF_SERIALIZE_UNSUPPORTED, "safetensors: %s: tensor \"%s\": %llu elements of %s are not a whole number of bytes",
                             s->name, t[i].name, (unsigned long long)mcf_tensor_numel(&t[i]), d->name);
        if (!mcf__add64(*data, bits / 8, data))
            return mcf__fail(MCF_SERIALIZE_FAIL, "safetensors: %s: total tensor size overflows 64 bits", s->name);
    }
    return MCF_OK;
}

/* The metadata pairs checked (UTF-8, no duplicate key) and sorted by key
 * bytes as the reference writes them: *mkeys (MCF_MALLOC), *nmeta pairs. */
static int mcf__st_meta_keys(const mcf__sink *s, const char *const *meta, mcf__st_key **mkeys, size_t *nmeta)
{
    size_t i, n = 0, dup;
    *mkeys = NULL;
    *nmeta = 0;
    while (meta[2 * n]) {
        if (!meta[2 * n + 1])
            return mcf__fail(MCF_INVALID_PARAMS, "safetensors: %s: metadata key \"%s\" has no value (the list is key, value, ..., NULL)", s->name, meta[2 * n]);
        n++;
    }
    if (!(*mkeys = (mcf__st_key *)mcf__calloc(n ? n : 1, sizeof **mkeys))) return mcf__fail(MCF_INTERNAL_ERROR, "safetensors: %s: out of memory", s->name);
    *nmeta = n;
    for (i = 0; i < n; i++) {
        (*mkeys)[i].name = meta[2 * i];
        (*mkeys)[i].len = strlen(meta[2 * i]);
        (*mkeys)[i].idx = i;
        if (!mcf__utf8_valid(meta[2 * i], (*mkeys)[i].len) || !mcf__utf8_valid(meta[2 * i + 1], strlen(meta[2 * i + 1])))
            return mcf__fail(MCF_INVALID_PARAMS, "safetensors: %s: metadata \"%s\" is not valid UTF-8", s->name, meta[2 * i]);
    }
    if ((dup = mcf__st_sort_keys(*mkeys, n)) < n)
        return mcf__fail(MCF_INVALID_PARAMS, "safetensors: %s: duplicate metadata key \"%s\"", s->name, (*mkeys)[dup].name);
    return MCF_OK;
}

/* The header: compact JSON, __metadata__ first (when meta is not NULL),
 * then the tensors in key order, spaces to a multiple of 8. */
static void mcf__st_header(mcf__buf *hb, const mcf_tensor *t, const mcf__st_key *keys, size_t n,
                           const char *const *meta, const mcf__st_key *mkeys, size_t nmeta)
{
    uint64_t data = 0;
    size_t i;
    mcf__buf_putc(hb, '{');
    if (meta) {
        mcf__buf_puts(hb, "\"__metadata__\":{");
        for (i = 0; i < nmeta; i++) {
            const char *v = meta[2 * mkeys[i].idx + 1];
            if (i) mcf__buf_putc(hb, ',');
            mcf__json_put_str(hb, mkeys[i].name, mkeys[i].len);
            mcf__buf_putc(hb, ':');
            mcf__json_put_str(hb, v, strlen(v));
        }
        mcf__buf_putc(hb, '}');
    }
    for (i = 0; i < n; i++) {
        const mcf_tensor *ti = &t[keys[i].idx];
        uint64_t nb = mcf_tensor_nbytes(ti);
        if (i || meta) mcf__buf_putc(hb, ',');
        mcf__st_put_entry(hb, ti, data, data + nb);
        data += nb;
    }
    mcf__buf_putc(hb, '}');
    mcf__buf_put(hb, "       ", (8 - hb->len % 8) % 8);   /* a failed buffer stays put */
}

static int mcf__st_save(mcf__sink *s, const mcf_tensor *t, size_t n, const mcf_options *o)
{
    const char *const *meta = o ? o->metadata : NULL;
    mcf__st_key *keys = NULL, *mkeys = NULL;
    mcf__buf hb;
    size_t i, nmeta = 0;
    uint64_t data = 0, total = 0, hlen;
    unsigned char lenb[8];
    int rc;
    memset(&hb, 0, sizeof hb);
    /* every check happens before mcf__sink_begin: a refused save opens nothing */
    if ((rc = mcf__st_check_tensors(s, t, n, &data)) != MCF_OK) return rc;
    if (meta && (rc = mcf__st_meta_keys(s, meta, &mkeys, &nmeta)) != MCF_OK) goto done;
    keys = (mcf__st_key *)mcf__calloc(n ? n : 1, sizeof *keys);
    if (!keys) {
        rc = mcf__fail(MCF_INTERNAL_ERROR, "safetensors: %s: out of memory", s->name);
        goto done;
    }
    for (i = 0; i < n; i++) {
        keys[i].name = t[i].name;
        keys[i].len = strlen(t[i].name);
        keys[i].rank = mcf__st_rank(t[i].dtype);
        keys[i].idx = i;
    }
    (void)mcf__st_sort_keys(keys, n);   /* names are unique ([21] checked) */
    mcf__st_header(&hb, t, keys, n, meta, mkeys, nmeta);
    hlen = hb.len;
    if (hb.failed) rc = mcf__fail(MCF_INTERNAL_ERROR, "safetensors: %s: out of memory for the header", s->name);
    else if (hlen > MCF_MAX_HEADER)
        rc = mcf__fail(MCF_SERIALIZE_FAIL, "safetensors: %s: header of %llu bytes exceeds the %llu-byte limit", s->name,
                       (unsigned long long)hlen, (unsigned long long)MCF_MAX_HEADER);
    else if (!mcf__add64(8 + hlen, data, &total))
        rc = mcf__fail(MCF_SERIALIZE_FAIL, "safetensors: %s: file size overflows 64 bits", s->name);
    if (rc == MCF_OK) rc = mcf__sink_begin(s, total);
    mcf__put_le64(lenb, hlen);
    if (rc == MCF_OK) rc = mcf__sink_write(s, lenb, 8);
    if (rc == MCF_OK) rc = mcf__sink_write(s, hb.data, hb.len);
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
    size_t cap, offs_cap, meta_cap;  /* capacities of r->entries, offs, r->meta */
    uint64_t *offs;                  /* begin, end per entry */
} mcf__st_parse;

/* Room for one more entry and its two data offsets. */
static int mcf__st_grow(mcf__st_parse *p)
{
    mcf_reader *r = p->r;
    if (!mcf__grow((void **)&r->entries, &p->cap, r->count + 1, sizeof *r->entries) ||
        !mcf__grow((void **)&p->offs, &p->offs_cap, r->count + 1, 2 * sizeof *p->offs))
        return mcf__fail(MCF_INTERNAL_ERROR, "safetensors: %s: out of memory", r->name);
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

/* The "dtype" field's string: a safetensors dtype name. */
static int mcf__st_dtype(mcf__json *j, const char *rn, mcf__entry *e)
{
    char dt[128];
    size_t k = sizeof dt;
    int rc, i, nul;
    if ((rc = mcf__json_next(j)) != MCF_OK) return rc;
    if (j->type != MCF__J_STR) return mcf__fail(MCF_DESERIALIZE_FAIL, "safetensors: %s: tensor \"%s\": dtype is not a string", rn, e->name);
    if (j->tok_len < sizeof dt) {   /* longer decodes to > 21 bytes: no dtype is that long */
        k = mcf__json_unescape(j->tok, j->tok_len, dt, &nul);
        dt[k] = '\0';
    }
    for (i = 0; k < sizeof dt && i < (int)MCF_DTYPE_COUNT; i++)
        if (mcf__dtypes[i].st && strcmp(dt, mcf__dtypes[i].name) == 0) break;
    if (k < sizeof dt && i < (int)MCF_DTYPE_COUNT) {
        e->dtype = (mcf_dtype)i;
        return MCF_OK;
    }
    if (k < sizeof dt && (strcmp(dt, "F8_E5M2FNUZ") == 0 || strcmp(dt, "F8_E4M3FNUZ") == 0))
        return mcf__fail(MCF_NOT_SUPPORTED, "safetensors: %s: tensor \"%s\": dtype %s is not supported", rn, e->name, dt);
    return mcf__fail(MCF_DESERIALIZE_FAIL, "safetensors: %s: tensor \"%s\": unknown dtype \"%.*s\"", rn, e->name,
                     (int)(j->tok_len > 32 ? 32 : j->tok_len), (const char *)j->tok);
}

/* Exact size math (the reference's checked_mul chain), then the shape. */
static int mcf__st_size(const char *rn, mcf__entry *e, const uint64_t *shape, int ndim)
{
    uint64_t numel = 1, bits;
    int d;
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

/* Parses one tensor entry object; the key (name) is already in the entry. */
static int mcf__st_tensor(mcf__json *j, mcf__st_parse *p, mcf__entry *e, uint64_t *offs)
{
    uint64_t shape[MCF_MAX_DIMS];
    int rc, have_dtype = 0, have_shape = 0, have_offs = 0, ndim = 0, noffs = 0;
    const char *rn = p->r->name;
    if ((rc = mcf__json_next(j)) != MCF_OK) return rc;
    if (j->type != MCF__J_OBJ)
        return mcf__fail(MCF_DESERIALIZE_FAIL, "safetensors: %s: tensor \"%s\": entry is not a JSON object", rn, e->name);
    for (;;) {
        if ((rc = mcf__json_next(j)) != MCF_OK) return rc;
        if (j->type == MCF__J_OBJ_END) break;
        if (mcf__json_tok_is(j, "dtype")) {
            if (have_dtype++) return mcf__fail(MCF_DESERIALIZE_FAIL, "safetensors: %s: tensor \"%s\": repeated field \"dtype\"", rn, e->name);
            if ((rc = mcf__st_dtype(j, rn, e)) != MCF_OK) return rc;
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
            rc = mcf__json_next(j);
            if (rc == MCF_OK) rc = mcf__json_skip(j);
            if (rc != MCF_OK) return rc;
        }
    }
    if (!have_dtype || !have_shape || !have_offs)
        return mcf__fail(MCF_DESERIALIZE_FAIL, "safetensors: %s: tensor \"%s\": missing field \"%s\"", rn, e->name,
                         !have_dtype ? "dtype" : !have_shape ? "shape" : "data_offsets");
    return mcf__st_size(rn, e, shape, ndim);
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
        if (!mcf__grow((void **)&r->meta, &p->meta_cap, r->meta_count + 1, 2 * sizeof *r->meta))
            return mcf__fail(MCF_INTERNAL_ERROR, "safetensors: %s: out of memory", r->name);
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

/* Reads the header's keys: __metadata__ once, every other key a tensor. */
static int mcf__st_entries(mcf__st_parse *p, mcf__json *j)
{
    mcf_reader *r = p->r;
    int rc, nul, have_meta = 0;
    if ((rc = mcf__json_next(j)) != MCF_OK) return rc;
    if (j->type != MCF__J_OBJ) return mcf__fail(MCF_DESERIALIZE_FAIL, "safetensors: %s: the header is not a JSON object", r->name);
    for (;;) {
        mcf__entry *e;
        if ((rc = mcf__json_next(j)) != MCF_OK) return rc;
        if (j->type == MCF__J_OBJ_END) return MCF_OK;
        if (mcf__json_tok_is(j, "__metadata__")) {
            if (have_meta++) return mcf__fail(MCF_DESERIALIZE_FAIL, "safetensors: %s: repeated __metadata__ key", r->name);
            if ((rc = mcf__st_metadata(j, p)) != MCF_OK) return rc;
            continue;
        }
        if ((rc = mcf__st_grow(p)) != MCF_OK) return rc;
        e = &r->entries[r->count];
        memset(e, 0, sizeof *e);
        if (!(e->name = mcf__json_strdup(j, &nul))) return mcf__fail(MCF_INTERNAL_ERROR, "safetensors: %s: out of memory", r->name);
        r->count++;
        if (nul) return mcf__fail(MCF_NOT_SUPPORTED, "safetensors: %s: tensor name \"%s\\u0000...\" contains U+0000 (not representable as a C string)", r->name, e->name);
        if ((rc = mcf__st_tensor(j, p, e, p->offs + 2 * (r->count - 1))) != MCF_OK) return rc;
    }
}

/* Duplicate tensor names or metadata keys: two readers could see
 * different tensors. */
static int mcf__st_unique(mcf_reader *r)
{
    const char **names = (const char **)mcf__calloc(r->count > r->meta_count ? r->count + 1 : r->meta_count + 1, sizeof *names);
    size_t i;
    int rc;
    if (!names) return mcf__fail(MCF_INTERNAL_ERROR, "safetensors: %s: out of memory", r->name);
    for (i = 0; i < r->count; i++) names[i] = r->entries[i].name;
    rc = mcf__st_no_dups(r, names, r->count, "tensor name");
    for (i = 0; i < r->meta_count; i++) names[i] = r->meta[2 * i];
    if (rc == MCF_OK) rc = mcf__st_no_dups(r, names, r->meta_count, "__metadata__ key");
    MCF_FREE(names);
    return rc;
}

/* One tensor's place in the sorted offsets: it begins where the previous
 * one ended, and spans exactly its dtype x shape. */
static int mcf__st_check_span(const mcf_reader *r, const mcf__entry *e, uint64_t b, uint64_t en, uint64_t start)
{
    char shp[16 * MCF_MAX_DIMS + 4];
    size_t k = 0;
    int d;
    if (en < b)
        return mcf__fail(MCF_DESERIALIZE_FAIL, "safetensors: %s: tensor \"%s\": data_offsets [%llu,%llu) end before they begin", r->name, e->name,
                         (unsigned long long)b, (unsigned long long)en);
    if (b != start)
        return mcf__fail(MCF_DESERIALIZE_FAIL, "safetensors: %s: tensor \"%s\": data_offsets [%llu,%llu) %s (expected to begin at %llu)", r->name, e->name,
                         (unsigned long long)b, (unsigned long long)en, b < start ? "overlap the previous tensor" : "leave a gap after the previous tensor",
                         (unsigned long long)start);
    if (en - b == e->nbytes) return MCF_OK;
    for (d = 0; d < e->ndim; d++) k += (size_t)snprintf(shp + k, sizeof shp - k, "%s%lld", d ? "," : "", (long long)e->shape[d]);
    shp[k] = '\0';
    return mcf__fail(MCF_DESERIALIZE_FAIL, "safetensors: %s: tensor \"%s\" data_offsets [%llu,%llu) do not match dtype %s shape [%s] (%llu bytes)",
                     r->name, e->name, (unsigned long long)b, (unsigned long long)en, mcf__dtypes[e->dtype].name, shp, (unsigned long long)e->nbytes);
}

/* The offsets sorted by (begin, end) start at 0, are contiguous and exact;
 * *buffer_end = where the last one ends. */
static int mcf__st_check_offsets(mcf__st_parse *p, uint64_t *buffer_end)
{
    mcf_reader *r = p->r;
    mcf__st_span *spans = (mcf__st_span *)mcf__calloc(r->count + 1, sizeof *spans);
    uint64_t start = 0;
    size_t i;
    int rc = MCF_OK;
    if (!spans) return mcf__fail(MCF_INTERNAL_ERROR, "safetensors: %s: out of memory", r->name);
    for (i = 0; i < r->count; i++) {
        spans[i].begin = p->offs[2 * i];
        spans[i].end = p->offs[2 * i + 1];
        spans[i].idx = i;
    }
    if (r->count > 1) qsort(spans, r->count, sizeof *spans, mcf__st_span_cmp);
    for (i = 0; i < r->count && rc == MCF_OK; i++) {
        rc = mcf__st_check_span(r, &r->entries[spans[i].idx], spans[i].begin, spans[i].end, start);
        start = spans[i].end;
    }
    MCF_FREE(spans);
    *buffer_end = start;
    return rc;
}

/* Walks the (already validated) header and checks the layout: the buffer
 * must end exactly at the end of the file (MCF_LENIENT: or before it). */
static int mcf__st_walk(mcf__st_parse *p, const unsigned char *hdr, size_t n, uint64_t hlen)
{
    mcf_reader *r = p->r;
    mcf__json j;
    uint64_t start = 0, end, size = r->files[0].src.size;
    size_t i;
    int rc;
    mcf__json_init(&j, hdr, n, p->who);
    if ((rc = mcf__st_entries(p, &j)) != MCF_OK) return rc;
    if ((rc = mcf__st_unique(r)) != MCF_OK) return rc;
    if ((rc = mcf__st_check_offsets(p, &start)) != MCF_OK) return rc;
    if (!mcf__add64(8 + hlen, start, &end) || end > size)
        return mcf__fail(MCF_DESERIALIZE_FAIL, "safetensors: %s: tensor data ends at byte %llu%s, past the end of the file (%llu bytes)", r->name,
                         (unsigned long long)start, " of the buffer", (unsigned long long)size);
    if (end < size && !(r->flags & MCF_LENIENT))
        return mcf__fail(MCF_DESERIALIZE_FAIL, "safetensors: %s: %llu trailing bytes after the last tensor (the buffer ends at byte %llu of %llu; MCF_LENIENT accepts this)",
                         r->name, (unsigned long long)(size - end), (unsigned long long)end, (unsigned long long)size);
    for (i = 0; i < r->count; i++) {
        mcf__entry *e = &r->entries[i];
        e->offset = 8 + hlen + p->offs[2 * i];
        e->span = e->nbytes;
        e->contiguous = 1;
        e->aux = -1;
    }
    return MCF_OK;
}

/* Opens the reader's one file (a sharded reader opens each shard this way). */
static int mcf__st_open(mcf_reader *r)
{
    mcf__source *src = &r->files[0].src;
    mcf__st_parse p;
    unsigned char lenb[8], *owned = NULL;
    const unsigned char *hdr;
    char desc[64];
    uint64_t hlen, size = src->size;
    int rc;
    memset(&p, 0, sizeof p);
    p.r = r;
    (void)snprintf(p.who, sizeof p.who, "safetensors: %s", r->name);
    if ((rc = mcf__source_read(src, 0, lenb, size < 8 ? (size_t)size : 8)) != MCF_OK) return rc;
    /* a length <= 100 MB has four zero bytes, so text there is no header
     * length at all: say what the file is instead of quoting a huge number */
    if (mcf__is_text(lenb, size < 8 ? (size_t)size : 8))
        return mcf__fail(MCF_DESERIALIZE_FAIL, "safetensors: %s: not a safetensors file: it begins with %s, where an 8-byte little-endian header length belongs",
                         r->name, mcf__head_desc(lenb, size < 8 ? (size_t)size : 8, desc));
    if (size < 8)
        return mcf__fail(MCF_DESERIALIZE_FAIL, "safetensors: %s: not a safetensors file: file of %llu bytes is too short for the 8-byte header length", r->name, (unsigned long long)size);
    hlen = mcf__le64(lenb);
    /* both limits are checked before anything is allocated */
    if (hlen > MCF_MAX_HEADER)
        return mcf__fail(MCF_DESERIALIZE_FAIL, "safetensors: %s: not a safetensors file: header length %llu exceeds the limit of %llu bytes (the file begins with %s)", r->name,
                         (unsigned long long)hlen, (unsigned long long)MCF_MAX_HEADER, mcf__head_desc(lenb, 8, desc));
    if (hlen > size - 8)
        return mcf__fail(MCF_DESERIALIZE_FAIL, "safetensors: %s: header length %llu runs past the end of the file (%llu bytes)", r->name,
                         (unsigned long long)hlen, (unsigned long long)size);
    if (src->base) hdr = src->base + 8;   /* mapped or in memory: parse in place */
    else {
        if (!(owned = (unsigned char *)mcf__malloc((size_t)hlen)))
            return mcf__fail(MCF_INTERNAL_ERROR, "safetensors: %s: out of memory for a %llu-byte header", r->name, (unsigned long long)hlen);
        if ((rc = mcf__source_read(src, 8, owned, (size_t)hlen)) != MCF_OK) { MCF_FREE(owned); return rc; }
        hdr = owned;
    }
    /* the whole header must be valid JSON before any of it is interpreted */
    rc = mcf__json_validate(hdr, (size_t)hlen, p.who);
    if (rc == MCF_OK) rc = mcf__st_walk(&p, hdr, (size_t)hlen, hlen);
    MCF_FREE(owned);
    MCF_FREE(p.offs);
    return rc;
}

/* ===== [16] zip ========================================================== */
/* PKWARE APPNOTE 6.3.x subset that torch.save writes and reads: Stored
 * entries only, general-purpose flags 0x0808 (data descriptor + UTF-8), local
 * headers with zero CRC/sizes and an "FB" extra field padding each entry's
 * data to a 64-byte boundary, a central directory without extras (zip64 ones
 * when a size or offset reaches 0xFFFFFFFF), then zip64 end record, zip64
 * locator and the classic end record, always. The reader trusts only the
 * central directory (local sizes are zero) and checks every offset/size
 * against the object size before use; entries may not overlap. Record
 * fields are named below by their byte offsets (APPNOTE section 4.3). */
#define MCF__ZIP_LOCAL_SIG   0x04034b50u
#define MCF__ZIP_CENTRAL_SIG 0x02014b50u
#define MCF__ZIP_DESC_SIG    0x08074b50u
#define MCF__ZIP_EOCD_SIG    0x06054b50u
#define MCF__ZIP64_EOCD_SIG  0x06064b50u
#define MCF__ZIP64_LOC_SIG   0x07064b50u
#define MCF__ZIP_MAX32       0xFFFFFFFFull   /* a 32-bit field that says "see zip64" */
#define MCF__ZIP_ALIGN       64u             /* torch aligns entry data to 64 bytes */

enum {
    /* local file header (4.3.7); the name follows at LOCAL_LEN */
    MCF__ZIP_LOCAL_LEN = 30,
    MCF__ZIP_LOCAL_FLAGS = 6,
    MCF__ZIP_LOCAL_CSIZE = 18,
    MCF__ZIP_LOCAL_USIZE = 22,
    MCF__ZIP_LOCAL_NAME_LEN = 26,
    MCF__ZIP_LOCAL_EXTRA_LEN = 28,
    /* central directory file header (4.3.12); the name follows at CENTRAL_LEN */
    MCF__ZIP_CENTRAL_LEN = 46,
    MCF__ZIP_CENTRAL_FLAGS = 8,
    MCF__ZIP_CENTRAL_METHOD = 10,
    MCF__ZIP_CENTRAL_CRC = 16,
    MCF__ZIP_CENTRAL_CSIZE = 20,
    MCF__ZIP_CENTRAL_USIZE = 24,
    MCF__ZIP_CENTRAL_NAME_LEN = 28,
    MCF__ZIP_CENTRAL_EXTRA_LEN = 30,
    MCF__ZIP_CENTRAL_COMMENT_LEN = 32,
    MCF__ZIP_CENTRAL_LOCAL_OFF = 42,
    /* data descriptor (4.3.9): signature, CRC, then both sizes (4 or 8 bytes) */
    MCF__ZIP_DESC_CRC = 4,
    MCF__ZIP_DESC_SIZES = 8,
    MCF__ZIP_DESC_LEN = 16,
    MCF__ZIP64_DESC_LEN = 24,
    /* end of central directory record (4.3.16), then a comment */
    MCF__ZIP_END_LEN = 22,
    MCF__ZIP_END_DISK = 4,
    MCF__ZIP_END_CD_DISK = 6,
    MCF__ZIP_END_DISK_ENTRIES = 8,
    MCF__ZIP_END_ENTRIES = 10,
    MCF__ZIP_END_CD_SIZE = 12,
    MCF__ZIP_END_CD_OFF = 16,
    MCF__ZIP_END_COMMENT_LEN = 20,
    MCF__ZIP_COMMENT_MAX = 65535,
    /* zip64 end of central directory record (4.3.14) */
    MCF__ZIP64_END_LEN = 56,
    MCF__ZIP64_END_SIZE = 4,                /* bytes after this field: LEN - 12 */
    MCF__ZIP64_END_MADE_BY = 12,
    MCF__ZIP64_END_NEEDED = 14,
    MCF__ZIP64_END_DISK = 16,
    MCF__ZIP64_END_CD_DISK = 20,
    MCF__ZIP64_END_DISK_ENTRIES = 24,
    MCF__ZIP64_END_ENTRIES = 32,
    MCF__ZIP64_END_CD_SIZE = 40,
    MCF__ZIP64_END_CD_OFF = 48,
    /* zip64 end of central directory locator (4.3.15) */
    MCF__ZIP64_LOC_LEN = 20,
    MCF__ZIP64_LOC_DISK = 4,
    MCF__ZIP64_LOC_END_OFF = 8,
    MCF__ZIP64_LOC_DISKS = 16,
    /* extensible data fields (4.5): id, length, data */
    MCF__ZIP_EXTRA_HEAD = 4,
    MCF__ZIP64_EXTRA_ID = 0x0001,           /* 4.5.3: the 64-bit sizes and offset */
    MCF__ZIP_FB_EXTRA_ID = 0x4246,          /* "FB": torch's padding field */
    /* general-purpose bit flags (4.4.4) and the values written */
    MCF__ZIP_FLAG_ENCRYPTED = 0x0001,
    MCF__ZIP_FLAG_DESCRIPTOR = 0x0008,
    MCF__ZIP_FLAG_STRONG_ENCRYPTION = 0x0040,
    MCF__ZIP_FLAG_UTF8 = 0x0800,
    MCF__ZIP_METHOD_STORED = 0,
    MCF__ZIP64_MADE_BY = 0x031E,            /* host 3 (Unix), APPNOTE 3.0 */
    MCF__ZIP64_VERSION_NEEDED = 45          /* 4.5: zip64 */
};

/* The records at the end of every archive this writer makes. */
#define MCF__ZIP_TAIL_LEN (MCF__ZIP64_END_LEN + MCF__ZIP64_LOC_LEN + MCF__ZIP_END_LEN)

/* One entry of an archive being written or read. */
typedef struct mcf__zip_entry {
    char *name;
    uint64_t size;          /* bytes in the archive (Stored: = uncompressed size) */
    uint64_t header_off;    /* local header */
    uint64_t data_off;      /* first data byte */
    uint32_t crc;
    unsigned method;        /* reader: compression method */
    unsigned extra_len;     /* writer: local extra length (zip64 + FB) */
} mcf__zip_entry;

static void mcf__zip_free_entries(mcf__zip_entry *e, size_t n)
{
    size_t i;
    if (!e) return;
    for (i = 0; i < n; i++) MCF_FREE(e[i].name);
    MCF_FREE(e);
}

/* ---- writer ---- */
/* Entries of 4 GiB or more carry zip64 sizes. */
static int mcf__zipw_big(const mcf__zip_entry *e) { return e->size >= MCF__ZIP_MAX32; }

/* torch (miniz) writes an empty entry with the UTF-8 flag only and no
 * data descriptor; every other entry has one. */
static uint16_t mcf__zipw_flags(const mcf__zip_entry *e)
{
    return (uint16_t)(e->size ? MCF__ZIP_FLAG_DESCRIPTOR | MCF__ZIP_FLAG_UTF8 : MCF__ZIP_FLAG_UTF8);
}

static unsigned mcf__zipw_desc_len(const mcf__zip_entry *e)
{
    if (e->size == 0) return 0;
    return mcf__zipw_big(e) ? MCF__ZIP64_DESC_LEN : MCF__ZIP_DESC_LEN;
}

/* Writer: places entry e at *pos and advances *pos past its descriptor. */
static void mcf__zipw_place(mcf__zip_entry *e, uint64_t *pos)
{
    unsigned zip64 = mcf__zipw_big(e) ? MCF__ZIP_EXTRA_HEAD + 16u : 0u;   /* both sizes */
    uint64_t fixed = *pos + MCF__ZIP_LOCAL_LEN + strlen(e->name) + zip64 + MCF__ZIP_EXTRA_HEAD;
    unsigned pad = (unsigned)((MCF__ZIP_ALIGN - fixed % MCF__ZIP_ALIGN) % MCF__ZIP_ALIGN);
    e->header_off = *pos;
    e->extra_len = zip64 + MCF__ZIP_EXTRA_HEAD + pad;
    e->data_off = fixed + pad;
    *pos = e->data_off + e->size + mcf__zipw_desc_len(e);
}

/* Bytes of the zip64 extra field of e's central record (0: none). */
static unsigned mcf__zipw_central_zip64(const mcf__zip_entry *e)
{
    unsigned x = (mcf__zipw_big(e) ? 16u : 0u) + (e->header_off >= MCF__ZIP_MAX32 ? 8u : 0u);
    return x ? MCF__ZIP_EXTRA_HEAD + x : 0u;
}

/* Central directory record bytes of e (46 + name + zip64 extra). */
static uint64_t mcf__zipw_central_len(const mcf__zip_entry *e)
{
    return MCF__ZIP_CENTRAL_LEN + strlen(e->name) + mcf__zipw_central_zip64(e);
}

/* Writes n padding bytes ('Z', as torch does). */
static int mcf__zipw_pad(mcf__sink *s, size_t n)
{
    unsigned char z[64];
    int rc = MCF_OK;
    memset(z, 'Z', sizeof z);
    while (n > 0 && rc == MCF_OK) {
        size_t k = n < sizeof z ? n : sizeof z;
        rc = mcf__sink_write(s, z, k);
        n -= k;
    }
    return rc;
}

/* Local header with zip64 sizes (only past 4 GiB) and the FB padding field. */
static int mcf__zipw_local(mcf__sink *s, const mcf__zip_entry *e)
{
    unsigned char h[MCF__ZIP_LOCAL_LEN], x[MCF__ZIP_EXTRA_HEAD + 16 + MCF__ZIP_EXTRA_HEAD];
    size_t nl = strlen(e->name), xl = 0;
    int rc;
    memset(h, 0, sizeof h);
    memset(x, 0, sizeof x);
    mcf__put_le32(h, MCF__ZIP_LOCAL_SIG);
    mcf__put_le16(h + MCF__ZIP_LOCAL_FLAGS, mcf__zipw_flags(e));
    if (mcf__zipw_big(e)) {
        mcf__put_le32(h + MCF__ZIP_LOCAL_CSIZE, (uint32_t)MCF__ZIP_MAX32);
        mcf__put_le32(h + MCF__ZIP_LOCAL_USIZE, (uint32_t)MCF__ZIP_MAX32);
        /* 4.5.3: a local zip64 field holds both sizes (zero: the descriptor follows) */
        mcf__put_le16(x, MCF__ZIP64_EXTRA_ID);
        mcf__put_le16(x + 2, 16);
        xl = MCF__ZIP_EXTRA_HEAD + 16;
    }
    mcf__put_le16(h + MCF__ZIP_LOCAL_NAME_LEN, (uint16_t)nl);
    mcf__put_le16(h + MCF__ZIP_LOCAL_EXTRA_LEN, (uint16_t)e->extra_len);
    mcf__put_le16(x + xl, MCF__ZIP_FB_EXTRA_ID);
    mcf__put_le16(x + xl + 2, (uint16_t)(e->extra_len - xl - MCF__ZIP_EXTRA_HEAD));
    rc = mcf__sink_write(s, h, sizeof h);
    if (rc == MCF_OK) rc = mcf__sink_write(s, e->name, nl);
    if (rc == MCF_OK) rc = mcf__sink_write(s, x, xl + MCF__ZIP_EXTRA_HEAD);
    if (rc == MCF_OK) rc = mcf__zipw_pad(s, e->extra_len - xl - MCF__ZIP_EXTRA_HEAD);
    return rc;
}

/* Data descriptor: 16 bytes, or 24 with 64-bit sizes for a zip64 entry. */
static int mcf__zipw_descriptor(mcf__sink *s, const mcf__zip_entry *e)
{
    unsigned char d[MCF__ZIP64_DESC_LEN];
    if (e->size == 0) return MCF_OK;
    mcf__put_le32(d, MCF__ZIP_DESC_SIG);
    mcf__put_le32(d + MCF__ZIP_DESC_CRC, e->crc);
    if (mcf__zipw_big(e)) {
        mcf__put_le64(d + MCF__ZIP_DESC_SIZES, e->size);
        mcf__put_le64(d + MCF__ZIP_DESC_SIZES + 8, e->size);
    } else {
        mcf__put_le32(d + MCF__ZIP_DESC_SIZES, (uint32_t)e->size);
        mcf__put_le32(d + MCF__ZIP_DESC_SIZES + 4, (uint32_t)e->size);
    }
    return mcf__sink_write(s, d, mcf__zipw_desc_len(e));
}

/* A 32-bit field: v, or 0xFFFFFFFF when v is in the zip64 extra field. */
static uint32_t mcf__zipw_u32(uint64_t v) { return v >= MCF__ZIP_MAX32 ? (uint32_t)MCF__ZIP_MAX32 : (uint32_t)v; }

/* Central directory record of e, with its zip64 extra field (4.5.3 order:
 * size, compressed size, offset). */
static void mcf__zipw_central(mcf__buf *b, const mcf__zip_entry *e)
{
    unsigned char h[MCF__ZIP_CENTRAL_LEN], x[MCF__ZIP_EXTRA_HEAD + 24];
    unsigned xl = mcf__zipw_central_zip64(e);
    size_t nl = strlen(e->name), k = MCF__ZIP_EXTRA_HEAD;
    memset(h, 0, sizeof h);
    mcf__put_le32(h, MCF__ZIP_CENTRAL_SIG);
    mcf__put_le16(h + MCF__ZIP_CENTRAL_FLAGS, mcf__zipw_flags(e));
    mcf__put_le32(h + MCF__ZIP_CENTRAL_CRC, e->crc);
    mcf__put_le32(h + MCF__ZIP_CENTRAL_CSIZE, mcf__zipw_u32(e->size));
    mcf__put_le32(h + MCF__ZIP_CENTRAL_USIZE, mcf__zipw_u32(e->size));
    mcf__put_le16(h + MCF__ZIP_CENTRAL_NAME_LEN, (uint16_t)nl);
    mcf__put_le16(h + MCF__ZIP_CENTRAL_EXTRA_LEN, (uint16_t)xl);
    mcf__put_le32(h + MCF__ZIP_CENTRAL_LOCAL_OFF, mcf__zipw_u32(e->header_off));
    mcf__buf_put(b, h, sizeof h);
    mcf__buf_put(b, e->name, nl);
    if (!xl) return;
    mcf__put_le16(x, MCF__ZIP64_EXTRA_ID);
    mcf__put_le16(x + 2, (uint16_t)(xl - MCF__ZIP_EXTRA_HEAD));
    if (mcf__zipw_big(e)) {
        mcf__put_le64(x + k, e->size);
        mcf__put_le64(x + k + 8, e->size);
        k += 16;
    }
    if (e->header_off >= MCF__ZIP_MAX32) mcf__put_le64(x + k, e->header_off);
    mcf__buf_put(b, x, xl);
}

/* Zip64 end record + locator and the classic end record for n entries whose
 * directory of cd_len bytes starts at cd_off. */
static void mcf__zipw_end(mcf__buf *b, size_t n, uint64_t cd_off, uint64_t cd_len)
{
    unsigned char h[MCF__ZIP_TAIL_LEN], *loc = h + MCF__ZIP64_END_LEN, *end = loc + MCF__ZIP64_LOC_LEN;
    uint16_t n16 = (uint16_t)(n >= 0xFFFF ? 0xFFFF : n);
    memset(h, 0, sizeof h);
    mcf__put_le32(h, MCF__ZIP64_EOCD_SIG);
    mcf__put_le64(h + MCF__ZIP64_END_SIZE, MCF__ZIP64_END_LEN - 12);
    mcf__put_le16(h + MCF__ZIP64_END_MADE_BY, MCF__ZIP64_MADE_BY);
    mcf__put_le16(h + MCF__ZIP64_END_NEEDED, MCF__ZIP64_VERSION_NEEDED);
    mcf__put_le64(h + MCF__ZIP64_END_DISK_ENTRIES, n);
    mcf__put_le64(h + MCF__ZIP64_END_ENTRIES, n);
    mcf__put_le64(h + MCF__ZIP64_END_CD_SIZE, cd_len);
    mcf__put_le64(h + MCF__ZIP64_END_CD_OFF, cd_off);
    mcf__put_le32(loc, MCF__ZIP64_LOC_SIG);
    mcf__put_le64(loc + MCF__ZIP64_LOC_END_OFF, cd_off + cd_len);
    mcf__put_le32(loc + MCF__ZIP64_LOC_DISKS, 1);
    mcf__put_le32(end, MCF__ZIP_EOCD_SIG);
    mcf__put_le16(end + MCF__ZIP_END_DISK_ENTRIES, n16);
    mcf__put_le16(end + MCF__ZIP_END_ENTRIES, n16);
    mcf__put_le32(end + MCF__ZIP_END_CD_SIZE, mcf__zipw_u32(cd_len));
    mcf__put_le32(end + MCF__ZIP_END_CD_OFF, mcf__zipw_u32(cd_off));
    mcf__buf_put(b, h, sizeof h);
}

/* Central directory and end records (the directory at cd_off). */
static void mcf__zipw_directory(mcf__buf *b, const mcf__zip_entry *e, size_t n, uint64_t cd_off)
{
    size_t i, start = b->len;
    for (i = 0; i < n; i++) mcf__zipw_central(b, &e[i]);
    mcf__zipw_end(b, n, cd_off, b->len - start);
}

/* ---- reader ---- */
/* 1 if the object starts with a local header signature (or, when shorter
 * than 4 bytes, with the start of one): an archive that lost its end. */
static int mcf__zipr_cut_short(mcf__source *src)
{
    unsigned char sig[4], h[4];
    size_t n = src->size < 4 ? (size_t)src->size : 4;
    mcf__put_le32(sig, MCF__ZIP_LOCAL_SIG);
    return n > 0 && mcf__source_read(src, 0, h, n) == MCF_OK && memcmp(h, sig, n) == 0;
}

/* Where the archive ends: the directory's place and size, its entry count,
 * and limit, the offset of the first end record (nothing of an entry or the
 * directory may reach it). */
typedef struct mcf__zipr_dir {
    uint64_t count, cd_off, cd_len, limit;
} mcf__zipr_dir;

/* Finds the classic end record, searched backwards from the end (it may be
 * followed by a comment of up to 65535 bytes). torch.save writes no comment,
 * so the record is usually the last 22 bytes: one small read (a remote open
 * stays within its byte budget) before scanning the window that the longest
 * comment could need. Fills d from it; *eocd = its offset. */
static int mcf__zipr_classic_end(mcf__source *src, mcf__zipr_dir *d, uint64_t *eocd)
{
    unsigned char *tail, *r;
    uint64_t size = src->size, tail_off;
    size_t tl = MCF__ZIP_END_LEN, i;
    int rc;
    *eocd = UINT64_MAX;
    tail_off = size - tl;
    if (!(tail = (unsigned char *)mcf__malloc(MCF__ZIP_END_LEN + MCF__ZIP_COMMENT_MAX)))
        return mcf__fail(MCF_INTERNAL_ERROR, "zip: %s: out of memory", src->name);
    rc = mcf__source_read(src, tail_off, tail, tl);
    if (rc == MCF_OK && mcf__le32(tail) == MCF__ZIP_EOCD_SIG && mcf__le16(tail + MCF__ZIP_END_COMMENT_LEN) == 0)
        *eocd = tail_off;
    if (rc == MCF_OK && *eocd == UINT64_MAX && size > MCF__ZIP_END_LEN) {
        tl = size < MCF__ZIP_END_LEN + MCF__ZIP_COMMENT_MAX ? (size_t)size : MCF__ZIP_END_LEN + MCF__ZIP_COMMENT_MAX;
        tail_off = size - tl;
        rc = mcf__source_read(src, tail_off, tail, tl);
    }
    for (i = tl - MCF__ZIP_END_LEN + 1; rc == MCF_OK && *eocd == UINT64_MAX && i-- > 0;) {
        if (mcf__le32(tail + i) != MCF__ZIP_EOCD_SIG) continue;
        if (i + MCF__ZIP_END_LEN + mcf__le16(tail + i + MCF__ZIP_END_COMMENT_LEN) == tl) *eocd = tail_off + i;
    }
    if (rc == MCF_OK && *eocd == UINT64_MAX) {
        if (mcf__zipr_cut_short(src))
            rc = mcf__fail(MCF_DESERIALIZE_FAIL, "zip: %s: truncated: %llu bytes, the end of the archive is missing (no end-of-central-directory record in the last %lu bytes)",
                           src->name, (unsigned long long)size, (unsigned long)tl);
        else
            rc = mcf__fail(MCF_DESERIALIZE_FAIL, "zip: %s: no end-of-central-directory record in the last %lu bytes", src->name, (unsigned long)tl);
    }
    if (rc != MCF_OK) {
        MCF_FREE(tail);
        return rc;
    }
    r = tail + (size_t)(*eocd - tail_off);
    if (mcf__le16(r + MCF__ZIP_END_DISK) != 0 || mcf__le16(r + MCF__ZIP_END_CD_DISK) != 0 ||
        mcf__le16(r + MCF__ZIP_END_DISK_ENTRIES) != mcf__le16(r + MCF__ZIP_END_ENTRIES))
        rc = mcf__fail(MCF_NOT_SUPPORTED, "zip: %s: multi-disk (split) archives are not supported", src->name);
    d->count = mcf__le16(r + MCF__ZIP_END_ENTRIES);
    d->cd_len = mcf__le32(r + MCF__ZIP_END_CD_SIZE);
    d->cd_off = mcf__le32(r + MCF__ZIP_END_CD_OFF);
    d->limit = *eocd;
    MCF_FREE(tail);
    return rc;
}

/* The zip64 end record, when a locator precedes the classic one at eocd:
 * it overrides the 16/32-bit fields. */
static int mcf__zipr_zip64_end(mcf__source *src, mcf__zipr_dir *d, uint64_t eocd)
{
    unsigned char z[MCF__ZIP64_END_LEN];
    uint64_t loc;
    int rc;
    if (eocd < MCF__ZIP64_LOC_LEN) return MCF_OK;
    if ((rc = mcf__source_read(src, eocd - MCF__ZIP64_LOC_LEN, z, MCF__ZIP64_LOC_LEN)) != MCF_OK) return rc;
    if (mcf__le32(z) != MCF__ZIP64_LOC_SIG) return MCF_OK;
    loc = mcf__le64(z + MCF__ZIP64_LOC_END_OFF);
    if (mcf__le32(z + MCF__ZIP64_LOC_DISK) != 0 || mcf__le32(z + MCF__ZIP64_LOC_DISKS) > 1)
        return mcf__fail(MCF_NOT_SUPPORTED, "zip: %s: multi-disk (split) zip64 archives are not supported", src->name);
    if (loc > eocd - MCF__ZIP64_LOC_LEN || eocd - MCF__ZIP64_LOC_LEN - loc < MCF__ZIP64_END_LEN)
        return mcf__fail(MCF_DESERIALIZE_FAIL, "zip: %s: zip64 locator points at offset %llu, outside the file before its end records",
                         src->name, (unsigned long long)loc);
    if ((rc = mcf__source_read(src, loc, z, MCF__ZIP64_END_LEN)) != MCF_OK) return rc;
    if (mcf__le32(z) != MCF__ZIP64_EOCD_SIG)
        return mcf__fail(MCF_DESERIALIZE_FAIL, "zip: %s: no zip64 end record at offset %llu named by the locator", src->name, (unsigned long long)loc);
    if (mcf__le32(z + MCF__ZIP64_END_DISK) != 0 || mcf__le32(z + MCF__ZIP64_END_CD_DISK) != 0 ||
        mcf__le64(z + MCF__ZIP64_END_DISK_ENTRIES) != mcf__le64(z + MCF__ZIP64_END_ENTRIES))
        return mcf__fail(MCF_NOT_SUPPORTED, "zip: %s: multi-disk (split) zip64 archives are not supported", src->name);
    d->count = mcf__le64(z + MCF__ZIP64_END_ENTRIES);
    d->cd_len = mcf__le64(z + MCF__ZIP64_END_CD_SIZE);
    d->cd_off = mcf__le64(z + MCF__ZIP64_END_CD_OFF);
    d->limit = loc;
    return MCF_OK;
}

/* Reader: the end records, then the checks every later read relies on. */
static int mcf__zipr_end(mcf__source *src, mcf__zipr_dir *d)
{
    uint64_t size = src->size, eocd;
    int rc;
    if (size < MCF__ZIP_END_LEN && mcf__zipr_cut_short(src))
        return mcf__fail(MCF_DESERIALIZE_FAIL, "zip: %s: truncated: %llu bytes, too small for a zip end record (22 bytes)", src->name, (unsigned long long)size);
    if (size < MCF__ZIP_END_LEN)
        return mcf__fail(MCF_DESERIALIZE_FAIL, "zip: %s: %llu bytes is too small for a zip end record", src->name, (unsigned long long)size);
    if ((rc = mcf__zipr_classic_end(src, d, &eocd)) != MCF_OK) return rc;
    if ((rc = mcf__zipr_zip64_end(src, d, eocd)) != MCF_OK) return rc;
    if (d->count > MCF_MAX_ZIP_ENTRIES)
        return mcf__fail(MCF_DESERIALIZE_FAIL, "zip: %s: %llu entries exceed the limit of %lu (MCF_MAX_ZIP_ENTRIES)",
                         src->name, (unsigned long long)d->count, (unsigned long)MCF_MAX_ZIP_ENTRIES);
    if (d->cd_off > d->limit || d->cd_len > d->limit - d->cd_off)
        return mcf__fail(MCF_DESERIALIZE_FAIL, "zip: %s: central directory [%llu, +%llu) passes its end record at %llu",
                         src->name, (unsigned long long)d->cd_off, (unsigned long long)d->cd_len, (unsigned long long)d->limit);
    if (d->cd_len / MCF__ZIP_CENTRAL_LEN < d->count)
        return mcf__fail(MCF_DESERIALIZE_FAIL, "zip: %s: central directory of %llu bytes cannot hold %llu entries",
                         src->name, (unsigned long long)d->cd_len, (unsigned long long)d->count);
    return MCF_OK;
}

/* Reads a zip64 extended-information field for the values marked 0xFFFFFFFF. */
static int mcf__zipr_zip64(const unsigned char *x, size_t xl, uint64_t *usize, uint64_t *csize, uint64_t *off)
{
    int need_u = *usize == MCF__ZIP_MAX32, need_c = *csize == MCF__ZIP_MAX32, need_o = *off == MCF__ZIP_MAX32;
    size_t k = 0;
    while (k + MCF__ZIP_EXTRA_HEAD <= xl) {
        unsigned id = mcf__le16(x + k), len = mcf__le16(x + k + 2);
        size_t q = k + MCF__ZIP_EXTRA_HEAD, end = q + len;
        if (len > xl - q) return 0;
        if (id != MCF__ZIP64_EXTRA_ID) {
            k = end;
            continue;
        }
        if (need_u) {
            if (q + 8 > end) return 0;
            *usize = mcf__le64(x + q);
            q += 8;
        }
        if (need_c) {
            if (q + 8 > end) return 0;
            *csize = mcf__le64(x + q);
            q += 8;
        }
        if (need_o) {
            if (q + 8 > end) return 0;
            *off = mcf__le64(x + q);
        }
        return 1;
    }
    return !(need_u || need_c || need_o);
}

/* Parses central directory record n at cd[*pos] into e (e->name is set,
 * and the caller's to free, from the name check on) and moves *pos past it.
 * *usize: the entry's uncompressed size. */
static int mcf__zipr_central(mcf__source *src, const mcf__zipr_dir *d, const unsigned char *cd, uint64_t *pos, size_t n,
                             mcf__zip_entry *e, uint64_t *usize)
{
    const unsigned char *h = cd + *pos;
    uint64_t csize, off;
    unsigned flags, nl, xl, cl;
    if (d->cd_len - *pos < MCF__ZIP_CENTRAL_LEN || mcf__le32(h) != MCF__ZIP_CENTRAL_SIG)
        return mcf__fail(MCF_DESERIALIZE_FAIL, "zip: %s: central directory entry %lu at offset %llu is truncated or lacks its signature",
                         src->name, (unsigned long)n, (unsigned long long)(d->cd_off + *pos));
    flags = mcf__le16(h + MCF__ZIP_CENTRAL_FLAGS);
    e->method = mcf__le16(h + MCF__ZIP_CENTRAL_METHOD);
    e->crc = mcf__le32(h + MCF__ZIP_CENTRAL_CRC);
    csize = mcf__le32(h + MCF__ZIP_CENTRAL_CSIZE);
    *usize = mcf__le32(h + MCF__ZIP_CENTRAL_USIZE);
    nl = mcf__le16(h + MCF__ZIP_CENTRAL_NAME_LEN);
    xl = mcf__le16(h + MCF__ZIP_CENTRAL_EXTRA_LEN);
    cl = mcf__le16(h + MCF__ZIP_CENTRAL_COMMENT_LEN);
    off = mcf__le32(h + MCF__ZIP_CENTRAL_LOCAL_OFF);
    if (d->cd_len - *pos - MCF__ZIP_CENTRAL_LEN < (uint64_t)nl + xl + cl)
        return mcf__fail(MCF_DESERIALIZE_FAIL, "zip: %s: central directory entry %lu runs past the directory", src->name, (unsigned long)n);
    if (!(e->name = mcf__strndup((const char *)h + MCF__ZIP_CENTRAL_LEN, nl)))
        return mcf__fail(MCF_INTERNAL_ERROR, "zip: %s: out of memory", src->name);
    if (strlen(e->name) != nl)
        return mcf__fail(MCF_DESERIALIZE_FAIL, "zip: %s: entry %lu has a NUL byte in its name", src->name, (unsigned long)n);
    if (!mcf__zipr_zip64(h + MCF__ZIP_CENTRAL_LEN + nl, xl, usize, &csize, &off))
        return mcf__fail(MCF_DESERIALIZE_FAIL, "zip: %s: entry \"%s\" needs a zip64 extra field that is missing or short", src->name, e->name);
    *pos += MCF__ZIP_CENTRAL_LEN + (uint64_t)nl + xl + cl;
    if (flags & (MCF__ZIP_FLAG_ENCRYPTED | MCF__ZIP_FLAG_STRONG_ENCRYPTION))
        return mcf__fail(MCF_NOT_SUPPORTED, "zip: %s: entry \"%s\" is encrypted", src->name, e->name);
    if (e->method == MCF__ZIP_METHOD_STORED && csize != *usize)
        return mcf__fail(MCF_DESERIALIZE_FAIL, "zip: %s: stored entry \"%s\" has compressed size %llu != size %llu",
                         src->name, e->name, (unsigned long long)csize, (unsigned long long)*usize);
    e->size = e->method == MCF__ZIP_METHOD_STORED ? *usize : csize;
    e->header_off = off;
    return MCF_OK;
}

/* Checks that the local header of e holds the same name as the directory
 * record (a mismatch would let two readers see different entries). */
static int mcf__zipr_local_name(mcf__source *src, const mcf__zip_entry *e)
{
    char tmp[256];
    uint64_t at = e->header_off + MCF__ZIP_LOCAL_LEN, left = strlen(e->name);
    const char *want = e->name;
    int rc = MCF_OK;
    while (left > 0 && rc == MCF_OK) {
        size_t k = left < sizeof tmp ? (size_t)left : sizeof tmp;
        rc = mcf__source_read(src, at, tmp, k);
        if (rc == MCF_OK && memcmp(tmp, want, k) != 0)
            rc = mcf__fail(MCF_DESERIALIZE_FAIL, "zip: %s: entry \"%s\": local header name differs from the central directory", src->name, e->name);
        at += k;
        want += k;
        left -= k;
    }
    return rc;
}

/* Checks e's local header lh (NULL: none at its offset) and finds e's data
 * behind it, before the central directory; name: the header's name bytes
 * when the caller has them, else they are read from src. */
static int mcf__zipr_local_check(mcf__source *src, const mcf__zipr_dir *d, uint64_t usize, mcf__zip_entry *e,
                                 const unsigned char *lh, const unsigned char *name)
{
    unsigned nl;
    if (!lh || mcf__le32(lh) != MCF__ZIP_LOCAL_SIG)
        return mcf__fail(MCF_DESERIALIZE_FAIL, "zip: %s: entry \"%s\": no local header at offset %llu (before the central directory at %llu)",
                         src->name, e->name, (unsigned long long)e->header_off, (unsigned long long)d->cd_off);
    nl = mcf__le16(lh + MCF__ZIP_LOCAL_NAME_LEN);
    e->data_off = e->header_off + MCF__ZIP_LOCAL_LEN + nl + mcf__le16(lh + MCF__ZIP_LOCAL_EXTRA_LEN);
    if (e->data_off > d->cd_off || usize > d->cd_off - e->data_off)
        return mcf__fail(MCF_DESERIALIZE_FAIL, "zip: %s: entry \"%s\" data [%llu, +%llu) runs into the central directory at %llu",
                         src->name, e->name, (unsigned long long)e->data_off, (unsigned long long)usize, (unsigned long long)d->cd_off);
    if (nl != strlen(e->name) || (name && memcmp(name, e->name, nl) != 0))
        return mcf__fail(MCF_DESERIALIZE_FAIL, "zip: %s: entry \"%s\": local header name differs from the central directory", src->name, e->name);
    return name ? MCF_OK : mcf__zipr_local_name(src, e);
}

/* 1 if a local header fits between off and the central directory. */
static int mcf__zipr_local_room(const mcf__zipr_dir *d, uint64_t off)
{
    return off <= d->cd_off && d->cd_off - off >= MCF__ZIP_LOCAL_LEN;
}

static int mcf__zipr_local(mcf__source *src, const mcf__zipr_dir *d, uint64_t usize, mcf__zip_entry *e)
{
    unsigned char lh[MCF__ZIP_LOCAL_LEN];
    int ok = mcf__zipr_local_room(d, e->header_off) && mcf__source_read(src, e->header_off, lh, MCF__ZIP_LOCAL_LEN) == MCF_OK;
    return mcf__zipr_local_check(src, d, usize, e, ok ? lh : NULL, NULL);
}

/* The local headers of a mapped file, in file order: one that shares its
 * 64 KiB block with the previous one is read through the mapping (the
 * kernel maps a faulted page's neighbours too, so dense headers cost one
 * fault per block), any other with read_at (pread), which maps nothing:
 * reading each through the mapping would fault in a page per entry (a torch
 * file puts each header right before its tensor). usize[k] is entry k's
 * size from the directory. The checks are mcf__zipr_local's. */
#define MCF__ZIPR_BLOCK_SHIFT 16

static int mcf__zipr_cmp_off(const void *a, const void *b);

static int mcf__zipr_locals_sparse(mcf__source *src, const mcf__zipr_dir *d, mcf__zip_entry *e, const uint64_t *usize, size_t n)
{
    mcf__source raw = *src;
    mcf__zip_entry **by_off = (mcf__zip_entry **)mcf__calloc(n ? n : 1, sizeof *by_off);
    unsigned char *lh = NULL;
    uint64_t block = UINT64_MAX;
    size_t k, longest = 0;
    int rc = MCF_OK;
    for (k = 0; k < n; k++) if (strlen(e[k].name) > longest) longest = strlen(e[k].name);   /* < 64 KiB */
    if (by_off) lh = (unsigned char *)mcf__malloc(MCF__ZIP_LOCAL_LEN + longest);
    if (!by_off || !lh) {
        MCF_FREE(by_off);
        MCF_FREE(lh);
        return mcf__fail(MCF_INTERNAL_ERROR, "zip: %s: out of memory", src->name);
    }
    raw.base = NULL;
    for (k = 0; k < n; k++) by_off[k] = &e[k];
    qsort(by_off, n, sizeof *by_off, mcf__zipr_cmp_off);
    for (k = 0; k < n && rc == MCF_OK; k++) {
        mcf__zip_entry *x = by_off[k];
        uint64_t len = MCF__ZIP_LOCAL_LEN + strlen(x->name), at = x->header_off;
        int ok;
        if (at >> MCF__ZIPR_BLOCK_SHIFT == block) { rc = mcf__zipr_local(src, d, usize[x - e], x); continue; }
        block = at >> MCF__ZIPR_BLOCK_SHIFT;
        if (mcf__zipr_local_room(d, at) && len > d->cd_off - at) len = d->cd_off - at;
        ok = mcf__zipr_local_room(d, at) && mcf__source_read(&raw, at, lh, (size_t)len) == MCF_OK;
        rc = mcf__zipr_local_check(src, d, usize[x - e], x, ok ? lh : NULL, ok && len == MCF__ZIP_LOCAL_LEN + strlen(x->name) ? lh + MCF__ZIP_LOCAL_LEN : NULL);
    }
    MCF_FREE(by_off);
    MCF_FREE(lh);
    return rc;
}

static int mcf__zipr_cmp_off(const void *a, const void *b)
{
    const mcf__zip_entry *x = *(const mcf__zip_entry *const *)a, *y = *(const mcf__zip_entry *const *)b;
    return x->header_off < y->header_off ? -1 : x->header_off > y->header_off;
}

/* No two entries may share bytes: sorted by header offset, each entry's
 * data must end before the next header. */
static int mcf__zipr_no_overlap(mcf__source *src, mcf__zip_entry *e, size_t n)
{
    mcf__zip_entry **by_off = (mcf__zip_entry **)mcf__calloc(n ? n : 1, sizeof *by_off);
    size_t i;
    int rc = MCF_OK;
    if (!by_off) return mcf__fail(MCF_INTERNAL_ERROR, "zip: %s: out of memory", src->name);
    for (i = 0; i < n; i++) by_off[i] = &e[i];
    qsort(by_off, n, sizeof *by_off, mcf__zipr_cmp_off);
    for (i = 1; i < n && rc == MCF_OK; i++)
        if (by_off[i - 1]->data_off + by_off[i - 1]->size > by_off[i]->header_off)
            rc = mcf__fail(MCF_DESERIALIZE_FAIL, "zip: %s: entries \"%s\" and \"%s\" overlap", src->name, by_off[i - 1]->name, by_off[i]->name);
    MCF_FREE(by_off);
    return rc;
}

/* Parses the central directory of src into *out (n entries, CD order), with
 * data offsets from the local headers. Rejects encrypted entries
 * (NOT_SUPPORTED), and any entry outside the file or overlapping another
 * (DESERIALIZE_FAIL). Compressed entries are listed with their method and
 * stored span, so a caller can tell what the archive is before
 * mcf__zipr_require_stored refuses them. */
static int mcf__zipr_read(mcf__source *src, mcf__zip_entry **out, size_t *out_n)
{
    mcf__zipr_dir d;
    unsigned char *cd;
    mcf__zip_entry *e;
    uint64_t pos = 0, usize = 0, *usizes = NULL;
    size_t n = 0;
    int rc, mapped;
    *out = NULL;
    *out_n = 0;
    memset(&d, 0, sizeof d);
    if ((rc = mcf__zipr_end(src, &d)) != MCF_OK) return rc;
    cd = mcf__fits_size(d.cd_len) ? (unsigned char *)mcf__malloc((size_t)d.cd_len) : NULL;
    e = cd ? (mcf__zip_entry *)mcf__calloc((size_t)d.count ? (size_t)d.count : 1, sizeof *e) : NULL;
    if (!e) {
        MCF_FREE(cd);
        return mcf__fail(MCF_INTERNAL_ERROR, "zip: %s: out of memory for a central directory of %llu bytes", src->name, (unsigned long long)d.cd_len);
    }
    rc = mcf__source_read(src, d.cd_off, cd, (size_t)d.cd_len);
    mapped = rc == MCF_OK && src->base && src->fs.read_at && d.count > 1;
    if (mapped && !(usizes = (uint64_t *)mcf__calloc((size_t)d.count, sizeof *usizes)))
        rc = mcf__fail(MCF_INTERNAL_ERROR, "zip: %s: out of memory", src->name);
    /* on a failure n counts the entry that failed: its name may be set */
    for (n = 0; mapped && rc == MCF_OK && n < d.count; n++) {
        rc = mcf__zipr_central(src, &d, cd, &pos, n, &e[n], &usize);
        usizes[n] = usize;
    }
    if (mapped && rc == MCF_OK) rc = mcf__zipr_locals_sparse(src, &d, e, usizes, n);
    if (mapped && rc != MCF_OK && rc != MCF_INTERNAL_ERROR) {
        /* a bad archive: walked again entry by entry, so the problem named is
         * the one any reader of these bytes names first */
        size_t k;
        for (k = 0; k < n && k < d.count; k++) MCF_FREE(e[k].name);
        memset(e, 0, (size_t)d.count * sizeof *e);
        pos = 0;
        rc = MCF_OK;
        mapped = 0;
        n = 0;
    }
    for (; !mapped && rc == MCF_OK && n < d.count; n++) {
        rc = mcf__zipr_central(src, &d, cd, &pos, n, &e[n], &usize);
        if (rc == MCF_OK) rc = mcf__zipr_local(src, &d, usize, &e[n]);
    }
    if (rc == MCF_OK) rc = mcf__zipr_no_overlap(src, e, n);
    MCF_FREE(usizes);
    MCF_FREE(cd);
    if (rc != MCF_OK) {
        mcf__zip_free_entries(e, n);
        return rc;
    }
    *out = e;
    *out_n = n;
    return MCF_OK;
}

/* NOT_SUPPORTED naming the first entry that is not Stored (method 0). */
static int mcf__zipr_require_stored(const mcf__source *src, const mcf__zip_entry *e, size_t n)
{
    size_t i;
    for (i = 0; i < n; i++)
        if (e[i].method != MCF__ZIP_METHOD_STORED)
            return mcf__fail(MCF_NOT_SUPPORTED, "zip: %s: entry \"%s\" is compressed (method %u); only Stored entries (method 0, what torch.save writes) are supported",
                             src->name, e[i].name, e[i].method);
    return MCF_OK;
}

/* ===== [17] pickle ======================================================= */
/* Writer: the protocol-2 subset the stdlib Pickler emits for torch.save
 * (memo puts after every memoizable object, gets for repeats). Reader: a
 * restricted, iterative unpickler (CPython Lib/pickletools.py opcode table,
 * protocols 0-5) building an index-linked value pool; it never calls
 * anything: the allowed globals, exactly those torch.load(weights_only=True)
 * allows in torch 1.13 or later, are interpreted. Values also render as
 * Python's type names and repr() text. Invariants: stack/memo/marks capped
 * (MCF_MAX_PICKLE_*), every claimed length checked against the bytes left
 * before use, strings are slices of the input (no allocation a length field
 * asks for). */

/* The opcodes, named as pickletools names them (protocol in the comment). */
enum {
    /* protocol 0 and 1 */
    MCF__OP_MARK = '(', MCF__OP_STOP = '.', MCF__OP_POP = '0', MCF__OP_POP_MARK = '1', MCF__OP_DUP = '2',
    MCF__OP_FLOAT = 'F', MCF__OP_INT = 'I', MCF__OP_BININT = 'J', MCF__OP_BININT1 = 'K', MCF__OP_LONG = 'L',
    MCF__OP_BININT2 = 'M', MCF__OP_NONE = 'N', MCF__OP_PERSID = 'P', MCF__OP_BINPERSID = 'Q',
    MCF__OP_REDUCE = 'R', MCF__OP_STRING = 'S', MCF__OP_BINSTRING = 'T', MCF__OP_SHORT_BINSTRING = 'U',
    MCF__OP_UNICODE = 'V', MCF__OP_BINUNICODE = 'X', MCF__OP_APPEND = 'a', MCF__OP_BUILD = 'b',
    MCF__OP_GLOBAL = 'c', MCF__OP_DICT = 'd', MCF__OP_EMPTY_DICT = '}', MCF__OP_APPENDS = 'e',
    MCF__OP_GET = 'g', MCF__OP_BINGET = 'h', MCF__OP_INST = 'i', MCF__OP_LONG_BINGET = 'j',
    MCF__OP_LIST = 'l', MCF__OP_EMPTY_LIST = ']', MCF__OP_OBJ = 'o', MCF__OP_PUT = 'p',
    MCF__OP_BINPUT = 'q', MCF__OP_LONG_BINPUT = 'r', MCF__OP_SETITEM = 's', MCF__OP_TUPLE = 't',
    MCF__OP_EMPTY_TUPLE = ')', MCF__OP_SETITEMS = 'u', MCF__OP_BINFLOAT = 'G',
    /* protocol 2 */
    MCF__OP_PROTO = 0x80, MCF__OP_NEWOBJ = 0x81, MCF__OP_EXT1 = 0x82, MCF__OP_EXT2 = 0x83, MCF__OP_EXT4 = 0x84,
    MCF__OP_TUPLE1 = 0x85, MCF__OP_TUPLE2 = 0x86, MCF__OP_TUPLE3 = 0x87, MCF__OP_NEWTRUE = 0x88,
    MCF__OP_NEWFALSE = 0x89, MCF__OP_LONG1 = 0x8a, MCF__OP_LONG4 = 0x8b,
    /* protocol 3 */
    MCF__OP_BINBYTES = 'B', MCF__OP_SHORT_BINBYTES = 'C',
    /* protocol 4 */
    MCF__OP_SHORT_BINUNICODE = 0x8c, MCF__OP_BINUNICODE8 = 0x8d, MCF__OP_BINBYTES8 = 0x8e,
    MCF__OP_EMPTY_SET = 0x8f, MCF__OP_ADDITEMS = 0x90, MCF__OP_FROZENSET = 0x91, MCF__OP_NEWOBJ_EX = 0x92,
    MCF__OP_STACK_GLOBAL = 0x93, MCF__OP_MEMOIZE = 0x94, MCF__OP_FRAME = 0x95,
    /* protocol 5 */
    MCF__OP_BYTEARRAY8 = 0x96, MCF__OP_NEXT_BUFFER = 0x97, MCF__OP_READONLY_BUFFER = 0x98
};
#define MCF__PK_PROTO_MAX 5         /* highest protocol this reader knows */
#define MCF__PK_PROTO_TORCH 2       /* what torch.save writes */
#define MCF__PK_BATCH 1000          /* Pickler._BATCHSIZE: items per SETITEMS */

/* ---- writer ---- */
typedef struct mcf__pkw {
    mcf__buf b;
    uint32_t memo;
} mcf__pkw;

static void mcf__pkw_op(mcf__pkw *w, unsigned op) { mcf__buf_putc(&w->b, (unsigned char)op); }

/* An opcode with a 1-byte argument when v < 256, else the 4-byte form. */
static void mcf__pkw_op_u8_u32(mcf__pkw *w, unsigned op1, unsigned op4, uint32_t v)
{
    unsigned char op[5];
    size_t n = 2;
    if (v < 256) {
        op[0] = (unsigned char)op1;
        op[1] = (unsigned char)v;
    } else {
        op[0] = (unsigned char)op4;
        mcf__put_le32(op + 1, v);
        n = 5;
    }
    mcf__buf_put(&w->b, op, n);
}

/* BINPUT / LONG_BINPUT into the next memo slot. */
static void mcf__pkw_put(mcf__pkw *w)
{
    mcf__pkw_op_u8_u32(w, MCF__OP_BINPUT, MCF__OP_LONG_BINPUT, w->memo);
    w->memo++;
}

/* BINGET / LONG_BINGET of a memo slot. */
static void mcf__pkw_get(mcf__pkw *w, uint32_t slot)
{
    mcf__pkw_op_u8_u32(w, MCF__OP_BINGET, MCF__OP_LONG_BINGET, slot);
}

static void mcf__pkw_global(mcf__pkw *w, uint32_t *slot, const char *module, const char *name)
{
    if (*slot != UINT32_MAX) {
        mcf__pkw_get(w, *slot);
        return;
    }
    mcf__pkw_op(w, MCF__OP_GLOBAL);
    mcf__buf_puts(&w->b, module);
    mcf__buf_putc(&w->b, '\n');
    mcf__buf_puts(&w->b, name);
    mcf__buf_putc(&w->b, '\n');
    *slot = w->memo;
    mcf__pkw_put(w);
}

static void mcf__pkw_str(mcf__pkw *w, uint32_t *slot, const char *s)
{
    unsigned char op[5];
    size_t n = strlen(s);
    if (slot && *slot != UINT32_MAX) {
        mcf__pkw_get(w, *slot);
        return;
    }
    op[0] = MCF__OP_BINUNICODE;
    mcf__put_le32(op + 1, (uint32_t)n);
    mcf__buf_put(&w->b, op, 5);
    mcf__buf_put(&w->b, s, n);
    if (slot) *slot = w->memo;
    mcf__pkw_put(w);
}

/* Non-negative int the way Pickler.save_long picks its opcode. */
static void mcf__pkw_int(mcf__pkw *w, uint64_t v)
{
    unsigned char op[11];
    unsigned bits = 0, nb, i;
    uint64_t t = v;
    if (v <= 0xffff) {
        op[0] = v <= 0xff ? MCF__OP_BININT1 : MCF__OP_BININT2;
        mcf__put_le16(op + 1, (uint16_t)v);
        mcf__buf_put(&w->b, op, v <= 0xff ? 2 : 3);
        return;
    }
    if (v <= 0x7fffffff) {
        op[0] = MCF__OP_BININT;
        mcf__put_le32(op + 1, (uint32_t)v);
        mcf__buf_put(&w->b, op, 5);
        return;
    }
    /* LONG1: (bit_length >> 3) + 1 little-endian two's-complement bytes */
    while (t) {
        bits++;
        t >>= 1;
    }
    nb = (bits >> 3) + 1;
    op[0] = MCF__OP_LONG1;
    op[1] = (unsigned char)nb;
    for (i = 0; i < nb; i++) op[2 + i] = (unsigned char)(i < 8 ? v >> (8 * i) : 0);
    mcf__buf_put(&w->b, op, 2 + nb);
}

/* A tuple of ints: EMPTY_TUPLE (not memoized), TUPLE1..3, or MARK ... TUPLE. */
static void mcf__pkw_int_tuple(mcf__pkw *w, int n, const int64_t *v)
{
    int i;
    if (n == 0) {
        mcf__pkw_op(w, MCF__OP_EMPTY_TUPLE);
        return;
    }
    if (n > 3) mcf__pkw_op(w, MCF__OP_MARK);
    for (i = 0; i < n; i++) mcf__pkw_int(w, (uint64_t)v[i]);
    mcf__pkw_op(w, n > 3 ? (unsigned)MCF__OP_TUPLE : (unsigned)(MCF__OP_TUPLE1 + n - 1));
    mcf__pkw_put(w);
}

/* ---- reader ---- */
enum {
    MCF__PV_NONE, MCF__PV_BOOL, MCF__PV_INT, MCF__PV_BIGINT, MCF__PV_FLOAT, MCF__PV_STR, MCF__PV_BYTES,
    MCF__PV_TUPLE, MCF__PV_LIST, MCF__PV_DICT, MCF__PV_SET, MCF__PV_GLOBAL, MCF__PV_STORAGE, MCF__PV_TENSOR,
    MCF__PV_COMPLEX, MCF__PV_SIZE, MCF__PV_DEVICE, MCF__PV_LAYOUT
};
/* What an allowed global is; the allowlist is the union of what
 * torch.load(weights_only=True) accepts in torch 1.13 and in current torch
 * (torch/_weights_only_unpickler.py), and nothing else. */
enum {
    MCF__PG_REBUILD_V1, MCF__PG_REBUILD_V2, MCF__PG_REBUILD_V3, MCF__PG_REBUILD_PARAM, MCF__PG_REBUILD_PARAM_STATE,
    MCF__PG_REBUILD_FROM_TYPE, MCF__PG_REBUILD_FROM_CPU, MCF__PG_REBUILD_OTHER, MCF__PG_ENCODE, MCF__PG_GET_LAYOUT,
    /* classes from here on */
    MCF__PG_ODICT, MCF__PG_COUNTER, MCF__PG_SET, MCF__PG_BYTEARRAY, MCF__PG_COMPLEX, MCF__PG_SIZE, MCF__PG_DEVICE,
    MCF__PG_PARAMETER, MCF__PG_TENSOR_CLASS, MCF__PG_STORAGE, MCF__PG_UNTYPED, MCF__PG_TYPED,
    /* instances */
    MCF__PG_DTYPE, MCF__PG_QSCHEME
};
#define MCF__PK_UNTYPED 0xfe    /* storage sub: bytes of an UntypedStorage */
#define MCF__PK_NODTYPE 0xff    /* storage sub: a dtype this library has no type for */

/* One unpickled value. kind-specific fields:
 *   FLOAT i = IEEE bits; COMPLEX i, j = bits of real, imag
 *   BIGINT s/n = LE two's complement bytes (sub 0) or decimal text (sub 1)
 *   STR s/n UTF-8; BYTES s/n (sub bit 0: latin-1 text to encode, bit 1: bytearray)
 *   DICT sub 0 dict, 1 OrderedDict, 2 Counter; SET sub 1 = frozenset
 *   GLOBAL sub = MCF__PG_*, i = dtype (or -1), mod + s/n = its dotted name, j = note
 *   STORAGE sub = dtype | MCF__PK_*, i = numel, s/n = key, j = the class's value
 *   TENSOR i = index into mcf__pk.t; SIZE items = ints
 *   DEVICE s/n = type, j = index (-1 none); LAYOUT s/n = name */
typedef struct mcf__pv {
    unsigned char kind;
    unsigned char sub;
    int64_t i, j;
    const unsigned char *s;     /* slice of the pickle */
    size_t n;                   /* str length; container item count */
    size_t cap;
    uint32_t *items;            /* containers: value indices (dict: k,v,k,v) */
    const char *mod;            /* GLOBAL: module (static) */
} mcf__pv;

typedef struct mcf__pk_tensor {
    uint32_t storage;           /* value index of the STORAGE */
    int ndim, is_param;
    mcf_dtype dtype;
    int64_t offset, shape[MCF_MAX_DIMS], stride[MCF_MAX_DIMS];
    const char *why;            /* non-NULL: cannot be loaded (NOT_SUPPORTED if listed) */
    uint32_t why_v;             /* value named after why (a global), or 0 */
} mcf__pk_tensor;

typedef struct mcf__pk {
    const unsigned char *start, *p, *end;
    const char *name;
    mcf__pv *v;
    size_t nv, capv;
    uint32_t *stack;
    size_t sp, capstack;
    size_t *marks;
    size_t nmarks, capmarks;
    uint32_t *memo;             /* value index + 1; 0 = empty slot */
    size_t nmemo, capmemo;
    mcf__pk_tensor *t;
    size_t nt, capt;
    size_t op_at;               /* offset of the opcode being run */
} mcf__pk;

static void mcf__pk_free(mcf__pk *k)
{
    size_t i;
    for (i = 0; i < k->nv; i++) MCF_FREE(k->v[i].items);
    MCF_FREE(k->v);
    MCF_FREE(k->stack);
    MCF_FREE(k->marks);
    MCF_FREE(k->memo);
    MCF_FREE(k->t);
    memset(k, 0, sizeof *k);
}

static int mcf__pk_fail(mcf__pk *k, int code, const char *what)
{
    return mcf__fail(code, "torch: %s: data.pkl offset %lu (opcode 0x%02x): %s", k->name,
                     (unsigned long)k->op_at, k->start + k->op_at < k->end ? k->start[k->op_at] : 0u, what);
}

static int mcf__pk_err(mcf__pk *k, const char *what) { return mcf__pk_fail(k, MCF_DESERIALIZE_FAIL, what); }

static int mcf__pk_oom(mcf__pk *k) { return mcf__fail(MCF_INTERNAL_ERROR, "torch: %s: out of memory unpickling data.pkl", k->name); }

/* New value of kind; returns its index or -1 (error set). */
static long mcf__pk_new(mcf__pk *k, unsigned kind)
{
    if (k->nv >= (size_t)UINT32_MAX - 1 || !mcf__grow((void **)&k->v, &k->capv, k->nv + 1, sizeof *k->v)) {
        (void)mcf__pk_oom(k);
        return -1;
    }
    memset(&k->v[k->nv], 0, sizeof *k->v);
    k->v[k->nv].kind = (unsigned char)kind;
    return (long)k->nv++;
}

static int mcf__pk_push(mcf__pk *k, long vi)
{
    if (vi < 0) return MCF_INTERNAL_ERROR;
    if (k->sp >= MCF_MAX_PICKLE_STACK) return mcf__pk_err(k, "stack holds more than MCF_MAX_PICKLE_STACK values");
    if (!mcf__grow((void **)&k->stack, &k->capstack, k->sp + 1, sizeof *k->stack)) return mcf__pk_oom(k);
    k->stack[k->sp++] = (uint32_t)vi;
    return MCF_OK;
}

static int mcf__pk_push_new(mcf__pk *k, unsigned kind, int64_t i)
{
    long vi;
    if (kind == MCF__PV_NONE) return mcf__pk_push(k, 0);              /* shared singletons */
    if (kind == MCF__PV_BOOL) return mcf__pk_push(k, i ? 2 : 1);
    vi = mcf__pk_new(k, kind);
    if (vi < 0) return MCF_INTERNAL_ERROR;
    k->v[vi].i = i;
    return mcf__pk_push(k, vi);
}

static int mcf__pk_add_item(mcf__pk *k, uint32_t container, uint32_t item)
{
    mcf__pv *c = &k->v[container];
    if (!mcf__grow((void **)&c->items, &c->cap, c->n + 1, sizeof *c->items)) return mcf__pk_oom(k);
    c->items[c->n++] = item;
    return MCF_OK;
}

/* Bytes of an operand: fails unless n bytes remain. */
static int mcf__pk_take(mcf__pk *k, uint64_t n, const unsigned char **out)
{
    if (n > (uint64_t)(k->end - k->p)) return mcf__pk_err(k, "operand runs past the end of data.pkl (truncated or a bogus length)");
    *out = k->p;
    k->p += (size_t)n;
    return MCF_OK;
}

/* A text operand up to '\n' (protocol 0); the newline is consumed. */
static int mcf__pk_line(mcf__pk *k, const unsigned char **s, size_t *n)
{
    const unsigned char *nl = (const unsigned char *)memchr(k->p, '\n', (size_t)(k->end - k->p));
    if (!nl) return mcf__pk_err(k, "text operand without a newline");
    *s = k->p;
    *n = (size_t)(nl - k->p);
    k->p = nl + 1;
    return MCF_OK;
}

/* Decimal text integer (INT/LONG/GET/PUT): sets *big when it exceeds int64. */
static int mcf__pk_parse_dec(const unsigned char *s, size_t n, int64_t *out, int *big)
{
    uint64_t v = 0;
    size_t i = 0;
    int neg = 0;
    *big = 0;
    if (n && s[n - 1] == 'L') n--;   /* protocol-0 LONG suffix */
    if (i < n && (s[i] == '-' || s[i] == '+')) neg = s[i++] == '-';
    if (i == n) return 0;
    for (; i < n; i++) {
        if (s[i] < '0' || s[i] > '9') return 0;
        if (v > (UINT64_MAX - 9) / 10) *big = 1;
        else v = v * 10 + (uint64_t)(s[i] - '0');
    }
    if (v > (uint64_t)INT64_MAX + (uint64_t)neg) *big = 1;   /* -2^63 still fits */
    if (*big) *out = 0;
    else if (neg) *out = v == (uint64_t)INT64_MAX + 1 ? INT64_MIN : -(int64_t)v;
    else *out = (int64_t)v;
    return 1;
}

/* The C library's decimal point in this locale ('.' or ','), found once per
 * call without <locale.h>: printf and strtod agree with it. */
static char mcf__decimal_point(void)
{
    char t[8];
    snprintf(t, sizeof t, "%.1f", 0.5);
    return t[1];
}

/* Protocol-0 FLOAT text ("1.5", "1e-05", "inf", "nan") as IEEE bits. */
static int mcf__pk_parse_float(const unsigned char *s, size_t n, uint64_t *bits)
{
    char t[72], *end = NULL, dp = mcf__decimal_point();
    double d;
    size_t i;
    if (n == 0 || n >= sizeof t) return 0;
    for (i = 0; i < n; i++) t[i] = s[i] == '.' ? dp : (char)s[i];
    t[n] = '\0';
    d = strtod(t, &end);
    if (end != t + n) return 0;
    memcpy(bits, &d, sizeof d);
    return 1;
}

static int mcf__pk_pop(mcf__pk *k, uint32_t *vi)
{
    if (k->sp == 0 || (k->nmarks && k->marks[k->nmarks - 1] == k->sp)) return mcf__pk_err(k, "stack underflow");
    *vi = k->stack[--k->sp];
    return MCF_OK;
}

static int mcf__pk_top(mcf__pk *k, uint32_t *vi)
{
    if (k->sp == 0 || (k->nmarks && k->marks[k->nmarks - 1] == k->sp)) return mcf__pk_err(k, "stack underflow");
    *vi = k->stack[k->sp - 1];
    return MCF_OK;
}

/* Pops to the last MARK: items are stack[*from .. sp). */
static int mcf__pk_pop_mark(mcf__pk *k, size_t *from)
{
    if (k->nmarks == 0) return mcf__pk_err(k, "no MARK on the stack");
    *from = k->marks[--k->nmarks];
    return MCF_OK;
}

static int mcf__pk_memo_put(mcf__pk *k, uint64_t idx)
{
    uint32_t vi = 0;
    int rc;
    if ((rc = mcf__pk_top(k, &vi)) != MCF_OK) return rc;
    if (idx >= MCF_MAX_PICKLE_MEMO) return mcf__pk_err(k, "memo index exceeds MCF_MAX_PICKLE_MEMO");
    if (idx >= k->nmemo) {
        size_t old = k->nmemo;
        if (!mcf__grow((void **)&k->memo, &k->capmemo, (size_t)idx + 1, sizeof *k->memo)) return mcf__pk_oom(k);
        memset(k->memo + old, 0, ((size_t)idx + 1 - old) * sizeof *k->memo);
        k->nmemo = (size_t)idx + 1;
    }
    k->memo[idx] = vi + 1;
    return MCF_OK;
}

static int mcf__pk_memo_get(mcf__pk *k, uint64_t idx)
{
    if (idx >= k->nmemo || k->memo[idx] == 0) return mcf__pk_err(k, "memo get of an index never put");
    return mcf__pk_push(k, (long)(k->memo[idx] - 1));
}

/* Builds a container from stack[from..sp) and replaces those with it. */
static int mcf__pk_collect(mcf__pk *k, size_t from, unsigned kind, unsigned sub)
{
    long vi = mcf__pk_new(k, kind);
    size_t cnt = k->sp - from;
    if (vi < 0) return MCF_INTERNAL_ERROR;
    k->v[vi].sub = (unsigned char)sub;
    if (cnt) {
        if (!(k->v[vi].items = (uint32_t *)MCF_MALLOC(cnt * sizeof(uint32_t)))) return mcf__pk_oom(k);
        memcpy(k->v[vi].items, k->stack + from, cnt * sizeof(uint32_t));
        k->v[vi].n = k->v[vi].cap = cnt;
    }
    k->sp = from;
    return mcf__pk_push(k, vi);
}

/* Values are referred to by index: mcf__pk_new may move k->v, so no
 * pointer into it is kept across a call that adds a value. */
static size_t mcf__pk_argc(const mcf__pk *k, uint32_t args) { return k->v[args].n; }
static uint32_t mcf__pk_arg(const mcf__pk *k, uint32_t args, size_t i) { return k->v[args].items[i]; }
static unsigned mcf__pk_kind(const mcf__pk *k, uint32_t vi) { return k->v[vi].kind; }

/* ---- the allowlist ---- */
static const struct { const char *mod, *name; unsigned char kind; const char *note; } mcf__pk_fixed[] = {
    {"torch._utils", "_rebuild_tensor", MCF__PG_REBUILD_V1, NULL},
    {"torch._utils", "_rebuild_tensor_v2", MCF__PG_REBUILD_V2, NULL},
    {"torch._utils", "_rebuild_tensor_v3", MCF__PG_REBUILD_V3, NULL},
    {"torch._utils", "_rebuild_parameter", MCF__PG_REBUILD_PARAM, NULL},
    {"torch._utils", "_rebuild_parameter_with_state", MCF__PG_REBUILD_PARAM_STATE, NULL},
    {"torch._tensor", "_rebuild_from_type_v2", MCF__PG_REBUILD_FROM_TYPE, NULL},
    {"torch._utils", "_rebuild_device_tensor_from_cpu_tensor", MCF__PG_REBUILD_FROM_CPU, NULL},
    {"torch._utils", "_rebuild_device_tensor_from_numpy", MCF__PG_REBUILD_OTHER, "is a device tensor saved through numpy"},
    {"torch._utils", "_rebuild_qtensor", MCF__PG_REBUILD_OTHER, "is a quantized tensor"},
    {"torch._utils", "_rebuild_sparse_tensor", MCF__PG_REBUILD_OTHER, "is a sparse tensor"},
    {"torch._utils", "_rebuild_sparse_csr_tensor", MCF__PG_REBUILD_OTHER, "is a sparse CSR tensor"},
    {"torch._utils", "_rebuild_meta_tensor_no_storage", MCF__PG_REBUILD_OTHER, "is a meta tensor (it has no data)"},
    {"torch._utils", "_rebuild_wrapper_subclass", MCF__PG_REBUILD_OTHER, "is a tensor subclass without storage"},
    {"_codecs", "encode", MCF__PG_ENCODE, NULL},
    {"torch.serialization", "_get_layout", MCF__PG_GET_LAYOUT, NULL},
    {"collections", "OrderedDict", MCF__PG_ODICT, NULL},
    {"collections", "Counter", MCF__PG_COUNTER, NULL},
    {"builtins", "set", MCF__PG_SET, NULL},
    {"builtins", "bytearray", MCF__PG_BYTEARRAY, NULL},
    {"builtins", "complex", MCF__PG_COMPLEX, NULL},
    {"torch", "Size", MCF__PG_SIZE, NULL},
    {"torch", "device", MCF__PG_DEVICE, NULL},
    {"torch.nn.parameter", "Parameter", MCF__PG_PARAMETER, NULL},
    {"torch", "Tensor", MCF__PG_TENSOR_CLASS, NULL},
    {"torch.storage", "UntypedStorage", MCF__PG_UNTYPED, NULL},
    {"torch.storage", "TypedStorage", MCF__PG_TYPED, NULL}
};

/* torch.<dtype> globals: every dtype either torch accepts (-1: none here). */
static const struct { const char *name; int dtype; } mcf__pk_dtypes[] = {
    {"float64", MCF_F64}, {"float32", MCF_F32}, {"float16", MCF_F16}, {"bfloat16", MCF_BF16},
    {"int64", MCF_I64}, {"int32", MCF_I32}, {"int16", MCF_I16}, {"int8", MCF_I8}, {"uint8", MCF_U8},
    {"bool", MCF_BOOL}, {"complex64", MCF_C64}, {"complex128", MCF_C128}, {"uint16", MCF_U16},
    {"uint32", MCF_U32}, {"uint64", MCF_U64}, {"float8_e5m2", MCF_F8_E5M2}, {"float8_e4m3fn", MCF_F8_E4M3},
    {"float8_e8m0fnu", MCF_F8_E8M0}, {"complex32", -1}, {"quint8", -1}, {"qint8", -1}, {"qint32", -1},
    {"quint4x2", -1}, {"quint2x4", -1}, {"float8_e5m2fnuz", -1}, {"float8_e4m3fnuz", -1}, {"float4_e2m1fn_x2", -1},
    {"bits8", -1}, {"bits16", -1}, {"bits1x8", -1}, {"bits2x4", -1}, {"bits4x2", -1},
    {"uint1", -1}, {"uint2", -1}, {"uint3", -1}, {"uint4", -1}, {"uint5", -1}, {"uint6", -1}, {"uint7", -1},
    {"int1", -1}, {"int2", -1}, {"int3", -1}, {"int4", -1}, {"int5", -1}, {"int6", -1}, {"int7", -1}
};

static const char *const mcf__pk_qschemes[] = {
    "per_tensor_affine", "per_tensor_symmetric", "per_channel_affine", "per_channel_symmetric", "per_channel_affine_float_qparams"
};

/* torch.<X>Storage and torch.cuda.<X>Storage (legacy typed storages). */
static const struct { const char *prefix; int dtype; } mcf__pk_storages[] = {
    {"Double", MCF_F64}, {"Float", MCF_F32}, {"Half", MCF_F16}, {"BFloat16", MCF_BF16}, {"Long", MCF_I64},
    {"Int", MCF_I32}, {"Short", MCF_I16}, {"Char", MCF_I8}, {"Byte", MCF_U8}, {"Bool", MCF_BOOL},
    {"ComplexFloat", MCF_C64}, {"ComplexDouble", MCF_C128}, {"QUInt8", -1}, {"QInt8", -1}, {"QInt32", -1},
    {"QUInt4x2", -1}, {"QUInt2x4", -1}
};

/* torch[.cuda][.sparse].<X>Tensor (legacy tensor types; no sparse Bool). */
static const char *const mcf__pk_tensor_types[] = {"Double", "Float", "Half", "BFloat16", "Long", "Int", "Short", "Char", "Byte", "Bool"};

static int mcf__pk_slice_is(const unsigned char *s, size_t n, const char *lit)
{
    return strlen(lit) == n && memcmp(s, lit, n) == 0;
}

/* name == prefix + suffix */
static int mcf__pk_slice_is2(const unsigned char *s, size_t n, const char *prefix, const char *suffix)
{
    size_t a = strlen(prefix), b = strlen(suffix);
    return a + b == n && memcmp(s, prefix, a) == 0 && memcmp(s + a, suffix, b) == 0;
}

/* Looks "module name" up: 1 and kind/arg/note/module set, or 0. Python 2
 * pickles spell builtins "__builtin__" (torch maps it as pickle does). */
static int mcf__pk_lookup(const unsigned char *mod, size_t ml, const unsigned char *nm, size_t nl,
                          unsigned *kind, int *arg, int64_t *note, const char **canon)
{
    static const char *const tmods[4] = {"torch", "torch.cuda", "torch.sparse", "torch.cuda.sparse"};
    size_t i, m;
    *arg = -1;
    *note = -1;
    if (mcf__pk_slice_is(mod, ml, "__builtin__")) {
        mod = (const unsigned char *)"builtins";
        ml = 8;
    }
    for (i = 0; i < sizeof mcf__pk_fixed / sizeof mcf__pk_fixed[0]; i++)
        if (mcf__pk_slice_is(mod, ml, mcf__pk_fixed[i].mod) && mcf__pk_slice_is(nm, nl, mcf__pk_fixed[i].name)) {
            *kind = mcf__pk_fixed[i].kind;
            *note = (int64_t)i;
            *canon = mcf__pk_fixed[i].mod;
            return 1;
        }
    for (m = 0; m < 4; m++) {
        if (!mcf__pk_slice_is(mod, ml, tmods[m])) continue;
        *canon = tmods[m];
        *kind = MCF__PG_TENSOR_CLASS;   /* no sparse Bool tensor type */
        for (i = 0; i < sizeof mcf__pk_tensor_types / sizeof mcf__pk_tensor_types[0]; i++)
            if (mcf__pk_slice_is2(nm, nl, mcf__pk_tensor_types[i], "Tensor") && !(m >= 2 && i == 9)) return 1;
        if (m >= 2) return 0;
        *kind = MCF__PG_STORAGE;
        for (i = 0; i < sizeof mcf__pk_storages / sizeof mcf__pk_storages[0]; i++)
            if (mcf__pk_slice_is2(nm, nl, mcf__pk_storages[i].prefix, "Storage")) break;
        if (i < sizeof mcf__pk_storages / sizeof mcf__pk_storages[0]) {
            *arg = mcf__pk_storages[i].dtype;
            return 1;
        }
        if (m == 1) return 0;
        *kind = MCF__PG_DTYPE;
        for (i = 0; i < sizeof mcf__pk_dtypes / sizeof mcf__pk_dtypes[0]; i++)
            if (mcf__pk_slice_is(nm, nl, mcf__pk_dtypes[i].name)) break;
        if (i < sizeof mcf__pk_dtypes / sizeof mcf__pk_dtypes[0]) {
            *arg = mcf__pk_dtypes[i].dtype;
            return 1;
        }
        *kind = MCF__PG_QSCHEME;
        for (i = 0; i < sizeof mcf__pk_qschemes / sizeof mcf__pk_qschemes[0]; i++)
            if (mcf__pk_slice_is(nm, nl, mcf__pk_qschemes[i])) return 1;
        return 0;
    }
    return 0;
}

/* Resolves "module name" against the allowlist; anything else is refused
 * as torch.load(weights_only=True) refuses it. */
static int mcf__pk_global(mcf__pk *k, const unsigned char *mod, size_t ml, const unsigned char *nm, size_t nl)
{
    unsigned kind = 0;
    int arg = -1;
    int64_t note = -1;
    const char *canon = NULL;
    const unsigned char *lm = mod, *ln = nm;
    size_t lml = ml, lnl = nl, dot;
    unsigned char joined[256];
    long vi;
    /* torch looks up "module.name" as one string: a dotted name counts as
     * the module's tail ("torch" + "cuda.FloatStorage") */
    for (dot = nl; dot > 0 && nm[dot - 1] != '.'; dot--) { }
    if (dot > 0 && ml + dot < sizeof joined) {
        memcpy(joined, mod, ml);
        joined[ml] = '.';
        memcpy(joined + ml + 1, nm, dot - 1);
        lm = joined;
        lml = ml + dot;
        ln = nm + dot;
        lnl = nl - dot;
    }
    if ((dot == 0 || ml + dot < sizeof joined) && mcf__pk_lookup(lm, lml, ln, lnl, &kind, &arg, &note, &canon)) {
        nm = ln;
        nl = lnl;
        if ((vi = mcf__pk_new(k, MCF__PV_GLOBAL)) < 0) return MCF_INTERNAL_ERROR;
        k->v[vi].sub = (unsigned char)kind;
        k->v[vi].i = arg;
        k->v[vi].j = note;
        k->v[vi].mod = canon;
        k->v[vi].s = nm;
        k->v[vi].n = nl;
        return mcf__pk_push(k, vi);
    }
    {
        char msg[400];
        int ml_i = ml > 80 ? 80 : (int)ml, nl_i = nl > 80 ? 80 : (int)nl, j;
        /* a whole pickled nn.Module: a torch.nn class, or a class of the script that saved it */
        int model = (ml >= 9 && memcmp(mod, "torch.nn.", 9) == 0) || mcf__pk_slice_is(mod, ml, "__main__");
        snprintf(msg, sizeof msg, "forbidden global %.*s.%.*s (torch.load(weights_only=True) refuses it too; nothing is executed)%s",
                 ml_i, (const char *)mod, nl_i, (const char *)nm,
                 model ? ": this looks like a whole pickled model (torch.save(model)); save model.state_dict() instead" : "");
        for (j = 0; msg[j]; j++)
            if ((unsigned char)msg[j] < 0x20) msg[j] = '?';
        return mcf__pk_err(k, msg);
    }
}

static int mcf__pk_int_of(mcf__pk *k, uint32_t vi, int64_t *out)
{
    const mcf__pv *v = &k->v[vi];
    if (v->kind != MCF__PV_INT && v->kind != MCF__PV_BOOL) return 0;
    *out = v->i;
    return 1;
}

static int mcf__pk_str_is(const mcf__pv *v, const char *s)
{
    return v->kind == MCF__PV_STR && v->n == strlen(s) && memcmp(v->s, s, v->n) == 0;
}

/* Reads an int tuple (size or stride) into out[] (at most MCF_MAX_DIMS). */
static int mcf__pk_dims(mcf__pk *k, uint32_t vi, int64_t *out, int *nd, const char *what)
{
    const mcf__pv *v = &k->v[vi];
    size_t i;
    char msg[96];
    if (v->kind != MCF__PV_TUPLE && v->kind != MCF__PV_LIST && v->kind != MCF__PV_SIZE) {
        snprintf(msg, sizeof msg, "tensor rebuild: %s is not a tuple", what);
        return mcf__pk_err(k, msg);
    }
    if (v->n > MCF_MAX_DIMS)
        return mcf__fail(MCF_NOT_SUPPORTED, "torch: %s: a tensor has %lu dimensions; MCF_MAX_DIMS is %d", k->name, (unsigned long)v->n, MCF_MAX_DIMS);
    for (i = 0; i < v->n; i++)
        if (!mcf__pk_int_of(k, v->items[i], &out[i]) || out[i] < 0) {
            snprintf(msg, sizeof msg, "tensor rebuild: %s holds a value that is not a non-negative int", what);
            return mcf__pk_err(k, msg);
        }
    *nd = (int)v->n;
    return MCF_OK;
}

/* Appends a tensor record and a TENSOR value for it; *out = its value. */
static int mcf__pk_add_tensor(mcf__pk *k, const mcf__pk_tensor *t, uint32_t *out)
{
    long vi;
    if (!mcf__grow((void **)&k->t, &k->capt, k->nt + 1, sizeof *k->t)) return mcf__pk_oom(k);
    k->t[k->nt] = *t;
    if ((vi = mcf__pk_new(k, MCF__PV_TENSOR)) < 0) return MCF_INTERNAL_ERROR;
    k->v[vi].i = (int64_t)k->nt++;
    *out = (uint32_t)vi;
    return MCF_OK;
}

/* A tensor this library cannot load: fails only if it is listed. */
static int mcf__pk_add_why(mcf__pk *k, const char *why, uint32_t why_v, uint32_t *out)
{
    mcf__pk_tensor t;
    memset(&t, 0, sizeof t);
    t.why = why;
    t.why_v = why_v;
    return mcf__pk_add_tensor(k, &t, out);
}

/* A copy of tensor value tv, marked as an nn.Parameter. */
static int mcf__pk_param_of(mcf__pk *k, uint32_t tv, uint32_t *out)
{
    mcf__pk_tensor t = k->t[k->v[tv].i];
    t.is_param = 1;
    return mcf__pk_add_tensor(k, &t, out);
}

/* "torch.float32" style name of a GLOBAL value, for messages. */
static void mcf__pk_global_name(const mcf__pv *g, char *out, size_t cap)
{
    snprintf(out, cap, "%s.%.*s", g->mod ? g->mod : "?", (int)(g->n > 80 ? 80 : g->n), (const char *)g->s);
}

/* True for a value Python treats as true (conj/neg metadata flags). */
static int mcf__pk_truthy(const mcf__pv *v)
{
    switch (v->kind) {
    case MCF__PV_NONE: return 0;
    case MCF__PV_BOOL: case MCF__PV_INT: return v->i != 0;
    case MCF__PV_FLOAT: return (v->i & INT64_MAX) != 0;
    case MCF__PV_STR: case MCF__PV_BYTES: case MCF__PV_TUPLE: case MCF__PV_LIST: case MCF__PV_DICT: case MCF__PV_SET:
    case MCF__PV_SIZE: return v->n != 0;
    default: return 1;
    }
}

/* Decodes one UTF-8 code point at s[*i] (n bytes); -1 if malformed. */
static long mcf__utf8_next(const unsigned char *s, size_t n, size_t *i)
{
    unsigned c = s[*i];
    size_t len = c < 0x80 ? 1 : (c & 0xE0) == 0xC0 ? 2 : (c & 0xF0) == 0xE0 ? 3 : (c & 0xF8) == 0xF0 ? 4 : 0, k;
    unsigned long cp = len == 1 ? c : len == 2 ? (c & 0x1Fu) : len == 3 ? (c & 0x0Fu) : (c & 0x07u);
    if (len == 0 || *i + len > n) return -1;
    for (k = 1; k < len; k++) {
        if ((s[*i + k] & 0xC0) != 0x80) return -1;
        cp = (cp << 6) | (s[*i + k] & 0x3Fu);
    }
    if ((len == 2 && cp < 0x80) || (len == 3 && cp < 0x800) || (len == 4 && (cp < 0x10000 || cp > 0x10FFFF))) return -1;
    *i += len;
    return (long)cp;
}

/* encoding name of codecs.encode / bytearray(str, encoding): 1 latin-1, 2 UTF-8, 0 other. */
static int mcf__pk_codec(const mcf__pv *e)
{
    static const char *const latin[] = {"latin1", "latin-1", "latin_1", "iso-8859-1", "iso8859-1", "iso_8859_1", "l1"};
    static const char *const utf8[] = {"utf-8", "utf8", "utf_8"};
    char low[16];
    size_t i;
    if (e->kind != MCF__PV_STR || e->n >= sizeof low) return 0;
    for (i = 0; i < e->n; i++) low[i] = (char)(e->s[i] >= 'A' && e->s[i] <= 'Z' ? e->s[i] + 32 : e->s[i]);
    low[e->n] = '\0';
    for (i = 0; i < sizeof latin / sizeof latin[0]; i++)
        if (strcmp(low, latin[i]) == 0) return 1;
    for (i = 0; i < sizeof utf8 / sizeof utf8[0]; i++)
        if (strcmp(low, utf8[i]) == 0) return 2;
    return 0;
}

/* bytes of str value sv encoded with codec ev (NULL = UTF-8) as a BYTES value. */
static int mcf__pk_encode(mcf__pk *k, uint32_t sv, uint32_t ev, int have_ev, unsigned flags, uint32_t *out)
{
    int codec = have_ev ? mcf__pk_codec(&k->v[ev]) : 2;
    long vi;
    size_t i = 0;
    if (k->v[sv].kind != MCF__PV_STR) return mcf__pk_err(k, "codecs.encode of something that is not a str");
    if (codec == 0) return mcf__pk_fail(k, MCF_NOT_SUPPORTED, "bytes encoded with a codec other than latin-1 or UTF-8");
    while (codec == 1 && i < k->v[sv].n) {
        long cp = mcf__utf8_next(k->v[sv].s, k->v[sv].n, &i);
        if (cp < 0 || cp > 0xFF) return mcf__pk_err(k, "codecs.encode: the str cannot be encoded as latin-1");
    }
    if ((vi = mcf__pk_new(k, MCF__PV_BYTES)) < 0) return MCF_INTERNAL_ERROR;
    k->v[vi].s = k->v[sv].s;
    k->v[vi].n = k->v[sv].n;
    k->v[vi].sub = (unsigned char)(flags | (codec == 1 ? 1u : 0u));
    *out = (uint32_t)vi;
    return MCF_OK;
}

/* A number as IEEE bits (complex parts). */
static int mcf__pk_num_bits(const mcf__pv *v, int64_t *bits)
{
    double d;
    if (v->kind == MCF__PV_FLOAT) {
        *bits = v->i;
        return 1;
    }
    if (v->kind != MCF__PV_INT && v->kind != MCF__PV_BOOL) return 0;
    d = (double)v->i;
    memcpy(bits, &d, sizeof d);
    return 1;
}

/* The tensor rebuild functions' (dtype, metadata) arguments: v3 names its
 * dtype, older ones take it from the storage; metadata set conj/neg makes a
 * view this library cannot load. */
static int mcf__pk_rebuild_extra(mcf__pk *k, unsigned kind, uint32_t args, uint32_t st, mcf__pk_tensor *t)
{
    size_t argc = mcf__pk_argc(k, args), i;
    uint32_t meta = 0;
    int have_meta = 0;
    if (kind == MCF__PG_REBUILD_V3) {
        uint32_t dt = mcf__pk_arg(k, args, 6);
        if (k->v[dt].kind != MCF__PV_GLOBAL || k->v[dt].sub != MCF__PG_DTYPE) return mcf__pk_err(k, "_rebuild_tensor_v3: dtype argument is not a torch dtype");
        if (k->v[dt].i >= 0) t->dtype = (mcf_dtype)k->v[dt].i;
        else {
            t->why = "has a dtype this library has no type for";
            t->why_v = dt;
        }
        have_meta = argc == 8;
        if (have_meta) meta = mcf__pk_arg(k, args, 7);
    } else {
        if (k->v[st].sub == MCF__PK_UNTYPED) return mcf__pk_err(k, "tensor rebuild: an untyped storage has no dtype (only _rebuild_tensor_v3 takes one)");
        if (k->v[st].sub != MCF__PK_NODTYPE) t->dtype = (mcf_dtype)k->v[st].sub;
        else {
            t->why = "lives in a storage of a type this library has no dtype for";
            t->why_v = (uint32_t)k->v[st].j;
        }
        have_meta = argc == 7;
        if (have_meta) meta = mcf__pk_arg(k, args, 6);
    }
    if (!have_meta) return MCF_OK;
    if (k->v[meta].kind != MCF__PV_DICT && k->v[meta].kind != MCF__PV_NONE) return mcf__pk_err(k, "tensor rebuild: metadata is not a dict");
    for (i = 1; k->v[meta].kind == MCF__PV_DICT && i < k->v[meta].n && !t->why; i += 2)
        if (mcf__pk_truthy(&k->v[k->v[meta].items[i]])) {
            t->why = "is saved as a conjugate or negated view (tensor metadata conj/neg); resolve_conj()/resolve_neg() it before saving";
            t->why_v = 0;
        }
    return MCF_OK;
}

/* The tensor rebuild functions: storage, offset, size, stride, ... */
static int mcf__pk_rebuild(mcf__pk *k, unsigned kind, uint32_t args, uint32_t *out)
{
    size_t argc = mcf__pk_argc(k, args);
    uint32_t st;
    mcf__pk_tensor t;
    int nd2 = 0, rc;
    memset(&t, 0, sizeof t);
    if (kind == MCF__PG_REBUILD_V1 && argc != 4) return mcf__pk_err(k, "_rebuild_tensor takes 4 arguments");
    if (kind == MCF__PG_REBUILD_V2 && argc != 6 && argc != 7) return mcf__pk_err(k, "_rebuild_tensor_v2 takes 6 or 7 arguments");
    if (kind == MCF__PG_REBUILD_V3 && argc != 7 && argc != 8) return mcf__pk_err(k, "_rebuild_tensor_v3 takes 7 or 8 arguments");
    st = mcf__pk_arg(k, args, 0);
    if (k->v[st].kind != MCF__PV_STORAGE) return mcf__pk_err(k, "tensor rebuild: first argument is not a storage");
    if (!mcf__pk_int_of(k, mcf__pk_arg(k, args, 1), &t.offset) || t.offset < 0)
        return mcf__pk_err(k, "tensor rebuild: storage offset is not a non-negative int");
    if ((rc = mcf__pk_dims(k, mcf__pk_arg(k, args, 2), t.shape, &t.ndim, "size")) != MCF_OK) return rc;
    if ((rc = mcf__pk_dims(k, mcf__pk_arg(k, args, 3), t.stride, &nd2, "stride")) != MCF_OK) return rc;
    if (nd2 != t.ndim) return mcf__pk_err(k, "tensor rebuild: size and stride differ in length");
    t.storage = st;
    if ((rc = mcf__pk_rebuild_extra(k, kind, args, st, &t)) != MCF_OK) return rc;
    return mcf__pk_add_tensor(k, &t, out);
}

/* Container constructors: OrderedDict(...), Counter(dict), set(iterable). */
static int mcf__pk_construct(mcf__pk *k, unsigned pg, uint32_t args, int newobj, uint32_t *out)
{
    unsigned kind = pg == MCF__PG_SET ? MCF__PV_SET : MCF__PV_DICT;
    uint32_t src_i;
    size_t argc = k->v[args].n, i;
    long vi;
    int rc;
    if (!newobj && argc > 1) return mcf__pk_err(k, "container constructor takes at most 1 argument");
    src_i = argc ? k->v[args].items[0] : 0;
    if ((vi = mcf__pk_new(k, kind)) < 0) return MCF_INTERNAL_ERROR;   /* moves k->v */
    k->v[vi].sub = (unsigned char)(pg == MCF__PG_ODICT ? 1 : pg == MCF__PG_COUNTER ? 2 : 0);
    *out = (uint32_t)vi;
    if (argc == 0 || newobj) return MCF_OK;   /* cls.__new__(cls, ...) ignores the arguments */
    {
        unsigned sk = k->v[src_i].kind;
        if (sk != MCF__PV_LIST && sk != MCF__PV_TUPLE && sk != MCF__PV_SET && sk != MCF__PV_DICT)
            return mcf__pk_err(k, "container constructor argument is not iterable data");
        if (pg == MCF__PG_COUNTER && sk != MCF__PV_DICT)
            return mcf__pk_fail(k, MCF_NOT_SUPPORTED, "collections.Counter built from something other than a dict");
    }
    for (i = 0; i < k->v[src_i].n; i++) {
        uint32_t it = k->v[src_i].items[i];
        if (kind == MCF__PV_DICT && k->v[src_i].kind != MCF__PV_DICT) {
            const mcf__pv *pair = &k->v[it];
            if ((pair->kind != MCF__PV_TUPLE && pair->kind != MCF__PV_LIST) || pair->n != 2) return mcf__pk_err(k, "dict() item is not a pair");
            rc = mcf__pk_add_item(k, (uint32_t)vi, k->v[it].items[0]);
            if (rc == MCF_OK) rc = mcf__pk_add_item(k, (uint32_t)vi, k->v[it].items[1]);
            if (rc != MCF_OK) return rc;
        } else if (kind != MCF__PV_DICT && k->v[src_i].kind == MCF__PV_DICT && (i & 1)) {
            continue;   /* iterating a dict yields its keys */
        } else if ((rc = mcf__pk_add_item(k, (uint32_t)vi, it)) != MCF_OK) {
            return rc;
        }
    }
    return MCF_OK;
}

/* torch.device("cuda:0") / ("cuda", 0) / ("cpu",) / (0,). */
static int mcf__pk_device(mcf__pk *k, uint32_t args, uint32_t *out)
{
    size_t argc = mcf__pk_argc(k, args), n = 4, i, colon;
    const unsigned char *s = (const unsigned char *)"cuda";
    uint32_t a0 = argc ? mcf__pk_arg(k, args, 0) : 0;
    int64_t index = -1;
    int big = 0;
    long vi;
    if (argc < 1 || argc > 2) return mcf__pk_err(k, "torch.device takes 1 or 2 arguments");
    if (k->v[a0].kind == MCF__PV_STR) {
        s = k->v[a0].s;
        n = k->v[a0].n;
    } else if (argc != 1 || !mcf__pk_int_of(k, a0, &index) || index < 0) {
        return mcf__pk_err(k, "torch.device: the device is not a string or an index");
    }
    for (colon = 0; colon < n && s[colon] != ':'; colon++) { }
    if (colon < n) {
        if (argc == 2 || colon + 1 == n || s[colon + 1] == '-' || s[colon + 1] == '+' ||
            !mcf__pk_parse_dec(s + colon + 1, n - colon - 1, &index, &big) || big || index < 0)
            return mcf__pk_err(k, "torch.device: malformed device string");
        n = colon;
    }
    if (argc == 2 && mcf__pk_kind(k, mcf__pk_arg(k, args, 1)) != MCF__PV_NONE &&
        (!mcf__pk_int_of(k, mcf__pk_arg(k, args, 1), &index) || index < 0))
        return mcf__pk_err(k, "torch.device: the index is not a non-negative int");
    if (n == 0 || n > 32) return mcf__pk_err(k, "torch.device: malformed device type");
    for (i = 0; i < n; i++)
        if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= '0' && s[i] <= '9') || s[i] == '_'))
            return mcf__pk_err(k, "torch.device: malformed device type");
    if ((vi = mcf__pk_new(k, MCF__PV_DEVICE)) < 0) return MCF_INTERNAL_ERROR;
    k->v[vi].s = s;
    k->v[vi].n = n;
    k->v[vi].j = index;
    *out = (uint32_t)vi;
    return MCF_OK;
}

#define MCF__PK_MAX_WRAP 8   /* nested _rebuild_from_type_v2 */

static int mcf__pk_call(mcf__pk *k, uint32_t fn, uint32_t args, int newobj, int depth, uint32_t *out);

/* _rebuild_parameter(data, requires_grad, hooks[, state]): data as a Parameter. */
static int mcf__pk_call_param_rebuild(mcf__pk *k, unsigned pg, uint32_t args, uint32_t *out)
{
    if (mcf__pk_argc(k, args) != (pg == MCF__PG_REBUILD_PARAM ? 3u : 4u))
        return mcf__pk_err(k, pg == MCF__PG_REBUILD_PARAM ? "_rebuild_parameter takes 3 arguments" : "_rebuild_parameter_with_state takes 4 arguments");
    if (mcf__pk_kind(k, mcf__pk_arg(k, args, 0)) != MCF__PV_TENSOR) return mcf__pk_err(k, "_rebuild_parameter: data is not a tensor");
    return mcf__pk_param_of(k, mcf__pk_arg(k, args, 0), out);
}

/* _rebuild_from_type_v2(func, new_type, args, state): func(*args) as new_type. */
static int mcf__pk_call_from_type(mcf__pk *k, uint32_t args, int depth, uint32_t *out)
{
    uint32_t inner = 0, ty;
    int rc;
    if (mcf__pk_argc(k, args) != 4) return mcf__pk_err(k, "_rebuild_from_type_v2 takes 4 arguments");
    ty = mcf__pk_arg(k, args, 1);
    if (depth >= MCF__PK_MAX_WRAP) return mcf__pk_err(k, "_rebuild_from_type_v2 nested too deeply");
    if (k->v[ty].kind != MCF__PV_GLOBAL || (k->v[ty].sub != MCF__PG_TENSOR_CLASS && k->v[ty].sub != MCF__PG_PARAMETER))
        return mcf__pk_err(k, "_rebuild_from_type_v2: the type is not a tensor type");
    rc = mcf__pk_call(k, mcf__pk_arg(k, args, 0), mcf__pk_arg(k, args, 2), 0, depth + 1, &inner);
    if (rc != MCF_OK) return rc;
    if (mcf__pk_kind(k, inner) != MCF__PV_TENSOR) return mcf__pk_err(k, "_rebuild_from_type_v2: the rebuilt object is not a tensor");
    if (k->v[ty].sub == MCF__PG_PARAMETER) return mcf__pk_param_of(k, inner, out);
    *out = inner;
    return MCF_OK;
}

/* _rebuild_device_tensor_from_cpu_tensor(cpu_tensor, dtype, device, requires_grad) */
static int mcf__pk_call_from_cpu(mcf__pk *k, uint32_t args, uint32_t *out)
{
    uint32_t tv, dt;
    const mcf__pk_tensor *t;
    if (mcf__pk_argc(k, args) != 4) return mcf__pk_err(k, "_rebuild_device_tensor_from_cpu_tensor takes 4 arguments");
    tv = mcf__pk_arg(k, args, 0);
    dt = mcf__pk_arg(k, args, 1);
    if (k->v[tv].kind != MCF__PV_TENSOR || k->v[dt].kind != MCF__PV_GLOBAL || k->v[dt].sub != MCF__PG_DTYPE)
        return mcf__pk_err(k, "_rebuild_device_tensor_from_cpu_tensor: arguments are not (tensor, dtype, ...)");
    t = &k->t[k->v[tv].i];
    if (!t->why && k->v[dt].i != (int64_t)t->dtype) return mcf__pk_add_why(k, "is converted to another dtype when loaded", dt, out);
    *out = tv;
    return MCF_OK;
}

/* torch.serialization._get_layout("torch.strided") and the other layouts. */
static int mcf__pk_call_layout(mcf__pk *k, uint32_t args, uint32_t *out)
{
    static const char *const layouts[] = {"torch.strided", "torch.sparse_coo", "torch.sparse_csr", "torch.sparse_csc",
                                          "torch.sparse_bsr", "torch.sparse_bsc", "torch._mkldnn", "torch.jagged"};
    const size_t nl = sizeof layouts / sizeof layouts[0];
    uint32_t a0;
    size_t i = nl;
    long vi;
    if (mcf__pk_argc(k, args) == 1) {
        a0 = mcf__pk_arg(k, args, 0);
        for (i = 0; k->v[a0].kind == MCF__PV_STR && i < nl; i++)
            if (mcf__pk_str_is(&k->v[a0], layouts[i])) break;
        if (k->v[a0].kind != MCF__PV_STR) i = nl;
    }
    if (i == nl) return mcf__pk_err(k, "_get_layout of an unknown layout");
    if ((vi = mcf__pk_new(k, MCF__PV_LAYOUT)) < 0) return MCF_INTERNAL_ERROR;
    k->v[vi].s = k->v[a0].s;
    k->v[vi].n = k->v[a0].n;
    *out = (uint32_t)vi;
    return MCF_OK;
}

/* bytearray(), bytearray(bytes) and bytearray(str, encoding[, errors]). */
static int mcf__pk_call_bytearray(mcf__pk *k, uint32_t args, int newobj, uint32_t *out)
{
    size_t argc = mcf__pk_argc(k, args);
    uint32_t src = argc ? mcf__pk_arg(k, args, 0) : 0;
    long vi;
    if (newobj || argc == 0 || (argc == 1 && k->v[src].kind == MCF__PV_BYTES)) {
        if ((vi = mcf__pk_new(k, MCF__PV_BYTES)) < 0) return MCF_INTERNAL_ERROR;
        if (!newobj && argc == 1) k->v[vi] = k->v[src];
        k->v[vi].sub |= 2;
        *out = (uint32_t)vi;
        return MCF_OK;
    }
    if (argc == 2 || argc == 3) return mcf__pk_encode(k, src, mcf__pk_arg(k, args, 1), 1, 2, out);
    return mcf__pk_fail(k, MCF_NOT_SUPPORTED, "bytearray built from something other than bytes or (str, encoding)");
}

/* complex(real[, imag]) of numbers. */
static int mcf__pk_call_complex(mcf__pk *k, uint32_t args, uint32_t *out)
{
    size_t argc = mcf__pk_argc(k, args);
    int64_t re = 0, im = 0;
    long vi;
    if (argc > 2 || (argc >= 1 && !mcf__pk_num_bits(&k->v[mcf__pk_arg(k, args, 0)], &re)) ||
        (argc == 2 && !mcf__pk_num_bits(&k->v[mcf__pk_arg(k, args, 1)], &im)))
        return mcf__pk_fail(k, MCF_NOT_SUPPORTED, "complex built from something other than one or two numbers");
    if ((vi = mcf__pk_new(k, MCF__PV_COMPLEX)) < 0) return MCF_INTERNAL_ERROR;
    k->v[vi].i = re;
    k->v[vi].j = im;
    *out = (uint32_t)vi;
    return MCF_OK;
}

/* torch.Size((d0, d1, ...)). */
static int mcf__pk_call_size(mcf__pk *k, uint32_t args, uint32_t *out)
{
    size_t argc = mcf__pk_argc(k, args), i, cnt;
    uint32_t src = argc ? mcf__pk_arg(k, args, 0) : 0;
    int64_t x;
    long vi;
    if (argc > 1 || (argc == 1 && k->v[src].kind != MCF__PV_TUPLE && k->v[src].kind != MCF__PV_LIST))
        return mcf__pk_err(k, "torch.Size takes one tuple of ints");
    cnt = argc ? k->v[src].n : 0;
    for (i = 0; i < cnt; i++)
        if (!mcf__pk_int_of(k, k->v[src].items[i], &x)) return mcf__pk_err(k, "torch.Size holds a value that is not an int");
    if ((vi = mcf__pk_new(k, MCF__PV_SIZE)) < 0) return MCF_INTERNAL_ERROR;
    if (cnt) {
        if (!(k->v[vi].items = (uint32_t *)MCF_MALLOC(cnt * sizeof(uint32_t)))) return mcf__pk_oom(k);
        memcpy(k->v[vi].items, k->v[src].items, cnt * sizeof(uint32_t));
        k->v[vi].n = k->v[vi].cap = cnt;
    }
    *out = (uint32_t)vi;
    return MCF_OK;
}

/* nn.Parameter(data[, requires_grad]). */
static int mcf__pk_call_parameter(mcf__pk *k, uint32_t args, uint32_t *out)
{
    size_t argc = mcf__pk_argc(k, args);
    unsigned k0 = argc ? mcf__pk_kind(k, mcf__pk_arg(k, args, 0)) : (unsigned)MCF__PV_NONE;
    if (argc >= 1 && argc <= 2 && k0 == MCF__PV_TENSOR) return mcf__pk_param_of(k, mcf__pk_arg(k, args, 0), out);
    if (argc > 2 || (argc >= 1 && k0 != MCF__PV_NONE)) return mcf__pk_err(k, "nn.Parameter: data is not a tensor");
    return mcf__pk_add_why(k, "is an nn.Parameter without data", 0, out);
}

/* REDUCE (newobj 0) or NEWOBJ (newobj 1) of an allowed global with an args
 * tuple: interpreted, never run. *out receives the result's value. */
static int mcf__pk_call(mcf__pk *k, uint32_t fn, uint32_t args, int newobj, int depth, uint32_t *out)
{
    char gname[128], msg[256];
    size_t argc;
    unsigned pg;
    if (k->v[fn].kind != MCF__PV_GLOBAL)
        return mcf__pk_err(k, newobj ? "object construction (NEWOBJ) of something that is not an allowed class is not allowed: it would run class code"
                                     : "REDUCE of something that is not an allowed global");
    if (k->v[args].kind != MCF__PV_TUPLE) return mcf__pk_err(k, newobj ? "NEWOBJ arguments are not a tuple" : "REDUCE arguments are not a tuple");
    pg = k->v[fn].sub;
    argc = mcf__pk_argc(k, args);
    mcf__pk_global_name(&k->v[fn], gname, sizeof gname);
    if (newobj && pg < MCF__PG_ODICT) {
        snprintf(msg, sizeof msg, "object construction (NEWOBJ) of %s is not allowed: it is not a class", gname);
        return mcf__pk_err(k, msg);
    }
    switch (pg) {
    case MCF__PG_REBUILD_V1:
    case MCF__PG_REBUILD_V2:
    case MCF__PG_REBUILD_V3:
        return mcf__pk_rebuild(k, pg, args, out);
    case MCF__PG_REBUILD_PARAM:
    case MCF__PG_REBUILD_PARAM_STATE:
        return mcf__pk_call_param_rebuild(k, pg, args, out);
    case MCF__PG_REBUILD_FROM_TYPE:
        return mcf__pk_call_from_type(k, args, depth, out);
    case MCF__PG_REBUILD_FROM_CPU:
        return mcf__pk_call_from_cpu(k, args, out);
    case MCF__PG_REBUILD_OTHER:
        return mcf__pk_add_why(k, mcf__pk_fixed[k->v[fn].j].note, fn, out);
    case MCF__PG_ENCODE:   /* codecs.encode(str, encoding[, errors]): protocol-2 bytes */
        if (argc < 1 || argc > 3) return mcf__pk_err(k, "codecs.encode takes 1 to 3 arguments");
        return mcf__pk_encode(k, mcf__pk_arg(k, args, 0), argc > 1 ? mcf__pk_arg(k, args, 1) : 0, argc > 1, 0, out);
    case MCF__PG_GET_LAYOUT:
        return mcf__pk_call_layout(k, args, out);
    case MCF__PG_ODICT:
    case MCF__PG_COUNTER:
    case MCF__PG_SET:
        return mcf__pk_construct(k, pg, args, newobj, out);
    case MCF__PG_BYTEARRAY:
        return mcf__pk_call_bytearray(k, args, newobj, out);
    case MCF__PG_COMPLEX:
        return mcf__pk_call_complex(k, args, out);
    case MCF__PG_SIZE:
        return mcf__pk_call_size(k, args, out);
    case MCF__PG_DEVICE:
        return mcf__pk_device(k, args, out);
    case MCF__PG_PARAMETER:
        return mcf__pk_call_parameter(k, args, out);
    case MCF__PG_TENSOR_CLASS:
        return mcf__pk_add_why(k, "is built by a legacy tensor constructor", fn, out);
    case MCF__PG_STORAGE:
    case MCF__PG_UNTYPED:
    case MCF__PG_TYPED:
        snprintf(msg, sizeof msg, "a storage built by calling %s (torch.save refers to storages by persistent id) is not supported", gname);
        return mcf__pk_fail(k, MCF_NOT_SUPPORTED, msg);
    default:
        snprintf(msg, sizeof msg, "%s is not callable", gname);
        return mcf__pk_err(k, msg);
    }
}

/* BINPERSID: ('storage', <Storage class>, key, location, numel). */
static int mcf__pk_persid(mcf__pk *k, uint32_t pid)
{
    uint32_t cls, key;
    int64_t numel;
    long vi;
    if (k->v[pid].kind != MCF__PV_TUPLE || k->v[pid].n < 5 || !mcf__pk_str_is(&k->v[mcf__pk_arg(k, pid, 0)], "storage"))
        return mcf__pk_err(k, "persistent id is not ('storage', type, key, location, numel)");
    cls = mcf__pk_arg(k, pid, 1);
    key = mcf__pk_arg(k, pid, 2);
    if (k->v[cls].kind != MCF__PV_GLOBAL || (k->v[cls].sub != MCF__PG_STORAGE && k->v[cls].sub != MCF__PG_UNTYPED))
        return mcf__pk_err(k, "persistent id names no torch storage type");
    if (k->v[key].kind != MCF__PV_STR) return mcf__pk_err(k, "persistent id key is not a string");
    if (!mcf__pk_int_of(k, mcf__pk_arg(k, pid, 4), &numel) || numel < 0) return mcf__pk_err(k, "persistent id numel is not a non-negative int");
    if ((vi = mcf__pk_new(k, MCF__PV_STORAGE)) < 0) return MCF_INTERNAL_ERROR;
    if (k->v[cls].sub == MCF__PG_UNTYPED) k->v[vi].sub = MCF__PK_UNTYPED;
    else k->v[vi].sub = (unsigned char)(k->v[cls].i < 0 ? MCF__PK_NODTYPE : (unsigned)k->v[cls].i);
    k->v[vi].i = numel;
    k->v[vi].j = (int64_t)cls;
    k->v[vi].s = k->v[key].s;
    k->v[vi].n = k->v[key].n;
    return mcf__pk_push(k, vi);
}

/* Starts an unpickler over [p, p+n): values 0, 1, 2 are None, False, True. */
static int mcf__pk_init(mcf__pk *k, const unsigned char *p, size_t n, const char *name)
{
    memset(k, 0, sizeof *k);
    k->start = k->p = p;
    k->end = p + n;
    k->name = name;
    if (mcf__pk_new(k, MCF__PV_NONE) < 0 || mcf__pk_new(k, MCF__PV_BOOL) < 0 || mcf__pk_new(k, MCF__PV_BOOL) < 0) return MCF_INTERNAL_ERROR;
    k->v[2].i = 1;
    return MCF_OK;
}

/* ---- values as text: Python's type names and repr() ---- */
#define MCF__PK_TEXT_MAX 120    /* longer texts are cut and end in "..." */

/* Digits (no point) and decimal exponent of printf's %.*e text. */
static int mcf__pk_e_digits(const char *t, char *dig, int *e10)
{
    int nd = 0;
    if (*t == '-') t++;
    for (; *t && *t != 'e' && *t != 'E'; t++) if (*t >= '0' && *t <= '9' && nd < 20) dig[nd++] = *t;
    *e10 = *t ? atoi(t + 1) : 0;
    return nd;
}

/* 1 if the decimal dig[0].dig[1..nd) x 10^e10 reads back (strtod, in the C
 * library's locale) as exactly the double with these bits. */
static int mcf__pk_reads_back(const char *dig, int nd, int e10, uint64_t bits, char dp)
{
    char t[48];
    double d;
    uint64_t bb;
    int k = 0, i;
    if (bits >> 63) t[k++] = '-';
    t[k++] = dig[0];
    if (nd > 1) t[k++] = dp;
    for (i = 1; i < nd; i++) t[k++] = dig[i];
    snprintf(t + k, sizeof t - (size_t)k, "e%d", e10);
    d = strtod(t, NULL);
    memcpy(&bb, &d, sizeof bb);
    return bb == bits;
}

/* repr() of a float from its bits: the shortest digits that read back to the
 * same double, laid out as Python does (exponent form below 1e-4 and from
 * 1e16 on). For each length N the correctly rounded N digits (printf %.Ne)
 * are tried, then the next decimal up: at a power of two the interval of
 * values that read back is narrower below, where printf's digits can fall
 * out of it while the ones above still read back (Python then prints those).
 * dot0 adds ".0" to integral values (float repr; complex parts have none). */
static void mcf__pk_put_float(mcf__buf *b, uint64_t bits, int dot0)
{
    double d;
    char t[48], dig[24], dp = mcf__decimal_point();
    int p, e10 = 0, nd = 0, decpt, i, found = 0;
    unsigned expo = (unsigned)(bits >> 52) & 0x7ffu;
    int neg = (int)(bits >> 63);
    if (expo == 0x7ffu) {
        mcf__buf_puts(b, (bits << 12) ? "nan" : neg ? "-inf" : "inf");
        return;
    }
    if ((bits << 1) == 0) {
        mcf__buf_puts(b, neg ? (dot0 ? "-0.0" : "-0") : (dot0 ? "0.0" : "0"));
        return;
    }
    memcpy(&d, &bits, sizeof d);
    for (p = 1; p <= 17 && !found; p++) {
        snprintf(t, sizeof t, "%.*e", p - 1, d);
        nd = mcf__pk_e_digits(t, dig, &e10);
        if (p == 17 || mcf__pk_reads_back(dig, nd, e10, bits, dp)) {
            found = 1;
            break;
        }
        for (i = nd - 1; i >= 0 && dig[i] == '9'; i--) dig[i] = '0';   /* + one unit in the last place */
        if (i >= 0) dig[i]++;
        else {
            dig[0] = '1';
            e10++;
        }
        if (mcf__pk_reads_back(dig, nd, e10, bits, dp)) found = 1;
    }
    while (nd > 1 && dig[nd - 1] == '0') nd--;
    decpt = e10 + 1;
    if (neg) mcf__buf_putc(b, '-');
    if (decpt <= -4 || decpt > 16) {
        mcf__buf_putc(b, (unsigned char)dig[0]);
        if (nd > 1) {
            mcf__buf_putc(b, '.');
            mcf__buf_put(b, dig + 1, (size_t)(nd - 1));
        }
        snprintf(t, sizeof t, "e%c%02d", e10 < 0 ? '-' : '+', e10 < 0 ? -e10 : e10);
        mcf__buf_puts(b, t);
    } else if (decpt <= 0) {
        mcf__buf_puts(b, "0.");
        for (i = decpt; i < 0; i++) mcf__buf_putc(b, '0');
        mcf__buf_put(b, dig, (size_t)nd);
    } else if (decpt >= nd) {
        mcf__buf_put(b, dig, (size_t)nd);
        for (i = nd; i < decpt; i++) mcf__buf_putc(b, '0');
        if (dot0) mcf__buf_puts(b, ".0");
    } else {
        mcf__buf_put(b, dig, (size_t)decpt);
        mcf__buf_putc(b, '.');
        mcf__buf_put(b, dig + decpt, (size_t)(nd - decpt));
    }
}

/* An int wider than 64 bits: decimal text as written (protocol 0), or
 * little-endian two's complement bytes (LONG1/LONG4) converted by long
 * division; past 256 bytes only its size is given. */
static void mcf__pk_put_bigint(mcf__buf *b, const mcf__pv *v)
{
    uint32_t limb[64], chunk[72];
    size_t n = v->n, nl = (v->n + 3) / 4, i, nc = 0;
    int neg;
    char t[48];
    if (v->sub == 1) {   /* [+-]digits[L], already checked */
        const unsigned char *s = v->s;
        if (n && s[n - 1] == 'L') n--;
        if (n && (s[0] == '+' || s[0] == '-')) {
            if (s[0] == '-') mcf__buf_putc(b, '-');
            s++;
            n--;
        }
        while (n > 1 && s[0] == '0') {
            s++;
            n--;
        }
        mcf__buf_put(b, s, n);
        return;
    }
    if (n > 256) {
        snprintf(t, sizeof t, "<int of %lu bytes>", (unsigned long)n);
        mcf__buf_puts(b, t);
        return;
    }
    neg = n > 0 && (v->s[n - 1] & 0x80);
    memset(limb, 0, sizeof limb);
    for (i = 0; i < 4 * nl; i++) {
        unsigned byte = i < n ? v->s[i] : neg ? 0xffu : 0u;
        if (neg) byte = ~byte & 0xffu;
        limb[i / 4] |= (uint32_t)byte << (8 * (i % 4));
    }
    for (i = 0; neg && i < nl; i++) if (++limb[i] != 0) break;   /* magnitude = ~x + 1 */
    for (;;) {
        uint64_t rem = 0;
        int nonzero = 0;
        for (i = nl; i-- > 0;) {
            uint64_t cur = (rem << 32) | limb[i];
            limb[i] = (uint32_t)(cur / 1000000000u);
            rem = cur % 1000000000u;
            nonzero |= limb[i] != 0;
        }
        chunk[nc++] = (uint32_t)rem;
        if (!nonzero) break;
    }
    if (neg) mcf__buf_putc(b, '-');
    snprintf(t, sizeof t, "%lu", (unsigned long)chunk[nc - 1]);
    mcf__buf_puts(b, t);
    for (i = nc - 1; i-- > 0;) {
        snprintf(t, sizeof t, "%09lu", (unsigned long)chunk[i]);
        mcf__buf_puts(b, t);
    }
}

static void mcf__pk_put_hex(mcf__buf *b, const char *prefix, unsigned long c, int width)
{
    char t[32];
    snprintf(t, sizeof t, "%s%0*lx", prefix, width, c);
    mcf__buf_puts(b, t);
}

/* A backslash and c (a quote or a backslash in a repr). */
static void mcf__pk_put_escaped(mcf__buf *b, unsigned c)
{
    mcf__buf_putc(b, '\\');
    mcf__buf_putc(b, (unsigned char)c);
}

/* A str as repr() writes it: C0/C1 controls escaped, other UTF-8 kept.
 * Output stops past limit. */
static void mcf__pk_put_str(mcf__buf *b, const unsigned char *s, size_t n, size_t limit)
{
    size_t i = 0;
    unsigned char q = '\'';
    if (memchr(s, '\'', n) && !memchr(s, '"', n)) q = '"';
    mcf__buf_putc(b, q);
    while (i < n && b->len <= limit) {
        unsigned c = s[i];
        size_t at = i;
        long cp;
        if (c < 0x80) {
            i++;
            if (c == '\\' || c == q) mcf__pk_put_escaped(b, c);
            else if (c == '\n') mcf__buf_puts(b, "\\n");
            else if (c == '\r') mcf__buf_puts(b, "\\r");
            else if (c == '\t') mcf__buf_puts(b, "\\t");
            else if (c < 0x20 || c == 0x7f) mcf__pk_put_hex(b, "\\x", c, 2);
            else mcf__buf_putc(b, (unsigned char)c);
        } else if ((cp = mcf__utf8_next(s, n, &i)) < 0) {
            mcf__pk_put_hex(b, "\\x", c, 2);   /* not UTF-8: the byte */
            i = at + 1;
        } else if (cp < 0xa0) {
            mcf__pk_put_hex(b, "\\x", (unsigned long)cp, 2);   /* C1 controls */
        } else if (cp == 0x2028 || cp == 0x2029) {
            mcf__pk_put_hex(b, "\\u", (unsigned long)cp, 4);
        } else {
            mcf__buf_put(b, s + at, i - at);
        }
    }
    mcf__buf_putc(b, q);
}

/* bytes / bytearray repr: b'..' with \\xNN for anything not printable ASCII. */
static void mcf__pk_put_bytes(mcf__buf *b, const mcf__pv *v, size_t limit)
{
    size_t i = 0;
    int has_sq = 0, has_dq = 0;
    unsigned char q;
    if (v->sub & 2) mcf__buf_puts(b, "bytearray(");
    for (i = 0; i < v->n;) {   /* latin-1 text: each code point is one byte */
        long c = (v->sub & 1) ? mcf__utf8_next(v->s, v->n, &i) : (long)v->s[i++];
        has_sq |= c == '\'';
        has_dq |= c == '"';
    }
    q = has_sq && !has_dq ? '"' : '\'';
    mcf__buf_putc(b, 'b');
    mcf__buf_putc(b, q);
    for (i = 0; i < v->n && b->len <= limit;) {
        long c = (v->sub & 1) ? mcf__utf8_next(v->s, v->n, &i) : (long)v->s[i++];
        if (c < 0) break;
        if (c == '\\' || c == q) mcf__pk_put_escaped(b, (unsigned)c);
        else if (c == '\n') mcf__buf_puts(b, "\\n");
        else if (c == '\r') mcf__buf_puts(b, "\\r");
        else if (c == '\t') mcf__buf_puts(b, "\\t");
        else if (c < 0x20 || c >= 0x7f) mcf__pk_put_hex(b, "\\x", (unsigned long)c, 2);
        else mcf__buf_putc(b, (unsigned char)c);
    }
    mcf__buf_putc(b, q);
    if (v->sub & 2) mcf__buf_putc(b, ')');
}

static int mcf__pk_is_class(unsigned pg) { return pg >= MCF__PG_ODICT && pg < MCF__PG_DTYPE; }

/* Python type name of value vi: "int", "str", "torch.Size", ... */
static const char *mcf__pk_type_name(const mcf__pk *k, uint32_t vi)
{
    const mcf__pv *v = &k->v[vi];
    switch (v->kind) {
    case MCF__PV_NONE: return "NoneType";
    case MCF__PV_BOOL: return "bool";
    case MCF__PV_INT: case MCF__PV_BIGINT: return "int";
    case MCF__PV_FLOAT: return "float";
    case MCF__PV_STR: return "str";
    case MCF__PV_BYTES: return (v->sub & 2) ? "bytearray" : "bytes";
    case MCF__PV_TUPLE: return "tuple";
    case MCF__PV_LIST: return "list";
    case MCF__PV_DICT: return v->sub == 1 ? "collections.OrderedDict" : v->sub == 2 ? "collections.Counter" : "dict";
    case MCF__PV_SET: return v->sub ? "frozenset" : "set";
    case MCF__PV_COMPLEX: return "complex";
    case MCF__PV_SIZE: return "torch.Size";
    case MCF__PV_DEVICE: return "torch.device";
    case MCF__PV_LAYOUT: return "torch.layout";
    case MCF__PV_STORAGE: return v->sub == MCF__PK_UNTYPED ? "torch.storage.UntypedStorage" : "torch.storage.TypedStorage";
    case MCF__PV_TENSOR: return "torch.Tensor";
    default: /* GLOBAL */
        return v->sub == MCF__PG_DTYPE ? "torch.dtype" : v->sub == MCF__PG_QSCHEME ? "torch.qscheme" : mcf__pk_is_class(v->sub) ? "type" : "function";
    }
}

static void mcf__pk_put_dotted(mcf__buf *b, const mcf__pv *g)
{
    mcf__buf_puts(b, g->mod ? g->mod : "?");
    mcf__buf_putc(b, '.');
    mcf__buf_put(b, g->s, g->n);
}

static void mcf__pk_put_int(mcf__buf *b, const char *fmt, int64_t v)
{
    char t[48];
    snprintf(t, sizeof t, fmt, (long long)v);
    mcf__buf_puts(b, t);
}

/* (1+2j); 2j when the real part is +0 */
static void mcf__pk_put_complex(mcf__buf *b, const mcf__pv *v)
{
    mcf__buf im;
    int plain = v->i == 0;
    memset(&im, 0, sizeof im);
    mcf__pk_put_float(&im, (uint64_t)v->j, 0);
    if (!plain) {
        mcf__buf_putc(b, '(');
        mcf__pk_put_float(b, (uint64_t)v->i, 0);
        if (!im.failed && im.data[0] != '-') mcf__buf_putc(b, '+');
    }
    if (!im.failed) mcf__buf_put(b, im.data, im.len);
    mcf__buf_puts(b, plain ? "j" : "j)");
    mcf__buf_free(&im);
}

/* torch.Size([2, 3]) */
static void mcf__pk_put_size(const mcf__pk *k, mcf__buf *b, const mcf__pv *v, size_t limit)
{
    size_t i;
    mcf__buf_puts(b, "torch.Size([");
    for (i = 0; i < v->n && b->len <= limit; i++) {
        if (i) mcf__buf_puts(b, ", ");
        mcf__pk_put_int(b, "%lld", k->v[v->items[i]].i);
    }
    mcf__buf_puts(b, "])");
}

/* device(type='cuda', index=0) */
static void mcf__pk_put_device(mcf__buf *b, const mcf__pv *v)
{
    mcf__buf_puts(b, "device(type='");
    mcf__buf_put(b, v->s, v->n);
    mcf__buf_putc(b, '\'');
    if (v->j >= 0) mcf__pk_put_int(b, ", index=%lld", v->j);
    mcf__buf_putc(b, ')');
}

/* torch.float32, <class 'collections.OrderedDict'>, <function torch._utils._rebuild_tensor_v2> */
static void mcf__pk_put_global(mcf__buf *b, const mcf__pv *v)
{
    if (v->sub == MCF__PG_DTYPE || v->sub == MCF__PG_QSCHEME) {
        mcf__pk_put_dotted(b, v);
        return;
    }
    mcf__buf_puts(b, mcf__pk_is_class(v->sub) ? "<class '" : "<function ");
    mcf__pk_put_dotted(b, v);
    mcf__buf_puts(b, mcf__pk_is_class(v->sub) ? "'>" : ">");
}

static void mcf__pk_render(const mcf__pk *k, uint32_t vi, int depth, mcf__buf *b, size_t limit);

/* A tuple, list, set or dict (frozenset(...), OrderedDict(...) and
 * Counter(...) around theirs); below the top level only "(...)". */
static void mcf__pk_put_container(const mcf__pk *k, const mcf__pv *v, int depth, mcf__buf *b, size_t limit)
{
    const char *open = v->kind == MCF__PV_TUPLE ? "(" : v->kind == MCF__PV_LIST ? "[" : "{";
    const char *close = v->kind == MCF__PV_TUPLE ? (v->n == 1 ? ",)" : ")") : v->kind == MCF__PV_LIST ? "]" : "}";
    size_t step = v->kind == MCF__PV_DICT ? 2 : 1, i;
    int wrapped = (v->kind == MCF__PV_SET || v->kind == MCF__PV_DICT) && v->sub;
    if (v->kind == MCF__PV_SET && v->sub) mcf__buf_puts(b, "frozenset(");
    if (v->kind == MCF__PV_DICT && v->sub) mcf__buf_puts(b, v->sub == 1 ? "OrderedDict(" : "Counter(");
    if ((v->kind == MCF__PV_SET || wrapped) && v->n == 0) {
        mcf__buf_puts(b, v->kind == MCF__PV_SET && !v->sub ? "set()" : ")");
        return;
    }
    mcf__buf_puts(b, open);
    if (depth > 0 && v->n) mcf__buf_puts(b, "...");
    for (i = 0; depth == 0 && i + step <= v->n && b->len <= limit; i += step) {
        if (i) mcf__buf_puts(b, ", ");
        mcf__pk_render(k, v->items[i], depth + 1, b, limit);
        if (step == 1) continue;
        mcf__buf_puts(b, ": ");
        mcf__pk_render(k, v->items[i + 1], depth + 1, b, limit);
    }
    mcf__buf_puts(b, close);
    if (wrapped) mcf__buf_putc(b, ')');
}

/* repr() of value vi into b (containers one level deep; output stops a
 * little past limit, the caller cuts it). */
static void mcf__pk_render(const mcf__pk *k, uint32_t vi, int depth, mcf__buf *b, size_t limit)
{
    const mcf__pv *v = &k->v[vi];
    if (b->len > limit) return;
    switch (v->kind) {
    case MCF__PV_NONE: mcf__buf_puts(b, "None"); break;
    case MCF__PV_BOOL: mcf__buf_puts(b, v->i ? "True" : "False"); break;
    case MCF__PV_INT: mcf__pk_put_int(b, "%lld", v->i); break;
    case MCF__PV_BIGINT: mcf__pk_put_bigint(b, v); break;
    case MCF__PV_FLOAT: mcf__pk_put_float(b, (uint64_t)v->i, 1); break;
    case MCF__PV_STR: mcf__pk_put_str(b, v->s, v->n, limit); break;
    case MCF__PV_BYTES: mcf__pk_put_bytes(b, v, limit); break;
    case MCF__PV_COMPLEX: mcf__pk_put_complex(b, v); break;
    case MCF__PV_SIZE: mcf__pk_put_size(k, b, v, limit); break;
    case MCF__PV_DEVICE: mcf__pk_put_device(b, v); break;
    case MCF__PV_LAYOUT: mcf__buf_put(b, v->s, v->n); break;
    case MCF__PV_GLOBAL: mcf__pk_put_global(b, v); break;
    case MCF__PV_STORAGE:
        mcf__pk_put_dotted(b, &k->v[v->j]);
        mcf__buf_puts(b, "(key=");
        mcf__pk_put_str(b, v->s, v->n, limit);
        mcf__pk_put_int(b, ", numel=%lld)", v->i);
        break;
    case MCF__PV_TENSOR: mcf__buf_puts(b, "tensor(...)"); break;
    default: mcf__pk_put_container(k, v, depth, b, limit); break;   /* TUPLE LIST SET DICT */
    }
}

/* Cuts b to MCF__PK_TEXT_MAX bytes ending in "..." (on a UTF-8 boundary). */
static void mcf__pk_clip(mcf__buf *b)
{
    size_t n;
    if (b->failed || b->len <= MCF__PK_TEXT_MAX) return;
    n = MCF__PK_TEXT_MAX - 3;
    while (n > 0 && (b->data[n] & 0xC0) == 0x80) n--;
    b->len = n;
    mcf__buf_puts(b, "...");
}

/* ---- the opcodes ---- */
/* A value pushed for the bytes s[0..n) of the pickle (strings, big ints). */
static int mcf__pk_push_slice(mcf__pk *k, unsigned kind, unsigned sub, const unsigned char *s, size_t n)
{
    long vi = mcf__pk_new(k, kind);
    if (vi < 0) return MCF_INTERNAL_ERROR;
    k->v[vi].sub = (unsigned char)sub;
    k->v[vi].s = s;
    k->v[vi].n = n;
    return mcf__pk_push(k, vi);
}

/* MARK */
static int mcf__pk_op_mark(mcf__pk *k)
{
    if (k->nmarks >= MCF_MAX_PICKLE_STACK) return mcf__pk_err(k, "more than MCF_MAX_PICKLE_STACK marks");
    if (!mcf__grow((void **)&k->marks, &k->capmarks, k->nmarks + 1, sizeof *k->marks)) return mcf__pk_oom(k);
    k->marks[k->nmarks++] = k->sp;
    return MCF_OK;
}

/* PROTO and FRAME: checked, otherwise without effect. */
static int mcf__pk_op_header(mcf__pk *k, unsigned op)
{
    const unsigned char *s = NULL;
    int rc = mcf__pk_take(k, op == MCF__OP_PROTO ? 1u : 8u, &s);
    if (rc != MCF_OK) return rc;
    if (op == MCF__OP_PROTO && s[0] > MCF__PK_PROTO_MAX) return mcf__pk_err(k, "unknown pickle protocol (> 5)");
    /* FRAME is only a length hint, but it must fit */
    if (op == MCF__OP_FRAME && mcf__le64(s) > (uint64_t)(k->end - k->p)) return mcf__pk_err(k, "FRAME longer than the remaining stream");
    return MCF_OK;
}

/* BININT1, BININT2, BININT: little-endian ints of 1, 2 (unsigned) and 4
 * (signed) bytes. */
static int mcf__pk_op_binint(mcf__pk *k, unsigned op)
{
    const unsigned char *s = NULL;
    int rc = mcf__pk_take(k, op == MCF__OP_BININT1 ? 1u : op == MCF__OP_BININT2 ? 2u : 4u, &s);
    if (rc != MCF_OK) return rc;
    if (op == MCF__OP_BININT1) return mcf__pk_push_new(k, MCF__PV_INT, s[0]);
    if (op == MCF__OP_BININT2) return mcf__pk_push_new(k, MCF__PV_INT, mcf__le16(s));
    return mcf__pk_push_new(k, MCF__PV_INT, (int64_t)(int32_t)mcf__le32(s));
}

/* LONG1 / LONG4: little-endian two's complement of 1- or 4-byte length;
 * wider than 8 bytes it stays a slice of the pickle (a BIGINT). */
static int mcf__pk_op_long(mcf__pk *k, unsigned op)
{
    const unsigned char *s = NULL;
    uint64_t len, u = 0;
    size_t j;
    int rc = mcf__pk_take(k, op == MCF__OP_LONG1 ? 1u : 4u, &s);
    if (rc != MCF_OK) return rc;
    len = op == MCF__OP_LONG1 ? s[0] : mcf__le32(s);
    if ((rc = mcf__pk_take(k, len, &s)) != MCF_OK) return rc;
    if (len > 8) return mcf__pk_push_slice(k, MCF__PV_BIGINT, 0, s, (size_t)len);
    for (j = 0; j < len; j++) u |= (uint64_t)s[j] << (8 * j);
    if (len > 0 && len < 8 && (s[len - 1] & 0x80)) u |= ~(uint64_t)0 << (8 * len);
    return mcf__pk_push_new(k, MCF__PV_INT, (int64_t)u);
}

/* INT / LONG: decimal text; INT "00"/"01" are protocol 0's False/True. */
static int mcf__pk_op_text_int(mcf__pk *k, unsigned op)
{
    const unsigned char *s = NULL;
    size_t n = 0;
    int64_t iv = 0;
    int big = 0, rc = mcf__pk_line(k, &s, &n);
    if (rc != MCF_OK) return rc;
    if (op == MCF__OP_INT && n == 2 && s[0] == '0' && (s[1] == '0' || s[1] == '1')) return mcf__pk_push_new(k, MCF__PV_BOOL, s[1] - '0');
    if (!mcf__pk_parse_dec(s, n, &iv, &big)) return mcf__pk_err(k, "malformed text integer");
    if (!big) return mcf__pk_push_new(k, MCF__PV_INT, iv);
    return mcf__pk_push_slice(k, MCF__PV_BIGINT, 1, s, n);   /* sub 1: decimal text */
}

/* FLOAT (text) and BINFLOAT (big-endian IEEE double). */
static int mcf__pk_op_float(mcf__pk *k, unsigned op)
{
    const unsigned char *s = NULL;
    uint64_t bits = 0;
    size_t n = 0, j;
    int rc = op == MCF__OP_FLOAT ? mcf__pk_line(k, &s, &n) : mcf__pk_take(k, 8, &s);
    if (rc != MCF_OK) return rc;
    if (op == MCF__OP_FLOAT && !mcf__pk_parse_float(s, n, &bits)) return mcf__pk_err(k, "malformed text float");
    for (j = 0; op == MCF__OP_BINFLOAT && j < 8; j++) bits = (bits << 8) | s[j];
    return mcf__pk_push_new(k, MCF__PV_FLOAT, (int64_t)bits);
}

/* The counted strings and bytes: str for the *UNICODE and *BINSTRING
 * opcodes, bytes for the *BINBYTES ones and BYTEARRAY8 (a bytearray). */
static int mcf__pk_op_counted(mcf__pk *k, unsigned op)
{
    unsigned lw, kind;
    const unsigned char *s = NULL;
    uint64_t len;
    int rc;
    switch (op) {
    case MCF__OP_SHORT_BINUNICODE: case MCF__OP_SHORT_BINSTRING: case MCF__OP_SHORT_BINBYTES: lw = 1; break;
    case MCF__OP_BINUNICODE8: case MCF__OP_BINBYTES8: case MCF__OP_BYTEARRAY8: lw = 8; break;
    default: lw = 4; break;   /* BINUNICODE, BINSTRING, BINBYTES */
    }
    kind = op == MCF__OP_BINUNICODE || op == MCF__OP_SHORT_BINUNICODE || op == MCF__OP_BINUNICODE8 ||
           op == MCF__OP_BINSTRING || op == MCF__OP_SHORT_BINSTRING ? MCF__PV_STR : MCF__PV_BYTES;
    if ((rc = mcf__pk_take(k, lw, &s)) != MCF_OK) return rc;
    len = lw == 1 ? s[0] : lw == 4 ? mcf__le32(s) : mcf__le64(s);
    if ((rc = mcf__pk_take(k, len, &s)) != MCF_OK) return rc;
    return mcf__pk_push_slice(k, kind, op == MCF__OP_BYTEARRAY8 ? 2u : 0u, s, (size_t)len);
}

/* STRING and UNICODE (protocol 0): kept as the raw text, quotes stripped. */
static int mcf__pk_op_text_str(mcf__pk *k, unsigned op)
{
    const unsigned char *s = NULL;
    size_t n = 0;
    int rc = mcf__pk_line(k, &s, &n);
    if (rc != MCF_OK) return rc;
    if (op == MCF__OP_STRING) {
        if (n < 2 || (s[0] != '\'' && s[0] != '"') || s[n - 1] != s[0]) return mcf__pk_err(k, "malformed STRING operand");
        s++;
        n -= 2;
    }
    return mcf__pk_push_slice(k, MCF__PV_STR, 0, s, n);
}

/* TUPLE1..TUPLE3: the top n values. */
static int mcf__pk_op_tuple_n(mcf__pk *k, unsigned op)
{
    size_t n = (size_t)(op - MCF__OP_TUPLE1) + 1;
    if (k->sp < n || (k->nmarks && k->marks[k->nmarks - 1] > k->sp - n)) return mcf__pk_err(k, "stack underflow");
    return mcf__pk_collect(k, k->sp - n, MCF__PV_TUPLE, 0);
}

/* TUPLE, LIST, FROZENSET and DICT: the values above the last MARK. */
static int mcf__pk_op_from_mark(mcf__pk *k, unsigned op)
{
    size_t from = 0;
    int rc = mcf__pk_pop_mark(k, &from);
    if (rc != MCF_OK) return rc;
    if (op == MCF__OP_TUPLE) return mcf__pk_collect(k, from, MCF__PV_TUPLE, 0);
    if (op == MCF__OP_LIST) return mcf__pk_collect(k, from, MCF__PV_LIST, 0);
    if (op == MCF__OP_FROZENSET) return mcf__pk_collect(k, from, MCF__PV_SET, 1);
    if ((k->sp - from) % 2) return mcf__pk_err(k, "DICT with an odd number of items");
    return mcf__pk_collect(k, from, MCF__PV_DICT, 0);
}

/* APPEND / SETITEM: one value (or key and value) into the list or dict below. */
static int mcf__pk_op_append(mcf__pk *k, unsigned op)
{
    uint32_t key = 0, val = 0, c = 0;
    int rc = mcf__pk_pop(k, &val);
    if (rc == MCF_OK && op == MCF__OP_SETITEM) rc = mcf__pk_pop(k, &key);
    if (rc == MCF_OK) rc = mcf__pk_top(k, &c);
    if (rc != MCF_OK) return rc;
    if (k->v[c].kind != (op == MCF__OP_APPEND ? MCF__PV_LIST : MCF__PV_DICT))
        return mcf__pk_err(k, op == MCF__OP_APPEND ? "APPEND to a non-list" : "SETITEM on a non-dict");
    if (op == MCF__OP_SETITEM && (rc = mcf__pk_add_item(k, c, key)) != MCF_OK) return rc;
    return mcf__pk_add_item(k, c, val);
}

/* APPENDS / SETITEMS / ADDITEMS: the values above the last MARK into the
 * list, dict or set just below it. */
static int mcf__pk_op_appends(mcf__pk *k, unsigned op)
{
    unsigned want = op == MCF__OP_APPENDS ? MCF__PV_LIST : op == MCF__OP_SETITEMS ? MCF__PV_DICT : MCF__PV_SET;
    size_t from = 0, j;
    uint32_t c;
    int rc = mcf__pk_pop_mark(k, &from);
    if (rc != MCF_OK) return rc;
    if (from == 0 || (k->nmarks && k->marks[k->nmarks - 1] == from)) return mcf__pk_err(k, "stack underflow");
    c = k->stack[from - 1];
    if (k->v[c].kind != want)
        return mcf__pk_err(k, op == MCF__OP_APPENDS ? "APPENDS to a non-list" : op == MCF__OP_SETITEMS ? "SETITEMS on a non-dict" : "ADDITEMS on a non-set");
    if (op == MCF__OP_SETITEMS && (k->sp - from) % 2) return mcf__pk_err(k, "SETITEMS with an odd number of items");
    for (j = from; j < k->sp && rc == MCF_OK; j++) rc = mcf__pk_add_item(k, c, k->stack[j]);
    k->sp = from;
    return rc;
}

/* The memo: GET/PUT (decimal text), BINGET/BINPUT (1 byte), LONG_BINGET/
 * LONG_BINPUT (4 bytes), MEMOIZE (the next free index). */
static int mcf__pk_op_memo(mcf__pk *k, unsigned op)
{
    const unsigned char *s = NULL;
    size_t n = 0;
    int64_t iv = 0;
    uint64_t idx;
    int big = 0, rc = MCF_OK, get = op == MCF__OP_GET || op == MCF__OP_BINGET || op == MCF__OP_LONG_BINGET;
    if (op == MCF__OP_MEMOIZE) return mcf__pk_memo_put(k, k->nmemo);
    if (op == MCF__OP_GET || op == MCF__OP_PUT) {
        if ((rc = mcf__pk_line(k, &s, &n)) != MCF_OK) return rc;
        if (!mcf__pk_parse_dec(s, n, &iv, &big) || big || iv < 0) return mcf__pk_err(k, "malformed memo index");
        idx = (uint64_t)iv;
    } else if (op == MCF__OP_BINGET || op == MCF__OP_BINPUT) {
        if ((rc = mcf__pk_take(k, 1, &s)) != MCF_OK) return rc;
        idx = s[0];
    } else {
        if ((rc = mcf__pk_take(k, 4, &s)) != MCF_OK) return rc;
        idx = mcf__le32(s);
    }
    return get ? mcf__pk_memo_get(k, idx) : mcf__pk_memo_put(k, idx);
}

/* GLOBAL (two text lines) and STACK_GLOBAL (two strings on the stack). */
static int mcf__pk_op_global(mcf__pk *k, unsigned op)
{
    const unsigned char *m = NULL, *s = NULL;
    size_t mn = 0, n = 0;
    uint32_t a = 0, b = 0;
    int rc;
    if (op == MCF__OP_GLOBAL) {
        rc = mcf__pk_line(k, &m, &mn);
        if (rc == MCF_OK) rc = mcf__pk_line(k, &s, &n);
        return rc != MCF_OK ? rc : mcf__pk_global(k, m, mn, s, n);
    }
    rc = mcf__pk_pop(k, &b);
    if (rc == MCF_OK) rc = mcf__pk_pop(k, &a);
    if (rc != MCF_OK) return rc;
    if (k->v[a].kind != MCF__PV_STR || k->v[b].kind != MCF__PV_STR) return mcf__pk_err(k, "STACK_GLOBAL operands are not strings");
    return mcf__pk_global(k, k->v[a].s, k->v[a].n, k->v[b].s, k->v[b].n);
}

/* REDUCE / NEWOBJ: callable and arguments from the stack, interpreted for
 * allowed globals (mcf__pk_call). */
static int mcf__pk_op_reduce(mcf__pk *k, unsigned op)
{
    uint32_t fn = 0, args = 0, result = 0;
    int rc = mcf__pk_pop(k, &args);
    if (rc == MCF_OK) rc = mcf__pk_pop(k, &fn);
    if (rc == MCF_OK) rc = mcf__pk_call(k, fn, args, op == MCF__OP_NEWOBJ, 0, &result);
    return rc != MCF_OK ? rc : mcf__pk_push(k, (long)result);
}

/* BUILD: attributes of a dict (OrderedDict._metadata) or tensor are
 * ignored, except Tensor.__setstate__'s legacy 4- or 5-tuple state, which
 * replaces the data: such a tensor cannot be loaded. */
static int mcf__pk_op_build(mcf__pk *k)
{
    uint32_t obj = 0, state = 0;
    mcf__pk_tensor *t;
    int rc = mcf__pk_pop(k, &state);
    if (rc == MCF_OK) rc = mcf__pk_top(k, &obj);
    if (rc != MCF_OK) return rc;
    if (k->v[obj].kind != MCF__PV_DICT && k->v[obj].kind != MCF__PV_TENSOR) return mcf__pk_err(k, "BUILD on an object that is not a dict or tensor");
    if (k->v[obj].kind != MCF__PV_TENSOR || k->v[state].kind != MCF__PV_TUPLE || (k->v[state].n != 4 && k->v[state].n != 5)) return MCF_OK;
    t = &k->t[k->v[obj].i];
    if (!t->why) {
        t->why = "gets its data from a legacy tensor state (BUILD)";
        t->why_v = 0;
    }
    return MCF_OK;
}

/* The opcodes that take operands or build values, by family; the refused
 * ones fail with the reason. */
static int mcf__pk_op(mcf__pk *k, unsigned op)
{
    switch (op) {
    case MCF__OP_PROTO: case MCF__OP_FRAME: return mcf__pk_op_header(k, op);
    case MCF__OP_BININT1: case MCF__OP_BININT2: case MCF__OP_BININT: return mcf__pk_op_binint(k, op);
    case MCF__OP_LONG1: case MCF__OP_LONG4: return mcf__pk_op_long(k, op);
    case MCF__OP_INT: case MCF__OP_LONG: return mcf__pk_op_text_int(k, op);
    case MCF__OP_FLOAT: case MCF__OP_BINFLOAT: return mcf__pk_op_float(k, op);
    case MCF__OP_BINUNICODE: case MCF__OP_SHORT_BINUNICODE: case MCF__OP_BINUNICODE8:
    case MCF__OP_BINSTRING: case MCF__OP_SHORT_BINSTRING:
    case MCF__OP_BINBYTES: case MCF__OP_SHORT_BINBYTES: case MCF__OP_BINBYTES8: case MCF__OP_BYTEARRAY8:
        return mcf__pk_op_counted(k, op);
    case MCF__OP_STRING: case MCF__OP_UNICODE: return mcf__pk_op_text_str(k, op);
    case MCF__OP_TUPLE1: case MCF__OP_TUPLE2: case MCF__OP_TUPLE3: return mcf__pk_op_tuple_n(k, op);
    case MCF__OP_TUPLE: case MCF__OP_LIST: case MCF__OP_FROZENSET: case MCF__OP_DICT:
        return mcf__pk_op_from_mark(k, op);
    case MCF__OP_APPEND: case MCF__OP_SETITEM: return mcf__pk_op_append(k, op);
    case MCF__OP_APPENDS: case MCF__OP_SETITEMS: case MCF__OP_ADDITEMS: return mcf__pk_op_appends(k, op);
    case MCF__OP_GET: case MCF__OP_BINGET: case MCF__OP_LONG_BINGET:
    case MCF__OP_PUT: case MCF__OP_BINPUT: case MCF__OP_LONG_BINPUT: case MCF__OP_MEMOIZE:
        return mcf__pk_op_memo(k, op);
    case MCF__OP_GLOBAL: case MCF__OP_STACK_GLOBAL: return mcf__pk_op_global(k, op);
    case MCF__OP_REDUCE: case MCF__OP_NEWOBJ: return mcf__pk_op_reduce(k, op);
    case MCF__OP_PERSID: return mcf__pk_err(k, "text persistent id (PERSID) is not a torch storage reference");
    case MCF__OP_INST: case MCF__OP_OBJ: case MCF__OP_NEWOBJ_EX:
        return mcf__pk_err(k, "object construction (INST/OBJ/NEWOBJ_EX) is not allowed: it would run class code");
    case MCF__OP_EXT1: case MCF__OP_EXT2: case MCF__OP_EXT4:
        return mcf__pk_err(k, "extension-registry opcodes (EXT1/2/4) are not allowed");
    case MCF__OP_NEXT_BUFFER: return mcf__pk_err(k, "out-of-band buffers (NEXT_BUFFER) are not supported");
    default:
        return mcf__pk_err(k, "unknown opcode");
    }
}

/* Runs data.pkl to STOP; *root receives the result's value index. */
static int mcf__pk_run(mcf__pk *k, uint32_t *root)
{
    uint32_t a = 0;
    size_t from = 0;
    int rc = MCF_OK;
    while (rc == MCF_OK) {
        unsigned op;
        if (k->p >= k->end) {
            k->op_at = (size_t)(k->end - k->start);
            return mcf__pk_err(k, "stream ends without STOP (truncated)");
        }
        k->op_at = (size_t)(k->p - k->start);
        op = *k->p++;
        switch (op) {
        case MCF__OP_STOP:
            if ((rc = mcf__pk_pop(k, root)) != MCF_OK) return rc;
            if (k->sp != 0 || k->nmarks != 0) return mcf__pk_err(k, "STOP with values left on the stack");
            return MCF_OK;
        case MCF__OP_POP_MARK:
            rc = mcf__pk_pop_mark(k, &from);
            if (rc == MCF_OK) k->sp = from;
            break;
        case MCF__OP_DUP:
            rc = mcf__pk_top(k, &a);
            if (rc == MCF_OK) rc = mcf__pk_push(k, (long)a);
            break;
        case MCF__OP_BINPERSID:
            rc = mcf__pk_pop(k, &a);
            if (rc == MCF_OK) rc = mcf__pk_persid(k, a);
            break;
        case MCF__OP_POP: rc = mcf__pk_pop(k, &a); break;
        case MCF__OP_READONLY_BUFFER: rc = mcf__pk_top(k, &a); break;
        case MCF__OP_MARK: rc = mcf__pk_op_mark(k); break;
        case MCF__OP_BUILD: rc = mcf__pk_op_build(k); break;
        case MCF__OP_NONE: rc = mcf__pk_push_new(k, MCF__PV_NONE, 0); break;
        case MCF__OP_NEWTRUE: rc = mcf__pk_push_new(k, MCF__PV_BOOL, 1); break;
        case MCF__OP_NEWFALSE: rc = mcf__pk_push_new(k, MCF__PV_BOOL, 0); break;
        case MCF__OP_EMPTY_TUPLE: rc = mcf__pk_collect(k, k->sp, MCF__PV_TUPLE, 0); break;
        case MCF__OP_EMPTY_LIST: rc = mcf__pk_collect(k, k->sp, MCF__PV_LIST, 0); break;
        case MCF__OP_EMPTY_DICT: rc = mcf__pk_collect(k, k->sp, MCF__PV_DICT, 0); break;
        case MCF__OP_EMPTY_SET: rc = mcf__pk_collect(k, k->sp, MCF__PV_SET, 0); break;
        default: rc = mcf__pk_op(k, op); break;   /* the opcode families */
        }
    }
    return rc;
}

/* ===== [18] torch .pt ==================================================== */
/* What torch.save (1.6+ zipfile serialization, as torch 1.13 writes it)
 * writes and torch.load(weights_only=True) reads. Writer: entries
 * "archive/data.pkl", "archive/data/<key>" in sorted string order,
 * "archive/version" = "3\n"; prefix always "archive" (what
 * torch.save(file object) writes), so output bytes do not depend on the file
 * name. One tensor named "" is saved bare, anything else as an OrderedDict.
 * Reader: prefix = the first central-directory entry's top folder; tensors
 * found by walking the unpickled object, names joined with '.'; the other
 * leaves become the reader's values (mcf_value). */
static const char *mcf__pt_storage_name(mcf_dtype d)
{
    switch (d) {
    case MCF_F64: return "DoubleStorage";
    case MCF_F32: return "FloatStorage";
    case MCF_F16: return "HalfStorage";
    case MCF_BF16: return "BFloat16Storage";
    case MCF_I64: return "LongStorage";
    case MCF_I32: return "IntStorage";
    case MCF_I16: return "ShortStorage";
    case MCF_I8: return "CharStorage";
    case MCF_U8: return "ByteStorage";
    case MCF_BOOL: return "BoolStorage";
    case MCF_C64: return "ComplexFloatStorage";
    case MCF_C128: return "ComplexDoubleStorage";
    default: return NULL;
    }
}

static const char *mcf__pt_unsupported_why(mcf_dtype d)
{
    switch (d) {
    case MCF_U16: case MCF_U32: case MCF_U64: return "unsigned 16/32/64-bit tensors need torch >= 2.3";
    case MCF_F8_E5M2: case MCF_F8_E4M3: return "float8 tensors need torch >= 2.1";
    case MCF_F8_E8M0: return "float8_e8m0fnu tensors need torch >= 2.7";
    default: return "torch has no dtype for sub-byte floats";
    }
}

/* Storage key order of the data/ entries: sorted() of "0", "1", ... as strings. */
static int mcf__pt_key_cmp(const void *a, const void *b)
{
    char x[24], y[24];
    snprintf(x, sizeof x, "%lu", (unsigned long)*(const size_t *)a);
    snprintf(y, sizeof y, "%lu", (unsigned long)*(const size_t *)b);
    return strcmp(x, y);
}

/* The pickle of one tensor as _rebuild_tensor_v2(storage, 0, size, stride, False, OrderedDict()). */
typedef struct mcf__pt_memo { uint32_t rebuild, odict, storage_str, cpu, storage_type[MCF_DTYPE_COUNT]; } mcf__pt_memo;

/* OrderedDict(): the global, called with no arguments. */
static void mcf__pt_odict(mcf__pkw *w, mcf__pt_memo *m)
{
    mcf__pkw_global(w, &m->odict, "collections", "OrderedDict");
    mcf__pkw_op(w, MCF__OP_EMPTY_TUPLE);
    mcf__pkw_op(w, MCF__OP_REDUCE);
    mcf__pkw_put(w);
}

static void mcf__pt_pickle_tensor(mcf__pkw *w, mcf__pt_memo *m, const mcf_tensor *t, size_t key)
{
    char ks[24];
    int64_t stride[MCF_MAX_DIMS], acc = 1;
    int i;
    for (i = t->ndim - 1; i >= 0; i--) { stride[i] = acc; acc *= t->shape[i] > 1 ? t->shape[i] : 1; }
    mcf__pkw_global(w, &m->rebuild, "torch._utils", "_rebuild_tensor_v2");
    mcf__pkw_op(w, MCF__OP_MARK);                /* the arguments */
    mcf__pkw_op(w, MCF__OP_MARK);                /* the persistent id */
    mcf__pkw_str(w, &m->storage_str, "storage");
    mcf__pkw_global(w, &m->storage_type[t->dtype], "torch", mcf__pt_storage_name(t->dtype));
    snprintf(ks, sizeof ks, "%lu", (unsigned long)key);
    mcf__pkw_str(w, NULL, ks);
    mcf__pkw_str(w, &m->cpu, "cpu");
    mcf__pkw_int(w, mcf_tensor_numel(t));
    mcf__pkw_op(w, MCF__OP_TUPLE);
    mcf__pkw_put(w);
    mcf__pkw_op(w, MCF__OP_BINPERSID);
    mcf__pkw_int(w, 0);                          /* storage offset */
    mcf__pkw_int_tuple(w, t->ndim, t->shape);
    mcf__pkw_int_tuple(w, t->ndim, stride);
    mcf__pkw_op(w, MCF__OP_NEWFALSE);            /* requires_grad */
    mcf__pt_odict(w, m);                        /* backward hooks */
    mcf__pkw_op(w, MCF__OP_TUPLE);
    mcf__pkw_put(w);
    mcf__pkw_op(w, MCF__OP_REDUCE);
    mcf__pkw_put(w);
}

/* data.pkl: one tensor named "" bare (torch.save(t)), else an OrderedDict
 * of name -> tensor, in SETITEMS batches as the Pickler writes them. */
static void mcf__pt_pickle(mcf__pkw *w, const mcf_tensor *t, size_t n)
{
    mcf__pt_memo m;
    size_t i, j, end;
    memset(&m, 0xff, sizeof m);   /* every memo slot UINT32_MAX: not written yet */
    mcf__pkw_op(w, MCF__OP_PROTO);
    mcf__pkw_op(w, MCF__PK_PROTO_TORCH);
    if (n == 1 && t[0].name[0] == '\0') {
        mcf__pt_pickle_tensor(w, &m, &t[0], 0);
        mcf__pkw_op(w, MCF__OP_STOP);
        return;
    }
    mcf__pt_odict(w, &m);
    for (i = 0; i < n; i += MCF__PK_BATCH) {   /* Pickler._batch_setitems */
        end = n - i < MCF__PK_BATCH ? n : i + MCF__PK_BATCH;
        if (end - i > 1) mcf__pkw_op(w, MCF__OP_MARK);
        for (j = i; j < end; j++) {
            mcf__pkw_str(w, NULL, t[j].name);
            mcf__pt_pickle_tensor(w, &m, &t[j], j);
        }
        mcf__pkw_op(w, end - i > 1 ? (unsigned)MCF__OP_SETITEMS : (unsigned)MCF__OP_SETITEM);
    }
    mcf__pkw_op(w, MCF__OP_STOP);
}

#define MCF__PT_VERSION "3\n"   /* archive/version: torch's serialization version */

/* The archive's entries (data.pkl, the storages in key order, version),
 * every offset placed before the first byte is written; *total = the
 * archive's size, *cd_off = where its central directory goes. */
static int mcf__pt_layout(mcf__zip_entry *e, size_t ne, const mcf_tensor *t, const size_t *order, uint64_t pkl_len,
                          uint64_t *cd_off, uint64_t *total)
{
    uint64_t pos = 0, cd_len = 0;
    size_t i;
    char nm[48];
    for (i = 0; i < ne; i++) {
        if (i == 0) snprintf(nm, sizeof nm, "archive/data.pkl");
        else if (i == ne - 1) snprintf(nm, sizeof nm, "archive/version");
        else snprintf(nm, sizeof nm, "archive/data/%lu", (unsigned long)order[i - 1]);
        if (!(e[i].name = mcf__strdup(nm))) return 0;
        e[i].size = i == 0 ? pkl_len : i == ne - 1 ? sizeof MCF__PT_VERSION - 1 : mcf_tensor_nbytes(&t[order[i - 1]]);
        mcf__zipw_place(&e[i], &pos);
        cd_len += mcf__zipw_central_len(&e[i]);
    }
    *cd_off = pos;
    *total = pos + cd_len + MCF__ZIP_TAIL_LEN;
    return 1;
}

static int mcf__pt_save(mcf__sink *s, const mcf_tensor *t, size_t n, const mcf_options *o)
{
    mcf__pkw w;
    mcf__zip_entry *e = NULL;
    size_t *order = NULL, i, ne = n + 2;
    uint64_t cd_off = 0, total = 0;
    mcf__buf dir;
    int rc = MCF_OK;
    (void)o;
    for (i = 0; i < n; i++)
        if (!mcf__pt_storage_name(t[i].dtype))
            return mcf__fail(MCF_SERIALIZE_UNSUPPORTED, "torch: %s: tensor \"%s\" has dtype %s, which this writer cannot store for torch 1.13 (%s); save it as safetensors or convert it",
                             s->name, t[i].name, mcf_dtype_name(t[i].dtype), mcf__pt_unsupported_why(t[i].dtype));
    memset(&w, 0, sizeof w);
    memset(&dir, 0, sizeof dir);
    mcf__pt_pickle(&w, t, n);
    e = (mcf__zip_entry *)mcf__calloc(ne, sizeof *e);
    order = (size_t *)mcf__calloc(n ? n : 1, sizeof *order);
    if (!w.b.failed && e && order) {
        for (i = 0; i < n; i++) order[i] = i;
        qsort(order, n, sizeof *order, mcf__pt_key_cmp);
    }
    if (w.b.failed || !e || !order || !mcf__pt_layout(e, ne, t, order, w.b.len, &cd_off, &total)) {
        rc = mcf__fail(MCF_INTERNAL_ERROR, "torch: %s: out of memory", s->name);
        goto done;
    }
    e[0].crc = mcf_crc32(0, w.b.data, w.b.len);
    e[ne - 1].crc = mcf_crc32(0, MCF__PT_VERSION, sizeof MCF__PT_VERSION - 1);
    rc = mcf__sink_begin(s, total);
    for (i = 0; i < ne && rc == MCF_OK; i++) {
        rc = mcf__zipw_local(s, &e[i]);
        if (rc != MCF_OK) break;
        if (i == 0) rc = mcf__sink_write(s, w.b.data, w.b.len);
        else if (i == ne - 1) rc = mcf__sink_write(s, MCF__PT_VERSION, sizeof MCF__PT_VERSION - 1);
        else rc = mcf__sink_tensor(s, &t[order[i - 1]], &e[i].crc);
        if (rc == MCF_OK) rc = mcf__zipw_descriptor(s, &e[i]);
    }
    if (rc == MCF_OK) {
        mcf__zipw_directory(&dir, e, ne, cd_off);
        if (dir.failed) rc = mcf__fail(MCF_INTERNAL_ERROR, "torch: %s: out of memory", s->name);
        else rc = mcf__sink_write(s, dir.data, dir.len);
    }
done:
    mcf__buf_free(&w.b);
    mcf__buf_free(&dir);
    mcf__zip_free_entries(e, ne);
    MCF_FREE(order);
    return rc;
}

/* Reader state kept for MCF_VERIFY (zip CRCs, checked once per entry). */
typedef struct mcf__pt_priv {
    mcf__zip_entry *zip;
    size_t nzip;
    unsigned char *checked;
} mcf__pt_priv;

static void mcf__pt_priv_free(void *p)
{
    mcf__pt_priv *q = (mcf__pt_priv *)p;
    if (!q) return;
    mcf__zip_free_entries(q->zip, q->nzip);
    MCF_FREE(q->checked);
    MCF_FREE(q);
}

static int mcf__pt_check_crc(mcf__source *src, const mcf__zip_entry *z)
{
    unsigned char *tmp;
    uint64_t done = 0;
    uint32_t crc = 0;
    int rc = MCF_OK;
    if (src->base) crc = mcf_crc32(0, src->base + z->data_off, (size_t)z->size);
    else {
        if (!(tmp = (unsigned char *)mcf__malloc(MCF_CHUNK_SIZE))) return mcf__fail(MCF_INTERNAL_ERROR, "torch: %s: out of memory", src->name);
        while (done < z->size && rc == MCF_OK) {
            size_t k = z->size - done < (uint64_t)MCF_CHUNK_SIZE ? (size_t)(z->size - done) : MCF_CHUNK_SIZE;
            if ((rc = mcf__source_read(src, z->data_off + done, tmp, k)) == MCF_OK) crc = mcf_crc32(crc, tmp, k);
            done += k;
        }
        MCF_FREE(tmp);
        if (rc != MCF_OK) return rc;
    }
    if (crc != z->crc)
        return mcf__fail(MCF_CHECKSUM_MISMATCH, "torch: %s: zip entry \"%s\" has CRC-32 %08lx, the central directory says %08lx",
                         src->name, z->name, (unsigned long)crc, (unsigned long)z->crc);
    return MCF_OK;
}

/* Entry i's zip entry, checked once; the entry's own file (a shard) holds it. */
static int mcf__pt_verify(mcf_reader *r, size_t i)
{
    mcf__rfile *f = &r->files[r->entries[i].file];
    mcf__pt_priv *q = (mcf__pt_priv *)f->priv;
    long z = r->entries[i].aux;
    int rc;
    if (z < 0 || q->checked[z]) return MCF_OK;
    if ((rc = mcf__pt_check_crc(&f->src, &q->zip[z])) != MCF_OK) return rc;
    q->checked[z] = 1;
    return MCF_OK;
}

static int mcf__pt_name_cmp(const void *a, const void *b)
{
    return strcmp((*(const mcf__zip_entry *const *)a)->name, (*(const mcf__zip_entry *const *)b)->name);
}

/* Index in zip[] of the entry called name, or -1 (sorted: pointers by name). */
static long mcf__pt_find(const mcf__zip_entry *zip, const mcf__zip_entry *const *sorted, size_t n, const char *name)
{
    size_t lo = 0, hi = n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        int c = strcmp(sorted[mid]->name, name);
        if (c == 0) return (long)(sorted[mid] - zip);
        if (c < 0) lo = mid + 1; else hi = mid;
    }
    return -1;
}

typedef struct mcf__pt_ctx {
    mcf_reader *r;
    mcf__pk *k;
    const mcf__zip_entry *zip;
    const mcf__zip_entry *const *sorted;
    size_t nzip, cap, vcap;
    const char *prefix;
    size_t prefix_len;
    uint64_t text_left;         /* bytes of names and value texts still allowed */
} mcf__pt_ctx;

/* Names and texts are copies per path: shared references in a small pickle
 * could ask for terabytes of them, so their bytes are capped at
 * MCF__PT_TEXT_BASE plus MCF__PT_TEXT_PER_BYTE per byte of data.pkl. The
 * walk visits at most MCF__PT_VISITS_PER_VALUE nodes per unpickled value
 * (plus MCF__PT_VISITS_MIN). */
#define MCF__PT_TEXT_BASE ((uint64_t)16 << 20)
#define MCF__PT_TEXT_PER_BYTE 16u
#define MCF__PT_VISITS_PER_VALUE 4u
#define MCF__PT_VISITS_MIN 1024u
#define MCF__PT_HEAD 24   /* bytes sniffed: PROTO, FRAME and a legacy magic number fit */
static int mcf__pt_charge(mcf__pt_ctx *c, size_t n)
{
    if (n > c->text_left)
        return mcf__fail(MCF_DESERIALIZE_FAIL, "torch: %s: shared references expand the object's names and values beyond the size limit (%u MiB + %u x data.pkl)",
                         c->r->name, (unsigned)(MCF__PT_TEXT_BASE >> 20), (unsigned)MCF__PT_TEXT_PER_BYTE);
    c->text_left -= n;
    return MCF_OK;
}

/* Adds tensor value tv as entry `name`, checking its view against its storage. */
/* The zip entry "<prefix>/data/<key>" of storage value st: *zi its index. */
static int mcf__pt_storage_entry(const mcf__pt_ctx *c, const mcf__pv *st, const char *name, size_t name_len, long *zi)
{
    const size_t dl = sizeof "/data/" - 1, zl = c->prefix_len + dl + st->n;
    char *zname = (char *)mcf__malloc(zl + 1);
    int rc = MCF_OK;
    if (!zname) return mcf__fail(MCF_INTERNAL_ERROR, "torch: %s: out of memory", c->r->name);
    memcpy(zname, c->prefix, c->prefix_len);
    memcpy(zname + c->prefix_len, "/data/", dl);
    memcpy(zname + c->prefix_len + dl, st->s, st->n);
    zname[zl] = '\0';
    *zi = strlen(zname) == zl ? mcf__pt_find(c->zip, c->sorted, c->nzip, zname) : -1;   /* a NUL in the key finds nothing */
    if (*zi < 0)
        rc = mcf__fail(MCF_DESERIALIZE_FAIL, "torch: %s: tensor \"%.*s\": storage entry \"%s\" is not in the archive", c->r->name, (int)name_len, name, zname);
    MCF_FREE(zname);
    return rc;
}

static int mcf__pt_emit(mcf__pt_ctx *c, uint32_t tv, const char *name, size_t name_len)
{
    mcf_reader *r = c->r;
    const mcf__pk_tensor *t = &c->k->t[c->k->v[tv].i];
    const mcf__pv *st;
    mcf_dtype d = t->dtype;
    size_t esize, sesize;
    long zi = -1;
    uint64_t sbytes, numel, span = 0, off;
    mcf__entry *e;
    int rc;
    if (t->why) {
        char g[128] = "";
        if (t->why_v && c->k->v[t->why_v].kind == MCF__PV_GLOBAL) mcf__pk_global_name(&c->k->v[t->why_v], g, sizeof g);
        return mcf__fail(MCF_NOT_SUPPORTED, "torch: %s: tensor \"%.*s\" %s%s%s%s: this library cannot load it", r->name, (int)name_len, name,
                         t->why, g[0] ? " (" : "", g, g[0] ? ")" : "");
    }
    if ((rc = mcf__pt_charge(c, name_len)) != MCF_OK) return rc;
    st = &c->k->v[t->storage];
    esize = mcf_dtype_size(d);
    sesize = st->sub == MCF__PK_UNTYPED ? 1 : mcf_dtype_size((mcf_dtype)st->sub);
    if ((rc = mcf__pt_storage_entry(c, st, name, name_len, &zi)) != MCF_OK) return rc;
    numel = mcf__numel(t->ndim, t->shape);
    if (!mcf__mul64((uint64_t)st->i, sesize, &sbytes) || sbytes > c->zip[zi].size)
        return mcf__fail(MCF_DESERIALIZE_FAIL, "torch: %s: tensor \"%.*s\": storage of %llu %s elements is larger than its entry \"%s\" (%llu bytes)",
                         r->name, (int)name_len, name, (unsigned long long)st->i, st->sub == MCF__PK_UNTYPED ? "byte" : mcf_dtype_name((mcf_dtype)st->sub),
                         c->zip[zi].name, (unsigned long long)c->zip[zi].size);
    if (numel == UINT64_MAX || (numel > 0 && (span = mcf__strided_span(t->ndim, t->shape, t->stride, esize)) == UINT64_MAX) ||
        !mcf__mul64((uint64_t)t->offset, esize, &off) || (numel > 0 && (off > sbytes || span > sbytes - off)))
        return mcf__fail(MCF_DESERIALIZE_FAIL, "torch: %s: tensor \"%.*s\": view (offset %lld, %d dims) reaches past its storage of %llu bytes",
                         r->name, (int)name_len, name, (long long)t->offset, t->ndim, (unsigned long long)sbytes);
    if (!mcf__grow((void **)&r->entries, &c->cap, r->count + 1, sizeof *r->entries)) return mcf__fail(MCF_INTERNAL_ERROR, "torch: %s: out of memory", r->name);
    e = &r->entries[r->count];
    memset(e, 0, sizeof *e);
    if (!(e->name = mcf__strndup(name, name_len))) return mcf__fail(MCF_INTERNAL_ERROR, "torch: %s: out of memory", r->name);
    r->count++;
    if (strlen(e->name) != name_len)
        return mcf__fail(MCF_NOT_SUPPORTED, "torch: %s: a tensor name contains a NUL byte", r->name);
    e->dtype = d;
    e->ndim = t->ndim;
    memcpy(e->shape, t->shape, sizeof e->shape);
    memcpy(e->strides, t->stride, sizeof e->strides);
    e->contiguous = mcf__strides_contiguous(t->ndim, t->shape, t->stride);
    e->offset = c->zip[zi].data_off + (numel > 0 ? off : 0);
    e->nbytes = numel * esize;
    e->span = numel > 0 ? span : 0;
    e->aux = zi;
    return MCF_OK;
}

/* Lists value vi (not a tensor) as `name`: its Python type and repr text.
 * A NUL in the name is written \x00 (names here are only shown). */
static int mcf__pt_value(mcf__pt_ctx *c, uint32_t vi, const char *name, size_t name_len)
{
    mcf_reader *r = c->r;
    mcf__buf text, nm;
    mcf__value *v;
    size_t i;
    int rc;
    memset(&text, 0, sizeof text);
    memset(&nm, 0, sizeof nm);
    mcf__pk_render(c->k, vi, 0, &text, MCF__PK_TEXT_MAX + 8);
    mcf__pk_clip(&text);
    mcf__buf_putc(&text, 0);
    for (i = 0; i < name_len; i++) {
        if (name[i]) mcf__buf_putc(&nm, (unsigned char)name[i]);
        else mcf__buf_puts(&nm, "\\x00");
    }
    mcf__buf_putc(&nm, 0);
    if (text.failed || nm.failed || !mcf__grow((void **)&r->values, &c->vcap, r->value_count + 1, sizeof *r->values)) {
        mcf__buf_free(&text);
        mcf__buf_free(&nm);
        return mcf__fail(MCF_INTERNAL_ERROR, "torch: %s: out of memory", r->name);
    }
    if ((rc = mcf__pt_charge(c, nm.len + text.len)) != MCF_OK) { mcf__buf_free(&text); mcf__buf_free(&nm); return rc; }
    v = &r->values[r->value_count++];
    v->name = (char *)nm.data;
    v->text = (char *)text.data;
    v->type = mcf__pk_type_name(c->k, vi);
    return MCF_OK;
}

static int mcf__pt_is_container(unsigned kind)
{
    return kind == MCF__PV_DICT || kind == MCF__PV_LIST || kind == MCF__PV_TUPLE || kind == MCF__PV_SET;
}

/* A non-empty dict is walked (entries named by key); a list, tuple or set
 * only when it holds a tensor or a container, else it is one value whose
 * text is its repr ("(0.9, 0.999)"). */
static int mcf__pt_walked(const mcf__pk *k, const mcf__pv *v)
{
    size_t i;
    if (v->kind == MCF__PV_DICT) return v->n > 0;
    if (!mcf__pt_is_container(v->kind)) return 0;
    for (i = 0; i < v->n; i++) {
        unsigned ck = k->v[v->items[i]].kind;
        if (ck == MCF__PV_TENSOR || mcf__pt_is_container(ck)) return 1;
    }
    return 0;
}

/* Walks the object depth-first without recursion: dict keys (as str() of
 * the key) and list/tuple/set positions are joined with '.'; tensors become
 * entries, every other leaf a value (mcf_value). */
static int mcf__pt_walk(mcf__pt_ctx *c, uint32_t root)
{
    struct { uint32_t v; size_t pos, base; } fr[MCF_MAX_TORCH_DEPTH];
    mcf__pk *k = c->k;
    mcf__buf path;
    int depth = 0, rc = MCF_OK;
    uint64_t visits = 0, budget = MCF__PT_VISITS_PER_VALUE * (uint64_t)k->nv + MCF__PT_VISITS_MIN;
    memset(&path, 0, sizeof path);
    if (k->v[root].kind == MCF__PV_TENSOR) return mcf__pt_emit(c, root, "", 0);
    if (!mcf__pt_walked(k, &k->v[root])) {
        if (mcf__pt_is_container(k->v[root].kind) && k->v[root].n == 0) return MCF_OK;   /* torch.save({}) */
        return mcf__pt_value(c, root, "", 0);
    }
    fr[0].v = root; fr[0].pos = 0; fr[0].base = 0;
    depth = 1;
    while (depth > 0 && rc == MCF_OK) {
        const mcf__pv *cv = &k->v[fr[depth - 1].v];
        int is_dict = cv->kind == MCF__PV_DICT;
        size_t step = is_dict ? 2 : 1, pos = fr[depth - 1].pos;
        uint32_t child;
        const mcf__pv *ch;
        if (pos + step > cv->n) { depth--; continue; }
        fr[depth - 1].pos += step;
        child = cv->items[pos + step - 1];
        ch = &k->v[child];
        if (++visits > budget) { rc = mcf__fail(MCF_DESERIALIZE_FAIL, "torch: %s: shared references expand the object beyond %llu nodes", k->name, (unsigned long long)budget); break; }
        path.len = fr[depth - 1].base;
        if (depth > 1) mcf__buf_putc(&path, '.');
        if (is_dict) {
            uint32_t key = cv->items[pos];
            if (k->v[key].kind == MCF__PV_STR) mcf__buf_put(&path, k->v[key].s, k->v[key].n);
            else if (k->v[key].kind == MCF__PV_TENSOR) { rc = mcf__fail(MCF_DESERIALIZE_FAIL, "torch: %s: a dict key is a tensor", k->name); break; }
            else mcf__pk_render(k, key, 0, &path, path.len + MCF__PK_TEXT_MAX);
        } else {
            mcf__buf_put_u64(&path, (uint64_t)pos);
        }
        if (path.failed) { rc = mcf__fail(MCF_INTERNAL_ERROR, "torch: %s: out of memory", k->name); break; }
        if (ch->kind == MCF__PV_TENSOR) { rc = mcf__pt_emit(c, child, (const char *)(path.data ? path.data : (const unsigned char *)""), path.len); continue; }
        if (!mcf__pt_walked(k, ch)) { rc = mcf__pt_value(c, child, (const char *)(path.data ? path.data : (const unsigned char *)""), path.len); continue; }
        if (depth == MCF_MAX_TORCH_DEPTH) { rc = mcf__fail(MCF_DESERIALIZE_FAIL, "torch: %s: containers nest deeper than %d levels", k->name, MCF_MAX_TORCH_DEPTH); break; }
        fr[depth].v = child; fr[depth].pos = 0; fr[depth].base = path.len;
        depth++;
    }
    mcf__buf_free(&path);
    return rc;
}

/* A torch archive written by torch.jit.save (TorchScript): it holds code/
 * and constants.pkl beside data.pkl, which pickles a scripted module. */
static int mcf__pt_is_torchscript(const mcf__zip_entry *zip, size_t nzip)
{
    size_t i;
    for (i = 0; i < nzip; i++) {
        const char *slash = strchr(zip[i].name, '/');
        if (slash && (strcmp(slash + 1, "constants.pkl") == 0 || strncmp(slash + 1, "code/", 5) == 0)) return 1;
    }
    return 0;
}

/* 1 if head starts a pickle of protocol 2..5 (PROTO n): a legacy torch file. */
MCF__SHARED int mcf__pt_is_pickle(const unsigned char *head, size_t hn)
{
    return hn >= 2 && head[0] == MCF__OP_PROTO && head[1] >= MCF__PK_PROTO_TORCH && head[1] <= MCF__PK_PROTO_MAX;
}

/* What a file that is no zip archive is: the legacy format (a pickle of
 * torch's magic number 0x1950a86a20f9469cfc6c first, protocol 2..5, a FRAME
 * before it from protocol 4 on), a zip cut short, or something else. */
static int mcf__pt_not_zip(mcf_reader *r, const unsigned char *head, size_t hn)
{
    /* LONG1 of 10 bytes: the magic number, little-endian */
    static const unsigned char magic[12] = {MCF__OP_LONG1, 10, 0x6c, 0xfc, 0x9c, 0x46, 0xf9, 0x20, 0x6a, 0xa8, 0x50, 0x19};
    unsigned char pk[4];
    char desc[64];
    mcf__put_le32(pk, MCF__ZIP_LOCAL_SIG);
    if (mcf__pt_is_pickle(head, hn)) {
        /* PROTO n, then from protocol 4 on FRAME and its 8-byte length */
        size_t at = hn >= 2 + 1 + 8 && head[1] >= 4 && head[2] == MCF__OP_FRAME ? 2 + 1 + 8 : 2;
        if (hn >= at + sizeof magic && memcmp(head + at, magic, sizeof magic) == 0)
            return mcf__fail(MCF_NOT_SUPPORTED, "torch: %s: legacy torch format (pre-1.6, not a zip archive): re-save it with torch >= 1.6 (torch.save's default zip format)", r->name);
        return mcf__fail(MCF_DESERIALIZE_FAIL, "torch: %s: not a torch zip archive: a pickle stream (protocol %u) without torch's legacy magic number, not a torch.save checkpoint",
                         r->name, (unsigned)head[1]);
    }
    if (hn < 4 && hn > 0 && memcmp(head, pk, hn) == 0)
        return mcf__fail(MCF_DESERIALIZE_FAIL, "torch: %s: truncated: %lu bytes, only the start of a zip signature", r->name, (unsigned long)hn);
    return mcf__fail(MCF_DESERIALIZE_FAIL, "torch: %s: not a torch zip archive (no PK signature; it begins with %s)", r->name, mcf__head_desc(head, hn < 8 ? hn : 8, desc));
}

/* Refuses archives that are no torch.save checkpoint: TorchScript,
 * compressed entries, no top folder. *plen = the top folder's length. */
static int mcf__pt_check_archive(mcf_reader *r, const mcf__zip_entry *zip, size_t nzip, size_t *plen)
{
    const char *slash;
    int rc;
    if (mcf__pt_is_torchscript(zip, nzip))
        return mcf__fail(MCF_NOT_SUPPORTED, "torch: %s: TorchScript archive (torch.jit.save), not a torch.save checkpoint: load it with torch.jit.load, "
                         "or save the module's state_dict() with torch.save", r->name);
    if ((rc = mcf__zipr_require_stored(&r->files[0].src, zip, nzip)) != MCF_OK) return rc;
    if (nzip == 0 || !(slash = strchr(zip[0].name, '/')) || slash == zip[0].name)
        return mcf__fail(MCF_DESERIALIZE_FAIL, "torch: %s: the first zip entry \"%s\" has no top folder (torch archives hold <prefix>/data.pkl)",
                         r->name, nzip ? zip[0].name : "");
    *plen = (size_t)(slash - zip[0].name);
    return MCF_OK;
}

/* The bytes of entry z (data.pkl): in place when the source is in memory,
 * else read into *copy; checked against its CRC under MCF_VERIFY. */
static int mcf__pt_pickle_bytes(mcf_reader *r, const mcf__zip_entry *z, const unsigned char **pkl, unsigned char **copy)
{
    mcf__source *src = &r->files[0].src;
    int rc;
    if (!mcf__fits_size(z->size)) return mcf__fail(MCF_NOT_SUPPORTED, "torch: %s: data.pkl too large for this host", r->name);
    if (src->base) {
        *pkl = src->base + z->data_off;
    } else {
        if (!(*copy = (unsigned char *)mcf__malloc((size_t)z->size))) return mcf__fail(MCF_INTERNAL_ERROR, "torch: %s: out of memory for data.pkl", r->name);
        if ((rc = mcf__source_read(src, z->data_off, *copy, (size_t)z->size)) != MCF_OK) return rc;
        *pkl = *copy;
    }
    if ((r->flags & MCF_VERIFY) && mcf_crc32(0, *pkl, (size_t)z->size) != z->crc)
        return mcf__fail(MCF_CHECKSUM_MISMATCH, "torch: %s: zip entry \"%s\" fails its CRC-32 check", r->name, z->name);
    return MCF_OK;
}

/* Unpickles pkl[0..n) and lists its tensors and values in r. */
static int mcf__pt_unpickle(mcf__pt_ctx *c, const unsigned char *pkl, size_t n)
{
    mcf__pk k;
    uint32_t root;
    int rc;
    if (mcf__pk_init(&k, pkl, n, c->r->name) != MCF_OK) rc = mcf__pk_oom(&k);
    else rc = mcf__pk_run(&k, &root);
    c->k = &k;
    c->text_left = MCF__PT_TEXT_BASE + MCF__PT_TEXT_PER_BYTE * (uint64_t)n;
    if (rc == MCF_OK) rc = mcf__pt_walk(c, root);
    mcf__pk_free(&k);
    c->k = NULL;
    return rc;
}

/* Opens the reader's one file (a sharded reader opens each shard this way). */
static int mcf__pt_open(mcf_reader *r)
{
    mcf__rfile *f = &r->files[0];
    unsigned char head[MCF__PT_HEAD];
    size_t hn = f->src.size < sizeof head ? (size_t)f->src.size : sizeof head, nzip = 0, i, plen = 0;
    mcf__zip_entry *zip = NULL;
    const mcf__zip_entry **sorted = NULL;
    unsigned char *pkl_copy = NULL;
    const unsigned char *pkl = NULL;
    char *pname = NULL;
    mcf__pt_priv *priv = NULL;
    mcf__pt_ctx c;
    long pi;
    int rc;
    if ((rc = mcf__source_read(&f->src, 0, head, hn)) != MCF_OK) return rc;
    if (hn < 4 || memcmp(head, "PK", 2) != 0) return mcf__pt_not_zip(r, head, hn);   /* every zip signature starts "PK" */
    if ((rc = mcf__zipr_read(&f->src, &zip, &nzip)) != MCF_OK) return rc;
    if ((rc = mcf__pt_check_archive(r, zip, nzip, &plen)) != MCF_OK) goto done;
    sorted = (const mcf__zip_entry **)mcf__calloc(nzip, sizeof *sorted);
    priv = (mcf__pt_priv *)mcf__calloc(1, sizeof *priv);
    pname = (char *)mcf__malloc(plen + sizeof "/data.pkl");
    if (!sorted || !priv || !pname || !(priv->checked = (unsigned char *)mcf__calloc(nzip, 1))) {
        rc = mcf__fail(MCF_INTERNAL_ERROR, "torch: %s: out of memory", r->name);
        goto done;
    }
    for (i = 0; i < nzip; i++) sorted[i] = &zip[i];
    qsort(sorted, nzip, sizeof *sorted, mcf__pt_name_cmp);
    memcpy(pname, zip[0].name, plen);
    memcpy(pname + plen, "/data.pkl", sizeof "/data.pkl");
    if ((pi = mcf__pt_find(zip, sorted, nzip, pname)) < 0) {
        rc = mcf__fail(MCF_DESERIALIZE_FAIL, "torch: %s: archive has no \"%s\" entry", r->name, pname);
        goto done;
    }
    if ((rc = mcf__pt_pickle_bytes(r, &zip[pi], &pkl, &pkl_copy)) != MCF_OK) goto done;
    memset(&c, 0, sizeof c);
    c.r = r;
    c.zip = zip;
    c.sorted = sorted;
    c.nzip = nzip;
    c.prefix = zip[0].name;
    c.prefix_len = plen;
    if ((rc = mcf__pt_unpickle(&c, pkl, (size_t)zip[pi].size)) != MCF_OK) goto done;
    priv->zip = zip;
    priv->nzip = nzip;
    zip = NULL;
    f->priv = priv;
    f->priv_free = mcf__pt_priv_free;
    r->verify = mcf__pt_verify;
    priv = NULL;
done:
    MCF_FREE(pkl_copy);
    MCF_FREE(pname);
    MCF_FREE(sorted);
    mcf__pt_priv_free(priv);
    mcf__zip_free_entries(zip, nzip);
    return rc;
}

/* ===== [19] readers: open, entries, reads, views, slices, values ========= */
/* Opening picks the format by content (mcf__sniff) and runs the format
 * section [15] or [18] against a source; then every reader operation is
 * format-independent: entries by index or name (an open-addressing index),
 * whole reads and views, slices with dtype conversion, metadata, values. */
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

/* Format by content; the suffix only breaks ties. safetensors is tried
 * first and its test admits no torch file: a header length <= 100 MB leaves
 * bytes 4..7 zero and puts '{' (after optional JSON whitespace) at byte 8.
 * torch's zip local header has flags 0x0808 or 0x0800 in bytes 6..7, and any
 * zip holds its compression method in bytes 8..9, where no method reads as
 * '{' or as whitespace and then '{' or more whitespace. A legacy torch
 * pickle holds its magic number (LONG1) in bytes 2..13, so bytes 4..7 are
 * not zero, or from protocol 4 a FRAME whose 8-byte length leaves byte 8
 * zero. So a safetensors length that happens to read "PK\3\4" or 0x80
 * 0x02..0x05 (640, 896, ... bytes) stays safetensors. */
static int mcf__sniff(mcf_reader *r, int forced, const char *path)
{
    mcf__source *src = &r->files[0].src;
    unsigned char head[24];
    char desc[64];
    size_t n = src->size < sizeof head ? (size_t)src->size : sizeof head, i;
    uint64_t hlen;
    int rc;
    if (forced != MCF__FMT_AUTO) return forced;
    if ((rc = mcf__source_read(src, 0, head, n)) != MCF_OK) return rc;
    if (n >= 9 && (hlen = mcf__le64(head)) <= MCF_MAX_HEADER) {
        size_t end = hlen < n - 8 ? 8 + (size_t)hlen : n;
        for (i = 8; i < end && (head[i] == ' ' || head[i] == '\t' || head[i] == '\n' || head[i] == '\r'); i++) { }
        /* '{' first, or whitespace as far as head shows of a longer header */
        if (i < end ? head[i] == '{' : hlen > n - 8) return MCF__FMT_SAFETENSORS;
    }
    if (n >= 4 && head[0] == 'P' && head[1] == 'K' && (head[2] == 3 || head[2] == 5) && (head[3] == 4 || head[3] == 6)) return MCF__FMT_TORCH;
    if (n >= 2 && n < 4 && n == src->size && head[0] == 'P' && head[1] == 'K' && (n == 2 || head[2] == 3)) return MCF__FMT_TORCH;   /* a zip cut short */
    if (mcf__pt_is_pickle(head, n)) return MCF__FMT_TORCH;   /* legacy pickle stream */
    if (path && mcf__ends_with_nocase(path, ".safetensors")) return MCF__FMT_SAFETENSORS;
    if (path && (mcf__ends_with_nocase(path, ".pt") || mcf__ends_with_nocase(path, ".pth") || mcf__ends_with_nocase(path, ".bin"))) return MCF__FMT_TORCH;
    return mcf__fail(MCF_DESERIALIZE_FAIL, "%s: not a safetensors or PyTorch file (%llu bytes, it begins with %s)",
                     r->name, (unsigned long long)src->size, mcf__head_desc(head, n < 8 ? n : 8, desc));
}

static void mcf__reader_free(mcf_reader *r)
{
    size_t i;
    if (!r) return;
    for (i = 0; i < r->nfiles; i++) {
        mcf__rfile *f = &r->files[i];
        if (f->priv_free) f->priv_free(f->priv);
        mcf__source_close(&f->src);
        MCF_FREE(f->url);
    }
    if (r->views) for (i = 0; i < r->count; i++) MCF_FREE(r->views[i]);
    if (r->entries) for (i = 0; i < r->count; i++) MCF_FREE(r->entries[i].name);
    if (r->meta) for (i = 0; i < 2 * r->meta_count; i++) MCF_FREE(r->meta[i]);
    if (r->values) for (i = 0; i < r->value_count; i++) { MCF_FREE(r->values[i].name); MCF_FREE(r->values[i].text); }
    MCF_FREE(r->meta);
    MCF_FREE(r->values);
    MCF_FREE(r->views);
    MCF_FREE(r->verified);
    MCF_FREE(r->index);
    MCF_FREE(r->entries);
    MCF_FREE(r->files);
    MCF_FREE(r->name);
    MCF_FREE(r);
}

/* An empty reader called name (copied) with one file, whose source the
 * caller opens; NULL when out of memory. */
/* A reader called name with one file, keeping the flags and threads of o. */
static mcf_reader *mcf__reader_new(const char *name, const mcf_options *o)
{
    mcf_reader *r = (mcf_reader *)mcf__calloc(1, sizeof *r);
    if (!r) return NULL;
    r->flags = o ? o->flags : 0;
    r->threads = o ? o->threads : 0;
    r->files = (mcf__rfile *)mcf__calloc(1, sizeof *r->files);
    r->name = mcf__strdup(name);
    if (!r->files || !r->name) { MCF_FREE(r->files); MCF_FREE(r->name); MCF_FREE(r); return NULL; }
    r->nfiles = 1;
    r->files[0].src.name = r->name;
    return r;
}

/* The reader's one file: its format (options.format, else sniffed), then
 * the format section lists its entries. */
static int mcf__open_parse(mcf_reader *r, const mcf_options *o, const char *path)
{
    int fmt, rc;
    if ((rc = mcf__parse_format(o ? o->format : NULL, &fmt)) != MCF_OK) return rc;
    if (r->files[0].src.size == 0) return mcf__fail(MCF_DESERIALIZE_FAIL, "%s: empty file (0 bytes): nothing to load", r->name);
    fmt = mcf__sniff(r, fmt, path);
    if (fmt < 0) return fmt;
    r->format = fmt == MCF__FMT_SAFETENSORS ? "safetensors" : "torch";
    return fmt == MCF__FMT_SAFETENSORS ? mcf__st_open(r) : mcf__pt_open(r);
}

/* Once every entry is listed: the per-entry view and verify state, and the
 * name index (a duplicate name fails). */
static int mcf__open_finish(mcf_reader *r)
{
    size_t i, dup = 0;
    const char **names;
    int rc;
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

/* Opens one file, u resolved to fs (what mcf_open does for anything but an
 * index). finish = 0 leaves mcf__open_finish to the caller: a sharded open
 * merges its shards first. *out is NULL on failure. */
static int mcf__open_url(const mcf_url *u, const mcf_filesystem *fs, const mcf_options *o, int finish, mcf_reader **out)
{
    mcf_reader *r;
    mcf__source *src;
    int rc;
    *out = NULL;
    if (!(r = mcf__reader_new(u->url, o))) return mcf__fail(MCF_INTERNAL_ERROR, "mcf_open: %s: out of memory", u->url);
    src = &r->files[0].src;
    src->fs = *fs;
    rc = fs->open_read(fs->user, u, o, &src->file, &src->size);
    if (rc != MCF_OK) src->file = NULL;
    else {
        if (fs->map) src->base = (const unsigned char *)fs->map(src->file);
        rc = mcf__open_parse(r, o, u->path);
        if (rc == MCF_OK && finish) rc = mcf__open_finish(r);
    }
    if (rc != MCF_OK) { mcf__reader_free(r); return rc; }
    *out = r;
    return MCF_OK;
}

/* mcf__open_url of url, resolved here. */
static int mcf__open_file(const char *url, const mcf_options *o, int finish, mcf_reader **out)
{
    mcf_url u;
    mcf_filesystem fs;
    int rc;
    *out = NULL;
    if ((rc = mcf__resolve(url, o, &u, &fs)) != MCF_OK) return rc;
    rc = mcf__open_url(&u, &fs, o, finish, out);
    mcf_url_free(&u);
    return rc;
}

MCFDEF int mcf_open_memory(const void *buf, size_t len, const mcf_options *o, mcf_reader **out)
{
    mcf_reader *r;
    int rc;
    if (!out) return mcf__fail(MCF_INVALID_PARAMS, "mcf_open_memory: NULL output");
    *out = NULL;
    if (!buf && len) return mcf__fail(MCF_INVALID_PARAMS, "mcf_open_memory: NULL buffer");
    if (!(r = mcf__reader_new("<memory>", o))) return mcf__fail(MCF_INTERNAL_ERROR, "mcf_open_memory: out of memory");
    r->files[0].src.base = (const unsigned char *)(buf ? buf : "");
    r->files[0].src.size = len;
    rc = mcf__open_parse(r, o, NULL);
    if (rc == MCF_OK) rc = mcf__open_finish(r);
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

MCFDEF const char *mcf_entry_source(const mcf_reader *r, size_t i)
{
    if (mcf__check_index(r, i, "mcf_entry_source") != MCF_OK) return NULL;
    return r->files[r->entries[i].file].src.name;   /* the shard's URL, else the reader's name */
}

/* Index of the entry called name, or -1; never touches the last error
 * (probing is not failing). */
static int mcf__index_find(const mcf_reader *r, const char *name)
{
    size_t h, i;
    if (!r->index_cap) return -1;
    h = mcf__hash(name) & (r->index_cap - 1);
    while (r->index[h]) {
        i = r->index[h] - 1;
        if (strcmp(r->entries[i].name, name) == 0) return (int)i;
        h = (h + 1) & (r->index_cap - 1);
    }
    return -1;
}

MCFDEF int mcf_find(const mcf_reader *r, const char *name)
{
    int i;
    if (!r || !name) return mcf__fail(MCF_INVALID_PARAMS, "mcf_find: NULL argument");
    if ((i = mcf__index_find(r, name)) >= 0) return i;
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

/* Reads of at least MCF__PAR_MIN bytes use the reader's threads; parts are
 * at least MCF__PAR_PIECE bytes (see "parallel reads" below). */
#define MCF__PAR_MIN ((uint64_t)2 << 20)
#define MCF__PAR_PIECE ((uint64_t)256 << 10)

/* The source holding entry e's bytes: every read of an entry's data goes
 * through it. */
static mcf__source *mcf__entry_src(mcf_reader *r, const mcf__entry *e)
{
    return &r->files[e->file].src;
}

/* 1 when several threads may read s at once. */
static int mcf__src_parallel(const mcf__source *s)
{
    return s->base != NULL || (s->fs.read_at && (s->fs.flags & MCF_FS_THREADSAFE_READ));
}

/* Entry i as contiguous host-order bytes into dst, on this thread. */
static int mcf__read_entry(mcf_reader *r, size_t i, void *dst)
{
    const mcf__entry *e = &r->entries[i];
    mcf__source *src = mcf__entry_src(r, e);
    unsigned char *tmp = NULL;
    int rc = MCF_OK;
    if (e->nbytes == 0) return MCF_OK;
    if (e->contiguous) {
        rc = mcf__source_read(src, e->offset, dst, (size_t)e->nbytes);
    } else {
        const unsigned char *base;
        if (src->base) base = src->base + e->offset;
        else {
            if (!mcf__fits_size(e->span))
                return mcf__fail(MCF_NOT_SUPPORTED, "%s: tensor \"%s\" spans %llu bytes of the file, more than this host can address",
                                 r->name, e->name, (unsigned long long)e->span);
            if (!(tmp = (unsigned char *)mcf__malloc((size_t)e->span)))
                return mcf__fail(MCF_INTERNAL_ERROR, "%s: out of memory reading tensor \"%s\"", r->name, e->name);
            if ((rc = mcf__source_read(src, e->offset, tmp, (size_t)e->span)) != MCF_OK) { MCF_FREE(tmp); return rc; }
            base = tmp;
        }
        mcf__gather(base, mcf_dtype_size(e->dtype), e->ndim, e->shape, e->strides, 0,
                    mcf__numel(e->ndim, e->shape), (unsigned char *)dst);
        MCF_FREE(tmp);
    }
    if (rc == MCF_OK && MCF__BIG_ENDIAN) mcf__swap_units(dst, (size_t)e->nbytes, mcf__dtypes[e->dtype].swap);
    return rc;
}

static int mcf__read_split(mcf_reader *r, size_t i, void *dst);

MCFDEF int mcf_read(mcf_reader *r, size_t i, void *dst, size_t dst_len)
{
    const mcf__entry *e;
    int rc;
    if ((rc = mcf__check_index(r, i, "mcf_read")) != MCF_OK) return rc;
    e = &r->entries[i];
    if (!dst && dst_len) return mcf__fail(MCF_INVALID_PARAMS, "mcf_read: NULL buffer");
    if (dst_len < e->nbytes)
        return mcf__fail(MCF_BUFFER_OVERFLOW, "%s: tensor \"%s\" needs %llu bytes, buffer has %llu", r->name, e->name,
                         (unsigned long long)e->nbytes, (unsigned long long)dst_len);
    if ((rc = mcf__verify_once(r, i)) != MCF_OK) return rc;
    if (r->threads > 1 && e->nbytes >= MCF__PAR_MIN && mcf__dtypes[e->dtype].bits % 8 == 0) return mcf__read_split(r, i, dst);
    return mcf__read_entry(r, i, dst);
}

MCFDEF int mcf_view(mcf_reader *r, size_t i, const void **data)
{
    const mcf__entry *e;
    const unsigned char *base;
    int rc;
    if ((rc = mcf__check_index(r, i, "mcf_view")) != MCF_OK) return rc;
    if (!data) return mcf__fail(MCF_INVALID_PARAMS, "mcf_view: NULL output");
    e = &r->entries[i];
    base = mcf__entry_src(r, e)->base;
    if ((rc = mcf__verify_once(r, i)) != MCF_OK) return rc;
    /* zero-copy only when the caller may dereference the pointer as the
     * element type: no swap needed and the address aligned to the element
     * unit (safetensors offsets need not be; ARM traps on some loads) */
    if (e->contiguous && base && (!MCF__BIG_ENDIAN || mcf__dtypes[e->dtype].swap < 2) &&
        (uintptr_t)(base + e->offset) % mcf__dtypes[e->dtype].swap == 0) {
        *data = base + e->offset;
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

/* ---- slices and dtype conversion on read ------------------------------- */
/* A slice read is a strided copy from the source to the packed destination,
 * planned per dimension as (count, source stride in bytes, destination
 * stride in elements). Dimensions of size 1 are dropped, the rest ordered by
 * source stride (largest first, so runs come in file order even for
 * transposed torch views) and neighbours contiguous on both sides merged;
 * the innermost dimension is a run. A mapped source is copied (or
 * converted) run by run. Any other source is read in batches: consecutive
 * runs whose gaps are under 64 KiB share one read of at most MCF_CHUNK_SIZE
 * bytes, and a batch that is one contiguous run of plain bytes is read
 * straight into dst. Conversion happens per run, while the bytes are hot. */
#define MCF__SLICE_GAP ((uint64_t)64 << 10)

typedef struct mcf__plan {
    int nd;                         /* dimensions after dropping and merging */
    uint64_t cnt[MCF_MAX_DIMS];
    uint64_t sstr[MCF_MAX_DIMS];    /* source stride, bytes */
    uint64_t dstr[MCF_MAX_DIMS];    /* destination stride, elements */
    uint64_t base;                  /* source byte offset of the first element */
    uint64_t numel;
    int64_t shape[MCF_MAX_DIMS];    /* result shape (the entry's rank) */
} mcf__plan;

/* Swaps planned dimensions a and b. */
static void mcf__plan_swap(mcf__plan *p, int a, int b)
{
    uint64_t t;
    t = p->cnt[a];
    p->cnt[a] = p->cnt[b];
    p->cnt[b] = t;
    t = p->sstr[a];
    p->sstr[a] = p->sstr[b];
    p->sstr[b] = t;
    t = p->dstr[a];
    p->dstr[a] = p->dstr[b];
    p->dstr[b] = t;
}

/* Orders the planned dimensions by source stride, largest first (stable:
 * equal strides keep row-major order), then merges a dimension into the
 * next when both sides are contiguous. */
static void mcf__plan_order(mcf__plan *p)
{
    int d, k;
    for (d = 1; d < p->nd; d++)
        for (k = d; k > 0 && p->sstr[k - 1] < p->sstr[k]; k--) mcf__plan_swap(p, k, k - 1);
    for (d = p->nd - 2; d >= 0; d--) {
        if (p->sstr[d] != p->cnt[d + 1] * p->sstr[d + 1] || p->dstr[d] != p->cnt[d + 1] * p->dstr[d + 1]) continue;
        p->cnt[d + 1] *= p->cnt[d];
        for (k = d; k + 1 < p->nd; k++) {
            p->cnt[k] = p->cnt[k + 1];
            p->sstr[k] = p->sstr[k + 1];
            p->dstr[k] = p->dstr[k + 1];
        }
        p->nd--;
    }
}

/* Resolves s[0..ns) against entry e (numpy rules) and plans the copy. */
static int mcf__slice_plan(const mcf_reader *r, const mcf__entry *e, const mcf_slice *s, int ns, mcf__plan *p)
{
    uint64_t stride[MCF_MAX_DIMS], dst_stride[MCF_MAX_DIMS], acc = 1, esize = mcf_dtype_size(e->dtype);
    int64_t start[MCF_MAX_DIMS], step[MCF_MAX_DIMS];
    int d;
    memset(p, 0, sizeof *p);
    if (ns < 0 || ns > e->ndim)
        return mcf__fail(MCF_INVALID_PARAMS, "%s: tensor \"%s\" has %d dimension%s, the slice gives %d", r->name, e->name,
                         e->ndim, e->ndim == 1 ? "" : "s", ns);
    if (ns > 0 && !s) return mcf__fail(MCF_INVALID_PARAMS, "%s: tensor \"%s\": NULL slice array for %d dimensions", r->name, e->name, ns);
    if (ns > 0 && mcf__dtypes[e->dtype].bits % 8)
        return mcf__fail(MCF_NOT_SUPPORTED, "%s: tensor \"%s\": %s elements are not whole bytes, so only the whole tensor can be read (ns = 0)",
                         r->name, e->name, mcf__dtypes[e->dtype].name);
    for (d = e->ndim - 1; d >= 0; d--) {    /* element strides; row-major when contiguous */
        stride[d] = e->contiguous ? acc : (uint64_t)e->strides[d];
        acc *= (uint64_t)(e->shape[d] ? e->shape[d] : 1);   /* <= numel, checked at open */
    }
    for (d = 0; d < e->ndim; d++) {
        int64_t n = e->shape[d], a = 0, b = n, st = 1;
        if (d < ns) {
            st = s[d].step;
            if (st < 1)
                return mcf__fail(MCF_INVALID_PARAMS, "%s: tensor \"%s\": slice step %lld in dimension %d must be >= 1 (negative and zero steps are not supported)",
                                 r->name, e->name, (long long)st, d);
            a = s[d].start;
            b = s[d].stop;
            if (a < 0) { a += n; if (a < 0) a = 0; } else if (a > n) a = n;
            if (b < 0) { b += n; if (b < 0) b = 0; } else if (b > n) b = n;
        }
        start[d] = a;
        step[d] = st;
        p->shape[d] = b > a ? (b - a - 1) / st + 1 : 0;
    }
    p->numel = mcf__numel(e->ndim, p->shape);
    if (p->numel == 0) return MCF_OK;
    acc = 1;
    for (d = e->ndim - 1; d >= 0; d--) {
        dst_stride[d] = acc;
        acc *= (uint64_t)p->shape[d];
    }
    /* every product below addresses an element of the entry: within its span */
    p->base = e->offset;
    for (d = 0; d < e->ndim; d++) {
        p->base += (uint64_t)start[d] * stride[d] * esize;
        if (p->shape[d] == 1) continue;
        p->cnt[p->nd] = (uint64_t)p->shape[d];
        p->sstr[p->nd] = (uint64_t)step[d] * stride[d] * esize;
        p->dstr[p->nd] = dst_stride[d];
        p->nd++;
    }
    mcf__plan_order(p);
    return MCF_OK;
}

/* Walks the runs of a plan in order: an odometer over the outer dimensions.
 * split: each element is its own run (its neighbours are >= 64 KiB away). */
typedef struct mcf__runs {
    const mcf__plan *p;
    int od;                         /* odometer dimensions: the plan's [0, od) */
    uint64_t idx[MCF_MAX_DIMS];
    uint64_t len, rs, rd;           /* run: elements, source stride (bytes), destination stride (elements) */
    uint64_t src, dst;              /* this run: source byte offset, destination element index */
    int more;
} mcf__runs;

static void mcf__runs_locate(mcf__runs *it)
{
    int d;
    it->src = it->p->base;
    it->dst = 0;
    for (d = 0; d < it->od; d++) { it->src += it->idx[d] * it->p->sstr[d]; it->dst += it->idx[d] * it->p->dstr[d]; }
}

static void mcf__runs_init(mcf__runs *it, const mcf__plan *p, uint64_t esize, int split)
{
    memset(it, 0, sizeof *it);
    it->p = p;
    it->more = p->numel > 0;
    it->len = 1; it->rs = esize; it->rd = 1;
    if (p->nd > 0 && !split) {
        it->od = p->nd - 1;
        it->len = p->cnt[p->nd - 1]; it->rs = p->sstr[p->nd - 1]; it->rd = p->dstr[p->nd - 1];
    } else it->od = p->nd;
    mcf__runs_locate(it);
}

static void mcf__runs_next(mcf__runs *it)
{
    int d;
    for (d = it->od - 1; d >= 0; d--) {
        if (++it->idx[d] < it->p->cnt[d]) { mcf__runs_locate(it); return; }
        it->idx[d] = 0;
    }
    it->more = 0;
}

typedef struct mcf__slice_job {
    mcf_dtype from, to;
    size_t es, os;                  /* element sizes: source, destination */
    int conv;                       /* from != to */
    int variant;                    /* conversion path, picked once */
    unsigned char *dst;
} mcf__slice_job;

/* n elements of one run: source bytes at src (rs apart, little-endian) to
 * destination element index di (rd apart). */
static void mcf__slice_run(const mcf__slice_job *j, const unsigned char *src, uint64_t n, uint64_t rs, uint64_t di, uint64_t rd)
{
    unsigned char *dst = j->dst + (size_t)di * j->os;
    uint64_t k;
    if ((rs == j->es && rd == 1) || n == 1) {
        if (j->conv) mcf__convert_run(j->variant, j->from, j->to, src, dst, (size_t)n, 1);
        else memcpy(dst, src, (size_t)n * j->es);
        return;
    }
    for (k = 0; k < n; k++, src += rs, dst += (size_t)rd * j->os) {
        if (j->conv) mcf__convert_portable(j->from, j->to, src, dst, 1, 1);
        else memcpy(dst, src, j->es);
    }
}

/* Batched reads for sources that are not in memory (see the block comment). */
static int mcf__slice_read_batches(mcf_reader *r, mcf__source *src, const mcf__plan *p, const mcf__slice_job *j)
{
    uint64_t es = j->es, cap = MCF_CHUNK_SIZE, k = 0, span = es;
    int split = p->nd > 0 && p->sstr[p->nd - 1] > es && p->sstr[p->nd - 1] - es >= MCF__SLICE_GAP;
    unsigned char *buf = NULL;
    mcf__runs it, save;
    int d, rc = MCF_OK, oom = 0;
    for (d = 0; d < p->nd; d++) span += (p->cnt[d] - 1) * p->sstr[d];
    if (span < cap) cap = span;             /* the buffer never exceeds what the slice spans */
    mcf__runs_init(&it, p, es, split);
    while (it.more && rc == MCF_OK) {
        uint64_t rem = it.len - k, lo = it.src + k * it.rs, ext = (rem - 1) * it.rs + es, hi, nruns = 1, m;
        int plain = !j->conv && (rem == 1 || (it.rs == es && it.rd == 1));
        if (ext > cap) {
            if (plain) {                    /* one long contiguous run: straight into dst */
                rc = mcf__source_read(src, lo, j->dst + (size_t)(it.dst + k * it.rd) * j->os, (size_t)(rem * es));
                k = 0;
                mcf__runs_next(&it);
                continue;
            }
            m = (cap - es) / it.rs + 1;     /* a piece of the run that fits (rs > 0 here) */
            if (!buf && !(buf = (unsigned char *)mcf__malloc((size_t)cap))) { oom = 1; break; }
            if ((rc = mcf__source_read(src, lo, buf, (size_t)((m - 1) * it.rs + es))) != MCF_OK) break;
            mcf__slice_run(j, buf, m, it.rs, it.dst + k * it.rd, it.rd);
            k += m;
            continue;
        }
        hi = lo + ext;
        save = it;
        mcf__runs_next(&it);
        while (it.more) {                   /* coalesce the runs that follow closely */
            uint64_t s0 = it.src, e0 = s0 + (it.len - 1) * it.rs + es, nh = e0 > hi ? e0 : hi;
            if (s0 < lo || (s0 > hi && s0 - hi >= MCF__SLICE_GAP) || nh - lo > cap) break;
            hi = nh;
            nruns++;
            mcf__runs_next(&it);
        }
        if (nruns == 1 && plain) {
            rc = mcf__source_read(src, lo, j->dst + (size_t)(save.dst + k * save.rd) * j->os, (size_t)(rem * es));
            k = 0;
            continue;
        }
        if (!buf && !(buf = (unsigned char *)mcf__malloc((size_t)cap))) { oom = 1; break; }
        if ((rc = mcf__source_read(src, lo, buf, (size_t)(hi - lo))) != MCF_OK) break;
        mcf__slice_run(j, buf, rem, save.rs, save.dst + k * save.rd, save.rd);
        for (m = 1; m < nruns; m++) {
            mcf__runs_next(&save);
            mcf__slice_run(j, buf + (save.src - lo), save.len, save.rs, save.dst, save.rd);
        }
        k = 0;
    }
    if (oom) return mcf__fail(MCF_INTERNAL_ERROR, "%s: out of memory for a %llu-byte read buffer", r->name, (unsigned long long)cap);
    MCF_FREE(buf);
    return rc;
}

/* ---- parallel reads ------------------------------------------------------ */
/* With threads > 1 a read is a list of jobs (one per entry: its plan and
 * copy job) cut into parts, each a range of steps of the job's outermost
 * planned dimension, about min(MCF_CHUNK_SIZE, bytes / threads) of
 * destination each; mcf__parallel runs the parts. A part copies from the
 * mapping or reads in batches exactly as a serial read of that range does,
 * into its own part of the destination, so parts never share bytes. Parts
 * run on several threads only when every source is in memory or its backend
 * sets MCF_FS_THREADSAFE_READ, and the whole read is at least MCF__PAR_MIN
 * bytes; else the same parts run in order on the calling thread. MCF_VERIFY
 * checks (which update per-entry state) run first, on the calling thread. */
typedef struct mcf__pjob {
    size_t i;                       /* entry */
    size_t pos;                     /* position in the caller's list */
    mcf__plan p;
    mcf__slice_job j;
    int whole;                      /* one part through mcf__read_entry (sub-byte dtypes) */
} mcf__pjob;

typedef struct mcf__part {
    size_t job;
    uint64_t a, b;                  /* steps [a, b) of the outermost planned dimension */
} mcf__part;

typedef struct mcf__pread {
    mcf_reader *r;
    const mcf__pjob *jobs;
    const mcf__part *parts;
} mcf__pread;

static int mcf__part_run(void *ctx, size_t k)
{
    const mcf__pread *c = (const mcf__pread *)ctx;
    const mcf__part *pt = &c->parts[k];
    const mcf__pjob *jb = &c->jobs[pt->job];
    mcf__source *src = mcf__entry_src(c->r, &c->r->entries[jb->i]);
    mcf__plan sub = jb->p;
    mcf__slice_job j = jb->j;
    mcf__runs it;
    if (jb->whole) return mcf__read_entry(c->r, jb->i, j.dst);
    if (sub.nd > 0) {
        sub.numel = sub.numel / sub.cnt[0] * (pt->b - pt->a);
        sub.base += pt->a * sub.sstr[0];
        j.dst += (size_t)(pt->a * sub.dstr[0]) * j.os;
        sub.cnt[0] = pt->b - pt->a;
    }
    if (!src->base) return mcf__slice_read_batches(c->r, src, &sub, &j);
    if (!j.conv && sub.nd <= 1 && (sub.nd == 0 || (sub.sstr[0] == j.es && sub.dstr[0] == 1)))
        mcf__prefault(j.dst, (size_t)(sub.numel * j.es));   /* one contiguous run */
    mcf__runs_init(&it, &sub, j.es, 0);
    for (; it.more; mcf__runs_next(&it)) mcf__slice_run(&j, src->base + it.src, it.len, it.rs, it.dst, it.rd);
    return MCF_OK;
}

/* Destination bytes of job jb. */
static uint64_t mcf__pjob_bytes(const mcf_reader *r, const mcf__pjob *jb)
{
    return jb->whole ? r->entries[jb->i].nbytes : jb->p.numel * jb->j.os;
}

/* Wraps the last error of mcf_read_many's entry pos (reader index i) in a
 * sentence naming it; returns rc. */
static int mcf__many_fail(const mcf_reader *r, int rc, size_t pos, size_t i)
{
    char msg[MCF_ERROR_MAX];
    memcpy(msg, mcf__error_text, sizeof msg);
    return mcf__fail(rc, "mcf_read_many: entry %lu (tensor %lu, \"%s\"): %s", (unsigned long)pos, (unsigned long)i, r->entries[i].name, msg);
}

/* Cuts jobs[0..nj) into parts and runs them on up to threads threads. many:
 * a failure names the failing job's position in the caller's list, else the
 * part of the one tensor. */
static int mcf__read_jobs(mcf_reader *r, const mcf__pjob *jobs, size_t nj, unsigned threads, int many)
{
    uint64_t total = 0, piece = UINT64_MAX;
    size_t k, np = 0, q, failed = 0;
    int par = threads > 1, rc;
    mcf__part *parts;
    mcf__pread c;
    for (k = 0; k < nj; k++) {
        total += mcf__pjob_bytes(r, &jobs[k]);   /* each fits size_t: it is a caller buffer */
        if (!mcf__src_parallel(mcf__entry_src(r, &r->entries[jobs[k].i]))) par = 0;
    }
    if (par && total >= MCF__PAR_MIN) {
        piece = (total + threads - 1) / threads;
        if (piece > MCF_CHUNK_SIZE) piece = MCF_CHUNK_SIZE;
        if (piece < MCF__PAR_PIECE) piece = MCF__PAR_PIECE;
    } else threads = 1;
    for (q = 0; q < 2; q++) {           /* count the parts, then fill them in */
        parts = NULL;
        if (q == 1 && !(parts = (mcf__part *)mcf__calloc(np ? np : 1, sizeof *parts)))
            return mcf__fail(MCF_INTERNAL_ERROR, "%s: out of memory for %lu read parts", r->name, (unsigned long)np);
        np = 0;
        for (k = 0; k < nj; k++) {
            const mcf__pjob *jb = &jobs[k];
            uint64_t steps = jb->whole || jb->p.nd == 0 ? 1 : jb->p.cnt[0], unit, per, a;
            if (mcf__pjob_bytes(r, jb) == 0) continue;
            unit = mcf__pjob_bytes(r, jb) / steps;
            per = unit >= piece ? 1 : piece / unit;
            for (a = 0; a < steps; a += per, np++) {
                if (!parts) continue;
                parts[np].job = k;
                parts[np].a = a;
                parts[np].b = steps - a < per ? steps : a + per;
            }
        }
        if (q == 1) break;
    }
    c.r = r;
    c.jobs = jobs;
    c.parts = parts;
    rc = mcf__parallel(threads, np, mcf__part_run, &c, &failed);
    if (rc != MCF_OK) {
        const mcf__pjob *jb = &jobs[parts[failed].job];
        char msg[MCF_ERROR_MAX];
        if (many) (void)mcf__many_fail(r, rc, jb->pos, jb->i);
        else {
            memcpy(msg, mcf__error_text, sizeof msg);
            (void)mcf__fail(rc, "%s: tensor \"%s\": part %lu of %lu: %s", r->name, r->entries[jb->i].name, (unsigned long)failed + 1,
                            (unsigned long)np, msg);
        }
    }
    MCF_FREE(parts);
    return rc;
}

/* Big-endian hosts: the plain jobs' elements to host order (whole jobs and
 * conversions come out in host order). */
static void mcf__pjobs_swap(const mcf__pjob *jobs, size_t nj)
{
    size_t k;
    if (!MCF__BIG_ENDIAN) return;
    for (k = 0; k < nj; k++)
        if (!jobs[k].whole && !jobs[k].j.conv)
            mcf__swap_units(jobs[k].j.dst, (size_t)(jobs[k].p.numel * jobs[k].j.os), mcf__dtypes[jobs[k].j.to].swap);
}

/* One planned (sliced, converting) read on the reader's threads. */
static int mcf__read_jobs_one(mcf_reader *r, size_t i, const mcf__plan *p, const mcf__slice_job *j)
{
    mcf__pjob jb;
    memset(&jb, 0, sizeof jb);
    jb.i = i;
    jb.p = *p;
    jb.j = *j;
    return mcf__read_jobs(r, &jb, 1, r->threads, 0);
}

/* A whole job for entry i into dst (the plan of ns = 0). */
static void mcf__pjob_whole(const mcf_reader *r, size_t i, void *dst, mcf__pjob *jb)
{
    const mcf__entry *e = &r->entries[i];
    memset(jb, 0, sizeof *jb);
    jb->i = i;
    jb->j.from = jb->j.to = e->dtype;
    jb->j.es = jb->j.os = mcf_dtype_size(e->dtype);
    jb->j.variant = MCF_CONVERT_PORTABLE;
    jb->j.dst = (unsigned char *)dst;
    jb->whole = mcf__dtypes[e->dtype].bits % 8 != 0;
    if (!jb->whole) (void)mcf__slice_plan(r, e, NULL, 0, &jb->p);   /* cannot fail with ns = 0 */
}

static int mcf__read_split(mcf_reader *r, size_t i, void *dst)
{
    mcf__pjob jb;
    int rc;
    mcf__pjob_whole(r, i, dst, &jb);
    if ((rc = mcf__read_jobs(r, &jb, 1, r->threads, 0)) == MCF_OK) mcf__pjobs_swap(&jb, 1);
    return rc;
}

/* MCF_VERIFY for a batch: one check per distinct stored object (torch
 * entries that view one storage share it), run on the reader's threads when
 * every source involved takes concurrent reads. A task owns its object, so
 * no two threads touch the same check state; the entries are marked
 * verified only after all checks passed. A failure names the first failing
 * entry in the caller's order. */
typedef struct mcf__vtask { size_t file; long aux; size_t pos; } mcf__vtask;
typedef struct mcf__vmany { mcf_reader *r; const size_t *idx; const mcf__vtask *t; } mcf__vmany;

static int mcf__vtask_by_object(const void *a, const void *b)
{
    const mcf__vtask *x = (const mcf__vtask *)a, *y = (const mcf__vtask *)b;
    if (x->file != y->file) return x->file < y->file ? -1 : 1;
    if (x->aux != y->aux) return x->aux < y->aux ? -1 : 1;
    return x->pos < y->pos ? -1 : x->pos > y->pos;
}

static int mcf__vtask_by_pos(const void *a, const void *b)
{
    const mcf__vtask *x = (const mcf__vtask *)a, *y = (const mcf__vtask *)b;
    return x->pos < y->pos ? -1 : x->pos > y->pos;
}

static int mcf__vtask_run(void *ctx, size_t k)
{
    const mcf__vmany *c = (const mcf__vmany *)ctx;
    return c->r->verify(c->r, c->idx[c->t[k].pos]);
}

static int mcf__verify_many(mcf_reader *r, const size_t *idx, size_t n, unsigned threads)
{
    mcf__vtask *t;
    mcf__vmany c;
    size_t k, nt = 0, kept = 0, failed = 0;
    int rc;
    if (!(r->flags & MCF_VERIFY) || !r->verify) return MCF_OK;
    if (!(t = (mcf__vtask *)mcf__calloc(n, sizeof *t)))
        return mcf__fail(MCF_INTERNAL_ERROR, "mcf_read_many: %s: out of memory for %lu checks", r->name, (unsigned long)n);
    for (k = 0; k < n; k++) {
        const mcf__entry *e = &r->entries[idx[k]];
        if (r->verified[idx[k]]) continue;
        t[nt].file = e->file;
        t[nt].aux = e->aux;
        t[nt++].pos = k;
        if (!mcf__src_parallel(mcf__entry_src(r, e))) threads = 1;
    }
    qsort(t, nt, sizeof *t, mcf__vtask_by_object);
    for (k = 0; k < nt; k++)            /* the first entry of each object */
        if (k == 0 || t[k].file != t[kept - 1].file || t[k].aux != t[kept - 1].aux) t[kept++] = t[k];
    qsort(t, kept, sizeof *t, mcf__vtask_by_pos);
    c.r = r;
    c.idx = idx;
    c.t = t;
    rc = mcf__parallel(threads, kept, mcf__vtask_run, &c, &failed);
    if (rc != MCF_OK) (void)mcf__many_fail(r, rc, t[failed].pos, idx[t[failed].pos]);
    else
        for (k = 0; k < n; k++) r->verified[idx[k]] = 1;
    MCF_FREE(t);
    return rc;
}

MCFDEF int mcf_read_many(mcf_reader *r, const size_t *idx, void *const *dst, const size_t *dst_len, size_t n, const mcf_options *o)
{
    mcf__pjob *jobs;
    size_t k;
    unsigned threads;
    int rc;
    if (!r) return mcf__fail(MCF_INVALID_PARAMS, "mcf_read_many: NULL reader");
    threads = o ? o->threads : r->threads;
    if (n == 0) return MCF_OK;
    if (!idx || !dst || !dst_len) return mcf__fail(MCF_INVALID_PARAMS, "mcf_read_many: %s: NULL %s array", r->name, !idx ? "index" : !dst ? "buffer" : "length");
    for (k = 0; k < n; k++) {
        const mcf__entry *e;
        if (idx[k] >= r->count)
            return mcf__fail(MCF_INVALID_PARAMS, "mcf_read_many: %s: entry %lu: tensor %lu out of range (%lu entries)", r->name, (unsigned long)k,
                             (unsigned long)idx[k], (unsigned long)r->count);
        e = &r->entries[idx[k]];
        if (!dst[k] && e->nbytes)
            return mcf__fail(MCF_INVALID_PARAMS, "mcf_read_many: %s: entry %lu (tensor \"%s\"): NULL buffer", r->name, (unsigned long)k, e->name);
        if (dst_len[k] < e->nbytes)
            return mcf__fail(MCF_BUFFER_OVERFLOW, "mcf_read_many: %s: entry %lu: tensor \"%s\" needs %llu bytes, buffer has %llu", r->name,
                             (unsigned long)k, e->name, (unsigned long long)e->nbytes, (unsigned long long)dst_len[k]);
    }
    if (!(jobs = (mcf__pjob *)mcf__calloc(n, sizeof *jobs)))
        return mcf__fail(MCF_INTERNAL_ERROR, "mcf_read_many: %s: out of memory for %lu entries", r->name, (unsigned long)n);
    for (k = 0; k < n; k++) {
        mcf__pjob_whole(r, idx[k], dst[k], &jobs[k]);
        jobs[k].pos = k;
    }
    rc = mcf__verify_many(r, idx, n, threads);
    if (rc == MCF_OK && (rc = mcf__read_jobs(r, jobs, n, threads, 1)) == MCF_OK) mcf__pjobs_swap(jobs, n);
    MCF_FREE(jobs);
    return rc;
}
/* ---- end of parallel reads ------------------------------------------------ */

MCFDEF mcf_slice mcf_slice_range(int64_t start, int64_t stop)
{
    mcf_slice s;
    s.start = start;
    s.stop = stop;
    s.step = 1;
    return s;
}

MCFDEF int mcf_slice_shape(const mcf_reader *r, size_t i, const mcf_slice *s, int ns, int64_t *shape)
{
    mcf__plan p;
    int rc;
    if ((rc = mcf__check_index(r, i, "mcf_slice_shape")) != MCF_OK) return rc;
    if (!shape) return mcf__fail(MCF_INVALID_PARAMS, "mcf_slice_shape: NULL output");
    if ((rc = mcf__slice_plan(r, &r->entries[i], s, ns, &p)) != MCF_OK) return rc;
    if (r->entries[i].ndim > 0) memcpy(shape, p.shape, (size_t)r->entries[i].ndim * sizeof *shape);
    return MCF_OK;
}

static int mcf__read_sliced(mcf_reader *r, size_t i, mcf_dtype to, const mcf_slice *s, int ns, void *dst, size_t dst_len, const char *who)
{
    const mcf__entry *e;
    mcf__plan p;
    mcf__slice_job j;
    mcf__source *src;
    uint64_t need;
    int rc;
    if ((rc = mcf__check_index(r, i, who)) != MCF_OK) return rc;
    e = &r->entries[i];
    if (!mcf__dtype_valid(to)) return mcf__fail(MCF_INVALID_PARAMS, "%s: %s: tensor \"%s\": invalid target dtype %d", who, r->name, e->name, (int)to);
    if (!mcf_convert_supported(e->dtype, to))
        return mcf__fail(MCF_NOT_SUPPORTED, "%s: tensor \"%s\": no conversion from %s to %s (targets: F64, F32, F16, BF16; sources: the float, integer and BOOL types)",
                         r->name, e->name, mcf__dtypes[e->dtype].name, mcf__dtypes[to].name);
    if (!dst && dst_len) return mcf__fail(MCF_INVALID_PARAMS, "%s: NULL buffer", who);
    if (mcf__dtypes[e->dtype].bits % 8 && ns == 0) return mcf_read(r, i, dst, dst_len);   /* whole sub-byte tensor */
    if ((rc = mcf__slice_plan(r, e, s, ns, &p)) != MCF_OK) return rc;
    memset(&j, 0, sizeof j);
    j.from = e->dtype;
    j.to = to;
    j.es = mcf_dtype_size(e->dtype);
    j.os = mcf_dtype_size(to);
    j.conv = to != e->dtype;
    j.variant = j.conv ? mcf__convert_pick(e->dtype, to) : MCF_CONVERT_PORTABLE;
    j.dst = (unsigned char *)dst;
    if (!mcf__mul64(p.numel, j.os, &need) || need > dst_len)
        return mcf__fail(MCF_BUFFER_OVERFLOW, "%s: tensor \"%s\": the slice needs %llu bytes (%llu %s elements), buffer has %llu", r->name, e->name,
                         (unsigned long long)p.numel * j.os, (unsigned long long)p.numel, mcf__dtypes[to].name, (unsigned long long)dst_len);
    if ((rc = mcf__verify_once(r, i)) != MCF_OK) return rc;
    if (p.numel == 0) return MCF_OK;
    if (r->threads > 1 && need >= MCF__PAR_MIN) {
        if ((rc = mcf__read_jobs_one(r, i, &p, &j)) != MCF_OK) return rc;
    } else if ((src = mcf__entry_src(r, e))->base) {
        mcf__runs it;
        mcf__runs_init(&it, &p, j.es, 0);
        for (; it.more; mcf__runs_next(&it)) mcf__slice_run(&j, src->base + it.src, it.len, it.rs, it.dst, it.rd);
    } else if ((rc = mcf__slice_read_batches(r, src, &p, &j)) != MCF_OK) return rc;
    if (MCF__BIG_ENDIAN && !j.conv) mcf__swap_units(dst, (size_t)need, mcf__dtypes[to].swap);
    return MCF_OK;
}

MCFDEF int mcf_read_slice(mcf_reader *r, size_t i, const mcf_slice *s, int ns, void *dst, size_t dst_len)
{
    int rc;
    if ((rc = mcf__check_index(r, i, "mcf_read_slice")) != MCF_OK) return rc;
    return mcf__read_sliced(r, i, r->entries[i].dtype, s, ns, dst, dst_len, "mcf_read_slice");
}

MCFDEF int mcf_read_as(mcf_reader *r, size_t i, mcf_dtype to, const mcf_slice *s, int ns, void *dst, size_t dst_len)
{
    return mcf__read_sliced(r, i, to, s, ns, dst, dst_len, "mcf_read_as");
}
/* ---- end of slices and dtype conversion on read ------------------------- */

MCFDEF size_t mcf_value_count(const mcf_reader *r) { return r ? r->value_count : 0; }

MCFDEF int mcf_value(const mcf_reader *r, size_t i, const char **name, const char **type, const char **text)
{
    if (!r) return mcf__fail(MCF_INVALID_PARAMS, "mcf_value: NULL reader");
    if (i >= r->value_count)
        return mcf__fail(MCF_INVALID_PARAMS, "mcf_value: %s: value %lu out of range (%lu values)", r->name, (unsigned long)i, (unsigned long)r->value_count);
    if (name) *name = r->values[i].name;
    if (type) *type = r->values[i].type;
    if (text) *text = r->values[i].text;
    return MCF_OK;
}

/* ===== [20] sharded checkpoints: index, open, save ======================= */
/* A sharded checkpoint is shard files next to NAME.EXT.index.json:
 * {"metadata": {...}, "weight_map": {"tensor": "shard file", ...}}. mcf_open
 * of an index reads it and every shard's header ([19] opens each shard as a
 * file) and merges them into one reader whose entries are ordered by shard
 * name, then by offset, each naming its shard. A sharded save splits the
 * tensors as huggingface_hub does, writes each shard atomically and the
 * index last, with the bytes transformers writes. */

/* A parsed index: tensor i lives in shards[shard[i]]. */
typedef struct mcf__wmap {
    char **tensor;                  /* weight_map keys, in file order */
    char **file;                    /* per tensor: its shard name */
    size_t *shard;                  /* per tensor: index into shards */
    size_t n, cap, fcap, scap;
    const char **shards;            /* distinct shard names, sorted by bytes */
    size_t nshards;
    char **meta;                    /* metadata key0, value0, ... */
    size_t meta_count, meta_cap;
    size_t *names;                  /* open-addressing table of tensor names */
    size_t names_cap;
} mcf__wmap;

static void mcf__wmap_free(mcf__wmap *w)
{
    size_t i;
    for (i = 0; i < w->n; i++) { MCF_FREE(w->tensor[i]); MCF_FREE(w->file[i]); }
    for (i = 0; i < 2 * w->meta_count; i++) MCF_FREE(w->meta[i]);
    MCF_FREE(w->tensor);
    MCF_FREE(w->file);
    MCF_FREE(w->shard);
    MCF_FREE(w->shards);
    MCF_FREE(w->meta);
    MCF_FREE(w->names);
    memset(w, 0, sizeof *w);
}

static int mcf__wmap_oom(const char *who) { return mcf__fail(MCF_INTERNAL_ERROR, "%s: out of memory reading the index", who); }

/* The current token's text as a new string: a string decoded, a number or
 * literal as written, an object or array (just opened) as its JSON text. */
static int mcf__wmap_value(mcf__json *j, const char *who, const char *key, char **out)
{
    const unsigned char *start = j->tok;
    int nul = 0, rc;
    *out = NULL;
    if (j->type == MCF__J_STR) {
        if (!(*out = mcf__json_strdup(j, &nul))) return mcf__wmap_oom(who);
        if (nul) {
            MCF_FREE(*out);
            *out = NULL;
            return mcf__fail(MCF_DESERIALIZE_FAIL, "%s: metadata \"%s\" holds a NUL character", who, key);
        }
        return MCF_OK;
    }
    if (j->type == MCF__J_OBJ || j->type == MCF__J_ARR) {
        start = j->p - 1;
        if ((rc = mcf__json_skip(j)) != MCF_OK) return rc;
        if (!(*out = mcf__strndup((const char *)start, (size_t)(j->p - start)))) return mcf__wmap_oom(who);
        return MCF_OK;
    }
    if (!(*out = mcf__strndup((const char *)start, j->tok_len))) return mcf__wmap_oom(who);
    return MCF_OK;
}

/* "metadata": {key: value, ...}; the opening brace is the next token. */
static int mcf__wmap_meta(mcf__wmap *w, mcf__json *j, const char *who)
{
    char *key, *val;
    size_t i;
    int nul = 0, rc;
    if ((rc = mcf__json_next(j)) != MCF_OK) return rc;
    if (j->type != MCF__J_OBJ) return mcf__fail(MCF_DESERIALIZE_FAIL, "%s: \"metadata\" is not a JSON object", who);
    for (;;) {
        if ((rc = mcf__json_next(j)) != MCF_OK) return rc;
        if (j->type == MCF__J_OBJ_END) return MCF_OK;
        if (!(key = mcf__json_strdup(j, &nul))) return mcf__wmap_oom(who);
        if (nul) { MCF_FREE(key); return mcf__fail(MCF_DESERIALIZE_FAIL, "%s: a metadata key holds a NUL character", who); }
        for (i = 0; i < w->meta_count; i++)
            if (strcmp(w->meta[2 * i], key) == 0) {
                rc = mcf__fail(MCF_DESERIALIZE_FAIL, "%s: metadata key \"%s\" appears twice", who, key);
                MCF_FREE(key);
                return rc;
            }
        if ((rc = mcf__json_next(j)) != MCF_OK || (rc = mcf__wmap_value(j, who, key, &val)) != MCF_OK) { MCF_FREE(key); return rc; }
        if (!mcf__grow((void **)&w->meta, &w->meta_cap, w->meta_count + 1, 2 * sizeof *w->meta)) {
            MCF_FREE(key);
            MCF_FREE(val);
            return mcf__wmap_oom(who);
        }
        w->meta[2 * w->meta_count] = key;
        w->meta[2 * w->meta_count + 1] = val;
        w->meta_count++;
    }
}

/* "weight_map": {tensor: shard, ...}; the opening brace is the next token. */
static int mcf__wmap_map(mcf__wmap *w, mcf__json *j, const char *who)
{
    char *name, *file;
    int nul = 0, rc;
    if ((rc = mcf__json_next(j)) != MCF_OK) return rc;
    if (j->type != MCF__J_OBJ) return mcf__fail(MCF_DESERIALIZE_FAIL, "%s: \"weight_map\" is not a JSON object", who);
    for (;;) {
        if ((rc = mcf__json_next(j)) != MCF_OK) return rc;
        if (j->type == MCF__J_OBJ_END) return MCF_OK;
        if (!(name = mcf__json_strdup(j, &nul))) return mcf__wmap_oom(who);
        if (nul) { MCF_FREE(name); return mcf__fail(MCF_NOT_SUPPORTED, "%s: a tensor name holds a NUL character (C strings cannot name it)", who); }
        if ((rc = mcf__json_next(j)) != MCF_OK) { MCF_FREE(name); return rc; }
        if (j->type != MCF__J_STR) {
            rc = mcf__fail(MCF_DESERIALIZE_FAIL, "%s: tensor \"%s\": its shard is not a JSON string", who, name);
            MCF_FREE(name);
            return rc;
        }
        if (!(file = mcf__json_strdup(j, &nul))) { MCF_FREE(name); return mcf__wmap_oom(who); }
        if (nul) {
            rc = mcf__fail(MCF_DESERIALIZE_FAIL, "%s: tensor \"%s\": its shard name holds a NUL character", who, name);
            MCF_FREE(name);
            MCF_FREE(file);
            return rc;
        }
        if (!mcf__grow((void **)&w->tensor, &w->cap, w->n + 1, sizeof *w->tensor) ||
            !mcf__grow((void **)&w->file, &w->fcap, w->n + 1, sizeof *w->file)) {
            MCF_FREE(name);
            MCF_FREE(file);
            return mcf__wmap_oom(who);
        }
        w->tensor[w->n] = name;
        w->file[w->n] = file;
        w->n++;
    }
}

/* A shard name must stay inside the index's directory: relative, no "..",
 * no backslash, no scheme or drive (no ':'), not empty. */
static int mcf__shard_name_check(const char *who, const char *tensor, const char *f)
{
    const char *why = NULL;
    if (!*f) why = "is empty";
    else if (f[0] == '/') why = "is an absolute path";
    else if (strstr(f, "..")) why = "contains \"..\"";
    else if (strchr(f, '\\')) why = "contains a backslash";
    else if (strchr(f, ':')) why = "has a scheme or drive (':')";
    if (!why) return MCF_OK;
    return mcf__fail(MCF_DESERIALIZE_FAIL, "%s: tensor \"%s\": shard name \"%s\" %s: an index may name only files in its own directory",
                     who, tensor, f, why);
}

/* Index of the tensor called name in w, or -1. */
static long mcf__wmap_find(const mcf__wmap *w, const char *name)
{
    size_t h = mcf__hash(name) & (w->names_cap - 1);
    while (w->names[h]) {
        if (strcmp(w->tensor[w->names[h] - 1], name) == 0) return (long)(w->names[h] - 1);
        h = (h + 1) & (w->names_cap - 1);
    }
    return -1;
}

/* Parses index text: the object, its weight_map (required) and metadata
 * (optional; other keys are skipped), every shard name checked, the
 * distinct shards sorted, the name table built. */
static int mcf__wmap_parse(mcf__wmap *w, const unsigned char *text, size_t len, const char *who)
{
    mcf__json j;
    size_t i, k, dup = 0;
    int rc, seen_map = 0, seen_meta = 0;
    if ((rc = mcf__json_validate(text, len, who)) != MCF_OK) return rc;
    mcf__json_init(&j, text, len, who);
    if ((rc = mcf__json_next(&j)) != MCF_OK) return rc;
    if (j.type != MCF__J_OBJ) return mcf__fail(MCF_DESERIALIZE_FAIL, "%s: the index is not a JSON object", who);
    for (;;) {
        if ((rc = mcf__json_next(&j)) != MCF_OK) return rc;
        if (j.type == MCF__J_OBJ_END) break;
        if (mcf__json_tok_is(&j, "weight_map")) {
            if (seen_map++) return mcf__fail(MCF_DESERIALIZE_FAIL, "%s: \"weight_map\" appears twice", who);
            rc = mcf__wmap_map(w, &j, who);
        } else if (mcf__json_tok_is(&j, "metadata")) {
            if (seen_meta++) return mcf__fail(MCF_DESERIALIZE_FAIL, "%s: \"metadata\" appears twice", who);
            rc = mcf__wmap_meta(w, &j, who);
        } else if ((rc = mcf__json_next(&j)) == MCF_OK) rc = mcf__json_skip(&j);
        if (rc != MCF_OK) return rc;
    }
    if (!seen_map) return mcf__fail(MCF_DESERIALIZE_FAIL, "%s: the index has no \"weight_map\"", who);
    for (i = 0; i < w->n; i++)
        if ((rc = mcf__shard_name_check(who, w->tensor[i], w->file[i])) != MCF_OK) return rc;
    rc = mcf__index_build(&w->names, &w->names_cap, (const char *const *)w->tensor, w->n, &dup);
    if (rc == MCF_INVALID_PARAMS) return mcf__fail(MCF_DESERIALIZE_FAIL, "%s: tensor \"%s\" is listed twice in the weight_map", who, w->tensor[dup]);
    if (rc != MCF_OK) return mcf__wmap_oom(who);
    w->shards = (const char **)mcf__calloc(w->n ? w->n : 1, sizeof *w->shards);
    w->shard = (size_t *)mcf__calloc(w->n ? w->n : 1, sizeof *w->shard);
    if (!w->shards || !w->shard) return mcf__wmap_oom(who);
    for (i = 0; i < w->n; i++) w->shards[i] = w->file[i];
    if (w->n) qsort(w->shards, w->n, sizeof *w->shards, mcf__st_strcmp);
    for (i = 0, k = 0; i < w->n; i++)
        if (k == 0 || strcmp(w->shards[k - 1], w->shards[i]) != 0) w->shards[k++] = w->shards[i];
    w->nshards = k;
    for (i = 0; i < w->n; i++) {
        const char **hit = (const char **)bsearch(&w->file[i], w->shards, w->nshards, sizeof *w->shards, mcf__st_strcmp);
        w->shard[i] = (size_t)(hit - w->shards);
    }
    return MCF_OK;
}

/* The URL of file name (relative, checked) next to the object at url: the
 * directory part of url plus name, percent-encoded for file: and http(s)
 * URLs (whose paths are decoded or sent as written). MCF_MALLOC'ed. */
static char *mcf__sibling_url(const char *url, const mcf_url *u, const char *name)
{
    static const char hex[] = "0123456789ABCDEF";
    const char *end = url + strlen(url), *p, *cut = url;
    int is_url = strstr(url, "://") != NULL;
    int encode = is_url && (strcmp(u->scheme, "file") == 0 || strcmp(u->scheme, "http") == 0 || strcmp(u->scheme, "https") == 0);
    mcf__buf b;
    if (u->query && *u->query && (p = strchr(url, '?')) != NULL) end = p;
    for (p = url; p < end; p++)
        if (*p == '/' || (!is_url && *p == '\\')) cut = p + 1;
    memset(&b, 0, sizeof b);
    mcf__buf_put(&b, url, (size_t)(cut - url));
    for (p = name; *p; p++) {
        unsigned char c = (unsigned char)*p;
        if (!encode || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || strchr("-._~/", c))
            mcf__buf_putc(&b, c);
        else {
            mcf__buf_putc(&b, '%');
            mcf__buf_putc(&b, (unsigned char)hex[c >> 4]);
            mcf__buf_putc(&b, (unsigned char)hex[c & 15]);
        }
    }
    mcf__buf_putc(&b, 0);
    if (b.failed) { mcf__buf_free(&b); return NULL; }
    return (char *)b.data;
}

/* Decodes %XX escapes in place (a '%' without two hex digits stays). */
static void mcf__pct_decode(char *s)
{
    char *d = s;
    for (; *s; s++) {
        int hi, lo;
        if (*s == '%' && (hi = mcf__hexval(s[1])) >= 0 && (lo = mcf__hexval(s[2])) >= 0) {
            *d++ = (char)(hi * 16 + lo);
            s += 2;
        } else *d++ = *s;
    }
    *d = '\0';
}

/* Reads the whole index (at most MCF_MAX_HEADER bytes). */
static int mcf__wmap_load(const mcf_url *u, const mcf_filesystem *fs, const mcf_options *o, unsigned char **text, size_t *len)
{
    mcf__source src;
    int rc;
    memset(&src, 0, sizeof src);
    src.fs = *fs;
    src.name = u->url;
    *text = NULL;
    if ((rc = fs->open_read(fs->user, u, o, &src.file, &src.size)) != MCF_OK) return rc;
    if (src.size == 0) rc = mcf__fail(MCF_DESERIALIZE_FAIL, "%s: empty index (0 bytes)", u->url);
    else if (src.size > MCF_MAX_HEADER)
        rc = mcf__fail(MCF_DESERIALIZE_FAIL, "%s: the index is %llu bytes, more than MCF_MAX_HEADER (%llu)", u->url,
                       (unsigned long long)src.size, (unsigned long long)MCF_MAX_HEADER);
    else if (!(*text = (unsigned char *)mcf__malloc((size_t)src.size))) rc = mcf__wmap_oom(u->url);
    else rc = fs->read_at(src.file, 0, *text, (size_t)src.size);
    fs->close_read(src.file);
    if (rc != MCF_OK) { MCF_FREE(*text); *text = NULL; return rc; }
    *len = (size_t)src.size;
    return MCF_OK;
}

/* Moves shard k's one file, its entries and values into r. */
static int mcf__shard_adopt(mcf_reader *r, size_t k, mcf_reader *s, size_t *ecap, size_t *vcap)
{
    size_t i;
    if (!mcf__grow((void **)&r->entries, ecap, r->count + s->count, sizeof *r->entries) ||
        (s->value_count && !mcf__grow((void **)&r->values, vcap, r->value_count + s->value_count, sizeof *r->values)))
        return mcf__fail(MCF_INTERNAL_ERROR, "%s: out of memory", r->name);
    r->files[k] = s->files[0];
    r->files[k].url = s->name;
    r->files[k].src.name = s->name;
    memset(&s->files[0], 0, sizeof s->files[0]);
    s->name = NULL;
    for (i = 0; i < s->count; i++) {
        r->entries[r->count] = s->entries[i];
        r->entries[r->count++].file = k;
    }
    s->count = 0;
    for (i = 0; i < s->value_count; i++) r->values[r->value_count++] = s->values[i];
    s->value_count = 0;
    if (s->verify) r->verify = s->verify;
    return MCF_OK;
}

/* Opens every shard, in shard-name order, into r->files. A failure names
 * the shard and the first tensor the index puts there. */
static int mcf__shards_open(mcf_reader *r, const mcf__wmap *w, const char *url, const mcf_url *u, const mcf_options *o)
{
    size_t k, i, ecap = 0, vcap = 0;
    size_t *first = (size_t *)mcf__calloc(w->nshards ? w->nshards : 1, sizeof *first);   /* tensor + 1 */
    int rc = MCF_OK;
    if (!first) return mcf__fail(MCF_INTERNAL_ERROR, "%s: out of memory", r->name);
    for (i = w->n; i-- > 0;) first[w->shard[i]] = i + 1;
    for (k = 0; k < w->nshards && rc == MCF_OK; k++) {
        mcf_reader *s = NULL;
        const char *tensor = first[k] ? w->tensor[first[k] - 1] : "";
        char *surl = mcf__sibling_url(url, u, w->shards[k]);
        if (!surl) { rc = mcf__fail(MCF_INTERNAL_ERROR, "%s: out of memory", r->name); break; }
        rc = mcf__open_file(surl, o, 0, &s);
        if (rc != MCF_OK)
            rc = mcf__fail(rc, "%s: shard \"%s\" (tensor \"%s\"): %s", r->name, w->shards[k], tensor, mcf_last_error());
        else if (r->format && strcmp(r->format, s->format) != 0)
            rc = mcf__fail(MCF_DESERIALIZE_FAIL, "%s: shard \"%s\" (tensor \"%s\") is a %s file, shard \"%s\" a %s file: one index names one format",
                           r->name, w->shards[k], tensor, s->format, w->shards[0], r->format);
        else {
            r->format = s->format;
            rc = mcf__shard_adopt(r, k, s, &ecap, &vcap);
        }
        MCF_FREE(surl);
        mcf__reader_free(s);
    }
    MCF_FREE(first);
    return rc;
}

/* Every listed tensor in exactly its own shard; unlisted shard tensors fail
 * or, with MCF_LENIENT, are dropped. */
static int mcf__shards_match(mcf_reader *r, const mcf__wmap *w)
{
    size_t *where = (size_t *)mcf__calloc(w->n ? w->n : 1, sizeof *where);   /* shard + 1, 0 = not seen */
    size_t i, kept = 0;
    int rc = MCF_OK;
    if (!where) return mcf__fail(MCF_INTERNAL_ERROR, "%s: out of memory", r->name);
    for (i = 0; i < r->count && rc == MCF_OK; i++) {
        mcf__entry *e = &r->entries[i];
        long t = mcf__wmap_find(w, e->name);
        if (t < 0) {
            if (!(r->flags & MCF_LENIENT))
                rc = mcf__fail(MCF_DESERIALIZE_FAIL, "%s: shard \"%s\" holds tensor \"%s\", which the index does not list (MCF_LENIENT skips such tensors)",
                               r->name, w->shards[e->file], e->name);
            else { MCF_FREE(e->name); continue; }
        } else if (where[t])
            rc = mcf__fail(MCF_DESERIALIZE_FAIL, "%s: tensor \"%s\" is in two shards, \"%s\" and \"%s\"", r->name, e->name,
                           w->shards[where[t] - 1], w->shards[e->file]);
        else where[t] = e->file + 1;
        r->entries[kept++] = *e;
    }
    if (rc != MCF_OK) { for (; i < r->count; i++) r->entries[kept++] = r->entries[i]; }
    r->count = kept;
    for (i = 0; i < w->n && rc == MCF_OK; i++) {
        if (where[i] == 0)
            rc = mcf__fail(MCF_DESERIALIZE_FAIL, "%s: tensor \"%s\" is missing from its shard \"%s\"", r->name, w->tensor[i], w->shards[w->shard[i]]);
        else if (where[i] - 1 != w->shard[i])
            rc = mcf__fail(MCF_DESERIALIZE_FAIL, "%s: tensor \"%s\" is missing from its shard \"%s\" (shard \"%s\" holds it)", r->name,
                           w->tensor[i], w->shards[w->shard[i]], w->shards[where[i] - 1]);
    }
    MCF_FREE(where);
    return rc;
}

/* Entry order of a sharded reader: shard, then offset (then name, unique). */
static int mcf__cmp_entry(const void *a, const void *b)
{
    const mcf__entry *x = (const mcf__entry *)a, *y = (const mcf__entry *)b;
    if (x->file != y->file) return x->file < y->file ? -1 : 1;
    if (x->offset != y->offset) return x->offset < y->offset ? -1 : 1;
    return strcmp(x->name, y->name);
}

static int mcf__sharded_open(const char *url, const mcf_url *u, const mcf_filesystem *fs, const mcf_options *o, mcf_reader **out)
{
    mcf__wmap w;
    mcf_reader *r;
    unsigned char *text = NULL;
    size_t len = 0;
    int rc;
    memset(&w, 0, sizeof w);
    if (!(r = mcf__reader_new(u->url, o))) return mcf__fail(MCF_INTERNAL_ERROR, "mcf_open: %s: out of memory", u->url);
    r->nfiles = 0;
    if ((rc = mcf__wmap_load(u, fs, o, &text, &len)) == MCF_OK && (rc = mcf__wmap_parse(&w, text, len, r->name)) == MCF_OK) {
        MCF_FREE(r->files);
        if (!(r->files = (mcf__rfile *)mcf__calloc(w.nshards ? w.nshards : 1, sizeof *r->files))) rc = mcf__wmap_oom(r->name);
        else {
            r->nfiles = w.nshards;
            if ((rc = mcf__shards_open(r, &w, url, u, o)) == MCF_OK && (rc = mcf__shards_match(r, &w)) == MCF_OK) {
                if (!r->format) r->format = "safetensors";
                if (r->count) qsort(r->entries, r->count, sizeof *r->entries, mcf__cmp_entry);
                r->meta = w.meta;
                r->meta_count = w.meta_count;
                w.meta = NULL;
                w.meta_count = 0;
                rc = mcf__open_finish(r);
            }
        }
    }
    MCF_FREE(text);
    mcf__wmap_free(&w);
    if (rc != MCF_OK) { mcf__reader_free(r); return rc; }
    *out = r;
    return MCF_OK;
}

/* What a checkpoint names, judged by its parsed path (an http(s) query is
 * not part of it) with letters in any case: an index ("*.index.json"), one
 * safetensors file ("*.safetensors"), or something else. mcf_open and model
 * seeding both decide by this rule. */
enum { MCF__NAMES_OTHER = 0, MCF__NAMES_SAFETENSORS = 1, MCF__NAMES_INDEX = 2 };
static int mcf__path_names(const char *path)
{
    if (mcf__ends_with_nocase(path, ".index.json")) return MCF__NAMES_INDEX;
    if (mcf__ends_with_nocase(path, ".safetensors")) return MCF__NAMES_SAFETENSORS;
    return MCF__NAMES_OTHER;
}

MCFDEF int mcf_open(const char *url, const mcf_options *o, mcf_reader **out)
{
    mcf_url u;
    mcf_filesystem fs;
    int rc;
    if (!out) return mcf__fail(MCF_INVALID_PARAMS, "mcf_open: NULL output");
    *out = NULL;
    if ((rc = mcf__resolve(url, o, &u, &fs)) != MCF_OK) return rc;
    if (mcf__path_names(u.path) == MCF__NAMES_INDEX) rc = mcf__sharded_open(url, &u, &fs, o, out);
    else rc = mcf__open_url(&u, &fs, o, 1, out);
    mcf_url_free(&u);
    return rc;
}

/* ---- writing ---- */

/* The format a save to path writes when options.format is not given. */
static int mcf__fmt_of_path(const char *path)
{
    return mcf__ends_with_nocase(path, ".safetensors") ? MCF__FMT_SAFETENSORS : MCF__FMT_TORCH;
}

/* The format writer fmt against the sink s. */
static int mcf__save_with(int fmt, mcf__sink *s, const mcf_tensor *t, size_t n, const mcf_options *o)
{
    return fmt == MCF__FMT_SAFETENSORS ? mcf__st_save(s, t, n, o) : mcf__pt_save(s, t, n, o);
}

/* One file: the format writer against a sink, committed or aborted. */
static int mcf__save_one(const char *url, int fmt, const mcf_tensor *t, size_t n, const mcf_options *o)
{
    mcf_url u;
    mcf__sink s;
    int rc;
    memset(&s, 0, sizeof s);
    if ((rc = mcf__resolve(url, o, &u, &s.fs)) != MCF_OK) return rc;
    if (fmt == MCF__FMT_AUTO) fmt = mcf__fmt_of_path(u.path);
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

/* huggingface_hub's split: tensors in order; one larger than max gets a
 * shard of its own at once (before the shard being filled); otherwise a
 * tensor that would push the current shard past max closes it. shard_of[i]
 * receives tensor i's shard; returns the number of shards. pending has n
 * slots. */
static size_t mcf__shard_split(const mcf_tensor *t, size_t n, uint64_t max, size_t *shard_of, size_t *pending)
{
    size_t next = 0, np = 0, i, k;
    uint64_t cur = 0;
    for (i = 0; i < n; i++) {
        uint64_t sz = mcf_tensor_nbytes(&t[i]);
        if (sz > max) { shard_of[i] = next++; continue; }
        if (sz > max - cur) {
            for (k = 0; k < np; k++) shard_of[pending[k]] = next;
            next++;
            np = 0;
            cur = 0;
        }
        pending[np++] = i;
        cur += sz;
    }
    if (np) {
        for (k = 0; k < np; k++) shard_of[pending[k]] = next;
        next++;
    }
    return next;
}

/* s as a JSON string the way Python's json.dumps writes it (ensure_ascii:
 * every byte outside ' '..'~' escaped, non-ASCII as \uXXXX, surrogate pairs
 * above U+FFFF). s is valid UTF-8. */
static void mcf__json_put_ascii(mcf__buf *b, const char *s)
{
    const unsigned char *p = (const unsigned char *)s, *end = p + strlen(s);
    mcf__buf_putc(b, '"');
    while (p < end) {
        unsigned long cp = *p;
        size_t n = mcf__utf8_seq(p, end), k;
        if (n > 1) {
            cp = n == 2 ? (cp & 0x1Fu) : n == 3 ? (cp & 0x0Fu) : (cp & 0x07u);
            for (k = 1; k < n; k++) cp = (cp << 6) | (p[k] & 0x3Fu);
        }
        p += n ? n : 1;
        if (cp == '"' || cp == '\\') { mcf__pk_put_escaped(b, (unsigned)cp); continue; }
        if (cp >= 0x20 && cp < 0x7F) { mcf__buf_putc(b, (unsigned char)cp); continue; }
        if (cp == '\n') { mcf__buf_puts(b, "\\n"); continue; }
        if (cp == '\r') { mcf__buf_puts(b, "\\r"); continue; }
        if (cp == '\t') { mcf__buf_puts(b, "\\t"); continue; }
        if (cp == '\b') { mcf__buf_puts(b, "\\b"); continue; }
        if (cp == '\f') { mcf__buf_puts(b, "\\f"); continue; }
        if (cp >= 0x10000) {            /* a surrogate pair */
            mcf__pk_put_hex(b, "\\u", 0xD800 + ((cp - 0x10000) >> 10), 4);
            mcf__pk_put_hex(b, "\\u", 0xDC00 + ((cp - 0x10000) & 0x3FF), 4);
        } else
            mcf__pk_put_hex(b, "\\u", cp, 4);
    }
    mcf__buf_putc(b, '"');
}

static int mcf__cmp_tensor_name(const void *a, const void *b)
{
    return strcmp((*(const mcf_tensor *const *)a)->name, (*(const mcf_tensor *const *)b)->name);
}

/* The index bytes transformers writes: json.dumps({"metadata":
 * {"total_size": N}, "weight_map": {...}}, indent=2, sort_keys=True) + "\n". */
static int mcf__index_text(mcf__buf *b, const mcf_tensor *t, size_t n, const size_t *shard_of, char *const *files, const char *who)
{
    const mcf_tensor **sorted = (const mcf_tensor **)mcf__calloc(n ? n : 1, sizeof *sorted);
    uint64_t total = 0;
    size_t i;
    if (!sorted) return mcf__fail(MCF_INTERNAL_ERROR, "%s: out of memory", who);
    for (i = 0; i < n; i++) {
        sorted[i] = &t[i];
        if (!mcf__add64(total, mcf_tensor_nbytes(&t[i]), &total)) {
            MCF_FREE(sorted);
            return mcf__fail(MCF_SERIALIZE_FAIL, "%s: the tensors' total size overflows 64 bits", who);
        }
    }
    qsort(sorted, n, sizeof *sorted, mcf__cmp_tensor_name);
    mcf__buf_puts(b, "{\n  \"metadata\": {\n    \"total_size\": ");
    mcf__buf_put_u64(b, total);
    mcf__buf_puts(b, "\n  },\n  \"weight_map\": {");
    for (i = 0; i < n; i++) {
        mcf__buf_puts(b, i ? ",\n    " : "\n    ");
        mcf__json_put_ascii(b, sorted[i]->name);
        mcf__buf_puts(b, ": ");
        mcf__json_put_ascii(b, files[shard_of[sorted[i] - t]]);
    }
    mcf__buf_puts(b, n ? "\n  }\n}\n" : "}\n}\n");
    MCF_FREE(sorted);
    return b->failed ? mcf__fail(MCF_INTERNAL_ERROR, "%s: out of memory", who) : MCF_OK;
}

/* Frees v[0..n) and v (NULL: nothing). */
static void mcf__strv_free(char **v, size_t n)
{
    size_t i;
    if (!v) return;
    for (i = 0; i < n; i++) MCF_FREE(v[i]);
    MCF_FREE(v);
}

/* Shard names NAME-%05d-of-%05d.EXT for the file name base (NAME.EXT). */
static char **mcf__shard_names(const char *base, size_t nsh)
{
    const char *dot = strrchr(base, '.');
    size_t stem = dot && dot != base ? (size_t)(dot - base) : strlen(base), k, len = strlen(base) + 32;
    char **f = (char **)mcf__calloc(nsh, sizeof *f);
    if (!f) return NULL;
    for (k = 0; k < nsh; k++) {
        if (!(f[k] = (char *)mcf__malloc(len))) {
            mcf__strv_free(f, k);
            return NULL;
        }
        (void)snprintf(f[k], len, "%.*s-%05lu-of-%05lu%s", (int)stem, base, (unsigned long)(k + 1), (unsigned long)nsh, base + stem);
    }
    return f;
}

/* Removes the shards this save wrote (a failed save leaves no new shard),
 * keeping the error that stopped it. */
static void mcf__shards_unwind(char *const *urls, size_t written, const mcf_options *o)
{
    char saved[MCF_ERROR_MAX];
    size_t k;
    memcpy(saved, mcf__error_text, sizeof saved);
    for (k = 0; k < written; k++) (void)mcf_remove(urls[k], o);
    memcpy(mcf__error_text, saved, sizeof saved);
}

/* The shards, in order, then the index. An index already at the
 * destination is removed first, so a save cut short leaves no index naming
 * a mix of old and new shards; files of an earlier save that the new index
 * does not name are left alone (readers never open them). */
static int mcf__save_shards(const char *url, const mcf_url *u, const char *base, int fmt, const mcf_tensor *t, size_t n,
                            const mcf_options *o, const size_t *shard_of, size_t nsh)
{
    static const char *const pt_meta[] = {"format", "pt", NULL};
    char **files = NULL, **urls = NULL, *iurl = NULL;
    mcf_tensor *part = NULL;
    mcf_options so;
    mcf__buf idx;
    size_t k, i, m, written = 0;
    int rc = MCF_OK;
    memset(&idx, 0, sizeof idx);
    so = *o;
    so.max_shard_bytes = 0;
    if (fmt == MCF__FMT_SAFETENSORS && !o->metadata) so.metadata = pt_meta;
    files = mcf__shard_names(base, nsh);
    urls = (char **)mcf__calloc(nsh, sizeof *urls);
    part = (mcf_tensor *)mcf__calloc(n, sizeof *part);
    iurl = (char *)mcf__malloc(strlen(url) + 12);
    if (!files || !urls || !part || !iurl) rc = mcf__fail(MCF_INTERNAL_ERROR, "%s: out of memory", u->url);
    for (k = 0; rc == MCF_OK && k < nsh; k++)
        if (!(urls[k] = mcf__sibling_url(url, u, files[k]))) rc = mcf__fail(MCF_INTERNAL_ERROR, "%s: out of memory", u->url);
    if (rc == MCF_OK) {
        memcpy(iurl, url, strlen(url));
        memcpy(iurl + strlen(url), ".index.json", 12);
        rc = mcf__index_text(&idx, t, n, shard_of, files, u->url);
    }
    if (rc == MCF_OK && (o->flags & MCF_NO_OVERWRITE))
        for (k = 0; k <= nsh && rc == MCF_OK; k++) {
            const char *x = k < nsh ? urls[k] : iurl;
            int e = mcf_exists(x, o);
            if (e == 1) rc = mcf__fail(MCF_FILE_OPEN_FAIL, "%s: %s already exists (MCF_NO_OVERWRITE)", u->url, x);
            else if (e < 0) rc = e;
        }
    if (rc == MCF_OK && !(o->flags & MCF_NO_OVERWRITE)) {   /* with it, the index is known to be absent */
        int e = mcf_exists(iurl, o);
        if (e < 0) rc = e;
        else if (e == 1) rc = mcf_remove(iurl, o);
    }
    for (k = 0; k < nsh && rc == MCF_OK; k++) {
        for (i = 0, m = 0; i < n; i++)
            if (shard_of[i] == k) part[m++] = t[i];
        if ((rc = mcf__save_one(urls[k], fmt, part, m, &so)) == MCF_OK) written++;
    }
    if (rc == MCF_OK) rc = mcf_write_bytes(iurl, idx.data, idx.len, &so);
    if (rc != MCF_OK && urls) mcf__shards_unwind(urls, written, o);
    mcf__buf_free(&idx);
    mcf__strv_free(files, nsh);
    mcf__strv_free(urls, nsh);
    MCF_FREE(part);
    MCF_FREE(iurl);
    return rc;
}

/* Saves one file, or with options.max_shard_bytes as many shards as the
 * split makes plus an index (one shard: the plain file). */
static int mcf__save_split(const char *url, int fmt, const mcf_tensor *t, size_t n, const mcf_options *o)
{
    size_t *shard_of, *pending, nsh;
    mcf_url u;
    mcf_filesystem fs;
    int rc;
    if (!o || !o->max_shard_bytes || n < 2) return mcf__save_one(url, fmt, t, n, o);
    shard_of = (size_t *)mcf__calloc(n, sizeof *shard_of);
    pending = (size_t *)mcf__calloc(n, sizeof *pending);
    if (!shard_of || !pending) { MCF_FREE(shard_of); MCF_FREE(pending); return mcf__fail(MCF_INTERNAL_ERROR, "%s: out of memory", url); }
    nsh = mcf__shard_split(t, n, o->max_shard_bytes, shard_of, pending);
    MCF_FREE(pending);
    if (nsh < 2) { MCF_FREE(shard_of); return mcf__save_one(url, fmt, t, n, o); }
    if ((rc = mcf__resolve(url, o, &u, &fs)) == MCF_OK) {
        if (fmt == MCF__FMT_AUTO) fmt = mcf__fmt_of_path(u.path);
        if (!fs.write) rc = mcf__fail(MCF_NOT_SUPPORTED, "%s: the %s filesystem is read-only", u.url, u.scheme);
        else if (!*u.basename) rc = mcf__fail(MCF_INVALID_PARAMS, "%s: a sharded save needs a file name to number", u.url);
        else if (*u.query)   /* a presigned URL signs one object; each shard would need its own */
            rc = mcf__fail(MCF_INVALID_PARAMS, "%.*s?...: a sharded save cannot take a URL with a query (a presigned URL signs one object; save each shard to its own URL)",
                           (int)strcspn(u.url, "?"), u.url);
        else {
            /* shard names are file names: an http(s) path is percent-encoded as written */
            char *base = mcf__strdup(u.basename);
            if (!base) rc = mcf__fail(MCF_INTERNAL_ERROR, "%s: out of memory", u.url);
            else {
                if (strcmp(u.scheme, "http") == 0 || strcmp(u.scheme, "https") == 0) mcf__pct_decode(base);
                rc = mcf__save_shards(url, &u, base, fmt, t, n, o, shard_of, nsh);
                MCF_FREE(base);
            }
        }
        mcf_url_free(&u);
    }
    MCF_FREE(shard_of);
    return rc;
}

/* ===== [21] save dispatch ================================================ */
/* Checks the caller's tensors once (names present and unique, dtypes,
 * shapes, strides), picks the format (options.format, else the suffix),
 * runs the format writer against a sink, and commits or aborts it: a failed
 * save leaves nothing at the destination. */
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

MCFDEF int mcf_save(const char *url, const mcf_tensor *t, size_t n, const mcf_options *o)
{
    int fmt, rc;
    if ((rc = mcf__parse_format(o ? o->format : NULL, &fmt)) != MCF_OK) return rc;
    if ((rc = mcf__check_save_args(t, n, url ? url : "mcf_save")) != MCF_OK) return rc;
    return mcf__save_split(url, fmt, t, n, o);
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

/* ===== [22] Mooncake object codec ======================================== */
/* Mooncake's TensorMetadata (integration_utils.h) written and read field by
 * field in little-endian, so every host produces the same bytes; decode
 * applies ValidateTensorMetadata's rules plus data_bytes == local shape x
 * dtype size. */

/* Byte offsets inside the 304-byte TensorMetadata (natural C alignment). */
#define MCF__MOON_OFF_MAGIC 0
#define MCF__MOON_OFF_VERSION 4
#define MCF__MOON_OFF_HSIZE 6
#define MCF__MOON_OFF_DTYPE 8
#define MCF__MOON_OFF_NDIM 12
#define MCF__MOON_OFF_KIND 16
#define MCF__MOON_OFF_FLAGS 20
#define MCF__MOON_OFF_DOFF 24
#define MCF__MOON_OFF_DBYTES 32
#define MCF__MOON_OFF_GLOBAL 40
#define MCF__MOON_OFF_LOCAL 104
#define MCF__MOON_OFF_AXCOUNT 168
#define MCF__MOON_OFF_RES0 172
#define MCF__MOON_OFF_AXES 176
#define MCF__MOON_AXIS_SIZE 32
/* ... and inside each 32-byte LayoutAxis */
#define MCF__MOON_AXIS_KIND 0
#define MCF__MOON_AXIS_INDEX 4
#define MCF__MOON_AXIS_RANK 8
#define MCF__MOON_AXIS_COUNT 12
#define MCF__MOON_AXIS_SPLIT 16
#define MCF__MOON_AXIS_RES0 20
#define MCF__MOON_AXIS_RES1 24
#define MCF__MOON_DTYPE_MAX 14          /* TensorDtype FLOAT32 (0) .. FLOAT8_E5M2 (14) */

static const char *const mcf__moon_axis_names[5] = {"DP", "TP", "EP", "PP", "RESERVED"};

static int32_t mcf__i32(const unsigned char *p) { return (int32_t)mcf__le32(p); }
static int64_t mcf__i64(const unsigned char *p) { return (int64_t)mcf__le64(p); }

/* The FULL layout of t: global shape = local shape, no axes. */
static void mcf__moon_full_layout(const mcf_tensor *t, mcf_moon_layout *l)
{
    int i;
    memset(l, 0, sizeof *l);
    l->kind = MCF_MOON_FULL;
    for (i = 0; i < MCF_MOON_MAX_DIMS; i++) l->global_shape[i] = i < t->ndim ? t->shape[i] : -1;
}

/* Checks that t and l make an object Mooncake accepts. */
static int mcf__moon_check(const mcf_tensor *t, const mcf_moon_layout *l)
{
    const char *name = t->name ? t->name : "";
    uint32_t i;
    int d, rc;
    if ((rc = mcf__check_tensor(t, "Mooncake object")) != MCF_OK) return rc;
    if (mcf_dtype_to_mooncake(t->dtype) < 0)
        return mcf__fail(MCF_SERIALIZE_UNSUPPORTED, "Mooncake object: tensor \"%s\": dtype %s has no Mooncake TensorDtype", name, mcf_dtype_name(t->dtype));
    if (t->ndim > MCF_MOON_MAX_DIMS)
        return mcf__fail(MCF_SERIALIZE_UNSUPPORTED, "Mooncake object: tensor \"%s\" has %d dimensions (Mooncake allows %d)", name, t->ndim, MCF_MOON_MAX_DIMS);
    if (l->kind > MCF_MOON_SHARD)
        return mcf__fail(MCF_INVALID_PARAMS, "Mooncake object: tensor \"%s\": layout kind %lu is neither FULL (0) nor SHARD (1)", name, (unsigned long)l->kind);
    /* zero-sized dimensions are valid (a metadata-only object), negative ones not */
    for (d = 0; d < t->ndim; d++)
        if (l->global_shape[d] < 0)
            return mcf__fail(MCF_INVALID_PARAMS, "Mooncake object: tensor \"%s\": global dimension %d is %lld (Mooncake needs >= 0)",
                             name, d, (long long)l->global_shape[d]);
    if (l->axis_count > MCF_MOON_MAX_AXES)
        return mcf__fail(MCF_INVALID_PARAMS, "Mooncake object: tensor \"%s\": %lu layout axes (at most %d)", name, (unsigned long)l->axis_count, MCF_MOON_MAX_AXES);
    for (i = 0; i < l->axis_count; i++) {
        const mcf_moon_axis *a = &l->axes[i];
        if (a->kind < MCF_MOON_DP || a->kind > MCF_MOON_RESERVED)
            return mcf__fail(MCF_INVALID_PARAMS, "Mooncake object: tensor \"%s\": axis %lu has kind %ld (0..4: DP TP EP PP RESERVED)", name, (unsigned long)i, (long)a->kind);
        if (a->shard_count <= 0 || a->shard_rank < 0 || a->shard_rank >= a->shard_count)
            return mcf__fail(MCF_INVALID_PARAMS, "Mooncake object: tensor \"%s\": axis %lu has shard_rank %ld of shard_count %ld", name, (unsigned long)i, (long)a->shard_rank, (long)a->shard_count);
        if (a->split_dim < -1 || a->split_dim >= t->ndim)
            return mcf__fail(MCF_INVALID_PARAMS, "Mooncake object: tensor \"%s\": axis %lu has split_dim %ld (allowed -1..%d)", name, (unsigned long)i, (long)a->split_dim, t->ndim - 1);
    }
    return MCF_OK;
}

MCFDEF size_t mcf_moon_object_size(const mcf_tensor *t)
{
    uint64_t n = t ? mcf_tensor_nbytes(t) : UINT64_MAX, total;
    if (n == UINT64_MAX || !mcf__add64(n, MCF_MOON_HEADER_SIZE, &total) || !mcf__fits_size(total)) return 0;
    return (size_t)total;
}

/* Writes the 304-byte TensorMetadata of a checked t/l with data_bytes n. */
static void mcf__moon_put_header(unsigned char *p, const mcf_tensor *t, const mcf_moon_layout *l, uint64_t n)
{
    uint32_t i;
    int d;
    memset(p, 0, MCF_MOON_HEADER_SIZE);
    mcf__put_le32(p + MCF__MOON_OFF_MAGIC, MCF_MOON_MAGIC);
    mcf__put_le16(p + MCF__MOON_OFF_VERSION, 1);
    mcf__put_le16(p + MCF__MOON_OFF_HSIZE, MCF_MOON_HEADER_SIZE);
    mcf__put_le32(p + MCF__MOON_OFF_DTYPE, (uint32_t)mcf_dtype_to_mooncake(t->dtype));
    mcf__put_le32(p + MCF__MOON_OFF_NDIM, (uint32_t)t->ndim);
    mcf__put_le32(p + MCF__MOON_OFF_KIND, l->kind);
    mcf__put_le32(p + MCF__MOON_OFF_FLAGS, l->reserved_flags);
    mcf__put_le64(p + MCF__MOON_OFF_DOFF, MCF_MOON_HEADER_SIZE);
    mcf__put_le64(p + MCF__MOON_OFF_DBYTES, n);
    for (d = 0; d < MCF_MOON_MAX_DIMS; d++) {
        /* unused dimensions are -1 in both shapes (MakeTensorShape) */
        mcf__put_le64(p + MCF__MOON_OFF_GLOBAL + 8 * d, (uint64_t)(d < t->ndim ? l->global_shape[d] : -1));
        mcf__put_le64(p + MCF__MOON_OFF_LOCAL + 8 * d, (uint64_t)(d < t->ndim ? t->shape[d] : -1));
    }
    mcf__put_le32(p + MCF__MOON_OFF_AXCOUNT, l->axis_count);
    mcf__put_le32(p + MCF__MOON_OFF_RES0, l->reserved0);
    for (i = 0; i < l->axis_count; i++) {
        unsigned char *a = p + MCF__MOON_OFF_AXES + MCF__MOON_AXIS_SIZE * i;
        mcf__put_le32(a + MCF__MOON_AXIS_KIND, (uint32_t)l->axes[i].kind);
        mcf__put_le32(a + MCF__MOON_AXIS_INDEX, (uint32_t)l->axes[i].axis_index);
        mcf__put_le32(a + MCF__MOON_AXIS_RANK, (uint32_t)l->axes[i].shard_rank);
        mcf__put_le32(a + MCF__MOON_AXIS_COUNT, (uint32_t)l->axes[i].shard_count);
        mcf__put_le32(a + MCF__MOON_AXIS_SPLIT, (uint32_t)l->axes[i].split_dim);
        mcf__put_le32(a + MCF__MOON_AXIS_RES0, (uint32_t)l->axes[i].reserved0);
        mcf__put_le64(a + MCF__MOON_AXIS_RES1, (uint64_t)l->axes[i].reserved1);
    }
}

MCFDEF int mcf_moon_encode_layout(const mcf_tensor *t, const mcf_moon_layout *layout, void *dst, size_t cap, size_t *written)
{
    mcf_moon_layout full;
    unsigned char *p = (unsigned char *)dst;
    uint64_t n;
    size_t total;
    int rc;
    if (!t || (!dst && cap)) return mcf__fail(MCF_INVALID_PARAMS, "mcf_moon_encode: NULL argument");
    if (!layout) { mcf__moon_full_layout(t, &full); layout = &full; }
    if ((rc = mcf__moon_check(t, layout)) != MCF_OK) return rc;
    n = mcf_tensor_nbytes(t);
    total = mcf_moon_object_size(t);
    if (total == 0) return mcf__fail(MCF_NOT_SUPPORTED, "Mooncake object: tensor \"%s\" (%llu bytes) does not fit in memory on this host", t->name ? t->name : "", (unsigned long long)n);
    if (cap < total) {
        if (written) *written = total;
        return mcf__fail(MCF_BUFFER_OVERFLOW, "Mooncake object: tensor \"%s\" needs %llu bytes, buffer has %llu",
                         t->name ? t->name : "", (unsigned long long)total, (unsigned long long)cap);
    }
    mcf__moon_put_header(p, t, layout, n);
    if ((rc = mcf_tensor_copy_contiguous(t, p + MCF_MOON_HEADER_SIZE, (size_t)n)) != MCF_OK) return rc;
    if (MCF__BIG_ENDIAN) mcf__swap_units(p + MCF_MOON_HEADER_SIZE, (size_t)n, mcf__dtypes[t->dtype].swap);
    if (written) *written = total;
    return MCF_OK;
}

MCFDEF int mcf_moon_encode(const mcf_tensor *t, void *dst, size_t cap, size_t *written)
{
    return mcf_moon_encode_layout(t, NULL, dst, cap, written);
}

/* The fixed TensorMetadata fields: magic, version, header size, dtype,
 * ndim, axis count, layout kind, data offset and size. */
static int mcf__moon_decode_fields(const unsigned char *p, size_t len, int32_t *dtype, int32_t *ndim, mcf_moon_layout *l, uint64_t *doff)
{
    uint64_t dbytes;
    if (len < MCF_MOON_HEADER_SIZE)
        return mcf__fail(MCF_DESERIALIZE_FAIL, "Mooncake object: %llu bytes, shorter than the %d-byte TensorMetadata", (unsigned long long)len, MCF_MOON_HEADER_SIZE);
    if (mcf__le32(p + MCF__MOON_OFF_MAGIC) != MCF_MOON_MAGIC)
        return mcf__fail(MCF_DESERIALIZE_FAIL, "Mooncake object: bad magic 0x%08lx (expected 0x4d4f4f4e \"MOON\")", (unsigned long)mcf__le32(p));
    if (mcf__le16(p + MCF__MOON_OFF_VERSION) != 1)
        return mcf__fail(MCF_DESERIALIZE_FAIL, "Mooncake object: version %u (only 1 is known)", (unsigned)mcf__le16(p + MCF__MOON_OFF_VERSION));
    if (mcf__le16(p + MCF__MOON_OFF_HSIZE) != MCF_MOON_HEADER_SIZE)
        return mcf__fail(MCF_DESERIALIZE_FAIL, "Mooncake object: header_size %u (expected %d)", (unsigned)mcf__le16(p + MCF__MOON_OFF_HSIZE), MCF_MOON_HEADER_SIZE);
    *dtype = mcf__i32(p + MCF__MOON_OFF_DTYPE);
    if (*dtype < 0 || *dtype > MCF__MOON_DTYPE_MAX)
        return mcf__fail(MCF_DESERIALIZE_FAIL, "Mooncake object: dtype %ld out of range (TensorDtype 0..14)", (long)*dtype);
    *ndim = mcf__i32(p + MCF__MOON_OFF_NDIM);
    if (*ndim < 0 || *ndim > MCF_MOON_MAX_DIMS)
        return mcf__fail(MCF_DESERIALIZE_FAIL, "Mooncake object: ndim %ld out of range (0..%d)", (long)*ndim, MCF_MOON_MAX_DIMS);
    l->axis_count = mcf__le32(p + MCF__MOON_OFF_AXCOUNT);
    if (l->axis_count > MCF_MOON_MAX_AXES)
        return mcf__fail(MCF_DESERIALIZE_FAIL, "Mooncake object: axis_count %lu (at most %d)", (unsigned long)l->axis_count, MCF_MOON_MAX_AXES);
    l->kind = mcf__le32(p + MCF__MOON_OFF_KIND);
    if (l->kind > MCF_MOON_SHARD)
        return mcf__fail(MCF_DESERIALIZE_FAIL, "Mooncake object: layout_kind %lu (FULL=0, SHARD=1)", (unsigned long)l->kind);
    *doff = mcf__le64(p + MCF__MOON_OFF_DOFF);
    dbytes = mcf__le64(p + MCF__MOON_OFF_DBYTES);
    if (*doff < MCF_MOON_HEADER_SIZE || *doff > (uint64_t)len)
        return mcf__fail(MCF_DESERIALIZE_FAIL, "Mooncake object: data_offset %llu outside [%d, %llu]", (unsigned long long)*doff, MCF_MOON_HEADER_SIZE, (unsigned long long)len);
    if (dbytes != (uint64_t)len - *doff)
        return mcf__fail(MCF_DESERIALIZE_FAIL, "Mooncake object: data_bytes %llu but %llu bytes follow data_offset %llu",
                         (unsigned long long)dbytes, (unsigned long long)((uint64_t)len - *doff), (unsigned long long)*doff);
    return MCF_OK;
}

/* Global and local shapes: the first ndim dimensions >= 0, the rest -1. */
static int mcf__moon_decode_shapes(const unsigned char *p, int32_t ndim, mcf_moon_layout *l, mcf_tensor *v)
{
    int d;
    for (d = 0; d < MCF_MOON_MAX_DIMS; d++) {
        int64_t g = mcf__i64(p + MCF__MOON_OFF_GLOBAL + 8 * d), lo = mcf__i64(p + MCF__MOON_OFF_LOCAL + 8 * d);
        if (d < ndim && (g < 0 || lo < 0))
            return mcf__fail(MCF_DESERIALIZE_FAIL, "Mooncake object: dimension %d has global %lld, local %lld (both must be >= 0)", d, (long long)g, (long long)lo);
        if (d >= ndim && (g != -1 || lo != -1))
            return mcf__fail(MCF_DESERIALIZE_FAIL, "Mooncake object: unused dimension %d is global %lld, local %lld (must be -1)", d, (long long)g, (long long)lo);
        l->global_shape[d] = g;
        if (d < ndim && d < MCF_MAX_DIMS) v->shape[d] = lo;
    }
    return MCF_OK;
}

/* The layout axes (LayoutAxis records). */
static int mcf__moon_decode_axes(const unsigned char *p, int32_t ndim, mcf_moon_layout *l)
{
    uint32_t i;
    for (i = 0; i < l->axis_count; i++) {
        const unsigned char *a = p + MCF__MOON_OFF_AXES + MCF__MOON_AXIS_SIZE * i;
        mcf_moon_axis *x = &l->axes[i];
        x->kind = mcf__i32(a + MCF__MOON_AXIS_KIND);
        x->axis_index = mcf__i32(a + MCF__MOON_AXIS_INDEX);
        x->shard_rank = mcf__i32(a + MCF__MOON_AXIS_RANK);
        x->shard_count = mcf__i32(a + MCF__MOON_AXIS_COUNT);
        x->split_dim = mcf__i32(a + MCF__MOON_AXIS_SPLIT);
        x->reserved0 = mcf__i32(a + MCF__MOON_AXIS_RES0);
        x->reserved1 = mcf__i64(a + MCF__MOON_AXIS_RES1);
        if (x->kind < MCF_MOON_DP || x->kind > MCF_MOON_RESERVED)
            return mcf__fail(MCF_DESERIALIZE_FAIL, "Mooncake object: axis %lu kind %ld (0..4: DP TP EP PP RESERVED)", (unsigned long)i, (long)x->kind);
        if (x->shard_count <= 0 || x->shard_rank < 0 || x->shard_rank >= x->shard_count)
            return mcf__fail(MCF_DESERIALIZE_FAIL, "Mooncake object: axis %lu shard_rank %ld not in [0, shard_count %ld)", (unsigned long)i, (long)x->shard_rank, (long)x->shard_count);
        if (x->split_dim < -1 || x->split_dim >= ndim)
            return mcf__fail(MCF_DESERIALIZE_FAIL, "Mooncake object: axis %lu split_dim %ld not in [-1, ndim %ld)", (unsigned long)i, (long)x->split_dim, (long)ndim);
    }
    return MCF_OK;
}

MCFDEF int mcf_moon_decode_layout(const void *obj, size_t len, mcf_tensor *view, mcf_moon_layout *layout)
{
    const unsigned char *p = (const unsigned char *)obj;
    mcf_moon_layout l;
    mcf_tensor v;
    mcf_dtype dt = MCF_F32;
    uint64_t doff = 0, numel = 1, need;
    int32_t dtype = 0, ndim = 0;
    int d, rc;
    if (!obj && len) return mcf__fail(MCF_INVALID_PARAMS, "mcf_moon_decode: NULL object");
    if (!view) return mcf__fail(MCF_INVALID_PARAMS, "mcf_moon_decode: NULL output");
    memset(&l, 0, sizeof l);
    memset(&v, 0, sizeof v);
    if ((rc = mcf__moon_decode_fields(p, len, &dtype, &ndim, &l, &doff)) != MCF_OK) return rc;
    if ((rc = mcf__moon_decode_shapes(p, ndim, &l, &v)) != MCF_OK) return rc;
    if ((rc = mcf__moon_decode_axes(p, ndim, &l)) != MCF_OK) return rc;
    if (ndim > MCF_MAX_DIMS)
        return mcf__fail(MCF_NOT_SUPPORTED, "Mooncake object: %ld dimensions, this build allows MCF_MAX_DIMS=%d", (long)ndim, MCF_MAX_DIMS);
    (void)mcf_dtype_from_mooncake((int)dtype, &dt);   /* 0..14 all map */
    for (d = 0; d < ndim; d++)
        if (!mcf__mul64(numel, (uint64_t)v.shape[d], &numel)) numel = UINT64_MAX;
    need = mcf__bytes_for(dt, numel);
    if (need != (uint64_t)len - doff)
        return mcf__fail(MCF_DESERIALIZE_FAIL, "Mooncake object: data_bytes %llu do not match dtype %s local shape (%llu bytes)",
                         (unsigned long long)((uint64_t)len - doff), mcf_dtype_name(dt), (unsigned long long)need);
    l.reserved_flags = mcf__le32(p + MCF__MOON_OFF_FLAGS);
    l.reserved0 = mcf__le32(p + MCF__MOON_OFF_RES0);
    v.dtype = dt;
    v.ndim = (int)ndim;
    v.data = p + doff;
    *view = v;
    if (layout) *layout = l;
    return MCF_OK;
}

MCFDEF int mcf_moon_decode(const void *obj, size_t len, mcf_tensor *view)
{
    return mcf_moon_decode_layout(obj, len, view, NULL);
}

/* ===== [23] store API ==================================================== */
/* The mcf_store vtable, the locked in-process hash map, the layout kept in
 * safetensors __metadata__, and the Python store_file_io module's save/load
 * functions over [19] to [21]. Invariant: a store value is always a valid
 * object; tensors in files are the local shard. */

/* ---- the store vtable helpers -------------------------------------------- */

static int mcf__store_check(const mcf_store *s, const char *key, const char *who)
{
    if (!s || !s->put || !s->get || !s->release) return mcf__fail(MCF_INVALID_PARAMS, "%s: NULL store or store without put/get/release", who);
    if (!key) return mcf__fail(MCF_INVALID_PARAMS, "%s: NULL key", who);
    return MCF_OK;
}

/* Puts obj under key, with o's replication settings where the store takes them. */
static int mcf__store_put_obj(mcf_store *s, const char *key, const void *obj, size_t len, const mcf_options *o)
{
    if (o && o->replicate && s->put_replicated) return s->put_replicated(s->user, key, obj, len, o->replicate);
    return s->put(s->user, key, obj, len);
}


/* Encodes t as a FULL object into a new buffer *obj of *size bytes. */
static int mcf__store_encode(const char *key, const mcf_tensor *t, unsigned char **obj, size_t *size)
{
    mcf_moon_layout full;
    int rc;
    *obj = NULL;
    /* check first (no "ask for the size" call: it would leave a message) */
    mcf__moon_full_layout(t, &full);
    if ((rc = mcf__moon_check(t, &full)) != MCF_OK) return mcf__fail(rc, "store key \"%s\": %s", key, mcf_last_error());
    if ((*size = mcf_moon_object_size(t)) == 0)
        return mcf__fail(MCF_NOT_SUPPORTED, "store key \"%s\": tensor too large for memory on this host", key);
    *obj = (unsigned char *)mcf__malloc(*size);
    if (!*obj) return mcf__fail(MCF_INTERNAL_ERROR, "store key \"%s\": out of memory for a %llu-byte object", key, (unsigned long long)*size);
    if ((rc = mcf_moon_encode_layout(t, &full, *obj, *size, size)) != MCF_OK) {
        MCF_FREE(*obj);
        *obj = NULL;
    }
    return rc;
}

/* Encodes t and puts it under key, with o's replication settings. */
static int mcf__store_put_encoded(mcf_store *s, const char *key, const mcf_tensor *t, const mcf_options *o)
{
    unsigned char *obj;
    size_t size = 0;
    int rc = mcf__store_encode(key, t, &obj, &size);
    if (rc != MCF_OK) return rc;
    rc = mcf__store_put_obj(s, key, obj, size, o);
    MCF_FREE(obj);
    return rc;
}

MCFDEF int mcf_store_put_tensor(mcf_store *s, const char *key, const mcf_tensor *t)
{
    int rc;
    if ((rc = mcf__store_check(s, key, "mcf_store_put_tensor")) != MCF_OK) return rc;
    if (!t) return mcf__fail(MCF_INVALID_PARAMS, "mcf_store_put_tensor: NULL tensor");
    return mcf__store_put_encoded(s, key, t, NULL);
}

/* Copies a decoded view into payload memory in host byte order. */
static int mcf__tensor_from_view(const mcf_tensor *v, const char *name, const mcf_options *o, mcf_tensor *out)
{
    uint64_t n = mcf_tensor_nbytes(v);
    void *data;
    char *nm;
    if (!mcf__fits_size(n)) return mcf__fail(MCF_NOT_SUPPORTED, "\"%s\": %llu bytes do not fit in memory on this host", name, (unsigned long long)n);
    data = mcf__payload_alloc(o, (size_t)n);
    nm = mcf__strdup(name);
    if (!data || !nm) {
        mcf__payload_free(o, data);
        MCF_FREE(nm);
        return mcf__fail(MCF_INTERNAL_ERROR, "\"%s\": out of memory for %llu bytes", name, (unsigned long long)n);
    }
    if (n) memcpy(data, v->data, (size_t)n);
    if (MCF__BIG_ENDIAN) mcf__swap_units(data, (size_t)n, mcf__dtypes[v->dtype].swap);
    *out = *v;
    out->name = nm;
    out->strides = NULL;
    out->data = data;
    return MCF_OK;
}

/* Decodes the object key's get handed out; releases it when it is no
 * valid object (*obj is then NULL). */
static int mcf__store_decode(mcf_store *s, const char *key, void **obj, size_t len, mcf_tensor *view, mcf_moon_layout *l)
{
    int rc = mcf_moon_decode_layout(*obj, len, view, l);
    if (rc != MCF_OK) {
        rc = mcf__fail(rc, "store key \"%s\": %s", key, mcf_last_error());
        s->release(s->user, *obj);
        *obj = NULL;
    }
    return rc;
}

/* Gets key's object and decodes it; *obj must be released by the caller. */
static int mcf__store_fetch(mcf_store *s, const char *key, void **obj, mcf_tensor *view, mcf_moon_layout *l)
{
    size_t len = 0;
    int rc;
    *obj = NULL;
    if ((rc = s->get(s->user, key, obj, &len)) != MCF_OK) { *obj = NULL; return rc; }
    return mcf__store_decode(s, key, obj, len, view, l);
}

MCFDEF int mcf_store_get_tensor(mcf_store *s, const char *key, const mcf_options *o, mcf_tensor *out)
{
    mcf_tensor v, t;
    void *obj;
    int rc;
    if ((rc = mcf__store_check(s, key, "mcf_store_get_tensor")) != MCF_OK) return rc;
    if (!out) return mcf__fail(MCF_INVALID_PARAMS, "mcf_store_get_tensor: NULL output");
    if ((rc = mcf__store_fetch(s, key, &obj, &v, NULL)) != MCF_OK) return rc;
    rc = mcf__tensor_from_view(&v, key, o, &t);
    s->release(s->user, obj);
    if (rc == MCF_OK) *out = t;
    return rc;
}

MCFDEF void mcf_tensor_free(mcf_tensor *t, const mcf_options *o)
{
    if (!t) return;
    MCF_FREE((void *)(uintptr_t)t->name);
    MCF_FREE((void *)(uintptr_t)t->strides);
    mcf__payload_free(o, (void *)(uintptr_t)t->data);
    memset(t, 0, sizeof *t);
}

/* ---- batches and raw values ---------------------------------------------- */

/* The first failing key of a batch: its index, code and message. */
typedef struct mcf__batch_err {
    size_t first;                       /* n while none failed */
    int code;
    char msg[MCF_ERROR_MAX];
} mcf__batch_err;

static void mcf__batch_err_init(mcf__batch_err *e, size_t n)
{
    e->first = n;
    e->code = MCF_OK;
    e->msg[0] = '\0';
}

/* Records key i's result; a failure before the first one so far keeps the
 * message it left. */
static void mcf__batch_note(mcf__batch_err *e, size_t i, int rc, int *results)
{
    if (results) results[i] = rc;
    if (rc != MCF_OK && i < e->first) {
        e->first = i;
        e->code = rc;
        memcpy(e->msg, mcf__error_text, sizeof e->msg);
    }
}

/* The batch's answer: 0, or the first failing key's code and message. */
static int mcf__batch_result(const mcf__batch_err *e)
{
    return e->code == MCF_OK ? MCF_OK : mcf__fail(e->code, "%s", e->msg);
}

/* A batch hook's answer: 0 (its per-key results say what failed), with the
 * first failing key's message left as the last error. */
static int mcf__batch_hook_result(const mcf__batch_err *e)
{
    if (e->code != MCF_OK) (void)mcf__fail(MCF_OK, "%s", e->msg);
    return MCF_OK;
}

/* A failure of the whole call: every key gets rc. */
static int mcf__batch_fail_all(int *results, size_t n, int rc)
{
    size_t i;
    for (i = 0; results && i < n; i++) results[i] = rc;
    return rc;
}

/* The arguments every batch checks before trying any key. */
static int mcf__batch_check(const mcf_store *s, const char *const *keys, const void *items, size_t n, const char *who)
{
    if (!s || !s->put || !s->get || !s->release) return mcf__fail(MCF_INVALID_PARAMS, "%s: NULL store or store without put/get/release", who);
    if (n && (!keys || !items)) return mcf__fail(MCF_INVALID_PARAMS, "%s: NULL %s array for %llu keys", who, keys ? "tensor" : "key", (unsigned long long)n);
    return MCF_OK;
}

static int mcf__batch_null_key(size_t i, const char *who)
{
    return mcf__fail(MCF_INVALID_PARAMS, "%s: key %llu is NULL", who, (unsigned long long)i);
}

/* Parallel arrays of the keys a batch hands to a store hook: key, object,
 * length, the caller's index, the hook's result. */
typedef struct mcf__batch {
    const char **keys;
    void **objs;
    size_t *lens, *idx;
    int *res;
    size_t n;
} mcf__batch;

static void mcf__batch_free(mcf__batch *b)
{
    MCF_FREE((void *)b->keys);
    MCF_FREE(b->objs);
    MCF_FREE(b->lens);
    MCF_FREE(b->idx);
    MCF_FREE(b->res);
    memset(b, 0, sizeof *b);
}

/* Room for cap keys, zeroed; 0 (and nothing allocated) when out of memory. */
static int mcf__batch_alloc(mcf__batch *b, size_t cap)
{
    memset(b, 0, sizeof *b);
    b->keys = (const char **)mcf__calloc(cap, sizeof *b->keys);
    b->objs = (void **)mcf__calloc(cap, sizeof *b->objs);
    b->lens = (size_t *)mcf__calloc(cap, sizeof *b->lens);
    b->idx = (size_t *)mcf__calloc(cap, sizeof *b->idx);
    b->res = (int *)mcf__calloc(cap, sizeof *b->res);
    if (b->keys && b->objs && b->lens && b->idx && b->res) return 1;
    mcf__batch_free(b);
    return 0;
}

/* The arrays of a batch for n keys; out of memory fails every key. */
static int mcf__batch_start(mcf__batch *b, size_t n, int *results, const char *who)
{
    if (mcf__batch_alloc(b, n)) return MCF_OK;
    return mcf__batch_fail_all(results, n, mcf__fail(MCF_INTERNAL_ERROR, "%s: out of memory for %llu keys", who, (unsigned long long)n));
}

/* put_tensors through the store's put_batch: every object encoded first,
 * then one call with those that encoded. */
static int mcf__put_tensors_hook(mcf_store *s, const char *const *keys, const mcf_tensor *t, size_t n, int *results, mcf__batch_err *e)
{
    static const char who[] = "mcf_store_put_tensors";
    mcf__batch b;
    size_t i, j;
    int rc;
    if ((rc = mcf__batch_start(&b, n, results, who)) != MCF_OK) return rc;
    for (i = 0; i < n; i++) {
        unsigned char *obj = NULL;
        size_t size = 0;
        if (!keys[i]) { mcf__batch_note(e, i, mcf__batch_null_key(i, who), results); continue; }
        if ((rc = mcf__store_encode(keys[i], &t[i], &obj, &size)) != MCF_OK) {
            mcf__batch_note(e, i, rc, results);
            continue;
        }
        b.keys[b.n] = keys[i];
        b.objs[b.n] = obj;
        b.lens[b.n] = size;
        b.idx[b.n++] = i;
    }
    rc = b.n ? s->put_batch(s->user, b.keys, (const void *const *)b.objs, b.lens, b.n, NULL, b.res) : MCF_OK;
    for (j = 0; j < b.n; j++) {
        mcf__batch_note(e, b.idx[j], rc < 0 ? rc : b.res[j], results);
        MCF_FREE(b.objs[j]);
    }
    mcf__batch_free(&b);
    return mcf__batch_result(e);
}

MCFDEF int mcf_store_put_tensors(mcf_store *s, const char *const *keys, const mcf_tensor *t, size_t n, int *results)
{
    static const char who[] = "mcf_store_put_tensors";
    mcf__batch_err e;
    size_t i;
    int rc;
    if ((rc = mcf__batch_check(s, keys, t, n, who)) != MCF_OK) return mcf__batch_fail_all(results, n, rc);
    mcf__batch_err_init(&e, n);
    if (s->put_batch) return mcf__put_tensors_hook(s, keys, t, n, results, &e);
    for (i = 0; i < n; i++)   /* one object at a time: encode, put, free */
        mcf__batch_note(&e, i, keys[i] ? mcf__store_put_encoded(s, keys[i], &t[i], NULL) : mcf__batch_null_key(i, who), results);
    return mcf__batch_result(&e);
}

/* get_tensors through the store's get_batch. */
static int mcf__get_tensors_hook(mcf_store *s, const char *const *keys, const mcf_options *o, mcf_tensor *out, size_t n,
                                 int *results, mcf__batch_err *e)
{
    static const char who[] = "mcf_store_get_tensors";
    mcf__batch b;
    size_t i, j;
    int rc;
    if ((rc = mcf__batch_start(&b, n, results, who)) != MCF_OK) return rc;
    for (i = 0; i < n; i++) {
        if (!keys[i]) { mcf__batch_note(e, i, mcf__batch_null_key(i, who), results); continue; }
        b.keys[b.n] = keys[i];
        b.idx[b.n++] = i;
    }
    rc = b.n ? s->get_batch(s->user, b.keys, b.n, b.objs, b.lens, b.res) : MCF_OK;
    for (j = 0; j < b.n; j++) {
        mcf_tensor v;
        int krc = rc < 0 ? rc : b.res[j];
        if (krc == MCF_OK && (krc = mcf__store_decode(s, b.keys[j], &b.objs[j], b.lens[j], &v, NULL)) == MCF_OK) {
            krc = mcf__tensor_from_view(&v, b.keys[j], o, &out[b.idx[j]]);
            s->release(s->user, b.objs[j]);
        }
        mcf__batch_note(e, b.idx[j], krc, results);
    }
    mcf__batch_free(&b);
    return mcf__batch_result(e);
}

MCFDEF int mcf_store_get_tensors(mcf_store *s, const char *const *keys, const mcf_options *o, mcf_tensor *out, size_t n,
                                 int *results)
{
    static const char who[] = "mcf_store_get_tensors";
    mcf__batch_err e;
    size_t i;
    int rc;
    if (out) memset(out, 0, n * sizeof *out);
    if ((rc = mcf__batch_check(s, keys, out, n, who)) != MCF_OK) return mcf__batch_fail_all(results, n, rc);
    mcf__batch_err_init(&e, n);
    if (s->get_batch) return mcf__get_tensors_hook(s, keys, o, out, n, results, &e);
    for (i = 0; i < n; i++)
        mcf__batch_note(&e, i, keys[i] ? mcf_store_get_tensor(s, keys[i], o, &out[i]) : mcf__batch_null_key(i, who), results);
    return mcf__batch_result(&e);
}

MCFDEF int mcf_store_put_bytes(mcf_store *s, const char *key, const void *data, size_t len)
{
    int rc;
    if ((rc = mcf__store_check(s, key, "mcf_store_put_bytes")) != MCF_OK) return rc;
    if (!data && len) return mcf__fail(MCF_INVALID_PARAMS, "mcf_store_put_bytes: key \"%s\": NULL data for %llu bytes", key, (unsigned long long)len);
    return s->put(s->user, key, data ? data : "", len);
}

MCFDEF int mcf_store_get_into(mcf_store *s, const char *key, void *dst, size_t cap, size_t *len)
{
    void *obj = NULL;
    size_t size = 0;
    int rc;
    if ((rc = mcf__store_check(s, key, "mcf_store_get_into")) != MCF_OK) return rc;
    if (!len || (!dst && cap)) return mcf__fail(MCF_INVALID_PARAMS, "mcf_store_get_into: key \"%s\": NULL %s", key, len ? "buffer" : "length");
    if (s->get_into) return s->get_into(s->user, key, dst, cap, len);
    if ((rc = s->get(s->user, key, &obj, &size)) != MCF_OK) return rc;
    if (size > cap) {
        s->release(s->user, obj);
        *len = size;
        return mcf__fail(MCF_BUFFER_OVERFLOW, "store key \"%s\": its %llu-byte value does not fit the %llu-byte buffer",
                         key, (unsigned long long)size, (unsigned long long)cap);
    }
    if (size) memcpy(dst, obj, size);
    s->release(s->user, obj);
    *len = size;
    return MCF_OK;
}

/* ---- the memory store: chained hash map under one lock per store -------- */
typedef struct mcf__mstore_node {
    struct mcf__mstore_node *next;
    char *key;
    unsigned char *obj;
    size_t len;
} mcf__mstore_node;

typedef struct mcf__mstore {
    mcf_store vt;                       /* first: the handle is the store */
    mcf__mutex lock;
    mcf__mstore_node **buckets;
    size_t nbuckets, count;
} mcf__mstore;

static mcf__mstore_node **mcf__mstore_slot(mcf__mstore *m, const char *key)
{
    mcf__mstore_node **pp = &m->buckets[mcf__hash(key) & (m->nbuckets - 1)];
    while (*pp && strcmp((*pp)->key, key) != 0) pp = &(*pp)->next;
    return pp;
}

/* Doubles the table when it gets crowded; failure just keeps chains longer. */
static void mcf__mstore_grow_locked(mcf__mstore *m)
{
    size_t n = m->nbuckets * 2, i;
    mcf__mstore_node **nb;
    if (m->count < 2 * m->nbuckets || n > SIZE_MAX / sizeof *nb) return;
    nb = (mcf__mstore_node **)mcf__calloc(n, sizeof *nb);
    if (!nb) return;
    for (i = 0; i < m->nbuckets; i++) {
        mcf__mstore_node *e = m->buckets[i], *next;
        for (; e; e = next) {
            size_t h = mcf__hash(e->key) & (n - 1);
            next = e->next;
            e->next = nb[h];
            nb[h] = e;
        }
    }
    MCF_FREE(m->buckets);
    m->buckets = nb;
    m->nbuckets = n;
}

/* A node holding a copy of obj under key, made outside the lock; NULL when
 * out of memory. */
static mcf__mstore_node *mcf__mstore_node_new(const char *key, const void *obj, size_t len)
{
    mcf__mstore_node *n = (mcf__mstore_node *)mcf__calloc(1, sizeof *n);
    if (!n) return NULL;
    n->key = mcf__strdup(key);
    n->obj = (unsigned char *)mcf__malloc(len);
    if (!n->key || !n->obj) {
        MCF_FREE(n->key);
        MCF_FREE(n->obj);
        MCF_FREE(n);
        return NULL;
    }
    if (len) memcpy(n->obj, obj, len);
    n->len = len;
    return n;
}

static void mcf__mstore_node_free(mcf__mstore_node *n)
{
    if (!n) return;
    MCF_FREE(n->key);
    MCF_FREE(n->obj);
    MCF_FREE(n);
}

/* Links n in, unless its key exists: Mooncake's put of an existing key
 * keeps the stored value and succeeds. Returns n when it was not linked
 * (the caller frees it outside the lock), else NULL. */
static mcf__mstore_node *mcf__mstore_insert_locked(mcf__mstore *m, mcf__mstore_node *n)
{
    mcf__mstore_node **slot = mcf__mstore_slot(m, n->key);
    if (*slot) return n;
    *slot = n;
    m->count++;
    mcf__mstore_grow_locked(m);
    return NULL;
}

static int mcf__mstore_oom(const char *key, size_t len)
{
    return mcf__fail(MCF_INTERNAL_ERROR, "memory store: out of memory for key \"%s\" (%llu bytes)", key, (unsigned long long)len);
}

static int mcf__mstore_put(void *user, const char *key, const void *obj, size_t len)
{
    mcf__mstore *m = (mcf__mstore *)user;
    mcf__mstore_node *n = mcf__mstore_node_new(key, obj, len);
    if (!n) return mcf__mstore_oom(key, len);
    mcf__lock(&m->lock);
    n = mcf__mstore_insert_locked(m, n);
    mcf__unlock(&m->lock);
    mcf__mstore_node_free(n);
    return MCF_OK;
}

/* Copies made outside the lock, then all linked in under it once. */
static int mcf__mstore_put_batch(void *user, const char *const *keys, const void *const *objs, const size_t *lens, size_t n,
                                 const mcf_replicate *replicate, int *results)
{
    mcf__mstore *m = (mcf__mstore *)user;
    mcf__mstore_node **nodes = (mcf__mstore_node **)mcf__calloc(n, sizeof *nodes);
    mcf__batch_err e;
    size_t i;
    (void)replicate;
    if (!nodes) return mcf__fail(MCF_INTERNAL_ERROR, "memory store: out of memory for a batch of %llu keys", (unsigned long long)n);
    mcf__batch_err_init(&e, n);
    for (i = 0; i < n; i++) {
        nodes[i] = mcf__mstore_node_new(keys[i], objs[i], lens[i]);
        mcf__batch_note(&e, i, nodes[i] ? MCF_OK : mcf__mstore_oom(keys[i], lens[i]), results);
    }
    mcf__lock(&m->lock);
    for (i = 0; i < n; i++)
        if (nodes[i]) nodes[i] = mcf__mstore_insert_locked(m, nodes[i]);
    mcf__unlock(&m->lock);
    for (i = 0; i < n; i++) mcf__mstore_node_free(nodes[i]);
    MCF_FREE(nodes);
    return mcf__batch_hook_result(&e);
}

/* Under the lock: a private copy of key's value (get's answer). */
static int mcf__mstore_copy_locked(mcf__mstore *m, const char *key, void **obj, size_t *len)
{
    mcf__mstore_node *n = *mcf__mstore_slot(m, key);
    unsigned char *copy;
    if (!n) return mcf__fail(MCF_OBJECT_NOT_FOUND, "memory store: no key \"%s\"", key);
    copy = (unsigned char *)mcf__malloc(n->len);
    if (!copy) return mcf__fail(MCF_INTERNAL_ERROR, "memory store: out of memory copying key \"%s\" (%llu bytes)", key, (unsigned long long)n->len);
    if (n->len) memcpy(copy, n->obj, n->len);
    *obj = copy;
    *len = n->len;
    return MCF_OK;
}

static int mcf__mstore_get(void *user, const char *key, void **obj, size_t *len)
{
    mcf__mstore *m = (mcf__mstore *)user;
    int rc;
    mcf__lock(&m->lock);
    rc = mcf__mstore_copy_locked(m, key, obj, len);
    mcf__unlock(&m->lock);
    return rc;
}

static int mcf__mstore_get_batch(void *user, const char *const *keys, size_t n, void **objs, size_t *lens, int *results)
{
    mcf__mstore *m = (mcf__mstore *)user;
    mcf__batch_err e;
    size_t i;
    mcf__batch_err_init(&e, n);
    mcf__lock(&m->lock);
    for (i = 0; i < n; i++) {
        objs[i] = NULL;
        lens[i] = 0;
        mcf__batch_note(&e, i, mcf__mstore_copy_locked(m, keys[i], &objs[i], &lens[i]), results);
    }
    mcf__unlock(&m->lock);
    return mcf__batch_hook_result(&e);
}

/* Copies straight from the stored value into dst (no private copy). */
static int mcf__mstore_get_into(void *user, const char *key, void *dst, size_t cap, size_t *len)
{
    mcf__mstore *m = (mcf__mstore *)user;
    mcf__mstore_node *n;
    size_t size = 0;
    int found;
    mcf__lock(&m->lock);
    n = *mcf__mstore_slot(m, key);
    found = n != NULL;
    if (n) {
        size = n->len;
        if (size <= cap && size) memcpy(dst, n->obj, size);
    }
    mcf__unlock(&m->lock);
    if (!found) return mcf__fail(MCF_OBJECT_NOT_FOUND, "memory store: no key \"%s\"", key);
    *len = size;
    if (size > cap)
        return mcf__fail(MCF_BUFFER_OVERFLOW, "memory store: key \"%s\": its %llu-byte value does not fit the %llu-byte buffer",
                         key, (unsigned long long)size, (unsigned long long)cap);
    return MCF_OK;
}

static void mcf__mstore_release(void *user, void *obj) { (void)user; MCF_FREE(obj); }

static int mcf__mstore_remove(void *user, const char *key)
{
    mcf__mstore *m = (mcf__mstore *)user;
    mcf__mstore_node **slot, *n;
    mcf__lock(&m->lock);
    slot = mcf__mstore_slot(m, key);
    n = *slot;
    if (n) { *slot = n->next; m->count--; }
    mcf__unlock(&m->lock);
    if (!n) return mcf__fail(MCF_OBJECT_NOT_FOUND, "memory store: no key \"%s\"", key);
    mcf__mstore_node_free(n);
    return MCF_OK;
}

MCFDEF mcf_store *mcf_memory_store_create(void)
{
    mcf__mstore *m = (mcf__mstore *)mcf__calloc(1, sizeof *m);
    if (m) {
        m->nbuckets = 64;
        m->buckets = (mcf__mstore_node **)mcf__calloc(m->nbuckets, sizeof *m->buckets);
    }
    if (!m || !m->buckets) {
        if (m) MCF_FREE(m);
        (void)mcf__fail(MCF_INTERNAL_ERROR, "mcf_memory_store_create: out of memory");
        return NULL;
    }
    if (!mcf__mutex_init(&m->lock)) {
        MCF_FREE(m->buckets);
        MCF_FREE(m);
        (void)mcf__fail(MCF_INTERNAL_ERROR, "mcf_memory_store_create: cannot create the store's lock");
        return NULL;
    }
    m->vt.user = m;
    m->vt.put = mcf__mstore_put;
    m->vt.get = mcf__mstore_get;
    m->vt.release = mcf__mstore_release;
    m->vt.remove = mcf__mstore_remove;
    m->vt.get_into = mcf__mstore_get_into;
    m->vt.put_batch = mcf__mstore_put_batch;
    m->vt.get_batch = mcf__mstore_get_batch;
    return &m->vt;
}

MCFDEF void mcf_memory_store_destroy(mcf_store *s)
{
    mcf__mstore *m = (mcf__mstore *)s;
    size_t i;
    if (!m) return;
    for (i = 0; i < m->nbuckets; i++) {
        mcf__mstore_node *n = m->buckets[i], *next;
        for (; n; n = next) { next = n->next; mcf__mstore_node_free(n); }
    }
    mcf__mutex_destroy(&m->lock);
    MCF_FREE(m->buckets);
    MCF_FREE(m);
}

/* ---- layout metadata in safetensors __metadata__ ------------------------- */
#define MCF__MK_LAYOUT "mooncake.layout"
#define MCF__MK_GLOBAL "mooncake.global_shape"
#define MCF__MK_AXES "mooncake.axes"
#define MCF__MK_RESERVED "mooncake.reserved"

/* Appends "[a,b,...]" to b. */
static void mcf__buf_put_ints(mcf__buf *b, const int64_t *v, int n)
{
    int i;
    mcf__buf_putc(b, '[');
    for (i = 0; i < n; i++) {
        if (i) mcf__buf_putc(b, ',');
        if (v[i] < 0) { mcf__buf_putc(b, '-'); mcf__buf_put_u64(b, (uint64_t)0 - (uint64_t)v[i]); }
        else mcf__buf_put_u64(b, (uint64_t)v[i]);
    }
    mcf__buf_putc(b, ']');
}

/* Parses "[i,i,...]" (spaces allowed) at *pp into v[0..max); advances *pp. */
static int mcf__parse_ints(const char **pp, int64_t *v, int max, int *count)
{
    const char *p = *pp;
    int n = 0;
    while (*p == ' ') p++;
    if (*p++ != '[') return 0;
    while (*p == ' ') p++;
    if (*p == ']') { *pp = p + 1; *count = 0; return 1; }
    for (;;) {
        uint64_t mag = 0;
        int neg = 0, digits = 0;
        while (*p == ' ') p++;
        if (*p == '-') { neg = 1; p++; }
        while (*p >= '0' && *p <= '9') {
            if (mag > (UINT64_MAX - 9) / 10) return 0;
            mag = mag * 10 + (uint64_t)(*p++ - '0');
            digits++;
        }
        if (!digits || n == max || mag > (uint64_t)INT64_MAX + (uint64_t)neg) return 0;
        v[n++] = neg ? (mag == (uint64_t)INT64_MAX + 1 ? INT64_MIN : -(int64_t)mag) : (int64_t)mag;
        while (*p == ' ') p++;
        if (*p == ']') break;
        if (*p++ != ',') return 0;
    }
    *pp = p + 1;
    *count = n;
    return 1;
}

static int mcf__fits_i32(int64_t v) { return v >= INT32_MIN && v <= INT32_MAX; }

/* Parses "[[kind,axis_index,shard_rank,shard_count,split_dim,reserved0,
 * reserved1],...]" (spaces allowed) into l's axes; 0 if malformed. */
static int mcf__parse_axes(const char *p, mcf_moon_layout *l)
{
    int64_t a[7];
    int n, i;
    while (*p == ' ') p++;
    if (*p++ != '[') return 0;
    while (*p == ' ') p++;
    if (*p == ']') p++;
    else for (;;) {
        mcf_moon_axis *x;
        if (l->axis_count == MCF_MOON_MAX_AXES || !mcf__parse_ints(&p, a, 7, &n) || n != 7) return 0;
        for (i = 0; i < 6; i++)
            if (!mcf__fits_i32(a[i])) return 0;
        x = &l->axes[l->axis_count++];
        x->kind = (int32_t)a[0];
        x->axis_index = (int32_t)a[1];
        x->shard_rank = (int32_t)a[2];
        x->shard_count = (int32_t)a[3];
        x->split_dim = (int32_t)a[4];
        x->reserved0 = (int32_t)a[5];
        x->reserved1 = a[6];
        while (*p == ' ') p++;
        if (*p == ']') {
            p++;
            break;
        }
        if (*p++ != ',') return 0;
    }
    while (*p == ' ') p++;
    return *p == '\0';
}

/* Rebuilds a SHARD layout from a file's metadata for an entry of rank ndim.
 * *have = 0 when the file carries no layout (a plain FULL tensor). */
static int mcf__layout_from_meta(const mcf_reader *r, int ndim, mcf_moon_layout *l, int *have)
{
    const char *kind = mcf_metadata(r, MCF__MK_LAYOUT), *g, *ax, *res, *p;
    int64_t vals[MCF_MOON_MAX_DIMS], rv[2];
    int n, i;
    *have = 0;
    if (!kind) return MCF_OK;
    memset(l, 0, sizeof *l);
    if (strcmp(kind, "FULL") == 0) return MCF_OK;
    if (strcmp(kind, "SHARD") != 0)
        return mcf__fail(MCF_DESERIALIZE_FAIL, "%s: __metadata__ \"%s\" is \"%s\" (expected \"SHARD\" or \"FULL\")", r->name, MCF__MK_LAYOUT, kind);
    l->kind = MCF_MOON_SHARD;
    g = mcf_metadata(r, MCF__MK_GLOBAL);
    p = g;
    if (!g || !mcf__parse_ints(&p, vals, MCF_MOON_MAX_DIMS, &n) || *p || n != ndim)
        return mcf__fail(MCF_DESERIALIZE_FAIL, "%s: __metadata__ \"%s\" must be a list of %d integers, got %s%s%s", r->name, MCF__MK_GLOBAL, ndim,
                         g ? "\"" : "", g ? g : "nothing", g ? "\"" : "");
    for (i = 0; i < MCF_MOON_MAX_DIMS; i++) l->global_shape[i] = i < n ? vals[i] : -1;
    ax = mcf_metadata(r, MCF__MK_AXES);
    if (ax && !mcf__parse_axes(ax, l))
        return mcf__fail(MCF_DESERIALIZE_FAIL, "%s: __metadata__ \"%s\" must be a list of at most %d lists of 7 integers, got \"%s\"",
                         r->name, MCF__MK_AXES, MCF_MOON_MAX_AXES, ax);
    res = mcf_metadata(r, MCF__MK_RESERVED);
    p = res;
    if (res && (!mcf__parse_ints(&p, rv, 2, &n) || *p || n != 2 || rv[0] < 0 || rv[0] > (int64_t)UINT32_MAX || rv[1] < 0 || rv[1] > (int64_t)UINT32_MAX))
        return mcf__fail(MCF_DESERIALIZE_FAIL, "%s: __metadata__ \"%s\" must be [reserved_flags,reserved0] (two u32), got \"%s\"", r->name, MCF__MK_RESERVED, res);
    if (res) {
        l->reserved_flags = (uint32_t)rv[0];
        l->reserved0 = (uint32_t)rv[1];
    }
    *have = 1;
    return MCF_OK;
}

/* ---- store <-> file: the Python store_file_io module's functions -------- */
enum { MCF__KIND_TENSOR = 0, MCF__KIND_SAFETENSOR = 1 };

static int mcf__parse_kind(const char *k, int *kind)
{
    static const char *const names[] = {"tensor", "generic", "file", "kv_cache", "kvcache", "kv",
                                        "safetensor", "safetensors", "safe_tensors"};
    size_t i;
    *kind = MCF__KIND_TENSOR;
    if (!k) return MCF_OK;
    for (i = 0; i < sizeof names / sizeof names[0]; i++)
        if (mcf__name_is(k, names[i])) {
            if (i >= 6) *kind = MCF__KIND_SAFETENSOR;
            return MCF_OK;
        }
    return mcf__fail(MCF_INVALID_PARAMS, "unknown artifact kind \"%s\" (valid: tensor, generic, file, kv_cache, kvcache, kv, "
                     "safetensor, safetensors, safe_tensors)", k);
}

/* The options a store <-> file call hands to [19] to [21]: the caller's,
 * with the format set. */
static void mcf__store_file_options(const mcf_options *o, const char *format, mcf_options *out)
{
    if (o) *out = *o;
    else memset(out, 0, sizeof *out);
    out->format = format;
}

/* The layout values of a SHARD object for __metadata__, as four strings
 * one after another in b (each NUL-terminated; reserved empty when zero):
 * "SHARD", the global shape, the axes, the reserved fields. */
static void mcf__layout_meta_values(mcf__buf *b, const mcf_moon_layout *l, int ndim)
{
    int64_t a[7], rv[2];
    uint32_t i;
    mcf__buf_puts(b, "SHARD");
    mcf__buf_putc(b, 0);
    mcf__buf_put_ints(b, l->global_shape, ndim);
    mcf__buf_putc(b, 0);
    mcf__buf_putc(b, '[');
    for (i = 0; i < l->axis_count; i++) {
        a[0] = l->axes[i].kind;
        a[1] = l->axes[i].axis_index;
        a[2] = l->axes[i].shard_rank;
        a[3] = l->axes[i].shard_count;
        a[4] = l->axes[i].split_dim;
        a[5] = l->axes[i].reserved0;
        a[6] = l->axes[i].reserved1;
        if (i) mcf__buf_putc(b, ',');
        mcf__buf_put_ints(b, a, 7);
    }
    mcf__buf_putc(b, ']');
    mcf__buf_putc(b, 0);
    if (l->reserved_flags || l->reserved0) {
        rv[0] = l->reserved_flags;
        rv[1] = l->reserved0;
        mcf__buf_put_ints(b, rv, 2);
    }
    mcf__buf_putc(b, 0);
}

/* The metadata pairs a safetensors save of a SHARD object writes: the
 * caller's (none may start with "mooncake."), then the layout keys. The
 * values live in *values; *pairs (MCF_MALLOC) is the NULL-terminated list. */
static int mcf__layout_to_meta(const mcf_moon_layout *l, int ndim, const char *const *user, const char *key, const char *who,
                               mcf__buf *values, const char ***pairs)
{
    static const char *const keys[4] = {MCF__MK_LAYOUT, MCF__MK_GLOBAL, MCF__MK_AXES, MCF__MK_RESERVED};
    const char *v;
    size_t nuser = 0, np = 0, i;
    int nkeys = l->reserved_flags || l->reserved0 ? 4 : 3, k;
    while (user && user[2 * nuser] && user[2 * nuser + 1]) {
        if (strncmp(user[2 * nuser], "mooncake.", 9) == 0)
            return mcf__fail(MCF_INVALID_PARAMS, "%s: metadata key \"%s\" is reserved for the Mooncake layout of store key \"%s\"", who, user[2 * nuser], key);
        nuser++;
    }
    mcf__layout_meta_values(values, l, ndim);
    *pairs = (const char **)mcf__calloc(2 * nuser + 9, sizeof **pairs);
    if (!*pairs || values->failed) return mcf__fail(MCF_INTERNAL_ERROR, "%s: out of memory", who);
    for (i = 0; i < 2 * nuser; i++) (*pairs)[np++] = user[i];
    for (k = 0, v = (const char *)values->data; k < nkeys; k++, v += strlen(v) + 1) {
        (*pairs)[np++] = keys[k];
        (*pairs)[np++] = v;
    }
    (*pairs)[np] = NULL;
    return MCF_OK;
}

/* The format a store save writes: safetensors when forced, else
 * options.format, else by the file name's suffix. */
static int mcf__store_save_format(const char *file_name, const mcf_options *o, int force_st, int *fmt)
{
    mcf_url u;
    int rc;
    *fmt = MCF__FMT_SAFETENSORS;
    if (force_st) return MCF_OK;
    if ((rc = mcf__parse_format(o ? o->format : NULL, fmt)) != MCF_OK || *fmt != MCF__FMT_AUTO) return rc;
    if ((rc = mcf_url_parse(file_name, o ? o->filesystem : NULL, &u)) != MCF_OK) return rc;
    *fmt = mcf__fmt_of_path(u.path);
    mcf_url_free(&u);
    return MCF_OK;
}

static int mcf__store_save(mcf_store *s, const char *key, const char *file_name, const mcf_options *o, int force_st, const char *who)
{
    mcf_options oo;
    mcf_tensor v;
    mcf_moon_layout l;
    mcf__buf meta;
    const char **pairs = NULL;
    void *obj = NULL, *host = NULL;
    int fmt, rc;
    if ((rc = mcf__store_check(s, key, who)) != MCF_OK) return rc;
    if (!file_name) file_name = key;
    if ((rc = mcf__store_save_format(file_name, o, force_st, &fmt)) != MCF_OK) return rc;
    rc = mcf__store_fetch(s, key, &obj, &v, &l);
    if (rc == MCF_OBJECT_NOT_FOUND)
        return mcf__fail(MCF_FILE_NOT_FOUND, "%s: store key \"%s\" does not exist (nothing written to \"%s\")", who, key, file_name);
    if (rc != MCF_OK) return rc;
    mcf__store_file_options(o, fmt == MCF__FMT_SAFETENSORS ? "safetensors" : "torch", &oo);
    memset(&meta, 0, sizeof meta);
    if (MCF__BIG_ENDIAN && mcf_tensor_nbytes(&v) > 0) {
        /* the object holds little-endian bytes; [21] wants host order */
        mcf_tensor h;
        if ((rc = mcf__tensor_from_view(&v, key, NULL, &h)) != MCF_OK) goto done;
        MCF_FREE((void *)(uintptr_t)h.name);
        host = (void *)(uintptr_t)h.data;
        v.data = host;
    }
    if (fmt == MCF__FMT_TORCH) {
        v.name = "";                     /* bare tensor, like torch.save(t) */
    } else {
        v.name = o && o->tensor_name ? o->tensor_name : key;
        if (l.kind == MCF_MOON_SHARD && (rc = mcf__layout_to_meta(&l, v.ndim, o ? o->metadata : NULL, key, who, &meta, &pairs)) != MCF_OK)
            goto done;
        if (pairs) oo.metadata = pairs;
    }
    rc = mcf_save(file_name, &v, 1, &oo);
done:
    MCF_FREE(pairs);
    mcf__buf_free(&meta);
    mcf__payload_free(NULL, host);
    s->release(s->user, obj);
    return rc;
}

/* The entry a load takes: tensor_name, key, basename without
 * extension, the only entry (warning), else OBJECT_NOT_FOUND with the names. */
static int mcf__pick_entry(mcf_reader *r, const char *tensor_name, const char *key, const char *file_name,
                           const mcf_options *o, int *warn)
{
    char names[600];
    size_t k = 0, i;
    int idx, rc;
    mcf_url u;
    *warn = 0;
    if (r->count == 1 && r->entries[0].name[0] == '\0') return 0;   /* bare torch tensor */
    if (tensor_name && (idx = mcf__index_find(r, tensor_name)) >= 0) return idx;
    if ((idx = mcf__index_find(r, key)) >= 0) return idx;
    /* the file opened under this name, so only memory can fail here */
    if ((rc = mcf_url_parse(file_name, o ? o->filesystem : NULL, &u)) != MCF_OK) return rc;
    {
        char *dot = strrchr(u.basename, '.');
        if (dot && dot != u.basename) *dot = '\0';
        idx = mcf__index_find(r, u.basename);
        mcf_url_free(&u);
        if (idx >= 0) return idx;
    }
    if (r->count == 1) { *warn = 1; return 0; }
    names[0] = '\0';
    for (i = 0; i < r->count && k + 4 < sizeof names; i++) {
        int w = snprintf(names + k, sizeof names - k, "%s\"%s\"", i ? ", " : "", r->entries[i].name);
        if (w < 0) break;
        k += (size_t)w;
    }
    if (k >= sizeof names) memcpy(names + sizeof names - 4, "...", 4);
    return mcf__fail(MCF_OBJECT_NOT_FOUND, "%s: no tensor for store key \"%s\" (tried %s%s%sthe key and the file's base name); available: %s",
                     r->name, key, tensor_name ? "tensor_name \"" : "", tensor_name ? tensor_name : "", tensor_name ? "\", " : "",
                     r->count ? names : "none");
}

/* Entry idx of r as a tensor t (no data) with the layout its file keeps,
 * checked as a Mooncake object. */
static int mcf__store_load_layout(mcf_reader *r, size_t idx, const char *key, mcf_tensor *t, mcf_moon_layout *l)
{
    int rc, have = 0;
    if ((rc = mcf_entry(r, idx, t)) != MCF_OK) return rc;
    if (strcmp(r->format, "safetensors") == 0 && (rc = mcf__layout_from_meta(r, t->ndim, l, &have)) != MCF_OK) return rc;
    if (!have) mcf__moon_full_layout(t, l);
    t->data = r;   /* any non-NULL pointer: the checks read no element */
    if ((rc = mcf__moon_check(t, l)) != MCF_OK)
        return mcf__fail(rc, "%s: tensor \"%s\" for store key \"%s\": %s", r->name, t->name, key, mcf_last_error());
    return MCF_OK;
}

/* Reads entry idx of r (tensor t, layout l) straight into a new object
 * buffer (one copy of the tensor) and puts it under key; data, when not
 * NULL, also receives the elements in host order. */
static int mcf__store_put_entry(mcf_store *s, const char *key, mcf_reader *r, size_t idx, const mcf_tensor *t,
                                const mcf_moon_layout *l, const mcf_options *o, void *data)
{
    uint64_t n = mcf_tensor_nbytes(t);
    size_t size = mcf_moon_object_size(t);
    unsigned char *obj = (unsigned char *)mcf__malloc(size);
    int rc;
    if (!obj) return mcf__fail(MCF_INTERNAL_ERROR, "%s: out of memory for tensor \"%s\"", r->name, t->name);
    rc = mcf_read(r, idx, obj + MCF_MOON_HEADER_SIZE, (size_t)n);
    if (rc == MCF_OK && data && n) memcpy(data, obj + MCF_MOON_HEADER_SIZE, (size_t)n);
    if (rc == MCF_OK) {
        mcf__moon_put_header(obj, t, l, n);
        if (MCF__BIG_ENDIAN) mcf__swap_units(obj + MCF_MOON_HEADER_SIZE, (size_t)n, mcf__dtypes[t->dtype].swap);
        if ((rc = mcf__store_put_obj(s, key, obj, size, o)) != MCF_OK)
            rc = mcf__fail(rc, "%s: tensor \"%s\" for store key \"%s\": %s", r->name, t->name, key, mcf_last_error());
    }
    MCF_FREE(obj);
    return rc;
}

static int mcf__store_load(mcf_store *s, const char *key, const char *file_name, const mcf_options *o, mcf_tensor *out,
                           int force_st, const char *who)
{
    mcf_options oo;
    mcf_reader *r = NULL;
    mcf_tensor t;
    mcf_moon_layout l;
    uint64_t n;
    void *data = NULL;
    char *nm = NULL;
    int fmt = MCF__FMT_SAFETENSORS, idx, warn = 0, rc;
    if (!file_name) return mcf__fail(MCF_INVALID_PARAMS, "%s: NULL file name", who);
    if (!key) key = file_name;
    if ((rc = mcf__store_check(s, key, who)) != MCF_OK) return rc;
    if (!force_st && (rc = mcf__parse_format(o ? o->format : NULL, &fmt)) != MCF_OK) return rc;
    mcf__store_file_options(o, fmt == MCF__FMT_SAFETENSORS ? "safetensors" : fmt == MCF__FMT_TORCH ? "torch" : NULL, &oo);
    if ((rc = mcf_open(file_name, &oo, &r)) != MCF_OK) return rc;
    idx = mcf__pick_entry(r, o ? o->tensor_name : NULL, key, file_name, o, &warn);
    if (idx < 0) {
        rc = idx;
        goto done;
    }
    if ((rc = mcf__store_load_layout(r, (size_t)idx, key, &t, &l)) != MCF_OK) goto done;
    n = mcf_tensor_nbytes(&t);
    if (mcf_moon_object_size(&t) == 0) {
        rc = mcf__fail(MCF_NOT_SUPPORTED, "%s: tensor \"%s\" (%llu bytes) does not fit in memory on this host", r->name, t.name, (unsigned long long)n);
        goto done;
    }
    if (out) {
        data = mcf__payload_alloc(o, (size_t)n);
        nm = mcf__strdup(key);
        if (!data || !nm) {
            rc = mcf__fail(MCF_INTERNAL_ERROR, "%s: out of memory for tensor \"%s\"", r->name, t.name);
            goto done;
        }
    }
    if ((rc = mcf__store_put_entry(s, key, r, (size_t)idx, &t, &l, o, data)) != MCF_OK) goto done;
    if (warn) (void)mcf__fail(MCF_OK, "warning: %s: no tensor named \"%s\"%s%s%s or after the file's base name; took the only entry \"%s\"",
                              r->name, key, o && o->tensor_name ? " or \"" : "", o && o->tensor_name ? o->tensor_name : "",
                              o && o->tensor_name ? "\"" : "", t.name);
    if (out) {
        t.name = nm;
        t.strides = NULL;
        t.data = data;
        *out = t;
        data = NULL;
        nm = NULL;
    }
done:
    mcf__payload_free(o, data);
    MCF_FREE(nm);
    mcf_close(r);
    return rc;
}

MCFDEF int mcf_save_tensor_to_file(mcf_store *s, const char *key, const char *file_name, const mcf_options *o)
{
    return mcf__store_save(s, key, file_name, o, 0, "mcf_save_tensor_to_file");
}

MCFDEF int mcf_load_tensor_from_file(mcf_store *s, const char *key, const char *file_name, const mcf_options *o, mcf_tensor *out)
{
    return mcf__store_load(s, key, file_name, o, out, 0, "mcf_load_tensor_from_file");
}

MCFDEF int mcf_save_kv_cache_to_file(mcf_store *s, const char *key, const char *file_name, const mcf_options *o)
{
    return mcf__store_save(s, key, file_name, o, 0, "mcf_save_kv_cache_to_file");
}

MCFDEF int mcf_load_kv_cache_from_file(mcf_store *s, const char *key, const char *file_name, const mcf_options *o, mcf_tensor *out)
{
    return mcf__store_load(s, key, file_name, o, out, 0, "mcf_load_kv_cache_from_file");
}

MCFDEF int mcf_save_tensor_to_safetensor(mcf_store *s, const char *key, const char *file_name, const mcf_options *o)
{
    return mcf__store_save(s, key, file_name, o, 1, "mcf_save_tensor_to_safetensor");
}

MCFDEF int mcf_load_tensor_from_safetensor(mcf_store *s, const char *key, const char *file_name, const mcf_options *o, mcf_tensor *out)
{
    return mcf__store_load(s, key, file_name, o, out, 1, "mcf_load_tensor_from_safetensor");
}

MCFDEF int mcf_save_tensor(mcf_store *s, const char *key, const mcf_tensor *t, const char *file_name,
                           const char *artifact_kind, const mcf_options *o)
{
    static const char who[] = "mcf_save_tensor";
    int kind = MCF__KIND_TENSOR, rc;
    if ((rc = mcf__parse_kind(artifact_kind, &kind)) != MCF_OK) return rc;
    if ((rc = mcf__store_check(s, key, who)) != MCF_OK) return rc;
    if (!t && !file_name) return mcf__fail(MCF_INVALID_PARAMS, "%s: store key \"%s\": neither a tensor to put nor a file to write", who, key);
    if (t && (rc = mcf__store_put_encoded(s, key, t, o)) != MCF_OK) return rc;
    if (!file_name) return MCF_OK;
    return mcf__store_save(s, key, file_name, o, kind == MCF__KIND_SAFETENSOR, who);
}

MCFDEF int mcf_load_tensor(mcf_store *s, const char *key, const char *file_name, const char *artifact_kind,
                           const mcf_options *o, mcf_tensor *out)
{
    mcf_tensor tmp;
    int kind = MCF__KIND_TENSOR, rc;
    if ((rc = mcf__parse_kind(artifact_kind, &kind)) != MCF_OK) return rc;
    if (file_name) return mcf__store_load(s, key, file_name, o, out, kind == MCF__KIND_SAFETENSOR, "mcf_load_tensor");
    if ((rc = mcf__store_check(s, key, "mcf_load_tensor")) != MCF_OK) return rc;
    if (out) return mcf_store_get_tensor(s, key, o, out);
    if ((rc = mcf_store_get_tensor(s, key, o, &tmp)) == MCF_OK) mcf_tensor_free(&tmp, o);
    return rc;
}

/* ===== [24] Mooncake store adapter ======================================= */
/* MOONCAKE_FILEIO_MOONCAKE_STORE: an mcf_store over a client handle of
 * Mooncake's store_c.h. Its ErrorCode numbers are ours and pass through. */
#ifdef MOONCAKE_FILEIO_MOONCAKE_STORE
/* store_c.h's replicate config. Seen through store_c.h when it came first;
 * else this private copy of its layout (the functions were declared above
 * with the struct left incomplete) is what the pointer points to. */
#ifdef MOONCAKE_STORE_C_H
typedef mooncake_replicate_config_t mcf__mcstore_config;
#else
typedef struct mcf__mcstore_config {
    size_t replica_num;
    int with_hard_pin;
    const char **preferred_segments;
    size_t preferred_segments_count;
    int soft_pin_action;
    int has_soft_pin_ttl;
    uint64_t soft_pin_ttl_ms;
} mcf__mcstore_config;
#endif

/* Mooncake returns its ErrorCode numbers, which are ours: every negative
 * result passes through as it is (store_c's own -1 is INTERNAL_ERROR). */
static int mcf__mcstore_code(int64_t v) { return v < INT_MIN ? MCF_INTERNAL_ERROR : (int)v; }

/* upstream's config for options' replicate; NULL (the store's defaults) for none. */
static const struct mooncake_replicate_config *mcf__mcstore_config_of(const mcf_replicate *r, mcf__mcstore_config *c)
{
    if (!r) return NULL;
    memset(c, 0, sizeof *c);
    c->replica_num = r->replica_num;
    c->with_hard_pin = r->with_hard_pin;
    c->preferred_segments = (const char **)(uintptr_t)r->preferred_segments;   /* only read */
    c->preferred_segments_count = r->preferred_segments_count;
    c->soft_pin_action = r->soft_pin_action;
    c->has_soft_pin_ttl = r->has_soft_pin_ttl;
    c->soft_pin_ttl_ms = r->soft_pin_ttl_ms;
    return (const struct mooncake_replicate_config *)(const void *)c;
}

static int mcf__mcstore_put_failed(const char *key, size_t len, int rc)
{
    return mcf__fail(mcf__mcstore_code(rc), "Mooncake store: put of key \"%s\" (%llu bytes) failed with %d (%s)",
                     key, (unsigned long long)len, rc, mcf_result_name(rc));
}

static int mcf__mcstore_put_replicated(void *user, const char *key, const void *obj, size_t len, const mcf_replicate *r)
{
    mcf__mcstore_config c;
    int rc = mooncake_store_put(user, key, obj, len, mcf__mcstore_config_of(r, &c));
    return rc >= 0 ? MCF_OK : mcf__mcstore_put_failed(key, len, rc);
}

static int mcf__mcstore_put(void *user, const char *key, const void *obj, size_t len)
{
    return mcf__mcstore_put_replicated(user, key, obj, len, NULL);
}

/* The zero-copy calls (get_into, batch_put_from, batch_get_into) move bytes
 * only to and from registered memory: each buffer is registered for the
 * call and unregistered after it, on every path. */
static int mcf__mcstore_register(void *user, void *buf, size_t size, const char *key)
{
    int rc = mooncake_store_register_buffer(user, buf, size);
    if (rc >= 0) return MCF_OK;
    return mcf__fail(mcf__mcstore_code(rc), "Mooncake store: registering the %llu-byte buffer for key \"%s\" failed with %d (%s)",
                     (unsigned long long)size, key, rc, mcf_result_name(rc));
}

/* Unregisters buf; returns rc, or the unregistering's failure when rc is 0. */
static int mcf__mcstore_unregister(void *user, void *buf, const char *key, int rc)
{
    int u = mooncake_store_unregister_buffer(user, buf);
    if (u >= 0 || rc != MCF_OK) return rc;
    return mcf__fail(mcf__mcstore_code(u), "Mooncake store: unregistering the buffer of key \"%s\" failed with %d (%s)",
                     key, u, mcf_result_name(u));
}

/* The size of key's value; is_exist tells an absent key from a failure. */
static int mcf__mcstore_size(void *user, const char *key, size_t *size)
{
    int64_t n = mooncake_store_get_size(user, key);
    int rc;
    if (n < 0) {
        if (mooncake_store_is_exist(user, key) == 0)
            return mcf__fail(MCF_OBJECT_NOT_FOUND, "Mooncake store: no key \"%s\"", key);
        rc = mcf__mcstore_code(n);
        return mcf__fail(rc, "Mooncake store: size of key \"%s\" failed with %lld (%s)", key, (long long)n, mcf_result_name(rc));
    }
    if (!mcf__fits_size((uint64_t)n))
        return mcf__fail(MCF_NOT_SUPPORTED, "Mooncake store: key \"%s\" (%lld bytes) does not fit in memory on this host", key, (long long)n);
    *size = (size_t)n;
    return MCF_OK;
}

/* What a get_into of size bytes answered. */
static int mcf__mcstore_got(int64_t got, size_t size, const char *key)
{
    int rc;
    if (got >= 0 && (uint64_t)got == (uint64_t)size) return MCF_OK;
    if (got < 0) {
        rc = mcf__mcstore_code(got);
        return mcf__fail(rc, "Mooncake store: get of key \"%s\" failed with %lld (%s)", key, (long long)got, mcf_result_name(rc));
    }
    return mcf__fail(MCF_FILE_READ_FAIL, "Mooncake store: key \"%s\" returned %lld bytes, expected %llu (changed while reading?)",
                     key, (long long)got, (unsigned long long)size);
}

/* get_into of the size bytes of key's value into dst, registered for the call. */
static int mcf__mcstore_read(void *user, const char *key, void *dst, size_t size)
{
    int rc;
    if (size > 0 && (rc = mcf__mcstore_register(user, dst, size, key)) != MCF_OK) return rc;
    rc = mcf__mcstore_got(mooncake_store_get_into(user, key, dst, size), size, key);
    return size > 0 ? mcf__mcstore_unregister(user, dst, key, rc) : rc;
}

/* get_size, then get_into straight into the caller's dst. */
static int mcf__mcstore_get_into(void *user, const char *key, void *dst, size_t cap, size_t *len)
{
    size_t size = 0;
    int rc;
    if ((rc = mcf__mcstore_size(user, key, &size)) != MCF_OK) return rc;
    if (size > cap) {
        *len = size;
        return mcf__fail(MCF_BUFFER_OVERFLOW, "Mooncake store: key \"%s\": its %llu-byte value does not fit the %llu-byte buffer",
                         key, (unsigned long long)size, (unsigned long long)cap);
    }
    if ((rc = mcf__mcstore_read(user, key, dst, size)) == MCF_OK) *len = size;
    return rc;
}

/* get: get_size, then get_into a new buffer of that size. */
static int mcf__mcstore_get(void *user, const char *key, void **obj, size_t *len)
{
    size_t size = 0;
    unsigned char *buf;
    int rc;
    if ((rc = mcf__mcstore_size(user, key, &size)) != MCF_OK) return rc;
    buf = (unsigned char *)mcf__malloc(size);
    if (!buf) return mcf__fail(MCF_INTERNAL_ERROR, "Mooncake store: out of memory for key \"%s\" (%llu bytes)", key, (unsigned long long)size);
    if ((rc = mcf__mcstore_read(user, key, buf, size)) != MCF_OK) {
        MCF_FREE(buf);
        return rc;
    }
    *obj = buf;
    *len = size;
    return MCF_OK;
}

static void mcf__mcstore_release(void *user, void *obj) { (void)user; MCF_FREE(obj); }

/* batch_put_from of every object (each registered for the call). */
static int mcf__mcstore_put_batch(void *user, const char *const *keys, const void *const *objs, const size_t *lens, size_t n,
                                  const mcf_replicate *replicate, int *results)
{
    mcf__mcstore_config c;
    const struct mooncake_replicate_config *cfg = mcf__mcstore_config_of(replicate, &c);
    mcf__batch_err e;
    mcf__batch b;
    size_t i, j;
    int rc;
    if (!mcf__batch_alloc(&b, n)) return mcf__fail(MCF_INTERNAL_ERROR, "Mooncake store: out of memory for a batch of %llu keys", (unsigned long long)n);
    mcf__batch_err_init(&e, n);
    for (i = 0; i < n; i++) {
        results[i] = MCF_OK;
        if (lens[i] > 0 && (rc = mcf__mcstore_register(user, (void *)(uintptr_t)objs[i], lens[i], keys[i])) != MCF_OK) {
            mcf__batch_note(&e, i, rc, results);
            continue;
        }
        b.keys[b.n] = keys[i];
        b.objs[b.n] = (void *)(uintptr_t)objs[i];   /* only read */
        b.lens[b.n] = lens[i];
        b.idx[b.n++] = i;
    }
    rc = b.n ? mooncake_store_batch_put_from(user, b.keys, b.objs, b.lens, b.n, cfg, b.res) : 0;
    for (j = 0; j < b.n; j++) {
        i = b.idx[j];
        if (rc < 0)
            mcf__batch_note(&e, i, mcf__fail(mcf__mcstore_code(rc), "Mooncake store: batch put of %llu keys failed with %d (%s)",
                                             (unsigned long long)b.n, rc, mcf_result_name(rc)), results);
        else if (b.res[j] < 0)
            mcf__batch_note(&e, i, mcf__mcstore_put_failed(keys[i], lens[i], b.res[j]), results);
        if (lens[i] > 0) mcf__batch_note(&e, i, mcf__mcstore_unregister(user, b.objs[j], keys[i], results[i]), results);
    }
    mcf__batch_free(&b);
    return mcf__batch_hook_result(&e);
}

/* batch_get_into new buffers of each value's size (each registered for the
 * call); the sizes come from get_size, one call per key. */
static int mcf__mcstore_get_batch(void *user, const char *const *keys, size_t n, void **objs, size_t *lens, int *results)
{
    mcf__batch_err e;
    mcf__batch b;
    int64_t *got;
    size_t i, j;
    int rc;
    if (!mcf__batch_alloc(&b, n) || !(got = (int64_t *)mcf__calloc(n, sizeof *got))) {
        mcf__batch_free(&b);
        return mcf__fail(MCF_INTERNAL_ERROR, "Mooncake store: out of memory for a batch of %llu keys", (unsigned long long)n);
    }
    mcf__batch_err_init(&e, n);
    for (i = 0; i < n; i++) {
        size_t size = 0;
        void *buf = NULL;
        objs[i] = NULL;
        lens[i] = 0;
        if ((rc = mcf__mcstore_size(user, keys[i], &size)) == MCF_OK && !(buf = mcf__malloc(size)))
            rc = mcf__fail(MCF_INTERNAL_ERROR, "Mooncake store: out of memory for key \"%s\" (%llu bytes)", keys[i], (unsigned long long)size);
        if (rc == MCF_OK && size > 0 && (rc = mcf__mcstore_register(user, buf, size, keys[i])) != MCF_OK) MCF_FREE(buf);
        mcf__batch_note(&e, i, rc, results);
        if (rc != MCF_OK) continue;
        b.keys[b.n] = keys[i];
        b.objs[b.n] = buf;
        b.lens[b.n] = size;
        b.idx[b.n++] = i;
    }
    rc = b.n ? mooncake_store_batch_get_into(user, b.keys, b.objs, b.lens, b.n, got) : 0;
    for (j = 0; j < b.n; j++) {
        int krc;
        i = b.idx[j];
        if (rc < 0)
            krc = mcf__fail(mcf__mcstore_code(rc), "Mooncake store: batch get of %llu keys failed with %d (%s)",
                            (unsigned long long)b.n, rc, mcf_result_name(rc));
        else
            krc = mcf__mcstore_got(got[j], b.lens[j], keys[i]);
        if (b.lens[j] > 0) krc = mcf__mcstore_unregister(user, b.objs[j], keys[i], krc);
        mcf__batch_note(&e, i, krc, results);
        if (krc == MCF_OK) {
            objs[i] = b.objs[j];
            lens[i] = b.lens[j];
        } else {
            MCF_FREE(b.objs[j]);
        }
    }
    MCF_FREE(got);
    mcf__batch_free(&b);
    return mcf__batch_hook_result(&e);
}

static int mcf__mcstore_remove(void *user, const char *key)
{
    int rc = mooncake_store_remove(user, key, 0);
    if (rc >= 0) return MCF_OK;
    return mcf__fail(mcf__mcstore_code(rc), "Mooncake store: remove of key \"%s\" failed with %d (%s)", key, rc, mcf_result_name(rc));
}

MCFDEF int mcf_mooncake_store_init(mcf_store *s, void *mooncake_store)
{
    if (!s || !mooncake_store) return mcf__fail(MCF_INVALID_PARAMS, "mcf_mooncake_store_init: NULL argument");
    memset(s, 0, sizeof *s);
    s->user = mooncake_store;
    s->put = mcf__mcstore_put;
    s->get = mcf__mcstore_get;
    s->release = mcf__mcstore_release;
    s->remove = mcf__mcstore_remove;
    s->put_replicated = mcf__mcstore_put_replicated;
    s->get_into = mcf__mcstore_get_into;
    s->put_batch = mcf__mcstore_put_batch;
    s->get_batch = mcf__mcstore_get_batch;
    return MCF_OK;
}
#endif /* MOONCAKE_FILEIO_MOONCAKE_STORE */

/* ===== [25] model seeding ================================================ */
/* The key layout of Mooncake's remote model loader: raw tensor bytes under
 * {model}/keys/rank_{r}/{name}, optional chunks plus a JSON manifest, and
 * sidecar text files with a key index. */

/* The sidecar files the loader fetches, in its order (it probes each name). */
static const char *const mcf__sidecar_names[] = {
    "config.json", "generation_config.json", "special_tokens_map.json", "tokenizer.json", "tokenizer.model",
    "tokenizer_config.json", "preprocessor_config.json", "processor_config.json", "chat_template.jinja",
    "merges.txt", "vocab.json"
};

typedef struct mcf__seed {
    mcf_store *s;
    const mcf_options *o;
    const char *url;                /* the checkpoint, for messages */
    const char *model;
    int rank;
    uint64_t chunk;                 /* o->chunk_bytes */
    unsigned char *buf;             /* one tensor or chunk */
    size_t cap;
    mcf__buf key;                   /* the key being put, NUL-terminated */
} mcf__seed;

/* key = pre + model + a + b + c, NUL-terminated. */
static int mcf__seed_key(mcf__seed *sd, const char *pre, const char *a, const char *b, const char *c)
{
    sd->key.len = 0;
    mcf__buf_puts(&sd->key, pre);
    mcf__buf_puts(&sd->key, sd->model);
    mcf__buf_puts(&sd->key, a);
    mcf__buf_puts(&sd->key, b);
    mcf__buf_puts(&sd->key, c);
    mcf__buf_putc(&sd->key, 0);
    if (sd->key.failed) return mcf__fail(MCF_INTERNAL_ERROR, "seeding \"%s\": out of memory for a key", sd->url);
    return MCF_OK;
}

/* The tensor key of entry name, {model}/keys/rank_{r}/{name}, then suffix. */
static int mcf__seed_tensor_key(mcf__seed *sd, const char *name, const char *suffix)
{
    char rank[32];
    (void)snprintf(rank, sizeof rank, "/keys/rank_%d/", sd->rank);
    return mcf__seed_key(sd, "", rank, name, suffix);
}

/* Room for n bytes in the one buffer (a new one: the old bytes are done). */
static int mcf__seed_room(mcf__seed *sd, size_t n)
{
    if (n <= sd->cap && sd->buf) return MCF_OK;
    MCF_FREE(sd->buf);
    sd->cap = 0;
    if (!(sd->buf = (unsigned char *)mcf__malloc(n)))
        return mcf__fail(MCF_INTERNAL_ERROR, "seeding \"%s\": out of memory for a %llu-byte tensor", sd->url, (unsigned long long)n);
    sd->cap = n;
    return MCF_OK;
}

/* Puts n bytes at data under the current key. A store with put_batch gets
 * a batch of one, which the Mooncake adapter moves zero-copy from data
 * (put_from of registered memory) where put copies into the client's pool;
 * an empty value goes through put (a zero-copy put of 0 bytes stores
 * nothing upstream). */
static int mcf__seed_put(mcf__seed *sd, const void *data, size_t n)
{
    const char *key = (const char *)sd->key.data;
    int rc, res = MCF_OK;
    if (n && sd->s->put_batch) {
        rc = sd->s->put_batch(sd->s->user, &key, &data, &n, 1, sd->o ? sd->o->replicate : NULL, &res);
        if (rc == MCF_OK) rc = res;
    } else {
        rc = mcf__store_put_obj(sd->s, key, n ? data : "", n, sd->o);
    }
    if (rc != MCF_OK) rc = mcf__fail(rc, "seeding \"%s\": put of key \"%s\" (%llu bytes): %s", sd->url, key, (unsigned long long)n, mcf_last_error());
    return rc;
}

/* Bytes [off, off+n) of entry i as the file holds them (little-endian;
 * safetensors data is one contiguous run): a pointer into the source when
 * it is in memory already (memory://, a caller's buffer), else read into
 * the one buffer. */
static int mcf__seed_bytes(mcf__seed *sd, mcf_reader *r, size_t i, uint64_t off, size_t n, const void **p)
{
    const mcf__entry *e = &r->entries[i];
    mcf__source *src = &r->files[e->file].src;
    uint64_t at = e->offset + off, end;
    int rc;
    if (!e->contiguous)
        return mcf__fail(MCF_NOT_SUPPORTED, "%s: tensor \"%s\" is not one contiguous run of bytes", r->name, e->name);
    if (src->base && mcf__add64(at, n, &end) && end <= src->size) {
        *p = src->base + at;
        return MCF_OK;
    }
    if ((rc = mcf__seed_room(sd, n)) != MCF_OK) return rc;
    if ((rc = mcf__source_read(src, at, sd->buf, n)) != MCF_OK) return rc;
    *p = sd->buf;
    return MCF_OK;
}

/* A tensor larger than the chunk size: the chunks, then the manifest. */
static int mcf__seed_chunked(mcf__seed *sd, mcf_reader *r, size_t i, const char *name, uint64_t n)
{
    uint64_t count = n / sd->chunk + (n % sd->chunk != 0), c;
    char manifest[96], suffix[48];
    int rc, w;
    for (c = 0; c < count; c++) {
        uint64_t off = c * sd->chunk, len = n - off < sd->chunk ? n - off : sd->chunk;
        const void *p;
        (void)snprintf(suffix, sizeof suffix, ".__chunk__.%llu", (unsigned long long)c);
        if ((rc = mcf__seed_tensor_key(sd, name, suffix)) != MCF_OK) return rc;
        if ((rc = mcf__seed_bytes(sd, r, i, off, (size_t)len, &p)) != MCF_OK) return rc;
        if ((rc = mcf__seed_put(sd, p, (size_t)len)) != MCF_OK) return rc;
    }
    w = snprintf(manifest, sizeof manifest, "{\"num_chunks\": %llu, \"size\": %llu}", (unsigned long long)count, (unsigned long long)n);
    if ((rc = mcf__seed_tensor_key(sd, name, ".__chunk_manifest__")) != MCF_OK) return rc;
    return mcf__seed_put(sd, manifest, (size_t)w);
}

/* Every entry of r, in the reader's order. */
static int mcf__seed_reader(mcf__seed *sd, mcf_reader *r)
{
    size_t i;
    int rc;
    for (i = 0; i < r->count; i++) {
        const mcf__entry *e = &r->entries[i];
        const void *p;
        if (!mcf__fits_size(e->nbytes))
            return mcf__fail(MCF_NOT_SUPPORTED, "%s: tensor \"%s\" (%llu bytes) does not fit in memory on this host", r->name, e->name,
                             (unsigned long long)e->nbytes);
        if (sd->chunk && e->nbytes > sd->chunk) {
            if ((rc = mcf__seed_chunked(sd, r, i, e->name, e->nbytes)) != MCF_OK) return rc;
            continue;
        }
        if ((rc = mcf__seed_tensor_key(sd, e->name, "")) != MCF_OK) return rc;
        if ((rc = mcf__seed_bytes(sd, r, i, 0, (size_t)e->nbytes, &p)) != MCF_OK) return rc;
        if ((rc = mcf__seed_put(sd, p, (size_t)e->nbytes)) != MCF_OK) return rc;
    }
    return MCF_OK;
}

/* One checkpoint file: a .safetensors file, or an .index.json whose reader
 * covers every shard. Read with ranged reads (no mapping: the pages a
 * mapping touches would stay in this process's memory). */
static int mcf__seed_open(mcf__seed *sd, const char *url, int is_index)
{
    mcf_options oo;
    mcf_reader *r = NULL;
    int rc;
    if (sd->o) oo = *sd->o;
    else memset(&oo, 0, sizeof oo);
    oo.flags |= MCF_NO_MMAP;
    oo.format = is_index ? NULL : "safetensors";
    oo.tensor_name = NULL;
    if ((rc = mcf_open(url, &oo, &r)) == MCF_OK) rc = mcf__seed_reader(sd, r);
    mcf_close(r);
    return rc;
}

/* dir + "/" + name into a new string; NULL when out of memory. */
static char *mcf__seed_join(const char *dir, const char *name)
{
    size_t n = strlen(dir), k = strlen(name);
    int sep = n > 0 && dir[n - 1] != '/' && dir[n - 1] != '\\';
    char *p = (char *)mcf__malloc(n + (size_t)sep + k + 1);
    if (!p) return NULL;
    memcpy(p, dir, n);
    if (sep) p[n] = '/';
    memcpy(p + n + (size_t)sep, name, k + 1);
    return p;
}

static int mcf__seed_oom(const mcf__seed *sd)
{
    return mcf__fail(MCF_INTERNAL_ERROR, "seeding \"%s\": out of memory", sd->url);
}

/* The *.safetensors names of a local directory, sorted; *names freed by the
 * caller (mcf__strv_free). */
static int mcf__seed_list(mcf__seed *sd, const char *path, char ***names, size_t *count)
{
#if !defined(MCF_NO_POSIX) && !defined(_WIN32)
    DIR *d = opendir(path);
    struct dirent *de;
    char **v = NULL;
    size_t n = 0, cap = 0;
    int rc = MCF_OK;
    *names = NULL;
    *count = 0;
    if (!d) {
        if (errno == ENOENT) return mcf__fail(MCF_FILE_NOT_FOUND, "seeding \"%s\": no such file or directory", sd->url);
        if (errno == ENOTDIR)
            return mcf__fail(MCF_FILE_NOT_FOUND, "seeding \"%s\": not a .safetensors file, an .index.json or a directory", sd->url);
        return mcf__fail(MCF_FILE_OPEN_FAIL, "seeding \"%s\": cannot list the directory: %s", sd->url, strerror(errno));
    }
    while ((de = readdir(d)) != NULL) {
        if (de->d_name[0] == '.' || mcf__path_names(de->d_name) != MCF__NAMES_SAFETENSORS) continue;
        if (!mcf__grow((void **)&v, &cap, n + 1, sizeof *v)) { rc = mcf__seed_oom(sd); break; }
        if (!(v[n] = mcf__strdup(de->d_name))) { rc = mcf__seed_oom(sd); break; }
        n++;
    }
    closedir(d);
    if (rc != MCF_OK) {
        mcf__strv_free(v, n);
        return rc;
    }
    if (n) qsort(v, n, sizeof *v, mcf__st_strcmp);
    *names = v;
    *count = n;
    return MCF_OK;
#else
    (void)path;
    *names = NULL;
    *count = 0;
    return mcf__fail(MCF_NOT_SUPPORTED, "seeding \"%s\": listing a directory is not built in here; name its .index.json or a .safetensors file", sd->url);
#endif
}

/* Text as Python's text mode reads it: "\r\n" and "\r" become "\n". */
static size_t mcf__seed_newlines(unsigned char *p, size_t n)
{
    size_t i, k = 0;
    for (i = 0; i < n; i++) {
        if (p[i] == '\r') {
            p[k++] = '\n';
            if (i + 1 < n && p[i + 1] == '\n') i++;
        } else {
            p[k++] = p[i];
        }
    }
    return k;
}

/* The sidecar files of a local directory, then their index, once. */
static int mcf__seed_sidecars(mcf__seed *sd, const char *dir)
{
    mcf__buf index;
    size_t i;
    int rc = MCF_OK;
    memset(&index, 0, sizeof index);
    for (i = 0; i < sizeof mcf__sidecar_names / sizeof mcf__sidecar_names[0] && rc == MCF_OK; i++) {
        char *path = mcf__seed_join(dir, mcf__sidecar_names[i]);
        void *data = NULL;
        size_t len = 0;
        if (!path) { rc = mcf__seed_oom(sd); break; }
        rc = mcf_exists(path, sd->o);
        if (rc == 0) { MCF_FREE(path); continue; }   /* absent: skipped */
        if (rc == 1) rc = mcf_read_bytes(path, &data, &len, sd->o);
        MCF_FREE(path);
        if (rc == MCF_OK && mcf__utf8_valid((const char *)data, len)) {
            len = mcf__seed_newlines((unsigned char *)data, len);
            if ((rc = mcf__seed_key(sd, "", "/files/", mcf__sidecar_names[i], "")) == MCF_OK &&
                (rc = mcf__seed_put(sd, data, len)) == MCF_OK) {
                if (index.len) mcf__buf_putc(&index, '\n');
                mcf__buf_puts(&index, (const char *)sd->key.data);
                if (index.failed) rc = mcf__seed_oom(sd);
            }
        }
        mcf_free(data);
    }
    if (rc == MCF_OK && index.len && (rc = mcf__seed_key(sd, "__index__", "/files/", "", "")) == MCF_OK)
        rc = mcf__seed_put(sd, index.data, index.len);
    mcf__buf_free(&index);
    return rc;
}

/* A directory: its index if it has one, else its *.safetensors files (a
 * local one); then, for a local one, the sidecar files. */
static int mcf__seed_dir(mcf__seed *sd, const char *dir)
{
    mcf_url u;
    char *index = mcf__seed_join(dir, "model.safetensors.index.json");
    char **names = NULL;
    size_t n = 0, i;
    int rc, local;
    if (!index) return mcf__seed_oom(sd);
    if ((rc = mcf_url_parse(dir, sd->o ? sd->o->filesystem : NULL, &u)) != MCF_OK) { MCF_FREE(index); return rc; }
    local = strcmp(u.scheme, "file") == 0;
    rc = mcf_exists(index, sd->o);
    if (rc == 1) {
        rc = mcf__seed_open(sd, index, 1);
    } else if (rc == 0 && !local) {
        rc = mcf__fail(MCF_NOT_SUPPORTED, "seeding \"%s\": no model.safetensors.index.json there, and only local directories can be listed", sd->url);
    } else if (rc == 0 && (rc = mcf__seed_list(sd, u.path, &names, &n)) == MCF_OK) {
        if (n == 0) rc = mcf__fail(MCF_FILE_NOT_FOUND, "seeding \"%s\": no model.safetensors.index.json and no *.safetensors files there", sd->url);
        for (i = 0; i < n && rc == MCF_OK; i++) {
            char *file = mcf__seed_join(dir, names[i]);
            rc = file ? mcf__seed_open(sd, file, 0) : mcf__seed_oom(sd);
            MCF_FREE(file);
        }
        mcf__strv_free(names, n);
    }
    if (rc == MCF_OK && local) rc = mcf__seed_sidecars(sd, dir);
    mcf_url_free(&u);
    MCF_FREE(index);
    return rc;
}

MCFDEF int mcf_seed_model(mcf_store *s, const char *checkpoint_url, const char *model_name, int tp_rank, const mcf_options *o)
{
    mcf__seed sd;
    mcf_url u;
    int rc, names;
    if (!s || !s->put) return mcf__fail(MCF_INVALID_PARAMS, "mcf_seed_model: NULL store or store without put");
    if (!checkpoint_url || !model_name) return mcf__fail(MCF_INVALID_PARAMS, "mcf_seed_model: NULL %s", checkpoint_url ? "model name" : "checkpoint");
    if (!model_name[0]) return mcf__fail(MCF_INVALID_PARAMS, "mcf_seed_model: empty model name");
    if (tp_rank < 0) return mcf__fail(MCF_INVALID_PARAMS, "mcf_seed_model: negative rank %d", tp_rank);
    memset(&sd, 0, sizeof sd);
    sd.s = s;
    sd.o = o;
    sd.url = checkpoint_url;
    sd.model = model_name;
    sd.rank = tp_rank;
    sd.chunk = o ? o->chunk_bytes : 0;   /* only tensors larger than a chunk (and so within size_t) are cut */
    if ((rc = mcf_url_parse(checkpoint_url, o ? o->filesystem : NULL, &u)) != MCF_OK) return rc;
    names = mcf__path_names(u.path);
    mcf_url_free(&u);
    if (names == MCF__NAMES_SAFETENSORS) rc = mcf__seed_open(&sd, checkpoint_url, 0);
    else if (names == MCF__NAMES_INDEX) rc = mcf__seed_open(&sd, checkpoint_url, 1);
    else rc = mcf__seed_dir(&sd, checkpoint_url);
    MCF_FREE(sd.buf);
    mcf__buf_free(&sd.key);
    return rc;
}

#endif /* MOONCAKE_FILEIO_IMPLEMENTATION */

/*
------------------------------------------------------------------------------
CHANGE LOG
  0.2.0  (unreleased)
         mcf_dtype_from_torch_name is renamed mcf_dtype_parse_torch (the
         _name/_parse convention of the other dtype spellings); same
         arguments and results.
         New tuning macros MCF_CHUNK_SIZE, MCF_MAX_FILESYSTEMS and
         MCF_MAX_TORCH_DEPTH (formerly internal; same defaults).
         Parallel reads: options.threads (appended to mcf_options; 0 = 1 =
         no threads), mcf_read_many (many entries into caller buffers in one
         call), and mcf_read, mcf_read_slice, mcf_read_as of 2 MiB or more
         cut into parts on the reader's threads. mcf_filesystem gains flags
         (appended) with MCF_FS_THREADSAFE_READ, set by the file and memory
         backends; a registered backend without it is read serially. New
         tuning macro MCF_MAX_THREADS. Torch saves with threads > 1
         compute big tensors' CRC-32 on a second thread (same bytes).
         MCF_DIRECT: O_DIRECT reads and writes of local files
         (FILE_FLAG_NO_BUFFERING on Windows; buffered, with a note, where
         the file system refuses it). A read lands straight in a
         destination congruent to the file offset mod 4096, any other goes
         through 1 MiB bounce pieces.
         mcf_read_many runs its MCF_VERIFY checks on its threads, one per
         stored object.
         Opening a mapped .pt no longer faults in a page per tensor (local
         headers far apart are read with pread; every check still runs at
         open); mcf_read into never-touched memory populates it in one call
         first (Linux).
         http/s3 with options.threads > 1: read_at is safe on several threads
         for one open object (a pool of up to threads connections), a big
         read runs as ranged GETs at once, S3 multipart uploads send up to
         threads parts at once; pieces and parts are retried on their own.
         The backends set the new mcf_filesystem.flags bit
         MCF_FS_THREADSAFE_READ; http takes the part_size storage option.
         Sharded checkpoints: mcf_open of an ".index.json" URL reads every
         shard it names as one reader (new mcf_entry_source names an entry's
         shard); mcf_save with the new options.max_shard_bytes (appended to
         mcf_options) writes shards and an index as Hugging Face does.
         Store batches and raw values: mcf_store_put_tensors,
         mcf_store_get_tensors, mcf_store_put_bytes, mcf_store_get_into;
         optional get_into / put_batch / get_batch hooks at the end of
         mcf_store (the memory store has all three; NULL: key by key); the
         Mooncake adapter uses mooncake_store_batch_put_from /
         batch_get_into with every buffer registered for the call.
         mcf_memory_store_create sets a message when it fails.
         mcf_save_tensor takes an optional tensor (put first) after the key,
         and a NULL file_name now means the store only (it meant the key);
         mcf_load_tensor with a NULL file_name reads the store only. Artifact
         kinds also "generic", "file" and "safe_tensors".
         A load whose file name cannot be parsed for want of memory fails
         instead of falling back to the only entry.
         mcf_seed_model and options.chunk_bytes: a safetensors checkpoint
         (file, .index.json or directory) into a store in the key layout of
         Mooncake's remote model loader, with chunks, sidecar files and
         their index; one tensor in memory at a time. mcf seed in the tool.
         It tells a file, an index and a directory apart by the rule mcf_open
         uses: the URL's path (an http(s) query is not part of it), with
         ".safetensors" and ".index.json" in any case.
         http/s3: opening for reading is one ranged GET of the first 72 KiB
         (size from its Content-Range or Content-Length; kept for the reads
         inside it) instead of a HEAD and a GET: a safetensors open is one
         request, a 4-shard index five.
  0.1.0  first release: results and Mooncake error codes, dtypes, fsspec-style
         URLs, file (POSIX and Win32) and memory filesystems, HTTP(S) and S3
         over libcurl, safetensors reader/writer (byte-identical to the
         reference serializer), torch .pt writer and restricted reader, fast
         CRC32, Mooncake tensor object codec, memory store and the Python
         store_file_io module's functions, store_c.h adapter.
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
