#define _GNU_SOURCE
#include "cpu_features.h"
#include <sched.h>
#include <unistd.h>

/* Swift cannot run CPUID itself; __builtin_cpu_supports also checks that the OS saves
 * the YMM registers (XGETBV), which a bare CPUID bit does not. */
int swiftadam_internal_cpu_has_avx2(void) {
#if defined(__x86_64__) || defined(__i386__)
    __builtin_cpu_init();
    return __builtin_cpu_supports("avx2");
#else
    return 0;
#endif
}

/* CPUs this process may run on (taskset, cpusets), not the machine's: a container given
 * 2 of 64 cores gets 2 worker threads' worth of work, not 64. */
int swiftadam_internal_cpu_count(void) {
#ifdef __linux__
    cpu_set_t set;
    if (sched_getaffinity(0, sizeof set, &set) == 0) {
        int n = CPU_COUNT(&set);
        if (n > 0) return n;
    }
#endif
    long n = sysconf(_SC_NPROCESSORS_ONLN);
    return n > 0 ? (int)n : 1;
}
