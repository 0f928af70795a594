// No CUDA header is needed to build podgap: CUDA, cuBLAS, NVRTC, NCCL and NVML are opened with
// dlopen at run time and their functions typed in Swift. The one exception is a call that passes
// a C struct by value, which Swift's function types cannot spell: NCCL's communicator set-up.
// This header declares that struct and a trampoline that lets the C compiler pass it.
#ifndef PODGAP_CCUDA_SHIM_H
#define PODGAP_CCUDA_SHIM_H

// nccl.h: `#define NCCL_UNIQUE_ID_BYTES 128` and
// `typedef struct { char internal[NCCL_UNIQUE_ID_BYTES]; } ncclUniqueId;` (unchanged since NCCL 2.0).
typedef struct { char internal[128]; } podgap_nccl_unique_id;

// nccl.h: `ncclResult_t ncclCommInitRank(ncclComm_t* comm, int nranks, ncclUniqueId commId, int rank);`
// ncclResult_t is a C enum (int); ncclComm_t is `struct ncclComm*`.
typedef int (*podgap_nccl_comm_init_rank_fn)(void **comm, int nranks, podgap_nccl_unique_id commId, int rank);

static inline int podgap_nccl_comm_init_rank(void *function, void **comm, int nranks,
                                             const podgap_nccl_unique_id *commId, int rank) {
    return ((podgap_nccl_comm_init_rank_fn)function)(comm, nranks, *commId, rank);
}
#endif
