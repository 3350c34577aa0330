#ifndef SWIFTADAM_CPU_FEATURES_H
#define SWIFTADAM_CPU_FEATURES_H
/* Internal: CPU feature probes for kernel dispatch. Hidden; not part of the C ABI. */
__attribute__((visibility("hidden"))) int swiftadam_internal_cpu_has_avx2(void);
#endif
