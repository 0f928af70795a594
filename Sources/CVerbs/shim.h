// rdma-core spells a few verbs as function-like macros (ibv_query_port picks between ABI
// versions of the port attributes, ibv_reg_mr checks its flags at compile time); Swift cannot
// import those, so each is re-exported here as an inline function. Nothing else belongs here.
#ifndef PODGAP_CVERBS_SHIM_H
#define PODGAP_CVERBS_SHIM_H
#include <infiniband/verbs.h>
#include <rdma/rdma_cma.h>

static inline int cverbs_query_port(struct ibv_context *context, uint8_t port, struct ibv_port_attr *attributes) {
    return ibv_query_port(context, port, attributes);
}

static inline struct ibv_mr *cverbs_reg_mr(struct ibv_pd *pd, void *address, size_t length, int access) {
    return ibv_reg_mr(pd, address, length, access);
}
#endif
