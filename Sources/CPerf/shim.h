// perf_event_open has no libc wrapper and syscall(2) is variadic, which Swift cannot call:
// one inline function around it, with the kernel's own struct.
#include <linux/perf_event.h>
#include <sys/syscall.h>
#include <unistd.h>
#include <string.h>

static inline int podgap_perf_event_open(unsigned int type, unsigned long long config) {
    struct perf_event_attr attr;
    memset(&attr, 0, sizeof attr);
    attr.type = type;
    attr.size = sizeof attr;
    attr.config = config;
    // Counted from the moment it opens, this process only, user space only: what paranoid 2 allows.
    attr.exclude_kernel = 1;
    attr.exclude_hv = 1;
    return (int)syscall(__NR_perf_event_open, &attr, 0, -1, -1, PERF_FLAG_FD_CLOEXEC);
}
