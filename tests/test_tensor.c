/* [02] results & [05] dtypes & tensors. */
#include "mcf_test.h"
#include <stdint.h>

static int results_names_and_numbers(void)
{
    /* Mooncake's ErrorCode numbers, so the store passes them through */
    MCF_CHECK(MCF_OK == 0 && MCF_INTERNAL_ERROR == -1 && MCF_BUFFER_OVERFLOW == -10);
    MCF_CHECK(MCF_INVALID_PARAMS == -600 && MCF_OBJECT_NOT_FOUND == -704 && MCF_CHECKSUM_MISMATCH == -801);
    MCF_CHECK(MCF_NOT_SUPPORTED == -1012 && MCF_FILE_NOT_FOUND == -1100 && MCF_FILE_OPEN_FAIL == -1101);
    MCF_CHECK(MCF_FILE_READ_FAIL == -1102 && MCF_FILE_WRITE_FAIL == -1103 && MCF_FILE_INVALID_BUFFER == -1104);
    MCF_CHECK(MCF_SERIALIZE_UNSUPPORTED == -1500 && MCF_SERIALIZE_FAIL == -1501 && MCF_DESERIALIZE_FAIL == -1502);
    MCF_CHECK(MCF_PERSISTENT_FAIL == -1503 && MCF_PERMISSION_DENIED == -1603);
    MCF_CHECK(strcmp(mcf_result_name(MCF_FILE_NOT_FOUND), "FILE_NOT_FOUND") == 0);
    MCF_CHECK(strcmp(mcf_result_name(MCF_OK), "OK") == 0);
    MCF_CHECK(strcmp(mcf_result_name(MCF_PERMISSION_DENIED), "PERMISSION_DENIED") == 0);
    MCF_CHECK(strcmp(mcf_result_name(12345), "UNKNOWN") == 0);
    MCF_CHECK(mcf_last_error() != NULL);
    return 0;
}

/* Every ErrorCode of upstream Mooncake's types.h has Mooncake's name (a
 * store passes them through); -1603 is this library's PERMISSION_DENIED. */
static int results_every_mooncake_name(void)
{
    static const struct { int code; const char *name; } codes[] = {
        {-100, "SHARD_INDEX_OUT_OF_RANGE"}, {-101, "SEGMENT_NOT_FOUND"}, {-102, "SEGMENT_ALREADY_EXISTS"},
        {-103, "CLIENT_NOT_FOUND"}, {-200, "NO_AVAILABLE_HANDLE"}, {-300, "INVALID_VERSION"}, {-400, "INVALID_KEY"},
        {-500, "WRITE_FAIL"}, {-601, "ILLEGAL_CLIENT"}, {-700, "INVALID_WRITE"}, {-701, "INVALID_READ"},
        {-702, "INVALID_REPLICA"}, {-703, "REPLICA_IS_NOT_READY"}, {-705, "OBJECT_ALREADY_EXISTS"},
        {-706, "OBJECT_HAS_LEASE"}, {-707, "LEASE_EXPIRED"}, {-708, "OBJECT_HAS_REPLICATION_TASK"},
        {-709, "OBJECT_NO_REPLICATION_TASK"}, {-710, "REPLICA_NOT_FOUND"}, {-711, "REPLICA_ALREADY_EXISTS"},
        {-712, "REPLICA_IS_GONE"}, {-713, "REPLICA_NOT_IN_LOCAL_MEMORY"}, {-714, "OBJECT_REPLICA_BUSY"},
        {-800, "TRANSFER_FAIL"}, {-900, "RPC_FAIL"}, {-901, "RPC_TIMEOUT"}, {-1000, "ETCD_OPERATION_ERROR"},
        {-1001, "ETCD_KEY_NOT_EXIST"}, {-1002, "ETCD_TRANSACTION_FAIL"}, {-1003, "ETCD_CTX_CANCELLED"},
        {-1004, "OPLOG_ENTRY_NOT_FOUND"}, {-1005, "K8S_LEASE_OPERATION_ERROR"}, {-1006, "K8S_LEASE_NOT_FOUND"},
        {-1007, "INCOMPLETE_OPLOG_CATCH_UP"}, {-1010, "UNAVAILABLE_IN_CURRENT_STATUS"},
        {-1011, "UNAVAILABLE_IN_CURRENT_MODE"}, {-1105, "FILE_LOCK_FAIL"}, {-1106, "FILE_INVALID_HANDLE"},
        {-1200, "BUCKET_NOT_FOUND"}, {-1201, "BUCKET_ALREADY_EXISTS"}, {-1202, "KEYS_EXCEED_BUCKET_LIMIT"},
        {-1203, "KEYS_ULTRA_LIMIT"}, {-1300, "UNABLE_OFFLOAD"}, {-1301, "UNABLE_OFFLOADING"},
        {-1400, "TASK_NOT_FOUND"}, {-1401, "TASK_PENDING_LIMIT_EXCEEDED"}, {-1402, "JOB_NOT_FOUND"},
        {-1600, "DFS_NETWORK_TIMEOUT"}, {-1601, "DFS_SERVICE_UNAVAILABLE"}, {-1602, "DFS_QUOTA_EXCEEDED"},
        {-1604, "DFS_STALE_HANDLE"}, {-1605, "DFS_PARTIAL_WRITE"}, {-1700, "TENANT_QUOTA_EXCEEDED"},
        {-1701, "TENANT_NOT_REGISTERED"}, {-1702, "TENANT_NOT_EMPTY"}
    };
    size_t i;
    for (i = 0; i < sizeof codes / sizeof codes[0]; i++)
        if (strcmp(mcf_result_name(codes[i].code), codes[i].name) != 0) {
            fprintf(stderr, "  %d: \"%s\", expected \"%s\"\n", codes[i].code, mcf_result_name(codes[i].code), codes[i].name);
            return 1;
        }
    MCF_CHECK(strcmp(mcf_result_name(-1603), "PERMISSION_DENIED") == 0);
    MCF_CHECK(strcmp(mcf_result_name(-2), "UNKNOWN") == 0 && strcmp(mcf_result_name(-1800), "UNKNOWN") == 0);
    return 0;
}

static int results_error_is_thread_local_and_set_with_code(void)
{
    MCF_CHECK_RC(mcf_set_error(MCF_FILE_READ_FAIL, "x: %d", 42), MCF_FILE_READ_FAIL);
    MCF_CHECK(strcmp(mcf_last_error(), "x: 42") == 0);
    /* a sentence that quotes the previous one (arguments pointing into the buffer) */
    MCF_CHECK_RC(mcf_set_error(MCF_INTERNAL_ERROR, "wrapped: %s", mcf_last_error()), MCF_INTERNAL_ERROR);
    MCF_CHECK(strcmp(mcf_last_error(), "wrapped: x: 42") == 0);
    return 0;
}

static int dtypes_table(void)
{
    static const struct { mcf_dtype d; const char *name; size_t size; unsigned bits; const char *torch; int moon; } rows[] = {
        {MCF_BOOL, "BOOL", 1, 8, "bool", 10}, {MCF_U8, "U8", 1, 8, "uint8", 3}, {MCF_I8, "I8", 1, 8, "int8", 2},
        {MCF_F8_E5M2, "F8_E5M2", 1, 8, "float8_e5m2", 14}, {MCF_F8_E4M3, "F8_E4M3", 1, 8, "float8_e4m3fn", 13},
        {MCF_I16, "I16", 2, 16, "int16", 4}, {MCF_U16, "U16", 2, 16, "uint16", 5}, {MCF_F16, "F16", 2, 16, "float16", 11},
        {MCF_BF16, "BF16", 2, 16, "bfloat16", 12}, {MCF_I32, "I32", 4, 32, "int32", 6}, {MCF_U32, "U32", 4, 32, "uint32", 7},
        {MCF_F32, "F32", 4, 32, "float32", 0}, {MCF_F64, "F64", 8, 64, "float64", 1}, {MCF_I64, "I64", 8, 64, "int64", 8},
        {MCF_U64, "U64", 8, 64, "uint64", 9}, {MCF_C64, "C64", 8, 64, "complex64", -1},
        {MCF_F8_E8M0, "F8_E8M0", 1, 8, "float8_e8m0fnu", -1}, {MCF_F4, "F4", 0, 4, NULL, -1},
        {MCF_F6_E2M3, "F6_E2M3", 0, 6, NULL, -1}, {MCF_F6_E3M2, "F6_E3M2", 0, 6, NULL, -1},
        {MCF_C128, "C128", 16, 128, "complex128", -1},
    };
    size_t i;
    MCF_CHECK(sizeof rows / sizeof rows[0] == (size_t)MCF_DTYPE_COUNT);
    for (i = 0; i < sizeof rows / sizeof rows[0]; i++) {
        mcf_dtype back = MCF_DTYPE_COUNT;
        MCF_CHECK(strcmp(mcf_dtype_name(rows[i].d), rows[i].name) == 0);
        MCF_CHECK(mcf_dtype_size(rows[i].d) == rows[i].size);
        MCF_CHECK(mcf_dtype_bits(rows[i].d) == rows[i].bits);
        MCF_CHECK_RC(mcf_dtype_parse(rows[i].name, &back), MCF_OK);
        MCF_CHECK(back == rows[i].d);
        MCF_CHECK(mcf_dtype_to_mooncake(rows[i].d) == rows[i].moon);
        if (rows[i].moon >= 0) {
            MCF_CHECK_RC(mcf_dtype_from_mooncake(rows[i].moon, &back), MCF_OK);
            MCF_CHECK(back == rows[i].d);
        }
        if (rows[i].torch) {
            char full[64];
            MCF_CHECK(strcmp(mcf_dtype_torch_name(rows[i].d), rows[i].torch) == 0);
            snprintf(full, sizeof full, "torch.%s", rows[i].torch);
            MCF_CHECK_RC(mcf_dtype_parse_torch(full, &back), MCF_OK);
            MCF_CHECK(back == rows[i].d);
        } else {
            MCF_CHECK(mcf_dtype_torch_name(rows[i].d) == NULL);
        }
    }
    return 0;
}

static int dtypes_aliases_and_errors(void)
{
    mcf_dtype d = MCF_U8;
    MCF_CHECK_RC(mcf_dtype_parse_torch("float", &d), MCF_OK); MCF_CHECK(d == MCF_F32);
    MCF_CHECK_RC(mcf_dtype_parse_torch("torch.half", &d), MCF_OK); MCF_CHECK(d == MCF_F16);
    MCF_CHECK_RC(mcf_dtype_parse_torch("long", &d), MCF_OK); MCF_CHECK(d == MCF_I64);
    MCF_CHECK_RC(mcf_dtype_parse_torch("double", &d), MCF_OK); MCF_CHECK(d == MCF_F64);
    MCF_CHECK_RC(mcf_dtype_parse_torch("torch.cdouble", &d), MCF_OK); MCF_CHECK(d == MCF_C128);
    d = MCF_U8;
    MCF_CHECK_RC(mcf_dtype_parse("f32", &d), MCF_INVALID_PARAMS);   /* safetensors spelling is exact */
    MCF_CHECK_ERR("unknown dtype \"f32\"");
    MCF_CHECK(d == MCF_U8);                                          /* out-param untouched on failure */
    MCF_CHECK_RC(mcf_dtype_parse_torch("torch.quint8", &d), MCF_INVALID_PARAMS);
    MCF_CHECK_RC(mcf_dtype_from_mooncake(15, &d), MCF_INVALID_PARAMS);
    MCF_CHECK_RC(mcf_dtype_from_mooncake(-1, &d), MCF_INVALID_PARAMS);
    MCF_CHECK(strcmp(mcf_dtype_name(MCF_DTYPE_COUNT), "?") == 0);
    MCF_CHECK(mcf_dtype_size(MCF_DTYPE_COUNT) == 0 && mcf_dtype_bits(MCF_DTYPE_COUNT) == 0);
    return 0;
}

static mcf_tensor mk(mcf_dtype d, int ndim, const int64_t *shape)
{
    mcf_tensor t;
    int i;
    memset(&t, 0, sizeof t);
    t.name = "t"; t.dtype = d; t.ndim = ndim;
    for (i = 0; i < ndim; i++) t.shape[i] = shape[i];
    return t;
}

static int tensor_nbytes(void)
{
    int64_t s23[2] = {2, 3}, s0[3] = {2, 0, 3}, big[2] = {INT64_MAX, 4}, neg[1] = {-1}, odd[1] = {3};
    int64_t f6[2] = {4, 3}, huge[3] = {(int64_t)1 << 40, (int64_t)1 << 20, 1 << 3};
    mcf_tensor t = mk(MCF_F32, 2, s23);
    MCF_CHECK(mcf_tensor_numel(&t) == 6 && mcf_tensor_nbytes(&t) == 24);
    t = mk(MCF_F64, 0, NULL);                     /* 0-d scalar: one element */
    MCF_CHECK(mcf_tensor_numel(&t) == 1 && mcf_tensor_nbytes(&t) == 8);
    t = mk(MCF_BF16, 3, s0);                      /* empty */
    MCF_CHECK(mcf_tensor_numel(&t) == 0 && mcf_tensor_nbytes(&t) == 0);
    t = mk(MCF_I64, 2, big);                      /* product overflows */
    MCF_CHECK(mcf_tensor_nbytes(&t) == UINT64_MAX);
    t = mk(MCF_F64, 3, huge);                     /* 2^63 elements fit, bytes overflow */
    MCF_CHECK(mcf_tensor_numel(&t) == (uint64_t)1 << 63 && mcf_tensor_nbytes(&t) == UINT64_MAX);
    t = mk(MCF_U8, 1, neg);
    MCF_CHECK(mcf_tensor_nbytes(&t) == UINT64_MAX);
    t = mk(MCF_F4, 1, odd);                       /* 3 x 4 bits = 12 bits -> 2 bytes */
    MCF_CHECK(mcf_tensor_nbytes(&t) == 2);
    t = mk(MCF_F6_E2M3, 2, f6);                   /* 12 x 6 bits = 9 bytes */
    MCF_CHECK(mcf_tensor_nbytes(&t) == 9);
    t = mk(MCF_F32, 2, s23);
    t.ndim = MCF_MAX_DIMS + 1;
    MCF_CHECK(mcf_tensor_nbytes(&t) == UINT64_MAX);
    t = mk(MCF_DTYPE_COUNT, 2, s23);
    MCF_CHECK(mcf_tensor_nbytes(&t) == UINT64_MAX);
    MCF_CHECK(mcf_tensor_nbytes(NULL) == UINT64_MAX);
    return 0;
}

/* element (i,j,k) of a [2][3][4] array is 100i + 10j + k */
static int tensor_copy_strided_every_size(void)
{
    static const mcf_dtype types[] = {MCF_U8, MCF_I16, MCF_F32, MCF_F64, MCF_BF16, MCF_C64, MCF_BOOL};
    size_t ti;
    for (ti = 0; ti < sizeof types / sizeof types[0]; ti++) {
        size_t es = mcf_dtype_size(types[ti]), i, j, k;
        unsigned char src[4 * 3 * 2 * 8], dst[4 * 3 * 2 * 8 + 8];
        int64_t shape[3] = {2, 3, 4};
        /* the source is stored as [4][3][2] and viewed transposed: strides (1, 2, 6) */
        int64_t strides[3] = {1, 2, 6};
        mcf_tensor t = mk(types[ti], 3, shape);
        memset(dst, 0xEE, sizeof dst);
        for (i = 0; i < 2; i++) for (j = 0; j < 3; j++) for (k = 0; k < 4; k++) {
            size_t at = (k * 6 + j * 2 + i) * es;
            memset(src + at, 0, es);
            src[at] = (unsigned char)(100 * i + 10 * j + k);
        }
        t.strides = strides;
        t.data = src;
        MCF_CHECK(!mcf_tensor_is_contiguous(&t));
        MCF_CHECK_RC(mcf_tensor_copy_contiguous(&t, dst, 2 * 3 * 4 * es), MCF_OK);
        for (i = 0; i < 2; i++) for (j = 0; j < 3; j++) for (k = 0; k < 4; k++)
            MCF_CHECK(dst[((i * 3 + j) * 4 + k) * es] == (unsigned char)(100 * i + 10 * j + k));
        MCF_CHECK(dst[24 * es] == 0xEE);          /* nothing written past the end */
        MCF_CHECK_RC(mcf_tensor_copy_contiguous(&t, dst, 24 * es - 1), MCF_BUFFER_OVERFLOW);
        MCF_CHECK_ERR("needs");
    }
    return 0;
}

static int tensor_copy_slices_and_special(void)
{
    float base[5][6], out[16];
    int64_t shape[2] = {2, 3}, strides[2] = {6, 2};
    int64_t s0[2] = {3, 0}, st0[2] = {0, 1}, one[2] = {1, 4}, st_one[2] = {999, 1}, bcast[2] = {3, 2}, st_b[2] = {0, 1};
    mcf_tensor t;
    int i, j;
    for (i = 0; i < 5; i++) for (j = 0; j < 6; j++) base[i][j] = (float)(i * 10 + j);
    /* rows 1..2, every other column from 1: a view with an offset */
    t = mk(MCF_F32, 2, shape);
    t.strides = strides;
    t.data = &base[1][1];
    MCF_CHECK_RC(mcf_tensor_copy_contiguous(&t, out, sizeof out), MCF_OK);
    MCF_CHECK(out[0] == 11 && out[1] == 13 && out[2] == 15 && out[3] == 21 && out[4] == 23 && out[5] == 25);
    /* 0-d scalar */
    t = mk(MCF_F32, 0, NULL);
    t.data = &base[2][2];
    MCF_CHECK_RC(mcf_tensor_copy_contiguous(&t, out, 4), MCF_OK);
    MCF_CHECK(out[0] == 22);
    /* empty tensor with strides, NULL data allowed */
    t = mk(MCF_F32, 2, s0);
    t.strides = st0;
    MCF_CHECK_RC(mcf_tensor_copy_contiguous(&t, NULL, 0), MCF_OK);
    /* size-1 dim with an odd stride is still contiguous */
    t = mk(MCF_F32, 2, one);
    t.strides = st_one;
    t.data = &base[0][0];
    MCF_CHECK(mcf_tensor_is_contiguous(&t));
    /* stride 0 (broadcast) gathers repeated rows */
    t = mk(MCF_F32, 2, bcast);
    t.strides = st_b;
    t.data = &base[4][0];
    MCF_CHECK_RC(mcf_tensor_copy_contiguous(&t, out, sizeof out), MCF_OK);
    MCF_CHECK(out[0] == 40 && out[1] == 41 && out[2] == 40 && out[5] == 41);
    return 0;
}

static int tensor_copy_rejects(void)
{
    unsigned char b[64];
    int64_t shape[1] = {4}, neg_stride[1] = {-1}, two[1] = {2};
    mcf_tensor t = mk(MCF_F4, 1, shape);
    t.strides = two;
    t.data = b;
    MCF_CHECK_RC(mcf_tensor_copy_contiguous(&t, b, sizeof b), MCF_SERIALIZE_UNSUPPORTED);
    MCF_CHECK_ERR("sub-byte");
    t = mk(MCF_F32, 1, shape);
    t.strides = neg_stride;
    t.data = b;
    MCF_CHECK_RC(mcf_tensor_copy_contiguous(&t, b, sizeof b), MCF_INVALID_PARAMS);
    MCF_CHECK_ERR("negative stride");
    t = mk(MCF_F32, 1, shape);
    t.data = NULL;
    MCF_CHECK_RC(mcf_tensor_copy_contiguous(&t, b, sizeof b), MCF_INVALID_PARAMS);
    MCF_CHECK_ERR("NULL data");
    return 0;
}

MCF_TEST_MAIN(MCF_TEST(results_names_and_numbers), MCF_TEST(results_every_mooncake_name),
              MCF_TEST(results_error_is_thread_local_and_set_with_code),
              MCF_TEST(dtypes_table), MCF_TEST(dtypes_aliases_and_errors), MCF_TEST(tensor_nbytes),
              MCF_TEST(tensor_copy_strided_every_size), MCF_TEST(tensor_copy_slices_and_special),
              MCF_TEST(tensor_copy_rejects))
