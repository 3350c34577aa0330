#ifndef SWIFTADAM_FP_MODE_H
#define SWIFTADAM_FP_MODE_H
/* Internal: the floating-point control register of the calling thread. Every step is
 * computed in the IEEE default mode (round to nearest even, subnormals kept, exceptions
 * masked) whatever the caller set, so that results cannot depend on which thread, with
 * which host-set mode, computed an element. Swift cannot spell these instructions. */
#include <stdint.h>

#if defined(__x86_64__) || defined(__i386__)
/* MXCSR after reset: every exception masked, round to nearest, FTZ and DAZ off. Bits
 * 0-5 are sticky status flags, not mode. */
#define SWIFTADAM_INTERNAL_FP_DEFAULT 0x1F80u
#define SWIFTADAM_INTERNAL_FP_STATUS 0x3Fu
static inline uint64_t swiftadam_internal_fp_get(void) { return __builtin_ia32_stmxcsr(); }
static inline void swiftadam_internal_fp_set(uint64_t v) { __builtin_ia32_ldmxcsr((unsigned)v); }
#elif defined(__aarch64__)
/* FPCR 0: round to nearest, FZ, FZ16, DN and AH off, no trapped exceptions. (The
 * status flags live in FPSR.) */
#define SWIFTADAM_INTERNAL_FP_DEFAULT 0u
#define SWIFTADAM_INTERNAL_FP_STATUS 0u
static inline uint64_t swiftadam_internal_fp_get(void) {
    uint64_t v;
    __asm__ __volatile__("mrs %0, fpcr" : "=r"(v));
    return v;
}
static inline void swiftadam_internal_fp_set(uint64_t v) { __asm__ __volatile__("msr fpcr, %0" : : "r"(v)); }
#else
/* Other CPUs: the mode is left as the caller set it (documented in swiftadam.h). */
#define SWIFTADAM_INTERNAL_FP_DEFAULT 0u
#define SWIFTADAM_INTERNAL_FP_STATUS 0u
static inline uint64_t swiftadam_internal_fp_get(void) { return 0; }
static inline void swiftadam_internal_fp_set(uint64_t v) { (void)v; }
#endif

/* Enter the default mode; returns the caller's register for swiftadam_internal_fp_leave.
 * The register is written only when the mode differs: the usual caller pays one read. */
static inline uint64_t swiftadam_internal_fp_enter_default(void) {
    uint64_t saved = swiftadam_internal_fp_get();
    if ((saved & ~(uint64_t)SWIFTADAM_INTERNAL_FP_STATUS) != SWIFTADAM_INTERNAL_FP_DEFAULT)
        swiftadam_internal_fp_set(SWIFTADAM_INTERNAL_FP_DEFAULT | (saved & SWIFTADAM_INTERNAL_FP_STATUS));
    return saved;
}

/* Back to the caller's mode (and status flags as they were), if enter changed it. */
static inline void swiftadam_internal_fp_leave(uint64_t saved) {
    if ((saved & ~(uint64_t)SWIFTADAM_INTERNAL_FP_STATUS) != SWIFTADAM_INTERNAL_FP_DEFAULT)
        swiftadam_internal_fp_set(saved);
}
#endif
