#include "cpu_features.h"

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
