#ifndef PODGAP_CBLAS_SHIM_H
#define PODGAP_CBLAS_SHIM_H
#include <cblas.h>
#endif
