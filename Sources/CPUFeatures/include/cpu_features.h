#ifndef SWIFTADAM_CPU_FEATURES_H
#define SWIFTADAM_CPU_FEATURES_H
/* Internal: CPU feature probes for kernel dispatch. Hidden; not part of the C ABI. */
__attribute__((visibility("hidden"))) int swiftadam_internal_cpu_has_avx2(void);
/* AVX-512 F, CD, BW, DQ and VL (the AVX-512 module's -target-cpu), with ZMM state saved by the OS. */
__attribute__((visibility("hidden"))) int swiftadam_internal_cpu_has_avx512(void);
/* CPUs this process may run on (its affinity mask), at least 1. */
__attribute__((visibility("hidden"))) int swiftadam_internal_cpu_count(void);
/* Software prefetch, which Swift cannot spell (the intrinsic is a macro). */
static inline void swiftadam_internal_prefetch(const void *p) { __builtin_prefetch(p, 1, 3); }
#endif
