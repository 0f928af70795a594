// hwloc's helpers for walking the tree are macros or inline functions over its API; the few that
// Swift needs are re-exported here.
#ifndef PODGAP_CHWLOC_SHIM_H
#define PODGAP_CHWLOC_SHIM_H
#include <hwloc.h>

static inline int chwloc_get_nbobjs_by_type(hwloc_topology_t topology, hwloc_obj_type_t type) {
    return hwloc_get_nbobjs_by_type(topology, type);
}
static inline hwloc_obj_t chwloc_get_obj_by_type(hwloc_topology_t topology, hwloc_obj_type_t type, unsigned idx) {
    return hwloc_get_obj_by_type(topology, type, idx);
}
static inline hwloc_obj_t chwloc_get_next_pcidev(hwloc_topology_t topology, hwloc_obj_t prev) {
    return hwloc_get_next_pcidev(topology, prev);
}
static inline hwloc_obj_t chwloc_get_next_osdev(hwloc_topology_t topology, hwloc_obj_t prev) {
    return hwloc_get_next_osdev(topology, prev);
}
static inline hwloc_obj_t chwloc_get_non_io_ancestor(hwloc_topology_t topology, hwloc_obj_t obj) {
    return hwloc_get_non_io_ancestor_obj(topology, obj);
}
#endif
