#define _GNU_SOURCE
#include "cpu_features.h"
#include <sched.h>
#include <unistd.h>
#if defined(__x86_64__) || defined(__i386__)
#include <cpuid.h>
#endif

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

/* The AVX-512 module is compiled for skylake-avx512: AVX-512 F, CD, BW, DQ and VL on top
 * of AVX2. CPUID only says the CPU has them; the OS must also save the opmask registers
 * and all 32 ZMM registers on a context switch (XCR0 bits 5-7, with the SSE and AVX bits
 * 1-2), or the first ZMM instruction faults. A kernel, a hypervisor or a valgrind that
 * leaves them out must get AVX2, not SIGILL. */
int swiftadam_internal_cpu_has_avx512(void) {
#if defined(__x86_64__) || defined(__i386__)
    unsigned a, b, c, d;
    if (!swiftadam_internal_cpu_has_avx2()) return 0;
    if (!__get_cpuid(1, &a, &b, &c, &d) || !(c & bit_OSXSAVE)) return 0;
    unsigned xcr0_lo, xcr0_hi;
    __asm__ volatile("xgetbv" : "=a"(xcr0_lo), "=d"(xcr0_hi) : "c"(0));
    if ((xcr0_lo & 0xE6) != 0xE6) return 0;
    if (!__get_cpuid_count(7, 0, &a, &b, &c, &d)) return 0;
    const unsigned need = bit_AVX512F | bit_AVX512CD | bit_AVX512BW | bit_AVX512DQ | bit_AVX512VL;
    return (b & need) == need;
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
