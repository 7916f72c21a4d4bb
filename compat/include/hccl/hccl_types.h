/* SPDX-License-Identifier: Apache-2.0 */
/* qmar compat — HCCL types: HcclResult (CANN's values), HcclComm, HcclRootInfo. */
#ifndef QMAR_COMPAT_HCCL_HCCL_TYPES_H
#define QMAR_COMPAT_HCCL_HCCL_TYPES_H

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef enum {
    HCCL_SUCCESS = 0,              /* success */
    HCCL_E_PARA = 1,               /* a parameter is wrong */
    HCCL_E_PTR = 2,                /* a pointer is NULL */
    HCCL_E_MEMORY = 3,             /* out of memory */
    HCCL_E_INTERNAL = 4,           /* internal error */
    HCCL_E_NOT_SUPPORT = 5,        /* not supported (here: not emulated) */
    HCCL_E_NOT_FOUND = 6,          /* no such resource */
    HCCL_E_UNAVAIL = 7,            /* resource unavailable */
    HCCL_E_SYSCALL = 8,            /* a system call failed */
    HCCL_E_TIMEOUT = 9,            /* timed out */
    HCCL_E_OPEN_FILE_FAILURE = 10, /* a file could not be opened */
    HCCL_E_TCP_CONNECT = 11,       /* TCP connection failed */
    HCCL_E_ROCE_CONNECT = 12,      /* RoCE connection failed */
    HCCL_E_TCP_TRANSFER = 13,      /* TCP transfer failed */
    HCCL_E_ROCE_TRANSFER = 14,     /* RoCE transfer failed */
    HCCL_E_RUNTIME = 15,           /* a runtime call failed */
    HCCL_E_DRV = 16,               /* a driver call failed */
    HCCL_E_PROFILING = 17,         /* a profiling call failed */
    HCCL_E_CCE = 18,               /* a CCE call failed */
    HCCL_E_NETWORK = 19,           /* a network call failed */
    HCCL_E_AGAIN = 20,             /* try again */
    HCCL_E_REMOTE = 21,            /* remote error */
    HCCL_E_SUSPENDING = 22,        /* communicator suspending */
    HCCL_E_OPRETRY_FAIL = 23,      /* operation retry failed */
    HCCL_E_OOM = 24,               /* out of device memory */
    HCCL_E_RESERVED
} HcclResult;

/* One rank's endpoint of a communicator. */
typedef void *HcclComm;

typedef enum {
    HCCL_REDUCE_SUM = 0,
    HCCL_REDUCE_PROD = 1,
    HCCL_REDUCE_MAX = 2,
    HCCL_REDUCE_MIN = 3,
    HCCL_REDUCE_RESERVED
} HcclReduceOp;

typedef enum {
    HCCL_DATA_TYPE_INT8 = 0,
    HCCL_DATA_TYPE_INT16 = 1,
    HCCL_DATA_TYPE_INT32 = 2,
    HCCL_DATA_TYPE_FP16 = 3,
    HCCL_DATA_TYPE_FP32 = 4,
    HCCL_DATA_TYPE_INT64 = 5,
    HCCL_DATA_TYPE_UINT64 = 6,
    HCCL_DATA_TYPE_UINT8 = 7,
    HCCL_DATA_TYPE_UINT16 = 8,
    HCCL_DATA_TYPE_UINT32 = 9,
    HCCL_DATA_TYPE_FP64 = 10,
    HCCL_DATA_TYPE_BFP16 = 11,
    HCCL_DATA_TYPE_RESERVED
} HcclDataType;

#define HCCL_ROOT_INFO_BYTES 4108
#define COMM_NAME_MAX_LENGTH 128

/* Opaque bytes that identify a communicator being created (HcclGetRootInfo). */
typedef struct HcclRootInfoDef {
    char internal[HCCL_ROOT_INFO_BYTES];
} HcclRootInfo;

#ifdef __cplusplus
}
#endif
#endif
