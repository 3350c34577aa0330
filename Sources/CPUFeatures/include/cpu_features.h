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

/* The worker pool's spin-before-park. C11 atomics rather than Swift's Synchronization, whose
 * futex-based primitives ThreadSanitizer cannot see; these it instruments. */
#include <stdint.h>
#include <time.h>
static inline uint64_t swiftadam_internal_atomic_load_u64(const uint64_t *p) {
    return __atomic_load_n(p, __ATOMIC_ACQUIRE);
}
static inline void swiftadam_internal_atomic_store_u64(uint64_t *p, uint64_t v) {
    __atomic_store_n(p, v, __ATOMIC_RELEASE);
}
/* Tells the core it is in a spin loop: the sibling hyperthread gets the pipeline, and the
 * exit from the loop is not penalised as a memory-order mis-speculation. */
static inline void swiftadam_internal_cpu_relax(void) {
#if defined(__x86_64__) || defined(__i386__)
    __builtin_ia32_pause();
#elif defined(__aarch64__)
    __asm__ __volatile__("yield");
#endif
}
static inline uint64_t swiftadam_internal_monotonic_ns(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (uint64_t)t.tv_sec * 1000000000u + (uint64_t)t.tv_nsec;
}
#endif
